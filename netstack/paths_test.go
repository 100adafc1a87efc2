package netstack

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/skb"
)

func TestIPRcvDrops(t *testing.T) {
	base := frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "192.0.2.1", sport: 1, dport: 9999, payload: 8}
	for _, tc := range []struct {
		name  string
		frame func() []byte
		want  string
	}{
		{"otherhost", func() []byte { o := base; o.dstMAC = macB; return buildFrame(o) }, "SKB_DROP_REASON_OTHERHOST@ip_rcv_core"},
		{"bad checksum", func() []byte { o := base; o.badCsum = true; return buildFrame(o) }, "SKB_DROP_REASON_IP_CSUM@ip_rcv_core"},
		{"version 6 in IPv4 ethertype", func() []byte { f := buildFrame(base); f[ethHlen] = 0x65; return f }, "SKB_DROP_REASON_IP_INHDR@ip_rcv_core"},
		{"ihl 4", func() []byte { f := buildFrame(base); f[ethHlen] = 0x44; return f }, "SKB_DROP_REASON_IP_INHDR@ip_rcv_core"},
		{"tot_len beyond the data", func() []byte {
			f := buildFrame(base)
			binary.BigEndian.PutUint16(f[ethHlen+2:], 1000)
			setIPCsum(f[ethHlen:], ipHlen)
			return f
		}, "SKB_DROP_REASON_PKT_TOO_SMALL@ip_rcv_core"},
		{"tot_len below ihl", func() []byte {
			f := buildFrame(base)
			binary.BigEndian.PutUint16(f[ethHlen+2:], 12)
			setIPCsum(f[ethHlen:], ipHlen)
			return f
		}, "SKB_DROP_REASON_IP_INHDR@ip_rcv_core"},
		// pskb_may_pull(skb, sizeof(struct iphdr)) and (ihl*4) failing go
		// to inhdr_error in ip_rcv_core.
		{"short", func() []byte { return buildFrame(base)[:ethHlen+10] }, "SKB_DROP_REASON_IP_INHDR@ip_rcv_core"},
		{"ihl beyond the data", func() []byte { f := buildFrame(base); f[ethHlen] = 0x4f; return f }, "SKB_DROP_REASON_IP_INHDR@ip_rcv_core"},
		{"not local, no forwarding", func() []byte { o := base; o.dst = "203.0.113.1"; return buildFrame(o) }, "SKB_DROP_REASON_IP_INADDRERRORS@ip_rcv_finish_core"},
		{"unknown protocol", func() []byte {
			f := buildFrame(base)
			f[ethHlen+9] = 99
			setIPCsum(f[ethHlen:], ipHlen)
			return f
		}, "SKB_DROP_REASON_IP_NOPROTO@ip_local_deliver_finish"},
		{"ipv6 ethertype on a short IPv4 packet", func() []byte { f := buildFrame(base); binary.BigEndian.PutUint16(f[12:], ethPIPv6); return f }, "SKB_DROP_REASON_IP_INHDR@ip6_rcv_core"},
		{"unknown ethertype", func() []byte { f := buildFrame(base); binary.BigEndian.PutUint16(f[12:], 0x88b5); return f }, "SKB_DROP_REASON_UNHANDLED_PROTO@__netif_receive_skb_core"},
		{"no socket", func() []byte { o := base; o.dport = 7; return buildFrame(o) }, "SKB_DROP_REASON_NO_SOCKET@__udp4_lib_rcv"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, te := newStack(t, rxToSocketConfig(), "", nil, nil)
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: tc.frame()}))
			require.Equal(t, []string{tc.want}, te.obs.dropReasons())
			require.Zero(t, te.a.Live().Skbs)
		})
	}
	s, _ := newStack(t, rxToSocketConfig(), "", nil, nil)
	require.ErrorIs(t, s.Inject(&Packet{ID: 9, Frame: []byte{1, 2}}), ErrPacket)
	require.ErrorIs(t, s.Inject(&Packet{ID: 9, Entry: 3, Frame: buildFrame(base)}), ErrPacket)
}

// TestDefrag: two fragments are reassembled by skb_morph onto the first;
// the socket sees one skb carrying the first fragment's header state.
func TestDefrag(t *testing.T) {
	var marks []uint32
	cfg := rxToSocketConfig()
	cfg.Programs = []ProgramConfig{
		{Name: "tc", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
			c.SetMark(uint32(c.PacketID) + 100) // a per-fragment mark
			return TCXNext
		})},
		{Name: "filter", Hook: carrier.HookSocketFilter, Socket: "app", Prog: ProgramFunc(func(c *Ctx) int {
			marks = append(marks, c.Skb.H().Mark)
			return FilterAccept
		})},
	}
	s, te := newStack(t, cfg, "", nil, nil)
	first := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "192.0.2.1", sport: 1, dport: 9999, payload: 32, id: 7, fragOff: ipMF})
	second := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "192.0.2.1", payload: 32, id: 7, fragOff: 5, proto: ipprotoUDP})
	// The second fragment carries no UDP header of its own: cut its L4.
	second = append(second[:ethHlen+ipHlen], make([]byte, 40)...)
	binary.BigEndian.PutUint16(second[ethHlen+2:], uint16(ipHlen+40))
	setIPCsum(second[ethHlen:], ipHlen)
	require.NoError(t, s.Inject(&Packet{ID: 1, Frame: second}))
	require.Empty(t, marks, "queued")
	require.Equal(t, 1, te.a.Live().Skbs)
	require.NoError(t, s.Inject(&Packet{ID: 2, Frame: first}))
	require.Equal(t, []uint32{102}, marks, "the offset-0 fragment's header state")
	require.Empty(t, te.obs.drops)
	require.Zero(t, te.a.Live().Skbs)

	// A duplicate fragment is dropped.
	require.NoError(t, s.Inject(&Packet{ID: 3, Frame: second}))
	require.NoError(t, s.Inject(&Packet{ID: 4, Frame: second}))
	require.Equal(t, []string{"SKB_DROP_REASON_DUP_FRAG@ip_defrag"}, te.obs.dropReasons())
}

