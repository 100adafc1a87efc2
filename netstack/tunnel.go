package netstack

import (
	"cmp"
	"encoding/binary"
	"net/netip"

	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/skb"
)

// encapLen is the encapsulation a tunnel pushes in front of the inner
// packet, outer IP and Ethernet headers included (dev->needed_headroom).
func encapLen(d *Device) int {
	if d.remote.Is6() {
		return encapLen6(d)
	}
	switch d.kind {
	case KindVXLAN:
		return ethHlen + ipHlen + udpHlen + vxlanHlen
	case KindGeneve:
		return ethHlen + ipHlen + udpHlen + geneveHlen
	case KindGRE, KindGRETap:
		return ethHlen + ipHlen + greHdrLen(d)
	case KindIPIP, KindSIT:
		return ethHlen + ipHlen
	}
	return 0
}

// The default net.ipv4.ip_local_port_range, which vxlan's source ports use
// when the device sets no port range (vxlan port_min = port_max = 0).
const (
	localPortLow  = 32768
	localPortHigh = 60999
)

// udpFlowSrcPort models udp_flow_src_port(net, skb, min, max, use_eth) for
// a hash skb_get_hash returned: the hash is folded (hash ^= hash << 16, so
// its upper 16 bits decide) and scaled into [min, max).
func udpFlowSrcPort(hash uint32, lo, hi int) uint16 {
	hash ^= hash << 16
	return uint16((uint64(hash)*uint64(hi-lo))>>32 + uint64(lo))
}

// pushUDPTunnel pushes a vxlan or geneve device's tunnel header and the
// outer UDP header (vxlan_build_skb / geneve_build_skb, then
// udp_tunnel_xmit_skb / udp_tunnel6_xmit_skb's UDP header). The source
// port comes from udp_flow_src_port, which vxlan_xmit_one and
// geneve_xmit_skb compute before the headers are pushed: skb_get_hash
// computes (and records) the flow hash of the inner frame when the skb has
// neither an L4 nor a software hash.
func (s *Stack) pushUDPTunnel(b *skb.Buff, d *Device, vni uint32) {
	h := b.H()
	if !h.L4Hash && !h.SWHash {
		s.skbGetHash(b)
	}
	innerLen := b.Len()
	th := b.Push(8) // vxlan header / geneve header
	clear(th)
	if d.kind == KindVXLAN {
		th[0] = 0x08 // VXLAN_HF_VNI
	} else {
		binary.BigEndian.PutUint16(th[2:4], ethPTEB)
	}
	binary.BigEndian.PutUint32(th[4:8], vni<<8)
	writeUDP(b.Push(udpHlen), udpTunnelSrcPort(d, h.Hash), d.port, innerLen+udpHlen+8)
}

// tunnelDst is where a tunnel device sends a packet: its own remote,
// local address and VNI, or, for a collect_md device, those of the skb's
// transmit tunnel info (with its TTL, TOS and don't-fragment flag).
type tunnelDst struct {
	remote, local netip.Addr
	vni           uint32
	ttl, tos      uint8
	df            bool
}

// tunnelDstOf returns d's tunnelDst for b; false for a collect_md device
// and an skb without transmit tunnel info (vxlan_xmit, geneve_xmit:
// SKB_DROP_REASON_TUNNEL_TXINFO).
func tunnelDstOf(b *skb.Buff, d *Device) (tunnelDst, bool) {
	if !d.external {
		return tunnelDst{remote: d.remote, local: d.local, vni: d.vni}, true
	}
	info, ok := b.TunnelInfo()
	if !ok || !info.TX || !info.Dst.IsValid() {
		return tunnelDst{}, false
	}
	// tunnel_id_to_key32, the VNI's 24 bits (vxlan_vni_field).
	return tunnelDst{remote: info.Dst, local: info.Src, vni: uint32(info.ID) & 0xffffff, ttl: info.TTL, tos: info.TOS, df: info.DF}, true
}

// udpTunnelSrcPort is the outer UDP source port of a vxlan or geneve
// device: vxlan_xmit_one passes cfg.port_min/port_max (0/0: the local port
// range), geneve_xmit_skb / geneve6_xmit_skb pass 1 and USHRT_MAX.
func udpTunnelSrcPort(d *Device, hash uint32) uint16 {
	if d.kind == KindGeneve {
		return udpFlowSrcPort(hash, 1, 65535)
	}
	return udpFlowSrcPort(hash, localPortLow, localPortHigh)
}

