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
