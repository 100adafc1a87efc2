package netstack

import (
	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/skb"
)

// bpf_skb_adjust_room modes and flags (uapi/linux/bpf.h).
const (
	AdjRoomNet = 0 // BPF_ADJ_ROOM_NET: room after the network header
	AdjRoomMac = 1 // BPF_ADJ_ROOM_MAC: room after the mac header

	AdjRoomFixedGSO    uint64 = 1 << 0 // BPF_F_ADJ_ROOM_FIXED_GSO
	AdjRoomEncapL3IPv4 uint64 = 1 << 1 // BPF_F_ADJ_ROOM_ENCAP_L3_IPV4
	AdjRoomEncapL3IPv6 uint64 = 1 << 2 // BPF_F_ADJ_ROOM_ENCAP_L3_IPV6
	AdjRoomEncapL4GRE  uint64 = 1 << 3 // BPF_F_ADJ_ROOM_ENCAP_L4_GRE
	AdjRoomEncapL4UDP  uint64 = 1 << 4 // BPF_F_ADJ_ROOM_ENCAP_L4_UDP
	AdjRoomNoCsumReset uint64 = 1 << 5 // BPF_F_ADJ_ROOM_NO_CSUM_RESET
	AdjRoomEncapL2Eth  uint64 = 1 << 6 // BPF_F_ADJ_ROOM_ENCAP_L2_ETH
	AdjRoomDecapL3IPv4 uint64 = 1 << 7 // BPF_F_ADJ_ROOM_DECAP_L3_IPV4
	AdjRoomDecapL3IPv6 uint64 = 1 << 8 // BPF_F_ADJ_ROOM_DECAP_L3_IPV6

	adjRoomEncapL2Shift = 56 // BPF_ADJ_ROOM_ENCAP_L2_SHIFT
	adjRoomEncapL2Mask  = 0xff

	adjRoomEncapL3Mask = AdjRoomEncapL3IPv4 | AdjRoomEncapL3IPv6
	adjRoomDecapL3Mask = AdjRoomDecapL3IPv4 | AdjRoomDecapL3IPv6
	adjRoomMask        = AdjRoomFixedGSO | adjRoomEncapL3Mask | AdjRoomEncapL4GRE | AdjRoomEncapL4UDP |
		AdjRoomEncapL2Eth | adjRoomEncapL2Mask<<adjRoomEncapL2Shift | adjRoomDecapL3Mask
)

// AdjRoomEncapL2 is BPF_F_ADJ_ROOM_ENCAP_L2(len): the inner mac header's
// length for an encap.
func AdjRoomEncapL2(n int) uint64 { return uint64(n&adjRoomEncapL2Mask) << adjRoomEncapL2Shift }

// gsoByFrags is GSO_BY_FRAGS.
const gsoByFrags = 0xffff

