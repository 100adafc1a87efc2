package netstack

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/skb"
)

// frag6Piece describes one IPv6 fragment of a test datagram: the byte range
// [off, off+n) of the fragmentable part (UDP header and payload) and the M
// flag.
type frag6Cut struct {
	off, n int
	more   bool
}

// frag6Frames builds an Ethernet + IPv6 + UDP datagram from src to dst:53
// with payload bytes and returns the fragments cuts describes (identification
// id, a fragment header straight after the IPv6 header).
func frag6Frames(src, dst string, id uint32, payload int, cuts []frag6Cut) [][]byte {
	body := make([]byte, udpHlen+payload)
	binary.BigEndian.PutUint16(body[0:2], 40000)
	binary.BigEndian.PutUint16(body[2:4], 53)
	binary.BigEndian.PutUint16(body[4:6], uint16(len(body)))
	for i := udpHlen; i < len(body); i++ {
		body[i] = byte(i)
	}
	udp6CsumFor(addr(src).As16(), addr(dst).As16(), body)
	var out [][]byte
	for _, c := range cuts {
		f := make([]byte, ethHlen+ip6Hlen+fragHdrLen+c.n)
		writeEth(f, macNIC, macB, ethPIPv6)
		writeIPv6(f[ethHlen:], 0, 0, fragHdrLen+c.n, nexthdrFrag, 64, addr(src), addr(dst))
		fh := f[ethHlen+ip6Hlen:]
		fh[0] = nexthdrUDP
		fo := uint16(c.off)
		if c.more {
			fo |= 1
		}
		binary.BigEndian.PutUint16(fh[2:4], fo)
		binary.BigEndian.PutUint32(fh[4:8], id)
		if c.off < len(body) {
			copy(fh[fragHdrLen:], body[c.off:min(len(body), c.off+c.n)])
		}
		out = append(out, f)
	}
	return out
}

// three fragments of a 200-byte datagram (8 + 192): 0-80, 80-160, 160-200.
var cuts3 = []frag6Cut{{0, 80, true}, {80, 80, true}, {160, 40, false}}

func frag6Host() *Config {
	cfg := host6Config()
	cfg.Options.RxTimestamps = true
	return cfg
}

