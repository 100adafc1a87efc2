package netstack

import (
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/internal/siphash"
)

// TestMultipathHashVectors: the keys, consistentify and SipHash of the
// multipath hash against values a reference model computed and 6.18.44's
// next-hop choices confirmed (seed 0x12345678).
func TestMultipathHashVectors(t *testing.T) {
	const seed = 0x12345678
	key := siphash.Key{seed<<32 | seed, seed<<32 | seed}
	a := netip.MustParseAddr
	for _, tc := range []struct {
		name string
		k    func() mpKeys
		want uint32 // mhash >> 1
	}{
		{"IPv4 L3 192.0.2.10 -> 10.0.0.5", func() mpKeys {
			var k mpKeys
			k.setAddrs(a("192.0.2.10"), a("10.0.0.5"))
			return k
		}, 1151485661},
		{"IPv4 L3, the reverse direction", func() mpKeys {
			var k mpKeys
			k.setAddrs(a("10.0.0.5"), a("192.0.2.10"))
			return k
		}, 1151485661},
		{"IPv4 L4 192.0.2.10:40000 -> 10.0.0.5:443 TCP", func() mpKeys {
			var k mpKeys
			k.setAddrs(a("192.0.2.10"), a("10.0.0.5"))
			k.setPorts(40000, 443)
			k.proto = ipprotoTCP
			return k
		}, 617570768},
		{"IPv4 L4, the reverse direction", func() mpKeys {
			var k mpKeys
			k.setAddrs(a("10.0.0.5"), a("192.0.2.10"))
			k.setPorts(443, 40000)
			k.proto = ipprotoTCP
			return k
		}, 617570768},
		{"IPv6 L3 with a raw flow label 0x12345, UDP", func() mpKeys {
			var k mpKeys
			k.setAddrs(a("2001:db8::1"), a("2001:db8:100::5"))
			k.label, k.proto = mpLabelRaw(0x12345), ipprotoUDP
			return k
		}, 962507722},
		{"IPv6 L4 [2001:db8::1]:1234 -> [2001:db8:100::5]:53 UDP", func() mpKeys {
			var k mpKeys
			k.setAddrs(a("2001:db8::1"), a("2001:db8:100::5"))
			k.setPorts(1234, 53)
			k.proto = ipprotoUDP
			return k
		}, 235462303},
		{"IPv6 L3 inner: the dissector's host-order label", func() mpKeys {
			var k mpKeys
			k.setAddrs(a("2001:db8::1"), a("2001:db8:100::5"))
			k.label, k.proto = mpLabelHost(0x12345), ipprotoUDP
			return k
		}, 2001452920},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := tc.k()
			assert.Equal(t, tc.want, k.hash(key)>>1)
		})
	}
}

// TestMultipathUpperBounds: fib_rebalance's bounds for weights, and a
// dead path's -1.
func TestMultipathUpperBounds(t *testing.T) {
	up, down := &Device{up: true}, &Device{}
	for _, tc := range []struct {
		weights []int32
		dead    int // index of a path through a device that is down, or -1
		want    []int32
	}{
		{[]int32{1, 2}, -1, []int32{715827882, 2147483647}},
		{[]int32{1, 1}, -1, []int32{1073741823, 2147483647}},
		{[]int32{1, 2, 3}, -1, []int32{357913940, 1073741823, 2147483647}},
		{[]int32{3, 5}, -1, []int32{805306367, 2147483647}},
		{[]int32{1, 2, 3}, 1, []int32{536870911, -1, 2147483647}},
	} {
		paths := make([]nexthop, len(tc.weights))
		for i, w := range tc.weights {
			paths[i].weight, paths[i].dev = w, up
			if i == tc.dead {
				paths[i].dev = down
			}
		}
		rebalance(paths, false)
		got := make([]int32, len(paths))
		for i := range paths {
			got[i] = paths[i].upper
		}
		require.Equal(t, tc.want, got, "%v", tc.weights)
	}
}

// mpTopology is rulesTopology with 198.51.100.0/24 over two paths: via B
// (10.1.0.2 on veth0) and via C (10.2.0.2 on veth1), weights w, and the
// prefix local in B and C; ns sets the host's multipath sysctls.
func mpTopology(ns NamespaceConfig, w [2]int) *Config {
	var mark uint32
	cfg := rulesTopology(&mark)
	ns.Name, ns.Forwarding, ns.IPv6Forwarding = HostNetns, true, true
	cfg.Namespaces[0] = ns
	cfg.Routes = append(cfg.Routes,
		RouteConfig{Dst: pfx("198.51.100.0/24"), Nexthops: []NexthopConfig{{Dev: "veth0", Via: addr("10.1.0.2"), Weight: w[0]},
			{Dev: "veth1", Via: addr("10.2.0.2"), Weight: w[1]}}},
		RouteConfig{Netns: "B", Dst: pfx("198.51.100.0/24"), Dev: "lo", Type: RouteLocal},
		RouteConfig{Netns: "C", Dst: pfx("198.51.100.0/24"), Dev: "lo", Type: RouteLocal})
	return cfg
}

