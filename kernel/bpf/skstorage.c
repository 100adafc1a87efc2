//go:build ignore

// skstorage: program-side socket local storage. cgroup_skb ingress/egress and
// sockops programs get (or create) the socket's element in sk_map, count
// packets/ops into it, or delete it, as ctl[0].mode says. stats[prog] counts
// the helper results so a test can tell a NULL get from a missing packet.

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

enum mode {
	MODE_CREATE = 0, /* bpf_sk_storage_get(F_CREATE), then count */
	MODE_LOOKUP = 1, /* bpf_sk_storage_get(0), count if present */
	MODE_DELETE = 2, /* bpf_sk_storage_delete */
};

enum prog_id {
	PROG_EGRESS = 0,
	PROG_INGRESS = 1,
	PROG_SOCKOPS = 2,
	NPROGS = 3,
};

struct skval {
	__u64 egress_pkts;
	__u64 egress_bytes;
	__u64 ingress_pkts;
	__u64 ingress_bytes;
	__u64 sockops_mask; /* bit op set for every sockops callback op seen */
};

struct ctl {
	__u32 mode;
	__u32 pad;
};

struct pstat {
	__u64 runs;     /* program runs with a full socket */
	__u64 got;      /* get returned an element */
	__u64 null;     /* get returned NULL */
	__u64 del_ok;   /* delete returned 0 */
	__u64 del_err;  /* delete returned an error */
	__s64 last_err; /* last delete error */
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct skval);
} sk_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ctl);
} ctl_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NPROGS);
	__type(key, __u32);
	__type(value, struct pstat);
} stats SEC(".maps");

struct skval *unused_skval __attribute__((unused));
struct ctl *unused_ctl __attribute__((unused));
struct pstat *unused_pstat __attribute__((unused));

static __always_inline struct skval *storage(void *sk, __u32 prog)
{
	__u32 zero = 0;
	struct ctl *c = bpf_map_lookup_elem(&ctl_map, &zero);
	struct pstat *st = bpf_map_lookup_elem(&stats, &prog);
	__u32 mode = c ? c->mode : MODE_CREATE;
	struct skval *v;
	long err;

	if (!st)
		return 0;
	__sync_fetch_and_add(&st->runs, 1);
	if (mode == MODE_DELETE) {
		err = bpf_sk_storage_delete(&sk_map, sk);
		if (err) {
			__sync_fetch_and_add(&st->del_err, 1);
			st->last_err = err;
		} else {
			__sync_fetch_and_add(&st->del_ok, 1);
		}
		return 0;
	}
	v = bpf_sk_storage_get(&sk_map, sk, 0,
			       mode == MODE_CREATE ? BPF_SK_STORAGE_GET_F_CREATE : 0);
	if (v)
		__sync_fetch_and_add(&st->got, 1);
	else
		__sync_fetch_and_add(&st->null, 1);
	return v;
}

static __always_inline int count_skb(struct __sk_buff *skb, __u32 prog)
{
	struct bpf_sock *sk = skb->sk;
	struct skval *v;

	if (!sk)
		return 1;
	sk = bpf_sk_fullsock(sk);
	if (!sk)
		return 1;
	v = storage(sk, prog);
	if (!v)
		return 1;
	if (prog == PROG_EGRESS) {
		__sync_fetch_and_add(&v->egress_pkts, 1);
		__sync_fetch_and_add(&v->egress_bytes, skb->len);
	} else {
		__sync_fetch_and_add(&v->ingress_pkts, 1);
		__sync_fetch_and_add(&v->ingress_bytes, skb->len);
	}
	return 1;
}

SEC("cgroup_skb/egress")
int sk_egress(struct __sk_buff *skb)
{
	return count_skb(skb, PROG_EGRESS);
}

SEC("cgroup_skb/ingress")
int sk_ingress(struct __sk_buff *skb)
{
	return count_skb(skb, PROG_INGRESS);
}

SEC("sockops")
int sk_sockops(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk = skops->sk;
	struct skval *v;
	__u32 op = skops->op;

	if (!sk)
		return 1;
	v = storage(sk, PROG_SOCKOPS);
	if (v && op < 64)
		__sync_fetch_and_or(&v->sockops_mask, 1ULL << op);
	return 1;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
