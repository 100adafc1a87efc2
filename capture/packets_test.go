package capture

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/stretchr/testify/require"
)

// Packet construction helpers for the decoder tests: every test packet is
// serialised by gopacket, independently of the generator.

var (
	macA = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0a}
	macB = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0b}
	ipA  = net.IP{10, 1, 2, 3}
	ipB  = net.IP{192, 168, 7, 9}
	ipC  = net.IP{172, 16, 0, 1}
	ipD  = net.IP{172, 16, 0, 2}
	ip6A = net.ParseIP("fd00:1::a")
	ip6B = net.ParseIP("fd00:2::b")
	ip6C = net.ParseIP("fd00:3::c")
)

func addr(ip net.IP) netip.Addr {
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		panic("bad address")
	}
	return a.Unmap()
}

func ser(tb testing.TB, ls ...gopacket.SerializableLayer) []byte {
	tb.Helper()
	buf := gopacket.NewSerializeBuffer()
	err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...)
	require.NoError(tb, err)
	return append([]byte(nil), buf.Bytes()...)
}

func eth(et layers.EthernetType) *layers.Ethernet {
	return &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: et}
}

func ip4(src, dst net.IP, proto layers.IPProtocol) *layers.IPv4 {
	return &layers.IPv4{Version: 4, TTL: 61, TOS: 0x28, Id: 0x1234, Flags: layers.IPv4DontFragment,
		Protocol: proto, SrcIP: src, DstIP: dst}
}

func ip6(src, dst net.IP, next layers.IPProtocol) *layers.IPv6 {
	return &layers.IPv6{Version: 6, HopLimit: 33, TrafficClass: 0x20, FlowLabel: 0x12345,
		NextHeader: next, SrcIP: src, DstIP: dst}
}

func tcp(nl gopacket.NetworkLayer, sport, dport uint16) *layers.TCP {
	t := &layers.TCP{SrcPort: layers.TCPPort(sport), DstPort: layers.TCPPort(dport), Seq: 1000, Ack: 2000,
		PSH: true, ACK: true, Window: 512,
		Options: []layers.TCPOption{{OptionType: layers.TCPOptionKindNop}, {OptionType: layers.TCPOptionKindNop},
			{OptionType: layers.TCPOptionKindTimestamps, OptionData: make([]byte, 8)}}}
	t.SetNetworkLayerForChecksum(nl)
	return t
}

func udp(nl gopacket.NetworkLayer, sport, dport uint16) *layers.UDP {
	u := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
	u.SetNetworkLayerForChecksum(nl)
	return u
}

// raw is a layer of literal bytes (a header gopacket cannot write).
type raw []byte

func (r raw) LayerType() gopacket.LayerType { return gopacket.LayerTypePayload }
func (r raw) SerializeTo(b gopacket.SerializeBuffer, _ gopacket.SerializeOptions) error {
	p, err := b.PrependBytes(len(r))
	copy(p, r)
	return err
}

func be16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
func cat(bs ...[]byte) raw {
	var out []byte
	for _, b := range bs {
		out = append(out, b...)
	}
	return out
}
