package netstack

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
)

// TestNeighStates: a neighbour entry's NUD state. bpf_fib_lookup answers
// from a NUD_VALID entry (a stale one too, with its address) and NO_NEIGH
// for a failed or incomplete one, though the address is vB's; forwarding
// uses a valid entry's address as it is (a stale wrong one reaches vB as
// another host's frame), and resolves a failed or incomplete one anew (vB
// answers; the gateway 10.1.0.254 does not: NEIGH_FAILED).
func TestNeighStates(t *testing.T) {
	wrong := [6]byte{2, 0, 0, 0, 0, 0x99}
	for _, tc := range []struct {
		state string
		addr  string // the entry's address on veth0
		mac   [6]byte
		dst   string // the forwarded datagram's destination
		fib   string // bpf_fib_lookup of dst from eth0
		fwd   string // where the datagram ended: a socket, a drop reason
	}{
		{NeighStale, "10.1.0.2", macB, "10.1.0.2", "SUCCESS", "b"},
		{NeighReachable, "10.1.0.2", macB, "10.1.0.2", "SUCCESS", "b"},
		{NeighStale, "10.1.0.2", wrong, "10.1.0.2", "SUCCESS", "OTHERHOST"},
		{NeighFailed, "10.1.0.2", [6]byte{}, "10.1.0.2", "NO_NEIGH", "b"},
		{NeighIncomplete, "10.1.0.2", [6]byte{}, "10.1.0.2", "NO_NEIGH", "b"},
		{NeighFailed, "10.1.0.254", [6]byte{}, "10.9.0.7", "NO_NEIGH", "NEIGH_FAILED"},
		{NeighPermanent, "10.1.0.254", gwMAC, "10.9.0.7", "SUCCESS", "OTHERHOST"}, // vB is not the gateway
	} {
		t.Run(tc.state+" "+tc.addr+" "+tc.fwd, func(t *testing.T) {
			rc := -1
			cfg := fibTopology(true, ProgramConfig{Name: "fib", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
				p := FibParams{Family: AFInet, Ifindex: c.Ifindex("eth0"), Src: addr("192.0.2.9"), Dst: addr(tc.dst)}
				rc = c.FibLookup(&p, 0)
				return TCXNext
			})})
			cfg.Neighbours = []NeighConfig{{Dev: "veth0", Addr: addr(tc.addr), MAC: tc.mac, State: tc.state}}
			s, te := newStack(t, cfg, "", nil, nil)
			f := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: tc.dst, sport: 1000, dport: 2000, payload: 10})
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
			s.Flush()
			assert.Equal(t, tc.fib, FibRetName(rc))
			assert.Equal(t, tc.fwd, endOf(te, cfg))
		})
	}
	cfg := fibTopology(true)
	cfg.Neighbours = []NeighConfig{{Dev: "veth0", Addr: addr("10.1.0.2"), State: "none"}}
	assert.ErrorIs(t, newStackErr(t, cfg, ""), ErrConfig, "an unknown state")
}

// TestNeighMulticast6: a host's IPv6 datagram to a multicast group out of
// a device takes the group's Ethernet address (ndisc_constructor's
// NUD_NOARP entry, ndisc_mc_map: 33:33 and the group's last 32 bits)
// without any neighbour resolution.
func TestNeighMulticast6(t *testing.T) {
	var dst [][]byte
	cfg := &Config{
		Namespaces: []NamespaceConfig{{Name: "A"}, {Name: "B"}},
		Devices: []DeviceConfig{{Name: "vA", Kind: KindVeth, Netns: "A", Addrs: []netip.Prefix{pfx("2001:db8::1/64")},
			Peer: "vB", PeerNetns: "B", PeerAddrs: []netip.Prefix{pfx("2001:db8::2/64")}}},
		Routes:  []RouteConfig{{Netns: "A", Dst: pfx("ff00::/8"), Dev: "vA"}},
		Sockets: []SocketConfig{{Name: "tx", Netns: "A", Proto: ProtoUDP, Port: 1000, Addr: netip.IPv6Unspecified()}},
		Programs: []ProgramConfig{{Name: "in", Hook: carrier.HookTCIngress, Netns: "B", Dev: "vB", Prog: ProgramFunc(func(c *Ctx) int {
			dst = append(dst, append([]byte(nil), c.Skb.Data()[0:6]...))
			return TCXNext
		})}},
		Entries: []EntryConfig{{Kind: EntryTX, Netns: "A", Socket: "tx"}},
	}
	s, te := newStack(t, cfg, "", nil, nil)
	require.NoError(t, s.Inject(&Packet{ID: 1, Frame: buildFrame6(frame6{src: "2001:db8::1", dst: "ff0e::1:2:5", dport: 9999, payload: 10})[ethHlen:]}))
	s.Flush()
	require.Equal(t, [][]byte{{0x33, 0x33, 0, 2, 0, 5}}, dst)
	require.NotContains(t, te.obs.dropReasons(), "SKB_DROP_REASON_NEIGH_FAILED@neigh_output")
}
