package mutants

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMutantsApply checks that every mutant's search text occurs exactly
// once in the current source, so that a moved or rewritten line shows up
// here instead of as a silently stale mutant.
func TestMutantsApply(t *testing.T) {
	require.GreaterOrEqual(t, len(List), 12)
	names := map[string]bool{}
	for _, m := range List {
		t.Run(m.Name, func(t *testing.T) {
			require.False(t, names[m.Name], "duplicate mutant name")
			names[m.Name] = true
			require.NotEmpty(t, m.Pkgs, "no packages to test")
			require.NotEqual(t, m.Old, m.New)
			src, err := os.ReadFile(filepath.Join("..", "..", m.File))
			require.NoError(t, err)
			out, err := m.Apply(src)
			require.NoError(t, err)
			require.NotEqual(t, string(src), string(out))
			for _, p := range m.Pkgs {
				require.DirExists(t, filepath.Join("..", "..", p))
			}
		})
	}
}

func TestApplyRefusesStale(t *testing.T) {
	m := Mutant{Name: "x", File: "f.go", Old: "a", New: "b"}
	_, err := m.Apply([]byte("a a"))
	require.ErrorContains(t, err, "found 2 times")
	_, err = m.Apply([]byte("c"))
	require.ErrorContains(t, err, "found 0 times")
	out, err := m.Apply([]byte("ca"))
	require.NoError(t, err)
	require.Equal(t, "cb", string(out))
}
