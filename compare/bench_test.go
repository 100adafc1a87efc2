package compare_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/capture"
	"github.com/skbsim/skbsim/capture/capturetest"
	"github.com/skbsim/skbsim/compare"
	"github.com/skbsim/skbsim/internal/testutil"
	"github.com/skbsim/skbsim/sim"
)

// BenchmarkRun times one comparison of three designs over 500 packets of
// load-balancer traffic: 2 replays per design and 2 for the baseline.
func BenchmarkRun(b *testing.B) {
	pcap := capturetest.MustGenerate(b, capture.GenSpec{Preset: "lb", Seed: testutil.DefaultSeed, Packets: 500})
	s, err := sim.LoadScenario("../examples/edge-lb.yaml")
	require.NoError(b, err)
	ds, err := compare.ParseDesigns("rfc,ext-buffer,skb-hash")
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := compare.Run(s, []string{pcap}, ds, compare.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
