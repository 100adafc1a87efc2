package netstack

import (
	"encoding/binary"
	"net/netip"
)

// Protocol numbers and header sizes used by the model.
const (
	ethPIP    = 0x0800
	ethPARP   = 0x0806
	ethPPause = 0x8808 // ETH_P_PAUSE
	ethPIPv6  = 0x86dd
	ethPTEB   = 0x6558 // transparent Ethernet bridging (GRE TEB)

	ipprotoICMP = 1
	ipprotoIGMP = 2
	ipprotoIPIP = 4
	ipprotoTCP  = 6
	ipprotoUDP  = 17
	ipprotoIPv6 = 41
	ipprotoGRE  = 47

	ethHlen    = 14
	ipHlen     = 20
	udpHlen    = 8
	vxlanHlen  = 8
	geneveHlen = 8
	greHlen    = 4 // without key/csum/seq
	greKeyHlen = 8 // with the key option

	ipDF     = 0x4000
	ipMF     = 0x2000
	ipOffset = 0x1fff

	tcpFIN = 0x01
	tcpSYN = 0x02
	tcpRST = 0x04
	tcpPSH = 0x08
	tcpACK = 0x10
	tcpURG = 0x20
	tcpECE = 0x40
	tcpCWR = 0x80

	defaultVXLANPort  = 4789
	defaultGenevePort = 6081
)