// tunnelFlow is the flow of tunnel device d's underlay route lookup for
// b: the remote and local ends; the mark, skb->mark for vxlan and geneve
// (udp_tunnel_dst_lookup, udp_tunnel6_dst_lookup) and for collect_md
// devices (ip_md_tunnel_xmit), the device's fwmark for the other IP
// tunnels (ip_tunnel_xmit, ip6_tnl_xmit: 0, as the model's devices set
// none); and, when the link namespace has rules, the protocol and ports:
// UDP from the flow's source port (udp_flow_src_port, which vxlan_xmit_one
// and geneve_xmit_skb compute before the lookup) to the device's port,
// GRE with its key in flowi_uli (fl4_gre_key), IPIP or IPv6 for ipip,
// sit and ip6tnl. Those fields also feed a multipath route's hash, with,
// for gre, ipip and sit over IPv4 (ip_tunnel_init_flow), the inner skb's
// skb_get_hash as flowi4_multipath_hash.
func (s *Stack) tunnelFlow(b *skb.Buff, d *Device, td tunnelDst) flow {
	fl := flow{dst: td.remote, src: td.local}
	if d.kind == KindVXLAN || d.kind == KindGeneve || d.external {
		fl.mark = b.H().Mark
	}
	ln := d.linkNs
	mp := (td.remote.Is4() && ln.multipath4) || (td.remote.Is6() && ln.multipath6)
	if !ln.hasRules(td.remote) && !mp {
		return fl
	}
	if mp && td.remote.Is4() && (d.kind == KindGRE || d.kind == KindGRETap || d.kind == KindIPIP || d.kind == KindSIT) {
		if h := b.H(); !h.L4Hash && !h.SWHash {
			s.skbGetHash(b)
		}
		fl.mpHash = b.H().Hash
	}
	switch d.kind {
	case KindVXLAN, KindGeneve:
		h := b.H()
		if !h.L4Hash && !h.SWHash {
			s.skbGetHash(b)
		}
		fl.proto, fl.sport, fl.dport = ipprotoUDP, udpTunnelSrcPort(d, h.Hash), d.port
	case KindGRE, KindGRETap, KindIP6GRE, KindIP6GRETap:
		fl.proto, fl.dport, fl.sport = ipprotoGRE, uint16(d.vni>>16), uint16(d.vni)
	case KindIPIP:
		fl.proto = ipprotoIPIP
	case KindSIT:
		fl.proto = ipprotoIPv6
	case KindIP6Tnl: // ipxip6_tnl_xmit: the inner protocol
		fl.proto = ipprotoIPv6
		if b.H().Protocol == ethPIP {
			fl.proto = ipprotoIPIP
		}
	}
	return fl
}

func greHdrLen(d *Device) int {
	if d.vni != 0 {
		return greKeyHlen
	}
	return greHlen
}

func isL2Tunnel(d *Device) bool {
	return d.kind == KindVXLAN || d.kind == KindGeneve || d.kind == KindGRETap || d.kind == KindIP6GRETap
}

