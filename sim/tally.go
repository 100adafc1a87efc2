package sim

import (
	"sort"

	"github.com/skbsim/skbsim/netstack"
)

// layout names the rows of a tally: the programs that read maps, the maps,
// the drop reasons and the outcomes. It is shared (read-only) by every
// shard of a replay.
type layout struct {
	progs    []progInfo
	maps     []string
	drops    []string // index -> drop reason name
	outcomes []string // index -> outcome name
}

type progInfo struct {
	name, hook, where string
}

// tally counts one shard's results in preallocated arrays, so counting does
// not allocate.
type tally struct {
	layout   *layout
	nmaps    int      // len(layout.maps)
	reads    []uint64 // [prog][map][result]
	runs     []uint64 // [prog]
	rxMeta   []uint64 // [prog][kfunc][rxMetaOK ... rxMetaErr]
	helpers  []uint64 // [prog][helper][helperResult]
	drops    []uint64
	outcomes []uint64
}

func newTally(l *layout) *tally {
	return &tally{
		layout:   l,
		nmaps:    len(l.maps),
		reads:    make([]uint64, len(l.progs)*len(l.maps)*int(netstack.NumReadResults)),
		runs:     make([]uint64, len(l.progs)),
		rxMeta:   make([]uint64, len(l.progs)*int(netstack.NumRxMetaKfuncs)*numRxMetaResults),
		helpers:  make([]uint64, len(l.progs)*int(netstack.NumHelpers)*numHelperResults),
		drops:    make([]uint64, len(l.drops)),
		outcomes: make([]uint64, len(l.outcomes)),
	}
}

func (t *tally) read(prog, m int, r netstack.ReadResult) {
	t.reads[(prog*t.nmaps+m)*int(netstack.NumReadResults)+int(r)]++
}

func (t *tally) run(prog int) {
	if prog >= 0 && prog < len(t.runs) {
		t.runs[prog]++
	}
}

// Results of an XDP RX metadata kfunc, as the tally counts them.
const (
	rxMetaOK = iota
	rxMetaNoData
	rxMetaNotSupp
	rxMetaErr
	rxMetaZero // of rxMetaOK, a zero hint
	numRxMetaResults
)

func (t *tally) rxMetaCall(prog int, k netstack.RxMetaKfunc, ret int32, v uint64) {
	if ret == 0 && v == 0 {
		t.rxMetaCall(prog, k, -1, 0) // counted in rxMetaZero, below as OK
	}
	r := rxMetaOK
	switch ret {
	case 0:
	case -61: // ENODATA
		r = rxMetaNoData
	case -95: // EOPNOTSUPP
		r = rxMetaNotSupp
	case -1:
		r = rxMetaZero
	default:
		r = rxMetaErr
	}
	if i := (prog*int(netstack.NumRxMetaKfuncs)+int(k))*numRxMetaResults + r; prog >= 0 && i < len(t.rxMeta) {
		t.rxMeta[i]++
	}
}

// helperErrnos are the negative returns the tally tells apart, after the
// non-negative ones 0..9 (BPF_FIB_LKUP_RET_*); any other is counted last.
var helperErrnos = [...]int32{-22, -71, -19, -97} // EINVAL, EPROTO, ENODEV, EAFNOSUPPORT

const (
	helperNonNeg     = 10
	numHelperResults = helperNonNeg + len(helperErrnos) + 1
)

// helperResult is the tally's column for a helper's return.
func helperResult(ret int32) int {
	if ret >= 0 && ret < helperNonNeg {
		return int(ret)
	}
	for i, e := range helperErrnos {
		if ret == e {
			return helperNonNeg + i
		}
	}
	return numHelperResults - 1
}

// helperResultName names column r of helper h.
func helperResultName(h netstack.Helper, r int) string {
	switch {
	case r < helperNonNeg:
		return netstack.HelperResultName(h, r)
	case r < numHelperResults-1:
		return netstack.HelperResultName(h, int(helperErrnos[r-helperNonNeg]))
	}
	return "other error"
}

