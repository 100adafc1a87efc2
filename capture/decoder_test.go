package capture

import (
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func decode(tb testing.TB, link LinkType, data []byte) *Decoded {
	tb.Helper()
	dec := NewDecoder()
	dec.surfacePanics()
	var d Decoded
	dec.DecodeBytes(link, data, len(data), &d)
	return &d
}

// assertTCP4 checks the headers every "ip4(ipA, ipB, TCP) + tcp(1234, 80) +
// 100 bytes" packet decodes to, at level h.
func assertTCP4(t *testing.T, h *Headers) {
	t.Helper()
	assert.Equal(t, L3IPv4, h.L3.Proto)
	assert.Equal(t, addr(ipA), h.L3.Src)
	assert.Equal(t, addr(ipB), h.L3.Dst)
	assert.Equal(t, uint8(protoTCP), h.L3.Protocol)
	assert.Equal(t, uint8(61), h.L3.TTL)
	assert.Equal(t, uint8(0x28), h.L3.TOS)
	assert.Equal(t, uint32(0x1234), h.L3.ID)
	assert.True(t, h.L3.DF)
	assert.False(t, h.L3.MF)
	assert.Equal(t, uint32(20), h.L3.HeaderLen)
	assert.Equal(t, uint32(20+32+100), h.L3.TotalLen)
	assert.Equal(t, uint8(protoTCP), h.L4.Proto)
	assert.Equal(t, uint16(1234), h.L4.SrcPort)
	assert.Equal(t, uint16(80), h.L4.DstPort)
	assert.Equal(t, TCPPsh|TCPAck, h.L4.TCPFlags)
	assert.Equal(t, uint32(1000), h.L4.Seq)
	assert.Equal(t, uint32(2000), h.L4.Ack)
	assert.Equal(t, uint16(512), h.L4.Window)
	assert.Equal(t, uint16(32), h.L4.HeaderLen)
	assert.Equal(t, uint32(100), h.L4.PayloadLen)
}

func tcp4(t *testing.T) []gopacket.SerializableLayer {
	ip := ip4(ipA, ipB, layers.IPProtocolTCP)
	return []gopacket.SerializableLayer{ip, tcp(ip, 1234, 80), payload(100)}
}

func with(pre []gopacket.SerializableLayer, rest ...gopacket.SerializableLayer) []gopacket.SerializableLayer {
	return append(append([]gopacket.SerializableLayer(nil), pre...), rest...)
}

func l(ls ...gopacket.SerializableLayer) []gopacket.SerializableLayer { return ls }

// TestDecodeLinkTypes decodes the same TCP/IPv4 packet behind every
// supported link header.
func TestDecodeLinkTypes(t *testing.T) {
	sll := cat(be16(4), be16(1), be16(6), macA, []byte{0, 0}, be16(0x0800))
	sll2 := cat(be16(0x0800), be16(0), be32(7), be16(1), []byte{0, 6}, macA, []byte{0, 0})
	tests := []struct {
		name  string
		link  LinkType
		pre   []gopacket.SerializableLayer
		kind  L2Kind
		hlen  uint16
		check func(t *testing.T, l2 *L2)
	}{
		{"ethernet", LinkEthernet, l(eth(layers.EthernetTypeIPv4)), L2Ethernet, 14, func(t *testing.T, l2 *L2) {
			assert.Equal(t, MAC(macA), l2.Src)
			assert.Equal(t, MAC(macB), l2.Dst)
		}},
		{"linux sll", LinkLinuxSLL, l(sll), L2SLL, 16, func(t *testing.T, l2 *L2) {
			assert.Equal(t, MAC(macA), l2.Src)
			assert.Equal(t, uint8(4), l2.PktType)
		}},
		{"linux sll2", LinkSLL2, l(sll2), L2SLL2, 20, func(t *testing.T, l2 *L2) {
			assert.Equal(t, MAC(macA), l2.Src)
			assert.Equal(t, uint32(7), l2.IfIndex)
		}},
		{"null little endian", LinkNull, l(raw{2, 0, 0, 0}), L2Loopback, 4, nil},
		{"loop big endian", LinkLoop, l(raw{0, 0, 0, 2}), L2Loopback, 4, nil},
		{"ppp with address and control", LinkPPP, l(raw{0xff, 0x03, 0x00, 0x21}), L2PPP, 4, nil},
		{"ppp compressed protocol", LinkPPP, l(raw{0x21}), L2PPP, 1, nil},
		{"raw 101", LinkRaw, nil, L2None, 0, nil},
		{"raw bsd 12", LinkRawBSD12, nil, L2None, 0, nil},
		{"raw bsd 14", LinkRawBSD14, nil, L2None, 0, nil},
		{"ipv4 228", LinkIPv4, nil, L2None, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := ser(t, with(tt.pre, tcp4(t)...)...)
			d := decode(t, tt.link, data)
			assert.Equal(t, MalformedNone, d.Malformed)
			assert.Equal(t, uint8(0), d.Depth)
			assert.Equal(t, tt.link, d.Link)
			h := d.Outer()
			assert.Equal(t, tt.kind, h.L2.Kind)
			assert.Equal(t, tt.hlen, h.L2.HeaderLen)
			if tt.kind != L2None {
				assert.Equal(t, uint16(0x0800), h.L2.EtherType)
			}
			if tt.check != nil {
				tt.check(t, &h.L2)
			}
			assertTCP4(t, h)
			assert.Equal(t, FlowKey{Src: addr(ipA), Dst: addr(ipB), SrcPort: 1234, DstPort: 80, Proto: protoTCP}, d.Flow)
		})
	}
}

