package sim

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Formats lists the report formats Write understands.
var Formats = []string{"text", "json", "csv"}

// Write writes the report in format "text", "json" or "csv".
func (r *Report) Write(w io.Writer, format string) error {
	switch format {
	case "text", "":
		return r.WriteText(w)
	case "json":
		return r.WriteJSON(w)
	case "csv":
		return r.WriteCSV(w)
	}
	return fmt.Errorf("report: unknown format %q (known: %s)", format, strings.Join(Formats, ", "))
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(r)
}

// WriteCSV writes the report as one long table: section, key, metric,
// value. Keys join a row's names with "/" (hook/program/where/map for
// reads).
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	row := func(section, key, metric string, v any) {
		_ = cw.Write([]string{section, key, metric, fmt.Sprint(v)})
	}
	_ = cw.Write([]string{"section", "key", "metric", "value"})
	row("run", "", "scenario", r.Scenario)
	row("run", "", "design", r.Design)
	row("run", "", "kernel", r.Kernel)
	row("run", "", "shards", r.Shards)
	row("run", "", "packets_read", r.PacketsRead)
	row("run", "", "complete", r.Complete)
	if r.Error != "" {
		row("run", "", "error", r.Error)
	}
	row("run", "", "live_objects_at_end", r.LiveObjectsAtEnd)
	for _, e := range r.Events {
		row("event", e.Command, "at", e.At)
		row("event", e.Command, "applied", e.Applied)
	}
	for _, f := range r.Files {
		row("file", f.Name, "packets", f.Packets)
		if f.Padded != 0 {
			row("file", f.Name, "padded", f.Padded)
		}
		if f.Error != "" {
			row("file", f.Name, "error", f.Error)
		}
	}
	for _, o := range r.Outcomes {
		row("outcome", o.Name, "packets", o.Count)
	}
	for _, pr := range r.Programs {
		row("program", pr.Hook+"/"+pr.Program+"/"+pr.Where, "runs", pr.Runs)
	}
	for _, rr := range r.Reads {
		k := rr.Hook + "/" + rr.Program + "/" + rr.Where + "/" + rr.Map
		row("read", k, "found", rr.Found)
		row("read", k, "missing", rr.Missing)
		row("read", k, "refused", rr.Refused)
		row("read", k, "foreign", rr.Foreign)
		row("read", k, "errors", rr.Errors)
	}
	for _, m := range r.RxMeta {
		k := m.Program + "/" + m.Where + "/" + m.Kfunc
		row("xdp_rx_metadata", k, "ok", m.OK)
		row("xdp_rx_metadata", k, "ok_zero", m.Zero)
		row("xdp_rx_metadata", k, "enodata", m.ENODATA)
		row("xdp_rx_metadata", k, "eopnotsupp", m.EOPNOTSUPP)
		row("xdp_rx_metadata", k, "errors", m.Errors)
	}
	for _, f := range r.Helpers {
		row("helper", f.Program+"/"+f.Where+"/"+f.Helper+"/"+f.Result, "count", f.Count)
	}
	for _, d := range r.Drops {
		row("drop", d.Name, "count", d.Count)
	}
	a := &r.Allocations
	row("alloc", "total", "allocs", a.Allocs)
	row("alloc", "total", "frees", a.Frees)
	row("alloc", "total", "deferred_frees", a.DeferredFrees)
	row("alloc", "total", "failed", a.Failed)
	row("alloc", "total", "bytes_requested", a.BytesRequested)
	row("alloc", "total", "bytes_occupied", a.BytesOccupied)
	row("alloc", "total", "allocs_per_packet", a.AllocsPerPacket)
	row("alloc", "total", "bytes_per_packet", a.BytesPerPacket)
	row("alloc", "total", "peak_live_objects", a.PeakLiveObjects)
	row("alloc", "total", "peak_live_bytes", a.PeakLiveBytes)
	for _, sec := range []struct {
		name string
		rows []AllocRow
	}{{"alloc_class", a.ByClass}, {"alloc_site", a.BySite}} {
		for _, c := range sec.rows {
			row(sec.name, c.Name, "allocs", c.Allocs)
			row(sec.name, c.Name, "frees", c.Frees)
			row(sec.name, c.Name, "deferred_frees", c.DeferredFrees)
			row(sec.name, c.Name, "failed", c.Failed)
			row(sec.name, c.Name, "bytes_requested", c.BytesRequested)
			row(sec.name, c.Name, "bytes_occupied", c.BytesOccupied)
		}
	}
	for _, o := range r.Ops {
		row("op", o.Name, "count", o.Count)
	}
	for _, o := range r.Carrier {
		row("carrier", o.Name, "count", o.Count)
	}
	for _, o := range r.Stack {
		row("stack", o.Name, "count", o.Count)
	}
	for i, l := range r.Leaks {
		row("leak", strconv.Itoa(i), "what", l)
	}
	cw.Flush()
	return cw.Error()
}

