package localstorage

import (
	"fmt"

	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/skb"
)

// Strategy names an allocation strategy of the skb owner. All strategies
// have the same observable semantics (values, errnos, lifetimes); they
// differ in what is allocated, when, and how many times.
type Strategy string

// The skb allocation strategies.
const (
	// StrategyRFC is the RFC as posted: on the first write an skb_ext
	// (skbuff_ext_cache, or a COW of a shared one), a struct
	// bpf_local_storage and an element: three allocations.
	StrategyRFC Strategy = "rfc"
	// StrategyCoalloc co-allocates the storage and its first element in
	// one kmalloc (the single-map case the RFC discussion lists as an
	// optimisation); later elements are separate allocations. A
	// co-allocated element that is deleted or replaced while other
	// elements remain keeps its bytes until the storage is freed.
	StrategyCoalloc Strategy = "rfc-coalloc"
	// StrategyPrealloc takes storages and elements from a per-CPU pool
	// that RefillSkbPool tops up off the hot path (refills are booked at
	// their own allocation site); an empty pool falls back to kmalloc.
	// Freed objects return to the pool after their grace period.
	StrategyPrealloc Strategy = "rfc-prealloc"
	// StrategySlim embeds a slim storage (the cache slots, the list head
	// and a lock: 8*N + 16 bytes) in the SKB_EXT_BPF_STORAGE chunk of the
	// skb_ext, so the first write allocates the skb_ext and the element
	// only. The extension object of every skb grows by the slim storage.
	StrategySlim Strategy = "rfc-slim"
)

// Strategies lists the skb allocation strategies.
func Strategies() []Strategy {
	return []Strategy{StrategyRFC, StrategyCoalloc, StrategyPrealloc, StrategySlim}
}

// ParseStrategy returns the strategy called name.
func ParseStrategy(name string) (Strategy, bool) {
	for _, s := range Strategies() {
		if string(s) == name {
			return s, true
		}
	}
	return "", false
}

// slimStorageTail is what a slim storage holds besides its cache slots:
// the list head (8) and an rqspinlock (4, padded to 8). The owner is the
// extension itself, there is no rcu_head (the chunk dies with the
// skb_ext), no mem_charge (skb storage is not charged) and no owner_refcnt.
const slimStorageTail = 16

// SkbConfig configures the skb owner.
type SkbConfig struct {
	// Strategy is the allocation strategy; "" means StrategyRFC.
	Strategy Strategy
	// CacheSize is the number of cache slots of skb storages (the RFC's
	// own 16-slot skb_cache index space); 0 means Config.CacheSize.
	CacheSize int
	// PoolStorages and PoolElems are the per-CPU pool targets of
	// StrategyPrealloc: storages, and elements per kmalloc class of the
	// live skb maps. 0 means 64.
	PoolStorages int
	PoolElems    int
}

// SkbMapOptions are per-map model options of skb storage maps that are NOT
// in the RFC as posted (the RFC refuses every map flag but
// BPF_F_NO_PREALLOC and drops storage on clone, scrub and netns crossing).
// They model the "future work" the RFC's cover letter and LSF/MM/BPF topic
// describe; the names are the model's own.
type SkbMapOptions struct {
	// CloneCopy lets the map be created with BPF_F_CLONE (otherwise
	// -EINVAL, as the RFC posts) and gives BPF_F_CLONE the prototype's
	// bpf_skb_storage_clone() meaning: when an skb is cloned, the clone
	// gets a private skb_ext (a COW of the shared one, so the original's
	// extension is no longer shared either) and deep copies of the
	// elements of BPF_F_CLONE maps; other maps' elements stay with the
	// original only. Without it a clone shares the extension and both
	// sides get -EOPNOTSUPP while it is shared.
	CloneCopy bool
	// KeepOnScrub keeps the map's elements across skb_scrub_packet() with
	// xnet=false (tunnel encap/decap in one namespace, and
	// bpf_redirect_peer(), which scrubs with xnet=false although it
	// crosses namespaces): the skb_ext reset drops the extension, and the
	// kept elements move to a new extension. Other maps' elements are
	// dropped as in the RFC.
	KeepOnScrub bool
	// KeepOnNetns keeps the map's elements across skb_scrub_packet() with
	// xnet=true (dev_forward_skb()/veth, ipvlan and tunnels into another
	// namespace), the same way.
	KeepOnNetns bool
}

func (o SkbMapOptions) any() bool { return o.CloneCopy || o.KeepOnScrub || o.KeepOnNetns }

// skbMapAllocCheck models the RFC's skb_storage_map_alloc_check(): any
// flag but BPF_F_NO_PREALLOC is -EINVAL ("Don't allow BPF_F_CLONE yet.
// Requires skb_ext copy on clone"). With the model option CloneCopy,
// BPF_F_CLONE is accepted too.
func skbMapAllocCheck(spec *MapSpec) error {
	allowed := FlagNoPrealloc
	if spec.Skb.CloneCopy {
		allowed |= FlagClone
	}
	if spec.Flags&^allowed != 0 {
		return fmt.Errorf("skb storage map flags %#x: %w", spec.Flags, ErrInvalid)
	}
	return nil
}

// skbState is the Env's skb-owner state.
type skbState struct {
	strategy Strategy
	mode     allocMode
	pool     prePool
	stats    SkbStats

	// Live maps with CloneCopy+BPF_F_CLONE and with a Keep option: the
	// hooks return at once when zero.
	cloneMaps, keepMaps int
	// The storage carried from ScrubBefore to ScrubAfter.
	kept       *Storage
	keptFor    *skb.Buff
	keptFilter func(*Map) bool
	keptCopy   bool
}

var sitePoolRefill = kmem.RegisterSite("bpf_skb_storage_pool_refill")