func TestDecodeIPv6LinkTypes(t *testing.T) {
	for _, tt := range []struct {
		name string
		link LinkType
		pre  []gopacket.SerializableLayer
	}{
		{"raw 12 ipv6", LinkRawBSD12, nil},
		{"ipv6 229", LinkIPv6, nil},
		{"null darwin af_inet6", LinkNull, l(raw{30, 0, 0, 0})},
		{"loop openbsd af_inet6", LinkLoop, l(raw{0, 0, 0, 24})},
		{"ppp ipv6", LinkPPP, l(raw{0xff, 0x03, 0x00, 0x57})},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ip := ip6(ip6A, ip6B, layers.IPProtocolUDP)
			d := decode(t, tt.link, ser(t, with(tt.pre, ip, udp(ip, 5353, 53), payload(30))...))
			require.Equal(t, MalformedNone, d.Malformed)
			h := d.Outer()
			assert.Equal(t, L3IPv6, h.L3.Proto)
			assert.Equal(t, addr(ip6A), h.L3.Src)
			assert.Equal(t, uint8(33), h.L3.TTL)
			assert.Equal(t, uint8(0x20), h.L3.TOS)
			assert.Equal(t, uint32(0x12345), h.L3.FlowLabel)
			assert.Equal(t, uint32(40+8+30), h.L3.TotalLen)
			assert.Equal(t, uint16(53), h.L4.DstPort)
			assert.Equal(t, uint32(30), h.L4.PayloadLen)
		})
	}
}

func TestDecodeL2Variants(t *testing.T) {
	t.Run("vlan", func(t *testing.T) {
		e := eth(layers.EthernetTypeDot1Q)
		d := decode(t, LinkEthernet, ser(t, with(l(e, &layers.Dot1Q{VLANIdentifier: 100, Priority: 5, DropEligible: true,
			Type: layers.EthernetTypeIPv4}), tcp4(t)...)...))
		h := d.Outer()
		assert.Equal(t, uint8(1), h.L2.NumVLAN)
		assert.Equal(t, VLANTag{TPID: 0x8100, ID: 100, Priority: 5, DEI: true}, h.L2.VLAN[0])
		assert.Equal(t, uint16(0x0800), h.L2.EtherType)
		assert.Equal(t, uint16(18), h.L2.HeaderLen)
		assertTCP4(t, h)
	})
	t.Run("qinq", func(t *testing.T) {
		d := decode(t, LinkEthernet, ser(t, with(l(eth(layers.EthernetTypeQinQ),
			&layers.Dot1Q{VLANIdentifier: 200, Type: layers.EthernetTypeDot1Q},
			&layers.Dot1Q{VLANIdentifier: 30, Type: layers.EthernetTypeIPv4}), tcp4(t)...)...))
		h := d.Outer()
		assert.Equal(t, uint8(2), h.L2.NumVLAN)
		assert.Equal(t, VLANTag{TPID: 0x88a8, ID: 200}, h.L2.VLAN[0])
		assert.Equal(t, VLANTag{TPID: 0x8100, ID: 30}, h.L2.VLAN[1])
		assert.Equal(t, uint16(22), h.L2.HeaderLen)
		assertTCP4(t, h)
	})
	t.Run("mpls stack", func(t *testing.T) {
		d := decode(t, LinkEthernet, ser(t, with(l(eth(layers.EthernetTypeMPLSUnicast),
			&layers.MPLS{Label: 100, TrafficClass: 3, TTL: 64},
			&layers.MPLS{Label: 200, StackBottom: true, TTL: 63}), tcp4(t)...)...))
		h := d.Outer()
		require.Equal(t, uint8(2), h.MPLS.N)
		assert.Equal(t, MPLSEntry{Label: 100, TC: 3, TTL: 64}, h.MPLS.Labels[0])
		assert.Equal(t, MPLSEntry{Label: 200, TTL: 63, BoS: true}, h.MPLS.Labels[1])
		assertTCP4(t, h)
	})
	t.Run("arp", func(t *testing.T) {
		d := decode(t, LinkEthernet, ser(t, eth(layers.EthernetTypeARP), &layers.ARP{AddrType: layers.LinkTypeEthernet,
			Protocol: layers.EthernetTypeIPv4, Operation: layers.ARPReply, SourceHwAddress: macA,
			SourceProtAddress: ipA, DstHwAddress: macB, DstProtAddress: ipB}))
		h := d.Outer()
		assert.Equal(t, L3ARP, h.L3.Proto)
		assert.Equal(t, uint16(2), h.L3.ARPOp)
		assert.Equal(t, addr(ipA), h.L3.Src)
		assert.Equal(t, addr(ipB), h.L3.Dst)
		assert.False(t, d.Flow.IsValid())
		assert.Equal(t, l2Hash(MAC(macB), MAC(macA), 0x0806), d.FlowHash, "non-IP frames hash their MACs symmetrically")
	})
	t.Run("unknown ethertype", func(t *testing.T) {
		d := decode(t, LinkEthernet, ser(t, eth(layers.EthernetTypeLinkLayerDiscovery), payload(40)))
		assert.Equal(t, MalformedNone, d.Malformed)
		assert.Equal(t, uint16(0x88cc), d.Outer().L2.EtherType)
		assert.Equal(t, L3None, d.Outer().L3.Proto)
	})
	t.Run("unsupported link", func(t *testing.T) {
		d := decode(t, LinkType(160), []byte{1, 2, 3})
		assert.Equal(t, FlagUnsupportedLink, d.Flags)
	})
}

