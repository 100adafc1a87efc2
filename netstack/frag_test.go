package netstack

import (
	"encoding/binary"
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/cost"
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

// TestTrustReassembledCsum: a datagram reassembled from fragments whose
// payload no longer matches its UDP checksum (as when a snaplen cut them
// and the replay padded them with zeros) is dropped as UDP_CSUM, IPv4 and
// IPv6 alike, unless Options.TrustReassembledCsum takes the checksum as
// its sender's; the software check's bytes are charged either way.
func TestTrustReassembledCsum(t *testing.T) {
	whole := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "192.0.2.1", sport: 1, dport: 9999, payload: 64, id: 7})
	setUDP4Csum(whole[ethHlen:])
	// Fragments: the UDP header and 32 payload bytes, then the other 32,
	// zeroed.
	first := slices.Clone(whole[:ethHlen+ipHlen+udpHlen+32])
	binary.BigEndian.PutUint16(first[ethHlen+2:], ipHlen+udpHlen+32)
	binary.BigEndian.PutUint16(first[ethHlen+6:], ipMF)
	setIPCsum(first[ethHlen:], ipHlen)
	second := append(slices.Clone(whole[:ethHlen+ipHlen]), make([]byte, 32)...)
	binary.BigEndian.PutUint16(second[ethHlen+2:], ipHlen+32)
	binary.BigEndian.PutUint16(second[ethHlen+6:], 5)
	setIPCsum(second[ethHlen:], ipHlen)
	v6 := frag6Frames("2001:db8::9", "2001:db8::1", 0x1234, 192, cuts3)
	clear(v6[2][ethHlen+ip6Hlen+fragHdrLen:])
	for _, tc := range []struct {
		name   string
		cfg    func() *Config
		frames [][]byte
		drop   string
	}{
		{"IPv4", rxToSocketConfig, [][]byte{first, second}, "SKB_DROP_REASON_UDP_CSUM@__udp4_lib_rcv"},
		{"IPv6", frag6Host, v6, "SKB_DROP_REASON_UDP_CSUM@skb_consume_udp"}, // a longer datagram: checked when read
	} {
		for _, trust := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/trust=%v", tc.name, trust), func(t *testing.T) {
				cfg := tc.cfg()
				cfg.Options.TrustReassembledCsum = trust
				s, te := newStack(t, cfg, "", nil, nil)
				for i, f := range tc.frames {
					require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: f}))
				}
				if trust {
					require.Empty(t, te.obs.dropReasons())
					require.Equal(t, uint64(1), te.obs.delivered(DeliverSocket))
				} else {
					require.Equal(t, []string{tc.drop}, te.obs.dropReasons())
				}
				require.Positive(t, s.acct.Ops()[cost.OpCsumByte], "the software check is charged")
			})
		}
	}
}
