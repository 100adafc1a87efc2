//go:build ignore

// metaprobe: XDP metadata as a tracing program sees it. meta_xdp is a
// native XDP program that reserves 8 bytes of metadata
// (bpf_xdp_adjust_meta) and fills them with 0xa0 + i. meta_free, on the
// kfree_skb tracepoint (tp_btf), reads for an skb freed on a watched
// device what the model's xdp-meta design reads at a tracepoint:
// skb_shinfo(skb)->meta_len and the meta_len bytes before the mac header
// (skb_metadata_end), through BTF and bpf_probe_read_kernel, and its drop
// reason (only IPv6 packets of one traffic class when mfilter says so). tc_touch is
// a tc program that writes a packet byte in place (so the verifier marks it
// seen_direct_write and cls_bpf runs bpf_unclone_prologue on a cloned
// skb); tc_metalen, after it, records data - data_meta. tc_vlan runs the
// helpers tc_vlan_ops lists (bpf_skb_vlan_push, bpf_skb_vlan_pop,
// bpf_skb_change_head, bpf_skb_adjust_room, bpf_skb_change_proto)
// and records what the first packet looks like after them: the helpers'
// returns, data - data_meta, the metadata bytes, the frame's first bytes
// and the tag fields of __sk_buff.

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#define META_LEN 8

struct metaseen {
	__u64 count;   /* skbs freed on the device */
	__u32 meta_len; /* of the first */
	__u32 reason;   /* of the first: enum skb_drop_reason */
	__u8 meta[META_LEN];
};

struct mdevname {
	char name[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, struct mdevname);
	__type(value, struct metaseen);
} mdevs SEC(".maps");

/* mfilter[0]: when not 0, meta_free counts only IPv6 packets of that
 * traffic class (a test's own packets among a link's neighbour discovery
 * and MLD). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} mfilter SEC(".maps");

struct metaseen *unused_metaseen __attribute__((unused));
struct mdevname *unused_mdevname __attribute__((unused));

SEC("xdp")
int meta_xdp(struct xdp_md *ctx)
{
	void *meta, *data;
	int i;

	if (bpf_xdp_adjust_meta(ctx, -META_LEN))
		return XDP_PASS;
	meta = (void *)(long)ctx->data_meta;
	data = (void *)(long)ctx->data;
	for (i = 0; i < META_LEN; i++) {
		if (meta + i + 1 > data)
			break;
		*(__u8 *)(meta + i) = 0xa0 + i;
	}
	return XDP_PASS;
}

/* xdp_head_delta[0]: meta_xdp_head's bpf_xdp_adjust_head offset and
 * meta_xdp_tail's bpf_xdp_adjust_tail offset. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __s32);
} xdp_head_delta SEC(".maps");

/* meta_xdp_head is meta_xdp followed by an XDP decap or encap: the
 * Ethernet header is saved, bpf_xdp_adjust_head(ctx, delta) moves the
 * frame start (and the metadata with it), and the header is written at the
 * new start. A failing helper is XDP_ABORTED. */
SEC("xdp")
int meta_xdp_head(struct xdp_md *ctx)
{
	__u32 k = 0;
	__s32 *delta = bpf_map_lookup_elem(&xdp_head_delta, &k);
	struct ethhdr eth;
	void *meta, *data, *end;
	int i;

	if (!delta || bpf_xdp_adjust_meta(ctx, -META_LEN))
		return XDP_ABORTED;
	meta = (void *)(long)ctx->data_meta;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (meta + META_LEN > data || data + sizeof(eth) > end)
		return XDP_ABORTED;
	for (i = 0; i < META_LEN; i++)
		*(__u8 *)(meta + i) = 0xa0 + i;
	__builtin_memcpy(&eth, data, sizeof(eth));
	if (bpf_xdp_adjust_head(ctx, *delta))
		return XDP_ABORTED;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (data + sizeof(eth) > end)
		return XDP_ABORTED;
	__builtin_memcpy(data, &eth, sizeof(eth));
	return XDP_PASS;
}

