package netstack

import (
	"encoding/binary"
	"net/netip"

	"github.com/skbsim/skbsim/skb"
)

// IPv6 header and extension header numbers used by the model.
const (
	ip6Hlen        = 40
	sizeofIP6CB    = 24 // struct inet6_skb_parm
	nexthdrHop     = 0
	nexthdrTCP     = 6
	nexthdrUDP     = 17
	nexthdrRouting = 43
	nexthdrFrag    = 44
	nexthdrICMPv6  = 58
	nexthdrNone    = 59
	nexthdrDest    = 60
)

// ipv6 is a parsed IPv6 fixed header.
type ipv6 struct {
	payloadLen int
	next       uint8
	hopLimit   uint8
	src, dst   netip.Addr
}

func parseIPv6(b []byte) (h ipv6, ok bool) {
	if len(b) < ip6Hlen {
		return h, false
	}
	h.payloadLen = int(binary.BigEndian.Uint16(b[4:6]))
	h.next = b[6]
	h.hopLimit = b[7]
	h.src = netip.AddrFrom16([16]byte(b[8:24]))
	h.dst = netip.AddrFrom16([16]byte(b[24:40]))
	return h, b[0]>>4 == 6
}

// mcScope is IPV6_ADDR_MC_SCOPE: the low nibble of the second byte of a
// multicast address.
func mcScope(a netip.Addr) uint8 { return a.As16()[1] & 0x0f }

// ip6Rcv models ipv6_rcv -> ip6_rcv_core -> ip6_rcv_finish: the header
// checks and drop reasons of ip6_rcv_core, IP6CB cleared, the
// hop-by-hop header's length, then ip6_route_input: local (ip6_input),
// multicast (ip6_mc_input) or forwarding (ip6_forward). Takes ownership of
// skb.
func (s *Stack) ip6Rcv(b *skb.Buff) {
	h := b.H()
	if h.PktType == skb.PacketOtherhost {
		s.drop(b, skb.DropOtherhost, OpIP6Rcv)
		return
	}
	d := s.devOf(b)
	ns := d.ns
	if ns.noIPv6 {
		// idev->cnf.disable_ipv6 (net.ipv6.conf.all.disable_ipv6 copies
		// to every device).
		s.drop(b, skb.DropIPv6Disabled, OpIP6Rcv)
		return
	}
	if d.noIdev6 {
		s.drop(b, skb.DropNotSpecified, OpIP6Rcv) // ip6_rcv_core: !idev
		return
	}
	clear(h.CB[:sizeofIP6CB]) // memset(IP6CB(skb), 0, sizeof(struct inet6_skb_parm))
	binary.LittleEndian.PutUint32(h.CB[0:4], uint32(d.ifindex))
	if !b.MayPull(ip6Hlen) {
		s.drop(b, skb.DropIPInhdr, OpIP6Rcv) // pskb_may_pull(skb, sizeof(*hdr)) -> err
		return
	}
	ip, v6 := parseIPv6(b.Data())
	if !v6 {
		s.drop(b, skb.DropUnhandledProto, OpIP6Rcv) // hdr->version != 6
		return
	}
	lo := d.kind == KindLoopback
	switch {
	case (ip.src == netip.IPv6Loopback() || ip.dst == netip.IPv6Loopback()) && !lo,
		// RFC 4291 2.5.3, errata 3480 (interface-local multicast from
		// outside), 2.7 (reserved scope 0, multicast source).
		ip.dst.IsMulticast() && mcScope(ip.dst) == 1 && !lo && h.PktType != skb.PacketLoopback,
		ip.dst.IsMulticast() && mcScope(ip.dst) == 0,
		ip.src.IsMulticast():
		s.drop(b, skb.DropIPInhdr, OpIP6Rcv)
		return
	case ns.dropL2Mcast6 && !ip.dst.IsMulticast() && (h.PktType == skb.PacketBroadcast || h.PktType == skb.PacketMulticast):
		// idev->cnf.drop_unicast_in_l2_multicast.
		s.drop(b, skb.DropUnicastInL2Multicast, OpIP6Rcv)
		return
	}
	b.SetTransportHeader(ip6Hlen)
	// ip6_rcv_core: IP6CB(skb)->nhoff = offsetof(struct ipv6hdr, nexthdr).
	binary.LittleEndian.PutUint16(h.CB[ip6cbNhoff:], 6)
	if ip.payloadLen != 0 || ip.next != nexthdrHop {
		if ip.payloadLen+ip6Hlen > b.Len() {
			s.drop(b, skb.DropPktTooSmall, OpIP6Rcv)
			return
		}
		if b.PskbTrim(ip.payloadLen+ip6Hlen) != nil { // pskb_trim_rcsum: IPSTATS_MIB_INDISCARDS, drop
			s.drop(b, skb.DropNotSpecified, OpIP6Rcv)
			return
		}
	}
	if ip.next == nexthdrHop {
		// ipv6_parse_hopopts: the header must be there (else kfree_skb);
		// its options are not interpreted by the model (as padding).
		if !b.MayPull(ip6Hlen + 8) {
			s.drop(b, skb.DropNotSpecified, OpIP6Rcv)
			return
		}
		if n, ok := extLen(b.Data()[ip6Hlen:]); !ok || !b.MayPull(ip6Hlen+n) {
			s.drop(b, skb.DropNotSpecified, OpIP6Rcv)
			return
		}
	}
	b.Orphan()
	tunID := ns.rxTunID(b) // ip6_route_input: flowi6_tun_key.tun_id
	b.DropTunnelDst()      // ip6_route_input: skb_dst_drop
	s.traceOp(LayerIP, OpIP6Rcv, b)
	switch {
	case ip.dst.IsMulticast():
		// ip6_mc_input: delivered when the host joined the group
		// (ipv6_chk_mcast_addr): all-nodes and the solicited-node groups
		// of its addresses.
		if !s.joined6(ns, ip.dst) {
			s.drop(b, skb.DropNotSpecified, OpIP6McInput)
			return
		}
		s.ip6LocalDeliver(b, ns, ip)
	case s.isLocal(ns, ip.dst):
		s.ip6LocalDeliver(b, ns, ip)
	default:
		s.ip6Forward(b, ns, ip, tunID)
	}
}