// TestFragmentOutput: a datagram longer than the MTU leaves in fragments
// (ip_do_fragment, ip_copy_metadata: the socket's mark on each); the peer
// reassembles and delivers one.
func TestFragmentOutput(t *testing.T) {
	cfg := vethTxConfig()
	cfg.Sockets[0].Mark = 0x77
	var marks []uint32
	cfg.Programs = []ProgramConfig{{Name: "eg", Hook: carrier.HookTCEgress, Netns: "A", Dev: "vA", Prog: ProgramFunc(func(c *Ctx) int {
		marks = append(marks, c.Skb.H().Mark)
		return TCXNext
	})}}
	s, te := newStack(t, cfg, "", nil, nil)
	f := buildFrame(frameOpts{src: "192.0.2.1", dst: "192.0.2.2", sport: 40000, dport: 9999, payload: 3000, noEth: true})
	require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
	require.Equal(t, []uint32{0x77, 0x77, 0x77}, marks)
	require.Empty(t, te.obs.drops)
	require.Equal(t, []DeliverEvent{{PacketID: 1, Kind: DeliverSocket, Index: 1}}, te.obs.delivs)

	// DF set: PKT_TOO_BIG.
	binary.BigEndian.PutUint16(f[6:8], ipDF)
	setIPCsum(f, ipHlen)
	require.NoError(t, s.Inject(&Packet{ID: 2, Frame: f}))
	require.Equal(t, []string{"SKB_DROP_REASON_PKT_TOO_BIG@ip_do_fragment"}, te.obs.dropReasons())
}

// TestTCPTransmit: the queued skb stays on the retransmit queue; each
// transmission sends a clone; when the queued skb is still cloned (a tap
// holds the last transmission) the retransmission is a pskb_copy; an ACK
// frees the queue.
func TestTCPTransmit(t *testing.T) {
	cfg := &Config{
		Namespaces: []NamespaceConfig{{Name: "A"}, {Name: "B"}},
		Devices: []DeviceConfig{{Name: "vA", Kind: KindVeth, Netns: "A", MAC: macA, Addrs: []netip.Prefix{pfx("192.0.2.1/24")},
			Peer: "vB", PeerNetns: "B", PeerMAC: macB, PeerAddrs: []netip.Prefix{pfx("192.0.2.2/24")}}},
		Sockets: []SocketConfig{
			{Name: "c", Netns: "A", Proto: ProtoTCP, Port: 40000},
			{Name: "srv", Netns: "B", Proto: ProtoTCP, Port: 80},
		},
		Taps:    []TapConfig{{Name: "dump", Netns: "A", Dev: "vA", Dir: TapTX, Hold: true}},
		Entries: []EntryConfig{{Kind: EntryTX, Netns: "A", Socket: "c"}, {Kind: EntryRX, Netns: "A", Dev: "vA"}},
	}
	s, te := newStack(t, cfg, "", nil, nil)
	seg := buildFrame(frameOpts{src: "192.0.2.1", dst: "192.0.2.2", proto: ipprotoTCP, sport: 40000, dport: 80, seq: 1000, tcpFlags: tcpACK, payload: 100, noEth: true})
	require.NoError(t, s.Inject(&Packet{ID: 1, Frame: seg}))
	c := s.Socket("c")
	require.Equal(t, 1, c.RtxQueued())
	require.Equal(t, 1, s.Socket("srv").Queued()+len(te.obs.delivs), "delivered to the server")
	live := te.a.Live()
	// rtx skb + the tap's clone of the transmitted clone, sharing one
	// buffer; the payload is in the socket's page frag page.
	require.Equal(t, 2, live.Skbs)
	require.Equal(t, 2, live.Buffers, "the shared head and the page")
	require.True(t, c.pfrag.HasPage())

	require.NoError(t, s.Inject(&Packet{ID: 2, Frame: seg})) // retransmission
	require.Equal(t, 1, c.RtxQueued())
	live = te.a.Live()
	require.Equal(t, 3, live.Skbs)
	require.Equal(t, 3, live.Buffers, "the retransmission was a pskb_copy of the still-cloned skb: a new head, the same page")

	ack := buildFrame(frameOpts{dstMAC: macA, srcMAC: macB, src: "192.0.2.2", dst: "192.0.2.1", proto: ipprotoTCP, sport: 80, dport: 40000, ack: 1100, tcpFlags: tcpACK})
	require.NoError(t, s.Inject(&Packet{ID: 3, Entry: 1, Frame: ack}))
	require.Zero(t, c.RtxQueued(), "the ACK freed the retransmit queue")
	require.Empty(t, te.obs.drops)
}

