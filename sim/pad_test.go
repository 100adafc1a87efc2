package sim

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/capture"
	"github.com/skbsim/skbsim/capture/capturetest"
)

// TestPadTruncated: a capture cut to 160 bytes a packet (every header of
// the lb capture's packets, IPIP included, fits) loses its longer packets
// to PKT_TOO_SMALL drops when replayed as it is. With PadTruncated, each
// is padded back to its wire length with zeros and the report is the
// original capture's, replayed with IgnoreChecksums (which PadTruncated
// implies): the same outcomes, drops, program runs, reads and stack
// counters; only the payload bytes differ.
func TestPadTruncated(t *testing.T) {
	orig := capturetest.MustGenerate(t, capture.GenSpec{Preset: "lb", Seed: 1})
	cut, n := capturetest.MustTruncate(t, orig, 160)
	require.Positive(t, n)
	s := mustBuiltin(t)

	plain := mustReplay(t, s, []string{cut}, Options{})
	assert.Positive(t, Count(plain.Drops, "PKT_TOO_SMALL"), "ip_rcv drops what the capture cut short")
	assert.Zero(t, plain.Files[0].Padded)

	padded := mustReplay(t, s, []string{cut}, Options{PadTruncated: true})
	want := mustReplay(t, s, []string{orig}, Options{IgnoreChecksums: true})
	assert.Equal(t, n, padded.Files[0].Padded)
	assert.Zero(t, Count(padded.Drops, "PKT_TOO_SMALL"))
	assert.Equal(t, want.Outcomes, padded.Outcomes)
	assert.Equal(t, want.Drops, padded.Drops)
	assert.Equal(t, want.Programs, padded.Programs)
	assert.Equal(t, want.Reads, padded.Reads)
	assert.Equal(t, want.Stack, padded.Stack)
	assert.Zero(t, padded.LiveObjectsAtEnd)
}

// TestPadTruncatedFragments: the driver completes a padded packet's own
// TCP or UDP checksum, and a datagram reassembled from padded fragments,
// whose payload the zeros replaced, keeps its sender's checksum
// (netstack.Options.TrustReassembledCsum): the demo capture's fragmented
// UDP datagram reaches NO_SOCKET as in the original capture, not UDP_CSUM.
// Nothing is dropped as too small.
func TestPadTruncatedFragments(t *testing.T) {
	orig := capturetest.MustGenerate(t, capture.GenSpec{Preset: "demo", Seed: 1})
	cut, _ := capturetest.MustTruncate(t, orig, 160)
	s := mustBuiltin(t)
	padded := mustReplay(t, s, []string{cut}, Options{PadTruncated: true})
	want := mustReplay(t, s, []string{orig}, Options{IgnoreChecksums: true})
	assert.Zero(t, Count(padded.Drops, "PKT_TOO_SMALL"))
	assert.Equal(t, want.Drops, padded.Drops, "the reassembled datagram's checksum is the sender's")
	assert.Equal(t, want.Outcomes, padded.Outcomes)
}
