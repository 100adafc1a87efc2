package netstack

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/skb"
)

// vxSeg is one VXLAN packet of TestGROVXLAN: an inner TCP segment of the
// flow 192.0.2.9:5000 -> 192.0.2.1:80 (inner identification innerID, DF)
// in an outer IPv4/UDP packet from 203.0.113.9 to 203.0.113.1:4789.
type vxSeg struct {
	outerID uint16
	noDF    bool   // the outer header without DF
	sport   uint16 // the outer UDP source port (0: 50000)
	csum    uint16 // the outer UDP checksum field
	vni     uint32 // 0: 42
	innerID uint16
	flags   uint8 // extra inner TCP flags
}

// vxlanFrame builds seg i of a flow: the inner segment carries sequence
// number 1000+100i.
func vxlanFrame(i int, sg vxSeg) []byte {
	in := tcpOptFrame(uint32(1000+100*i), 1, 512, tcpACK|sg.flags, 0, sg.innerID)
	copy(in[0:6], macA[:])
	f := make([]byte, ethHlen+ipHlen+udpHlen+vxlanHlen+len(in))
	writeEth(f, macNIC, macB, ethPIP)
	writeIPv4(f[ethHlen:], 0, len(f)-ethHlen, sg.outerID, !sg.noDF, 64, ipprotoUDP, addr("203.0.113.9"), addr("203.0.113.1"))
	sport := sg.sport
	if sport == 0 {
		sport = 50000
	}
	u := f[ethHlen+ipHlen:]
	writeUDP(u, sport, defaultVXLANPort, len(f)-ethHlen-ipHlen)
	binary.BigEndian.PutUint16(u[6:8], sg.csum)
	vni := sg.vni
	if vni == 0 {
		vni = 42
	}
	vx := u[udpHlen:]
	vx[0] = 0x08
	binary.BigEndian.PutUint32(vx[4:8], vni<<8)
	copy(vx[vxlanHlen:], in)
	return f
}

// routerConfig is a forwarding host that receives on in (eth0) and sends
// 203.0.113.0/24 out of eth1 (198.51.100.1/24, without GSO offloads when
// soft) to 198.51.100.2, with a TX tap on eth1 holding what it captures
// (Stack.taps[0].q); extra devices follow eth1.
func routerConfig(in DeviceConfig, soft bool, extra ...DeviceConfig) *Config {
	return &Config{
		Namespaces: []NamespaceConfig{{Name: HostNetns, Forwarding: true}},
		Devices: append([]DeviceConfig{in,
			{Name: "eth1", Kind: KindNIC, MAC: macA, Addrs: []netip.Prefix{pfx("198.51.100.1/24")}, SoftwareGSO: soft}}, extra...),
		Routes:     []RouteConfig{{Dst: pfx("203.0.113.0/24"), Dev: "eth1", Via: addr("198.51.100.2")}},
		Neighbours: []NeighConfig{{Dev: "eth1", Addr: addr("198.51.100.2"), MAC: macB}},
		Taps:       []TapConfig{{Name: "wire", Dev: "eth1", Dir: TapTX, Hold: true}},
	}
}

