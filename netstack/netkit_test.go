package netstack

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/skb"
)

// nkSeen is what a probe program read at one hook.
type nkSeen struct {
	hook     string
	mark     uint32
	priority uint32
	tstamp   int64
	pktType  skb.PktType
	dev      int32
	netns    uint32
	headroom int
	proto    uint16
}

func nkHooks(seen []nkSeen) []string {
	var out []string
	for _, s := range seen {
		out = append(out, s.hook)
	}
	return out
}

// nkProbe returns a program that appends what it reads to *seen, then
// runs then (nil: return TCXNext).
func nkProbe(seen *[]nkSeen, name string, then func(c *Ctx) int) Program {
	return ProgramFunc(func(c *Ctx) int {
		h := c.Skb.H()
		*seen = append(*seen, nkSeen{hook: name, mark: h.Mark, priority: h.Priority, tstamp: h.Tstamp, pktType: h.PktType,
			dev: h.Dev, netns: h.Netns, headroom: c.Skb.Headroom(), proto: h.Protocol})
		if then != nil {
			return then(c)
		}
		return TCXNext
	})
}

// netkitConfig is a NIC eth0 (10.0.0.1/24) in the host namespace, which
// forwards, and a netkit pair nk0 (host, 10.0.1.1/24) and nk1 (namespace
// pod, 10.0.1.2/24, default route via nk1), a UDP socket on port 2000 and
// a sender on port 1000 in pod, a dummy d0 in pod, and probes at eth0's tc
// ingress, nk0's tc egress (which sets mark 7, priority 5 and a receive
// timestamp of 99), nk1's tc ingress and egress, and nk0's tc ingress.
// Entries: 0 frames on eth0, 1 the pod's sender.
func netkitConfig(seen *[]nkSeen) *Config {
	return &Config{
		Namespaces: []NamespaceConfig{{Name: HostNetns, Forwarding: true}, {Name: "pod"}},
		Devices: []DeviceConfig{
			{Name: "eth0", Kind: KindNIC, MAC: macEth0, Addrs: []netip.Prefix{pfx("10.0.0.1/24")}},
			{Name: "nk0", Kind: KindNetkit, Addrs: []netip.Prefix{pfx("10.0.1.1/24")},
				Peer: "nk1", PeerNetns: "pod", PeerAddrs: []netip.Prefix{pfx("10.0.1.2/24")}},
			{Name: "d0", Kind: KindDummy, Netns: "pod"},
		},
		Routes:     []RouteConfig{{Netns: "pod", Dev: "nk1"}},
		Neighbours: []NeighConfig{{Dev: "eth0", Addr: addr("10.0.0.9"), MAC: macGW}},
		Sockets: []SocketConfig{
			{Name: "rx", Netns: "pod", Proto: ProtoUDP, Port: 2000},
			{Name: "send", Netns: "pod", Proto: ProtoUDP, Port: 1000},
		},
		Programs: []ProgramConfig{
			{Name: "eth0-in", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: nkProbe(seen, "eth0-in", nil)},
			{Name: "nk0-out", Hook: carrier.HookTCEgress, Dev: "nk0", Prog: nkProbe(seen, "nk0-out", func(c *Ctx) int {
				c.SetMark(7)
				c.SetPriority(5)
				c.SetTstamp(99)
				return TCXNext
			})},
			{Name: "nk1-in", Hook: carrier.HookTCIngress, Netns: "pod", Dev: "nk1", Prog: nkProbe(seen, "nk1-in", nil)},
			{Name: "nk1-out", Hook: carrier.HookTCEgress, Netns: "pod", Dev: "nk1", Prog: nkProbe(seen, "nk1-out", nil)},
			{Name: "nk0-in", Hook: carrier.HookTCIngress, Dev: "nk0", Prog: nkProbe(seen, "nk0-in", nil)},
		},
		Entries: []EntryConfig{{Dev: "eth0"}, {Kind: EntryTX, Netns: "pod", Socket: "send"}},
	}
}

// worldFrame is a UDP datagram from 10.0.0.9 to the pod's socket, as eth0
// receives it.
func worldFrame() []byte {
	return buildFrame(frameOpts{dstMAC: macEth0, srcMAC: macGW, src: "10.0.0.9", dst: "10.0.1.2", sport: 1000, dport: 2000, payload: 10})
}

