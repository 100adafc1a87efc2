package netstack

import (
	"net/netip"
	"slices"

	"github.com/skbsim/skbsim/carrier"
)

// Config declares one simulated machine: namespaces, devices, addresses,
// routes, neighbours, sockets, packet taps, programs at hooks and where
// captured packets enter. It is plain data (the scenario loader fills it);
// New instantiates it. The namespace "host" (init_net) always exists and is
// the default wherever a namespace is omitted; every namespace gets a
// loopback device "lo" (ifindex 1) with 127.0.0.1/8.
type Config struct {
	Namespaces []NamespaceConfig
	Devices    []DeviceConfig
	Routes     []RouteConfig
	// NexthopObjects are `ip nexthop` objects routes name by NHID.
	NexthopObjects []NexthopObjConfig
	// Rules are policy routing rules (`ip rule`, fibrules.go).
	Rules      []RuleConfig
	Neighbours []NeighConfig
	// FDB are static bridge forwarding entries.
	FDB      []FDBConfig
	Sockets  []SocketConfig
	Taps     []TapConfig
	Programs []ProgramConfig
	// Cpumaps are BPF_MAP_TYPE_CPUMAP maps that XDP programs redirect
	// frames into (Ctx.RedirectCPU, the redirect_cpu action).
	Cpumaps []CpumapConfig
	// Devmaps are device maps (BPF_MAP_TYPE_DEVMAP_HASH: any key) that
	// XDP programs redirect frames into (Ctx.RedirectDevmap, the
	// redirect_devmap action).
	Devmaps []DevmapConfig
	// Entries are where captured packets enter; Packet.Entry indexes them.
	// An empty list means RX on the first NIC (or first device). A device
	// that is up without carrier takes no entry (a NIC's link is down, a
	// veth's peer, a bridge has no forwarding port): no frame arrives.
	Entries []EntryConfig
	Options Options
}

// Options are stack-level switches that are sysctls or device features in
// the kernel.
type Options struct {
	// MultipathBootSeed stands for the random value the kernel draws at
	// boot (proc_fib_multipath_hash_rand_seed, shared by every namespace)
	// and keys the multipath hash of namespaces whose MultipathHashSeed
	// is 0. A kernel with no seed sysctl (before v6.11) keys it with the
	// flow dissector's secret hashrnd; the model takes this value then
	// too. A run is reproducible; a kernel's choices match it only with
	// the same seed.
	MultipathBootSeed uint32
	// RxTimestamps models netstamp_needed (a socket asked for timestamps):
	// __netif_receive_skb_core's net_timestamp_check sets skb->tstamp to the
	// packet's capture time. Off by default, as on the measured machine.
	RxTimestamps bool
	// NoFwdUpdatePriority clears net.ipv4.ip_forward_update_priority
	// (default 1: ip_forward sets priority = rt_tos2priority(tos)).
	NoFwdUpdatePriority bool
	// TraceAll enables detailed trace events for every packet.
	TraceAll bool
	// TCPConnections bounds the TCP connection table (request socks and
	// established children of listeners, see tcp.go): rounded up to a
	// power of two, DefaultTCPConnections when 0, at most
	// MaxTCPConnections. A new request in a full set of the table evicts
	// the entry used longest ago.
	TCPConnections int
	// CaptureCsumOffload says the capture was taken on a host whose NIC
	// completes transmit checksums: a captured TCP or UDP packet holds a
	// partial checksum where the wire had the full one. A driver then
	// completes it as it receives the frame (csum.go), which matters where
	// a frame loses its checksum state (an XDP frame's skb). simrun's
	// -ignore-checksums sets it.
	CaptureCsumOffload bool
	// TrustReassembledCsum takes the TCP or UDP checksum of a datagram
	// reassembled from fragments as its sender's: the software check
	// (__skb_checksum_complete on the CHECKSUM_NONE datagram) passes, its
	// bytes charged when the datagram is complete. simrun's -pad-truncated
	// sets it, because the zeros that pad a cut fragment replace bytes the
	// checksum covers.
	TrustReassembledCsum bool
	// Replies has the stack send what the kernel sends in answer to
	// packets (icmp.go, icmp6.go): ICMP and ICMPv6 errors (icmp_send,
	// icmp6_send: port unreachable for a UDP datagram without a socket;
	// time exceeded, fragmentation needed or packet too big, and the
	// unreachables of missing and reject routes when forwarding; protocol
	// unreachable, or an ICMPv6 parameter problem, for a protocol without
	// a handler; port unreachable for GRE without a tunnel) within the
	// kernel's rate limits; ARP replies for local targets (arp_send_dst)
	// and neighbour advertisements for solicited ones (ndisc_send_na);
	// echo and timestamp replies (icmp_reply,
	// icmpv6_echo_reply); and TCP resets for segments that find no socket
	// (tcp_v4_send_reset, tcp_v6_send_reset). They take the stack's
	// transmit path from the kernel's ICMP, ICMPv6 or TCP control socket,
	// so the programs, taps and devices on their way see them. Off by
	// default: a replay then holds the capture's packets and what the
	// stack does to them, the capture supplying any answers itself. The
	// answers TCP gives within a connection (SYN-ACK, ACK, challenge
	// ACKs, resets from a listener) are not sent either way (tcp.go).
	Replies bool
}

