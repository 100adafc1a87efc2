package kernel

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/internal/testutil"
	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/netstack"
	"github.com/skbsim/skbsim/skb"
)

// icmpTopo is A (vA, 192.0.2.1/24) and H (hA, 192.0.2.254/24, forwarding)
// joined by a veth pair, H also reaching B (vB, 10.1.0.2/24) through hB
// (10.1.0.1/24, MTU 1400), with a blackhole, an unreachable and a prohibit
// route; in the kernel and as a model configuration.
type icmpTopo struct {
	a, h, b      *Netns
	hA           string
	macA, macH   [6]byte
	macHB, macVB [6]byte
}

const (
	icmpAddrA = "192.0.2.1"
	icmpAddrH = "192.0.2.254"
)

func newICMPTopo(t *testing.T, sysctls ...string) *icmpTopo {
	t.Helper()
	tp := &icmpTopo{hA: fmt.Sprint("ic", os.Getpid()%100000)}
	tp.a, tp.h, tp.b = newNetns(t, "icA"), newNetns(t, "icH"), newNetns(t, "icB")
	a, h, b := tp.a, tp.h, tp.b
	require.NoError(t, a.IP("link", "add", "vA", "type", "veth", "peer", "name", tp.hA, "netns", h.Name))
	require.NoError(t, b.IP("link", "add", "vB", "type", "veth", "peer", "name", "hB", "netns", h.Name))
	require.NoError(t, a.IP("addr", "add", icmpAddrA+"/24", "dev", "vA"))
	require.NoError(t, h.IP("addr", "add", icmpAddrH+"/24", "dev", tp.hA))
	require.NoError(t, h.IP("addr", "add", "10.1.0.1/24", "dev", "hB"))
	require.NoError(t, b.IP("addr", "add", "10.1.0.2/24", "dev", "vB"))
	require.NoError(t, h.IP("link", "set", "hB", "mtu", "1400"))
	for _, l := range []struct {
		n   *Netns
		dev string
	}{{a, "vA"}, {h, tp.hA}, {h, "hB"}, {b, "vB"}} {
		require.NoError(t, l.n.IP("link", "set", l.dev, "up"))
	}
	require.NoError(t, h.Sysctl("net.ipv4.ip_forward", "1"))
	for i := 0; i+1 < len(sysctls); i += 2 {
		require.NoError(t, h.Sysctl(sysctls[i], sysctls[i+1]))
	}
	require.NoError(t, h.IP("route", "add", "blackhole", "10.7.0.0/16"))
	require.NoError(t, h.IP("route", "add", "unreachable", "10.6.0.0/16"))
	require.NoError(t, h.IP("route", "add", "prohibit", "10.5.0.0/16"))
	hw := func(n *Netns, dev string) [6]byte {
		m, err := n.HardwareAddr(dev)
		require.NoError(t, err)
		return [6]byte(m)
	}
	tp.macA, tp.macH, tp.macHB, tp.macVB = hw(a, "vA"), hw(h, tp.hA), hw(h, "hB"), hw(b, "vB")
	require.NoError(t, a.IP("neigh", "add", icmpAddrH, "lladdr", macString(tp.macH), "dev", "vA", "nud", "permanent"))
	require.NoError(t, h.IP("neigh", "add", icmpAddrA, "lladdr", macString(tp.macA), "dev", tp.hA, "nud", "permanent"))
	require.NoError(t, h.IP("neigh", "add", "10.1.0.2", "lladdr", macString(tp.macVB), "dev", "hB", "nud", "permanent"))
	require.NoError(t, a.IP("route", "add", "default", "via", icmpAddrH))
	require.NoError(t, b.IP("route", "add", "default", "via", "10.1.0.1"))
	return tp
}

func macString(m [6]byte) string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])
}

