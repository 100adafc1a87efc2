package carrier_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/skb"
)

// Allocation sites of the RFC path (registering a known name returns its
// site).
var (
	siteExt      = kmem.RegisterSite("skbuff_ext_cache")
	siteStorage  = kmem.RegisterSite("bpf_local_storage_alloc")
	siteSelem    = kmem.RegisterSite("bpf_selem_alloc")
	siteCoalloc  = kmem.RegisterSite("bpf_local_storage_alloc:coalloc")
	sitePoolFill = kmem.RegisterSite("bpf_skb_storage_pool_refill")
)

// lane is one strategy's shard in the cross-strategy property.
type lane struct {
	name string
	env  carrier.Env
	c    carrier.Carrier
	skbs []*skb.Buff
}

// TestStrategiesAgree: for random programs and stack transitions, the rfc
// strategies give the same reads and errors as rfc, and differ only in
// allocations, by exactly the analytic amounts: rfc-coalloc and rfc-slim
// save one allocation per storage created (the storage shares the first
// element's allocation, or lives in the skb_ext chunk), rfc-prealloc saves
// every storage and element allocation on the hot path (its pool is
// refilled off the hot path, at the grace period). Every skb_ext object
// takes the strategy's object size: rfc-slim's carries the 144-byte slim
// storage (16 slots) in its SKB_EXT_BPF_STORAGE slot, 17 chunks more than
// the pointer.
func TestStrategiesAgree(t *testing.T) {
	names := []string{"rfc", "rfc-coalloc", "rfc-prealloc", "rfc-slim"}
	extSize := map[string]uint64{"rfc": 208, "rfc-coalloc": 208, "rfc-prealloc": 208, "rfc-slim": 208 + 8*17}
	maps := []carrier.MapSpec{{Name: "m0", ValueSize: 4}, {Name: "m1", ValueSize: 24}, {Name: "m2", ValueSize: 100}}
	setRapid(t)
	firstWrites := 0
	rapid.Check(t, func(rt *rapid.T) {
		var lanes []*lane
		for _, n := range names {
			acct := kmem.New()
			env := carrier.Env{Alloc: skb.NewAllocator(acct, skb.DefaultProfile()), Acct: acct}
			c, err := carrier.New(n, env, maps, carrier.Options{PreallocPool: 512})
			require.NoError(rt, err)
			require.Equal(rt, int(extSize[n]), env.Alloc.ExtCacheSize(), "%s: skbuff_ext_cache object", n)
			lanes = append(lanes, &lane{name: n, env: env, c: c})
		}
		count := func() int { return len(lanes[0].skbs) }
		pick := func(t *rapid.T) int {
			if count() == 0 {
				t.Skip("no skb")
			}
			return rapid.IntRange(0, count()-1).Draw(t, "skb")
		}
		// step runs f on every lane and checks the allocation deltas.
		step := func(t *rapid.T, what string, f func(l *lane) string) {
			var outs []string
			var before, after []kmem.Stats
			for _, l := range lanes {
				before = append(before, l.env.Acct.Stats())
				outs = append(outs, f(l))
				after = append(after, l.env.Acct.Stats())
			}
			for i := range lanes {
				require.Equal(t, outs[0], outs[i], "%s: %s observes differently from rfc", what, lanes[i].name)
				require.Equal(t, lanes[0].env.Alloc.Live(), lanes[i].env.Alloc.Live(), "%s: skb objects differ", what)
			}
			d := func(i int, s kmem.Site) uint64 { return after[i].BySite[s].Allocs - before[i].BySite[s].Allocs }
			tot := func(i int) uint64 { return after[i].Total.Allocs - before[i].Total.Allocs }
			ext, storages, elems := d(0, siteExt), d(0, siteStorage), d(0, siteSelem)
			other := tot(0) - ext - storages - elems
			for i, l := range lanes {
				require.Equal(t, ext, d(i, siteExt), "%s: %s skb_ext allocations", what, l.name)
				extBytes := after[i].BySite[siteExt].BytesRequested - before[i].BySite[siteExt].BytesRequested
				require.Equal(t, ext*extSize[l.name], extBytes, "%s: %s skb_ext bytes", what, l.name)
				switch l.name {
				case "rfc-coalloc":
					require.Equal(t, storages, d(i, siteCoalloc), "%s: coalloc blocks", what)
					require.Equal(t, elems-storages, d(i, siteSelem), "%s: coalloc elements", what)
					require.Equal(t, other+ext+elems, tot(i), "%s: %s total", what, l.name)
				case "rfc-slim":
					require.Zero(t, d(i, siteStorage), "%s: slim storages", what)
					require.Equal(t, elems, d(i, siteSelem), "%s: slim elements", what)
					require.Equal(t, other+ext+elems, tot(i), "%s: %s total", what, l.name)
				case "rfc-prealloc":
					require.Zero(t, d(i, siteStorage)+d(i, siteSelem), "%s: prealloc hot-path allocations", what)
					require.Equal(t, other+ext, tot(i)-d(i, sitePoolFill), "%s: %s total", what, l.name)
				}
			}
			if what == "store" && ext == 1 && storages == 1 && other == 0 {
				// A packet's first write: skb_ext, storage, element.
				require.Equal(t, uint64(3), tot(0), "first write under rfc")
				firstWrites++
			}
		}
		rt.Repeat(map[string]func(*rapid.T){
			"alloc": func(t *rapid.T) {
				if count() >= 6 {
					t.Skip("enough")
				}
				step(t, "alloc", func(l *lane) string {
					l.skbs = append(l.skbs, rxSkb(t, l.env.Alloc))
					return ""
				})
			},
			"store": func(t *rapid.T) {
				i, m := pick(t), rapid.IntRange(0, len(maps)-1).Draw(t, "map")
				v := rapid.SliceOfN(rapid.Byte(), maps[m].ValueSize, maps[m].ValueSize).Draw(t, "v")
				step(t, "store", func(l *lane) string { return showErr(l.c.Store(carrier.HookTCEgress, l.skbs[i], m, v)) })
			},
			"lookup": func(t *rapid.T) {
				i, m := pick(t), rapid.IntRange(0, len(maps)-1).Draw(t, "map")
				step(t, "lookup", func(l *lane) string { return show(l.c.Lookup(carrier.HookTCIngress, l.skbs[i], m)) })
			},
			"delete": func(t *rapid.T) {
				i, m := pick(t), rapid.IntRange(0, len(maps)-1).Draw(t, "map")
				step(t, "delete", func(l *lane) string { return showErr(l.c.Delete(carrier.HookTCIngress, l.skbs[i], m)) })
			},
			"clone": func(t *rapid.T) {
				if count() >= 8 {
					t.Skip("enough")
				}
				i := pick(t)
				step(t, "clone", func(l *lane) string {
					n, err := l.skbs[i].Clone()
					require.NoError(t, err)
					l.skbs = append(l.skbs, n)
					return ""
				})
			},
			"copy": func(t *rapid.T) {
				if count() >= 8 {
					t.Skip("enough")
				}
				i := pick(t)
				step(t, "copy", func(l *lane) string {
					n, err := l.skbs[i].Copy()
					require.NoError(t, err)
					l.skbs = append(l.skbs, n)
					return ""
				})
			},
			"scrub": func(t *rapid.T) {
				i, xnet := pick(t), rapid.Bool().Draw(t, "xnet")
				step(t, "scrub", func(l *lane) string { l.skbs[i].Scrub(xnet); return "" })
			},
			"ext-cow": func(t *rapid.T) {
				i := pick(t)
				step(t, "ext-cow", func(l *lane) string {
					_, err := l.skbs[i].ExtAdd(skb.ExtTC)
					require.NoError(t, err)
					return ""
				})
			},
			"free": func(t *rapid.T) {
				i := pick(t)
				step(t, "free", func(l *lane) string {
					l.skbs[i].ConsumeSkb()
					l.skbs = append(l.skbs[:i], l.skbs[i+1:]...)
					return ""
				})
			},
			"grace": func(t *rapid.T) {
				for _, l := range lanes {
					carrier.GracePeriod(l.c)
				}
			},
		})
		for _, l := range lanes {
			require.Equal(rt, errnoCount(lanes[0].c), errnoCount(l.c), "%s: error counts", l.name)
			for _, b := range l.skbs {
				b.ConsumeSkb()
			}
			require.NoError(rt, l.c.Close())
			l.env.Acct.GracePeriod()
			require.NoError(rt, l.env.Alloc.CheckLeaks())
			o, _ := l.env.Acct.Live()
			require.Zero(rt, o, "%s: objects after Close", l.name)
		}
	})
	require.Positive(t, firstWrites, "no program made a first write")
}

