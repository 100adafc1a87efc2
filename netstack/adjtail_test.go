package netstack

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
)

// TestXDPAdjustTail: bpf_xdp_adjust_tail on a NIC's native XDP buffers.
// A linear frame grows up to data_hard_end (the driver's page less
// XDP_PACKET_HEADROOM and skb_shared_info) with zeroes, and shrinks to no
// less than ETH_HLEN (-EINVAL beyond either). A multi-buffer frame (an
// xdp.frags program, 6000 bytes: 3520 in the first buffer, the rest in a
// page fragment) grows its last fragment within the page and shrinks from
// the fragments on, into the first buffer once they are gone. The
// metadata stays. TestKernelXDPAdjustTail checks the veth and generic
// cases against 6.18.
func TestXDPAdjustTail(t *testing.T) {
	small := rxFrame("192.0.2.1") // 106 bytes
	room := xdpFrameMin - 256 - 320 - len(small)
	big := superTCP(6000-66, tcpACK)
	for _, tc := range []struct {
		name  string
		frame []byte
		delta int
		want  string
	}{
		{"grow", small, 8, "ret 0 len 114 frags 0 meta 8 tail zero true"},
		{"grow to the end", small, room, fmt.Sprintf("ret 0 len %d frags 0 meta 8 tail zero true", len(small)+room)},
		{"grow past the end", small, room + 1, "ret -22 len 106 frags 0 meta 8 tail zero false"},
		{"shrink to ETH_HLEN", small, 14 - 106, "ret 0 len 14 frags 0 meta 8 tail zero false"},
		{"shrink below ETH_HLEN", small, 13 - 106, "ret -22 len 106 frags 0 meta 8 tail zero false"},
		{"multi-buffer grow", big, 100, "ret 0 len 6100 frags 1 meta 8 tail zero true"},
		{"multi-buffer grow past the page", big, 4096 - (6000 - xdpLinearMax) + 1, "ret -22 len 6000 frags 1 meta 8 tail zero false"},
		{"multi-buffer shrink in the fragment", big, -100, "ret 0 len 5900 frags 1 meta 8 tail zero false"},
		{"multi-buffer shrink past the fragment", big, -3000, "ret 0 len 3000 frags 0 meta 8 tail zero false"},
		{"multi-buffer shrink below ETH_HLEN", big, -5987, "ret -22 len 6000 frags 1 meta 8 tail zero false"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got string
			cfg := routerConfig(DeviceConfig{Name: "eth0", Kind: KindNIC, MAC: macNIC, MTU: 9000, Addrs: []netip.Prefix{pfx("192.0.2.254/24")}}, true)
			cfg.Programs = []ProgramConfig{{Name: "x", Hook: carrier.HookXDP, Dev: "eth0", XDPFrags: true, Prog: ProgramFunc(func(c *Ctx) int {
				c.AdjustMeta(-8)
				n := c.Skb.Len()
				ret := c.AdjustTail(tc.delta)
				zero := false
				if b := c.Skb; b.Len() > n {
					tail := make([]byte, b.Len()-n)
					require.NoError(t, b.CopyBits(n, tail))
					zero = string(tail) == string(make([]byte, len(tail)))
				}
				got = fmt.Sprintf("ret %d len %d frags %d meta %d tail zero %v", ret, c.Skb.Len(), c.Skb.NrFrags(), len(c.Meta()), zero)
				return XDPDrop
			})}}
			s, _ := newStack(t, cfg, "", nil, nil)
			require.Len(t, tc.frame, map[bool]int{true: 106, false: 6000}[len(tc.frame) < 200])
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: tc.frame}))
			assert.Equal(t, tc.want, got)
		})
	}
	cfg := rxToSocketConfig()
	cfg.Programs = []ProgramConfig{{Name: "p", Hook: carrier.HookTCIngress, Dev: "eth0", Actions: []Action{{Kind: ActAdjustTail, Delta: 4}}}}
	require.ErrorContains(t, newStackErr(t, cfg, ""), "bpf_xdp_adjust_tail is for xdp programs")
}

// TestXDPAdjustTailAction: the adjust_tail action trims the frame tc then
// sees.
func TestXDPAdjustTailAction(t *testing.T) {
	var n int
	cfg := rxToSocketConfig()
	cfg.Programs = []ProgramConfig{
		{Name: "x", Hook: carrier.HookXDP, Dev: "eth0", Actions: []Action{{Kind: ActAdjustTail, Delta: -6}}},
		{Name: "tc", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int { n = c.Skb.Len(); return TCXDrop })},
	}
	s, _ := newStack(t, cfg, "", nil, nil)
	require.NoError(t, s.Inject(&Packet{ID: 1, Frame: rxFrame("192.0.2.1")}))
	assert.Equal(t, 100, n)
}

// TestXDPAdjustTailVethFrags: veth registers no rxq frag_size, so a
// multi-buffer frame on a veth's native XDP cannot grow
// (bpf_xdp_frags_increase_tail: -EOPNOTSUPP); it still shrinks.
func TestXDPAdjustTailVethFrags(t *testing.T) {
	for _, tc := range []struct {
		delta int
		want  string
	}{{100, "ret -95 len 8042"}, {-5000, "ret 0 len 3042"}} {
		var got string
		cfg := vethTxConfig()
		cfg.Devices[0].MTU = 9000
		cfg.Programs = append(cfg.Programs, ProgramConfig{Name: "x", Hook: carrier.HookXDP, Netns: "B", Dev: "vB", XDPFrags: true,
			Prog: ProgramFunc(func(c *Ctx) int {
				require.NotZero(t, c.Skb.NrFrags())
				got = fmt.Sprintf("ret %d len %d", c.AdjustTail(tc.delta), c.Skb.Len())
				return XDPDrop
			})})
		s, _ := newStack(t, cfg, "", nil, nil)
		frame := buildFrame(frameOpts{src: "192.0.2.1", dst: "192.0.2.2", sport: 40000, dport: 9999, payload: 8000, noEth: true})
		require.NoError(t, s.Inject(&Packet{ID: 1, Frame: frame}))
		assert.Equal(t, tc.want, got)
	}
}
