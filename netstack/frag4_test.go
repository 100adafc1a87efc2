package netstack

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/skb"
)

// frag4Cut is one IPv4 fragment of a test datagram: the byte range [off,
// off+n) of the UDP header and payload, the MF and DF flags.
type frag4Cut struct {
	off, n   int
	more, df bool
}

// frag4Frames builds an Ethernet + IPv4 + UDP datagram from 192.0.2.9 to
// 192.0.2.1:9999 with payload bytes and returns the fragments cuts
// describes (identification id).
func frag4Frames(id uint16, payload int, cuts []frag4Cut) [][]byte {
	body := make([]byte, udpHlen+payload)
	binary.BigEndian.PutUint16(body[0:2], 40000)
	binary.BigEndian.PutUint16(body[2:4], 9999)
	binary.BigEndian.PutUint16(body[4:6], uint16(len(body)))
	var out [][]byte
	for _, c := range cuts {
		f := make([]byte, ethHlen+ipHlen+c.n)
		writeEth(f, macNIC, macB, ethPIP)
		ip := f[ethHlen:]
		writeIPv4(ip, 0, ipHlen+c.n, id, c.df, 64, ipprotoUDP, addr("192.0.2.9"), addr("192.0.2.1"))
		fo := uint16(c.off / 8)
		if c.more {
			fo |= ipMF
		}
		if c.df {
			fo |= ipDF
		}
		binary.BigEndian.PutUint16(ip[6:8], fo)
		setIPCsum(ip, ipHlen)
		if c.off < len(body) {
			copy(ip[ipHlen:], body[c.off:min(len(body), c.off+c.n)])
		}
		out = append(out, f)
	}
	return out
}

// cuts4 are three fragments of a 200-byte datagram (8 + 192): 0-80,
// 80-160, 160-200.
var cuts4 = []frag4Cut{{0, 80, true, false}, {80, 80, true, false}, {160, 40, false, false}}

// TestIPReassemblyQueue: ip_frag_queue with inet_frag_queue_insert's runs
// (RFC 5722 as IPv6 does: a fragment inside a run is DUP_FRAG and the
// queue stays; any other overlap is IPSTATS_MIB_REASM_OVERLAPS and
// discard_qp kills the queue, the queued fragments consumed by
// inet_frag_destroy, the offending one kfree_skb_reason(NOT_SPECIFIED)),
// and ip_frag_queue's own checks (inconsistent or early last fragment,
// empty fragment: discard_qp).
func TestIPReassemblyQueue(t *testing.T) {
	f := frag4Frames(7, 192, cuts4)
	one := func(c frag4Cut) []byte { return frag4Frames(7, 192, []frag4Cut{c})[0] }
	dupInside := one(frag4Cut{80, 40, true, false})     // inside the run 0..160 once 0 and 80 are queued
	overlap := one(frag4Cut{40, 80, true, false})       // 40..120 across a run's end
	overlapTail := one(frag4Cut{120, 80, false, false}) // starts before the tail's end
	badLast := one(frag4Cut{120, 40, false, false})     // a second last fragment ending elsewhere
	empty := one(frag4Cut{80, 0, true, false})
	for _, tc := range []struct {
		name     string
		frames   [][]byte
		delivs   []uint64
		drops    []string
		consumed []uint64 // packet ids freed by consume_skb (the tracepoint)
	}{
		{"in order", [][]byte{f[0], f[1], f[2]}, []uint64{3}, nil, []uint64{1, 3}},
		{"duplicate at the same offset", [][]byte{f[0], f[0], f[1], f[2]}, []uint64{4},
			[]string{"SKB_DROP_REASON_DUP_FRAG@ip_defrag"}, []uint64{1, 4}},
		{"fragment inside a run is a duplicate", [][]byte{f[0], f[1], dupInside, f[2]}, []uint64{4},
			[]string{"SKB_DROP_REASON_DUP_FRAG@ip_defrag"}, []uint64{1, 4}},
		{"overlap inside the tree kills the queue", [][]byte{f[0], f[2], overlap}, nil,
			[]string{"SKB_DROP_REASON_NOT_SPECIFIED@ip_defrag"}, []uint64{1, 2}},
		{"overlap with the tail kills the queue", [][]byte{f[0], f[1], overlapTail}, nil,
			[]string{"SKB_DROP_REASON_NOT_SPECIFIED@ip_defrag"}, []uint64{1, 2}},
		{"inconsistent last fragment kills the queue", [][]byte{f[0], f[2], badLast}, nil,
			[]string{"SKB_DROP_REASON_NOT_SPECIFIED@ip_defrag"}, []uint64{1, 2}},
		{"empty fragment kills the queue", [][]byte{f[0], empty}, nil,
			[]string{"SKB_DROP_REASON_NOT_SPECIFIED@ip_defrag"}, []uint64{1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var consumed []uint64
			cfg := rxToSocketConfig()
			cfg.Programs = []ProgramConfig{{Name: "tp", Hook: carrier.HookTracepoint, Event: EventConsumeSkb,
				Prog: ProgramFunc(func(c *Ctx) int { consumed = append(consumed, c.PacketID); return 0 })}}
			s, te := newStack(t, cfg, "", nil, nil)
			for i, fr := range tc.frames {
				require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: fr}))
			}
			var got []uint64
			for _, d := range te.obs.delivs {
				got = append(got, d.PacketID)
			}
			require.Equal(t, tc.delivs, got)
			require.Equal(t, tc.drops, te.obs.dropReasons())
			require.Equal(t, tc.consumed, consumed)
			require.Empty(t, s.Netns("").fragDirs.v4.live, "no queue left behind")
			require.Zero(t, s.Netns("").fragDirs.v4.mem)
		})
	}
}

