package netstack

import (
	"encoding/binary"
	"net/netip"

	"github.com/skbsim/skbsim/skb"
)

// IPv4 route input checks: the martian sources and destinations
// ip_route_input_slow and ip_route_input_mc refuse, fib_validate_source's
// source checks (accept_local, rp_filter), the ICMP redirect a forwarded
// packet earns when it leaves by the device it came in on
// (IPSKB_DOREDIRECT, ip_rt_send_redirect), and ip_rcv_finish_core's
// drop_unicast_in_l2_multicast.
//
// Modelling decisions:
//   - The sysctls are namespace-wide (NamespaceConfig.RPFilter,
//     AcceptLocal, RouteLocalnet, NoSendRedirects, NoSharedMedia,
//     DropUnicastInL2Multicast): conf.all's value, every device's own
//     left at its default (NoSendRedirects and NoSharedMedia set both to
//     0, as IN_DEV_ORCONF needs); src_valid_mark is 0 (the reverse lookup
//     ignores the mark); there are no custom policy rules and no tclassid
//     users.
//   - A packet that came in by loopback (or looped back by
//     dev_loopback_xmit, PACKET_LOOPBACK) keeps the dst of its output
//     route, so ip_rcv_finish_core does no route input for it and none of
//     these checks run.
//   - The reverse lookup of a source takes the longest match over the
//     local and main tables, as the kernel's merged trie does
//     (sourceRoute); routeOutput keeps its own order (local first).
//   - Source routed packets are dropped by ip_rcv_options (ipopts.go:
//     accept_source_route is 0), so opt->srr never stops a redirect.

// IP route redirect parameters (net/ipv4/route.c).
const (
	ipRtRedirectNumber  = 9                                            // ip_rt_redirect_number
	ipRtRedirectLoad    = hz / 50                                      // ip_rt_redirect_load
	ipRtRedirectSilence = ipRtRedirectLoad << (ipRtRedirectNumber + 1) // ip_rt_redirect_silence
	icmpRedirHost       = 1                                            // ICMP_REDIR_HOST
)

// lbcast4 is INADDR_BROADCAST.
var lbcast4 = [4]byte{255, 255, 255, 255}

// ipRouteMartian models the martian checks at the top of
// ip_route_input_slow for a packet from src to dst (neither multicast)
// received on a device of ns: a multicast or limited broadcast source, a
// 0.0.0.0 source (IP_INVALID_SOURCE) unless the packet goes to the
// limited broadcast or is 0.0.0.0 to 0.0.0.0 (brd_input), a 0.0.0.0
// destination (IP_INVALID_DEST), a 127.0.0.0/8 destination or source
// without route_localnet (IP_LOCALNET). It returns 0 when none applies.
// ipv4_is_zeronet is 0.0.0.0 alone since v5.3 (the rest of 0.0.0.0/8 is
// unicast).
func ipRouteMartian(ns *Netns, src, dst [4]byte) skb.DropReason {
	switch {
	case src[0]&0xf0 == 0xe0 || src == lbcast4:
		return skb.DropIPInvalidSource
	case dst == lbcast4 || (src == [4]byte{} && dst == [4]byte{}):
		return 0 // brd_input
	case src == [4]byte{}:
		return skb.DropIPInvalidSource
	case dst == [4]byte{}:
		return skb.DropIPInvalidDest
	case (dst[0] == 127 || src[0] == 127) && !ns.routeLocalnet:
		return skb.DropIPLocalnet
	}
	return 0
}

// ordinary4 reports whether a is none of the addresses ipRouteMartian
// looks at: 1.0.0.0 to 223.255.255.255 outside 127.0.0.0/8 (a quick test
// for the common case; the rest of 0.0.0.0/8 takes ipRouteMartian too).
func ordinary4(a [4]byte) bool { return a[0]-1 < 223 && a[0] != 127 }

// ipMcValidateSource models ip_mc_validate_source() for a packet from
// src to a group dst the device in joined: a multicast or limited
// broadcast source (IP_INVALID_SOURCE), a loopback source without
// route_localnet (IP_LOCALNET), a 0.0.0.0 source only to 224.0.0.0/24
// or for IGMP, and any other source through fib_validate_source.
func (s *Stack) ipMcValidateSource(ns *Netns, in *Device, b *skb.Buff, src, dst [4]byte, proto uint8) skb.DropReason {
	switch {
	case src[0]&0xf0 == 0xe0 || src == lbcast4:
		return skb.DropIPInvalidSource
	case src[0] == 127 && !ns.routeLocalnet:
		return skb.DropIPLocalnet
	case src == [4]byte{}:
		if (dst[0] != 224 || dst[1] != 0 || dst[2] != 0) && proto != ipprotoIGMP {
			return skb.DropIPInvalidSource
		}
		return 0
	}
	r, _ := s.fibValidateSource(ns, in, b, src, dst, nil)
	return r
}