// withNetkitProgs adds programs at nk0's netkit_primary and netkit_peer
// hooks (either may be nil).
func withNetkitProgs(cfg *Config, primary, peer []Program) {
	for i, p := range primary {
		cfg.Programs = append(cfg.Programs, ProgramConfig{Name: "primary" + string(rune('0'+i)), Hook: carrier.HookNetkitPrimary, Dev: "nk0", Prog: p})
	}
	for i, p := range peer {
		cfg.Programs = append(cfg.Programs, ProgramConfig{Name: "peer" + string(rune('0'+i)), Hook: carrier.HookNetkitPeer, Dev: "nk0", Prog: p})
	}
}

// TestNetkitScrub: what a frame forwarded into the pod keeps of what nk0's
// tc egress wrote, by profile, scrub mode and namespaces
// (netkit_prep_forward). From v6.13 the frame is scrubbed with
// xnet=false, and crossing namespaces loses its receive timestamp and,
// with NETKIT_SCRUB_DEFAULT, mark and priority; NETKIT_SCRUB_NONE keeps
// them. Before, skb_scrub_packet(skb, xnet) cleared mark and timestamp
// across namespaces and priority was zeroed always. The netkit_primary
// program runs after the scrub, with skb->dev the peer. With both ends in
// the host namespace the frame goes to a prefix routed through nk0, and
// nk1's tc ingress drops it.
func TestNetkitScrub(t *testing.T) {
	for _, tc := range []struct {
		name      string
		profile   string
		scrub     string
		sameNetns bool
		mark, pri uint32
		tstamp    int64
	}{
		{name: "v6.18 default", profile: "v6.18"},
		{name: "v6.18 scrub none", profile: "v6.18", scrub: NetkitScrubNone, mark: 7, pri: 5},
		{name: "v6.12", profile: "v6.12"},
		{name: "v6.18 same namespace", profile: "v6.18", sameNetns: true, mark: 7, pri: 5, tstamp: 99},
		{name: "v6.18 same namespace scrub default", profile: "v6.18", scrub: NetkitScrubDefault, sameNetns: true, mark: 7, pri: 5, tstamp: 99},
		{name: "v6.12 same namespace", profile: "v6.12", sameNetns: true, mark: 7, tstamp: 99},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var seen []nkSeen
			cfg := netkitConfig(&seen)
			cfg.Devices[1].Scrub = tc.scrub
			podNs := "pod"
			if tc.sameNetns {
				podNs = HostNetns
				cfg.Devices[1].PeerNetns = HostNetns
				cfg.Devices[2].Netns = HostNetns
				cfg.Routes = []RouteConfig{{Dst: pfx("10.0.2.0/24"), Dev: "nk0"}}
				cfg.Sockets[0].Netns, cfg.Sockets[1].Netns = HostNetns, HostNetns
				cfg.Programs[2].Netns, cfg.Programs[3].Netns = HostNetns, HostNetns
				cfg.Programs[2].Prog = nkProbe(&seen, "nk1-in", func(*Ctx) int { return TCXDrop })
				cfg.Entries = cfg.Entries[:1]
			}
			withNetkitProgs(cfg, []Program{nkProbe(&seen, "primary", nil)}, nil)
			s, te := newStack(t, cfg, tc.profile, nil, nil)
			f := worldFrame()
			if tc.sameNetns {
				f = buildFrame(frameOpts{dstMAC: macEth0, srcMAC: macGW, src: "10.0.0.9", dst: "10.0.2.5", sport: 1000, dport: 2000, payload: 10})
			}
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
			nk1 := s.Netns(podNs).dev("nk1")
			require.Equal(t, []string{"eth0-in", "nk0-out", "primary", "nk1-in"}, nkHooks(seen))
			if tc.sameNetns {
				require.Equal(t, []string{"SKB_DROP_REASON_TC_INGRESS@sch_handle_ingress"}, te.obs.dropReasons())
			} else {
				require.Equal(t, uint64(1), te.obs.delivered(DeliverSocket))
				require.Empty(t, te.obs.dropReasons())
			}
			in := seen[len(seen)-1]
			require.Equal(t, nkSeen{hook: "nk1-in", mark: tc.mark, priority: tc.pri, tstamp: tc.tstamp, pktType: skb.PacketHost,
				dev: nk1.ifindex, netns: nk1.ns.id, headroom: in.headroom, proto: ethPIP}, in)
			prim := seen[len(seen)-2]
			require.Equal(t, nk1.ifindex, prim.dev, "skb->dev is the peer when the primary's programs run")
			require.Equal(t, nk1.ns.id, prim.netns)
			require.Equal(t, in.mark, prim.mark, "the programs run after netkit_prep_forward")
			require.Equal(t, in.priority, prim.priority)
		})
	}
}

