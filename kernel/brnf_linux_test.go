package kernel

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/internal/testutil"
	"github.com/skbsim/skbsim/netstack"
	"github.com/skbsim/skbsim/skb"
)

// TestKernelBridgeNetfilterExtension: with bridge-nf-call-iptables on,
// br_netfilter adds an SKB_EXT_BRIDGE_NF extension to every IPv4 frame a
// bridge takes in: a frame forwarded to another port has lost it again when
// it is queued there (br_nf_dev_queue_xmit's nf_bridge_info_free), and a
// frame the bridge delivers up still has it when the bridge device
// receives it. H routing such a frame on keeps it until the veth into C,
// where skb_scrub_packet resets every extension; fragmenting it there
// (ip_fragment: ip_copy_metadata) gives each fragment a reference to the
// extension. Off, no frame has one. A tp_btf probe reads
// skb->active_extensions at netif_receive_skb and net_dev_queue on the
// kernel; the model agrees at the tc hooks next to them.
func TestKernelBridgeNetfilterExtension(t *testing.T) {
	testutil.KernelTests(t)
	probe, err := NewExtProbe()
	testutil.SkipIfNotSupported(t, err)
	t.Cleanup(func() { require.NoError(t, probe.Close()) })
	// Device names unique to this process: the probe sees every namespace.
	sfx := fmt.Sprint(os.Getpid() % 100000)
	toC := [4]byte{198, 51, 100, 2}
	// H routes 203.0.113.0/24 back out of the bridge to vB.
	backToB := [4]byte{203, 0, 113, 2}
	for _, tc := range []struct {
		nf      bool
		dst     [4]byte
		payload int // bytes of UDP payload: 1400 is fragmented at hc (MTU 1000)
		want    map[string]string
	}{
		{true, [4]byte{192, 0, 2, 2}, 16, seenWant("pa rx", "pb tx")},
		{true, [4]byte{192, 0, 2, 4}, 16, seenWant("pa rx", "br rx ext")},
		{true, toC, 16, seenWant("pa rx", "br rx ext", "hc tx ext", "vc rx")},
		// ip_fragment's ip_copy_metadata copies the extension (skb_ext_copy)
		// to both fragments.
		{true, toC, 1400, seenWant("pa rx", "br rx ext", "hc tx ext", "hc tx ext", "vc rx", "vc rx")},
		// A frame H routes back out of the bridge (br_dev_xmit:
		// NF_BR_LOCAL_OUT, and br_nf_post_routing passes a frame whose
		// nf_bridge_info has no physoutdev) keeps the extension it got
		// when the bridge delivered it up.
		{true, backToB, 16, seenWant("pa rx", "br rx ext", "br tx ext", "pb tx ext")},
		{false, [4]byte{192, 0, 2, 2}, 16, seenWant("pa rx", "pb tx")},
		{false, [4]byte{192, 0, 2, 4}, 16, seenWant("pa rx", "br rx")},
		{false, toC, 16, seenWant("pa rx", "br rx", "hc tx", "vc rx")},
		{false, toC, 1400, seenWant("pa rx", "br rx", "hc tx", "hc tx", "vc rx", "vc rx")},
		{false, backToB, 16, seenWant("pa rx", "br rx", "br tx", "pb tx")},
	} {
		t.Run(fmt.Sprintf("nf %v to %v payload %d", tc.nf, netip.AddrFrom4(tc.dst), tc.payload), func(t *testing.T) {
			topo := newBrnfTopology(t, probe, sfx, tc.nf, "")
			a := topo.a
			snd := newSocket(t, a, unix.AF_INET, unix.SOCK_DGRAM, 0)
			// DF clear, as on the model's packet, so H may fragment it.
			require.NoError(t, unix.SetsockoptInt(snd, unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_DONT))
			require.NoError(t, unix.Sendto(snd, make([]byte, tc.payload), 0, &unix.SockaddrInet4{Port: 9999, Addr: tc.dst}))
			kern := topo.seen(t)
			require.Equal(t, tc.want, kern, "kernel")
			require.Equal(t, kern, modelBridgeNF(t, tc.nf, "", netstack.EntryConfig{Kind: netstack.EntryTX, Netns: "A", Socket: "snd"},
				udp4Packet([4]byte{192, 0, 2, 1}, tc.dst, 40000, 9999, tc.payload)), "model")
		})
	}
}

