package netstack

import (
	"encoding/binary"
	"net/netip"

	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/skb"
)

// ip6Packet returns the IPv6 packet inside a captured frame: the frame
// itself when it starts with an IPv6 header, else the payload of an
// Ethernet frame carrying IPv6.
func ip6Packet(f []byte) ([]byte, bool) {
	if len(f) >= ethHlen+ip6Hlen && binary.BigEndian.Uint16(f[12:14]) == ethPIPv6 && f[ethHlen]>>4 == 6 {
		return f[ethHlen:], true
	}
	if len(f) >= ip6Hlen && f[0]>>4 == 6 {
		return f, true
	}
	return nil, false
}

// ip6L4 walks the extension headers a sender may put in front of the
// transport header (hop-by-hop, destination options, routing) and returns
// the transport protocol and its offset.
func ip6L4(p []byte) (next uint8, off int, ok bool) {
	next, off = p[6], ip6Hlen
	for next == nexthdrHop || next == nexthdrDest || next == nexthdrRouting {
		n, ok := extLen(p[off:])
		if !ok || off+n > len(p) {
			return 0, 0, false
		}
		next = p[off]
		off += n
	}
	return next, off, true
}

// sockSend6 sends the IPv6 packet pkt of p from an AF_INET6 socket: UDP
// through udpv6_sendmsg -> ip6_make_skb (__ip6_append_data:
// sock_alloc_send_skb of the datagram plus LL_RESERVED_SPACE and a
// fragment header's room, skb_reserve of both; __ip6_make_skb: ignore_df
// from ip6_sk_ignore_df — true at the default IPV6_PMTUDISC_WANT —,
// priority, mark, the automatic flow label) -> ip6_send_skb ->
// ip6_local_out; TCP through tcp_sendmsg and __tcp_transmit_skb ->
// inet6_csk_xmit -> ip6_xmit (tcpSend6). The IP and L4 headers are the
// captured ones.
func (s *Stack) sockSend6(sk *Socket, p *Packet, pkt []byte) error {
	if !sk.addr.Is6() {
		return s.badFrame(p, "IPv6 packet from AF_INET socket "+sk.name)
	}
	ip, _ := parseIPv6(pkt)
	if ip.payloadLen == 0 || ip6Hlen+ip.payloadLen > len(pkt) {
		return s.badFrame(p, "malformed IPv6 header")
	}
	pkt = pkt[:ip6Hlen+ip.payloadLen]
	next, l4off, ok := ip6L4(pkt)
	if !ok {
		return s.badFrame(p, "malformed IPv6 extension header")
	}
	want := uint8(nexthdrUDP)
	if sk.proto == ProtoTCP {
		want = nexthdrTCP
	}
	if next != want {
		return s.badFrame(p, "IPv6 next header does not match socket "+sk.name)
	}
	fl := sockFlow(sk, ip.dst, pkt, l4off)
	out, nh, mtu := s.routeOutputPath(sk.ns, &fl, nil)
	if out == nil {
		// ip6_dst_lookup_flow fails: sendmsg returns -ENETUNREACH, no skb.
		s.sendRefused(sk, skb.DropIPOutNoroutes, OpIP6Output)
		return nil
	}
	sk.initFns()
	if sk.proto == ProtoTCP {
		return s.tcpSend6(sk, pkt, ip, l4off, out, nh, mtu)
	}
	if len(pkt) < l4off+udpHlen {
		return s.badFrame(p, "short UDP header")
	}
	hh := llReservedSpace(out)
	payload := len(pkt) - l4off - udpHlen
	var b *skb.Buff
	if len(pkt) > mtu && sk.udpSegment <= 0 {
		// Above the MTU without UDP_SEGMENT: a frag_list datagram, which
		// ip6_fragment's fast path sends as it is when its geometry
		// allows. With UDP_SEGMENT, __ip6_append_data's mtu is
		// IP6_MAX_MTU: one skb, which udp_v6_send_skb then checks.
		if b = s.ip6AppendData(pkt, ip6NonFragLen(pkt, l4off), out, mtu); b == nil {
			s.dropNoSkb(out, skb.DropNomem, OpIP6MakeSkb)
			return nil
		}
	} else {
		// On a UDP_SEGMENT socket (paged) only the headers are linear;
		// the payload goes to the socket's page fragments.
		linear := len(pkt)
		if sk.udpSegment > 0 {
			linear = l4off + udpHlen
		}
		var err error
		if b, err = s.a.AllocSkb(linear + hh + fragHdrLen); err != nil {
			s.dropNoSkb(out, skb.DropNomem, OpIP6MakeSkb)
			return nil
		}
		b.Reserve(hh + fragHdrLen) // "reserve for fragmentation and ipsec header"
		b.PutData(pkt[:linear])
		if !s.appendPageFrags(b, sk, pkt[linear:]) {
			s.dropNoSkb(out, skb.DropNomem, OpIP6MakeSkb)
			return nil
		}
		b.SetTransportHeader(l4off) // __ip6_append_data: the UDP header
	}
	s.initTxSkb6(b, sk)
	b.H().IgnoreDF = true // ip6_sk_ignore_df: pmtudisc IPV6_PMTUDISC_WANT
	sport, dport, _ := l4Ports(pkt[l4off:])
	flowLabelFromHash(b, ip.src, ip.dst, nexthdrUDP, sport, dport)
	s.traceOp(LayerSocket, OpIP6MakeSkb, b)
	if !s.udpSegment(b, sk, l4off+udpHlen, payload, mtu) { // udp_v6_send_skb
		s.drop(b, skb.DropNotSpecified, OpIP6MakeSkb)
		return nil
	}
	s.ip6LocalOut(b, sk.ns, out, nh, sk, mtu)
	return nil
}

