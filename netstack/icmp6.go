package netstack

import (
	"cmp"
	"encoding/binary"
	"net/netip"

	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/skb"
)

// ICMPv6: what icmpv6_rcv does with a message delivered to the host, and
// the messages the stack sends itself with Options.Replies (icmp6_send
// for errors, icmpv6_echo_reply) and TCP's reset (tcp_v6_send_reset).
//
// Modelling decisions, besides icmp.go's (no raw or ping sockets, the
// rate limit state per flow shard and its peer table):
//   - Neighbour discovery messages get ndisc_rcv's checks and the fate
//     each type's handler gives the skb (ndiscRcv); the neighbour table
//     is the namespace's configured entries and veth peers (no learned
//     ones); the routers and prefixes it learns are not modelled. MLD
//     queries and reports are consumed.
//   - The sysctls keep their defaults except where NamespaceConfig names
//     them: icmp.ratelimit 100 ms, icmp.ratemask 0-1,3-127 (every error
//     but packet too big), echo_ignore_all 0, echo_ignore_multicast 0,
//     auto_flowlabels 1, flowlabel_reflect 0, hop_limit 64.
//   - The per-peer interval is icmp.ratelimit for every route (measured
//     on 6.18 over a /64: TestKernelICMPv6Errors; older kernels shortened
//     it for wider routes, tmo >> ((128 - prefix length) >> 5)).
//   - The model makes no link-local address itself (addrconf's): a
//     device has one when the configuration gives it one, and without
//     one ndisc_send_redirect sends nothing. Routing headers are not
//     processed, so opt->srcrt never stops a redirect.
//   - Without Options.Replies an echo request is consumed as if its reply
//     had gone out (the kernel drops it, NOT_SPECIFIED, only when the
//     reply cannot be sent).

// ICMPv6 message types and codes (include/uapi/linux/icmpv6.h, ndisc.h).
const (
	icmp6DestUnreach     = 1
	icmp6PktTooBig       = 2
	icmp6TimeExceed      = 3
	icmp6ParamProb       = 4
	icmp6EchoRequest     = 128
	icmp6EchoReply       = 129
	icmp6MgmQuery        = 130
	icmp6MgmReport       = 131
	ndiscRouterSolicit   = 133
	ndiscRouterAdvert    = 134
	ndiscNeighSolicit    = 135
	ndiscNeighAdvert     = 136
	ndiscRedirect        = 137
	icmp6ExtEchoReply    = 161
	icmp6InfoMask        = 0x80 // ICMPV6_INFOMSG_MASK
	icmp6NoRoute         = 0    // ICMPV6_NOROUTE
	icmp6AdmProhibited   = 1    // ICMPV6_ADM_PROHIBITED
	icmp6PortUnreach     = 4    // ICMPV6_PORT_UNREACH
	icmp6ExcHopLimit     = 0    // ICMPV6_EXC_HOPLIMIT
	icmp6UnkNexthdr      = 1    // ICMPV6_UNK_NEXTHDR
	ipv6MinMTU           = 1280
	icmp6NotNeighbour    = 2 // ICMPV6_NOT_NEIGHBOUR
	icmp6DefaultHopLimit = 64
)

// DefaultICMPv6Ratelimit is net.ipv6.icmp.ratelimit's default, in
// milliseconds (NamespaceConfig.ICMPv6Ratelimit).
const DefaultICMPv6Ratelimit = 100

// icmp6MaskAllow models icmpv6_mask_allow: the default ratemask
// (0-1,3-127) limits every error type but packet too big.
func icmp6MaskAllow(typ uint8) bool { return typ == icmp6PktTooBig || typ > 127 }

