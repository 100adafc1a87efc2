package kernel

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/internal/testutil"
	"github.com/skbsim/skbsim/netstack"
)

// sendFrame sends frame out of device ifindex of n through a packet
// socket (SOCK_RAW, as tcpreplay does), addressed to dst.
func sendFrame(t *testing.T, n *Netns, ifindex int, dst net.HardwareAddr, frame []byte) {
	t.Helper()
	tx := newSocket(t, n, unix.AF_PACKET, unix.SOCK_RAW, 0)
	sa := &unix.SockaddrLinklayer{Ifindex: ifindex, Halen: 6}
	copy(sa.Addr[:], dst)
	require.NoError(t, unix.Sendto(tx, frame, 0, sa))
}

// modelVethAB is the model of vethPairAB's pair: vA in A (192.0.2.1/24,
// macA) and vB in B (192.0.2.2/24, macB) running XDP in mode peerXDP
// ("native", "generic" or "" for the default), A's packet socket sending
// the frames out of vA, and progs attached.
func modelVethAB(macA, macB net.HardwareAddr, peerXDP string, progs ...netstack.ProgramConfig) *netstack.Config {
	return &netstack.Config{
		Namespaces: []netstack.NamespaceConfig{{Name: "A"}, {Name: "B"}},
		Devices: []netstack.DeviceConfig{{Name: "vA", Kind: netstack.KindVeth, Netns: "A", MAC: [6]byte(macA),
			Addrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.1/24")}, Peer: "vB", PeerNetns: "B", PeerMAC: [6]byte(macB),
			PeerAddrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.2/24")}, PeerXDP: peerXDP}},
		Programs: progs,
		Entries:  []netstack.EntryConfig{{Kind: netstack.EntryPacket, Netns: "A", Dev: "vA"}},
	}
}

// vlanTag is one 802.1Q or 802.1ad header.
type vlanTag struct{ tpid, tci uint16 }

// vlanFrame is an Ethernet frame from src to dst with tags, then an IPv4
// UDP datagram (valid header checksum, no UDP checksum) 192.0.2.1:40000 ->
// dstIP:9999.
func vlanFrame(dst, src net.HardwareAddr, tags []vlanTag, dstIP [4]byte) []byte {
	f := append(append([]byte(nil), dst...), src...)
	for _, tg := range tags {
		f = binary.BigEndian.AppendUint16(f, tg.tpid)
		f = binary.BigEndian.AppendUint16(f, tg.tci)
	}
	f = binary.BigEndian.AppendUint16(f, unix.ETH_P_IP)
	ip := udp4Packet([4]byte{192, 0, 2, 1}, dstIP, 40000, 9999, 32)
	binary.BigEndian.PutUint16(ip[10:], ^csumFold(csumAdd(0, ip[:20])))
	return append(f, ip...)
}

// TestKernelVlanReceive: a packet socket in A sends VLAN-tagged frames out
// of vA (veth), and this kernel (CONFIG_VLAN_8021Q off, no VLAN devices)
// receives them on vB. __netif_receive_skb_core untags the outer tag
// before the taps (skb_vlan_untag): a packet socket on vB reads the frame
// without it and the tag in PACKET_AUXDATA (TP_STATUS_VLAN_VALID,
// tp_vlan_tci, tp_vlan_tpid); a QinQ frame keeps its inner tag in the
// data. Then check_vlan_id: a non-zero VLAN id is PACKET_OTHERHOST, which
// ip_rcv drops, a priority tag (id 0) is cleared and the datagram reaches
// the socket, and a priority tag over another tag has the inner one
// untagged and checked in turn. The model (a packet socket entry on vA, a
// held RX tap on vB) reads the same bytes, status and tag, and delivers
// the same datagrams.
func TestKernelVlanReceive(t *testing.T) {
	testutil.KernelTests(t)
	const q, ad = unix.ETH_P_8021Q, unix.ETH_P_8021AD
	for _, tc := range []struct {
		name      string
		tags      []vlanTag
		delivered int
		reason    string // the model's drop reason when nothing is delivered
	}{
		{"priority tag", []vlanTag{{q, 0xa000}}, 1, ""},
		{"VLAN 100", []vlanTag{{q, 0x2064}}, 0, "SKB_DROP_REASON_OTHERHOST"},
		{"802.1ad VLAN 7 over 802.1Q VLAN 9", []vlanTag{{ad, 7}, {q, 9}}, 0, "SKB_DROP_REASON_UNHANDLED_PROTO"},
		{"priority tag over VLAN 9", []vlanTag{{q, 0}, {q, 9}}, 0, "SKB_DROP_REASON_OTHERHOST"},
		{"priority tag over priority tag", []vlanTag{{ad, 0x2000}, {q, 0}}, 1, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := udpPair(t, "vl", 0, nil)
			macA, err := a.HardwareAddr("vA")
			require.NoError(t, err)
			macB, err := b.HardwareAddr("vB")
			require.NoError(t, err)
			ifA, err := a.Ifindex("vA")
			require.NoError(t, err)
			ifB, err := b.Ifindex("vB")
			require.NoError(t, err)
			tap := capture(t, b, ifB)
			require.NoError(t, unix.SetsockoptInt(tap, unix.SOL_PACKET, unix.PACKET_AUXDATA, 1))
			rcv := newSocket(t, b, unix.AF_INET, unix.SOCK_DGRAM, 0)
			require.NoError(t, unix.Bind(rcv, &unix.SockaddrInet4{Port: 9999}))
			require.NoError(t, unix.SetsockoptTimeval(rcv, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Usec: 300_000}))
			frame := vlanFrame(macB, macA, tc.tags, [4]byte{192, 0, 2, 2})
			sendFrame(t, a, ifA, macB, frame)
			got := drainUDP(rcv)
			require.Equal(t, tc.delivered, got, "datagrams read")

			var kt []netstack.TapPacket
			buf, oob := make([]byte, 2048), make([]byte, 256)
			for {
				n, oobn, _, from, err := unix.Recvmsg(tap, buf, oob, 0)
				if err != nil {
					break
				}
				if ll, ok := from.(*unix.SockaddrLinklayer); ok && ll.Pkttype == unix.PACKET_OUTGOING {
					continue
				}
				aux := auxdata(t, oob[:oobn])
				if et := binary.BigEndian.Uint16(buf[12:14]); aux.Status&netstack.TPStatusVLANValid == 0 && et != q && et != ad {
					continue // IPv6 neighbour discovery from A
				}
				kt = append(kt, netstack.TapPacket{PacketID: 1, Len: int(aux.Len), Status: aux.Status,
					VlanTCI: aux.Vlan_tci, VlanTPID: aux.Vlan_tpid, Frame: append([]byte(nil), buf[:n]...)})
			}
			require.Len(t, kt, 1, "the tap's frames")
			t.Logf("tap: status %#x tci %#x tpid %#x, %d bytes", kt[0].Status, kt[0].VlanTCI, kt[0].VlanTPID, kt[0].Len)
			require.Len(t, kt[0].Frame, len(frame)-4, "the outer tag is not in the data")
			require.Equal(t, tc.tags[0].tci, kt[0].VlanTCI)

			mt, delivered, reasons := modelVlanReceive(t, macA, macB, frame)
			require.Equal(t, kt, mt, "model tap")
			require.Equal(t, got, delivered, "model datagrams read (drops %v)", reasons)
			if tc.reason != "" {
				require.Equal(t, []string{tc.reason}, reasons)
			} else {
				require.Empty(t, reasons)
			}
		})
	}
}

