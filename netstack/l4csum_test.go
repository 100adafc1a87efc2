package netstack

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/skb"
)

// TestSocketChecksums: a socket's UDP datagram leaves CHECKSUM_PARTIAL
// with the pseudo-header sum in its check field; through a device without
// transmit checksum offload validate_xmit_skb completes it (CHECKSUM_NONE,
// a valid checksum), for each GSO segment on its own; a datagram above the
// MTU (a frag_list, no offload) carries its full checksum from the start.
func TestSocketChecksums(t *testing.T) {
	type seen struct {
		summed skb.IPSummed
		valid  bool // the check field completes the sum
		pseudo bool // the check field is the pseudo-header sum
	}
	for _, tc := range []struct {
		name    string
		tx      string
		segment int
		payload int
		want    []seen
	}{
		{"offload", "", 0, 200, []seen{{skb.ChecksumPartial, false, true}}},
		{"no offload", "off", 0, 200, []seen{{skb.ChecksumNone, true, false}}},
		{"no offload, UDP_SEGMENT", "off", 100, 300, []seen{
			{skb.ChecksumNone, true, false}, {skb.ChecksumNone, true, false}, {skb.ChecksumNone, true, false}}},
		{"offload, UDP_SEGMENT", "", 100, 300, []seen{{skb.ChecksumPartial, false, true}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []seen
			cfg := &Config{
				Namespaces: []NamespaceConfig{{Name: "A"}, {Name: "B"}},
				Devices: []DeviceConfig{{Name: "vA", Kind: KindVeth, Netns: "A", MAC: macA, TxChecksum: tc.tx,
					Addrs: []netip.Prefix{pfx("192.0.2.1/24")}, Peer: "vB", PeerNetns: "B", PeerMAC: macB,
					PeerAddrs: []netip.Prefix{pfx("192.0.2.2/24")}}},
				Neighbours: []NeighConfig{{Netns: "A", Dev: "vA", Addr: addr("192.0.2.2"), MAC: macB}},
				Sockets: []SocketConfig{{Name: "tx", Netns: "A", Proto: ProtoUDP, Port: 40000, UDPSegment: tc.segment},
					{Name: "rx", Netns: "B", Proto: ProtoUDP, Port: 9999, UDPGRO: true}},
				Entries: []EntryConfig{{Kind: EntryTX, Netns: "A", Socket: "tx"}},
				Programs: []ProgramConfig{{Name: "in", Hook: carrier.HookTCIngress, Netns: "B", Dev: "vB",
					Prog: ProgramFunc(func(c *Ctx) int {
						b := c.Skb
						d := make([]byte, b.Len())
						require.NoError(t, b.CopyBits(0, d))
						ip := d[ethHlen:]
						ihl := int(ip[0]&0xf) * 4
						tot := int(binary.BigEndian.Uint16(ip[2:4]))
						ps := pseudoSum(ip, ipprotoUDP, tot-ihl)
						check := binary.BigEndian.Uint16(ip[ihl+6:])
						got = append(got, seen{b.H().IPSummed, csumFold(csumAdd(ps, ip[ihl:tot])) == 0xffff, check == csumFold(ps)})
						return TCXNext
					})}},
			}
			s, te := newStack(t, cfg, "", nil, nil)
			frame := buildFrame(frameOpts{src: "192.0.2.1", dst: "192.0.2.2", sport: 40000, dport: 9999, payload: tc.payload, noEth: true})
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: frame}))
			s.Flush()
			require.Equal(t, tc.want, got)
			require.Empty(t, te.obs.dropReasons())
		})
	}
}