// model is the topology as a model configuration; H's namespace gets ns.
func (tp *icmpTopo) model(ns netstack.NamespaceConfig, progs ...netstack.ProgramConfig) *netstack.Config {
	pfx := netip.MustParsePrefix
	ns.Name, ns.Forwarding = "H", true
	return &netstack.Config{
		Namespaces: []netstack.NamespaceConfig{{Name: "A"}, ns, {Name: "B"}},
		Devices: []netstack.DeviceConfig{
			{Name: "vA", Kind: netstack.KindVeth, Netns: "A", MAC: tp.macA, Addrs: []netip.Prefix{pfx(icmpAddrA + "/24")},
				Peer: "hA", PeerNetns: "H", PeerMAC: tp.macH, PeerAddrs: []netip.Prefix{pfx(icmpAddrH + "/24")}},
			{Name: "hB", Kind: netstack.KindVeth, Netns: "H", MAC: tp.macHB, MTU: 1400, Addrs: []netip.Prefix{pfx("10.1.0.1/24")},
				Peer: "vB", PeerNetns: "B", PeerMAC: tp.macVB, PeerAddrs: []netip.Prefix{pfx("10.1.0.2/24")}},
		},
		Routes: []netstack.RouteConfig{
			{Netns: "A", Dev: "vA", Via: netip.MustParseAddr(icmpAddrH)},
			{Netns: "B", Dev: "vB", Via: netip.MustParseAddr("10.1.0.1")},
			{Netns: "H", Dst: pfx("10.7.0.0/16"), Type: netstack.RouteBlackhole},
			{Netns: "H", Dst: pfx("10.6.0.0/16"), Type: netstack.RouteUnreachable},
			{Netns: "H", Dst: pfx("10.5.0.0/16"), Type: netstack.RouteProhibit},
		},
		Sockets:  []netstack.SocketConfig{{Name: "tx", Netns: "A", Proto: netstack.ProtoUDP, Port: 40000}},
		Programs: progs,
		Options:  netstack.Options{Replies: true},
	}
}

// icmpMsg is an ICMP message: its type and code, 4 more header bytes,
// then body; its checksum computed (spoilt when bad).
func icmpMsg(typ, code uint8, body []byte, bad bool) []byte {
	m := append([]byte{typ, code, 0, 0, 0x12, 0x34, 0, 1}, body...)
	binary.BigEndian.PutUint16(m[2:], inetCsum(m))
	if bad {
		m[2] ^= 0x55
	}
	return m
}

