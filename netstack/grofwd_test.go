package netstack

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/skb"
)

// udpCsumFrame is buildFrame's UDP frame with its checksum set, as a
// sender's udp_send_skb leaves it (udp_gro_receive_segment flushes a
// segment with a zero checksum).
func udpCsumFrame(o frameOpts) []byte {
	f := buildFrame(o)
	setUDP4Csum(f[ethHlen:])
	return f
}

// recordGSOSegs is a tc program that appends each skb's gso_segs to list
// (0 for an skb that is not a GSO skb) and passes it on.
func recordGSOSegs(list *[]uint16) ProgramFunc {
	return func(c *Ctx) int {
		sh := c.Skb.Shinfo()
		n := sh.GSOSegs
		if sh.GSOSize == 0 {
			n = 0
		}
		*list = append(*list, n)
		return TCXNext
	}
}

// TestGROUDPForwardingAndFraglist: four UDP segments of one flow reach a
// host NIC in one NAPI poll and are forwarded out of a second device (a NIC
// or a dummy), or delivered to a local socket. Which GRO merges them, and
// how they leave:
//   - without rx-udp-gro-forwarding or rx-gro-list, and no UDP_GRO socket,
//     nothing merges: four skbs everywhere;
//   - rx-udp-gro-forwarding merges the payload (skb_gro_receive): one skb of
//     4 segments, which a NIC transmits whole (USO);
//   - rx-gro-list chains the skbs (skb_gro_receive_list): one skb of 4
//     segments at tc ingress and egress, which a NIC (no
//     NETIF_F_GSO_FRAGLIST) cuts back into the 4 skbs, and a dummy takes
//     whole; a local socket without UDP_GRO gets them back from
//     udp_rcv_segment, each with the head's mark;
//   - a UDP_GRO socket turns udp_encap_needed_key on and is_flist off: the
//     payload is merged for it and it reads one skb;
//   - a zero UDP checksum is never merged.
func TestGROUDPForwardingAndFraglist(t *testing.T) {
	type want struct {
		ingress []uint16 // gso_segs of each skb at eth0's tc ingress
		egress  []uint16 // gso_segs of each skb at the out device's tc egress
		xmits   int      // skbs the out device transmits
		marks   []uint32 // marks the local socket's filter sees
	}
	for _, tc := range []struct {
		name     string
		fwd      bool // rx-udp-gro-forwarding on eth0
		list     bool // rx-gro-list on eth0
		out      string
		local    bool // to the host's socket instead of forwarded
		udpGRO   bool // the local socket has UDP_GRO
		zeroCsum bool
		want     want
	}{
		{name: "no feature", out: KindNIC, want: want{ingress: []uint16{0, 0, 0, 0}, egress: []uint16{0, 0, 0, 0}, xmits: 4}},
		{name: "udp gro forwarding", fwd: true, out: KindNIC, want: want{ingress: []uint16{4}, egress: []uint16{4}, xmits: 1}},
		{name: "gro list, out of a NIC", list: true, out: KindNIC, want: want{ingress: []uint16{4}, egress: []uint16{4}, xmits: 4}},
		{name: "gro list, out of a dummy", list: true, out: KindDummy, want: want{ingress: []uint16{4}, egress: []uint16{4}, xmits: 1}},
		{name: "both: fraglist wins", fwd: true, list: true, out: KindNIC, want: want{ingress: []uint16{4}, egress: []uint16{4}, xmits: 4}},
		{name: "zero checksum", fwd: true, list: true, out: KindNIC, zeroCsum: true,
			want: want{ingress: []uint16{0, 0, 0, 0}, egress: []uint16{0, 0, 0, 0}, xmits: 4}},
		{name: "gro list, local socket", list: true, local: true, want: want{ingress: []uint16{4}, marks: []uint32{1, 1, 1, 1}}},
		{name: "udp gro forwarding, local socket", fwd: true, local: true, want: want{ingress: []uint16{4}, marks: []uint32{1, 1, 1, 1}}},
		{name: "gro list, local UDP_GRO socket", list: true, local: true, udpGRO: true, want: want{ingress: []uint16{4}, marks: []uint32{1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got want
			segs := recordGSOSegs
			outKind := tc.out
			if outKind == "" {
				outKind = KindNIC
			}
			cfg := &Config{
				Namespaces: []NamespaceConfig{{Name: HostNetns, Forwarding: true}},
				Devices: []DeviceConfig{
					{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("192.0.2.1/24")},
						UDPGROForwarding: tc.fwd, GROList: tc.list},
					{Name: "eth1", Kind: outKind, MAC: macA, Addrs: []netip.Prefix{pfx("198.51.100.1/24")}},
				},
				Routes:     []RouteConfig{{Dst: pfx("203.0.113.0/24"), Dev: "eth1", Via: addr("198.51.100.2")}},
				Neighbours: []NeighConfig{{Dev: "eth1", Addr: addr("198.51.100.2"), MAC: macB}},
				Sockets:    []SocketConfig{{Name: "app", Proto: ProtoUDP, Port: 9999, UDPGRO: tc.udpGRO}},
				Programs: []ProgramConfig{
					{Name: "in", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
						c.SetMark(uint32(c.PacketID))
						return segs(&got.ingress)(c)
					})},
					{Name: "out", Hook: carrier.HookTCEgress, Dev: "eth1", Prog: segs(&got.egress)},
					{Name: "f", Hook: carrier.HookSocketFilter, Socket: "app", Prog: ProgramFunc(func(c *Ctx) int {
						got.marks = append(got.marks, c.Skb.H().Mark)
						return FilterAccept
					})},
				},
			}
			s, te := newStack(t, cfg, "", nil, nil)
			dst := "203.0.113.7"
			if tc.local {
				dst = "192.0.2.1"
			}
			for i := range 4 {
				o := frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: dst, sport: 4433, dport: 9999,
					payload: 1000, id: uint16(10 + i)}
				f := udpCsumFrame(o)
				if tc.zeroCsum {
					f = buildFrame(o)
				}
				require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: f, Hash: 0xabc}))
			}
			s.Flush()
			require.Empty(t, te.obs.dropReasons())
			for _, d := range te.obs.delivs {
				if d.Kind == DeliverXmit {
					got.xmits++
				}
			}
			require.Equal(t, tc.want, got)
			require.Zero(t, te.a.Live().Skbs)
		})
	}
}

