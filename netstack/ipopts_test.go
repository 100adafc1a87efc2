package netstack

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
)

// optFrame is a UDP datagram from 192.0.2.9 to dst with IP options opts
// (padded with END) and 16 bytes of payload.
func optFrame(dst string, opts []byte) []byte {
	for len(opts)%4 != 0 {
		opts = append(opts, ipoptEnd)
	}
	f := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: dst, sport: 1000, dport: 9999, payload: 16})
	hl := ipHlen + len(opts)
	out := make([]byte, 0, len(f)+len(opts))
	out = append(out, f[:ethHlen+ipHlen]...)
	out = append(out, opts...)
	out = append(out, f[ethHlen+ipHlen:]...)
	ip := out[ethHlen:]
	ip[0] = 0x40 | byte(hl/4)
	binary.BigEndian.PutUint16(ip[2:], uint16(len(ip)))
	setIPCsum(ip, hl)
	return out
}

// optTopology is icmpTopology with a program noting the IPv4 header of
// every ICMP message that leaves eth0 and a held tap on eth0's receive
// side.
func optTopology(msgs *[][]byte) *Config {
	cfg := icmpTopology(true, new([]icmpSeen))
	cfg.Namespaces[0].ICMPRatelimit = -1
	cfg.Programs = append(cfg.Programs, ProgramConfig{Name: "icmp", Hook: carrier.HookTCEgress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
		if d := c.Skb.Data()[ethHlen:]; d[9] == ipprotoICMP {
			*msgs = append(*msgs, append([]byte(nil), d[:c.Skb.Len()-ethHlen]...))
		}
		return TCXNext
	})})
	cfg.Taps = []TapConfig{{Name: "rx", Dev: "eth0", Dir: TapRX, Hold: true}}
	return cfg
}

// TestIPOptions: ip_options_compile's checks (the parameter problem's
// pointer, IP_INHDR), the refused source route, and the options the
// port unreachable for 192.0.2.1's closed port echoes (record route: the
// host's address recorded on receive, then the answer's; timestamps)
// (TestKernelIPOptions measures the same on 6.18).
func TestIPOptions(t *testing.T) {
	const h = "192.0.2.1"
	for _, tc := range []struct {
		name    string
		opts    []byte
		drop    string
		typ     uint8 // the ICMP message's type (0: none)
		pointer uint8 // a parameter problem's pointer
		echo    []byte
	}{
		{"no-operations", []byte{1, 1, 1, 1}, "NO_SOCKET", icmpDestUnreach, 0, nil},
		{"option length 1", []byte{0x99, 1, 0, 0}, "IP_INHDR", icmpParameterProb, 20, nil},
		{"option past the header", []byte{0x99, 8, 0, 0}, "IP_INHDR", icmpParameterProb, 20, nil},
		{"router alert of 3 bytes", []byte{ipoptRA, 3, 0}, "IP_INHDR", icmpParameterProb, 21, nil},
		{"record route, pointer 3", []byte{ipoptRR, 7, 3, 0, 0, 0, 0}, "IP_INHDR", icmpParameterProb, 22, nil},
		{"record route", []byte{ipoptRR, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0}, "NO_SOCKET", icmpDestUnreach, 0,
			[]byte{ipoptRR, 11, 12, 192, 0, 2, 1, 192, 0, 2, 1, ipoptEnd}},
		{"record route, full", []byte{ipoptRR, 7, 8, 1, 2, 3, 4}, "NO_SOCKET", icmpDestUnreach, 0,
			[]byte{ipoptRR, 7, 8, 1, 2, 3, 4, ipoptEnd}},
		{"two record routes", []byte{ipoptRR, 7, 4, 0, 0, 0, 0, ipoptRR, 7, 4, 0, 0, 0, 0}, "IP_INHDR", icmpParameterProb, 27,
			[]byte{ipoptRR, 7, 8, 192, 0, 2, 1, ipoptEnd}},
		{"timestamps full: overflow", []byte{ipoptTimestamp, 8, 9, 0x10, 0, 0, 0, 0}, "NO_SOCKET", icmpDestUnreach, 0,
			[]byte{ipoptTimestamp, 8, 9, 0x20, 0, 0, 0, 0}},
		{"timestamps, overflow 15", []byte{ipoptTimestamp, 8, 9, 0xf0, 0, 0, 0, 0}, "IP_INHDR", icmpParameterProb, 23, nil},
		{"loose source route", []byte{ipoptLSRR, 7, 4, 10, 1, 0, 2}, "NOT_SPECIFIED", 0, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var msgs [][]byte
			s, te := newStack(t, optTopology(&msgs), "", nil, nil)
			require.NoError(t, s.Inject(&Packet{ID: 1, Tstamp: 1e15, Frame: optFrame(h, tc.opts)}))
			s.Flush()
			require.NotEmpty(t, te.obs.drops)
			assert.Equal(t, "SKB_DROP_REASON_"+tc.drop, te.obs.drops[0].Reason.Name())
			if tc.typ == 0 {
				assert.Empty(t, msgs)
				return
			}
			require.Len(t, msgs, 1)
			m := msgs[0]
			hl := int(m[0]&0xf) * 4
			assert.Zero(t, ipCsum(m[:hl]), "header checksum")
			assert.Equal(t, tc.typ, m[hl])
			if tc.typ == icmpParameterProb {
				assert.Equal(t, tc.pointer, m[hl+4], "pointer")
			}
			if tc.echo == nil {
				assert.Equal(t, ipHlen, hl, "no options")
				return
			}
			assert.Equal(t, tc.echo, m[ipHlen:hl], "echoed options")
		})
	}
}