// TestTaps: an RX tap clones (packet_rcv on a shared skb); two TX taps
// share one clone (dev_queue_xmit_nit) of which one gets its own clone.
func TestTaps(t *testing.T) {
	cfg := rxToSocketConfig()
	cfg.Taps = []TapConfig{{Name: "rx", Dev: "eth0", Dir: TapRX}}
	s, te := newStack(t, cfg, "", nil, nil)
	require.NoError(t, s.Inject(&Packet{ID: 1, Frame: rxFrame("192.0.2.1"), Trace: true}))
	kinds := map[DeliverKind]int{}
	for _, d := range te.obs.delivs {
		kinds[d.Kind]++
	}
	require.Equal(t, map[DeliverKind]int{DeliverTap: 1, DeliverSocket: 1}, kinds)
	var sawTap bool
	for _, e := range te.obs.traces {
		if e.Op == OpTapRx {
			sawTap = true
			require.True(t, e.State.Cloned, "the tap holds a clone")
		}
	}
	require.True(t, sawTap)

	cfg = vethTxConfig()
	cfg.Taps = []TapConfig{{Name: "t1", Netns: "A", Dev: "vA", Dir: TapTX}, {Name: "t2", Netns: "A", Dir: TapTX}}
	var pkts []skb.PktType
	s, te = newStack(t, cfg, "", nil, nil)
	s.obs = &tapPktTypes{recorder: te.obs, types: &pkts}
	require.NoError(t, s.Inject(&Packet{ID: 1, Frame: buildFrame(frameOpts{src: "192.0.2.1", dst: "192.0.2.2", sport: 40000, dport: 9999, payload: 8, noEth: true}), Trace: true}))
	require.Equal(t, []skb.PktType{skb.PacketOutgoing, skb.PacketOutgoing}, pkts)
	taps := 0
	for _, d := range te.obs.delivs {
		if d.Kind == DeliverTap {
			taps++
		}
	}
	require.Equal(t, 2, taps)
}

type tapPktTypes struct {
	*recorder
	types *[]skb.PktType
}

func (t *tapPktTypes) Trace(e TraceEvent) {
	if e.Op == OpTapTx {
		*t.types = append(*t.types, e.State.PktType)
	}
}

// TestGROMerge: TCP segments of one flow are merged on a NIC with GRO
// (native XDP does not elide GRO); equal XDP metadata merges, different
// metadata does not (skb_metadata_differs); the survivor is the first skb.
func TestGROMerge(t *testing.T) {
	for _, tc := range []struct {
		name      string
		sameMeta  bool
		wantRuns  int
		wantSegs  []uint16
		wantFirst []uint64
	}{
		{"same metadata", true, 1, []uint16{3}, []uint64{1}},
		{"different metadata", false, 3, []uint16{0, 0, 0}, []uint64{1, 2, 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var segs []uint16
			var ids []uint64
			cfg := &Config{
				Devices: []DeviceConfig{{Name: "eth0", Kind: KindNIC, MAC: macNIC, XDP: "native", Addrs: []netip.Prefix{pfx("192.0.2.1/24")}}},
				Sockets: []SocketConfig{{Name: "srv", Proto: ProtoTCP, Port: 80}},
				Programs: []ProgramConfig{
					{Name: "xdp", Hook: carrier.HookXDP, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
						if c.AdjustMeta(-4) == 0 {
							v := byte(1)
							if !tc.sameMeta {
								v = byte(c.PacketID)
							}
							copy(c.Meta(), []byte{v, v, v, v})
						}
						return XDPPass
					})},
					{Name: "tc", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
						segs = append(segs, c.Skb.Shinfo().GSOSegs)
						ids = append(ids, c.PacketID)
						return TCXNext
					})},
				},
			}
			s, te := newStack(t, cfg, "", nil, nil)
			for i := range 3 {
				f := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "192.0.2.1", proto: ipprotoTCP,
					sport: 5000, dport: 80, seq: uint32(1000 + 100*i), tcpFlags: tcpACK, payload: 100, id: uint16(i)})
				require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: f, Hash: 0xabc}))
			}
			s.Flush()
			require.Equal(t, tc.wantSegs, segs)
			require.Equal(t, tc.wantFirst, ids)
			require.Empty(t, te.obs.drops)
			require.Zero(t, te.a.Live().Skbs)
		})
	}
}

// tunnelPair: namespaces A and B joined by a veth pair, a tunnel of kind
// on each side, a socket in B on 10.9.0.2:9999 reached from A's socket.
func tunnelPair(kind string, vni uint32) *Config {
	tun := func(name, ns string, local, remote, a string) DeviceConfig {
		return DeviceConfig{Name: name, Kind: kind, Netns: ns, VNI: vni, Local: addr(local), Remote: addr(remote),
			Addrs: []netip.Prefix{pfx(a)}}
	}
	cfg := &Config{
		Namespaces: []NamespaceConfig{{Name: "A"}, {Name: "B"}},
		Devices: []DeviceConfig{
			{Name: "vA", Kind: KindVeth, Netns: "A", MAC: macA, Addrs: []netip.Prefix{pfx("192.0.2.1/24")},
				Peer: "vB", PeerNetns: "B", PeerMAC: macB, PeerAddrs: []netip.Prefix{pfx("192.0.2.2/24")}},
			tun("tA", "A", "192.0.2.1", "192.0.2.2", "10.9.0.1/24"),
			tun("tB", "B", "192.0.2.2", "192.0.2.1", "10.9.0.2/24"),
		},
		Sockets: []SocketConfig{
			{Name: "tx", Netns: "A", Proto: ProtoUDP, Port: 40000},
			{Name: "rx", Netns: "B", Proto: ProtoUDP, Port: 9999},
		},
		Entries: []EntryConfig{{Kind: EntryTX, Netns: "A", Socket: "tx"}},
	}
	cfg.Devices[1].MAC = [6]byte{2, 0, 0, 0, 9, 1}
	cfg.Devices[2].MAC = [6]byte{2, 0, 0, 0, 9, 2}
	cfg.Neighbours = []NeighConfig{{Netns: "A", Dev: "tA", Addr: addr("10.9.0.2"), MAC: cfg.Devices[2].MAC}}
	return cfg
}

