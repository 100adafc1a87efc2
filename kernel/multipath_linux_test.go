package kernel

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/internal/testutil"
	"github.com/skbsim/skbsim/netstack"
)

// tagProg is a tc program that sets tags[p[off]] to 1 for each packet of
// ethertype proto that is at least off+1 bytes long: the byte at off
// tags the packet.
func tagProg(t *testing.T, tags *ebpf.Map, proto uint16, off int32) *ebpf.Program {
	t.Helper()
	p, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.SchedCLS, License: "GPL", Instructions: asm.Instructions{
		asm.LoadMem(asm.R2, asm.R1, 16, asm.Word), // protocol
		asm.JNE.Imm(asm.R2, int32(htons(proto)), "out"),
		asm.LoadMem(asm.R2, asm.R1, 76, asm.Word), // data
		asm.LoadMem(asm.R3, asm.R1, 80, asm.Word), // data_end
		asm.Mov.Reg(asm.R4, asm.R2),
		asm.Add.Imm(asm.R4, off+1),
		asm.JGT.Reg(asm.R4, asm.R3, "out"),
		asm.LoadMem(asm.R4, asm.R2, int16(off), asm.Byte),
		asm.StoreMem(asm.RFP, -4, asm.R4, asm.Word),
		asm.LoadMapPtr(asm.R1, tags.FD()),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -4),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "out"),
		asm.StoreImm(asm.R0, 0, 1, asm.Word),
		asm.Mov.Imm(asm.R0, -1).WithSymbol("out"), // TCX_NEXT
		asm.Return(),
	}})
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })
	return p
}

// attachTags attaches tagProg at dev's tc ingress in n and returns its
// map of 256 tags.
func attachTags(t *testing.T, n *Netns, dev string, proto uint16, off int32) *ebpf.Map {
	t.Helper()
	tags, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 256})
	require.NoError(t, err)
	t.Cleanup(func() { tags.Close() })
	l, err := attachTCXIn(n, dev, tagProg(t, tags, proto, off), ebpf.AttachTCXIngress)
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	return tags
}

// mpPaths is where each tagged packet went: "B", "C" or "-" for tags
// 1..n.
type mpPaths []byte

func (p mpPaths) String() string { return string(p[1:]) }

func kernelPaths(t *testing.T, n int, atB, atC *ebpf.Map) mpPaths {
	t.Helper()
	got := make(mpPaths, n+1)
	for i := 1; i <= n; i++ {
		var b, c uint32
		require.NoError(t, atB.Lookup(uint32(i), &b))
		require.NoError(t, atC.Lookup(uint32(i), &c))
		switch {
		case b != 0 && c != 0:
			got[i] = '2'
		case b != 0:
			got[i] = 'B'
		case c != 0:
			got[i] = 'C'
		default:
			got[i] = '-'
		}
	}
	return got
}

// tagModel is tagProg in the model: it notes in paths at which of B and
// C each tag arrives.
func tagModel(paths mpPaths, name string, proto uint16, off int) netstack.ProgramFunc {
	return func(c *netstack.Ctx) int {
		d := c.Skb.Data()
		if binary.BigEndian.Uint16(d[12:14]) == proto && off < len(d) {
			if i := int(d[off]); i < len(paths) {
				if paths[i] != '-' && paths[i] != name[0] {
					paths[i] = '2'
				} else {
					paths[i] = name[0]
				}
			}
		}
		return -1
	}
}

// mpCase is a set of IPv4 packets A sends through H, or H's socket sends,
// to 198.51.100.0/24, which H routes over two paths: via B (10.1.0.2 on
// hB) and via C (10.2.0.2 on hC).
type mpCase struct {
	name     string
	policy   int
	fields   uint32
	seed     uint32
	weights  [2]int
	useNeigh bool
	failB    bool // B's neighbour entry on hB is failed
	n        int  // packets, tags 1..n
	// pkt is packet i's IPv4 packet; its identification's low byte is
	// the tag (forwarded packets).
	pkt func(i int) []byte
	// local: H's UDP socket on port 4000 (bound to src, if set) sends
	// to 198.51.100.x:dport, the dport's low byte the tag.
	local bool
	src   string
	// one: every packet takes one path (the hash sees one flow, or one
	// path is passed over); otherwise the sample must use both.
	one byte
}