// TestIPFragReasmDF: ip_frag_reasm sets frag_off = IP_DF and
// IPCB(skb)->flags |= IPSKB_FRAG_PMTU when the largest fragment carried DF
// (max_df_size == max_size), else frag_off 0; IPCB frag_max_size is
// max(max_df_size, max_size). A tc ingress program on lo would not see it,
// so a socket filter reads the reassembled skb's IP header and IPCB.
func TestIPFragReasmDF(t *testing.T) {
	type seen struct {
		fragOff, flags, maxSize uint16
	}
	for _, tc := range []struct {
		name string
		cuts []frag4Cut
		want seen
	}{
		{"no DF", cuts4, seen{0, 0, ipHlen + 80}},
		{"DF on every fragment", []frag4Cut{{0, 80, true, true}, {80, 80, true, true}, {160, 40, false, true}},
			seen{ipDF, ipskbFragPMTU, ipHlen + 80}},
		{"DF only on a small fragment", []frag4Cut{{0, 80, true, false}, {80, 80, true, false}, {160, 40, false, true}},
			seen{0, 0, ipHlen + 80}},
		{"DF on the largest fragment", []frag4Cut{{0, 80, true, true}, {80, 80, true, false}, {160, 40, false, false}},
			seen{ipDF, ipskbFragPMTU, ipHlen + 80}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []seen
			cfg := rxToSocketConfig()
			cfg.Programs = []ProgramConfig{{Name: "tp", Hook: carrier.HookTracepoint, Event: EventConsumeSkb,
				Prog: ProgramFunc(func(c *Ctx) int {
					h := c.Skb.H()
					nh := c.Skb.Head()[c.Skb.NetworkHeader():]
					got = append(got, seen{binary.BigEndian.Uint16(nh[6:8]),
						binary.LittleEndian.Uint16(h.CB[ipcbFlags:]), binary.LittleEndian.Uint16(h.CB[ipcbFragMaxSize:])})
					return 0
				})}}
			s, te := newStack(t, cfg, "", nil, nil)
			for i, fr := range frag4Frames(9, 192, tc.cuts) {
				require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: fr}))
			}
			require.Empty(t, te.obs.drops)
			require.Len(t, te.obs.delivs, 1)
			require.Equal(t, tc.want, got[len(got)-1], "the datagram the socket read")
		})
	}
}