// TestIPOptionsCow: ip_rcv_options' skb_cow gives a tapped (cloned) skb a
// private head, so the record route it fills is not what the tap reads.
func TestIPOptionsCow(t *testing.T) {
	var msgs [][]byte
	s, _ := newStack(t, optTopology(&msgs), "", nil, nil)
	f := optFrame("192.0.2.1", []byte{ipoptRR, 7, 4, 0, 0, 0, 0})
	require.NoError(t, s.Inject(&Packet{ID: 1, Tstamp: 1e15, Frame: f}))
	s.Flush()
	pk := s.TapPackets("rx")
	require.Len(t, pk, 1)
	assert.Equal(t, f, pk[0].Frame, "the tap's clone kept the bytes as they came")
	require.Len(t, msgs, 1)
	m := msgs[0]
	q := m[int(m[0]&0xf)*4+icmpHlen+ipHlen:] // the quote's options
	assert.Equal(t, []byte{ipoptRR, 7, 8, 192, 0, 2, 1}, q[:7], "the stack's copy has the address recorded")
}

// TestIPOptionsForward: a forwarded datagram's record route gets the
// outgoing device's address and a valid checksum (ip_forward_options);
// fragments after the first have the options without the copied flag
// turned into no-operations (ip_options_fragment), and a later fragment
// split again keeps its offset.
func TestIPOptionsForward(t *testing.T) {
	var got [][]byte
	cfg := fibTopology(true, ProgramConfig{Name: "atB", Hook: carrier.HookTCIngress, Netns: "B", Dev: "vB", Prog: ProgramFunc(func(c *Ctx) int {
		got = append(got, append([]byte(nil), c.Skb.Data()[ethHlen:]...))
		return TCXNext
	})})
	s, _ := newStack(t, cfg, "", nil, nil)
	opts := []byte{ipoptRA, 4, 0, 0, ipoptRR, 7, 4, 0, 0, 0, 0, ipoptEnd}
	f := optFrame("10.1.0.2", opts)
	require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
	big := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "10.1.0.2", sport: 1, dport: 9999, payload: 1450})
	withOpts := optFrame("10.1.0.2", opts)
	withOpts = append(withOpts[:ethHlen+ipHlen+len(opts)], big[ethHlen+ipHlen:]...)
	ip := withOpts[ethHlen:]
	binary.BigEndian.PutUint16(ip[2:], uint16(len(ip)))
	setIPCsum(ip, ipHlen+len(opts))
	require.NoError(t, s.Inject(&Packet{ID: 2, Frame: withOpts}))
	s.Flush()
	require.Len(t, got, 3)
	for _, p := range got {
		assert.Zero(t, ipCsum(p[:ipHlen+len(opts)]), "header checksum")
	}
	assert.Equal(t, []byte{ipoptRA, 4, 0, 0, ipoptRR, 7, 8, 10, 1, 0, 1, ipoptEnd}, got[0][ipHlen:ipHlen+len(opts)], "veth0's address recorded")
	assert.Equal(t, []byte{ipoptRA, 4, 0, 0, ipoptRR, 7, 8, 10, 1, 0, 1, ipoptEnd}, got[1][ipHlen:ipHlen+len(opts)], "the first fragment")
	assert.Equal(t, []byte{ipoptRA, 4, 0, 0, 1, 1, 1, 1, 1, 1, 1, ipoptEnd}, got[2][ipHlen:ipHlen+len(opts)], "the second fragment")
	assert.NotZero(t, binary.BigEndian.Uint16(got[2][6:8])&ipOffset)
}

