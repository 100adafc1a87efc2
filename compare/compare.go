package compare

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"

	"github.com/skbsim/skbsim/capture"
	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/localstorage"
	"github.com/skbsim/skbsim/netstack"
	"github.com/skbsim/skbsim/sim"
)

// BaselineDesign is the design the no-metadata baseline runs under. With
// every map action removed no design does any work, except designs that
// hook the skb's life whatever the programs do (the skb-hash reaper); the
// XDP metadata area hooks nothing.
const BaselineDesign = carrier.NameXDPMeta

// Options tune a comparison.
type Options struct {
	// Costs prices the operations; nil means cost.Default().
	Costs *cost.Table
	// CostsName says where Costs came from ("default" when Costs is nil).
	CostsName string
	// Workers, IgnoreChecksums and PadTruncated are passed to every
	// sim.Replay.
	Workers         int
	IgnoreChecksums bool
	PadTruncated    bool
}

// Range is an estimate in nanoseconds with its spread (cost.Range).
type Range struct {
	NS   float64 `json:"ns"`
	Low  float64 `json:"low"`
	High float64 `json:"high"`
}

// Result is a comparison of designs over the same traffic. Its JSON form
// is documented in the package documentation; field names are stable.
type Result struct {
	Scenario string   `json:"scenario"`
	Kernel   string   `json:"kernel"`
	Files    []string `json:"files"`
	// Packets is the number of packets every design replayed.
	Packets int64 `json:"packets"`
	// Complete is false when a capture could not be read to its end; every
	// design then saw the packets before the damage, and Error says where.
	Complete bool   `json:"complete"`
	Error    string `json:"error,omitempty"`
	// Costs names the cost table and counts its entries by provenance.
	Costs CostInfo `json:"costs"`
	// Baseline is the same traffic with every map action removed.
	Baseline Baseline `json:"baseline"`
	// ReadPoints are the (program, map) pairs whose reads the designs'
	// Survival lists follow, in the order the reports list them.
	ReadPoints []ReadPoint    `json:"read_points"`
	Designs    []DesignResult `json:"designs"`
}

// CostInfo describes the cost table used.
type CostInfo struct {
	Name string `json:"name"`
	// Sources counts the table's entries (operations, allocation and free
	// size classes) per provenance: measured, benchmark, derived, estimate.
	Sources map[string]int `json:"sources"`
}

// Baseline is the no-metadata run: the stack's own work per packet.
type Baseline struct {
	Design          string  `json:"design"`
	AllocsPerPacket float64 `json:"allocs_per_packet"`
	BytesPerPacket  float64 `json:"bytes_per_packet"`
	PeakLiveBytes   int64   `json:"peak_live_bytes"`
	NSPerPacket     Range   `json:"ns_per_packet"`
}

// ReadPoint is one program's reads of one map.
type ReadPoint struct {
	Hook    string `json:"hook"`
	Program string `json:"program"`
	Where   string `json:"where"`
	Map     string `json:"map"`
}

// String is "program:map".
func (p ReadPoint) String() string { return p.Program + ":" + p.Map }

// DesignResult is one design's outcome. Per-packet figures are the
// design's share: its run minus its map creation and teardown (the same
// scenario over an empty capture) minus the baseline's traffic.
type DesignResult struct {
	// Design is the label as given ("rfc:cache=4"); Carrier the design.
	Design  string `json:"design"`
	Carrier string `json:"carrier"`
	// CacheSize is the effective storage cache size of the rfc designs;
	// Capacity the effective max_entries of the hash designs.
	CacheSize int `json:"cache_size,omitempty"`
	Capacity  int `json:"capacity,omitempty"`
	// Refused is set, and every figure zero, when the design cannot run
	// the scenario at all (a map flag or value size it does not support).
	Refused string `json:"refused,omitempty"`
	// Leak is set when the run's leak check failed.
	Leak string `json:"leak,omitempty"`

	AllocsPerPacket float64 `json:"allocs_per_packet"`
	BytesPerPacket  float64 `json:"bytes_per_packet"`
	// SetupAllocs and SetupBytes are allocated once, at map creation.
	SetupAllocs uint64 `json:"setup_allocs"`
	SetupBytes  uint64 `json:"setup_bytes"`
	// PeakLiveBytes is the whole run's peak (skbs, map memory and
	// metadata; summed over flow shards).
	PeakLiveBytes int64 `json:"peak_live_bytes"`
	// NSPerPacket is the design's share priced with the cost table;
	// PathNSPerPacket the whole modelled path (stack and design).
	NSPerPacket     Range `json:"ns_per_packet"`
	PathNSPerPacket Range `json:"path_ns_per_packet"`
	// Survival is parallel to Result.ReadPoints.
	Survival []Survival `json:"survival"`
	Lost     Lost       `json:"lost"`
	// OpsPerPacket are the design's share of each priced operation, and
	// NSByOp what each contributes to NSPerPacket.NS (allocations of every
	// size class under kmalloc, frees under kfree, RCU deferrals under
	// kfree_rcu), largest first.
	OpsPerPacket []OpRate `json:"ops_per_packet"`
	NSByOp       []OpCost `json:"ns_by_op"`
	// Counters are the design's own counters (sim.Report.Carrier).
	Counters []sim.CountRow `json:"counters"`
}