// TestGROFeaturesNeedProfile: rx-gro-list and rx-udp-gro-forwarding do not
// exist before v5.6 and v5.12, and need GRO on.
func TestGROFeaturesNeedProfile(t *testing.T) {
	for _, tc := range []struct {
		name, profile string
		dev           DeviceConfig
		err           string
	}{
		{"gro list on v5.4", "v5.4", DeviceConfig{GROList: true}, "gro_list (NETIF_F_GRO_FRAGLIST, rx-gro-list) needs kernel v5.6 or later, not v5.4"},
		{"udp gro forwarding on v5.10", "v5.10", DeviceConfig{UDPGROForwarding: true}, "udp_gro_forwarding (NETIF_F_GRO_UDP_FWD, rx-udp-gro-forwarding) needs kernel v5.12 or later, not v5.10"},
		{"gro off", "", DeviceConfig{GROList: true, GRO: "off"}, "gro_list and udp_gro_forwarding need gro on"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.dev
			d.Name, d.Kind, d.MAC = "eth0", KindNIC, macNIC
			err := newStackErr(t, &Config{Devices: []DeviceConfig{d}}, tc.profile)
			require.ErrorContains(t, err, tc.err)
			require.ErrorIs(t, err, ErrConfig)
		})
	}
}

// TestGROListSegmentsWithoutCopy: fraglist GRO and skb_segment_list give
// the NIC the skbs that arrived: the forwarded flow allocates exactly what
// it allocates without GRO (no skb_segment copies), while payload GRO with
// software segmentation allocates a new skb per segment.
func TestGROListSegmentsWithoutCopy(t *testing.T) {
	allocs := func(list, fwd, soft bool) uint64 {
		cfg := &Config{
			Namespaces: []NamespaceConfig{{Name: HostNetns, Forwarding: true}},
			Devices: []DeviceConfig{
				{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("192.0.2.1/24")}, GROList: list, UDPGROForwarding: fwd},
				{Name: "eth1", Kind: KindNIC, MAC: macA, Addrs: []netip.Prefix{pfx("198.51.100.1/24")}, SoftwareGSO: soft},
			},
			Routes:     []RouteConfig{{Dst: pfx("203.0.113.0/24"), Dev: "eth1", Via: addr("198.51.100.2")}},
			Neighbours: []NeighConfig{{Dev: "eth1", Addr: addr("198.51.100.2"), MAC: macB}},
		}
		s, te := newStack(t, cfg, "", nil, nil)
		for i := range 4 {
			f := udpCsumFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "203.0.113.7", sport: 4433, dport: 9999,
				payload: 1000, id: uint16(10 + i)})
			require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: f, Hash: 0xabc}))
		}
		s.Flush()
		require.Empty(t, te.obs.dropReasons())
		require.Len(t, te.obs.delivs, 4)
		return te.a.Accountant().Stats().Total.Allocs
	}
	plain := allocs(false, false, false)
	require.Equal(t, plain, allocs(true, false, false), "fraglist GRO and skb_segment_list allocate nothing")
	require.Equal(t, plain, allocs(true, false, true), "a device without any GSO segments a fraglist skb the same way")
	require.Greater(t, allocs(false, true, true), plain, "skb_segment allocates the segments")
}

