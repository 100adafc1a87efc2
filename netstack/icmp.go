package netstack

import (
	"cmp"
	"encoding/binary"
	"net/netip"

	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/skb"
)

// ICMP (IPv4): what icmp_rcv does with a message delivered to the host,
// and the messages the stack sends itself (icmp_send for errors,
// icmp_reply for echo and timestamp replies) when Options.Replies is on.
//
// Modelling decisions:
//   - The host has no raw and no ping sockets: an echo reply is dropped
//     by ping_rcv (NO_SOCKET), and an error message is consumed after
//     icmp_socket_deliver (the error handlers of UDP and TCP sockets only
//     note the error).
//   - The sysctls keep their defaults except where NamespaceConfig names
//     them (icmp_echo_ignore_all, icmp_echo_ignore_broadcasts,
//     icmp_errors_use_inbound_ifaddr, fwmark_reflect, icmp_ratelimit):
//     icmp_echo_ignore_all 0, icmp_echo_ignore_broadcasts 1,
//     icmp_ignore_bogus_error_responses 1, icmp_echo_enable_probe 0,
//     icmp_errors_use_inbound_ifaddr 0, icmp_ratemask 0x1818 (destination
//     unreachable, source quench, time exceeded, parameter problem),
//     icmp_msgs_per_sec 1000, icmp_msgs_burst 50, and HZ is 250, as on the
//     measured machine.
//   - The rate limits follow v6.18 (since v6.11: the per-peer limit is
//     checked before the global credit is spent, the global credit is per
//     namespace): icmp_global_allow, inet_peer_xrlim_allow and ip_error's
//     own token bucket, which shares the peer's tokens with the ICMP
//     limit. Time is the capture's (jiffies = capture time / (1s/HZ)).
//     icmp_global_consume spends get_random_u32_below(3) credits: the
//     model draws them from a generator with a fixed seed per stack.
//   - State is per flow shard: each shard's stack has its own namespaces,
//     so a capture replayed over S shards can get up to S times the
//     kernel's errors within a burst (a scenario with `shards: 1` gives
//     the kernel's count). The peers of a namespace are a table of
//     icmpPeers entries; a new peer in a full table evicts the one used
//     longest ago (the kernel's inet_peer tree drops peers unused for
//     inet_peer_maxttl once it holds inet_peer_threshold of them).
//   - An answer echoes the record route and timestamp options of the
//     packet it answers (ipopts.go: __ip_options_echo, ip_options_build);
//     above the route's MTU, the fragments after the first carry only
//     the copied ones (ip_options_fragment).

// ICMP message types and codes (include/uapi/linux/icmp.h).
const (
	icmpHlen           = 8
	icmpEchoReply      = 0
	icmpDestUnreach    = 3
	icmpSourceQuench   = 4
	icmpRedirect       = 5
	icmpEcho           = 8
	icmpTimeExceeded   = 11
	icmpParameterProb  = 12
	icmpTimestamp      = 13
	icmpTimestampReply = 14
	icmpAddress        = 17
	icmpAddressReply   = 18
	nrICMPTypes        = 18 // NR_ICMP_TYPES
	icmpExtEcho        = 42 // ICMP_EXT_ECHO (RFC 8335 PROBE)
	nrICMPUnreach      = 15 // NR_ICMP_UNREACH

	icmpNetUnreach  = 0  // ICMP_NET_UNREACH
	icmpHostUnreach = 1  // ICMP_HOST_UNREACH
	icmpProtUnreach = 2  // ICMP_PROT_UNREACH
	icmpPortUnreach = 3  // ICMP_PORT_UNREACH
	icmpFragNeeded  = 4  // ICMP_FRAG_NEEDED
	icmpPktFiltered = 13 // ICMP_PKT_FILTERED
	icmpExcTTL      = 0  // ICMP_EXC_TTL
	icmpExcFragtime = 1  // ICMP_EXC_FRAGTIME
)

