package kernel

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/internal/testutil"
	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/netstack"
	"github.com/skbsim/skbsim/skb"
)

const (
	icmp6AddrA = "2001:db8:1::1"
	icmp6AddrH = "2001:db8:1::fe"
	icmp6AddrB = "2001:db8:2::2"
	testTclass = 0x28 // the traffic class of the tests' own IPv6 packets
)

// newICMP6Topo is newICMPTopo's topology over IPv6: A (vA,
// 2001:db8:1::1/64), H (hA, 2001:db8:1::fe/64; hB, 2001:db8:2::1/64, MTU
// 1400; forwarding) and B (vB, 2001:db8:2::2/64), without duplicate
// address detection or router solicitations, with permanent neighbours
// and H's blackhole, unreachable and prohibit routes.
func newICMP6Topo(t *testing.T, sysctls ...string) *icmpTopo {
	t.Helper()
	tp := &icmpTopo{hA: fmt.Sprint("i6", os.Getpid()%100000)}
	tp.a, tp.h, tp.b = newNetns(t, "i6A"), newNetns(t, "i6H"), newNetns(t, "i6B")
	a, h, b := tp.a, tp.h, tp.b
	for _, n := range []*Netns{a, h, b} {
		require.NoError(t, n.Sysctl("net.ipv6.conf.default.router_solicitations", "0"))
		require.NoError(t, n.Sysctl("net.ipv6.conf.default.dad_transmits", "0"))
	}
	require.NoError(t, a.IP("link", "add", "vA", "type", "veth", "peer", "name", tp.hA, "netns", h.Name))
	require.NoError(t, b.IP("link", "add", "vB", "type", "veth", "peer", "name", "hB", "netns", h.Name))
	for _, x := range []struct {
		n   *Netns
		dev string
	}{{a, "vA"}, {h, tp.hA}, {h, "hB"}, {b, "vB"}} {
		require.NoError(t, x.n.Do(func() error { return writeSysctl("net/ipv6/conf/"+x.dev+"/disable_ipv6", "0") }))
	}
	require.NoError(t, a.IP("-6", "addr", "add", icmp6AddrA+"/64", "dev", "vA", "nodad"))
	require.NoError(t, h.IP("-6", "addr", "add", icmp6AddrH+"/64", "dev", tp.hA, "nodad"))
	require.NoError(t, h.IP("-6", "addr", "add", "2001:db8:2::1/64", "dev", "hB", "nodad"))
	require.NoError(t, b.IP("-6", "addr", "add", icmp6AddrB+"/64", "dev", "vB", "nodad"))
	require.NoError(t, h.IP("link", "set", "hB", "mtu", "1400"))
	require.NoError(t, h.Sysctl("net.ipv6.conf.all.forwarding", "1"))
	for i := 0; i+1 < len(sysctls); i += 2 {
		require.NoError(t, h.Sysctl(sysctls[i], sysctls[i+1]))
	}
	for _, l := range []struct {
		n   *Netns
		dev string
	}{{a, "vA"}, {h, tp.hA}, {h, "hB"}, {b, "vB"}} {
		require.NoError(t, l.n.IP("link", "set", l.dev, "up"))
	}
	// The multicast route addrconf_add_dev adds when a device comes up
	// with IPv6 enabled (enabling it per device after the namespace's
	// default disabled it leaves it out).
	require.NoError(t, h.IP("-6", "route", "add", "multicast", "ff00::/8", "dev", tp.hA, "table", "local"))
	require.NoError(t, h.IP("-6", "route", "add", "blackhole", "2001:db8:7::/48"))
	require.NoError(t, h.IP("-6", "route", "add", "unreachable", "2001:db8:6::/48"))
	require.NoError(t, h.IP("-6", "route", "add", "prohibit", "2001:db8:5::/48"))
	hw := func(n *Netns, dev string) [6]byte {
		m, err := n.HardwareAddr(dev)
		require.NoError(t, err)
		return [6]byte(m)
	}
	tp.macA, tp.macH, tp.macHB, tp.macVB = hw(a, "vA"), hw(h, tp.hA), hw(h, "hB"), hw(b, "vB")
	require.NoError(t, a.IP("-6", "neigh", "add", icmp6AddrH, "lladdr", macString(tp.macH), "dev", "vA", "nud", "permanent"))
	require.NoError(t, h.IP("-6", "neigh", "add", icmp6AddrA, "lladdr", macString(tp.macA), "dev", tp.hA, "nud", "permanent"))
	require.NoError(t, h.IP("-6", "neigh", "add", icmp6AddrB, "lladdr", macString(tp.macVB), "dev", "hB", "nud", "permanent"))
	require.NoError(t, a.IP("-6", "route", "add", "default", "via", icmp6AddrH))
	require.NoError(t, b.IP("-6", "route", "add", "default", "via", "2001:db8:2::1"))
	return tp
}

// model6 is the IPv6 topology as a model configuration (hA first when
// rx, so that a packet can enter there with CHECKSUM_NONE); H's namespace
// gets ns.
func (tp *icmpTopo) model6(ns netstack.NamespaceConfig, rx bool, progs ...netstack.ProgramConfig) *netstack.Config {
	pfx := netip.MustParsePrefix
	ns.Name, ns.IPv6Forwarding = "H", true
	cfg := &netstack.Config{
		Namespaces: []netstack.NamespaceConfig{{Name: "A"}, ns, {Name: "B"}},
		Devices: []netstack.DeviceConfig{
			{Name: "vA", Kind: netstack.KindVeth, Netns: "A", MAC: tp.macA, Addrs: []netip.Prefix{pfx(icmp6AddrA + "/64")},
				Peer: "hA", PeerNetns: "H", PeerMAC: tp.macH, PeerAddrs: []netip.Prefix{pfx(icmp6AddrH + "/64")}},
			{Name: "hB", Kind: netstack.KindVeth, Netns: "H", MAC: tp.macHB, MTU: 1400, Addrs: []netip.Prefix{pfx("2001:db8:2::1/64")},
				Peer: "vB", PeerNetns: "B", PeerMAC: tp.macVB, PeerAddrs: []netip.Prefix{pfx(icmp6AddrB + "/64")}},
		},
		Routes: []netstack.RouteConfig{
			{Netns: "A", Dst: pfx("::/0"), Dev: "vA", Via: netip.MustParseAddr(icmp6AddrH)},
			{Netns: "B", Dst: pfx("::/0"), Dev: "vB", Via: netip.MustParseAddr("2001:db8:2::1")},
			{Netns: "H", Dst: pfx("2001:db8:7::/48"), Type: netstack.RouteBlackhole},
			{Netns: "H", Dst: pfx("2001:db8:6::/48"), Type: netstack.RouteUnreachable},
			{Netns: "H", Dst: pfx("2001:db8:5::/48"), Type: netstack.RouteProhibit},
		},
		Sockets:  []netstack.SocketConfig{{Name: "tx", Netns: "A", Proto: netstack.ProtoUDP, Port: 40000, Addr: netip.IPv6Unspecified()}},
		Programs: progs,
		Options:  netstack.Options{Replies: true},
		Entries:  []netstack.EntryConfig{{Kind: netstack.EntryTX, Netns: "A", Socket: "tx"}},
	}
	if rx {
		tp.rxAtH(cfg)
	}
	return cfg
}