// AdjustRoom models bpf_skb_adjust_room(skb, len_diff, mode, flags) at the
// tc hooks (-EINVAL elsewhere): flags outside BPF_F_ADJ_ROOM_MASK and
// NO_CSUM_RESET are -EINVAL, more than 0xfff bytes -EFAULT, a protocol
// other than IPv4 or IPv6 -ENOTSUPP; the room goes after the mac header
// (AdjRoomMac) or after the base network header (AdjRoomNet, 20 or 40
// bytes), other modes -ENOTSUPP; a shrink must leave the base network
// header (with a DECAP_L3 flag, the new outer one) and a grow must fit
// BPF_SKB_MAX_LEN unless GSO (-ENOTSUPP). Then bpf_skb_net_grow or
// bpf_skb_net_shrink (see adjustRoomGrow, adjustRoomShrink) and, unless
// NO_CSUM_RESET, __skb_reset_checksum_unnecessary. The XDP metadata moves
// with the data only on v6.19+ profiles. Returns 0 or a negative errno.
func (c *Ctx) AdjustRoom(lenDiff int32, mode uint32, flags uint64) int {
	c.s.acct.Op(cost.OpHelperCall, 1)
	if !c.atTC() {
		return errEINVAL
	}
	b := c.Skb
	h := b.H()
	if flags&^(adjRoomMask|AdjRoomNoCsumReset) != 0 {
		return errEINVAL
	}
	n := int(lenDiff)
	shrink := n < 0
	if shrink {
		n = -n
	}
	if n > 0xfff {
		return errEFAULT
	}
	base := 0
	switch h.Protocol {
	case ethPIP:
		base = ipHlen
	case ethPIPv6:
		base = ip6Hlen
	default:
		return errENOTSUP
	}
	off := b.NetworkHeader() - b.MacHeader() // skb_mac_header_len
	switch mode {
	case AdjRoomNet:
		off += base
	case AdjRoomMac:
	default:
		return errENOTSUP
	}
	lenMin := base
	if flags&adjRoomDecapL3Mask != 0 {
		if !shrink {
			return errEINVAL
		}
		switch flags & adjRoomDecapL3Mask {
		case AdjRoomDecapL3IPv4:
			lenMin = ipHlen
		case AdjRoomDecapL3IPv6:
			lenMin = ip6Hlen
		default:
			return errEINVAL
		}
	}
	lenCur := b.Len() - b.NetworkOffset()
	gso := b.Shinfo().GSOSize != 0
	if shrink && (n >= lenCur || lenCur-n < lenMin) || !shrink && b.Len()+n > bpfSkbMaxLen && !gso {
		return errENOTSUP
	}
	var ret int
	if shrink {
		ret = c.s.adjustRoomShrink(b, off, n, flags)
	} else {
		ret = c.s.adjustRoomGrow(b, off, n, flags)
	}
	if ret == 0 && flags&AdjRoomNoCsumReset == 0 && h.IPSummed == skb.ChecksumUnnecessary {
		h.IPSummed, h.CsumLevel = skb.ChecksumNone, 0 // __skb_reset_checksum_unnecessary
	}
	return ret
}

// adjRoomGSOCheck is bpf_skb_net_grow's and _shrink's first test: a GSO
// skb that is not TCP must be UDP_L4 with FIXED_GSO (-ENOTSUPP).
func adjRoomGSOCheck(b *skb.Buff, flags uint64) bool {
	sh := b.Shinfo()
	if sh.GSOSize == 0 || sh.GSOType&(skb.GSOTCPv4|skb.GSOTCPv6) != 0 {
		return true
	}
	return sh.GSOType&skb.GSOUDPL4 != 0 && flags&AdjRoomFixedGSO != 0
}

