package netstack

import (
	"encoding/binary"
	"net/netip"

	"github.com/skbsim/skbsim/skb"
)

// maxFragQueues bounds the reassembly queues of a namespace in the model:
// beyond it the oldest queue is expired (ip_expire).
const maxFragQueues = 64

type fragQueue struct {
	id       uint16
	src, dst netip.Addr
	proto    uint8
	frags    []fragPiece
	haveLast bool
	total    int // payload length, known once the last fragment arrived
}

type fragPiece struct {
	b      *skb.Buff
	pkt    uint64
	offset int
	length int
}

func (q *fragQueue) complete() bool {
	if !q.haveLast {
		return false
	}
	covered := 0
	for {
		adv := false
		for _, f := range q.frags {
			if f.offset == covered {
				covered += f.length
				adv = true
			}
		}
		if covered >= q.total {
			return true
		}
		if !adv {
			return false
		}
	}
}

// ipDefrag models ip_defrag(): the fragment is queued (ip_frag_queue, dst
// dropped, socket orphaned); a duplicate offset is dropped (DUP_FRAG).
// When the queue is complete ip_frag_reasm runs: inet_frag_reasm_prepare
// makes the skb that completed the queue the head by skb_morph() onto the
// offset-0 fragment (whose clone it becomes; the head's sk_buff is consumed)
// so the reassembled packet carries the first fragment's header state and
// buffer (its XDP metadata), then skb_unclone (a head still shared, e.g.
// with a held tap clone, gets a private copy: meta_len 0 before v6.19);
// inet_frag_reasm_finish sets tstamp and tstamp_type from the queue (those
// of the fragment that completed it) and ip_frag_reasm skb->dev to that
// fragment's device; the IP header gets tot_len, frag_off = 0 and a new
// checksum. The other fragments' payload would go to frag_list;
// the linear model frees them instead (their header state is lost either
// way). Returns the reassembled skb, or nil when the fragment was queued
// or dropped. Takes ownership of skb.
func (s *Stack) ipDefrag(b *skb.Buff, ns *Netns, ip ipv4) *skb.Buff {
	s.traceOp(LayerIP, OpIPDefrag, b)
	var q *fragQueue
	for _, x := range ns.frags {
		if x.id == ip.id && x.src == ip.src && x.dst == ip.dst && x.proto == ip.proto {
			q = x
			break
		}
	}
	if q == nil {
		if len(ns.frags) >= maxFragQueues {
			s.fragExpire(ns, 0)
		}
		q = ns.newFragQueue()
		q.id, q.src, q.dst, q.proto = ip.id, ip.src, ip.dst, ip.proto
		ns.frags = append(ns.frags, q)
	}
	off := int(ip.fragOff&ipOffset) * 8
	length := ip.totLen - ip.ihl
	if length <= 0 {
		// ip_frag_queue: end == offset discards the fragment.
		s.drop(b, skb.DropNotSpecified, OpIPDefrag)
		return nil
	}
	for _, f := range q.frags {
		if f.offset == off {
			s.drop(b, skb.DropDupFrag, OpIPDefrag)
			return nil
		}
	}
	if ip.fragOff&ipMF == 0 {
		q.haveLast = true
		q.total = off + length
	}
	b.DstDrop()
	b.Orphan()
	q.frags = append(q.frags, fragPiece{b: b, pkt: s.cur, offset: off, length: length})
	if !q.complete() {
		return nil
	}
	// ip_frag_reasm.
	var head *skb.Buff
	for _, f := range q.frags {
		if f.offset == 0 {
			head = f.b
		}
	}
	res := b
	// inet_frag_reasm_finish: head->tstamp = q->stamp (the fragment that
	// completed the queue, the last one ip_frag_queue recorded); ip_frag_reasm:
	// head->dev = that fragment's device.
	h := b.H()
	stamp, stampType, dev, netns := h.Tstamp, h.TstampType, h.Dev, h.Netns
	if head != b {
		// inet_frag_reasm_prepare: fp = skb_clone(skb) takes skb's place
		// in the queue (freed below with the other fragments),
		// skb_morph(skb, head), consume_skb(head).
		b.Morph(head)
	}
	saved := s.cur
	for _, f := range q.frags {
		if f.b == res {
			continue
		}
		s.cur = f.pkt
		if f.b == head && head != res {
			s.consumeSkb(f.b) // inet_frag_reasm_prepare: consume_skb(head)
			continue
		}
		f.b.ConsumeSkb() // on frag_list in the kernel (no tracepoint)
	}
	s.cur = saved
	s.removeFragQueue(ns, q)
	if err := res.Unclone(); err != nil { // inet_frag_reasm_prepare: the head must not be cloned
		s.drop(res, skb.DropNomem, OpIPDefrag)
		return nil
	}
	h = res.H()
	h.Tstamp, h.TstampType, h.Dev, h.Netns = stamp, stampType, dev, netns
	d := res.Data()
	ihl := int(d[0]&0xf) * 4
	binary.BigEndian.PutUint16(d[2:4], uint16(res.Len()))
	binary.BigEndian.PutUint16(d[6:8], 0)
	setIPCsum(d, ihl)
	return res
}

func (s *Stack) removeFragQueue(ns *Netns, q *fragQueue) {
	for i, x := range ns.frags {
		if x == q {
			copy(ns.frags[i:], ns.frags[i+1:])
			ns.frags[len(ns.frags)-1] = nil
			ns.frags = ns.frags[:len(ns.frags)-1]
			clear(q.frags)
			*q = fragQueue{frags: q.frags[:0]}
			ns.fqFree = append(ns.fqFree, q) // reused: no allocation per datagram
			return
		}
	}
}

// newFragQueue returns an empty reassembly queue (inet_frag_find's
// inet_frag_create), reusing a finished one.
func (ns *Netns) newFragQueue() *fragQueue {
	if n := len(ns.fqFree); n != 0 {
		q := ns.fqFree[n-1]
		ns.fqFree[n-1] = nil
		ns.fqFree = ns.fqFree[:n-1]
		return q
	}
	return &fragQueue{frags: make([]fragPiece, 0, 4)}
}

// fragExpire models ip_expire(): the queue's fragments are dropped with
// FRAG_REASM_TIMEOUT.
func (s *Stack) fragExpire(ns *Netns, i int) {
	q := ns.frags[i]
	saved := s.cur
	for _, f := range q.frags {
		s.cur = f.pkt
		s.drop(f.b, skb.DropFragReasmTimeout, OpIPDefrag)
	}
	s.cur = saved
	s.removeFragQueue(ns, q)
}
