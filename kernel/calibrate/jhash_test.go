package calibrate

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
)

// lookup3.c's self-test values for hashlittle(), which the kernel's jhash()
// is.
func TestJhashLookup3Vectors(t *testing.T) {
	assert.Equal(t, uint32(0xdeadbeef), jhash(nil, 0))
	assert.Equal(t, uint32(0xbd5b7dde), jhash(nil, 0xdeadbeef))
	s := []byte("Four score and seven years ago")
	assert.Equal(t, uint32(0x17770551), jhash(s, 0))
	assert.Equal(t, uint32(0xcd628161), jhash(s, 1))
}

func TestJhash2MatchesJhashOnWords(t *testing.T) {
	for _, k := range []uint64{0, 1, 0xdeadbeefcafe, 1 << 63, 12345678901234} {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], k)
		assert.Equal(t, jhash(b[:], 7), jhash2([]uint32{uint32(k), uint32(k >> 32)}, 7), "key %#x", k)
	}
	w := []uint32{1, 2, 3, 4, 5}
	var b [20]byte
	for i, v := range w {
		binary.LittleEndian.PutUint32(b[4*i:], v)
	}
	assert.Equal(t, jhash(b[:], 3), jhash2(w, 3))
}

func TestCollidingKeys(t *testing.T) {
	keys := collidingKeys(8, 64, 1000)
	assert.Len(t, keys, 8)
	for i, k := range keys {
		assert.Zero(t, htabHash64(k)&63)
		if i > 0 {
			assert.Greater(t, k, keys[i-1])
		}
	}
}
