package capturetest_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/capture"
	"github.com/skbsim/skbsim/capture/capturetest"
)

func TestMustGenerate(t *testing.T) {
	path := capturetest.MustGenerate(t, capture.GenSpec{Preset: "demo", Seed: 1, Packets: 20})
	r, err := capture.Open(path)
	require.NoError(t, err)
	defer r.Close()
	n := 0
	for {
		_, err := r.Next()
		if err != nil {
			break
		}
		n++
	}
	require.Equal(t, 20, n)
}

// TestMustTruncate: every packet is cut to the snaplen, keeps its wire
// length and its first bytes, and the count of cut packets is right.
func TestMustTruncate(t *testing.T) {
	src := capturetest.MustGenerate(t, capture.GenSpec{Preset: "demo", Seed: 1, Packets: 50})
	cut, n := capturetest.MustTruncate(t, src, 100)
	a, err := capture.Open(src)
	require.NoError(t, err)
	defer a.Close()
	b, err := capture.Open(cut)
	require.NoError(t, err)
	defer b.Close()
	var want int64
	for {
		p, err := a.Next()
		if err != nil {
			break
		}
		orig, origLen := append([]byte(nil), p.Data...), p.OrigLen
		q, err := b.Next()
		require.NoError(t, err)
		require.Equal(t, origLen, q.OrigLen)
		require.Equal(t, orig[:min(len(orig), 100)], q.Data)
		if len(orig) > 100 {
			want++
		}
	}
	require.Positive(t, want)
	require.Equal(t, want, n)
}
