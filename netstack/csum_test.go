package netstack

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// ipCsumBytePairs is the checksum as the RFC 1071 16-bit additions.
func ipCsumBytePairs(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// TestIPCsumWords checks the 32-bit word sum against 16-bit additions,
// odd lengths included.
func TestIPCsumWords(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		b := rapid.SliceOfN(rapid.Byte(), 0, 64).Draw(t, "b")
		require.Equal(t, ipCsumBytePairs(b), ipCsum(b))
	})
}

// TestIPCsumHeader20 checks the unrolled sum of an option-less header
// against 16-bit additions, with the all-zero and all-ones edges.
func TestIPCsumHeader20(t *testing.T) {
	zero, ones := make([]byte, ipHlen), make([]byte, ipHlen)
	for i := range ones {
		ones[i] = 0xff
	}
	require.Equal(t, ipCsumBytePairs(zero), ipCsum(zero))
	require.Equal(t, ipCsumBytePairs(ones), ipCsum(ones))
	rapid.Check(t, func(t *rapid.T) {
		b := rapid.SliceOfN(rapid.Byte(), ipHlen, ipHlen).Draw(t, "b")
		require.Equal(t, ipCsumBytePairs(b), ipCsum(b))
	})
}

// TestIPDecreaseTTL checks the incremental update of ip_decrease_ttl
// against a full ip_send_check of a header with a valid checksum,
// including the 0x0000/0xffff edge.
func TestIPDecreaseTTL(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ihl := 4 * rapid.IntRange(5, 15).Draw(t, "words")
		b := rapid.SliceOfN(rapid.Byte(), ihl, ihl).Draw(t, "hdr")
		b[0] = 0x40 | byte(ihl/4)
		b[8] = rapid.Uint8Range(2, 255).Draw(t, "ttl")
		setIPCsum(b, ihl)
		switch rapid.IntRange(0, 2).Draw(t, "zero") {
		case 1, 2:
			// Fold the checksum into the id so the sum of the other words
			// is 0xffff and the checksum 0; case 2 then writes 0xffff, the
			// other form of a zero checksum.
			id := uint32(binary.BigEndian.Uint16(b[4:6])) + uint32(binary.BigEndian.Uint16(b[10:12]))
			binary.BigEndian.PutUint16(b[4:6], uint16(id+id>>16))
			setIPCsum(b, ihl)
			require.Zero(t, binary.BigEndian.Uint16(b[10:12]))
			if rapid.Bool().Draw(t, "ffff") {
				b[10], b[11] = 0xff, 0xff
			}
		}
		require.Zero(t, ipCsum(b))
		want := append([]byte(nil), b...)
		want[8]--
		setIPCsum(want, ihl)
		ttl := ipDecreaseTTL(b)
		require.Equal(t, want[8], ttl)
		require.Equal(t, want, b)
	})
}