// ip6AppendData models __ip6_append_data and __ip6_make_skb for a datagram
// pkt (an IPv6 header, extension headers, the UDP header, the payload)
// above mtu (the route's), whose first hlen bytes are the unfragmentable
// headers (fragheaderlen: the IPv6 header and opt_nflen, ip6NonFragLen):
// one alloc_skb per fragment-sized piece (maxfraglen = ((mtu - hlen) & ~7)
// + hlen - sizeof(struct frag_hdr) bytes, the last smaller), each of
// fraglen + LL_RESERVED_SPACE + 8 bytes with LL_RESERVED_SPACE and a
// fragment header's room reserved; the first carries the headers (the
// fragmentable destination options, opt_flen, at the start of its
// payload), the others are chained on its frag_list pulled to their
// payload, as ipAppendData does for IPv4. The headers are the captured
// ones. Returns nil when an allocation fails (the pieces made so far are
// freed).
func (s *Stack) ip6AppendData(pkt []byte, hlen int, out *Device, mtu int) *skb.Buff {
	hh := llReservedSpace(out)
	chunk := (mtu-hlen)&^7 - fragHdrLen // maxfraglen - fragheaderlen
	return s.appendData(pkt, hlen, chunk, chunk, hh+fragHdrLen, hh+fragHdrLen, OpIP6MakeSkb)
}

// ip6NonFragLen is __ip6_append_data's fragheaderlen for the captured
// header chain of pkt (its L4 header at l4off): the IPv6 header and the
// extension headers a sending socket writes with ipv6_push_nfrag_opts
// (opt_nflen: hop-by-hop, a routing header and the destination options
// before it). Destination options after the routing header, or without
// one, are IPV6_DSTOPTS (dst1opt, opt_flen: ipv6_push_frag_opts), part of
// the first piece's payload. ip6_find_1stfragopt counts destination
// options without a routing header as unfragmentable, so such a datagram's
// pieces do not fit ip6_fragment's fast path, which then takes the slow
// one, as the kernel does.
func ip6NonFragLen(p []byte, l4off int) int {
	nf, off, next := ip6Hlen, ip6Hlen, p[6]
	for off < l4off {
		n, ok := extLen(p[off:])
		if !ok {
			break
		}
		if next == nexthdrHop || next == nexthdrRouting {
			nf = off + n // a routing header also covers the destination options before it
		}
		next, off = p[off], off+n
	}
	return nf
}