func inetCsum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s > 0xffff {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

// quoted is the first n bytes of a UDP datagram from H to A with an IHL
// of ihl words, as an ICMP error quotes it.
func quoted(ihl uint8, n int) []byte {
	q := udp4Packet([4]byte{192, 0, 2, 254}, [4]byte{192, 0, 2, 1}, 9, 9, 40)
	q[0] = 0x40 | ihl
	return q[:n]
}

// TestKernelICMPRcv: what icmp_rcv does with messages A sends to H, in
// the kernel (the kfree_skb tracepoint's drop reason on hA) and in the
// model (netstack's icmpRcv).
func TestKernelICMPRcv(t *testing.T) {
	testutil.KernelTests(t)
	probe, err := NewMetaProbe(false)
	testutil.SkipIfNotSupported(t, err)
	t.Cleanup(func() { require.NoError(t, probe.Close()) })
	tp := newICMPTopo(t)
	snd := newSocket(t, tp.a, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP)
	require.NoError(t, unix.SetsockoptInt(snd, unix.SOL_SOCKET, unix.SO_BROADCAST, 1))
	bcast := "192.0.2.255"
	for _, tc := range []struct {
		name string
		dst  string
		msg  []byte
	}{
		{"echo request", icmpAddrH, icmpMsg(8, 0, make([]byte, 32), false)},
		{"echo request, bad checksum", icmpAddrH, icmpMsg(8, 0, make([]byte, 32), true)},
		{"echo reply", icmpAddrH, icmpMsg(0, 0, make([]byte, 32), false)},
		{"echo request to the broadcast", bcast, icmpMsg(8, 0, make([]byte, 32), false)},
		{"address mask request to the broadcast", bcast, icmpMsg(17, 0, make([]byte, 4), false)},
		{"type 19", icmpAddrH, icmpMsg(19, 0, nil, false)},
		{"extended echo", icmpAddrH, icmpMsg(42, 0, make([]byte, 8), false)},
		{"4 bytes", icmpAddrH, icmpMsg(8, 0, nil, false)[:4]},
		{"port unreachable", icmpAddrH, icmpMsg(3, 3, quoted(5, 28), false)},
		{"port unreachable, quote of 10 bytes", icmpAddrH, icmpMsg(3, 3, quoted(5, 10), false)},
		{"port unreachable, IHL 4", icmpAddrH, icmpMsg(3, 3, quoted(4, 28), false)},
		{"port unreachable, no transport header", icmpAddrH, icmpMsg(3, 3, quoted(5, 20), false)},
		{"unreachable code 16, no transport header", icmpAddrH, icmpMsg(3, 16, quoted(5, 20), false)},
		{"fragment reassembly time exceeded, no transport header", icmpAddrH, icmpMsg(11, 1, quoted(5, 20), false)},
		{"TTL exceeded, no transport header", icmpAddrH, icmpMsg(11, 0, quoted(5, 20), false)},
		{"redirect, quote of 10 bytes", icmpAddrH, icmpMsg(5, 1, quoted(5, 10), false)},
		{"redirect", icmpAddrH, icmpMsg(5, 1, quoted(5, 28), false)},
		{"redirect, no transport header", icmpAddrH, icmpMsg(5, 1, quoted(5, 20), false)},
		{"timestamp request", icmpAddrH, icmpMsg(13, 0, make([]byte, 12), false)},
		{"timestamp request, 10 bytes", icmpAddrH, icmpMsg(13, 0, make([]byte, 2), false)},
		{"timestamp reply", icmpAddrH, icmpMsg(14, 0, make([]byte, 12), false)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if len(tc.msg) == 4 {
				binary.BigEndian.PutUint16(tc.msg[2:], 0)
				binary.BigEndian.PutUint16(tc.msg[2:], inetCsum(tc.msg))
			}
			dst := netip.MustParseAddr(tc.dst).As4()
			kern := watchDrop(t, probe, tp.hA, func() {
				require.NoError(t, unix.Sendto(snd, tc.msg, 0, &unix.SockaddrInet4{Addr: dst}))
			})
			t.Logf("kernel: %v", kern)

			cfg := tp.model(netstack.NamespaceConfig{})
			tp.rxAtH(cfg)
			pkt := make([]byte, 20, 20+len(tc.msg))
			pkt[0], pkt[8], pkt[9] = 0x45, 64, unix.IPPROTO_ICMP
			binary.BigEndian.PutUint16(pkt[2:], uint16(20+len(tc.msg)))
			copy(pkt[12:16], netip.MustParseAddr(icmpAddrA).AsSlice())
			copy(pkt[16:20], dst[:])
			binary.BigEndian.PutUint16(pkt[10:], inetCsum(pkt))
			frame := ethIPv4(append(pkt, tc.msg...))
			copy(frame[0:6], tp.macH[:])
			if tc.dst == bcast {
				copy(frame[0:6], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
			}
			copy(frame[6:12], tp.macA[:])
			obs := &nsDrops{ns: 3} // H's: host, A, H, B
			runModel(t, cfg, obs, frame, func(s *netstack.Stack) { require.Equal(t, obs.ns, s.Netns("H").ID()) })
			require.Equal(t, kern, obs.reasons, "model")
		})
	}
}

// nsDrops notes the drop reasons of one namespace.
type nsDrops struct {
	netstack.NopObserver
	ns      uint32
	reasons []string
}

func (r *nsDrops) Drop(e netstack.DropEvent) {
	if e.Netns == r.ns {
		r.reasons = append(r.reasons, e.Reason.String())
	}
}

// watchDrop runs send and returns the drop reason the probe saw for the
// first skb freed on dev meanwhile (none when it was consumed).
func watchDrop(t *testing.T, probe *MetaProbe, dev string, send func()) []string {
	t.Helper()
	require.NoError(t, probe.Watch(dev))
	send()
	time.Sleep(30 * time.Millisecond)
	seen, err := probe.Seen(dev)
	require.NoError(t, err)
	if seen.Count == 0 {
		return nil
	}
	name, err := DropReasonName(seen.Reason)
	require.NoError(t, err)
	return []string{name}
}

// icmpGot is an ICMP message A received: type, code, source and the
// IP packet's length.
type icmpGot struct {
	typ, code uint8
	src       string
	len       int
}

// TestKernelICMPErrors: the ICMP errors H sends A for a burst of UDP
// datagrams (port unreachable from H itself; time exceeded, fragmentation
// needed, no route and reject routes when forwarding), within the rate
// limits: the kernel's as a raw socket in A reads them, the model's as a
// tc ingress program on vA sees them.
func TestKernelICMPErrors(t *testing.T) {
	testutil.KernelTests(t)
	for _, tc := range []struct {
		name    string
		dst     string
		ttl     int
		payload int
		df      bool
		limit   int // net.ipv4.icmp_ratelimit (ms); -1 for 0
	}{
		{"port unreachable", icmpAddrH, 64, 100, false, 0},
		{"port unreachable, no limit", icmpAddrH, 64, 100, false, -1},
		{"port unreachable, quote cut", icmpAddrH, 64, 1000, false, 0},
		{"time exceeded", "10.1.0.2", 1, 100, false, 0},
		{"fragmentation needed", "10.1.0.2", 64, 1400, true, 0},
		{"no route", "203.0.113.1", 64, 100, false, 0},
		{"no route, no limit", "203.0.113.1", 64, 100, false, -1},
		{"unreachable route", "10.6.0.1", 64, 100, false, 0},
		{"prohibit route", "10.5.0.1", 64, 100, false, 0},
		{"blackhole route", "10.7.0.1", 64, 100, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const n = 10
			var sysctls []string
			if tc.limit != 0 {
				sysctls = []string{"net.ipv4.icmp_ratelimit", "0"}
			}
			tp := newICMPTopo(t, sysctls...)
			rcv := newSocket(t, tp.a, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP)
			require.NoError(t, unix.SetsockoptTimeval(rcv, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Usec: 300_000}))
			snd := newSocket(t, tp.a, unix.AF_INET, unix.SOCK_DGRAM, 0)
			require.NoError(t, unix.SetsockoptInt(snd, unix.IPPROTO_IP, unix.IP_TTL, tc.ttl))
			if tc.df {
				require.NoError(t, unix.SetsockoptInt(snd, unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_PROBE))
			}
			require.NoError(t, unix.Bind(snd, &unix.SockaddrInet4{Port: 40000}))
			dst := netip.MustParseAddr(tc.dst).As4()
			for range n {
				require.NoError(t, unix.Sendto(snd, make([]byte, tc.payload), 0, &unix.SockaddrInet4{Port: 9999, Addr: dst}))
			}
			var kern []icmpGot
			buf := make([]byte, 2048)
			for {
				k, _, err := unix.Recvfrom(rcv, buf, 0)
				if err != nil {
					break
				}
				ihl := int(buf[0]&0xf) * 4
				kern = append(kern, icmpGot{buf[ihl], buf[ihl+1], netip.AddrFrom4([4]byte(buf[12:16])).String(), k})
			}
			t.Logf("kernel: %d errors: %v", len(kern), kern)

			var model []icmpGot
			ns := netstack.NamespaceConfig{ICMPRatelimit: tc.limit}
			cfg := tp.model(ns, netstack.ProgramConfig{Name: "rx", Hook: carrier.HookTCIngress, Netns: "A", Dev: "vA",
				Prog: netstack.ProgramFunc(func(c *netstack.Ctx) int {
					d := c.Skb.Data()[14:]
					if d[9] == unix.IPPROTO_ICMP {
						model = append(model, icmpGot{d[20], d[21], netip.AddrFrom4([4]byte(d[12:16])).String(), c.Skb.Len() - 14})
					}
					return -1
				})})
			cfg.Entries = []netstack.EntryConfig{{Kind: netstack.EntryTX, Netns: "A", Socket: "tx"}}
			a := skb.NewAllocator(kmem.New(), skb.DefaultProfile())
			s, err := netstack.New(cfg, netstack.Env{Alloc: a, Observer: netstack.NopObserver{}})
			require.NoError(t, err)
			pkt := udp4Packet([4]byte{192, 0, 2, 1}, dst, 40000, 9999, tc.payload)
			pkt[8] = byte(tc.ttl)
			if tc.df {
				pkt[6] |= 0x40
			}
			for i := range n {
				require.NoError(t, s.Inject(&netstack.Packet{ID: uint64(i + 1), Tstamp: 1e15, Frame: pkt}))
			}
			s.Flush()
			require.NoError(t, s.Close())
			require.NoError(t, a.CheckLeaks())
			require.Equal(t, kern, model, "model")
		})
	}
}

