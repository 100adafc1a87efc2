package netstack

import (
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
)

// TestRouteInput: ip_route_input_slow's martian checks,
// ip_mc_validate_source and fib_validate_source on a datagram from src to
// dst arriving on eth0 of fibTopology (eth0 192.0.2.1/24, veth0
// 10.1.0.1/24, forwarding), with the namespace's sysctls in ns
// (TestKernelRouteInput measures the same cases on 6.18). want is the
// first drop reason, "" for none.
func TestRouteInput(t *testing.T) {
	anyIP := []RouteConfig{{Dst: pfx("203.0.113.0/24"), Dev: "lo", Type: RouteLocal}}
	for _, tc := range []struct {
		name     string
		ns       NamespaceConfig
		routes   []RouteConfig
		src, dst string
		want     string
	}{
		{"multicast source", NamespaceConfig{}, nil, "224.0.0.5", "192.0.2.1", "IP_INVALID_SOURCE"},
		{"limited broadcast source", NamespaceConfig{}, nil, "255.255.255.255", "192.0.2.1", "IP_INVALID_SOURCE"},
		{"zero source", NamespaceConfig{}, nil, "0.0.0.0", "192.0.2.1", "IP_INVALID_SOURCE"},
		{"zero source to the subnet broadcast", NamespaceConfig{}, nil, "0.0.0.0", "192.0.2.255", "IP_INVALID_SOURCE"},
		{"zero source to the limited broadcast", NamespaceConfig{}, nil, "0.0.0.0", "255.255.255.255", "NOT_SPECIFIED"},
		{"zero source to zero: brd_input", NamespaceConfig{}, nil, "0.0.0.0", "0.0.0.0", "NOT_SPECIFIED"},
		{"zero destination", NamespaceConfig{}, nil, "192.0.2.9", "0.0.0.0", "IP_INVALID_DEST"},
		{"0.0.0.0/8 destination is unicast", NamespaceConfig{}, nil, "192.0.2.9", "0.1.2.3", "IP_INNOROUTES"},
		{"0.0.0.0/8 source is unicast", NamespaceConfig{}, nil, "0.1.2.3", "192.0.2.1", "NO_SOCKET"},
		{"loopback destination", NamespaceConfig{}, nil, "192.0.2.9", "127.0.0.1", "IP_LOCALNET"},
		{"loopback destination, route_localnet", NamespaceConfig{RouteLocalnet: true}, nil, "192.0.2.9", "127.0.0.1", "NO_SOCKET"},
		{"loopback source", NamespaceConfig{}, nil, "127.0.0.1", "192.0.2.1", "IP_LOCALNET"},
		{"own address as source", NamespaceConfig{}, nil, "192.0.2.1", "192.0.2.1", "IP_LOCAL_SOURCE"},
		{"own address as source, accept_local", NamespaceConfig{AcceptLocal: true}, nil, "192.0.2.1", "192.0.2.1", "NO_SOCKET"},
		{"other device's address, forwarded", NamespaceConfig{}, nil, "10.1.0.1", "10.1.0.2", "IP_LOCAL_SOURCE"},
		{"subnet broadcast source", NamespaceConfig{}, nil, "192.0.2.255", "192.0.2.1", "NO_SOCKET"},
		{"subnet broadcast source, rp_filter 2", NamespaceConfig{RPFilter: 2}, nil, "192.0.2.255", "192.0.2.1", "IP_INVALID_SOURCE"},
		{"subnet broadcast source, forwarded back out", NamespaceConfig{}, nil, "192.0.2.255", "192.0.2.7", "IP_INVALID_SOURCE"},
		{"unrouted source", NamespaceConfig{}, nil, "198.18.0.1", "192.0.2.1", "NO_SOCKET"},
		{"unrouted source, rp_filter 1", NamespaceConfig{RPFilter: 1}, nil, "198.18.0.1", "192.0.2.1", "IP_RPFILTER"},
		{"unrouted source, rp_filter 2", NamespaceConfig{RPFilter: 2}, nil, "198.18.0.1", "192.0.2.1", "IP_RPFILTER"},
		{"source behind veth0, rp_filter 1", NamespaceConfig{RPFilter: 1}, nil, "10.9.0.7", "192.0.2.1", "IP_RPFILTER"},
		{"source behind veth0, rp_filter 2", NamespaceConfig{RPFilter: 2}, nil, "10.9.0.7", "192.0.2.1", "NO_SOCKET"},
		{"on-link source, rp_filter 1", NamespaceConfig{RPFilter: 1}, nil, "192.0.2.9", "192.0.2.1", "NO_SOCKET"},
		{"zero source to all-hosts", NamespaceConfig{}, nil, "0.0.0.0", "224.0.0.1", "NOT_SPECIFIED"},
		{"loopback source to all-hosts", NamespaceConfig{}, nil, "127.0.0.1", "224.0.0.1", "IP_LOCALNET"},
		{"own address to all-hosts", NamespaceConfig{}, nil, "192.0.2.1", "224.0.0.1", "IP_LOCAL_SOURCE"},
		{"source in a custom local route", NamespaceConfig{}, anyIP, "203.0.113.9", "192.0.2.1", "IP_LOCAL_SOURCE"},
		{"source in a custom local route, accept_local", NamespaceConfig{AcceptLocal: true}, anyIP, "203.0.113.9", "192.0.2.1", "NO_SOCKET"},
		{"unrouted source with a custom local route", NamespaceConfig{}, anyIP, "198.18.0.1", "192.0.2.1", "NO_SOCKET"},
		{"source a connected route covers before the local route", NamespaceConfig{},
			[]RouteConfig{{Dst: pfx("0.0.0.0/0"), Dev: "lo", Type: RouteLocal}}, "192.0.2.9", "203.0.113.9", "NO_SOCKET"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fibTopology(true)
			tc.ns.Name, tc.ns.Forwarding = HostNetns, true
			cfg.Namespaces[0] = tc.ns
			cfg.Routes = append(cfg.Routes, tc.routes...)
			cfg.Neighbours = append(cfg.Neighbours, NeighConfig{Dev: "eth0", Addr: addr("192.0.2.7"), MAC: macB})
			s, te := newStack(t, cfg, "", nil, nil)
			f := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: tc.src, dst: tc.dst, sport: 1000, dport: 9999, payload: 10})
			if d := addr(tc.dst).As4(); d[0]&0xf0 == 0xe0 {
				copy(f[0:6], []byte{1, 0, 0x5e, d[1] & 0x7f, d[2], d[3]})
			} else if tc.dst == "255.255.255.255" {
				copy(f[0:6], broadcastMAC[:])
			}
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
			s.Flush()
			got := ""
			if r := te.obs.dropReasons(); len(r) != 0 {
				got, _, _ = strings.Cut(strings.TrimPrefix(r[0], "SKB_DROP_REASON_"), "@")
			}
			assert.Equal(t, tc.want, got, "drops: %v", te.obs.dropReasons())
		})
	}
}

