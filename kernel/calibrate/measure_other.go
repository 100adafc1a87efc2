//go:build !linux

package calibrate

import (
	"context"
	"errors"
	"fmt"

	"github.com/skbsim/skbsim/cost"
)

// Run needs Linux; elsewhere it returns an error wrapping
// errors.ErrUnsupported.
func Run(ctx context.Context, opts Options) (cost.Table, error) {
	return cost.Table{}, fmt.Errorf("calibrate: needs Linux: %w", errors.ErrUnsupported)
}

// Measure needs Linux; elsewhere it returns an error wrapping
// errors.ErrUnsupported.
func Measure(ctx context.Context, opts Options) (*Report, error) {
	return nil, fmt.Errorf("calibrate: needs Linux: %w", errors.ErrUnsupported)
}

// RunToFile needs Linux; elsewhere it returns an error wrapping
// errors.ErrUnsupported.
func RunToFile(ctx context.Context, path string, opts Options) (*Report, error) {
	return nil, fmt.Errorf("calibrate: needs Linux: %w", errors.ErrUnsupported)
}
