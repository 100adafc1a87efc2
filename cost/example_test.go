package cost_test

import (
	"fmt"

	"github.com/skbsim/skbsim/cost"
)

// A carrier's first write per packet: two kmalloc-192 allocations, two
// locks, one helper call and a cache-missing lookup that walks one list
// step, priced with a small hand-made table.
func ExampleTable_Estimate() {
	var t cost.Table
	set := func(e *cost.Entry, ns float64) {
		*e = cost.Entry{NS: ns, Low: ns * 0.8, High: ns * 1.5, Source: cost.SourceEstimate, Note: "example"}
	}
	for op := cost.Op(0); op < cost.NumOps; op++ {
		set(&t.Ops[op], 10)
	}
	for i := 0; i < cost.NumSizeClasses; i++ {
		set(&t.Alloc[i], 50)
		set(&t.Free[i], 30)
	}
	var c cost.Counts
	c.Add(cost.OpKmalloc, 2)
	c.Add(cost.OpLock, 2)
	c.Inc(cost.OpHelperCall)
	c.Inc(cost.OpListWalk)
	var allocs [cost.NumSizeClasses]uint64
	allocs[6] = 2 // kmalloc-192
	r := t.Estimate(c, &allocs, nil)
	fmt.Printf("%.0f ns (%.0f..%.0f)\n", r.NS, r.Low, r.High)
	// Output: 140 ns (112..210)
}