/* xdp_tail_ret: [0] 1 once meta_xdp_tail ran, [1] its helper's return. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __s32);
} xdp_tail_ret SEC(".maps");

/* meta_xdp_tail is meta_xdp followed by bpf_xdp_adjust_tail(ctx, delta)
 * on the first frame, whose return it records; it passes every frame. */
SEC("xdp")
int meta_xdp_tail(struct xdp_md *ctx)
{
	__u32 k = 0, k1 = 1;
	__s32 *delta = bpf_map_lookup_elem(&xdp_head_delta, &k);
	__s32 *ran = bpf_map_lookup_elem(&xdp_tail_ret, &k);
	__s32 *ret = bpf_map_lookup_elem(&xdp_tail_ret, &k1);
	void *meta, *data;
	int i;

	if (!delta || !ran || !ret || *ran || bpf_xdp_adjust_meta(ctx, -META_LEN))
		return XDP_PASS;
	meta = (void *)(long)ctx->data_meta;
	data = (void *)(long)ctx->data;
	if (meta + META_LEN > data)
		return XDP_PASS;
	for (i = 0; i < META_LEN; i++)
		*(__u8 *)(meta + i) = 0xa0 + i;
	*ran = 1;
	*ret = bpf_xdp_adjust_tail(ctx, *delta);
	return XDP_PASS;
}

/* tc_lens[0]: data - data_meta at tc_metalen (+1, so 0 is "not run"). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} tc_lens SEC(".maps");

SEC("tc")
int tc_touch(struct __sk_buff *skb)
{
	__u8 *data = (void *)(long)skb->data;
	__u8 *end = (void *)(long)skb->data_end;

	if (data + 1 <= end)
		data[0] ^= 0x02; /* a direct write (bpf_unclone_prologue): flip the
				  * destination MAC's locally administered bit */
	return -1; /* TCX_NEXT */
}

SEC("tc")
int tc_metalen(struct __sk_buff *skb)
{
	__u32 k = 0, *v = bpf_map_lookup_elem(&tc_lens, &k);

	if (v && *v == 0)
		*v = (__u32)((long)skb->data - (long)skb->data_meta) + 1;
	return -1;
}

#define VLAN_OPS 4
#define VLAN_FRAME 48

enum { VLAN_NONE, VLAN_PUSH_Q, VLAN_PUSH_AD, VLAN_POP, CHANGE_HEAD, ROOM_NET_GROW, ROOM_NET_SHRINK, ROOM_MAC_IPIP, PROTO_TO_V6,
       TAIL_GROW, TAIL_SHRINK, TAIL_GROW_BIG, TAIL_SAME,
       ROOM_MAC_IP6, ROOM_MAC_GRE, ROOM_MAC_UDP, ROOM_MAC_VXLAN, ROOM_MAC_DECAP4, ROOM_BAD_L4, PROTO_TO_V4, ROOM_BAD_L3 };

struct vlanseen {
	__u32 ran;
	__s32 ret[VLAN_OPS];
	__u32 meta_len; /* data - data_meta */
	__u32 vlan_present, vlan_tci, vlan_proto, protocol;
	__u8 meta[META_LEN];
	__u8 frame[VLAN_FRAME];
	__u32 len; /* skb->len after the calls */
};

struct vlanseen *unused_vlanseen __attribute__((unused));

