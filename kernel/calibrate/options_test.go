package calibrate

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestQuantileAndSummarize(t *testing.T) {
	s := summarize("x", []float64{5, 1, 4, 2, 3})
	assert.Equal(t, 3.0, s.Median)
	assert.InDelta(t, 1.4, s.P10, 1e-12)
	assert.InDelta(t, 4.6, s.P90, 1e-12)
	assert.Equal(t, 5, s.Rounds)
	assert.True(t, math.IsNaN(quantile(nil, 0.5)))
	assert.True(t, s.converged(1.1, 0))
	assert.False(t, s.converged(0.5, 1))
	assert.True(t, s.converged(0.5, 3.2))
}

func TestSig(t *testing.T) {
	for _, tc := range []struct{ in, want float64 }{
		{123.456, 123.5}, {0.0123456, 0.01235}, {98765, 98770}, {0, 0}, {-1.23456, -1.235},
	} {
		assert.InDelta(t, tc.want, sig(tc.in), 1e-12*math.Max(1, math.Abs(tc.want)), "%v", tc.in)
	}
}

func TestWithDefaults(t *testing.T) {
	o := Options{MinRounds: 50}.withDefaults()
	d := DefaultOptions()
	assert.Equal(t, d.Iterations, o.Iterations)
	assert.Equal(t, 50, o.MaxRounds, "MaxRounds raised to MinRounds")
	assert.Equal(t, d.TargetSpread, o.TargetSpread)
}

func TestDeriveArithmetic(t *testing.T) {
	v := map[string]float64{
		"spin_lock_pair": 14, "helper_call": 1, "copy_big": 4032*0.01 + 6, "copy_small": 6,
		"walk_deep": 31*2 + 10, "walk_shallow": 10, "lru_evict_insert": 300, "lru_insert": 200, "sk_lookup": 3,
	}
	for _, c := range skClasses() {
		v["sk_create/"+classNameOf(c)] = 200
		v["sk_delete/"+classNameOf(c)] = 80
	}
	derive(v)
	assert.InDelta(t, 12, v["lock"], 1e-9)
	assert.InDelta(t, 0.01, v["memcpy_byte"], 1e-12)
	assert.InDelta(t, 2, v["list_walk_step"], 1e-9)
	assert.InDelta(t, 100, v["lru_evict"], 1e-9)
	assert.InDelta(t, 2, v["storage_cache_hit"], 1e-9)
	// create 200 - (helper 1 + 2 lock 24 + 2 walk 4)
	assert.InDelta(t, 171, v["kmalloc/kmalloc-96"], 1e-9)
	// delete 80 - (1 + 24 + 2)
	assert.InDelta(t, 53, v["kfree_rcu"], 1e-9)
}

func TestSkValueSizesSpanClasses(t *testing.T) {
	got := skClasses()
	for i := 1; i < len(got); i++ {
		assert.Equal(t, got[i-1]+1, got[i], "consecutive classes")
	}
	assert.Equal(t, "kmalloc-96", classNameOf(got[0]))
	assert.Equal(t, "kmalloc-large", classNameOf(got[len(got)-1]))
}
