package compare_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/capture"
	"github.com/skbsim/skbsim/capture/capturetest"
	"github.com/skbsim/skbsim/compare"
	"github.com/skbsim/skbsim/internal/errno"
	"github.com/skbsim/skbsim/internal/testutil"
	"github.com/skbsim/skbsim/sim"
)

// edgeLB loads examples/edge-lb.yaml, with edit applied to its text.
func edgeLB(tb testing.TB, edit func(string) string) *sim.Scenario {
	tb.Helper()
	src, err := os.ReadFile("../examples/edge-lb.yaml")
	require.NoError(tb, err)
	text := string(src)
	if edit != nil {
		text = edit(text)
	}
	s, err := sim.Parse("edge-lb.yaml", []byte(text))
	require.NoError(tb, err)
	return s
}

func designs(tb testing.TB, list string) []compare.Design {
	tb.Helper()
	ds, err := compare.ParseDesigns(list)
	require.NoError(tb, err)
	return ds
}

var (
	lbOnce   sync.Once
	lbResult *compare.Result
	lbErr    error
)

// lbCompare is the comparison most tests look at: the edge load balancer
// over `simrun gen -preset lb` traffic with four designs.
func lbCompare(t *testing.T) *compare.Result {
	t.Helper()
	lbOnce.Do(func() {
		dir, err := os.MkdirTemp("", "compare-test-")
		if err != nil {
			lbErr = err
			return
		}
		path := filepath.Join(dir, "lb.pcap")
		var buf bytes.Buffer
		if _, lbErr = capture.Generate(&buf, capture.GenSpec{Preset: "lb", Seed: testutil.DefaultSeed}); lbErr != nil {
			return
		}
		if lbErr = os.WriteFile(path, buf.Bytes(), 0o644); lbErr != nil {
			return
		}
		s, err := sim.LoadScenario("../examples/edge-lb.yaml")
		if err != nil {
			lbErr = err
			return
		}
		ds, err := compare.ParseDesigns("rfc,rfc-coalloc,rfc-slim,xdp-meta")
		if err != nil {
			lbErr = err
			return
		}
		lbResult, lbErr = compare.Run(s, []string{path}, ds, compare.Options{})
		os.RemoveAll(dir)
	})
	require.NoError(t, lbErr)
	return lbResult
}

