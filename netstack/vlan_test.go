package netstack

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/skb"
)

// withTags inserts 802.1Q/802.1ad headers (TPID, TCI pairs) after frame
// f's addresses.
func withTags(f []byte, tags ...uint16) []byte {
	out := append([]byte(nil), f[:12]...)
	for i := 0; i+1 < len(tags); i += 2 {
		out = binary.BigEndian.AppendUint16(out, tags[i])
		out = binary.BigEndian.AppendUint16(out, tags[i+1])
	}
	return append(out, f[12:]...)
}

// TestVlanReceive: a NIC with native XDP (8 bytes of metadata) receives
// tagged frames. __netif_receive_skb_core untags the outer tag before the
// taps and tc (skb_vlan_untag): tc ingress sees the tag in vlan_tci, the
// encapsulated protocol, the mac header moved up by VLAN_HLEN and the
// metadata moved with it; the tap reads the frame without the tag. Then
// check_vlan_id: a VLAN id is OTHERHOST (ip_rcv drops it), a priority tag
// is cleared, one over another tag has that one untagged in turn; a QinQ
// frame's inner tag leaves skb->protocol 802.1Q, which no handler takes.
// TestKernelVlanReceive checks the same frames against 6.18.
func TestVlanReceive(t *testing.T) {
	const q, ad = skb.EthP8021Q, skb.EthP8021AD
	base := rxFrame("192.0.2.1")
	for _, tc := range []struct {
		name   string
		frame  []byte
		tc     string // what tc ingress sees
		tap    string // tp_vlan_tci and the tap frame's ethertype
		drops  []string
		delivs int
	}{
		{"untagged", base, "tag false tci 0x0 proto 0x800 mac 12 meta ok", "tci 0x0 0x800", nil, 1},
		{"priority tag", withTags(base, q, 0xa000), "tag true tci 0xa000 proto 0x800 mac 12 meta ok", "tci 0xa000 0x800", nil, 1},
		{"VLAN 100", withTags(base, q, 100), "tag true tci 0x64 proto 0x800 mac 12 meta ok", "tci 0x64 0x800",
			[]string{"SKB_DROP_REASON_OTHERHOST@ip_rcv_core"}, 0},
		{"QinQ", withTags(base, ad, 7, q, 9), "tag true tci 0x7 proto 0x8100 mac 12 meta ok", "tci 0x7 0x8100",
			[]string{"SKB_DROP_REASON_UNHANDLED_PROTO@__netif_receive_skb_core"}, 0},
		{"priority tag over VLAN 9", withTags(base, q, 0, q, 9), "tag true tci 0x0 proto 0x8100 mac 12 meta ok", "tci 0x0 0x8100",
			[]string{"SKB_DROP_REASON_OTHERHOST@ip_rcv_core"}, 0},
		{"priority tag over priority tag", withTags(base, ad, 0, q, 0), "tag true tci 0x0 proto 0x8100 mac 12 meta ok", "tci 0x0 0x8100", nil, 1},
		{"truncated tag", withTags(base[:14], q, 5)[:17], "", "",
			[]string{"SKB_DROP_REASON_NOT_SPECIFIED@skb_vlan_untag"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var atTC string
			cfg := rxToSocketConfig()
			cfg.Taps = []TapConfig{{Name: "dump", Dev: "eth0", Dir: TapRX, Hold: true}}
			cfg.Programs = []ProgramConfig{
				{Name: "xdp", Hook: carrier.HookXDP, Dev: "eth0", Actions: []Action{{Kind: ActAdjustMeta, Value: 8}}},
				{Name: "tc", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
					h := c.Skb.H()
					mac := c.Skb.Head()[c.Skb.MacHeader():]
					meta := "meta ok"
					if m := c.Meta(); len(m) != 8 || m[0] != metaFillStart || m[7] != metaFillStart+7 {
						meta = fmt.Sprintf("meta %x", m)
					}
					same := 0
					for same < 12 && mac[same] == base[same] {
						same++
					}
					atTC = fmt.Sprintf("tag %v tci %#x proto %#x mac %d %s", h.VlanTagPresent(), h.VlanTCI, h.Protocol, same, meta)
					return TCXNext
				})},
			}
			s, te := newStack(t, cfg, "", nil, nil)
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: tc.frame}))
			require.Equal(t, tc.tc, atTC, "tc ingress")
			require.Equal(t, tc.drops, te.obs.dropReasons())
			require.Equal(t, uint64(tc.delivs), te.obs.delivered(DeliverSocket))
			pk := s.TapPackets("dump")
			if tc.tap == "" {
				require.Empty(t, pk)
				return
			}
			require.Len(t, pk, 1)
			p := pk[0]
			require.Equal(t, tc.tap, fmt.Sprintf("tci %#x %#x", p.VlanTCI, binary.BigEndian.Uint16(p.Frame[12:14])))
			if tc.frame[12] == 0x81 || tc.frame[12] == 0x88 {
				require.Len(t, p.Frame, len(tc.frame)-skb.VlanHlen, "the outer tag is not in the data")
				require.Equal(t, TPStatusUser|TPStatusVLANValid|TPStatusVLANTPIDValid, p.Status&^TPStatusCsumValid)
				require.Equal(t, binary.BigEndian.Uint16(tc.frame[12:14]), p.VlanTPID)
			} else {
				require.Equal(t, tc.frame, p.Frame)
				require.Zero(t, p.Status&TPStatusVLANValid)
			}
		})
	}
}