// TestRouteInputLoopback: a packet looped back through lo keeps its
// output route, so 127.0.0.0/8 and the host's own source pass (no route
// input: TestLocalRouteOutput covers the delivery).
func TestRouteInputLoopback(t *testing.T) {
	var ns Netns
	assert.Equal(t, "IP_LOCALNET", ipRouteMartian(&ns, [4]byte{127, 0, 0, 1}, [4]byte{127, 0, 0, 1}).Name()[len("SKB_DROP_REASON_"):],
		"from outside")
	cfg := anyIPConfig()
	cfg.Entries = []EntryConfig{{Kind: EntryTX, Socket: "tx"}}
	cfg.Sockets = append(cfg.Sockets, SocketConfig{Name: "tx", Proto: ProtoUDP, Port: 4000, Addr: addr("127.0.0.1")})
	s, te := newStack(t, cfg, "", nil, nil)
	require.NoError(t, s.Inject(&Packet{ID: 1, Frame: buildFrame(frameOpts{src: "127.0.0.1", dst: "127.0.0.1", sport: 4000, dport: 53,
		payload: 8, noEth: true})}))
	s.Flush()
	assert.Empty(t, te.obs.drops)
	assert.Len(t, te.obs.delivs, 1)
}

// redirectTopology is icmpTopology with a route to 10.4.0.0/16 through
// 192.0.2.2, a neighbour on eth0's link.
func redirectTopology(ns NamespaceConfig, seen *[]icmpSeen) *Config {
	cfg := icmpTopology(true, seen)
	ns.Name, ns.Forwarding, ns.IPv6Forwarding = HostNetns, true, true
	cfg.Namespaces[0] = ns
	cfg.Routes = append(cfg.Routes, RouteConfig{Dst: pfx("10.4.0.0/16"), Dev: "eth0", Via: addr("192.0.2.2")})
	cfg.Neighbours = append(cfg.Neighbours, NeighConfig{Dev: "eth0", Addr: addr("192.0.2.2"), MAC: gwMAC})
	return cfg
}

