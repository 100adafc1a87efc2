package main

import (
	"bufio"
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/skbsim/skbsim/sim"
)

func init() {
	register(&command{
		name:    "trace",
		summary: "print the life of chosen packets step by step: layer, operation, skb and storage state",
		usage:   "[-scenario FILE] [-design NAME] [-packets 0,5,9] CAPTURE",
		run:     runTrace,
	})
}

func runTrace(e *env, fs *flag.FlagSet, args []string) error {
	var sf scenarioFlags
	sf.register(fs)
	list := fs.String("packets", "0", "comma-separated packet ids (capture indexes) to trace, or \"all\"")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("want one CAPTURE")
	}
	ids, err := parseIDs(*list)
	if err != nil {
		return usagef("-packets: %v", err)
	}
	s, err := sf.load()
	if err != nil {
		return err
	}
	w := bufio.NewWriter(e.stdout)
	rep, runErr := sim.Replay(s, fs.Args(), sim.Options{Design: sf.design, Workers: 1,
		IgnoreChecksums: sf.ignoreCsum, PadTruncated: sf.padTruncated, PoisonFree: sf.poisonFree, Trace: w, TracePackets: ids})
	if rep != nil {
		fmt.Fprintf(w, "%d packets replayed through scenario %s with design %s\n", rep.PacketsRead, rep.Scenario, rep.Design)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if rep == nil {
		return runErr
	}
	return replayError(rep, runErr)
}

// parseIDs parses "0,5,9" ("all" is nil: every packet).
func parseIDs(s string) ([]int64, error) {
	if s == "all" {
		return nil, nil
	}
	ids := []int64{}
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		id, err := strconv.ParseInt(f, 10, 64)
		if err != nil || id < 0 {
			return nil, fmt.Errorf("bad packet id %q", f)
		}
		ids = append(ids, id)
	}
	return ids, nil
}
