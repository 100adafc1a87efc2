package calibrate

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCollidingKeys(t *testing.T) {
	keys := collidingKeys(8, 64, 1000)
	assert.Len(t, keys, 8)
	for i, k := range keys {
		assert.Zero(t, htabHash64(k)&63)
		if i > 0 {
			assert.Greater(t, k, keys[i-1])
		}
	}
}
