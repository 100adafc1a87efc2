package netstack

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/skb"
)

// TestIPFragmentFastPath: a local UDP datagram above the MTU is built as a
// frag_list skb (__ip_append_data, __ip_make_skb) and ip_do_fragment's
// fast path sends its own skbs as the fragments: no copy (the Copy hook
// would see each slow-path fragment), the datagram's skb first, every
// fragment owned by the socket with IPCB flags IPSKB_FRAG_COMPLETE,
// offsets in 8-byte units with IP_MF on all but the last, and the
// receiver reassembles the datagram.
func TestIPFragmentFastPath(t *testing.T) {
	type frag struct {
		id             uint64
		totLen, fragOf uint16
		ipcbFlags      uint16
		sk             bool
	}
	var got []frag
	cfg := vethTxConfig()
	cfg.Programs = []ProgramConfig{{Name: "tc", Hook: carrier.HookTCEgress, Netns: "A", Dev: "vA",
		Prog: ProgramFunc(func(c *Ctx) int {
			d := c.Skb.Data()[ethHlen:]
			got = append(got, frag{id: c.Skb.ID(), totLen: binary.BigEndian.Uint16(d[2:4]), fragOf: binary.BigEndian.Uint16(d[6:8]),
				ipcbFlags: binary.LittleEndian.Uint16(c.Skb.H().CB[ipcbFlags:]), sk: c.Skb.Sk() != nil})
			return TCXNext
		})}}
	s, te := newStack(t, cfg, "", nil, nil)
	var ids []uint64
	s.a.AddHooks(skb.Hooks{Copy: func(_, cp *skb.Buff, k skb.CopyKind) { t.Errorf("%v copy made in the fast path", k) }})
	f := buildFrame(frameOpts{src: "192.0.2.1", dst: "192.0.2.2", sport: 40000, dport: 9999, payload: 3000, noEth: true})
	require.NoError(t, s.Inject(&Packet{ID: 6, Frame: f}))
	require.Equal(t, []DeliverEvent{{PacketID: 6, Kind: DeliverSocket, Index: 1}}, te.obs.delivs)
	require.Len(t, got, 3)
	for _, g := range got {
		ids = append(ids, g.id)
	}
	// 1500-byte MTU: 1480 bytes of payload per fragment, 3008 in all.
	want := []frag{
		{totLen: 1500, fragOf: ipMF, ipcbFlags: ipskbFragComplete, sk: true},
		{totLen: 1500, fragOf: ipMF | 1480/8, ipcbFlags: ipskbFragComplete, sk: true},
		{totLen: 20 + 48, fragOf: 2960 / 8, ipcbFlags: ipskbFragComplete, sk: true},
	}
	for i := range got {
		got[i].id = 0
	}
	require.Equal(t, want, got)
	require.Less(t, ids[0], ids[1], "the datagram's own skb goes first")
	require.Less(t, ids[1], ids[2])
	require.Zero(t, s.Socket("tx").wmem, "every fragment uncharged the sender (sock_wfree)")
}

// TestIPFragmentFastPathRefused: a frag_list skb whose geometry the fast
// path refuses (here a middle skb whose payload is not a multiple of 8)
// is left as it was — truesize, owners, list — for the slow path.
func TestIPFragmentFastPathRefused(t *testing.T) {
	s, _ := newStack(t, vethTxConfig(), "", nil, nil)
	out := s.Device("A", "vA")
	sk := s.Socket("tx")
	sk.initFns()
	pkt := buildFrame(frameOpts{src: "192.0.2.1", dst: "192.0.2.2", sport: 40000, dport: 9999, payload: 3000, noEth: true})
	b := s.ipAppendData(pkt, ipHlen, out, out.mtu)
	require.NotNil(t, b)
	s.initTxSkb(b, sk)
	list := b.FragList(nil)
	require.Len(t, list, 2)
	_, ok := list[0].PskbPull(4) // 1476 bytes: not a multiple of 8
	require.True(t, ok)
	truesize, length := b.Truesize(), b.Len()
	ip, _ := parseIPv4(b.Data())
	require.False(t, s.ipFragFast(b, s.Netns("A"), out, addr("192.0.2.2"), ip, ipskbFragComplete, out.mtu))
	require.Equal(t, truesize, b.Truesize())
	require.Equal(t, length, b.Len())
	require.Equal(t, list, b.FragList(nil))
	for _, m := range list {
		require.Nil(t, m.Sk())
	}
	b.ConsumeSkb()
}

