package netstack

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/kernel/observe"
	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/skb"
)

// TestGSOFragListSplit: a NIC with native XDP builds page-fragment heads
// (napi_build_skb), so GRO steals 17 of them as fragments of the held skb
// and chains the next on its frag_list, where the following ones become
// that list skb's fragments. An uplink with TSO but without
// NETIF_F_FRAGLIST cannot take the frag_list: validate_xmit_skb segments,
// and since the list skbs are as long as the head's own bytes
// (net_gso_ok), skb_segment splits the aggregate along the list into GSO
// skbs of 18 segments, whose sequence numbers and IP identifications step
// by 18 segments (tcp_gso_segment, inet_gso_segment). When the lengths do
// not line up it is cut into single segments; with tx_fraglist on it
// leaves whole.
func TestGSOFragListSplit(t *testing.T) {
	const mss = 100
	for _, tc := range []struct {
		n        int
		fragList string
		want     []uint16 // gso_segs of each skb on the wire (0: one segment)
	}{
		{38, "", []uint16{18, 18, 2}},
		{20, "", repeatSegs(20)},
		{38, "on", []uint16{38}},
	} {
		t.Run(fmt.Sprintf("%d segments tx_fraglist %q", tc.n, tc.fragList), func(t *testing.T) {
			cfg := routerConfig(DeviceConfig{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("192.0.2.1/24")}}, false)
			cfg.Devices[1].TxFragList = tc.fragList
			cfg.Programs = []ProgramConfig{{Name: "xdp", Hook: carrier.HookXDP, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int { return XDPPass })}}
			s, te := newStack(t, cfg, "", nil, nil)
			for i := range tc.n {
				f := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "203.0.113.7", proto: ipprotoTCP,
					sport: 5000, dport: 443, seq: uint32(1000 + mss*i), tcpFlags: tcpACK, payload: mss, id: uint16(50 + i)})
				require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: f, Hash: 0xabc}))
			}
			s.Flush()
			require.Empty(t, te.obs.dropReasons())
			var got []uint16
			seq, id := uint32(1000), uint16(50)
			for i, q := range s.taps[0].q {
				b := q.b
				sh := b.Shinfo()
				segs := uint16(1)
				if sh.GSOSize != 0 {
					segs = sh.GSOSegs
					require.Equal(t, uint16(mss), sh.GSOSize, "skb %d", i)
					got = append(got, sh.GSOSegs)
				} else {
					got = append(got, 0)
				}
				d := b.Data()
				ip := d[ethHlen:]
				require.Equal(t, ipHlen+20+int(segs)*mss, int(binary.BigEndian.Uint16(ip[2:4])), "skb %d: tot_len", i)
				require.Equal(t, id, binary.BigEndian.Uint16(ip[4:6]), "skb %d: identification", i)
				require.Zero(t, ipCsum(ip[:ipHlen]), "skb %d", i)
				require.Equal(t, seq, binary.BigEndian.Uint32(ip[ipHlen+4:]), "skb %d: sequence number", i)
				require.Equal(t, ipHlen+20+int(segs)*mss, b.Len()-ethHlen, "skb %d", i)
				seq += uint32(segs) * mss
				id += segs
			}
			want := tc.want
			if len(want) == 1 && want[0] == uint16(tc.n) {
				require.True(t, s.taps[0].q[0].b.HasFragList(), "sent whole, frag_list and all")
			}
			for i, w := range want {
				if w == 1 {
					want[i] = 0
				}
			}
			require.Equal(t, want, got)
		})
	}
}

// repeatSegs is n single-segment skbs.
func repeatSegs(n int) []uint16 { return make([]uint16, n) }

