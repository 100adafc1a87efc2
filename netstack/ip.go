package netstack

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/skb"
)

// ipRcv models ip_rcv -> ip_rcv_core -> ip_rcv_finish: the kernel's
// header checks and drop reasons, IPCB cleared, then the route decides
// local delivery or forwarding. Takes ownership of skb.
func (s *Stack) ipRcv(b *skb.Buff) {
	h := b.H()
	if h.PktType == skb.PacketOtherhost {
		s.drop(b, skb.DropOtherhost, OpIPRcv)
		return
	}
	// ip_rcv_core: a failed pskb_may_pull of the 20-byte header or of
	// ihl*4 bytes goes to inhdr_error (IP_INHDR, IPSTATS_MIB_INHDRERRORS);
	// PKT_TOO_SMALL is only for skb->len < tot_len.
	// The linear data is looked at first, as pskb_may_pull's inline
	// part does.
	data := b.Data()
	if len(data) < ipHlen {
		if !b.MayPull(ipHlen) {
			s.drop(b, skb.DropIPInhdr, OpIPRcv)
			return
		}
		data = b.Data()
	}
	ihl := int(data[0]&0xf) * 4
	if ihl < ipHlen || data[0]>>4 != 4 {
		s.drop(b, skb.DropIPInhdr, OpIPRcv)
		return
	}
	if len(data) < ihl {
		if !b.MayPull(ihl) {
			s.drop(b, skb.DropIPInhdr, OpIPRcv)
			return
		}
		data = b.Data()
	}
	if ipCsum(data[:ihl]) != 0 {
		s.drop(b, skb.DropIPCsum, OpIPRcv)
		return
	}
	totLen := int(binary.BigEndian.Uint16(data[2:4]))
	if b.Len() < totLen {
		s.drop(b, skb.DropPktTooSmall, OpIPRcv)
		return
	}
	if totLen < ihl {
		s.drop(b, skb.DropIPInhdr, OpIPRcv)
		return
	}
	if b.PskbTrim(totLen) != nil { // pskb_trim_rcsum: IPSTATS_MIB_INDISCARDS, drop
		s.drop(b, skb.DropNotSpecified, OpIPRcv)
		return
	}
	b.SetTransportHeader(ihl)
	clear(h.CB[:sizeofIPCB]) // memset(IPCB(skb), 0, sizeof(struct inet_skb_parm))
	binary.LittleEndian.PutUint32(h.CB[0:4], uint32(h.SkbIIF))
	b.Orphan()
	s.traceOp(LayerIP, OpIPRcv, b)
	// The header checked above, as parseIPv4 would read it (trimming does
	// not move it).
	ip := ipv4{ihl: ihl, tos: data[1], totLen: totLen, id: binary.BigEndian.Uint16(data[4:6]),
		fragOff: binary.BigEndian.Uint16(data[6:8]), ttl: data[8], proto: data[9]}
	src, dst := [4]byte(data[12:16]), [4]byte(data[16:20])
	ip.src, ip.dst = netip.AddrFrom4(src), netip.AddrFrom4(dst)
	d := s.devOf(b)
	ns := d.ns
	// ip_route_input_slow: skb_dst_drop, a collect_md tunnel's metadata
	// dst included (its key only seeds flowi4_tun_key, which rules with
	// tun_id match).
	tunID := ns.rxTunID(b)
	b.DropTunnelDst()
	if len(ns.tproxy) != 0 && !ip.isFragment() {
		s.tproxyAssign(b, ns, ip)
	}
	// A looped-back packet keeps its output route's dst: ip_rcv_finish_core
	// does no route input, so no martian or source check (rtinput.go).
	routed := d.kid == kidLoopback || h.PktType == skb.PacketLoopback
	if dst[0]&0xf0 == 0xe0 { // ipv4_is_multicast
		// ip_route_input_rcu: a group the device joined goes to
		// ip_route_input_mc (RTCF_MULTICAST, local delivery) after
		// ip_mc_validate_source; any other is -EINVAL without multicast
		// forwarding (IN_DEV_MFORWARD).
		if dst == allHostsGroup || slices.Contains(d.mcGroups, dst) {
			if !routed {
				if r := s.ipMcValidateSource(ns, d, b, src, dst, ip.proto); r != 0 {
					s.drop(b, r, OpIPRoute)
					return
				}
			}
			if ip.ihl > ipHlen && !s.ipOptions(b, ns, d, ip, false) {
				return
			}
			s.ipLocalDeliver(b, ns, ip)
			return
		}
		s.drop(b, skb.DropNotSpecified, OpIPRoute)
		return
	}
	if !routed && !(ordinary4(src) && ordinary4(dst)) {
		if r := ipRouteMartian(ns, src, dst); r != 0 {
			s.drop(b, r, OpIPRoute)
			return
		}
	}
	// RTN_LOCAL, or RTN_BROADCAST (brd_input, 0.0.0.0 to 0.0.0.0 included).
	if ns.isInput4(dst) || (src == [4]byte{} && dst == [4]byte{}) {
		// fib_validate_source_reason with oif 0 (brd_input: not for a
		// 0.0.0.0 source).
		if !routed && src != [4]byte{} {
			if r, _ := s.fibValidateSource(ns, d, b, src, dst, nil); r != 0 {
				s.drop(b, r, OpIPRoute)
				return
			}
		}
		bcast := ns.isBcast4(dst) || dst == [4]byte{}
		if ip.ihl > ipHlen && !s.ipOptions(b, ns, d, ip, !bcast) {
			return
		}
		if !bcast && (ns.dropL2Mcast4 && s.l2McastDrop(b, ns)) {
			return
		}
		s.ipLocalDeliver(b, ns, ip)
		return
	}
	if !ns.forwarding {
		// ip_route_input_slow: !IN_DEV_FORWARD -> -EHOSTUNREACH, an
		// RTN_UNREACHABLE route whose input is ip_error (after the
		// options): SKB_DROP_REASON_IP_INADDRERRORS.
		if ip.ihl > ipHlen && !s.ipOptions(b, ns, d, ip, false) || (ns.dropL2Mcast4 && s.l2McastDrop(b, ns)) {
			return
		}
		s.drop(b, skb.DropIPInAddrErrors, OpIPRoute)
		return
	}
	s.ipForward(b, ns, ip, tunID)
}

