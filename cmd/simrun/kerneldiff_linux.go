package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/skbsim/skbsim/kernel/diff"
)

func init() {
	register(&command{
		name:    "kernel",
		summary: "compare the model with the running Linux kernel (needs root): simrun kernel diff",
		usage:   "diff [-suites a,b] [-seed N] [-checks N]",
		run:     runKernel,
	})
}

// runKernel runs `simrun kernel diff`: every differential suite of
// kernel/diff against the running kernel, printing the agreement table.
// Disagreements not listed as known make the exit status 1.
func runKernel(e *env, fs *flag.FlagSet, args []string) error {
	suites := fs.String("suites", "", "comma-separated suites to run (default all: "+strings.Join(diff.Suites, ",")+")")
	seed := fs.Int64("seed", 1, "seed of the generated sequences")
	checks := fs.Int("checks", diff.DefaultChecks, "generated sequences per rapid suite")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 || fs.Arg(0) != "diff" {
		return usagef("want the subcommand diff")
	}
	if err := parse(fs, fs.Args()[1:]); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	opts := diff.Options{Seed: *seed, Checks: *checks}
	if *suites != "" {
		opts.Suites = strings.Split(*suites, ",")
	}
	if e.isTerminal {
		opts.Progress = func(s string) { fmt.Fprintf(e.stderr, "simrun kernel diff: %s\n", s) }
	}
	rep, err := diff.Run(context.Background(), opts)
	if err != nil {
		return err
	}
	if err := rep.Format(e.stdout); err != nil {
		return err
	}
	if !rep.OK() {
		return errors.New("the model and the kernel disagree (see the table)")
	}
	return nil
}
