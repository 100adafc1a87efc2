package skb

import (
	"fmt"

	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/internal/errno"
)

// Non-linear skbs. The bytes of an skb are its linear data (skb->data to
// skb->tail, Headlen bytes) followed by data_len bytes kept elsewhere: page
// fragments (skb_shinfo(skb)->frags[], here only heads stolen from other
// skbs by skb_try_coalesce) and then the skbs on skb_shinfo(skb)->frag_list,
// each contributing its own len bytes. Both live in the shared info, so
// clones share them. The stack makes such skbs when it reassembles IP
// fragments (inet_frag_reasm_finish); every path that reads past the
// linear data goes through CopyBits, MayPull, PskbPull or PskbTrim, as the
// kernel's do.

// MaxSkbFrags is MAX_SKB_FRAGS (CONFIG_MAX_SKB_FRAGS, 17 by default).
const MaxSkbFrags = 17

// pageFrag models an skb_frag_t: size bytes at off in a page. The page is
// the data buffer of an skb whose head was stolen (skb_try_coalesce); the
// fragment holds one of the buffer's page references (buffer.pageRefs).
type pageFrag struct {
	buf       *buffer
	off, size int
}

// ErrFault is returned by CopyBits for a range outside the skb's bytes
// (skb_copy_bits' -EFAULT).
var ErrFault = errno.New("skb: copy outside the skb's data", errno.EFAULT)

// DataLen is skb->data_len: the bytes held in page fragments and on the
// frag_list.
func (b *Buff) DataLen() int { b.check("data_len"); return b.dataLen }

// IsNonlinear models skb_is_nonlinear(): data_len != 0.
func (b *Buff) IsNonlinear() bool { b.check("skb_is_nonlinear"); return b.dataLen != 0 }

// NrFrags is skb_shinfo(skb)->nr_frags.
func (b *Buff) NrFrags() int { b.check("nr_frags"); return len(b.buf.frags) }

// HasFragList models skb_has_frag_list().
func (b *Buff) HasFragList() bool { b.check("skb_has_frag_list"); return b.buf.fragList != nil }

// FragList returns the skbs on the frag_list, in order (skb_walk_frags),
// appended to out. The skbs stay owned by the list.
func (b *Buff) FragList(out []*Buff) []*Buff {
	b.check("skb_walk_frags")
	for m := b.buf.fragList; m != nil; m = m.next {
		out = append(out, m)
	}
	return out
}

// CopyBits models skb_copy_bits(skb, offset, to, len(to)): copy the bytes
// at offset from skb->data (negative reaches into the headroom, as far as
// the linear part goes) through the page fragments and the frag_list.
func (b *Buff) CopyBits(offset int, to []byte) error {
	b.check("skb_copy_bits")
	n := len(to)
	if offset > b.len-n || offset < -b.data {
		return fmt.Errorf("skb_copy_bits(%d, %d) with len %d: %w", offset, n, b.len, ErrFault)
	}
	b.copyBits(offset, to)
	return nil
}

// copyBits copies without the range check (callers checked it).
func (b *Buff) copyBits(offset int, to []byte) {
	if b.dataLen == 0 {
		copy(to, b.buf.bytes[b.data+offset:b.tail])
		return
	}
	start := b.tail - b.data // skb_headlen
	if c := start - offset; c > 0 {
		c = min(c, len(to))
		copy(to[:c], b.buf.bytes[b.data+offset:])
		to = to[c:]
		offset += c
	}
	for _, f := range b.buf.frags {
		if len(to) == 0 {
			return
		}
		end := start + f.size
		if c := end - offset; c > 0 {
			c = min(c, len(to))
			o := f.off + offset - start
			copy(to[:c], f.buf.bytes[o:o+c])
			to = to[c:]
			offset += c
		}
		start = end
	}
	for m := b.buf.fragList; m != nil && len(to) != 0; m = m.next {
		end := start + m.len
		if c := end - offset; c > 0 {
			c = min(c, len(to))
			m.copyBits(offset-start, to[:c])
			to = to[c:]
			offset += c
		}
		start = end
	}
}