// isLocal models fib_lookup's first step, the local table (RT_TABLE_LOCAL
// is consulted before main): an address of any device of the namespace,
// the limited broadcast, the prefixes of loopback addresses (127.0.0.0/8)
// and RouteLocal routes (AnyIP) are RTN_LOCAL.
func (s *Stack) isLocal(ns *Netns, a netip.Addr) bool {
	if a.Is4() {
		return ns.isLocal4(a.As4())
	}
	return ns.isLocalSlow(a)
}

// isLocalSlow is isLocal by scanning the local prefixes and the device
// addresses (IPv6; buildLocal4 made the same answers for IPv4).
func (ns *Netns) isLocalSlow(a netip.Addr) bool {
	if a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) || a == netip.IPv6Loopback() {
		return true // the limited broadcast; ::1 (addrconf's lo address)
	}
	for _, p := range ns.local {
		if p.Contains(a) {
			return true
		}
	}
	for _, d := range ns.devs {
		if d != nil && !(d.unrouted && a.Is6()) && d.hasAddr(a) {
			return true
		}
	}
	return ns.anycast6 != nil && ns.hasAnycast6(nil, a) // RTN_ANYCAST: ip6_input
}

// addrRange is an inclusive range of IPv4 addresses in host order.
type addrRange struct{ lo, hi uint32 }

// buildLocal4 precomputes the IPv4 answers of isLocal for ns: the limited
// broadcast, every IPv4 RTN_LOCAL prefix and every IPv4 device address
// (whose RTN_LOCAL route stays while the device is down: fib_sync_down_dev
// passes over next hops of scope RT_SCOPE_NOWHERE), as sorted, merged
// ranges; those and the RTN_BROADCAST addresses for isInput4; and
// the IPv4 routes of routeOutput as masks. New computes them once, and
// SetLink again after a change.
func (ns *Netns) buildLocal4() {
	var rs []addrRange
	add := func(p netip.Prefix) {
		lo := binary.BigEndian.Uint32(p.Masked().Addr().AsSlice())
		hi := lo | uint32(uint64(1)<<(32-p.Bits())-1)
		rs = append(rs, addrRange{lo, hi})
	}
	add(netip.PrefixFrom(netip.AddrFrom4([4]byte{255, 255, 255, 255}), 32))
	for _, p := range ns.local {
		if p.Addr().Is4() {
			add(p)
		}
	}
	for _, d := range ns.devs {
		if d == nil {
			continue
		}
		for _, p := range d.addrs {
			if p.Addr().Is4() {
				add(netip.PrefixFrom(p.Addr(), 32))
			}
		}
	}
	ns.local4 = mergeRanges(slices.Clone(rs))
	var ifa []addrRange
	for _, d := range ns.devs {
		if d == nil {
			continue
		}
		for _, p := range d.addrs {
			if p.Addr().Is4() {
				a := binary.BigEndian.Uint32(p.Addr().AsSlice())
				ifa = append(ifa, addrRange{a, a})
			}
		}
	}
	ns.ifaddr4 = mergeRanges(ifa)
	// fib_add_ifaddr: an address whose prefix is shorter than /31 (and
	// not 0.0.0.0/x) adds its network's broadcast address, prefix | ~mask,
	// to the local table as RTN_BROADCAST (whatever IFA_BROADCAST says;
	// ip(8) sets none unless told "brd"), once the device is up.
	ns.bcast4 = ns.bcast4[:0]
	for _, d := range ns.devs {
		if d == nil || !d.up {
			continue
		}
		for _, p := range d.addrs {
			if !p.Addr().Is4() || p.Bits() >= 31 || p.Masked().Addr().As4() == [4]byte{} {
				continue
			}
			b := binary.BigEndian.Uint32(p.Masked().Addr().AsSlice()) | uint32(uint64(1)<<(32-p.Bits())-1)
			if !slices.Contains(ns.bcast4, b) {
				ns.bcast4 = append(ns.bcast4, b)
				rs = append(rs, addrRange{b, b})
			}
		}
	}
	ns.in4 = mergeRanges(rs)
	ns.routes4 = ns.routes4[:0]
	for i, r := range ns.routes {
		if !r.dst.Addr().Is4() {
			continue
		}
		net := binary.BigEndian.Uint32(r.dst.Masked().Addr().AsSlice())
		mask := ^uint32(uint64(1)<<(32-r.dst.Bits()) - 1)
		ns.routes4 = append(ns.routes4, route4{net: net, mask: mask, bits: int32(r.dst.Bits()), idx: int32(i), ignored: r.ignored})
	}
	// Longest prefix first, of one prefix the lowest metric, then table
	// order: the first match is the route the table scan chooses
	// (route.beats).
	slices.SortStableFunc(ns.routes4, func(x, y route4) int {
		return cmp.Or(cmp.Compare(y.bits, x.bits), cmp.Compare(ns.routes[x.idx].metric, ns.routes[y.idx].metric))
	})
}

// mergeRanges sorts rs and merges overlapping and adjacent ranges, in
// place.
func mergeRanges(rs []addrRange) []addrRange {
	slices.SortFunc(rs, func(x, y addrRange) int { return cmp.Compare(x.lo, y.lo) })
	out := rs[:0]
	for _, r := range rs {
		if n := len(out); n != 0 && uint64(r.lo) <= uint64(out[n-1].hi)+1 {
			out[n-1].hi = max(out[n-1].hi, r.hi)
			continue
		}
		out = append(out, r)
	}
	return slices.Clip(out)
}

// route4 is an IPv4 route of the main table as a mask test; idx is its
// index in Netns.routes.
type route4 struct {
	net, mask uint32
	bits, idx int32
	ignored   bool // the route's (route.ignored)
}

// isLocal4 is isLocal for an IPv4 address: a binary search of the ranges
// buildLocal4 made.
func (ns *Netns) isLocal4(a4 [4]byte) bool { return inRanges(ns.local4, a4) }

// isInput4 reports whether ip_route_input delivers a packet to a4 locally:
// an RTN_LOCAL or an RTN_BROADCAST address (brd_input).
func (ns *Netns) isInput4(a4 [4]byte) bool { return inRanges(ns.in4, a4) }

