package kernel

import (
	"encoding/binary"
	"encoding/hex"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/internal/testutil"
	"github.com/skbsim/skbsim/netstack"
)

// icmpFrame4 is an IPv4 packet from src to dst with time to live ttl
// carrying ICMP message msg, in an Ethernet frame from vA to dstMAC.
func (tp *icmpTopo) icmpFrame4(src, dst string, ttl uint8, msg []byte, dstMAC [6]byte) []byte {
	p := make([]byte, 20, 20+len(msg))
	p[0], p[8], p[9] = 0x45, ttl, unix.IPPROTO_ICMP
	binary.BigEndian.PutUint16(p[2:], uint16(20+len(msg)))
	copy(p[12:16], netip.MustParseAddr(src).AsSlice())
	copy(p[16:20], netip.MustParseAddr(dst).AsSlice())
	binary.BigEndian.PutUint16(p[10:], inetCsum(p))
	f := ethIPv4(append(p, msg...))
	copy(f[0:6], dstMAC[:])
	copy(f[6:12], tp.macA[:])
	return f
}

// TestKernelICMPSysctls: what the IPv4 ICMP sysctls change, in the
// kernel and the model: icmp_echo_ignore_all (the request consumed, no
// reply), icmp_echo_ignore_broadcasts 0 (echo and timestamp requests to
// the subnet broadcast and to all-hosts answered from H's address), and
// icmp_errors_use_inbound_ifaddr (a time exceeded about a packet that
// came in by hA but goes back out of hB comes from hA's address). The
// first drop on hA, and the answer at vA (or, for the last, at vB).
func TestKernelICMPSysctls(t *testing.T) {
	testutil.KernelTests(t)
	probe, err := NewMetaProbe(false)
	testutil.SkipIfNotSupported(t, err)
	t.Cleanup(func() { require.NoError(t, probe.Close()) })
	bcastMAC := [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	allHosts := [6]byte{1, 0, 0x5e, 0, 0, 1}
	echo := icmpMsg(8, 0, make([]byte, 32), false)
	tstamp := icmpMsg(13, 0, make([]byte, 12), false)
	for _, tc := range []struct {
		name      string
		sysctl    string // set to 1 (0 for icmp_echo_ignore_broadcasts)
		ns        netstack.NamespaceConfig
		src, dst  string
		ttl       uint8
		msg       []byte
		mac       func(tp *icmpTopo) [6]byte
		atB       bool // the answer goes to B's link
		wantReply bool
		prefsrc   string // the route back to 10.1.0.7 has this src, in a local route 203.0.113.0/24
	}{
		{"echo", "", netstack.NamespaceConfig{}, icmpAddrA, icmpAddrH, 64, echo, nil, false, true, ""},
		{"echo, icmp_echo_ignore_all", "net.ipv4.icmp_echo_ignore_all", netstack.NamespaceConfig{ICMPEchoIgnoreAll: true},
			icmpAddrA, icmpAddrH, 64, echo, nil, false, false, ""},
		{"echo to the broadcast", "", netstack.NamespaceConfig{}, icmpAddrA, "192.0.2.255", 64, echo,
			func(*icmpTopo) [6]byte { return bcastMAC }, false, false, ""},
		{"echo to the broadcast, icmp_echo_ignore_broadcasts 0", "net.ipv4.icmp_echo_ignore_broadcasts",
			netstack.NamespaceConfig{ICMPEchoAnswerBroadcasts: true}, icmpAddrA, "192.0.2.255", 64, echo,
			func(*icmpTopo) [6]byte { return bcastMAC }, false, true, ""},
		{"timestamp to the broadcast, icmp_echo_ignore_broadcasts 0", "net.ipv4.icmp_echo_ignore_broadcasts",
			netstack.NamespaceConfig{ICMPEchoAnswerBroadcasts: true}, icmpAddrA, "192.0.2.255", 64, tstamp,
			func(*icmpTopo) [6]byte { return bcastMAC }, false, true, ""},
		{"echo to all-hosts, icmp_echo_ignore_broadcasts 0", "net.ipv4.icmp_echo_ignore_broadcasts",
			netstack.NamespaceConfig{ICMPEchoAnswerBroadcasts: true}, icmpAddrA, "224.0.0.1", 64, echo,
			func(*icmpTopo) [6]byte { return allHosts }, false, true, ""},
		{"time exceeded back out of hB", "", netstack.NamespaceConfig{}, "10.1.0.7", "10.1.0.2", 1, echo, nil, true, true, ""},
		{"time exceeded back out of hB, icmp_errors_use_inbound_ifaddr", "net.ipv4.icmp_errors_use_inbound_ifaddr",
			netstack.NamespaceConfig{ICMPErrorsUseInboundIfaddr: true}, "10.1.0.7", "10.1.0.2", 1, echo, nil, true, true, ""},
		{"time exceeded back out of hB, the route's src", "", netstack.NamespaceConfig{}, "10.1.0.7", "10.1.0.2", 1, echo, nil, true, true,
			"203.0.113.5"},
		{"time exceeded back out of hB, the route's src, icmp_errors_use_inbound_ifaddr", "net.ipv4.icmp_errors_use_inbound_ifaddr",
			netstack.NamespaceConfig{ICMPErrorsUseInboundIfaddr: true}, "10.1.0.7", "10.1.0.2", 1, echo, nil, true, true, "203.0.113.5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var sysctls []string
			switch tc.sysctl {
			case "net.ipv4.icmp_echo_ignore_broadcasts":
				sysctls = []string{tc.sysctl, "0"}
			case "":
			default:
				sysctls = []string{tc.sysctl, "1"}
			}
			tp := newICMPTopo(t, sysctls...)
			// 10.1.0.7 sits behind hB, at B's address.
			require.NoError(t, tp.h.IP("neigh", "add", "10.1.0.7", "lladdr", macString(tp.macVB), "dev", "hB", "nud", "permanent"))
			if tc.prefsrc != "" {
				require.NoError(t, tp.h.IP("route", "add", "local", "203.0.113.0/24", "dev", "lo"))
				require.NoError(t, tp.h.IP("route", "add", "10.1.0.7/32", "dev", "hB", "src", tc.prefsrc))
			}
			dstMAC := tp.macH
			if tc.mac != nil {
				dstMAC = tc.mac(tp)
			}
			frame := tp.icmpFrame4(tc.src, tc.dst, tc.ttl, tc.msg, dstMAC)
			at, atDev, atNs := tp.a, "vA", "A"
			if tc.atB {
				at, atDev, atNs = tp.b, "vB", "B"
			}
			io := attachHdrCopy(t, at, atDev, unix.IPPROTO_ICMP)
			vA, err := tp.a.Ifindex("vA")
			require.NoError(t, err)
			kdrop := watchDrop(t, probe, tp.hA, func() {
				sendFrame(t, tp.a, vA, net.HardwareAddr(dstMAC[:]), frame)
				time.Sleep(50 * time.Millisecond)
			})
			var k hdrCopy
			require.NoError(t, io.Lookup(uint32(0), &k))
			t.Logf("kernel: drop %v, answer %x", kdrop, k.bytes())

			var m []byte
			cfg := tp.model(tc.ns, netstack.ProgramConfig{Name: "at", Hook: carrier.HookTCIngress, Netns: atNs, Dev: atDev,
				Prog: netstack.ProgramFunc(func(c *netstack.Ctx) int {
					if f := c.Skb.Data(); binary.BigEndian.Uint16(f[12:]) == unix.ETH_P_IP && f[14+9] == unix.IPPROTO_ICMP {
						m = append(m[:0], f[14:min(len(f), 14+optHdrLen)]...)
					}
					return -1
				})})
			cfg.Neighbours = append(cfg.Neighbours, netstack.NeighConfig{Netns: "H", Dev: "hB", Addr: netip.MustParseAddr("10.1.0.7"), MAC: tp.macVB})
			if tc.prefsrc != "" {
				cfg.Routes = append(cfg.Routes, netstack.RouteConfig{Netns: "H", Dst: netip.MustParsePrefix("203.0.113.0/24"), Dev: "lo", Type: netstack.RouteLocal},
					netstack.RouteConfig{Netns: "H", Dst: netip.MustParsePrefix("10.1.0.7/32"), Dev: "hB", Src: netip.MustParseAddr(tc.prefsrc)})
			}
			tp.rxAtH(cfg)
			obs := &devDrops{}
			var mdrop []string
			runModel(t, cfg, obs, frame, func(s *netstack.Stack) { mdrop = obs.first(s, "H", "hA") })
			require.Equal(t, kdrop, mdrop, "drop")
			require.Equal(t, tc.wantReply, len(k.bytes()) != 0, "the kernel's answer")
			require.Equal(t, hex.EncodeToString(maskAnswer(t, k.bytes())), hex.EncodeToString(maskAnswer(t, m)), "answer")
		})
	}
}

