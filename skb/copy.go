package skb

import (
	"fmt"

	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/internal/errno"
)

// ErrFraglist is returned by Copy and CopyExpand for SKB_GSO_FRAGLIST skbs,
// which skb_copy refuses (WARN_ON_ONCE, NULL).
var ErrFraglist = errno.New("skb: copy of a SKB_GSO_FRAGLIST skb", errno.EINVAL)

// Copy models skb_copy(skb, GFP_ATOMIC): a new skb with its own buffer of
// the same end offset, the headroom and data copied byte for byte, and the
// header copied by skb_copy_header (gso fields only from the shared info).
// The new shared info is zeroed, so meta_len is 0: the metadata bytes are in
// the copied headroom but no longer reachable. Does NOT take ownership of
// skb; the caller owns the copy.
func (b *Buff) Copy() (*Buff, error) {
	b.check("skb_copy")
	if b.buf.sh.GSOType&GSOFraglist != 0 {
		b.a.warns.SkbCopyFraglist++
		return nil, fmt.Errorf("skb_copy: %w", ErrFraglist)
	}
	headerlen := b.data
	n, err := b.a.allocSkb(len(b.buf.bytes)+b.dataLen, false, "skb_copy")
	if err != nil {
		return nil, err
	}
	n.Reserve(headerlen)
	n.Put(b.len)
	// skb_copy_bits(skb, -headerlen, n->head, headerlen + skb->len): the
	// copy is linear.
	b.copyBits(-headerlen, n.buf.bytes[:headerlen+b.len])
	b.a.acct.Op(cost.OpMemcpyByte, uint64(headerlen+b.len))
	n.copyHeaderGSO(b)
	b.a.runCopy(b, n, CopySkb)
	return n, nil
}

// CopyExpand models skb_copy_expand(skb, newheadroom, newtailroom): like
// Copy into a buffer of newheadroom + len + newtailroom, copying at most
// min(old headroom, newheadroom) bytes of headroom (the bytes nearest the
// data) and shifting the header offsets. meta_len is 0. Does NOT take
// ownership of skb.
func (b *Buff) CopyExpand(newHeadroom, newTailroom int) (*Buff, error) {
	b.check("skb_copy_expand")
	if newHeadroom < 0 || newTailroom < 0 {
		panic(fmt.Sprintf("skb: skb_copy_expand(%d, %d)", newHeadroom, newTailroom))
	}
	if b.buf.sh.GSOType&GSOFraglist != 0 {
		b.a.warns.SkbCopyFraglist++
		return nil, fmt.Errorf("skb_copy_expand: %w", ErrFraglist)
	}
	oldHeadroom := b.data
	n, err := b.a.allocSkb(newHeadroom+b.len+newTailroom, false, "skb_copy_expand")
	if err != nil {
		return nil, err
	}
	n.Reserve(newHeadroom)
	n.Put(b.len)
	headCopyLen, headCopyOff := oldHeadroom, 0
	if newHeadroom <= headCopyLen {
		headCopyLen = newHeadroom
	} else {
		headCopyOff = newHeadroom - headCopyLen
	}
	b.copyBits(-headCopyLen, n.buf.bytes[headCopyOff:headCopyOff+headCopyLen+b.len])
	b.a.acct.Op(cost.OpMemcpyByte, uint64(headCopyLen+b.len))
	n.copyHeaderGSO(b)
	n.headersOffsetUpdate(newHeadroom - oldHeadroom)
	b.a.runCopy(b, n, CopyExpand)
	return n, nil
}

// PskbCopy models pskb_copy(skb, GFP_ATOMIC) = __pskb_copy_fclone(skb,
// skb_headroom(skb), gfp, false): a new buffer with the same headroom but
// only the linear data copied (no headroom bytes: neither the metadata nor a
// mac header that data is already past), skb_copy_header, meta_len 0. Does
// NOT take ownership of skb.
func (b *Buff) PskbCopy() (*Buff, error) { return b.pskbCopy(b.Headroom(), false) }

// PskbCopyFclone models __pskb_copy_fclone(skb, headroom, gfp, true): as
// PskbCopy with the given headroom, the copy coming from the fclone cache
// (TCP retransmits of a cloned skb).
func (b *Buff) PskbCopyFclone(headroom int) (*Buff, error) { return b.pskbCopy(headroom, true) }

