// Package sim is skbsim's product layer: scenario files, the replay engine
// and its reports.
//
// A [Scenario] is plain data: a kernel profile, a netstack.Config (the
// namespaces, devices, routes, sockets, taps, programs and entry points of
// one machine), the metadata maps and the carrier design that keeps their
// values. [Parse] reads one from YAML; [Builtin] returns the embedded
// default. [Replay] streams captures through it and returns a [Report].
//
// # Replay
//
// Packets are partitioned by their symmetric flow hash
// (capture.Decoded.FlowHash) into Scenario.Shards flow shards. Each shard
// owns a kmem.Accountant, an skb.Allocator, a carrier and a
// netstack.Stack, and sees its packets in capture order. The number of
// worker goroutines (Options.Workers, simrun's -j) only decides which
// goroutine runs which shard, so reports are identical for every -j.
// With one worker the calling goroutine reads, decodes and replays; with
// more, it reads and decodes and hands packets to the workers in
// preallocated batches that are recycled, so steady-state replay allocates
// nothing on the Go heap. Memory does not grow with the capture.
//
// Each shard ends a NAPI poll every 64 of its packets (NAPI_POLL_WEIGHT):
// GRO lists are flushed and an RCU grace period ends, so deferred frees
// complete; counting per shard keeps this independent of -j too.
//
// Packet ids are capture indexes (counted on across several captures).
// Unicast Ethernet frames are addressed to the entry device before they
// enter (the capture is taken to be of that device's wire; keep_dst_mac
// turns this off).
// Frames of captures without Ethernet headers (Linux cooked, raw IP,
// loopback, PPP) get an Ethernet header addressed to the entry device.
// With several entry points, a packet from pcapng interface i enters
// entry i (the last one for higher interfaces).
//
// After the last packet every shard flushes its stack, closes the stack
// and the carrier, ends the RCU grace period and checks for leaks: every
// skb, buffer and extension freed (skb.Allocator.CheckLeaks) and no live
// object left in the accountant.
//
// A capture damaged part way still yields a report of every packet before
// the damage, with Complete false and Error the reader's one-line
// *capture.Error.
//
// # Reports
//
// [Report] holds, per program (a hook at a place) and map, the reads that
// found this packet's value, found nothing, were refused (storage shared
// with a clone) or saw a value written for another packet; drops by kernel
// reason; what happened to packets (delivered, tapped, transmitted,
// dropped); the modelled kernel allocations (count, bytes, per packet, per
// size class and call site, peak) and primitive operation counts; what GRO
// and software GSO made of the packets (segments merged, aggregates and
// fraglist aggregates, GSO skbs cut and their segments); and the
// end-of-run leak check. It writes itself as text, JSON or CSV. The JSON
// keys packets_read, complete, live_objects_at_end, allocations and error
// are a contract other tools rely on.
//
// # Scenario files
//
// A scenario is one YAML document. Unknown keys, missing required keys and
// bad values are errors naming file:line:column ([*ParseError], matching
// [ErrScenario]). Namespace "host" (init_net) always exists and is the
// default wherever a namespace is omitted; every namespace has "lo".
//
//	name: edge-lb                      # report title
//	description: free text
//	kernel: v6.18                      # skb.ProfileByName (default v6.18)
//	design: rfc                        # carrier design (default rfc); simrun -design overrides
//	carrier: {cache_size: 16, capacity: 4096, buffer_size: 64, prealloc_pool: 64, hash_prealloc: false, xdp_meta_reach: btf, seed: 1}
//	                                   # xdp_meta_reach: which hooks read xdp-meta's area besides XDP and tc:
//	                                   # ctx (none), btf (tp_btf and lsm, the default), kern-ctx (also
//	                                   # cgroup_skb, socket filters, sockops via bpf_cast_to_kern_ctx)
//	shards: 16                         # flow shards (default 16), independent of -j
//	keep_dst_mac: false                # replay frames to other hosts' MACs as captured
//	options: {rx_timestamps: false, fwd_update_priority: true, trace_all: false, tcp_connections: 1024, replies: false,
//	          multipath_boot_seed: 0}  # the random seed a kernel draws at boot for multipath hashes
//	                                   # (namespaces with fib_multipath_hash_seed 0; all before v6.11)
//	                                   # tcp_connections: size of the TCP connection table (requests and
//	                                   # established children of listeners; full sets evict the oldest)
//	                                   # replies: the stack sends ICMP errors and redirects, echo/timestamp
//	                                   # replies, TCP resets, ARP replies, neighbour advertisements
//	namespaces:                        # names, or {name, forwarding, ipv6_forwarding, disable_ipv6,
//	                                   #  bridge_nf_call_iptables, bridge_nf_call_ip6tables,
//	                                   #  bridge_nf_filter_vlan_tagged, bridge_nf_filter_pppoe_tagged,
//	                                   #  fwmark_reflect, icmp_ratelimit (ms, 1000; 0: no per-peer limit),
//	                                   #  ipv6_fwmark_reflect, icmpv6_ratelimit (ms, 100),
//	                                   #  rp_filter (0, 1 strict, 2 loose), src_valid_mark, accept_local, route_localnet,
//	                                   #  send_redirects (true; false: no ICMP redirects), shared_media (true),
//	                                   #  icmp_echo_ignore_all, icmp_echo_ignore_broadcasts (true),
//	                                   #  icmp_errors_use_inbound_ifaddr, icmpv6_echo_ignore_all,
//	                                   #  icmpv6_echo_ignore_multicast, drop_unicast_in_l2_multicast,
//	                                   #  ipv6_drop_unicast_in_l2_multicast,
//	                                   #  fib_multipath_hash_policy and ipv6_fib_multipath_hash_policy (l3 (0),
//	                                   #  l4 (1), l3_inner (2, v5.3), custom (3, v5.15)),
//	                                   #  fib_multipath_hash_fields and ipv6_... (0x1-0xfff or a list of src_ip,
//	                                   #  dst_ip, ip_proto, flowlabel, src_port, dst_port, inner_src_ip,
//	                                   #  inner_dst_ip, inner_ip_proto, inner_flowlabel, inner_src_port,
//	                                   #  inner_dst_port; default src_ip, dst_ip, ip_proto),
//	                                   #  fib_multipath_hash_seed (v6.11; 0: the boot seed), fib_multipath_use_neigh,
//	                                   #  ignore_routes_with_linkdown and ipv6_...: lookups pass over next hops
//	                                   #  through devices without carrier, arp_ignore (0-8: 1 the target on the
//	                                   #  input device, 2 also in the sender's subnet, 3 not host scope, 8 never),
//	                                   #  arp_filter (reply where the route back to the sender leaves),
//	                                   #  ip_forward_use_pmtu (bpf_fib_lookup checks an unlocked route mtu too),
//	                                   #  proxy_arp (all devices answer ARP for what they route elsewhere),
//	                                   #  proxy_ndp (all devices answer solicitations for their proxy entries),
//	                                   #  icmpv6_echo_ignore_anycast, anycast_src_echo_reply (echo requests to the
//	                                   #  subnet-router anycast addresses an IPv6 forwarding namespace owns),
//	                                   #  keep_addr_on_down (> 0: a device that goes down in an event keeps its
//	                                   #  permanent IPv6 addresses but link-local ones, not local while down),
//	                                   #  promote_secondaries (deleting a primary IPv4 address in an event keeps
//	                                   #  its subnet's secondaries, the next one the primary)}
//	  - {name: host, forwarding: true, ipv6_forwarding: false, disable_ipv6: false}
//	  - {name: k8s, bridge_nf_call_iptables: true}   # br_netfilter loaded (default false)
//	  - pod
//	devices:
//	  - name: eth0
//	    kind: nic                      # nic dummy veth bridge vxlan geneve gre gretap ipip sit ip6tnl ip6gre ip6gretap
//	    netns: host
//	    mac: 02:00:00:00:00:01         # default: deterministic
//	    addr: [192.0.2.1/24]           # one prefix or a list
//	    mtu: 1500                      # default 1500; a bridge's: its ports' smallest, following them (br_mtu_auto_adjust)
//	    xdp: native                    # native or generic attach mode
//	    gro: on                        # NETIF_F_GRO (default: on for nic, bridge, tunnels; off for veth)
//	    software_gso: false            # no GSO offload: skb_segment before xmit
//	    tx_fraglist: off               # NETIF_F_FRAGLIST (default: off for nic, on for the others; vxlan, geneve from v5.12)
//	    tunnel_tso: on                 # tunnel GSO types (tx-udp_tnl-segmentation); off: software GSO of encapsulated skbs
//	    tx_checksum: on                # tx-checksumming; off: validate_xmit_skb completes a socket's partial
//	                                   # TCP/UDP checksums in software (and the device has no GSO offloads)
//	    rx_checksum: on                # rx-checksumming; off: the driver's frames are CHECKSUM_NONE, checked
//	                                   # in software by GRO and TCP/UDP receive (a bad one is dropped)
//	    rx_vlan_offload: off           # rxvlan, NICs only; on: the NIC strips an outer 802.1Q tag before XDP
//	                                   # and the driver puts it in vlan_tci; off: skb_vlan_untag in software
//	    rx_hwtstamp: off               # NICs only; on: hardware receive timestamps (rx_filter ALL): the skb's
//	                                   # skb_hwtstamps and bpf_xdp_metadata_rx_timestamp hold the capture time
//	    xdp_metadata_ops: [rx_timestamp, rx_hash]   # the XDP RX metadata kfuncs the NIC's driver implements
//	                                   # (default all: rx_timestamp, rx_hash, rx_vlan_tag; [] none); NICs only
//	    gro_list: false                # NETIF_F_GRO_FRAGLIST (rx-gro-list, v5.6): fraglist GRO of UDP
//	    udp_gro_forwarding: false      # NETIF_F_GRO_UDP_FWD (rx-udp-gro-forwarding, v5.12)
//	    qdisc: noqueue                 # noqueue (default), pfifo or blackhole
//	    down: false
//	    proxy_arp: false               # net.ipv4.conf.DEV.proxy_arp: with forwarding, answer ARP requests for
//	                                   # addresses routed through another device (a veth: the end named here)
//	    proxy_ndp: false               # net.ipv6.conf.DEV.proxy_ndp: answer solicitations for proxy entries
//	    keep_addr_on_down: 0           # the device's (0: the namespace's; < 0: delete even if it says keep)
//	    promote_secondaries: false     # the device's (either promotes)
//	    proxy_delay: 80                # neigh proxy_delay (jiffies); with a delay a proxied multicast solicitation's
//	                                   # original is freed and a queued copy answered (at once in the model)
//	    carrier: true                  # dummy and nic only: false is `ip link set DEV carrier off` (a NIC's link
//	                                   # down). A device up without carrier drops what it sends at its qdisc, forwards
//	                                   # nothing as a bridge port, and its routes are linkdown. The other kinds'
//	                                   # carrier follows: a veth or netkit pair while both ends are up (peer_down:
//	                                   # true leaves the peer down), a bridge while a port forwards, a macvlan its link's
//	  - {name: veth0, kind: veth, peer: eth0, peer_netns: pod, addr: 10.0.0.1/24, peer_addr: 10.0.0.2/24, peer_mac: 02:00:00:00:00:03, peer_xdp: native, peer_gro: on, peer_gro_list: false, peer_udp_gro_forwarding: false, peer_tx_fraglist: on, peer_mtu: 1500}
//	                                   # peer_mtu: the peer's MTU (default: mtu, as ip link add gives both ends)
//	  - {name: br0, kind: bridge, group_fwd_mask: 0x4000}
//	  - {name: port1, kind: veth, peer: p1, master: br0, hairpin: false, isolated: false, flood: on, mcast_flood: on, bcast_flood: on, learning: on, group_fwd_mask: 0}
//	                                   # bridge port flags (bridge link set): hairpin back out of the port, isolated
//	                                   # ports keep apart, flood: unknown unicast, mcast_flood and bcast_flood (not
//	                                   # for frames the bridge device sends), learning: the FDB. group_fwd_mask (the
//	                                   # bridge's or the port's): bit X bridges frames to 01:80:c2:00:00:0X that
//	                                   # otherwise go up the port (a bridge refuses bits 0-2, a port bit 1)
//	  - {name: br1, kind: bridge, vlan_filtering: true, vlan_default_pvid: 1, vlans: [{vid: 20}]}
//	                                   # VLAN filtering: every port and the bridge itself get vlan_default_pvid
//	                                   # (default 1; 0: none) as pvid, untagged; vlans add to a group in order
//	                                   # (bridge vlan add dev DEV vid N [pvid] [untagged]; on the bridge: self)
//	  - {name: port2, kind: veth, peer: p2, master: br1, vlans: [{vid: 10, pvid: true, untagged: true}, {vid: 1, del: true}]}
//	  - {name: vx0, kind: vxlan, master: br0, local: 192.0.2.1, remote: 192.0.2.2, vni: 42, port: 4789, link_netns: host, udp_csum: off, udp6zerocsumrx: false}
//	                                   # udp_csum: the outer UDP checksum ([no]udpcsum, [no]udp6zerocsumtx);
//	                                   # default off over IPv4, on over IPv6. udp6zerocsumrx: accept 0 over IPv6
//	  - {name: vxmd, kind: vxlan, external: true, port: 8472}   # collect_md (vxlan, geneve; either underlay): no
//	                                   # remote or vni; sends to each skb's tunnel key (set_tunnel_key), drops an
//	                                   # skb without one (TUNNEL_TXINFO); receives every VNI and attaches the key
//	                                   # (a metadata dst) that get_tunnel_key reads until a scrub or the IP layer
//	  - {name: t6, kind: ip6tnl, local: 2001:db8::1, remote: 2001:db8::2}   # IPv6 underlay (vxlan, geneve: either family)
//	  - {name: mv0, kind: macvlan, netns: pod, link: eth0, link_netns: host, mode: bridge, addr: 10.0.1.9/24}
//	                                   # macvlan on link (an Ethernet device of link_netns, no bridge port); mode
//	                                   # bridge (default), private, vepa, passthru or source; mtu defaults to link's.
//	                                   # Frames keep their captured addresses only with keep_dst_mac: true
//	  - {name: ifb0, kind: ifb}        # takes what act_mirred or bpf_redirect sends it and puts it back
//	                                   # where it came from (tc_skip_classify); anything else is consumed
//	  - {name: mon0, kind: macvlan, link: eth0, mode: source, source_macs: [02:00:00:00:00:09], nodst: false}
//	  - {name: nk0, kind: netkit, peer: nk1, peer_netns: pod, mode: l3, policy: forward, peer_policy: forward,
//	     scrub: default, peer_scrub: default, headroom: 0, tailroom: 0, addr: 10.4.0.1/32, peer_addr: 10.4.0.2/32}
//	                                   # netkit pair (v6.7): mode l3 (default; no ARP, zero addresses) or l2;
//	                                   # policy: each end's verdict without programs, forward or blackhole;
//	                                   # scrub (v6.13): default clears mark and priority into another netns, none
//	                                   # keeps them; headroom and tailroom (v6.14) on both ends; peer_xdp: generic
//	                                   # source mode: a clone of every frame from a listed address; nodst: the
//	                                   # frame itself is freed after the clone
//	routes:
//	  - {netns: host, dst: 10.5.0.0/24, dev: veth0, via: 10.0.0.2}   # dst "default" is 0.0.0.0/0
//	  - {netns: pod, dst: 192.168.0.0/16, dev: lo, type: local}      # local table (RTN_LOCAL): AnyIP
//	  - {dst: 10.9.0.0/16, dev: vx0, via: 10.1.0.2, onlink: true, mtu: 1450}  # mtu metric: forwarding, the host's own
//	                                   # packets (not bpf_fib_lookup); an IPv4 gateway must be on a link of dev (its
//	                                   # prefix, a route through dev without via; else ENETUNREACH) unless onlink
//	  - {dst: 10.7.0.0/16, dev: veth0, via: 10.0.0.2, mtu: 1400, mtu_lock: true}   # mtu lock: bpf_fib_lookup and
//	                                   # IPv6's ip6_forward check it too; a locked mtu 0 through a gateway is 576
//	  - {dst: 10.8.0.0/16, dev: veth0, via: "fe80::2"}   # an IPv6 gateway for IPv4 (RFC 5549); a link-local
//	                                   # gateway is on dev's link, another must be (ip6_validate_gw: EHOSTUNREACH)
//	  - {dst: 10.244.7.0/26, type: blackhole}   # also unreachable, prohibit, throw (no dev or via): a packet
//	                                   # to forward is freed in ip_error (NOT_SPECIFIED; IPv6: IP_INNOROUTES but for
//	                                   # a blackhole); bpf_fib_lookup returns
//	                                   # BLACKHOLE, UNREACHABLE or PROHIBIT; a local sender is refused
//	  - {dst: default, dev: veth0, via: 10.0.0.3, table: 100}   # table: main (default), a number; local routes: local
//	  - {dst: 10.0.0.0/8, type: throw, table: 100}   # the rules go on to the next rule (main without rules: no route)
//	  - {dst: 198.51.100.0/24, nexthops: [{dev: veth0, via: 10.0.0.2}, {dev: eth0, via: 192.0.2.254, weight: 3}]}
//	                                   # multipath (ECMP): each packet's hash picks a next hop by weight
//	                                   # (hash-threshold); dev and via go in nexthops only; onlink: a next hop's
//	                                   # own ({dev, via, onlink: true}); a route's reaches IPv6 next hops, not IPv4's
//	  - {dst: 203.0.113.0/24, nhid: 10}   # a nexthop object (ip route ... nhid 10)
//	  - {dst: default, dev: eth0, via: 192.0.2.254, metric: 200}   # metric (priority): of one prefix the lowest
//	                                   # live one wins; IPv4 default 0 (a connected prefix's too), IPv6 1024
//	                                   # (an address's prefix 256); one prefix, one metric, twice: EEXIST
//	  - {dst: 10.6.0.0/16, dev: veth0, via: 10.0.0.2, src: 10.0.0.1}   # src (prefsrc): the host's own packets'
//	                                   # source (ICMP errors, tunnel outer headers, bpf_fib_lookup's SRC); a local
//	                                   # address (EINVAL); ip addr del of it deletes the IPv4 route, clears IPv6's
//	nexthop_objects:                   # ip nexthop (v5.3): a next hop, a blackhole, or a hash-threshold group;
//	                                   # a group passes over members whose gateway's neighbour failed (no sysctl)
//	                                   # and ignores the source; a member whose device is down or has no carrier is
//	                                   # deleted
//	  - {netns: host, id: 1, dev: veth0, via: 10.0.0.2}
//	  - {id: 2, dev: eth0, via: 192.0.2.254}
//	  - {id: 3, dev: eth0, via: 198.18.0.1, onlink: true}   # a gateway is checked as the object is made
//	  - {id: 5, blackhole: true}
//	  - {id: 10, group: [{id: 1}, {id: 2, weight: 3}]}   # weights 1-255 (1-65535 from v6.12)
//	rules:                             # policy routing (ip rule); the first of a family adds main (32766) and default
//	                                   # (32767) after the model's local decisions, and unmerges IPv4's local table
//	  - {netns: host, priority: 100, fwmark: 0x1, table: 100}   # fwmark MARK or MARK/MASK (skb->mark, SO_MARK)
//	  - {from: 10.0.0.0/8, to: 203.0.113.0/24, iif: eth0, not: true, table: 100}   # oif too; iif lo: the host's packets
//	  - {table: main, suppress_prefixlength: 0}   # no priority: one below the first rule after local
//	  - {family: inet6, type: unreachable}   # also blackhole, prohibit; family when neither from nor to says it
//	  - {priority: 50, fwmark: 0x2, type: goto, goto: 200}   # on to the first rule of priority 200; type nop: on
//	  - {ipproto: udp, sport: 1000-2000, dport: 53, table: 100}   # the flow dissector's: no ports for fragments
//	  - {tun_id: 42, table: 100}         # the key a collect_md device received (a vxlan VNI)
//	  - {tos: 0x10, table: 100}          # IPv4: 0x04-0x1c, those TOS bits; IPv6: the whole DSCP
//	  - {uidrange: 1000-1999, table: 100}   # the sending socket's uid; packets without a socket: 0
//	neighbours:
//	  - {netns: host, dev: veth0, addr: 10.0.0.2, mac: 02:00:00:00:00:02}
//	  - {dev: veth0, addr: 10.0.0.9, state: failed}   # NUD state: permanent (default), noarp, reachable, stale, delay,
//	                                   # probe use mac; failed, incomplete have none: bpf_fib_lookup NO_NEIGH,
//	                                   # a packet sent there resolves it anew (a peer's address answers)
//	  - {dev: veth0, addr: "fd00:9::5", proxy: true, router: false}   # ip neigh add proxy: answer ARP (forwarding,
//	                                   # routed through another device) or, under proxy_ndp, neighbour solicitations
//	fdb:                               # static bridge forwarding entries (BR_FDB_STATIC)
//	  - {netns: host, dev: vx0, mac: 02:00:00:00:00:09, sticky: false, vlan: 0}   # dev is a bridge port; vlan: its VLAN (filtering bridges)
//	sockets:
//	  - {name: app, netns: pod, proto: udp, addr: 10.0.0.2, port: 53, cgroup: /app, mark: 0, uid: 0, priority: 0, rcvbuf: 212992, read: true, task: app}
//	                                   # task: the sending process; its sockets share its task_frag (32 KB send pages)
//	  - {name: catch, netns: pod, proto: tcp, port: 80, tproxy: true, v6only: false}   # TPROXY + IP_TRANSPARENT: every packet of the protocol
//	  - {name: mdns, netns: pod, proto: udp, port: 5353, join: [{group: 224.0.0.251, dev: eth0}]}
//	                                   # IP_ADD_MEMBERSHIP: the device delivers the group (224.0.0.1 always); an
//	                                   # item that is just a group joins on the device of the route to it;
//	                                   # multicast_loop: off (IP_MULTICAST_LOOP) loops no copy of its sends back
//	  - {name: dhcp, netns: pod, proto: udp, port: 68, broadcast: true}   # SO_BROADCAST: without it a datagram to a
//	                                   # broadcast address (255.255.255.255, an address's network broadcast) is EACCES
//	  - {name: quic, netns: pod, proto: udp, port: 443, connected: true, udp_gro: true, udp_segment: 1200}
//	                                   # udp only: connect()ed (sent skbs carry the socket's hash), UDP_GRO (GRO merges
//	                                   # its flows, GSO skbs are queued whole), UDP_SEGMENT (a sent datagram above it is
//	                                   # one GSO skb; without UDP_GRO a receiver gets the segments: udp_rcv_segment)
//	  - {name: web, netns: pod, proto: tcp, port: 80}   # a TCP socket without connect listens: SYNs make requests,
//	                                   # the ACK completing one runs sockops PASSIVE_ESTABLISHED_CB with that ACK
//	  - {name: cli, netns: pod, proto: tcp, port: 40000, connect: 192.0.2.7:443}   # connect()ed before the capture:
//	                                   # SYN_SENT, only segments from 192.0.2.7:443 reach it; the SYN-ACK runs
//	                                   # lsm inet_conn_established, then sockops ACTIVE_ESTABLISHED_CB
//	taps:                              # AF_PACKET sockets
//	  - {name: tcpdump, netns: host, dev: eth0, dir: both, hold: false}   # dir rx, tx or both; no dev: every device;
//	                                   # hold: the reader stalls, its clones keep sharing the buffers until the end
//	maps:
//	  - {name: tag, value_size: 8, flags: [clone, keep_scrub, keep_netns]}
//	cpumaps:                           # BPF_MAP_TYPE_CPUMAP maps for redirect_cpu
//	  - name: cpus
//	    drain: bulk                    # when the remote CPU drains its queue: bulk (idle: each bulk of 8
//	                                   # frames, the default) or poll (busy until the sender's NAPI poll ends)
//	    entries:
//	      - {cpu: 1, qsize: 192, program: on_cpu1}   # qsize 1..16384; program: optional (v5.9)
//	devmaps:                           # device maps (BPF_MAP_TYPE_DEVMAP_HASH) for redirect_devmap
//	  - name: ports
//	    entries:
//	      - {key: 1, dev: veth0, netns: host, program: on_tx}   # program: optional (v5.8)
//	programs:
//	  - name: tag_rx
//	    hook: tc_ingress               # xdp tc_ingress tc_egress cgroup_ingress cgroup_egress
//	                                   # socket_filter sockops tracepoint lsm netkit_primary netkit_peer
//	    netns: host
//	    dev: eth0                      # xdp and tc hooks attach to a device; netkit_primary (run when the
//	                                   # primary sends) and netkit_peer (when the peer sends) to the primary,
//	                                   # and find redirect targets in the receiving end's namespace
//	    actions:                       # netstack's action library, in order
//	      - write: {map: tag, value: 0xcafe}   # the packet id, then value
//	      - read: tag                  # counted in the report: found/missing/refused/foreign
//	      - delete: tag
//	      - set_mark: 7                # also set_priority, set_tc_index, set_hash, adjust_meta
//	      - set_cb: {index: 0, value: 1}
//	      - set_tstamp: {value: 1000, mono: true}
//	      - clone_redirect: {target: veth0, ingress: false}
//	      - redirect: {target: veth0, ingress: false}
//	      - redirect_peer: veth0
//	      - redirect_neigh: eth0       # bpf_redirect_neigh (tc hooks): out of eth0 to the route's next hop
//	                                   # (neigh_output); skb_clear_tstamp, no scrub
//	      - mirred: {target: veth0, ingress: false, mirror: true}   # act_mirred (tc hooks): mirror
//	                                   # sends a clone and goes on; redirect (mirror: false) ends the actions;
//	                                   # never scrubs, unlike the bpf redirects
//	      - vlan_push: {tci: 100, tpid: 0x88a8}   # bpf_skb_vlan_push (tc hooks; tpid 0x8100 by default):
//	                                   # a tag already in vlan_tci goes into the frame
//	      - vlan_pop                   # bpf_skb_vlan_pop (tc hooks)
//	      - change_head: 14            # bpf_skb_change_head (tc hooks): zeroed bytes in front, the mac header there
//	      - adjust_room: {delta: 20, mode: mac, flags: 0x2}   # bpf_skb_adjust_room (tc hooks): mode net (default)
//	                                   # or mac; flags as BPF_F_ADJ_ROOM_* (0x2: ENCAP_L3_IPV4, an IPIP encap)
//	      - change_proto: 0x86dd       # bpf_skb_change_proto (tc hooks): room for an IPv6 header (0x0800: back)
//	      - change_type: 0             # bpf_skb_change_type (tc hooks): pkt_type 0 host, 1 broadcast, 2 multicast,
//	                                   # 3 otherhost (a packet not of those types, or a larger value: -EINVAL)
//	      - change_tail: {delta: -4}   # bpf_skb_change_tail (tc hooks): len (the new length) or delta (bytes
//	                                   # added as zeroes, negative: trimmed); linearizes and unclones
//	      - count
//	      - pass
//	      - drop
//	  - {name: mb, hook: xdp, dev: eth0, xdp_frags: true, actions: [count, {redirect_cpu: {cpumap: cpus, cpu: 1, fallback: pass}}]}
//	                                   # xdp_frags (BPF_F_XDP_HAS_FRAGS): generic XDP copies a non-linear skb into
//	                                   # page-pool memory (v6.9) instead of linearizing it; redirect_cpu (xdp only):
//	                                   # bpf_redirect_map into a cpumap, fallback (aborted, drop, pass, tx) for an
//	                                   # empty entry
//	  - {name: on_cpu1, hook: xdp, cpumap: true, actions: [{read: tag}]}   # BPF_XDP_CPUMAP: runs on the remote
//	                                   # CPU for the cpumap entries naming it, before the skb is built
//	  - {name: on_tx, hook: xdp, devmap: true, actions: [{read: tag}]}   # BPF_XDP_DEVMAP: runs on each frame
//	                                   # the devmap entries naming it send
//	  - {name: fanout, hook: xdp, dev: veth0, actions: [{redirect_devmap: {devmap: ports, key: 1, broadcast: true, exclude_ingress: true, fallback: drop}}]}
//	                                   # bpf_redirect_map into a device map; broadcast, exclude_ingress: v5.13
//	  - {name: at_cgroup, hook: cgroup_ingress, netns: pod, cgroup: /app, actions: [{read: tag}]}   # "" is the root cgroup
//	  - {name: at_socket, hook: socket_filter, netns: pod, socket: app, actions: [{read: tag}]}
//	  - {name: on_tap, hook: socket_filter, tap: tcpdump, actions: [{read: tag}]}   # a tap's filter: clears cb[] for good
//	  - {name: at_free, hook: tracepoint, event: kfree_skb, actions: [count]}   # or consume_skb
//	  - {name: at_estab, hook: sockops, cgroup: /app, event: passive_established, actions: [{read: tag}]}
//	                                   # the sockets' cgroup; event passive_established or active_established
//	                                   # (none: both callbacks); kctx->skb is the handshake's ACK / SYN-ACK
//	  - {name: at_lsm, hook: lsm, event: inet_conn_established, actions: [{read: tag}]}   # or inet_conn_request
//	                                   # (the SYN); system-wide. sockops and lsm programs run write, read,
//	                                   # delete, count and pass only
//	  - {name: decap, hook: xdp, dev: veth0, actions: [{adjust_meta: 8}, {adjust_head: {delta: 20, keep_eth: true}}]}
//	                                   # adjust_head (xdp only): bpf_xdp_adjust_head, delta bytes off the front
//	                                   # (negative: room for an encap), the metadata moving along; keep_eth
//	                                   # writes the Ethernet header at the new front (an XDP decap); also
//	                                   # adjust_tail: -4 (bpf_xdp_adjust_tail: bytes added at the end, negative: trimmed)
//	  - {name: hints, hook: xdp, dev: eth0, dev_bound: true, actions: [{rx_meta: rx_hash}, {rx_meta: rx_timestamp}, {rx_meta: rx_vlan_tag}]}
//	                                   # dev_bound (BPF_F_XDP_DEV_BOUND_ONLY, v6.3; native mode only): the XDP RX
//	                                   # metadata kfuncs reach the device's driver (nic or veth); rx_meta calls one
//	                                   # (dev_bound only; rx_vlan_tag: v6.8), the report counts ok, ENODATA (no
//	                                   # hint for this frame) and EOPNOTSUPP (not in xdp_metadata_ops)
//	  - {name: router, hook: tc_ingress, dev: eth0, actions: [{fib_forward: {no_neigh: redirect_neigh}}, {redirect_neigh: {target: eth0, via: 192.0.2.1}}]}
//	                                   # fib_forward (xdp and tc): bpf_fib_lookup on the packet's addresses from
//	                                   # the program's device (direct, output, skip_neigh, mark: its flags; mark
//	                                   # passes skb->mark to the rules at tc; skip_neigh needs v6.3, mark v6.10:
//	                                   # an older profile refuses them); on SUCCESS
//	                                   # TTL - 1, the next hop's MACs and bpf_redirect to the route's device; on
//	                                   # NO_NEIGH, no_neigh: redirect_neigh (tc) redirects through the neighbour
//	                                   # subsystem to the next hop, pass (default) goes on; the report counts the
//	                                   # results. redirect_neigh's via is the next hop (struct bpf_redir_neigh)
//	  - {name: tunkey, hook: tc_egress, dev: vxmd, actions: [{set_tunnel_key: {id: 42, remote: 192.0.2.2}}, get_tunnel_key]}
//	                                   # bpf_skb_set_tunnel_key / bpf_skb_get_tunnel_key (tc): the report counts
//	                                   # get_tunnel_key's results (OK, or EINVAL: no tunnel info on the skb)
//	entry:                             # one entry point or a list
//	  {kind: rx, netns: host, dev: eth0, above_mtu: segment, segment_size: 1448}   # or {kind: tx, socket: app}
//	                                   # or {kind: packet, netns: a, dev: veth0}: a packet socket sends each frame
//	                                   # out of dev (as tcpreplay does; CHECKSUM_NONE), addressed to a veth's peer
//	                                   # above_mtu: what a captured frame above dev's MTU becomes: accept
//	                                   # (default: received as it is), segment (cut into its sender's wire
//	                                   # frames, TCP, UDP and VXLAN/Geneve aggregates), gro_hw (a TCP one
//	                                   # as the NIC's hardware GRO aggregate; no XDP on dev) or drop.
//	                                   # segment_size: gso_size of the cut (default: MTU less the headers)
//	events:                            # configuration changes during the replay, in packet order: each applies
//	                                   # before the first packet (capture index) at or past at, in every shard,
//	                                   # between NAPI polls (netstack.Stack.Apply); one the stack refuses is an
//	                                   # error at its line before the replay (EEXIST, ESRCH, ENETDOWN, ...)
//	  - {at: 4000, dev: eth0, mtu: 1400}   # ip link set DEV mtu N: below 1280 the device loses its IPv6; a bridge
//	                                   # port's sets its bridge's to the ports' smallest, unless the bridge's was set
//	  - {at: 5000, dev: veth0, addr_add: 10.9.0.1/24}   # ip addr add; addr_del: ip addr del (a primary takes its
//	                                   # secondaries, the last IPv4 address the device's IPv4 routes and ARP entries,
//	                                   # its multipath next hops dead until an IPv4 address or link up revives them)
//	  - {at: 6000, route_add: {dst: 10.77.0.0/16, dev: eth0, via: 192.0.2.254}}   # a route as in routes (its netns)
//	  - {at: 7000, route_del: {dst: default, table: 100}}   # of the table's routes to dst whose type, dev, via,
//	                                   # nhid and metric match those given, the lowest metric; an address's
//	                                   # prefix route too (back when the device comes up again)
//	  - {at: 8000, netns: host, dev: veth0, link: down}   # up, down (ip link set; nic dummy veth netkit bridge
//	                                   # macvlan), carrier_on, carrier_off (nic, dummy). Down: its routes, nexthop
//	                                   # objects, multipath paths, IPv6 addresses (keep_addr_on_down) and neighbour
//	                                   # entries go, a veth's peer loses carrier, a bridge port forgets what it learnt;
//	                                   # up brings back the addresses' routes only. Carrier loss: linkdown routes,
//	                                   # nexthop objects and non-permanent neighbours go. Frames arriving on an entry
//	                                   # device that is down or without carrier are counted as not received
//
// The examples/ directory holds complete scenarios with tests.
package sim
