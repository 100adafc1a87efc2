package skb

// DropReason names why an skb was freed (enum skb_drop_reason,
// include/net/dropreason-core.h). The numeric values are the model's own;
// the kernel renumbers them between releases. Name returns the kernel's
// identifier.
type DropReason uint16

// Drop reasons the model and its users need. SkbConsumed is not a drop: it
// is what consume_skb reports.
const (
	SkbNotDroppedYet DropReason = iota
	SkbConsumed
	DropNotSpecified
	DropNoSocket
	DropSocketFilter
	DropSocketRcvbuff
	DropPktTooSmall
	DropTCPCsum
	DropUDPCsum
	DropNetfilterDrop
	DropOtherhost
	DropIPCsum
	DropIPInhdr
	DropIPRPFilter
	DropUnicastInL2Multicast
	DropXfrmPolicy
	DropIPNoproto
	DropProtoMem
	DropNeighFailed
	DropNeighQueuefull
	DropTCEgress
	DropTCIngress
	DropQdiscDrop
	DropCPUBacklog
	DropXDP
	DropUnhandledProto
	DropSkbGSOSeg
	DropDevReady
	DropFullRing
	DropNomem
	DropTapFilter
	DropIPInNoroutes
	DropIPOutNoroutes
	DropPktTooBig
	DropDupFrag
	DropFragReasmTimeout
	DropFragTooFar
	DropIPv6Disabled
	DropTCChainNotfound
	DropTCReclassifyLoop
	DropVxlanInvalidHdr
	DropVxlanVNINotFound
	DropIPTunnelECN
	DropTunnelTxinfo
	DropNoTxTarget
	DropMacInvalidSource
	// DropIPInAddrErrors is ip_error() on an RTN_UNREACHABLE input route
	// with -EHOSTUNREACH (ip_route_input_slow when forwarding is off):
	// IPSTATS_MIB_INADDRERRORS.
	DropIPInAddrErrors
	// DropBPFCgroupEgress is ip_finish_output() / ip6_finish_output() when
	// a BPF_PROG_TYPE_CGROUP_SKB egress program refuses the packet.
	DropBPFCgroupEgress
	// DropTCPFlags is a segment whose flags are invalid in the socket's
	// state, such as an ACK without SYN in SYN_SENT
	// (tcp_rcv_synsent_state_process, v5.19+).
	DropTCPFlags
	// DropTCPReset is a RST the state does not accept, such as one
	// without ACK in SYN_SENT.
	DropTCPReset
	// DropICMPCsum is icmp_rcv() on a message whose checksum is wrong.
	DropICMPCsum
	// DropInvalidProto is icmp_rcv() on a message to a broadcast or
	// multicast address that the host does not answer there.
	DropInvalidProto
	// DropIPv6NdiscHopLimit and DropIPv6NdiscBadCode are ndisc_rcv() on
	// a neighbour discovery message whose hop limit is not 255 or whose
	// code is not 0.
	DropIPv6NdiscHopLimit
	DropIPv6NdiscBadCode
	// DropIPv6NdiscBadOptions and DropIPv6NdiscNsOtherhost are
	// ndisc_rcv() on options that do not parse and on a solicitation for
	// another host's address.
	DropIPv6NdiscBadOptions
	DropIPv6NdiscNsOtherhost
	// DropIPv6NdiscFrag is ndisc_rcv() on a message that came in
	// fragments.
	DropIPv6NdiscFrag
	// DropIPv6BadExthdr is an IPv6 extension header that cannot be parsed
	// (icmpv6_notify on the quoted packet).
	DropIPv6BadExthdr
	// DropIPInvalidSource, DropIPInvalidDest, DropIPLocalnet and
	// DropIPLocalSource are ip_route_input_slow()'s martian checks: a
	// multicast, limited broadcast or 0.0.0.0/8 source (or one
	// fib_validate_source finds broadcast), a 0.0.0.0/8 destination, a
	// 127.0.0.0/8 address without route_localnet, and a source that is
	// one of the host's own addresses without accept_local.
	DropIPInvalidSource
	DropIPInvalidDest
	DropIPLocalnet
	DropIPLocalSource
	// DropBridgeIngressSTPState is br_handle_frame() on a frame that came
	// in by a bridge port whose state forwards nothing (disabled: the
	// port, its carrier or the bridge is down), from v6.14
	// (skb.Profile.BridgeDropReasons).
	DropBridgeIngressSTPState
	// DropMacIEEEMacControl is br_handle_frame() on a frame to the MAC
	// control group address 01:80:c2:00:00:01 (pause), from v6.14.
	DropMacIEEEMacControl
	numDropReasons
)