// extLen returns the length of an extension header ((hdrlen + 1) * 8).
func extLen(b []byte) (int, bool) {
	if len(b) < 8 {
		return 0, false
	}
	return (int(b[1]) + 1) * 8, true
}

// joined6 models ipv6_chk_mcast_addr for the groups every IPv6 device
// joins: ff02::1 (all nodes) and ff02::1:ffXX:XXXX for each address and
// each IPv6 proxy entry (pndisc_constructor), and the all-routers groups
// when the namespace forwards.
func (s *Stack) joined6(ns *Netns, g netip.Addr) bool {
	a := g.As16()
	if a == [16]byte{0xff, 0x02, 15: 1} {
		return true
	}
	if ns.fwd6 && a[0] == 0xff && (a[1] == 1 || a[1] == 2 || a[1] == 5) && [14]byte(a[2:]) == [14]byte{13: 2} {
		// dev_forward_change: a forwarding device joins the all-routers
		// groups ff01::2, ff02::2 and ff05::2.
		return true
	}
	sol := [13]byte{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff}
	if [13]byte(a[:13]) != sol {
		return false
	}
	for _, d := range ns.devs {
		if d == nil {
			continue
		}
		for _, p := range d.addrs {
			if x := p.Addr().As16(); p.Addr().Is6() && [3]byte(x[13:]) == [3]byte(a[13:]) {
				return true
			}
		}
	}
	for _, e := range ns.pneigh {
		if x := e.addr.As16(); e.addr.Is6() && [3]byte(x[13:]) == [3]byte(a[13:]) {
			return true
		}
	}
	for _, e := range ns.anycast6 {
		if x := e.addr.As16(); [3]byte(x[13:]) == [3]byte(a[13:]) {
			return true // __ipv6_dev_ac_inc's solicited-node group
		}
	}
	return false
}

