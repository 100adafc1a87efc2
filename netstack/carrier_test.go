package netstack

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
)

// TestCarrierStates: setCarriers by kind (netif_carrier_ok as the drivers
// set it).
func TestCarrierStates(t *testing.T) {
	veth := func(name string, mod func(*DeviceConfig)) DeviceConfig {
		d := DeviceConfig{Name: name, Kind: KindVeth, Peer: name + "p"}
		if mod != nil {
			mod(&d)
		}
		return d
	}
	for _, tc := range []struct {
		name string
		devs []DeviceConfig
		want map[string]bool
	}{
		{"veth pair up", []DeviceConfig{veth("v0", nil)}, map[string]bool{"v0": true, "v0p": true}},
		{"veth peer down", []DeviceConfig{veth("v0", func(d *DeviceConfig) { d.PeerDown = true })}, map[string]bool{"v0": false, "v0p": false}},
		{"veth down", []DeviceConfig{veth("v0", func(d *DeviceConfig) { d.Down = true })}, map[string]bool{"v0": false, "v0p": false}},
		{"netkit peer down", []DeviceConfig{{Name: "nk0", Kind: KindNetkit, Peer: "nk1", PeerDown: true}}, map[string]bool{"nk0": false, "nk1": false}},
		{"nic and dummy", []DeviceConfig{{Name: "eth0", Kind: KindNIC}, {Name: "eth1", Kind: KindNIC, NoCarrier: true},
			{Name: "dm0", Kind: KindDummy, NoCarrier: true}, {Name: "dm1", Kind: KindDummy}, {Name: "ifb0", Kind: KindIFB}},
			map[string]bool{"eth0": true, "eth1": false, "dm0": false, "dm1": true, "ifb0": true, "lo": true}},
		{"bridge without ports", []DeviceConfig{{Name: "br0", Kind: KindBridge}}, map[string]bool{"br0": false}},
		{"bridge with a forwarding port", []DeviceConfig{{Name: "br0", Kind: KindBridge}, veth("p0", func(d *DeviceConfig) { d.Master = "br0" }),
			veth("p1", func(d *DeviceConfig) { d.Master = "br0"; d.PeerDown = true })}, map[string]bool{"br0": true, "p1": false}},
		{"bridge whose ports have no carrier", []DeviceConfig{{Name: "br0", Kind: KindBridge},
			veth("p1", func(d *DeviceConfig) { d.Master = "br0"; d.PeerDown = true }),
			{Name: "eth1", Kind: KindNIC, NoCarrier: true, Master: "br0"}, {Name: "eth2", Kind: KindNIC, Down: true, Master: "br0"}},
			map[string]bool{"br0": false}},
		{"bridge down", []DeviceConfig{{Name: "br0", Kind: KindBridge, Down: true}, veth("p0", func(d *DeviceConfig) { d.Master = "br0" })},
			map[string]bool{"br0": false, "p0": true}},
		{"macvlans", []DeviceConfig{{Name: "mv0", Kind: KindMacvlan, Link: "eth1"}, {Name: "mv1", Kind: KindMacvlan, Link: "eth0"},
			{Name: "eth0", Kind: KindNIC}, {Name: "eth1", Kind: KindNIC, NoCarrier: true}},
			map[string]bool{"mv0": false, "mv1": true}},
		// The macvlan comes before the bridge it stands on, whose carrier
		// comes from a port listed after both.
		{"macvlan on a bridge", []DeviceConfig{{Name: "mv0", Kind: KindMacvlan, Link: "br0"}, {Name: "br0", Kind: KindBridge},
			veth("p0", func(d *DeviceConfig) { d.Master = "br0" })}, map[string]bool{"mv0": true, "br0": true}},
		{"tunnels", []DeviceConfig{{Name: "vx0", Kind: KindVXLAN, VNI: 5, Local: addr("192.0.2.1"), Remote: addr("192.0.2.2")}},
			map[string]bool{"vx0": true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &Config{Devices: tc.devs, Entries: []EntryConfig{{Dev: "lo"}}}
			s, _ := newStack(t, cfg, "", nil, nil)
			for name, want := range tc.want {
				require.Equal(t, want, s.Device("", name).carrier, name)
			}
		})
	}
}

// carrierTopology is rulesTopology with veth1 (to C) without carrier, its
// peer vC down, and ns's sysctls.
func carrierTopology(ns NamespaceConfig) *Config {
	var mark uint32
	cfg := rulesTopology(&mark)
	ns.Name, ns.Forwarding, ns.IPv6Forwarding = HostNetns, true, true
	cfg.Namespaces[0] = ns
	cfg.Devices[2].PeerDown = true
	cfg.Programs = nil
	return cfg
}

