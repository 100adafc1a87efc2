package netstack

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"slices"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/internal/errno"
	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/skb"
)

// ErrConfig matches every configuration error New returns.
var ErrConfig = errno.New("netstack: bad configuration", errno.EINVAL)

// ErrPacket matches errors about an injected packet (bad entry, empty
// frame); the stack's own drops are reported to the observer instead.
var ErrPacket = errno.New("netstack: bad packet", errno.EINVAL)

// Env is what a stack runs on: the shard's skb allocator (which carries the
// kernel profile), its accountant, the metadata carrier and the observer.
type Env struct {
	Alloc *skb.Allocator
	// Acct defaults to Alloc.Accountant().
	Acct *kmem.Accountant
	// Carrier may be nil: map actions then see no values.
	Carrier carrier.Carrier
	// Maps are the carrier's map specs (value sizes for write actions).
	Maps []carrier.MapSpec
	// Observer defaults to NopObserver.
	Observer Observer
}

// Packet is one captured packet to inject.
type Packet struct {
	// ID is the capture index; programs see it as Ctx.PacketID.
	ID uint64
	// Frame is the packet from its Ethernet header (RX), or an Ethernet
	// frame or bare IPv4 packet whose IP packet a socket sends (TX).
	Frame []byte
	// Entry indexes Config.Entries.
	Entry int
	// Tstamp is the capture time (ns), used when Options.RxTimestamps.
	Tstamp int64
	// Hash is the NIC's RX hash (skb_set_hash L4) for RX entries; 0: none.
	Hash uint32
	// Trace enables trace events for this packet.
	Trace bool
}

// Netns is a network namespace of the model.
type Netns struct {
	name         string
	id           uint32
	forwarding   bool
	fwd6         bool           // net.ipv6.conf.all.forwarding
	noIPv6       bool           // net.ipv6.conf.all.disable_ipv6
	brNF4        bool           // net.bridge.bridge-nf-call-iptables
	brNFVlan     bool           // net.bridge.bridge-nf-filter-vlan-tagged
	brNFPPPoE    bool           // net.bridge.bridge-nf-filter-pppoe-tagged
	brNF6        bool           // net.bridge.bridge-nf-call-ip6tables
	devs         []*Device      // by ifindex
	routes       []route        // the main table (RT_TABLE_MAIN)
	tables       []fibTable     // the other tables (fibrules.go)
	rules        []fibRule      // policy rules after the local rule, by priority (fibrules.go)
	rules4       bool           // fib4_has_custom_rules
	rules6       bool           // fib6_has_custom_rules
	rulesDissect bool           // fib_rules_require_fldissect: a rule selects protocol or ports
	rulesTunID   bool           // a rule selects tun_id
	local        []netip.Prefix // the local table's RTN_LOCAL prefixes (besides device addresses)
	// rulesForGW: gateway checks walk the policy rules (gwLookup); off
	// while New makes the configuration's routes, which come before its
	// rules.
	rulesForGW bool
	local4     []addrRange // isLocal's IPv4 answers (buildLocal4)
	routes4    []route4    // routeOutput's IPv4 routes (buildLocal4)
	bcast4     []uint32    // the local table's RTN_BROADCAST addresses (buildLocal4), host order
	in4        []addrRange // local4 and bcast4: what IPv4 input delivers locally (buildLocal4)
	tproxy     []*Socket   // TPROXY rules' sockets, in rule order
	neigh      []neighEntry
	socks      []*Socket
	active     []*Socket // connecting TCP sockets (SocketConfig.Connect)
	fragDirs   *fragDirs // IPv4 and IPv6 reassembly (frag_queue.go), allocated at the first fragment
	lo         *Device
	ipID       uint16
	ip6FragID  uint32 // ipv6_select_ident's identification (a counter in the model)

	fwmarkReflect  bool       // net.ipv4.fwmark_reflect
	icmpRatelimit  uint64     // net.ipv4.icmp_ratelimit in jiffies
	icmp           *icmpState // rate limits (icmp.go), made at the first ICMP error
	icmpSk         *Socket    // the ICMP socket while it sends for this namespace (icmp.go)
	tcpSk          *Socket    // TCP's control socket while it sends a reset here (tcp.go)
	fwmarkReflect6 bool       // net.ipv6.fwmark_reflect
	icmp6Ratelimit uint64     // net.ipv6.icmp.ratelimit in jiffies
	icmp6Sk        *Socket    // the ICMPv6 socket (icmp6.go)
	tcp6Sk         *Socket    // TCP's IPv6 control socket (icmp6.go)
	ndiscSk        *Socket    // the namespace's ndisc socket (icmp6.go)

	rpFilter      uint8 // net.ipv4.conf.all.rp_filter (rtinput.go)
	srcValidMark  bool  // net.ipv4.conf.all.src_valid_mark
	acceptLocal   bool  // net.ipv4.conf.all.accept_local
	routeLocalnet bool  // net.ipv4.conf.all.route_localnet
	// ignoreLD4 and ignoreLD6 are ignore_routes_with_linkdown of
	// net.ipv4.conf.all and net.ipv6.conf.all (carrier.go).
	ignoreLD4, ignoreLD6 bool
	arpIgnore            uint8      // net.ipv4.conf.all.arp_ignore (arp.go)
	arpFilter            bool       // net.ipv4.conf.all.arp_filter
	fwdUsePMTU           bool       // net.ipv4.ip_forward_use_pmtu
	proxyARP             bool       // net.ipv4.conf.all.proxy_arp
	proxyNDP             bool       // net.ipv6.conf.all.proxy_ndp
	anycast6             []anycast6 // joined anycast addresses (anycast.go)
	pneigh               []pneighEntry
	sendRedirects        bool        // IN_DEV_TX_REDIRECTS: conf.all or the device's send_redirects
	sharedMedia          bool        // IN_DEV_SHARED_MEDIA
	customLocal4         bool        // fib_has_custom_local_routes: an IPv4 RouteLocal route
	ifaddr4              []addrRange // the devices' IPv4 addresses (inet_lookup_ifaddr_rcu), buildLocal4

	echoIgnoreAll    bool // net.ipv4.icmp_echo_ignore_all
	echoBcast        bool // net.ipv4.icmp_echo_ignore_broadcasts = 0
	errInboundIfaddr bool // net.ipv4.icmp_errors_use_inbound_ifaddr
	echo6IgnoreAll   bool // net.ipv6.icmp.echo_ignore_all
	echo6IgnoreMcast bool // net.ipv6.icmp.echo_ignore_multicast
	echo6IgnoreAcast bool // net.ipv6.icmp.echo_ignore_anycast
	acastSrcEcho     bool // net.ipv6.anycast_src_echo_reply
	dropL2Mcast4     bool // net.ipv4.conf.all.drop_unicast_in_l2_multicast
	dropL2Mcast6     bool // net.ipv6.conf.all.drop_unicast_in_l2_multicast

	multipath4, multipath6 bool   // a route of the family has paths (multipath.go)
	mpPolicy4, mpPolicy6   int    // fib_multipath_hash_policy
	mpFields4, mpFields6   uint32 // fib_multipath_hash_fields
	mpSeed                 uint32 // fib_multipath_hash_seed (0: the boot seed)
	mpUseNeigh             bool   // fib_multipath_use_neigh

	keepAddr int // net.ipv6.conf.all.keep_addr_on_down
	// promoteSec is net.ipv4.conf.all.promote_secondaries.
	promoteSec bool
}

// Name returns the namespace's name.
func (n *Netns) Name() string { return n.name }

// ID returns the namespace's number (skb.Header.Netns values).
func (n *Netns) ID() uint32 { return n.id }

// Device returns the namespace's device called name, or nil.
func (n *Netns) Device(name string) *Device { return n.dev(name) }

func (n *Netns) dev(name string) *Device {
	for _, d := range n.devs {
		if d != nil && d.name == name {
			return d
		}
	}
	return nil
}

func (n *Netns) devByIndex(i int32) *Device {
	if i <= 0 || int(i) >= len(n.devs) {
		return nil
	}
	return n.devs[i]
}

type route struct {
	dst    netip.Prefix
	dev    *Device // nil for a reject route
	via    netip.Addr
	metric uint32 // fib_priority (IPv4) or fib6_metric (IPv6)
	reject int    // a reject route's lookup error (fib_props): -EINVAL, -EHOSTUNREACH, -EACCES; 0 for unicast
	mtu    int    // the RTAX_MTU metric (0: none)
	// mtuLocked: RTAX_LOCK has RTAX_MTU (`mtu lock`).
	mtuLocked bool
	// prefsrc is RTA_PREFSRC (fib_prefsrc, fib6_prefsrc); the zero Addr
	// for none.
	prefsrc netip.Addr
	// paths are a multipath route's next hops (multipath.go; nil for one
	// path); dev and via are then the first path's.
	paths []nexthop
	// nhg: paths are the members of a nexthop group (`nhid`), which
	// nexthop_select_path_hthr picks from.
	nhg bool
	// ignored: lookups pass the route (a path: that path) over, its
	// device lacking carrier under ignore_routes_with_linkdown
	// (carrier.go), unless they ignore the link state.
	ignored bool
	// ofAddr: an address's prefix route (fib_add_ifaddr,
	// addrconf_prefix_route), or the configured route that is the same.
	ofAddr bool
}

// beats reports whether r wins over best (nil: none yet) among the
// routes that hold a destination: a longer prefix, or of one prefix a
// lower metric (fib_table_lookup's alias order, rt6_select's metric
// order). Of one prefix and metric the first wins: buildFIB keeps the
// tables' order.
func (r *route) beats(best *route) bool {
	if best == nil || r.dst.Bits() != best.dst.Bits() {
		return best == nil || r.dst.Bits() > best.dst.Bits()
	}
	return r.metric < best.metric
}

// mtuOf is the MTU a packet routed by r leaves with: the route's mtu
// metric, or its device's MTU. An IPv4 route through a gateway
// (rt_uses_gateway) whose locked metric is 0 takes at most 576
// (ip_dst_mtu_maybe_forward, ipv4_mtu: ip_mtu_locked).
func (r *route) mtuOf() int {
	if r.mtu > 0 {
		return r.mtu
	}
	if r.mtuLocked && r.via.IsValid() && r.dev.mtu > 576 && r.dst.Addr().Is4() {
		return 576
	}
	return r.dev.mtu
}

// pneighEntry is a proxy neighbour entry (struct pneigh_entry).
type pneighEntry struct {
	dev    *Device
	addr   netip.Addr
	router bool // NTF_ROUTER
}

// pneighLookup models pneigh_lookup(tbl, net, addr, dev, 0): the proxy
// entry of addr on d, if any.
func (ns *Netns) pneighLookup(d *Device, addr netip.Addr) (pneighEntry, bool) {
	for _, e := range ns.pneigh {
		if e.dev == d && e.addr == addr {
			return e, true
		}
	}
	return pneighEntry{}, false
}

type neighEntry struct {
	dev   *Device
	addr  netip.Addr
	mac   [6]byte
	valid bool // NUD_VALID
}

type fdbEntry struct {
	mac    [6]byte
	vid    uint16 // the VLAN (0 without filtering)
	port   *Device
	static bool // BR_FDB_STATIC: configured, never aged
	sticky bool // BR_FDB_STICKY: learning does not move it
}

