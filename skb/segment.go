package skb

import (
	"fmt"

	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/internal/errno"
)

// Segment models skb_segment(head_skb, features) with NETIF_F_SG (every
// device the model has scatter-gather): the data is cut into gso_size
// pieces (mss, 0 meaning shinfo->gso_size); each segment is a fresh
// __alloc_skb(hsize + doffset + headroom) with the same headroom, the
// headers from the mac header to data copied in front of its piece (data
// starts at the segment's mac header), and __copy_skb_header(nskb,
// head_skb): mark, priority, cb, hash, tstamp, extensions (shared), dst and
// conntrack (referenced) replicate to every segment; the new shared info
// has meta_len = 0 and no gso fields. The part of a piece in the linear
// data (hsize bytes) is copied; the part in page fragments is not: the
// segment's fragments reference the same pages (__skb_frag_ref), and its
// data_len and truesize grow by those bytes. A frag_list skb is copied
// whole (skb_segment's walk of the list is not modelled). Protocol headers
// (lengths, sequence numbers, checksums) are the caller's to fix, as the
// protocol gso_segment callbacks do. Tunnel GSO (tnl_hlen bytes before the
// mac header, SKB_GSO_CB) and the sock_wfree swap of sk/destructor/truesize
// to the last segment are not modelled.
//
// Segments are appended to out (pass a reused slice to avoid allocating).
// The mac header must be set. Does NOT take ownership of skb: the caller
// frees it (consume_skb after validate_xmit_skb). On allocation failure the
// segments made so far are freed and an error matching ENOMEM returned; a
// segment that would need more than MAX_SKB_FRAGS fragments is -EINVAL.
func (b *Buff) Segment(mss int, out []*Buff) ([]*Buff, error) {
	b.check("skb_segment")
	if mss == 0 {
		mss = int(b.buf.sh.GSOSize)
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
	headroom := int(b.off.mac)  // skb_headroom after __skb_push(head_skb, doffset)
	headlen := b.tail - b.data  // payload bytes in the linear data
	sg := b.buf.fragList == nil // the frag_list walk is not modelled: copied
	start := len(out)
	fail := func(err error) ([]*Buff, error) {
		for _, s := range out[start:] {
			s.KfreeSkb(DropSkbGSOSeg)
		}
		clear(out[start:])
		return out[:start], fmt.Errorf("skb_segment: %w", err)
	}
	for offset := 0; offset < b.len; {
		n := b.len - offset
		if n > mss {
			n = mss
		}
		hsize := max(headlen-offset, 0)
		if hsize > n || !sg {
			hsize = n
		}
		nskb, err := b.a.allocSkb(hsize+doffset+headroom, false, "skb_segment")
		if err != nil {
			return fail(err)
		}
		nskb.Reserve(headroom)
		nskb.Put(doffset)
		nskb.copyHeader(b)
		nskb.headersOffsetUpdate(nskb.data - headroom)
		nskb.ResetMacLen()
		// skb_copy_from_linear_data_offset(head_skb, -tnl_hlen, nskb->data -
		// tnl_hlen, doffset + tnl_hlen) with tnl_hlen = 0, head_skb->data
		// pushed back to the mac header; then the payload piece.
		mac := int(b.off.mac)
		copy(nskb.buf.bytes[nskb.data:nskb.data+doffset], b.buf.bytes[mac:mac+doffset])
		b.copyBits(offset, nskb.Put(hsize)) // skb_copy_bits / skb_copy_from_linear_data_offset
		b.a.acct.Op(cost.OpMemcpyByte, uint64(doffset+hsize))
		out = append(out, nskb)
		if hsize < n {
			if err := nskb.segmentFrags(b, headlen, offset+hsize, n-hsize); err != nil {
				return fail(err)
			}
		}
		b.a.runCopy(b, nskb, CopySegment)
		offset += n
	}
	return out, nil
}

// segmentFrags is skb_segment's fragment loop for one segment: the n
// bytes at payload offset from of head (whose page fragments start at
// payload offset headlen) become fragments of b referencing the same
// pages (__skb_frag_ref), trimmed to the piece; b's len, data_len and
// truesize grow by n.
func (b *Buff) segmentFrags(head *Buff, headlen, from, n int) error {
	pos := headlen
	for _, f := range head.buf.frags {
		if pos >= from+n {
			break
		}
		lo, hi := max(pos, from), min(pos+f.size, from+n)
		if lo < hi {
			if len(b.buf.frags) >= MaxSkbFrags {
				return fmt.Errorf("%d fragments: %w", len(b.buf.frags), ErrSegmentFrags)
			}
			f.buf.pageRefs++
			b.buf.frags = append(b.buf.frags, pageFrag{buf: f.buf, off: f.off + lo - pos, size: hi - lo})
		}
		pos += f.size
	}
	b.len += n
	b.dataLen += n
	b.truesize += n
	return nil
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