func TestTunnels(t *testing.T) {
	for _, tc := range []struct {
		kind string
		vni  uint32
	}{{KindVXLAN, 5}, {KindGeneve, 6}, {KindGRE, 0}, {KindGRE, 77}, {KindGRETap, 0}, {KindIPIP, 0}} {
		t.Run(tc.kind, func(t *testing.T) {
			cfg := tunnelPair(tc.kind, tc.vni)
			var at []string
			rec := func(name string) Program {
				return ProgramFunc(func(c *Ctx) int {
					at = append(at, name)
					return TCXNext
				})
			}
			cfg.Programs = []ProgramConfig{
				{Name: "in", Hook: carrier.HookTCIngress, Netns: "B", Dev: "tB", Prog: rec("tB")},
				{Name: "eg", Hook: carrier.HookTCEgress, Netns: "A", Dev: "vA", Prog: rec("vA")},
			}
			s, te := newStack(t, cfg, "", nil, nil)
			f := buildFrame(frameOpts{src: "10.9.0.1", dst: "10.9.0.2", sport: 40000, dport: 9999, payload: 30, noEth: true})
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
			require.Empty(t, te.obs.drops)
			require.Equal(t, []string{"vA", "tB"}, at)
			require.Equal(t, []DeliverEvent{{PacketID: 1, Kind: DeliverSocket, Index: 1}}, te.obs.delivs)
		})
	}
}

// TestBridge: a frame from one port floods to the other (unknown
// destination), the answer is forwarded by the learned FDB entry.
func TestBridge(t *testing.T) {
	cfg := &Config{
		Namespaces: []NamespaceConfig{{Name: "A"}, {Name: "B"}},
		Devices: []DeviceConfig{
			{Name: "br0", Kind: KindBridge},
			{Name: "pa", Kind: KindVeth, Master: "br0", Peer: "ea", PeerNetns: "A", PeerMAC: macA, PeerAddrs: []netip.Prefix{pfx("10.1.0.1/24")}},
			{Name: "pb", Kind: KindVeth, Master: "br0", Peer: "eb", PeerNetns: "B", PeerMAC: macB, PeerAddrs: []netip.Prefix{pfx("10.1.0.2/24")}},
		},
		Neighbours: []NeighConfig{{Netns: "A", Dev: "ea", Addr: addr("10.1.0.2"), MAC: macB}, {Netns: "B", Dev: "eb", Addr: addr("10.1.0.1"), MAC: macA}},
		Sockets: []SocketConfig{
			{Name: "a", Netns: "A", Proto: ProtoUDP, Port: 1000},
			{Name: "b", Netns: "B", Proto: ProtoUDP, Port: 2000},
		},
		Entries: []EntryConfig{{Kind: EntryTX, Netns: "A", Socket: "a"}, {Kind: EntryTX, Netns: "B", Socket: "b"}},
	}
	s, te := newStack(t, cfg, "", nil, nil)
	require.NoError(t, s.Inject(&Packet{ID: 1, Frame: buildFrame(frameOpts{src: "10.1.0.1", dst: "10.1.0.2", sport: 1000, dport: 2000, payload: 10, noEth: true})}))
	require.NoError(t, s.Inject(&Packet{ID: 2, Entry: 1, Frame: buildFrame(frameOpts{src: "10.1.0.2", dst: "10.1.0.1", sport: 2000, dport: 1000, payload: 10, noEth: true})}))
	require.Empty(t, te.obs.drops)
	require.Equal(t, []DeliverEvent{{PacketID: 1, Kind: DeliverSocket, Index: 1}, {PacketID: 2, Kind: DeliverSocket, Index: 0}}, te.obs.delivs)
	br := s.Device("", "br0")
	require.Len(t, br.fdb, 2)
}

