package capture

import (
	"encoding/binary"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// IP protocol numbers the decoder follows.
const (
	protoHopByHop = 0
	protoICMP     = 1
	protoIPIP     = 4
	protoTCP      = 6
	protoUDP      = 17
	protoIPv6     = 41
	protoRouting  = 43
	protoFragment = 44
	protoGRE      = 47
	protoAH       = 51
	protoICMPv6   = 58
	protoNoNext   = 59
	protoDstOpts  = 60
)

// ipNext maps an upper-layer protocol to the layer decoding it, or starts
// the tunnel that protocol opens.
func (d *Decoder) ipNext(proto uint8, payload []byte, v6 bool) gopacket.LayerType {
	switch proto {
	case protoTCP:
		return layers.LayerTypeTCP
	case protoUDP:
		return layers.LayerTypeUDP
	case protoICMP:
		if !v6 {
			return layers.LayerTypeICMPv4
		}
	case protoICMPv6:
		if v6 {
			return layers.LayerTypeICMPv6
		}
	case protoGRE:
		return layers.LayerTypeGRE
	case protoIPIP:
		// models ipip_rcv() / ip6_tnl_rcv(): IPv4 carried in IPv4 or IPv6.
		kind := TunnelIPIP
		if v6 {
			kind = TunnelIP4IP6
		}
		d.tunnel(Tunnel{Kind: kind, Proto: ethIPv4, Offset: uint32(d.off(payload))}, firstIPv4, payload)
	case protoIPv6:
		// models ipip6_rcv() (sit) and ip6_tnl_rcv(): IPv6 in IPv4 or IPv6.
		kind := TunnelSIT
		if v6 {
			kind = TunnelIP6IP6
		}
		d.tunnel(Tunnel{Kind: kind, Proto: ethIPv6, Offset: uint32(d.off(payload))}, firstIPv6, payload)
	}
	return gopacket.LayerTypeZero
}

// ipChecksum returns the Internet checksum of b (0 when a header that
// includes its checksum field is intact).
func ipChecksum(b []byte) uint16 {
	var s uint64
	for len(b) >= 8 {
		s += uint64(binary.BigEndian.Uint32(b)) + uint64(binary.BigEndian.Uint32(b[4:]))
		b = b[8:]
	}
	if len(b) >= 4 {
		s += uint64(binary.BigEndian.Uint32(b))
		b = b[4:]
	}
	if len(b) >= 2 {
		s += uint64(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint64(b[0]) << 8
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

// ip4Layer decodes IPv4 headers with the checks of ip_rcv_core().
type ip4Layer struct {
	layers.IPv4
	d    *Decoder
	next gopacket.LayerType
}

func (l *ip4Layer) NextLayerType() gopacket.LayerType { return l.next }

func (l *ip4Layer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	d := l.d
	l.next = gopacket.LayerTypeZero
	avail := d.wire(data)
	// models ip_rcv_core(): the checks in the kernel's order.
	if err := d.need(data, avail, 20, MalformedIPv4Short); err != nil {
		return err
	}
	if data[0]>>4 != 4 {
		return d.bad(MalformedIPv4Version, data)
	}
	ihl := int(data[0]&0x0f) * 4
	if ihl < 20 {
		return d.bad(MalformedIPv4IHL, data)
	}
	if err := d.need(data, avail, ihl, MalformedIPv4HeaderShort); err != nil {
		return err
	}
	if !d.opts.IgnoreChecksums && ipChecksum(data[:ihl]) != 0 {
		return d.bad(MalformedIPv4Checksum, data)
	}
	tot := int(binary.BigEndian.Uint16(data[2:4]))
	if avail < tot {
		return d.bad(MalformedIPv4TotalLen, data)
	}
	if tot < ihl {
		return d.bad(MalformedIPv4TotalLenShort, data)
	}
	if ihl > 20 {
		// gopacket rejects malformed options, as ip_options_compile()
		// does before ip_rcv_finish_core() drops the packet.
		if err := l.IPv4.DecodeFromBytes(data, df); err != nil {
			return d.bad(MalformedIPv4Options, data)
		}
	} else {
		// Without options gopacket would only repeat the reads below.
		l.IPv4.BaseLayer = layers.BaseLayer{Contents: data[:ihl], Payload: data[ihl:min(tot, len(data))]}
	}
	h := &d.cur.L3
	h.Proto = L3IPv4
	h.Src = addrFrom4(data[12:16])
	h.Dst = addrFrom4(data[16:20])
	h.Protocol = data[9]
	h.TTL = data[8]
	h.TOS = data[1]
	h.ID = uint32(binary.BigEndian.Uint16(data[4:6]))
	ff := binary.BigEndian.Uint16(data[6:8])
	h.FragOffset = (ff & 0x1fff) * 8
	h.MF = ff&0x2000 != 0
	h.DF = ff&0x4000 != 0
	h.HeaderLen = uint32(ihl)
	h.TotalLen = uint32(tot)
	if len(data) > tot {
		d.out.Flags |= FlagTrailer // pskb_trim_rcsum() drops the trailer
	}
	d.l4avail = tot - ihl
	if h.IsFragment() {
		// models ip_local_deliver(): fragments are reassembled before L4.
		d.out.Flags |= FlagFragment
		return nil
	}
	l.next = d.ipNext(h.Protocol, l.IPv4.Payload, false)
	return nil
}

// ip6Layer decodes the IPv6 header and its extension headers in one pass.
// gopacket's IPv6 layer allocates for every hop-by-hop option and has no
// DecodingLayer for routing headers, so both are read here; the parser
// continues with the upper-layer protocol.
type ip6Layer struct {
	d       *Decoder
	payload []byte
	next    gopacket.LayerType
}

func (l *ip6Layer) CanDecode() gopacket.LayerClass    { return layers.LayerTypeIPv6 }
func (l *ip6Layer) NextLayerType() gopacket.LayerType { return l.next }
func (l *ip6Layer) LayerPayload() []byte              { return l.payload }

func (l *ip6Layer) DecodeFromBytes(data []byte, _ gopacket.DecodeFeedback) error {
	d := l.d
	l.next = gopacket.LayerTypeZero
	l.payload = nil
	avail := d.wire(data)
	// models ip6_rcv_core().
	if err := d.need(data, avail, 40, MalformedIPv6Short); err != nil {
		return err
	}
	if data[0]>>4 != 6 {
		return d.bad(MalformedIPv6Version, data)
	}
	h := &d.cur.L3
	h.Proto = L3IPv6
	h.TOS = uint8(binary.BigEndian.Uint16(data[0:2]) >> 4)
	h.FlowLabel = binary.BigEndian.Uint32(data[0:4]) & 0xfffff
	h.TTL = data[7]
	h.Src = addrFrom16(data[8:24])
	h.Dst = addrFrom16(data[24:40])
	plen := int(binary.BigEndian.Uint16(data[4:6]))
	nh := data[6]
	// pkt_len may be zero only for a jumbogram: then the packet is not
	// trimmed unless the hop-by-hop header holds a jumbo payload option.
	total := avail
	if plen != 0 || nh != protoHopByHop {
		total = 40 + plen
		if total > avail {
			return d.bad(MalformedIPv6PayloadLen, data)
		}
	}
	ext := &h.Ext
	o := 40 // offset of the next header in data
	for nh == protoHopByHop || nh == protoRouting || nh == protoDstOpts || nh == protoFragment || nh == protoAH {
		p := data[o:min(total, len(data))]
		if nh == protoHopByHop && o != 40 {
			return d.bad(MalformedIPv6HopByHopNotFirst, p)
		}
		if err := d.need(p, total-o, 8, MalformedIPv6ExtHeader); err != nil {
			return err
		}
		hlen := (int(p[1]) + 1) * 8
		switch nh {
		case protoFragment:
			hlen = 8
		case protoAH:
			hlen = (int(p[1]) + 2) * 4
		}
		if err := d.need(p, total-o, hlen, MalformedIPv6ExtHeader); err != nil {
			return err
		}
		if int(ext.N) < len(ext.Types) {
			ext.Types[ext.N] = nh
		}
		if ext.N < 255 {
			ext.N++
		}
		ext.Len += uint32(hlen)
		switch nh {
		case protoHopByHop:
			if jl, ok := jumboLength(p[2:hlen]); ok {
				// models ipv6_hop_jumbo(): only with payload_len 0, for
				// more than 65535 bytes, and within the packet.
				if plen != 0 || jl <= 0xffff {
					return d.bad(MalformedIPv6Jumbo, p)
				}
				if 40+jl > avail {
					return d.bad(MalformedIPv6PayloadLen, data)
				}
				total = 40 + jl
			}
		case protoRouting:
			ext.HasRouting = true
			ext.RoutingType = p[2]
			ext.SegmentsLeft = p[3]
			if p[2] == 4 { // segment routing header
				ext.LastEntry = p[4]
			}
		case protoFragment:
			ff := binary.BigEndian.Uint16(p[2:4])
			h.ID = binary.BigEndian.Uint32(p[4:8])
			h.FragOffset = ff &^ 7
			h.MF = ff&1 != 0
		}
		nh = p[0]
		o += hlen
	}
	if len(data) > total {
		d.out.Flags |= FlagTrailer // pskb_trim_rcsum() drops the trailer
	}
	p := data[o:min(total, len(data))]
	h.Protocol = nh
	h.HeaderLen = uint32(o)
	h.TotalLen = uint32(total)
	d.l4avail = total - o
	l.payload = p
	if h.IsFragment() {
		d.out.Flags |= FlagFragment
		return nil
	}
	if nh != protoNoNext {
		l.next = d.ipNext(nh, p, true)
	}
	return nil
}

// jumboLength finds the jumbo payload option (type 0xc2) in hop-by-hop
// options.
func jumboLength(opts []byte) (int, bool) {
	for len(opts) > 0 {
		if opts[0] == 0 { // Pad1
			opts = opts[1:]
			continue
		}
		if len(opts) < 2 || len(opts) < 2+int(opts[1]) {
			return 0, false
		}
		if opts[0] == 0xc2 && opts[1] == 4 {
			return int(binary.BigEndian.Uint32(opts[2:6])), true
		}
		opts = opts[2+int(opts[1]):]
	}
	return 0, false
}

// arpLayer decodes ARP headers.
type arpLayer struct {
	layers.ARP
	d *Decoder
}

func (l *arpLayer) NextLayerType() gopacket.LayerType { return gopacket.LayerTypeZero }

func (l *arpLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	d := l.d
	avail := d.wire(data)
	// models arp_rcv(): the whole header for the device's address length
	// must be pullable, else PKT_TOO_SMALL.
	if err := d.need(data, avail, 8, MalformedARPShort); err != nil {
		return err
	}
	hln, pln := int(data[4]), int(data[5])
	if err := d.need(data, avail, 8+2*(hln+pln), MalformedARPShort); err != nil {
		return err
	}
	_ = l.ARP.DecodeFromBytes(data, df)
	h := &d.cur.L3
	h.Proto = L3ARP
	h.ARPOp = binary.BigEndian.Uint16(data[6:8])
	if pln == 4 {
		h.Src = addrFrom4(data[8+hln:])
		h.Dst = addrFrom4(data[8+2*hln+4:])
	}
	return nil
}
