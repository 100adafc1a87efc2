package sim

import (
	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/netstack"
)

// EventRow is an event of the scenario: before which packet index it
// applies, and the command that makes it (ip-link(8), ip-address(8),
// ip-route(8)).
type EventRow struct {
	At      uint64 `json:"at"`
	Command string `json:"command"`
	Applied bool   `json:"applied"`
}

// Report is the outcome of a replay. Its JSON form is a contract other
// tools rely on: the top-level keys packets_read, complete,
// live_objects_at_end, allocations and (when incomplete) error keep their
// names and meaning.
type Report struct {
	Scenario string       `json:"scenario"`
	Design   string       `json:"design"`
	Kernel   string       `json:"kernel"`
	Shards   int          `json:"shards"`
	Files    []FileReport `json:"files"`
	// PacketsRead counts the packets read from the captures (all of them
	// replayed); for a damaged capture, the packets before the damage.
	PacketsRead int64 `json:"packets_read"`
	// Complete is false when a capture could not be read to its end.
	Complete bool `json:"complete"`
	// Error is the first capture error (one line), set when !Complete.
	Error string `json:"error,omitempty"`
	// Events are the scenario's events as the commands that make them;
	// one at or past the last packet read changed nothing (Applied
	// false). Left out when the scenario has none.
	Events []EventRow `json:"events,omitempty"`

	// Outcomes counts how each packet's path ended (delivered to a socket,
	// forwarded out of a device, dropped, consumed by XDP...).
	Outcomes []CountRow `json:"outcomes"`
	// Programs counts the runs of every program.
	Programs []ProgramRow `json:"programs"`
	// Reads lists, per program (hook and place) and map, what reads found.
	Reads []ReadRow `json:"reads"`
	// RxMeta counts, per XDP program and XDP RX metadata kfunc, the calls
	// by return: the hint, -ENODATA (none for this buffer), -EOPNOTSUPP
	// (the bound device's driver lacks the op) or another error (a Go
	// program the verifier would not load). Left out when no program
	// called one.
	RxMeta []RxMetaRow `json:"xdp_rx_metadata,omitempty"`
	// Helpers counts, per program and helper, the results of the helpers
	// the built-in actions call and report: bpf_fib_lookup (fib_forward:
	// SUCCESS, NO_NEIGH, FWD_DISABLED, ..., the BPF_FIB_LKUP_RET_ names)
	// and bpf_skb_get_tunnel_key (get_tunnel_key: OK, or EINVAL where the
	// skb carries no tunnel info). Left out when no program called one.
	Helpers []HelperRow `json:"helper_results,omitempty"`
	// Drops counts freed-with-a-reason skbs by kernel drop reason.
	Drops []CountRow `json:"drops"`

	Allocations Allocations `json:"allocations"`
	// Ops counts the primitive operations of the stack and the carrier.
	Ops []CountRow `json:"ops"`
	// Carrier counts what the design did that allocations do not show:
	// stores, lookups, misses, clone copies, evictions, stale reads.
	Carrier []CountRow `json:"carrier"`
	// Stack counts what GRO and software GSO made of the packets: segments
	// merged, aggregates (fraglist ones apart), GSO skbs cut and the
	// segments they became (skb_segment_list ones apart), skbs linearized
	// for a device or a generic XDP program, and skbs replaced by a
	// page-pool copy for XDP. Rows that are 0 are left out.
	Stack []CountRow `json:"stack"`

	// LiveObjectsAtEnd is the accountant's live objects after every shard's
	// stack and carrier were closed: 0 unless something leaked.
	LiveObjectsAtEnd int64 `json:"live_objects_at_end"`
	// Leaks describes every leaked skb, buffer, extension or allocation.
	Leaks []string `json:"leaks,omitempty"`
}

// FileReport is one capture of the run.
type FileReport struct {
	Name    string `json:"name"`
	Format  string `json:"format,omitempty"`
	Packets int64  `json:"packets"`
	// Padded counts the packets the capture cut short that were replayed
	// padded to their wire length (Options.PadTruncated).
	Padded int64  `json:"padded,omitempty"`
	Error  string `json:"error,omitempty"`
}

// CountRow is a named count.
type CountRow struct {
	Name  string `json:"name"`
	Count uint64 `json:"count"`
}

// ProgramRow counts the runs of one program.
type ProgramRow struct {
	Hook    string `json:"hook"`
	Program string `json:"program"`
	Where   string `json:"where"`
	Runs    uint64 `json:"runs"`
}

