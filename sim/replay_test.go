package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/capture"
	"github.com/skbsim/skbsim/capture/capturetest"
	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/internal/testutil"
	"github.com/skbsim/skbsim/netstack"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func mustBuiltin(tb testing.TB) *Scenario {
	tb.Helper()
	s, err := Builtin(DefaultScenarioName)
	require.NoError(tb, err)
	return s
}

func mustReplay(tb testing.TB, s *Scenario, files []string, opts Options) *Report {
	tb.Helper()
	rep, err := Replay(s, files, opts)
	require.NoError(tb, err)
	require.NotNil(tb, rep)
	return rep
}

// checkGolden compares got with testdata/name, or rewrites it with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "missing golden file; run go test ./sim -update")
	if d := lineDiff(string(want), string(got)); d != "" {
		t.Errorf("%s differs (-want +got); if the change is intended, run go test ./sim -update and review the diff:\n%s", path, d)
	}
}

// lineDiff lists the lines that differ between want and got, position by
// position (reports keep their layout, so this is enough to read a change).
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(w), len(g)) && shown < 30; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n-%s\n+%s\n", i+1, wl, gl)
			shown++
		}
	}
	return b.String()
}

// TestGoldenReports pins the three report formats of the built-in scenario
// on generated captures.
func TestGoldenReports(t *testing.T) {
	for _, preset := range []string{"demo", "mixed"} {
		t.Run(preset, func(t *testing.T) {
			pcap := capturetest.MustGenerate(t, capture.GenSpec{Preset: preset, Seed: 1})
			rep := mustReplay(t, mustBuiltin(t), []string{pcap}, Options{})
			rep.Files[0].Name = preset + ".pcap" // the temporary directory differs per run
			for _, format := range Formats {
				var buf bytes.Buffer
				require.NoError(t, rep.Write(&buf, format))
				checkGolden(t, preset+"."+format, buf.Bytes())
			}
			assert.True(t, rep.Complete)
			assert.Zero(t, rep.LiveObjectsAtEnd)
			assert.Empty(t, rep.Leaks)
		})
	}
}

// TestWorkersIdentical checks that the JSON report does not depend on -j.
func TestWorkersIdentical(t *testing.T) {
	pcap := capturetest.MustGenerate(t, capture.GenSpec{Preset: "mixed", Seed: testutil.Seed(t), Packets: 4000})
	s := mustBuiltin(t)
	var want []byte
	// Workers 0 stands for a traced single-worker run, which replays in
	// capture order (inline) where an untraced one goes shard by shard.
	for _, j := range []int{1, 2, 3, 7, 0} {
		opts := Options{Workers: j}
		if j == 0 {
			opts = Options{Workers: 1, Trace: io.Discard}
		}
		rep := mustReplay(t, s, []string{pcap}, opts)
		var buf bytes.Buffer
		require.NoError(t, rep.WriteJSON(&buf))
		if want == nil {
			want = buf.Bytes()
			assert.EqualValues(t, 4000, rep.PacketsRead)
			continue
		}
		assert.Equal(t, string(want), buf.String(), "-j %d report differs from -j 1 (0: traced)", j)
	}
}

// TestDamagedCapture truncates a generated capture: the report covers every
// packet before the damage and says where reading stopped.
func TestDamagedCapture(t *testing.T) {
	pcap := capturetest.MustGenerate(t, capture.GenSpec{Preset: "demo", Seed: 1})
	data, err := os.ReadFile(pcap)
	require.NoError(t, err)
	cut := filepath.Join(t.TempDir(), "cut.pcap")
	require.NoError(t, os.WriteFile(cut, data[:len(data)/2+7], 0o644))

	for _, j := range []int{1, 2} {
		rep, err := Replay(mustBuiltin(t), []string{cut}, Options{Workers: j})
		require.Error(t, err)
		var ce *capture.Error
		require.True(t, errors.As(err, &ce), "error %v is a *capture.Error", err)
		require.NotNil(t, rep)
		assert.False(t, rep.Complete)
		assert.Equal(t, err.Error(), rep.Error)
		assert.Equal(t, ce.Index, rep.PacketsRead, "the report covers the packets before the damage")
		assert.Positive(t, rep.PacketsRead)
		assert.Contains(t, rep.Error, cut)
		assert.Zero(t, rep.LiveObjectsAtEnd)

		var m map[string]any
		var buf bytes.Buffer
		require.NoError(t, rep.WriteJSON(&buf))
		require.NoError(t, json.Unmarshal(buf.Bytes(), &m))
		assert.Equal(t, false, m["complete"])
		assert.Equal(t, rep.Error, m["error"])
	}
}

// TestJSONContract checks the keys other tools rely on.
func TestJSONContract(t *testing.T) {
	pcap := capturetest.MustGenerate(t, capture.GenSpec{Preset: "demo", Seed: 2, Packets: 50})
	rep := mustReplay(t, mustBuiltin(t), []string{pcap}, Options{})
	var buf bytes.Buffer
	require.NoError(t, rep.WriteJSON(&buf))
	var m map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &m))
	assert.Equal(t, float64(50), m["packets_read"])
	assert.Equal(t, true, m["complete"])
	assert.Equal(t, float64(0), m["live_objects_at_end"])
	assert.IsType(t, map[string]any{}, m["allocations"])
	_, hasErr := m["error"]
	assert.False(t, hasErr, "error is only present when the run is incomplete")
}

