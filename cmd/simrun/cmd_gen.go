package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/skbsim/skbsim/capture"
)

func init() {
	register(&command{
		name:    "gen",
		summary: "write a deterministic synthetic capture (capture.Generate)",
		usage:   "[-preset NAME] [-n N] [-flows N] [-seed S] [-format pcap|pcapng] [-linktype NAME] -o FILE",
		run:     runGen,
	})
}

// genLinkTypes are the link types capture.Generate writes, by the names
// libpcap gives them.
var genLinkTypes = map[string]capture.LinkType{
	"EN10MB": capture.LinkEthernet, "ethernet": capture.LinkEthernet,
	"LINUX_SLL": capture.LinkLinuxSLL, "sll": capture.LinkLinuxSLL,
	"LINUX_SLL2": capture.LinkSLL2, "sll2": capture.LinkSLL2,
	"RAW": capture.LinkRaw, "raw": capture.LinkRaw,
}

func runGen(e *env, fs *flag.FlagSet, args []string) error {
	preset := fs.String("preset", "demo", "traffic mix: "+strings.Join(capture.Presets(), ", "))
	n := fs.Int("n", 0, "number of packets (0: the preset's default)")
	flows := fs.Int("flows", 0, "concurrent flows (0: the preset's default)")
	seed := fs.Int64("seed", 1, "generator seed")
	format := fs.String("format", "pcap", "file format: pcap or pcapng")
	link := fs.String("linktype", "EN10MB", "link type: EN10MB, LINUX_SLL, LINUX_SLL2 or RAW")
	out := fs.String("o", "", "output file (required)")
	minPackets := fs.Int("min-packets", 0, "repeat the generated capture (capture.Repeat, shifted in time) until it holds at least N packets")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if *out == "" {
		return usagef("-o FILE is required")
	}
	if capture.PresetDoc(*preset) == "" {
		return usagef("unknown preset %q (known: %s)", *preset, strings.Join(capture.Presets(), ", "))
	}
	if *n < 0 || *flows < 0 || *minPackets < 0 {
		return usagef("-n, -flows and -min-packets must not be negative")
	}
	spec := capture.GenSpec{Preset: *preset, Seed: *seed, Packets: *n, Flows: *flows}
	switch *format {
	case "pcap":
		spec.Format = capture.FormatPcap
	case "pcapng":
		spec.Format = capture.FormatPcapng
	default:
		return usagef("unknown format %q (known: pcap, pcapng)", *format)
	}
	lt, ok := genLinkTypes[*link]
	if !ok {
		return usagef("link type %q not generated (known: EN10MB, LINUX_SLL, LINUX_SLL2, RAW)", *link)
	}
	spec.Link = lt
	if *minPackets == 0 {
		written, err := writeFile(*out, func(w io.Writer) (int, error) { return capture.Generate(w, spec) })
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "wrote %d packets to %s (preset %s, seed %d, %s, %s)\n",
			written, *out, *preset, *seed, *format, lt)
		return nil
	}
	if spec.Format != capture.FormatPcap {
		return usagef("-min-packets writes pcap only")
	}
	base := *out + ".base"
	defer os.Remove(base)
	if _, err := writeFile(base, func(w io.Writer) (int, error) { return capture.Generate(w, spec) }); err != nil {
		return err
	}
	written, err := writeFile(*out, func(w io.Writer) (int, error) { return capture.Repeat(w, base, *minPackets) })
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "wrote %d packets to %s (preset %s, seed %d, repeated to at least %d, %s)\n",
		written, *out, *preset, *seed, *minPackets, lt)
	return nil
}

// writeFile writes path through a buffer with write, removing the file
// when anything fails.
func writeFile(path string, write func(io.Writer) (int, error)) (int, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	bw := bufio.NewWriterSize(f, 1<<16)
	n, err := write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return n, err
	}
	return n, nil
}