// TestICMPRedirect: ip_rt_send_redirect for datagrams from 192.0.2.9
// forwarded back out of eth0 (TestKernelICMPRedirect measures the first
// intervals on 6.18): one at once, the n-th ip_rt_redirect_load << n
// jiffies after the last, none after ip_rt_redirect_number until
// ip_rt_redirect_silence passes without a redirected packet; the message
// carries the gateway and quotes the packet with its time to live
// decremented.
func TestICMPRedirect(t *testing.T) {
	var seen []icmpSeen
	s, te := newStack(t, redirectTopology(NamespaceConfig{}, &seen), "", nil, nil)
	f := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "10.4.0.1", sport: 1000, dport: 9999, payload: 10})
	const jiffy = int64(1e9 / hz)
	t0 := int64(1e15)
	var redirects []int64 // the jiffy of each, from t0
	at := t0
	send := func(when int64) {
		before := len(seen)
		require.NoError(t, s.Inject(&Packet{ID: 1, Tstamp: when, Frame: f}))
		if len(seen) > before {
			redirects = append(redirects, (when-t0)/jiffy)
		}
	}
	for range 10 {
		send(at) // a burst: one redirect
	}
	require.Len(t, seen, 1)
	e := seen[0]
	assert.Equal(t, icmpSeen{typ: icmpRedirect, code: icmpRedirHost, src: "192.0.2.1", dst: "192.0.2.9", len: 20 + 8 + 20 + 8 + 10,
		rest: binary.BigEndian.Uint32([]byte{192, 0, 2, 2}), tos: 0xc0}, e)
	// One packet a jiffy: the n-th redirect after load << n jiffies.
	for range 6000 { // past the tenth's time without the cap (load << 9 after the ninth)
		at += jiffy
		send(at)
	}
	want := []int64{0}
	for n, last := 1, int64(0); n < ipRtRedirectNumber; n++ {
		last += ipRtRedirectLoad<<n + 1 // time_after: strictly later
		want = append(want, last)
	}
	assert.Equal(t, want, redirects, "nine, then none while packets keep coming")
	at += (ipRtRedirectSilence + 1) * jiffy
	send(at)
	assert.Len(t, redirects, ipRtRedirectNumber+1, "a redirect after ip_rt_redirect_silence")
	assert.Len(t, te.obs.drops, 0, "every packet is forwarded")
}