// mpForward forwards one datagram per source 192.0.2.100+i (i < n) to
// 198.51.100.7 in the stack cfg makes under profile prof and returns the
// socket each reached ("b", "c"), in order. rss gives each the NIC's RSS
// hash (Packet.Hash).
func mpForward(t *testing.T, cfg *Config, prof string, n int, rss ...bool) string {
	t.Helper()
	s, te := newStack(t, cfg, prof, nil, nil)
	for i := range n {
		src := netip.AddrFrom4([4]byte{192, 0, 2, byte(100 + i)}).String()
		p := &Packet{ID: uint64(i + 1), Frame: buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: src,
			dst: "198.51.100.7", sport: 1000, dport: 2000, payload: 10})}
		if len(rss) > 0 && rss[0] {
			p.Hash = uint32(i+1) * 0x9e3779b9
		}
		require.NoError(t, s.Inject(p))
	}
	s.Flush()
	return endOf(te, cfg)
}

// countOf is how many of the comma-separated names in got are who.
func countOf(got, who string) int {
	n := 0
	for _, x := range strings.Split(got, ",") {
		if x == who {
			n++
		}
	}
	return n
}

// arrivals adds tc ingress programs at vB and vC of cfg that note "B" or
// "C" for each IPv4 packet of protocol proto (0: any packet) and returns
// the notes.
func arrivals(cfg *Config, proto uint8) *[]string {
	var at []string
	for _, ns := range []string{"B", "C"} {
		cfg.Programs = append(cfg.Programs, ProgramConfig{Name: "at" + ns, Hook: carrier.HookTCIngress, Netns: ns, Dev: "v" + ns,
			Prog: ProgramFunc(func(c *Ctx) int {
				if d := c.Skb.Data(); proto == 0 || len(d) > ethHlen+ipHlen && d[ethHlen+9] == proto {
					at = append(at, ns)
				}
				return TCXNext
			})})
	}
	return &at
}

// TestMultipathForward: forwarded datagrams spread over both paths by
// their addresses; the same flows take the same paths again; the seed
// (or, at 0, the boot seed) moves them; a path through a device that is
// down takes none; weights skew the split; fib_multipath_use_neigh passes
// over a path whose gateway's entry failed.
func TestMultipathForward(t *testing.T) {
	const n = 64
	base := mpForward(t, mpTopology(NamespaceConfig{MultipathHashSeed: 1}, [2]int{}), "", n)
	require.Equal(t, n, countOf(base, "b")+countOf(base, "c"), base)
	require.NotZero(t, countOf(base, "b"), base)
	require.NotZero(t, countOf(base, "c"), base)
	assert.Equal(t, base, mpForward(t, mpTopology(NamespaceConfig{MultipathHashSeed: 1}, [2]int{}), "", n), "the same flows, the same paths")
	assert.NotEqual(t, base, mpForward(t, mpTopology(NamespaceConfig{MultipathHashSeed: 2}, [2]int{}), "", n), "another seed")

	boot := mpTopology(NamespaceConfig{}, [2]int{})
	boot.Options.MultipathBootSeed = 1
	assert.Equal(t, base, mpForward(t, boot, "", n), "seed 0 takes the boot seed")
	boot.Options.MultipathBootSeed = 2
	assert.NotEqual(t, base, mpForward(t, boot, "", n), "another boot seed")

	down := mpTopology(NamespaceConfig{MultipathHashSeed: 1}, [2]int{})
	down.Devices[2].Down = true
	assert.Equal(t, n, countOf(mpForward(t, down, "", n), "b"), "a dead path takes nothing")

	skew := mpForward(t, mpTopology(NamespaceConfig{MultipathHashSeed: 1}, [2]int{1, 7}), "", n)
	assert.Greater(t, countOf(skew, "c"), 3*countOf(skew, "b"), "weights 1:7: %s", skew)

	neigh := mpTopology(NamespaceConfig{MultipathHashSeed: 1, MultipathUseNeigh: true}, [2]int{})
	neigh.Neighbours = append(neigh.Neighbours, NeighConfig{Dev: "veth0", Addr: addr("10.1.0.2"), State: NeighFailed})
	assert.Equal(t, n, countOf(mpForward(t, neigh, "", n), "c"), "use_neigh: the failed gateway's path is passed over")
}

