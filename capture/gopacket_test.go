package capture

import (
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/internal/testutil"
)

// TestDecodeAgreesWithGopacket decodes generated packets with gopacket's
// own full decoder and checks that every header field the two share has
// the same value, level by level.
func TestDecodeAgreesWithGopacket(t *testing.T) {
	pkts := readDecoded(t, "x", genBytes(t, GenSpec{Preset: "mixed", Seed: testutil.Seed(t), Packets: 3000}))
	ip := func(b []byte) netip.Addr { a, _ := netip.AddrFromSlice(b); return a }
	for _, p := range pkts {
		gp := gopacket.NewPacket(p.pkt.Data, layers.LinkTypeEthernet, gopacket.DecodeOptions{NoCopy: true})
		require.Nil(t, gp.ErrorLayer(), "packet %d: gopacket: %v", p.pkt.Index, gp.ErrorLayer())
		var eths []*layers.Ethernet
		var l3s []gopacket.Layer
		var l4s []gopacket.Layer
		var tunnels []gopacket.Layer
		for _, ly := range gp.Layers() {
			switch v := ly.(type) {
			case *layers.Ethernet:
				eths = append(eths, v)
			case *layers.IPv4, *layers.IPv6, *layers.ARP:
				l3s = append(l3s, v)
			case *layers.TCP, *layers.UDP, *layers.ICMPv4, *layers.ICMPv6:
				l4s = append(l4s, v)
			case *layers.VXLAN, *layers.Geneve, *layers.GRE:
				tunnels = append(tunnels, v)
			}
		}
		d := &p.d
		var myEth []*L2
		var myL3 []*L3
		var myL4 []*L4
		for i := 0; i <= int(d.Depth); i++ {
			h := &d.Hdr[i]
			if h.L2.Kind == L2Ethernet {
				myEth = append(myEth, &h.L2)
			}
			if h.L3.Proto != L3None {
				myL3 = append(myL3, &h.L3)
			}
			if h.L4.Proto != 0 {
				myL4 = append(myL4, &h.L4)
			}
		}
		require.Len(t, myEth, len(eths), "packet %d ethernet headers", p.pkt.Index)
		for i, e := range eths {
			assert.Equal(t, MAC(e.SrcMAC), myEth[i].Src)
			assert.Equal(t, MAC(e.DstMAC), myEth[i].Dst)
		}
		require.Len(t, myL3, len(l3s), "packet %d network headers", p.pkt.Index)
		for i, g := range l3s {
			m := myL3[i]
			switch v := g.(type) {
			case *layers.IPv4:
				assert.Equal(t, ip(v.SrcIP), m.Src)
				assert.Equal(t, ip(v.DstIP), m.Dst)
				assert.Equal(t, v.TTL, m.TTL)
				assert.Equal(t, v.TOS, m.TOS)
				assert.Equal(t, uint32(v.Id), m.ID)
				assert.Equal(t, uint8(v.Protocol), m.Protocol)
				assert.Equal(t, v.FragOffset*8, m.FragOffset)
				assert.Equal(t, v.Flags&layers.IPv4MoreFragments != 0, m.MF)
				assert.Equal(t, v.Flags&layers.IPv4DontFragment != 0, m.DF)
				assert.Equal(t, uint32(v.Length), m.TotalLen)
			case *layers.IPv6:
				assert.Equal(t, ip(v.SrcIP), m.Src)
				assert.Equal(t, ip(v.DstIP), m.Dst)
				assert.Equal(t, v.HopLimit, m.TTL)
				assert.Equal(t, v.TrafficClass, m.TOS)
				assert.Equal(t, v.FlowLabel, m.FlowLabel)
				assert.Equal(t, uint32(v.Length)+40, m.TotalLen)
			case *layers.ARP:
				assert.Equal(t, ip(v.SourceProtAddress), m.Src)
				assert.Equal(t, v.Operation, m.ARPOp)
			}
		}
		require.Len(t, myL4, len(l4s), "packet %d transport headers", p.pkt.Index)
		for i, g := range l4s {
			m := myL4[i]
			switch v := g.(type) {
			case *layers.TCP:
				assert.Equal(t, uint16(v.SrcPort), m.SrcPort)
				assert.Equal(t, uint16(v.DstPort), m.DstPort)
				assert.Equal(t, v.Seq, m.Seq)
				assert.Equal(t, v.Ack, m.Ack)
				assert.Equal(t, v.Window, m.Window)
				assert.Equal(t, v.SYN, m.TCPFlags&TCPSyn != 0)
				assert.Equal(t, v.FIN, m.TCPFlags&TCPFin != 0)
				assert.Equal(t, v.ACK, m.TCPFlags&TCPAck != 0)
				assert.Equal(t, v.PSH, m.TCPFlags&TCPPsh != 0)
				assert.Equal(t, uint16(v.DataOffset)*4, m.HeaderLen)
				assert.Equal(t, uint32(len(v.Payload)), m.PayloadLen)
			case *layers.UDP:
				assert.Equal(t, uint16(v.SrcPort), m.SrcPort)
				assert.Equal(t, uint16(v.DstPort), m.DstPort)
				assert.Equal(t, uint32(v.Length)-8, m.PayloadLen)
			case *layers.ICMPv4:
				assert.Equal(t, v.TypeCode.Type(), m.ICMPType)
				assert.Equal(t, v.Id, m.ICMPID)
			case *layers.ICMPv6:
				assert.Equal(t, v.TypeCode.Type(), m.ICMPType)
			}
		}
		require.Len(t, d.Tunnel[:d.Depth], len(tunnels)+countIPinIP(d), "packet %d tunnels", p.pkt.Index)
		j := 0
		for _, tn := range d.Tunnel[:d.Depth] {
			switch tn.Kind {
			case TunnelIPIP, TunnelSIT, TunnelIP6IP6, TunnelIP4IP6:
				continue
			}
			switch v := tunnels[j].(type) {
			case *layers.VXLAN:
				assert.Equal(t, v.VNI, tn.ID)
			case *layers.Geneve:
				assert.Equal(t, v.VNI, tn.ID)
				assert.Equal(t, v.OptionsLength, tn.OptLen)
				assert.Equal(t, len(v.Options), int(tn.NumOpts))
			case *layers.GRE:
				assert.Equal(t, v.Key, tn.ID)
				assert.Equal(t, v.KeyPresent, tn.HasID)
				assert.Equal(t, v.Seq, tn.Seq)
				assert.Equal(t, uint16(v.Protocol), tn.Proto)
			}
			j++
		}
	}
}

func countIPinIP(d *Decoded) int {
	n := 0
	for _, tn := range d.Tunnel[:d.Depth] {
		switch tn.Kind {
		case TunnelIPIP, TunnelSIT, TunnelIP6IP6, TunnelIP4IP6:
			n++
		}
	}
	return n
}
