package main

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/cost"
)

func TestCompare(t *testing.T) {
	pcap := mustGen(t, "-preset", "lb", "-seed", "1", "-n", "300")
	dir := t.TempDir()
	chart := filepath.Join(dir, "c.svg")
	code, out, stderr := simrun(t, "compare", "-scenario", "../../examples/edge-lb.yaml",
		"-designs", "rfc,rfc-coalloc,rfc-slim:cache=4,xdp-meta", "-chart", chart, pcap)
	require.Equal(t, exitOK, code, stderr)
	assert.Empty(t, stderr)
	assert.Contains(t, out, "scenario edge-lb, kernel v6.18: 300 packets from ")
	for _, d := range []string{"rfc", "rfc-coalloc", "rfc-slim:cache=4", "xdp-meta"} {
		assert.Regexp(t, "(?m)^"+d+" +[0-9]", out)
	}
	assert.Contains(t, out, "survival: share of reads")
	assert.Contains(t, out, "metadata lost")
	svg, err := os.ReadFile(chart)
	require.NoError(t, err)
	require.NoError(t, xml.Unmarshal(svg, new(struct{})))
	assert.Equal(t, 4, strings.Count(string(svg), `class="bar ns"`))

	// JSON, with a cost table file written by cost.Save (what simrun
	// calibrate writes): the estimates follow the table.
	tab := cost.Default()
	for i := range tab.Ops {
		tab.Ops[i].NS, tab.Ops[i].Low, tab.Ops[i].High = 2*tab.Ops[i].NS, 2*tab.Ops[i].Low, 2*tab.Ops[i].High
	}
	for i := range tab.Alloc {
		for _, e := range []*cost.Entry{&tab.Alloc[i], &tab.Free[i]} {
			e.NS, e.Low, e.High = 2*e.NS, 2*e.Low, 2*e.High
		}
	}
	costs := filepath.Join(dir, "costs.yaml")
	require.NoError(t, cost.Save(costs, &tab))
	var runs [2]struct {
		Costs   struct{ Name string }
		Designs []struct {
			Design      string
			NSPerPacket struct{ NS float64 } `json:"ns_per_packet"`
		}
	}
	for i, extra := range [][]string{nil, {"-costs", costs}} {
		args := append([]string{"compare", "-scenario", "../../examples/edge-lb.yaml", "-designs", "rfc,ext-buffer", "-format", "json"}, extra...)
		code, out, stderr = simrun(t, append(args, pcap)...)
		require.Equal(t, exitOK, code, stderr)
		require.NoError(t, json.Unmarshal([]byte(out), &runs[i]))
	}
	assert.Equal(t, costs, runs[1].Costs.Name)
	for j := range runs[0].Designs {
		assert.InDelta(t, 2*runs[0].Designs[j].NSPerPacket.NS, runs[1].Designs[j].NSPerPacket.NS, 0.2, runs[0].Designs[j].Design)
	}
}

