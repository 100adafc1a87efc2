package kernel

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/internal/testutil"
	"github.com/skbsim/skbsim/netstack"
)

// arpCounter is a tc egress program noting into io's element 0 (an
// icmpMeta) how many ARP frames leave and the last one's length and
// operation.
func arpCounter(t *testing.T, io *ebpf.Map) *ebpf.Program {
	t.Helper()
	p, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.SchedCLS, License: "GPL", Instructions: asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1),
		asm.LoadMem(asm.R2, asm.R6, 16, asm.Word), // protocol
		asm.JNE.Imm(asm.R2, int32(htons(unix.ETH_P_ARP)), "out"),
		asm.LoadMem(asm.R2, asm.R6, 76, asm.Word), // data
		asm.LoadMem(asm.R3, asm.R6, 80, asm.Word), // data_end
		asm.Mov.Reg(asm.R4, asm.R2),
		asm.Add.Imm(asm.R4, 22),
		asm.JGT.Reg(asm.R4, asm.R3, "out"),
		asm.LoadMem(asm.R8, asm.R2, 21, asm.Byte), // ar_op's low byte
		asm.StoreImm(asm.RFP, -4, 0, asm.Word),
		asm.LoadMapPtr(asm.R1, io.FD()),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -4),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "out"),
		asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord),
		asm.Add.Imm(asm.R1, 1),
		asm.StoreMem(asm.R0, 0, asm.R1, asm.DWord),
		asm.LoadMem(asm.R1, asm.R6, 0, asm.Word), // len
		asm.StoreMem(asm.R0, 20, asm.R1, asm.Word),
		asm.StoreMem(asm.R0, 32, asm.R8, asm.Word),
		asm.Mov.Imm(asm.R0, -1).WithSymbol("out"),
		asm.Return(),
	}})
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })
	return p
}

// arpFrameFrom is an ARP frame from MAC src to dst: hardware type hrd,
// protocol pro, hardware address length hln, operation op, src and sip
// as the sender, tip as the target.
func arpFrameFrom(src, dst [6]byte, hrd, pro uint16, hln uint8, op uint16, sip, tip string) []byte {
	f := make([]byte, 14+28)
	copy(f[0:6], dst[:])
	copy(f[6:12], src[:])
	binary.BigEndian.PutUint16(f[12:], unix.ETH_P_ARP)
	a := f[14:]
	binary.BigEndian.PutUint16(a[0:], hrd)
	binary.BigEndian.PutUint16(a[2:], pro)
	a[4], a[5] = hln, 4
	binary.BigEndian.PutUint16(a[6:], op)
	copy(a[8:14], src[:])
	copy(a[14:18], netip.MustParseAddr(sip).AsSlice())
	copy(a[24:28], netip.MustParseAddr(tip).AsSlice())
	return f
}

