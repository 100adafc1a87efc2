package skb

import "fmt"

// copyHeader models __copy_skb_header(new, old): tstamp, dev, cb, dst (with
// a reference), extensions (shared, refcnt+1), conntrack (with a reference),
// queue_mapping and the headers group (every field of Header and the header
// offsets). skb->sk is not copied.
func (n *Buff) copyHeader(old *Buff) {
	n.hdr = old.hdr
	n.off = old.off
	n.dstCopy(old)
	n.extShare(old)
	n.nfCopy(old)
}

// copyHeaderGSO models skb_copy_header(): __copy_skb_header plus the
// shinfo's gso_size, gso_segs and gso_type.
func (n *Buff) copyHeaderGSO(old *Buff) {
	n.copyHeader(old)
	n.buf.sh.GSOSize = old.buf.sh.GSOSize
	n.buf.sh.GSOSegs = old.buf.sh.GSOSegs
	n.buf.sh.GSOType = old.buf.sh.GSOType
}

// Clone models skb_clone(skb, GFP_ATOMIC): a new sk_buff sharing the data
// buffer and skb_shared_info (dataref+1), with the header copied as
// __skb_clone does; skb->cloned is set on both. An skb from AllocSkbFclone
// whose companion is free uses it without allocating. Does NOT take
// ownership of skb; the caller owns the clone. On allocation failure it
// returns an error matching ENOMEM.
func (b *Buff) Clone() (*Buff, error) {
	b.check("skb_clone")
	a := b.a
	var n *Buff
	if b.fclone == fcloneOrig && b.pair.ref == 1 {
		n = &b.pair.skb2
		b.pair.ref = 2
		*n = Buff{a: a, fclone: fcloneClone, pair: b.pair}
		a.claimSkb(n, "skb_clone")
	} else {
		var err error
		if n, err = a.newSkb("skb_clone"); err != nil {
			return nil, err
		}
	}
	n.cloneFrom(b)
	a.runClone(b, n)
	return n, nil
}

// cloneFrom models __skb_clone(n, skb).
func (n *Buff) cloneFrom(b *Buff) {
	n.sk = nil
	n.copyHeader(b)
	n.len = b.len
	n.dataLen = b.dataLen
	n.macLen = b.macLen
	if b.nohdr {
		n.hdrLen = uint16(b.data)
	} else {
		n.hdrLen = b.hdrLen
	}
	n.cloned = true
	n.nohdr = false
	n.peeked = false
	n.pfmemalloc = b.pfmemalloc
	n.ppRc = b.ppRc
	n.destructor = nil
	n.tail = b.tail
	n.buf = b.buf
	n.headFrag = b.headFrag
	n.data = b.data
	n.truesize = b.truesize
	n.users = 1
	b.buf.dataref++
	b.cloned = true
}

// ShareCheck models skb_share_check(): if the skb is shared (users > 1),
// clone it and drop the caller's reference; returns the skb to use. On clone
// failure the reference is dropped and an error returned. Takes ownership of
// skb.
func (b *Buff) ShareCheck() (*Buff, error) {
	b.check("skb_share_check")
	if b.users == 1 {
		return b, nil
	}
	n, err := b.Clone()
	if err != nil {
		b.KfreeSkb(DropNomem)
		return nil, err
	}
	b.ConsumeSkb()
	return n, nil
}

// Morph models skb_morph(dst, src): release everything dst holds and make
// it a clone of src (IP defrag). Does NOT take ownership of src.
func (b *Buff) Morph(src *Buff) {
	b.check("skb_morph")
	src.check("skb_morph")
	if b == src {
		panic("skb: skb_morph onto itself")
	}
	b.releaseHeadState()
	b.releaseData(SkbConsumed, "skb_morph")
	a, id, pair, kind, allocBy := b.a, b.id, b.pair, b.fclone, b.allocBy
	*b = Buff{a: a, id: id, pair: pair, fclone: kind, state: stateLive, allocBy: allocBy}
	b.cloneFrom(src)
}

// CloneSk models skb_clone_sk(): a clone that keeps skb->sk (the kernel
// also takes a socket reference and installs sock_efree). Returns nil, nil
// when the skb has no socket.
func (b *Buff) CloneSk(destructor func(*Buff)) (*Buff, error) {
	b.check("skb_clone_sk")
	if b.sk == nil {
		return nil, nil
	}
	n, err := b.Clone()
	if err != nil {
		return nil, fmt.Errorf("skb_clone_sk: %w", err)
	}
	n.sk, n.destructor = b.sk, destructor
	return n, nil
}
