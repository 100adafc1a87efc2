package diff_test

import (
	"os"
	"time"

	"github.com/skbsim/skbsim/kernel/diff"
)

// A report after a model fix: storage-prog agrees on every case, but the
// fixed case is still listed in knownDivergences, so it is reported stale
// and the run fails until the entry is removed.
func ExampleReport_Format() {
	rep := diff.Report{
		Suites: []diff.SuiteResult{
			{Name: diff.SuiteCharge, Cases: 49, Steps: 395, Agreed: 49, Duration: 142 * time.Millisecond},
			{Name: diff.SuiteProg, Cases: 303, Agreed: 303, Duration: 2378 * time.Millisecond,
				Stale: []diff.Divergence{{Case: "tcp/mptcp", Reason: "listed as a known divergence (no active-open " +
					"MPTCP in the model) but the model and the kernel agree: remove it from knownDivergences"}}},
			{Name: diff.SuiteTransitions, NotRun: "no stack model"},
		},
		Duration: 2520 * time.Millisecond,
	}
	rep.Format(os.Stdout)
	// Output:
	// suite            cases  steps  agreed  known  new  stale  errors  time    status
	// storage-charge   49     395    49      0      0    0      0       142ms   ok
	// storage-prog     303    0      303     0      0    1      0       2.378s  FAIL
	// skb-transitions  0      0      0       0      0    0      0       0s      not run
	// total            352           352     0      0                   2.52s   FAIL
	//
	// storage-prog: stale known divergences:
	//   tcp/mptcp
	//     reason: listed as a known divergence (no active-open MPTCP in the model) but the model and the kernel agree: remove it from knownDivergences
	//
	// skb-transitions: not run: no stack model
}
