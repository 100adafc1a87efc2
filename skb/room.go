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