// TestKernelARP: what arp_rcv and arp_process do with ARP frames A sends
// H (freed with their reason, or consumed) and whether H replies, in 6.18
// (the kfree_skb tracepoint on hA, an ARP counter on hA's tc egress) and
// in the model.
func TestKernelARP(t *testing.T) {
	testutil.KernelTests(t)
	probe, err := NewMetaProbe(false)
	testutil.SkipIfNotSupported(t, err)
	t.Cleanup(func() { require.NoError(t, probe.Close()) })
	tp := newICMPTopo(t)
	io, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 48, MaxEntries: 1})
	require.NoError(t, err)
	t.Cleanup(func() { io.Close() })
	l, err := attachTCXIn(tp.h, tp.hA, arpCounter(t, io), ebpf.AttachTCXEgress)
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	vA, err := tp.a.Ifindex("vA")
	require.NoError(t, err)
	pk := newSocket(t, tp.a, unix.AF_PACKET, unix.SOCK_RAW, 0)
	bcast := [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	arp := func(dst [6]byte, hrd, pro uint16, hln uint8, op uint16, sip, tip string) []byte {
		return arpFrameFrom(tp.macA, dst, hrd, pro, hln, op, sip, tip)
	}
	const ip4, h4 = icmpAddrA, icmpAddrH
	for _, tc := range []struct {
		name  string
		frame []byte
	}{
		{"request for H", arp(bcast, 1, unix.ETH_P_IP, 6, 1, ip4, h4)},
		{"request for another address", arp(bcast, 1, unix.ETH_P_IP, 6, 1, ip4, "192.0.2.77")},
		{"request for a multicast address", arp(bcast, 1, unix.ETH_P_IP, 6, 1, ip4, "224.0.0.1")},
		{"request for a loopback address", arp(bcast, 1, unix.ETH_P_IP, 6, 1, ip4, "127.0.0.1")},
		{"duplicate address probe for H", arp(bcast, 1, unix.ETH_P_IP, 6, 1, "0.0.0.0", h4)},
		{"request from H's own address", arp(bcast, 1, unix.ETH_P_IP, 6, 1, h4, h4)},
		{"reply", arp(tp.macH, 1, unix.ETH_P_IP, 6, 2, ip4, h4)},
		{"operation 3", arp(bcast, 1, unix.ETH_P_IP, 6, 3, ip4, h4)},
		{"hardware address length 8", arp(bcast, 1, unix.ETH_P_IP, 8, 1, ip4, h4)},
		{"IEEE 802 hardware type", arp(bcast, 6, unix.ETH_P_IP, 6, 1, ip4, h4)},
		{"hardware type 7", arp(bcast, 7, unix.ETH_P_IP, 6, 1, ip4, h4)},
		{"protocol IPv6", arp(bcast, 1, unix.ETH_P_IPV6, 6, 1, ip4, h4)},
		{"20 bytes", arp(bcast, 1, unix.ETH_P_IP, 6, 1, ip4, h4)[:14+20]},
		{"request to another MAC", arp([6]byte{2, 0, 0, 0, 0, 0x99}, 1, unix.ETH_P_IP, 6, 1, ip4, h4)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, io.Put(uint32(0), icmpMeta{}))
			kern := watchDrop(t, probe, tp.hA, func() {
				require.NoError(t, unix.Sendto(pk, tc.frame, 0, &unix.SockaddrLinklayer{Ifindex: vA, Protocol: htons(unix.ETH_P_ARP)}))
			})
			var kr icmpMeta
			require.NoError(t, io.Lookup(uint32(0), &kr))
			t.Logf("kernel: %v, %d replies (length %d, op %d)", kern, kr.Count, kr.Len, kr.Type)

			var mr icmpMeta
			cfg := tp.model(netstack.NamespaceConfig{}, netstack.ProgramConfig{Name: "eg", Hook: carrier.HookTCEgress, Netns: "H", Dev: "hA",
				Prog: netstack.ProgramFunc(func(c *netstack.Ctx) int {
					if d := c.Skb.Data(); binary.BigEndian.Uint16(d[12:14]) == unix.ETH_P_ARP {
						mr.Count++
						mr.Len, mr.Type = uint32(c.Skb.Len()), uint32(d[21])
					}
					return -1
				})})
			tp.rxAtH(cfg)
			obs := &nsDrops{ns: 3}
			runModel(t, cfg, obs, tc.frame, nil)
			require.Equal(t, kern, obs.reasons, "model: drop")
			require.Equal(t, kr, mr, "model: replies")
		})
	}
}

