package netstack

import (
	"encoding/binary"

	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/skb"
)

// L4 checksums. The model follows skb->ip_summed where it decides what
// happens to a packet:
//
//   - A frame a driver receives is CHECKSUM_UNNECESSARY (driverRx,
//     nicXDPRx, setRxCsum; CHECKSUM_NONE with DeviceConfig.RxChecksum
//     off): the NIC's receive checksum offload is taken
//     to have verified every level, as a capture taken on a sending host
//     holds the partial checksums its NIC completed on the wire. Where the
//     frame loses that state (an XDP frame's skb), its bytes are checked;
//     Options.CaptureCsumOffload completes a captured packet's checksum
//     first (completeL4Csum). An IP
//     fragment is CHECKSUM_NONE: no NIC verifies the L4 checksum of a
//     piece of a datagram (its sender computed it in software, so a
//     capture holds it whole).
//   - A socket's TCP segment or UDP datagram is CHECKSUM_PARTIAL, its
//     check field the pseudo-header sum the device completes (l4TxCsum);
//     GSO gives each segment the sum of its own length (gsoSegCsum). A
//     device without transmit checksum offload (DeviceConfig.TxChecksum
//     off) has validate_xmit_skb complete it in software (csumHelp:
//     CHECKSUM_NONE). A UDP datagram with a frag_list (above the MTU, no
//     offload) gets its full checksum at once and stays CHECKSUM_NONE.
//   - An skb built from an XDP frame (veth's XDP_TX and XDP_REDIRECT, a
//     cpumap's kthread) is CHECKSUM_NONE: the frame carries no checksum
//     state (__xdp_build_skb_from_frame's "HW checksum info" is missing).
//   - GRO validates a CHECKSUM_NONE TCP or UDP packet in software
//     (l4CsumValid) and refuses to merge a bad one; UDP and TCP receive
//     drop one (rxCsumBad: UDP_CSUM, TCP_CSUM) where their kernel
//     functions complete the checksum.
//   - A GRO aggregate is CHECKSUM_PARTIAL with the pseudo-header sum of
//     its length in the TCP or UDP check (groCompleteCsum:
//     tcp_gro_complete, udp_gro_complete_segment), a fraglist one
//     CHECKSUM_UNNECESSARY. Cut again, each segment gets its own sum; a
//     tunnel's segment with SKB_GSO_UDP_TUNNEL_CSUM also its outer UDP
//     checksum (tunnelSegOuterCsum).
//
//   - Encapsulation (tunnelHandleOffloads: iptunnel_handle_offloads)
//     makes an skb that is neither GSO nor CHECKSUM_PARTIAL
//     CHECKSUM_NONE. A vxlan or geneve device with udp_csum (the default
//     over IPv6) writes its outer UDP checksum (udpTunnelSetCsum:
//     udp_set_csum, udp6_set_csum): the pseudo-header sum for a GSO skb
//     (SKB_GSO_UDP_TUNNEL_CSUM), the full sum by local checksum offload
//     over a partial inner checksum, else CHECKSUM_PARTIAL at the outer
//     header. IPv6 UDP receive drops a checksum of 0 unless the socket
//     takes it (a tunnel's udp6zerocsumrx).
//
//   - Levels: a CHECKSUM_UNNECESSARY skb's csum_level counts the
//     checksums verified beyond the first. A NIC's covers every level
//     (the model's NIC verifies tunnels' inner checksums too). GRO
//     (groCsumValidate: csum_cnt) and the receive path (rxCsumBad) use up
//     one level per TCP or UDP header and check in software when none is
//     left; csum_valid keeps a header from being checked twice, and
//     decapsulation (pullHeader) clears it: the inner packet's checksum
//     is the next level. So a VXLAN packet that arrives CHECKSUM_NONE has
//     its inner checksum checked, by GRO and by the inner TCP or UDP
//     receive, as measured (TestKernelVXLANInnerChecksum).
//
// A GRE checksum is validated the same way (greCsumBad): a level of
// CHECKSUM_UNNECESSARY, else a software sum.
//
// Everything else keeps the state it had. GRE_CSUM is not written on
// transmit, remote checksum offload is not modelled, and
// CHECKSUM_COMPLETE is not modelled (a software check stands for it).

