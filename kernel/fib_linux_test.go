package kernel

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"os"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/internal/testutil"
	"github.com/skbsim/skbsim/netstack"
)

// fibValue is the fib probe's map value: struct bpf_fib_lookup (64
// bytes), the flags, then the helper's return.
const (
	fibParamsLen = 64
	fibValueLen  = fibParamsLen + 8
)

// mapProbe is an XDP or tc program that looks up element 0 of io into
// R7 (the context in R6) and runs body, which calls a helper and stores
// what it returns; it returns 0. BPF_PROG_TEST_RUN runs it in the
// calling thread's namespace.
func mapProbe(t *testing.T, typ ebpf.ProgramType, io *ebpf.Map, body ...asm.Instruction) *ebpf.Program {
	t.Helper()
	insns := asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1),
		asm.StoreImm(asm.RFP, -4, 0, asm.Word),
		asm.LoadMapPtr(asm.R1, io.FD()),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -4),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "out"),
		asm.Mov.Reg(asm.R7, asm.R0),
		asm.Mov.Reg(asm.R1, asm.R6),
	}
	insns = append(insns, body...)
	insns = append(insns, asm.Mov.Imm(asm.R0, 0).WithSymbol("out"), asm.Return())
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: typ, License: "GPL", Instructions: insns})
	require.NoError(t, err)
	t.Cleanup(func() { prog.Close() })
	return prog
}

// fibProbe is a mapProbe calling bpf_fib_lookup(ctx, &value.params, 64,
// value.flags) and storing the return after the flags.
func fibProbe(t *testing.T, typ ebpf.ProgramType, io *ebpf.Map) *ebpf.Program {
	return mapProbe(t, typ, io,
		asm.Mov.Reg(asm.R2, asm.R7),
		asm.Mov.Imm(asm.R3, fibParamsLen),
		asm.LoadMem(asm.R4, asm.R7, fibParamsLen, asm.Word),
		asm.FnFibLookup.Call(),
		asm.StoreMem(asm.R7, fibParamsLen+4, asm.R0, asm.Word),
	)
}

// helperNamespaces creates the namespaces of the helper tests, named from
// prefix: H with eth0, a veth whose peer x0 is in X (the model's NIC), and
// veth0, whose peer vB is in B; nothing is up or addressed yet.
func helperNamespaces(t *testing.T, prefix string) (h, x, b *Netns) {
	t.Helper()
	h, x, b = newNetns(t, prefix+"H"), newNetns(t, prefix+"X"), newNetns(t, prefix+"B")
	require.NoError(t, h.IP("link", "add", "eth0", "type", "veth", "peer", "name", "x0", "netns", x.Name))
	require.NoError(t, h.IP("link", "add", "veth0", "type", "veth", "peer", "name", "vB", "netns", b.Name))
	return h, x, b
}

// encodeFib lays p out as struct bpf_fib_lookup, ifindex already the
// kernel's, then flags.
func encodeFib(p netstack.FibParams, flags uint32) []byte {
	v := make([]byte, fibValueLen)
	v[0], v[1] = p.Family, p.L4Protocol
	binary.BigEndian.PutUint16(v[2:], p.Sport)
	binary.BigEndian.PutUint16(v[4:], p.Dport)
	binary.LittleEndian.PutUint16(v[6:], p.TotLen)
	binary.LittleEndian.PutUint32(v[8:], uint32(p.Ifindex))
	v[12] = p.TOS
	if p.Family == netstack.AFInet6 {
		binary.BigEndian.PutUint32(v[12:], p.Flowinfo) // the union's __be32 flowinfo
	}
	putAddr := func(b []byte, a netip.Addr) {
		if a.Is4() {
			a4 := a.As4()
			copy(b, a4[:])
		} else if a.Is6() {
			a16 := a.As16()
			copy(b, a16[:])
		}
	}
	putAddr(v[16:32], p.Src)
	putAddr(v[32:48], p.Dst)
	binary.LittleEndian.PutUint32(v[48:], p.TBID)
	binary.LittleEndian.PutUint32(v[52:], p.Mark)
	binary.LittleEndian.PutUint32(v[fibParamsLen:], flags)
	return v
}

// decodeFib reads back the fields bpf_fib_lookup writes.
func decodeFib(v []byte) (p netstack.FibParams, rc int) {
	p.Family = v[0]
	p.TotLen = binary.LittleEndian.Uint16(v[6:])
	p.Ifindex = int32(binary.LittleEndian.Uint32(v[8:]))
	p.RtMetric = binary.LittleEndian.Uint32(v[12:])
	addr := func(b []byte) netip.Addr {
		if p.Family == netstack.AFInet6 {
			return netip.AddrFrom16([16]byte(b))
		}
		return netip.AddrFrom4([4]byte(b[:4]))
	}
	p.Src, p.Dst = addr(v[16:32]), addr(v[32:48])
	p.TBID = binary.LittleEndian.Uint32(v[48:])
	copy(p.Smac[:], v[52:58])
	copy(p.Dmac[:], v[58:64])
	return p, int(int32(binary.LittleEndian.Uint32(v[fibParamsLen+4:])))
}

// fibCase is one bpf_fib_lookup call of TestKernelFibLookup.
type fibCase struct {
	name     string
	family   uint8
	src, dst string
	in       string // the device named in Ifindex ("" for ifindex 999)
	totLen   uint16
	tbid     uint32
	mark     uint32 // with FibLookupMark
	l4       uint8  // l4_protocol
	sport    uint16
	dport    uint16
	flowinfo uint32 // IPv6's flowinfo (host order)
	tos      uint8
	flags    uint32
	noFwd    bool
	xdp      bool
	frameLen int  // the data the program runs on (at least 60 bytes)
	usePMTU  bool // net.ipv4.ip_forward_use_pmtu
}

