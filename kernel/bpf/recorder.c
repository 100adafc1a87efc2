//go:build ignore

// recorder: the skb transition recorder. One program instance is loaded per
// hook with its own hook_id; all instances share the recs, actions and cpus
// maps. record_xdp is also loaded as a cpumap program (BPF_XDP_CPUMAP).
// At a hook the program (1) recognises the marked test packet (IPv4/UDP to
// TEST_PORT, directly or inside one VXLAN, Geneve, GRE, IPIP or IPv6-in-IP
// encapsulation over IPv4 or IPv6, found from the network header at tc and
// from the Ethernet header at XDP; later fragments never match), (2)
// records the packet's
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
#define GENEVE_PORT 6081
#define ETH_P_TEB 0x6558
#define IPPROTO_IPIP_ 4
#define IPPROTO_IPV6_ 41
#define IPPROTO_GRE_ 47
#define GRE_CSUM_ 0x8000
#define GRE_KEY_ 0x2000
#define GRE_SEQ_ 0x1000
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define IPPROTO_FRAGMENT_ 44
#define IPPROTO_HOPOPTS_ 0
#define IPPROTO_DSTOPTS_ 60
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
	RD_NEIGH = 8, /* return bpf_redirect_neigh(target, NULL, 0, 0) */
	RD_FIB = 9, /* bpf_fib_lookup on the IPv4 header; on success the TTL
		     * decremented, the MACs written, return bpf_redirect(ifindex, 0) */
};

#define AF_INET_ 2
#define ETH_HLEN_ 14

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
	__u32 meta_seq; /* XDP: the last metadata byte is the packet's count at this hook */
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

/* Encapsulations the matcher follows (the low 2 bits of an encoded inner
 * offset). */
enum inner_kind {
	IN_ETH = 1, /* an Ethernet frame (VXLAN, Geneve, GRE 0x6558) */
	IN_IP4 = 2, /* an IPv4 packet (IPIP, GRE 0x0800) */
	IN_IP6 = 3, /* an IPv6 packet (IPv6 next header 41, GRE 0x86dd) */
};

/* load(ctx, off, buf, len) reads packet bytes: for an skb from its network
 * header (bpf_skb_load_bytes_relative, BPF_HDR_START_NET: the linear part
 * only), for XDP from data (bpf_xdp_load_bytes).
 *
 * name_ip(ctx, off, proto, outer) looks at the IPv4 or IPv6 packet (proto:
 * its ethertype) at off: an IPv4 packet of fragment offset 0, or an IPv6
 * packet whose transport header follows the fixed header, up to two
 * hop-by-hop or destination options headers, and a fragment header of
 * offset 0. Returns 0 for UDP to TEST_PORT. When outer is set it
 * also follows one encapsulation and returns (offset << 2 | kind) of the
 * inner packet: UDP to VXLAN_PORT (8-byte header) or GENEVE_PORT (8 bytes
 * and the options' length), GRE (4 bytes, 4 more for each of the
 * checksum, key and sequence flags; protocol 0x6558, 0x0800 or 0x86dd),
 * IPv4 in IP (protocol 4) and IPv6 in IP (41). Returns -1 otherwise.
 * Later fragments never match. */