// NamespaceConfig is a network namespace.
type NamespaceConfig struct {
	Name string
	// Forwarding is net.ipv4.ip_forward in this namespace (0 by default,
	// as in the kernel).
	Forwarding bool
	// IPv6Forwarding is net.ipv6.conf.all.forwarding (0 by default).
	IPv6Forwarding bool
	// DisableIPv6 is net.ipv6.conf.all.disable_ipv6 = 1: ip6_rcv_core
	// drops every IPv6 packet with SKB_DROP_REASON_IPV6DISABLED. IPv6 is
	// enabled by default, as in the kernel.
	DisableIPv6 bool
	// BridgeNFCallIPTables and BridgeNFCallIP6Tables are
	// net.bridge.bridge-nf-call-iptables and -ip6tables: br_netfilter's
	// hooks take the IPv4 (IPv6) frames a bridge of this namespace
	// receives on a port through the IP layer's checks
	// (br_nf_pre_routing, br_nf_forward_ip, br_nf_post_routing). On, a
	// bridged frame has its IPv4 (IPv6) header validated (a bad one is
	// dropped, NETFILTER_DROP), IPCB (IP6CB), the first 24 bytes of
	// skb->cb, cleared at the bridge's input and again at each
	// forwarding, and an SKB_EXT_BRIDGE_NF extension added on input,
	// unshared for each flooded copy and deleted when the frame leaves a
	// port; frames the bridge delivers up keep it, through the stack and
	// out of the bridge again (br_dev_xmit: no forward hook). Off (the default) is a
	// kernel whose br_netfilter is not loaded (CONFIG_BRIDGE_NETFILTER=m
	// until Docker, kubeadm's prerequisites or iptables' physdev match
	// load it); once it is loaded or built in (as on the project's 6.18
	// machines), both sysctls are 1 in every namespace. VLAN-tagged
	// frames are passed untouched unless BridgeNFFilterVLANTagged, PPPoE
	// session frames unless BridgeNFFilterPPPoETagged; the
	// refragmentation of frames above a port's MTU (br_nf_dev_queue_xmit)
	// is not modelled.
	BridgeNFCallIPTables, BridgeNFCallIP6Tables bool
	// BridgeNFFilterVLANTagged is net.bridge.bridge-nf-filter-vlan-tagged
	// (0 by default): br_netfilter's hooks also take IPv4 and IPv6 frames
	// that arrived with a VLAN tag (is_vlan_ip, is_vlan_ipv6). Off, such a
	// frame gets no validation, no IPCB clear and no SKB_EXT_BRIDGE_NF
	// extension.
	BridgeNFFilterVLANTagged bool
	// BridgeNFFilterPPPoETagged is
	// net.bridge.bridge-nf-filter-pppoe-tagged (0 by default): br_netfilter
	// also takes PPPoE session frames (ETH_P_PPP_SES) carrying IPv4 or
	// IPv6 (is_pppoe_ip, is_pppoe_ipv6: the PPP protocol after the PPPoE
	// header), pulling the 8 bytes of PPPoE and PPP header around the IP
	// hooks (nf_bridge_pull_encap_header_rcsum, nf_bridge_push_encap_header)
	// so that the inner IP header is validated. Off, such a frame gets no
	// validation, no IPCB clear and no SKB_EXT_BRIDGE_NF extension.
	BridgeNFFilterPPPoETagged bool
	// FwmarkReflect is net.ipv4.fwmark_reflect (0 by default): the ICMP
	// messages the stack sends in answer to a packet (Options.Replies)
	// carry that packet's skb->mark (IP4_REPLY_MARK); off, mark 0.
	FwmarkReflect bool
	// ICMPRatelimit is net.ipv4.icmp_ratelimit in milliseconds: the
	// per-peer interval of the ICMP errors the ratemask covers, with a
	// burst of six (inet_peer_xrlim_allow). 0 takes the default,
	// DefaultICMPRatelimit; a negative value sets the sysctl to 0, which
	// lifts the per-peer limit.
	ICMPRatelimit int
	// IPv6FwmarkReflect is net.ipv6.fwmark_reflect: FwmarkReflect for the
	// ICMPv6 messages and TCP resets the stack sends over IPv6.
	IPv6FwmarkReflect bool
	// ICMPv6Ratelimit is net.ipv6.icmp.ratelimit in milliseconds
	// (DefaultICMPv6Ratelimit when 0; negative for the sysctl's 0): the
	// per-peer interval of ICMPv6 errors.
	ICMPv6Ratelimit int
	// MultipathHashPolicy and MultipathHashPolicy6 are
	// net.ipv4.fib_multipath_hash_policy and
	// net.ipv6.fib_multipath_hash_policy: what a multipath route's hash
	// covers (multipath.go): MultipathL3 (0, the default), MultipathL4,
	// MultipathL3Inner (from v5.3) or MultipathCustom (from v5.15).
	MultipathHashPolicy, MultipathHashPolicy6 int
	// MultipathHashFields and MultipathHashFields6 are
	// net.ipv4.fib_multipath_hash_fields and its IPv6 twin, the
	// MultipathField bits MultipathCustom hashes (0 takes the kernel's
	// default, MultipathFieldsDefault).
	MultipathHashFields, MultipathHashFields6 uint32
	// MultipathHashSeed is net.ipv4.fib_multipath_hash_seed (v6.11), the
	// key of both families' multipath hash; 0 (the default) takes the
	// value the kernel draws at boot, Options.MultipathBootSeed.
	MultipathHashSeed uint32
	// MultipathUseNeigh is net.ipv4.fib_multipath_use_neigh: an IPv4 next
	// hop whose gateway has a neighbour entry in a state outside NUD_VALID
	// (failed, incomplete) is passed over (fib_good_nh).
	MultipathUseNeigh bool
	// RPFilter is net.ipv4.conf.all.rp_filter (0 by default): 1 is strict
	// and 2 loose reverse path filtering of IPv4 sources in
	// fib_validate_source (IP_RPFILTER drops). The devices' own rp_filter
	// stays 0, so all's value is the maximum IN_DEV_RPFILTER takes.
	RPFilter int
	// SrcValidMark is net.ipv4.conf.all.src_valid_mark: fib_validate_source
	// looks the source up with the packet's skb->mark (policy rules with
	// fwmark see it); off (the default) with mark 0.
	SrcValidMark bool
	// AcceptLocal is net.ipv4.conf.all.accept_local: a packet whose
	// source is one of the namespace's own addresses is accepted; off
	// (the default) it is dropped as IP_LOCAL_SOURCE.
	AcceptLocal bool
	// RouteLocalnet is net.ipv4.conf.all.route_localnet: packets from or
	// to 127.0.0.0/8 received on a device other than loopback are routed;
	// off (the default) they are dropped as IP_LOCALNET.
	RouteLocalnet bool
	// IgnoreRoutesWithLinkdown is
	// net.ipv4.conf.all.ignore_routes_with_linkdown (IN_DEV_ORCONF: every
	// device's): an IPv4 lookup passes over a next hop whose device has
	// no carrier (RTNH_F_LINKDOWN; fib_lookup_good_nhc), and a multipath
	// route's rebalance leaves such paths out (fib_rebalance). Off (the
	// default), such routes are used and their packets dropped at the
	// device's qdisc. IPv6IgnoreRoutesWithLinkdown is
	// net.ipv6.conf.all.ignore_routes_with_linkdown, which the kernel
	// copies to every device (addrconf_linkdown_change): find_match and
	// rt6_multipath_rebalance do the same for IPv6.
	IgnoreRoutesWithLinkdown, IPv6IgnoreRoutesWithLinkdown bool
	// ARPIgnore is net.ipv4.conf.all.arp_ignore (IN_DEV_ARP_IGNORE takes
	// the larger of all's and the device's, which stays 0): which ARP
	// requests for a local address get a reply (arp_ignore): 0 (the
	// default) any; 1 those whose target address is on the device the
	// request came in on; 2 those whose target is on that device in a
	// subnet the sender is in too; 3 those for an address that is not of
	// host scope (127.0.0.0/8); 4 to 7 any (reserved); 8 none.
	ARPIgnore int
	// ARPFilter is net.ipv4.conf.all.arp_filter (IN_DEV_ARPFILTER: all's
	// or the device's): a request gets a reply only if the route back to
	// the sender, from the target address, leaves by the device the
	// request came in on (arp_filter). A duplicate address probe (sender
	// 0.0.0.0) is not filtered.
	ARPFilter bool
	// IPForwardUsePMTU is net.ipv4.ip_forward_use_pmtu: bpf_fib_lookup's
	// MTU check takes an IPv4 route's mtu metric even when it is not
	// locked (ip_mtu_from_fib_result). Forwarding itself takes the metric
	// either way; the learned path MTUs the sysctl is named for are not
	// modelled.
	IPForwardUsePMTU bool
	// ProxyARP is net.ipv4.conf.all.proxy_arp: every device of a
	// forwarding namespace answers ARP requests for addresses it routes
	// through another device (arp_fwd_proxy). DeviceConfig.ProxyARP sets
	// it for one device (IN_DEV_PROXY_ARP takes either).
	ProxyARP bool
	// ProxyNDP is net.ipv6.conf.all.proxy_ndp: a forwarding namespace's
	// devices answer neighbour solicitations for the addresses of their
	// proxy entries (NeighConfig.Proxy; DeviceConfig.ProxyNDP sets it for
	// one device).
	ProxyNDP bool
	// KeepAddrOnDown is net.ipv6.conf.all.keep_addr_on_down: when
	// positive, a device that goes down (SetLink) keeps its permanent IPv6
	// addresses other than link-local ones, which are deleted otherwise
	// (addrconf_ifdown). DeviceConfig.KeepAddrOnDown, when not 0, wins.
	KeepAddrOnDown int
	// PromoteSecondaries is net.ipv4.conf.all.promote_secondaries:
	// deleting a device's primary IPv4 address (the first of its subnet)
	// makes the next address of the subnet the primary, where without it
	// the secondaries are deleted with it (__inet_del_ifa);
	// DeviceConfig.PromoteSecondaries sets it for one device
	// (IN_DEV_PROMOTE_SECONDARIES takes either).
	PromoteSecondaries bool
	// NoSendRedirects sets net.ipv4.conf.all.send_redirects and every
	// device's to 0 (IN_DEV_TX_REDIRECTS is either of them): a forwarding
	// namespace sends no ICMP redirect. By default both are 1, and a
	// packet forwarded out of the device it came in on from a source on
	// that link gets a redirect (Options.Replies; ip_rt_send_redirect).
	NoSendRedirects bool
	// NoSharedMedia sets net.ipv4.conf.all.shared_media and every
	// device's to 0 (IN_DEV_SHARED_MEDIA is either of them): a redirect
	// is then marked only when the source and the next hop share one of
	// the device's subnets (inet_addr_onlink).
	NoSharedMedia bool
	// ICMPEchoIgnoreAll is net.ipv4.icmp_echo_ignore_all: echo requests
	// are consumed without a reply (icmp_echo).
	ICMPEchoIgnoreAll bool
	// ICMPEchoAnswerBroadcasts sets net.ipv4.icmp_echo_ignore_broadcasts
	// to 0 (it is 1 by default): an echo or timestamp request to a
	// broadcast or multicast address is answered, from the address
	// fib_compute_spec_dst picks, where by default icmp_rcv drops it
	// (INVALID_PROTO).
	ICMPEchoAnswerBroadcasts bool
	// ICMPErrorsUseInboundIfaddr is
	// net.ipv4.icmp_errors_use_inbound_ifaddr: an ICMP error about a
	// packet the host did not own comes from an address of the device the
	// packet came in on (inet_select_addr), not from the one the route
	// back picks.
	ICMPErrorsUseInboundIfaddr bool
	// ICMPv6EchoIgnoreAll is net.ipv6.icmp.echo_ignore_all: echo requests
	// are dropped (NOT_SPECIFIED, icmpv6_rcv's default reason) without a
	// reply. ICMPv6EchoIgnoreMulticast is net.ipv6.icmp.echo_ignore_multicast:
	// the same for echo requests to a multicast address
	// (icmpv6_echo_reply).
	ICMPv6EchoIgnoreAll, ICMPv6EchoIgnoreMulticast bool
	// ICMPv6EchoIgnoreAnycast is net.ipv6.icmp.echo_ignore_anycast: the
	// same for echo requests to an anycast address (anycast.go).
	// AnycastSrcEchoReply is net.ipv6.anycast_src_echo_reply: the reply to
	// one comes from the anycast address, not from the route's source.
	ICMPv6EchoIgnoreAnycast, AnycastSrcEchoReply bool
	// DropUnicastInL2Multicast is
	// net.ipv4.conf.all.drop_unicast_in_l2_multicast: a packet to a
	// unicast route (neither broadcast nor multicast) that came in an L2
	// broadcast or multicast frame is dropped (UNICAST_IN_L2_MULTICAST,
	// ip_rcv_finish_core). IPv6DropUnicastInL2Multicast is the IPv6
	// sysctl: a packet to a unicast address in such a frame is dropped
	// by ip6_rcv_core.
	DropUnicastInL2Multicast, IPv6DropUnicastInL2Multicast bool
}