// TestIPFragReasmUncloneFails: when inet_frag_reasm_prepare cannot unclone
// the head (a held tap clone shares it and pskb_expand_head fails),
// ip_frag_reasm fails and ip_frag_queue's inet_frag_kill destroys the
// queue: inet_frag_destroy frees every queued fragment, the one that
// completed it included, with SKB_CONSUMED. Nothing is dropped.
func TestIPFragReasmUncloneFails(t *testing.T) {
	var consumed []uint64
	cfg := rxToSocketConfig()
	cfg.Taps = []TapConfig{{Name: "dump", Dev: "eth0", Dir: TapRX, Hold: true}}
	cfg.Programs = []ProgramConfig{{Name: "tp", Hook: carrier.HookTracepoint, Event: EventConsumeSkb,
		Prog: ProgramFunc(func(c *Ctx) int { consumed = append(consumed, c.PacketID); return 0 })}}
	s, te := newStack(t, cfg, "", nil, nil)
	f := frag4Frames(11, 192, cuts4)
	require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f[1]}))
	require.NoError(t, s.Inject(&Packet{ID: 2, Frame: f[2]}))
	// The second small-head allocation of the packet: the driver's
	// buffer, then pskb_expand_head's new head.
	te.a.Accountant().SetFault(kmem.Fault{Nth: 2, Site: kmem.RegisterSite("skbuff_small_head")})
	require.NoError(t, s.Inject(&Packet{ID: 3, Frame: f[0]})) // the head completes the queue
	te.a.Accountant().SetFault(kmem.Fault{})
	require.Empty(t, te.obs.drops, "inet_frag_destroy consumes, nothing is dropped")
	require.Empty(t, te.obs.delivs)
	require.ElementsMatch(t, []uint64{1, 2, 3}, consumed)
	require.Empty(t, s.Netns("").fragDirs.v4.live)
}

// TestIPFragExpire: ip_expire fires ipfrag_time (30 s) after the queue was
// created, on the capture clock, before whatever packet comes next: the
// queued fragments are freed with FRAG_REASM_TIMEOUT.
func TestIPFragExpire(t *testing.T) {
	f := frag4Frames(3, 192, cuts4)
	plain := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "192.0.2.1", sport: 1, dport: 9999, payload: 8})
	timeout := "SKB_DROP_REASON_FRAG_REASM_TIMEOUT@ip_defrag"
	for _, tc := range []struct {
		name   string
		frames [][]byte
		at     []int64 // seconds
		delivs []uint64
		drops  []string
	}{
		{"within the timeout", [][]byte{f[0], f[1], f[2]}, []int64{0, 20, 29}, []uint64{3}, nil},
		{"expired before the next fragment", [][]byte{f[0], f[1], f[2]}, []int64{0, 10, 31}, nil, []string{timeout, timeout}},
		{"expired before any later packet", [][]byte{f[0], plain}, []int64{0, 31}, []uint64{2}, []string{timeout}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := rxToSocketConfig()
			cfg.Options.RxTimestamps = true
			s, te := newStack(t, cfg, "", nil, nil)
			for i, fr := range tc.frames {
				require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: fr, Tstamp: tc.at[i] * 1e9}))
			}
			var got []uint64
			for _, d := range te.obs.delivs {
				got = append(got, d.PacketID)
			}
			require.Equal(t, tc.delivs, got)
			require.Equal(t, tc.drops, te.obs.dropReasons())
		})
	}
}