// TestCarrierRoutes: a route through veth1, which has no carrier, is
// used and its packets dropped at veth1's qdisc (noop_qdisc), unless
// ignore_routes_with_linkdown passes it over: the lookup goes on to a
// shorter prefix, the next rule, or finds nothing (TestKernelCarrier
// measures these on 6.18).
func TestCarrierRoutes(t *testing.T) {
	v4rule := RuleConfig{To: pfx("203.0.113.0/24"), Table: 100}
	v6rule := RuleConfig{To: pfx("2001:db8:99::/64"), Table: 100}
	for _, tc := range []struct {
		name   string
		ignore bool
		routes []RouteConfig
		rules  []RuleConfig
		dst    string
		want   string
	}{
		{"more specific route", false, []RouteConfig{{Dst: pfx("10.9.0.0/16"), Dev: "veth1", Via: addr("10.2.0.2")}}, nil, "10.9.0.5", "QDISC_DROP"},
		{"more specific route, ignore", true, []RouteConfig{{Dst: pfx("10.9.0.0/16"), Dev: "veth1", Via: addr("10.2.0.2")}}, nil, "10.9.0.5", "IP_INADDRERRORS"},
		{"connected prefix, ignore", true, nil, nil, "10.2.0.9", "IP_INADDRERRORS"},
		{"IPv6 route, ignore", true, []RouteConfig{{Dst: pfx("fd00:9::/48"), Dev: "veth1", Via: addr("fd00:2::2")}}, nil, "fd00:9::5", "IP_INNOROUTES"},
		{"IPv6 route", false, []RouteConfig{{Dst: pfx("fd00:9::/48"), Dev: "veth1", Via: addr("fd00:2::2")}}, nil, "fd00:9::5", "QDISC_DROP"},
		{"rule to a table", false, nil, []RuleConfig{v4rule}, "203.0.113.5", "QDISC_DROP"},
		{"rule to a table, ignore", true, nil, []RuleConfig{v4rule}, "203.0.113.5", "b"},
		{"IPv6 rule to a table", false, nil, []RuleConfig{v6rule}, "2001:db8:99::5", "QDISC_DROP"},
		{"IPv6 rule to a table, ignore", true, nil, []RuleConfig{v6rule}, "2001:db8:99::5", "b6"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := carrierTopology(NamespaceConfig{IgnoreRoutesWithLinkdown: tc.ignore, IPv6IgnoreRoutesWithLinkdown: tc.ignore})
			cfg.Routes = append(cfg.Routes, tc.routes...)
			cfg.Rules = tc.rules
			got := ruleOutcome(t, cfg, "192.0.2.9", tc.dst)
			if addr(tc.dst).Is6() {
				got = ruleOutcome(t, cfg, "2001:db8:1::9", tc.dst)
			}
			// B drops what is not its own (forwarding is off there).
			require.Equal(t, tc.want, got)
			if tc.ignore && tc.routes != nil {
				// As if the route were not there.
				cfg.Routes = cfg.Routes[:len(cfg.Routes)-len(tc.routes)]
				src := "192.0.2.9"
				if addr(tc.dst).Is6() {
					src = "2001:db8:1::9"
				}
				require.Equal(t, got, ruleOutcome(t, cfg, src, tc.dst))
			}
		})
	}
}

// TestCarrierMultipath: a multipath route's path through veth1, which
// has no carrier, takes its share of the flows (dropped at its qdisc)
// unless ignore_routes_with_linkdown leaves it out of the balance.
func TestCarrierMultipath(t *testing.T) {
	for _, ignore := range []bool{false, true} {
		cfg := mpTopology(NamespaceConfig{IgnoreRoutesWithLinkdown: ignore}, [2]int{1, 1})
		cfg.Devices[2].PeerDown = true
		cfg.Programs = nil
		s, te := newStack(t, cfg, "", nil, nil)
		for i := range 16 {
			src := netip.AddrFrom4([4]byte{192, 0, 2, byte(100 + i)}).String()
			require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: src,
				dst: "198.51.100.7", sport: 1000, dport: 2000, payload: 10})}))
		}
		s.Flush()
		drops := len(te.obs.drops)
		if ignore {
			require.Zero(t, drops, "every flow through veth0")
			require.Equal(t, uint64(16), te.obs.delivered(DeliverSocket))
			continue
		}
		require.NotZero(t, drops, "some flows through veth1")
		require.Equal(t, []string{"SKB_DROP_REASON_QDISC_DROP@qdisc_enqueue"}, slices.Compact(te.obs.dropReasons()))
		require.Equal(t, uint64(16-drops), te.obs.delivered(DeliverSocket))
	}
}