// TestGROIPv6ExtensionHeaders: ipv6_gro_receive pulls hop-by-hop, routing
// and destination options headers (ipv6_gro_pull_exthdrs) and merges
// segments whose extension headers are the same bytes; different option
// bytes are another flow, and a fragment header stops GRO. The aggregate's
// payload_len covers its extension headers; a UDP aggregate's length is
// its own.
func TestGROIPv6ExtensionHeaders(t *testing.T) {
	type seen struct {
		segs       uint16
		payloadLen int
	}
	for _, tc := range []struct {
		name  string
		proto uint8
		shape func(i int, f *frame6)
		want  []seen
	}{
		{"destination options", ipprotoTCP, func(_ int, f *frame6) { f.dstOpt = 0x1e }, []seen{{3, 8 + 20 + 300}}},
		{"hop-by-hop", ipprotoTCP, func(_ int, f *frame6) { f.hop = true }, []seen{{3, 8 + 20 + 300}}},
		{"hop-by-hop, routing and destination options", ipprotoTCP, func(_ int, f *frame6) { f.hop, f.routing, f.dstOpt = true, true, 0x1e },
			[]seen{{3, 24 + 20 + 300}}},
		{"options differ", ipprotoTCP, func(i int, f *frame6) { f.dstOpt = byte(0x1c + i) },
			[]seen{{0, 8 + 20 + 100}, {0, 8 + 20 + 100}, {0, 8 + 20 + 100}}},
		{"one without", ipprotoTCP, func(i int, f *frame6) {
			if i != 1 {
				f.dstOpt = 0x1e
			}
			// The first and third are one flow, but the third is not the
			// next sequence number: the first is completed and the third is
			// held as a new flow (dev_gro_receive); the flush completes the
			// second, then the third, oldest first.
		}, []seen{{0, 8 + 20 + 100}, {0, 20 + 100}, {0, 8 + 20 + 100}}},
		{"UDP with destination options", ipprotoUDP, func(_ int, f *frame6) { f.dstOpt = 0x1e }, []seen{{3, 8 + 8 + 300}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []seen
			var udpLens []uint16
			cfg := host6Config()
			cfg.Sockets = append(cfg.Sockets, SocketConfig{Name: "quic", Proto: ProtoUDP, Addr: addr("::"), Port: 443, UDPGRO: true})
			cfg.Programs = []ProgramConfig{
				{Name: "tc", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
					sh := c.Skb.Shinfo()
					n := sh.GSOSegs
					if sh.GSOSize == 0 {
						n = 0
					}
					d := c.Skb.Data()[ethHlen:]
					got = append(got, seen{n, int(binary.BigEndian.Uint16(d[4:6]))})
					return TCXNext
				})},
				{Name: "f", Hook: carrier.HookSocketFilter, Socket: "quic", Prog: ProgramFunc(func(c *Ctx) int {
					udpLens = append(udpLens, binary.BigEndian.Uint16(c.Skb.Data()[4:6]))
					return -1
				})},
			}
			s, te := newStack(t, cfg, "", nil, nil)
			for i := range 3 {
				o := frame6{dstMAC: macNIC, srcMAC: macB, src: "2001:db8::9", dst: "2001:db8::1", next: tc.proto, dport: 80,
					payload: 100, seq: uint32(1000 + 100*i)}
				if tc.proto == ipprotoUDP {
					o.dport = 443
				}
				tc.shape(i, &o)
				f := buildFrame6(o)
				ip := f[ethHlen:]
				_, l4, ok := ip6L4(ip)
				require.True(t, ok)
				if tc.proto == ipprotoTCP {
					ip[l4+13] = tcpACK
				} else {
					setUDPCsum(ip, l4)
				}
				require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: f, Hash: 0xabc}))
			}
			s.Flush()
			require.Empty(t, te.obs.dropReasons())
			require.Equal(t, tc.want, got)
			if tc.proto == ipprotoUDP {
				require.Equal(t, []uint16{8 + 300}, udpLens, "udp6_gro_complete: the aggregate's UDP length")
			}
		})
	}
}