// TestNetkitDeliveryTime: a delivery time (EDT, tstamp_type MONO) crosses
// into the pod; skb_clear_tstamp only clears a receive timestamp.
func TestNetkitDeliveryTime(t *testing.T) {
	for _, profile := range []string{"v6.12", "v6.18"} {
		t.Run(profile, func(t *testing.T) {
			var seen []nkSeen
			cfg := netkitConfig(&seen)
			cfg.Programs[1].Prog = nkProbe(&seen, "nk0-out", func(c *Ctx) int {
				c.SetDeliveryTime(1234, skb.ClockMonotonic)
				return TCXNext
			})
			s, _ := newStack(t, cfg, profile, nil, nil)
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: worldFrame()}))
			require.Equal(t, int64(1234), seen[len(seen)-1].tstamp)
		})
	}
}

// TestNetkitVerdicts: the primary's programs decide in turn until one
// returns something other than NETKIT_NEXT; NEXT from the last passes,
// whatever the policy; without programs the policy decides; DROP and
// unknown values drop (netkit_xmit's default case, unlike tcx, where an
// unknown value is NEXT).
func TestNetkitVerdicts(t *testing.T) {
	ret := func(r int) Program { return ProgramFunc(func(*Ctx) int { return r }) }
	dropped := []string{"SKB_DROP_REASON_NOT_SPECIFIED@netkit_xmit"}
	for _, tc := range []struct {
		name      string
		policy    string
		progs     []Program
		runs      int // programs run (0: all of progs)
		delivered uint64
		drops     []string
	}{
		{name: "no program", delivered: 1},
		{name: "no program, blackhole", policy: NetkitBlackhole, drops: dropped},
		{name: "next", progs: []Program{ret(TCXNext)}, delivered: 1},
		{name: "next, blackhole", policy: NetkitBlackhole, progs: []Program{ret(TCXNext)}, delivered: 1},
		{name: "pass", progs: []Program{ret(TCXPass)}, delivered: 1},
		{name: "drop", progs: []Program{ret(TCXDrop)}, drops: dropped},
		{name: "unknown value", progs: []Program{ret(1)}, drops: dropped},
		{name: "next then drop", progs: []Program{ret(TCXNext), ret(TCXDrop)}, drops: dropped},
		{name: "pass then drop", progs: []Program{ret(TCXPass), ret(TCXDrop)}, runs: 1, delivered: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var seen []nkSeen
			cfg := netkitConfig(&seen)
			cfg.Devices[1].Policy = tc.policy
			withNetkitProgs(cfg, tc.progs, nil)
			s, te := newStack(t, cfg, "", nil, nil)
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: worldFrame()}))
			require.Equal(t, tc.delivered, te.obs.delivered(DeliverSocket))
			require.Equal(t, tc.drops, te.obs.dropReasons())
			runs := 0
			for _, r := range te.obs.runs {
				if r.Hook == carrier.HookNetkitPrimary {
					runs++
				}
			}
			want := tc.runs
			if want == 0 {
				want = len(tc.progs)
			}
			require.Equal(t, want, runs)
		})
	}
}