// TestKernelAnswersCgroupEgress: which answers a cgroup_skb egress program
// on the root cgroup sees, in 6.18 and in the model: the ICMP error and
// the IPv4 reset (the per-CPU ICMP and TCP sockets, made at boot, are the
// root's) and the neighbour advertisement (the namespace's ndisc socket,
// of the cgroup below the root that made the namespace), but not the
// IPv6 reset (tcp_v6_send_response gives it no owner).
func TestKernelAnswersCgroupEgress(t *testing.T) {
	testutil.KernelTests(t)
	root, err := cgroup2Root()
	testutil.SkipIfNotSupported(t, err)
	counts, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 4})
	require.NoError(t, err)
	t.Cleanup(func() { counts.Close() })
	a4 := binary.LittleEndian.Uint32(netip.MustParseAddr(icmpAddrA).AsSlice())
	a6 := binary.LittleEndian.Uint32(netip.MustParseAddr(icmp6AddrA).AsSlice()[12:])
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.CGroupSKB, License: "GPL", Instructions: asm.Instructions{
		// key: 0 ICMP to A, 1 TCP to A, 2 ICMPv6 type 136 to A, 3 TCP over IPv6 to A.
		asm.Mov.Reg(asm.R6, asm.R1),
		asm.LoadMem(asm.R2, asm.R6, 16, asm.Word), // protocol
		asm.LoadMem(asm.R7, asm.R6, 76, asm.Word), // data: the network header
		asm.LoadMem(asm.R8, asm.R6, 80, asm.Word), // data_end
		asm.JEq.Imm(asm.R2, int32(htons(unix.ETH_P_IPV6)), "v6"),
		asm.JNE.Imm(asm.R2, int32(htons(unix.ETH_P_IP)), "out"),
		asm.Mov.Reg(asm.R3, asm.R7),
		asm.Add.Imm(asm.R3, 20),
		asm.JGT.Reg(asm.R3, asm.R8, "out"),
		asm.LoadMem(asm.R4, asm.R7, 16, asm.Word),
		asm.JNE.Imm(asm.R4, int32(a4), "out"),
		asm.LoadMem(asm.R4, asm.R7, 9, asm.Byte),
		asm.Mov.Imm(asm.R9, 0),
		asm.JEq.Imm(asm.R4, unix.IPPROTO_ICMP, "count"),
		asm.Mov.Imm(asm.R9, 1),
		asm.JEq.Imm(asm.R4, unix.IPPROTO_TCP, "count"),
		asm.Ja.Label("out"),
		asm.Mov.Reg(asm.R3, asm.R7).WithSymbol("v6"),
		asm.Add.Imm(asm.R3, 41),
		asm.JGT.Reg(asm.R3, asm.R8, "out"),
		asm.LoadMem(asm.R4, asm.R7, 36, asm.Word),
		asm.JNE.Imm(asm.R4, int32(a6), "out"),
		asm.LoadMem(asm.R4, asm.R7, 6, asm.Byte),
		asm.Mov.Imm(asm.R9, 3),
		asm.JEq.Imm(asm.R4, unix.IPPROTO_TCP, "count"),
		asm.JNE.Imm(asm.R4, unix.IPPROTO_ICMPV6, "out"),
		asm.LoadMem(asm.R4, asm.R7, 40, asm.Byte),
		asm.JNE.Imm(asm.R4, 136, "out"),
		asm.Mov.Imm(asm.R9, 2),
		asm.StoreMem(asm.RFP, -4, asm.R9, asm.Word).WithSymbol("count"),
		asm.LoadMapPtr(asm.R1, counts.FD()),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -4),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "out"),
		asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord),
		asm.Add.Imm(asm.R1, 1),
		asm.StoreMem(asm.R0, 0, asm.R1, asm.DWord),
		asm.Mov.Imm(asm.R0, 1).WithSymbol("out"),
		asm.Return(),
	}})
	require.NoError(t, err)
	t.Cleanup(func() { prog.Close() })
	l, err := link.AttachCgroup(link.CgroupOptions{Path: root, Attach: ebpf.AttachCGroupInetEgress, Program: prog})
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })

	// The kernel: a UDP datagram and a SYN to closed ports of H over IPv4,
	// a solicitation and a SYN over IPv6.
	tp4, tp6 := newICMPTopo(t), newICMP6Topo(t)
	snd := newSocket(t, tp4.a, unix.AF_INET, unix.SOCK_DGRAM, 0)
	require.NoError(t, unix.Sendto(snd, make([]byte, 10), 0, &unix.SockaddrInet4{Port: 9999, Addr: netip.MustParseAddr(icmpAddrH).As4()}))
	raw := newSocket(t, tp4.a, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_TCP)
	require.NoError(t, unix.Sendto(raw, tcpSeg(0x02, 1000, 0, 0), 0, &unix.SockaddrInet4{Addr: netip.MustParseAddr(icmpAddrH).As4()}))
	ns := ndMsg(135, 0, icmp6AddrH, append([]byte{1, 1}, tp6.macA[:]...)...)
	nsPkt := ip6Packet(icmp6AddrH, 255, 58, ns, 2, false)
	sendRaw6(t, tp6.a, nsPkt)
	syn6 := make([]byte, 20)
	binary.BigEndian.PutUint16(syn6[0:], 40000)
	binary.BigEndian.PutUint16(syn6[2:], 9999)
	syn6[12], syn6[13] = 5<<4, 0x02
	synPkt := ip6Packet(icmp6AddrH, 64, unix.IPPROTO_TCP, syn6, 16, false)
	sendRaw6(t, tp6.a, synPkt)
	time.Sleep(100 * time.Millisecond)
	var kern [4]uint64
	for k := range kern {
		require.NoError(t, counts.Lookup(uint32(k), &kern[k]))
	}
	t.Logf("kernel: %v", kern)

	// The model, with the same root-cgroup program.
	var model [4]uint64
	eg := netstack.ProgramConfig{Name: "root", Hook: carrier.HookCgroupEgress, Prog: netstack.ProgramFunc(func(c *netstack.Ctx) int {
		d := c.Skb.Data()
		switch {
		case d[0]>>4 == 4 && netip.AddrFrom4([4]byte(d[16:20])).String() == icmpAddrA && d[9] == unix.IPPROTO_ICMP:
			model[0]++
		case d[0]>>4 == 4 && netip.AddrFrom4([4]byte(d[16:20])).String() == icmpAddrA && d[9] == unix.IPPROTO_TCP:
			model[1]++
		case d[0]>>4 == 6 && netip.AddrFrom16([16]byte(d[24:40])).String() == icmp6AddrA && d[6] == unix.IPPROTO_ICMPV6 && d[40] == 136:
			model[2]++
		case d[0]>>4 == 6 && netip.AddrFrom16([16]byte(d[24:40])).String() == icmp6AddrA && d[6] == unix.IPPROTO_TCP:
			model[3]++
		}
		return 1
	})}
	cfg := tp4.model(netstack.NamespaceConfig{}, eg)
	tp4.rxAtH(cfg)
	udp := udp4Packet([4]byte{192, 0, 2, 1}, netip.MustParseAddr(icmpAddrH).As4(), 40000, 9999, 10)
	binary.BigEndian.PutUint16(udp[10:], inetCsum(udp[:20]))
	f := ethIPv4(udp)
	copy(f[0:6], tp4.macH[:])
	copy(f[6:12], tp4.macA[:])
	runModel(t, cfg, netstack.NopObserver{}, f, nil)
	synv4 := tcpSeg(0x02, 1000, 0, 0)
	p4 := make([]byte, 20, 40)
	p4[0], p4[8], p4[9] = 0x45, 64, unix.IPPROTO_TCP
	binary.BigEndian.PutUint16(p4[2:], 40)
	copy(p4[12:16], netip.MustParseAddr(icmpAddrA).AsSlice())
	copy(p4[16:20], netip.MustParseAddr(icmpAddrH).AsSlice())
	binary.BigEndian.PutUint16(p4[10:], inetCsum(p4))
	f = ethIPv4(append(p4, synv4...))
	copy(f[0:6], tp4.macH[:])
	copy(f[6:12], tp4.macA[:])
	runModel(t, cfg, netstack.NopObserver{}, f, nil)
	cfg6 := tp6.model6(netstack.NamespaceConfig{}, true, eg)
	runModel(t, cfg6, netstack.NopObserver{}, tp6.frame6(nsPkt), nil)
	runModel(t, cfg6, netstack.NopObserver{}, tp6.frame6(synPkt), nil)
	require.Equal(t, kern, model, "model")
}