// TestVlanUntagClonedByTap: a generic XDP program's skb is not shared, but
// a tap on the transmitting veth holds a clone of it; the peer's
// skb_vlan_untag finds the head cloned (skb_cow copies it) and the tap
// keeps the tagged frame it cloned.
func TestVlanUntagClonedByTap(t *testing.T) {
	cfg := &Config{
		Namespaces: []NamespaceConfig{{Name: "A"}, {Name: "B"}},
		Devices: []DeviceConfig{{Name: "vA", Kind: KindVeth, Netns: "A", MAC: macA, Addrs: []netip.Prefix{pfx("192.0.2.9/24")},
			Peer: "vB", PeerNetns: "B", PeerMAC: macNIC, PeerAddrs: []netip.Prefix{pfx("192.0.2.1/24")}}},
		Sockets: []SocketConfig{{Name: "app", Netns: "B", Proto: ProtoUDP, Port: 9999}},
		Taps:    []TapConfig{{Name: "out", Netns: "A", Dev: "vA", Dir: TapTX, Hold: true}},
		Entries: []EntryConfig{{Kind: EntryPacket, Netns: "A", Dev: "vA"}},
	}
	s, te := newStack(t, cfg, "", nil, nil)
	f := withTags(rxFrame("192.0.2.1"), skb.EthP8021Q, 0x6000)
	require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
	require.Equal(t, uint64(1), te.obs.delivered(DeliverSocket))
	pk := s.TapPackets("out")
	require.Len(t, pk, 1)
	require.Equal(t, f, pk[0].Frame, "the transmit tap's clone keeps the tag in its data")
	require.Zero(t, pk[0].Status&TPStatusVLANValid)
}