// TestICMPRedirectConditions: no redirect when send_redirects is off, the
// packet leaves by another device, the source is not on the link, or
// replies are off; and the redirect zeroes the peer's ICMP tokens, so a
// port unreachable to the same host right after is rate limited.
func TestICMPRedirectConditions(t *testing.T) {
	udp := func(src, dst string) []byte {
		return buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: src, dst: dst, sport: 1000, dport: 9999, payload: 10})
	}
	for _, tc := range []struct {
		name    string
		ns      NamespaceConfig
		replies bool
		frames  [][]byte
		want    []uint8 // the ICMP types that leave eth0
	}{
		{"redirect", NamespaceConfig{}, true, [][]byte{udp("192.0.2.9", "10.4.0.1")}, []uint8{icmpRedirect}},
		{"to a host on the link", NamespaceConfig{}, true, [][]byte{udp("192.0.2.9", "192.0.2.2")}, []uint8{icmpRedirect}},
		{"send_redirects off", NamespaceConfig{NoSendRedirects: true}, true, [][]byte{udp("192.0.2.9", "10.4.0.1")}, nil},
		{"replies off", NamespaceConfig{}, false, [][]byte{udp("192.0.2.9", "10.4.0.1")}, nil},
		{"out of another device", NamespaceConfig{}, true, [][]byte{udp("192.0.2.9", "10.9.0.1")}, nil},
		{"out of another device, rp_filter 1", NamespaceConfig{RPFilter: 1}, true, [][]byte{udp("192.0.2.9", "10.9.0.1")}, nil},
		{"source off the link", NamespaceConfig{}, true, [][]byte{udp("198.18.0.1", "10.4.0.1")}, nil},
		{"rp_filter 1", NamespaceConfig{RPFilter: 1}, true, [][]byte{udp("192.0.2.9", "10.4.0.1")}, []uint8{icmpRedirect}},
		{"shared_media 0, the gateway on the link", NamespaceConfig{NoSharedMedia: true}, true, [][]byte{udp("192.0.2.9", "10.4.0.1")},
			[]uint8{icmpRedirect}},
		{"shared_media 0, an onlink gateway off the subnet", NamespaceConfig{NoSharedMedia: true}, true,
			[][]byte{udp("192.0.2.9", "10.10.0.1")}, nil},
		{"an onlink gateway off the subnet", NamespaceConfig{}, true, [][]byte{udp("192.0.2.9", "10.10.0.1")}, []uint8{icmpRedirect}},
		{"port unreachable alone", NamespaceConfig{}, true, [][]byte{udp("192.0.2.9", "192.0.2.1")}, []uint8{icmpDestUnreach}},
		{"port unreachable after a redirect", NamespaceConfig{}, true,
			[][]byte{udp("192.0.2.9", "10.4.0.1"), udp("192.0.2.9", "192.0.2.1")}, []uint8{icmpRedirect}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var seen []icmpSeen
			cfg := redirectTopology(tc.ns, &seen)
			cfg.Options.Replies = tc.replies
			cfg.Routes = append(cfg.Routes, RouteConfig{Dst: pfx("10.10.0.0/16"), Dev: "eth0", Via: addr("198.51.100.1"), Onlink: true})
			cfg.Neighbours = append(cfg.Neighbours, NeighConfig{Dev: "eth0", Addr: addr("198.51.100.1"), MAC: gwMAC})
			s, _ := newStack(t, cfg, "", nil, nil)
			for i, f := range tc.frames {
				require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Tstamp: 1e15, Frame: f}))
			}
			s.Flush()
			var got []uint8
			for _, e := range seen {
				got = append(got, e.typ)
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

// TestFibValidateSourceOnlink: the second return of fibValidateSource, the
// nexthop scope test that lets a redirect be marked: a connected route on
// the input device, not a route through a gateway or another device.
func TestFibValidateSourceOnlink(t *testing.T) {
	s, _ := newStack(t, redirectTopology(NamespaceConfig{}, new([]icmpSeen)), "", nil, nil)
	ns := s.Netns(HostNetns)
	eth0 := ns.dev("eth0")
	for _, tc := range []struct {
		src    string
		onlink bool
	}{{"192.0.2.9", true}, {"10.4.0.9", false}, {"10.1.0.9", false}, {"198.18.0.1", false}} {
		r, onlink := s.fibValidateSource(ns, eth0, nil, netip.MustParseAddr(tc.src).As4(), [4]byte{10, 9, 9, 9}, eth0)
		assert.Zero(t, r, tc.src)
		assert.Equal(t, tc.onlink, onlink, tc.src)
	}
}

// TestICMPRedirectZeroesTokens: a redirect after ip_rt_redirect_silence
// restarts the peer's count and zeroes its ICMP tokens (rate_tokens), so a
// port unreachable to that host right after is rate limited, though the
// host had tokens left from an earlier one.
func TestICMPRedirectZeroesTokens(t *testing.T) {
	var seen []icmpSeen
	s, _ := newStack(t, redirectTopology(NamespaceConfig{}, &seen), "", nil, nil)
	udp := func(dst string) []byte {
		return buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: dst, sport: 1000, dport: 9999, payload: 10})
	}
	const sec = int64(1e9)
	for i, p := range []struct {
		at  int64
		dst string
	}{{100 * sec, "192.0.2.1"}, {130 * sec, "10.4.0.1"}, {130 * sec, "192.0.2.1"}} {
		require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Tstamp: p.at, Frame: udp(p.dst)}))
	}
	var got []uint8
	for _, e := range seen {
		got = append(got, e.typ)
	}
	assert.Equal(t, []uint8{icmpDestUnreach, icmpRedirect}, got)
}