// modelVlanReceive is TestKernelVlanReceive's case in the model: a packet
// socket entry on vA sends frame, a held RX tap on vB and a UDP socket on
// B:9999 receive.
func modelVlanReceive(t *testing.T, macA, macB net.HardwareAddr, frame []byte) (tap []netstack.TapPacket, delivered int, reasons []string) {
	t.Helper()
	cfg := &netstack.Config{
		Namespaces: []netstack.NamespaceConfig{{Name: "A"}, {Name: "B"}},
		Devices: []netstack.DeviceConfig{{Name: "vA", Kind: netstack.KindVeth, Netns: "A", MAC: [6]byte(macA),
			Addrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.1/24")}, Peer: "vB", PeerNetns: "B", PeerMAC: [6]byte(macB),
			PeerAddrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.2/24")}}},
		Sockets: []netstack.SocketConfig{{Name: "rcv", Netns: "B", Proto: netstack.ProtoUDP, Port: 9999}},
		Taps:    []netstack.TapConfig{{Name: "t", Netns: "B", Dev: "vB", Dir: netstack.TapRX, Hold: true}},
		Entries: []netstack.EntryConfig{{Kind: netstack.EntryPacket, Netns: "A", Dev: "vA"}},
	}
	obs := &dropRecorder{}
	runModel(t, cfg, obs, frame, func(s *netstack.Stack) { tap = s.TapPackets("t") })
	return tap, obs.delivered, obs.reasons
}

// TestKernelBridgeNetfilterVlan: a packet socket in A sends an 802.1Q
// frame (VLAN 100) around an IPv4 datagram into the bridge of
// TestKernelBridgeNetfilterExtension's topology, with
// bridge-nf-call-iptables on. The port untags it (skb_vlan_untag) and the
// tag stays in vlan_tci through the bridge, to pb's queue or up to the
// bridge device. br_netfilter takes the frame only with
// bridge-nf-filter-vlan-tagged: then the frame delivered up carries
// SKB_EXT_BRIDGE_NF, which the forwarded one has lost again at pb. The
// model agrees at the tc hooks.
func TestKernelBridgeNetfilterVlan(t *testing.T) {
	testutil.KernelTests(t)
	probe, err := NewExtProbe()
	testutil.SkipIfNotSupported(t, err)
	t.Cleanup(func() { require.NoError(t, probe.Close()) })
	sfx := fmt.Sprint("v", os.Getpid()%10000)
	for _, tc := range []struct {
		filter, toBridge bool
		want             map[string]string
	}{
		{false, false, seenWant("pa rx vlan", "pb tx vlan")},
		{true, false, seenWant("pa rx vlan", "pb tx vlan")},
		{false, true, seenWant("pa rx vlan", "br rx vlan")},
		{true, true, seenWant("pa rx vlan", "br rx ext vlan")},
	} {
		t.Run(fmt.Sprintf("filter_vlan_tagged %v to bridge %v", tc.filter, tc.toBridge), func(t *testing.T) {
			tags := []vlanTag{{unix.ETH_P_8021Q, 100}}
			brnfFrameCase(t, probe, sfx, map[bool]string{true: "vlan"}[tc.filter], tc.toBridge, tc.want,
				func(dst, src net.HardwareAddr, dstIP [4]byte) []byte { return vlanFrame(dst, src, tags, dstIP) })
		})
	}
}

// brnfFrameCase sends a frame built by build from A's packet socket to
// vB's MAC (192.0.2.2) or, with toBridge, to the bridge's (192.0.2.4) in
// the br_netfilter topology with bridge-nf-call-iptables on and the
// bridge-nf-filter-<filter>-tagged sysctl, and checks that the kernel's
// probe readings are want and that the model's equal them.
func brnfFrameCase(t *testing.T, probe *ExtProbe, sfx, filter string, toBridge bool, want map[string]string,
	build func(dst, src net.HardwareAddr, dstIP [4]byte) []byte) {
	t.Helper()
	topo := newBrnfTopology(t, probe, sfx, true, filter)
	dst, dstIP := topo.macB, [4]byte{192, 0, 2, 2}
	mdst := net.HardwareAddr{2, 0, 0, 0, 7, 2}
	if toBridge {
		dst, dstIP = topo.macBr, [4]byte{192, 0, 2, 4}
		mdst = net.HardwareAddr{2, 0, 0, 0, 7, 4}
	}
	ifA, err := topo.a.Ifindex("vA")
	require.NoError(t, err)
	sendFrame(t, topo.a, ifA, dst, build(dst, topo.macA, dstIP))
	kern := topo.seen(t)
	require.Equal(t, want, kern, "kernel")
	frame := build(mdst, net.HardwareAddr{2, 0, 0, 0, 7, 1}, dstIP)
	require.Equal(t, kern, modelBridgeNF(t, true, filter, netstack.EntryConfig{Kind: netstack.EntryPacket, Netns: "A", Dev: "vA"}, frame), "model")
}

// TestKernelVlanTransmit: a tagged frame arriving on vB (its tag moved
// into vlan_tci by skb_vlan_untag) is redirected by a tc ingress program
// (bpf_redirect, egress) out of a device. A veth inserts tags in
// "hardware" (NETIF_F_HW_VLAN_CTAG_TX): a packet socket on it reads the
// frame without the tag and the tag in PACKET_AUXDATA. A vxlan device
// cannot, so validate_xmit_vlan puts the tag back into the frame
// (__vlan_hwaccel_push_inside) before its taps. The model's held TX tap
// reads the same.
func TestKernelVlanTransmit(t *testing.T) {
	testutil.KernelTests(t)
	for _, target := range []string{"vB", "vxB"} {
		t.Run(target, func(t *testing.T) {
			a, b := udpPair(t, "vt", 0, nil)
			require.NoError(t, b.IP("link", "add", "vxB", "type", "vxlan", "id", "42", "dstport", "4789", "local", "192.0.2.2",
				"remote", "192.0.2.1", "dev", "vB"))
			require.NoError(t, b.IP("link", "set", "vxB", "up"))
			macA, err := a.HardwareAddr("vA")
			require.NoError(t, err)
			macB, err := b.HardwareAddr("vB")
			require.NoError(t, err)
			macVx, err := b.HardwareAddr("vxB")
			require.NoError(t, err)
			ifA, err := a.Ifindex("vA")
			require.NoError(t, err)
			ifT, err := b.Ifindex(target)
			require.NoError(t, err)
			prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.SchedCLS, License: "GPL", Instructions: asm.Instructions{
				asm.Mov.Imm(asm.R1, int32(ifT)),
				asm.Mov.Imm(asm.R2, 0),
				asm.FnRedirect.Call(),
				asm.Return(),
			}})
			require.NoError(t, err)
			t.Cleanup(func() { prog.Close() })
			require.NoError(t, attach(t, b, "vB", prog, false))
			tap := capture(t, b, ifT)
			require.NoError(t, unix.SetsockoptInt(tap, unix.SOL_PACKET, unix.PACKET_AUXDATA, 1))
			tags := []vlanTag{{unix.ETH_P_8021Q, 0x2064}}
			frame := vlanFrame(macB, macA, tags, [4]byte{192, 0, 2, 2})
			sendFrame(t, a, ifA, macB, frame)

			var kt []netstack.TapPacket
			buf, oob := make([]byte, 2048), make([]byte, 256)
			for {
				n, oobn, _, from, err := unix.Recvmsg(tap, buf, oob, 0)
				if err != nil {
					break
				}
				if ll, ok := from.(*unix.SockaddrLinklayer); !ok || ll.Pkttype != unix.PACKET_OUTGOING {
					continue
				}
				aux := auxdata(t, oob[:oobn])
				if et := binary.BigEndian.Uint16(buf[12:14]); aux.Status&netstack.TPStatusVLANValid == 0 && et != unix.ETH_P_8021Q {
					continue // IPv6 neighbour discovery
				}
				kt = append(kt, netstack.TapPacket{PacketID: 1, Len: int(aux.Len), Status: aux.Status,
					VlanTCI: aux.Vlan_tci, VlanTPID: aux.Vlan_tpid, Frame: append([]byte(nil), buf[:n]...)})
			}
			require.Len(t, kt, 1, "the tap's frames")
			t.Logf("tap: status %#x tci %#x tpid %#x, %d bytes", kt[0].Status, kt[0].VlanTCI, kt[0].VlanTPID, kt[0].Len)
			if target == "vxB" {
				require.Equal(t, frame, kt[0].Frame, "the tag is back in the frame")
			} else {
				require.Equal(t, tags[0].tci, kt[0].VlanTCI)
			}
			require.Equal(t, kt, modelVlanTransmit(t, macA, macB, macVx, target, frame), "model tap")
		})
	}
}

