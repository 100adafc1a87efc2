package capture

import (
	"errors"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// firstLayer is the header a parser pass starts with.
type firstLayer uint8

const (
	firstNone firstLayer = iota
	firstEthernet
	firstSLL
	firstSLL2
	firstNull
	firstPPP
	firstIPv4
	firstIPv6
	firstMPLS
	firstCount
)

var firstLayerTypes = [firstCount]gopacket.LayerType{
	firstEthernet: layers.LayerTypeEthernet,
	firstSLL:      layers.LayerTypeLinuxSLL,
	firstSLL2:     layers.LayerTypeLinuxSLL2,
	firstNull:     layers.LayerTypeLoopback,
	firstPPP:      layers.LayerTypePPP,
	firstIPv4:     layers.LayerTypeIPv4,
	firstIPv6:     layers.LayerTypeIPv6,
	firstMPLS:     layers.LayerTypeMPLS,
}

// errStop ends a parser pass early: the layer recorded why (a malformation,
// a snapped header) in the Decoded value. It is preallocated so that
// malformed packets do not allocate either.
var errStop = errors.New("capture: decoding stopped")

// pendingTunnel is a tunnel found during a parser pass, decoded by the next.
type pendingTunnel struct {
	t     Tunnel
	first firstLayer
	data  []byte
}

// Decoder decodes packets into [Decoded] values without allocating. It
// holds one preallocated instance of every decoding layer and one gopacket
// DecodingLayerParser per first header, all sharing those layers; tunnel
// payloads are decoded by a further pass, up to MaxTunnelDepth. A Decoder is
// not safe for concurrent use.
type Decoder struct {
	opts     DecoderOptions
	out      *Decoded
	cur      *Headers
	level    int
	base     []byte // the packet bytes being decoded
	extra    int    // bytes on the wire after the captured ones
	l4avail  int    // wire bytes of the current level's L3 payload
	lastType uint16 // EtherType that introduced the current header
	pend     pendingTunnel
	hasPend  bool
	decoded  []gopacket.LayerType
	parsers  [firstCount]*gopacket.DecodingLayerParser

	eth    ethLayer
	vlan   vlanLayer
	sll    sllLayer
	sll2   sll2Layer
	null   nullLayer
	ppp    pppLayer
	mpls   mplsLayer
	ip4    ip4Layer
	ip6    ip6Layer
	arp    arpLayer
	tcp    tcpLayer
	udp    udpLayer
	icmp4  icmp4Layer
	icmp6  icmp6Layer
	vxlan  vxlanLayer
	geneve geneveLayer
	gre    greLayer
}

// DecoderOptions adjust what the decoder checks.
type DecoderOptions struct {
	// IgnoreChecksums skips the IPv4 header checksum and GRE checksum
	// checks that ip_rcv_core() and gre_parse_header() make. Captures taken
	// on the sending host of a NIC with checksum offload, or anonymised
	// without fixing checksums, carry wrong checksums the wire never saw.
	IgnoreChecksums bool
}

// NewDecoder returns a Decoder with all its layers allocated, checking
// checksums as the kernel does.
func NewDecoder() *Decoder { return NewDecoderOptions(DecoderOptions{}) }

// NewDecoderOptions returns a Decoder with the given options.
func NewDecoderOptions(opts DecoderOptions) *Decoder {
	d := &Decoder{opts: opts, decoded: make([]gopacket.LayerType, 0, 64)}
	d.eth.d, d.vlan.d, d.sll.d, d.sll2.d, d.null.d, d.ppp.d, d.mpls.d = d, d, d, d, d, d, d
	d.ip4.d, d.ip6.d, d.arp.d = d, d, d
	d.tcp.d, d.udp.d, d.icmp4.d, d.icmp6.d = d, d, d, d
	d.vxlan.d, d.geneve.d, d.gre.d = d, d, d
	var c gopacket.DecodingLayerContainer = gopacket.DecodingLayerSparse(nil)
	for _, l := range []gopacket.DecodingLayer{
		&d.eth, &d.vlan, &d.sll, &d.sll2, &d.null, &d.ppp, &d.mpls,
		&d.ip4, &d.ip6, &d.arp, &d.tcp, &d.udp, &d.icmp4, &d.icmp6,
		&d.vxlan, &d.geneve, &d.gre,
	} {
		c = c.Put(l)
	}
	for f := firstEthernet; f < firstCount; f++ {
		p := gopacket.NewDecodingLayerParser(firstLayerTypes[f])
		p.SetDecodingLayerContainer(c)
		// Layers stop the pass themselves; a layer type with no decoder
		// (LLDP after Ethernet, say) simply ends it.
		p.IgnoreUnsupported = true
		d.parsers[f] = p
	}
	return d
}

// surfacePanics makes gopacket's parser let panics through instead of
// turning them into errors, so that tests and fuzzing see them.
func (d *Decoder) surfacePanics() {
	for _, p := range d.parsers[firstEthernet:] {
		p.IgnorePanic = true
	}
}

// Decode decodes p into out, overwriting it. It does NOT take ownership of
// p or its bytes and keeps no reference to them.
func (d *Decoder) Decode(p *Packet, out *Decoded) {
	d.DecodeBytes(p.LinkType, p.Data, p.OrigLen, out)
}

// DecodeBytes decodes data, a packet of the given link type that was
// origLen bytes long on the wire (pass len(data) when nothing was snapped),
// into out, overwriting it. It does not retain data.
func (d *Decoder) DecodeBytes(link LinkType, data []byte, origLen int, out *Decoded) {
	*out = Decoded{Link: link}
	d.out = out
	d.base = data
	d.extra = max(0, origLen-len(data))
	first := linkFirst(link, data)
	switch first {
	case firstNone:
		out.Flags |= FlagUnsupportedLink
		out.FlowHash = l2Hash(MAC{}, MAC{}, 0)
		d.out, d.base, d.cur = nil, nil, nil
		return
	case firstCount: // raw IP whose first nibble is neither 4 nor 6
		d.level, d.cur = 0, &out.Hdr[0]
		_ = d.bad(MalformedIPVersion, data)
		first = firstNone
	}
	for level := 0; first != firstNone; level++ {
		d.level = level
		d.cur = &out.Hdr[level]
		d.cur.Offset = uint32(d.off(data))
		d.hasPend = false
		d.l4avail = 0
		d.lastType = 0
		err := d.parsers[first].DecodeLayers(data, &d.decoded)
		if err != nil && err != errStop && out.Malformed == MalformedNone {
			// A panic inside a gopacket layer, turned into an error.
			_ = d.bad(MalformedUndecodable, data)
		}
		if !d.hasPend || out.Malformed != MalformedNone {
			break
		}
		out.Tunnel[level] = d.pend.t
		out.Depth++
		first, data = d.pend.first, d.pend.data
	}
	d.flow()
	d.out, d.base, d.cur, d.pend.data = nil, nil, nil, nil
}

// linkFirst picks the first header of a packet of the given link type;
// firstCount means raw IP with a bad version nibble.
func linkFirst(link LinkType, data []byte) firstLayer {
	switch link {
	case LinkEthernet:
		return firstEthernet
	case LinkLinuxSLL:
		return firstSLL
	case LinkSLL2:
		return firstSLL2
	case LinkNull, LinkLoop:
		return firstNull
	case LinkPPP:
		return firstPPP
	case LinkIPv4:
		return firstIPv4
	case LinkIPv6:
		return firstIPv6
	case LinkRaw, LinkRawBSD12, LinkRawBSD14:
		if len(data) == 0 {
			return firstIPv4 // reported as a truncated IPv4 header
		}
		switch data[0] >> 4 {
		case 4:
			return firstIPv4
		case 6:
			return firstIPv6
		}
		return firstCount
	}
	return firstNone
}

// off is the offset of b, a subslice of the packet, in the packet.
func (d *Decoder) off(b []byte) int { return cap(d.base) - cap(b) }

// wire is the number of bytes b has on the wire: len(b), plus the bytes the
// capture snapped off when b runs to the end of the captured data.
func (d *Decoder) wire(b []byte) int {
	if d.off(b)+len(b) == len(d.base) {
		return len(b) + d.extra
	}
	return len(b)
}

// need checks that data holds an n-byte header. When it does not, the
// header is malformed if the wire had fewer than n bytes (avail), and
// merely snapped by the capture otherwise.
func (d *Decoder) need(data []byte, avail, n int, m Malformation) error {
	if len(data) >= n {
		return nil
	}
	if avail >= n {
		d.out.Flags |= FlagSnapped
		return errStop
	}
	return d.bad(m, data)
}

// bad records the first malformation and stops the pass.
func (d *Decoder) bad(m Malformation, data []byte) error {
	if d.out.Malformed == MalformedNone {
		d.out.Malformed = m
		d.out.MalformedDepth = uint8(d.level)
		d.out.MalformedOffset = uint32(d.off(data))
	}
	return errStop
}

// tunnel records a tunnel whose payload the next pass decodes, unless the
// nesting limit is reached.
func (d *Decoder) tunnel(t Tunnel, first firstLayer, payload []byte) {
	if d.level >= MaxTunnelDepth {
		d.out.Flags |= FlagDepthLimit
		return
	}
	if len(payload) == 0 {
		if d.wire(payload) > 0 {
			d.out.Flags |= FlagSnapped
		}
		return
	}
	d.pend = pendingTunnel{t: t, first: first, data: payload}
	d.hasPend = true
}

// flow fills the flow key from the innermost level with an IP header.
func (d *Decoder) flow() {
	out := d.out
	for i := int(out.Depth); i >= 0; i-- {
		h := &out.Hdr[i]
		if h.L3.Proto != L3IPv4 && h.L3.Proto != L3IPv6 {
			continue
		}
		k := FlowKey{Src: h.L3.Src, Dst: h.L3.Dst, Proto: h.L3.Protocol}
		if (h.L4.Proto == protoTCP || h.L4.Proto == protoUDP) && !h.L3.IsFragment() {
			k.SrcPort, k.DstPort = h.L4.SrcPort, h.L4.DstPort
		}
		out.Flow = k
		out.FlowHash = k.Hash()
		return
	}
	l2 := &out.Hdr[0].L2
	out.FlowHash = l2Hash(l2.Src, l2.Dst, l2.EtherType)
}