// maskAnswer is maskTimes with a timestamp reply's times, IP ID and ICMP
// checksum zeroed too.
func maskAnswer(t *testing.T, p []byte) []byte {
	p = maskTimes(t, p)
	if len(p) >= 20+20 && p[20] == 14 {
		clear(p[20+12 : 20+20])
		p[4], p[5], p[22], p[23] = 0, 0, 0, 0
	}
	return p
}

// TestKernelICMPv6EchoSysctls: echo_ignore_all and echo_ignore_multicast
// drop the request (NOT_SPECIFIED) without a reply; the kernel's and the
// model's drop on hA and echo replies at vA.
func TestKernelICMPv6EchoSysctls(t *testing.T) {
	testutil.KernelTests(t)
	probe, err := NewMetaProbe(false)
	testutil.SkipIfNotSupported(t, err)
	t.Cleanup(func() { require.NoError(t, probe.Close()) })
	require.NoError(t, probe.FilterTclass(testTclass))
	echo := icmpMsg(128, 0, make([]byte, 32), false)
	for _, tc := range []struct {
		name   string
		sysctl string
		ns     netstack.NamespaceConfig
		dst    string
		want   int // echo replies
	}{
		{"echo", "", netstack.NamespaceConfig{}, icmp6AddrH, 1},
		{"echo, echo_ignore_all", "net.ipv6.icmp.echo_ignore_all", netstack.NamespaceConfig{ICMPv6EchoIgnoreAll: true}, icmp6AddrH, 0},
		{"echo to all-nodes", "", netstack.NamespaceConfig{}, "ff02::1", 1},
		{"echo to all-nodes, echo_ignore_multicast", "net.ipv6.icmp.echo_ignore_multicast",
			netstack.NamespaceConfig{ICMPv6EchoIgnoreMulticast: true}, "ff02::1", 0},
		{"echo, echo_ignore_multicast", "net.ipv6.icmp.echo_ignore_multicast",
			netstack.NamespaceConfig{ICMPv6EchoIgnoreMulticast: true}, icmp6AddrH, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var sysctls []string
			if tc.sysctl != "" {
				sysctls = []string{tc.sysctl, "1"}
			}
			tp := newICMP6Topo(t, sysctls...)
			rcv := newSocket(t, tp.a, unix.AF_INET6, unix.SOCK_RAW, unix.IPPROTO_ICMPV6)
			require.NoError(t, unix.SetsockoptTimeval(rcv, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Usec: 200_000}))
			p := ip6Packet(tc.dst, 64, unix.IPPROTO_ICMPV6, echo, 2, false)
			kdrop := watchDrop(t, probe, tp.hA, func() { sendRaw6(t, tp.a, p) })
			kern := 0
			buf := make([]byte, 2048)
			for {
				n, _, err := unix.Recvfrom(rcv, buf, 0)
				if err != nil {
					break
				}
				if n > 0 && buf[0] == 129 {
					kern++
				}
			}
			t.Logf("kernel: drop %v, %d echo replies", kdrop, kern)
			require.Equal(t, tc.want, kern)

			model := 0
			cfg := tp.model6(tc.ns, true, netstack.ProgramConfig{Name: "rx", Hook: carrier.HookTCIngress, Netns: "A", Dev: "vA",
				Prog: netstack.ProgramFunc(func(c *netstack.Ctx) int {
					if d := c.Skb.Data()[14:]; d[6] == unix.IPPROTO_ICMPV6 && d[40] == 129 {
						model++
					}
					return -1
				})})
			obs := &devDrops{}
			var mdrop []string
			runModel(t, cfg, obs, tp.frame6(p), func(s *netstack.Stack) { mdrop = obs.first(s, "H", "hA") })
			require.Equal(t, kdrop, mdrop, "drop")
			require.Equal(t, kern, model, "echo replies")
		})
	}
}

