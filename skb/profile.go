package skb

import (
	"fmt"
	"strings"

	"github.com/skbsim/skbsim/internal/errno"
)

// ErrUnknownProfile is returned by ProfileByName for a name it does not know.
var ErrUnknownProfile = errno.New("skb: unknown kernel profile", errno.EINVAL)

// ExtCOWRule says when skb_ext_maybe_cow() leaves the new copy's BPF storage
// pointer nil. The skb local storage RFC (kernel-patches/bpf 85da200516f9)
// nulls it "if old had BPF_STORAGE active"; whether "active" means the skb's
// active_extensions bit or the chunk's existence in the object is not settled
// by the text we have, and the two differ after skb_ext_del() on a shared
// extension.
type ExtCOWRule uint8

const (
	// ExtCOWClearIfActive clears the copy's storage only when the skb's
	// active_extensions had SKB_EXT_BPF_STORAGE set (the pattern the kernel
	// uses for SKB_EXT_SEC_PATH in skb_ext_maybe_cow()). A copy made after
	// skb_ext_del(SKB_EXT_BPF_STORAGE) keeps the old pointer, so two objects
	// destroy the same storage.
	ExtCOWClearIfActive ExtCOWRule = iota
	// ExtCOWClearIfExists clears it whenever the chunk exists in the old
	// object (__skb_ext_exist()), which never shares a storage pointer.
	ExtCOWClearIfExists
)

func (r ExtCOWRule) String() string {
	switch r {
	case ExtCOWClearIfActive:
		return "clear-if-active"
	case ExtCOWClearIfExists:
		return "clear-if-exists"
	}
	return fmt.Sprintf("ExtCOWRule(%d)", r)
}

// MultipathSaddrRule is how fib_select_multipath (IPv4) treats the
// source address of an output lookup (flowi4_saddr; forwarding has none)
// when it picks one of a multipath route's next hops.
type MultipathSaddrRule uint8

const (
	// MultipathSaddrNone: the source address plays no part: the first
	// usable next hop whose upper bound covers the hash (hash-threshold,
	// before v6.16).
	MultipathSaddrNone MultipathSaddrRule = iota
	// MultipathSaddrFirst: a next hop whose nh_saddr is the source is
	// preferred, but a source that matches no next hop makes the loop end
	// on the last usable one (v6.16, 32607a332cfe "ipv4: prefer multipath
	// nexthop that matches source address", to v6.18 and the 6.18 stable
	// releases before the fix below).
	MultipathSaddrFirst
	// MultipathSaddrScore: each usable next hop scores 2 for the source
	// and 1 for the hash, the first best wins; a source that matches none
	// is plain hash-threshold (v6.19, 6e17474aa9fe "net: fib: restore
	// ECMP balance from loopback"; the 6.18 stable series from about
	// 6.18.4, so the project's 6.18.44 machines).
	MultipathSaddrScore
)

func (r MultipathSaddrRule) String() string {
	switch r {
	case MultipathSaddrNone:
		return "none"
	case MultipathSaddrFirst:
		return "first"
	case MultipathSaddrScore:
		return "score"
	}
	return fmt.Sprintf("MultipathSaddrRule(%d)", r)
}