// fibResult is what the test compares: the return and the outputs, the
// ifindex as a device name.
type fibResult struct {
	RC       string
	Dev      string
	Src, Dst netip.Addr
	Smac     net.HardwareAddr
	Dmac     net.HardwareAddr
	MTU      uint16
	Metric   uint32
	TBID     uint32
}

// fibHarness is TestKernelFibLookup's namespace H with the probes that
// call bpf_fib_lookup there.
type fibHarness struct {
	h               *Netns
	macs            map[string]net.HardwareAddr
	index           map[string]int32
	macB, gw        net.HardwareAddr
	io              *ebpf.Map
	tcProg, xdpProg *ebpf.Program
}

// newFibHarness sets up H, X and B (see TestKernelFibLookup).
func newFibHarness(t *testing.T, prefix string) *fibHarness {
	t.Helper()
	h, x, b := helperNamespaces(t, prefix)
	// NewNetns disables IPv6 on new devices; these three need it.
	for _, d := range []struct {
		n   *Netns
		dev string
	}{{h, "eth0"}, {h, "veth0"}, {b, "vB"}} {
		require.NoError(t, d.n.Do(func() error { return writeSysctl("net/ipv6/conf/"+d.dev+"/disable_ipv6", "0") }))
	}
	for _, c := range [][]string{
		{"addr", "add", "192.0.2.1/24", "dev", "eth0"},
		{"addr", "add", "2001:db8:1::1/64", "dev", "eth0", "nodad"},
		{"link", "set", "eth0", "up"},
		{"link", "set", "veth0", "mtu", "1400", "up"},
		{"addr", "add", "10.1.0.1/24", "dev", "veth0"},
		{"addr", "add", "fd00:1::1/64", "dev", "veth0", "nodad"},
		{"route", "add", "10.9.0.0/16", "via", "10.1.0.254", "dev", "veth0"},
		{"route", "add", "10.8.0.0/16", "via", "10.1.0.253", "dev", "veth0"},
		{"-6", "route", "add", "fd00:9::/64", "via", "fd00:1::2", "dev", "veth0"},
		{"route", "add", "10.4.0.0/16", "via", "10.1.0.254", "dev", "veth0", "mtu", "1300"},
		{"route", "add", "10.3.0.0/16", "via", "inet6", "fd00:1::2", "dev", "veth0"},
		{"-6", "route", "add", "fd00:4::/64", "via", "fd00:1::2", "dev", "veth0", "mtu", "1300"},
		{"route", "add", "10.2.0.0/16", "via", "10.1.0.254", "dev", "veth0", "mtu", "lock", "1300"},
		{"route", "add", "10.11.0.0/16", "via", "10.1.0.254", "dev", "veth0", "mtu", "lock", "0"},
		{"-6", "route", "add", "fd00:2::/64", "via", "fd00:1::2", "dev", "veth0", "mtu", "lock", "1300"},
		{"route", "add", "10.12.0.0/16", "via", "10.1.0.254", "dev", "veth0", "src", "192.0.2.1"},
		{"-6", "route", "add", "fd00:12::/64", "via", "fd00:1::2", "dev", "veth0", "src", "2001:db8:1::1"},
		{"route", "add", "blackhole", "10.7.0.0/16"},
		{"route", "add", "unreachable", "10.6.0.0/16"},
		{"route", "add", "prohibit", "10.5.0.0/16"},
		{"-6", "route", "add", "blackhole", "2001:db8:7::/48"},
		{"-6", "route", "add", "unreachable", "2001:db8:6::/48"},
		{"-6", "route", "add", "prohibit", "2001:db8:5::/48"},
	} {
		require.NoError(t, h.IP(c...), "%v", c)
	}
	require.NoError(t, x.IP("link", "set", "x0", "up"))
	require.NoError(t, b.IP("link", "set", "vB", "mtu", "1400", "up"))
	require.NoError(t, b.IP("addr", "add", "10.1.0.2/24", "dev", "vB"))
	require.NoError(t, b.IP("addr", "add", "fd00:1::2/64", "dev", "vB", "nodad"))
	macB, err := b.HardwareAddr("vB")
	require.NoError(t, err)
	gw := net.HardwareAddr{2, 0, 0, 0, 0, 0xfe}
	for _, n := range [][]string{
		{"neigh", "add", "10.1.0.254", "lladdr", gw.String(), "dev", "veth0", "nud", "permanent"},
		{"neigh", "add", "10.1.0.2", "lladdr", macB.String(), "dev", "veth0", "nud", "permanent"},
		{"-6", "neigh", "add", "fd00:1::2", "lladdr", macB.String(), "dev", "veth0", "nud", "permanent"},
	} {
		require.NoError(t, h.IP(n...), "%v", n)
	}
	macs := map[string]net.HardwareAddr{}
	index := map[string]int32{}
	for _, d := range []string{"eth0", "veth0"} {
		macs[d], err = h.HardwareAddr(d)
		require.NoError(t, err)
		i, err := h.Ifindex(d)
		require.NoError(t, err)
		index[d] = int32(i)
	}
	io, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: fibValueLen, MaxEntries: 1})
	require.NoError(t, err)
	t.Cleanup(func() { io.Close() })
	tcProg, xdpProg := fibProbe(t, ebpf.SchedCLS, io), fibProbe(t, ebpf.XDP, io)
	return &fibHarness{h: h, macs: macs, index: index, macB: macB, gw: gw, io: io, tcProg: tcProg, xdpProg: xdpProg}
}

