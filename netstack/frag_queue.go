package netstack

import (
	"encoding/binary"
	"net/netip"

	"github.com/skbsim/skbsim/skb"
)

// The reassembly machinery both families share (net/ipv4/inet_fragment.c):
// the per-namespace queue directory (struct fqdir), the queue (struct
// inet_frag_queue) with its runs of fragments, inet_frag_queue_insert,
// inet_frag_reasm_prepare, inet_frag_reasm_finish, inet_frag_kill and
// inet_frag_destroy. ip_frag_queue / ip_frag_reasm (frag.go) and
// ip6_frag_queue / ip6_frag_reasm (frag6.go) keep their own checks.

// Reassembly limits and FRAG_CB layout.
const (
	// maxFragQueues bounds the reassembly queues of a namespace per family
	// in the model (the kernel bounds them by memory only): a new queue
	// beyond it expires the oldest one first, as its timer would.
	maxFragQueues = 64
	// fragHighThresh is ipfrag_high_thresh / ip6frag_high_thresh (4 MiB):
	// inet_frag_find creates no queue while the directory's fragment
	// memory is above it.
	fragHighThresh = 4 << 20
	// FRAG_CB (struct ipfrag_skb_cb) fields after the inet_skb_parm /
	// inet6_skb_parm union (24 bytes either way).
	fragcbNextFrag  = 24 // struct sk_buff *next_frag
	fragcbRunLen    = 32 // int frag_run_len
	fragcbDefragOff = 36 // int ip_defrag_offset
)

// fqDir is a namespace's directory of one family (net->ipv4.fqdir or
// net->ipv6.fqdir): the queues are preallocated once, so reassembly
// allocates nothing on the Go heap per datagram.
type fqDir struct {
	qs      [maxFragQueues]fragQueue
	live    []*fragQueue // in creation order (the oldest timer first)
	free    []*fragQueue
	mem     int   // fqdir->mem: the truesize of the queued fragments
	timeout int64 // fqdir->timeout in the capture clock (ns)
}

// fragDirs holds a namespace's two directories (net->ipv4.fqdir,
// net->ipv6.fqdir); allocated at the first fragment of either family.
type fragDirs struct {
	v4, v6 fqDir
}

// fragQueue is struct inet_frag_queue with the family parts (struct ipq,
// struct frag_queue): the key (id, addresses, protocol for IPv4, iif for
// IPv6 link-local and multicast destinations), the fragments sorted by
// offset (the rb-tree of runs), INET_FRAG_FIRST_IN / LAST_IN, len, meat,
// the ECN bits seen, max_size, max_df_size (IPv4), the nhoffset of the
// first fragment (IPv6) and when the timer was armed.
type fragQueue struct {
	id        uint32
	src, dst  netip.Addr
	proto     uint8 // IPv4 key
	keyIIF    int32 // IPv6 key
	frags     []fragPiece
	firstIn   bool
	lastIn    bool
	length    int // q.len
	meat      int
	nhoff     int // IPv6: nhoffset
	ecn       uint8
	maxSize   int
	maxDFSize int   // IPv4: qp->max_df_size
	created   int64 // when inet_frag_create armed the timer
	lastRunAt int   // index of q->last_run_head in frags, -1: none
}

// fragPiece is a queued fragment: offset and end of its data, and the
// FRAG_CB run bookkeeping (a run head carries frag_run_len).
type fragPiece struct {
	b           *skb.Buff
	pkt         uint64
	truesize    int // charged to the fragment memory when queued
	offset, end int
	runHead     bool
	runLen      int
}

// fragDirsOf returns the namespace's directories, allocating them at the
// first fragment.
func (ns *Netns) fragDirsOf() *fragDirs {
	if ns.fragDirs == nil {
		st := &fragDirs{}
		st.v4.init(ipFragTimeout)
		st.v6.init(ip6FragTimeout)
		ns.fragDirs = st
	}
	return ns.fragDirs
}

func (d *fqDir) init(timeout int64) {
	d.timeout = timeout
	d.live = make([]*fragQueue, 0, maxFragQueues)
	d.free = make([]*fragQueue, 0, maxFragQueues)
	for i := len(d.qs) - 1; i >= 0; i-- {
		d.qs[i].frags = make([]fragPiece, 0, 8)
		d.free = append(d.free, &d.qs[i])
	}
}

// create models inet_frag_create: a queue from the free list (the oldest
// live one expired first when none is left, with loc as the timer's
// location), its timer armed at now + timeout.
func (s *Stack) fragCreate(d *fqDir, expireLoc Op) *fragQueue {
	if len(d.free) == 0 {
		s.fragKill(d, d.live[0], skb.DropFragReasmTimeout, expireLoc)
	}
	q := d.free[len(d.free)-1]
	d.free = d.free[:len(d.free)-1]
	q.created, q.lastRunAt = s.now, -1
	d.live = append(d.live, q)
	if !s.fragArmed || s.now+d.timeout < s.fragDue {
		s.fragArmed, s.fragDue = true, s.now+d.timeout // mod_timer(&q->timer, jiffies + timeout)
	}
	return q
}

