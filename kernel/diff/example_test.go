package diff_test

import (
	"os"
	"time"

	"github.com/skbsim/skbsim/kernel/diff"
)

func ExampleReport_Format() {
	rep := diff.Report{
		Suites: []diff.SuiteResult{
			{Name: diff.SuiteCharge, Cases: 49, Steps: 395, Agreed: 49, Duration: 142 * time.Millisecond},
			{Name: diff.SuiteProg, Cases: 303, Agreed: 302, Duration: 2378 * time.Millisecond,
				Known: []diff.Divergence{{Case: "tcp/mptcp", Reason: "no active-open MPTCP in the model",
					Detail: "create client: model element=true omem=288, kernel element=false omem=0"}}},
			{Name: diff.SuiteTransitions, NotRun: "no stack model"},
		},
		Duration: 2520 * time.Millisecond,
	}
	rep.Format(os.Stdout)
	// Output:
	// suite            cases  steps  agreed  known  new  stale  errors  time    status
	// storage-charge   49     395    49      0      0    0      0       142ms   ok
	// storage-prog     303    0      302     1      0    0      0       2.378s  ok
	// skb-transitions  0      0      0       0      0    0      0       0s      not run
	// total            352           351     1      0                   2.52s   FAIL
	//
	// storage-prog: known divergences:
	//   tcp/mptcp
	//     reason: no active-open MPTCP in the model
	//     create client: model element=true omem=288, kernel element=false omem=0
	//
	// skb-transitions: not run: no stack model
}
