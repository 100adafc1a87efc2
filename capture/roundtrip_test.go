package capture

import (
	"net"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/internal/testutil"
)

// TestDecodeNoAllocs proves that decoding allocates nothing, over a mix of
// generated packets (plain, VLAN, QinQ, tunnelled, fragmented, IPv6 with
// extension headers, every link type) and malformed copies of them.
func TestDecodeNoAllocs(t *testing.T) {
	seed := testutil.Seed(t)
	type pkt struct {
		link LinkType
		data []byte
		orig int
	}
	var pkts []pkt
	for _, link := range []LinkType{LinkEthernet, LinkLinuxSLL, LinkSLL2, LinkRaw} {
		for _, dp := range readDecoded(t, "x", genBytes(t, GenSpec{Preset: "mixed", Seed: seed, Link: link, Packets: 800})) {
			pkts = append(pkts, pkt{link, dp.pkt.Data, dp.pkt.OrigLen})
		}
	}
	// Malformed and snapped copies: every byte position damaged once.
	n := len(pkts)
	for i := range n {
		p := pkts[i]
		bad := append([]byte(nil), p.data...)
		bad[i%len(bad)] ^= 0xa5
		pkts = append(pkts, pkt{p.link, bad, len(bad)}, pkt{p.link, p.data[:len(p.data)*2/3], len(p.data)})
	}
	dec := NewDecoder()
	var d Decoded
	kinds := map[string]bool{}
	for _, p := range pkts {
		dec.DecodeBytes(p.link, p.data, p.orig, &d)
		kinds[d.Malformed.String()] = true
		if d.Depth > 0 {
			kinds[d.Tunnel[0].Kind.String()] = true
		}
	}
	assert.Greater(t, len(kinds), 15, "the mix covers many tunnels and malformations: %v", kinds)
	allocs := testing.AllocsPerRun(5, func() {
		for _, p := range pkts {
			dec.DecodeBytes(p.link, p.data, p.orig, &d)
		}
	})
	assert.Zero(t, allocs, "allocations decoding %d packets", len(pkts))
}

