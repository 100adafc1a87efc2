package diff

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Divergence is one case on which the model and the kernel disagreed.
type Divergence struct {
	// Case names the case (for skb transitions: "transition hook field").
	Case string
	// Detail is what each side answered (for sequences: the minimal
	// sequence with the failing step marked).
	Detail string
	// Reason is, for a known divergence, why it is expected; for a stale
	// entry of the known list, why the entry is wrong.
	Reason string
}

// SuiteResult is the agreement of one suite.
type SuiteResult struct {
	Name string
	// Cases run and how many of them agreed. For the rapid suites a case
	// is one generated sequence.
	Cases, Agreed int
	// Steps counts the operations the storage suites ran on each side
	// (for storage-seq including the replays of shrinking, if any); 0 for
	// suites that do not count steps.
	Steps int
	// Known are disagreements listed in knownDivergences.
	Known []Divergence
	// New are disagreements not listed: model bugs or kernel facts to
	// add to the model.
	New []Divergence
	// Stale are entries of knownDivergences for this suite whose case
	// agreed or was not run: the list must be corrected.
	Stale []Divergence
	// Errors are harness failures (a case that could not be run).
	Errors []string
	// Skipped are cases the running kernel cannot run, with the reason
	// (a device kind it was built without): they are neither agreements
	// nor failures.
	Skipped []Divergence
	// NotRun says why the suite did not run at all ("" when it ran).
	NotRun string
	// Duration is the suite's wall time.
	Duration time.Duration
}

// OK reports whether the suite ran, and found no new divergence, no stale
// known divergence and no harness error.
func (s SuiteResult) OK() bool {
	return s.NotRun == "" && len(s.New) == 0 && len(s.Stale) == 0 && len(s.Errors) == 0
}

// Report is the agreement table of a differential run.
type Report struct {
	// Kernel is the running kernel's release (uname -r).
	Kernel string
	// Seed is the seed of the generated sequences.
	Seed     int64
	Suites   []SuiteResult
	Duration time.Duration
}

// OK reports whether every suite is OK.
func (r Report) OK() bool {
	for _, s := range r.Suites {
		if !s.OK() {
			return false
		}
	}
	return true
}

// Suite returns the result of the named suite.
func (r Report) Suite(name string) (SuiteResult, bool) {
	for _, s := range r.Suites {
		if s.Name == name {
			return s, true
		}
	}
	return SuiteResult{}, false
}

// Format writes the agreement table, one row per suite, then the details
// of every divergence, stale entry and harness error.
func (r Report) Format(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "suite\tcases\tsteps\tagreed\tknown\tnew\tstale\terrors\ttime\tstatus\n")
	var tc, ta, tk, tn int
	for _, s := range r.Suites {
		status := "ok"
		switch {
		case s.NotRun != "":
			status = "not run"
		case !s.OK():
			status = "FAIL"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\n", s.Name, s.Cases, s.Steps, s.Agreed, len(s.Known), len(s.New),
			len(s.Stale), len(s.Errors), s.Duration.Round(time.Millisecond), status)
		tc, ta, tk, tn = tc+s.Cases, ta+s.Agreed, tk+len(s.Known), tn+len(s.New)
	}
	status := "ok"
	if !r.OK() {
		status = "FAIL"
	}
	fmt.Fprintf(tw, "total\t%d\t\t%d\t%d\t%d\t\t\t%s\t%s\n", tc, ta, tk, tn, r.Duration.Round(time.Millisecond), status)
	if err := tw.Flush(); err != nil {
		return err
	}
	var b strings.Builder
	if r.Kernel != "" {
		fmt.Fprintf(&b, "kernel %s, seed %d\n", r.Kernel, r.Seed)
	}
	for _, s := range r.Suites {
		if s.NotRun != "" {
			fmt.Fprintf(&b, "\n%s: not run: %s\n", s.Name, s.NotRun)
		}
		section := func(title string, ds []Divergence) {
			if len(ds) == 0 {
				return
			}
			fmt.Fprintf(&b, "\n%s: %s:\n", s.Name, title)
			for _, d := range ds {
				fmt.Fprintf(&b, "  %s\n", d.Case)
				if d.Reason != "" {
					fmt.Fprintf(&b, "    reason: %s\n", d.Reason)
				}
				for _, l := range strings.Split(strings.TrimRight(d.Detail, "\n"), "\n") {
					if l != "" {
						fmt.Fprintf(&b, "    %s\n", l)
					}
				}
			}
		}
		section("new divergences", s.New)
		section("stale known divergences", s.Stale)
		section("known divergences", s.Known)
		section("skipped (the running kernel cannot run them)", s.Skipped)
		for _, e := range s.Errors {
			fmt.Fprintf(&b, "\n%s: harness error: %s\n", s.Name, e)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// classify turns case outcomes into a suite result, checking them against
// known (keys "suite/case"): a listed case that disagrees is known, an
// unlisted one new; a listed case that agrees, or a listed case of this
// suite that was not among the outcomes, is stale.
func classify(suite string, outcomes []caseOutcome, known map[string]string) SuiteResult {
	r := SuiteResult{Name: suite}
	seen := map[string]bool{}
	for _, o := range outcomes {
		key := suite + "/" + o.Name
		seen[key] = true
		reason, listed := known[key]
		switch {
		case o.Skip != "":
			r.Skipped = append(r.Skipped, Divergence{Case: o.Name, Reason: o.Skip})
			continue
		case o.Err != nil:
			r.Errors = append(r.Errors, fmt.Sprintf("%s: %v", o.Name, o.Err))
			continue
		case o.Detail == "" && listed:
			r.Stale = append(r.Stale, Divergence{Case: o.Name, Reason: "listed as a known divergence (" + reason +
				") but the model and the kernel agree: remove it from knownDivergences"})
		case o.Detail != "" && listed:
			r.Known = append(r.Known, Divergence{Case: o.Name, Detail: o.Detail, Reason: reason})
		case o.Detail != "":
			r.New = append(r.New, Divergence{Case: o.Name, Detail: o.Detail})
		}
		r.Cases++
		if o.Detail == "" {
			r.Agreed++
		}
	}
	var missing []string
	for key := range known {
		if name, ok := strings.CutPrefix(key, suite+"/"); ok && !seen[key] {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	for _, name := range missing {
		r.Stale = append(r.Stale, Divergence{Case: name, Reason: "listed as a known divergence but no such case ran: " +
			"remove or rename it in knownDivergences"})
	}
	return r
}