// icmp6Rcv models icmpv6_rcv() for a message delivered to ns (b's data at
// the ICMPv6 header, ip its IPv6 header): the checksum over the
// pseudo-header (ICMP_CSUM), the header (shorter than 8 bytes:
// NOT_SPECIFIED), then by type: an echo request is answered
// (icmpv6EchoReply) and consumed, an echo reply dropped by ping_rcv
// (NO_SOCKET), an extended echo request (PROBE is off) like other
// informational messages below; errors
// (and unknown types below 128) go to icmpv6_notify, which needs the
// quoted IPv6 header and 8 bytes past its extension headers
// (PKT_TOO_SMALL; a packet too big first needs the IPv6 header itself,
// else NOT_SPECIFIED); neighbour discovery needs hop limit 255
// (IPV6_NDISC_HOP_LIMIT) and code 0 (IPV6_NDISC_BAD_CODE); MLD queries
// and reports are consumed; other informational messages are freed with
// NOT_SPECIFIED, as icmpv6_rcv's default reason leaves them.
func (s *Stack) icmp6Rcv(b *skb.Buff, ns *Netns, ip ipv6, frag bool) {
	s.traceOp(LayerL4, OpICMPv6Rcv, b)
	if s.icmp6CsumBad(b) {
		s.drop(b, skb.DropICMPCsum, OpICMPv6Rcv)
		return
	}
	if b.Len() < icmpHlen || !b.MayPull(icmpHlen) {
		s.drop(b, skb.DropNotSpecified, OpICMPv6Rcv)
		return
	}
	d := b.Data()
	typ, code := d[0], d[1]
	reason := skb.SkbNotDroppedYet
	switch {
	case typ == icmp6EchoRequest:
		// echo_ignore_all, or echo_ignore_multicast for a group,
		// echo_ignore_anycast for an anycast address: no
		// icmpv6_echo_reply, icmpv6_rcv's default reason.
		if ns.echo6IgnoreAll || (ns.echo6IgnoreMcast && ip.dst.IsMulticast()) ||
			(ns.echo6IgnoreAcast && ns.anycast6 != nil && ns.hasAnycast6(nil, ip.dst)) {
			reason = skb.DropNotSpecified
			break
		}
		s.icmp6EchoReply(b, ns, ip)
	case typ == icmp6MgmQuery, typ == icmp6MgmReport:
		// igmp6_event_query / igmp6_event_report take the skb.
	case typ == icmp6EchoReply || typ == icmp6ExtEchoReply:
		reason = skb.DropNoSocket // ping_rcv
	case typ >= ndiscRouterSolicit && typ <= ndiscRedirect:
		reason = s.ndiscRcv(b, ns, ip, typ, code, frag)
	case typ == icmp6PktTooBig && (b.Len() < icmpHlen+ip6Hlen || !b.MayPull(icmpHlen+ip6Hlen)):
		reason = skb.DropNotSpecified
	case typ&icmp6InfoMask == 0:
		reason = s.icmp6Notify(b)
	default:
		reason = skb.DropNotSpecified
	}
	if reason != skb.SkbNotDroppedYet {
		s.drop(b, reason, OpICMPv6Rcv)
		return
	}
	s.consume(b, DeliverOther, -1)
}

// icmp6Notify models icmpv6_notify() on an error (b's data at the ICMPv6
// header): the quoted IPv6 header, then its extension headers skipped,
// then 8 bytes of what they carry must be there (PKT_TOO_SMALL); the
// protocol's error handler only notes the error (SKB_CONSUMED).
func (s *Stack) icmp6Notify(b *skb.Buff) skb.DropReason {
	if b.Len() < icmpHlen+ip6Hlen || !b.MayPull(icmpHlen+ip6Hlen) {
		return skb.DropPktTooSmall
	}
	q := s.l4Bytes(b, icmpHlen)
	off, _, ok := ip6SkipExthdr(q)
	if !ok {
		return skb.DropIPv6BadExthdr
	}
	if len(q) < off+8 {
		return skb.DropPktTooSmall
	}
	return skb.SkbNotDroppedYet
}

// ip6SkipExthdr models ipv6_skip_exthdr on IPv6 packet p: the offset and
// type of the header after the extension headers (hop-by-hop, routing,
// destination options, authentication; a later fragment stops the walk
// at its fragment header); ok false for a header cut short or no next
// header (NEXTHDR_NONE), where the kernel returns -1.
func ip6SkipExthdr(p []byte) (off int, next uint8, ok bool) {
	off, next = ip6Hlen, p[6]
	for {
		switch next {
		case nexthdrHop, nexthdrDest, nexthdrRouting, nexthdrAuth:
			if len(p) < off+2 {
				return off, next, false
			}
			n := (int(p[off+1]) + 1) * 8
			if next == nexthdrAuth {
				n = (int(p[off+1]) + 2) * 4
			}
			if len(p) < off+n {
				return off, next, false
			}
			next, off = p[off], off+n
		case nexthdrFrag:
			if len(p) < off+8 {
				return off, next, false
			}
			if binary.BigEndian.Uint16(p[off+2:])&^7 != 0 {
				return off, next, true
			}
			next, off = p[off], off+fragHdrLen
		case nexthdrNone:
			return off, next, false
		default:
			return off, next, true
		}
	}
}

// icmp6CsumBad models skb_checksum_validate(skb, IPPROTO_ICMPV6,
// ip6_compute_pseudo) on a message whose data is at its header.
func (s *Stack) icmp6CsumBad(b *skb.Buff) bool {
	var nh [ip6Hlen]byte
	copy(nh[:], netHeader(b))
	return s.msgCsumBad(b, nh[:])
}