// TestGROIPv6FragmentHeaderGoesUpAlone: a fragment header is not one
// ipv6_gro_pull_exthdrs skips; such packets are never held.
func TestGROIPv6FragmentHeaderGoesUpAlone(t *testing.T) {
	held := 0
	cfg := host6Config()
	cfg.Programs = []ProgramConfig{{Name: "tc", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
		held++
		return TCXNext
	})}}
	s, _ := newStack(t, cfg, "", nil, nil)
	for i := range 2 {
		f := buildFrame6(frame6{dstMAC: macNIC, srcMAC: macB, src: "2001:db8::9", dst: "2001:db8::1", next: ipprotoTCP, dport: 80,
			payload: 100, frag: true, seq: uint32(1000 + 100*i)})
		require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: f, Hash: 0xabc}))
		require.Equal(t, i+1, held, "packet %d reached tc ingress before the flush", i)
	}
	s.Flush()
}

// TestGROTCPFlushRules: tcp_gro_receive merges a segment only with the
// held skb's acknowledgment number, flag word (flags but FIN and PSH, data
// offset, window) and options, and without CWR; a segment that does not
// merge completes the held skb and is held itself as a new aggregate
// unless URG, PSH, RST, SYN or FIN flush it. A FIN merges, then completes.
func TestGROTCPFlushRules(t *testing.T) {
	type seg struct {
		ack    uint32
		window uint16
		flags  uint8
		tsval  uint32 // 0: no options
	}
	plain := seg{ack: 1, window: 512, flags: tcpACK}
	with := func(f func(*seg)) seg { s := plain; f(&s); return s }
	for _, tc := range []struct {
		name string
		segs []seg
		want []uint16 // gso_segs (0: a single segment) at tc ingress, in order
	}{
		{"one flow", []seg{plain, plain, plain, plain}, []uint16{4}},
		{"ack moves", []seg{plain, plain, with(func(s *seg) { s.ack = 2 }), with(func(s *seg) { s.ack = 2 })}, []uint16{2, 2}},
		{"window moves", []seg{plain, with(func(s *seg) { s.window = 600 }), with(func(s *seg) { s.window = 600 })}, []uint16{0, 2}},
		{"timestamps", []seg{with(func(s *seg) { s.tsval = 7 }), with(func(s *seg) { s.tsval = 7 }), with(func(s *seg) { s.tsval = 8 })},
			[]uint16{2, 0}},
		// CWR is a flag like the others from v6.18 (measured): the CWR
		// segment neither joins the held skb nor lets the next one join it.
		{"CWR", []seg{plain, with(func(s *seg) { s.flags |= tcpCWR }), plain}, []uint16{0, 0, 0}},
		{"FIN merges and completes", []seg{plain, plain, with(func(s *seg) { s.flags |= tcpFIN }), plain}, []uint16{3, 0}},
		{"PSH merges and completes", []seg{plain, with(func(s *seg) { s.flags |= tcpPSH }), plain, plain}, []uint16{2, 2}},
		{"RST goes up alone", []seg{plain, plain, with(func(s *seg) { s.flags |= tcpRST }), plain}, []uint16{2, 0, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []uint16
			cfg := &Config{
				Devices:  []DeviceConfig{{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("192.0.2.1/24")}}},
				Sockets:  []SocketConfig{{Name: "srv", Proto: ProtoTCP, Port: 80}},
				Programs: []ProgramConfig{{Name: "tc", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: recordGSOSegs(&got)}},
			}
			s, te := newStack(t, cfg, "", nil, nil)
			for i, sg := range tc.segs {
				f := tcpOptFrame(uint32(1000+100*i), sg.ack, sg.window, sg.flags, sg.tsval, uint16(i))
				require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: f, Hash: 0xabc}))
			}
			s.Flush()
			require.Equal(t, tc.want, got)
			_ = te
		})
	}
}