// TestIPReasmLayout: the reassembled datagram holds every byte
// (inet_frag_reasm_finish): with ip_frag_coalesce_ok (local delivery),
// skb_try_coalesce copies small fragments into the head's tailroom and
// steals the page-fragment heads of large ones; a fragment it cannot take
// (a kmalloc'ed head, or any after the first frag_list skb) goes on the
// frag_list, and is freed with the datagram with its own consume_skb
// tracepoint, on behalf of the packet it came with. The socket filter
// reads the whole datagram and the UDP layer sees its full length.
func TestIPReasmLayout(t *testing.T) {
	type layout struct {
		len, headlen, nrFrags, fragList int
	}
	big := []frag4Cut{{0, 1480, true, false}, {1480, 1480, true, false}, {2960, 1056, false, false}}
	for _, tc := range []struct {
		name     string
		payload  int
		cuts     []frag4Cut
		want     layout
		consumed []uint64
	}{
		{"small fragments into the tailroom", 192, cuts4, layout{ipHlen + 200, ipHlen + 200, 0, 0}, []uint64{1, 3}},
		{"page-fragment heads stolen", 4008, big, layout{ipHlen + 4016, ipHlen + 1480, 2, 0}, []uint64{1, 3}},
		{"tiny first fragment", 4008, []frag4Cut{{0, 8, true, false}, {8, 2952, true, false}, {2960, 1056, false, false}},
			layout{ipHlen + 4016, ipHlen + 8, 2, 0}, []uint64{1, 3}},
		// 200-byte fragments get small kmalloc'ed heads (netdev_alloc_skb)
		// with too little tailroom: the morphed-away first fragment (1),
		// the datagram (3), then its frag_list: fragment 2 and the clone
		// of fragment 3 that took its place in the queue.
		{"kmalloc'ed heads on the frag_list", 592, []frag4Cut{{0, 200, true, false}, {200, 200, true, false}, {400, 200, false, false}},
			layout{ipHlen + 600, ipHlen + 200, 0, 2}, []uint64{1, 3, 2, 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []layout
			var consumed []uint64
			body := frag4Frames(9, tc.payload, []frag4Cut{{0, udpHlen + tc.payload, false, false}})[0][ethHlen+ipHlen:]
			cfg := rxToSocketConfig()
			cfg.Programs = []ProgramConfig{
				{Name: "filter", Hook: carrier.HookSocketFilter, Socket: "app", Prog: ProgramFunc(func(c *Ctx) int {
					b := c.Skb
					all := make([]byte, b.Len())
					require.NoError(t, b.CopyBits(0, all))
					require.Equal(t, body, all, "the UDP header and payload, in order")
					got = append(got, layout{b.Len() + b.Headroom() - b.NetworkHeader(), b.Headlen() + b.Headroom() - b.NetworkHeader(),
						b.NrFrags(), len(b.FragList(nil))})
					return -1
				})},
				{Name: "tp", Hook: carrier.HookTracepoint, Event: EventConsumeSkb,
					Prog: ProgramFunc(func(c *Ctx) int { consumed = append(consumed, c.PacketID); return 0 })},
			}
			s, te := newStack(t, cfg, "", nil, nil)
			for i, fr := range frag4Frames(9, tc.payload, tc.cuts) {
				require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: fr}))
			}
			require.Empty(t, te.obs.drops)
			require.Len(t, te.obs.delivs, 1)
			require.Equal(t, []layout{tc.want}, got)
			require.Equal(t, tc.consumed, consumed)
		})
	}
}

// TestIPReasmSkbHashOrphans: under the skb-hash design, the entry tc
// ingress wrote for a fragment that reassembly coalesces into the datagram
// (skb_try_coalesce, then kfree_skb_partial: no kfree_skb / consume_skb
// tracepoint) is never reaped, and a later skb allocated in the same
// sk_buff object reads it (a stale read).
func TestIPReasmSkbHashOrphans(t *testing.T) {
	big := []frag4Cut{{0, 1480, true, false}, {1480, 1480, true, false}, {2960, 1056, false, false}}
	cfg := rxToSocketConfig()
	cfg.Programs = []ProgramConfig{
		{Name: "rw", Hook: carrier.HookTCIngress, Dev: "eth0", Actions: []Action{{Kind: ActRead, Map: 0}, {Kind: ActWrite, Map: 0, Value: 1}}},
	}
	var car carrier.Carrier
	s, te := newStack(t, cfg, "", func(env carrier.Env) carrier.Carrier {
		car = rfcCarrier(carrier.NameSkbHash, oneMap)(env)
		return car
	}, oneMap)
	for i, fr := range frag4Frames(9, 4008, big) {
		require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: fr}))
	}
	require.Len(t, te.obs.delivs, 1)
	st, _ := carrier.StatsOf(car)
	require.Equal(t, uint64(3), st.Stores)
	// The morphed-away first fragment (consume_skb in
	// inet_frag_reasm_prepare) and the datagram (the last fragment's
	// sk_buff after skb_morph) are reaped; the second fragment, whose head
	// was stolen, leaves an orphan (the clone standing for the last one in
	// the queue has no entry: the map does not copy on clone).
	require.Equal(t, uint64(2), st.Reaped)
	// Later packets reuse the freed sk_buff objects and find them.
	for i := range 16 {
		require.NoError(t, s.Inject(&Packet{ID: uint64(10 + i), Frame: rxFrame("192.0.2.1")}))
	}
	st, _ = carrier.StatsOf(car)
	require.Equal(t, uint64(1), st.StaleReads)
}

