package netstack

// Op names the kernel function a transition models. It is the location of
// drops (DropEvent.Loc) and the operation of trace events.
type Op uint8

// Operations, roughly in receive-then-transmit order.
const (
	OpNone            Op = iota
	OpDriverRx           // driver receive: napi_build_skb / netdev_alloc_skb
	OpXDP                // bpf_prog_run_xdp (native XDP in the driver)
	OpXDPGeneric         // do_xdp_generic / bpf_prog_run_generic_xdp
	OpXDPAdjustMeta      // bpf_xdp_adjust_meta
	OpMetadataSet        // skb_metadata_set
	OpEthTypeTrans       // eth_type_trans
	OpGROReceive         // napi_gro_receive / dev_gro_receive
	OpGROMerge           // skb_gro_receive + napi_skb_free_stolen_head
	OpGROFlush           // napi_gro_flush / napi_gro_complete
	OpNetifRx            // netif_rx / __netif_rx (backlog)
	OpNetifReceive       // __netif_receive_skb_core
	OpTapRx              // deliver_skb -> packet_rcv (ptype_all, RX)
	OpTapTx              // dev_queue_xmit_nit -> packet_rcv (PACKET_OUTGOING)
	OpTCIngress          // sch_handle_ingress / tcx_run
	OpTCEgress           // sch_handle_egress / tcx_run
	OpRedirect           // skb_do_redirect / __bpf_redirect
	OpRedirectPeer       // skb_do_redirect with BPF_F_PEER
	OpCloneRedirect      // bpf_clone_redirect
	OpBridgeRx           // br_handle_frame
	OpBridgeForward      // br_forward / br_flood / deliver_clone
	OpIPRcv              // ip_rcv_core
	OpIPRoute            // ip_rcv_finish_core / ip_route_input_noref / ip_error
	OpIPDefrag           // ip_defrag / inet_frag_reasm_finish
	OpIPForward          // ip_forward
	OpIPLocalDeliver     // ip_local_deliver_finish
	OpUDPRcv             // __udp4_lib_rcv
	OpTCPRcv             // tcp_v4_rcv
	OpCgroupIngress      // BPF_CGROUP_RUN_PROG_INET_INGRESS (sk_filter_trim_cap)
	OpSkFilter           // sk_filter_trim_cap socket filter
	OpSockQueue          // __udp_enqueue_schedule_skb / tcp_queue_rcv
	OpSockRead           // skb_consume_udp / tcp_recvmsg: consume_skb
	OpSockSend           // ip_make_skb / tcp_sendmsg_locked
	OpTCPXmit            // __tcp_transmit_skb (clone of the queued skb)
	OpTCPAck             // tcp_clean_rtx_queue (queued skbs freed on ACK)
	OpIPOutput           // ip_local_out / ip_output / ip_route_output
	OpCgroupEgress       // BPF_CGROUP_RUN_PROG_INET_EGRESS (ip_finish_output)
	OpIPFragment         // ip_do_fragment
	OpNeighOutput        // neigh_output / neigh_hh_output
	OpDevQueueXmit       // __dev_queue_xmit
	OpQdisc              // qdisc enqueue
	OpGSOSegment         // validate_xmit_skb -> skb_gso_segment
	OpVethXmit           // veth_xmit
	OpDevForward         // __dev_forward_skb / ____dev_forward_skb
	OpVethXDP            // veth_xdp_rcv_skb / veth_xdp_rcv_one
	OpNICXmit            // ndo_start_xmit of a NIC (consume after DMA)
	OpLoopbackXmit       // loopback_xmit
	OpTunnelEncap        // vxlan_xmit_one / ip_tunnel_xmit / iptunnel_xmit
	OpTunnelDecap        // vxlan_rcv / geneve_rx / ip_tunnel_rcv / __iptunnel_pull_header
	OpARP                // arp_rcv
	OpTracepoint         // trace_kfree_skb / trace_consume_skb programs
	OpClose              // Stack.Close freeing a queued skb
	OpIP6Rcv             // ip6_rcv_core
	OpIP6Route           // ip6_route_input -> ip6_pkt_discard (no route)
	OpIP6McInput         // ip6_mc_input (a group the host has not joined)
	OpIP6Forward         // ip6_forward
	OpIP6LocalDeliver    // ip6_protocol_deliver_rcu
	OpUDP6Rcv            // __udp6_lib_rcv
	OpTCP6Rcv            // tcp_v6_rcv
	OpICMPv6Rcv          // icmpv6_rcv
	OpIP6FragRcv         // ipv6_frag_rcv (header checks, icmpv6_param_prob)
	OpIP6FragQueue       // ip6_frag_queue / inet_frag_queue_insert
	OpIP6FragExpire      // ip6frag_expire_frag_queue (the queue's timer)
	OpIP6FragReasm       // ip6_frag_reasm / inet_frag_reasm_prepare
	OpIP6Output          // ip6_output / ip6_finish_output
	OpIP6Fragment        // ip6_fragment
	OpIP6MakeSkb         // ip6_make_skb (UDPv6 send)
	OpIP6Xmit            // ip6_xmit (TCPv6 send)
	OpIP6TunnelXmit      // ip6tunnel_xmit / udp_tunnel6_xmit_skb / ip6_tnl_xmit
	OpIP6TnlRcv          // ip6_tnl_rcv / __ip6_tnl_rcv / tunnel6_rcv
	OpGRERcv             // gre_rcv (gre_demux's, ip_gre's and ip6_gre's)
	OpMirred             // tcf_mirred_act / tcf_mirred_to_dev (act_mirred)
	OpLinearize          // validate_xmit_skb -> __skb_linearize (a frag_list without NETIF_F_FRAGLIST)
	OpVethXDPXmit        // veth_xdp_xmit (XDP_TX / XDP_REDIRECT frames to a veth's peer)
	OpCpumapEnqueue      // cpu_map_enqueue / cpu_map_generic_redirect / bq_flush_to_queue
	OpCpumapKthread      // cpu_map_kthread_run (the cpumap program, the skb built from the frame)
	OpDevmapXmit         // dev_map_enqueue / bq_xmit_all / dev_map_generic_redirect
	OpPacketSnd          // packet_snd (a packet socket's send, EntryPacket)
	OpVlanUntag          // skb_vlan_untag (__netif_receive_skb_core, check_vlan_id)
	OpMacvlanRx          // macvlan_handle_frame (the lower device's rx_handler)
	OpMacvlanXmit        // macvlan_start_xmit / macvlan_queue_xmit
	OpIFBXmit            // ifb_xmit / ifb_ri_tasklet
	OpICMPRcv            // icmp_rcv
	OpICMPSend           // __icmp_send / icmp_reply -> icmp_push_reply
	OpTCPSendReset       // tcp_v4_send_reset -> ip_send_unicast_reply
	OpIGMPRcv            // igmp_rcv
	OpARPSend            // arp_send_dst -> arp_create, arp_xmit
	OpNetkitXmit         // netkit_xmit
	OpNetkitRun          // netkit_run (the transmitting end's programs)
	NumOps
)