func TestDecodeFragmentsAndExtHeaders(t *testing.T) {
	t.Run("ipv4 first fragment", func(t *testing.T) {
		ip := ip4(ipA, ipB, layers.IPProtocolUDP)
		ip.Flags = layers.IPv4MoreFragments
		d := decode(t, LinkEthernet, ser(t, eth(layers.EthernetTypeIPv4), ip, payload(1480)))
		h := d.Outer()
		assert.True(t, h.L3.MF)
		assert.Equal(t, uint16(0), h.L3.FragOffset)
		assert.Equal(t, uint8(0), h.L4.Proto, "L4 is decoded after reassembly only")
		assert.Equal(t, FlagFragment, d.Flags)
		assert.Equal(t, FlowKey{Src: addr(ipA), Dst: addr(ipB), Proto: protoUDP}, d.Flow)
	})
	t.Run("ipv4 last fragment", func(t *testing.T) {
		ip := ip4(ipA, ipB, layers.IPProtocolUDP)
		ip.Flags, ip.FragOffset = 0, 185
		d := decode(t, LinkEthernet, ser(t, eth(layers.EthernetTypeIPv4), ip, payload(100)))
		assert.Equal(t, uint16(1480), d.Outer().L3.FragOffset)
		assert.Equal(t, FlagFragment, d.Flags)
	})
	t.Run("ipv6 hbh dest srh", func(t *testing.T) {
		ip := ip6(ip6A, ip6C, layers.IPProtocolIPv6HopByHop)
		hbh := &layers.IPv6HopByHop{Options: []*layers.IPv6HopByHopOption{{OptionType: 5, OptionData: []byte{0, 0}}, {OptionType: 1}}}
		hbh.NextHeader = layers.IPProtocolIPv6Destination
		dst := &layers.IPv6Destination{Options: []*layers.IPv6DestinationOption{{OptionType: 1, OptionData: make([]byte, 4)}}}
		dst.NextHeader = layers.IPProtocolIPv6Routing
		rt := &layers.IPv6Routing{RoutingType: 4, SegmentsLeft: 1, Reserved: []byte{1, 0, 0, 0},
			Data: append(append([]byte(nil), ip6B...), ip6C...)}
		rt.NextHeader = layers.IPProtocolUDP
		d := decode(t, LinkEthernet, ser(t, eth(layers.EthernetTypeIPv6), ip, hbh, dst, rt, udp(ip, 1000, 2000), payload(10)))
		require.Equal(t, MalformedNone, d.Malformed)
		h := d.Outer()
		assert.Equal(t, ExtHeaders{N: 3, Types: [MaxExtHeaders]uint8{0, 60, 43}, HasRouting: true, RoutingType: 4,
			SegmentsLeft: 1, LastEntry: 1, Len: 8 + 8 + 40}, h.L3.Ext)
		assert.Equal(t, uint32(40+56), h.L3.HeaderLen)
		assert.Equal(t, uint8(protoUDP), h.L3.Protocol)
		assert.Equal(t, uint16(2000), h.L4.DstPort)
		assert.Equal(t, uint32(10), h.L4.PayloadLen)
	})
	t.Run("ipv6 fragment", func(t *testing.T) {
		ip := ip6(ip6A, ip6B, layers.IPProtocolIPv6Fragment)
		d := decode(t, LinkEthernet, ser(t, eth(layers.EthernetTypeIPv6), ip,
			&layers.IPv6Fragment{NextHeader: layers.IPProtocolUDP, FragmentOffset: 154, MoreFragments: true, Identification: 0xdeadbeef},
			payload(64)))
		h := d.Outer()
		assert.Equal(t, uint32(0xdeadbeef), h.L3.ID)
		assert.Equal(t, uint16(154*8), h.L3.FragOffset)
		assert.True(t, h.L3.MF)
		assert.Equal(t, FlagFragment, d.Flags)
		assert.Equal(t, uint8(1), h.L3.Ext.N)
	})
	t.Run("ipv4 with trailer", func(t *testing.T) {
		ip := ip4(ipA, ipB, layers.IPProtocolICMPv4)
		data := append(ser(t, eth(layers.EthernetTypeIPv4), ip, &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0), Id: 7, Seq: 9}),
			make([]byte, 18)...) // Ethernet padding to 60 bytes
		d := decode(t, LinkEthernet, data)
		assert.Equal(t, FlagTrailer, d.Flags)
		h := d.Outer().L4
		assert.Equal(t, uint8(8), h.ICMPType)
		assert.Equal(t, uint16(7), h.ICMPID)
		assert.Equal(t, uint16(9), h.ICMPSeq)
		assert.Equal(t, uint32(0), h.PayloadLen)
	})
}

