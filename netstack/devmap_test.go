package netstack

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/skb"
)

// devmapHost is a NIC eth0 whose XDP program (native or generic) reserves
// 8 bytes of metadata and redirects into device map "out" with flags:
// entry 1 is veth v0 (its peer p0 in namespace c0 runs native XDP), entry
// 2 veth v1 (peer p1 in c1 with GRO on), entry 3 the NIC eth1, entry 4
// eth0 itself. tc ingress on p0 and p1 records the metadata length and
// mark of what arrives; devmap program dprog (when given) runs for v1.
func devmapHost(xdp string, key uint32, flags uint64, dprog ProgramFunc, rec func(dev string) ProgramFunc) *Config {
	cfg := &Config{
		Namespaces: []NamespaceConfig{{Name: "c0"}, {Name: "c1"}},
		Devices: []DeviceConfig{
			{Name: "eth0", Kind: KindNIC, MAC: macNIC, XDP: xdp, Addrs: []netip.Prefix{pfx("192.0.2.1/24")}},
			{Name: "eth1", Kind: KindNIC, MAC: macA, Addrs: []netip.Prefix{pfx("198.51.100.1/24")}},
			{Name: "v0", Kind: KindVeth, MAC: macB, Peer: "p0", PeerNetns: "c0", PeerMAC: macPeer, PeerXDP: "native"},
			{Name: "v1", Kind: KindVeth, Peer: "p1", PeerNetns: "c1", PeerGRO: "on"},
		},
		Devmaps: []DevmapConfig{{Name: "out", Entries: []DevmapEntryConfig{
			{Key: 4, Dev: "eth0"}, {Key: 1, Dev: "v0"}, {Key: 2, Dev: "v1"}, {Key: 3, Dev: "eth1"}}}},
		Programs: []ProgramConfig{
			{Name: "xdp", Hook: carrier.HookXDP, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
				if xdp == "native" && c.AdjustMeta(-8) == 0 {
					copy(c.Meta(), "skbsim:)")
				}
				return c.RedirectDevmap(0, key, flags)
			})},
			{Name: "p0xdp", Hook: carrier.HookXDP, Netns: "c0", Dev: "p0", Actions: []Action{{Kind: ActCount}}},
			{Name: "rec0", Hook: carrier.HookTCIngress, Netns: "c0", Dev: "p0", Prog: rec("p0")},
			{Name: "rec1", Hook: carrier.HookTCIngress, Netns: "c1", Dev: "p1", Prog: rec("p1")},
		},
	}
	if dprog != nil {
		cfg.Devmaps[0].Entries[2].Program = "dprog"
		cfg.Programs = append(cfg.Programs, ProgramConfig{Name: "dprog", Hook: carrier.HookXDP, Devmap: true, Prog: dprog})
	}
	return cfg
}