// Rate limit parameters (see the modelling decisions above).
const (
	hz               = 250    // CONFIG_HZ of the measured machine
	icmpRatemask     = 0x1818 // net.ipv4.icmp_ratemask
	icmpMsgsPerSec   = 1000   // net.ipv4.icmp_msgs_per_sec
	icmpMsgsBurst    = 50     // net.ipv4.icmp_msgs_burst
	xrlimBurstFactor = 6      // XRLIM_BURST_FACTOR
	ipRtErrorCost    = hz     // ip_rt_error_cost
	ipRtErrorBurst   = 5 * hz // ip_rt_error_burst
	icmpPeers        = 1024   // the model's peers per namespace
	icmpMaxReply     = 576    // RFC 1812's bound on an error's size
)

// DefaultICMPRatelimit is net.ipv4.icmp_ratelimit's default, in
// milliseconds (NamespaceConfig.ICMPRatelimit).
const DefaultICMPRatelimit = 1000

// icmpIsError is icmp_pointers[t].error.
func icmpIsError(t uint8) bool {
	switch t {
	case 1, 2, icmpDestUnreach, icmpSourceQuench, icmpRedirect, 6, 7, 9, 10, icmpTimeExceeded, icmpParameterProb:
		return true
	}
	return false
}

// icmpState is a namespace's ICMP rate limit state: the global credit
// (net->ipv4.icmp_global_credit and _stamp) and the inet_peer tokens.
type icmpState struct {
	credit  int32
	stamp   uint32
	peers   map[netip.Addr]int32
	ents    []inetPeer
	useTick uint64
}

// inetPeer is the rate limit part of struct inet_peer.
type inetPeer struct {
	addr         netip.Addr
	tokens, last uint64 // rate_tokens, rate_last (jiffies)
	nRedirects   uint8  // n_redirects (ip_rt_send_redirect)
	used         uint64
}

// msecsToJiffies is msecs_to_jiffies (rounding up).
func msecsToJiffies(ms int) uint64 { return (uint64(ms)*hz + 999) / 1000 }

// jiffies is the capture time in jiffies.
func (s *Stack) jiffies() uint64 { return uint64(s.now) / (1e9 / hz) }

// icmpOf returns ns's rate limit state, made at first use as the
// namespace's icmp_sk_init leaves it: no credit, a stamp older than a
// second.
func (s *Stack) icmpOf(ns *Netns) *icmpState {
	if ns.icmp == nil {
		ns.icmp = &icmpState{stamp: uint32(s.jiffies()) - hz, peers: make(map[netip.Addr]int32, icmpPeers),
			ents: make([]inetPeer, 0, icmpPeers)}
	}
	return ns.icmp
}

// peer models inet_getpeer_v4: a's entry, made with rate_last 60 seconds
// back (so that the first token count is the maximum) when there is none.
func (st *icmpState) peer(a netip.Addr, now uint64) *inetPeer {
	st.useTick++
	if i, ok := st.peers[a]; ok {
		p := &st.ents[i]
		p.used = st.useTick
		return p
	}
	var i int32
	if len(st.ents) < cap(st.ents) {
		i = int32(len(st.ents))
		st.ents = st.ents[:i+1]
	} else {
		for j := range st.ents {
			if st.ents[j].used < st.ents[i].used {
				i = int32(j)
			}
		}
		delete(st.peers, st.ents[i].addr)
	}
	st.peers[a] = i
	st.ents[i] = inetPeer{addr: a, last: now - 60*hz, used: st.useTick}
	return &st.ents[i]
}

// icmpMaskAllow models icmpv4_mask_allow: types outside the ratemask and
// PMTU discovery's fragmentation needed are never limited.
func icmpMaskAllow(typ, code uint8) bool {
	if typ > nrICMPTypes || (typ == icmpDestUnreach && code == icmpFragNeeded) {
		return true
	}
	return icmpRatemask&(1<<typ) == 0
}

// icmpGlobalAllow models icmpv4_global_allow -> icmp_global_allow: a
// message the ratemask covers needs credit, refilled at most every
// HZ/50 by msgs_per_sec per second up to the burst. apply says the peer
// limit and the credit's consumption apply.
func (s *Stack) icmpGlobalAllow(ns *Netns, typ, code uint8) (ok, apply bool) {
	if icmpMaskAllow(typ, code) {
		return true, false
	}
	return s.icmpGlobalCredit(ns), true
}

