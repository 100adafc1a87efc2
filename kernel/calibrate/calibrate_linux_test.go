package calibrate

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/internal/testutil"
)

func shortOpts(t *testing.T) Options {
	o := ShortOptions()
	o.Logf = t.Logf
	return o
}

// TestKernelCalibrateStructure runs the measurement path for real and
// checks the table's structure and sanity, not machine-specific numbers.
func TestKernelCalibrateStructure(t *testing.T) {
	testutil.KernelTests(t)
	o := shortOpts(t)
	base := cost.Default()
	rep, err := Measure(context.Background(), o)
	require.NoError(t, err)
	for _, s := range rep.Stats {
		t.Log(s)
	}
	assert.GreaterOrEqual(t, rep.Rounds, o.MinRounds)
	assert.LessOrEqual(t, rep.Rounds, o.MaxRounds)
	assert.NotEmpty(t, rep.Kernel)
	require.NoError(t, rep.Table.Validate())

	// every measurable entry: present, measured here, positive, finite
	// spread. A cache-hot storage cache hit costs about as much as the
	// trivial helper call it is measured against, so that difference may
	// come out 0 (it is clamped, never negative).
	for _, m := range measuredOps {
		e := rep.Table.Ops[m.op]
		assert.Equal(t, cost.SourceMeasured, e.Source, "%s", m.op)
		assert.Equal(t, rep.Kernel, e.Kernel, "%s", m.op)
		if m.op == cost.OpStorageCacheHit {
			assert.GreaterOrEqual(t, e.NS, 0.0)
			lookup, _ := rep.Stat("sk_lookup")
			assert.Positive(t, lookup.Median, "the lookup itself is measurable")
		} else {
			assert.Positive(t, e.NS, "%s", m.op)
		}
		assert.False(t, math.IsInf(e.High, 0) || math.IsNaN(e.High), "%s", m.op)
		assert.LessOrEqual(t, e.Low, e.NS, "%s", m.op)
		assert.GreaterOrEqual(t, e.High, e.NS, "%s", m.op)
	}
	for c := 0; c < cost.NumSizeClasses; c++ {
		e := rep.Table.Alloc[c]
		assert.Equal(t, cost.SourceDerived, e.Source, "alloc %s", cost.SizeClassName(c))
		assert.Positive(t, e.NS, "alloc %s", cost.SizeClassName(c))
		// frees cannot be reached from BPF: the base entry is kept
		assert.Equal(t, base.Free[c], rep.Table.Free[c])
	}
	assert.Equal(t, cost.SourceDerived, rep.Table.Ops[cost.OpKfreeRCU].Source)
	assert.Positive(t, rep.Table.Ops[cost.OpKfreeRCU].NS)
	for _, op := range []cost.Op{cost.OpKmalloc, cost.OpKfree, cost.OpExtAdd, cost.OpExtCOW} {
		assert.Equal(t, base.Ops[op], rep.Table.Ops[op], "%s keeps the base entry", op)
	}

	// loop overhead is real and subtracted: a second empty loop nets ~0
	loop, ok := rep.Stat("loop_iteration")
	require.True(t, ok)
	assert.Positive(t, loop.Median)
	empty, ok := rep.Stat("empty_net")
	require.True(t, ok)
	// Unsubtracted, it would net the whole loop overhead (about 11 ns); a
	// fifth of it, at least 1.5 ns, leaves room for a shared host's
	// noise (one CI run netted -1.7 ns with the loop at 11.2 ns).
	tol := max(1.5, loop.Median/5)
	assert.Less(t, math.Abs(empty.Median), tol, "empty loop body net of the loop overhead: %v", empty)

	// the zero-seed keys really chained in one bucket. Compared at the
	// lower deciles, as the clock pairs below: one CI run measured medians
	// of 51.4 and 36.7 ns (p10 49.0 and 29.7) where this machine measures
	// 68-80 and 36-41 (p10 65-76 and 33-36), so neither a median ratio nor
	// this machine's 1.9x holds everywhere.
	deep, _ := rep.Stat("walk_deep")
	shallow, _ := rep.Stat("walk_shallow")
	assert.Greater(t, deep.P10, 1.3*shallow.P10, "31 extra bucket steps must show: %v against %v", deep, shallow)

	// the in-program clock and the kernel's test-run timer agree on the
	// same operations. They are compared at their lower deciles: a shared
	// host inflates single rounds (with this test's 5 rounds one slow
	// round moved a median by 1.9x against its p10 once), and interference
	// only ever adds time, so the least disturbed rounds are where the two
	// clocks must agree.
	for _, pair := range [][2]string{
		{"check/hash_pair_phase", "check/hash_pair_testrun"},
		{"check/sk_pair_split", "check/sk_pair_testrun"},
	} {
		a, okA := rep.Stat(pair[0])
		b, okB := rep.Stat(pair[1])
		require.True(t, okA && okB, "%v", pair)
		assert.Positive(t, b.P10, pair[1])
		assert.InEpsilon(t, b.P10, a.P10, 0.5, "%v vs %v", a, b)
	}

	// every quantity behind the table is reported, storage ones included
	for _, name := range []string{"sk_first_create", "sk_first_delete", "sk_lookup", "task_create",
		"task_delete", "task_lookup", "task_first_create", "ktime_interval", "sk_create/kmalloc-large"} {
		s, ok := rep.Stat(name)
		if assert.True(t, ok, name) {
			assert.Positive(t, s.Median, name)
		}
	}

	// the table saves and loads back unchanged
	path := filepath.Join(t.TempDir(), "measured.yaml")
	require.NoError(t, WriteTable(path, rep.Table))
	got, err := cost.Load(path)
	require.NoError(t, err)
	assert.Equal(t, rep.Table, got)
}

