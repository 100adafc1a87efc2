package skb

import "fmt"

// KfreeSkb models kfree_skb_reason(skb, reason) (sk_skb_reason_drop with no
// socket): drop one reference (skb->users); the last one runs the Free
// hooks (where the kfree_skb / consume_skb tracepoints fire), then
// skb_release_all (dst, destructor, conntrack, extensions, data) and frees
// the sk_buff. Takes ownership of skb. A second free of the same skb panics,
// naming the operation that freed it.
func (b *Buff) KfreeSkb(reason DropReason) {
	op := "kfree_skb"
	if reason == SkbConsumed {
		op = "consume_skb"
	}
	b.checkFree(op)
	if reason == SkbNotDroppedYet || reason >= numDropReasons {
		panic(&panicMsg{"skb: kfree_skb with reason %d", []any{reason}})
	}
	if !b.unref() {
		return
	}
	b.a.runFree(b, reason)
	// __kfree_skb, written out (free) to save a call per packet.
	b.releaseHeadState()
	b.releaseData(reason, op)
	b.a.freeSkbmem(b, op)
}

// ConsumeSkb models consume_skb(): KfreeSkb(SkbConsumed). Takes ownership
// of skb.
func (b *Buff) ConsumeSkb() { b.KfreeSkb(SkbConsumed) }

func (b *Buff) checkFree(op string) {
	if b == nil {
		panic(&panicMsg{"skb: %s of nil skb", []any{op}})
	}
	if b.state != stateLive {
		panic(&panicMsg{"skb: double free: %s of skb #%d already freed by %s (allocated by %s)",
			[]any{op, b.id, b.freedBy, b.allocBy}})
	}
}

// unref models skb_unref(): true when the caller held the last reference.
func (b *Buff) unref() bool {
	if b.users == 1 {
		return true
	}
	if b.users <= 0 {
		panic(&panicMsg{"skb: skb_unref with users %d on %v", []any{b.users, b}})
	}
	b.users--
	return false
}

// free models __kfree_skb(): skb_release_all (reason NOT_SPECIFIED, which
// the skbs on a frag_list are freed with) then kfree_skbmem.
func (b *Buff) free(op string) {
	b.releaseHeadState()
	b.releaseData(DropNotSpecified, op)
	b.a.freeSkbmem(b, op)
}

// releaseHeadState models skb_release_head_state(): drop the dst, run the
// destructor (which clears sk), put the conntrack and the extensions.
func (b *Buff) releaseHeadState() {
	b.dstDrop()
	if b.destructor != nil {
		d := b.destructor
		b.destructor = nil
		d(b)
		b.sk = nil
	}
	b.nfResetCt()
	b.extReset("skb_release_head_state")
}

// releaseData models skb_release_data(skb, reason) with skb_data_unref():
// an skb that is not cloned owns the buffer outright; a clone drops one
// reference (two kinds if it released the header) and the last releases
// the page fragments, frees the frag_list with reason
// (kfree_skb_list_reason) and frees the head.
func (b *Buff) releaseData(reason DropReason, op string) {
	buf := b.buf
	b.buf = nil
	if buf == nil {
		return
	}
	if !b.cloned {
		if buf.dataref != 1 {
			panic(fmt.Sprintf("skb: uncloned skb #%d releasing buffer #%d with dataref %#x", b.id, buf.id, buf.dataref))
		}
		if buf.fragList != nil || len(buf.frags) != 0 {
			b.a.releaseNonlinear(buf, reason, op)
		}
		b.a.releaseHead(buf, op)
		return
	}
	bias := uint32(1)
	if b.nohdr {
		bias = 1<<datarefShift + 1
	}
	if buf.dataref == bias {
		if buf.fragList != nil || len(buf.frags) != 0 {
			b.a.releaseNonlinear(buf, reason, op)
		}
		b.a.releaseHead(buf, op)
		return
	}
	if buf.dataref&datarefMask <= 1 {
		panic(fmt.Sprintf("skb: dataref underflow on buffer #%d (%#x) by skb #%d", buf.id, buf.dataref, b.id))
	}
	buf.dataref -= bias
}