// TestFragListLinearize: an skb with a frag_list that is not a GSO skb,
// sent through a device without NETIF_F_FRAGLIST, is linearized in
// validate_xmit_skb (skb_needs_linearize -> __skb_linearize); a device
// with it (veth) takes it as it is.
func TestFragListLinearize(t *testing.T) {
	for _, tc := range []struct {
		dev    string
		linear bool
	}{{"eth1", true}, {"veth0", false}} {
		t.Run(tc.dev, func(t *testing.T) {
			var dataLen []int
			cfg := routerConfig(DeviceConfig{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("192.0.2.1/24")}}, false,
				DeviceConfig{Name: "veth0", Kind: KindVeth, Peer: "veth1", Addrs: []netip.Prefix{pfx("10.1.0.1/24")}})
			cfg.Taps = append(cfg.Taps, TapConfig{Name: "v", Dev: "veth0", Dir: TapTX, Hold: true})
			s, te := newStack(t, cfg, "", nil, nil)
			d := s.nss[0].dev(tc.dev)
			b := fragListSkb(t, te.a)
			s.devQueueXmit(b, d)
			for _, tp := range s.taps {
				for _, q := range tp.q {
					dataLen = append(dataLen, q.b.DataLen())
				}
			}
			require.Len(t, dataLen, 1)
			if tc.linear {
				require.Zero(t, dataLen[0])
				require.Equal(t, uint64(1), s.Stats().Linearized)
			} else {
				require.Equal(t, 300, dataLen[0])
				require.Zero(t, s.Stats().Linearized)
			}
			require.Empty(t, te.obs.dropReasons())
		})
	}
}

// fragListSkb is a 14+20+8 byte header block and 100 bytes of UDP payload
// in the head, with 3 skbs of 100 bytes on its frag_list; data at the mac
// header.
func fragListSkb(t *testing.T, a *skb.Allocator) *skb.Buff {
	t.Helper()
	f := buildFrame(frameOpts{dstMAC: macB, srcMAC: macA, src: "198.51.100.1", dst: "203.0.113.7", payload: 400})
	b, err := a.AllocSkb(64 + len(f) - 300)
	require.NoError(t, err)
	b.Reserve(64)
	b.PutData(f[:len(f)-300])
	for i := range 3 {
		m, err := a.AllocSkb(100)
		require.NoError(t, err)
		m.PutData(f[len(f)-300+100*i : len(f)-200+100*i])
		b.AppendFragList(m)
	}
	b.ResetMacHeader()
	b.SetNetworkHeader(ethHlen)
	b.ResetMacLen()
	b.H().Protocol = ethPIP
	return b
}

// TestGROForwardFragList: the copy-break driver's small heads are
// kmalloc'ed, so GRO merges a forwarded flow on the aggregate's
// frag_list. An uplink with NETIF_F_FRAGLIST sends it whole; one without
// has skb_segment cut it, each segment a copy of the aggregate's headers
// (TTL 63 on every one) with its own sequence number and length. The
// kernel agrees (TestKernelGROFragListForward, veth with and without
// tx-scatter-gather-fraglist).
func TestGROForwardFragList(t *testing.T) {
	for _, tc := range []struct {
		fragList string
		lens     []int
		ttls     []uint8
		seqs     []uint32
	}{
		{"on", []int{440}, []uint8{63}, []uint32{1000}},
		{"off", []int{140, 140, 140, 140}, []uint8{63, 63, 63, 63}, []uint32{1000, 1100, 1200, 1300}},
	} {
		t.Run(tc.fragList, func(t *testing.T) {
			cfg := routerConfig(DeviceConfig{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("192.0.2.1/24")}}, false)
			cfg.Devices[1].TxFragList = tc.fragList
			s, te := newStack(t, cfg, "", nil, nil)
			for i := range 4 {
				f := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "203.0.113.7", proto: ipprotoTCP,
					sport: 5000, dport: 443, seq: uint32(1000 + 100*i), tcpFlags: tcpACK, payload: 100, id: uint16(100 + i), fragOff: ipDF})
				require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: f, Hash: 0xabc}))
			}
			s.Flush()
			require.Empty(t, te.obs.dropReasons())
			var (
				lens []int
				ttls []uint8
				seqs []uint32
			)
			for _, q := range s.taps[0].q {
				d := q.b.Data()
				lens = append(lens, int(binary.BigEndian.Uint16(d[ethHlen+2:])))
				ttls = append(ttls, d[ethHlen+8])
				seqs = append(seqs, binary.BigEndian.Uint32(d[ethHlen+ipHlen+4:]))
			}
			require.Equal(t, tc.lens, lens)
			require.Equal(t, tc.ttls, ttls)
			require.Equal(t, tc.seqs, seqs)
		})
	}
}