// HeaderPointer models skb_header_pointer(): the n bytes at offset from
// data, a view of the linear data when they are there, else copied into
// scratch (which must hold n bytes); nil when the skb is too short.
func (b *Buff) HeaderPointer(offset, n int, scratch []byte) []byte {
	b.check("skb_header_pointer")
	if offset >= 0 && offset+n <= b.tail-b.data {
		return b.buf.bytes[b.data+offset : b.data+offset+n : b.data+offset+n]
	}
	if b.CopyBits(offset, scratch[:n]) != nil {
		return nil
	}
	return scratch[:n]
}

// MayPull models pskb_may_pull(skb, n): true when the first n bytes are in
// the linear data, pulling them there from the fragments (__pskb_pull_tail)
// if needed; false when the skb is shorter or the pull fails.
func (b *Buff) MayPull(n int) bool {
	// The common case inlines: a live skb with the bytes in its linear
	// data (a freed skb's state is not stateLive, so it takes the slow
	// path, whose check panics).
	if b.state == stateLive && uint(n) <= uint(b.tail-b.data) {
		return true
	}
	return b.mayPullTail(n)
}

// mayPullTail is MayPull past the linear data, kept out of line.
func (b *Buff) mayPullTail(n int) bool {
	b.check("pskb_may_pull")
	if n < 0 || n > b.len {
		return false
	}
	return b.pullTail(n - (b.tail - b.data))
}

// PskbPull models pskb_pull(skb, n): skb_pull after pskb_may_pull, so the
// bytes pulled may come from the fragments. It returns the new data and
// false when the skb is shorter than n or the pull fails.
func (b *Buff) PskbPull(n int) ([]byte, bool) {
	b.check("pskb_pull")
	if n < 0 || n > b.len || !b.MayPull(n) {
		return nil, false
	}
	return b.Pull(n)
}

// Linearize models skb_linearize(): move every byte into the linear data
// (__pskb_pull_tail(skb, data_len)); an error matching ENOMEM when the head
// cannot grow.
func (b *Buff) Linearize() error {
	b.check("skb_linearize")
	if b.dataLen == 0 || b.pullTail(b.dataLen) {
		return nil
	}
	return fmt.Errorf("skb_linearize: %w", ErrNoMemPull)
}

// pullTail models __pskb_pull_tail(skb, delta): grow the head if the bytes
// do not fit in its tailroom (pskb_expand_head(skb, 0, eat + 128), which
// also unclones), copy delta bytes from the fragments to the tail, then
// drop what was pulled: page fragments eaten whole are unreferenced, a
// partly eaten one shrinks; frag_list skbs eaten whole are consumed
// (consume_skb), a partly eaten one is pulled (a clone of it first if it is
// shared).
func (b *Buff) pullTail(delta int) bool {
	eat := b.tail + delta - len(b.buf.bytes)
	if eat > 0 || b.SkbCloned() {
		grow := 0
		if eat > 0 {
			grow = eat + 128
		}
		if b.ExpandHead(0, grow) != nil {
			return false
		}
	}
	b.copyBits(b.tail-b.data, b.buf.bytes[b.tail:b.tail+delta])
	b.a.acct.Op(cost.OpMemcpyByte, uint64(delta))
	sh := b.buf
	if sh.fragList != nil {
		eat = delta
		for _, f := range sh.frags {
			if f.size >= eat {
				eat = 0
				break
			}
			eat -= f.size
		}
		if eat != 0 {
			list := sh.fragList
			var clone, insp *Buff
			for eat != 0 {
				if list.len <= eat {
					// Eaten as whole.
					eat -= list.len
					list = list.next
					insp = list
					continue
				}
				// Eaten partially.
				if list.users != 1 {
					c, err := list.Clone()
					if err != nil {
						return false
					}
					clone = c
					insp = list.next
					list = clone
				} else {
					insp = list
				}
				if _, ok := list.PskbPull(eat); !ok {
					if clone != nil {
						clone.KfreeSkb(DropNotSpecified)
					}
					return false
				}
				break
			}
			// Free pulled out fragments.
			for sh.fragList != insp {
				m := sh.fragList
				sh.fragList = m.next
				b.a.consumeListed(m)
			}
			// And insert the new clone at the head.
			if clone != nil {
				clone.next = insp
				sh.fragList = clone
			}
		}
	}
	eat = delta
	k := 0
	for i := range sh.frags {
		f := sh.frags[i]
		if f.size <= eat {
			b.a.fragUnref(f, "__pskb_pull_tail")
			eat -= f.size
			continue
		}
		if eat != 0 {
			f.off += eat
			f.size -= eat
			eat = 0
		}
		sh.frags[k] = f
		k++
	}
	clear(sh.frags[k:])
	sh.frags = sh.frags[:k]
	b.tail += delta
	b.dataLen -= delta
	return true
}