// inRanges is a binary search of sorted, disjoint ranges.
func inRanges(rs []addrRange, a4 [4]byte) bool {
	a := binary.BigEndian.Uint32(a4[:])
	i, j := 0, len(rs)
	for i < j {
		h := int(uint(i+j) >> 1)
		if rs[h].hi < a {
			i = h + 1
		} else {
			j = h
		}
	}
	return i < len(rs) && rs[i].lo <= a
}

// allHostsGroup is IGMP_ALL_HOSTS, 224.0.0.1, which ip_mc_up joins on
// every device that comes up; sockets join others (SocketConfig.Join).
var allHostsGroup = [4]byte{224, 0, 0, 1}

// isBcastMcast4 reports whether a datagram to a4 takes
// __udp4_lib_mcast_deliver: a broadcast (isBcast4) or multicast address.
func (ns *Netns) isBcastMcast4(a4 [4]byte) bool { return a4[0]&0xf0 == 0xe0 || ns.isBcast4(a4) }

// isBcastMcastIn4 is isBcastMcast4 for a packet the host received: a
// 0.0.0.0 destination arrives only from 0.0.0.0, which brd_input routes
// as RTCF_BROADCAST.
func (ns *Netns) isBcastMcastIn4(a4 [4]byte) bool {
	return a4 == [4]byte{} || ns.isBcastMcast4(a4)
}

// isBcast4 reports whether a4 is RTN_BROADCAST in ns: the limited
// broadcast 255.255.255.255 (ip_route_input_slow's ipv4_is_lbcast) or a
// network broadcast address of one of the namespace's IPv4 addresses
// (buildLocal4). Such a destination is delivered locally with
// RTCF_BROADCAST, wherever the packet came in.
func (ns *Netns) isBcast4(a4 [4]byte) bool {
	a := binary.BigEndian.Uint32(a4[:])
	return a == 0xffffffff || slices.Contains(ns.bcast4, a)
}

// tproxyAssign models the mangle PREROUTING TPROXY rules of ns
// (tproxy_tg4): the first rule of the packet's protocol takes it; its
// transparent socket is assigned (nf_tproxy_assign_sock: skb->sk,
// destructor sock_edemux), or, when the header is truncated, nothing is
// (the model's ip_rcv_core already checked it). A rule whose socket is not
// transparent would NF_DROP; the model only makes rules for transparent
// sockets.
func (s *Stack) tproxyAssign(b *skb.Buff, ns *Netns, ip ipv4) {
	proto := ProtoUDP
	switch ip.proto {
	case ipprotoUDP:
	case ipprotoTCP:
		proto = ProtoTCP
	default:
		return
	}
	if b.Len() < ip.ihl+4 {
		return
	}
	for _, sk := range ns.tproxy {
		if sk.proto == proto {
			b.SetOwner(sk, sockEdemux)
			return
		}
	}
}

// sockEdemux models sock_edemux, the destructor of an early-demuxed or
// TPROXY-assigned skb: it only drops the socket reference.
func sockEdemux(*skb.Buff) {}

// stealSock models skb_steal_sock(): a socket prefetched by TPROXY is
// taken from the skb (skb->sk = NULL, no destructor run). Returns nil when
// the skb carries none.
func stealSock(b *skb.Buff) *Socket {
	sk, ok := b.Sk().(*Socket)
	if !ok {
		return nil
	}
	b.Orphan() // sock_edemux does nothing the model tracks
	return sk
}

// routeOutput models fib_lookup for output (ip_route_output_key_hash_rcu,
// ip6_route_output) of a packet the host sends to dst with no source
// chosen yet and mark 0: local addresses go to lo, the rest to the main
// table's longest matching prefix, or the policy rules' answer
// (routeOutputFlow). Returns the device and next hop, or nil.
func (s *Stack) routeOutput(ns *Netns, dst netip.Addr) (*Device, netip.Addr) {
	return s.routeOutputFlow(ns, &flow{dst: dst})
}

// routeOutputFlow is routeOutput for a sender that states more of its
// flow: its source address (a bound socket, or an answer's source; the
// zero Addr for none), its mark (SO_MARK, or IP4_REPLY_MARK and
// IP6_REPLY_MARK for the stack's answers), protocol and ports, which
// policy rules match with flowi_iif LOOPBACK_IFINDEX.
func (s *Stack) routeOutputFlow(ns *Netns, fl *flow) (*Device, netip.Addr) {
	return s.routeOutputSkb(ns, fl, nil)
}

// routeOutputSkb is routeOutputFlow with the skb ip_route_output_key_hash
// takes (pk; nil for none): icmp_route_lookup passes the packet an ICMP
// error answers, whose header a multipath route's hash then reads
// (fib_select_path). A multipath route's path is picked by fl's hash
// otherwise, with fl's source as the lookup has it.
func (s *Stack) routeOutputSkb(ns *Netns, fl *flow, pk *mpPacket) (*Device, netip.Addr) {
	out, nh, _ := s.routeOutputPath(ns, fl, pk)
	return out, nh
}

// routeOutputPath is routeOutputSkb with the MTU the route's packets
// leave by: dst_mtu (ipv4_mtu, ip6_mtu), its RTAX_MTU metric or its
// device's MTU, lo's for a local destination. __ip_append_data and
// __ip6_append_data build a datagram to it, ip_finish_output
// (ip_skb_dst_mtu) and ip6_finish_output fragment to it, tcp_sync_mss
// takes the MSS from it, and an ICMP error fits it (__icmp_send's room).
func (s *Stack) routeOutputPath(ns *Netns, fl *flow, pk *mpPacket) (*Device, netip.Addr, int) {
	dst := fl.dst
	if s.isLocal(ns, dst) {
		return ns.lo, dst, ipMTUClamp(dst, ns.lo.mtu)
	}
	var r *route
	if !ns.hasRules(dst) {
		r = ns.mainRoute(dst)
	} else {
		fl.iif = loIfindex
		if !fl.src.IsValid() || fl.src.Is4() != dst.Is4() {
			fl.src = unspecifiedOf(dst)
		}
		r = ns.ruleLookup(fl)
	}
	if r != nil && r.paths != nil {
		r = s.multipath(ns, r, pk, fl, false)
	}
	out, nh := nextHop(r, dst)
	if out == nil {
		return nil, nh, 0
	}
	fl.prefsrc = r.prefsrc
	return out, nh, ipMTUClamp(dst, r.mtuOf())
}

