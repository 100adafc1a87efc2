package netstack

import (
	"encoding/binary"

	"github.com/skbsim/skbsim/skb"
)

// L4 checksums. The model follows skb->ip_summed where it decides what
// happens to a packet:
//
//   - A frame a driver receives is CHECKSUM_UNNECESSARY (driverRx,
//     nicXDPRx): the NIC's receive checksum offload is taken to have
//     verified every level, as a capture taken on a sending host holds the
//     partial checksums its NIC completed on the wire.
//   - A socket's TCP segment or UDP datagram is CHECKSUM_PARTIAL, its
//     check field the pseudo-header sum the device completes (l4TxCsum):
//     every modelled device offers checksum offload. A UDP datagram with
//     a frag_list (above the MTU, no offload) gets its full checksum in
//     software and stays CHECKSUM_NONE.
//   - An skb built from an XDP frame (veth's XDP_TX and XDP_REDIRECT, a
//     cpumap's kthread) is CHECKSUM_NONE: the frame carries no checksum
//     state (__xdp_build_skb_from_frame's "HW checksum info" is missing).
//   - GRO validates a CHECKSUM_NONE TCP or UDP packet in software
//     (groCsumValid) and refuses to merge a bad one.
//
// Everything else keeps the state it had; tunnels do not change it (a
// NIC's CHECKSUM_UNNECESSARY counts for the inner headers too, as with a
// csum_level covering them), and the outer checksums of encapsulation are
// not written.

// csumAdd adds b's 16-bit big-endian words (a trailing odd byte padded
// with zero, as csum_partial does) to sum.
func csumAdd(sum uint64, b []byte) uint64 {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		v := binary.BigEndian.Uint64(b[i:])
		sum += v>>48 + v>>32&0xffff + v>>16&0xffff + v&0xffff
	}
	for ; i+2 <= len(b); i += 2 {
		sum += uint64(binary.BigEndian.Uint16(b[i:]))
	}
	if i < len(b) {
		sum += uint64(b[i]) << 8
	}
	return sum
}

// csumFold folds a one's complement sum to 16 bits (csum_fold without the
// complement).
func csumFold(sum uint64) uint16 {
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
// CHECKSUM_NONE.
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
		c := ^csumFold(csumAdd(ps, s.l4Bytes(b, l4)))
		if c == 0 {
			c = 0xffff
		}
		binary.BigEndian.PutUint16(d[l4+co:], c)
		b.H().IPSummed = skb.ChecksumNone
		return
	}
	binary.BigEndian.PutUint16(d[l4+co:], csumFold(ps))
	b.H().IPSummed = skb.ChecksumPartial
	b.SetCsumStart(l4)
}

// l4CsumValid models __skb_checksum_complete on a CHECKSUM_NONE skb b,
// its data at the network header (nhLen bytes up to the TCP or UDP
// header): the pseudo-header and the L4 bytes up to the IP header's
// length must sum to 0xffff. A UDP
// checksum of 0 is none (the zero_check variants).
func (s *Stack) l4CsumValid(b *skb.Buff, nhLen int, proto uint8) bool {
	d := b.Data()
	co := l4CheckOffset(proto)
	if co < 0 || len(d) < nhLen+co+2 {
		return true
	}
	if proto == ipprotoUDP && binary.BigEndian.Uint16(d[nhLen+co:]) == 0 {
		return true
	}
	// The packet's own length (an Ethernet frame's padding is not part
	// of it).
	end := int(binary.BigEndian.Uint16(d[2:4]))
	if d[0]>>4 == 6 {
		end = ip6Hlen + int(binary.BigEndian.Uint16(d[4:6]))
	}
	if end > b.Len() || end < nhLen {
		end = b.Len()
	}
	ps := pseudoSum(d, proto, end-nhLen)
	return csumFold(csumAdd(ps, s.l4Bytes(b, nhLen)[:end-nhLen])) == 0xffff
}