// initTxSkb6 sets what __ip6_make_skb / ip6_xmit set on a locally
// generated skb (initTxSkbProto with ETH_P_IPV6 and IP6CB).
func (s *Stack) initTxSkb6(b *skb.Buff, sk *Socket) { initTxSkbProto(b, sk, ethPIPv6, sizeofIP6CB) }

// tcpSend6 is tcpSend for an AF_INET6 socket: tcp_sendmsg queues an fclone
// (TSO segments of mss = MTU - headers, SKB_GSO_TCPV6) on the retransmit
// queue, __tcp_transmit_skb sends a clone (or a pskb_copy when the queued
// skb is still cloned), and inet6_csk_xmit -> ip6_xmit pushes the
// extension headers and the IPv6 header (skb_push, skb_reset_network_header),
// sets ETH_P_IPV6, priority and mark, and the flow label (the socket's
// txhash is an L4 hash, kept); a non-GSO skb above the MTU without
// ignore_df is refused (EMSGSIZE, kfree_skb).
func (s *Stack) tcpSend6(sk *Socket, pkt []byte, ip ipv6, l4off int, out *Device, nh netip.Addr, mtu int) error {
	g, err := s.parseTCPSeg(pkt[l4off:])
	if err != nil {
		return err
	}
	if g.end == g.seq {
		// A pure ACK: tcp_send_ack allocates, builds and sends it.
		b, err := s.a.AllocSkb(skb.MaxTCPHeader)
		if err != nil {
			s.dropNoSkb(out, skb.DropNomem, OpTCPXmit)
			return nil
		}
		b.Reserve(skb.MaxTCPHeader)
		copy(b.Push(g.doff), g.th[:g.doff])
		b.ResetTransportHeader()
		s.ip6Xmit(b, sk, pkt[:l4off], out, nh, mtu)
		return nil
	}
	oskb := s.tcpQueueSkb(sk, &g, out, mtu, l4off, skb.GSOTCPv6)
	if oskb == nil {
		return nil
	}
	b := s.tcpTransmitClone(oskb, &g, out)
	if b == nil {
		return nil
	}
	s.ip6Xmit(b, sk, pkt[:l4off], out, nh, mtu)
	return nil
}

// ip6Xmit models ip6_xmit for a TCP skb with data at the TCP header: the
// IPv6 and extension headers hdr pushed, the network header reset,
// ETH_P_IPV6, the socket's priority and mark, the owner, the flow label;
// then the MTU check and NF_INET_LOCAL_OUT -> dst_output -> ip6_output.
// Takes ownership of skb.
func (s *Stack) ip6Xmit(b *skb.Buff, sk *Socket, hdr []byte, out *Device, nh netip.Addr, mtu int) {
	copy(b.Push(len(hdr)), hdr)
	s.initTxSkb6(b, sk)
	d := b.Data()
	src, dst := netip.AddrFrom16([16]byte(d[8:24])), netip.AddrFrom16([16]byte(d[24:40]))
	th := d[len(hdr):]
	flowLabelFromHash(b, src, dst, nexthdrTCP, binary.BigEndian.Uint16(th[0:2]), binary.BigEndian.Uint16(th[2:4]))
	s.traceOp(LayerL4, OpIP6Xmit, b)
	if b.Len() > mtu && !b.H().IgnoreDF && b.Shinfo().GSOSize == 0 {
		s.drop(b, skb.DropNotSpecified, OpIP6Xmit) // ipv6_local_error(EMSGSIZE), kfree_skb
		return
	}
	s.ip6LocalOut(b, sk.ns, out, nh, sk, mtu)
}