// Device kinds.
const (
	KindNIC      = "nic"      // physical NIC: native XDP in the driver, napi_build_skb, GRO
	KindLoopback = "loopback" // lo (created automatically in every namespace)
	KindDummy    = "dummy"    // dummy: xmit consumes
	KindVeth     = "veth"     // one end of a veth pair
	KindBridge   = "bridge"   // Linux bridge
	KindVXLAN    = "vxlan"    // VXLAN (UDP 4789 by default), Ethernet inside
	KindGeneve   = "geneve"   // Geneve (UDP 6081), Ethernet inside
	KindGRE      = "gre"      // ipgre: IP inside GRE (proto 47)
	KindGRETap   = "gretap"   // gretap: Ethernet inside GRE
	KindIPIP     = "ipip"     // IPv4 in IPv4 (proto 4)
	KindSIT      = "sit"      // IPv6 in IPv4 (proto 41)
	// KindIP6Tnl is ip6_tunnel in mode any (`ip -6 tunnel add mode any`):
	// IPv6 (ip6ip6, next header 41) or IPv4 (ipip6, next header 4) inside
	// IPv6, with the default tunnel encapsulation limit option (4) in a
	// destination options header on transmit.
	KindIP6Tnl = "ip6tnl"
	// KindIP6GRE is ip6gre (IP inside GRE over IPv6) and KindIP6GRETap
	// ip6gretap (Ethernet inside GRE over IPv6): ip6_gre's __gre6_xmit
	// and ip6gre_rcv on top of ip6_tnl_xmit / __ip6_tnl_rcv, with the same
	// default encapsulation limit option.
	KindIP6GRE    = "ip6gre"
	KindIP6GRETap = "ip6gretap"
	// KindMacvlan is a macvlan device on a lower Ethernet device
	// (DeviceConfig.Link), usually moved into another namespace: `ip link
	// add link LOWER name NAME type macvlan mode MODE`.
	KindMacvlan = "macvlan"
	// KindIFB is an ifb device (intermediate functional block): act_mirred
	// redirects skbs to it for a qdisc or tc program there, and its
	// tasklet puts each back where it came from.
	KindIFB = "ifb"
	// KindNetkit is a netkit device pair (v6.7, Profile.Netkit: `ip link
	// add NAME type netkit ... peer name PEER`; netkit.go), declared once
	// like a veth pair: the device is the primary, Peer the other end.
	// Transmitting on one end runs the BPF_NETKIT_PRIMARY or
	// BPF_NETKIT_PEER programs of that end (hooks netkit_primary and
	// netkit_peer, attached through the primary) with skb->dev already
	// the other end, then hands the frame to the other end's backlog
	// (__netif_rx): no NAPI, no GRO, no native XDP. bpf_redirect_peer can
	// target the primary from tc ingress, as a veth.
	KindNetkit = "netkit"
)

// Netkit modes (DeviceConfig.Mode, enum netkit_mode) and default
// policies (DeviceConfig.Policy and PeerPolicy, enum netkit_action).
const (
	// NetkitL3 (NETKIT_L3, the default): both ends are IFF_NOARP with an
	// all-zero address; frames still carry an Ethernet header, whose
	// addresses are the zero addresses (arp_constructor's NUD_NOARP
	// entry takes the device's own), so the peer sees PACKET_HOST.
	NetkitL3 = "l3"
	// NetkitL2 (NETKIT_L2): both ends ARP and have random addresses
	// (eth_hw_addr_random; the model picks deterministic ones) unless
	// set (v6.10, Profile.NetkitPktType).
	NetkitL2 = "l2"
	// NetkitForward (NETKIT_PASS, `forward`, the default) passes a frame
	// to the peer when the end has no program.
	NetkitForward = "forward"
	// NetkitBlackhole (NETKIT_DROP, `blackhole`) drops it. An end with
	// programs ignores its policy: the programs' verdict decides, and
	// NETKIT_NEXT from the last one passes.
	NetkitBlackhole = "blackhole"
	// NetkitScrubDefault (NETKIT_SCRUB_DEFAULT, the default) clears mark
	// and priority of frames crossing into the peer's namespace;
	// NetkitScrubNone (NETKIT_SCRUB_NONE) keeps them (v6.13,
	// Profile.NetkitScrub).
	NetkitScrubDefault = "default"
	NetkitScrubNone    = "none"
)

// Macvlan modes (DeviceConfig.Mode, enum macvlan_mode).
const (
	MacvlanBridge   = "bridge"   // MACVLAN_MODE_BRIDGE (the default): macvlans reach each other through the lower device's receive path
	MacvlanPrivate  = "private"  // MACVLAN_MODE_PRIVATE: no frame between macvlans of one lower device
	MacvlanVEPA     = "vepa"     // MACVLAN_MODE_VEPA: every frame leaves by the lower device (an external switch may reflect it)
	MacvlanPassthru = "passthru" // MACVLAN_MODE_PASSTHRU: the only macvlan, with the lower device's address, takes every unicast frame
	// MacvlanSource is MACVLAN_MODE_SOURCE: the macvlan gets a clone of
	// every frame from an address of its list (DeviceConfig.SourceMACs),
	// whatever the destination, and no frame by its own address.
	MacvlanSource = "source"
)