// run runs tc in the kernel and in the model (whose configuration extra
// may change) and compares the results.
func (fh *fibHarness) run(t *testing.T, tc fibCase, extra func(*netstack.Config)) {
	t.Helper()
	h, index, io := fh.h, fh.index, fh.io
	on := map[bool]string{true: "0", false: "1"}[tc.noFwd]
	require.NoError(t, h.Sysctl("net.ipv4.ip_forward", on))
	require.NoError(t, h.Sysctl("net.ipv6.conf.all.forwarding", on))
	require.NoError(t, h.Sysctl("net.ipv4.ip_forward_use_pmtu", map[bool]string{true: "1", false: "0"}[tc.usePMTU]))
	p := netstack.FibParams{Family: tc.family, Src: netip.MustParseAddr(tc.src), Dst: netip.MustParseAddr(tc.dst),
		TotLen: tc.totLen, TBID: tc.tbid, Mark: tc.mark, L4Protocol: tc.l4, Sport: tc.sport, Dport: tc.dport, TOS: tc.tos,
		Flowinfo: tc.flowinfo, Ifindex: 999}
	if tc.in != "" {
		p.Ifindex = index[tc.in]
	}
	require.NoError(t, io.Put(uint32(0), encodeFib(p, tc.flags)))
	frame := fibFrame(max(tc.frameLen, 60))
	prog := fh.tcProg
	if tc.xdp {
		prog = fh.xdpProg
	}
	require.NoError(t, h.Do(func() error {
		_, err := prog.Run(&ebpf.RunOptions{Data: frame})
		return err
	}))
	var v []byte
	require.NoError(t, io.Lookup(uint32(0), &v))
	kp, krc := decodeFib(v)
	names := map[int32]string{}
	for d, i := range index {
		names[i] = d
	}
	kern := fibResultOf(kp, krc, names)

	mp, mrc, mnames := modelFibLookup(t, tc, fh.macs, fh.macB, fh.gw, frame, extra)
	model := fibResultOf(mp, mrc, mnames)
	t.Logf("kernel: %+v", kern)
	require.Equal(t, kern, model, "model")
}