// TestIPFragmentKeepsOffset: a later fragment larger than the outgoing
// MTU is split again from its own offset, MF kept (ip_frag_init).
func TestIPFragmentKeepsOffset(t *testing.T) {
	var offs []uint16
	cfg := fibTopology(true, ProgramConfig{Name: "atB", Hook: carrier.HookTCIngress, Netns: "B", Dev: "vB", Prog: ProgramFunc(func(c *Ctx) int {
		offs = append(offs, binary.BigEndian.Uint16(c.Skb.Data()[ethHlen+6:]))
		return TCXNext
	})})
	s, _ := newStack(t, cfg, "", nil, nil)
	f := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "10.1.0.2", sport: 1, dport: 9999, payload: 1450,
		fragOff: ipMF | 100})
	require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
	s.Flush()
	require.Len(t, offs, 2)
	assert.Equal(t, ipMF|100, int(offs[0]))
	assert.Equal(t, ipMF|(100+(1400-ipHlen)/8), int(offs[1]))
}

// TestIPOptionsEchoFragmented: an echo reply above the MTU echoes the
// record route in its first fragment only (the fast path's
// ip_options_fragment on the frag_list).
func TestIPOptionsEchoFragmented(t *testing.T) {
	var msgs [][]byte
	s, _ := newStack(t, optTopology(&msgs), "", nil, nil)
	opts := []byte{ipoptRR, 7, 4, 0, 0, 0, 0, ipoptEnd}
	echo := append([]byte{icmpEcho, 0, 0, 0, 0, 1, 0, 1}, make([]byte, 2000)...)
	f := icmpFrame("192.0.2.1", 64, echo, false)
	f = withIPOptions(f, opts, false)
	require.NoError(t, s.Inject(&Packet{ID: 1, Tstamp: 1e15, Frame: f}))
	s.Flush()
	require.Len(t, msgs, 2)
	hl := ipHlen + len(opts)
	for _, m := range msgs {
		require.EqualValues(t, hl/4, m[0]&0xf)
		assert.Zero(t, ipCsum(m[:hl]), "header checksum")
	}
	assert.Equal(t, []byte{ipoptRR, 7, 8, 192, 0, 2, 1, ipoptEnd}, msgs[0][ipHlen:hl], "as the receive filled it")
	assert.Equal(t, []byte{1, 1, 1, 1, 1, 1, 1, ipoptEnd}, msgs[1][ipHlen:hl], "the second fragment")
}