// ipMTUClamp is ipv4_mtu's min_t(mtu, IP_MAX_MTU) for an IPv4 route's
// MTU (lo's 65536 is 65535); ip6_mtu has none.
func ipMTUClamp(dst netip.Addr, mtu int) int {
	if dst.Is4() {
		return min(mtu, 0xffff)
	}
	return mtu
}

// sockFlow is the flow of a datagram or segment socket sk sends to dst
// (pkt from its IP header, l4 the offset of its L4 header): the bound
// address, SO_MARK, the socket's protocol, its port and the destination
// port (ip_route_connect, udp_sendmsg's flowi4_init_output), sk_uid, and the
// packet's TOS or traffic class as the socket's IP_TOS or IPV6_TCLASS
// (the model's sockets send the captured header).
func sockFlow(sk *Socket, dst netip.Addr, pkt []byte, l4 int) flow {
	fl := flow{dst: dst, src: sk.addr, mark: sk.mark, proto: sk.l4, sport: sk.port, dscp: dsField(pkt, dst), uid: sk.uid}
	if l4+4 <= len(pkt) {
		fl.dport = binary.BigEndian.Uint16(pkt[l4+2:])
	}
	return fl
}

// routeMain is routeOutput's lookup in the main table, for a destination
// that is not local: the device and next hop of mainRoute's route.
func (ns *Netns) routeMain(dst netip.Addr) (*Device, netip.Addr) {
	return nextHop(ns.mainRoute(dst), dst)
}

// nextHop is the device and next hop of route r to dst; nil for no route
// or a reject route, which refuses as no route does.
func nextHop(r *route, dst netip.Addr) (*Device, netip.Addr) {
	if r == nil || r.reject != 0 {
		return nil, netip.Addr{}
	}
	nh := dst
	if r.via.IsValid() {
		nh = r.via
	}
	return r.dev, nh
}

// dsField is the DS field less ECN of IP packet p (ip4h_dscp, or the
// traffic class of ip6_flowinfo) toward dst's family.
func dsField(p []byte, dst netip.Addr) uint8 {
	switch {
	case dst.Is4() && len(p) >= ipHlen:
		return p[1] &^ 3
	case dst.Is6() && len(p) >= 2:
		return (p[0]<<4 | p[1]>>4) &^ 3
	}
	return 0
}

// loIfindex is LOOPBACK_IFINDEX, the flowi_iif of the host's own packets.
const loIfindex = 1

// unspecifiedOf is 0.0.0.0 or :: in a's family.
func unspecifiedOf(a netip.Addr) netip.Addr {
	if a.Is4() {
		return netip.IPv4Unspecified()
	}
	return netip.IPv6Unspecified()
}

// inputRoute is ip_route_input_slow's (ip6_route_input's) lookup of a
// received packet that is not local: flowi_iif the input device, the
// skb's mark, its addresses, the tunnel key it came with (rxTunID), and
// its protocol and ports while rules select them (routeFlow). A
// multipath route's path is picked by the packet's hash
// (ip_mkroute_input, fib6_select_path).
func (s *Stack) inputRoute(ns *Netns, b *skb.Buff, in *Device, src, dst netip.Addr, tunID uint64) *route {
	var r *route
	flkeys6 := false
	if !ns.hasRules(dst) {
		r = noThrow(ns.mainRoute(dst))
	} else {
		fl := flow{src: src, dst: dst, iif: in.ifindex, mark: b.H().Mark, tunID: tunID, dscp: dsField(b.Data(), dst)}
		if ns.rulesDissect {
			flowL4(b, &fl)
			flkeys6 = dst.Is6() && fl.proto == nexthdrICMPv6 // ip6_route_input hashes ICMPv6 with the rules' keys
		}
		r = ns.ruleLookup(&fl)
	}
	if r != nil && r.paths != nil {
		r = s.multipath(ns, r, &mpPacket{b: b, p: b.Data(), paged: true}, nil, flkeys6)
	}
	return r
}

// mainRoute is the main table's longest matching route to dst, or nil.
func (ns *Netns) mainRoute(dst netip.Addr) *route {
	var best *route
	if dst.Is4() {
		// The IPv4 routes as masks, sorted longest first, then by metric
		// (buildLocal4): the first match is the loop's choice below.
		a4 := dst.As4()
		a := binary.BigEndian.Uint32(a4[:])
		for i := range ns.routes4 {
			if r := &ns.routes4[i]; a&r.mask == r.net && !r.ignored {
				return &ns.routes[r.idx]
			}
		}
		return nil
	}
	for i := range ns.routes {
		r := &ns.routes[i]
		if r.dst.Contains(dst) && !r.ignored && r.beats(best) {
			best = r
		}
	}
	return best
}

