package netstack

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
)

// frame6 describes an Ethernet + IPv6 + UDP/TCP test frame.
type frame6 struct {
	dstMAC, srcMAC [6]byte
	src, dst       string
	next           uint8 // final protocol (UDP by default)
	hop            bool  // a hop-by-hop header (PadN) in front
	frag           bool  // a fragment header in front
	dstOpt         byte  // a destination options header in front, with this option type (0: none)
	routing        bool  // a routing header (type 0, no segments left) in front
	seq            uint32
	hopLimit       uint8
	dport          uint16
	payload        int
	payloadLen     int // overrides the header's payload length when > 0
	version        uint8
}

func buildFrame6(o frame6) []byte {
	if o.next == 0 {
		o.next = ipprotoUDP
	}
	if o.hopLimit == 0 {
		o.hopLimit = 64
	}
	if o.version == 0 {
		o.version = 6
	}
	l4 := udpHlen
	if o.next == ipprotoTCP {
		l4 = 20
	}
	ext := 0
	if o.hop {
		ext += 8
	}
	if o.frag {
		ext += 8
	}
	if o.dstOpt != 0 {
		ext += 8
	}
	if o.routing {
		ext += 8
	}
	plen := ext + l4 + o.payload
	f := make([]byte, ethHlen+ip6Hlen+plen)
	writeEth(f, o.dstMAC, o.srcMAC, ethPIPv6)
	ip := f[ethHlen:]
	ip[0] = o.version << 4
	binary.BigEndian.PutUint16(ip[4:6], uint16(plen))
	if o.payloadLen > 0 {
		binary.BigEndian.PutUint16(ip[4:6], uint16(o.payloadLen))
	}
	ip[7] = o.hopLimit
	s16, d16 := addr(o.src).As16(), addr(o.dst).As16()
	copy(ip[8:24], s16[:])
	copy(ip[24:40], d16[:])
	nextp := &ip[6]
	off := ip6Hlen
	if o.hop {
		*nextp = nexthdrHop
		ip[off+2], ip[off+3] = 1, 4 // PadN: the 6 option bytes of an 8-byte header
		nextp = &ip[off]
		off += 8
	}
	if o.dstOpt != 0 {
		*nextp = nexthdrDest
		ip[off+2], ip[off+3] = o.dstOpt, 4 // a 6-byte option of type dstOpt
		nextp = &ip[off]
		off += 8
	}
	if o.routing {
		*nextp = nexthdrRouting
		nextp = &ip[off]
		off += 8
	}
	if o.frag {
		*nextp = nexthdrFrag
		nextp = &ip[off]
		ip[off+3] = 1 // M flag
		off += 8
	}
	*nextp = o.next
	th := ip[off:]
	binary.BigEndian.PutUint16(th[0:2], 40000)
	binary.BigEndian.PutUint16(th[2:4], o.dport)
	if o.next == ipprotoUDP {
		binary.BigEndian.PutUint16(th[4:6], uint16(l4+o.payload))
		udp6CsumFor(s16, d16, th[:l4+o.payload]) // IPv6 requires it (__udp6_lib_rcv)
	} else if o.next == ipprotoTCP {
		binary.BigEndian.PutUint32(th[4:8], o.seq)
		th[12] = 5 << 4
		th[13] = tcpACK | tcpPSH
	}
	return f
}

// udp6CsumFor writes the UDP checksum of datagram udp from src to dst.
func udp6CsumFor(src, dst [16]byte, udp []byte) {
	var ph [ip6Hlen]byte
	ph[0] = 6 << 4
	copy(ph[8:24], src[:])
	copy(ph[24:40], dst[:])
	l4Csum(ph[:], udp, ipprotoUDP)
}

// host6Config: a NIC with an IPv4 and an IPv6 address and sockets of both
// families.
func host6Config() *Config {
	return &Config{
		Devices: []DeviceConfig{{Name: "eth0", Kind: KindNIC, MAC: macNIC,
			Addrs: []netip.Prefix{pfx("192.0.2.1/24"), pfx("2001:db8::1/64")}}},
		Routes: []RouteConfig{{Dst: pfx("2001:db8:99::/48"), Dev: "eth0", Via: addr("2001:db8::fe")}},
		Sockets: []SocketConfig{
			{Name: "v6", Proto: ProtoUDP, Addr: addr("::"), Port: 53},
			{Name: "v4only", Proto: ProtoUDP, Port: 54},
			{Name: "v6only", Proto: ProtoUDP, Addr: addr("::"), Port: 55, V6Only: true},
			{Name: "web", Proto: ProtoTCP, Addr: addr("2001:db8::1"), Port: 80},
		},
	}
}

func v6To(dst string, dport uint16) frame6 {
	return frame6{dstMAC: macNIC, srcMAC: macB, src: "2001:db8::9", dst: dst, dport: dport, payload: 12}
}

