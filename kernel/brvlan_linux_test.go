package kernel

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/skbsim/skbsim/internal/testutil"
	"github.com/skbsim/skbsim/netstack"
)

// TestKernelBridgeVLAN: H's bridge br0 filters VLANs (vlan_filtering 1,
// the default pvid 1 on the bridge and every port). Its ports: pA (A's
// vA) also in VLANs 10 and 20, tagged; pB (B's vB) with pvid 10,
// untagged, and still in VLAN 1; pC (C's vC) in VLAN 10, tagged, and
// out of VLAN 1; the bridge itself also in VLAN 20, tagged. A's packet
// socket sends a datagram for B (192.0.2.2, no socket) in frames that are
// broadcast or for the bridge's address, untagged, tagged (VLANs 10, 20,
// 30), priority-tagged, or with an 802.1ad tag, which an 802.1Q bridge
// takes as untagged. What packet sockets on vB and vC read (the frame
// and its tag in PACKET_AUXDATA) and the first drop on pA, br0, vB and
// vC agree between the kernel and the model: ingress filtering and the
// pvid (br_allowed_ingress), per-VLAN flooding (should_deliver's
// br_allowed_egress), untagged egress (br_handle_vlan), and the bridge's
// own group for what goes up it (br_pass_frame_up, the local FDB entry
// of its address per VLAN). It skips on a kernel built without
// CONFIG_BRIDGE_VLAN_FILTERING, such as this project's CI machines
// (kernel_lab.md), where the unit tests (TestBridgeVLAN) stand alone.
func TestKernelBridgeVLAN(t *testing.T) {
	testutil.KernelTests(t)
	skipWithoutVLANFiltering(t)
	probe, err := NewMetaProbe(false)
	testutil.SkipIfNotSupported(t, err)
	t.Cleanup(func() { require.NoError(t, probe.Close()) })
	const q, ad = unix.ETH_P_8021Q, unix.ETH_P_8021AD
	bcast := net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	for _, tc := range []struct {
		name     string
		toBridge bool
		tags     []vlanTag
	}{
		{"untagged broadcast", false, nil},
		{"VLAN 10 broadcast", false, []vlanTag{{q, 10}}},
		{"VLAN 20 broadcast", false, []vlanTag{{q, 20}}},
		{"VLAN 30 broadcast", false, []vlanTag{{q, 30}}},
		{"priority-tagged broadcast", false, []vlanTag{{q, 0xa000}}},
		{"802.1ad VLAN 10 broadcast", false, []vlanTag{{ad, 10}}},
		{"untagged to the bridge", true, nil},
		{"VLAN 10 to the bridge", true, []vlanTag{{q, 10}}},
		{"VLAN 20 to the bridge", true, []vlanTag{{q, 0x6014}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tp := newBrVLANTopo(t)
			dst, dstIP := bcast, [4]byte{192, 0, 2, 2}
			if tc.toBridge {
				dst, dstIP = tp.macBr, [4]byte{192, 0, 2, 254}
			}
			frame := vlanFrame(dst, tp.macA, tc.tags, dstIP)
			capB, capC := capture(t, tp.b, tp.ifB), capture(t, tp.c, tp.ifC)
			for _, fd := range []int{capB, capC} {
				require.NoError(t, unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_AUXDATA, 1))
			}
			kern := watchDrops(t, probe, []string{"pA", "br0", "vB", "vC"}, func() { sendFrame(t, tp.a, tp.ifA, dst, frame) })
			kb, kc := readDatagrams(t, capB), readDatagrams(t, capC)
			t.Logf("kernel: drops %v, at vB %v, at vC %v", kern, tapSummary(kb), tapSummary(kc))

			obs := &devDrops{}
			var model map[string]string
			var mb, mc []netstack.TapPacket
			runModel(t, tp.model(), obs, frame, func(s *netstack.Stack) {
				model = obs.firsts(s, map[string][2]string{"pA": {"H", "pA"}, "br0": {"H", "br0"}, "vB": {"B", "vB"}, "vC": {"C", "vC"}})
				mb, mc = s.TapPackets("tB"), s.TapPackets("tC")
			})
			require.Equal(t, kern, model, "first drops")
			require.Equal(t, kb, mb, "at vB")
			require.Equal(t, kc, mc, "at vC")
		})
	}
}

