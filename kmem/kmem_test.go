package kmem

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/internal/errno"
)

var testSite = RegisterSite("kmem_test")

func TestClassIndex(t *testing.T) {
	tests := []struct {
		size, occupied int
		class          string
	}{
		{1, 8, "kmalloc-8"}, {8, 8, "kmalloc-8"}, {9, 16, "kmalloc-16"},
		{64, 64, "kmalloc-64"}, {65, 96, "kmalloc-96"}, {96, 96, "kmalloc-96"},
		{97, 128, "kmalloc-128"}, {129, 192, "kmalloc-192"}, {176, 192, "kmalloc-192"},
		{184, 192, "kmalloc-192"}, {193, 256, "kmalloc-256"}, {80, 96, "kmalloc-96"},
		{8192, 8192, "kmalloc-8192"}, {8193, 16384, "kmalloc-large"},
		{12289, 16384, "kmalloc-large"}, {16385, 32768, "kmalloc-large"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.size), func(t *testing.T) {
			assert.Equal(t, tt.class, ClassName(ClassIndex(tt.size)), "ClassIndex(%d)", tt.size)
			assert.Equal(t, tt.occupied, Occupied(tt.size), "Occupied(%d)", tt.size)
		})
	}
	assert.Panics(t, func() { ClassIndex(0) })
}

func TestCacheSlabSize(t *testing.T) {
	assert.Equal(t, 64, NewCache("skbuff_ext_cache", 24, true).SlabSize())
	assert.Equal(t, 128, NewCache("x", 65, true).SlabSize())
	assert.Equal(t, 24, NewCache("y", 20, false).SlabSize())
	c := NewCache("z", 20, false)
	c.ObjectSize, c.Align = 70, 64
	assert.Equal(t, 128, c.SlabSize(), "a cache changed by hand recomputes its slab size")
	assert.Equal(t, 72, (&Cache{Name: "w", ObjectSize: 70, Align: 8}).SlabSize(), "a literal Cache works too")
}

func TestLivePeakAndRCU(t *testing.T) {
	a := New()
	require.NoError(t, a.Kmalloc(testSite, 184))
	require.NoError(t, a.Kmalloc(testSite, 80))
	o, b := a.Live()
	assert.Equal(t, int64(2), o)
	assert.Equal(t, int64(192+96), b)
	a.KfreeRCU(testSite, 80)
	o, b = a.Live()
	assert.Equal(t, int64(2), o, "RCU-pending object is still live")
	assert.Equal(t, int64(288), b)
	a.GracePeriod()
	o, b = a.Live()
	assert.Equal(t, int64(1), o)
	assert.Equal(t, int64(192), b)
	a.Kfree(testSite, 184)
	st := a.Stats()
	assert.Equal(t, int64(0), st.LiveObjects)
	assert.Equal(t, int64(2), st.PeakObjects)
	assert.Equal(t, int64(288), st.PeakBytes)
	assert.Equal(t, uint64(2), st.BySite[testSite].Allocs)
	assert.Equal(t, uint64(1), st.BySite[testSite].Frees)
	assert.Equal(t, uint64(1), st.BySite[testSite].DeferredFrees)
	assert.Equal(t, uint64(264), st.Total.BytesRequested)
	assert.Equal(t, uint64(1), st.ByClass[ClassIndex(184)].Allocs)
	assert.Equal(t, uint64(2), st.Ops[cost.OpKmalloc])
	assert.Equal(t, uint64(1), st.Ops[cost.OpKfreeRCU])
	assert.Panics(t, func() { a.Kfree(testSite, 8) }, "free with nothing live is a model bug")
}

func TestFaultNth(t *testing.T) {
	a := New()
	a.SetFault(Fault{Nth: 3})
	var errs []bool
	for range 5 {
		errs = append(errs, a.Kmalloc(testSite, 16) != nil)
	}
	assert.Equal(t, []bool{false, false, true, false, false}, errs)
	a.SetFault(Fault{Nth: 1})
	err := a.CacheAlloc(testSite, NewCache("c", 8, false))
	assert.True(t, errors.Is(err, ErrNoMem))
	assert.True(t, errors.Is(err, errno.ENOMEM))
	st := a.Stats()
	assert.Equal(t, uint64(2), st.Total.Failed)
	assert.Equal(t, int64(4), st.LiveObjects, "failed attempts allocate nothing")
}