// TestMultipathSourceAddress: a socket's bound source and
// fib_select_multipath's rule for it (skb.Profile.MultipathSaddr): a
// source that is a path's nh_saddr picks that path from v6.16; one that
// matches no path ends on the last path in v6.16 to v6.18 and goes by the
// hash before and after.
func TestMultipathSourceAddress(t *testing.T) {
	send := func(prof string, bound netip.Addr, policy int) string {
		cfg := mpTopology(NamespaceConfig{MultipathHashSeed: 1, MultipathHashPolicy: policy}, [2]int{})
		cfg.Sockets = append(cfg.Sockets, SocketConfig{Name: "own", Proto: ProtoUDP, Port: 4000, Addr: bound})
		cfg.Entries = []EntryConfig{{Kind: EntryTX, Socket: "own"}}
		at := arrivals(cfg, 0)
		s, _ := newStack(t, cfg, prof, nil, nil)
		for i := range 32 {
			f := buildFrame(frameOpts{src: "192.0.2.1", dst: "198.51.100.7", sport: 4000, dport: uint16(5000 + i), payload: 10, noEth: true})
			require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: f}))
		}
		s.Flush()
		return strings.ToLower(strings.Join(*at, ","))
	}
	both := func(t *testing.T, got string) {
		t.Helper()
		assert.True(t, strings.Contains(got, "b") && strings.Contains(got, "c"), "by the hash: %s", got)
	}
	all := func(t *testing.T, got, who string) {
		t.Helper()
		assert.Equal(t, strings.TrimSuffix(strings.Repeat(who+",", 32), ","), got)
	}
	const l4 = MultipathL4
	for _, prof := range []string{"v6.12", "v6.18", "v6.19"} {
		t.Run(prof, func(t *testing.T) {
			both(t, send(prof, netip.Addr{}, l4))
			if prof == "v6.12" {
				both(t, send(prof, addr("10.2.0.1"), l4))
			} else {
				all(t, send(prof, addr("10.2.0.1"), l4), "c")
				all(t, send(prof, addr("10.1.0.1"), l4), "b")
			}
			if prof == "v6.18" {
				all(t, send(prof, addr("192.0.2.1"), l4), "c") // the last path
			} else {
				both(t, send(prof, addr("192.0.2.1"), l4))
			}
		})
	}
}

// TestMultipathValidateSource: fib_validate_source accepts a source whose
// route has any path through the input device (fib_info_nh_uses_dev),
// whichever path its hash would pick.
func TestMultipathValidateSource(t *testing.T) {
	for _, first := range []string{"veth0", "eth0"} {
		cfg := mpTopology(NamespaceConfig{RPFilter: 1, MultipathHashSeed: 1}, [2]int{})
		paths := []NexthopConfig{{Dev: "veth0", Via: addr("10.1.0.2")}, {Dev: "eth0", Via: addr("192.0.2.9")}}
		if first == "eth0" {
			paths[0], paths[1] = paths[1], paths[0]
		}
		cfg.Routes = append(cfg.Routes, RouteConfig{Dst: pfx("198.18.0.0/24"), Nexthops: paths})
		for i := range 8 {
			src := netip.AddrFrom4([4]byte{198, 18, 0, byte(10 + i)}).String()
			got := ruleFrameOutcome(t, cfg, buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: src, dst: "10.2.0.2",
				sport: 1000, dport: 2000, payload: 10}))
			assert.Equal(t, "c", got, "%s first, from %s", first, src)
		}
	}
}

// TestMultipathConfigErrors: what a multipath route and the multipath
// sysctls refuse, by profile where the kernel changed.
func TestMultipathConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name, profile string
		ns            NamespaceConfig
		route         RouteConfig
		want          string
	}{
		{name: "dev and nexthops", route: RouteConfig{Dst: pfx("198.18.0.0/16"), Dev: "veth0", Nexthops: []NexthopConfig{{Dev: "veth0"}}},
			want: "a multipath route has its devices and gateways in nexthops only"},
		{name: "an unknown device", route: RouteConfig{Dst: pfx("198.18.0.0/16"), Nexthops: []NexthopConfig{{Dev: "eth9"}}},
			want: `route 0 nexthop 0: unknown device "eth9"`},
		{name: "weight 257", route: RouteConfig{Dst: pfx("198.18.0.0/16"), Nexthops: []NexthopConfig{{Dev: "veth0", Weight: 257}}},
			want: "weight 257 (want 1 to 256)"},
		{name: "an IPv4 gateway for IPv6", route: RouteConfig{Dst: pfx("fd00:9::/64"), Nexthops: []NexthopConfig{{Dev: "veth0", Via: addr("10.1.0.2")}}},
			want: "gateway 10.1.0.2 of another family than fd00:9::/64"},
		{name: "policy 4", ns: NamespaceConfig{MultipathHashPolicy: 4}, want: "fib_multipath_hash_policy 4 (want 0 to 3)"},
		{name: "policy 2 in v4.19", profile: "v4.19", ns: NamespaceConfig{MultipathHashPolicy6: 2}, want: "net.ipv6.fib_multipath_hash_policy 2 (inner L3) needs v5.3"},
		{name: "policy 3 in v5.10", profile: "v5.10", ns: NamespaceConfig{MultipathHashPolicy: 3}, want: "policy 3 (custom) needs v5.15"},
		{name: "fields in v5.10", profile: "v5.10", ns: NamespaceConfig{MultipathHashFields: 1}, want: "fib_multipath_hash_fields needs v5.15"},
		{name: "fields beyond the mask", ns: NamespaceConfig{MultipathHashFields: 0x1000}, want: "fib_multipath_hash_fields 0x1000"},
		{name: "a seed in v6.6", profile: "v6.6", ns: NamespaceConfig{MultipathHashSeed: 1}, want: "fib_multipath_hash_seed needs v6.11"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fibTopology(true)
			tc.ns.Name, tc.ns.Forwarding = HostNetns, true
			cfg.Namespaces[0] = tc.ns
			if tc.route.Nexthops != nil {
				cfg.Routes = append([]RouteConfig{tc.route}, cfg.Routes...)
			}
			err := newStackErr(t, cfg, tc.profile)
			require.ErrorContains(t, err, tc.want)
		})
	}
	// The versions before the seed sysctl: the boot seed keys the hash.
	cfg := mpTopology(NamespaceConfig{}, [2]int{})
	cfg.Options.MultipathBootSeed = 1
	assert.Equal(t, mpForward(t, cfg, "", 16), mpForward(t, cfg, "v6.6", 16))
}