// adjustRoomGrow models bpf_skb_net_grow(skb, off, len, flags):
// skb_cow_head(skb, len) (v6.19: meta_len + len); for an encap (an
// ENCAP_L3 flag) the protocol must be IPv4 or IPv6 (-ENOTSUPP), the
// flags consistent (-EINVAL), the skb not encapsulated yet (-EALREADY) and
// the inner mac header no longer than len (-EINVAL); bpf_skb_net_hdr_push;
// for an encap the inner headers are the old ones (inner protocol ETH_P_TEB
// with ENCAP_L2_ETH), skb->encapsulation set, the network header right
// after the mac header, the transport header after the outer IP header
// for a GRE or UDP encap, the GSO type the tunnel's and skb->protocol the
// new outer family; a GSO skb's gso_size shrinks by len unless FIXED_GSO,
// and it becomes SKB_GSO_DODGY with gso_segs 0.
func (s *Stack) adjustRoomGrow(b *skb.Buff, off, n int, flags uint64) int {
	if !adjRoomGSOCheck(b, flags) {
		return errENOTSUP
	}
	need := n
	if s.prof.DataMoveHelpers {
		need += b.MetadataLen()
	}
	if b.CowHead(need) != nil {
		return errENOMEM
	}
	h := b.H()
	encap := flags&adjRoomEncapL3Mask != 0
	innerMacLen := int(flags >> adjRoomEncapL2Shift & adjRoomEncapL2Mask)
	var macLen, innerNet, innerTrans int
	if encap {
		switch {
		case h.Protocol != ethPIP && h.Protocol != ethPIPv6:
			return errENOTSUP
		case flags&adjRoomEncapL3Mask == adjRoomEncapL3Mask,
			flags&(AdjRoomEncapL4GRE|AdjRoomEncapL4UDP) == AdjRoomEncapL4GRE|AdjRoomEncapL4UDP:
			return errEINVAL
		case h.Encapsulation:
			return errEALREADY
		case innerMacLen > n:
			return errEINVAL
		}
		macLen = b.NetworkHeader() - b.MacHeader()
		innerNet = b.NetworkOffset() // from data, which the push moves with the headers
		innerTrans = innerNet
		if b.TransportHeaderWasSet() {
			innerTrans = b.TransportHeader() - b.Headroom()
		}
	}
	b.NetHdrPush(off, n)
	sh := b.Shinfo()
	gsoType := skb.GSODodgy
	if encap {
		// The old headers kept their place in the buffer: n bytes further
		// from the new data.
		b.SetInnerHeaders(innerNet+n-innerMacLen, innerNet+n, innerTrans+n)
		h.InnerProtocol = h.Protocol
		if flags&AdjRoomEncapL2Eth != 0 {
			h.InnerProtocol = ethPTEB
		}
		h.Encapsulation = true
		b.SetNetworkHeader(macLen) // skb_set_network_header: from data
		switch {
		case flags&AdjRoomEncapL4UDP != 0:
			gsoType |= skb.GSOUDPTunnel
		case flags&AdjRoomEncapL4GRE != 0:
			gsoType |= skb.GSOGRE
		case flags&AdjRoomEncapL3IPv6 != 0:
			gsoType |= skb.GSOIPXIP6
		default:
			gsoType |= skb.GSOIPXIP4
		}
		if flags&(AdjRoomEncapL4GRE|AdjRoomEncapL4UDP) != 0 {
			nh := ipHlen
			if flags&AdjRoomEncapL3IPv6 != 0 {
				nh = ip6Hlen
			}
			b.SetTransportHeader(macLen + nh)
		}
		switch {
		case h.Protocol == ethPIP && flags&AdjRoomEncapL3IPv6 != 0:
			h.Protocol = ethPIPv6
		case h.Protocol == ethPIPv6 && flags&AdjRoomEncapL3IPv4 != 0:
			h.Protocol = ethPIP
		}
	}
	if sh.GSOSize != 0 {
		if flags&AdjRoomFixedGSO == 0 && sh.GSOSize != gsoByFrags {
			sh.GSOSize -= uint16(n) // skb_decrease_gso_size
		}
		sh.GSOType |= gsoType
		sh.GSOSegs = 0
	}
	return 0
}

// adjustRoomShrink models bpf_skb_net_shrink(skb, off, len, flags): flags
// other than FIXED_GSO, DECAP_L3 and NO_CSUM_RESET are -EINVAL;
// skb_unclone; bpf_skb_net_hdr_pop; a DECAP_L3 flag makes skb->protocol
// the new outer family; a GSO skb's gso_size grows by len unless
// FIXED_GSO, and it becomes SKB_GSO_DODGY with gso_segs 0.
func (s *Stack) adjustRoomShrink(b *skb.Buff, off, n int, flags uint64) int {
	if flags&^(AdjRoomFixedGSO|adjRoomDecapL3Mask|AdjRoomNoCsumReset) != 0 {
		return errEINVAL
	}
	if !adjRoomGSOCheck(b, flags) {
		return errENOTSUP
	}
	if b.Unclone() != nil {
		return errENOMEM
	}
	if b.NetHdrPop(off, n) != nil {
		return errENOMEM
	}
	h := b.H()
	switch {
	case h.Protocol == ethPIP && flags&AdjRoomDecapL3IPv6 != 0:
		h.Protocol = ethPIPv6
	case h.Protocol == ethPIPv6 && flags&AdjRoomDecapL3IPv4 != 0:
		h.Protocol = ethPIP
	}
	if sh := b.Shinfo(); sh.GSOSize != 0 {
		if flags&AdjRoomFixedGSO == 0 && sh.GSOSize != gsoByFrags {
			sh.GSOSize += uint16(n) // skb_increase_gso_size
		}
		sh.GSOType |= skb.GSODodgy
		sh.GSOSegs = 0
	}
	return 0
}