// TestDecodeTunnels decodes every tunnel kind and checks the outer
// headers, the tunnel and the inner headers.
func TestDecodeTunnels(t *testing.T) {
	outer4 := func(proto layers.IPProtocol) *layers.IPv4 { return ip4(ipC, ipD, proto) }
	innerEth := func() *layers.Ethernet {
		return &layers.Ethernet{SrcMAC: macB, DstMAC: macA, EthernetType: layers.EthernetTypeIPv4}
	}
	ou := outer4(layers.IPProtocolUDP)
	genevePkt := ser(t, with(l(eth(layers.EthernetTypeIPv4), ou, udp(ou, 40000, 6081),
		&layers.Geneve{Protocol: layers.EthernetTypeTransparentEthernetBridging, VNI: 0xb, CriticalOption: true,
			Options: []*layers.GeneveOption{{Class: 0x0102, Type: 0x80, Data: make([]byte, 4)},
				{Class: 0x0103, Type: 1, Data: make([]byte, 8)}}}, innerEth()), tcp4(t)...)...)
	ov := outer4(layers.IPProtocolUDP)
	og := outer4(layers.IPProtocolGRE)
	om := ip4(ipB, ipA, layers.IPProtocolGRE)
	o6 := ip6(ip6A, ip6B, layers.IPProtocolIPv6)
	in6 := ip6(ip6B, ip6C, layers.IPProtocolICMPv6)
	ic6 := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(128, 0)}
	ic6.SetNetworkLayerForChecksum(in6)
	tests := []struct {
		name   string
		data   []byte
		depth  uint8
		tunnel []Tunnel
		check  func(t *testing.T, d *Decoded)
	}{
		{"vxlan", ser(t, with(l(eth(layers.EthernetTypeIPv4), ov, udp(ov, 50000, 4789),
			&layers.VXLAN{ValidIDFlag: true, VNI: 42}, innerEth()), tcp4(t)...)...), 1,
			[]Tunnel{{Kind: TunnelVXLAN, ID: 42, HasID: true, Proto: 0x6558, Offset: 42}},
			func(t *testing.T, d *Decoded) {
				assert.Equal(t, uint16(4789), d.Outer().L4.DstPort)
				assert.Equal(t, uint32(50), d.Inner().Offset)
				assert.Equal(t, MAC(macB), d.Inner().L2.Src)
			}},
		{"geneve with options", genevePkt, 1,
			[]Tunnel{{Kind: TunnelGeneve, ID: 0xb, HasID: true, Proto: 0x6558, OptLen: 20, NumOpts: 2, Critical: true, Offset: 42}}, nil},
		{"gre keyed sequenced checksummed", ser(t, with(l(eth(layers.EthernetTypeIPv4), og,
			&layers.GRE{ChecksumPresent: true, KeyPresent: true, Key: 0x28, SeqPresent: true, Seq: 77, Protocol: layers.EthernetTypeIPv4}),
			tcp4(t)...)...), 1,
			[]Tunnel{{Kind: TunnelGRE, ID: 0x28, HasID: true, Seq: 77, HasSeq: true, Checksum: true, Proto: 0x0800, Offset: 34}}, nil},
		{"gretap", ser(t, with(l(eth(layers.EthernetTypeIPv4), outer4(layers.IPProtocolGRE),
			&layers.GRE{Protocol: layers.EthernetTypeTransparentEthernetBridging}, innerEth()), tcp4(t)...)...), 1,
			[]Tunnel{{Kind: TunnelGRETap, Proto: 0x6558, Offset: 34}}, nil},
		{"erspan type ii", ser(t, with(l(eth(layers.EthernetTypeIPv4), outer4(layers.IPProtocolGRE),
			&layers.GRE{SeqPresent: true, Seq: 5, Protocol: layers.EthernetType(0x88be)},
			cat([]byte{0x10, 0x00, 0x01, 0x23}, make([]byte, 4)), innerEth()), tcp4(t)...)...), 1,
			[]Tunnel{{Kind: TunnelERSPAN, ID: 0x123, HasID: true, Seq: 5, HasSeq: true, Proto: 0x88be, Offset: 34}}, nil},
		{"gre in gre", ser(t, with(l(eth(layers.EthernetTypeIPv4), outer4(layers.IPProtocolGRE),
			&layers.GRE{Protocol: layers.EthernetTypeIPv4}, om, &layers.GRE{KeyPresent: true, Key: 9, Protocol: layers.EthernetTypeIPv4}),
			tcp4(t)...)...), 2,
			[]Tunnel{{Kind: TunnelGRE, Proto: 0x0800, Offset: 34}, {Kind: TunnelGRE, ID: 9, HasID: true, Proto: 0x0800, Offset: 58}},
			func(t *testing.T, d *Decoded) {
				assert.Equal(t, addr(ipB), d.Hdr[1].L3.Src)
				assert.Equal(t, uint32(38), d.Hdr[1].Offset)
			}},
		{"ipip", ser(t, with(l(eth(layers.EthernetTypeIPv4), outer4(layers.IPProtocolIPv4)), tcp4(t)...)...), 1,
			[]Tunnel{{Kind: TunnelIPIP, Proto: 0x0800, Offset: 34}}, nil},
		{"6in4", ser(t, eth(layers.EthernetTypeIPv4), outer4(layers.IPProtocolIPv6), in6, ic6,
			&layers.ICMPv6Echo{Identifier: 3, SeqNumber: 4}), 1,
			[]Tunnel{{Kind: TunnelSIT, Proto: 0x86dd, Offset: 34}},
			func(t *testing.T, d *Decoded) {
				assert.Equal(t, uint8(128), d.Inner().L4.ICMPType)
				assert.Equal(t, uint16(3), d.Inner().L4.ICMPID)
				assert.Equal(t, FlowKey{Src: addr(ip6B), Dst: addr(ip6C), Proto: protoICMPv6}, d.Flow)
			}},
		{"ip6ip6", ser(t, eth(layers.EthernetTypeIPv6), o6, in6, ic6, &layers.ICMPv6Echo{}), 1,
			[]Tunnel{{Kind: TunnelIP6IP6, Proto: 0x86dd, Offset: 54}}, nil},
		{"ip4 in ip6", ser(t, with(l(eth(layers.EthernetTypeIPv6), ip6(ip6A, ip6B, layers.IPProtocolIPv4)), tcp4(t)...)...), 1,
			[]Tunnel{{Kind: TunnelIP4IP6, Proto: 0x0800, Offset: 54}}, nil},
		{"mpls pseudowire", ser(t, with(l(eth(layers.EthernetTypeMPLSUnicast), &layers.MPLS{Label: 16, StackBottom: true, TTL: 255},
			raw{0, 0, 0, 0}, innerEth()), tcp4(t)...)...), 1,
			[]Tunnel{{Kind: TunnelMPLSPW, Proto: 0x6558, Offset: 18}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := decode(t, LinkEthernet, tt.data)
			require.Equal(t, MalformedNone, d.Malformed, "malformed at %d", d.MalformedOffset)
			require.Equal(t, tt.depth, d.Depth)
			assert.Equal(t, tt.tunnel, d.Tunnel[:d.Depth])
			if tt.name != "6in4" && tt.name != "ip6ip6" {
				assertTCP4(t, d.Inner())
				assert.Equal(t, FlowKey{Src: addr(ipA), Dst: addr(ipB), SrcPort: 1234, DstPort: 80, Proto: protoTCP}, d.Flow)
			}
			if tt.check != nil {
				tt.check(t, d)
			}
		})
	}
}

