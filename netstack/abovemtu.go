package netstack

import (
	"encoding/binary"

	"github.com/skbsim/skbsim/skb"
)

// Frames above the MTU. A capture taken with a packet socket on a
// receiving host sees packets after GRO, and one on a sending host sees
// them before TSO or GSO: aggregates of up to 64 KB that never crossed a
// wire whole. EntryConfig.AboveMTU says what such a frame becomes when it
// enters an RX entry device whose MTU it exceeds (its IP packet, after the
// Ethernet header and any VLAN tags, is longer than the MTU).
const (
	// AboveMTUAccept (the default) has the driver receive the frame as it
	// is, as one whose receive buffers hold it does: the kernel does not
	// check a received frame's length against the MTU, only a NIC's
	// receive buffer size (its MRU) limits it. A device does not see
	// 64 KB frames from a wire, so a capture taken above GRO or TSO wants
	// one of the modes below.
	AboveMTUAccept = "accept"
	// AboveMTUSegment cuts a TCP or UDP frame into the wire
	// frames its sender's TSO or GSO sent: each segment carries
	// EntryConfig.SegmentSize bytes of payload (by default the MTU less
	// the frame's IP and TCP or UDP headers), its own IPv4 tot_len,
	// identification (counted up) and header checksum or IPv6
	// payload_len, its TCP sequence number and flags (tcp_gso_segment:
	// FIN and PSH on the last segment only, CWR on the first only) or
	// UDP length (__udp_gso_segment), and a full TCP or UDP checksum, as
	// the wire held them. The driver receives the segments one after the
	// other, in one NAPI poll, under the capture packet's id.
	AboveMTUSegment = "segment"
	// AboveMTUGROHW hands a TCP frame to the stack as the aggregate a
	// NIC's hardware GRO (or LRO) builds from those wire segments: the
	// headers in the linear data, the payload in page-pool pages (4 KB a
	// fragment, skb_add_rx_frag, marked for recycling), a TCP GSO skb of
	// gso_size SegmentSize with the pseudo-header sum in its check field
	// and CHECKSUM_PARTIAL, as the drivers' tcp_gro_complete leaves it. A
	// veth entry receives it so too, as the GSO skb its peer's stack
	// sent. Other frames are cut as AboveMTUSegment does: the hardware
	// aggregates plain TCP only, into at most MAX_SKB_FRAGS pages. Drivers refuse native XDP while hardware GRO or
	// LRO is on, and generic XDP turns them off (dev_disable_gro_hw,
	// dev_disable_lro), so an entry device with XDP cannot have it.
	AboveMTUGROHW = "gro_hw"
	// AboveMTUDrop has the NIC drop the frame before any skb exists (its
	// receive length check: rx_length_errors), reported as PKT_TOO_BIG
	// at the driver.
	AboveMTUDrop = "drop"
)

// Above-MTU modes of an entry.
const (
	aboveAccept uint8 = iota
	aboveSegment
	aboveGROHW
	aboveDrop
)

// superFrame is a captured frame above the MTU that can be cut: offsets
// of its network header, L4 header, payload and end; for a UDP tunnel
// aggregate, those of the inner packet, and the outer network and UDP
// headers.
type superFrame struct {
	nh, l4, pay, end int
	final            int // IPv6: the offset of the final destination a routing header names (0: the destination address)
	v6               bool
	proto            uint8
	tun              bool
	onh, ol4         int
	ov6              bool
}

// l2Len returns the length of frame f's Ethernet header with up to two
// VLAN tags (802.1Q, 802.1ad), and the protocol after them.
func l2Len(f []byte) (int, uint16) {
	n := ethHlen
	etype := binary.BigEndian.Uint16(f[12:14])
	for range 2 {
		if etype != 0x8100 && etype != 0x88a8 || len(f) < n+4 {
			break
		}
		etype = binary.BigEndian.Uint16(f[n+2 : n+4])
		n += 4
	}
	return n, etype
}

// parseSuperFrame finds the headers of a complete IPv4 (not a fragment)
// or IPv6 (hop-by-hop and destination options headers allowed) TCP or UDP
// frame f whose network header is at nh; a BIG TCP aggregate's length
// field of 0 stands for the frame's length. A UDP frame to the port of a VXLAN or
// Geneve tunnel (4789, 6081, or a tunnel device's) is a tunnel aggregate:
// the inner Ethernet frame's TCP or UDP packet is what is cut.
func (s *Stack) parseSuperFrame(f []byte, nh int, etype uint16) (c superFrame, ok bool) {
	if c, ok = parseL3L4(f, nh, etype); !ok || c.proto != ipprotoUDP {
		return c, ok
	}
	dport := binary.BigEndian.Uint16(f[c.l4+2:])
	kind := s.tunnelPortKind(dport)
	if kind == "" {
		return c, true
	}
	th := f[c.pay:c.end]
	hl, ok := groTunnelHdr(th, kind)
	if !ok || len(th) < hl+ethHlen {
		return c, false
	}
	inner := c.pay + hl
	in, ok := parseL3L4(f[:c.end], inner+ethHlen, binary.BigEndian.Uint16(f[inner+12:inner+14]))
	if !ok || in.end != c.end {
		return c, false
	}
	in.tun, in.onh, in.ol4, in.ov6 = true, c.nh, c.l4, c.v6
	return in, true
}

