package skb

import (
	"fmt"

	"github.com/skbsim/skbsim/internal/errno"
)

// GROFree says what napi_skb_finish does with an skb that GROReceive took
// into a held one (NAPI_GRO_CB(skb)->free, or GRO_MERGED).
type GROFree uint8

const (
	// GROMerged: the skb went on the held skb's frag_list and lives with
	// it (GRO_MERGED): the caller does nothing.
	GROMerged GROFree = iota
	// GROFreeSkb: its page fragments moved to the held skb; the caller
	// frees the rest with NapiFree (__napi_kfree_skb).
	GROFreeSkb
	// GROFreeStolenHead: its head became a page fragment of the held skb;
	// the caller frees the sk_buff with FreeStolenHead
	// (napi_skb_free_stolen_head).
	GROFreeStolenHead
)

// GROMaxSize is GRO_LEGACY_MAX_SIZE, the default dev->gro_max_size.
const GROMaxSize = 65536

// Errors of GROReceive, which the protocols' gro_receive turn into a flush.
var (
	ErrGROPageSplice = errno.New("skb: gro of page-pool and other pages", errno.ETOOMANYREFS)
	ErrGROTooBig     = errno.New("skb: gro aggregate too big", errno.E2BIG)
)

// GROReceive models skb_gro_receive(p, skb) for p, the skb GRO holds, and
// last, NAPI_GRO_CB(p)->last (p until an skb went on its frag_list);
// offset is skb_gro_offset(skb), the headers before skb's payload. The
// payload goes to last (p's length, data_len and truesize grow, and last's
// when it is not p):
//   - from skb's page fragments when its linear data holds only headers
//     (NAPI_GRO_FREE);
//   - else, for a page-fragment head (head_frag), as one more page
//     fragment: skb's head is stolen (NAPI_GRO_FREE_STOLEN_HEAD), its
//     truesize shrinking to the sk_buff's (a cloned skb, which the
//     kernel never sees here, is merged instead: its head is shared);
//   - else (or with no room left for the fragments) skb itself goes on
//     p's frag_list, pulled to its payload, its socket cleared (merge:,
//     GRO_MERGED; __skb_header_release, which changes nothing the model
//     observes on an uncloned skb, is not modelled).
//
// It returns the new last and what the caller does with skb; an error
// (p and skb of different page pools: ETOOMANYREFS; an aggregate of
// GROMaxSize or more: E2BIG) leaves both unchanged. Takes ownership of
// skb on success.
func (p *Buff) GROReceive(last, b *Buff, offset int) (*Buff, GROFree, error) {
	p.check("skb_gro_receive")
	b.check("skb_gro_receive")
	last.check("skb_gro_receive")
	headlen := b.tail - b.data
	n := b.len - offset // skb_gro_len
	if p.ppRc != b.ppRc {
		return last, 0, fmt.Errorf("skb_gro_receive: %w", ErrGROPageSplice)
	}
	if p.len+n >= GROMaxSize {
		return last, 0, fmt.Errorf("skb_gro_receive: %w", ErrGROTooBig)
	}
	if offset < 0 || n < 0 {
		panic(fmt.Sprintf("skb: skb_gro_receive with offset %d of %v", offset, b))
	}
	lb, bb := last.buf, b.buf
	var delta int
	free := GROMerged
	switch {
	case headlen <= offset && len(lb.frags)+len(bb.frags) <= MaxSkbFrags && len(bb.frags) != 0:
		// The payload is all in skb's page fragments.
		start := len(lb.frags)
		lb.frags = append(lb.frags, bb.frags...)
		lb.frags[start].off += offset - headlen
		lb.frags[start].size -= offset - headlen
		clear(bb.frags)
		bb.frags = bb.frags[:0]
		nt := trueSize(len(bb.bytes))
		delta = b.truesize - nt
		b.truesize = nt
		b.len -= b.dataLen
		b.dataLen = 0
		free = GROFreeSkb
	case headlen > offset && b.headFrag && !b.SkbCloned() && len(lb.frags)+1+len(bb.frags) <= MaxSkbFrags:
		// The head, past the headers, becomes a page fragment.
		bb.pageRefs++
		lb.frags = append(lb.frags, pageFrag{buf: bb, off: b.data + offset, size: headlen - offset})
		lb.frags = append(lb.frags, bb.frags...)
		clear(bb.frags) // the page fragments are last's now
		bb.frags = bb.frags[:0]
		nt := dataAlign(SizeofSkBuff)
		delta = b.truesize - nt
		b.truesize = nt
		free = GROFreeStolenHead
	default:
		// merge: on p's frag_list.
		if b.destructor != nil || b.sk != nil {
			b.destructor, b.sk = nil, nil // ownership moves to the aggregate
		}
		delta = b.truesize
		if offset > headlen {
			eat := offset - headlen
			bb.frags[0].off += eat
			bb.frags[0].size -= eat
			b.dataLen -= eat
			b.len -= eat
			offset = headlen
		}
		b.data += offset
		b.len -= offset
		if last == p {
			p.buf.fragList = b
		} else {
			last.next = b
		}
		last = b
		lb = nil
	}
	p.dataLen += n
	p.truesize += delta
	p.len += n
	if lb != nil && last != p {
		last.dataLen += n
		last.truesize += delta
		last.len += n
	}
	return last, free, nil
}

