package netstack

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/kernel/observe"
	"github.com/skbsim/skbsim/skb"
)

// kernelCells are the values the running 6.18 kernel gave for the
// transition catalogue (kernel_lab.md §7-§9 and kernel/recorder_linux_test.go),
// in observe.Observation.ValueString form.
var kernelCells = []struct {
	transition, hook, cells string
}{
	{"veth-same-netns", "vY/tc-ingress", "count=1 mark=0x2a priority=0 tc_index=42 cb0=0x2a00 cb4=0x2a04 hash=0x5eed002a tstamp=0x280defe tstamp_type=0 pkt_type=0 ingress_ifindex=vY ifindex=vY meta_len=0"},
	{"veth-cross-netns", "vB/tc-ingress", "count=1 mark=0x0 priority=0 tc_index=42 cb0=0x2a00 cb4=0x2a04 hash=0x5eed002a tstamp=0x0 tstamp_type=0 pkt_type=0 ingress_ifindex=vB ifindex=vB"},
	{"veth-cross-netns-edt", "vB/tc-ingress", "count=1 mark=0x0 priority=0 tstamp=0x280defe tstamp_type=1"},
	{"bpf-redirect-egress", "hA/tc-ingress", "count=1 mark=0x0 pkt_type=3 ingress_ifindex=hA ifindex=hA ret=7"},
	{"bpf-redirect-egress", "hB/tc-egress", "count=1 mark=0x2b priority=11 tc_index=43 cb0=0x2b00 hash=0x5eed002b tstamp=0x0 pkt_type=3 ingress_ifindex=hA ifindex=hB"},
	{"bpf-redirect-egress", "vB/tc-ingress", "count=1 mark=0x0 priority=0 tc_index=43 cb0=0x2b00 hash=0x5eed002b tstamp=0x0 pkt_type=0 ingress_ifindex=vB"},
	{"bpf-redirect-ingress", "hB/tc-ingress", "count=1 mark=0x2b priority=0 tc_index=43 cb0=0x2b00 hash=0x5eed002b tstamp=0x2902141 pkt_type=3 ingress_ifindex=hB ifindex=hB"},
	{"bpf-redirect-peer", "vB/tc-ingress", "count=1 mark=0x2b priority=11 tc_index=43 cb0=0x2b00 hash=0x5eed002b tstamp=0x2902141 pkt_type=0 ingress_ifindex=vB ifindex=vB"},
	{"bpf-clone-redirect-egress", "hA/tc-ingress", "count=1 ret=0"},
	{"bpf-clone-redirect-egress", "hC/tc-egress", "count=1 mark=0x2b priority=11 tc_index=43 cb0=0x2b00 hash=0x5eed002b tstamp=0x0 pkt_type=3 ingress_ifindex=hA ifindex=hC"},
	{"bpf-clone-redirect-egress", "vC/tc-ingress", "count=1 mark=0x0 priority=0 tc_index=43 cb0=0x2b00 tstamp=0x0 pkt_type=3 ingress_ifindex=vC"},
	{"bpf-clone-redirect-ingress", "hC/tc-ingress", "count=1 mark=0x2b priority=0 tc_index=43 cb0=0x2b00 hash=0x5eed002b tstamp=0x2902141 pkt_type=3 ingress_ifindex=hC ifindex=hC"},
	{"vxlan", "vA/tc-egress", "count=1 mark=0x2a priority=10 tc_index=42 cb0=0x0 cb1=0x0 cb2=0x0 cb3=0x0 cb4=0x2a04 hash=0x5eed002a tstamp=0x280defe ifindex=vA"},
	{"vxlan", "vB/tc-ingress", "count=1 mark=0x0 priority=0 tc_index=42 cb4=0x2a04 hash=0x5eed002a tstamp=0x0"},
	{"vxlan", "vxB/tc-ingress", "count=1 mark=0x4d priority=13 tc_index=13 hash=0x5eed004d tstamp=0x496ee27 pkt_type=0 ingress_ifindex=vxB ifindex=vxB"},
	{"vxlan-xnet", "vA/tc-egress", "count=1 mark=0x0 priority=10 tc_index=42 cb4=0x2a04 hash=0x5eed002a tstamp=0x0"},
	{"vxlan-xnet", "vxB/tc-ingress", "count=1 mark=0x0 priority=13 tc_index=13 hash=0x5eed004d tstamp=0x0 ingress_ifindex=vxB"},
	{"xdp-meta-native", "vB/xdp", "count=1 ingress_ifindex=vB meta_len=0 ret=0"},
	{"xdp-meta-native", "vB/tc-ingress", "count=1 mark=0x0 tc_index=42 cb0=other cb1=0x2a01 cb4=0x2a04 hash=0x5eed002a meta_len=8 meta=a0 a1 a2 a3 a4 a5 a6 a7"},
	{"veth-gro", "vA/tc-egress", "count=1 gso_segs=4"},
	{"veth-gro", "vB/xdp", "count=4"},
	{"veth-gro", "vB/tc-ingress", "count=1 mark=0x0 tc_index=42 cb0=other cb4=other hash=0x5eed002a gso_segs=4 meta_len=8 meta=a0 a1 a2 a3 a4 a5 a6 a7"},
	{"veth-xdp-nogro", "vB/xdp", "count=4"},
	{"veth-xdp-nogro", "vB/tc-ingress", "count=4 tc_index=42 cb4=0x2a04 hash=0x5eed002a gso_segs=0 meta_len=8"},
	// From the live differential run (kernel/diff): an unconnected UDP
	// socket has no txhash, so skb->hash is 0 before a program writes one;
	// GRO leaves its NAPI_GRO_CB bytes in cb[] (data_offset in cb[2], the
	// held skb's last/age in cb[0..1]).
	{"veth-cross-netns", "vA/tc-egress", "count=1 hash=0x0"},
	{"bpf-redirect-egress", "hA/tc-ingress", "hash=0x0"},
	{"vxlan", "vxA/tc-egress", "hash=0x0"},
	{"vxlan", "vxB/tc-ingress", "cb2=other"},
	{"vxlan-xnet", "vxB/tc-ingress", "cb2=other"},
	{"veth-gro", "vB/tc-ingress", "cb1=other cb2=other"},
	{"xdp-meta-generic", "vB/xdp", "count=1 ingress_ifindex=vB meta_len=0 ret=0"},
	{"xdp-meta-generic", "vB/tc-ingress", "count=1 mark=0x0 tc_index=42 cb0=0x2a00 cb4=0x2a04 hash=0x5eed002a meta_len=8 meta=a0 a1 a2 a3 a4 a5 a6 a7"},
}

func requireCells(t *testing.T, m observe.Matrix, transition, hook, cells string) {
	t.Helper()
	for _, kv := range splitCells(cells) {
		f, want, _ := strings.Cut(kv, "=")
		o, ok := m.Get(transition, hook, observe.Field(f))
		require.True(t, ok, "%s %s: no %s cell", transition, hook, f)
		require.Equal(t, want, o.ValueString(), "%s %s %s", transition, hook, f)
	}
}

func splitCells(s string) []string {
	var out []string
	for _, w := range strings.Fields(s) {
		if strings.Contains(w, "=") || len(out) == 0 {
			out = append(out, w)
		} else {
			out[len(out)-1] += " " + w
		}
	}
	return out
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
			require.NotZero(t, c.Value, "%s %s saw the packet", tr.Name, h)
		}
		all = append(all, m...)
	}
	t.Log("\n" + all.Format())
	for _, w := range kernelCells {
		requireCells(t, all, w.transition, w.hook, w.cells)
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
