package netstack

import (
	"cmp"
	"encoding/binary"
	"math/bits"
	"net/netip"

	"github.com/skbsim/skbsim/skb"
)

// Tunnel constants of the IPv6 underlay.
const (
	// ip6TnlEncapLimit is IPV6_DEFAULT_TNL_ENCAP_LIMIT: ip6_tnl_xmit puts
	// it in a tunnel encapsulation limit option (init_tel_txopt).
	ip6TnlEncapLimit = 4
	// ip6TnlHopLimit is the hop limit of ip6tnl and vxlan/geneve outer
	// headers (the ip -6 tunnel default, ip6_dst_hoplimit's 64).
	ip6TnlHopLimit       = 64
	ipv6TLVTnlEncapLimit = 4 // IPV6_TLV_TNL_ENCAP_LIMIT
	ipv6TLVPadN          = 1 // IPV6_TLV_PADN
)

// tunnelAddrsErr checks a tunnel's endpoint families: gre, gretap, ipip
// and sit have IPv4 underlays, ip6tnl an IPv6 one, vxlan and geneve either
// (local, when set, of the remote's family). Returns "" when they fit.
func tunnelAddrsErr(kind string, local, remote netip.Addr) string {
	switch {
	case !remote.IsValid():
		return "tunnel needs an IPv4 remote (vxlan, geneve: or an IPv6 one; ip6tnl: an IPv6 one)"
	case local.IsValid() && local.Is4() != remote.Is4():
		return "tunnel local and remote of different families"
	}
	switch kind {
	case KindVXLAN, KindGeneve:
		return ""
	case KindIP6Tnl, KindIP6GRE, KindIP6GRETap:
		if !remote.Is6() {
			return "an " + kind + " tunnel needs an IPv6 remote (and local)"
		}
		return ""
	}
	if !remote.Is4() {
		return "tunnel needs an IPv4 remote (and local)"
	}
	return ""
}

// encapLen6 is encapLen for the tunnels with an IPv6 underlay.
func encapLen6(d *Device) int {
	switch d.kind {
	case KindVXLAN:
		return ethHlen + ip6Hlen + udpHlen + vxlanHlen
	case KindGeneve:
		return ethHlen + ip6Hlen + udpHlen + geneveHlen
	case KindIP6Tnl:
		return ethHlen + ip6Hlen + 8 // the encapsulation limit option
	case KindIP6GRE, KindIP6GRETap:
		return ethHlen + ip6Hlen + 8 + greHdrLen(d)
	}
	return 0
}

// firstAddr6 is the first IPv6 address of d (the source address selection
// of the model).
func firstAddr6(d *Device) netip.Addr {
	for _, p := range d.addrs {
		if p.Addr().Is6() {
			return p.Addr()
		}
	}
	return netip.Addr{}
}

// writeIPv6 writes a fixed IPv6 header: ip6_flow_hdr(tclass, flow label),
// payload_len, next header, hop limit and the addresses.
func writeIPv6(b []byte, tclass uint8, label uint32, payloadLen int, next, hop uint8, src, dst netip.Addr) {
	binary.BigEndian.PutUint32(b[0:4], 6<<28|uint32(tclass)<<20|label&0xfffff)
	binary.BigEndian.PutUint16(b[4:6], uint16(payloadLen))
	b[6], b[7] = next, hop
	s16, d16 := src.As16(), dst.As16()
	copy(b[8:24], s16[:])
	copy(b[24:40], d16[:])
}

// flowLabelFromHash models ip6_make_flowlabel's automatic label for a
// sender (auto_flowlabels = 1 and an autolabelling caller: IPv6 sockets by
// default, ip6_tnl_xmit): skb_get_hash_flowi6 — an skb with neither an L4
// nor a software hash (!skb->l4_hash && !skb->sw_hash) gets a software
// hash of the flow (__skb_set_sw_hash, l4 when the flow has ports); a
// software hash is kept — then rol32(hash, 16) & IPV6_FLOWLABEL_MASK.
func flowLabelFromHash(b *skb.Buff, src, dst netip.Addr, proto uint8, sport, dport uint16) uint32 {
	h := b.H()
	if !h.L4Hash && !h.SWHash {
		h.Hash, h.SWHash, h.L4Hash = flowHash(src, dst, proto, sport, dport), true, sport|dport != 0
	}
	return bits.RotateLeft32(h.Hash, 16) & 0xfffff
}

