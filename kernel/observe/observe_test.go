package observe_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/kernel/observe"
)

func TestCatalogueIsConsistent(t *testing.T) {
	names := map[string]bool{}
	for _, tr := range observe.Transitions {
		require.False(t, names[tr.Name], "duplicate transition %s", tr.Name)
		names[tr.Name] = true
		require.NotEmpty(t, tr.Setup, tr.Name)
		devs := tr.Topology.Devices()
		require.NotEmpty(t, devs, "%s: unknown topology %q", tr.Name, tr.Topology)
		require.NotEmpty(t, tr.Hooks, tr.Name)
		for _, h := range tr.Hooks {
			require.Contains(t, devs, h.Dev, "%s hook %s", tr.Name, h)
			back, err := observe.ParseHook(h.String())
			require.NoError(t, err)
			require.Equal(t, h, back)
		}
		for _, h := range tr.Unseen {
			require.True(t, slices.Contains(tr.Hooks, h), "%s: unseen hook %s is recorded", tr.Name, h)
			require.False(t, tr.Reaches(h))
		}
		for _, a := range tr.Actions {
			require.Contains(t, devs, a.Hook.Dev, "%s action at %s", tr.Name, a.Hook)
			require.True(t, slices.Contains(tr.Hooks, a.Hook), "%s: action hook %s is recorded", tr.Name, a.Hook)
			if a.Later {
				require.NotEqual(t, observe.XDP, a.Hook.Point, "%s: later-fragment writes at tc hooks", tr.Name)
				require.Equal(t, observe.NoRedirect, a.Redirect, "%s: later-fragment actions do not redirect", tr.Name)
				got, ok := tr.LaterAt(a.Hook)
				require.True(t, ok)
				require.Equal(t, a.Set, got.Set)
			}
			switch a.Redirect {
			case observe.NoRedirect:
			case observe.XDPTx, observe.RedirectCPU:
				require.Equal(t, observe.XDP, a.Hook.Point, "%s: %s at an XDP hook", tr.Name, a.Redirect)
				require.Empty(t, a.Target, "%s: %s has no target", tr.Name, a.Redirect)
			case observe.RedirectFib:
				require.Empty(t, a.Target, "%s: %s has no target", tr.Name, a.Redirect)
			default:
				require.Contains(t, devs, a.Target, "%s redirect target", tr.Name)
			}
			if a.Hook.Point == observe.XDP {
				require.Empty(t, a.Set, "%s: XDP actions only reserve metadata (and may bounce)", tr.Name)
				require.Contains(t, []observe.RedirectKind{observe.NoRedirect, observe.XDPTx, observe.RedirectCPU, observe.RedirectFib}, a.Redirect, "%s", tr.Name)
			} else {
				require.NotEqual(t, observe.XDPCpumap, a.Hook.Point, "%s: the cpumap program only records", tr.Name)
				require.Zero(t, a.MetaLen, "%s: only XDP actions reserve metadata", tr.Name)
			}
		}
		got, err := observe.Lookup(tr.Name)
		require.NoError(t, err)
		require.Equal(t, tr.Name, got.Name)
	}
	_, err := observe.Lookup("no-such")
	require.Error(t, err)
}

func TestParseHookErrors(t *testing.T) {
	for _, s := range []string{"", "vA", "/tc-ingress", "vA/tc", "vA/xdp/x"} {
		_, err := observe.ParseHook(s)
		require.Error(t, err, "ParseHook(%q)", s)
	}
}

func TestWritesAreDistinctPerBase(t *testing.T) {
	a, b := observe.Writes(42), observe.Writes(43)
	require.Len(t, a, 10)
	for i := range a {
		require.Equal(t, a[i].Field, b[i].Field)
		require.NotEqual(t, a[i].Value, b[i].Value, "field %s", a[i].Field)
	}
}

func TestNormalize(t *testing.T) {
	tr := observe.Transition{Name: "t", Actions: []observe.Action{{Set: []observe.Assign{{observe.FieldMark, 42}, {observe.FieldCB0, 7}}}}}
	m := observe.Matrix{
		{Transition: "t", Hook: "vB/tc-ingress", Field: observe.FieldMark, Value: 42},
		{Transition: "t", Hook: "vB/tc-ingress", Field: observe.FieldCB0, Value: 0x3a},
		{Transition: "t", Hook: "vB/tc-ingress", Field: observe.FieldCB1, Value: 0},
		{Transition: "t", Hook: "vB/tc-ingress", Field: observe.FieldHash, Value: 0x1234},
		{Transition: "t", Hook: "vB/tc-ingress", Field: observe.FieldPktType, Value: 3},
		{Transition: "u", Hook: "vB/tc-ingress", Field: observe.FieldHash, Value: 0x1234},
	}
	observe.Normalize(m, tr)
	want := []uint64{42, observe.ValueOther, 0, observe.ValueOther, 3, 0x1234}
	for i, o := range m {
		require.Equal(t, want[i], o.Value, o.Key())
	}
}