// ip6LocalDeliver models ip6_input -> ip6_input_finish ->
// ip6_protocol_deliver_rcu: skb_clear_delivery_time, the extension headers
// walked (hop-by-hop and destination options skipped; a routing header with
// segments left 0 skipped; a fragment header handed to ipv6_frag_rcv,
// which queues the fragment or resubmits the reassembled datagram), then
// the final protocol: UDP (udpv6_rcv), TCP (tcp_v6_rcv), IPv6 or IPv4 in
// IPv6 (ip6ip6_rcv / ip4ip6_rcv of ip6_tunnel), GRE (ip6_gre's gre_rcv), ICMPv6 (icmpv6_rcv,
// icmp6.go), no next header (ipv6_nodata_rcv consumes it); a protocol
// without a handler drops with IP_NOPROTO. Not modelled: routing headers
// with segments left (SRH processing; seg6 is disabled by default, where
// ipv6_srh_rcv frees the skb): dropped with NOT_SPECIFIED at
// ip6_protocol_deliver_rcu. Takes ownership of skb.
func (s *Stack) ip6LocalDeliver(b *skb.Buff, ns *Netns, ip ipv6) {
	s.clearDeliveryTime(b)
	off, next, nhoff := ip6Hlen, ip.next, 6
	data := b.Data()
	reasm, frag := false, false
	for {
		switch next {
		case nexthdrHop, nexthdrDest, nexthdrRouting:
			n, ok := extLen(data[off:])
			if !ok || off+n > len(data) {
				s.drop(b, skb.DropNotSpecified, OpIP6LocalDeliver)
				return
			}
			if next == nexthdrRouting && data[off+3] != 0 {
				s.drop(b, skb.DropNotSpecified, OpIP6LocalDeliver) // segments left: not modelled
				return
			}
			next, nhoff = data[off], off
			off += n
			continue
		case nexthdrFrag:
			r, atomic := s.ipv6FragRcv(b, ns, off, nhoff)
			if r == nil {
				return
			}
			frag = true // IP6SKB_FRAGMENTED
			b, data = r, r.Data()
			if atomic {
				next, nhoff = data[off], off
				off += fragHdrLen
			} else {
				next = data[nhoff] // resubmit: the reassembled datagram
				reasm = true
			}
			continue
		}
		break
	}
	if reasm && s.cfg.Options.TrustReassembledCsum {
		s.trustReasmCsum(b, off, next)
	}
	b.Pull(off)
	b.SetTransportHeader(0)
	s.traceOp(LayerIP, OpIP6LocalDeliver, b)
	switch next {
	case nexthdrUDP:
		s.udpRcv(b, ns, ip.dst, OpUDP6Rcv)
	case nexthdrTCP:
		s.tcpRcv(b, ns, ip.dst, OpTCP6Rcv)
	case ipprotoIPv6, ipprotoIPIP:
		s.ip6TnlRcv(b, ns, ip, next)
	case ipprotoGRE:
		s.gre6Rcv(b, ns, ip)
	case nexthdrICMPv6:
		s.icmp6Rcv(b, ns, ip, frag)
	case nexthdrNone:
		s.consume(b, DeliverOther, -1) // ipv6_nodata_rcv
	default:
		// ip6_protocol_deliver_rcu: icmpv6_param_prob_reason(skb,
		// ICMPV6_UNK_NEXTHDR, nhoff, IP_NOPROTO).
		s.icmp6Send(b, ns, s.devOf(b), icmp6ParamProb, icmp6UnkNexthdr, uint32(nhoff))
		s.drop(b, skb.DropIPNoproto, OpIP6LocalDeliver)
	}
}