// icmp6EchoReply models icmpv6_echo_reply() for request b (data at the
// ICMPv6 header) when Options.Replies is on: the reply carries the
// request's identifier, sequence and data, from its destination (a
// unicast one; else the route's source), with its traffic class, the
// reply mark (IP6_REPLY_MARK) and an automatic flow label; echo replies
// are outside the ratemask.
func (s *Stack) icmp6EchoReply(b *skb.Buff, ns *Netns, ip ipv6) {
	if !s.cfg.Options.Replies {
		return
	}
	d := b.Data()
	var hdr [icmpHlen]byte
	copy(hdr[:], d[:icmpHlen])
	hdr[0] = icmp6EchoReply
	body := d[icmpHlen:]
	if b.IsNonlinear() {
		body = s.l4Bytes(b, icmpHlen)
	}
	src := ip.dst
	if src.IsMulticast() || !ns.acastSrcEcho && ns.anycast6 != nil && ns.hasAnycast6(nil, src) {
		src = netip.Addr{} // the route's source (ipv6_unicast_destination)
	}
	s.icmp6Push(b, ns, src, ip.src, ip6Tclass(b), hdr, body, false, isLoopback(s.devOf(b)))
}

// ip6Tclass is the traffic class of b's IPv6 header (ipv6_get_dsfield).
func ip6Tclass(b *skb.Buff) uint8 {
	d := netHeader(b)
	return d[0]<<4 | d[1]>>4
}

// icmp6RtHasPrefsrc models icmpv6_rt_has_prefsrc(): the route icmp6_send
// sends to dst by (ip6_route_output of a flow with only the protocol and
// dst) has a preferred source, which ip6_dst_lookup then takes, so the
// input device's address is not picked.
func (s *Stack) icmp6RtHasPrefsrc(ns *Netns, dst netip.Addr) bool {
	fl := flow{dst: dst, proto: nexthdrICMPv6}
	out, _, _ := s.routeOutputPath(ns, &fl, nil)
	return out != nil && fl.prefsrc.IsValid()
}

// icmp6Send models icmp6_send() for skb b, whose network header is its
// IPv6 header, which came in on in, when Options.Replies is on: no error
// about a packet to a multicast address or not PACKET_HOST (but packet
// too big), from an unspecified or multicast source, or about an ICMPv6
// error; the global limit (unless b came in on loopback), the peer's
// limit, then the message: the ICMPv6 header and as much of the packet as
// keeps it within IPV6_MIN_MTU. Its source is the packet's destination
// when that is the host's, else the route back's src, else the input
// device's address for the packet's source (ipv6_dev_get_saddr).
func (s *Stack) icmp6Send(b *skb.Buff, ns *Netns, in *Device, typ, code uint8, info uint32) {
	if !s.cfg.Options.Replies {
		return
	}
	if b.Len()-b.NetworkOffset() < ip6Hlen {
		return
	}
	pkt := s.packetBytes(b)
	ip, ok := parseIPv6(pkt)
	if !ok {
		return
	}
	var src netip.Addr
	if s.isLocal(ns, ip.dst) {
		src = ip.dst
	}
	if ip.dst.IsMulticast() || b.H().PktType != skb.PacketHost {
		if typ != icmp6PktTooBig {
			return
		}
		src = netip.Addr{}
	}
	if ip.src.IsUnspecified() || ip.src.IsMulticast() {
		return
	}
	// is_ineligible: never about an ICMPv6 error (or a message cut
	// before its type).
	if off, next, ok := ip6SkipExthdr(pkt); ok && next == nexthdrICMPv6 && (len(pkt) <= off || pkt[off]&icmp6InfoMask == 0) {
		return
	}
	if !src.IsValid() && in != nil && !s.icmp6RtHasPrefsrc(ns, ip.src) {
		src = fibPrefSrc(ns, in, ip.src, true)
	}
	var hdr [icmpHlen]byte
	hdr[0], hdr[1] = typ, code
	binary.BigEndian.PutUint32(hdr[4:], info)
	s.icmp6Push(b, ns, src, ip.src, 0, hdr, pkt[:min(len(pkt), ipv6MinMTU-ip6Hlen-icmpHlen)], true, isLoopback(s.devOf(b)))
}