// tunnelPortKind returns KindVXLAN or KindGeneve when UDP port is a VXLAN
// or Geneve tunnel's (the IANA ports, or a tunnel device's), else "".
func (s *Stack) tunnelPortKind(port uint16) string {
	switch port {
	case defaultVXLANPort, 8472:
		return KindVXLAN
	case defaultGenevePort:
		return KindGeneve
	}
	for _, d := range s.devs {
		if (d.kind == KindVXLAN || d.kind == KindGeneve) && d.port == port {
			return d.kind
		}
	}
	return ""
}

// parseL3L4 is parseSuperFrame without tunnels.
func parseL3L4(f []byte, nh int, etype uint16) (c superFrame, ok bool) {
	c.nh = nh
	if nh > len(f) {
		return c, false
	}
	ip := f[nh:]
	switch etype {
	case ethPIP:
		if len(ip) < ipHlen || ip[0]>>4 != 4 || binary.BigEndian.Uint16(ip[6:8])&(ipMF|ipOffset) != 0 {
			return c, false
		}
		ihl := int(ip[0]&0xf) * 4
		tot := int(binary.BigEndian.Uint16(ip[2:4]))
		if tot == 0 && len(ip) > 0xffff {
			tot = len(ip) // a BIG TCP aggregate (tot_len 0: iph_set_totlen)
		}
		if ihl < ipHlen || tot < ihl || tot > len(ip) {
			return c, false
		}
		c.l4, c.end, c.proto = nh+ihl, nh+tot, ip[9]
	case ethPIPv6:
		if len(ip) < ip6Hlen {
			return c, false
		}
		plen := int(binary.BigEndian.Uint16(ip[4:6]))
		if plen == 0 && len(ip) > ip6Hlen+0xffff {
			plen = len(ip) - ip6Hlen // a BIG TCP aggregate (payload_len 0, no jumbo option)
		}
		if plen == 0 || ip6Hlen+plen > len(ip) {
			return c, false
		}
		// ipv6_gso_segment copies the extension headers
		// (ipv6_gso_pull_exthdrs: hop-by-hop, destination options and
		// routing, INET6_PROTO_GSO_EXTHDR) into every segment. The L4
		// checksum's pseudo-header takes the final destination a routing
		// header with segments left names (RFC 8200 8.1; rh6Final). A
		// fragment header is not cut.
		next, off := ip[6], ip6Hlen
		for next == nexthdrHop || next == nexthdrDest || next == nexthdrRouting {
			if off+8 > ip6Hlen+plen {
				return c, false
			}
			n := (int(ip[off+1]) + 1) * 8
			if next == nexthdrRouting && ip[off+3] != 0 {
				fd, ok := rh6Final(ip[off:min(off+n, len(ip))])
				if !ok || c.final != 0 {
					return c, false
				}
				c.final = nh + off + fd
			}
			next, off = ip[off], off+n
		}
		if off > ip6Hlen+plen {
			return c, false
		}
		c.v6, c.l4, c.end, c.proto = true, nh+off, nh+ip6Hlen+plen, next
	default:
		return c, false
	}
	switch c.proto {
	case ipprotoTCP:
		if c.end < c.l4+20 {
			return c, false
		}
		c.pay = c.l4 + int(f[c.l4+12]>>4)*4
		if c.pay < c.l4+20 || c.pay > c.end {
			return c, false
		}
	case ipprotoUDP:
		c.pay = c.l4 + udpHlen
		if c.pay > c.end {
			return c, false
		}
	default:
		return c, false
	}
	return c, true
}

// rh6Final returns the offset, in routing header rh (its segments left
// not 0), of the final destination: the last address of a type 0 header
// (RFC 2460), the home address of a type 2 one (RFC 6275), Segment
// List[0] of a segment routing header (type 4, RFC 8754). Other types (RPL's
// compressed one) are not cut.
func rh6Final(rh []byte) (int, bool) {
	if len(rh) < 8 {
		return 0, false
	}
	n := int(rh[1]) * 8 // the bytes after the first 8
	if len(rh) < 8+n || n < 16 {
		return 0, false
	}
	switch rh[2] {
	case 0:
		return 8 + n - 16, true
	case 2, 4:
		return 8, true
	}
	return 0, false
}