// tunnelXmit6 models the IPv6-underlay xmits: vxlan_xmit_one's IPv6 branch
// (skb_scrub_packet(skb, xnet), vxlan_build_skb: skb_cow_head, the VXLAN
// header, udp_flow_src_port) and geneve6_xmit_skb (geneve_build_skb:
// skb_scrub_packet, skb_cow_head, the Geneve header), both ending in
// udp_tunnel6_xmit_skb (UDP and IPv6 headers pushed, no hash clearing:
// unlike iptunnel_xmit it does not call skb_clear_hash_if_not_l4); and
// ip6_tnl_xmit for ip6tnl (skb_scrub_packet(skb, xnet); a short headroom,
// a shared skb or a clone whose header is not writable gets
// skb_realloc_headroom — the new skb owned by the sender, the old one
// consumed; the encapsulation limit destination option pushed by
// ipv6_push_frag_opts; the IPv6 header with an automatic flow label, which
// gives an skb without an L4 hash the outer flow's hash). ip6tunnel_xmit
// then clears IP6CB and calls ip6_local_out in the link namespace. xnet is
// "the tunnel's link namespace differs from the device's". Takes ownership
// of skb.
func (s *Stack) tunnelXmit6(b *skb.Buff, d *Device, td tunnelDst) {
	ln := d.linkNs
	fl := s.tunnelFlow(b, d, td)
	out, nh, mtu := s.routeOutputPath(ln, &fl, nil)
	if out == nil || out == ln.lo {
		s.drop(b, skb.DropIPOutNoroutes, OpIP6TunnelXmit)
		return
	}
	src := td.local
	if !src.IsValid() || src.IsUnspecified() {
		src = cmp.Or(fl.prefsrc, firstAddr6(out)) // ip6_route_get_saddr
	}
	xnet := ln != d.ns
	var next uint8
	var label uint32
	switch d.kind {
	case KindVXLAN, KindGeneve:
		b.Scrub(xnet)
		if err := b.CowHead(llReservedSpace(out) + ip6Hlen + udpHlen + 8); err != nil {
			s.drop(b, skb.DropNomem, OpIP6TunnelXmit)
			return
		}
		tunnelHandleOffloads(b, udpTunnelMask(d))
		s.pushUDPTunnel(b, d, td.vni)
		b.ResetTransportHeader()
		next = nexthdrUDP
	case KindIP6Tnl:
		var inner uint8
		switch b.H().Protocol {
		case ethPIPv6:
			inner = ipprotoIPv6 // ip6ip6_tnl_xmit
		case ethPIP:
			inner = ipprotoIPIP // ipxip6_tnl_xmit(IPPROTO_IPIP)
		default:
			s.drop(b, skb.DropNotSpecified, OpIP6TunnelXmit) // ip6_tnl_start_xmit: tx_err
			return
		}
		if b = s.ip6TnlXmitPrep(b, out, xnet, 0); b == nil {
			return
		}
		next, label = s.ip6TnlEncapLimit(b, inner, src, d.remote)
	case KindIP6GRE, KindIP6GRETap:
		// ip6gre_tunnel_xmit / ip6gre_tap_xmit -> __gre6_xmit: the GRE
		// header (ETH_P_TEB for the tap, else the payload's protocol) is
		// pushed first (skb_cow_head for it), then ip6_tnl_xmit(NEXTHDR_GRE).
		gh := greHdrLen(d)
		if err := b.CowHead(llReservedSpace(out) + ip6Hlen + 8 + gh); err != nil {
			s.drop(b, skb.DropNomem, OpIP6TunnelXmit)
			return
		}
		p := b.H().Protocol
		if d.kind == KindIP6GRETap {
			p = ethPTEB
		}
		g := b.Push(gh)
		clear(g)
		binary.BigEndian.PutUint16(g[2:4], p)
		if d.vni != 0 {
			g[0] = 0x20 // GRE_KEY
			binary.BigEndian.PutUint32(g[4:8], d.vni)
		}
		if b = s.ip6TnlXmitPrep(b, out, xnet, 0); b == nil {
			return
		}
		next, label = s.ip6TnlEncapLimit(b, ipprotoGRE, src, d.remote)
	}
	h := b.H()
	pl := b.Len()
	hop := uint8(ip6TnlHopLimit)
	if td.ttl != 0 {
		hop = td.ttl
	}
	writeIPv6(b.Push(ip6Hlen), td.tos, label, pl, next, hop, src, td.remote)
	if next == nexthdrUDP {
		udpTunnelSetCsum(b, d, ip6Hlen)
	}
	b.ResetNetworkHeader()
	clear(h.CB[:sizeofIP6CB]) // ip6tunnel_xmit: memset(IP6CB(skb), 0, ...)
	s.traceOp(LayerTunnel, OpIP6TunnelXmit, b)
	s.ip6LocalOut(b, ln, out, nh, nil, mtu)
}