// ip6LocalOut models ip6_local_out -> __ip6_local_out (payload_len =
// skb->len - sizeof(struct ipv6hdr), 0 above IPV6_MAXPLEN; ETH_P_IPV6) ->
// dst_output -> ip6_output for a packet whose data starts at the IPv6
// header. Takes ownership of skb.
func (s *Stack) ip6LocalOut(b *skb.Buff, ns *Netns, out *Device, nh netip.Addr, sk *Socket, mtu int) {
	d := b.Data()
	if len(d) >= ip6Hlen {
		pl := b.Len() - ip6Hlen
		if pl > ipv6MaxPlen {
			pl = 0
		}
		binary.BigEndian.PutUint16(d[4:6], uint16(pl))
	}
	if sk != nil && b.TransportHeaderWasSet() {
		// The transport's checksum (l4TxCsum), with the header
		// after any extension headers.
		proto := uint8(ipprotoUDP)
		if sk.proto == ProtoTCP {
			proto = ipprotoTCP
		}
		if l4 := b.TransportHeader() - b.Headroom(); l4 >= ip6Hlen {
			s.l4TxCsum(b, l4, proto)
		}
	}
	h := b.H()
	// __ip6_local_out: IP6CB(skb)->nhoff = offsetof(struct ipv6hdr, nexthdr).
	binary.LittleEndian.PutUint16(h.CB[ip6cbNhoff:], 6)
	h.Protocol = ethPIPv6
	s.ip6Output(b, ns, out, nh, sk, mtu)
}

// ip6Output models ip6_output -> ip6_finish_output -> __ip6_finish_output:
// skb->protocol = ETH_P_IPV6 and skb->dev = the route's device; disable_ipv6
// drops (IPV6DISABLED); the cgroup_skb egress programs of the sending
// socket's cgroup (its own skbs only: BPF_CGROUP_EGRESS when refused); a
// GSO skb or one within mtu (the route's: ip6_skb_dst_mtu) goes to
// ip6_finish_output2, a longer one to ip6_fragment. Takes ownership of
// skb.
func (s *Stack) ip6Output(b *skb.Buff, ns *Netns, out *Device, nh netip.Addr, sk *Socket, mtu int) {
	setDev(b, out)
	b.H().Protocol = ethPIPv6
	s.traceOp(LayerIP, OpIP6Output, b)
	if ns.noIPv6 || out.noIdev6 {
		s.drop(b, skb.DropIPv6Disabled, OpIP6Output) // ip6_output: !idev or disable_ipv6
		return
	}
	if !s.cgroupEgress(b, sk) {
		return
	}
	if b.Shinfo().GSOSize != 0 || b.Len() <= mtu {
		s.ipFinishOutput2(b, ns, out, nh) // ip6_finish_output2: neighbour output with ETH_P_IPV6
		return
	}
	s.ip6Fragment(b, ns, out, nh, mtu)
}

// ip6FindFirstFragOpt models ip6_find_1stfragopt: the unfragmentable part
// ends before the first header that is not hop-by-hop, routing, or a
// destination options header ahead of a routing header. Returns its length
// and the offset of the next-header byte that names the first fragmentable
// header.
func ip6FindFirstFragOpt(p []byte) (hlen, prevhdr int, ok bool) {
	off, prev := ip6Hlen, 6
	foundRhdr := false
	for off <= len(p) {
		switch p[prev] {
		case nexthdrHop:
		case nexthdrRouting:
			foundRhdr = true
		case nexthdrDest:
			if foundRhdr {
				return off, prev, true
			}
		default:
			return off, prev, true
		}
		n, ok := extLen(p[off:])
		if !ok || off+n > len(p) {
			return 0, 0, false
		}
		prev = off
		off += n
	}
	return 0, 0, false
}

