package calibrate

import (
	"fmt"
	"sort"
	"time"

	"github.com/skbsim/skbsim/cost"
)

// Options bound a calibration run. Zero fields take the defaults of
// [DefaultOptions].
type Options struct {
	// Iterations is the number of operations per phase and round for the
	// map, lock, copy, helper and walk phases.
	Iterations int
	// StorageIterations is the number of create/delete pairs and lookups
	// per storage phase up to kmalloc-1024; BigStorageIterations from
	// kmalloc-2048 (large elements stay pending for an RCU Tasks Trace grace
	// period, so fewer are used).
	StorageIterations, BigStorageIterations int
	// SyscallIterations is the number of getpgid calls per tracepoint sample
	// (with and without the tp_btf program).
	SyscallIterations int
	// ProgRunRepeat is the BPF_PROG_TEST_RUN repeat count for the empty
	// program.
	ProgRunRepeat int
	// MinRounds and MaxRounds bound the measured rounds (a warm-up round is
	// run first and discarded). MaxTime bounds the whole run; at least
	// MinRounds are run even past it.
	MinRounds, MaxRounds int
	MaxTime              time.Duration
	// TargetSpread stops the run once every entry's p10..p90 width is at
	// most TargetSpread × its median (or its absolute floor: 1 ns, 0.5 ns
	// for a list walk step, 0.005 ns for a copied byte).
	TargetSpread float64
	// Base supplies the entries that cannot be measured from BPF; nil means
	// cost.Default().
	Base *cost.Table
	// Logf, if set, receives one line per round.
	Logf func(format string, args ...any)
}

// DefaultOptions is a full calibration: a few seconds on a 2-CPU machine.
func DefaultOptions() Options {
	return Options{
		Iterations: 4096, StorageIterations: 1024, BigStorageIterations: 128,
		SyscallIterations: 20000, ProgRunRepeat: 20000,
		MinRounds: 7, MaxRounds: 40, MaxTime: 30 * time.Second, TargetSpread: 0.10,
	}
}

// ShortOptions is a quick run for tests: structure, not precision.
func ShortOptions() Options {
	return Options{
		Iterations: 1024, StorageIterations: 256, BigStorageIterations: 32,
		SyscallIterations: 5000, ProgRunRepeat: 5000,
		MinRounds: 3, MaxRounds: 5, MaxTime: 10 * time.Second, TargetSpread: 0.25,
	}
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	set := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	set(&o.Iterations, d.Iterations)
	set(&o.StorageIterations, d.StorageIterations)
	set(&o.BigStorageIterations, d.BigStorageIterations)
	set(&o.SyscallIterations, d.SyscallIterations)
	set(&o.ProgRunRepeat, d.ProgRunRepeat)
	set(&o.MinRounds, d.MinRounds)
	set(&o.MaxRounds, d.MaxRounds)
	if o.MaxRounds < o.MinRounds {
		o.MaxRounds = o.MinRounds
	}
	if o.MaxTime <= 0 {
		o.MaxTime = d.MaxTime
	}
	if o.TargetSpread <= 0 {
		o.TargetSpread = d.TargetSpread
	}
	return o
}

// Stat is one measured quantity in nanoseconds per operation (per byte for
// memcpy_byte) over the measured rounds, after overhead subtraction.
type Stat struct {
	Name             string
	Median, P10, P90 float64
	Rounds           int
}

func (s Stat) String() string {
	return fmt.Sprintf("%s: %.4g ns (p10 %.4g, p90 %.4g, %d rounds)", s.Name, s.Median, s.P10, s.P90, s.Rounds)
}

// Report is the outcome of a calibration: the table and every quantity
// behind it, including those the table does not hold. Stats names:
//
//   - the table's ops by name (hash_insert, lock, ...), "kmalloc/<class>"
//     and kfree_rcu;
//   - raw phases: loop_iteration (empty bpf_loop iteration, subtracted),
//     ktime_interval (two clock reads, subtracted from split timings),
//     empty_net (a second empty loop net of the first: ~0), spin_lock_pair,
//     copy_small, copy_big, walk_shallow, walk_deep, lru_evict_insert,
//     hash_pair_distinct (hash_insert + hash_delete);
//   - storage: sk_lookup, sk_first_create, sk_first_delete,
//     "sk_create/<class>", "sk_delete/<class>", task_lookup, task_create,
//     task_delete, task_first_create, task_first_delete, task_elem_alloc;
//   - cross-checks: check/hash_pair_phase and check/hash_pair_testrun (the
//     same insert+delete pairs timed in-program and by BPF_PROG_TEST_RUN),
//     check/sk_pair_split and check/sk_pair_testrun (likewise for sk
//     storage), check/storage_alloc (first create minus a later create:
//     the bpf_local_storage allocation, comparable to kmalloc/kmalloc-192).
type Report struct {
	Table     cost.Table
	Stats     []Stat // sorted by name
	Rounds    int    // measured rounds (the warm-up round excluded)
	Converged bool   // every entry met TargetSpread before MaxRounds/MaxTime
	Elapsed   time.Duration
	Kernel    string // uname -r
	LoadAvg   string // /proc/loadavg 1-minute figure at the start ("" if unreadable)
	// RaisedPriority says whether the measuring thread ran at nice -20.
	RaisedPriority bool
}

// Stat returns the quantity called name.
func (r *Report) Stat(name string) (Stat, bool) {
	i := sort.Search(len(r.Stats), func(i int) bool { return r.Stats[i].Name >= name })
	if i < len(r.Stats) && r.Stats[i].Name == name {
		return r.Stats[i], true
	}
	return Stat{}, false
}

// WriteTable saves t to path (cost.Save), for a command that ran Run.
func WriteTable(path string, t cost.Table) error {
	return cost.Save(path, &t)
}
