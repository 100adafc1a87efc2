package kernel

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/internal/testutil"
	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/netstack"
	"github.com/skbsim/skbsim/skb"
)

// idDrops notes the drop reasons of one namespace by packet.
type idDrops struct {
	netstack.NopObserver
	ns      uint32
	reasons map[uint64]string
}

func (r *idDrops) Drop(e netstack.DropEvent) {
	if e.Netns == r.ns {
		r.reasons[e.PacketID] = e.Reason.String()
	}
}

// igmpMsg is an IGMP message of type typ and code for group, with
// sources (v3 queries: the query's QRV/QQIC bytes, then the count of
// srcs sources of which only have are present), its checksum computed
// unless bad.
func igmpMsg(typ, code uint8, group string, v3 bool, srcs, have int, bad bool) []byte {
	m := make([]byte, 8)
	m[0], m[1] = typ, code
	copy(m[4:8], netip.MustParseAddr(group).AsSlice())
	if v3 {
		m = append(m, 2, 125, 0, 0)
		binary.BigEndian.PutUint16(m[10:], uint16(srcs))
		for i := range have {
			m = append(m, 10, 0, 0, byte(i+1))
		}
	}
	binary.BigEndian.PutUint16(m[2:], inetCsum(m))
	if bad {
		m[2] ^= 0x55
	}
	return m
}