// tunnelXmit models the xmit of vxlan (vxlan_xmit_one), geneve
// (geneve_xmit_skb), gre/gretap (ipgre_xmit / gre_tap_xmit ->
// ip_tunnel_xmit), ipip and sit: the underlay route in the tunnel's link
// namespace, skb_cow_head(skb, min_headroom) (pskb_expand_head when the
// headroom is short or the header is shared: meta_len 0 before v6.19), the
// tunnel header pushes, then iptunnel_xmit: skb_scrub_packet(skb, xnet =
// the tunnel's link namespace differs from the device's),
// skb_clear_hash_if_not_l4, memset(IPCB), the outer IP header pushed, and
// ip_local_out in the link namespace. Every push writes headroom bytes,
// overwriting XDP metadata in front of the inner mac header. Takes
// ownership of skb.
func (s *Stack) tunnelXmit(b *skb.Buff, d *Device) {
	td, ok := tunnelDstOf(b, d)
	if !ok {
		s.drop(b, skb.DropTunnelTxinfo, OpTunnelEncap)
		return
	}
	if td.remote.Is6() {
		s.tunnelXmit6(b, d, td)
		return
	}
	ln := d.linkNs
	fl := s.tunnelFlow(b, d, td)
	out, nh, mtu := s.routeOutputPath(ln, &fl, nil)
	if out == nil || out == ln.lo {
		s.drop(b, skb.DropIPOutNoroutes, OpTunnelEncap)
		return
	}
	src := td.local
	if !src.IsValid() || src.IsUnspecified() {
		src = cmp.Or(fl.prefsrc, out.firstAddr()) // fib_result_prefsrc
	}
	hdr := encapLen(d) - ethHlen - ipHlen
	if err := b.CowHead(llReservedSpace(out) + hdr + ipHlen); err != nil {
		s.drop(b, skb.DropNomem, OpTunnelEncap)
		return
	}
	h := b.H()
	switch d.kind {
	case KindVXLAN, KindGeneve:
		tunnelHandleOffloads(b, udpTunnelMask(d))
	case KindGRE, KindGRETap:
		tunnelHandleOffloads(b, skb.GSOGRE)
	default:
		tunnelHandleOffloads(b, skb.GSOIPXIP4)
	}
	var proto uint8
	switch d.kind {
	case KindVXLAN, KindGeneve:
		s.pushUDPTunnel(b, d, td.vni)
		proto = ipprotoUDP
	case KindGRE, KindGRETap:
		gh := b.Push(greHdrLen(d))
		clear(gh)
		p := uint16(ethPIP)
		if d.kind == KindGRETap {
			p = ethPTEB
		}
		binary.BigEndian.PutUint16(gh[2:4], p)
		if d.vni != 0 {
			gh[0] = 0x20 // GRE_KEY
			binary.BigEndian.PutUint32(gh[4:8], d.vni)
		}
		proto = ipprotoGRE
	case KindIPIP:
		proto = ipprotoIPIP
	case KindSIT:
		proto = ipprotoIPv6
	}
	// iptunnel_xmit.
	b.Scrub(ln != d.ns)
	if !h.L4Hash {
		h.Hash, h.SWHash = 0, false // skb_clear_hash_if_not_l4
	}
	clear(h.CB[:sizeofIPCB])
	ln.ipID++
	totLen := b.Len() + ipHlen
	// The outer DF bit: vxlan_xmit_one and geneve_xmit_skb leave it clear
	// with the devices' default df setting (VXLAN_DF_UNSET,
	// GENEVE_DF_UNSET), so an outer packet above the underlay's MTU is
	// fragmented by ip_output; ipip, sit and gre devices default to
	// pmtudisc (tnl_params->frag_off = IP_DF in ip_tunnel_xmit).
	df := d.kind != KindVXLAN && d.kind != KindGeneve || td.df
	ttl := td.ttl
	if ttl == 0 {
		ttl = 64 // ip4_dst_hoplimit
	}
	writeIPv4(b.Push(ipHlen), td.tos, totLen, ln.ipID, df, ttl, proto, src, td.remote)
	if proto == ipprotoUDP {
		udpTunnelSetCsum(b, d, ipHlen)
	}
	s.traceOp(LayerTunnel, OpTunnelEncap, b)
	s.ipLocalOut(b, ln, out, nh, nil, mtu)
}

// tunnelHandleOffloads models iptunnel_handle_offloads(skb, gso_type_mask)
// (udp_tunnel_handle_offloads for vxlan and geneve): the inner headers
// are the current ones (skb_reset_inner_headers, unless
// skb->encapsulation is already set) and skb->encapsulation is set; a
// GSO skb's gso_type gets the tunnel's GSO type, so that software GSO
// later cuts the inner packet and replicates the outer headers
// (segmentTunnel). Another skb that is not CHECKSUM_PARTIAL becomes
// CHECKSUM_NONE with encapsulation clear: its inner checksum state is
// not carried through the tunnel. The header is already private
// (skb_cow_head), so skb_header_unclone does nothing.
func tunnelHandleOffloads(b *skb.Buff, mask uint32) {
	sh := b.Shinfo()
	h := b.H()
	if sh.GSOSize == 0 && h.IPSummed != skb.ChecksumPartial {
		h.IPSummed = skb.ChecksumNone
		return
	}
	if !h.Encapsulation {
		nh := b.NetworkOffset()
		mac := nh
		if b.MacHeaderWasSet() {
			mac = b.MacOffset()
		}
		tr := b.TransportHeader() - b.Headroom()
		if !b.TransportHeaderWasSet() {
			tr = nh
		}
		b.SetInnerHeaders(mac, nh, tr)
		h.InnerProtocol = h.Protocol
		h.Encapsulation = true
	}
	if sh.GSOSize != 0 {
		sh.GSOType |= mask
	}
}