// rebuild serialises the headers a Decoded value describes, with zero
// payloads: decoding the result must give the same Decoded value.
func rebuild(tb testing.TB, d *Decoded) []byte {
	tb.Helper()
	var ls []gopacket.SerializableLayer
	for lvl := 0; lvl <= int(d.Depth); lvl++ {
		h := &d.Hdr[lvl]
		ls = append(ls, rebuildL2(h)...)
		var nl gopacket.NetworkLayer
		switch h.L3.Proto {
		case L3IPv4:
			ip := &layers.IPv4{Version: 4, TOS: h.L3.TOS, Id: uint16(h.L3.ID), TTL: h.L3.TTL,
				Protocol: layers.IPProtocol(h.L3.Protocol), FragOffset: h.L3.FragOffset / 8,
				SrcIP: h.L3.Src.AsSlice(), DstIP: h.L3.Dst.AsSlice()}
			if h.L3.DF {
				ip.Flags |= layers.IPv4DontFragment
			}
			if h.L3.MF {
				ip.Flags |= layers.IPv4MoreFragments
			}
			ls, nl = append(ls, ip), ip
		case L3IPv6:
			ip := &layers.IPv6{Version: 6, TrafficClass: h.L3.TOS, FlowLabel: h.L3.FlowLabel, HopLimit: h.L3.TTL,
				NextHeader: layers.IPProtocol(h.L3.Protocol), SrcIP: h.L3.Src.AsSlice(), DstIP: h.L3.Dst.AsSlice()}
			ls, nl = append(ls, ip), ip
			ls = append(ls, rebuildExt(ip, &h.L3)...)
		case L3ARP:
			ls = append(ls, &layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4,
				Operation: h.L3.ARPOp, SourceHwAddress: make(net.HardwareAddr, 6), SourceProtAddress: h.L3.Src.AsSlice(),
				DstHwAddress: make(net.HardwareAddr, 6), DstProtAddress: h.L3.Dst.AsSlice()})
		}
		if h.L3.IsFragment() {
			ls = append(ls, payload(int(h.L3.TotalLen-h.L3.HeaderLen)))
			break
		}
		inner := lvl == int(d.Depth)
		switch h.L4.Proto {
		case protoTCP:
			tc := &layers.TCP{SrcPort: layers.TCPPort(h.L4.SrcPort), DstPort: layers.TCPPort(h.L4.DstPort),
				Seq: h.L4.Seq, Ack: h.L4.Ack, Window: h.L4.Window,
				FIN: h.L4.TCPFlags&TCPFin != 0, SYN: h.L4.TCPFlags&TCPSyn != 0, RST: h.L4.TCPFlags&TCPRst != 0,
				PSH: h.L4.TCPFlags&TCPPsh != 0, ACK: h.L4.TCPFlags&TCPAck != 0, URG: h.L4.TCPFlags&TCPUrg != 0,
				ECE: h.L4.TCPFlags&TCPEce != 0, CWR: h.L4.TCPFlags&TCPCwr != 0, NS: h.L4.TCPFlags&TCPNs != 0}
			for range h.L4.HeaderLen - 20 {
				tc.Options = append(tc.Options, layers.TCPOption{OptionType: layers.TCPOptionKindNop})
			}
			tc.SetNetworkLayerForChecksum(nl)
			ls = append(ls, tc, payload(int(h.L4.PayloadLen)))
		case protoUDP:
			u := &layers.UDP{SrcPort: layers.UDPPort(h.L4.SrcPort), DstPort: layers.UDPPort(h.L4.DstPort)}
			u.SetNetworkLayerForChecksum(nl)
			ls = append(ls, u)
			if inner {
				ls = append(ls, payload(int(h.L4.PayloadLen)))
			}
		case protoICMP:
			ls = append(ls, &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(h.L4.ICMPType, h.L4.ICMPCode),
				Id: h.L4.ICMPID, Seq: h.L4.ICMPSeq}, payload(int(h.L4.PayloadLen)))
		case protoICMPv6:
			ic := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(h.L4.ICMPType, h.L4.ICMPCode)}
			ic.SetNetworkLayerForChecksum(nl)
			ls = append(ls, ic, cat(be16(h.L4.ICMPID), be16(h.L4.ICMPSeq)), payload(int(h.L4.PayloadLen)))
		}
		if !inner {
			ls = append(ls, rebuildTunnel(&d.Tunnel[lvl])...)
		}
	}
	return ser(tb, ls...)
}

func rebuildL2(h *Headers) []gopacket.SerializableLayer {
	l2 := &h.L2
	switch l2.Kind {
	case L2Ethernet:
		e := &layers.Ethernet{SrcMAC: l2.Src[:], DstMAC: l2.Dst[:], EthernetType: layers.EthernetType(l2.EtherType)}
		ls := []gopacket.SerializableLayer{e}
		for i := range int(l2.NumVLAN) {
			tag := l2.VLAN[i]
			if i == 0 {
				e.EthernetType = layers.EthernetType(tag.TPID)
			}
			next := l2.EtherType
			if i+1 < int(l2.NumVLAN) {
				next = l2.VLAN[i+1].TPID
			}
			ls = append(ls, &layers.Dot1Q{VLANIdentifier: tag.ID, Priority: tag.Priority, DropEligible: tag.DEI,
				Type: layers.EthernetType(next)})
		}
		return ls
	case L2SLL2:
		return []gopacket.SerializableLayer{&sll2Header{outgoing: l2.PktType == 4, addr: l2.Src[:],
			proto: layers.EthernetType(l2.EtherType), ifindex: l2.IfIndex}}
	}
	return nil
}