// ip6Packet is an IPv6 packet from A to dst with traffic class
// testTclass, hop limit hop, next header next and payload l4, whose
// checksum (ICMPv6, TCP, UDP) at csumOff it computes unless csumOff < 0
// or bad.
func ip6Packet(dst string, hop, next uint8, l4 []byte, csumOff int, bad bool) []byte {
	p := make([]byte, 40+len(l4))
	binary.BigEndian.PutUint32(p[0:], 6<<28|uint32(testTclass)<<20)
	binary.BigEndian.PutUint16(p[4:], uint16(len(l4)))
	p[6], p[7] = next, hop
	copy(p[8:24], netip.MustParseAddr(icmp6AddrA).AsSlice())
	copy(p[24:40], netip.MustParseAddr(dst).AsSlice())
	copy(p[40:], l4)
	if csumOff >= 0 {
		m := p[40:]
		binary.BigEndian.PutUint16(m[csumOff:], 0)
		ps := make([]byte, 40, 40+len(m))
		copy(ps[0:32], p[8:40])
		binary.BigEndian.PutUint32(ps[32:], uint32(len(m)))
		ps[39] = next
		c := inetCsum(append(ps, m...))
		if bad {
			c ^= 0x5555
		}
		binary.BigEndian.PutUint16(m[csumOff:], c)
	}
	return p
}

// icmp6From is ip6Packet of ICMPv6 message msg from src rather than A's
// address, its checksum over that source.
func icmp6From(src, dst string, hop uint8, msg []byte) []byte {
	p := ip6Packet(dst, hop, 58, msg, -1, false)
	copy(p[8:24], netip.MustParseAddr(src).AsSlice())
	binary.BigEndian.PutUint16(p[42:], 0)
	ps := make([]byte, 40, 40+len(msg))
	copy(ps[0:32], p[8:40])
	binary.BigEndian.PutUint32(ps[32:], uint32(len(msg)))
	ps[39] = 58
	binary.BigEndian.PutUint16(p[42:], inetCsum(append(ps, p[40:]...)))
	return p
}

// sendRaw6 sends IPv6 packet p (header included) from a raw socket in n,
// out of vA when the destination is multicast.
func sendRaw6(t *testing.T, n *Netns, p []byte) {
	t.Helper()
	fd := newSocket(t, n, unix.AF_INET6, unix.SOCK_RAW, unix.IPPROTO_RAW)
	sa := &unix.SockaddrInet6{}
	copy(sa.Addr[:], p[24:40])
	if p[24] == 0xff {
		i, err := n.Ifindex("vA")
		require.NoError(t, err)
		sa.ZoneId = uint32(i)
	}
	require.NoError(t, unix.Sendto(fd, p, 0, sa))
}

// frame6 puts p in an Ethernet frame from vA to hA (to the group's
// address when p's destination is multicast).
func (tp *icmpTopo) frame6(p []byte) []byte {
	f := make([]byte, 14, 14+len(p))
	copy(f[0:6], tp.macH[:])
	if p[24] == 0xff {
		copy(f[0:6], []byte{0x33, 0x33, p[36], p[37], p[38], p[39]})
	}
	copy(f[6:12], tp.macA[:])
	binary.BigEndian.PutUint16(f[12:], unix.ETH_P_IPV6)
	return append(f, p...)
}

// quoted6 is the first n bytes of a UDP datagram from H to A, as an
// ICMPv6 error quotes it.
func quoted6(n int) []byte {
	q := make([]byte, 40+8+40)
	binary.BigEndian.PutUint32(q[0:], 6<<28)
	binary.BigEndian.PutUint16(q[4:], 48)
	q[6], q[7] = unix.IPPROTO_UDP, 64
	copy(q[8:24], netip.MustParseAddr(icmp6AddrH).AsSlice())
	copy(q[24:40], netip.MustParseAddr(icmp6AddrA).AsSlice())
	binary.BigEndian.PutUint16(q[40:], 9)
	binary.BigEndian.PutUint16(q[42:], 9)
	binary.BigEndian.PutUint16(q[44:], 48)
	return q[:n]
}