// brnfTopology is the kernel side of the br_netfilter tests: namespaces A
// and B on bridge ports pa and pb of br in H (192.0.2.0/24, the bridge
// 192.0.2.4), H routing 198.51.100.0/24 to C over hc <-> vc (MTU 1000)
// and 203.0.113.0/24 (on vB) back out of the bridge, a UDP listener on
// port 9999 in B, H and C, bridge-nf-call-iptables nf and
// bridge-nf-filter-vlan-tagged vlan in H, and probe watching the five
// devices (names ending in sfx).
type brnfTopology struct {
	a                 *Netns
	macA, macB, macBr net.HardwareAddr
	probe             *ExtProbe
	devs              [5]string // br, pa, pb, hc, vc
}

// newBrnfTopology builds the br_netfilter tests' topology, with
// bridge-nf-call-iptables nf and the bridge-nf-filter-<filter>-tagged
// sysctl on (filter "vlan" or "pppoe"; "" for neither).
func newBrnfTopology(t *testing.T, probe *ExtProbe, sfx string, nf bool, filter string) *brnfTopology {
	t.Helper()
	br, pa, pb, hc, vc := "nfbr"+sfx, "nfpa"+sfx, "nfpb"+sfx, "nfhc"+sfx, "nfvc"+sfx
	a, b, h := newNetns(t, "nfA"), newNetns(t, "nfB"), newNetns(t, "nfH")
	// Multicast snooping off: with it, the bridge joins the all-snoopers
	// group 224.0.0.106 when it comes up (br_ip4_multicast_join_snoopers)
	// and sends two IGMPv3 reports within a second, which the probe would
	// count as IPv4 frames flooded from br.
	require.NoError(t, h.IP("link", "add", br, "type", "bridge", "mcast_snooping", "0"))
	for _, x := range []struct {
		n         *Netns
		port, dev string
		addr      string
	}{{a, pa, "vA", "192.0.2.1/24"}, {b, pb, "vB", "192.0.2.2/24"}} {
		require.NoError(t, h.IP("link", "add", x.port, "type", "veth", "peer", "name", x.dev, "netns", x.n.Name))
		require.NoError(t, h.IP("link", "set", x.port, "master", br))
		require.NoError(t, h.IP("link", "set", x.port, "up"))
		require.NoError(t, x.n.IP("addr", "add", x.addr, "dev", x.dev))
		require.NoError(t, x.n.IP("link", "set", x.dev, "up"))
	}
	require.NoError(t, h.IP("addr", "add", "192.0.2.4/24", "dev", br))
	require.NoError(t, h.IP("link", "set", br, "up"))
	// H routes 198.51.100.0/24 to C over the veth hc <-> vc.
	c := newNetns(t, "nfC")
	require.NoError(t, h.IP("link", "add", hc, "type", "veth", "peer", "name", vc, "netns", c.Name))
	require.NoError(t, h.IP("addr", "add", "198.51.100.1/24", "dev", hc))
	require.NoError(t, h.IP("link", "set", hc, "mtu", "1000", "up"))
	require.NoError(t, c.IP("addr", "add", "198.51.100.2/24", "dev", vc))
	require.NoError(t, c.IP("link", "set", vc, "up"))
	require.NoError(t, h.Sysctl("net.ipv4.ip_forward", "1"))
	macC, err := c.HardwareAddr(vc)
	require.NoError(t, err)
	require.NoError(t, h.IP("neigh", "add", "198.51.100.2", "lladdr", macC.String(), "dev", hc, "nud", "permanent"))
	require.NoError(t, a.IP("route", "add", "198.51.100.0/24", "via", "192.0.2.4"))
	// 203.0.113.2 on vB, reached from H through the bridge (a
	// static FDB entry: no flood), from A through H; no ICMP
	// redirect for leaving by the device it came in on.
	require.NoError(t, b.IP("addr", "add", "203.0.113.2/24", "dev", "vB"))
	require.NoError(t, h.IP("route", "add", "203.0.113.0/24", "dev", br))
	require.NoError(t, a.IP("route", "add", "203.0.113.0/24", "via", "192.0.2.4"))
	for _, d := range []string{"all", br} {
		require.NoError(t, h.Sysctl("net.ipv4.conf."+d+".send_redirects", "0"))
	}
	on := map[bool]string{true: "1", false: "0"}
	require.NoError(t, h.Sysctl("net.bridge.bridge-nf-call-iptables", on[nf]))
	require.NoError(t, h.Sysctl("net.bridge.bridge-nf-filter-vlan-tagged", on[filter == "vlan"]))
	require.NoError(t, h.Sysctl("net.bridge.bridge-nf-filter-pppoe-tagged", on[filter == "pppoe"]))
	macB, err := b.HardwareAddr("vB")
	require.NoError(t, err)
	macBr, err := h.HardwareAddr(br)
	require.NoError(t, err)
	require.NoError(t, a.IP("neigh", "add", "192.0.2.2", "lladdr", macB.String(), "dev", "vA", "nud", "permanent"))
	require.NoError(t, h.IP("neigh", "add", "203.0.113.2", "lladdr", macB.String(), "dev", br, "nud", "permanent"))
	require.NoError(t, h.Bridge("fdb", "add", macB.String(), "dev", pb, "master", "static"))
	require.NoError(t, a.IP("neigh", "add", "192.0.2.4", "lladdr", macBr.String(), "dev", "vA", "nud", "permanent"))
	for _, d := range []string{br, pa, pb, hc, vc} {
		require.NoError(t, probe.Watch(d))
	}
	// Listeners, so no ICMP port unreachable comes back.
	for _, n := range []*Netns{b, h, c} {
		rcv := newSocket(t, n, unix.AF_INET, unix.SOCK_DGRAM, 0)
		require.NoError(t, unix.Bind(rcv, &unix.SockaddrInet4{Port: 9999}))
	}
	macA, err := a.HardwareAddr("vA")
	require.NoError(t, err)
	return &brnfTopology{a: a, macA: macA, macB: macB, macBr: macBr, probe: probe, devs: [5]string{br, pa, pb, hc, vc}}
}