// DeviceConfig is one network device. A veth pair is declared once, on one
// end, with Peer naming the other end (created with it). The loopback
// device "lo" of a namespace may be declared to set its qdisc, MTU, state
// and extra addresses: fib_add_ifaddr makes the whole prefix of an address
// on a loopback device RTN_LOCAL (as 127.0.0.1/8 makes 127/8 local), the
// older AnyIP idiom (`ip addr add 192.168.0.1/16 dev lo`).
type DeviceConfig struct {
	Name  string
	Kind  string
	Netns string
	// MAC is the device address; the zero value picks a deterministic
	// locally administered address.
	MAC   [6]byte
	Addrs []netip.Prefix
	// MTU is 1500 when 0 (65536 for loopback). A bridge's, when 0,
	// follows its ports: the smallest of their MTUs, 1500 without ports,
	// set again when a port's MTU changes (br_mtu_auto_adjust from
	// br_add_if and NETDEV_CHANGEMTU); one given here, or set with
	// SetMTU, is the user's and stays (BROPT_MTU_SET_BY_USER).
	MTU int
	// Peer, PeerNetns, PeerAddrs and PeerMAC describe the other end of a
	// veth or netkit pair; PeerMTU is its MTU (0: MTU, as `ip link add ...
	// mtu N type veth peer ...` gives both ends).
	Peer      string
	PeerNetns string
	PeerAddrs []netip.Prefix
	PeerMAC   [6]byte
	PeerMTU   int
	// Master is the bridge this device is a port of.
	Master string
	// Bridge port flags (`bridge link set dev PORT ...`), for a port:
	// Hairpin (BR_HAIRPIN_MODE) lets a frame go back out of the port it
	// came in by; Isolated (BR_ISOLATED) keeps frames between isolated
	// ports; NoFlood clears BR_FLOOD (no unknown-unicast flooding to the
	// port); NoMcastFlood and NoBcastFlood clear BR_MCAST_FLOOD and
	// BR_BCAST_FLOOD (no multicast or broadcast flooding to it, except of
	// frames the bridge device itself sends); NoLearning clears
	// BR_LEARNING (the FDB learns no source address on it).
	Hairpin, Isolated, NoFlood, NoMcastFlood, NoBcastFlood, NoLearning bool
	// GroupFwdMask is a bridge's or a bridge port's group_fwd_mask: bit X
	// set bridges a frame to the link-local group address
	// 01:80:c2:00:00:0X that would otherwise go up the port itself
	// (br_handle_frame). On a bridge (`ip link set BR type bridge
	// group_fwd_mask M`) bits 0 to 2 are refused (BR_GROUPFWD_RESTRICTED:
	// STP, MAC pause, LACP); on a port (`ip link set PORT type
	// bridge_slave group_fwd_mask M`) bit 1 (BR_GROUPFWD_MACPAUSE). Both
	// refusals are the kernel's EINVAL (BridgeConfigError).
	GroupFwdMask uint16
	// ProxyARP is the device's net.ipv4.conf.DEV.proxy_arp (see
	// NamespaceConfig.ProxyARP); a veth's applies to the end named here.
	ProxyARP bool
	// ProxyNDP is the device's net.ipv6.conf.DEV.proxy_ndp (see
	// NamespaceConfig.ProxyNDP).
	ProxyNDP bool
	// KeepAddrOnDown is the device's net.ipv6.conf.DEV.keep_addr_on_down
	// (see NamespaceConfig.KeepAddrOnDown; 0 defers to it, a negative
	// value deletes the addresses whatever it is).
	KeepAddrOnDown int
	// PromoteSecondaries is the device's
	// net.ipv4.conf.DEV.promote_secondaries (see
	// NamespaceConfig.PromoteSecondaries).
	PromoteSecondaries bool
	// NoProxyDelay is proxy_delay 0 for the device (net.ipv4.neigh.DEV
	// and net.ipv6.neigh.DEV; 80 jiffies by default). With a delay, a
	// proxied neighbour solicitation to a multicast address that did not
	// come as PACKET_HOST is cloned and queued (pneigh_enqueue) and the
	// original freed (NOT_SPECIFIED); the queued copy, and a queued
	// proxied ARP request, are answered after a random part of the delay,
	// which the model does not time: it answers at once.
	NoProxyDelay bool
	// VLANFiltering turns a bridge's VLAN filtering on (`ip link add BR
	// type bridge vlan_filtering 1`, brvlan.go). VLANDefaultPVID is its
	// vlan_default_pvid (0: the kernel's 1), which the bridge device and
	// every port get as pvid, untagged; NoDefaultPVID is
	// `vlan_default_pvid 0` (none).
	VLANFiltering   bool
	VLANDefaultPVID int
	NoDefaultPVID   bool
	// VLANs change a bridge's own VLAN group (`bridge vlan add dev BR vid
	// N self`) or a port's (`bridge vlan add dev PORT vid N`), in order,
	// after the default pvid. They count only with VLANFiltering.
	VLANs []BridgeVLAN
	// Local and Remote are a tunnel's endpoints (in LinkNetns); VNI is the
	// VXLAN/Geneve id or the GRE key; Port the UDP port of a UDP tunnel.
	// Their family is the underlay's: IPv4 for gre, gretap, ipip and sit;
	// IPv6 for ip6tnl, ip6gre and ip6gretap; either for vxlan and geneve
	// (an IPv6 remote makes the device use the IPv6 UDP tunnel socket,
	// bound to :: with IPV6_V6ONLY, and udp_tunnel6_xmit_skb).
	Local, Remote netip.Addr
	VNI           uint32
	Port          uint16
	// External makes a vxlan or geneve device collect_md (`ip link add
	// ... type vxlan external`, VXLAN_F_COLLECT_METADATA): it has no
	// remote or VNI of its own. Its UDP socket takes packets of every VNI
	// and the receive path attaches their tunnel info to the skb (a
	// kmalloc'ed metadata dst: udp_tun_rx_dst), which
	// bpf_skb_get_tunnel_key reads until skb_scrub_packet or the IP
	// layer's route lookup drops it; it transmits only skbs whose dst
	// carries transmit tunnel info (bpf_skb_set_tunnel_key), to its
	// remote, VNI, TTL and TOS, and drops the others (TUNNEL_TXINFO).
	// It opens an IPv6 and an IPv4 socket (vxlan_sock_add), so keys of
	// either family work, with each family's default outer UDP checksum
	// unless UDPCsum says otherwise; a device that is not external cannot
	// share its port in the link namespace with one that is (vxlan sockets
	// are shared by devices of equal flags).
	External bool
	// UDPCsum is a vxlan or geneve device's outer UDP checksum, "on" or
	// "off" (ip link's [no]udpcsum for an IPv4 underlay,
	// [no]udp6zerocsumtx for IPv6); "" is the kernel's default: off over
	// IPv4, on over IPv6 (RFC 8200 wants UDP checksums).
	UDPCsum string
	// UDP6ZeroCsumRx (udp6zerocsumrx) lets an IPv6 vxlan or geneve
	// device's socket accept outer UDP checksums of 0 (no_check6_rx);
	// without it __udp6_lib_rcv drops them.
	UDP6ZeroCsumRx bool
	// LinkNetns is the namespace of the tunnel's underlay (vxlan->net,
	// tunnel->net), or of a macvlan's lower device: the namespace the
	// device was created in before being moved. Defaults to Netns.
	LinkNetns string
	// Link is a macvlan's lower device, in LinkNetns: an Ethernet device
	// that is not a bridge port (a macvlan on a macvlan goes on the
	// latter's lower device, as macvlan_common_newlink does). Its MTU is
	// the default and the limit of the macvlan's.
	Link string
	// Mode is a macvlan's mode: MacvlanBridge (the default, ""),
	// MacvlanPrivate, MacvlanVEPA, MacvlanPassthru or MacvlanSource; or a
	// netkit pair's: NetkitL3 (the default, "") or NetkitL2.
	Mode string
	// Policy and PeerPolicy are a netkit pair's default verdicts for the
	// primary's and the peer's transmissions when that end has no
	// program: NetkitForward (the default, "") or NetkitBlackhole.
	Policy, PeerPolicy string
	// Scrub and PeerScrub are a netkit pair's scrub modes for frames the
	// primary and the peer send into the other end's namespace:
	// NetkitScrubDefault (the default, "") or NetkitScrubNone (v6.13,
	// Profile.NetkitScrub).
	Scrub, PeerScrub string
	// Headroom and Tailroom are a netkit pair's needed_headroom and
	// needed_tailroom, set on both ends (v6.14, Profile.NetkitRoom): they
	// enter LL_RESERVED_SPACE, so forwarding into the pair (skb_cow) and
	// ip_finish_output2 (skb_expand_head) reallocate a head with less room,
	// and the host's own packets are allocated with more.
	Headroom, Tailroom int
	// SourceMACs is a source-mode macvlan's list of source addresses
	// (`macaddr add`, IFLA_MACVLAN_MACADDR).
	SourceMACs [][6]byte
	// NoDst is MACVLAN_FLAG_NODST (`flag nodst`): a frame whose source is
	// in a source-mode macvlan's list goes to that macvlan only (the
	// original is freed after the clone). It has no effect in other modes.
	NoDst bool
	// XDP is the attach mode for xdp programs: "native" (driver) or
	// "generic" (skb mode). Native XDP is modelled on nic and veth.
	XDP string
	// GRO is "on" or "off" (NETIF_F_GRO); "" is the kind's default: on
	// for nic, bridge and tunnels, off for veth (where "on" also enables
	// the NAPI receive path, as ETHTOOL_SGRO does).
	GRO string
	// PeerXDP and PeerGRO are XDP and GRO for the peer of a veth pair.
	PeerXDP, PeerGRO string
	// GROList is NETIF_F_GRO_FRAGLIST (ethtool rx-gro-list): GRO chains
	// the UDP segments of a flow that no UDP_GRO socket receives on the
	// first one's frag_list (skb_gro_receive_list), and GSO gives them back
	// as they were (skb_segment_list). Needs GRO on and a v5.6 or later
	// profile (Profile.GROFraglist).
	GROList bool
	// UDPGROForwarding is NETIF_F_GRO_UDP_FWD (ethtool
	// rx-udp-gro-forwarding): GRO merges the payload of UDP segments that
	// no local socket receives, as for a UDP_GRO socket. Needs GRO on and a
	// v5.12 or later profile (Profile.GROUDPFwd).
	UDPGROForwarding bool
	// PeerGROList and PeerUDPGROForwarding are GROList and
	// UDPGROForwarding for the peer of a veth pair.
	PeerGROList, PeerUDPGROForwarding bool
	// TxFragList is "on" or "off" (NETIF_F_FRAGLIST, ethtool
	// tx-scatter-gather-fraglist): the device takes skbs with a frag_list.
	// "" is the kind's default: off for nic (physical NICs do not offer
	// it), on for every other kind (veth, loopback, dummy, the IP and GRE
	// tunnels), vxlan and geneve from v5.12 (Profile.UDPTunnelFragList); a
	// bridge has it when any of its ports has it (or it has no port). Without it, validate_xmit_skb segments
	// a GSO skb with a frag_list in software (skb_segment, which splits it
	// into GSO skbs along the list when it can: net_gso_ok) and linearizes
	// any other skb with one (__skb_linearize).
	TxFragList string
	// PeerTxFragList is TxFragList for the peer of a veth pair.
	PeerTxFragList string
	// TunnelTSO is "on" (the default, "") or "off": the tunnel GSO types
	// (NETIF_F_GSO_UDP_TUNNEL and _CSUM, GRE, IPXIP; ethtool
	// tx-udp_tnl-segmentation and its kin). Off makes validate_xmit_skb
	// segment an encapsulated GSO skb in software (skb_udp_tunnel_segment)
	// while plain TCP and UDP GSO skbs still leave whole; SoftwareGSO takes
	// every GSO offload away.
	TunnelTSO string
	// TxChecksum is "on" (the default, "") or "off": the device's transmit
	// checksum offload (NETIF_F_HW_CSUM, ethtool tx-checksumming). Off
	// makes validate_xmit_skb complete a CHECKSUM_PARTIAL skb's TCP or UDP
	// checksum in software (skb_checksum_help: CHECKSUM_NONE; see csum.go),
	// and the device lack GSO offloads as with SoftwareGSO
	// (netdev_fix_features drops TSO and USO without a checksum feature).
	TxChecksum string
	// RxChecksum is "on" (the default, "") or "off": the receive checksum
	// offload of a NIC or veth entry's driver (NETIF_F_RXCSUM, ethtool
	// rx-checksumming). On, the frames it receives are
	// CHECKSUM_UNNECESSARY at every level; off, CHECKSUM_NONE, so GRO and
	// the TCP and UDP receive paths check them in software (csum.go).
	RxChecksum string
	// RxVLANOffload is "on" or "off" (the default, ""): a NIC's receive
	// VLAN offload (NETIF_F_HW_VLAN_CTAG_RX, ethtool rxvlan), which most
	// NIC drivers turn on by default. On, the NIC strips an outer 802.1Q
	// tag before the driver and native XDP see the frame, and the driver
	// puts it into the skb's vlan_tci (see driverRx); off, the tag reaches
	// XDP in the frame and __netif_receive_skb_core untags it in software
	// (skb_vlan_untag), as on a veth. NICs only.
	RxVLANOffload string
	// RxHwTstamp is "on" or "off" (the default, ""): a NIC's hardware
	// receive timestamps (SIOCSHWTSTAMP with rx_filter
	// HWTSTAMP_FILTER_ALL). On, the driver stamps every frame with its
	// capture time: skb_hwtstamps(skb)->hwtstamp of the skb it builds, and
	// what bpf_xdp_metadata_rx_timestamp returns to a device-bound XDP
	// program; off, that kfunc returns -ENODATA. NICs only.
	RxHwTstamp string
	// XDPMetadataOps lists the XDP RX metadata kfuncs a NIC's driver
	// implements (its struct xdp_metadata_ops), as names separated by
	// spaces or commas: rx_timestamp, rx_hash, rx_vlan_tag. "" is all
	// three (mlx5, ice); "none" a driver without the ops. A device-bound
	// program calling a kfunc the driver lacks gets -EOPNOTSUPP. Drivers
	// differ: mlx4 and igc implement rx_timestamp and rx_hash, virtio_net
	// rx_hash, stmmac rx_timestamp. NICs only (veth implements all three).
	XDPMetadataOps string
	// SoftwareGSO makes the device lack GSO offloads: GSO skbs are
	// segmented by skb_segment in validate_xmit_skb before the xmit.
	SoftwareGSO bool
	// Qdisc is "" (noqueue / pfifo: packets pass) or "blackhole" (every
	// packet is dropped at enqueue, SKB_DROP_REASON_QDISC_DROP).
	Qdisc string
	// Down leaves the device administratively down (a veth or netkit
	// pair: both ends).
	Down bool
	// PeerDown leaves a veth or netkit pair's peer down while the device
	// is up: veth_open (netkit_open) then leaves both ends without
	// carrier.
	PeerDown bool
	// NoCarrier takes a dummy's or a NIC's carrier off (`ip link set DEV
	// carrier off`, dummy_change_carrier; a NIC whose link is down). The
	// other kinds' carrier follows their state: a veth or netkit end has
	// carrier while both ends are up, a bridge while one of its ports is
	// forwarding (br_port_state_selection), a macvlan while its lower
	// device has (netif_stacked_transfer_operstate); the rest always.
	// A device without carrier that is up transmits nothing (its qdisc is
	// noop_qdisc), forwards nothing as a bridge port, and its routes are
	// linkdown (NamespaceConfig.IgnoreRoutesWithLinkdown).
	NoCarrier bool
}