// TestDevmapRedirect: a frame redirected into a device map reaches a veth
// entry's peer as a new skb with the metadata (native) or as the skb itself
// without it (generic); with BPF_F_BROADCAST every entry but the ingress
// device (BPF_F_EXCLUDE_INGRESS) gets it, all but the last a copy; the
// entry's program sees the metadata and its egress device, and may drop
// the frame; before v5.13 the broadcast flags abort.
func TestDevmapRedirect(t *testing.T) {
	type got struct {
		dev  string
		meta int
	}
	for _, tc := range []struct {
		name    string
		profile string
		xdp     string
		key     uint32
		flags   uint64
		dprog   int // the devmap program's return, -1 for none
		want    []got
		xmit    uint64 // transmitted by eth1 (or eth0)
		egress  []string
		drops   []string
	}{
		{"unicast to a veth", "", "native", 1, 0, -1, []got{{"p0", 8}}, 0, nil, nil},
		{"unicast to a NIC", "", "native", 3, 0, -1, nil, 1, nil, nil},
		// XDP_PASS: eth0's own stack, which does not forward.
		{"empty entry", "", "native", 9, XDPPass, -1, nil, 0, nil, []string{"SKB_DROP_REASON_IP_INADDRERRORS@ip_rcv_finish_core"}},
		{"broadcast", "", "native", 0, FlagBroadcast | FlagExcludeIngress, -1, []got{{"p0", 8}, {"p1", 8}}, 1, nil, nil},
		{"broadcast with the ingress device", "", "native", 0, FlagBroadcast, -1, []got{{"p0", 8}, {"p1", 8}}, 2, nil, nil},
		{"devmap program passes", "", "native", 2, 0, XDPPass, []got{{"p1", 8}}, 0, []string{"v1"}, nil},
		{"devmap program drops", "", "native", 0, FlagBroadcast | FlagExcludeIngress, XDPDrop, []got{{"p0", 8}}, 1, []string{"v1"},
			[]string{"SKB_DROP_REASON_XDP@dev_map_enqueue"}},
		{"generic broadcast", "", "generic", 0, FlagBroadcast | FlagExcludeIngress, -1, []got{{"p0", 0}, {"p1", 0}}, 1, nil, nil},
		{"broadcast before v5.13", "v5.10", "native", 0, FlagBroadcast, -1, nil, 0, nil, []string{"SKB_DROP_REASON_XDP@bpf_prog_run_xdp"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var seen []got
			var egress []string
			rec := func(dev string) ProgramFunc {
				return func(c *Ctx) int {
					b := c.Skb
					n := b.MetadataLen()
					if n != 0 {
						// The metadata in front of the mac header.
						require.Equal(t, "skbsim:)", string(b.Head()[b.Headroom()-n:b.Headroom()]), "at %s", dev)
					}
					seen = append(seen, got{dev, n})
					return TCXNext
				}
			}
			var dprog ProgramFunc
			if tc.dprog >= 0 {
				dprog = func(c *Ctx) int {
					require.Len(t, c.Meta(), 8)
					for _, d := range c.s.devs {
						if d.ifindex == c.EgressIfindex() && d.ns.name == HostNetns {
							egress = append(egress, d.name)
						}
					}
					return tc.dprog
				}
			}
			s, te := newStack(t, devmapHost(tc.xdp, tc.key, tc.flags, dprog, rec), tc.profile, nil, nil)
			f := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "203.0.113.5", sport: 5000, dport: 9999, payload: 100})
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
			s.Flush()
			require.Equal(t, tc.want, seen)
			require.Equal(t, tc.egress, egress)
			require.Equal(t, tc.xmit, te.obs.delivered(DeliverXmit))
			var drops []string
			for _, r := range te.obs.dropReasons() {
				if r != "SKB_DROP_REASON_OTHERHOST@ip_rcv_core" { // the frame is for eth0's MAC
					drops = append(drops, r)
				}
			}
			require.Equal(t, tc.drops, drops)
		})
	}
}

