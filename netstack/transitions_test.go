package netstack

import (
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
			if tr.Reaches(h) {
				require.NotZero(t, c.Value, "%s %s saw the packet", tr.Name, h)
			} else {
				require.Zero(t, c.Value, "%s %s never sees the packet", tr.Name, h)
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
	v4 := func(fragOff uint16, l4 []byte) []byte {
		p := make([]byte, ipHlen+len(l4))
		writeIPv4(p, 0, len(p), 1, false, 64, ipprotoUDP, netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2"))
		p[6], p[7] = byte(fragOff>>8), byte(fragOff)
		copy(p[ipHlen:], l4)
		return eth(ethPIP, p)
	}
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
	} {
		require.Equal(t, c.want, matchTest(c.f), c.name)
		require.Equal(t, c.wantLater, matchLater(c.f), c.name)
	}
}