// Route types (RTN_*).
const (
	RouteUnicast = "unicast" // RTN_UNICAST in the main table (the default)
	RouteLocal   = "local"   // RTN_LOCAL in the local table
	// The reject routes (`ip route add blackhole|unreachable|prohibit
	// DST`, no device): for IPv4 fib_table_lookup returns their error
	// (fib_props: -EINVAL, -EHOSTUNREACH, -EACCES), and a packet to
	// forward meets ip_error, which drops it with NOT_SPECIFIED; for IPv6
	// their dst input drops it: dst_discard (NOT_SPECIFIED) for a
	// blackhole, ip6_pkt_drop (IP_INNOROUTES) for the others.
	// Unreachable and prohibit send an ICMP error first (not modelled).
	// bpf_fib_lookup returns BPF_FIB_LKUP_RET_BLACKHOLE, UNREACHABLE or
	// PROHIBIT; a local sender is refused as with no route.
	RouteBlackhole   = "blackhole"   // RTN_BLACKHOLE
	RouteUnreachable = "unreachable" // RTN_UNREACHABLE
	RouteProhibit    = "prohibit"    // RTN_PROHIBIT
	// RouteThrow (`ip route add throw DST table N`) ends the lookup in its
	// table without a route (fib_props: -EAGAIN): the policy rules go on
	// to the next rule; without rules, and in bpf_fib_lookup's direct
	// lookups, it is no route (fib_lookup's -ENETUNREACH, NOT_FWDED).
	RouteThrow = "throw" // RTN_THROW
)