// TestPropertyIP4Reassembly: a UDP datagram of random size cut into random
// 8-byte-aligned fragments (small kmalloc'ed heads and page-fragment heads
// mixed), sent in a random order, some twice, is reassembled into one skb
// holding every byte in order, however skb_try_coalesce and the frag_list
// shared them out; a socket filter that trims it (pskb_trim across the
// page fragments and the frag_list) leaves the right prefix; nothing
// leaks.
func TestPropertyIP4Reassembly(t *testing.T) {
	setRapidSeed(t)
	rapid.Check(t, func(rt *rapid.T) {
		payload := rapid.IntRange(16, 6000).Draw(rt, "payload")
		body := udpHlen + payload
		var cuts []frag4Cut
		for off := 0; off < body; {
			n := 8 * rapid.IntRange(1, 190).Draw(rt, "len8")
			if off+n >= body {
				n = body - off
			}
			cuts = append(cuts, frag4Cut{off: off, n: n, more: off+n < body})
			off += n
		}
		frames := frag4Frames(11, payload, cuts)
		order := rapid.Permutation(frames).Draw(rt, "order")
		if len(cuts) > 1 && rapid.Bool().Draw(rt, "dup") {
			order = append([][]byte{order[0]}, order...) // a duplicate: DUP_FRAG
		}
		trim := rapid.IntRange(udpHlen, body).Draw(rt, "trim")
		want := frag4Frames(11, payload, []frag4Cut{{0, body, false, false}})[0][ethHlen+ipHlen:]
		var got [][]byte
		type freed struct {
			pkt   uint64
			bytes []byte
		}
		var consumed []freed
		a := skb.NewAllocator(kmem.New(), skb.DefaultProfile())
		cfg := rxToSocketConfig()
		cfg.Programs = []ProgramConfig{
			{Name: "filter", Hook: carrier.HookSocketFilter, Socket: "app", Prog: ProgramFunc(func(c *Ctx) int {
				all := make([]byte, c.Skb.Len())
				require.NoError(rt, c.Skb.CopyBits(0, all))
				got = append(got, all)
				return trim
			})},
			{Name: "tp", Hook: carrier.HookTracepoint, Event: EventConsumeSkb, Prog: ProgramFunc(func(c *Ctx) int {
				all := make([]byte, c.Skb.Len())
				require.NoError(rt, c.Skb.CopyBits(0, all))
				consumed = append(consumed, freed{c.PacketID, all})
				return 0
			})},
		}
		rec := &recorder{}
		s, err := New(cfg, Env{Alloc: a, Observer: rec})
		require.NoError(rt, err)
		for i, f := range order {
			require.NoError(rt, s.Inject(&Packet{ID: uint64(i + 1), Frame: f}))
		}
		require.Equal(rt, [][]byte{want}, got)
		require.Len(rt, rec.delivs, 1)
		// The datagram goes on behalf of the fragment that completed it.
		read := 0
		for _, c := range consumed {
			if c.pkt == uint64(len(order)) && bytes.Equal(c.bytes, want[:trim]) {
				read++
			}
		}
		require.Equal(rt, 1, read, "the socket read the trimmed datagram")
		require.NoError(rt, s.Close())
		require.NoError(rt, a.CheckLeaks())
	})
}

// rawFrag4 returns the Ethernet frame of one IPv4 fragment from 192.0.2.1
// to 192.0.2.2 (identification id, protocol proto) carrying body[off:off+n].
func rawFrag4(body []byte, id uint16, proto uint8, off, n int, more bool) []byte {
	f := make([]byte, ethHlen+ipHlen+n)
	writeEth(f, macNIC, macB, ethPIP)
	writeIPv4(f[ethHlen:], 0, ipHlen+n, id, false, 64, proto, addr("192.0.2.1"), addr("192.0.2.2"))
	fo := uint16(off / 8)
	if more {
		fo |= ipMF
	}
	binary.BigEndian.PutUint16(f[ethHlen+6:], fo)
	setIPCsum(f[ethHlen:], ipHlen)
	copy(f[ethHlen+ipHlen:], body[off:off+n])
	return f
}