// tcpOptFrame is a 100-byte TCP segment from 192.0.2.9:5000 to
// 192.0.2.1:80 with the given sequence and acknowledgment numbers, window
// and flags, and, for a non-zero tsval, the timestamps option (NOP, NOP,
// TS) in a 32-byte header.
func tcpOptFrame(seq, ack uint32, window uint16, flags uint8, tsval uint32, id uint16) []byte {
	doff := 20
	if tsval != 0 {
		doff = 32
	}
	const payload = 100
	ipLen := ipHlen + doff + payload
	f := make([]byte, ethHlen+ipLen)
	writeEth(f, macNIC, macB, ethPIP)
	ip := f[ethHlen:]
	writeIPv4(ip, 0, ipLen, id, true, 64, ipprotoTCP, addr("192.0.2.9"), addr("192.0.2.1"))
	th := ip[ipHlen:]
	binary.BigEndian.PutUint16(th[0:2], 5000)
	binary.BigEndian.PutUint16(th[2:4], 80)
	binary.BigEndian.PutUint32(th[4:8], seq)
	binary.BigEndian.PutUint32(th[8:12], ack)
	th[12] = byte(doff/4) << 4
	th[13] = flags
	binary.BigEndian.PutUint16(th[14:16], window)
	if tsval != 0 {
		th[20], th[21], th[22], th[23] = 1, 1, 8, 10
		binary.BigEndian.PutUint32(th[24:28], tsval)
		binary.BigEndian.PutUint32(th[28:32], 99)
	}
	return f
}

// TestGROTCPFraglist: from v6.10 rx-gro-list chains a forwarded TCP flow
// (no local socket has it in the established hash) by fraglist GRO, which
// the uplink NIC cuts back into the segments that arrived; before v6.10 the
// payload is merged, on the frag_list since the copy-break driver's small
// heads are kmalloc'ed, and a NIC with NETIF_F_FRAGLIST sends one TSO skb.
// One without it (the default) has skb_segment cut it: a clone of each
// list skb with a head of its own.
func TestGROTCPFraglist(t *testing.T) {
	for _, tc := range []struct {
		profile  string
		soft     bool   // eth1 without GSO offloads
		fragList string // eth1's tx_fraglist
		tunnel   string // eth1's tunnel_tso
		ingress  []uint16
		xmits    int
		copies   bool // segmentation allocates new skbs
	}{
		{"", false, "", "", []uint16{4}, 4, false},
		{"", true, "", "", []uint16{4}, 4, false},
		{"v6.6", false, "on", "", []uint16{4}, 1, false},
		{"v6.6", false, "on", "off", []uint16{4}, 1, false}, // a plain TCP GSO skb leaves whole
		{"v6.6", false, "", "", []uint16{4}, 4, true},
		{"v6.6", true, "on", "", []uint16{4}, 4, true},
	} {
		t.Run(fmt.Sprintf("profile %q software GSO %v tx_fraglist %q tunnel_tso %q", tc.profile, tc.soft, tc.fragList, tc.tunnel), func(t *testing.T) {
			var ingress []uint16
			cfg := &Config{
				Namespaces: []NamespaceConfig{{Name: HostNetns, Forwarding: true}},
				Devices: []DeviceConfig{
					{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("192.0.2.1/24")}, GROList: true},
					{Name: "eth1", Kind: KindNIC, MAC: macA, Addrs: []netip.Prefix{pfx("198.51.100.1/24")}, SoftwareGSO: tc.soft, TxFragList: tc.fragList,
						TunnelTSO: tc.tunnel},
				},
				Routes:     []RouteConfig{{Dst: pfx("203.0.113.0/24"), Dev: "eth1", Via: addr("198.51.100.2")}},
				Neighbours: []NeighConfig{{Dev: "eth1", Addr: addr("198.51.100.2"), MAC: macB}},
				Programs: []ProgramConfig{{Name: "in", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
					ingress = append(ingress, c.Skb.Shinfo().GSOSegs)
					return TCXNext
				})}},
			}
			s, te := newStack(t, cfg, tc.profile, nil, nil)
			for i := range 4 {
				f := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "203.0.113.7", proto: ipprotoTCP,
					sport: 5000, dport: 443, seq: uint32(1000 + 100*i), tcpFlags: tcpACK, payload: 100, id: uint16(i)})
				require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: f, Hash: 0xabc}))
			}
			s.Flush()
			require.Empty(t, te.obs.dropReasons())
			require.Equal(t, tc.ingress, ingress)
			xmits := 0
			for _, d := range te.obs.delivs {
				if d.Kind == DeliverXmit {
					xmits++
				}
			}
			require.Equal(t, tc.xmits, xmits)
			// Four received skbs (napi_build_skb: an sk_buff and a page
			// fragment each); skb_segment adds an sk_buff and a head per
			// segment.
			allocs := te.a.Accountant().Stats().Total.Allocs
			if tc.copies {
				require.Greater(t, allocs, uint64(8))
			} else {
				require.Equal(t, uint64(8), allocs)
			}
		})
	}
}

