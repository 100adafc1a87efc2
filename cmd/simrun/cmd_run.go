package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/skbsim/skbsim/capture"
	"github.com/skbsim/skbsim/netstack"
	"github.com/skbsim/skbsim/sim"
)

func init() {
	register(&command{
		name:    "run",
		summary: "replay captures through a scenario and report metadata survival and cost",
		usage:   "[-scenario FILE] [-design NAME] [-format text|json|csv] [-o FILE] [-j N] CAPTURE...",
		run:     runRun,
	})
}

// scenarioFlags are the flags run and trace share.
type scenarioFlags struct {
	scenario, design string
	ignoreCsum       bool
	padTruncated     bool
	poisonFree       bool
	replies          bool
	aboveMTU         string
}

func (sf *scenarioFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&sf.scenario, "scenario", "", "scenario file (default: the built-in scenario)")
	fs.StringVar(&sf.design, "design", "", "metadata design, overriding the scenario's")
	fs.BoolVar(&sf.ignoreCsum, "ignore-checksums", false, "accept wrong IPv4 and GRE header checksums and complete TCP and UDP ones (captures from hosts with checksum offload)")
	fs.BoolVar(&sf.padTruncated, "pad-truncated", false, "replay packets the capture cut short (snaplen) padded with zeros to their wire length; implies -ignore-checksums")
	fs.BoolVar(&sf.poisonFree, "poison-free", false, "fill freed buffers with POISON_FREE (0x6b) as slub_debug=P does (slower; the report does not change)")
	fs.BoolVar(&sf.replies, "replies", false, "the stack sends what the kernel answers with (ICMP and ICMPv6 errors, echo replies, TCP resets, ARP replies, neighbour advertisements), as the scenario's options.replies")
	fs.StringVar(&sf.aboveMTU, "above-mtu", "", "what a captured frame above its entry device's MTU becomes, overriding the scenario's rx entries: "+
		strings.Join(aboveMTUModes, ", ")+" (segment or gro_hw for captures taken above GRO or TSO)")
}

var aboveMTUModes = []string{netstack.AboveMTUAccept, netstack.AboveMTUSegment, netstack.AboveMTUGROHW, netstack.AboveMTUDrop}

func (sf *scenarioFlags) load() (*sim.Scenario, error) {
	if sf.aboveMTU != "" && !slices.Contains(aboveMTUModes, sf.aboveMTU) {
		return nil, usagef("-above-mtu %q: want one of %s", sf.aboveMTU, strings.Join(aboveMTUModes, ", "))
	}
	var sc *sim.Scenario
	var err error
	if sf.scenario == "" {
		sc, err = sim.Builtin(sim.DefaultScenarioName)
	} else {
		sc, err = sim.LoadScenario(sf.scenario)
	}
	if err != nil {
		return sc, err
	}
	if sf.replies {
		sc.Stack.Options.Replies = true
	}
	if sf.aboveMTU == "" {
		return sc, nil
	}
	for i := range sc.Stack.Entries {
		if e := &sc.Stack.Entries[i]; e.Kind != netstack.EntryTX {
			e.AboveMTU = sf.aboveMTU
		}
	}
	return sc, nil
}

func runRun(e *env, fs *flag.FlagSet, args []string) error {
	var sf scenarioFlags
	sf.register(fs)
	format := fs.String("format", "text", "report format: "+strings.Join(sim.Formats, ", "))
	out := fs.String("o", "", "write the report to FILE instead of standard output")
	workers := fs.Int("j", 1, "worker goroutines (the report does not depend on it)")
	stats := fs.Bool("runtime-stats", false, "hidden: print wall time, packets/s and Go memory figures to stderr")
	cpuprof := fs.String("cpuprofile", "", "hidden: write a CPU profile to FILE")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usagef("no CAPTURE given")
	}
	if !validFormat(*format) {
		return usagef("unknown format %q (known: %s)", *format, strings.Join(sim.Formats, ", "))
	}
	if *workers < 1 || *workers > 256 {
		return usagef("-j %d: want 1 to 256 workers", *workers)
	}
	s, err := sf.load()
	if err != nil {
		return err
	}
	if *cpuprof != "" {
		f, err := os.Create(*cpuprof)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	opts := sim.Options{Design: sf.design, Workers: *workers, IgnoreChecksums: sf.ignoreCsum, PadTruncated: sf.padTruncated, PoisonFree: sf.poisonFree}
	if e.isTerminal {
		opts.Progress = newProgressBar(e.stderr).update
	}
	start := time.Now()
	rep, runErr := sim.Replay(s, fs.Args(), opts)
	elapsed := time.Since(start)
	if rep == nil {
		return runErr
	}
	if err := writeReport(e, rep, *format, *out); err != nil {
		return err
	}
	if *stats {
		printRuntimeStats(e.stderr, rep.PacketsRead, elapsed, *workers)
	}
	return replayError(rep, runErr)
}

func validFormat(f string) bool {
	for _, k := range sim.Formats {
		if f == k {
			return true
		}
	}
	return false
}

// replayError turns an incomplete replay into exit status 2 and a leak
// into an error.
func replayError(rep *sim.Report, runErr error) error {
	if runErr != nil {
		var ce *capture.Error
		if errors.As(runErr, &ce) {
			return &exitCodeError{code: exitIncomplete, err: runErr}
		}
		return runErr
	}
	if rep.LiveObjectsAtEnd != 0 || len(rep.Leaks) != 0 {
		return fmt.Errorf("leak check failed: %d live objects after close", rep.LiveObjectsAtEnd)
	}
	return nil
}

func writeReport(e *env, rep *sim.Report, format, out string) error {
	var w io.Writer = e.stdout
	var f *os.File
	if out != "" {
		var err error
		if f, err = os.Create(out); err != nil {
			return err
		}
		w = f
	}
	err := rep.Write(w, format)
	if f != nil {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

func printRuntimeStats(w io.Writer, packets int64, elapsed time.Duration, workers int) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Fprintf(w, "runtime: %d packets in %.3fs = %.0f packets/s with -j %d; ", packets, elapsed.Seconds(),
		float64(packets)/elapsed.Seconds(), workers)
	if cpu := cpuTime(); cpu > 0 {
		fmt.Fprintf(w, "cpu %.3fs = %.0f packets per cpu-second; ", cpu.Seconds(), float64(packets)/cpu.Seconds())
	}
	fmt.Fprintf(w, "heap sys %.1f MB, total sys %.1f MB, mallocs %d, GC cycles %d\n",
		float64(ms.HeapSys)/(1<<20), float64(ms.Sys)/(1<<20), ms.Mallocs, ms.NumGC)
}