// TestXDPGenericFragsMacLen: as measured (kernel's
// TestKernelGenericXDPFragsMacLen), a UDP GSO skb of 40 segments passed by
// a generic XDP program on vB reaches tc ingress linearized, from its
// Ethernet header; with a multi-buffer program (v6.9) it is a page-pool
// copy whose skb_copy_header left mac_len at 0, so tc ingress sees it from
// the IPv4 header, with SKB_WITH_OVERHEAD(PAGE_SIZE - XDP_PACKET_HEADROOM)
// - 14 linear bytes. Before v6.9 a multi-buffer program is linearized too.
func TestXDPGenericFragsMacLen(t *testing.T) {
	for _, tc := range []struct {
		profile string
		frags   bool
		first   byte
		headlen int
		len     int
	}{
		{"", false, transitionMACs["vB"][0], 4042, 4042},
		{"", true, 0x45, 3520 - 14, 4042 - 14},
		{"v6.6", true, transitionMACs["vB"][0], 4042, 4042},
	} {
		t.Run(fmt.Sprintf("%q frags %v", tc.profile, tc.frags), func(t *testing.T) {
			tr := observe.Transition{Name: "xdp-generic-mac-len", Topology: observe.TopoPair, Segments: 40,
				Actions: []observe.Action{{Hook: observe.Hook{Dev: "vB", Point: observe.XDP}, Generic: true}}}
			cfg, dst, err := TransitionConfig(tr)
			require.NoError(t, err)
			var (
				first   []byte
				headlen []int
				length  []int
			)
			cfg.Programs = []ProgramConfig{
				{Name: "xdp", Hook: carrier.HookXDP, Dev: "vB", Netns: "B", XDPFrags: tc.frags, Actions: []Action{{Kind: ActCount}}},
				{Name: "tc", Hook: carrier.HookTCIngress, Dev: "vB", Netns: "B", Prog: ProgramFunc(func(c *Ctx) int {
					if c.Skb.Len() > 1000 {
						first = append(first, c.Skb.Data()[0])
						headlen = append(headlen, c.Skb.Headlen())
						length = append(length, c.Skb.Len())
					}
					return TCXNext
				})},
			}
			s, te := newStack(t, cfg, tc.profile, nil, nil)
			require.NoError(t, s.Inject(&Packet{Frame: transitionFrame(s, tr, dst)}))
			s.Flush()
			// IP and UDP find the headers where they are: the datagram
			// reaches UDP, where no socket listens.
			require.Equal(t, []string{"SKB_DROP_REASON_NO_SOCKET@__udp4_lib_rcv"}, te.obs.dropReasons())
			require.Equal(t, []byte{tc.first}, first)
			require.Equal(t, []int{tc.headlen}, headlen)
			require.Equal(t, []int{tc.len}, length)
			st := s.Stats()
			if tc.first == 0x45 {
				require.Equal(t, [2]uint64{0, 1}, [2]uint64{st.Linearized, st.XDPCopies}, "a page-pool copy")
			} else {
				require.Equal(t, [2]uint64{1, 0}, [2]uint64{st.Linearized, st.XDPCopies}, "linearized")
			}
		})
	}
}