// TestIP6Reassembly: ipv6_frag_rcv / ip6_frag_queue / ip6_frag_reasm and
// the queue timer, with the kernel's drop reasons and locations. Each case
// injects fragments (order = indexes into the cuts, at capture times in
// seconds) and expects the socket deliveries and drops.
func TestIP6Reassembly(t *testing.T) {
	type inj struct {
		frame []byte
		at    int64 // seconds
	}
	f := frag6Frames("2001:db8::9", "2001:db8::1", 0x1234, 192, cuts3)
	other := frag6Frames("2001:db8::9", "2001:db8::1", 0x9999, 192, cuts3)
	seq := func(fr ...[]byte) []inj {
		var out []inj
		for _, x := range fr {
			out = append(out, inj{frame: x})
		}
		return out
	}
	// overlap: a fragment 40..120 overlapping both neighbours' runs.
	ov := frag6Frames("2001:db8::9", "2001:db8::1", 0x1234, 192, []frag6Cut{{40, 80, true}})[0]
	// inside a run but not equal: 80..120 after 80..160 was queued (DUP:
	// inet_frag_queue_insert finds it inside the run).
	dupInside := frag6Frames("2001:db8::9", "2001:db8::1", 0x1234, 192, []frag6Cut{{80, 40, true}})[0]
	tooBig := frag6Frames("2001:db8::9", "2001:db8::1", 0x1234, 192, []frag6Cut{{65528, 16, true}})[0]
	odd := frag6Frames("2001:db8::9", "2001:db8::1", 0x1234, 192, []frag6Cut{{0, 20, true}})[0]
	atomic := frag6Frames("2001:db8::9", "2001:db8::1", 0x1234, 12, []frag6Cut{{0, 20, false}})[0]
	badLast := frag6Frames("2001:db8::9", "2001:db8::1", 0x1234, 192, []frag6Cut{{120, 40, false}})[0]
	for _, tc := range []struct {
		name   string
		in     []inj
		delivs []uint64 // packet ids delivered to the socket (1-based injection index)
		drops  []string
	}{
		{"in order", seq(f[0], f[1], f[2]), []uint64{3}, nil},
		{"out of order", seq(f[2], f[0], f[1]), []uint64{3}, nil},
		{"reverse", seq(f[2], f[1], f[0]), []uint64{3}, nil},
		{"duplicate", seq(f[0], f[0], f[1], f[2]), []uint64{4}, []string{"SKB_DROP_REASON_DUP_FRAG@ip6_frag_queue"}},
		{"duplicate inside a run", seq(f[1], dupInside, f[0], f[2]), []uint64{4}, []string{"SKB_DROP_REASON_DUP_FRAG@ip6_frag_queue"}},
		{"overlap kills the queue (RFC 5722)", seq(f[0], f[2], ov, f[1]), nil,
			[]string{"SKB_DROP_REASON_NOT_SPECIFIED@ip6_frag_queue"}},
		{"end beyond IPV6_MAXPLEN", seq(tooBig), nil, []string{"SKB_DROP_REASON_NOT_SPECIFIED@ipv6_frag_rcv"}},
		{"non-final fragment not a multiple of 8", seq(odd), nil, []string{"SKB_DROP_REASON_NOT_SPECIFIED@ipv6_frag_rcv"}},
		{"inconsistent last fragment", seq(f[2], badLast), nil, []string{"SKB_DROP_REASON_NOT_SPECIFIED@ip6_frag_queue"}},
		{"atomic fragment", seq(atomic), []uint64{1}, nil},
		{"timeout", []inj{{f[0], 0}, {f[1], 10}, {other[0], 61}}, nil,
			[]string{"SKB_DROP_REASON_FRAG_REASM_TIMEOUT@ip6frag_expire_frag_queue", "SKB_DROP_REASON_FRAG_REASM_TIMEOUT@ip6frag_expire_frag_queue"}},
		{"within the timeout", []inj{{f[0], 0}, {f[1], 30}, {f[2], 59}}, []uint64{3}, nil},
		// The timer fires whatever packet comes next (here an unfragmented
		// datagram to the socket, delivered after the expiry).
		{"timer fires before any later packet", []inj{{f[0], 0}, {buildFrame6(v6To("2001:db8::1", 53)), 61}}, []uint64{2},
			[]string{"SKB_DROP_REASON_FRAG_REASM_TIMEOUT@ip6frag_expire_frag_queue"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, te := newStack(t, frag6Host(), "", nil, nil)
			for i, x := range tc.in {
				require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: x.frame, Tstamp: x.at * 1e9}))
			}
			var got []uint64
			for _, d := range te.obs.delivs {
				require.Equal(t, DeliverSocket, d.Kind)
				got = append(got, d.PacketID)
			}
			require.Equal(t, tc.delivs, got)
			require.Equal(t, tc.drops, te.obs.dropReasons())
			st := s.Netns("").fragDirs
			if st != nil && len(st.v6.live) == 0 {
				require.Zero(t, st.v6.mem, "fragment memory uncharged once no queue is live")
			}
		})
	}
}

// TestIP6ReassemblyFreesQueued: the fragments a killed queue held are
// freed by inet_frag_destroy with SKB_CONSUMED (overlap: no INET_FRAG_DROP),
// those of an expired queue with FRAG_REASM_TIMEOUT (ip6frag_expire_frag_queue
// sets INET_FRAG_DROP); the consume_skb tracepoint sees the consumed ones.
func TestIP6ReassemblyFreesQueued(t *testing.T) {
	f := frag6Frames("2001:db8::9", "2001:db8::1", 7, 192, cuts3)
	ov := frag6Frames("2001:db8::9", "2001:db8::1", 7, 192, []frag6Cut{{40, 80, true}})[0]
	var consumed []uint64
	cfg := frag6Host()
	cfg.Programs = []ProgramConfig{{Name: "tp", Hook: carrier.HookTracepoint, Event: EventConsumeSkb,
		Prog: ProgramFunc(func(c *Ctx) int { consumed = append(consumed, c.PacketID); return 0 })}}
	s, te := newStack(t, cfg, "", nil, nil)
	for i, x := range [][]byte{f[0], f[2], ov} {
		require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: x}))
	}
	require.Equal(t, []uint64{1, 2}, consumed, "the queued fragments, consumed by inet_frag_destroy")
	require.Equal(t, []string{"SKB_DROP_REASON_NOT_SPECIFIED@ip6_frag_queue"}, te.obs.dropReasons())
	require.Zero(t, s.Netns("").fragDirs.v6.mem)
}