func TestFaultProbDeterministicAndSiteFiltered(t *testing.T) {
	other := RegisterSite("kmem_test_other")
	run := func() []bool {
		a := New()
		a.SetFault(Fault{Prob: 0.3, Seed: 42, Site: testSite})
		var out []bool
		for range 200 {
			out = append(out, a.Kmalloc(testSite, 32) != nil)
			require.NoError(t, a.Kmalloc(other, 32), "other sites never fail")
		}
		return out
	}
	a, b := run(), run()
	assert.Equal(t, a, b, "same seed, same failures")
	n := 0
	for _, f := range a {
		if f {
			n++
		}
	}
	assert.InDelta(t, 60, n, 25, "about 30%% of 200 fail")
}

func TestStatsSubMerge(t *testing.T) {
	a := New()
	require.NoError(t, a.Kmalloc(testSite, 100))
	before := a.Stats()
	require.NoError(t, a.Kmalloc(testSite, 100))
	a.Op(cost.OpHashLookup, 3)
	after := a.Stats()
	d := after.Sub(&before)
	assert.Equal(t, uint64(1), d.Total.Allocs)
	assert.Equal(t, uint64(128), d.Total.BytesOccupied)
	assert.Equal(t, uint64(3), d.Ops[cost.OpHashLookup])
	var m Stats
	m.Merge(&after)
	m.Merge(&after)
	assert.Equal(t, uint64(4), m.Total.Allocs)
	assert.Equal(t, int64(4), m.LiveObjects)
}

func TestRegisterSiteIdempotent(t *testing.T) {
	assert.Equal(t, testSite, RegisterSite("kmem_test"))
	assert.Equal(t, "kmem_test", testSite.String())
}

func TestRecordingDoesNotAllocate(t *testing.T) {
	a := New()
	var snap Stats
	allocs := testing.AllocsPerRun(100, func() {
		_ = a.Kmalloc(testSite, 72)
		a.KfreeRCU(testSite, 72)
		_ = a.KmallocSize(testSite, SizeOf(72))
		a.KfreeRCUSize(testSite, SizeOf(72))
		a.GracePeriod()
		a.Op(cost.OpListWalk, 1)
		a.StatsInto(&snap)
	})
	assert.Zero(t, allocs)
}

func BenchmarkKmallocKfree(b *testing.B) {
	a := New()
	b.ReportAllocs()
	for b.Loop() {
		_ = a.Kmalloc(testSite, 72)
		a.Kfree(testSite, 72)
	}
}

func ExampleAccountant() {
	site := RegisterSite("example_alloc")
	a := New()
	_ = a.Kmalloc(site, 176) // a struct of 176 bytes lands in kmalloc-192
	_ = a.Kmalloc(site, 80)  // 72-byte header + 8-byte value: kmalloc-96
	a.KfreeRCU(site, 80)
	st := a.Stats()
	fmt.Println(st.Total.Allocs, st.Total.BytesRequested, st.Total.BytesOccupied, st.PendingRCU)
	a.GracePeriod()
	fmt.Println(a.Live())
	// Output:
	// 2 256 288 1
	// 1 192
}

func TestClassCounts(t *testing.T) {
	a := New()
	require.NoError(t, a.Kmalloc(testSite, 80))
	require.NoError(t, a.Kmalloc(testSite, 180))
	require.NoError(t, a.Kmalloc(testSite, 90))
	a.Kfree(testSite, 80)
	a.KfreeRCU(testSite, 90)
	st := a.Stats()
	allocs, frees := st.ClassCounts()
	i96, i192 := ClassIndex(96), ClassIndex(192)
	assert.Equal(t, uint64(2), allocs[i96])
	assert.Equal(t, uint64(1), allocs[i192])
	assert.Equal(t, uint64(2), frees[i96], "immediate and deferred frees both count")
	assert.Zero(t, frees[i192])
	var est [cost.NumSizeClasses]uint64 = allocs // the shape cost.Table.Estimate takes
	assert.Equal(t, allocs[i96], est[i96])
}

