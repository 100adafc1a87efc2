package netstack

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
)

// icmp6Topology is fibTopology with 2001:db8:1::9 (the senders) a
// neighbour of eth0, options.replies, and a tc egress program on eth0
// noting the ICMPv6 messages and TCP segments that leave.
func icmp6Topology(seen *[]icmpSeen) *Config {
	cfg := fibTopology(true, ProgramConfig{Name: "out", Hook: carrier.HookTCEgress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
		d := c.Skb.Data()[ethHlen:]
		if ip, ok := parseIPv6(d); ok && (ip.next == nexthdrICMPv6 || ip.next == nexthdrTCP) {
			m := d[ip6Hlen:]
			typ := m[0]
			if ip.next == nexthdrTCP {
				typ = m[13]
			}
			*seen = append(*seen, icmpSeen{typ: typ, code: m[1], src: ip.src.String(), dst: ip.dst.String(), len: c.Skb.Len() - ethHlen,
				mark: c.Skb.H().Mark, rest: binary.BigEndian.Uint32(m[4:]), tos: d[0]<<4 | d[1]>>4})
		}
		return TCXNext
	})})
	cfg.Neighbours = append(cfg.Neighbours, NeighConfig{Dev: "eth0", Addr: addr("2001:db8:1::9"), MAC: macB})
	cfg.Options.Replies = true
	return cfg
}

// TestICMPv6Errors: the errors icmp6_send sends with their limits
// (TestKernelICMPv6Errors measures the same bursts on 6.18).
func TestICMPv6Errors(t *testing.T) {
	udp := func(dst string, hop uint8, payload int) []byte {
		return buildFrame6(frame6{dstMAC: macNIC, srcMAC: macB, src: "2001:db8:1::9", dst: dst, dport: 9999, payload: payload, hopLimit: hop})
	}
	for _, tc := range []struct {
		name      string
		frame     []byte
		typ, code uint8
		want      int
		len       int
		rest      uint32
	}{
		{"port unreachable", udp("2001:db8:1::1", 64, 100), icmp6DestUnreach, icmp6PortUnreach, 6, 40 + 8 + 148, 0},
		{"port unreachable, quote cut at 1280 bytes", udp("2001:db8:1::1", 64, 2000), icmp6DestUnreach, icmp6PortUnreach, 6, 1280, 0},
		{"hop limit", udp("fd00:1::2", 1, 100), icmp6TimeExceed, icmp6ExcHopLimit, 6, 40 + 8 + 148, 0},
		{"packet too big", udp("fd00:1::2", 64, 1400), icmp6PktTooBig, 0, 10, 1280, 1400},
		{"no route", udp("2001:db8:9::1", 64, 100), icmp6DestUnreach, icmp6NoRoute, 6, 40 + 8 + 148, 0},
		{"unreachable route", udp("2001:db8:6::1", 64, 100), icmp6DestUnreach, icmp6NoRoute, 6, 40 + 8 + 148, 0},
		{"prohibit route", udp("2001:db8:5::1", 64, 100), icmp6DestUnreach, icmp6AdmProhibited, 6, 40 + 8 + 148, 0},
		{"blackhole route", udp("2001:db8:7::1", 64, 100), 0, 0, 0, 0, 0},
		{"unknown next header", func() []byte {
			f := udp("2001:db8:1::1", 64, 100)
			f[ethHlen+6] = 253
			return f
		}(), icmp6ParamProb, icmp6UnkNexthdr, 6, 40 + 8 + 148, 6},
		{"an ICMPv6 error", func() []byte {
			f := udp("fd00:1::2", 1, 100)
			f[ethHlen+6] = nexthdrICMPv6
			f[ethHlen+ip6Hlen] = icmp6DestUnreach
			return f
		}(), 0, 0, 0, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var seen []icmpSeen
			cfg := icmp6Topology(&seen)
			for _, p := range []string{"2001:db8:7::/48", "2001:db8:6::/48", "2001:db8:5::/48"} {
				typ := map[string]string{"2001:db8:7::/48": RouteBlackhole, "2001:db8:6::/48": RouteUnreachable, "2001:db8:5::/48": RouteProhibit}[p]
				cfg.Routes = append(cfg.Routes, RouteConfig{Dst: pfx(p), Type: typ})
			}
			s, _ := newStack(t, cfg, "", nil, nil)
			for i := range 10 {
				require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Tstamp: 1e15, Frame: tc.frame}))
			}
			s.Flush()
			require.Len(t, seen, tc.want)
			for _, e := range seen {
				assert.Equal(t, icmpSeen{typ: tc.typ, code: tc.code, src: "2001:db8:1::1", dst: "2001:db8:1::9", len: tc.len, rest: tc.rest}, e)
			}
		})
	}
}