// TestNetkitRedirect: NETKIT_REDIRECT sends the frame where the program's
// bpf_redirect said, looked up in the receiving end's namespace (the
// pod's d0 for the primary's programs, the host's eth0 for the peer's);
// bpf_redirect_peer fails there (not at tc ingress), even for a frame that
// came through eth0's tc ingress.
func TestNetkitRedirect(t *testing.T) {
	t.Run("primary to the pod's d0", func(t *testing.T) {
		var seen []nkSeen
		cfg := netkitConfig(&seen)
		withNetkitProgs(cfg, []Program{ProgramFunc(func(c *Ctx) int { return c.Redirect(c.Ifindex("d0"), 0) })}, nil)
		s, te := newStack(t, cfg, "", nil, nil)
		require.NoError(t, s.Inject(&Packet{ID: 1, Frame: worldFrame()}))
		require.Equal(t, uint64(1), te.obs.delivered(DeliverXmit))
		require.Zero(t, te.obs.delivered(DeliverSocket))
		require.Empty(t, te.obs.dropReasons())
	})
	t.Run("redirect_peer from a netkit program", func(t *testing.T) {
		var seen []nkSeen
		cfg := netkitConfig(&seen)
		// No tc egress program on nk0: __dev_queue_xmit itself clears
		// tc_at_ingress, which eth0's tc ingress set.
		cfg.Programs = slices.Delete(cfg.Programs, 1, 2)
		withNetkitProgs(cfg, []Program{ProgramFunc(func(c *Ctx) int { return c.RedirectPeer(c.Ifindex("nk1"), 0) })}, nil)
		s, te := newStack(t, cfg, "", nil, nil)
		require.NoError(t, s.Inject(&Packet{ID: 1, Frame: worldFrame()}))
		require.Equal(t, []string{"SKB_DROP_REASON_NOT_SPECIFIED@skb_do_redirect(peer)"}, te.obs.dropReasons())
	})
	t.Run("peer to the host's eth0", func(t *testing.T) {
		var seen []nkSeen
		cfg := netkitConfig(&seen)
		withNetkitProgs(cfg, nil, []Program{nkProbe(&seen, "peer", func(c *Ctx) int { return c.Redirect(c.Ifindex("eth0"), 0) })})
		s, te := newStack(t, cfg, "", nil, nil)
		f := buildFrame(frameOpts{src: "10.0.1.2", dst: "10.0.0.9", sport: 1000, dport: 2000, payload: 10, ttl: 64, noEth: true})
		require.NoError(t, s.Inject(&Packet{ID: 1, Entry: 1, Frame: f}))
		// nk1's tc egress, then the peer's program with skb->dev = nk0;
		// eth0 sends the frame without the host's IP layer (nk0's tc
		// ingress never runs).
		require.Equal(t, []string{"nk1-out", "peer"}, nkHooks(seen))
		nk0 := s.Netns(HostNetns).dev("nk0")
		require.Equal(t, nk0.ifindex, seen[1].dev)
		require.Equal(t, nk0.ns.id, seen[1].netns)
		require.Equal(t, uint64(1), te.obs.delivered(DeliverXmit))
		require.Empty(t, te.obs.dropReasons())
	})
	t.Run("pod egress through the host", func(t *testing.T) {
		var seen []nkSeen
		cfg := netkitConfig(&seen)
		withNetkitProgs(cfg, nil, []Program{nkProbe(&seen, "peer", nil)})
		s, te := newStack(t, cfg, "", nil, nil)
		f := buildFrame(frameOpts{src: "10.0.1.2", dst: "10.0.0.9", sport: 1000, dport: 2000, payload: 10, noEth: true})
		require.NoError(t, s.Inject(&Packet{ID: 1, Entry: 1, Frame: f}))
		require.Equal(t, []string{"nk1-out", "peer", "nk0-in"}, nkHooks(seen))
		require.Equal(t, uint64(1), te.obs.delivered(DeliverXmit), "forwarded out of eth0")
	})
}

// TestNetkitRedirectPeer: bpf_redirect_peer at eth0's tc ingress moves the
// frame straight to nk1 in the pod (skb_scrub_packet(skb, false): the mark
// survives) for another round of the receive path; nk0's transmit path,
// its programs, policy and scrub mode are bypassed.
func TestNetkitRedirectPeer(t *testing.T) {
	var seen []nkSeen
	cfg := netkitConfig(&seen)
	cfg.Devices[1].Policy = NetkitBlackhole
	cfg.Programs[0].Prog = nkProbe(&seen, "eth0-in", func(c *Ctx) int {
		c.SetMark(7)
		return c.RedirectPeer(c.Ifindex("nk0"), 0)
	})
	withNetkitProgs(cfg, []Program{nkProbe(&seen, "primary", nil)}, nil)
	s, te := newStack(t, cfg, "", nil, nil)
	require.NoError(t, s.Inject(&Packet{ID: 1, Frame: worldFrame()}))
	require.Equal(t, []string{"eth0-in", "nk1-in"}, nkHooks(seen))
	require.Equal(t, uint32(7), seen[1].mark)
	require.Equal(t, uint64(1), te.obs.delivered(DeliverSocket))
	require.Empty(t, te.obs.dropReasons())
}