// TestKernelUnicastInL2Multicast: drop_unicast_in_l2_multicast, in the
// kernel and the model: a unicast IPv4 datagram for H or through H, or an
// IPv6 one for H, in an L2 broadcast or multicast frame; the first drop
// on hA with the sysctl on and off (IPv4: conf/all; IPv6: hA's conf).
func TestKernelUnicastInL2Multicast(t *testing.T) {
	testutil.KernelTests(t)
	probe, err := NewMetaProbe(false)
	testutil.SkipIfNotSupported(t, err)
	t.Cleanup(func() { require.NoError(t, probe.Close()) })
	require.NoError(t, probe.FilterTclass(0))
	bcastMAC := [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	for _, tc := range []struct {
		name string
		on   bool
		v6   bool
		dst  string
		mac  [6]byte
	}{
		{"to H in a broadcast frame", false, false, icmpAddrH, bcastMAC},
		{"to H in a broadcast frame, dropped", true, false, icmpAddrH, bcastMAC},
		{"through H in a broadcast frame", false, false, "10.1.0.2", bcastMAC},
		{"through H in a broadcast frame, dropped", true, false, "10.1.0.2", bcastMAC},
		{"to the subnet broadcast", true, false, "192.0.2.255", bcastMAC},
		{"to all-hosts", true, false, "224.0.0.1", [6]byte{1, 0, 0x5e, 0, 0, 1}},
		{"IPv6 to H in a multicast frame", false, true, icmp6AddrH, [6]byte{0x33, 0x33, 0, 0, 0, 1}},
		{"IPv6 to H in a multicast frame, dropped", true, true, icmp6AddrH, [6]byte{0x33, 0x33, 0, 0, 0, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var tp *icmpTopo
			var frame []byte
			if tc.v6 {
				tp = newICMP6Topo(t)
				if tc.on {
					require.NoError(t, tp.h.Sysctl("net.ipv6.conf."+tp.hA+".drop_unicast_in_l2_multicast", "1"))
				}
				udp := make([]byte, 8+16)
				binary.BigEndian.PutUint16(udp[0:], 40000)
				binary.BigEndian.PutUint16(udp[2:], 9999)
				binary.BigEndian.PutUint16(udp[4:], uint16(len(udp)))
				frame = tp.frame6(ip6Packet(tc.dst, 64, unix.IPPROTO_UDP, udp, 6, false))
			} else {
				var sysctls []string
				if tc.on {
					sysctls = []string{"net.ipv4.conf.all.drop_unicast_in_l2_multicast", "1"}
				}
				tp = newICMPTopo(t, sysctls...)
				frame = tp.optPacket(tc.dst, nil, 16)
			}
			copy(frame[0:6], tc.mac[:])
			vA, err := tp.a.Ifindex("vA")
			require.NoError(t, err)
			kdrop := watchDrop(t, probe, tp.hA, func() { sendFrame(t, tp.a, vA, net.HardwareAddr(tc.mac[:]), frame) })
			t.Logf("kernel: %v", kdrop)

			var cfg *netstack.Config
			if tc.v6 {
				cfg = tp.model6(netstack.NamespaceConfig{IPv6DropUnicastInL2Multicast: tc.on}, true)
			} else {
				cfg = tp.model(netstack.NamespaceConfig{DropUnicastInL2Multicast: tc.on})
				tp.rxAtH(cfg)
			}
			obs := &devDrops{}
			var mdrop []string
			runModel(t, cfg, obs, frame, func(s *netstack.Stack) { mdrop = obs.first(s, "H", "hA") })
			require.Equal(t, kdrop, mdrop)
		})
	}
}