// icmpMetaProgs are tc programs for hA: at ingress, skb->mark = 77; at
// egress, for each IPv4 (IPv6 when v6) packet of protocol proto, the
// count and the last one's mark, priority, hash, len, tstamp, the byte at
// typeOff into the transport header (the ICMP type, the TCP flags) and
// the two words after its first four bytes (TCP's sequence and
// acknowledgment numbers) into io's element 0.
func icmpMetaProgs(t *testing.T, io *ebpf.Map, v6 bool, proto uint8, typeOff int16, onlyType int32) (in, eg *ebpf.Program) {
	t.Helper()
	load := func(insns asm.Instructions) *ebpf.Program {
		p, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.SchedCLS, License: "GPL", Instructions: insns})
		require.NoError(t, err)
		t.Cleanup(func() { p.Close() })
		return p
	}
	typeFilter := asm.Mov.Reg(asm.R8, asm.R8) // onlyType < 0: every type
	if onlyType >= 0 {
		typeFilter = asm.JNE.Imm(asm.R8, onlyType, "out")
	}
	ethP, l4, protoOff := int32(htons(unix.ETH_P_IP)), int16(14+20), int16(14+9)
	if v6 {
		ethP, l4, protoOff = int32(htons(unix.ETH_P_IPV6)), 14+40, 14+6
	}
	in = load(asm.Instructions{
		asm.Mov.Imm(asm.R2, 77),
		asm.StoreMem(asm.R1, 8, asm.R2, asm.Word), // mark
		asm.Mov.Imm(asm.R0, -1),                   // TCX_NEXT
		asm.Return(),
	})
	eg = load(asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1),
		asm.LoadMem(asm.R2, asm.R6, 16, asm.Word), // protocol
		asm.JNE.Imm(asm.R2, ethP, "out"),
		asm.LoadMem(asm.R2, asm.R6, 76, asm.Word), // data
		asm.LoadMem(asm.R3, asm.R6, 80, asm.Word), // data_end
		asm.Mov.Reg(asm.R4, asm.R2),
		asm.Add.Imm(asm.R4, int32(l4)+16),
		asm.JGT.Reg(asm.R4, asm.R3, "out"),
		asm.LoadMem(asm.R4, asm.R2, protoOff, asm.Byte), // IP protocol, next header
		asm.JNE.Imm(asm.R4, int32(proto), "out"),
		asm.LoadMem(asm.R8, asm.R2, l4+typeOff, asm.Byte),
		typeFilter,
		asm.LoadMem(asm.R9, asm.R2, l4+4, asm.DWord),
		asm.StoreImm(asm.RFP, -4, 0, asm.Word),
		asm.LoadMapPtr(asm.R1, io.FD()),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -4),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "out"),
		asm.Mov.Reg(asm.R7, asm.R0),
		asm.LoadMem(asm.R1, asm.R7, 0, asm.DWord),
		asm.Add.Imm(asm.R1, 1),
		asm.StoreMem(asm.R7, 0, asm.R1, asm.DWord),
		asm.LoadMem(asm.R1, asm.R6, 8, asm.Word), // mark
		asm.StoreMem(asm.R7, 8, asm.R1, asm.Word),
		asm.LoadMem(asm.R1, asm.R6, 32, asm.Word), // priority
		asm.StoreMem(asm.R7, 12, asm.R1, asm.Word),
		asm.LoadMem(asm.R1, asm.R6, 68, asm.Word), // hash
		asm.StoreMem(asm.R7, 16, asm.R1, asm.Word),
		asm.LoadMem(asm.R1, asm.R6, 0, asm.Word), // len
		asm.StoreMem(asm.R7, 20, asm.R1, asm.Word),
		asm.LoadMem(asm.R1, asm.R6, 152, asm.DWord), // tstamp
		asm.StoreMem(asm.R7, 24, asm.R1, asm.DWord),
		asm.StoreMem(asm.R7, 32, asm.R8, asm.Word),
		asm.StoreMem(asm.R7, 40, asm.R9, asm.DWord),
		asm.Mov.Imm(asm.R0, -1).WithSymbol("out"),
		asm.Return(),
	})
	return in, eg
}

