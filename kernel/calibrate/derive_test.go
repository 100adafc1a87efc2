package calibrate

import (
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/cost"
)

// syntheticReport has every quantity buildTable reads, at 10 ns with
// p10/p90 at 9/12 (memcpy_byte at 0.01).
func syntheticReport(t *testing.T) *Report {
	names := []string{"kfree_rcu"}
	for _, m := range measuredOps {
		names = append(names, m.op.String())
	}
	for _, c := range skClasses() {
		names = append(names, "kmalloc/"+classNameOf(c))
	}
	rep := &Report{Rounds: 7, Kernel: "6.18.44-test", LoadAvg: "0.50"}
	for _, n := range names {
		s := Stat{Name: n, Median: 10, P10: 9, P90: 12, Rounds: 7}
		if n == "memcpy_byte" {
			s = Stat{Name: n, Median: 0.01, P10: 0.009, P90: 0.012, Rounds: 7}
		}
		rep.Stats = append(rep.Stats, s)
	}
	sort.Slice(rep.Stats, func(i, j int) bool { return rep.Stats[i].Name < rep.Stats[j].Name })
	return rep
}

func TestBuildTable(t *testing.T) {
	base := cost.Default()
	rep := syntheticReport(t)
	start := time.Date(2026, 11, 25, 16, 0, 0, 0, time.UTC)
	tab, err := buildTable(rep, &base, start, DefaultOptions())
	require.NoError(t, err)
	require.NoError(t, tab.Validate())
	assert.Equal(t, "measured 6.18.44-test 2026-11-25", tab.Name)
	for _, m := range measuredOps {
		e := tab.Ops[m.op]
		assert.Equal(t, cost.SourceMeasured, e.Source, "%s", m.op)
		assert.Equal(t, "2026-11-25", e.Date)
		assert.Equal(t, "6.18.44-test", e.Kernel)
		assert.Contains(t, e.Spread, "p10/p90 of 7 rounds")
		assert.Contains(t, e.Spread, "load average 0.50")
		assert.Equal(t, m.note, e.Note)
	}
	assert.Equal(t, 0.01, tab.Ops[cost.OpMemcpyByte].NS)
	assert.Equal(t, cost.Entry{NS: 10, Low: 9, High: 12}, cost.Entry{NS: tab.Ops[cost.OpLock].NS, Low: tab.Ops[cost.OpLock].Low, High: tab.Ops[cost.OpLock].High})
	// unreachable entries come from the base table
	for _, op := range []cost.Op{cost.OpKmalloc, cost.OpKfree, cost.OpExtAdd, cost.OpExtCOW} {
		assert.Equal(t, base.Ops[op], tab.Ops[op], "%s", op)
	}
	assert.Equal(t, base.Free, tab.Free)
	// classes below kmalloc-96 take its figure, with a note saying so
	assert.Equal(t, tab.Alloc[4].NS, tab.Alloc[0].NS)
	assert.Contains(t, tab.Alloc[0].Note, "cannot reach this class")
	assert.Equal(t, cost.SourceDerived, tab.Alloc[cost.LargeSizeClass].Source)
}

func TestBuildTableMissingOrNegative(t *testing.T) {
	base := cost.Default()
	rep := syntheticReport(t)
	rep.Stats = rep.Stats[1:] // drop one quantity
	_, err := buildTable(rep, &base, time.Now(), DefaultOptions())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no samples for")

	rep = syntheticReport(t)
	for i := range rep.Stats {
		if rep.Stats[i].Name == "lru_evict" { // noise can make a difference negative
			rep.Stats[i] = Stat{Name: "lru_evict", Median: -3, P10: -5, P90: 2, Rounds: 7}
		}
	}
	tab, err := buildTable(rep, &base, time.Now(), DefaultOptions())
	require.NoError(t, err)
	e := tab.Ops[cost.OpLRUEvict]
	assert.Equal(t, [3]float64{0, 0, 2}, [3]float64{e.NS, e.Low, e.High}, "clamped at 0, spread kept")
}
