package capture

import (
	"encoding/binary"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Tunnel layers end a parser pass: they record the tunnel and its payload
// with Decoder.tunnel, and the next pass decodes the payload as a new level.

// vxlanLayer decodes VXLAN headers (RFC 7348).
type vxlanLayer struct {
	layers.VXLAN
	d *Decoder
}

func (l *vxlanLayer) NextLayerType() gopacket.LayerType { return gopacket.LayerTypeZero }

func (l *vxlanLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	d := l.d
	// models vxlan_rcv(): the header must be pullable, the I flag set, and
	// with no extension (GBP, GPE) configured every other flag and reserved
	// bit is "unparsed" and makes the header invalid.
	if err := d.need(data, d.wire(data), 8, MalformedVXLANShort); err != nil {
		return err
	}
	w0, w1 := binary.BigEndian.Uint32(data[0:4]), binary.BigEndian.Uint32(data[4:8])
	if w0 != 0x08000000 || w1&0xff != 0 {
		return d.bad(MalformedVXLANFlags, data)
	}
	_ = l.VXLAN.DecodeFromBytes(data, df)
	d.tunnel(Tunnel{Kind: TunnelVXLAN, ID: w1 >> 8, HasID: true, Proto: ethTEB, Offset: uint32(d.off(data))},
		firstEthernet, data[8:])
	return nil
}

// geneveLayer decodes Geneve headers (RFC 8926). gopacket's Geneve layer
// allocates a copy of every option, so the header is read here.
type geneveLayer struct {
	d       *Decoder
	payload []byte
}

func (l *geneveLayer) CanDecode() gopacket.LayerClass    { return layers.LayerTypeGeneve }
func (l *geneveLayer) NextLayerType() gopacket.LayerType { return gopacket.LayerTypeZero }
func (l *geneveLayer) LayerPayload() []byte              { return l.payload }

func (l *geneveLayer) DecodeFromBytes(data []byte, _ gopacket.DecodeFeedback) error {
	d := l.d
	l.payload = nil
	avail := d.wire(data)
	// models geneve_udp_encap_recv(): header pullable, version 0.
	if err := d.need(data, avail, 8, MalformedTunnelShort); err != nil {
		return err
	}
	if data[0]>>6 != 0 {
		return d.bad(MalformedGeneveVersion, data)
	}
	optLen := int(data[0]&0x3f) * 4
	if err := d.need(data, avail, 8+optLen, MalformedTunnelShort); err != nil {
		return err
	}
	t := Tunnel{
		Kind:     TunnelGeneve,
		ID:       binary.BigEndian.Uint32(data[4:8]) >> 8,
		HasID:    true,
		Proto:    binary.BigEndian.Uint16(data[2:4]),
		OptLen:   uint8(optLen),
		OAM:      data[1]&0x80 != 0,
		Critical: data[1]&0x40 != 0,
		Offset:   uint32(d.off(data)),
	}
	for opts := data[8 : 8+optLen]; len(opts) >= 4; {
		n := 4 + int(opts[3]&0x1f)*4
		if n > len(opts) {
			break
		}
		t.NumOpts++
		opts = opts[n:]
	}
	inner := data[8+optLen:]
	switch t.Proto {
	case ethTEB:
		d.tunnel(t, firstEthernet, inner)
	case ethIPv4:
		d.tunnel(t, firstIPv4, inner)
	case ethIPv6:
		d.tunnel(t, firstIPv6, inner)
	}
	return nil
}

// greLayer decodes GRE headers (RFC 2784, 2890) with the checks of
// gre_rcv() and gre_parse_header().
type greLayer struct {
	layers.GRE
	d *Decoder
}

func (l *greLayer) NextLayerType() gopacket.LayerType { return gopacket.LayerTypeZero }

func (l *greLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	d := l.d
	avail := d.wire(data)
	if err := d.need(data, avail, 4, MalformedTunnelShort); err != nil {
		return err
	}
	flags, ver := data[0], data[1]&0x7
	switch {
	case ver == 1:
		return nil // PPTP's enhanced GRE: gre_rcv() hands it to pptp, not a tunnel
	case ver != 0 || flags&0x40 != 0:
		// gre_rcv(): ver >= GREPROTO_MAX drops; gre_parse_header():
		// GRE_VERSION | GRE_ROUTING -> -EINVAL.
		return d.bad(MalformedGRE, data)
	}
	hl := 4
	for _, bit := range [...]byte{0x80, 0x20, 0x10} { // checksum, key, sequence
		if flags&bit != 0 {
			hl += 4
		}
	}
	if err := d.need(data, avail, hl, MalformedTunnelShort); err != nil {
		return err
	}
	// gre_parse_header(): a checksum present must verify over the whole
	// GRE packet (skb_checksum_simple_validate); it can only be checked
	// when no byte was snapped off.
	if flags&0x80 != 0 && !d.opts.IgnoreChecksums && len(data) == avail && ipChecksum(data) != 0 {
		return d.bad(MalformedGREChecksum, data)
	}
	_ = l.GRE.DecodeFromBytes(data, df) // no routing: cannot fail or allocate
	t := Tunnel{
		Kind:     TunnelGRE,
		Proto:    binary.BigEndian.Uint16(data[2:4]),
		Checksum: flags&0x80 != 0,
		HasID:    flags&0x20 != 0,
		HasSeq:   flags&0x10 != 0,
		ID:       l.Key,
		Seq:      l.Seq,
		Offset:   uint32(d.off(data)),
	}
	inner := data[hl:]
	switch t.Proto {
	case ethIPv4:
		d.tunnel(t, firstIPv4, inner)
	case ethIPv6:
		d.tunnel(t, firstIPv6, inner)
	case ethMPLS, ethMPLSMC:
		d.tunnel(t, firstMPLS, inner)
	case ethTEB:
		t.Kind = TunnelGRETap
		d.tunnel(t, firstEthernet, inner)
	case ethERSPAN2, ethERSPAN3:
		l.erspan(t, inner)
	}
	return nil
}

// erspan decodes ERSPAN type II (protocol 0x88be, 8-byte header) and type
// III (0x22eb, 12 bytes plus an optional 8-byte platform subheader), as
// erspan_rcv() does; the tunnel ID is the session ID.
func (l *greLayer) erspan(t Tunnel, p []byte) {
	d := l.d
	hl := 8
	if t.Proto == ethERSPAN3 {
		hl = 12
		if len(p) >= 12 && p[11]&1 != 0 {
			hl += 8
		}
	}
	if d.need(p, d.wire(p), hl, MalformedTunnelShort) != nil {
		return
	}
	t.Kind = TunnelERSPAN
	t.ID = uint32(binary.BigEndian.Uint16(p[2:4]) & 0x3ff)
	t.HasID = true
	d.tunnel(t, firstEthernet, p[hl:])
}
