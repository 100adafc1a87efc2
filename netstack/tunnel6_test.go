package netstack

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
)

var (
	macTun = [6]byte{0x02, 0, 0, 0, 0x20, 1}
	macTB  = [6]byte{0x02, 0, 0, 0, 0x20, 2}
)

// outer6 wraps payload (the bytes after the IPv6 header) in Ethernet and an
// IPv6 header from 2001:db8::9 to the NIC's 2001:db8::1 with next header
// next.
func outer6(next uint8, payload []byte) []byte {
	f := make([]byte, ethHlen+ip6Hlen+len(payload))
	writeEth(f, macNIC, macB, ethPIPv6)
	writeIPv6(f[ethHlen:], 0, 0, len(payload), next, 64, addr("2001:db8::9"), addr("2001:db8::1"))
	copy(f[ethHlen+ip6Hlen:], payload)
	return f
}

// udpTunnel6Frame is a VXLAN (geneve false) or Geneve frame over IPv6 to
// port dport carrying an Ethernet + IPv4 + UDP frame to 10.9.0.2:9999.
func udpTunnel6Frame(geneve bool, dport uint16, vni uint32) []byte {
	inner := buildFrame(frameOpts{dstMAC: macTun, srcMAC: macA, src: "10.9.0.1", dst: "10.9.0.2", sport: 1, dport: 9999, payload: 32})
	p := make([]byte, udpHlen+8+len(inner))
	writeUDP(p, 50000, dport, len(p))
	th := p[udpHlen:]
	if geneve {
		binary.BigEndian.PutUint16(th[2:4], ethPTEB)
	} else {
		th[0] = 0x08
	}
	binary.BigEndian.PutUint32(th[4:8], vni<<8)
	copy(p[udpHlen+8:], inner)
	f := outer6(nexthdrUDP, p)
	setUDP6Csum(f[ethHlen:]) // udp6zerocsumtx is off by default
	return f
}

// decap6Config: a NIC with an IPv6 address in host; the tunnel device t0
// (kind) with the underlay in host, the device itself in tunNs; a socket on
// the inner address in tunNs; tc ingress on eth0 marks 7.
func decap6Config(kind, tunNs string) *Config {
	inner := []netip.Prefix{pfx("10.9.0.2/24"), pfx("fd99::2/64")}
	cfg := &Config{
		Namespaces: []NamespaceConfig{{Name: "c"}},
		Devices: []DeviceConfig{
			{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("2001:db8::1/64")}},
			{Name: "t0", Kind: kind, Netns: tunNs, LinkNetns: HostNetns, MAC: macTun, Addrs: inner,
				Remote: addr("2001:db8::9"), Local: addr("2001:db8::1"), VNI: 42},
		},
		Sockets: []SocketConfig{
			{Name: "app4", Netns: tunNs, Proto: ProtoUDP, Port: 9999},
			{Name: "app6", Netns: tunNs, Proto: ProtoUDP, Addr: addr("::"), Port: 9998, V6Only: true},
		},
		Programs: []ProgramConfig{{Name: "mark", Hook: carrier.HookTCIngress, Dev: "eth0", Actions: []Action{{Kind: ActSetMark, Value: 7}}}},
		Entries:  []EntryConfig{{Dev: "eth0"}},
	}
	if kind == KindIP6Tnl || kind == KindIP6GRE {
		cfg.Devices[1].MAC = [6]byte{}
	}
	return cfg
}

// gre6Hdr is a GRE header with the key option.
func gre6Hdr(proto uint16, key uint32) []byte {
	g := make([]byte, greKeyHlen)
	g[0] = 0x20
	binary.BigEndian.PutUint16(g[2:4], proto)
	binary.BigEndian.PutUint32(g[4:8], key)
	return g
}