// TestICMPv6EchoAndReset: echo replies (the request's traffic class, no
// limit) and tcp_v6_send_reset's resets, with and without
// net.ipv6.fwmark_reflect.
func TestICMPv6EchoAndReset(t *testing.T) {
	for _, reflect := range []bool{false, true} {
		var seen []icmpSeen
		cfg := icmp6Topology(&seen)
		cfg.Namespaces[0].IPv6FwmarkReflect = reflect
		cfg.Programs = append(cfg.Programs, ProgramConfig{Name: "mark", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
			c.SetMark(77)
			return TCXNext
		})})
		s, _ := newStack(t, cfg, "", nil, nil)
		echo := buildFrame6(frame6{dstMAC: macNIC, srcMAC: macB, src: "2001:db8:1::9", dst: "2001:db8:1::1", next: nexthdrICMPv6, payload: 20})
		m := echo[ethHlen+ip6Hlen:]
		m[0], m[1] = icmp6EchoRequest, 0
		binary.BigEndian.PutUint32(m[4:], 0x12340001)
		echo[ethHlen] |= 0x02 // traffic class 0x28
		echo[ethHlen+1] |= 0x80
		for i := range 8 {
			require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: echo}))
		}
		syn := buildFrame6(frame6{dstMAC: macNIC, srcMAC: macB, src: "2001:db8:1::9", dst: "2001:db8:1::1", next: ipprotoTCP, dport: 80, seq: 1000})
		syn[ethHlen+ip6Hlen+13] = tcpSYN
		require.NoError(t, s.Inject(&Packet{ID: 9, Frame: syn}))
		s.Flush()
		mark := uint32(0)
		if reflect {
			mark = 77
		}
		require.Len(t, seen, 9)
		assert.Equal(t, icmpSeen{typ: icmp6EchoReply, src: "2001:db8:1::1", dst: "2001:db8:1::9", len: 40 + 8 + 20, mark: mark, rest: 0x12340001, tos: 0x28}, seen[0])
		rst := seen[8]
		assert.Equal(t, uint8(tcpRST|tcpACK), rst.typ)
		assert.Equal(t, 60, rst.len)
		assert.Equal(t, mark, rst.mark)
	}
}

// TestICMPv6Rcv: what icmpv6_rcv does with messages for the host
// (TestKernelICMPv6Rcv measures the same messages on 6.18).
func TestICMPv6Rcv(t *testing.T) {
	quote := make([]byte, ip6Hlen+8)
	quote[0], quote[6] = 0x60, nexthdrUDP
	for _, tc := range []struct {
		name string
		typ  uint8
		code uint8
		hop  uint8
		body []byte
		want []string
	}{
		{"echo request", icmp6EchoRequest, 0, 64, make([]byte, 8), nil},
		{"echo reply", icmp6EchoReply, 0, 64, make([]byte, 8), []string{"SKB_DROP_REASON_NO_SOCKET@icmpv6_rcv"}},
		{"extended echo request", 160, 0, 64, make([]byte, 8), []string{"SKB_DROP_REASON_NOT_SPECIFIED@icmpv6_rcv"}},
		{"port unreachable", icmp6DestUnreach, icmp6PortUnreach, 64, quote, nil},
		{"port unreachable, no transport header", icmp6DestUnreach, icmp6PortUnreach, 64, quote[:ip6Hlen], []string{"SKB_DROP_REASON_PKT_TOO_SMALL@icmpv6_rcv"}},
		{"port unreachable quoting no next header", icmp6DestUnreach, icmp6PortUnreach, 64, func() []byte {
			q := append([]byte(nil), quote...)
			q[6] = nexthdrNone
			return q
		}(), []string{"SKB_DROP_REASON_IPV6_BAD_EXTHDR@icmpv6_rcv"}},
		{"packet too big, quote of 30 bytes", icmp6PktTooBig, 0, 64, quote[:30], []string{"SKB_DROP_REASON_NOT_SPECIFIED@icmpv6_rcv"}},
		{"neighbour solicitation, hop limit 64", 135, 0, 64, make([]byte, 16), []string{"SKB_DROP_REASON_IPV6_NDISC_HOP_LIMIT@icmpv6_rcv"}},
		{"neighbour solicitation, code 1", 135, 1, 255, make([]byte, 16), []string{"SKB_DROP_REASON_IPV6_NDISC_BAD_CODE@icmpv6_rcv"}},
		{"MLD query", icmp6MgmQuery, 0, 1, make([]byte, 16), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var seen []icmpSeen
			cfg := icmp6Topology(&seen)
			cfg.Devices[0].RxChecksum = "off"
			s, te := newStack(t, cfg, "", nil, nil)
			f := buildFrame6(frame6{dstMAC: macNIC, srcMAC: macB, src: "2001:db8:1::9", dst: "2001:db8:1::1", next: nexthdrICMPv6,
				payload: len(tc.body), hopLimit: tc.hop})
			p := f[ethHlen:]
			m := p[ip6Hlen:]
			m[0], m[1], m[2], m[3] = tc.typ, tc.code, 0, 0
			copy(m[8:], tc.body)
			binary.BigEndian.PutUint16(m[2:], ^csumFold(csumAdd(pseudoSum(p, nexthdrICMPv6, len(m)), m)))
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
			s.Flush()
			assert.Equal(t, tc.want, te.obs.dropReasons())
		})
	}
}