// PskbTrim models pskb_trim(skb, length): skb_trim for a linear skb, else
// ___pskb_trim: a cloned skb gets a private head first; page fragments
// past length are unreferenced and the one across it shrinks; on the
// frag_list, shared skbs met on the way are replaced by clones, the one
// across length is trimmed and those after it are freed (skb_drop_list:
// kfree_skb, NOT_SPECIFIED); then, for an skb without a socket (the
// kernel also condenses sock_edemux ones, which the model does not have),
// skb_condense pulls a remainder that fits the tailroom into the linear
// data. An error matching ENOMEM leaves the skb usable but not trimmed.
func (b *Buff) PskbTrim(length int) error {
	// Nothing to trim (the common case) inlines, as the kernel's
	// pskb_trim_rcsum does; a freed skb takes the slow path, whose check
	// panics.
	if b.state == stateLive && length >= b.len {
		return nil
	}
	return b.pskbTrim(length)
}

// pskbTrim is pskb_trim past the inline case: skb_trim of a linear skb,
// else ___pskb_trim.
func (b *Buff) pskbTrim(length int) error {
	b.check("pskb_trim")
	if length < 0 {
		panic(&panicMsg{"skb: pskb_trim(%d)", []any{length}})
	}
	if length >= b.len {
		return nil
	}
	if b.dataLen == 0 {
		b.len = length
		b.tail = b.data + length
		return nil
	}
	if b.SkbCloned() {
		if err := b.ExpandHead(0, 0); err != nil {
			return fmt.Errorf("pskb_trim: %w", err)
		}
	}
	sh := b.buf
	offset := b.tail - b.data
	i := 0
	dropRest := offset >= length
	if !dropRest {
		for ; i < len(sh.frags); i++ {
			end := offset + sh.frags[i].size
			if end < length {
				offset = end
				continue
			}
			sh.frags[i].size = length - offset
			i++
			dropRest = true
			break
		}
	}
	if dropRest {
		for _, f := range sh.frags[i:] {
			b.a.fragUnref(f, "pskb_trim")
		}
		clear(sh.frags[i:])
		sh.frags = sh.frags[:i]
		b.dropList(&sh.fragList)
	} else {
		for p := &sh.fragList; *p != nil; p = &(*p).next {
			m := *p
			end := offset + m.len
			if m.users != 1 {
				n, err := m.Clone()
				if err != nil {
					return fmt.Errorf("pskb_trim: %w", err)
				}
				n.next = m.next
				b.a.consumeListed(m)
				m = n
				*p = m
			}
			if end < length {
				offset = end
				continue
			}
			if end > length {
				if err := m.PskbTrim(length - offset); err != nil {
					return fmt.Errorf("pskb_trim: %w", err)
				}
			}
			b.dropList(&m.next)
			break
		}
	}
	if length > b.tail-b.data {
		b.dataLen -= b.len - length
		b.len = length
	} else {
		b.len = length
		b.dataLen = 0
		b.tail = b.data + length
	}
	if b.sk == nil {
		b.condense()
	}
	return nil
}

// condense models skb_condense(): a non-linear remainder that fits the
// tailroom of an uncloned head is pulled into it (freeing its pages), and
// truesize becomes SKB_TRUESIZE(skb_end_offset(skb)).
func (b *Buff) condense() {
	if b.dataLen != 0 {
		if b.dataLen > len(b.buf.bytes)-b.tail || b.SkbCloned() {
			return
		}
		b.pullTail(b.dataLen)
	}
	b.truesize = trueSize(len(b.buf.bytes))
}

// dropList models skb_drop_list(): free the skbs from *list on with
// kfree_skb (NOT_SPECIFIED), each with its tracepoint.
func (b *Buff) dropList(list **Buff) {
	m := *list
	*list = nil
	b.a.freeList(m, DropNotSpecified)
}