// RouteConfig is a route in a namespace's main table, or with Type
// RouteLocal in its local table: `ip route add local 0.0.0.0/0 dev lo`
// (AnyIP) makes every destination in Dst local, so fib_table_lookup on
// input returns RTN_LOCAL and ip_route_input_slow delivers locally
// (ip_local_deliver) to a socket bound to the port on the wildcard or the
// exact address; output to such a destination goes through loopback
// (__mkroute_output: dev_out = net->loopback_dev). Via is not allowed on a
// local route.
type RouteConfig struct {
	Netns string
	Dst   netip.Prefix // the zero Prefix is the default route
	Dev   string
	// Via is the gateway. An IPv4 route may name an IPv6 one (`via inet6`,
	// RFC 5549): the next hop's neighbour comes from the ND table, a
	// redirect names the destination (rt_nexthop), and bpf_fib_lookup
	// answers in AF_INET6 with the gateway in ipv6_dst.
	Via netip.Addr
	// Type is RouteUnicast ("" too), RouteLocal, or a reject route
	// (RouteBlackhole, RouteUnreachable, RouteProhibit, RouteThrow), which
	// has no Dev or Via.
	Type string
	// Table is the routing table (`table N`): 0 or 254 is main; a local
	// route may name 255 (local); any other number makes a table of its
	// own, which only policy rules (RuleConfig) consult.
	Table uint32
	// NHID names a nexthop object of the route's namespace (`ip route add
	// DST nhid N`, NexthopObjConfig) in place of Dev, Via and Nexthops.
	NHID uint32
	// Nexthops make a multipath route (`ip route add DST nexthop via GW
	// dev DEV weight W nexthop ...`, multipath.go) in place of Dev and
	// Via: a unicast route whose next hop each packet's multipath hash
	// picks (fib_select_multipath, fib6_select_path).
	Nexthops []NexthopConfig
	// MTU is the route's mtu metric (`ip route add ... mtu N`; 0: none,
	// the device's MTU applies; above 65520, 65520). Forwarding honours
	// it: IPv4 fragments to it or answers fragmentation needed
	// (ip_dst_mtu_maybe_forward); IPv6 checks the device's MTU in
	// ip6_forward (an unlocked metric does not count there) and the
	// route's in ip6_fragment after the hop limit's decrement, answering
	// packet too big and freeing the packet. bpf_fib_lookup ignores it
	// unless locked (MTULock) or under ip_forward_use_pmtu (the device's
	// MTU, as 6.18 does). The host's own packets (its sockets'
	// datagrams and segments, its answers, a tunnel's outer packets)
	// leave by it too (dst_mtu: __ip_append_data, ip_skb_dst_mtu,
	// tcp_sync_mss, __icmp_send's room).
	MTU int
	// Onlink takes a route's gateways as on the link of their devices
	// (`onlink`, RTNH_F_ONLINK) where they are not on a subnet of theirs.
	// IPv4 (fib_check_nh_v4_gw) then asks only that the device be up and
	// the gateway an ordinary unicast address, not a local, broadcast or
	// multicast one (EINVAL); IPv6 (ip6_route_check_nh_onlink) that the
	// gateway's longest route in table main, unless the default or a
	// reject route, go by the same device (EINVAL). Without it an IPv4
	// gateway must be reached by a link of its device: an address's
	// prefix, a route through the device without a gateway, or the
	// device's own address (ENETUNREACH, ErrGateway); a global IPv6
	// gateway must have its longest route through the device without a
	// gateway (EHOSTUNREACH, ErrGateway6), a link-local one is on any
	// link. An IPv6 gateway is never an address of the namespace, nor
	// multicast, nor through lo (EINVAL). The configuration and AddRoute
	// refuse a route that breaks these; a route whose gateway's link goes
	// later stays.
	Onlink bool
	// Metric is the route's priority (`metric N`, `priority N`: IPv4's
	// fib_priority, IPv6's fib6_metric). Of the routes to one prefix in a
	// table, the lowest metric whose next hop is live wins: fib_table_lookup
	// walks a prefix's aliases in priority order, and rt6_select
	// (find_rr_leaf) tries the next metric when none of the lowest is
	// usable; a route through a device that goes down is flushed, and one
	// passed over for linkdown (ignore_routes_with_linkdown) leaves the
	// next metric to answer. An IPv4 route's default is 0, an address's
	// prefix route's too, so a configured route to a connected prefix
	// needs a metric of its own; an IPv6 route's default is 1024
	// (IP6_RT_PRIO_USER, 0 means that), an address's prefix route's 256
	// (IP6_RT_PRIO_ADDRCONF). Two routes of one table to one prefix with
	// one metric are a configuration error, as `ip route add` (NLM_F_EXCL)
	// answers EEXIST (fib_table_insert, fib6_add_rt2node). IPv6's
	// router reachability scoring among routes of one metric
	// (rt6_check_neigh under RT6_LOOKUP_F_REACHABLE) is not modelled.
	// Local routes take none.
	Metric uint32
	// MTULock locks the mtu metric (`mtu lock N`, RTAX_LOCK's RTAX_MTU
	// bit). IPv6 forwarding then checks the route's MTU in ip6_forward
	// (ip6_dst_mtu_maybe_forward), where it answers packet too big before
	// the hop limit's decrement; bpf_fib_lookup's MTU check takes it
	// (ip_mtu_from_fib_result, ip6_mtu_from_fib6); and an IPv4 route with
	// a gateway whose locked metric is 0 (`mtu lock 0`) caps its device's
	// MTU at 576 (ip_dst_mtu_maybe_forward, ipv4_mtu).
	MTULock bool
	// Src is the route's preferred source (`src ADDR`, RTA_PREFSRC): the
	// source the host's own packets routed by it take when they have none
	// (fib_result_prefsrc for ip_route_output_key_hash, ip6_route_get_saddr
	// for ip6_dst_lookup): the ICMP errors it sends, a tunnel's outer
	// header without a local address, the answers' IP options, and
	// bpf_fib_lookup's BPF_FIB_LOOKUP_SRC. IPv4 wants an RTN_LOCAL address
	// of the namespace (fib_valid_prefsrc: a device's address, or in a
	// local route), IPv6 an address of a device, a link-local one of the
	// route's (ipv6_chk_addr): else EINVAL. Deleting the address deletes
	// the IPv4 routes that name it when no device has it any more
	// (fib_del_ifaddr: fib_sync_down_addr), and takes it from the IPv6
	// routes through its device (rt6_remove_prefsrc; of a multipath route
	// the model takes it from every path when one goes through the
	// device, the kernel from that path). A unicast route's only.
	Src netip.Addr
}

// BridgeVLAN is one `bridge vlan add` (or, with Del, `bridge vlan del`)
// of VID (1 to 4094) on a bridge or a port: PVID makes it the port VLAN id
// that untagged and priority-tagged frames take (and without PVID a VLAN
// that was the pvid stops being it), Untagged sends its frames without a
// tag.
type BridgeVLAN struct {
	VID            uint16
	PVID, Untagged bool
	Del            bool
}

// NexthopObjConfig is a nexthop object (`ip nexthop add id ID ...`,
// v5.3, multipath.go): a next hop (Dev, and Via for a gateway), a
// blackhole, or a hash-threshold group of other objects with weights
// (`group ID1,W1/ID2,W2`; weight 0 is 1).
type NexthopObjConfig struct {
	Netns     string
	ID        uint32
	Dev       string
	Via       netip.Addr
	Blackhole bool
	Group     []NexthopGroupMember
	// Onlink takes the gateway as on Dev's link (`onlink`, nh_flags
	// RTNH_F_ONLINK), as RouteConfig.Onlink does. The gateway is checked
	// when the object is made (nh_create_ipv4: fib_check_nh against
	// table main; nh_create_ipv6: ip6_validate_gw), not by the routes
	// that name it.
	Onlink bool
}

// NexthopGroupMember is a member of a nexthop group.
type NexthopGroupMember struct {
	ID     uint32
	Weight int
}

// NexthopConfig is one next hop of a multipath route (struct rtnexthop):
// its device, gateway (none: on link) and weight (1 to 256, 0 is 1;
// rtnh_hops + 1).
type NexthopConfig struct {
	Dev    string
	Via    netip.Addr
	Weight int
	// Onlink is the next hop's RTNH_F_ONLINK (`nexthop via GW dev DEV
	// onlink`), checked as RouteConfig.Onlink is. An IPv4 route's own
	// Onlink does not reach its next hops (fib_get_nhs keeps none of the
	// route's low flags), an IPv6 route's does (ip6_route_multipath_add).
	Onlink bool
	// dead: the next hop is RTNH_F_DEAD while its device is up, the
	// device's last IPv4 address having gone (fib_sync_down_dev with
	// force), until an address or NETDEV_UP revives it (fib_sync_up).
	dead bool
}