// ipForward models ip_forward(): only PACKET_HOST is forwarded, TTL <= 1
// drops, the route and MTU are checked (DF set: PKT_TOO_BIG), skb_cow
// makes the header writable with LL_RESERVED_SPACE of headroom (a cloned
// skb gets a private head: meta_len 0 before v6.19), the TTL is
// decremented, priority = rt_tos2priority(tos) (ip_forward_update_priority),
// ip_forward_finish clears the RX timestamp, then dst_output.
func (s *Stack) ipForward(b *skb.Buff, ns *Netns, ip ipv4, tunID uint64) {
	// ip_route_input_slow: the local table did not match (ipRcv asked
	// isLocal), so the main table decides, before ip_forward's checks.
	// No route, or a reject route, gives an RTN_UNREACHABLE route whose
	// input is ip_error: on a forwarding device IP_INNOROUTES for no
	// route (-ENETUNREACH: a network unreachable error), NOT_SPECIFIED
	// for a reject route's error (-EHOSTUNREACH of an unreachable route:
	// host unreachable; -EACCES of a prohibit route: administratively
	// filtered; -EINVAL of a blackhole: no error), each error subject to
	// ip_error's token bucket (ipErrorAllow) before icmp_send's limits.
	in := s.devOf(b)
	r := s.inputRoute(ns, b, in, ip.src, ip.dst, tunID)
	if (r == nil || r.dev == ns.lo || r.reject != 0) && (ip.ihl > ipHlen && !s.ipOptions(b, ns, in, ip, false) || (ns.dropL2Mcast4 && s.l2McastDrop(b, ns))) {
		return // ip_rcv_options and the L2 multicast check run before ip_error
	}
	switch {
	case r == nil || r.dev == ns.lo:
		s.ipError(b, ns, ip, icmpNetUnreach)
		s.drop(b, skb.DropIPInNoroutes, OpIPRoute)
		return
	case r.reject != 0:
		switch r.reject {
		case errEHOSTUNREACH:
			s.ipError(b, ns, ip, icmpHostUnreach)
		case errEACCES:
			s.ipError(b, ns, ip, icmpPktFiltered)
		}
		s.drop(b, skb.DropNotSpecified, OpIPRoute)
		return
	}
	out, nh := r.dev, ip.dst
	if r.via.IsValid() {
		nh = r.via
	}
	// __mkroute_input: fib_validate_source with the route's oif; a source
	// on the link of the device the packet came in on and leaves by marks
	// the redirect (IPSKB_DOREDIRECT; shared_media is 1).
	reason, onlink := s.fibValidateSource(ns, in, b, ip.src.As4(), ip.dst.As4(), out)
	if reason != 0 {
		s.drop(b, reason, OpIPRoute)
		return
	}
	if ip.ihl > ipHlen && !s.ipOptions(b, ns, in, ip, false) || (ns.dropL2Mcast4 && s.l2McastDrop(b, ns)) {
		return
	}
	redirect := onlink && out == in && ns.sendRedirects && (ns.sharedMedia || in.addrOnlink(ip.src, nh, ip.dst))
	if b.H().PktType != skb.PacketHost {
		// ip_forward: a frame that came as an L2 broadcast or multicast
		// (ip_rcv_core already dropped OTHERHOST): NOT_SPECIFIED.
		s.drop(b, skb.DropNotSpecified, OpIPForward)
		return
	}
	if b.Sk() != nil {
		// ip_forward: if (unlikely(skb->sk)) goto drop (a TPROXY-assigned
		// packet without a local route).
		s.drop(b, skb.DropNotSpecified, OpIPForward)
		return
	}
	if ip.ttl <= 1 {
		s.icmpSend(b, ns, icmpTimeExceeded, icmpExcTTL, 0, false) // too_many_hops
		s.drop(b, skb.DropIPInhdr, OpIPForward)
		return
	}
	mtu := r.mtuOf() // ip_dst_mtu_maybe_forward: the route's mtu metric first
	if b.Len() > mtu && ip.fragOff&ipDF != 0 && b.Shinfo().GSOSize == 0 {
		s.icmpSend(b, ns, icmpDestUnreach, icmpFragNeeded, uint32(mtu), false)
		s.drop(b, skb.DropPktTooBig, OpIPForward)
		return
	}
	if err := b.Cow(llReservedSpace(out)); err != nil {
		s.drop(b, skb.DropNomem, OpIPForward)
		return
	}
	data := b.Data()
	// ip_rcv_core verified the header checksum (the only caller), so the
	// incremental update is exact.
	ipDecreaseTTL(data)
	if redirect && s.cfg.Options.Replies {
		gw := nh // rt_nexthop: the IPv4 gateway, else the destination
		if !gw.Is4() {
			gw = ip.dst
		}
		s.ipRtSendRedirect(b, ns, ip.src, gw)
	}
	if !s.cfg.Options.NoFwdUpdatePriority {
		b.H().Priority = rtTos2Priority(ip.tos)
	}
	b.ClearTstamp() // ip_forward_finish
	if ip.ihl > ipHlen {
		s.ipForwardOptions(data[:ip.ihl], b.H().CB[:], ns, out, nh, r.prefsrc)
	}
	s.traceOp(LayerIP, OpIPForward, b)
	s.ipOutput(b, ns, out, nh, nil, mtu)
}

// llReservedSpace models LL_RESERVED_SPACE(dev):
// ((hard_header_len + needed_headroom) & ~(HH_DATA_MOD - 1)) + HH_DATA_MOD.
// New computes it for every device (Device.llRes).
func llReservedSpace(d *Device) int { return d.llRes }

// hardHeaderLen is dev->hard_header_len (Device.hhLen, from
// hardHeaderLenOf).
func hardHeaderLen(d *Device) int { return d.hhLen }

func hardHeaderLenOf(d *Device) int {
	switch d.kind {
	case KindGRE, KindIPIP, KindSIT, KindIP6Tnl, KindIP6GRE:
		return 0
	}
	return ethHlen
}

// neededHeadroom is dev->needed_headroom of tunnels: the encapsulation
// they push in front (plus the underlay's Ethernet header).
func neededHeadroom(d *Device) int {
	return encapLen(d) + d.headroom
}

// ipLocalDeliver models ip_local_deliver: fragments are reassembled first
// (ip_defrag), then ip_local_deliver_finish turns a delivery time into a
// receive time (skb_clear_delivery_time), pulls the IP header and calls
// the protocol handler.
//
// ip is the header ipRcv parsed.
func (s *Stack) ipLocalDeliver(b *skb.Buff, ns *Netns, ip ipv4) {
	if ip.isFragment() {
		if b = s.ipDefrag(b, ns, ip); b == nil {
			return
		}
		ip, _ = parseIPv4(b.Data())
		if s.cfg.Options.TrustReassembledCsum {
			s.trustReasmCsum(b, ip.ihl, ip.proto)
		}
	}
	s.clearDeliveryTime(b) // ip_local_deliver_finish: skb_clear_delivery_time
	b.Pull(ip.ihl)
	s.traceOp(LayerIP, OpIPLocalDeliver, b)
	switch ip.proto {
	case ipprotoUDP:
		s.udpRcv(b, ns, ip.dst, OpUDPRcv)
	case ipprotoTCP:
		s.tcpRcv(b, ns, ip.dst, OpTCPRcv)
	case ipprotoICMP:
		s.icmpRcv(b, ns, ip)
	case ipprotoGRE:
		s.greRcv(b, ns, ip)
	case ipprotoIPIP, ipprotoIPv6:
		s.ipipRcv(b, ns, ip)
	case ipprotoIGMP:
		s.igmpRcv(b, ns)
	default:
		// ip_protocol_deliver_rcu: no handler (and no raw socket).
		s.icmpSend(b, ns, icmpDestUnreach, icmpProtUnreach, 0, true)
		s.drop(b, skb.DropIPNoproto, OpIPLocalDeliver)
	}
}