// ip6Forward models ip6_route_input's forwarding route and ip6_forward():
// no route is ip6_pkt_discard (IP_INNOROUTES); forwarding off, IP_INADDRERRORS;
// only PACKET_HOST without a socket is forwarded; hop limit <= 1 drops
// (IP_INHDR, ICMPV6_EXC_HOPLIMIT); a packet above the MTU is PKT_TOO_BIG
// (IPv6 routers never fragment); skb_cow(hard_header_len); hop_limit--;
// ip6_forward_finish clears the timestamp; ip6_output sets the device and
// ETH_P_IPV6; ip6_finish_output2 resolves the neighbour. Takes ownership of
// skb.
func (s *Stack) ip6Forward(b *skb.Buff, ns *Netns, ip ipv6, tunID uint64) {
	in := s.devOf(b)
	r := s.inputRoute(ns, b, in, ip.src, ip.dst, tunID)
	if r != nil && r.reject != 0 {
		// A reject route's dst input: a blackhole is dst_discard
		// (NOT_SPECIFIED); unreachable and prohibit are ip6_pkt_discard
		// and ip6_pkt_prohibit -> ip6_pkt_drop (IP_INNOROUTES, after an
		// ICMPv6 no route or administratively prohibited error).
		// Forwarding off or not.
		switch r.reject {
		case errEINVAL:
			s.drop(b, skb.DropNotSpecified, OpIP6Route)
			return
		case errEACCES:
			s.icmp6Send(b, ns, in, icmp6DestUnreach, icmp6AdmProhibited, 0)
		default:
			s.icmp6Send(b, ns, in, icmp6DestUnreach, icmp6NoRoute, 0)
		}
		s.drop(b, skb.DropIPInNoroutes, OpIP6Route)
		return
	}
	out, nh := nextHop(r, ip.dst)
	if out == nil || out == ns.lo {
		s.icmp6Send(b, ns, in, icmp6DestUnreach, icmp6NoRoute, 0) // ip6_pkt_discard
		s.drop(b, skb.DropIPInNoroutes, OpIP6Route)
		return
	}
	if !ns.fwd6 {
		s.drop(b, skb.DropIPInAddrErrors, OpIP6Forward)
		return
	}
	if b.H().PktType != skb.PacketHost || b.Sk() != nil {
		s.drop(b, skb.DropNotSpecified, OpIP6Forward)
		return
	}
	if ip.hopLimit <= 1 {
		s.icmp6Send(b, ns, in, icmp6TimeExceed, icmp6ExcHopLimit, 0)
		s.drop(b, skb.DropIPInhdr, OpIP6Forward)
		return
	}
	if out == in {
		// Back out of the device it came in on: a redirect to the next
		// hop, limited per destination (inet_peer_xrlim_allow, HZ) and
		// then per source in ndisc_send_redirect.
		if s.cfg.Options.Replies && s.peerAllow(ns, ip.dst, hz) {
			target := ip.dst // rt6i_gateway with RTF_GATEWAY
			if nh != ip.dst {
				target = nh
			}
			s.ndiscSendRedirect(b, ns, in, ip, target)
		}
	} else if ip.src.IsUnspecified() || ip.src.IsMulticast() || ip.src.IsLoopback() || ip.src.IsLinkLocalUnicast() {
		// "This check is security critical": no unspecified, multicast
		// or loopback source leaves by another device, nor a link-local
		// one (an ICMPv6 beyond-scope error for that).
		if ip.src.IsLinkLocalUnicast() {
			s.icmp6Send(b, ns, in, icmp6DestUnreach, icmp6NotNeighbour, 0)
		}
		s.drop(b, skb.DropIPInAddrErrors, OpIP6Forward)
		return
	}
	// ip6_dst_mtu_maybe_forward(dst, true): the device's MTU (mtu6), at
	// least IPV6_MIN_MTU; a route's mtu metric counts here only when
	// locked (`mtu lock`), and otherwise in __ip6_finish_output below.
	mtu := out.mtu
	if r.mtuLocked && r.mtu > 0 {
		mtu = r.mtu
	}
	mtu = max(mtu, ipv6MinMTU)
	if b.Len() > mtu && b.Shinfo().GSOSize == 0 {
		s.icmp6Send(b, ns, in, icmp6PktTooBig, 0, uint32(mtu))
		setDev(b, out) // "force OUTPUT device used as source address"
		s.drop(b, skb.DropPktTooBig, OpIP6Forward)
		return
	}
	if err := b.Cow(hardHeaderLen(out)); err != nil {
		s.drop(b, skb.DropNomem, OpIP6Forward)
		return
	}
	b.Data()[7]--
	b.ClearTstamp() // ip6_forward_finish
	s.traceOp(LayerIP, OpIP6Forward, b)
	setDev(b, out)
	b.H().Protocol = ethPIPv6
	b.ResetNetworkHeader()
	s.traceOp(LayerIP, OpIPOutput, b)
	// __ip6_finish_output: above the route's MTU (ip6_skb_dst_mtu: dst_mtu,
	// the mtu metric first) the packet goes to ip6_fragment, which refuses
	// a forwarded one (no ignore_df): fail_toobig, after the hop limit
	// was decremented.
	if rm := r.mtuOf(); b.Len() > rm && b.Shinfo().GSOSize == 0 {
		s.ip6Fragment(b, ns, out, nh, rm)
		return
	}
	s.ipFinishOutput2(b, ns, out, nh)
}

// clearDeliveryTime models skb_clear_delivery_time(): a delivery time
// (tstamp_type monotonic or TAI) becomes a receive time: tstamp_type
// REALTIME, tstamp the current time when timestamps are needed
// (netstamp_needed_key: Options.RxTimestamps; the model uses the packet
// id as the time), else 0.
func (s *Stack) clearDeliveryTime(b *skb.Buff) {
	h := b.H()
	if h.TstampType == skb.ClockRealtime {
		return
	}
	h.TstampType = skb.ClockRealtime
	h.Tstamp = 0
	if s.cfg.Options.RxTimestamps {
		h.Tstamp = int64(s.cur)
	}
}
