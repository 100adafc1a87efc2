package compare

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/capture"
	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/internal/testutil"
	"github.com/skbsim/skbsim/sim"
)

func lbCapture(tb testing.TB, packets int) string {
	tb.Helper()
	var buf bytes.Buffer
	_, err := capture.Generate(&buf, capture.GenSpec{Preset: "lb", Seed: testutil.Seed(tb), Packets: packets})
	require.NoError(tb, err)
	path := filepath.Join(tb.TempDir(), "lb.pcap")
	require.NoError(tb, os.WriteFile(path, buf.Bytes(), 0o644))
	return path
}

// TestPriceMatchesEstimate: pricing a whole report's tally with the unit
// prices gives what cost.Table.Estimate gives for the same counts, for
// designs with deferred frees, per-class and class-less allocations.
func TestPriceMatchesEstimate(t *testing.T) {
	pcap := lbCapture(t, 300)
	s, err := sim.LoadScenario("../examples/edge-lb.yaml")
	require.NoError(t, err)
	tab := cost.Default()
	up := unitPrices(&tab)
	for _, d := range []string{"rfc", "rfc-prealloc", carrier.NameSkbHash, carrier.NameSkbHashLRU, carrier.NameExtBuffer} {
		ds := s.Copy()
		ds.Design = d
		rep, err := sim.Replay(ds, []string{pcap}, sim.Options{})
		require.NoError(t, err)
		var counts cost.Counts
		for _, r := range rep.Ops {
			op, ok := cost.ParseOp(r.Name)
			require.True(t, ok, r.Name)
			counts.Add(op, r.Count)
		}
		var allocs, frees [cost.NumSizeClasses]uint64
		for _, r := range rep.Allocations.ByClass {
			i, ok := cost.ParseSizeClass(r.Name)
			require.True(t, ok, r.Name)
			allocs[i], frees[i] = r.Allocs, r.Frees+r.DeferredFrees
		}
		want := tab.Estimate(counts, &allocs, &frees)
		tl := tallyOf(rep)
		got := up.price(&tl)
		assert.InEpsilon(t, want.NS, got.NS, 1e-9, d)
		assert.InEpsilon(t, want.Low, got.Low, 1e-9, d)
		assert.InEpsilon(t, want.High, got.High, 1e-9, d)
		zero := tl.sub(tl)
		assert.Equal(t, cost.Range{}, up.price(&zero))
	}
}

// TestPriceNegative: a quantity the design does less of than the baseline
// keeps Low <= NS <= High.
func TestPriceNegative(t *testing.T) {
	tab := cost.Default()
	up := unitPrices(&tab)
	var tl tally
	tl.ops[cost.OpLock] = -3
	tl.allocClass[5] = 2
	tl.deferrals = -1
	r := up.price(&tl)
	assert.LessOrEqual(t, r.Low, r.NS)
	assert.LessOrEqual(t, r.NS, r.High)
	l := tab.Ops[cost.OpLock]
	assert.InDelta(t, -3*l.NS+2*tab.Alloc[5].NS-tab.Ops[cost.OpKfreeRCU].NS, r.NS, 1e-9)
}

// TestBaselineDoesNoDesignWork: with the map actions removed, the designs
// that hook nothing at skb free do exactly the same work, so the baseline
// does not depend on which of them runs it; the skb-hash designs still run
// their reaper, which is why the baseline does not use them.
func TestBaselineDoesNoDesignWork(t *testing.T) {
	pcap := lbCapture(t, 300)
	s, err := sim.LoadScenario("../examples/edge-lb.yaml")
	require.NoError(t, err)
	bs := baselineScenario(s)
	for _, p := range bs.Stack.Programs {
		for _, a := range p.Actions {
			require.NotContains(t, []string{"write", "read", "delete"}, a.Kind.String())
		}
	}
	run := func(design string) tally {
		ds := bs.Copy()
		ds.Design = design
		rep, err := sim.Replay(ds, []string{pcap}, sim.Options{})
		require.NoError(t, err)
		dir := t.TempDir()
		empty, err := writeEmptyCapture(dir)
		require.NoError(t, err)
		setup, err := sim.Replay(ds, []string{empty}, sim.Options{})
		require.NoError(t, err)
		require.Zero(t, setup.PacketsRead)
		return tallyOf(rep).sub(tallyOf(setup))
	}
	base := run(BaselineDesign)
	for _, d := range []string{"rfc", "rfc-slim", carrier.NameExtBuffer} {
		assert.Equal(t, base, run(d), d)
	}
	hash := run(carrier.NameSkbHash)
	assert.Greater(t, hash.ops[cost.OpTracepointRun], base.ops[cost.OpTracepointRun], "the reaper runs on every skb free")
}