// Program returns the row of the program called name, or nil.
func (r *Report) Program(name string) *ProgramRow {
	for i := range r.Programs {
		if r.Programs[i].Program == name {
			return &r.Programs[i]
		}
	}
	return nil
}

// Read returns the read row of program prog and map m, or a zero row.
func (r *Report) Read(prog, m string) ReadRow {
	for _, rr := range r.Reads {
		if rr.Program == prog && rr.Map == m {
			return rr
		}
	}
	return ReadRow{Program: prog, Map: m}
}

// RxMetaCalls returns program prog's row for XDP RX metadata kfunc kfunc
// (rx_timestamp, rx_hash or rx_vlan_tag), or a zero row.
func (r *Report) RxMetaCalls(prog, kfunc string) RxMetaRow {
	for _, m := range r.RxMeta {
		if m.Program == prog && m.Kfunc == kfunc {
			return m
		}
	}
	return RxMetaRow{Program: prog, Kfunc: kfunc}
}

// Count returns the count of the row called name, or 0.
func Count(rows []CountRow, name string) uint64 {
	for _, r := range rows {
		if r.Name == name {
			return r.Count
		}
	}
	return 0
}

// ReadRow counts the reads of one map by one program.
type ReadRow struct {
	Hook    string `json:"hook"`
	Program string `json:"program"`
	Where   string `json:"where"`
	Map     string `json:"map"`
	Found   uint64 `json:"found"`
	Missing uint64 `json:"missing"`
	Refused uint64 `json:"refused"`
	Foreign uint64 `json:"foreign"`
	Errors  uint64 `json:"errors"`
}

// HelperResults returns how many of program prog's calls of helper (such
// as "bpf_fib_lookup") returned result (such as "SUCCESS", "OK" or
// "EINVAL").
func (r *Report) HelperResults(prog, helper, result string) uint64 {
	for _, f := range r.Helpers {
		if f.Program == prog && f.Helper == helper && f.Result == result {
			return f.Count
		}
	}
	return 0
}

// HelperRow counts one program's calls of one helper with one result.
type HelperRow struct {
	Program string `json:"program"`
	Where   string `json:"where"`
	Helper  string `json:"helper"`
	Result  string `json:"result"`
	Count   uint64 `json:"count"`
}

// RxMetaRow counts one program's calls of one XDP RX metadata kfunc.
type RxMetaRow struct {
	Program    string `json:"program"`
	Where      string `json:"where"`
	Kfunc      string `json:"kfunc"`
	OK         uint64 `json:"ok"`
	Zero       uint64 `json:"ok_zero"` // of OK, the calls whose hint was 0 (a veth's timestamp of an skb no NIC stamped)
	ENODATA    uint64 `json:"enodata"`
	EOPNOTSUPP uint64 `json:"eopnotsupp"`
	Errors     uint64 `json:"errors"`
}

// Total is the number of reads in the row.
func (r *ReadRow) Total() uint64 { return r.Found + r.Missing + r.Refused + r.Foreign + r.Errors }

// Allocations summarises the modelled kernel allocations of the run.
type Allocations struct {
	Allocs         uint64 `json:"allocs"`
	Frees          uint64 `json:"frees"`
	DeferredFrees  uint64 `json:"deferred_frees"`
	Failed         uint64 `json:"failed"`
	BytesRequested uint64 `json:"bytes_requested"`
	BytesOccupied  uint64 `json:"bytes_occupied"`
	// Per packet: Allocs and BytesOccupied divided by PacketsRead.
	AllocsPerPacket float64 `json:"allocs_per_packet"`
	BytesPerPacket  float64 `json:"bytes_per_packet"`
	// PeakLiveObjects and PeakLiveBytes add the shards' peaks: an upper
	// bound of the peak of one machine running all shards at once, and the
	// same whatever the number of workers.
	PeakLiveObjects int64       `json:"peak_live_objects"`
	PeakLiveBytes   int64       `json:"peak_live_bytes"`
	ByClass         []AllocRow  `json:"by_class"`
	BySite          []AllocRow  `json:"by_site"`
	raw             *kmem.Stats `json:"-"`
}

// AllocRow is the traffic of one size class or call site.
type AllocRow struct {
	Name           string `json:"name"`
	Allocs         uint64 `json:"allocs"`
	Frees          uint64 `json:"frees"`
	DeferredFrees  uint64 `json:"deferred_frees"`
	Failed         uint64 `json:"failed"`
	BytesRequested uint64 `json:"bytes_requested"`
	BytesOccupied  uint64 `json:"bytes_occupied"`
}