// udpTunnelMask is the GSO type udp_tunnel_handle_offloads(skb, udp_sum)
// gives d's GSO skbs.
func udpTunnelMask(d *Device) uint32 {
	if d.udpCsum {
		return skb.GSOUDPTunnelCsum
	}
	return skb.GSOUDPTunnel
}

// udpTunnelSetCsum models udp_set_csum / udp6_set_csum(nocheck, skb,
// saddr, daddr, len) for tunnel device d's outer UDP header at l4 bytes
// into b's data (the outer IP header): none (0) without udp_csum; for a
// GSO skb the pseudo-header sum, which GSO adjusts per segment; for a
// CHECKSUM_PARTIAL skb the full checksum by local checksum offload
// (lco_csum: the outer UDP header up to the inner csum_start, and the
// complement of the inner check field, which sums so once the device
// completes it), 0 sent as CSUM_MANGLED_0; otherwise the skb becomes
// CHECKSUM_PARTIAL at the outer UDP header with its pseudo-header sum.
func udpTunnelSetCsum(b *skb.Buff, d *Device, l4 int) {
	csum := d.udpCsum
	if d.external && d.udpCsumCfg == "" {
		// A collect_md device sends over either family: the defaults of
		// each (no VXLAN_F_UDP_CSUM, no VXLAN_F_UDP_ZERO_CSUM6_TX).
		csum = l4 == ip6Hlen
	}
	if !csum {
		return
	}
	data := b.Data()
	ulen := b.Len() - l4
	ps := pseudoSum(data, ipprotoUDP, ulen)
	h := b.H()
	switch {
	case b.Shinfo().GSOSize != 0:
		binary.BigEndian.PutUint16(data[l4+6:], csumFold(ps))
	case h.IPSummed == skb.ChecksumPartial:
		start := b.CsumStart() - b.Headroom()
		lcoUDPCsum(data, 0, l4, ulen, start, start+int(h.CsumOffset))
	default:
		binary.BigEndian.PutUint16(data[l4+6:], csumFold(ps))
		h.IPSummed = skb.ChecksumPartial
		b.SetCsumStart(l4)
		h.CsumOffset = 6
	}
}

// pullHeader models __iptunnel_pull_header(skb, hdr_len, inner_proto,
// raw_proto, xnet): skb_pull_rcsum(hdr_len), protocol, skb_clear_hash_if_not_l4,
// the hwaccel vlan tag and queue_mapping cleared, skb_scrub_packet(skb,
// xnet), then iptunnel_pull_offloads: a GSO skb (a tunnel aggregate GRO
// built) is uncloned (skb_unclone: pskb_expand_head when a tap or another
// user shares it) and loses the tunnel GSO types, and skb->encapsulation
// is cleared. It returns the drop reason the caller frees the skb with:
// PKT_TOO_SMALL, the skb untouched, when hdr_len is not there (pskb_may_pull
// fails), NOMEM when the unclone fails; SkbNotDroppedYet on success.
func (s *Stack) pullHeader(b *skb.Buff, hdrLen int, proto uint16, xnet bool) skb.DropReason {
	if _, ok := b.PskbPull(hdrLen); !ok {
		return skb.DropPktTooSmall
	}
	h := b.H()
	h.Protocol = proto
	if !h.L4Hash {
		h.Hash, h.SWHash = 0, false
	}
	h.VlanProto, h.VlanTCI = 0, 0
	h.QueueMapping = 0
	// The inner packet's checksum is the next level: what verified the
	// outer one does not cover it (measured: TestKernelVXLANInnerChecksum).
	h.CsumValid = false
	b.Scrub(xnet)
	if sh := b.Shinfo(); sh.GSOSize != 0 {
		if b.Unclone() != nil {
			return skb.DropNomem
		}
		sh = b.Shinfo()
		sh.GSOType &^= skb.GSOEncapAll
	}
	h.Encapsulation = false
	return skb.SkbNotDroppedYet
}