// csumAdd adds b's 16-bit big-endian words (a trailing odd byte padded
// with zero, as csum_partial does) to sum. It adds 32-bit words where it
// can: their sum folds to the same 16-bit one's complement sum.
func csumAdd(sum uint64, b []byte) uint64 {
	for len(b) >= 32 {
		v0 := binary.BigEndian.Uint64(b[0:8])
		v1 := binary.BigEndian.Uint64(b[8:16])
		v2 := binary.BigEndian.Uint64(b[16:24])
		v3 := binary.BigEndian.Uint64(b[24:32])
		sum += v0>>32 + v0&0xffffffff + v1>>32 + v1&0xffffffff + v2>>32 + v2&0xffffffff + v3>>32 + v3&0xffffffff
		b = b[32:]
	}
	for len(b) >= 8 {
		v := binary.BigEndian.Uint64(b[0:8])
		sum += v>>32 + v&0xffffffff
		b = b[8:]
	}
	for len(b) >= 2 {
		sum += uint64(binary.BigEndian.Uint16(b[0:2]))
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint64(b[0]) << 8
	}
	return sum
}

// csumFold folds a one's complement sum to 16 bits (csum_fold without the
// complement).
func csumFold(sum uint64) uint16 {
	sum = sum&0xffffffff + sum>>32
	sum = sum&0xffffffff + sum>>32
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return uint16(sum)
}

// pseudoSum is the pseudo-header sum of an L4 segment of l4len bytes of
// protocol proto under network header nh (IPv4 or IPv6: the version
// nibble decides): csum_tcpudp_nofold / csum_ipv6_magic before folding.
func pseudoSum(nh []byte, proto uint8, l4len int) uint64 {
	var sum uint64
	if nh[0]>>4 == 6 {
		sum = csumAdd(0, nh[8:40])
	} else {
		sum = csumAdd(0, nh[12:20])
	}
	return sum + uint64(proto) + uint64(l4len)
}

// l4CheckOffset is the offset of the checksum field in a TCP or UDP
// header, -1 for other protocols.
func l4CheckOffset(proto uint8) int {
	switch proto {
	case ipprotoTCP:
		return 16
	case ipprotoUDP:
		return 6
	}
	return -1
}

// l4Bytes returns b's bytes from offset off of its data to its end,
// copying them into the stack's scratch buffer when b is non-linear.
func (s *Stack) l4Bytes(b *skb.Buff, off int) []byte {
	if !b.IsNonlinear() {
		return b.Data()[off:]
	}
	n := b.Len() - off
	if cap(s.greBuf) < n {
		s.greBuf = make([]byte, n)
	}
	buf := s.greBuf[:n]
	_ = b.CopyBits(off, buf)
	return buf
}

// l4TxCsum models the transport checksum of a socket's skb b, its data at
// the network header and its transport header at l4 bytes from it (proto
// TCP or UDP): CHECKSUM_PARTIAL with csum_start at the transport header
// and the pseudo-header sum in the check field (udp4_hwcsum,
// udp6_hwcsum_outgoing, __tcp_v4_send_check, __tcp_v6_send_check); a UDP
// datagram with a frag_list gets its full checksum (udp_csum,
// udp6_csum_outgoing; a result of 0 is sent as 0xffff) and stays
// CHECKSUM_NONE. A device without checksum offload completes the partial
// checksum when the skb leaves (csumHelp); the kernel's UDP computes it
// at once then, to the same bytes.
func (s *Stack) l4TxCsum(b *skb.Buff, l4 int, proto uint8) {
	co := l4CheckOffset(proto)
	d := b.Data()
	if co < 0 || len(d) < l4+co+2 {
		return
	}
	l4len := b.Len() - l4
	ps := pseudoSum(d, proto, l4len)
	if proto == ipprotoUDP && b.HasFragList() {
		binary.BigEndian.PutUint16(d[l4+co:], 0)
		s.acct.Op(cost.OpCsumByte, uint64(l4len)) // udp_csum: skb_checksum over the datagram
		c := ^csumFold(csumAdd(ps, s.l4Bytes(b, l4)))
		if c == 0 && proto == ipprotoUDP {
			c = 0xffff
		}
		binary.BigEndian.PutUint16(d[l4+co:], c)
		b.H().IPSummed = skb.ChecksumNone
		return
	}
	binary.BigEndian.PutUint16(d[l4+co:], csumFold(ps))
	b.H().IPSummed = skb.ChecksumPartial
	b.SetCsumStart(l4)
	b.H().CsumOffset = uint16(co)
}