// TestGROVXLAN: GRO merges the TCP segments inside VXLAN packets for the
// vxlan socket (udp_gro_receive -> vxlan_gro_receive -> eth_gro_receive ->
// inet_gro_receive -> tcp4_gro_receive): one flow is one outer header,
// outer ports, outer checksum presence, VXLAN header and inner Ethernet
// header, and inet_gro_flush checks the outer identification as well as
// the inner one, differently before v6.18. The aggregate is a
// SKB_GSO_UDP_TUNNEL skb with skb->encapsulation; vxlan_rcv's
// iptunnel_pull_offloads clears both, so the vxlan device sees a plain TCP
// GSO skb.
func TestGROVXLAN(t *testing.T) {
	ids := func(outer ...uint16) []vxSeg {
		var segs []vxSeg
		for i, id := range outer {
			segs = append(segs, vxSeg{outerID: id, innerID: uint16(100 + i)})
		}
		return segs
	}
	with := func(segs []vxSeg, i int, f func(*vxSeg)) []vxSeg {
		segs = append([]vxSeg(nil), segs...)
		f(&segs[i])
		return segs
	}
	four := ids(1, 2, 3, 4)
	for _, tc := range []struct {
		name    string
		profile string
		segs    []vxSeg
		nic     []uint16 // gso_segs at the NIC's tc ingress (0: one segment)
		vx      []uint16 // at vx0's
	}{
		{"one flow", "", four, []uint16{4}, []uint16{4}},
		{"vni changes", "", with(with(four, 2, func(s *vxSeg) { s.vni = 43 }), 3, func(s *vxSeg) { s.vni = 43 }),
			[]uint16{2, 2}, []uint16{2}}, // VNI 43 has no device: VXLAN_VNI_NOT_FOUND
		{"outer source port changes", "", with(with(four, 2, func(s *vxSeg) { s.sport = 50001 }), 3, func(s *vxSeg) { s.sport = 50001 }),
			[]uint16{2, 2}, []uint16{2, 2}},
		// vx0's own GRO (gro_cells) merges again what the NIC's could
		// not: after decapsulation the outer headers no longer differ.
		{"outer checksum on one", "", with(four, 2, func(s *vxSeg) { s.csum = 0x1234 }), []uint16{2, 0, 0}, []uint16{2, 2}},
		{"inner PSH completes", "", with(four, 1, func(s *vxSeg) { s.flags = tcpPSH }), []uint16{2, 2}, []uint16{2, 2}},
		{"outer id fixed with DF", "", ids(7, 7, 7, 7), []uint16{4}, []uint16{4}},
		{"outer id fixed with DF, v6.6", "v6.6", ids(7, 7, 7, 7), []uint16{4}, []uint16{4}},
		{"outer id jumps with DF", "", ids(1, 2, 50, 51), []uint16{2, 2}, []uint16{2, 2}},
		// Before v6.18 an outer header with DF skips the identification.
		{"outer id jumps with DF, v6.6", "v6.6", ids(1, 2, 50, 51), []uint16{4}, []uint16{4}},
		{"outer id counting without DF", "", noDF(ids(1, 2, 3, 4)), []uint16{4}, []uint16{4}},
		{"outer id fixed without DF", "", noDF(ids(7, 7, 7, 7)), []uint16{4}, []uint16{4}},
		{"outer id fixed without DF, v6.6", "v6.6", noDF(ids(7, 7, 7, 7)), []uint16{0, 0, 0, 0}, []uint16{4}},
		// Before v6.18 one ip_fixedid bit serves both headers: a fixed
		// inner identification makes the counting outer one flush at
		// the third segment.
		{"inner id fixed, outer counting without DF", "", innerFixed(noDF(ids(1, 2, 3, 4))), []uint16{4}, []uint16{4}},
		{"inner id fixed, outer counting without DF, v6.6", "v6.6", innerFixed(noDF(ids(1, 2, 3, 4))), []uint16{2, 2}, []uint16{2, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var nic, vx []uint16
			var vxTypes []uint32
			var encap []bool
			cfg := &Config{
				Devices: []DeviceConfig{
					{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("203.0.113.1/24")}},
					{Name: "vx0", Kind: KindVXLAN, MAC: macA, VNI: 42, Remote: addr("203.0.113.9"), Addrs: []netip.Prefix{pfx("192.0.2.1/24")}},
				},
				Sockets: []SocketConfig{{Name: "srv", Proto: ProtoTCP, Port: 80}},
				Programs: []ProgramConfig{
					{Name: "nic", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: recordGSOSegs(&nic)},
					{Name: "vx", Hook: carrier.HookTCIngress, Dev: "vx0", Prog: ProgramFunc(func(c *Ctx) int {
						vxTypes = append(vxTypes, c.Skb.Shinfo().GSOType)
						encap = append(encap, c.Skb.H().Encapsulation)
						return recordGSOSegs(&vx)(c)
					})},
				},
			}
			s, _ := newStack(t, cfg, tc.profile, nil, nil)
			for i, sg := range tc.segs {
				require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: vxlanFrame(i, sg), Hash: 0xabc}))
			}
			s.Flush()
			require.Equal(t, tc.nic, nic, "NIC")
			require.Equal(t, tc.vx, vx, "vx0")
			for i, ty := range vxTypes {
				require.Zero(t, ty&skb.GSOEncapAll, "vx0 skb %d: tunnel GSO types cleared", i)
				require.False(t, encap[i], "vx0 skb %d: encapsulation cleared", i)
				if vx[i] != 0 {
					require.NotZero(t, ty&skb.GSOTCPv4, "vx0 skb %d: a TCPv4 GSO skb", i)
				}
			}
		})
	}
}

func noDF(segs []vxSeg) []vxSeg {
	for i := range segs {
		segs[i].noDF = true
	}
	return segs
}

func innerFixed(segs []vxSeg) []vxSeg {
	for i := range segs {
		segs[i].innerID = 9
	}
	return segs
}