// TestCarrierXmit: without carrier the qdisc drops after tc egress and
// before the taps (noop_qdisc; dev_queue_xmit_nit runs in xmit_one).
func TestCarrierXmit(t *testing.T) {
	cfg := carrierTopology(NamespaceConfig{})
	cfg.Routes = append(cfg.Routes, RouteConfig{Dst: pfx("10.9.0.0/16"), Dev: "veth1", Via: addr("10.2.0.2")})
	egress := 0
	cfg.Programs = []ProgramConfig{{Name: "eg", Hook: carrier.HookTCEgress, Dev: "veth1", Prog: ProgramFunc(func(c *Ctx) int {
		egress++
		return TCXNext
	})}}
	cfg.Taps = []TapConfig{{Name: "t", Dev: "veth1", Dir: TapTX}}
	s, te := newStack(t, cfg, "", nil, nil)
	require.NoError(t, s.Inject(&Packet{ID: 1, Frame: buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "10.9.0.5",
		sport: 1000, dport: 2000, payload: 10})}))
	s.Flush()
	require.Equal(t, 1, egress)
	require.Zero(t, te.obs.delivered(DeliverTap))
	require.Equal(t, []string{"SKB_DROP_REASON_QDISC_DROP@qdisc_enqueue"}, te.obs.dropReasons())
	require.Equal(t, s.Device("", "veth1").Ifindex(), te.obs.drops[0].Dev)
}

// TestCarrierNexthopObjects: a nexthop object through a device without
// carrier is gone (nexthop_flush_dev), with the routes that have nothing
// else, and from its groups.
func TestCarrierNexthopObjects(t *testing.T) {
	cfg := carrierTopology(NamespaceConfig{})
	cfg.NexthopObjects = []NexthopObjConfig{{ID: 1, Dev: "veth0", Via: addr("10.1.0.2")}, {ID: 2, Dev: "veth1", Via: addr("10.2.0.2")},
		{ID: 10, Group: []NexthopGroupMember{{ID: 1}, {ID: 2}}}}
	cfg.Routes = append(cfg.Routes, RouteConfig{Dst: pfx("198.51.100.0/24"), NHID: 10}, RouteConfig{Dst: pfx("198.51.101.0/24"), NHID: 2},
		RouteConfig{Netns: "B", Dst: pfx("198.51.100.0/24"), Dev: "lo", Type: RouteLocal})
	for i := range 8 {
		require.Equal(t, "b", ruleOutcome(t, cfg, netip.AddrFrom4([4]byte{192, 0, 2, byte(100 + i)}).String(), "198.51.100.7"))
	}
	// 198.51.101.0/24 falls to the default route, through veth0.
	require.Equal(t, "IP_INADDRERRORS", ruleOutcome(t, cfg, "192.0.2.9", "198.51.101.7"))
}

// TestCarrierValidateSource: fib_validate_source's first lookup passes a
// linkdown route over (rp_filter 2 then drops a source only such a route
// leads to), its second, bound to the input device, does not
// (FIB_LOOKUP_IGNORE_LINKSTATE).
func TestCarrierValidateSource(t *testing.T) {
	for _, ignore := range []bool{false, true} {
		cfg := carrierTopology(NamespaceConfig{RPFilter: 2, IgnoreRoutesWithLinkdown: ignore})
		cfg.Routes[0] = RouteConfig{Dev: "veth1", Via: addr("10.2.0.2")} // the default route through veth1
		cfg.Routes = append(cfg.Routes, RouteConfig{Dst: pfx("198.51.100.0/24"), Dev: "veth0", Via: addr("10.1.0.2")},
			RouteConfig{Netns: "B", Dst: pfx("198.51.100.0/24"), Dev: "lo", Type: RouteLocal})
		want := "b"
		if ignore {
			want = "IP_RPFILTER"
		}
		require.Equal(t, want, ruleOutcome(t, cfg, "10.8.0.1", "198.51.100.7"), "ignore %v", ignore)

		// The second lookup: from veth1, 10.2.0.7 is on veth1's prefix.
		// Passed over, the first lookup answers the default route through
		// veth0 (rp_filter 2 accepts), the second the connected route,
		// linkdown or not: on the link (as, without ignore, the first).
		cfg = carrierTopology(NamespaceConfig{RPFilter: 2, IgnoreRoutesWithLinkdown: ignore})
		s, _ := newStack(t, cfg, "", nil, nil)
		ns, in := s.Netns(HostNetns), s.Device("", "veth1")
		reason, onlink := s.fibValidateSourceFull(ns, in, [4]byte{10, 2, 0, 7}, &flow{})
		require.Zero(t, reason)
		require.True(t, onlink, "ignore %v", ignore)
	}
}