// TestIP6FragmentFastPath: as TestIPFragmentFastPath for IPv6
// (__ip6_append_data, __ip6_make_skb, ip6_fragment's fast path): no copy,
// the datagram's skb first keeping the IP6CB nhoff __ip6_local_out set
// (the others have a zero IP6CB), a fragment header in each, every
// fragment's truesize back with the sender (sock_wfree), and the
// ip6_fraglist_init header copy freed.
func TestIP6FragmentFastPath(t *testing.T) {
	type frag struct {
		payloadLen, fragOff uint16
		nhoff               uint16
	}
	var got []frag
	cfg := veth6TxConfig()
	cfg.Programs = []ProgramConfig{{Name: "eg", Hook: carrier.HookTCEgress, Netns: "A", Dev: "vA", Prog: ProgramFunc(func(c *Ctx) int {
		d := c.Skb.Data()[ethHlen:]
		got = append(got, frag{binary.BigEndian.Uint16(d[4:6]), binary.BigEndian.Uint16(d[ip6Hlen+2:]),
			binary.LittleEndian.Uint16(c.Skb.H().CB[ip6cbNhoff:])})
		return TCXNext
	})}}
	s, te := newStack(t, cfg, "", nil, nil)
	s.a.AddHooks(skb.Hooks{Copy: func(_, cp *skb.Buff, k skb.CopyKind) { t.Errorf("%v copy made in the fast path", k) }})
	require.NoError(t, s.Inject(&Packet{ID: 1, Frame: v6Datagram(3000)}))
	require.Empty(t, te.obs.dropReasons())
	require.Len(t, te.obs.delivs, 1)
	// 1500-byte MTU: 1448 bytes of payload per fragment, 3008 in all.
	require.Equal(t, []frag{
		{fragHdrLen + 1448, 1, 6},
		{fragHdrLen + 1448, 1448 | 1, 0},
		{fragHdrLen + 3008 - 2*1448, 2 * 1448, 0},
	}, got)
	require.Zero(t, s.Socket("tx").wmem, "every fragment uncharged the sender (sock_wfree)")
}

// TestXDPGenericLinearizes: generic XDP sees one linear buffer, so a
// non-linear skb (here a frag_list datagram) gets a private head with room
// for every byte and is linearised first (netif_skb_check_for_xdp), the
// bytes unchanged.
func TestXDPGenericLinearizes(t *testing.T) {
	cfg := vethTxConfig()
	cfg.Devices[0].XDP = "generic"
	cfg.Programs = []ProgramConfig{{Name: "x", Hook: carrier.HookXDP, Netns: "B", Dev: "vB",
		Prog: ProgramFunc(func(c *Ctx) int { return XDPPass })}}
	s, _ := newStack(t, cfg, "", nil, nil)
	out := s.Device("A", "vA")
	pkt := buildFrame(frameOpts{src: "192.0.2.1", dst: "192.0.2.2", sport: 40000, dport: 9999, payload: 3000, noEth: true})
	b := s.ipAppendData(pkt, ipHlen, out, out.mtu)
	require.NotNil(t, b)
	require.True(t, b.HasFragList())
	copy(b.Push(ethHlen), make([]byte, ethHlen))
	b.ResetMacHeader()
	b.Pull(ethHlen)
	setDev(b, s.Device("B", "vB"))
	nb := s.doXDPGeneric(b, s.Device("B", "vB"))
	require.NotNil(t, nb)
	require.False(t, nb.IsNonlinear())
	require.Equal(t, pkt, nb.Data())
	nb.ConsumeSkb()
}

