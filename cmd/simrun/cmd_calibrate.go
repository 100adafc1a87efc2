package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/kernel/calibrate"
)

func init() {
	register(&command{
		name:    "calibrate",
		summary: "measure the cost table on the running kernel with real BPF programs (Linux, root)",
		usage:   "[-short] [-o FILE]",
		run:     runCalibrate,
	})
}

// measureTable is kernel/calibrate's entry point; tests replace it.
var measureTable = calibrate.Measure

func runCalibrate(e *env, fs *flag.FlagSet, args []string) error {
	short := fs.Bool("short", false, "a quick run: table structure, not precision")
	out := fs.String("o", "", "write the cost table (YAML) to FILE instead of standard output")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	opts := calibrate.DefaultOptions()
	if *short {
		opts = calibrate.ShortOptions()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rep, err := measureTable(ctx, opts)
	if err != nil {
		return calibrateError(err)
	}
	// Marshal validates the table, so what is written always loads.
	text, err := cost.Marshal(&rep.Table)
	if err != nil {
		return err
	}
	if *out == "" {
		if _, err := e.stdout.Write(text); err != nil {
			return err
		}
	} else if err := os.WriteFile(*out, text, 0o644); err != nil {
		return err
	}
	converged := "every entry within the target spread"
	if !rep.Converged {
		converged = "NOT converged: some spreads are wider than the target"
	}
	dest := "standard output"
	if *out != "" {
		dest = *out
	}
	fmt.Fprintf(e.stderr, "calibrated on kernel %s: %d rounds in %.1fs (%s), load average %s; table written to %s\n",
		rep.Kernel, rep.Rounds, rep.Elapsed.Seconds(), converged, orDash(rep.LoadAvg), dest)
	return nil
}

// calibrateError turns the two expected failures into one clear line.
func calibrateError(err error) error {
	switch {
	case errors.Is(err, errors.ErrUnsupported):
		return fmt.Errorf("needs Linux: the cost table is measured with BPF programs on the running kernel (%w)", err)
	case errors.Is(err, os.ErrPermission):
		return fmt.Errorf("needs root (CAP_BPF, CAP_SYS_ADMIN and CAP_PERFMON) to load the measuring programs: %w", err)
	}
	return err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
