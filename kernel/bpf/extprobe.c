//go:build ignore

// extprobe: which skb extensions an IPv4 skb carries where the kernel
// receives it on a device (tp_btf/netif_receive_skb, at the start of
// __netif_receive_skb_core) and where it queues it for transmission on one
// (tp_btf/net_dev_queue, in __dev_queue_xmit). The loader puts one entry
// per watched device into devs, keyed by the device's name; the programs
// update only those entries: how many IPv4 skbs passed, the OR of their
// active_extensions bits, and how many of them carried a VLAN tag, per
// direction. A received 802.1Q or 802.1ad frame whose encapsulated type is
// IPv4 counts too: netif_receive_skb fires before skb_vlan_untag, with the
// tag still in the data. So does a PPPoE session frame (ETH_P_PPP_SES),
// whatever it carries.

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#define ETH_P_IP 0x0800
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88A8
#define ETH_P_PPP_SES 0x8864

struct extseen {
	__u64 rx, tx;           /* IPv4 skbs received on / queued to the device */
	__u32 rx_ext, tx_ext;   /* OR of their active_extensions */
	__u64 rx_vlan, tx_vlan; /* those with a tag in vlan_all or the data */
};

struct devname {
	char name[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, struct devname);
	__type(value, struct extseen);
} devs SEC(".maps");

struct extseen *unused_extseen __attribute__((unused));
struct devname *unused_devname __attribute__((unused));

static __always_inline void see(struct sk_buff *skb, int tx)
{
	struct devname k = {};
	struct extseen *e;
	__be16 proto = BPF_CORE_READ(skb, protocol);
	int vlan = BPF_CORE_READ(skb, vlan_all) != 0;
	__u8 ext;

	if (!tx && (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD))) {
		/* data is past the Ethernet header: TCI, then the type. */
		if (bpf_probe_read_kernel(&proto, sizeof(proto), BPF_CORE_READ(skb, data) + 2) < 0)
			return;
		vlan = 1;
	}
	if (proto != bpf_htons(ETH_P_IP) && proto != bpf_htons(ETH_P_PPP_SES))
		return;
	if (bpf_probe_read_kernel_str(k.name, sizeof(k.name), BPF_CORE_READ(skb, dev, name)) < 0)
		return;
	e = bpf_map_lookup_elem(&devs, &k);
	if (!e)
		return;
	ext = BPF_CORE_READ(skb, active_extensions);
	/* Plain updates: the test sends one packet at a time. */
	if (tx) {
		e->tx++;
		e->tx_ext |= ext;
		e->tx_vlan += vlan;
	} else {
		e->rx++;
		e->rx_ext |= ext;
		e->rx_vlan += vlan;
	}
}

SEC("tp_btf/netif_receive_skb")
int BPF_PROG(on_rx, struct sk_buff *skb)
{
	see(skb, 0);
	return 0;
}

SEC("tp_btf/net_dev_queue")
int BPF_PROG(on_tx, struct sk_buff *skb)
{
	see(skb, 1);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