func TestClassIndexMatchesLinearScan(t *testing.T) {
	for size := 1; size <= 3*KmallocMaxCacheSize; size++ {
		want := LargeClass
		for i, c := range Classes {
			if size <= c {
				want = i
				break
			}
		}
		if got := ClassIndex(size); got != want {
			t.Fatalf("ClassIndex(%d) = %d, want %d", size, got, want)
		}
	}
}

func BenchmarkClassIndex(b *testing.B) {
	sizes := [...]int{72, 80, 176, 184, 208, 256, 640, 1500, 4096, 9000}
	var sink int
	b.ReportAllocs()
	for b.Loop() {
		for _, s := range sizes {
			sink += ClassIndex(s)
		}
	}
	_ = sink
}

// TestTotalIsSumOfSites checks the snapshot's Total against the per-site
// counters it is summed from, over mixed allocations, frees, deferred
// frees and injected failures at two sites.
func TestTotalIsSumOfSites(t *testing.T) {
	other := RegisterSite("kmem_test_other")
	a := New()
	a.SetFault(Fault{Prob: 0.25, Seed: 7})
	var live []struct {
		site Site
		size int
	}
	for i := range 400 {
		site := testSite
		if i%3 == 0 {
			site = other
		}
		size := 8 + (i*37)%700
		if a.Kmalloc(site, size) == nil {
			live = append(live, struct {
				site Site
				size int
			}{site, size})
		}
		if i%4 == 3 && len(live) > 0 {
			o := live[0]
			live = live[1:]
			if i%8 == 7 {
				a.KfreeRCU(o.site, o.size)
			} else {
				a.Kfree(o.site, o.size)
			}
		}
	}
	st := a.Stats()
	var want Counter
	for i := range st.BySite {
		want.add(&st.BySite[i])
	}
	assert.Equal(t, want, st.Total)
	assert.Positive(t, st.Total.Failed, "failures were injected")
	assert.Positive(t, st.Total.DeferredFrees)
	assert.Equal(t, st.BySite[testSite].Allocs+st.BySite[other].Allocs, st.Total.Allocs)
	var into Stats
	a.StatsInto(&into)
	assert.Equal(t, st, into)
}

// TestSizeMatchesBytes checks that the Size calls record exactly what the
// byte-count calls record, for sizes in every kind of class, with and
// without an injected failure.
func TestSizeMatchesBytes(t *testing.T) {
	for _, n := range []int{1, 8, 9, 72, 96, 97, 176, 192, 193, 200, 4096, 8192, 8193, 20000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			s := SizeOf(n)
			assert.Equal(t, n, s.Bytes())
			assert.Equal(t, ClassIndex(n), s.Class())
			bytes, sized := New(), New()
			for i, a := range []*Accountant{bytes, sized} {
				a.SetFault(Fault{Nth: 3})
				for range 4 {
					var err error
					if i == 0 {
						err = a.Kmalloc(testSite, n)
					} else {
						err = a.KmallocSize(testSite, s)
					}
					if err != nil {
						require.ErrorIs(t, err, ErrNoMem)
					}
				}
				if i == 0 {
					a.Kfree(testSite, n)
					a.KfreeRCU(testSite, n)
				} else {
					a.KfreeSize(testSite, s)
					a.KfreeRCUSize(testSite, s)
				}
			}
			assert.Equal(t, bytes.Stats(), sized.Stats())
			assert.Equal(t, uint64(1), sized.Stats().ByClass[ClassIndex(n)].Failed)
			sized.GracePeriod()
			objs, occ := sized.Live()
			assert.Equal(t, int64(1), objs)
			assert.Equal(t, int64(Occupied(n)), occ)
		})
	}
}