// ip6TnlXmitPrep models ip6_tnl_xmit up to the headers:
// skb_scrub_packet(skb, xnet), then a short headroom, a shared skb or a
// clone whose header is not writable gets skb_realloc_headroom (the new
// skb owned by the sender, skb_set_owner_w; the old one consumed). Returns
// the skb to push on, or nil when it was dropped. Takes ownership of skb.
func (s *Stack) ip6TnlXmitPrep(b *skb.Buff, out *Device, xnet bool, extra int) *skb.Buff {
	b.Scrub(xnet)
	need := llReservedSpace(out) + ip6Hlen + 8 + extra
	if b.Headroom() >= need && !b.Shared() && (!b.SkbCloned() || b.CloneWritable(0)) {
		return b
	}
	nb, err := b.ReallocHeadroom(need)
	if err != nil {
		s.drop(b, skb.DropNomem, OpIP6TunnelXmit)
		return nil
	}
	if sk, ok := b.Sk().(*Socket); ok {
		sk.initFns()
		nb.SetOwner(sk, sk.wfreeFn) // skb_set_owner_w(new_skb, skb->sk)
		sk.wmem += nb.Truesize()
	}
	s.consumeSkb(b)
	return nb
}

// ip6TnlEncapLimit pushes the destination options header with the tunnel
// encapsulation limit option (ipv6_push_frag_opts of init_tel_txopt) in
// front of a payload of protocol inner and returns the outer next header
// and the automatic flow label (ip6_make_flowlabel).
func (s *Stack) ip6TnlEncapLimit(b *skb.Buff, inner uint8, src, dst netip.Addr) (uint8, uint32) {
	o := b.Push(8)
	o[0], o[1] = inner, 0
	o[2], o[3], o[4] = ipv6TLVTnlEncapLimit, 1, ip6TnlEncapLimit
	o[5], o[6], o[7] = ipv6TLVPadN, 1, 0
	return nexthdrDest, flowLabelFromHash(b, src, dst, inner, 0, 0)
}

// findIP6Tunnel models ip6_tnl_lookup / ip6gre_tunnel_lookup: a device of
// kind that is up (IFF_UP), whose link namespace is ns, whose remote is the
// outer source, whose local (when set) is the outer destination and whose
// key (GRE) is key.
func (s *Stack) findIP6Tunnel(ns *Netns, ip ipv6, kind string, key uint32) *Device {
	for _, d := range s.devs {
		if d.kind != kind || !d.up || d.linkNs != ns || d.remote != ip.src || (kind != KindIP6Tnl && d.vni != key) {
			continue
		}
		if d.local.IsValid() && d.local != ip.dst {
			continue
		}
		return d
	}
	return nil
}

