package compare

import (
	"fmt"
	"math"
	"testing"

	"pgregory.net/rapid"

	"github.com/skbsim/skbsim/cost"
)

func genTally(t *rapid.T, signed bool) tally {
	lo := 0.0
	if signed {
		lo = -1e6
	}
	v := func(label string) float64 { return float64(int64(rapid.Float64Range(lo, 1e6).Draw(t, label))) }
	var tl tally
	for op := cost.Op(0); op < cost.NumOps; op++ {
		if op != cost.OpKmalloc && op != cost.OpKfree && op != cost.OpKfreeRCU {
			tl.ops[op] = v(op.String())
		}
	}
	for i := range tl.allocClass {
		tl.allocClass[i] = v(fmt.Sprint("alloc", i))
		tl.freeClass[i] = v(fmt.Sprint("free", i))
	}
	tl.allocOther, tl.freeOther, tl.deferrals = v("allocOther"), v("freeOther"), v("deferrals")
	return tl
}

func add(a, b tally) tally {
	var zero tally
	return a.sub(zero.sub(b))
}

// Pricing is linear on quantities of one sign, Low <= NS <= High for any
// signs, and a tally minus itself is free.
func TestPriceProperties(t *testing.T) {
	tab := cost.Default()
	up := unitPrices(&tab)
	near := func(t *rapid.T, a, b float64, what string) {
		if math.Abs(a-b) > 1e-6*math.Max(1, math.Abs(a)) {
			t.Fatalf("%s: %v != %v", what, a, b)
		}
	}
	rapid.Check(t, func(t *rapid.T) {
		a, b := genTally(t, false), genTally(t, false)
		pa, pb, pab := up.price(&a), up.price(&b), add(a, b)
		sum := up.price(&pab)
		near(t, pa.NS+pb.NS, sum.NS, "ns")
		near(t, pa.Low+pb.Low, sum.Low, "low")
		near(t, pa.High+pb.High, sum.High, "high")
		s := genTally(t, true)
		r := up.price(&s)
		if r.Low > r.NS+1e-6 || r.NS > r.High+1e-6 {
			t.Fatalf("range out of order: %+v", r)
		}
		z := s.sub(s)
		if got := up.price(&z); got != (cost.Range{}) {
			t.Fatalf("zero tally priced %+v", got)
		}
	})
}

// Every label ParseDesign accepts comes back with the options it names.
func TestParseDesignProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		opt := rapid.SampledFrom(designOptions).Draw(t, "option")
		var names []string
		for _, n := range []string{"rfc", "rfc-coalloc", "rfc-prealloc", "rfc-slim", "ext-buffer", "skb-hash", "skb-hash-lru", "xdp-meta"} {
			if opt.designs(n) {
				names = append(names, n)
			}
		}
		name := rapid.SampledFrom(names).Draw(t, "name")
		n := rapid.IntRange(-5, opt.max+5).Draw(t, "value")
		label := fmt.Sprintf("%s:%s=%d", name, opt.key, n)
		d, err := ParseDesign(label)
		if n < 1 || n > opt.max {
			if err == nil {
				t.Fatalf("%s accepted", label)
			}
			return
		}
		if err != nil {
			t.Fatalf("%s: %v", label, err)
		}
		var want Design
		want.Label, want.Name = label, name
		opt.set(&want, n)
		if d != want {
			t.Fatalf("%s: got %+v, want %+v", label, d, want)
		}
	})
}