// icmp6Push builds and sends an ICMPv6 message from src (invalid: the
// route's choice) to dst: the limits for an error first (the namespace's
// credit is IPv4's, icmp_global_allow; the peer's interval
// icmpv6_xrlim_allow's, icmp.ratelimit), then ip6_append_data on the ICMPv6 socket (one
// skb of the message plus LL_RESERVED_SPACE and a fragment header's room,
// or fragment-sized pieces above the MTU; owned by the socket; hop limit
// 64, an automatic flow label, CHECKSUM_NONE) and
// icmpv6_push_pending_frames -> ip6_local_out.
func (s *Stack) icmp6Push(b *skb.Buff, ns *Netns, src, dst netip.Addr, tclass uint8, hdr [icmpHlen]byte, body []byte, isErr, inLoopback bool) {
	typ := hdr[0]
	apply := false
	if isErr && !inLoopback && !icmp6MaskAllow(typ) {
		if !s.icmpGlobalCredit(ns) { // icmpv6_global_allow -> icmp_global_allow
			return
		}
		apply = true
	}
	// icmp6_send's and icmpv6_echo_reply's flowi6: IP6_REPLY_MARK, the
	// type and code in flowi_uli.
	// The flow has no traffic class (icmp6_send, icmpv6_echo_reply: the
	// tclass is the message's, not the lookup's).
	fl := flow{dst: dst, src: src, mark: replyMark(b, ns.fwmarkReflect6), proto: nexthdrICMPv6, dport: uint16(typ)<<8 | uint16(hdr[1])}
	out, nh, mtu := s.routeOutputPath(ns, &fl, nil)
	if out == nil {
		return
	}
	if apply && out.kid != kidLoopback && !s.peerAllow(ns, dst, ns.icmp6Ratelimit) {
		return // ICMP6_MIB_RATELIMITHOST
	}
	if apply {
		s.icmpOf(ns).credit -= int32(s.randBelow3())
	}
	if !src.IsValid() {
		gw := netip.Addr{}
		if nh != dst {
			gw = nh
		}
		// ip6_route_get_saddr: the route's preferred source first.
		if src = cmp.Or(fl.prefsrc, fibPrefSrc(ns, out, gw, true)); !src.IsValid() {
			return // ip6_dst_lookup: no source address
		}
	}
	n := ip6Hlen + icmpHlen + len(body)
	pkt := s.replyBuf(n)
	m := pkt[ip6Hlen:]
	copy(m, hdr[:])
	copy(m[icmpHlen:], body)
	writeIPv6(pkt, tclass, 0, n-ip6Hlen, nexthdrICMPv6, icmp6DefaultHopLimit, src, dst)
	binary.BigEndian.PutUint16(m[2:], 0)
	s.acct.Op(cost.OpCsumByte, uint64(len(m))) // icmpv6_getfrag: csum_partial_copy_nocheck
	binary.BigEndian.PutUint16(m[2:], ^csumFold(csumAdd(pseudoSum(pkt, nexthdrICMPv6, len(m)), m)))
	sk := s.ctlSock(ns, &ns.icmp6Sk, "icmpv6", nexthdrICMPv6)
	sk.mark = 0
	if ns.fwmarkReflect6 {
		sk.mark = b.H().Mark // IP6_REPLY_MARK
	}
	var rb *skb.Buff
	if n > mtu {
		rb = s.ip6AppendData(pkt, ip6Hlen, out, mtu)
	} else {
		hh := llReservedSpace(out)
		var err error
		if rb, err = s.a.AllocSkb(n + hh + fragHdrLen); err == nil {
			rb.Reserve(hh + fragHdrLen)
			rb.PutData(pkt)
			rb.SetTransportHeader(ip6Hlen)
		}
	}
	if rb == nil {
		s.dropNoSkb(out, skb.DropNomem, OpICMPSend) // ICMP6_MIB_OUTERRORS
		return
	}
	initTxSkbProto(rb, sk, ethPIPv6, sizeofIP6CB)
	rb.H().IPSummed = skb.ChecksumNone
	// ip6_make_skb: the automatic flow label, from the flow's hash (the
	// ICMPv6 type and code stand in the ports).
	label := flowLabelFromHash(rb, src, dst, nexthdrICMPv6, 0, uint16(typ)<<8|uint16(hdr[1]))
	d := rb.Data()
	binary.BigEndian.PutUint32(d[0:4], binary.BigEndian.Uint32(d[0:4])|label)
	s.traceOp(LayerIP, OpICMPSend, rb)
	binary.LittleEndian.PutUint16(rb.H().CB[ip6cbNhoff:], 6) // __ip6_local_out
	s.ip6Output(rb, ns, out, nh, sk, mtu)
}

