package carrier

import (
	"fmt"

	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/kmem"
)

// Stats counts what a design did that the accountant cannot see: values
// that programs found or missed, values that the stack's events copied,
// dropped or evicted. Every design built by this package reports them
// through StatsOf.
type Stats struct {
	Stores, Lookups, Deletes uint64
	// Misses counts Lookup and Delete calls that found no value.
	Misses uint64
	// Errors counts calls that failed with anything but ErrNotFound.
	Errors uint64
	// CloneCopies counts values copied to a clone or copy by the design's
	// clone program; CloneCopyFailures those it could not allocate.
	CloneCopies, CloneCopyFailures uint64
	// ReaperRuns counts runs of the skb-hash free tracepoint program,
	// Reaped the entries it deleted, ReaperMissed the skb frees it missed.
	ReaperRuns, Reaped, ReaperMissed uint64
	// Evictions counts LRU evictions (values lost to make room).
	Evictions uint64
	// StaleReads counts lookups that returned a value stored for an
	// earlier skb that lived in the same sk_buff object (skb-hash without
	// a reaper).
	StaleReads uint64
	// Lost counts lookups that found the value's bytes gone although the
	// skb still claims them (xdp-meta: overwritten or moved metadata).
	Lost uint64
}

// StatsOf returns the design counters of c, if c reports them.
func StatsOf(c Carrier) (Stats, bool) {
	if s, ok := c.(interface{ Stats() Stats }); ok {
		return s.Stats(), true
	}
	return Stats{}, false
}

// base holds what every design of this package shares: the environment,
// the map specs and the counters.
type base struct {
	name   string
	env    Env
	acct   *kmem.Accountant
	maps   []MapSpec
	opts   Options
	st     Stats
	closed bool
}

func newBase(name string, env Env, maps []MapSpec, opts Options, allowed Flags) (base, error) {
	if env.Alloc == nil || env.Acct == nil {
		panic("carrier: Env needs Alloc and Acct")
	}
	if env.Alloc.Accountant() != env.Acct {
		panic("carrier: Env.Acct is not the accountant of Env.Alloc")
	}
	if len(maps) == 0 {
		return base{}, fmt.Errorf("%s: no maps: %w", name, ErrBadValueSize)
	}
	for i, m := range maps {
		if m.ValueSize <= 0 {
			return base{}, fmt.Errorf("%s: map %d (%q) value size %d: %w", name, i, m.Name, m.ValueSize, ErrBadValueSize)
		}
		if m.Flags&^allowed != 0 {
			return base{}, fmt.Errorf("%s: map %d (%q) flags %#x: %w", name, i, m.Name, m.Flags, ErrBadFlags)
		}
	}
	return base{name: name, env: env, acct: env.Acct, maps: append([]MapSpec(nil), maps...), opts: opts}, nil
}

// Name implements Carrier.
func (c *base) Name() string { return c.name }

// Stats returns the design counters.
func (c *base) Stats() Stats { return c.st }

// check panics on programmer misuse: a closed carrier, a hook or map index
// out of range, a value of the wrong size. It is one inlinable test that
// makes no call: the panic value is formatted when printed (misuseError).
func (c *base) check(op string, h Hook, m int) {
	if c.closed || h >= NumHooks || uint(m) >= uint(len(c.maps)) {
		panic(&misuseError{name: c.name, closed: c.closed, maps: c.maps, op: op, h: h, m: m, n: -1})
	}
}

// checkStore is check for a store of val.
func (c *base) checkStore(h Hook, m int, val []byte) {
	if c.closed || h >= NumHooks || uint(m) >= uint(len(c.maps)) || len(val) != c.maps[m].ValueSize {
		panic(&misuseError{name: c.name, closed: c.closed, maps: c.maps, op: "store", h: h, m: m, n: len(val)})
	}
}

// misuseError is the panic value of check and checkStore: the carrier's
// state they found wrong and the call; n is the length of the stored
// value, -1 for other operations. Its message is built when printed.
type misuseError struct {
	name   string
	closed bool
	maps   []MapSpec
	op     string
	h      Hook
	m, n   int
}

func (e *misuseError) Error() string {
	switch {
	case e.closed:
		return fmt.Sprintf("carrier %s: %s after Close", e.name, e.op)
	case e.h >= NumHooks:
		return fmt.Sprintf("carrier %s: %s from %v", e.name, e.op, e.h)
	case e.m < 0 || e.m >= len(e.maps):
		return fmt.Sprintf("carrier %s: %s of map %d, have %d maps", e.name, e.op, e.m, len(e.maps))
	case e.n >= 0 && e.n != e.maps[e.m].ValueSize:
		return fmt.Sprintf("carrier %s: %s of %d bytes into map %q of value size %d",
			e.name, e.op, e.n, e.maps[e.m].Name, e.maps[e.m].ValueSize)
	}
	return fmt.Sprintf("carrier %s: %s: misuse", e.name, e.op)
}

// result books the outcome of a program call in the counters. Every design
// reports a miss as the bare ErrNotFound, so the test is an identity
// comparison (errno.Of's errors.As would allocate on this hot path).
func (c *base) result(err error) error {
	if err == nil {
		return nil
	}
	if err == ErrNotFound {
		c.st.Misses++
	} else {
		c.st.Errors++
	}
	return err
}

func (c *base) op(o cost.Op, n uint64) { c.acct.Op(o, n) }

// anyFlag reports whether some map has flag f.
func (c *base) anyFlag(f Flags) bool {
	for _, m := range c.maps {
		if m.Flags&f != 0 {
			return true
		}
	}
	return false
}

func round8(n int) int { return (n + 7) &^ 7 }

// GracePeriod ends an RCU grace period for the design: frees deferred past
// it complete in the accountant. Designs with RCU-freed objects of their
// own override it.
func (c *base) GracePeriod() { c.acct.GracePeriod() }
