package netstack

import (
	"encoding/binary"

	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/skb"
)

// IPv6 reassembly limits and constants.
const (
	// ip6FragTimeout is net.ipv6.ip6frag_time (IPV6_FRAG_TIMEOUT, 60 s),
	// in the capture clock (Packet.Tstamp, ns).
	ip6FragTimeout = 60_000_000_000
	ipv6MaxPlen    = 65535 // IPV6_MAXPLEN
	nexthdrAuth    = 51    // NEXTHDR_AUTH
	fragHdrLen     = 8     // struct frag_hdr
	// ip6skbFragmented is IP6SKB_FRAGMENTED in IP6CB(skb)->flags.
	ip6skbFragmented = 16
	// IP6CB (struct inet6_skb_parm) offsets in skb->cb.
	ip6cbNhoff       = 14
	ip6cbFlags       = 16
	ip6cbFragMaxSize = 20
)

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
//     IP6SKB_FRAGMENTED; with Profile.IPv6AtomicFragMaxSize (v5.13) also
//     IP6CB frag_max_size = payload_len + sizeof(struct ipv6hdr);
//   - with Profile.IPv6FragDropTruncatedFirst (v5.10, RFC 8200 section
//     4.5): a first fragment that does not hold all headers through the
//     upper-layer header (ipv6frag_thdr_truncated) is freed by
//     icmpv6_param_prob (NOT_SPECIFIED; the ICMPv6 parameter problem,
//     code 3, is not modelled);
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
		if s.prof.IPv6AtomicFragMaxSize {
			// e29f011e8fc0: frag_max_size = ntohs(hdr->payload_len) +
			// sizeof(struct ipv6hdr).
			binary.LittleEndian.PutUint16(h.CB[ip6cbFragMaxSize:], binary.BigEndian.Uint16(data[4:6])+ip6Hlen)
		}
		return b, true
	}
	if s.prof.IPv6FragDropTruncatedFirst && ipv6fragThdrTruncated(data) {
		s.drop(b, skb.DropNotSpecified, OpIP6FragRcv) // IPSTATS_MIB_INHDRERRORS, icmpv6_param_prob(ICMPV6_HDR_INCOMP)
		return nil, false
	}
	binary.LittleEndian.PutUint16(h.CB[ip6cbNhoff:], uint16(nhoff))
	d := &ns.fragDirsOf().v6
	s.fragExpireDue(d, OpIP6FragExpire)
	ip, _ := parseIPv6(data)
	id := binary.BigEndian.Uint32(data[fh+4 : fh+8])
	var keyIIF int32
	if ip.dst.IsMulticast() || ip.dst.IsLinkLocalUnicast() {
		keyIIF = h.Dev // fq_find: iif in the key only for these
	}
	var q *fragQueue
	for _, x := range d.live {
		if x.id == id && x.keyIIF == keyIIF && x.src == ip.src && x.dst == ip.dst {
			q = x
			break
		}
	}
	if q == nil {
		if d.mem > fragHighThresh {
			s.drop(b, skb.DropNotSpecified, OpIP6FragRcv) // inet_frag_find NULL: REASMFAILS, kfree_skb
			return nil, false
		}
		q = s.fragCreate(d, OpIP6FragExpire)
		q.id, q.src, q.dst, q.keyIIF = id, ip.src, ip.dst, keyIIF
	}
	return s.ip6FragQueue(b, d, q, fh, nhoff, fo), false
}

// ipv6fragThdrTruncated models ipv6frag_thdr_truncated(skb, network offset
// + sizeof(struct ipv6hdr), &nexthdr) on the IPv6 packet p (from its
// network header): ipv6_skip_exthdr walks the extension headers (a
// fragment header with a non-zero offset ends the walk; an unreadable
// header or NEXTHDR_NONE is not "truncated"), then the upper-layer
// header's minimum (TCP 20, UDP 8, ICMPv6 8, anything else 1 byte) must
// fit in the packet.
func ipv6fragThdrTruncated(p []byte) bool {
	next, off := p[6], ip6Hlen
	for {
		switch next {
		case nexthdrHop, nexthdrDest, nexthdrRouting, nexthdrAuth:
			if off+2 > len(p) {
				return false // skb_header_pointer fails: ipv6_skip_exthdr -1
			}
			n := (int(p[off+1]) + 1) * 8
			if next == nexthdrAuth {
				n = (int(p[off+1]) + 2) * 4
			}
			next = p[off]
			off += n
			continue
		case nexthdrFrag:
			if off+fragHdrLen > len(p) {
				return false
			}
			if binary.BigEndian.Uint16(p[off+2:off+4])&^7 != 0 {
				return false // frag_off & IP6_OFFSET: not a first fragment
			}
			next = p[off]
			off += fragHdrLen
			continue
		case nexthdrNone:
			return false
		}
		break
	}
	switch next {
	case nexthdrTCP:
		off += 20
	case nexthdrUDP:
		off += udpHlen
	case nexthdrICMPv6:
		off += 8
	default:
		off++
	}
	return off > len(p)
}