// TestFirstWriteAllocations: on the same traffic, the RFC as posted
// allocates the skb_ext, the bpf_local_storage and the element on a
// packet's first write; co-allocation merges the last two and the slim
// storage lives in the extension, so both save exactly the storage
// allocation per first write. The XDP metadata area allocates nothing
// itself, and its share is not above zero: GRO does not merge skbs whose
// metadata differ (skb_metadata_differs), so the aggregates that the
// baseline forwards out of eth0, a NIC without NETIF_F_FRAGLIST, and that
// eth0 cuts in software are not there.
func TestFirstWriteAllocations(t *testing.T) {
	res := lbCompare(t)
	require.True(t, res.Complete)
	require.Positive(t, res.Packets)
	rfc, co, slim, xdp := res.Design("rfc"), res.Design("rfc-coalloc"), res.Design("rfc-slim"), res.Design("xdp-meta")
	for _, d := range []*compare.DesignResult{rfc, co, slim, xdp} {
		require.NotNil(t, d)
		require.Empty(t, d.Refused, d.Design)
		require.Empty(t, d.Leak, d.Design)
	}
	assert.Greater(t, rfc.AllocsPerPacket, co.AllocsPerPacket)
	assert.Greater(t, rfc.AllocsPerPacket, slim.AllocsPerPacket)
	assert.InDelta(t, rfc.AllocsPerPacket-co.AllocsPerPacket, rfc.AllocsPerPacket-slim.AllocsPerPacket, 1e-9,
		"both strategies save the one bpf_local_storage allocation per first write")
	// Every first write allocates an skb_ext; rfc adds two objects to it.
	assert.InDelta(t, rfc.AllocsPerPacket, 3*(rfc.AllocsPerPacket-co.AllocsPerPacket), 1e-9)

	assert.LessOrEqual(t, xdp.AllocsPerPacket, 0.0, "xdp-meta keeps values in the headroom")
	assert.LessOrEqual(t, xdp.BytesPerPacket, 0.0)
	assert.Zero(t, xdp.SetupAllocs)
	assert.Less(t, xdp.NSPerPacket.NS, rfc.NSPerPacket.NS)

	for _, d := range res.Designs {
		var sum float64
		for _, c := range d.NSByOp {
			sum += c.NSPerPacket
		}
		assert.InDelta(t, d.NSPerPacket.NS, sum, 0.1*float64(len(d.NSByOp))+0.1, "%s: the breakdown adds up", d.Design)
		assert.LessOrEqual(t, d.NSPerPacket.Low, d.NSPerPacket.NS, d.Design)
		assert.LessOrEqual(t, d.NSPerPacket.NS, d.NSPerPacket.High, d.Design)
		assert.Greater(t, d.PathNSPerPacket.NS, d.NSPerPacket.NS, "%s: the path includes the stack's own work", d.Design)
		require.Len(t, d.Survival, len(res.ReadPoints), d.Design)
		for _, sv := range d.Survival {
			require.LessOrEqual(t, sv.Found, sv.Reads)
			if sv.Reads > 0 {
				require.NotNil(t, sv.Share)
				assert.InDelta(t, float64(sv.Found)/float64(sv.Reads), *sv.Share, 0.001)
			}
		}
	}
	// The value written inside the container reaches the socket under every
	// skb design; the one written before the IPIP decap does not (scrub).
	svc := readPoint(t, res, "sock_web", "svc")
	outer := readPoint(t, res, "sock_web", "outer")
	for _, d := range []*compare.DesignResult{rfc, co, slim} {
		assert.Equal(t, 1.0, *d.Survival[svc].Share, d.Design)
		assert.Equal(t, 0.0, *d.Survival[outer].Share, d.Design)
	}
	// Socket filters have no data_meta: every xdp-meta read there fails.
	assert.Equal(t, 0.0, *xdp.Survival[svc].Share)
	assert.Positive(t, xdp.Lost.ReadErrors)
	assert.Positive(t, res.Baseline.AllocsPerPacket, "the skbs themselves")
}

func readPoint(t *testing.T, res *compare.Result, prog, m string) int {
	t.Helper()
	for i, p := range res.ReadPoints {
		if p.Program == prog && p.Map == m {
			return i
		}
	}
	t.Fatalf("no read point %s:%s", prog, m)
	return -1
}

// TestLRUEvictions: with the container's socket not reading, queued skbs
// keep their values; a per-CPU LRU of 2 entries per map evicts to make
// room, while the default capacity never does, and a hash map of 2
// entries without LRU refuses the inserts instead (E2BIG).
func TestLRUEvictions(t *testing.T) {
	pcap := capturetest.MustGenerate(t, capture.GenSpec{Preset: "lb", Seed: testutil.Seed(t)})
	s := edgeLB(t, func(src string) string {
		out := strings.Replace(src, "{name: web, netns: svc, proto: tcp, port: 80}", "{name: web, netns: svc, proto: tcp, port: 80, read: false}", 1)
		require.NotEqual(t, src, out)
		return out
	})
	res, err := compare.Run(s, []string{pcap}, designs(t, "skb-hash-lru:capacity=2,skb-hash-lru,skb-hash:capacity=2"), compare.Options{})
	require.NoError(t, err)
	tiny, big, hash := res.Design("skb-hash-lru:capacity=2"), res.Design("skb-hash-lru"), res.Design("skb-hash:capacity=2")
	assert.Equal(t, 2, tiny.Capacity)
	assert.Positive(t, tiny.Lost.Evictions)
	assert.Zero(t, big.Lost.Evictions)
	assert.Zero(t, hash.Lost.Evictions)
	assert.Greater(t, hash.Lost.FailedOps, big.Lost.FailedOps, "a full hash map refuses inserts")
	assert.Less(t, tiny.SetupBytes, big.SetupBytes, "the LRU preallocates max_entries elements")
}