// modelVlanTransmit is TestKernelVlanTransmit's case in the model.
func modelVlanTransmit(t *testing.T, macA, macB, macVx net.HardwareAddr, target string, frame []byte) (tap []netstack.TapPacket) {
	t.Helper()
	cfg := &netstack.Config{
		Namespaces: []netstack.NamespaceConfig{{Name: "A"}, {Name: "B"}},
		Devices: []netstack.DeviceConfig{
			{Name: "vA", Kind: netstack.KindVeth, Netns: "A", MAC: [6]byte(macA),
				Addrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.1/24")}, Peer: "vB", PeerNetns: "B", PeerMAC: [6]byte(macB),
				PeerAddrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.2/24")}},
			{Name: "vxB", Kind: netstack.KindVXLAN, Netns: "B", VNI: 42, MAC: [6]byte(macVx), Local: netip.MustParseAddr("192.0.2.2"),
				Remote: netip.MustParseAddr("192.0.2.1")},
		},
		Programs: []netstack.ProgramConfig{{Name: "r", Hook: carrier.HookTCIngress, Netns: "B", Dev: "vB",
			Actions: []netstack.Action{{Kind: netstack.ActRedirect, Target: target}}}},
		Taps:    []netstack.TapConfig{{Name: "t", Netns: "B", Dev: target, Dir: netstack.TapTX, Hold: true}},
		Entries: []netstack.EntryConfig{{Kind: netstack.EntryPacket, Netns: "A", Dev: "vA"}},
	}
	runModel(t, cfg, &dropRecorder{}, frame, func(s *netstack.Stack) { tap = s.TapPackets("t") })
	return tap
}

// TestKernelXDPMetaAfterVlanUntag: native XDP on vB writes 8 bytes of
// metadata in front of a tagged frame from A; __netif_receive_skb_core's
// skb_vlan_untag (skb_reorder_vlan_header) moves them up by VLAN_HLEN
// with the mac addresses, so tc ingress still finds 8 bytes at data_meta
// and the kfree_skb tracepoint (check_vlan_id's OTHERHOST, dropped by
// ip_rcv; a QinQ frame's inner tag, UNHANDLED_PROTO) reads them right
// before the mac header. The model's xdp-meta design finds the value at
// both hooks.
func TestKernelXDPMetaAfterVlanUntag(t *testing.T) {
	testutil.KernelTests(t)
	sfx := fmt.Sprint(os.Getpid() % 100000)
	va, vb := "mvA"+sfx, "mvB"+sfx
	for _, tc := range []struct {
		name string
		tags []vlanTag
	}{
		{"VLAN 100", []vlanTag{{unix.ETH_P_8021Q, 100}}},
		{"QinQ", []vlanTag{{unix.ETH_P_8021AD, 7}, {unix.ETH_P_8021Q, 9}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			probe, err := NewMetaProbe(false)
			testutil.SkipIfNotSupported(t, err)
			t.Cleanup(func() { require.NoError(t, probe.Close()) })
			a, b, macB := vethPairAB(t, "mv", va, vb)
			require.NoError(t, probe.AttachXDP(b, vb, false))
			require.NoError(t, probe.AttachTC(b, vb, false))
			require.NoError(t, probe.Watch(vb))
			macA, err := a.HardwareAddr(va)
			require.NoError(t, err)
			ifA, err := a.Ifindex(va)
			require.NoError(t, err)
			sendFrame(t, a, ifA, macB, vlanFrame(macB, macA, tc.tags, [4]byte{192, 0, 2, 2}))
			n, ran, err := probe.TCMetaLen()
			require.NoError(t, err)
			require.True(t, ran, "tc ingress ran")
			require.EqualValues(t, MetaProbeLen, n, "data - data_meta at tc ingress")
			seen, err := probe.Seen(vb)
			require.NoError(t, err)
			require.Equal(t, uint64(1), seen.Count, "skbs freed on %s", vb)
			require.EqualValues(t, MetaProbeLen, seen.MetaLen)
			for i, c := range seen.Meta {
				require.Equal(t, byte(0xa0+i), c, "metadata byte %d before the mac header", i)
			}
			mA, mB := net.HardwareAddr{2, 0, 0, 0, 8, 1}, net.HardwareAddr{2, 0, 0, 0, 8, 2}
			cfg := modelVethAB(mA, mB, "native",
				netstack.ProgramConfig{Name: "xdp", Hook: carrier.HookXDP, Netns: "B", Dev: "vB", Actions: []netstack.Action{{Kind: netstack.ActWrite, Map: 0, Value: 0xa0}}},
				netstack.ProgramConfig{Name: "tc", Hook: carrier.HookTCIngress, Netns: "B", Dev: "vB", Actions: []netstack.Action{{Kind: netstack.ActRead, Map: 0}}},
				netstack.ProgramConfig{Name: "tp", Hook: carrier.HookTracepoint, Netns: "B", Event: netstack.EventKfreeSkb,
					Actions: []netstack.Action{{Kind: netstack.ActRead, Map: 0}}},
			)
			frame := vlanFrame(mB, mA, tc.tags, [4]byte{192, 0, 2, 2})
			for _, hook := range []carrier.Hook{carrier.HookTCIngress, carrier.HookTracepoint} {
				require.Equal(t, []netstack.ReadResult{netstack.ReadFound}, runXDPMetaModelAt(t, cfg, hook, frame), "model at %v", hook)
			}
		})
	}
}

// TestKernelVlanHelpersMeta: a tc ingress program on vB calls
// bpf_skb_vlan_push and bpf_skb_vlan_pop on a frame that carries 8 bytes
// of native XDP metadata, and records what it sees after them. On 6.18
// (no skb_postpush/postpull_data_move): a push with a tag already in
// vlan_tci puts that tag into the frame and the moved mac addresses
// overwrite the metadata's last 4 bytes (data_meta now shows 4 bytes from
// before it and the first 4); a pop of a tag in the frame moves the mac
// header up and leaves the metadata behind (data_meta shows its last 4
// bytes and the first 4 of the destination address); the tag-only pushes
// and pops move nothing. The model (profile v6.18, Ctx.VlanPush and
// VlanPop) sees the same frame, tag, protocol and metadata bytes.
func TestKernelVlanHelpersMeta(t *testing.T) {
	testutil.KernelTests(t)
	const q, ad = unix.ETH_P_8021Q, unix.ETH_P_8021AD
	for _, tc := range []struct {
		name string
		tags []vlanTag
		ops  []uint32
		// want: "present tci proto protocol", the metadata view (?? for
		// bytes from before the metadata) and the frame's ethertype
		// bytes after the addresses.
		tag, meta, after string
	}{
		{"push, push", nil, []uint32{VlanPushQ, VlanPushAD}, "1 200 0x88a8 0x8100", "????????a0a1a2a3", "810000640800"},
		{"push, pop", nil, []uint32{VlanPushQ, VlanPop}, "0 0 0x0 0x800", "a0a1a2a3a4a5a6a7", "0800"},
		{"tagged, push", []vlanTag{{q, 5}}, []uint32{VlanPushQ}, "1 100 0x8100 0x8100", "????????a0a1a2a3", "810000050800"},
		{"QinQ, pop", []vlanTag{{ad, 7}, {q, 9}}, []uint32{VlanPop}, "1 9 0x8100 0x800", "a4a5a6a7" + "DST4", "0800"},
		{"QinQ, pop, pop", []vlanTag{{ad, 7}, {q, 9}}, []uint32{VlanPop, VlanPop}, "0 0 0x0 0x800", "a4a5a6a7" + "DST4", "0800"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runHelperProbe(t, "mh", tc.tags, tc.ops, false)
			k, m, macB := r.k, r.m, r.macB
			wantMeta := strings.ReplaceAll(tc.meta, "DST4", hex.EncodeToString(macB[:4]))
			for who, v := range map[string]VlanSeen{"kernel": k, "model": m} {
				require.Equal(t, [4]int32{}, v.Ret, "%s: helper returns", who)
				require.EqualValues(t, MetaProbeLen, v.MetaLen, "%s: data - data_meta", who)
				require.Equal(t, tc.tag, fmt.Sprintf("%d %d %#x %#x", v.VlanPresent, v.VlanTCI, v.VlanProto, v.Prot), "%s: tag and protocol", who)
				got := hex.EncodeToString(v.Meta[:])
				require.Len(t, wantMeta, len(got))
				for i := range wantMeta {
					if wantMeta[i] != '?' {
						require.Equal(t, wantMeta[i], got[i], "%s: metadata view %s, want %s", who, got, wantMeta)
					}
				}
				require.Equal(t, macB, net.HardwareAddr(v.Frame[0:6]), "%s: destination", who)
				require.Equal(t, tc.after, hex.EncodeToString(v.Frame[12:12+len(tc.after)/2]), "%s: after the addresses", who)
			}
			require.Equal(t, k.Frame, m.Frame, "model frame")
		})
	}
}

