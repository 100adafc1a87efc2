package skb

import (
	"fmt"

	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/internal/errno"
)

// SegFeatures are the output device's features skb_segment looks at
// beyond NETIF_F_SG and a checksum offload, which every device of the
// model has.
type SegFeatures uint8

// SegNetGSOOK is net_gso_ok(features, gso_type): the device takes the skb's
// GSO type in hardware and is segmenting in software only because the skb
// has a frag_list and the device lacks NETIF_F_FRAGLIST.
const SegNetGSOOK SegFeatures = 1 << 0

// Segment is SegmentFeatures(mss, 0, out): skb_segment for a device that
// cannot take the skb's GSO type.
func (b *Buff) Segment(mss int, out []*Buff) ([]*Buff, error) {
	return b.SegmentFeatures(mss, 0, out)
}

// SegmentFeatures models skb_segment(head_skb, features) with NETIF_F_SG
// and a checksum offload (every device of the model has both) and without
// NETIF_F_GSO_PARTIAL: the payload (data starts past the headers, the mac
// header is set) is cut into gso_size pieces (mss, 0 meaning
// shinfo->gso_size), and each segment gets the headers from the mac header
// to data copied in front of its piece (data starts at the segment's mac
// header) and __copy_skb_header(nskb, head_skb): mark, priority, cb, hash,
// tstamp, extensions (shared), dst and conntrack (referenced) replicate to
// every segment. A segment is one of:
//   - a fresh __alloc_skb(hsize + doffset + headroom) with the same
//     headroom and a new shared info (meta_len 0, no gso fields): the part
//     of its piece in the head's linear data (hsize bytes) is copied, the
//     rest references the same pages (__skb_frag_ref: the head's page
//     fragments, then those of the skbs on its frag_list, whose linear
//     data must then be a page-fragment head, taken as one more fragment,
//     skb_head_frag_to_page_desc);
//   - once the head's own bytes are used up, for a frag_list skb with
//     linear data: skb_clone of that list skb, trimmed to the piece
//     (pskb_trim), given a head of its own with room for the headers
//     (skb_cow_head, a pskb_expand_head since the clone shares the
//     header), its own head state released (skb_release_head_state: its
//     dst, conntrack and extensions) before the head skb's is copied. Its
//     shared info stays the list skb's: its page fragments and its XDP
//     metadata (meta_len) come along.
//
// With SKB_GSO_DODGY (an untrusted gso_size) and a frag_list whose first
// skb has a linear, kmalloc'ed head, SG is off unless gso_size equals the
// head's linear payload: every piece is then copied.
//
// With SegNetGSOOK, a frag_list skb whose list skbs all have the same
// length (but the last) and no kmalloc'ed linear data, and whose own bytes
// are as many as one list skb's, is split along its list instead: mss
// becomes that length's whole number of gso_size pieces (partial_segs),
// and every segment is a GSO skb with the head's gso_size and gso_type
// (without SKB_GSO_DODGY) and gso_segs = partial_segs, the last one's
// counted on its own (or no gso_size when it is one piece).
//
// Protocol headers (lengths, sequence numbers, checksums) are the caller's
// to fix, as the protocol gso_segment callbacks do, and so is the socket
// ownership of the segments: __udp_gso_segment and tcp_gso_segment clear
// or copy the destructor themselves, so skb_segment's swap of a
// sock_wfree skb's sk, destructor and truesize to the last segment is
// left out. Tunnel GSO (tnl_hlen bytes before the mac header, SKB_GSO_CB)
// is not modelled.
//
// Segments are appended to out (pass a reused slice to avoid allocating).
// Does NOT take ownership of skb: the caller frees it (consume_skb after
// validate_xmit_skb). On allocation failure the segments made so far are
// freed and an error matching ENOMEM returned; a segment that would need
// more than MAX_SKB_FRAGS fragments, or a frag_list the kernel would BUG()
// on (list skbs that do not end on piece boundaries), is -EINVAL.
func (b *Buff) SegmentFeatures(mss int, feat SegFeatures, out []*Buff) ([]*Buff, error) {
	b.check("skb_segment")
	sh := &b.buf.sh
	if mss == 0 {
		mss = int(sh.GSOSize)
	}
	if mss <= 0 {
		panic(fmt.Sprintf("skb: skb_segment with mss %d on %v", mss, b))
	}
	if b.off.mac == unsetOffset {
		panic("skb: skb_segment without a mac header")
	}
	doffset := b.data - int(b.off.mac) // head_skb->data - skb_mac_header(head_skb)
	if doffset < 0 {
		panic(fmt.Sprintf("skb: skb_segment with data before the mac header on %v", b))
	}
	headroom := int(b.off.mac) // skb_headroom after __skb_push(head_skb, doffset)
	headlen := b.tail - b.data // payload bytes in the linear data
	list := b.buf.fragList     // list_skb
	sg := true
	if list != nil && !list.headFrag && list.tail > list.data && sh.GSOType&GSODodgy != 0 && mss != headlen {
		sg = false // the list skbs may not end on gso_size boundaries
	}
	partialSegs, gsoSize, gsoType := 0, sh.GSOSize, sh.GSOType
	if sg && feat&SegNetGSOOK != 0 && list != nil {
		// Split into GSO skbs along the frag_list when the list skbs
		// have no kmalloc'ed linear part and all but the last are as
		// long as the head's own bytes.
		fragLen, own := list.len, b.len
		split := true
		for it := list; it != nil; it = it.next {
			if fragLen != it.len && it.next != nil || it.tail > it.data && !it.headFrag {
				split = false
				break
			}
			own -= it.len
		}
		if split && own == fragLen {
			if partialSegs = own / mss; partialSegs > 1 {
				mss *= partialSegs
			} else {
				partialSegs = 0
			}
		}
	}
	start := len(out)
	fail := func(err error) ([]*Buff, error) {
		for _, s := range out[start:] {
			s.KfreeSkb(DropSkbGSOSeg)
		}
		clear(out[start:])
		return out[:start], fmt.Errorf("skb_segment: %w", err)
	}
	var (
		frags   = b.buf.frags // frag, nfrags: the fragments being walked
		i       = 0
		fragSkb = b       // the skb whose fragments (or head, at i == -1) are walked
		pos     = headlen // payload offset where frags[i] starts
	)
	for offset := 0; ; {
		n := min(b.len-offset, mss)
		hsize := headlen - offset
		var nskb *Buff
		if lh := list.headlenOrZero(); hsize <= 0 && i >= len(frags) && lh != 0 && (lh == n || sg) {
			if lh > n {
				return fail(fmt.Errorf("frag_list skb of %d linear bytes for a %d-byte piece: %w", lh, n, ErrSegmentFrags))
			}
			i, frags, fragSkb = 0, list.buf.frags, list
			pos += lh
			for pos < offset+n {
				if i >= len(frags) {
					return fail(fmt.Errorf("frag_list skb shorter than its piece: %w", ErrSegmentFrags))
				}
				size := frags[i].size
				if pos+size > offset+n {
					break
				}
				i++
				pos += size
			}
			c, err := list.Clone()
			list = list.next
			if err != nil {
				return fail(err)
			}
			hs := len(c.buf.bytes) // skb_end_offset
			if err := c.PskbTrim(n); err == nil {
				err = c.CowHead(doffset + headroom)
			}
			if err != nil {
				c.KfreeSkb(DropNotSpecified)
				return fail(err)
			}
			c.truesize += len(c.buf.bytes) - hs
			c.releaseHeadState()
			c.push(doffset, "skb_segment")
			nskb = c
		}
		if nskb == nil {
			hsize = max(hsize, 0)
			if hsize > n || !sg {
				hsize = n
			}
			var err error
			if nskb, err = b.a.allocSkb(hsize+doffset+headroom, false, "skb_segment"); err != nil {
				return fail(err)
			}
			nskb.Reserve(headroom)
			nskb.Put(doffset)
		}
		out = append(out, nskb)
		nskb.copyHeader(b)
		nskb.headersOffsetUpdate(nskb.data - headroom)
		nskb.ResetMacLen()
		// skb_copy_from_linear_data_offset(head_skb, -tnl_hlen, nskb->data -
		// tnl_hlen, doffset + tnl_hlen) with tnl_hlen = 0, head_skb->data
		// pushed back to the mac header.
		mac := int(b.off.mac)
		copy(nskb.buf.bytes[nskb.data:nskb.data+doffset], b.buf.bytes[mac:mac+doffset])
		b.a.acct.Op(cost.OpMemcpyByte, uint64(doffset))
		switch {
		case nskb.len == n+doffset: // a list skb's clone: its piece is there
		case !sg:
			b.copyBits(offset, nskb.Put(n)) // skb_copy_bits
			b.a.acct.Op(cost.OpMemcpyByte, uint64(n))
		default:
			b.copyBits(offset, nskb.Put(hsize)) // skb_copy_from_linear_data_offset
			b.a.acct.Op(cost.OpMemcpyByte, uint64(hsize))
			var err error
			if frags, i, fragSkb, list, pos, err = nskb.segmentFrags(frags, i, fragSkb, list, pos, offset, n); err != nil {
				return fail(err)
			}
			nskb.dataLen = n - hsize
			nskb.len += nskb.dataLen
			nskb.truesize += nskb.dataLen
		}
		b.a.runCopy(b, nskb, CopySegment)
		if offset += n; offset >= b.len {
			break
		}
	}
	if partialSegs != 0 {
		segs := out[start:]
		for _, s := range segs {
			ssh := &s.buf.sh
			ssh.GSOSize, ssh.GSOSegs, ssh.GSOType = gsoSize, uint16(partialSegs), gsoType&^GSODodgy
		}
		tail := segs[len(segs)-1]
		if rest := tail.len - doffset; rest <= int(gsoSize) {
			tail.buf.sh.GSOSize = 0
		} else if len(segs) > 1 {
			tail.buf.sh.GSOSegs = uint16((rest + int(gsoSize) - 1) / int(gsoSize))
		}
	}
	return out, nil
}