// TestGROTCPFraglistSkipsEstablished: a flow that a local socket has in
// the established hash (here a listener's child after the handshake) is
// merged for it as usual, even with rx-gro-list on.
func TestGROTCPFraglistSkipsEstablished(t *testing.T) {
	var gsoTypes []uint32
	cfg := &Config{
		Devices: []DeviceConfig{{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("192.0.2.1/24")}, GROList: true}},
		Sockets: []SocketConfig{{Name: "srv", Proto: ProtoTCP, Port: 80}},
		Programs: []ProgramConfig{{Name: "in", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
			gsoTypes = append(gsoTypes, c.Skb.Shinfo().GSOType)
			return TCXNext
		})}},
	}
	s, _ := newStack(t, cfg, "", nil, nil)
	inject := func(id uint64, seq uint32, flags uint8, payload int) {
		f := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "192.0.2.1", proto: ipprotoTCP,
			sport: 5000, dport: 80, seq: seq, tcpFlags: flags, payload: payload, id: uint16(id)})
		require.NoError(t, s.Inject(&Packet{ID: id, Frame: f, Hash: 0xabc}))
	}
	inject(1, 999, tcpSYN, 0) // a request: NEW_SYN_RECV in the established hash
	inject(2, 1000, tcpACK, 0)
	for i := range 3 {
		inject(uint64(3+i), uint32(1000+100*i), tcpACK, 100)
	}
	s.Flush()
	require.Len(t, gsoTypes, 3, "SYN, ACK, one aggregate")
	require.Equal(t, skb.GSOTCPv4, gsoTypes[2], "payload GRO, not fraglist")
}