// tcpV6SendReset models tcp_v6_send_reset(NULL, skb) for segment b (data
// at its TCP header, its IPv6 header ip) that found no socket, when
// Options.Replies is on: none for a reset or a segment to an address that
// is not the host's unicast one; tcp_v6_send_response allocates
// MAX_TCP_HEADER, builds the reset (RST, or RST|ACK acknowledging the
// segment), and ip6_xmit sends it from TCP's control socket without an
// owner (so no cgroup egress program runs), with the segment's traffic
// class less ECN, the mark IP6_REPLY_MARK, hop limit 64, an automatic flow
// label and a partial checksum.
func (s *Stack) tcpV6SendReset(b *skb.Buff, ns *Netns, ip ipv6) {
	th := b.Data()
	if !s.cfg.Options.Replies || th[13]&tcpRST != 0 || ip.dst.IsMulticast() || !s.isLocal(ns, ip.dst) || ns.hasAnycast6(nil, ip.dst) {
		return // ipv6_unicast_destination: RTF_LOCAL, not an anycast route
	}
	// tcp_v6_send_response's flowi6: the segment's ports swapped.
	fl := flow{dst: ip.src, src: ip.dst, mark: replyMark(b, ns.fwmarkReflect6), proto: nexthdrTCP,
		sport: binary.BigEndian.Uint16(th[2:]), dport: binary.BigEndian.Uint16(th[0:])}
	out, nh, mtu := s.routeOutputPath(ns, &fl, nil)
	if out == nil {
		return
	}
	r, err := s.a.AllocSkb(skb.MaxTCPHeader)
	if err != nil {
		s.dropNoSkb(out, skb.DropNomem, OpTCPSendReset)
		return
	}
	r.Reserve(skb.MaxTCPHeader)
	t := r.Push(20)
	writeReset(t, th, b.Len())
	r.ResetTransportHeader()
	hdr := r.Push(ip6Hlen)
	writeIPv6(hdr, ip6Tclass(b)&^3, 0, 20, nexthdrTCP, icmp6DefaultHopLimit, ip.dst, ip.src)
	r.ResetNetworkHeader()
	h := r.H()
	h.Protocol = ethPIPv6
	h.Priority = 0
	h.Mark = 0
	if ns.fwmarkReflect6 {
		h.Mark = b.H().Mark
	}
	clear(h.CB[:sizeofIP6CB])
	label := flowLabelFromHash(r, ip.dst, ip.src, nexthdrTCP, binary.BigEndian.Uint16(t[0:2]), binary.BigEndian.Uint16(t[2:4]))
	binary.BigEndian.PutUint32(hdr[0:4], binary.BigEndian.Uint32(hdr[0:4])|label)
	s.traceOp(LayerIP, OpTCPSendReset, r)
	s.ip6LocalOut(r, ns, out, nh, s.ctlSock(ns, &ns.tcp6Sk, ProtoTCP, nexthdrTCP), mtu)
}

// ndiscRcv models ndisc_rcv() (b's data at the ICMPv6 header, ip its IPv6
// header; frag: it came in fragments): none that came in fragments
// (IPV6_NDISC_FRAG), hop limit 255 (IPV6_NDISC_HOP_LIMIT) and code 0
// (IPV6_NDISC_BAD_CODE), then by type (a drop reason, or
// SkbNotDroppedYet when consumed):
//   - a neighbour solicitation (ndisc_recv_ns) shorter than struct nd_msg
//     is PKT_TOO_SMALL; a multicast target, duplicate address detection
//     (from ::) to another address than a solicited-node group or with a
//     source link-layer option, or a link-layer option of the wrong size
//     is NOT_SPECIFIED; options that do not parse are
//     IPV6_NDISC_BAD_OPTIONS; a target that is not an address of the
//     receiving device, nor one of its anycast addresses (anycast.go),
//     nor proxied by it (a proxy entry under proxy_ndp in a forwarding
//     namespace) is IPV6_NDISC_NS_OTHERHOST; an anycast or proxied
//     target's multicast
//     solicitation that did not come as PACKET_HOST is NOT_SPECIFIED
//     unless proxy_delay is 0 (its queued copy is answered); detection of
//     one of them is NOT_SPECIFIED
//     after the advertisement to all nodes; otherwise the solicitation is
//     consumed when a neighbour entry for the source exists or is made
//     (a unicast solicitation, or one with a source link-layer option)
//     and answered with an advertisement, else NOT_SPECIFIED;
//   - a neighbour advertisement (ndisc_recv_na) is consumed when the
//     target has a neighbour entry (the namespace's configured ones: the
//     model keeps no learned ones), else NOT_SPECIFIED after the same
//     size, target, solicited-to-multicast and option checks;
//   - a router solicitation (ndisc_recv_rs) is NOT_SPECIFIED unless the
//     device forwards, comes from a unicast address and its options
//     parse, then consumed;
//   - router advertisements (ndiscRouterDiscovery) and redirects
//     (ndiscRedirectRcv) as their functions say.
//
// With Options.Replies a solicitation for one of the device's addresses is
// answered (ndiscSendNA): to the source when its link-layer address is
// known (the option's, or a neighbour entry's; the resolution the kernel
// would start for a unicast solicitation without an option is not
// modelled), to all nodes for duplicate address detection.
func (s *Stack) ndiscRcv(b *skb.Buff, ns *Netns, ip ipv6, typ, code uint8, frag bool) skb.DropReason {
	switch {
	case frag:
		return skb.DropIPv6NdiscFrag // ndisc_suppress_frag_ndisc (suppress_frag_ndisc 1)
	case ip.hopLimit != 255:
		return skb.DropIPv6NdiscHopLimit
	case code != 0:
		return skb.DropIPv6NdiscBadCode
	}
	m := s.l4Bytes(b, 0)
	switch typ {
	case ndiscNeighSolicit, ndiscNeighAdvert:
		if len(m) < ndMsgLen {
			return skb.DropPktTooSmall
		}
		target := netip.AddrFrom16([16]byte(m[8:24]))
		if target.IsMulticast() {
			return skb.DropNotSpecified
		}
		if typ == ndiscNeighAdvert {
			if ip.dst.IsMulticast() && m[4]&0x40 != 0 { // solicited, to a group
				return skb.DropNotSpecified
			}
			if _, tgt, ok := ndiscOptions(m[ndMsgLen:]); !ok {
				return skb.DropIPv6NdiscBadOptions
			} else if tgt != nil && len(tgt) != 8 {
				return skb.DropNotSpecified
			}
			if _, ok := neighResolve(ns, s.devOf(b), target); !ok {
				return skb.DropNotSpecified
			}
			return skb.SkbNotDroppedYet
		}
		dad := ip.src.IsUnspecified()
		if dad && !isSolicitedNode(ip.dst) {
			return skb.DropNotSpecified
		}
		src, _, ok := ndiscOptions(m[ndMsgLen:])
		switch {
		case !ok:
			return skb.DropIPv6NdiscBadOptions
		case src != nil && (len(src) != 8 || dad):
			return skb.DropNotSpecified
		}
		d := s.devOf(b)
		own, router, inc := d.hasAddr(target), ns.fwd6, ip.dst.IsMulticast()
		delayed := false
		if !own {
			// An anycast address of d (anycast.go: ipv6_chk_acast_addr),
			// its router flag the device's forwarding; else a proxied
			// one: a forwarding namespace, proxy_ndp (all's or d's) and
			// a proxy entry, whose router flag the advertisement carries
			// (pndisc_is_router).
			if !ns.hasAnycast6(d, target) {
				e, ok := ns.pneighLookup(d, target)
				if !ok || !ns.fwd6 || !(ns.proxyNDP || d.proxyNDP) {
					return skb.DropIPv6NdiscNsOtherhost
				}
				router = e.router
			}
			// A multicast solicitation that did not come as PACKET_HOST
			// waits proxy_delay: a clone is queued (pneigh_enqueue) and
			// answered later (at once in the model), the original
			// freed.
			delayed = inc && b.H().PktType != skb.PacketHost && !d.noProxyDelay
		}
		if dad {
			s.ndiscSendNA(d, ns, allNodesMAC, netip.IPv6LinkLocalAllNodes(), target, router, false, own, true)
			return skb.DropNotSpecified
		}
		mac, known := neighResolve(ns, d, ip.src)
		if !known && inc && src == nil {
			return skb.DropNotSpecified
		}
		if src != nil {
			mac = [6]byte(src[2:8]) // ndisc_update with the option's address
		}
		if known || src != nil {
			s.ndiscSendNA(d, ns, mac, ip.src, target, router, true, own && inc, inc)
		}
		if delayed {
			return skb.DropNotSpecified
		}
		return skb.SkbNotDroppedYet
	case ndiscRouterSolicit:
		if len(m) < icmpHlen {
			return skb.DropPktTooSmall
		}
		if !ns.fwd6 || ip.src.IsUnspecified() {
			return skb.DropNotSpecified
		}
		if src, _, ok := ndiscOptions(m[icmpHlen:]); !ok {
			return skb.DropIPv6NdiscBadOptions
		} else if src != nil && len(src) != 8 {
			return skb.DropNotSpecified
		}
	case ndiscRouterAdvert:
		return ndiscRouterDiscovery(ip, m)
	case ndiscRedirect:
		return s.ndiscRedirectRcv(b, ip, m)
	}
	return skb.SkbNotDroppedYet
}

