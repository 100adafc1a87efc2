package netstack

import (
	"encoding/binary"

	"github.com/skbsim/skbsim/skb"
)

// IPv4 reassembly constants.
const (
	// ipFragTimeout is net.ipv4.ipfrag_time (IP_FRAG_TIME, 30 s), in the
	// capture clock (Packet.Tstamp, ns).
	ipFragTimeout = 30_000_000_000
	// IPCB (struct inet_skb_parm) offsets in skb->cb: iif, the 16-byte
	// struct ip_options, flags, frag_max_size.
	ipcbFlags       = 20
	ipcbFragMaxSize = 22
	// ipskbFragPMTU is IPSKB_FRAG_PMTU in IPCB(skb)->flags.
	ipskbFragPMTU = 1 << 6
	// ipskbFragComplete is IPSKB_FRAG_COMPLETE, set by ip_do_fragment.
	ipskbFragComplete = 1 << 3
	ipMaxLen          = 65535
)

// ipDefrag models ip_defrag(): skb_orphan, then ip_find (the queue of the
// id, addresses and protocol; the timers of expired queues fire first; no
// new queue above ipfrag_high_thresh: REASMFAILS, kfree_skb) and
// ip_frag_queue. Returns the reassembled skb (data at its network header),
// or nil when the fragment was queued or dropped. Not modelled:
// ipfrag_max_dist (ip_frag_too_far, which needs the inet_peer counters),
// the l3mdev vif in the key. Takes ownership of skb.
func (s *Stack) ipDefrag(b *skb.Buff, ns *Netns, ip ipv4) *skb.Buff {
	s.traceOp(LayerIP, OpIPDefrag, b)
	b.Orphan()
	d := &ns.fragDirsOf().v4
	s.fragExpireDue(d, OpIPDefrag)
	var q *fragQueue
	for _, x := range d.live {
		if x.id == uint32(ip.id) && x.src == ip.src && x.dst == ip.dst && x.proto == ip.proto {
			q = x
			break
		}
	}
	if q == nil {
		if d.mem > fragHighThresh {
			s.drop(b, skb.DropNotSpecified, OpIPDefrag) // inet_frag_find NULL: REASMFAILS, kfree_skb
			return nil
		}
		q = s.fragCreate(d, OpIPDefrag)
		q.id, q.src, q.dst, q.proto = uint32(ip.id), ip.src, ip.dst, ip.proto
	}
	return s.ipFragQueue(b, d, q, ip)
}

// ipFragQueue models ip_frag_queue() (since 0ff89efb5246 "ip: fail fast
// on IP defrag errors", v4.19): offset and end from frag_off and the
// length; a last fragment ending before the data seen or elsewhere than
// an earlier last fragment, a non-final fragment (its end rounded down to
// a multiple of 8) beyond a known last one, or an empty fragment kills the
// queue (discard_qp: inet_frag_kill, REASMFAILS; the queued fragments are
// freed with SKB_CONSUMED by inet_frag_destroy) and frees the fragment
// with kfree_skb_reason(NOT_SPECIFIED); the fragment is pulled to its
// data and trimmed (pskb_pull, pskb_trim_rcsum), then
// inet_frag_queue_insert (frag_queue.go): a fragment inside a run is
// DUP_FRAG (the queue stays), any other overlap is
// IPSTATS_MIB_REASM_OVERLAPS and discard_qp. A queued fragment records
// the stamp, meat, ECN bits, its truesize in the fragment memory,
// max_size and (with DF) max_df_size; when the first and last fragments
// are in and meat == len, ip_frag_reasm runs on it (an error kills the
// queue); otherwise its dst is dropped. Takes ownership of skb.
func (s *Stack) ipFragQueue(b *skb.Buff, d *fqDir, q *fragQueue, ip ipv4) *skb.Buff {
	offset := int(ip.fragOff&ipOffset) * 8
	end := offset + b.Len() - ip.ihl
	if ip.fragOff&ipMF == 0 {
		if end < q.length || (q.lastIn && end != q.length) {
			s.ipFragDiscard(b, d, q)
			return nil
		}
		q.lastIn, q.length = true, end
	} else {
		end &^= 7 // CHECKSUM_NONE unless CHECKSUM_UNNECESSARY
		if end > q.length {
			if q.lastIn {
				s.ipFragDiscard(b, d, q)
				return nil
			}
			q.length = end
		}
	}
	if end == offset {
		s.ipFragDiscard(b, d, q)
		return nil
	}
	ecn := uint8(1) << (ip.tos & 3) // ip4_frag_ecn
	// pskb_pull to the data, pskb_trim_rcsum to end - offset: either
	// failing is discard_qp.
	if _, ok := b.PskbPull(ip.ihl); !ok || b.PskbTrim(end-offset) != nil {
		s.ipFragDiscard(b, d, q)
		return nil
	}
	switch q.queueInsert(b, s.cur, offset, end) {
	case ipfragDup:
		s.drop(b, skb.DropDupFrag, OpIPDefrag)
		return nil
	case ipfragOverlap:
		s.ipFragDiscard(b, d, q) // IPSTATS_MIB_REASM_OVERLAPS
		return nil
	}
	q.meat += end - offset
	q.ecn |= ecn
	d.mem += b.Truesize() // add_frag_mem_limit
	if offset == 0 {
		q.firstIn = true
	}
	fragsize := b.Len() + ip.ihl
	q.maxSize = max(q.maxSize, fragsize)
	if ip.fragOff&ipDF != 0 {
		q.maxDFSize = max(q.maxDFSize, fragsize)
	}
	if q.firstIn && q.lastIn && q.meat == q.length {
		return s.ipFragReasm(b, d, q)
	}
	b.DstDrop()
	return nil
}