// icmpGlobalCredit models icmp_global_allow for ns: some credit left, or
// refilled (at most every HZ/50, msgs_per_sec per second up to the
// burst).
func (s *Stack) icmpGlobalCredit(ns *Netns) bool {
	st := s.icmpOf(ns)
	if st.credit > 0 {
		return true
	}
	now := uint32(s.jiffies())
	delta := min(now-st.stamp, hz)
	if delta < hz/50 {
		return false
	}
	incr := int32(icmpMsgsPerSec * delta / hz)
	if incr == 0 {
		return false
	}
	st.stamp = now
	st.credit = min(st.credit+incr, icmpMsgsBurst)
	return true
}

// icmpXrlimAllow models icmpv4_xrlim_allow for a message to dst sent out
// of out: no limit unless apply, none over loopback, else the peer's
// inet_peer_xrlim_allow with icmp_ratelimit; an allowed message spends
// 0 to 2 global credits (icmp_global_consume).
func (s *Stack) icmpXrlimAllow(ns *Netns, out *Device, dst netip.Addr, apply bool) bool {
	if !apply {
		return true
	}
	if out.kid != kidLoopback && !s.peerAllow(ns, dst, ns.icmpRatelimit) {
		return false // ICMP_MIB_RATELIMITHOST
	}
	s.icmpOf(ns).credit -= int32(s.randBelow3()) // icmp_global_consume
	return true
}

// peerAllow is inet_peer_xrlim_allow for peer a with an interval of tmo
// jiffies: a token a jiffy, six intervals' worth at most
// (XRLIM_BURST_FACTOR), an interval's worth a message.
func (s *Stack) peerAllow(ns *Netns, a netip.Addr, tmo uint64) bool {
	now := s.jiffies()
	p := s.icmpOf(ns).peer(a, now)
	tok := p.tokens
	if delta := now - p.last; delta != 0 {
		p.last = now
		tok = min(tok+delta, xrlimBurstFactor*tmo)
	}
	ok := tok >= tmo
	if ok {
		tok -= tmo
	}
	p.tokens = tok
	return ok
}

// ipErrorAllow models ip_error's token bucket for an error to src: one
// ip_rt_error_cost per message, refilled a token a jiffy up to
// ip_rt_error_burst, on the peer's tokens that icmpXrlimAllow spends
// too.
func (s *Stack) ipErrorAllow(ns *Netns, src netip.Addr) bool {
	now := s.jiffies()
	p := s.icmpOf(ns).peer(src, now)
	p.tokens = min(p.tokens+(now-p.last), ipRtErrorBurst)
	p.last = now
	if p.tokens >= ipRtErrorCost {
		p.tokens -= ipRtErrorCost
		return true
	}
	return false
}

// randBelow3 is get_random_u32_below(3), from the stack's xorshift
// generator.
func (s *Stack) randBelow3() uint32 {
	x := s.rnd
	if x == 0 {
		x = 0x9e3779b9
	}
	x ^= x << 13
	x ^= x >> 17
	x ^= x << 5
	s.rnd = x
	return uint32((uint64(x) * 3) >> 32)
}

