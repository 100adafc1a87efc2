package proptest

import (
	"fmt"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/internal/errno"
	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/skb"
)

// The carrier machine complements carrier's own (carrier/model_test.go: a
// reference model per design, no faults): every registered design runs
// random programs at random hooks and stack transitions (clone, the copy
// kinds including GSO segments, scrub, extension COW, pskb_expand_head, a
// GRO-like merge, free) with allocation faults at random steps, and the
// design's maps carry the clone and keep flags where the design accepts
// them. Invariants: an operation that failed because an allocation was
// refused reports ENOMEM and changes no value that any packet can read (a
// failed write is atomic); nothing panics; after Close and the last free
// the accountant and the allocator hold nothing.

type carrierLane struct {
	c    carrier.Carrier
	acct *kmem.Accountant
	a    *skb.Allocator
	maps []carrier.MapSpec
	skbs []*skb.Buff
}

func newCarrierLane(t *rapid.T, design string) *carrierLane {
	acct := kmem.New()
	a := skb.NewAllocator(acct, skb.DefaultProfile())
	flagged := []carrier.MapSpec{{Name: "clone", ValueSize: 4, Flags: carrier.FlagClone},
		{Name: "keep", ValueSize: 16, Flags: carrier.FlagKeepScrub}, {Name: "plain", ValueSize: 8}}
	plain := []carrier.MapSpec{{Name: "a", ValueSize: 4}, {Name: "b", ValueSize: 16}, {Name: "c", ValueSize: 8}}
	opts := carrier.Options{Capacity: 6, BufferSize: 64, PreallocPool: 8, Seed: 1}
	for _, maps := range [][]carrier.MapSpec{flagged, plain} {
		c, err := carrier.New(design, carrier.Env{Alloc: a, Acct: acct}, maps, opts)
		if err == nil {
			return &carrierLane{c: c, acct: acct, a: a, maps: maps}
		}
		if errno.Of(err) != errno.EINVAL {
			t.Fatalf("%s: %v", design, err)
		}
	}
	t.Fatalf("%s refuses plain maps", design)
	return nil
}

// view is what programs can read of every packet at tc ingress.
func (l *carrierLane) view() string {
	var sb strings.Builder
	for i, b := range l.skbs {
		for m := range l.maps {
			v, err := l.c.Lookup(carrier.HookTCIngress, b, m)
			fmt.Fprintf(&sb, "%d/%d=%s ", i, m, showResult(v, err))
		}
	}
	return sb.String()
}

// sameReads compares two views cell by cell. A refused read (EOPNOTSUPP:
// the storage is shared with a clone) may become anything: the extension
// COW that skb_ext_add() did before the failed allocation is not undone
// (the kernel keeps the private copy too), so the other sharer may now
// read the old storage.
//
// With evicted set, an LRU design evicted values to make room for what the
// operation inserted before it failed (skb_segment's copy program runs per
// segment): a value may then be gone (ENOENT), never changed.
func sameReads(before, after string, evicted bool) bool {
	b, a := strings.Fields(before), strings.Fields(after)
	if len(a) != len(b) {
		return false
	}
	for i := range b {
		switch {
		case a[i] == b[i], strings.HasSuffix(b[i], "=EOPNOTSUPP"):
		case evicted && strings.HasSuffix(a[i], "=ENOENT"):
		default:
			return false
		}
	}
	return true
}

// checkCopied: in the skb-hash designs (values keyed by the sk_buff
// pointer, copied to a clone by a program on the clone event), a clone
// has values only for the maps with the clone flag, equal to the
// original's (a full map, a failed allocation or an LRU eviction may leave
// the clone without one).
func (l *carrierLane) checkCopied(t *rapid.T, orig, c *skb.Buff) {
	if !strings.HasPrefix(l.c.Name(), "skb-hash") {
		return
	}
	for m, spec := range l.maps {
		ov, oerr := l.c.Lookup(carrier.HookTCIngress, orig, m)
		cv, cerr := l.c.Lookup(carrier.HookTCIngress, c, m)
		switch {
		case spec.Flags&carrier.FlagClone == 0 && cerr == nil:
			t.Fatalf("clone has a value of map %d, which has no clone flag", m)
		case spec.Flags&carrier.FlagClone != 0 && oerr == nil && cerr == nil && string(ov) != string(cv):
			t.Fatalf("clone's value of map %d is %x, the original's %x", m, cv, ov)
		}
	}
}