// TestGROVXLANAggregate: the aggregate GRO builds from VXLAN packets is a
// SKB_GSO_UDP_TUNNEL skb (SKB_GSO_UDP_TUNNEL_CSUM with an outer checksum)
// with skb->encapsulation, its outer and inner IP lengths and its outer UDP
// length the aggregate's; a packet tap's clone of it makes the vxlan
// decapsulation unclone it (pskb_expand_head), so the vxlan device sees an
// skb of its own.
func TestGROVXLANAggregate(t *testing.T) {
	for _, csum := range []uint16{0, 0x1234} {
		var nicType uint32
		var nicEncap, vxCloned bool
		var nicLens [3]int
		cfg := &Config{
			Devices: []DeviceConfig{
				{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("203.0.113.1/24")}},
				{Name: "vx0", Kind: KindVXLAN, MAC: macA, VNI: 42, Remote: addr("203.0.113.9"), Addrs: []netip.Prefix{pfx("192.0.2.1/24")}},
			},
			Sockets: []SocketConfig{{Name: "srv", Proto: ProtoTCP, Port: 80}},
			Taps:    []TapConfig{{Name: "dump", Dev: "eth0", Dir: TapRX, Hold: true}},
			Programs: []ProgramConfig{
				{Name: "nic", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
					nicType, nicEncap = c.Skb.Shinfo().GSOType, c.Skb.H().Encapsulation
					d := c.Skb.Data()
					const nh = ethHlen + ipHlen + udpHlen + vxlanHlen + ethHlen
					nicLens = [3]int{int(binary.BigEndian.Uint16(d[ethHlen+2:])), int(binary.BigEndian.Uint16(d[ethHlen+ipHlen+4:])),
						int(binary.BigEndian.Uint16(d[nh+2:]))}
					require.Zero(t, ipCsum(d[ethHlen:ethHlen+ipHlen]), "outer IP checksum")
					require.Zero(t, ipCsum(d[nh:nh+ipHlen]), "inner IP checksum")
					return TCXNext
				})},
				{Name: "vx", Hook: carrier.HookTCIngress, Dev: "vx0", Prog: ProgramFunc(func(c *Ctx) int {
					vxCloned = c.Skb.Cloned()
					return TCXNext
				})},
			},
		}
		s, _ := newStack(t, cfg, "", nil, nil)
		for i := range 3 {
			sg := vxSeg{outerID: uint16(i + 1), innerID: uint16(100 + i), csum: csum}
			require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: vxlanFrame(i, sg), Hash: 0xabc}))
		}
		s.Flush()
		want := skb.GSOUDPTunnel
		if csum != 0 {
			want = skb.GSOUDPTunnelCsum
		}
		require.Equal(t, want|skb.GSOTCPv4, nicType)
		require.True(t, nicEncap)
		inner := ipHlen + 20 + 300
		require.Equal(t, [3]int{ipHlen + udpHlen + vxlanHlen + ethHlen + inner, udpHlen + vxlanHlen + ethHlen + inner, inner}, nicLens)
		require.False(t, vxCloned, "iptunnel_pull_offloads unclones the tap's shared aggregate")
	}
}

// TestGROVXLANForwardSegments: a router with a vxlan socket (bound to any
// address) GRO-merges transit VXLAN packets too (udp4_gro_lookup_skb finds
// the socket by port), then forwards the SKB_GSO_UDP_TUNNEL aggregate. A
// device with tunnel TSO sends it whole; one without GSO offloads cuts it
// (skb_udp_tunnel_segment): every segment is the VXLAN packet that
// arrived, from the outer UDP header on, with its outer IPv4 length and
// identification, TTL one lower. The copy-break driver's small heads put
// the aggregate's payload on its frag_list, so a device with tunnel TSO
// but without NETIF_F_FRAGLIST (a NIC's default) cuts it the same way, as
// does one with NETIF_F_FRAGLIST but without tunnel TSO (tunnel_tso off).
func TestGROVXLANForwardSegments(t *testing.T) {
	for _, tc := range []struct {
		soft      bool
		fragList  string
		tunnelTSO string
		whole     bool
	}{{false, "on", "", true}, {false, "", "", false}, {true, "", "", false}, {false, "on", "off", false}} {
		var out [][]byte
		cfg := routerConfig(DeviceConfig{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("192.0.2.254/24")}}, tc.soft,
			DeviceConfig{Name: "vx0", Kind: KindVXLAN, MAC: macB, VNI: 7, Remote: addr("198.51.100.9")})
		cfg.Devices[1].TxFragList, cfg.Devices[1].TunnelTSO = tc.fragList, tc.tunnelTSO
		cfg.Programs = []ProgramConfig{{Name: "out", Hook: carrier.HookTCEgress, Dev: "eth1", Prog: ProgramFunc(func(c *Ctx) int {
			out = append(out, append([]byte(nil), c.Skb.Data()...))
			return TCXNext
		})}}
		s, te := newStack(t, cfg, "", nil, nil)
		var in [][]byte
		for i := range 4 {
			f := vxlanFrame(i, vxSeg{outerID: uint16(10 + i), innerID: uint16(100 + i)})
			in = append(in, f)
			require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: f, Hash: 0xabc}))
		}
		s.Flush()
		require.Empty(t, te.obs.dropReasons())
		require.Len(t, out, 1, "tc egress sees the aggregate")
		var wire [][]byte
		for _, q := range s.taps[0].q {
			wire = append(wire, q.b.Data())
		}
		if tc.whole {
			require.Len(t, wire, 1, "tunnel TSO: one skb")
			continue
		}
		require.Len(t, wire, 4)
		for i, w := range wire {
			o := w[ethHlen:]
			// The aggregate is CHECKSUM_PARTIAL (tcp_gro_complete): each
			// segment's inner TCP check is the pseudo-header sum of its
			// own length (tcp_gso_segment's newcheck), which the
			// device completes.
			nh := ipHlen + udpHlen + vxlanHlen + ethHlen
			check := nh + ipHlen + 16
			require.Equal(t, csumFold(pseudoSum(o[nh:], ipprotoTCP, len(o)-nh-ipHlen)), binary.BigEndian.Uint16(o[check:]), "segment %d: inner TCP check", i)
			got := bytes.Clone(o)
			binary.BigEndian.PutUint16(got[check:], 0)
			require.Equal(t, in[i][ethHlen+ipHlen:], got[ipHlen:], "segment %d from the outer UDP header on", i)
			require.Equal(t, binary.BigEndian.Uint16(in[i][ethHlen+2:]), binary.BigEndian.Uint16(o[2:4]), "tot_len")
			require.Equal(t, uint16(10+i), binary.BigEndian.Uint16(o[4:6]), "outer identification")
			require.Equal(t, uint8(63), o[8], "TTL")
			require.Zero(t, ipCsum(o[:ipHlen]))
		}
	}
}