// TestNetkitPktType: from v6.10 the peer's pkt_type is set before the
// programs (eth_skb_pkt_type) and kept after them, so a program's
// bpf_skb_change_type sticks; before, eth_type_trans after the programs
// set it again for a frame not to the peer's address (a proxy's
// PACKET_HOST became PACKET_OTHERHOST). In l3 mode every frame is to the
// peer's (zero) address; in l2 mode a frame to another address is
// PACKET_OTHERHOST, a multicast one PACKET_MULTICAST.
func TestNetkitPktType(t *testing.T) {
	old := skb.DefaultProfile()
	old.NetkitPktType = false
	for _, tc := range []struct {
		name    string
		prof    skb.Profile
		l2      bool
		foreign bool // the pod resolves 10.0.0.9 to macGW on nk1
		set     bool // the peer's program sets pkt_type to change
		change  skb.PktType
		dst     string
		want    skb.PktType
	}{
		{name: "l3", prof: skb.DefaultProfile(), dst: "10.0.0.9", want: skb.PacketHost},
		{name: "l3 program's type", prof: skb.DefaultProfile(), set: true, change: skb.PacketOtherhost, dst: "10.0.0.9", want: skb.PacketOtherhost},
		{name: "l3 program's type before v6.10", prof: old, set: true, change: skb.PacketOtherhost, dst: "10.0.0.9", want: skb.PacketOtherhost},
		{name: "l2 to the peer", prof: skb.DefaultProfile(), l2: true, dst: "10.0.0.9", want: skb.PacketHost},
		{name: "l2 to another address", prof: skb.DefaultProfile(), l2: true, foreign: true, dst: "10.0.0.9", want: skb.PacketOtherhost},
		{name: "l2 proxy's type kept", prof: skb.DefaultProfile(), l2: true, foreign: true, set: true, change: skb.PacketHost, dst: "10.0.0.9",
			want: skb.PacketHost},
		{name: "l2 proxy's type before v6.10", prof: old, l2: true, foreign: true, set: true, change: skb.PacketHost, dst: "10.0.0.9",
			want: skb.PacketOtherhost},
		{name: "l2 multicast", prof: skb.DefaultProfile(), l2: true, dst: "224.0.0.9", want: skb.PacketMulticast},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var seen []nkSeen
			cfg := netkitConfig(&seen)
			if tc.l2 {
				cfg.Devices[1].Mode = NetkitL2
				cfg.Routes = []RouteConfig{{Netns: "pod", Dev: "nk1", Via: addr("10.0.1.1")}}
			}
			if tc.foreign {
				cfg.Routes = append(cfg.Routes, RouteConfig{Netns: "pod", Dst: pfx("10.0.0.0/24"), Dev: "nk1"})
				cfg.Neighbours = append(cfg.Neighbours, NeighConfig{Netns: "pod", Dev: "nk1", Addr: addr("10.0.0.9"), MAC: macGW})
			}
			withNetkitProgs(cfg, nil, []Program{nkProbe(&seen, "peer", func(c *Ctx) int {
				if tc.set {
					c.Skb.H().PktType = tc.change // bpf_skb_change_type
				}
				return TCXNext
			})})
			s, _ := newStackProf(t, cfg, tc.prof, nil, nil)
			f := buildFrame(frameOpts{src: "10.0.1.2", dst: tc.dst, sport: 1000, dport: 2000, payload: 10, noEth: true})
			require.NoError(t, s.Inject(&Packet{ID: 1, Entry: 1, Frame: f}))
			require.Equal(t, []string{"nk1-out", "peer", "nk0-in"}, nkHooks(seen))
			in := seen[2]
			require.Equal(t, tc.want, in.pktType)
			require.Equal(t, uint16(ethPIP), in.proto)
		})
	}
}

