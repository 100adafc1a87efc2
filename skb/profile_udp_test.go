package skb

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestProfileUDPGSOOptions: UDP_MAX_SEGMENTS is 128 from v6.9 on, the
// MTU check of a UDP_SEGMENT send looks at the datagram's own size from
// v6.14 on, TCP sends put no payload in the linear part from v5.1 on, and
// a one-segment datagram is no GSO skb from v5.4 on; a receiver cuts an
// unexpected UDP GSO skb into segments from v5.0 on.
func TestProfileUDPGSOOptions(t *testing.T) {
	for _, tc := range []struct {
		name    string
		maxSegs int
		small   bool
		linear  bool
		multi   bool
		rcvSeg  bool
	}{
		{"v4.19", 64, false, true, false, false},
		{"v5.4", 64, false, false, true, true},
		{"v6.6", 64, false, false, true, true},
		{"v6.12", 128, false, false, true, true},
		{"v6.18", 128, true, false, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ProfileByName(tc.name)
			require.NoError(t, err)
			require.Equal(t, tc.maxSegs, p.UDPMaxSegments)
			require.Equal(t, tc.small, p.UDPGSOSmallPackets)
			require.Equal(t, tc.linear, p.TCPSendLinearFirst)
			require.Equal(t, tc.multi, p.UDPGSOMultiSegmentOnly)
			require.Equal(t, tc.rcvSeg, p.UDPRcvSegment)
		})
	}
}
