package skb

import "fmt"

// Ref is an opaque, reference-counted kernel object that an skb points at: a
// dst_entry (skb_dst, including metadata dsts) or a conntrack entry
// (skb_nfct). The model calls Hold when it copies the pointer (dst_clone,
// nf_conntrack_get) and Release when it drops it (dst_release,
// nf_conntrack_put), so the owner of the object can count references.
type Ref interface {
	Hold()
	Release()
}

// Handle is a ready-made Ref that counts references and panics when released
// more often than held. NewHandle returns it with one reference, the
// creator's.
type Handle struct {
	Name string
	refs int32
}

// NewHandle returns a handle named name holding one reference.
func NewHandle(name string) *Handle { return &Handle{Name: name, refs: 1} }

// Hold takes a reference.
func (h *Handle) Hold() {
	if h.refs <= 0 {
		panic(fmt.Sprintf("skb: hold of released handle %q (refs %d)", h.Name, h.refs))
	}
	h.refs++
}

// Release drops a reference.
func (h *Handle) Release() {
	if h.refs <= 0 {
		panic(fmt.Sprintf("skb: release of handle %q with refs %d", h.Name, h.refs))
	}
	h.refs--
}

// Refs returns the current reference count.
func (h *Handle) Refs() int { return int(h.refs) }

func (h *Handle) String() string { return fmt.Sprintf("%s(refs=%d)", h.Name, h.refs) }
