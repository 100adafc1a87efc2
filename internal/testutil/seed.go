package testutil

import (
	"os"
	"strconv"
	"testing"
)

// DefaultSeed is the seed used when SKBSIM_TEST_SEED is unset.
const DefaultSeed int64 = 1

// Seed returns the seed for a randomised test: SKBSIM_TEST_SEED when set,
// DefaultSeed otherwise. It logs the seed so a failing run can be replayed.
func Seed(tb testing.TB) int64 {
	tb.Helper()
	seed := DefaultSeed
	if s := os.Getenv("SKBSIM_TEST_SEED"); s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			tb.Fatalf("SKBSIM_TEST_SEED=%q: %v", s, err)
		}
		seed = v
	}
	tb.Logf("SKBSIM_TEST_SEED=%d", seed)
	return seed
}