// Survival is what the reads at one read point found.
type Survival struct {
	Reads uint64 `json:"reads"`
	Found uint64 `json:"found"`
	// Share is Found/Reads, null when the program never read.
	Share *float64 `json:"share"`
}

// Lost counts the ways metadata was not where a program looked for it.
type Lost struct {
	// Missing, Refused, Foreign and ReadErrors add up the reads of every
	// read point (sim.ReadRow).
	Missing    uint64 `json:"missing"`
	Refused    uint64 `json:"refused"`
	Foreign    uint64 `json:"foreign"`
	ReadErrors uint64 `json:"read_errors"`
	// Evictions, StaleReads, Lost, CloneCopyFailures and FailedOps are the
	// design's counters (carrier.Stats): LRU evictions, reads of an earlier
	// skb's value, metadata bytes overwritten or moved, clone copies not
	// allocated, and every failed lookup, store or delete but ENOENT.
	Evictions         uint64 `json:"evictions"`
	StaleReads        uint64 `json:"stale_reads"`
	Lost              uint64 `json:"lost"`
	CloneCopyFailures uint64 `json:"clone_copy_failures"`
	FailedOps         uint64 `json:"failed_ops"`
}

// OpCost is one operation's part of a design's ns per packet.
type OpCost struct {
	Op          string  `json:"op"`
	NSPerPacket float64 `json:"ns_per_packet"`
}

// OpRate is one operation per packet.
type OpRate struct {
	Op        string  `json:"op"`
	PerPacket float64 `json:"per_packet"`
}