// TestSegmentTunnelInnerIPOptions: inet_gso_segment takes an IPv4 header
// with options, inner or outer: an encapsulated TCP GSO skb whose inner
// header has 4 bytes of options is cut with the options copied into every
// segment and each segment's inner tot_len, identification and checksum
// fixed over the whole header.
func TestSegmentTunnelInnerIPOptions(t *testing.T) {
	cfg := routerConfig(DeviceConfig{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("192.0.2.1/24")}}, true)
	s, te := newStack(t, cfg, "", nil, nil)
	const (
		inIHL = ipHlen + 4
		inNet = ethHlen + ipHlen + udpHlen + vxlanHlen + ethHlen
		inTr  = inNet + inIHL
		hdrs  = inTr + 20
		mss   = 100
	)
	frame := make([]byte, hdrs+3*mss)
	writeEth(frame, macB, macA, ethPIP)
	writeIPv4(frame[ethHlen:], 0, len(frame)-ethHlen, 50, true, 64, ipprotoUDP, addr("198.51.100.1"), addr("198.51.100.9"))
	writeUDP(frame[ethHlen+ipHlen:], 40000, 4789, len(frame)-ethHlen-ipHlen)
	frame[ethHlen+ipHlen+udpHlen] = 0x08 // VXLAN I flag
	writeEth(frame[inNet-ethHlen:], macA, macB, ethPIP)
	writeIPv4(frame[inNet:], 0, len(frame)-inNet, 7, true, 64, ipprotoTCP, addr("10.9.0.1"), addr("10.9.0.7"))
	frame[inNet] = 0x46                                        // ihl 6
	copy(frame[inNet+ipHlen:], []byte{0x94, 0x04, 0x00, 0x00}) // router alert
	setIPCsum(frame[inNet:], inIHL)
	th := frame[inTr:]
	binary.BigEndian.PutUint32(th[4:8], 1000)
	th[12], th[13] = 5<<4, tcpACK|tcpPSH
	b, err := te.a.AllocSkb(128 + len(frame))
	require.NoError(t, err)
	b.Reserve(128)
	b.PutData(frame)
	b.ResetMacHeader()
	b.SetNetworkHeader(ethHlen)
	b.SetTransportHeader(ethHlen + ipHlen)
	b.SetInnerHeaders(inNet-ethHlen, inNet, inTr)
	b.ResetMacLen()
	b.H().Protocol = ethPIP
	b.H().Encapsulation = true
	sh := b.Shinfo()
	sh.GSOSize, sh.GSOSegs, sh.GSOType = mss, 3, skb.GSOTCPv4|skb.GSOUDPTunnel

	start, ok := s.segmentGSO(b, 0)
	require.True(t, ok, "inet_gso_segment takes IPv4 options")
	segs := s.segs[start:]
	require.Len(t, segs, 3)
	for i, g := range segs {
		d := g.Data()
		require.Equal(t, hdrs+mss, len(d), "segment %d", i)
		require.Equal(t, frame[inNet+ipHlen:inTr], d[inNet+ipHlen:inTr], "segment %d: the options", i)
		require.Equal(t, uint16(inIHL+20+mss), binary.BigEndian.Uint16(d[inNet+2:]), "segment %d: inner tot_len", i)
		require.Equal(t, uint16(7+i), binary.BigEndian.Uint16(d[inNet+4:]), "segment %d: inner identification", i)
		require.Zero(t, ipCsum(d[inNet:inTr]), "segment %d: inner checksum over the options", i)
		require.Equal(t, uint32(1000+mss*i), binary.BigEndian.Uint32(d[inTr+4:]), "segment %d", i)
		require.Equal(t, uint16(len(d)-ethHlen-ipHlen), binary.BigEndian.Uint16(d[ethHlen+ipHlen+4:]), "segment %d: outer UDP length", i)
		require.Zero(t, ipCsum(d[ethHlen:ethHlen+ipHlen]))
		g.ConsumeSkb()
		s.segs[start+i] = nil
	}
	s.segs = s.segs[:start]
	b.ConsumeSkb()
}