// redirect6Topology is fibTopology with fe80::1 on eth0, 2001:db8:9::/64
// through the link-local gateway fe80::2 and 2001:db8:8::/64 through
// 2001:db8:1::2, both neighbours of eth0 as is the sender 2001:db8:1::9,
// and a tc egress program on eth0 noting the ICMPv6 messages that leave.
func redirect6Topology(ll bool, seen *[][]byte) *Config {
	cfg := fibTopology(true, ProgramConfig{Name: "out", Hook: carrier.HookTCEgress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
		if d := c.Skb.Data()[ethHlen:]; d[6] == nexthdrICMPv6 {
			*seen = append(*seen, append([]byte(nil), d[:c.Skb.Len()-ethHlen]...))
		}
		return TCXNext
	})})
	if ll {
		cfg.Devices[0].Addrs = append(cfg.Devices[0].Addrs, pfx("fe80::1/64"))
	}
	cfg.Routes = append(cfg.Routes, RouteConfig{Dst: pfx("2001:db8:9::/64"), Dev: "eth0", Via: addr("fe80::2")},
		RouteConfig{Dst: pfx("2001:db8:8::/64"), Dev: "eth0", Via: addr("2001:db8:1::2")})
	for _, a := range []string{"fe80::2", "2001:db8:1::2", "2001:db8:1::9", "fe80::9"} {
		cfg.Neighbours = append(cfg.Neighbours, NeighConfig{Dev: "eth0", Addr: addr(a), MAC: gwMAC})
	}
	cfg.Options.Replies = true
	return cfg
}

