package netstack

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// brVLANTopology is TestKernelBridgeVLAN's topology: br0 in H filters
// VLANs; pA (A's vA) is in VLANs 1 (pvid, untagged), 10 and 20; pB (B's
// vB) in 1 (untagged) and 10 (pvid, untagged); pC (C's vC) in 10 only;
// the bridge itself in 1 (pvid, untagged) and 20. Frames enter by a
// packet socket on vA; held RX taps tB and tC on vB and vC.
func brVLANTopology() *Config {
	return &Config{
		Namespaces: []NamespaceConfig{{Name: "A"}, {Name: "H"}, {Name: "B"}, {Name: "C"}},
		Devices: []DeviceConfig{
			{Name: "br0", Kind: KindBridge, Netns: "H", MAC: macBr, Addrs: []netip.Prefix{pfx("192.0.2.254/24")},
				VLANFiltering: true, VLANs: []BridgeVLAN{{VID: 20}}},
			{Name: "pA", Kind: KindVeth, Netns: "H", Master: "br0", VLANs: []BridgeVLAN{{VID: 10}, {VID: 20}},
				Peer: "vA", PeerNetns: "A", PeerMAC: macA, PeerAddrs: []netip.Prefix{pfx("192.0.2.1/24")}},
			{Name: "pB", Kind: KindVeth, Netns: "H", Master: "br0", VLANs: []BridgeVLAN{{VID: 10, PVID: true, Untagged: true}},
				Peer: "vB", PeerNetns: "B", PeerMAC: macB, PeerAddrs: []netip.Prefix{pfx("192.0.2.2/24")}},
			{Name: "pC", Kind: KindVeth, Netns: "H", Master: "br0", VLANs: []BridgeVLAN{{VID: 10}, {VID: 1, Del: true}},
				Peer: "vC", PeerNetns: "C", PeerMAC: macC, PeerAddrs: []netip.Prefix{pfx("192.0.2.3/24")}},
		},
		Taps: []TapConfig{{Name: "tB", Netns: "B", Dev: "vB", Dir: TapRX, Hold: true},
			{Name: "tC", Netns: "C", Dev: "vC", Dir: TapRX, Hold: true}},
		Entries: []EntryConfig{{Kind: EntryPacket, Netns: "A", Dev: "vA"}},
	}
}

var (
	macBr = [6]byte{2, 0, 0, 0, 0x0b, 1}
	macC  = [6]byte{2, 0, 0, 0, 0x0c, 3}
)

// vlanTagged is frame f with a tag (tpid, tci) after its addresses.
func vlanTagged(f []byte, tags ...[2]uint16) []byte {
	out := append([]byte(nil), f[:12]...)
	for _, tg := range tags {
		out = binary.BigEndian.AppendUint16(out, tg[0])
		out = binary.BigEndian.AppendUint16(out, tg[1])
	}
	return append(out, f[12:]...)
}

// firstDrops is the first drop of each device, "dev:REASON", sorted.
func firstDrops(s *Stack, te *testEnv) []string {
	seen := map[string]bool{}
	var out []string
	for _, d := range te.obs.drops {
		name := fmt.Sprint(d.Dev)
		for _, n := range s.nss {
			if n.id == d.Netns {
				if dv := n.devByIndex(d.Dev); dv != nil {
					name = dv.name
				}
			}
		}
		if !seen[name] {
			seen[name] = true
			out = append(out, name+":"+d.Reason.Name()[len("SKB_DROP_REASON_"):])
		}
	}
	slices.Sort(out)
	return out
}

// tapTags is "untagged" or the VLAN tag of each frame a held tap read.
func tapTags(ps []TapPacket) []string {
	var out []string
	for _, p := range ps {
		if p.Status&TPStatusVLANValid == 0 {
			out = append(out, "untagged")
			continue
		}
		out = append(out, fmt.Sprintf("%#x/%#x", p.VlanTPID, p.VlanTCI))
	}
	return out
}