// TestKernelICMPv6Rcv: what icmpv6_rcv does with messages A sends to H,
// in the kernel (the kfree_skb tracepoint's drop reason on hA, for the
// test's traffic class only: the link also carries MLD) and in the model.
func TestKernelICMPv6Rcv(t *testing.T) {
	testutil.KernelTests(t)
	probe, err := NewMetaProbe(false)
	testutil.SkipIfNotSupported(t, err)
	t.Cleanup(func() { require.NoError(t, probe.Close()) })
	require.NoError(t, probe.FilterTclass(testTclass))
	tp := newICMP6Topo(t)
	msg := func(typ, code uint8, body []byte) []byte {
		return append([]byte{typ, code, 0, 0, 0x12, 0x34, 0, 1}, body...)
	}
	ns := msg(135, 0, netip.MustParseAddr(icmp6AddrH).AsSlice())
	for _, tc := range []struct {
		name string
		dst  string
		hop  uint8
		next uint8
		l4   []byte
		bad  bool
	}{
		{"echo request", icmp6AddrH, 64, 58, msg(128, 0, make([]byte, 32)), false},
		{"echo request, bad checksum", icmp6AddrH, 64, 58, msg(128, 0, make([]byte, 32)), true},
		{"echo reply", icmp6AddrH, 64, 58, msg(129, 0, make([]byte, 32)), false},
		{"extended echo request", icmp6AddrH, 64, 58, msg(160, 0, make([]byte, 8)), false},
		{"unknown informational type", icmp6AddrH, 64, 58, msg(200, 0, nil), false},
		{"4 bytes", icmp6AddrH, 64, 58, msg(128, 0, nil)[:4], false},
		{"port unreachable", icmp6AddrH, 64, 58, msg(1, 4, quoted6(48)), false},
		{"port unreachable, quote of 30 bytes", icmp6AddrH, 64, 58, msg(1, 4, quoted6(30)), false},
		{"port unreachable, no transport header", icmp6AddrH, 64, 58, msg(1, 4, quoted6(40)), false},
		{"packet too big, quote of 30 bytes", icmp6AddrH, 64, 58, msg(2, 0, quoted6(30)), false},
		{"packet too big", icmp6AddrH, 64, 58, msg(2, 0, quoted6(48)), false},
		{"unknown error type", icmp6AddrH, 64, 58, msg(50, 0, quoted6(48)), false},
		{"port unreachable quoting no next header", icmp6AddrH, 64, 58, msg(1, 4, func() []byte {
			q := quoted6(48)
			q[6] = 59
			return q
		}()), false},
		{"neighbour solicitation, hop limit 64", icmp6AddrH, 64, 58, ns, false},
		{"neighbour solicitation, code 1", icmp6AddrH, 255, 58, append([]byte{135, 1}, ns[2:]...), false},
		{"UDP without checksum, no socket", icmp6AddrH, 64, 17, []byte{0x9c, 0x40, 0x27, 0x0f, 0, 12, 0, 0, 1, 2, 3, 4}, false},
		{"UDP, no socket", icmp6AddrH, 64, 17, []byte{0x9c, 0x40, 0x27, 0x0f, 0, 12, 0, 0, 1, 2, 3, 4}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			off := 2
			switch {
			case tc.next == 17 && tc.name == "UDP without checksum, no socket":
				off = -1
			case tc.next == 17:
				off = 6
			}
			p := ip6Packet(tc.dst, tc.hop, tc.next, tc.l4, off, tc.bad)
			kern := watchDrop(t, probe, tp.hA, func() {
				sendRaw6(t, tp.a, p)
			})
			t.Logf("kernel: %v", kern)
			obs := &nsDrops{ns: 3}
			runModel(t, tp.model6(netstack.NamespaceConfig{}, true), obs, tp.frame6(p), nil)
			require.Equal(t, kern, obs.reasons, "model")
		})
	}
}

// TestKernelICMPv6Errors: the ICMPv6 errors H sends A for bursts of UDP
// datagrams (port unreachable from H itself; time exceeded, packet too
// big, no route and reject routes when forwarding), a second burst 60 ms
// later (icmpv6_xrlim_allow's interval, shortened for a /64), as a raw
// socket in A reads them and as a tc ingress program on vA sees them.
func TestKernelICMPv6Errors(t *testing.T) {
	testutil.KernelTests(t)
	for _, tc := range []struct {
		name    string
		dst     string
		hop     int
		payload int
		again   bool
		prefsrc bool // the route back to A has src 2001:db8:2::1 (icmpv6_rt_has_prefsrc)
	}{
		{"port unreachable", icmp6AddrH, 64, 100, true, false},
		{"time exceeded", icmp6AddrB, 1, 100, false, false},
		{"time exceeded, the route back's src", icmp6AddrB, 1, 100, false, true},
		{"port unreachable, the route back's src", icmp6AddrH, 64, 100, false, true},
		{"packet too big", icmp6AddrB, 64, 1400, false, false},
		{"no route", "2001:db8:9::1", 64, 100, true, false},
		{"unreachable route", "2001:db8:6::1", 64, 100, false, false},
		{"prohibit route", "2001:db8:5::1", 64, 100, false, false},
		{"blackhole route", "2001:db8:7::1", 64, 100, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const n = 10
			tp := newICMP6Topo(t)
			if tc.prefsrc {
				require.NoError(t, tp.h.IP("-6", "route", "add", icmp6AddrA+"/128", "dev", tp.hA, "src", "2001:db8:2::1"))
			}
			rcv := newSocket(t, tp.a, unix.AF_INET6, unix.SOCK_RAW, unix.IPPROTO_ICMPV6)
			require.NoError(t, unix.SetsockoptTimeval(rcv, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Usec: 300_000}))
			snd := newSocket(t, tp.a, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			require.NoError(t, unix.SetsockoptInt(snd, unix.IPPROTO_IPV6, unix.IPV6_UNICAST_HOPS, tc.hop))
			require.NoError(t, unix.SetsockoptInt(snd, unix.IPPROTO_IPV6, unix.IPV6_MTU_DISCOVER, unix.IPV6_PMTUDISC_PROBE))
			require.NoError(t, unix.Bind(snd, &unix.SockaddrInet6{Port: 40000}))
			dst := netip.MustParseAddr(tc.dst).As16()
			send := func() {
				for range n {
					require.NoError(t, unix.Sendto(snd, make([]byte, tc.payload), 0, &unix.SockaddrInet6{Port: 9999, Addr: dst}))
				}
			}
			send()
			if tc.again {
				time.Sleep(60 * time.Millisecond)
				send()
			}
			kern := readICMP6Errors(rcv)
			t.Logf("kernel: %d errors: %v", len(kern), kern)

			var model []icmpGot
			cfg := tp.model6(netstack.NamespaceConfig{}, false, icmp6ErrorRecorder(&model))
			if tc.prefsrc {
				cfg.Routes = append(cfg.Routes, netstack.RouteConfig{Netns: "H", Dst: netip.MustParsePrefix(icmp6AddrA + "/128"), Dev: "hA",
					Src: netip.MustParseAddr("2001:db8:2::1")})
			}
			a := skb.NewAllocator(kmem.New(), skb.DefaultProfile())
			s, err := netstack.New(cfg, netstack.Env{Alloc: a, Observer: netstack.NopObserver{}})
			require.NoError(t, err)
			udp := make([]byte, 8+tc.payload)
			binary.BigEndian.PutUint16(udp[0:], 40000)
			binary.BigEndian.PutUint16(udp[2:], 9999)
			binary.BigEndian.PutUint16(udp[4:], uint16(len(udp)))
			pkt := ip6Packet(tc.dst, uint8(tc.hop), unix.IPPROTO_UDP, udp, 6, false)
			pkt[0], pkt[1] = 0x60, 0 // traffic class 0, as the socket sends
			bursts := []int64{1e15}
			if tc.again {
				bursts = append(bursts, 1e15+60e6)
			}
			id := uint64(0)
			for _, at := range bursts {
				for range n {
					id++
					require.NoError(t, s.Inject(&netstack.Packet{ID: id, Tstamp: at, Frame: pkt}))
				}
			}
			s.Flush()
			require.NoError(t, s.Close())
			require.NoError(t, a.CheckLeaks())
			require.Equal(t, kern, model, "model")
		})
	}
}