// TestKernelARPSysctls: whether H replies to ARP requests A sends under
// net.ipv4.conf.all.arp_ignore and arp_filter (arp_ignore,
// arp_filter), in 6.18 (an ARP counter on hA's tc egress) and in the
// model. H has 192.0.2.254 on hA, 10.1.0.1 on hB, a route to
// 198.51.100.0/24 through hB and the local route 203.0.113.0/24 (AnyIP).
func TestKernelARPSysctls(t *testing.T) {
	testutil.KernelTests(t)
	const ip4, h4, hb4, far, anyIP = icmpAddrA, icmpAddrH, "10.1.0.1", "198.51.100.1", "203.0.113.5"
	for _, tc := range []struct {
		name     string
		ignore   int
		filter   bool
		sip, tip string
	}{
		{"arp_ignore 0, hB's address", 0, false, ip4, hb4},
		{"arp_ignore 0, AnyIP", 0, false, ip4, anyIP},
		{"arp_ignore 0, a sender beyond hB", 0, false, far, h4},
		{"arp_ignore 1, H", 1, false, ip4, h4},
		{"arp_ignore 1, hB's address", 1, false, ip4, hb4},
		{"arp_ignore 1, AnyIP", 1, false, ip4, anyIP},
		{"arp_ignore 2, H", 2, false, ip4, h4},
		{"arp_ignore 2, a sender outside the subnet", 2, false, far, h4},
		{"arp_ignore 2, probe", 2, false, "0.0.0.0", h4},
		{"arp_ignore 2, hB's address", 2, false, ip4, hb4},
		{"arp_ignore 3, hB's address", 3, false, ip4, hb4},
		{"arp_ignore 3, AnyIP", 3, false, ip4, anyIP},
		{"arp_ignore 5", 5, false, ip4, hb4},
		{"arp_ignore 8, H", 8, false, ip4, h4},
		{"arp_ignore 8, probe", 8, false, "0.0.0.0", h4},
		{"arp_filter, hB's address", 0, true, ip4, hb4},
		{"arp_filter, a sender beyond hB", 0, true, far, h4},
		{"arp_filter, probe", 0, true, "0.0.0.0", h4},
		{"arp_filter, an unrouted sender", 0, true, "203.0.114.1", h4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tp := newICMPTopo(t, "net.ipv4.conf.all.arp_ignore", fmt.Sprint(tc.ignore), "net.ipv4.conf.all.arp_filter", map[bool]string{true: "1", false: "0"}[tc.filter])
			require.NoError(t, tp.h.IP("route", "add", "198.51.100.0/24", "via", "10.1.0.2", "dev", "hB"))
			require.NoError(t, tp.h.IP("route", "add", "local", "203.0.113.0/24", "dev", "lo"))
			f := arpFrameFrom(tp.macA, [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 1, unix.ETH_P_IP, 6, 1, tc.sip, tc.tip)
			kern := tp.arpReplies(t, f, 0)

			var replies uint64
			cfg := tp.model(netstack.NamespaceConfig{ARPIgnore: tc.ignore, ARPFilter: tc.filter}, arpReplyCounter(&replies))
			tp.rxAtH(cfg)
			cfg.Routes = append(cfg.Routes,
				netstack.RouteConfig{Netns: "H", Dst: netip.MustParsePrefix("198.51.100.0/24"), Dev: "hB", Via: netip.MustParseAddr("10.1.0.2")},
				netstack.RouteConfig{Netns: "H", Dst: netip.MustParsePrefix("203.0.113.0/24"), Dev: "lo", Type: netstack.RouteLocal})
			runModel(t, cfg, nil, f, nil)
			require.Equal(t, kern, replies, "model: replies")
		})
	}
}