// TestTunnel6Decap: vxlan_rcv and geneve_udp_encap_recv on the IPv6 UDP
// tunnel socket (udpv6 encap_rcv, __iptunnel_pull_header with xnet =
// vxlan->net != dev_net(vxlan->dev)), and ip6ip6_rcv / ip4ip6_rcv ->
// __ip6_tnl_rcv (__skb_tunnel_rx and skb_scrub_packet with xnet =
// tunnel->net != dev_net(tunnel->dev)): the inner packet reaches the
// socket on the tunnel device; the mark tc ingress set on the underlay
// survives a decap in the same namespace and is scrubbed across
// namespaces; a packet for no tunnel is tunnel6_rcv's NOT_SPECIFIED.
func TestTunnel6Decap(t *testing.T) {
	innerV4 := buildFrame(frameOpts{src: "10.9.0.1", dst: "10.9.0.2", sport: 1, dport: 9999, payload: 32, noEth: true})
	innerV6 := buildFrame6(frame6{src: "fd99::1", dst: "fd99::2", dport: 9998, payload: 32})[ethHlen:]
	for _, tc := range []struct {
		name  string
		kind  string
		frame []byte
		sock  int
		drop  string
	}{
		{"vxlan", KindVXLAN, udpTunnel6Frame(false, defaultVXLANPort, 42), 0, ""},
		{"geneve", KindGeneve, udpTunnel6Frame(true, defaultGenevePort, 42), 0, ""},
		{"vxlan unknown vni", KindVXLAN, udpTunnel6Frame(false, defaultVXLANPort, 43), -1, "SKB_DROP_REASON_VXLAN_VNI_NOT_FOUND@__iptunnel_pull_header"},
		{"ip4ip6", KindIP6Tnl, outer6(ipprotoIPIP, innerV4), 0, ""},
		{"ip6ip6", KindIP6Tnl, outer6(ipprotoIPv6, innerV6), 1, ""},
		{"ip6ip6 behind the encapsulation limit option", KindIP6Tnl,
			outer6(nexthdrDest, append([]byte{ipprotoIPv6, 0, 4, 1, 4, 1, 1, 0}, innerV6...)), 1, ""},
		{"no ip6tnl for the source", KindVXLAN, outer6(ipprotoIPv6, innerV6), -1, "SKB_DROP_REASON_NOT_SPECIFIED@ip6_tnl_rcv"},
		{"ip6gre", KindIP6GRE, outer6(ipprotoGRE, append(gre6Hdr(ethPIP, 42), innerV4...)), 0, ""},
		{"ip6gretap", KindIP6GRETap, outer6(ipprotoGRE, append(gre6Hdr(ethPTEB, 42),
			buildFrame(frameOpts{dstMAC: macTun, srcMAC: macA, src: "10.9.0.1", dst: "10.9.0.2", sport: 1, dport: 9999, payload: 32})...)), 0, ""},
		{"ip6gre wrong key", KindIP6GRE, outer6(ipprotoGRE, append(gre6Hdr(ethPIP, 41), innerV4...)), -1, "SKB_DROP_REASON_NOT_SPECIFIED@gre_rcv"},
	} {
		for _, tunNs := range []string{HostNetns, "c"} {
			t.Run(tc.name+"/"+tunNs, func(t *testing.T) {
				var marks []uint32
				var devs []string
				cfg := decap6Config(tc.kind, tunNs)
				cfg.Programs = append(cfg.Programs, ProgramConfig{Name: "tp", Hook: carrier.HookTracepoint, Netns: tunNs,
					Event: EventConsumeSkb, Prog: ProgramFunc(func(c *Ctx) int {
						marks = append(marks, c.Skb.H().Mark)
						if d := c.s.devOf(c.Skb); d != nil {
							devs = append(devs, d.name)
						}
						return 0
					})})
				s, te := newStack(t, cfg, "", nil, nil)
				require.NoError(t, s.Inject(&Packet{ID: 1, Frame: tc.frame}))
				s.Flush()
				if tc.sock < 0 {
					require.Empty(t, te.obs.delivs)
					require.Equal(t, []string{tc.drop}, te.obs.dropReasons())
					return
				}
				require.Empty(t, te.obs.dropReasons())
				require.Equal(t, []DeliverEvent{{PacketID: 1, Kind: DeliverSocket, Index: tc.sock}}, te.obs.delivs)
				want := uint32(7)
				if tunNs != HostNetns {
					want = 0 // skb_scrub_packet(skb, xnet = true)
				}
				require.Equal(t, []uint32{want}, marks)
				require.Equal(t, []string{"t0"}, devs)
			})
		}
	}
}

