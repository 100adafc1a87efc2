package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/skbsim/skbsim/capture"
	"github.com/skbsim/skbsim/compare"
	"github.com/skbsim/skbsim/cost"
)

func init() {
	register(&command{
		name:    "compare",
		summary: "run several metadata designs over the same traffic and compare their cost and survival",
		usage:   "[-designs A,B,...|all] [-costs FILE] [-scenario FILE] [-format text|json] [-chart FILE.svg] [-o FILE] [-j N] CAPTURE...",
		run:     runCompare,
	})
}

func runCompare(e *env, fs *flag.FlagSet, args []string) error {
	var sf scenarioFlags
	fs.StringVar(&sf.scenario, "scenario", "", "scenario file (default: the built-in scenario)")
	fs.BoolVar(&sf.ignoreCsum, "ignore-checksums", false, "accept wrong IPv4 and GRE header checksums and complete TCP and UDP ones (captures from hosts with checksum offload)")
	fs.BoolVar(&sf.padTruncated, "pad-truncated", false, "replay packets the capture cut short (snaplen) padded with zeros to their wire length; implies -ignore-checksums")
	designs := fs.String("designs", "all", "designs to compare, comma-separated; NAME[:cache=N|:capacity=N|:buffer=N|:pool=N]; \"all\": "+strings.Join(compare.AllDesigns, ","))
	costs := fs.String("costs", "", "cost table file (default: the embedded table; see simrun calibrate)")
	format := fs.String("format", "text", "output format: "+strings.Join(compare.Formats, ", "))
	chart := fs.String("chart", "", "also draw ns/packet and allocations/packet per design as an SVG file")
	out := fs.String("o", "", "write the comparison to FILE instead of standard output")
	workers := fs.Int("j", 1, "worker goroutines per replay (results do not depend on it)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usagef("no CAPTURE given")
	}
	if *format != "text" && *format != "json" {
		return usagef("unknown format %q (known: %s)", *format, strings.Join(compare.Formats, ", "))
	}
	if *workers < 1 || *workers > 256 {
		return usagef("-j %d: want 1 to 256 workers", *workers)
	}
	ds, err := compare.ParseDesigns(*designs)
	if err != nil {
		return usagef("-designs: %v", err)
	}
	opts := compare.Options{Workers: *workers, IgnoreChecksums: sf.ignoreCsum, PadTruncated: sf.padTruncated}
	if *costs != "" {
		t, err := cost.Load(*costs)
		if err != nil {
			return fmt.Errorf("-costs: %w", err)
		}
		opts.Costs, opts.CostsName = &t, *costs
	}
	s, err := sf.load()
	if err != nil {
		return err
	}
	res, runErr := compare.Run(s, fs.Args(), ds, opts)
	if res == nil {
		return runErr
	}
	if err := writeTo(e.stdout, *out, func(w io.Writer) error { return res.Write(w, *format) }); err != nil {
		return err
	}
	if *chart != "" {
		if err := writeTo(nil, *chart, res.WriteSVG); err != nil {
			return err
		}
	}
	if runErr != nil {
		var ce *capture.Error
		if errors.As(runErr, &ce) {
			return &exitCodeError{code: exitIncomplete, err: runErr}
		}
		return runErr
	}
	for _, d := range res.Designs {
		if d.Leak != "" {
			return fmt.Errorf("design %s: leak check failed: %s", d.Design, d.Leak)
		}
	}
	return nil
}

// writeTo writes with f to the file path, or to w when path is "".
func writeTo(w io.Writer, path string, f func(io.Writer) error) error {
	if path == "" {
		return f(w)
	}
	file, err := os.Create(path)
	if err != nil {
		return err
	}
	err = f(file)
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	return err
}
