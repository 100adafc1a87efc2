package skb

import (
	"fmt"
	"runtime"
)

type objState uint8

const (
	stateFree objState = iota // in a pool, poisoned
	stateLive
)

type fcloneKind uint8

// skb->fclone values.
const (
	fcloneUnavailable fcloneKind = iota // SKB_FCLONE_UNAVAILABLE: from skbuff_head_cache
	fcloneOrig                          // SKB_FCLONE_ORIG: skb1 of an sk_buff_fclones
	fcloneClone                         // SKB_FCLONE_CLONE: skb2 of an sk_buff_fclones
)

// Buff models struct sk_buff: the per-skb header. It points at a shared,
// reference-counted data buffer (head ... end plus skb_shared_info) that
// clones share.
//
//	head          data              tail          end
//	 |<-headroom->|<---- len ------->|<-tailroom->| skb_shared_info (meta_len,
//	 |  [XDP meta]|mac  net  trans   |            |  gso_*, hwtstamps, dataref)
//	      ^ meta ends at the mac header (skb_metadata_end)
//
// A Buff is owned by exactly one holder at a time; functions document
// whether they take ownership ("takes ownership of skb") or not. Methods
// panic when called on a freed Buff, naming the operation that freed it.
type Buff struct {
	hdr Header
	off offsets
	buf *buffer

	data, tail int // offsets from head
	len        int
	dataLen    int   // data_len: bytes in page fragments and on the frag_list
	next       *Buff // skb->next: the following skb on a frag_list
	macLen     uint16
	hdrLen     uint16
	truesize   int
	users      int32

	cloned, nohdr, peeked      bool
	headFrag, pfmemalloc, ppRc bool
	// frame: the Buff stands for an xdp_buff or xdp_frame (XDPFrame),
	// which has no struct sk_buff: none is accounted until
	// BuildSkbFromFrame.
	frame  bool
	fclone fcloneKind
	pair   *fclonePair

	activeExt uint8
	ext       *Ext

	dst      Ref
	dstNoref bool
	nfct     Ref
	ctinfo   uint8

	sk         any
	destructor func(*Buff)

	a       *Allocator
	id      uint64
	state   objState
	allocBy string
	freedBy string
}

// fclonePair models struct sk_buff_fclones: one skbuff_fclone_cache object
// holding an skb and its pre-allocated clone.
type fclonePair struct {
	skb1, skb2 Buff
	ref        int32 // fclone_ref
}

// check panics if b was freed. It is the use-after-free detector every
// method calls first.
// It is kept small enough to inline into the accessors: it makes no call;
// the panic value records the skb's state and is formatted only when
// printed (see misuseError).
func (b *Buff) check(op string) {
	if b == nil || b.state != stateLive {
		panic(&misuseError{op: op, skb: b})
	}
}

// misuseError is the panic value of a use after free (or a use of nil) that
// check and Ext.check detect: the operation and the skb or extension. Its
// message is built when printed (from the freed object, which nothing
// reuses while the panic unwinds), so that the checks stay free of calls;
// for an skb it names the caller of the method that found the misuse, while
// the panicking stack is still there.
type misuseError struct {
	op  string
	skb *Buff
	ext *Ext
}

func (m *misuseError) Error() string {
	switch {
	case m.ext != nil:
		e := m.ext
		return fmt.Sprintf("skb: use after free: %s on skb_ext #%d freed by %s (allocated by %s)",
			m.op, e.id, e.freedBy, e.allocBy)
	case m.skb != nil:
		b := m.skb
		return fmt.Sprintf("skb: use after free: %s on skb #%d freed by %s (allocated by %s)%s",
			m.op, b.id, b.freedBy, b.allocBy, panicCaller())
	}
	return "skb: " + m.op + " on nil skb"
}

// geomPanic is the panic value of skb_over_panic (op "put") and
// skb_under_panic: n bytes did not fit; the skb is as the panic left it.
type geomPanic struct {
	op string
	n  int
	b  *Buff
}

func (p *geomPanic) Error() string {
	b := p.b
	kind := "skb_under_panic"
	if p.op == "put" {
		kind = "skb_over_panic"
		if b.dataLen != 0 {
			kind = "SKB_LINEAR_ASSERT (skb_put on a non-linear skb)"
		}
	}
	return fmt.Sprintf("%s: %s:%d len:%d headroom:%d tail:%d end:%d dev:%d",
		kind, p.op, p.n, b.len, b.data, b.tail, len(b.buf.bytes), b.hdr.Dev)
}

// panicMsg is a panic value formatted (fmt.Sprintf) only when printed, so
// that a small hot function's panic path makes no call and the function
// stays inlinable. The arguments are captured at the panic; an skb among
// them prints its state as of the printing, which the panic left unchanged.
type panicMsg struct {
	format string
	args   []any
}

