package cost

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/internal/errno"
)

// flatTable prices every op at base+op ns with spread ±1, every class
// allocation at 100+class and every class free at 200+class.
func flatTable() Table {
	var t Table
	t.Name = "flat"
	for op := Op(0); op < NumOps; op++ {
		v := 10 + float64(op)
		t.Ops[op] = Entry{NS: v, Low: v - 1, High: v + 1, Source: SourceEstimate, Note: "test"}
	}
	for i := 0; i < NumSizeClasses; i++ {
		a, f := 100+float64(i), 200+float64(i)
		t.Alloc[i] = Entry{NS: a, Low: a - 1, High: a + 1, Source: SourceEstimate, Note: "test"}
		t.Free[i] = Entry{NS: f, Low: f - 1, High: f + 1, Source: SourceEstimate, Note: "test"}
	}
	return t
}

func TestEstimate(t *testing.T) {
	tab := flatTable()
	var byClassA, byClassF [NumSizeClasses]uint64
	byClassA[4], byClassA[6] = 2, 1 // kmalloc-96 x2, kmalloc-192
	byClassF[4] = 1
	for _, tc := range []struct {
		name       string
		counts     map[Op]uint64
		allocs     *[NumSizeClasses]uint64
		frees      *[NumSizeClasses]uint64
		ns, lo, hi float64
	}{
		{name: "empty", ns: 0},
		{name: "plain ops", counts: map[Op]uint64{OpHashLookup: 3, OpLock: 2},
			ns: 3*(10+float64(OpHashLookup)) + 2*(10+float64(OpLock)), lo: -5, hi: 5},
		{name: "allocs without classes at generic price", counts: map[Op]uint64{OpKmalloc: 2},
			ns: 2 * 10, lo: -2, hi: 2},
		{name: "allocs by class plus uncovered remainder", counts: map[Op]uint64{OpKmalloc: 4},
			allocs: &byClassA, ns: 2*104 + 106 + 1*10, lo: -4, hi: 4},
		{name: "class counts above the total are authoritative", counts: map[Op]uint64{OpKmalloc: 1},
			allocs: &byClassA, ns: 2*104 + 106, lo: -3, hi: 3},
		{name: "deferred frees add the deferral", counts: map[Op]uint64{OpKfree: 1, OpKfreeRCU: 2},
			frees: &byClassF, ns: 204 + 2*(10+float64(OpKfree)) + 2*(10+float64(OpKfreeRCU)), lo: -5, hi: 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c Counts
			for op, n := range tc.counts {
				c.Add(op, n)
			}
			r := tab.Estimate(c, tc.allocs, tc.frees)
			assert.InDelta(t, tc.ns, r.NS, 1e-9)
			assert.InDelta(t, tc.ns+tc.lo, r.Low, 1e-9)
			assert.InDelta(t, tc.ns+tc.hi, r.High, 1e-9)
		})
	}
}

func TestEstimateDoesNotAllocate(t *testing.T) {
	tab := Default()
	var c Counts
	c.Add(OpKmalloc, 3)
	c.Add(OpLRUInsert, 1)
	var a [NumSizeClasses]uint64
	a[6] = 3
	var sink Range
	n := testing.AllocsPerRun(100, func() { sink = tab.Estimate(c, &a, &a) })
	assert.Zero(t, n)
	assert.Positive(t, sink.NS)
}

func BenchmarkEstimate(b *testing.B) {
	tab := Default()
	var c Counts
	for op := Op(0); op < NumOps; op++ {
		c.Add(op, uint64(op)+1)
	}
	var a [NumSizeClasses]uint64
	a[4], a[6] = 2, 1
	b.ReportAllocs()
	var sink Range
	for b.Loop() {
		sink = tab.Estimate(c, &a, &a)
	}
	_ = sink
}

