package netstack

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
)

// arpFrame is an ARP frame from macB (192.0.2.9 unless sip) to dst.
func arpFrame(dst [6]byte, hrd uint16, hln uint8, op uint16, sip, tip string) []byte {
	f := make([]byte, ethHlen+arpHlen)
	writeEth(f, dst, macB, ethPARP)
	a := f[ethHlen:]
	binary.BigEndian.PutUint16(a[0:], hrd)
	binary.BigEndian.PutUint16(a[2:], ethPIP)
	a[4], a[5] = hln, 4
	binary.BigEndian.PutUint16(a[6:], op)
	copy(a[8:14], macB[:])
	s4, t4 := addr(sip).As4(), addr(tip).As4()
	copy(a[14:18], s4[:])
	copy(a[24:28], t4[:])
	return f
}

// TestARP: arp_rcv's fate for ARP frames and the replies the host sends
// with Options.Replies (TestKernelARP measures these and more on 6.18).
func TestARP(t *testing.T) {
	for _, tc := range []struct {
		name    string
		frame   []byte
		drop    string
		replies int
	}{
		{"request for the host", arpFrame(broadcastMAC, 1, 6, 1, "192.0.2.9", "192.0.2.1"), "", 1},
		{"request for another address", arpFrame(broadcastMAC, 1, 6, 1, "192.0.2.9", "192.0.2.77"), "", 0},
		{"duplicate address probe", arpFrame(broadcastMAC, 1, 6, 1, "0.0.0.0", "192.0.2.1"), "", 1},
		{"request from the host's address", arpFrame(broadcastMAC, 1, 6, 1, "192.0.2.1", "192.0.2.1"), "", 0},
		{"request for a multicast address", arpFrame(broadcastMAC, 1, 6, 1, "192.0.2.9", "224.0.0.1"), "SKB_DROP_REASON_NOT_SPECIFIED@arp_rcv", 0},
		{"operation 3", arpFrame(broadcastMAC, 1, 6, 3, "192.0.2.9", "192.0.2.1"), "SKB_DROP_REASON_NOT_SPECIFIED@arp_rcv", 0},
		{"hardware address length 8", arpFrame(broadcastMAC, 1, 8, 1, "192.0.2.9", "192.0.2.1"), "SKB_DROP_REASON_NOT_SPECIFIED@arp_rcv", 0},
		{"20 bytes", arpFrame(broadcastMAC, 1, 6, 1, "192.0.2.9", "192.0.2.1")[:ethHlen+20], "SKB_DROP_REASON_PKT_TOO_SMALL@arp_rcv", 0},
		{"to another MAC", arpFrame(macA, 1, 6, 1, "192.0.2.9", "192.0.2.1"), "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, replies := range []bool{false, true} {
				var sent [][]byte
				cfg := fibTopology(true, ProgramConfig{Name: "eg", Hook: carrier.HookTCEgress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
					sent = append(sent, append([]byte(nil), c.Skb.Data()...))
					return TCXNext
				})})
				cfg.Options.Replies = replies
				s, te := newStack(t, cfg, "", nil, nil)
				require.NoError(t, s.Inject(&Packet{ID: 1, Frame: tc.frame}))
				var got string
				if r := te.obs.dropReasons(); len(r) != 0 {
					got = r[0]
				}
				assert.Equal(t, tc.drop, got)
				if !replies {
					assert.Empty(t, sent)
					continue
				}
				require.Len(t, sent, tc.replies)
				for _, r := range sent {
					want := arpFrame(macB, 1, 6, arpopReply, "192.0.2.1", "192.0.2.9")
					copy(want[6:12], macNIC[:])
					a := want[ethHlen:]
					copy(a[8:14], macNIC[:])
					copy(a[18:24], macB[:])
					if tc.name == "duplicate address probe" {
						copy(a[24:28], []byte{0, 0, 0, 0})
					}
					assert.Equal(t, want, r)
				}
			}
		})
	}
}
