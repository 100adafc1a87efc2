package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/capture/capturetest"
	"github.com/skbsim/skbsim/sim"
)

// simrun runs the CLI in-process and returns its exit status and outputs.
func simrun(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(args, &out, &errb)
	return code, out.String(), errb.String()
}

// mustGen writes a generated capture with simrun gen.
func mustGen(t *testing.T, args ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gen.pcap")
	code, _, stderr := simrun(t, append([]string{"gen", "-o", path}, args...)...)
	require.Equal(t, exitOK, code, stderr)
	return path
}

func TestHelp(t *testing.T) {
	code, out, _ := simrun(t, "help")
	assert.Equal(t, exitOK, code)
	for _, c := range []string{"run", "trace", "gen", "decode", "help"} {
		assert.Regexp(t, "(?m)^  "+c+" ", out)
	}
	code, out, _ = simrun(t, "help", "run")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, out, "usage: simrun run")
	assert.Contains(t, out, "-scenario")
	assert.NotContains(t, out, "runtime-stats", "hidden flags stay hidden")
	code, _, _ = simrun(t, "run", "-h")
	assert.Equal(t, exitOK, code)
}

func TestGenAndRun(t *testing.T) {
	pcap := mustGen(t, "-preset", "demo", "-seed", "3", "-n", "120")
	for _, format := range []string{"text", "json", "csv"} {
		code, out, stderr := simrun(t, "run", "-format", format, pcap)
		require.Equal(t, exitOK, code, stderr)
		assert.Empty(t, stderr)
		switch format {
		case "json":
			var m map[string]any
			require.NoError(t, json.Unmarshal([]byte(out), &m))
			assert.Equal(t, float64(120), m["packets_read"])
			assert.Equal(t, true, m["complete"])
		case "csv":
			assert.True(t, strings.HasPrefix(out, "section,key,metric,value\n"))
		default:
			assert.Contains(t, out, "packets read: 120 (complete)")
		}
	}
	report := filepath.Join(t.TempDir(), "r.json")
	code, out, stderr := simrun(t, "run", "-j", "2", "-format", "json", "-o", report, pcap)
	require.Equal(t, exitOK, code, stderr)
	assert.Empty(t, out)
	b, err := os.ReadFile(report)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"packets_read": 120`)
}

// TestRunAboveMTU: -above-mtu overrides the scenario's rx entries. The
// demo capture's VXLAN frames exceed the built-in NIC's MTU of 1500:
// accepted as they are by default, cut into wire frames with segment,
// dropped by the NIC with drop.
func TestRunAboveMTU(t *testing.T) {
	pcap := mustGen(t, "-preset", "demo", "-seed", "1")
	rows := func(args ...string) map[string]float64 {
		code, out, stderr := simrun(t, append(append([]string{"run", "-format", "json"}, args...), pcap)...)
		require.Equal(t, exitOK, code, stderr)
		var r struct {
			Stack []struct {
				Name  string  `json:"name"`
				Count float64 `json:"count"`
			} `json:"stack"`
		}
		require.NoError(t, json.Unmarshal([]byte(out), &r))
		m := map[string]float64{}
		for _, row := range r.Stack {
			m[row.Name] = row.Count
		}
		return m
	}
	def := rows()
	assert.Zero(t, def["above_mtu_cut"]+def["above_mtu_dropped"])
	seg := rows("-above-mtu", "segment")
	assert.Positive(t, seg["above_mtu_cut"])
	assert.Greater(t, seg["above_mtu_cut_frames"], seg["above_mtu_cut"])
	drop := rows("-above-mtu", "drop")
	assert.Positive(t, drop["above_mtu_dropped"])
	assert.Zero(t, drop["above_mtu_cut"])
}

func TestGenFormats(t *testing.T) {
	for _, args := range [][]string{
		{"-format", "pcapng"},
		{"-linktype", "LINUX_SLL"},
		{"-linktype", "RAW", "-format", "pcapng"},
		{"-min-packets", "500", "-n", "200"},
	} {
		pcap := mustGen(t, args...)
		code, out, stderr := simrun(t, "run", "-format", "json", pcap)
		require.Equal(t, exitOK, code, "%v: %s", args, stderr)
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(out), &m))
		assert.Equal(t, true, m["complete"], "%v", args)
	}
}

// TestDamagedCaptureExit2 truncates a capture: the report covers the
// packets before the damage, stderr has one line naming the file, packet
// and byte offset, and the exit status is 2.
func TestDamagedCaptureExit2(t *testing.T) {
	pcap := mustGen(t, "-preset", "demo", "-seed", "1")
	data, err := os.ReadFile(pcap)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(pcap, data[:len(data)*2/3], 0o644))
	code, out, stderr := simrun(t, "run", "-format", "json", pcap)
	assert.Equal(t, exitIncomplete, code)
	lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	require.Len(t, lines, 1, "stderr: %q", stderr)
	assert.Regexp(t, regexp.QuoteMeta(pcap)+`: packet \d+ at byte \d+: `, lines[0])
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &m))
	assert.Equal(t, false, m["complete"])
	assert.Positive(t, m["packets_read"])
	assert.NotEmpty(t, m["error"])
	assert.Equal(t, float64(0), m["live_objects_at_end"])
}

// pcapHeader is a pcap file header with the given link type.
func pcapHeader(link uint32) []byte {
	h := make([]byte, 24)
	binary.LittleEndian.PutUint32(h[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], 65535)
	binary.LittleEndian.PutUint32(h[20:], link)
	return h
}

// TestBadInputs feeds bad arguments, scenarios and files: each gives one
// clear line on stderr and a non-zero status, and none reaches the
// top-level recover.
func TestBadInputs(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, b, 0o644))
		return p
	}
	good := mustGen(t, "-n", "10")
	badScenario := write("bad.yaml", []byte("name: x\ndevices:\n  - {name: eth0, kind: nic, mtu: huge}\nentry: {dev: eth0}\n"))
	linkScenario := write("link.yaml", []byte("devices:\n  - {name: eth0, kind: nic}\nentry: {dev: eth1}\n"))
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no command", nil, exitError, "usage: simrun"},
		{"unknown command", []string{"frobnicate"}, exitError, `unknown command "frobnicate"`},
		{"no capture", []string{"run"}, exitError, "no CAPTURE given"},
		{"bad format", []string{"run", "-format", "xml", good}, exitError, `unknown format "xml"`},
		{"bad flag", []string{"run", "-jobs", "2", good}, exitError, "flag provided but not defined: -jobs"},
		{"zero workers", []string{"run", "-j", "0", good}, exitError, "-j 0"},
		{"missing file", []string{"run", filepath.Join(dir, "nope.pcap")}, exitError, "nope.pcap"},
		{"empty file", []string{"run", write("empty.pcap", nil)}, exitError, "empty.pcap: packet 0 at byte 0: empty file"},
		{"bad magic", []string{"run", write("text.pcap", []byte("hello, world, this is not a capture"))}, exitError, "bad magic"},
		// The file header reads; its first packet cannot be decoded: an
		// (empty) incomplete report, exit 2.
		{"unsupported link type", []string{"run", write("l160.pcap", append(pcapHeader(160), make([]byte, 16)...))}, exitIncomplete, "l160.pcap: packet 0 at byte 24: unsupported link type 160"},
		{"scenario line", []string{"run", "-scenario", badScenario, good}, exitError, badScenario + `:3:34: device eth0: mtu: want an integer, got "huge"`},
		{"scenario reference", []string{"run", "-scenario", linkScenario, good}, exitError, linkScenario + `:3:8: entry: no device "eth1"`},
		{"scenario missing", []string{"run", "-scenario", filepath.Join(dir, "none.yaml"), good}, exitError, "none.yaml"},
		{"unknown design", []string{"run", "-design", "nonesuch", good}, exitError, `design "nonesuch"`},
		{"above-mtu mode", []string{"run", "-above-mtu", "split", good}, exitError, `-above-mtu "split": want one of accept, segment, gro_hw, drop`},
		{"above-mtu gro_hw with XDP", []string{"run", "-above-mtu", "gro_hw", good}, exitError, "drivers refuse native XDP while hardware GRO or LRO is on"},
		{"gen no output", []string{"gen"}, exitError, "-o FILE is required"},
		{"gen preset", []string{"gen", "-preset", "nope", "-o", filepath.Join(dir, "x.pcap")}, exitError, `unknown preset "nope"`},
		{"gen link type", []string{"gen", "-linktype", "PPP", "-o", filepath.Join(dir, "x.pcap")}, exitError, `link type "PPP" not generated`},
		{"gen negative", []string{"gen", "-n", "-5", "-o", filepath.Join(dir, "x.pcap")}, exitError, "must not be negative"},
		{"trace packets", []string{"trace", "-packets", "1,x", good}, exitError, `-packets: bad packet id "x"`},
		{"trace two captures", []string{"trace", good, good}, exitError, "want one CAPTURE"},
		{"help topic", []string{"help", "nope"}, exitError, `unknown command "nope"`},
		{"transitions profile", []string{"transitions", "-kernel", "v1.0"}, exitError, `-kernel: `},
		{"transitions argument", []string{"transitions", "extra"}, exitError, `unexpected argument "extra"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := simrun(t, tc.args...)
			assert.Equal(t, tc.code, code, "stderr: %s", stderr)
			assert.Contains(t, stderr, tc.want)
			assert.NotContains(t, stderr, "internal error", "bad input reached the top-level recover")
			assert.NotContains(t, stderr, "goroutine ", "no panic trace")
			first := strings.SplitN(stderr, "\n", 2)[0]
			assert.True(t, strings.HasPrefix(first, "simrun") || strings.HasPrefix(first, "usage:"), "first line %q", first)
		})
	}
}