func TestDecodeDepthLimit(t *testing.T) {
	// IPIP carrying GRE carrying VXLAN: the third tunnel is not decoded.
	in := ip4(ipA, ipB, layers.IPProtocolGRE)
	mid := ip4(ipC, ipD, layers.IPProtocolUDP)
	data := ser(t, eth(layers.EthernetTypeIPv4), ip4(ipC, ipD, layers.IPProtocolIPv4), in,
		&layers.GRE{Protocol: layers.EthernetTypeIPv4}, mid, udp(mid, 1, 4789),
		&layers.VXLAN{ValidIDFlag: true, VNI: 1}, eth(layers.EthernetTypeIPv4))
	d := decode(t, LinkEthernet, data)
	assert.Equal(t, uint8(MaxTunnelDepth), d.Depth)
	assert.Equal(t, FlagDepthLimit, d.Flags)
	assert.Equal(t, uint16(4789), d.Inner().L4.DstPort)
}

// TestDecodeMalformed checks that each malformation is reported with the
// kernel's reason, at the right level and offset, and stops decoding.
func TestDecodeMalformed(t *testing.T) {
	good := ser(t, with(l(eth(layers.EthernetTypeIPv4)), tcp4(t)...)...)
	mod := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	fixCsum := func(b []byte) []byte { // recompute the IPv4 header checksum at 14
		b[24], b[25] = 0, 0
		c := ipChecksum(b[14 : 14+int(b[14]&0xf)*4])
		b[24], b[25] = byte(c>>8), byte(c)
		return b
	}
	ip6pkt := func() []byte {
		ip := ip6(ip6A, ip6B, layers.IPProtocolUDP)
		return ser(t, eth(layers.EthernetTypeIPv6), ip, udp(ip, 1, 2), payload(20))
	}
	ou := ip4(ipC, ipD, layers.IPProtocolUDP)
	vx := ser(t, with(l(eth(layers.EthernetTypeIPv4), ou, udp(ou, 1, 4789), &layers.VXLAN{ValidIDFlag: true, VNI: 5},
		eth(layers.EthernetTypeIPv4)), tcp4(t)...)...)
	tests := []struct {
		name   string
		link   LinkType
		data   []byte
		want   Malformation
		reason DropReason
		depth  uint8
		offset uint32
	}{
		{"short ethernet", LinkEthernet, good[:10], MalformedL2Short, DropNotSpecified, 0, 0},
		{"ipv4 header cut", LinkEthernet, good[:14+12], MalformedIPv4Short, DropIPInHdr, 0, 14},
		{"ipv4 version 5", LinkEthernet, mod(func(b []byte) []byte { b[14] = 0x55; return b }), MalformedIPv4Version, DropIPInHdr, 0, 14},
		{"ipv4 ihl 4", LinkEthernet, mod(func(b []byte) []byte { b[14] = 0x44; return b }), MalformedIPv4IHL, DropIPInHdr, 0, 14},
		{"ipv4 bad checksum", LinkEthernet, mod(func(b []byte) []byte { b[24] ^= 0xff; return b }), MalformedIPv4Checksum, DropIPCsum, 0, 14},
		{"ipv4 total length beyond frame", LinkEthernet, mod(func(b []byte) []byte { b[16], b[17] = 0x05, 0xdc; return fixCsum(b) }),
			MalformedIPv4TotalLen, DropPktTooSmall, 0, 14},
		{"ipv4 total length below header", LinkEthernet, mod(func(b []byte) []byte { b[16], b[17] = 0, 16; return fixCsum(b) }),
			MalformedIPv4TotalLenShort, DropIPInHdr, 0, 14},
		{"tcp cut", LinkEthernet, mod(func(b []byte) []byte { b[16], b[17] = 0, 30; return fixCsum(b)[:14+30] }),
			MalformedTCPShort, DropNotSpecified, 0, 34},
		{"tcp data offset 4", LinkEthernet, mod(func(b []byte) []byte { b[46] = 0x40; return b }), MalformedTCPDataOffset, DropPktTooSmall, 0, 34},
		{"tcp data offset 15", LinkEthernet, mod(func(b []byte) []byte { b[16], b[17] = 0, 50; b[46] = 0xf0; return fixCsum(b)[:14+50] }),
			MalformedTCPHeaderShort, DropNotSpecified, 0, 34},
		{"udp length 4", LinkEthernet, func() []byte { b := ip6pkt(); b[58], b[59] = 0, 4; return b }(), MalformedUDPLength, DropPktTooSmall, 0, 54},
		{"udp length beyond ip", LinkEthernet, func() []byte { b := ip6pkt(); b[58], b[59] = 0, 200; return b }(), MalformedUDPLength, DropPktTooSmall, 0, 54},
		{"ipv6 version 4", LinkEthernet, func() []byte { b := ip6pkt(); b[14] = 0x40; return b }(), MalformedIPv6Version, DropUnhandledProto, 0, 14},
		{"ipv6 payload beyond frame", LinkEthernet, func() []byte { b := ip6pkt(); b[18] = 0x10; return b }(), MalformedIPv6PayloadLen, DropPktTooSmall, 0, 14},
		{"ipv6 header cut", LinkEthernet, ip6pkt()[:14+39], MalformedIPv6Short, DropIPInHdr, 0, 14},
		{"ipv6 extension beyond payload", LinkEthernet, func() []byte {
			ip := ip6(ip6A, ip6B, layers.IPProtocolIPv6Destination)
			dst := &layers.IPv6Destination{Options: []*layers.IPv6DestinationOption{{OptionType: 1, OptionData: make([]byte, 4)}}}
			dst.NextHeader = layers.IPProtocolNoNextHeader
			b := ser(t, eth(layers.EthernetTypeIPv6), ip, dst)
			b[55] = 3 // 32 bytes claimed, 8 present
			return b
		}(), MalformedIPv6ExtHeader, DropNotSpecified, 0, 54},
		{"hop-by-hop not first", LinkEthernet, func() []byte {
			ip := ip6(ip6A, ip6B, layers.IPProtocolIPv6Destination)
			dst := &layers.IPv6Destination{Options: []*layers.IPv6DestinationOption{{OptionType: 1, OptionData: make([]byte, 4)}}}
			dst.NextHeader = layers.IPProtocolIPv6HopByHop
			return ser(t, eth(layers.EthernetTypeIPv6), ip, dst, raw{59, 0, 1, 4, 0, 0, 0, 0})
		}(), MalformedIPv6HopByHopNotFirst, DropIPNoProto, 0, 62},
		{"raw ip version 5", LinkRaw, []byte{0x50, 1, 2, 3}, MalformedIPVersion, DropNotSpecified, 0, 0},
		{"vxlan without I flag", LinkEthernet, func() []byte { b := append([]byte(nil), vx...); b[42] = 0; return b }(),
			MalformedVXLANFlags, DropVXLANInvalidHdr, 0, 42},
		{"inner ipv4 ihl 3", LinkEthernet, func() []byte { b := append([]byte(nil), vx...); b[50+14] = 0x43; return b }(),
			MalformedIPv4IHL, DropIPInHdr, 1, 64},
		{"geneve version 1", LinkEthernet, func() []byte {
			o := ip4(ipC, ipD, layers.IPProtocolUDP)
			b := ser(t, eth(layers.EthernetTypeIPv4), o, udp(o, 1, 6081), &layers.Geneve{Version: 1, Protocol: 0x6558}, payload(20))
			return b
		}(), MalformedGeneveVersion, DropNotSpecified, 0, 42},
		{"gre routing", LinkEthernet, ser(t, eth(layers.EthernetTypeIPv4), ip4(ipC, ipD, layers.IPProtocolGRE),
			raw{0x40, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0}), MalformedGRE, DropNotSpecified, 0, 34},
		{"gre bad checksum", LinkEthernet, func() []byte {
			b := ser(t, with(l(eth(layers.EthernetTypeIPv4), ip4(ipC, ipD, layers.IPProtocolGRE),
				&layers.GRE{ChecksumPresent: true, Protocol: layers.EthernetTypeIPv4}), tcp4(t)...)...)
			b[38] ^= 1
			return b
		}(), MalformedGREChecksum, DropNotSpecified, 0, 34},
		{"arp cut", LinkEthernet, ser(t, eth(layers.EthernetTypeARP), raw{0, 1, 8, 0, 6, 4, 0, 1, 1, 2, 3})[:25],
			MalformedARPShort, DropPktTooSmall, 0, 14},
		{"vlan cut", LinkEthernet, ser(t, eth(layers.EthernetTypeDot1Q), raw{0, 1})[:16], MalformedL2Short, DropNotSpecified, 0, 14},
		{"vxlan cut", LinkEthernet, ser(t, eth(layers.EthernetTypeIPv4), ou, udp(ou, 1, 4789), raw{8, 0, 0, 0, 0}),
			MalformedVXLANShort, DropPktTooSmall, 0, 42},
		{"ipv4 option length 1", LinkEthernet, func() []byte {
			b := append(append(append([]byte(nil), good[:34]...), 0x07, 0x01, 0, 0), good[34:]...)
			b[14] = 0x46
			b[16], b[17] = 0, byte(20+4+32+100)
			return fixCsum(b)
		}(), MalformedIPv4Options, DropNotSpecified, 0, 14},
		{"mpls cut", LinkEthernet, ser(t, eth(layers.EthernetTypeMPLSUnicast), raw{0, 1, 0})[:17], MalformedMPLSShort, DropNotSpecified, 0, 14},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := decode(t, tt.link, tt.data)
			assert.Equal(t, tt.want, d.Malformed, "got %v", d.Malformed)
			assert.Equal(t, tt.reason, d.DropReason())
			assert.Equal(t, tt.depth, d.MalformedDepth)
			assert.Equal(t, tt.offset, d.MalformedOffset)
			assert.Zero(t, d.Flags&FlagSnapped)
		})
	}
}