func carrierProp(design string) func(*rapid.T) {
	return func(t *rapid.T) {
		l := newCarrierLane(t, design)
		hooks := []carrier.Hook{carrier.HookXDP, carrier.HookTCIngress, carrier.HookTCEgress,
			carrier.HookCgroupIngress, carrier.HookSocketFilter, carrier.HookTracepoint}
		var failedBefore uint64
		arm := func(t *rapid.T) {
			failedBefore = l.acct.Stats().Total.Failed
			if rapid.IntRange(0, 4).Draw(t, "fault?") == 0 {
				l.acct.SetFault(kmem.Fault{Prob: rapid.SampledFrom([]float64{0.5, 1}).Draw(t, "prob"), Seed: rapid.Uint64().Draw(t, "seed")})
			}
		}
		disarm := func() bool {
			l.acct.SetFault(kmem.Fault{})
			return l.acct.Stats().Total.Failed != failedBefore
		}
		pick := func(t *rapid.T) int {
			if len(l.skbs) == 0 {
				t.Skip("no skb")
			}
			return rapid.IntRange(0, len(l.skbs)-1).Draw(t, "skb")
		}
		// atomic runs op under faults: if an allocation failed, op must
		// report ENOMEM and every readable value must be as before.
		// A copy may succeed while the design's copy program (skb-hash's
		// clone tracepoint) silently fails to copy the values: strict is
		// false for those.
		evictions := func() uint64 { st, _ := carrier.StatsOf(l.c); return st.Evictions }
		atomic := func(t *rapid.T, what string, op func() error, strict ...bool) {
			before, ev := l.view(), evictions()
			arm(t)
			err := op()
			if !disarm() {
				return
			}
			if err == nil {
				if len(strict) == 0 {
					t.Fatalf("%s: an allocation failed but the operation succeeded", what)
				}
				return
			}
			if errno.Of(err) != errno.ENOMEM {
				t.Fatalf("%s: failed allocation reported as %v", what, err)
			}
			if after := l.view(); !sameReads(before, after, evictions() != ev) {
				t.Fatalf("%s failed but changed what packets read:\nbefore %s\nafter  %s", what, before, after)
			}
		}
		t.Repeat(map[string]func(*rapid.T){
			"alloc": func(t *rapid.T) {
				if len(l.skbs) >= 6 {
					t.Skip("enough")
				}
				b, err := l.a.BuildSkb(2048)
				if err != nil {
					t.Fatal(err)
				}
				b.Reserve(skb.XDPPacketHeadroom)
				b.Put(120)
				b.ResetMacHeader()
				l.skbs = append(l.skbs, b)
			},
			"store": func(t *rapid.T) {
				i, m := pick(t), rapid.IntRange(0, len(l.maps)-1).Draw(t, "map")
				h := rapid.SampledFrom(hooks).Draw(t, "hook")
				v := rapid.SliceOfN(rapid.Byte(), l.maps[m].ValueSize, l.maps[m].ValueSize).Draw(t, "value")
				atomic(t, fmt.Sprintf("store(%v, map %d)", h, m), func() error { return l.c.Store(h, l.skbs[i], m, v) })
			},
			"lookup": func(t *rapid.T) {
				i, m := pick(t), rapid.IntRange(0, len(l.maps)-1).Draw(t, "map")
				_, _ = l.c.Lookup(rapid.SampledFrom(hooks).Draw(t, "hook"), l.skbs[i], m)
			},
			"delete": func(t *rapid.T) {
				i, m := pick(t), rapid.IntRange(0, len(l.maps)-1).Draw(t, "map")
				h := rapid.SampledFrom(hooks).Draw(t, "hook")
				atomic(t, "delete", func() error {
					err := l.c.Delete(h, l.skbs[i], m)
					if errno.Of(err) == errno.ENOMEM {
						return err
					}
					if err != nil && errno.Of(err) != errno.ENOENT && errno.Of(err) != errno.EOPNOTSUPP && errno.Of(err) != errno.EACCES && errno.Of(err) != errno.E2BIG {
						t.Fatalf("delete: %v", err)
					}
					if err != nil {
						return kmem.ErrNoMem // a refused delete changes nothing either
					}
					return nil
				})
			},
			"clone": func(t *rapid.T) {
				if len(l.skbs) >= 8 {
					t.Skip("enough")
				}
				i := pick(t)
				arm(t)
				c, err := l.skbs[i].Clone()
				disarm()
				if err == nil {
					l.skbs = append(l.skbs, c)
					l.checkCopied(t, l.skbs[i], c)
				}
			},
			"copy": func(t *rapid.T) {
				if len(l.skbs) >= 8 {
					t.Skip("enough")
				}
				i, kind := pick(t), rapid.IntRange(0, 3).Draw(t, "kind")
				atomic(t, "copy", func() error {
					var c *skb.Buff
					var err error
					switch kind {
					case 0:
						c, err = l.skbs[i].Copy()
					case 1:
						c, err = l.skbs[i].PskbCopy()
					case 2:
						c, err = l.skbs[i].CopyExpand(32, 32)
					default:
						b := l.skbs[i]
						if b.MacHeader() < 0 || b.MacHeader() > b.Headroom()+b.Len() {
							return nil
						}
						segs, err := b.Segment(48, nil)
						if err != nil {
							return err
						}
						l.skbs = append(l.skbs, segs...)
						return nil
					}
					if err == nil {
						l.skbs = append(l.skbs, c)
					}
					return err
				}, false)
			},
			"scrub": func(t *rapid.T) {
				i := pick(t)
				arm(t)
				l.skbs[i].Scrub(rapid.Bool().Draw(t, "xnet"))
				disarm()
			},
			"ext-cow": func(t *rapid.T) {
				i := pick(t)
				atomic(t, "skb_ext_add(TC)", func() error { _, err := l.skbs[i].ExtAdd(skb.ExtTC); return err })
			},
			"expand-head": func(t *rapid.T) {
				i := pick(t)
				atomic(t, "pskb_expand_head", func() error { return l.skbs[i].ExpandHead(0, 0) })
			},
			"free": func(t *rapid.T) {
				i := pick(t)
				if rapid.Bool().Draw(t, "drop") {
					l.skbs[i].KfreeSkb(skb.DropTCIngress)
				} else {
					l.skbs[i].ConsumeSkb() // also skb_gro_receive's napi_skb_free_stolen_head of a merged segment
				}
				l.skbs = append(l.skbs[:i], l.skbs[i+1:]...)
			},
			"grace": func(*rapid.T) { carrier.GracePeriod(l.c) },
		})
		for _, b := range l.skbs {
			b.ConsumeSkb()
		}
		if err := l.c.Close(); err != nil {
			t.Fatal(err)
		}
		carrier.GracePeriod(l.c)
		l.acct.GracePeriod()
		if err := l.a.CheckLeaks(); err != nil {
			t.Fatal(err)
		}
		if o, _ := l.acct.Live(); o != 0 {
			t.Fatalf("%d objects live after Close", o)
		}
	}
}

func TestCarrierFaults(t *testing.T) {
	for _, d := range carrier.Names() {
		t.Run(d, func(t *testing.T) { check(t, 800, 150, carrierProp(d)) })
	}
}
