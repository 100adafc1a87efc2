package proptest

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/netstack"
	"github.com/skbsim/skbsim/skb"
)

// ipv4TCP returns a bare IPv4 + TCP (ACK) segment.
func ipv4TCP(src, dst netip.Addr, sport, dport uint16, seq uint32, payload int) []byte {
	p := ipv4UDP(src, dst, sport, dport, payload+12) // 20 + 8 + 12 = a 20-byte TCP header
	p[9] = 6
	setIPv4Checksum(p)
	th := p[20:]
	binary.BigEndian.PutUint32(th[4:], seq)
	binary.BigEndian.PutUint32(th[8:], 1)
	th[12] = 5 << 4
	th[13] = 0x10 // ACK
	binary.BigEndian.PutUint16(th[14:], 65535)
	return p
}

// setIPv4Checksum sets the header checksum of the 20-byte IPv4 header at p.
func setIPv4Checksum(p []byte) {
	p[10], p[11] = 0, 0
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(p[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(p[10:], ^uint16(sum))
}

// TestGROKeepsHeldHeader: GRO merges segments of one flow whatever their
// skb->mark (gro_list_prepare() does not compare it), and the aggregate
// that continues up the stack is the held skb with its own header:
// skb_gro_receive() only steals the later segment's payload and
// napi_skb_free_stolen_head() frees it. Two TCP segments leave a socket
// through veth0, a tc egress program marks each with its packet id, the
// peer veth1 (same namespace, so the mark survives __dev_forward_skb)
// receives them through NAPI GRO (veth0 without TSO, so
// veth_skb_is_eligible_for_gro lets TCP through); tc ingress on veth1 sees
// one skb of two segments carrying the first segment's mark.
func TestGROKeepsHeldHeader(t *testing.T) {
	acct := kmem.New()
	a := skb.NewAllocator(acct, skb.DefaultProfile())
	type seen struct {
		mark uint32
		segs uint16
	}
	var got []seen
	src, dst := netip.MustParseAddr("10.1.0.1"), netip.MustParseAddr("10.1.0.9")
	peerMAC := [6]byte{0x02, 0, 0, 0, 0, 0x12}
	cfg := &netstack.Config{
		Devices: []netstack.DeviceConfig{{Name: "veth0", Kind: netstack.KindVeth, Addrs: []netip.Prefix{netip.MustParsePrefix("10.1.0.1/24")},
			Peer: "veth1", PeerMAC: peerMAC, PeerAddrs: []netip.Prefix{netip.MustParsePrefix("10.2.0.1/24")}, PeerGRO: "on",
			SoftwareGSO: true}},
		Neighbours: []netstack.NeighConfig{{Dev: "veth0", Addr: dst, MAC: peerMAC}},
		Sockets:    []netstack.SocketConfig{{Name: "cli", Proto: netstack.ProtoTCP, Addr: src, Port: 5000}},
		Entries:    []netstack.EntryConfig{{Kind: netstack.EntryTX, Socket: "cli"}},
		Programs: []netstack.ProgramConfig{
			{Name: "mark", Hook: carrier.HookTCEgress, Dev: "veth0", Prog: netstack.ProgramFunc(func(c *netstack.Ctx) int {
				c.SetMark(uint32(100 + c.PacketID))
				return netstack.TCXNext
			})},
			{Name: "read", Hook: carrier.HookTCIngress, Dev: "veth1", Prog: netstack.ProgramFunc(func(c *netstack.Ctx) int {
				got = append(got, seen{c.Skb.H().Mark, c.Skb.Shinfo().GSOSegs})
				return netstack.TCXNext
			})},
		},
	}
	s, err := netstack.New(cfg, netstack.Env{Alloc: a})
	require.NoError(t, err)
	for i := range 2 {
		f := ipv4TCP(src, dst, 5000, 80, uint32(1000+100*i), 100)
		// A connected socket's identifications increment (ip_select_ident_segs),
		// which inet_gro_flush requires of segments to merge.
		binary.BigEndian.PutUint16(f[4:6], uint16(i))
		setIPv4Checksum(f)
		require.NoError(t, s.Inject(&netstack.Packet{ID: uint64(i + 1), Frame: f}))
	}
	s.Flush()
	st := s.Stats()
	require.NoError(t, s.Close())
	require.NoError(t, a.CheckLeaks())
	require.Equal(t, uint64(1), st.GROMerged, "segments merged (stats %+v)", st)
	require.Equal(t, []seen{{mark: 101, segs: 2}}, got, "tc ingress on veth1")
}