// udpRcv models __udp4_lib_rcv (op OpUDPRcv) and __udp6_lib_rcv
// (OpUDP6Rcv) for a datagram to dst: the socket lookup (no socket:
// NO_SOCKET; over IPv6 a checksum of 0 is UDP_CSUM unless the socket
// takes it, Socket.noCheck6Rx), a tunnel socket's encap_rcv (vxlan_rcv /
// geneve_udp_encap_recv) before any filter, else udp_queue_rcv_one_skb:
// sk_filter_trim_cap (cgroup ingress, then the socket filter) and the
// receive queue.
func (s *Stack) udpRcv(b *skb.Buff, ns *Netns, dst netip.Addr, op Op) {
	if !b.MayPull(udpHlen) { // pskb_may_pull(skb, sizeof(struct udphdr))
		s.drop(b, skb.DropPktTooSmall, op)
		return
	}
	// udp4_csum_init / udp6_csum_init: a short datagram without checksum
	// state is checked at once (csum.go).
	if b.Len() <= checksumBreak && s.rxCsumBad(b, ipprotoUDP) {
		s.drop(b, skb.DropUDPCsum, op)
		return
	}
	_, dport, _ := l4Ports(b.Data())
	sk := stealSock(b) // inet_steal_sock
	if sk == nil && op == OpUDPRcv && ns.isBcastMcastIn4(dst.As4()) {
		s.udpBcastDeliver(b, ns, dst, dport)
		return
	}
	if sk == nil {
		sk = ns.lookup(ipprotoUDP, dst, dport)
	}
	if sk == nil {
		// No socket: udp_lib_checksum_complete before the port
		// unreachable.
		// (An IPv6 datagram without a checksum is NO_SOCKET too:
		// measured on 6.18, TestKernelICMPv6Rcv.)
		reason := skb.DropNoSocket
		switch {
		case s.rxCsumBad(b, ipprotoUDP):
			reason = skb.DropUDPCsum
		case op == OpUDPRcv:
			s.icmpSend(b, ns, icmpDestUnreach, icmpPortUnreach, 0, true)
		default:
			s.icmp6Send(b, ns, s.devOf(b), icmp6DestUnreach, icmp6PortUnreach, 0)
		}
		s.drop(b, reason, op)
		return
	}
	if op == OpUDP6Rcv && binary.BigEndian.Uint16(b.Data()[6:8]) == 0 && !sk.noCheck6Rx {
		// __udp6_lib_rcv: an IPv6 datagram without a checksum, to a
		// socket without no_check6_rx (udp6_csum_zero_error).
		s.drop(b, skb.DropUDPCsum, op)
		return
	}
	s.udpQueueRcv(b, sk, op)
}

// udpBcastDeliver models __udp4_lib_mcast_deliver for a datagram to a
// broadcast or multicast address (RTCF_BROADCAST, RTCF_MULTICAST): every
// UDP socket of ns bound to the port and to the wildcard or that address
// (__udp_is_mcast_sock; ip_mc_sf_allow lets a socket that joined no group
// have every group's, IP_MULTICAST_ALL being on by default; the
// model's sockets in their creation order, where the kernel walks its
// hash slot) gets it, the first the skb itself and each other one a
// clone; with none, the skb is freed (kfree_skb, NOT_SPECIFIED), with no
// port unreachable. Takes ownership of skb.
func (s *Stack) udpBcastDeliver(b *skb.Buff, ns *Netns, dst netip.Addr, dport uint16) {
	var first *Socket
	for _, sk := range ns.socks {
		if sk.port != dport || sk.l4 != ipprotoUDP || !sk.boundAddr(dst) {
			continue
		}
		if first == nil {
			first = sk
			continue
		}
		n, err := b.Clone()
		if err != nil {
			s.dropNoSkb(s.devOf(b), skb.DropNomem, OpUDPRcv) // sk_drops, UDP_MIB_RCVBUFERRORS
			continue
		}
		s.udpQueueRcv(n, sk, OpUDPRcv)
	}
	if first == nil {
		s.drop(b, skb.DropNotSpecified, OpUDPRcv) // UDP_MIB_IGNOREDMULTI
		return
	}
	s.udpQueueRcv(b, first, OpUDPRcv)
}

// udpQueueRcv models udp_queue_rcv_skb on the socket a datagram was
// looked up for: an IPv6 checksum of 0 the socket refuses, a tunnel
// socket's encap_rcv, an unexpected GSO skb cut into segments, else the
// filters and the receive queue. Takes ownership of skb.
func (s *Stack) udpQueueRcv(b *skb.Buff, sk *Socket, op Op) {
	s.traceOp(LayerL4, op, b)
	// udp_queue_rcv_one_skb: the checksum is completed before a tunnel's
	// encap_rcv and before a socket filter; otherwise at recvmsg (the
	// socket's read, Socket.read).
	if (len(sk.encap) != 0 || len(sk.filters) != 0) && s.rxCsumBad(b, ipprotoUDP) {
		s.drop(b, skb.DropUDPCsum, op)
		return
	}
	if len(sk.encap) != 0 {
		s.udpTunnelRcv(b, sk)
		return
	}
	if sh := b.Shinfo(); sh.GSOSize != 0 && s.prof.UDPRcvSegment &&
		((sh.GSOType&skb.GSOUDPL4 != 0 && !sk.udpGRO) || sh.GSOType&skb.GSOFraglist != 0) {
		s.udpRcvSegment(b, sk, op) // udp_queue_rcv_skb: udp_unexpected_gso
		return
	}
	if !s.skFilter(b, sk, udpHlen) {
		return
	}
	s.queueRcv(sk, b)
}