// TestCompareBadInputs: bad design lists, cost tables and arguments are
// one line naming what is wrong (and for a cost file, where).
func TestCompareBadInputs(t *testing.T) {
	pcap := mustGen(t, "-preset", "lb", "-seed", "1", "-n", "20")
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
		return p
	}
	good := string(cost.DefaultYAML())
	badOp := write("badop.yaml", strings.Replace(good, "op: kmalloc\n", "op: kmallocc\n", 1))
	negative := write("neg.yaml", strings.Replace(good, "ns: 92\n", "ns: -92\n", 1))
	notYAML := write("notyaml.yaml", "entries: [\n")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown design", []string{"-designs", "rfc,nope"}, `simrun compare: -designs: design "nope": unknown (known: `},
		{"empty design", []string{"-designs", "rfc,"}, `simrun compare: -designs: empty design name in "rfc,"`},
		{"bad option", []string{"-designs", "skb-hash:cache=4"}, `simrun compare: -designs: design "skb-hash:cache=4": option "cache" does not apply to skb-hash`},
		{"bad value", []string{"-designs", "rfc:cache=-1"}, `simrun compare: -designs: design "rfc:cache=-1": cache=-1: want an integer from 1 to 1024`},
		{"missing costs", []string{"-costs", filepath.Join(dir, "nope.yaml")}, "simrun compare: -costs: "},
		{"unknown op", []string{"-costs", badOp}, `simrun compare: -costs: cost: ` + badOp + `:8: unknown op "kmallocc"`},
		{"negative cost", []string{"-costs", negative}, "simrun compare: -costs: cost: " + negative + ":8: entry kmalloc: ns is negative"},
		{"not yaml", []string{"-costs", notYAML}, "simrun compare: -costs: cost: " + notYAML + ": yaml: line 1"},
		{"format", []string{"-format", "csv"}, `simrun compare: unknown format "csv" (known: text, json)`},
		{"scenario", []string{"-scenario", filepath.Join(dir, "none.yaml")}, "simrun compare: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, stderr := simrun(t, append(append([]string{"compare"}, tc.args...), pcap)...)
			assert.Equal(t, exitError, code)
			assert.Empty(t, out)
			first, _, _ := strings.Cut(stderr, "\n")
			assert.True(t, strings.HasPrefix(first, tc.want), "stderr %q, want prefix %q", stderr, tc.want)
			// One line of error, plus the usage line for command-line mistakes.
			assert.LessOrEqual(t, strings.Count(stderr, "\n"), 2, stderr)
		})
	}
	code, _, stderr := simrun(t, "compare", "-designs", "rfc")
	assert.Equal(t, exitError, code)
	assert.Contains(t, stderr, "no CAPTURE given")
}

// TestCompareRefusal: a design the scenario's hooks or flags make
// impossible is shown, not a crash or an error exit.
func TestCompareRefusal(t *testing.T) {
	pcap := mustGen(t, "-preset", "lb", "-seed", "1", "-n", "50")
	src, err := os.ReadFile("../../examples/edge-lb.yaml")
	require.NoError(t, err)
	scen := filepath.Join(t.TempDir(), "clone.yaml")
	require.NoError(t, os.WriteFile(scen, []byte(strings.Replace(string(src),
		"{name: svc, value_size: 8}", "{name: svc, value_size: 8, flags: [clone]}", 1)), 0o644))
	code, out, stderr := simrun(t, "compare", "-scenario", scen, "-designs", "xdp-meta,rfc", pcap)
	require.Equal(t, exitOK, code, stderr)
	assert.Regexp(t, `(?m)^  xdp-meta refused: .*map flags not supported by this design`, out)
	assert.Regexp(t, `(?m)^rfc +[0-9]`, out)
	assert.Regexp(t, `(?m)^xdp-meta +refused +- +- +-`, out, "the row keeps the table's columns")
}

// TestCompareDamagedCapture: every design sees the packets before the
// damage; the comparison is printed and the exit status is 2.
func TestCompareDamagedCapture(t *testing.T) {
	pcap := mustGen(t, "-preset", "lb", "-seed", "1", "-n", "200")
	data, err := os.ReadFile(pcap)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(pcap, data[:len(data)*2/3], 0o644))
	code, out, stderr := simrun(t, "compare", "-scenario", "../../examples/edge-lb.yaml", "-designs", "rfc,skb-hash", "-format", "json", pcap)
	assert.Equal(t, exitIncomplete, code)
	lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	require.Len(t, lines, 1, "stderr: %q", stderr)
	assert.Contains(t, lines[0], pcap)
	var res struct {
		Packets  int64
		Complete bool
		Error    string
		Designs  []struct{ Design string }
	}
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	assert.False(t, res.Complete)
	assert.NotEmpty(t, res.Error)
	assert.Positive(t, res.Packets)
	assert.Less(t, res.Packets, int64(200))
	assert.Len(t, res.Designs, 2)
}
