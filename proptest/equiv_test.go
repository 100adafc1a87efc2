package proptest

import (
	"fmt"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/skbsim/skbsim/internal/errno"
	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/localstorage"
	"github.com/skbsim/skbsim/skb"
)

// Allocation sites of the skb owner (registering a known name returns its
// site).
var (
	siteExt       = kmem.RegisterSite("skbuff_ext_cache")
	siteStorage   = kmem.RegisterSite("bpf_local_storage_alloc")
	siteSelem     = kmem.RegisterSite("bpf_selem_alloc")
	siteCoalloc   = kmem.RegisterSite("bpf_local_storage_alloc:coalloc")
	sitePoolFill  = kmem.RegisterSite("bpf_skb_storage_pool_refill")
	siteSkbClone  = kmem.RegisterSite("bpf_skb_storage_clone")
	siteSkbKeep   = kmem.RegisterSite("bpf_skb_storage_keep")
	elemSites     = []kmem.Site{siteSelem, siteSkbClone, siteSkbKeep}
	storageSites  = []kmem.Site{siteStorage, siteCoalloc}
	strategySites = append(append([]kmem.Site{sitePoolFill}, elemSites...), storageSites...)
)

// eqLane is one strategy's kernel in the equivalence property.
type eqLane struct {
	st   localstorage.Strategy
	acct *kmem.Accountant
	e    *localstorage.Env
	a    *skb.Allocator
	maps []*localstorage.Map
	skbs []*skb.Buff
}

// siteDelta is one step's allocation traffic at the strategy sites.
type siteDelta struct {
	allocs [kmem.MaxSites]uint64
	bytes  [kmem.MaxSites]uint64
	total  uint64
}

func delta(before, after *kmem.Stats) siteDelta {
	var d siteDelta
	for i := range d.allocs {
		d.allocs[i] = after.BySite[i].Allocs - before.BySite[i].Allocs
		d.bytes[i] = after.BySite[i].BytesRequested - before.BySite[i].BytesRequested
	}
	d.total = after.Total.Allocs - before.Total.Allocs
	return d
}

func (d siteDelta) sum(sites []kmem.Site) (n, b uint64) {
	for _, s := range sites {
		n += d.allocs[s]
		b += d.bytes[s]
	}
	return n, b
}

// observe renders what a program and the stack can see of an skb: the
// BPF extension bit, the clone and sharing state, and the storage's
// elements (map index and value, newest first).
func (l *eqLane) observe(i int) string {
	b := l.skbs[i]
	var sb strings.Builder
	fmt.Fprintf(&sb, "bpf=%v cloned=%v shared=%v", b.ExtExists(skb.ExtBPFStorage), b.Cloned(), b.ExtShared())
	if st := localstorage.SkbStorage(b); st != nil {
		for el := range st.All() {
			idx := -1
			for j, m := range l.maps {
				if m == el.Map() {
					idx = j
				}
			}
			fmt.Fprintf(&sb, " m%d=%x", idx, el.Value())
		}
	}
	return sb.String()
}

func showResult(v []byte, err error) string {
	if err != nil {
		return errno.Of(err).Name()
	}
	return fmt.Sprintf("%x", v)
}