// headlenOrZero is skb_headlen(b), 0 for no skb.
func (b *Buff) headlenOrZero() int {
	if b == nil {
		return 0
	}
	return b.tail - b.data
}

// segmentFrags is skb_segment's fragment loop for one segment b, whose
// piece is the n bytes at payload offset: fragments are taken from frags
// (those of fragSkb, frags[i] starting at payload offset pos), then from
// the skbs on the frag_list from list on (a list skb's linear data, which
// must be a page-fragment head, as one more fragment first), each
// referencing its page (__skb_frag_ref) and trimmed to the piece. It
// returns where the walk stopped.
func (b *Buff) segmentFrags(frags []pageFrag, i int, fragSkb, list *Buff, pos, offset, n int) ([]pageFrag, int, *Buff, *Buff, int, error) {
	for pos < offset+n {
		if i >= len(frags) {
			if list == nil {
				return frags, i, fragSkb, list, pos, fmt.Errorf("payload past the frag_list: %w", ErrSegmentFrags)
			}
			i, frags, fragSkb = 0, list.buf.frags, list
			if list.tail == list.data {
				if len(frags) == 0 {
					return frags, i, fragSkb, list, pos, fmt.Errorf("empty frag_list skb: %w", ErrSegmentFrags)
				}
			} else if !list.headFrag {
				return frags, i, fragSkb, list, pos, fmt.Errorf("frag_list skb with a kmalloc'ed head: %w", ErrSegmentFrags)
			} else {
				i = -1 // to make room for the head fragment
			}
			list = list.next
		}
		if len(b.buf.frags) >= MaxSkbFrags {
			return frags, i, fragSkb, list, pos, fmt.Errorf("%d fragments: %w", len(b.buf.frags), ErrSegmentFrags)
		}
		var f pageFrag
		if i < 0 {
			f = pageFrag{buf: fragSkb.buf, off: fragSkb.data, size: fragSkb.tail - fragSkb.data}
		} else {
			f = frags[i]
		}
		f.buf.pageRefs++
		size := f.size
		if pos < offset {
			f.off += offset - pos
			f.size -= offset - pos
		}
		if pos+size <= offset+n {
			i++
			pos += size
			b.buf.frags = append(b.buf.frags, f)
			continue
		}
		f.size -= pos + size - (offset + n)
		b.buf.frags = append(b.buf.frags, f)
		break
	}
	return frags, i, fragSkb, list, pos, nil
}