// udpRcvSegment models udp_queue_rcv_skb for a GSO skb the socket did not
// ask for (udp_unexpected_gso: SKB_GSO_UDP_L4 without UDP_GRO, which sets
// the socket's accept_udp_l4, or SKB_GSO_FRAGLIST, which only tunnel
// sockets accept; a tunnel socket's udp_allow_gso is the encap path's):
// the data is pushed back to the mac header (the network
// header when none is set), udp_rcv_segment cuts the skb with
// __skb_gso_segment(skb, NETIF_F_SG, false) and consumes it (when that
// fails: kfree_skb, NOT_SPECIFIED), and each segment, pulled to its UDP
// header, goes through udp_queue_rcv_one_skb: the cgroup and socket
// filters, then the receive queue. So the socket's programs run once per
// segment. Profiles before v5.0 (Profile.UDPRcvSegment) queue the GSO skb
// whole. Takes ownership of skb.
func (s *Stack) udpRcvSegment(b *skb.Buff, sk *Socket, op Op) {
	off := b.NetworkOffset()
	if b.MacHeaderWasSet() {
		off = b.MacOffset()
	}
	b.Push(-off)
	s.traceOp(LayerL4, OpGSOSegment, b)
	start, ok := s.skbGSOSegment(b, 0) // __skb_gso_segment(skb, NETIF_F_SG, false)
	if !ok {
		s.drop(b, skb.DropNotSpecified, op)
		return
	}
	s.consumeSkb(b)
	for i := start; i < len(s.segs); i++ {
		g := s.segs[i]
		s.segs[i] = nil
		g.Pull(g.TransportHeader() - g.Headroom()) // __skb_pull(skb, skb_transport_offset(skb))
		if s.skFilter(g, sk, udpHlen) {
			s.queueRcv(sk, g)
		}
	}
	s.segs = s.segs[:start]
}

// tcpRcv models tcp_v4_rcv (op OpTCPRcv) and tcp_v6_rcv (OpTCP6Rcv) for
// the modelled cases: the socket lookup (NO_SOCKET), tcp_filter (cgroup
// ingress and the socket filter), the connection state (tcp.go: requests,
// handshakes, sockops and LSM programs), the acknowledgment freeing the
// retransmit queue, and data queued for the application (a segment
// without payload is consumed).
func (s *Stack) tcpRcv(b *skb.Buff, ns *Netns, dst netip.Addr, op Op) {
	// tcp_v4_rcv / tcp_v6_rcv: a segment that came in a frame for another
	// host, a broadcast or a multicast is discarded (NOT_SPECIFIED).
	if b.H().PktType != skb.PacketHost {
		s.drop(b, skb.DropNotSpecified, op)
		return
	}
	// pskb_may_pull of the fixed header, then of doff*4 bytes.
	if !b.MayPull(20) || !b.MayPull(int(b.Data()[12]>>4)*4) {
		s.drop(b, skb.DropPktTooSmall, op)
		return
	}
	// skb_checksum_init: a short segment without checksum state is
	// checked at once; a longer one by tcp_checksum_complete once the
	// socket's filters ran, or with no socket (csum.go).
	if b.Len() <= checksumBreak && s.rxCsumBad(b, ipprotoTCP) {
		s.drop(b, skb.DropTCPCsum, op)
		return
	}
	data := b.Data()
	dport := binary.BigEndian.Uint16(data[2:4])
	sk, flow := s.tcpLookup(b, ns, dst, dport) // __inet_lookup_skb (tcp.go)
	if sk == nil {
		reason := skb.DropNoSocket
		if s.rxCsumBad(b, ipprotoTCP) {
			reason = skb.DropTCPCsum
		} else if s.cfg.Options.Replies && op == OpTCPRcv {
			s.tcpV4SendReset(b, ns, ipv4Of(b))
		} else if s.cfg.Options.Replies {
			s.tcpV6SendReset(b, ns, ipv6Of(b))
		}
		s.drop(b, reason, op)
		return
	}
	s.traceOp(LayerL4, op, b)
	if !s.skFilter(b, sk, int(data[12]>>4)*4) {
		return
	}
	if s.rxCsumBad(b, ipprotoTCP) {
		s.drop(b, skb.DropTCPCsum, op)
		return
	}
	data = b.Data()
	if !s.tcpStateProcess(b, sk, &flow, op) { // tcp_check_req / tcp_rcv_state_process
		return
	}
	flags := data[13]
	if flags&tcpACK != 0 && len(sk.rtx) != 0 {
		saved := s.cur
		s.cleanRtx(sk, binary.BigEndian.Uint32(data[8:12]))
		s.cur = saved
	}
	doff := int(data[12]>>4) * 4
	clear(b.H().CB[:sizeofTCPSKB]) // TCP_SKB_CB filled by tcp_v4_fill_cb
	if b.Len() <= doff {
		s.consume(b, DeliverOther, sk.idx)
		return
	}
	s.queueRcv(sk, b)
}

// skFilter models sk_filter_trim_cap(sk, skb, cap): the cgroup_skb ingress
// programs of the socket's cgroup and its ancestors, then the socket's
// filter; both run with the BPF cb area saved and zeroed
// (bpf_prog_run_save_cb). A refusal drops the skb (SOCKET_FILTER) and
// returns false; a filter returning fewer bytes than the packet trims it
// (pskb_trim to max(cap, ret)).
func (s *Stack) skFilter(b *skb.Buff, sk *Socket, cap int) bool {
	for _, pi := range s.cgroupIn {
		if !cgroupMatch(s.progs[pi].cgroup, sk.cgroup) {
			continue
		}
		if s.runSkProg(pi, carrier.HookCgroupIngress, b, sk)&1 == 0 {
			s.drop(b, skb.DropSocketFilter, OpCgroupIngress)
			return false
		}
	}
	for _, pi := range sk.filters {
		ret := s.runSkProg(pi, carrier.HookSocketFilter, b, sk)
		if ret == 0 {
			s.drop(b, skb.DropSocketFilter, OpSkFilter)
			return false
		}
		if ret > 0 && ret < b.Len() { // the return is unsigned: negative keeps all

			if b.PskbTrim(max(cap, ret)) != nil { // pskb_trim: -ENOMEM drops
				s.drop(b, skb.DropNomem, OpSkFilter)
				return false
			}
		}
	}
	return true
}

// runSkProg runs program pi at a socket filter or cgroup_skb hook
// (bpf_prog_run_save_cb: cb[] saved, zeroed for the run and restored). A
// cgroup_skb program sees the packet from its network header
// (__cgroup_bpf_run_filter_skb: __skb_push(skb, -skb_network_offset(skb))
// around the run); a socket filter from where data is.
func (s *Stack) runSkProg(pi int, h carrier.Hook, b *skb.Buff, sk *Socket) int {
	hd := b.H()
	var saved [bpfCBWords * 4]byte
	copy(saved[:], hd.CB[cbDataOff:])
	clear(hd.CB[cbDataOff : cbDataOff+len(saved)])
	push := 0
	if h != carrier.HookSocketFilter {
		if off := -b.NetworkOffset(); off > 0 && off <= b.Headroom() {
			push = off
			b.Push(off)
		}
	}
	c := s.pushCtx(pi, h, b, nil, sk.ns, sk)
	op := OpCgroupIngress
	switch h {
	case carrier.HookSocketFilter:
		op = OpSkFilter
	case carrier.HookCgroupEgress:
		op = OpCgroupEgress
	}
	s.traceOp(LayerSocket, op, b)
	ret := s.progOf(c).Run(c)
	s.progRan(c, ret)
	s.popCtx()
	if push > 0 {
		b.Pull(push)
	}
	copy(hd.CB[cbDataOff:], saved[:])
	return ret
}