// udpTunnelRcv models vxlan_rcv / geneve_udp_encap_recv on the tunnel's UDP
// socket (data at the UDP header): the VNI selects the device (none:
// VXLAN_VNI_NOT_FOUND), __iptunnel_pull_header(UDP + tunnel header, TEB,
// xnet = vxlan->net differs from the device's namespace), the inner frame's
// eth_type_trans on the tunnel device (the mac header moves to the inner
// Ethernet header: XDP metadata is now read in front of it), then
// gro_cells_receive (NAPI GRO on the tunnel device; a cloned skb goes to
// netif_rx). Takes ownership of skb.
func (s *Stack) udpTunnelRcv(b *skb.Buff, sk *Socket) {
	if !b.MayPull(udpHlen + 8) { // pskb_may_pull(skb, VXLAN_HLEN) / GENEVE_BASE_HLEN
		s.drop(b, skb.DropVxlanInvalidHdr, OpTunnelDecap)
		return
	}
	data := b.Data()
	th := data[udpHlen:]
	vni := binary.BigEndian.Uint32(th[4:8]) >> 8
	var d *Device
	for _, x := range sk.encap {
		// vxlan_vs_find_vni: a collect_md socket looks up VNI 0, its
		// external device, whatever the packet's VNI.
		if x.vni == vni || x.external {
			d = x
		}
	}
	isVXLAN := len(sk.encap) != 0 && sk.encap[0].kind == KindVXLAN
	if isVXLAN && th[0]&0x08 == 0 {
		s.drop(b, skb.DropVxlanInvalidHdr, OpTunnelDecap)
		return
	}
	if d == nil {
		s.drop(b, skb.DropVxlanVNINotFound, OpTunnelDecap)
		return
	}
	hdr := udpHlen + vxlanHlen
	opts := 4 // sizeof(struct vxlan_metadata)
	if d.kind == KindGeneve {
		opts = int(th[0]&0x3f) * 4
		hdr = udpHlen + geneveHlen + opts
	}
	var info *skb.TunnelInfo
	if d.external {
		// udp_tun_rx_dst: the outer header's addresses, TOS and TTL,
		// the UDP ports and the VNI as the tunnel id.
		nh := b.Head()[b.NetworkHeader():]
		ti := skb.TunnelInfo{ID: uint64(vni), TPSrc: binary.BigEndian.Uint16(data[0:2]), TPDst: binary.BigEndian.Uint16(data[2:4])}
		if nh[0]>>4 == 6 { // ipv6_tun_rx_dst: traffic class, hop limit
			ti.TOS, ti.TTL = nh[0]<<4|nh[1]>>4, nh[7]
			ti.Src, ti.Dst = netip.AddrFrom16([16]byte(nh[8:24])), netip.AddrFrom16([16]byte(nh[24:40]))
		} else { // ip_tun_rx_dst
			ti.TOS, ti.TTL = nh[1], nh[8]
			ti.Src, ti.Dst = netip.AddrFrom4([4]byte(nh[12:16])), netip.AddrFrom4([4]byte(nh[16:20]))
		}
		info = &ti
	}
	s.decapL2(b, d, hdr, info, opts)
}

// decapL2 pulls the tunnel header hdr (vxlan_rcv, geneve_rx); for a
// collect_md device it then attaches a metadata dst holding info and
// opts bytes of options (udp_tun_rx_dst -> metadata_dst_alloc,
// skb_dst_set), after __iptunnel_pull_header's scrub.
func (s *Stack) decapL2(b *skb.Buff, d *Device, hdr int, info *skb.TunnelInfo, opts int) {
	if !d.up {
		s.drop(b, skb.DropDevReady, OpTunnelDecap)
		return
	}
	if r := s.pullHeader(b, hdr, ethPTEB, d.linkNs != d.ns); r != skb.SkbNotDroppedYet {
		s.drop(b, r, OpTunnelDecap)
		return
	}
	if info != nil {
		md, err := s.a.NewMetadataDst(*info, opts)
		if err != nil {
			s.drop(b, skb.DropNomem, OpTunnelDecap)
			return
		}
		b.DstDrop()
		b.DstSet(md)
	}
	b.ResetMacHeader()
	if !s.ethTypeTrans(b, d) {
		s.drop(b, skb.DropPktTooSmall, OpTunnelDecap)
		return
	}
	s.traceOp(LayerTunnel, OpTunnelDecap, b)
	s.groCellsReceive(b, d)
}

// groCellsReceive models gro_cells_receive: a cloned skb goes to
// netif_rx, others to the device's GRO cell (napi_gro_receive).
func (s *Stack) groCellsReceive(b *skb.Buff, d *Device) {
	if b.SkbCloned() {
		s.netifRx(b)
		return
	}
	s.napiGROReceive(b, d)
}