// helperRun is one run of the tc helper probe: A sends a frame with tags
// over a veth to vB, whose native XDP program writes 8 bytes of metadata
// and whose tc ingress program calls the helpers ops lists; k is what the
// kernel's program recorded, m the model's (modelVlanHelpers).
type helperRun struct {
	k, m  VlanSeen
	frame []byte
	macB  net.HardwareAddr
}

// With tap, a packet socket on vB (never read during the run) holds a
// clone of every received skb, so that tc ingress finds the skb cloned.
func runHelperProbe(t *testing.T, what string, tags []vlanTag, ops []uint32, tap bool) helperRun {
	t.Helper()
	sfx := fmt.Sprint(os.Getpid() % 100000)
	va, vb := what+"A"+sfx, what+"B"+sfx
	probe, err := NewMetaProbe(false)
	testutil.SkipIfNotSupported(t, err)
	t.Cleanup(func() { require.NoError(t, probe.Close()) })
	a, b, macB := vethPairAB(t, what, va, vb)
	require.NoError(t, probe.AttachXDP(b, vb, false))
	require.NoError(t, probe.AttachTCVlan(b, vb, ops))
	if tap {
		ifB, err := b.Ifindex(vb)
		require.NoError(t, err)
		capture(t, b, ifB)
	}
	macA, err := a.HardwareAddr(va)
	require.NoError(t, err)
	ifA, err := a.Ifindex(va)
	require.NoError(t, err)
	frame := vlanFrame(macB, macA, tags, [4]byte{192, 0, 2, 2})
	sendFrame(t, a, ifA, macB, frame)
	k, err := probe.TCVlan()
	require.NoError(t, err)
	require.True(t, k.Ran, "tc ingress ran")
	return helperRun{k: k, m: modelVlanHelpers(t, macA, macB, ops, frame, tap), frame: frame, macB: macB}
}