// rebuildExt rebuilds IPv6 extension headers: the routing and fragment
// headers have known lengths; hop-by-hop and destination options share the
// rest.
func rebuildExt(ip *layers.IPv6, l3 *L3) []gopacket.SerializableLayer {
	ext := &l3.Ext
	n := int(ext.N)
	if n == 0 {
		return nil
	}
	lens := make([]int, n)
	rest := int(ext.Len)
	opts := 0
	for i, typ := range ext.Types[:n] {
		switch typ {
		case protoRouting:
			lens[i] = 8 + 16*(int(ext.LastEntry)+1)
		case protoFragment:
			lens[i] = 8
		default:
			lens[i] = 8
			opts++
		}
		rest -= lens[i]
	}
	for i, typ := range ext.Types[:n] {
		if typ == protoHopByHop || typ == protoDstOpts {
			lens[i] += rest
			break
		}
	}
	ip.NextHeader = layers.IPProtocol(ext.Types[0])
	var ls []gopacket.SerializableLayer
	for i, typ := range ext.Types[:n] {
		next := layers.IPProtocol(l3.Protocol)
		if i+1 < n {
			next = layers.IPProtocol(ext.Types[i+1])
		}
		switch typ {
		case protoHopByHop:
			h := &layers.IPv6HopByHop{Options: []*layers.IPv6HopByHopOption{{OptionType: 1, OptionData: make([]byte, lens[i]-4)}}}
			h.NextHeader = next
			ls = append(ls, h)
		case protoDstOpts:
			h := &layers.IPv6Destination{Options: []*layers.IPv6DestinationOption{{OptionType: 1, OptionData: make([]byte, lens[i]-4)}}}
			h.NextHeader = next
			ls = append(ls, h)
		case protoRouting:
			r := &layers.IPv6Routing{RoutingType: ext.RoutingType, SegmentsLeft: ext.SegmentsLeft,
				Reserved: []byte{ext.LastEntry, 0, 0, 0}, Data: make([]byte, lens[i]-8)}
			r.NextHeader = next
			ls = append(ls, r)
		case protoFragment:
			ls = append(ls, &layers.IPv6Fragment{NextHeader: next, FragmentOffset: l3.FragOffset / 8,
				MoreFragments: l3.MF, Identification: l3.ID})
		}
	}
	return ls
}

func rebuildTunnel(tn *Tunnel) []gopacket.SerializableLayer {
	switch tn.Kind {
	case TunnelVXLAN:
		return []gopacket.SerializableLayer{&layers.VXLAN{ValidIDFlag: true, VNI: tn.ID}}
	case TunnelGeneve:
		g := &layers.Geneve{Protocol: layers.EthernetType(tn.Proto), VNI: tn.ID, CriticalOption: tn.Critical, OAMPacket: tn.OAM}
		for i := range int(tn.NumOpts) {
			n := 0
			if i == 0 {
				n = int(tn.OptLen) - 4*int(tn.NumOpts)
			}
			g.Options = append(g.Options, &layers.GeneveOption{Class: 1, Type: 1, Data: make([]byte, n)})
		}
		return []gopacket.SerializableLayer{g}
	case TunnelGRE, TunnelGRETap:
		return []gopacket.SerializableLayer{&layers.GRE{ChecksumPresent: tn.Checksum, KeyPresent: tn.HasID, Key: tn.ID,
			SeqPresent: tn.HasSeq, Seq: tn.Seq, Protocol: layers.EthernetType(tn.Proto)}}
	}
	return nil // IP-in-IP: the outer protocol field says it all
}

// TestDecodeRoundTrip decodes generated packets, serialises the decoded
// headers again with gopacket, decodes that, and expects the same value.
func TestDecodeRoundTrip(t *testing.T) {
	seed := testutil.Seed(t)
	for _, link := range []LinkType{LinkEthernet, LinkSLL2, LinkRaw} {
		t.Run(link.String(), func(t *testing.T) {
			pkts := readDecoded(t, "x", genBytes(t, GenSpec{Preset: "mixed", Seed: seed, Link: link, Packets: 1500}))
			dec := NewDecoder()
			dec.surfacePanics()
			for _, p := range pkts {
				data := rebuild(t, &p.d)
				var again Decoded
				dec.DecodeBytes(link, data, len(data), &again)
				require.Equal(t, p.d, again, "packet %d", p.pkt.Index)
			}
		})
	}
}

func TestAddrHelpers(t *testing.T) {
	assert.Equal(t, netip.MustParseAddr("10.1.2.3"), addrFrom4([]byte{10, 1, 2, 3}))
	assert.Equal(t, netip.MustParseAddr("fd00:1::a"), addrFrom16(net.ParseIP("fd00:1::a")))
}
