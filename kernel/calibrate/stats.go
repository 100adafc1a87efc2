package calibrate

import (
	"math"
	"sort"
)

// quantile returns the q-quantile of sorted xs by linear interpolation.
func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	pos := q * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	hi := int(math.Ceil(pos))
	f := pos - float64(lo)
	return sorted[lo]*(1-f) + sorted[hi]*f
}

// summarize returns the median, p10 and p90 of xs.
func summarize(name string, xs []float64) Stat {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return Stat{Name: name, Median: quantile(s, 0.5), P10: quantile(s, 0.1), P90: quantile(s, 0.9), Rounds: len(s)}
}

// converged reports whether the p10..p90 width is within target×median or
// the absolute floor.
func (s Stat) converged(target, floor float64) bool {
	return s.P90-s.P10 <= math.Max(target*math.Abs(s.Median), floor)
}

// sig rounds v to 4 significant digits.
func sig(v float64) float64 {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return v
	}
	p := math.Pow(10, 3-math.Floor(math.Log10(math.Abs(v))))
	return math.Round(v*p) / p
}