// TestIP6ReassemblyTransitions checks what the reassembled skb carries, as
// inet_frag_reasm_prepare (skb_morph(skb, head): the offset-0 fragment's
// header state — mark, hash, extensions, cb — on the skb that completed
// the queue, whose own state is lost) and inet_frag_reasm_finish
// (head->tstamp = q->stamp: the timestamp of the fragment that completed
// the queue) and ip6_frag_reasm (IP6CB nhoff, IP6SKB_FRAGMENTED,
// frag_max_size; payload_len of the whole datagram; the fragment header
// removed) leave it. A tc ingress program marks every fragment with its
// packet id, sets cb[4] (the word ip6_rcv_core's memset of IP6CB does not
// reach, which FRAG_CB's next_frag overwrites) and adds a TC extension
// holding the id; a consume_skb tracepoint sees the datagram the socket
// reads.
func TestIP6ReassemblyTransitions(t *testing.T) {
	type seen struct {
		mark       uint32
		hash       uint32
		ext        byte
		cb4        uint32
		tstamp     int64
		nhoff      uint16
		flags      uint16
		maxSize    uint16
		payloadLen uint16
		next       uint8
		dev        int32
	}
	for _, tc := range []struct {
		name  string
		order []int
		head  uint64 // the packet id whose header state survives
		last  uint64 // the packet id that completed the queue
	}{
		{"head last", []int{1, 2, 0}, 3, 3},
		{"head first", []int{0, 1, 2}, 1, 3},
		{"head in the middle", []int{2, 0, 1}, 2, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := frag6Frames("2001:db8::9", "2001:db8::1", 42, 192, cuts3)
			var got []seen
			cfg := frag6Host()
			cfg.Programs = []ProgramConfig{
				{Name: "mark", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
					h := c.Skb.H()
					h.Mark = uint32(c.PacketID)
					h.Hash, h.L4Hash = uint32(c.PacketID)*1000, true
					binary.LittleEndian.PutUint32(h.CB[cbDataOff+16:], uint32(c.PacketID))
					e, err := c.Skb.ExtAdd(skb.ExtTC)
					require.NoError(t, err)
					e.Chunk(skb.ExtTC)[0] = byte(c.PacketID)
					return TCXNext
				})},
				{Name: "tp", Hook: carrier.HookTracepoint, Event: EventConsumeSkb, Prog: ProgramFunc(func(c *Ctx) int {
					h := c.Skb.H()
					var ext byte
					if e := c.Skb.ExtFind(skb.ExtTC); e != nil {
						ext = e.Chunk(skb.ExtTC)[0]
					}
					nh := c.Skb.Head()[c.Skb.NetworkHeader():]
					got = append(got, seen{mark: h.Mark, hash: h.Hash, ext: ext,
						cb4: binary.LittleEndian.Uint32(h.CB[cbDataOff+16:]), tstamp: h.Tstamp,
						nhoff: binary.LittleEndian.Uint16(h.CB[ip6cbNhoff:]), flags: binary.LittleEndian.Uint16(h.CB[ip6cbFlags:]),
						maxSize:    binary.LittleEndian.Uint16(h.CB[ip6cbFragMaxSize:]),
						payloadLen: binary.BigEndian.Uint16(nh[4:6]), next: nh[6], dev: h.Dev})
					return 0
				})},
			}
			s, te := newStack(t, cfg, "", nil, nil)
			for i, j := range tc.order {
				require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: f[j]}))
			}
			require.Empty(t, te.obs.drops)
			require.Equal(t, []DeliverEvent{{PacketID: tc.last, Kind: DeliverSocket, Index: 0}}, te.obs.delivs)
			// The tracepoint saw the fragments freed at reassembly (the
			// morphed-away head and the fp clone are consume_skb'd only
			// when not the datagram itself), then the datagram read by the
			// socket, then the fragments that were on its frag_list
			// (kfree_skb_list_reason: not coalesced into the head's
			// tailroom), each with its own state.
			di := -1
			for i, g := range got {
				if g.payloadLen == udpHlen+192 {
					require.Equal(t, -1, di, "one datagram")
					di = i
				}
			}
			require.NotEqual(t, -1, di)
			for _, g := range got[di+1:] {
				require.Zero(t, g.flags, "a fragment on the frag_list: %+v", g)
				require.Equal(t, g.hash, g.mark*1000)
			}
			d := got[di]
			require.Equal(t, seen{
				mark: uint32(tc.head), hash: uint32(tc.head) * 1000, ext: byte(tc.head),
				cb4:    0,              // FRAG_CB(skb)->next_frag
				tstamp: int64(tc.last), // q->stamp (RxTimestamps: the packet id)
				nhoff:  6, flags: ip6skbFragmented,
				maxSize:    uint16(ip6Hlen + fragHdrLen + 80),
				payloadLen: udpHlen + 192, next: nexthdrUDP, dev: s.Device("", "eth0").Ifindex(),
			}, d)
		})
	}
}