// icmpRcv models icmp_rcv() for a message delivered to ns (b's data at
// the ICMP header, ip its IP header): the checksum
// (skb_checksum_simple_validate: ICMP_CSUM), the header (a message
// shorter than 8 bytes: NOT_SPECIFIED), an unknown type (UNHANDLED_PROTO),
// a broadcast or multicast destination (INVALID_PROTO for all but the
// address mask types, echo and timestamp requests included while
// icmp_echo_ignore_broadcasts is set), then the type's handler:
// ping_rcv drops an echo reply (NO_SOCKET: no ping socket), icmp_echo and
// icmp_timestamp answer (icmpReply), icmp_unreach and icmp_redirect check
// the quoted header, and the rest is consumed.
func (s *Stack) icmpRcv(b *skb.Buff, ns *Netns, ip ipv4) {
	s.traceOp(LayerL4, OpICMPRcv, b)
	if s.icmpCsumBad(b) {
		s.drop(b, skb.DropICMPCsum, OpICMPRcv)
		return
	}
	if b.Len() < icmpHlen || !b.MayPull(icmpHlen) { // pskb_pull
		s.drop(b, skb.DropNotSpecified, OpICMPRcv)
		return
	}
	d := b.Data()
	typ, code := d[0], d[1]
	if typ == icmpExtEcho {
		// icmp_echo: icmp_build_probe refuses while
		// icmp_echo_enable_probe is 0; the request is consumed.
		s.consume(b, DeliverOther, -1)
		return
	}
	if typ > nrICMPTypes {
		s.drop(b, skb.DropUnhandledProto, OpICMPRcv)
		return
	}
	if ns.isBcastMcastIn4(ip.dst.As4()) && typ != icmpAddress && typ != icmpAddressReply &&
		((typ != icmpEcho && typ != icmpTimestamp) || !ns.echoBcast) {
		s.drop(b, skb.DropInvalidProto, OpICMPRcv)
		return
	}
	reason := skb.SkbNotDroppedYet
	switch typ {
	case icmpEchoReply:
		reason = skb.DropNoSocket // ping_rcv
	case icmpEcho:
		if !ns.echoIgnoreAll { // icmp_echo
			s.icmpReply(b, ns, ip, icmpEchoReply)
		}
	case icmpTimestamp:
		if b.Len() < icmpHlen+4 {
			reason = skb.DropPktTooSmall
		} else {
			s.icmpReply(b, ns, ip, icmpTimestampReply)
		}
	case icmpDestUnreach, icmpSourceQuench, icmpTimeExceeded, icmpParameterProb:
		reason = s.icmpUnreach(b, typ, code)
	case icmpRedirect:
		// icmp_redirect: the quoted IP header must be there, then
		// icmp_socket_deliver as below.
		if b.Len() < icmpHlen+ipHlen {
			reason = skb.DropPktTooSmall
		}
	}
	if reason != skb.SkbNotDroppedYet {
		s.drop(b, reason, OpICMPRcv)
		return
	}
	s.consume(b, DeliverOther, -1)
}

// icmpUnreach models icmp_unreach() (destination unreachable, source
// quench, time exceeded, parameter problem; b's data at the ICMP header):
// the quoted IP header must be there (NOT_SPECIFIED) and have an IHL of 5
// or more (IP_INHDR); an unreachable code above NR_ICMP_UNREACH and a
// reassembly time exceeded go no further; the rest goes to
// icmp_socket_deliver. All but the first two are consumed.
func (s *Stack) icmpUnreach(b *skb.Buff, typ, code uint8) skb.DropReason {
	if b.Len() < icmpHlen+ipHlen || !b.MayPull(icmpHlen+ipHlen) {
		return skb.DropNotSpecified
	}
	if b.Data()[icmpHlen]&0xf < 5 {
		return skb.DropIPInhdr
	}
	if (typ == icmpDestUnreach && code > nrICMPUnreach) || (typ == icmpTimeExceeded && code == icmpExcFragtime) {
		return skb.SkbNotDroppedYet
	}
	// icmp_socket_deliver: without the quoted IP header and 8 bytes of
	// what it carries the protocol's error handler does not run (which
	// only notes the error) and the message counts in ICMP_MIB_INERRORS,
	// but it is consumed all the same (measured on 6.18: TestKernelICMPRcv).
	return skb.SkbNotDroppedYet
}

// icmpCsumBad models skb_checksum_simple_validate on an ICMP message (b's
// data at its header; no pseudo-header).
func (s *Stack) icmpCsumBad(b *skb.Buff) bool { return s.msgCsumBad(b, nil) }

// msgCsumBad models __skb_checksum_validate on a message whose data is at
// its header, with the IPv6 pseudo-header of IPv6 header nh (ICMPv6) or
// none (nil: ICMP): a verified level is used up as rxCsumBad does, a
// CHECKSUM_NONE message is summed in software.
func (s *Stack) msgCsumBad(b *skb.Buff, nh []byte) bool {
	h := b.H()
	if h.CsumValid {
		return false
	}
	switch h.IPSummed {
	case skb.ChecksumUnnecessary:
		h.CsumValid = true
		decrCsumUnnecessary(h)
		return false
	case skb.ChecksumNone:
	default:
		return false
	}
	var ps uint64
	if nh != nil {
		ps = pseudoSum(nh, nexthdrICMPv6, b.Len())
	}
	s.acct.Op(cost.OpCsumByte, uint64(b.Len()))
	ok := csumFold(csumAdd(ps, s.l4Bytes(b, 0))) == 0xffff
	h.CsumValid = ok
	return !ok
}