// fibValidateSource models fib_validate_source() for a packet from src
// received on in whose route leaves by oif (nil for a local or broadcast
// destination: oif 0). It returns a drop reason, or 0 and whether the
// source's own route is a connected one on in (a nexthop of scope
// RT_SCOPE_HOST: the return value 1 that lets __mkroute_input mark a
// redirect).
//
// Without rp_filter, and unless the packet may earn a redirect (oif is
// in and send_redirects is on), only a source that is one of the
// namespace's addresses is refused (IP_LOCAL_SOURCE, inet_lookup_ifaddr),
// unless accept_local; custom local routes force the full check
// (__fib_validate_source): the source's route is looked up, a local one
// refused unless accept_local (IP_LOCAL_SOURCE), a broadcast one refused
// (IP_INVALID_SOURCE); no route passes without rp_filter (last_resort)
// and fails with it (IP_RPFILTER); a route by in passes; another passes
// in loose mode (2), or when in has no IPv4 address, and fails in strict
// mode (1).
//
// With policy rules (which also force the full check) the lookups walk
// them with the reversed flow of packet b: daddr the source, saddr dst,
// flowi4_iif oif's index (LOOPBACK_IFINDEX without one), tun_id 0, the
// packet's mark only with src_valid_mark, and while a rule selects them
// the protocol and the ports swapped. b may be nil in a namespace without
// rules.
func (s *Stack) fibValidateSource(ns *Netns, in *Device, b *skb.Buff, src, dst [4]byte, oif *Device) (skb.DropReason, bool) {
	if ns.rpFilter == 0 && (oif != in || !ns.sendRedirects) {
		// The fast path: accept_local, else inet_lookup_ifaddr_rcu
		// unless custom local routes or rules force the full check.
		full := ns.customLocal4 || ns.rules4
		if ns.acceptLocal || (!full && !inRanges(ns.ifaddr4, src)) {
			return 0, false
		}
		if !full {
			return skb.DropIPLocalSource, false
		}
	}
	var fl flow
	if ns.rules4 {
		fl = flow{src: netip.AddrFrom4(dst), dst: netip.AddrFrom4(src), iif: loIfindex, dscp: dsField(b.Data(), netip.AddrFrom4(src))}
		if oif != nil {
			fl.iif = oif.ifindex
		}
		if ns.srcValidMark {
			fl.mark = b.H().Mark // IN_DEV_SRC_VMARK
		}
		if ns.rulesDissect {
			flowL4(b, &fl)
			fl.sport, fl.dport = fl.dport, fl.sport
		}
	}
	return s.fibValidateSourceFull(ns, in, src, &fl)
}

// fibValidateSourceFull is __fib_validate_source (see fibValidateSource);
// fl is the reversed flow when the namespace has IPv4 rules.
func (s *Stack) fibValidateSourceFull(ns *Netns, in *Device, src [4]byte, fl *flow) (skb.DropReason, bool) {
	var devMatch, gw bool
	r, local := ns.sourceRoute(src, fl)
	switch {
	case ns.isBcast4(src): // a /32 RTN_BROADCAST: the longest match
		return skb.DropIPInvalidSource, false
	case local:
		if !ns.acceptLocal {
			return skb.DropIPLocalSource, false
		}
		// The local route's nexthop is the device holding the address
		// (lo for 127.0.0.0/8 and custom local routes); its scope is
		// RT_SCOPE_HOST.
		devMatch = in == ns.lo || in.hasAddr(netip.AddrFrom4(src))
	case r == nil || r.reject != 0:
		// fib_lookup fails: last_resort.
		if ns.rpFilter != 0 {
			return skb.DropIPRPFilter, false
		}
		return 0, false
	default:
		// fib_info_nh_uses_dev: any path of a multipath route; the
		// scope is the first live path's (FIB_RES_NHC).
		devMatch, gw = r.usesDev(in), r.via.IsValid()
	}
	if devMatch {
		return 0, !gw
	}
	if !in.hasAddr4Any() {
		if ns.rpFilter != 0 { // no_addr: last_resort
			return skb.DropIPRPFilter, false
		}
		return 0, false
	}
	if ns.rpFilter == 1 {
		return skb.DropIPRPFilter, false
	}
	// fib_lookup again with flowi4_oif = in (FIB_LOOKUP_IGNORE_LINKSTATE):
	// the longest route to src through in.
	if ns.rules4 {
		fl.oif, fl.anyLink = in.ifindex, true
		if r := ns.ruleLookup(fl); r != nil && r.reject == 0 {
			return 0, !r.via.IsValid()
		}
		return 0, false
	}
	a := binary.BigEndian.Uint32(src[:])
	for i := range ns.routes4 {
		r4 := &ns.routes4[i]
		if r := ns.routes[r4.idx].pathOn(in, true); a&r4.mask == r4.net && r != nil {
			return 0, !r.via.IsValid()
		}
	}
	return 0, false
}