// TestBridgeVlanTagged: a tagged frame crosses a bridge with its tag in
// vlan_tci (skb_vlan_untag at the port; the bridge and the veth keep it,
// skb_scrub_packet does not clear it), and the receiving namespace drops
// it as OTHERHOST. br_netfilter passes it untouched (no extension, cb
// kept) unless bridge-nf-filter-vlan-tagged is on.
func TestBridgeVlanTagged(t *testing.T) {
	for _, tc := range []struct {
		name     string
		nf, vlan bool
		extAdd   bool
	}{
		{"br_netfilter off", false, false, false},
		{"br_netfilter on", true, false, false},
		{"br_netfilter off, filter_vlan_tagged", false, true, false},
		{"br_netfilter on, filter_vlan_tagged", true, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var atPB, atEB string
			cfg := bridgeABConfig(NamespaceConfig{Name: HostNetns, BridgeNFCallIPTables: tc.nf, BridgeNFFilterVLANTagged: tc.vlan},
				ProgramConfig{Name: "pb", Hook: carrier.HookTCEgress, Dev: "pb", Prog: ProgramFunc(func(c *Ctx) int {
					atPB = fmt.Sprintf("tci %#x ext %v", c.Skb.H().VlanTCI, c.Skb.ExtFind(skb.ExtBridgeNF) != nil)
					return TCXNext
				})},
				ProgramConfig{Name: "eb", Hook: carrier.HookTCIngress, Netns: "B", Dev: "eb", Prog: ProgramFunc(func(c *Ctx) int {
					atEB = fmt.Sprintf("tci %#x", c.Skb.H().VlanTCI)
					return TCXNext
				})})
			cfg.Sockets = []SocketConfig{{Name: "b", Netns: "B", Proto: ProtoUDP, Port: 2000}}
			s, te := newStack(t, cfg, "", nil, nil)
			f := withTags(buildFrame(frameOpts{dstMAC: macB, srcMAC: macA, src: "10.1.0.1", dst: "10.1.0.2", sport: 1000, dport: 2000, payload: 10}),
				skb.EthP8021Q, 100)
			acct := te.a.Accountant()
			before := acct.Stats()
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
			after := acct.Stats()
			d := after.Sub(&before)
			require.Equal(t, "tci 0x64 ext false", atPB, "the port transmits the tag in vlan_tci, the extension deleted")
			require.Equal(t, tc.extAdd, d.Ops[cost.OpExtAdd] != 0, "SKB_EXT_BRIDGE_NF added")
			require.Equal(t, "tci 0x64", atEB, "the tag crossed the bridge and the veth in vlan_tci")
			require.Equal(t, []string{"SKB_DROP_REASON_OTHERHOST@ip_rcv_core"}, te.obs.dropReasons())
		})
	}
}

// TestVlanTransmit: a tagged frame untagged at vB is redirected out of a
// device by tc ingress. A veth transmits the tag in vlan_tci (its TX tap
// shows TP_STATUS_VLAN_VALID and the frame without it); a vxlan device
// has no VLAN transmit offload, so validate_xmit_vlan puts the tag back
// into the frame before its taps, and the encapsulated frame carries it.
// TestKernelVlanTransmit checks the same against 6.18.
func TestVlanTransmit(t *testing.T) {
	for _, target := range []string{"vB", "vxB"} {
		t.Run(target, func(t *testing.T) {
			cfg := &Config{
				Namespaces: []NamespaceConfig{{Name: "A"}, {Name: "B"}},
				Devices: []DeviceConfig{
					{Name: "vA", Kind: KindVeth, Netns: "A", MAC: macA, Addrs: []netip.Prefix{pfx("192.0.2.1/24")},
						Peer: "vB", PeerNetns: "B", PeerMAC: macB, PeerAddrs: []netip.Prefix{pfx("192.0.2.2/24")}},
					{Name: "vxB", Kind: KindVXLAN, Netns: "B", VNI: 42, MAC: macNIC, Local: addr("192.0.2.2"), Remote: addr("192.0.2.1")},
				},
				Programs: []ProgramConfig{{Name: "r", Hook: carrier.HookTCIngress, Netns: "B", Dev: "vB",
					Actions: []Action{{Kind: ActRedirect, Target: target}}}},
				Taps:    []TapConfig{{Name: "t", Netns: "B", Dev: target, Dir: TapTX, Hold: true}, {Name: "wire", Netns: "B", Dev: "vB", Dir: TapTX, Hold: true}},
				Entries: []EntryConfig{{Kind: EntryPacket, Netns: "A", Dev: "vA"}},
			}
			s, _ := newStack(t, cfg, "", nil, nil)
			f := withTags(buildFrame(frameOpts{dstMAC: macB, srcMAC: macA, src: "192.0.2.1", dst: "192.0.2.2", sport: 1000, dport: 2000, payload: 10}),
				skb.EthP8021Q, 0x2064)
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
			pk := s.TapPackets("t")
			require.Len(t, pk, 1)
			if target == "vB" {
				require.Equal(t, TPStatusUser|TPStatusVLANValid|TPStatusVLANTPIDValid, pk[0].Status)
				require.Equal(t, uint16(0x2064), pk[0].VlanTCI)
				require.Equal(t, append(append([]byte(nil), f[:12]...), f[16:]...), pk[0].Frame)
				return
			}
			require.Equal(t, TPStatusUser, pk[0].Status)
			require.Equal(t, f, pk[0].Frame, "the tag is back in the frame")
			wire := s.TapPackets("wire")
			require.Len(t, wire, 1)
			const outer = ethHlen + ipHlen + udpHlen + 8 // the VXLAN header
			require.Equal(t, f, wire[0].Frame[outer:], "the encapsulated frame carries the tag")
		})
	}
}

