package kernel

import (
	"bufio"
	"encoding/binary"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/skbsim/skbsim/internal/testutil"
	"github.com/skbsim/skbsim/netstack"
)

// TestKernelVXLAN6OuterChecksum: a UDP datagram sent through a vxlan
// device over an IPv6 underlay (veth vA to vB). By default
// (udp6zerocsumtx off) the outer UDP header has a checksum: udp6_set_csum
// computes it by local checksum offload over the inner datagram's partial
// checksum, so on vB it is right once the inner one is completed, and a
// packet socket reads TP_STATUS_CSUMNOTREADY. With udp6zerocsumtx the
// outer checksum is 0, and B's vxlan socket drops the packet
// (__udp6_lib_rcv: Udp6InCsumErrors + 1) unless B has udp6zerocsumrx.
// The model agrees in delivery, in the outer checksum being 0 or right,
// and in tp_status.
func TestKernelVXLAN6OuterChecksum(t *testing.T) {
	testutil.KernelTests(t)
	for _, tc := range []struct {
		name         string
		zeroTx       bool // udp6zerocsumtx on A's vxlan
		zeroRx       bool // udp6zerocsumrx on B's vxlan
		recv         int
		csumErrDelta uint64
	}{
		{"checksum", false, false, 1, 0},
		{"zero checksum dropped", true, false, 0, 1},
		{"zero checksum accepted", true, true, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := newNetns(t, "v6cA"), newNetns(t, "v6cB")
			require.NoError(t, a.IP("link", "add", "vA", "type", "veth", "peer", "name", "vB", "netns", b.Name))
			for _, x := range []struct {
				n                *Netns
				dev, vx, me, you string
				zero             string
				inner            string
			}{
				{a, "vA", "vxA", "2001:db8::1", "2001:db8::2", map[bool]string{true: "udp6zerocsumtx"}[tc.zeroTx], "10.9.0.1/24"},
				{b, "vB", "vxB", "2001:db8::2", "2001:db8::1", map[bool]string{true: "udp6zerocsumrx"}[tc.zeroRx], "10.9.0.2/24"},
			} {
				require.NoError(t, x.n.Do(func() error { return writeSysctl("net/ipv6/conf/"+x.dev+"/disable_ipv6", "0") }))
				require.NoError(t, x.n.IP("addr", "add", x.me+"/64", "dev", x.dev, "nodad"))
				require.NoError(t, x.n.IP("link", "set", x.dev, "up"))
				args := []string{"link", "add", x.vx, "type", "vxlan", "id", "42", "dstport", "4789", "local", x.me, "remote", x.you, "dev", x.dev}
				if x.zero != "" {
					args = append(args, x.zero)
				}
				require.NoError(t, x.n.IP(args...))
				require.NoError(t, x.n.IP("addr", "add", x.inner, "dev", x.vx))
				require.NoError(t, x.n.IP("link", "set", x.vx, "up"))
			}
			macA, err := a.HardwareAddr("vA")
			require.NoError(t, err)
			macB, err := b.HardwareAddr("vB")
			require.NoError(t, err)
			require.NoError(t, a.IP("-6", "neigh", "add", "2001:db8::2", "lladdr", macB.String(), "dev", "vA", "nud", "permanent"))
			require.NoError(t, b.IP("-6", "neigh", "add", "2001:db8::1", "lladdr", macA.String(), "dev", "vB", "nud", "permanent"))
			vxB, err := b.HardwareAddr("vxB")
			require.NoError(t, err)
			require.NoError(t, a.IP("neigh", "add", "10.9.0.2", "lladdr", vxB.String(), "dev", "vxA", "nud", "permanent"))

			ifB, err := b.Ifindex("vB")
			require.NoError(t, err)
			ps := newSocket(t, b, unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_NONBLOCK, int(htons(unix.ETH_P_IPV6)))
			require.NoError(t, unix.Bind(ps, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_IPV6), Ifindex: ifB}))
			require.NoError(t, unix.SetsockoptInt(ps, unix.SOL_PACKET, unix.PACKET_AUXDATA, 1))
			rcv := newSocket(t, b, unix.AF_INET, unix.SOCK_DGRAM, 0)
			require.NoError(t, unix.Bind(rcv, &unix.SockaddrInet4{Port: 9999}))
			require.NoError(t, unix.SetsockoptTimeval(rcv, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Usec: 300_000}))
			before := udp6CsumErrors(t, b)
			snd := newSocket(t, a, unix.AF_INET, unix.SOCK_DGRAM, 0)
			require.NoError(t, unix.Sendto(snd, make([]byte, 100), 0, &unix.SockaddrInet4{Port: 9999, Addr: [4]byte{10, 9, 0, 2}}))
			got := drainUDP(rcv)
			require.Equal(t, tc.recv, got, "datagrams received")
			require.Equal(t, tc.csumErrDelta, udp6CsumErrors(t, b)-before, "Udp6InCsumErrors")

			// The outer frame on vB.
			var frame []byte
			var status uint32
			buf := make([]byte, 2048)
			oob := make([]byte, 256)
			for {
				n, oobn, _, _, err := unix.Recvmsg(ps, buf, oob, 0)
				if err != nil {
					break
				}
				if n > 14+40+8 && buf[14+6] == unix.IPPROTO_UDP && binary.BigEndian.Uint16(buf[14+40+2:]) == 4789 {
					frame, status = append([]byte(nil), buf[:n]...), auxdata(t, oob[:oobn]).Status
				}
			}
			require.NotNil(t, frame, "the vxlan packet on vB")
			kernelOK := outerCsumState(t, frame)

			mrecv, mframe, mstatus, reasons := modelVXLAN6(t, tc.zeroTx, tc.zeroRx)
			require.Equal(t, tc.recv, mrecv, "model datagrams read (drops %v)", reasons)
			if tc.recv == 0 {
				require.Contains(t, reasons, "SKB_DROP_REASON_UDP_CSUM")
			}
			require.Equal(t, kernelOK, outerCsumState(t, mframe), "outer checksum: 0 or right")
			require.Equal(t, status, mstatus, "tp_status")
		})
	}
}