// Profile selects the kernel behaviour the model follows where the kernel
// changed over versions, or where a proposal is undecided. Every field names
// the version or commit that introduced the behaviour; the zero Profile is a
// v4.15 kernel (the first with XDP metadata in skbs) without extensions.
//
// A Profile is a plain value: copy it and change fields to build variants.
type Profile struct {
	// Name is the profile's name, such as "v6.18".
	Name string
	// Major and Minor are the kernel version the profile stands for.
	Major, Minor int

	// PskbExpandHeadKeepsMeta: pskb_expand_head() keeps
	// skb_shinfo()->meta_len. False means the skb_metadata_clear() that
	// de8f3a83b0a0 ("bpf: add meta pointer for direct access", v4.15) put
	// there; true from v6.19 (290fc0be09e2 "net: Preserve metadata on
	// pskb_expand_head"). Affects skb_cow, skb_cow_head, skb_unclone,
	// skb_ensure_writable and every other pskb_expand_head user.
	PskbExpandHeadKeepsMeta bool
	// DataMoveHelpers: skb_postpush_data_move() and
	// skb_postpull_data_move() exist and move XDP metadata together with
	// the packet bytes (v6.19, 8989d328dfe7 "net: Helper to move packet data
	// and metadata after skb_push/pull"). Without them the callers (VLAN
	// push, bpf_skb_adjust_room, bpf_skb_change_head/proto) only memmove the
	// packet bytes and the pushed header overwrites the metadata.
	DataMoveHelpers bool
	// ScrubKeepsSock: skb_scrub_packet(skb, true) keeps skb->sk (v4.19,
	// 9c4c325252c5 "skbuff: preserve sock reference when scrubbing the
	// skb"). Before, it called skb_orphan().
	ScrubKeepsSock bool
	// ScrubKeepsDeliveryTime: the xnet part of skb_scrub_packet() calls
	// skb_clear_tstamp(), which keeps an EDT delivery time (tstamp_type !=
	// 0) (v5.18, Martin KaFai Lau's mono_delivery_time series). Before, it
	// set skb->tstamp = 0 unconditionally.
	ScrubKeepsDeliveryTime bool
	// ScrubIPVSAlways: skb_scrub_packet() calls ipvs_reset() before the
	// xnet check (2025, Philo Lu "ipvs: Always clear ipvs_property flag in
	// skb_scrub_packet()", v6.15 and stable). Before, only when xnet
	// (2b5ec1a5f973, v4.16).
	ScrubIPVSAlways bool
	// DevForwardScrubByNetns: ____dev_forward_skb() scrubs with xnet =
	// !net_eq(dev_net(dev), dev_net(skb->dev)) (ff70202b2d1a
	// "dev_forward_skb: do not scrub skb mark within the same name space",
	// v5.13). Before, xnet was always true. Read by netstack.
	DevForwardScrubByNetns bool
	// RedirectPeerScrubs: bpf_redirect_peer() calls skb_scrub_packet(skb,
	// false) ("bpf: Scrub packets in bpf_redirect_peer", v6.8). Read by
	// netstack.
	RedirectPeerScrubs bool
	// MaxMetaLen is the largest XDP metadata bpf_xdp_adjust_meta() accepts:
	// 32 until v6.7, 252 since 2ebe81c81435 ("net, xdp: Allow metadata >
	// 32", v6.8). See MetalenInvalid.
	MaxMetaLen int
	// SkbMetaDynptr: bpf_dynptr_from_skb_meta() exists (v6.18,
	// 89d912e494f7). Read by the BPF model.
	SkbMetaDynptr bool
	// TstampTypeTAI: skb->tstamp_type is the 2-bit
	// SKB_CLOCK_REALTIME/MONOTONIC/TAI field (v6.11); before, a single
	// mono_delivery_time bit, so TAI delivery times did not exist.
	TstampTypeTAI bool
	// IPv6FragDropTruncatedFirst: ipv6_frag_rcv() discards a first
	// fragment that does not hold all headers through the upper-layer
	// header (RFC 8200 section 4.5, ipv6frag_thdr_truncated) with an
	// ICMPv6 parameter problem (v5.10, 9d9e937b1c8b "ipv6/netfilter:
	// Discard first fragment not including all headers"; stable trees
	// carry it too). Before, such a fragment was queued. Read by netstack.
	IPv6FragDropTruncatedFirst bool
	// IPv6AtomicFragMaxSize: ipv6_frag_rcv() sets IP6CB(skb)->frag_max_size
	// = payload_len + sizeof(struct ipv6hdr) for an atomic fragment (v5.13,
	// e29f011e8fc0 "ipv6: record frag_max_size in atomic fragments in
	// input path"; backported to 4.19.193, 5.4 and 5.10 stable). Before,
	// it stayed 0. Read by netstack.
	IPv6AtomicFragMaxSize bool
	// UDPMaxSegments is UDP_MAX_SEGMENTS: udp_send_skb() and
	// udp_v6_send_skb() refuse a UDP_SEGMENT datagram of more than
	// gso_size * UDP_MAX_SEGMENTS payload bytes with -EINVAL. 64 until
	// v6.8, 128 since "net: change maximum number of UDP segments to 128"
	// (v6.9; the 5.15 and 6.1 stable series carry it too). Read by netstack.
	UDPMaxSegments int
	// UDPGSOSmallPackets: the MTU check of udp_send_skb() and
	// udp_v6_send_skb() on a UDP_SEGMENT socket is hlen + min(datalen,
	// gso_size) > fragsize, failing with -EMSGSIZE (v6.14, 235174b2bed8
	// "udp: gso: do not drop small packets when PMTU reduces"; stable
	// series carry it too). Before, hlen + gso_size > fragsize failed
	// with -EINVAL whatever the datagram's size. Read by netstack.
	UDPGSOSmallPackets bool
	// UDPGSOMultiSegmentOnly: udp_send_skb() makes a UDP_SEGMENT datagram
	// a GSO skb only when it has more than one segment (datalen >
	// gso_size; v5.4, 4094871db1d6 "udp: only do GSO if # of segs > 1",
	// also in 4.19.78). Before, every datagram of such a socket got
	// gso_size, SKB_GSO_UDP_L4 and gso_segs, one segment included. Read by
	// netstack.
	UDPGSOMultiSegmentOnly bool
	// UDPRcvSegment: udp_queue_rcv_skb() cuts a UDP GSO skb for a socket
	// that did not ask for one into its segments (udp_unexpected_gso,
	// udp_rcv_segment; v5.0, "udp: cope with UDP GRO packet misdirection",
	// with UDP GRO). Before, the GSO skb was queued whole. Read by netstack.
	UDPRcvSegment bool
	// GROFraglist: fraglist GRO of UDP (NETIF_F_GRO_FRAGLIST, ethtool
	// rx-gro-list; v5.6, 9fd1ff5d2ac7 "udp: Support UDP fraglist
	// GRO/GSO"): udp_gro_receive chains the segments of a flow that no
	// UDP_GRO socket receives on the first one's frag_list
	// (skb_gro_receive_list), and GSO gives them back
	// (skb_segment_list). Before, the feature does not exist. Read by
	// netstack.
	GROFraglist bool
	// GROUDPFwd: UDP GRO for packets with no local socket (NETIF_F_GRO_UDP_FWD,
	// ethtool rx-udp-gro-forwarding; v5.12, 36707061d6ba "udp: allow
	// forwarding of plain (non-fraglisted) UDP GRO packets"): their
	// payload is merged as for a UDP_GRO socket. Before, the feature does
	// not exist. Read by netstack.
	GROUDPFwd bool
	// TCPGROAccECN: tcp_gro_receive compares CWR with the held skb's like
	// the other flags (v6.18, with the AccECN series, where CWR is part of
	// the ACE counter); a segment with CWR is still never merged. Measured
	// on 6.18: plain, CWR, plain, plain segments arrive as 1, 1 and 2 skbs
	// (before: 1 and 3, the CWR segment starting the aggregate the next
	// ones join), and four segments with CWR as four. tcp_gro_complete
	// marks an aggregate with CWR SKB_GSO_TCP_ACCECN instead of
	// SKB_GSO_TCP_ECN, which segmentation keeps on every segment. Read by
	// netstack.
	TCPGROAccECN bool
	// GROFixedIDWithoutDF: inet_gro_flush lets a flow's IPv4 segments
	// merge with one fixed identification whether or not they have DF
	// (v6.18, "net: gro: remove unnecessary df checks"; measured on 6.18:
	// three segments with ID 7 and no DF merge). Before, only DF segments
	// could keep a fixed ID; the others had to count up. Read by netstack.
	GROFixedIDWithoutDF bool
	// GROOuterIPID: for a packet in a UDP tunnel, inet_gro_flush checks
	// the outer IPv4 identification as it does the inner one, each header
	// with its own ip_fixedid bit (incrementing, or fixed from the second
	// segment on), and an aggregate whose inner identification stayed
	// fixed is SKB_GSO_TCP_FIXEDID_INNER (v6.18, "net: gro: only merge
	// packets with incrementing or fixed outer ids"). Before, an outer
	// header with DF skipped the identification check, and one ip_fixedid
	// bit served both headers. Read by netstack.
	GROOuterIPID bool
	// UDPTunnelFragList: vxlan and geneve devices have NETIF_F_FRAGLIST
	// (v5.12, "vxlan: add NETIF_F_FRAGLIST flag for dev features" and
	// "geneve: add NETIF_F_FRAGLIST flag for dev features"), so a GSO skb
	// with a frag_list enters them whole. Before, validate_xmit_skb
	// segmented it in front of the tunnel. Read by netstack.
	UDPTunnelFragList bool
	// XDPFrags: an XDP program can be loaded with BPF_F_XDP_HAS_FRAGS
	// (SEC("xdp.frags")) and take multi-buffer frames (v5.18, "bpf:
	// introduce BPF_F_XDP_HAS_FRAGS flag in prog_flags loading the ebpf
	// program"). Read by netstack.
	XDPFrags bool
	// GenericXDPFrags: generic XDP gives a multi-buffer program
	// (BPF_F_XDP_HAS_FRAGS) a cloned, non-linear or headroom-short skb as a
	// page-pool copy that stays non-linear (netif_skb_check_for_xdp ->
	// skb_cow_data_for_xdp -> skb_pp_cow_data, v6.9: "xdp: add multi-buff
	// support for xdp running in generic mode"). Before, and for other
	// programs, the skb gets a bigger private head and is linearized.
	// Read by netstack.
	GenericXDPFrags bool
	// XDPRxMetadata: device-bound XDP programs (BPF_F_XDP_DEV_BOUND_ONLY
	// with prog_ifindex) and the XDP RX metadata kfuncs
	// bpf_xdp_metadata_rx_timestamp and bpf_xdp_metadata_rx_hash (with its
	// enum xdp_rss_hash_type argument), which a device-bound program's
	// driver answers (struct xdp_metadata_ops; veth implements both):
	// v6.3, "bpf: XDP metadata RX kfuncs". Read by netstack.
	XDPRxMetadata bool
	// XDPRxVlanTag: bpf_xdp_metadata_rx_vlan_tag and veth's
	// veth_xdp_rx_vlan_tag (v6.8, "xdp: Add VLAN tag hint"). Read by
	// netstack.
	XDPRxVlanTag bool
	// DevmapProg: a device map entry may carry an XDP program
	// (BPF_XDP_DEVMAP, struct bpf_devmap_val.bpf_prog) that runs on each
	// frame before it is sent (v5.8, "bpf: Add support to attach bpf
	// program to a devmap entry"). Read by netstack.
	DevmapProg bool
	// DevmapBroadcast: bpf_redirect_map on a device map takes
	// BPF_F_BROADCAST and BPF_F_EXCLUDE_INGRESS (v5.13, "xdp: extend
	// xdp_redirect_map with broadcast support"); before, they are unknown
	// flags (XDP_ABORTED). Read by netstack.
	DevmapBroadcast bool
	// CpumapProg: a cpumap entry may carry an XDP program
	// (BPF_XDP_CPUMAP, struct bpf_cpumap_val.bpf_prog) that runs on the
	// remote CPU before the skb is built (v5.9, "cpumap: add the
	// possibility to attach an eBPF program to cpumap"). Read by netstack.
	CpumapProg bool
	// CpumapGeneric: generic (skb mode) XDP may redirect into a cpumap:
	// the skb itself is queued (cpu_map_generic_redirect, v5.15, "bpf:
	// cpumap: Implement generic cpumap"). Before, xdp_do_generic_redirect
	// refused the map with -EBADRQC and the skb was dropped. Read by
	// netstack.
	CpumapGeneric bool
	// CpumapGRO: the cpumap kthread hands the skbs it builds to a GRO
	// instance of its own (gro_receive_skb on rcpu->gro, flushed every 64
	// packets and when the ring is empty), and an skb its program drops
	// is consumed (napi_consume_skb), v6.15 ("bpf: cpumap: switch to GRO
	// from netif_receive_skb_list()" and the series around it). Before,
	// netif_receive_skb_list without GRO, and kfree_skb for a drop. Read
	// by netstack.
	CpumapGRO bool
	// VethGRONapi: a veth with GRO on and no XDP program receives through
	// its NAPI instance, and so through GRO, the skbs that
	// veth_skb_is_eligible_for_gro accepts: the sending device has no TSO
	// (NETIF_F_ALL_TSO), or the skb comes from a socket with sock_wfree
	// (UDP) and the receiver has rx-gro-list or rx-udp-gro-forwarding
	// (v5.12, d3256efd8e8b "veth: allow enabling NAPI even without XDP").
	// Before, only XDP enables the NAPI path. Read by netstack.
	VethGRONapi bool
	// TCPFraglistGRO: with NETIF_F_GRO_FRAGLIST, TCP flows that no local
	// socket has in its established hash (__inet_lookup_established) are
	// chained by fraglist GRO too, and __tcp4_gso_segment_list /
	// __tcp6_gso_segment_list give the segments back (v6.10, c9d1d23e5239
	// "net: add heuristic for enabling TCP fraglist GRO"). Before, only UDP
	// uses fraglist GRO. Read by netstack.
	TCPFraglistGRO bool
	// TCPSendLinearFirst: tcp_sendmsg_locked() puts up to
	// SKB_WITH_OVERHEAD(2048 - MAX_TCP_HEADER) bytes of payload in the
	// linear part of the first skb of an empty write queue
	// (linear_payload_sz, select_size) and the rest in page fragments. From
	// v5.1 (472c2e07eef0 "tcp: add one skb cache for tx") every payload
	// byte goes to page fragments. Read by netstack.
	TCPSendLinearFirst bool
	// FibSkipNeigh, FibTBID, FibSrc and FibMark: bpf_fib_lookup accepts
	// BPF_FIB_LOOKUP_SKIP_NEIGH (v6.3, 31de4105f00d "bpf: Add
	// BPF_FIB_LOOKUP_SKIP_NEIGH for bpf_fib_lookup"), BPF_FIB_LOOKUP_TBID
	// (v6.5, 8ad77e72caae "bpf: Add table ID to bpf_fib_lookup BPF
	// helper"), BPF_FIB_LOOKUP_SRC (v6.7, "bpf: Derive source IP addr via
	// bpf_*_fib_lookup()") and BPF_FIB_LOOKUP_MARK (v6.10, "bpf: add
	// support for passing mark with bpf_fib_lookup"); before, each is an
	// unknown flag and the helper returns -EINVAL. DIRECT and OUTPUT exist
	// since the helper (v4.18). Stable trees carry some of them (5.15.151:
	// SKIP_NEIGH, TBID, SRC; 6.1.57 and 6.1.81; 6.6.19: SRC); a profile is
	// the mainline release. Read by netstack.
	FibSkipNeigh, FibTBID, FibSrc, FibMark bool
	// FibMTUResult: bpf_fib_lookup writes the MTU it checked into
	// mtu_result (the union with tot_len) on FRAG_NEEDED and on success,
	// and bpf_skb_fib_lookup checks a non-zero tot_len against the route's
	// MTU instead of checking the skb (v5.12, e1850ea9bd9e "bpf:
	// bpf_fib_lookup return MTU value as output when looked up" and
	// 2c0a10af688c "bpf: fix bpf_fib_lookup helper MTU check for SKB
	// ctx"). Before, tot_len is left as it was and tc's lookup always
	// checks the skb (is_skb_forwardable). Read by netstack.
	FibMTUResult bool
	// FibNoNeighIfindex: bpf_fib_lookup writes the egress ifindex before
	// its neighbour lookup, so NO_NEIGH returns it too (v5.10, d1c362e1dd68
	// "bpf: Always return target ifindex in bpf_fib_lookup"). Before, only
	// a successful lookup writes it (bpf_fib_set_fwd_params). Read by
	// netstack.
	FibNoNeighIfindex bool
	// FibNeighValid: bpf_fib_lookup answers NO_NEIGH for a neighbour entry
	// that is not NUD_VALID (failed, incomplete) as for none (v6.3,
	// 1fe4850b34ab "bpf: bpf_fib_lookup should not return neigh in
	// NUD_FAILED state"; 5.4.234, 5.10.171 and 5.15.97 carry it). Before,
	// any entry answers SUCCESS with the address it holds (zeros for one
	// that never resolved).
	// Read by netstack.
	FibNeighValid bool
	// MultipathL3Inner: fib_multipath_hash_policy 2, the innermost L3
	// header of IPIP, IPv6-in-IP and GRE packets (v5.3, 363887a2cdfe
	// "ipv4: Support multipath hashing on inner IP pkts" and its IPv6
	// twin). Before, the sysctl stops at 1. Read by netstack.
	MultipathL3Inner bool
	// MultipathCustom: fib_multipath_hash_policy 3 with
	// fib_multipath_hash_fields (v5.15, "ipv4: Add custom multipath hash
	// policy" and its IPv6 twin). Read by netstack.
	MultipathCustom bool
	// MultipathSeed: net.ipv4.fib_multipath_hash_seed keys the multipath
	// hash, shared with IPv6 (v6.11, 4ee2a8cace3f "net: ipv4: Add a
	// sysctl to set multipath hash seed"); its 0 means one random value
	// drawn at boot. Before, the hash is flow_hash_from_keys with the secret
	// hashrnd, and there is no sysctl. Read by netstack.
	MultipathSeed bool
	// NexthopObjects: `ip nexthop` objects, hash-threshold groups and
	// routes that name one (nhid) exist (v5.3, 430a049190de "nexthop: Add
	// support for nexthop groups" and its series). Read by netstack.
	NexthopObjects bool
	// NexthopGoodFirst: a hash-threshold group passes over members whose
	// gateway's neighbour is not NUD_VALID before it compares the hash,
	// and falls back to its first good member, else its first (v6.6,
	// 75f5f04c7bd2 "nexthop: Do not return invalid nexthop object during
	// multipath selection"). Before, a group that has no good member
	// covering the hash returns the first member that covers it, good or
	// not. Read by netstack.
	NexthopGoodFirst bool
	// NexthopWeightU16: group weights go to 65535 (v6.12, b72a6a7ab957
	// "net: nexthop: Increase weight to u16"); before, to 255. Read by
	// netstack.
	NexthopWeightU16 bool
	// Netkit: the netkit device pair exists (v6.7, 35dfaad7188c "netkit,
	// bpf: Add bpf programmable net device"): netkit_xmit hands a frame to
	// the peer's backlog after the transmitting side's BPF_NETKIT_PRIMARY or
	// BPF_NETKIT_PEER programs, and bpf_redirect_peer can target it
	// (ndo_get_peer_dev). Read by netstack.
	Netkit bool
	// NetkitPktType: netkit_xmit sets pkt_type from the peer's address
	// (eth_skb_pkt_type) before its programs run and only pulls the
	// Ethernet header after them (eth_skb_pull_mac), so a program's
	// bpf_skb_change_type sticks (v6.10, 3998d184267d "netkit: Fix
	// pkt_type override upon netkit pass verdict"; 6.9.y stable). Before,
	// eth_type_trans after the programs set pkt_type and protocol anew.
	// A MAC address may be given in L2 mode from the same release
	// (d6fe532b7499); before, netkit refused every IFLA_ADDRESS. Read by
	// netstack.
	NetkitPktType bool
	// NetkitScrub: the scrub attributes (IFLA_NETKIT_SCRUB,
	// IFLA_NETKIT_PEER_SCRUB; v6.13, 83134ef46093 "netkit: Add option for
	// scrubbing skb meta data"; 6.12.y stable from about 6.12.4).
	// netkit_prep_forward scrubs with xnet=false and, crossing
	// namespaces, clears the receive timestamp and, with
	// NETKIT_SCRUB_DEFAULT, mark and priority; NETKIT_SCRUB_NONE keeps
	// them. Before, it called skb_scrub_packet(skb, xnet) and zeroed
	// priority on every transmission, within a namespace too. Read by
	// netstack.
	NetkitScrub bool
	// NetkitRoom: IFLA_NETKIT_HEADROOM and IFLA_NETKIT_TAILROOM set both
	// devices' needed_headroom and needed_tailroom at creation (v6.14,
	// b9ed315d3c4c). Read by netstack.
	NetkitRoom bool
	// RedirectIngressNoMTU: bpf_redirect with BPF_F_INGRESS
	// (__bpf_rx_skb: dev_forward_skb_nomtu) checks the target's state but
	// not its MTU (v5.12, "bpf: New approach for BPF MTU handling").
	// Before, dev_forward_skb dropped a packet above it. Read by netstack.
	RedirectIngressNoMTU bool
	// BridgeDropReasons: the bridge's input drops name their reasons
	// (v6.14, "net: bridge: add skb drop reasons to the most common drop
	// points"): br_handle_frame's invalid source address
	// (MAC_INVALID_SOURCE), MAC control group address
	// (MAC_IEEE_MAC_CONTROL) and port state (BRIDGE_INGRESS_STP_STATE),
	// br_flood with no port to send to (NO_TX_TARGET). Before, each was
	// kfree_skb (NOT_SPECIFIED). Read by netstack.
	BridgeDropReasons bool
	// MultipathSaddr is how fib_select_multipath weighs a lookup's source
	// address; see MultipathSaddrRule. Read by netstack.
	MultipathSaddr MultipathSaddrRule
	// Exts is the set of compiled-in skb extension ids (bit 1<<ExtID). It
	// decides SKB_EXT_NUM-dependent sizes and which ids ExtAdd accepts.
	// Chunk sizes are those of v6.18 in every profile.
	Exts uint8
	// ExtCOWStorage is the RFC's rule for the BPF storage pointer on
	// skb_ext_maybe_cow(); see ExtCOWRule.
	ExtCOWStorage ExtCOWRule
	// ExtSlotChunks is the size, in 8-byte chunks, of the
	// SKB_EXT_BPF_STORAGE slot: the slot that a design keeps inside the
	// extension: the RFC's storage pointer (1 chunk, struct
	// bpf_skb_storage_ext), a slim storage (rfc-slim: the cache slots, list
	// head and lock embedded in the chunk), or a metadata buffer
	// (ext-buffer, CONFIG_BPF_SKB_EXT, bpf_dynptr_from_skb_ext). It is
	// skb_ext_type_len[SKB_EXT_BPF_STORAGE]: it resizes that id's chunk
	// (no id is added, SKB_EXT_NUM stays 7) and so feeds
	// skb_ext_total_length(), the skbuff_ext_cache object size, Ext.Chunk's
	// length and the bytes skb_ext_maybe_cow() copies. 0 means 1. A layout
	// above 255 chunks is refused (ExtLayout, NewAllocator); a design sets
	// it on its shard's allocator with Allocator.SetExtSlotChunks.
	ExtSlotChunks int
}