// ip6Fragment models ip6_fragment(): a frag_list skb (a local UDP datagram
// from ip6AppendData) goes by the fast path when its geometry allows
// (ip6FragFast); otherwise the slow path: a datagram that
// may not be fragmented (no ignore_df) or an MTU below the unfragmentable
// part plus a fragment header and 8 bytes is fail_toobig (ICMPv6 packet too
// big to the sender, kfree_skb: NOT_SPECIFIED); otherwise
// ipv6_select_ident picks the identification and each fragment is a new skb
// (ip6_frag_next: alloc_skb with LL_RESERVED_SPACE, ip6_copy_metadata —
// pkt_type, priority, protocol, dst, dev, mark, hash, tc_index, conntrack,
// extensions shared, secmark; not skb_iif nor ipvs_property —, the
// unfragmentable headers copied, the fragment header inserted after them,
// skb_set_owner_w to the sender, the delivery time restored), and the
// original is consumed. Each fragment goes to ip6_finish_output2. Takes
// ownership of skb.
func (s *Stack) ip6Fragment(b *skb.Buff, ns *Netns, out *Device, nh netip.Addr, mtu int) {
	data := b.Data()
	hlen, prevhdr, ok := ip6FindFirstFragOpt(data)
	if !ok {
		s.drop(b, skb.DropNotSpecified, OpIP6Fragment) // fail
		return
	}
	if !b.H().IgnoreDF || mtu < hlen+fragHdrLen+8 {
		// fail_toobig: icmpv6_send(skb, ICMPV6_PKT_TOOBIG, 0, mtu), then
		// kfree_skb.
		s.icmp6Send(b, ns, ns.devByIndex(b.H().SkbIIF), icmp6PktTooBig, 0, uint32(mtu))
		s.drop(b, skb.DropNotSpecified, OpIP6Fragment)
		return
	}
	nexthdr := data[prevhdr]
	ns.ip6FragID++
	id := ns.ip6FragID
	s.traceOp(LayerIP, OpIP6Fragment, b)
	if b.HasFragList() && s.ip6FragFast(b, ns, out, nh, mtu, hlen, prevhdr, nexthdr, id) {
		return
	}
	start := len(s.segs)
	// IPFragment's chunks of at most mtu - 8 - hlen bytes with 8 more
	// bytes of headroom are ip6_frag_next's: alloc_skb(len + hlen +
	// sizeof(frag_hdr) + hroom), skb_reserve(hroom), skb_put(len + hlen +
	// sizeof(frag_hdr)) once the header is pushed in below.
	segs, err := b.IPFragment(hlen, mtu-fragHdrLen, llReservedSpace(out)+fragHdrLen, s.segs)
	s.segs = segs
	if err != nil {
		s.drop(b, skb.DropNomem, OpIP6Fragment)
		s.segs = s.segs[:start]
		return
	}
	sk, _ := b.Sk().(*Socket)
	off := 0
	for i := start; i < len(s.segs); i++ {
		f := s.segs[i]
		n := f.Len() - hlen
		f.Push(fragHdrLen)
		d := f.Data()
		copy(d[:hlen], d[fragHdrLen:fragHdrLen+hlen])
		d[prevhdr] = nexthdrFrag
		fh := d[hlen : hlen+fragHdrLen]
		fh[0], fh[1] = nexthdr, 0
		fo := uint16(off)
		if i != len(s.segs)-1 {
			fo |= 1 // IP6_MF
		}
		binary.BigEndian.PutUint16(fh[2:4], fo)
		binary.BigEndian.PutUint32(fh[4:8], id)
		binary.BigEndian.PutUint16(d[4:6], uint16(f.Len()-ip6Hlen))
		f.ResetNetworkHeader()
		f.SetTransportHeader(hlen + fragHdrLen)
		fhd := f.H()
		fhd.SkbIIF, fhd.IPVSProperty = 0, false // not copied by ip6_copy_metadata
		if sk != nil {
			f.SetOwner(sk, sk.wfreeFn) // ip6_frag_next: skb_set_owner_w(frag, skb->sk)
			sk.wmem += f.Truesize()
		}
		off += n
	}
	s.consumeSkb(b) // ip6_fragment: consume_skb(skb) after the slow path
	for i := start; i < len(s.segs); i++ {
		f := s.segs[i]
		s.segs[i] = nil
		s.ipFinishOutput2(f, ns, out, nh)
	}
	s.segs = s.segs[:start]
}

// siteIP6FraglistHdr is ip6_fraglist_init's kmemdup of the unfragmentable
// headers.
var siteIP6FraglistHdr = kmem.RegisterSite("ip6_fraglist_init")