// FreeStolenHead models napi_skb_free_stolen_head() after GROReceive took
// the head: the head state released (with slow_gro: conntrack, dst,
// extensions, socket; releasing them unconditionally is the same, an skb
// without any has nothing to release) and the sk_buff returned to its
// cache. The buffer belongs to the page fragment now. No tracepoint fires.
// Takes ownership of skb.
func (b *Buff) FreeStolenHead() {
	b.checkFree("napi_skb_free_stolen_head")
	b.releaseHeadState()
	buf := b.buf
	b.buf = nil
	buf.dataref = 0 // the page references (pageRefs) keep it
	b.a.freeSkbmem(b, "napi_skb_free_stolen_head")
}

// NapiFree models __napi_kfree_skb(skb, SKB_CONSUMED) (napi_skb_finish of
// an skb whose page fragments GROReceive moved, or __kfree_skb of an
// fclone): skb_release_all and the sk_buff returned to its cache. No
// tracepoint fires. Takes ownership of skb.
func (b *Buff) NapiFree() {
	b.checkFree("__napi_kfree_skb")
	b.releaseHeadState()
	b.releaseData(SkbConsumed, "__napi_kfree_skb")
	b.a.freeSkbmem(b, "__napi_kfree_skb")
}

// GROReceiveList models skb_gro_receive_list(p, skb), fraglist GRO
// (NETIF_F_GRO_FRAGLIST): skb itself goes at the end of p's frag_list
// (skb_shinfo(p)->frag_list when last is p, else last->next), pulled to its
// payload (skb_pull(skb, skb_gro_offset(skb)); the caller made the offset
// bytes linear), its destructor and socket cleared without running (the
// aggregate owns them now). p's len, data_len and truesize grow by skb's;
// nothing is copied or stolen, last's counters do not change and
// napi_skb_finish frees nothing (GRO_MERGED). skb keeps its own shared
// info: its XDP metadata stays in its headroom. An aggregate of GROMaxSize
// or more (p->len + skb->len, skb not yet pulled) is E2BIG and leaves both
// unchanged. Returns the new last (skb). Takes ownership of skb on success.
func (p *Buff) GROReceiveList(last, b *Buff, offset int) (*Buff, error) {
	p.check("skb_gro_receive_list")
	b.check("skb_gro_receive_list")
	last.check("skb_gro_receive_list")
	if p.len+b.len >= GROMaxSize {
		return last, fmt.Errorf("skb_gro_receive_list: %w", ErrGROTooBig)
	}
	if offset < 0 || offset > b.tail-b.data || b.next != nil || b == p {
		panic(fmt.Sprintf("skb: skb_gro_receive_list with offset %d of %v onto %v", offset, b, p))
	}
	if last == p {
		p.buf.fragList = b
	} else {
		last.next = b
	}
	b.data += offset
	b.len -= offset
	b.destructor, b.sk = nil, nil
	p.dataLen += b.len
	p.truesize += b.truesize
	p.len += b.len
	return b, nil
}