func TestDropReasonFor(t *testing.T) {
	tests := []struct {
		m            Malformation
		major, minor int
		want         DropReason
	}{
		{MalformedIPv4Checksum, 5, 17, DropNotSpecified},
		{MalformedIPv4Checksum, 5, 18, DropIPCsum},
		{MalformedTCPDataOffset, 5, 17, DropPktTooSmall},
		{MalformedTCPDataOffset, 4, 19, DropNotSpecified},
		{MalformedIPv6Version, 5, 18, DropNotSpecified},
		{MalformedIPv6Version, 6, 1, DropUnhandledProto},
		{MalformedVXLANFlags, 6, 12, DropNotSpecified},
		{MalformedVXLANFlags, 6, 13, DropVXLANInvalidHdr},
		{MalformedVXLANShort, 6, 18, DropPktTooSmall},
		{MalformedARPShort, 6, 16, DropNotSpecified},
		{MalformedARPShort, 6, 17, DropPktTooSmall},
		{MalformedGRE, 6, 18, DropNotSpecified},
		{MalformedNone, 6, 18, DropNone},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.m.DropReasonFor(tt.major, tt.minor), "%v on v%d.%d", tt.m, tt.major, tt.minor)
	}
	for m := MalformedNone + 1; m < malformedCount; m++ {
		assert.Equal(t, m.DropReason(), m.DropReasonFor(7, 0), "%v", m)
		assert.NotEqual(t, DropNone, m.DropReason(), "%v", m)
		assert.NotContains(t, m.String(), "malformation(", "%v has a name", m)
	}
}