// TestVXLANEncapSegments: a TCP aggregate routed into a vxlan device
// becomes an encapsulated GSO skb (udp_tunnel_handle_offloads: inner
// headers, skb->encapsulation, SKB_GSO_UDP_TUNNEL); an underlay device
// without GSO offloads cuts it into VXLAN packets that each carry one
// inner segment with its own inner and outer lengths, identifications and
// sequence number.
func TestVXLANEncapSegments(t *testing.T) {
	var gsoType uint32
	cfg := &Config{
		Namespaces: []NamespaceConfig{{Name: HostNetns, Forwarding: true}},
		Devices: []DeviceConfig{
			{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("192.0.2.1/24")}},
			{Name: "eth1", Kind: KindNIC, MAC: macA, Addrs: []netip.Prefix{pfx("198.51.100.1/24")}, SoftwareGSO: true},
			{Name: "vx0", Kind: KindVXLAN, MAC: macB, VNI: 7, Remote: addr("198.51.100.9"), Addrs: []netip.Prefix{pfx("10.9.0.1/24")}},
		},
		Neighbours: []NeighConfig{{Dev: "eth1", Addr: addr("198.51.100.9"), MAC: macB}, {Dev: "vx0", Addr: addr("10.9.0.7"), MAC: macA}},
		Taps:       []TapConfig{{Name: "wire", Dev: "eth1", Dir: TapTX, Hold: true}},
		Programs: []ProgramConfig{{Name: "out", Hook: carrier.HookTCEgress, Dev: "eth1", Prog: ProgramFunc(func(c *Ctx) int {
			gsoType = c.Skb.Shinfo().GSOType
			return TCXNext
		})}},
	}
	s, te := newStack(t, cfg, "", nil, nil)
	for i := range 4 {
		f := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "10.9.0.7", proto: ipprotoTCP,
			sport: 5000, dport: 443, seq: uint32(1000 + 100*i), tcpFlags: tcpACK, payload: 100, id: uint16(20 + i), fragOff: ipDF})
		require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: f, Hash: 0xabc}))
	}
	s.Flush()
	require.Empty(t, te.obs.dropReasons())
	require.Equal(t, skb.GSOTCPv4|skb.GSOUDPTunnel, gsoType&^skb.GSOTCPFixedID)
	require.Len(t, s.taps[0].q, 4)
	const inner = ethHlen + ipHlen + udpHlen + vxlanHlen + ethHlen
	for i, q := range s.taps[0].q {
		d := q.b.Data()
		require.Equal(t, ethHlen+ipHlen+udpHlen+vxlanHlen+ethHlen+ipHlen+20+100, len(d), "segment %d", i)
		require.Equal(t, uint16(udpHlen+vxlanHlen+ethHlen+ipHlen+20+100), binary.BigEndian.Uint16(d[ethHlen+ipHlen+4:]), "outer UDP length")
		require.Equal(t, uint16(ipHlen+20+100), binary.BigEndian.Uint16(d[inner+2:]), "inner tot_len")
		require.Equal(t, uint16(20+i), binary.BigEndian.Uint16(d[inner+4:]), "inner identification")
		require.Equal(t, uint32(1000+100*i), binary.BigEndian.Uint32(d[inner+ipHlen+4:]), "inner sequence number")
		require.Zero(t, ipCsum(d[ethHlen:ethHlen+ipHlen]))
		require.Zero(t, ipCsum(d[inner:inner+ipHlen]))
		if i > 0 {
			prev := s.taps[0].q[i-1].b.Data()
			require.Equal(t, binary.BigEndian.Uint16(prev[ethHlen+4:])+1, binary.BigEndian.Uint16(d[ethHlen+4:]), "outer identifications count up")
		}
	}
}