// TestNetkitAddresses: in l3 mode both ends have the zero address and are
// IFF_NOARP: the frame carries zero Ethernet addresses (arp_constructor's
// NUD_NOARP entry takes the device's own) and an ARP request gets no
// reply (arp_rcv consumes it); in l2 mode the ends have addresses and
// resolve each other's like a veth pair.
func TestNetkitAddresses(t *testing.T) {
	for _, l2 := range []bool{false, true} {
		t.Run(map[bool]string{false: "l3", true: "l2"}[l2], func(t *testing.T) {
			var frames [][]byte
			cfg := netkitConfig(new([]nkSeen))
			cfg.Options.Replies = true
			if l2 {
				cfg.Devices[1].Mode = NetkitL2
			}
			cfg.Programs = append(cfg.Programs, ProgramConfig{Name: "frame", Hook: carrier.HookNetkitPrimary, Dev: "nk0",
				Prog: ProgramFunc(func(c *Ctx) int {
					frames = append(frames, append([]byte(nil), c.Skb.Data()[:ethHlen]...))
					return TCXNext
				})})
			s, te := newStack(t, cfg, "", nil, nil)
			nk0, nk1 := s.Netns(HostNetns).dev("nk0"), s.Netns("pod").dev("nk1")
			require.Equal(t, !l2, nk0.noarp)
			require.Equal(t, !l2, nk1.noarp)
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: worldFrame()}))
			require.Len(t, frames, 1)
			if l2 {
				require.NotEqual(t, [6]byte{}, nk0.mac)
				require.NotEqual(t, nk0.mac, nk1.mac)
				require.Equal(t, nk1.mac[:], frames[0][0:6])
				require.Equal(t, nk0.mac[:], frames[0][6:12])
			} else {
				require.Equal(t, [6]byte{}, nk0.mac)
				require.Equal(t, [6]byte{}, nk1.mac)
				require.Equal(t, make([]byte, 12), frames[0][:12])
			}
			require.Equal(t, uint64(1), te.obs.delivered(DeliverSocket))

			// An ARP request for nk1's address, sent out of nk0 by a packet
			// socket; a reply would come back through the peer's programs.
			arps := 0
			cfg.Programs = append(cfg.Programs, ProgramConfig{Name: "arp", Hook: carrier.HookNetkitPeer, Dev: "nk0",
				Prog: ProgramFunc(func(c *Ctx) int {
					if c.Skb.H().Protocol == ethPARP {
						arps++
					}
					return TCXNext
				})})
			cfg.Entries = append(cfg.Entries, EntryConfig{Kind: EntryPacket, Dev: "nk0"})
			s, te = newStack(t, cfg, "", nil, nil)
			require.NoError(t, s.Inject(&Packet{ID: 2, Entry: 2, Frame: arpFrame(broadcastMAC, 1, 6, 1, "10.0.1.1", "10.0.1.2")}))
			if l2 {
				require.Equal(t, uint64(2), te.obs.delivered(DeliverOther), "arp_rcv consumes the request and the reply")
				require.Equal(t, 1, arps, "nk1 answers")
			} else {
				require.Equal(t, uint64(1), te.obs.delivered(DeliverOther), "arp_rcv consumes the request")
				require.Zero(t, arps, "IFF_NOARP: no answer")
			}
		})
	}
}

