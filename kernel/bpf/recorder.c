//go:build ignore

// recorder: the skb transition recorder. One program instance is loaded per
// hook with its own hook_id; all instances share the recs, actions and cpus
// maps. record_xdp is also loaded as a cpumap program (BPF_XDP_CPUMAP).
// At a hook the program (1) recognises the marked test packet (IPv4/UDP to
// TEST_PORT, directly or inside VXLAN/UDP 4789 over IPv4 or IPv6; later
// fragments never match), (2) records the packet's
// observable carriers into recs[hook_id] (first packet only; count counts
// all), then (3) performs actions[hook_id]. A later fragment of a UDP
// datagram (which has no UDP header to match) gets the writes of
// actions[MAX_HOOKS + hook_id] and is not recorded. The semantics are
// documented in kernel/observe.

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define MAX_HOOKS 32
#define META_REC 32
#define TEST_PORT 9999
#define VXLAN_PORT 4789
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define IPPROTO_FRAGMENT_ 44
#define IPPROTO_UDP_ 17
#define TCX_NEXT -1
#define BPF_F_INGRESS_ (1ULL << 0)

enum set_bits {
	SET_MARK = 1 << 0,
	SET_PRIORITY = 1 << 1,
	SET_TC_INDEX = 1 << 2,
	SET_CB0 = 1 << 3, /* cb[i] is SET_CB0 << i */
	SET_HASH = 1 << 8,
	SET_TSTAMP = 1 << 9,
	SET_TSTAMP_MONO = 1 << 10,
};

enum redirect_kind {
	RD_NONE = 0,
	RD_EGRESS = 1,
	RD_INGRESS = 2,
	RD_PEER = 3,
	RD_CLONE_EGRESS = 4,
	RD_CLONE_INGRESS = 5,
	RD_XDP_TX = 6, /* at an XDP hook: return XDP_TX */
	RD_CPUMAP = 7, /* at an XDP hook: return bpf_redirect_map(&cpus, 0, 0) */
};

struct rec {
	__u64 count;
	__u64 tstamp;
	__u32 mark;
	__u32 priority;
	__u32 tc_index;
	__u32 cb[5];
	__u32 hash;
	__u32 tstamp_type;
	__u32 pkt_type;
	__u32 ingress_ifindex;
	__u32 ifindex;
	__u32 meta_len;
	__s32 ret; /* result of the hook's action helper (redirect / adjust_meta) */
	__u32 gso_segs;
	__u32 headlen; /* data_end - data: skb_headlen() from the mac header */
	__u32 pad;
	__u8 meta[META_REC];
};

struct action {
	__u32 set;
	__u32 mark;
	__u32 priority;
	__u32 tc_index;
	__u32 cb[5];
	__u32 hash;
	__u64 tstamp;
	__u32 redirect;
	__u32 target;
	__u32 meta_len;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_HOOKS);
	__type(key, __u32);
	__type(value, struct rec);
} recs SEC(".maps");

/* actions[hook_id]: the action on the test packet; actions[MAX_HOOKS +
 * hook_id]: the writes on a later fragment (see match_later). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * MAX_HOOKS);
	__type(key, __u32);
	__type(value, struct action);
} actions SEC(".maps");

/* cpus: the cpumap RD_CPUMAP redirects into (entry 0). The harness
 * fills the entry (struct bpf_cpumap_val: qsize, and the fd of a
 * recorder instance loaded as a BPF_XDP_CPUMAP program). */
struct {
	__uint(type, BPF_MAP_TYPE_CPUMAP);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct bpf_cpumap_val));
	__uint(max_entries, 1);
} cpus SEC(".maps");

volatile const __u32 hook_id = 0;

/* Unused pointers make bpf2go emit Go types for the map values. */
struct rec *unused_rec __attribute__((unused));
struct action *unused_action __attribute__((unused));

struct hdrs {
	__be16 proto;
	__u8 ihl_ver;
	__u8 ip_proto;
	__be16 dport;
};

/* load(ctx, off, buf, len): bpf_skb_load_bytes or bpf_xdp_load_bytes.
 * name_at(ctx, off, want) looks at the Ethernet frame at off: an IPv4
 * packet (fragment offset 0) or an IPv6 packet (UDP directly after the
 * fixed header, or after a fragment header of offset 0) carrying UDP.
 * Returns 0 for UDP to TEST_PORT, the offset of the inner frame for UDP to
 * VXLAN_PORT when want is set, -1 otherwise. Later fragments never match. */