// freeList models kfree_skb_list_reason(segs, reason): every skb on the
// list loses a reference; for those that lose their last, the tracepoint
// fires (the ListFree hooks, then the Free hooks) and the skb is freed.
func (a *Allocator) freeList(m *Buff, reason DropReason) {
	for m != nil {
		next := m.next
		a.freeListed(m, reason)
		m = next
	}
}

// freeListed frees one reference to m, an skb taken off a frag_list. Only
// the last one unlinks it (skb_poison_list): a list shared with another
// shared info (skb_clone_fraglist) still runs through m.next.
func (a *Allocator) freeListed(m *Buff, reason DropReason) {
	if m.users == 1 {
		m.next = nil
		a.runListFree(m, reason)
	}
	m.KfreeSkb(reason)
}

// consumeListed is consume_skb of an skb taken off a frag_list.
func (a *Allocator) consumeListed(m *Buff) { a.freeListed(m, SkbConsumed) }

// cloneFragList models skb_clone_fraglist(): every skb on the frag_list
// gains a reference (skb_get), for a second shared info that points to the
// same list.
func (buf *buffer) cloneFragList() {
	for m := buf.fragList; m != nil; m = m.next {
		m.users++
	}
}

// fragRefAll models skb_frag_ref() of every page fragment.
func (buf *buffer) fragRefAll() {
	for _, f := range buf.frags {
		f.buf.pageRefs++
	}
}

// fragUnref models skb_frag_unref(): the page is freed with its last
// reference, unless it is still the head of an skb (dataref: a page-fragment
// head that skb_segment referenced as a fragment of a segment).
func (a *Allocator) fragUnref(f pageFrag, op string) {
	if f.buf.pageRefs <= 0 {
		panic(fmt.Sprintf("skb: page reference underflow on buffer #%d by %s", f.buf.id, op))
	}
	f.buf.pageRefs--
	if f.buf.pageRefs == 0 && f.buf.dataref == 0 {
		a.freeHead(f.buf, op)
	}
}

// releaseHead models skb_free_head() when the last skb lets go of its
// buffer: a page-fragment head that page fragments of other skbs still
// reference (skb_segment's skb_head_frag_to_page_desc takes a page
// reference) stays until the last of them (skb_free_frag is a put_page);
// any other is freed.
func (a *Allocator) releaseHead(buf *buffer, op string) {
	if buf.pageRefs != 0 {
		buf.dataref = 0 // the page references keep it
		return
	}
	a.freeHead(buf, op)
}

// releaseNonlinear is the part of skb_release_data() that runs with the
// last reference to the buffer: its page fragments are unreferenced and
// the frag_list freed with reason (kfree_skb_list_reason).
func (a *Allocator) releaseNonlinear(buf *buffer, reason DropReason, op string) {
	for _, f := range buf.frags {
		a.fragUnref(f, op)
	}
	clear(buf.frags)
	buf.frags = buf.frags[:0]
	if m := buf.fragList; m != nil {
		buf.fragList = nil
		a.freeList(m, reason)
	}
}

// TryCoalesce models skb_try_coalesce(to, from): add from's bytes to the
// end of to, if possible without copying more than the tailroom allows:
//   - never when to is cloned, or only one of them recycles page-pool
//     pages;
//   - from's bytes copied into to's tailroom when they fit (a linear to);
//   - otherwise not when either has a frag_list;
//   - from's head stolen as a page fragment of to (stolen true) when from
//     has linear data, to has room for one more fragment and from's head is
//     not locked (skb_head_is_locked: a kmalloc'ed head, or a clone);
//   - from's page fragments moved (or referenced, if from is cloned).
//
// It returns whether the bytes were added, whether from's head was stolen
// and the truesize to gained (delta_truesize). On success the caller frees
// from with FreePartial(stolen) (kfree_skb_partial).
func (b *Buff) TryCoalesce(from *Buff) (ok, stolen bool, delta int) {
	b.check("skb_try_coalesce")
	from.check("skb_try_coalesce")
	n := from.len
	if b.SkbCloned() || b.ppRc != from.ppRc {
		return false, false, 0
	}
	if b.dataLen == 0 && n <= len(b.buf.bytes)-b.tail {
		from.copyBits(0, b.Put(n))
		b.a.acct.Op(cost.OpMemcpyByte, uint64(n))
		return true, false, 0
	}
	if b.buf.fragList != nil || from.buf.fragList != nil {
		return false, false, 0
	}
	to, fr := b.buf, from.buf
	headlen := from.tail - from.data
	if headlen != 0 {
		if len(to.frags)+len(fr.frags) >= MaxSkbFrags || !from.headFrag || from.SkbCloned() {
			return false, false, 0
		}
		delta = from.truesize - dataAlign(SizeofSkBuff)
		fr.pageRefs++
		to.frags = append(to.frags, pageFrag{buf: fr, off: from.data, size: headlen})
		stolen = true
	} else {
		if len(to.frags)+len(fr.frags) > MaxSkbFrags {
			return false, false, 0
		}
		delta = from.truesize - trueSize(len(fr.bytes))
	}
	to.frags = append(to.frags, fr.frags...)
	if from.SkbCloned() {
		fr.fragRefAll()
	} else {
		clear(fr.frags)
		fr.frags = fr.frags[:0]
	}
	b.truesize += delta
	b.len += n
	b.dataLen += n
	return true, stolen, delta
}

