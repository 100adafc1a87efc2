//go:build ignore

// calib: microbenchmarks of BPF-reachable kernel primitives for the skbsim
// cost table. Every measured phase runs an operation n times in a bpf_loop
// and stores the elapsed bpf_ktime_get_ns() time (phase timing), or sums
// per-operation intervals (split timing, for create/delete pairs). The Go
// side subtracts the empty-loop and clock-read overheads measured in the
// same run. See doc.go.

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define HASH_MAX 16384   /* capacity of the non-evicting hash maps */
#define WALK_BUCKETS 64  /* max_entries (= buckets) of the zero-seed walk map */
#define COPY_SMALL 64
#define COPY_BIG 4096
#define CSUM_SMALL 4
#define CSUM_BIG 4096

enum phase {
	PH_EMPTY, PH_EMPTY2, PH_KTIME, PH_HELPER,
	PH_HTAB_INS, PH_HTAB_LOOK, PH_HTAB_DEL,
	PH_LRU_INS, PH_LRU_LOOK, PH_LRU_DEL,
	PH_PLRU_INS, PH_PLRU_LOOK, PH_PLRU_DEL,
	PH_LRU_EVICT,
	PH_LOCK, PH_COPY_SMALL, PH_COPY_BIG,
	PH_WALK_SHALLOW, PH_WALK_DEEP, PH_HTAB_PAIR,
	PH_CSUM_SMALL, PH_CSUM_BIG,
	/* cgroup_skb program */
	PH_SK_EMPTY, PH_SK_KTIME, PH_SK_LOOKUP, PH_SK_FIRST_CREATE, PH_SK_FIRST_DELETE,
	PH_SK_CREATE0, /* + class index, NSKCLS of them */
	PH_SK_DELETE0 = PH_SK_CREATE0 + 10,
	/* syscall program */
	PH_TASK_EMPTY = PH_SK_DELETE0 + 10, PH_TASK_KTIME, PH_TASK_LOOKUP,
	PH_TASK_FIRST_CREATE, PH_TASK_FIRST_DELETE, PH_TASK_CREATE, PH_TASK_DELETE,
	NPHASES,
};

struct cal_result {
	__u64 ns;   /* elapsed (phase timing) or summed intervals (split timing) */
	__u64 n;    /* operations timed */
	__u64 errs; /* operations that failed (must stay 0) */
	__u64 ovh;  /* split timing: summed empty intervals between two clock
		     * reads, taken in the same iterations */
	__u64 skipped; /* split timing: iterations left out because their
			* empty interval shows a disturbance (> DISTURBED ns) */
};

/* An empty clock-read interval is ~25 ns; one above this was hit by an
 * interrupt or preemption, and the iteration is left out of the sums. */
#define DISTURBED 1000

struct cal_cfg {
	__u32 n;        /* iterations of the map, lock, copy and helper phases */
	__u32 n_sk;     /* iterations of storage phases up to kmalloc-1024 */
	__u32 n_sk_big; /* iterations of storage phases from kmalloc-2048 */
	__u32 pad;
	__u64 base;     /* first key of this run's insert phases */
	__u64 walk_shallow, walk_deep; /* keys at depth 1 and at the bottom of bucket 0 */
};

/* referenced so that bpf2go emits Go types for them */
enum phase *unused_phase __attribute__((unused));
struct cal_result *unused_result __attribute__((unused));
struct cal_cfg *unused_cfg __attribute__((unused));

struct cal_val {
	__u64 a, b;
};

struct cal_lockval {
	struct bpf_spin_lock l;
	__u32 pad;
	__u64 x;
};

struct cal_blob {
	__u8 b[COPY_BIG];
};

struct cal_small {
	__u8 b[COPY_SMALL];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NPHASES);
	__type(key, __u32);
	__type(value, struct cal_result);
} results SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cal_cfg);
} cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HASH_MAX);
	__type(key, __u64);
	__type(value, struct cal_val);
} htab SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, HASH_MAX);
	__type(key, __u64);
	__type(value, struct cal_val);
} lru SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, HASH_MAX);
	__type(key, __u64);
	__type(value, struct cal_val);
} plru SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, HASH_MAX);
	__type(key, __u64);
	__type(value, struct cal_val);
} lru_full SEC(".maps"); /* filled from user space: every insert evicts */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_ZERO_SEED);
	__uint(max_entries, WALK_BUCKETS);
	__type(key, __u64);
	__type(value, __u64);
} walk SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cal_lockval);
} lockmap SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cal_blob);
} copy_src SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cal_blob);
} copy_big SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cal_small);
} copy_small SEC(".maps");

