package kernel

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/internal/testutil"
	"github.com/skbsim/skbsim/netstack"
)

// TestKernelRouteMTU: H forwards a 1378-byte datagram from A to B through
// a route with mtu 1300 (hB's MTU is 1400): fragmented to the route's MTU
// (the last fragment at vB tells the first's size by its offset), or,
// with DF, a fragmentation needed naming 1300; IPv6 gets a packet too
// big naming 1300. A locked mtu 0 through a gateway (`mtu lock 0`)
// makes 576 of hB's 1400. The kernel's and the model's packets at vB and
// answers at vA agree.
func TestKernelRouteMTU(t *testing.T) {
	testutil.KernelTests(t)
	for _, tc := range []struct {
		name string
		df   bool
		mtu  int  // the route's mtu metric (0: none)
		lock bool // mtu lock
		gw   bool // 10.9.0.0/24 via 10.1.0.2, not 10.1.0.2/32 on link
	}{
		{"no route mtu", false, 0, false, false},
		{"route mtu 1300", false, 1300, false, false},
		{"route mtu 1300, DF", true, 1300, false, false},
		{"no route mtu, DF", true, 0, false, false},
		{"locked route mtu 1300, DF", true, 1300, true, false},
		{"locked route mtu 0, through a gateway", false, 0, true, true},
		{"locked route mtu 0, through a gateway, DF", true, 0, true, true},
		{"locked route mtu 0, on link, DF", true, 0, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tp := newICMPTopo(t)
			rc := netstack.RouteConfig{Netns: "H", Dst: netip.MustParsePrefix("10.1.0.2/32"), Dev: "hB", MTU: tc.mtu, MTULock: tc.lock}
			args := []string{"route", "add", "10.1.0.2/32", "dev", "hB"}
			dst := "10.1.0.2"
			if tc.gw {
				rc.Dst, rc.Via = netip.MustParsePrefix("10.9.0.0/24"), netip.MustParseAddr("10.1.0.2")
				args, dst = []string{"route", "add", "10.9.0.0/24", "via", "10.1.0.2", "dev", "hB"}, "10.9.0.5"
			}
			if tc.lock {
				args = append(args, "mtu", "lock", fmt.Sprint(tc.mtu))
			} else if tc.mtu != 0 {
				args = append(args, "mtu", fmt.Sprint(tc.mtu))
			}
			require.NoError(t, tp.h.IP(args...))
			atB := attachHdrCopy(t, tp.b, "vB", unix.IPPROTO_UDP)
			atA := attachHdrCopy(t, tp.a, "vA", unix.IPPROTO_ICMP)
			frame := tp.optPacket(dst, nil, 1350)
			if tc.df {
				frame[14+6] |= 0x40
				binary.BigEndian.PutUint16(frame[14+10:], 0)
				binary.BigEndian.PutUint16(frame[14+10:], inetCsum(frame[14:14+20]))
			}
			vA, err := tp.a.Ifindex("vA")
			require.NoError(t, err)
			sendFrame(t, tp.a, vA, net.HardwareAddr(tp.macH[:]), frame)
			time.Sleep(50 * time.Millisecond)
			var ka, kb hdrCopy
			require.NoError(t, atA.Lookup(uint32(0), &ka))
			require.NoError(t, atB.Lookup(uint32(0), &kb))
			t.Logf("kernel: at vA %x, at vB %x", ka.bytes(), kb.bytes())

			var ma, mb []byte
			record := func(to *[]byte, proto uint8) netstack.ProgramFunc {
				return func(c *netstack.Ctx) int {
					if f := c.Skb.Data(); binary.BigEndian.Uint16(f[12:]) == unix.ETH_P_IP && f[14+9] == proto {
						*to = append((*to)[:0], f[14:min(len(f), 14+optHdrLen)]...)
					}
					return -1
				}
			}
			cfg := tp.model(netstack.NamespaceConfig{},
				netstack.ProgramConfig{Name: "atA", Hook: carrier.HookTCIngress, Netns: "A", Dev: "vA", Prog: record(&ma, unix.IPPROTO_ICMP)},
				netstack.ProgramConfig{Name: "atB", Hook: carrier.HookTCIngress, Netns: "B", Dev: "vB", Prog: record(&mb, unix.IPPROTO_UDP)})
			cfg.Routes = append(cfg.Routes, rc)
			tp.rxAtH(cfg)
			runModel(t, cfg, &devDrops{}, frame, nil)
			require.Equal(t, hex.EncodeToString(maskTimes(t, ka.bytes())), hex.EncodeToString(maskTimes(t, ma)), "ICMP at vA")
			require.Equal(t, hex.EncodeToString(maskTimes(t, kb.bytes())), hex.EncodeToString(maskTimes(t, mb)), "datagram at vB")
		})
	}
	for _, lock := range []bool{false, true} {
		t.Run(fmt.Sprintf("IPv6 route mtu 1300, locked %v", lock), func(t *testing.T) {
			tp := newICMP6Topo(t)
			args := []string{"-6", "route", "add", icmp6AddrB + "/128", "dev", "hB", "mtu", "1300"}
			if lock {
				args = slices.Insert(args, len(args)-1, "lock")
			}
			require.NoError(t, tp.h.IP(args...))
			rcv := newSocket(t, tp.a, unix.AF_INET6, unix.SOCK_RAW, unix.IPPROTO_ICMPV6)
			require.NoError(t, unix.SetsockoptTimeval(rcv, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Usec: 200_000}))
			udp := make([]byte, 8+1350)
			binary.BigEndian.PutUint16(udp[0:], 40000)
			binary.BigEndian.PutUint16(udp[2:], 9999)
			binary.BigEndian.PutUint16(udp[4:], uint16(len(udp)))
			p := ip6Packet(icmp6AddrB, 64, unix.IPPROTO_UDP, udp, 6, false)
			sendRaw6(t, tp.a, p)
			var kern []string
			buf := make([]byte, 2048)
			for {
				n, _, err := unix.Recvfrom(rcv, buf, 0)
				if err != nil {
					break
				}
				if buf[0] == 2 && n >= 16 {
					kern = append(kern, hex.EncodeToString(buf[:16]))
				}
			}
			t.Logf("kernel: %v", kern)
			var model []string
			cfg := tp.model6(netstack.NamespaceConfig{}, true, netstack.ProgramConfig{Name: "rx", Hook: carrier.HookTCIngress, Netns: "A", Dev: "vA",
				Prog: netstack.ProgramFunc(func(c *netstack.Ctx) int {
					if d := c.Skb.Data()[14:]; d[6] == unix.IPPROTO_ICMPV6 && d[40] == 2 {
						model = append(model, hex.EncodeToString(d[40:56]))
					}
					return -1
				})})
			cfg.Routes = append(cfg.Routes, netstack.RouteConfig{Netns: "H", Dst: netip.MustParsePrefix(icmp6AddrB + "/128"), Dev: "hB", MTU: 1300, MTULock: lock})
			runModel(t, cfg, &devDrops{}, tp.frame6(p), nil)
			require.Len(t, kern, 1)
			// Type, code, MTU and the quoted header's first 8 bytes, its hop
			// limit the forwarded one (63): ip6_forward checks the device's
			// MTU, ip6_fragment the route's, after the decrement; when
			// locked, ip6_forward checks the route's, before it (64). The
			// checksum covers the addresses, which differ.
			require.Len(t, model, 1)
			require.Equal(t, kern[0][:4]+kern[0][8:], model[0][:4]+model[0][8:])
		})
	}
}

