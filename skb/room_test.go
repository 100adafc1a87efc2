package skb

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNetHdrPushPop: bpf_skb_net_hdr_push opens zeroed room off bytes in
// (the headers before it moving down with the mac and network headers,
// and a transport header equal to the network header with them);
// bpf_skb_net_hdr_pop closes it again. The XDP metadata follows only with
// the v6.19 data-move helpers. Popping beyond the packet is ENOMEM.
func TestNetHdrPushPop(t *testing.T) {
	frame := []byte{1, 2, 3, 4, 5, 6, 11, 12, 13, 14, 15, 16, 0x08, 0x00, 0x45, 0, 0, 20, 7, 7, 7, 7}
	for _, helpers := range []bool{false, true} {
		t.Run(fmt.Sprintf("DataMoveHelpers %v", helpers), func(t *testing.T) {
			a := newAlloc(t, func(p *Profile) { p.DataMoveHelpers = helpers })
			b := atMac(t, a, frame)
			defer b.ConsumeSkb()
			b.SetTransportHeader(EthHlen)
			nh := b.NetworkHeader()
			b.NetHdrPush(EthHlen, 6)
			want := append(append(append([]byte(nil), frame[:14]...), make([]byte, 6)...), frame[14:]...)
			assert.Equal(t, want, b.Data())
			assert.Equal(t, b.Headroom(), b.MacHeader())
			assert.Equal(t, nh-6, b.NetworkHeader(), "the network header moved with the headers before the room")
			assert.Equal(t, b.NetworkHeader(), b.TransportHeader())
			v, ok := b.Metadata()
			assert.Equal(t, helpers, ok && string(v) == "metadata")
			require.NoError(t, b.NetHdrPop(EthHlen, 6))
			assert.Equal(t, frame, b.Data())
			assert.Equal(t, nh, b.NetworkHeader())
			if helpers {
				v, ok = b.Metadata()
				assert.True(t, ok && string(v) == "metadata")
			}
			assert.ErrorIs(t, b.NetHdrPop(EthHlen, len(frame)), ErrRoomPull)
		})
	}
}