// TestNoAllocsTunnel6Decap: steady-state decapsulation of VXLAN over IPv6
// and ip4ip6 allocates nothing on the Go heap.
func TestNoAllocsTunnel6Decap(t *testing.T) {
	innerV4 := buildFrame(frameOpts{src: "10.9.0.1", dst: "10.9.0.2", sport: 1, dport: 9999, payload: 32, noEth: true})
	for _, tc := range []struct {
		kind  string
		frame []byte
	}{
		{KindVXLAN, udpTunnel6Frame(false, defaultVXLANPort, 42)},
		{KindIP6Tnl, outer6(ipprotoIPIP, innerV4)},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			s, te := newStack(t, decap6Config(tc.kind, "c"), "", nil, nil)
			p := &Packet{Frame: tc.frame}
			for i := range 64 {
				p.ID = uint64(i)
				require.NoError(t, s.Inject(p))
				s.Flush()
			}
			require.Empty(t, te.obs.drops)
			require.Len(t, te.obs.delivs, 64)
			s.obs = NopObserver{}
			require.Zero(t, testing.AllocsPerRun(200, func() {
				p.ID++
				_ = s.Inject(p)
				s.Flush()
			}))
		})
	}
}

// tunnel6Pair: namespaces A and B joined by a veth pair (underlay
// fd00::1/64 - fd00::2/64, or 192.0.2.1/24 - 192.0.2.2/24 for sit), a
// tunnel of kind in each with the other end as remote, inner addresses
// 10.9.0.x/24 and fd99::x/64, a sending socket in A and receiving ones in
// B; tc egress on vA records the outer packets.
func tunnel6Pair(kind string) *Config {
	ua, ub := "fd00::1", "fd00::2"
	if kind == KindSIT {
		ua, ub = "192.0.2.1", "192.0.2.2"
	}
	bits := 64
	if kind == KindSIT {
		bits = 24
	}
	cfg := &Config{
		Namespaces: []NamespaceConfig{{Name: "A"}, {Name: "B"}},
		Devices: []DeviceConfig{
			{Name: "vA", Kind: KindVeth, Netns: "A", MAC: macA, Addrs: []netip.Prefix{netip.PrefixFrom(addr(ua), bits)},
				Peer: "vB", PeerNetns: "B", PeerMAC: macB, PeerAddrs: []netip.Prefix{netip.PrefixFrom(addr(ub), bits)}},
			{Name: "tA", Kind: kind, Netns: "A", Local: addr(ua), Remote: addr(ub), VNI: 7, MAC: macTun,
				Addrs: []netip.Prefix{pfx("10.9.0.1/24"), pfx("fd99::1/64")}},
			{Name: "tB", Kind: kind, Netns: "B", Local: addr(ub), Remote: addr(ua), VNI: 7, MAC: macTB,
				Addrs: []netip.Prefix{pfx("10.9.0.2/24"), pfx("fd99::2/64")}},
		},
		Neighbours: []NeighConfig{{Netns: "A", Dev: "tA", Addr: addr("10.9.0.2"), MAC: macTB},
			{Netns: "A", Dev: "tA", Addr: addr("fd99::2"), MAC: macTB}},
		Sockets: []SocketConfig{
			{Name: "tx", Netns: "A", Proto: ProtoUDP, Addr: addr("::"), Port: 40000, Mark: 5},
			{Name: "rx4", Netns: "B", Proto: ProtoUDP, Port: 9999},
			{Name: "rx6", Netns: "B", Proto: ProtoUDP, Addr: addr("::"), Port: 9998, V6Only: true},
		},
		Entries: []EntryConfig{{Kind: EntryTX, Netns: "A", Socket: "tx"}},
	}
	if kind == KindIP6Tnl || kind == KindSIT || kind == KindIP6GRE {
		cfg.Devices[1].MAC, cfg.Devices[2].MAC, cfg.Neighbours = [6]byte{}, [6]byte{}, nil
	}
	return cfg
}