// TestMultipathFibLookup: bpf_fib_lookup over a multipath route: the
// params' flow picks the path (the L4 fields with policy 1), but in v6.16
// to v6.18 a source that matches no path's nh_saddr takes the last one;
// BPF_FIB_LOOKUP_OUTPUT names the path without a hash.
func TestMultipathFibLookup(t *testing.T) {
	const veth0, veth1 = 3, 4
	var got []int32
	for _, tc := range []struct {
		prof  string
		flags uint32
	}{{"v6.19", 0}, {"v6.12", 0}, {"v6.18", 0}, {"v6.19", FibLookupOutput}} {
		flags := tc.flags
		got = got[:0]
		cfg := mpTopology(NamespaceConfig{MultipathHashSeed: 1, MultipathHashPolicy: MultipathL4}, [2]int{})
		cfg.Programs = append(cfg.Programs, ProgramConfig{Name: "fib", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
			for i := range 32 {
				p := FibParams{Family: AFInet, Ifindex: 2, Src: addr("192.0.2.9"), Dst: addr("198.51.100.7"), L4Protocol: ipprotoUDP,
					Sport: uint16(1000 + i), Dport: 53}
				if flags != 0 {
					p.Ifindex = veth1
				}
				require.Equal(t, FibRetSuccess, c.FibLookup(&p, flags|FibLookupSkipNeigh))
				got = append(got, p.Ifindex)
			}
			return TCXDrop
		})})
		s, _ := newStack(t, cfg, tc.prof, nil, nil)
		require.NoError(t, s.Inject(&Packet{ID: 1, Frame: buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "10.1.0.2",
			sport: 1, dport: 2, payload: 10})}))
		if flags == 0 && tc.prof != "v6.18" {
			assert.Contains(t, got, int32(veth0))
			assert.Contains(t, got, int32(veth1))
		} else {
			assert.NotContains(t, got, int32(veth0))
		}
	}
}