// TestKernelCalibrateRunToFile covers the entry point a command uses.
func TestKernelCalibrateRunToFile(t *testing.T) {
	testutil.KernelTests(t)
	o := shortOpts(t)
	o.MinRounds, o.MaxRounds = 2, 2
	path := filepath.Join(t.TempDir(), "t.yaml")
	rep, err := RunToFile(context.Background(), path, o)
	require.NoError(t, err)
	assert.Equal(t, 2, rep.Rounds)
	tab, err := cost.Load(path)
	require.NoError(t, err)
	assert.Equal(t, rep.Table, tab)
}

// TestKernelCalibrateCanceled stops at once on a canceled context and
// still releases everything.
func TestKernelCalibrateCanceled(t *testing.T) {
	testutil.KernelTests(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Run(ctx, shortOpts(t))
	require.ErrorIs(t, err, context.Canceled)
}

// TestKernelCalibrateCleanup checks that Close releases every program and
// map the calibration loads.
func TestKernelCalibrateCleanup(t *testing.T) {
	testutil.KernelTests(t)
	h, err := load()
	require.NoError(t, err)
	var progs []ebpf.ProgramID
	for _, p := range []*ebpf.Program{h.objs.CalibTc, h.objs.CalibSk, h.objs.CalibTask, h.objs.EmptyTc, h.objs.TpCount, h.objs.TpBase,
		h.objs.LoopTc, h.objs.PairTc, h.objs.LoopCg, h.objs.PairCg} {
		info, err := p.Info()
		require.NoError(t, err)
		id, ok := info.ID()
		require.True(t, ok)
		progs = append(progs, id)
	}
	var maps []ebpf.MapID
	for _, m := range []*ebpf.Map{h.objs.Results, h.objs.Htab, h.objs.LruFull, h.objs.SkC9, h.objs.TaskM, h.objs.Walk} {
		info, err := m.Info()
		require.NoError(t, err)
		id, ok := info.ID()
		require.True(t, ok)
		maps = append(maps, id)
	}
	require.NoError(t, h.Close())
	for _, id := range progs {
		p, err := ebpf.NewProgramFromID(id)
		if err == nil {
			p.Close()
		}
		assert.True(t, errors.Is(err, os.ErrNotExist), "program %d still exists (%v)", id, err)
	}
	// maps are released once the programs holding them are freed (after an
	// RCU grace period)
	deadline := time.Now().Add(5 * time.Second)
	for _, id := range maps {
		for {
			m, err := ebpf.NewMapFromID(id)
			if err != nil {
				assert.True(t, errors.Is(err, os.ErrNotExist), "map %d: %v", id, err)
				break
			}
			m.Close()
			if time.Now().After(deadline) {
				t.Errorf("map %d still exists 5 s after Close", id)
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}