// TestKernelFibLookup: bpf_fib_lookup's returns and outputs on 6.18 and in
// the model (Ctx.FibLookup) for the same namespace: eth0 (a veth whose
// peer has no address, standing for the model's NIC; 192.0.2.1/24,
// 2001:db8:1::1/64) and veth0 (MTU 1400; 10.1.0.1/24, fd00:1::1/64) to
// B's vB (10.1.0.2, fd00:1::2); 10.9.0.0/16 via 10.1.0.254 (a permanent
// neighbour), 10.8.0.0/16 via 10.1.0.253 (none), fd00:9::/64 via
// fd00:1::2; blackhole 10.7.0.0/16, unreachable 10.6.0.0/16, prohibit
// 10.5.0.0/16; permanent neighbours for vB's addresses (the model assumes
// the ARP and ND exchanges with a peer done). The kernel runs a tc or XDP
// program under BPF_PROG_TEST_RUN in the namespace (bpf_skb_fib_lookup:
// the skb of frameLen bytes is checked against the egress device when
// tot_len is 0; bpf_xdp_fib_lookup checks tot_len always); the model runs
// a Go program at eth0's tc ingress or XDP hook on a frame of the same
// length. Every case agrees: local, broadcast and link-local destinations,
// forwarding off, no route, no neighbour, skip_neigh, the output device,
// the table, the source address, the MTU checks (the device's, even
// through a route with an mtu metric, unless the metric is locked or,
// for IPv4, ip_forward_use_pmtu is set; a locked 0 is the device's), an
// IPv4 route through an IPv6
// gateway (the result in AF_INET6), the reject routes (with
// OUTPUT and DIRECT too), bad flags, family and ifindex.
func TestKernelFibLookup(t *testing.T) {
	testutil.KernelTests(t)
	fh := newFibHarness(t, "fib")
	const (
		v4 = netstack.AFInet
		v6 = netstack.AFInet6
	)
	cases := []fibCase{
		{name: "on link", family: v4, src: "192.0.2.9", dst: "10.1.0.2", in: "eth0"},
		{name: "through a gateway", family: v4, src: "192.0.2.9", dst: "10.9.1.1", in: "eth0"},
		{name: "no neighbour", family: v4, src: "192.0.2.9", dst: "10.8.1.1", in: "eth0"},
		{name: "skip_neigh", family: v4, src: "192.0.2.9", dst: "10.8.1.1", in: "eth0", flags: netstack.FibLookupSkipNeigh},
		{name: "local address", family: v4, src: "192.0.2.9", dst: "10.1.0.1", in: "eth0"},
		{name: "local address, direct", family: v4, src: "192.0.2.9", dst: "10.1.0.1", in: "eth0", flags: netstack.FibLookupDirect},
		{name: "subnet broadcast", family: v4, src: "192.0.2.9", dst: "10.1.0.255", in: "eth0"},
		{name: "limited broadcast", family: v4, src: "192.0.2.9", dst: "255.255.255.255", in: "eth0"},
		{name: "multicast", family: v4, src: "192.0.2.9", dst: "239.1.1.1", in: "eth0"},
		{name: "no route", family: v4, src: "192.0.2.9", dst: "203.0.113.1", in: "eth0"},
		{name: "forwarding off", family: v4, src: "192.0.2.9", dst: "10.1.0.2", in: "eth0", noFwd: true},
		{name: "forwarding off, output", family: v4, src: "192.0.2.9", dst: "10.1.0.2", in: "veth0", noFwd: true, flags: netstack.FibLookupOutput},
		{name: "output through eth0", family: v4, src: "192.0.2.9", dst: "10.1.0.2", in: "eth0", flags: netstack.FibLookupOutput},
		{name: "output through veth0", family: v4, src: "192.0.2.9", dst: "10.1.0.2", in: "veth0", flags: netstack.FibLookupOutput},
		{name: "table main", family: v4, src: "192.0.2.9", dst: "10.1.0.2", in: "eth0", tbid: 254, flags: netstack.FibLookupDirect | netstack.FibLookupTBID},
		{name: "table local", family: v4, src: "192.0.2.9", dst: "10.1.0.2", in: "eth0", tbid: 255, flags: netstack.FibLookupDirect | netstack.FibLookupTBID},
		{name: "table 0", family: v4, src: "192.0.2.9", dst: "10.1.0.2", in: "eth0", flags: netstack.FibLookupDirect | netstack.FibLookupTBID},
		{name: "IPv6 table 100", family: v6, src: "2001:db8:1::9", dst: "fd00:1::2", in: "eth0", tbid: 100, flags: netstack.FibLookupDirect | netstack.FibLookupTBID},
		{name: "IPv6 table local", family: v6, src: "2001:db8:1::9", dst: "fd00:1::2", in: "eth0", tbid: 255, flags: netstack.FibLookupDirect | netstack.FibLookupTBID},
		{name: "IPv6 local, direct", family: v6, src: "2001:db8:1::9", dst: "fd00:1::1", in: "eth0", flags: netstack.FibLookupDirect},
		{name: "table 100", family: v4, src: "192.0.2.9", dst: "10.1.0.2", in: "eth0", tbid: 100, flags: netstack.FibLookupDirect | netstack.FibLookupTBID},
		{name: "source address", family: v4, src: "192.0.2.9", dst: "10.9.1.1", in: "eth0", flags: netstack.FibLookupSrc},
		{name: "source address, the route's src", family: v4, src: "192.0.2.9", dst: "10.12.1.1", in: "eth0", flags: netstack.FibLookupSrc},
		{name: "IPv6 source address, the route's src", family: v6, src: "2001:db8:1::9", dst: "fd00:12::5", in: "eth0", flags: netstack.FibLookupSrc},
		{name: "tot_len above the MTU", family: v4, src: "192.0.2.9", dst: "10.1.0.2", in: "eth0", totLen: 1401},
		{name: "tot_len at the MTU", family: v4, src: "192.0.2.9", dst: "10.1.0.2", in: "eth0", totLen: 1400},
		{name: "xdp: tot_len at the MTU", family: v4, src: "192.0.2.9", dst: "10.1.0.2", in: "eth0", totLen: 1400, xdp: true},
		{name: "xdp: tot_len 0, a long frame", family: v4, src: "192.0.2.9", dst: "10.1.0.2", in: "eth0", xdp: true, frameLen: 1500},
		{name: "tc: the skb at mtu + 18", family: v4, src: "192.0.2.9", dst: "10.1.0.2", in: "eth0", frameLen: 1418},
		{name: "tc: the skb above mtu + 18", family: v4, src: "192.0.2.9", dst: "10.1.0.2", in: "eth0", frameLen: 1419},
		{name: "unknown flag", family: v4, src: "192.0.2.9", dst: "10.1.0.2", in: "eth0", flags: 1 << 6},
		{name: "no family", family: 0, src: "192.0.2.9", dst: "10.1.0.2", in: "eth0"},
		{name: "no device", family: v4, src: "192.0.2.9", dst: "10.1.0.2"},
		{name: "blackhole", family: v4, src: "192.0.2.9", dst: "10.7.0.1", in: "eth0"},
		{name: "unreachable", family: v4, src: "192.0.2.9", dst: "10.6.0.1", in: "eth0"},
		{name: "prohibit", family: v4, src: "192.0.2.9", dst: "10.5.0.1", in: "eth0"},
		{name: "blackhole, output", family: v4, src: "192.0.2.9", dst: "10.7.0.1", in: "veth0", flags: netstack.FibLookupOutput},
		{name: "blackhole, direct", family: v4, src: "192.0.2.9", dst: "10.7.0.1", in: "eth0", flags: netstack.FibLookupDirect},
		{name: "blackhole, forwarding off", family: v4, src: "192.0.2.9", dst: "10.7.0.1", in: "eth0", noFwd: true},
		{name: "IPv6 on link", family: v6, src: "2001:db8:1::9", dst: "fd00:1::2", in: "eth0"},
		{name: "IPv6 through a gateway", family: v6, src: "2001:db8:1::9", dst: "fd00:9::5", in: "eth0"},
		{name: "IPv6 link-local", family: v6, src: "2001:db8:1::9", dst: "fe80::1", in: "eth0"},
		{name: "IPv6 local", family: v6, src: "2001:db8:1::9", dst: "fd00:1::1", in: "eth0"},
		{name: "IPv6 no route", family: v6, src: "2001:db8:1::9", dst: "2001:db8:9::1", in: "eth0"},
		{name: "IPv6 forwarding off", family: v6, src: "2001:db8:1::9", dst: "fd00:1::2", in: "eth0", noFwd: true},
		{name: "IPv6 source address", family: v6, src: "2001:db8:1::9", dst: "fd00:9::5", in: "eth0", flags: netstack.FibLookupSrc},
		{name: "IPv6 blackhole", family: v6, src: "2001:db8:1::9", dst: "2001:db8:7::1", in: "eth0"},
		{name: "IPv6 unreachable", family: v6, src: "2001:db8:1::9", dst: "2001:db8:6::1", in: "eth0"},
		{name: "IPv6 prohibit", family: v6, src: "2001:db8:1::9", dst: "2001:db8:5::1", in: "eth0"},
		{name: "IPv6 tot_len above the MTU", family: v6, src: "2001:db8:1::9", dst: "fd00:1::2", in: "eth0", totLen: 1401},
		{name: "IPv6 gateway", family: v4, src: "192.0.2.9", dst: "10.3.1.1", in: "eth0"},
		{name: "IPv6 gateway, source address", family: v4, src: "192.0.2.9", dst: "10.3.1.1", in: "eth0", flags: netstack.FibLookupSrc},
		{name: "IPv6 gateway, skip_neigh", family: v4, src: "192.0.2.9", dst: "10.3.1.1", in: "eth0", flags: netstack.FibLookupSkipNeigh},
		{name: "route mtu, tot_len above it", family: v4, src: "192.0.2.9", dst: "10.4.1.1", in: "eth0", totLen: 1301},
		{name: "route mtu, tot_len at it", family: v4, src: "192.0.2.9", dst: "10.4.1.1", in: "eth0", totLen: 1300},
		{name: "route mtu, xdp, tot_len 0", family: v4, src: "192.0.2.9", dst: "10.4.1.1", in: "eth0", xdp: true},
		{name: "route mtu, tc, the skb checked", family: v4, src: "192.0.2.9", dst: "10.4.1.1", in: "eth0", frameLen: 1400},
		{name: "IPv6 route mtu, tot_len above it", family: v6, src: "2001:db8:1::9", dst: "fd00:4::5", in: "eth0", totLen: 1301},
		{name: "IPv6 route mtu, tot_len at it", family: v6, src: "2001:db8:1::9", dst: "fd00:4::5", in: "eth0", totLen: 1300},
		{name: "route mtu, ip_forward_use_pmtu, tot_len above it", family: v4, src: "192.0.2.9", dst: "10.4.1.1", in: "eth0", totLen: 1301, usePMTU: true},
		{name: "route mtu, ip_forward_use_pmtu, tot_len at it", family: v4, src: "192.0.2.9", dst: "10.4.1.1", in: "eth0", totLen: 1300, usePMTU: true},
		{name: "IPv6 route mtu, ip_forward_use_pmtu", family: v6, src: "2001:db8:1::9", dst: "fd00:4::5", in: "eth0", totLen: 1301, usePMTU: true},
		{name: "locked route mtu, tot_len above it", family: v4, src: "192.0.2.9", dst: "10.2.1.1", in: "eth0", totLen: 1301},
		{name: "locked route mtu, tot_len at it", family: v4, src: "192.0.2.9", dst: "10.2.1.1", in: "eth0", totLen: 1300},
		{name: "locked route mtu, xdp", family: v4, src: "192.0.2.9", dst: "10.2.1.1", in: "eth0", totLen: 1301, xdp: true},
		{name: "locked route mtu 0, tot_len 1400", family: v4, src: "192.0.2.9", dst: "10.11.1.1", in: "eth0", totLen: 1400},
		{name: "locked route mtu 0, tot_len 1401", family: v4, src: "192.0.2.9", dst: "10.11.1.1", in: "eth0", totLen: 1401},
		{name: "IPv6 locked route mtu, tot_len above it", family: v6, src: "2001:db8:1::9", dst: "fd00:2::5", in: "eth0", totLen: 1301},
		{name: "IPv6 locked route mtu, tot_len at it", family: v6, src: "2001:db8:1::9", dst: "fd00:2::5", in: "eth0", totLen: 1300},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { fh.run(t, tc, nil) })
	}
}