func (p *panicMsg) Error() string { return fmt.Sprintf(p.format, p.args...) }

// panicCaller finds, on the stack of a panic raised by check, the caller of
// the method that called check: the third frame below runtime.gopanic
// (check, the method, its caller). It returns "" once the panic has been
// recovered and the stack unwound.
func panicCaller() string {
	var pcs [64]uintptr
	frames := runtime.CallersFrames(pcs[:runtime.Callers(1, pcs[:])])
	below := -1
	for {
		f, more := frames.Next()
		if below >= 0 {
			below++
			if below == 3 {
				return fmt.Sprintf(" (called from %s:%d)", f.File, f.Line)
			}
		} else if f.Function == "runtime.gopanic" {
			below = 0
		}
		if !more {
			return ""
		}
	}
}

// ID returns a number unique to this allocation of the skb (pointers are
// reused by the pool, as slab addresses are in the kernel).
func (b *Buff) ID() uint64 { b.check("ID"); return b.id }

// H returns the header fields for reading and writing.
func (b *Buff) H() *Header { b.check("H"); return &b.hdr }

// Shinfo models skb_shinfo(skb): the shared info of the data buffer, shared
// with every clone.
func (b *Buff) Shinfo() *SharedInfo { b.check("skb_shinfo"); return &b.buf.sh }

// Len is skb->len.
func (b *Buff) Len() int { b.check("len"); return b.len }

// Headlen models skb_headlen(): len - data_len, the bytes in the linear
// data.
func (b *Buff) Headlen() int { b.check("skb_headlen"); return b.tail - b.data }

// Headroom models skb_headroom(): data - head.
func (b *Buff) Headroom() int { b.check("skb_headroom"); return b.data }

// Tailroom models skb_tailroom(): end - tail, 0 for a non-linear skb.
func (b *Buff) Tailroom() int {
	b.check("skb_tailroom")
	if b.dataLen != 0 {
		return 0
	}
	return len(b.buf.bytes) - b.tail
}

// EndOffset models skb_end_offset(): end - head.
func (b *Buff) EndOffset() int { b.check("skb_end_offset"); return len(b.buf.bytes) }

// Truesize is skb->truesize.
func (b *Buff) Truesize() int { b.check("truesize"); return b.truesize }

// Data returns the linear data, skb->data to skb_tail_pointer(). Writes
// through it change the buffer every clone shares.
func (b *Buff) Data() []byte { b.check("data"); return b.buf.bytes[b.data:b.tail:b.tail] }

// Head returns the whole buffer, head to end (headroom, data, tailroom).
func (b *Buff) Head() []byte { b.check("head"); return b.buf.bytes }

// Users is refcount_read(&skb->users).
func (b *Buff) Users() int { b.check("users"); return int(b.users) }

// Shared models skb_shared(): users != 1.
func (b *Buff) Shared() bool { b.check("skb_shared"); return b.users != 1 }

// Get models skb_get(): take another reference on the same sk_buff.
func (b *Buff) Get() *Buff { b.check("skb_get"); b.users++; return b }

// Cloned returns the skb->cloned bit: set on both sides by skb_clone and
// cleared by pskb_expand_head. It stays set after the other clones are freed.
func (b *Buff) Cloned() bool { b.check("cloned"); return b.cloned }

// Dataref returns the buffer's total reference count (the low 16 bits of
// shinfo->dataref): the number of skbs sharing the data.
func (b *Buff) Dataref() int { b.check("dataref"); return int(b.buf.dataref & datarefMask) }

// SkbCloned models skb_cloned(): cloned && (dataref & SKB_DATAREF_MASK) != 1.
func (b *Buff) SkbCloned() bool {
	b.check("skb_cloned")
	return b.cloned && b.buf.dataref&datarefMask != 1
}

// HeaderCloned models skb_header_cloned(): cloned and some other skb may
// write the header (dataref minus payload-only refs is not 1).
func (b *Buff) HeaderCloned() bool {
	b.check("skb_header_cloned")
	if !b.cloned {
		return false
	}
	d := b.buf.dataref
	return (d&datarefMask)-(d>>datarefShift) != 1
}

// HeaderRelease models skb_header_release(): the skb promises not to touch
// the header any more (TCP's clones), so the other sharer may write it.
func (b *Buff) HeaderRelease() {
	b.check("skb_header_release")
	if b.nohdr {
		panic("skb: skb_header_release twice")
	}
	b.nohdr = true
	b.buf.dataref += 1 << datarefShift
}

// Nohdr returns skb->nohdr.
func (b *Buff) Nohdr() bool { b.check("nohdr"); return b.nohdr }

// HdrLen returns skb->hdr_len: the writable header length of a clone.
func (b *Buff) HdrLen() int { b.check("hdr_len"); return int(b.hdrLen) }

