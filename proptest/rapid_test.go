package proptest

import (
	"flag"
	"os"
	"strconv"
	"testing"

	"pgregory.net/rapid"

	"github.com/skbsim/skbsim/internal/testutil"
)

// soakFactor is PROPTEST_SOAK: how many times the CI check counts to run.
func soakFactor(tb testing.TB) int {
	s := os.Getenv("PROPTEST_SOAK")
	if s == "" {
		return 1
	}
	k, err := strconv.Atoi(s)
	if err != nil || k < 1 {
		tb.Fatalf("PROPTEST_SOAK=%q: want a positive integer", s)
	}
	return k
}

// flagSet reports whether name was given on the command line.
func flagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) {
		if f.Name == name {
			set = true
		}
	})
	return set
}

// check runs prop with rapid: checks and steps are the CI budget (times
// PROPTEST_SOAK) unless -rapid.checks / -rapid.steps were given; the seed is
// the project's deterministic seed (SKBSIM_TEST_SEED) unless -rapid.seed was
// given. Fail files in testdata/rapid/<test>/ are replayed first.
func check(t *testing.T, checks, steps int, prop func(*rapid.T)) {
	t.Helper()
	k := soakFactor(t)
	restore := map[string]string{}
	set := func(name, v string) {
		if flagSet(name) {
			return
		}
		f := flag.Lookup(name)
		restore[name] = f.Value.String()
		if err := f.Value.Set(v); err != nil {
			t.Fatal(err)
		}
	}
	set("rapid.checks", strconv.Itoa(checks*k))
	set("rapid.steps", strconv.Itoa(steps))
	set("rapid.seed", strconv.FormatUint(uint64(testutil.Seed(t))+uint64(len(t.Name())), 10))
	defer func() {
		for n, v := range restore {
			_ = flag.Lookup(n).Value.Set(v)
		}
	}()
	rapid.Check(t, prop)
}