// ErrSegmentFrags is skb_segment's -EINVAL for a segment that would need
// more than MAX_SKB_FRAGS fragments.
var ErrSegmentFrags = errno.New("skb: segment needs too many fragments", errno.EINVAL)

// IPCopyMetadata models ip_copy_metadata(to, from) (net/ipv4/ip_output.c),
// used for every IPv4 fragment: pkt_type, priority, protocol, skb_iif, dst
// (to's dropped, from's copied with a reference), dev, mark, hash
// (skb_copy_hash: hash, sw_hash, l4_hash), tc_index, conntrack and nf_trace
// (nf_copy), extensions (skb_ext_copy: shared), ipvs_property and secmark.
// Not copied: cb beyond IPCB, queue_mapping, vlan, tstamp, XDP metadata, sk.
func IPCopyMetadata(to, from *Buff) {
	to.check("ip_copy_metadata")
	from.check("ip_copy_metadata")
	t, f := &to.hdr, &from.hdr
	t.PktType = f.PktType
	t.Priority = f.Priority
	t.Protocol = f.Protocol
	t.SkbIIF = f.SkbIIF
	to.dstDrop()
	to.dstCopy(from)
	t.Dev = f.Dev
	t.Netns = f.Netns
	t.Mark = f.Mark
	t.Hash, t.SWHash, t.L4Hash = f.Hash, f.SWHash, f.L4Hash
	t.TCIndex = f.TCIndex
	to.nfResetCt()
	to.nfCopy(from)
	t.NfTrace = f.NfTrace
	to.extReset("skb_ext_copy")
	to.extShare(from)
	t.IPVSProperty = f.IPVSProperty
	t.Secmark = f.Secmark
}

