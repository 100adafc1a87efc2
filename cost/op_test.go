package cost

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestOpNamesRoundTrip(t *testing.T) {
	for op := Op(0); op < NumOps; op++ {
		name := op.String()
		assert.NotEmpty(t, name, "op %d has no name", op)
		got, ok := ParseOp(name)
		assert.True(t, ok, "ParseOp(%q)", name)
		assert.Equal(t, op, got, "ParseOp(%q)", name)
	}
	_, ok := ParseOp("nope")
	assert.False(t, ok)
	assert.Equal(t, "op?", NumOps.String())
}

func TestCountsSubMerge(t *testing.T) {
	var c Counts
	c.Inc(OpKmalloc)
	snap := c
	c.Add(OpKmalloc, 2)
	c.Add(OpMemcpyByte, 64)
	d := c.Sub(&snap)
	assert.Equal(t, uint64(2), d[OpKmalloc])
	assert.Equal(t, uint64(64), d[OpMemcpyByte])
	var total Counts
	total.Merge(&c)
	total.Merge(&d)
	assert.Equal(t, uint64(5), total[OpKmalloc])
	assert.Equal(t, uint64(128), total[OpMemcpyByte])
}