var dropNames = [numDropReasons]string{
	SkbNotDroppedYet:          "SKB_NOT_DROPPED_YET",
	SkbConsumed:               "SKB_CONSUMED",
	DropNotSpecified:          "SKB_DROP_REASON_NOT_SPECIFIED",
	DropNoSocket:              "SKB_DROP_REASON_NO_SOCKET",
	DropSocketFilter:          "SKB_DROP_REASON_SOCKET_FILTER",
	DropSocketRcvbuff:         "SKB_DROP_REASON_SOCKET_RCVBUFF",
	DropPktTooSmall:           "SKB_DROP_REASON_PKT_TOO_SMALL",
	DropTCPCsum:               "SKB_DROP_REASON_TCP_CSUM",
	DropUDPCsum:               "SKB_DROP_REASON_UDP_CSUM",
	DropNetfilterDrop:         "SKB_DROP_REASON_NETFILTER_DROP",
	DropOtherhost:             "SKB_DROP_REASON_OTHERHOST",
	DropIPCsum:                "SKB_DROP_REASON_IP_CSUM",
	DropIPInhdr:               "SKB_DROP_REASON_IP_INHDR",
	DropIPRPFilter:            "SKB_DROP_REASON_IP_RPFILTER",
	DropUnicastInL2Multicast:  "SKB_DROP_REASON_UNICAST_IN_L2_MULTICAST",
	DropXfrmPolicy:            "SKB_DROP_REASON_XFRM_POLICY",
	DropIPNoproto:             "SKB_DROP_REASON_IP_NOPROTO",
	DropProtoMem:              "SKB_DROP_REASON_PROTO_MEM",
	DropNeighFailed:           "SKB_DROP_REASON_NEIGH_FAILED",
	DropNeighQueuefull:        "SKB_DROP_REASON_NEIGH_QUEUEFULL",
	DropTCEgress:              "SKB_DROP_REASON_TC_EGRESS",
	DropTCIngress:             "SKB_DROP_REASON_TC_INGRESS",
	DropQdiscDrop:             "SKB_DROP_REASON_QDISC_DROP",
	DropCPUBacklog:            "SKB_DROP_REASON_CPU_BACKLOG",
	DropXDP:                   "SKB_DROP_REASON_XDP",
	DropUnhandledProto:        "SKB_DROP_REASON_UNHANDLED_PROTO",
	DropSkbGSOSeg:             "SKB_DROP_REASON_SKB_GSO_SEG",
	DropDevReady:              "SKB_DROP_REASON_DEV_READY",
	DropFullRing:              "SKB_DROP_REASON_FULL_RING",
	DropNomem:                 "SKB_DROP_REASON_NOMEM",
	DropTapFilter:             "SKB_DROP_REASON_TAP_FILTER",
	DropIPInNoroutes:          "SKB_DROP_REASON_IP_INNOROUTES",
	DropIPOutNoroutes:         "SKB_DROP_REASON_IP_OUTNOROUTES",
	DropPktTooBig:             "SKB_DROP_REASON_PKT_TOO_BIG",
	DropDupFrag:               "SKB_DROP_REASON_DUP_FRAG",
	DropFragReasmTimeout:      "SKB_DROP_REASON_FRAG_REASM_TIMEOUT",
	DropFragTooFar:            "SKB_DROP_REASON_FRAG_TOO_FAR",
	DropIPv6Disabled:          "SKB_DROP_REASON_IPV6DISABLED",
	DropTCChainNotfound:       "SKB_DROP_REASON_TC_CHAIN_NOTFOUND",
	DropTCReclassifyLoop:      "SKB_DROP_REASON_TC_RECLASSIFY_LOOP",
	DropVxlanInvalidHdr:       "SKB_DROP_REASON_VXLAN_INVALID_HDR",
	DropVxlanVNINotFound:      "SKB_DROP_REASON_VXLAN_VNI_NOT_FOUND",
	DropIPTunnelECN:           "SKB_DROP_REASON_IP_TUNNEL_ECN",
	DropTunnelTxinfo:          "SKB_DROP_REASON_TUNNEL_TXINFO",
	DropNoTxTarget:            "SKB_DROP_REASON_NO_TX_TARGET",
	DropMacInvalidSource:      "SKB_DROP_REASON_MAC_INVALID_SOURCE",
	DropIPInAddrErrors:        "SKB_DROP_REASON_IP_INADDRERRORS",
	DropBPFCgroupEgress:       "SKB_DROP_REASON_BPF_CGROUP_EGRESS",
	DropTCPFlags:              "SKB_DROP_REASON_TCP_FLAGS",
	DropTCPReset:              "SKB_DROP_REASON_TCP_RESET",
	DropICMPCsum:              "SKB_DROP_REASON_ICMP_CSUM",
	DropInvalidProto:          "SKB_DROP_REASON_INVALID_PROTO",
	DropIPv6NdiscHopLimit:     "SKB_DROP_REASON_IPV6_NDISC_HOP_LIMIT",
	DropIPv6NdiscBadCode:      "SKB_DROP_REASON_IPV6_NDISC_BAD_CODE",
	DropIPv6NdiscBadOptions:   "SKB_DROP_REASON_IPV6_NDISC_BAD_OPTIONS",
	DropIPv6NdiscNsOtherhost:  "SKB_DROP_REASON_IPV6_NDISC_NS_OTHERHOST",
	DropIPv6NdiscFrag:         "SKB_DROP_REASON_IPV6_NDISC_FRAG",
	DropIPv6BadExthdr:         "SKB_DROP_REASON_IPV6_BAD_EXTHDR",
	DropIPInvalidSource:       "SKB_DROP_REASON_IP_INVALID_SOURCE",
	DropIPInvalidDest:         "SKB_DROP_REASON_IP_INVALID_DEST",
	DropIPLocalnet:            "SKB_DROP_REASON_IP_LOCALNET",
	DropIPLocalSource:         "SKB_DROP_REASON_IP_LOCAL_SOURCE",
	DropBridgeIngressSTPState: "SKB_DROP_REASON_BRIDGE_INGRESS_STP_STATE",
	DropMacIEEEMacControl:     "SKB_DROP_REASON_MAC_IEEE_MAC_CONTROL",
}

// Name returns the kernel identifier, such as "SKB_DROP_REASON_NOMEM".
func (r DropReason) Name() string {
	if r < numDropReasons {
		return dropNames[r]
	}
	return "SKB_DROP_REASON_?"
}

func (r DropReason) String() string { return r.Name() }

// Consumed reports whether the skb was consumed (consume_skb) rather than
// dropped.
func (r DropReason) Consumed() bool { return r == SkbConsumed }

// ParseDropReason returns the reason whose Name is s.
func ParseDropReason(s string) (DropReason, bool) {
	for i, n := range dropNames {
		if n == s {
			return DropReason(i), true
		}
	}
	return 0, false
}