func (e *Env) initSkb(c SkbConfig) {
	st := c.Strategy
	if st == "" {
		st = StrategyRFC
	}
	e.skb.strategy = st
	switch st {
	case StrategyRFC:
		e.skb.mode = allocKmalloc
	case StrategyCoalloc:
		e.skb.mode = allocCoalloc
	case StrategyPrealloc:
		e.skb.mode = allocPrealloc
	case StrategySlim:
		e.skb.mode = allocSlim
	default:
		panic(fmt.Sprintf("localstorage: unknown skb strategy %q", st))
	}
	if c.CacheSize != 0 {
		if c.CacheSize < 1 || c.CacheSize > MaxCacheSize {
			panic(fmt.Sprintf("localstorage: Skb.CacheSize=%d outside 1..%d", c.CacheSize, MaxCacheSize))
		}
		e.cacheSize[OwnerSkb] = c.CacheSize
	}
	p := &e.skb.pool
	p.storageCap, p.elemCap = c.PoolStorages, c.PoolElems
	if p.storageCap == 0 {
		p.storageCap = 64
	}
	if p.elemCap == 0 {
		p.elemCap = 64
	}
}

// SkbStrategy returns the skb allocation strategy.
func (e *Env) SkbStrategy() Strategy { return e.skb.strategy }

// PoolStats counts the traffic of the rfc-prealloc per-CPU pool.
type PoolStats struct {
	Hits    uint64 // objects taken from the pool on the hot path
	Misses  uint64 // hot-path takes that found the pool empty (kmalloc instead)
	Refills uint64 // objects allocated by RefillSkbPool
	Trims   uint64 // objects freed back to the allocator (pool full)
	// Storages and Elems are the objects in the pool now.
	Storages, Elems int
}

// prePool is the per-CPU pool of StrategyPrealloc. The model runs one
// CPU per Env (the shard's), so there is one pool. Pool objects are live
// allocations in the accountant, booked at sitePoolRefill with their
// kmalloc class size.
type prePool struct {
	storageCap, elemCap int
	storages            int
	elems               [kmem.NumClasses]int
	pendStorages        int
	pendElems           [kmem.NumClasses]int
	stats               PoolStats
}

func (p *prePool) takeStorage() bool {
	if p.storages > 0 {
		p.storages--
		p.stats.Hits++
		return true
	}
	p.stats.Misses++
	return false
}

func (p *prePool) takeElem(size int) bool {
	c := kmem.ClassIndex(size)
	if p.elems[c] > 0 {
		p.elems[c]--
		p.stats.Hits++
		return true
	}
	p.stats.Misses++
	return false
}

func (p *prePool) pendingStorage()      { p.pendStorages++ }
func (p *prePool) pendingElem(size int) { p.pendElems[kmem.ClassIndex(size)]++ }

// gracePeriod returns objects whose grace period ended to the pool, or
// frees them when the pool is full.
func (p *prePool) gracePeriod(e *Env) {
	ss := e.StorageSize(OwnerSkb)
	for ; p.pendStorages > 0; p.pendStorages-- {
		if p.storages < p.storageCap {
			p.storages++
			continue
		}
		e.acct.Kfree(sitePoolRefill, ss)
		p.stats.Trims++
	}
	for c := range p.pendElems {
		for ; p.pendElems[c] > 0; p.pendElems[c]-- {
			if p.elems[c] < p.elemCap {
				p.elems[c]++
				continue
			}
			e.acct.Kfree(sitePoolRefill, poolClassSize(c))
			p.stats.Trims++
		}
	}
}

func poolClassSize(c int) int {
	if c < len(kmem.Classes) {
		return kmem.Classes[c]
	}
	panic("localstorage: skb storage pool element above kmalloc-8192")
}

// RefillSkbPool tops up the rfc-prealloc pool off the hot path: storages up
// to the pool target, and elements up to the target in the kmalloc class of
// every live skb map's elem_size. Refill allocations are booked at the
// bpf_skb_storage_pool_refill site and may fail under fault injection (the
// pool then stays short). It returns the number of objects allocated; it
// does nothing for other strategies.
func (e *Env) RefillSkbPool() int {
	if e.skb.mode != allocPrealloc {
		return 0
	}
	p := &e.skb.pool
	n := 0
	ss := e.StorageSize(OwnerSkb)
	for p.storages < p.storageCap {
		if e.acct.Kmalloc(sitePoolRefill, ss) != nil {
			break
		}
		p.storages++
		n++
	}
	for _, m := range e.maps {
		if m.owner != OwnerSkb {
			continue
		}
		c := kmem.ClassIndex(m.elemSize)
		for p.elems[c] < p.elemCap {
			if e.acct.Kmalloc(sitePoolRefill, poolClassSize(c)) != nil {
				break
			}
			p.elems[c]++
			n++
		}
	}
	p.stats.Refills += uint64(n)
	return n
}

// SkbPoolStats returns the rfc-prealloc pool counters.
func (e *Env) SkbPoolStats() PoolStats {
	s := e.skb.pool.stats
	s.Storages = e.skb.pool.storages
	for _, n := range e.skb.pool.elems {
		s.Elems += n
	}
	return s
}

// drainSkbPool frees every pooled object (used by tests and by Close).
func (e *Env) drainSkbPool() {
	p := &e.skb.pool
	ss := e.StorageSize(OwnerSkb)
	for ; p.storages > 0; p.storages-- {
		e.acct.Kfree(sitePoolRefill, ss)
	}
	for c := range p.elems {
		for ; p.elems[c] > 0; p.elems[c]-- {
			e.acct.Kfree(sitePoolRefill, poolClassSize(c))
		}
	}
}