// Device is a network device of the model.
type Device struct {
	cfg     int // index in Config.Devices (-1: created implicitly)
	name    string
	kind    string
	ns      *Netns
	ifindex int32
	mac     [6]byte
	mtu     int
	addrs   []netip.Prefix
	up      bool
	// carrier is netif_carrier_ok (carrier.go), which setCarriers derives
	// from the states; noCarrier is a NIC's or dummy's carrier set off
	// (DeviceConfig.NoCarrier, SetLink).
	carrier, noCarrier bool
	// unrouted: the device went down while the stack ran (SetLink), and
	// the IPv6 addresses it kept (keep_addr_on_down) lost their local
	// routes until it is up again.
	unrouted bool
	// keepAddr is net.ipv6.conf.DEV.keep_addr_on_down.
	keepAddr int
	// promoteSec is net.ipv4.conf.DEV.promote_secondaries.
	promoteSec bool
	// noIdev6: the device has no inet6_dev, its MTU having gone below
	// 1280 (SetMTU).
	noIdev6 bool
	igmp    igmpState // the in_device's querier state (igmp.go)

	peer   *Device
	master *Device
	// mtuByUser: a bridge's MTU was set, not derived from its ports
	// (BROPT_MTU_SET_BY_USER).
	mtuByUser bool
	// A bridge port's flags (DeviceConfig.Hairpin, Isolated, NoFlood,
	// NoLearning).
	brHairpin, brIsolated, brNoFlood, brNoLearn bool
	brNoMcast, brNoBcast                        bool
	// groupFwdMask is a bridge's or a port's group_fwd_mask
	// (DeviceConfig.GroupFwdMask).
	groupFwdMask uint16
	// brVLAN is a bridge's or a port's VLAN group, vlanFiltering a
	// bridge's BROPT_VLAN_ENABLED (brvlan.go).
	brVLAN        *brVLANs
	vlanFiltering bool
	proxyARP      bool // net.ipv4.conf.DEV.proxy_arp
	proxyNDP      bool // net.ipv6.conf.DEV.proxy_ndp
	noProxyDelay  bool // neigh proxy_delay 0
	// mcGroups are the IPv4 multicast groups sockets joined on the device
	// (besides 224.0.0.1, which every device has).
	mcGroups [][4]byte
	ports    []*Device
	fdb      []fdbEntry
	fdbIdx   fdbIndex // fdb's entries by address

	local, remote netip.Addr
	vni           uint32
	port          uint16
	linkNs        *Netns

	// lower is a macvlan's lower device and mvMode its mode; a device
	// with macvlans on it has mvPort (struct macvlan_port, its
	// rx_handler_data).
	lower   *Device
	mvMode  macvlanMode
	mvNoDst bool // MACVLAN_FLAG_NODST
	mvPort  *macvlanPort

	// nk is a netkit end's state (netkit.go); noarp is IFF_NOARP (ifb,
	// dummy, a netkit pair in l3 mode); headroom and tailroom are needed_headroom
	// and needed_tailroom beyond a tunnel's encapsulation (a netkit pair's
	// IFLA_NETKIT_HEADROOM and TAILROOM).
	nk                 *netkitEnd
	noarp              bool
	headroom, tailroom int

	xdp        []int
	xdpGeneric bool
	xdpFrags   bool // every xdp program has BPF_F_XDP_HAS_FRAGS
	tcIn, tcEg []int

	// Fixed once the stack is built: the kind as a number for the
	// datapath's dispatch (addDev), hard_header_len and
	// LL_RESERVED_SPACE (New, after the tunnels' parameters are set).
	kid   devKind
	hhLen int
	llRes int

	// neighLookup's last answer for a next hop on this device (the
	// neighbour table, peers and bridge ports are fixed once built).
	nbCached bool
	nbOK     bool
	nbMAC    [6]byte
	nbNs     *Netns
	nbAddr   netip.Addr

	gro       bool
	groList   bool    // NETIF_F_GRO_FRAGLIST
	groUDPFwd bool    // NETIF_F_GRO_UDP_FWD
	napi      groNode // the NAPI instance's GRO state
	softGSO   bool
	// gsoFraglist: the device takes SKB_GSO_FRAGLIST skbs whole
	// (NETIF_F_GSO_FRAGLIST, part of NETIF_F_GSO_SOFTWARE: veth, loopback,
	// dummy, bridge). A NIC segments them in validate_xmit_skb; so do the
	// model's tunnel devices, which model no tunnel GSO.
	gsoFraglist bool
	// fragList is NETIF_F_FRAGLIST: the device takes skbs with a
	// frag_list (DeviceConfig.TxFragList).
	fragList bool
	// noTunnelTSO: the device lacks the tunnel GSO types
	// (DeviceConfig.TunnelTSO off).
	noTunnelTSO bool
	// noTxCsum: the device lacks transmit checksum offload
	// (DeviceConfig.TxChecksum off).
	noTxCsum bool
	// udpCsum: a vxlan or geneve device writes outer UDP checksums;
	// zeroCsum6Rx: its IPv6 socket accepts a checksum of 0.
	udpCsum, zeroCsum6Rx bool
	// external: a collect_md vxlan or geneve device (DeviceConfig.External).
	external bool
	// udpCsumCfg is DeviceConfig.UDPCsum as configured ("" for each
	// family's default).
	udpCsumCfg  string
	noRxCsum    bool  // RxChecksum off
	rxVlanStrip bool  // RxVLANOffload on (NICs)
	rxHwTstamp  bool  // RxHwTstamp on (NICs)
	rxMetaOps   uint8 // the XDP RX metadata kfuncs the driver implements (1 << RxMetaKfunc)
	blackhole   bool
	rxTaps      []*tap
	txTaps      []*tap
}

// devKind is a device kind the datapath dispatches on.
type devKind uint8

const (
	kidOther devKind = iota // the tunnels
	kidNIC
	kidLoopback
	kidDummy
	kidVeth
	kidBridge
	kidMacvlan
	kidIFB
	kidNetkit
)

func kindID(kind string) devKind {
	switch kind {
	case KindNIC:
		return kidNIC
	case KindLoopback:
		return kidLoopback
	case KindDummy:
		return kidDummy
	case KindVeth:
		return kidVeth
	case KindBridge:
		return kidBridge
	case KindMacvlan:
		return kidMacvlan
	case KindIFB:
		return kidIFB
	case KindNetkit:
		return kidNetkit
	}
	return kidOther
}

// Name returns the device's name.
func (d *Device) Name() string { return d.name }

// Ifindex returns the device's ifindex in its namespace.
func (d *Device) Ifindex() int32 { return d.ifindex }

// Netns returns the device's namespace.
func (d *Device) Netns() *Netns { return d.ns }

// Kind returns the device kind.
func (d *Device) Kind() string { return d.kind }

// MAC returns the device's address (a bridge without one of its own has
// its smallest port's).
func (d *Device) MAC() [6]byte { return d.mac }

// MTU returns the device's MTU.
func (d *Device) MTU() int { return d.mtu }

// brMTUMin models br_mtu_min(): the smallest MTU of bridge d's ports,
// ETH_DATA_LEN without ports.
func (d *Device) brMTUMin() int {
	m := 0
	for _, p := range d.ports {
		if m == 0 || p.mtu < m {
			m = p.mtu
		}
	}
	return cmp.Or(m, 1500)
}

func (d *Device) hasAddr(a netip.Addr) bool {
	for _, p := range d.addrs {
		if p.Addr() == a {
			return true
		}
	}
	return false
}

func (d *Device) firstAddr() netip.Addr {
	if len(d.addrs) != 0 {
		return d.addrs[0].Addr()
	}
	return netip.Addr{}
}

// queued is an skb parked in a queue with the packet it carries.
type queued struct {
	b   *skb.Buff
	pkt uint64
}

type tap struct {
	idx     int
	ns      *Netns
	q       []queued
	hold    bool
	filters []int // socket filters (ProgramConfig.Tap)
}

type progEntry struct {
	cfg      int
	hook     carrier.Hook
	prog     Program
	count    uint64
	cgroup   string
	event    string
	devBound bool // ProgramConfig.DevBound
}

type entry struct {
	rx     bool
	packet bool // EntryPacket: dev sends the frame
	dev    *Device
	sock   *Socket
	above  uint8 // what a frame above dev's MTU becomes (abovemtu.go)
	// noLink: dev takes no frame in, being down or (rx) without carrier
	// (setEntryLinks).
	noLink  bool
	segSize int
}

// Stack is one instantiated Config. It is not safe for concurrent use.
type Stack struct {
	cfg  *Config
	a    *skb.Allocator
	prof *skb.Profile
	acct *kmem.Accountant
	car  carrier.Carrier
	obs  Observer

	mapSizes []int
	nss      []*Netns
	devs     []*Device
	socks    []*Socket
	taps     []*tap
	progs    []progEntry
	cgroupIn []int
	cgroupEg []int
	tpKfree  []int
	tpConsum []int
	// listPkt is the packet each skb on a frag_list (of a reassembled
	// datagram or a GRO aggregate) came with, for the tracepoints that
	// fire when it is freed (listFree); kept only with tracepoint programs.
	listPkt map[*skb.Buff]uint64
	// udpEncapKey is the udp_encap_needed_key static branch: on once a UDP
	// tunnel socket or a UDP_GRO socket exists (udp_tunnel_encap_enable).
	// Until then udp4_gro_receive and udp6_gro_receive look up no socket.
	udpEncapKey bool
	// taskFrags are the tasks' page_frags (task_frag), by task name; a
	// socket without a task has one of its own under "socket NAME".
	// pfrags lists every page_frag once, in creation order, for Close.
	taskFrags map[string]*skb.PageFrag
	pfrags    []*skb.PageFrag
	entries   []entry
	// mdDst is the CPU's md_dst that bpf_skb_set_tunnel_key points skbs
	// at (one per stack, as the stack is one CPU).
	mdDst *skb.MetadataDst

	// tcp is the TCP connection state and the sockops/LSM programs (tcp.go).
	tcp tcpTable

	backlog   []queued
	mvBcQ     []macvlanBcItem // the macvlan ports' broadcast queues (bc_queue), in queueing order
	ifbQ      []ifbItem       // the ifb devices' queues (ifb_q_private rq), in queueing order
	blHead    int             // backlog entries already processed
	cpumaps   []*cpumap
	devmaps   []*devmap
	xdpEgress int32        // the egress_ifindex of the devmap program about to run
	cpuFlush  []*cpuEntry  // entries whose bulk queue has frames (the per-CPU flush list)
	cpuWake   []*cpuEntry  // kthreads woken (DrainBulk)
	cpuWork   int          // items the kthreads took in this drain
	ri        redirectInfo // the per-CPU bpf_redirect_info
	ctxs      [maxCtxDepth]Ctx
	depth     int
	recursion int
	// mirredNest is act_mirred's per-CPU mirred_nest_level.
	mirredNest int
	cur        uint64
	trace      bool
	closed     bool
	// fibBuilt: New built the tables once; rebuilds follow events.
	fibBuilt bool
	// gwCheckRoute is the configured route AddRoute adds, whose gateway
	// a rebuild checks (-1: none).
	gwCheckRoute int
	// addrRoutesGone are the address prefix routes `ip route del` took
	// (DelRoute), which rebuilds leave out until the device is up again
	// or an address makes the route anew (addrRouteBack).
	addrRoutesGone map[addrRouteKey]bool

	segs      []*skb.Buff
	fragList  []*skb.Buff // ip_do_fragment's fast path: the frag_list being sent
	hdrTmp    []byte      // ip6_fraglist_init's copy of the unfragmentable headers
	greBuf    []byte      // the bytes of a non-linear GRE packet whose checksum is checked
	stripBuf  []byte      // a frame whose 802.1Q tag the NIC stripped (driverRx)
	hwVlanTCI uint16      // that tag's TCI, while hwVlan
	hwVlan    bool
	// rxPkt is the packet whose frame a NIC driver's native XDP program
	// runs on (nicXDPRx), for the XDP RX metadata kfuncs (xdphints.go).
	rxPkt  *Packet
	cutBuf []byte // the wire frame rxCut builds (abovemtu.go)
	// rqQueued is set when an skb is queued to a socket and cleared when
	// readAll starts reading the sockets, which drains every readable
	// one: while it is clear no socket has anything to read.
	rqQueued bool
	stats    Stats
	now      int64    // the current packet's capture time (Packet.Tstamp): the reassembly timers' and ICMP rate limits' clock
	rnd      uint32   // get_random_u32's state for icmp_global_consume (icmp.go)
	icmpBuf  []byte   // the ICMP message icmpPush builds
	optBuf   [40]byte // the IP options an answer echoes (ipOptionsEcho)
	// fragArmed and fragDue are the earliest reassembly timer of either
	// family (frag_queue.go).
	fragArmed bool
	fragDue   int64
}

