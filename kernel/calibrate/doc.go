// Package calibrate measures skbsim's cost table (package cost) on the
// running Linux kernel with real BPF programs, and writes it with its
// spread and provenance.
//
//	rep, err := calibrate.Measure(ctx, calibrate.DefaultOptions())
//	// or: tab, err := calibrate.Run(ctx, opts); calibrate.WriteTable(path, tab)
//	// or: rep, err := calibrate.RunToFile(ctx, path, opts)
//
// It needs root (CAP_BPF, CAP_SYS_ADMIN for BPF_F_ZERO_SEED, CAP_PERFMON for
// tp_btf). Off Linux, Run returns an error wrapping errors.ErrUnsupported.
// Every program, map and link is closed before Measure returns, on every
// path; nothing is pinned or attached beyond a tp_btf link that lives for
// one batch of syscalls.
//
// # Method
//
// calib.c (compiled by bpf2go, `make generate`; the objects are committed)
// holds three measuring programs, each run once per round:
//
//   - calib_tc (SCHED_CLS, BPF_PROG_TEST_RUN): phases of n operations in a
//     bpf_loop, each phase timed with bpf_ktime_get_ns() around the loop:
//     an empty body; bpf_get_numa_node_id() (helper call); update(NOEXIST),
//     lookup and delete of n new 8-byte keys in a preallocated HASH, an
//     LRU_HASH and an LRU_PERCPU_HASH of 16384 entries; inserts into an
//     LRU_HASH filled beforehand (every insert evicts); a bpf_spin_lock/
//     unlock pair; array-map updates with 64- and 4096-byte values; lookups
//     of the top and the bottom key of a 32-key chain in one bucket of a
//     BPF_F_ZERO_SEED hash (keys chosen with the kernel's jhash2, so the
//     chain is known); the empty body again.
//   - calib_sk (CGROUP_SKB, BPF_PROG_TEST_RUN, on the socket test_run
//     attaches to the skb): bpf_sk_storage_get(F_CREATE)+delete pairs with
//     no storage yet (element + bpf_local_storage allocated), then with an
//     anchor element keeping the storage alive for value sizes whose
//     element (72 + value bytes) falls in kmalloc-96 ... kmalloc-8192 and
//     kmalloc_large; each create and each delete is timed separately
//     (split timing: clock reads around each, plus an empty interval);
//     lookups of the anchor (cache hit).
//   - calib_task (SYSCALL, BPF_PROG_RUN without repeat, which the kernel
//     refuses for this type): the same for task storage on the current
//     task (reported, not in the table: task storage uses kmalloc_nolock).
//
// Beside them: the kernel-reported ns per run of an empty tc program under
// BPF_PROG_TEST_RUN with repeat (prog_run), and getpgid() timed in batches
// with one and with two tp_btf/sys_enter programs attached (tracepoint_run:
// one more program on an enabled tracepoint; with zero programs the
// syscall would also leave its fast path, which is not a program cost), as
// the kernel's local-storage benchmarks trigger their programs with a cheap
// syscall.
//
// Cross-checks: hash and sk storage create+delete pairs are also timed by
// the kernel's BPF_PROG_TEST_RUN timer (tc and cgroup_skb programs run with
// repeat, each a bpf_loop of pairs, minus a program with an empty bpf_loop
// body); the tests require the two clocks to agree ("check/..." stats).
// The distinct-key hash phases cost more than the same-key pairs (the
// element comes back hot from the freelist), which the Report shows as
// hash_pair_distinct next to check/hash_pair_phase.
//
// Overheads: a timed phase's ns per operation has the empty loop iteration
// of the same run subtracted; a separately timed create or delete has the
// interval between two consecutive clock reads, taken in the same
// iteration, subtracted. An iteration whose empty interval exceeds 1 µs
// (an interrupt or preemption landed in it; the interval is ~25 ns
// otherwise) is left out of a split-timed phase's sums. The second
// empty phase nets ~0 (Report "empty_net"), which the tests check.
//
// Rounds: one warm-up round is discarded; then rounds run until every
// quantity's p10..p90 width is within TargetSpread of its median (or an
// absolute floor), bounded by MaxRounds and MaxTime (MinRounds always run).
// Entries hold the median with p10/p90 as the spread.
//
// Derived entries: lock = spin-lock pair − 2 helper calls; memcpy_byte =
// the slope between the two array-update sizes; csum_byte = the slope of
// bpf_csum_diff (csum_partial) between 4 and 4096 bytes of a map value; list_walk_step = (bottom −
// top lookup)/31; lru_evict = evicting insert − non-evicting insert;
// storage_cache_hit = sk storage lookup − helper call; kmalloc per class =
// sk storage create − (helper call + 2 locks + 2 list steps); kfree_rcu =
// sk storage delete − (helper call + 2 locks + 1 list step), median over
// kmalloc-96..1024.
//
// # Limits
//
//   - kmalloc per class is measured through bpf_selem_alloc(), that is
//     bpf_map_kzalloc(GFP_ATOMIC): memcg-charged and zeroed, with the
//     optmem charge and list/bucket linking estimated from other entries
//     and subtracted. Plain kmalloc/kmem_cache_alloc on the packet path
//     (no memcg accounting, no zeroing) is cheaper. Classes below
//     kmalloc-96 cannot be reached (the smallest element is 73 bytes) and
//     take the kmalloc-96 figure.
//   - Frees are not measurable: local storage deletes defer the kfree past
//     an RCU Tasks Trace grace period, run later in callback context. The
//     per-class kfree entries and the class-less kmalloc/kfree entries keep
//     the base table's values; kfree_rcu is the deferral (enqueue) only.
//   - skb_ext_add and skb_ext_maybe_cow are not reachable: no helper or
//     kfunc adds an skb extension on 6.18. Their base entries are kept.
//   - Hash, LRU and lock entries include the program-side call of the map
//     helper (as a program pays it); keys are sequential and the tables are
//     cache-resident, so lookups and list steps are the cache-hot cost, not
//     the cache-missing one the kernel's bench_local_storage reports for
//     many maps.
//   - fentry/fexit and kprobes cannot load on this machine kind
//     (kernel_lab.md §12), so no kernel function is timed in isolation.
//   - Program phases run preemptible (BPF_PROG_TEST_RUN only disables
//     migration); Measure runs them from one thread raised to nice -20
//     (restored afterwards; Report.RaisedPriority), but on a loaded machine
//     single rounds are still disturbed, which the median over rounds and
//     the spread reflect (the spread names the load average). The tracepoint entry
//     uses the p10 of batch means for the same reason.
//   - Numbers are for the machine and kernel measured (Entry.Kernel,
//     Entry.Date); a VM's clock source adds its own read cost, which the
//     clock-interval subtraction removes only on average.
package calibrate