// TestGROVXLANInnerUDP: UDP inside VXLAN is merged like plain UDP, by the
// inner socket lookup and udp_gro_receive_segment: with
// rx-udp-gro-forwarding for no socket, not for a plain socket; the
// aggregate is SKB_GSO_UDP_TUNNEL | SKB_GSO_UDP_L4 and becomes a UDP GSO
// skb after decapsulation.
func TestGROVXLANInnerUDP(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fwd   bool
		list  bool
		sock  bool
		nic   []uint16
		vxGSO uint32
		reads int // datagrams the socket reads
	}{
		{"no feature", false, false, false, []uint16{0, 0, 0}, 0, 0},
		{"forwarding", true, false, false, []uint16{3}, skb.GSOUDPL4, 0},
		{"forwarding, plain socket", true, false, true, []uint16{0, 0, 0}, 0, 3},
		// Fraglist GRO chains the VXLAN packets whole; after decapsulation
		// the socket gets them back one by one (udp_rcv_segment ->
		// skb_segment_list).
		{"fraglist, plain socket", false, true, true, []uint16{3}, skb.GSOUDPL4 | skb.GSOFraglist, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var nic []uint16
			var vxTypes []uint32
			cfg := &Config{
				Namespaces: []NamespaceConfig{{Name: HostNetns, Forwarding: true}},
				Devices: []DeviceConfig{
					{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("192.0.2.1/24")}, UDPGROForwarding: tc.fwd, GROList: tc.list},
					{Name: "vx0", Kind: KindVXLAN, MAC: macA, VNI: 5, Remote: addr("192.0.2.9"), Addrs: []netip.Prefix{pfx("10.9.0.1/16")}},
				},
				Programs: []ProgramConfig{
					{Name: "nic", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: recordGSOSegs(&nic)},
					{Name: "vx", Hook: carrier.HookTCIngress, Dev: "vx0", Prog: ProgramFunc(func(c *Ctx) int {
						vxTypes = append(vxTypes, c.Skb.Shinfo().GSOType)
						return TCXNext
					})},
				},
			}
			var filtered []int
			if tc.sock {
				cfg.Sockets = []SocketConfig{{Name: "app", Proto: ProtoUDP, Port: 9999}}
				cfg.Programs = append(cfg.Programs, ProgramConfig{Name: "f", Hook: carrier.HookSocketFilter, Socket: "app",
					Prog: ProgramFunc(func(c *Ctx) int {
						filtered = append(filtered, c.Skb.Len())
						return -1
					})})
			}
			s, te := newStack(t, cfg, "", nil, nil)
			for i := range 3 {
				in := buildFrame(frameOpts{dstMAC: macA, srcMAC: macB, src: "10.9.0.2", dst: "10.9.0.1", proto: ipprotoUDP,
					sport: 5000, dport: 9999, payload: 100, id: uint16(i)})
				setUDP4Csum(in[ethHlen:])
				require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: vxlanWrap(in, "192.0.2.1", uint16(10+i), 5), Hash: 0xabc}))
			}
			s.Flush()
			require.Equal(t, tc.nic, nic, "NIC")
			require.NotEmpty(t, vxTypes, "drops: %v", te.obs.dropReasons())
			require.Equal(t, tc.vxGSO, vxTypes[0], "vx0's gso_type")
			reads := 0
			for _, d := range te.obs.delivs {
				if d.Kind == DeliverSocket {
					reads++
				}
			}
			require.Equal(t, tc.reads, reads, "datagrams read; drops: %v", te.obs.dropReasons())
			if tc.sock {
				require.Len(t, filtered, 3, "socket filter runs")
			}
			for i, n := range filtered {
				require.Equal(t, udpHlen+100, n, "datagram %d at the socket filter (data at the UDP header)", i)
			}
		})
	}
}