// arpReplies sends ARP frame f from A's packet socket out of vA and
// counts the ARP frames H sends out of hA (at its tc egress) within
// 30 ms plus wait.
func (tp *icmpTopo) arpReplies(t *testing.T, f []byte, wait time.Duration) uint64 {
	t.Helper()
	io, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 48, MaxEntries: 1})
	require.NoError(t, err)
	t.Cleanup(func() { io.Close() })
	l, err := attachTCXIn(tp.h, tp.hA, arpCounter(t, io), ebpf.AttachTCXEgress)
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	vA, err := tp.a.Ifindex("vA")
	require.NoError(t, err)
	pk := newSocket(t, tp.a, unix.AF_PACKET, unix.SOCK_RAW, 0)
	require.NoError(t, unix.Sendto(pk, f, 0, &unix.SockaddrLinklayer{Ifindex: vA, Protocol: htons(unix.ETH_P_ARP)}))
	time.Sleep(30*time.Millisecond + wait)
	var kr icmpMeta
	require.NoError(t, io.Lookup(uint32(0), &kr))
	t.Logf("kernel: %d replies", kr.Count)
	return kr.Count
}

// arpReplyCounter is the model's program at hA's tc egress that counts
// the ARP frames leaving there into *n.
func arpReplyCounter(n *uint64) netstack.ProgramConfig {
	return netstack.ProgramConfig{Name: "eg", Hook: carrier.HookTCEgress, Netns: "H", Dev: "hA", Prog: netstack.ProgramFunc(func(c *netstack.Ctx) int {
		if d := c.Skb.Data(); binary.BigEndian.Uint16(d[12:14]) == unix.ETH_P_ARP {
			*n++
		}
		return -1
	})}
}