// TestTunnel6RoundTrip: a socket in A sends through the tunnel; the outer
// packet crosses the veth and is decapsulated in B. The outer headers are
// those udp_tunnel6_xmit_skb (vxlan, geneve: UDP to the tunnel port over
// IPv6), ip6_tnl_xmit (a destination options header with the tunnel
// encapsulation limit 4 before the inner packet, an automatic flow label)
// and ipip6_tunnel_xmit (sit: IPv4 protocol 41) write; __gre6_xmit pushes
// the GRE header (the key, ETH_P_TEB for ip6gretap) before ip6_tnl_xmit.
func TestTunnel6RoundTrip(t *testing.T) {
	v4 := buildFrame(frameOpts{src: "10.9.0.1", dst: "10.9.0.2", sport: 40000, dport: 9999, payload: 64, noEth: true})
	v6 := buildFrame6(frame6{src: "fd99::1", dst: "fd99::2", dport: 9998, payload: 64})[ethHlen:]
	binary.BigEndian.PutUint16(v6[ip6Hlen:], 40000)
	for _, tc := range []struct {
		name  string
		kind  string
		frame []byte
		sock  int
		check func(t *testing.T, outer []byte)
	}{
		{"vxlan6", KindVXLAN, v4, 1, func(t *testing.T, o []byte) {
			require.Equal(t, uint16(ethPIPv6), binary.BigEndian.Uint16(o[12:14]))
			ip := o[ethHlen:]
			require.Equal(t, uint8(nexthdrUDP), ip[6])
			require.Equal(t, uint16(defaultVXLANPort), binary.BigEndian.Uint16(ip[ip6Hlen+2:]))
			require.Equal(t, uint32(7), binary.BigEndian.Uint32(ip[ip6Hlen+udpHlen+4:])>>8)
			require.Equal(t, uint16(len(ip)-ip6Hlen), binary.BigEndian.Uint16(ip[4:6]))
		}},
		{"geneve6", KindGeneve, v4, 1, func(t *testing.T, o []byte) {
			ip := o[ethHlen:]
			require.Equal(t, uint16(defaultGenevePort), binary.BigEndian.Uint16(ip[ip6Hlen+2:]))
			require.Equal(t, uint16(ethPTEB), binary.BigEndian.Uint16(ip[ip6Hlen+udpHlen+2:]))
		}},
		{"ip4ip6", KindIP6Tnl, v4, 1, func(t *testing.T, o []byte) {
			ip := o[ethHlen:]
			require.Equal(t, uint8(nexthdrDest), ip[6])
			require.Equal(t, []byte{ipprotoIPIP, 0, 4, 1, 4, 1, 1, 0}, ip[ip6Hlen:ip6Hlen+8])
			require.NotZero(t, binary.BigEndian.Uint32(ip[0:4])&0xfffff, "automatic flow label")
		}},
		{"ip6ip6", KindIP6Tnl, v6, 2, func(t *testing.T, o []byte) {
			ip := o[ethHlen:]
			require.Equal(t, uint8(ipprotoIPv6), ip[ip6Hlen])
			require.Equal(t, byte(0x60), ip[ip6Hlen+8]&0xf0)
		}},
		{"ip6gre", KindIP6GRE, v4, 1, func(t *testing.T, o []byte) {
			ip := o[ethHlen:]
			require.Equal(t, uint8(nexthdrDest), ip[6])
			require.Equal(t, uint8(ipprotoGRE), ip[ip6Hlen])
			require.Equal(t, gre6Hdr(ethPIP, 7), ip[ip6Hlen+8:ip6Hlen+16])
		}},
		{"ip6gretap", KindIP6GRETap, v4, 1, func(t *testing.T, o []byte) {
			ip := o[ethHlen:]
			require.Equal(t, gre6Hdr(ethPTEB, 7), ip[ip6Hlen+8:ip6Hlen+16])
			require.Equal(t, macTB[:], ip[ip6Hlen+16:ip6Hlen+22], "the inner Ethernet header")
		}},
		{"sit 6in4", KindSIT, v6, 2, func(t *testing.T, o []byte) {
			require.Equal(t, uint16(ethPIP), binary.BigEndian.Uint16(o[12:14]))
			require.Equal(t, uint8(ipprotoIPv6), o[ethHlen+9])
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var outer [][]byte
			var marks []uint32
			cfg := tunnel6Pair(tc.kind)
			cfg.Programs = []ProgramConfig{{Name: "eg", Hook: carrier.HookTCEgress, Netns: "A", Dev: "vA",
				Prog: ProgramFunc(func(c *Ctx) int {
					outer = append(outer, append([]byte(nil), c.Skb.Data()...))
					marks = append(marks, c.Skb.H().Mark)
					return TCXNext
				})}}
			s, te := newStack(t, cfg, "", nil, nil)
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: tc.frame}))
			s.Flush()
			require.Empty(t, te.obs.dropReasons())
			require.Equal(t, []DeliverEvent{{PacketID: 1, Kind: DeliverSocket, Index: tc.sock}}, te.obs.delivs)
			require.Len(t, outer, 1)
			tc.check(t, outer[0])
			// The tunnels' link namespace is their own: xnet false, so
			// the socket's mark (SO_MARK) survives the encapsulation.
			require.Equal(t, []uint32{5}, marks)
		})
	}
}