// TestRouteMTU: forwarding honours a route's mtu metric: IPv4 fragments
// to it, or answers fragmentation needed naming it when DF is set; IPv6
// answers packet too big; bpf_fib_lookup keeps the device's MTU
// (TestKernelRouteMTU and TestKernelFibLookup measure them on 6.18).
func TestRouteMTU(t *testing.T) {
	var lens []int
	var seen []icmpSeen
	cfg := icmpTopology(true, &seen)
	cfg.Routes = append(cfg.Routes, RouteConfig{Dst: pfx("10.1.0.2/32"), Dev: "veth0", MTU: 1300},
		RouteConfig{Dst: pfx("fd00:1::2/128"), Dev: "veth0", MTU: 1300})
	cfg.Programs = append(cfg.Programs, ProgramConfig{Name: "atB", Hook: carrier.HookTCIngress, Netns: "B", Dev: "vB",
		Prog: ProgramFunc(func(c *Ctx) int {
			lens = append(lens, c.Skb.Len()-ethHlen)
			return TCXNext
		})})
	s, _ := newStack(t, cfg, "", nil, nil)
	f := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "10.1.0.2", sport: 1, dport: 2000, payload: 1350})
	require.NoError(t, s.Inject(&Packet{ID: 1, Tstamp: 1e15, Frame: f}))
	s.Flush()
	assert.Equal(t, []int{1300, 20 + 8 + 1350 - 1280}, lens, "fragments of the route's MTU")
	f[ethHlen+6] |= 0x40
	setIPCsum(f[ethHlen:], ipHlen)
	require.NoError(t, s.Inject(&Packet{ID: 2, Tstamp: 1e15, Frame: f}))
	s.Flush()
	require.Len(t, seen, 1)
	assert.Equal(t, uint8(icmpDestUnreach), seen[0].typ)
	assert.EqualValues(t, 1300, seen[0].rest, "fragmentation needed names the route's MTU")

	// IPv6: ip6_forward checks the device's MTU (1400), ip6_fragment the
	// route's after the hop limit's decrement: a packet too big naming
	// 1300 and quoting hop limit 63, the packet freed there.
	var ptb [][]byte
	cfg6 := cfg.Copy()
	cfg6.Neighbours = append(cfg6.Neighbours, NeighConfig{Dev: "eth0", Addr: addr("2001:db8:1::9"), MAC: macB})
	cfg6.Programs = append(cfg6.Programs, ProgramConfig{Name: "out6", Hook: carrier.HookTCEgress, Dev: "eth0",
		Prog: ProgramFunc(func(c *Ctx) int {
			if d := c.Skb.Data()[ethHlen:]; d[6] == nexthdrICMPv6 && d[ip6Hlen] == icmp6PktTooBig {
				ptb = append(ptb, append([]byte(nil), d[ip6Hlen:ip6Hlen+16]...))
			}
			return TCXNext
		})})
	s6, te6 := newStack(t, cfg6, "", nil, nil)
	f6 := buildFrame6(frame6{dstMAC: macNIC, srcMAC: macB, src: "2001:db8:1::9", dst: "fd00:1::2", dport: 2000, payload: 1300})
	require.NoError(t, s6.Inject(&Packet{ID: 1, Tstamp: 1e15, Frame: f6}))
	s6.Flush()
	require.Len(t, ptb, 1)
	assert.EqualValues(t, 1300, binary.BigEndian.Uint32(ptb[0][4:8]), "packet too big names the route's MTU")
	assert.EqualValues(t, 63, ptb[0][8+7], "the quoted hop limit: decremented")
	assert.Equal(t, []string{"SKB_DROP_REASON_NOT_SPECIFIED@ip6_fragment"}, te6.obs.dropReasons())
	r := RouteConfig{Dst: pfx("10.1.0.2/32"), Dev: "veth0", MTU: 67}
	cfg.Routes = append(cfg.Routes[:len(cfg.Routes):len(cfg.Routes)], r)
	_, err := New(cfg, Env{Alloc: s.a})
	assert.ErrorIs(t, err, ErrConfig, "an mtu below 68")
}