// TestReceiveChecksum: a packet without checksum state (an skb built from
// an XDP frame) whose UDP or TCP checksum is bad is dropped where the
// kernel completes it: at once when short, without a socket, before a
// socket filter or a tunnel's encap_rcv, otherwise when the application
// reads the datagram (UDP) or after the socket's filters (TCP).
func TestReceiveChecksum(t *testing.T) {
	for _, tc := range []struct {
		name    string
		proto   uint8
		payload int
		dport   uint16
		filter  bool
		good    bool
		drop    string
	}{
		{"udp short", ipprotoUDP, 16, 9999, false, false, "SKB_DROP_REASON_UDP_CSUM@__udp4_lib_rcv"},
		{"udp long, read", ipprotoUDP, 200, 9999, false, false, "SKB_DROP_REASON_UDP_CSUM@skb_consume_udp"},
		{"udp long, socket filter", ipprotoUDP, 200, 9999, true, false, "SKB_DROP_REASON_UDP_CSUM@__udp4_lib_rcv"},
		{"udp long, no socket", ipprotoUDP, 200, 7, false, false, "SKB_DROP_REASON_UDP_CSUM@__udp4_lib_rcv"},
		{"udp good", ipprotoUDP, 200, 9999, false, true, ""},
		{"tcp long", ipprotoTCP, 200, 80, false, false, "SKB_DROP_REASON_TCP_CSUM@tcp_v4_rcv"},
		{"tcp long, no socket", ipprotoTCP, 200, 81, false, false, "SKB_DROP_REASON_TCP_CSUM@tcp_v4_rcv"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &Config{
				Devices: []DeviceConfig{{Name: "eth0", Kind: KindNIC, MAC: macNIC, XDP: "native", GRO: "off",
					Addrs: []netip.Prefix{pfx("192.0.2.1/24")}}},
				Sockets: []SocketConfig{{Name: "u", Proto: ProtoUDP, Port: 9999}, {Name: "t", Proto: ProtoTCP, Port: 80}},
				Cpumaps: []CpumapConfig{{Name: "cpus", Entries: []CpumapEntryConfig{{CPU: 0, QSize: 8}}}},
				Programs: []ProgramConfig{{Name: "xdp", Hook: carrier.HookXDP, Dev: "eth0",
					Actions: []Action{{Kind: ActRedirectCPU, Target: "cpus"}}}},
			}
			if tc.filter {
				cfg.Programs = append(cfg.Programs, ProgramConfig{Name: "f", Hook: carrier.HookSocketFilter, Socket: "u",
					Actions: []Action{{Kind: ActCount}}})
			}
			s, te := newStack(t, cfg, "", nil, nil)
			f := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "192.0.2.1", proto: tc.proto,
				sport: 5000, dport: tc.dport, payload: tc.payload, tcpFlags: tcpSYN})
			ip := f[ethHlen:]
			ihl := int(ip[0]&0xf) * 4
			co := l4CheckOffset(tc.proto)
			ip[ihl+co], ip[ihl+co+1] = 0, 0
			c := ^csumFold(csumAdd(pseudoSum(ip, tc.proto, len(ip)-ihl), ip[ihl:]))
			if !tc.good {
				c ^= 0x5a5a
			}
			binary.BigEndian.PutUint16(ip[ihl+co:], c)
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
			s.Flush()
			var drops []string
			for _, r := range te.obs.dropReasons() {
				if r != "SKB_DROP_REASON_NO_SOCKET@tcp_v4_rcv" {
					drops = append(drops, r)
				}
			}
			if tc.good {
				require.Empty(t, drops)
				return
			}
			require.Equal(t, []string{tc.drop}, drops)
		})
	}
}

// TestCsumAdd: csumAdd's 32-bit accumulation folds to the 16-bit one's
// complement sum of RFC 1071, for every length and alignment.
func TestCsumAdd(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		b := rapid.SliceOfN(rapid.Byte(), 0, 3000).Draw(rt, "bytes")
		start := rapid.Uint64Range(0, 1<<40).Draw(rt, "sum")
		want := start
		for i := 0; i < len(b); i += 2 {
			w := uint64(b[i]) << 8
			if i+1 < len(b) {
				w |= uint64(b[i+1])
			}
			want += w
		}
		for want>>16 != 0 {
			want = want&0xffff + want>>16
		}
		require.Equal(t, uint16(want), csumFold(csumAdd(start, b)))
	})
}

// TestCaptureCsumOffload: a frame captured on a host with transmit
// checksum offload holds a partial checksum. Redirected into a cpumap, the
// skb built from it has no checksum state, so UDP drops it, unless the
// capture is declared as such (Options.CaptureCsumOffload): the driver then
// completes the checksum the sender's NIC wrote on the wire.
func TestCaptureCsumOffload(t *testing.T) {
	for _, offload := range []bool{false, true} {
		cfg := &Config{
			Devices: []DeviceConfig{{Name: "eth0", Kind: KindNIC, MAC: macNIC, XDP: "native",
				Addrs: []netip.Prefix{pfx("192.0.2.1/24")}}},
			Sockets: []SocketConfig{{Name: "u", Proto: ProtoUDP, Port: 9999}},
			Cpumaps: []CpumapConfig{{Name: "cpus", Entries: []CpumapEntryConfig{{CPU: 0, QSize: 8}}}},
			Programs: []ProgramConfig{{Name: "xdp", Hook: carrier.HookXDP, Dev: "eth0",
				Actions: []Action{{Kind: ActRedirectCPU, Target: "cpus"}}}},
			Options: Options{CaptureCsumOffload: offload},
		}
		s, te := newStack(t, cfg, "", nil, nil)
		f := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "192.0.2.1", sport: 5000, dport: 9999, payload: 200})
		ip := f[ethHlen:]
		binary.BigEndian.PutUint16(ip[ipHlen+6:], csumFold(pseudoSum(ip, ipprotoUDP, len(ip)-ipHlen))) // the partial checksum
		require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
		s.Flush()
		if offload {
			require.Empty(t, te.obs.dropReasons())
			continue
		}
		require.Equal(t, []string{"SKB_DROP_REASON_UDP_CSUM@skb_consume_udp"}, te.obs.dropReasons())
	}
}

