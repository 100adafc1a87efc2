package calibrate

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/kmem"
)

// skValueSizes are the value sizes of calib.c's sk_c0..sk_c9 maps. An
// element takes 72 + value bytes (offsetof(struct bpf_local_storage_elem,
// sdata.data)), so they land in kmalloc-96 ... kmalloc-8192 and
// kmalloc_large.
var skValueSizes = [...]int{8, 56, 120, 184, 440, 952, 1976, 4024, 8120, 16312}

// selemHeader is offsetof(struct bpf_local_storage_elem, sdata.data) on
// x86-64 (see kernel_local_storage.md §2.1).
const selemHeader = 72

// walkKeys is the number of colliding keys chained in bucket 0 of the
// zero-seed walk map; walkBuckets is its max_entries (= buckets).
const (
	walkKeys    = 32
	walkBuckets = 64
	copySmall   = 64
	copyBig     = 4096
	csumSmall   = 4     // CSUM_SMALL in calib.c
	csumBig     = 4096  // CSUM_BIG in calib.c
	hashMax     = 16384 // HASH_MAX in calib.c
	tpBatch     = 100   // getpgid calls per timed batch
	checkRepeat = 8     // BPF_PROG_TEST_RUN repeat of the cross-check programs
)

// skClasses are the size classes that calib.c's sk_c0..sk_c9 maps reach.
func skClasses() []int {
	out := make([]int, len(skValueSizes))
	for i, vs := range skValueSizes {
		out[i] = kmem.ClassIndex(selemHeader + vs)
	}
	return out
}

// derive adds the quantities computed from the raw phases of one round.
func derive(v map[string]float64) {
	v["lock"] = v["spin_lock_pair"] - 2*v["helper_call"]
	v["memcpy_byte"] = (v["copy_big"] - v["copy_small"]) / float64(copyBig-copySmall)
	v["csum_byte"] = (v["csum_big"] - v["csum_small"]) / float64(csumBig-csumSmall)
	v["list_walk_step"] = (v["walk_deep"] - v["walk_shallow"]) / float64(walkKeys-1)
	v["lru_evict"] = v["lru_evict_insert"] - v["lru_insert"]
	v["storage_cache_hit"] = v["sk_lookup"] - v["helper_call"]
	v["hash_pair_distinct"] = v["hash_insert"] + v["hash_delete"]
	v["check/sk_pair_split"] = v["sk_create/kmalloc-96"] + v["sk_delete/kmalloc-96"]
	fixedCreate := v["helper_call"] + 2*v["lock"] + 2*v["list_walk_step"]
	fixedDelete := v["helper_call"] + 2*v["lock"] + v["list_walk_step"]
	var deferral []float64
	for _, c := range skClasses() {
		name := cost.SizeClassName(c)
		v["kmalloc/"+name] = v["sk_create/"+name] - fixedCreate
		if c <= kmem.ClassIndex(1024) {
			deferral = append(deferral, v["sk_delete/"+name]-fixedDelete)
		}
	}
	sort.Float64s(deferral)
	v["kfree_rcu"] = quantile(deferral, 0.5)
	// the first create also allocates the bpf_local_storage (184 B,
	// kmalloc-192) and publishes it with a cmpxchg: compare with
	// kmalloc/kmalloc-192
	v["check/storage_alloc"] = v["sk_first_create"] - v["sk_create/kmalloc-96"]
	// task storage elements come from kmalloc_nolock (reported only)
	v["task_elem_alloc"] = v["task_create"] - fixedCreate
}

// measuredOps are the table entries measured directly, with their method.
var measuredOps = []struct {
	op   cost.Op
	note string
}{
	{cost.OpHelperCall, "bpf_get_numa_node_id() in a bpf_loop body of a tc program (BPF_PROG_TEST_RUN) minus the empty loop iteration"},
	{cost.OpHashInsert, "bpf_map_update_elem(BPF_NOEXIST) of new keys into a preallocated BPF_MAP_TYPE_HASH (key 8 B, value 16 B, 16384 entries) from a tc program's bpf_loop, minus the empty iteration; includes the program-side call"},
	{cost.OpHashLookup, "bpf_map_lookup_elem of present keys, BPF_MAP_TYPE_HASH as hash_insert, minus the empty iteration"},
	{cost.OpHashDelete, "bpf_map_delete_elem of present keys, BPF_MAP_TYPE_HASH as hash_insert, minus the empty iteration"},
	{cost.OpLRUInsert, "bpf_map_update_elem(BPF_NOEXIST) of new keys into a BPF_MAP_TYPE_LRU_HASH of 16384 entries that never fills, minus the empty iteration"},
	{cost.OpLRULookup, "bpf_map_lookup_elem of present keys in the LRU_HASH (sets the ref bit), minus the empty iteration"},
	{cost.OpLRUDelete, "bpf_map_delete_elem of present keys in the LRU_HASH, minus the empty iteration"},
	{cost.OpPercpuLRUInsert, "bpf_map_update_elem(BPF_NOEXIST) into a BPF_MAP_TYPE_LRU_PERCPU_HASH of 16384 entries (value 16 B per CPU), minus the empty iteration"},
	{cost.OpPercpuLRULookup, "bpf_map_lookup_elem in the LRU_PERCPU_HASH, minus the empty iteration"},
	{cost.OpPercpuLRUDelete, "bpf_map_delete_elem in the LRU_PERCPU_HASH, minus the empty iteration"},
	{cost.OpLRUEvict, "insert of new keys into a BPF_MAP_TYPE_LRU_HASH of 16384 entries filled beforehand (every insert evicts; bpf_lru_pop_free shrinks the inactive list in batches) minus lru_insert into the same-sized LRU that never fills"},
	{cost.OpLock, "bpf_spin_lock + bpf_spin_unlock on an array map value (irqsave spinlock pair) minus 2 helper_call"},
	{cost.OpMemcpyByte, "(array map update with a 4096-byte value minus with a 64-byte value) / 4032 bytes: copy_map_value() slope"},
	{cost.OpCsumByte, "(bpf_csum_diff(NULL, 0, map value, 4096, 0) minus over 4 bytes) / 4092 bytes: csum_partial() slope"},
	{cost.OpListWalk, "lookup of the bottom key of a 32-key chain in bucket 0 of a BPF_F_ZERO_SEED hash (colliding keys found with jhash2) minus the top key, / 31 steps"},
	{cost.OpStorageCacheHit, "bpf_sk_storage_get(no create) of an existing element on the cgroup_skb test-run socket (cache slot hit) minus the empty iteration and helper_call"},
	{cost.OpProgRun, "BPF_PROG_TEST_RUN of an empty tc program with repeat: kernel-reported ns per run (includes the test-run loop)"},
	{cost.OpTracepointRun, "getpgid() with two tp_btf/sys_enter programs attached minus with one (the slow syscall path an enabled sys_enter forces is in both): p10 of 100-call batch means in each state; the second program counts this process's getpgid calls"},
}