// TestRouteMTULock: a locked route MTU (`mtu lock`) counts in
// bpf_fib_lookup's MTU check (ip_mtu_from_fib_result, ip6_mtu_from_fib6)
// and in ip6_forward's (packet too big before the hop limit's
// decrement); an unlocked one counts in bpf_fib_lookup only under
// ip_forward_use_pmtu (IPv4), and a locked 0 through a gateway is 576 in
// IPv4 forwarding (TestKernelRouteMTULock measures the same on 6.18).
func TestRouteMTULock(t *testing.T) {
	const veth0 = 3
	withRoutes := func(usePMTU bool) *Config {
		cfg := fibTopology(true)
		cfg.Namespaces[0].IPForwardUsePMTU = usePMTU
		cfg.Routes = append(cfg.Routes,
			RouteConfig{Dst: pfx("10.4.0.0/16"), Dev: "veth0", Via: addr("10.1.0.254"), MTU: 1300},
			RouteConfig{Dst: pfx("10.3.0.0/16"), Dev: "veth0", Via: addr("10.1.0.254"), MTU: 1300, MTULock: true},
			RouteConfig{Dst: pfx("10.2.0.0/16"), Dev: "veth0", Via: addr("10.1.0.254"), MTULock: true},
			RouteConfig{Dst: pfx("fd00:4::/64"), Dev: "veth0", Via: addr("fd00:1::2"), MTU: 1300},
			RouteConfig{Dst: pfx("fd00:3::/64"), Dev: "veth0", Via: addr("fd00:1::2"), MTU: 1300, MTULock: true})
		cfg.Neighbours = append(cfg.Neighbours, NeighConfig{Dev: "veth0", Addr: addr("fd00:1::2"), MAC: macB})
		return cfg
	}
	for _, tc := range []struct {
		name    string
		usePMTU bool
		dst     string
		rc      int
		mtu     uint16
	}{
		{"unlocked: the device's", false, "10.4.0.1", FibRetSuccess, 1400},
		{"unlocked, ip_forward_use_pmtu: the route's", true, "10.4.0.1", FibRetFragNeeded, 1300},
		{"locked: the route's", false, "10.3.0.1", FibRetFragNeeded, 1300},
		{"locked 0: the device's", false, "10.2.0.1", FibRetSuccess, 1400},
		{"IPv6 unlocked: the device's", false, "fd00:4::1", FibRetSuccess, 1400},
		{"IPv6 unlocked, ip_forward_use_pmtu is IPv4's", true, "fd00:4::1", FibRetSuccess, 1400},
		{"IPv6 locked: the route's", false, "fd00:3::1", FibRetFragNeeded, 1300},
	} {
		t.Run("bpf_fib_lookup/"+tc.name, func(t *testing.T) {
			p := FibParams{Family: AFInet, Ifindex: 2, Src: addr("192.0.2.9"), Dst: addr(tc.dst), TotLen: 1350}
			gw := "10.1.0.254"
			mac := gwMAC
			if addr(tc.dst).Is6() {
				p.Family, p.Src, gw, mac = AFInet6, addr("2001:db8:1::9"), "fd00:1::2", macB
			}
			want := p
			want.TotLen = tc.mtu
			if tc.rc == FibRetSuccess {
				want.Dst, want.Ifindex, want.Smac, want.Dmac = addr(gw), veth0, macA, mac
				want.RtMetric = 0
				if p.Family == AFInet6 {
					want.RtMetric = ip6RtPrioUser
				}
			}
			fibLookupCase(t, withRoutes(tc.usePMTU), "", false, 0, p, 0, tc.rc, want)
		})
	}

	t.Run("IPv6 forwarding, locked", func(t *testing.T) {
		var ptb [][]byte
		cfg := withRoutes(false)
		cfg.Neighbours = append(cfg.Neighbours, NeighConfig{Dev: "eth0", Addr: addr("2001:db8:1::9"), MAC: macB})
		cfg.Options.Replies = true
		cfg.Programs = append(cfg.Programs, ProgramConfig{Name: "out6", Hook: carrier.HookTCEgress, Dev: "eth0",
			Prog: ProgramFunc(func(c *Ctx) int {
				if d := c.Skb.Data()[ethHlen:]; d[6] == nexthdrICMPv6 && d[ip6Hlen] == icmp6PktTooBig {
					ptb = append(ptb, append([]byte(nil), d[ip6Hlen:ip6Hlen+16]...))
				}
				return TCXNext
			})})
		s, te := newStack(t, cfg, "", nil, nil)
		for i, dst := range []string{"fd00:4::1", "fd00:3::1"} {
			f := buildFrame6(frame6{dstMAC: macNIC, srcMAC: macB, src: "2001:db8:1::9", dst: dst, dport: 2000, payload: 1300})
			require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Tstamp: 1e15, Frame: f}))
			s.Flush()
		}
		require.Len(t, ptb, 2)
		assert.EqualValues(t, 63, ptb[0][8+7], "unlocked: ip6_fragment, the hop limit decremented")
		assert.EqualValues(t, 1300, binary.BigEndian.Uint32(ptb[1][4:8]), "locked: packet too big names the route's MTU")
		assert.EqualValues(t, 64, ptb[1][8+7], "locked: ip6_forward, the hop limit as it came")
		assert.Equal(t, []string{"SKB_DROP_REASON_NOT_SPECIFIED@ip6_fragment", "SKB_DROP_REASON_PKT_TOO_BIG@ip6_forward"}, te.obs.dropReasons())
	})

	t.Run("IPv4 forwarding, locked 0 through a gateway", func(t *testing.T) {
		var seen []icmpSeen
		cfg := icmpTopology(true, &seen)
		cfg.Routes = append(cfg.Routes, RouteConfig{Dst: pfx("10.2.0.0/16"), Dev: "veth0", Via: addr("10.1.0.254"), MTULock: true},
			RouteConfig{Dst: pfx("10.1.0.2/32"), Dev: "veth0", MTULock: true})
		s, _ := newStack(t, cfg, "", nil, nil)
		for i, dst := range []string{"10.2.0.1", "10.1.0.2"} {
			f := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: dst, sport: 1, dport: 2000, payload: 600})
			f[ethHlen+6] |= 0x40
			setIPCsum(f[ethHlen:], ipHlen)
			require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Tstamp: 1e15, Frame: f}))
			s.Flush()
		}
		require.Len(t, seen, 1, "on link: the device's MTU, no error")
		assert.Equal(t, uint8(icmpDestUnreach), seen[0].typ)
		assert.EqualValues(t, 576, seen[0].rest, "fragmentation needed names 576")
	})

	cfg := fibTopology(true)
	cfg.Routes = append(cfg.Routes, RouteConfig{Dst: pfx("10.4.0.0/16"), Type: RouteBlackhole, MTULock: true})
	assert.ErrorContains(t, newStackErr(t, cfg, ""), "mtu lock on a blackhole route")
}