// attachMeta attaches icmpMetaProgs to tp's hA and returns their map.
func (tp *icmpTopo) attachMeta(t *testing.T, v6 bool, proto uint8, typeOff int16) *ebpf.Map {
	return tp.attachMetaType(t, v6, proto, typeOff, -1)
}

// attachMetaType is attachMeta noting only messages of type onlyType.
func (tp *icmpTopo) attachMetaType(t *testing.T, v6 bool, proto uint8, typeOff int16, onlyType int32) *ebpf.Map {
	t.Helper()
	io, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 48, MaxEntries: 1})
	testutil.SkipIfNotSupported(t, err)
	t.Cleanup(func() { io.Close() })
	in, eg := icmpMetaProgs(t, io, v6, proto, typeOff, onlyType)
	for _, p := range []struct {
		prog *ebpf.Program
		at   ebpf.AttachType
	}{{in, ebpf.AttachTCXIngress}, {eg, ebpf.AttachTCXEgress}} {
		l, err := attachTCXIn(tp.h, tp.hA, p.prog, p.at)
		require.NoError(t, err)
		t.Cleanup(func() { l.Close() })
	}
	return io
}

// rxAtH makes cfg's first device hA (in H, its peer vA in A) and the
// packets enter there with CHECKSUM_NONE, as a raw socket's skb arrives.
func (tp *icmpTopo) rxAtH(cfg *netstack.Config) {
	v := &cfg.Devices[0]
	v.Name, v.Netns, v.MAC, v.Addrs, v.Peer, v.PeerNetns, v.PeerMAC, v.PeerAddrs = "hA", "H", tp.macH, v.PeerAddrs, "vA", "A", tp.macA, v.Addrs
	v.RxChecksum = "off"
	cfg.Routes[0].Dev = "vA"
	cfg.Entries = []netstack.EntryConfig{{Netns: "H", Dev: "hA"}}
}