// skipWithoutVLANFiltering skips t when the kernel refuses a bridge with
// vlan_filtering (EOPNOTSUPP without CONFIG_BRIDGE_VLAN_FILTERING).
func skipWithoutVLANFiltering(t *testing.T) {
	t.Helper()
	n := newNetns(t, "bvX")
	err := n.IP("link", "add", "br0", "type", "bridge", "vlan_filtering", "1")
	if err != nil && strings.Contains(err.Error(), "not supported") {
		t.Skipf("the kernel has no bridge VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING): %v", err)
	}
	require.NoError(t, err)
}

// brVLANTopo is TestKernelBridgeVLAN's kernel side.
type brVLANTopo struct {
	a, b, c          *Netns
	ifA, ifB, ifC    int
	macA, macB, macC net.HardwareAddr
	macBr            net.HardwareAddr
}

func newBrVLANTopo(t *testing.T) *brVLANTopo {
	t.Helper()
	tp := &brVLANTopo{a: newNetns(t, "bvA"), b: newNetns(t, "bvB"), c: newNetns(t, "bvC"), macBr: net.HardwareAddr{2, 0, 0, 0, 0x0b, 1}}
	h := newNetns(t, "bvH")
	for _, c := range []struct {
		n    *Netns
		args []string
	}{
		{h, []string{"link", "add", "br0", "address", tp.macBr.String(), "type", "bridge", "vlan_filtering", "1", "mcast_snooping", "0"}},
		{tp.a, []string{"link", "add", "vA", "type", "veth", "peer", "name", "pA", "netns", h.Name}},
		{tp.b, []string{"link", "add", "vB", "type", "veth", "peer", "name", "pB", "netns", h.Name}},
		{tp.c, []string{"link", "add", "vC", "type", "veth", "peer", "name", "pC", "netns", h.Name}},
		{h, []string{"link", "set", "pA", "master", "br0"}},
		{h, []string{"link", "set", "pB", "master", "br0"}},
		{h, []string{"link", "set", "pC", "master", "br0"}},
		{h, []string{"addr", "add", "192.0.2.254/24", "dev", "br0"}},
		{tp.a, []string{"addr", "add", "192.0.2.1/24", "dev", "vA"}},
		{tp.b, []string{"addr", "add", "192.0.2.2/24", "dev", "vB"}},
		{tp.c, []string{"addr", "add", "192.0.2.3/24", "dev", "vC"}},
		{tp.a, []string{"link", "set", "vA", "up"}},
		{tp.b, []string{"link", "set", "vB", "up"}},
		{tp.c, []string{"link", "set", "vC", "up"}},
		{h, []string{"link", "set", "pA", "up"}},
		{h, []string{"link", "set", "pB", "up"}},
		{h, []string{"link", "set", "pC", "up"}},
		{h, []string{"link", "set", "br0", "up"}},
	} {
		require.NoError(t, c.n.IP(c.args...), "%v", c.args)
	}
	for _, args := range [][]string{
		{"vlan", "add", "dev", "pA", "vid", "10"},
		{"vlan", "add", "dev", "pA", "vid", "20"},
		{"vlan", "add", "dev", "pB", "vid", "10", "pvid", "untagged"},
		{"vlan", "add", "dev", "pC", "vid", "10"},
		{"vlan", "del", "dev", "pC", "vid", "1"},
		{"vlan", "add", "dev", "br0", "vid", "20", "self"},
	} {
		require.NoError(t, h.Bridge(args...), "%v", args)
	}
	// br_netfilter would see the frames the bridge takes, as the model's
	// namespace (bridge-nf-call-iptables off) does not.
	require.NoError(t, h.Sysctl("net.bridge.bridge-nf-call-iptables", "0"))
	waitRunning(t, h, "br0")
	var err error
	for _, d := range []struct {
		n   *Netns
		dev string
		mac *net.HardwareAddr
		idx *int
	}{{tp.a, "vA", &tp.macA, &tp.ifA}, {tp.b, "vB", &tp.macB, &tp.ifB}, {tp.c, "vC", &tp.macC, &tp.ifC}} {
		*d.mac, err = d.n.HardwareAddr(d.dev)
		require.NoError(t, err)
		*d.idx, err = d.n.Ifindex(d.dev)
		require.NoError(t, err)
	}
	return tp
}