// TestIP6Rcv: ip6_rcv_core's checks and reasons, local delivery through
// extension headers to UDP and TCP sockets, and the ends of the paths the
// model does not follow.
func TestIP6Rcv(t *testing.T) {
	mod := func(o frame6, f func(*frame6)) frame6 { f(&o); return o }
	base := v6To("2001:db8::1", 53)
	for _, tc := range []struct {
		name    string
		frame   []byte
		disable bool
		sock    int
		drop    string
	}{
		{"udp to a v6 wildcard socket", buildFrame6(base), false, 0, ""},
		{"behind a hop-by-hop header", buildFrame6(mod(base, func(o *frame6) { o.hop = true })), false, 0, ""},
		{"tcp to the bound address", buildFrame6(mod(base, func(o *frame6) { o.next = ipprotoTCP; o.dport = 80 })), false, 3, ""},
		{"an AF_INET socket gets no IPv6", buildFrame6(mod(base, func(o *frame6) { o.dport = 54 })), false, -1,
			"SKB_DROP_REASON_NO_SOCKET@__udp6_lib_rcv"},
		{"all-nodes multicast, ICMPv6 echo request", func() []byte {
			f := buildFrame6(mod(base, func(o *frame6) { o.dst = "ff02::1"; o.next = nexthdrICMPv6 }))
			f[ethHlen+ip6Hlen], f[ethHlen+ip6Hlen+1] = icmp6EchoRequest, 0
			return f
		}(), false, -2, ""},
		{"all-nodes multicast, ICMPv6 of unknown informational type", buildFrame6(mod(base, func(o *frame6) { o.dst = "ff02::1"; o.next = nexthdrICMPv6 })), false, -1,
			"SKB_DROP_REASON_NOT_SPECIFIED@icmpv6_rcv"},
		{"disable_ipv6", buildFrame6(base), true, -1, "SKB_DROP_REASON_IPV6DISABLED@ip6_rcv_core"},
		{"otherhost", buildFrame6(mod(base, func(o *frame6) { o.dstMAC = macA })), false, -1, "SKB_DROP_REASON_OTHERHOST@ip6_rcv_core"},
		{"short header", buildFrame6(base)[:ethHlen+30], false, -1, "SKB_DROP_REASON_IP_INHDR@ip6_rcv_core"},
		{"version 4", buildFrame6(mod(base, func(o *frame6) { o.version = 4 })), false, -1, "SKB_DROP_REASON_UNHANDLED_PROTO@ip6_rcv_core"},
		{"loopback destination from the wire", buildFrame6(mod(base, func(o *frame6) { o.dst = "::1" })), false, -1, "SKB_DROP_REASON_IP_INHDR@ip6_rcv_core"},
		{"multicast source", buildFrame6(mod(base, func(o *frame6) { o.src = "ff02::5" })), false, -1, "SKB_DROP_REASON_IP_INHDR@ip6_rcv_core"},
		{"multicast scope 0", buildFrame6(mod(base, func(o *frame6) { o.dst = "ff00::1" })), false, -1, "SKB_DROP_REASON_IP_INHDR@ip6_rcv_core"},
		{"interface-local multicast from outside", buildFrame6(mod(base, func(o *frame6) { o.dst = "ff01::1" })), false, -1, "SKB_DROP_REASON_IP_INHDR@ip6_rcv_core"},
		{"group not joined", buildFrame6(mod(base, func(o *frame6) { o.dst = "ff02::fb" })), false, -1, "SKB_DROP_REASON_NOT_SPECIFIED@ip6_mc_input"},
		{"payload length beyond the data", buildFrame6(mod(base, func(o *frame6) { o.payloadLen = 900 })), false, -1, "SKB_DROP_REASON_PKT_TOO_SMALL@ip6_rcv_core"},
		{"unknown next header", buildFrame6(mod(base, func(o *frame6) { o.next = 99 })), false, -1, "SKB_DROP_REASON_IP_NOPROTO@ip6_protocol_deliver_rcu"},
		// ip6_frag_queue: a non-final fragment of 20 bytes is a parameter problem.
		{"fragment not a multiple of 8", buildFrame6(mod(base, func(o *frame6) { o.frag = true })), false, -1, "SKB_DROP_REASON_NOT_SPECIFIED@ipv6_frag_rcv"},
		{"no route", buildFrame6(mod(base, func(o *frame6) { o.dst = "2001:db8:77::1" })), false, -1, "SKB_DROP_REASON_IP_INNOROUTES@ip6_pkt_discard"},
		{"route, forwarding off", buildFrame6(mod(base, func(o *frame6) { o.dst = "2001:db8:99::1" })), false, -1, "SKB_DROP_REASON_IP_INADDRERRORS@ip6_forward"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := host6Config()
			cfg.Namespaces = []NamespaceConfig{{Name: HostNetns, DisableIPv6: tc.disable}}
			s, te := newStack(t, cfg, "", nil, nil)
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: tc.frame}))
			switch {
			case tc.sock >= 0:
				require.Empty(t, te.obs.drops)
				require.Equal(t, []DeliverEvent{{PacketID: 1, Kind: DeliverSocket, Index: tc.sock}}, te.obs.delivs)
			case tc.sock == -2:
				require.Empty(t, te.obs.drops)
				require.Equal(t, []DeliverEvent{{PacketID: 1, Kind: DeliverOther, Index: -1}}, te.obs.delivs)
			default:
				require.Empty(t, te.obs.delivs)
				require.Equal(t, []string{tc.drop}, te.obs.dropReasons())
			}
		})
	}
}