// ChangeType models bpf_skb_change_type(skb, type): skb->pkt_type becomes
// t when both it and t are PACKET_OTHERHOST or below (skb_pkt_type_ok),
// -EINVAL otherwise. A tc (SCHED_CLS) helper: -EINVAL elsewhere. At tc
// ingress the new type decides what the IP layer does with the packet
// (ip_rcv_core drops PACKET_OTHERHOST, ip_forward forwards PACKET_HOST
// only); a netkit program's is overwritten by eth_type_trans before v6.10
// (skb.Profile.NetkitPktType).
func (c *Ctx) ChangeType(t uint32) int {
	c.s.acct.Op(cost.OpHelperCall, 1)
	if !c.atTC() {
		return errEINVAL
	}
	h := c.Skb.H()
	if h.PktType > skb.PacketOtherhost || t > uint32(skb.PacketOtherhost) {
		return errEINVAL
	}
	h.PktType = skb.PktType(t)
	return 0
}

// ChangeProto models bpf_skb_change_proto(skb, proto, flags) at the tc
// hooks (-EINVAL elsewhere, and for flags): IPv4 to IPv6
// (bpf_skb_proto_4_to_6: skb_cow(skb, 20), 20 zeroed bytes after the mac
// header with bpf_skb_net_hdr_push, SKB_GSO_TCPV4 made SKB_GSO_TCPV6) or
// IPv6 to IPv4 (bpf_skb_proto_6_to_4: skb_unclone, 20 bytes after the mac
// header popped, SKB_GSO_TCPV6 made SKB_GSO_TCPV4); then skb->protocol is
// the new one and the hash cleared (skb_clear_hash). Other pairs are
// -ENOTSUPP. The program rewrites the header itself. The XDP metadata
// moves with the data only on v6.19+ profiles. Returns 0 or a negative
// errno.
func (c *Ctx) ChangeProto(proto uint16, flags uint64) int {
	c.s.acct.Op(cost.OpHelperCall, 1)
	if !c.atTC() || flags != 0 {
		return errEINVAL
	}
	b := c.Skb
	h := b.H()
	const lenDiff = ip6Hlen - ipHlen
	off := b.NetworkHeader() - b.MacHeader()
	sh := b.Shinfo()
	switch {
	case h.Protocol == ethPIP && proto == ethPIPv6:
		need := lenDiff
		if c.s.prof.DataMoveHelpers {
			need += b.MetadataLen()
		}
		if b.Cow(need) != nil {
			return errENOMEM
		}
		b.NetHdrPush(off, lenDiff)
		if sh.GSOSize != 0 && sh.GSOType&skb.GSOTCPv4 != 0 {
			sh.GSOType = sh.GSOType&^skb.GSOTCPv4 | skb.GSOTCPv6
		}
	case h.Protocol == ethPIPv6 && proto == ethPIP:
		if b.Unclone() != nil {
			return errENOMEM
		}
		if b.NetHdrPop(off, lenDiff) != nil {
			return errENOMEM
		}
		if sh.GSOSize != 0 && sh.GSOType&skb.GSOTCPv6 != 0 {
			sh.GSOType = sh.GSOType&^skb.GSOTCPv6 | skb.GSOTCPv4
		}
	default:
		return errENOTSUP
	}
	h.Protocol = proto
	h.Hash, h.SWHash, h.L4Hash = 0, false, false // skb_clear_hash
	return 0
}