// TestMultipathDissect: what the flow dissector model leaves for the
// multipath hash: the last IP header's addresses and protocol, ports
// (none for fragments or protocols without them, the ESP SPI), IPv6
// extension headers walked, and encapsulations (IPIP, IPv6 in IPv6, GRE
// with a key and with transparent Ethernet bridging) stopped at or
// entered.
func TestMultipathDissect(t *testing.T) {
	udp4 := func(src, dst string, sport, dport uint16) []byte {
		return buildFrame(frameOpts{src: src, dst: dst, sport: sport, dport: dport, payload: 8, noEth: true})
	}
	outer4 := func(proto uint8, hdr, inner []byte) []byte {
		p := buildFrame(frameOpts{src: "192.0.2.1", dst: "198.51.100.1", proto: ipprotoUDP, payload: 0, noEth: true})[:ipHlen]
		p[9] = proto
		return append(append(p, hdr...), inner...)
	}
	v4 := func(s string) [16]byte {
		var a [16]byte
		a4 := addr(s).As4()
		copy(a[:4], a4[:])
		return a
	}
	eth := make([]byte, ethHlen)
	binary.BigEndian.PutUint16(eth[12:], ethPIP)
	esp := udp4("10.0.0.1", "10.0.0.2", 0, 0)
	esp[9] = ipprotoESP
	binary.BigEndian.PutUint32(esp[ipHlen:], 0xabcd1234)
	frag := udp4("10.0.0.1", "10.0.0.2", 7, 8)
	binary.BigEndian.PutUint16(frag[6:], ipMF)
	ext6 := buildFrame6(frame6{src: "2001:db8::1", dst: "2001:db8::2", hop: true, dstOpt: 1, dport: 53, payload: 8})[ethHlen:]
	frag6 := buildFrame6(frame6{src: "2001:db8::1", dst: "2001:db8::2", frag: true, dport: 53, payload: 8})[ethHlen:]
	for _, tc := range []struct {
		name  string
		p     []byte
		v6    bool
		stop  bool
		src   [16]byte
		proto uint8
		ports [4]byte
		encap bool
	}{
		{name: "UDP", p: udp4("10.0.0.1", "10.0.0.2", 1000, 53), src: v4("10.0.0.1"), proto: ipprotoUDP, ports: [4]byte{0x03, 0xe8, 0, 53}},
		{name: "ESP: the SPI", p: esp, src: v4("10.0.0.1"), proto: ipprotoESP, ports: [4]byte{0xab, 0xcd, 0x12, 0x34}},
		{name: "a first fragment: no ports", p: frag, src: v4("10.0.0.1"), proto: ipprotoUDP},
		{name: "IPIP, stopped", p: outer4(ipprotoIPIP, nil, udp4("10.5.0.1", "10.5.0.2", 1, 2)), stop: true, src: v4("192.0.2.1"),
			proto: ipprotoIPIP, encap: true},
		{name: "IPIP, entered", p: outer4(ipprotoIPIP, nil, udp4("10.5.0.1", "10.5.0.2", 1, 2)), src: v4("10.5.0.1"), proto: ipprotoUDP,
			ports: [4]byte{0, 1, 0, 2}, encap: true},
		{name: "GRE with a key, entered", p: outer4(ipprotoGRE, []byte{0x20, 0, 0x08, 0, 0, 0, 0, 7}, udp4("10.5.0.1", "10.5.0.2", 1, 2)),
			src: v4("10.5.0.1"), proto: ipprotoUDP, ports: [4]byte{0, 1, 0, 2}, encap: true},
		{name: "GRE, transparent Ethernet bridging", p: outer4(ipprotoGRE, append([]byte{0, 0, 0x65, 0x58}, eth...), udp4("10.5.0.1", "10.5.0.2", 1, 2)),
			src: v4("10.5.0.1"), proto: ipprotoUDP, ports: [4]byte{0, 1, 0, 2}, encap: true},
		{name: "GRE with routing: not looked into", p: outer4(ipprotoGRE, []byte{0x40, 0, 0x08, 0, 0, 0, 0, 0}, udp4("10.5.0.1", "10.5.0.2", 1, 2)),
			src: v4("192.0.2.1"), proto: ipprotoGRE},
		{name: "IPv6 extension headers", p: ext6, v6: true, src: addr("2001:db8::1").As16(), proto: ipprotoUDP, ports: [4]byte{0x9c, 0x40, 0, 53}}, // buildFrame6's source port 40000
		{name: "an IPv6 fragment: the next protocol, no ports", p: frag6, v6: true, src: addr("2001:db8::1").As16(), proto: ipprotoUDP},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := mpDissect(nil, tc.p, tc.v6, tc.stop)
			assert.Equal(t, tc.src, d.src, "src")
			assert.Equal(t, tc.proto, d.proto, "proto")
			assert.Equal(t, tc.ports, d.ports, "ports")
			assert.Equal(t, tc.encap, d.encap, "encap")
		})
	}
}

// TestMultipathL3Keys: the L3 policy's keys: an ICMP error's (and an
// ICMPv6 error's) quoted header, an echo's own, and IPv6's raw flow label
// and first next header.
func TestMultipathL3Keys(t *testing.T) {
	quote := buildFrame(frameOpts{src: "10.5.0.1", dst: "10.5.0.2", sport: 1, dport: 2, payload: 8, noEth: true})
	icmp := func(typ uint8) []byte {
		p := buildFrame(frameOpts{src: "192.0.2.1", dst: "198.51.100.1", payload: 0, noEth: true})[:ipHlen]
		p[9] = ipprotoICMP
		return append(append(p, typ, 0, 0, 0, 0, 0, 0, 0), quote[:28]...)
	}
	k := mpL3Keys(icmp(icmpTimeExceeded), false, nil, false)
	assert.Equal(t, [4]byte(addr("10.5.0.1").AsSlice()), [4]byte(k.src[:4]), "an ICMP error: the quoted source")
	k = mpL3Keys(icmp(icmpEcho), false, nil, false)
	assert.Equal(t, [4]byte(addr("192.0.2.1").AsSlice()), [4]byte(k.src[:4]), "an echo: its own source")

	q6 := buildFrame6(frame6{src: "fd00:5::1", dst: "fd00:5::2", dport: 53, payload: 8})[ethHlen:]
	binary.BigEndian.PutUint32(q6[0:], 6<<28|0x12345)
	p6 := buildFrame6(frame6{src: "2001:db8::1", dst: "2001:db8::2", next: nexthdrICMPv6, payload: 48 + len(q6)})[ethHlen:]
	p6 = p6[:ip6Hlen]
	p6 = append(append(p6, 3, 0, 0, 0, 0, 0, 0, 0), q6...)
	k = mpL3Keys(p6, true, nil, false)
	assert.Equal(t, addr("fd00:5::1").As16(), k.src, "an ICMPv6 error: the quoted source")
	assert.Equal(t, mpLabelRaw(0x12345), k.label, "its raw flow label")
	assert.Equal(t, uint8(ipprotoUDP), k.proto, "its next header")
	p6[ip6Hlen] = 128 // an echo request
	k = mpL3Keys(p6, true, nil, false)
	assert.Equal(t, addr("2001:db8::1").As16(), k.src, "an echo: its own source")
	assert.Equal(t, uint8(nexthdrICMPv6), k.proto)
}