// outerCsumState returns "zero" for a VXLAN-over-IPv6 frame whose outer UDP
// checksum is 0, "right" when it verifies once the inner IPv4 UDP
// datagram's partial checksum is completed, else "wrong".
func outerCsumState(t *testing.T, f []byte) string {
	t.Helper()
	f = append([]byte(nil), f...)
	ip6 := f[14:]
	u := ip6[40:]
	if binary.BigEndian.Uint16(u[6:8]) == 0 {
		return "zero"
	}
	inner := u[8+8+14:] // VXLAN header, inner Ethernet
	iu := inner[20:]
	// The inner checksum as the device would complete it: the sum from
	// the UDP header on, the pseudo-header sum already in the field.
	binary.BigEndian.PutUint16(iu[6:8], ^csumFold(csumAdd(0, iu)))
	if csumFold(csumAdd(csumAdd(0, ip6[8:40])+uint32(len(u))+unix.IPPROTO_UDP, u)) == 0xffff {
		return "right"
	}
	return "wrong"
}

// udp6CsumErrors reads Udp6InCsumErrors of the namespace n.
func udp6CsumErrors(t *testing.T, n *Netns) uint64 {
	t.Helper()
	var v uint64
	require.NoError(t, n.Do(func() error {
		f, err := os.Open("/proc/thread-self/net/snmp6")
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if fields := strings.Fields(sc.Text()); len(fields) == 2 && fields[0] == "Udp6InCsumErrors" {
				v, err = strconv.ParseUint(fields[1], 10, 64)
				return err
			}
		}
		return os.ErrNotExist
	}))
	return v
}

// modelVXLAN6 is TestKernelVXLAN6OuterChecksum's case in the model: the
// datagrams B's socket read, the outer frame a held tap on vB holds with
// its tp_status, and the drop reasons.
func modelVXLAN6(t *testing.T, zeroTx, zeroRx bool) (int, []byte, uint32, []string) {
	t.Helper()
	csum := ""
	if zeroTx {
		csum = "off"
	}
	vA, vB := netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::2")
	macVxB := [6]byte{0x02, 0, 0, 0, 0xb, 0xb}
	cfg := &netstack.Config{
		Namespaces: []netstack.NamespaceConfig{{Name: "A"}, {Name: "B"}},
		Devices: []netstack.DeviceConfig{
			{Name: "vA", Kind: netstack.KindVeth, Netns: "A", Addrs: []netip.Prefix{netip.PrefixFrom(vA, 64)}, Peer: "vB", PeerNetns: "B",
				PeerAddrs: []netip.Prefix{netip.PrefixFrom(vB, 64)}},
			{Name: "vxA", Kind: netstack.KindVXLAN, Netns: "A", VNI: 42, Local: vA, Remote: vB, UDPCsum: csum,
				Addrs: []netip.Prefix{netip.MustParsePrefix("10.9.0.1/24")}},
			{Name: "vxB", Kind: netstack.KindVXLAN, Netns: "B", VNI: 42, Local: vB, Remote: vA, UDP6ZeroCsumRx: zeroRx, MAC: macVxB,
				Addrs: []netip.Prefix{netip.MustParsePrefix("10.9.0.2/24")}},
		},
		Neighbours: []netstack.NeighConfig{{Netns: "A", Dev: "vxA", Addr: netip.MustParseAddr("10.9.0.2"), MAC: macVxB}},
		Sockets: []netstack.SocketConfig{
			{Name: "snd", Netns: "A", Proto: netstack.ProtoUDP, Port: 40000},
			{Name: "rcv", Netns: "B", Proto: netstack.ProtoUDP, Port: 9999},
		},
		Taps:    []netstack.TapConfig{{Name: "t", Netns: "B", Dev: "vB", Dir: netstack.TapRX, Hold: true}},
		Entries: []netstack.EntryConfig{{Kind: netstack.EntryTX, Netns: "A", Socket: "snd"}},
	}
	obs := &dropRecorder{}
	var frame []byte
	var status uint32
	runModel(t, cfg, obs, udp4Packet([4]byte{10, 9, 0, 1}, [4]byte{10, 9, 0, 2}, 40000, 9999, 100), func(s *netstack.Stack) {
		if tp := s.TapPackets("t"); len(tp) == 1 {
			frame, status = tp[0].Frame, tp[0].Status
		}
	})
	require.NotNil(t, frame, "the model's vxlan packet on vB")
	return obs.delivered, frame, status, obs.reasons
}
