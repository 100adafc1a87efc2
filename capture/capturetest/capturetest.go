// Package capturetest holds test helpers for packages that replay captures:
// generated captures written into a test's temporary directory.
package capturetest

import (
	"bufio"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/capture"
)

// MustGenerate writes capture.Generate(spec) into tb's temporary directory
// and returns the file's path. It fails the test on any error.
func MustGenerate(tb testing.TB, spec capture.GenSpec) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), spec.Preset+".pcap")
	f, err := os.Create(path)
	require.NoError(tb, err)
	w := bufio.NewWriter(f)
	_, err = capture.Generate(w, spec)
	require.NoError(tb, err)
	require.NoError(tb, w.Flush())
	require.NoError(tb, f.Close())
	return path
}