// TestTunnel6EncapScrub: a tunnel device moved to another namespace than
// its underlay (xnet) scrubs the mark on transmit (vxlan_xmit_one's and
// ip6_tnl_xmit's skb_scrub_packet(skb, xnet)); udp_tunnel6_xmit_skb keeps
// the flow hash (no skb_clear_hash_if_not_l4, unlike iptunnel_xmit), while
// ip6_tnl_xmit's automatic flow label hashes an skb that has no L4 hash.
func TestTunnel6EncapScrub(t *testing.T) {
	for _, kind := range []string{KindVXLAN, KindIP6Tnl} {
		t.Run(kind, func(t *testing.T) {
			type seen struct {
				mark uint32
				hash uint32
				sw   bool
			}
			var got []seen
			cfg := &Config{
				Namespaces: []NamespaceConfig{{Name: "c"}},
				Devices: []DeviceConfig{
					{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("2001:db8::1/64")}},
					{Name: "t0", Kind: kind, Netns: "c", LinkNetns: HostNetns, Addrs: []netip.Prefix{pfx("10.9.0.1/24")},
						Remote: addr("2001:db8::9"), VNI: 1},
				},
				Neighbours: []NeighConfig{{Dev: "eth0", Addr: addr("2001:db8::9"), MAC: macB},
					{Netns: "c", Dev: "t0", Addr: addr("10.9.0.2"), MAC: macB}},
				Sockets: []SocketConfig{{Name: "tx", Netns: "c", Proto: ProtoUDP, Port: 40000, Mark: 5}},
				Entries: []EntryConfig{{Kind: EntryTX, Netns: "c", Socket: "tx"}},
				Programs: []ProgramConfig{{Name: "eg", Hook: carrier.HookTCEgress, Dev: "eth0",
					Prog: ProgramFunc(func(c *Ctx) int {
						h := c.Skb.H()
						got = append(got, seen{h.Mark, h.Hash, h.SWHash})
						return TCXNext
					})}},
			}
			s, te := newStack(t, cfg, "", nil, nil)
			f := buildFrame(frameOpts{src: "10.9.0.1", dst: "10.9.0.2", sport: 40000, dport: 9999, payload: 16, noEth: true})
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
			require.Empty(t, te.obs.dropReasons())
			require.Len(t, got, 1)
			require.Zero(t, got[0].mark, "skb_scrub_packet(skb, xnet = true)")
			require.NotZero(t, got[0].hash, "vxlan: udp_flow_src_port's skb_get_hash; ip6tnl: the flow label's hash")
			require.True(t, got[0].sw)
		})
	}
}