// fibFrame is an Ethernet frame of n bytes carrying an IPv4 UDP datagram
// (the lookups do not read it).
func fibFrame(n int) []byte {
	f := make([]byte, n)
	binary.BigEndian.PutUint16(f[12:], unix.ETH_P_IP)
	copy(f[14:], udp4Packet([4]byte{192, 0, 2, 9}, [4]byte{10, 1, 0, 2}, 1000, 2000, n-14-28))
	return f
}

func fibResultOf(p netstack.FibParams, rc int, names map[int32]string) fibResult {
	r := fibResult{RC: netstack.FibRetName(rc)}
	if rc < 0 {
		return r // nothing written
	}
	r.Dev = names[p.Ifindex]
	if r.Dev == "" {
		r.Dev = fmt.Sprint(p.Ifindex)
	}
	r.Src, r.Dst, r.MTU, r.Metric, r.TBID = p.Src, p.Dst, p.TotLen, p.RtMetric, p.TBID
	r.Smac, r.Dmac = net.HardwareAddr(p.Smac[:]), net.HardwareAddr(p.Dmac[:])
	return r
}

// modelFibLookup runs tc's lookup in the model: the namespace of
// TestKernelFibLookup with the kernel's addresses, and a Go program at
// eth0's tc ingress or XDP hook calling Ctx.FibLookup on frame.
func modelFibLookup(t *testing.T, tc fibCase, macs map[string]net.HardwareAddr, macB, gw net.HardwareAddr, frame []byte,
	extra func(*netstack.Config)) (netstack.FibParams, int, map[int32]string) {
	t.Helper()
	p := netstack.FibParams{Family: tc.family, Src: netip.MustParseAddr(tc.src), Dst: netip.MustParseAddr(tc.dst),
		TotLen: tc.totLen, TBID: tc.tbid, Mark: tc.mark, L4Protocol: tc.l4, Sport: tc.sport, Dport: tc.dport, TOS: tc.tos,
		Flowinfo: tc.flowinfo, Ifindex: 999}
	rc := 1000
	names := map[int32]string{}
	hook := carrier.HookTCIngress
	if tc.xdp {
		hook = carrier.HookXDP
	}
	pfx := netip.MustParsePrefix
	cfg := &netstack.Config{
		Namespaces: []netstack.NamespaceConfig{{Name: "H", Forwarding: !tc.noFwd, IPv6Forwarding: !tc.noFwd, IPForwardUsePMTU: tc.usePMTU},
			{Name: "X"}, {Name: "B"}},
		Devices: []netstack.DeviceConfig{
			{Name: "eth0", Kind: netstack.KindVeth, Netns: "H", MAC: [6]byte(macs["eth0"]), Addrs: []netip.Prefix{pfx("192.0.2.1/24"), pfx("2001:db8:1::1/64")},
				Peer: "x0", PeerNetns: "X"},
			{Name: "veth0", Kind: netstack.KindVeth, Netns: "H", MAC: [6]byte(macs["veth0"]), MTU: 1400,
				Addrs: []netip.Prefix{pfx("10.1.0.1/24"), pfx("fd00:1::1/64")}, Peer: "vB", PeerNetns: "B", PeerMAC: [6]byte(macB),
				PeerAddrs: []netip.Prefix{pfx("10.1.0.2/24"), pfx("fd00:1::2/64")}},
		},
		Routes: []netstack.RouteConfig{
			{Netns: "H", Dst: pfx("10.9.0.0/16"), Dev: "veth0", Via: netip.MustParseAddr("10.1.0.254")},
			{Netns: "H", Dst: pfx("10.8.0.0/16"), Dev: "veth0", Via: netip.MustParseAddr("10.1.0.253")},
			{Netns: "H", Dst: pfx("fd00:9::/64"), Dev: "veth0", Via: netip.MustParseAddr("fd00:1::2")},
			{Netns: "H", Dst: pfx("10.4.0.0/16"), Dev: "veth0", Via: netip.MustParseAddr("10.1.0.254"), MTU: 1300},
			{Netns: "H", Dst: pfx("10.3.0.0/16"), Dev: "veth0", Via: netip.MustParseAddr("fd00:1::2")},
			{Netns: "H", Dst: pfx("fd00:4::/64"), Dev: "veth0", Via: netip.MustParseAddr("fd00:1::2"), MTU: 1300},
			{Netns: "H", Dst: pfx("10.2.0.0/16"), Dev: "veth0", Via: netip.MustParseAddr("10.1.0.254"), MTU: 1300, MTULock: true},
			{Netns: "H", Dst: pfx("10.11.0.0/16"), Dev: "veth0", Via: netip.MustParseAddr("10.1.0.254"), MTULock: true},
			{Netns: "H", Dst: pfx("fd00:2::/64"), Dev: "veth0", Via: netip.MustParseAddr("fd00:1::2"), MTU: 1300, MTULock: true},
			{Netns: "H", Dst: pfx("10.12.0.0/16"), Dev: "veth0", Via: netip.MustParseAddr("10.1.0.254"), Src: netip.MustParseAddr("192.0.2.1")},
			{Netns: "H", Dst: pfx("fd00:12::/64"), Dev: "veth0", Via: netip.MustParseAddr("fd00:1::2"), Src: netip.MustParseAddr("2001:db8:1::1")},
			{Netns: "H", Dst: pfx("10.7.0.0/16"), Type: netstack.RouteBlackhole},
			{Netns: "H", Dst: pfx("10.6.0.0/16"), Type: netstack.RouteUnreachable},
			{Netns: "H", Dst: pfx("10.5.0.0/16"), Type: netstack.RouteProhibit},
			{Netns: "H", Dst: pfx("2001:db8:7::/48"), Type: netstack.RouteBlackhole},
			{Netns: "H", Dst: pfx("2001:db8:6::/48"), Type: netstack.RouteUnreachable},
			{Netns: "H", Dst: pfx("2001:db8:5::/48"), Type: netstack.RouteProhibit},
		},
		Neighbours: []netstack.NeighConfig{{Netns: "H", Dev: "veth0", Addr: netip.MustParseAddr("10.1.0.254"), MAC: [6]byte(gw)}},
		Programs: []netstack.ProgramConfig{{Name: "fib", Hook: hook, Netns: "H", Dev: "eth0", Prog: netstack.ProgramFunc(func(c *netstack.Ctx) int {
			for _, d := range []string{"eth0", "veth0"} {
				names[c.Ifindex(d)] = d
			}
			if tc.in != "" {
				p.Ifindex = c.Ifindex(tc.in)
			}
			rc = c.FibLookup(&p, tc.flags)
			if tc.xdp {
				return netstack.XDPDrop
			}
			return netstack.TCXDrop
		})}},
		Entries: []netstack.EntryConfig{{Netns: "H", Dev: "eth0"}},
	}
	if extra != nil {
		extra(cfg)
	}
	runModel(t, cfg, netstack.NopObserver{}, frame, nil)
	require.NotEqual(t, 1000, rc, "the model's program ran")
	return p, rc, names
}

