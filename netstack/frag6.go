package netstack

import (
	"encoding/binary"
	"net/netip"

	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/skb"
)

// IPv6 reassembly limits and constants.
const (
	// maxFrag6Queues bounds the IPv6 reassembly queues of a namespace in
	// the model (the kernel bounds them by memory only): a new queue
	// beyond it expires the oldest one first, as its timer would.
	maxFrag6Queues = 64
	// ip6FragTimeout is net.ipv6.ip6frag_time (IPV6_FRAG_TIMEOUT, 60 s),
	// in the capture clock (Packet.Tstamp, ns).
	ip6FragTimeout = 60_000_000_000
	// ip6FragHighThresh is net.ipv6.ip6frag_high_thresh
	// (IPV6_FRAG_HIGH_THRESH, 4 MiB): inet_frag_find creates no queue
	// while the namespace's fragment memory is above it.
	ip6FragHighThresh = 4 << 20
	ipv6MaxPlen       = 65535 // IPV6_MAXPLEN
	fragHdrLen        = 8     // struct frag_hdr
	// ip6skbFragmented is IP6SKB_FRAGMENTED in IP6CB(skb)->flags.
	ip6skbFragmented = 16
	// IP6CB (struct inet6_skb_parm) offsets in skb->cb.
	ip6cbNhoff       = 14
	ip6cbFlags       = 16
	ip6cbFragMaxSize = 20
	// FRAG_CB (struct ipfrag_skb_cb) fields after the inet6_skb_parm.
	fragcbNextFrag  = 24 // struct sk_buff *next_frag
	fragcbRunLen    = 32 // int frag_run_len
	fragcbDefragOff = 36 // int ip_defrag_offset
)

// frag6State is a namespace's IPv6 fragment directory (net->ipv6.fqdir):
// the queues are preallocated once, so reassembly allocates nothing on the
// Go heap per datagram.
type frag6State struct {
	qs   [maxFrag6Queues]frag6Queue
	live []*frag6Queue // in creation order (the oldest timer first)
	free []*frag6Queue
	mem  int // fqdir->mem: the truesize of the queued fragments
}

// frag6Queue is struct frag_queue: the key (id, addresses, iif for
// link-local and multicast destinations), the fragments sorted by offset
// (the rb-tree of runs), INET_FRAG_FIRST_IN / LAST_IN, len, meat, the
// nhoffset of the first fragment, the ECN bits seen, max_size and stamp.
type frag6Queue struct {
	id        uint32
	src, dst  netip.Addr
	keyIIF    int32
	frags     []frag6Piece
	firstIn   bool
	lastIn    bool
	length    int // q.len
	meat      int
	nhoff     int
	ecn       uint8
	maxSize   int
	created   int64 // when inet_frag_create armed the timer
	lastRunAt int   // index of q->last_run_head in frags, -1: none
}

// frag6Piece is a queued fragment: offset and end of its data, and the
// FRAG_CB run bookkeeping (a run head carries frag_run_len).
type frag6Piece struct {
	b           *skb.Buff
	pkt         uint64
	truesize    int // charged to the fragment memory when queued
	offset, end int
	runHead     bool
	runLen      int
}

func (ns *Netns) frag6Dir() *frag6State {
	if ns.frag6 == nil {
		st := &frag6State{live: make([]*frag6Queue, 0, maxFrag6Queues), free: make([]*frag6Queue, 0, maxFrag6Queues)}
		for i := len(st.qs) - 1; i >= 0; i-- {
			st.qs[i].frags = make([]frag6Piece, 0, 8)
			st.free = append(st.free, &st.qs[i])
		}
		ns.frag6 = st
	}
	return ns.frag6
}