// stolenDst is the completing fragment's dst that ip_frag_queue and
// ip6_frag_queue keep out of the reassembly (orefdst = skb->_skb_refdst;
// skb->_skb_refdst = 0UL) so skb_morph does not release it, and put back
// afterwards, whether the reassembly succeeded or not.
type stolenDst struct {
	ref   skb.Ref
	noref bool
}

func stealDst(b *skb.Buff) stolenDst {
	r, n := b.Dst()
	b.DstSet(nil) // clears without releasing
	return stolenDst{r, n}
}

// restore writes the dst back as the plain assignment does (slow_gro
// untouched).
func (d stolenDst) restore(b *skb.Buff) {
	h := b.H()
	sg := h.SlowGRO
	if d.noref {
		b.DstSetNoref(d.ref)
	} else {
		b.DstSet(d.ref)
	}
	h.SlowGRO = sg
}

// fragInsertResult is inet_frag_queue_insert's return.
type fragInsertResult uint8

const (
	ipfragOK fragInsertResult = iota
	ipfragDup
	ipfragOverlap
)

// queueInsert models inet_frag_queue_insert() (RFC 5722, amended by
// erratum 3089): the common case (the fragment goes after the tail)
// overlaps when it starts before the tail's end, else it extends the last
// run when contiguous (fragrun_append_to_last) or starts a run
// (fragrun_create); otherwise the search over the runs finds a duplicate
// (the fragment lies inside one run: IPFRAG_DUP), an overlap
// (IPFRAG_OVERLAP) or its place, where it is its own run (fragcb_clear).
// FRAG_CB is written into the skb's cb: next_frag (NULL in the model: it
// keeps no pointers), frag_run_len and ip_defrag_offset.
func (q *fragQueue) queueInsert(b *skb.Buff, pkt uint64, offset, end int) fragInsertResult {
	n := len(q.frags)
	if n != 0 {
		last := q.frags[n-1]
		if last.end < end {
			if offset < last.end {
				return ipfragOverlap
			}
		} else {
			for i := range q.frags {
				f := &q.frags[i]
				if !f.runHead {
					continue
				}
				runEnd := f.offset + f.runLen
				if end <= f.offset || offset >= runEnd {
					continue
				}
				if offset >= f.offset && end <= runEnd {
					return ipfragDup
				}
				return ipfragOverlap
			}
		}
	}
	cb := b.H().CB[:]
	clear(cb[fragcbNextFrag : fragcbNextFrag+8])
	binary.LittleEndian.PutUint32(cb[fragcbRunLen:], uint32(end-offset))
	binary.LittleEndian.PutUint32(cb[fragcbDefragOff:], uint32(offset))
	p := fragPiece{b: b, pkt: pkt, truesize: b.Truesize(), offset: offset, end: end, runHead: true, runLen: end - offset}
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
		return ipfragOK
	}
	i := 0
	for i < n && q.frags[i].offset < offset {
		i++
	}
	q.frags = append(q.frags, fragPiece{})
	copy(q.frags[i+1:], q.frags[i:n])
	q.frags[i] = p
	if q.lastRunAt >= i {
		q.lastRunAt++
	}
	return ipfragOK
}

// reasmPrepare models inet_frag_reasm_prepare() on the skb b that
// completed q: when b is not the offset-0 fragment, fp = skb_clone(b)
// takes its place in the queue, skb_morph(b, head) makes b a clone of the
// head (its header state: cb, mark, hash, extensions, XDP metadata,
// skb_iif) and consume_skb(head); then skb_unclone(head) (a head still
// shared, e.g. with a held tap clone, gets a private copy). false: the
// clone or the unclone failed (the caller's out_oom / out_nomem; the queue
// keeps every fragment, b included).
func (s *Stack) reasmPrepare(q *fragQueue, b *skb.Buff) bool {
	head := q.frags[0].b
	if head != b {
		fp, err := b.Clone()
		if err != nil {
			return false
		}
		for i := range q.frags {
			if q.frags[i].b == b {
				q.frags[i].b = fp
			}
		}
		b.Morph(head)
		saved := s.cur
		s.cur = q.frags[0].pkt
		s.consumeSkb(head) // consume_skb(head)
		s.cur = saved
		q.frags[0].b = b
	}
	return b.Unclone() == nil // head of list must not be cloned
}