// TestTunnel6HashKept: ip6_make_flowlabel's skb_get_hash_flowi6 and
// udp_flow_src_port's skb_get_hash compute a hash only when the skb has
// neither an L4 nor a software hash (!skb->l4_hash && !skb->sw_hash): a
// software hash without L4 (a flow without ports, bpf or an earlier
// dissection) is kept and gives the label, a hash with neither flag (a
// device's L3 hash) is replaced by the flow's.
func TestTunnel6HashKept(t *testing.T) {
	const set = 0xabcd1234
	for _, tc := range []struct {
		name     string
		kind     string
		sw, l4   bool
		wantKept bool
	}{
		{"ip6tnl sw hash kept", KindIP6Tnl, true, false, true},
		{"ip6tnl l4 hash kept", KindIP6Tnl, false, true, true},
		{"ip6tnl l3 hash replaced", KindIP6Tnl, false, false, false},
		{"ip6gre sw hash kept", KindIP6GRE, true, false, true},
		{"vxlan6 sw hash kept", KindVXLAN, true, false, true},
		{"vxlan6 l3 hash replaced", KindVXLAN, false, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			type seen struct {
				hash  uint32
				label uint32
			}
			var got []seen
			cfg := &Config{
				Namespaces: []NamespaceConfig{{Name: "c"}},
				Devices: []DeviceConfig{
					{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("2001:db8::1/64")}},
					{Name: "t0", Kind: tc.kind, Netns: "c", LinkNetns: HostNetns, Addrs: []netip.Prefix{pfx("10.9.0.1/24")},
						Remote: addr("2001:db8::9"), VNI: 1},
				},
				Neighbours: []NeighConfig{{Dev: "eth0", Addr: addr("2001:db8::9"), MAC: macB},
					{Netns: "c", Dev: "t0", Addr: addr("10.9.0.2"), MAC: macB}},
				Sockets: []SocketConfig{{Name: "tx", Netns: "c", Proto: ProtoUDP, Port: 40000}},
				Entries: []EntryConfig{{Kind: EntryTX, Netns: "c", Socket: "tx"}},
				Programs: []ProgramConfig{
					{Name: "sethash", Hook: carrier.HookTCEgress, Netns: "c", Dev: "t0",
						Prog: ProgramFunc(func(c *Ctx) int {
							h := c.Skb.H()
							h.Hash, h.SWHash, h.L4Hash = set, tc.sw, tc.l4
							return TCXNext
						})},
					{Name: "eg", Hook: carrier.HookTCEgress, Dev: "eth0",
						Prog: ProgramFunc(func(c *Ctx) int {
							d := c.Skb.Data()
							got = append(got, seen{c.Skb.H().Hash, binary.BigEndian.Uint32(d[ethHlen:]) & 0xfffff})
							return TCXNext
						})},
				},
			}
			s, te := newStack(t, cfg, "", nil, nil)
			f := buildFrame(frameOpts{src: "10.9.0.1", dst: "10.9.0.2", sport: 40000, dport: 9999, payload: 16, noEth: true})
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
			require.Empty(t, te.obs.dropReasons())
			require.Len(t, got, 1)
			if tc.wantKept {
				require.Equal(t, uint32(set), got[0].hash)
				if tc.kind != KindVXLAN { // vxlan's outer label is the configured one (0)
					require.Equal(t, bits.RotateLeft32(set, 16)&0xfffff, got[0].label)
				}
				return
			}
			require.NotEqual(t, uint32(set), got[0].hash, "the flow's hash replaces a hash with neither flag")
		})
	}
}

// TestVXLAN4HashKept: the IPv4 vxlan's udp_flow_src_port takes the source
// port from skb_get_hash, which keeps a software hash and replaces a hash
// with neither flag (the outer port tells which hash it used, since
// iptunnel_xmit clears a non-L4 hash afterwards).
func TestVXLAN4HashKept(t *testing.T) {
	const set = 0xabcd1234
	for _, tc := range []struct {
		name     string
		sw       bool
		wantKept bool
	}{
		{"sw hash kept", true, true},
		{"l3 hash replaced", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var sports []uint16
			cfg := &Config{
				Namespaces: []NamespaceConfig{{Name: "c"}},
				Devices: []DeviceConfig{
					{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("192.0.2.1/24")}},
					{Name: "t0", Kind: KindVXLAN, Netns: "c", LinkNetns: HostNetns, Addrs: []netip.Prefix{pfx("10.9.0.1/24")},
						Remote: addr("192.0.2.9"), VNI: 1},
				},
				Neighbours: []NeighConfig{{Dev: "eth0", Addr: addr("192.0.2.9"), MAC: macB},
					{Netns: "c", Dev: "t0", Addr: addr("10.9.0.2"), MAC: macB}},
				Sockets: []SocketConfig{{Name: "tx", Netns: "c", Proto: ProtoUDP, Port: 40000}},
				Entries: []EntryConfig{{Kind: EntryTX, Netns: "c", Socket: "tx"}},
				Programs: []ProgramConfig{
					{Name: "sethash", Hook: carrier.HookTCEgress, Netns: "c", Dev: "t0",
						Prog: ProgramFunc(func(c *Ctx) int {
							h := c.Skb.H()
							h.Hash, h.SWHash, h.L4Hash = set, tc.sw, false
							return TCXNext
						})},
					{Name: "eg", Hook: carrier.HookTCEgress, Dev: "eth0",
						Prog: ProgramFunc(func(c *Ctx) int {
							sports = append(sports, binary.BigEndian.Uint16(c.Skb.Data()[ethHlen+ipHlen:]))
							return TCXNext
						})},
				},
			}
			s, te := newStack(t, cfg, "", nil, nil)
			f := buildFrame(frameOpts{src: "10.9.0.1", dst: "10.9.0.2", sport: 40000, dport: 9999, payload: 16, noEth: true})
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
			require.Empty(t, te.obs.dropReasons())
			require.Len(t, sports, 1)
			fromSet := udpFlowSrcPort(set, localPortLow, localPortHigh)
			if tc.wantKept {
				require.Equal(t, fromSet, sports[0])
			} else {
				require.NotEqual(t, fromSet, sports[0])
			}
		})
	}
}

