package calibrate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/kmem"
)

// testPacket is a 64-byte Ethernet/IPv4/UDP frame (documentation addresses)
// for BPF_PROG_TEST_RUN of the tc and cgroup_skb programs.
var testPacket = func() []byte {
	p := make([]byte, 64)
	copy(p[0:], []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00})
	ip := p[14:]
	ip[0], ip[3], ip[8], ip[9] = 0x45, 50, 64, 17
	copy(ip[12:], []byte{192, 0, 2, 1, 192, 0, 2, 2})
	udp := ip[20:]
	udp[0], udp[1], udp[2], udp[3], udp[5] = 0x30, 0x39, 0x27, 0x0f, 30
	return p
}()

// Run measures the cost table on the running kernel. Entries that BPF
// programs cannot reach keep opts.Base's values and provenance.
func Run(ctx context.Context, opts Options) (cost.Table, error) {
	r, err := Measure(ctx, opts)
	if err != nil {
		return cost.Table{}, err
	}
	return r.Table, nil
}

// RunToFile runs a calibration and saves the table to path.
func RunToFile(ctx context.Context, path string, opts Options) (*Report, error) {
	r, err := Measure(ctx, opts)
	if err != nil {
		return nil, err
	}
	if err := WriteTable(path, r.Table); err != nil {
		return nil, err
	}
	return r, nil
}

// Measure runs the calibration and returns the table with every quantity
// behind it. Every program, map and link it creates is closed before it
// returns, on every path.
func Measure(ctx context.Context, opts Options) (*Report, error) {
	opts = opts.withDefaults()
	start := time.Now()
	var uts unix.Utsname
	if err := unix.Uname(&uts); err != nil {
		return nil, fmt.Errorf("calibrate: uname: %w", err)
	}
	kernel := unix.ByteSliceToString(uts.Release[:])
	loadAvg := ""
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 0 {
			loadAvg = f[0]
		}
	}

	// Run every round from one thread at the highest priority, so that
	// other tasks preempt the measured phases less often on a busy machine
	// (BPF_PROG_TEST_RUN of skb programs is preemptible). The thread's
	// priority is restored before Measure returns.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	raised := false
	if old, err := unix.Getpriority(unix.PRIO_PROCESS, 0); err == nil {
		// getpriority(2) returns 20 - nice
		if unix.Setpriority(unix.PRIO_PROCESS, 0, -20) == nil {
			raised = true
			defer unix.Setpriority(unix.PRIO_PROCESS, 0, 20-old)
		}
	}

	h, err := load()
	if err != nil {
		return nil, err
	}
	defer h.Close()
	if err := h.prepare(); err != nil {
		return nil, err
	}

	samples := map[string][]float64{}
	rounds := 0
	converged := false
	for round := 0; ; round++ {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("calibrate: %w", err)
		}
		vals, err := h.round(round, opts)
		if err != nil {
			return nil, err
		}
		if round == 0 {
			continue // warm-up: caches, LRU lists, slab partial lists
		}
		for k, v := range vals {
			samples[k] = append(samples[k], v)
		}
		rounds++
		if opts.Logf != nil {
			opts.Logf("calibrate: round %d: hash_insert %.1f ns, sk create kmalloc-96 %.1f ns, tracepoint_run %.1f ns",
				rounds, vals["hash_insert"], vals["sk_create/kmalloc-96"], vals["tracepoint_run"])
		}
		if rounds < opts.MinRounds {
			continue
		}
		if converged = allConverged(samples, opts.TargetSpread); converged {
			break
		}
		if rounds >= opts.MaxRounds || time.Since(start) > opts.MaxTime {
			break
		}
	}

	rep := &Report{Rounds: rounds, Converged: converged, Kernel: kernel, LoadAvg: loadAvg, RaisedPriority: raised}
	for k, xs := range samples {
		rep.Stats = append(rep.Stats, summarize(k, xs))
	}
	sort.Slice(rep.Stats, func(i, j int) bool { return rep.Stats[i].Name < rep.Stats[j].Name })
	base := cost.Default()
	if opts.Base != nil {
		base = *opts.Base
	}
	rep.Table, err = buildTable(rep, &base, start, opts)
	if err != nil {
		return nil, err
	}
	rep.Elapsed = time.Since(start)
	return rep, nil
}

// floors are the absolute convergence floors of quantities that are not in
// ns per operation or are small by nature.
var floors = map[string]float64{"memcpy_byte": 0.005, "csum_byte": 0.005, "list_walk_step": 0.5}

func allConverged(samples map[string][]float64, target float64) bool {
	for k, xs := range samples {
		floor, ok := floors[k]
		if !ok {
			floor = 1
		}
		if !summarize(k, xs).converged(target, floor) {
			return false
		}
	}
	return true
}