func allocRow(name string, c *kmem.Counter) AllocRow {
	return AllocRow{Name: name, Allocs: c.Allocs, Frees: c.Frees, DeferredFrees: c.DeferredFrees,
		Failed: c.Failed, BytesRequested: c.BytesRequested, BytesOccupied: c.BytesOccupied}
}

func (c *AllocRow) empty() bool {
	return c.Allocs == 0 && c.Failed == 0 && c.Frees == 0 && c.DeferredFrees == 0
}

// allocations turns merged accountant stats into the report's form.
func allocations(st *kmem.Stats, packets int64) Allocations {
	a := Allocations{
		Allocs: st.Total.Allocs, Frees: st.Total.Frees, DeferredFrees: st.Total.DeferredFrees,
		Failed: st.Total.Failed, BytesRequested: st.Total.BytesRequested, BytesOccupied: st.Total.BytesOccupied,
		PeakLiveObjects: st.PeakObjects, PeakLiveBytes: st.PeakBytes,
		ByClass: []AllocRow{}, BySite: []AllocRow{},
	}
	if packets > 0 {
		a.AllocsPerPacket = round3(float64(a.Allocs) / float64(packets))
		a.BytesPerPacket = round3(float64(a.BytesOccupied) / float64(packets))
	}
	for i := range st.ByClass {
		if r := allocRow(kmem.ClassName(i), &st.ByClass[i]); !r.empty() {
			a.ByClass = append(a.ByClass, r)
		}
	}
	for i := 0; i < kmem.NumSites() && i < kmem.MaxSites; i++ {
		if r := allocRow(kmem.Site(i).String(), &st.BySite[i]); !r.empty() {
			a.BySite = append(a.BySite, r)
		}
	}
	return a
}

func round3(f float64) float64 {
	return float64(int64(f*1000+0.5)) / 1000
}

func opRows(c *cost.Counts) []CountRow {
	rows := []CountRow{}
	for op := cost.Op(0); op < cost.NumOps; op++ {
		if c[op] != 0 {
			rows = append(rows, CountRow{Name: op.String(), Count: c[op]})
		}
	}
	return rows
}

func carrierRows(st *carrier.Stats) []CountRow {
	rows := []CountRow{}
	for _, r := range []CountRow{
		{"stores", st.Stores}, {"lookups", st.Lookups}, {"deletes", st.Deletes},
		{"misses", st.Misses}, {"errors", st.Errors},
		{"clone_copies", st.CloneCopies}, {"clone_copy_failures", st.CloneCopyFailures},
		{"reaper_runs", st.ReaperRuns}, {"reaped", st.Reaped}, {"reaper_missed", st.ReaperMissed},
		{"evictions", st.Evictions}, {"stale_reads", st.StaleReads}, {"lost", st.Lost},
	} {
		if r.Count != 0 {
			rows = append(rows, r)
		}
	}
	return rows
}

// stackRows are the non-zero GRO, GSO, linearization and XDP copy
// counters of st.
func stackRows(st *netstack.Stats) []CountRow {
	rows := []CountRow{}
	for _, r := range []CountRow{
		{"gro_merged_segments", st.GROMerged}, {"gro_aggregates", st.GROAggregates},
		{"gro_fraglist_aggregates", st.GROFraglist}, {"gso_segmented", st.GSOSegmented},
		{"gso_segment_list", st.GSOSegmentList}, {"gso_segments", st.GSOSegments},
		{"linearized", st.Linearized}, {"xdp_page_pool_copies", st.XDPCopies},
		{"gro_csum_bad", st.GROCsumBad}, {"cpumap_queued", st.CpumapQueued},
		{"above_mtu_cut", st.RxCut}, {"above_mtu_cut_frames", st.RxCutFrames},
		{"above_mtu_gro_hw", st.RxGROHW}, {"above_mtu_dropped", st.RxOversize},
	} {
		if r.Count != 0 {
			rows = append(rows, r)
		}
	}
	return rows
}

func mergeCarrierStats(dst, src *carrier.Stats) {
	dst.Stores += src.Stores
	dst.Lookups += src.Lookups
	dst.Deletes += src.Deletes
	dst.Misses += src.Misses
	dst.Errors += src.Errors
	dst.CloneCopies += src.CloneCopies
	dst.CloneCopyFailures += src.CloneCopyFailures
	dst.ReaperRuns += src.ReaperRuns
	dst.Reaped += src.Reaped
	dst.ReaperMissed += src.ReaperMissed
	dst.Evictions += src.Evictions
	dst.StaleReads += src.StaleReads
	dst.Lost += src.Lost
}
