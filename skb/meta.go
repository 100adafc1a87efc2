package skb

import "github.com/skbsim/skbsim/cost"

// XDP metadata in skbs: skb_shinfo(skb)->meta_len bytes of headroom ending
// at skb_metadata_end(skb) == skb_mac_header(skb). The bytes have no storage
// of their own; the model records where skb_metadata_set put them so it can
// tell when the view computed from the current mac header no longer shows
// them (a push wrote over them, or the mac header moved).

// overwrite marks the recorded metadata overwritten if [lo, hi) overlaps it.
func (m *metaRecord) overwrite(lo, hi int) {
	if m.intact && lo < m.hi && m.lo < hi {
		m.intact = false
	}
}

// MetadataLen models skb_metadata_len(): shinfo->meta_len.
func (b *Buff) MetadataLen() int { b.check("skb_metadata_len"); return int(b.buf.sh.MetaLen) }

// MetadataSet models skb_metadata_set(skb, n): shinfo->meta_len = n, shared
// by every clone. The model records the n bytes right before skb->data as
// the metadata (drivers call it while data still points at the frame start,
// which eth_type_trans then makes the mac header). n = 0 is
// skb_metadata_clear().
func (b *Buff) MetadataSet(n int) {
	b.check("skb_metadata_set")
	if n < 0 || n > 255 {
		panic("skb: skb_metadata_set length outside u8")
	}
	b.buf.sh.MetaLen = uint8(n)
	if n == 0 || n > b.data {
		b.buf.meta = metaRecord{}
		return
	}
	b.buf.meta = metaRecord{lo: b.data - n, hi: b.data, intact: true}
}

// MetadataClear models skb_metadata_clear().
func (b *Buff) MetadataClear() { b.check("skb_metadata_clear"); b.MetadataSet(0) }

// metaRange returns [skb_metadata_end - meta_len, skb_metadata_end) from
// head, or ok = false when there is no metadata or it does not fit.
func (b *Buff) metaRange() (lo, hi int, ok bool) {
	n := int(b.buf.sh.MetaLen)
	if n == 0 || b.off.mac == unsetOffset {
		return 0, 0, false
	}
	hi = int(b.off.mac)
	lo = hi - n
	if lo < 0 || hi > len(b.buf.bytes) {
		return 0, 0, false
	}
	return lo, hi, true
}

// Metadata returns the XDP metadata view, computed now from the mac header:
// the meta_len bytes ending at skb_metadata_end(skb) (what
// bpf_dynptr_from_skb_meta and, with data at the mac header,
// __sk_buff->data_meta show). valid is false when those bytes are not the
// metadata that skb_metadata_set recorded: a push overwrote them, the mac
// header moved (decapsulation), or the head was copied without it. view is
// nil when meta_len is 0 or the range falls outside the buffer. Writes
// through view change the buffer every clone shares.
func (b *Buff) Metadata() (view []byte, valid bool) {
	b.check("skb_metadata_end")
	lo, hi, ok := b.metaRange()
	if !ok {
		return nil, false
	}
	m := b.buf.meta
	return b.buf.bytes[lo:hi:hi], m.intact && m.lo == lo && m.hi == hi
}

// DataMeta returns the metadata as a tc program sees it through
// __sk_buff->data_meta: bpf_compute_data_pointers() sets data_meta =
// skb->data - skb_metadata_len(skb), so the view is the meta_len bytes
// before data, not before the mac header. The two agree when data is at
// the mac header, as tc ingress's __skb_push(skb, mac_len) and transmit
// normally leave it; where mac_len is stale (a generic XDP page-pool copy,
// whose mac_len is 0 while its mac header is 14 bytes before data) the
// bytes are the end of the Ethernet header. valid is as for Metadata; view
// is nil when meta_len is 0 or exceeds the headroom.
func (b *Buff) DataMeta() (view []byte, valid bool) {
	b.check("data_meta")
	n := int(b.buf.sh.MetaLen)
	if n == 0 || n > b.data {
		return nil, false
	}
	lo, hi := b.data-n, b.data
	m := b.buf.meta
	return b.buf.bytes[lo:hi:hi], m.intact && m.lo == lo && m.hi == hi
}

// MetadataDiffers models skb_metadata_differs(a, b) (GRO's same-flow test):
// false if both have no metadata, true if the lengths differ, else whether
// the bytes ending at each skb_metadata_end differ.
func MetadataDiffers(x, y *Buff) bool {
	x.check("skb_metadata_differs")
	y.check("skb_metadata_differs")
	lx, ly := int(x.buf.sh.MetaLen), int(y.buf.sh.MetaLen)
	if lx|ly == 0 {
		return false
	}
	if lx != ly {
		return true
	}
	vx, _ := x.Metadata()
	vy, _ := y.Metadata()
	if vx == nil || vy == nil {
		// The kernel would read before head; the model calls that a
		// difference rather than compare out-of-buffer bytes.
		return true
	}
	return string(vx) != string(vy)
}

