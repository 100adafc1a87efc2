package netstack

import (
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
			require.NotZero(t, c.Value, "%s %s saw the packet", tr.Name, h)
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