// modelVlanHelpers is TestKernelVlanHelpersMeta's case in the model.
func modelVlanHelpers(t *testing.T, macA, macB net.HardwareAddr, ops []uint32, frame []byte, tap bool) (v VlanSeen) {
	t.Helper()
	cfg := modelVethAB(macA, macB, "native",
		netstack.ProgramConfig{Name: "xdp", Hook: carrier.HookXDP, Netns: "B", Dev: "vB", Actions: []netstack.Action{{Kind: netstack.ActAdjustMeta, Value: MetaProbeLen}}},
		netstack.ProgramConfig{Name: "tc", Hook: carrier.HookTCIngress, Netns: "B", Dev: "vB", Prog: netstack.ProgramFunc(func(c *netstack.Ctx) int {
			if v.Ran {
				return netstack.TCXNext
			}
			v.Ran = true
			for i, op := range ops {
				switch op {
				case VlanPushQ:
					v.Ret[i] = int32(c.VlanPush(unix.ETH_P_8021Q, 100))
				case VlanPushAD:
					v.Ret[i] = int32(c.VlanPush(unix.ETH_P_8021AD, 200))
				case VlanPop:
					v.Ret[i] = int32(c.VlanPop())
				case ChangeHead:
					v.Ret[i] = int32(c.ChangeHead(14, 0))
				case RoomNetGrow:
					v.Ret[i] = int32(c.AdjustRoom(8, netstack.AdjRoomNet, 0))
				case RoomNetShrink:
					v.Ret[i] = int32(c.AdjustRoom(-8, netstack.AdjRoomNet, 0))
				case RoomMacIPIP:
					v.Ret[i] = int32(c.AdjustRoom(20, netstack.AdjRoomMac, netstack.AdjRoomEncapL3IPv4))
				case ProtoToV6:
					v.Ret[i] = int32(c.ChangeProto(unix.ETH_P_IPV6, 0))
				case RoomMacIP6:
					v.Ret[i] = int32(c.AdjustRoom(40, netstack.AdjRoomMac, netstack.AdjRoomEncapL3IPv6))
				case RoomMacGRE:
					v.Ret[i] = int32(c.AdjustRoom(24, netstack.AdjRoomMac, netstack.AdjRoomEncapL3IPv4|netstack.AdjRoomEncapL4GRE))
				case RoomMacUDP:
					v.Ret[i] = int32(c.AdjustRoom(28, netstack.AdjRoomMac, netstack.AdjRoomEncapL3IPv4|netstack.AdjRoomEncapL4UDP))
				case RoomMacVXLAN:
					v.Ret[i] = int32(c.AdjustRoom(50, netstack.AdjRoomMac, netstack.AdjRoomEncapL3IPv4|netstack.AdjRoomEncapL4UDP|
						netstack.AdjRoomEncapL2(14)|netstack.AdjRoomEncapL2Eth))
				case RoomMacDecap4:
					v.Ret[i] = int32(c.AdjustRoom(-20, netstack.AdjRoomMac, netstack.AdjRoomDecapL3IPv4))
				case RoomBadL4:
					v.Ret[i] = int32(c.AdjustRoom(8, netstack.AdjRoomMac, netstack.AdjRoomEncapL4GRE))
				case ProtoToV4:
					v.Ret[i] = int32(c.ChangeProto(unix.ETH_P_IP, 0))
				case RoomBadL3:
					v.Ret[i] = int32(c.AdjustRoom(20, netstack.AdjRoomMac, netstack.AdjRoomEncapL3IPv4|netstack.AdjRoomEncapL3IPv6))
				case TailGrow, TailShrink, TailGrowBig, TailSame:
					d := map[uint32]int{TailGrow: 8, TailShrink: -8, TailGrowBig: 8000, TailSame: 0}[op]
					v.Ret[i] = int32(c.ChangeTail(uint32(c.Skb.Len()+d), 0))
				}
			}
			h := c.Skb.H()
			if h.VlanTagPresent() {
				v.VlanPresent = 1
			}
			v.VlanTCI, v.VlanProto, v.Prot = uint32(h.VlanTCI), uint32(h.VlanProto), uint32(h.Protocol)
			v.Len = uint32(c.Skb.Len())
			m := c.Meta()
			v.MetaLen = uint32(len(m))
			copy(v.Meta[:], m)
			copy(v.Frame[:], c.Skb.Data())
			return netstack.TCXNext
		})},
	)
	if tap {
		cfg.Taps = []netstack.TapConfig{{Name: "t", Netns: "B", Dev: "vB", Dir: netstack.TapRX, Hold: true}}
	}
	runModel(t, cfg, &dropRecorder{}, frame, nil)
	return v
}