// TestKernelReplyMeta6: what the IPv6 answers H sends carry at hA's tc
// egress after hA's tc ingress set mark 77 on the packet they answer
// (count, the ICMPv6 type or TCP flags, the words after, length, mark
// with and without net.ipv6.fwmark_reflect, priority, tstamp, and
// whether the skb has a hash: the automatic flow label's, whose value is
// the kernel's random key's), in 6.18 and in the model.
func TestKernelReplyMeta6(t *testing.T) {
	testutil.KernelTests(t)
	udp := []byte{0x9c, 0x40, 0x27, 0x0f, 0, 20, 0, 0}
	udp = append(udp, make([]byte, 12)...)
	syn := make([]byte, 20)
	binary.BigEndian.PutUint16(syn[0:], 40000)
	binary.BigEndian.PutUint16(syn[2:], 9999)
	binary.BigEndian.PutUint32(syn[4:], 1000)
	syn[12], syn[13] = 5<<4, 0x02
	echo := append([]byte{128, 0, 0, 0, 0x12, 0x34, 0, 1}, make([]byte, 24)...)
	for _, tc := range []struct {
		name    string
		dst     string
		hop     uint8
		next    uint8
		l4      []byte
		csumOff int
		reflect bool
	}{
		{"echo reply", icmp6AddrH, 64, 58, echo, 2, false},
		{"echo reply, fwmark_reflect", icmp6AddrH, 64, 58, echo, 2, true},
		{"port unreachable, fwmark_reflect", icmp6AddrH, 64, 17, udp, 6, true},
		{"hop limit exceeded", icmp6AddrB, 1, 17, udp, 6, false},
		{"reset", icmp6AddrH, 64, 6, syn, 16, false},
		{"reset, fwmark_reflect", icmp6AddrH, 64, 6, syn, 16, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sysctls := []string{"net.ipv6.fwmark_reflect", "0"}
			if tc.reflect {
				sysctls[1] = "1"
			}
			tp := newICMP6Topo(t, sysctls...)
			proto, typeOff := uint8(unix.IPPROTO_ICMPV6), int16(0)
			if tc.next == unix.IPPROTO_TCP {
				proto, typeOff = unix.IPPROTO_TCP, 13
			}
			io := tp.attachMeta(t, true, proto, typeOff)
			p := ip6Packet(tc.dst, tc.hop, tc.next, tc.l4, tc.csumOff, false)
			sendRaw6(t, tp.a, p)
			kern := readMeta(t, io, false)
			var model icmpMeta
			cfg := tp.model6(netstack.NamespaceConfig{IPv6FwmarkReflect: tc.reflect}, true, metaModel(&model, true, proto, int(typeOff))...)
			runModel(t, cfg, netstack.NopObserver{}, tp.frame6(p), nil)
			require.Equal(t, kern, model, "model")
		})
	}
}

// ndMsg is a neighbour discovery message of type typ (flags in its first
// byte after the checksum) for target, then options.
func ndMsg(typ, flags uint8, target string, opts ...byte) []byte {
	m := make([]byte, 8, 24+len(opts))
	m[0], m[4] = typ, flags
	if target != "" {
		m = append(m, netip.MustParseAddr(target).AsSlice()...)
	}
	return append(m, opts...)
}