// raMsgLen and rdMsgLen are sizeof(struct ra_msg) and sizeof(struct
// rd_msg).
const (
	raMsgLen = 16
	rdMsgLen = 40
)

// ndiscRouterDiscovery models the skb's fate in ndisc_router_discovery():
// an advertisement from a source that is not link-local is NOT_SPECIFIED,
// one shorter than struct ra_msg PKT_TOO_SMALL, one whose options do not
// parse IPV6_NDISC_BAD_OPTIONS; the rest is consumed, by hosts and by
// forwarding devices (which do not act on it with accept_ra 1: measured
// on 6.18, TestKernelNdiscRcv). The model keeps no default routers,
// prefixes or neighbour entries from it.
func ndiscRouterDiscovery(ip ipv6, m []byte) skb.DropReason {
	switch {
	case !ip.src.IsLinkLocalUnicast():
		return skb.DropNotSpecified
	case len(m) < raMsgLen:
		return skb.DropPktTooSmall
	}
	if _, _, ok := ndiscOptions(m[raMsgLen:]); !ok {
		return skb.DropIPv6NdiscBadOptions
	}
	return skb.SkbNotDroppedYet
}

// ndiscRedirectRcv models ndisc_redirect_rcv(): from a source that is
// not link-local NOT_SPECIFIED; options that do not parse, or none
// (shorter than struct rd_msg: the unsigned option length wraps),
// IPV6_NDISC_BAD_OPTIONS; without a redirected header option
// NOT_SPECIFIED; otherwise the quoted packet goes to icmpv6_notify.
func (s *Stack) ndiscRedirectRcv(b *skb.Buff, ip ipv6, m []byte) skb.DropReason {
	switch {
	case !ip.src.IsLinkLocalUnicast():
		return skb.DropNotSpecified
	case len(m) < rdMsgLen:
		return skb.DropIPv6NdiscBadOptions
	}
	off, ok := rdHeaderOption(m[rdMsgLen:])
	if !ok {
		return skb.DropIPv6NdiscBadOptions
	}
	if off < 0 {
		return skb.DropNotSpecified
	}
	// pskb_pull to the option's data, then icmpv6_notify, which reads
	// the quoted packet after an 8-byte header as it does an error's.
	if !b.MayPull(rdMsgLen + off) {
		return skb.DropPktTooSmall
	}
	b.Pull(rdMsgLen + off)
	return s.icmp6Notify(b)
}