// TestNativeXDPActions: XDP_DROP frees the frame (SKB_DROP_REASON_XDP);
// XDP_REDIRECT to a veth hands the frame with its metadata to the peer
// (veth_xdp_xmit -> __xdp_build_skb_from_frame); XDP_TX sends it back.
// Only the peer's skb is an sk_buff: a frame dropped, bounced or refused
// costs its page alone and fires no kfree_skb or consume_skb tracepoint.
func TestNativeXDPActions(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ret     int
		peerGRO string // the container end's GRO
		drops   []string
		metaLen int // at the container's tc ingress; -1: never reached
		xmit    int
	}{
		{"drop", XDPDrop, "", []string{"SKB_DROP_REASON_XDP@bpf_prog_run_xdp"}, -1, 0},
		{"aborted", 99, "", []string{"SKB_DROP_REASON_XDP@bpf_prog_run_xdp"}, -1, 0},
		// veth_xdp_xmit: the receiving end needs its NAPI (GRO on, or
		// native XDP), as measured.
		{"redirect to veth", XDPRedirect, "on", nil, 8, 0},
		{"redirect to veth without NAPI", XDPRedirect, "", []string{"SKB_DROP_REASON_XDP@veth_xdp_xmit"}, -1, 0},
		{"tx", XDPTx, "", nil, -1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := seen{metaLen: -1}
			cfg := rxVethConfig()
			cfg.Devices[0].XDP = "native"
			cfg.Devices[1].PeerGRO = tc.peerGRO
			cfg.Programs = []ProgramConfig{
				{Name: "xdp", Hook: carrier.HookXDP, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
					require.Zero(t, c.AdjustMeta(-8))
					if tc.ret == XDPRedirect {
						return c.Redirect(c.Ifindex("veth0"), 0)
					}
					return tc.ret
				})},
				{Name: "in", Hook: carrier.HookTCIngress, Netns: "c", Dev: "eth0", Prog: probe(&got)},
			}
			tps := 0
			for _, ev := range []string{"kfree_skb", "consume_skb"} {
				cfg.Programs = append(cfg.Programs, ProgramConfig{Name: ev, Hook: carrier.HookTracepoint, Event: ev,
					Prog: ProgramFunc(func(*Ctx) int { tps++; return 0 })})
			}
			s, te := newStack(t, cfg, "", nil, nil)
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: rxFrame("10.0.0.2")}))
			require.Equal(t, tc.drops, te.obs.dropReasons())
			require.Equal(t, tc.metaLen, got.metaLen)
			if tc.metaLen > 0 {
				require.True(t, got.metaValid)
			}
			xmit := 0
			for _, d := range te.obs.delivs {
				if d.Kind == DeliverXmit {
					xmit++
				}
			}
			require.Equal(t, tc.xmit, xmit)
			// The driver page's frame becomes the peer's skb: one
			// sk_buff and the page, no consume_skb of an skb the kernel
			// never had; otherwise the page alone.
			allocs := uint64(1)
			if tc.metaLen >= 0 {
				allocs = 2
			} else {
				require.Zero(t, tps, "no tracepoint for a frame that never was an skb")
			}
			require.Equal(t, allocs, te.a.Accountant().Stats().Total.Allocs)
		})
	}
}

// TestSITDecap: an IPv4 packet carrying IPv6 (protocol 41) is decapsulated
// by a sit device (ipip6_rcv, netif_rx) and dropped by ip6_rcv_core in a
// namespace with net.ipv6.conf.all.disable_ipv6 = 1.
func TestSITDecap(t *testing.T) {
	cfg := &Config{
		Namespaces: []NamespaceConfig{{Name: HostNetns, DisableIPv6: true}},
		Devices: []DeviceConfig{
			{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("192.0.2.2/24")}},
			{Name: "sit1", Kind: KindSIT, Remote: addr("192.0.2.1")},
		},
	}
	var seenAt []string
	cfg.Programs = []ProgramConfig{{Name: "in", Hook: carrier.HookTCIngress, Dev: "sit1", Prog: ProgramFunc(func(c *Ctx) int {
		seenAt = append(seenAt, c.Dev.Name())
		return TCXNext
	})}}
	s, te := newStack(t, cfg, "", nil, nil)
	f := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.1", dst: "192.0.2.2", sport: 1, dport: 2, payload: 40})
	f[ethHlen+9] = ipprotoIPv6
	setIPCsum(f[ethHlen:], ipHlen)
	require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
	require.Equal(t, []string{"sit1"}, seenAt)
	require.Equal(t, []string{"SKB_DROP_REASON_IPV6DISABLED@ip6_rcv_core"}, te.obs.dropReasons())
}

// TestSocketFilters: cgroup ingress refusing drops with SOCKET_FILTER
// before the socket filter runs; a socket filter's return trims the packet
// (never below the UDP header) or drops it (0); a full receive buffer drops
// with SOCKET_RCVBUFF.
func TestSocketFilters(t *testing.T) {
	var lens []int
	lenProbe := ProgramFunc(func(c *Ctx) int { lens = append(lens, c.Skb.Len()); return FilterAccept })
	for _, tc := range []struct {
		name  string
		progs []ProgramConfig
		lens  []int
		drops []string
	}{
		{"cgroup drop", []ProgramConfig{
			{Name: "cg", Hook: carrier.HookCgroupIngress, Cgroup: "/a", Actions: []Action{{Kind: ActDrop}}},
			{Name: "f", Hook: carrier.HookSocketFilter, Socket: "app", Prog: lenProbe},
		}, nil, []string{"SKB_DROP_REASON_SOCKET_FILTER@__cgroup_bpf_run_filter_skb(ingress)"}},
		{"other cgroup", []ProgramConfig{
			{Name: "cg", Hook: carrier.HookCgroupIngress, Cgroup: "/b", Actions: []Action{{Kind: ActDrop}}},
			{Name: "f", Hook: carrier.HookSocketFilter, Socket: "app", Prog: lenProbe},
		}, []int{8 + 64}, nil},
		{"trim", []ProgramConfig{
			{Name: "f", Hook: carrier.HookSocketFilter, Socket: "app", Prog: ProgramFunc(func(c *Ctx) int { return 3 })},
			{Name: "g", Hook: carrier.HookSocketFilter, Socket: "app", Prog: lenProbe},
		}, []int{8}, nil},
		{"filter drop", []ProgramConfig{
			{Name: "f", Hook: carrier.HookSocketFilter, Socket: "app", Actions: []Action{{Kind: ActDrop}}},
		}, nil, []string{"SKB_DROP_REASON_SOCKET_FILTER@sk_filter_trim_cap"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lens = nil
			cfg := rxToSocketConfig()
			cfg.Sockets[0].Cgroup = "/a/app"
			cfg.Programs = tc.progs
			s, te := newStack(t, cfg, "", nil, nil)
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: rxFrame("192.0.2.1")}))
			require.Equal(t, tc.lens, lens)
			require.Equal(t, tc.drops, te.obs.dropReasons())
		})
	}
	cfg := rxToSocketConfig()
	cfg.Sockets[0].NoRead = true
	cfg.Sockets[0].RcvBuf = 1000 // one skb (truesize 896: a 640-byte small head plus the sk_buff)
	s, te := newStack(t, cfg, "", nil, nil)
	for i := range 4 {
		require.NoError(t, s.Inject(&Packet{ID: uint64(i), Frame: rxFrame("192.0.2.1")}))
	}
	require.Equal(t, 1, s.Socket("app").Queued())
	require.Equal(t, []string{"SKB_DROP_REASON_SOCKET_RCVBUFF@sock_queue_rcv_skb", "SKB_DROP_REASON_SOCKET_RCVBUFF@sock_queue_rcv_skb",
		"SKB_DROP_REASON_SOCKET_RCVBUFF@sock_queue_rcv_skb"}, te.obs.dropReasons())
}

