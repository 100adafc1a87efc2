package netstack

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
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

// TestInnerChecksumLevels: VXLAN packets a packet socket sends into a veth
// (EntryPacket) reach the peer CHECKSUM_NONE. GRO checks the outer and the
// inner checksum (csum_cnt is 0): a bad inner one goes up alone and the
// others merge around it; UDP receive then checks the outer level, and after
// decapsulation the inner one, so the bad datagram is dropped and the
// aggregate delivered. From a NIC (CHECKSUM_UNNECESSARY at every level)
// nothing is checked in software.
func TestInnerChecksumLevels(t *testing.T) {
	for _, tc := range []struct {
		name     string
		entry    string
		bad      int // the segment with a bad inner checksum (-1: none)
		csumBad  uint64
		segments []uint16 // gso_segs of what reaches the vxlan device's tc ingress
		drops    []string
		// and of what reaches vB's tc ingress: vB's GRO (the outer and
		// inner checks) decides; vx0's own GRO (gro_cells) checks the
		// decapsulated packets again.
		underlay []uint16
	}{
		// The bad segment goes up at once; the next one's sequence number
		// does not follow the held aggregate, which completes.
		{"packet socket", EntryPacket, 2, 2, []uint16{0, 2, 0}, []string{"SKB_DROP_REASON_TCP_CSUM@tcp_v4_rcv"}, []uint16{0, 2, 0}},
		{"packet socket, all good", EntryPacket, -1, 0, []uint16{4}, nil, []uint16{4}},
		{"nic", EntryRX, 2, 0, []uint16{4}, nil, []uint16{4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var segs, under []uint16
			dev, ns, mac := "vA", "A", macB
			if tc.entry == EntryRX {
				dev, ns, mac = "vB", "B", macB
			}
			cfg := &Config{
				Namespaces: []NamespaceConfig{{Name: "A"}, {Name: "B"}},
				Devices: []DeviceConfig{
					// vA without TSO: vB's GRO takes its packets
					// (veth_skb_is_eligible_for_gro).
					{Name: "vA", Kind: KindVeth, Netns: "A", MAC: macA, Addrs: []netip.Prefix{pfx("203.0.113.9/24")}, SoftwareGSO: true,
						Peer: "vB", PeerNetns: "B", PeerMAC: macB, PeerAddrs: []netip.Prefix{pfx("203.0.113.1/24")}, PeerGRO: "on"},
					{Name: "vx0", Kind: KindVXLAN, Netns: "B", VNI: 42, MAC: macTun, Local: addr("203.0.113.1"), Remote: addr("203.0.113.9"),
						Addrs: []netip.Prefix{pfx("192.0.2.1/24")}},
				},
				Sockets: []SocketConfig{{Name: "web", Netns: "B", Proto: ProtoTCP, Port: 80}},
				Programs: []ProgramConfig{{Name: "in", Hook: carrier.HookTCIngress, Netns: "B", Dev: "vx0", Prog: recordGSOSegs(&segs)},
					{Name: "under", Hook: carrier.HookTCIngress, Netns: "B", Dev: "vB", Prog: recordGSOSegs(&under)}},
				Entries: []EntryConfig{{Kind: tc.entry, Netns: ns, Dev: dev}},
			}
			s, te := newStack(t, cfg, "", nil, nil)
			for i := range 4 {
				f := vxlanFrame(i, vxSeg{outerID: uint16(10 + i), innerID: uint16(100 + i), vni: 42})
				copy(f[0:6], mac[:])
				in := f[ethHlen+ipHlen+udpHlen+vxlanHlen:]
				copy(in[0:6], macTun[:])
				th := in[ethHlen+ipHlen:]
				l4Csum(in[ethHlen:], th, ipprotoTCP)
				if i == tc.bad {
					th[16] ^= 0x5a
				}
				require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: f}))
			}
			s.Flush()
			require.Equal(t, tc.csumBad, s.Stats().GROCsumBad)
			require.Equal(t, tc.segments, segs)
			require.Equal(t, tc.underlay, under)
			require.Equal(t, tc.drops, te.obs.dropReasons())
		})
	}
}