func TestDiffAndEqual(t *testing.T) {
	a := observe.Observation{Transition: "t", Hook: "vB/tc-ingress", Field: observe.FieldIfindex, Value: 5, Dev: "vB"}
	b := a
	b.Value = 9 // ifindex numbers differ between namespaces and runs: not compared
	require.True(t, a.Equal(b))
	b.Dev = "vA"
	require.False(t, a.Equal(b))
	m1 := observe.Matrix{a, {Transition: "t", Hook: "vB/tc-ingress", Field: observe.FieldMeta, Bytes: []byte{1, 2}}}
	m2 := observe.Matrix{b, {Transition: "t", Hook: "vB/tc-ingress", Field: observe.FieldMeta, Bytes: []byte{1, 2}},
		{Transition: "t", Hook: "vB/tc-ingress", Field: observe.FieldMark, Value: 1}}
	require.Equal(t, []string{
		"t vB/tc-ingress ifindex: want vB, got vA",
		"t vB/tc-ingress mark: want nothing, got 0x1",
	}, observe.Diff(m1, m2))
	require.Empty(t, observe.Diff(m1, m1))
}

func ExampleMatrix_Format() {
	m := observe.Matrix{
		{Transition: "veth-cross-netns", Hook: "vB/tc-ingress", Field: observe.FieldCount, Value: 1},
		{Transition: "veth-cross-netns", Hook: "vB/tc-ingress", Field: observe.FieldMark, Value: 0},
		{Transition: "veth-cross-netns", Hook: "vB/tc-ingress", Field: observe.FieldTCIndex, Value: 42},
		{Transition: "veth-cross-netns", Hook: "vB/tc-ingress", Field: observe.FieldIfindex, Value: 2, Dev: "vB"},
		{Transition: "veth-cross-netns", Hook: "vB/tc-ingress", Field: observe.FieldCB0, Value: observe.ValueOther},
	}
	fmt.Print(m.Format())
	// Output:
	// | transition | hook | count | mark | tc_index | cb0 | ifindex |
	// |---|---|---|---|---|---|---|
	// | veth-cross-netns | vB/tc-ingress | 1 | 0x0 | 42 | other | vB |
}

func ExampleDiff() {
	kernel := observe.Matrix{{Transition: "bpf-redirect-peer", Hook: "vB/tc-ingress", Field: observe.FieldMark, Value: 43}}
	model := observe.Matrix{{Transition: "bpf-redirect-peer", Hook: "vB/tc-ingress", Field: observe.FieldMark, Value: 0}}
	for _, d := range observe.Diff(kernel, model) {
		fmt.Println(d)
	}
	// Output:
	// bpf-redirect-peer vB/tc-ingress mark: want 0x2b, got 0x0
}

func TestCheckCells(t *testing.T) {
	m := observe.Matrix{
		{Transition: "t", Hook: "vB/tc-ingress", Field: observe.FieldMark, Value: 0x2a},
		{Transition: "t", Hook: "vB/tc-ingress", Field: observe.FieldMeta, Bytes: []byte{0xa0, 0xa1}},
	}
	if err := observe.CheckCells(m, "t", "vB/tc-ingress", "mark=0x2a meta=a0 a1"); err != nil {
		t.Fatalf("CheckCells on matching cells: %v", err)
	}
	if err := observe.CheckCells(m, "t", "vB/tc-ingress", "mark=0x0"); err == nil {
		t.Fatal("CheckCells accepted a differing mark")
	}
	if err := observe.CheckCells(m, "t", "vB/tc-ingress", "priority=0"); err == nil {
		t.Fatal("CheckCells accepted a missing cell")
	}
}

// TestEncapPayload checks the VXLAN datagram a SendEncap sender writes:
// VXLAN flags and VNI 42, the inner Ethernet addresses, an IPv4 header whose
// checksum verifies (ip_rcv_core drops a bad one after decap), and the
// inner UDP header to TestPort with zero payload.
func TestEncapPayload(t *testing.T) {
	src := [6]byte{2, 0, 0, 0, 4, 1}
	dst := [6]byte{2, 0, 0, 0, 4, 2}
	for _, n := range []int{16, observe.BigPayload} {
		b := observe.EncapPayload(src, dst, n)
		require.Len(t, b, 8+14+20+8+n)
		require.Equal(t, []byte{0x08, 0, 0, 0, 0, 0, 42, 0}, b[:8])
		require.Equal(t, dst[:], b[8:14])
		require.Equal(t, src[:], b[14:20])
		require.Equal(t, []byte{0x08, 0x00}, b[20:22])
		ip := b[22:42]
		var sum uint32
		for i := 0; i < 20; i += 2 {
			sum += uint32(ip[i])<<8 | uint32(ip[i+1])
		}
		for sum>>16 != 0 {
			sum = sum&0xffff + sum>>16
		}
		require.Equal(t, uint32(0xffff), sum, "IPv4 header checksum")
		require.Equal(t, 20+8+n, int(ip[2])<<8|int(ip[3]))
		require.Equal(t, observe.InnerSrc[:], ip[12:16])
		require.Equal(t, observe.InnerDst[:], ip[16:20])
		u := b[42:50]
		require.Equal(t, observe.TestPort, int(u[2])<<8|int(u[3]))
		require.Equal(t, 8+n, int(u[4])<<8|int(u[5]))
		require.Equal(t, make([]byte, n), b[50:])
	}
}

func TestPayloadLen(t *testing.T) {
	require.Equal(t, 16, observe.Transition{}.PayloadLen())
	require.Equal(t, 1600, observe.Transition{Payload: 1600}.PayloadLen())
	require.Equal(t, 4*observe.SegmentSize, observe.Transition{Segments: 4, Payload: 1600}.PayloadLen())
}