// ipFragDiscard is ip_frag_queue's discard_qp: inet_frag_kill (the queued
// fragments go with SKB_CONSUMED when the queue is destroyed) and
// kfree_skb_reason(skb, NOT_SPECIFIED).
func (s *Stack) ipFragDiscard(b *skb.Buff, d *fqDir, q *fragQueue) {
	s.fragKill(d, q, skb.SkbConsumed, OpIPDefrag)
	s.drop(b, skb.DropNotSpecified, OpIPDefrag)
}

// ipFragReasm models ip_frag_reasm() on the skb that completed queue q
// (data at its payload): its dst is kept out of the
// reassembly and put back on it after, success or not (the queue's
// orefdst steal and restore, stealDst); inet_frag_kill; an invalid ECN mix fails;
// inet_frag_reasm_prepare (frag_queue.go: skb_morph onto the offset-0
// fragment, skb_unclone); a datagram above 65535 bytes fails; every
// failure is ip_frag_queue's inet_frag_kill, which frees every queued
// fragment, the completing one included, with SKB_CONSUMED
// (inet_frag_destroy) — nothing is dropped; inet_frag_reasm_finish
// (header pushed back, tstamp and tstamp_type of the completing fragment,
// the others on frag_list); skb->dev = the completing fragment's device;
// IPCB frag_max_size = max(max_df_size, max_size); tot_len; the ECN bits;
// frag_off = IP_DF and IPSKB_FRAG_PMTU when the largest fragment had DF
// (max_df_size == max_size), else 0; ip_send_check. Returns the reassembled skb, or nil. Takes ownership
// of skb.
func (s *Stack) ipFragReasm(b *skb.Buff, d *fqDir, q *fragQueue) *skb.Buff {
	dst := stealDst(b) // ip_frag_queue / ip6_frag_queue: orefdst
	h := b.H()
	dev, netns := h.Dev, h.Netns
	stamp, stampType := h.Tstamp, h.TstampType // qp->q.stamp / tstamp_type
	d.fragUnlink(q)                            // inet_frag_kill
	ecn := fragEcnTable[q.ecn&15]
	if ecn == 0xff {
		dst.restore(b)
		s.fragDestroy(d, q, skb.SkbConsumed, OpIPDefrag) // out_fail
		return nil
	}
	if !s.reasmPrepare(q, b) {
		dst.restore(b)
		s.fragDestroy(d, q, skb.SkbConsumed, OpIPDefrag) // out_nomem
		return nil
	}
	ihl := b.Headroom() - b.NetworkHeader()
	if ihl+q.length > ipMaxLen {
		dst.restore(b)
		s.fragDestroy(d, q, skb.SkbConsumed, OpIPDefrag) // out_oversize
		return nil
	}
	b.Push(ihl) // inet_frag_reasm_finish: skb_push to the network header
	maxSize, maxDF := q.maxSize, q.maxDFSize
	s.reasmFinish(d, q, b, stamp, stampType, true) // ip_frag_coalesce_ok: IP_DEFRAG_LOCAL_DELIVER
	h = b.H()
	h.Dev, h.Netns = dev, netns
	binary.LittleEndian.PutUint16(h.CB[ipcbFragMaxSize:], uint16(max(maxDF, maxSize)))
	dd := b.Data()
	binary.BigEndian.PutUint16(dd[2:4], uint16(b.Len()))
	dd[1] |= ecn
	fo := uint16(0)
	if maxDF == maxSize {
		fo = ipDF
		fl := binary.LittleEndian.Uint16(h.CB[ipcbFlags:])
		binary.LittleEndian.PutUint16(h.CB[ipcbFlags:], fl|ipskbFragPMTU)
	}
	binary.BigEndian.PutUint16(dd[6:8], fo)
	setIPCsum(dd, ihl)
	dst.restore(b) // skb->_skb_refdst = orefdst
	return b
}