// changeTypeProg is a tc program that calls bpf_skb_change_type(skb, typ)
// on IPv4 packets and notes the return in io's element 0.
func changeTypeProg(t *testing.T, io *ebpf.Map, typ int32) *ebpf.Program {
	t.Helper()
	p, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.SchedCLS, License: "GPL", Instructions: asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1),
		asm.LoadMem(asm.R2, asm.R6, 16, asm.Word), // protocol
		asm.JNE.Imm(asm.R2, int32(htons(unix.ETH_P_IP)), "out"),
		asm.Mov.Reg(asm.R1, asm.R6),
		asm.Mov.Imm(asm.R2, typ),
		asm.FnSkbChangeType.Call(),
		asm.StoreMem(asm.RFP, -16, asm.R0, asm.DWord),
		asm.StoreImm(asm.RFP, -4, 0, asm.Word),
		asm.LoadMapPtr(asm.R1, io.FD()),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -4),
		asm.Mov.Reg(asm.R3, asm.RFP),
		asm.Add.Imm(asm.R3, -16),
		asm.Mov.Imm(asm.R4, 0),
		asm.FnMapUpdateElem.Call(),
		asm.Mov.Imm(asm.R0, -1).WithSymbol("out"),
		asm.Return(),
	}})
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })
	return p
}