// TestGROVXLANFragListSplit: a NIC with native XDP builds page-fragment
// heads, so GRO of 38 transit VXLAN packets puts 18 in the held skb (its
// own and 17 stolen heads) and chains the rest on its frag_list in two
// list skbs. eth1 has tunnel TSO but not NETIF_F_FRAGLIST: software GSO
// (skb_udp_tunnel_segment, net_gso_ok with hw_enc_features) splits the
// aggregate along its list into three encapsulated GSO skbs of 18, 18 and
// 2 segments, whose inner sequence numbers and both identifications step
// by their segment counts and whose outer lengths are their own.
func TestGROVXLANFragListSplit(t *testing.T) {
	cfg := routerConfig(DeviceConfig{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("192.0.2.254/24")}}, false,
		DeviceConfig{Name: "vx0", Kind: KindVXLAN, MAC: macB, VNI: 7, Remote: addr("198.51.100.9")})
	cfg.Programs = []ProgramConfig{{Name: "xdp", Hook: carrier.HookXDP, Dev: "eth0", Actions: []Action{{Kind: ActCount}}}}
	s, te := newStack(t, cfg, "", nil, nil)
	for i := range 38 {
		f := vxlanFrame(i, vxSeg{outerID: uint16(10 + i), innerID: uint16(100 + i)})
		require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: f, Hash: 0xabc}))
	}
	s.Flush()
	require.Empty(t, te.obs.dropReasons())
	const inner = ethHlen + ipHlen + udpHlen + vxlanHlen + ethHlen
	var segs []uint16
	seq, n := uint32(1000), uint16(0)
	for i, q := range s.taps[0].q {
		b := q.b
		sh := b.Shinfo()
		require.True(t, b.H().Encapsulation, "skb %d", i)
		require.NotZero(t, sh.GSOType&skb.GSOUDPTunnel, "skb %d", i)
		segs = append(segs, sh.GSOSegs)
		d := b.Data()
		require.Equal(t, uint16(b.Len()-ethHlen), binary.BigEndian.Uint16(d[ethHlen+2:]), "skb %d: outer tot_len", i)
		require.Equal(t, uint16(b.Len()-ethHlen-ipHlen), binary.BigEndian.Uint16(d[ethHlen+ipHlen+4:]), "skb %d: outer UDP length", i)
		require.Equal(t, uint16(10)+n, binary.BigEndian.Uint16(d[ethHlen+4:]), "skb %d: outer identification", i)
		require.Equal(t, uint16(b.Len()-inner), binary.BigEndian.Uint16(d[inner+2:]), "skb %d: inner tot_len", i)
		require.Equal(t, uint16(100)+n, binary.BigEndian.Uint16(d[inner+4:]), "skb %d: inner identification", i)
		require.Equal(t, seq, binary.BigEndian.Uint32(d[inner+ipHlen+4:]), "skb %d: inner sequence number", i)
		require.Zero(t, ipCsum(d[ethHlen:ethHlen+ipHlen]))
		require.Zero(t, ipCsum(d[inner:inner+ipHlen]))
		seq += 100 * uint32(sh.GSOSegs)
		n += sh.GSOSegs
	}
	require.Equal(t, []uint16{18, 18, 2}, segs)
}

// TestGSOSegmentsOwned: a socket's GSO skb cut in software gives every
// segment the socket and its destructor (__udp_gso_segment's copy_dtor,
// which also keeps skb_segment from handing sock_wfree to the last segment
// only; tcp_gso_segment's copy_destructor with tcp_wfree), so tc ingress
// on the peer sees the socket on every segment, as measured (kernel's
// TestKernelUDPGSOSegmentsOwned, TestKernelTCPGSOSegmentsOwned), and the
// sender's write memory comes back when the segments are freed.
func TestGSOSegmentsOwned(t *testing.T) {
	for _, proto := range []uint8{ipprotoUDP, ipprotoTCP} {
		t.Run(fmt.Sprint(proto), func(t *testing.T) {
			cfg := vethTxConfig()
			cfg.Devices[0].SoftwareGSO = true
			o := frameOpts{src: "192.0.2.1", dst: "192.0.2.2", proto: proto, sport: 40000, dport: 9999, payload: 2500, noEth: true}
			if proto == ipprotoTCP {
				cfg.Sockets = []SocketConfig{{Name: "tx", Netns: "A", Proto: ProtoTCP, Port: 40000}}
				o.seq, o.tcpFlags, o.payload = 1000, tcpACK|tcpPSH, 3000
			} else {
				cfg.Sockets[0].UDPSegment = 1000
			}
			var owned []bool
			cfg.Programs = append(cfg.Programs, ProgramConfig{Name: "in", Hook: carrier.HookTCIngress, Netns: "B", Dev: "vB",
				Prog: ProgramFunc(func(c *Ctx) int {
					owned = append(owned, c.Skb.Sk() != nil)
					return TCXNext
				})})
			s, te := newStack(t, cfg, "", nil, nil)
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: buildFrame(o)}))
			require.Equal(t, []bool{true, true, true}, owned)
			if proto == ipprotoUDP {
				require.Empty(t, te.obs.dropReasons())
				require.Zero(t, s.Socket("tx").wmem, "the segments' frees returned the charge")
			}
		})
	}
}

