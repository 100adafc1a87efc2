package calibrate_test

import (
	"context"
	"fmt"
	"log"

	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/kernel/calibrate"
)

// A command calibrates, saves the table and prices a packet's operations
// with it. It needs root on Linux, so this example is compiled, not run.
func ExampleRunToFile() {
	rep, err := calibrate.RunToFile(context.Background(), "measured.yaml", calibrate.DefaultOptions())
	if err != nil {
		log.Fatal(err)
	}
	var c cost.Counts
	c.Inc(cost.OpHashInsert)
	c.Inc(cost.OpHashDelete)
	r := rep.Table.Estimate(c, nil, nil)
	fmt.Printf("hash insert+delete: %.0f ns (%.0f..%.0f), %d rounds\n", r.NS, r.Low, r.High, rep.Rounds)
}