// TestRefusedDesign: a design that cannot hold a scenario's maps shows the
// refusal and the others run.
func TestRefusedDesign(t *testing.T) {
	pcap := capturetest.MustGenerate(t, capture.GenSpec{Preset: "lb", Seed: testutil.Seed(t), Packets: 200})
	s := edgeLB(t, func(src string) string {
		return strings.Replace(src, "{name: svc, value_size: 8}", "{name: svc, value_size: 8, flags: [clone]}", 1)
	})
	res, err := compare.Run(s, []string{pcap}, designs(t, "xdp-meta,skb-hash"), compare.Options{})
	require.NoError(t, err)
	xdp := res.Design("xdp-meta")
	assert.Contains(t, xdp.Refused, "flags")
	assert.Zero(t, xdp.AllocsPerPacket)
	assert.Empty(t, xdp.Survival)
	assert.Empty(t, res.Design("skb-hash").Refused)
	var text bytes.Buffer
	require.NoError(t, res.WriteText(&text))
	assert.Regexp(t, `(?m)^  xdp-meta refused: .*map flags not supported`, text.String())
	var svg bytes.Buffer
	require.NoError(t, res.WriteSVG(&svg))
	assert.Equal(t, 2, strings.Count(svg.String(), `class="refused"`), "one refusal per panel")
	assert.Equal(t, 1, strings.Count(svg.String(), `class="bar ns"`))
}

// TestJSONRoundTrip: the JSON form decodes back into the same Result and
// keeps its documented field names.
func TestJSONRoundTrip(t *testing.T) {
	res := lbCompare(t)
	var buf bytes.Buffer
	require.NoError(t, res.Write(&buf, "json"))
	var back compare.Result
	dec := json.NewDecoder(bytes.NewReader(buf.Bytes()))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&back))
	assert.Equal(t, *res, back)

	var raw map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &raw))
	for _, k := range []string{"scenario", "kernel", "files", "packets", "complete", "costs", "baseline", "read_points", "designs"} {
		assert.Contains(t, raw, k)
	}
	d0 := raw["designs"].([]any)[0].(map[string]any)
	for _, k := range []string{"design", "carrier", "allocs_per_packet", "bytes_per_packet", "setup_allocs", "setup_bytes",
		"peak_live_bytes", "ns_per_packet", "path_ns_per_packet", "survival", "lost", "ops_per_packet", "ns_by_op", "counters"} {
		assert.Contains(t, d0, k)
	}
	assert.Contains(t, d0["ns_per_packet"], "low")
	assert.Contains(t, d0["lost"], "evictions")
}

// TestChart: the SVG is well-formed XML with one bar per design in each
// panel and a title per bar.
func TestChart(t *testing.T) {
	res := lbCompare(t)
	var buf bytes.Buffer
	require.NoError(t, res.WriteSVG(&buf))
	doc := buf.String()
	dec := xml.NewDecoder(&buf)
	bars := map[string][]string{}
	var root string
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if root == "" {
			root = se.Name.Local
		}
		if se.Name.Local != "rect" {
			continue
		}
		for _, a := range se.Attr {
			if a.Name.Local == "class" && strings.HasPrefix(a.Value, "bar ") {
				bars[a.Value] = append(bars[a.Value], a.Value)
			}
		}
	}
	assert.Equal(t, "svg", root)
	assert.Len(t, bars["bar ns"], len(res.Designs))
	assert.Len(t, bars["bar allocs"], len(res.Designs))
	for _, d := range res.Designs {
		assert.Contains(t, doc, ">"+d.Design+"</text>")
	}
}