// TestBridgeVLAN: a datagram for B in frames that are broadcast or for
// the bridge, untagged, tagged, priority-tagged or 802.1ad-tagged, through
// brVLANTopology's bridge: br_allowed_ingress (the pvid, member VLANs),
// per-VLAN flooding (should_deliver's br_allowed_egress), untagged egress
// (br_handle_vlan), what goes up the bridge (its own group; its address
// is local only in its VLANs) and check_vlan_id behind a tagged egress
// (OTHERHOST). TestKernelBridgeVLAN compares the same cases with a kernel
// built with CONFIG_BRIDGE_VLAN_FILTERING.
func TestBridgeVLAN(t *testing.T) {
	const q, ad = 0x8100, 0x88a8
	for _, tc := range []struct {
		name     string
		toBridge bool
		tags     [][2]uint16
		drops    []string
		atB, atC []string
	}{
		{"untagged broadcast", false, nil, []string{"br0:IP_INADDRERRORS", "vB:NO_SOCKET"}, []string{"untagged"}, nil},
		{"VLAN 10 broadcast", false, [][2]uint16{{q, 10}}, []string{"pA:NOT_SPECIFIED", "vB:NO_SOCKET", "vC:OTHERHOST"},
			[]string{"untagged"}, []string{"0x8100/0xa"}},
		{"VLAN 20 broadcast", false, [][2]uint16{{q, 20}}, []string{"br0:OTHERHOST"}, nil, nil},
		{"VLAN 30 broadcast", false, [][2]uint16{{q, 30}}, []string{"pA:NOT_SPECIFIED"}, nil, nil},
		{"priority-tagged broadcast", false, [][2]uint16{{q, 0xa000}}, []string{"br0:IP_INADDRERRORS", "vB:NO_SOCKET"}, []string{"untagged"}, nil},
		{"802.1ad VLAN 10 broadcast", false, [][2]uint16{{ad, 10}}, []string{"br0:OTHERHOST", "vB:OTHERHOST"}, []string{"0x88a8/0xa"}, nil},
		{"untagged to the bridge", true, nil, []string{"br0:NO_SOCKET"}, nil, nil},
		{"VLAN 10 to the bridge", true, [][2]uint16{{q, 10}}, []string{"vB:OTHERHOST", "vC:OTHERHOST"}, []string{"untagged"}, []string{"0x8100/0xa"}},
		{"VLAN 20 to the bridge", true, [][2]uint16{{q, 0x6014}}, []string{"br0:OTHERHOST"}, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, te := newStack(t, brVLANTopology(), "", nil, nil)
			dst, ip := broadcastMAC, "192.0.2.2"
			if tc.toBridge {
				dst, ip = macBr, "192.0.2.254"
			}
			f := vlanTagged(buildFrame(frameOpts{dstMAC: dst, srcMAC: macA, src: "192.0.2.1", dst: ip, sport: 40000, dport: 9999, payload: 32}), tc.tags...)
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
			s.Flush()
			require.Equal(t, tc.drops, firstDrops(s, te), "first drops")
			require.Equal(t, tc.atB, tapTags(s.TapPackets("tB")), "at vB")
			require.Equal(t, tc.atC, tapTags(s.TapPackets("tC")), "at vC")
		})
	}
}

