package kernel

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/internal/testutil"
	"github.com/skbsim/skbsim/netstack"
)

// udp6Packet is an IPv6 UDP datagram from src:sport to dst:dport with
// payload zero bytes and a valid checksum.
func udp6Packet(src, dst [16]byte, sport, dport uint16, payload int) []byte {
	p := make([]byte, 40+8+payload)
	p[0], p[6], p[7] = 0x60, unix.IPPROTO_UDP, 64
	binary.BigEndian.PutUint16(p[4:], uint16(8+payload))
	copy(p[8:24], src[:])
	copy(p[24:40], dst[:])
	u := p[40:]
	binary.BigEndian.PutUint16(u[0:], sport)
	binary.BigEndian.PutUint16(u[2:], dport)
	binary.BigEndian.PutUint16(u[4:], uint16(8+payload))
	var ph [40]byte
	copy(ph[0:16], src[:])
	copy(ph[16:32], dst[:])
	binary.BigEndian.PutUint32(ph[32:], uint32(8+payload))
	ph[39] = unix.IPPROTO_UDP
	c := ^csumFold(csumAdd(csumAdd(0, ph[:]), u))
	if c == 0 {
		c = 0xffff
	}
	binary.BigEndian.PutUint16(u[6:], c)
	return p
}

// TestKernelRedirectNeighRoutes: a tc ingress program on hA (H) calls
// bpf_redirect_neigh(hB, NULL, 0, 0) for a datagram from A to B. The route
// lookup with hB as the output device decides: IPv4 sends on link when no
// route goes through hB, even past a blackhole route
// (ip_route_output_key_hash_rcu's "routing tables are wrong" case); IPv6
// frees the skb without a route through hB or past a blackhole route
// (ip6_route_output_flow's error dst), and sends with one. 6.18 and the
// model deliver the same datagrams.
func TestKernelRedirectNeighRoutes(t *testing.T) {
	testutil.KernelTests(t)
	for _, tc := range []struct {
		name   string
		v6     bool
		routes [][]string // in H
	}{
		{"IPv4, no route", false, nil},
		{"IPv4, blackhole", false, [][]string{{"route", "add", "blackhole", "192.0.2.2/32"}}},
		{"IPv6, no route", true, nil},
		{"IPv6, a route through hB", true, [][]string{{"-6", "route", "add", "2001:db8::/64", "dev", "hB"}}},
		{"IPv6, a blackhole past the route", true, [][]string{{"-6", "route", "add", "2001:db8::/64", "dev", "hB"},
			{"-6", "route", "add", "blackhole", "2001:db8::2/128"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, h, b := newNetns(t, "rnA"), newNetns(t, "rnH"), newNetns(t, "rnB")
			require.NoError(t, a.IP("link", "add", "vA", "type", "veth", "peer", "name", "hA", "netns", h.Name))
			require.NoError(t, h.IP("link", "add", "hB", "type", "veth", "peer", "name", "vB", "netns", b.Name))
			devs := []struct {
				n *Netns
				d string
			}{{a, "vA"}, {h, "hA"}, {h, "hB"}, {b, "vB"}}
			for _, x := range devs {
				require.NoError(t, x.n.Do(func() error { return writeSysctl("net/ipv6/conf/"+x.d+"/disable_ipv6", "0") }))
				require.NoError(t, x.n.IP("link", "set", x.d, "up"))
			}
			require.NoError(t, a.IP("addr", "add", "192.0.2.1/24", "dev", "vA"))
			require.NoError(t, b.IP("addr", "add", "192.0.2.2/24", "dev", "vB"))
			require.NoError(t, a.IP("addr", "add", "2001:db8::1/64", "dev", "vA", "nodad"))
			require.NoError(t, b.IP("addr", "add", "2001:db8::2/64", "dev", "vB", "nodad"))
			macB, err := b.HardwareAddr("vB")
			require.NoError(t, err)
			for _, n := range [][]string{
				{"neigh", "add", "192.0.2.2", "lladdr", macB.String(), "dev", "vA", "nud", "permanent"},
				{"-6", "neigh", "add", "2001:db8::2", "lladdr", macB.String(), "dev", "vA", "nud", "permanent"},
			} {
				require.NoError(t, a.IP(n...))
			}
			require.NoError(t, h.IP("neigh", "add", "192.0.2.2", "lladdr", macB.String(), "dev", "hB", "nud", "permanent"))
			require.NoError(t, h.IP("-6", "neigh", "add", "2001:db8::2", "lladdr", macB.String(), "dev", "hB", "nud", "permanent"))
			for _, r := range tc.routes {
				require.NoError(t, h.IP(r...))
			}
			ifB, err := h.Ifindex("hB")
			require.NoError(t, err)
			prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.SchedCLS, License: "GPL", Instructions: asm.Instructions{
				asm.Mov.Imm(asm.R1, int32(ifB)), asm.Mov.Imm(asm.R2, 0), asm.Mov.Imm(asm.R3, 0), asm.Mov.Imm(asm.R4, 0),
				asm.FnRedirectNeigh.Call(), asm.Return()}})
			require.NoError(t, err)
			t.Cleanup(func() { prog.Close() })
			require.NoError(t, attach(t, h, "hA", prog, false))
			domain, sa := unix.AF_INET, unix.Sockaddr(&unix.SockaddrInet4{Port: 9999, Addr: [4]byte{192, 0, 2, 2}})
			bind := unix.Sockaddr(&unix.SockaddrInet4{Port: 9999})
			if tc.v6 {
				domain = unix.AF_INET6
				sa = &unix.SockaddrInet6{Port: 9999, Addr: netip.MustParseAddr("2001:db8::2").As16()}
				bind = &unix.SockaddrInet6{Port: 9999}
			}
			rcv := newSocket(t, b, domain, unix.SOCK_DGRAM, 0)
			require.NoError(t, unix.Bind(rcv, bind))
			require.NoError(t, unix.SetsockoptTimeval(rcv, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Usec: 300_000}))
			snd := newSocket(t, a, domain, unix.SOCK_DGRAM, 0)
			require.NoError(t, unix.Sendto(snd, make([]byte, 8), 0, sa))
			kern := drainUDP(rcv)
			t.Logf("kernel: %d delivered", kern)
			require.Equal(t, kern, modelRedirectNeighRoutes(t, tc.v6, tc.routes, [6]byte(macB)), "model")
		})
	}
}

