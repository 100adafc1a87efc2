package kernel

import (
	"encoding/binary"
	"net"
	"net/netip"
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

// rtVariant is a set of H's IPv4 sysctls and routes beyond newICMPTopo's.
type rtVariant struct {
	rp          int  // net.ipv4.conf.all.rp_filter
	acceptLocal bool // net.ipv4.conf.all.accept_local
	localnet    bool // net.ipv4.conf.all.route_localnet
	noRedirects bool // send_redirects 0 on all and hA
	anyIP       bool // ip route add local 203.0.113.0/24 dev lo
	noShared    bool // shared_media 0 on all and hA
}

// rtNeigh is a host on A's link that H knows (a permanent neighbour), the
// gateway of H's route to 10.9.0.0/24.
const (
	rtNeigh   = "192.0.2.7"
	rtGateway = "192.0.2.2"
	rtOffLink = "198.51.100.1" // the onlink gateway of 10.10.0.0/24, outside hA's subnet
)

var rtNeighMAC = [6]byte{2, 0, 0, 0, 0, 7}

// newRtTopo is newICMPTopo with v's settings on H, neighbours rtNeigh and
// rtGateway on hA, and a route to 10.9.0.0/24 through rtGateway.
func newRtTopo(t *testing.T, v rtVariant) *icmpTopo {
	t.Helper()
	var sysctls []string
	b := func(on bool) string {
		if on {
			return "1"
		}
		return "0"
	}
	sysctls = append(sysctls, "net.ipv4.conf.all.rp_filter", string(rune('0'+v.rp)),
		"net.ipv4.conf.all.accept_local", b(v.acceptLocal), "net.ipv4.conf.all.route_localnet", b(v.localnet))
	if v.noRedirects {
		sysctls = append(sysctls, "net.ipv4.conf.all.send_redirects", "0")
	}
	if v.noShared {
		sysctls = append(sysctls, "net.ipv4.conf.all.shared_media", "0")
	}
	tp := newICMPTopo(t, sysctls...)
	h := tp.h
	if v.noRedirects {
		require.NoError(t, h.Sysctl("net.ipv4.conf."+tp.hA+".send_redirects", "0"))
	}
	if v.noShared {
		require.NoError(t, h.Sysctl("net.ipv4.conf."+tp.hA+".shared_media", "0"))
	}
	for _, a := range []string{rtNeigh, rtGateway, rtOffLink} {
		require.NoError(t, h.IP("neigh", "add", a, "lladdr", macString(rtNeighMAC), "dev", tp.hA, "nud", "permanent"))
	}
	require.NoError(t, h.IP("route", "add", "10.9.0.0/24", "via", rtGateway, "dev", tp.hA))
	require.NoError(t, h.IP("route", "add", "10.10.0.0/24", "via", rtOffLink, "dev", tp.hA, "onlink"))
	if v.anyIP {
		require.NoError(t, h.IP("route", "add", "local", "203.0.113.0/24", "dev", "lo"))
	}
	return tp
}

// rtModel is the model of newRtTopo with variant v, packets entering at
// hA.
func (tp *icmpTopo) rtModel(v rtVariant, progs ...netstack.ProgramConfig) *netstack.Config {
	cfg := tp.model(netstack.NamespaceConfig{RPFilter: v.rp, AcceptLocal: v.acceptLocal, RouteLocalnet: v.localnet,
		NoSendRedirects: v.noRedirects, NoSharedMedia: v.noShared}, progs...)
	tp.rxAtH(cfg)
	for _, a := range []string{rtNeigh, rtGateway, rtOffLink} {
		cfg.Neighbours = append(cfg.Neighbours, netstack.NeighConfig{Netns: "H", Dev: "hA", Addr: netip.MustParseAddr(a), MAC: rtNeighMAC})
	}
	cfg.Routes = append(cfg.Routes, netstack.RouteConfig{Netns: "H", Dst: netip.MustParsePrefix("10.9.0.0/24"), Dev: "hA",
		Via: netip.MustParseAddr(rtGateway)}, netstack.RouteConfig{Netns: "H", Dst: netip.MustParsePrefix("10.10.0.0/24"), Dev: "hA",
		Via: netip.MustParseAddr(rtOffLink), Onlink: true})
	if v.anyIP {
		cfg.Routes = append(cfg.Routes, netstack.RouteConfig{Netns: "H", Dst: netip.MustParsePrefix("203.0.113.0/24"), Dev: "lo",
			Type: netstack.RouteLocal})
	}
	return cfg
}

// rtFrame is a UDP datagram src:40000 -> dst:9999 with 16 bytes of
// payload and time to live ttl, in an Ethernet frame from vA to H (to the
// broadcast or the group's address for such destinations).
func (tp *icmpTopo) rtFrame(src, dst string, ttl uint8) []byte {
	d := netip.MustParseAddr(dst).As4()
	pkt := udp4Packet(netip.MustParseAddr(src).As4(), d, 40000, 9999, 16)
	pkt[8] = ttl
	binary.BigEndian.PutUint16(pkt[10:], inetCsum(pkt[:20]))
	f := ethIPv4(pkt)
	switch {
	case d[0]&0xf0 == 0xe0:
		copy(f[0:6], []byte{1, 0, 0x5e, d[1] & 0x7f, d[2], d[3]})
	case d == [4]byte{255, 255, 255, 255} || dst == "192.0.2.255":
		copy(f[0:6], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	default:
		copy(f[0:6], tp.macH[:])
	}
	copy(f[6:12], tp.macA[:])
	return f
}

// TestKernelRouteInput: the drop reason (or none) of a datagram A sends to
// or through H, in the kernel (the kfree_skb tracepoint on hA) and in the
// model: ip_route_input_slow's martian sources and destinations,
// ip_mc_validate_source, and fib_validate_source with accept_local,
// rp_filter strict and loose, and custom local routes.
func TestKernelRouteInput(t *testing.T) {
	testutil.KernelTests(t)
	probe, err := NewMetaProbe(false)
	testutil.SkipIfNotSupported(t, err)
	t.Cleanup(func() { require.NoError(t, probe.Close()) })
	const a, h = icmpAddrA, icmpAddrH
	topos := map[rtVariant]*icmpTopo{}
	cases := []struct {
		name     string
		v        rtVariant
		src, dst string
	}{
		{"multicast source", rtVariant{}, "224.0.0.5", h},
		{"limited broadcast source", rtVariant{}, "255.255.255.255", h},
		{"zero source", rtVariant{}, "0.0.0.0", h},
		{"zero source to the limited broadcast", rtVariant{}, "0.0.0.0", "255.255.255.255"},
		{"zero source to zero", rtVariant{}, "0.0.0.0", "0.0.0.0"},
		{"zero source to the subnet broadcast", rtVariant{}, "0.0.0.0", "192.0.2.255"},
		{"zero network destination", rtVariant{}, a, "0.0.0.0"},
		{"0.0.0.0/8 destination", rtVariant{}, a, "0.1.2.3"},
		{"0.0.0.0/8 source", rtVariant{}, "0.1.2.3", h},
		{"loopback destination", rtVariant{}, a, "127.0.0.1"},
		{"loopback source", rtVariant{}, "127.0.0.1", h},
		{"loopback source, route_localnet", rtVariant{localnet: true}, "127.0.0.1", h},
		{"loopback destination, route_localnet", rtVariant{localnet: true}, a, "127.0.0.1"},
		{"H's address as source", rtVariant{}, h, h},
		{"H's address as source, accept_local", rtVariant{acceptLocal: true}, h, h},
		{"H's address as source to the subnet broadcast", rtVariant{}, h, "192.0.2.255"},
		{"H's other address as source, forwarded", rtVariant{}, "10.1.0.1", "10.1.0.2"},
		{"H's other address as source, forwarded, accept_local", rtVariant{acceptLocal: true}, "10.1.0.1", "10.1.0.2"},
		{"subnet broadcast source", rtVariant{}, "192.0.2.255", h},
		{"subnet broadcast source, forwarded by another device", rtVariant{}, "192.0.2.255", "10.1.0.2"},
		{"subnet broadcast source, forwarded back out", rtVariant{}, "192.0.2.255", rtNeigh},
		{"subnet broadcast source, rp_filter 2", rtVariant{rp: 2}, "192.0.2.255", h},
		{"unrouted source", rtVariant{}, "10.8.8.8", h},
		{"unrouted source, rp_filter 1", rtVariant{rp: 1}, "10.8.8.8", h},
		{"unrouted source, rp_filter 2", rtVariant{rp: 2}, "10.8.8.8", h},
		{"source behind hB, rp_filter 1", rtVariant{rp: 1}, "10.1.0.7", h},
		{"source behind hB, rp_filter 2", rtVariant{rp: 2}, "10.1.0.7", h},
		{"source behind hB, forwarded, rp_filter 1", rtVariant{rp: 1}, "10.1.0.7", "10.1.0.2"},
		{"on-link source, rp_filter 1", rtVariant{rp: 1}, rtNeigh, h},
		{"zero source to all-hosts", rtVariant{}, "0.0.0.0", "224.0.0.1"},
		{"loopback source to all-hosts", rtVariant{}, "127.0.0.1", "224.0.0.1"},
		{"H's address to all-hosts", rtVariant{}, h, "224.0.0.1"},
		{"unrouted source to all-hosts, rp_filter 1", rtVariant{rp: 1}, "10.8.8.8", "224.0.0.1"},
		{"source in a custom local route", rtVariant{anyIP: true}, "203.0.113.9", h},
		{"unrouted source with a custom local route", rtVariant{anyIP: true}, "10.8.8.8", h},
		{"to a custom local route", rtVariant{anyIP: true}, a, "203.0.113.9"},
	}
	for _, tc := range cases {
		if topos[tc.v] == nil {
			topos[tc.v] = newRtTopo(t, tc.v)
		}
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tp := topos[tc.v]
			frame := tp.rtFrame(tc.src, tc.dst, 64)
			vA, err := tp.a.Ifindex("vA")
			require.NoError(t, err)
			kern := watchDrop(t, probe, tp.hA, func() { sendFrame(t, tp.a, vA, net.HardwareAddr(frame[0:6]), frame) })
			t.Logf("kernel: %v", kern)

			// The probe reports the first skb freed on hA.
			obs := &devDrops{}
			var model []string
			runModel(t, tp.rtModel(tc.v), obs, frame, func(s *netstack.Stack) { model = obs.first(s, "H", "hA") })
			require.Equal(t, kern, model, "model")
		})
	}
}