#define DEFINE_MATCH(name, ctx_t, load)                                          \
	static __always_inline int name##_ip(ctx_t *ctx, __u32 off, __be16 proto, int outer) \
	{                                                                        \
		__be16 fo, dport, fl;                                            \
		__u8 vi, p;                                                      \
		__u32 n;                                                         \
		if (proto == bpf_htons(ETH_P_IPV6)) {                            \
			if (load(ctx, off + 6, &p, 1))                           \
				return -1;                                       \
			off += 40;                                               \
			/* up to two hop-by-hop or destination options    \
			 * headers (ip6tnl's encapsulation limit) */          \
			for (int i = 0; i < 2; i++) {                            \
				if (p != IPPROTO_HOPOPTS_ && p != IPPROTO_DSTOPTS_) \
					break;                                   \
				if (load(ctx, off, &p, 1) || load(ctx, off + 1, &vi, 1)) \
					return -1;                               \
				off += ((__u32)vi + 1) * 8;                      \
			}                                                        \
			if (p == IPPROTO_FRAGMENT_) {                            \
				if (load(ctx, off, &p, 1) || load(ctx, off + 2, &fo, 2)) \
					return -1;                               \
				if (fo & bpf_htons(0xfff8))                      \
					return -1;                               \
				off += 8;                                        \
			}                                                        \
		} else if (proto == bpf_htons(ETH_P_IP)) {                       \
			if (load(ctx, off, &vi, 1) || load(ctx, off + 9, &p, 1) || \
			    load(ctx, off + 6, &fo, 2))                          \
				return -1;                                       \
			if ((vi >> 4) != 4 || (fo & bpf_htons(0x1fff)))          \
				return -1;                                       \
			off += (vi & 0xf) * 4;                                   \
		} else {                                                         \
			return -1;                                               \
		}                                                                \
		if (p == IPPROTO_UDP_) {                                         \
			if (load(ctx, off + 2, &dport, 2))                       \
				return -1;                                       \
			if (dport == bpf_htons(TEST_PORT))                       \
				return 0;                                        \
			if (outer && dport == bpf_htons(VXLAN_PORT))             \
				return (off + 8 + 8) << 2 | IN_ETH;              \
			if (outer && dport == bpf_htons(GENEVE_PORT)) {          \
				if (load(ctx, off + 8, &vi, 1))                  \
					return -1;                               \
				return (off + 8 + 8 + (vi & 0x3f) * 4) << 2 | IN_ETH; \
			}                                                        \
			return -1;                                               \
		}                                                                \
		if (!outer)                                                      \
			return -1;                                               \
		if (p == IPPROTO_IPIP_)                                          \
			return off << 2 | IN_IP4;                                \
		if (p == IPPROTO_IPV6_)                                          \
			return off << 2 | IN_IP6;                                \
		if (p != IPPROTO_GRE_ || load(ctx, off, &fl, 2) || load(ctx, off + 2, &dport, 2)) \
			return -1;                                               \
		n = 4;                                                           \
		if (fl & bpf_htons(GRE_CSUM_))                                   \
			n += 4;                                                  \
		if (fl & bpf_htons(GRE_KEY_))                                    \
			n += 4;                                                  \
		if (fl & bpf_htons(GRE_SEQ_))                                    \
			n += 4;                                                  \
		if (dport == bpf_htons(ETH_P_TEB))                               \
			return (off + n) << 2 | IN_ETH;                          \
		if (dport == bpf_htons(ETH_P_IP))                                \
			return (off + n) << 2 | IN_IP4;                          \
		if (dport == bpf_htons(ETH_P_IPV6))                              \
			return (off + n) << 2 | IN_IP6;                          \
		return -1;                                                       \
	}                                                                        \
	/* name##_inner: whether the packet at the encoded offset enc is the  \
	 * test datagram. */                                                     \
	static __always_inline int name##_inner(ctx_t *ctx, int enc)             \
	{                                                                        \
		__u32 off = (__u32)enc >> 2;                                     \
		__be16 proto;                                                    \
		switch (enc & 3) {                                               \
		case IN_ETH:                                                     \
			if (load(ctx, off + 12, &proto, 2))                      \
				return 0;                                        \
			return name##_ip(ctx, off + 14, proto, 0) == 0;          \
		case IN_IP4:                                                     \
			return name##_ip(ctx, off, bpf_htons(ETH_P_IP), 0) == 0; \
		case IN_IP6:                                                     \
			return name##_ip(ctx, off, bpf_htons(ETH_P_IPV6), 0) == 0; \
		}                                                                \
		return 0;                                                        \
	}

