package kmem

import (
	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/internal/errno"
)

// ErrNoMem is returned for an allocation that failed (by fault injection).
// It matches ENOMEM under errors.Is.
var ErrNoMem = errno.New("kmem: allocation failed", errno.ENOMEM)

// Counter counts the allocation traffic of one site or size class.
type Counter struct {
	Allocs         uint64 // successful allocations
	Failed         uint64 // injected allocation failures
	Frees          uint64 // immediate frees
	DeferredFrees  uint64 // frees queued behind an RCU grace period
	BytesRequested uint64 // bytes asked for by successful allocations
	BytesOccupied  uint64 // bytes taken (class or slab size) by successful allocations
}

func (c *Counter) add(o *Counter) {
	c.Allocs += o.Allocs
	c.Failed += o.Failed
	c.Frees += o.Frees
	c.DeferredFrees += o.DeferredFrees
	c.BytesRequested += o.BytesRequested
	c.BytesOccupied += o.BytesOccupied
}

func (c *Counter) sub(o *Counter) Counter {
	return Counter{
		Allocs: c.Allocs - o.Allocs, Failed: c.Failed - o.Failed, Frees: c.Frees - o.Frees,
		DeferredFrees:  c.DeferredFrees - o.DeferredFrees,
		BytesRequested: c.BytesRequested - o.BytesRequested,
		BytesOccupied:  c.BytesOccupied - o.BytesOccupied,
	}
}

// Stats is a snapshot of an accountant. It is a plain value: copying it and
// subtracting two snapshots do not allocate.
type Stats struct {
	Total   Counter
	BySite  [MaxSites]Counter
	ByClass [NumClasses]Counter // kmalloc requests only; cache objects are in BySite

	LiveObjects     int64 // allocated and not yet freed (RCU-pending objects are live)
	LiveBytes       int64 // occupied bytes of live objects
	PeakObjects     int64
	PeakBytes       int64
	PendingRCU      int64 // objects waiting for a grace period
	PendingRCUBytes int64

	Ops cost.Counts
}

// Sub returns the traffic between the snapshot old and s. Live, pending and
// peak figures are those of s.
func (s *Stats) Sub(old *Stats) Stats {
	d := Stats{
		Total:       s.Total.sub(&old.Total),
		LiveObjects: s.LiveObjects, LiveBytes: s.LiveBytes,
		PeakObjects: s.PeakObjects, PeakBytes: s.PeakBytes,
		PendingRCU: s.PendingRCU, PendingRCUBytes: s.PendingRCUBytes,
		Ops: s.Ops.Sub(&old.Ops),
	}
	for i := range s.BySite {
		d.BySite[i] = s.BySite[i].sub(&old.BySite[i])
	}
	for i := range s.ByClass {
		d.ByClass[i] = s.ByClass[i].sub(&old.ByClass[i])
	}
	return d
}

// Merge adds the traffic of o into s, as when combining flow shards. Live and
// pending figures add; peaks add too, which bounds the true combined peak
// from above (shards peak at different times).
func (s *Stats) Merge(o *Stats) {
	s.Total.add(&o.Total)
	for i := range s.BySite {
		s.BySite[i].add(&o.BySite[i])
	}
	for i := range s.ByClass {
		s.ByClass[i].add(&o.ByClass[i])
	}
	s.LiveObjects += o.LiveObjects
	s.LiveBytes += o.LiveBytes
	s.PeakObjects += o.PeakObjects
	s.PeakBytes += o.PeakBytes
	s.PendingRCU += o.PendingRCU
	s.PendingRCUBytes += o.PendingRCUBytes
	s.Ops.Merge(&o.Ops)
}

// Fault says which allocations fail. The zero value injects nothing.
type Fault struct {
	// Nth fails the Nth allocation attempt (1-based) counted from SetFault,
	// once. Zero disables it.
	Nth uint64
	// Prob fails each attempt with this probability, drawn from a PRNG seeded
	// with Seed, so a run is reproducible.
	Prob float64
	Seed uint64
	// Site, when not SiteUnknown, limits injection to that call site.
	Site Site
}