// TestKernelNdiscRcv: what ndisc_rcv does with neighbour discovery
// messages A sends to H (which has a permanent neighbour entry for A), in
// the kernel (the kfree_skb reason on hA, for the test's traffic class)
// and in the model.
func TestKernelNdiscRcv(t *testing.T) {
	testutil.KernelTests(t)
	probe, err := NewMetaProbe(false)
	testutil.SkipIfNotSupported(t, err)
	t.Cleanup(func() { require.NoError(t, probe.Close()) })
	require.NoError(t, probe.FilterTclass(testTclass))
	router, host := newICMP6Topo(t), newICMP6Topo(t, "net.ipv6.conf.all.forwarding", "0")
	tp := router
	ll := append([]byte{1, 1}, tp.macA[:]...) // source link-layer address option
	tll := append([]byte{2, 1}, tp.macA[:]...)
	rh := append([]byte{4, 7, 0, 0, 0, 0, 0, 0}, quoted6(48)...) // a redirected header option
	ra := func(opts ...byte) []byte { return append(append(ndMsg(134, 64, ""), 0, 0, 0, 0, 0, 0, 0, 0), opts...) }
	const sol, lla = "ff02::1:ff00:fe", "fe80::1" // H's solicited-node group, a link-local source
	for _, tc := range []struct {
		name     string
		src, dst string
		hop      uint8
		msg      []byte
		host     bool // H does not forward
	}{
		{"NS unicast", icmp6AddrA, icmp6AddrH, 255, ndMsg(135, 0, icmp6AddrH, ll...), false},
		{"NS to the solicited-node group", icmp6AddrA, sol, 255, ndMsg(135, 0, icmp6AddrH, ll...), false},
		{"NS to the group without a link-layer option", icmp6AddrA, sol, 255, ndMsg(135, 0, icmp6AddrH), false},
		{"NS for another address", icmp6AddrA, icmp6AddrH, 255, ndMsg(135, 0, "2001:db8:1::77", ll...), false},
		{"NS for a multicast target", icmp6AddrA, icmp6AddrH, 255, ndMsg(135, 0, "ff02::1", ll...), false},
		{"NS with an option of length 0", icmp6AddrA, icmp6AddrH, 255, ndMsg(135, 0, icmp6AddrH, 1, 0, 0, 0, 0, 0, 0, 0), false},
		{"NS with a 16-byte link-layer option", icmp6AddrA, icmp6AddrH, 255, ndMsg(135, 0, icmp6AddrH, append([]byte{1, 2}, make([]byte, 14)...)...), false},
		{"DAD for H's address", "::", sol, 255, ndMsg(135, 0, icmp6AddrH), false},
		{"DAD to a unicast address", "::", icmp6AddrH, 255, ndMsg(135, 0, icmp6AddrH), false},
		{"NS of 20 bytes", icmp6AddrA, icmp6AddrH, 255, ndMsg(135, 0, icmp6AddrH)[:20], false},
		{"NS with hop limit 64", icmp6AddrA, icmp6AddrH, 64, ndMsg(135, 0, icmp6AddrH, ll...), false},
		{"unsolicited NA to all nodes", icmp6AddrA, "ff02::1", 255, ndMsg(136, 0x20, icmp6AddrA, tll...), false},
		{"solicited NA to all nodes", icmp6AddrA, "ff02::1", 255, ndMsg(136, 0x60, icmp6AddrA, tll...), false},
		{"NA for an unknown target", icmp6AddrA, icmp6AddrH, 255, ndMsg(136, 0x60, "2001:db8:1::77", tll...), false},
		{"RS to all routers", icmp6AddrA, "ff02::2", 255, ndMsg(133, 0, "", ll...), false},
		{"RS to all routers, to a host", icmp6AddrA, "ff02::2", 255, ndMsg(133, 0, "", ll...), true},
		{"RA from a global address", icmp6AddrA, "ff02::1", 255, ra(), false},
		{"RA", lla, "ff02::1", 255, ra(ll...), false},
		{"RA to a host", lla, "ff02::1", 255, ra(ll...), true},
		{"RA of 12 bytes", lla, "ff02::1", 255, ra()[:12], true},
		{"RA with an option of length 0", lla, "ff02::1", 255, ra(1, 0, 0, 0, 0, 0, 0, 0), true},
		{"redirect without a redirected header", icmp6AddrA, icmp6AddrH, 255, append(ndMsg(137, 0, "2001:db8:1::5"), netip.MustParseAddr("2001:db8:9::1").AsSlice()...), false},
		{"redirect", lla, icmp6AddrH, 255, append(append(ndMsg(137, 0, "2001:db8:1::5"), netip.MustParseAddr("2001:db8:9::1").AsSlice()...), rh...), false},
		{"redirect to a host", lla, icmp6AddrH, 255, append(append(ndMsg(137, 0, "2001:db8:1::5"), netip.MustParseAddr("2001:db8:9::1").AsSlice()...), rh...), true},
		{"redirect of 30 bytes", lla, icmp6AddrH, 255, append(ndMsg(137, 0, "2001:db8:1::5"), make([]byte, 16)...)[:30], true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tp := router
			if tc.host {
				tp = host
			}
			p := icmp6From(tc.src, tc.dst, tc.hop, tc.msg)
			kern := watchDrop(t, probe, tp.hA, func() {
				sendRaw6(t, tp.a, p)
			})
			t.Logf("kernel: %v", kern)
			obs := &nsDrops{ns: 3}
			cfg := tp.model6(netstack.NamespaceConfig{}, true)
			cfg.Namespaces[1].IPv6Forwarding = !tc.host
			runModel(t, cfg, obs, tp.frame6(p), nil)
			require.Equal(t, kern, obs.reasons, "model")
		})
	}
}

// TestKernelNdiscFrag: a neighbour solicitation in an atomic fragment
// (a fragment header, offset 0, no more fragments) is IPV6_NDISC_FRAG in
// 6.18 and in the model.
func TestKernelNdiscFrag(t *testing.T) {
	testutil.KernelTests(t)
	probe, err := NewMetaProbe(false)
	testutil.SkipIfNotSupported(t, err)
	t.Cleanup(func() { require.NoError(t, probe.Close()) })
	require.NoError(t, probe.FilterTclass(testTclass))
	tp := newICMP6Topo(t)
	ns := ndMsg(135, 0, icmp6AddrH, append([]byte{1, 1}, tp.macA[:]...)...)
	p := ip6Packet(icmp6AddrH, 255, 58, ns, 2, false)
	f := append(append([]byte{}, p[:40]...), 58, 0, 0, 0, 0, 0, 0, 7) // fragment header: offset 0, M 0, id 7
	f = append(f, p[40:]...)
	f[6] = 44
	binary.BigEndian.PutUint16(f[4:], uint16(len(f)-40))
	kern := watchDrop(t, probe, tp.hA, func() { sendRaw6(t, tp.a, f) })
	require.Len(t, kern, 1)
	obs := &nsDrops{ns: 3}
	runModel(t, tp.model6(netstack.NamespaceConfig{}, true), obs, tp.frame6(f), nil)
	require.Equal(t, kern, obs.reasons, "model")
	t.Logf("kernel and model: %s", kern[0])
}

// TestKernelNdiscReplies: the neighbour advertisements H answers
// solicitations with, at hA's tc egress (count, length, flags and the
// target's first bytes, mark, priority, hash, tstamp), in 6.18 and in the
// model.
func TestKernelNdiscReplies(t *testing.T) {
	testutil.KernelTests(t)
	const sol = "ff02::1:ff00:fe"
	for _, tc := range []struct {
		name     string
		src, dst string
		ll       bool
		host     bool
	}{
		{"unicast NS", icmp6AddrA, icmp6AddrH, true, false},
		{"unicast NS without an option", icmp6AddrA, icmp6AddrH, false, false},
		{"NS to the solicited-node group", icmp6AddrA, sol, true, false},
		{"NS to the group without an option", icmp6AddrA, sol, false, false},
		{"NS to a host", icmp6AddrA, icmp6AddrH, true, true},
		{"duplicate address detection", "::", sol, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var tp *icmpTopo
			if tc.host {
				tp = newICMP6Topo(t, "net.ipv6.conf.all.forwarding", "0")
			} else {
				tp = newICMP6Topo(t)
			}
			io := tp.attachMetaType(t, true, unix.IPPROTO_ICMPV6, 0, 136)
			var opts []byte
			if tc.ll {
				opts = append([]byte{1, 1}, tp.macA[:]...)
			}
			msg := ndMsg(135, 0, icmp6AddrH, opts...)
			p := icmp6From(tc.src, tc.dst, 255, msg)
			sendRaw6(t, tp.a, p)
			kern := readMeta(t, io, false)
			var model icmpMeta
			cfg := tp.model6(netstack.NamespaceConfig{}, true, metaModel(&model, true, unix.IPPROTO_ICMPV6, 0)...)
			cfg.Namespaces[1].IPv6Forwarding = !tc.host
			runModel(t, cfg, netstack.NopObserver{}, tp.frame6(p), nil)
			require.Equal(t, kern, model, "model")
		})
	}
}