// TestBridgeVLANForwarding: addresses are learned and found per VLAN
// (br_fdb_update and br_fdb_find_rcu with the frame's VLAN), a static
// entry in a VLAN counts only there, a port without a pvid drops
// untagged frames, and the bridge device's own sends take its pvid
// (br_dev_xmit's br_allowed_ingress) or, without one, are dropped.
func TestBridgeVLANForwarding(t *testing.T) {
	t.Run("learned per VLAN", func(t *testing.T) {
		cfg := brVLANTopology()
		cfg.Entries = append(cfg.Entries, EntryConfig{Kind: EntryPacket, Netns: "B", Dev: "vB"}, EntryConfig{Kind: EntryPacket, Netns: "C", Dev: "vC"})
		s, te := newStack(t, cfg, "", nil, nil)
		br := s.Device("H", "br0")
		// A sends in VLAN 10: its address is learned there only.
		fA := vlanTagged(buildFrame(frameOpts{dstMAC: broadcastMAC, srcMAC: macA, src: "192.0.2.1", dst: "192.0.2.9", sport: 1, dport: 9999, payload: 8}), [2]uint16{0x8100, 10})
		require.NoError(t, s.Inject(&Packet{ID: 1, Frame: fA}))
		s.Flush()
		require.Same(t, s.Device("H", "pA"), br.fdbFind(macA, 10))
		require.Nil(t, br.fdbFind(macA, 0))
		require.Nil(t, br.fdbFind(macA, 1))
		// VLAN 30 is not pA's: dropped before learning.
		f30 := vlanTagged(buildFrame(frameOpts{dstMAC: broadcastMAC, srcMAC: macA, src: "192.0.2.1", dst: "192.0.2.9", sport: 1, dport: 9999, payload: 8}), [2]uint16{0x8100, 30})
		require.NoError(t, s.Inject(&Packet{ID: 4, Frame: f30}))
		s.Flush()
		require.Nil(t, br.fdbFind(macA, 30), "not learned outside the port's VLANs")
		// B's untagged frame to A takes pB's pvid, 10, and finds A's
		// entry: only pA gets it, tagged (vC's tap sees nothing new).
		before := len(s.TapPackets("tC"))
		fB := buildFrame(frameOpts{dstMAC: macA, srcMAC: macB, src: "192.0.2.2", dst: "192.0.2.1", sport: 1, dport: 9999, payload: 8})
		require.NoError(t, s.Inject(&Packet{ID: 2, Frame: fB, Entry: 1}))
		s.Flush()
		require.Len(t, s.TapPackets("tC"), before, "not flooded")
		require.Same(t, s.Device("H", "pB"), br.fdbFind(macB, 10))
		// C's untagged frame: pC has no pvid (VLAN 1 deleted).
		te.obs.drops = nil
		fC := buildFrame(frameOpts{dstMAC: macA, srcMAC: macC, src: "192.0.2.3", dst: "192.0.2.1", sport: 1, dport: 9999, payload: 8})
		require.NoError(t, s.Inject(&Packet{ID: 3, Frame: fC, Entry: 2}))
		s.Flush()
		require.Equal(t, []string{"pC:NOT_SPECIFIED"}, firstDrops(s, te))
		require.Nil(t, br.fdbFind(macC, 0), "dropped before learning")
		// B's priority-tagged broadcast takes pB's pvid, 10, with its PCP:
		// pC sends it tagged 0xa00a.
		fP := vlanTagged(buildFrame(frameOpts{dstMAC: broadcastMAC, srcMAC: macB, src: "192.0.2.2", dst: "192.0.2.9", sport: 1, dport: 9999, payload: 8}), [2]uint16{0x8100, 0xa000})
		require.NoError(t, s.Inject(&Packet{ID: 5, Frame: fP, Entry: 1}))
		s.Flush()
		tags := tapTags(s.TapPackets("tC"))
		require.Equal(t, "0x8100/0xa00a", tags[len(tags)-1])
	})
	t.Run("static entry in a VLAN", func(t *testing.T) {
		cfg := brVLANTopology()
		cfg.FDB = []FDBConfig{{Netns: "H", Dev: "pC", MAC: [6]byte{2, 0, 0, 0, 0, 0x77}, VLAN: 10}}
		s, _ := newStack(t, cfg, "", nil, nil)
		for i, tci := range []uint16{10, 20} {
			f := vlanTagged(buildFrame(frameOpts{dstMAC: [6]byte{2, 0, 0, 0, 0, 0x77}, srcMAC: macA, src: "192.0.2.1", dst: "192.0.2.3", sport: 1, dport: 9999, payload: 8}),
				[2]uint16{0x8100, tci})
			require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: f}))
			s.Flush()
		}
		// VLAN 10: the entry sends it to pC alone; VLAN 20: unknown,
		// flooded to VLAN 20's ports (none but pA, which it came by).
		require.Equal(t, []string{"0x8100/0xa"}, tapTags(s.TapPackets("tC")))
		require.Empty(t, s.TapPackets("tB"))
	})
	for _, tc := range []struct {
		name   string
		noPVID bool
		want   []string // at vB
		drops  []string
	}{
		{"the bridge's pvid", false, []string{"untagged"}, []string{"vA:OTHERHOST", "vB:NO_SOCKET"}},
		{"no pvid on the bridge", true, nil, []string{"br0:NOT_SPECIFIED"}},
	} {
		t.Run("br_dev_xmit, "+tc.name, func(t *testing.T) {
			cfg := brVLANTopology()
			cfg.Devices[0].NoDefaultPVID = tc.noPVID
			cfg.Neighbours = []NeighConfig{{Netns: "H", Dev: "br0", Addr: addr("192.0.2.2"), MAC: macB}}
			cfg.Sockets = []SocketConfig{{Name: "h", Netns: "H", Proto: ProtoUDP, Port: 5000}}
			cfg.Entries = []EntryConfig{{Kind: EntryTX, Netns: "H", Socket: "h"}}
			s, te := newStack(t, cfg, "", nil, nil)
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: buildFrame(frameOpts{noEth: true, src: "192.0.2.254", dst: "192.0.2.2", sport: 5000, dport: 9999, payload: 8})}))
			s.Flush()
			require.Equal(t, tc.want, tapTags(s.TapPackets("tB")))
			require.Empty(t, s.TapPackets("tC"), "pC is not in VLAN 1")
			require.Equal(t, tc.drops, firstDrops(s, te))
		})
	}
	t.Run("filtering off", func(t *testing.T) {
		cfg := brVLANTopology()
		cfg.Devices[0].VLANFiltering = false
		s, te := newStack(t, cfg, "", nil, nil)
		f := vlanTagged(buildFrame(frameOpts{dstMAC: broadcastMAC, srcMAC: macA, src: "192.0.2.1", dst: "192.0.2.2", sport: 1, dport: 9999, payload: 8}), [2]uint16{0x8100, 30})
		require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
		s.Flush()
		require.Equal(t, []string{"0x8100/0x1e"}, tapTags(s.TapPackets("tB")), "the tag goes through")
		require.Equal(t, []string{"0x8100/0x1e"}, tapTags(s.TapPackets("tC")))
		require.Equal(t, []string{"br0:OTHERHOST", "vB:OTHERHOST", "vC:OTHERHOST"}, firstDrops(s, te))
		require.NotNil(t, s.Device("H", "br0").fdbFind(macA, 0), "learned in VLAN 0")
	})
}