// devDrops notes every drop.
type devDrops struct {
	netstack.NopObserver
	drops []netstack.DropEvent
}

func (r *devDrops) Drop(e netstack.DropEvent) { r.drops = append(r.drops, e) }

// first returns the reason of the first drop on device dev of namespace
// ns in s (what the probe reports: the first skb freed there), or nil.
func (r *devDrops) first(s *netstack.Stack, ns, dev string) []string {
	d := s.Device(ns, dev)
	for _, e := range r.drops {
		if e.Netns == d.Netns().ID() && e.Dev == d.Ifindex() {
			return []string{e.Reason.String()}
		}
	}
	return nil
}

// firsts is first for each device of devs (the kernel's name to the
// model's namespace and name): the map watchDrops returns, from the model.
func (r *devDrops) firsts(s *netstack.Stack, devs map[string][2]string) map[string]string {
	got := map[string]string{}
	for k, d := range devs {
		if f := r.first(s, d[0], d[1]); f != nil {
			got[k] = f[0]
		}
	}
	return got
}

// redirectGot is an ICMP message A received: type, code, source, the
// gateway word, the quoted packet's time to live and the message's IP
// length.
type redirectGot struct {
	typ, code uint8
	src, gw   string
	ttl       uint8
	len       int
}

func parseRedirectGot(p []byte) redirectGot {
	ihl := int(p[0]&0xf) * 4
	m := p[ihl:]
	g := redirectGot{typ: m[0], code: m[1], src: netip.AddrFrom4([4]byte(p[12:16])).String(), len: len(p)}
	if len(m) >= 8+9 {
		g.gw, g.ttl = netip.AddrFrom4([4]byte(m[4:8])).String(), m[8+8]
	}
	return g
}