// ip6TnlRcv models ip6ip6_rcv / ip4ip6_rcv -> ipxip6_rcv (data at the
// inner header): no tunnel (or one that is down) is tunnel6_rcv's ICMPv6
// port unreachable and kfree_skb (NOT_SPECIFIED); otherwise
// iptunnel_pull_header(skb, 0, inner protocol, false) and __ip6_tnl_rcv.
// Takes ownership of skb.
func (s *Stack) ip6TnlRcv(b *skb.Buff, ns *Netns, ip ipv6, next uint8) {
	d := s.findIP6Tunnel(ns, ip, KindIP6Tnl, 0)
	if d == nil {
		s.drop(b, skb.DropNotSpecified, OpIP6TnlRcv)
		return
	}
	proto := uint16(ethPIPv6)
	if next == ipprotoIPIP {
		proto = ethPIP
	}
	if r := s.pullHeader(b, 0, proto, false); r != skb.SkbNotDroppedYet { // iptunnel_pull_header(skb, 0, tpi->proto, false)
		s.drop(b, r, OpIP6TnlRcv)
		return
	}
	s.ip6TnlRcvFinish(b, d)
}

// gre6Rcv models ip6_gre's gre_rcv -> gre_parse_header -> ip6gre_rcv
// (data at the GRE header; ip6_gre registers for IPPROTO_GRE itself, no
// gre_demux length or version check): gre_parse_header failing
// (greParseHeader: short header or options, version or routing flags, bad
// checksum) or no tunnel of the kind (ip6gretap for ETH_P_TEB, else
// ip6gre) with the endpoints and key — looked up after the GRE header was
// pulled (iptunnel_pull_header, xnet false) — is kfree_skb
// (NOT_SPECIFIED, after the ICMPv6 port unreachable for the latter);
// otherwise ip6_tnl_rcv -> __ip6_tnl_rcv runs. Takes ownership of skb.
func (s *Stack) gre6Rcv(b *skb.Buff, ns *Netns, ip ipv6) {
	b.MayPull(min(b.Len(), greHlen+12))
	hdr, proto, key, ok := s.greHeader(b)
	if !ok {
		s.drop(b, skb.DropNotSpecified, OpGRERcv)
		return
	}
	kind := KindIP6GRE
	if proto == ethPTEB {
		kind = KindIP6GRETap
	}
	// gre_rcv pulls the header (iptunnel_pull_header: hash cleared unless
	// L4, queue mapping 0, scrub) before ip6gre_rcv looks the tunnel up, so
	// a packet for no tunnel is freed in that state.
	if r := s.pullHeader(b, hdr, proto, false); r != skb.SkbNotDroppedYet {
		s.drop(b, r, OpGRERcv)
		return
	}
	d := s.findIP6Tunnel(ns, ip, kind, key)
	if d == nil {
		s.drop(b, skb.DropNotSpecified, OpGRERcv)
		return
	}
	s.ip6TnlRcvFinish(b, d)
}

// ip6TnlRcvFinish models __ip6_tnl_rcv with data at the inner packet: an
// Ethernet tunnel (ip6gretap) runs eth_type_trans on the inner frame,
// others set skb->dev and reset the mac header at the inner packet; the
// network header is reset, IP6CB cleared, __skb_tunnel_rx (hash cleared
// unless L4, queue_mapping 0, skb_scrub_packet(skb, !net_eq(net,
// dev_net(dev)))), skb_scrub_packet again with the same xnet, then
// gro_cells_receive. Takes ownership of skb.
func (s *Stack) ip6TnlRcvFinish(b *skb.Buff, d *Device) {
	xnet := d.linkNs != d.ns
	if d.kind == KindIP6GRETap {
		if !s.ethTypeTrans(b, d) {
			s.drop(b, skb.DropNotSpecified, OpIP6TnlRcv) // pskb_may_pull(skb, ETH_HLEN) failed
			return
		}
	} else {
		setDev(b, d)
		b.ResetMacHeader()
	}
	b.ResetNetworkHeader()
	h := b.H()
	clear(h.CB[:sizeofIP6CB])
	// __skb_tunnel_rx.
	if !h.L4Hash {
		h.Hash, h.SWHash = 0, false
	}
	h.QueueMapping = 0
	b.Scrub(xnet)
	b.Scrub(xnet) // __ip6_tnl_rcv: skb_scrub_packet(skb, !net_eq(tunnel->net, dev_net(tunnel->dev)))
	s.traceOp(LayerTunnel, OpIP6TnlRcv, b)
	s.groCellsReceive(b, d)
}