// l4CsumValid models __skb_checksum_complete on a CHECKSUM_NONE skb b
// for the TCP or UDP packet whose network header is nh bytes into b's
// data and whose L4 header nhLen bytes after that: the pseudo-header and
// the L4 bytes up to the IP header's length must sum to 0xffff. A UDP
// checksum of 0 is none (the zero_check variants).
func (s *Stack) l4CsumValid(b *skb.Buff, nh, nhLen int, proto uint8) bool {
	d := b.Data()
	co := l4CheckOffset(proto)
	if co < 0 || len(d) < nh+nhLen+co+2 {
		return true
	}
	if proto == ipprotoUDP && binary.BigEndian.Uint16(d[nh+nhLen+co:]) == 0 {
		return true
	}
	// The packet's own length (an Ethernet frame's padding is not part
	// of it).
	n := b.Len() - nh
	end := int(binary.BigEndian.Uint16(d[nh+2 : nh+4]))
	if d[nh]>>4 == 6 {
		end = ip6Hlen + int(binary.BigEndian.Uint16(d[nh+4:nh+6]))
	}
	if end > n || end < nhLen {
		end = n
	}
	ps := pseudoSum(d[nh:], proto, end-nhLen)
	s.acct.Op(cost.OpCsumByte, uint64(end-nhLen)) // skb_checksum: csum_partial over the segment
	return csumFold(csumAdd(ps, s.l4Bytes(b, nh+nhLen)[:end-nhLen])) == 0xffff
}

// checksumBreak is CHECKSUM_BREAK: skb_checksum_init completes the
// checksum of an skb this short at once instead of later.
const checksumBreak = 76

// skbMaxCsumLevel is SKB_MAX_CSUM_LEVEL: a CHECKSUM_UNNECESSARY skb's
// csum_level counts the checksums verified beyond the first, up to 3.
const skbMaxCsumLevel = 3

// setRxCsum gives skb b of frame f the state the receive checksum
// offload of d's driver leaves (rxCsumState); CHECKSUM_UNNECESSARY covers
// every level (csum_level SKB_MAX_CSUM_LEVEL: the model's NIC verifies
// tunnels' inner checksums too). Without it (DeviceConfig.RxChecksum off)
// b is CHECKSUM_NONE.
func setRxCsum(b *skb.Buff, f []byte, d *Device) {
	h := b.H()
	if d.noRxCsum {
		h.IPSummed = skb.ChecksumNone
		return
	}
	h.IPSummed = rxCsumState(f)
	if h.IPSummed == skb.ChecksumUnnecessary {
		h.CsumLevel = skbMaxCsumLevel
	}
}

// incrCsumUnnecessary models __skb_incr_checksum_unnecessary: one more
// level verified.
func incrCsumUnnecessary(h *skb.Header) {
	switch {
	case h.IPSummed == skb.ChecksumNone:
		h.IPSummed, h.CsumLevel = skb.ChecksumUnnecessary, 0
	case h.IPSummed == skb.ChecksumUnnecessary && h.CsumLevel < skbMaxCsumLevel:
		h.CsumLevel++
	}
}

// rxCsumBad models the checksum check of the receive path for skb b, its
// data at the TCP or UDP header and its network header set
// (skb_checksum_init and __skb_checksum_complete): a level already
// verified (csum_valid) is not checked again; a CHECKSUM_UNNECESSARY skb
// uses up a level (__skb_checksum_validate_needed:
// __skb_decr_checksum_unnecessary, CHECKSUM_NONE after the last) and a
// CHECKSUM_NONE one is checked in software. Either sets csum_valid, which
// decapsulation clears (pullHeader): the inner packet's checksum is the
// next level's. It reports a bad checksum.
func (s *Stack) rxCsumBad(b *skb.Buff, proto uint8) bool {
	h := b.H()
	if h.CsumValid {
		return false
	}
	if h.IPSummed != skb.ChecksumUnnecessary {
		return h.IPSummed == skb.ChecksumNone && s.rxCsumCheck(b, proto)
	}
	h.CsumValid = true
	decrCsumUnnecessary(h)
	return false
}