func TestReplayErrors(t *testing.T) {
	s := mustBuiltin(t)
	_, err := Replay(s, nil, Options{})
	assert.Error(t, err)
	_, err = Replay(s, []string{filepath.Join(t.TempDir(), "missing.pcap")}, Options{})
	assert.ErrorContains(t, err, "missing.pcap")
	pcap := capturetest.MustGenerate(t, capture.GenSpec{Preset: "demo", Seed: 1, Packets: 5})
	_, err = Replay(s, []string{pcap}, Options{Design: "nonesuch"})
	assert.ErrorIs(t, err, carrier.ErrUnknown)
	assert.ErrorContains(t, err, `design "nonesuch"`)
	_, err = Replay(s, []string{pcap}, Options{Workers: -1})
	assert.Error(t, err)
}

// TestInjectDoesNotAllocate checks the steady-state per-packet path of the
// engine and the stack (no carrier): a shard replaying packets of flows it
// has seen allocates nothing on the Go heap.
func TestInjectDoesNotAllocate(t *testing.T) {
	s := mustBuiltin(t)
	s.Maps = nil
	for i := range s.Stack.Programs {
		p := &s.Stack.Programs[i]
		p.Actions = []netstack.Action{{Kind: netstack.ActCount}, {Kind: netstack.ActSetMark, Value: 7}}
	}
	assert.Zero(t, injectAllocs(t, s), "Go heap allocations per replayed packet")
}

// TestInjectAllocsPerDesign measures the same path with every design: the
// carriers do not allocate on the Go heap per packet either.
func TestInjectAllocsPerDesign(t *testing.T) {
	for _, design := range carrier.Names() {
		t.Run(design, func(t *testing.T) {
			s := mustBuiltin(t)
			s.Design = design
			assert.Zero(t, injectAllocs(t, s), "Go heap allocations per packet with design %s", design)
		})
	}
}

// injectAllocs replays a generated capture twice through one shard and
// returns the Go heap allocations per packet of the second pass.
func injectAllocs(t *testing.T, s *Scenario) float64 {
	t.Helper()
	s.Shards = 1
	pcap := capturetest.MustGenerate(t, capture.GenSpec{Preset: "demo", Seed: 1, Packets: 400})
	m, err := newMachine(s, Options{})
	require.NoError(t, err)
	defer m.finish(&Report{})
	r, err := capture.Open(pcap)
	require.NoError(t, err)
	defer r.Close()
	dec := capture.NewDecoder()
	var pkts []Packet
	for {
		p, err := r.Next()
		if err != nil {
			break
		}
		var q Packet
		q.ID, q.Link, q.OrigLen, q.Timestamp, q.Data = p.Index, p.LinkType, p.OrigLen, p.Timestamp, bytes.Clone(p.Data)
		dec.Decode(p, &q.Dec)
		pkts = append(pkts, q)
	}
	sh := m.shards[0]
	for i := range pkts { // warm up pools, queues and the carrier
		sh.inject(&pkts[i])
	}
	i := 0
	return testing.AllocsPerRun(len(pkts), func() {
		sh.inject(&pkts[i%len(pkts)])
		i++
	})
}

func BenchmarkReplay(b *testing.B) {
	pcap := capturetest.MustGenerate(b, capture.GenSpec{Preset: "large", Seed: 1, Packets: 20000})
	s := mustBuiltin(b)
	for _, j := range []int{1, 2} {
		b.Run("j"+string(rune('0'+j)), func(b *testing.B) {
			b.ReportAllocs()
			var n int64
			for b.Loop() {
				rep, err := Replay(s, []string{pcap}, Options{Workers: j})
				if err != nil {
					b.Fatal(err)
				}
				n += rep.PacketsRead
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "packets/s")
		})
	}
}

// TestReplayStreams checks that the parallel pipeline neither keeps
// packets nor allocates per packet: four times the packets cost (almost) no
// more Go heap allocations. Both runs are long enough for the pools to have
// grown to what the stack holds at once (GRO keeps skbs across a NAPI
// poll; fragment queues start with the first fragment a shard sees).
func TestReplayStreams(t *testing.T) {
	s := mustBuiltin(t)
	s.Maps = nil
	for i := range s.Stack.Programs {
		s.Stack.Programs[i].Actions = []netstack.Action{{Kind: netstack.ActCount}}
	}
	small := capturetest.MustGenerate(t, capture.GenSpec{Preset: "large", Seed: 1, Packets: 10000})
	big := capturetest.MustGenerate(t, capture.GenSpec{Preset: "large", Seed: 1, Packets: 40000})
	mallocs := func(pcap string) uint64 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		mustReplay(t, s, []string{pcap}, Options{Workers: 2})
		runtime.ReadMemStats(&after)
		return after.Mallocs - before.Mallocs
	}
	mallocs(small) // warm up package-level state
	a, b := mallocs(small), mallocs(big)
	perPacket := (float64(b) - float64(a)) / 30000
	t.Logf("Go heap allocations: %d for 10000 packets, %d for 40000: %.4f per extra packet", a, b, perPacket)
	assert.Less(t, perPacket, 0.05, "Go heap allocations per extra packet (%d for 10000 packets, %d for 40000)", a, b)
}

