package carrier

import (
	"github.com/skbsim/skbsim/localstorage"
	"github.com/skbsim/skbsim/skb"
)

// Ctx is the context a program runs in (process/softirq, hardirq, NMI).
type Ctx = localstorage.ProgCtx

// Spec describes a slot.
type Spec struct {
	// Name labels the slot in traces.
	Name string
	// Size is the value size in bytes.
	Size int
	// CopyOnClone gives an skb clone its own copy of the value.
	CopyOnClone bool
	// KeepOnScrub keeps the value across skb_scrub_packet(xnet=false)
	// (tunnel encap/decap, bpf_redirect_peer).
	KeepOnScrub bool
	// KeepOnNetns keeps the value across skb_scrub_packet(xnet=true)
	// (dev_forward_skb into another namespace).
	KeepOnNetns bool
}

// Slot is a declared value of a carrier.
type Slot interface {
	// Spec returns what the slot was declared with.
	Spec() Spec
}

// Entry is one value an skb carries, for traces.
type Entry struct {
	Slot  string
	Value []byte // the live value
}

// Carrier attaches slot values to skbs.
type Carrier interface {
	// Name identifies the design and its variant ("skb-storage/rfc").
	Name() string
	// NewSlot declares a slot (creates a map, reserves space).
	NewSlot(spec Spec) (Slot, error)
	// FreeSlot releases a slot and every value stored in it.
	FreeSlot(s Slot)
	// Get returns the slot's value on b; with create, a missing value is
	// created from init (value-size bytes) or zeroed. Does NOT take
	// ownership of b.
	Get(ctx Ctx, b *skb.Buff, s Slot, init []byte, create bool) ([]byte, error)
	// Delete removes the slot's value from b. Does NOT take ownership of b.
	Delete(ctx Ctx, b *skb.Buff, s Slot) error
	// Entries appends the values b carries to dst.
	Entries(b *skb.Buff, dst []Entry) []Entry
	// Hooks returns the skb lifecycle callbacks the carrier needs.
	Hooks() skb.Hooks
	// Maintain runs off the hot path: refill pools, end grace periods.
	Maintain()
}