// TestGRE6NoTunnelPulled: ip6_gre's gre_rcv runs iptunnel_pull_header
// before ip6gre_rcv's lookup, so a GRE packet for no tunnel (another key)
// reaches kfree_skb with data at the inner packet and a non-L4 hash
// cleared; a matching key is delivered.
func TestGRE6NoTunnelPulled(t *testing.T) {
	inner := buildFrame(frameOpts{src: "10.9.0.1", dst: "10.9.0.2", sport: 1, dport: 9999, payload: 32, noEth: true})
	for _, tc := range []struct {
		name    string
		key     uint32
		dropped bool
	}{
		{"matching key", 42, false},
		{"no tunnel with the key", 43, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			type seen struct {
				first byte
				hash  uint32
			}
			var got []seen
			cfg := decap6Config(KindIP6GRE, "")
			cfg.Programs = append(cfg.Programs,
				ProgramConfig{Name: "hash", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
					h := c.Skb.H()
					h.Hash, h.SWHash, h.L4Hash = 77, true, false
					return TCXNext
				})},
				ProgramConfig{Name: "tp", Hook: carrier.HookTracepoint, Event: EventKfreeSkb, Prog: ProgramFunc(func(c *Ctx) int {
					got = append(got, seen{c.Skb.Data()[0], c.Skb.H().Hash})
					return 0
				})})
			s, te := newStack(t, cfg, "", nil, nil)
			g := append(gre6Hdr(ethPIP, tc.key), inner...)
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: outer6(ipprotoGRE, g)}))
			s.Flush()
			if !tc.dropped {
				require.Empty(t, te.obs.dropReasons())
				require.Len(t, te.obs.delivs, 1)
				return
			}
			require.Equal(t, []string{"SKB_DROP_REASON_NOT_SPECIFIED@gre_rcv"}, te.obs.dropReasons())
			require.Equal(t, []seen{{0x45, 0}}, got)
		})
	}
}

// TestUDPFlowSrcPort pins udp_flow_src_port's arithmetic: the hash folded
// with hash ^= hash << 16 and scaled into [min, max), so only its upper
// 16 bits (after folding) decide; vxlan uses the local port range,
// geneve 1..USHRT_MAX.
func TestUDPFlowSrcPort(t *testing.T) {
	for _, tc := range []struct {
		hash   uint32
		lo, hi int
		want   uint16
	}{
		{0x12345678, localPortLow, localPortHigh, 40299},
		{0xffffffff, localPortLow, localPortHigh, 32768}, // folds to 0x0000ffff
		{0, localPortLow, localPortHigh, 32768},
		{0x0000ffff, 1, 65535, 65534}, // folds to 0xffffffff
		{0xabcd0000, 1, 65535, 43980},
	} {
		assert.Equal(t, tc.want, udpFlowSrcPort(tc.hash, tc.lo, tc.hi), "hash %#x in [%d, %d)", tc.hash, tc.lo, tc.hi)
	}
	vx, gn := &Device{kind: KindVXLAN}, &Device{kind: KindGeneve}
	for h := uint32(1); h < 1<<31; h = h*3 + 7 {
		p := udpTunnelSrcPort(vx, h)
		assert.True(t, p >= localPortLow && p < localPortHigh, "vxlan port %d for hash %#x", p, h)
		p = udpTunnelSrcPort(gn, h)
		assert.True(t, p >= 1, "geneve port %d for hash %#x", p, h)
	}
}