// mpUDP is a UDP packet src:sport -> dst:dport with identification tag.
func mpUDP(tag int, src, dst string, sport, dport uint16) []byte {
	p := udp4Packet(netip.MustParseAddr(src).As4(), netip.MustParseAddr(dst).As4(), sport, dport, 16)
	binary.BigEndian.PutUint16(p[4:], uint16(tag))
	binary.BigEndian.PutUint16(p[10:], inetCsum(p[:20]))
	return p
}

// mpOuter is inner in an IPv4 packet of protocol proto (after a GRE
// header with key 7 for GRE) from src to dst with identification tag.
func mpOuter(tag int, proto uint8, src, dst string, inner []byte) []byte {
	var hdr []byte
	if proto == unix.IPPROTO_GRE {
		hdr = []byte{0x20, 0, 0x08, 0, 0, 0, 0, 7}
	}
	p := make([]byte, 20, 20+len(hdr)+len(inner))
	p[0], p[8], p[9] = 0x45, 64, proto
	p = append(append(p, hdr...), inner...)
	binary.BigEndian.PutUint16(p[2:], uint16(len(p)))
	binary.BigEndian.PutUint16(p[4:], uint16(tag))
	s, d := netip.MustParseAddr(src).As4(), netip.MustParseAddr(dst).As4()
	copy(p[12:16], s[:])
	copy(p[16:20], d[:])
	binary.BigEndian.PutUint16(p[10:], inetCsum(p[:20]))
	return p
}

// mpTimeExceeded is an ICMP time exceeded from src to dst quoting a UDP
// header from qsrc to qdst.
func mpTimeExceeded(tag int, src, dst, qsrc, qdst string) []byte {
	quote := mpUDP(0, qsrc, qdst, 40000, 9999)[:28]
	return mpOuter(tag, unix.IPPROTO_ICMP, src, dst, icmpMsg(11, 0, quote, false))
}