// TestBridgeVLANConfig: the groups the configuration builds (the default
// pvid, pvid moves, deletions, vlan_default_pvid) and the settings the
// kernel refuses.
func TestBridgeVLANConfig(t *testing.T) {
	cfg := brVLANTopology()
	cfg.Devices[0].VLANDefaultPVID = 7
	cfg.Devices[1].VLANs = []BridgeVLAN{{VID: 10, PVID: true}, {VID: 7, Untagged: true}, {VID: 12, PVID: true}, {VID: 12}}
	s, _ := newStack(t, cfg, "", nil, nil)
	br, pA := s.Device("H", "br0").brVLAN, s.Device("H", "pA").brVLAN
	require.Equal(t, uint16(7), br.pvid)
	require.True(t, br.has(7) && br.isUntagged(7) && br.has(20) && !br.isUntagged(20) && !br.has(1))
	require.Equal(t, uint16(0), pA.pvid, "12 took the pvid from 10, then gave it up")
	require.True(t, pA.has(7) && pA.isUntagged(7) && pA.has(10) && pA.has(12) && !pA.isUntagged(12))

	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"vlan 0", func(c *Config) { c.Devices[1].VLANs = []BridgeVLAN{{VID: 0}} }, "vlan 0 (want 1 to 4094: EINVAL)"},
		{"vlan 4095", func(c *Config) { c.Devices[1].VLANs = []BridgeVLAN{{VID: 4095}} }, "vlan 4095 (want 1 to 4094: EINVAL)"},
		{"filtering on a port", func(c *Config) { c.Devices[1].VLANFiltering = true }, "vlan_filtering and vlan_default_pvid are a bridge's"},
		{"default pvid 4095", func(c *Config) { c.Devices[0].VLANDefaultPVID = 4095 }, "vlan_default_pvid 4095 (want 0 to 4094)"},
		{"vlans on a lone veth", func(c *Config) {
			c.Devices = append(c.Devices, DeviceConfig{Name: "x0", Kind: KindVeth, Netns: "H", Peer: "x1", VLANs: []BridgeVLAN{{VID: 5}}})
		}, "vlans are a bridge's or a bridge port's"},
		{"fdb vlan 4095", func(c *Config) {
			c.FDB = []FDBConfig{{Netns: "H", Dev: "pA", MAC: [6]byte{2, 0, 0, 0, 0, 9}, VLAN: 4095}}
		}, "vlan 4095 (want 0 to 4094)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := brVLANTopology()
			tc.edit(c)
			err := newStackErr(t, c, "")
			require.ErrorIs(t, err, ErrConfig)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

// TestBridgeLocalAddrs: a bridge without an address of its own takes its
// smallest port's (br_stp_recalculate_bridge_id); a frame to a port's
// address is local (br_add_if's local FDB entry) and goes up the bridge
// with the pkt_type the input port gave it; a source address that is
// local is not learned; a frame the bridge sends to a port's address
// leaves by that port (TestKernelBridgeLocalAddrs measures the first
// three on 6.18).
func TestBridgeLocalAddrs(t *testing.T) {
	macPA, macPB := [6]byte{2, 0, 0, 0, 0x0a, 1}, [6]byte{2, 0, 0, 0, 0x0a, 2}
	topo := func() *Config {
		return &Config{
			Namespaces: []NamespaceConfig{{Name: "A"}, {Name: "H"}, {Name: "B"}},
			Devices: []DeviceConfig{
				{Name: "br0", Kind: KindBridge, Netns: "H", Addrs: []netip.Prefix{pfx("192.0.2.254/24")}},
				{Name: "pB", Kind: KindVeth, Netns: "H", Master: "br0", MAC: macPB, Peer: "vB", PeerNetns: "B", PeerMAC: macB,
					PeerAddrs: []netip.Prefix{pfx("192.0.2.2/24")}},
				{Name: "pA", Kind: KindVeth, Netns: "H", Master: "br0", MAC: macPA, Peer: "vA", PeerNetns: "A", PeerMAC: macA,
					PeerAddrs: []netip.Prefix{pfx("192.0.2.1/24")}},
			},
			Entries: []EntryConfig{{Kind: EntryPacket, Netns: "A", Dev: "vA"}},
		}
	}
	for _, tc := range []struct {
		name string
		dst  [6]byte
		want []string
	}{
		{"to the bridge's address", macPA, []string{"br0:NO_SOCKET"}},
		{"to pB's address", macPB, []string{"br0:OTHERHOST"}},
		{"to an unknown address", [6]byte{2, 0, 0, 0, 0x0a, 9}, []string{"vB:OTHERHOST"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, te := newStack(t, topo(), "", nil, nil)
			require.Equal(t, macPA, s.Device("H", "br0").MAC())
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: buildFrame(frameOpts{dstMAC: tc.dst, srcMAC: macA, src: "192.0.2.1", dst: "192.0.2.254",
				sport: 40000, dport: 9999, payload: 16})}))
			s.Flush()
			require.Equal(t, tc.want, firstDrops(s, te))
		})
	}
	t.Run("an address set is kept", func(t *testing.T) {
		cfg := topo()
		cfg.Devices[0].MAC = macBr
		s, _ := newStack(t, cfg, "", nil, nil)
		require.Equal(t, macBr, s.Device("H", "br0").MAC())
	})
	t.Run("a local source is not learned", func(t *testing.T) {
		s, _ := newStack(t, topo(), "", nil, nil)
		require.NoError(t, s.Inject(&Packet{ID: 1, Frame: buildFrame(frameOpts{dstMAC: broadcastMAC, srcMAC: macPB, src: "192.0.2.1", dst: "192.0.2.254",
			sport: 40000, dport: 9999, payload: 16})}))
		s.Flush()
		require.Nil(t, s.Device("H", "br0").fdbFind(macPB, 0))
	})
	t.Run("the bridge sends to a port's address", func(t *testing.T) {
		cfg := topo()
		cfg.Neighbours = []NeighConfig{{Netns: "H", Dev: "br0", Addr: addr("192.0.2.7"), MAC: macPB}}
		cfg.Sockets = []SocketConfig{{Name: "h", Netns: "H", Proto: ProtoUDP, Port: 5000}}
		cfg.Entries = []EntryConfig{{Kind: EntryTX, Netns: "H", Socket: "h"}}
		cfg.Taps = []TapConfig{{Name: "tB", Netns: "B", Dev: "vB", Dir: TapRX, Hold: true}, {Name: "tA", Netns: "A", Dev: "vA", Dir: TapRX, Hold: true}}
		s, _ := newStack(t, cfg, "", nil, nil)
		require.NoError(t, s.Inject(&Packet{ID: 1, Frame: buildFrame(frameOpts{noEth: true, src: "192.0.2.254", dst: "192.0.2.7", sport: 5000, dport: 9999, payload: 8})}))
		s.Flush()
		require.Len(t, s.TapPackets("tB"), 1, "out of pB")
		require.Empty(t, s.TapPackets("tA"), "not flooded")
	})
}
