package netstack

import (
	"encoding/binary"

	"github.com/skbsim/skbsim/skb"
)

// IGMP message types (include/uapi/linux/igmp.h).
const (
	igmpHostMembershipQuery    = 0x11
	igmpHostMembershipReport   = 0x12
	igmpV2HostMembershipReport = 0x16
	igmpHlen                   = 8  // sizeof(struct igmphdr)
	igmpV3QueryLen             = 12 // sizeof(struct igmpv3_query)
	igmpQueryInterval          = 125 * hz
	igmpQueryResponseInterval  = 10 * hz
	igmpDefaultQRV             = 2 // net.ipv4.igmp_qrv
)

// igmpState is what igmp_heard_query keeps in a device's in_device: until
// when a v1 or a v2 querier counts as present (mr_v1_seen, mr_v2_seen),
// and the robustness and query interval of the last v3 query (mr_qrv,
// mr_qi).
type igmpState struct {
	v1Seen, v2Seen uint64
	qrv, qi        uint64
}

// igmpRcv models igmp_rcv() for a message delivered to ns (b's data at the
// IGMP header). The model keeps no membership timers, so only what decides
// the skb's fate is modelled: a message shorter than its header or with a
// bad checksum is freed (kfree_skb: NOT_SPECIFIED); a query is consumed
// unless igmp_heard_query finds it bogus (8 < length < 12, a v3 query cut
// short of its sources, a general v3 query with sources), and a v1 query
// (code 0) or v2 query (8 bytes) marks the querier present, which changes
// how later v3 queries are read (IGMP_V1_SEEN, IGMP_V2_SEEN); a v1 or v2
// report is consumed when it came to a multicast or broadcast address
// (igmp_heard_report), freed when it came unicast; every other type (v3
// reports, leaves, PIM v1, DVMRP, traces) is freed.
func (s *Stack) igmpRcv(b *skb.Buff, ns *Netns) {
	s.traceOp(LayerL4, OpIGMPRcv, b)
	n := b.Len()
	dropped := true
	if n >= igmpHlen && b.MayPull(igmpHlen) && !s.icmpCsumBad(b) {
		switch d := b.Data(); d[0] {
		case igmpHostMembershipQuery:
			dropped = s.igmpHeardQuery(b, n)
		case igmpHostMembershipReport, igmpV2HostMembershipReport:
			pt := b.H().PktType
			dropped = pt != skb.PacketMulticast && pt != skb.PacketBroadcast
		}
	}
	if dropped {
		s.drop(b, skb.DropNotSpecified, OpIGMPRcv)
		return
	}
	s.consume(b, DeliverOther, -1)
}

// igmpHeardQuery models igmp_heard_query() on the receiving device's
// state; it reports whether the query is bogus.
func (s *Stack) igmpHeardQuery(b *skb.Buff, n int) bool {
	d := s.devOf(b)
	st := &d.igmp
	if st.qrv == 0 {
		st.qrv, st.qi = igmpDefaultQRV, igmpQueryInterval
	}
	now := s.jiffies()
	code := b.Data()[1]
	switch {
	case n == igmpHlen:
		seen := now + st.qrv*st.qi + igmpQueryResponseInterval
		if code == 0 {
			st.v1Seen = seen
		} else {
			st.v2Seen = seen
		}
		return false
	case n < igmpV3QueryLen:
		return true
	case st.v1Seen > now || st.v2Seen > now:
		return false // IGMP_V1_SEEN, IGMP_V2_SEEN: read as a v1 or v2 query
	}
	if !b.MayPull(igmpV3QueryLen) {
		return true
	}
	q := b.Data()
	nsrcs := int(binary.BigEndian.Uint16(q[10:12]))
	if nsrcs != 0 && (n < igmpV3QueryLen+4*nsrcs || !b.MayPull(igmpV3QueryLen+4*nsrcs)) {
		return true
	}
	st.qrv = uint64(q[8] & 7)
	if st.qrv == 0 {
		st.qrv = igmpDefaultQRV
	}
	st.qi = igmpv3QQIC(q[9]) * hz
	if st.qi == 0 {
		st.qi = igmpQueryInterval
	}
	group := binary.BigEndian.Uint32(q[4:8])
	return group == 0 && nsrcs != 0 // a general query allows no sources
}

// igmpv3QQIC is IGMPV3_QQIC: the query interval code in seconds (RFC 3376
// 4.1.7: exponential above 127).
func igmpv3QQIC(c uint8) uint64 {
	if c < 128 {
		return uint64(c)
	}
	return uint64(c&0xf|0x10) << ((c>>4)&7 + 3)
}
