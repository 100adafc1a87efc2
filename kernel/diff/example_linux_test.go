package diff_test

import (
	"context"
	"fmt"
	"os"

	"github.com/skbsim/skbsim/kernel/diff"
)

// Run the storage suites against the running kernel (as root) and print
// the agreement table. Compile-only: it needs the kernel.
func ExampleRun() {
	rep, err := diff.Run(context.Background(), diff.Options{
		Suites: []string{diff.SuiteCreate, diff.SuiteCharge, diff.SuiteClone},
		Seed:   1,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	rep.Format(os.Stdout)
	if !rep.OK() {
		os.Exit(1)
	}
}