// mtuValue is the check_mtu probe's map value: ifindex, mtu_len, len_diff,
// a pad, flags (u64), then the helper's return.
const mtuValueLen = 32

// mtuProbe is a mapProbe calling bpf_check_mtu(ctx, value.ifindex,
// &value.mtu_len, value.len_diff, value.flags), the return stored at
// offset 24.
func mtuProbe(t *testing.T, typ ebpf.ProgramType, io *ebpf.Map) *ebpf.Program {
	return mapProbe(t, typ, io,
		asm.LoadMem(asm.R2, asm.R7, 0, asm.Word),
		asm.Mov.Reg(asm.R3, asm.R7),
		asm.Add.Imm(asm.R3, 4),
		asm.LoadMem(asm.R4, asm.R7, 8, asm.Word),
		asm.LSh.Imm(asm.R4, 32),
		asm.ArSh.Imm(asm.R4, 32),
		asm.LoadMem(asm.R5, asm.R7, 16, asm.DWord),
		asm.FnCheckMtu.Call(),
		asm.StoreMem(asm.R7, 24, asm.R0, asm.Word),
	)
}

// TestKernelCheckMTU: bpf_check_mtu on 6.18 and in the model (Ctx.CheckMTU)
// for the same devices: eth0 (MTU 1500) and veth0 (MTU 1400) in H. The
// kernel runs a tc or XDP program under BPF_PROG_TEST_RUN with eth0 as the
// context's device (__sk_buff.ifindex, xdp_md.ingress_ifindex) on frames of
// frameLen bytes; the model runs a Go program at eth0's tc ingress or XDP
// hook. They agree on the return and the MTU written back: the packet's
// own device for ifindex 0, the L2 length or mtu_len plus hard_header_len,
// len_diff, and -EINVAL for bad flags (any at XDP) and -ENODEV.
func TestKernelCheckMTU(t *testing.T) {
	testutil.KernelTests(t)
	h, x, b := helperNamespaces(t, "mtu")
	require.NoError(t, h.IP("link", "set", "eth0", "up"))
	require.NoError(t, h.IP("link", "set", "veth0", "mtu", "1400", "up"))
	require.NoError(t, x.IP("link", "set", "x0", "up"))
	require.NoError(t, b.IP("link", "set", "vB", "mtu", "1400", "up"))
	index := map[string]uint32{}
	for _, d := range []string{"eth0", "veth0"} {
		i, err := h.Ifindex(d)
		require.NoError(t, err)
		index[d] = uint32(i)
	}
	io, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: mtuValueLen, MaxEntries: 1})
	require.NoError(t, err)
	t.Cleanup(func() { io.Close() })
	tcProg, xdpProg := mtuProbe(t, ebpf.SchedCLS, io), mtuProbe(t, ebpf.XDP, io)
	for _, tc := range []struct {
		name     string
		xdp      bool
		target   string // "" for ifindex 0, "none" for one no device has
		mtuLen   uint32
		lenDiff  int32
		flags    uint64
		frameLen int
	}{
		{name: "own device, at the MTU", frameLen: 1514},
		{name: "own device, above", frameLen: 1515},
		{name: "veth0, at the MTU", target: "veth0", frameLen: 1414},
		{name: "veth0, above", target: "veth0", frameLen: 1415},
		{name: "mtu_len at the MTU", target: "veth0", mtuLen: 1400, frameLen: 1500},
		{name: "mtu_len above", target: "veth0", mtuLen: 1401, frameLen: 100},
		{name: "len_diff grows", target: "veth0", lenDiff: 20, frameLen: 1400},
		{name: "len_diff shrinks", lenDiff: -100, frameLen: 1600},
		{name: "segs with len_diff", flags: netstack.MTUCheckSegs, lenDiff: 4, frameLen: 100},
		{name: "segs on a short packet", flags: netstack.MTUCheckSegs, frameLen: 100},
		{name: "unknown flag", flags: 2, frameLen: 100},
		{name: "no device", target: "none", frameLen: 100},
		{name: "xdp: own device, above", xdp: true, frameLen: 1515},
		{name: "xdp: veth0, at the MTU", xdp: true, target: "veth0", frameLen: 1414},
		{name: "xdp: mtu_len above", xdp: true, target: "veth0", mtuLen: 1401, frameLen: 100},
		{name: "xdp: len_diff", xdp: true, lenDiff: 1, frameLen: 1514},
		{name: "xdp: any flag", xdp: true, flags: netstack.MTUCheckSegs, frameLen: 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := make([]byte, mtuValueLen)
			var target uint32
			switch tc.target {
			case "":
			case "none":
				target = 999
			default:
				target = index[tc.target]
			}
			binary.LittleEndian.PutUint32(v[0:], target)
			binary.LittleEndian.PutUint32(v[4:], tc.mtuLen)
			binary.LittleEndian.PutUint32(v[8:], uint32(tc.lenDiff))
			binary.LittleEndian.PutUint64(v[16:], tc.flags)
			require.NoError(t, io.Put(uint32(0), v))
			frame := fibFrame(tc.frameLen)
			opts := &ebpf.RunOptions{Data: frame}
			prog := tcProg
			if tc.xdp {
				prog = xdpProg
				// struct xdp_md: data 0, data_end, data_meta 0, ingress_ifindex.
				opts.Context = [6]uint32{0, uint32(len(frame)), 0, index["eth0"]}
			} else {
				var skb [48]uint32 // struct __sk_buff
				skb[10] = index["eth0"]
				opts.Context = skb
			}
			require.NoError(t, h.Do(func() error {
				_, err := prog.Run(opts)
				return err
			}))
			require.NoError(t, io.Lookup(uint32(0), &v))
			kern := fmt.Sprintf("ret %d mtu %d", int32(binary.LittleEndian.Uint32(v[24:])), binary.LittleEndian.Uint32(v[4:]))

			pfx := netip.MustParsePrefix
			hook := carrier.HookTCIngress
			if tc.xdp {
				hook = carrier.HookXDP
			}
			var model string
			cfg := &netstack.Config{
				Namespaces: []netstack.NamespaceConfig{{Name: "H"}, {Name: "X"}, {Name: "B"}},
				Devices: []netstack.DeviceConfig{
					{Name: "eth0", Kind: netstack.KindVeth, Netns: "H", Peer: "x0", PeerNetns: "X"},
					{Name: "veth0", Kind: netstack.KindVeth, Netns: "H", MTU: 1400, Peer: "vB", PeerNetns: "B", PeerAddrs: []netip.Prefix{pfx("10.1.0.2/24")}},
				},
				Programs: []netstack.ProgramConfig{{Name: "mtu", Hook: hook, Netns: "H", Dev: "eth0", Prog: netstack.ProgramFunc(func(c *netstack.Ctx) int {
					var ifindex int32
					switch tc.target {
					case "":
					case "none":
						ifindex = 999
					default:
						ifindex = c.Ifindex(tc.target)
					}
					mtu := tc.mtuLen
					ret := c.CheckMTU(ifindex, &mtu, tc.lenDiff, tc.flags)
					model = fmt.Sprintf("ret %d mtu %d", ret, mtu)
					if tc.xdp {
						return netstack.XDPDrop
					}
					return netstack.TCXDrop
				})}},
				Entries: []netstack.EntryConfig{{Netns: "H", Dev: "eth0"}},
			}
			runModel(t, cfg, netstack.NopObserver{}, frame, nil)
			t.Logf("kernel: %s", kern)
			require.Equal(t, kern, model, "model")
		})
	}
}

