package netstack

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/skb"
)

// mirredConfig: two NICs in one namespace; tc ingress on eth0 sets mark 7
// and runs act_mirred toward eth1; a socket on 192.0.2.1:9999 (eth0's
// address) receives.
func mirredConfig(a Action) *Config {
	return &Config{
		Devices: []DeviceConfig{
			{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("192.0.2.1/24")}},
			{Name: "eth1", Kind: KindNIC, MAC: macB, Addrs: []netip.Prefix{pfx("198.51.100.1/24")}},
		},
		Sockets: []SocketConfig{{Name: "app", Proto: ProtoUDP, Port: 9999}},
		Programs: []ProgramConfig{{Name: "tc", Hook: carrier.HookTCIngress, Dev: "eth0",
			Actions: []Action{{Kind: ActSetMark, Value: 7}, {Kind: ActSetTstamp, Value: 5}, a, {Kind: ActCount}}}},
	}
}

// seenSkb is what a program at eth1 records of the skb it runs on.
type seenSkb struct {
	id                    uint64
	cloned                bool
	mark                  uint32
	iif                   int32
	redirected, fromIngr  bool
	tstamp                int64
	headroomAtMac, macLen int
}

// TestMirred: act_mirred (tcf_mirred_to_dev) from tc ingress, for each
// direction and mode: a mirror sends a clone and the original goes on to
// the socket; a redirect at ingress sends the skb itself (no clone:
// TC_ACT_CONSUMED) and nothing reaches the socket. Nothing is scrubbed
// (the mark stays), skb_iif is eth0's, a redirect from ingress is marked
// redirected/from_ingress and loses its timestamp (skb_set_redirected), a
// mirror keeps all three as they were.
func TestMirred(t *testing.T) {
	for _, tc := range []struct {
		name        string
		ingress     bool // toward eth1's receive path
		mirror      bool
		hook        carrier.Hook // where eth1 sees it
		socketReads int
		cloned      bool
	}{
		{"egress mirror", false, true, carrier.HookTCEgress, 1, true},
		{"egress redirect", false, false, carrier.HookTCEgress, 0, false},
		{"ingress mirror", true, true, carrier.HookTCIngress, 2, true},
		{"ingress redirect", true, false, carrier.HookTCIngress, 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := mirredConfig(Action{Kind: ActMirred, Target: "eth1", Ingress: tc.ingress, Mirror: tc.mirror})
			var seen []seenSkb
			cfg.Programs = append(cfg.Programs, ProgramConfig{Name: "at_eth1", Hook: tc.hook, Dev: "eth1",
				Prog: ProgramFunc(func(c *Ctx) int {
					b := c.Skb
					h := b.H()
					seen = append(seen, seenSkb{b.ID(), b.Cloned(), h.Mark, h.SkbIIF, h.Redirected, h.FromIngress, h.Tstamp, b.Headroom() - b.MacHeader(), b.MacLen()})
					return TCXNext
				})})
			s, te := newStack(t, cfg, "", nil, nil)
			var origID uint64
			s.a.AddHooks(skb.Hooks{Clone: func(orig, _ *skb.Buff) { origID = orig.ID() }})
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: rxFrame("192.0.2.1")}))
			require.Empty(t, te.obs.dropReasons())
			require.Len(t, seen, 1)
			g := seen[0]
			require.Equal(t, tc.cloned, g.cloned)
			require.Equal(t, uint32(7), g.mark, "act_mirred does not scrub")
			require.Zero(t, g.headroomAtMac, "eth1's tc hook sees the frame from its mac header")
			if tc.ingress {
				require.Equal(t, s.Device("", "eth1").ifindex, g.iif, "__netif_receive_skb_core sets skb_iif to eth1")
			} else {
				require.Equal(t, s.Device("", "eth0").ifindex, g.iif, "tcf_mirred_to_dev: skb_iif = eth0")
			}
			require.Equal(t, !tc.mirror, g.redirected)
			require.Equal(t, !tc.mirror, g.fromIngr)
			if tc.mirror {
				require.Equal(t, int64(5), g.tstamp)
			} else {
				require.Zero(t, g.tstamp, "skb_set_redirected from ingress: skb_clear_tstamp")
				require.Zero(t, origID, "a redirect at ingress sends the skb itself")
			}
			reads := 0
			for _, d := range te.obs.delivs {
				if d.Kind == DeliverSocket {
					reads++
				}
			}
			require.Equal(t, tc.socketReads, reads)
			count := uint64(0)
			if tc.mirror {
				count = 1
			}
			require.Equal(t, count, s.ProgramCount(0), "the actions go on after a mirror (TC_ACT_PIPE) and end after a redirect")
		})
	}
}