// decrCsumUnnecessary models __skb_decr_checksum_unnecessary: a verified
// level of CHECKSUM_UNNECESSARY used up, CHECKSUM_NONE after the last.
func decrCsumUnnecessary(h *skb.Header) {
	if h.CsumLevel == 0 {
		h.IPSummed = skb.ChecksumNone
	} else {
		h.CsumLevel--
	}
}

// rxCsumCheck is rxCsumBad's software check of a CHECKSUM_NONE skb.
func (s *Stack) rxCsumCheck(b *skb.Buff, proto uint8) bool {
	h := b.H()
	nh := -b.NetworkOffset()
	if nh <= 0 || nh > b.Headroom() {
		return false
	}
	b.Push(nh)
	ok := s.l4CsumValid(b, 0, nh, proto)
	b.Pull(nh)
	h.CsumValid = ok
	return !ok
}

// gsoSegCsum gives GSO segment g (data at its mac header, the network
// header l2 bytes in, the TCP or UDP header at l4) the pseudo-header sum
// of its own length when it is CHECKSUM_PARTIAL (tcp_gso_segment's
// newcheck, __udp_gso_segment's check adjustment).
func gsoSegCsum(g *skb.Buff, l2, l4 int, proto uint8) {
	co := l4CheckOffset(proto)
	d := g.Data()
	if g.H().IPSummed != skb.ChecksumPartial || co < 0 || len(d) < l4+co+2 {
		return
	}
	binary.BigEndian.PutUint16(d[l4+co:], csumFold(pseudoSum(d[l2:], proto, g.Len()-l4)))
}

// tunnelSegOuterCsum models the outer UDP checksum __skb_udp_tunnel_segment
// writes on a segment of an SKB_GSO_UDP_TUNNEL_CSUM skb: the pseudo-header
// sum of the segment's outer UDP length, then gso_make_checksum, which
// sums the outer UDP header up to the inner L4 header and takes the inner
// part from the complement of the inner check field (local checksum
// offload: a CHECKSUM_PARTIAL inner header sums to that once the device
// completes it); 0 is sent as CSUM_MANGLED_0. g's data is at its mac
// header, the outer network header at onh, the outer UDP header at ol4,
// the inner TCP or UDP header at il4. A segment whose inner checksum is
// not partial is left as it is.
func tunnelSegOuterCsum(g *skb.Buff, onh, ol4, il4 int, iproto uint8) {
	co := l4CheckOffset(iproto)
	d := g.Data()
	if g.H().IPSummed != skb.ChecksumPartial || co < 0 || len(d) < il4+co+2 {
		return
	}
	lcoUDPCsum(d, onh, ol4, g.Len()-ol4, il4, il4+co)
}

// lcoUDPCsum writes the full checksum of the outer UDP header at ol4 of d
// (network header at onh, ulen bytes of UDP) over an inner packet whose
// checksum is still partial, as udp_v4_check / udp_v6_check over
// lco_csum() or gso_make_checksum() compute it: the outer header's bytes
// up to the inner csum_start (start), and for the rest the complement of
// the inner check field (at check), which is what those bytes sum to once
// the device completes it. 0 is sent as CSUM_MANGLED_0.
func lcoUDPCsum(d []byte, onh, ol4, ulen, start, check int) {
	binary.BigEndian.PutUint16(d[ol4+6:], 0)
	sum := csumAdd(pseudoSum(d[onh:], ipprotoUDP, ulen), d[ol4:start])
	sum += uint64(^binary.BigEndian.Uint16(d[check:]))
	c := ^csumFold(sum)
	if c == 0 {
		c = 0xffff
	}
	binary.BigEndian.PutUint16(d[ol4+6:], c)
}