// Stats counts what the stack did.
type Stats struct {
	Injected   uint64
	Drops      uint64
	Delivered  uint64
	GROMerged  uint64 // segments GRO merged into a held skb
	GROFlushed uint64 // held skbs completed (napi_gro_complete)
	// GROAggregates are completed skbs of more than one segment, of which
	// GROFraglist were chained by fraglist GRO.
	GROAggregates uint64
	GROFraglist   uint64
	// GSOSegmented are GSO skbs cut in software (validate_xmit_skb,
	// udp_rcv_segment), of which GSOSegmentList by skb_segment_list;
	// GSOSegments the segments they became.
	GSOSegmented   uint64
	GSOSegmentList uint64
	GSOSegments    uint64
	// Linearized are skbs made linear to suit a device or program: a
	// frag_list without NETIF_F_FRAGLIST (validate_xmit_skb) and generic
	// XDP's netif_skb_check_for_xdp. XDPCopies are skbs replaced by a
	// page-pool copy for XDP (skb_pp_cow_data: veth's native XDP, generic
	// XDP for a multi-buffer program).
	Linearized uint64
	XDPCopies  uint64
	Backlog    uint64
	// GROCsumBad are packets without checksum state whose TCP or UDP
	// checksum GRO found bad (csum.go); CpumapQueued are the frames and
	// skbs that reached a cpumap's queue.
	GROCsumBad   uint64
	CpumapQueued uint64
	// Captured frames above an RX entry device's MTU (abovemtu.go):
	// RxCut were cut into RxCutFrames wire frames, RxGROHW became hardware
	// GRO aggregates, RxOversize were dropped by the NIC.
	RxCut       uint64
	RxCutFrames uint64
	RxGROHW     uint64
	RxOversize  uint64
}

// Add adds o's counters to st.
func (st *Stats) Add(o Stats) {
	st.Injected += o.Injected
	st.Drops += o.Drops
	st.Delivered += o.Delivered
	st.GROMerged += o.GROMerged
	st.GROFlushed += o.GROFlushed
	st.GROAggregates += o.GROAggregates
	st.GROFraglist += o.GROFraglist
	st.GSOSegmented += o.GSOSegmented
	st.GSOSegmentList += o.GSOSegmentList
	st.GSOSegments += o.GSOSegments
	st.Linearized += o.Linearized
	st.XDPCopies += o.XDPCopies
	st.Backlog += o.Backlog
	st.GROCsumBad += o.GROCsumBad
	st.CpumapQueued += o.CpumapQueued
	st.RxCut += o.RxCut
	st.RxCutFrames += o.RxCutFrames
	st.RxGROHW += o.RxGROHW
	st.RxOversize += o.RxOversize
}

// Stats returns the counters.
func (s *Stack) Stats() Stats { return s.stats }

// Netns returns the namespace called name ("" is host), or nil.
func (s *Stack) Netns(name string) *Netns {
	name = nsName(name)
	for _, n := range s.nss {
		if n.name == name {
			return n
		}
	}
	return nil
}

// Device returns the device called name in namespace ns, or nil.
func (s *Stack) Device(ns, name string) *Device {
	n := s.Netns(ns)
	if n == nil {
		return nil
	}
	return n.dev(name)
}

// ProgramCount returns the counter of program i (the count action).
func (s *Stack) ProgramCount(i int) uint64 {
	if i < 0 || i >= len(s.progs) {
		return 0
	}
	return s.progs[i].count
}

// New instantiates cfg on env. It validates the configuration and returns
// an error matching ErrConfig naming the offending element.
func New(cfg *Config, env Env) (*Stack, error) {
	if env.Alloc == nil {
		return nil, fmt.Errorf("netstack: nil allocator: %w", ErrConfig)
	}
	s := &Stack{cfg: cfg.Copy(), a: env.Alloc, prof: env.Alloc.Profile(), acct: env.Acct,
		car: env.Carrier, obs: env.Observer, mdDst: skb.PerCPUMetadataDst()}
	if s.acct == nil {
		s.acct = env.Alloc.Accountant()
	}
	if s.obs == nil {
		s.obs = NopObserver{}
	}
	s.ownCtxs()
	maxVal := 8
	for _, m := range env.Maps {
		s.mapSizes = append(s.mapSizes, m.ValueSize)
		maxVal = max(maxVal, m.ValueSize)
	}
	if err := s.tcp.setSize(cfg.Options.TCPConnections); err != nil {
		return nil, err
	}
	if err := s.build(maxVal); err != nil {
		return nil, err
	}
	for _, n := range s.nss {
		n.buildLocal4()
	}
	if err := s.joinGroups(); err != nil {
		return nil, err
	}
	for _, d := range s.devs {
		d.hhLen = hardHeaderLenOf(d)
		d.llRes = (d.hhLen+neededHeadroom(d))&^15 + 16
	}
	s.backlog = make([]queued, 0, 64)
	s.segs = make([]*skb.Buff, 0, 64)
	if len(s.tpKfree) != 0 || len(s.tpConsum) != 0 {
		s.listPkt = make(map[*skb.Buff]uint64)
		s.a.AddHooks(skb.Hooks{ListFree: s.listFree})
	}
	return s, nil
}

func cfgErr(format string, args ...any) error {
	return fmt.Errorf("netstack: "+format+": %w", append(args, ErrConfig)...)
}

func (s *Stack) addNetns(name string, fwd bool) *Netns {
	n := &Netns{name: name, id: uint32(len(s.nss) + 1), forwarding: fwd, devs: []*Device{nil},
		icmpRatelimit: msecsToJiffies(DefaultICMPRatelimit), icmp6Ratelimit: msecsToJiffies(DefaultICMPv6Ratelimit)}
	s.nss = append(s.nss, n)
	lo := &Device{cfg: -1, name: "lo", kind: KindLoopback, ns: n, mtu: 65536, up: true,
		addrs:       []netip.Prefix{netip.MustParsePrefix("127.0.0.1/8")},
		gsoFraglist: true, fragList: true}
	s.addDev(lo)
	n.lo = lo
	return n
}

func (s *Stack) addDev(d *Device) {
	n := d.ns
	d.ifindex = int32(len(n.devs))
	d.kid = kindID(d.kind)
	n.devs = append(n.devs, d)
	s.devs = append(s.devs, d)
	// A netkit pair in l3 mode keeps the zero address (netkit_new_link
	// calls eth_hw_addr_random in l2 mode only).
	if d.mac == ([6]byte{}) && d.kind != KindLoopback && d.kind != KindIPIP && d.kind != KindGRE && d.kind != KindSIT && d.kind != KindIP6Tnl && d.kind != KindIP6GRE &&
		(d.kind != KindNetkit || !d.noarp) {
		i := len(s.devs)
		d.mac = [6]byte{0x02, 0x5e, byte(n.id >> 8), byte(n.id), byte(i >> 8), byte(i)}
	}
	d.napi.init()
}