// TestMirredKeepsExtensions: a value the RFC design stored at eth0 tc
// ingress is still there when act_mirred redirects the skb to eth1's
// receive path; bpf_redirect with BPF_F_INGRESS goes through
// __dev_forward_skb, whose skb_scrub_packet resets the extensions.
func TestMirredKeepsExtensions(t *testing.T) {
	for _, tc := range []struct {
		name  string
		act   Action
		found bool
	}{
		{"mirred", Action{Kind: ActMirred, Target: "eth1", Ingress: true}, true},
		{"bpf_redirect ingress", Action{Kind: ActRedirect, Target: "eth1", Ingress: true}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := mirredConfig(tc.act)
			cfg.Programs[0].Actions = append([]Action{{Kind: ActWrite, Map: 0, Value: 1}}, cfg.Programs[0].Actions...)
			cfg.Programs = append(cfg.Programs, ProgramConfig{Name: "read", Hook: carrier.HookTCIngress, Dev: "eth1",
				Actions: []Action{{Kind: ActRead, Map: 0}}})
			s, te := newStack(t, cfg, "", rfcCarrier("rfc", oneMap), oneMap)
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: rxFrame("192.0.2.1")}))
			require.Len(t, te.obs.reads, 1)
			want := ReadMissing
			if tc.found {
				want = ReadFound
			}
			require.Equal(t, want, te.obs.reads[0].Result)
		})
	}
}

// TestMirredFailures: a target that is down makes a redirect TC_ACT_SHOT
// (dropped as TC_INGRESS) while a mirror lets the packet go on; a
// redirect at tc egress sends a clone and consume_skb frees the original.
func TestMirredFailures(t *testing.T) {
	for _, mirror := range []bool{false, true} {
		cfg := mirredConfig(Action{Kind: ActMirred, Target: "eth1", Mirror: mirror})
		cfg.Devices[1].Down = true
		s, te := newStack(t, cfg, "", nil, nil)
		require.NoError(t, s.Inject(&Packet{ID: 1, Frame: rxFrame("192.0.2.1")}))
		if mirror {
			require.Empty(t, te.obs.dropReasons())
			require.Len(t, te.obs.delivs, 1)
		} else {
			require.Equal(t, []string{"SKB_DROP_REASON_TC_INGRESS@sch_handle_ingress"}, te.obs.dropReasons())
		}
	}

	cfg := vethTxConfig()
	cfg.Devices = append(cfg.Devices, DeviceConfig{Name: "eth1", Kind: KindNIC, Netns: "A", MAC: macNIC})
	cfg.Programs = []ProgramConfig{
		{Name: "eg", Hook: carrier.HookTCEgress, Netns: "A", Dev: "vA", Actions: []Action{{Kind: ActMirred, Target: "eth1"}}},
		{Name: "c", Hook: carrier.HookTracepoint, Event: EventConsumeSkb, Prog: ProgramFunc(func(c *Ctx) int { return 0 })},
	}
	s, te := newStack(t, cfg, "", nil, nil)
	var cloneOf, consumed []uint64
	s.a.AddHooks(skb.Hooks{
		Clone: func(orig, _ *skb.Buff) { cloneOf = append(cloneOf, orig.ID()) },
		Free:  func(b *skb.Buff, r skb.DropReason) { consumed = append(consumed, b.ID()) },
	})
	require.NoError(t, s.Inject(&Packet{ID: 1, Frame: buildFrame(frameOpts{src: "192.0.2.1", dst: "192.0.2.2", sport: 40000, dport: 9999, payload: 64, noEth: true})}))
	require.Empty(t, te.obs.dropReasons())
	require.Len(t, cloneOf, 1, "a redirect at egress clones")
	require.Contains(t, consumed, cloneOf[0], "the original is consumed (TC_ACT_STOLEN)")
	require.Equal(t, []DeliverEvent{{PacketID: 1, Kind: DeliverXmit, Index: 1}}, te.obs.delivs, "only eth1 transmits; nothing reaches B")
}