// TestCarrierBridge: a bridge port without carrier is disabled: the
// flood passes it over, and a frame it takes (here by a redirect into
// its ingress) is dropped (BRIDGE_INGRESS_STP_STATE from v6.14); a bridge
// none of whose ports forwards has no carrier and drops what it sends at
// its qdisc; a frame from an invalid source address is dropped
// (MAC_INVALID_SOURCE); a flood with no port to take it is NO_TX_TARGET.
func TestCarrierBridge(t *testing.T) {
	topo := func(livePort bool) *Config {
		cfg := &Config{
			Namespaces: []NamespaceConfig{{Name: "X"}},
			Devices: []DeviceConfig{
				{Name: "eth0", Kind: KindNIC, MAC: macNIC},
				{Name: "br0", Kind: KindBridge, MAC: macA, Addrs: []netip.Prefix{pfx("10.3.0.1/24")}},
				{Name: "p2", Kind: KindVeth, Master: "br0", Peer: "x2", PeerNetns: "X", PeerDown: true},
			},
			Neighbours: []NeighConfig{{Dev: "br0", Addr: addr("10.3.0.2"), MAC: macB}},
			Sockets:    []SocketConfig{{Name: "tx", Proto: ProtoUDP, Port: 1000}},
			Entries:    []EntryConfig{{Dev: "eth0"}, {Kind: EntryTX, Socket: "tx"}},
		}
		if livePort {
			cfg.Devices = append(cfg.Devices, DeviceConfig{Name: "p1", Kind: KindVeth, Master: "br0", Peer: "x1", PeerNetns: "X",
				PeerMAC: [6]byte{2, 0, 0, 0, 0, 0x11}})
		}
		return cfg
	}
	send := func(t *testing.T, cfg *Config, prof string) []string {
		s, te := newStack(t, cfg, prof, nil, nil)
		require.NoError(t, s.Inject(&Packet{ID: 1, Entry: 1, Frame: buildFrame(frameOpts{noEth: true, src: "10.3.0.1", dst: "10.3.0.2",
			sport: 1000, dport: 2000, payload: 10})}))
		s.Flush()
		return te.obs.dropReasons()
	}
	t.Run("no forwarding port", func(t *testing.T) {
		require.Equal(t, []string{"SKB_DROP_REASON_QDISC_DROP@qdisc_enqueue"}, send(t, topo(false), ""))
	})
	t.Run("FDB entry on the port without carrier", func(t *testing.T) {
		// br_dev_xmit -> br_forward: should_deliver fails, kfree_skb.
		cfg := topo(true)
		cfg.FDB = []FDBConfig{{Dev: "p2", MAC: macB}}
		require.Equal(t, []string{"SKB_DROP_REASON_NOT_SPECIFIED@br_forward"}, send(t, cfg, ""))
	})
	t.Run("flood past the port without carrier", func(t *testing.T) {
		// x1 takes the frame for macB: another host's.
		require.Equal(t, []string{"SKB_DROP_REASON_OTHERHOST@ip_rcv_core"}, send(t, topo(true), ""))
	})
	redirect := func(t *testing.T, prof string, srcMAC [6]byte, to string) []string {
		cfg := topo(true)
		cfg.Programs = []ProgramConfig{{Name: "r", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
			return c.Redirect(c.s.Device("", to).Ifindex(), FlagIngress)
		})}}
		s, te := newStack(t, cfg, prof, nil, nil)
		require.NoError(t, s.Inject(&Packet{ID: 1, Frame: buildFrame(frameOpts{dstMAC: [6]byte{2, 0, 0, 0, 0, 0x77}, srcMAC: srcMAC,
			src: "10.3.0.9", dst: "10.3.0.7", sport: 1000, dport: 2000, payload: 10})}))
		s.Flush()
		return te.obs.dropReasons()
	}
	for _, tc := range []struct {
		name, prof string
		src        [6]byte
		to         string
		want       string
	}{
		{"into the port without carrier", "", macB, "p2", "SKB_DROP_REASON_BRIDGE_INGRESS_STP_STATE@br_handle_frame"},
		{"into the port without carrier, v6.12", "v6.12", macB, "p2", "SKB_DROP_REASON_NOT_SPECIFIED@br_handle_frame"},
		{"from a multicast source", "", [6]byte{3, 0, 0, 0, 0, 1}, "p1", "SKB_DROP_REASON_MAC_INVALID_SOURCE@br_handle_frame"},
		{"from a zero source, v6.12", "v6.12", [6]byte{}, "p1", "SKB_DROP_REASON_NOT_SPECIFIED@br_handle_frame"},
		// p1's frame floods to no other port (p2 is disabled) and the
		// unicast is not the bridge's.
		{"flood to no port", "", macB, "p1", "SKB_DROP_REASON_NO_TX_TARGET@br_forward"},
		{"flood to no port, v6.12", "v6.12", macB, "p1", "SKB_DROP_REASON_NOT_SPECIFIED@br_forward"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := redirect(t, tc.prof, tc.src, tc.to)
			require.NotEmpty(t, got)
			require.Equal(t, tc.want, got[0])
		})
	}
}