func (t *tally) helperCall(prog int, h netstack.Helper, ret int32) {
	if i := (prog*int(netstack.NumHelpers)+int(h))*numHelperResults + helperResult(ret); prog >= 0 && h < netstack.NumHelpers && i < len(t.helpers) {
		t.helpers[i]++
	}
}

func (t *tally) drop(reason int) {
	if reason >= 0 && reason < len(t.drops) {
		t.drops[reason]++
	}
}

func (t *tally) outcome(o int) {
	if o >= 0 && o < len(t.outcomes) {
		t.outcomes[o]++
	}
}

func (t *tally) merge(o *tally) {
	for i, v := range o.reads {
		t.reads[i] += v
	}
	for i, v := range o.runs {
		t.runs[i] += v
	}
	for i, v := range o.rxMeta {
		t.rxMeta[i] += v
	}
	for i, v := range o.helpers {
		t.helpers[i] += v
	}
	for i, v := range o.drops {
		t.drops[i] += v
	}
	for i, v := range o.outcomes {
		t.outcomes[i] += v
	}
}

// fill writes the tally's rows into the report: reads in program then map
// order (rows with no read left out), drops and outcomes by count, then
// name.
func (t *tally) fill(rep *Report) {
	l := t.layout
	rep.Reads = []ReadRow{}
	rep.Programs = []ProgramRow{}
	for p, pi := range l.progs {
		rep.Programs = append(rep.Programs, ProgramRow{Hook: pi.hook, Program: pi.name, Where: pi.where, Runs: t.runs[p]})
		for m, mn := range l.maps {
			c := t.reads[(p*len(l.maps)+m)*int(netstack.NumReadResults):]
			row := ReadRow{Hook: pi.hook, Program: pi.name, Where: pi.where, Map: mn,
				Found: c[netstack.ReadFound], Missing: c[netstack.ReadMissing], Refused: c[netstack.ReadRefused],
				Foreign: c[netstack.ReadForeign], Errors: c[netstack.ReadError]}
			if row.Total() > 0 {
				rep.Reads = append(rep.Reads, row)
			}
		}
	}
	for p, pi := range l.progs {
		for k := range netstack.NumRxMetaKfuncs {
			c := t.rxMeta[(p*int(netstack.NumRxMetaKfuncs)+int(k))*numRxMetaResults:]
			if c[rxMetaOK]+c[rxMetaNoData]+c[rxMetaNotSupp]+c[rxMetaErr] != 0 {
				rep.RxMeta = append(rep.RxMeta, RxMetaRow{Program: pi.name, Where: pi.where, Kfunc: k.String(),
					OK: c[rxMetaOK], Zero: c[rxMetaZero], ENODATA: c[rxMetaNoData], EOPNOTSUPP: c[rxMetaNotSupp], Errors: c[rxMetaErr]})
			}
		}
	}
	for p, pi := range l.progs {
		for h := range netstack.NumHelpers {
			i := (p*int(netstack.NumHelpers) + int(h)) * numHelperResults
			for r, n := range t.helpers[i : i+numHelperResults] {
				if n != 0 {
					rep.Helpers = append(rep.Helpers, HelperRow{Program: pi.name, Where: pi.where, Helper: h.String(),
						Result: helperResultName(h, r), Count: n})
				}
			}
		}
	}
	rep.Drops = countRows(l.drops, t.drops)
	rep.Outcomes = countRows(l.outcomes, t.outcomes)
}

func countRows(names []string, counts []uint64) []CountRow {
	rows := []CountRow{}
	for i, c := range counts {
		if c > 0 {
			rows = append(rows, CountRow{Name: names[i], Count: c})
		}
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].Count != rows[j].Count {
			return rows[i].Count > rows[j].Count
		}
		return rows[i].Name < rows[j].Name
	})
	return rows
}