func (s *Stack) build(maxVal int) error {
	c := s.cfg
	s.addNetns(HostNetns, false)
	for i, nc := range c.Namespaces {
		if nc.Name == "" {
			return cfgErr("namespace %d: empty name", i)
		}
		n := s.Netns(nc.Name)
		switch {
		case n == nil:
			n = s.addNetns(nc.Name, nc.Forwarding)
		case nc.Name == HostNetns:
			n.forwarding = nc.Forwarding
		default:
			return cfgErr("namespace %q declared twice", nc.Name)
		}
		n.fwd6, n.noIPv6 = nc.IPv6Forwarding, nc.DisableIPv6
		n.brNF4, n.brNF6 = nc.BridgeNFCallIPTables, nc.BridgeNFCallIP6Tables
		n.brNFVlan = nc.BridgeNFFilterVLANTagged
		n.brNFPPPoE = nc.BridgeNFFilterPPPoETagged
		n.fwmarkReflect, n.fwmarkReflect6 = nc.FwmarkReflect, nc.IPv6FwmarkReflect
		if nc.RPFilter < 0 || nc.RPFilter > 2 {
			return cfgErr("namespace %q: rp_filter %d (want 0, 1 or 2)", nc.Name, nc.RPFilter)
		}
		n.rpFilter = uint8(nc.RPFilter)
		n.acceptLocal, n.routeLocalnet, n.srcValidMark = nc.AcceptLocal, nc.RouteLocalnet, nc.SrcValidMark
		n.ignoreLD4, n.ignoreLD6 = nc.IgnoreRoutesWithLinkdown, nc.IPv6IgnoreRoutesWithLinkdown
		if nc.ARPIgnore < 0 || nc.ARPIgnore > 8 {
			return cfgErr("namespace %q: arp_ignore %d (want 0 to 8)", nc.Name, nc.ARPIgnore)
		}
		n.arpIgnore, n.arpFilter = uint8(nc.ARPIgnore), nc.ARPFilter
		n.fwdUsePMTU, n.proxyARP, n.proxyNDP = nc.IPForwardUsePMTU, nc.ProxyARP, nc.ProxyNDP
		n.keepAddr, n.promoteSec = nc.KeepAddrOnDown, nc.PromoteSecondaries
		n.sendRedirects, n.sharedMedia = !nc.NoSendRedirects, !nc.NoSharedMedia
		n.echoIgnoreAll, n.echoBcast, n.errInboundIfaddr = nc.ICMPEchoIgnoreAll, nc.ICMPEchoAnswerBroadcasts, nc.ICMPErrorsUseInboundIfaddr
		n.echo6IgnoreAll, n.echo6IgnoreMcast = nc.ICMPv6EchoIgnoreAll, nc.ICMPv6EchoIgnoreMulticast
		n.echo6IgnoreAcast, n.acastSrcEcho = nc.ICMPv6EchoIgnoreAnycast, nc.AnycastSrcEchoReply
		n.dropL2Mcast4, n.dropL2Mcast6 = nc.DropUnicastInL2Multicast, nc.IPv6DropUnicastInL2Multicast
		if err := s.setMultipath(n, &nc); err != nil {
			return err
		}
		switch {
		case nc.ICMPv6Ratelimit < 0:
			n.icmp6Ratelimit = 0
		case nc.ICMPv6Ratelimit > 0:
			n.icmp6Ratelimit = msecsToJiffies(nc.ICMPv6Ratelimit)
		}
		switch {
		case nc.ICMPRatelimit < 0:
			n.icmpRatelimit = 0
		case nc.ICMPRatelimit > 0:
			n.icmpRatelimit = msecsToJiffies(nc.ICMPRatelimit)
		}
	}
	nsOf := s.nsOf
	// Devices first, then masters, peers and tunnels' link namespaces.
	for i := range c.Devices {
		dc := &c.Devices[i]
		what := fmt.Sprintf("device %d (%s)", i, dc.Name)
		n, err := nsOf(what, dc.Netns)
		if err != nil {
			return err
		}
		for _, f := range [...]struct{ key, v string }{{"tx_fraglist", dc.TxFragList}, {"peer_tx_fraglist", dc.PeerTxFragList},
			{"tunnel_tso", dc.TunnelTSO}, {"tx_checksum", dc.TxChecksum}, {"rx_checksum", dc.RxChecksum},
			{"rx_vlan_offload", dc.RxVLANOffload}, {"rx_hwtstamp", dc.RxHwTstamp}} {
			if f.v != "" && f.v != "on" && f.v != "off" {
				return cfgErr("%s: %s %q (want on or off)", what, f.key, f.v)
			}
		}
		if dc.RxVLANOffload == "on" && dc.Kind != KindNIC {
			return cfgErr("%s: rx_vlan_offload on a %s device (NICs only)", what, dc.Kind)
		}
		if dc.RxHwTstamp == "on" && dc.Kind != KindNIC {
			return cfgErr("%s: rx_hwtstamp on a %s device (NICs only)", what, dc.Kind)
		}
		if _, err := ParseXDPMetadataOps(dc.XDPMetadataOps); err != nil {
			return cfgErr("%s: %v", what, err)
		}
		if dc.XDPMetadataOps != "" && dc.Kind != KindNIC {
			return cfgErr("%s: xdp_metadata_ops on a %s device (NICs only)", what, dc.Kind)
		}
		if why := CarrierConfigError(dc); why != "" {
			return cfgErr("%s: %s", what, why)
		}
		if why := BridgeConfigError(dc); why != "" {
			return cfgErr("%s: %s", what, why)
		}
		if why := BridgeVLANConfigError(dc); why != "" {
			return cfgErr("%s: %s", what, why)
		}
		if dc.Kind == KindLoopback {
			// The namespace's own lo: only its qdisc, MTU and state are
			// configurable.
			if dc.Name != "lo" {
				return cfgErr("%s: the loopback device of a namespace is called lo", what)
			}
			n.lo.blackhole = dc.Qdisc == "blackhole"
			n.lo.fragList = s.fragListFeature(KindLoopback, dc.TxFragList)
			n.lo.up = !dc.Down
			if dc.MTU != 0 {
				n.lo.mtu = dc.MTU
			}
			n.lo.addrs = append(n.lo.addrs, dc.Addrs...)
			n.lo.cfg = i
			continue
		}
		if dc.Name == "" || n.dev(dc.Name) != nil {
			return cfgErr("%s: empty or duplicate name in namespace %s", what, n.name)
		}
		switch dc.Kind {
		case KindNIC, KindDummy, KindVeth, KindBridge, KindVXLAN, KindGeneve, KindGRE, KindGRETap, KindIPIP, KindSIT, KindIP6Tnl,
			KindIP6GRE, KindIP6GRETap, KindMacvlan, KindIFB, KindNetkit:
		default:
			return cfgErr("%s: unknown kind %q", what, dc.Kind)
		}
		if why := NetkitConfigError(dc, s.prof); why != "" {
			return cfgErr("%s: %s", what, why)
		}
		d := s.newDev(i, dc.Name, dc.Kind, n, dc.MAC, dc.Addrs, dc)
		d.proxyARP, d.proxyNDP, d.noProxyDelay = dc.ProxyARP, dc.ProxyNDP, dc.NoProxyDelay
		d.keepAddr, d.promoteSec = dc.KeepAddrOnDown, dc.PromoteSecondaries
		if dc.Kind == KindVeth || dc.Kind == KindNetkit {
			if dc.Peer == "" {
				return cfgErr("%s: %s without peer", what, dc.Kind)
			}
			pn, err := nsOf(what+" peer", nsName(dc.PeerNetns))
			if err != nil {
				return err
			}
			if pn.dev(dc.Peer) != nil || (pn == n && dc.Peer == dc.Name) {
				return cfgErr("%s: peer %q already exists in %s", what, dc.Peer, pn.name)
			}
			p := s.newDev(i, dc.Peer, dc.Kind, pn, dc.PeerMAC, dc.PeerAddrs, dc)
			d.peer, p.peer = p, d
			p.up = p.up && !dc.PeerDown
			if dc.PeerMTU != 0 {
				p.mtu = dc.PeerMTU
			}
			p.fragList = s.fragListFeature(dc.Kind, dc.PeerTxFragList)
			// A netkit peer has no GRO and no native XDP
			// (NetkitConfigError refused them).
			p.gro = dc.PeerGRO == "on"
			p.groList, p.groUDPFwd = dc.PeerGROList, dc.PeerUDPGROForwarding
			switch dc.PeerXDP {
			case "", "native":
			case "generic":
				p.xdpGeneric = true
			default:
				return cfgErr("%s: peer xdp mode %q (want native or generic)", what, dc.PeerXDP)
			}
			if dc.Kind == KindNetkit {
				netkitEnds(d, p, dc)
			}
		}
		switch dc.Kind {
		case KindVXLAN, KindGeneve, KindGRE, KindGRETap, KindIPIP, KindSIT, KindIP6Tnl, KindIP6GRE, KindIP6GRETap:
			ln, err := nsOf(what+" link", nsName(firstNonEmpty(dc.LinkNetns, dc.Netns)))
			if err != nil {
				return err
			}
			d.linkNs = ln
			d.local, d.remote, d.vni, d.port = dc.Local, dc.Remote, dc.VNI, dc.Port
			d.external = dc.External
			if dc.External {
				if why := ExternalConfigError(dc); why != "" {
					return cfgErr("%s: %s", what, why)
				}
			} else if why := tunnelAddrsErr(dc.Kind, d.local, d.remote); why != "" {
				return cfgErr("%s: %s", what, why)
			}
			if d.port == 0 {
				switch dc.Kind {
				case KindVXLAN:
					d.port = defaultVXLANPort
				case KindGeneve:
					d.port = defaultGenevePort
				}
			}
			if (dc.UDPCsum != "" || dc.UDP6ZeroCsumRx) && dc.Kind != KindVXLAN && dc.Kind != KindGeneve {
				return cfgErr("%s: udp_csum and udp6zerocsumrx are for vxlan and geneve devices", what)
			}
			switch dc.UDPCsum {
			case "":
				d.udpCsum = d.remote.Is6()
			case "on", "off":
				d.udpCsum = dc.UDPCsum == "on"
			default:
				return cfgErr("%s: udp_csum %q (want on or off)", what, dc.UDPCsum)
			}
			d.zeroCsum6Rx, d.udpCsumCfg = dc.UDP6ZeroCsumRx, dc.UDPCsum
		}
		if dc.External && dc.Kind != KindVXLAN && dc.Kind != KindGeneve {
			return cfgErr("%s: %s", what, ExternalConfigError(dc))
		}
		switch dc.XDP {
		case "", "native":
		case "generic":
			d.xdpGeneric = true
		default:
			return cfgErr("%s: xdp mode %q (want native or generic)", what, dc.XDP)
		}
		if dc.XDP == "native" && dc.Kind != KindNIC && dc.Kind != KindVeth {
			return cfgErr("%s: native XDP is modelled on nic and veth only", what)
		}
	}
	for i := range c.Devices {
		dc := &c.Devices[i]
		if dc.Master == "" {
			if dc.Hairpin || dc.Isolated || dc.NoFlood || dc.NoMcastFlood || dc.NoBcastFlood || dc.NoLearning {
				return cfgErr("device %d (%s): hairpin, isolated, flood, mcast_flood, bcast_flood and learning are bridge port flags", i, dc.Name)
			}
			continue
		}
		n := s.Netns(dc.Netns)
		d, br := n.dev(dc.Name), n.dev(dc.Master)
		if br == nil || br.kind != KindBridge {
			return cfgErr("device %s: master %q is not a bridge in %s", dc.Name, dc.Master, n.name)
		}
		d.master = br
		d.brHairpin, d.brIsolated, d.brNoFlood, d.brNoLearn = dc.Hairpin, dc.Isolated, dc.NoFlood, dc.NoLearning
		d.brNoMcast, d.brNoBcast = dc.NoMcastFlood, dc.NoBcastFlood
		d.groupFwdMask = dc.GroupFwdMask
		// br_add_if: list_add_rcu(&p->list, &br->port_list) puts the new
		// port first, so br_flood visits the ports newest first.
		br.ports = append([]*Device{d}, br.ports...)
	}
	for _, d := range s.devs {
		if d.kind == KindBridge {
			// br_add_if: br_mtu_auto_adjust after each port.
			d.mtuByUser = c.Devices[d.cfg].MTU != 0
			if !d.mtuByUser {
				d.mtu = d.brMTUMin()
			}
		}
	}
	s.setBridgeMACs()
	s.setBridgeVLANs()
	if err := s.buildMacvlans(); err != nil {
		return err
	}
	for _, d := range s.devs {
		// ipv6_add_dev: no inet6_dev below IPV6_MIN_MTU (mtuevent.go).
		d.noIdev6 = d.mtu < ipv6MinMTU
	}
	s.buildAnycast6()
	s.setCarriers()
	// br_features_recompute: a bridge's NETIF_F_FRAGLIST, one of
	// NETIF_F_ONE_FOR_ALL, is that of any of its ports (netdev_increment_features);
	// a bridge without ports keeps COMMON_FEATURES'. A tx_fraglist setting
	// on the bridge wins.
	for i := range c.Devices {
		dc := &c.Devices[i]
		if dc.Kind != KindBridge || dc.TxFragList != "" {
			continue
		}
		if br := s.Netns(dc.Netns).dev(dc.Name); len(br.ports) != 0 {
			br.fragList = false
			for _, p := range br.ports {
				br.fragList = br.fragList || p.fragList
			}
		}
	}
	for i, fc := range c.FDB {
		n, err := nsOf(fmt.Sprintf("fdb entry %d", i), nsName(fc.Netns))
		if err != nil {
			return err
		}
		d := n.dev(fc.Dev)
		if d == nil || d.master == nil {
			return cfgErr("fdb entry %d: %q is not a bridge port in %s", i, fc.Dev, n.name)
		}
		if isMulticastMAC(fc.MAC[:]) || fc.MAC == ([6]byte{}) {
			return cfgErr("fdb entry %d: %s is not a unicast address", i, macString(fc.MAC))
		}
		br := d.master
		if fc.VLAN >= 4095 {
			return cfgErr("fdb entry %d: vlan %d (want 0 to 4094)", i, fc.VLAN)
		}
		if br.fdbFind(fc.MAC, fc.VLAN) != nil {
			return cfgErr("fdb entry %d: %s already in %s's database", i, macString(fc.MAC), br.name)
		}
		if len(br.fdb) >= maxFDB {
			return cfgErr("fdb entry %d: more than %d entries on %s", i, maxFDB, br.name)
		}
		br.fdbAdd(fdbEntry{mac: fc.MAC, vid: fc.VLAN, port: d, static: true, sticky: fc.Sticky})
	}
	// UDP tunnel sockets (vxlan_sock / geneve_sock) in the link namespace.
	for _, d := range s.devs {
		if d.kind != KindVXLAN && d.kind != KindGeneve {
			continue
		}
		// A device's socket is of its remote's family; a collect_md one
		// opens both (vxlan_sock_add: ipv6 = VXLAN_F_IPV6 || metadata, then
		// IPv4 too).
		fams := []bool{d.remote.Is6()}
		if d.external {
			fams = []bool{true, false}
		}
		for _, v6 := range fams {
			sk := s.tunnelSocket(d, v6)
			if sk != nil && sk.encap[0].external != d.external {
				return cfgErr("device %s: port %d in %s is a %s device's, whose flags differ (EADDRINUSE: vxlan_sock_add shares a socket between devices of equal flags only)",
					d.name, d.port, d.linkNs.name, sk.encap[0].name)
			}
			if sk == nil {
				sk = &Socket{idx: -1, name: d.name + "-sock", ns: d.linkNs, proto: ProtoUDP, l4: ipprotoUDP, port: d.port, noRead: true}
				if v6 {
					sk.name = d.name + "-sock6"
				}
				s.udpEncapKey = true         // setup_udp_tunnel_sock: udp_tunnel_encap_enable
				sk.pfrag = new(skb.PageFrag) // a kernel socket's own sk_frag
				s.pfrags = append(s.pfrags, sk.pfrag)
				if v6 {
					// vxlan_socket_create / geneve_create_sock for IPv6:
					// udp_sock_create6 with ipv6_v6only = 1 on ::, and
					// use_udp6_rx_checksums off with udp6zerocsumrx
					// (udp_set_no_check6_rx).
					sk.addr, sk.v6only = netip.IPv6Unspecified(), true
					sk.noCheck6Rx = d.zeroCsum6Rx
				}
				d.linkNs.socks = append(d.linkNs.socks, sk)
			}
			sk.encap = append(sk.encap, d)
		}
	}
	if err := s.buildFIB(); err != nil {
		return err
	}
	s.fibBuilt, s.gwCheckRoute = true, -1
	for i, sc := range c.Sockets {
		n, err := nsOf(fmt.Sprintf("socket %d (%s)", i, sc.Name), nsName(sc.Netns))
		if err != nil {
			return err
		}
		if sc.Proto != ProtoUDP && sc.Proto != ProtoTCP {
			return cfgErr("socket %d (%s): protocol %q (want udp or tcp)", i, sc.Name, sc.Proto)
		}
		for _, o := range s.socks {
			if o.name == sc.Name {
				return cfgErr("socket %d: duplicate name %q", i, sc.Name)
			}
		}
		if sc.Proto == ProtoTCP && (sc.UDPGRO || sc.UDPSegment != 0) {
			// setsockopt(SOL_UDP) on a TCP socket: -ENOPROTOOPT.
			return cfgErr("socket %d (%s): UDP_GRO and UDP_SEGMENT are options of udp sockets", i, sc.Name)
		}
		if sc.UDPSegment < 0 || sc.UDPSegment > math.MaxUint16 {
			// udp_lib_setsockopt: val < 0 || val > USHRT_MAX is -EINVAL.
			return cfgErr("socket %d (%s): UDP_SEGMENT %d (want 0 to 65535)", i, sc.Name, sc.UDPSegment)
		}
		sk := &Socket{idx: i, name: sc.Name, ns: n, proto: sc.Proto, addr: sc.Addr, port: sc.Port,
			cgroup: sc.Cgroup, mark: sc.Mark, uid: sc.UID, priority: sc.Priority, rcvbuf: sc.RcvBuf, noRead: sc.NoRead, v6only: sc.V6Only,
			udpGRO: sc.UDPGRO, udpSegment: sc.UDPSegment, broadcast: sc.Broadcast, noMcLoop: sc.NoMulticastLoop}
		if sc.UDPGRO {
			s.udpEncapKey = true // UDP_GRO: udp_tunnel_encap_enable
		}
		task := sc.Task
		if task == "" {
			task = "socket " + sc.Name
		}
		if s.taskFrags == nil {
			s.taskFrags = map[string]*skb.PageFrag{}
		}
		if sk.pfrag = s.taskFrags[task]; sk.pfrag == nil {
			sk.pfrag = new(skb.PageFrag)
			s.taskFrags[task] = sk.pfrag
			s.pfrags = append(s.pfrags, sk.pfrag)
		}
		sk.l4 = ipprotoUDP
		if sc.Proto == ProtoTCP {
			sk.l4 = ipprotoTCP
		}
		if sk.rcvbuf == 0 {
			sk.rcvbuf = rmemDefault
		}
		if sc.Proto == ProtoTCP || sc.Connected {
			// sk_set_txhash: a random hash; the model derives it from the socket.
			sk.txhash = flowHash(sc.Addr, netip.IPv4Unspecified(), 0, sc.Port, uint16(i))
		}
		sk.rq = make([]queued, 0, 16)
		if err := s.tcpSocket(sk, &sc, fmt.Sprintf("socket %d (%s)", i, sc.Name)); err != nil {
			return err
		}
		n.socks = append(n.socks, sk)
		s.socks = append(s.socks, sk)
		if sc.TProxy {
			n.tproxy = append(n.tproxy, sk)
		}
	}
	for i, tc := range c.Taps {
		n, err := nsOf(fmt.Sprintf("tap %d (%s)", i, tc.Name), nsName(tc.Netns))
		if err != nil {
			return err
		}
		t := &tap{idx: i, ns: n, q: make([]queued, 0, 16), hold: tc.Hold}
		s.taps = append(s.taps, t)
		rx, tx := true, true
		switch tc.Dir {
		case TapRX:
			tx = false
		case TapTX:
			rx = false
		case "", TapBoth:
		default:
			return cfgErr("tap %d (%s): direction %q", i, tc.Name, tc.Dir)
		}
		for _, d := range n.devs {
			if d == nil || (tc.Dev != "" && d.name != tc.Dev) {
				continue
			}
			if rx {
				d.rxTaps = append(d.rxTaps, t)
			}
			if tx {
				d.txTaps = append(d.txTaps, t)
			}
		}
		if tc.Dev != "" && n.dev(tc.Dev) == nil {
			return cfgErr("tap %d (%s): unknown device %q in %s", i, tc.Name, tc.Dev, n.name)
		}
	}
	if err := s.buildCpumaps(); err != nil {
		return err
	}
	if err := s.buildDevmaps(); err != nil {
		return err
	}
	if err := s.attachPrograms(maxVal); err != nil {
		return err
	}
	if err := s.linkCpumaps(); err != nil {
		return err
	}
	if err := s.linkDevmaps(); err != nil {
		return err
	}
	for _, d := range s.devs {
		// veth_xdp_set: native XDP on one end clears NETIF_F_GSO_SOFTWARE on
		// the peer, so the peer segments GSO skbs before veth_xmit.
		if d.kind == KindVeth && d.peer != nil && len(d.peer.xdp) != 0 && !d.peer.xdpGeneric {
			d.softGSO = true
			d.gsoFraglist = false
			// The peer's frames must fit one page-pool head unless the
			// program takes multi-buffer frames.
			maxMTU := skb.PageSize - skb.XDPPacketHeadroom - skb.SizeofSharedInfo - ethHlen
			if d.peer.xdpFrags {
				maxMTU += skb.PageSize * skb.MaxSkbFrags
			}
			if d.mtu > maxMTU {
				return cfgErr("device %s: MTU %d is too large for native XDP on its peer %s (at most %d without xdp_frags: veth_xdp_set's -ERANGE)",
					d.name, d.mtu, d.peer.name, maxMTU)
			}
		}
		switch {
		case d.groList && !s.prof.GROFraglist:
			return cfgErr("device %s: gro_list (NETIF_F_GRO_FRAGLIST, rx-gro-list) needs kernel v5.6 or later, not %s", d.name, s.prof.Name)
		case d.groUDPFwd && !s.prof.GROUDPFwd:
			return cfgErr("device %s: udp_gro_forwarding (NETIF_F_GRO_UDP_FWD, rx-udp-gro-forwarding) needs kernel v5.12 or later, not %s", d.name, s.prof.Name)
		case (d.groList || d.groUDPFwd) && !d.gro:
			return cfgErr("device %s: gro_list and udp_gro_forwarding need gro on", d.name)
		}
	}
	if err := s.resolveEntries(); err != nil {
		return err
	}
	s.setEntryLinks()
	return nil
}

