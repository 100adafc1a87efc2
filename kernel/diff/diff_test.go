package diff

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/skbsim/skbsim/internal/errno"
	"github.com/skbsim/skbsim/kernel/observe"
	"github.com/skbsim/skbsim/localstorage"
)

func TestCompareResults(t *testing.T) {
	ok := Result{Omem: map[Target]int{TgtTCP0: 256}}
	for _, c := range []struct {
		name        string
		model, kern Result
		want        string // substring of the difference, "" for agreement
	}{
		{"equal", ok, Result{Omem: map[Target]int{TgtTCP0: 256}}, ""},
		{"both skipped", Result{Skip: true}, Result{Skip: true}, ""},
		{"skip vs run", Result{Skip: true}, ok, "model skipped, kernel ok"},
		{"errno", Result{Errno: errno.ENOENT}, Result{Errno: errno.EEXIST}, "model ENOENT, kernel EEXIST"},
		{"value", Result{Value: []byte{1, 2}}, Result{Value: []byte{1, 3}}, "model ok value=0102, kernel ok value=0103"},
		{"omem", ok, Result{Omem: map[Target]int{TgtTCP0: 264}}, "sk_omem_alloc(tcp0): model 256, kernel 264"},
		{"omem on one side", ok, Result{}, "sk_omem_alloc(tcp0): model 256, kernel n/a"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := compareResults(c.model, c.kern)
			if c.want == "" {
				require.Empty(t, got)
				return
			}
			require.Contains(t, got, c.want)
		})
	}
}

// modelPair compares the model with profile p1 against the model with p2.
func modelPair(p1, p2 localstorage.Profile) *pair {
	return &pair{model: newModelBackend(p1), kern: newModelBackend(p2)}
}

// TestSequencesModelAgainstItself runs the sequence property with the model
// on both sides: the harness must not invent disagreements.
func TestSequencesModelAgainstItself(t *testing.T) {
	setRapid(t)
	p := modelPair(localstorage.ProfileV6_18, localstorage.ProfileV6_18)
	n := 0
	rapid.Check(t, seqProperty(p, nil, &n))
	require.Positive(t, n)
}

// TestSequencesFindAndShrinkDisagreement puts the 2026 layout (a 184-byte
// struct bpf_local_storage) on the "kernel" side: rapid must find the
// charge difference and shrink it to a create and one update.
func TestSequencesFindAndShrinkDisagreement(t *testing.T) {
	setRapid(t)
	p := modelPair(localstorage.ProfileV6_18, localstorage.ProfileBPFNext2026)
	var last *Mismatch
	tb := &recordTB{name: t.Name()}
	rapid.Check(tb, seqProperty(p, func(mm *Mismatch) { last = mm }, nil))
	require.True(t, tb.failed, "rapid found no disagreement")
	require.NotNil(t, last)
	t.Logf("minimal: %v", last)
	require.Contains(t, last.Detail, "sk_omem_alloc(")
	require.Equal(t, OpUpdate, last.Seq.Steps[last.Index].Op)
	require.Contains(t, last.Error(), "> ")
	// Minimal: the failing update plus at most the maps and connections
	// of the prelude.
	require.LessOrEqual(t, last.Index, maxMaps+3)
}

func TestRunSequenceReportsFirstMismatch(t *testing.T) {
	seq := Sequence{OptmemMax: 1024, Steps: steps(create(0, ValidConf(SkMap, 400, false)),
		lookup(0, TgtTCP0), update(0, TgtTCP0, UpdateAny, 1), update(0, TgtTCP0, UpdateAny, 2))}
	mm, err := runSequence(newModelBackend(localstorage.ProfileV6_18), newModelBackend(localstorage.ProfileBPFNext2026), seq)
	require.NoError(t, err)
	require.NotNil(t, mm)
	require.Equal(t, 2, mm.Index)
	want := "step 2: update m0 tcp0 flags=ANY fill=0x01: sk_omem_alloc(tcp0): model 648, kernel 656\n" +
		"sequence (optmem_max=1024):\n" +
		"    0 create-map m0 (sk v=400)\n" +
		"    1 lookup m0 tcp0 flags=ANY\n" +
		" >  2 update m0 tcp0 flags=ANY fill=0x01\n"
	require.Equal(t, want, mm.Error())
	mm, err = runSequence(newModelBackend(localstorage.ProfileV6_18), newModelBackend(localstorage.ProfileV6_18), seq)
	require.NoError(t, err)
	require.Nil(t, mm)
}