// MoveMetadata models the memmove(meta + delta, meta, meta_len) that
// skb_reorder_vlan_header() (skb_vlan_untag) does before moving the mac
// header by the same amount: the metadata bytes, and the record of them,
// move by delta.
func (b *Buff) MoveMetadata(delta int) {
	b.check("skb_metadata_move")
	lo, hi, ok := b.metaRange()
	if !ok || delta == 0 {
		return
	}
	if lo+delta < 0 || hi+delta > len(b.buf.bytes) {
		panic("skb: metadata move outside the buffer")
	}
	copy(b.buf.bytes[lo+delta:hi+delta], b.buf.bytes[lo:hi])
	b.a.acct.Op(cost.OpMemcpyByte, uint64(hi-lo))
	m := &b.buf.meta
	if m.intact && m.lo == lo && m.hi == hi {
		m.lo, m.hi = lo+delta, hi+delta
	} else {
		m.overwrite(lo+delta, hi+delta)
	}
}

// PushMove models __skb_push(skb, len) followed by
// skb_postpush_data_move(skb, len, n) (v6.19 TC helpers and VLAN insert):
// the n bytes that were at the old skb->data, and the metadata right before
// them, move down by len, so the metadata again ends right before data and
// a len-byte gap opens at data + n. If the metadata did not end at the old
// data, or does not fit in the remaining headroom, it is cleared (the
// kernel's WARN_ON_ONCE path) and only the n bytes move. Profiles without
// DataMoveHelpers model the pre-6.19 callers: memmove(data, data + len, n)
// only, so the moved bytes and the new header overwrite whatever metadata
// was there. Returns the gap, which the caller fills with the new header.
func (b *Buff) PushMove(length, n int) []byte {
	b.check("skb_postpush_data_move")
	if n < 0 || b.data+n > b.tail {
		panic("skb: skb_postpush_data_move beyond the data")
	}
	b.push(length, "skb_push")
	if b.a.prof.DataMoveHelpers {
		b.dataMove(-length, n)
	} else {
		copy(b.buf.bytes[b.data:b.data+n], b.buf.bytes[b.data+length:b.data+length+n])
		b.a.acct.Op(cost.OpMemcpyByte, uint64(n))
		b.buf.meta.overwrite(b.data, b.data+n)
	}
	gap := b.data + n
	b.buf.meta.overwrite(gap, gap+length)
	return b.buf.bytes[gap : gap+length : gap+length]
}

// PullMove models __skb_pull(skb, len) followed by
// skb_postpull_data_move(skb, len, n): the n bytes before the new data and
// the metadata before them move up by len. Without DataMoveHelpers only the
// n bytes move (the metadata is left behind, so the view from a mac header
// reset to data shows other bytes). ok is false if len > skb->len.
func (b *Buff) PullMove(length, n int) (data []byte, ok bool) {
	b.check("skb_postpull_data_move")
	if length < 0 || length > b.len {
		return nil, false
	}
	if length > b.tail-b.data {
		panic(&panicMsg{"skb: __skb_pull(%d) past the %d linear bytes of %v", []any{length, b.tail - b.data, b}})
	}
	b.data += length
	b.len -= length
	if n < 0 || n > b.len+length {
		panic("skb: skb_postpull_data_move of more than the pulled data")
	}
	if b.a.prof.DataMoveHelpers {
		b.dataMove(length, n)
	} else {
		copy(b.buf.bytes[b.data:b.data+n], b.buf.bytes[b.data-length:b.data-length+n])
		b.a.acct.Op(cost.OpMemcpyByte, uint64(n))
	}
	return b.buf.bytes[b.data:b.tail:b.tail], true
}

// dataMove models skb_data_move(skb, len, n) (v6.19, 8989d328dfe7), called
// after skb->data moved by len (negative: pushed).
func (b *Buff) dataMove(length, n int) {
	metaLen := int(b.buf.sh.MetaLen)
	if length == 0 || (n == 0 && metaLen == 0) {
		return
	}
	if metaLen != 0 {
		metaEnd := -1
		if b.off.mac != unsetOffset {
			metaEnd = int(b.off.mac)
		}
		meta := metaEnd - metaLen
		if metaEnd+length != b.data || metaLen > b.data {
			b.a.warns.DataMoveMeta++ // WARN_ON_ONCE
			b.buf.sh.MetaLen = 0     // skb_metadata_clear
			b.buf.meta = metaRecord{}
		} else {
			// memmove(meta + len, meta, meta_len + n)
			copy(b.buf.bytes[meta+length:meta+length+metaLen+n], b.buf.bytes[meta:meta+metaLen+n])
			b.a.acct.Op(cost.OpMemcpyByte, uint64(metaLen+n))
			m := &b.buf.meta
			if m.intact && m.lo == meta && m.hi == metaEnd {
				m.lo, m.hi = meta+length, metaEnd+length
			} else {
				m.overwrite(meta+length, metaEnd+length)
			}
			return
		}
	}
	// no_metadata: memmove(skb->data, skb->data - len, n)
	copy(b.buf.bytes[b.data:b.data+n], b.buf.bytes[b.data-length:b.data-length+n])
	b.a.acct.Op(cost.OpMemcpyByte, uint64(n))
	b.buf.meta.overwrite(b.data, b.data+n)
}