// NeighConfig is a neighbour entry (`ip neigh add ADDR lladdr MAC dev DEV
// nud STATE`).
type NeighConfig struct {
	Netns string
	Dev   string
	Addr  netip.Addr
	MAC   [6]byte
	// State is the entry's NUD state: NeighPermanent ("" too) or another
	// NUD_VALID one (NeighNoarp, NeighReachable, NeighStale, NeighDelay,
	// NeighProbe), whose MAC is used as it is (the model runs no
	// reachability timers); or NeighFailed or NeighIncomplete, which hold
	// no MAC: bpf_fib_lookup answers NO_NEIGH and a neighbour discovery
	// redirect carries no target link-layer option, while a packet sent to
	// the address starts a resolution (neigh_event_send), which succeeds
	// for an address a directly attached peer holds, as for an address
	// without an entry, and otherwise fails (NEIGH_FAILED; the model drops
	// at once what the kernel queues until its probes give up).
	State string
	// Proxy makes the entry a proxy entry (`ip neigh add proxy ADDR dev
	// DEV [router]`, pneigh_create), which has no MAC or State: the device
	// answers ARP requests (a forwarding namespace, a route to Addr
	// through another device: arp_process) or, under proxy_ndp, neighbour
	// solicitations for Addr (ndisc_recv_ns), and joins Addr's
	// solicited-node group (pndisc_constructor). Router sets the router
	// flag of the advertisements (NTF_ROUTER; IPv6 only).
	Proxy, Router bool
}

// Neighbour states (NUD_*).
const (
	NeighPermanent  = "permanent"
	NeighNoarp      = "noarp"
	NeighReachable  = "reachable"
	NeighStale      = "stale"
	NeighDelay      = "delay"
	NeighProbe      = "probe"
	NeighFailed     = "failed"
	NeighIncomplete = "incomplete"
)

// FDBConfig is a static entry of a bridge's forwarding database, as
// `bridge fdb add MAC dev PORT master static [sticky]` makes it (br_fdb_add
// -> fdb_add_entry with BR_FDB_STATIC): frames to MAC are forwarded to the
// port from the first one on, instead of being flooded until the address
// is learned. Learning (br_fdb_update) still moves a static entry to the
// port a frame from MAC arrives on, unless Sticky (BR_FDB_STICKY).
type FDBConfig struct {
	Netns  string
	Dev    string // the bridge port (its master is the bridge)
	MAC    [6]byte
	Sticky bool
	// VLAN is the entry's VLAN (`bridge fdb add ... vlan N`; 0: none,
	// which a bridge with VLAN filtering never looks up).
	VLAN uint16
}

// Protocols of sockets.
const (
	ProtoUDP = "udp"
	ProtoTCP = "tcp"
)

// SocketConfig is a bound socket: local delivery ends in it, and a
// captured packet can be sent from it (EntryConfig.Socket).
type SocketConfig struct {
	Name  string
	Netns string
	Proto string // ProtoUDP or ProtoTCP
	// Addr is the bound address: none or IPv4 makes an AF_INET socket, an
	// IPv6 one (:: for the wildcard) an AF_INET6 socket.
	Addr netip.Addr
	Port uint16
	// Cgroup is the cgroup path of the socket's owner ("" is the root);
	// cgroup_skb programs attached to it or an ancestor run.
	Cgroup string
	// Mark and Priority are SO_MARK and SO_PRIORITY (copied to sent skbs).
	Mark, Priority uint32
	// UID is the socket's owner (sk_uid: the creator's fsuid), which
	// policy rules' uidrange matches for the packets it sends.
	UID uint32
	// RcvBuf is SO_RCVBUF in bytes (212992, rmem_default, when 0).
	RcvBuf int
	// V6Only is IPV6_V6ONLY on a socket bound to the IPv6 wildcard ("::"):
	// it then receives no IPv4 (v4-mapped) traffic.
	V6Only bool
	// TProxy steers every packet of the socket's protocol received in its
	// namespace to this socket, as an iptables rule
	// `-t mangle -A PREROUTING -p <proto> -j TPROXY --on-port <Port>` with
	// IP_TRANSPARENT on the socket does: tproxy_tg4 (after ip_rcv_core, in
	// NF_INET_PRE_ROUTING) finds the transparent listener on the on-port
	// (nf_tproxy_get_sock_v4) and nf_tproxy_assign_sock sets skb->sk with
	// the sock_edemux destructor; __udp4_lib_rcv / tcp_v4_rcv then take it
	// with skb_steal_sock instead of looking the socket up. The packet still
	// needs a local route for its destination (the usual companion
	// `ip route add local 0.0.0.0/0 dev lo`, a RouteLocal); otherwise it is
	// routed on and ip_forward drops it because skb->sk is set. The rule's
	// first lookup (an established or request socket of the packet's own
	// 4-tuple) finds the TCP connection table's entries (tcp.go); fragments are
	// not steered (the kernel's nf_defrag_ipv4 reassembles them before
	// TPROXY; the model reassembles at local delivery). The rule is an
	// iptables (IPv4) one: IPv6 packets are not steered.
	TProxy bool
	// NoRead leaves received skbs queued until Close (the application never
	// reads); by default the application reads after every Inject.
	NoRead bool
	// UDPGRO is the UDP_GRO socket option: GRO merges UDP segments of flows
	// to this socket (udp_gro_receive_segment).
	UDPGRO bool
	// UDPSegment is UDP_SEGMENT: a sent datagram longer than this becomes
	// one GSO super-packet (SKB_GSO_UDP_L4) of segments of this size.
	UDPSegment int
	// Task names the task (process) that sends on the socket: sockets of
	// one task share its page_frag (sk_page_frag(): a user socket's send
	// path takes its pages from current->task_frag), so their TCP payload
	// and UDP_SEGMENT datagrams fill the same 32 KB pages. "" gives the
	// socket a task of its own.
	Task string
	// Connected is a connect()ed UDP socket: __ip4_datagram_connect calls
	// sk_set_txhash, so sent skbs carry the socket's hash
	// (skb_set_hash_from_sk). An unconnected UDP socket's sk_txhash is 0.
	// TCP sockets are always connected.
	Connected bool
	// Broadcast is SO_BROADCAST: without it, udp_sendmsg refuses a
	// datagram to a broadcast address (a route with RTCF_BROADCAST) with
	// EACCES and no skb is made.
	Broadcast bool
	// NoMulticastLoop turns IP_MULTICAST_LOOP off: the host gets no copy
	// of what the socket sends to a group it joined (a broadcast still
	// loops back).
	NoMulticastLoop bool
	// Join lists the IPv4 multicast groups the socket joined
	// (IP_ADD_MEMBERSHIP): the device then delivers the group's datagrams
	// (ip_check_mc_rcu) and loops back what the host sends to it.
	Join []GroupJoin
	// Connect makes a TCP socket an active opener: connect() to this peer
	// was called before the capture (tcp_v4_connect -> tcp_connect sent
	// the SYN from Addr:Port), so the socket is in SYN_SENT, hashed by its
	// 4-tuple and no listener. Only segments from the peer reach it; a
	// SYN-ACK completes the connection (tcp_finish_connect: LSM
	// inet_conn_established and sockops ACTIVE_ESTABLISHED_CB programs
	// run with it). Port must be set; Addr may be left out (the source
	// address the route chose). Without Connect a TCP socket listens.
	Connect netip.AddrPort
}

// GroupJoin is one IP_ADD_MEMBERSHIP: Group on Dev, or with Dev "" on the
// device of the route to the group (ip_mc_find_dev).
type GroupJoin struct {
	Group netip.Addr
	Dev   string
}

// Tap directions.
const (
	TapRX   = "rx"
	TapTX   = "tx"
	TapBoth = "both"
)

// TapConfig is an AF_PACKET socket (ptype_all) on one device or on every
// device of a namespace. The application reads it after every Inject.
type TapConfig struct {
	Name  string
	Netns string
	Dev   string // "" is every device of the namespace
	Dir   string // TapRX, TapTX or TapBoth (default)
	// Hold keeps captured skbs until Close (a reader that stalls), so the
	// clones keep sharing the packets' buffers.
	Hold bool
}

// Attach points of ProgramConfig.Hook beyond carrier.Hook names.
const (
	EventKfreeSkb   = "kfree_skb"
	EventConsumeSkb = "consume_skb"
)

