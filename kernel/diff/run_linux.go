package diff

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/skbsim/skbsim/kernel"
	"github.com/skbsim/skbsim/kernel/observe"
	"github.com/skbsim/skbsim/localstorage"
	"github.com/skbsim/skbsim/skb"
)

// Run runs the selected differential suites against the running kernel and
// returns the agreement table. It needs root (CAP_BPF, CAP_NET_ADMIN,
// CAP_SYS_ADMIN): it creates network namespaces, a cgroup it moves the
// process into for the program-side suite, BPF maps and programs, and
// removes all of them before it returns. The error is for a run that could
// not be set up at all; disagreements and per-case harness failures are in
// the Report. Run is not safe for concurrent use: the rapid suites set
// rapid's flags (seed, checks, steps, no fail files) for their duration;
// outside go test it registers the testing flags (testing.Init) and marks
// flag.CommandLine parsed, which rapid needs.
func Run(ctx context.Context, opts Options) (rep Report, err error) {
	o := opts.withDefaults()
	for _, s := range o.Suites {
		if !slices.Contains(Suites, s) {
			return Report{}, fmt.Errorf("kernel diff: unknown suite %q (have %s)", s, strings.Join(Suites, ", "))
		}
	}
	start := time.Now()
	rep = Report{Kernel: kernelRelease(), Seed: o.Seed}
	r := &runner{opts: o}
	defer func() {
		err = errors.Join(err, r.close())
		rep.Duration = time.Since(start)
	}()
	for _, name := range Suites {
		if !slices.Contains(o.Suites, name) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		if o.Progress != nil {
			o.Progress(name)
		}
		t0 := time.Now()
		res := r.suite(name)
		res.Duration = time.Since(t0)
		rep.Suites = append(rep.Suites, res)
	}
	return rep, nil
}

func kernelRelease() string { return kernel.Release() }

// runner holds the kernel worlds the suites share (created on first use).
type runner struct {
	opts  Options
	world *kernelWorld
}

func (r *runner) close() error {
	if r.world == nil {
		return nil
	}
	err := r.world.Close()
	r.world = nil
	return err
}

// storage returns the model and kernel backends of the storage suites,
// creating the kernel world on first use.
func (r *runner) storage() (*pair, error) {
	if r.world == nil {
		w, err := newKernelWorld("diff")
		if err != nil {
			return nil, err
		}
		r.world = w
	}
	return &pair{model: newModelBackend(localstorage.ProfileV6_18), kern: &kernelBackend{w: r.world}}, nil
}

func (r *runner) suite(name string) SuiteResult {
	switch name {
	case SuiteCreate, SuiteKeys, SuiteCharge, SuiteClone:
		cs := map[string]func() []Case{SuiteCreate: createCases, SuiteKeys: keyCases, SuiteCharge: chargeCases,
			SuiteClone: cloneCases}[name]()
		p, err := r.storage()
		if err != nil {
			return SuiteResult{Name: name, Errors: []string{err.Error()}}
		}
		out := runCases(p.model, p.kern, cs)
		if name == SuiteClone {
			out = append(out, cloneFailCases()...)
		}
		res := classify(name, out, knownDivergences)
		for _, c := range cs {
			res.Steps += len(c.Seq.Steps)
		}
		return res
	case SuiteSeq:
		return r.seqSuite()
	case SuiteProg:
		return r.progSuite()
	case SuiteTaskProg:
		return r.taskProgSuite()
	case SuiteTransitions:
		return r.transitionSuite()
	}
	return SuiteResult{Name: name, NotRun: "unknown suite"}
}

// rapidRun runs prop under rapid with the run's seed, checks and steps,
// without fail files, and returns rapid's failure text ("" on success).
func (r *runner) rapidRun(name string, prop func(*rapid.T)) (failure string) {
	// rapid's Check reads testing.Short(), which needs the testing flags
	// registered and the command line parsed. Under go test both are done;
	// elsewhere (simrun) register them and mark flag.CommandLine parsed
	// with no arguments: a caller that uses flag.CommandLine parses it
	// before calling Run.
	testing.Init()
	if !flag.Parsed() {
		_ = flag.CommandLine.Parse(nil)
	}
	restore := setRapidFlags(map[string]string{
		"rapid.seed": strconv.FormatUint(uint64(r.opts.Seed), 10), "rapid.checks": strconv.Itoa(r.opts.Checks),
		"rapid.steps": strconv.Itoa(r.opts.Steps), "rapid.nofailfile": "true",
	})
	defer restore()
	tb := &recordTB{name: name}
	rapid.Check(tb, prop)
	if !tb.failed {
		return ""
	}
	return strings.Join(tb.errs, "\n")
}