// nsOf returns the namespace called name, or an error about what names it.
func (s *Stack) nsOf(what, name string) (*Netns, error) {
	n := s.Netns(name)
	if n == nil {
		return nil, cfgErr("%s: unknown namespace %q", what, name)
	}
	return n, nil
}

// buildFIB builds what the configuration's addresses, nexthop objects,
// routes, rules and neighbours make of each namespace's tables, once the
// devices' states and carriers are set. SetLink runs it again after a
// device's state changes (linkevent.go).
func (s *Stack) buildFIB() error {
	c, nsOf := s.cfg, s.nsOf
	objs, err := s.nexthopObjects(c, nsOf)
	if err != nil {
		return err
	}
	var gwChecks []gwCheck
	var srcChecks []srcCheck
	if !s.fibBuilt {
		// nh_create_ipv4, nh_create_ipv6: a nexthop object's gateway is
		// checked when the object is made, not by the routes naming it.
		for k := range c.NexthopObjects {
			oc := &c.NexthopObjects[k]
			n, err := nsOf("nexthop object", nsName(oc.Netns))
			if err != nil {
				return err
			}
			if o := objs[nhKey{n, oc.ID}]; o != nil && o.dev != nil && oc.Via.IsValid() && o.dev.up {
				gwChecks = append(gwChecks, gwCheck{i: -1, obj: k + 1, id: oc.ID, n: n, dev: o.dev, gw: oc.Via, onlink: oc.Onlink})
			}
		}
	}
	for i, rc := range c.Routes {
		n, err := nsOf(fmt.Sprintf("route %d", i), nsName(rc.Netns))
		if err != nil {
			return err
		}
		nhg := false
		if rc.NHID != 0 {
			var gone bool
			if rc, nhg, gone, err = expandNHID(n, i, rc, objs); err != nil {
				return err
			}
			if gone {
				continue // its nexthops were deleted with their devices
			}
		}
		reject := rejectErr(rc.Type)
		d := n.dev(rc.Dev)
		var paths []nexthop
		if len(rc.Nexthops) > 0 {
			if paths, err = multipathOf(n, i, &rc, nhg); err != nil {
				return err
			}
			d = paths[0].dev
		}
		switch {
		case reject != 0 && (rc.Dev != "" || rc.Via.IsValid()):
			return cfgErr("route %d: a %s route has no dev or via", i, rc.Type)
		case reject == 0 && d == nil:
			return cfgErr("route %d: unknown device %q in %s", i, rc.Dev, n.name)
		}
		dst := rc.Dst
		if !dst.IsValid() {
			dst = netip.MustParsePrefix("0.0.0.0/0")
		}
		if !rc.Dst.IsValid() && (rc.Via.Is6() || (paths != nil && paths[0].via.Is6())) {
			dst = netip.MustParsePrefix("::/0") // an IPv6 default route
		}
		// An IPv4 route may have an IPv6 gateway (RTA_VIA, RFC 5549: the
		// neighbour comes from the ND table); the reverse is refused.
		if rc.Via.IsValid() && rc.Via.Is4() && !dst.Addr().Is4() {
			return cfgErr("route %d: gateway %s of another family than %s", i, rc.Via, dst)
		}
		if rc.MTU != 0 && (rc.MTU < 68 || rc.MTU > 65535 || (rc.Type != "" && rc.Type != RouteUnicast)) {
			return cfgErr("route %d: mtu %d (want 68 to 65535, on a unicast route)", i, rc.MTU)
		}
		if rc.Src.IsValid() && ((rc.Type != "" && rc.Type != RouteUnicast) || rc.Src.Is4() != dst.Addr().Is4()) {
			return cfgErr("route %d: src %s on a %s route to %s (a unicast route's, of its family)", i, rc.Src, cmp.Or(rc.Type, RouteUnicast), dst)
		}
		if rc.MTULock && rc.Type != "" && rc.Type != RouteUnicast {
			return cfgErr("route %d: mtu lock on a %s route (unicast routes only)", i, rc.Type)
		}
		// The table: main (0 too), or another one, which fib_new_table
		// makes for the route's family; local routes go to local.
		routes := &n.routes
		switch {
		case rc.Table == 0 || rc.Table == rtTableMain:
		case rc.Type == RouteLocal && rc.Table == rtTableLocal:
		case rc.Type == RouteLocal || rc.Table == rtTableLocal:
			return cfgErr("route %d: table %d for a %s route (local routes go to table local, others to main or a table of their own)", i, rc.Table, cmp.Or(rc.Type, RouteUnicast))
		default:
			t := n.table(rc.Table)
			if t == nil {
				n.tables = append(n.tables, fibTable{id: rc.Table})
				t = &n.tables[len(n.tables)-1]
			}
			if dst.Addr().Is4() {
				t.v4 = true
			} else {
				t.v6 = true
			}
			routes = &t.routes
		}
		switch rc.Type {
		case "", RouteUnicast:
			if dst.Addr().Is6() {
				for _, nh := range append([]nexthop{{route: route{dev: d}}}, paths...) {
					if nh.dev.noIdev6 {
						// ip6_route_info_create: in6_dev_get finds none.
						return cfgErr("route %d: %s has no IPv6, its MTU %d being below 1280 (ENODEV)", i, nh.dev.name, nh.dev.mtu)
					}
				}
			}
			// ip_metrics_convert: an RTAX_MTU above 65535 - 15 is that.
			r := route{dst: dst.Masked(), dev: d, via: rc.Via, metric: routeMetric(&rc, dst), mtu: min(rc.MTU, 65535-15), mtuLocked: rc.MTULock, prefsrc: rc.Src}
			if rc.Src.IsValid() && (!s.fibBuilt || i == s.gwCheckRoute) {
				srcChecks = append(srcChecks, srcCheck{i: i, n: n, dev: d, src: rc.Src, dst: dst})
			}
			if paths != nil {
				r.nhg = nhg
				if err := n.addPaths(&r, paths, i); err != nil {
					return err
				}
			}
			n.setIgnored(&r)
			// fib_check_nh_v4_gw, ip6_validate_gw, once every route is
			// in: each gateway of a next hop whose device is up; a
			// nexthop object's were checked with it. onlink is a next
			// hop's flag (rtnh_flags); an IPv6 route's (fc_flags) is
			// each of its next hops' too (ip6_route_multipath_add copies
			// the route's config), while fib_get_nhs keeps none of an
			// IPv4 route's low flags for its next hops (fc_flags & ~0xFF).
			hops := paths
			if hops == nil {
				hops = []nexthop{{route: route{dev: d, via: rc.Via}}}
			}
			for j, nh := range hops {
				if rc.NHID != 0 {
					break
				}
				onlink := rc.Onlink
				if paths != nil {
					onlink = rc.Nexthops[j].Onlink || (rc.Onlink && dst.Addr().Is6())
				}
				if onlink && !nh.via.IsValid() && dst.Addr().Is4() {
					// fib_check_nh_nongw (IPv6 takes it: fib6_nh_init).
					return cfgErr("route %d: an onlink next hop without a gateway (fib_check_nh_nongw: PERVASIVE and ONLINK can not be set)", i)
				}
				if !nh.via.IsValid() || !nh.dev.up {
					continue
				}
				gwChecks = append(gwChecks, gwCheck{i: i, n: n, table: rc.Table, dev: nh.dev, gw: nh.via, onlink: onlink})
			}
			if !r.anyLive() {
				// A device that is down has no routes: NETDEV_DOWN
				// flushes those through it (fib_sync_down_dev then
				// fib_flush; fib6_ifdown), a multipath route once all
				// its paths are dead, and none can be added then
				// (fib_check_nh: -ENETDOWN).
				continue
			}
			if err := routeClash(*routes, &r, i); err != nil {
				return err
			}
			*routes = append(*routes, r)
		case RouteLocal:
			// fib_table_insert into RT_TABLE_LOCAL, type RTN_LOCAL.
			if rc.Via.IsValid() {
				return cfgErr("route %d: a local route has no gateway", i)
			}
			if rc.Metric != 0 {
				return cfgErr("route %d: a metric on a local route is not modelled", i)
			}
			n.local = append(n.local, dst.Masked())
			if dst.Addr().Is4() {
				n.customLocal4 = true // fib_has_custom_local_routes
			}
		case RouteBlackhole, RouteUnreachable, RouteProhibit, RouteThrow:
			r := route{dst: dst.Masked(), reject: reject, metric: routeMetric(&rc, dst)}
			if err := routeClash(*routes, &r, i); err != nil {
				return err
			}
			*routes = append(*routes, r)
		default:
			return cfgErr("route %d: type %q (want unicast, local, blackhole, unreachable, prohibit or throw)", i, rc.Type)
		}
	}
	for _, n := range s.nss {
		// fib_add_ifaddr: every address is RTN_LOCAL (the address itself,
		// Device.hasAddr); its prefix gets an RTN_UNICAST connected route,
		// or on a loopback device an RTN_LOCAL one (127.0.0.0/8).
		for _, d := range n.devs {
			if d == nil {
				continue
			}
			for _, p := range d.addrs {
				if p.Addr().Is6() && d.noIdev6 {
					// inet6_addr_add: ipv6_add_dev refuses the device.
					return cfgErr("device %s: IPv6 address %s, its MTU %d being below 1280 (EINVAL)", d.name, p, d.mtu)
				}
				if p.Addr().Is4() && p.Masked().Addr().As4() == [4]byte{} {
					continue // ipv4_is_zeronet(prefix) (0.0.0.0 alone since v5.3): no prefix route
				}
				if p.Addr().Is6() && p.Bits() == 128 {
					continue // addrconf_prefix_route only for prefixes shorter than /128
				}
				if !d.up {
					// A device configured down is taken as never up, its
					// addresses added while it was down: fib_add_ifaddr's
					// prefix route waits for IFF_UP (fib_netdev_event
					// NETDEV_UP), as does addrconf's
					// (addrconf_prefix_route from addrconf_dad_completed
					// or NETDEV_UP); both addresses stay local (the IPv6
					// one as with nodad: the model runs no DAD, and a
					// tentative address of a device that is not up would
					// not be). Measured on 6.18 (TestKernelDownDeviceRoutes,
					// TestKernelDownDeviceAddrs6). An address the device had
					// when it went down is not modelled: addrconf_ifdown
					// deletes an IPv6 one (keep_addr_on_down 0).
					continue
				}
				if d.kind == KindLoopback {
					n.local = append(n.local, p.Masked())
					continue
				}
				if s.addrRoutesGone[addrRouteKey{n.name, d.name, p.Masked()}] {
					continue // deleted by ip route del (DelRoute)
				}
				r := route{dst: p.Masked(), dev: d, ofAddr: true}
				if p.Addr().Is6() {
					r.metric = ip6RtPrioAddrconf
				}
				if j := slices.IndexFunc(n.routes, func(o route) bool { return o.dst == r.dst && o.metric == r.metric }); j >= 0 {
					// The address's prefix route meets a configured one
					// of its metric. The same route (its device, no
					// gateway) is taken as the address's own, as the
					// scenario lists the kernel's routes; another one is
					// what `ip route add` after `ip addr add` answers
					// EEXIST (fib_table_insert, fib6_add_rt2node). After
					// an event (the device up, an address added) it is no
					// error: fib_magic inserts with NLM_F_APPEND and
					// addrconf_prefix_route without NLM_F_EXCL, after the
					// routes of its metric, so the configured route stays
					// the one lookups find.
					if o := &n.routes[j]; o.dev == d && !o.via.IsValid() && o.reject == 0 && o.paths == nil {
						o.ofAddr = true
						continue
					}
					if !s.fibBuilt && !n.routes[j].ofAddr {
						// Another device's address in the subnet is no
						// clash: fib_magic appends its prefix route.
						return cfgErr("device %s: address %s: a configured route to %s, not through %s alone, has its prefix route's metric %d (EEXIST)", d.name, p, r.dst, d.name, r.metric)
					}
				}
				n.setIgnored(&r)
				n.routes = append(n.routes, r)
			}
		}
	}
	if err := s.addRules(c, nsOf); err != nil {
		return err
	}
	for _, c := range srcChecks {
		if err := c.n.prefsrcCheck(&c); err != nil {
			return err
		}
	}
	for _, g := range gwChecks {
		g.n.rulesForGW = s.fibBuilt
		// A route's gateway is checked when the route is made: by New,
		// or by AddRoute (gwCheckRoute); a route whose gateway's link
		// went later stays (fib_del_ifaddr does not recheck it).
		if s.fibBuilt && g.i != s.gwCheckRoute {
			continue
		}
		switch {
		case g.gw.Is6():
			if err := g.n.gw6Check(&g); err != nil {
				return err
			}
		case g.onlink && !g.n.onlinkGW(g.gw):
			return cfgErr("%s: onlink gateway %s is not a unicast address (fib_check_nh_v4_gw)", g.what(), g.gw)
		case !g.onlink && !g.n.gwOnLink(g.table, g.dev, g.gw):
			return fmt.Errorf("netstack: %s: gateway %s is on no link of %s: %w: %w", g.what(), g.gw, g.dev.name, ErrGateway, ErrConfig)
		}
	}
	for i, nc := range c.Neighbours {
		n, err := nsOf(fmt.Sprintf("neighbour %d", i), nsName(nc.Netns))
		if err != nil {
			return err
		}
		d := n.dev(nc.Dev)
		if d == nil {
			return cfgErr("neighbour %d: unknown device %q in %s", i, nc.Dev, n.name)
		}
		if nc.Proxy {
			if nc.MAC != ([6]byte{}) || nc.State != "" || !nc.Addr.IsValid() {
				return cfgErr("neighbour %d: a proxy entry has an address and no mac or state", i)
			}
			if nc.Router && nc.Addr.Is4() {
				return cfgErr("neighbour %d: router is for IPv6 proxy entries", i)
			}
			n.pneigh = append(n.pneigh, pneighEntry{dev: d, addr: nc.Addr, router: nc.Router})
			continue
		}
		if nc.Router {
			return cfgErr("neighbour %d: router is for proxy entries", i)
		}
		valid := true
		switch nc.State {
		case "", NeighPermanent, NeighNoarp, NeighReachable, NeighStale, NeighDelay, NeighProbe:
		case NeighFailed, NeighIncomplete:
			valid = false
		default:
			return cfgErr("neighbour %d: state %q (want permanent, noarp, reachable, stale, delay, probe, failed or incomplete)", i, nc.State)
		}
		n.neigh = append(n.neigh, neighEntry{dev: d, addr: nc.Addr, mac: nc.MAC, valid: valid})
	}
	return nil
}

