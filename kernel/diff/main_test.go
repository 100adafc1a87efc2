package diff

import (
	"flag"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/internal/testutil"
)

// setRapid makes rapid use the project's deterministic seed unless
// -rapid.seed was given, and keeps rapid from writing fail files (a
// failure prints its seed).
func setRapid(t *testing.T) {
	t.Helper()
	if f := flag.Lookup("rapid.seed"); f != nil && f.Value.String() == "0" {
		require.NoError(t, f.Value.Set(strconv.FormatUint(uint64(testutil.Seed(t)), 10)))
		t.Cleanup(func() { f.Value.Set("0") })
	}
	if f := flag.Lookup("rapid.nofailfile"); f != nil {
		require.NoError(t, f.Value.Set("true"))
	}
}