// csumHelp models validate_xmit_skb's skb_csum_hwoffload_help ->
// skb_checksum_help for a CHECKSUM_PARTIAL skb b leaving a device without
// checksum offload (data at the mac header): the sum from csum_start to
// the end, the pseudo-header sum in the check field included, is folded
// into it (0 as CSUM_MANGLED_0) and b becomes CHECKSUM_NONE. The check
// field is found from the IP header's protocol (TCP or UDP right after an
// IPv4 header or the fixed IPv6 header); others are left partial.
func (s *Stack) csumHelp(b *skb.Buff) {
	l4 := b.CsumStart() - b.Headroom()
	nh := b.NetworkOffset()
	d := b.Data()
	if l4 <= nh || nh < 0 || l4 >= len(d) {
		return
	}
	var proto uint8
	switch d[nh] >> 4 {
	case 4:
		proto = d[nh+9]
	case 6:
		proto = d[nh+6]
	}
	co := l4CheckOffset(proto)
	if co < 0 || len(d) < l4+co+2 {
		return
	}
	s.acct.Op(cost.OpCsumByte, uint64(b.Len()-l4)) // skb_checksum from csum_start
	c := ^csumFold(csumAdd(0, s.l4Bytes(b, l4)))
	if c == 0 {
		c = 0xffff
	}
	binary.BigEndian.PutUint16(d[l4+co:], c)
	b.H().IPSummed = skb.ChecksumNone
}

// rxCsumState is the ip_summed a driver gives a received Ethernet frame f:
// CHECKSUM_UNNECESSARY, except CHECKSUM_NONE for an IPv4 fragment (MF or
// an offset) or an IPv6 packet whose first extension header is a
// fragment header.
func rxCsumState(f []byte) skb.IPSummed {
	if len(f) < ethHlen {
		return skb.ChecksumUnnecessary
	}
	nh := f[ethHlen:]
	switch binary.BigEndian.Uint16(f[12:14]) {
	case ethPIP:
		if len(nh) >= ipHlen && binary.BigEndian.Uint16(nh[6:8])&(ipMF|ipOffset) != 0 {
			return skb.ChecksumNone
		}
	case ethPIPv6:
		if len(nh) >= ip6Hlen && nh[6] == nexthdrFrag {
			return skb.ChecksumNone
		}
	}
	return skb.ChecksumUnnecessary
}

// completeL4Csum writes the full TCP or UDP checksum of Ethernet frame f
// (an IPv4 packet that is not a fragment, or an IPv6 packet whose next
// header is TCP or UDP) over what the capture had
// (Options.CaptureCsumOffload). A UDP checksum of 0 (none) is left alone.
func completeL4Csum(f []byte) {
	if len(f) < ethHlen {
		return
	}
	nh := f[ethHlen:]
	var l4, end int
	var proto uint8
	switch binary.BigEndian.Uint16(f[12:14]) {
	case ethPIP:
		if len(nh) < ipHlen || binary.BigEndian.Uint16(nh[6:8])&(ipMF|ipOffset) != 0 {
			return
		}
		l4, end, proto = int(nh[0]&0xf)*4, int(binary.BigEndian.Uint16(nh[2:4])), nh[9]
	case ethPIPv6:
		if len(nh) < ip6Hlen {
			return
		}
		l4, end, proto = ip6Hlen, ip6Hlen+int(binary.BigEndian.Uint16(nh[4:6])), nh[6]
	default:
		return
	}
	co := l4CheckOffset(proto)
	if co < 0 || l4 < ipHlen || end > len(nh) || end < l4+co+2 {
		return
	}
	if proto == ipprotoUDP && binary.BigEndian.Uint16(nh[l4+co:]) == 0 {
		return
	}
	binary.BigEndian.PutUint16(nh[l4+co:], 0)
	c := ^csumFold(csumAdd(pseudoSum(nh, proto, end-l4), nh[l4:end]))
	if c == 0 && proto == ipprotoUDP {
		c = 0xffff
	}
	binary.BigEndian.PutUint16(nh[l4+co:], c)
}

// trustReasmCsum applies Options.TrustReassembledCsum to datagram b,
// reassembled from fragments, whose L4 header of protocol proto is l4
// bytes into its data: a CHECKSUM_NONE TCP or UDP datagram gets
// csum_valid, as a successful software check leaves it, and the check's
// bytes are charged now.
func (s *Stack) trustReasmCsum(b *skb.Buff, l4 int, proto uint8) {
	h := b.H()
	if (proto != ipprotoUDP && proto != ipprotoTCP) || h.IPSummed != skb.ChecksumNone || h.CsumValid {
		return
	}
	s.acct.Op(cost.OpCsumByte, uint64(b.Len()-l4))
	h.CsumValid = true
}