// routeMetric is the metric buildFIB gives rc to dst: its own, or for an
// IPv6 route without one IP6_RT_PRIO_USER (ip6_route_info_create).
func routeMetric(rc *RouteConfig, dst netip.Prefix) uint32 {
	if rc.Metric == 0 && dst.Addr().Is6() {
		return ip6RtPrioUser
	}
	return rc.Metric
}

// routeClash is the configuration error for route i, r, when routes (its
// table so far) hold r's prefix with r's metric: `ip route add` sets
// NLM_F_EXCL, and fib_table_insert and fib6_add_rt2node answer EEXIST.
func routeClash(routes []route, r *route, i int) error {
	if slices.ContainsFunc(routes, func(o route) bool { return o.dst == r.dst && o.metric == r.metric }) {
		return cfgErr("route %d: a route to %s with metric %d is there already (EEXIST)", i, r.dst, r.metric)
	}
	return nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (s *Stack) newDev(cfg int, name, kind string, n *Netns, mac [6]byte, addrs []netip.Prefix, dc *DeviceConfig) *Device {
	d := &Device{cfg: cfg, name: name, kind: kind, ns: n, mac: mac, mtu: dc.MTU, up: !dc.Down, noCarrier: dc.NoCarrier,
		addrs: addrs, softGSO: dc.SoftwareGSO || dc.TxChecksum == "off", noTxCsum: dc.TxChecksum == "off", noRxCsum: dc.RxChecksum == "off",
		rxVlanStrip: dc.RxVLANOffload == "on", rxHwTstamp: dc.RxHwTstamp == "on",
		blackhole: dc.Qdisc == "blackhole"}
	if kind == KindBridge {
		d.groupFwdMask = dc.GroupFwdMask // a port's is set with its master
	}
	if d.mtu == 0 {
		d.mtu = 1500
	}
	switch kind {
	case KindNIC:
		d.rxMetaOps, _ = ParseXDPMetadataOps(dc.XDPMetadataOps)
	case KindVeth:
		d.rxMetaOps = allRxMetaOps
	case KindNetkit:
		d.noarp = dc.Mode != NetkitL2 // netkit_setup's IFF_NOARP, cleared in l2 mode
	case KindIFB, KindDummy:
		d.noarp = true // ifb_setup, dummy_setup
	}
	switch dc.GRO {
	case "on":
		d.gro = true
	case "off":
	default:
		d.gro = kind != KindVeth && kind != KindNetkit
	}
	d.groList, d.groUDPFwd = dc.GROList, dc.UDPGROForwarding
	switch kind {
	case KindVeth, KindLoopback, KindDummy, KindBridge, KindNetkit:
		d.gsoFraglist = !d.softGSO // NETIF_F_GSO_SOFTWARE
	}
	d.fragList = s.fragListFeature(kind, dc.TxFragList)
	d.noTunnelTSO = dc.TunnelTSO == "off"
	s.addDev(d)
	return d
}

// fragListFeature is NETIF_F_FRAGLIST for a device of kind with the
// setting "on", "off" or "" (DeviceConfig.TxFragList, TxFragListDefault).
func (s *Stack) fragListFeature(kind, setting string) bool {
	switch setting {
	case "on":
		return true
	case "off":
		return false
	}
	return TxFragListDefault(kind, s.prof)
}

// TxFragListDefault reports whether a device of kind has NETIF_F_FRAGLIST
// (ethtool tx-scatter-gather-fraglist) when created under profile p: the
// physical NIC model has none (drivers do not offer it); veth
// (VETH_FEATURES), loopback, dummy, bridge (COMMON_FEATURES) and the IP
// and GRE tunnels (IPIP_FEATURES, SIT_FEATURES, GRE_FEATURES,
// IPXIPX_FEATURES, GRE6_FEATURES) have it; vxlan and geneve from v5.12
// (Profile.UDPTunnelFragList).
func TxFragListDefault(kind string, p *skb.Profile) bool {
	switch kind {
	case KindNIC:
		return false
	case KindVXLAN, KindGeneve:
		return p.UDPTunnelFragList
	}
	return true
}

func (s *Stack) tunnelSocket(d *Device, v6 bool) *Socket {
	for _, sk := range d.linkNs.socks {
		if sk.proto == ProtoUDP && sk.port == d.port && len(sk.encap) != 0 && sk.addr.Is6() == v6 {
			return sk
		}
	}
	return nil
}

func (s *Stack) attachPrograms(maxVal int) error {
	for i := range s.cfg.Programs {
		pc := &s.cfg.Programs[i]
		what := fmt.Sprintf("program %d (%s)", i, pc.Name)
		if pc.Hook >= carrier.NumHooks {
			return cfgErr("%s: unknown hook %d", what, pc.Hook)
		}
		if pc.XDPFrags && pc.Hook != carrier.HookXDP {
			return cfgErr("%s: xdp_frags (BPF_F_XDP_HAS_FRAGS) is for xdp programs, not %s", what, pc.Hook)
		}
		if pc.XDPFrags && !s.prof.XDPFrags {
			return cfgErr("%s: xdp_frags (BPF_F_XDP_HAS_FRAGS) needs kernel v5.18 or later, not %s", what, s.prof.Name)
		}
		if pc.Cpumap && (pc.Hook != carrier.HookXDP || pc.Dev != "" || pc.Devmap) {
			return cfgErr("%s: a cpumap program (BPF_XDP_CPUMAP) is an xdp program without a device", what)
		}
		if pc.Devmap && (pc.Hook != carrier.HookXDP || pc.Dev != "") {
			return cfgErr("%s: a devmap program (BPF_XDP_DEVMAP) is an xdp program without a device", what)
		}
		if pc.DevBound {
			if err := s.checkDevBound(pc, what); err != nil {
				return err
			}
		}
		pe := progEntry{cfg: i, hook: pc.Hook, prog: pc.Prog, cgroup: pc.Cgroup, event: pc.Event, devBound: pc.DevBound}
		n := s.Netns(pc.Netns)
		if n == nil {
			return cfgErr("%s: unknown namespace %q", what, pc.Netns)
		}
		// tn is where the program's helpers look devices up: dev_net(skb->dev),
		// which for a netkit program is the receiving end's namespace.
		tn := n
		var nkDev *Device
		if pc.Hook.Netkit() {
			var err error
			if nkDev, err = netkitAttachDev(n, pc, what); err != nil {
				return err
			}
			if pc.Hook == carrier.HookNetkitPrimary {
				tn = nkDev.peer.ns
			}
		}
		if pe.prog == nil {
			ap := &actionProg{acts: pc.Actions, targets: make([]int32, len(pc.Actions)), val: make([]byte, maxVal)}
			for j, a := range pc.Actions {
				if a.Kind >= NumActionKinds {
					return cfgErr("%s action %d: unknown kind %d", what, j, a.Kind)
				}
				switch a.Kind {
				case ActRedirect, ActRedirectPeer, ActCloneRedirect, ActMirred, ActRedirectNeigh:
					if a.Kind == ActMirred && pc.Hook != carrier.HookTCIngress && pc.Hook != carrier.HookTCEgress {
						return cfgErr("%s action %d (%s): a tc action, not available at hook %s", what, j, a.Kind, pc.Hook)
					}
					if a.Kind == ActRedirectNeigh && !pc.Hook.SchedCLS() {
						// tc_cls_act_func_proto alone offers bpf_redirect_neigh.
						return cfgErr("%s action %d (%s): a tc helper, not available at hook %s", what, j, a.Kind, pc.Hook)
					}
					t := tn.dev(a.Target)
					if t == nil {
						return cfgErr("%s action %d (%s): unknown target %q in %s", what, j, a.Kind, a.Target, tn.name)
					}
					if a.Via.IsValid() && a.Kind != ActRedirectNeigh {
						return cfgErr("%s action %d (%s): a next hop (via) is for redirect_neigh only", what, j, a.Kind)
					}
					ap.targets[j] = t.ifindex
				case ActFibForward:
					if pc.Hook != carrier.HookXDP && !pc.Hook.SchedCLS() {
						return cfgErr("%s action %d (fib_forward): bpf_fib_lookup is for xdp and tc programs, not %s", what, j, pc.Hook)
					}
					if a.Value&^uint64(FibLookupDirect|FibLookupOutput|FibLookupSkipNeigh|FibLookupMark) != 0 {
						return cfgErr("%s action %d (fib_forward): flags %#x (want direct, output, skip_neigh, mark)", what, j, a.Value)
					}
					if bad := uint32(a.Value) &^ FibLookupFlags(s.prof); bad != 0 {
						return cfgErr("%s action %d (fib_forward): %s does not exist in %s (bpf_fib_lookup would answer -EINVAL to every packet)",
							what, j, fibFlagName(bad), s.prof.Name)
					}
					if a.Index == FibNoNeighRedirect && pc.Hook == carrier.HookXDP {
						return cfgErr("%s action %d (fib_forward): bpf_redirect_neigh on NO_NEIGH is a tc helper, not for xdp programs", what, j)
					}
				case ActSetTunnelKey, ActGetTunnelKey:
					if !pc.Hook.SchedCLS() {
						return cfgErr("%s action %d (%s): bpf_skb_%s is for tc programs, not %s", what, j, a.Kind, a.Kind, pc.Hook)
					}
					if a.Kind == ActSetTunnelKey && (!a.Via.IsValid() || a.Value > 0xffffffff) {
						return cfgErr("%s action %d (set_tunnel_key): want a remote address and a 32-bit id", what, j)
					}
					if a.Kind == ActGetTunnelKey && a.Value&^TunInfoIPv6 != 0 {
						return cfgErr("%s action %d (get_tunnel_key): flags %#x (want 0 or BPF_F_TUNINFO_IPV6)", what, j, a.Value)
					}
				case ActRxMeta:
					if pc.Hook != carrier.HookXDP || a.Index < 0 || a.Index >= int(NumRxMetaKfuncs) {
						return cfgErr("%s action %d (rx_meta): kfunc %d at hook %s (the XDP RX metadata kfuncs are for xdp programs)", what, j, a.Index, pc.Hook)
					}
					if !pc.DevBound {
						return cfgErr("%s action %d (rx_meta): the verifier loads the XDP RX metadata kfuncs in device-bound programs only (\"metadata kfuncs require device-bound program\"): set DevBound", what, j)
					}
					if k := RxMetaKfunc(a.Index); !s.prof.XDPRxMetadata || (k == RxMetaVlanTag && !s.prof.XDPRxVlanTag) {
						return cfgErr("%s action %d (rx_meta): bpf_xdp_metadata_%s does not exist in %s", what, j, k, s.prof.Name)
					}
				case ActAdjustHead, ActAdjustTail:
					if pc.Hook != carrier.HookXDP {
						return cfgErr("%s action %d (%s): bpf_xdp_%s is for xdp programs, not %s", what, j, a.Kind, a.Kind, pc.Hook)
					}
				case ActVlanPush, ActVlanPop, ActChangeHead, ActAdjustRoom, ActChangeProto, ActChangeTail, ActChangeType:
					if !pc.Hook.SchedCLS() {
						return cfgErr("%s action %d (%s): bpf_skb_%s is for tc programs, not %s", what, j, a.Kind, a.Kind, pc.Hook)
					}
					if a.Kind == ActVlanPush && a.Value > 0xffff {
						return cfgErr("%s action %d (vlan_push): TCI %d does not fit 16 bits", what, j, a.Value)
					}
					if a.Kind == ActChangeType && a.Value > 0xffffffff {
						return cfgErr("%s action %d (change_type): type %d does not fit 32 bits", what, j, a.Value)
					}
					if a.Kind == ActChangeHead && a.Value > 0xffffffff {
						return cfgErr("%s action %d (change_head): head room %d does not fit 32 bits", what, j, a.Value)
					}
				case ActRedirectCPU:
					if pc.Hook != carrier.HookXDP {
						return cfgErr("%s action %d (redirect_cpu): bpf_redirect_map into a cpumap is for xdp programs, not %s", what, j, pc.Hook)
					}
					m := s.cpumapIndex(a.Target)
					if m < 0 {
						return cfgErr("%s action %d (redirect_cpu): unknown cpumap %q", what, j, a.Target)
					}
					if a.Value&^uint64(XDPAborted|XDPDrop|XDPPass|XDPTx) != 0 || a.Index < 0 {
						return cfgErr("%s action %d (redirect_cpu): cpu %d, flags %#x (want a cpu and an XDP action)", what, j, a.Index, a.Value)
					}
					ap.targets[j] = int32(m)
				case ActRedirectDevmap:
					if pc.Hook != carrier.HookXDP {
						return cfgErr("%s action %d (redirect_devmap): bpf_redirect_map into a device map is for xdp programs, not %s", what, j, pc.Hook)
					}
					m := s.devmapIndex(a.Target)
					if m < 0 {
						return cfgErr("%s action %d (redirect_devmap): unknown devmap %q", what, j, a.Target)
					}
					if a.Value&^uint64(XDPAborted|XDPDrop|XDPPass|XDPTx|FlagBroadcast|FlagExcludeIngress) != 0 || a.Index < 0 {
						return cfgErr("%s action %d (redirect_devmap): key %d, flags %#x", what, j, a.Index, a.Value)
					}
					ap.targets[j] = int32(m)
				case ActWrite, ActRead, ActDelete:
					if a.Map < 0 || (s.mapSizes != nil && a.Map >= len(s.mapSizes)) {
						return cfgErr("%s action %d (%s): unknown map %d", what, j, a.Kind, a.Map)
					}
				case ActSetCB:
					if a.Index < 0 || a.Index >= bpfCBWords {
						return cfgErr("%s action %d: cb index %d (want 0..4)", what, j, a.Index)
					}
				}
			}
			pe.prog = ap
		}
		idx := len(s.progs)
		switch pc.Hook {
		case carrier.HookXDP, carrier.HookTCIngress, carrier.HookTCEgress:
			if pc.Cpumap || pc.Devmap {
				break // run by the map entries naming it
			}
			d := n.dev(pc.Dev)
			if d == nil {
				return cfgErr("%s: unknown device %q in %s", what, pc.Dev, n.name)
			}
			switch pc.Hook {
			case carrier.HookXDP:
				d.xdpFrags = pc.XDPFrags && (len(d.xdp) == 0 || d.xdpFrags)
				d.xdp = append(d.xdp, idx)
			case carrier.HookTCIngress:
				d.tcIn = append(d.tcIn, idx)
			default:
				d.tcEg = append(d.tcEg, idx)
			}
		case carrier.HookNetkitPrimary:
			nkDev.nk.progs = append(nkDev.nk.progs, idx)
		case carrier.HookNetkitPeer:
			nkDev.peer.nk.progs = append(nkDev.peer.nk.progs, idx)
		case carrier.HookCgroupIngress:
			s.cgroupIn = append(s.cgroupIn, idx)
		case carrier.HookCgroupEgress:
			s.cgroupEg = append(s.cgroupEg, idx)
		case carrier.HookSocketFilter:
			if pc.Tap != "" {
				if pc.Socket != "" {
					return cfgErr("%s: socket %q and tap %q: a filter has one", what, pc.Socket, pc.Tap)
				}
				ti := slices.IndexFunc(s.cfg.Taps, func(tc TapConfig) bool { return tc.Name == pc.Tap })
				if ti < 0 {
					return cfgErr("%s: unknown tap %q", what, pc.Tap)
				}
				if len(s.taps[ti].filters) != 0 {
					return cfgErr("%s: tap %q has a filter already (a socket has one: SO_ATTACH_BPF replaces it)", what, pc.Tap)
				}
				s.taps[ti].filters = append(s.taps[ti].filters, idx)
				break
			}
			var sk *Socket
			for _, o := range s.socks {
				if o.name == pc.Socket {
					sk = o
				}
			}
			if sk == nil {
				return cfgErr("%s: unknown socket %q", what, pc.Socket)
			}
			sk.filters = append(sk.filters, idx)
		case carrier.HookTracepoint:
			switch pc.Event {
			case "", EventKfreeSkb:
				s.tpKfree = append(s.tpKfree, idx)
			case EventConsumeSkb:
				s.tpConsum = append(s.tpConsum, idx)
			default:
				return cfgErr("%s: unknown tracepoint %q", what, pc.Event)
			}
		case carrier.HookSockOps, carrier.HookLSM:
			if err := s.tcp.attach(idx, pc, what); err != nil {
				return err
			}
		}
		s.progs = append(s.progs, pe)
	}
	return nil
}

func (s *Stack) resolveEntries() error {
	ents := s.cfg.Entries
	if len(ents) == 0 {
		var d *Device
		for _, x := range s.devs {
			if x.kind == KindNIC {
				d = x
				break
			}
		}
		if d == nil {
			for _, x := range s.devs {
				if x.kind != KindLoopback {
					d = x
					break
				}
			}
		}
		if d == nil {
			d = s.nss[0].lo
		}
		if d.kid == kidNIC && d.up && !d.carrier {
			return cfgErr("device %s, where frames enter by default, has no carrier: no frame arrives on it (name an entry)", d.name)
		}
		s.entries = []entry{{rx: true, dev: d}}
		return nil
	}
	for i, ec := range ents {
		n := s.Netns(ec.Netns)
		if n == nil {
			return cfgErr("entry %d: unknown namespace %q", i, ec.Netns)
		}
		switch ec.Kind {
		case "", EntryRX:
			d := n.dev(ec.Dev)
			if d == nil {
				return cfgErr("entry %d: unknown device %q in %s", i, ec.Dev, n.name)
			}
			if d.up && !d.carrier {
				return cfgErr("entry %d: %s has no carrier: no frame arrives on it", i, d.name)
			}
			en := entry{rx: true, dev: d, segSize: ec.SegmentSize}
			switch ec.AboveMTU {
			case "", AboveMTUAccept:
			case AboveMTUSegment:
				en.above = aboveSegment
			case AboveMTUGROHW:
				if d.kid != kidNIC && d.kid != kidVeth {
					return cfgErr("entry %d: above_mtu %s on %s device %s: hardware GRO is a NIC's (or the GSO skb a veth's peer sends)", i, ec.AboveMTU, d.kind, d.name)
				}
				if len(d.xdp) != 0 && d.kid == kidNIC {
					return cfgErr("entry %d: above_mtu %s on %s with XDP: drivers refuse native XDP while hardware GRO or LRO is on, and generic XDP turns them off (dev_disable_gro_hw)", i, ec.AboveMTU, d.name)
				}
				en.above = aboveGROHW
			case AboveMTUDrop:
				en.above = aboveDrop
			default:
				return cfgErr("entry %d: above_mtu %q (want %s, %s, %s or %s)", i, ec.AboveMTU, AboveMTUAccept, AboveMTUSegment, AboveMTUGROHW, AboveMTUDrop)
			}
			if ec.SegmentSize < 0 || ec.SegmentSize > 65535 {
				return cfgErr("entry %d: segment_size %d out of range [0, 65535]", i, ec.SegmentSize)
			}
			s.entries = append(s.entries, en)
		case EntryPacket:
			d := n.dev(ec.Dev)
			if d == nil {
				return cfgErr("entry %d: unknown device %q in %s", i, ec.Dev, n.name)
			}
			if ec.AboveMTU != "" || ec.SegmentSize != 0 {
				return cfgErr("entry %d: above_mtu and segment_size are for rx entries", i)
			}
			s.entries = append(s.entries, entry{packet: true, dev: d})
		case EntryTX:
			var sk *Socket
			for _, o := range n.socks {
				if o.name == ec.Socket && o.idx >= 0 {
					sk = o
				}
			}
			if sk == nil {
				return cfgErr("entry %d: unknown socket %q in %s", i, ec.Socket, n.name)
			}
			s.entries = append(s.entries, entry{sock: sk})
		default:
			return cfgErr("entry %d: kind %q (want rx, tx or packet)", i, ec.Kind)
		}
	}
	return nil
}

// Inject runs one captured packet synchronously to completion: through the
// entry's path, everything it causes (backlog, redirects, clones), and the
// applications reading their sockets and taps. Packets held by GRO stay
// held until Flush. Drops are reported to the observer; the returned error
// is only about the packet itself (unknown entry, unusable frame).
func (s *Stack) Inject(p *Packet) error {
	if s.closed {
		return fmt.Errorf("netstack: inject packet %d after close: %w", p.ID, ErrPacket)
	}
	if p.Entry < 0 || p.Entry >= len(s.entries) {
		return fmt.Errorf("netstack: packet %d: entry %d of %d: %w", p.ID, p.Entry, len(s.entries), ErrPacket)
	}
	s.stats.Injected++
	s.cur = p.ID
	s.now = p.Tstamp
	if s.fragArmed && s.now > s.fragDue {
		s.fragTimers() // the reassembly queue timers that fired before this packet
	}
	s.trace = p.Trace || s.cfg.Options.TraceAll
	e := &s.entries[p.Entry]
	if e.noLink {
		return fmt.Errorf("netstack: packet %d: %s: %w", p.ID, e.dev.name, ErrNoLink)
	}
	var err error
	if e.rx {
		if e.above != aboveAccept && len(p.Frame) > e.dev.mtu+ethHlen {
			err = s.rxAboveMTU(e, p)
		} else {
			err = s.driverRx(e.dev, p)
		}
	} else if e.packet {
		err = s.packetSnd(e.dev, p)
	} else {
		err = s.sockSend(e.sock, p)
	}
	s.runBacklog()
	// The kthreads this packet woke (DrainBulk), and what their skbs
	// queue in turn; a cycle through veths and cpumaps is left, after a
	// few rounds, to the end of the poll.
	for round := 0; round < maxRecursion && len(s.cpuWake) != 0; round++ {
		s.runCpumaps()
		s.runBacklog()
	}
	s.readApps()
	s.trace = false
	return err
}

// Flush ends a NAPI poll batch: the frames redirected into cpumaps go to
// their queues, which the cpumaps' kthreads drain (xdp_do_flush); every
// device's GRO list is completed and the aggregated skbs continue up the
// stack (napi_gro_flush).
func (s *Stack) Flush() {
	if len(s.cpumaps) != 0 {
		s.cpumapFlush()
	}
	for _, d := range s.devs {
		if d.napi.n != 0 {
			s.groFlush(&d.napi)
		}
	}
	s.runBacklog()
	if len(s.cpuFlush) != 0 || len(s.cpuWake) != 0 {
		// What the flushed aggregates redirected into cpumaps.
		s.cpumapFlush()
		s.runBacklog()
	}
	s.readApps()
}

// Close frees everything the stack still holds: GRO lists, backlog, socket
// and tap queues, TCP retransmit queues. The allocator's and accountant's
// leak checks pass afterwards (once the carrier is closed too).
func (s *Stack) Close() error {
	if s.closed {
		return nil
	}
	s.closeCpumaps()
	for _, d := range s.devs {
		s.groDiscard(&d.napi)
	}
	for i, it := range s.ifbQ {
		s.cur = it.pkt
		s.drop(it.b, skb.DropNotSpecified, OpClose) // ifb_dev_free: __skb_queue_purge
		s.ifbQ[i] = ifbItem{}
	}
	s.ifbQ = s.ifbQ[:0]
	for i, it := range s.mvBcQ {
		s.cur = it.pkt
		s.drop(it.b, skb.DropNotSpecified, OpClose) // macvlan_port_destroy: skb_queue_purge
		s.mvBcQ[i] = macvlanBcItem{}
	}
	s.mvBcQ = s.mvBcQ[:0]
	for _, q := range s.backlog {
		s.cur = q.pkt
		s.drop(q.b, skb.DropNotSpecified, OpClose)
	}
	s.backlog = s.backlog[:0]
	for _, n := range s.nss {
		s.closeFrags(n)
	}
	s.readAll(true)
	s.closed = true
	var errs []error
	for _, sk := range s.socks {
		if len(sk.rq) != 0 || len(sk.rtx) != 0 {
			errs = append(errs, fmt.Errorf("socket %s not drained", sk.name))
		}
	}
	for _, pf := range s.pfrags {
		s.a.PageFragRelease(pf) // the task's exit or sk_destruct: put_page(frag->page)
	}
	return errors.Join(errs...)
}

// readApps lets the applications read their sockets and taps.
func (s *Stack) readApps() { s.readAll(false) }

func (s *Stack) readAll(closing bool) {
	for _, t := range s.taps {
		if len(t.q) == 0 || t.hold && !closing {
			continue
		}
		for _, q := range t.q {
			s.cur = q.pkt
			if !closing {
				s.consume(q.b, DeliverTap, t.idx) // packet_recvmsg -> skb_free_datagram
				continue
			}
			q.b.ConsumeSkb()
		}
		clear(t.q)
		t.q = t.q[:0]
	}
	if !closing && !s.rqQueued {
		return
	}
	s.rqQueued = false
	for _, n := range s.nss {
		for _, sk := range n.socks {
			if !closing && (sk.noRead || len(sk.rq) == 0) {
				continue
			}
			sk.read(s, closing)
		}
	}
}