// metaModel is icmpMetaProgs in the model: programs for hA that set mark
// 77 at ingress and note into m at egress what the egress program notes
// (a hash as 1 when there is one).
func metaModel(m *icmpMeta, v6 bool, proto uint8, typeOff int) []netstack.ProgramConfig {
	return []netstack.ProgramConfig{
		{Name: "in", Hook: carrier.HookTCIngress, Netns: "H", Dev: "hA",
			Prog: netstack.ProgramFunc(func(c *netstack.Ctx) int { c.SetMark(77); return -1 })},
		{Name: "eg", Hook: carrier.HookTCEgress, Netns: "H", Dev: "hA",
			Prog: netstack.ProgramFunc(func(c *netstack.Ctx) int {
				d := c.Skb.Data()[14:]
				l4, p := 20, d[9]
				if v6 {
					l4, p = 40, d[6]
				}
				if p == proto {
					h := c.Skb.H()
					*m = icmpMeta{m.Count + 1, h.Mark, h.Priority, min(h.Hash, 1), uint32(c.Skb.Len()), uint64(h.Tstamp),
						uint32(d[l4+typeOff]), 0, [8]byte(d[l4+4 : l4+12])}
				}
				return -1
			})},
	}
}

// readMeta reads what icmpMetaProgs' egress program noted, once it noted
// something when wait is set, else after 100 ms (a hash as 1 when there
// is one: an IPv6 flow label's comes from the kernel's random key).
func readMeta(t *testing.T, io *ebpf.Map, wait bool) icmpMeta {
	t.Helper()
	var kern icmpMeta
	if wait {
		require.Eventually(t, func() bool {
			require.NoError(t, io.Lookup(uint32(0), &kern))
			return kern.Count != 0
		}, time.Second, 10*time.Millisecond)
	} else {
		time.Sleep(100 * time.Millisecond)
		require.NoError(t, io.Lookup(uint32(0), &kern))
	}
	kern.Pad = 0
	t.Logf("kernel: %+v", kern)
	kern.Hash = min(kern.Hash, 1)
	return kern
}