// TestVethGROEligible: veth_xmit takes the receiver's NAPI (and GRO) path
// only for skbs veth_skb_is_eligible_for_gro accepts: without TSO on the
// sending veth, or from a UDP socket (sock_wfree) when the receiver has
// rx-gro-list or rx-udp-gro-forwarding; otherwise netif_rx. Before v5.12 a
// veth without XDP has no NAPI path at all.
func TestVethGROEligible(t *testing.T) {
	for _, tc := range []struct {
		name    string
		profile string
		noTSO   bool
		fwd     bool
		want    []uint16 // gso_segs at vB's tc ingress
	}{
		{"TSO on, no feature: backlog", "", false, false, []uint16{0, 0, 0}},
		{"TSO on, UDP socket, rx-udp-gro-forwarding", "", false, true, []uint16{3}},
		{"TSO off", "", true, false, []uint16{0, 0, 0}}, // NAPI, but no GRO for a socket without UDP_GRO
		{"TSO off, rx-udp-gro-forwarding", "", true, true, []uint16{3}},
		{"TSO off, rx-gro-list", "", true, false, []uint16{3}},
		{"TSO off, rx-gro-list, before v5.12", "v5.10", true, false, []uint16{0, 0, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []uint16
			cfg := vethTxConfig()
			cfg.Devices[0].PeerGRO = "on"
			cfg.Devices[0].SoftwareGSO = tc.noTSO
			cfg.Devices[0].PeerUDPGROForwarding = tc.fwd
			cfg.Devices[0].PeerGROList = strings.Contains(tc.name, "rx-gro-list")
			cfg.Programs = []ProgramConfig{{Name: "in", Hook: carrier.HookTCIngress, Netns: "B", Dev: "vB", Prog: recordGSOSegs(&got)}}
			// The receiving socket is not UDP_GRO, so only forwarding GRO
			// (no socket: the key is off) merges.
			s, te := newStack(t, cfg, tc.profile, nil, nil)
			for i := range 3 {
				f := buildFrame(frameOpts{src: "192.0.2.1", dst: "192.0.2.2", sport: 40000, dport: 9999, payload: 500, id: uint16(i), noEth: true})
				setUDP4Csum(f)
				require.NoError(t, s.Inject(&Packet{ID: uint64(i), Frame: f}))
			}
			s.Flush()
			require.Empty(t, te.obs.dropReasons())
			require.Equal(t, tc.want, got)
		})
	}
}

// TestGROCWRBeforeAccECN: before v6.18 tcp_gro_receive refuses any
// segment with CWR, which then starts an aggregate of its own that plain
// segments join (CWR is masked out of the flag word comparison).
func TestGROCWRBeforeAccECN(t *testing.T) {
	var got []uint16
	cfg := &Config{
		Devices: []DeviceConfig{{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("192.0.2.1/24")}}},
		Programs: []ProgramConfig{{Name: "tc", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
			got = append(got, c.Skb.Shinfo().GSOSegs)
			return TCXNext
		})}},
	}
	s, _ := newStack(t, cfg, "v6.12", nil, nil)
	for i, flags := range []uint8{tcpACK, tcpACK | tcpCWR, tcpACK, tcpACK} {
		require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: tcpOptFrame(uint32(1000+100*i), 1, 512, flags, 0, uint16(i)), Hash: 1}))
	}
	s.Flush()
	require.Equal(t, []uint16{0, 3}, got)
}

// TestVethGROEligibleTCP: TCP segments a socket sends over a veth whose
// sender has TSO are not eligible for the peer's GRO (tcp_wfree, not
// sock_wfree): they arrive one by one; without TSO they are merged.
func TestVethGROEligibleTCP(t *testing.T) {
	for _, tc := range []struct {
		noTSO bool
		want  []uint16
	}{{false, []uint16{0, 0}}, {true, []uint16{2}}} {
		t.Run(fmt.Sprintf("without TSO %v", tc.noTSO), func(t *testing.T) {
			var got []uint16
			cfg := vethTxConfig()
			cfg.Devices[0].PeerGRO, cfg.Devices[0].SoftwareGSO = "on", tc.noTSO
			cfg.Sockets = append(cfg.Sockets, SocketConfig{Name: "cli", Netns: "A", Proto: ProtoTCP, Addr: addr("192.0.2.1"), Port: 5000})
			cfg.Entries = []EntryConfig{{Kind: EntryTX, Netns: "A", Socket: "cli"}}
			cfg.Programs = []ProgramConfig{{Name: "in", Hook: carrier.HookTCIngress, Netns: "B", Dev: "vB", Prog: recordGSOSegs(&got)}}
			s, _ := newStack(t, cfg, "", nil, nil)
			for i := range 2 {
				f := buildFrame(frameOpts{src: "192.0.2.1", dst: "192.0.2.2", proto: ipprotoTCP, sport: 5000, dport: 80,
					seq: uint32(1000 + 100*i), tcpFlags: tcpACK, payload: 100, id: uint16(i), noEth: true})
				require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: f}))
			}
			s.Flush()
			require.Equal(t, tc.want, got)
		})
	}
}