// TestIP6ReassemblyMetadataMoves: the memmove that removes the fragment
// header carries the XDP metadata with the mac header (ip6_frag_reasm:
// memmove of everything before the fragment header, mac_header += 8), so
// the metadata a native XDP program set on the first fragment is still
// valid on the datagram.
func TestIP6ReassemblyMetadataMoves(t *testing.T) {
	f := frag6Frames("2001:db8::9", "2001:db8::1", 9, 192, cuts3)
	var valid []bool
	var bytes [][]byte
	cfg := frag6Host()
	cfg.Programs = []ProgramConfig{
		{Name: "xdp", Hook: carrier.HookXDP, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
			require.Zero(t, c.AdjustMeta(-8))
			m := c.Meta()
			for i := range m {
				m[i] = byte(c.PacketID)
			}
			return XDPPass
		})},
		{Name: "tp", Hook: carrier.HookTracepoint, Event: EventConsumeSkb, Prog: ProgramFunc(func(c *Ctx) int {
			m, ok := c.Skb.Metadata()
			valid = append(valid, ok)
			bytes = append(bytes, append([]byte(nil), m...))
			return 0
		})},
	}
	s, _ := newStack(t, cfg, "", nil, nil)
	for i, j := range []int{1, 0, 2} {
		require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: f[j]}))
	}
	last := len(valid) - 1
	require.True(t, valid[last], "metadata still at the mac header")
	require.Equal(t, []byte{2, 2, 2, 2, 2, 2, 2, 2}, bytes[last], "the offset-0 fragment's (packet 2) metadata")
}

// TestNoAllocsIP6Reassembly: the preallocated IPv6 queues make steady-state
// reassembly free of Go heap allocations.
func TestNoAllocsIP6Reassembly(t *testing.T) {
	s, te := newStack(t, frag6Host(), "", nil, nil)
	f := frag6Frames("2001:db8::9", "2001:db8::1", 5, 192, cuts3)
	ps := []*Packet{{Frame: f[2]}, {Frame: f[0]}, {Frame: f[1]}}
	id := uint64(0)
	round := func() {
		for _, p := range ps {
			id++
			p.ID = id
			_ = s.Inject(p)
		}
	}
	for range 32 {
		round()
	}
	require.Empty(t, te.obs.drops)
	require.Len(t, te.obs.delivs, 32)
	s.obs = NopObserver{}
	require.Zero(t, testing.AllocsPerRun(200, round), "Go heap allocations per datagram")
}

// TestIP6FragQueueBound: beyond maxFragQueues incomplete datagrams the
// oldest queue is expired (FRAG_REASM_TIMEOUT), so the queues stay bounded.
func TestIP6FragQueueBound(t *testing.T) {
	s, te := newStack(t, frag6Host(), "", nil, nil)
	for i := range maxFragQueues + 2 {
		f := frag6Frames("2001:db8::9", "2001:db8::1", uint32(i), 192, cuts3[:1])[0]
		require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: f}))
	}
	require.Len(t, s.Netns("").fragDirs.v6.live, maxFragQueues)
	require.Equal(t, []string{"SKB_DROP_REASON_FRAG_REASM_TIMEOUT@ip6frag_expire_frag_queue",
		"SKB_DROP_REASON_FRAG_REASM_TIMEOUT@ip6frag_expire_frag_queue"}, te.obs.dropReasons())
	require.Equal(t, uint64(1), te.obs.drops[0].PacketID)
	_ = netip.Addr{}
}

// TestIP6AtomicFragmentCB: an atomic fragment (offset 0, no M flag) is not
// queued; ipv6_frag_rcv steps over its header and records in IP6CB the
// offset of the fragment header itself as nhoff (the byte the resubmission
// reads the next header from) and IP6SKB_FRAGMENTED.
func TestIP6AtomicFragmentCB(t *testing.T) {
	for _, tc := range []struct {
		name  string
		frame []byte
		nhoff uint16
	}{
		{"atomic fragment", frag6Frames("2001:db8::9", "2001:db8::1", 0x1234, 12, []frag6Cut{{0, 20, false}})[0], ip6Hlen},
	} {
		t.Run(tc.name, func(t *testing.T) {
			type seen struct{ nhoff, flags uint16 }
			var got []seen
			cfg := frag6Host()
			cfg.Programs = []ProgramConfig{{Name: "tp", Hook: carrier.HookTracepoint, Event: EventConsumeSkb, Prog: ProgramFunc(func(c *Ctx) int {
				h := c.Skb.H()
				got = append(got, seen{binary.LittleEndian.Uint16(h.CB[ip6cbNhoff:]), binary.LittleEndian.Uint16(h.CB[ip6cbFlags:])})
				return 0
			})}}
			s, te := newStack(t, cfg, "", nil, nil)
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: tc.frame}))
			require.Empty(t, te.obs.drops)
			require.Equal(t, []DeliverEvent{{PacketID: 1, Kind: DeliverSocket, Index: 0}}, te.obs.delivs)
			require.Equal(t, []seen{{tc.nhoff, ip6skbFragmented}}, got)
		})
	}
}
