package netstack

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
)

// TestChangeTail: bpf_skb_change_tail at tc ingress on a NIC whose native
// XDP program wrote 8 bytes of metadata. Growing into the tailroom of the
// driver's page and trimming keep the metadata; growing past the tailroom
// (pskb_expand_head), or any change of an skb a tap holds a clone of
// (skb_ensure_writable unclones), lose it on v6.18 and keep it on v6.19.
// The grown bytes are zero. The argument checks return the kernel's
// errnos: flags, a length above BPF_SKB_MAX_LEN or below the network
// header (at tc ingress the transport header is the network header) are
// -EINVAL.
func TestChangeTail(t *testing.T) {
	for _, tc := range []struct {
		name, profile string
		delta         int
		tap           bool
		want          string
	}{
		{"grow in the tailroom", "v6.18", 8, false, "ret 0 len 114 meta ok tail zero true"},
		{"trim", "v6.18", -8, false, "ret 0 len 98 meta ok tail zero false"},
		{"grow past the tailroom", "v6.18", 8000, false, "ret 0 len 8106 meta lost tail zero true"},
		{"grow past the tailroom, v6.19", "v6.19", 8000, false, "ret 0 len 8106 meta ok tail zero true"},
		{"trim a clone", "v6.18", -8, true, "ret 0 len 98 meta lost tail zero false"},
		{"trim a clone, v6.19", "v6.19", -8, true, "ret 0 len 98 meta ok tail zero false"},
		{"no change of a clone", "v6.18", 0, true, "ret 0 len 106 meta lost tail zero false"},
		{"below the network header", "v6.18", -93, false, "ret -22 len 106 meta ok tail zero false"},
		{"at the network header", "v6.18", -92, false, "ret 0 len 14 meta ok tail zero false"},
		{"above BPF_SKB_MAX_LEN", "v6.18", bpfSkbMaxLen - 106 + 1, false, "ret -22 len 106 meta ok tail zero false"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			cfg := rxToSocketConfig()
			if tc.tap {
				cfg.Taps = []TapConfig{{Name: "t", Dev: "eth0", Dir: TapRX, Hold: true}}
			}
			cfg.Programs = []ProgramConfig{
				{Name: "xdp", Hook: carrier.HookXDP, Dev: "eth0", Actions: []Action{{Kind: ActAdjustMeta, Value: 8}}},
				{Name: "tc", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
					n := c.Skb.Len()
					require.Equal(t, errEINVAL, c.ChangeTail(uint32(n), 1), "flags")
					ret := c.ChangeTail(uint32(n+tc.delta), 0)
					meta := "meta ok"
					if v, ok := c.Skb.Metadata(); !ok || v[0] != metaFillStart || v[7] != metaFillStart+7 {
						meta = "meta lost"
					}
					d := c.Skb.Data()
					zero := len(d) > n && string(d[n:]) == string(make([]byte, len(d)-n))
					got = append(got, fmt.Sprintf("ret %d len %d %s tail zero %v", ret, c.Skb.Len(), meta, zero))
					return TCXDrop
				})},
			}
			s, _ := newStack(t, cfg, tc.profile, nil, nil)
			f := rxFrame("192.0.2.1") // 106 bytes
			require.Len(t, f, 106)
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
			assert.Equal(t, []string{tc.want}, got)
		})
	}
}

// TestChangeTailGSO: a GRO aggregate loses its GSO state to
// bpf_skb_change_tail (skb_gso_reset), and is linearized first
// (skb_ensure_writable pulls the whole packet).
func TestChangeTailGSO(t *testing.T) {
	var got string
	cfg := rxToSocketConfig()
	cfg.Programs = []ProgramConfig{{Name: "tc", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
		sh := c.Skb.Shinfo()
		before := fmt.Sprintf("gso %d frags %v", sh.GSOSize, c.Skb.IsNonlinear())
		ret := c.ChangeTail(uint32(c.Skb.Len()-4), 0)
		got = fmt.Sprintf("%s -> ret %d gso %d/%d/%#x frags %v", before, ret, sh.GSOSize, sh.GSOSegs, sh.GSOType, c.Skb.IsNonlinear())
		return TCXDrop
	})}}
	s, _ := newStack(t, cfg, "", nil, nil)
	for i := range 2 {
		f := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "192.0.2.1", proto: ipprotoTCP,
			sport: 5000, dport: 80, seq: uint32(1000 + 100*i), tcpFlags: tcpACK, payload: 100, id: uint16(i)})
		require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: f, Hash: 1}))
	}
	s.Flush()
	assert.Equal(t, "gso 100 frags true -> ret 0 gso 0/0/0x0 frags false", got)
}

// TestChangeTailAction: the change_tail action's len and delta, at tc
// only.
func TestChangeTailAction(t *testing.T) {
	for _, a := range []Action{{Kind: ActChangeTail, Value: 60}, {Kind: ActChangeTail, Index: 1, Delta: -46}} {
		var n int
		cfg := rxToSocketConfig()
		cfg.Programs = []ProgramConfig{
			{Name: "tail", Hook: carrier.HookTCIngress, Dev: "eth0", Actions: []Action{a}},
			{Name: "len", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int { n = c.Skb.Len(); return TCXDrop })},
		}
		s, _ := newStack(t, cfg, "", nil, nil)
		require.NoError(t, s.Inject(&Packet{ID: 1, Frame: rxFrame("192.0.2.1")}))
		assert.Equal(t, 60, n, "%+v", a)
	}
	cfg := rxToSocketConfig()
	cfg.Programs = []ProgramConfig{{Name: "p", Hook: carrier.HookXDP, Dev: "eth0", Actions: []Action{{Kind: ActChangeTail, Value: 60}}}}
	require.ErrorContains(t, newStackErr(t, cfg, ""), "bpf_skb_change_tail is for tc programs")
}