// TestGROGeneve: geneve_gro_receive merges the TCP segments of geneve
// packets whose whole headers (options included) are equal, and sends a
// packet with the OAM bit or another version up alone.
func TestGROGeneve(t *testing.T) {
	type gnv struct {
		opt byte // one 4-byte option whose last byte is opt (0: no options)
		oam bool
	}
	frame := func(i int, g gnv) []byte {
		in := tcpOptFrame(uint32(1000+100*i), 1, 512, tcpACK, 0, uint16(100+i))
		copy(in[0:6], macA[:])
		optLen := 0
		if g.opt != 0 {
			optLen = 4
		}
		f := make([]byte, ethHlen+ipHlen+udpHlen+geneveHlen+optLen+len(in))
		writeEth(f, macNIC, macB, ethPIP)
		writeIPv4(f[ethHlen:], 0, len(f)-ethHlen, uint16(i+1), true, 64, ipprotoUDP, addr("203.0.113.9"), addr("203.0.113.1"))
		writeUDP(f[ethHlen+ipHlen:], 50000, defaultGenevePort, len(f)-ethHlen-ipHlen)
		gh := f[ethHlen+ipHlen+udpHlen:]
		gh[0] = byte(optLen / 4)
		if g.oam {
			gh[1] = 0x80
		}
		binary.BigEndian.PutUint16(gh[2:4], ethPTEB)
		binary.BigEndian.PutUint32(gh[4:8], 6<<8)
		if g.opt != 0 {
			gh[geneveHlen+3] = g.opt
		}
		copy(gh[geneveHlen+optLen:], in)
		return f
	}
	for _, tc := range []struct {
		name string
		segs []gnv
		want []uint16
	}{
		{"one flow", []gnv{{}, {}, {}, {}}, []uint16{4}},
		{"same options", []gnv{{opt: 1}, {opt: 1}, {opt: 1}}, []uint16{3}},
		{"options differ", []gnv{{opt: 1}, {opt: 1}, {opt: 2}, {opt: 2}}, []uint16{2, 2}},
		{"OAM", []gnv{{oam: true}, {oam: true}, {oam: true}}, []uint16{0, 0, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var nic []uint16
			cfg := &Config{
				Devices: []DeviceConfig{
					{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("203.0.113.1/24")}},
					{Name: "gn0", Kind: KindGeneve, MAC: macA, VNI: 6, Remote: addr("203.0.113.9"), Addrs: []netip.Prefix{pfx("192.0.2.1/24")}},
				},
				Programs: []ProgramConfig{{Name: "nic", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: recordGSOSegs(&nic)}},
			}
			s, _ := newStack(t, cfg, "", nil, nil)
			for i, g := range tc.segs {
				require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: frame(i, g), Hash: 0xabc}))
			}
			s.Flush()
			require.Equal(t, tc.want, nic)
		})
	}
}

// TestGROVXLANInnerUDPForwardSegments: a transit VXLAN aggregate of UDP
// datagrams (rx-udp-gro-forwarding) leaves a NIC without GSO offloads cut
// back into the VXLAN packets that arrived (__udp_gso_segment inside
// skb_udp_tunnel_segment), from the outer UDP header on, with outer
// lengths and identifications.
func TestGROVXLANInnerUDPForwardSegments(t *testing.T) {
	cfg := routerConfig(DeviceConfig{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("192.0.2.254/24")},
		UDPGROForwarding: true}, true, DeviceConfig{Name: "vx0", Kind: KindVXLAN, MAC: macB, VNI: 7, Remote: addr("198.51.100.9")})
	s, te := newStack(t, cfg, "", nil, nil)
	var in [][]byte
	for i := range 4 {
		inner := buildFrame(frameOpts{dstMAC: macA, srcMAC: macB, src: "10.9.0.2", dst: "10.9.0.1", proto: ipprotoUDP,
			sport: 5000, dport: 9999, payload: 100, id: uint16(i)})
		setUDP4Csum(inner[ethHlen:])
		f := vxlanWrap(inner, "203.0.113.1", uint16(10+i), 5)
		in = append(in, f)
		require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: f, Hash: 0xabc}))
	}
	s.Flush()
	require.Empty(t, te.obs.dropReasons())
	require.Len(t, s.taps[0].q, 4)
	const innerUDP = ipHlen + udpHlen + vxlanHlen + ethHlen + ipHlen
	for i, q := range s.taps[0].q {
		o := q.b.Data()[ethHlen:]
		w := in[i][ethHlen:]
		// The inner UDP checksum field is the one GRO left (the model
		// writes no L4 checksum); everything else is what arrived.
		require.Equal(t, w[ipHlen:innerUDP+6], o[ipHlen:innerUDP+6], "segment %d up to the inner UDP checksum", i)
		require.Equal(t, w[innerUDP+8:], o[innerUDP+8:], "segment %d payload", i)
		require.Equal(t, binary.BigEndian.Uint16(w[2:4]), binary.BigEndian.Uint16(o[2:4]), "outer tot_len")
		require.Equal(t, uint16(10+i), binary.BigEndian.Uint16(o[4:6]), "outer identification")
	}
}