static __always_inline long skb_load_net(struct __sk_buff *skb, __u32 off, void *to, __u32 len)
{
	return bpf_skb_load_bytes_relative(skb, off, to, len, BPF_HDR_START_NET);
}

DEFINE_MATCH(skbm, struct __sk_buff, skb_load_net)
DEFINE_MATCH(xdpm, struct xdp_md, bpf_xdp_load_bytes)

/* match_skb: the test datagram, found from the network header whatever
 * precedes it (an Ethernet header, an outer header that tc ingress pushes
 * back with mac_len, or nothing on a device without a link-layer header). */
static __always_inline int match_skb(struct __sk_buff *skb)
{
	int r = skbm_ip(skb, 0, skb->protocol, 1);
	if (r <= 0)
		return r == 0;
	return skbm_inner(skb, r);
}

/* match_xdp: the test datagram in the Ethernet frame at data. */
static __always_inline int match_xdp(struct xdp_md *ctx)
{
	__be16 proto;
	int r;

	if (bpf_xdp_load_bytes(ctx, 12, &proto, 2))
		return 0;
	r = xdpm_ip(ctx, 14, proto, 1);
	if (r <= 0)
		return r == 0;
	return xdpm_inner(ctx, r);
}

/* match_later: a later fragment (offset > 0) of a UDP datagram, IPv4 or
 * IPv6 (fragment header right after the fixed header), from the network
 * header. Such a fragment has no UDP header, so it is recognised by its
 * offset alone; the transitions that use it run in namespaces carrying no
 * other fragmented traffic. */
static __always_inline int match_later(struct __sk_buff *skb)
{
	__be16 fo;
	__u8 vi, p;

	if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		if (skb_load_net(skb, 6, &p, 1) || p != IPPROTO_FRAGMENT_)
			return 0;
		if (skb_load_net(skb, 40, &p, 1) || skb_load_net(skb, 40 + 2, &fo, 2))
			return 0;
		return p == IPPROTO_UDP_ && (fo & bpf_htons(0xfff8));
	}
	if (skb->protocol != bpf_htons(ETH_P_IP))
		return 0;
	if (skb_load_net(skb, 0, &vi, 1) || skb_load_net(skb, 9, &p, 1) || skb_load_net(skb, 6, &fo, 2))
		return 0;
	return (vi >> 4) == 4 && p == IPPROTO_UDP_ && (fo & bpf_htons(0x1fff));
}

/* set_cg_fields performs the writes of a that a cgroup_skb program may
 * make too: mark, priority, cb[]. */
static __always_inline void set_cg_fields(struct __sk_buff *skb, struct action *a)
{
	if (a->set & SET_MARK)
		skb->mark = a->mark;
	if (a->set & SET_PRIORITY)
		skb->priority = a->priority;
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
}

/* set_fields performs the writes of a (mark ... tstamp). */
static __always_inline void set_fields(struct __sk_buff *skb, struct action *a)
{
	set_cg_fields(skb, a);
	if (a->set & SET_TC_INDEX)
		skb->tc_index = a->tc_index;
	if (a->set & SET_HASH)
		bpf_set_hash(skb, a->hash);
	if (a->set & SET_TSTAMP_MONO)
		bpf_skb_set_tstamp(skb, a->tstamp, BPF_SKB_CLOCK_MONOTONIC);
	else if (a->set & SET_TSTAMP)
		skb->tstamp = a->tstamp;
}

/* record_common reads the fields every skb program type of the recorder
 * can read (ctx offsets must be constant: no loop over cb[]). */
