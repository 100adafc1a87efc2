package kernel

import (
	"encoding/binary"
	"encoding/hex"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/internal/testutil"
	"github.com/skbsim/skbsim/netstack"
)

// The IPv6 next hops H knows on A's link: a link-local gateway for
// 2001:db8:9::/64, a global one for 2001:db8:8::/64, and a host.
const (
	rd6LLGateway = "fe80::2"
	rd6Gateway   = "2001:db8:1::2"
	rd6Host      = "2001:db8:1::7"
)

// setLinkLocal replaces the link-local addresses the kernel gave dev in n
// (tentative while duplicate address detection runs: ndisc_send_redirect
// cannot send from one, nor does a host answer for one) with ll, without
// detection.
func setLinkLocal(t *testing.T, n *Netns, dev string, ll netip.Addr) {
	t.Helper()
	var addrs []net.Addr
	require.NoError(t, n.Do(func() error {
		i, err := net.InterfaceByName(dev)
		if err != nil {
			return err
		}
		addrs, err = i.Addrs()
		return err
	}))
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil && p.Addr().IsLinkLocalUnicast() {
			require.NoError(t, n.IP("-6", "addr", "del", p.String(), "dev", dev))
		}
	}
	require.NoError(t, n.IP("-6", "addr", "add", ll.String()+"/64", "dev", dev, "nodad"))
}

// udp6Frame is a UDP datagram src:40000 -> dst:9999 with 16 bytes of
// payload (checksum computed), hop limit 64 and traffic class testTclass,
// in an Ethernet frame from vA to H.
func (tp *icmpTopo) udp6Frame(src, dst netip.Addr) []byte {
	return tp.udp6FrameN(src, dst, 16)
}

// udp6FrameN is udp6Frame with n bytes of payload.
func (tp *icmpTopo) udp6FrameN(src, dst netip.Addr, n int) []byte {
	udp := make([]byte, 8+n)
	binary.BigEndian.PutUint16(udp[0:], 40000)
	binary.BigEndian.PutUint16(udp[2:], 9999)
	binary.BigEndian.PutUint16(udp[4:], uint16(len(udp)))
	p := make([]byte, 40+len(udp))
	binary.BigEndian.PutUint32(p[0:], 6<<28|uint32(testTclass)<<20)
	binary.BigEndian.PutUint16(p[4:], uint16(len(udp)))
	p[6], p[7] = unix.IPPROTO_UDP, 64
	copy(p[8:24], src.AsSlice())
	copy(p[24:40], dst.AsSlice())
	copy(p[40:], udp)
	ps := make([]byte, 40, 40+len(udp))
	copy(ps[0:32], p[8:40])
	binary.BigEndian.PutUint32(ps[32:], uint32(len(udp)))
	ps[39] = unix.IPPROTO_UDP
	binary.BigEndian.PutUint16(p[40+6:], inetCsum(append(ps, udp...)))
	f := make([]byte, 14, 14+len(p))
	copy(f[0:6], tp.macH[:])
	copy(f[6:12], tp.macA[:])
	binary.BigEndian.PutUint16(f[12:], unix.ETH_P_IPV6)
	return append(f, p...)
}