// TestVethXDPMaxMTU: veth_xdp_set refuses native XDP on a veth whose peer's
// MTU exceeds one page-pool head (SKB_WITH_OVERHEAD(PAGE_SIZE -
// XDP_PACKET_HEADROOM) - ETH_HLEN = 3506) unless the program takes
// multi-buffer frames (-ERANGE).
func TestVethXDPMaxMTU(t *testing.T) {
	for _, tc := range []struct {
		mtu   int
		frags bool
		ok    bool
	}{{3506, false, true}, {3507, false, false}, {9000, true, true}} {
		cfg := vethTxConfig()
		cfg.Devices[0].MTU = tc.mtu
		cfg.Programs = append(cfg.Programs, ProgramConfig{Name: "x", Hook: carrier.HookXDP, Netns: "B", Dev: "vB", XDPFrags: tc.frags,
			Actions: []Action{{Kind: ActCount}}})
		a := skb.NewAllocator(kmem.New(), skb.DefaultProfile())
		_, err := New(cfg, Env{Alloc: a})
		if tc.ok {
			require.NoError(t, err, "MTU %d frags %v", tc.mtu, tc.frags)
			continue
		}
		require.ErrorIs(t, err, ErrConfig)
		require.ErrorContains(t, err, "MTU 3507 is too large for native XDP on its peer vB")
	}
}

// TestBridgeFragList: a bridge's NETIF_F_FRAGLIST is any port's
// (br_features_recompute), as measured (kernel's TestKernelBridgeFragList);
// without ports it keeps its own.
func TestBridgeFragList(t *testing.T) {
	for _, tc := range []struct {
		ports []string // kinds
		want  bool
	}{{nil, true}, {[]string{KindNIC}, false}, {[]string{KindNIC, KindVeth}, true}} {
		cfg := &Config{Devices: []DeviceConfig{{Name: "br0", Kind: KindBridge}}}
		for i, k := range tc.ports {
			d := DeviceConfig{Name: fmt.Sprintf("p%d", i), Kind: k, Master: "br0"}
			if k == KindVeth {
				d.Peer = d.Name + "x"
			}
			cfg.Devices = append(cfg.Devices, d)
		}
		s, err := New(cfg, Env{Alloc: skb.NewAllocator(kmem.New(), skb.DefaultProfile())})
		require.NoError(t, err)
		require.Equal(t, tc.want, s.Device("", "br0").fragList, "ports %v", tc.ports)
	}
}

// TestVethXDPFragsJumbo: with a multi-buffer program, native XDP on vB
// takes vA's 9000-byte MTU; an 8000-byte datagram reaches the program as
// a page-pool copy of one head and page fragments (skb_pp_cow_data), and
// the socket reads it whole.
func TestVethXDPFragsJumbo(t *testing.T) {
	cfg := vethTxConfig()
	cfg.Devices[0].MTU = 9000
	var linear, total []int
	cfg.Programs = append(cfg.Programs,
		ProgramConfig{Name: "x", Hook: carrier.HookXDP, Netns: "B", Dev: "vB", XDPFrags: true, Actions: []Action{{Kind: ActAdjustMeta, Value: 8}}},
		ProgramConfig{Name: "in", Hook: carrier.HookTCIngress, Netns: "B", Dev: "vB", Prog: ProgramFunc(func(c *Ctx) int {
			linear = append(linear, c.Skb.Headlen())
			total = append(total, c.Skb.Len())
			return TCXNext
		})})
	s, te := newStack(t, cfg, "", nil, nil)
	frame := buildFrame(frameOpts{src: "192.0.2.1", dst: "192.0.2.2", sport: 40000, dport: 9999, payload: 8000, noEth: true})
	require.NoError(t, s.Inject(&Packet{ID: 1, Frame: frame}))
	require.Empty(t, te.obs.dropReasons())
	require.Equal(t, []int{3520}, linear, "the page-pool head, from the mac header")
	require.Equal(t, []int{ethHlen + ipHlen + udpHlen + 8000}, total)
	require.Equal(t, uint64(1), s.Stats().XDPCopies)
	require.Len(t, te.obs.delivs, 1, "the socket reads it")
}