// TestNdiscSendNA: with Options.Replies a solicitation for the host's
// address is answered (TestKernelNdiscReplies measures these on 6.18):
// solicited, router (the host forwards), override and the target option
// only for a multicast solicitation.
func TestNdiscSendNA(t *testing.T) {
	ll := append([]byte{1, 1}, macB[:]...)
	for _, tc := range []struct {
		name     string
		src, dst string
		opts     []byte
		flags    uint8
		len      int
	}{
		{"unicast", "2001:db8:1::9", "2001:db8:1::1", ll, 0xc0, 64},
		{"to the solicited-node group", "2001:db8:1::9", "ff02::1:ff00:1", ll, 0xe0, 72},
		{"duplicate address detection", "::", "ff02::1:ff00:1", nil, 0xa0, 72},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var seen []icmpSeen
			cfg := icmp6Topology(&seen)
			s, _ := newStack(t, cfg, "", nil, nil)
			msg := append([]byte{ndiscNeighSolicit, 0, 0, 0, 0, 0, 0, 0}, addr("2001:db8:1::1").AsSlice()...)
			msg = append(msg, tc.opts...)
			f := buildFrame6(frame6{dstMAC: macNIC, srcMAC: macB, src: tc.src, dst: tc.dst, next: nexthdrICMPv6, payload: len(msg) - udpHlen, hopLimit: 255})
			if d := addr(tc.dst).As16(); d[0] == 0xff {
				copy(f[0:6], []byte{0x33, 0x33, d[12], d[13], d[14], d[15]})
			}
			copy(f[ethHlen+ip6Hlen:], msg)
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
			require.Len(t, seen, 1)
			assert.Equal(t, uint8(ndiscNeighAdvert), seen[0].typ)
			assert.Equal(t, tc.flags, uint8(seen[0].rest>>24))
			assert.Equal(t, tc.len, seen[0].len)
		})
	}
}