// DefaultProfileName is the profile the machines run. "v6.18" is mainline
// v6.18: pskb_expand_head still clears meta_len (the 6.18.y tree the
// reference notes were read from already carries the v6.19 change), as
// the machines' 6.18.44 does (kernel.TestKernelXDPMetaCloneWrite).
const DefaultProfileName = "v6.18"

// profileVersions lists the named profiles, oldest first.
var profileVersions = [...][2]int{
	{4, 19}, {5, 4}, {5, 10}, {5, 15}, {6, 1}, {6, 6}, {6, 12}, {6, 18}, {6, 19},
}

// ProfileNames returns the names ProfileByName accepts, oldest first.
func ProfileNames() []string {
	names := make([]string, len(profileVersions))
	for i, v := range profileVersions {
		names[i] = fmt.Sprintf("v%d.%d", v[0], v[1])
	}
	return names
}

// ProfileByName returns the named profile ("v6.18", "6.18" and "v6.18.3"
// are the same). Every profile includes the RFC's SKB_EXT_BPF_STORAGE
// extension, since the simulator exists to evaluate it; clear its bit in
// Exts to model a kernel without the RFC.
func ProfileByName(name string) (Profile, error) {
	s := strings.TrimPrefix(strings.TrimSpace(name), "v")
	var major, minor int
	if _, err := fmt.Sscanf(s, "%d.%d", &major, &minor); err != nil {
		return Profile{}, fmt.Errorf("profile %q: %w", name, ErrUnknownProfile)
	}
	for _, v := range profileVersions {
		if v[0] == major && v[1] == minor {
			return profileFor(major, minor), nil
		}
	}
	return Profile{}, fmt.Errorf("profile %q (known: %s): %w", name,
		strings.Join(ProfileNames(), ", "), ErrUnknownProfile)
}