func TestParseDesigns(t *testing.T) {
	for _, tc := range []struct {
		in    string
		want  []compare.Design
		error string
	}{
		{in: "rfc", want: []compare.Design{{Label: "rfc", Name: "rfc"}}},
		{in: "rfc:cache=4, rfc-slim:cache=32", want: []compare.Design{
			{Label: "rfc:cache=4", Name: "rfc", CacheSize: 4}, {Label: "rfc-slim:cache=32", Name: "rfc-slim", CacheSize: 32}}},
		{in: "skb-hash-lru:capacity=8,ext-buffer:buffer=32,rfc-prealloc:pool=4:cache=2", want: []compare.Design{
			{Label: "skb-hash-lru:capacity=8", Name: "skb-hash-lru", Capacity: 8},
			{Label: "ext-buffer:buffer=32", Name: "ext-buffer", BufferSize: 32},
			{Label: "rfc-prealloc:pool=4:cache=2", Name: "rfc-prealloc", PreallocPool: 4, CacheSize: 2}}},
		{in: "nope", error: `design "nope": unknown (known: `},
		{in: "rfc,,xdp-meta", error: `empty design name in "rfc,,xdp-meta"`},
		{in: "rfc:cache", error: `design "rfc:cache": option "cache" is not key=value`},
		{in: "rfc:cache=0", error: `design "rfc:cache=0": cache=0: want an integer from 1 to 1024`},
		{in: "rfc:cache=x", error: `design "rfc:cache=x": cache=x: want an integer from 1 to 1024`},
		{in: "xdp-meta:cache=4", error: `design "xdp-meta:cache=4": option "cache" does not apply to xdp-meta`},
		{in: "rfc:size=4", error: `design "rfc:size=4": unknown option "size"`},
		{in: "rfc:cache=4:cache=8", error: `option "cache" given twice`},
		{in: "rfc,rfc", error: `design "rfc" listed twice`},
		{in: "all,rfc", error: `design "rfc" listed twice`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := compare.ParseDesigns(tc.in)
			if tc.error != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.error)
				assert.NotContains(t, err.Error(), "\n")
				assert.ErrorIs(t, err, compare.ErrDesign)
				assert.ErrorIs(t, err, errno.EINVAL)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	all, err := compare.ParseDesigns("all")
	require.NoError(t, err)
	require.Len(t, all, len(compare.AllDesigns))
	names := map[string]bool{}
	for _, d := range all {
		names[d.Name] = true
	}
	for _, n := range []string{"rfc", "rfc-coalloc", "rfc-prealloc", "rfc-slim", "ext-buffer", "skb-hash", "skb-hash-lru", "xdp-meta"} {
		assert.True(t, names[n], n)
	}
}

// TestRealCapture compares the designs on a real desktop capture through
// the built-in scenario, when the shared captures are present: the
// structural facts hold on traffic the generator did not make.
func TestRealCapture(t *testing.T) {
	pcap := filepath.Join("..", "..", "shared", "pcaps", "pcapplusplus__example.pcap")
	if _, err := os.Stat(pcap); err != nil {
		t.Skip("shared captures not present")
	}
	s, err := sim.Builtin(sim.DefaultScenarioName)
	require.NoError(t, err)
	res, err := compare.Run(s, []string{pcap}, designs(t, "rfc,rfc-coalloc,rfc-slim,ext-buffer,xdp-meta"), compare.Options{})
	require.NoError(t, err)
	require.True(t, res.Complete)
	rfc, co, slim, ext := res.Design("rfc"), res.Design("rfc-coalloc"), res.Design("rfc-slim"), res.Design("ext-buffer")
	require.Positive(t, ext.AllocsPerPacket, "some packets are written")
	// One extension per first write under every extension design.
	assert.InDelta(t, ext.AllocsPerPacket, rfc.AllocsPerPacket/3, 1e-3)
	assert.InDelta(t, ext.AllocsPerPacket, co.AllocsPerPacket/2, 1e-3)
	assert.InDelta(t, ext.AllocsPerPacket, slim.AllocsPerPacket/2, 1e-3)
	// xdp-meta keeps no metadata in allocated objects, but the built-in
	// scenario's tap clones every received frame, and a tc program writing
	// packet memory unclones the head first (bpf_unclone_prologue): a head
	// copy per write, its bytes the size of the head.
	xdp := res.Design("xdp-meta")
	assert.Greater(t, xdp.BytesPerPacket/xdp.AllocsPerPacket, 512.0, "head copies, not metadata objects")
	for _, d := range res.Designs {
		assert.Empty(t, d.Leak, d.Design)
	}
}