// TestMultipathConsistentify: __flow_hash_consistentify orders the IPv4
// addresses and the ports by their raw bytes read as little-endian
// integers (x86-64), each pair on its own.
func TestMultipathConsistentify(t *testing.T) {
	var k mpKeys
	k.setAddrs(addr("10.0.0.5"), addr("5.0.0.10")) // LE 0x0500000a < 0x0a000005: in order
	k.setPorts(256, 1)                             // LE 0x0001 < 0x0100: in order
	k.hash(siphash.Key{})
	assert.Equal(t, [4]byte{10, 0, 0, 5}, [4]byte(k.src[:4]))
	assert.Equal(t, [4]byte{1, 0, 0, 1}, k.ports)
	k.setAddrs(addr("5.0.0.10"), addr("10.0.0.5"))
	k.setPorts(1, 256)
	k.hash(siphash.Key{})
	assert.Equal(t, [4]byte{10, 0, 0, 5}, [4]byte(k.src[:4]), "swapped")
	assert.Equal(t, [4]byte{1, 0, 0, 1}, k.ports, "swapped")
}

// TestMultipathL4Hash: the L4 policy takes the L4 hash a NIC's RSS gave
// a TCP or UDP packet as it is (skb_get_hash_raw >> 1), so the seed moves
// nothing; the L3 policy hashes the addresses with the seed.
func TestMultipathL4Hash(t *testing.T) {
	for _, tc := range []struct {
		policy int
		moves  bool
	}{{MultipathL4, false}, {MultipathL3, true}} {
		one := mpForward(t, mpTopology(NamespaceConfig{MultipathHashPolicy: tc.policy, MultipathHashSeed: 1}, [2]int{}), "", 48, true)
		two := mpForward(t, mpTopology(NamespaceConfig{MultipathHashPolicy: tc.policy, MultipathHashSeed: 2}, [2]int{}), "", 48, true)
		assert.Equal(t, tc.moves, one != two, "policy %d: %s, %s", tc.policy, one, two)
	}
}

// TestMultipathTunnel: an ipip device's packets over a multipath
// underlay: the outer addresses are one flow, but ip_tunnel_init_flow
// passes the inner packet's skb_get_hash as flowi4_multipath_hash, which
// fib_multipath_hash mixes in, so inner flows spread over the paths.
func TestMultipathTunnel(t *testing.T) {
	cfg := mpTopology(NamespaceConfig{MultipathHashSeed: 1}, [2]int{})
	cfg.Devices = append(cfg.Devices, DeviceConfig{Name: "tun0", Kind: KindIPIP, Local: addr("192.0.2.1"), Remote: addr("198.51.100.7"),
		Addrs: []netip.Prefix{pfx("10.77.0.1/30")}})
	cfg.Routes = append(cfg.Routes, RouteConfig{Dst: pfx("10.88.0.0/16"), Dev: "tun0"})
	at := arrivals(cfg, ipprotoIPIP)
	// v6.19: the tunnel's source matches no path's nh_saddr, which v6.16
	// to v6.18 answer with the last path.
	s, _ := newStack(t, cfg, "v6.19", nil, nil)
	for i := range 32 {
		src := netip.AddrFrom4([4]byte{192, 0, 2, byte(100 + i)}).String()
		require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: src,
			dst: "10.88.0.9", sport: 1000, dport: 2000, payload: 10})}))
	}
	s.Flush()
	require.Len(t, *at, 32)
	assert.Contains(t, *at, "B")
	assert.Contains(t, *at, "C")
}

// TestMultipathICMPErrors: an ICMP error's route is hashed on the packet
// it answers (icmp_route_lookup passes skb_in), so under the L4 policy
// errors to one peer spread over the paths by the expired datagrams'
// ports, where the error's own flow (one peer, one type) would take one.
func TestMultipathICMPErrors(t *testing.T) {
	cfg := mpTopology(NamespaceConfig{MultipathHashPolicy: MultipathL4, MultipathHashSeed: 1, ICMPRatelimit: -1}, [2]int{})
	cfg.Options.Replies = true
	at := arrivals(cfg, ipprotoICMP)
	s, _ := newStack(t, cfg, "", nil, nil)
	for i := range 24 {
		require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "198.51.100.77",
			dst: "192.0.2.50", ttl: 1, sport: uint16(30000 + 7*i), dport: 9999, payload: 10})}))
	}
	s.Flush()
	require.Len(t, *at, 24)
	assert.Contains(t, *at, "B")
	assert.Contains(t, *at, "C")
}

