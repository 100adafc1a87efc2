package capture

import (
	"encoding/binary"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// IANA ports of the UDP tunnels the decoder follows: models the UDP tunnel
// sockets of vxlan and geneve devices bound to the default ports, which
// match on the destination port only.
const (
	portVXLAN  = 4789
	portGeneve = 6081
)

// l4avail is the number of bytes the L4 header and payload have on the
// wire: bounded by the IP lengths and, for the captured bytes, by the
// capture.
func (d *Decoder) l4Avail(data []byte) int {
	return min(d.wire(data), d.l4avail)
}

// tcpLayer decodes TCP headers with the checks of tcp_v4_rcv() and
// tcp_v6_rcv().
type tcpLayer struct {
	layers.TCP
	d *Decoder
}

func (l *tcpLayer) NextLayerType() gopacket.LayerType { return gopacket.LayerTypeZero }

func (l *tcpLayer) DecodeFromBytes(data []byte, _ gopacket.DecodeFeedback) error {
	d := l.d
	avail := d.l4Avail(data)
	// models tcp_v4_rcv(): !pskb_may_pull(sizeof(tcphdr)) -> discard_it.
	if err := d.need(data, avail, 20, MalformedTCPShort); err != nil {
		return err
	}
	doff := int(data[12]>>4) * 4
	if doff < 20 { // th->doff < sizeof(struct tcphdr) / 4
		return d.bad(MalformedTCPDataOffset, data)
	}
	if err := d.need(data, avail, doff, MalformedTCPHeaderShort); err != nil {
		return err
	}
	// gopacket's TCP.DecodeFromBytes would parse the options, which the
	// model does not use (tcp_parse_options() never drops a segment).
	l.TCP.BaseLayer = layers.BaseLayer{Contents: data[:doff], Payload: data[doff:]}
	h := &d.cur.L4
	h.Proto = protoTCP
	h.SrcPort = binary.BigEndian.Uint16(data[0:2])
	h.DstPort = binary.BigEndian.Uint16(data[2:4])
	h.Seq = binary.BigEndian.Uint32(data[4:8])
	h.Ack = binary.BigEndian.Uint32(data[8:12])
	h.TCPFlags = TCPFlags(data[13]) | TCPFlags(data[12]&1)<<8
	h.Window = binary.BigEndian.Uint16(data[14:16])
	h.HeaderLen = uint16(doff)
	h.PayloadLen = uint32(avail - doff)
	return nil
}

// udpLayer decodes UDP headers with the checks of __udp4_lib_rcv() and
// __udp6_lib_rcv(), and hands UDP tunnel payloads to their decoders.
type udpLayer struct {
	layers.UDP
	d    *Decoder
	next gopacket.LayerType
}

func (l *udpLayer) NextLayerType() gopacket.LayerType { return l.next }

func (l *udpLayer) DecodeFromBytes(data []byte, _ gopacket.DecodeFeedback) error {
	d := l.d
	l.next = gopacket.LayerTypeZero
	avail := d.l4Avail(data)
	// models __udp4_lib_rcv(): !pskb_may_pull(sizeof(udphdr)) -> drop.
	if err := d.need(data, avail, 8, MalformedUDPShort); err != nil {
		return err
	}
	ulen := int(binary.BigEndian.Uint16(data[4:6]))
	if ulen == 0 && d.cur.L3.Proto == L3IPv6 {
		ulen = avail // models udp6_rcv(): length 0 is a jumbogram
	}
	if ulen > avail || ulen < 8 { // short_packet
		return d.bad(MalformedUDPLength, data)
	}
	h := &d.cur.L4
	h.Proto = protoUDP
	h.SrcPort = binary.BigEndian.Uint16(data[0:2])
	h.DstPort = binary.BigEndian.Uint16(data[2:4])
	h.HeaderLen = 8
	h.PayloadLen = uint32(ulen - 8)
	l.UDP.BaseLayer = layers.BaseLayer{Contents: data[:8], Payload: data[8:min(ulen, len(data))]}
	switch h.DstPort {
	case portVXLAN:
		l.next = layers.LayerTypeVXLAN
	case portGeneve:
		l.next = layers.LayerTypeGeneve
	}
	return nil
}

// icmp4Layer decodes ICMPv4 headers.
type icmp4Layer struct {
	layers.ICMPv4
	d *Decoder
}

func (l *icmp4Layer) NextLayerType() gopacket.LayerType { return gopacket.LayerTypeZero }

func (l *icmp4Layer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	d := l.d
	avail := d.l4Avail(data)
	// models icmp_rcv(): !pskb_pull(sizeof(struct icmphdr)) -> error.
	if err := d.need(data, avail, 8, MalformedICMPShort); err != nil {
		return err
	}
	_ = l.ICMPv4.DecodeFromBytes(data, df)
	h := &d.cur.L4
	h.Proto = protoICMP
	h.ICMPType, h.ICMPCode = data[0], data[1]
	if h.ICMPType == 0 || h.ICMPType == 8 { // echo reply, echo request
		h.ICMPID = binary.BigEndian.Uint16(data[4:6])
		h.ICMPSeq = binary.BigEndian.Uint16(data[6:8])
	}
	h.HeaderLen = 8
	h.PayloadLen = uint32(avail - 8)
	return nil
}

// icmp6Layer decodes ICMPv6 headers.
type icmp6Layer struct {
	layers.ICMPv6
	d *Decoder
}

func (l *icmp6Layer) NextLayerType() gopacket.LayerType { return gopacket.LayerTypeZero }

func (l *icmp6Layer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	d := l.d
	avail := d.l4Avail(data)
	// models icmpv6_rcv(): !pskb_pull(sizeof(struct icmp6hdr)) -> discard.
	if err := d.need(data, avail, 8, MalformedICMPShort); err != nil {
		return err
	}
	_ = l.ICMPv6.DecodeFromBytes(data, df)
	h := &d.cur.L4
	h.Proto = protoICMPv6
	h.ICMPType, h.ICMPCode = data[0], data[1]
	if h.ICMPType == 128 || h.ICMPType == 129 { // echo request, echo reply
		h.ICMPID = binary.BigEndian.Uint16(data[4:6])
		h.ICMPSeq = binary.BigEndian.Uint16(data[6:8])
	}
	h.HeaderLen = 8
	h.PayloadLen = uint32(avail - 8)
	return nil
}