// TestKernelXDPAdjustHeadMeta: an XDP program on vB writes 8 bytes of
// metadata, then decapsulates an IPIP packet from A with
// bpf_xdp_adjust_head(ctx, 20), keeping the Ethernet header at the new
// frame start. The metadata moves with data (memmove of data_meta), so tc
// ingress finds it at data_meta in front of the inner packet and the
// kfree_skb tracepoint (NO_SOCKET) before the mac header; with generic
// XDP too, where bpf_prog_run_generic_xdp pulls the skb by the offset and
// moves the mac header. The model (Ctx.AdjustHead through the adjust_head
// action) sees the same frame and metadata.
func TestKernelXDPAdjustHeadMeta(t *testing.T) {
	testutil.KernelTests(t)
	sfx := fmt.Sprint(os.Getpid() % 100000)
	va, vb := "maA"+sfx, "maB"+sfx
	for _, generic := range []bool{false, true} {
		t.Run(fmt.Sprintf("generic %v", generic), func(t *testing.T) {
			probe, err := NewMetaProbe(false)
			testutil.SkipIfNotSupported(t, err)
			t.Cleanup(func() { require.NoError(t, probe.Close()) })
			a, b, macB := vethPairAB(t, "ma", va, vb)
			require.NoError(t, probe.AttachXDPHead(b, vb, generic, 20))
			require.NoError(t, probe.AttachTCVlan(b, vb, nil))
			require.NoError(t, probe.Watch(vb))
			macA, err := a.HardwareAddr(va)
			require.NoError(t, err)
			ifA, err := a.Ifindex(va)
			require.NoError(t, err)
			inner := udp4Packet([4]byte{10, 1, 0, 1}, [4]byte{192, 0, 2, 2}, 40000, 9999, 32)
			binary.BigEndian.PutUint16(inner[10:], ^csumFold(csumAdd(0, inner[:20])))
			outer := make([]byte, 20)
			outer[0], outer[8], outer[9] = 0x45, 64, unix.IPPROTO_IPIP
			binary.BigEndian.PutUint16(outer[2:], uint16(20+len(inner)))
			copy(outer[12:16], []byte{192, 0, 2, 1})
			copy(outer[16:20], []byte{192, 0, 2, 2})
			binary.BigEndian.PutUint16(outer[10:], ^csumFold(csumAdd(0, outer)))
			frame := append(append(append(append([]byte(nil), macB...), macA...), 0x08, 0x00), append(outer, inner...)...)
			sendFrame(t, a, ifA, macB, frame)
			k, err := probe.TCVlan()
			require.NoError(t, err)
			require.True(t, k.Ran, "tc ingress ran")
			require.EqualValues(t, MetaProbeLen, k.MetaLen, "data - data_meta at tc")
			require.Equal(t, "a0a1a2a3a4a5a6a7", hex.EncodeToString(k.Meta[:]), "metadata at tc")
			require.Equal(t, append(frame[:14:14], inner[:10]...), k.Frame[:24], "the inner packet behind the Ethernet header")
			seen, err := probe.Seen(vb)
			require.NoError(t, err)
			require.Equal(t, uint64(1), seen.Count, "skbs freed on %s (NO_SOCKET)", vb)
			require.Equal(t, "a0a1a2a3a4a5a6a7", hex.EncodeToString(seen.Meta[:]), "metadata at kfree_skb")

			mode := "native"
			if generic {
				mode = "generic"
			}
			var m VlanSeen
			cfg := modelVethAB(macA, macB, mode,
				netstack.ProgramConfig{Name: "xdp", Hook: carrier.HookXDP, Netns: "B", Dev: "vB", Actions: []netstack.Action{
					{Kind: netstack.ActAdjustMeta, Value: MetaProbeLen}, {Kind: netstack.ActAdjustHead, Delta: 20, KeepEth: true}}},
				netstack.ProgramConfig{Name: "tc", Hook: carrier.HookTCIngress, Netns: "B", Dev: "vB", Prog: netstack.ProgramFunc(func(c *netstack.Ctx) int {
					mv := c.Meta()
					m.Ran, m.MetaLen = true, uint32(len(mv))
					copy(m.Meta[:], mv)
					copy(m.Frame[:], c.Skb.Data())
					return netstack.TCXNext
				})},
			)
			obs := &dropRecorder{}
			runModel(t, cfg, obs, frame, nil)
			require.Equal(t, k.MetaLen, m.MetaLen, "model data - data_meta")
			require.Equal(t, k.Meta, m.Meta, "model metadata")
			require.Equal(t, k.Frame, m.Frame, "model frame")
			require.Equal(t, []string{"SKB_DROP_REASON_NO_SOCKET"}, obs.reasons, "model drops")
		})
	}
}

// TestKernelChangeHeadMeta: bpf_skb_change_head(skb, 14, 0) at tc ingress
// pushes 14 zeroed bytes in front of the frame and resets the mac header
// there. On 6.18 the zeroing overwrites the XDP metadata that ended at
// the old mac header, and data_meta now points 8 bytes before the new
// one: the metadata is lost (v6.19's skb_postpush_data_move would move
// it). The model agrees on the helper's return, the frame and the
// metadata length; its xdp-meta view is invalid, as the kernel's bytes are
// no longer a0..a7.
func TestKernelChangeHeadMeta(t *testing.T) {
	testutil.KernelTests(t)
	r := runHelperProbe(t, "mc", nil, []uint32{ChangeHead}, false)
	k, m := r.k, r.m
	require.Equal(t, [4]int32{}, k.Ret)
	require.EqualValues(t, MetaProbeLen, k.MetaLen)
	require.Equal(t, append(make([]byte, 14), r.frame[:34]...), k.Frame[:], "14 zeroed bytes in front of the frame")
	require.NotEqual(t, "a0a1a2a3a4a5a6a7", hex.EncodeToString(k.Meta[:]), "the metadata is lost")
	require.Equal(t, k.Ret, m.Ret, "model return")
	require.Equal(t, k.MetaLen, m.MetaLen, "model data - data_meta")
	require.Equal(t, k.Frame, m.Frame, "model frame")
	require.NotEqual(t, "a0a1a2a3a4a5a6a7", hex.EncodeToString(m.Meta[:]), "model metadata view")
}

