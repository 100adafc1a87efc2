package kernel

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/internal/testutil"
	"github.com/skbsim/skbsim/kernel/observe"
)

func requireCells(t *testing.T, m observe.Matrix, transition, hook, cells string) {
	t.Helper()
	require.NoError(t, observe.CheckCells(m, transition, hook, cells))
}

func TestKernelTransitionMatrix(t *testing.T) {
	testutil.KernelTests(t)
	var all observe.Matrix
	ran := 0
	for _, tr := range observe.Transitions {
		start := time.Now()
		m, err := RunTransition(tr, nil)
		if errors.Is(err, errors.ErrUnsupported) {
			// A tunnel driver this kernel was built without; every other
			// failure fails the test.
			require.True(t, tr.Topology.Tunnel(), "%s: %v", tr.Name, err)
			t.Logf("%s: skipped: %v", tr.Name, err)
			continue
		}
		require.NoError(t, err, tr.Name)
		ran++
		t.Logf("%s: %v", tr.Name, time.Since(start).Round(time.Millisecond))
		for _, h := range tr.Hooks {
			c, ok := m.Get(tr.Name, h.String(), observe.FieldCount)
			require.True(t, ok)
			switch {
			case !tr.Reaches(h):
				require.Zero(t, c.Value, "%s %s never sees the packet", tr.Name, h)
			case tr.Segments <= 1:
				require.Equal(t, tr.Visits(h), c.Value, "%s %s saw the packet as often as expected", tr.Name, h)
			}
		}
		all = append(all, m...)
	}
	t.Log("\n" + all.Format())
	require.Positive(t, ran)
	for _, w := range observe.Measured {
		requireCells(t, all, w.Transition, w.Hook, w.Cells)
	}
}

// TestKernelXDPMetaLimit: bpf_xdp_adjust_meta on veth rx is bounded by the
// headroom (XDP_PACKET_HEADROOM 256 - sizeof(struct xdp_frame) 40 = 216),
// not by the old 32-byte cap, in native and generic mode.
func TestKernelXDPMetaLimit(t *testing.T) {
	testutil.KernelTests(t)
	for _, generic := range []bool{false, true} {
		for _, c := range []struct {
			n       int
			wantRet string
			wantLen string
		}{{216, "0", "216"}, {220, "-22", "0"}} {
			tr := observe.Transition{
				Name: "xdp-meta-limit", Topology: observe.TopoPair,
				Actions: []observe.Action{{Hook: observe.Hook{Dev: "vB", Point: observe.XDP}, MetaLen: c.n, Generic: generic}},
				Hooks:   []observe.Hook{{Dev: "vB", Point: observe.XDP}, {Dev: "vB", Point: observe.TCIngress}},
			}
			m, err := RunTransition(tr, nil)
			require.NoError(t, err)
			requireCells(t, m, tr.Name, "vB/xdp", "count=1 ret="+c.wantRet)
			requireCells(t, m, tr.Name, "vB/tc-ingress", "count=1 meta_len="+c.wantLen)
			if c.wantLen != "0" {
				o, _ := m.Get(tr.Name, "vB/tc-ingress", observe.FieldMeta)
				for i, b := range o.Bytes {
					require.Equal(t, observe.MetaByte(i), b)
				}
			}
		}
	}
}
