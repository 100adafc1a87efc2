package compare

import (
	"fmt"
	"html"
	"io"
	"math"
	"strings"
)

// Chart geometry (pixels).
const (
	svgWidth      = 860
	svgLabelWidth = 150 // design names left of the bars
	svgRight      = 40
	svgRowHeight  = 20
	svgBarHeight  = 12
	svgPanelHead  = 46 // panel title and legend above the bars
	svgPanelFoot  = 40 // axis ticks and axis label below the bars
	svgTop        = 34 // chart title
)

// Colours of the two series.
const (
	svgNSColour     = "#4e79a7"
	svgAllocColour  = "#f28e2b"
	svgWhiskerColor = "#222"
)

// WriteSVG draws the comparison as a self-contained SVG document: one panel
// with the estimated ns per packet of every design (a bar at the estimate,
// a whisker over the cost table's spread) and one with allocations per
// packet, both the designs' shares over the baseline. Every design that
// ran has one bar in each panel (class "bar ns" and "bar allocs"); a
// refused design has the word "refused" instead.
func (r *Result) WriteSVG(w io.Writer) error {
	n := len(r.Designs)
	panelH := svgPanelHead + n*svgRowHeight + svgPanelFoot
	height := svgTop + 2*panelH + 10
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>`+"\n")
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n",
		svgWidth, height, svgWidth, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%d" y="20" font-size="14" font-weight="bold">%s</text>`+"\n", 10,
		esc(fmt.Sprintf("%s: metadata designs over %d packets (share over the no-metadata baseline)", r.Scenario, r.Packets)))

	ns := make([]barValue, n)
	allocs := make([]barValue, n)
	for i, d := range r.Designs {
		ns[i] = barValue{label: d.Design, refused: d.Refused != "", v: d.NSPerPacket.NS,
			lo: d.NSPerPacket.Low, hi: d.NSPerPacket.High, whisker: true}
		allocs[i] = barValue{label: d.Design, refused: d.Refused != "", v: d.AllocsPerPacket, lo: d.AllocsPerPacket, hi: d.AllocsPerPacket}
	}
	writePanel(&b, svgTop, "estimated ns per packet", "ns/packet, the design's share (bar: estimate)",
		"ns", svgNSColour, ns, "%.0f")
	writePanel(&b, svgTop+panelH, "allocations per packet", "kernel allocations per packet, the design's share (kmalloc and kmem_cache objects)",
		"allocs", svgAllocColour, allocs, "%.2f")
	fmt.Fprintf(&b, "</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

type barValue struct {
	label     string
	refused   bool
	v, lo, hi float64
	whisker   bool
}

func writePanel(b *strings.Builder, top int, title, legend, class, colour string, vals []barValue, tickFmt string) {
	lo, hi := 0.0, 0.0
	for _, v := range vals {
		if v.refused {
			continue
		}
		lo = math.Min(lo, math.Min(v.v, v.lo))
		hi = math.Max(hi, math.Max(v.v, v.hi))
	}
	if hi <= lo {
		hi = lo + 1
	}
	step := niceStep((hi - lo) / 5)
	lo = math.Floor(lo/step) * step
	hi = math.Ceil(hi/step) * step
	x0, x1 := float64(svgLabelWidth), float64(svgWidth-svgRight)
	x := func(v float64) float64 { return x0 + (v-lo)/(hi-lo)*(x1-x0) }
	barsTop := top + svgPanelHead
	barsBottom := barsTop + len(vals)*svgRowHeight

	fmt.Fprintf(b, `<g class="panel %s">`+"\n", class)
	fmt.Fprintf(b, `<text x="10" y="%d" font-size="13" font-weight="bold">%s</text>`+"\n", top+16, esc(title))
	// Legend: the series swatch, and the whisker when drawn.
	fmt.Fprintf(b, `<g class="legend"><rect x="%d" y="%d" width="12" height="10" fill="%s"/><text x="%d" y="%d">%s</text></g>`+"\n",
		svgLabelWidth, top+24, colour, svgLabelWidth+18, top+33, esc(legend))
	if len(vals) > 0 && vals[0].whisker {
		// The whisker's own legend entry, right of the series.
		lx := float64(svgWidth - svgRight - 150)
		ly := float64(top + 29)
		fmt.Fprintf(b, `<g class="legend"><line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"/>`+
			`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"/><line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"/>`+
			`<text x="%.1f" y="%.1f">cost table spread</text></g>`+"\n",
			lx, ly, lx+20, ly, svgWhiskerColor, lx, ly-4, lx, ly+4, svgWhiskerColor, lx+20, ly-4, lx+20, ly+4, svgWhiskerColor,
			lx+26, ly+4)
	}
	// Grid and ticks.
	for t := lo; t <= hi+step/2; t += step {
		xt := x(t)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>`+"\n", xt, barsTop, xt, barsBottom)
		fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", xt, barsBottom+14, esc(fmt.Sprintf(tickFmt, t)))
	}
	// Axes.
	fmt.Fprintf(b, `<line class="axis" x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="black"/>`+"\n", x0, barsBottom, x1, barsBottom)
	fmt.Fprintf(b, `<line class="axis" x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="black"/>`+"\n", x(0), barsTop, x(0), barsBottom)
	fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", (x0+x1)/2, barsBottom+30, esc(title))
	for i, v := range vals {
		y := barsTop + i*svgRowHeight
		cy := float64(y) + svgRowHeight/2.0
		fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", svgLabelWidth-6, cy+4, esc(v.label))
		if v.refused {
			fmt.Fprintf(b, `<text class="refused" x="%.1f" y="%.1f" fill="#a00">refused</text>`+"\n", x(0)+4, cy+4)
			continue
		}
		left, right := math.Min(x(0), x(v.v)), math.Max(x(0), x(v.v))
		fmt.Fprintf(b, `<rect class="bar %s" x="%.1f" y="%.1f" width="%.1f" height="%d" fill="%s"><title>%s</title></rect>`+"\n",
			class, left, cy-svgBarHeight/2.0, right-left, svgBarHeight, colour, esc(fmt.Sprintf("%s: "+tickFmt, v.label, v.v)))
		if v.whisker {
			fmt.Fprintf(b, `<g class="whisker"><line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"/>`+
				`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"/><line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"/></g>`+"\n",
				x(v.lo), cy, x(v.hi), cy, svgWhiskerColor,
				x(v.lo), cy-4, x(v.lo), cy+4, svgWhiskerColor,
				x(v.hi), cy-4, x(v.hi), cy+4, svgWhiskerColor)
		}
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" font-size="10">%s</text>`+"\n", math.Max(right, x(v.hi))+4, cy+4, esc(fmt.Sprintf(tickFmt, v.v)))
	}
	fmt.Fprintf(b, "</g>\n")
}

// niceStep rounds a raw tick step up to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

func esc(s string) string { return html.EscapeString(s) }