// TestIPv6ForwardRedirect: ip6_forward's redirect for packets that leave
// by the device they came in on (ndisc_send_redirect: from the device's
// link-local address, the target's link-layer address, the redirected
// header; limited per destination and per source) and its source checks
// for those that leave by another (TestKernelIPv6ForwardRedirect measures
// the same on 6.18).
func TestIPv6ForwardRedirect(t *testing.T) {
	for _, tc := range []struct {
		name     string
		noLL     bool
		src, dst string
		n        int
		types    []uint8 // the ICMPv6 types that leave eth0
		drop     string
	}{
		{"through a link-local gateway", false, "2001:db8:1::9", "2001:db8:9::5", 1, []uint8{ndiscRedirect}, ""},
		{"to a host on the link", false, "2001:db8:1::9", "2001:db8:1::2", 1, []uint8{ndiscRedirect}, ""},
		{"through a global gateway", false, "2001:db8:1::9", "2001:db8:8::5", 1, nil, ""},
		{"no link-local address", true, "2001:db8:1::9", "2001:db8:9::5", 1, nil, ""},
		{"a burst", false, "2001:db8:1::9", "2001:db8:9::5", 10, []uint8{137, 137, 137, 137, 137, 137}, ""},
		// The source's tokens are spent: its port unreachable is limited.
		{"a port unreachable after a burst", false, "2001:db8:1::9", "2001:db8:9::5", -6, []uint8{137, 137, 137, 137, 137, 137},
			"SKB_DROP_REASON_NO_SOCKET@__udp6_lib_rcv"},
		{"a port unreachable alone", false, "2001:db8:1::9", "2001:db8:1::1", 1, []uint8{icmp6DestUnreach},
			"SKB_DROP_REASON_NO_SOCKET@__udp6_lib_rcv"},
		{"link-local source, back out", false, "fe80::9", "2001:db8:9::5", 1, []uint8{ndiscRedirect}, ""},
		{"link-local source, out of veth0", false, "fe80::9", "fd00:1::2", 1, []uint8{icmp6DestUnreach},
			"SKB_DROP_REASON_IP_INADDRERRORS@ip6_forward"},
		{"unspecified source, out of veth0", false, "::", "fd00:1::2", 1, nil, "SKB_DROP_REASON_IP_INADDRERRORS@ip6_forward"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var seen [][]byte
			s, te := newStack(t, redirect6Topology(!tc.noLL, &seen), "", nil, nil)
			f := buildFrame6(frame6{dstMAC: macNIC, srcMAC: macB, src: tc.src, dst: tc.dst, dport: 9999, payload: 16})
			frames := make([][]byte, max(tc.n, -tc.n))
			for i := range frames {
				frames[i] = f
			}
			if tc.n < 0 { // then a datagram to eth0's own address
				frames = append(frames, buildFrame6(frame6{dstMAC: macNIC, srcMAC: macB, src: tc.src, dst: "2001:db8:1::1", dport: 9999, payload: 16}))
			}
			for i, f := range frames {
				require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Tstamp: 1e15, Frame: f}))
			}
			s.Flush()
			var types []uint8
			for _, m := range seen {
				types = append(types, m[ip6Hlen])
			}
			assert.Equal(t, tc.types, types)
			var drops []string
			for _, d := range te.obs.dropReasons() {
				if !strings.Contains(d, "NO_SOCKET") || !strings.Contains(tc.name, "veth0") { // not B's answer to what leaves by veth0
					drops = append(drops, d)
				}
			}
			if tc.drop == "" {
				assert.Empty(t, drops)
			} else {
				assert.Equal(t, []string{tc.drop}, drops)
			}
			if len(seen) == 0 || seen[0][ip6Hlen] != ndiscRedirect {
				return
			}
			m := seen[0]
			ip, _ := parseIPv6(m)
			assert.Equal(t, "fe80::1", ip.src.String(), "from eth0's link-local address")
			assert.Equal(t, tc.src, ip.dst.String())
			assert.EqualValues(t, 255, m[7], "hop limit")
			rd := m[ip6Hlen:]
			target := addr(tc.dst)
			if tc.dst == "2001:db8:9::5" {
				target = addr("fe80::2")
			}
			assert.Equal(t, target.AsSlice(), rd[8:24], "target")
			assert.Equal(t, addr(tc.dst).AsSlice(), rd[24:40], "destination")
			assert.Equal(t, append([]byte{2, 1}, gwMAC[:]...), rd[40:48], "the target's link-layer address")
			pkt := f[ethHlen:]
			assert.Equal(t, []byte{4, uint8((len(pkt) + 8) >> 3), 0, 0, 0, 0, 0, 0}, rd[48:56], "redirected header option")
			assert.Equal(t, pkt, rd[56:56+len(pkt)], "the packet as it came, hop limit included")
			assert.Len(t, rd, 56+(len(pkt)+7)&^7)
		})
	}
}