// TestKernelChangeType: bpf_skb_change_type at hA's tc ingress on a
// datagram A sends: its return, and where the datagram ends (the first
// drop on hA and on B's vB), in 6.18 and in the model. PACKET_OTHERHOST
// makes ip_rcv_core drop it, PACKET_HOST takes in a frame to another
// host's address, ip_forward forwards PACKET_HOST only, and a type above
// PACKET_OTHERHOST is refused (-EINVAL).
func TestKernelChangeType(t *testing.T) {
	testutil.KernelTests(t)
	probe, err := NewMetaProbe(false)
	testutil.SkipIfNotSupported(t, err)
	t.Cleanup(func() { require.NoError(t, probe.Close()) })
	other := [6]byte{2, 0, 0, 0, 0, 0x99}
	for _, tc := range []struct {
		name   string
		typ    int32
		dstMAC func(tp *icmpTopo) [6]byte
		dst    string
	}{
		{"to H, otherhost", 3, func(tp *icmpTopo) [6]byte { return tp.macH }, icmpAddrH},
		{"to H, broadcast", 1, func(tp *icmpTopo) [6]byte { return tp.macH }, icmpAddrH},
		{"to another MAC, host", 0, func(*icmpTopo) [6]byte { return other }, icmpAddrH},
		{"to another MAC, unchanged", 3, func(*icmpTopo) [6]byte { return other }, icmpAddrH},
		{"forwarded, host", 0, func(tp *icmpTopo) [6]byte { return tp.macH }, "10.1.0.2"},
		{"forwarded, multicast", 2, func(tp *icmpTopo) [6]byte { return tp.macH }, "10.1.0.2"},
		{"forwarded, type 4", 4, func(tp *icmpTopo) [6]byte { return tp.macH }, "10.1.0.2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tp := newICMPTopo(t)
			io, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1})
			require.NoError(t, err)
			t.Cleanup(func() { io.Close() })
			require.NoError(t, io.Put(uint32(0), int64(1)))
			l, err := attachTCXIn(tp.h, tp.hA, changeTypeProg(t, io, tc.typ), ebpf.AttachTCXIngress)
			require.NoError(t, err)
			t.Cleanup(func() { l.Close() })
			frame := tp.rtFrame(icmpAddrA, tc.dst, 64)
			dstMAC := tc.dstMAC(tp)
			copy(frame[0:6], dstMAC[:])
			vA, err := tp.a.Ifindex("vA")
			require.NoError(t, err)
			kern := watchDrops(t, probe, []string{tp.hA, "vB"}, func() { sendFrame(t, tp.a, vA, net.HardwareAddr(frame[0:6]), frame) })
			var kret int64
			require.NoError(t, io.Lookup(uint32(0), &kret))
			t.Logf("kernel: %d, %v", kret, kern)

			mret := int64(1)
			cfg := tp.model(netstack.NamespaceConfig{}, netstack.ProgramConfig{Name: "ct", Hook: carrier.HookTCIngress, Netns: "H", Dev: "hA",
				Prog: netstack.ProgramFunc(func(c *netstack.Ctx) int {
					mret = int64(c.ChangeType(uint32(tc.typ)))
					return -1
				})})
			tp.rxAtH(cfg)
			obs := &devDrops{}
			var model map[string]string
			runModel(t, cfg, obs, frame, func(s *netstack.Stack) {
				model = obs.firsts(s, map[string][2]string{tp.hA: {"H", "hA"}, "vB": {"B", "vB"}})
			})
			require.Equal(t, kret, mret, "model: return")
			require.Equal(t, kern, model, "model: drops")
		})
	}
}