// sourceRoute is fib_lookup of a source address for
// __fib_validate_source, over the local and main tables as the kernel's
// merged trie holds them: the longest match among the devices' addresses
// (RTN_LOCAL, /32), the local routes (RTN_LOCAL; on equal length the local
// route), and the main table's routes. local reports an RTN_LOCAL answer;
// otherwise r is the main table's route (nil: none).
//
// With IPv4 rules the local table is no longer merged: the local rule
// answers first for any local prefix, then the rules walk fl.
func (ns *Netns) sourceRoute(src [4]byte, fl *flow) (r *route, local bool) {
	if inRanges(ns.ifaddr4, src) {
		return nil, true
	}
	a := netip.AddrFrom4(src)
	lbits := -1
	for _, p := range ns.local {
		if p.Addr().Is4() && p.Bits() > lbits && p.Contains(a) {
			lbits = p.Bits()
		}
	}
	if ns.rules4 {
		if lbits >= 0 {
			return nil, true
		}
		return ns.ruleLookup(fl), false
	}
	r = ns.mainRoute(a)
	if lbits >= 0 && (r == nil || lbits >= r.dst.Bits()) {
		return nil, true
	}
	return r, false
}

// hasAddr4Any reports whether d has an IPv4 address (idev->ifa_list).
func (d *Device) hasAddr4Any() bool {
	for _, p := range d.addrs {
		if p.Addr().Is4() {
			return true
		}
	}
	return false
}

// ipRtSendRedirect models ip_rt_send_redirect() for packet b forwarded
// from src to next hop gw out of the device it came in on (Options.Replies
// on, send_redirects on): the source's inet_peer counts the redirects
// sent (n_redirects) and the time of the last (rate_last). After
// ip_rt_redirect_silence without a redirected packet both restart, and
// the peer's ICMP tokens are zeroed; once ip_rt_redirect_number were
// sent, none is until that silence; otherwise the first goes at once and
// the n-th after ip_rt_redirect_load << n jiffies. The redirect is
// icmp_send's host redirect with the gateway, outside the ratemask.
func (s *Stack) ipRtSendRedirect(b *skb.Buff, ns *Netns, src, gw netip.Addr) {
	now := s.jiffies()
	p := s.icmpOf(ns).peer(src, now)
	if int64(now-(p.last+ipRtRedirectSilence)) > 0 {
		p.tokens, p.nRedirects = 0, 0
	}
	if p.nRedirects >= ipRtRedirectNumber {
		p.last = now
		return
	}
	if p.nRedirects != 0 && int64(now-(p.last+(ipRtRedirectLoad<<p.nRedirects))) <= 0 {
		return
	}
	p.last = now
	p.nRedirects++
	g := gw.As4()
	s.icmpSend(b, ns, icmpRedirect, icmpRedirHost, binary.BigEndian.Uint32(g[:]), false)
}

// l2McastDrop models ip_rcv_finish_core's RFC 1122 3.3.6 check once the
// route is neither RTN_BROADCAST nor RTN_MULTICAST, for a namespace with
// drop_unicast_in_l2_multicast (the callers test it first): a packet that
// came in an L2 broadcast or multicast frame is dropped
// (UNICAST_IN_L2_MULTICAST), and l2McastDrop returns true.
func (s *Stack) l2McastDrop(b *skb.Buff, ns *Netns) bool {
	if pt := b.H().PktType; pt == skb.PacketBroadcast || pt == skb.PacketMulticast {
		s.drop(b, skb.DropUnicastInL2Multicast, OpIPRoute)
		return true
	}
	return false
}

// addrOnlink models __mkroute_input's inet_addr_onlink(out_dev, saddr,
// gw ?: daddr) when shared_media is off: src and the IPv4 next hop nh
// (the destination dst for an IPv6 gateway) are in the subnet of one of
// d's IPv4 addresses.
func (d *Device) addrOnlink(src, nh, dst netip.Addr) bool {
	if !nh.Is4() {
		nh = dst
	}
	for _, p := range d.addrs {
		if p.Addr().Is4() && p.Masked().Contains(src) && p.Masked().Contains(nh) {
			return true
		}
	}
	return false
}
