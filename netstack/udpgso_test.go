package netstack

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/skb"
)

// TestUDPSegmentSend: a UDP_SEGMENT socket's datagram through
// udp_send_skb / udp_v6_send_skb (the checks measured on the 6.18 kernel
// with sendto on a veth: gso 1000 and 1400 bytes is sent, gso 2000 and
// 1600 bytes fails with EMSGSIZE, gso 100 and 12801 bytes with EINVAL),
// then across a veth to a socket in the other namespace. A socket without
// UDP_GRO receives the GSO skb as segments (udp_rcv_segment), each through
// its socket filter; a UDP_GRO socket receives it whole.
func TestUDPSegmentSend(t *testing.T) {
	type want struct {
		refused bool  // udp_send_skb frees the skb (NOT_SPECIFIED)
		segs    int   // gso_segs at tc egress (0: not a GSO skb)
		filter  []int // the lengths the receiver's socket filter sees
	}
	for _, tc := range []struct {
		name    string
		profile string
		gso     int
		payload int
		gro     bool
		want    want
	}{
		{"two segments", "", 1000, 1400, false, want{segs: 2, filter: []int{1008, 408}}},
		{"two segments to a UDP_GRO socket", "", 1000, 1400, true, want{segs: 2, filter: []int{1408}}},
		{"gso_size above the MTU, datagram below it", "", 2000, 1400, false, want{filter: []int{1408}}},
		{"gso_size above the MTU before v6.14", "v6.12", 2000, 1400, false, want{refused: true}},
		{"datagram above the MTU and gso_size", "", 2000, 1600, false, want{refused: true}},
		{"segment above the MTU", "", 1473, 1474, false, want{refused: true}},
		{"UDP_MAX_SEGMENTS segments", "", 100, 12800, true, want{segs: 128, filter: []int{12808}}},
		{"one segment too many", "", 100, 12801, false, want{refused: true}},
		{"64 segments before v6.9", "v6.6", 100, 6400, true, want{segs: 64, filter: []int{6408}}},
		{"one segment is a GSO skb before v5.4, queued whole before v5.0", "v4.19", 1000, 600, false, want{segs: 1, filter: []int{608}}},
		{"queued whole before v5.0", "v4.19", 1000, 1400, false, want{segs: 2, filter: []int{1408}}},
		{"one too many before v6.9", "v6.6", 100, 6401, false, want{refused: true}},
	} {
		for _, v6 := range []bool{false, true} {
			name := tc.name + "/IPv4"
			if v6 {
				name = tc.name + "/IPv6"
			}
			t.Run(name, func(t *testing.T) {
				if v6 && tc.name == "segment above the MTU" {
					t.Skip("the IPv6 header is 20 bytes longer: the IPv4 limit case")
				}
				cfg, frame := vethTxConfig(), buildFrame(frameOpts{src: "192.0.2.1", dst: "192.0.2.2", sport: 40000, dport: 9999, payload: tc.payload, noEth: true})
				if v6 {
					cfg, frame = veth6TxConfig(), v6Datagram(tc.payload)
				}
				cfg.Sockets[0].UDPSegment = tc.gso
				cfg.Sockets[1].UDPGRO = tc.gro
				var segs []int
				var filter []int
				cfg.Programs = []ProgramConfig{
					{Name: "eg", Hook: carrier.HookTCEgress, Netns: "A", Dev: "vA", Prog: ProgramFunc(func(c *Ctx) int {
						segs = append(segs, int(c.Skb.Shinfo().GSOSegs))
						if c.Skb.Shinfo().GSOSize == 0 {
							segs[len(segs)-1] = 0
						}
						return TCXNext
					})},
					{Name: "f", Hook: carrier.HookSocketFilter, Socket: "rx", Prog: ProgramFunc(func(c *Ctx) int {
						filter = append(filter, c.Skb.Len())
						return -1
					})},
				}
				s, te := newStack(t, cfg, tc.profile, nil, nil)
				require.NoError(t, s.Inject(&Packet{ID: 3, Frame: frame}))
				if tc.want.refused {
					op := OpSockSend
					if v6 {
						op = OpIP6MakeSkb
					}
					require.Equal(t, []string{"SKB_DROP_REASON_NOT_SPECIFIED@" + op.String()}, te.obs.dropReasons())
					require.Empty(t, segs, "nothing left the socket")
					require.Empty(t, te.obs.delivs)
					return
				}
				require.Empty(t, te.obs.dropReasons())
				require.Equal(t, []int{tc.want.segs}, segs)
				require.Equal(t, tc.want.filter, filter)
				require.Len(t, te.obs.delivs, len(tc.want.filter), "one read per queued skb")
				require.Zero(t, s.Socket("tx").wmem)
			})
		}
	}
}

