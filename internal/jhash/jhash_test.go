package jhash

import (
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

// lookup3.c's self-test values for hashlittle(), which the kernel's jhash()
// is.
func TestLookup3Vectors(t *testing.T) {
	assert.Equal(t, uint32(0xdeadbeef), Bytes(nil, 0))
	assert.Equal(t, uint32(0xbd5b7dde), Bytes(nil, 0xdeadbeef))
	s := []byte("Four score and seven years ago")
	assert.Equal(t, uint32(0x17770551), Bytes(s, 0))
	assert.Equal(t, uint32(0xcd628161), Bytes(s, 1))
}

// TestWordsMatchBytes: jhash2 over words is jhash over their
// little-endian bytes, and jhash_2words is jhash2 of the two words (the
// third, zero, word adds nothing once the length is counted as 2).
func TestWordsMatchBytes(t *testing.T) {
	for _, k := range []uint64{0, 1, 0xdeadbeefcafe, 1 << 63, 12345678901234} {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], k)
		assert.Equal(t, Bytes(b[:], 7), Words([]uint32{uint32(k), uint32(k >> 32)}, 7), "key %#x", k)
		assert.Equal(t, Words([]uint32{uint32(k), uint32(k >> 32)}, 7), TwoWords(uint32(k), uint32(k>>32), 7), "key %#x", k)
	}
	w := []uint32{1, 2, 3, 4, 5}
	var b [20]byte
	for i, v := range w {
		binary.LittleEndian.PutUint32(b[4*i:], v)
	}
	assert.Equal(t, Bytes(b[:], 3), Words(w, 3))
}

func ExampleTwoWords() {
	// fib_multipath_custom_hash_skb's mix of an outer hash and no inner
	// one.
	fmt.Printf("%#x\n", TwoWords(0x11223344, 0, 0))
	// Output: 0x3386b28c
}