// TestVethXDPTxFreshSkb: as measured (kernel's TestKernelVethXDPTxFreshSkb),
// on a veth pair in one namespace, where the mark crosses the pair
// (XDP_PASS on vB: its tc ingress sees mark 42), a datagram marked at vA's
// tc egress and bounced by vB's native XDP (XDP_TX) comes back to vA as a
// new skb built from the frame: tc ingress on vA sees mark 0 and the 8
// bytes of metadata vB's program reserved. vA must run native XDP itself
// to take the frame (GRO alone does not do for XDP_TX).
func TestVethXDPTxFreshSkb(t *testing.T) {
	for _, tc := range []struct {
		name string
		ret  int
		peer string // what vA runs: "xdp" or "gro"
		at   string // where tc ingress records
		mark []uint32
		meta []int
	}{
		{"pass", XDPPass, "", "vB", []uint32{42}, []int{8}},
		{"tx", XDPTx, "xdp", "vA", []uint32{0}, []int{8}},
		{"tx to a peer with GRO only", XDPTx, "gro", "vA", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &Config{
				Namespaces: []NamespaceConfig{{Name: "A"}},
				Devices: []DeviceConfig{{Name: "vA", Kind: KindVeth, Netns: "A", MAC: macA, Addrs: []netip.Prefix{pfx("192.0.2.1/24")},
					Peer: "vB", PeerNetns: "A", PeerMAC: macB}},
				Neighbours: []NeighConfig{{Netns: "A", Dev: "vA", Addr: addr("192.0.2.9"), MAC: macB}},
				Sockets:    []SocketConfig{{Name: "tx", Netns: "A", Proto: ProtoUDP, Port: 40000}},
				Entries:    []EntryConfig{{Kind: EntryTX, Netns: "A", Socket: "tx"}},
			}
			var marks []uint32
			var metas []int
			cfg.Programs = []ProgramConfig{
				{Name: "eg", Hook: carrier.HookTCEgress, Netns: "A", Dev: "vA", Actions: []Action{{Kind: ActSetMark, Value: 42}}},
				{Name: "xdp", Hook: carrier.HookXDP, Netns: "A", Dev: "vB", Prog: ProgramFunc(func(c *Ctx) int {
					require.Zero(t, c.AdjustMeta(-8))
					return tc.ret
				})},
				{Name: "in", Hook: carrier.HookTCIngress, Netns: "A", Dev: tc.at, Prog: ProgramFunc(func(c *Ctx) int {
					marks = append(marks, c.Skb.H().Mark)
					metas = append(metas, c.Skb.MetadataLen())
					return TCXNext
				})},
			}
			switch tc.peer {
			case "xdp":
				cfg.Programs = append(cfg.Programs, ProgramConfig{Name: "pass", Hook: carrier.HookXDP, Netns: "A", Dev: "vA",
					Actions: []Action{{Kind: ActCount}}})
			case "gro":
				cfg.Devices[0].GRO = "on"
			}
			s, te := newStack(t, cfg, "", nil, nil)
			frame := buildFrame(frameOpts{src: "192.0.2.1", dst: "192.0.2.9", sport: 40000, dport: 9999, payload: 200, noEth: true})
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: frame}))
			require.Equal(t, tc.mark, marks)
			require.Equal(t, tc.meta, metas)
			if tc.peer == "gro" {
				require.Equal(t, []string{"SKB_DROP_REASON_XDP@veth_xdp_xmit"}, te.obs.dropReasons())
			}
		})
	}
}
