package skb

// CopyKind says which kernel function made a copy reported to Hooks.Copy.
type CopyKind uint8

// Copy kinds.
const (
	CopySkb      CopyKind = iota // skb_copy (also inside skb_unshare)
	CopyExpand                   // skb_copy_expand
	CopyPskb                     // pskb_copy / __pskb_copy_fclone
	CopySegment                  // skb_segment (GSO), one call per segment
	CopyFragment                 // ip_do_fragment slow path (ip_copy_metadata), one call per fragment
)

func (k CopyKind) String() string {
	switch k {
	case CopySkb:
		return "skb_copy"
	case CopyExpand:
		return "skb_copy_expand"
	case CopyPskb:
		return "pskb_copy"
	case CopySegment:
		return "skb_segment"
	case CopyFragment:
		return "ip_fragment"
	}
	return "copy?"
}

// Hooks are callbacks for metadata carriers that live outside the skb (BPF
// local storage flags proposed by the RFC, or a hash table keyed by skb
// pointer that tracepoints on clone, copy and free maintain). Any field may be
// nil. Hooks run synchronously and must not free the skbs they are given.
type Hooks struct {
	// Clone runs at the end of skb_clone(), after the header copy (the
	// place of a proposed clone tracepoint / BPF_F_CLONE copy).
	Clone func(orig, clone *Buff)
	// Copy runs after every copy that makes a new skb with its own buffer:
	// skb_copy, skb_copy_expand, pskb_copy, each GSO segment and each IP
	// fragment.
	Copy func(orig, cp *Buff, kind CopyKind)
	// ScrubBefore and ScrubAfter run around skb_ext_reset() inside
	// skb_scrub_packet(), where flags to survive scrubbing would act.
	ScrubBefore func(b *Buff, xnet bool)
	ScrubAfter  func(b *Buff, xnet bool)
	// Free runs when the last reference goes, where trace_kfree_skb /
	// trace_consume_skb fire: before skb_release_all, so extensions, dst and
	// conntrack are still attached. reason is SkbConsumed for consume_skb.
	Free func(b *Buff, reason DropReason)
}

type hookList struct {
	list []Hooks
}

// AddHooks installs h after the hooks already installed. With no hooks
// installed the model's paths pay only a length check.
func (a *Allocator) AddHooks(h Hooks) { a.hooks.list = append(a.hooks.list, h) }

// ClearHooks removes every hook.
func (a *Allocator) ClearHooks() { a.hooks.list = nil }

func (a *Allocator) runClone(orig, clone *Buff) {
	for i := range a.hooks.list {
		if f := a.hooks.list[i].Clone; f != nil {
			f(orig, clone)
		}
	}
}

func (a *Allocator) runCopy(orig, cp *Buff, kind CopyKind) {
	for i := range a.hooks.list {
		if f := a.hooks.list[i].Copy; f != nil {
			f(orig, cp, kind)
		}
	}
}

func (a *Allocator) runScrub(b *Buff, xnet, after bool) {
	for i := range a.hooks.list {
		f := a.hooks.list[i].ScrubBefore
		if after {
			f = a.hooks.list[i].ScrubAfter
		}
		if f != nil {
			f(b, xnet)
		}
	}
}

func (a *Allocator) runFree(b *Buff, reason DropReason) {
	for i := range a.hooks.list {
		if f := a.hooks.list[i].Free; f != nil {
			f(b, reason)
		}
	}
}