// TestRxVLANOffload: a NIC with receive VLAN offload strips an outer
// 802.1Q tag before native XDP sees the frame and the driver puts it into
// vlan_tci: XDP reads the encapsulated type at the ethertype, tc ingress
// the tag and the metadata where XDP left it; an 802.1ad tag stays in the
// frame for skb_vlan_untag. GRO then merges a tagged TCP flow, which it
// cannot when the tag is still in the frame (no VLAN GRO offload without
// CONFIG_VLAN_8021Q).
func TestRxVLANOffload(t *testing.T) {
	const q, ad = skb.EthP8021Q, skb.EthP8021AD
	seg := func(i int) []byte {
		return buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "192.0.2.1", proto: ipprotoTCP,
			sport: 5000, dport: 80, seq: uint32(1000 + 100*i), tcpFlags: tcpACK, payload: 100, id: uint16(i)})
	}
	for _, tc := range []struct {
		name    string
		offload bool
		tags    []uint16
		xdp     string // the ethertype XDP sees
		tc      []string
		merged  uint64
	}{
		{"offload, 802.1Q", true, []uint16{q, 0xa000}, "0x800",
			[]string{"tag 0x8100/0xa000 proto 0x800 meta ok segs 2"}, 1},
		{"no offload, 802.1Q", false, []uint16{q, 0xa000}, "0x8100",
			[]string{"tag 0x8100/0xa000 proto 0x800 meta ok segs 0", "tag 0x8100/0xa000 proto 0x800 meta ok segs 0"}, 0},
		{"offload, 802.1ad", true, []uint16{ad, 0xa000}, "0x88a8",
			[]string{"tag 0x88a8/0xa000 proto 0x800 meta ok segs 0", "tag 0x88a8/0xa000 proto 0x800 meta ok segs 0"}, 0},
		{"offload, untagged", true, nil, "0x800",
			[]string{"tag 0x0/0x0 proto 0x800 meta ok segs 2"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var atXDP string
			var atTC []string
			cfg := rxToSocketConfig()
			if tc.offload {
				cfg.Devices[0].RxVLANOffload = "on"
			}
			cfg.Programs = []ProgramConfig{
				{Name: "xdp", Hook: carrier.HookXDP, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
					atXDP = fmt.Sprintf("%#x", binary.BigEndian.Uint16(c.Skb.Data()[12:14]))
					c.AdjustMeta(-8)
					copy(c.Meta(), "metadata")
					return XDPPass
				})},
				{Name: "tc", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
					h := c.Skb.H()
					meta := "meta ok"
					if m := c.Meta(); string(m) != "metadata" {
						meta = fmt.Sprintf("meta %q", m)
					}
					atTC = append(atTC, fmt.Sprintf("tag %#x/%#x proto %#x %s segs %d", h.VlanProto, h.VlanTCI, h.Protocol, meta, c.Skb.Shinfo().GSOSegs))
					return TCXNext
				})},
			}
			s, te := newStack(t, cfg, "", nil, nil)
			for i := range 2 {
				require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: withTags(seg(i), tc.tags...), Hash: 0xabc}))
			}
			s.Flush()
			require.Equal(t, tc.xdp, atXDP, "XDP's view")
			require.Equal(t, tc.tc, atTC, "tc ingress")
			require.Equal(t, tc.merged, s.Stats().GROMerged)
			for _, r := range te.obs.dropReasons() {
				require.Equal(t, "SKB_DROP_REASON_NO_SOCKET@tcp_v4_rcv", r, "every skb reaches TCP (no listener)")
			}
			require.Len(t, te.obs.drops, len(tc.tc))
		})
	}
	err := newStackErr(t, &Config{Devices: []DeviceConfig{{Name: "v", Kind: KindVeth, Peer: "p", RxVLANOffload: "on"}}}, "")
	require.ErrorContains(t, err, "rx_vlan_offload on a veth device (NICs only)")
}