static __always_inline void record_common(struct rec *r, struct __sk_buff *skb)
{
	r->mark = skb->mark;
	r->priority = skb->priority;
	r->tc_index = skb->tc_index;
	r->cb[0] = skb->cb[0];
	r->cb[1] = skb->cb[1];
	r->cb[2] = skb->cb[2];
	r->cb[3] = skb->cb[3];
	r->cb[4] = skb->cb[4];
	r->hash = skb->hash;
	r->pkt_type = skb->pkt_type;
	r->ingress_ifindex = skb->ingress_ifindex;
	r->ifindex = skb->ifindex;
	r->gso_segs = skb->gso_segs;
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

/* fib_forward_tc: RD_FIB at a tc hook, as Cilium's fib_redirect does it:
 * bpf_fib_lookup (tot_len 0: the skb is checked against the egress device)
 * from the device the packet came in by; on BPF_FIB_LKUP_RET_SUCCESS the
 * TTL decremented (bpf_l3_csum_replace, bpf_skb_store_bytes) and the next
 * hop's addresses written (bpf_skb_store_bytes, which makes the head
 * writable), then bpf_redirect(ifindex, 0). *rc is the lookup's return;
 * any other result returns TCX_NEXT. */
static __always_inline long fib_forward_tc(struct __sk_buff *skb, __s32 *rc)
{
	struct bpf_fib_lookup p = {};
	struct iphdr iph;
	__u16 old, new;

	*rc = -1;
	if (bpf_skb_load_bytes(skb, ETH_HLEN_, &iph, sizeof(iph)) < 0 || iph.ttl <= 1)
		return TCX_NEXT;
	p.family = AF_INET_;
	p.tos = iph.tos;
	p.l4_protocol = iph.protocol;
	p.ipv4_src = iph.saddr;
	p.ipv4_dst = iph.daddr;
	p.ifindex = skb->ingress_ifindex;
	*rc = bpf_fib_lookup(skb, &p, sizeof(p), 0);
	if (*rc != 0)
		return TCX_NEXT;
	old = bpf_htons((__u16)iph.ttl << 8 | iph.protocol);
	iph.ttl--;
	new = bpf_htons((__u16)iph.ttl << 8 | iph.protocol);
	bpf_l3_csum_replace(skb, ETH_HLEN_ + offsetof(struct iphdr, check), old, new, 2);
	bpf_skb_store_bytes(skb, ETH_HLEN_ + offsetof(struct iphdr, ttl), &iph.ttl, 1, 0);
	bpf_skb_store_bytes(skb, 0, p.dmac, 6, 0);
	bpf_skb_store_bytes(skb, 6, p.smac, 6, 0);
	return bpf_redirect(p.ifindex, 0);
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

		record_common(r, skb);
		r->tstamp = skb->tstamp;
		r->tstamp_type = skb->tstamp_type;
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
	case RD_NEIGH:
		ret = bpf_redirect_neigh(a->target, NULL, 0, 0);
		break;
	case RD_FIB: {
		__s32 rc;

		ret = fib_forward_tc(skb, &rc);
		if (r)
			r->ret = rc;
		return ret;
	}
	default:
		return TCX_NEXT;
	}
	if (r)
		r->ret = ret;
	if (a->redirect == RD_CLONE_EGRESS || a->redirect == RD_CLONE_INGRESS)
		return TCX_NEXT;
	return ret;
}

/* record_cg: the recorder as a cgroup_skb/ingress program, for the socket
 * bound to TEST_PORT in the hook's namespace (created in the recorder's
 * cgroup). __cgroup_bpf_run_filter_skb pushes data back to the network
 * header and __bpf_prog_run_save_cb hands the program a zeroed cb[]. A
 * cgroup_skb program cannot read tstamp_type or data_meta
 * (cg_skb_is_valid_access); it runs no action and lets the packet through
 * (1). */
static __always_inline void record_cg_fields(struct __sk_buff *skb)
{
	struct rec *r = record_start();

	if (r) {
		void *data = (void *)(long)skb->data;
		void *data_end = (void *)(long)skb->data_end;

		record_common(r, skb);
		r->tstamp = skb->tstamp;
		r->headlen = (__u32)(data_end - data);
	}
}

SEC("cgroup_skb/ingress")
int record_cg(struct __sk_buff *skb)
{
	if (match_skb(skb))
		record_cg_fields(skb);
	return 1;
}