// TestKernelICMPRedirect: the ICMP messages A gets back when H forwards
// its datagrams out of the device they came in on (ip_rt_send_redirect
// after __mkroute_input marked IPSKB_DOREDIRECT): how many within
// ip_rt_redirect_load's doubling intervals, the gateway, the quoted time
// to live (already decremented), and none when send_redirects is off, the
// source is not on the link, the packet leaves by another device, or is
// itself an ICMP error; the kernel's as a raw socket in A reads them, the
// model's as a tc ingress program on vA sees them. The frames leave A by
// a packet socket, at the kernel's send times in the model.
func TestKernelICMPRedirect(t *testing.T) {
	testutil.KernelTests(t)
	const a = icmpAddrA
	ms := time.Millisecond
	for _, tc := range []struct {
		name     string
		v        rtVariant
		src, dst string
		ttl      uint8
		gaps     []time.Duration // before each frame after the first
		icmpErr  bool            // the datagram is an ICMP port unreachable instead
		then     string          // then a datagram from src to this address
	}{
		{"through a gateway on the link", rtVariant{}, a, "10.9.0.5", 64, make([]time.Duration, 9), false, ""},
		{"to a host on the link", rtVariant{}, a, rtNeigh, 64, make([]time.Duration, 4), false, ""},
		{"paced", rtVariant{}, a, "10.9.0.5", 64, []time.Duration{70 * ms, 100 * ms, 60 * ms, 130 * ms}, false, ""},
		{"send_redirects off", rtVariant{noRedirects: true}, a, "10.9.0.5", 64, make([]time.Duration, 2), false, ""},
		{"rp_filter 1", rtVariant{rp: 1}, a, "10.9.0.5", 64, nil, false, ""},
		{"source off the link", rtVariant{}, "10.8.8.8", "10.9.0.5", 64, nil, false, ""},
		{"out of another device", rtVariant{}, a, "10.1.0.2", 64, nil, false, ""},
		{"out of another device, rp_filter 1", rtVariant{rp: 1}, a, "10.1.0.2", 64, nil, false, ""},
		{"time to live 1", rtVariant{}, a, "10.9.0.5", 1, nil, false, ""},
		{"an ICMP error", rtVariant{}, a, "10.9.0.5", 64, nil, true, ""},
		// The redirect zeroed the peer's tokens: the port unreachable is
		// rate limited.
		{"a port unreachable after a redirect", rtVariant{}, a, "10.9.0.5", 64, nil, false, icmpAddrH},
		{"a port unreachable alone", rtVariant{}, a, icmpAddrH, 64, nil, false, ""},
		{"through an onlink gateway off the subnet", rtVariant{}, a, "10.10.0.5", 64, nil, false, ""},
		{"through an onlink gateway off the subnet, shared_media 0", rtVariant{noShared: true}, a, "10.10.0.5", 64, nil, false, ""},
		{"through a gateway on the link, shared_media 0", rtVariant{noShared: true}, a, "10.9.0.5", 64, nil, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tp := newRtTopo(t, tc.v)
			rcv := newSocket(t, tp.a, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP)
			require.NoError(t, unix.SetsockoptTimeval(rcv, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Usec: 300_000}))
			frame := tp.rtFrame(tc.src, tc.dst, tc.ttl)
			if tc.icmpErr {
				frame = tp.icmpFrame4(tc.src, tc.dst, 64, icmpMsg(3, 3, quoted(5, 28), false), tp.macH)
			}
			vA, err := tp.a.Ifindex("vA")
			require.NoError(t, err)
			tx := newSocket(t, tp.a, unix.AF_PACKET, unix.SOCK_RAW, 0)
			sa := &unix.SockaddrLinklayer{Ifindex: vA, Halen: 6}
			copy(sa.Addr[:], tp.macH[:])
			frames := []([]byte){frame}
			for range tc.gaps {
				frames = append(frames, frame)
			}
			if tc.then != "" {
				frames, tc.gaps = append(frames, tp.rtFrame(tc.src, tc.then, 64)), append(tc.gaps, 0)
			}
			var at []time.Duration
			start := time.Now()
			for i, f := range frames {
				if i > 0 {
					time.Sleep(tc.gaps[i-1])
				}
				at = append(at, time.Since(start))
				require.NoError(t, unix.Sendto(tx, f, 0, sa))
			}
			var kern []redirectGot
			buf := make([]byte, 2048)
			for {
				k, _, err := unix.Recvfrom(rcv, buf, 0)
				if err != nil {
					break
				}
				kern = append(kern, parseRedirectGot(buf[:k]))
			}
			t.Logf("kernel: sent at %v, got %d: %+v", at, len(kern), kern)

			var model []redirectGot
			cfg := tp.rtModel(tc.v, netstack.ProgramConfig{Name: "rx", Hook: carrier.HookTCIngress, Netns: "A", Dev: "vA",
				Prog: netstack.ProgramFunc(func(c *netstack.Ctx) int {
					// What A's raw socket reads: ICMP addressed to vA
					// (the forwarded packets go to the gateway's address).
					if f := c.Skb.Data(); [6]byte(f[0:6]) == tp.macA && f[14+9] == unix.IPPROTO_ICMP {
						d := f[14:]
						model = append(model, parseRedirectGot(d[:c.Skb.Len()-14]))
					}
					return -1
				})})
			al := skb.NewAllocator(kmem.New(), skb.DefaultProfile())
			s, err := netstack.New(cfg, netstack.Env{Alloc: al, Observer: netstack.NopObserver{}})
			require.NoError(t, err)
			for i, d := range at {
				require.NoError(t, s.Inject(&netstack.Packet{ID: uint64(i + 1), Tstamp: 1e15 + int64(d), Frame: frames[i]}))
			}
			s.Flush()
			require.NoError(t, s.Close())
			require.NoError(t, al.CheckLeaks())
			require.Equal(t, kern, model, "model")
		})
	}
}
