//go:build ignore

// skiter: the TCP sockets of a network namespace as an iter/tcp program
// sees them (listeners, request and time-wait sockets, established and
// orphaned full sockets: everything in the TCP hash tables), with, for
// full sockets, whether they own an element of sk_map. The loader replaces
// sk_map with the socket storage map to check (any value size: the
// program only tests for an element). One struct owner per socket is
// written to the seq file.
//
// Map iterators (iter/bpf_sk_storage_map, iter/bpf_map_elem), which would
// list a map's elements directly, fail to load with EPERM on the project's
// machines; iter/tcp loads.

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct owner {
	__u64 cookie;
	__u32 state; /* skc_state: TCP_ESTABLISHED 1 ... TCP_NEW_SYN_RECV 12 */
	__u32 has;   /* a full socket with an element of sk_map */
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} sk_map SEC(".maps");

struct owner *unused_owner __attribute__((unused));

SEC("iter/tcp")
int tcp_owners(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct tcp_sock *tp;
	struct owner o = {};

	if (!skc)
		return 0;
	o.cookie = bpf_get_socket_cookie(skc);
	o.state = skc->skc_state;
	tp = bpf_skc_to_tcp_sock(skc);
	if (tp && bpf_sk_storage_get(&sk_map, tp, 0, 0))
		o.has = 1;
	bpf_seq_write(ctx->meta->seq, &o, sizeof(o));
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