// icmpMeta is what icmpMetaProgs' egress program records.
type icmpMeta struct {
	Count                     uint64
	Mark, Priority, Hash, Len uint32
	Tstamp                    uint64
	Type, Pad                 uint32
	Words                     [8]byte
}

// TestKernelICMPReplyMeta: what the ICMP messages H sends carry at hA's
// tc egress (count, mark with and without fwmark_reflect, priority, hash,
// length, tstamp), after hA's tc ingress set mark 77 on the packet they
// answer: a port unreachable, a time exceeded and an echo reply.
func TestKernelICMPReplyMeta(t *testing.T) {
	testutil.KernelTests(t)
	for _, tc := range []struct {
		name    string
		echo    bool
		dst     string
		ttl     int
		reflect bool
	}{
		{"port unreachable", false, icmpAddrH, 64, false},
		{"port unreachable, fwmark_reflect", false, icmpAddrH, 64, true},
		{"time exceeded, fwmark_reflect", false, "10.1.0.2", 1, true},
		{"echo reply", true, icmpAddrH, 64, false},
		{"echo reply, fwmark_reflect", true, icmpAddrH, 64, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sysctls := []string{"net.ipv4.fwmark_reflect", "0"}
			if tc.reflect {
				sysctls[1] = "1"
			}
			tp := newICMPTopo(t, sysctls...)
			io := tp.attachMeta(t, false, unix.IPPROTO_ICMP, 0)
			dst := netip.MustParseAddr(tc.dst).As4()
			var pkt []byte
			if tc.echo {
				snd := newSocket(t, tp.a, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP)
				msg := icmpMsg(8, 0, make([]byte, 56), false)
				require.NoError(t, unix.Sendto(snd, msg, 0, &unix.SockaddrInet4{Addr: dst}))
				pkt = append(make([]byte, 20), msg...)
				pkt[0], pkt[8], pkt[9] = 0x45, 64, unix.IPPROTO_ICMP
				binary.BigEndian.PutUint16(pkt[2:], uint16(len(pkt)))
				copy(pkt[12:16], netip.MustParseAddr(icmpAddrA).AsSlice())
				copy(pkt[16:20], dst[:])
			} else {
				snd := newSocket(t, tp.a, unix.AF_INET, unix.SOCK_DGRAM, 0)
				require.NoError(t, unix.SetsockoptInt(snd, unix.IPPROTO_IP, unix.IP_TTL, tc.ttl))
				require.NoError(t, unix.Bind(snd, &unix.SockaddrInet4{Port: 40000}))
				require.NoError(t, unix.Sendto(snd, make([]byte, 100), 0, &unix.SockaddrInet4{Port: 9999, Addr: dst}))
				pkt = udp4Packet([4]byte{192, 0, 2, 1}, dst, 40000, 9999, 100)
				pkt[8] = byte(tc.ttl)
			}
			kern := readMeta(t, io, true)
			var model icmpMeta
			cfg := tp.model(netstack.NamespaceConfig{FwmarkReflect: tc.reflect}, metaModel(&model, false, unix.IPPROTO_ICMP, 0)...)
			cfg.Entries = []netstack.EntryConfig{{Kind: netstack.EntryTX, Netns: "A", Socket: "tx"}}
			if tc.echo {
				tp.rxAtH(cfg)
				binary.BigEndian.PutUint16(pkt[10:], inetCsum(pkt[:20]))
				f := ethIPv4(pkt)
				copy(f[0:6], tp.macH[:])
				copy(f[6:12], tp.macA[:])
				pkt = f
			}
			runModel(t, cfg, netstack.NopObserver{}, pkt, nil)
			require.Equal(t, kern, model, "model")
		})
	}
}