// TestNdiscRcv: ndisc_rcv's fate for neighbour discovery messages to the
// host (TestKernelNdiscRcv measures these and more on 6.18). The host
// forwards, has 2001:db8:1::1 on eth0 and a neighbour entry for
// 2001:db8:1::9.
func TestNdiscRcv(t *testing.T) {
	nd := func(typ, flags uint8, target string, opts ...byte) []byte {
		m := make([]byte, 8, 24+len(opts))
		m[0], m[4] = typ, flags
		if target != "" {
			t := addr(target).As16()
			m = append(m, t[:]...)
		}
		return append(m, opts...)
	}
	ll := append([]byte{1, 1}, macB[:]...)
	for _, tc := range []struct {
		name     string
		src, dst string
		hop      uint8
		msg      []byte
		want     string
	}{
		{"NS", "2001:db8:1::9", "2001:db8:1::1", 255, nd(135, 0, "2001:db8:1::1", ll...), ""},
		{"NS to the solicited-node group without an option", "2001:db8:1::9", "ff02::1:ff00:1", 255, nd(135, 0, "2001:db8:1::1"), ""},
		{"NS for another host", "2001:db8:1::9", "2001:db8:1::1", 255, nd(135, 0, "2001:db8:1::77", ll...), "SKB_DROP_REASON_IPV6_NDISC_NS_OTHERHOST@icmpv6_rcv"},
		{"NS with an option of length 0", "2001:db8:1::9", "2001:db8:1::1", 255, nd(135, 0, "2001:db8:1::1", 1, 0, 0, 0, 0, 0, 0, 0), "SKB_DROP_REASON_IPV6_NDISC_BAD_OPTIONS@icmpv6_rcv"},
		{"DAD", "::", "ff02::1:ff00:1", 255, nd(135, 0, "2001:db8:1::1"), "SKB_DROP_REASON_NOT_SPECIFIED@icmpv6_rcv"},
		{"NS with hop limit 64", "2001:db8:1::9", "2001:db8:1::1", 64, nd(135, 0, "2001:db8:1::1", ll...), "SKB_DROP_REASON_IPV6_NDISC_HOP_LIMIT@icmpv6_rcv"},
		{"NA for the neighbour", "2001:db8:1::9", "ff02::1", 255, nd(136, 0x20, "2001:db8:1::9"), ""},
		{"NA for an unknown target", "2001:db8:1::9", "2001:db8:1::1", 255, nd(136, 0x60, "2001:db8:1::77"), "SKB_DROP_REASON_NOT_SPECIFIED@icmpv6_rcv"},
		{"RS to all routers", "2001:db8:1::9", "ff02::2", 255, nd(133, 0, "", ll...), ""},
		{"RA from a global address", "2001:db8:1::9", "ff02::1", 255, append(nd(134, 64, ""), make([]byte, 8)...), "SKB_DROP_REASON_NOT_SPECIFIED@icmpv6_rcv"},
		{"RA", "fe80::9", "ff02::1", 255, append(nd(134, 64, ""), make([]byte, 8)...), ""},
		{"redirect of 30 bytes", "fe80::9", "2001:db8:1::1", 255, append(nd(137, 0, "2001:db8:1::5"), make([]byte, 6)...), "SKB_DROP_REASON_IPV6_NDISC_BAD_OPTIONS@icmpv6_rcv"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fibTopology(true)
			cfg.Neighbours = append(cfg.Neighbours, NeighConfig{Dev: "eth0", Addr: addr("2001:db8:1::9"), MAC: macB})
			s, te := newStack(t, cfg, "", nil, nil)
			f := buildFrame6(frame6{dstMAC: macNIC, srcMAC: macB, src: tc.src, dst: tc.dst, next: nexthdrICMPv6, payload: len(tc.msg) - udpHlen, hopLimit: tc.hop})
			if d := addr(tc.dst).As16(); d[0] == 0xff {
				copy(f[0:6], []byte{0x33, 0x33, d[12], d[13], d[14], d[15]})
			}
			copy(f[ethHlen+ip6Hlen:], tc.msg)
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
			var got string
			if r := te.obs.dropReasons(); len(r) != 0 {
				got = r[0]
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

// TestAnswersCgroupEgress: a cgroup egress program on the root cgroup sees
// the answers kernel sockets own (an ICMP error, an IPv4 reset, a
// neighbour advertisement) but not the IPv6 reset, which has no owner
// (TestKernelAnswersCgroupEgress measures the same on 6.18).
func TestAnswersCgroupEgress(t *testing.T) {
	seen := map[string]int{}
	cfg := fibTopology(true, ProgramConfig{Name: "root", Hook: carrier.HookCgroupEgress, Prog: ProgramFunc(func(c *Ctx) int {
		d := c.Skb.Data()
		switch {
		case d[0]>>4 == 4 && d[9] == ipprotoICMP:
			seen["icmp"]++
		case d[0]>>4 == 4 && d[9] == ipprotoTCP:
			seen["rst"]++
		case d[0]>>4 == 6 && d[6] == nexthdrICMPv6 && d[40] == ndiscNeighAdvert:
			seen["na"]++
		case d[0]>>4 == 6 && d[6] == ipprotoTCP:
			seen["rst6"]++
		}
		return 1
	})})
	cfg.Neighbours = append(cfg.Neighbours, NeighConfig{Dev: "eth0", Addr: addr("192.0.2.9"), MAC: macB},
		NeighConfig{Dev: "eth0", Addr: addr("2001:db8:1::9"), MAC: macB})
	cfg.Options.Replies = true
	s, _ := newStack(t, cfg, "", nil, nil)
	syn6 := buildFrame6(frame6{dstMAC: macNIC, srcMAC: macB, src: "2001:db8:1::9", dst: "2001:db8:1::1", next: ipprotoTCP, dport: 9999})
	syn6[ethHlen+ip6Hlen+13] = tcpSYN
	msg := append([]byte{ndiscNeighSolicit, 0, 0, 0, 0, 0, 0, 0}, addr("2001:db8:1::1").AsSlice()...)
	ns := buildFrame6(frame6{dstMAC: macNIC, srcMAC: macB, src: "2001:db8:1::9", dst: "2001:db8:1::1", next: nexthdrICMPv6, payload: len(msg) - udpHlen, hopLimit: 255})
	copy(ns[ethHlen+ip6Hlen:], msg)
	for i, f := range [][]byte{
		buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "192.0.2.1", sport: 1, dport: 9999, payload: 10}),
		buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "192.0.2.1", proto: ipprotoTCP, sport: 1, dport: 9999, tcpFlags: tcpSYN}),
		ns, syn6,
	} {
		require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: f}))
	}
	assert.Equal(t, map[string]int{"icmp": 1, "rst": 1, "na": 1}, seen)
}