// ip6FragEcnTable is ip_frag_ecn_table: the ECN codepoint of the
// reassembled datagram from the IPFRAG_ECN_* bits of its fragments (0xff:
// an invalid mix, the datagram is dropped).
var ip6FragEcnTable = func() (t [16]uint8) {
	const notECT, ect1, ect0, ce = 1, 2, 4, 8
	t[ce|ect0], t[ce|ect1], t[ce|ect0|ect1] = 3, 3, 3
	for _, m := range []int{ce, ect0, ect1, ect0 | ect1, ce | ect0, ce | ect1, ce | ect0 | ect1} {
		t[notECT|m] = 0xff
	}
	return t
}()

// ipv6FragRcv models ipv6_frag_rcv() for the fragment header at fh (from
// the network header, data still at the network header) reached through
// the next-header byte at nhoff. It returns the skb to continue
// ip6_protocol_deliver_rcu with, or nil when the fragment was queued or
// dropped. atomic reports an unfragmented frame whose fragment header the
// walk steps over; otherwise the returned skb is the reassembled datagram
// (resubmit: the byte at nhoff names the header now at fh).
//
//   - IP6SKB_FRAGMENTED already set (a second fragment header), a jumbo
//     payload (payload_len 0) or a truncated header: icmpv6_param_prob
//     frees the skb (NOT_SPECIFIED);
//   - an atomic fragment (offset 0, no M flag): the header is skipped,
//     IP6CB nhoff is the fragment header's offset and the flags get
//     IP6SKB_FRAGMENTED;
//   - otherwise fq_find (the timers of expired queues fire first; no new
//     queue above ip6frag_high_thresh: REASMFAILS, kfree_skb) and
//     ip6_frag_queue.
//
// Takes ownership of skb.
func (s *Stack) ipv6FragRcv(b *skb.Buff, ns *Netns, fh, nhoff int) (_ *skb.Buff, atomic bool) {
	h := b.H()
	data := b.Data()
	flags := binary.LittleEndian.Uint16(h.CB[ip6cbFlags:])
	if flags&ip6skbFragmented != 0 || binary.BigEndian.Uint16(data[4:6]) == 0 || fh+fragHdrLen > len(data) {
		s.drop(b, skb.DropNotSpecified, OpIP6FragRcv) // fail_hdr: icmpv6_param_prob -> kfree_skb
		return nil, false
	}
	s.traceOp(LayerIP, OpIP6FragRcv, b)
	fo := binary.BigEndian.Uint16(data[fh+2 : fh+4])
	if fo&0xfff9 == 0 {
		// Not a fragmented frame: transport_header += sizeof(frag_hdr),
		// IP6CB(skb)->nhoff = (u8 *)fhdr - skb_network_header(skb): the
		// fragment header's own offset (its first byte names the next
		// header).
		binary.LittleEndian.PutUint16(h.CB[ip6cbNhoff:], uint16(fh))
		binary.LittleEndian.PutUint16(h.CB[ip6cbFlags:], flags|ip6skbFragmented)
		return b, true
	}
	binary.LittleEndian.PutUint16(h.CB[ip6cbNhoff:], uint16(nhoff))
	st := ns.frag6Dir()
	s.frag6Expire(ns, st)
	ip, _ := parseIPv6(data)
	id := binary.BigEndian.Uint32(data[fh+4 : fh+8])
	var keyIIF int32
	if ip.dst.IsMulticast() || ip.dst.IsLinkLocalUnicast() {
		keyIIF = h.Dev // fq_find: iif in the key only for these
	}
	var q *frag6Queue
	for _, x := range st.live {
		if x.id == id && x.keyIIF == keyIIF && x.src == ip.src && x.dst == ip.dst {
			q = x
			break
		}
	}
	if q == nil {
		if st.mem > ip6FragHighThresh {
			s.drop(b, skb.DropNotSpecified, OpIP6FragRcv) // inet_frag_find NULL: REASMFAILS, kfree_skb
			return nil, false
		}
		if len(st.free) == 0 {
			s.frag6Kill(st, st.live[0], skb.DropFragReasmTimeout, OpIP6FragExpire)
		}
		q = st.free[len(st.free)-1]
		st.free = st.free[:len(st.free)-1]
		q.id, q.src, q.dst, q.keyIIF, q.created, q.lastRunAt = id, ip.src, ip.dst, keyIIF, s.now, -1
		st.live = append(st.live, q)
		if !s.frag6Armed || s.now+ip6FragTimeout < s.frag6Due {
			s.frag6Armed, s.frag6Due = true, s.now+ip6FragTimeout // mod_timer(&q->timer, jiffies + timeout)
		}
	}
	return s.ip6FragQueue(b, ns, st, q, fh, nhoff, fo), false
}