func TestDecodeIgnoreChecksums(t *testing.T) {
	data := ser(t, with(l(eth(layers.EthernetTypeIPv4)), tcp4(t)...)...)
	data[24] ^= 0xff
	var d Decoded
	NewDecoderOptions(DecoderOptions{IgnoreChecksums: true}).DecodeBytes(LinkEthernet, data, len(data), &d)
	assert.Equal(t, MalformedNone, d.Malformed)
	assertTCP4(t, d.Outer())
}

// TestDecodeSnapped: headers cut by the snapshot length are not
// malformations; decoding stops where the capture ends.
func TestDecodeSnapped(t *testing.T) {
	full := ser(t, with(l(eth(layers.EthernetTypeIPv4)), tcp4(t)...)...)
	tests := []struct {
		name   string
		caplen int
		l4     uint8
	}{
		{"payload cut", 14 + 20 + 32 + 10, protoTCP},
		{"tcp header cut", 14 + 20 + 10, 0},
		{"ip header cut", 14 + 10, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d Decoded
			NewDecoder().DecodeBytes(LinkEthernet, full[:tt.caplen], len(full), &d)
			assert.Equal(t, MalformedNone, d.Malformed)
			assert.Equal(t, tt.l4, d.Outer().L4.Proto)
			if tt.l4 != 0 {
				assert.Zero(t, d.Flags&FlagSnapped)
				assert.Equal(t, uint32(100), d.Outer().L4.PayloadLen, "payload length counts snapped bytes")
			} else {
				assert.Equal(t, FlagSnapped, d.Flags)
			}
		})
	}
}

