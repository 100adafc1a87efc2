package main

import (
	"flag"
	"fmt"

	"github.com/skbsim/skbsim/capture"
)

func init() {
	register(&command{
		name:    "decode",
		summary: "read and decode a capture without simulating it: the rate no replay can exceed",
		usage:   "CAPTURE",
		run:     runDecode,
	})
}

func runDecode(e *env, fs *flag.FlagSet, args []string) error {
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("want one CAPTURE")
	}
	cpu0 := cpuTime()
	n, dur, err := capture.DecodeOnly(fs.Arg(0))
	cpu := cpuTime() - cpu0
	if dur > 0 {
		fmt.Fprintf(e.stdout, "decode-only: %d packets in %.3fs = %.0f packets/s", n, dur.Seconds(), float64(n)/dur.Seconds())
		if cpu > 0 {
			fmt.Fprintf(e.stdout, "; cpu %.3fs = %.0f packets per cpu-second", cpu.Seconds(), float64(n)/cpu.Seconds())
		}
		fmt.Fprintln(e.stdout)
	}
	if err != nil {
		return &exitCodeError{code: exitIncomplete, err: err}
	}
	return nil
}