// TestKernelIPv6ForwardRedirect: what ip6_forward does with datagrams A
// sends through H, in the kernel (the first drop on hA, the ICMPv6
// destination unreachable and redirect messages A's raw socket reads) and
// in the model (a tc ingress program on vA): redirects (ndisc_send_redirect)
// for packets that leave by hA again, with the target's link-layer address
// when its neighbour entry is valid, within the per-destination and
// per-source limits that also spend the tokens of ICMPv6 errors to the
// source; none through a global gateway or without a link-local address;
// and the source checks for packets that leave by another device (an
// unspecified source dropped, a link-local one with a beyond-scope error).
func TestKernelIPv6ForwardRedirect(t *testing.T) {
	testutil.KernelTests(t)
	probe, err := NewMetaProbe(false)
	testutil.SkipIfNotSupported(t, err)
	t.Cleanup(func() { require.NoError(t, probe.Close()) })
	require.NoError(t, probe.FilterTclass(testTclass)) // not the links' MLD and ND traffic
	for _, tc := range []struct {
		name     string
		llSrc    bool    // from A's link-local address
		zeroSrc  bool    // from ::
		dst      string  // n datagrams to this address
		n        int     // 1 when 0
		then     string  // then one datagram to this address
		noLL     bool    // hA's link-local address removed
		msgsOnly bool    // the forwarded packet waits for a neighbour in the kernel
		want     []uint8 // the message types A gets, checked against the kernel's too
	}{
		{name: "through a link-local gateway", dst: "2001:db8:9::5", want: []uint8{137}},
		{name: "to a host on the link", dst: rd6Host, want: []uint8{137}},
		{name: "to a host on the link without a neighbour entry", dst: "2001:db8:1::8", msgsOnly: true, want: []uint8{137}},
		{name: "through a global gateway", dst: "2001:db8:8::5"},
		{name: "a burst", dst: "2001:db8:9::5", n: 10, want: []uint8{137, 137, 137, 137, 137, 137}},
		{name: "a port unreachable after a burst of redirects", dst: "2001:db8:9::5", n: 6, then: icmp6AddrH,
			want: []uint8{137, 137, 137, 137, 137, 137}},
		{name: "a port unreachable alone", dst: icmp6AddrH, want: []uint8{1}},
		{name: "no link-local address", dst: "2001:db8:9::5", noLL: true},
		{name: "link-local source, back out of hA", llSrc: true, dst: "2001:db8:9::5", want: []uint8{137}},
		{name: "link-local source, out of hB", llSrc: true, dst: icmp6AddrB, want: []uint8{1}},
		{name: "unspecified source, out of hB", zeroSrc: true, dst: icmp6AddrB},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tp := newICMP6Topo(t)
			h := tp.h
			llH, llA := netip.MustParseAddr("fe80::fe"), netip.MustParseAddr("fe80::1")
			setLinkLocal(t, h, tp.hA, llH)
			setLinkLocal(t, tp.a, "vA", llA)
			require.NoError(t, h.IP("-6", "neigh", "add", rd6LLGateway, "lladdr", macString(rtNeighMAC), "dev", tp.hA, "nud", "permanent"))
			require.NoError(t, h.IP("-6", "neigh", "add", rd6Gateway, "lladdr", macString(rtNeighMAC), "dev", tp.hA, "nud", "permanent"))
			require.NoError(t, h.IP("-6", "neigh", "add", rd6Host, "lladdr", macString(rtNeighMAC), "dev", tp.hA, "nud", "permanent"))
			require.NoError(t, h.IP("-6", "route", "add", "2001:db8:9::/64", "via", rd6LLGateway, "dev", tp.hA))
			require.NoError(t, h.IP("-6", "route", "add", "2001:db8:8::/64", "via", rd6Gateway, "dev", tp.hA))
			if tc.noLL {
				require.NoError(t, h.IP("-6", "addr", "del", llH.String()+"/64", "dev", tp.hA))
			}
			rcv := newSocket(t, tp.a, unix.AF_INET6, unix.SOCK_RAW, unix.IPPROTO_ICMPV6)
			require.NoError(t, unix.SetsockoptTimeval(rcv, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Usec: 300_000}))
			src := netip.MustParseAddr(icmp6AddrA)
			switch {
			case tc.llSrc:
				src = llA
			case tc.zeroSrc:
				src = netip.IPv6Unspecified()
			}
			var frames [][]byte
			for range max(tc.n, 1) {
				frames = append(frames, tp.udp6Frame(src, netip.MustParseAddr(tc.dst)))
			}
			if tc.then != "" {
				frames = append(frames, tp.udp6Frame(src, netip.MustParseAddr(tc.then)))
			}
			vA, err := tp.a.Ifindex("vA")
			require.NoError(t, err)
			tx := newSocket(t, tp.a, unix.AF_PACKET, unix.SOCK_RAW, 0)
			sa := &unix.SockaddrLinklayer{Ifindex: vA, Halen: 6}
			copy(sa.Addr[:], tp.macH[:])
			var kern []string
			kdrop := watchDrop(t, probe, tp.hA, func() {
				for _, f := range frames {
					require.NoError(t, unix.Sendto(tx, f, 0, sa))
				}
				buf := make([]byte, 2048)
				for {
					k, from, err := unix.Recvfrom(rcv, buf, 0)
					if err != nil {
						break
					}
					if buf[0] == 1 || buf[0] == 137 {
						kern = append(kern, netip.AddrFrom16(from.(*unix.SockaddrInet6).Addr).String()+" "+hex.EncodeToString(buf[:k]))
					}
				}
			})
			t.Logf("kernel: drop %v, %d messages:\n%s", kdrop, len(kern), strings.Join(kern, "\n"))

			var model []string
			var types []uint8
			cfg := tp.model6(netstack.NamespaceConfig{}, true, netstack.ProgramConfig{Name: "rx", Hook: carrier.HookTCIngress, Netns: "A", Dev: "vA",
				Prog: netstack.ProgramFunc(func(c *netstack.Ctx) int {
					f := c.Skb.Data()
					if [6]byte(f[0:6]) != tp.macA || binary.BigEndian.Uint16(f[12:]) != unix.ETH_P_IPV6 || f[14+6] != unix.IPPROTO_ICMPV6 {
						return -1
					}
					if m := f[14+40 : c.Skb.Len()]; m[0] == 1 || m[0] == 137 {
						model = append(model, netip.AddrFrom16([16]byte(f[14+8:14+24])).String()+" "+hex.EncodeToString(m))
						types = append(types, m[0])
					}
					return -1
				})})
			v := &cfg.Devices[0] // hA, after rxAtH; its peer vA
			if !tc.noLL {
				v.Addrs = append(v.Addrs, netip.PrefixFrom(llH, 64))
			}
			v.PeerAddrs = append(v.PeerAddrs, netip.PrefixFrom(llA, 64))
			for _, a := range []string{rd6LLGateway, rd6Gateway, rd6Host} {
				cfg.Neighbours = append(cfg.Neighbours, netstack.NeighConfig{Netns: "H", Dev: "hA", Addr: netip.MustParseAddr(a), MAC: rtNeighMAC})
			}
			cfg.Routes = append(cfg.Routes,
				netstack.RouteConfig{Netns: "H", Dst: netip.MustParsePrefix("2001:db8:9::/64"), Dev: "hA", Via: netip.MustParseAddr(rd6LLGateway)},
				netstack.RouteConfig{Netns: "H", Dst: netip.MustParsePrefix("2001:db8:8::/64"), Dev: "hA", Via: netip.MustParseAddr(rd6Gateway)})
			obs := &devDrops{}
			var mdrop []string
			runModelFrames(t, cfg, obs, frames, 0, func(s *netstack.Stack) { mdrop = obs.first(s, "H", "hA") })
			require.Equal(t, tc.want, types, "the model's messages:\n%s", strings.Join(model, "\n"))
			require.Equal(t, kern, model, "model")
			if !tc.msgsOnly {
				require.Equal(t, kdrop, mdrop, "model's drop")
			}
		})
	}
}