// handle owns the loaded objects.
type handle struct {
	objs     CalibObjects
	walkKeys []uint64
}

func load() (*handle, error) {
	spec, err := LoadCalib()
	if err != nil {
		return nil, fmt.Errorf("calibrate: load spec: %w", err)
	}
	if err := spec.Variables["target_tgid"].Set(uint32(os.Getpid())); err != nil {
		return nil, fmt.Errorf("calibrate: set target_tgid: %w", err)
	}
	h := &handle{}
	if err := spec.LoadAndAssign(&h.objs, nil); err != nil {
		var ve *ebpf.VerifierError
		if errors.As(err, &ve) {
			return nil, fmt.Errorf("calibrate: load programs: %w (verifier: %v)", err, ve.Log[max(0, len(ve.Log)-8):])
		}
		return nil, fmt.Errorf("calibrate: load programs: %w", err)
	}
	return h, nil
}

func (h *handle) Close() error { return h.objs.Close() }

// prepare fills the copy source and chains walkKeys colliding keys in
// bucket 0 of the zero-seed map, oldest first, so that the first key sits
// at the bottom of the chain (hlist_nulls_add_head_rcu puts new elements
// at the head).
func (h *handle) prepare() error {
	var blob [copyBig]byte
	for i := range blob {
		blob[i] = byte(i)
	}
	if err := h.objs.CopySrc.Put(uint32(0), blob[:]); err != nil {
		return fmt.Errorf("calibrate: fill copy_src: %w", err)
	}
	// fill lru_full so that every insert of a new key evicts
	keys := make([]uint64, hashMax)
	vals := make([]CalibCalVal, hashMax)
	for i := range keys {
		keys[i] = 1<<50 + uint64(i)
	}
	if _, err := h.objs.LruFull.BatchUpdate(keys, vals, nil); err != nil {
		return fmt.Errorf("calibrate: fill lru_full: %w", err)
	}
	h.walkKeys = collidingKeys(walkKeys, walkBuckets, 1<<40)
	for i, k := range h.walkKeys {
		if err := h.objs.Walk.Update(k, uint64(i), ebpf.UpdateNoExist); err != nil {
			return fmt.Errorf("calibrate: fill walk map: %w", err)
		}
	}
	return nil
}

// result reads phase ph and checks that every operation succeeded.
func (h *handle) result(ph CalibPhase, want uint32) (CalibCalResult, error) {
	var r CalibCalResult
	if err := h.objs.Results.Lookup(uint32(ph), &r); err != nil {
		return r, fmt.Errorf("calibrate: read phase %d: %w", ph, err)
	}
	if r.Errs != 0 {
		return r, fmt.Errorf("calibrate: phase %d: %d of %d operations failed", ph, r.Errs, r.N)
	}
	if r.N+r.Skipped != uint64(want) || r.N == 0 {
		return r, fmt.Errorf("calibrate: phase %d timed %d operations and left out %d, want %d (program did not complete or every iteration was disturbed)",
			ph, r.N, r.Skipped, want)
	}
	return r, nil
}

// per returns ns per operation of phase ph; for a split-timed phase, net
// of the clock-read interval measured in the same iterations.
func (h *handle) per(ph CalibPhase, want uint32) (float64, error) {
	r, err := h.result(ph, want)
	if err != nil {
		return 0, err
	}
	return (float64(r.Ns) - float64(r.Ovh)) / float64(r.N), nil
}

// round runs every program once and returns this round's quantities.
func (h *handle) round(round int, o Options) (map[string]float64, error) {
	cfg := CalibCalCfg{
		N: uint32(o.Iterations), N_sk: uint32(o.StorageIterations), N_skBig: uint32(o.BigStorageIterations),
		Base:        uint64(round+1) << 32,
		WalkShallow: h.walkKeys[len(h.walkKeys)-1], WalkDeep: h.walkKeys[0],
	}
	if err := h.objs.Cfg.Put(uint32(0), &cfg); err != nil {
		return nil, fmt.Errorf("calibrate: write config: %w", err)
	}
	for _, p := range []struct {
		name string
		prog *ebpf.Program
		opts ebpf.RunOptions
	}{
		{"calib_tc", h.objs.CalibTc, ebpf.RunOptions{Data: testPacket}},
		{"calib_sk", h.objs.CalibSk, ebpf.RunOptions{Data: testPacket}},
		{"calib_task", h.objs.CalibTask, ebpf.RunOptions{}},
	} {
		if _, err := p.prog.Run(&p.opts); err != nil {
			return nil, fmt.Errorf("calibrate: run %s: %w", p.name, err)
		}
	}
	v := map[string]float64{}
	if err := h.mapPhases(v, cfg.N); err != nil {
		return nil, err
	}
	if err := h.storagePhases(v, cfg); err != nil {
		return nil, err
	}
	if err := h.crossChecks(v, cfg); err != nil {
		return nil, err
	}
	_, d, err := h.objs.EmptyTc.Benchmark(testPacket, o.ProgRunRepeat, nil)
	if err != nil {
		return nil, fmt.Errorf("calibrate: BPF_PROG_TEST_RUN empty_tc: %w", err)
	}
	v["prog_run"] = float64(d.Nanoseconds())
	if v["tracepoint_run"], err = h.tracepoint(o.SyscallIterations, round%2 == 1); err != nil {
		return nil, err
	}
	derive(v)
	return v, nil
}