func (b *Buff) pskbCopy(headroom int, fclone bool) (*Buff, error) {
	b.check("pskb_copy")
	headlen := b.tail - b.data
	n, err := b.a.allocSkb(headlen+headroom, fclone, "pskb_copy")
	if err != nil {
		return nil, err
	}
	n.Reserve(headroom)
	copy(n.Put(headlen), b.buf.bytes[b.data:b.tail])
	b.a.acct.Op(cost.OpMemcpyByte, uint64(headlen))
	if b.dataLen != 0 {
		// The page fragments referenced (skb_frag_ref), the frag_list
		// shared (skb_clone_fraglist).
		n.truesize += b.dataLen
		n.dataLen = b.dataLen
		n.len = b.len
		nb := n.buf
		nb.frags = append(nb.frags[:0], b.buf.frags...)
		nb.fragRefAll()
		nb.fragList = b.buf.fragList
		nb.cloneFragList()
	}
	n.copyHeaderGSO(b)
	b.a.runCopy(b, n, CopyPskb)
	return n, nil
}

// ExpandHead models pskb_expand_head(skb, nhead, ntail, GFP_ATOMIC): give
// the skb a private buffer nhead bytes bigger at the head and ntail at the
// tail. The whole old head up to tail (headroom and its metadata bytes
// included) is copied, then the shared info (meta_len, gso, hwtstamps). A
// clone releases its reference on the old buffer, which keeps its original
// shared info for the other clones; otherwise the old head is freed. Header
// offsets shift by nhead, cloned/nohdr/hdr_len are cleared, dataref is 1.
// Profiles before v6.19 then clear meta_len (skb_metadata_clear). On
// allocation failure it returns an error matching ENOMEM and the skb is
// unchanged. It panics on a shared skb (users > 1) or negative nhead, as
// the kernel's BUG_ONs do.
func (b *Buff) ExpandHead(nhead, ntail int) error {
	b.check("pskb_expand_head")
	if nhead < 0 || ntail < 0 {
		panic(fmt.Sprintf("skb: pskb_expand_head(%d, %d) on %v", nhead, ntail, b))
	}
	if b.users != 1 {
		panic(fmt.Sprintf("skb: pskb_expand_head on shared skb %v", b))
	}
	a := b.a
	osize := len(b.buf.bytes)
	nb, err := a.allocHead(osize+nhead+ntail, "pskb_expand_head")
	if err != nil {
		return fmt.Errorf("pskb_expand_head: %w", err)
	}
	old := b.buf
	copy(nb.bytes[nhead:nhead+b.tail], old.bytes[:b.tail])
	nb.sh = old.sh
	nb.meta = old.meta
	if nb.meta.intact {
		nb.meta.lo += nhead
		nb.meta.hi += nhead
	}
	nonlinear := len(old.frags) != 0 || old.fragList != nil
	if nonlinear {
		nb.frags = append(nb.frags[:0], old.frags...)
		nb.fragList = old.fragList
	}
	a.acct.Op(cost.OpMemcpyByte, uint64(b.tail+sharedInfoCopyBytes+fragDescBytes*len(old.frags)))
	if b.SkbCloned() {
		// The fragments and the frag_list stay with the old buffer for
		// the other clones: the new shared info takes its own references.
		if nonlinear {
			nb.fragRefAll()
			nb.cloneFragList()
		}
		b.releaseData(SkbConsumed, "pskb_expand_head")
	} else {
		b.buf = nil
		if nonlinear {
			clear(old.frags)
			old.frags, old.fragList = old.frags[:0], nil
		}
		a.releaseHead(old, "pskb_expand_head")
	}
	b.buf = nb
	b.headFrag = false
	b.data += nhead
	b.tail += nhead
	b.headersOffsetUpdate(nhead)
	b.cloned = false
	b.hdrLen = 0
	b.nohdr = false
	nb.dataref = 1
	if b.sk == nil {
		b.truesize += len(nb.bytes) - osize
	}
	if !a.prof.PskbExpandHeadKeepsMeta {
		nb.sh.MetaLen = 0 // skb_metadata_clear (v4.15 .. v6.18)
		nb.meta = metaRecord{}
	}
	return nil
}