// icmpReply models icmp_echo and icmp_timestamp -> icmp_reply() for
// request b (data at the ICMP header) when Options.Replies is on: an echo
// reply carries the request's identifier, sequence and data; a timestamp
// reply the originate timestamp and receive and transmit timestamps of
// the capture time (ms since midnight UT). The reply goes from the
// request's destination (fib_compute_spec_dst) to its source, with the
// request's TOS and the reply mark (IP4_REPLY_MARK). Echo and timestamp
// replies are outside the ratemask: no rate limit.
func (s *Stack) icmpReply(b *skb.Buff, ns *Netns, ip ipv4, typ uint8) {
	if !s.cfg.Options.Replies {
		return
	}
	d := b.Data()
	var hdr [icmpHlen + 12]byte
	copy(hdr[:icmpHlen], d[:icmpHlen])
	hdr[0], hdr[1] = typ, 0
	hlen, body := icmpHlen, d[icmpHlen:]
	if typ == icmpTimestampReply {
		copy(hdr[icmpHlen:icmpHlen+4], d[icmpHlen:icmpHlen+4])
		ms := uint32((s.now / 1e6) % (24 * 3600 * 1000)) // inet_current_timestamp
		binary.BigEndian.PutUint32(hdr[icmpHlen+4:], ms)
		binary.BigEndian.PutUint32(hdr[icmpHlen+8:], ms)
		hlen, body = icmpHlen+12, nil
	}
	if b.IsNonlinear() && len(body) != 0 {
		body = s.l4Bytes(b, icmpHlen)
	}
	// The reply's source is fib_compute_spec_dst: the request's
	// destination, unless it was a broadcast or a group.
	src := ip.dst
	if ns.isBcastMcastIn4(src.As4()) {
		src = netip.AddrFrom4(s.specDst(ns, s.devOf(b), ip, false))
	}
	s.icmpPush(b, ns, src, ip.src, ip.tos, hdr[:hlen], body, false, false)
}

// icmpSend models __icmp_send() for skb b, whose network header is its
// IPv4 header and which was routed to ns (local: the input route is
// RTCF_LOCAL), when Options.Replies is on: no error about a frame that
// was not PACKET_HOST, a broadcast or multicast destination, a later
// fragment or an ICMP error; the global limit (unless b came in on
// loopback), the route back to the source (none: no error), the peer's
// limit, then the message: the ICMP header and as much of the packet from
// its IP header as keeps it within 576 bytes and the route's MTU. Its
// source is the packet's destination when local, else the address the
// route picks (icmp_errors_use_inbound_ifaddr 0).
func (s *Stack) icmpSend(b *skb.Buff, ns *Netns, typ, code uint8, info uint32, local bool) {
	if !s.cfg.Options.Replies {
		return
	}
	if b.Len()-b.NetworkOffset() < ipHlen || b.H().PktType != skb.PacketHost {
		return
	}
	pkt := s.packetBytes(b)
	ip, ok := parseIPv4(pkt)
	if !ok || ns.isBcastMcastIn4(ip.dst.As4()) || ip.fragOff&0x1fff != 0 {
		return
	}
	if icmpIsError(typ) && ip.proto == ipprotoICMP {
		if len(pkt) <= ip.ihl {
			return
		}
		if it := pkt[ip.ihl]; it > nrICMPTypes || icmpIsError(it) {
			return
		}
	}
	tos := ip.tos
	if icmpIsError(typ) {
		tos = tos&0x1e | 0xc0 // RT_TOS(tos) | IPTOS_PREC_INTERNETCONTROL
	}
	var hdr [icmpHlen]byte
	hdr[0], hdr[1] = typ, code
	binary.BigEndian.PutUint32(hdr[4:], info)
	src := ip.dst
	in := s.devOf(b)
	if !local {
		src = netip.Addr{}
		if ns.errInboundIfaddr && in != nil && !isLoopback(in) {
			// icmp_errors_use_inbound_ifaddr: inet_select_addr(dev,
			// saddr, RT_SCOPE_LINK) of the input device.
			src = fibPrefSrc(ns, in, ip.src, false)
		}
	}
	s.icmpPush(b, ns, src, ip.src, tos, hdr[:], pkt, true, isLoopback(in))
}