// findIPTunnel models ip_tunnel_lookup: a device of the kind whose link
// namespace is ns and whose endpoints match the outer addresses.
func (s *Stack) findIPTunnel(ns *Netns, ip ipv4, kinds ...string) *Device {
	for _, d := range s.devs {
		if d.linkNs != ns || d.remote != ip.src {
			continue
		}
		if d.local.IsValid() && d.local != ip.dst {
			continue
		}
		for _, k := range kinds {
			if d.kind == k {
				return d
			}
		}
	}
	return nil
}

// GRE header flags (the first 16 bits, GRE_* in include/net/gre.h).
const (
	greFlagCsum    = 0x8000
	greFlagRouting = 0x4000
	greFlagKey     = 0x2000
	greFlagSeq     = 0x1000
	greFlagVersion = 0x0007
	// greDemuxMinLen is gre_demux's gre_rcv pskb_may_pull(skb, 12).
	greDemuxMinLen = 12
)

// greParseHeader models gre_parse_header(skb, &tpi, &csum_err, proto, 0)
// on data at the GRE header, shared by ip_gre's and ip6_gre's gre_rcv: the
// base header must be there (pskb_may_pull), the version and routing
// flags must be clear, and the options the flags announce (checksum, key,
// sequence number: gre_calc_hlen) must be there. It returns the header
// length, the protocol, the key (0 without GRE_KEY) and whether GRE_CSUM
// is set (the caller validates the checksum: greCsumBad); ok false is the
// -EINVAL on which both gre_rcv free the skb.
func greParseHeader(data []byte) (hdrLen int, proto uint16, key uint32, csum, ok bool) {
	if len(data) < greHlen {
		return 0, 0, 0, false, false
	}
	flags := binary.BigEndian.Uint16(data[0:2])
	if flags&(greFlagVersion|greFlagRouting) != 0 {
		return 0, 0, 0, false, false
	}
	hdrLen = greHlen
	for _, f := range [...]uint16{greFlagCsum, greFlagKey, greFlagSeq} {
		if flags&f != 0 {
			hdrLen += 4
		}
	}
	if len(data) < hdrLen {
		return 0, 0, 0, false, false
	}
	proto = binary.BigEndian.Uint16(data[2:4])
	opt := greHlen
	csum = flags&greFlagCsum != 0
	if csum {
		opt += 4
	}
	if flags&greFlagKey != 0 {
		key = binary.BigEndian.Uint32(data[opt : opt+4])
	}
	return hdrLen, proto, key, csum, true
}

// greHeader models gre_parse_header on skb b (data at the GRE header):
// greParseHeader, then with GRE_CSUM skb_checksum_simple_validate over
// the GRE header and payload, every byte of them, fragments included
// (greCsumBad). ok false is the -EINVAL on which both gre_rcv free the
// skb.
func (s *Stack) greHeader(b *skb.Buff) (hdrLen int, proto uint16, key uint32, ok bool) {
	data := b.Data()
	hdrLen, proto, key, csum, ok := greParseHeader(data)
	if !ok {
		return 0, 0, 0, false
	}
	if csum {
		if b.IsNonlinear() {
			if cap(s.greBuf) < b.Len() {
				s.greBuf = make([]byte, b.Len())
			}
			data = s.greBuf[:b.Len()]
			_ = b.CopyBits(0, data)
		}
		if s.greCsumBad(b, data) {
			return 0, 0, 0, false
		}
	}
	return hdrLen, proto, key, true
}

// greCsumBad models skb_checksum_simple_validate in gre_parse_header on b
// whose GRE header and payload are data: __skb_checksum_validate clears
// csum_valid; a CHECKSUM_UNNECESSARY skb uses up a level
// (__skb_checksum_validate_needed: __skb_decr_checksum_unnecessary,
// CHECKSUM_NONE after the last) and a CHECKSUM_PARTIAL one needs no
// check; a CHECKSUM_NONE one is summed in software
// (__skb_checksum_complete, counted in csum_byte), which sets csum_valid
// when it verifies. skb_checksum_try_convert's CHECKSUM_COMPLETE is not
// modelled: the skb stays CHECKSUM_NONE, so the inner packet's checksum
// is summed again. It reports a bad checksum.
func (s *Stack) greCsumBad(b *skb.Buff, data []byte) bool {
	h := b.H()
	h.CsumValid = false
	switch h.IPSummed {
	case skb.ChecksumUnnecessary:
		h.CsumValid = true
		decrCsumUnnecessary(h)
		return false
	case skb.ChecksumPartial:
		return false
	}
	s.acct.Op(cost.OpCsumByte, uint64(len(data)))
	h.CsumValid = csumFoldsToZero(data)
	return !h.CsumValid
}