// FreePartial models kfree_skb_partial(skb, head_stolen) after a
// successful TryCoalesce: with the head stolen, skb_release_head_state and
// the sk_buff freed (the buffer now belongs to the page fragment);
// otherwise __kfree_skb. No tracepoint fires. Takes ownership of skb.
func (b *Buff) FreePartial(stolen bool) {
	b.checkFree("kfree_skb_partial")
	if !stolen {
		b.free("kfree_skb_partial")
		return
	}
	b.releaseHeadState()
	buf := b.buf
	b.buf = nil
	buf.dataref = 0 // the page references (pageRefs) keep it
	b.a.freeSkbmem(b, "kfree_skb_partial")
}

// AppendFragList is the frag_list branch of inet_frag_reasm_finish(): fp
// goes at the end of b's frag_list, its bytes counted in b's len and
// data_len, its truesize in b's, its socket cleared. Takes ownership of fp,
// which must be alone (not on a list).
func (b *Buff) AppendFragList(fp *Buff) {
	b.check("frag_list append")
	fp.check("frag_list append")
	if fp.next != nil || fp == b {
		panic(fmt.Sprintf("skb: frag_list append of %v onto %v", fp, b))
	}
	p := &b.buf.fragList
	for *p != nil {
		p = &(*p).next
	}
	*p = fp
	fp.sk = nil
	b.dataLen += fp.len
	b.len += fp.len
	b.truesize += fp.truesize
}

// Pagelen models skb_pagelen(): the linear data and the page fragments,
// without the frag_list.
func (b *Buff) Pagelen() int {
	b.check("skb_pagelen")
	n := b.tail - b.data
	for _, f := range b.buf.frags {
		n += f.size
	}
	return n
}

// DetachFragList is the skb side of ip_fraglist_init() /
// ip6_fraglist_init(): the frag_list is taken off the shared info
// (skb_frag_list_init) and the skb keeps its own bytes only (len =
// skb_pagelen, data_len = len - headlen). The list's skbs are appended to
// out, in order and unlinked, and belong to the caller. The skb must not
// be cloned.
func (b *Buff) DetachFragList(out []*Buff) []*Buff {
	b.check("ip_fraglist_init")
	if b.SkbCloned() {
		panic(fmt.Sprintf("skb: frag_list detached from cloned skb %v", b))
	}
	for m := b.buf.fragList; m != nil; {
		next := m.next
		m.next = nil
		b.len -= m.len
		b.dataLen -= m.len
		out = append(out, m)
		m = next
	}
	b.buf.fragList = nil
	return out
}

// AdjustTruesize adds delta to skb->truesize, as callers that move bytes
// between skbs do (ip_do_fragment's fast path gives each frag_list skb back
// its own truesize).
func (b *Buff) AdjustTruesize(delta int) {
	b.check("truesize")
	b.truesize += delta
}

// FragListLen is the number of skbs on the frag_list.
func (b *Buff) FragListLen() int {
	b.check("skb_walk_frags")
	n := 0
	for m := b.buf.fragList; m != nil; m = m.next {
		n++
	}
	return n
}
