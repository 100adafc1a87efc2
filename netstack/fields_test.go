package netstack

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/kernel/observe"
	"github.com/skbsim/skbsim/skb"
)

// seen is the carrier-relevant state a probe program records.
type seen struct {
	count     int
	mark      uint32
	prio      uint32
	tcIndex   uint16
	cb0       uint32
	hash      uint32
	tstamp    int64
	tstampTyp skb.TstampType
	pktType   skb.PktType
	iif       string
	metaLen   int
	metaValid bool
	ext       bool
	read      ReadResult
}

// probe records the first packet's state at its hook and reads map 0
// through the carrier.
func probe(out *seen) Program {
	return ProgramFunc(func(c *Ctx) int {
		out.count++
		if out.count > 1 {
			return defaultRet(c.Hook)
		}
		b := c.Skb
		h := b.H()
		out.mark, out.prio, out.tcIndex, out.cb0 = h.Mark, h.Priority, h.TCIndex, c.CB(0)
		out.hash, out.tstamp, out.tstampTyp, out.pktType = h.Hash, h.Tstamp, h.TstampType, h.PktType
		if d := c.Netns.devByIndex(h.SkbIIF); d != nil {
			out.iif = d.name
		}
		out.metaLen = b.MetadataLen()
		_, out.metaValid = b.Metadata()
		out.ext = b.ExtActive() != 0
		v, err := c.Lookup(0)
		out.read = classify(v, err, c.PacketID)
		return defaultRet(c.Hook)
	})
}

// writeActs are the writes a source program makes before its redirect.
var writeActs = []Action{
	{Kind: ActSetMark, Value: 0x11}, {Kind: ActSetPriority, Value: 5}, {Kind: ActSetTCIndex, Value: 9},
	{Kind: ActSetCB, Index: 0, Value: 0xc0}, {Kind: ActSetHash, Value: 0x1234},
	{Kind: ActSetTstamp, Value: 1000}, {Kind: ActWrite, Map: 0},
}

func hookOf(p observe.Point) carrier.Hook {
	switch p {
	case observe.TCEgress:
		return carrier.HookTCEgress
	case observe.XDP:
		return carrier.HookXDP
	}
	return carrier.HookTCIngress
}

func nsOfDev(cfg *Config, dev string) string {
	for _, d := range cfg.Devices {
		if d.Name == dev {
			return d.Netns
		}
		if d.Peer == dev {
			return d.PeerNetns
		}
	}
	return ""
}