// TestStrategyEquivalence: for random programs (get with and without
// F_CREATE and an initial value, writes through the returned pointer,
// delete) and random stack transitions (clone, skb_copy, pskb_copy,
// skb_copy_expand, GSO segments, skb_unclone, scrub with and without xnet,
// extension COW, free, a
// GRO-like merge that frees the second skb, allocation failures of the
// skb_ext), every skb allocation strategy gives the same reads, errors and
// skb states as rfc, with maps that use the model options too (copy on
// clone, keep across scrub and netns). Allocations differ only by the
// analytic amounts, checked on every step against rfc's storages S and
// elements E (both counted at every storage or element site, including
// clone copies and kept elements):
//
//	rfc:          S storages (184 B) + E elements (72 + value_size);
//	              a packet's first write is 3 allocations: skb_ext,
//	              storage, element
//	rfc-coalloc:  S co-allocated blocks (storage + first element, the same
//	              bytes as rfc's pair) + E - S elements; first write 2
//	rfc-slim:     E elements, no storage (it lives in the skb_ext chunk,
//	              so every skb_ext object is 8*N + 16 - 8 bytes larger:
//	              344 instead of 208 B with 16 cache slots); first write 2
//	rfc-prealloc: nothing on the hot path while the pool lasts (refills
//	              happen at the grace period, off the hot path); first
//	              write 1 (the skb_ext)
//
// skb_ext allocations are the same in every strategy.
func TestStrategyEquivalence(t *testing.T) {
	check(t, 1500, 200, func(rt *rapid.T) {
		var lanes []*eqLane
		for _, st := range localstorage.Strategies() {
			acct := kmem.New()
			e := localstorage.NewEnv(localstorage.Config{Acct: acct,
				Skb: localstorage.SkbConfig{Strategy: st, PoolStorages: 128, PoolElems: 128}})
			a := skb.NewAllocator(acct, skb.DefaultProfile())
			e.AttachSkb(a)
			lanes = append(lanes, &eqLane{st: st, acct: acct, e: e, a: a})
		}
		var specs []localstorage.MapSpec
		nmaps := rapid.IntRange(1, 4).Draw(rt, "maps")
		for range nmaps {
			spec := localstorage.Spec(localstorage.MapTypeSkbStorage, rapid.SampledFrom([]int{4, 16, 100}).Draw(rt, "value size"), 0)
			if rapid.IntRange(0, 3).Draw(rt, "clone copy?") == 0 {
				spec.Skb.CloneCopy = true
				spec.Flags |= localstorage.FlagClone
			}
			spec.Skb.KeepOnScrub = rapid.IntRange(0, 3).Draw(rt, "keep scrub?") == 0
			spec.Skb.KeepOnNetns = rapid.IntRange(0, 3).Draw(rt, "keep netns?") == 0
			specs = append(specs, spec)
		}
		for _, l := range lanes {
			for _, spec := range specs {
				m, err := l.e.CreateMap(spec)
				if err != nil {
					rt.Fatal(err)
				}
				l.maps = append(l.maps, m)
			}
			l.e.RefillSkbPool() // elements are pooled per kmalloc class of the live maps
		}
		n := func() int { return len(lanes[0].skbs) }
		pick := func(t *rapid.T, what string) int {
			if n() == 0 {
				t.Skip("no skb")
			}
			return rapid.IntRange(0, n()-1).Draw(t, what)
		}
		// step runs f on every lane, compares the results and skb states
		// with rfc's, and checks the allocation deltas.
		step := func(t *rapid.T, what string, fault bool, f func(l *eqLane) string) {
			var outs, states []string
			var ds []siteDelta
			for _, l := range lanes {
				before := l.acct.Stats()
				if fault {
					l.acct.SetFault(kmem.Fault{Nth: 1, Site: siteExt})
				}
				outs = append(outs, f(l))
				l.acct.SetFault(kmem.Fault{})
				after := l.acct.Stats()
				ds = append(ds, delta(&before, &after))
				var st []string
				for i := range l.skbs {
					st = append(st, l.observe(i))
				}
				states = append(states, strings.Join(st, "; "))
			}
			r := ds[0]
			S, sBytes := r.sum(storageSites)
			E, eBytes := r.sum(elemSites)
			for i, l := range lanes {
				if outs[i] != outs[0] {
					t.Fatalf("%s: %s gives %q, rfc %q", what, l.st, outs[i], outs[0])
				}
				if states[i] != states[0] {
					t.Fatalf("%s: %s skbs %q, rfc %q", what, l.st, states[i], states[0])
				}
				if l.e.SkbStats() != lanes[0].e.SkbStats() {
					t.Fatalf("%s: %s model-option counters %+v, rfc %+v", what, l.st, l.e.SkbStats(), lanes[0].e.SkbStats())
				}
				d := ds[i]
				if d.allocs[siteExt] != r.allocs[siteExt] {
					t.Fatalf("%s: %s made %d skb_ext allocations, rfc %d", what, l.st, d.allocs[siteExt], r.allocs[siteExt])
				}
				ls, lsb := d.sum(storageSites)
				le, leb := d.sum(elemSites)
				other := d.total - ls - le - d.allocs[sitePoolFill]
				if rOther := r.total - S - E; other != rOther {
					t.Fatalf("%s: %s made %d other allocations, rfc %d", what, l.st, other, rOther)
				}
				var wantS, wantE uint64
				switch l.st {
				case localstorage.StrategyRFC:
					wantS, wantE = S, E
				case localstorage.StrategyCoalloc:
					wantS, wantE = S, E-S
					if d.allocs[siteCoalloc] != S || d.allocs[siteStorage] != 0 {
						t.Fatalf("%s: rfc-coalloc blocks %d, storages %d, want %d blocks", what, d.allocs[siteCoalloc], d.allocs[siteStorage], S)
					}
					if lsb+leb != sBytes+eBytes {
						t.Fatalf("%s: rfc-coalloc requested %d bytes for storages and elements, rfc %d", what, lsb+leb, sBytes+eBytes)
					}
				case localstorage.StrategySlim:
					wantS, wantE = 0, E
					if leb != eBytes {
						t.Fatalf("%s: rfc-slim element bytes %d, rfc %d", what, leb, eBytes)
					}
					// Every skb_ext object carries the slim storage.
					grow := uint64(l.a.ExtCacheSize() - lanes[0].a.ExtCacheSize())
					if d.bytes[siteExt] != r.bytes[siteExt]+r.allocs[siteExt]*grow {
						t.Fatalf("%s: rfc-slim skb_ext bytes %d, want rfc's %d + %d x %d", what, d.bytes[siteExt], r.bytes[siteExt], r.allocs[siteExt], grow)
					}
				case localstorage.StrategyPrealloc:
					wantS, wantE = 0, 0
				}
				if ls != wantS || le != wantE {
					t.Fatalf("%s: %s made %d storage and %d element allocations, want %d and %d (rfc: %d, %d)",
						what, l.st, ls, le, wantS, wantE, S, E)
				}
			}
			if strings.HasPrefix(what, "get") && r.allocs[siteExt] == 1 && S == 1 && E == 1 && r.total == 3 {
				// A packet's first write.
				for i, l := range lanes {
					want := map[localstorage.Strategy]uint64{localstorage.StrategyRFC: 3, localstorage.StrategyCoalloc: 2,
						localstorage.StrategySlim: 2, localstorage.StrategyPrealloc: 1}[l.st]
					if ds[i].total-ds[i].allocs[sitePoolFill] != want {
						t.Fatalf("first write under %s: %d allocations, want %d", l.st, ds[i].total, want)
					}
				}
			}
		}
		rt.Repeat(map[string]func(*rapid.T){
			"alloc": func(t *rapid.T) {
				if n() >= 8 {
					t.Skip("enough skbs")
				}
				size := rapid.IntRange(64, 1024).Draw(t, "size")
				step(t, "alloc", false, func(l *eqLane) string {
					b, err := l.a.AllocSkb(size)
					if err != nil {
						return err.Error()
					}
					b.Reserve(32)
					b.Put(120)
					b.ResetMacHeader()
					l.skbs = append(l.skbs, b)
					return ""
				})
			},
			"get": func(t *rapid.T) {
				i, m := pick(t, "skb"), rapid.IntRange(0, nmaps-1).Draw(t, "map")
				flags := rapid.SampledFrom([]uint64{0, localstorage.GetCreate, localstorage.GetCreate, 3}).Draw(t, "flags")
				var init []byte
				if rapid.Bool().Draw(t, "init") {
					init = rapid.SliceOfN(rapid.Byte(), specs[m].ValueSize, specs[m].ValueSize).Draw(t, "init value")
				}
				fault := rapid.IntRange(0, 9).Draw(t, "ext fault?") == 0
				step(t, "get", fault, func(l *eqLane) string {
					return showResult(l.maps[m].SkbStorageGet(localstorage.CtxNormal, l.skbs[i], init, flags))
				})
			},
			"write": func(t *rapid.T) {
				i, m := pick(t, "skb"), rapid.IntRange(0, nmaps-1).Draw(t, "map")
				off := rapid.IntRange(0, specs[m].ValueSize-1).Draw(t, "offset")
				step(t, "write", false, func(l *eqLane) string {
					v, err := l.maps[m].SkbStorageGet(localstorage.CtxNormal, l.skbs[i], nil, 0)
					if err != nil {
						return errno.Of(err).Name()
					}
					v[off] += 0x11
					return ""
				})
			},
			"delete": func(t *rapid.T) {
				i, m := pick(t, "skb"), rapid.IntRange(0, nmaps-1).Draw(t, "map")
				step(t, "delete", false, func(l *eqLane) string {
					return showResult(nil, l.maps[m].SkbStorageDelete(localstorage.CtxNormal, l.skbs[i]))
				})
			},
			"clone": func(t *rapid.T) {
				if n() >= 8 {
					t.Skip("enough skbs")
				}
				i := pick(t, "skb")
				fault := rapid.IntRange(0, 5).Draw(t, "ext fault?") == 0
				step(t, "clone", fault, func(l *eqLane) string {
					c, err := l.skbs[i].Clone()
					if err != nil {
						return err.Error()
					}
					l.skbs = append(l.skbs, c)
					return ""
				})
			},
			"copy": func(t *rapid.T) {
				if n() >= 8 {
					t.Skip("enough skbs")
				}
				i, kind := pick(t, "skb"), rapid.IntRange(0, 2).Draw(t, "kind")
				step(t, "copy", false, func(l *eqLane) string {
					var c *skb.Buff
					var err error
					switch kind {
					case 0:
						c, err = l.skbs[i].Copy()
					case 1:
						c, err = l.skbs[i].PskbCopy()
					default:
						c, err = l.skbs[i].CopyExpand(64, 16)
					}
					if err != nil {
						return err.Error()
					}
					l.skbs = append(l.skbs, c)
					return ""
				})
			},
			"segment": func(t *rapid.T) {
				// skb_segment: every segment shares the extension (and so
				// the storage) by reference, without skb->cloned.
				if n() >= 6 {
					t.Skip("enough skbs")
				}
				i, mss := pick(t, "skb"), rapid.IntRange(40, 200).Draw(t, "mss")
				step(t, "segment", false, func(l *eqLane) string {
					b := l.skbs[i]
					if b.MacHeader() < 0 || b.MacHeader() > b.Headroom() {
						return "no mac header"
					}
					segs, err := b.Segment(mss, nil)
					if err != nil {
						return err.Error()
					}
					l.skbs = append(l.skbs, segs...)
					return fmt.Sprint(len(segs))
				})
			},
			"unclone": func(t *rapid.T) {
				// pskb_expand_head clears skb->cloned: the skb may use a
				// storage its clone still shares (the RFC checks the bit).
				i := pick(t, "skb")
				step(t, "unclone", false, func(l *eqLane) string { return showResult(nil, l.skbs[i].Unclone()) })
			},
			"scrub": func(t *rapid.T) {
				i, xnet := pick(t, "skb"), rapid.Bool().Draw(t, "xnet")
				fault := rapid.IntRange(0, 5).Draw(t, "ext fault?") == 0
				step(t, fmt.Sprintf("scrub(xnet=%v)", xnet), fault, func(l *eqLane) string { l.skbs[i].Scrub(xnet); return "" })
			},
			"ext-cow": func(t *rapid.T) {
				i := pick(t, "skb")
				fault := rapid.IntRange(0, 5).Draw(t, "ext fault?") == 0
				step(t, "skb_ext_add(SEC_PATH)", fault, func(l *eqLane) string {
					_, err := l.skbs[i].ExtAdd(skb.ExtSecPath)
					return showResult(nil, err)
				})
			},
			"free": func(t *rapid.T) {
				i := pick(t, "skb")
				step(t, "free", false, func(l *eqLane) string {
					l.skbs[i].KfreeSkb(skb.DropNotSpecified)
					l.skbs = append(l.skbs[:i], l.skbs[i+1:]...)
					return ""
				})
			},
			"gro-merge": func(t *rapid.T) {
				// skb_gro_receive: the held skb p absorbs b's payload; b is
				// freed (napi_skb_free_stolen_head); a program on p reads.
				if n() < 2 {
					t.Skip("need two skbs")
				}
				p, b := pick(t, "held"), pick(t, "merged")
				if p == b {
					t.Skip("same skb")
				}
				m := rapid.IntRange(0, nmaps-1).Draw(t, "map")
				step(t, "gro-merge", false, func(l *eqLane) string {
					l.skbs[b].ConsumeSkb()
					held := l.skbs[p]
					l.skbs = append(l.skbs[:b], l.skbs[b+1:]...)
					return showResult(l.maps[m].SkbStorageGet(localstorage.CtxNormal, held, nil, 0))
				})
			},
			"grace": func(t *rapid.T) {
				for _, l := range lanes {
					l.e.GracePeriod()
					l.e.RefillSkbPool()
				}
			},
		})
		for _, l := range lanes {
			for _, b := range l.skbs {
				b.ConsumeSkb()
			}
			if err := l.a.CheckLeaks(); err != nil {
				rt.Fatalf("%s: %v", l.st, err)
			}
			l.e.Close()
			if o, _ := l.acct.Live(); o != 0 {
				rt.Fatalf("%s: %d objects live after Close", l.st, o)
			}
		}
	})
}