// TestTransitionsDoc: docs/transitions.md is what `simrun transitions`
// prints now (make report regenerates it), and an older profile gives
// other cells.
func TestTransitionsDoc(t *testing.T) {
	code, out, stderr := simrun(t, "transitions")
	require.Equal(t, exitOK, code, stderr)
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "transitions.md"))
	require.NoError(t, err)
	require.Equal(t, string(doc), out, "docs/transitions.md is stale: run make report")
	require.Contains(t, out, "| veth-cross-netns-socket | vB/socket-filter | 1 | 0x4d |")
	code, old, stderr := simrun(t, "transitions", "-kernel", "v6.6")
	require.Equal(t, exitOK, code, stderr)
	require.NotEqual(t, out, old)
}

func TestTrace(t *testing.T) {
	pcap := mustGen(t, "-preset", "demo", "-seed", "1", "-n", "40")
	code, out, stderr := simrun(t, "trace", "-packets", "0,5", pcap)
	require.Equal(t, exitOK, code, stderr)
	assert.Regexp(t, `(?m)^packet 0: \d+ bytes`, out)
	assert.Regexp(t, `(?m)^packet 5: \d+ bytes`, out)
	assert.NotRegexp(t, `(?m)^packet 1:`, out)
	assert.Contains(t, out, "napi_build_skb")
	assert.Contains(t, out, "program xdp_tag returned")
}