// ip6FragQueue models ip6_frag_queue(): offset and end from the fragment
// header and payload_len; end > IPV6_MAXPLEN or a non-final fragment not a
// multiple of 8 is a parameter problem (icmpv6_param_prob frees it,
// NOT_SPECIFIED; the queue stays); an inconsistent last fragment or an
// empty one kills the queue (discard_fq: the queued fragments are freed
// with SKB_CONSUMED by inet_frag_destroy, the fragment with NOT_SPECIFIED);
// the fragment is pulled to its data and trimmed (pskb_pull,
// pskb_trim_rcsum), then inet_frag_queue_insert (RFC 5722: a duplicate is
// DUP_FRAG, any other overlap kills the queue). A queued fragment's dst
// is dropped; its truesize is charged to the namespace's fragment memory.
// When the first and last fragments are in and meat == len, ip6_frag_reasm
// runs on the skb that completed the queue. Takes ownership of skb.
func (s *Stack) ip6FragQueue(b *skb.Buff, ns *Netns, st *frag6State, q *frag6Queue, fh, nhoff int, fo uint16) *skb.Buff {
	data := b.Data()
	offset := int(fo &^ 7)
	more := fo&1 != 0
	plen := int(binary.BigEndian.Uint16(data[4:6]))
	end := offset + plen - (fh + fragHdrLen - ip6Hlen)
	if end > ipv6MaxPlen {
		s.drop(b, skb.DropNotSpecified, OpIP6FragRcv) // *prob_offset: icmpv6_param_prob
		return nil
	}
	ecn := uint8(1) << ((data[1] >> 4) & 3) // ip6_frag_ecn
	if !more {
		if end < q.length || (q.lastIn && end != q.length) {
			s.frag6Discard(b, st, q)
			return nil
		}
		q.lastIn, q.length = true, end
	} else {
		if end&7 != 0 {
			s.drop(b, skb.DropNotSpecified, OpIP6FragRcv) // RFC 2460: parameter problem
			return nil
		}
		if end > q.length {
			if q.lastIn {
				s.frag6Discard(b, st, q)
				return nil
			}
			q.length = end
		}
	}
	if end == offset || fh+fragHdrLen+(end-offset) > b.Len() {
		s.frag6Discard(b, st, q)
		return nil
	}
	fragsize := b.Len() // -skb_network_offset(skb) + skb->len, before the pull
	b.Pull(fh + fragHdrLen)
	b.Trim(end - offset) // pskb_trim_rcsum
	s.traceOp(LayerIP, OpIP6FragQueue, b)
	dup, overlap := q.insertCheck(offset, end)
	switch {
	case dup:
		s.drop(b, skb.DropDupFrag, OpIP6FragQueue)
		return nil
	case overlap:
		s.frag6Discard(b, st, q) // IPSTATS_MIB_REASM_OVERLAPS
		return nil
	}
	q.insert(b, s.cur, offset, end)
	q.meat += end - offset
	q.ecn |= ecn
	st.mem += b.Truesize() // add_frag_mem_limit
	q.maxSize = max(q.maxSize, fragsize)
	if offset == 0 {
		q.nhoff = nhoff
		q.firstIn = true
	}
	if q.firstIn && q.lastIn && q.meat == q.length {
		return s.ip6FragReasm(b, ns, st, q)
	}
	b.DstDrop()
	return nil
}