var broadcastMAC = [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// ipv4 is a parsed IPv4 header.
type ipv4 struct {
	ihl      int
	tos      uint8
	totLen   int
	id       uint16
	fragOff  uint16 // flags and offset as on the wire
	ttl      uint8
	proto    uint8
	src, dst netip.Addr
}

func parseIPv4(b []byte) (h ipv4, ok bool) {
	if len(b) < ipHlen {
		return h, false
	}
	h.ihl = int(b[0]&0xf) * 4
	h.tos = b[1]
	h.totLen = int(binary.BigEndian.Uint16(b[2:4]))
	h.id = binary.BigEndian.Uint16(b[4:6])
	h.fragOff = binary.BigEndian.Uint16(b[6:8])
	h.ttl = b[8]
	h.proto = b[9]
	h.src = netip.AddrFrom4([4]byte(b[12:16]))
	h.dst = netip.AddrFrom4([4]byte(b[16:20]))
	return h, b[0]>>4 == 4 && h.ihl >= ipHlen
}

func (h *ipv4) isFragment() bool { return h.fragOff&(ipMF|ipOffset) != 0 }

// ipCsum models ip_fast_csum(): the one's complement sum of the header.
// Like the kernel's it adds 32-bit words (a header is ihl 32-bit words)
// and folds the carries at the end: the same one's complement sum as
// 16-bit additions. A trailing odd byte is not summed.
//
// An option-less header (20 bytes, five words) is summed without a loop;
// every fold keeps the sum's value modulo 0xffff and a non-zero sum non-zero,
// so the result is the same.
func ipCsum(b []byte) uint16 {
	var sum uint64
	if len(b) == ipHlen {
		sum = uint64(binary.BigEndian.Uint32(b[0:4])) + uint64(binary.BigEndian.Uint32(b[4:8])) +
			uint64(binary.BigEndian.Uint32(b[8:12])) + uint64(binary.BigEndian.Uint32(b[12:16])) +
			uint64(binary.BigEndian.Uint32(b[16:20]))
		sum = sum&0xffffffff + sum>>32 // < 2^32 + 5
		sum = sum&0xffff + sum>>16     // < 2^17 + 1
		sum = sum&0xffff + sum>>16     // <= 0xffff + 2
		sum = sum&0xffff + sum>>16     // <= 0xffff
		return ^uint16(sum)
	}
	i := 0
	for ; i+4 <= len(b); i += 4 {
		sum += uint64(binary.BigEndian.Uint32(b[i:]))
	}
	if i+2 <= len(b) {
		sum += uint64(binary.BigEndian.Uint16(b[i:]))
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// ipDecreaseTTL models ip_decrease_ttl(): the TTL byte is decremented and
// the header checksum updated incrementally (csum_replace2 of the
// TTL/protocol word: check += htons(0x0100), end-around carry). On a header
// whose checksum was valid this gives the value a full ip_send_check
// would: both are the one's complement sum's unique form other than 0xffff.
// Returns the new TTL.
func ipDecreaseTTL(b []byte) uint8 {
	check := uint32(binary.BigEndian.Uint16(b[10:12])) + 0x0100
	if check >= 0xffff {
		check++
	}
	binary.BigEndian.PutUint16(b[10:12], uint16(check))
	b[8]--
	return b[8]
}

// writeIPv4 writes a 20-byte IPv4 header with a correct checksum.
func writeIPv4(b []byte, tos uint8, totLen int, id uint16, df bool, ttl, proto uint8, src, dst netip.Addr) {
	b[0] = 0x45
	b[1] = tos
	binary.BigEndian.PutUint16(b[2:4], uint16(totLen))
	binary.BigEndian.PutUint16(b[4:6], id)
	var fo uint16
	if df {
		fo = ipDF
	}
	binary.BigEndian.PutUint16(b[6:8], fo)
	b[8] = ttl
	b[9] = proto
	b[10], b[11] = 0, 0
	s4, d4 := src.As4(), dst.As4()
	copy(b[12:16], s4[:])
	copy(b[16:20], d4[:])
	binary.BigEndian.PutUint16(b[10:12], ipCsum(b[:ipHlen]))
}

// setIPCsum recomputes the header checksum (ip_send_check).
func setIPCsum(b []byte, ihl int) {
	b[10], b[11] = 0, 0
	binary.BigEndian.PutUint16(b[10:12], ipCsum(b[:ihl]))
}

func writeEth(b []byte, dst, src [6]byte, proto uint16) {
	copy(b[0:6], dst[:])
	copy(b[6:12], src[:])
	binary.BigEndian.PutUint16(b[12:14], proto)
}

func writeUDP(b []byte, sport, dport uint16, length int) {
	binary.BigEndian.PutUint16(b[0:2], sport)
	binary.BigEndian.PutUint16(b[2:4], dport)
	binary.BigEndian.PutUint16(b[4:6], uint16(length))
	b[6], b[7] = 0, 0 // no checksum (udp_set_csum with nocheck / offloaded)
}

func isMulticastMAC(m []byte) bool { return m[0]&1 != 0 }

// isValidEtherAddr models is_valid_ether_addr: neither multicast nor
// all zeros.
func isValidEtherAddr(m [6]byte) bool { return !isMulticastMAC(m[:]) && m != [6]byte{} }

// rtTos2Priority models rt_tos2priority(): ip_tos2prio[IPTOS_TOS(tos)>>1].
func rtTos2Priority(tos uint8) uint32 {
	// net/ipv4/route.c ip_tos2prio (ECN_OR_COST(c) = TC_PRIO_c): BESTEFFORT 0,
	// BULK 2, INTERACTIVE_BULK 4, INTERACTIVE 6.
	return ipTos2Prio[(tos&0x1e)>>1]
}

var ipTos2Prio = [16]uint32{0, 0, 0, 0, 2, 2, 2, 2, 6, 6, 6, 6, 4, 4, 4, 4}

// l4Ports returns the source and destination ports of a UDP or TCP header.
func l4Ports(b []byte) (sport, dport uint16, ok bool) {
	if len(b) < 4 {
		return 0, 0, false
	}
	return binary.BigEndian.Uint16(b[0:2]), binary.BigEndian.Uint16(b[2:4]), true
}

// flowHash is a deterministic stand-in for the flow dissector's
// __skb_get_hash (jhash of the 4-tuple with a boot-time seed).
func flowHash(src, dst netip.Addr, proto uint8, sport, dport uint16) uint32 {
	var s4, d4 [4]byte
	if src.Is4() {
		s4 = src.As4()
	}
	if dst.Is4() {
		d4 = dst.As4()
	}
	h := uint32(2166136261)
	mix := func(x byte) { h ^= uint32(x); h *= 16777619 }
	for _, x := range s4 {
		mix(x)
	}
	for _, x := range d4 {
		mix(x)
	}
	mix(proto)
	mix(byte(sport >> 8))
	mix(byte(sport))
	mix(byte(dport >> 8))
	mix(byte(dport))
	if h == 0 {
		h = 1
	}
	return h
}

// emptyFlowHash is the hash of flow keys the dissector left zero (no
// network header it could parse): __flow_hash_from_keys never returns 0.
func emptyFlowHash() uint32 { return flowHash(netip.Addr{}, netip.Addr{}, 0, 0, 0) }