// setRapidFlags sets rapid's command-line flags and returns a function
// that restores their previous values.
func setRapidFlags(vals map[string]string) (restore func()) {
	old := map[string]string{}
	for k, v := range vals {
		f := flag.Lookup(k)
		if f == nil {
			continue
		}
		old[k] = f.Value.String()
		_ = f.Value.Set(v)
	}
	return func() {
		for k, v := range old {
			_ = flag.Lookup(k).Value.Set(v)
		}
	}
}

// counter counts the sequences a rapid suite ran and remembers the last
// (after shrinking: minimal) disagreement and how many sequences had run
// when the first one was found.
type counter struct {
	seqs, firstAt int
	last          string
	steps         int
}

func (c *counter) found(detail string) {
	if c.firstAt == 0 {
		c.firstAt = c.seqs
	}
	c.last = detail
}

// result turns a rapid suite's run into a suite result: one case per
// sequence generated before the first failure. repro says how to run the
// suite again.
func (c *counter) result(name, failure, repro string) SuiteResult {
	res := SuiteResult{Name: name, Cases: c.seqs, Agreed: c.seqs, Steps: c.steps}
	switch {
	case failure == "":
	case c.last == "":
		// rapid failed without a disagreement: the harness failed.
		res.Errors = append(res.Errors, failure)
	default:
		res.Cases, res.Agreed = c.firstAt, c.firstAt-1
		d := c.last + "reproduce: " + repro
		if m := rapidSeedRE.FindStringSubmatch(failure); m != nil {
			d += " (rapid seed of the failing sequence: " + m[1] + ")"
		}
		res.New = append(res.New, Divergence{Case: "minimal sequence", Detail: d})
	}
	return res
}

var rapidSeedRE = regexp.MustCompile(`-rapid\.seed=(\d+)`)

// repro is the command line that runs a rapid suite again with the same
// sequences.
func (r *runner) repro(suite string) string {
	return fmt.Sprintf("simrun kernel diff -suites %s -seed %d -checks %d", suite, r.opts.Seed, r.opts.Checks)
}

func (r *runner) seqSuite() SuiteResult {
	p, err := r.storage()
	if err != nil {
		return SuiteResult{Name: SuiteSeq, Errors: []string{err.Error()}}
	}
	c := &counter{}
	sp := &stepCounter{backend: p.kern, n: &c.steps}
	p.kern = sp
	prop := seqProperty(p, func(mm *Mismatch) { c.found(mm.Error()) }, &c.seqs)
	return c.result(SuiteSeq, r.rapidRun(SuiteSeq, prop), r.repro(SuiteSeq))
}

// stepCounter counts the steps a backend ran.
type stepCounter struct {
	backend
	n *int
}

func (s *stepCounter) step(st Step) (Result, error) {
	*s.n++
	return s.backend.step(st)
}

func (r *runner) progSuite() (res SuiteResult) {
	w, err := newProgWorld()
	if err != nil {
		return SuiteResult{Name: SuiteProg, Errors: []string{err.Error()}}
	}
	defer func() {
		if err := w.Close(); err != nil {
			res.Errors = append(res.Errors, err.Error())
		}
	}()
	// The UDP sequences compare the programs' global run counters, so
	// they run first: TCP (and MPTCP) connections of the TCP cases send
	// packets after their close that would run the programs.
	c := &counter{}
	p := &progPair{model: &progModel{}, kern: &progKernel{w: w}}
	prop := progProperty(p, func(mm *ProgMismatch) { c.found(mm.Error()) }, &c.seqs)
	res = c.result(SuiteProg, r.rapidRun(SuiteProg, prop), r.repro(SuiteProg))
	res.Steps = p.ran
	tcp := classify(SuiteProg, tcpProgCases(w), knownDivergences)
	res.Cases += tcp.Cases
	res.Agreed += tcp.Agreed
	res.Known = append(res.Known, tcp.Known...)
	res.New = append(tcp.New, res.New...)
	res.Stale = append(res.Stale, tcp.Stale...)
	res.Errors = append(tcp.Errors, res.Errors...)
	return res
}

func (r *runner) transitionSuite() SuiteResult {
	model := r.opts.Model
	if model == nil {
		rel := kernelRelease()
		p, err := skb.ProfileByName(rel)
		if err != nil {
			return SuiteResult{Name: SuiteTransitions, NotRun: fmt.Sprintf("no skb profile for kernel %q: %v", rel, err)}
		}
		model = NetstackTransitions(p)
	}
	ro := &kernel.RecordOptions{Wait: r.opts.TransitionWait}
	kern := func(t observe.Transition) (observe.Matrix, error) { return kernel.RunTransition(t, ro) }
	return classify(SuiteTransitions, runTransitions(observe.Transitions, kern, model), knownDivergences)
}
