package diff

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/localstorage"
	"pgregory.net/rapid"
)

// TestRapidRunReportsMinimalSequence drives the Run path of a rapid suite
// (recordTB, counter) with the 2026 model layout standing in for the
// kernel: the suite result must carry one new divergence with the shrunk
// sequence and rapid's reproduction line, and count the sequences that
// agreed before it.
func TestRapidRunReportsMinimalSequence(t *testing.T) {
	r := &runner{opts: (&Options{Seed: 7, Checks: 50}).withDefaults()}
	p := modelPair(localstorage.ProfileV6_18, localstorage.ProfileBPFNext2026)
	c := &counter{}
	res := c.result(SuiteSeq, r.rapidRun(SuiteSeq, seqProperty(p, func(mm *Mismatch) { c.found(mm.Error()) }, &c.seqs)), r.repro(SuiteSeq))
	require.Len(t, res.New, 1)
	require.Empty(t, res.Errors)
	require.Equal(t, res.Cases-1, res.Agreed)
	d := res.New[0].Detail
	t.Logf("%s", d)
	require.Contains(t, d, "sk_omem_alloc(")
	require.Contains(t, d, "reproduce: simrun kernel diff -suites storage-seq -seed 7 -checks 50 (rapid seed of the failing sequence: ")

	// The same suite with the model on both sides agrees on every check.
	r.opts.Checks = 20
	c = &counter{}
	p = modelPair(localstorage.ProfileV6_18, localstorage.ProfileV6_18)
	res = c.result(SuiteSeq, r.rapidRun(SuiteSeq, seqProperty(p, func(mm *Mismatch) { c.found(mm.Error()) }, &c.seqs)), r.repro(SuiteSeq))
	require.True(t, res.OK(), "%+v", res)
	require.Equal(t, 20, res.Cases)
	require.Equal(t, 20, res.Agreed)
}

// TestRapidRunHarnessFailureIsAnError: a property that fails without a
// disagreement (a harness error) is reported as an error, not as a
// divergence.
func TestRapidRunHarnessFailureIsAnError(t *testing.T) {
	r := &runner{opts: (&Options{Seed: 1, Checks: 5}).withDefaults()}
	c := &counter{}
	res := c.result(SuiteSeq, r.rapidRun(SuiteSeq, func(rt *rapid.T) { c.seqs++; rt.Fatalf("harness: socket: EMFILE") }), "")
	require.Empty(t, res.New)
	require.Len(t, res.Errors, 1)
	require.Contains(t, res.Errors[0], "EMFILE")
}