// TestKernelIPv6Gateway: H forwards A's datagram to 10.9.0.0/24 through
// an IPv6 gateway on hB (`via inet6`, RFC 5549): the frame reaches vB with
// the gateway's link-layer address from the ND table, in the kernel and
// the model.
func TestKernelIPv6Gateway(t *testing.T) {
	testutil.KernelTests(t)
	tp := newICMPTopo(t)
	require.NoError(t, tp.h.Do(func() error { return writeSysctl("net/ipv6/conf/hB/disable_ipv6", "0") }))
	require.NoError(t, tp.h.IP("-6", "addr", "add", "fd00:2::1/64", "dev", "hB", "nodad"))
	require.NoError(t, tp.h.IP("-6", "neigh", "add", "fd00:2::2", "lladdr", macString(tp.macVB), "dev", "hB", "nud", "permanent"))
	require.NoError(t, tp.h.IP("route", "add", "10.9.0.0/24", "via", "inet6", "fd00:2::2", "dev", "hB"))
	atB := attachHdrCopy(t, tp.b, "vB", unix.IPPROTO_UDP)
	frame := tp.optPacket("10.9.0.5", nil, 16)
	vA, err := tp.a.Ifindex("vA")
	require.NoError(t, err)
	sendFrame(t, tp.a, vA, net.HardwareAddr(tp.macH[:]), frame)
	time.Sleep(50 * time.Millisecond)
	var kb hdrCopy
	require.NoError(t, atB.Lookup(uint32(0), &kb))
	t.Logf("kernel: at vB %x", kb.bytes())
	require.NotEmpty(t, kb.bytes(), "the kernel forwards through the IPv6 gateway")

	var mb []byte
	cfg := tp.model(netstack.NamespaceConfig{}, netstack.ProgramConfig{Name: "atB", Hook: carrier.HookTCIngress, Netns: "B", Dev: "vB",
		Prog: netstack.ProgramFunc(func(c *netstack.Ctx) int {
			if f := c.Skb.Data(); binary.BigEndian.Uint16(f[12:]) == unix.ETH_P_IP && f[14+9] == unix.IPPROTO_UDP && [6]byte(f[0:6]) == tp.macVB {
				mb = append(mb[:0], f[14:min(len(f), 14+optHdrLen)]...)
			}
			return -1
		})})
	cfg.Devices[1].Addrs = append(cfg.Devices[1].Addrs, netip.MustParsePrefix("fd00:2::1/64"))
	cfg.Neighbours = append(cfg.Neighbours, netstack.NeighConfig{Netns: "H", Dev: "hB", Addr: netip.MustParseAddr("fd00:2::2"), MAC: tp.macVB})
	cfg.Routes = append(cfg.Routes, netstack.RouteConfig{Netns: "H", Dst: netip.MustParsePrefix("10.9.0.0/24"), Dev: "hB",
		Via: netip.MustParseAddr("fd00:2::2")})
	tp.rxAtH(cfg)
	runModel(t, cfg, &devDrops{}, frame, nil)
	require.Equal(t, hex.EncodeToString(maskTimes(t, kb.bytes())), hex.EncodeToString(maskTimes(t, mb)), "datagram at vB")
}

