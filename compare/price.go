package compare

import (
	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/sim"
)

// tally is what a report counted, in the quantities the cost table prices
// separately (cost.Table.Estimate): every operation but the allocation and
// free calls, kmalloc calls per size class and those of no class
// (kmem_cache objects), frees likewise, and RCU deferrals. Tallies of
// different runs subtract, which is how a design's share is isolated.
type tally struct {
	ops        [cost.NumOps]float64 // OpKmalloc, OpKfree, OpKfreeRCU stay 0
	allocClass [cost.NumSizeClasses]float64
	allocOther float64
	freeClass  [cost.NumSizeClasses]float64
	freeOther  float64
	deferrals  float64
	// Not priced: the allocation traffic in objects and bytes.
	allocs, bytes float64
}

// tallyOf reads a report's operation rows and size-class rows. Names the
// cost package does not know are ignored (the report and the table come
// from the same build, so there are none).
func tallyOf(r *sim.Report) tally {
	var t tally
	var kmalloc, kfree, kfreeRCU float64
	for _, row := range r.Ops {
		op, ok := cost.ParseOp(row.Name)
		if !ok {
			continue
		}
		n := float64(row.Count)
		switch op {
		case cost.OpKmalloc:
			kmalloc = n
		case cost.OpKfree:
			kfree = n
		case cost.OpKfreeRCU:
			kfreeRCU = n
		default:
			t.ops[op] = n
		}
	}
	var classAllocs, classFrees float64
	for _, row := range r.Allocations.ByClass {
		i, ok := cost.ParseSizeClass(row.Name)
		if !ok {
			continue
		}
		t.allocClass[i] = float64(row.Allocs)
		t.freeClass[i] = float64(row.Frees + row.DeferredFrees)
		classAllocs += t.allocClass[i]
		classFrees += t.freeClass[i]
	}
	t.allocOther = kmalloc - classAllocs
	t.freeOther = kfree + kfreeRCU - classFrees
	t.deferrals = kfreeRCU
	t.allocs = float64(r.Allocations.Allocs)
	t.bytes = float64(r.Allocations.BytesOccupied)
	return t
}

// sub returns t - o.
func (t tally) sub(o tally) tally {
	for i := range t.ops {
		t.ops[i] -= o.ops[i]
	}
	for i := range t.allocClass {
		t.allocClass[i] -= o.allocClass[i]
		t.freeClass[i] -= o.freeClass[i]
	}
	t.allocOther -= o.allocOther
	t.freeOther -= o.freeOther
	t.deferrals -= o.deferrals
	t.allocs -= o.allocs
	t.bytes -= o.bytes
	return t
}

// prices are the cost table's unit prices of a tally's quantities, each
// obtained from cost.Table.Estimate on a unit input so that the pricing
// rules stay the table's own.
type prices struct {
	ops                   [cost.NumOps]cost.Range
	allocClass, freeClass [cost.NumSizeClasses]cost.Range
	allocOther, freeOther cost.Range
	deferral              cost.Range
}

func unitPrices(tab *cost.Table) prices {
	var p prices
	one := func(op cost.Op, allocs, frees *[cost.NumSizeClasses]uint64) cost.Range {
		var c cost.Counts
		c.Inc(op)
		return tab.Estimate(c, allocs, frees)
	}
	for op := cost.Op(0); op < cost.NumOps; op++ {
		p.ops[op] = one(op, nil, nil)
	}
	for i := 0; i < cost.NumSizeClasses; i++ {
		var v [cost.NumSizeClasses]uint64
		v[i] = 1
		p.allocClass[i] = one(cost.OpKmalloc, &v, nil)
		p.freeClass[i] = one(cost.OpKfree, nil, &v)
	}
	p.allocOther = p.ops[cost.OpKmalloc]
	p.freeOther = p.ops[cost.OpKfree]
	// A deferred free is priced as a free plus the deferral.
	rcu := p.ops[cost.OpKfreeRCU]
	p.deferral = cost.Range{NS: rcu.NS - p.freeOther.NS, Low: rcu.Low - p.freeOther.Low, High: rcu.High - p.freeOther.High}
	p.ops[cost.OpKmalloc], p.ops[cost.OpKfree], p.ops[cost.OpKfreeRCU] = cost.Range{}, cost.Range{}, cost.Range{}
	return p
}

// breakdown prices t per operation: allocations of every class together
// under "kmalloc", frees under "kfree", deferrals under "kfree_rcu".
func (p *prices) breakdown(t *tally) [cost.NumOps]float64 {
	var b [cost.NumOps]float64
	for op := range t.ops {
		b[op] = t.ops[op] * p.ops[op].NS
	}
	for i := range t.allocClass {
		b[cost.OpKmalloc] += t.allocClass[i] * p.allocClass[i].NS
		b[cost.OpKfree] += t.freeClass[i] * p.freeClass[i].NS
	}
	b[cost.OpKmalloc] += t.allocOther * p.allocOther.NS
	b[cost.OpKfree] += t.freeOther * p.freeOther.NS
	b[cost.OpKfreeRCU] += t.deferrals * p.deferral.NS
	return b
}

// price prices t. A negative quantity (the design did less of something
// than the baseline) takes its low end from the high price and the other
// way round, so Low <= NS <= High always holds.
func (p *prices) price(t *tally) cost.Range {
	var r cost.Range
	add := func(n float64, u cost.Range) {
		r.NS += n * u.NS
		if n >= 0 {
			r.Low += n * u.Low
			r.High += n * u.High
		} else {
			r.Low += n * u.High
			r.High += n * u.Low
		}
	}
	for i := range t.ops {
		add(t.ops[i], p.ops[i])
	}
	for i := range t.allocClass {
		add(t.allocClass[i], p.allocClass[i])
		add(t.freeClass[i], p.freeClass[i])
	}
	add(t.allocOther, p.allocOther)
	add(t.freeOther, p.freeOther)
	add(t.deferrals, p.deferral)
	return r
}