var opNames = [NumOps]string{
	OpNone: "none", OpDriverRx: "napi_build_skb", OpXDP: "bpf_prog_run_xdp",
	OpXDPGeneric: "do_xdp_generic", OpXDPAdjustMeta: "bpf_xdp_adjust_meta",
	OpMetadataSet: "skb_metadata_set", OpEthTypeTrans: "eth_type_trans",
	OpGROReceive: "napi_gro_receive", OpGROMerge: "skb_gro_receive", OpGROFlush: "napi_gro_complete",
	OpNetifRx: "netif_rx", OpNetifReceive: "__netif_receive_skb_core",
	OpTapRx: "packet_rcv", OpTapTx: "dev_queue_xmit_nit",
	OpTCIngress: "sch_handle_ingress", OpTCEgress: "sch_handle_egress",
	OpRedirect: "skb_do_redirect", OpRedirectPeer: "skb_do_redirect(peer)",
	OpCloneRedirect: "bpf_clone_redirect", OpBridgeRx: "br_handle_frame",
	OpBridgeForward: "br_forward", OpIPRcv: "ip_rcv_core", OpIPRoute: "ip_rcv_finish_core",
	OpIPDefrag: "ip_defrag", OpIPForward: "ip_forward", OpIPLocalDeliver: "ip_local_deliver_finish",
	OpUDPRcv: "__udp4_lib_rcv", OpTCPRcv: "tcp_v4_rcv",
	OpCgroupIngress: "__cgroup_bpf_run_filter_skb(ingress)", OpSkFilter: "sk_filter_trim_cap",
	OpSockQueue: "sock_queue_rcv_skb", OpSockRead: "skb_consume_udp",
	OpSockSend: "ip_make_skb", OpTCPXmit: "__tcp_transmit_skb", OpTCPAck: "tcp_clean_rtx_queue",
	OpIPOutput: "ip_output", OpCgroupEgress: "__cgroup_bpf_run_filter_skb(egress)",
	OpIPFragment: "ip_do_fragment", OpNeighOutput: "neigh_output",
	OpDevQueueXmit: "__dev_queue_xmit", OpQdisc: "qdisc_enqueue", OpGSOSegment: "skb_segment",
	OpVethXmit: "veth_xmit", OpDevForward: "__dev_forward_skb", OpVethXDP: "veth_xdp_rcv_skb",
	OpNICXmit: "ndo_start_xmit", OpLoopbackXmit: "loopback_xmit",
	OpTunnelEncap: "iptunnel_xmit", OpTunnelDecap: "__iptunnel_pull_header",
	OpARP: "arp_rcv", OpTracepoint: "trace_kfree_skb", OpClose: "close",
	OpIP6Rcv: "ip6_rcv_core", OpIP6Route: "ip6_pkt_discard", OpIP6McInput: "ip6_mc_input",
	OpIP6Forward: "ip6_forward", OpIP6LocalDeliver: "ip6_protocol_deliver_rcu",
	OpUDP6Rcv: "__udp6_lib_rcv", OpTCP6Rcv: "tcp_v6_rcv", OpICMPv6Rcv: "icmpv6_rcv",
	OpIP6FragRcv: "ipv6_frag_rcv", OpIP6FragQueue: "ip6_frag_queue", OpIP6FragExpire: "ip6frag_expire_frag_queue",
	OpIP6FragReasm: "ip6_frag_reasm", OpIP6Output: "ip6_output", OpIP6Fragment: "ip6_fragment",
	OpIP6MakeSkb: "ip6_make_skb", OpIP6Xmit: "ip6_xmit", OpIP6TunnelXmit: "ip6tunnel_xmit", OpIP6TnlRcv: "ip6_tnl_rcv",
	OpGRERcv: "gre_rcv", OpMirred: "tcf_mirred_act", OpLinearize: "__skb_linearize", OpVethXDPXmit: "veth_xdp_xmit",
	OpCpumapEnqueue: "cpu_map_enqueue", OpCpumapKthread: "cpu_map_kthread_run", OpDevmapXmit: "dev_map_enqueue",
	OpPacketSnd: "packet_snd", OpVlanUntag: "skb_vlan_untag",
	OpMacvlanRx: "macvlan_handle_frame", OpMacvlanXmit: "macvlan_queue_xmit",
	OpIFBXmit: "ifb_xmit", OpICMPRcv: "icmp_rcv", OpICMPSend: "__icmp_send", OpTCPSendReset: "tcp_v4_send_reset", OpIGMPRcv: "igmp_rcv", OpARPSend: "arp_xmit",
	OpNetkitXmit: "netkit_xmit", OpNetkitRun: "netkit_run",
}

func (o Op) String() string {
	if o < NumOps {
		return opNames[o]
	}
	return "op?"
}