// ip6FragFast models ip6_fragment()'s fast path for an skb with a
// frag_list (a local UDP datagram from ip6AppendData), as ipFragFast does
// for IPv4: the first skb's own bytes and every frag_list skb must fit
// mtu - hlen - 8 with a payload that is a multiple of 8 (but the last),
// the first with LL_RESERVED_SPACE + 8 and the others with hlen more of
// headroom, nothing cloned or shared; otherwise it returns false and
// changes nothing. ip6_fraglist_init copies the unfragmentable headers
// (kmemdup, freed once every fragment is out), names the fragment header
// in the previous next-header byte, and moves them down to insert the
// fragment header (IP6_MF, the identification) in the first skb, which
// keeps its IP6CB; ip6_fraglist_prepare pushes the headers and a fragment
// header (offset, IP6_MF but on the last) on each next one, sets
// payload_len and ip6_copy_metadata (not skb_iif nor ipvs_property).
// Takes ownership of skb when it returns true.
func (s *Stack) ip6FragFast(b *skb.Buff, ns *Netns, out *Device, nh netip.Addr, routeMTU, hlen, prevhdr int, nexthdr uint8, id uint32) bool {
	mtu := routeMTU - hlen - fragHdrLen
	hroom := llReservedSpace(out)
	first := b.Pagelen()
	if first-hlen > mtu || (first-hlen)&7 != 0 || b.SkbCloned() || b.Headroom() < hroom+fragHdrLen {
		return false
	}
	if !s.fragListOwn(b, mtu, hlen+hroom+fragHdrLen) {
		return false
	}
	// ip6_fraglist_init.
	if err := s.acct.Kmalloc(siteIP6FraglistHdr, hlen); err != nil {
		s.drop(b, skb.DropNotSpecified, OpIP6Fragment) // fail: kfree_skb
		return true
	}
	d := b.Data()
	d[prevhdr] = nexthdrFrag
	tmp := append(s.hdrTmp[:0], d[:hlen]...)
	s.hdrTmp = tmp
	list := b.DetachFragList(s.fragList[:0])
	s.fragList = list
	s.forgetListed(list)
	b.Pull(hlen)
	fh := b.Push(fragHdrLen)
	copy(b.Push(hlen), tmp)
	b.ResetNetworkHeader()
	fh[0], fh[1] = nexthdr, 0
	binary.BigEndian.PutUint16(fh[2:4], 1) // IP6_MF
	binary.BigEndian.PutUint32(fh[4:8], id)
	binary.BigEndian.PutUint16(b.Data()[4:6], uint16(b.Len()-ip6Hlen))
	h := b.H()
	tstamp, tstampType := h.Tstamp, h.TstampType
	offset := 0
	cur := b
	for i, f := range list {
		// ip6_fraglist_prepare(cur, iter).
		f.ResetTransportHeader()
		ffh := f.Push(fragHdrLen)
		copy(f.Push(hlen), tmp)
		f.ResetNetworkHeader()
		offset += cur.Len() - hlen - fragHdrLen
		ffh[0], ffh[1] = nexthdr, 0
		fo := uint16(offset)
		if i != len(list)-1 {
			fo |= 1 // IP6_MF
		}
		binary.BigEndian.PutUint16(ffh[2:4], fo)
		binary.BigEndian.PutUint32(ffh[4:8], id)
		binary.BigEndian.PutUint16(f.Data()[4:6], uint16(f.Len()-ip6Hlen))
		skb.IPCopyMetadata(f, cur) // ip6_copy_metadata, which leaves these two:
		fhd := f.H()
		fhd.SkbIIF, fhd.IPVSProperty = 0, false
		cur.SetDeliveryTime(tstamp, tstampType)
		list[i] = nil
		s.ipFinishOutput2(cur, ns, out, nh)
		cur = f
	}
	cur.SetDeliveryTime(tstamp, tstampType)
	s.fragList = list[:0]
	s.ipFinishOutput2(cur, ns, out, nh)
	s.acct.Kfree(siteIP6FraglistHdr, hlen) // kfree(iter.tmp_hdr)
	return true
}