// readICMP6Errors reads the ICMPv6 errors (not neighbour discovery or
// MLD) the raw socket rcv gets until its receive timeout.
func readICMP6Errors(rcv int) []icmpGot {
	var got []icmpGot
	buf := make([]byte, 2048)
	for {
		k, from, err := unix.Recvfrom(rcv, buf, 0)
		if err != nil {
			return got
		}
		if buf[0] >= 128 {
			continue // neighbour discovery, MLD
		}
		got = append(got, icmpGot{buf[0], buf[1], netip.AddrFrom16(from.(*unix.SockaddrInet6).Addr).String(), k + 40})
	}
}

// icmp6ErrorRecorder is a program at A's vA tc ingress in the model that
// appends the ICMPv6 errors it sees to *got, as readICMP6Errors reads them.
func icmp6ErrorRecorder(got *[]icmpGot) netstack.ProgramConfig {
	return netstack.ProgramConfig{Name: "rx", Hook: carrier.HookTCIngress, Netns: "A", Dev: "vA",
		Prog: netstack.ProgramFunc(func(c *netstack.Ctx) int {
			d := c.Skb.Data()[14:]
			if d[6] == unix.IPPROTO_ICMPV6 && d[40] < 128 {
				*got = append(*got, icmpGot{d[40], d[41], netip.AddrFrom16([16]byte(d[8:24])).String(), c.Skb.Len() - 14})
			}
			return -1
		})}
}

// TestKernelDownDeviceAddrs6: H gets a veth d0 that is down, and then
// 2001:db8:3::1/64 on it (nodad, as the model runs no DAD). The address
// has no prefix route (addrconf adds it once the device is up), so a
// datagram from A to its subnet gets ICMPv6 destination unreachable, no
// route, from H; the address itself is local (addrconf_dad_begin
// completes a nodad address and inserts its local route, from the
// addrconf workqueue), so a datagram to it gets port unreachable from it.
// The test waits for that local route before it sends. The model agrees.
func TestKernelDownDeviceAddrs6(t *testing.T) {
	testutil.KernelTests(t)
	for _, tc := range []struct {
		dst  string
		want icmpGot
	}{
		{"2001:db8:3::1", icmpGot{1, 4, "2001:db8:3::1", 40 + 8 + 40 + 8 + 100}},
		{"2001:db8:3::9", icmpGot{1, 0, icmp6AddrH, 40 + 8 + 40 + 8 + 100}},
	} {
		t.Run(tc.dst, func(t *testing.T) {
			tp := newICMP6Topo(t)
			h := tp.h
			require.NoError(t, h.IP("link", "add", "d0", "type", "veth", "peer", "name", "d1"))
			require.NoError(t, h.Do(func() error { return writeSysctl("net/ipv6/conf/d0/disable_ipv6", "0") }))
			require.NoError(t, h.IP("-6", "addr", "add", "2001:db8:3::1/64", "dev", "d0", "nodad"))
			waitRoute(t, h, "-6", "local", "2001:db8:3::1")
			rcv := newSocket(t, tp.a, unix.AF_INET6, unix.SOCK_RAW, unix.IPPROTO_ICMPV6)
			require.NoError(t, unix.SetsockoptTimeval(rcv, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Usec: 300_000}))
			snd := newSocket(t, tp.a, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			require.NoError(t, unix.Bind(snd, &unix.SockaddrInet6{Port: 40000}))
			require.NoError(t, unix.Sendto(snd, make([]byte, 100), 0, &unix.SockaddrInet6{Port: 9999, Addr: netip.MustParseAddr(tc.dst).As16()}))
			kern := readICMP6Errors(rcv)
			t.Logf("kernel: %v", kern)
			require.Equal(t, []icmpGot{tc.want}, kern)

			var model []icmpGot
			cfg := tp.model6(netstack.NamespaceConfig{}, false, icmp6ErrorRecorder(&model))
			cfg.Devices = append(cfg.Devices, netstack.DeviceConfig{Name: "d0", Kind: netstack.KindVeth, Netns: "H", Down: true,
				Addrs: []netip.Prefix{netip.MustParsePrefix("2001:db8:3::1/64")}, Peer: "d1", PeerNetns: "H"})
			a := skb.NewAllocator(kmem.New(), skb.DefaultProfile())
			s, err := netstack.New(cfg, netstack.Env{Alloc: a, Observer: netstack.NopObserver{}})
			require.NoError(t, err)
			udp := make([]byte, 8+100)
			binary.BigEndian.PutUint16(udp[0:], 40000)
			binary.BigEndian.PutUint16(udp[2:], 9999)
			binary.BigEndian.PutUint16(udp[4:], uint16(len(udp)))
			pkt := ip6Packet(tc.dst, 64, unix.IPPROTO_UDP, udp, 6, false)
			pkt[0], pkt[1] = 0x60, 0 // traffic class 0, as the socket sends
			require.NoError(t, s.Inject(&netstack.Packet{ID: 1, Tstamp: 1e15, Frame: pkt}))
			s.Flush()
			require.NoError(t, s.Close())
			require.NoError(t, a.CheckLeaks())
			require.Equal(t, kern, model, "model")
		})
	}
}