// TestUDPRcvSegmentHeaders: the segments udp_rcv_segment queues carry
// their own IPv4 total length, IP ID (the GSO skb's, counted up),
// checksum and UDP length.
func TestUDPRcvSegmentHeaders(t *testing.T) {
	type hdr struct {
		totLen, id, udpLen uint16
		csumOK             bool
	}
	var got []hdr
	cfg := vethTxConfig()
	cfg.Sockets[0].UDPSegment = 600
	cfg.Programs = append(cfg.Programs, ProgramConfig{Name: "f", Hook: carrier.HookSocketFilter, Socket: "rx",
		Prog: ProgramFunc(func(c *Ctx) int {
			d := c.Skb.Data() // at the UDP header
			ipb := c.Skb.Head()[c.Skb.NetworkHeader():]
			got = append(got, hdr{binary.BigEndian.Uint16(ipb[2:4]), binary.BigEndian.Uint16(ipb[4:6]),
				binary.BigEndian.Uint16(d[4:6]), ipCsum(ipb[:ipHlen]) == 0})
			return -1
		})})
	s, te := newStack(t, cfg, "", nil, nil)
	f := buildFrame(frameOpts{src: "192.0.2.1", dst: "192.0.2.2", sport: 40000, dport: 9999, payload: 1500, id: 40, noEth: true})
	require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
	require.Empty(t, te.obs.dropReasons())
	require.Equal(t, []hdr{
		{20 + 8 + 600, 40, 8 + 600, true},
		{20 + 8 + 600, 41, 8 + 600, true},
		{20 + 8 + 300, 42, 8 + 300, true},
	}, got)
	require.Len(t, te.obs.delivs, 3)
	for _, d := range te.obs.delivs {
		require.Equal(t, DeliverEvent{PacketID: 1, Kind: DeliverSocket, Index: 1}, d)
	}
}

// TestUDPRcvSegmentConsumesGSOSkb: udp_rcv_segment consumes the GSO skb
// (the consume_skb tracepoint fires for it) and the segments are new
// skbs.
func TestUDPRcvSegmentConsumesGSOSkb(t *testing.T) {
	cfg := vethTxConfig()
	cfg.Sockets[0].UDPSegment = 1000
	var consumed, queued []uint64
	cfg.Programs = append(cfg.Programs,
		ProgramConfig{Name: "c", Hook: carrier.HookTracepoint, Event: EventConsumeSkb, Prog: ProgramFunc(func(c *Ctx) int {
			consumed = append(consumed, c.Skb.ID())
			return 0
		})},
		ProgramConfig{Name: "f", Hook: carrier.HookSocketFilter, Socket: "rx", Prog: ProgramFunc(func(c *Ctx) int {
			queued = append(queued, c.Skb.ID())
			return -1
		})})
	s, _ := newStack(t, cfg, "", nil, nil)
	var gsoID uint64
	s.a.AddHooks(skb.Hooks{Copy: func(from, _ *skb.Buff, k skb.CopyKind) {
		require.Equal(t, skb.CopySegment, k)
		gsoID = from.ID()
	}})
	f := buildFrame(frameOpts{src: "192.0.2.1", dst: "192.0.2.2", sport: 40000, dport: 9999, payload: 2500, noEth: true})
	require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
	require.Len(t, queued, 3)
	require.NotZero(t, gsoID)
	require.NotContains(t, queued, gsoID)
	require.Equal(t, gsoID, consumed[0], "the GSO skb is consumed before the segments are read")
	require.Len(t, consumed, 4, "the GSO skb, then the three segments read by the application")
}

