package cost_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/kmem"
)

// TestSizeClassesMirrorKmem keeps cost's copy of the class list equal to
// kmem's (kmem imports cost, so cost cannot import kmem).
func TestSizeClassesMirrorKmem(t *testing.T) {
	assert.Equal(t, kmem.Classes[:], cost.SizeClasses[:])
	assert.Equal(t, kmem.NumClasses, cost.NumSizeClasses)
	assert.Equal(t, kmem.LargeClass, cost.LargeSizeClass)
	for i := 0; i < kmem.NumClasses; i++ {
		assert.Equal(t, kmem.ClassName(i), cost.SizeClassName(i))
		got, ok := cost.ParseSizeClass(kmem.ClassName(i))
		assert.True(t, ok)
		assert.Equal(t, i, got)
	}
	assert.Empty(t, cost.SizeClassName(-1))
	_, ok := cost.ParseSizeClass("kmalloc-100")
	assert.False(t, ok)
}