// TestVXLANOverTinyFirstFragment: a VXLAN datagram whose first fragment
// carries only the outer UDP header is reassembled with the VXLAN and
// inner headers past the linear data; vxlan_rcv's pskb_may_pull brings
// them in, and the inner packet reaches tc ingress on the VXLAN device
// whole.
func TestVXLANOverTinyFirstFragment(t *testing.T) {
	var innerLen []int
	cfg := &Config{
		Devices: []DeviceConfig{
			{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("192.0.2.2/24")}},
			{Name: "vx0", Kind: KindVXLAN, MAC: macA, VNI: 42, Remote: addr("192.0.2.1"), Addrs: []netip.Prefix{pfx("198.51.100.2/24")}},
		},
		Sockets: []SocketConfig{{Name: "app", Proto: ProtoUDP, Port: 9999}},
		Programs: []ProgramConfig{{Name: "inner", Hook: carrier.HookTCIngress, Dev: "vx0", Prog: ProgramFunc(func(c *Ctx) int {
			innerLen = append(innerLen, c.Skb.Len())
			return TCXNext
		})}},
	}
	s, te := newStack(t, cfg, "", nil, nil)
	in := buildFrame(frameOpts{dstMAC: macA, srcMAC: macB, src: "198.51.100.1", dst: "198.51.100.2", sport: 1, dport: 9999, payload: 2000})
	body := make([]byte, udpHlen+vxlanHlen+len(in))
	writeUDP(body, 50000, 4789, len(body))
	vx := body[udpHlen:]
	vx[0] = 0x08
	vx[6] = 42
	copy(vx[vxlanHlen:], in)
	frag := func(off, n int, more bool) []byte { return rawFrag4(body, 5, ipprotoUDP, off, n, more) }
	for i, f := range [][]byte{frag(0, 8, true), frag(8, 1480, true), frag(1488, len(body)-1488, false)} {
		require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: f}))
	}
	require.Empty(t, te.obs.dropReasons())
	require.Equal(t, []int{len(in)}, innerLen, "the inner frame, from its mac header")
	require.Len(t, te.obs.delivs, 1)
}

// TestGRECsumOverReassembly: a checksummed GRE datagram reassembled from
// fragments is validated over all its bytes (skb_checksum_simple_validate
// walks the fragments), so a correct checksum is accepted and a wrong
// one, in a byte past the first fragment, is not.
func TestGRECsumOverReassembly(t *testing.T) {
	for _, tc := range []struct {
		name    string
		corrupt bool
	}{{"checksum right", false}, {"checksum wrong", true}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &Config{
				Devices: []DeviceConfig{
					{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("192.0.2.2/24")}},
					{Name: "gre0", Kind: KindGRE, Local: addr("192.0.2.2"), Remote: addr("192.0.2.1"), Addrs: []netip.Prefix{pfx("10.9.0.2/24")}},
				},
				Sockets: []SocketConfig{{Name: "app", Proto: ProtoUDP, Port: 9999}},
			}
			s, te := newStack(t, cfg, "", nil, nil)
			in := buildFrame(frameOpts{src: "10.9.0.1", dst: "10.9.0.2", sport: 1, dport: 9999, payload: 2000, noEth: true})
			body := make([]byte, 8+len(in)) // GRE with the checksum word
			binary.BigEndian.PutUint16(body[0:2], greFlagCsum)
			binary.BigEndian.PutUint16(body[2:4], ethPIP)
			copy(body[8:], in)
			binary.BigEndian.PutUint16(body[4:6], ipCsumBytePairs(body))
			if tc.corrupt {
				body[1800] ^= 0xff
			}
			for i, f := range [][]byte{rawFrag4(body, 6, ipprotoGRE, 0, 1480, true), rawFrag4(body, 6, ipprotoGRE, 1480, len(body)-1480, false)} {
				require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: f}))
			}
			if tc.corrupt {
				require.Equal(t, []string{"SKB_DROP_REASON_NOT_SPECIFIED@gre_rcv"}, te.obs.dropReasons())
				return
			}
			require.Empty(t, te.obs.dropReasons())
			require.Len(t, te.obs.delivs, 1)
		})
	}
}