// sharedInfoCopyBytes is offsetof(struct skb_shared_info, frags[0]): the
// part of the shared info pskb_expand_head copies for a linear skb.
const sharedInfoCopyBytes = 48

// fragDescBytes is sizeof(skb_frag_t), copied per page fragment.
const fragDescBytes = 16

// cow models __skb_cow(skb, headroom, cloned).
func (b *Buff) cow(headroom int, cloned bool) error {
	delta := 0
	if headroom > b.data {
		delta = headroom - b.data
	}
	if delta != 0 || cloned {
		return b.ExpandHead(alignUp(delta, NetSkbPad), 0)
	}
	return nil
}

// Cow models skb_cow(skb, headroom): reallocate the head when the skb is
// cloned (skb_cloned) or has less than headroom bytes of headroom; extra
// headroom is rounded up to NET_SKB_PAD.
func (b *Buff) Cow(headroom int) error {
	b.check("skb_cow")
	return b.cow(headroom, b.SkbCloned())
}

// CowHead models skb_cow_head(skb, headroom): as Cow, but a clone whose
// sharers released the header (skb_header_cloned false) is not copied.
func (b *Buff) CowHead(headroom int) error {
	b.check("skb_cow_head")
	return b.cow(headroom, b.HeaderCloned())
}

// Unclone models skb_unclone(skb, GFP_ATOMIC): pskb_expand_head(skb, 0, 0)
// if the skb is cloned.
func (b *Buff) Unclone() error {
	b.check("skb_unclone")
	if b.SkbCloned() {
		return b.ExpandHead(0, 0)
	}
	return nil
}

// ErrNoMemPull is returned by EnsureWritable when writeLen exceeds the
// data (pskb_may_pull fails), as the kernel's -ENOMEM.
var ErrNoMemPull = errno.New("skb: cannot pull the bytes to write", errno.ENOMEM)

// CloneWritable models skb_clone_writable(skb, len): the header is not
// shared and headroom + len fits in hdr_len.
func (b *Buff) CloneWritable(length int) bool {
	b.check("skb_clone_writable")
	return !b.HeaderCloned() && b.data+length <= int(b.hdrLen)
}

// EnsureWritable models skb_ensure_writable(skb, write_len): the first
// write_len bytes must be pullable, and a clone that may not write them gets
// a private head (pskb_expand_head(skb, 0, 0)).
func (b *Buff) EnsureWritable(writeLen int) error {
	b.check("skb_ensure_writable")
	if !b.MayPull(writeLen) {
		return fmt.Errorf("skb_ensure_writable(%d) with len %d: %w", writeLen, b.len, ErrNoMemPull)
	}
	if !b.SkbCloned() || b.CloneWritable(writeLen) {
		return nil
	}
	return b.ExpandHead(0, 0)
}

// Unshare models skb_unshare(skb): a cloned skb is replaced by skb_copy of
// it and the original consumed (metadata lost: meta_len 0 on the copy). If
// the copy fails, the original is freed too and an error returned. Takes
// ownership of skb; returns the skb to use.
func (b *Buff) Unshare() (*Buff, error) {
	b.check("skb_unshare")
	if !b.SkbCloned() {
		return b, nil
	}
	n, err := b.Copy()
	if err != nil {
		b.KfreeSkb(DropNomem)
		return nil, fmt.Errorf("skb_unshare: %w", err)
	}
	b.ConsumeSkb()
	return n, nil
}

// ReallocHeadroom models skb_realloc_headroom(skb, headroom): a new skb
// with at least headroom bytes of headroom and a private head: pskb_copy if
// the headroom already suffices, else a clone expanded by
// SKB_DATA_ALIGN(delta). Does NOT take ownership of skb.
func (b *Buff) ReallocHeadroom(headroom int) (*Buff, error) {
	b.check("skb_realloc_headroom")
	delta := headroom - b.data
	if delta <= 0 {
		return b.PskbCopy()
	}
	n, err := b.Clone()
	if err != nil {
		return nil, fmt.Errorf("skb_realloc_headroom: %w", err)
	}
	if err := n.ExpandHead(dataAlign(delta), 0); err != nil {
		n.KfreeSkb(DropNomem)
		return nil, fmt.Errorf("skb_realloc_headroom: %w", err)
	}
	return n, nil
}