// waitRoute waits until `ip FAMILY route show table TABLE DST` in n lists
// a route. addrconf_dad_work inserts an address's local route after
// `ip addr add` has returned, so a packet sent at once may find none.
func waitRoute(t *testing.T, n *Netns, family, table, dst string) {
	t.Helper()
	for range 250 {
		out, err := exec.Command("ip", "-n", n.Name, family, "route", "show", "table", table, dst).Output()
		require.NoError(t, err)
		if len(bytes.TrimSpace(out)) > 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no route to %s in table %s", dst, table)
}

// TestKernelProxyNDP: A solicits fd00:9::5, which H does not own; hA has
// a proxy entry for it (`ip -6 neigh add proxy fd00:9::5 dev hA`, with or
// without `router`). H answers under proxy_ndp (hA's or all's) while it
// forwards, the advertisement's router flag the entry's, its override
// flag clear: at once for a solicitation to H's address (PACKET_HOST) or
// with proxy_delay 0; for one to the target's solicited-node group (which
// the entry joins) after the delay, the original freed (NOT_SPECIFIED).
// Without proxy_ndp, an entry, or forwarding it is
// IPV6_NDISC_NS_OTHERHOST. The advertisement H sends out of hA (count,
// length, flags, target: TestKernelNdiscReplies' probe) and the first
// drop at hA agree between the kernel and the model.
func TestKernelProxyNDP(t *testing.T) {
	testutil.KernelTests(t)
	probe, err := NewMetaProbe(false)
	testutil.SkipIfNotSupported(t, err)
	t.Cleanup(func() { require.NoError(t, probe.Close()) })
	require.NoError(t, probe.FilterTclass(testTclass))
	const target, sol = "fd00:9::5", "ff02::1:ff00:5"
	for _, tc := range []struct {
		name          string
		dev, all      bool // proxy_ndp on hA, on all
		entry, router bool
		host          bool // H does not forward
		dst           string
		delay         bool // keep proxy_delay's default
		dad           bool
	}{
		{"unicast, hA proxies", true, false, true, false, false, icmp6AddrH, false, false},
		{"unicast, all proxies, a router entry", false, true, true, true, false, icmp6AddrH, false, false},
		{"solicited-node group, proxy_delay 0", true, false, true, false, false, sol, false, false},
		{"solicited-node group, proxy_delay 80", true, false, true, false, false, sol, true, false},
		{"unicast, proxy_delay 80", true, false, true, false, false, icmp6AddrH, true, false},
		{"no proxy_ndp", false, false, true, false, false, icmp6AddrH, false, false},
		{"no entry", true, false, false, false, false, icmp6AddrH, false, false},
		{"not forwarding", true, false, true, false, true, icmp6AddrH, false, false},
		{"duplicate address detection, proxy_delay 0", true, false, true, false, false, sol, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			on := map[bool]string{true: "1", false: "0"}
			tp := newICMP6Topo(t, "net.ipv6.conf.all.forwarding", on[!tc.host], "net.ipv6.conf.all.proxy_ndp", on[tc.all])
			noLinkLocal(t, tp.h, tp.hA)
			require.NoError(t, tp.h.Sysctl("net.ipv6.conf."+tp.hA+".proxy_ndp", on[tc.dev]))
			if !tc.delay {
				require.NoError(t, tp.h.Sysctl("net.ipv6.neigh."+tp.hA+".proxy_delay", "0"))
			}
			if tc.entry {
				args := []string{"-6", "neigh", "add", "proxy", target, "dev", tp.hA}
				if tc.router {
					args = append(args, "router")
				}
				require.NoError(t, tp.h.IP(args...))
			}
			io := tp.attachMetaType(t, true, unix.IPPROTO_ICMPV6, 0, 136)
			src, opts := icmp6AddrA, append([]byte{1, 1}, tp.macA[:]...)
			if tc.dad {
				src, opts = "::", nil
			}
			msg := ndMsg(135, 0, target, opts...)
			p := icmp6From(src, tc.dst, 255, msg)
			ifA, err := tp.a.Ifindex("vA")
			require.NoError(t, err)
			cap := capture(t, tp.a, ifA)
			kernDrop := watchDrop(t, probe, tp.hA, func() {
				sendRaw6(t, tp.a, p)
				if tc.delay {
					time.Sleep(1200 * time.Millisecond) // the queued copy's answer
				}
			})
			kern := readMeta(t, io, false)
			kernAtA := readReplies(cap)
			t.Logf("kernel: drop %v, advertisements %+v, at vA %v", kernDrop, kern, kernAtA)

			var model icmpMeta
			cfg := tp.model6(netstack.NamespaceConfig{ProxyNDP: tc.all}, true, metaModel(&model, true, unix.IPPROTO_ICMPV6, 0)...)
			cfg.Namespaces[1].IPv6Forwarding = !tc.host
			cfg.Devices[0].ProxyNDP, cfg.Devices[0].NoProxyDelay = tc.dev, !tc.delay
			if tc.entry {
				cfg.Neighbours = append(cfg.Neighbours, netstack.NeighConfig{Netns: "H", Dev: "hA", Addr: netip.MustParseAddr(target), Proxy: true, Router: tc.router})
			}
			cfg.Taps = []netstack.TapConfig{{Name: "tA", Netns: "A", Dev: "vA", Dir: netstack.TapRX, Hold: true}}
			obs := &nsDrops{ns: 3}
			var modelAtA []string
			runModel(t, cfg, obs, tp.frame6(p), func(s *netstack.Stack) { modelAtA = tapReplies(s, "tA") })
			require.Equal(t, kernDrop, obs.reasons, "model: the drop at hA")
			require.Equal(t, kern, model, "model: the advertisement")
			require.Equal(t, kernAtA, modelAtA, "model: what H sends A")
		})
	}
}

