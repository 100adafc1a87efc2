package cost

import "math"

// Source says where an entry's figure comes from.
type Source string

// The provenance kinds. Every entry names one; Validate checks that the
// fields each kind needs are present.
const (
	// SourceMeasured: calibrated on a running kernel (package
	// kernel/calibrate). Date, Kernel and Spread are required.
	SourceMeasured Source = "measured"
	// SourceBenchmark: a figure published for a named kernel benchmark
	// (tools/testing/selftests/bpf/benchs/...). Ref is required.
	SourceBenchmark Source = "benchmark"
	// SourceDerived: arithmetic on measured or benchmark figures. Note
	// states the formula and Ref the inputs.
	SourceDerived Source = "derived"
	// SourceEstimate: no measurement is possible; Note states the
	// reasoning. Spreads of estimates are wide on purpose.
	SourceEstimate Source = "estimate"
)

func (s Source) valid() bool {
	switch s {
	case SourceMeasured, SourceBenchmark, SourceDerived, SourceEstimate:
		return true
	}
	return false
}

// Entry is the cost of one primitive operation in nanoseconds: a central
// value NS (the median where measured) and a spread [Low, High] around it
// (Spread says which: "p10/p90 of 12 rounds", "±1 stddev", ...).
type Entry struct {
	NS, Low, High float64

	Source Source
	Spread string // how Low and High were obtained
	Date   string // measurement date (YYYY-MM-DD), for measured entries
	Kernel string // uname -r of the measured kernel
	Ref    string // benchmark or reference figure the entry relates to
	Note   string // method, formula or reasoning
}

// Table holds the cost of every primitive operation. Ops covers every Op;
// for OpKmalloc and OpKfree it is the price of allocations and frees whose
// size class is not known (kmem_cache objects such as skb heads and
// extensions). Alloc and Free price kmalloc requests per size class
// (indexes as kmem.ClassIndex returns).
//
// A Table is a plain value; Estimate does not allocate.
type Table struct {
	Name  string
	Ops   [NumOps]Entry
	Alloc [NumSizeClasses]Entry
	Free  [NumSizeClasses]Entry
}

// Range is an estimated cost in nanoseconds with its spread.
type Range struct {
	NS, Low, High float64
}

// Estimate prices counted operations. allocsByClass and freesByClass split
// kmalloc calls and frees by size class (kmem.Stats.ByClass: Allocs, and
// Frees+DeferredFrees); either may be nil.
//
// Pricing:
//   - every Op other than OpKmalloc, OpKfree and OpKfreeRCU: count × entry;
//   - allocations: allocsByClass[i] × Alloc[i], plus the calls not covered
//     by the classes, counts[OpKmalloc] − Σ allocsByClass, at Ops[OpKmalloc];
//   - frees: freesByClass[i] × Free[i], plus the frees not covered,
//     counts[OpKfree] + counts[OpKfreeRCU] − Σ freesByClass, at Ops[OpKfree];
//     each deferred free adds Ops[OpKfreeRCU], the cost of the deferral.
//
// Low and High add linearly (errors are treated as fully correlated), so the
// range is conservative.
func (t *Table) Estimate(counts Counts, allocsByClass, freesByClass *[NumSizeClasses]uint64) Range {
	var r Range
	for op := Op(0); op < NumOps; op++ {
		if op == OpKmalloc || op == OpKfree {
			continue
		}
		r.addEntry(counts[op], &t.Ops[op])
	}
	var classAllocs, classFrees uint64
	if allocsByClass != nil {
		for i, n := range allocsByClass {
			classAllocs += n
			r.addEntry(n, &t.Alloc[i])
		}
	}
	if freesByClass != nil {
		for i, n := range freesByClass {
			classFrees += n
			r.addEntry(n, &t.Free[i])
		}
	}
	if n := counts[OpKmalloc]; n > classAllocs {
		r.addEntry(n-classAllocs, &t.Ops[OpKmalloc])
	}
	if n := counts[OpKfree] + counts[OpKfreeRCU]; n > classFrees {
		r.addEntry(n-classFrees, &t.Ops[OpKfree])
	}
	return r
}

func (r *Range) addEntry(n uint64, e *Entry) {
	if n == 0 {
		return
	}
	f := float64(n)
	r.NS += f * e.NS
	r.Low += f * e.Low
	r.High += f * e.High
}

// Entry returns the entry for op.
func (t *Table) Entry(op Op) *Entry {
	if op >= NumOps {
		panic("cost: Entry of an invalid op " + op.String())
	}
	return &t.Ops[op]
}

// checkEntry returns "" when e is well-formed, else what is wrong, in a few
// words.
func checkEntry(e *Entry) string {
	for _, v := range [...]struct {
		name string
		v    float64
	}{{"ns", e.NS}, {"low", e.Low}, {"high", e.High}} {
		if math.IsNaN(v.v) || math.IsInf(v.v, 0) {
			return v.name + " is not finite"
		}
		if v.v < 0 {
			return v.name + " is negative"
		}
	}
	if e.Low > e.NS || e.High < e.NS {
		return "spread does not contain ns (need low <= ns <= high)"
	}
	if !e.Source.valid() {
		return "source must be measured, benchmark, derived or estimate"
	}
	switch e.Source {
	case SourceMeasured:
		if e.Date == "" || e.Kernel == "" || e.Spread == "" {
			return "measured entry needs date, kernel and spread"
		}
	case SourceBenchmark:
		if e.Ref == "" {
			return "benchmark entry needs ref"
		}
	case SourceDerived, SourceEstimate:
		if e.Note == "" {
			return string(e.Source) + " entry needs note"
		}
	}
	return ""
}