#define DEFINE_MATCH(name, ctx_t, load)                                          \
	static __always_inline int name##_at(ctx_t *ctx, __u32 off, __u16 want)  \
	{                                                                        \
		__be16 proto, fo;                                                \
		__u8 vi, p;                                                      \
		__be16 dport;                                                    \
		if (load(ctx, off + 12, &proto, 2))                              \
			return -1;                                               \
		if (proto == bpf_htons(ETH_P_IPV6)) {                            \
			if (load(ctx, off + 14 + 6, &p, 1))                      \
				return -1;                                       \
			off += 14 + 40;                                          \
			if (p == IPPROTO_FRAGMENT_) {                            \
				if (load(ctx, off, &p, 1) || load(ctx, off + 2, &fo, 2)) \
					return -1;                               \
				if (fo & bpf_htons(0xfff8))                      \
					return -1;                               \
				off += 8;                                        \
			}                                                        \
			if (p != IPPROTO_UDP_)                                   \
				return -1;                                       \
		} else {                                                         \
			if (proto != bpf_htons(ETH_P_IP))                        \
				return -1;                                       \
			if (load(ctx, off + 14, &vi, 1) || load(ctx, off + 14 + 9, &p, 1) || \
			    load(ctx, off + 14 + 6, &fo, 2))                     \
				return -1;                                       \
			if ((vi >> 4) != 4 || p != IPPROTO_UDP_ || (fo & bpf_htons(0x1fff))) \
				return -1;                                       \
			off += 14 + (vi & 0xf) * 4;                              \
		}                                                                \
		if (load(ctx, off + 2, &dport, 2))                               \
			return -1;                                               \
		if (dport == bpf_htons(TEST_PORT))                               \
			return 0;                                                \
		if (want && dport == bpf_htons(VXLAN_PORT))                      \
			return off + 8 + 8;                                      \
		return -1;                                                       \
	}                                                                        \
	static __always_inline int name(ctx_t *ctx)                              \
	{                                                                        \
		int inner = name##_at(ctx, 0, 1);                                \
		if (inner <= 0)                                                  \
			return inner == 0;                                       \
		return name##_at(ctx, inner, 0) == 0;                            \
	}

DEFINE_MATCH(match_skb, struct __sk_buff, bpf_skb_load_bytes)
DEFINE_MATCH(match_xdp, struct xdp_md, bpf_xdp_load_bytes)

/* match_later: a later fragment (offset > 0) of a UDP datagram, IPv4 or
 * IPv6 (fragment header right after the fixed header). Such a fragment has
 * no UDP header, so it is recognised by its offset alone; the transitions
 * that use it run in namespaces carrying no other fragmented traffic. */
static __always_inline int match_later(struct __sk_buff *skb)
{
	__be16 proto, fo;
	__u8 vi, p;

	if (bpf_skb_load_bytes(skb, 12, &proto, 2))
		return 0;
	if (proto == bpf_htons(ETH_P_IPV6)) {
		if (bpf_skb_load_bytes(skb, 14 + 6, &p, 1) || p != IPPROTO_FRAGMENT_)
			return 0;
		if (bpf_skb_load_bytes(skb, 14 + 40, &p, 1) || bpf_skb_load_bytes(skb, 14 + 40 + 2, &fo, 2))
			return 0;
		return p == IPPROTO_UDP_ && (fo & bpf_htons(0xfff8));
	}
	if (proto != bpf_htons(ETH_P_IP))
		return 0;
	if (bpf_skb_load_bytes(skb, 14, &vi, 1) || bpf_skb_load_bytes(skb, 14 + 9, &p, 1) ||
	    bpf_skb_load_bytes(skb, 14 + 6, &fo, 2))
		return 0;
	return (vi >> 4) == 4 && p == IPPROTO_UDP_ && (fo & bpf_htons(0x1fff));
}

/* set_fields performs the writes of a (mark ... tstamp). */
static __always_inline void set_fields(struct __sk_buff *skb, struct action *a)
{
	if (a->set & SET_MARK)
		skb->mark = a->mark;
	if (a->set & SET_PRIORITY)
		skb->priority = a->priority;
	if (a->set & SET_TC_INDEX)
		skb->tc_index = a->tc_index;
	if (a->set & (SET_CB0 << 0))
		skb->cb[0] = a->cb[0];
	if (a->set & (SET_CB0 << 1))
		skb->cb[1] = a->cb[1];
	if (a->set & (SET_CB0 << 2))
		skb->cb[2] = a->cb[2];
	if (a->set & (SET_CB0 << 3))
		skb->cb[3] = a->cb[3];
	if (a->set & (SET_CB0 << 4))
		skb->cb[4] = a->cb[4];
	if (a->set & SET_HASH)
		bpf_set_hash(skb, a->hash);
	if (a->set & SET_TSTAMP_MONO)
		bpf_skb_set_tstamp(skb, a->tstamp, BPF_SKB_CLOCK_MONOTONIC);
	else if (a->set & SET_TSTAMP)
		skb->tstamp = a->tstamp;
}