// HeadFrag returns skb->head_frag: the head is a page fragment.
func (b *Buff) HeadFrag() bool { b.check("head_frag"); return b.headFrag }

// Dst returns skb_dst(skb) and whether it is held without a reference
// (SKB_DST_NOREF).
func (b *Buff) Dst() (dst Ref, noref bool) { b.check("skb_dst"); return b.dst, b.dstNoref }

// DstSet models skb_dst_set(): takes over the caller's reference on dst
// (nil clears without releasing), and sets slow_gro.
func (b *Buff) DstSet(dst Ref) {
	b.check("skb_dst_set")
	b.dst, b.dstNoref = dst, false
	b.hdr.SlowGRO = b.hdr.SlowGRO || dst != nil
}

// DstSetNoref models skb_dst_set_noref(): points at dst without a reference.
func (b *Buff) DstSetNoref(dst Ref) {
	b.check("skb_dst_set_noref")
	b.dst, b.dstNoref = dst, true
	b.hdr.SlowGRO = b.hdr.SlowGRO || dst != nil
}

// DstDrop models skb_dst_drop(): release the reference (if any) and clear.
func (b *Buff) DstDrop() { b.check("skb_dst_drop"); b.dstDrop() }

func (b *Buff) dstDrop() {
	if b.dst != nil && !b.dstNoref {
		b.dst.Release()
	}
	b.dst, b.dstNoref = nil, false
}

// dstCopy models skb_dst_copy(): share the pointer, taking a reference unless
// it is a noref dst.
func (b *Buff) dstCopy(from *Buff) {
	b.dst, b.dstNoref = from.dst, from.dstNoref
	if b.dst != nil && !b.dstNoref {
		b.dst.Hold()
	}
}

// Nfct returns skb_nfct(skb) and the ctinfo bits.
func (b *Buff) Nfct() (ct Ref, ctinfo uint8) { b.check("skb_nfct"); return b.nfct, b.ctinfo }

// SetNfct models nf_ct_set()/skb_set_nfct(): takes over the caller's
// reference and sets slow_gro.
func (b *Buff) SetNfct(ct Ref, ctinfo uint8) {
	b.check("skb_set_nfct")
	b.nfct, b.ctinfo = ct, ctinfo
	b.hdr.SlowGRO = b.hdr.SlowGRO || ct != nil
}

// NfResetCt models nf_reset_ct(): nf_conntrack_put and clear.
func (b *Buff) NfResetCt() { b.check("nf_reset_ct"); b.nfResetCt() }

func (b *Buff) nfResetCt() {
	if b.nfct != nil {
		b.nfct.Release()
	}
	b.nfct, b.ctinfo = nil, 0
}

// nfCopy models __nf_copy(dst, src, false): _nfct with a reference, and
// nf_trace (already copied with the headers group by __copy_skb_header).
func (b *Buff) nfCopy(from *Buff) {
	b.nfct, b.ctinfo = from.nfct, from.ctinfo
	if b.nfct != nil {
		b.nfct.Hold()
	}
}

// Sk returns skb->sk (an opaque socket handle).
func (b *Buff) Sk() any { b.check("sk"); return b.sk }

// SetOwner models skb_set_owner_w/r(): skb->sk = sk and skb->destructor =
// destructor (which runs once, from skb_release_head_state or skb_orphan).
// Any previous owner is orphaned first.
func (b *Buff) SetOwner(sk any, destructor func(*Buff)) {
	b.check("skb_set_owner")
	b.orphan()
	b.sk, b.destructor = sk, destructor
}

// Orphan models skb_orphan(): run the destructor and clear sk.
func (b *Buff) Orphan() { b.check("skb_orphan"); b.orphan() }

func (b *Buff) orphan() {
	if b.destructor != nil {
		d := b.destructor
		b.destructor = nil
		d(b)
		b.sk = nil
	} else if b.sk != nil {
		// A socket pointer without destructor (skb_steal_sock paths keep
		// none); the kernel's skb_orphan BUGs on it. Just clear.
		b.sk = nil
	}
}

// String summarises the skb for test failures.
func (b *Buff) String() string {
	if b == nil {
		return "skb<nil>"
	}
	if b.state != stateLive {
		return fmt.Sprintf("skb#%d<freed by %s>", b.id, b.freedBy)
	}
	return fmt.Sprintf("skb#%d{len=%d headroom=%d tailroom=%d users=%d cloned=%v dataref=%d meta_len=%d ext=%#x}",
		b.id, b.len, b.data, len(b.buf.bytes)-b.tail, b.users, b.cloned,
		b.buf.dataref&datarefMask, b.buf.sh.MetaLen, b.activeExt)
}

const (
	datarefShift = 16                      // SKB_DATAREF_SHIFT
	datarefMask  = (1 << datarefShift) - 1 // SKB_DATAREF_MASK
)