// TestDevmapConfig: the configuration errors.
func TestDevmapConfig(t *testing.T) {
	for _, tc := range []struct {
		name    string
		profile string
		edit    func(*Config)
		want    string
	}{
		{"unknown device", "", func(c *Config) { c.Devmaps[0].Entries[0].Dev = "nope" }, `unknown device "nope"`},
		{"key twice", "", func(c *Config) { c.Devmaps[0].Entries[1].Key = 4 }, "key 4 twice"},
		{"not a devmap program", "", func(c *Config) { c.Devmaps[0].Entries[0].Program = "p0xdp" }, "not loaded for device maps"},
		{"devmap program before v5.8", "v5.4", func(c *Config) {}, "needs kernel v5.8"},
		{"unknown devmap", "", func(c *Config) {
			c.Programs[1].Actions = []Action{{Kind: ActRedirectDevmap, Target: "nope"}}
		}, `unknown devmap "nope"`},
		{"on tc", "", func(c *Config) {
			c.Programs[2].Prog, c.Programs[2].Actions = nil, []Action{{Kind: ActRedirectDevmap, Target: "out"}}
		}, "for xdp programs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := devmapHost("native", 1, 0, func(c *Ctx) int { return XDPPass }, func(string) ProgramFunc {
				return func(c *Ctx) int { return TCXNext }
			})
			tc.edit(cfg)
			err := newStackErr(t, cfg, tc.profile)
			require.ErrorIs(t, err, ErrConfig)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

// TestXDPRedirectNeedsNdoXmit: a native XDP redirect (bpf_redirect or a
// device map) reaches a veth's peer or leaves by a NIC, and fails for a
// device without ndo_xdp_xmit (__xdp_enqueue's -EOPNOTSUPP: the driver
// drops the frame); a generic XDP redirect transmits the skb on any
// device (generic_xdp_tx). TestKernelXDPRedirectTargets measures these on
// 6.18.
func TestXDPRedirectNeedsNdoXmit(t *testing.T) {
	for _, tc := range []struct {
		target  string
		generic bool
		devmap  bool
		xmit    bool     // the frame left by the target (or its veth peer took it)
		drops   []string // for a generic redirect: where the transmitted skb ended
	}{
		{target: "eth1", xmit: true},
		{target: "v0", xmit: true},
		{target: "br0"},
		{target: "mv0"},
		{target: "nk0"},
		{target: "ifb0"},
		{target: "lo"},
		{target: "br0", devmap: true},
		{target: "nk0", devmap: true},
		{target: "eth1", devmap: true, xmit: true},
		// The bridge has no port to send to (generic_xdp_tx skips the
		// qdisc, which drops without carrier); nk1 in l3 mode has the
		// zero address, so the frame for eth0's is PACKET_OTHERHOST there.
		{target: "br0", generic: true, drops: []string{"SKB_DROP_REASON_NO_TX_TARGET@br_forward"}},
		{target: "nk0", generic: true, drops: []string{"SKB_DROP_REASON_OTHERHOST@ip_rcv_core"}},
	} {
		name := tc.target
		if tc.generic {
			name += " generic"
		}
		if tc.devmap {
			name += " devmap"
		}
		t.Run(name, func(t *testing.T) {
			var peerRuns int
			xdpMode := "native"
			if tc.generic {
				xdpMode = "generic"
			}
			redirect := ProgramFunc(func(c *Ctx) int {
				if tc.devmap {
					return c.RedirectDevmap(0, 1, 0)
				}
				return c.Redirect(c.Ifindex(tc.target), 0)
			})
			cfg := &Config{
				Namespaces: []NamespaceConfig{{Name: "c"}},
				Devices: []DeviceConfig{
					{Name: "eth0", Kind: KindNIC, MAC: macNIC, XDP: xdpMode},
					{Name: "eth1", Kind: KindNIC},
					{Name: "v0", Kind: KindVeth, Peer: "p0", PeerNetns: "c", PeerXDP: "native"},
					{Name: "br0", Kind: KindBridge},
					{Name: "mv0", Kind: KindMacvlan, Link: "eth1"},
					{Name: "nk0", Kind: KindNetkit, Peer: "nk1"},
					{Name: "ifb0", Kind: KindIFB},
				},
				Devmaps: []DevmapConfig{{Name: "dm", Entries: []DevmapEntryConfig{{Key: 1, Dev: tc.target}}}},
				Programs: []ProgramConfig{
					{Name: "x", Hook: carrier.HookXDP, Dev: "eth0", Prog: redirect},
					{Name: "xp", Hook: carrier.HookXDP, Netns: "c", Dev: "p0", Prog: ProgramFunc(func(*Ctx) int { peerRuns++; return XDPDrop })},
				},
				Entries: []EntryConfig{{Dev: "eth0"}},
			}
			s, te := newStack(t, cfg, "", nil, nil)
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: rxFrame("192.0.2.1")}))
			s.Flush()
			left := te.obs.delivered(DeliverXmit) + uint64(peerRuns)
			if tc.drops != nil {
				require.Equal(t, tc.drops, te.obs.dropReasons())
				return
			}
			if tc.xmit {
				require.Equal(t, uint64(1), left, "drops: %v", te.obs.dropReasons())
				return
			}
			require.Zero(t, left)
			require.Len(t, te.obs.drops, 1)
			require.Equal(t, skb.DropXDP, te.obs.drops[0].Reason)
		})
	}
}