static __always_inline struct rec *record_start(void)
{
	__u32 k = hook_id;
	struct rec *r = bpf_map_lookup_elem(&recs, &k);
	if (!r)
		return 0;
	if (__sync_fetch_and_add(&r->count, 1) != 0)
		return 0; /* keep the first packet's view */
	return r;
}

SEC("tc")
int record_tc(struct __sk_buff *skb)
{
	__u32 k = hook_id;
	struct action *a;
	struct rec *r;
	long ret = 0;
	int i;

	if (!match_skb(skb)) {
		if (!match_later(skb))
			return TCX_NEXT;
		k = MAX_HOOKS + hook_id;
		a = bpf_map_lookup_elem(&actions, &k);
		if (a)
			set_fields(skb, a);
		return TCX_NEXT;
	}
	r = record_start();
	if (r) {
		void *meta = (void *)(long)skb->data_meta;
		void *data = (void *)(long)skb->data;
		void *data_end = (void *)(long)skb->data_end;

		r->mark = skb->mark;
		r->priority = skb->priority;
		r->tc_index = skb->tc_index;
		r->cb[0] = skb->cb[0]; /* ctx offsets must be constant: no loop */
		r->cb[1] = skb->cb[1];
		r->cb[2] = skb->cb[2];
		r->cb[3] = skb->cb[3];
		r->cb[4] = skb->cb[4];
		r->hash = skb->hash;
		r->tstamp = skb->tstamp;
		r->tstamp_type = skb->tstamp_type;
		r->pkt_type = skb->pkt_type;
		r->ingress_ifindex = skb->ingress_ifindex;
		r->ifindex = skb->ifindex;
		r->gso_segs = skb->gso_segs;
		r->headlen = (__u32)(data_end - data);
		r->meta_len = (__u32)(data - meta);
		for (i = 0; i < META_REC; i++) {
			if (meta + i + 1 > data)
				break;
			r->meta[i] = *(__u8 *)(meta + i);
		}
	}

	a = bpf_map_lookup_elem(&actions, &k);
	if (!a)
		return TCX_NEXT;
	set_fields(skb, a);

	switch (a->redirect) {
	case RD_EGRESS:
		ret = bpf_redirect(a->target, 0);
		break;
	case RD_INGRESS:
		ret = bpf_redirect(a->target, BPF_F_INGRESS_);
		break;
	case RD_PEER:
		ret = bpf_redirect_peer(a->target, 0);
		break;
	case RD_CLONE_EGRESS:
		ret = bpf_clone_redirect(skb, a->target, 0);
		break;
	case RD_CLONE_INGRESS:
		ret = bpf_clone_redirect(skb, a->target, BPF_F_INGRESS_);
		break;
	default:
		return TCX_NEXT;
	}
	if (r)
		r->ret = ret;
	if (a->redirect == RD_CLONE_EGRESS || a->redirect == RD_CLONE_INGRESS)
		return TCX_NEXT;
	return ret;
}

SEC("xdp")
int record_xdp(struct xdp_md *ctx)
{
	__u32 k = hook_id;
	struct action *a;
	struct rec *r;
	void *meta, *data;
	int i, n;
	long ret;

	if (!match_xdp(ctx))
		return XDP_PASS;
	r = record_start();
	if (r) {
		r->ingress_ifindex = ctx->ingress_ifindex;
		meta = (void *)(long)ctx->data_meta;
		data = (void *)(long)ctx->data;
		r->meta_len = meta < data ? (__u32)(data - meta) : 0;
	}
	a = bpf_map_lookup_elem(&actions, &k);
	if (!a)
		return XDP_PASS;
	n = a->meta_len;
	if (n) {
		ret = bpf_xdp_adjust_meta(ctx, -n);
		if (r)
			r->ret = ret;
		if (ret)
			return XDP_PASS;
		meta = (void *)(long)ctx->data_meta;
		data = (void *)(long)ctx->data;
		for (i = 0; i < 256; i++) {
			if (meta + i + 1 > data)
				break;
			*(__u8 *)(meta + i) = 0xa0 + i;
		}
	}
	if (a->redirect == RD_CPUMAP)
		return bpf_redirect_map(&cpus, 0, 0);
	return a->redirect == RD_XDP_TX ? XDP_TX : XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