// TestNetkitHeadroom: IFLA_NETKIT_HEADROOM enters LL_RESERVED_SPACE of
// both ends: the pod's sender allocates its datagram with that much
// headroom, ip_forward's skb_cow gives a forwarded frame as much, and
// bpf_redirect_neigh's skb_expand_head replaces the NIC's skb (which no
// socket owns) by a clone with a bigger head: one more sk_buff and one
// more head than without the setting.
func TestNetkitHeadroom(t *testing.T) {
	const room = 512
	run := func(t *testing.T, headroom int, redirectNeigh bool, entry int) ([]nkSeen, uint64) {
		var seen []nkSeen
		cfg := netkitConfig(&seen)
		cfg.Devices[1].Headroom = headroom
		if redirectNeigh {
			cfg.Programs[0].Prog = nkProbe(&seen, "eth0-in", func(c *Ctx) int { return c.RedirectNeigh(c.Ifindex("nk0"), 0) })
		}
		s, te := newStack(t, cfg, "", nil, nil)
		before := te.a.Accountant().Stats()
		f := worldFrame()
		if entry == 1 {
			f = buildFrame(frameOpts{src: "10.0.1.2", dst: "10.0.0.9", sport: 1000, dport: 2000, payload: 10, noEth: true})
		}
		require.NoError(t, s.Inject(&Packet{ID: 1, Entry: entry, Frame: f}))
		after := te.a.Accountant().Stats()
		return seen, after.Ops[cost.OpKmalloc] - before.Ops[cost.OpKmalloc]
	}
	hh := (ethHlen+room)&^15 + 16 // LL_RESERVED_SPACE
	t.Run("forwarded", func(t *testing.T) {
		seen, _ := run(t, room, false, 0)
		require.Equal(t, "nk0-out", seen[1].hook)
		require.GreaterOrEqual(t, seen[1].headroom, hh-ethHlen)
		seen, _ = run(t, 0, false, 0)
		require.Less(t, seen[1].headroom, hh-ethHlen)
	})
	t.Run("pod's sender", func(t *testing.T) {
		seen, _ := run(t, room, false, 1)
		require.Equal(t, "nk1-out", seen[0].hook)
		require.GreaterOrEqual(t, seen[0].headroom, hh-ethHlen)
	})
	t.Run("redirect_neigh", func(t *testing.T) {
		seen, grown := run(t, room, true, 0)
		require.Equal(t, []string{"eth0-in", "nk0-out", "nk1-in"}, nkHooks(seen))
		require.GreaterOrEqual(t, seen[1].headroom, hh-ethHlen)
		_, plain := run(t, 0, true, 0)
		require.Equal(t, plain+2, grown, "skb_expand_head: a clone and a new head")
	})
}