// IPFragment models the slow path of ip_do_fragment() (ip_frag_next per
// fragment): for each chunk of at most mtu - hlen payload bytes (a multiple
// of 8 except the last), alloc_skb(len + hlen + llReserve),
// skb_reserve(llReserve), the network header (hlen bytes at the network
// header) and the chunk copied, ip_copy_metadata, and the delivery time
// restored (skb_set_delivery_time). No XDP metadata reaches a fragment;
// skb_set_owner_w(skb2, skb->sk) is left to the caller.
// IP header fields (frag_off, tot_len, checksum) are the caller's to fix.
// The skb's data must start at the network header. Fragments are appended
// to out. Does NOT take ownership of skb (ip_do_fragment consumes it after).
func (b *Buff) IPFragment(hlen, mtu, llReserve int, out []*Buff) ([]*Buff, error) {
	b.check("ip_do_fragment")
	if hlen <= 0 || mtu-hlen < 8 || b.tail-b.data < hlen || b.NetworkOffset() != 0 {
		panic(fmt.Sprintf("skb: ip_do_fragment(hlen %d, mtu %d) on %v", hlen, mtu, b))
	}
	left := b.len - hlen
	ptr := hlen // offset from data
	start := len(out)
	for left > 0 {
		n := left
		if n > mtu-hlen {
			n = (mtu - hlen) &^ 7
		}
		f, err := b.a.allocSkb(n+hlen+llReserve, false, "ip_frag_next")
		if err != nil {
			for _, s := range out[start:] {
				s.KfreeSkb(DropNomem)
			}
			clear(out[start:])
			return out[:start], fmt.Errorf("ip_do_fragment: %w", err)
		}
		IPCopyMetadata(f, b)
		f.Reserve(llReserve)
		d := f.Put(n + hlen)
		f.ResetNetworkHeader()
		f.off.transport = uint16(f.data + hlen)
		copy(d[:hlen], b.buf.bytes[b.data:b.data+hlen])
		b.copyBits(ptr, d[hlen:]) // skb_copy_bits: the payload may be past the linear data
		b.a.acct.Op(cost.OpMemcpyByte, uint64(hlen+n))
		f.hdr.Tstamp, f.hdr.TstampType = b.hdr.Tstamp, b.hdr.TstampType
		out = append(out, f)
		b.a.runCopy(b, f, CopyFragment)
		ptr += n
		left -= n
	}
	return out, nil
}