// TestMirredConfig: act_mirred is a tc action.
func TestMirredConfig(t *testing.T) {
	cfg := rxToSocketConfig()
	cfg.Programs[0].Hook = carrier.HookCgroupIngress
	cfg.Programs[0].Dev = ""
	cfg.Programs[0].Actions = []Action{{Kind: ActMirred, Target: "eth0"}}
	_, err := New(cfg, Env{Alloc: skb.NewAllocator(kmem.New(), skb.DefaultProfile())})
	require.ErrorIs(t, err, ErrConfig)
	require.ErrorContains(t, err, "(mirred): a tc action")
}

// TestMirredNestLimit: two devices mirroring to each other's ingress loop
// until MIRRED_NEST_LIMIT: the fourth nested mirred returns TC_ACT_SHOT
// (its skb is dropped as TC_INGRESS), every skb before it goes on to the
// socket.
func TestMirredNestLimit(t *testing.T) {
	cfg := mirredConfig(Action{Kind: ActMirred, Target: "eth1", Ingress: true, Mirror: true})
	cfg.Programs = append(cfg.Programs, ProgramConfig{Name: "back", Hook: carrier.HookTCIngress, Dev: "eth1",
		Actions: []Action{{Kind: ActMirred, Target: "eth0", Ingress: true, Mirror: true}}})
	s, te := newStack(t, cfg, "", nil, nil)
	require.NoError(t, s.Inject(&Packet{ID: 1, Frame: rxFrame("192.0.2.1")}))
	require.Equal(t, []string{"SKB_DROP_REASON_TC_INGRESS@sch_handle_ingress"}, te.obs.dropReasons())
	require.Len(t, te.obs.delivs, mirredNestLimit, "the original and the clones sent at nest levels 1 to 3")
	require.Zero(t, s.mirredNest)
}