/* tc_vlan_ops[i]: the i-th helper call (VLAN_PUSH_Q: 802.1Q TCI 100,
 * VLAN_PUSH_AD: 802.1ad TCI 200, VLAN_POP, CHANGE_HEAD: 14 bytes,
 * ROOM_NET_GROW / ROOM_NET_SHRINK: bpf_skb_adjust_room(+8 / -8,
 * BPF_ADJ_ROOM_NET, 0), ROOM_MAC_IPIP: bpf_skb_adjust_room(20,
 * BPF_ADJ_ROOM_MAC, BPF_F_ADJ_ROOM_ENCAP_L3_IPV4), PROTO_TO_V6:
 * bpf_skb_change_proto(ETH_P_IPV6, 0), TAIL_GROW / TAIL_SHRINK /
 * TAIL_GROW_BIG / TAIL_SAME: bpf_skb_change_tail(skb->len + 8 / - 8 /
 * + 8000 / + 0, 0), ROOM_MAC_IP6 / _GRE / _UDP / _VXLAN: a 40-byte
 * ENCAP_L3_IPV6, 24-byte L3_IPV4 | L4_GRE, 28-byte L3_IPV4 | L4_UDP and
 * 50-byte L3_IPV4 | L4_UDP | L2(14) | L2_ETH encap in mac mode,
 * ROOM_MAC_DECAP4: -20 bytes with DECAP_L3_IPV4, ROOM_BAD_L4: 8 bytes
 * with L4_GRE alone, PROTO_TO_V4: bpf_skb_change_proto(ETH_P_IP, 0),
 * ROOM_BAD_L3: 20 bytes with both ENCAP_L3 flags). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VLAN_OPS);
	__type(key, __u32);
	__type(value, __u32);
} tc_vlan_ops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vlanseen);
} tc_vlan_seen SEC(".maps");

SEC("tc")
int tc_vlan(struct __sk_buff *skb)
{
	__u32 k = 0, i;
	struct vlanseen *v = bpf_map_lookup_elem(&tc_vlan_seen, &k);
	void *meta, *data, *end;

	if (!v || v->ran)
		return -1;
	v->ran = 1;
	for (i = 0; i < VLAN_OPS; i++) {
		__u32 *op = bpf_map_lookup_elem(&tc_vlan_ops, &i);

		if (!op)
			break;
		switch (*op) {
		case VLAN_PUSH_Q:
			v->ret[i] = bpf_skb_vlan_push(skb, bpf_htons(0x8100), 100);
			break;
		case VLAN_PUSH_AD:
			v->ret[i] = bpf_skb_vlan_push(skb, bpf_htons(0x88A8), 200);
			break;
		case VLAN_POP:
			v->ret[i] = bpf_skb_vlan_pop(skb);
			break;
		case CHANGE_HEAD:
			v->ret[i] = bpf_skb_change_head(skb, 14, 0);
			break;
		case ROOM_NET_GROW:
			v->ret[i] = bpf_skb_adjust_room(skb, 8, BPF_ADJ_ROOM_NET, 0);
			break;
		case ROOM_NET_SHRINK:
			v->ret[i] = bpf_skb_adjust_room(skb, -8, BPF_ADJ_ROOM_NET, 0);
			break;
		case ROOM_MAC_IPIP:
			v->ret[i] = bpf_skb_adjust_room(skb, 20, BPF_ADJ_ROOM_MAC, BPF_F_ADJ_ROOM_ENCAP_L3_IPV4);
			break;
		case PROTO_TO_V6:
			v->ret[i] = bpf_skb_change_proto(skb, bpf_htons(0x86DD), 0);
			break;
		case TAIL_GROW:
			v->ret[i] = bpf_skb_change_tail(skb, skb->len + 8, 0);
			break;
		case TAIL_SHRINK:
			v->ret[i] = bpf_skb_change_tail(skb, skb->len - 8, 0);
			break;
		case TAIL_GROW_BIG:
			v->ret[i] = bpf_skb_change_tail(skb, skb->len + 8000, 0);
			break;
		case TAIL_SAME:
			v->ret[i] = bpf_skb_change_tail(skb, skb->len, 0);
			break;
		case ROOM_MAC_IP6:
			v->ret[i] = bpf_skb_adjust_room(skb, 40, BPF_ADJ_ROOM_MAC, BPF_F_ADJ_ROOM_ENCAP_L3_IPV6);
			break;
		case ROOM_MAC_GRE:
			v->ret[i] = bpf_skb_adjust_room(skb, 24, BPF_ADJ_ROOM_MAC,
							BPF_F_ADJ_ROOM_ENCAP_L3_IPV4 | BPF_F_ADJ_ROOM_ENCAP_L4_GRE);
			break;
		case ROOM_MAC_UDP:
			v->ret[i] = bpf_skb_adjust_room(skb, 28, BPF_ADJ_ROOM_MAC,
							BPF_F_ADJ_ROOM_ENCAP_L3_IPV4 | BPF_F_ADJ_ROOM_ENCAP_L4_UDP);
			break;
		case ROOM_MAC_VXLAN:
			v->ret[i] = bpf_skb_adjust_room(skb, 50, BPF_ADJ_ROOM_MAC,
							BPF_F_ADJ_ROOM_ENCAP_L3_IPV4 | BPF_F_ADJ_ROOM_ENCAP_L4_UDP |
							((__u64)14 << 56) | BPF_F_ADJ_ROOM_ENCAP_L2_ETH);
			break;
		case ROOM_MAC_DECAP4:
			v->ret[i] = bpf_skb_adjust_room(skb, -20, BPF_ADJ_ROOM_MAC, BPF_F_ADJ_ROOM_DECAP_L3_IPV4);
			break;
		case ROOM_BAD_L4:
			v->ret[i] = bpf_skb_adjust_room(skb, 8, BPF_ADJ_ROOM_MAC, BPF_F_ADJ_ROOM_ENCAP_L4_GRE);
			break;
		case PROTO_TO_V4:
			v->ret[i] = bpf_skb_change_proto(skb, bpf_htons(0x0800), 0);
			break;
		case ROOM_BAD_L3:
			v->ret[i] = bpf_skb_adjust_room(skb, 20, BPF_ADJ_ROOM_MAC,
							BPF_F_ADJ_ROOM_ENCAP_L3_IPV4 | BPF_F_ADJ_ROOM_ENCAP_L3_IPV6);
			break;
		}
	}
	v->vlan_present = skb->vlan_present;
	v->vlan_tci = skb->vlan_tci;
	v->vlan_proto = bpf_ntohs(skb->vlan_proto);
	v->protocol = bpf_ntohs(skb->protocol);
	v->len = skb->len;
	meta = (void *)(long)skb->data_meta;
	data = (void *)(long)skb->data;
	end = (void *)(long)skb->data_end;
	v->meta_len = data - meta;
	if (meta + META_LEN <= data)
		__builtin_memcpy(v->meta, meta, META_LEN);
	if (data + VLAN_FRAME <= end)
		__builtin_memcpy(v->frame, data, VLAN_FRAME);
	return -1;
}

/* filtered: mfilter is set and skb is not an IPv6 packet of its traffic
 * class. */