// model is the topology in the model, a packet socket entry on vA and
// held RX taps on vB (tB) and vC (tC).
func (tp *brVLANTopo) model() *netstack.Config {
	pfx := netip.MustParsePrefix
	return &netstack.Config{
		Namespaces: []netstack.NamespaceConfig{{Name: "A"}, {Name: "H"}, {Name: "B"}, {Name: "C"}},
		Devices: []netstack.DeviceConfig{
			{Name: "br0", Kind: netstack.KindBridge, Netns: "H", MAC: [6]byte(tp.macBr), Addrs: []netip.Prefix{pfx("192.0.2.254/24")},
				VLANFiltering: true, VLANs: []netstack.BridgeVLAN{{VID: 20}}},
			{Name: "pA", Kind: netstack.KindVeth, Netns: "H", Master: "br0", VLANs: []netstack.BridgeVLAN{{VID: 10}, {VID: 20}},
				Peer: "vA", PeerNetns: "A", PeerMAC: [6]byte(tp.macA), PeerAddrs: []netip.Prefix{pfx("192.0.2.1/24")}},
			{Name: "pB", Kind: netstack.KindVeth, Netns: "H", Master: "br0", VLANs: []netstack.BridgeVLAN{{VID: 10, PVID: true, Untagged: true}},
				Peer: "vB", PeerNetns: "B", PeerMAC: [6]byte(tp.macB), PeerAddrs: []netip.Prefix{pfx("192.0.2.2/24")}},
			{Name: "pC", Kind: netstack.KindVeth, Netns: "H", Master: "br0", VLANs: []netstack.BridgeVLAN{{VID: 10}, {VID: 1, Del: true}},
				Peer: "vC", PeerNetns: "C", PeerMAC: [6]byte(tp.macC), PeerAddrs: []netip.Prefix{pfx("192.0.2.3/24")}},
		},
		Taps: []netstack.TapConfig{{Name: "tB", Netns: "B", Dev: "vB", Dir: netstack.TapRX, Hold: true},
			{Name: "tC", Netns: "C", Dev: "vC", Dir: netstack.TapRX, Hold: true}},
		Entries: []netstack.EntryConfig{{Kind: netstack.EntryPacket, Netns: "A", Dev: "vA"}},
	}
}

// readDatagrams reads what the packet socket fd received until its
// timeout, keeping the frames that carry the test's datagram (UDP to
// port 9999, behind any VLAN tags left in the data), as the model's held
// tap records them.
func readDatagrams(t *testing.T, fd int) []netstack.TapPacket {
	t.Helper()
	var got []netstack.TapPacket
	buf, oob := make([]byte, 2048), make([]byte, 256)
	for {
		n, oobn, _, from, err := unix.Recvmsg(fd, buf, oob, 0)
		if err != nil {
			return got
		}
		if ll, ok := from.(*unix.SockaddrLinklayer); ok && ll.Pkttype == unix.PACKET_OUTGOING {
			continue
		}
		f := buf[:n]
		off := 12
		for off+4 <= len(f) && (binary.BigEndian.Uint16(f[off:]) == unix.ETH_P_8021Q || binary.BigEndian.Uint16(f[off:]) == unix.ETH_P_8021AD) {
			off += 4
		}
		if off+2+28 > len(f) || binary.BigEndian.Uint16(f[off:]) != unix.ETH_P_IP || f[off+2+9] != unix.IPPROTO_UDP ||
			binary.BigEndian.Uint16(f[off+2+22:]) != 9999 {
			continue
		}
		aux := auxdata(t, oob[:oobn])
		got = append(got, netstack.TapPacket{PacketID: 1, Len: int(aux.Len), Status: aux.Status,
			VlanTCI: aux.Vlan_tci, VlanTPID: aux.Vlan_tpid, Frame: append([]byte(nil), f...)})
	}
}

// tapSummary is the status, tag and length of each frame of ps.
func tapSummary(ps []netstack.TapPacket) []string {
	var s []string
	for _, p := range ps {
		s = append(s, fmt.Sprintf("status %#x tag %#x/%#x len %d", p.Status, p.VlanTPID, p.VlanTCI, p.Len))
	}
	return s
}
