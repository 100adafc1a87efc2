// Package netstack models the Linux network stack paths that decide where
// per-packet metadata survives: namespaces, devices (NIC with native or
// generic XDP, veth and netkit pairs, loopback, dummy, bridge, macvlan, ifb, vxlan and geneve over
// IPv4 or IPv6, gre, gretap, ipip, sit, ip6tnl, ip6gre, ip6gretap),
// addresses, longest-prefix routes in tables chosen by policy rules
// (fibrules.go), multipath routes whose next hop a packet's hash picks
// (multipath.go), neighbours with their NUD state,
// packet taps, UDP/TCP sockets with cgroup membership and socket filters,
// TCP connection state (listeners' requests and children in a bounded
// table, connecting sockets; tcp.go describes what it models and what it
// does not), and BPF programs at every hook, sockops and LSM included. Each transition calls the skb package
// operation the kernel calls there; a comment names the kernel function.
// Version differences come from the allocator's skb.Profile.
//
// # Paths
//
//	RX (Stack.Inject, entry "rx")
//	 driver ── native XDP (nic: napi_build_skb page, headroom 256) ──┐ XDP_DROP/TX/REDIRECT
//	   │ skb_metadata_set + eth_type_trans                            │ cpumap: bulk → ring →
//	   │                                                              │ kthread (program, skb
//	   │                                                              │ from the frame, own GRO)
//	   ▼                                                              │
//	 napi_gro_receive ── GRO (TCP, UDP, list, tunnels; no gen XDP) ─ Flush ┤
//	   ▼                                                              │
//	 __netif_receive_skb_core ◄── backlog (netif_rx: veth, lo, redirects, sit)
//	   │ generic XDP → skb_vlan_untag (802.1Q/802.1ad: tag to vlan_tci)
//	   │ RX taps (deliver_skb; packet_rcv runs the tap's filter
//	   │   with cb[] cleared for good, then clones if shared)
//	   │ tc ingress (tcx: NEXT/PASS/DROP/REDIRECT; redirect_peer → another round)
//	   │ bridge port → br_handle_frame (cb cleared; br_netfilter when on;
//	   │   forward / flood clones, newest port first / up the bridge; port
//	   │   flags hairpin, isolated, flood, mcast_flood, bcast_flood, learning)
//	   │ macvlan lower → macvlan_handle_frame (unicast for a macvlan's
//	   │   address: skb->dev = macvlan, PACKET_HOST, no scrub → another round;
//	   │   broadcast: a clone to the port's queue → a clone per macvlan)
//	   │ check_vlan_id (VLAN id ≠ 0: OTHERHOST; tag cleared)
//	   ▼
//	 ip_rcv_core (OTHERHOST, INHDR, IP_CSUM, PKT_TOO_SMALL)
//	   → ip_rcv_options after the route (ipopts.go: skb_cow, option checks:
//	     IP_INHDR with a parameter problem; record route and timestamps
//	     filled; source routes NOT_SPECIFIED)
//	   → PREROUTING: TPROXY rules (tproxy_tg4: skb->sk = the transparent socket)
//	   → route: multicast (ip_mc_validate_source), martians
//	     (ip_route_input_slow: IP_INVALID_SOURCE, IP_INVALID_DEST,
//	     IP_LOCALNET), local table first (device addresses, lo prefixes,
//	     local routes: AnyIP), then main or the policy rules' tables
//	     (fibrules.go; ip_error: INADDRERRORS); a multipath route's
//	     next hop by the packet's hash (multipath.go);
//	     fib_validate_source (IP_LOCAL_SOURCE, IP_INVALID_SOURCE,
//	     IP_RPFILTER; accept_local, rp_filter) on local, broadcast and
//	     forwarded packets (rtinput.go); looped-back packets skip it;
//	     drop_unicast_in_l2_multicast (UNICAST_IN_L2_MULTICAST)
//	   ├─ local: ip_defrag (skb_morph) → ip_local_deliver_finish
//	   │     UDP: skb_steal_sock (TPROXY) or the socket lookup; a
//	   │          tunnel socket → vxlan/geneve decap (__iptunnel_pull_header,
//	   │          eth_type_trans on the inner frame) → GRO cells → RX again
//	   │          else cgroup ingress → socket filter → receive queue → read
//	   │     TCP: lookup (connection table, connecting sockets, listeners);
//	   │          same filters; SYN → request (lsm inet_conn_request);
//	   │          ACK completing it → sockops PASSIVE_ESTABLISHED_CB;
//	   │          SYN-ACK to a connecting socket → tcp_finish_connect (lsm
//	   │          inet_conn_established, sockops ACTIVE_ESTABLISHED_CB);
//	   │          ACK frees the retransmit queue (tcp.go)
//	   │     GRE/IPIP/SIT: ip_tunnel_rcv → RX on the tunnel device
//	   │     ICMP: icmp_rcv (ICMP_CSUM, UNHANDLED_PROTO, INVALID_PROTO to a
//	   │          broadcast, echo reply NO_SOCKET: no ping sockets; the
//	   │          rest consumed, echo and timestamp requests answered)
//	   │     IGMP: igmp_rcv (queries and multicast v1/v2 reports consumed,
//	   │          the rest freed; v1/v2 queriers change how v3 queries read)
//	   │     other protocols: IP_NOPROTO (and a protocol unreachable)
//	   └─ forward: ip_forward (TTL, skb_cow, ICMP redirect when the packet
//	        leaves by the device it came in on from a source on that link,
//	        priority from TOS) → ip_output
//
//	 Answers the stack sends (Options.Replies; icmp.go, icmp6.go): ICMP
//	 port unreachable (UDP without a socket), time exceeded and
//	 fragmentation needed (ip_forward), host redirects
//	 (ip_rt_send_redirect: ip_rt_redirect_load doubling, nine at most until
//	 ip_rt_redirect_silence), network/host unreachable and
//	 filtered (ip_error, its token bucket first), echo and timestamp
//	 replies; ICMPv6 port unreachable, hop limit exceeded, packet too big,
//	 no route and administratively prohibited (ip6_pkt_drop), echo
//	 replies; within v6.18's rate limits; TCP resets for segments without
//	 a socket (tcp_v4_send_reset, tcp_v6_send_reset); fwmark_reflect →
//	 the ICMP, ICMPv6 or TCP control socket (root cgroup; IPv6 resets
//	 have no owner) → ip_output / ip6_output: cgroup egress, tc egress,
//	 taps, devices
//	 arp_rcv → arp_process (PKT_TOO_SMALL, NOT_SPECIFIED for bad headers and
//	   multicast or loopback targets; consumed; a reply for a local target)
//	 ipv6_rcv → ip6_rcv_core (OTHERHOST, IPV6DISABLED, INHDR, UNHANDLED_PROTO,
//	   PKT_TOO_SMALL; hop-by-hop length) → ip6_route_input
//	   ├─ local / joined multicast: ip6_protocol_deliver_rcu (hop-by-hop,
//	   │     destination options, exhausted routing headers skipped;
//	   │     fragments: ipv6_frag_rcv → ip6_frag_queue → ip6_frag_reasm
//	   │     (skb_morph onto the offset-0 fragment), resubmitted) →
//	   │     UDP / TCP as above (AF_INET6 sockets, dual-stack on ::; the
//	   │     IPv6 vxlan/geneve socket decapsulates), ip6ip6 / ip4ip6 /
//	   │     GRE → ip6_tnl_rcv (scrub xnet) → GRO cells → RX again,
//	   │     ICMPv6: icmpv6_rcv (ICMP_CSUM; echo reply NO_SOCKET;
//	   │     icmpv6_notify PKT_TOO_SMALL; ndisc_rcv: fragments, hop
//	   │     limit, code, NS/NA/RS/RA/redirect checks, NS_OTHERHOST;
//	   │     unknown informational NOT_SPECIFIED; echo answered),
//	   │     unknown → IP_NOPROTO (and a parameter problem)
//	   └─ forward: ip6_forward (forwarding sysctl, hop limit; back out of
//	         the input device: ndisc_send_redirect; out of another: no
//	         unspecified or link-local source (IP_INADDRERRORS, a
//	         beyond-scope error); MTU: no fragmentation, skb_cow) →
//	         ip6_finish_output2 (ETH_P_IPV6)
//
//	TX (entry "tx": a socket sends the captured IP packet)
//	 UDP ip_make_skb / ip6_make_skb, TCP tcp_sendmsg (fclone kept on the
//	 rtx queue, __tcp_transmit_skb sends a clone or a pskb_copy; IPv6:
//	 ip6_xmit)
//	   → ip_output / ip6_output: cgroup egress → ip_do_fragment
//	     (ip_copy_metadata) / ip6_fragment (ip6_copy_metadata)
//	   → neigh_output (Ethernet header) → __dev_queue_xmit: tc egress →
//	     qdisc → GSO (skb_segment) → TX taps (one clone) → driver:
//	       veth: __dev_forward_skb (scrub xnet, priority 0, eth_type_trans) → peer RX
//	       netkit: netkit_prep_forward (by profile) → the sending end's
//	         programs (netkit_primary / netkit_peer) → peer backlog
//	       nic/dummy: consume      lo: loopback_xmit → backlog
//	       ifb: queue → tasklet (tc_skip_classify) → back out of, or into,
//	         the device skb_iif names (no scrub)
//	       macvlan: bridge-mode sibling → dev_forward_skb on the lower
//	         device (scrub xnet) → its RX; else dev_queue_xmit on it (no scrub)
//	       bridge: FDB / flood     tunnels: skb_cow_head, pushes, iptunnel_xmit
//	                               (scrub xnet) → ip_output in the link netns;
//	                               IPv6 underlay: scrub xnet, pushes,
//	                               udp_tunnel6_xmit_skb / ip6_tnl_xmit →
//	                               ip6tunnel_xmit → ip6_output
//
// BPF helpers (Ctx): bpf_redirect (egress: no scrub, clear tstamp,
// redirected), bpf_redirect with BPF_F_INGRESS (dev_forward_skb scrub),
// bpf_redirect_peer (scrub xnet=false, receive again in the peer's
// namespace), bpf_redirect_neigh (no scrub, clear tstamp, the route's next
// hop, or the one struct bpf_redir_neigh names, through neigh_output),
// bpf_fib_lookup (fib.go: the local and main tables, forwarding, MTU,
// gateway, neighbour and source checks of bpf_ipv4_fib_lookup and
// bpf_ipv6_fib_lookup, with all six flags; a profile before a flag's
// release answers it -EINVAL, and before v5.10, v5.12 and v6.3 the helper
// wrote no ifindex on NO_NEIGH, no mtu_result, and answered for any
// neighbour entry), bpf_check_mtu (skb and XDP
// variants, BPF_MTU_CHK_SEGS), bpf_skb_set_tunnel_key and
// bpf_skb_get_tunnel_key (tunkey.go: the per-CPU md_dst, the metadata dst a
// collect_md device's receive path allocates, and where skb_scrub_packet
// and the IP layer drop it), bpf_skb_pull_data (and the
// verifier's unclone prologue before a tc program's direct writes),
// bpf_clone_redirect (egress and ingress; the original is made
// head-writable), mark, priority, tc_index, cb, hash, tstamp,
// bpf_xdp_adjust_meta (limits: headroom minus struct xdp_frame, i.e. 216 on
// a 256-byte headroom, -EINVAL beyond; -EACCES for lengths the profile
// refuses), bpf_xdp_adjust_head (the metadata moves with data; generic XDP
// then moves the skb's mac header and parses a changed Ethernet header
// again), bpf_skb_vlan_push, bpf_skb_vlan_pop, bpf_skb_change_head,
// bpf_skb_adjust_room and bpf_skb_change_proto (tc only; a tag moved into
// or out of the frame, or bytes pushed or pulled in front of the headers,
// take the XDP metadata along only on v6.19+ profiles, DataMoveHelpers;
// adjust_room's encap flags set the inner headers and GSO type;
// CHECKSUM_COMPLETE adjustments are not modelled), and the metadata
// carrier's Lookup/Store/Delete. The action
// library also has tc's act_mirred (ActMirred: mirror or redirect toward a
// device's receive or transmit path, tcf_mirred_to_dev), which never
// scrubs.
//
// # Netkit
//
// A netkit pair (KindNetkit, v6.7; netkit.go) is a veth pair whose
// transmit path runs BPF programs instead of a driver: netkit_xmit drops
// a frame whose peer is down, runs netkit_prep_forward, makes the peer
// skb->dev, and runs the sending end's programs (BPF_NETKIT_PRIMARY
// programs when the primary sends, BPF_NETKIT_PEER programs when the peer
// sends; both are SCHED_CLS and attach through the primary) until one
// answers other than NETKIT_NEXT, or takes the end's policy (forward or
// blackhole) when it has none. PASS and a final NEXT queue the frame to
// the peer's backlog (__netif_rx: no NAPI, GRO or native XDP), REDIRECT
// calls skb_do_redirect in the peer's namespace (bpf_redirect_peer fails:
// not at tc ingress), anything else drops. netkit_prep_forward changed
// twice, and the profile says which one runs:
//   - v6.7 (Profile.Netkit): skb_scrub_packet(skb, xnet), priority 0
//     always, eth_type_trans after the programs;
//   - v6.10 (NetkitPktType): pkt_type from the peer's address before the
//     programs (eth_skb_pkt_type), kept after them (eth_skb_pull_mac);
//   - v6.13 (NetkitScrub): skb_scrub_packet(skb, false), and across
//     namespaces skb_clear_tstamp and, with scrub default, mark and
//     priority 0; scrub none keeps them. A value kept across a scrub with
//     xnet=false (keep_scrub) so crosses a netkit pair into another
//     namespace, where a veth needs keep_netns.
//
// l3 mode (the default) has IFF_NOARP ends with zero addresses; l2 mode
// ARPs. Head- and tailroom (v6.14, NetkitRoom) enter LL_RESERVED_SPACE of
// both ends. bpf_redirect_peer targets a netkit primary as a veth. This
// kernel (6.18.44) is built without CONFIG_NETKIT, so no kernel test
// checks the model; it follows drivers/net/netkit.c of each release.
//
// # Multipath routes
//
// A route with next hops (RouteConfig.Nexthops, `ip route add DST nexthop
// ... nexthop ...`) sends each packet by the 31-bit hash of its namespace's
// fib_multipath_hash_policy: fib_multipath_hash and rt6_multipath_hash
// fill struct flow_keys (the L3 policy: the addresses, an ICMP error's
// quoted ones, IPv6's raw flow label and next header; L4: the flow
// dissector's 5-tuple, or a received skb's L4 hash as it is; inner L3:
// the innermost addresses of IPIP, IPv6-in-IP and GRE; custom: the
// fields of fib_multipath_hash_fields, outer and inner, mixed by
// jhash_2words on the skb path), order them both ways alike
// (__flow_hash_consistentify) and take SipHash-2-4 (internal/siphash)
// keyed by fib_multipath_hash_seed, or the boot seed
// (Options.MultipathBootSeed). Forwarding and IPv4 ICMP errors hash the
// packet (the skb path); the host's sockets, answers, tunnels and
// bpf_fib_lookup hash their flow (the flowi path); IPv4 tunnels mix in
// the inner packet's skb_get_hash. fib_select_multipath takes the first
// live path whose upper bound (fib_rebalance: weights, a path through a
// device that is down is dead; a route through no live device is
// flushed, as the kernel flushes routes at NETDEV_DOWN) covers the hash, passing over gateways in
// a failed or incomplete state with fib_multipath_use_neigh, and weighs
// an output lookup's source address as the profile's MultipathSaddr says.
// Routes may also name `ip nexthop` objects (Config.NexthopObjects,
// RouteConfig.NHID, v5.3): a next hop, a blackhole, or a hash-threshold
// group, whose members are picked by the same hash
// (nexthop_select_path_hthr): no source address and no sysctl count, a
// member whose gateway's neighbour failed is passed over (the fallback
// changed in v6.6), a member whose device is down is deleted from the
// group, and IPv6 lookups bound to a device take the group's first
// member (6.18). TestKernelMultipath, TestKernelMultipath6 and
// TestKernelFibLookupMultipath check the choices against 6.18 with fixed
// seeds. Not modelled: resilient nexthop groups and FDB nexthops, an IPv4
// lookup bound to a device that no group member uses (the kernel then
// skips the prefix's other routes), the random
// source port a TCP connect hashes (FLOWI_FLAG_ANY_SPORT; the model's
// sockets hash their own port), IPv6 hosts' reachability scoring of the
// chosen path (rt6_score_route with RT6_LOOKUP_F_REACHABLE), and BPF flow
// dissector programs.
//
// # Carrier
//
// A device's carrier (netif_carrier_ok, carrier.go) follows the
// devices' states: a dummy's or a NIC's is on unless its configuration
// takes it off (DeviceConfig.NoCarrier: `ip link set DEV carrier off`, a
// link that is down); a veth or netkit end has it while both ends are up
// (DeviceConfig.PeerDown leaves the peer down); a bridge while one of its
// ports forwards; a macvlan while its lower device has it; the other
// kinds always. A device that is up without carrier
//   - drops what it sends at its qdisc (noop_qdisc: QDISC_DROP), after tc
//     egress and before the taps;
//   - forwards nothing as a bridge port (BR_STATE_DISABLED): floods pass
//     it over, a frame it takes is dropped (BRIDGE_INGRESS_STP_STATE from
//     v6.14, skb.Profile.BridgeDropReasons, which also names the bridge's
//     MAC_INVALID_SOURCE and NO_TX_TARGET drops);
//   - has linkdown routes (RTNH_F_LINKDOWN; not its local ones), which
//     lookups use unless the namespace's ignore_routes_with_linkdown
//     (NamespaceConfig.IgnoreRoutesWithLinkdown, IPv6...) passes them
//     over, as bpf_fib_lookup does; a multipath route's rebalance then
//     leaves such paths out, and fib_validate_source's second lookup
//     (FIB_LOOKUP_IGNORE_LINKSTATE) still sees them;
//   - has no nexthop objects (the kernel refuses them, or flushes them
//     when the carrier goes);
//   - takes no entry: no frame arrives on it.
//
// A device that is down has noop_qdisc too: what reaches its
// __dev_queue_xmit (a bpf_redirect out of it) is dropped there, after its
// tc egress. TestKernelCarrier checks these against 6.18 with a veth
// whose peer is down, a macvlan on it and bridges;
// TestKernelRedirectTargetState a redirect out of a device that is down.
// New takes every device as created in its final state, before its
// addresses and routes.
//
// # Link events
//
// Stack.SetLink changes a device's state while the stack runs (`ip link
// set DEV up|down`, `carrier on|off`; linkevent.go), between NAPI polls,
// and applies what the kernel's NETDEV_DOWN, NETDEV_UP and NETDEV_CHANGE
// handlers do to what existed: routes through a device that goes down,
// its nexthop objects, its neighbour entries (permanent and proxy ones
// too) and, unless keep_addr_on_down, its IPv6 addresses are deleted for
// good, its IPv4 addresses stay local; a multipath route keeps its other
// paths; carrier loss makes routes linkdown and flushes nexthop objects
// and non-permanent neighbour entries; a disabled bridge port forgets the
// addresses it learnt. Up again, only the addresses' routes come back.
// Stack.AddAddr, DelAddr, AddRoute and DelRoute (addrevent.go) change
// addresses and routes, with the kernel's refusals (EEXIST, EADDRNOTAVAIL,
// ESRCH, ENETDOWN); Stack.SetMTU (mtuevent.go) a device's MTU, below 1280
// taking its IPv6 away; Stack.Apply makes any Event.
// A frame arriving on an entry device that is down or without carrier is
// not received (ErrNoLink). TestKernelLinkEvents checks these against
// 6.18.
//
// A bridge port hands a frame to a link-local group address
// (01:80:c2:00:00:0X) to the port's own stack (learning its source),
// drops MAC control frames (0x01: MAC_IEEE_MAC_CONTROL from v6.14) and
// bridges only the group address 0x00, the bridges having no STP, and
// the others whose bit the port's or the bridge's group_fwd_mask has
// (TestKernelBridgeLinkLocal).
//
// Proxy ARP (arpProxies: proxy_arp, or a proxy entry, in a forwarding
// namespace, for a target routed through another device) and proxy
// neighbour discovery (proxy_ndp and a proxy entry) answer for addresses
// the host does not own (TestKernelProxyARP, TestKernelProxyNDP). A
// namespace that forwards IPv6 owns its prefixes' subnet-router anycast
// addresses (anycast.go, TestKernelAnycast6).
//
// A bridge with VLAN filtering (brvlan.go) tags what enters untagged with
// the port's pvid, drops what is outside the port's VLANs, learns and
// finds addresses per VLAN, floods within the VLAN and strips the tag
// where the VLAN is untagged; its own VLAN group decides what goes up it
// and tags what it sends. These machines' kernel is built without
// CONFIG_BRIDGE_VLAN_FILTERING: TestKernelBridgeVLAN skips here, and the
// model follows net/bridge/br_vlan.c, checked by unit, property and
// mutation tests.
//
// # Ownership
//
// Every path function takes ownership of the skb it is given: it frees,
// queues or passes it on. Programs do NOT take ownership: they must not
// free the skb or keep it after Run. Stack.Close frees everything the stack
// still holds (GRO lists, backlog, reassembly queues, socket, tap and
// retransmit queues); after Close and the carrier's Close the allocator's
// and accountant's leak checks pass.
//
// Native XDP runs on the driver's page already wrapped in a Buff, so
// programs and carriers see one *skb.Buff. That Buff is an XDP frame
// (skb.Buff.XDPFrame): as in the kernel, no sk_buff is allocated or
// accounted, and no kfree_skb or consume_skb tracepoint fires, until
// XDP_PASS builds one, or the veth or cpumap that receives a redirected
// frame does (xdp_build_skb_from_frame); a frame dropped, bounced or sent
// by a device's ndo_xdp_xmit costs its page only. During the run data_meta is mirrored in
// shinfo->meta_len so the area is visible through skb.Buff.Metadata, and
// after it the driver's metalen (data - data_meta) is read back from there,
// so a carrier that moves data_meta through the skb keeps its area.
//
// Reassembly builds the datagram as inet_frag_reasm_finish does: the
// other fragments are copied into the head's tailroom or have their
// page-fragment heads stolen (skb_try_coalesce, for IPv4 local delivery
// and IPv6), and the rest go on the head's frag_list, where they live, and
// are charged to its truesize, until the datagram is freed; their own
// kfree_skb / consume_skb tracepoints then run (skb Hooks.ListFree). The
// paths after reassembly pull headers with pskb_may_pull and trim with
// pskb_trim, as the kernel's do. A local UDP datagram above the MTU is
// built as a frag_list skb (__ip_append_data, __ip6_append_data, with
// IPv6 hop-by-hop and routing headers out of the fragmentable part), which
// ip_do_fragment's and ip6_fragment's fast path send as they are, the
// datagram's own skb first; other packets (and IPv6 datagrams with
// destination options alone, whose pieces ip6_find_1stfragopt does not
// fit) take the slow path, which copies the payload into new skbs. GRO appends a merged segment's
// payload to the held skb as skb_gro_receive does (a page-fragment head
// stolen, else the segment on the held skb's frag_list), frees the rest
// without a tracepoint (napi_skb_finish), and inet_gro_complete gives the
// aggregate its tot_len. tcp_gro_receive merges a TCP segment only with the
// held skb's acknowledgment number, flag word (flags but FIN and PSH, data
// offset, window) and options, without CWR and at the next sequence number;
// a segment that does not merge completes the held skb and is held itself
// as a new aggregate unless URG, PSH, RST, SYN or FIN flush it (the same
// holds for UDP). UDP is merged for a UDP_GRO socket, for no socket
// on a device with rx-udp-gro-forwarding (NETIF_F_GRO_UDP_FWD), and, on a
// device with rx-gro-list (NETIF_F_GRO_FRAGLIST), by fraglist GRO unless a
// UDP_GRO socket receives it: skb_gro_receive_list chains the segment skbs
// whole on the first one's frag_list, each keeping its own XDP metadata. The
// socket is looked up only once udp_encap_needed_key is on (a UDP_GRO or
// tunnel socket exists). From v6.10 (Profile.TCPFraglistGRO) rx-gro-list
// also chains TCP flows that no local socket has in the established hash
// (tcp4_check_fraglist_gro). A fraglist skb is cut back by skb_segment_list
// where it must be segmented (a NIC, which lacks NETIF_F_GSO_FRAGLIST, a
// veth whose peer runs native XDP, a socket through udp_rcv_segment): the
// GSO skb is the first segment and each chained skb the next, its own head
// state released and the head's copied in (mark, priority, cb, hash and the
// head's extensions, so its local storage), no payload copied.
// A packet for a vxlan or geneve device's socket goes through the tunnel's
// GRO (udp_gro_receive -> vxlan_gro_receive / geneve_gro_receive ->
// eth_gro_receive -> the inner inet and tcp gro_receive): a flow is also
// one outer header, outer UDP ports, outer checksum presence, tunnel
// header and inner Ethernet header, and inet_gro_flush checks both IP
// headers (from v6.18 each with its own fixed-identification bit,
// Profile.GROOuterIPID). A router whose vxlan socket is bound to any
// address merges transit VXLAN traffic too. The aggregate is an
// SKB_GSO_UDP_TUNNEL skb with skb->encapsulation and inner headers;
// decapsulation clears both (iptunnel_pull_offloads, which unclones a GSO
// skb a tap shares), and the tunnel device's own GRO cell may merge the
// decapsulated segments again. A GSO skb entering a tunnel device gets the
// tunnel's GSO type and inner headers (iptunnel_handle_offloads), and
// software GSO cuts an encapsulated TCP skb into tunnel packets with
// their own inner and outer headers (skb_udp_tunnel_segment; IPv4 options
// are copied, as inet_gso_segment does; L4 checksums, GRE's and remote
// checksum offload's included, are not written). Inner UDP
// is merged as plain UDP is (the inner socket lookup, then
// udp_gro_receive_segment), fraglist GRO included: the tunnel packets are
// chained whole, and skb_segment_list gives them back after
// decapsulation. A GSO skb back in GRO (an aggregate after decapsulation)
// merges with a held one of the same gso_size; one with a frag_list is
// flushed (dev_gro_receive), and a cloned single segment reaches the
// tunnel device's GRO cell not at all (gro_cells_receive: netif_rx).
// A device takes an skb with a frag_list only with NETIF_F_FRAGLIST
// (DeviceConfig.TxFragList): veth, loopback, dummy, bridge and the IP and
// GRE tunnels have it, vxlan and geneve from v5.12, a physical NIC not
// (drivers do not offer it). Without it validate_xmit_skb segments a GSO
// skb with a frag_list (GRO puts the payload of kmalloc'ed heads there,
// such as the copy-break driver's small frames, and the 18th stolen head
// on) and linearizes any other skb with one. skb_segment walks the
// frag_list as the kernel does: a piece a list skb holds in its linear
// data is that skb's clone with a head of its own (its shared info, so
// its XDP metadata from v6.19, comes along), page fragments and
// page-fragment heads are referenced, and with a device that takes the
// GSO type (net_gso_ok) an aggregate whose list skbs line up is split
// along its list into GSO skbs.
// A socket's send data sits where the kernel puts it: TCP payload
// (tcp_sendmsg_locked) and UDP_SEGMENT datagrams (__ip_append_data with
// paged set) go to the sending task's page_frag pages (skb.PageFrag, 32 KB
// each, shared by the sockets of one SocketConfig.Task)
// behind a linear part holding the headers; skb_segment then references
// those pages from each segment instead of copying them, and a TCP clone
// may write its headers in place (skb_clone_writable). udp_send_skb's
// UDP_SEGMENT limits apply (EMSGSIZE above the path MTU, EINVAL beyond
// UDP_MAX_SEGMENTS), and a socket without UDP_GRO receives a UDP GSO skb
// as its segments (udp_rcv_segment), each through the socket's filters.
// IPv4 and IPv6 reassembly share one implementation of
// inet_frag_queue_insert and inet_frag_reasm_* (frag_queue.go): per
// namespace and family, 64 preallocated queues (a new
// one beyond them expires the oldest; the kernel bounds only the memory)
// whose timers (ipfrag_time 30 s, ip6frag_time 60 s) run on the capture
// clock (Packet.Tstamp), before whatever packet comes next once due.
//
// Modelling decisions a reader should know:
//   - A veth with GRO on and no XDP receives through its NAPI instance only
//     what veth_skb_is_eligible_for_gro accepts (v5.12): skbs from a peer
//     without TSO (SoftwareGSO, or native XDP on the receiver), or UDP
//     socket skbs when the receiver has rx-gro-list or
//     rx-udp-gro-forwarding; the rest takes the backlog, without GRO.
//   - netif_elide_gro elides GRO for devices without NETIF_F_GRO and for
//     generic XDP only (dev->xdp_prog); native XDP programs live in the
//     driver, so a NIC or veth with native XDP still runs GRO (as the
//     veth-gro transition measured).
//   - Generic XDP makes a cloned, non-linear or headroom-short skb fit
//     (netif_skb_check_for_xdp): linearized with a bigger private head,
//     or, for a multi-buffer program (ProgramConfig.XDPFrags, v6.9),
//     replaced by a page-pool copy that stays non-linear
//     (skb_pp_cow_data), the original consumed. The copy's mac_len is 0
//     (skb_copy_header does not copy it), so tc ingress sees the packet
//     from its network header, as measured on 6.18.
//   - An XDP_TX or XDP_REDIRECT frame sent to a veth (veth_xdp_xmit)
//     reaches its peer as a new skb built from the frame
//     (xdp_build_skb_from_frame): no mark, hash, extensions or other header
//     state survive, the XDP metadata does. The peer takes frames only with
//     its NAPI: native XDP of its own, or, for a redirect, GRO on; an
//     XDP_TX frame to a peer with GRO alone is dropped (measured on 6.18).
//   - A device-bound XDP program (ProgramConfig.DevBound, v6.3) reads the
//     driver's RX hints with the XDP RX metadata kfuncs (Ctx.RxTimestamp,
//     RxHash, RxVlanTag; xdphints.go). A NIC answers from its descriptor:
//     the RSS hash, the hardware timestamp (DeviceConfig.RxHwTstamp) and
//     the tag it stripped (RxVLANOffload). A veth answers from the skb
//     veth_xdp_rcv_skb runs on, so rx_hash computes and keeps the skb's
//     flow hash. A frame that was redirected or sent with XDP_TX has lost
//     every hint: veth's kfuncs return -ENODATA for it, and cpumap and
//     devmap programs cannot be device-bound. Any other program gets
//     -EOPNOTSUPP. The veth cases are checked on 6.18.
//   - An XDP program may redirect into a cpumap (Config.Cpumaps,
//     Ctx.RedirectCPU, cpumap.go). A native frame goes to the sending
//     CPU's bulk queue (8 frames) and, when it is full or the poll ends
//     (xdp_do_flush, Stack.Flush), to the entry's ring of QSize frames
//     (the rest dropped); generic XDP's skb goes to the ring itself (v5.15;
//     before, -EBADRQC drops it). The entry's kthread runs its
//     BPF_XDP_CPUMAP program (v5.9) with the frame's metadata in view,
//     builds a fresh skb around each passing frame (the metadata survives,
//     no header state does, and it has no checksum state) on the device
//     it came from, and from v6.15 hands the skbs to a GRO instance of its
//     own (Profile.CpumapGRO). When the remote CPU runs is the
//     scheduler's: CpumapConfig.Drain names the two cases modelled (idle:
//     each bulk drained after the packet that filled it; busy until the
//     poll ends). All of this was measured on 6.18 (the veth-xdp-cpumap,
//     xdp-generic-cpumap and veth-gro-cpumap transitions,
//     TestKernelCpumapChecksum).
//   - An XDP program may redirect into a device map (Config.Devmaps,
//     Ctx.RedirectDevmap, devmap.go): to one entry, or from v5.13 to
//     every entry (BPF_F_BROADCAST), but the ingress device and its
//     upper devices (its bridge, its macvlans; compared by ifindex) with
//     BPF_F_EXCLUDE_INGRESS. A native frame leaves its skb and goes to
//     devices with ndo_xdp_xmit only (a veth or a NIC: a bridge,
//     macvlan, netkit, ifb, lo or tunnel fails a unicast redirect and is
//     skipped by a broadcast); all entries but the last get a copy
//     (xdpf_clone, metadata included); an entry's BPF_XDP_DEVMAP program
//     (v5.8) sees the frame and its egress device and may drop it; a veth
//     entry hands the frame to its peer as XDP_REDIRECT does. Generic XDP
//     sends skb clones through generic_xdp_tx to any device instead,
//     without metadata, and a broadcast stops at the first entry that is
//     down or too small (dev_map_redirect_multi), dropping the skb.
//     Measured on 6.18 (TestKernelDevmapBroadcast,
//     TestKernelDevmapBroadcastInvalid, TestKernelXDPRedirectTargets).
//   - L4 checksum state (csum.go): a driver's frames are
//     CHECKSUM_UNNECESSARY, a socket's packets CHECKSUM_PARTIAL with the
//     pseudo-header sum in their check field (completed in software by a
//     device without tx checksumming, DeviceConfig.TxChecksum), skbs built
//     from XDP frames and IP fragments CHECKSUM_NONE. GRO and the UDP and
//     TCP receive paths check a CHECKSUM_NONE packet's checksum in software
//     where the kernel does: a socket's datagram that an XDP program
//     redirects into a cpumap fails it (UDP_CSUM), as measured. A GRO
//     aggregate is CHECKSUM_PARTIAL again (tcp_gro_complete,
//     udp_gro_complete_segment; a packet socket reads it as
//     TP_STATUS_CSUMNOTREADY, Stack.TapPackets, as measured), and software
//     GSO gives each segment its own pseudo-header sum, a UDP tunnel's
//     segment with SKB_GSO_UDP_TUNNEL_CSUM its outer checksum too. A
//     vxlan or geneve device writes its outer UDP checksum with udp_csum
//     (DeviceConfig.UDPCsum; the default over IPv6), and IPv6 UDP receive
//     drops a checksum of 0 unless the tunnel has udp6zerocsumrx, as
//     measured (TestKernelVXLAN6OuterChecksum). Checksum levels
//     (csum_level, csum_valid) decide whether a tunnel's inner checksum is
//     checked: always, for a packet that arrived CHECKSUM_NONE
//     (TestKernelVXLANInnerChecksum). A received GRE_CSUM is validated
//     as the skb's checksum state says (a CHECKSUM_UNNECESSARY level, else
//     a software sum); GRE_CSUM and remote checksum offload are not
//     written.
//   - A packet socket entry (EntryPacket) sends each captured frame out
//     of a device as tcpreplay does (packet_snd, CHECKSUM_NONE).
//   - A NIC with native XDP takes a frame longer than one page holds
//     (XDP_PACKET_HEADROOM and skb_shared_info aside) only with an
//     xdp.frags program: the rest of the frame is the xdp_buff's page-pool
//     fragments, which the skb keeps; otherwise the NIC drops it.
//   - Frames above the MTU (abovemtu.go): a capture taken above GRO or
//     TSO holds aggregates of up to 64 KB that no wire carried.
//     EntryConfig.AboveMTU receives them as they are (accept, the
//     default: the kernel does not check a received frame against the
//     MTU), cuts TCP, UDP and VXLAN/Geneve ones into the wire frames their
//     sender's TSO or GSO sent (segment), hands a TCP one over as a NIC's
//     hardware GRO aggregate (gro_hw: page-pool pages, gso_size,
//     CHECKSUM_PARTIAL), or drops them at the NIC (drop).
//   - Local delivery of traffic to arbitrary addresses uses the kernel's
//     mechanisms: a local route (RouteConfig.Type RouteLocal, `ip route add
//     local 0.0.0.0/0 dev lo`) or an address prefix on lo makes the
//     destination RTN_LOCAL, and a socket bound to the wildcard address
//     receives it on its port (AnyIP); a TPROXY rule with an
//     IP_TRANSPARENT socket (SocketConfig.TProxy) takes every packet of a
//     protocol whatever its port.
//   - IPv6 is enabled unless NamespaceConfig.DisableIPv6
//     (net.ipv6.conf.all.disable_ipv6); forwarding is its own sysctl
//     (IPv6Forwarding). Not modelled: routing headers with segments left
//     (SRH; dropped NOT_SPECIFIED, as ipv6_srh_rcv does with seg6
//     disabled), hop-by-hop option semantics (options are skipped),
//     TPROXY for IPv6, netfilter's defragmentation (nf_ct_frag6).
//   - br_netfilter is a namespace option
//     (NamespaceConfig.BridgeNFCallIPTables, BridgeNFCallIP6Tables; off by
//     default, as when the module is not loaded): on, a bridged IPv4
//     (IPv6) frame is validated and gets IPCB (IP6CB) cleared and an
//     SKB_EXT_BRIDGE_NF extension, unshared per flooded copy and deleted
//     before a port transmits it; the frames the bridge delivers up keep
//     it, also when the stack sends them out of the bridge again. A
//     VLAN-tagged frame is left alone unless
//     NamespaceConfig.BridgeNFFilterVLANTagged, a PPPoE session frame
//     unless BridgeNFFilterPPPoETagged (then its inner IP header is
//     validated with the PPPoE header pulled around the hooks);
//     the IPv4 chains' verdicts (no rules are modelled) and
//     refragmentation at the port are not modelled.
//   - VLAN receive without CONFIG_VLAN_8021Q (no VLAN devices; the
//     project's 6.18 machines have it off): __netif_receive_skb_core
//     untags an 802.1Q or 802.1ad frame (skb_vlan_untag: the tag into
//     vlan_proto/vlan_tci, the mac addresses and the XDP metadata moved up
//     by VLAN_HLEN, a cloned head copied) before the taps (tp_vlan_tci)
//     and tc; GRO has no VLAN offload, so tagged frames skip it; the tag
//     stays in vlan_tci across a bridge and veth (both have VLAN transmit
//     offload; skb_scrub_packet keeps it), and where no rx_handler takes
//     the frame, check_vlan_id makes a non-zero VLAN id OTHERHOST (ip_rcv
//     drops it) and clears the tag. A device without VLAN transmit
//     offload (vxlan, geneve, the IP tunnels, dummy, loopback) gets the
//     tag back in the frame before its taps (validate_xmit_vlan); a NIC is
//     taken to insert it in hardware. On receive, a NIC strips an outer
//     802.1Q tag in hardware only with DeviceConfig.RxVLANOffload (off by
//     default, unlike most drivers): XDP then sees the frame without it,
//     the driver puts it in vlan_tci, and GRO merges tagged flows.
//   - macvlan (macvlan.go): a received broadcast frame reaches the lower
//     device and, through the port's broadcast queue (a clone, flooded by
//     the port's work once the backlog is empty, a clone per macvlan),
//     every macvlan; a bridge-mode macvlan's broadcast reaches its bridge
//     siblings at once (__dev_forward_skb) and leaves by the lower device.
//     No multicast group membership is modelled, so other multicast frames
//     stay with the lower device; nor is ip_check_defrag before the
//     fan-out. A source-mode macvlan gets a clone of every frame from a
//     listed address (with nodst, the frame itself is then freed).
//   - IPv4 broadcast: each address shorter than /31 makes its network's
//     broadcast address RTN_BROADCAST (fib_add_ifaddr), delivered locally
//     like 255.255.255.255 to every UDP socket on the port bound to the
//     wildcard or that address (clones for all but the first; none: freed,
//     no port unreachable). Sending to one needs SO_BROADCAST
//     (SocketConfig.Broadcast; TCP cannot), leaves in a broadcast frame and
//     loops a clone back (ip_mc_output, dev_loopback_xmit). IPv4
//     multicast: every device has joined the all-hosts group 224.0.0.1
//     (ip_mc_up), delivered like a broadcast and looped back when sent;
//     sockets join others on a device (SocketConfig.Join,
//     IP_ADD_MEMBERSHIP); a datagram to a group the receiving device has
//     not joined is dropped (ip_route_input_rcu: no multicast
//     forwarding), and one sent to a group the output device has not
//     joined gets no loopback copy; frames go to the group's Ethernet
//     address. Source filters (IP_ADD_SOURCE_MEMBERSHIP), IGMP membership
//     (reports, timers; igmp_rcv's fate for received messages is modelled), the
//     IFA_BROADCAST ("brd") addresses and sending to 255.255.255.255 out
//     of a device are not modelled.
//   - Neighbours are static; a veth or bridge peer's address, or a
//     macvlan's on the peer or a sibling, resolves as if ARP had
//     completed; otherwise NEIGH_FAILED.
//   - The socket reader runs after every Inject (SocketConfig.NoRead and
//     TapConfig.Hold make it stall); the kfree_skb / consume_skb tracepoint
//     programs run from the stack's own free calls, before the skb is
//     released, so they see its extensions.
//   - Drops use the kernel's reason: ip_error's IP_INADDRERRORS when
//     forwarding is off, BPF_CGROUP_EGRESS in ip_finish_output, IP_INHDR
//     for a header shorter than 20 bytes or ihl*4 (ip_rcv_core). Where the
//     kernel itself passes SKB_DROP_REASON_NOT_SPECIFIED (redirect
//     failures, ip_frag_queue's discard of an empty fragment) the model
//     does too, with the location naming the kernel function.
//   - RunTransition reproduces the real-kernel recorder's catalogue
//     (kernel/observe) on the model; its test checks every cell measured on
//     6.18.
//
// The stack does not allocate on the Go heap per packet in steady state:
// skbs come from the allocator's pools, queues and contexts are
// preallocated per stack, and observer calls take value types.
package netstack