// TestGROVXLANTCPFraglist: with rx-gro-list, tcp4_check_fraglist_gro
// chains an inner TCP flow no local socket has in the established hash,
// VXLAN packets whole; after decapsulation the aggregate is a fraglist
// TCP skb, which the uplink NIC (no NETIF_F_GSO_FRAGLIST) cuts back into
// the inner segments that arrived (skb_segment_list), each with the
// aggregate's inner Ethernet header and its own IP and TCP headers (so
// only the first has the TTL ip_forward lowered).
func TestGROVXLANTCPFraglist(t *testing.T) {
	var vxType uint32
	cfg := &Config{
		Namespaces: []NamespaceConfig{{Name: HostNetns, Forwarding: true}},
		Devices: []DeviceConfig{
			{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("203.0.113.1/24")}, GROList: true},
			{Name: "eth1", Kind: KindNIC, MAC: macPeer, Addrs: []netip.Prefix{pfx("198.51.100.1/24")}},
			{Name: "vx0", Kind: KindVXLAN, MAC: macA, VNI: 42, Remote: addr("203.0.113.9"), Addrs: []netip.Prefix{pfx("10.1.0.1/24")}},
		},
		// The inner segments go to 192.0.2.1, routed out of eth1.
		Routes:     []RouteConfig{{Dst: pfx("192.0.2.0/24"), Dev: "eth1", Via: addr("198.51.100.2")}},
		Neighbours: []NeighConfig{{Dev: "eth1", Addr: addr("198.51.100.2"), MAC: macB}},
		Taps:       []TapConfig{{Name: "wire", Dev: "eth1", Dir: TapTX, Hold: true}},
		Programs: []ProgramConfig{{Name: "vx", Hook: carrier.HookTCIngress, Dev: "vx0", Prog: ProgramFunc(func(c *Ctx) int {
			vxType = c.Skb.Shinfo().GSOType
			return TCXNext
		})}},
	}
	s, te := newStack(t, cfg, "", nil, nil)
	var inner [][]byte
	for i := range 4 {
		f := vxlanFrame(i, vxSeg{outerID: uint16(i + 1), innerID: uint16(100 + i)})
		inner = append(inner, f[ethHlen+ipHlen+udpHlen+vxlanHlen:])
		require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: f, Hash: 0xabc}))
	}
	s.Flush()
	require.Empty(t, te.obs.dropReasons())
	require.Equal(t, skb.GSOTCPv4|skb.GSOFraglist, vxType, "vx0 sees a fraglist TCP skb")
	require.Len(t, s.taps[0].q, 4, "eth1 sends the four inner segments")
	for i, q := range s.taps[0].q {
		d := q.b.Data()
		in := inner[i]
		require.Len(t, d, len(in), "segment %d", i)
		require.Equal(t, in[ethHlen+ipHlen:], d[ethHlen+ipHlen:], "segment %d's TCP header and payload", i)
		require.Equal(t, binary.BigEndian.Uint16(in[ethHlen+2:]), binary.BigEndian.Uint16(d[ethHlen+2:]), "segment %d's tot_len", i)
		// ip_forward lowered the aggregate's own TTL only: the chained
		// skbs keep their IP headers (measured for plain fraglist GRO,
		// TestKernelGROFraglistForwardTTL).
		wantTTL := in[ethHlen+8]
		if i == 0 {
			wantTTL--
		}
		require.Equal(t, wantTTL, d[ethHlen+8], "segment %d's TTL", i)
		require.Zero(t, ipCsum(d[ethHlen:ethHlen+ipHlen]))
	}
}

// TestGROTCPFraglistForwardTTL: a forwarded TCP flow chained by fraglist
// GRO leaves a NIC as the segments that arrived; ip_forward lowered the
// TTL of the aggregate's own IP header only, so the first segment has TTL
// 63 and the others the 64 they came with, each its own TCP checksum, as
// the kernel does (TestKernelGROFraglistForwardTTL).
func TestGROTCPFraglistForwardTTL(t *testing.T) {
	cfg := routerConfig(DeviceConfig{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("192.0.2.1/24")}, GROList: true}, false)
	s, te := newStack(t, cfg, "", nil, nil)
	var checks []uint16
	for i := range 4 {
		f := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "203.0.113.7", proto: ipprotoTCP,
			sport: 5000, dport: 443, seq: uint32(1000 + 100*i), tcpFlags: tcpACK, payload: 100, id: uint16(100 + i), fragOff: ipDF})
		binary.BigEndian.PutUint16(f[ethHlen+ipHlen+16:], uint16(0x1000+i)) // a TCP checksum to recognise
		checks = append(checks, uint16(0x1000+i))
		require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: f, Hash: 0xabc}))
	}
	s.Flush()
	require.Empty(t, te.obs.dropReasons())
	var ttls []uint8
	var got []uint16
	for _, q := range s.taps[0].q {
		d := q.b.Data()
		ttls = append(ttls, d[ethHlen+8])
		got = append(got, binary.BigEndian.Uint16(d[ethHlen+ipHlen+16:]))
	}
	require.Equal(t, []uint8{63, 64, 64, 64}, ttls)
	require.Equal(t, checks, got, "each segment keeps its own TCP header")
}