// ipError models ip_error()'s error for packet b (data at its IP header
// ip) on a forwarding device: ip_error's token bucket for the source,
// then icmp_send of a destination unreachable with code.
func (s *Stack) ipError(b *skb.Buff, ns *Netns, ip ipv4, code uint8) {
	if s.cfg.Options.Replies && s.ipErrorAllow(ns, ip.src) {
		s.icmpSend(b, ns, icmpDestUnreach, code, 0, false)
	}
}

// isLoopback reports whether d is a loopback device.
func isLoopback(d *Device) bool { return d != nil && d.kid == kidLoopback }

// icmpPush builds and sends an ICMP message from src (invalid: the
// route's choice) to dst: for an error (quote set), the rate limits and
// the size bound first. It models icmp_push_reply -> ip_append_data on
// the ICMP socket (one skb of the message plus LL_RESERVED_SPACE + 15
// bytes, or fragment-sized pieces above the MTU; owned by the socket, the
// ICMP checksum complete: CHECKSUM_NONE) -> ip_push_pending_frames
// (ip_local_out; the socket's pmtudisc is IP_PMTUDISC_DONT: no DF).
func (s *Stack) icmpPush(b *skb.Buff, ns *Netns, src, dst netip.Addr, tos uint8, hdr, body []byte, isErr, inLoopback bool) {
	typ, code := hdr[0], hdr[1]
	apply := false
	if isErr && !inLoopback {
		ok, ap := s.icmpGlobalAllow(ns, typ, code)
		if !ok {
			return // ICMP_MIB_RATELIMITGLOBAL
		}
		apply = ap
	}
	// __ip_options_echo (icmp_reply, __icmp_send): the options the
	// answer carries.
	opts, fill, ok := s.ipOptionsEcho(b, ns)
	if !ok {
		return
	}
	// icmp_route_lookup, icmp_reply's flowi4: the type and code in
	// flowi_uli.
	fl := flow{dst: dst, src: src, mark: replyMark(b, ns.fwmarkReflect), proto: ipprotoICMP, dport: uint16(typ)<<8 | uint16(code), dscp: tos &^ 3}
	var pk *mpPacket
	if isErr && ns.multipath4 {
		pk = &mpPacket{b: b, p: body} // icmp_route_lookup's skb_in
	}
	out, nh, mtu := s.routeOutputPath(ns, &fl, pk)
	if out == nil {
		return
	}
	if !s.icmpXrlimAllow(ns, out, dst, apply) {
		return
	}
	hl := ipHlen + len(opts)
	if isErr {
		room := min(mtu, icmpMaxReply) - hl - icmpHlen
		if room <= ipHlen {
			return
		}
		body = body[:min(len(body), room)]
	}
	if !src.IsValid() {
		gw := netip.Addr{}
		if nh != dst {
			gw = nh
		}
		// ip_route_output_key_hash: fib_result_prefsrc, the route's
		// preferred source first.
		if src = cmp.Or(fl.prefsrc, fibPrefSrc(ns, out, gw, false)); !src.IsValid() {
			src = netip.AddrFrom4([4]byte{192, 0, 0, 8}) // INADDR_DUMMY
		}
	}
	n := hl + len(hdr) + len(body)
	pkt := s.replyBuf(n)
	m := pkt[hl:]
	copy(m, hdr)
	copy(m[len(hdr):], body)
	binary.BigEndian.PutUint16(m[2:], 0)
	s.acct.Op(cost.OpCsumByte, uint64(len(m))) // icmp_glue_bits: skb_copy_and_csum_bits
	binary.BigEndian.PutUint16(m[2:], ^csumFold(csumAdd(0, m)))
	ns.ipID++
	writeIPv4(pkt, tos, n, ns.ipID, false, 64, ipprotoICMP, src, dst) // sysctl_ip_default_ttl
	if len(opts) != 0 {
		s.ipOptionsBuild(pkt, opts, fill)
	}
	s.replyXmit(b, ns, s.ctlSock(ns, &ns.icmpSk, "icmp", ipprotoICMP), pkt, out, nh, mtu, OpICMPSend)
}