// rdHeaderOption returns the offset of the first redirected header option
// (ND_OPT_REDIRECT_HDR) in opts, -1 for none, or ok false when the
// options do not parse (ndisc_parse_options).
func rdHeaderOption(opts []byte) (off int, ok bool) {
	off = -1
	for at := 0; at < len(opts); {
		if len(opts)-at < 2 {
			return -1, false
		}
		l := int(opts[at+1]) * 8
		if l == 0 || l > len(opts)-at {
			return -1, false
		}
		if opts[at] == 4 && off < 0 {
			off = at
		}
		at += l
	}
	return off, true
}

// ndMsgLen is sizeof(struct nd_msg): the ICMPv6 header and the target.
const ndMsgLen = 24

// ndiscOptions models ndisc_parse_options on opts: each option's length
// must be non-zero and fit (else ok false); it returns the first source
// and target link-layer address options whole.
func ndiscOptions(opts []byte) (src, tgt []byte, ok bool) {
	for len(opts) != 0 {
		if len(opts) < 2 {
			return nil, nil, false
		}
		l := int(opts[1]) * 8
		if l == 0 || l > len(opts) {
			return nil, nil, false
		}
		switch opts[0] {
		case 1:
			if src == nil {
				src = opts[:l]
			}
		case 2:
			if tgt == nil {
				tgt = opts[:l]
			}
		}
		opts = opts[l:]
	}
	return src, tgt, true
}

// isSolicitedNode reports whether a is a solicited-node multicast address
// (ff02::1:ffXX:XXXX, ipv6_addr_is_solict_mult).
func isSolicitedNode(a netip.Addr) bool {
	b := a.As16()
	return a.Is6() && [13]byte(b[:13]) == [13]byte{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff}
}

// allNodesMAC is ff02::1's Ethernet address.
var allNodesMAC = [6]byte{0x33, 0x33, 0, 0, 0, 1}

// ndiscSendNA models ndisc_send_na(dev, daddr, target, router, solicited,
// override, inc_opt) for one of d's addresses, an anycast or a proxied
// one, when Options.Replies is on: ndisc_alloc_skb (LL_RESERVED_SPACE, the
// IPv6 header and the message, owned by the namespace's ndisc socket),
// the advertisement (the router flag: the device forwards, or the proxy
// entry's; the target link-layer option with inc_opt), ndisc_send_skb
// (the checksum, ip6_nd_hdr: hop limit 255, no flow label) from the
// target (an anycast or proxied one: ipv6_dev_get_saddr's choice for
// daddr) to daddr, to the Ethernet address mac.
// ip6_output runs the cgroup egress programs of the ndisc socket's cgroup
// (the root's in the model; the kernel's is the cgroup of the task that
// made the namespace), then the frame goes to dev_queue_xmit on d as
// neigh_output would send it.
func (s *Stack) ndiscSendNA(d *Device, ns *Netns, mac [6]byte, daddr, target netip.Addr, router, solicited, override, incOpt bool) {
	if !s.cfg.Options.Replies {
		return
	}
	src := target
	if !d.hasAddr(target) {
		// An anycast or proxied target: the source is
		// ipv6_dev_get_saddr's for daddr (none: no advertisement).
		if src = fibPrefSrc(ns, d, daddr, true); !src.IsValid() {
			return
		}
	}
	n := ndMsgLen
	if incOpt {
		n += 8
	}
	r, m := s.ndiscAllocSkb(d, n)
	if r == nil {
		return
	}
	m[0] = ndiscNeighAdvert
	if router {
		m[4] |= 0x80
	}
	if solicited {
		m[4] |= 0x40
	}
	if override {
		m[4] |= 0x20
	}
	t := target.As16()
	copy(m[8:24], t[:])
	if incOpt {
		m[24], m[25] = 2, 1 // ND_OPT_TARGET_LL_ADDR
		copy(m[26:32], d.mac[:])
	}
	if s.ndiscSendSkb(r, ns, d, src, daddr, m) {
		writeEth(r.Push(ethHlen), mac, d.mac, ethPIPv6)
		s.devQueueXmit(r, d)
	}
}