func TestFlowHashSymmetric(t *testing.T) {
	ipf := ip4(ipA, ipB, layers.IPProtocolTCP)
	ipr := ip4(ipB, ipA, layers.IPProtocolTCP)
	fwd := decode(t, LinkEthernet, ser(t, eth(layers.EthernetTypeIPv4), ipf, tcp(ipf, 1234, 80)))
	rev := decode(t, LinkEthernet, ser(t, eth(layers.EthernetTypeIPv4), ipr, tcp(ipr, 80, 1234)))
	assert.Equal(t, fwd.Flow.Reverse(), rev.Flow)
	assert.Equal(t, fwd.FlowHash, rev.FlowHash)
	// The same flow in a VXLAN tunnel shards with the plain flow.
	ou := ip4(ipC, ipD, layers.IPProtocolUDP)
	vx := decode(t, LinkEthernet, ser(t, eth(layers.EthernetTypeIPv4), ou, udp(ou, 999, 4789),
		&layers.VXLAN{ValidIDFlag: true, VNI: 5}, eth(layers.EthernetTypeIPv4), ipr, tcp(ipr, 80, 1234)))
	assert.Equal(t, fwd.FlowHash, vx.FlowHash)
	// Another port is another flow.
	other := decode(t, LinkEthernet, ser(t, eth(layers.EthernetTypeIPv4), ipf, tcp(ipf, 1235, 80)))
	assert.NotEqual(t, fwd.FlowHash, other.FlowHash)
}

// TestFlowHashGolden pins the hash: shard assignments must not change
// between versions or runs.
func TestFlowHashGolden(t *testing.T) {
	k4 := FlowKey{Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2"), SrcPort: 40000, DstPort: 443, Proto: 6}
	k6 := FlowKey{Src: netip.MustParseAddr("fd00::1"), Dst: netip.MustParseAddr("fd00::2"), Proto: 58}
	assert.Equal(t, k4.Hash(), k4.Reverse().Hash())
	assert.Equal(t, k6.Hash(), k6.Reverse().Hash())
	assert.Equal(t, uint64(0xa75ebe5d6df91995), k4.Hash(), "%#x", k4.Hash())
	assert.Equal(t, uint64(0x3e443b042e277f3f), k6.Hash(), "%#x", k6.Hash())
	assert.Equal(t, uint64(0xf61376603919a97a), FlowKey{}.Hash(), "%#x", FlowKey{}.Hash())
}
