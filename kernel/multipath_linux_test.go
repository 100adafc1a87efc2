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
// tags the packet. IPv6 packets with a hop-by-hop header (the MLD
// reports the namespaces send) are left out.
func tagProg(t *testing.T, tags *ebpf.Map, proto uint16, off int32) *ebpf.Program {
	t.Helper()
	insns := asm.Instructions{
		asm.LoadMem(asm.R2, asm.R1, 16, asm.Word), // protocol
		asm.JNE.Imm(asm.R2, int32(htons(proto)), "out"),
		asm.LoadMem(asm.R2, asm.R1, 76, asm.Word), // data
		asm.LoadMem(asm.R3, asm.R1, 80, asm.Word), // data_end
		asm.Mov.Reg(asm.R4, asm.R2),
		asm.Add.Imm(asm.R4, max(off, 14+6)+1),
		asm.JGT.Reg(asm.R4, asm.R3, "out"),
	}
	if proto == unix.ETH_P_IPV6 {
		insns = append(insns, asm.LoadMem(asm.R4, asm.R2, 14+6, asm.Byte), asm.JEq.Imm(asm.R4, 0, "out"))
	}
	p, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.SchedCLS, License: "GPL", Instructions: append(insns, asm.Instructions{
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
	}...)})
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
		if binary.BigEndian.Uint16(d[12:14]) == proto && off < len(d) && (proto != unix.ETH_P_IPV6 || d[14+6] != 0) {
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
	// nhg: the route names a nexthop group (`ip nexthop`: ids 1 and 2,
	// group 10 with the weights), not next hops of its own.
	nhg bool
	// blackhole: the route names a blackhole nexthop (id 5) instead.
	blackhole bool
	// downC: hC is set down once the route is there.
	downC bool
	// errors: pkt's packets expire at H (TTL 1), whose time exceeded
	// errors go to their sources in 198.51.100.0/24; the tag is the
	// quoted identification's low byte.
	errors bool
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
	expiring := func(i int) []byte {
		p := mpUDP(i, nth("198.51.100.100", i), icmpAddrA, uint16(30000+i*7), 9999)
		p[8] = 1
		binary.BigEndian.PutUint16(p[10:], 0)
		binary.BigEndian.PutUint16(p[10:], inetCsum(p[:20]))
		return p
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
		{name: "H's ICMP errors, L3: the packet they answer", seed: 0x12345678, n: n, pkt: expiring, errors: true},
		{name: "H's ICMP errors, L4: the packet they answer", policy: 1, seed: 0x12345678, n: n, pkt: expiring, errors: true},
		{name: "nexthop group, L3", nhg: true, seed: 0x12345678, n: n, pkt: udpSrcs},
		{name: "nexthop group, L4, weights 3:1", nhg: true, policy: 1, weights: [2]int{3, 1}, seed: 0x12345678, n: n, pkt: udpPorts},
		{name: "nexthop group: a failed neighbour is passed over without use_neigh", nhg: true, failB: true, seed: 0x12345678, n: n,
			pkt: udpSrcs, one: 'C'},
		{name: "nexthop group: a socket's source has no say", nhg: true, policy: 1, seed: 0x12345678, n: n, local: true, src: "10.2.0.1"},
		{name: "a blackhole nexthop", blackhole: true, seed: 0x12345678, n: 8, pkt: udpSrcs, one: '-'},
		{name: "a path through a device set down is dead", downC: true, seed: 0x12345678, n: n, pkt: udpSrcs, one: 'B'},
		{name: "a group member through a device set down is deleted", nhg: true, downC: true, seed: 0x12345678, n: n, pkt: udpSrcs, one: 'B'},
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
			if tc.errors {
				// icmp_global_consume spends 0 to 2 credits at random per
				// error, so 40 errors can exhaust the default burst of 50
				// in a run now and then; a larger burst keeps every error
				// (the model's fixed-seed draws stay within 50 for these).
				require.NoError(t, h.Sysctl("net.ipv4.icmp_msgs_burst", "10000"))
			}
			if tc.blackhole {
				require.NoError(t, h.IP("nexthop", "add", "id", "5", "blackhole"))
				require.NoError(t, h.IP("route", "add", "198.51.100.0/24", "nhid", "5"))
			} else if tc.nhg {
				for _, c := range [][]string{
					{"nexthop", "add", "id", "1", "via", "10.1.0.2", "dev", "hB"},
					{"nexthop", "add", "id", "2", "via", "10.2.0.2", "dev", "hC"},
					{"nexthop", "add", "id", "10", "group", fmt.Sprintf("1,%d/2,%d", w[0], w[1])},
					{"route", "add", "198.51.100.0/24", "nhid", "10"},
				} {
					require.NoError(t, h.IP(c...), "%v", c)
				}
			} else {
				require.NoError(t, h.IP("route", "add", "198.51.100.0/24", "nexthop", "via", "10.1.0.2", "dev", "hB", "weight", fmt.Sprint(w[0]),
					"nexthop", "via", "10.2.0.2", "dev", "hC", "weight", fmt.Sprint(w[1])))
			}
			if tc.failB {
				require.NoError(t, h.IP("neigh", "replace", "10.1.0.2", "dev", "hB", "nud", "failed"))
			}
			if tc.downC {
				require.NoError(t, h.IP("link", "set", "hC", "down"))
			}
			off := int32(14 + 5) // the identification's low byte
			switch {
			case tc.local:
				off = 14 + 20 + 3 // the destination port's
			case tc.errors:
				off = 14 + 20 + 8 + 5 // the quoted identification's
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
			if tc.blackhole {
				cfg.NexthopObjects = []netstack.NexthopObjConfig{{Netns: "H", ID: 5, Blackhole: true}}
				cfg.Routes = append(cfg.Routes, netstack.RouteConfig{Netns: "H", Dst: netip.MustParsePrefix("198.51.100.0/24"), NHID: 5})
			} else if tc.nhg {
				cfg.NexthopObjects = []netstack.NexthopObjConfig{
					{Netns: "H", ID: 1, Dev: "hB", Via: netip.MustParseAddr("10.1.0.2")},
					{Netns: "H", ID: 2, Dev: "hC", Via: netip.MustParseAddr("10.2.0.2")},
					{Netns: "H", ID: 10, Group: []netstack.NexthopGroupMember{{ID: 1, Weight: w[0]}, {ID: 2, Weight: w[1]}}},
				}
				cfg.Routes = append(cfg.Routes, netstack.RouteConfig{Netns: "H", Dst: netip.MustParsePrefix("198.51.100.0/24"), NHID: 10})
			} else {
				cfg.Routes = append(cfg.Routes, netstack.RouteConfig{Netns: "H", Dst: netip.MustParsePrefix("198.51.100.0/24"),
					Nexthops: []netstack.NexthopConfig{{Dev: "hB", Via: netip.MustParseAddr("10.1.0.2"), Weight: w[0]},
						{Dev: "hC", Via: netip.MustParseAddr("10.2.0.2"), Weight: w[1]}}})
			}
			if tc.downC {
				for i := range cfg.Devices {
					if cfg.Devices[i].Name == "hC" {
						cfg.Devices[i].Down = true
					}
				}
			}
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

// mp6 is an IPv6 packet src -> dst with flow label label, next header
// next and payload l4, its hop limit tag+1 (the tag once forwarded).
func mp6(tag int, src, dst string, label uint32, next uint8, l4 []byte) []byte {
	p := make([]byte, 40+len(l4))
	binary.BigEndian.PutUint32(p[0:], 6<<28|label&0xfffff)
	binary.BigEndian.PutUint16(p[4:], uint16(len(l4)))
	p[6], p[7] = next, uint8(tag+1)
	copy(p[8:24], netip.MustParseAddr(src).AsSlice())
	copy(p[24:40], netip.MustParseAddr(dst).AsSlice())
	copy(p[40:], l4)
	return p
}

// mpUDP6 is a UDP header sport -> dport with 8 bytes of payload (no
// checksum: forwarding does not check it).
func mpUDP6(sport, dport uint16) []byte {
	u := make([]byte, 16)
	binary.BigEndian.PutUint16(u[0:], sport)
	binary.BigEndian.PutUint16(u[2:], dport)
	binary.BigEndian.PutUint16(u[4:], 16)
	return u
}

// TestKernelMultipath6: where 6.18 and the model send IPv6 packets A sends
// through H over a two-path route to 2001:db8:99::/64 (via B on hB, via C
// on hC; rt6_multipath_hash, fib6_select_path): the L3 policy (varied
// addresses; varied flow labels, the raw label), the L4 policy (varied
// ports), the inner-L3 policy (IPv6 in IPv6, the inner header's
// host-order label), the custom policy's flow label field, and ICMPv6
// errors (hashed on the header they quote).
func TestKernelMultipath6(t *testing.T) {
	testutil.KernelTests(t)
	const dst = "2001:db8:99::5"
	nth := func(base string, i int) string {
		a := netip.MustParseAddr(base).As16()
		a[15] += byte(i)
		a[13] += byte(i * 7)
		return netip.AddrFrom16(a).String()
	}
	const n = 40
	for _, tc := range []struct {
		name   string
		policy int
		fields uint32
		pkt    func(i int) []byte
		one    byte
	}{
		{name: "L3, destinations", pkt: func(i int) []byte {
			return mp6(i, icmp6AddrA, nth(dst, i), 0, unix.IPPROTO_UDP, mpUDP6(40000, 9999))
		}},
		{name: "L3, flow labels", pkt: func(i int) []byte {
			return mp6(i, icmp6AddrA, dst, uint32(i*0x1357), unix.IPPROTO_UDP, mpUDP6(40000, 9999))
		}},
		{name: "L3, ports alone do not count", one: 'B', pkt: func(i int) []byte {
			return mp6(i, icmp6AddrA, dst, 0, unix.IPPROTO_UDP, mpUDP6(uint16(30000+i), 9999))
		}},
		{name: "L4, ports", policy: 1, pkt: func(i int) []byte {
			return mp6(i, icmp6AddrA, dst, 0, unix.IPPROTO_UDP, mpUDP6(uint16(30000+i*7), uint16(5000+i)))
		}},
		{name: "L4, flow labels do not count", policy: 1, one: 'B', pkt: func(i int) []byte {
			return mp6(i, icmp6AddrA, dst, uint32(i*0x1357), unix.IPPROTO_UDP, mpUDP6(40000, 9999))
		}},
		{name: "L3 inner, IPv6 in IPv6", policy: 2, pkt: func(i int) []byte {
			inner := mp6(0, nth("fd00:50::", i), nth("fd00:60::", i), uint32(i*0x111), unix.IPPROTO_UDP, mpUDP6(1, 2))
			return mp6(i, icmp6AddrA, dst, 0, unix.IPPROTO_IPV6, inner)
		}},
		{name: "custom, the flow label", policy: 3, fields: netstack.MultipathFieldFlowLabel, pkt: func(i int) []byte {
			return mp6(i, icmp6AddrA, dst, uint32(i*0x1357), unix.IPPROTO_UDP, mpUDP6(40000, 9999))
		}},
		{name: "L3, ICMPv6 errors: the quoted header", pkt: func(i int) []byte {
			quote := mp6(0, nth(dst, i), nth("2001:db8:1::", i), uint32(i*0x99), unix.IPPROTO_UDP, mpUDP6(1, 2))
			return mp6(i, icmp6AddrA, dst, 0, unix.IPPROTO_ICMPV6, append([]byte{3, 0, 0, 0, 0, 0, 0, 0}, quote...))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tp := newICMP6Topo(t)
			h := tp.h
			c := newNetns(t, "i6C")
			require.NoError(t, c.IP("link", "add", "vC", "type", "veth", "peer", "name", "hC", "netns", h.Name))
			for _, x := range []struct {
				n   *Netns
				dev string
			}{{h, "hC"}, {c, "vC"}} {
				require.NoError(t, x.n.Do(func() error { return writeSysctl("net/ipv6/conf/"+x.dev+"/disable_ipv6", "0") }))
			}
			require.NoError(t, h.IP("-6", "addr", "add", "2001:db8:3::1/64", "dev", "hC", "nodad"))
			require.NoError(t, c.IP("-6", "addr", "add", "2001:db8:3::2/64", "dev", "vC", "nodad"))
			require.NoError(t, h.IP("link", "set", "hC", "up"))
			require.NoError(t, c.IP("link", "set", "vC", "up"))
			m, err := c.HardwareAddr("vC")
			require.NoError(t, err)
			macVC := [6]byte(m)
			m, err = h.HardwareAddr("hC")
			require.NoError(t, err)
			macHC := [6]byte(m)
			for _, a := range [][]string{
				{"-6", "neigh", "add", "2001:db8:3::2", "lladdr", macString(macVC), "dev", "hC", "nud", "permanent"},
				{"-6", "route", "add", "2001:db8:99::/64", "nexthop", "via", icmp6AddrB, "dev", "hB", "nexthop", "via", "2001:db8:3::2", "dev", "hC"},
			} {
				require.NoError(t, h.IP(a...), "%v", a)
			}
			require.NoError(t, h.Sysctl("net.ipv6.fib_multipath_hash_policy", fmt.Sprint(tc.policy)))
			require.NoError(t, h.Sysctl("net.ipv4.fib_multipath_hash_seed", "305419896"))
			if tc.fields != 0 {
				require.NoError(t, h.Sysctl("net.ipv6.fib_multipath_hash_fields", fmt.Sprint(tc.fields)))
			}
			const off = 14 + 7 // the hop limit
			atB := attachTags(t, tp.b, "vB", unix.ETH_P_IPV6, off)
			atC := attachTags(t, c, "vC", unix.ETH_P_IPV6, off)
			vA, err := tp.a.Ifindex("vA")
			require.NoError(t, err)
			var frames [][]byte
			for i := 1; i <= n; i++ {
				f := tp.frame6(tc.pkt(i))
				sendFrame(t, tp.a, vA, net.HardwareAddr(f[0:6]), f)
				frames = append(frames, f)
			}
			time.Sleep(50 * time.Millisecond)
			kern := kernelPaths(t, n, atB, atC)
			t.Logf("kernel: %s", kern)
			if tc.one != 0 {
				require.Equal(t, strings.Repeat(string(tc.one), n), kern.String())
			} else {
				require.True(t, strings.Contains(kern.String(), "B") && strings.Contains(kern.String(), "C"),
					"a sample without both paths tests less")
			}

			model := make(mpPaths, n+1)
			for i := range model {
				model[i] = '-'
			}
			cfg := tp.model6(netstack.NamespaceConfig{MultipathHashPolicy6: tc.policy, MultipathHashFields6: tc.fields,
				MultipathHashSeed: 305419896}, true,
				netstack.ProgramConfig{Name: "atB", Hook: carrier.HookTCIngress, Netns: "B", Dev: "vB", Prog: tagModel(model, "B", unix.ETH_P_IPV6, off)},
				netstack.ProgramConfig{Name: "atC", Hook: carrier.HookTCIngress, Netns: "C", Dev: "vC", Prog: tagModel(model, "C", unix.ETH_P_IPV6, off)})
			pfx, ad := netip.MustParsePrefix, netip.MustParseAddr
			cfg.Namespaces = append(cfg.Namespaces, netstack.NamespaceConfig{Name: "C"})
			cfg.Devices = append(cfg.Devices, netstack.DeviceConfig{Name: "hC", Kind: netstack.KindVeth, Netns: "H", MAC: macHC,
				Addrs: []netip.Prefix{pfx("2001:db8:3::1/64")}, Peer: "vC", PeerNetns: "C", PeerMAC: macVC,
				PeerAddrs: []netip.Prefix{pfx("2001:db8:3::2/64")}})
			cfg.Routes = append(cfg.Routes, netstack.RouteConfig{Netns: "H", Dst: pfx("2001:db8:99::/64"),
				Nexthops: []netstack.NexthopConfig{{Dev: "hB", Via: ad(icmp6AddrB)}, {Dev: "hC", Via: ad("2001:db8:3::2")}}})
			runModelFrames(t, cfg, netstack.NopObserver{}, frames, 0, nil)
			require.Equal(t, kern.String(), model.String(), "model")
		})
	}
}

// TestKernelFibLookupMultipath: bpf_fib_lookup over a two-path route
// (10.20.0.0/16 via 10.1.0.254 and via 10.1.0.2 on veth0; fd00:20::/64 via
// fd00:1::2 and fd00:1::3) in TestKernelFibLookup's namespace: the flowi
// hash of the params (addresses, l4_protocol, ports; IPv6's flowinfo
// label), a source matching no next hop (plain hash-threshold on 6.18.44),
// and BPF_FIB_LOOKUP_OUTPUT (no hashing).
func TestKernelFibLookupMultipath(t *testing.T) {
	testutil.KernelTests(t)
	fh := newFibHarness(t, "fmp")
	for _, c := range [][]string{
		{"route", "add", "10.20.0.0/16", "nexthop", "via", "10.1.0.254", "dev", "veth0", "nexthop", "via", "10.1.0.2", "dev", "veth0"},
		{"-6", "neigh", "add", "fd00:1::3", "lladdr", fh.gw.String(), "dev", "veth0", "nud", "permanent"},
		{"-6", "route", "add", "fd00:20::/64", "nexthop", "via", "fd00:1::2", "dev", "veth0", "nexthop", "via", "fd00:1::3", "dev", "veth0"},
		{"nexthop", "add", "id", "1", "via", "10.1.0.254", "dev", "veth0"},
		{"nexthop", "add", "id", "2", "via", "10.1.0.2", "dev", "veth0"},
		{"nexthop", "add", "id", "10", "group", "1/2,2"},
		{"route", "add", "10.21.0.0/16", "nhid", "10"},
		{"nexthop", "add", "id", "3", "via", "fd00:1::2", "dev", "veth0"},
		{"nexthop", "add", "id", "4", "via", "fd00:1::3", "dev", "veth0"},
		{"nexthop", "add", "id", "11", "group", "3/4"},
		{"-6", "route", "add", "fd00:21::/64", "nhid", "11"},
	} {
		require.NoError(t, fh.h.IP(c...), "%v", c)
	}
	for _, pol := range []string{"1", "0"} {
		require.NoError(t, fh.h.Sysctl("net.ipv4.fib_multipath_hash_policy", pol))
		require.NoError(t, fh.h.Sysctl("net.ipv6.fib_multipath_hash_policy", pol))
		require.NoError(t, fh.h.Sysctl("net.ipv4.fib_multipath_hash_seed", "3"))
		policy := int(pol[0] - '0')
		extra := func(cfg *netstack.Config) {
			ns := &cfg.Namespaces[0]
			ns.MultipathHashPolicy, ns.MultipathHashPolicy6, ns.MultipathHashSeed = policy, policy, 3
			cfg.Neighbours = append(cfg.Neighbours, netstack.NeighConfig{Netns: "H", Dev: "veth0", Addr: netip.MustParseAddr("fd00:1::3"),
				MAC: [6]byte(fh.gw)})
			cfg.Routes = append(cfg.Routes,
				netstack.RouteConfig{Netns: "H", Dst: netip.MustParsePrefix("10.20.0.0/16"), Nexthops: []netstack.NexthopConfig{
					{Dev: "veth0", Via: netip.MustParseAddr("10.1.0.254")}, {Dev: "veth0", Via: netip.MustParseAddr("10.1.0.2")}}},
				netstack.RouteConfig{Netns: "H", Dst: netip.MustParsePrefix("fd00:20::/64"), Nexthops: []netstack.NexthopConfig{
					{Dev: "veth0", Via: netip.MustParseAddr("fd00:1::2")}, {Dev: "veth0", Via: netip.MustParseAddr("fd00:1::3")}}},
				netstack.RouteConfig{Netns: "H", Dst: netip.MustParsePrefix("10.21.0.0/16"), NHID: 10},
				netstack.RouteConfig{Netns: "H", Dst: netip.MustParsePrefix("fd00:21::/64"), NHID: 11})
			cfg.NexthopObjects = []netstack.NexthopObjConfig{
				{Netns: "H", ID: 1, Dev: "veth0", Via: netip.MustParseAddr("10.1.0.254")},
				{Netns: "H", ID: 2, Dev: "veth0", Via: netip.MustParseAddr("10.1.0.2")},
				{Netns: "H", ID: 10, Group: []netstack.NexthopGroupMember{{ID: 1}, {ID: 2, Weight: 2}}},
				{Netns: "H", ID: 3, Dev: "veth0", Via: netip.MustParseAddr("fd00:1::2")},
				{Netns: "H", ID: 4, Dev: "veth0", Via: netip.MustParseAddr("fd00:1::3")},
				{Netns: "H", ID: 11, Group: []netstack.NexthopGroupMember{{ID: 3}, {ID: 4}}},
			}
		}
		for i := range 12 {
			for _, tc := range []fibCase{
				{name: "IPv4", family: netstack.AFInet, src: "192.0.2.9", dst: fmt.Sprintf("10.20.%d.%d", i, i*3), in: "eth0",
					l4: unix.IPPROTO_UDP, sport: uint16(1000 + i*77), dport: uint16(53 + i)},
				{name: "IPv4, no source", family: netstack.AFInet, src: "0.0.0.0", dst: fmt.Sprintf("10.20.%d.1", i), in: "eth0",
					l4: unix.IPPROTO_TCP, sport: uint16(2000 + i*13), dport: 443},
				{name: "IPv4, output", family: netstack.AFInet, src: "192.0.2.9", dst: fmt.Sprintf("10.20.%d.%d", i, i*3), in: "veth0",
					l4: unix.IPPROTO_UDP, sport: uint16(1000 + i*77), dport: uint16(53 + i), flags: netstack.FibLookupOutput},
				{name: "IPv6", family: netstack.AFInet6, src: "2001:db8:1::9", dst: fmt.Sprintf("fd00:20::%x", i*7+1), in: "eth0",
					l4: unix.IPPROTO_UDP, sport: uint16(1000 + i*77), dport: uint16(53 + i), flowinfo: uint32(i * 0x2345)},
				{name: "IPv4 group", family: netstack.AFInet, src: "192.0.2.9", dst: fmt.Sprintf("10.21.%d.%d", i, i*3), in: "eth0",
					l4: unix.IPPROTO_UDP, sport: uint16(1000 + i*77), dport: uint16(53 + i)},
				{name: "IPv6 group", family: netstack.AFInet6, src: "2001:db8:1::9", dst: fmt.Sprintf("fd00:21::%x", i*7+1), in: "eth0",
					l4: unix.IPPROTO_UDP, sport: uint16(1000 + i*77), dport: uint16(53 + i)},
				{name: "IPv6 group, output: its first member", family: netstack.AFInet6, src: "2001:db8:1::9", dst: fmt.Sprintf("fd00:21::%x", i*7+1),
					in: "veth0", l4: unix.IPPROTO_UDP, sport: uint16(1000 + i*77), dport: uint16(53 + i), flags: netstack.FibLookupOutput},
			} {
				tc.name = fmt.Sprintf("policy %d, %s, %d", policy, tc.name, i)
				t.Run(tc.name, func(t *testing.T) { fh.run(t, tc, extra) })
			}
		}
	}
}

// TestKernelDownDeviceRoutes: a device that is down has no routes. H's
// veth d0 (198.18.5.1/24; its peer d1 in H too) is down, and has a route of its own
// (198.18.6.0/24): a datagram A sends to either prefix finds no route on
// H (IP_INNOROUTES at hA), in the kernel and in the model, where the
// connected route (fib_add_ifaddr waits for IFF_UP) and the route through
// the device (flushed at NETDEV_DOWN) are absent.
func TestKernelDownDeviceRoutes(t *testing.T) {
	testutil.KernelTests(t)
	probe, err := NewMetaProbe(false)
	testutil.SkipIfNotSupported(t, err)
	t.Cleanup(func() { require.NoError(t, probe.Close()) })
	for _, dst := range []string{"198.18.5.9", "198.18.6.9"} {
		t.Run(dst, func(t *testing.T) {
			tp := newRulesTopo(t, 0, false, false)
			h := tp.h
			for _, c := range [][]string{
				{"link", "add", "d0", "type", "veth", "peer", "name", "d1"},
				{"link", "set", "d0", "up"},
				{"addr", "add", "198.18.5.1/24", "dev", "d0"},
				{"route", "add", "198.18.6.0/24", "via", "198.18.5.2", "dev", "d0"},
				{"link", "set", "d0", "down"},
			} {
				require.NoError(t, h.IP(c...), "%v", c)
			}
			frame := tp.rtFrame(icmpAddrA, dst, 64)
			vA, err := tp.a.Ifindex("vA")
			require.NoError(t, err)
			kern := watchDrop(t, probe, tp.hA, func() { sendFrame(t, tp.a, vA, net.HardwareAddr(frame[0:6]), frame) })
			t.Logf("kernel: %v", kern)

			cfg := tp.rulesModel(nil)
			cfg.Devices = append(cfg.Devices, netstack.DeviceConfig{Name: "d0", Kind: netstack.KindVeth, Netns: "H", Down: true,
				Addrs: []netip.Prefix{netip.MustParsePrefix("198.18.5.1/24")}, Peer: "d1", PeerNetns: "H"})
			cfg.Routes = append(cfg.Routes, netstack.RouteConfig{Netns: "H", Dst: netip.MustParsePrefix("198.18.6.0/24"), Dev: "d0",
				Via: netip.MustParseAddr("198.18.5.2")})
			obs := &devDrops{}
			var model []string
			runModel(t, cfg, obs, frame, func(s *netstack.Stack) { model = obs.first(s, "H", "hA") })
			require.Equal(t, []string{"SKB_DROP_REASON_IP_INNOROUTES"}, kern)
			require.Equal(t, kern, model, "model")
		})
	}
}