// TestSendPagedPayload: the payload a socket sends sits in its page
// fragments (tcp_sendmsg_locked; __ip_append_data on a UDP_SEGMENT socket):
// tc egress sees only the headers in the linear part. Before v5.1 the
// first TCP skb of an empty queue took up to 1408 payload bytes linear. A
// receiver without UDP_GRO gets segments whose payload references the
// same pages.
func TestSendPagedPayload(t *testing.T) {
	type geo struct{ headlen, dataLen int }
	for _, tc := range []struct {
		name    string
		profile string
		tcp     bool
		gso     int
		payload int
		egress  []geo // at tc egress of vA (data at the mac header)
		filter  []geo // at the receiving socket's filter (data at the L4 header)
	}{
		{"tcp", "", true, 0, 1000, []geo{{14 + 20 + 20, 1000}}, []geo{{20, 1000}}},
		{"tcp, linear first skb before v5.1", "v4.19", true, 0, 1448, []geo{{14 + 20 + 20 + 1408, 40}}, []geo{{20 + 1408, 40}}},
		{"udp without UDP_SEGMENT", "", false, 0, 1000, []geo{{14 + 20 + 8 + 1000, 0}}, []geo{{8 + 1000, 0}}},
		{"udp, UDP_SEGMENT, one segment", "", false, 1400, 1000, []geo{{14 + 20 + 8, 1000}}, []geo{{8, 1000}}},
		{"udp, UDP_SEGMENT, two segments", "", false, 1000, 1400, []geo{{14 + 20 + 8, 1400}}, []geo{{8, 1000}, {8, 400}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := vethTxConfig()
			proto, dport := uint8(ipprotoUDP), uint16(9999)
			if tc.tcp {
				proto, dport = ipprotoTCP, 80
				cfg.Sockets[0].Proto = ProtoTCP
				cfg.Sockets[1] = SocketConfig{Name: "rx", Netns: "B", Proto: ProtoTCP, Port: 80}
			}
			cfg.Sockets[0].UDPSegment = tc.gso
			var egress, filter []geo
			cfg.Programs = []ProgramConfig{
				{Name: "eg", Hook: carrier.HookTCEgress, Netns: "A", Dev: "vA", Prog: ProgramFunc(func(c *Ctx) int {
					egress = append(egress, geo{c.Skb.Headlen(), c.Skb.DataLen()})
					return TCXNext
				})},
				{Name: "f", Hook: carrier.HookSocketFilter, Socket: "rx", Prog: ProgramFunc(func(c *Ctx) int {
					filter = append(filter, geo{c.Skb.Headlen(), c.Skb.DataLen()})
					return -1
				})},
			}
			s, te := newStack(t, cfg, tc.profile, nil, nil)
			f := buildFrame(frameOpts{src: "192.0.2.1", dst: "192.0.2.2", proto: proto, sport: 40000, dport: dport,
				tcpFlags: tcpACK, payload: tc.payload, noEth: true})
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
			require.Empty(t, te.obs.dropReasons())
			require.Equal(t, tc.egress, egress)
			require.Equal(t, tc.filter, filter)
		})
	}
}

// TestTaskFragShared: sk_page_frag() gives a user socket's send path its
// task's task_frag, so two UDP_SEGMENT sockets of one task fill one 32 KB
// page between them, while sockets of two tasks take a page each.
func TestTaskFragShared(t *testing.T) {
	for _, tc := range []struct {
		name         string
		task1, task2 string
		pages        uint64
	}{
		{"one task", "quic", "quic", 1},
		{"two tasks", "quic", "dns", 2},
		{"no task: one each", "", "", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := vethTxConfig()
			cfg.Sockets[0].UDPSegment, cfg.Sockets[0].Task = 1000, tc.task1
			cfg.Sockets = append(cfg.Sockets, SocketConfig{Name: "tx2", Netns: "A", Proto: ProtoUDP, Port: 40001,
				UDPSegment: 1000, Task: tc.task2})
			cfg.Entries = append(cfg.Entries, EntryConfig{Kind: EntryTX, Netns: "A", Socket: "tx2"})
			s, te := newStack(t, cfg, "", nil, nil)
			for i, sport := range []uint16{40000, 40001} {
				f := buildFrame(frameOpts{src: "192.0.2.1", dst: "192.0.2.2", sport: sport, dport: 9999, payload: 1400, noEth: true})
				require.NoError(t, s.Inject(&Packet{ID: uint64(i), Frame: f, Entry: i}))
			}
			require.Empty(t, te.obs.dropReasons())
			require.Len(t, te.obs.delivs, 4, "two segments each")
			require.Equal(t, tc.pages, te.a.Accountant().Stats().ByClass[kmem.LargeClass].Allocs, "32 KB pages")
		})
	}
}
