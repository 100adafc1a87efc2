package kernel

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/internal/testutil"
	"github.com/skbsim/skbsim/netstack"
)

// TestKernelBridgeLinkLocal: a datagram A sends to H's bridge address
// (no socket listens) in a frame to a link-local group address
// 01:80:c2:00:00:0X, or just beyond: where it ends (the first drop on
// the port and on the bridge, by the kfree_skb tracepoint), in the kernel
// and in the model. The bridge group address (0x00) and 0x10 go through
// the bridge and up its device (NO_SOCKET at the bridge); MAC control
// (0x01) is dropped at the port; the others go up the port itself
// (RX_HANDLER_PASS: NO_SOCKET at the port), unless the port's or the
// bridge's group_fwd_mask has their bit. A bridge refuses a mask with
// bits 0 to 2, a port one with bit 1 (EINVAL), as the model does.
func TestKernelBridgeLinkLocal(t *testing.T) {
	testutil.KernelTests(t)
	probe, err := NewMetaProbe(false)
	testutil.SkipIfNotSupported(t, err)
	t.Cleanup(func() { require.NoError(t, probe.Close()) })
	a, h := newNetns(t, "llA"), newNetns(t, "llH")
	const port, br = "llp0", "llbr0"
	for _, c := range []struct {
		n    *Netns
		args []string
	}{
		{a, []string{"link", "add", "vA", "type", "veth", "peer", "name", port, "netns", h.Name}},
		{h, []string{"link", "add", br, "type", "bridge", "mcast_snooping", "0"}},
		{h, []string{"link", "set", port, "master", br}},
		{h, []string{"addr", "add", "192.0.2.254/24", "dev", br}},
		{a, []string{"addr", "add", "192.0.2.1/24", "dev", "vA"}},
		{a, []string{"link", "set", "vA", "up"}},
		{h, []string{"link", "set", port, "up"}},
		{h, []string{"link", "set", br, "up"}},
	} {
		require.NoError(t, c.n.IP(c.args...), "%v", c.args)
	}
	// br_netfilter's hook would see the frames the bridge takes, as the
	// model's namespace (bridge-nf-call-iptables off) does not.
	require.NoError(t, h.Sysctl("net.bridge.bridge-nf-call-iptables", "0"))
	waitRunning(t, h, br)
	macA, err := a.HardwareAddr("vA")
	require.NoError(t, err)
	macBr, err := h.HardwareAddr(br)
	require.NoError(t, err)
	vA, err := a.Ifindex("vA")
	require.NoError(t, err)
	cfg := &netstack.Config{
		Namespaces: []netstack.NamespaceConfig{{Name: "A"}, {Name: "H"}},
		Devices: []netstack.DeviceConfig{
			{Name: "br", Kind: netstack.KindBridge, Netns: "H", MAC: [6]byte(macBr), Addrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.254/24")}},
			{Name: "port", Kind: netstack.KindVeth, Netns: "H", Master: "br", Peer: "vA", PeerNetns: "A", PeerMAC: [6]byte(macA),
				PeerAddrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.1/24")}},
		},
		Entries: []netstack.EntryConfig{{Kind: netstack.EntryPacket, Netns: "A", Dev: "vA"}},
	}
	for _, tc := range []struct {
		last             byte
		portMask, brMask uint16
	}{
		{0x00, 0, 0}, {0x01, 0, 0}, {0x02, 0, 0}, {0x03, 0, 0}, {0x0e, 0, 0}, {0x0f, 0, 0}, {0x10, 0, 0},
		{0x02, 0x4, 0}, {0x03, 0, 0x8}, {0x03, 0x10, 0x4000}, {0x0e, 0, 0x4000}, {0x0e, 0x4000, 0},
		{0x01, 0x2, 0}, {0x02, 0, 0x4}, {0x00, 0, 0x1},
	} {
		last := tc.last
		t.Run(fmt.Sprintf("01:80:c2:00:00:%02x/port %#x/bridge %#x", last, tc.portMask, tc.brMask), func(t *testing.T) {
			setMasks := func(portMask, brMask uint16) error {
				if err := h.IP("link", "set", br, "type", "bridge", "group_fwd_mask", fmt.Sprint(brMask)); err != nil {
					return err
				}
				return h.IP("link", "set", port, "type", "bridge_slave", "group_fwd_mask", fmt.Sprint(portMask))
			}
			cfg := *cfg
			cfg.Devices = slices.Clone(cfg.Devices)
			cfg.Devices[0].GroupFwdMask, cfg.Devices[1].GroupFwdMask = tc.brMask, tc.portMask
			why := netstack.BridgeConfigError(&cfg.Devices[0]) + netstack.BridgeConfigError(&cfg.Devices[1])
			if why != "" {
				t.Cleanup(func() { require.NoError(t, setMasks(0, 0)) })
				require.Error(t, setMasks(tc.portMask, tc.brMask), "the model refuses: %s", why)
				return
			}
			require.NoError(t, setMasks(tc.portMask, tc.brMask))
			t.Cleanup(func() { require.NoError(t, setMasks(0, 0)) })
			dst := net.HardwareAddr{0x01, 0x80, 0xc2, 0, 0, last}
			pkt := udp4Packet([4]byte{192, 0, 2, 1}, [4]byte{192, 0, 2, 254}, 40000, 9999, 16)
			binary.BigEndian.PutUint16(pkt[10:], inetCsum(pkt[:20]))
			frame := ethIPv4(pkt)
			copy(frame[0:6], dst)
			copy(frame[6:12], macA)
			kern := watchDrops(t, probe, []string{port, br}, func() { sendFrame(t, a, vA, dst, frame) })
			t.Logf("kernel: %v", kern)
			obs := &devDrops{}
			var model map[string]string
			runModel(t, &cfg, obs, frame, func(s *netstack.Stack) {
				model = obs.firsts(s, map[string][2]string{port: {"H", "port"}, br: {"H", "br"}})
			})
			require.Equal(t, kern, model, "model")
		})
	}
}

// waitRunning waits until dev of n is IFF_RUNNING (the link watcher gave
// it its carrier).
func waitRunning(t *testing.T, n *Netns, dev string) {
	t.Helper()
	for range 250 {
		if ifaceRunning(t, n, dev) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s never got its carrier", dev)
}

// TestKernelBridgeLocalAddrs: a bridge created without an address takes
// the smallest of its ports' (br_stp_recalculate_bridge_id), and every
// port's own address is a local FDB entry: A's datagram for the bridge's
// IP address in a frame to the bridge's address (pA's, the smaller) goes
// up the bridge as PACKET_HOST (NO_SOCKET at br0), one to pB's address
// goes up too but stays PACKET_OTHERHOST from pA's eth_type_trans
// (OTHERHOST at br0), and one to an unknown address is flooded to B
// (OTHERHOST at vB). The first drop on pA, br0 and vB, in the kernel and
// in the model, whose bridge has no MAC of its own either.
func TestKernelBridgeLocalAddrs(t *testing.T) {
	testutil.KernelTests(t)
	probe, err := NewMetaProbe(false)
	testutil.SkipIfNotSupported(t, err)
	t.Cleanup(func() { require.NoError(t, probe.Close()) })
	a, b, h := newNetns(t, "blA"), newNetns(t, "blB"), newNetns(t, "blH")
	macPA, macPB := net.HardwareAddr{2, 0, 0, 0, 0x0a, 1}, net.HardwareAddr{2, 0, 0, 0, 0x0a, 2}
	for _, c := range []struct {
		n    *Netns
		args []string
	}{
		{h, []string{"link", "add", "br0", "type", "bridge", "mcast_snooping", "0"}},
		{a, []string{"link", "add", "vA", "type", "veth", "peer", "name", "pA", "address", macPA.String(), "netns", h.Name}},
		{b, []string{"link", "add", "vB", "type", "veth", "peer", "name", "pB", "address", macPB.String(), "netns", h.Name}},
		{h, []string{"link", "set", "pB", "master", "br0"}},
		{h, []string{"link", "set", "pA", "master", "br0"}},
		{h, []string{"addr", "add", "192.0.2.254/24", "dev", "br0"}},
		{a, []string{"addr", "add", "192.0.2.1/24", "dev", "vA"}},
		{b, []string{"addr", "add", "192.0.2.2/24", "dev", "vB"}},
		{a, []string{"link", "set", "vA", "up"}},
		{b, []string{"link", "set", "vB", "up"}},
		{h, []string{"link", "set", "pA", "up"}},
		{h, []string{"link", "set", "pB", "up"}},
		{h, []string{"link", "set", "br0", "up"}},
	} {
		require.NoError(t, c.n.IP(c.args...), "%v", c.args)
	}
	require.NoError(t, h.Sysctl("net.bridge.bridge-nf-call-iptables", "0"))
	waitRunning(t, h, "br0")
	macBr, err := h.HardwareAddr("br0")
	require.NoError(t, err)
	require.Equal(t, macPA, macBr, "the bridge's address: its smallest port's")
	macA, err := a.HardwareAddr("vA")
	require.NoError(t, err)
	macB, err := b.HardwareAddr("vB")
	require.NoError(t, err)
	vA, err := a.Ifindex("vA")
	require.NoError(t, err)
	cfg := &netstack.Config{
		Namespaces: []netstack.NamespaceConfig{{Name: "A"}, {Name: "H"}, {Name: "B"}},
		Devices: []netstack.DeviceConfig{
			{Name: "br0", Kind: netstack.KindBridge, Netns: "H", Addrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.254/24")}},
			{Name: "pA", Kind: netstack.KindVeth, Netns: "H", Master: "br0", MAC: [6]byte(macPA), Peer: "vA", PeerNetns: "A", PeerMAC: [6]byte(macA),
				PeerAddrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.1/24")}},
			{Name: "pB", Kind: netstack.KindVeth, Netns: "H", Master: "br0", MAC: [6]byte(macPB), Peer: "vB", PeerNetns: "B", PeerMAC: [6]byte(macB),
				PeerAddrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.2/24")}},
		},
		Entries: []netstack.EntryConfig{{Kind: netstack.EntryPacket, Netns: "A", Dev: "vA"}},
	}
	for _, tc := range []struct {
		name string
		dst  net.HardwareAddr
	}{
		{"to the bridge's address", macPA},
		{"to pB's address", macPB},
		{"to an unknown address", net.HardwareAddr{2, 0, 0, 0, 0x0a, 9}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pkt := udp4Packet([4]byte{192, 0, 2, 1}, [4]byte{192, 0, 2, 254}, 40000, 9999, 16)
			binary.BigEndian.PutUint16(pkt[10:], inetCsum(pkt[:20]))
			frame := ethIPv4(pkt)
			copy(frame[0:6], tc.dst)
			copy(frame[6:12], macA)
			kern := watchDrops(t, probe, []string{"pA", "br0", "vB"}, func() { sendFrame(t, a, vA, tc.dst, frame) })
			t.Logf("kernel: %v", kern)
			obs := &devDrops{}
			var model map[string]string
			runModel(t, cfg, obs, frame, func(s *netstack.Stack) {
				require.Equal(t, [6]byte(macPA), s.Device("H", "br0").MAC(), "the model's bridge address")
				model = obs.firsts(s, map[string][2]string{"pA": {"H", "pA"}, "br0": {"H", "br0"}, "vB": {"B", "vB"}})
			})
			require.Equal(t, kern, model, "model")
		})
	}
}