// rxAboveMTU receives frame p, longer than an Ethernet header and the MTU
// of entry e's device, as e.above says (AboveMTUAccept, AboveMTUSegment,
// AboveMTUGROHW, AboveMTUDrop). A frame whose IP packet fits the MTU (VLAN
// tags) goes to the driver as it is; one that cannot be cut (not TCP or
// UDP, an IP fragment, an IPv6 fragment header or a routing header of a
// type it cannot read, truncated, or an MTU too small for its headers) is
// dropped as AboveMTUDrop drops it.
func (s *Stack) rxAboveMTU(e *entry, p *Packet) error {
	d, f := e.dev, p.Frame
	nh, etype := l2Len(f)
	if e.above == aboveAccept || len(f)-nh <= d.mtu {
		return s.driverRx(d, p)
	}
	if e.above == aboveDrop {
		s.rxOversize(d)
		return nil
	}
	c, ok := s.parseSuperFrame(f, nh, etype)
	maxSeg := d.mtu - (c.pay - nh)
	if !ok || maxSeg <= 0 {
		s.rxOversize(d)
		return nil
	}
	seg := maxSeg
	if e.segSize > 0 && e.segSize < seg {
		seg = e.segSize
	}
	if c.end-c.pay <= seg {
		// Only padding or bytes past the IP packet exceed the MTU.
		sp := *p
		sp.Frame = f[:c.end]
		return s.driverRx(d, &sp)
	}
	if e.above == aboveGROHW && c.proto == ipprotoTCP && !c.tun && (c.end-c.pay+skb.PageSize-1)/skb.PageSize <= skb.MaxSkbFrags {
		s.rxGROHW(d, p, &c, seg)
		return nil
	}
	return s.rxCut(d, p, &c, seg)
}

// rxOversize drops a frame above the MTU at the driver.
func (s *Stack) rxOversize(d *Device) {
	s.stats.RxOversize++
	s.dropNoSkb(d, skb.DropPktTooBig, OpDriverRx)
}

// rxCut models the wire frames a sender's TSO or GSO cut from the
// captured aggregate c of p (AboveMTUSegment), each of seg payload bytes
// but the last, and has the driver receive them in order.
func (s *Stack) rxCut(d *Device, p *Packet, c *superFrame, seg int) error {
	f := p.Frame
	n := (c.end - c.pay + seg - 1) / seg
	s.stats.RxCut++
	s.stats.RxCutFrames += uint64(n)
	if cap(s.cutBuf) < c.pay+seg {
		s.cutBuf = make([]byte, 0, max(c.pay+seg, 2048))
	}
	id := binary.BigEndian.Uint16(f[c.nh+4:])
	var oid uint16
	ocsum := false
	if c.tun {
		oid = binary.BigEndian.Uint16(f[c.onh+4:])
		ocsum = c.ov6 || binary.BigEndian.Uint16(f[c.ol4+6:]) != 0
	}
	var seq uint32
	if c.proto == ipprotoTCP {
		seq = binary.BigEndian.Uint32(f[c.l4+4:])
	}
	udpCsum := c.proto == ipprotoUDP && (c.v6 || binary.BigEndian.Uint16(f[c.l4+6:]) != 0)
	for i := range n {
		off := c.pay + i*seg
		m := min(seg, c.end-off)
		b := append(append(s.cutBuf[:0], f[:c.pay]...), f[off:off+m]...)
		nh, l4 := b[c.nh:], b[c.l4:]
		if c.v6 {
			binary.BigEndian.PutUint16(nh[4:6], uint16(len(b)-c.nh-ip6Hlen))
		} else {
			binary.BigEndian.PutUint16(nh[2:4], uint16(len(b)-c.nh))
			binary.BigEndian.PutUint16(nh[4:6], id+uint16(i)) // inet_gso_segment: id++
			setIPCsum(nh, c.l4-c.nh)
		}
		switch c.proto {
		case ipprotoTCP:
			binary.BigEndian.PutUint32(l4[4:8], seq+uint32(i*seg))
			if i != n-1 {
				l4[13] &^= tcpFIN | tcpPSH
			}
			if i != 0 {
				l4[13] &^= tcpCWR
			}
			l4CsumTo(nh, l4, ipprotoTCP, c.finalDst(b))
		default:
			binary.BigEndian.PutUint16(l4[4:6], uint16(len(l4)))
			if udpCsum {
				l4CsumTo(nh, l4, ipprotoUDP, c.finalDst(b))
			}
		}
		if c.tun {
			// The outer headers of skb_udp_tunnel_segment's segments.
			onh, ol4 := b[c.onh:], b[c.ol4:]
			if c.ov6 {
				binary.BigEndian.PutUint16(onh[4:6], uint16(len(b)-c.onh-ip6Hlen))
			} else {
				binary.BigEndian.PutUint16(onh[2:4], uint16(len(b)-c.onh))
				binary.BigEndian.PutUint16(onh[4:6], oid+uint16(i))
				setIPCsum(onh, c.ol4-c.onh)
			}
			binary.BigEndian.PutUint16(ol4[4:6], uint16(len(ol4)))
			if ocsum {
				l4Csum(onh, ol4, ipprotoUDP)
			}
		}
		s.cutBuf = b
		sp := *p
		sp.Frame = b
		if err := s.driverRx(d, &sp); err != nil {
			return err
		}
	}
	return nil
}