// TestGROFixedIDSegmentsKeepID: an aggregate of segments with one fixed
// identification is SKB_GSO_TCP_FIXEDID (tcp4_gro_complete), and
// inet_gso_segment leaves every segment that identification; an
// incrementing flow's segments count up from the aggregate's again.
func TestGROFixedIDSegmentsKeepID(t *testing.T) {
	for _, tc := range []struct {
		name string
		id   func(i int) uint16
		want []uint16
	}{
		{"fixed", func(int) uint16 { return 7 }, []uint16{7, 7, 7}},
		{"incrementing", func(i int) uint16 { return uint16(40 + i) }, []uint16{40, 41, 42}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ids []uint16
			var fixed bool
			cfg := &Config{
				Namespaces: []NamespaceConfig{{Name: HostNetns, Forwarding: true}},
				Devices: []DeviceConfig{
					{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("192.0.2.1/24")}},
					{Name: "eth1", Kind: KindNIC, MAC: macA, Addrs: []netip.Prefix{pfx("198.51.100.1/24")}, SoftwareGSO: true},
				},
				Routes:     []RouteConfig{{Dst: pfx("203.0.113.0/24"), Dev: "eth1", Via: addr("198.51.100.2")}},
				Neighbours: []NeighConfig{{Dev: "eth1", Addr: addr("198.51.100.2"), MAC: macB}},
				Taps:       []TapConfig{{Name: "wire", Dev: "eth1", Dir: TapTX, Hold: true}},
				Programs: []ProgramConfig{{Name: "out", Hook: carrier.HookTCEgress, Dev: "eth1", Prog: ProgramFunc(func(c *Ctx) int {
					fixed = c.Skb.Shinfo().GSOType&skb.GSOTCPFixedID != 0
					return TCXNext
				})}},
			}
			s, _ := newStack(t, cfg, "", nil, nil)
			for i := range 3 {
				f := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "203.0.113.7", proto: ipprotoTCP,
					sport: 5000, dport: 443, seq: uint32(1000 + 100*i), tcpFlags: tcpACK, payload: 100, id: tc.id(i), fragOff: ipDF})
				require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: f, Hash: 0xabc}))
			}
			s.Flush()
			require.Equal(t, tc.name == "fixed", fixed, "SKB_GSO_TCP_FIXEDID")
			for _, q := range s.taps[0].q {
				d := q.b.Data()
				ids = append(ids, binary.BigEndian.Uint16(d[ethHlen+4:ethHlen+6]))
			}
			require.Equal(t, tc.want, ids)
		})
	}
}

// TestGROHashBuckets: dev_gro_receive holds at most MAX_GRO_SKBS (8) skbs
// per hash bucket (skb->hash & 7): nine flows in one bucket evict each
// other before their second segments arrive, nine flows spread over the
// buckets all merge.
func TestGROHashBuckets(t *testing.T) {
	for _, tc := range []struct {
		name string
		hash func(f int) uint32
		runs int
		segs uint16 // gso_segs of every aggregate
	}{
		{"one bucket", func(f int) uint32 { return uint32(8 * (f + 1)) }, 18, 0},
		{"spread", func(f int) uint32 { return uint32(f + 1) }, 9, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var segs []uint16
			cfg := &Config{
				Devices: []DeviceConfig{{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("192.0.2.1/24")}}},
				Programs: []ProgramConfig{{Name: "tc", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
					segs = append(segs, c.Skb.Shinfo().GSOSegs)
					return TCXNext
				})}},
			}
			s, _ := newStack(t, cfg, "", nil, nil)
			for round := range 2 {
				for f := range 9 {
					fr := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "192.0.2.1", proto: ipprotoTCP,
						sport: uint16(6000 + f), dport: 80, seq: uint32(1000 + 100*round), tcpFlags: tcpACK, payload: 100,
						id: uint16(100*f + round)})
					require.NoError(t, s.Inject(&Packet{ID: uint64(10*round + f), Frame: fr, Hash: tc.hash(f)}))
				}
			}
			s.Flush()
			require.Len(t, segs, tc.runs)
			for _, n := range segs {
				require.Equal(t, tc.segs, n)
			}
		})
	}
}