// TestKernelAdjustRoomMeta: bpf_skb_adjust_room at tc ingress on a frame
// with 8 bytes of native XDP metadata. On 6.18 (bpf_skb_generic_push/pop
// with a plain memmove):
//   - growing 8 bytes after the IPv4 header (BPF_ADJ_ROOM_NET) moves the
//     Ethernet and IP headers down over the metadata;
//   - shrinking 8 bytes there moves them up and leaves the metadata
//     behind: data_meta then shows the first 8 bytes of the old frame;
//   - an IPIP encap (20 bytes after the mac header, ENCAP_L3_IPV4) moves
//     the Ethernet header down over the metadata and zeroes the room;
//   - bpf_skb_change_proto(ETH_P_IPV6) does the same for the 20 bytes an
//     IPv6 header needs more, and makes skb->protocol IPv6.
//
// The model (Ctx.AdjustRoom, profile v6.18) returns the same, sees the
// same frame and, where the kernel's bytes are known, the same metadata
// view; v6.19's data-move helpers would move the metadata instead.
func TestKernelAdjustRoomMeta(t *testing.T) {
	testutil.KernelTests(t)
	for _, tc := range []struct {
		name string
		op   uint32
	}{{"net grow", RoomNetGrow}, {"net shrink", RoomNetShrink}, {"mac ipip encap", RoomMacIPIP}, {"change_proto to IPv6", ProtoToV6}} {
		t.Run(tc.name, func(t *testing.T) {
			r := runHelperProbe(t, "mr", nil, []uint32{tc.op}, false)
			k, m := r.k, r.m
			t.Logf("kernel: ret %d meta %x frame %x", k.Ret[0], k.Meta, k.Frame)
			require.Equal(t, [4]int32{}, k.Ret, "kernel return")
			require.Equal(t, k.Ret, m.Ret, "model return")
			require.EqualValues(t, MetaProbeLen, k.MetaLen)
			require.Equal(t, k.MetaLen, m.MetaLen, "model data - data_meta")
			require.Equal(t, k.Frame, m.Frame, "model frame")
			require.NotEqual(t, "a0a1a2a3a4a5a6a7", hex.EncodeToString(k.Meta[:]), "the metadata is lost")
			require.Equal(t, k.Prot, m.Prot, "model protocol")
			if tc.op == RoomNetShrink {
				require.Equal(t, r.frame[:8], k.Meta[:], "the view from the moved mac header")
				require.Equal(t, k.Meta, m.Meta, "model metadata view")
			}
		})
	}
}

// TestKernelChangeTailMeta: bpf_skb_change_tail at tc ingress of vB,
// whose native XDP program wrote 8 bytes of metadata, on a frame from A
// (74 bytes). On 6.18, growing into the tailroom (+8) and trimming (-8)
// keep the metadata; growing past the tailroom (+8000, pskb_expand_head)
// loses it, and so does any call, even one that keeps the length, on an
// skb a packet socket on vB holds a clone of (skb_ensure_writable
// unclones with pskb_expand_head). The model agrees on the return, the
// length, the frame and the metadata in every case.
func TestKernelChangeTailMeta(t *testing.T) {
	testutil.KernelTests(t)
	for _, tc := range []struct {
		name string
		op   uint32
		tap  bool
		len  uint32
		kept bool
	}{
		{"grow 8", TailGrow, false, 82, true},
		{"trim 8", TailShrink, false, 66, true},
		{"grow 8000", TailGrowBig, false, 8074, false},
		{"same length, cloned", TailSame, true, 74, false},
		{"trim 8, cloned", TailShrink, true, 66, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runHelperProbe(t, "mt", nil, []uint32{tc.op}, tc.tap)
			k, m := r.k, r.m
			t.Logf("kernel: ret %d len %d meta_len %d meta %x", k.Ret[0], k.Len, k.MetaLen, k.Meta)
			require.Equal(t, [4]int32{}, k.Ret, "kernel return")
			require.Equal(t, tc.len, k.Len, "kernel length")
			require.Equal(t, tc.kept, hex.EncodeToString(k.Meta[:]) == "a0a1a2a3a4a5a6a7", "kernel: metadata kept")
			require.Equal(t, k.Ret, m.Ret, "model return")
			require.Equal(t, k.Len, m.Len, "model length")
			require.Equal(t, k.Frame, m.Frame, "model frame")
			require.Equal(t, k.MetaLen, m.MetaLen, "model data - data_meta")
			if tc.kept {
				require.Equal(t, k.Meta, m.Meta, "model metadata")
			} else {
				require.NotEqual(t, "a0a1a2a3a4a5a6a7", hex.EncodeToString(m.Meta[:]), "model: metadata lost")
			}
		})
	}
}

// pppoeFrame is vlanFrame's IPv4 UDP datagram in a PPPoE session frame
// (session 0x1234) with PPP protocol proto.
func pppoeFrame(dst, src net.HardwareAddr, proto uint16, dstIP [4]byte) []byte {
	ip := vlanFrame(dst, src, nil, dstIP)[14:]
	f := append(append([]byte(nil), dst...), src...)
	f = binary.BigEndian.AppendUint16(f, 0x8864)
	f = append(f, 0x11, 0x00, 0x12, 0x34)
	f = binary.BigEndian.AppendUint16(f, uint16(2+len(ip)))
	f = binary.BigEndian.AppendUint16(f, proto)
	return append(f, ip...)
}

// TestKernelBridgeNetfilterPPPoE: a packet socket in A sends a PPPoE
// session frame around an IPv4 datagram (PPP_IP) into the bridge of
// TestKernelBridgeNetfilterExtension's topology, with
// bridge-nf-call-iptables on. br_netfilter takes it only with
// bridge-nf-filter-pppoe-tagged: then the frame delivered up to the
// bridge device carries SKB_EXT_BRIDGE_NF, which the forwarded one has
// lost again at pb. A PPP LCP frame (0xc021) is never taken. The model
// agrees at the tc hooks.
func TestKernelBridgeNetfilterPPPoE(t *testing.T) {
	testutil.KernelTests(t)
	probe, err := NewExtProbe()
	testutil.SkipIfNotSupported(t, err)
	t.Cleanup(func() { require.NoError(t, probe.Close()) })
	sfx := fmt.Sprint("p", os.Getpid()%10000)
	for _, tc := range []struct {
		filter, toBridge bool
		proto            uint16
		want             map[string]string
	}{
		{false, false, 0x21, seenWant("pa rx", "pb tx")},
		{true, false, 0x21, seenWant("pa rx", "pb tx")},
		{false, true, 0x21, seenWant("pa rx", "br rx")},
		{true, true, 0x21, seenWant("pa rx", "br rx ext")},
		{true, true, 0xc021, seenWant("pa rx", "br rx")},
	} {
		t.Run(fmt.Sprintf("filter_pppoe_tagged %v to bridge %v ppp %#x", tc.filter, tc.toBridge, tc.proto), func(t *testing.T) {
			brnfFrameCase(t, probe, sfx, map[bool]string{true: "pppoe"}[tc.filter], tc.toBridge, tc.want,
				func(dst, src net.HardwareAddr, dstIP [4]byte) []byte { return pppoeFrame(dst, src, tc.proto, dstIP) })
		})
	}
}