// tcpSeg is a TCP segment from A's port 40000 to H's port 9999 with flags,
// sequence and acknowledgment numbers and payload bytes, its checksum
// computed over the pseudo-header.
func tcpSeg(flags uint8, seq, ack uint32, payload int) []byte {
	th := make([]byte, 20+payload)
	binary.BigEndian.PutUint16(th[0:], 40000)
	binary.BigEndian.PutUint16(th[2:], 9999)
	binary.BigEndian.PutUint32(th[4:], seq)
	binary.BigEndian.PutUint32(th[8:], ack)
	th[12], th[13] = 5<<4, flags
	binary.BigEndian.PutUint16(th[14:], 512)
	ps := make([]byte, 12, 12+len(th))
	copy(ps[0:4], netip.MustParseAddr(icmpAddrA).AsSlice())
	copy(ps[4:8], netip.MustParseAddr(icmpAddrH).AsSlice())
	ps[9] = unix.IPPROTO_TCP
	binary.BigEndian.PutUint16(ps[10:], uint16(len(th)))
	binary.BigEndian.PutUint16(th[16:], inetCsum(append(ps, th...)))
	return th
}

// TestKernelTCPReset: the resets tcp_v4_send_reset sends for segments A
// sends to a port of H without a socket, at hA's tc egress: how many,
// their flags, sequence and acknowledgment numbers, length, and the
// skb's mark (with and without fwmark_reflect), priority, hash and
// tstamp, in 6.18 and in the model.
func TestKernelTCPReset(t *testing.T) {
	testutil.KernelTests(t)
	const (
		fin, syn, rst, psh, ack = 0x01, 0x02, 0x04, 0x08, 0x10
	)
	for _, tc := range []struct {
		name    string
		seg     []byte
		n       int
		reflect bool
	}{
		{"SYN", tcpSeg(syn, 1000, 0, 0), 1, false},
		{"SYN, fwmark_reflect", tcpSeg(syn, 1000, 0, 0), 1, true},
		{"ten SYNs", tcpSeg(syn, 1000, 0, 0), 10, false},
		{"ACK with data", tcpSeg(ack|psh, 1000, 5000, 10), 1, false},
		{"data without ACK", tcpSeg(psh, 1000, 0, 10), 1, false},
		{"FIN", tcpSeg(fin, 1000, 0, 0), 1, false},
		{"SYN with data", tcpSeg(syn|fin, 1000, 0, 7), 1, false},
		{"RST", tcpSeg(rst, 1000, 0, 0), 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sysctls := []string{"net.ipv4.fwmark_reflect", "0"}
			if tc.reflect {
				sysctls[1] = "1"
			}
			tp := newICMPTopo(t, sysctls...)
			io := tp.attachMeta(t, false, unix.IPPROTO_TCP, 13)
			snd := newSocket(t, tp.a, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_TCP)
			dst := netip.MustParseAddr(icmpAddrH).As4()
			for range tc.n {
				require.NoError(t, unix.Sendto(snd, tc.seg, 0, &unix.SockaddrInet4{Addr: dst}))
			}
			kern := readMeta(t, io, false)
			var model icmpMeta
			cfg := tp.model(netstack.NamespaceConfig{FwmarkReflect: tc.reflect}, metaModel(&model, false, unix.IPPROTO_TCP, 13)...)
			tp.rxAtH(cfg)
			pkt := make([]byte, 20, 20+len(tc.seg))
			pkt[0], pkt[8], pkt[9] = 0x45, 64, unix.IPPROTO_TCP
			binary.BigEndian.PutUint16(pkt[2:], uint16(20+len(tc.seg)))
			copy(pkt[12:16], netip.MustParseAddr(icmpAddrA).AsSlice())
			copy(pkt[16:20], dst[:])
			binary.BigEndian.PutUint16(pkt[10:], inetCsum(pkt))
			f := ethIPv4(append(pkt, tc.seg...))
			copy(f[0:6], tp.macH[:])
			copy(f[6:12], tp.macA[:])
			a := skb.NewAllocator(kmem.New(), skb.DefaultProfile())
			s, err := netstack.New(cfg, netstack.Env{Alloc: a, Observer: netstack.NopObserver{}})
			require.NoError(t, err)
			for i := range tc.n {
				require.NoError(t, s.Inject(&netstack.Packet{ID: uint64(i + 1), Frame: f}))
			}
			s.Flush()
			require.NoError(t, s.Close())
			require.NoError(t, a.CheckLeaks())
			require.Equal(t, kern, model, "model")
		})
	}
}