// TestUDPTunnelOuterDF: vxlan and geneve leave the outer DF bit clear with
// their default df setting (VXLAN_DF_UNSET, GENEVE_DF_UNSET), so an outer
// packet above the underlay MTU is fragmented by ip_output (ip_do_fragment)
// instead of being refused; 6.18 fragments it the same way (the
// vxlan-frag-reasm transition's kernel run).
func TestUDPTunnelOuterDF(t *testing.T) {
	for _, kind := range []string{KindVXLAN, KindGeneve} {
		t.Run(kind, func(t *testing.T) {
			type frag struct {
				df, mf bool
				off    int
			}
			var frags []frag
			cfg := &Config{
				Namespaces: []NamespaceConfig{{Name: "c"}},
				Devices: []DeviceConfig{
					{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("192.0.2.1/24")}},
					{Name: "t0", Kind: kind, Netns: "c", LinkNetns: HostNetns, Addrs: []netip.Prefix{pfx("10.9.0.1/24")},
						Remote: addr("192.0.2.9"), VNI: 1, MTU: 9000},
				},
				Neighbours: []NeighConfig{{Dev: "eth0", Addr: addr("192.0.2.9"), MAC: macB},
					{Netns: "c", Dev: "t0", Addr: addr("10.9.0.2"), MAC: macB}},
				Sockets: []SocketConfig{{Name: "tx", Netns: "c", Proto: ProtoUDP, Port: 40000}},
				Entries: []EntryConfig{{Kind: EntryTX, Netns: "c", Socket: "tx"}},
				Programs: []ProgramConfig{{Name: "eg", Hook: carrier.HookTCEgress, Dev: "eth0",
					Prog: ProgramFunc(func(c *Ctx) int {
						ff := binary.BigEndian.Uint16(c.Skb.Data()[ethHlen+6:])
						frags = append(frags, frag{ff&ipDF != 0, ff&ipMF != 0, int(ff&ipOffset) * 8})
						return TCXNext
					})}},
			}
			s, te := newStack(t, cfg, "", nil, nil)
			f := buildFrame(frameOpts{src: "10.9.0.1", dst: "10.9.0.2", sport: 40000, dport: 9999, payload: 2000, noEth: true})
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
			require.Empty(t, te.obs.dropReasons())
			require.Len(t, frags, 2, "the outer packet is fragmented for eth0's MTU of 1500")
			assert.Equal(t, frag{false, true, 0}, frags[0])
			assert.False(t, frags[1].df || frags[1].mf)
			assert.Positive(t, frags[1].off)
		})
	}
}

// TestUDP6ZeroChecksum: __udp6_lib_rcv drops an IPv6 datagram whose UDP
// checksum is 0 (UDP_CSUM) unless the socket has no_check6_rx: a vxlan
// device's socket with udp6zerocsumrx takes the packet, one without drops
// it, and so does a plain socket.
func TestUDP6ZeroChecksum(t *testing.T) {
	zero := func(f []byte) []byte {
		binary.BigEndian.PutUint16(f[ethHlen+ip6Hlen+6:], 0)
		return f
	}
	for _, tc := range []struct {
		name   string
		zeroRx bool
		frame  []byte
		sock   int
		drop   string
	}{
		{"vxlan, checksum", false, udpTunnel6Frame(false, defaultVXLANPort, 42), 0, ""},
		{"vxlan, zero", false, zero(udpTunnel6Frame(false, defaultVXLANPort, 42)), -1, "SKB_DROP_REASON_UDP_CSUM@__udp6_lib_rcv"},
		{"vxlan, zero, udp6zerocsumrx", true, zero(udpTunnel6Frame(false, defaultVXLANPort, 42)), 0, ""},
		{"plain socket, zero", false, zero(buildFrame6(frame6{dstMAC: macNIC, srcMAC: macB, src: "2001:db8::9", dst: "2001:db8::1", dport: 9998, payload: 32})), -1,
			"SKB_DROP_REASON_UDP_CSUM@__udp6_lib_rcv"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := decap6Config(KindVXLAN, HostNetns)
			cfg.Devices[1].UDP6ZeroCsumRx = tc.zeroRx
			s, te := newStack(t, cfg, "", nil, nil)
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: tc.frame}))
			s.Flush()
			if tc.drop != "" {
				require.Equal(t, []string{tc.drop}, te.obs.dropReasons())
				return
			}
			require.Empty(t, te.obs.dropReasons())
			require.Equal(t, uint64(1), te.obs.delivered(DeliverSocket))
		})
	}
}