// SegmentList models skb_segment_list(skb, features, offset) for a
// fraglist GSO skb (SKB_GSO_FRAGLIST, which fraglist GRO builds): the skbs
// on its frag_list become the segments after skb itself, and no data is
// copied but the offset bytes before each network header (the mac header,
// offset being skb_mac_header_len).
//
// skb's data is moved to offset bytes before its network header and its
// frag_list detached. Each list skb is pushed the same way (its own headers
// are still in front of its payload, where GRO pulled them), then:
//   - a shared one (skb_shared) is first replaced by a clone with its own
//     head (skb_clone, consume_skb of the original, skb_unclone);
//   - skb_release_head_state drops its own dst, conntrack and extensions
//     (its local storage with them) and runs its destructor;
//   - __copy_skb_header gives it skb's header state (mark, priority, cb,
//     hash, tstamp; skb's extensions shared, refcnt+1), its header offsets
//     moved to its own headroom (skb_headers_offset_update), the transport
//     header kept where its own network header length puts it;
//   - skb's first offset bytes are copied over its own
//     (skb_copy_from_linear_data_offset);
//   - its shared info is its own: its XDP metadata (meta_len) survives,
//     unlike in skb_segment's new skbs.
//
// skb's len, data_len and truesize shrink by the list's; its gso fields are
// reset (skb_gso_reset). skb itself is the first segment and gets one more
// reference (skb_get), which the caller's consume_skb drops. The segments,
// skb first, are appended to out, unlinked; the caller owns the list skbs.
// skb_needs_linearize is false for every device the model has (all have
// NETIF_F_SG and NETIF_F_FRAGLIST). On allocation failure (the clone of a
// shared list skb) every list skb is freed (kfree_skb_list), skb is left
// linear with its own bytes and no extra reference, and an error matching
// ENOMEM is returned; the caller frees skb.
func (b *Buff) SegmentList(offset int, out []*Buff) ([]*Buff, error) {
	b.check("skb_segment_list")
	if b.buf.sh.GSOType&GSOFraglist == 0 {
		panic(fmt.Sprintf("skb: skb_segment_list of %v without SKB_GSO_FRAGLIST", b))
	}
	b.push(-b.NetworkOffset()+offset, "skb_segment_list")
	list := b.buf.fragList
	b.buf.fragList = nil
	for m := list; m != nil; m = m.next {
		b.len -= m.len
		b.dataLen -= m.len
		b.truesize -= m.truesize
	}
	start := len(out)
	out = append(out, b)
	for list != nil {
		nskb := list
		list = nskb.next
		if nskb.users == 1 {
			nskb.next = nil
		} else {
			// Shared with another shared info's frag_list (skb_clone_fraglist),
			// whose chain stays as it is.
			c, err := nskb.Clone()
			if err == nil {
				nskb.ConsumeSkb()
				nskb = c
				err = nskb.Unclone()
			}
			if err != nil {
				// err_linearize: kfree_skb_list of the segments made and
				// of the rest of the list.
				nskb.KfreeSkb(DropNotSpecified)
				for m := list; m != nil; {
					next := m.next
					if m.users == 1 {
						m.next = nil
					}
					m.KfreeSkb(DropNotSpecified)
					m = next
				}
				for _, s := range out[start+1:] {
					s.KfreeSkb(DropNotSpecified)
				}
				clear(out[start:])
				return out[:start], fmt.Errorf("skb_segment_list: %w", err)
			}
		}
		nskb.push(-nskb.NetworkOffset()+offset, "skb_segment_list")
		nskb.releaseHeadState()
		lenDiff := int(nskb.off.transport) - int(nskb.off.network) - (int(b.off.transport) - int(b.off.network))
		nskb.copyHeader(b)
		nskb.headersOffsetUpdate(nskb.data - b.data)
		nskb.off.transport = uint16(int(nskb.off.transport) + lenDiff)
		copy(nskb.buf.bytes[nskb.data:nskb.data+offset], b.buf.bytes[b.data:b.data+offset])
		nskb.ResetMacLen()
		b.a.acct.Op(cost.OpMemcpyByte, uint64(offset))
		b.a.runCopy(b, nskb, CopySegment)
		out = append(out, nskb)
	}
	b.buf.sh.GSOSize, b.buf.sh.GSOSegs, b.buf.sh.GSOType = 0, 0, 0 // skb_gso_reset
	b.ResetMacLen()
	b.users++ // skb_get
	return out, nil
}