// insertCheck models inet_frag_queue_insert's checks: the common case (the
// fragment goes after the tail) overlaps when it starts before the tail's
// end; otherwise the binary search over the runs finds a duplicate (the
// fragment lies inside one run) or an overlap.
func (q *frag6Queue) insertCheck(offset, end int) (dup, overlap bool) {
	n := len(q.frags)
	if n == 0 {
		return false, false
	}
	last := q.frags[n-1]
	if last.end < end {
		return false, offset < last.end
	}
	for i := range q.frags {
		f := &q.frags[i]
		if !f.runHead {
			continue
		}
		runEnd := f.offset + f.runLen
		if end <= f.offset || offset >= runEnd {
			continue
		}
		return offset >= f.offset && end <= runEnd, !(offset >= f.offset && end <= runEnd)
	}
	return false, false
}

// insert adds a checked fragment: after the tail it extends the last run
// when contiguous (fragrun_append_to_last) or starts a run
// (fragrun_create); elsewhere it is its own run (fragcb_clear). FRAG_CB is
// written into the skb's cb: next_frag (NULL in the model: it keeps no
// pointers), frag_run_len and ip_defrag_offset.
func (q *frag6Queue) insert(b *skb.Buff, pkt uint64, offset, end int) {
	cb := b.H().CB[:]
	clear(cb[fragcbNextFrag : fragcbNextFrag+8])
	binary.LittleEndian.PutUint32(cb[fragcbRunLen:], uint32(end-offset))
	binary.LittleEndian.PutUint32(cb[fragcbDefragOff:], uint32(offset))
	p := frag6Piece{b: b, pkt: pkt, truesize: b.Truesize(), offset: offset, end: end, runHead: true, runLen: end - offset}
	n := len(q.frags)
	if n == 0 || q.frags[n-1].end < end {
		if n != 0 && q.frags[n-1].end == offset && q.lastRunAt >= 0 {
			// fragrun_append_to_last: the run head's frag_run_len grows.
			p.runHead = false
			r := &q.frags[q.lastRunAt]
			r.runLen += end - offset
			binary.LittleEndian.PutUint32(r.b.H().CB[fragcbRunLen:], uint32(r.runLen))
		} else {
			q.lastRunAt = n
		}
		q.frags = append(q.frags, p)
		return
	}
	i := 0
	for i < n && q.frags[i].offset < offset {
		i++
	}
	q.frags = append(q.frags, frag6Piece{})
	copy(q.frags[i+1:], q.frags[i:n])
	q.frags[i] = p
	if q.lastRunAt >= i {
		q.lastRunAt++
	}
}