func TestCaseTables(t *testing.T) {
	for name, cs := range map[string][]Case{SuiteCreate: createCases(), SuiteKeys: keyCases(),
		SuiteCharge: chargeCases(), SuiteClone: cloneCases()} {
		names := caseNames(cs)
		for i := 1; i < len(names); i++ {
			require.NotEqual(t, names[i-1], names[i], "%s: duplicate case name", name)
		}
		// The fixed cases also agree model against model (no harness
		// artefact), and the 2026 profile disagrees with 6.18 on charging.
		for _, o := range runCases(newModelBackend(localstorage.ProfileV6_18), newModelBackend(localstorage.ProfileV6_18), cs) {
			require.NoError(t, o.Err, "%s %s", name, o.Name)
			require.Empty(t, o.Detail, "%s %s", name, o.Name)
		}
	}
	diverge := 0
	for _, o := range runCases(newModelBackend(localstorage.ProfileV6_18), newModelBackend(localstorage.ProfileBPFNext2026), chargeCases()) {
		if o.Detail != "" {
			diverge++
		}
	}
	require.Positive(t, diverge)
}

func TestClassifyKnownDivergencesAreStrict(t *testing.T) {
	known := map[string]string{
		"s/listed-disagrees": "model simplification",
		"s/listed-agrees":    "fixed meanwhile",
		"s/listed-missing":   "renamed case",
		"other/x":            "another suite",
	}
	r := classify("s", []caseOutcome{
		{Name: "agrees"},
		{Name: "listed-disagrees", Detail: "model 1, kernel 2"},
		{Name: "listed-agrees"},
		{Name: "new", Detail: "model ok, kernel ENOMEM"},
		{Name: "broken", Err: fmt.Errorf("socket: EMFILE")},
	}, known)
	require.Equal(t, 4, r.Cases)
	require.Equal(t, 2, r.Agreed)
	require.Equal(t, []Divergence{{Case: "listed-disagrees", Detail: "model 1, kernel 2", Reason: "model simplification"}}, r.Known)
	require.Equal(t, []Divergence{{Case: "new", Detail: "model ok, kernel ENOMEM"}}, r.New)
	require.Len(t, r.Stale, 2)
	require.Equal(t, "listed-agrees", r.Stale[0].Case)
	require.Contains(t, r.Stale[0].Reason, "remove it from knownDivergences")
	require.Equal(t, "listed-missing", r.Stale[1].Case)
	require.Equal(t, []string{"broken: socket: EMFILE"}, r.Errors)
	require.False(t, r.OK())
	require.True(t, classify("s", []caseOutcome{{Name: "listed-disagrees", Detail: "d"}},
		map[string]string{"s/listed-disagrees": "why"}).OK())
}

func TestKnownDivergencesWellFormed(t *testing.T) {
	for k, reason := range knownDivergences {
		suite, name, ok := strings.Cut(k, "/")
		require.True(t, ok && name != "", "key %q: want suite/case", k)
		require.Contains(t, Suites, suite, "key %q", k)
		require.NotContains(t, []string{SuiteSeq}, suite, "key %q: generated sequences have no stable names", k)
		require.NotEmpty(t, reason, "key %q", k)
	}
}

// matrix builds a transition's matrix from hook/field/value triples.
func matrix(tr string, cells ...any) observe.Matrix {
	var m observe.Matrix
	for i := 0; i < len(cells); i += 3 {
		m = append(m, observe.Observation{Transition: tr, Hook: cells[i].(string), Field: cells[i+1].(observe.Field),
			Value: uint64(cells[i+2].(int))})
	}
	return m
}

func TestCompareTransition(t *testing.T) {
	tr, err := observe.Lookup("veth-cross-netns")
	require.NoError(t, err)
	kern := matrix(tr.Name, "vA/tc-egress", observe.FieldCount, 1, "vB/tc-ingress", observe.FieldMark, 0,
		"vB/tc-ingress", observe.FieldHash, 0x5eed002a)
	same := compareTransition(tr, kern, kern)
	require.Len(t, same, 3)
	for _, o := range same {
		require.Empty(t, o.Detail, o.Name)
	}
	// The model keeps the mark, misses a cell, and reports a socket hash
	// that normalisation turns into "other" on both sides alike.
	model := matrix(tr.Name, "vB/tc-ingress", observe.FieldMark, 42, "vB/tc-ingress", observe.FieldHash, 0x5eed002a,
		"vB/tc-ingress", observe.FieldTstamp, 777)
	got := map[string]string{}
	for _, o := range compareTransition(tr, kern, model) {
		got[o.Name] = o.Detail
	}
	require.Equal(t, map[string]string{
		"veth-cross-netns vA/tc-egress count":   "kernel vs model: veth-cross-netns vA/tc-egress count: want 1, got nothing",
		"veth-cross-netns vB/tc-ingress hash":   "",
		"veth-cross-netns vB/tc-ingress mark":   "kernel vs model: veth-cross-netns vB/tc-ingress mark: want 0x0, got 0x2a",
		"veth-cross-netns vB/tc-ingress tstamp": "kernel vs model: veth-cross-netns vB/tc-ingress tstamp: want nothing, got other",
	}, got)
}