// buildTable makes the cost table from the round statistics. Entries BPF
// cannot reach come from base.
func buildTable(rep *Report, base *cost.Table, start time.Time, o Options) (cost.Table, error) {
	t := *base
	date := start.UTC().Format("2006-01-02")
	t.Name = fmt.Sprintf("measured %s %s", rep.Kernel, date)
	spread := func(n int) string {
		s := fmt.Sprintf("p10/p90 of %d rounds x %d ops", rep.Rounds, n)
		if rep.LoadAvg != "" {
			s += ", load average " + rep.LoadAvg + " at start"
		}
		return s
	}
	entry := func(name string, src cost.Source, n int, ref, note string) (cost.Entry, error) {
		s, ok := rep.Stat(name)
		if !ok {
			return cost.Entry{}, fmt.Errorf("calibrate: no samples for %s", name)
		}
		for _, x := range []float64{s.Median, s.P10, s.P90} {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return cost.Entry{}, fmt.Errorf("calibrate: %s is not finite (%v)", name, s)
			}
		}
		return cost.Entry{
			NS: sig(math.Max(0, s.Median)), Low: sig(math.Max(0, s.P10)), High: sig(math.Max(0, s.P90)),
			Source: src, Spread: spread(n), Date: date, Kernel: rep.Kernel, Ref: ref, Note: note,
		}, nil
	}
	var err error
	for _, m := range measuredOps {
		n := o.Iterations
		switch m.op {
		case cost.OpStorageCacheHit:
			n = o.StorageIterations
		case cost.OpProgRun:
			n = o.ProgRunRepeat
		case cost.OpTracepointRun:
			n = o.SyscallIterations
		}
		if t.Ops[m.op], err = entry(m.op.String(), cost.SourceMeasured, n, base.Ops[m.op].Ref, m.note); err != nil {
			return t, err
		}
	}
	t.Ops[cost.OpKfreeRCU], err = entry("kfree_rcu", cost.SourceDerived, o.StorageIterations, "",
		"bpf_sk_storage_delete (unlink, uncharge, call_rcu_tasks_trace) on the test-run socket, median over kmalloc-96..1024, "+
			"minus helper_call + 2 lock + list_walk_step: the deferral only; the kfree runs later in RCU callback context and is not included")
	if err != nil {
		return t, err
	}
	classes := skClasses()
	for i, c := range classes {
		n := o.StorageIterations
		if i >= 6 {
			n = o.BigStorageIterations
		}
		name := cost.SizeClassName(c)
		note := fmt.Sprintf("bpf_sk_storage_get(F_CREATE) of a %d-byte value (element %d B: bpf_selem_alloc -> bpf_map_kzalloc, memcg-charged and zeroed) "+
			"on a socket whose storage already exists, minus helper_call + 2 lock + 2 list_walk_step", skValueSizes[i], selemHeader+skValueSizes[i])
		if t.Alloc[c], err = entry("kmalloc/"+name, cost.SourceDerived, n, "", note); err != nil {
			return t, err
		}
	}
	smallest := t.Alloc[classes[0]]
	for c := 0; c < classes[0]; c++ {
		e := smallest
		e.Note = "set to the " + cost.SizeClassName(classes[0]) + " figure: no local storage element is smaller than 73 bytes, so BPF cannot reach this class; " + smallest.Note
		t.Alloc[c] = e
	}
	if err := t.Validate(); err != nil {
		return t, fmt.Errorf("calibrate: %w", err)
	}
	return t, nil
}

func classNameOf(c int) string { return cost.SizeClassName(c) }