// ip6FragReasm models ip6_frag_reasm() on the skb that completed queue q
// (data at its fragment's payload): inet_frag_kill; an invalid ECN mix
// fails (out_fail: the queue's fragments are freed with SKB_CONSUMED);
// inet_frag_reasm_prepare: when that skb is not the offset-0 fragment, fp
// = skb_clone(skb) takes its place in the queue, skb_morph(skb, head) makes
// it a clone of the head (its header state: cb, mark, hash, extensions,
// XDP metadata, skb_iif) and consume_skb(head), then skb_unclone(head);
// a payload_len above IPV6_MAXPLEN fails like ECN; the fragment header is
// removed: its next header is written at nhoffset, the bytes in front of
// it (headroom, metadata, mac and network headers) move up by 8 (memmove,
// mac_header and network_header += 8); inet_frag_reasm_finish: the header
// pushed back (data at the network header), tstamp and tstamp_type from
// the queue (the skb that completed it), the other fragments on frag_list
// — freed now in the linear model, whose skb keeps only the head's buffer
// (their payload is not concatenated and their truesize is not added to
// the head's) — then skb->dev = the completing fragment's device,
// payload_len, the ECN bits, IP6CB nhoff, IP6SKB_FRAGMENTED and
// frag_max_size. Returns the reassembled skb, or nil. Takes ownership of
// skb.
func (s *Stack) ip6FragReasm(b *skb.Buff, ns *Netns, st *frag6State, q *frag6Queue) *skb.Buff {
	h := b.H()
	dev, netns := h.Dev, h.Netns
	stamp, stampType := h.Tstamp, h.TstampType // fq->q.stamp / tstamp_type
	s.frag6Unlink(st, q)                       // inet_frag_kill
	ecn := ip6FragEcnTable[q.ecn&15]
	if ecn == 0xff {
		s.frag6Destroy(st, q, skb.SkbConsumed, OpIP6FragReasm)
		return nil
	}
	s.traceOp(LayerIP, OpIP6FragReasm, b)
	head := q.frags[0].b
	if head != b {
		fp, err := b.Clone()
		if err != nil {
			s.frag6Destroy(st, q, skb.SkbConsumed, OpIP6FragReasm) // out_oom
			return nil
		}
		for i := range q.frags {
			if q.frags[i].b == b {
				q.frags[i].b = fp
			}
		}
		b.Morph(head)
		saved := s.cur
		s.cur = q.frags[0].pkt
		s.consumeSkb(head) // inet_frag_reasm_prepare: consume_skb(head)
		s.cur = saved
		q.frags[0].b = b
	}
	if err := b.Unclone(); err != nil { // head of list must not be cloned
		s.frag6Destroy(st, q, skb.SkbConsumed, OpIP6FragReasm)
		return nil
	}
	hd := b.Head()
	hr := b.Headroom()
	netAbs := b.NetworkHeader()
	payloadLen := (hr - netAbs) - ip6Hlen + q.length - fragHdrLen
	if payloadLen > ipv6MaxPlen {
		s.frag6Destroy(st, q, skb.SkbConsumed, OpIP6FragReasm) // out_oversize
		return nil
	}
	hd[netAbs+q.nhoff] = hd[hr-fragHdrLen] // skb_network_header(skb)[nhoff] = frag_hdr->nexthdr
	macSet := b.MacHeaderWasSet()
	macAbs := b.MacHeader()
	if macSet {
		b.MoveMetadata(fragHdrLen) // the metadata ends at the mac header: it moves with it
	}
	copy(hd[fragHdrLen:hr], hd[:hr-fragHdrLen])
	s.acct.Op(cost.OpMemcpyByte, uint64(hr-fragHdrLen))
	if macSet {
		b.SetMacHeader(macAbs + fragHdrLen - hr)
	}
	b.SetNetworkHeader(netAbs + fragHdrLen - hr)
	b.ResetTransportHeader()
	// inet_frag_reasm_finish.
	b.Push(hr - (netAbs + fragHdrLen))
	saved := s.cur
	for _, f := range q.frags[1:] {
		s.cur = f.pkt
		f.b.ConsumeSkb() // on head's frag_list in the kernel (no tracepoint until the head is freed)
	}
	s.cur = saved
	st.mem -= q.memOf()
	nhoff, maxSize := q.nhoff, q.maxSize
	q.reset()
	st.free = append(st.free, q)
	h = b.H()
	h.Tstamp, h.TstampType = stamp, stampType
	h.Dev, h.Netns = dev, netns
	d := b.Data()
	binary.BigEndian.PutUint16(d[4:6], uint16(payloadLen))
	d[1] |= ecn << 4 // ipv6_change_dsfield(hdr, 0xff, ecn)
	binary.LittleEndian.PutUint16(h.CB[ip6cbNhoff:], uint16(nhoff))
	fl := binary.LittleEndian.Uint16(h.CB[ip6cbFlags:])
	binary.LittleEndian.PutUint16(h.CB[ip6cbFlags:], fl|ip6skbFragmented)
	binary.LittleEndian.PutUint16(h.CB[ip6cbFragMaxSize:], uint16(maxSize))
	return b
}

// memOf is the truesize the queue charged to the fragment memory.
func (q *frag6Queue) memOf() int {
	n := 0
	for _, f := range q.frags {
		n += f.truesize
	}
	return n
}

func (q *frag6Queue) reset() {
	clear(q.frags)
	*q = frag6Queue{frags: q.frags[:0], lastRunAt: -1}
}