func TestProgressBar(t *testing.T) {
	var buf bytes.Buffer
	p := newProgressBar(&buf)
	p.update(sim.ProgressInfo{File: "x.pcap", Packets: 10, Offset: 50, Size: 100})
	assert.Empty(t, buf.String(), "nothing for a run shorter than progressDelay")
	p.start = p.start.Add(-2 * progressDelay)
	p.update(sim.ProgressInfo{File: "x.pcap", Packets: 10, Offset: 50, Size: 100})
	assert.Contains(t, buf.String(), "x.pcap [===============               ]  50% 10 packets")
	p.update(sim.ProgressInfo{Done: true})
	assert.True(t, strings.HasSuffix(buf.String(), "\r\033[K"), "the bar is erased at the end")
}

// TestRunXDPRxMetadata: the report's XDP RX metadata section in the three
// formats, for the edge-lb-hints example.
func TestRunXDPRxMetadata(t *testing.T) {
	pcap := mustGen(t, "-preset", "lb", "-seed", "1", "-n", "200")
	scen := filepath.Join("..", "..", "examples", "edge-lb-hints.yaml")
	code, out, stderr := simrun(t, "run", "-scenario", scen, pcap)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, out, "XDP RX metadata kfuncs per program")
	assert.Regexp(t, `(?m)^  nic_hints +dev host/eth0 +rx_vlan_tag +0 +0 +0 +200 +0$`, out)
	code, out, stderr = simrun(t, "run", "-scenario", scen, "-format", "csv", pcap)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, out, "xdp_rx_metadata,nic_hints/dev host/eth0/rx_hash,ok,200\n")
	assert.Contains(t, out, "xdp_rx_metadata,nic_hints/dev host/eth0/rx_vlan_tag,eopnotsupp,200\n")
	code, out, stderr = simrun(t, "run", "-scenario", scen, "-format", "json", pcap)
	require.Equal(t, exitOK, code, stderr)
	var r struct {
		RxMeta []map[string]any `json:"xdp_rx_metadata"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &r))
	require.Len(t, r.RxMeta, 6)
	assert.Equal(t, map[string]any{"program": "nic_hints", "where": "dev host/eth0", "kfunc": "rx_timestamp",
		"ok": float64(200), "ok_zero": float64(0), "enodata": float64(0), "eopnotsupp": float64(0), "errors": float64(0)}, r.RxMeta[0])
	// Without a program calling the kfuncs, the JSON report has no such key.
	code, out, stderr = simrun(t, "run", "-format", "json", pcap)
	require.Equal(t, exitOK, code, stderr)
	assert.NotContains(t, out, "xdp_rx_metadata")
}

// TestRunPadTruncated: -pad-truncated pads packets a snaplen cut short,
// and the text report says how many.
func TestRunPadTruncated(t *testing.T) {
	pcap := mustGen(t, "-preset", "lb", "-seed", "1", "-n", "200")
	path, cut := capturetest.MustTruncate(t, pcap, 96)
	require.Positive(t, cut)
	code, out, stderr := simrun(t, "run", "-pad-truncated", path)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, out, fmt.Sprintf("200 packets (%d cut short, padded to their wire length)", cut))
	assert.NotContains(t, out, "PKT_TOO_SMALL")
	code, out, stderr = simrun(t, "run", path)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, out, "PKT_TOO_SMALL")
}

// TestRunReplies: -replies turns on the scenario's options.replies: the
// built-in scenario's container answers the capture's datagrams and
// segments to its closed ports out of its uplink, where tc_out_uplink
// runs once more per answer, and each answer costs allocations.
func TestRunReplies(t *testing.T) {
	pcap := mustGen(t, "-preset", "mixed", "-seed", "1", "-n", "3000")
	runs := func(args ...string) (uplink, allocs uint64) {
		t.Helper()
		code, out, stderr := simrun(t, append(append([]string{"run", "-format", "json"}, args...), pcap)...)
		require.Equal(t, exitOK, code, stderr)
		var r sim.Report
		require.NoError(t, json.Unmarshal([]byte(out), &r))
		p := r.Program("tc_out_uplink")
		require.NotNil(t, p)
		return p.Runs, r.Allocations.Allocs
	}
	offRuns, offAllocs := runs()
	onRuns, onAllocs := runs("-replies")
	assert.Greater(t, onRuns, offRuns)
	assert.Greater(t, onAllocs, offAllocs)
	code, _, stderr := simrun(t, "run", "-replies=maybe", pcap)
	assert.Equal(t, exitError, code, stderr)
}
