package testutil

import (
	"errors"
	"os"
	"sync"
	"testing"
)

var (
	privOnce sync.Once
	privErr  error
)

// kernelPrivileges runs the (OS-specific) privilege check once per process.
func kernelPrivileges() error {
	privOnce.Do(func() { privErr = checkPrivileges() })
	return privErr
}

// KernelTestsEnv is the variable that switches the real-kernel tests on.
const KernelTestsEnv = "SKBSIM_KERNEL_TESTS"

// kernelSkipMsg is the one line a kernel test skips with when disabled.
const kernelSkipMsg = "kernel tests disabled; set SKBSIM_KERNEL_TESTS=1 and run as root"

// KernelTestsEnabled reports whether SKBSIM_KERNEL_TESTS=1.
func KernelTestsEnabled() bool { return os.Getenv(KernelTestsEnv) == "1" }

// KernelTests gates a test that needs the running kernel. Without
// SKBSIM_KERNEL_TESTS=1 it skips with one line. With it set, anything that
// would make the test unable to run — not Linux, not root, CAP_BPF,
// CAP_NET_ADMIN or CAP_SYS_ADMIN missing, the bpf(2) syscall refused — is a
// failure, not a skip: CI must not turn green by silently skipping.
func KernelTests(tb testing.TB) {
	tb.Helper()
	if !KernelTestsEnabled() {
		tb.Skip(kernelSkipMsg)
	}
	if err := kernelPrivileges(); err != nil {
		tb.Fatalf("%s=1 but the kernel tests cannot run: %v", KernelTestsEnv, err)
	}
}

// SkipIfNotSupported skips tb when err reports a kernel feature that the
// running kernel lacks, and fails it for any other non-nil error. Package
// kernel returns such errors wrapping both cilium/ebpf's ErrNotSupported and
// errors.ErrUnsupported; only a wrapped error counts (the bare sentinel
// carries no feature name and is treated as a bug).
func SkipIfNotSupported(tb testing.TB, err error) {
	tb.Helper()
	if err == nil {
		return
	}
	if errors.Is(err, errors.ErrUnsupported) && err != errors.ErrUnsupported {
		tb.Skip(err.Error())
	}
	tb.Fatal(err)
}