// TestCarrierConfigErrors: carrier settings a device's kind does not take,
// entries where no frame arrives, and group_fwd_mask bits the kernel
// refuses.
func TestCarrierConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"carrier off on a veth", Config{Devices: []DeviceConfig{{Name: "v0", Kind: KindVeth, Peer: "v1", NoCarrier: true}}}, "carrier off on a veth"},
		{"carrier off on lo", Config{Devices: []DeviceConfig{{Name: "lo", Kind: KindLoopback, NoCarrier: true}}}, "carrier off on a loopback"},
		{"peer_down on a bridge", Config{Devices: []DeviceConfig{{Name: "br0", Kind: KindBridge, PeerDown: true}}}, "peer_down on a bridge"},
		{"entry on a veth whose peer is down", Config{Devices: []DeviceConfig{{Name: "v0", Kind: KindVeth, Peer: "v1", PeerDown: true}},
			Entries: []EntryConfig{{Dev: "v0"}}}, "entry 0: v0 has no carrier"},
		{"default entry on a NIC without carrier", Config{Devices: []DeviceConfig{{Name: "eth0", Kind: KindNIC, NoCarrier: true}}},
			"eth0, where frames enter by default, has no carrier"},
		{"group_fwd_mask on a bridge, LACP", Config{Devices: []DeviceConfig{{Name: "br0", Kind: KindBridge, GroupFwdMask: 0x4}}},
			"group_fwd_mask 0x4: a bridge cannot forward"},
		{"group_fwd_mask on a port, MAC pause", Config{Devices: []DeviceConfig{{Name: "br0", Kind: KindBridge},
			{Name: "v0", Kind: KindVeth, Peer: "v1", Master: "br0", GroupFwdMask: 0x4002}}}, "group_fwd_mask 0x4002: a bridge port cannot"},
		{"group_fwd_mask on a veth", Config{Devices: []DeviceConfig{{Name: "v0", Kind: KindVeth, Peer: "v1", GroupFwdMask: 0x8}}},
			"group_fwd_mask is a bridge's or a bridge port's"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := newStackErr(t, &tc.cfg, "")
			require.ErrorIs(t, err, ErrConfig)
			require.True(t, strings.Contains(err.Error(), tc.want), "%v", err)
		})
	}
}

// TestDummyNoarp: a dummy is IFF_NOARP (dummy_setup): what the host sends
// through it leaves at once, to the device's own address
// (arp_constructor's NUD_NOARP entry), without an ARP request.
func TestDummyNoarp(t *testing.T) {
	mac := [6]byte{2, 0, 0, 0, 0, 0xd0}
	var seen [][]byte
	cfg := &Config{
		Devices: []DeviceConfig{{Name: "dm0", Kind: KindDummy, MAC: mac, Addrs: []netip.Prefix{pfx("10.4.0.1/24")}}},
		Sockets: []SocketConfig{{Name: "tx", Proto: ProtoUDP, Port: 1000}},
		Programs: []ProgramConfig{{Name: "eg", Hook: carrier.HookTCEgress, Dev: "dm0", Prog: ProgramFunc(func(c *Ctx) int {
			seen = append(seen, slices.Clone(c.Skb.Data()[:14]))
			return TCXNext
		})}},
		Entries: []EntryConfig{{Kind: EntryTX, Socket: "tx"}},
	}
	s, te := newStack(t, cfg, "", nil, nil)
	require.NoError(t, s.Inject(&Packet{ID: 1, Frame: buildFrame(frameOpts{noEth: true, src: "10.4.0.1", dst: "10.4.0.2", sport: 1000, dport: 2000, payload: 10})}))
	s.Flush()
	require.Len(t, seen, 1)
	require.Equal(t, append(append(mac[:], mac[:]...), 0x08, 0x00), seen[0], "IPv4 to the dummy's own address")
	require.Equal(t, uint64(1), te.obs.delivered(DeliverXmit))
}