// nhgTopology is mpTopology with 198.51.100.0/24 by nexthop group 10
// (ids 1 via B, 2 via C) in place of its own next hops.
func nhgTopology(ns NamespaceConfig) *Config {
	cfg := mpTopology(ns, [2]int{})
	for i := range cfg.Routes {
		if r := &cfg.Routes[i]; r.Nexthops != nil {
			r.Nexthops, r.NHID = nil, 10
		}
	}
	cfg.NexthopObjects = []NexthopObjConfig{
		{ID: 1, Dev: "veth0", Via: addr("10.1.0.2")},
		{ID: 2, Dev: "veth1", Via: addr("10.2.0.2")},
		{ID: 10, Group: []NexthopGroupMember{{ID: 1}, {ID: 2}}},
	}
	cfg.Options.MultipathBootSeed = 1 // the seed sysctl is younger than the groups
	return cfg
}

// TestNexthopGroups: routes over `ip nexthop` groups: the group spreads
// flows as a multipath route does; a member whose gateway failed is
// passed over without any sysctl, falling back from v6.6 to the first
// good member and before it to the covering member, good or not; a
// member whose device is down is gone from the group, and a route whose
// members are all gone is no route; a blackhole nexthop drops.
func TestNexthopGroups(t *testing.T) {
	const n = 48
	ns := NamespaceConfig{}
	base := mpForward(t, nhgTopology(ns), "", n)
	assert.Positive(t, countOf(base, "b"), base)
	assert.Positive(t, countOf(base, "c"), base)
	legacy := mpTopology(ns, [2]int{})
	legacy.Options.MultipathBootSeed = 1
	assert.Equal(t, mpForward(t, legacy, "", n), base, "the same hash and bounds as a multipath route")

	failed := nhgTopology(ns)
	failed.Neighbours = append(failed.Neighbours, NeighConfig{Dev: "veth1", Addr: addr("10.2.0.2"), State: NeighFailed})
	assert.Equal(t, n, countOf(mpForward(t, failed, "v6.6", n), "b"), "v6.6: the first good member")
	assert.Equal(t, base, mpForward(t, failed, "v6.1", n), "v6.1: the covering member, resolved anew")

	down := nhgTopology(ns)
	down.Devices[2].Down = true
	assert.Equal(t, n, countOf(mpForward(t, down, "", n), "b"), "veth1's nexthop is deleted from the group")
	// The one member left is a path of its own: no hash and no
	// neighbour check, so its failed gateway is resolved anew.
	lone := nhgTopology(ns)
	lone.Devices[1].Down = true
	lone.Neighbours = append(lone.Neighbours, NeighConfig{Dev: "veth1", Addr: addr("10.2.0.2"), State: NeighFailed})
	assert.Equal(t, n, countOf(mpForward(t, lone, "", n), "c"), "veth0's nexthop is deleted; the group of one sends by veth1")
	down.Devices[1].Down = true
	require.False(t, down.Routes[0].Dst.IsValid(), "rulesTopology's default route")
	down.Routes = down.Routes[1:]
	assert.Equal(t, "IP_INNOROUTES", mpForward(t, down, "", n), "every member gone: the route is gone")

	bh := nhgTopology(ns)
	bh.NexthopObjects = append(bh.NexthopObjects, NexthopObjConfig{ID: 5, Blackhole: true})
	for i := range bh.Routes {
		if bh.Routes[i].NHID != 0 {
			bh.Routes[i].NHID = 5
		}
	}
	assert.Equal(t, "NOT_SPECIFIED", mpForward(t, bh, "", n), "a blackhole nexthop")
}

// TestNexthopObjectErrors: what nexthop objects and routes naming them
// refuse, by profile where the kernel changed.
func TestNexthopObjectErrors(t *testing.T) {
	for _, tc := range []struct {
		name, profile string
		edit          func(c *Config)
		want          string
	}{
		{"before v5.3", "v4.19", func(c *Config) {}, "nexthop objects need v5.3 or later, not v4.19"},
		{"id 0", "", func(c *Config) { c.NexthopObjects[0].ID = 0 }, "id 0 (want 1 or more)"},
		{"an id twice", "", func(c *Config) { c.NexthopObjects[1].ID = 1 }, "id 1 taken in host"},
		{"dev and group", "", func(c *Config) { c.NexthopObjects[0].Group = []NexthopGroupMember{{ID: 2}} },
			"want one of dev (with an optional via), blackhole or group"},
		{"an unknown member", "", func(c *Config) { c.NexthopObjects[2].Group[1].ID = 9 }, "member 1: no nexthop id 9"},
		{"a nested group", "", func(c *Config) {
			c.NexthopObjects = append(c.NexthopObjects, NexthopObjConfig{ID: 11, Group: []NexthopGroupMember{{ID: 10}}})
		}, "a group can not be a nexthop within a group"},
		{"a blackhole among others", "", func(c *Config) {
			c.NexthopObjects[0] = NexthopObjConfig{ID: 1, Blackhole: true}
		}, "a blackhole nexthop can not be in a group with more than 1 path"},
		{"weight 256 in v6.6", "v6.6", func(c *Config) { c.NexthopObjects[2].Group[0].Weight = 256 }, "weight 256 (want 1 to 255 in v6.6)"},
		{"a member twice", "", func(c *Config) { c.NexthopObjects[2].Group[1].ID = 1 }, "nexthop id 1 twice in the group"},
		{"nhid and dev", "", func(c *Config) { c.Routes[len(c.Routes)-3].Dev = "veth0" }, "a route with nhid has no dev, via or nexthops"},
		{"an unknown nhid", "", func(c *Config) { c.Routes[len(c.Routes)-3].NHID = 99 }, "no nexthop id 99 in host"},
		{"an IPv4 nexthop for IPv6", "", func(c *Config) { c.Routes[len(c.Routes)-3].Dst = pfx("fd00:77::/64") },
			"IPv6 routes can not use an IPv4 nexthop (id 1)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := nhgTopology(NamespaceConfig{})
			tc.edit(cfg)
			require.ErrorContains(t, newStackErr(t, cfg, tc.profile), tc.want)
		})
	}
	cfg := nhgTopology(NamespaceConfig{})
	cfg.NexthopObjects[2].Group[0].Weight = 300
	assert.NoError(t, newStackErr(t, cfg, "v6.12"), "u16 weights from v6.12")
}