static __always_inline int filtered(struct sk_buff *skb)
{
	__u32 k = 0, *tc = bpf_map_lookup_elem(&mfilter, &k);
	unsigned char *head;
	__u8 b[2];
	__u16 nh;

	if (!tc || !*tc)
		return 0;
	head = BPF_CORE_READ(skb, head);
	nh = BPF_CORE_READ(skb, network_header);
	if (bpf_probe_read_kernel(b, 2, head + nh) < 0 || b[0] >> 4 != 6)
		return 1;
	return (__u32)(((b[0] & 0xf) << 4) | (b[1] >> 4)) != *tc;
}

SEC("tp_btf/kfree_skb")
int BPF_PROG(meta_free, struct sk_buff *skb, void *location, enum skb_drop_reason reason)
{
	struct mdevname k = {};
	struct metaseen *e;
	struct skb_shared_info *sh;
	unsigned char *head;
	__u16 mac;
	__u8 n;

	if (bpf_probe_read_kernel_str(k.name, sizeof(k.name), BPF_CORE_READ(skb, dev, name)) < 0)
		return 0;
	e = bpf_map_lookup_elem(&mdevs, &k);
	if (!e || filtered(skb))
		return 0;
	if (e->count++ != 0)
		return 0; /* keep the first skb's view */
	e->reason = reason;
	head = BPF_CORE_READ(skb, head);
	sh = (struct skb_shared_info *)(head + BPF_CORE_READ(skb, end));
	n = BPF_CORE_READ(sh, meta_len);
	e->meta_len = n;
	mac = BPF_CORE_READ(skb, mac_header);
	if (n >= META_LEN)
		bpf_probe_read_kernel(e->meta, META_LEN, head + mac - n);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
