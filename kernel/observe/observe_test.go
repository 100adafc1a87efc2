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
		for _, a := range tr.Actions {
			require.Contains(t, devs, a.Hook.Dev, "%s action at %s", tr.Name, a.Hook)
			require.True(t, slices.Contains(tr.Hooks, a.Hook), "%s: action hook %s is recorded", tr.Name, a.Hook)
			if a.Redirect != observe.NoRedirect {
				require.Contains(t, devs, a.Target, "%s redirect target", tr.Name)
			}
			if a.Hook.Point == observe.XDP {
				require.Empty(t, a.Set, "%s: XDP actions only reserve metadata", tr.Name)
			} else {
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
