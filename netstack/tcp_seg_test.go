package netstack

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestParseTCPSeg: the segment parsing tcpSend and tcpSend6 share
// (tcp_sendmsg's sequence space: SYN and FIN count one byte).
func TestParseTCPSeg(t *testing.T) {
	hdr := func(doff int, flags uint8, payload int) []byte {
		th := make([]byte, max(doff, 20)+payload)
		binary.BigEndian.PutUint32(th[4:8], 1000)
		th[12] = byte(doff/4) << 4
		th[13] = flags
		return th
	}
	s := &Stack{cur: 3}
	for _, tc := range []struct {
		name          string
		th            []byte
		doff, payload int
		end           uint32
		err           string
	}{
		{"pure ACK", hdr(20, tcpACK, 0), 20, 0, 1000, ""},
		{"data", hdr(20, tcpACK|tcpPSH, 100), 20, 100, 1100, ""},
		{"SYN", hdr(24, tcpSYN, 0), 24, 0, 1001, ""},
		{"FIN with data", hdr(20, tcpFIN|tcpACK, 10), 20, 10, 1011, ""},
		{"short header", hdr(20, tcpACK, 0)[:19], 0, 0, 0, "short TCP header"},
		{"data offset below 20", hdr(16, tcpACK, 0), 0, 0, 0, "bad TCP data offset"},
		{"data offset beyond the segment", hdr(20, tcpACK, 0)[:20:20], 0, 0, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "data offset beyond the segment" {
				tc.th[12] = 6 << 4 // 24 bytes in a 20-byte segment
				tc.err = "bad TCP data offset"
			}
			g, err := s.parseTCPSeg(tc.th)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.doff, g.doff)
			require.Equal(t, tc.payload, g.payload)
			require.Equal(t, uint32(1000), g.seq)
			require.Equal(t, tc.end, g.end)
		})
	}
}