// ndiscAllocSkb models ndisc_alloc_skb for a message of n bytes on d: an
// skb with LL_RESERVED_SPACE and the IPv6 header's room in front, the
// transport header at its data and n zeroed bytes put there, which it
// returns too (nil when the allocation fails: dropped at OpICMPSend).
func (s *Stack) ndiscAllocSkb(d *Device, n int) (*skb.Buff, []byte) {
	hh := llReservedSpace(d)
	r, err := s.a.AllocSkb(hh + ip6Hlen + n + d.tailroom)
	if err != nil {
		s.dropNoSkb(d, skb.DropNomem, OpICMPSend)
		return nil, nil
	}
	r.Reserve(hh + ip6Hlen)
	r.ResetTransportHeader()
	m := r.Put(n)
	clear(m)
	return r, m
}

// ndiscSendSkb models ndisc_send_skb for message m, the data of r (an skb
// ndisc_alloc_skb made on d): the IPv6 header from src to daddr with hop
// limit 255 (ip6_nd_hdr), the ICMPv6 checksum, the namespace's ndisc
// socket as owner, then ip6_output's cgroup egress programs. It reports
// whether r goes on to the neighbour output (else it was dropped).
func (s *Stack) ndiscSendSkb(r *skb.Buff, ns *Netns, d *Device, src, daddr netip.Addr, m []byte) bool {
	n := len(m)
	hdr := r.Push(ip6Hlen)
	writeIPv6(hdr, 0, 0, n, nexthdrICMPv6, 255, src, daddr)
	s.acct.Op(cost.OpCsumByte, uint64(n))
	binary.BigEndian.PutUint16(m[2:], ^csumFold(csumAdd(pseudoSum(hdr, nexthdrICMPv6, n), m)))
	r.ResetNetworkHeader()
	sk := s.ctlSock(ns, &ns.ndiscSk, "ndisc", nexthdrICMPv6)
	initTxSkbProto(r, sk, ethPIPv6, sizeofIP6CB)
	r.H().IPSummed = skb.ChecksumNone
	s.traceOp(LayerIP, OpICMPSend, r)
	setDev(r, d)
	return s.cgroupEgress(r, sk) // dst_output -> ip6_output -> ip6_finish_output
}

// ndiscSendRedirect models ndisc_send_redirect() for packet b (data at its
// IPv6 header ip), which ip6_forward sends back out of in, its next hop
// target (the route's gateway, or the destination itself): none without a
// link-local address on in (the redirect's source), for a target that is
// neither the destination nor link-local, when the route back to the
// source goes through a gateway, or beyond the source's peer limit (one a
// second, a burst of six, on the tokens ICMPv6 errors to it use). The
// message carries the target's link-layer address when its neighbour
// entry is valid, and as much of b as keeps it within 1280 bytes, in 8-byte
// units (the redirected header option).
func (s *Stack) ndiscSendRedirect(b *skb.Buff, ns *Netns, in *Device, ip ipv6, target netip.Addr) {
	var ll netip.Addr
	for _, p := range in.addrs {
		if a := p.Addr(); a.Is6() && a.IsLinkLocalUnicast() {
			ll = a // ipv6_get_lladdr: the device's link-local address
			break
		}
	}
	if !ll.IsValid() || (target != ip.dst && !target.IsLinkLocalUnicast()) {
		return
	}
	if r := ns.mainRoute(ip.src); r == nil || r.reject != 0 || r.dev != in || r.via.IsValid() {
		return // ip6_route_output fails, or RTF_GATEWAY: not a neighbour
	}
	if !s.peerAllow(ns, ip.src, hz) {
		return
	}
	mac, haveMAC := s.neighValid(ns, in, target)
	optlen := 0
	if haveMAC {
		optlen = 8 // ndisc_opt_addr_space: ND_OPT_TARGET_LL_ADDR, 6 bytes
	}
	pkt := s.packetBytes(b)
	rdLen := min(ipv6MinMTU-ip6Hlen-rdMsgLen-optlen, len(pkt)+8) &^ 7
	n := rdMsgLen + optlen + rdLen
	r, m := s.ndiscAllocSkb(in, n)
	if r == nil {
		return
	}
	m[0] = ndiscRedirect
	t, dst := target.As16(), ip.dst.As16()
	copy(m[8:24], t[:])
	copy(m[24:40], dst[:])
	o := m[rdMsgLen:]
	if haveMAC {
		o[0], o[1] = 2, 1 // ND_OPT_TARGET_LL_ADDR
		copy(o[2:8], mac[:])
		o = o[8:]
	}
	if rdLen != 0 {
		o[0], o[1] = 4, uint8(rdLen>>3) // ND_OPT_REDIRECT_HDR
		copy(o[8:rdLen], pkt)
	}
	if s.ndiscSendSkb(r, ns, in, ll, ip.src, m) {
		s.ipFinishOutput2(r, ns, in, ip.src)
	}
}