// TestSeveralCaptures replays two captures as one stream: packet ids go
// on counting across them.
func TestSeveralCaptures(t *testing.T) {
	a := capturetest.MustGenerate(t, capture.GenSpec{Preset: "demo", Seed: 1, Packets: 30})
	b := capturetest.MustGenerate(t, capture.GenSpec{Preset: "mixed", Seed: 2, Packets: 50})
	var trace bytes.Buffer
	rep := mustReplay(t, mustBuiltin(t), []string{a, b}, Options{Trace: &trace, TracePackets: []int64{29, 30}})
	assert.EqualValues(t, 80, rep.PacketsRead)
	require.Len(t, rep.Files, 2)
	assert.EqualValues(t, 30, rep.Files[0].Packets)
	assert.EqualValues(t, 50, rep.Files[1].Packets)
	assert.Contains(t, trace.String(), "packet 29: ")
	assert.Contains(t, trace.String(), "packet 30: ", "the first packet of the second capture is packet 30")
	assert.NotContains(t, trace.String(), "packet 31: ")
}

// TestLinkTypes replays captures without Ethernet headers: every packet
// gets an Ethernet header addressed to the entry device and runs the
// NIC's XDP program.
func TestLinkTypes(t *testing.T) {
	for _, link := range []capture.LinkType{capture.LinkLinuxSLL, capture.LinkSLL2, capture.LinkRaw} {
		t.Run(link.String(), func(t *testing.T) {
			pcap := capturetest.MustGenerate(t, capture.GenSpec{Preset: "demo", Seed: 1, Packets: 200, Link: link})
			rep := mustReplay(t, mustBuiltin(t), []string{pcap}, Options{})
			assert.Zero(t, Count(rep.Outcomes, outcomeNames[outNotEthernet]))
			assert.Zero(t, Count(rep.Outcomes, outcomeNames[outRejected]))
			assert.EqualValues(t, rep.PacketsRead, rep.Program("xdp_tag").Runs)
			assert.Positive(t, Count(rep.Outcomes, "transmitted by a device"), "IPv4 packets are forwarded")
		})
	}
}

// TestKeepDstMAC replays frames addressed to other hosts as captured:
// eth_type_trans marks them PACKET_OTHERHOST and ip_rcv drops them. With
// the destinations rewritten, only the frames with a VLAN id are
// OTHERHOST (check_vlan_id: the scenario has no VLAN devices).
func TestKeepDstMAC(t *testing.T) {
	pcap := capturetest.MustGenerate(t, capture.GenSpec{Preset: "demo", Seed: 1, Packets: 200})
	s := mustBuiltin(t)
	rep := mustReplay(t, s, []string{pcap}, Options{})
	vlanIDs := 0
	r, err := capture.Open(pcap)
	require.NoError(t, err)
	for {
		p, err := r.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		if et := uint16(p.Data[12])<<8 | uint16(p.Data[13]); (et == 0x8100 || et == 0x88a8) && (uint16(p.Data[14])<<8|uint16(p.Data[15]))&0xfff != 0 {
			vlanIDs++
		}
	}
	require.NoError(t, r.Close())
	require.Positive(t, vlanIDs, "the demo mix has VLAN-tagged frames")
	assert.EqualValues(t, vlanIDs, Count(rep.Drops, "OTHERHOST"))
	s.KeepDstMAC = true
	kept := mustReplay(t, s, []string{pcap}, Options{})
	assert.Positive(t, Count(kept.Drops, "OTHERHOST"))
	assert.Zero(t, Count(kept.Outcomes, "transmitted by a device"))
}

// TestPoisonFreeChangesNothing checks that no design reads bytes nobody
// wrote: the report with freed buffers poisoned (slub_debug=P) is the
// report with recycled buffers keeping the previous packet's bytes.
func TestPoisonFreeChangesNothing(t *testing.T) {
	pcap := capturetest.MustGenerate(t, capture.GenSpec{Preset: "mixed", Seed: testutil.Seed(t), Packets: 3000})
	s := mustBuiltin(t)
	for _, design := range carrier.Names() {
		t.Run(design, func(t *testing.T) {
			var reports [2]string
			for i, poison := range []bool{false, true} {
				rep := mustReplay(t, s, []string{pcap}, Options{Design: design, PoisonFree: poison})
				var buf bytes.Buffer
				require.NoError(t, rep.WriteJSON(&buf))
				reports[i] = buf.String()
			}
			assert.Equal(t, reports[1], reports[0], "design %s: the report depends on freed-buffer poisoning", design)
		})
	}
}