// crossChecks times hash and sk storage create+delete pairs a second way:
// by the kernel's BPF_PROG_TEST_RUN timer over checkRepeat runs, each a
// bpf_loop of n pairs, minus a program whose bpf_loop body is empty.
func (h *handle) crossChecks(v map[string]float64, cfg CalibCalCfg) error {
	for _, c := range []struct {
		name       string
		loop, pair *ebpf.Program
		n          uint32
	}{
		{"check/hash_pair_testrun", h.objs.LoopTc, h.objs.PairTc, cfg.N},
		{"check/sk_pair_testrun", h.objs.LoopCg, h.objs.PairCg, cfg.N_sk},
	} {
		_, loop, err := c.loop.Benchmark(testPacket, checkRepeat, nil)
		if err != nil {
			return fmt.Errorf("calibrate: %s: BPF_PROG_TEST_RUN: %w", c.name, err)
		}
		_, pair, err := c.pair.Benchmark(testPacket, checkRepeat, nil)
		if err != nil {
			return fmt.Errorf("calibrate: %s: BPF_PROG_TEST_RUN: %w", c.name, err)
		}
		var errs uint64
		if err := h.objs.PairErrs.Get(&errs); err != nil {
			return fmt.Errorf("calibrate: read pair_errs: %w", err)
		}
		if errs != 0 {
			return fmt.Errorf("calibrate: %s: %d create/delete pairs failed", c.name, errs)
		}
		v[c.name] = float64((pair - loop).Nanoseconds()) / float64(c.n)
	}
	return nil
}

// mapPhases turns calib_tc's phases into ns per operation, net of the
// empty loop iteration.
func (h *handle) mapPhases(v map[string]float64, n uint32) error {
	empty, err := h.per(CalibPhasePH_EMPTY, n)
	if err != nil {
		return err
	}
	v["loop_iteration"] = empty
	for _, p := range []struct {
		name string
		ph   CalibPhase
	}{
		{"empty_net", CalibPhasePH_EMPTY2}, {"helper_call", CalibPhasePH_HELPER},
		{"hash_insert", CalibPhasePH_HTAB_INS}, {"hash_lookup", CalibPhasePH_HTAB_LOOK}, {"hash_delete", CalibPhasePH_HTAB_DEL},
		{"lru_insert", CalibPhasePH_LRU_INS}, {"lru_lookup", CalibPhasePH_LRU_LOOK}, {"lru_delete", CalibPhasePH_LRU_DEL},
		{"percpu_lru_insert", CalibPhasePH_PLRU_INS}, {"percpu_lru_lookup", CalibPhasePH_PLRU_LOOK},
		{"percpu_lru_delete", CalibPhasePH_PLRU_DEL},
		{"lru_evict_insert", CalibPhasePH_LRU_EVICT}, {"spin_lock_pair", CalibPhasePH_LOCK},
		{"copy_small", CalibPhasePH_COPY_SMALL}, {"copy_big", CalibPhasePH_COPY_BIG},
		{"csum_small", CalibPhasePH_CSUM_SMALL}, {"csum_big", CalibPhasePH_CSUM_BIG},
		{"walk_shallow", CalibPhasePH_WALK_SHALLOW}, {"walk_deep", CalibPhasePH_WALK_DEEP},
		{"check/hash_pair_phase", CalibPhasePH_HTAB_PAIR},
	} {
		x, err := h.per(p.ph, n)
		if err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
		v[p.name] = x - empty
	}
	kt, err := h.per(CalibPhasePH_KTIME, n)
	if err != nil {
		return err
	}
	v["ktime_interval"] = kt
	return nil
}