// TestDevmapBroadcastInvalidEntry: a broadcast into {1: vC, 2: vE (down),
// 3: vG}. Natively the invalid entry is skipped (is_valid_dst) and vC's
// and vG's peers get the frame; in generic mode dev_map_redirect_multi
// sends vC's clone, fails on vE and drops the skb (XDP), so vG's peer gets
// nothing (TestKernelDevmapBroadcastInvalid measures both on 6.18).
func TestDevmapBroadcastInvalidEntry(t *testing.T) {
	for _, generic := range []bool{false, true} {
		t.Run(map[bool]string{false: "native", true: "generic"}[generic], func(t *testing.T) {
			var got [2]int
			mode := "native"
			if generic {
				mode = "generic"
			}
			counter := func(slot int) ProgramFunc {
				return func(*Ctx) int { got[slot]++; return XDPDrop }
			}
			cfg := &Config{
				Devices: []DeviceConfig{
					{Name: "vA", Kind: KindVeth, Peer: "vB", PeerXDP: mode},
					{Name: "vC", Kind: KindVeth, Peer: "vD", PeerXDP: "native"},
					{Name: "vE", Kind: KindVeth, Peer: "vF", Down: true},
					{Name: "vG", Kind: KindVeth, Peer: "vH", PeerXDP: "native"},
				},
				Devmaps: []DevmapConfig{{Name: "dm", Entries: []DevmapEntryConfig{{Key: 1, Dev: "vC"}, {Key: 2, Dev: "vE"}, {Key: 3, Dev: "vG"}}}},
				Programs: []ProgramConfig{
					{Name: "x", Hook: carrier.HookXDP, Dev: "vB", Prog: ProgramFunc(func(c *Ctx) int { return c.RedirectDevmap(0, 0, FlagBroadcast) })},
					{Name: "xD", Hook: carrier.HookXDP, Dev: "vD", Prog: counter(0)},
					{Name: "xH", Hook: carrier.HookXDP, Dev: "vH", Prog: counter(1)},
				},
				Entries: []EntryConfig{{Dev: "vB"}},
			}
			s, te := newStack(t, cfg, "", nil, nil)
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: rxFrame("192.0.2.1")}))
			s.Flush()
			if generic {
				require.Equal(t, [2]int{1, 0}, got)
				// vD's XDP_DROP of its clone, then do_xdp_generic's drop of
				// the skb whose redirect failed.
				require.Equal(t, []string{"SKB_DROP_REASON_XDP@veth_xdp_rcv_skb", "SKB_DROP_REASON_XDP@do_xdp_generic"}, te.obs.dropReasons())
			} else {
				require.Equal(t, [2]int{1, 1}, got)
			}
		})
	}
}

// TestDevmapExcludeIngressUppers: BPF_F_EXCLUDE_INGRESS leaves out the
// ingress device and its direct upper devices (get_upper_ifindexes: the
// bridge it is a port of, the macvlans on it), by ifindex alone, so an
// entry in another namespace that has one of those numbers is left out
// too. Generic XDP on eth0 broadcasts into {its bridge or its macvlan, v0,
// p1 (in c, with eth0's ifindex)}: only v0 gets the skb.
func TestDevmapExcludeIngressUppers(t *testing.T) {
	for _, upper := range []string{"br0", "mv0"} {
		t.Run(upper, func(t *testing.T) {
			var got int
			cfg := &Config{
				Namespaces: []NamespaceConfig{{Name: "c"}},
				Devices: []DeviceConfig{
					{Name: "eth0", Kind: KindNIC, MAC: macNIC, XDP: "generic"},
					{Name: "p1", Kind: KindVeth, Netns: "c", Peer: "q1"},
					{Name: "v0", Kind: KindVeth, Peer: "p0", PeerNetns: "c", PeerXDP: "native"},
				},
				Devmaps: []DevmapConfig{{Name: "dm", Entries: []DevmapEntryConfig{{Key: 1, Dev: upper},
					{Key: 3, Dev: "v0"}, {Key: 4, Netns: "c", Dev: "p1"}}}},
				Programs: []ProgramConfig{
					{Name: "x", Hook: carrier.HookXDP, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
						return c.RedirectDevmap(0, 0, FlagBroadcast|FlagExcludeIngress)
					})},
					{Name: "xp", Hook: carrier.HookXDP, Netns: "c", Dev: "p0", Prog: ProgramFunc(func(*Ctx) int { got++; return XDPDrop })},
				},
				Entries: []EntryConfig{{Dev: "eth0"}},
			}
			if upper == "br0" {
				cfg.Devices[0].Master = "br0"
				cfg.Devices = append(cfg.Devices, DeviceConfig{Name: "br0", Kind: KindBridge})
			} else {
				cfg.Devices = append(cfg.Devices, DeviceConfig{Name: "mv0", Kind: KindMacvlan, Link: "eth0"})
			}
			s, te := newStack(t, cfg, "", nil, nil)
			require.Equal(t, s.Device(HostNetns, "eth0").Ifindex(), s.Device("c", "p1").Ifindex(), "the test needs equal ifindexes")
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: rxFrame("192.0.2.1")}))
			s.Flush()
			require.Equal(t, 1, got)
			require.Zero(t, te.obs.delivered(DeliverXmit))
			require.Equal(t, []string{"SKB_DROP_REASON_XDP@veth_xdp_rcv_skb"}, te.obs.dropReasons())
		})
	}
}