struct cal_lctx {
	__u64 base;
	__u64 key;
	__u64 errs;
	__u64 acc;
	__u64 t1, t2; /* split timing: summed create and delete intervals */
	__u64 t0;     /* split timing: summed empty intervals */
	__u64 kept, skipped; /* split timing: iterations summed, left out */
	struct bpf_sock *sk;
};

static __always_inline struct cal_cfg *get_cfg(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&cfg, &zero);
}

static __always_inline void store_split(__u32 ph, __u64 ns, __u64 n, __u64 errs, __u64 ovh,
					__u64 skipped)
{
	struct cal_result *r = bpf_map_lookup_elem(&results, &ph);

	if (r) {
		r->ns = ns;
		r->n = n;
		r->errs = errs;
		r->ovh = ovh;
		r->skipped = skipped;
	}
}

static __always_inline void store(__u32 ph, __u64 ns, __u64 n, __u64 errs)
{
	store_split(ph, ns, n, errs, 0, 0);
}

/* Phase timing: run cb n times and store the elapsed time. */
#define TIMED(ph, nr, cb, c)                                 \
	do {                                                 \
		__u64 t0 = bpf_ktime_get_ns();               \
		bpf_loop((nr), (cb), (c), 0);                \
		store((ph), bpf_ktime_get_ns() - t0, (nr), (c)->errs); \
		(c)->errs = 0;                               \
	} while (0)

static long cb_empty(__u64 i, void *ctx)
{
	return 0;
}

static long cb_ktime(__u64 i, void *ctx)
{
	struct cal_lctx *c = ctx;
	__u64 t0 = bpf_ktime_get_ns();

	c->t1 += bpf_ktime_get_ns() - t0;
	return 0;
}

static long cb_helper(__u64 i, void *ctx)
{
	struct cal_lctx *c = ctx;

	c->acc += bpf_get_numa_node_id();
	return 0;
}

#define HASH_CBS(name, map)                                             \
	static long cb_##name##_ins(__u64 i, void *ctx)                 \
	{                                                               \
		struct cal_lctx *c = ctx;                                   \
		__u64 k = c->base + i;                                  \
		struct cal_val v = { .a = i };                              \
		if (bpf_map_update_elem(&map, &k, &v, BPF_NOEXIST))     \
			c->errs++;                                      \
		return 0;                                               \
	}                                                               \
	static long cb_##name##_look(__u64 i, void *ctx)                \
	{                                                               \
		struct cal_lctx *c = ctx;                                   \
		__u64 k = c->base + i;                                  \
		if (!bpf_map_lookup_elem(&map, &k))                     \
			c->errs++;                                      \
		return 0;                                               \
	}                                                               \
	static long cb_##name##_del(__u64 i, void *ctx)                 \
	{                                                               \
		struct cal_lctx *c = ctx;                                   \
		__u64 k = c->base + i;                                  \
		if (bpf_map_delete_elem(&map, &k))                      \
			c->errs++;                                      \
		return 0;                                               \
	}

HASH_CBS(htab, htab)
HASH_CBS(lru, lru)
HASH_CBS(plru, plru)

static long cb_evict(__u64 i, void *ctx)
{
	struct cal_lctx *c = ctx;
	__u64 k = c->base + i;
	struct cal_val v = { .a = i };

	if (bpf_map_update_elem(&lru_full, &k, &v, BPF_NOEXIST))
		c->errs++;
	return 0;
}

static long cb_lock(__u64 i, void *ctx)
{
	struct cal_lctx *c = ctx;
	__u32 zero = 0;
	struct cal_lockval *v = bpf_map_lookup_elem(&lockmap, &zero);

	if (!v) {
		c->errs++;
		return 1;
	}
	bpf_spin_lock(&v->l);
	v->x++;
	bpf_spin_unlock(&v->l);
	return 0;
}

static __always_inline long copy_into(void *dst, struct cal_lctx *c)
{
	__u32 zero = 0;
	struct cal_blob *src = bpf_map_lookup_elem(&copy_src, &zero);

	if (!src) {
		c->errs++;
		return 1;
	}
	if (bpf_map_update_elem(dst, &zero, src, BPF_ANY))
		c->errs++;
	return 0;
}

static long cb_copy_small(__u64 i, void *ctx)
{
	return copy_into(&copy_small, ctx);
}

