package localstorage

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/internal/testutil"
	"github.com/skbsim/skbsim/kmem"
)

var (
	envsMu sync.Mutex
	envs   []*Env
)

// TestMain fails the run when an Env made by newTestEnv still holds
// objects after Close (the per-test cleanup reports it too, naming the
// test).
func TestMain(m *testing.M) {
	code := m.Run()
	envsMu.Lock()
	defer envsMu.Unlock()
	for _, e := range envs {
		e.Close()
		if o, b := e.Acct().Live(); o != 0 {
			fmt.Fprintf(os.Stderr, "localstorage leak check: %d objects (%d bytes) live\n", o, b)
			code = 1
		}
	}
	os.Exit(code)
}

// newTestEnv returns an Env whose leak check runs at the end of the test:
// every map is freed (unlinking every element of every owner), a grace
// period ends, and the accountant must then hold no object and no pending
// free.
func newTestEnv(t testing.TB, cfg Config) *Env {
	t.Helper()
	if cfg.Acct == nil {
		cfg.Acct = kmem.New()
	}
	e := NewEnv(cfg)
	envsMu.Lock()
	envs = append(envs, e)
	envsMu.Unlock()
	t.Cleanup(func() { checkNoLeak(t, e) })
	return e
}

func checkNoLeak(t testing.TB, e *Env) {
	t.Helper()
	e.Close()
	st := e.Acct().Stats()
	if st.LiveObjects != 0 || st.LiveBytes != 0 || st.PendingRCU != 0 {
		t.Errorf("leak: %d objects (%d bytes) live, %d pending after Close", st.LiveObjects, st.LiveBytes, st.PendingRCU)
		for i := 1; i < kmem.NumSites(); i++ {
			c := st.BySite[i]
			if c.Allocs != c.Frees+c.DeferredFrees {
				t.Errorf("  site %s: %d allocs, %d frees, %d deferred", kmem.Site(i), c.Allocs, c.Frees, c.DeferredFrees)
			}
		}
	}
}

func mustMap(t testing.TB, e *Env, spec MapSpec) *Map {
	t.Helper()
	m, err := e.CreateMap(spec)
	require.NoError(t, err)
	return m
}

// setRapidSeed makes rapid use the project's deterministic seed unless
// -rapid.seed was given, and raises the default step count.
func setRapidSeed(t *testing.T) {
	if f := flag.Lookup("rapid.steps"); f != nil && f.Value.String() == "30" {
		require.NoError(t, f.Value.Set("150"))
	}
	f := flag.Lookup("rapid.seed")
	if f == nil || f.Value.String() != "0" {
		return
	}
	require.NoError(t, f.Value.Set(strconv.FormatUint(uint64(testutil.Seed(t)), 10)))
}

func bytesOf(n int, b byte) []byte {
	v := make([]byte, n)
	for i := range v {
		v[i] = b
	}
	return v
}