// TestCgroupEgressDrop: a cgroup_skb egress program refusing the socket's
// packet drops it in ip_finish_output with BPF_CGROUP_EGRESS.
func TestCgroupEgressDrop(t *testing.T) {
	cfg := vethTxConfig()
	cfg.Sockets[0].Cgroup = "/app"
	cfg.Programs = []ProgramConfig{{Name: "deny", Hook: carrier.HookCgroupEgress, Cgroup: "/app", Actions: []Action{{Kind: ActDrop}}}}
	s, te := newStack(t, cfg, "", nil, nil)
	f := buildFrame(frameOpts{src: "192.0.2.1", dst: "192.0.2.2", sport: 40000, dport: 9999, payload: 8, noEth: true})
	require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
	require.Equal(t, []string{"SKB_DROP_REASON_BPF_CGROUP_EGRESS@__cgroup_bpf_run_filter_skb(egress)"}, te.obs.dropReasons())
	require.Empty(t, te.obs.delivs)
}

// TestGROMergeLayout: skb_gro_receive appends each merged segment's
// payload to the held skb: a page-fragment head (a page-pool buffer under
// native XDP, or netdev_alloc_skb of a large frame) is stolen as a page
// fragment and the rest of the merged skb freed without a tracepoint
// (napi_skb_free_stolen_head); a small kmalloc'ed head goes on the held
// skb's frag_list whole, and gets its consume_skb tracepoint when the
// aggregate is freed. The socket reads every byte in order.
func TestGROMergeLayout(t *testing.T) {
	for _, tc := range []struct {
		name              string
		xdp               string
		payload           int
		nrFrags, fragList int
		consumed          []uint64 // consume_skb tracepoint runs, by packet
	}{
		{"page-pool heads stolen", "native", 100, 2, 0, []uint64{1}},
		{"page-fragment heads stolen", "", 1000, 2, 0, []uint64{1}},
		{"small heads on the frag_list", "", 100, 0, 2, []uint64{1, 2, 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			type layout struct{ len, nrFrags, fragList int }
			var got []layout
			var consumed []uint64
			var freed int
			cfg := &Config{
				Devices: []DeviceConfig{{Name: "eth0", Kind: KindNIC, MAC: macNIC, XDP: tc.xdp, Addrs: []netip.Prefix{pfx("192.0.2.1/24")}}},
				Sockets: []SocketConfig{{Name: "srv", Proto: ProtoTCP, Port: 80}},
				Programs: []ProgramConfig{
					{Name: "tc", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
						got = append(got, layout{c.Skb.Len(), c.Skb.NrFrags(), len(c.Skb.FragList(nil))})
						return TCXNext
					})},
					{Name: "filter", Hook: carrier.HookSocketFilter, Socket: "srv", Prog: ProgramFunc(func(c *Ctx) int {
						require.Equal(t, 20+3*tc.payload, c.Skb.Len(), "the whole aggregate (inet_gro_complete's tot_len)")
						all := make([]byte, c.Skb.Len())
						require.NoError(t, c.Skb.CopyBits(0, all))
						payload := all[20:]
						for i := range payload {
							require.Equal(t, byte(i%tc.payload), payload[i], "byte %d", i)
						}
						return -1
					})},
					{Name: "tp", Hook: carrier.HookTracepoint, Event: EventConsumeSkb, Prog: ProgramFunc(func(c *Ctx) int {
						consumed = append(consumed, c.PacketID)
						return 0
					})},
				},
			}
			if tc.xdp != "" {
				cfg.Programs = append(cfg.Programs, ProgramConfig{Name: "xdp", Hook: carrier.HookXDP, Dev: "eth0",
					Prog: ProgramFunc(func(c *Ctx) int { return XDPPass })})
			}
			s, te := newStack(t, cfg, "", nil, nil)
			s.a.AddHooks(skb.Hooks{Free: func(*skb.Buff, skb.DropReason) { freed++ }})
			for i := range 3 {
				f := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "192.0.2.1", proto: ipprotoTCP,
					sport: 5000, dport: 80, seq: uint32(1000 + tc.payload*i), tcpFlags: tcpACK, payload: tc.payload, id: uint16(i)})
				require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: f, Hash: 0xabc}))
			}
			s.Flush()
			require.Empty(t, te.obs.drops)
			require.Equal(t, []layout{{ethHlen + ipHlen + 20 + 3*tc.payload, tc.nrFrags, tc.fragList}}, got)
			require.Len(t, te.obs.delivs, 1)
			require.Equal(t, tc.consumed, consumed)
			require.Equal(t, len(tc.consumed), freed, "the Free hooks fire where the tracepoints do")
			require.Zero(t, te.a.Live().Skbs)
		})
	}
}