// TestRoutesThroughDownDevice: a device that is down has no routes (the
// kernel flushes them when it goes down): a route through it is skipped
// for the next match (here the default route via B), and so is a
// multipath route all of whose paths are dead.
func TestRoutesThroughDownDevice(t *testing.T) {
	cfg := mpTopology(NamespaceConfig{MultipathHashSeed: 1}, [2]int{})
	cfg.Routes = append(cfg.Routes, RouteConfig{Dst: pfx("198.51.100.0/25"), Dev: "veth1", Via: addr("10.2.0.2")})
	cfg.Devices[2].Down = true // veth1
	got := mpForward(t, cfg, "", 8)
	assert.Equal(t, "b,b,b,b,b,b,b,b", got, "the /25 through veth1 is gone; the multipath /24 keeps its path via B")

	all := mpTopology(NamespaceConfig{MultipathHashSeed: 1}, [2]int{})
	all.Routes[len(all.Routes)-3].Nexthops = []NexthopConfig{{Dev: "veth1", Via: addr("10.2.0.2")}, {Dev: "veth1", Via: addr("10.2.0.3")}}
	all.Devices[2].Down = true
	assert.Equal(t, "b,b,b,b,b,b,b,b", mpForward(t, all, "", 8), "every path dead: the default route via B")

	// An IPv4 address on a device that is down has no prefix route
	// (fib_add_ifaddr): its subnet goes by the default route via B.
	conn := mpTopology(NamespaceConfig{}, [2]int{})
	conn.Devices[2].Down = true
	conn.Devices[2].Addrs = append(conn.Devices[2].Addrs, pfx("198.18.5.1/24"))
	atB := 0
	conn.Programs = append(conn.Programs, ProgramConfig{Name: "atB", Hook: carrier.HookTCIngress, Netns: "B", Dev: "vB",
		Prog: ProgramFunc(func(c *Ctx) int { atB++; return TCXNext })})
	s, _ := newStack(t, conn, "", nil, nil)
	require.NoError(t, s.Inject(&Packet{ID: 1, Frame: buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9",
		dst: "198.18.5.9", sport: 1, dport: 2, payload: 10})}))
	s.Flush()
	assert.Equal(t, 1, atB, "the default route, not veth1's subnet")
}

// TestDownDeviceAddrs6: an IPv6 address on a device configured down has
// no prefix route (addrconf adds it once the device is up) but is local
// (as with nodad): a packet to the subnet has no route (IP_INNOROUTES),
// one to the address reaches the host's UDP layer, which has no socket
// there (TestKernelDownDeviceAddrs6 measures both on 6.18).
func TestDownDeviceAddrs6(t *testing.T) {
	for _, tc := range []struct{ dst, drop string }{
		{"2001:db8:3::9", "SKB_DROP_REASON_IP_INNOROUTES@ip6_pkt_discard"},
		{"2001:db8:3::1", "SKB_DROP_REASON_NO_SOCKET@__udp6_lib_rcv"},
	} {
		t.Run(tc.dst, func(t *testing.T) {
			cfg := &Config{
				Namespaces: []NamespaceConfig{{Name: HostNetns, IPv6Forwarding: true}},
				Devices: []DeviceConfig{
					{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("2001:db8:1::fe/64")}},
					{Name: "d0", Kind: KindVeth, Peer: "d1", Down: true, Addrs: []netip.Prefix{pfx("2001:db8:3::1/64")}},
				},
				Entries: []EntryConfig{{Dev: "eth0"}},
			}
			s, te := newStack(t, cfg, "", nil, nil)
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: buildFrame6(frame6{dstMAC: macNIC, srcMAC: macB, src: "2001:db8:1::1",
				dst: tc.dst, dport: 9999, payload: 10})}))
			s.Flush()
			require.Equal(t, []string{tc.drop}, te.obs.dropReasons())
		})
	}
}