// TestGROAggregateChecksum: napi_gro_complete leaves an aggregate's
// checksum to whoever sends or delivers it: a TCP aggregate and a UDP one
// (rx-udp-gro-forwarding) become CHECKSUM_PARTIAL at their L4 header with
// the pseudo-header sum of the aggregate's length in the check field
// (tcp4_gro_complete, udp4_gro_complete); a fraglist aggregate keeps its
// segments' checksums and stays CHECKSUM_UNNECESSARY; a single segment is
// not completed at all.
func TestGROAggregateChecksum(t *testing.T) {
	for _, tc := range []struct {
		name      string
		proto     uint8
		n         int
		fwd, list bool
		summed    skb.IPSummed
		pseudo    bool // the check field holds the pseudo-header sum
	}{
		{name: "tcp", proto: ipprotoTCP, n: 4, summed: skb.ChecksumPartial, pseudo: true},
		{name: "tcp single", proto: ipprotoTCP, n: 1, summed: skb.ChecksumUnnecessary},
		{name: "udp forwarding", proto: ipprotoUDP, n: 4, fwd: true, summed: skb.ChecksumPartial, pseudo: true},
		{name: "udp fraglist", proto: ipprotoUDP, n: 4, list: true, summed: skb.ChecksumUnnecessary},
	} {
		t.Run(tc.name, func(t *testing.T) {
			type seen struct {
				summed skb.IPSummed
				start  int // csum_start from the network header
				check  uint16
				want   uint16 // the pseudo-header sum of the skb's L4 length
			}
			var got []seen
			cfg := &Config{
				Namespaces: []NamespaceConfig{{Name: HostNetns, Forwarding: true}},
				Devices: []DeviceConfig{
					{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("192.0.2.1/24")}, UDPGROForwarding: tc.fwd, GROList: tc.list},
					{Name: "eth1", Kind: KindNIC, MAC: macA, Addrs: []netip.Prefix{pfx("198.51.100.1/24")}},
				},
				Routes:     []RouteConfig{{Dst: pfx("203.0.113.0/24"), Dev: "eth1", Via: addr("198.51.100.2")}},
				Neighbours: []NeighConfig{{Dev: "eth1", Addr: addr("198.51.100.2"), MAC: macB}},
				Programs: []ProgramConfig{{Name: "in", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
					b := c.Skb
					d := b.Data()[ethHlen:] // tc ingress: data at the mac header
					l4 := ipHlen
					co := l4CheckOffset(tc.proto)
					got = append(got, seen{b.H().IPSummed, b.CsumStart() - b.Headroom() - ethHlen, binary.BigEndian.Uint16(d[l4+co:]),
						csumFold(pseudoSum(d, tc.proto, b.Len()-ethHlen-l4))})
					return TCXNext
				})}},
			}
			s, te := newStack(t, cfg, "", nil, nil)
			for i := range tc.n {
				o := frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "203.0.113.7", proto: tc.proto,
					sport: 5000, dport: 443, seq: uint32(1000 + 100*i), tcpFlags: tcpACK, payload: 100, id: uint16(i)}
				f := udpCsumFrame(o)
				if tc.proto == ipprotoTCP {
					f = buildFrame(o)
				}
				require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: f, Hash: 0xabc}))
			}
			s.Flush()
			require.Empty(t, te.obs.dropReasons())
			require.Len(t, got, 1)
			require.Equal(t, tc.summed, got[0].summed)
			if tc.pseudo {
				require.Equal(t, ipHlen, got[0].start, "csum_start at the L4 header")
				require.Equal(t, got[0].want, got[0].check)
			} else {
				require.NotEqual(t, got[0].want, got[0].check)
			}
		})
	}
}

// TestRxChecksumOff: with the NIC's receive checksum offload
// (rx_checksum, the default) its frames are CHECKSUM_UNNECESSARY and a
// captured bad TCP checksum goes unnoticed; without it the frames are
// CHECKSUM_NONE, GRO checks them in software and the bad one is dropped
// by TCP receive (TCP_CSUM).
func TestRxChecksumOff(t *testing.T) {
	for _, tc := range []struct {
		rx     string
		drops  []string
		bad    uint64
		summed uint64 // csum_byte: bytes checked in software
	}{
		{"", nil, 0, 0},
		// GRO's check, then tcp_v4_rcv's: the 120 TCP bytes twice.
		{"off", []string{"SKB_DROP_REASON_TCP_CSUM@tcp_v4_rcv"}, 1, 240},
	} {
		cfg := &Config{
			Devices: []DeviceConfig{{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("192.0.2.1/24")}, RxChecksum: tc.rx}},
			Sockets: []SocketConfig{{Name: "web", Proto: ProtoTCP, Port: 443}},
		}
		s, te := newStack(t, cfg, "", nil, nil)
		f := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "192.0.2.1", proto: ipprotoTCP,
			sport: 5000, dport: 443, seq: 1000, tcpFlags: tcpACK, payload: 100})
		th := f[ethHlen+ipHlen:]
		l4Csum(f[ethHlen:], th, ipprotoTCP)
		th[16] ^= 0xff
		require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
		s.Flush()
		require.Equal(t, tc.drops, te.obs.dropReasons(), "rx_checksum %q", tc.rx)
		require.Equal(t, tc.bad, s.Stats().GROCsumBad)
		require.Equal(t, tc.summed, te.a.Accountant().Ops()[cost.OpCsumByte], "csum_byte")
	}
}
