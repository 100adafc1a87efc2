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
	// ListFree runs, before Free, for each skb of a frag_list that
	// kfree_skb_list_reason frees with its last reference (the list's
	// owner was freed, trimmed or pulled): where trace_kfree_skb /
	// trace_consume_skb fire for it inside the skb layer, out of sight of
	// the stack's own calls.
	ListFree func(b *Buff, reason DropReason)
}

// hookList holds the installed Hooks, and each kind's non-nil functions in
// installation order, so that a path runs only the functions it has.
type hookList struct {
	list        []Hooks
	clone       []func(orig, clone *Buff)
	copy        []func(orig, cp *Buff, kind CopyKind)
	scrubBefore []func(b *Buff, xnet bool)
	scrubAfter  []func(b *Buff, xnet bool)
	free        []func(b *Buff, reason DropReason)
	listFree    []func(b *Buff, reason DropReason)
}

// AddHooks installs h after the hooks already installed. With no hooks
// installed the model's paths pay only a length check.
func (a *Allocator) AddHooks(h Hooks) {
	l := &a.hooks
	l.list = append(l.list, h)
	if h.Clone != nil {
		l.clone = append(l.clone, h.Clone)
	}
	if h.Copy != nil {
		l.copy = append(l.copy, h.Copy)
	}
	if h.ScrubBefore != nil {
		l.scrubBefore = append(l.scrubBefore, h.ScrubBefore)
	}
	if h.ScrubAfter != nil {
		l.scrubAfter = append(l.scrubAfter, h.ScrubAfter)
	}
	if h.Free != nil {
		l.free = append(l.free, h.Free)
	}
	if h.ListFree != nil {
		l.listFree = append(l.listFree, h.ListFree)
	}
}

// ClearHooks removes every hook.
func (a *Allocator) ClearHooks() { a.hooks = hookList{} }

func (a *Allocator) runClone(orig, clone *Buff) {
	for _, f := range a.hooks.clone {
		f(orig, clone)
	}
}

func (a *Allocator) runCopy(orig, cp *Buff, kind CopyKind) {
	for _, f := range a.hooks.copy {
		f(orig, cp, kind)
	}
}

func (a *Allocator) runScrub(b *Buff, xnet, after bool) {
	fs := a.hooks.scrubBefore
	if after {
		fs = a.hooks.scrubAfter
	}
	for _, f := range fs {
		f(b, xnet)
	}
}

func (a *Allocator) runFree(b *Buff, reason DropReason) {
	for _, f := range a.hooks.free {
		f(b, reason)
	}
}

func (a *Allocator) runListFree(b *Buff, reason DropReason) {
	for _, f := range a.hooks.listFree {
		f(b, reason)
	}
}