// cgroupMatch reports whether a program attached to cgroup path p runs for
// a socket in cgroup c (the same cgroup or a descendant; "" is the root).
func cgroupMatch(p, c string) bool {
	if p == "" || p == "/" || p == c {
		return true
	}
	return len(c) > len(p) && c[:len(p)] == p && c[len(p)] == '/'
}

// bpfRedirectNeigh models skb_do_redirect for bpf_redirect_neigh to t
// (__bpf_redirect_neigh, data at the mac header): a device without a
// link-layer header or a multicast destination frees the skb (ENOTSUPP);
// the Ethernet header is pulled; the route to the IPv4 or IPv6
// destination with t as the output device is looked up (see below; an
// IPv4 broadcast or multicast destination is not a unicast route and
// frees the skb); then bpf_out_neigh_v4 / bpf_out_neigh_v6: skb->dev = t,
// skb_clear_tstamp, and neigh_output to the route's next hop
// (ipFinishOutput2: headroom, the neighbour's Ethernet header,
// dev_queue_xmit). Nothing is scrubbed. With the nexthop parameters
// (ri's flagNexthop) there is no route lookup: the next hop is
// ri.nh (ip_neigh_gw4 / ip_neigh_gw6), and a nh_family that is neither
// AF_INET nor AF_INET6 frees the skb. Takes ownership of skb.
func (s *Stack) bpfRedirectNeigh(b *skb.Buff, t *Device, ri *redirectInfo) {
	if !t.hasL2() || b.MacLen() <= 0 || isMulticastMAC(b.Data()[0:6]) {
		s.drop(b, skb.DropNotSpecified, OpRedirect)
		return
	}
	b.Pull(ethHlen)
	b.ResetNetworkHeader()
	proto := b.H().Protocol
	if proto != ethPIP && proto != ethPIPv6 {
		s.drop(b, skb.DropNotSpecified, OpRedirect)
		return
	}
	if ri.flags&flagNexthop != 0 {
		var nh netip.Addr
		switch ri.nhFam {
		case 4:
			nh = netip.AddrFrom16(ri.nh).Unmap()
		case 6:
			nh = netip.AddrFrom16(ri.nh)
		default:
			s.drop(b, skb.DropNotSpecified, OpRedirect)
			return
		}
		s.redirectNeighOut(b, t, nh)
		return
	}
	var dst netip.Addr
	d := b.Data()
	switch proto {
	case ethPIP:
		if len(d) < ipHlen {
			s.drop(b, skb.DropNotSpecified, OpRedirect)
			return
		}
		dst = netip.AddrFrom4([4]byte(d[16:20]))
		if t.ns.isBcastMcast4(dst.As4()) {
			s.drop(b, skb.DropNotSpecified, OpRedirect) // rt_type not RTN_UNICAST or RTN_LOCAL
			return
		}
	case ethPIPv6:
		if len(d) < ip6Hlen {
			s.drop(b, skb.DropNotSpecified, OpRedirect)
			return
		}
		dst = netip.AddrFrom16([16]byte(d[24:40]))
	}
	// The route with t as the output device (routeOif: a reject route
	// still matches). IPv4: ip_route_output_key_hash_rcu takes a failed
	// lookup with flowi4_oif set (no route through t, or a reject route)
	// as "the destination is on link". IPv6: ip6_route_output_flow gives
	// ip6_null_entry or the reject route, whose dst->error makes
	// __bpf_redirect_neigh_v6 free the skb (out_drop). Measured on 6.18
	// (TestKernelRedirectNeighRoutes).
	nh := dst
	r := t.ns.routeOif(t, dst)
	switch {
	case dst.Is6() && (r == nil || r.reject != 0):
		s.drop(b, skb.DropNotSpecified, OpRedirect)
		return
	case r != nil && r.reject == 0 && r.via.IsValid():
		nh = r.via
	}
	s.redirectNeighOut(b, t, nh)
}

// redirectNeighOut is bpf_out_neigh_v4 / bpf_out_neigh_v6 to next hop
// nh: the recursion limit, skb->dev = t, skb_clear_tstamp, neigh_output.
func (s *Stack) redirectNeighOut(b *skb.Buff, t *Device, nh netip.Addr) {
	if s.recursion > maxRecursion {
		s.drop(b, skb.DropNotSpecified, OpRedirect) // dev_xmit_recursion
		return
	}
	setDev(b, t)
	b.ClearTstamp()
	s.traceOp(LayerTC, OpRedirect, b)
	s.ipFinishOutput2(b, t.ns, t, nh)
}

// joinGroups models the sockets' IP_ADD_MEMBERSHIP (ip_mc_join_group):
// each group goes on its device (GroupJoin.Dev, or ip_mc_find_dev's route
// to the group: no route is ENODEV), where ip_route_input then delivers
// it. A group that is not IPv4 multicast is EINVAL.
func (s *Stack) joinGroups() error {
	for i, sc := range s.cfg.Sockets {
		n := s.Netns(nsName(sc.Netns))
		for _, j := range sc.Join {
			what := fmt.Sprintf("socket %d (%s): join %s", i, sc.Name, j.Group)
			if !j.Group.Is4() || j.Group.As4()[0]&0xf0 != 0xe0 {
				return cfgErr("%s: not an IPv4 multicast group", what)
			}
			var d *Device
			if j.Dev != "" {
				if d = n.dev(j.Dev); d == nil {
					return cfgErr("%s: unknown device %q in %s", what, j.Dev, n.name)
				}
			} else if d, _ = n.routeMain(j.Group); d == nil {
				return cfgErr("%s: no route to the group picks a device (ENODEV); name one", what)
			}
			if g := j.Group.As4(); !slices.Contains(d.mcGroups, g) {
				d.mcGroups = append(d.mcGroups, g)
			}
		}
	}
	return nil
}