// TestGROMergeIPv6: ipv6_gro_receive and tcp6_gro_receive merge the TCP
// segments of one IPv6 flow like IPv4's (same version and flow label,
// addresses and next header; the traffic class may differ), and
// ipv6_gro_complete / tcp6_gro_complete give the aggregate its
// payload_len and SKB_GSO_TCPV6; a different flow label is another flow.
func TestGROMergeIPv6(t *testing.T) {
	type seen struct {
		len        int
		segs       uint16
		gsoType    uint32
		payloadLen uint16
	}
	for _, tc := range []struct {
		name      string
		flowLabel func(i int) uint32
		tclass    func(i int) uint8
		want      []seen
	}{
		{"one flow", func(int) uint32 { return 7 }, func(int) uint8 { return 0x20 },
			[]seen{{ethHlen + ip6Hlen + 20 + 300, 3, skb.GSOTCPv6, 20 + 300}}},
		// ipv6_gro_flush: the same flow, but each segment flushes the last.
		{"traffic classes differ", func(int) uint32 { return 7 }, func(i int) uint8 { return uint8(i) },
			[]seen{{ethHlen + ip6Hlen + 120, 0, 0, 120}, {ethHlen + ip6Hlen + 120, 0, 0, 120}, {ethHlen + ip6Hlen + 120, 0, 0, 120}}},
		{"flow labels differ", func(i int) uint32 { return uint32(i) }, func(int) uint8 { return 0 },
			[]seen{{ethHlen + ip6Hlen + 120, 0, 0, 120}, {ethHlen + ip6Hlen + 120, 0, 0, 120}, {ethHlen + ip6Hlen + 120, 0, 0, 120}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []seen
			cfg := host6Config()
			cfg.Programs = []ProgramConfig{{Name: "tc", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
				sh := c.Skb.Shinfo()
				got = append(got, seen{c.Skb.Len(), sh.GSOSegs, sh.GSOType, 0})
				return TCXNext
			})}, {Name: "f", Hook: carrier.HookSocketFilter, Socket: "web", Prog: ProgramFunc(func(c *Ctx) int {
				nh := c.Skb.Head()[c.Skb.NetworkHeader():]
				got[len(got)-1].payloadLen = binary.BigEndian.Uint16(nh[4:6])
				return -1
			})}}
			s, te := newStack(t, cfg, "", nil, nil)
			for i := range 3 {
				f := buildFrame6(frame6{dstMAC: macNIC, srcMAC: macB, src: "2001:db8::9", dst: "2001:db8::1", next: ipprotoTCP, dport: 80, payload: 100})
				ip := f[ethHlen:]
				binary.BigEndian.PutUint32(ip[0:4], 6<<28|uint32(tc.tclass(i))<<20|tc.flowLabel(i))
				th := ip[ip6Hlen:]
				binary.BigEndian.PutUint32(th[4:8], uint32(1000+100*i))
				th[13] = tcpACK
				require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: f, Hash: 0xabc}))
			}
			s.Flush()
			require.Empty(t, te.obs.drops)
			require.Equal(t, tc.want, got)
		})
	}
}

// TestGROFlushIPv4: inet_gro_flush: segments of one flow merge only with
// the same TTL, TOS and DF bit, and an identification that increments by
// one per segment, or, for DF packets, stays fixed from the second on.
func TestGROFlushIPv4(t *testing.T) {
	for _, tc := range []struct {
		name    string
		profile string
		opts    func(i int, o *frameOpts)
		runs    int // tc ingress runs for three segments: 1 when all merge
	}{
		{"incrementing id", "", func(i int, o *frameOpts) { o.id = uint16(100 + i) }, 1},
		{"incrementing id with DF", "", func(i int, o *frameOpts) { o.id, o.fragOff = uint16(100+i), ipDF }, 1},
		{"fixed id with DF", "", func(i int, o *frameOpts) { o.id, o.fragOff = 0, ipDF }, 1},
		// From v6.18 a fixed identification merges without DF too
		// (Profile.GROFixedIDWithoutDF; measured).
		{"fixed id without DF", "", func(i int, o *frameOpts) { o.id = 7 }, 1},
		{"fixed id without DF before v6.18", "v6.12", func(i int, o *frameOpts) { o.id = 7 }, 3},
		{"TTL differs", "", func(i int, o *frameOpts) { o.id, o.ttl = uint16(i), uint8(60+i) }, 3},
		{"TOS differs", "", func(i int, o *frameOpts) { o.id, o.tos = uint16(i), uint8(i<<2) }, 3},
		{"DF on the second only", "", func(i int, o *frameOpts) {
			o.id = uint16(i)
			if i == 1 {
				o.fragOff = ipDF
			}
		}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runs := 0
			cfg := &Config{
				Devices: []DeviceConfig{{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("192.0.2.1/24")}}},
				Sockets: []SocketConfig{{Name: "srv", Proto: ProtoTCP, Port: 80}},
				Programs: []ProgramConfig{{Name: "tc", Hook: carrier.HookTCIngress, Dev: "eth0",
					Prog: ProgramFunc(func(c *Ctx) int { runs++; return TCXNext })}},
			}
			s, te := newStack(t, cfg, tc.profile, nil, nil)
			for i := range 3 {
				o := frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "192.0.2.1", proto: ipprotoTCP,
					sport: 5000, dport: 80, seq: uint32(1000 + 1000*i), tcpFlags: tcpACK, payload: 1000}
				tc.opts(i, &o)
				require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: buildFrame(o), Hash: 0xabc}))
			}
			s.Flush()
			require.Empty(t, te.obs.drops)
			require.Equal(t, tc.runs, runs)
		})
	}
}