// TestBridgeLinkLocal: frames to the link-local group addresses
// 01:80:c2:00:00:0X (br_handle_frame): the bridge group address goes
// through the bridge as any multicast frame, MAC control is dropped, the
// others go up the port itself, their source learned, unless the
// port's or the bridge's group_fwd_mask bridges them
// (TestKernelBridgeLinkLocal measures the same on 6.18).
func TestBridgeLinkLocal(t *testing.T) {
	for _, tc := range []struct {
		name, prof       string
		last             byte
		noLearn          bool
		portMask, brMask uint16
		want             string // the first drop, at its device
		learnt           bool
	}{
		{"bridge group address", "", 0x00, false, 0, 0, "SKB_DROP_REASON_NO_SOCKET@br0", true},
		{"MAC control", "", 0x01, false, 0, 0, "SKB_DROP_REASON_MAC_IEEE_MAC_CONTROL@p1", false},
		{"MAC control, v6.12", "v6.12", 0x01, false, 0, 0, "SKB_DROP_REASON_NOT_SPECIFIED@p1", false},
		{"LACP", "", 0x02, false, 0, 0, "SKB_DROP_REASON_NO_SOCKET@p1", true},
		{"LACP, the port's mask", "", 0x02, false, 0x4, 0, "SKB_DROP_REASON_NO_SOCKET@br0", true},
		{"802.1X, the bridge's mask", "", 0x03, false, 0, 0x8, "SKB_DROP_REASON_NO_SOCKET@br0", true},
		{"802.1X, another bit", "", 0x03, false, 0x10, 0x4000, "SKB_DROP_REASON_NO_SOCKET@p1", true},
		{"LLDP, learning off", "", 0x0e, true, 0, 0, "SKB_DROP_REASON_NO_SOCKET@p1", false},
		{"LLDP, the bridge's mask", "", 0x0e, false, 0, 0x4000, "SKB_DROP_REASON_NO_SOCKET@br0", true},
		{"beyond the range", "", 0x10, false, 0, 0, "SKB_DROP_REASON_NO_SOCKET@br0", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &Config{
				Namespaces: []NamespaceConfig{{Name: "X"}},
				Devices: []DeviceConfig{
					{Name: "br0", Kind: KindBridge, MAC: macA, Addrs: []netip.Prefix{pfx("10.3.0.1/24")}, GroupFwdMask: tc.brMask},
					{Name: "p1", Kind: KindVeth, Master: "br0", Peer: "x1", PeerNetns: "X", NoLearning: tc.noLearn, GroupFwdMask: tc.portMask},
				},
				Entries: []EntryConfig{{Dev: "p1"}},
			}
			s, te := newStack(t, cfg, tc.prof, nil, nil)
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: buildFrame(frameOpts{dstMAC: [6]byte{0x01, 0x80, 0xc2, 0, 0, tc.last}, srcMAC: macB,
				src: "10.3.0.9", dst: "10.3.0.1", sport: 1000, dport: 2000, payload: 10})}))
			s.Flush()
			require.NotEmpty(t, te.obs.drops)
			d := te.obs.drops[0]
			name := "br0"
			if d.Dev == s.Device("", "p1").Ifindex() {
				name = "p1"
			}
			require.Equal(t, tc.want, d.Reason.Name()+"@"+name)
			require.Equal(t, tc.learnt, s.Device("", "br0").fdbFind(macB, 0) != nil, "learnt")
		})
	}
}

// TestChangeType: bpf_skb_change_type at eth0's tc ingress (the
// change_type action) decides what ip_rcv and ip_forward do
// (TestKernelChangeType measures the same on 6.18).
func TestChangeType(t *testing.T) {
	for _, tc := range []struct {
		name   string
		typ    uint64
		dstMAC [6]byte
		dst    string
		want   string
		ret    int
	}{
		{"to the host, otherhost", 3, macNIC, "192.0.2.1", "SKB_DROP_REASON_OTHERHOST@ip_rcv_core", 0},
		{"to another MAC, host", 0, [6]byte{2, 0, 0, 0, 0, 0x99}, "192.0.2.1", "SKB_DROP_REASON_NO_SOCKET@__udp4_lib_rcv", 0},
		{"forwarded, broadcast", 1, macNIC, "10.1.0.2", "SKB_DROP_REASON_NOT_SPECIFIED@ip_forward", 0},
		{"forwarded, type 4", 4, macNIC, "10.1.0.2", "", errEINVAL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ret := 1
			cfg := fibTopology(true, ProgramConfig{Name: "ct", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
				ret = c.ChangeType(uint32(tc.typ))
				return TCXNext
			})})
			s, te := newStack(t, cfg, "", nil, nil)
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: buildFrame(frameOpts{dstMAC: tc.dstMAC, srcMAC: macB, src: "192.0.2.9", dst: tc.dst,
				sport: 1000, dport: 2000, payload: 10})}))
			s.Flush()
			require.Equal(t, tc.ret, ret)
			got := ""
			if r := te.obs.dropReasons(); len(r) != 0 {
				got = r[0]
			}
			require.Equal(t, tc.want, got)

			// The action does the same.
			cfg = fibTopology(true, ProgramConfig{Name: "ct", Hook: carrier.HookTCIngress, Dev: "eth0", Actions: []Action{{Kind: ActChangeType, Value: tc.typ}}})
			s, te = newStack(t, cfg, "", nil, nil)
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: buildFrame(frameOpts{dstMAC: tc.dstMAC, srcMAC: macB, src: "192.0.2.9", dst: tc.dst,
				sport: 1000, dport: 2000, payload: 10})}))
			s.Flush()
			got = ""
			if r := te.obs.dropReasons(); len(r) != 0 {
				got = r[0]
			}
			require.Equal(t, tc.want, got)
		})
	}
	// XDP has no bpf_skb_change_type.
	err := newStackErr(t, fibTopology(true, ProgramConfig{Name: "ct", Hook: carrier.HookXDP, Dev: "eth0", Actions: []Action{{Kind: ActChangeType}}}), "")
	require.ErrorIs(t, err, ErrConfig)
}