// ProgramConfig attaches one program at a hook. Either Actions (the
// built-in action library) or Prog (a Go program) is set.
type ProgramConfig struct {
	Name string
	Hook carrier.Hook
	// Dev is the device of xdp and tc programs; Netns the namespace of the
	// device, cgroup, socket or tracepoint.
	Dev   string
	Netns string
	// Cgroup is the cgroup path of cgroup_skb programs ("" is the root).
	Cgroup string
	// Socket is the socket a socket filter is attached to. Tap instead
	// attaches a socket filter to a packet tap (SO_ATTACH_BPF on the
	// packet socket): packet_rcv runs it on the skb it was handed, before
	// any clone, with data pushed back to the mac header and cb[] cleared
	// and not restored (bpf_prog_run_clear_cb, as for a program that reads
	// or writes cb: the model assumes every tap filter does), so later
	// programs on that skb see cb[] zeroed. A return of 0 keeps the packet
	// from the tap.
	Socket string
	Tap    string
	// Event is the tracepoint of a HookTracepoint program: EventKfreeSkb
	// (drops only, the default) or EventConsumeSkb; the LSM hook of a
	// HookLSM program: EventInetConnEstablished (the default) or
	// EventInetConnRequest; for a HookSockOps program (attached to Cgroup,
	// like cgroup_skb programs) the one callback it acts on,
	// EventActiveEstablished or EventPassiveEstablished ("" is both).
	Event string
	// XDPFrags loads an xdp program with BPF_F_XDP_HAS_FRAGS (SEC
	// "xdp.frags"): it accepts multi-buffer frames. In generic (skb) mode
	// a cloned or non-linear skb, or one short of XDP_PACKET_HEADROOM, is
	// then copied into page-pool memory and stays non-linear
	// (skb_cow_data_for_xdp, v6.9: Profile.GenericXDPFrags) instead of being
	// linearized. Every xdp program of a device must have it for the
	// device's to count as a multi-buffer one.
	XDPFrags bool
	// Cpumap loads an xdp program with expected_attach_type
	// BPF_XDP_CPUMAP (SEC "xdp/cpumap", Profile.CpumapProg): it has no
	// device and runs on the remote CPU for every cpumap entry that names
	// it. Its redirect targets are looked up in Netns.
	Cpumap bool
	// Devmap loads an xdp program with expected_attach_type
	// BPF_XDP_DEVMAP (SEC "xdp/devmap", Profile.DevmapProg): it has no
	// device and runs on each frame a device map entry naming it sends,
	// with the entry's device as egress_ifindex.
	Devmap bool
	// DevBound loads an xdp program bound to Dev
	// (BPF_F_XDP_DEV_BOUND_ONLY, prog_ifindex; v6.3:
	// Profile.XDPRxMetadata), so that its XDP RX metadata kfuncs
	// (Ctx.RxHash, RxTimestamp, RxVlanTag) reach Dev's driver. It attaches
	// to Dev only and in native mode only (dev_xdp_attach: "Can't attach
	// device-bound programs in generic mode"), and never to a cpumap or
	// device map entry (bpf_prog_map_compatible).
	DevBound bool
	Actions  []Action
	Prog     Program
}

// CpumapConfig is a BPF_MAP_TYPE_CPUMAP map: per CPU, a queue (ptr_ring)
// that a kthread bound to that CPU drains, building skbs from the queued
// XDP frames and receiving them as the device they came from. The model
// has no CPUs: an entry's CPU is only its key.
type CpumapConfig struct {
	Name    string
	Entries []CpumapEntryConfig
	// Drain says when the remote CPU runs, which the kernel leaves to the
	// scheduler; it decides how many frames meet in its batches, in its
	// GRO and in a full queue. See CpumapDrain.
	Drain CpumapDrain
}

// DevmapConfig is a device map: its entries, each a device and
// optionally a program.
type DevmapConfig struct {
	Name    string
	Entries []DevmapEntryConfig
}

// DevmapEntryConfig is one device map element (struct bpf_devmap_val).
type DevmapEntryConfig struct {
	Key     int    // 0 to 2^32-1
	Netns   string // the device's namespace ("" is host)
	Dev     string
	Program string // a ProgramConfig with Devmap set ("" for none)
}

// CpumapEntryConfig is one cpumap element (struct bpf_cpumap_val).
type CpumapEntryConfig struct {
	// CPU is the key.
	CPU int
	// QSize is the queue's size in frames, 1 to 16384
	// (cpu_map_update_elem's -EOVERFLOW beyond).
	QSize int
	// Program names a ProgramConfig with Cpumap set ("" for none).
	Program string
}

// CpumapDrain is when a cpumap's kthread drains its queue.
type CpumapDrain uint8

// Cpumap drain modes.
const (
	// DrainBulk: the remote CPU is idle and keeps up. Each bulk of
	// frames the sending CPU moves to the queue (8 frames, CPU_MAP_BULK_SIZE,
	// or fewer at the end of its NAPI poll, xdp_do_flush), and each skb
	// generic XDP queues, is drained once the packet that queued it has
	// finished its path: the queue never holds more than one bulk, and
	// GRO is flushed after each (the queue is empty).
	DrainBulk CpumapDrain = iota
	// DrainPoll: the remote CPU is busy until the sending CPU's NAPI poll
	// ends (every 64 packets of a shard, Stack.Flush). Frames queue up to
	// QSize (more are dropped, bq_flush_to_queue), and the kthread then
	// drains them 8 at a time (CPUMAP_BATCH), its GRO flushed every 64
	// packets and when the queue is empty.
	DrainPoll
)

// Entry kinds.
const (
	EntryRX = "rx" // the frame is received by Dev (driver RX)
	EntryTX = "tx" // the IP packet in the frame is sent by Socket
	// EntryPacket: the frame is sent out of Dev by a packet socket
	// (AF_PACKET, SOCK_RAW), as tcpreplay does: the skb has no checksum
	// state, so a veth's peer receives it CHECKSUM_NONE.
	EntryPacket = "packet"
)

// EntryConfig says where a captured packet enters.
type EntryConfig struct {
	Kind   string // EntryRX (default), EntryTX or EntryPacket
	Netns  string
	Dev    string // for EntryRX and EntryPacket
	Socket string // for EntryTX
	// AboveMTU says what a captured frame longer than Dev's MTU becomes
	// (an aggregate of a capture taken above GRO or TSO, abovemtu.go):
	// AboveMTUAccept (default) receives it as it is, AboveMTUSegment
	// cuts it into the wire frames its sender sent, AboveMTUGROHW hands a
	// TCP one over as a NIC's hardware GRO aggregate, AboveMTUDrop has the
	// NIC drop it. RX entries only.
	AboveMTU string
	// SegmentSize is the payload of each cut segment (gso_size); 0 (the
	// default) takes the MTU less the frame's IP and TCP or UDP headers,
	// as a TCP MSS is. Larger values are capped at that.
	SegmentSize int
}

// Copy returns a deep copy of c (Go programs are shared, not copied).
func (c *Config) Copy() *Config {
	n := *c
	n.Namespaces = slices.Clone(c.Namespaces)
	n.Devices = slices.Clone(c.Devices)
	for i := range n.Devices {
		n.Devices[i].Addrs = slices.Clone(c.Devices[i].Addrs)
		n.Devices[i].PeerAddrs = slices.Clone(c.Devices[i].PeerAddrs)
		n.Devices[i].SourceMACs = slices.Clone(c.Devices[i].SourceMACs)
	}
	n.Routes = slices.Clone(c.Routes)
	for i := range n.Routes {
		n.Routes[i].Nexthops = slices.Clone(c.Routes[i].Nexthops)
	}
	n.NexthopObjects = slices.Clone(c.NexthopObjects)
	for i := range n.NexthopObjects {
		n.NexthopObjects[i].Group = slices.Clone(c.NexthopObjects[i].Group)
	}
	n.Rules = slices.Clone(c.Rules)
	n.Neighbours = slices.Clone(c.Neighbours)
	n.FDB = slices.Clone(c.FDB)
	n.Sockets = slices.Clone(c.Sockets)
	for i := range n.Sockets {
		n.Sockets[i].Join = slices.Clone(c.Sockets[i].Join)
	}
	n.Taps = slices.Clone(c.Taps)
	n.Programs = slices.Clone(c.Programs)
	for i := range n.Programs {
		n.Programs[i].Actions = slices.Clone(c.Programs[i].Actions)
	}
	n.Devmaps = slices.Clone(c.Devmaps)
	for i := range n.Devmaps {
		n.Devmaps[i].Entries = slices.Clone(c.Devmaps[i].Entries)
	}
	n.Cpumaps = slices.Clone(c.Cpumaps)
	for i := range n.Cpumaps {
		n.Cpumaps[i].Entries = slices.Clone(c.Cpumaps[i].Entries)
	}
	n.Entries = slices.Clone(c.Entries)
	return &n
}

func nsName(s string) string {
	if s == "" {
		return HostNetns
	}
	return s
}

// HostNetns is the name of init_net.
const HostNetns = "host"
