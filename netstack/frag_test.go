package netstack

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
)

// TestIPDefragTstamp: the reassembled IPv4 datagram carries the offset-0
// fragment's header state (skb_morph in inet_frag_reasm_prepare: its mark)
// but the timestamp of the fragment that completed the queue
// (inet_frag_reasm_finish: head->tstamp = q->stamp, which ip_frag_queue
// sets from every fragment it queues), whichever order they arrive in.
func TestIPDefragTstamp(t *testing.T) {
	first := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "192.0.2.1", sport: 1, dport: 9999, payload: 32, id: 7, fragOff: ipMF})
	second := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "192.0.2.1", payload: 32, id: 7, fragOff: 5})
	second = append(second[:ethHlen+ipHlen], make([]byte, 40)...)
	binary.BigEndian.PutUint16(second[ethHlen+2:], uint16(ipHlen+40))
	setIPCsum(second[ethHlen:], ipHlen)
	for _, tc := range []struct {
		name         string
		frames       [][]byte
		mark, tstamp uint64
	}{
		{"first fragment first", [][]byte{first, second}, 1, 2},
		{"first fragment last", [][]byte{second, first}, 2, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			type seen struct {
				mark   uint32
				tstamp int64
			}
			var got []seen
			cfg := rxToSocketConfig()
			cfg.Options.RxTimestamps = true
			cfg.Programs = []ProgramConfig{
				{Name: "mark", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
					c.Skb.H().Mark = uint32(c.PacketID)
					return TCXNext
				})},
				{Name: "tp", Hook: carrier.HookTracepoint, Event: EventConsumeSkb, Prog: ProgramFunc(func(c *Ctx) int {
					got = append(got, seen{c.Skb.H().Mark, c.Skb.H().Tstamp})
					return 0
				})},
			}
			s, te := newStack(t, cfg, "", nil, nil)
			for i, f := range tc.frames {
				require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: f}))
			}
			require.Empty(t, te.obs.drops)
			require.Len(t, te.obs.delivs, 1)
			require.Equal(t, seen{uint32(tc.mark), int64(tc.tstamp)}, got[len(got)-1])
		})
	}
}
