package netstack

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/kernel/observe"
	"github.com/skbsim/skbsim/skb"
)

func requireCells(t *testing.T, m observe.Matrix, transition, hook, cells string) {
	t.Helper()
	require.NoError(t, observe.CheckCells(m, transition, hook, cells))
}

// TestTransitionsMatchKernel runs the recorder's catalogue on the model
// (v6.18, the measured kernel) and checks every cell the kernel notes give.
func TestTransitionsMatchKernel(t *testing.T) {
	var all observe.Matrix
	for _, tr := range observe.Transitions {
		m, err := RunTransition(tr, skb.DefaultProfile())
		require.NoError(t, err, tr.Name)
		for _, h := range tr.Hooks {
			c, ok := m.Get(tr.Name, h.String(), observe.FieldCount)
			require.True(t, ok)
			switch {
			case !tr.Reaches(h):
				require.Zero(t, c.Value, "%s %s never sees the packet", tr.Name, h)
			case tr.Segments <= 1:
				require.Equal(t, tr.Visits(h), c.Value, "%s %s saw the packet as often as expected", tr.Name, h)
			default:
				require.NotZero(t, c.Value, "%s %s saw the packet", tr.Name, h)
			}
		}
		all = append(all, m...)
	}
	t.Log("\n" + all.Format())
	for _, w := range observe.Measured {
		requireCells(t, all, w.Transition, w.Hook, w.Cells)
	}
}

// TestXDPMetaLimit: bpf_xdp_adjust_meta on veth rx is bounded by the
// headroom (256 - sizeof(struct xdp_frame) = 216), native and generic, as
// measured (kernel_lab.md §8).
func TestXDPMetaLimit(t *testing.T) {
	for _, generic := range []bool{false, true} {
		for _, c := range []struct {
			n                int
			wantRet, wantLen string
		}{{216, "0", "216"}, {36, "0", "36"}, {220, "-22", "0"}, {252, "-22", "0"}, {256, "-22", "0"}} {
			tr := observe.Transition{
				Name: "xdp-meta-limit", Topology: observe.TopoPair,
				Actions: []observe.Action{{Hook: observe.Hook{Dev: "vB", Point: observe.XDP}, MetaLen: c.n, Generic: generic}},
				Hooks:   []observe.Hook{{Dev: "vB", Point: observe.XDP}, {Dev: "vB", Point: observe.TCIngress}},
			}
			m, err := RunTransition(tr, skb.DefaultProfile())
			require.NoError(t, err)
			requireCells(t, m, tr.Name, "vB/xdp", "count=1 ret="+c.wantRet)
			requireCells(t, m, tr.Name, "vB/tc-ingress", "count=1 meta_len="+c.wantLen)
			if c.wantLen != "0" {
				o, _ := m.Get(tr.Name, "vB/tc-ingress", observe.FieldMeta)
				require.Len(t, o.Bytes, min(c.n, observe.MetaRecordLen))
				for i, b := range o.Bytes {
					require.Equal(t, observe.MetaByte(i), b)
				}
			}
		}
	}
}

