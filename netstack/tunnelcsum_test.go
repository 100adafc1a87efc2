package netstack

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/skb"
)

// TestVXLANOuterChecksum: udp_tunnel_xmit_skb's udp_set_csum on a vxlan
// device's outer UDP header. Without udp_csum (IPv4's default) it is 0.
// With it, a socket's datagram (CHECKSUM_PARTIAL) gets the full outer
// checksum by local checksum offload, right once the device completes
// the inner one; a UDP_SEGMENT send (a GSO skb) gets the pseudo-header sum
// and SKB_GSO_UDP_TUNNEL_CSUM, which software GSO completes per segment.
func TestVXLANOuterChecksum(t *testing.T) {
	for _, tc := range []struct {
		name    string
		csum    string
		segment int
		want    string // "zero", "lco", "pseudo"
	}{
		{"off", "", 0, "zero"},
		{"on", "on", 0, "lco"},
		{"on, GSO", "on", 100, "pseudo"},
		{"off, GSO", "off", 100, "zero"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vA, vB := addr("192.0.2.1"), addr("192.0.2.2")
			cfg := &Config{
				Namespaces: []NamespaceConfig{{Name: "A"}, {Name: "B"}},
				Devices: []DeviceConfig{
					{Name: "vA", Kind: KindVeth, Netns: "A", Addrs: []netip.Prefix{netip.PrefixFrom(vA, 24)}, Peer: "vB", PeerNetns: "B",
						PeerAddrs: []netip.Prefix{netip.PrefixFrom(vB, 24)}},
					{Name: "vxA", Kind: KindVXLAN, Netns: "A", VNI: 42, Local: vA, Remote: vB, UDPCsum: tc.csum,
						Addrs: []netip.Prefix{pfx("10.9.0.1/24")}},
				},
				Neighbours: []NeighConfig{{Netns: "A", Dev: "vxA", Addr: addr("10.9.0.2"), MAC: macB}},
				Sockets:    []SocketConfig{{Name: "snd", Netns: "A", Proto: ProtoUDP, Port: 40000, UDPSegment: tc.segment}},
				Taps:       []TapConfig{{Name: "t", Netns: "A", Dev: "vA", Dir: TapTX, Hold: true}},
				Entries:    []EntryConfig{{Kind: EntryTX, Netns: "A", Socket: "snd"}},
			}
			s, _ := newStack(t, cfg, "", nil, nil)
			o := frameOpts{src: "10.9.0.1", dst: "10.9.0.2", sport: 40000, dport: 9999, payload: 400, noEth: true}
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: buildFrame(o)}))
			s.Flush()
			q := s.taps[0].q
			require.Len(t, q, 1)
			b := q[0].b
			f := make([]byte, b.Len()) // a TX tap's data is at the mac header
			require.NoError(t, b.CopyBits(0, f))
			ip := f[ethHlen:]
			u := ip[ipHlen:]
			check := binary.BigEndian.Uint16(u[6:8])
			gso := b.Shinfo().GSOType
			switch tc.want {
			case "zero":
				require.Zero(t, check)
				if tc.segment != 0 {
					require.Equal(t, skb.GSOUDPTunnel, gso&(skb.GSOUDPTunnel|skb.GSOUDPTunnelCsum))
				}
			case "pseudo":
				require.Equal(t, csumFold(pseudoSum(ip, ipprotoUDP, len(u))), check)
				require.Equal(t, skb.GSOUDPTunnelCsum, gso&(skb.GSOUDPTunnel|skb.GSOUDPTunnelCsum))
			case "lco":
				require.Equal(t, skb.ChecksumPartial, b.H().IPSummed, "the inner checksum is still the device's")
				iu := u[udpHlen+vxlanHlen+ethHlen+ipHlen:]
				binary.BigEndian.PutUint16(iu[6:8], ^csumFold(csumAdd(0, iu))) // the device completes the inner
				require.Equal(t, uint16(0xffff), csumFold(csumAdd(pseudoSum(ip, ipprotoUDP, len(u)), u)))
			}
		})
	}
}