// csumFoldsToZero reports whether the one's complement sum of b (a
// trailing odd byte padded with zero, as csum_partial does) is 0xffff:
// __skb_checksum_complete's verdict on data that carries its checksum.
func csumFoldsToZero(b []byte) bool { return csumFold(csumAdd(0, b)) == 0xffff }

// greRcv models gre_demux's gre_rcv -> ip_gre's gre_rcv -> ipgre_rcv
// (data at the GRE header): fewer than 12 bytes (pskb_may_pull) or a
// version other than 0 (GREPROTO_CISCO; PPTP's version 1 handler is not
// modelled, as without the pptp module) is kfree_skb (NOT_SPECIFIED);
// gre_parse_header failing (greParseHeader) is kfree_skb (NOT_SPECIFIED);
// no tunnel of the kind (gretap for ETH_P_TEB, else gre) with the
// endpoints and key is PACKET_REJECT: the ICMP port unreachable (not
// modelled), then kfree_skb (NOT_SPECIFIED). gretap pulls the header and
// runs ip_tunnel_rcv's eth_type_trans on the inner frame; ipgre pulls it
// and, as skb_pop_mac_header does, leaves the mac header at the outer IP
// header. ip_tunnel_rcv scrubs with xnet = tunnel->net differs from the
// device's namespace. The drops' location is gre_rcv (OpGRERcv). Takes
// ownership of skb.
func (s *Stack) greRcv(b *skb.Buff, ns *Netns, ip ipv4) {
	// gre_rcv: pskb_may_pull of the demux bytes, then gre_parse_header's of
	// the whole header (at most 16 bytes); a checksum covers every byte
	// (skb_checksum_simple_validate), fragments included.
	if !b.MayPull(greDemuxMinLen) {
		s.drop(b, skb.DropNotSpecified, OpGRERcv)
		return
	}
	b.MayPull(min(b.Len(), greHlen+12))
	if data := b.Data(); data[1]&0x7f != 0 {
		s.drop(b, skb.DropNotSpecified, OpGRERcv) // gre_demux's gre_rcv: goto drop
		return
	}
	hdr, proto, key, ok := s.greHeader(b)
	if !ok {
		s.drop(b, skb.DropNotSpecified, OpGRERcv)
		return
	}
	kind := KindGRE
	if proto == ethPTEB {
		kind = KindGRETap
	}
	d := s.findIPTunnel(ns, ip, kind)
	if d == nil || d.vni != key {
		s.icmpSend(b, ns, icmpDestUnreach, icmpPortUnreach, 0, true) // gre_rcv: PACKET_REJECT
		s.drop(b, skb.DropNotSpecified, OpGRERcv)
		return
	}
	if kind == KindGRETap {
		s.decapL2(b, d, hdr, nil, 0)
		return
	}
	s.decapL3(b, d, hdr, proto)
}

// ipipRcv models ipip_rcv / ipip6_rcv (sit): iptunnel_pull_header(skb, 0,
// inner protocol, xnet), the inner network header reset (sit also moves the
// mac header to the outer IP header), ip_tunnel_rcv / netif_rx. Takes
// ownership of skb.
func (s *Stack) ipipRcv(b *skb.Buff, ns *Netns, ip ipv4) {
	kind, proto := KindIPIP, uint16(ethPIP)
	if ip.proto == ipprotoIPv6 {
		kind, proto = KindSIT, ethPIPv6
	}
	d := s.findIPTunnel(ns, ip, kind)
	if d == nil {
		s.icmpSend(b, ns, icmpDestUnreach, icmpProtUnreach, 0, true) // ip_protocol_deliver_rcu
		s.drop(b, skb.DropIPNoproto, OpTunnelDecap)
		return
	}
	s.decapL3(b, d, 0, proto)
}