// nonlinearPaths are the paths that build non-linear skbs, each as a
// function that runs one operation on its own stack: IPv4 reassembly of
// page-fragment heads (stolen) and of small heads (frag_list, freed with
// their tracepoints), a local UDP datagram above the MTU through
// ip_do_fragment's fast path, GRO merging three TCP segments, and
// fraglist GRO of four UDP segments forwarded out of a NIC, which cuts
// them back with skb_segment_list.
func nonlinearPaths(tb testing.TB) []struct {
	name string
	op   func()
} {
	tp := ProgramConfig{Name: "tp", Hook: carrier.HookTracepoint, Event: EventConsumeSkb, Prog: ProgramFunc(func(*Ctx) int { return 0 })}
	inject := func(s *Stack, p *Packet) {
		if err := s.Inject(p); err != nil {
			tb.Fatal(err)
		}
	}
	reasm := func(cuts []frag4Cut, payload int) func() {
		cfg := rxToSocketConfig()
		cfg.Programs = append(cfg.Programs, tp)
		s, _ := newStack(tb, cfg, "", nil, nil)
		s.obs = NopObserver{}
		frames := frag4Frames(9, payload, cuts)
		p := &Packet{}
		return func() {
			for _, f := range frames {
				p.ID++
				p.Frame = f
				inject(s, p)
			}
		}
	}
	send := func() func() {
		s, _ := newStack(tb, vethTxConfig(), "", nil, nil)
		s.obs = NopObserver{}
		p := &Packet{Frame: buildFrame(frameOpts{src: "192.0.2.1", dst: "192.0.2.2", sport: 40000, dport: 9999, payload: 3000, noEth: true})}
		return func() { p.ID++; inject(s, p) }
	}
	gro := func() func() {
		cfg := &Config{
			Devices: []DeviceConfig{{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("192.0.2.1/24")}}},
			Sockets: []SocketConfig{{Name: "srv", Proto: ProtoTCP, Port: 80}},
		}
		s, _ := newStack(tb, cfg, "", nil, nil)
		s.obs = NopObserver{}
		var frames [][]byte
		for i := range 3 {
			frames = append(frames, buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "192.0.2.1", proto: ipprotoTCP,
				sport: 5000, dport: 80, seq: uint32(1000 + 1000*i), tcpFlags: tcpACK, payload: 1000, id: uint16(i)}))
		}
		p := &Packet{Hash: 0xabc}
		seq := uint32(0)
		return func() {
			for i, f := range frames {
				binary.BigEndian.PutUint32(f[ethHlen+ipHlen+4:], 1000+seq+uint32(1000*i))
				binary.BigEndian.PutUint16(f[ethHlen+4:], uint16(seq/1000)+uint16(i))
				setIPCsum(f[ethHlen:], ipHlen)
				p.ID++
				p.Frame = f
				inject(s, p)
			}
			seq += 3000
			s.Flush()
		}
	}
	groList := func() func() {
		cfg := &Config{
			Namespaces: []NamespaceConfig{{Name: HostNetns, Forwarding: true}},
			Devices: []DeviceConfig{
				{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("192.0.2.1/24")}, GROList: true},
				{Name: "eth1", Kind: KindNIC, MAC: macA, Addrs: []netip.Prefix{pfx("198.51.100.1/24")}},
			},
			Routes:     []RouteConfig{{Dst: pfx("203.0.113.0/24"), Dev: "eth1", Via: addr("198.51.100.2")}},
			Neighbours: []NeighConfig{{Dev: "eth1", Addr: addr("198.51.100.2"), MAC: macB}},
			Programs:   []ProgramConfig{tp},
		}
		s, _ := newStack(tb, cfg, "", nil, nil)
		s.obs = NopObserver{}
		var frames [][]byte
		for i := range 4 {
			f := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "203.0.113.7", sport: 4433, dport: 443,
				payload: 1200, id: uint16(i)})
			setUDP4Csum(f[ethHlen:])
			frames = append(frames, f)
		}
		p := &Packet{Hash: 0xabc}
		id := uint16(0)
		return func() {
			for _, f := range frames {
				binary.BigEndian.PutUint16(f[ethHlen+4:], id)
				setIPCsum(f[ethHlen:], ipHlen)
				id++
				p.ID++
				p.Frame = f
				inject(s, p)
			}
			s.Flush()
		}
	}
	return []struct {
		name string
		op   func()
	}{
		{"reasm-stolen-heads", reasm([]frag4Cut{{0, 1480, true, false}, {1480, 1480, true, false}, {2960, 1056, false, false}}, 4008)},
		{"reasm-frag-list", reasm([]frag4Cut{{0, 200, true, false}, {200, 200, true, false}, {400, 200, false, false}}, 592)},
		{"udp-send-fast-path", send()},
		{"gro-merge", gro()},
		{"gro-list-forward", groList()},
	}
}