// TestNetkitConfigErrors: what netkit_new_link, netkit_dev_fetch and the
// profile refuse.
func TestNetkitConfigErrors(t *testing.T) {
	noPktType := skb.DefaultProfile()
	noPktType.NetkitPktType = false
	for _, tc := range []struct {
		name string
		prof string
		p    *skb.Profile
		mod  func(c *Config)
		want string
	}{
		{name: "before v6.7", prof: "v6.6", want: "netkit needs kernel v6.7 or later, not v6.6"},
		{name: "no peer", mod: func(c *Config) { c.Devices[1].Peer = "" }, want: "a netkit device needs a peer"},
		{name: "bad mode", mod: func(c *Config) { c.Devices[1].Mode = MacvlanBridge }, want: `netkit mode "bridge" (want l3 or l2)`},
		{name: "bad policy", mod: func(c *Config) { c.Devices[1].PeerPolicy = "drop" }, want: `netkit peer_policy "drop" (want forward or blackhole)`},
		{name: "bad scrub", mod: func(c *Config) { c.Devices[1].Scrub = "all" }, want: `netkit scrub "all" (want default or none)`},
		{name: "scrub before v6.13", prof: "v6.12", mod: func(c *Config) { c.Devices[1].PeerScrub = NetkitScrubNone },
			want: "netkit peer_scrub (IFLA_NETKIT_SCRUB) needs kernel v6.13 or later, not v6.12"},
		{name: "headroom before v6.14", prof: "v6.12", mod: func(c *Config) { c.Devices[1].Headroom = 64 },
			want: "netkit headroom (IFLA_NETKIT_HEADROOM) needs kernel v6.14 or later, not v6.12"},
		{name: "tailroom too big", mod: func(c *Config) { c.Devices[1].Tailroom = 70000 }, want: "netkit tailroom 70000 (want 0 to 65535)"},
		{name: "address in l3 mode", mod: func(c *Config) { c.Devices[1].PeerMAC = macB }, want: "l3 mode has no address"},
		{name: "address before v6.10", p: &noPktType, mod: func(c *Config) { c.Devices[1].Mode = NetkitL2; c.Devices[1].MAC = macB },
			want: "a netkit address needs kernel v6.10 or later"},
		{name: "native xdp", mod: func(c *Config) { c.Devices[1].XDP = "native" }, want: "netkit has no native XDP"},
		{name: "gro", mod: func(c *Config) { c.Devices[1].PeerGRO = "on" }, want: "netkit has no GRO"},
		{name: "netkit settings on a nic", mod: func(c *Config) { c.Devices[0].Policy = NetkitBlackhole },
			want: "policy, peer_policy, scrub, peer_scrub, headroom and tailroom are for netkit devices"},
		{name: "program on the peer", mod: func(c *Config) {
			c.Programs = append(c.Programs, ProgramConfig{Name: "p", Hook: carrier.HookNetkitPeer, Netns: "pod", Dev: "nk1", Prog: ProgramFunc(func(*Ctx) int { return 0 })})
		}, want: "nk1 is a netkit peer; netkit programs attach through the primary nk0 (netkit_dev_fetch: -EACCES)"},
		{name: "program on a nic", mod: func(c *Config) {
			c.Programs = append(c.Programs, ProgramConfig{Name: "p", Hook: carrier.HookNetkitPrimary, Dev: "eth0", Prog: ProgramFunc(func(*Ctx) int { return 0 })})
		}, want: "eth0 is not a netkit device (netkit_dev_fetch: -ENXIO)"},
		{name: "mirred in a netkit program", mod: func(c *Config) {
			c.Programs = append(c.Programs, ProgramConfig{Name: "p", Hook: carrier.HookNetkitPrimary, Dev: "nk0",
				Actions: []Action{{Kind: ActMirred, Target: "d0"}}})
		}, want: "a tc action, not available at hook netkit_primary"},
		{name: "primary's redirect target in the host", mod: func(c *Config) {
			c.Programs = append(c.Programs, ProgramConfig{Name: "p", Hook: carrier.HookNetkitPrimary, Dev: "nk0",
				Actions: []Action{{Kind: ActRedirect, Target: "eth0"}}})
		}, want: `unknown target "eth0" in pod`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := netkitConfig(new([]nkSeen))
			if tc.mod != nil {
				tc.mod(cfg)
			}
			prof := testProfile(t, tc.prof)
			if tc.p != nil {
				prof = *tc.p
			}
			_, err := New(cfg, Env{Alloc: skb.NewAllocator(kmem.New(), prof), Observer: NopObserver{}})
			require.ErrorIs(t, err, ErrConfig)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

// netkitRxConfig is netkitConfig's topology with built-in programs only:
// frames from eth0 are forwarded through nk0, whose primary's program
// passes them, to the pod's socket.
func netkitRxConfig() *Config {
	cfg := netkitConfig(new([]nkSeen))
	cfg.Programs = []ProgramConfig{
		{Name: "primary", Hook: carrier.HookNetkitPrimary, Dev: "nk0", Actions: []Action{{Kind: ActCount}, {Kind: ActPass}}},
		{Name: "peer", Hook: carrier.HookNetkitPeer, Dev: "nk0", Actions: []Action{{Kind: ActCount}}},
	}
	return cfg
}

// TestNetkitVLANOffload: netkit has NETIF_F_HW_VLAN_CTAG_TX (netkit_setup),
// so a tag pushed at nk0's tc egress stays in vlan_tci through
// validate_xmit_vlan: the primary's program sees it there and the frame
// without it.
func TestNetkitVLANOffload(t *testing.T) {
	var present bool
	var etype uint16
	cfg := netkitConfig(new([]nkSeen))
	cfg.Programs[1].Prog = ProgramFunc(func(c *Ctx) int {
		require.Zero(t, c.VlanPush(uint16(skb.EthP8021Q), 5))
		return TCXNext
	})
	withNetkitProgs(cfg, []Program{ProgramFunc(func(c *Ctx) int {
		present = c.Skb.H().VlanTagPresent()
		etype = uint16(c.Skb.Data()[12])<<8 | uint16(c.Skb.Data()[13])
		return TCXNext
	})}, nil)
	s, _ := newStack(t, cfg, "", nil, nil)
	require.NoError(t, s.Inject(&Packet{ID: 1, Frame: worldFrame()}))
	require.True(t, present, "the tag stays in vlan_tci")
	require.Equal(t, uint16(ethPIP), etype, "and out of the frame")
}