func (s *Stack) decapL3(b *skb.Buff, d *Device, hdr int, proto uint16) {
	if !d.up {
		s.drop(b, skb.DropDevReady, OpTunnelDecap)
		return
	}
	outer := b.NetworkOffset()
	if r := s.pullHeader(b, hdr, proto, d.linkNs != d.ns); r != skb.SkbNotDroppedYet {
		s.drop(b, r, OpTunnelDecap)
		return
	}
	if d.kind != KindIPIP {
		// ipgre: skb_pop_mac_header; sit: skb->mac_header =
		// skb->network_header — the mac header is the outer IP header.
		// ipip leaves it at the outer Ethernet header.
		b.SetMacHeader(outer - hdr)
	}
	b.ResetNetworkHeader()
	setDev(b, d)
	b.H().PktType = skb.PacketHost
	s.traceOp(LayerTunnel, OpTunnelDecap, b)
	if d.kind == KindSIT {
		s.netifRx(b)
		return
	}
	s.groCellsReceive(b, d)
}

// skbGetHash models __skb_get_hash_net: __skb_flow_dissect of the skb
// from its network header (nhoff = skb_network_offset) with skb->protocol,
// or with the vlan_proto of a tag in vlan_tci, which stands for the first
// 802.1Q or 802.1ad header (its encapsulated protocol is skb->protocol);
// further VLAN headers at nhoff are skipped. The flow dissector's 4-tuple
// hash is recorded with sw_hash and, for TCP and UDP ports, l4_hash. For
// IPv6 the dissection stops at a non-zero flow label
// (FLOW_DISSECTOR_F_STOP_AT_FLOW_LABEL), which then stands for the ports
// (flow_keys_have_l4); extension headers before the transport header are
// skipped. A dissection that fails or finds another protocol still hashes
// what it found (the keys it left zero): a software hash without l4_hash.
// So a VLAN-tagged skb whose network header is already past its tags (a
// packet socket's, packet_parse_headers) is dissected from the IP header
// as if that were a VLAN header, and gets no L4 hash (measured on 6.18).
func (s *Stack) skbGetHash(b *skb.Buff) {
	h := b.H()
	d, off := b.Data(), b.NetworkOffset()
	proto, hwTag := h.Protocol, h.VlanTagPresent()
	if hwTag {
		proto = h.VlanProto
	}
	for proto == skb.EthP8021Q || proto == skb.EthP8021AD {
		if hwTag {
			proto, hwTag = h.Protocol, false
			continue
		}
		if off < 0 || off+skb.VlanHlen > len(d) {
			proto = 0
			break
		}
		proto = binary.BigEndian.Uint16(d[off+2 : off+4])
		off += skb.VlanHlen
	}
	if off < 0 || off > len(d) {
		proto = 0
	} else {
		d = d[off:]
	}
	if proto == ethPIPv6 {
		s.skbGetHash6(b, d)
		return
	}
	if proto != ethPIP {
		h.Hash, h.SWHash, h.L4Hash = emptyFlowHash(), true, false
		return
	}
	ip, ok := parseIPv4(d)
	if !ok || len(d) < ip.ihl {
		h.Hash, h.SWHash, h.L4Hash = emptyFlowHash(), true, false
		return
	}
	var sport, dport uint16
	l4 := false
	if ip.proto == ipprotoTCP || ip.proto == ipprotoUDP {
		sport, dport, l4 = l4Ports(d[ip.ihl:])
	}
	h.Hash, h.SWHash, h.L4Hash = flowHash(ip.src, ip.dst, ip.proto, sport, dport), true, l4
}

func (s *Stack) skbGetHash6(b *skb.Buff, d []byte) {
	h := b.H()
	ip, ok := parseIPv6(d)
	if !ok {
		h.Hash, h.SWHash, h.L4Hash = emptyFlowHash(), true, false
		return
	}
	if label := binary.BigEndian.Uint32(d[0:4]) & 0xfffff; label != 0 {
		h.Hash, h.SWHash, h.L4Hash = flowHash(ip.src, ip.dst, 0, uint16(label>>16), uint16(label)), true, true
		return
	}
	next, off := ip.next, ip6Hlen
	for next == nexthdrHop || next == nexthdrDest || next == nexthdrRouting {
		n, ok := extLen(d[off:])
		if !ok || off+n > len(d) {
			break
		}
		next = d[off]
		off += n
	}
	var sport, dport uint16
	l4 := false
	if next == nexthdrTCP || next == nexthdrUDP {
		sport, dport, l4 = l4Ports(d[off:])
	}
	h.Hash, h.SWHash, h.L4Hash = flowHash(ip.src, ip.dst, next, sport, dport), true, l4
}
