package sim

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
)

// TestWireSize: a batch slot is one cache line (see wire).
func TestWireSize(t *testing.T) {
	assert.EqualValues(t, 64, unsafe.Sizeof(wire{}))
}