static long cb_copy_big(__u64 i, void *ctx)
{
	return copy_into(&copy_big, ctx);
}

/* bpf_csum_diff(NULL, 0, to, size, 0) is csum_partial(to, size, 0): the
 * kernel's software checksum over a map value */
static __always_inline long csum_over(__u32 size, struct cal_lctx *c)
{
	__u32 zero = 0;
	struct cal_blob *src = bpf_map_lookup_elem(&copy_src, &zero);
	__s64 r;

	if (!src) {
		c->errs++;
		return 1;
	}
	r = bpf_csum_diff(0, 0, (__be32 *)src, size, 0);
	if (r < 0)
		c->errs++;
	c->acc += r;
	return 0;
}

static long cb_csum_small(__u64 i, void *ctx)
{
	return csum_over(CSUM_SMALL, ctx);
}

static long cb_csum_big(__u64 i, void *ctx)
{
	return csum_over(CSUM_BIG, ctx);
}

static long cb_walk(__u64 i, void *ctx)
{
	struct cal_lctx *c = ctx;
	__u64 k = c->key;

	if (!bpf_map_lookup_elem(&walk, &k))
		c->errs++;
	return 0;
}

/* insert and delete the same key: the element comes back from the
 * freelist hot (cross-check phase, also timed by the kernel in pair_tc) */
static long cb_pair(__u64 i, void *ctx)
{
	struct cal_lctx *c = ctx;
	__u64 k = c->base + i;
	struct cal_val v = { .a = i };

	if (bpf_map_update_elem(&htab, &k, &v, BPF_NOEXIST) || bpf_map_delete_elem(&htab, &k))
		c->errs++;
	return 0;
}

SEC("tc")
int calib_tc(struct __sk_buff *skb)
{
	struct cal_cfg *cf = get_cfg();
	struct cal_lctx c = {};
	__u32 n;

	if (!cf)
		return 2;
	n = cf->n;
	c.base = cf->base;

	TIMED(PH_EMPTY, n, cb_empty, &c);
	c.t1 = 0;
	bpf_loop(n, cb_ktime, &c, 0);
	store(PH_KTIME, c.t1, n, 0);
	TIMED(PH_HELPER, n, cb_helper, &c);

	TIMED(PH_HTAB_INS, n, cb_htab_ins, &c);
	TIMED(PH_HTAB_LOOK, n, cb_htab_look, &c);
	TIMED(PH_HTAB_DEL, n, cb_htab_del, &c);
	TIMED(PH_HTAB_PAIR, n, cb_pair, &c);
	TIMED(PH_LRU_INS, n, cb_lru_ins, &c);
	TIMED(PH_LRU_LOOK, n, cb_lru_look, &c);
	TIMED(PH_LRU_DEL, n, cb_lru_del, &c);
	TIMED(PH_PLRU_INS, n, cb_plru_ins, &c);
	TIMED(PH_PLRU_LOOK, n, cb_plru_look, &c);
	TIMED(PH_PLRU_DEL, n, cb_plru_del, &c);
	TIMED(PH_LRU_EVICT, n, cb_evict, &c);

	TIMED(PH_LOCK, n, cb_lock, &c);
	TIMED(PH_COPY_SMALL, n, cb_copy_small, &c);
	TIMED(PH_COPY_BIG, n, cb_copy_big, &c);
	TIMED(PH_CSUM_SMALL, n, cb_csum_small, &c);
	TIMED(PH_CSUM_BIG, n, cb_csum_big, &c);

	c.key = cf->walk_shallow;
	TIMED(PH_WALK_SHALLOW, n, cb_walk, &c);
	c.key = cf->walk_deep;
	TIMED(PH_WALK_DEEP, n, cb_walk, &c);

	/* the same empty loop again: its net cost must come out ~0 */
	TIMED(PH_EMPTY2, n, cb_empty, &c);
	return 0;
}

/* --- socket local storage (cgroup_skb, on the socket test_run attaches) --- */