// TestUnicastInL2Multicast: drop_unicast_in_l2_multicast drops a unicast
// packet for or through the host that came in an L2 broadcast frame, not
// one to a broadcast address; without it, ip_forward frees the forwarded
// one (NOT_SPECIFIED) (TestKernelUnicastInL2Multicast measures them).
func TestUnicastInL2Multicast(t *testing.T) {
	for _, tc := range []struct {
		on        bool
		v6        bool
		dst, want string
	}{
		{false, false, "192.0.2.1", "NO_SOCKET"},
		{true, false, "192.0.2.1", "UNICAST_IN_L2_MULTICAST"},
		{false, false, "10.1.0.2", "NOT_SPECIFIED"},
		{true, false, "10.1.0.2", "UNICAST_IN_L2_MULTICAST"},
		{true, false, "192.0.2.255", "NOT_SPECIFIED"}, // __udp4_lib_mcast_deliver: no socket
		{false, true, "2001:db8:1::1", "NO_SOCKET"},
		{true, true, "2001:db8:1::1", "UNICAST_IN_L2_MULTICAST"},
	} {
		cfg := fibTopology(true)
		cfg.Namespaces[0].DropUnicastInL2Multicast, cfg.Namespaces[0].IPv6DropUnicastInL2Multicast = tc.on, tc.on
		s, te := newStack(t, cfg, "", nil, nil)
		var f []byte
		if tc.v6 {
			f = buildFrame6(frame6{dstMAC: broadcastMAC, srcMAC: macB, src: "2001:db8:1::9", dst: tc.dst, dport: 9999, payload: 8})
		} else {
			f = buildFrame(frameOpts{dstMAC: broadcastMAC, srcMAC: macB, src: "192.0.2.9", dst: tc.dst, sport: 1, dport: 9999, payload: 8})
		}
		require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
		s.Flush()
		require.NotEmpty(t, te.obs.drops, "%+v", tc)
		assert.Equal(t, "SKB_DROP_REASON_"+tc.want, te.obs.drops[0].Reason.Name(), "%+v", tc)
	}
}

// TestIPv6Gateway: an IPv4 route through an IPv6 gateway (RFC 5549)
// forwards with the gateway's ND neighbour, bpf_fib_lookup answers in
// AF_INET6, and a redirect for it names the destination (rt_nexthop).
func TestIPv6Gateway(t *testing.T) {
	var seen []icmpSeen
	var macs [][6]byte
	cfg := redirectTopology(NamespaceConfig{}, &seen)
	cfg.Routes = append(cfg.Routes, RouteConfig{Dst: pfx("10.3.0.0/16"), Dev: "eth0", Via: addr("2001:db8:1::2")},
		RouteConfig{Dst: pfx("10.2.0.0/16"), Dev: "veth0", Via: addr("fd00:1::2")})
	cfg.Neighbours = append(cfg.Neighbours, NeighConfig{Dev: "eth0", Addr: addr("2001:db8:1::2"), MAC: gwMAC})
	cfg.Programs = append(cfg.Programs, ProgramConfig{Name: "atB", Hook: carrier.HookTCIngress, Netns: "B", Dev: "vB",
		Prog: ProgramFunc(func(c *Ctx) int {
			macs = append(macs, [6]byte(c.Skb.Data()[0:6]))
			return TCXNext
		})})
	var fib FibParams
	var rc int
	cfg.Programs = append(cfg.Programs, ProgramConfig{Name: "fib", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
		fib = FibParams{Family: AFInet, Ifindex: 2, Src: addr("192.0.2.9"), Dst: addr("10.2.1.1")}
		rc = c.FibLookup(&fib, FibLookupSrc)
		return TCXNext
	})})
	s, _ := newStack(t, cfg, "", nil, nil)
	for _, dst := range []string{"10.2.1.1", "10.3.0.1"} {
		f := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: dst, sport: 1, dport: 2000, payload: 8})
		require.NoError(t, s.Inject(&Packet{ID: 1, Tstamp: 1e15, Frame: f}))
	}
	s.Flush()
	assert.Equal(t, [][6]byte{macB}, macs, "to vB's address, fd00:1::2's neighbour")
	assert.Equal(t, FibRetSuccess, rc)
	assert.EqualValues(t, AFInet6, fib.Family)
	assert.Equal(t, "fd00:1::2", fib.Dst.String())
	require.Len(t, seen, 1)
	assert.Equal(t, uint8(icmpRedirect), seen[0].typ)
	assert.Equal(t, binary.BigEndian.Uint32([]byte{10, 3, 0, 1}), seen[0].rest, "the destination: no IPv4 gateway")
}