// Accountant records allocations and frees. The zero value is not usable;
// call New.
type Accountant struct {
	st       Stats // st.Total stays zero: StatsInto sums it
	faulty   bool  // a Fault that can fail an attempt is installed
	fault    Fault
	attempts uint64
	rng      uint64
}

// New returns an accountant with no fault injection.
func New() *Accountant { return &Accountant{} }

// SetFault installs a fault policy and restarts its attempt counter.
func (a *Accountant) SetFault(f Fault) {
	a.fault = f
	a.faulty = f.Nth != 0 || f.Prob > 0
	a.attempts = 0
	a.rng = f.Seed
}

// Stats returns a snapshot.
func (a *Accountant) Stats() Stats {
	var st Stats
	a.StatsInto(&st)
	return st
}

// StatsInto copies a snapshot into dst without allocating. Total is summed
// from BySite here (every allocation and free has a site), so the
// per-object path updates one site counter, not two.
func (a *Accountant) StatsInto(dst *Stats) {
	*dst = a.st
	dst.Total = Counter{}
	for i := range dst.BySite {
		dst.Total.add(&dst.BySite[i])
	}
}

// Live returns the live object count and occupied bytes.
func (a *Accountant) Live() (objects, bytes int64) { return a.st.LiveObjects, a.st.LiveBytes }

// Op records n runs of a non-allocation primitive operation.
func (a *Accountant) Op(op cost.Op, n uint64) { a.st.Ops[op] += n }

// Ops returns the operation counts recorded so far.
func (a *Accountant) Ops() *cost.Counts { return &a.st.Ops }

