package errno_test

import (
	"errors"
	"fmt"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/skbsim/skbsim/internal/errno"
)

func TestSentinelMatchesErrno(t *testing.T) {
	errNotFound := errno.New("element not found", errno.ENOENT)
	err := fmt.Errorf("lookup: %w", errNotFound)
	tests := []struct {
		name   string
		target error
		want   bool
	}{
		{"sentinel", errNotFound, true},
		{"Errno", errno.ENOENT, true},
		{"syscall.Errno", syscall.Errno(2), true},
		{"other Errno", errno.EEXIST, false},
		{"other syscall.Errno", syscall.Errno(17), false},
		{"other sentinel with the same errno", errno.New("element not found", errno.ENOENT), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, errors.Is(err, tt.target), "errors.Is(%v, %v)", err, tt.target)
		})
	}
	assert.Equal(t, errno.ENOENT, errno.Of(err))
	assert.Equal(t, errno.Errno(17), errno.Of(fmt.Errorf("x: %w", syscall.Errno(17))))
	assert.Equal(t, errno.Errno(0), errno.Of(errors.New("plain")))
	assert.Equal(t, "element not found (ENOENT)", errNotFound.Error())
	assert.Equal(t, "errno 300", errno.Errno(300).Name())
}

func ExampleNew() {
	errExists := errno.New("element exists", errno.EEXIST)
	err := fmt.Errorf("update sk=3 map=m: %w", errExists)
	fmt.Println(err, errors.Is(err, errno.EEXIST), errno.Of(err) == errno.EEXIST)
	// Output: update sk=3 map=m: element exists (EEXIST) true true
}