// TestKernelAdjustRoomFlags: bpf_skb_adjust_room's other encap and decap
// flags in mac mode, and bpf_skb_change_proto back to IPv4, at tc ingress
// of vB after native XDP wrote 8 bytes of metadata. 6.18 and the model
// agree on every return (-EINVAL for both L3 flags at once; an L4 flag
// without an L3 one is no encap, and the room is added as without it),
// the length, the protocol, the frame's first 48 bytes, and data -
// data_meta.
func TestKernelAdjustRoomFlags(t *testing.T) {
	testutil.KernelTests(t)
	for _, tc := range []struct {
		name string
		ops  []uint32
		ret  int32 // the first call's return on 6.18
	}{
		{"encap L3 IPv6", []uint32{RoomMacIP6}, 0},
		{"encap L3 IPv4 + GRE", []uint32{RoomMacGRE}, 0},
		{"encap L3 IPv4 + UDP", []uint32{RoomMacUDP}, 0},
		{"encap VXLAN (L2 14, L2_ETH)", []uint32{RoomMacVXLAN}, 0},
		{"decap L3 IPv4", []uint32{RoomMacDecap4}, 0},
		{"L4 GRE without L3", []uint32{RoomBadL4}, 0},
		{"both L3 flags", []uint32{RoomBadL3}, -22},
		{"change_proto to IPv6 and back", []uint32{ProtoToV6, ProtoToV4}, 0},
		{"encap then decap", []uint32{RoomMacIPIP, RoomMacDecap4}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runHelperProbe(t, "mf", nil, tc.ops, false)
			k, m := r.k, r.m
			t.Logf("kernel: ret %v len %d proto %#x meta_len %d frame %x", k.Ret, k.Len, k.Prot, k.MetaLen, k.Frame)
			require.Equal(t, tc.ret, k.Ret[0], "kernel return")
			require.Equal(t, k.Ret, m.Ret, "model return")
			require.Equal(t, k.Len, m.Len, "model length")
			require.Equal(t, k.Prot, m.Prot, "model protocol")
			require.Equal(t, k.Frame, m.Frame, "model frame")
			require.Equal(t, k.MetaLen, m.MetaLen, "model data - data_meta")
		})
	}
}

// TestKernelXDPAdjustTail: an XDP program on vB (native or generic) writes
// 8 bytes of metadata, then calls bpf_xdp_adjust_tail(ctx, delta) on a
// 74-byte frame from A; tc ingress records the length, the metadata and
// the frame. 6.18 and the model agree on the helper's return (-EINVAL past
// data_hard_end or below ETH_HLEN), the length, the frame and the
// metadata, which no delta touches.
func TestKernelXDPAdjustTail(t *testing.T) {
	testutil.KernelTests(t)
	sfx := fmt.Sprint(os.Getpid() % 100000)
	for _, generic := range []bool{false, true} {
		for _, delta := range []int32{8, -8, -60, -61, 40, 100, 4000} {
			t.Run(fmt.Sprintf("generic %v delta %d", generic, delta), func(t *testing.T) {
				probe, err := NewMetaProbe(false)
				testutil.SkipIfNotSupported(t, err)
				t.Cleanup(func() { require.NoError(t, probe.Close()) })
				a, b, macB := vethPairAB(t, "mx", "mxA"+sfx, "mxB"+sfx)
				require.NoError(t, probe.AttachXDPTail(b, "mxB"+sfx, generic, delta))
				require.NoError(t, probe.AttachTCVlan(b, "mxB"+sfx, nil))
				macA, err := a.HardwareAddr("mxA" + sfx)
				require.NoError(t, err)
				ifA, err := a.Ifindex("mxA" + sfx)
				require.NoError(t, err)
				frame := vlanFrame(macB, macA, nil, [4]byte{192, 0, 2, 2})
				sendFrame(t, a, ifA, macB, frame)
				kret, ran, err := probe.XDPTailRet()
				require.NoError(t, err)
				require.True(t, ran, "XDP ran")
				k, err := probe.TCVlan()
				require.NoError(t, err)
				t.Logf("kernel: ret %d len %d meta_len %d", kret, k.Len, k.MetaLen)

				mode := map[bool]string{false: "native", true: "generic"}[generic]
				var m VlanSeen
				var mret int
				cfg := modelVethAB(macA, macB, mode,
					netstack.ProgramConfig{Name: "xdp", Hook: carrier.HookXDP, Netns: "B", Dev: "vB", Prog: netstack.ProgramFunc(func(c *netstack.Ctx) int {
						if c.AdjustMeta(-MetaProbeLen) == 0 {
							for i := range MetaProbeLen {
								c.Meta()[i] = byte(0xa0 + i)
							}
						}
						mret = c.AdjustTail(int(delta))
						return netstack.XDPPass
					})},
					netstack.ProgramConfig{Name: "tc", Hook: carrier.HookTCIngress, Netns: "B", Dev: "vB", Prog: netstack.ProgramFunc(func(c *netstack.Ctx) int {
						mv := c.Meta()
						m.Ran, m.MetaLen, m.Len = true, uint32(len(mv)), uint32(c.Skb.Len())
						copy(m.Meta[:], mv)
						if d := c.Skb.Data(); len(d) >= len(m.Frame) { // as tc_vlan: the whole 48 bytes or none
							copy(m.Frame[:], d)
						}
						return netstack.TCXNext
					})},
				)
				runModel(t, cfg, &dropRecorder{}, frame, nil)
				require.Equal(t, int(kret), mret, "model return")
				require.Equal(t, k.Ran, m.Ran, "model: tc ran")
				if !k.Ran {
					return
				}
				require.Equal(t, k.Len, m.Len, "model length")
				require.Equal(t, k.Frame, m.Frame, "model frame")
				require.Equal(t, k.MetaLen, m.MetaLen, "model data - data_meta")
				require.Equal(t, k.Meta, m.Meta, "model metadata")
				require.Equal(t, "a0a1a2a3a4a5a6a7", hex.EncodeToString(k.Meta[:]), "the metadata stays")
			})
		}
	}
}