// seen reads the probe in seenWant's form.
func (p *brnfTopology) seen(t *testing.T) map[string]string {
	t.Helper()
	kern := map[string]string{}
	for i, role := range []string{"br", "pa", "pb", "hc", "vc"} {
		s, err := p.probe.Seen(p.devs[i])
		require.NoError(t, err)
		kern[role] = seenString(s.Rx, s.RxExt&ExtBridgeNF != 0, s.RxVlan, s.Tx, s.TxExt&ExtBridgeNF != 0, s.TxVlan)
	}
	return kern
}

// seenString is one role's probe (or model) readings.
func seenString(rx uint64, rxExt bool, rxVlan uint64, tx uint64, txExt bool, txVlan uint64) string {
	return fmt.Sprintf("rx %d ext %v vlan %d, tx %d ext %v vlan %d", rx, rxExt, rxVlan, tx, txExt, txVlan)
}

// seenWant builds the expected probe readings: each item is "role rx" or
// "role tx", with " ext" when that skb carries the extension and " vlan"
// when it carries a VLAN tag; every other role and direction saw nothing.
func seenWant(items ...string) map[string]string {
	type dir struct {
		n, vlan uint64
		ext     bool
	}
	m := map[string][2]dir{}
	for _, it := range items {
		f := strings.Fields(it)
		v := m[f[0]]
		i := map[string]int{"rx": 0, "tx": 1}[f[1]]
		v[i].n++
		for _, w := range f[2:] {
			switch w {
			case "ext":
				v[i].ext = true
			case "vlan":
				v[i].vlan++
			}
		}
		m[f[0]] = v
	}
	out := map[string]string{}
	for _, role := range []string{"pa", "pb", "br", "hc", "vc"} {
		v := m[role]
		out[role] = seenString(v[0].n, v[0].ext, v[0].vlan, v[1].n, v[1].ext, v[1].vlan)
	}
	return out
}