// TestTransitionFields checks every carrier-relevant field, the extension
// and the storage reachable through the rfc design after each transition.
func TestTransitionFields(t *testing.T) {
	const skip = -1
	for _, tc := range []struct {
		name     string
		topo     observe.Topology
		src, dst observe.Hook
		redirect *Action
		want     seen
		cb0      int64
	}{
		{name: "veth same netns (dev_forward_skb xnet=false)", topo: observe.TopoSameNetns,
			src: observe.Hook{Dev: "vX", Point: observe.TCEgress}, dst: observe.Hook{Dev: "vY", Point: observe.TCIngress},
			want: seen{mark: 0x11, tcIndex: 9, hash: 0x1234, tstamp: 1000, iif: "vY", read: ReadMissing}, cb0: 0xc0},
		{name: "veth cross netns (xnet=true)", topo: observe.TopoPair,
			src: observe.Hook{Dev: "vA", Point: observe.TCEgress}, dst: observe.Hook{Dev: "vB", Point: observe.TCIngress},
			want: seen{tcIndex: 9, hash: 0x1234, iif: "vB", read: ReadMissing}, cb0: 0xc0},
		{name: "bpf_redirect egress (no scrub)", topo: observe.TopoHub,
			src: observe.Hook{Dev: "hA", Point: observe.TCIngress}, dst: observe.Hook{Dev: "hB", Point: observe.TCEgress},
			redirect: &Action{Kind: ActRedirect, Target: "hB"},
			want:     seen{mark: 0x11, prio: 5, tcIndex: 9, hash: 0x1234, pktType: skb.PacketOtherhost, iif: "hA", ext: true, read: ReadFound}, cb0: 0xc0},
		{name: "bpf_redirect ingress (dev_forward_skb)", topo: observe.TopoHub,
			src: observe.Hook{Dev: "hA", Point: observe.TCIngress}, dst: observe.Hook{Dev: "hB", Point: observe.TCIngress},
			redirect: &Action{Kind: ActRedirect, Target: "hB", Ingress: true},
			want:     seen{mark: 0x11, tcIndex: 9, hash: 0x1234, tstamp: 1000, pktType: skb.PacketOtherhost, iif: "hB", read: ReadMissing}, cb0: 0xc0},
		{name: "bpf_redirect_peer (scrub xnet=false)", topo: observe.TopoHub,
			src: observe.Hook{Dev: "hA", Point: observe.TCIngress}, dst: observe.Hook{Dev: "vB", Point: observe.TCIngress},
			redirect: &Action{Kind: ActRedirectPeer, Target: "hB"},
			want:     seen{mark: 0x11, prio: 5, tcIndex: 9, hash: 0x1234, tstamp: 1000, iif: "vB", read: ReadMissing}, cb0: 0xc0},
		{name: "bpf_clone_redirect egress (shared ext)", topo: observe.TopoHub,
			src: observe.Hook{Dev: "hA", Point: observe.TCIngress}, dst: observe.Hook{Dev: "hC", Point: observe.TCEgress},
			redirect: &Action{Kind: ActCloneRedirect, Target: "hC"},
			want:     seen{mark: 0x11, prio: 5, tcIndex: 9, hash: 0x1234, pktType: skb.PacketOtherhost, iif: "hA", ext: true, read: ReadRefused}, cb0: 0xc0},
		{name: "bpf_clone_redirect ingress", topo: observe.TopoHub,
			src: observe.Hook{Dev: "hA", Point: observe.TCIngress}, dst: observe.Hook{Dev: "hC", Point: observe.TCIngress},
			redirect: &Action{Kind: ActCloneRedirect, Target: "hC", Ingress: true},
			want:     seen{mark: 0x11, tcIndex: 9, hash: 0x1234, tstamp: 1000, pktType: skb.PacketOtherhost, iif: "hC", read: ReadMissing}, cb0: 0xc0},
		{name: "vxlan encap (iptunnel_xmit, same netns)", topo: observe.TopoVXLAN,
			src: observe.Hook{Dev: "vxA", Point: observe.TCEgress}, dst: observe.Hook{Dev: "vA", Point: observe.TCEgress},
			want: seen{mark: 0x11, prio: 5, tcIndex: 9, hash: 0x1234, tstamp: 1000, read: ReadMissing}, cb0: 0},
		{name: "vxlan decap (same netns)", topo: observe.TopoVXLAN,
			src: observe.Hook{Dev: "vB", Point: observe.TCIngress}, dst: observe.Hook{Dev: "vxB", Point: observe.TCIngress},
			want: seen{mark: 0x11, prio: 5, tcIndex: 9, hash: 0x1234, tstamp: 1000, iif: "vxB", read: ReadMissing}, cb0: skip},
		{name: "vxlan decap (xnet)", topo: observe.TopoVXLANXnet,
			src: observe.Hook{Dev: "vB", Point: observe.TCIngress}, dst: observe.Hook{Dev: "vxB", Point: observe.TCIngress},
			want: seen{prio: 5, tcIndex: 9, hash: 0x1234, iif: "vxB", read: ReadMissing}, cb0: skip},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, dst, err := TransitionConfig(observe.Transition{Name: tc.name, Topology: tc.topo})
			require.NoError(t, err)
			acts := append([]Action{}, writeActs...)
			if tc.redirect != nil {
				acts = append(acts, *tc.redirect)
			}
			var got seen
			cfg.Programs = []ProgramConfig{
				{Name: "src", Hook: hookOf(tc.src.Point), Dev: tc.src.Dev, Netns: nsOfDev(cfg, tc.src.Dev), Actions: acts},
				{Name: "dst", Hook: hookOf(tc.dst.Point), Dev: tc.dst.Dev, Netns: nsOfDev(cfg, tc.dst.Dev), Prog: probe(&got)},
			}
			s, te := newStack(t, cfg, "", rfcCarrier("rfc", oneMap), oneMap)
			src := s.Socket("sender")
			out, _ := s.routeOutput(src.ns, dst)
			frame := buildFrame(frameOpts{src: out.firstAddr().String(), dst: dst.String(), sport: 40000, dport: observe.TestPort, payload: 16, noEth: true})
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: frame}))
			require.Equal(t, 1, got.count, "drops: %v", te.obs.dropReasons())
			want := tc.want
			want.count = 1
			if tc.cb0 == skip {
				want.cb0 = got.cb0
			} else {
				want.cb0 = uint32(tc.cb0)
			}
			require.Equal(t, want, got)
		})
	}
}