// TestDualStackSocket: an AF_INET6 socket on :: receives IPv4 too
// (v4-mapped, bindv6only 0) unless IPV6_V6ONLY.
func TestDualStackSocket(t *testing.T) {
	s, te := newStack(t, host6Config(), "", nil, nil)
	f := func(dport uint16) []byte {
		return buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "192.0.2.1", sport: 1, dport: dport, payload: 8})
	}
	require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f(53)}))
	require.NoError(t, s.Inject(&Packet{ID: 2, Frame: f(55)}))
	require.Equal(t, []DeliverEvent{{PacketID: 1, Kind: DeliverSocket, Index: 0}}, te.obs.delivs)
	require.Equal(t, []string{"SKB_DROP_REASON_NO_SOCKET@__udp4_lib_rcv"}, te.obs.dropReasons())
}

// TestIP6ForwardVeth: a host with net.ipv6.conf.all.forwarding forwards
// IPv6 from its NIC through a veth pair into a container's socket:
// ip6_forward decrements the hop limit, ip6_finish_output2 writes an
// ETH_P_IPV6 header, the veth crossing scrubs the mark; a hop limit of 1
// is dropped (IP_INHDR, ICMPV6_EXC_HOPLIMIT), as is forwarding when the
// sysctl is off.
func TestIP6ForwardVeth(t *testing.T) {
	for _, tc := range []struct {
		name     string
		fwd      bool
		hopLimit uint8
		drop     []string
	}{
		{"forwarded", true, 64, nil},
		{"hop limit exceeded", true, 1, []string{"SKB_DROP_REASON_IP_INHDR@ip6_forward"}},
		{"forwarding off", false, 64, []string{"SKB_DROP_REASON_IP_INADDRERRORS@ip6_forward"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			type seenAt struct {
				hop   uint8
				proto uint16
				mark  uint32
			}
			var in []seenAt
			cfg := &Config{
				Namespaces: []NamespaceConfig{{Name: HostNetns, IPv6Forwarding: tc.fwd}, {Name: "c"}},
				Devices: []DeviceConfig{
					{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("2001:db8::1/64")}},
					{Name: "veth0", Kind: KindVeth, MAC: macA, Addrs: []netip.Prefix{pfx("fd00:1::1/64")},
						Peer: "eth0", PeerNetns: "c", PeerMAC: macB, PeerAddrs: []netip.Prefix{pfx("fd00:1::2/64")}},
				},
				Sockets: []SocketConfig{{Name: "app", Netns: "c", Proto: ProtoUDP, Addr: addr("::"), Port: 53}},
				Programs: []ProgramConfig{
					{Name: "mark", Hook: carrier.HookTCIngress, Dev: "eth0", Actions: []Action{{Kind: ActSetMark, Value: 9}}},
					{Name: "in", Hook: carrier.HookTCIngress, Netns: "c", Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
						d := c.Skb.Data() // tcx_run pushed the mac header
						in = append(in, seenAt{hop: d[ethHlen+7], proto: c.Skb.H().Protocol, mark: c.Skb.H().Mark})
						return TCXNext
					})},
				},
			}
			s, te := newStack(t, cfg, "", nil, nil)
			f := buildFrame6(frame6{dstMAC: macNIC, srcMAC: [6]byte{2, 0, 0, 0, 0, 0x99}, src: "2001:db8::9", dst: "fd00:1::2",
				dport: 53, payload: 20, hopLimit: tc.hopLimit})
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
			require.Equal(t, tc.drop, te.obs.dropReasons())
			if tc.drop != nil {
				require.Empty(t, in)
				return
			}
			require.Equal(t, []seenAt{{hop: 63, proto: ethPIPv6, mark: 0}}, in)
			require.Equal(t, []DeliverEvent{{PacketID: 1, Kind: DeliverSocket, Index: 0}}, te.obs.delivs)
		})
	}
}