func TestDefaultTableComplete(t *testing.T) {
	tab := Default()
	require.NoError(t, tab.Validate())
	for op := Op(0); op < NumOps; op++ {
		assert.Positive(t, tab.Ops[op].NS, "op %s", op)
	}
	for i := 0; i < NumSizeClasses; i++ {
		assert.Positive(t, tab.Alloc[i].NS, "alloc %s", SizeClassName(i))
		assert.Positive(t, tab.Free[i].NS, "free %s", SizeClassName(i))
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	tab := flatTable()
	tab.Ops[OpLock] = Entry{NS: 11.25, Low: 10.5, High: 13, Source: SourceMeasured, Spread: "p10/p90 of 5 rounds",
		Date: "2026-11-25", Kernel: "6.18.44", Note: "spin lock pair"}
	tab.Ops[OpHashLookup] = Entry{NS: 53.8, Low: 40, High: 124.2, Source: SourceBenchmark, Ref: "bench: \"quoted\": 53.8 ns"}
	tab.Ops[OpMemcpyByte] = Entry{NS: 0.0123456789, Low: 0.01, High: 0.02, Source: SourceDerived, Note: "slope"}
	path := filepath.Join(t.TempDir(), "t.yaml")
	require.NoError(t, Save(path, &tab))
	got, err := Load(path)
	require.NoError(t, err)
	assert.Equal(t, tab, got)

	def := Default()
	require.NoError(t, Save(path, &def))
	got, err = Load(path)
	require.NoError(t, err)
	assert.Equal(t, def, got)
}

func TestSaveRefusesInvalid(t *testing.T) {
	tab := flatTable()
	tab.Ops[OpLock].NS = -1
	err := Save(filepath.Join(t.TempDir(), "t.yaml"), &tab)
	require.ErrorIs(t, err, ErrInvalidTable)
	assert.Contains(t, err.Error(), "entry lock: ns is negative")
}

// validText is a minimal complete table with a placeholder entry at the top
// that the validation cases replace.
func validText(first string) string {
	var b strings.Builder
	b.WriteString("name: t\nentries:\n")
	b.WriteString(first)
	for op := Op(0); op < NumOps; op++ {
		if first != "" && op == OpLock {
			continue
		}
		b.WriteString("  - {op: " + op.String() + ", ns: 1, low: 0.5, high: 2, source: estimate, note: x}\n")
	}
	for _, o := range []string{"kmalloc", "kfree"} {
		for i := 0; i < NumSizeClasses; i++ {
			b.WriteString("  - {op: " + o + ", class: " + SizeClassName(i) + ", ns: 1, low: 1, high: 1, source: estimate, note: x}\n")
		}
	}
	return b.String()
}

func TestParseStrict(t *testing.T) {
	_, err := Parse("ok.yaml", []byte(validText("")))
	require.NoError(t, err)
	for _, tc := range []struct {
		name, first, want string
	}{
		{"unknown op", "  - {op: lokc, ns: 1, low: 1, high: 1, source: estimate, note: x}\n", `bad.yaml:3: unknown op "lokc"`},
		{"negative ns", "  - {op: lock, ns: -1, low: 0, high: 1, source: estimate, note: x}\n", "bad.yaml:3: entry lock: ns is negative"},
		{"negative low", "  - {op: lock, ns: 1, low: -1, high: 1, source: estimate, note: x}\n", "bad.yaml:3: entry lock: low is negative"},
		{"low above ns", "  - {op: lock, ns: 1, low: 2, high: 3, source: estimate, note: x}\n", "entry lock: spread does not contain ns"},
		{"nan", "  - {op: lock, ns: .nan, low: 0, high: 1, source: estimate, note: x}\n", `bad.yaml:3: field "ns": ".nan" is not a number`},
		{"string number", "  - {op: lock, ns: fast, low: 0, high: 1, source: estimate, note: x}\n", `field "ns": "fast" is not a number`},
		{"unknown field", "  - {op: lock, ns: 1, low: 1, high: 1, source: estimate, note: x, colour: red}\n", `bad.yaml:3: unknown field "colour"`},
		{"unknown source", "  - {op: lock, ns: 1, low: 1, high: 1, source: guess, note: x}\n", `unknown source "guess"`},
		{"measured without date", "  - {op: lock, ns: 1, low: 1, high: 1, source: measured, kernel: k, spread: s}\n", "measured entry needs date, kernel and spread"},
		{"benchmark without ref", "  - {op: lock, ns: 1, low: 1, high: 1, source: benchmark}\n", "benchmark entry needs ref"},
		{"missing high", "  - {op: lock, ns: 1, low: 1, source: estimate, note: x}\n", "bad.yaml:3: entry lock has no high"},
		{"class on a non-alloc op", "  - {op: lock, class: kmalloc-96, ns: 1, low: 1, high: 1, source: estimate, note: x}\n", "class is only allowed on kmalloc and kfree"},
		{"unknown class", "  - {op: kmalloc, class: kmalloc-100, ns: 1, low: 1, high: 1, source: estimate, note: x}\n", `unknown size class "kmalloc-100"`},
		{"duplicate", "  - {op: lock, ns: 1, low: 1, high: 1, source: estimate, note: x}\n  - {op: lock, ns: 1, low: 1, high: 1, source: estimate, note: x}\n", "bad.yaml:4: duplicate entry lock (first at line 3)"},
		{"missing", "", "missing entry lock"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := validText(tc.first)
			if tc.first == "" { // drop the lock entry
				text = strings.Replace(text, "  - {op: lock, ns: 1, low: 0.5, high: 2, source: estimate, note: x}\n", "", 1)
			}
			_, err := Parse("bad.yaml", []byte(text))
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalidTable)
			assert.ErrorIs(t, err, errno.EINVAL)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "\n", "one-line error")
		})
	}
}

func TestParseTopLevel(t *testing.T) {
	for _, tc := range []struct{ name, text, want string }{
		{"not yaml", "name: [", "bad.yaml:"},
		{"list", "- 1\n", "bad.yaml:1: top level must be a mapping"},
		{"unknown top field", "name: x\nversion: 2\n", `bad.yaml:2: unknown field "version"`},
		{"no entries", "name: x\n", "bad.yaml:1: no entries"},
		{"entry not mapping", "name: x\nentries:\n  - 3\n", "bad.yaml:3: entry must be a mapping"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("bad.yaml", []byte(tc.text))
			require.ErrorIs(t, err, ErrInvalidTable)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "\n")
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "none.yaml"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestCheckEntryInfinite(t *testing.T) {
	e := Entry{NS: math.Inf(1), Low: 0, High: math.Inf(1), Source: SourceEstimate, Note: "x"}
	assert.Equal(t, "ns is not finite", checkEntry(&e))
}

// TestLoadErrorNamesPath checks that a bad table's error names the file as
// given, not only its base name: two tables called t.yaml in different
// directories must be told apart.
func TestLoadErrorNamesPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "t.yaml")
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte("name: x\nentries:\n  - 3\n"), 0o644))
	_, err := Load(path)
	require.ErrorIs(t, err, ErrInvalidTable)
	assert.Contains(t, err.Error(), path+":3: entry must be a mapping")
}