// ip6FragQueue models ip6_frag_queue(): offset and end from the fragment
// header and payload_len; end > IPV6_MAXPLEN or a non-final fragment not a
// multiple of 8 is a parameter problem (icmpv6_param_prob frees it,
// NOT_SPECIFIED; the queue stays); an inconsistent last fragment or an
// empty one kills the queue (discard_fq: the queued fragments are freed
// with SKB_CONSUMED by inet_frag_destroy, the fragment with NOT_SPECIFIED);
// the fragment is pulled to its data and trimmed (pskb_pull,
// pskb_trim_rcsum), then inet_frag_queue_insert (frag_queue.go: a
// duplicate is DUP_FRAG, any other overlap kills the queue). A queued
// fragment's dst is dropped; its truesize is charged to the namespace's
// fragment memory. When the first and last fragments are in and meat ==
// len, ip6_frag_reasm runs on the skb that completed the queue. Takes
// ownership of skb.
func (s *Stack) ip6FragQueue(b *skb.Buff, d *fqDir, q *fragQueue, fh, nhoff int, fo uint16) *skb.Buff {
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
			s.frag6Discard(b, d, q)
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
				s.frag6Discard(b, d, q)
				return nil
			}
			q.length = end
		}
	}
	if end == offset || fh+fragHdrLen+(end-offset) > b.Len() {
		s.frag6Discard(b, d, q)
		return nil
	}
	fragsize := b.Len()                                                             // -skb_network_offset(skb) + skb->len, before the pull
	if _, ok := b.PskbPull(fh + fragHdrLen); !ok || b.PskbTrim(end-offset) != nil { // pskb_pull, pskb_trim_rcsum
		s.frag6Discard(b, d, q)
		return nil
	}
	s.traceOp(LayerIP, OpIP6FragQueue, b)
	switch q.queueInsert(b, s.cur, offset, end) {
	case ipfragDup:
		s.drop(b, skb.DropDupFrag, OpIP6FragQueue)
		return nil
	case ipfragOverlap:
		s.frag6Discard(b, d, q) // IPSTATS_MIB_REASM_OVERLAPS
		return nil
	}
	q.meat += end - offset
	q.ecn |= ecn
	d.mem += b.Truesize() // add_frag_mem_limit
	q.maxSize = max(q.maxSize, fragsize)
	if offset == 0 {
		q.nhoff = nhoff
		q.firstIn = true
	}
	if q.firstIn && q.lastIn && q.meat == q.length {
		return s.ip6FragReasm(b, d, q)
	}
	b.DstDrop()
	return nil
}

// ip6FragReasm models ip6_frag_reasm() on the skb that completed queue q
// (data at its fragment's payload): its dst is kept out of the
// reassembly and put back on it after, success or not (the queue's
// orefdst steal and restore, stealDst); inet_frag_kill; an invalid ECN mix
// fails (out_fail: the queue's fragments are freed with SKB_CONSUMED);
// inet_frag_reasm_prepare (frag_queue.go; a failed clone or unclone is
// out_oom, the same); a payload_len above IPV6_MAXPLEN fails like ECN; the
// fragment header is removed: its next header is written at nhoffset, the
// bytes in front of it (headroom, metadata, mac and network headers) move
// up by 8 (memmove, mac_header and network_header += 8);
// inet_frag_reasm_finish: the header pushed back (data at the network
// header), tstamp and tstamp_type from the queue (the skb that completed
// it), the other fragments on frag_list; then skb->dev = the completing
// fragment's device, payload_len, the ECN bits, IP6CB nhoff,
// IP6SKB_FRAGMENTED and frag_max_size. Returns the reassembled skb, or
// nil. Takes ownership of skb.
func (s *Stack) ip6FragReasm(b *skb.Buff, d *fqDir, q *fragQueue) *skb.Buff {
	dst := stealDst(b) // ip_frag_queue / ip6_frag_queue: orefdst
	h := b.H()
	dev, netns := h.Dev, h.Netns
	stamp, stampType := h.Tstamp, h.TstampType // fq->q.stamp / tstamp_type
	d.fragUnlink(q)                            // inet_frag_kill
	ecn := fragEcnTable[q.ecn&15]
	if ecn == 0xff {
		dst.restore(b)
		s.fragDestroy(d, q, skb.SkbConsumed, OpIP6FragReasm)
		return nil
	}
	s.traceOp(LayerIP, OpIP6FragReasm, b)
	if !s.reasmPrepare(q, b) {
		dst.restore(b)
		s.fragDestroy(d, q, skb.SkbConsumed, OpIP6FragReasm) // out_oom
		return nil
	}
	hd := b.Head()
	hr := b.Headroom()
	netAbs := b.NetworkHeader()
	payloadLen := (hr - netAbs) - ip6Hlen + q.length - fragHdrLen
	if payloadLen > ipv6MaxPlen {
		dst.restore(b)
		s.fragDestroy(d, q, skb.SkbConsumed, OpIP6FragReasm) // out_oversize
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
	nhoff, maxSize := q.nhoff, q.maxSize
	s.reasmFinish(d, q, b, stamp, stampType, true) // ip6_frag_reasm coalesces
	h = b.H()
	h.Dev, h.Netns = dev, netns
	dd := b.Data()
	binary.BigEndian.PutUint16(dd[4:6], uint16(payloadLen))
	dd[1] |= ecn << 4 // ipv6_change_dsfield(hdr, 0xff, ecn)
	binary.LittleEndian.PutUint16(h.CB[ip6cbNhoff:], uint16(nhoff))
	fl := binary.LittleEndian.Uint16(h.CB[ip6cbFlags:])
	binary.LittleEndian.PutUint16(h.CB[ip6cbFlags:], fl|ip6skbFragmented)
	binary.LittleEndian.PutUint16(h.CB[ip6cbFragMaxSize:], uint16(maxSize))
	dst.restore(b) // skb->_skb_refdst = orefdst
	return b
}

// frag6Discard models ip6_frag_queue's discard_fq: inet_frag_kill (the
// queued fragments go with SKB_CONSUMED when the queue is destroyed) and
// kfree_skb of the fragment (NOT_SPECIFIED).
func (s *Stack) frag6Discard(b *skb.Buff, d *fqDir, q *fragQueue) {
	s.fragKill(d, q, skb.SkbConsumed, OpIP6FragQueue)
	s.drop(b, skb.DropNotSpecified, OpIP6FragQueue)
}
