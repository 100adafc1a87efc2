//go:build ignore

// hintprobe: the XDP RX metadata kfuncs as a device-bound XDP program sees
// them. xdp_hints calls bpf_xdp_metadata_rx_timestamp, _rx_hash and
// _rx_vlan_tag (those hint_ops selects) and records, per receiving
// ifindex, how many IPv4 frames it saw and what the first one's calls returned;
// loaded with BPF_F_XDP_DEV_BOUND_ONLY and prog_ifindex the kfuncs reach
// the device's driver, loaded without them the default kfuncs answer.
// xdp_redir redirects every frame to the ifindex in redir_to, so that the
// target's peer receives an xdp_frame. tc_hash records, per ifindex, the
// first IPv4 skb's __sk_buff hash and VLAN fields at tc ingress; tc_push pushes
// VLAN tag 100 into vlan_tci at tc egress.

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define OP_TIMESTAMP 1
#define OP_HASH 2
#define OP_VLAN 4

extern int bpf_xdp_metadata_rx_timestamp(const struct xdp_md *ctx, __u64 *timestamp) __ksym;
extern int bpf_xdp_metadata_rx_hash(const struct xdp_md *ctx, __u32 *hash,
				    enum xdp_rss_hash_type *rss_type) __ksym;
extern int bpf_xdp_metadata_rx_vlan_tag(const struct xdp_md *ctx, __be16 *vlan_proto,
					__u16 *vlan_tci) __ksym;

struct hintseen {
	__u64 runs;
	__u64 ts;
	__s32 ts_ret;
	__s32 hash_ret;
	__u32 hash;
	__u32 rss;
	__s32 vlan_ret;
	__u16 vlan_proto;
	__u16 vlan_tci;
};

struct tcseen {
	__u64 runs;
	__u32 hash;
	__u32 vlan_present;
	__u32 vlan_tci;
	__u32 vlan_proto;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, struct hintseen);
} hints SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, struct tcseen);
} tcs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} hint_ops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} redir_to SEC(".maps");

struct hintseen *unused_hintseen __attribute__((unused));
struct tcseen *unused_tcseen __attribute__((unused));

SEC("xdp")
int xdp_hints(struct xdp_md *ctx)
{
	struct hintseen zero = {}, *v;
	__u32 key = ctx->ingress_ifindex, k0 = 0, ops = 0, *o;
	enum xdp_rss_hash_type rss = 0;
	__be16 proto = 0;
	__u16 tci = 0;

	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__be16 *et = data + 12;

	/* IPv4 frames only (one VLAN tag allowed): not the link's IPv6
	 * neighbour discovery. */
	if ((void *)(et + 1) > end)
		return XDP_PASS;
	if (*et == bpf_htons(0x8100)) {
		et += 2;
		if ((void *)(et + 1) > end)
			return XDP_PASS;
	}
	if (*et != bpf_htons(0x0800))
		return XDP_PASS;
	o = bpf_map_lookup_elem(&hint_ops, &k0);
	if (o)
		ops = *o;
	v = bpf_map_lookup_elem(&hints, &key);
	if (!v) {
		bpf_map_update_elem(&hints, &key, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&hints, &key);
		if (!v)
			return XDP_PASS;
	}
	if (v->runs++ != 0)
		return XDP_PASS;
	if (ops & OP_TIMESTAMP)
		v->ts_ret = bpf_xdp_metadata_rx_timestamp(ctx, &v->ts);
	if (ops & OP_HASH) {
		v->hash_ret = bpf_xdp_metadata_rx_hash(ctx, &v->hash, &rss);
		v->rss = rss;
	}
	if (ops & OP_VLAN) {
		v->vlan_ret = bpf_xdp_metadata_rx_vlan_tag(ctx, &proto, &tci);
		v->vlan_proto = bpf_ntohs(proto);
		v->vlan_tci = tci;
	}
	return XDP_PASS;
}

SEC("xdp")
int xdp_redir(struct xdp_md *ctx)
{
	__u32 k0 = 0, *to = bpf_map_lookup_elem(&redir_to, &k0);

	if (!to)
		return XDP_PASS;
	return bpf_redirect(*to, 0);
}

SEC("tc")
int tc_hash(struct __sk_buff *skb)
{
	struct tcseen zero = {}, *v;
	__u32 key = skb->ifindex;

	if (skb->protocol != bpf_htons(0x0800))
		return -1;
	v = bpf_map_lookup_elem(&tcs, &key);
	if (!v) {
		bpf_map_update_elem(&tcs, &key, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&tcs, &key);
		if (!v)
			return -1;
	}
	if (v->runs++ != 0)
		return -1;
	v->hash = skb->hash;
	v->vlan_present = skb->vlan_present;
	v->vlan_tci = skb->vlan_tci;
	v->vlan_proto = bpf_ntohs(skb->vlan_proto);
	return -1; /* TCX_NEXT */
}

SEC("tc")
int tc_push(struct __sk_buff *skb)
{
	bpf_skb_vlan_push(skb, bpf_htons(0x8100), 100);
	return -1;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
