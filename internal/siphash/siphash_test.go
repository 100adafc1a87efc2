package siphash

import (
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestVectors: the reference implementation's vectors (key 00..0f,
// message 00..n-1, output as little-endian bytes), of which n = 15 is the
// paper's worked example, a129ca6149be45e5.
func TestVectors(t *testing.T) {
	var kb [16]byte
	for i := range kb {
		kb[i] = byte(i)
	}
	k := Key{binary.LittleEndian.Uint64(kb[:8]), binary.LittleEndian.Uint64(kb[8:])}
	msg := make([]byte, 64)
	for i := range msg {
		msg[i] = byte(i)
	}
	for _, tc := range []struct {
		n    int
		want uint64
	}{
		{0, 0x726fdb47dd0e0e31},
		{1, 0x74f839c593dc67fd},
		{7, 0xab0200f58b01d137},
		{8, 0x93f5f5799a932462},
		{15, 0xa129ca6149be45e5},
		{63, 0x958a324ceb064572},
	} {
		assert.Equal(t, tc.want, Sum64(msg[:tc.n], k), "n=%d", tc.n)
	}
}

func ExampleSum64() {
	// The paper's example: key 00..0f, message 00..0e.
	key := Key{0x0706050403020100, 0x0f0e0d0c0b0a0908}
	msg := []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14}
	fmt.Printf("%016x\n", Sum64(msg, key))
	// Output: a129ca6149be45e5
}