// TestNonlinearNoAllocs: once warm, none of the non-linear paths
// allocates on the Go heap.
func TestNonlinearNoAllocs(t *testing.T) {
	for _, p := range nonlinearPaths(t) {
		for range 64 {
			p.op()
		}
		require.Zero(t, testing.AllocsPerRun(200, p.op), p.name)
	}
}

// BenchmarkNonlinear times the non-linear paths (nonlinearPaths).
func BenchmarkNonlinear(b *testing.B) {
	for _, p := range nonlinearPaths(b) {
		b.Run(p.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p.op()
			}
		})
	}
}

// TestGRONeverHoldsFragList: dev_gro_receive flushes an skb with a
// frag_list (NAPI_GRO_CB(skb)->flush = skb_has_frag_list(skb)), so two
// consecutive segments of one flow that each arrive as a frag_list skb
// go up on their own, unmerged.
func TestGRONeverHoldsFragList(t *testing.T) {
	var segs []uint16
	cfg := &Config{
		Devices: []DeviceConfig{{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("192.0.2.1/24")}}},
		Sockets: []SocketConfig{{Name: "srv", Proto: ProtoTCP, Port: 80}},
		Programs: []ProgramConfig{{Name: "tc", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
			segs = append(segs, c.Skb.Shinfo().GSOSegs)
			return TCXNext
		})}},
	}
	s, _ := newStack(t, cfg, "", nil, nil)
	d := s.Device("", "eth0")
	for i := range 2 {
		f := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "192.0.2.1", proto: ipprotoTCP,
			sport: 5000, dport: 80, seq: uint32(1000 + 3000*i), tcpFlags: tcpACK, payload: 3000, id: uint16(i)})
		b := s.ipAppendData(f[ethHlen:], ipHlen, d, d.mtu) // a 3040-byte packet in MTU-sized pieces: a frag_list skb
		require.True(t, b.HasFragList())
		copy(b.Push(ethHlen), f[:ethHlen])
		b.ResetMacHeader()
		b.Pull(ethHlen)
		setDev(b, d)
		b.H().Protocol = ethPIP
		b.H().Hash = 0xabc
		s.napiGROReceive(b, d)
	}
	s.Flush()
	require.Equal(t, []uint16{0, 0}, segs)
}

// TestFragFastPathForgetsListed: skbs that leave a frag_list through the
// fragmentation fast path are no longer attributed to the packet they were
// queued with (a reassembled inner packet forwarded to a smaller MTU):
// their tracepoints later run on behalf of the packet then replayed.
func TestFragFastPathForgetsListed(t *testing.T) {
	cfg := vethTxConfig()
	cfg.Programs = append(cfg.Programs, ProgramConfig{Name: "tp", Hook: carrier.HookTracepoint, Event: EventConsumeSkb,
		Prog: ProgramFunc(func(*Ctx) int { return 0 })})
	s, _ := newStack(t, cfg, "", nil, nil)
	out := s.Device("A", "vA")
	pkt := buildFrame(frameOpts{src: "192.0.2.1", dst: "192.0.2.2", sport: 40000, dport: 9999, payload: 3000, noEth: true})
	b := s.ipAppendData(pkt, ipHlen, out, out.mtu)
	require.NotNil(t, s.listPkt)
	for _, m := range b.FragList(nil) {
		s.listPkt[m] = 77
	}
	setDev(b, out)
	b.H().Protocol = ethPIP
	s.ipOutput(b, s.Netns("A"), out, addr("192.0.2.2"), nil, out.mtu)
	require.Empty(t, s.listPkt)
}