// TestVlanHelperActions: the program library's vlan_push and vlan_pop
// (bpf_skb_vlan_push, bpf_skb_vlan_pop) at tc ingress. Two pushes put the
// first tag into the frame; on v6.18 the moved mac addresses overwrite
// the XDP metadata (a tc program reading it after them finds other bytes),
// on v6.19 skb_postpush_data_move moves it along. A pop then takes the
// tag from the frame back into vlan_tci. TestKernelVlanHelpersMeta checks
// v6.18 against the kernel. Other hooks refuse the actions.
func TestVlanHelperActions(t *testing.T) {
	for _, tc := range []struct {
		profile string
		pop     bool
		want    string
	}{
		{"v6.18", false, "tag 0x88a8/0xc8 proto 0x8100 meta lost frame 0x8100"},
		{"v6.19", false, "tag 0x88a8/0xc8 proto 0x8100 meta ok frame 0x8100"},
		{"v6.18", true, "tag 0x8100/0x64 proto 0x800 meta lost frame 0x800"},
		{"v6.19", true, "tag 0x8100/0x64 proto 0x800 meta ok frame 0x800"},
	} {
		t.Run(fmt.Sprintf("%s pop %v", tc.profile, tc.pop), func(t *testing.T) {
			var got string
			acts := []Action{{Kind: ActVlanPush, Value: 100}, {Kind: ActVlanPush, Value: 200, TPID: skb.EthP8021AD}}
			if tc.pop {
				acts = append(acts, Action{Kind: ActVlanPop})
			}
			cfg := rxToSocketConfig()
			cfg.Programs = []ProgramConfig{
				{Name: "xdp", Hook: carrier.HookXDP, Dev: "eth0", Actions: []Action{{Kind: ActAdjustMeta, Value: 8}}},
				{Name: "vlan", Hook: carrier.HookTCIngress, Dev: "eth0", Actions: acts},
				{Name: "look", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
					h := c.Skb.H()
					meta := "meta ok"
					if v, ok := c.Skb.Metadata(); !ok || v[0] != metaFillStart || v[7] != metaFillStart+7 {
						meta = "meta lost"
					}
					got = fmt.Sprintf("tag %#x/%#x proto %#x %s frame %#x", h.VlanProto, h.VlanTCI, h.Protocol, meta,
						binary.BigEndian.Uint16(c.Skb.Data()[12:14]))
					return TCXNext
				})},
			}
			s, _ := newStack(t, cfg, tc.profile, nil, nil)
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: rxFrame("192.0.2.1")}))
			require.Equal(t, tc.want, got)
		})
	}
	for _, hook := range []carrier.Hook{carrier.HookXDP, carrier.HookCgroupIngress} {
		cfg := rxToSocketConfig()
		cfg.Programs = []ProgramConfig{{Name: "p", Hook: hook, Dev: "eth0", Actions: []Action{{Kind: ActVlanPop}}}}
		if hook == carrier.HookCgroupIngress {
			cfg.Programs[0].Dev = ""
		}
		require.ErrorContains(t, newStackErr(t, cfg, ""), "bpf_skb_vlan_pop is for tc programs", "at %v", hook)
	}
	cfg := rxToSocketConfig()
	cfg.Programs = []ProgramConfig{{Name: "p", Hook: carrier.HookTCIngress, Dev: "eth0", Actions: []Action{{Kind: ActVlanPush, Value: 1 << 16}}}}
	require.ErrorContains(t, newStackErr(t, cfg, ""), "TCI 65536 does not fit 16 bits")
}