// Run replays files through s once per design, with the design and its
// options swapped in, plus the baseline and each design's map creation
// over an empty capture, and prices what each design added. An error
// about the scenario or the captures (the baseline cannot run) is
// returned without a result; a damaged capture gives a result with
// Complete false and the capture error. A design that cannot run the
// scenario is reported in its DesignResult.Refused.
func Run(s *sim.Scenario, files []string, designs []Design, opts Options) (*Result, error) {
	if len(designs) == 0 {
		return nil, fmt.Errorf("compare: no designs: %w", ErrDesign)
	}
	tab := cost.Default()
	name := "default (embedded cost/default.yaml)"
	if opts.Costs != nil {
		tab = *opts.Costs
		name = opts.CostsName
	}
	if err := tab.Validate(); err != nil {
		return nil, fmt.Errorf("compare: cost table %s: %w", name, err)
	}
	up := unitPrices(&tab)
	dir, err := os.MkdirTemp("", "skbsim-compare-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	empty, err := writeEmptyCapture(dir)
	if err != nil {
		return nil, err
	}
	sopts := sim.Options{Workers: opts.Workers, IgnoreChecksums: opts.IgnoreChecksums, PadTruncated: opts.PadTruncated}

	res := &Result{Scenario: s.Name, Kernel: s.Kernel, Files: files, Complete: true,
		Costs: CostInfo{Name: name, Sources: sources(&tab)}, ReadPoints: []ReadPoint{}, Designs: []DesignResult{}}
	// The baseline: errors here are the scenario's or the captures'.
	bs := baselineScenario(s)
	baseRun, runErr := sim.Replay(bs, files, sopts)
	if baseRun == nil {
		return nil, runErr
	}
	if runErr != nil {
		var ce *capture.Error
		if !errors.As(runErr, &ce) {
			return nil, runErr
		}
		res.Complete, res.Error = false, baseRun.Error
	}
	if res.Kernel == "" {
		res.Kernel = baseRun.Kernel
	}
	baseSetup, err := sim.Replay(bs, []string{empty}, sopts)
	if err != nil {
		return nil, fmt.Errorf("compare: baseline map creation: %w", err)
	}
	res.Packets = baseRun.PacketsRead
	perPacket := func(v float64) float64 {
		if res.Packets == 0 {
			return 0
		}
		return v / float64(res.Packets)
	}
	baseTraffic := tallyOf(baseRun).sub(tallyOf(baseSetup))
	res.Baseline = Baseline{Design: BaselineDesign,
		AllocsPerPacket: round3(perPacket(baseTraffic.allocs)),
		BytesPerPacket:  round3(perPacket(baseTraffic.bytes)),
		PeakLiveBytes:   baseRun.Allocations.PeakLiveBytes,
		NSPerPacket:     scale(up.price(&baseTraffic), perPacket),
	}

	points := map[ReadPoint]int{}
	reports := make([]*sim.Report, len(designs))
	for i, d := range designs {
		ds := s.Copy()
		ds.Design = d.Name
		ds.Carrier = d.apply(ds.Carrier)
		dr := DesignResult{Design: d.Label, Carrier: d.Name, Survival: []Survival{},
			OpsPerPacket: []OpRate{}, NSByOp: []OpCost{}, Counters: []sim.CountRow{}}
		if isRFC(d.Name) {
			dr.CacheSize = ds.Carrier.CacheSize
			if dr.CacheSize == 0 {
				dr.CacheSize = localstorage.DefaultCacheSize
			}
		}
		if isHash(d.Name) {
			dr.Capacity = ds.Carrier.Capacity
			if dr.Capacity == 0 {
				dr.Capacity = carrier.DefaultCapacity
			}
		}
		setup, err := sim.Replay(ds, []string{empty}, sopts)
		if err != nil {
			dr.Refused = err.Error()
			res.Designs = append(res.Designs, dr)
			continue
		}
		run, err := sim.Replay(ds, files, sopts)
		if run == nil {
			dr.Refused = err.Error()
			res.Designs = append(res.Designs, dr)
			continue
		}
		reports[i] = run
		if run.LiveObjectsAtEnd != 0 || len(run.Leaks) != 0 {
			dr.Leak = fmt.Sprintf("%d live objects after close", run.LiveObjectsAtEnd)
		}
		traffic := tallyOf(run).sub(tallyOf(setup))
		share := traffic.sub(baseTraffic)
		dr.AllocsPerPacket = round3(perPacket(share.allocs))
		dr.BytesPerPacket = round3(perPacket(share.bytes))
		dr.SetupAllocs = setup.Allocations.Allocs
		dr.SetupBytes = setup.Allocations.BytesOccupied
		dr.PeakLiveBytes = run.Allocations.PeakLiveBytes
		dr.NSPerPacket = scale(up.price(&share), perPacket)
		dr.PathNSPerPacket = scale(up.price(&traffic), perPacket)
		dr.OpsPerPacket = opRates(&share, perPacket)
		dr.NSByOp = opCosts(up.breakdown(&share), perPacket)
		dr.Counters = append(dr.Counters, run.Carrier...)
		dr.Lost = Lost{
			Evictions: sim.Count(run.Carrier, "evictions"), StaleReads: sim.Count(run.Carrier, "stale_reads"),
			Lost: sim.Count(run.Carrier, "lost"), CloneCopyFailures: sim.Count(run.Carrier, "clone_copy_failures"),
			FailedOps: sim.Count(run.Carrier, "errors"),
		}
		for _, r := range run.Reads {
			p := ReadPoint{Hook: r.Hook, Program: r.Program, Where: r.Where, Map: r.Map}
			if _, ok := points[p]; !ok {
				points[p] = len(res.ReadPoints)
				res.ReadPoints = append(res.ReadPoints, p)
			}
			dr.Lost.Missing += r.Missing
			dr.Lost.Refused += r.Refused
			dr.Lost.Foreign += r.Foreign
			dr.Lost.ReadErrors += r.Errors
		}
		res.Designs = append(res.Designs, dr)
	}
	// Survival, parallel to the read points every design saw.
	for i := range res.Designs {
		dr := &res.Designs[i]
		if reports[i] == nil {
			continue
		}
		dr.Survival = make([]Survival, len(res.ReadPoints))
		for _, r := range reports[i].Reads {
			sv := &dr.Survival[points[ReadPoint{Hook: r.Hook, Program: r.Program, Where: r.Where, Map: r.Map}]]
			sv.Reads += r.Total()
			sv.Found += r.Found
		}
		for j := range dr.Survival {
			if sv := &dr.Survival[j]; sv.Reads > 0 {
				v := round3(float64(sv.Found) / float64(sv.Reads))
				sv.Share = &v
			}
		}
	}
	if !res.Complete {
		return res, runErr
	}
	return res, nil
}

// Design returns the result of the design labelled label, or nil.
func (r *Result) Design(label string) *DesignResult {
	for i := range r.Designs {
		if r.Designs[i].Design == label {
			return &r.Designs[i]
		}
	}
	return nil
}

// baselineScenario is s without any map read, write or delete and without
// map flags (which some designs refuse), under BaselineDesign: the same
// programs run at the same hooks, the same skbs live and die, and no
// metadata is kept anywhere.
func baselineScenario(s *sim.Scenario) *sim.Scenario {
	bs := s.Copy()
	bs.Design = BaselineDesign
	for i := range bs.Maps {
		bs.Maps[i].Flags = 0
	}
	for i := range bs.Stack.Programs {
		p := &bs.Stack.Programs[i]
		kept := p.Actions[:0]
		for _, a := range p.Actions {
			switch a.Kind {
			case netstack.ActWrite, netstack.ActRead, netstack.ActDelete:
			default:
				kept = append(kept, a)
			}
		}
		p.Actions = kept
	}
	return bs
}

// writeEmptyCapture writes a pcap file header and no packet: replaying it
// creates and frees the scenario's maps and nothing else.
func writeEmptyCapture(dir string) (string, error) {
	var h [24]byte
	binary.LittleEndian.PutUint32(h[0:], 0xa1b2c3d4) // microsecond pcap
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], 65535)
	binary.LittleEndian.PutUint32(h[20:], 1) // LINKTYPE_ETHERNET
	path := filepath.Join(dir, "empty.pcap")
	return path, os.WriteFile(path, h[:], 0o644)
}