// TestRouteMTULocal: the host's own packets leave by the route's MTU
// (dst_mtu: the mtu metric, else the device's): a UDP datagram is built
// in pieces of it (__ip_append_data, __ip6_append_data), TCP's MSS comes
// from it (tcp_sync_mss), as TestKernelRouteMTULocal measures for IPv4 on
// 6.18.
func TestRouteMTULocal(t *testing.T) {
	type seen struct {
		len  int
		gso  uint16
		frag bool
	}
	for _, tc := range []struct {
		name string
		mtu  int
		v6   bool
		tcp  bool
		want []seen
	}{
		{"UDP", 0, false, false, []seen{{1228, 0, false}}},
		{"UDP, route mtu 1000", 1000, false, false, []seen{{996, 0, true}, {252, 0, true}}},
		// 1348 bytes: a piece of (1280 - 40) &^ 7 - 8 = 1232 payload bytes,
		// a fragment header added (ip6_fragment), and the 76 left.
		{"UDP over IPv6", 0, true, false, []seen{{1348, 0, false}}},
		{"UDP over IPv6, route mtu 1280", 1280, true, false, []seen{{1280, 0, true}, {124, 0, true}}},
		{"TCP", 0, false, true, []seen{{3040, 1360, false}}},
		{"TCP, route mtu 1000", 1000, false, true, []seen{{3040, 960, false}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []seen
			dst := pfx("10.1.0.2/32")
			if tc.v6 {
				dst = pfx("fd00:1::2/128")
			}
			proto := ProtoUDP
			if tc.tcp {
				proto = ProtoTCP
			}
			cfg := &Config{
				Namespaces: []NamespaceConfig{{Name: HostNetns}, {Name: "B"}},
				Devices: []DeviceConfig{{Name: "veth0", Kind: KindVeth, MAC: macA, MTU: 1400, Addrs: []netip.Prefix{pfx("10.1.0.1/24"), pfx("fd00:1::1/64")},
					Peer: "vB", PeerNetns: "B", PeerMAC: macB, PeerAddrs: []netip.Prefix{pfx("10.1.0.2/24"), pfx("fd00:1::2/64")}}},
				Routes: []RouteConfig{{Dst: dst, Dev: "veth0", MTU: tc.mtu}},
				Sockets: []SocketConfig{{Name: "tx", Proto: proto, Addr: addr("10.1.0.1"), Port: 40000},
					{Name: "tx6", Proto: proto, Addr: addr("fd00:1::1"), Port: 40000}},
				Programs: []ProgramConfig{{Name: "atB", Hook: carrier.HookTCIngress, Netns: "B", Dev: "vB", Prog: ProgramFunc(func(c *Ctx) int {
					d := c.Skb.Data()
					frag := false
					if tc.v6 {
						frag = d[ethHlen+6] == nexthdrFrag
					} else {
						frag = binary.BigEndian.Uint16(d[ethHlen+6:])&0x3fff != 0
					}
					got = append(got, seen{c.Skb.Len() - ethHlen, c.Skb.Shinfo().GSOSize, frag})
					return TCXNext
				})}},
				Entries: []EntryConfig{{Kind: EntryTX, Socket: "tx"}, {Kind: EntryTX, Socket: "tx6"}},
			}
			if tc.mtu == 0 {
				cfg.Routes = nil
			}
			var f []byte
			entry := 0
			switch {
			case tc.v6:
				f, entry = buildFrame6(frame6{src: "fd00:1::1", dst: "fd00:1::2", dport: 9999, payload: 1300})[ethHlen:], 1
			case tc.tcp:
				f = buildFrame(frameOpts{noEth: true, src: "10.1.0.1", dst: "10.1.0.2", proto: ipprotoTCP, sport: 40000, dport: 80,
					seq: 1000, tcpFlags: tcpACK, payload: 3000})
			default:
				f = buildFrame(frameOpts{noEth: true, src: "10.1.0.1", dst: "10.1.0.2", sport: 40000, dport: 9999, payload: 1200})
			}
			s, _ := newStack(t, cfg, "", nil, nil)
			require.NoError(t, s.Inject(&Packet{ID: 1, Entry: entry, Frame: f}))
			s.Flush()
			require.Equal(t, tc.want, got)
		})
	}
}