// TestXDPAdjustHead: bpf_xdp_adjust_head moves the frame start with the
// metadata in front of it, in native and generic XDP: an IPIP packet
// decapsulated in XDP (adjust_head 20, the Ethernet header kept) reaches
// tc ingress as its inner packet with the metadata intact (checked
// against 6.18 by TestKernelXDPAdjustHeadMeta). The helper refuses to
// move data into the xdp_frame area or to leave less than an Ethernet
// header (-EINVAL), and the action is for XDP programs only.
func TestXDPAdjustHead(t *testing.T) {
	inner := buildFrame(frameOpts{src: "10.9.0.1", dst: "192.0.2.1", sport: 1, dport: 9999, payload: 16, noEth: true})
	f := make([]byte, ethHlen+ipHlen+len(inner))
	writeEth(f, macNIC, macB, ethPIP)
	writeIPv4(f[ethHlen:], 0, ipHlen+len(inner), 1, false, 64, ipprotoIPIP, addr("192.0.2.9"), addr("192.0.2.1"))
	copy(f[ethHlen+ipHlen:], inner)
	for _, mode := range []string{"native", "generic"} {
		t.Run(mode, func(t *testing.T) {
			var rets []int
			var atTC string
			cfg := rxToSocketConfig()
			cfg.Devices[0].XDP = mode
			cfg.Programs = []ProgramConfig{
				{Name: "xdp", Hook: carrier.HookXDP, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
					c.AdjustMeta(-8)
					copy(c.Meta(), "metadata")
					headroom := c.Skb.Headroom()
					rets = append(rets,
						c.AdjustHead(-(headroom-skb.SizeofXDPFrame-8)-1), // into the xdp_frame area
						c.AdjustHead(c.Skb.Headlen()-ethHlen+1))          // less than ETH_HLEN left
					var eth [ethHlen]byte
					copy(eth[:], c.Skb.Data())
					rets = append(rets, c.AdjustHead(ipHlen))
					copy(c.Skb.Data(), eth[:])
					return XDPPass
				})},
				{Name: "tc", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
					atTC = fmt.Sprintf("meta %q proto %d mac %d", c.Meta(), c.Skb.Data()[ethHlen+9], c.Skb.MacLen())
					return TCXNext
				})},
			}
			s, te := newStack(t, cfg, "", nil, nil)
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
			require.Equal(t, []int{errEINVAL, errEINVAL, 0}, rets)
			require.Equal(t, `meta "metadata" proto 17 mac 14`, atTC, "the inner UDP packet behind the Ethernet header")
			require.Equal(t, uint64(1), te.obs.delivered(DeliverSocket))
		})
	}
	cfg := rxToSocketConfig()
	cfg.Programs = []ProgramConfig{{Name: "p", Hook: carrier.HookTCIngress, Dev: "eth0", Actions: []Action{{Kind: ActAdjustHead, Delta: 20}}}}
	require.ErrorContains(t, newStackErr(t, cfg, ""), "bpf_xdp_adjust_head is for xdp programs")
}

// TestGenericXDPEthChange: generic XDP parses the Ethernet header again
// when the program changed its type or whether it is for this host
// (bpf_prog_run_generic_xdp: eth_type_trans), here by redirecting a frame
// for another host to the NIC's address, which the stack then receives.
func TestGenericXDPEthChange(t *testing.T) {
	f := buildFrame(frameOpts{dstMAC: macA, srcMAC: macB, src: "192.0.2.9", dst: "192.0.2.1", sport: 1000, dport: 9999, payload: 16})
	for _, rewrite := range []bool{false, true} {
		cfg := rxToSocketConfig()
		cfg.Devices[0].XDP = "generic"
		cfg.Programs = []ProgramConfig{{Name: "xdp", Hook: carrier.HookXDP, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
			if rewrite {
				copy(c.Skb.Data(), macNIC[:])
			}
			return XDPPass
		})}}
		s, te := newStack(t, cfg, "", nil, nil)
		require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
		if rewrite {
			require.Equal(t, uint64(1), te.obs.delivered(DeliverSocket), "PACKET_HOST after eth_type_trans")
		} else {
			require.Equal(t, []string{"SKB_DROP_REASON_OTHERHOST@ip_rcv_core"}, te.obs.dropReasons())
		}
	}
}

