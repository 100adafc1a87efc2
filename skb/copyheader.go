package skb

import "fmt"

// CopyHeader models skb_copy_header(new, old) on a freshly allocated b:
// __copy_skb_header (every Header field, the head-relative header offsets,
// dst and conntrack with a reference, the extensions shared with refcnt+1;
// skb->sk is not copied) plus the shared info's gso_size, gso_segs and
// gso_type (not meta_len). A caller whose buffer has another headroom than
// old's follows with HeadersOffsetUpdate, as skb_pp_cow_data and
// skb_copy_expand do. Copy hooks do not run (the kernel function copies no
// data). Does NOT take ownership of either skb. b must not hold a dst,
// conntrack or extensions yet (their references would leak): that misuse
// panics.
func (b *Buff) CopyHeader(old *Buff) {
	b.check("skb_copy_header")
	old.check("skb_copy_header")
	if b.dst != nil || b.nfct != nil || b.ext != nil {
		panic(fmt.Sprintf("skb: skb_copy_header onto skb %d that holds a dst (%v), conntrack (%v) or extensions (%v)",
			b.id, b.dst != nil, b.nfct != nil, b.ext != nil))
	}
	b.copyHeaderGSO(old)
}

// HeadersOffsetUpdate models skb_headers_offset_update(skb, off): the
// transport, network, mac and inner header offsets move by off bytes.
func (b *Buff) HeadersOffsetUpdate(off int) {
	b.check("skb_headers_offset_update")
	b.headersOffsetUpdate(off)
}