// TestKernelProxyARP: A asks for addresses H does not own; H answers for
// hA when hA proxies (net.ipv4.conf.hA.proxy_arp, or all's) and H
// forwards, and its route to the target leaves by another device with a
// source check that passes: a target beyond hB gets a reply; one on hA's
// own subnet, one without a route and a subnet broadcast do not, nor do
// requests without forwarding or with a sender strict rp_filter places
// behind hB. A proxy entry (`ip neigh add proxy`) on hA answers without
// proxy_arp for a target routed elsewhere. proxy_delay is 0 on hA but in the two cases that keep the
// default 80 jiffies: a broadcast request is answered once the delay has
// run (the test waits 1.2 s), a unicast one at once. The kernel's and the
// model's replies out of hA agree in number.
func TestKernelProxyARP(t *testing.T) {
	testutil.KernelTests(t)
	const ip4, far, far2 = icmpAddrA, "198.51.100.1", "198.51.100.9"
	for _, tc := range []struct {
		name           string
		dev, all       bool // proxy_arp on hA, on all
		noFwd          bool
		rpFilter       int
		sip, tip       string
		delay, unicast bool // keep proxy_delay's default; send to hA's address
		wait           time.Duration
		entry          bool // ip neigh add proxy TIP dev hA
	}{
		{"hA proxies, a target beyond hB", true, false, false, 0, ip4, far, false, false, 0, false},
		{"no proxy_arp", false, false, false, 0, ip4, far, false, false, 0, false},
		{"all proxies", false, true, false, 0, ip4, far, false, false, 0, false},
		{"a target on hA's subnet", true, false, false, 0, ip4, "192.0.2.77", false, false, 0, false},
		{"a target without a route", true, false, false, 0, ip4, "203.0.114.1", false, false, 0, false},
		{"hB's subnet broadcast", true, false, false, 0, ip4, "10.1.0.255", false, false, 0, false},
		{"forwarding off", true, false, true, 0, ip4, far, false, false, 0, false},
		{"a sender behind hB, no rp_filter", true, false, false, 0, far2, "10.1.0.9", false, false, 0, false},
		{"a sender behind hB, strict rp_filter", true, false, false, 1, far2, "10.1.0.9", false, false, 0, false},
		{"proxy_delay 80, broadcast", true, false, false, 0, ip4, far, true, false, 1200 * time.Millisecond, false},
		{"proxy_delay 80, unicast", true, false, false, 0, ip4, far, true, true, 0, false},
		{"a proxy entry beyond hB", false, false, false, 0, ip4, far, false, false, 0, true},
		{"a proxy entry on hA's subnet", false, false, false, 0, ip4, "192.0.2.77", false, false, 0, true},
		{"a proxy entry, forwarding off", false, false, true, 0, ip4, far, false, false, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tp := newICMPTopo(t, "net.ipv4.conf.all.proxy_arp", map[bool]string{true: "1", false: "0"}[tc.all],
				"net.ipv4.conf.all.rp_filter", fmt.Sprint(tc.rpFilter))
			on := map[bool]string{true: "1", false: "0"}
			require.NoError(t, tp.h.Sysctl("net.ipv4.conf."+tp.hA+".proxy_arp", on[tc.dev]))
			if !tc.delay {
				require.NoError(t, tp.h.Sysctl("net.ipv4.neigh."+tp.hA+".proxy_delay", "0"))
			}
			if tc.noFwd {
				require.NoError(t, tp.h.Sysctl("net.ipv4.ip_forward", "0"))
			}
			require.NoError(t, tp.h.IP("route", "add", "198.51.100.0/24", "via", "10.1.0.2", "dev", "hB"))
			if tc.entry {
				require.NoError(t, tp.h.IP("neigh", "add", "proxy", tc.tip, "dev", tp.hA))
			}
			dst := [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
			if tc.unicast {
				dst = tp.macH
			}
			f := arpFrameFrom(tp.macA, dst, 1, unix.ETH_P_IP, 6, 1, tc.sip, tc.tip)
			kern := tp.arpReplies(t, f, tc.wait)

			var replies uint64
			cfg := tp.model(netstack.NamespaceConfig{ProxyARP: tc.all, RPFilter: tc.rpFilter}, arpReplyCounter(&replies))
			cfg.Namespaces[1].Forwarding = !tc.noFwd
			tp.rxAtH(cfg)
			cfg.Devices[0].ProxyARP = tc.dev
			if tc.entry {
				cfg.Neighbours = append(cfg.Neighbours, netstack.NeighConfig{Netns: "H", Dev: "hA", Addr: netip.MustParseAddr(tc.tip), Proxy: true})
			}
			cfg.Routes = append(cfg.Routes,
				netstack.RouteConfig{Netns: "H", Dst: netip.MustParsePrefix("198.51.100.0/24"), Dev: "hB", Via: netip.MustParseAddr("10.1.0.2")})
			runModel(t, cfg, nil, f, nil)
			require.Equal(t, kern, replies, "model: replies")
		})
	}
}