// TestRedirectNeigh: bpf_redirect_neigh from a NIC's tc ingress sends the
// packet out of a veth to the route's next hop: the peer's address on
// link, or a route's gateway through that device; the Ethernet header is
// the neighbour's, the tstamp is cleared and nothing is scrubbed. No
// neighbour is NEIGH_FAILED; a multicast frame is refused; the helper is
// tc only.
func TestRedirectNeigh(t *testing.T) {
	gwMAC := [6]byte{0x02, 0, 0, 0, 0x77, 1}
	for _, tc := range []struct {
		name   string
		dst    string
		dstMAC [6]byte
		routes []RouteConfig
		neigh  []NeighConfig
		via    string  // the nexthop parameter (struct bpf_redir_neigh)
		want   [6]byte // the frame's destination at the veth's egress
		drops  []string
	}{
		{name: "on link", dst: "10.1.0.2", dstMAC: macNIC, want: macB},
		{name: "through a gateway", dst: "10.9.0.1", dstMAC: macNIC,
			routes: []RouteConfig{{Dst: pfx("10.9.0.0/16"), Dev: "veth0", Via: addr("10.1.0.254"), Onlink: true}},
			neigh:  []NeighConfig{{Dev: "veth0", Addr: addr("10.1.0.254"), MAC: gwMAC}}, want: gwMAC,
			drops: []string{"SKB_DROP_REASON_OTHERHOST@ip_rcv_core"}},
		{name: "no neighbour", dst: "10.1.0.9", dstMAC: macNIC, drops: []string{"SKB_DROP_REASON_NEIGH_FAILED@neigh_output"}},
		{name: "via a next hop, not the route's", dst: "10.1.0.2", dstMAC: macNIC, via: "10.1.0.254",
			neigh: []NeighConfig{{Dev: "veth0", Addr: addr("10.1.0.254"), MAC: gwMAC}}, want: gwMAC,
			drops: []string{"SKB_DROP_REASON_OTHERHOST@ip_rcv_core"}},
		{name: "via a next hop without a neighbour", dst: "10.1.0.2", dstMAC: macNIC, via: "10.1.0.77",
			drops: []string{"SKB_DROP_REASON_NEIGH_FAILED@neigh_output"}},
		{name: "via an IPv4 next hop for an IPv4 packet off the routes", dst: "203.0.113.5", dstMAC: macNIC, via: "10.1.0.2", want: macB,
			drops: []string{"SKB_DROP_REASON_IP_INADDRERRORS@ip_rcv_finish_core"}},
		{name: "multicast frame", dst: "10.1.0.2", dstMAC: [6]byte{1, 0, 0x5e, 0, 0, 1}, drops: []string{"SKB_DROP_REASON_NOT_SPECIFIED@skb_do_redirect"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var via netip.Addr
			if tc.via != "" {
				via = addr(tc.via)
			}
			var out [][6]byte
			var marks []uint32
			var tstamps []int64
			cfg := &Config{
				Namespaces: []NamespaceConfig{{Name: "B"}},
				Devices: []DeviceConfig{{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("192.0.2.1/24")}},
					{Name: "veth0", Kind: KindVeth, Peer: "eth0", PeerNetns: "B", PeerMAC: macB, PeerAddrs: []netip.Prefix{pfx("10.1.0.2/24")}}},
				Routes:     tc.routes,
				Neighbours: tc.neigh,
				Sockets:    []SocketConfig{{Name: "b", Netns: "B", Proto: ProtoUDP, Port: 2000}},
				Options:    Options{RxTimestamps: true},
				Programs: []ProgramConfig{
					{Name: "in", Hook: carrier.HookTCIngress, Dev: "eth0", Actions: []Action{{Kind: ActSetMark, Value: 5}, {Kind: ActRedirectNeigh, Target: "veth0", Via: via}}},
					{Name: "out", Hook: carrier.HookTCEgress, Dev: "veth0", Prog: ProgramFunc(func(c *Ctx) int {
						out = append(out, [6]byte(c.Skb.Data()[0:6]))
						marks = append(marks, c.Skb.H().Mark)
						tstamps = append(tstamps, c.Skb.H().Tstamp)
						if [6]byte(c.Skb.Data()[6:12]) != c.s.Netns(HostNetns).dev("veth0").mac {
							t.Errorf("source %x is not veth0's", c.Skb.Data()[6:12])
						}
						return TCXNext
					})},
				},
				Entries: []EntryConfig{{Dev: "eth0"}},
			}
			s, te := newStack(t, cfg, "", nil, nil)
			f := buildFrame(frameOpts{dstMAC: tc.dstMAC, srcMAC: macA, src: "192.0.2.9", dst: tc.dst, sport: 1000, dport: 2000, payload: 10})
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
			require.Equal(t, tc.drops, te.obs.dropReasons())
			if tc.want == ([6]byte{}) {
				require.Empty(t, out)
				return
			}
			require.Equal(t, [][6]byte{tc.want}, out)
			require.Equal(t, []uint32{5}, marks, "no scrub")
			require.Equal(t, []int64{0}, tstamps, "skb_clear_tstamp")
		})
	}
	cfg := &Config{
		Devices:  []DeviceConfig{{Name: "eth0", Kind: KindNIC}},
		Programs: []ProgramConfig{{Name: "x", Hook: carrier.HookXDP, Dev: "eth0", Actions: []Action{{Kind: ActRedirectNeigh, Target: "eth0"}}}},
	}
	require.ErrorIs(t, newStackErr(t, cfg, ""), ErrConfig, "bpf_redirect_neigh is a tc helper")
	cfg.Programs[0] = ProgramConfig{Name: "x", Hook: carrier.HookTCIngress, Dev: "eth0", Actions: []Action{{Kind: ActRedirect, Target: "eth0", Via: addr("10.0.0.1")}}}
	require.ErrorIs(t, newStackErr(t, cfg, ""), ErrConfig, "a next hop is redirect_neigh's")

	// A nh_family that is neither AF_INET nor AF_INET6 (the zero Addr)
	// frees the packet in skb_do_redirect.
	cfg = &Config{
		Devices:    []DeviceConfig{{Name: "eth0", Kind: KindNIC, MAC: macNIC}, {Name: "veth0", Kind: KindVeth, Peer: "vB", PeerNetns: "B"}},
		Namespaces: []NamespaceConfig{{Name: "B"}},
		Programs: []ProgramConfig{{Name: "in", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
			return c.RedirectNeighVia(c.Ifindex("veth0"), netip.Addr{}, 0)
		})}},
		Entries: []EntryConfig{{Dev: "eth0"}},
	}
	s, te := newStack(t, cfg, "", nil, nil)
	require.NoError(t, s.Inject(&Packet{ID: 1, Frame: buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macA, src: "192.0.2.9", dst: "10.1.0.2", sport: 1, dport: 2, payload: 4})}))
	require.Equal(t, []string{"SKB_DROP_REASON_NOT_SPECIFIED@skb_do_redirect"}, te.obs.dropReasons())
}