// TestGROECNSegments: before v6.18 a held segment with CWR takes the
// next segments (CWR is left out of the flag-word compare), and
// tcp_gro_complete marks the aggregate SKB_GSO_TCP_ECN; a device without
// GSO offloads cuts it with CWR on the first segment only, as the
// segments arrived. From v6.18 a CWR segment is never merged, and CWR
// aggregates would be SKB_GSO_TCP_ACCECN, whose segments all keep CWR.
func TestGROECNSegments(t *testing.T) {
	for _, tc := range []struct {
		profile string
		cwrAll  bool // every segment has CWR
		ingress []uint16
		flags   []uint8
	}{
		{"v6.6", false, []uint16{4}, []uint8{tcpACK | tcpCWR, tcpACK, tcpACK, tcpACK}},
		{"", false, []uint16{0, 3}, []uint8{tcpACK | tcpCWR, tcpACK, tcpACK, tcpACK}},
		{"", true, []uint16{0, 0, 0, 0}, []uint8{tcpACK | tcpCWR, tcpACK | tcpCWR, tcpACK | tcpCWR, tcpACK | tcpCWR}},
	} {
		var ingress []uint16
		cfg := routerConfig(DeviceConfig{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("192.0.2.1/24")}}, true)
		cfg.Programs = []ProgramConfig{{Name: "in", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: recordGSOSegs(&ingress)}}
		s, te := newStack(t, cfg, tc.profile, nil, nil)
		for i := range 4 {
			flags := uint8(tcpACK)
			if i == 0 || tc.cwrAll {
				flags |= tcpCWR
			}
			f := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "203.0.113.7", proto: ipprotoTCP,
				sport: 5000, dport: 443, seq: uint32(1000 + 100*i), tcpFlags: flags, payload: 100, id: uint16(100 + i), fragOff: ipDF})
			require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: f, Hash: 0xabc}))
		}
		s.Flush()
		require.Empty(t, te.obs.dropReasons())
		require.Equal(t, tc.ingress, ingress, "profile %q", tc.profile)
		var flags []uint8
		for _, q := range s.taps[0].q {
			flags = append(flags, q.b.Data()[ethHlen+ipHlen+13])
		}
		require.Equal(t, tc.flags, flags, "profile %q: TCP flags on the wire", tc.profile)
	}
}

// TestGROVXLANForwardOuterCsum: transit VXLAN packets with outer UDP
// checksums become an SKB_GSO_UDP_TUNNEL_CSUM aggregate, CHECKSUM_PARTIAL
// at the inner TCP header. Cut in software, each segment's outer UDP
// checksum is computed by local checksum offload (gso_make_checksum): once
// the device completes the inner TCP checksum, both verify.
func TestGROVXLANForwardOuterCsum(t *testing.T) {
	cfg := routerConfig(DeviceConfig{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("192.0.2.254/24")}}, true,
		DeviceConfig{Name: "vx0", Kind: KindVXLAN, MAC: macB, VNI: 7, Remote: addr("198.51.100.9")})
	s, te := newStack(t, cfg, "", nil, nil)
	for i := range 4 {
		f := vxlanFrame(i, vxSeg{outerID: uint16(10 + i), innerID: uint16(100 + i), csum: 0x1234})
		require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: f, Hash: 0xabc}))
	}
	s.Flush()
	require.Empty(t, te.obs.dropReasons())
	require.Len(t, s.taps[0].q, 4)
	for i, q := range s.taps[0].q {
		require.Equal(t, skb.ChecksumPartial, q.b.H().IPSummed, "segment %d", i)
		o := bytes.Clone(q.b.Data()[ethHlen:])
		ol4 := ipHlen
		nh := ol4 + udpHlen + vxlanHlen + ethHlen
		il4 := nh + ipHlen
		// The device: the inner TCP checksum over the pseudo-header sum
		// already in the check field.
		binary.BigEndian.PutUint16(o[il4+16:], ^csumFold(csumAdd(0, o[il4:])))
		require.Equal(t, uint16(0xffff), csumFold(csumAdd(pseudoSum(o[nh:], ipprotoTCP, len(o)-il4), o[il4:])), "segment %d: inner TCP checksum", i)
		require.NotZero(t, binary.BigEndian.Uint16(o[ol4+6:]))
		require.Equal(t, uint16(0xffff), csumFold(csumAdd(pseudoSum(o, ipprotoUDP, len(o)-ol4), o[ol4:])), "segment %d: outer UDP checksum", i)
	}
}