// WriteText writes the report for people.
func (r *Report) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	p := func(format string, args ...any) { fmt.Fprintf(ew, format, args...) }
	p("scenario %s, design %s, kernel %s, %d flow shards\n", r.Scenario, r.Design, r.Kernel, r.Shards)
	for _, f := range r.Files {
		p("capture %s (%s): %d packets", f.Name, f.Format, f.Packets)
		if f.Padded != 0 {
			p(" (%d cut short, padded to their wire length)", f.Padded)
		}
		if f.Error != "" {
			p(", stopped: %s", f.Error)
		}
		p("\n")
	}
	status := "complete"
	if !r.Complete {
		status = "INCOMPLETE: " + r.Error
	}
	p("packets read: %d (%s)\n", r.PacketsRead, status)
	if len(r.Events) != 0 {
		p("\nevents\n")
		for _, e := range r.Events {
			p("  before packet %d: %s", e.At, e.Command)
			if !e.Applied {
				p(" (not applied: no packet that late)")
			}
			p("\n")
		}
	}

	p("\noutcomes\n")
	tw := tabwriter.NewWriter(ew, 2, 8, 2, ' ', tabwriter.AlignRight)
	for _, o := range r.Outcomes {
		fmt.Fprintf(tw, "  %s\t%d\t\n", o.Name, o.Count)
	}
	tw.Flush()

	p("\nprogram runs\n")
	tw = tabwriter.NewWriter(ew, 2, 8, 2, ' ', 0)
	for _, pr := range r.Programs {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\n", pr.Hook, pr.Program, pr.Where, pr.Runs)
	}
	tw.Flush()

	p("\nreads per program and map\n")
	tw = tabwriter.NewWriter(ew, 2, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "  hook\tprogram\twhere\tmap\tfound\tmissing\trefused\tforeign\terrors\n")
	for _, rr := range r.Reads {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\n", rr.Hook, rr.Program, rr.Where, rr.Map,
			rr.Found, rr.Missing, rr.Refused, rr.Foreign, rr.Errors)
	}
	tw.Flush()

	if len(r.RxMeta) != 0 {
		p("\nXDP RX metadata kfuncs per program\n")
		tw = tabwriter.NewWriter(ew, 2, 8, 2, ' ', 0)
		fmt.Fprintf(tw, "  program\twhere\tkfunc\tok\t(of which 0)\tENODATA\tEOPNOTSUPP\terrors\n")
		for _, m := range r.RxMeta {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\n", m.Program, m.Where, m.Kfunc, m.OK, m.Zero, m.ENODATA, m.EOPNOTSUPP, m.Errors)
		}
		tw.Flush()
	}

	if len(r.Helpers) != 0 {
		p("\nhelper results per program\n")
		tw = tabwriter.NewWriter(ew, 2, 8, 2, ' ', 0)
		fmt.Fprintf(tw, "  program\twhere\thelper\tresult\tcalls\n")
		for _, f := range r.Helpers {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%d\n", f.Program, f.Where, f.Helper, f.Result, f.Count)
		}
		tw.Flush()
	}

	p("\ndrops by reason\n")
	if len(r.Drops) == 0 {
		p("  none\n")
	}
	tw = tabwriter.NewWriter(ew, 2, 8, 2, ' ', 0)
	for _, d := range r.Drops {
		fmt.Fprintf(tw, "  %s\t%d\n", d.Name, d.Count)
	}
	tw.Flush()

	a := &r.Allocations
	p("\nallocations\n")
	p("  %d allocs (%.3f per packet), %d frees, %d deferred frees, %d failed\n",
		a.Allocs, a.AllocsPerPacket, a.Frees, a.DeferredFrees, a.Failed)
	p("  %d bytes requested, %d bytes occupied (%.1f per packet)\n", a.BytesRequested, a.BytesOccupied, a.BytesPerPacket)
	p("  peak live (sum over shards): %d objects, %d bytes\n", a.PeakLiveObjects, a.PeakLiveBytes)
	for _, sec := range []struct {
		name string
		rows []AllocRow
	}{{"size class", a.ByClass}, {"call site", a.BySite}} {
		tw = tabwriter.NewWriter(ew, 2, 8, 2, ' ', 0)
		fmt.Fprintf(tw, "  %s\tallocs\tfrees\tdeferred\tfailed\trequested\toccupied\n", sec.name)
		for _, c := range sec.rows {
			fmt.Fprintf(tw, "  %s\t%d\t%d\t%d\t%d\t%d\t%d\n", c.Name, c.Allocs, c.Frees, c.DeferredFrees,
				c.Failed, c.BytesRequested, c.BytesOccupied)
		}
		tw.Flush()
	}

	p("\noperations\n")
	tw = tabwriter.NewWriter(ew, 2, 8, 2, ' ', 0)
	for _, o := range r.Ops {
		fmt.Fprintf(tw, "  %s\t%d\n", o.Name, o.Count)
	}
	tw.Flush()

	p("\ncarrier (%s)\n", r.Design)
	if len(r.Carrier) == 0 {
		p("  no carrier operations\n")
	}
	tw = tabwriter.NewWriter(ew, 2, 8, 2, ' ', 0)
	for _, o := range r.Carrier {
		fmt.Fprintf(tw, "  %s\t%d\n", o.Name, o.Count)
	}
	tw.Flush()

	if len(r.Stack) != 0 {
		p("\nGRO and GSO\n")
		tw = tabwriter.NewWriter(ew, 2, 8, 2, ' ', 0)
		for _, o := range r.Stack {
			fmt.Fprintf(tw, "  %s\t%d\n", o.Name, o.Count)
		}
		tw.Flush()
	}

	if r.LiveObjectsAtEnd == 0 && len(r.Leaks) == 0 {
		p("\nleak check: ok (no live objects after close)\n")
	} else {
		p("\nleak check: FAILED (%d live objects after close)\n", r.LiveObjectsAtEnd)
		for _, l := range r.Leaks {
			p("  %s\n", l)
		}
	}
	return ew.err
}

// errWriter keeps the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(b []byte) (int, error) {
	if e.err != nil {
		return len(b), nil
	}
	n, err := e.w.Write(b)
	if err != nil {
		e.err = err
	}
	return n, nil
}