// TestGROAggregateThroughSecondGRO: an aggregate the NIC's GRO built and
// the host forwards into a veth whose peer runs GRO arrives there as a GSO
// skb: dev_gro_receive counts its gso_segs and keeps its gso_size, so the
// container still sees one skb of three segments.
func TestGROAggregateThroughSecondGRO(t *testing.T) {
	type gso struct{ size, segs uint16 }
	var segs []gso
	peerMAC := [6]byte{2, 0, 0, 0, 0, 0x22}
	cfg := &Config{
		Namespaces: []NamespaceConfig{{Name: "host", Forwarding: true}, {Name: "c"}},
		Devices: []DeviceConfig{
			{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("192.0.2.1/24")}},
			{Name: "veth0", Kind: KindVeth, Addrs: []netip.Prefix{pfx("10.200.0.1/30")}, Peer: "eth0", PeerNetns: "c",
				PeerMAC: peerMAC, PeerAddrs: []netip.Prefix{pfx("10.200.0.2/30"), pfx("198.51.100.1/24")}, PeerGRO: "on"},
		},
		Routes:     []RouteConfig{{Dst: pfx("198.51.100.0/24"), Dev: "veth0", Via: addr("10.200.0.2")}},
		Neighbours: []NeighConfig{{Dev: "veth0", Addr: addr("10.200.0.2"), MAC: peerMAC}},
		Sockets:    []SocketConfig{{Name: "srv", Netns: "c", Proto: ProtoTCP, Port: 80}},
		Programs: []ProgramConfig{{Name: "tc", Hook: carrier.HookTCIngress, Netns: "c", Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
			segs = append(segs, gso{c.Skb.Shinfo().GSOSize, c.Skb.Shinfo().GSOSegs})
			return TCXNext
		})}},
	}
	s, te := newStack(t, cfg, "", nil, nil)
	for i := range 3 {
		f := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "198.51.100.1", proto: ipprotoTCP,
			sport: 5000, dport: 80, seq: uint32(1000 + 1000*i), tcpFlags: tcpACK, payload: 1000, id: uint16(i)})
		require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: f, Hash: 0xabc}))
	}
	s.Flush()
	require.Empty(t, te.obs.drops)
	require.Equal(t, []gso{{1000, 3}}, segs)
	require.Len(t, te.obs.delivs, 1)
}

// TestTapFilter: a packet tap's socket filter (ProgramConfig.Tap) runs in
// packet_rcv on the skb before tc ingress, with data at the mac header
// and cb[] cleared for good (bpf_prog_run_clear_cb): tc ingress reads the
// zeroes. A filter returning 0 keeps the packet from the tap, not from
// the stack. A tap takes one filter, and a filter names a socket or a tap.
func TestTapFilter(t *testing.T) {
	for _, keep := range []bool{true, false} {
		t.Run(fmt.Sprintf("keep %v", keep), func(t *testing.T) {
			var atFilter, atTC []uint32
			var first byte
			cfg := rxToSocketConfig()
			cfg.Taps = []TapConfig{{Name: "dump", Dev: "eth0", Dir: TapRX, Hold: true}}
			cfg.Programs = []ProgramConfig{
				{Name: "filter", Hook: carrier.HookSocketFilter, Tap: "dump", Prog: ProgramFunc(func(c *Ctx) int {
					atFilter = append(atFilter, c.CB(0))
					first = c.Skb.Data()[0]
					c.SetCB(1, 7)
					if keep {
						return c.Skb.Len()
					}
					return 0
				})},
				{Name: "tc", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
					atTC = append(atTC, c.CB(0), c.CB(1))
					return TCXNext
				})},
			}
			s, te := newStack(t, cfg, "", nil, nil)
			s.Inject(&Packet{ID: 1, Frame: rxFrame("192.0.2.1")})
			require.Equal(t, []uint32{0}, atFilter, "cb[] cleared for the filter")
			require.Equal(t, macNIC[0], first, "the filter sees the frame from its mac header")
			require.Equal(t, []uint32{0, 7}, atTC, "tc ingress sees what the filter left in cb[]")
			want := 0
			if keep {
				want = 1
			}
			require.Len(t, s.TapPackets("dump"), want)
			require.Equal(t, []DeliverEvent{{PacketID: 1, Kind: DeliverSocket, Index: 0}}, te.obs.delivs)
		})
	}
	for _, tc := range []struct {
		name string
		p    []ProgramConfig
		want string
	}{
		{"two filters", []ProgramConfig{{Name: "a", Hook: carrier.HookSocketFilter, Tap: "dump", Actions: []Action{{Kind: ActCount}}},
			{Name: "b", Hook: carrier.HookSocketFilter, Tap: "dump", Actions: []Action{{Kind: ActCount}}}}, "has a filter already"},
		{"socket and tap", []ProgramConfig{{Name: "a", Hook: carrier.HookSocketFilter, Tap: "dump", Socket: "app",
			Actions: []Action{{Kind: ActCount}}}}, "a filter has one"},
		{"unknown tap", []ProgramConfig{{Name: "a", Hook: carrier.HookSocketFilter, Tap: "nope", Actions: []Action{{Kind: ActCount}}}}, `unknown tap "nope"`},
	} {
		cfg := rxToSocketConfig()
		cfg.Taps = []TapConfig{{Name: "dump", Dev: "eth0"}}
		cfg.Programs = tc.p
		err := newStackErr(t, cfg, "")
		require.ErrorIs(t, err, ErrConfig, tc.name)
		require.ErrorContains(t, err, tc.want, tc.name)
	}
}
