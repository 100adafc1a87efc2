package capture

import (
	"encoding/binary"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// The decoding layers. Each embeds gopacket's layer where gopacket has an
// allocation-free DecodingLayer for the header, checks what the kernel
// checks before handing the bytes to it (so gopacket's error paths, which
// allocate, are not reached on malformed input), copies the fields into the
// current level of the Decoded value, and chooses the next layer itself:
// tunnels end a parser pass and are decoded by the next one.

// EtherTypes the decoder follows.
const (
	ethIPv4    = 0x0800
	ethARP     = 0x0806
	ethIPv6    = 0x86dd
	ethVLAN    = 0x8100
	ethQinQ    = 0x88a8
	ethQinQOld = 0x9100
	ethMPLS    = 0x8847
	ethMPLSMC  = 0x8848
	ethTEB     = 0x6558
	ethERSPAN2 = 0x88be
	ethERSPAN3 = 0x22eb
)

// maxVLANTags bounds the tags followed: models __vlan_get_protocol(), which
// gives up after VLAN_MAX_DEPTH (8) tags.
const maxVLANTags = 8

// etherNext maps an EtherType to the layer that decodes what follows it.
func (d *Decoder) etherNext(et uint16) gopacket.LayerType {
	d.lastType = et
	switch et {
	case ethIPv4:
		return layers.LayerTypeIPv4
	case ethIPv6:
		return layers.LayerTypeIPv6
	case ethARP:
		return layers.LayerTypeARP
	case ethVLAN, ethQinQ, ethQinQOld:
		if d.cur.L2.NumVLAN >= maxVLANTags {
			return gopacket.LayerTypeZero
		}
		return layers.LayerTypeDot1Q
	case ethMPLS, ethMPLSMC:
		return layers.LayerTypeMPLS
	}
	return gopacket.LayerTypeZero
}

// ethLayer decodes Ethernet II and 802.3 headers.
type ethLayer struct {
	layers.Ethernet
	d    *Decoder
	next gopacket.LayerType
}

func (l *ethLayer) NextLayerType() gopacket.LayerType { return l.next }

func (l *ethLayer) DecodeFromBytes(data []byte, _ gopacket.DecodeFeedback) error {
	d := l.d
	if err := d.need(data, d.wire(data), 14, MalformedL2Short); err != nil {
		return err
	}
	// gopacket's Ethernet.DecodeFromBytes would only repeat these reads:
	// the fields are taken directly, on the hottest path of all.
	l.Ethernet.BaseLayer = layers.BaseLayer{Contents: data[:14], Payload: data[14:]}
	h := &d.cur.L2
	h.Kind = L2Ethernet
	h.Dst = MAC(data[0:6])
	h.Src = MAC(data[6:12])
	h.EtherType = binary.BigEndian.Uint16(data[12:14])
	h.HeaderLen = 14
	l.next = d.etherNext(h.EtherType)
	return nil
}

// vlanLayer decodes 802.1Q and 802.1ad tags.
type vlanLayer struct {
	layers.Dot1Q
	d    *Decoder
	next gopacket.LayerType
}

func (l *vlanLayer) NextLayerType() gopacket.LayerType { return l.next }

func (l *vlanLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	d := l.d
	if err := d.need(data, d.wire(data), 4, MalformedL2Short); err != nil {
		return err
	}
	_ = l.Dot1Q.DecodeFromBytes(data, df)
	h := &d.cur.L2
	if int(h.NumVLAN) < len(h.VLAN) {
		h.VLAN[h.NumVLAN] = VLANTag{
			TPID:     d.lastType,
			ID:       l.VLANIdentifier,
			Priority: l.Priority,
			DEI:      l.DropEligible,
		}
	}
	h.NumVLAN++
	h.EtherType = uint16(l.Type)
	h.HeaderLen += 4
	l.next = d.etherNext(h.EtherType)
	return nil
}

// sllLayer decodes Linux cooked capture v1 headers.
type sllLayer struct {
	layers.LinuxSLL
	d    *Decoder
	next gopacket.LayerType
}

func (l *sllLayer) NextLayerType() gopacket.LayerType { return l.next }

func (l *sllLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	d := l.d
	if err := d.need(data, d.wire(data), 16, MalformedL2Short); err != nil {
		return err
	}
	halen := binary.BigEndian.Uint16(data[4:6])
	if halen > 8 { // packet_rcv() never writes more than 8 address bytes
		return d.bad(MalformedL2Short, data)
	}
	_ = l.LinuxSLL.DecodeFromBytes(data, df)
	h := &d.cur.L2
	h.Kind = L2SLL
	h.PktType = data[1]
	if halen >= 6 {
		h.Src = MAC(data[6:12])
	}
	h.EtherType = binary.BigEndian.Uint16(data[14:16])
	h.HeaderLen = 16
	l.next = d.etherNext(h.EtherType)
	return nil
}

// sll2Layer decodes Linux cooked capture v2 headers.
type sll2Layer struct {
	layers.LinuxSLL2
	d    *Decoder
	next gopacket.LayerType
}

func (l *sll2Layer) NextLayerType() gopacket.LayerType { return l.next }

func (l *sll2Layer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	d := l.d
	if err := d.need(data, d.wire(data), 20, MalformedL2Short); err != nil {
		return err
	}
	if data[11] > 8 {
		return d.bad(MalformedL2Short, data)
	}
	_ = l.LinuxSLL2.DecodeFromBytes(data, df)
	h := &d.cur.L2
	h.Kind = L2SLL2
	h.EtherType = binary.BigEndian.Uint16(data[0:2])
	h.IfIndex = binary.BigEndian.Uint32(data[4:8])
	h.PktType = data[10]
	if data[11] >= 6 {
		h.Src = MAC(data[12:18])
	}
	h.HeaderLen = 20
	l.next = d.etherNext(h.EtherType)
	return nil
}

// nullLayer decodes the 4-byte address family of BSD loopback captures
// (LINKTYPE_NULL in the writer's byte order, LINKTYPE_LOOP in network
// order). gopacket's Loopback rejects families above 255 with an allocated
// error, so the family is read here.
type nullLayer struct {
	d       *Decoder
	payload []byte
	next    gopacket.LayerType
}

func (l *nullLayer) CanDecode() gopacket.LayerClass    { return layers.LayerTypeLoopback }
func (l *nullLayer) NextLayerType() gopacket.LayerType { return l.next }
func (l *nullLayer) LayerPayload() []byte              { return l.payload }

func (l *nullLayer) DecodeFromBytes(data []byte, _ gopacket.DecodeFeedback) error {
	d := l.d
	if err := d.need(data, d.wire(data), 4, MalformedL2Short); err != nil {
		return err
	}
	fam := binary.LittleEndian.Uint32(data[:4])
	if data[0] == 0 && data[1] == 0 {
		fam = binary.BigEndian.Uint32(data[:4])
	}
	h := &d.cur.L2
	h.Kind = L2Loopback
	h.HeaderLen = 4
	switch fam {
	case 2: // AF_INET everywhere
		h.EtherType = ethIPv4
	case 10, 24, 28, 30: // AF_INET6: Linux, NetBSD/OpenBSD/BSDi, FreeBSD, Darwin
		h.EtherType = ethIPv6
	}
	l.payload = data[4:]
	l.next = d.etherNext(h.EtherType)
	return nil
}

// pppLayer decodes PPP headers (RFC 1661), with or without the HDLC
// address and control bytes and with protocol field compression.
type pppLayer struct {
	d       *Decoder
	payload []byte
	next    gopacket.LayerType
}

func (l *pppLayer) CanDecode() gopacket.LayerClass    { return layers.LayerTypePPP }
func (l *pppLayer) NextLayerType() gopacket.LayerType { return l.next }
func (l *pppLayer) LayerPayload() []byte              { return l.payload }

func (l *pppLayer) DecodeFromBytes(data []byte, _ gopacket.DecodeFeedback) error {
	d := l.d
	p := data
	if len(p) >= 2 && p[0] == 0xff && p[1] == 0x03 {
		p = p[2:]
	}
	if err := d.need(p, d.wire(p), 1, MalformedL2Short); err != nil {
		return err
	}
	proto := uint16(p[0])
	n := 1
	if p[0]&1 == 0 {
		if err := d.need(p, d.wire(p), 2, MalformedL2Short); err != nil {
			return err
		}
		proto, n = binary.BigEndian.Uint16(p[:2]), 2
	}
	h := &d.cur.L2
	h.Kind = L2PPP
	h.HeaderLen = uint16(len(data) - len(p) + n)
	switch proto {
	case 0x0021:
		h.EtherType = ethIPv4
	case 0x0057:
		h.EtherType = ethIPv6
	case 0x0281:
		h.EtherType = ethMPLS
	case 0x0283:
		h.EtherType = ethMPLSMC
	}
	l.payload = p[n:]
	l.next = d.etherNext(h.EtherType)
	return nil
}

// mplsLayer decodes a whole MPLS label stack. gopacket has no
// DecodingLayer for MPLS. What follows the bottom of the stack is not
// labelled; like mpls_egress() and Wireshark it is told apart by its first
// nibble: 4 and 6 are IP, 0 is a pseudowire control word before Ethernet.
type mplsLayer struct {
	d       *Decoder
	payload []byte
	next    gopacket.LayerType
}

func (l *mplsLayer) CanDecode() gopacket.LayerClass    { return layers.LayerTypeMPLS }
func (l *mplsLayer) NextLayerType() gopacket.LayerType { return l.next }
func (l *mplsLayer) LayerPayload() []byte              { return l.payload }

func (l *mplsLayer) DecodeFromBytes(data []byte, _ gopacket.DecodeFeedback) error {
	d := l.d
	m := &d.cur.MPLS
	p := data
	l.next = gopacket.LayerTypeZero
	for {
		// models mpls_forward(): each entry must be pullable.
		if err := d.need(p, d.wire(p), 4, MalformedMPLSShort); err != nil {
			return err
		}
		e := binary.BigEndian.Uint32(p[:4])
		if int(m.N) < len(m.Labels) {
			m.Labels[m.N] = MPLSEntry{Label: e >> 12, TC: uint8(e>>9) & 7, BoS: e&0x100 != 0, TTL: uint8(e)}
		}
		if m.N < 255 {
			m.N++
		}
		p = p[4:]
		if e&0x100 != 0 {
			break
		}
	}
	l.payload = p
	if len(p) == 0 {
		return nil
	}
	switch p[0] >> 4 {
	case 4:
		l.next = layers.LayerTypeIPv4
	case 6:
		l.next = layers.LayerTypeIPv6
	case 0:
		// RFC 4385 control word, then an Ethernet pseudowire (RFC 4448).
		if len(p) >= 4 {
			d.tunnel(Tunnel{Kind: TunnelMPLSPW, Proto: ethTEB, Offset: uint32(d.off(p))}, firstEthernet, p[4:])
		}
	}
	return nil
}
