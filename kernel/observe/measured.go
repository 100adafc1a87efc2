package observe

import (
	"fmt"
	"strings"
)

// MeasuredCells is one row of Measured: space-separated "field=value"
// cells of one transition and hook, in Observation.ValueString form.
type MeasuredCells struct {
	Transition, Hook, Cells string
}

// Measured lists, per transition and hook, the cells the running kernel
// (6.18) produced for the Transitions catalogue, in observe.Observation.ValueString form. Writers:
// observe.Writes(42) gives mark 0x2a, priority 10, tc_index 42, cb[i]
// 0x2a0i, hash 0x5eed002a, tstamp 0x280defe; Writes(43): 0x2b, 11, 43,
// 0x2b0i, 0x5eed002b, 0x2902141; Writes(77): 0x4d, 13, 13, 0x4d0i,
// 0x5eed004d, 0x496ee27; Writes(99): 0x63, 3, 35, 0x630i, 0x5eed0063,
// 0x5e69fe9.
var Measured = []MeasuredCells{
	// veth in one namespace: ____dev_forward_skb scrubs with xnet=false and
	// zeroes priority; mark and tstamp survive.
	{"veth-same-netns", "vY/tc-ingress", "count=1 mark=0x2a priority=0 tc_index=42 cb0=0x2a00 cb4=0x2a04 hash=0x5eed002a tstamp=0x280defe tstamp_type=0 pkt_type=0 ingress_ifindex=vY ifindex=vY meta_len=0"},
	// Across namespaces: xnet scrub clears mark and the (non-EDT) tstamp.
	{"veth-cross-netns", "vB/tc-ingress", "count=1 mark=0x0 priority=0 tc_index=42 cb0=0x2a00 cb4=0x2a04 hash=0x5eed002a tstamp=0x0 tstamp_type=0 pkt_type=0 ingress_ifindex=vB ifindex=vB"},
	// A datagram to B's subnet broadcast: ip_mc_output's clone comes
	// back on vA as PACKET_LOOPBACK, from the network header, before the
	// writes at vA egress; B takes the broadcast frame as
	// PACKET_BROADCAST and delivers it (brd_input) to its socket.
	{"veth-broadcast", "vA/tc-ingress", "count=1 mark=0x0 tc_index=0 hash=0x0 pkt_type=5 ingress_ifindex=vA ifindex=vA headlen=44"},
	{"veth-broadcast", "vB/tc-ingress", "count=1 mark=0x0 tc_index=42 cb0=0x2a00 hash=0x5eed002a tstamp=0x0 pkt_type=1 ingress_ifindex=vB headlen=58"},
	{"veth-broadcast", "vB/socket-filter", "count=1 tc_index=42 cb0=0x0 hash=0x5eed002a pkt_type=1"},
	// To the all-hosts group: the same loopback clone (the group is
	// joined: RTCF_LOCAL), the frame goes to 01:00:5e:00:00:01, B takes
	// it as PACKET_MULTICAST.
	{"veth-multicast", "vA/tc-ingress", "count=1 mark=0x0 pkt_type=5 ingress_ifindex=vA headlen=44"},
	{"veth-multicast", "vB/tc-ingress", "count=1 mark=0x0 tc_index=42 hash=0x5eed002a tstamp=0x0 pkt_type=2 ingress_ifindex=vB"},
	{"veth-multicast", "vB/socket-filter", "count=1 tc_index=42 hash=0x5eed002a pkt_type=2"},
	// IP_MULTICAST_LOOP off: no copy back on vA, the frame still leaves.
	{"veth-multicast-noloop", "vA/tc-ingress", "count=0"},
	{"veth-multicast-noloop", "vB/tc-ingress", "count=1 pkt_type=2"},
	// A group B's socket joined on vB: delivered there as
	// PACKET_MULTICAST; A did not join it, so no copy comes back on vA.
	{"veth-multicast-joined", "vA/tc-ingress", "count=0"},
	{"veth-multicast-joined", "vB/tc-ingress", "count=1 tc_index=42 pkt_type=2 ingress_ifindex=vB"},
	{"veth-multicast-joined", "vB/socket-filter", "count=1 tc_index=42 hash=0x5eed002a pkt_type=2"},
	// An EDT (mono delivery time) tstamp survives skb_clear_tstamp().
	{"veth-cross-netns-edt", "vB/tc-ingress", "count=1 mark=0x0 priority=0 tstamp=0x280defe tstamp_type=1"},
	// The packet reaches hA with vB's MAC: PACKET_OTHERHOST.
	{"bpf-redirect-egress", "hA/tc-ingress", "count=1 mark=0x0 pkt_type=3 ingress_ifindex=hA ifindex=hA ret=7"},
	// __bpf_tx_skb: no scrub, skb_clear_tstamp(); skb_iif stays hA.
	{"bpf-redirect-egress", "hB/tc-egress", "count=1 mark=0x2b priority=11 tc_index=43 cb0=0x2b00 hash=0x5eed002b tstamp=0x0 pkt_type=3 ingress_ifindex=hA ifindex=hB"},
	{"bpf-redirect-egress", "vB/tc-ingress", "count=1 mark=0x0 priority=0 tc_index=43 cb0=0x2b00 hash=0x5eed002b tstamp=0x0 pkt_type=0 ingress_ifindex=vB"},
	// bpf_redirect_neigh: as bpf_redirect to egress, no scrub and the
	// tstamp cleared (bpf_out_neigh_v4), pkt_type left as it was; the
	// neighbour's Ethernet header makes vB's receive PACKET_HOST.
	{"bpf-redirect-neigh", "hA/tc-ingress", "count=1 ret=7"},
	{"bpf-redirect-neigh", "hB/tc-egress", "count=1 mark=0x2b priority=11 tc_index=43 cb0=0x2b00 hash=0x5eed002b tstamp=0x0 pkt_type=3 ingress_ifindex=hA ifindex=hB"},
	{"bpf-redirect-neigh", "vB/tc-ingress", "count=1 mark=0x0 tc_index=43 hash=0x5eed002b tstamp=0x0 pkt_type=0 ingress_ifindex=vB"},
	// Forwarding in the program: bpf_fib_lookup succeeds (ret 0), the
	// redirect keeps everything but the tstamp (__bpf_tx_skb), and the
	// rewritten destination MAC makes the frame PACKET_HOST at vB. At XDP
	// the frame crosses to vB as an xdp_frame with its metadata, which vB's
	// XDP program and the skb built from the frame still carry.
	{"tc-fib-forward", "hA/tc-ingress", "count=1 pkt_type=3 ret=0"},
	{"tc-fib-forward", "hB/tc-egress", "count=1 mark=0x2b priority=11 tc_index=43 cb0=0x2b00 hash=0x5eed002b tstamp=0x0 pkt_type=3 ingress_ifindex=hA ifindex=hB"},
	{"tc-fib-forward", "vB/tc-ingress", "count=1 mark=0x0 tc_index=43 hash=0x5eed002b tstamp=0x0 pkt_type=0 ingress_ifindex=vB"},
	{"xdp-fib-forward", "hA/xdp", "count=1 ingress_ifindex=hA meta_len=0 ret=0"},
	{"xdp-fib-forward", "vB/xdp", "count=1 ingress_ifindex=vB meta_len=8"},
	{"xdp-fib-forward", "vB/tc-ingress", "count=1 mark=0x0 pkt_type=0 ingress_ifindex=vB meta_len=8 meta=a0 a1 a2 a3 a4 a5 a6 a7"},
	// __bpf_rx_skb -> dev_forward_skb in the same namespace: mark and
	// tstamp kept, priority zeroed, eth_type_trans recomputes pkt_type.
	{"bpf-redirect-ingress", "hB/tc-ingress", "count=1 mark=0x2b priority=0 tc_index=43 cb0=0x2b00 hash=0x5eed002b tstamp=0x2902141 pkt_type=3 ingress_ifindex=hB ifindex=hB"},
	// bpf_redirect_peer: skb_scrub_packet(skb, false), no dev_forward path:
	// mark, priority, tstamp all survive the namespace change.
	{"bpf-redirect-peer", "vB/tc-ingress", "count=1 mark=0x2b priority=11 tc_index=43 cb0=0x2b00 hash=0x5eed002b tstamp=0x2902141 pkt_type=0 ingress_ifindex=vB ifindex=vB"},
	{"bpf-clone-redirect-egress", "hA/tc-ingress", "count=1 ret=0"},
	{"bpf-clone-redirect-egress", "hC/tc-egress", "count=1 mark=0x2b priority=11 tc_index=43 cb0=0x2b00 hash=0x5eed002b tstamp=0x0 pkt_type=3 ingress_ifindex=hA ifindex=hC"},
	{"bpf-clone-redirect-egress", "vC/tc-ingress", "count=1 mark=0x0 priority=0 tc_index=43 cb0=0x2b00 tstamp=0x0 pkt_type=3 ingress_ifindex=vC"},
	{"bpf-clone-redirect-ingress", "hC/tc-ingress", "count=1 mark=0x2b priority=0 tc_index=43 cb0=0x2b00 hash=0x5eed002b tstamp=0x2902141 pkt_type=3 ingress_ifindex=hC ifindex=hC"},
	// Encap in the underlay's namespace: mark, priority, tc_index, hash,
	// tstamp kept on the outer packet; cb[0..3] zeroed but cb[4] kept.
	{"vxlan", "vA/tc-egress", "count=1 mark=0x2a priority=10 tc_index=42 cb0=0x0 cb1=0x0 cb2=0x0 cb3=0x0 cb4=0x2a04 hash=0x5eed002a tstamp=0x280defe ifindex=vA"},
	{"vxlan", "vB/tc-ingress", "count=1 mark=0x0 priority=0 tc_index=42 cb4=0x2a04 hash=0x5eed002a tstamp=0x0"},
	// Decap in the same namespace (xnet=false): everything written on the
	// outer packet at vB ingress survives; cb[] holds stack scratch.
	{"vxlan", "vxB/tc-ingress", "count=1 mark=0x4d priority=13 tc_index=13 hash=0x5eed004d tstamp=0x496ee27 pkt_type=0 ingress_ifindex=vxB ifindex=vxB"},
	// vxlan device in another namespace: encap and decap scrub with xnet.
	{"vxlan-xnet", "vA/tc-egress", "count=1 mark=0x0 priority=10 tc_index=42 cb4=0x2a04 hash=0x5eed002a tstamp=0x0"},
	{"vxlan-xnet", "vxB/tc-ingress", "count=1 mark=0x0 priority=13 tc_index=13 hash=0x5eed004d tstamp=0x0 ingress_ifindex=vxB"},
	// A VXLAN datagram above vA's MTU sent by a UDP socket on the underlay:
	// only the first fragment matches (and takes the writes at vA egress
	// and Writes(77) at vB ingress; the later fragment takes Writes(99)
	// there); B reassembles on local delivery to the vxlan socket. The
	// reassembled, decapsulated packet at vxB carries the first fragment's
	// mark, priority, tc_index and hash (skb_morph in
	// inet_frag_reasm_prepare) but the completing later fragment's tstamp
	// (q->stamp in inet_frag_reasm_finish: 0x5e69fe9, not the first's
	// 0x496ee27). (cb cells the model does not reproduce yet are in kernel/diff's
	// known divergences, not here.)
	{"vxlan-frag-reasm", "vA/tc-egress", "count=1 mark=0x0 priority=0 tc_index=0 cb0=0x0 hash=0x0 tstamp=0x0 ifindex=vA"},
	{"vxlan-frag-reasm", "vB/tc-ingress", "count=1 mark=0x0 priority=0 tc_index=42 cb0=0x2a00 cb3=0x2a03 cb4=0x2a04 hash=0x5eed002a tstamp=0x0 ingress_ifindex=vB"},
	{"vxlan-frag-reasm", "vxB/tc-ingress", "count=1 mark=0x4d priority=13 tc_index=13 cb0=other cb1=0x0 cb3=other hash=0x5eed004d tstamp=0x5e69fe9 tstamp_type=0 pkt_type=0 ingress_ifindex=vxB ifindex=vxB"},
	// VXLAN over an IPv6 underlay (vxlan6_xmit, udp_tunnel6_xmit_skb):
	// the same carriers survive as over IPv4.
	{"vxlan6", "vA/tc-egress", "count=1 mark=0x2a priority=10 tc_index=42 cb0=0x0 cb4=0x2a04 hash=0x5eed002a tstamp=0x280defe ifindex=vA"},
	{"vxlan6", "vB/tc-ingress", "count=1 mark=0x0 priority=0 tc_index=42 cb4=0x2a04 hash=0x5eed002a tstamp=0x0"},
	{"vxlan6", "vxB/tc-ingress", "count=1 mark=0x4d priority=13 tc_index=13 cb0=other hash=0x5eed004d tstamp=0x496ee27 pkt_type=0 ingress_ifindex=vxB ifindex=vxB"},
	// An outer IPv6 packet above the underlay's MTU is not fragmented
	// (ip6_fragment: no ignore_df on the encapsulated skb): it never
	// reaches vA.
	{"vxlan6-toobig", "vxA/tc-egress", "count=1 mark=0x0 hash=0x0"},
	{"vxlan6-toobig", "vA/tc-egress", "count=0"},
	{"vxlan6-toobig", "vB/tc-ingress", "count=0"},
	{"vxlan6-toobig", "vxB/tc-ingress", "count=0"},
	// IPv6 fragments: the sender's flow-label hash (skb_get_hash_flowi6) is
	// on the first fragment; reassembly as over IPv4 (ip6_frag_reasm).
	{"vxlan6-frag-reasm", "vA/tc-egress", "count=1 mark=0x0 tc_index=0 cb0=0x0 hash=other tstamp=0x0"},
	{"vxlan6-frag-reasm", "vB/tc-ingress", "count=1 mark=0x0 priority=0 tc_index=42 cb0=0x2a00 cb1=0x2a01 cb4=0x2a04 hash=0x5eed002a tstamp=0x0"},
	{"vxlan6-frag-reasm", "vxB/tc-ingress", "count=1 mark=0x4d priority=13 tc_index=13 cb0=other cb1=other cb3=other hash=0x5eed004d tstamp=0x5e69fe9 pkt_type=0 ingress_ifindex=vxB ifindex=vxB"},
	// XDP metadata reaches tc ingress; native veth XDP overwrites cb[0]
	// (the rest of cb[] survives), generic XDP leaves cb[] alone.
	{"xdp-meta-native", "vB/xdp", "count=1 ingress_ifindex=vB meta_len=0 ret=0"},
	{"xdp-meta-native", "vB/tc-ingress", "count=1 mark=0x0 tc_index=42 cb0=other cb1=0x2a01 cb4=0x2a04 hash=0x5eed002a meta_len=8 meta=a0 a1 a2 a3 a4 a5 a6 a7"},
	{"xdp-meta-generic", "vB/xdp", "count=1 ingress_ifindex=vB meta_len=0 ret=0"},
	// GRO: native XDP on veth segments the GSO super-packet (4 XDP runs);
	// with GRO on, the segments are merged again before tc ingress (one skb,
	// gso_segs 4, metadata kept because it is equal, cb[] = NAPI_GRO_CB
	// scratch); with GRO off, 4 skbs arrive.
	{"veth-gro", "vA/tc-egress", "count=1 gso_segs=4"},
	{"veth-gro", "vB/xdp", "count=4"},
	{"veth-gro", "vB/tc-ingress", "count=1 mark=0x0 tc_index=42 cb0=other cb4=other hash=0x5eed002a gso_segs=4 meta_len=8 meta=a0 a1 a2 a3 a4 a5 a6 a7"},
	// With no UDP_GRO socket, rx-udp-gro-forwarding or rx-gro-list merge
	// the segments all the same (measured on 6.18).
	{"veth-gro-fwd", "vB/tc-ingress", "count=1 gso_segs=4 headlen=142 meta_len=8"},
	{"veth-gro-list", "vB/tc-ingress", "count=1 gso_segs=4 headlen=142 meta_len=8"},
	// A fraglist or payload GRO skb redirected to a veth whose peer runs
	// native XDP is cut back into 4 skbs at hB (validate_xmit_skb); each
	// crosses into B as its own skb with the head's state.
	{"hub-gro-list-redirect", "hB/tc-egress", "count=1 mark=0x2b priority=11 gso_segs=4"},
	{"hub-gro-list-redirect", "vB/xdp", "count=4"},
	{"hub-gro-list-redirect", "vB/tc-ingress", "count=4 tc_index=43 hash=0x5eed002b gso_segs=0 headlen=142 meta_len=8"},
	{"hub-gro-fwd-redirect", "vB/xdp", "count=4"},
	{"hub-gro-fwd-redirect", "vB/tc-ingress", "count=4 tc_index=43 hash=0x5eed002b gso_segs=0 headlen=142 meta_len=8"},
	// A UDP GSO super-packet through vxlan crosses the veth pair whole
	// (tunnel TSO) and reaches vxB as one GSO skb; without
	// tx-udp_tnl-segmentation on vA it is cut into 4 VXLAN packets
	// (skb_udp_tunnel_segment), each with the head's mark and hash and 92
	// linear bytes of headers (measured on 6.18).
	{"vxlan-uso", "vB/tc-ingress", "count=1 tc_index=42 hash=0x5eed002a gso_segs=4 headlen=92"},
	{"vxlan-uso", "vxB/tc-ingress", "count=1 mark=0x4d gso_segs=4 headlen=42"},
	{"vxlan-uso-segmented", "vA/tc-egress", "count=1 mark=0x2a gso_segs=4 headlen=92"},
	{"vxlan-uso-segmented", "vB/tc-ingress", "count=4 tc_index=42 hash=0x5eed002a gso_segs=0 headlen=92"},
	{"vxlan-uso-segmented", "vxB/tc-ingress", "count=4 mark=0x4d gso_segs=0 headlen=42"},
	{"veth-xdp-nogro", "vB/xdp", "count=4"},
	{"veth-xdp-nogro", "vB/tc-ingress", "count=4 tc_index=42 cb4=0x2a04 hash=0x5eed002a gso_segs=0 meta_len=8"},
	{"xdp-meta-generic", "vB/tc-ingress", "count=1 mark=0x0 tc_index=42 cb0=0x2a00 cb4=0x2a04 hash=0x5eed002a meta_len=8 meta=a0 a1 a2 a3 a4 a5 a6 a7"},
	// Generic XDP linearizes a non-linear GSO skb (4042 linear bytes at tc
	// ingress, still GSO, the metadata set). A multi-buffer program gets a
	// page-pool copy instead, which tc ingress sees from its IPv4 header
	// (mac_len 0, kernel's TestKernelGenericXDPFragsMacLen), 3506 linear
	// bytes. meta_len still reads 8, but data_meta = data - 8 points into
	// the Ethernet header in front of data: the 8 "metadata" bytes a tc
	// program reads are vA's MAC address and the ethertype, not what the
	// XDP program wrote (measured on 6.18).
	{"xdp-generic-gso", "vB/tc-ingress", "count=1 tc_index=42 hash=0x5eed002a gso_segs=40 headlen=4042 meta_len=8 meta=a0 a1 a2 a3 a4 a5 a6 a7"},
	{"xdp-generic-gso-frags", "vB/xdp", "count=1 ingress_ifindex=vB meta_len=0 ret=0"},
	{"xdp-generic-gso-frags", "vB/tc-ingress", "count=1 tc_index=42 hash=0x5eed002a gso_segs=40 headlen=3506 meta_len=8 meta=02 00 00 00 02 01 08 00"},
	// XDP_TX on a veth: the frame comes back as a new skb built from it,
	// with none of the writes at vX's egress (which a same-namespace pair
	// keeps: veth-same-netns) and the metadata, which vX's own XDP
	// program sees in its view (measured on 6.18).
	{"veth-xdp-tx", "vX/xdp", "count=1 meta_len=8"},
	{"veth-xdp-tx", "vX/tc-ingress", "count=1 mark=0x0 priority=0 tc_index=0 cb1=0x0 cb4=0x0 hash=0x0 tstamp=0x0 meta_len=8 meta=a0 a1 a2 a3 a4 a5 a6 a7"},
	// A cpumap redirect from native XDP: the kthread builds a new skb
	// around the frame, which keeps only the metadata; the cpumap program
	// sees the metadata in its view. From generic XDP the skb itself is
	// queued: every write survives but the metadata, which generic XDP
	// sets on XDP_PASS only (measured on 6.18).
	{"veth-xdp-cpumap", "vY/xdp-cpumap", "count=1 ingress_ifindex=vY meta_len=8"},
	{"veth-xdp-cpumap", "vY/tc-ingress", "count=1 mark=0x0 priority=0 tc_index=0 cb1=0x0 cb4=0x0 hash=0x0 tstamp=0x0 ingress_ifindex=vY meta_len=8 meta=a0 a1 a2 a3 a4 a5 a6 a7"},
	// The socket's segments carry CHECKSUM_PARTIAL's pseudo-header sum;
	// the kthread's skbs have no checksum state, so its GRO checks them in
	// software and merges none (measured on 6.18).
	{"veth-gro-cpumap", "vB/tc-ingress", "count=4 gso_segs=0 meta_len=8"},
	{"xdp-generic-cpumap", "vY/xdp-cpumap", "count=1 ingress_ifindex=vY meta_len=0"},
	{"xdp-generic-cpumap", "vY/tc-ingress", "count=1 mark=0x2a tc_index=42 cb1=0x2a01 cb4=0x2a04 hash=0x5eed002a tstamp=0x280defe ingress_ifindex=vY meta_len=0"},
	// From the live differential run (kernel/diff): an unconnected UDP
	// socket has no txhash, so skb->hash is 0 before a program writes one;
	// GRO leaves its NAPI_GRO_CB bytes in cb[] (data_offset in cb[2], the
	// held skb's last/age in cb[0..1]).
	{"veth-cross-netns", "vA/tc-egress", "count=1 hash=0x0"},
	{"bpf-redirect-egress", "hA/tc-ingress", "hash=0x0"},
	{"vxlan", "vxA/tc-egress", "hash=0x0"},
	{"vxlan", "vxB/tc-ingress", "cb2=other"},
	{"vxlan-xnet", "vxB/tc-ingress", "cb2=other"},
	{"veth-gro", "vB/tc-ingress", "cb1=other cb2=other"},
	// A cgroup_skb/ingress program on the receiving socket's cgroup sees
	// what tc ingress wrote (mark, priority, tc_index, hash, a raw tstamp)
	// and a zeroed cb[] (__bpf_prog_run_save_cb), with data back at the
	// network header (44 bytes: IPv4, UDP, 16 of payload), after a veth and
	// after a vxlan decap alike (measured on 6.18).
	{"veth-cross-netns-socket", "vB/cgroup-ingress", "count=1 mark=0x4d priority=13 tc_index=13 cb0=0x0 cb1=0x0 cb2=0x0 cb3=0x0 cb4=0x0 hash=0x5eed004d tstamp=0x496ee27 pkt_type=0 ifindex=vB headlen=44"},
	{"vxlan-socket", "vxB/cgroup-ingress", "count=1 mark=0x4d cb4=0x0 hash=0x5eed004d headlen=44 ifindex=vxB"},
	// The socket filter after it sees the same, cb[] zeroed again
	// (bpf_prog_run_save_cb).
	{"veth-cross-netns-socket", "vB/socket-filter", "count=1 mark=0x4d priority=13 tc_index=13 cb0=0x0 cb4=0x0 hash=0x5eed004d pkt_type=0 ifindex=vB"},
	{"vxlan-socket", "vxB/socket-filter", "count=1 mark=0x4d cb0=0x0 hash=0x5eed004d ifindex=vxB"},
	// bpf_clone_redirect's clone shares the head with its XDP metadata: it
	// reads the 8 bytes at hC egress and, across the veth, at vC ingress
	// (measured on 6.18).
	{"xdp-meta-clone-redirect", "hC/tc-egress", "count=1 mark=0x2b meta_len=8 meta=a0 a1 a2 a3 a4 a5 a6 a7"},
	{"xdp-meta-clone-redirect", "vC/tc-ingress", "count=1 mark=0x0 meta_len=8 meta=a0 a1 a2 a3 a4 a5 a6 a7"},
	// bpf_redirect_peer keeps the metadata (the skb itself moves on);
	// after vxlan_rcv's decap meta_len still reads 8 but data_meta shows
	// the VXLAN header in front of the inner frame (measured on 6.18).
	{"xdp-meta-redirect-peer", "vB/tc-ingress", "count=1 mark=0x2b meta_len=8 meta=a0 a1 a2 a3 a4 a5 a6 a7"},
	{"xdp-meta-vxlan-decap", "vxB/tc-ingress", "count=1 meta_len=8 meta=08 00 00 00 00 00 2a 00"},
	// A bridge: br_handle_frame clears struct br_input_skb_cb (skb->cb's
	// first 16 bytes: cb[0] and cb[1] of __sk_buff); br_netfilter, built
	// into 6.18 and so on in every namespace, clears IPCB (24 bytes:
	// cb[0..3]) on input and forwarding; cb[4] survives both. Mark,
	// priority, tc_index and hash cross the bridge; br_forward_finish's
	// skb_clear_tstamp zeroes a raw tstamp and keeps a delivery time. An
	// unknown destination is flooded to hB and hC; a static FDB entry
	// sends the frame to hB alone (measured on 6.18).
	{"bridge-flood", "hB/tc-egress", "count=1 mark=0x2b priority=11 tc_index=43 cb0=0x0 cb1=0x0 cb2=0x0 cb3=0x0 cb4=0x2b04 hash=0x5eed002b tstamp=0x0 ifindex=hB"},
	{"bridge-flood", "hC/tc-egress", "count=1 mark=0x2b cb3=0x0 cb4=0x2b04 tstamp=0x0 ifindex=hC"},
	{"bridge-flood", "vC/tc-ingress", "count=1 mark=0x0 tc_index=43 cb3=0x0 cb4=0x2b04 pkt_type=3"},
	{"bridge-flood-edt", "hB/tc-egress", "count=1 tstamp=0x2902141 tstamp_type=1"},
	{"bridge-flood-nonf", "hB/tc-egress", "count=1 cb0=0x0 cb1=0x0 cb2=0x2b02 cb3=0x2b03 cb4=0x2b04 tstamp=0x0"},
	{"bridge-fdb", "hB/tc-egress", "count=1 mark=0x2b cb0=0x0 cb4=0x2b04"},
	{"bridge-fdb", "hC/tc-egress", "count=0"},
	// A cgroup_skb/egress program on the sender's socket sees the packet
	// from its network header (44 bytes); its mark and priority writes
	// reach tc egress, its cb[] writes do not (__bpf_prog_run_save_cb
	// restores cb[]) (measured on 6.18).
	{"veth-cgroup-egress", "vA/cgroup-egress", "count=1 mark=0x0 cb0=0x0 headlen=44 ifindex=vA"},
	{"veth-cgroup-egress", "vA/tc-egress", "count=1 mark=0x2c priority=12 cb0=0x0 cb4=0x0"},
	// A packet socket's eBPF filter that reads cb[] runs before tc ingress
	// and clears cb[] for good (bpf_prog_run_clear_cb): tc ingress reads
	// zeroes where veth-cross-netns reads what vA egress wrote (measured
	// on 6.18).
	{"veth-tap-filter", "vB/tap-filter", "count=1 mark=0x0 tc_index=42 cb0=0x0 cb4=0x0 hash=0x5eed002a"},
	{"veth-tap-filter", "vB/tc-ingress", "count=1 tc_index=42 cb0=0x0 cb1=0x0 cb2=0x0 cb3=0x0 cb4=0x0 hash=0x5eed002a"},
	// Segments whose XDP metadata differs are not merged by GRO
	// (skb_metadata_differs in gro_list_prepare), where equal metadata
	// lets veth-gro merge all 4 (measured on 6.18).
	{"veth-gro-meta-differs", "vB/tc-ingress", "count=4 gso_segs=0 meta_len=8 meta=a0 a1 a2 a3 a4 a5 a6 01"},
	// Bridge port flags: hairpin sends the frame back out of hA to vA;
	// isolated ports hA and hC do not reach each other; flood off keeps
	// the unknown-unicast flood from hC.
	{"bridge-hairpin", "hA/tc-egress", "count=1 mark=0x2b tc_index=43 cb4=0x2b04 ifindex=hA"},
	{"bridge-hairpin", "vA/tc-ingress", "count=1 tc_index=43 pkt_type=3 ingress_ifindex=vA"},
	{"bridge-hairpin", "hB/tc-egress", "count=0"},
	{"bridge-isolated", "hB/tc-egress", "count=1 mark=0x2b"},
	{"bridge-isolated", "hC/tc-egress", "count=0"},
	{"bridge-noflood", "hB/tc-egress", "count=1 mark=0x2b"},
	{"bridge-noflood", "hC/tc-egress", "count=0"},
	// Broadcast flooding off on hC: the broadcast frame reaches hB and goes
	// up the bridge (whose clone keeps the tstamp), not hC.
	{"bridge-nobcast", "hB/tc-egress", "count=1 mark=0x2b tstamp=0x0 pkt_type=1"},
	{"bridge-nobcast", "hC/tc-egress", "count=0"},
	{"bridge-nobcast", "br0/tc-ingress", "count=1 mark=0x2b tstamp=0x2902141 pkt_type=1 ingress_ifindex=br0"},
	// XDP metadata crosses the bridge (br_netfilter on) and the veth.
	{"xdp-meta-bridge", "hB/tc-egress", "count=1 meta_len=8 meta=a0 a1 a2 a3 a4 a5 a6 a7"},
	{"xdp-meta-bridge", "vB/tc-ingress", "count=1 meta_len=8 meta=a0 a1 a2 a3 a4 a5 a6 a7"},
	// ifb: what act_mirred redirects to an ifb device comes back with
	// everything written before (no scrub; the redirect from ingress
	// cleared tstamp), skipping the taps and tc ingress on receive but not
	// generic XDP (skb->redirected is cleared); sent
	// back out of vA, the tcx program runs again but the classic
	// filter's mirred action does not (TC_ACT_OK: tc_index = tc_classid,
	// 0).
	{"ifb-ingress", "vB/tc-ingress", "count=1"},
	{"ifb-ingress", "ifbB/tc-egress", "count=1 mark=0x2b priority=11 tc_index=43 cb0=0x2b00 hash=0x5eed002b tstamp=0x0 ingress_ifindex=vB ifindex=ifbB"},
	{"ifb-ingress", "vB/socket-filter", "count=1 mark=0x2b priority=11 tc_index=43 hash=0x5eed002b ingress_ifindex=vB ifindex=vB"},
	{"ifb-ingress-xdp-generic", "vB/xdp", "count=2 ret=0"},
	{"ifb-ingress-xdp-generic", "ifbB/tc-egress", "count=1 meta_len=8 meta=a0 a1 a2 a3 a4 a5 a6 a7"},
	{"ifb-egress", "vA/tc-egress", "count=2"},
	{"ifb-egress", "ifbA/tc-egress", "count=1 mark=0x2a priority=10 tc_index=42 tstamp=0x280defe ingress_ifindex=vA ifindex=ifbA"},
	{"ifb-egress", "vB/tc-ingress", "count=1 mark=0x0 tc_index=0 cb0=0x2a00 hash=0x5eed002a tstamp=0x0 ingress_ifindex=vB"},
	// macvlan's rx_handler moves the skb to mvB, in another namespace,
	// without a scrub: mark, priority and tstamp survive, pkt_type
	// becomes PACKET_HOST (hL saw PACKET_OTHERHOST: mvB's address), and
	// skb_iif is mvB's (another_round). The XDP metadata stays too.
	{"macvlan-rx", "hL/tc-ingress", "count=1 mark=0x0 pkt_type=3 ingress_ifindex=hL ifindex=hL"},
	{"macvlan-rx", "mvB/tc-ingress", "count=1 mark=0x2b priority=11 tc_index=43 cb0=0x2b00 cb4=0x2b04 hash=0x5eed002b tstamp=0x2902141 tstamp_type=0 pkt_type=0 ingress_ifindex=mvB ifindex=mvB meta_len=0"},
	{"xdp-meta-macvlan", "mvB/tc-ingress", "count=1 pkt_type=0 ingress_ifindex=mvB meta_len=8 meta=a0 a1 a2 a3 a4 a5 a6 a7"},
	// another_round runs generic XDP for the skb's new device, after
	// macvlan's rx_handler and after bpf_redirect_peer alike.
	{"xdp-generic-macvlan", "mvB/xdp", "count=1 ret=0"},
	{"xdp-generic-macvlan", "mvB/tc-ingress", "count=1 pkt_type=0 meta_len=8 meta=a0 a1 a2 a3 a4 a5 a6 a7"},
	{"xdp-generic-redirect-peer", "vB/xdp", "count=1 ret=0"},
	{"xdp-generic-redirect-peer", "vB/tc-ingress", "count=1 mark=0x2b priority=11 tstamp=0x2902141 meta_len=8 meta=a0 a1 a2 a3 a4 a5 a6 a7"},
	// Out to the world: skb->dev = hL and dev_queue_xmit, no scrub,
	// though hL is in H; the veth to A then scrubs with xnet.
	{"macvlan-tx", "hL/tc-egress", "count=1 mark=0x2a priority=10 tc_index=42 cb0=0x2a00 hash=0x5eed002a tstamp=0x280defe ifindex=hL"},
	{"macvlan-tx", "vA/tc-ingress", "count=1 mark=0x0 priority=0 tc_index=42 hash=0x5eed002a tstamp=0x0 pkt_type=0 ingress_ifindex=vA"},
	// Bridge mode between macvlans: dev_forward_skb(hL) scrubs with xnet
	// (mvB in B, hL in H) and zeroes priority; hL never transmits it.
	{"macvlan-bridge", "hL/tc-ingress", "count=1 mark=0x0 priority=0 tc_index=42 cb0=0x2a00 hash=0x5eed002a tstamp=0x0 pkt_type=3 ingress_ifindex=hL"},
	{"macvlan-bridge", "mvC/tc-ingress", "count=1 mark=0x0 priority=0 tc_index=42 cb4=0x2a04 hash=0x5eed002a tstamp=0x0 pkt_type=0 ingress_ifindex=mvC ifindex=mvC"},
	// A broadcast frame from outside: the clones macvlan_process_broadcast
	// hands to mvB and mvC keep everything (no scrub; the source pointer
	// macvlan_broadcast_enqueue stores in cb[0..7] is outside the BPF
	// cb[] words) and are PACKET_BROADCAST.
	{"macvlan-broadcast", "mvB/tc-ingress", "count=1 mark=0x2b priority=11 tc_index=43 cb0=0x2b00 cb1=0x2b01 cb4=0x2b04 hash=0x5eed002b tstamp=0x2902141 pkt_type=1 ingress_ifindex=mvB ifindex=mvB"},
	{"macvlan-broadcast", "mvC/tc-ingress", "count=1 mark=0x2b priority=11 tc_index=43 cb0=0x2b00 hash=0x5eed002b tstamp=0x2902141 pkt_type=1 ingress_ifindex=mvC ifindex=mvC"},
	// A bridge-mode macvlan's broadcast: mvC's clone went through
	// __dev_forward_skb (scrubbed with xnet, priority 0), the skb itself
	// leaves by hL unscrubbed; hL's receive path never sees it.
	{"macvlan-bridge-broadcast", "mvC/tc-ingress", "count=1 mark=0x0 priority=0 tc_index=42 cb0=0x2a00 hash=0x5eed002a tstamp=0x0 pkt_type=1 ingress_ifindex=mvC"},
	{"macvlan-bridge-broadcast", "hL/tc-egress", "count=1 mark=0x2a priority=10 tstamp=0x280defe ifindex=hL"},
	{"macvlan-bridge-broadcast", "hL/tc-ingress", "count=0"},
	{"macvlan-bridge-broadcast", "vA/tc-ingress", "count=1 mark=0x0 pkt_type=1 ingress_ifindex=vA"},
	// Source mode: mvB, listing vA's address, gets a clone of vA's frame
	// for mvC, still PACKET_OTHERHOST; with nodst the frame itself is
	// freed and mvC never sees it.
	{"macvlan-source", "mvB/tc-ingress", "count=1 mark=0x2b priority=11 tstamp=0x2902141 pkt_type=3 ingress_ifindex=mvB ifindex=mvB"},
	{"macvlan-source", "mvC/tc-ingress", "count=1 mark=0x2b pkt_type=0 ingress_ifindex=mvC"},
	{"macvlan-source-nodst", "mvB/tc-ingress", "count=1 mark=0x2b pkt_type=3 ingress_ifindex=mvB"},
	{"macvlan-source-nodst", "mvC/tc-ingress", "count=0"},
	// Private mode: the frame for mvC leaves by hL and reaches vA as
	// PACKET_OTHERHOST.
	{"macvlan-private", "hL/tc-egress", "count=1 mark=0x2a priority=10 tstamp=0x280defe ifindex=hL"},
	{"macvlan-private", "vA/tc-ingress", "count=1 mark=0x0 pkt_type=3 ingress_ifindex=vA"},
	{"macvlan-private", "mvC/tc-ingress", "count=0"},
}

// CheckCells checks the "field=value ..." cells against m and returns an
// error naming the first cell that is missing or differs.
func CheckCells(m Matrix, transition, hook, cells string) error {
	for _, kv := range splitCells(cells) {
		f, want, _ := strings.Cut(kv, "=")
		o, ok := m.Get(transition, hook, Field(f))
		if !ok {
			return fmt.Errorf("%s %s: no %s cell", transition, hook, f)
		}
		if got := o.ValueString(); got != want {
			return fmt.Errorf("%s %s %s = %s, want %s", transition, hook, f, got, want)
		}
	}
	return nil
}

// splitCells splits on " <field>=" boundaries: meta bytes contain spaces.
func splitCells(s string) []string {
	var out []string
	for _, w := range strings.Fields(s) {
		if strings.Contains(w, "=") || len(out) == 0 {
			out = append(out, w)
		} else {
			out[len(out)-1] += " " + w
		}
	}
	return out
}