// DefaultProfile returns the v6.18 profile.
func DefaultProfile() Profile { return profileFor(6, 18) }

func profileFor(major, minor int) Profile {
	at := func(ma, mi int) bool { return major > ma || (major == ma && minor >= mi) }
	p := Profile{
		Name:                    fmt.Sprintf("v%d.%d", major, minor),
		Major:                   major,
		Minor:                   minor,
		PskbExpandHeadKeepsMeta: at(6, 19),
		DataMoveHelpers:         at(6, 19),
		ScrubKeepsSock:          at(4, 19),
		ScrubKeepsDeliveryTime:  at(5, 18),
		ScrubIPVSAlways:         at(6, 15),
		DevForwardScrubByNetns:  at(5, 13),
		RedirectPeerScrubs:      at(6, 8),
		MaxMetaLen:              32,
		SkbMetaDynptr:           at(6, 18),
		TstampTypeTAI:           at(6, 11),

		IPv6FragDropTruncatedFirst: at(5, 10),
		IPv6AtomicFragMaxSize:      at(5, 13),
		UDPMaxSegments:             64,
		UDPGSOSmallPackets:         at(6, 14),
		UDPGSOMultiSegmentOnly:     at(5, 4),
		UDPRcvSegment:              at(5, 0),
		GROFraglist:                at(5, 6),
		GROUDPFwd:                  at(5, 12),
		TCPFraglistGRO:             at(6, 10),
		VethGRONapi:                at(5, 12),
		CpumapProg:                 at(5, 9),
		DevmapProg:                 at(5, 8),
		DevmapBroadcast:            at(5, 13),
		CpumapGeneric:              at(5, 15),
		CpumapGRO:                  at(6, 15),
		TCPGROAccECN:               at(6, 18),
		GROFixedIDWithoutDF:        at(6, 18),
		GROOuterIPID:               at(6, 18),
		UDPTunnelFragList:          at(5, 12),
		GenericXDPFrags:            at(6, 9),
		XDPFrags:                   at(5, 18),
		XDPRxMetadata:              at(6, 3),
		XDPRxVlanTag:               at(6, 8),
		TCPSendLinearFirst:         !at(5, 1),
		FibSkipNeigh:               at(6, 3),
		FibTBID:                    at(6, 5),
		FibSrc:                     at(6, 7),
		FibMark:                    at(6, 10),
		FibMTUResult:               at(5, 12),
		FibNoNeighIfindex:          at(5, 10),
		FibNeighValid:              at(6, 3),
		MultipathL3Inner:           at(5, 3),
		MultipathCustom:            at(5, 15),
		MultipathSeed:              at(6, 11),
		NexthopObjects:             at(5, 3),
		NexthopGoodFirst:           at(6, 6),
		NexthopWeightU16:           at(6, 12),
		Netkit:                     at(6, 7),
		NetkitPktType:              at(6, 10),
		NetkitScrub:                at(6, 13),
		NetkitRoom:                 at(6, 14),
		BridgeDropReasons:          at(6, 14),
		RedirectIngressNoMTU:       at(5, 12),
		ExtCOWStorage:              ExtCOWClearIfActive,
		ExtSlotChunks:              1, // the RFC's struct bpf_skb_storage_ext
	}
	if at(6, 8) {
		p.MaxMetaLen = 252
	}
	if at(6, 9) {
		p.UDPMaxSegments = 128
	}
	switch {
	case at(6, 19):
		p.MultipathSaddr = MultipathSaddrScore
	case at(6, 16):
		p.MultipathSaddr = MultipathSaddrFirst
	}
	// Extension ids by the release that added them (include/linux/skbuff.h).
	p.Exts = 1<<ExtBridgeNF | 1<<ExtSecPath | 1<<ExtBPFStorage
	if at(5, 3) {
		p.Exts |= 1 << ExtTC
	}
	if at(5, 6) {
		p.Exts |= 1 << ExtMPTCP
	}
	if at(5, 18) {
		p.Exts |= 1 << ExtMCTP
	}
	if at(6, 18) {
		p.Exts |= 1 << ExtPSP
	}
	return p
}

// MetalenInvalid models xdp_metalen_invalid(): metadata must be a multiple
// of 4 bytes and at most MaxMetaLen.
func (p *Profile) MetalenInvalid(metalen int) bool {
	return metalen%4 != 0 || metalen < 0 || metalen > p.MaxMetaLen
}

// HasExt reports whether extension id is compiled in.
func (p *Profile) HasExt(id ExtID) bool { return id < ExtNum && p.Exts&(1<<id) != 0 }