// TestProxyNDP: eth0 answers solicitations for fd00:9::5, its proxy
// entry's address, under proxy_ndp (eth0's or all's) while the host
// forwards: the router flag the entry's, override clear; a multicast
// solicitation with the default proxy_delay is answered (later, in the
// kernel) and its original freed. Without proxy_ndp, an entry or
// forwarding it is IPV6_NDISC_NS_OTHERHOST (TestKernelProxyNDP measures
// the same on 6.18).
func TestProxyNDP(t *testing.T) {
	ll := append([]byte{1, 1}, macB[:]...)
	const target, sol = "fd00:9::5", "ff02::1:ff00:5"
	for _, tc := range []struct {
		name                 string
		dev, all, entry, rtr bool
		noFwd, delay         bool
		src, dst             string
		flags                []uint8 // of the advertisements
		drop                 string
	}{
		{"unicast", true, false, true, false, false, false, "2001:db8:1::9", "2001:db8:1::1", []uint8{0x40}, ""},
		{"all, a router entry", false, true, true, true, false, false, "2001:db8:1::9", "2001:db8:1::1", []uint8{0xc0}, ""},
		{"solicited-node group, no delay", true, false, true, false, false, false, "2001:db8:1::9", sol, []uint8{0x40}, ""},
		{"solicited-node group, delayed", true, false, true, false, false, true, "2001:db8:1::9", sol, []uint8{0x40}, "SKB_DROP_REASON_NOT_SPECIFIED@icmpv6_rcv"},
		{"unicast, delay", true, false, true, false, false, true, "2001:db8:1::9", "2001:db8:1::1", []uint8{0x40}, ""},
		{"duplicate address detection", true, false, true, false, false, false, "::", sol, []uint8{0x00}, "SKB_DROP_REASON_NOT_SPECIFIED@icmpv6_rcv"},
		{"no proxy_ndp", false, false, true, false, false, false, "2001:db8:1::9", "2001:db8:1::1", nil, "SKB_DROP_REASON_IPV6_NDISC_NS_OTHERHOST@icmpv6_rcv"},
		{"no entry", true, false, false, false, false, false, "2001:db8:1::9", "2001:db8:1::1", nil, "SKB_DROP_REASON_IPV6_NDISC_NS_OTHERHOST@icmpv6_rcv"},
		{"not forwarding", true, false, true, false, true, false, "2001:db8:1::9", "2001:db8:1::1", nil, "SKB_DROP_REASON_IPV6_NDISC_NS_OTHERHOST@icmpv6_rcv"},
		{"no entry, solicited-node group", true, false, false, false, false, false, "2001:db8:1::9", sol, nil, "SKB_DROP_REASON_NOT_SPECIFIED@ip6_mc_input"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var seen []icmpSeen
			cfg := icmp6Topology(&seen)
			cfg.Namespaces[0].IPv6Forwarding = !tc.noFwd
			cfg.Namespaces[0].ProxyNDP = tc.all
			cfg.Devices[0].ProxyNDP, cfg.Devices[0].NoProxyDelay = tc.dev, !tc.delay
			if tc.entry {
				cfg.Neighbours = append(cfg.Neighbours, NeighConfig{Dev: "eth0", Addr: addr(target), Proxy: true, Router: tc.rtr})
			}
			s, te := newStack(t, cfg, "", nil, nil)
			msg := append([]byte{ndiscNeighSolicit, 0, 0, 0, 0, 0, 0, 0}, addr(target).AsSlice()...)
			if tc.src != "::" {
				msg = append(msg, ll...)
			}
			f := buildFrame6(frame6{dstMAC: macNIC, srcMAC: macB, src: tc.src, dst: tc.dst, next: nexthdrICMPv6, payload: len(msg) - udpHlen, hopLimit: 255})
			if d := addr(tc.dst).As16(); d[0] == 0xff {
				copy(f[0:6], []byte{0x33, 0x33, d[12], d[13], d[14], d[15]})
			}
			copy(f[ethHlen+ip6Hlen:], msg)
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
			s.Flush()
			var flags []uint8
			for _, x := range seen {
				if x.typ == ndiscNeighAdvert {
					flags = append(flags, uint8(x.rest>>24))
				}
			}
			assert.Equal(t, tc.flags, flags)
			var got string
			if r := te.obs.dropReasons(); len(r) != 0 {
				got = r[0]
			}
			assert.Equal(t, tc.drop, got)
		})
	}
	cfg := fibTopology(true)
	cfg.Neighbours = append(cfg.Neighbours, NeighConfig{Dev: "eth0", Addr: addr("192.0.2.77"), Proxy: true, Router: true})
	assert.ErrorContains(t, newStackErr(t, cfg, ""), "router is for IPv6 proxy entries")
	cfg = fibTopology(true)
	cfg.Neighbours = append(cfg.Neighbours, NeighConfig{Dev: "eth0", Addr: addr("192.0.2.77"), Proxy: true, MAC: macB})
	assert.ErrorContains(t, newStackErr(t, cfg, ""), "a proxy entry has an address and no mac or state")
}

