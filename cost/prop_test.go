package cost

import (
	"flag"
	"math"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/skbsim/skbsim/internal/testutil"
)

func setRapidSeed(t *testing.T) {
	f := flag.Lookup("rapid.seed")
	if f == nil || f.Value.String() != "0" {
		return
	}
	require.NoError(t, f.Value.Set(strconv.FormatUint(uint64(testutil.Seed(t)), 10)))
}

func drawCounts(t *rapid.T, label string) (Counts, [NumSizeClasses]uint64, [NumSizeClasses]uint64) {
	var c Counts
	var a, f [NumSizeClasses]uint64
	for op := Op(0); op < NumOps; op++ {
		c[op] = rapid.Uint64Range(0, 1000).Draw(t, label+op.String())
	}
	for i := range a {
		a[i] = rapid.Uint64Range(0, 50).Draw(t, label+"alloc"+SizeClassName(i))
		f[i] = rapid.Uint64Range(0, 50).Draw(t, label+"free"+SizeClassName(i))
	}
	// the class counts stay within the totals, as kmem records them
	var sa, sf uint64
	for i := range a {
		sa += a[i]
		sf += f[i]
	}
	c[OpKmalloc] += sa
	c[OpKfree] += sf
	return c, a, f
}

// TestEstimateProperties: estimates of the default table are additive over
// operation counts and keep Low <= NS <= High.
func TestEstimateProperties(t *testing.T) {
	setRapidSeed(t)
	tab := Default()
	rapid.Check(t, func(t *rapid.T) {
		c1, a1, f1 := drawCounts(t, "x.")
		c2, a2, f2 := drawCounts(t, "y.")
		r1 := tab.Estimate(c1, &a1, &f1)
		r2 := tab.Estimate(c2, &a2, &f2)
		var c Counts
		c.Merge(&c1)
		c.Merge(&c2)
		var a, f [NumSizeClasses]uint64
		for i := range a {
			a[i], f[i] = a1[i]+a2[i], f1[i]+f2[i]
		}
		r := tab.Estimate(c, &a, &f)
		tol := 1e-9 * math.Max(1, r.High)
		if math.Abs(r.NS-(r1.NS+r2.NS)) > tol || math.Abs(r.Low-(r1.Low+r2.Low)) > tol || math.Abs(r.High-(r1.High+r2.High)) > tol {
			t.Fatalf("not additive: %+v + %+v != %+v", r1, r2, r)
		}
		if r.Low > r.NS+tol || r.NS > r.High+tol || r.Low < 0 {
			t.Fatalf("spread out of order: %+v", r)
		}
	})
}