// modelRedirectNeighRoutes is TestKernelRedirectNeighRoutes' case on the
// model: the datagrams delivered in B.
func modelRedirectNeighRoutes(t *testing.T, v6 bool, routes [][]string, macB [6]byte) int {
	t.Helper()
	pfx := netip.MustParsePrefix
	cfg := &netstack.Config{
		Namespaces: []netstack.NamespaceConfig{{Name: "A"}, {Name: "H"}, {Name: "B"}},
		Devices: []netstack.DeviceConfig{
			{Name: "vA", Kind: netstack.KindVeth, Netns: "A", MAC: [6]byte{2, 0, 0, 0, 0x7a, 1},
				Addrs: []netip.Prefix{pfx("192.0.2.1/24"), pfx("2001:db8::1/64")}, Peer: "hA", PeerNetns: "H"},
			{Name: "hB", Kind: netstack.KindVeth, Netns: "H", Peer: "vB", PeerNetns: "B", PeerMAC: macB,
				PeerAddrs: []netip.Prefix{pfx("192.0.2.2/24"), pfx("2001:db8::2/64")}},
		},
		Neighbours: []netstack.NeighConfig{
			{Netns: "A", Dev: "vA", Addr: netip.MustParseAddr("192.0.2.2"), MAC: macB},
			{Netns: "A", Dev: "vA", Addr: netip.MustParseAddr("2001:db8::2"), MAC: macB},
			{Netns: "H", Dev: "hB", Addr: netip.MustParseAddr("192.0.2.2"), MAC: macB},
			{Netns: "H", Dev: "hB", Addr: netip.MustParseAddr("2001:db8::2"), MAC: macB},
		},
		Sockets: []netstack.SocketConfig{
			{Name: "tx", Netns: "A", Proto: netstack.ProtoUDP, Port: 40000},
			{Name: "tx6", Netns: "A", Proto: netstack.ProtoUDP, Port: 40000, Addr: netip.IPv6Unspecified()},
			{Name: "rx", Netns: "B", Proto: netstack.ProtoUDP, Port: 9999},
			{Name: "rx6", Netns: "B", Proto: netstack.ProtoUDP, Port: 9999, Addr: netip.IPv6Unspecified()},
		},
		Programs: []netstack.ProgramConfig{{Name: "neigh", Hook: carrier.HookTCIngress, Netns: "H", Dev: "hA",
			Prog: netstack.ProgramFunc(func(c *netstack.Ctx) int { return c.RedirectNeigh(c.Ifindex("hB"), 0) })}},
		Entries: []netstack.EntryConfig{{Kind: netstack.EntryTX, Netns: "A", Socket: "tx"}},
	}
	for _, r := range routes {
		rc := netstack.RouteConfig{Netns: "H"}
		if r[0] == "-6" {
			r = r[1:]
		}
		switch r[2] {
		case "blackhole":
			rc.Type, rc.Dst = netstack.RouteBlackhole, pfx(r[3])
		default:
			rc.Dst, rc.Dev = pfx(r[2]), r[4]
		}
		cfg.Routes = append(cfg.Routes, rc)
	}
	pkt := udp4Packet([4]byte{192, 0, 2, 1}, [4]byte{192, 0, 2, 2}, 40000, 9999, 8)
	if v6 {
		cfg.Entries[0].Socket = "tx6"
		pkt = udp6Packet(netip.MustParseAddr("2001:db8::1").As16(), netip.MustParseAddr("2001:db8::2").As16(), 40000, 9999, 8)
	}
	obs := &dropRecorder{}
	runModel(t, cfg, obs, pkt, nil)
	return obs.delivered
}