// splitmix64: a tiny deterministic PRNG that does not allocate.
func (a *Accountant) next() uint64 {
	a.rng += 0x9e3779b97f4a7c15
	z := a.rng
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (a *Accountant) fail(site Site) bool {
	f := &a.fault
	if f.Nth == 0 && f.Prob == 0 {
		return false
	}
	if f.Site != SiteUnknown && f.Site != site {
		return false
	}
	a.attempts++
	if f.Nth != 0 && a.attempts == f.Nth {
		return true
	}
	if f.Prob > 0 && float64(a.next()>>11)/(1<<53) < f.Prob {
		return true
	}
	return false
}

// failed records an injected allocation failure at site (and class, for a
// kmalloc request).
func (a *Accountant) failed(site Site, class int) error {
	a.st.BySite[site].Failed++
	if class >= 0 {
		a.st.ByClass[class].Failed++
	}
	return ErrNoMem
}

// charge records a successful allocation at site: the site counter, the
// kmalloc op count, and the live and peak figures. A kmalloc request also
// counts in its class (Kmalloc does that).
func (a *Accountant) charge(site Site, requested, occupied int) {
	st := &a.st
	c := &st.BySite[site]
	c.Allocs++
	c.BytesRequested += uint64(requested)
	c.BytesOccupied += uint64(occupied)
	st.Ops[cost.OpKmalloc]++
	st.LiveObjects++
	st.LiveBytes += int64(occupied)
	st.PeakObjects = max(st.PeakObjects, st.LiveObjects)
	st.PeakBytes = max(st.PeakBytes, st.LiveBytes)
}

// release records an immediate free of occupied bytes at site.
func (a *Accountant) release(site Site, occupied int) {
	st := &a.st
	if st.LiveObjects <= 0 {
		panic(noLiveError{site})
	}
	st.BySite[site].Frees++
	st.Ops[cost.OpKfree]++
	st.LiveObjects--
	st.LiveBytes -= int64(occupied)
}

// releaseRCU records an RCU-deferred free of occupied bytes at site: the
// object stays live until GracePeriod.
func (a *Accountant) releaseRCU(site Site, occupied int) {
	st := &a.st
	if st.LiveObjects <= 0 {
		panic(noLiveError{site})
	}
	st.BySite[site].DeferredFrees++
	st.Ops[cost.OpKfreeRCU]++
	st.PendingRCU++
	st.PendingRCUBytes += int64(occupied)
}

// noLiveError is the panic value of a free with no live object: a double
// free in the model. It is built without a call so that the frees inline.
type noLiveError struct{ site Site }

func (e noLiveError) Error() string {
	return "kmem: free with no live object (double free in the model at site " + e.site.String() + ")"
}

// Size is a kmalloc request size with its size class (kmalloc_index())
// and the bytes it occupies worked out once, for callers that allocate
// objects of one size again and again (an element of a map, a storage of
// an owner type). The zero Size is not a request; build one with SizeOf.
type Size struct {
	n        int
	class    int
	occupied int
}

// SizeOf returns the Size of a request of n bytes (n must be positive).
func SizeOf(n int) Size {
	c := ClassIndex(n)
	return Size{n: n, class: c, occupied: classOccupied(c, n)}
}

// Bytes returns the requested size.
func (s Size) Bytes() int { return s.n }

// Class returns the size-class bucket (ClassIndex of the size).
func (s Size) Class() int { return s.class }

// Kmalloc accounts for kmalloc(size) at site. It returns ErrNoMem when fault
// injection fails the attempt; nothing is allocated then.
func (a *Accountant) Kmalloc(site Site, size int) error {
	class := ClassIndex(size)
	if a.faulty && a.fail(site) {
		return a.failed(site, class)
	}
	occupied := classOccupied(class, size)
	a.charge(site, size, occupied)
	c := &a.st.ByClass[class]
	c.Allocs++
	c.BytesRequested += uint64(size)
	c.BytesOccupied += uint64(occupied)
	return nil
}

// KmallocSize is Kmalloc of a request whose class SizeOf worked out.
func (a *Accountant) KmallocSize(site Site, s Size) error {
	if a.faulty && a.fail(site) {
		return a.failed(site, s.class)
	}
	a.charge(site, s.n, s.occupied)
	c := &a.st.ByClass[s.class]
	c.Allocs++
	c.BytesRequested += uint64(s.n)
	c.BytesOccupied += uint64(s.occupied)
	return nil
}

// Kfree accounts for kfree of an object that Kmalloc(site, size) allocated.
func (a *Accountant) Kfree(site Site, size int) { a.KfreeSize(site, SizeOf(size)) }

// KfreeSize is Kfree of an object that KmallocSize(site, s) allocated.
func (a *Accountant) KfreeSize(site Site, s Size) {
	a.release(site, s.occupied)
	a.st.ByClass[s.class].Frees++
}

// KfreeRCU accounts for kfree_rcu/call_rcu of a Kmalloc'd object: the memory
// stays live until the next GracePeriod.
func (a *Accountant) KfreeRCU(site Site, size int) { a.KfreeRCUSize(site, SizeOf(size)) }

// KfreeRCUSize is KfreeRCU of an object that KmallocSize(site, s)
// allocated.
func (a *Accountant) KfreeRCUSize(site Site, s Size) {
	a.releaseRCU(site, s.occupied)
	a.st.ByClass[s.class].DeferredFrees++
}

// CacheAlloc accounts for kmem_cache_alloc(c) at site.
func (a *Accountant) CacheAlloc(site Site, c *Cache) error {
	if a.faulty && a.fail(site) {
		return a.failed(site, -1)
	}
	a.charge(site, c.ObjectSize, c.SlabSize())
	return nil
}

// CacheFree accounts for kmem_cache_free(c) of an object from CacheAlloc.
func (a *Accountant) CacheFree(site Site, c *Cache) { a.release(site, c.SlabSize()) }

// CacheFreeRCU accounts for an RCU-deferred kmem_cache_free.
func (a *Accountant) CacheFreeRCU(site Site, c *Cache) { a.releaseRCU(site, c.SlabSize()) }

// GracePeriod completes every RCU-deferred free, as the end of an RCU grace
// period runs the queued callbacks.
func (a *Accountant) GracePeriod() {
	a.st.LiveObjects -= a.st.PendingRCU
	a.st.LiveBytes -= a.st.PendingRCUBytes
	a.st.PendingRCU = 0
	a.st.PendingRCUBytes = 0
}

// ClassCounts returns, per size class, the successful allocations and the
// frees (immediate and RCU-deferred), in the shape cost.Table.Estimate takes.
func (s *Stats) ClassCounts() (allocs, frees [NumClasses]uint64) {
	for i := range s.ByClass {
		allocs[i] = s.ByClass[i].Allocs
		frees[i] = s.ByClass[i].Frees + s.ByClass[i].DeferredFrees
	}
	return allocs, frees
}