func sources(t *cost.Table) map[string]int {
	m := map[string]int{}
	for i := range t.Ops {
		m[string(t.Ops[i].Source)]++
	}
	for i := range t.Alloc {
		m[string(t.Alloc[i].Source)]++
		m[string(t.Free[i].Source)]++
	}
	return m
}

func opRates(t *tally, per func(float64) float64) []OpRate {
	rows := []OpRate{}
	add := func(name string, v float64) {
		if v = round3(per(v)); v != 0 {
			rows = append(rows, OpRate{Op: name, PerPacket: v})
		}
	}
	var allocs, frees float64
	for i := range t.allocClass {
		allocs += t.allocClass[i]
		frees += t.freeClass[i]
	}
	add(cost.OpKmalloc.String(), allocs+t.allocOther)
	add(cost.OpKfree.String(), frees+t.freeOther-t.deferrals)
	add(cost.OpKfreeRCU.String(), t.deferrals)
	for op := cost.Op(0); op < cost.NumOps; op++ {
		add(op.String(), t.ops[op])
	}
	return rows
}

func opCosts(b [cost.NumOps]float64, per func(float64) float64) []OpCost {
	rows := []OpCost{}
	for op := cost.Op(0); op < cost.NumOps; op++ {
		if v := round1(per(b[op])); v != 0 {
			rows = append(rows, OpCost{Op: op.String(), NSPerPacket: v})
		}
	}
	sort.SliceStable(rows, func(i, j int) bool { return math.Abs(rows[i].NSPerPacket) > math.Abs(rows[j].NSPerPacket) })
	return rows
}

func scale(r cost.Range, per func(float64) float64) Range {
	return Range{NS: round1(per(r.NS)), Low: round1(per(r.Low)), High: round1(per(r.High))}
}

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }
func round1(f float64) float64 { return math.Round(f*10) / 10 }