// TestMatchTestFragments: the model of the recorder's match (recorder.c
// match_skb) takes an IPv4 or IPv6 first fragment (offset 0) carrying the
// UDP header and never a later fragment, even one whose payload bytes sit
// where a UDP destination port would be and read TestPort; match_later
// takes exactly the later fragments.
func TestMatchTestFragments(t *testing.T) {
	udp := func(dport uint16) []byte {
		u := make([]byte, udpHlen+8)
		writeUDP(u, 40000, dport, len(u))
		return u
	}
	eth := func(proto uint16, l3 []byte) []byte {
		f := make([]byte, ethHlen, ethHlen+len(l3))
		f[12], f[13] = byte(proto>>8), byte(proto)
		return append(f, l3...)
	}
	v4p := func(proto uint8, fragOff uint16, l4 []byte) []byte {
		p := make([]byte, ipHlen+len(l4))
		writeIPv4(p, 0, len(p), 1, false, 64, proto, netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2"))
		p[6], p[7] = byte(fragOff>>8), byte(fragOff)
		copy(p[ipHlen:], l4)
		return eth(ethPIP, p)
	}
	v4 := func(fragOff uint16, l4 []byte) []byte { return v4p(ipprotoUDP, fragOff, l4) }
	v6 := func(frag bool, fragOff uint16, l4 []byte) []byte {
		next, ext := uint8(nexthdrUDP), []byte(nil)
		if frag {
			next = nexthdrFrag
			ext = []byte{nexthdrUDP, 0, byte(fragOff >> 8), byte(fragOff), 0, 0, 0, 1}
		}
		p := make([]byte, ip6Hlen, ip6Hlen+len(ext)+len(l4))
		writeIPv6(p, 0, 0, len(ext)+len(l4), next, 64, netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::2"))
		return eth(ethPIPv6, append(append(p, ext...), l4...))
	}
	inner := observe.EncapPayload(transitionMACs["vxA"], transitionMACs["vxB"], 16)
	vx := append(udp(observe.VXLANPort)[:udpHlen], inner...)
	innerEth, innerIP := inner[vxlanHlen:], inner[vxlanHlen+ethHlen:]
	// Geneve with 8 bytes of options (opt_len 2), protocol 0x6558.
	gn := append(append(udp(defaultGenevePort)[:udpHlen], 0x02, 0, 0x65, 0x58, 0, 0, 42, 0), make([]byte, 8)...)
	gn = append(gn, innerEth...)
	gre := func(flags, proto uint16, words int, in []byte) []byte {
		h := make([]byte, 4+4*words)
		binary.BigEndian.PutUint16(h[0:2], flags)
		binary.BigEndian.PutUint16(h[2:4], proto)
		return append(h, in...)
	}
	inner6 := v6(false, 0, udp(observe.TestPort))[ethHlen:]
	for _, c := range []struct {
		name      string
		f         []byte
		want      bool
		wantLater bool // matchLater (recorder.c match_later)
	}{
		{"ipv4", v4(0, udp(observe.TestPort)), true, false},
		{"ipv4 first fragment", v4(ipMF, udp(observe.TestPort)), true, false},
		{"ipv4 later fragment", v4(ipMF|185, udp(observe.TestPort)), false, true},
		{"ipv4 last fragment", v4(185, udp(observe.TestPort)), false, true},
		{"ipv4 other port", v4(0, udp(53)), false, false},
		{"ipv4 vxlan first fragment", v4(ipMF, vx), true, false},
		{"ipv6", v6(false, 0, udp(observe.TestPort)), true, false},
		{"ipv6 first fragment", v6(true, 1, udp(observe.TestPort)), true, false},
		{"ipv6 later fragment", v6(true, 185<<3|1, udp(observe.TestPort)), false, true},
		{"ipv6 vxlan", v6(false, 0, vx), true, false},
		{"ipv6 vxlan first fragment", v6(true, 1, vx), true, false},
		{"ipv6 vxlan later fragment", v6(true, 185<<3, vx), false, true},
		{"ipv4 geneve with options", v4(0, gn), true, false},
		{"ipv4 gre teb", v4p(ipprotoGRE, 0, gre(0, ethPTEB, 0, innerEth)), true, false},
		{"ipv4 gre key seq ipv4", v4p(ipprotoGRE, 0, gre(greFlagKey|greFlagSeq, ethPIP, 2, innerIP)), true, false},
		{"ipv4 gre csum key ipv6", v4p(ipprotoGRE, 0, gre(greFlagCsum|greFlagKey, ethPIPv6, 2, inner6)), true, false},
		{"ipv4 gre key miscounted", v4p(ipprotoGRE, 0, gre(greFlagKey, ethPIP, 0, innerIP)), false, false},
		{"ipv4 gre other protocol", v4p(ipprotoGRE, 0, gre(0, 0x8847, 0, innerIP)), false, false},
		{"ipip", v4p(ipprotoIPIP, 0, innerIP), true, false},
		{"ipip later fragment", v4p(ipprotoIPIP, 185, innerIP), false, false},
		{"6in4", v4p(ipprotoIPv6, 0, inner6), true, false},
		{"ipip in ipip (two encapsulations)", v4p(ipprotoIPIP, 0, v4p(ipprotoIPIP, 0, innerIP)[ethHlen:]), false, false},
		{"vxlan in ipip (two encapsulations)", v4p(ipprotoIPIP, 0, v4(0, vx)[ethHlen:]), false, false},
	} {
		require.Equal(t, c.want, matchEth(c.f), c.name)
		proto := binary.BigEndian.Uint16(c.f[12:14])
		require.Equal(t, c.want, matchNet(c.f[ethHlen:], proto), c.name)
		require.Equal(t, c.wantLater, matchLater(c.f[ethHlen:], proto), c.name)
	}
}

// TestTunnelTransitions: the IP tunnel transitions, which the kernel
// recorder runs only on kernels built with those drivers (the project's
// machines lack them, so these cells follow the kernel source, not a
// measurement). What tc ingress on tB sees starts where the mac header is,
// which each decap path leaves differently: eth_type_trans on the inner
// frame for geneve and gretap (58 bytes: the inner Ethernet frame); at the
// outer IP header for gre (__ipgre_rcv's skb_pop_mac_header: 20 + 8 bytes
// of IP and keyed GRE before the inner packet); at vB's Ethernet header for
// ipip (ip_tunnel_rcv leaves the mac header alone: 14 + 20 bytes); at the
// inner packet for ip6tnl and ip6gre (__ip6_tnl_rcv's
// skb_reset_mac_header). The tunnel's namespace decides the scrubs:
// iptunnel_xmit and ip_tunnel_rcv clear mark and tstamp only with xnet.
func TestTunnelTransitions(t *testing.T) {
	want := map[string][]string{
		"geneve":    {"tB/tc-ingress", "count=1 mark=0x4d headlen=58"},
		"gretap":    {"tB/tc-ingress", "count=1 mark=0x4d headlen=58"},
		"gre":       {"tB/tc-ingress", "count=1 mark=0x4d headlen=72"},
		"ipip":      {"tB/tc-ingress", "count=1 mark=0x4d tstamp=0x496ee27 headlen=78", "vA/tc-egress", "count=1 mark=0x2a tstamp=0x280defe cb0=0x0 cb4=0x2a04 headlen=78"},
		"ipip-xnet": {"tB/tc-ingress", "count=1 mark=0x0 tstamp=0x0 priority=13 headlen=78", "vA/tc-egress", "count=1 mark=0x0 tstamp=0x0 priority=10 headlen=78"},
		"ip6tnl":    {"tB/tc-ingress", "count=1 mark=0x4d headlen=44", "vA/tc-egress", "count=1 headlen=106"},
		"ip6gre":    {"tB/tc-ingress", "count=1 mark=0x4d headlen=44", "vA/tc-egress", "count=1 headlen=110"},
	}
	n := 0
	for _, tr := range observe.Transitions {
		if !tr.Topology.Tunnel() {
			continue
		}
		n++
		m, err := RunTransition(tr, skb.DefaultProfile())
		require.NoError(t, err, tr.Name)
		w := want[tr.Name]
		require.NotEmpty(t, w, "no expectation for %s", tr.Name)
		for i := 0; i < len(w); i += 2 {
			requireCells(t, m, tr.Name, w[i], w[i+1])
		}
	}
	require.Equal(t, len(want), n)
}