// TestKernelMultipath: where 6.18 and the model send IPv4 packets over a
// two-path route (fib_multipath_hash, fib_select_multipath) with a fixed
// net.ipv4.fib_multipath_hash_seed: forwarded datagrams under the L3
// policy (varied addresses), the L4 policy (varied ports; TCP too), the
// inner-L3 policy (IPIP and GRE with varied inner addresses), the custom
// policy (outer ports only; inner addresses of IPIP), ICMP errors (hashed
// on the header they quote), weights, two seeds, fib_multipath_use_neigh
// with a failed neighbour, and H's own socket (the flowi hash: unbound,
// bound to a path's nh_saddr, bound to another address of H).
func TestKernelMultipath(t *testing.T) {
	testutil.KernelTests(t)
	const dst = "198.51.100.7"
	nth := func(base string, i int) string {
		a := netip.MustParseAddr(base).As4()
		a[3] += byte(i)
		return netip.AddrFrom4(a).String()
	}
	udpSrcs := func(i int) []byte { return mpUDP(i, nth("192.0.2.100", i), nth("198.51.100.10", i%7), 40000, 9999) }
	udpPorts := func(i int) []byte { return mpUDP(i, icmpAddrA, dst, uint16(30000+i*7), uint16(5000+i)) }
	ipip := func(i int) []byte {
		return mpOuter(i, unix.IPPROTO_IPIP, icmpAddrA, dst, mpUDP(0, nth("10.50.0.0", i), nth("10.60.0.0", i*3), 1, 2))
	}
	gre := func(i int) []byte {
		return mpOuter(i, unix.IPPROTO_GRE, icmpAddrA, dst, mpUDP(0, nth("10.50.0.0", i), nth("10.60.0.0", i*3), 1, 2))
	}
	tcp := func(i int) []byte {
		p := mpUDP(i, icmpAddrA, dst, uint16(30000+i*7), 443)
		p = append(p[:20:20], make([]byte, 20)...)
		binary.BigEndian.PutUint16(p[20:], uint16(30000+i*7))
		binary.BigEndian.PutUint16(p[22:], 443)
		p[32], p[33] = 0x50, 0x10 // data offset 5, ACK
		p[9] = unix.IPPROTO_TCP
		binary.BigEndian.PutUint16(p[2:], 40)
		binary.BigEndian.PutUint16(p[10:], 0)
		binary.BigEndian.PutUint16(p[10:], inetCsum(p[:20]))
		return p
	}
	icmpErr := func(i int) []byte {
		return mpTimeExceeded(i, icmpAddrA, dst, nth("198.51.100.20", i), nth("203.0.113.0", i))
	}
	const n = 40
	for _, tc := range []mpCase{
		{name: "L3, sources", seed: 0x12345678, n: n, pkt: udpSrcs},
		{name: "L3, another seed", seed: 0x0badcafe, n: n, pkt: udpSrcs},
		{name: "L3, ports alone do not count", seed: 0x12345678, n: n, pkt: udpPorts, one: 'C'},
		{name: "L3, weights 1:3", seed: 0x12345678, weights: [2]int{1, 3}, n: n, pkt: udpSrcs},
		{name: "L4, ports", policy: 1, seed: 0x12345678, n: n, pkt: udpPorts},
		{name: "L4, TCP", policy: 1, seed: 0x2468ace0, n: n, pkt: tcp},
		{name: "L4, IPIP: the outer header", policy: 1, seed: 0x12345678, n: n, pkt: ipip, one: 'B'},
		{name: "L3 inner, IPIP", policy: 2, seed: 0x12345678, n: n, pkt: ipip},
		{name: "L3 inner, GRE with a key", policy: 2, seed: 0x12345678, n: n, pkt: gre},
		{name: "custom, ports", policy: 3, fields: netstack.MultipathFieldSrcPort | netstack.MultipathFieldDstPort, seed: 0x12345678, n: n,
			pkt: udpPorts},
		{name: "custom, inner addresses of IPIP", policy: 3, fields: netstack.MultipathFieldInnerSrcIP | netstack.MultipathFieldInnerDstIP,
			seed: 0x12345678, n: n, pkt: ipip},
		{name: "custom, the default fields", policy: 3, seed: 0x12345678, n: n, pkt: udpSrcs},
		{name: "L3, ICMP errors: the quoted header", seed: 0x12345678, n: n, pkt: icmpErr},
		{name: "L4, ICMP errors: the outer header", policy: 1, seed: 0x12345678, n: n, pkt: icmpErr, one: 'C'},
		{name: "use_neigh, a failed neighbour", seed: 0x12345678, useNeigh: true, failB: true, n: n, pkt: udpSrcs, one: 'C'},
		{name: "a failed neighbour without use_neigh", seed: 0x12345678, failB: true, n: n, pkt: udpSrcs},
		{name: "socket, L4", policy: 1, seed: 0x12345678, n: n, local: true},
		{name: "socket, L3", seed: 0x12345678, n: n, local: true},
		{name: "socket bound to hC's address: its path", policy: 1, seed: 0x12345678, n: n, local: true, src: "10.2.0.1", one: 'C'},
		{name: "socket bound to another address: the hash", policy: 1, seed: 0x12345678, n: n, local: true, src: icmpAddrH},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := tc.weights
			if w == [2]int{} {
				w = [2]int{1, 1}
			}
			tp := newRulesTopo(t, 0, false, false)
			h := tp.h
			for _, c := range [][]string{
				{"net.ipv4.fib_multipath_hash_policy", fmt.Sprint(tc.policy)},
				{"net.ipv4.fib_multipath_hash_seed", fmt.Sprint(tc.seed)},
				{"net.ipv4.fib_multipath_use_neigh", map[bool]string{true: "1", false: "0"}[tc.useNeigh]},
			} {
				require.NoError(t, h.Sysctl(c[0], c[1]))
			}
			if tc.fields != 0 {
				require.NoError(t, h.Sysctl("net.ipv4.fib_multipath_hash_fields", fmt.Sprint(tc.fields)))
			}
			require.NoError(t, h.IP("route", "add", "198.51.100.0/24", "nexthop", "via", "10.1.0.2", "dev", "hB", "weight", fmt.Sprint(w[0]),
				"nexthop", "via", "10.2.0.2", "dev", "hC", "weight", fmt.Sprint(w[1])))
			if tc.failB {
				require.NoError(t, h.IP("neigh", "replace", "10.1.0.2", "dev", "hB", "nud", "failed"))
			}
			off := int32(14 + 5) // the identification's low byte
			if tc.local {
				off = 14 + 20 + 3 // the destination port's
			}
			atB := attachTags(t, tp.b, "vB", unix.ETH_P_IP, off)
			atC := attachTags(t, tp.c, "vC", unix.ETH_P_IP, off)

			var frames [][]byte
			if tc.local {
				fd := -1
				require.NoError(t, h.Do(func() error {
					var err error
					fd, err = unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
					if err != nil {
						return err
					}
					sa := &unix.SockaddrInet4{Port: 4000}
					if tc.src != "" {
						sa.Addr = netip.MustParseAddr(tc.src).As4()
					}
					return unix.Bind(fd, sa)
				}))
				t.Cleanup(func() { unix.Close(fd) })
				for i := 1; i <= tc.n; i++ {
					d := nth("198.51.100.0", i)
					require.NoError(t, unix.Sendto(fd, make([]byte, 16), 0, &unix.SockaddrInet4{Port: 0x1300 + i,
						Addr: netip.MustParseAddr(d).As4()}))
					frames = append(frames, mpUDP(0, icmpAddrH, d, 4000, uint16(0x1300+i)))
				}
			} else {
				vA, err := tp.a.Ifindex("vA")
				require.NoError(t, err)
				for i := 1; i <= tc.n; i++ {
					f := ethIPv4(tc.pkt(i))
					copy(f[0:6], tp.macH[:])
					copy(f[6:12], tp.macA[:])
					sendFrame(t, tp.a, vA, net.HardwareAddr(f[0:6]), f)
					frames = append(frames, f)
				}
			}
			time.Sleep(50 * time.Millisecond)
			kern := kernelPaths(t, tc.n, atB, atC)
			t.Logf("kernel: %s", kern)
			if tc.one != 0 {
				require.Equal(t, strings.Repeat(string(tc.one), tc.n), kern.String())
			} else {
				require.True(t, strings.Contains(kern.String(), "B") && strings.Contains(kern.String(), "C"),
					"a sample without both paths tests less")
			}

			model := make(mpPaths, tc.n+1)
			for i := range model {
				model[i] = '-'
			}
			cfg := tp.rulesModel(nil,
				netstack.ProgramConfig{Name: "atB", Hook: carrier.HookTCIngress, Netns: "B", Dev: "vB", Prog: tagModel(model, "B", unix.ETH_P_IP, int(off))},
				netstack.ProgramConfig{Name: "atC", Hook: carrier.HookTCIngress, Netns: "C", Dev: "vC", Prog: tagModel(model, "C", unix.ETH_P_IP, int(off))})
			ns := &cfg.Namespaces[1]
			require.Equal(t, "H", ns.Name)
			ns.MultipathHashPolicy, ns.MultipathHashFields, ns.MultipathHashSeed, ns.MultipathUseNeigh = tc.policy, tc.fields, tc.seed, tc.useNeigh
			cfg.Routes = append(cfg.Routes, netstack.RouteConfig{Netns: "H", Dst: netip.MustParsePrefix("198.51.100.0/24"),
				Nexthops: []netstack.NexthopConfig{{Dev: "hB", Via: netip.MustParseAddr("10.1.0.2"), Weight: w[0]},
					{Dev: "hC", Via: netip.MustParseAddr("10.2.0.2"), Weight: w[1]}}})
			if tc.failB {
				cfg.Neighbours = append(cfg.Neighbours, netstack.NeighConfig{Netns: "H", Dev: "hB", Addr: netip.MustParseAddr("10.1.0.2"),
					State: netstack.NeighFailed})
			}
			if tc.local {
				cfg.Sockets = append(cfg.Sockets, netstack.SocketConfig{Name: "own", Netns: "H", Proto: netstack.ProtoUDP, Port: 4000})
				if tc.src != "" {
					cfg.Sockets[len(cfg.Sockets)-1].Addr = netip.MustParseAddr(tc.src)
				}
				cfg.Entries = []netstack.EntryConfig{{Kind: netstack.EntryTX, Netns: "H", Socket: "own"}}
			}
			runModelFrames(t, cfg, netstack.NopObserver{}, frames, 0, nil)
			require.Equal(t, kern.String(), model.String(), "model")
		})
	}
}