// TestKernelRouteMTULocal: H's own UDP socket sends a 1200-byte datagram
// to B through a route with mtu 1000 (hB's MTU is 1400, and 1400 without
// the metric): __ip_append_data builds it to the route's MTU
// (ip_skb_dst_mtu), so the last fragment at vB has the length and offset
// of a 1000-byte first one, in the kernel and in the model.
func TestKernelRouteMTULocal(t *testing.T) {
	testutil.KernelTests(t)
	for _, mtu := range []int{0, 1000} {
		t.Run(fmt.Sprintf("route mtu %d", mtu), func(t *testing.T) {
			tp := newICMPTopo(t)
			args := []string{"route", "add", "10.1.0.2/32", "dev", "hB"}
			if mtu != 0 {
				args = append(args, "mtu", fmt.Sprint(mtu))
			}
			require.NoError(t, tp.h.IP(args...))
			atB := attachHdrCopy(t, tp.b, "vB", unix.IPPROTO_UDP)
			fd := newSocket(t, tp.h, unix.AF_INET, unix.SOCK_DGRAM, 0)
			require.NoError(t, unix.Bind(fd, &unix.SockaddrInet4{Port: 40000, Addr: [4]byte{10, 1, 0, 1}}))
			require.NoError(t, unix.Sendto(fd, make([]byte, 1200), 0, &unix.SockaddrInet4{Port: 9999, Addr: [4]byte{10, 1, 0, 2}}))
			time.Sleep(50 * time.Millisecond)
			var kb hdrCopy
			require.NoError(t, atB.Lookup(uint32(0), &kb))
			t.Logf("kernel: at vB %x", kb.bytes())

			var mb []byte
			cfg := tp.model(netstack.NamespaceConfig{}, netstack.ProgramConfig{Name: "atB", Hook: carrier.HookTCIngress, Netns: "B", Dev: "vB",
				Prog: netstack.ProgramFunc(func(c *netstack.Ctx) int {
					if f := c.Skb.Data(); binary.BigEndian.Uint16(f[12:]) == unix.ETH_P_IP && f[14+9] == unix.IPPROTO_UDP {
						mb = append(mb[:0], f[14:min(len(f), 14+optHdrLen)]...)
					}
					return -1
				})})
			cfg.Routes = append(cfg.Routes, netstack.RouteConfig{Netns: "H", Dst: netip.MustParsePrefix("10.1.0.2/32"), Dev: "hB", MTU: mtu})
			cfg.Sockets = append(cfg.Sockets, netstack.SocketConfig{Name: "htx", Netns: "H", Proto: netstack.ProtoUDP,
				Addr: netip.MustParseAddr("10.1.0.1"), Port: 40000})
			cfg.Entries = []netstack.EntryConfig{{Kind: netstack.EntryTX, Netns: "H", Socket: "htx"}}
			pkt := udp4Packet([4]byte{10, 1, 0, 1}, [4]byte{10, 1, 0, 2}, 40000, 9999, 1200)
			runModel(t, cfg, &devDrops{}, pkt, nil)
			require.GreaterOrEqual(t, len(kb.bytes()), 8)
			require.GreaterOrEqual(t, len(mb), 8)
			// The total length, MF and the offset: the identification and
			// DF (IP_PMTUDISC_WANT sets it on a datagram within the MTU)
			// are the kernel's own; the model's socket sends the header it
			// is given.
			require.Equal(t, hex.EncodeToString(kb.bytes()[2:4]), hex.EncodeToString(mb[2:4]), "total length")
			frag := func(p []byte) uint16 { return binary.BigEndian.Uint16(p[6:8]) & 0x3fff }
			require.Equal(t, frag(kb.bytes()), frag(mb), "MF and offset")
		})
	}
}
