//go:build !linux

package diff

import "context"

// Run runs the differential suites; it needs the running Linux kernel.
func Run(ctx context.Context, opts Options) (Report, error) {
	return Report{}, ErrNeedsLinux
}
