package compare

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Formats lists the formats Write understands.
var Formats = []string{"text", "json"}

// Write writes r in format "text" or "json".
func (r *Result) Write(w io.Writer, format string) error {
	switch format {
	case "text":
		return r.WriteText(w)
	case "json":
		return r.WriteJSON(w)
	}
	return fmt.Errorf("compare: unknown format %q (known: %s)", format, strings.Join(Formats, ", "))
}

// WriteJSON writes r as indented JSON (field names documented in the
// package documentation).
func (r *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes r as side-by-side tables, one row per design: cost,
// survival per read point, and metadata lost.
func (r *Result) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	state := "complete"
	if !r.Complete {
		state = "INCOMPLETE: " + r.Error
	}
	ew.printf("scenario %s, kernel %s: %d packets from %s (%s)\n", r.Scenario, r.Kernel, r.Packets, strings.Join(r.Files, ", "), state)
	ew.printf("cost table: %s (entries: %s)\n", r.Costs.Name, sourceList(r.Costs.Sources))
	b := &r.Baseline
	ew.printf("baseline (map actions removed): %.3f allocs/pkt, %.1f B/pkt, peak live %d B, %s ns/pkt\n",
		b.AllocsPerPacket, b.BytesPerPacket, b.PeakLiveBytes, rangeText(b.NSPerPacket))
	ew.printf("per-packet figures are each design's share: its run minus its map creation and the baseline\n\n")

	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "design\tallocs/pkt\tB/pkt\tsetup allocs\tsetup B\tpeak live B\tns/pkt\t(low..high)\tpath ns/pkt\n")
	for i := range r.Designs {
		d := &r.Designs[i]
		if d.Refused != "" {
			fmt.Fprintf(tw, "%s\trefused%s\n", d.Design, strings.Repeat("\t-", 7))
			continue
		}
		leak := ""
		if d.Leak != "" {
			leak = "\tLEAK: " + d.Leak
		}
		fmt.Fprintf(tw, "%s\t%.3f\t%.1f\t%d\t%d\t%d\t%.1f\t(%.1f..%.1f)\t%.1f%s\n", d.Design, d.AllocsPerPacket, d.BytesPerPacket,
			d.SetupAllocs, d.SetupBytes, d.PeakLiveBytes, d.NSPerPacket.NS, d.NSPerPacket.Low, d.NSPerPacket.High,
			d.PathNSPerPacket.NS, leak)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for i := range r.Designs {
		if d := &r.Designs[i]; d.Refused != "" {
			ew.printf("  %s refused: %s\n", d.Design, d.Refused)
		}
	}

	if len(r.ReadPoints) > 0 {
		ew.printf("\nsurvival: share of reads that found this packet's value\n")
		tw = tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "design")
		for j := range r.ReadPoints {
			fmt.Fprintf(tw, "\tr%d", j+1)
		}
		fmt.Fprintln(tw)
		for i := range r.Designs {
			d := &r.Designs[i]
			fmt.Fprintf(tw, "%s", d.Design)
			if d.Refused != "" {
				fmt.Fprintf(tw, "\trefused%s\n", strings.Repeat("\t-", len(r.ReadPoints)-1))
				continue
			}
			for j := range r.ReadPoints {
				cell := "-"
				if j < len(d.Survival) && d.Survival[j].Share != nil {
					cell = fmt.Sprintf("%.1f%%", *d.Survival[j].Share*100)
				}
				fmt.Fprintf(tw, "\t%s", cell)
			}
			fmt.Fprintln(tw)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		tw = tabwriter.NewWriter(ew, 0, 0, 1, ' ', 0)
		for j, p := range r.ReadPoints {
			fmt.Fprintf(tw, "  r%d\t= %s %s at %s reads %s\n", j+1, p.Hook, p.Program, p.Where, p.Map)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}

	ew.printf("\nmetadata lost (counts over the run)\n")
	tw = tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "design\tmissing\trefused\tforeign\tread errors\tevictions\tstale\tlost\tfailed ops\n")
	for i := range r.Designs {
		d := &r.Designs[i]
		if d.Refused != "" {
			fmt.Fprintf(tw, "%s\trefused%s\n", d.Design, strings.Repeat("\t-", 7))
			continue
		}
		l := &d.Lost
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", d.Design, l.Missing, l.Refused, l.Foreign, l.ReadErrors,
			l.Evictions, l.StaleReads, l.Lost, l.FailedOps)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return ew.err
}

func rangeText(r Range) string { return fmt.Sprintf("%.1f (%.1f..%.1f)", r.NS, r.Low, r.High) }

func sourceList(m map[string]int) string {
	var parts []string
	for _, k := range []string{"measured", "benchmark", "derived", "estimate"} {
		if m[k] != 0 {
			parts = append(parts, fmt.Sprintf("%d %s", m[k], k))
		}
	}
	return strings.Join(parts, ", ")
}

// errWriter keeps the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) { fmt.Fprintf(e, format, args...) }