// TestKernelAnycast6: H forwards IPv6, so it joins the subnet-router
// anycast addresses of its prefixes, 2001:db8:1:: (hA) and 2001:db8:2::
// (hB): datagrams and segments to them are H's (no socket: NO_SOCKET at
// hA), the port unreachable comes from the anycast address, the echo
// reply from hA's own address, a SYN gets no reset, and a solicitation
// for 2001:db8:1:: is answered with the router flag and override clear
// (to the solicited-node group after proxy_delay, the original freed).
// echo_ignore_anycast drops the echo request; anycast_src_echo_reply
// answers it from the anycast address. A host (no forwarding) has none:
// a datagram to 2001:db8:1:: is not its.
// What H sends back to A (at vA: source and type) and the first drop at
// hA agree between the kernel and the model.
func TestKernelAnycast6(t *testing.T) {
	testutil.KernelTests(t)
	probe, err := NewMetaProbe(false)
	testutil.SkipIfNotSupported(t, err)
	t.Cleanup(func() { require.NoError(t, probe.Close()) })
	require.NoError(t, probe.FilterTclass(testTclass))
	udp := func() []byte {
		u := make([]byte, 8+16)
		binary.BigEndian.PutUint16(u[0:], 40000)
		binary.BigEndian.PutUint16(u[2:], 9999)
		binary.BigEndian.PutUint16(u[4:], uint16(len(u)))
		return u
	}
	syn := make([]byte, 20)
	binary.BigEndian.PutUint16(syn[0:], 40000)
	binary.BigEndian.PutUint16(syn[2:], 9999)
	syn[12], syn[13] = 5<<4, 0x02
	echo := []byte{128, 0, 0, 0, 0x12, 0x34, 0, 1, 'a', 'n', 'y'}
	ns := func(mac [6]byte) []byte { return ndMsg(135, 0, "2001:db8:1::", append([]byte{1, 1}, mac[:]...)...) }
	for _, tc := range []struct {
		name   string
		dst    string
		next   uint8
		l4     func(tp *icmpTopo) []byte
		csum   int
		host   bool
		delay  bool
		sysctl string // set to 1 in H
	}{
		{"UDP to hA's anycast address", "2001:db8:1::", unix.IPPROTO_UDP, func(*icmpTopo) []byte { return udp() }, 6, false, false, ""},
		{"UDP to hB's anycast address", "2001:db8:2::", unix.IPPROTO_UDP, func(*icmpTopo) []byte { return udp() }, 6, false, false, ""},
		{"echo request", "2001:db8:1::", unix.IPPROTO_ICMPV6, func(*icmpTopo) []byte { return echo }, 2, false, false, ""},
		{"SYN", "2001:db8:1::", unix.IPPROTO_TCP, func(*icmpTopo) []byte { return syn }, 16, false, false, ""},
		{"NS, unicast", icmp6AddrH, unix.IPPROTO_ICMPV6, func(tp *icmpTopo) []byte { return ns(tp.macA) }, 2, false, false, ""},
		{"NS, solicited-node group", "ff02::1:ff00:0", unix.IPPROTO_ICMPV6, func(tp *icmpTopo) []byte { return ns(tp.macA) }, 2, false, true, ""},
		{"UDP to a host's prefix address", "2001:db8:1::", unix.IPPROTO_UDP, func(*icmpTopo) []byte { return udp() }, 6, true, false, ""},
		{"echo request, echo_ignore_anycast", "2001:db8:1::", unix.IPPROTO_ICMPV6, func(*icmpTopo) []byte { return echo }, 2, false, false, "net.ipv6.icmp.echo_ignore_anycast"},
		{"echo request, anycast_src_echo_reply", "2001:db8:1::", unix.IPPROTO_ICMPV6, func(*icmpTopo) []byte { return echo }, 2, false, false, "net.ipv6.anycast_src_echo_reply"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			on := map[bool]string{true: "1", false: "0"}
			tp := newICMP6Topo(t, "net.ipv6.conf.all.forwarding", on[!tc.host])
			noLinkLocal(t, tp.h, tp.hA)
			if tc.sysctl != "" {
				require.NoError(t, tp.h.Sysctl(tc.sysctl, "1"))
			}
			require.NoError(t, tp.a.IP("-6", "neigh", "add", "2001:db8:1::", "lladdr", macString(tp.macH), "dev", "vA", "nud", "permanent"))
			hop := uint8(64)
			if tc.next == unix.IPPROTO_ICMPV6 && tc.l4(tp)[0] == 135 {
				hop = 255
			}
			p := ip6Packet(tc.dst, hop, tc.next, tc.l4(tp), tc.csum, false)
			ifA, err := tp.a.Ifindex("vA")
			require.NoError(t, err)
			cap := capture(t, tp.a, ifA)
			kernDrop := watchDrop(t, probe, tp.hA, func() {
				sendRaw6(t, tp.a, p)
				if tc.delay {
					time.Sleep(1200 * time.Millisecond)
				}
			})
			kern := readReplies(cap)
			t.Logf("kernel: drop %v, to A %v", kernDrop, kern)

			cfg := tp.model6(netstack.NamespaceConfig{}, true)
			cfg.Namespaces[1].IPv6Forwarding = !tc.host
			cfg.Devices[0].NoProxyDelay = !tc.delay
			cfg.Namespaces[1].ICMPv6EchoIgnoreAnycast = tc.sysctl == "net.ipv6.icmp.echo_ignore_anycast"
			cfg.Namespaces[1].AnycastSrcEchoReply = tc.sysctl == "net.ipv6.anycast_src_echo_reply"
			cfg.Taps = []netstack.TapConfig{{Name: "tA", Netns: "A", Dev: "vA", Dir: netstack.TapRX, Hold: true}}
			obs := &nsDrops{ns: 3}
			var model []string
			runModel(t, cfg, obs, tp.frame6(p), func(s *netstack.Stack) { model = tapReplies(s, "tA") })
			require.Equal(t, kernDrop, obs.reasons, "model: the drop at hA")
			require.Equal(t, kern, model, "model: what H sends A")
		})
	}
}

// noLinkLocal leaves dev of n without a link-local address, as the
// model's devices are: addrconf adds one once the link is ready (from the
// link watcher, so at a time the test does not control), and an
// advertisement to a link-scope group prefers it as its source. The
// generation mode none keeps a later event from adding it again.
func noLinkLocal(t *testing.T, n *Netns, dev string) {
	t.Helper()
	require.NoError(t, n.IP("link", "set", "dev", dev, "addrgenmode", "none"))
	require.NoError(t, n.IP("-6", "addr", "flush", "dev", dev, "scope", "link"))
}

// readReplies is h6Reply of each frame the packet socket fd received
// until its timeout (but its own sends), where it says something.
func readReplies(fd int) []string {
	var got []string
	buf := make([]byte, 2048)
	for {
		n, from, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			return got
		}
		if ll, ok := from.(*unix.SockaddrLinklayer); ok && ll.Pkttype == unix.PACKET_OUTGOING {
			continue
		}
		if s := h6Reply(buf[:n]); s != "" {
			got = append(got, s)
		}
	}
}

// tapReplies is readReplies for the frames the model's held tap holds.
func tapReplies(s *netstack.Stack, tap string) []string {
	var got []string
	for _, p := range s.TapPackets(tap) {
		if x := h6Reply(p.Frame); x != "" {
			got = append(got, x)
		}
	}
	return got
}

// h6Reply is "source type [flags]" of an ICMPv6 error, echo reply or
// neighbour advertisement (with its flags) or "source rst" of a TCP reset
// in Ethernet frame f, or "" for anything else (MLD, H's own traffic).
func h6Reply(f []byte) string {
	if len(f) < 14+40+8 || binary.BigEndian.Uint16(f[12:]) != unix.ETH_P_IPV6 {
		return ""
	}
	ip := f[14:]
	src := netip.AddrFrom16([16]byte(ip[8:24])).String()
	switch m := ip[40:]; ip[6] {
	case unix.IPPROTO_ICMPV6:
		switch {
		case m[0] < 128 || m[0] == 129:
			return fmt.Sprintf("%s %d", src, m[0])
		case m[0] == 136:
			return fmt.Sprintf("%s %d %#x", src, m[0], m[4])
		}
	case unix.IPPROTO_TCP:
		if len(m) >= 14 && m[13]&0x04 != 0 {
			return src + " rst"
		}
	}
	return ""
}