// storagePhases turns calib_sk's and calib_task's phases into ns per
// operation: timed phases net of the empty iteration, split phases net of
// the interval between two clock reads taken in the same iterations.
func (h *handle) storagePhases(v map[string]float64, cfg CalibCalCfg) error {
	for _, g := range []struct {
		prefix            string
		empty, ktime      CalibPhase
		lookup            CalibPhase
		firstC, firstD    CalibPhase
		creates, deletes  []CalibPhase
		classes           []int
		counts            []uint32
		lookupN, firstN   uint32
		createsAreClasses bool
	}{
		{prefix: "sk", empty: CalibPhasePH_SK_EMPTY, ktime: CalibPhasePH_SK_KTIME, lookup: CalibPhasePH_SK_LOOKUP,
			firstC: CalibPhasePH_SK_FIRST_CREATE, firstD: CalibPhasePH_SK_FIRST_DELETE, createsAreClasses: true},
		{prefix: "task", empty: CalibPhasePH_TASK_EMPTY, ktime: CalibPhasePH_TASK_KTIME, lookup: CalibPhasePH_TASK_LOOKUP,
			firstC: CalibPhasePH_TASK_FIRST_CREATE, firstD: CalibPhasePH_TASK_FIRST_DELETE},
	} {
		n := cfg.N_sk
		empty, err := h.per(g.empty, n)
		if err != nil {
			return err
		}
		kt, err := h.per(g.ktime, n)
		if err != nil {
			return err
		}
		v[g.prefix+"_ktime_interval"] = kt
		look, err := h.per(g.lookup, n)
		if err != nil {
			return err
		}
		v[g.prefix+"_lookup"] = look - empty
		for _, p := range []struct {
			name string
			ph   CalibPhase
		}{{"_first_create", g.firstC}, {"_first_delete", g.firstD}} {
			x, err := h.per(p.ph, n)
			if err != nil {
				return fmt.Errorf("%s%s: %w", g.prefix, p.name, err)
			}
			v[g.prefix+p.name] = x
		}
		if !g.createsAreClasses {
			c, err := h.per(CalibPhasePH_TASK_CREATE, n)
			if err != nil {
				return err
			}
			d, err := h.per(CalibPhasePH_TASK_DELETE, n)
			if err != nil {
				return err
			}
			v["task_create"], v["task_delete"] = c, d
			continue
		}
		for i, vs := range skValueSizes {
			cnt := cfg.N_sk
			if i >= 6 {
				cnt = cfg.N_skBig
			}
			class := cost.SizeClassName(kmem.ClassIndex(selemHeader + vs))
			c, err := h.per(CalibPhasePH_SK_CREATE0+CalibPhase(i), cnt)
			if err != nil {
				return fmt.Errorf("sk create %s: %w", class, err)
			}
			d, err := h.per(CalibPhasePH_SK_DELETE0+CalibPhase(i), cnt)
			if err != nil {
				return fmt.Errorf("sk delete %s: %w", class, err)
			}
			v["sk_create/"+class], v["sk_delete/"+class] = c, d
		}
	}
	return nil
}

// tracepoint returns the cost of one more BPF program on a tracepoint: a
// tp_btf/sys_enter program (tp_base) stays attached throughout, so the
// syscall slow path that an enabled sys_enter tracepoint forces is in both
// states, and getpgid() is timed in batches of tpBatch calls without and
// with a second program (tp_count) attached. The result is the difference
// of the p10 batch means, so that batches slowed by preemption or steal
// time on a busy machine do not count. withFirst alternates the order
// between rounds to cancel drift.
func (h *handle) tracepoint(n int, withFirst bool) (float64, error) {
	base, err := link.AttachTracing(link.TracingOptions{Program: h.objs.TpBase})
	if err != nil {
		return 0, fmt.Errorf("calibrate: attach tp_btf/sys_enter: %w", err)
	}
	defer base.Close()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var before uint64
	if err := h.objs.TpHits.Get(&before); err != nil {
		return 0, fmt.Errorf("calibrate: read tp_hits: %w", err)
	}
	batches := max(1, n/tpBatch)
	timed := func() float64 {
		means := make([]float64, batches)
		for b := range means {
			t0 := time.Now()
			for i := 0; i < tpBatch; i++ {
				_, _ = unix.Getpgid(0)
			}
			means[b] = float64(time.Since(t0).Nanoseconds()) / tpBatch
		}
		sort.Float64s(means)
		return quantile(means, 0.1)
	}
	with := func() (float64, error) {
		l, err := link.AttachTracing(link.TracingOptions{Program: h.objs.TpCount})
		if err != nil {
			return 0, fmt.Errorf("calibrate: attach tp_btf/sys_enter: %w", err)
		}
		defer l.Close()
		return timed(), nil
	}
	var on, off float64
	if withFirst {
		if on, err = with(); err != nil {
			return 0, err
		}
		off = timed()
	} else {
		off = timed()
		if on, err = with(); err != nil {
			return 0, err
		}
	}
	var after uint64
	if err := h.objs.TpHits.Get(&after); err != nil {
		return 0, fmt.Errorf("calibrate: read tp_hits: %w", err)
	}
	if want := uint64(batches * tpBatch); after-before < want {
		return 0, fmt.Errorf("calibrate: tp_btf/sys_enter saw %d of %d getpgid calls", after-before, want)
	}
	return on - off, nil
}