#define SK_MAP(name, vsize)                                   \
	struct name##_v {                                     \
		__u8 b[vsize];                                \
	};                                                    \
	struct {                                              \
		__uint(type, BPF_MAP_TYPE_SK_STORAGE);        \
		__uint(map_flags, BPF_F_NO_PREALLOC);         \
		__type(key, int);                             \
		__type(value, struct name##_v);               \
	} name SEC(".maps");

/* element = 72 + value bytes: the kmalloc class in the comment */
SK_MAP(sk_anchor, 8)
SK_MAP(sk_first, 8)
SK_MAP(sk_c0, 8)      /* 80 -> kmalloc-96 */
SK_MAP(sk_c1, 56)     /* 128 -> kmalloc-128 */
SK_MAP(sk_c2, 120)    /* 192 -> kmalloc-192 */
SK_MAP(sk_c3, 184)    /* 256 -> kmalloc-256 */
SK_MAP(sk_c4, 440)    /* 512 -> kmalloc-512 */
SK_MAP(sk_c5, 952)    /* 1024 -> kmalloc-1024 */
SK_MAP(sk_c6, 1976)   /* 2048 -> kmalloc-2048 */
SK_MAP(sk_c7, 4024)   /* 4096 -> kmalloc-4096 */
SK_MAP(sk_c8, 8120)   /* 8192 -> kmalloc-8192 */
SK_MAP(sk_c9, 16312)  /* 16384 -> kmalloc_large (order 2) */

#define SK_CB(name, map)                                                       \
	static long cb_##name(__u64 i, void *ctx)                              \
	{                                                                      \
		struct cal_lctx *c = ctx;                                          \
		struct bpf_sock *sk = c->sk;                                   \
		__u64 te, t0, t1, t2;                                          \
		void *v;                                                       \
		if (!sk)                                                       \
			return 1;                                              \
		te = bpf_ktime_get_ns();                                       \
		t0 = bpf_ktime_get_ns();                                       \
		v = bpf_sk_storage_get(&map, sk, 0, BPF_SK_STORAGE_GET_F_CREATE); \
		t1 = bpf_ktime_get_ns();                                       \
		if (!v) {                                                      \
			c->errs++;                                             \
			return 0;                                              \
		}                                                              \
		if (bpf_sk_storage_delete(&map, sk))                           \
			c->errs++;                                             \
		t2 = bpf_ktime_get_ns();                                       \
		if (t0 - te > DISTURBED) {                                     \
			c->skipped++;                                          \
			return 0;                                              \
		}                                                              \
		c->kept++;                                                     \
		c->t0 += t0 - te;                                              \
		c->t1 += t1 - t0;                                              \
		c->t2 += t2 - t1;                                              \
		return 0;                                                      \
	}

SK_CB(sk_first, sk_first)
SK_CB(sk_c0, sk_c0)
SK_CB(sk_c1, sk_c1)
SK_CB(sk_c2, sk_c2)
SK_CB(sk_c3, sk_c3)
SK_CB(sk_c4, sk_c4)
SK_CB(sk_c5, sk_c5)
SK_CB(sk_c6, sk_c6)
SK_CB(sk_c7, sk_c7)
SK_CB(sk_c8, sk_c8)
SK_CB(sk_c9, sk_c9)

static long cb_sk_lookup(__u64 i, void *ctx)
{
	struct cal_lctx *c = ctx;
	struct bpf_sock *sk = c->sk;

	if (!sk)
		return 1;
	if (!bpf_sk_storage_get(&sk_anchor, sk, 0, 0))
		c->errs++;
	return 0;
}

/* Split timing: create and delete n times, store both sums and the sum of
 * the empty clock-read intervals taken in the same iterations, over the
 * iterations that were not disturbed. */
#define SPLIT(ph_create, ph_delete, nr, cb, c)          \
	do {                                            \
		(c)->t0 = (c)->t1 = (c)->t2 = 0;        \
		(c)->kept = (c)->skipped = 0;           \
		bpf_loop((nr), (cb), (c), 0);           \
		store_split((ph_create), (c)->t1, (c)->kept, (c)->errs, (c)->t0, (c)->skipped); \
		store_split((ph_delete), (c)->t2, (c)->kept, (c)->errs, (c)->t0, (c)->skipped); \
		(c)->errs = 0;                          \
	} while (0)

SEC("cgroup_skb/egress")
int calib_sk(struct __sk_buff *skb)
{
	struct cal_cfg *cf = get_cfg();
	struct bpf_sock *sk = skb->sk;
	struct cal_lctx c = {};
	__u32 n, nb;

	if (!cf || !sk)
		return 1;
	sk = bpf_sk_fullsock(sk);
	if (!sk)
		return 1;
	c.sk = sk;
	n = cf->n_sk;
	nb = cf->n_sk_big;

	TIMED(PH_SK_EMPTY, n, cb_empty, &c);
	c.t1 = 0;
	bpf_loop(n, cb_ktime, &c, 0);
	store(PH_SK_KTIME, c.t1, n, 0);

	/* no storage yet: every create allocates the element and the
	 * bpf_local_storage, every delete frees both */
	SPLIT(PH_SK_FIRST_CREATE, PH_SK_FIRST_DELETE, n, cb_sk_first, &c);

	/* the anchor keeps the storage alive: one element allocation each */
	if (!bpf_sk_storage_get(&sk_anchor, sk, 0, BPF_SK_STORAGE_GET_F_CREATE))
		return 1;
	TIMED(PH_SK_LOOKUP, n, cb_sk_lookup, &c);
	SPLIT(PH_SK_CREATE0 + 0, PH_SK_DELETE0 + 0, n, cb_sk_c0, &c);
	SPLIT(PH_SK_CREATE0 + 1, PH_SK_DELETE0 + 1, n, cb_sk_c1, &c);
	SPLIT(PH_SK_CREATE0 + 2, PH_SK_DELETE0 + 2, n, cb_sk_c2, &c);
	SPLIT(PH_SK_CREATE0 + 3, PH_SK_DELETE0 + 3, n, cb_sk_c3, &c);
	SPLIT(PH_SK_CREATE0 + 4, PH_SK_DELETE0 + 4, n, cb_sk_c4, &c);
	SPLIT(PH_SK_CREATE0 + 5, PH_SK_DELETE0 + 5, n, cb_sk_c5, &c);
	SPLIT(PH_SK_CREATE0 + 6, PH_SK_DELETE0 + 6, nb, cb_sk_c6, &c);
	SPLIT(PH_SK_CREATE0 + 7, PH_SK_DELETE0 + 7, nb, cb_sk_c7, &c);
	SPLIT(PH_SK_CREATE0 + 8, PH_SK_DELETE0 + 8, nb, cb_sk_c8, &c);
	SPLIT(PH_SK_CREATE0 + 9, PH_SK_DELETE0 + 9, nb, cb_sk_c9, &c);
	bpf_sk_storage_delete(&sk_anchor, sk);
	return 1;
}

/* --- task local storage (SYSCALL program, current task) --- */

#define TASK_MAP(name)                                        \
	struct {                                              \
		__uint(type, BPF_MAP_TYPE_TASK_STORAGE);      \
		__uint(map_flags, BPF_F_NO_PREALLOC);         \
		__type(key, int);                             \
		__type(value, __u64);                         \
	} name SEC(".maps");

TASK_MAP(task_anchor)
TASK_MAP(task_first)
TASK_MAP(task_m)

#define TASK_CB(name, map)                                                     \
	static long cb_##name(__u64 i, void *ctx)                              \
	{                                                                      \
		struct cal_lctx *c = ctx;                                          \
		struct task_struct *t = bpf_get_current_task_btf();            \
		__u64 te, t0, t1, t2;                                          \
		void *v;                                                       \
		te = bpf_ktime_get_ns();                                       \
		t0 = bpf_ktime_get_ns();                                       \
		v = bpf_task_storage_get(&map, t, 0, BPF_LOCAL_STORAGE_GET_F_CREATE); \
		t1 = bpf_ktime_get_ns();                                       \
		if (!v) {                                                      \
			c->errs++;                                             \
			return 0;                                              \
		}                                                              \
		if (bpf_task_storage_delete(&map, t))                          \
			c->errs++;                                             \
		t2 = bpf_ktime_get_ns();                                       \
		if (t0 - te > DISTURBED) {                                     \
			c->skipped++;                                          \
			return 0;                                              \
		}                                                              \
		c->kept++;                                                     \
		c->t0 += t0 - te;                                              \
		c->t1 += t1 - t0;                                              \
		c->t2 += t2 - t1;                                              \
		return 0;                                                      \
	}

TASK_CB(task_first, task_first)
TASK_CB(task_m, task_m)

static long cb_task_lookup(__u64 i, void *ctx)
{
	struct cal_lctx *c = ctx;

	if (!bpf_task_storage_get(&task_anchor, bpf_get_current_task_btf(), 0, 0))
		c->errs++;
	return 0;
}

SEC("syscall")
int calib_task(void *ctx)
{
	struct cal_cfg *cf = get_cfg();
	struct cal_lctx c = {};
	__u32 n;

	if (!cf)
		return 1;
	n = cf->n_sk;

	TIMED(PH_TASK_EMPTY, n, cb_empty, &c);
	c.t1 = 0;
	bpf_loop(n, cb_ktime, &c, 0);
	store(PH_TASK_KTIME, c.t1, n, 0);

	SPLIT(PH_TASK_FIRST_CREATE, PH_TASK_FIRST_DELETE, n, cb_task_first, &c);
	if (!bpf_task_storage_get(&task_anchor, bpf_get_current_task_btf(), 0,
				  BPF_LOCAL_STORAGE_GET_F_CREATE))
		return 1;
	TIMED(PH_TASK_LOOKUP, n, cb_task_lookup, &c);
	SPLIT(PH_TASK_CREATE, PH_TASK_DELETE, n, cb_task_m, &c);
	bpf_task_storage_delete(&task_anchor, bpf_get_current_task_btf());
	return 0;
}

/* --- program run and tracepoint run --- */

SEC("tc")
int empty_tc(struct __sk_buff *skb)
{
	return 0;
}

volatile const __u32 target_tgid = 0;
__u64 tp_hits = 0;

/* tp_btf/sys_enter baseline: attached in both states of the tracepoint
 * measurement, so that the syscall slow path an enabled sys_enter
 * tracepoint forces is in the baseline too */
SEC("tp_btf/sys_enter")
int tp_base(__u64 *ctx)
{
	return 0;
}

/* tp_btf/sys_enter: count this process's getpgid calls, nothing else */
SEC("tp_btf/sys_enter")
int tp_count(__u64 *ctx)
{
	if (ctx[1] == 121 && (bpf_get_current_pid_tgid() >> 32) == target_tgid)
		__sync_fetch_and_add(&tp_hits, 1);
	return 0;
}

/* --- cross-checks timed by the kernel: BPF_PROG_TEST_RUN with repeat --- */

/* failed pairs of pair_tc and pair_cg (a return value computed from the
 * callback's count makes the 6.18 verifier fail cgroup_skb loads with
 * EFAULT, so the count goes to a global) */
__u64 pair_errs = 0;

/* empty bpf_loop of n iterations: the loop overhead of pair_tc */
SEC("tc")
int loop_tc(struct __sk_buff *skb)
{
	struct cal_cfg *cf = get_cfg();
	struct cal_lctx c = {};

	if (!cf)
		return 2;
	bpf_loop(cf->n, cb_empty, &c, 0);
	return 0;
}

/* n hash insert+delete pairs; failures counted in pair_errs */
SEC("tc")
int pair_tc(struct __sk_buff *skb)
{
	struct cal_cfg *cf = get_cfg();
	struct cal_lctx c = {};

	if (!cf)
		return 2;
	c.base = cf->base;
	bpf_loop(cf->n, cb_pair, &c, 0);
	__sync_fetch_and_add(&pair_errs, c.errs);
	return 0;
}

SEC("cgroup_skb/egress")
int loop_cg(struct __sk_buff *skb)
{
	struct cal_cfg *cf = get_cfg();
	struct cal_lctx c = {};

	if (!cf)
		return 0;
	bpf_loop(cf->n_sk, cb_empty, &c, 0);
	return 1;
}

static long cb_sk_pair(__u64 i, void *ctx)
{
	struct cal_lctx *c = ctx;
	struct bpf_sock *sk = c->sk;

	if (!sk)
		return 1;
	if (!bpf_sk_storage_get(&sk_c0, sk, 0, BPF_SK_STORAGE_GET_F_CREATE)) {
		c->errs++;
		return 0;
	}
	if (bpf_sk_storage_delete(&sk_c0, sk))
		c->errs++;
	return 0;
}

/* n sk storage create+delete pairs (kmalloc-96 element) next to an anchor;
 * failures counted in pair_errs */
SEC("cgroup_skb/egress")
int pair_cg(struct __sk_buff *skb)
{
	struct cal_cfg *cf = get_cfg();
	struct bpf_sock *sk = skb->sk;
	struct cal_lctx c = {};

	if (!cf || !sk)
		return 0;
	sk = bpf_sk_fullsock(sk);
	if (!sk)
		return 0;
	c.sk = sk;
	if (!bpf_sk_storage_get(&sk_anchor, sk, 0, BPF_SK_STORAGE_GET_F_CREATE)) {
		__sync_fetch_and_add(&pair_errs, 1);
		return 1;
	}
	bpf_loop(cf->n_sk, cb_sk_pair, &c, 0);
	__sync_fetch_and_add(&pair_errs, c.errs);
	return 1;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