func errnoCount(c carrier.Carrier) [2]uint64 {
	st, _ := carrier.StatsOf(c)
	return [2]uint64{st.Misses, st.Errors}
}

// TestRFCValuesSurviveStrategy is a fixed sequence across the strategies:
// a packet with three maps, a copy sharing its storage, a delete of the
// co-allocated first element, a rewrite.
func TestRFCValuesSurviveStrategy(t *testing.T) {
	for _, name := range []string{"rfc", "rfc-coalloc", "rfc-prealloc", "rfc-slim"} {
		t.Run(name, func(t *testing.T) {
			c, env := mustNew(t, name, []carrier.MapSpec{{Name: "a", ValueSize: 4}, {Name: "b", ValueSize: 4}}, carrier.Options{})
			b := rxSkb(t, env.Alloc)
			require.NoError(t, c.Store(carrier.HookTCEgress, b, 0, bytesA))
			require.NoError(t, c.Store(carrier.HookTCEgress, b, 1, bytesB))
			cp, err := b.Copy()
			require.NoError(t, err)
			require.NoError(t, c.Delete(carrier.HookTCIngress, cp, 0)) // the copy shares the storage
			require.Equal(t, "ENOENT", show(c.Lookup(carrier.HookTCIngress, b, 0)))
			require.NoError(t, c.Store(carrier.HookTCIngress, b, 0, bytesB))
			v, err := c.Lookup(carrier.HookTCIngress, cp, 0)
			require.NoError(t, err)
			require.True(t, bytes.Equal(bytesB, v))
			cp.ConsumeSkb()
			b.ConsumeSkb()
			carrier.GracePeriod(c)
		})
	}
}