// modelBridgeNF is the br_netfilter tests' case in the model
// (bridge-nf-call-iptables nf, bridge-nf-filter-<filter>-tagged; frame
// entering at entry): tc ingress programs stand for netif_receive_skb on
// pa and the bridge, a tc egress program for net_dev_queue on pb.
func modelBridgeNF(t *testing.T, nf bool, filter string, entry netstack.EntryConfig, frame []byte) map[string]string {
	t.Helper()
	type seen struct {
		rx, tx, rxVlan, txVlan uint64
		rxExt, txExt           bool
	}
	got := map[string]*seen{"pa": {}, "pb": {}, "br": {}, "hc": {}, "vc": {}}
	look := func(role string, tx bool) netstack.Program {
		return netstack.ProgramFunc(func(c *netstack.Ctx) int {
			if p := c.Skb.H().Protocol; p != 0x0800 && p != 0x8864 { // as extprobe: IPv4 and PPPoE
				return netstack.TCXNext
			}
			ext := c.Skb.ExtFind(skb.ExtBridgeNF) != nil
			tag := uint64(0)
			if c.Skb.H().VlanTagPresent() {
				tag = 1
			}
			if s := got[role]; tx {
				s.tx++
				s.txExt = s.txExt || ext
				s.txVlan += tag
			} else {
				s.rx++
				s.rxExt = s.rxExt || ext
				s.rxVlan += tag
			}
			return netstack.TCXNext
		})
	}
	cfg := &netstack.Config{
		Namespaces: []netstack.NamespaceConfig{{Name: "H", Forwarding: true, BridgeNFCallIPTables: nf,
			BridgeNFFilterVLANTagged: filter == "vlan", BridgeNFFilterPPPoETagged: filter == "pppoe"}, {Name: "A"}, {Name: "B"}, {Name: "C"}},
		Devices: []netstack.DeviceConfig{
			{Name: "br", Kind: netstack.KindBridge, Netns: "H", MAC: [6]byte{2, 0, 0, 0, 7, 4},
				Addrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.4/24")}},
			{Name: "pa", Kind: netstack.KindVeth, Netns: "H", Master: "br", Peer: "vA", PeerNetns: "A",
				PeerMAC: [6]byte{2, 0, 0, 0, 7, 1}, PeerAddrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.1/24")}},
			{Name: "pb", Kind: netstack.KindVeth, Netns: "H", Master: "br", Peer: "vB", PeerNetns: "B",
				PeerMAC: [6]byte{2, 0, 0, 0, 7, 2}, PeerAddrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.2/24"),
					netip.MustParsePrefix("203.0.113.2/24")}},
			{Name: "hc", Kind: netstack.KindVeth, Netns: "H", MTU: 1000, Addrs: []netip.Prefix{netip.MustParsePrefix("198.51.100.1/24")},
				Peer: "vc", PeerNetns: "C", PeerMAC: [6]byte{2, 0, 0, 0, 7, 3},
				PeerAddrs: []netip.Prefix{netip.MustParsePrefix("198.51.100.2/24")}},
		},
		Routes: []netstack.RouteConfig{
			{Netns: "A", Dst: netip.MustParsePrefix("198.51.100.0/24"), Dev: "vA", Via: netip.MustParseAddr("192.0.2.4")},
			{Netns: "A", Dst: netip.MustParsePrefix("203.0.113.0/24"), Dev: "vA", Via: netip.MustParseAddr("192.0.2.4")},
			{Netns: "H", Dst: netip.MustParsePrefix("203.0.113.0/24"), Dev: "br"},
		},
		FDB: []netstack.FDBConfig{{Netns: "H", Dev: "pb", MAC: [6]byte{2, 0, 0, 0, 7, 2}}},
		Neighbours: []netstack.NeighConfig{
			{Netns: "A", Dev: "vA", Addr: netip.MustParseAddr("192.0.2.2"), MAC: [6]byte{2, 0, 0, 0, 7, 2}},
			{Netns: "A", Dev: "vA", Addr: netip.MustParseAddr("192.0.2.4"), MAC: [6]byte{2, 0, 0, 0, 7, 4}},
			{Netns: "H", Dev: "hc", Addr: netip.MustParseAddr("198.51.100.2"), MAC: [6]byte{2, 0, 0, 0, 7, 3}},
			{Netns: "H", Dev: "br", Addr: netip.MustParseAddr("203.0.113.2"), MAC: [6]byte{2, 0, 0, 0, 7, 2}},
		},
		Sockets: []netstack.SocketConfig{{Name: "snd", Netns: "A", Proto: netstack.ProtoUDP, Port: 40000},
			{Name: "b", Netns: "B", Proto: netstack.ProtoUDP, Port: 9999}, {Name: "h", Netns: "H", Proto: netstack.ProtoUDP, Port: 9999},
			{Name: "c", Netns: "C", Proto: netstack.ProtoUDP, Port: 9999}},
		Programs: []netstack.ProgramConfig{
			{Name: "pa", Hook: carrier.HookTCIngress, Netns: "H", Dev: "pa", Prog: look("pa", false)},
			{Name: "pb", Hook: carrier.HookTCEgress, Netns: "H", Dev: "pb", Prog: look("pb", true)},
			{Name: "br", Hook: carrier.HookTCIngress, Netns: "H", Dev: "br", Prog: look("br", false)},
			{Name: "brtx", Hook: carrier.HookTCEgress, Netns: "H", Dev: "br", Prog: look("br", true)},
			{Name: "hc", Hook: carrier.HookTCEgress, Netns: "H", Dev: "hc", Prog: look("hc", true)},
			{Name: "vc", Hook: carrier.HookTCIngress, Netns: "C", Dev: "vc", Prog: look("vc", false)},
		},
		Entries: []netstack.EntryConfig{entry},
	}
	runModel(t, cfg, &dropRecorder{}, frame, nil)
	out := map[string]string{}
	for role, s := range got {
		out[role] = seenString(s.rx, s.rxExt, s.rxVlan, s.tx, s.txExt, s.txVlan)
	}
	return out
}
