package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/internal/testutil"
	"github.com/skbsim/skbsim/kernel/calibrate"
)

// withMeasure replaces the calibration for one test.
func withMeasure(t *testing.T, f func(context.Context, calibrate.Options) (*calibrate.Report, error)) {
	old := measureTable
	measureTable = f
	t.Cleanup(func() { measureTable = old })
}

func TestCalibrateErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"not linux", fmt.Errorf("calibrate: needs Linux: %w", errors.ErrUnsupported),
			"simrun calibrate: needs Linux: the cost table is measured with BPF programs on the running kernel (calibrate: needs Linux: unsupported operation)\n"},
		{"no privileges", fmt.Errorf("calibrate: load calib_tc: %w", syscall.EPERM),
			"simrun calibrate: needs root (CAP_BPF, CAP_SYS_ADMIN and CAP_PERFMON) to load the measuring programs: calibrate: load calib_tc: operation not permitted\n"},
		{"other", errors.New("calibrate: round 3: timeout"), "simrun calibrate: calibrate: round 3: timeout\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			withMeasure(t, func(context.Context, calibrate.Options) (*calibrate.Report, error) { return nil, tc.err })
			code, out, stderr := simrun(t, "calibrate", "-short")
			assert.Equal(t, exitError, code)
			assert.Empty(t, out)
			assert.Equal(t, tc.want, stderr)
		})
	}
	code, _, stderr := simrun(t, "calibrate", "extra")
	assert.Equal(t, exitError, code)
	assert.Contains(t, stderr, `unexpected argument "extra"`)
}

// TestCalibrateWrites: the table goes to -o (or stdout) in the format
// cost.Load reads; -short picks the short options.
func TestCalibrateWrites(t *testing.T) {
	var got calibrate.Options
	withMeasure(t, func(_ context.Context, o calibrate.Options) (*calibrate.Report, error) {
		got = o
		return &calibrate.Report{Table: cost.Default(), Rounds: 7, Converged: true, Kernel: "6.18.0-test", LoadAvg: "0.5"}, nil
	})
	path := filepath.Join(t.TempDir(), "costs.yaml")
	code, out, stderr := simrun(t, "calibrate", "-short", "-o", path)
	require.Equal(t, exitOK, code, stderr)
	assert.Empty(t, out)
	assert.Equal(t, calibrate.ShortOptions().MaxRounds, got.MaxRounds)
	assert.Equal(t, "calibrated on kernel 6.18.0-test: 7 rounds in 0.0s (every entry within the target spread), load average 0.5; table written to "+path+"\n", stderr)
	tab, err := cost.Load(path)
	require.NoError(t, err)
	assert.Equal(t, cost.Default().Ops, tab.Ops)

	code, out, _ = simrun(t, "calibrate")
	require.Equal(t, exitOK, code)
	assert.Equal(t, calibrate.DefaultOptions().MaxRounds, got.MaxRounds)
	_, err = cost.Parse("stdout", []byte(out))
	require.NoError(t, err)
}

// TestCalibrateKernel runs the short calibration on the real kernel
// (SKBSIM_KERNEL_TESTS=1, root) and compares with the table it wrote.
func TestCalibrateKernel(t *testing.T) {
	testutil.KernelTests(t)
	path := filepath.Join(t.TempDir(), "costs.yaml")
	code, _, stderr := simrun(t, "calibrate", "-short", "-o", path)
	require.Equal(t, exitOK, code, stderr)
	assert.True(t, strings.HasPrefix(stderr, "calibrated on kernel "), stderr)
	tab, err := cost.Load(path)
	require.NoError(t, err)
	assert.Equal(t, cost.SourceMeasured, tab.Entry(cost.OpHashLookup).Source)
	_, err = os.Stat(path)
	require.NoError(t, err)
}