/* record_cg_egress: the recorder as a cgroup_skb/egress program on the
 * transition's sender socket (made in the recorder's cgroup): it runs in
 * ip_finish_output with data at the network header and, like ingress, a
 * cb[] that __bpf_prog_run_save_cb zeroes for it and restores after it.
 * Its action may write mark, priority and cb[] (the fields
 * cg_skb_is_valid_access lets it write besides tstamp). */
SEC("cgroup_skb/egress")
int record_cg_egress(struct __sk_buff *skb)
{
	__u32 k = hook_id;
	struct action *a;

	if (!match_skb(skb))
		return 1;
	record_cg_fields(skb);
	a = bpf_map_lookup_elem(&actions, &k);
	if (a)
		set_cg_fields(skb, a);
	return 1;
}

/* record_sf: the recorder as a socket filter (SO_ATTACH_BPF) on that same
 * socket. bpf_prog_run_save_cb zeroes cb[] for it; data is at the
 * transport header, but a socket filter cannot read data, data_end,
 * tstamp, tstamp_type or data_meta (sk_filter_is_valid_access). It keeps
 * the whole packet. */
SEC("socket")
int record_sf(struct __sk_buff *skb)
{
	struct rec *r;

	if (!match_skb(skb))
		return skb->len;
	r = record_start();
	if (!r)
		return skb->len;
	record_common(r, skb);
	return skb->len;
}

/* fib_forward_xdp: RD_FIB at an XDP hook, as samples/bpf/xdp_fwd does it:
 * bpf_fib_lookup with tot_len the IPv4 header's (checked against the
 * route's MTU) from the device the frame came in by; on success the TTL
 * decremented, the next hop's addresses written and bpf_redirect(ifindex,
 * 0). r->ret is the lookup's return; any other result is XDP_PASS. */
static __always_inline int fib_forward_xdp(struct xdp_md *ctx, struct rec *r)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct bpf_fib_lookup p = {};
	struct ethhdr *eth = data;
	struct iphdr *iph = data + ETH_HLEN_;
	__u32 check;
	long rc;

	if ((void *)(iph + 1) > data_end || iph->ttl <= 1)
		return XDP_PASS;
	p.family = AF_INET_;
	p.tos = iph->tos;
	p.l4_protocol = iph->protocol;
	p.tot_len = bpf_ntohs(iph->tot_len);
	p.ipv4_src = iph->saddr;
	p.ipv4_dst = iph->daddr;
	p.ifindex = ctx->ingress_ifindex;
	rc = bpf_fib_lookup(ctx, &p, sizeof(p), 0);
	if (r)
		r->ret = rc;
	if (rc != 0)
		return XDP_PASS;
	/* ip_decrease_ttl */
	check = iph->check;
	check += bpf_htons(0x0100);
	iph->check = (__u16)(check + (check >= 0xFFFF));
	iph->ttl--;
	__builtin_memcpy(eth->h_dest, p.dmac, 6);
	__builtin_memcpy(eth->h_source, p.smac, 6);
	return bpf_redirect(p.ifindex, 0);
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
		__u8 seq = 0;

		if (a->meta_seq) {
			struct rec *c = bpf_map_lookup_elem(&recs, &k);

			if (c)
				seq = (__u8)c->count; /* this packet's number */
		}
		meta = (void *)(long)ctx->data_meta;
		data = (void *)(long)ctx->data;
		for (i = 0; i < 256; i++) {
			if (meta + i + 1 > data)
				break;
			/* the last byte is seq when meta_seq */
			*(__u8 *)(meta + i) = (seq && meta + i + 2 > data) ? seq : 0xa0 + i;
		}
	}
	if (a->redirect == RD_CPUMAP)
		return bpf_redirect_map(&cpus, 0, 0);
	if (a->redirect == RD_FIB)
		return fib_forward_xdp(ctx, r);
	return a->redirect == RD_XDP_TX ? XDP_TX : XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