// TestRedirectTargetState: bpf_redirect into a device's ingress checks
// its state but not, from v5.12, its MTU (dev_forward_skb_nomtu); a
// device that is down, or a veth peer the packet is too long for, frees
// it with ____dev_forward_skb's kfree_skb (NOT_SPECIFIED;
// TestKernelRedirectTargetState measures these on 6.18).
func TestRedirectTargetState(t *testing.T) {
	for _, tc := range []struct {
		name, prof, target string
		ingress            bool
		want               string
		xdp                bool // a generic XDP program redirects
	}{
		{"into a smaller MTU", "", "d0", true, "SKB_DROP_REASON_OTHERHOST@ip_rcv_core", false},
		{"into a smaller MTU, v5.10", "v5.10", "d0", true, "SKB_DROP_REASON_NOT_SPECIFIED@__dev_forward_skb", false},
		{"into a device that is down", "", "d2", true, "SKB_DROP_REASON_NOT_SPECIFIED@__dev_forward_skb", false},
		{"out to a peer with a smaller MTU", "", "d0", false, "SKB_DROP_REASON_NOT_SPECIFIED@__dev_forward_skb", false},
		{"out of a large MTU to a peer with a smaller one", "", "d4", false, "SKB_DROP_REASON_NOT_SPECIFIED@__dev_forward_skb", false},
		{"out of a large MTU to a peer with a large one", "", "d6", false, "SKB_DROP_REASON_OTHERHOST@ip_rcv_core", false},
		{"out of a device that is down", "", "d2", false, "SKB_DROP_REASON_QDISC_DROP@qdisc_enqueue", false},
		{"out of a NIC that is down", "", "n0", false, "SKB_DROP_REASON_QDISC_DROP@qdisc_enqueue", false},
		{"generic XDP, out of a veth whose peer is down", "", "d8", false, "SKB_DROP_REASON_NOT_SPECIFIED@__dev_forward_skb", true},
		{"generic XDP, out of a veth whose peer is up", "", "d6", false, "SKB_DROP_REASON_OTHERHOST@ip_rcv_core", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hook := carrier.HookTCIngress
			if tc.xdp {
				hook = carrier.HookXDP
			}
			cfg := fibTopology(true, ProgramConfig{Name: "r", Hook: hook, Dev: "eth0",
				Actions: []Action{{Kind: ActRedirect, Target: tc.target, Ingress: tc.ingress}}})
			if tc.xdp {
				cfg.Devices[0].XDP = "generic"
			}
			cfg.Devices = append(cfg.Devices, DeviceConfig{Name: "d0", Kind: KindVeth, MTU: 1280, Peer: "d1"},
				DeviceConfig{Name: "d2", Kind: KindVeth, Down: true, Peer: "d3"},
				DeviceConfig{Name: "d4", Kind: KindVeth, MTU: 9000, Peer: "d5", PeerMTU: 1280},
				DeviceConfig{Name: "d6", Kind: KindVeth, MTU: 9000, Peer: "d7"},
				DeviceConfig{Name: "n0", Kind: KindNIC, Down: true},
				DeviceConfig{Name: "d8", Kind: KindVeth, Peer: "d9", PeerDown: true})
			s, te := newStack(t, cfg, tc.prof, nil, nil)
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "192.0.2.1",
				sport: 1000, dport: 2000, payload: 1300})}))
			s.Flush()
			require.NotEmpty(t, te.obs.dropReasons())
			require.Equal(t, tc.want, te.obs.dropReasons()[0])
		})
	}
}

// TestRouteOutputMTU: routeOutputPath's MTU is dst_mtu: lo's for a local
// destination, IPv4's clamped to IP_MAX_MTU (ipv4_mtu), IPv6's not; a
// route's mtu metric, at most 65535 - 15 (ip_metrics_convert).
func TestRouteOutputMTU(t *testing.T) {
	cfg := fibTopology(true)
	cfg.Routes = append(cfg.Routes, RouteConfig{Dst: pfx("10.4.0.0/16"), Dev: "veth0", MTU: 65535},
		RouteConfig{Dst: pfx("10.3.0.0/16"), Dev: "veth0", MTU: 1200})
	s, _ := newStack(t, cfg, "", nil, nil)
	ns := s.Netns(HostNetns)
	for _, tc := range []struct {
		dst  string
		want int
	}{{"192.0.2.1", 65535}, {"2001:db8:1::1", 65536}, {"10.4.0.1", 65520}, {"10.3.0.1", 1200}, {"10.1.0.2", 1400}} {
		_, _, mtu := s.routeOutputPath(ns, &flow{dst: addr(tc.dst)}, nil)
		require.Equal(t, tc.want, mtu, tc.dst)
	}
}