// TestForwardFields: ip_forward sets priority from the TOS, clears the RX
// timestamp, keeps mark, tc_index, hash and the extension (no scrub), and
// IPCB covers cb[0..3].
func TestForwardFields(t *testing.T) {
	var got seen
	cfg := &Config{
		Namespaces: []NamespaceConfig{{Name: HostNetns, Forwarding: true}},
		Devices: []DeviceConfig{
			{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("192.0.2.1/24")}},
			{Name: "eth1", Kind: KindNIC, MAC: macA, Addrs: []netip.Prefix{pfx("198.51.100.1/24")}},
		},
		Neighbours: []NeighConfig{{Dev: "eth1", Addr: addr("198.51.100.7"), MAC: macB}},
		Programs: []ProgramConfig{
			{Name: "src", Hook: carrier.HookTCIngress, Dev: "eth0", Actions: writeActs},
			{Name: "dst", Hook: carrier.HookTCEgress, Dev: "eth1", Prog: probe(&got)},
		},
	}
	s, te := newStack(t, cfg, "", rfcCarrier("rfc", oneMap), oneMap)
	f := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "198.51.100.7", tos: 0x10, ttl: 9, sport: 1, dport: 2, payload: 20})
	require.NoError(t, s.Inject(&Packet{ID: 2, Frame: f}))
	require.Empty(t, te.obs.drops)
	require.Equal(t, seen{count: 1, mark: 0x11, prio: 6, tcIndex: 9, cb0: 0, hash: 0x1234, iif: "eth0", ext: true, read: ReadFound}, got)
	require.Equal(t, []DeliverEvent{{PacketID: 2, Kind: DeliverXmit, Index: 1}}, te.obs.delivs)

	// TTL 1: too_many_hops.
	f = buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "198.51.100.7", ttl: 1, sport: 1, dport: 2})
	require.NoError(t, s.Inject(&Packet{ID: 3, Frame: f}))
	require.Equal(t, []string{"SKB_DROP_REASON_IP_INHDR@ip_forward"}, te.obs.dropReasons())
}

// TestForwardMetadataProfile: a packet tap holds a clone, so ip_forward's
// skb_cow copies the head; v6.18 clears meta_len there, v6.19 keeps it
// (290fc0be09e2). Without a tap no copy happens on either.
func TestForwardMetadataProfile(t *testing.T) {
	for _, tc := range []struct {
		profile string
		tap     bool
		metaLen int
	}{{"v6.18", true, 0}, {"v6.19", true, 8}, {"v6.18", false, 8}} {
		t.Run(tc.profile, func(t *testing.T) {
			var got seen
			cfg := &Config{
				Namespaces: []NamespaceConfig{{Name: HostNetns, Forwarding: true}},
				Devices: []DeviceConfig{
					{Name: "eth0", Kind: KindNIC, MAC: macNIC, XDP: "native", Addrs: []netip.Prefix{pfx("192.0.2.1/24")}},
					{Name: "eth1", Kind: KindNIC, MAC: macA, Addrs: []netip.Prefix{pfx("198.51.100.1/24")}},
				},
				Neighbours: []NeighConfig{{Dev: "eth1", Addr: addr("198.51.100.7"), MAC: macB}},
				Programs: []ProgramConfig{
					{Name: "xdp", Hook: carrier.HookXDP, Dev: "eth0", Actions: []Action{{Kind: ActAdjustMeta, Value: 8}}},
					{Name: "after", Hook: carrier.HookTCEgress, Dev: "eth1", Prog: probe(&got)},
				},
			}
			if tc.tap {
				cfg.Taps = []TapConfig{{Name: "tcpdump", Dev: "eth0", Dir: TapRX}}
			}
			s, _ := newStack(t, cfg, tc.profile, nil, nil)
			f := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "198.51.100.7", sport: 1, dport: 2, payload: 20})
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
			require.Equal(t, 1, got.count)
			require.Equal(t, tc.metaLen, got.metaLen)
		})
	}
}