// reasmFinish models inet_frag_reasm_finish() once the caller pushed the
// head back to its network header: the other fragments, in order, are
// added to the head. With tryCoalesce (ip_frag_coalesce_ok: IPv4 local
// delivery; always for IPv6) skb_try_coalesce copies a fragment into the
// head's tailroom or steals its page-fragment head, and kfree_skb_partial
// frees the rest of it with no tracepoint; otherwise, or when that fails (a
// kmalloc'ed head, a frag_list already started), the fragment goes on the
// head's frag_list, where it lives until the datagram is freed and then
// gets its own kfree_skb / consume_skb tracepoint (Stack.listFree). The
// memory is uncharged, head->tstamp and tstamp_type are q->stamp (those of
// the fragment that completed the queue, which the caller passes), and the
// queue goes back to the free list.
func (s *Stack) reasmFinish(d *fqDir, q *fragQueue, head *skb.Buff, stamp int64, stampType skb.TstampType, tryCoalesce bool) {
	for _, f := range q.frags[1:] {
		if tryCoalesce {
			if ok, stolen, _ := head.TryCoalesce(f.b); ok {
				f.b.FreePartial(stolen)
				continue
			}
		}
		head.AppendFragList(f.b)
		if s.listPkt != nil {
			s.listPkt[f.b] = f.pkt
		}
	}
	d.mem -= q.memOf()
	q.reset()
	d.free = append(d.free, q)
	h := head.H()
	h.Tstamp, h.TstampType = stamp, stampType
}

// memOf is the truesize the queue charged to the fragment memory.
func (q *fragQueue) memOf() int {
	n := 0
	for _, f := range q.frags {
		n += f.truesize
	}
	return n
}

func (q *fragQueue) reset() {
	clear(q.frags)
	*q = fragQueue{frags: q.frags[:0], lastRunAt: -1}
}

// fragUnlink takes q off the live list (inet_frag_kill: no more lookups,
// the timer deleted).
func (d *fqDir) fragUnlink(q *fragQueue) {
	for i, x := range d.live {
		if x == q {
			copy(d.live[i:], d.live[i+1:])
			d.live[len(d.live)-1] = nil
			d.live = d.live[:len(d.live)-1]
			return
		}
	}
}

// fragDestroy models inet_frag_destroy() of a killed queue:
// inet_frag_rbtree_purge frees every queued fragment with reason
// (FRAG_REASM_TIMEOUT when INET_FRAG_DROP was set by the timer, else
// SKB_CONSUMED: consume_skb's tracepoint), and the memory is uncharged.
func (s *Stack) fragDestroy(d *fqDir, q *fragQueue, reason skb.DropReason, loc Op) {
	d.mem -= q.memOf()
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
	d.free = append(d.free, q)
}

// fragKill is inet_frag_kill followed by the queue's destruction (the
// last reference goes when the caller returns).
func (s *Stack) fragKill(d *fqDir, q *fragQueue, reason skb.DropReason, loc Op) {
	d.fragUnlink(q)
	s.fragDestroy(d, q, reason, loc)
}

// fragExpireDue runs the timers of d that fired by the current capture
// time (ip_expire, ip6_frag_expire): INET_FRAG_DROP and inet_frag_kill;
// every fragment is freed with FRAG_REASM_TIMEOUT (the head after the
// ICMP time exceeded error, not modelled).
func (s *Stack) fragExpireDue(d *fqDir, loc Op) {
	for len(d.live) != 0 && s.now-d.live[0].created > d.timeout {
		s.fragKill(d, d.live[0], skb.DropFragReasmTimeout, loc)
	}
}

// fragTimers runs the reassembly queue timers (both families) of every
// namespace that are due by the current capture time (Stack.Inject calls
// it once the earliest is due, whatever the packet), then re-arms for the
// earliest left.
func (s *Stack) fragTimers() {
	saved := s.cur
	s.fragArmed = false
	for _, ns := range s.nss {
		st := ns.fragDirs
		if st == nil {
			continue
		}
		s.fragExpireDue(&st.v4, OpIPDefrag)
		s.fragExpireDue(&st.v6, OpIP6FragExpire)
		for _, d := range [2]*fqDir{&st.v4, &st.v6} {
			if len(d.live) != 0 {
				due := d.live[0].created + d.timeout
				if !s.fragArmed || due < s.fragDue {
					s.fragArmed, s.fragDue = true, due
				}
			}
		}
	}
	s.cur = saved
}

// closeFrags frees the namespace's queued fragments of both families
// (Stack.Close).
func (s *Stack) closeFrags(ns *Netns) {
	st := ns.fragDirs
	if st == nil {
		return
	}
	for _, d := range [2]*fqDir{&st.v4, &st.v6} {
		for len(d.live) != 0 {
			q := d.live[0]
			d.fragUnlink(q)
			d.mem -= q.memOf()
			for _, f := range q.frags {
				s.cur = f.pkt
				f.b.ConsumeSkb()
			}
			q.reset()
			d.free = append(d.free, q)
		}
	}
}

// fragEcnTable is ip_frag_ecn_table: the ECN codepoint of the reassembled
// datagram from the IPFRAG_ECN_* bits of its fragments (0xff: an invalid
// mix, the datagram is dropped).
var fragEcnTable = func() (t [16]uint8) {
	const notECT, ect1, ect0, ce = 1, 2, 4, 8
	t[ce|ect0], t[ce|ect1], t[ce|ect0|ect1] = 3, 3, 3
	for _, m := range []int{ce, ect0, ect1, ect0 | ect1, ce | ect0, ce | ect1, ce | ect0 | ect1} {
		t[notECT|m] = 0xff
	}
	return t
}()
