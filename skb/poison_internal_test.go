package skb

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestPoisonBytes checks that poisonBytes fills exactly its slice with
// POISON_FREE, below, at and across the size of its source block.
func TestPoisonBytes(t *testing.T) {
	for _, n := range []int{0, 1, 63, PageSize - 1, PageSize, PageSize + 1, 3*PageSize + 5} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			buf := make([]byte, n+2)
			poisonBytes(buf[1 : n+1])
			assert.Zero(t, buf[0], "byte before the slice")
			assert.Zero(t, buf[n+1], "byte after the slice")
			assert.True(t, bytes.Equal(buf[1:n+1], bytes.Repeat([]byte{poisonByte}, n)), "every byte poisoned")
		})
	}
}

func BenchmarkPoisonBytes(b *testing.B) {
	for _, n := range []int{64, SmallHeadCacheSize, 2048, PageSize} {
		buf := make([]byte, n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for b.Loop() {
				poisonBytes(buf)
			}
		})
	}
}