// TestChangeHead: bpf_skb_change_head at tc ingress puts zeroed bytes in
// front of the frame and the mac header there; the XDP metadata in front
// of the old mac header is overwritten on v6.18 and moved on v6.19
// (skb_postpush_data_move). Flags, or a new length above BPF_SKB_MAX_LEN,
// are -EINVAL; the action is a tc action only.
func TestChangeHead(t *testing.T) {
	for _, tc := range []struct {
		profile string
		meta    string
	}{{"v6.18", "meta lost"}, {"v6.19", "meta ok"}} {
		t.Run(tc.profile, func(t *testing.T) {
			var got string
			var rets []int
			cfg := rxToSocketConfig()
			cfg.Programs = []ProgramConfig{
				{Name: "xdp", Hook: carrier.HookXDP, Dev: "eth0", Actions: []Action{{Kind: ActAdjustMeta, Value: 8}}},
				{Name: "tc", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
					rets = append(rets, c.ChangeHead(14, 1), c.ChangeHead(bpfSkbMaxLen, 0), c.ChangeHead(14, 0))
					meta := "meta ok"
					if v, ok := c.Skb.Metadata(); !ok || v[0] != metaFillStart || v[7] != metaFillStart+7 {
						meta = "meta lost"
					}
					d := c.Skb.Data()
					got = fmt.Sprintf("%s zeros %v mac %d", meta, string(d[:14]) == string(make([]byte, 14)), c.Skb.MacLen())
					return TCXNext
				})},
			}
			s, te := newStack(t, cfg, tc.profile, nil, nil)
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: rxFrame("192.0.2.1")}))
			require.Equal(t, []int{errEINVAL, errEINVAL, 0}, rets)
			require.Equal(t, tc.meta+" zeros true mac 28", got)
			require.Equal(t, uint64(1), te.obs.delivered(DeliverSocket), "tc pulls the new mac_len: IP receives the packet")
		})
	}
	cfg := rxToSocketConfig()
	cfg.Programs = []ProgramConfig{{Name: "p", Hook: carrier.HookXDP, Dev: "eth0", Actions: []Action{{Kind: ActChangeHead, Value: 14}}}}
	require.ErrorContains(t, newStackErr(t, cfg, ""), "bpf_skb_change_head is for tc programs")
}

// TestAdjustRoom: bpf_skb_adjust_room at tc ingress. Room after the IPv4
// header (net) or the mac header (mac, an IPIP encap with
// ENCAP_L3_IPV4: the inner headers are the old ones, skb->encapsulation
// set, the network header after the mac header); on v6.18 the moved
// headers overwrite the XDP metadata (grow) or leave it behind (shrink),
// on v6.19 it moves along. The argument checks return the kernel's
// errnos, and __skb_reset_checksum_unnecessary runs unless
// NO_CSUM_RESET (csum 1: CHECKSUM_UNNECESSARY kept). The room is zeroed
// (for the encap, the 20 bytes after the Ethernet type's 0x00). TestKernelAdjustRoomMeta checks v6.18 against the
// kernel.
func TestAdjustRoom(t *testing.T) {
	for _, tc := range []struct {
		profile string
		delta   int32
		mode    uint32
		flags   uint64
		want    string
	}{
		{"v6.18", 8, AdjRoomNet, 0, "ret 0 meta lost nh 14 inner false csum 0 zeros 34"},
		{"v6.19", 8, AdjRoomNet, 0, "ret 0 meta ok nh 14 inner false csum 0 zeros 34"},
		{"v6.18", -8, AdjRoomNet, AdjRoomNoCsumReset, "ret 0 meta lost nh 14 inner false csum 1 zeros -1"},
		{"v6.19", -8, AdjRoomNet, 0, "ret 0 meta ok nh 14 inner false csum 0 zeros -1"},
		{"v6.18", 20, AdjRoomMac, AdjRoomEncapL3IPv4, "ret 0 meta lost nh 14 inner true csum 0 zeros 13"},
		{"v6.19", 20, AdjRoomMac, AdjRoomEncapL3IPv4, "ret 0 meta ok nh 14 inner true csum 0 zeros 13"},
		{"v6.18", 20, 2, 0, "ret -524"},                                             // unknown mode: -ENOTSUPP
		{"v6.18", 0x1000, AdjRoomNet, 0, "ret -14"},                                 // more than 0xfff: -EFAULT
		{"v6.18", 8, AdjRoomNet, 1 << 20, "ret -22"},                                // unknown flag: -EINVAL
		{"v6.18", -80, AdjRoomNet, 0, "ret -524"},                                   // less than the IPv4 header left
		{"v6.18", 8, AdjRoomNet, AdjRoomDecapL3IPv4, "ret -22"},                     // a decap flag on a grow
		{"v6.18", -8, AdjRoomNet, AdjRoomEncapL3IPv4, "ret -22"},                    // an encap flag on a shrink
		{"v6.18", 4, AdjRoomMac, AdjRoomEncapL3IPv4 | AdjRoomEncapL2(8), "ret -22"}, // inner mac longer than the room
	} {
		t.Run(fmt.Sprintf("%s %d %d %#x", tc.profile, tc.delta, tc.mode, tc.flags), func(t *testing.T) {
			var got string
			cfg := rxToSocketConfig()
			cfg.Programs = []ProgramConfig{
				{Name: "xdp", Hook: carrier.HookXDP, Dev: "eth0", Actions: []Action{{Kind: ActAdjustMeta, Value: 8}}},
				{Name: "tc", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
					before := append([]byte(nil), c.Skb.Data()...)
					ret := c.AdjustRoom(tc.delta, tc.mode, tc.flags)
					if ret != 0 {
						got = fmt.Sprintf("ret %d", ret)
						require.Equal(t, before, c.Skb.Data(), "a refused call changes nothing")
						return TCXNext
					}
					meta := "meta ok"
					if v, ok := c.Skb.Metadata(); !ok || v[0] != metaFillStart || v[7] != metaFillStart+7 {
						meta = "meta lost"
					}
					d := c.Skb.Data()
					zeros := -1
					if tc.delta > 0 {
						for i := 0; i+int(tc.delta) <= len(d); i++ {
							if string(d[i:i+int(tc.delta)]) == string(make([]byte, tc.delta)) {
								zeros = i
								break
							}
						}
					}
					h := c.Skb.H()
					got = fmt.Sprintf("ret 0 %s nh %d inner %v csum %d zeros %d", meta, c.Skb.NetworkOffset(), h.Encapsulation, h.IPSummed, zeros)
					return TCXNext
				})},
			}
			s, _ := newStack(t, cfg, tc.profile, nil, nil)
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: rxFrame("192.0.2.1")}))
			require.Equal(t, tc.want, got)
		})
	}
	cfg := rxToSocketConfig()
	cfg.Programs = []ProgramConfig{{Name: "p", Hook: carrier.HookXDP, Dev: "eth0", Actions: []Action{{Kind: ActAdjustRoom, Delta: 8}}}}
	require.ErrorContains(t, newStackErr(t, cfg, ""), "bpf_skb_adjust_room is for tc programs")
}