// finalDst is the final destination address in frame b (a cut of c)
// that a routing header names, or nil for the IPv6 destination address.
func (c *superFrame) finalDst(b []byte) []byte {
	if c.final == 0 {
		return nil
	}
	return b[c.final : c.final+16]
}

// l4Csum writes the full TCP or UDP checksum of l4 (to its end) under
// network header nh; a UDP result of 0 is sent as 0xffff.
func l4Csum(nh, l4 []byte, proto uint8) { l4CsumTo(nh, l4, proto, nil) }

// l4CsumTo is l4Csum with the IPv6 pseudo-header's destination dst (the
// final destination of a routing header) when not nil.
func l4CsumTo(nh, l4 []byte, proto uint8, dst []byte) {
	co := l4CheckOffset(proto)
	binary.BigEndian.PutUint16(l4[co:], 0)
	ps := pseudoSum(nh, proto, len(l4))
	if dst != nil {
		ps = csumAdd(0, nh[8:24]) + csumAdd(0, dst) + uint64(proto) + uint64(len(l4))
	}
	c := ^csumFold(csumAdd(ps, l4))
	if c == 0 && proto == ipprotoUDP {
		c = 0xffff
	}
	binary.BigEndian.PutUint16(l4[co:], c)
}

// rxGROHW models a driver handing the stack its NIC's hardware GRO
// aggregate of the TCP frame c of p (AboveMTUGROHW): napi_alloc_skb for
// the headers, the payload in page-pool pages (skb_add_rx_frag), the
// driver's header update and tcp_gro_complete (gso_size seg, gso_segs,
// SKB_GSO_TCPV4 or TCPV6 with the ECN bit for CWR, the pseudo-header sum
// in the TCP check, CHECKSUM_PARTIAL), eth_type_trans, then GRO (a NIC)
// or the veth's receive path.
func (s *Stack) rxGROHW(d *Device, p *Packet, c *superFrame, seg int) {
	f := p.Frame
	b, err := s.a.NapiAllocSkb(c.pay)
	if err != nil {
		s.dropNoSkb(d, skb.DropNomem, OpDriverRx)
		return
	}
	b.PutData(f[:c.pay])
	setDev(b, d)
	if err := b.AddRxPages(f[c.pay:c.end]); err != nil {
		s.drop(b, skb.DropNomem, OpDriverRx)
		return
	}
	s.stats.RxGROHW++
	sh := b.Shinfo()
	sh.GSOSize = uint16(seg)
	sh.GSOSegs = uint16((c.end - c.pay + seg - 1) / seg)
	sh.GSOType = skb.GSOTCPv4
	if c.v6 {
		sh.GSOType = skb.GSOTCPv6
	}
	if f[c.l4+13]&tcpCWR != 0 {
		if s.prof.TCPGROAccECN {
			sh.GSOType |= skb.GSOTCPAccECN
		} else {
			sh.GSOType |= skb.GSOTCPECN
		}
	}
	data := b.Data()
	binary.BigEndian.PutUint16(data[c.l4+16:], csumFold(pseudoSum(data[c.nh:], ipprotoTCP, c.end-c.l4)))
	b.H().IPSummed = skb.ChecksumPartial
	b.SetCsumStart(c.l4)
	b.H().CsumOffset = 16
	s.traceOp(LayerDriver, OpDriverRx, b)
	if !s.ethTypeTrans(b, d) {
		s.drop(b, skb.DropPktTooSmall, OpEthTypeTrans)
		return
	}
	s.rxHash(b, d, p)
	if d.kid == kidVeth {
		s.vethRx(b, d, vethGROEligible(b, d.peer, d))
		return
	}
	s.napiGROReceive(b, d)
}