// replyBuf returns the stack's reply buffer, n bytes long.
func (s *Stack) replyBuf(n int) []byte {
	if cap(s.icmpBuf) < n {
		s.icmpBuf = make([]byte, n)
	}
	return s.icmpBuf[:n]
}

// replyMark is IP4_REPLY_MARK (IP6_REPLY_MARK): the mark of the packet
// answered with fwmark_reflect, else 0.
func replyMark(b *skb.Buff, reflect bool) uint32 {
	if reflect {
		return b.H().Mark
	}
	return 0
}

// replyXmit sends pkt (an IPv4 packet, header included), a kernel
// socket's answer to b, out of out to next hop nh: ip_append_data (one
// skb of the packet plus LL_RESERVED_SPACE + 15 bytes, or fragment-sized
// pieces above mtu, the route's; owned by the socket; its checksum complete:
// CHECKSUM_NONE; the mark IP4_REPLY_MARK: b's with fwmark_reflect, else
// 0), then ip_push_pending_frames -> ip_local_out -> ip_output.
func (s *Stack) replyXmit(b *skb.Buff, ns *Netns, sk *Socket, pkt []byte, out *Device, nh netip.Addr, mtu int, op Op) {
	sk.mark = 0
	if ns.fwmarkReflect {
		sk.mark = b.H().Mark // IP4_REPLY_MARK
	}
	var r *skb.Buff
	hl := int(pkt[0]&0xf) * 4
	if n := len(pkt); n > mtu {
		r = s.ipAppendData(pkt, hl, out, mtu)
	} else {
		hh := llReservedSpace(out)
		var err error
		if r, err = s.a.AllocSkb(n + hh + 15); err == nil {
			r.Reserve(hh)
			r.PutData(pkt)
			r.SetTransportHeader(hl)
		}
	}
	if r == nil {
		s.dropNoSkb(out, skb.DropNomem, op) // ip_append_data fails: ICMP_MIB_OUTERRORS
		return
	}
	initTxSkbProto(r, sk, ethPIP, sizeofIPCB)
	r.H().IPSummed = skb.ChecksumNone
	s.traceOp(LayerIP, op, r)
	// ip_local_out: the header is complete (tot_len, checksum) and so is
	// the transport checksum, which a socket's own send leaves partial.
	s.ipOutput(r, ns, out, nh, sk, mtu)
}

// ctlSock is the kernel socket *p of ns, made at first use: the ICMP
// socket (the per-CPU ipv4_icmp_sk or ipv6_icmp_sk, which
// icmp_xmit_lock moves to the namespace) or TCP's control socket (the
// per-CPU ipv4_tcp_sk that tcp_v4_send_reset moves there), both made at
// boot and so of the root cgroup; or the namespace's ndisc socket, whose
// cgroup is the one of the task that made the namespace (the root in the
// model). Priority 0, no tx hash.
func (s *Stack) ctlSock(ns *Netns, p **Socket, name string, l4 uint8) *Socket {
	if *p == nil {
		*p = &Socket{idx: -1, name: name, ns: ns, proto: name, l4: l4}
		(*p).initFns()
	}
	return *p
}

// packetBytes returns b's bytes from its network header to its end,
// copied into the stack's scratch buffer when b is non-linear.
func (s *Stack) packetBytes(b *skb.Buff) []byte {
	noff := b.NetworkOffset()
	if noff >= 0 {
		return s.l4Bytes(b, noff)
	}
	b.Push(-noff)
	pkt := s.l4Bytes(b, 0)
	b.Pull(-noff)
	return pkt
}

// netHeader returns b's bytes from its network header on, for a
// transport handler's view (data past the header).
func netHeader(b *skb.Buff) []byte {
	off := -b.NetworkOffset()
	b.Push(off)
	d := b.Data()
	b.Pull(off)
	return d
}

// ipv4Of and ipv6Of parse the IP header of b (netHeader).
func ipv4Of(b *skb.Buff) ipv4 {
	ip, _ := parseIPv4(netHeader(b))
	return ip
}

func ipv6Of(b *skb.Buff) ipv6 {
	ip, _ := parseIPv6(netHeader(b))
	return ip
}