// TestChangeProto: bpf_skb_change_proto to IPv6 opens 20 zeroed bytes
// after the mac header and makes skb->protocol IPv6, clearing the hash;
// back to IPv4 closes them again. Flags and other protocol pairs are
// refused. The metadata survives the round trip only on v6.19.
func TestChangeProto(t *testing.T) {
	for _, tc := range []struct{ profile, meta string }{{"v6.18", "meta lost"}, {"v6.19", "meta ok"}} {
		t.Run(tc.profile, func(t *testing.T) {
			var got []string
			cfg := rxToSocketConfig()
			cfg.Programs = []ProgramConfig{
				{Name: "xdp", Hook: carrier.HookXDP, Dev: "eth0", Actions: []Action{{Kind: ActAdjustMeta, Value: 8}}},
				{Name: "tc", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
					orig := append([]byte(nil), c.Skb.Data()...)
					c.SetHash(7)
					got = append(got, fmt.Sprint(c.ChangeProto(ethPIPv6, 1), c.ChangeProto(ethPARP, 0)))
					r := c.ChangeProto(ethPIPv6, 0)
					d := c.Skb.Data()
					got = append(got, fmt.Sprintf("%d proto %#x hash %d zeros %v", r, c.Skb.H().Protocol, c.Skb.H().Hash,
						string(d[ethHlen:ethHlen+20]) == string(make([]byte, 20))))
					r = c.ChangeProto(ethPIP, 0)
					meta := "meta ok"
					if v, ok := c.Skb.Metadata(); !ok || v[0] != metaFillStart || v[7] != metaFillStart+7 {
						meta = "meta lost"
					}
					got = append(got, fmt.Sprintf("%d proto %#x same %v %s", r, c.Skb.H().Protocol, string(orig) == string(c.Skb.Data()), meta))
					return TCXNext
				})},
			}
			s, _ := newStack(t, cfg, tc.profile, nil, nil)
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: rxFrame("192.0.2.1")}))
			require.Equal(t, []string{"-22 -524", "0 proto 0x86dd hash 0 zeros true", "0 proto 0x800 same true " + tc.meta}, got)
		})
	}
}