// frag6Unlink takes q off the live list (inet_frag_kill: no more lookups,
// the timer deleted).
func (s *Stack) frag6Unlink(st *frag6State, q *frag6Queue) {
	for i, x := range st.live {
		if x == q {
			copy(st.live[i:], st.live[i+1:])
			st.live[len(st.live)-1] = nil
			st.live = st.live[:len(st.live)-1]
			return
		}
	}
}

// frag6Destroy models inet_frag_destroy() of a killed queue:
// inet_frag_rbtree_purge frees every queued fragment with reason
// (FRAG_REASM_TIMEOUT when INET_FRAG_DROP was set by the timer, else
// SKB_CONSUMED), and the memory is uncharged.
func (s *Stack) frag6Destroy(st *frag6State, q *frag6Queue, reason skb.DropReason, loc Op) {
	st.mem -= q.memOf()
	saved := s.cur
	for _, f := range q.frags {
		s.cur = f.pkt
		if reason == skb.SkbConsumed {
			s.consumeSkb(f.b)
			continue
		}
		s.drop(f.b, reason, loc)
	}
	s.cur = saved
	q.reset()
	st.free = append(st.free, q)
}

// frag6Kill is inet_frag_kill followed by the queue's destruction.
func (s *Stack) frag6Kill(st *frag6State, q *frag6Queue, reason skb.DropReason, loc Op) {
	s.frag6Unlink(st, q)
	s.frag6Destroy(st, q, reason, loc)
}

// frag6Discard models ip6_frag_queue's discard_fq: inet_frag_kill (the
// queued fragments go with SKB_CONSUMED when the queue is destroyed) and
// kfree_skb of the fragment (NOT_SPECIFIED).
func (s *Stack) frag6Discard(b *skb.Buff, st *frag6State, q *frag6Queue) {
	s.frag6Kill(st, q, skb.SkbConsumed, OpIP6FragQueue)
	s.drop(b, skb.DropNotSpecified, OpIP6FragQueue)
}

// frag6Expire models the queue timers (ip6_frag_expire ->
// ip6frag_expire_frag_queue) that fired by the current capture time:
// INET_FRAG_DROP and inet_frag_kill; the head goes with the ICMPv6 time
// exceeded error, and every fragment is freed with FRAG_REASM_TIMEOUT. The
// model runs the timers when the next IPv6 fragment reaches the namespace
// and, through frag6Timers, when any packet is injected after the earliest
// timer is due.
func (s *Stack) frag6Expire(ns *Netns, st *frag6State) {
	for len(st.live) != 0 && s.now-st.live[0].created > ip6FragTimeout {
		s.frag6Kill(st, st.live[0], skb.DropFragReasmTimeout, OpIP6FragExpire)
	}
}

// frag6Timers runs the queue timers of every namespace that are due by
// the current capture time (Stack.Inject calls it once the earliest is
// due, whatever the packet), then re-arms for the earliest left.
func (s *Stack) frag6Timers() {
	saved := s.cur
	s.frag6Armed = false
	for _, ns := range s.nss {
		st := ns.frag6
		if st == nil {
			continue
		}
		s.frag6Expire(ns, st)
		if len(st.live) != 0 {
			due := st.live[0].created + ip6FragTimeout
			if !s.frag6Armed || due < s.frag6Due {
				s.frag6Armed, s.frag6Due = true, due
			}
		}
	}
	s.cur = saved
}

// closeFrag6 frees the namespace's queued IPv6 fragments (Stack.Close).
func (s *Stack) closeFrag6(ns *Netns) {
	st := ns.frag6
	if st == nil {
		return
	}
	for len(st.live) != 0 {
		q := st.live[0]
		s.frag6Unlink(st, q)
		st.mem -= q.memOf()
		for _, f := range q.frags {
			s.cur = f.pkt
			f.b.ConsumeSkb()
		}
		q.reset()
		st.free = append(st.free, q)
	}
}