// TestKernelIGMPRcv: what igmp_rcv does with a sequence of IGMP messages
// A sends to H (which joined 239.1.2.3 on hA), in order, since a v1 or
// v2 query changes how H reads later v3 queries: freed (the kfree_skb
// tracepoint on hA) or consumed, in the kernel and in the model.
func TestKernelIGMPRcv(t *testing.T) {
	testutil.KernelTests(t)
	probe, err := NewMetaProbe(false)
	testutil.SkipIfNotSupported(t, err)
	t.Cleanup(func() { require.NoError(t, probe.Close()) })
	tp := newICMPTopo(t)
	hA, err := tp.h.Ifindex(tp.hA)
	require.NoError(t, err)
	vA, err := tp.a.Ifindex("vA")
	require.NoError(t, err)
	member := newSocket(t, tp.h, unix.AF_INET, unix.SOCK_DGRAM, 0)
	require.NoError(t, unix.SetsockoptIPMreqn(member, unix.IPPROTO_IP, unix.IP_ADD_MEMBERSHIP,
		&unix.IPMreqn{Multiaddr: [4]byte{239, 1, 2, 3}, Ifindex: int32(hA)}))
	snd := newSocket(t, tp.a, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_IGMP)
	require.NoError(t, unix.SetsockoptIPMreqn(snd, unix.IPPROTO_IP, unix.IP_MULTICAST_IF, &unix.IPMreqn{Ifindex: int32(vA)}))
	const all = "224.0.0.1"
	cases := []struct {
		name string
		dst  string
		msg  []byte
	}{
		{"v3 general query", all, igmpMsg(0x11, 100, "0.0.0.0", true, 0, 0, false)},
		{"v3 general query with a source", all, igmpMsg(0x11, 100, "0.0.0.0", true, 1, 1, false)},
		{"v3 group query, 2 sources of which 1 there", all, igmpMsg(0x11, 100, "239.1.2.3", true, 2, 1, false)},
		{"v3 group query with a source", all, igmpMsg(0x11, 100, "239.1.2.3", true, 1, 1, false)},
		{"10-byte query", all, append(igmpMsg(0x11, 100, "0.0.0.0", false, 0, 0, false), 0, 0)},
		{"v2 report to the group", "239.1.2.3", igmpMsg(0x16, 0, "239.1.2.3", false, 0, 0, false)},
		{"v2 report to all hosts", all, igmpMsg(0x16, 0, all, false, 0, 0, false)},
		{"v2 report unicast", icmpAddrH, igmpMsg(0x16, 0, "239.1.2.3", false, 0, 0, false)},
		{"v1 report to the group", "239.1.2.3", igmpMsg(0x12, 0, "239.1.2.3", false, 0, 0, false)},
		{"v3 report", all, igmpMsg(0x22, 0, "0.0.0.0", false, 0, 0, false)},
		{"leave", all, igmpMsg(0x17, 0, "239.1.2.3", false, 0, 0, false)},
		{"bad checksum", all, igmpMsg(0x11, 100, "0.0.0.0", true, 0, 0, true)},
		{"4 bytes", all, igmpMsg(0x11, 100, "0.0.0.0", false, 0, 0, false)[:4]},
		{"v2 query", all, igmpMsg(0x11, 100, "0.0.0.0", false, 0, 0, false)},
		{"v3 general query with a source after a v2 query", all, igmpMsg(0x11, 100, "0.0.0.0", true, 1, 1, false)},
		{"v1 query", all, igmpMsg(0x11, 0, "0.0.0.0", false, 0, 0, false)},
	}
	kern := map[uint64]string{}
	for i, tc := range cases {
		dst := netip.MustParseAddr(tc.dst).As4()
		if r := watchDrop(t, probe, tp.hA, func() {
			require.NoError(t, unix.Sendto(snd, tc.msg, 0, &unix.SockaddrInet4{Addr: dst}))
		}); r != nil {
			kern[uint64(i+1)] = r[0]
		}
		t.Logf("%s: kernel %q", tc.name, kern[uint64(i+1)])
	}

	cfg := tp.model(netstack.NamespaceConfig{})
	cfg.Sockets = append(cfg.Sockets, netstack.SocketConfig{Name: "member", Netns: "H", Proto: netstack.ProtoUDP, Port: 5000,
		Join: []netstack.GroupJoin{{Group: netip.MustParseAddr("239.1.2.3"), Dev: "hA"}}})
	tp.rxAtH(cfg)
	obs := &idDrops{ns: 3, reasons: map[uint64]string{}}
	a := skb.NewAllocator(kmem.New(), skb.DefaultProfile())
	s, err := netstack.New(cfg, netstack.Env{Alloc: a, Observer: obs})
	require.NoError(t, err)
	for i, tc := range cases {
		d := netip.MustParseAddr(tc.dst).As4()
		pkt := make([]byte, 20, 20+len(tc.msg))
		pkt[0], pkt[8], pkt[9] = 0x45, 1, unix.IPPROTO_IGMP
		binary.BigEndian.PutUint16(pkt[2:], uint16(20+len(tc.msg)))
		copy(pkt[12:16], netip.MustParseAddr(icmpAddrA).AsSlice())
		copy(pkt[16:20], d[:])
		binary.BigEndian.PutUint16(pkt[10:], inetCsum(pkt))
		f := ethIPv4(append(pkt, tc.msg...))
		copy(f[0:6], tp.macH[:])
		if d[0]&0xf0 == 0xe0 {
			copy(f[0:6], []byte{1, 0, 0x5e, d[1] & 0x7f, d[2], d[3]})
		}
		copy(f[6:12], tp.macA[:])
		require.NoError(t, s.Inject(&netstack.Packet{ID: uint64(i + 1), Tstamp: 1e15 + int64(i)*20e6, Frame: f}))
	}
	s.Flush()
	require.NoError(t, s.Close())
	require.NoError(t, a.CheckLeaks())
	require.Equal(t, kern, obs.reasons, "model")
}

