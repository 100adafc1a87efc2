package skb

import "github.com/skbsim/skbsim/internal/errno"

// ErrRoomPull is returned by NetHdrPop when the bytes to pop are not in
// the packet (pskb_may_pull fails: -ENOMEM).
var ErrRoomPull = errno.New("skb: bytes to pop beyond the packet", errno.ENOMEM)

// NetHdrPush models bpf_skb_net_hdr_push(skb, off, len) after the caller's
// skb_cow_head: bpf_skb_generic_push pushes len bytes, moves the off bytes
// that were at data down to the new data (PushMove: with DataMoveHelpers,
// v6.19's skb_postpush_data_move(skb, len, off), the XDP metadata moves
// too; before, the moved bytes overwrite it) and zeroes the len bytes
// after them; the mac and network headers move down by len, and a
// transport header equal to the network header moves with it. Data must
// be at the mac header for the metadata to move.
func (b *Buff) NetHdrPush(off, length int) {
	b.check("bpf_skb_net_hdr_push")
	transSame := b.off.transport == b.off.network
	clear(b.PushMove(length, off))
	if b.off.mac != unsetOffset {
		b.off.mac -= uint16(length)
	}
	b.off.network -= uint16(length)
	if transSame {
		b.off.transport = b.off.network
	}
}

// NetHdrPop models bpf_skb_net_hdr_pop(skb, off, len) on an uncloned skb
// (the caller's skb_unclone): bpf_skb_generic_pop needs off + len bytes
// (pskb_may_pull, else ErrRoomPull), pulls len and moves the off bytes
// that were at data up to the new data (PullMove: with DataMoveHelpers,
// v6.19's skb_postpull_data_move, the XDP metadata moves too; before, it
// stays behind); the mac and network headers move up by len, and a
// transport header equal to the network header moves with it. CHECKSUM_COMPLETE
// (skb_postpull_rcsum) is not modelled.
func (b *Buff) NetHdrPop(off, length int) error {
	b.check("bpf_skb_net_hdr_pop")
	if !b.MayPull(off + length) {
		return ErrRoomPull
	}
	transSame := b.off.transport == b.off.network
	b.PullMove(length, off)
	if b.off.mac != unsetOffset {
		b.off.mac += uint16(length)
	}
	b.off.network += uint16(length)
	if transSame {
		b.off.transport = b.off.network
	}
	return nil
}

// ChangeTail models the data work of bpf_skb_change_tail
// (__bpf_skb_change_tail after its argument checks) for a new length of
// newLen bytes: __bpf_try_make_writable(skb, skb->len) first
// (skb_ensure_writable: the whole packet pulled into the linear data and
// a cloned head made private, pskb_expand_head), then bpf_skb_grow_rcsum
// (__skb_grow: pskb_expand_head(skb, 0, diff - tailroom) when the tailroom
// is short; the new bytes zeroed) or bpf_skb_trim_rcsum (__skb_trim), and
// skb_gso_reset for a GSO skb. Every pskb_expand_head on the way clears
// the XDP metadata before v6.19 (PskbExpandHeadKeepsMeta); a trim, or a
// grow into the tailroom of a private linear head, keeps it. On
// allocation failure it returns an error matching ENOMEM.
func (b *Buff) ChangeTail(newLen int) error {
	b.check("bpf_skb_change_tail")
	if err := b.EnsureWritable(b.len); err != nil {
		return err
	}
	switch {
	case newLen > b.len:
		diff := newLen - b.len
		if tr := b.Tailroom(); tr < diff {
			if err := b.ExpandHead(0, diff-tr); err != nil {
				return err
			}
		}
		clear(b.Put(diff))
	case newLen < b.len:
		b.Trim(newLen)
	}
	if b.buf.sh.GSOSize != 0 {
		b.buf.sh.GSOSize, b.buf.sh.GSOSegs, b.buf.sh.GSOType = 0, 0, 0 // skb_gso_reset
	}
	return nil
}