// TestKernelRejectRoutes: a datagram from A forwarded by H, which has a
// blackhole, an unreachable and a prohibit route and no route to
// 203.0.113.0/24. 6.18 frees each in ip_error, and the model agrees on the
// reason (MetaProbe's kfree_skb program on H's device): NOT_SPECIFIED for
// the reject routes, IP_INNOROUTES for no route, at TTL 1 too, since the
// route lookup comes before ip_forward's TTL check.
func TestKernelRejectRoutes(t *testing.T) {
	testutil.KernelTests(t)
	probe, err := NewMetaProbe(false)
	testutil.SkipIfNotSupported(t, err)
	t.Cleanup(func() { require.NoError(t, probe.Close()) })
	hA := fmt.Sprint("rj", os.Getpid()%100000)
	a, h := newNetns(t, "rjA"), newNetns(t, "rjH")
	require.NoError(t, a.IP("link", "add", "vA", "type", "veth", "peer", "name", hA, "netns", h.Name))
	require.NoError(t, a.IP("addr", "add", "192.0.2.1/24", "dev", "vA"))
	require.NoError(t, a.IP("link", "set", "vA", "up"))
	require.NoError(t, h.IP("addr", "add", "192.0.2.254/24", "dev", hA))
	require.NoError(t, h.IP("link", "set", hA, "up"))
	require.NoError(t, h.Sysctl("net.ipv4.ip_forward", "1"))
	for _, r := range []string{"blackhole", "unreachable", "prohibit"} {
		require.NoError(t, h.IP("route", "add", r, map[string]string{"blackhole": "10.7.0.0/16", "unreachable": "10.6.0.0/16", "prohibit": "10.5.0.0/16"}[r]))
	}
	macH, err := h.HardwareAddr(hA)
	require.NoError(t, err)
	require.NoError(t, a.IP("neigh", "add", "192.0.2.254", "lladdr", macH.String(), "dev", "vA", "nud", "permanent"))
	require.NoError(t, a.IP("route", "add", "default", "via", "192.0.2.254"))
	macA, err := a.HardwareAddr("vA")
	require.NoError(t, err)
	for _, tc := range []struct {
		dst [4]byte
		ttl int
	}{
		{[4]byte{10, 7, 0, 1}, 64}, {[4]byte{10, 6, 0, 1}, 64}, {[4]byte{10, 5, 0, 1}, 64},
		{[4]byte{203, 0, 113, 1}, 64}, {[4]byte{203, 0, 113, 1}, 1}, {[4]byte{10, 7, 0, 1}, 1},
	} {
		t.Run(fmt.Sprintf("%v ttl %d", net.IP(tc.dst[:]), tc.ttl), func(t *testing.T) {
			require.NoError(t, probe.Watch(hA))
			snd := newSocket(t, a, unix.AF_INET, unix.SOCK_DGRAM, 0)
			require.NoError(t, unix.SetsockoptInt(snd, unix.IPPROTO_IP, unix.IP_TTL, tc.ttl))
			require.NoError(t, unix.Sendto(snd, make([]byte, 10), 0, &unix.SockaddrInet4{Port: 9999, Addr: tc.dst}))
			seen, err := probe.Seen(hA)
			require.NoError(t, err)
			require.Equal(t, uint64(1), seen.Count, "one skb freed on %s", hA)
			kern, err := DropReasonName(seen.Reason)
			require.NoError(t, err)
			t.Logf("kernel: %s", kern)

			obs := &dropRecorder{}
			cfg := &netstack.Config{
				Namespaces: []netstack.NamespaceConfig{{Name: "A"}, {Name: "H", Forwarding: true}},
				Devices: []netstack.DeviceConfig{{Name: "vA", Kind: netstack.KindVeth, Netns: "A", MAC: [6]byte(macA),
					Addrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.1/24")}, Peer: "hA", PeerNetns: "H", PeerMAC: [6]byte(macH),
					PeerAddrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.254/24")}}},
				Routes: []netstack.RouteConfig{
					{Netns: "A", Dev: "vA", Via: netip.MustParseAddr("192.0.2.254")},
					{Netns: "H", Dst: netip.MustParsePrefix("10.7.0.0/16"), Type: netstack.RouteBlackhole},
					{Netns: "H", Dst: netip.MustParsePrefix("10.6.0.0/16"), Type: netstack.RouteUnreachable},
					{Netns: "H", Dst: netip.MustParsePrefix("10.5.0.0/16"), Type: netstack.RouteProhibit},
				},
				Sockets: []netstack.SocketConfig{{Name: "tx", Netns: "A", Proto: netstack.ProtoUDP, Port: 40000}},
				Entries: []netstack.EntryConfig{{Kind: netstack.EntryTX, Netns: "A", Socket: "tx"}},
			}
			pkt := udp4Packet([4]byte{192, 0, 2, 1}, tc.dst, 40000, 9999, 10)
			pkt[8] = byte(tc.ttl)
			runModel(t, cfg, obs, pkt, nil)
			require.Equal(t, []string{kern}, obs.reasons, "model")
		})
	}
}