// TestKernelUnknownProtocol: ten packets of IP protocol 253, which H has
// no handler for, get as many ICMP protocol unreachables (ICMPv6
// parameter problems, unknown next header, pointing at the header's next
// header field) as the per-peer limit allows, in 6.18 and in the model.
func TestKernelUnknownProtocol(t *testing.T) {
	testutil.KernelTests(t)
	for _, v6 := range []bool{false, true} {
		t.Run(map[bool]string{false: "IPv4", true: "IPv6"}[v6], func(t *testing.T) {
			const n = 10
			payload := make([]byte, 24)
			var tp *icmpTopo
			var pkt, frame []byte
			var rcv int
			if v6 {
				tp = newICMP6Topo(t)
				rcv = newSocket(t, tp.a, unix.AF_INET6, unix.SOCK_RAW, unix.IPPROTO_ICMPV6)
				pkt = ip6Packet(icmp6AddrH, 64, 253, payload, -1, false)
				frame = tp.frame6(pkt)
				for range n {
					sendRaw6(t, tp.a, pkt)
				}
			} else {
				tp = newICMPTopo(t)
				rcv = newSocket(t, tp.a, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP)
				snd := newSocket(t, tp.a, unix.AF_INET, unix.SOCK_RAW, 253)
				for range n {
					require.NoError(t, unix.Sendto(snd, payload, 0, &unix.SockaddrInet4{Addr: netip.MustParseAddr(icmpAddrH).As4()}))
				}
				pkt = make([]byte, 20, 20+len(payload))
				pkt[0], pkt[8], pkt[9] = 0x45, 64, 253
				binary.BigEndian.PutUint16(pkt[2:], uint16(20+len(payload)))
				copy(pkt[12:16], netip.MustParseAddr(icmpAddrA).AsSlice())
				copy(pkt[16:20], netip.MustParseAddr(icmpAddrH).AsSlice())
				binary.BigEndian.PutUint16(pkt[10:], inetCsum(pkt))
				frame = ethIPv4(append(pkt, payload...))
				copy(frame[0:6], tp.macH[:])
				copy(frame[6:12], tp.macA[:])
			}
			require.NoError(t, unix.SetsockoptTimeval(rcv, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Usec: 300_000}))
			type got struct {
				typ, code uint8
				info      uint32
			}
			var kern []got
			buf := make([]byte, 2048)
			for {
				k, _, err := unix.Recvfrom(rcv, buf, 0)
				if err != nil {
					break
				}
				m := buf[:k]
				if !v6 {
					m = m[int(m[0]&0xf)*4:]
				} else if m[0] >= 128 {
					continue // neighbour discovery, MLD
				}
				kern = append(kern, got{m[0], m[1], binary.BigEndian.Uint32(m[4:8])})
			}
			t.Logf("kernel: %d: %v", len(kern), kern)

			var model []got
			prog := netstack.ProgramConfig{Name: "rx", Hook: carrier.HookTCIngress, Netns: "A", Dev: "vA",
				Prog: netstack.ProgramFunc(func(c *netstack.Ctx) int {
					d := c.Skb.Data()[14:]
					switch {
					case !v6 && d[9] == unix.IPPROTO_ICMP:
						model = append(model, got{d[20], d[21], binary.BigEndian.Uint32(d[24:28])})
					case v6 && d[6] == unix.IPPROTO_ICMPV6 && d[40] < 128:
						model = append(model, got{d[40], d[41], binary.BigEndian.Uint32(d[44:48])})
					}
					return -1
				})}
			var cfg *netstack.Config
			if v6 {
				cfg = tp.model6(netstack.NamespaceConfig{}, true, prog)
			} else {
				cfg = tp.model(netstack.NamespaceConfig{}, prog)
				tp.rxAtH(cfg)
			}
			a := skb.NewAllocator(kmem.New(), skb.DefaultProfile())
			s, err := netstack.New(cfg, netstack.Env{Alloc: a, Observer: netstack.NopObserver{}})
			require.NoError(t, err)
			for i := range n {
				require.NoError(t, s.Inject(&netstack.Packet{ID: uint64(i + 1), Tstamp: 1e15, Frame: frame}))
			}
			s.Flush()
			require.NoError(t, s.Close())
			require.NoError(t, a.CheckLeaks())
			require.Equal(t, kern, model, "model")
		})
	}
}