func TestRunTransitionsUsesBothSides(t *testing.T) {
	ts := observe.Transitions[:2]
	calls := map[string]int{}
	fake := func(side string, mark int) TransitionModel {
		return func(tr observe.Transition) (observe.Matrix, error) {
			calls[side+" "+tr.Name]++
			if side == "model" && tr.Name == ts[1].Name {
				return nil, fmt.Errorf("not modelled")
			}
			return matrix(tr.Name, tr.Hooks[0].String(), observe.FieldMark, mark), nil
		}
	}
	out := runTransitions(ts, fake("kernel", 0), fake("model", 42))
	require.Len(t, out, 2)
	require.Contains(t, out[0].Detail, "want 0x0, got 0x2a")
	require.ErrorContains(t, out[1].Err, "model: not modelled")
	require.Equal(t, map[string]int{"kernel " + ts[0].Name: 1, "model " + ts[0].Name: 1,
		"kernel " + ts[1].Name: 1, "model " + ts[1].Name: 1}, calls)
}

// TestRunTransitionsSkipsUnsupported: a transition the kernel cannot build
// (a device kind it lacks) is skipped with the reason, not counted as a
// case, an agreement or a harness error, and the model is not run for it;
// any other kernel failure is a harness error.
func TestRunTransitionsSkipsUnsupported(t *testing.T) {
	ts := observe.Transitions[:3]
	modelRuns := 0
	kern := func(tr observe.Transition) (observe.Matrix, error) {
		switch tr.Name {
		case ts[1].Name:
			return nil, fmt.Errorf("no gre devices: %w", errors.ErrUnsupported)
		case ts[2].Name:
			return nil, fmt.Errorf("ip link add failed")
		}
		return matrix(tr.Name, tr.Hooks[0].String(), observe.FieldMark, 0), nil
	}
	model := func(tr observe.Transition) (observe.Matrix, error) {
		modelRuns++
		return matrix(tr.Name, tr.Hooks[0].String(), observe.FieldMark, 0), nil
	}
	r := classify(SuiteTransitions, runTransitions(ts, kern, model), nil)
	require.Equal(t, 1, modelRuns)
	require.Equal(t, 1, r.Cases)
	require.Equal(t, 1, r.Agreed)
	require.Equal(t, []Divergence{{Case: ts[1].Name, Reason: "no gre devices: unsupported operation"}}, r.Skipped)
	require.Len(t, r.Errors, 1)
	require.Contains(t, r.Errors[0], "kernel: ip link add failed")
	require.False(t, r.OK())
	var b strings.Builder
	require.NoError(t, Report{Suites: []SuiteResult{r}}.Format(&b))
	require.Contains(t, b.String(), "skipped (the running kernel cannot run them):\n  "+ts[1].Name+"\n    reason: no gre devices")
}

func TestProgModelCountsLikeSkstorage(t *testing.T) {
	m := &progModel{}
	require.NoError(t, m.begin())
	defer m.end()
	for _, s := range []ProgStep{{From: 0, To: 1, Len: 10}, {SetMode: true, Mode: ProgLookup}, {From: 2, To: 1, Len: 0},
		{SetMode: true, Mode: ProgDelete}, {From: 0, To: 0}} {
		require.NoError(t, m.step(s))
	}
	st, err := m.state()
	require.NoError(t, err)
	require.Nil(t, st.Values[0], "deleted by the egress program")
	require.Nil(t, st.Values[2], "lookup mode does not create")
	require.Equal(t, "{eg 0/0B in 2/66B ops 0x0}", skvalString(st.Values[1]))
	require.Equal(t, 176+72+progValueSize, st.Omem[1])
	require.Equal(t, ProgStat{Runs: 3, Got: 1, Null: 1, DelOK: 1}, st.Stats[0])
	require.Equal(t, ProgStat{Runs: 3, Got: 2, DelErr: 1, LastErr: -int64(errno.ENOENT)}, st.Stats[1])
}