// TestRedirectNeigh6: bpf_redirect_neigh of an IPv6 packet needs a route
// through the target (ip6_route_output_flow): without one, or past a
// blackhole route, the skb is freed; with one it reaches B. IPv4 goes on
// link either way (TestRedirectNeigh). As on 6.18
// (TestKernelRedirectNeighRoutes).
func TestRedirectNeigh6(t *testing.T) {
	for _, tc := range []struct {
		name      string
		routes    []RouteConfig
		drops     []string
		delivered uint64
	}{
		{"no route", nil, []string{"SKB_DROP_REASON_NOT_SPECIFIED@skb_do_redirect"}, 0},
		{"a route through veth0", []RouteConfig{{Dst: pfx("fd00:1::/64"), Dev: "veth0"}}, nil, 1},
		{"a blackhole past the route", []RouteConfig{{Dst: pfx("fd00:1::/64"), Dev: "veth0"}, {Dst: pfx("fd00:1::2/128"), Type: RouteBlackhole}},
			[]string{"SKB_DROP_REASON_NOT_SPECIFIED@skb_do_redirect"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &Config{
				Namespaces: []NamespaceConfig{{Name: "B"}},
				Devices: []DeviceConfig{{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("2001:db8::1/64")}},
					{Name: "veth0", Kind: KindVeth, Peer: "eth0", PeerNetns: "B", PeerMAC: macB, PeerAddrs: []netip.Prefix{pfx("fd00:1::2/64")}}},
				Routes:   tc.routes,
				Sockets:  []SocketConfig{{Name: "b", Netns: "B", Proto: ProtoUDP, Port: 2000, Addr: netip.IPv6Unspecified()}},
				Programs: []ProgramConfig{{Name: "in", Hook: carrier.HookTCIngress, Dev: "eth0", Actions: []Action{{Kind: ActRedirectNeigh, Target: "veth0"}}}},
				Entries:  []EntryConfig{{Dev: "eth0"}},
			}
			s, te := newStack(t, cfg, "", nil, nil)
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: buildFrame6(frame6{dstMAC: macNIC, srcMAC: macA, src: "2001:db8::9", dst: "fd00:1::2", dport: 2000, payload: 8})}))
			require.Equal(t, tc.drops, te.obs.dropReasons())
			require.Equal(t, tc.delivered, te.obs.delivered(DeliverSocket))
		})
	}
}