// TestAnycast6: a forwarding host's subnet-router anycast addresses
// (2001:db8:1:: of eth0, fd00:1:: of veth0) are its own: a datagram gets
// NO_SOCKET and a port unreachable from the anycast address, an echo
// request a reply from eth0's address, a SYN no reset, a solicitation an
// advertisement from eth0's address with the router flag and override
// clear; bpf_fib_lookup does not forward to it. A host that does not
// forward has none (TestKernelAnycast6 measures the same on 6.18).
func TestAnycast6(t *testing.T) {
	ll := append([]byte{1, 1}, macB[:]...)
	for _, tc := range []struct {
		name  string
		dst   string
		next  uint8
		msg   []byte
		noFwd bool
		want  []string // "src type" of what eth0 sends
		drop  string
	}{
		{"UDP to eth0's anycast address", "2001:db8:1::", nexthdrUDP, nil, false, []string{"2001:db8:1:: 1"}, "SKB_DROP_REASON_NO_SOCKET@__udp6_lib_rcv"},
		{"UDP to veth0's anycast address", "fd00:1::", nexthdrUDP, nil, false, []string{"fd00:1:: 1"}, "SKB_DROP_REASON_NO_SOCKET@__udp6_lib_rcv"},
		{"echo request", "2001:db8:1::", nexthdrICMPv6, []byte{icmp6EchoRequest, 0, 0, 0, 0x12, 0x34, 0, 1}, false, []string{"2001:db8:1::1 129"}, ""},
		{"SYN", "2001:db8:1::", ipprotoTCP, nil, false, nil, "SKB_DROP_REASON_NO_SOCKET@tcp_v6_rcv"},
		{"NS", "2001:db8:1::1", nexthdrICMPv6, append(append([]byte{ndiscNeighSolicit, 0, 0, 0, 0, 0, 0, 0}, addr("2001:db8:1::").AsSlice()...), ll...), false,
			[]string{"2001:db8:1::1 136 0xc0"}, ""},
		{"a host", "2001:db8:1::", nexthdrUDP, nil, true, nil, "SKB_DROP_REASON_IP_INADDRERRORS@ip6_forward"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var seen []icmpSeen
			cfg := icmp6Topology(&seen)
			cfg.Namespaces[0].IPv6Forwarding = !tc.noFwd
			s, te := newStack(t, cfg, "", nil, nil)
			o := frame6{dstMAC: macNIC, srcMAC: macB, src: "2001:db8:1::9", dst: tc.dst, next: tc.next, dport: 9999, payload: 8}
			if tc.msg != nil {
				o.payload, o.hopLimit = len(tc.msg)-udpHlen, 255
			}
			f := buildFrame6(o)
			if tc.next == ipprotoTCP {
				f[ethHlen+ip6Hlen+13] = tcpSYN
			}
			if tc.msg != nil {
				copy(f[ethHlen+ip6Hlen:], tc.msg)
			}
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
			s.Flush()
			var got []string
			for _, x := range seen {
				s := fmt.Sprintf("%s %d", x.src, x.typ)
				if x.typ == ndiscNeighAdvert {
					s += fmt.Sprintf(" %#x", uint8(x.rest>>24))
				}
				got = append(got, s)
			}
			assert.Equal(t, tc.want, got)
			var drop string
			if r := te.obs.dropReasons(); len(r) != 0 {
				drop = r[0]
			}
			assert.Equal(t, tc.drop, drop)
		})
	}
	p := FibParams{Family: AFInet6, Ifindex: 2, Src: addr("2001:db8:1::9"), Dst: addr("fd00:1::")}
	fibLookupCase(t, fibTopology(true), "", false, 0, p, 0, FibRetNotFwded, p)

	// echo_ignore_anycast drops the request; anycast_src_echo_reply
	// answers from the anycast address.
	for _, tc := range []struct {
		ignore, srcEcho bool
		want            []string
		drop            []string
	}{{true, false, nil, []string{"SKB_DROP_REASON_NOT_SPECIFIED@icmpv6_rcv"}}, {false, true, []string{"2001:db8:1:: 129"}, nil}} {
		var seen []icmpSeen
		cfg := icmp6Topology(&seen)
		cfg.Namespaces[0].ICMPv6EchoIgnoreAnycast, cfg.Namespaces[0].AnycastSrcEchoReply = tc.ignore, tc.srcEcho
		s, te := newStack(t, cfg, "", nil, nil)
		f := buildFrame6(frame6{dstMAC: macNIC, srcMAC: macB, src: "2001:db8:1::9", dst: "2001:db8:1::", next: nexthdrICMPv6, payload: 8 - udpHlen, hopLimit: 64})
		copy(f[ethHlen+ip6Hlen:], []byte{icmp6EchoRequest, 0, 0, 0, 0x12, 0x34, 0, 1})
		require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
		s.Flush()
		var got []string
		for _, x := range seen {
			got = append(got, fmt.Sprintf("%s %d", x.src, x.typ))
		}
		assert.Equal(t, tc.want, got)
		assert.Equal(t, tc.drop, te.obs.dropReasons())
	}

	// A listener makes a request for a SYN to eth0's address, none for
	// one to its anycast address (tcp_v6_conn_request).
	cfg := fibTopology(true)
	cfg.Sockets = append(cfg.Sockets, SocketConfig{Name: "srv", Proto: ProtoTCP, Port: 80, Addr: netip.IPv6Unspecified()})
	s, _ := newStack(t, cfg, "", nil, nil)
	for i, dst := range []string{"2001:db8:1::", "2001:db8:1::1"} {
		f := buildFrame6(frame6{dstMAC: macNIC, srcMAC: macB, src: "2001:db8:1::9", dst: dst, next: ipprotoTCP, dport: 80, seq: 1000})
		f[ethHlen+ip6Hlen+13] = tcpSYN
		require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: f}))
		s.Flush()
		assert.EqualValues(t, i, s.TCPStats().Requests, dst)
	}
}
