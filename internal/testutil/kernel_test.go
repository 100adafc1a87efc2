package testutil

import (
	"errors"
	"fmt"
	"testing"
)

// recorder is a testing.TB that records Skip/Fatal instead of stopping.
type recorder struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (r *recorder) Helper() {}
func (r *recorder) Skip(args ...any) {
	r.skipped = true
	r.msg = fmt.Sprint(args...)
	panic(r)
}
func (r *recorder) Fatal(args ...any) {
	r.failed = true
	r.msg = fmt.Sprint(args...)
	panic(r)
}
func (r *recorder) Fatalf(f string, args ...any) { r.Fatal(fmt.Sprintf(f, args...)) }

func run(f func(tb testing.TB)) (r *recorder) {
	r = &recorder{TB: nil}
	defer func() {
		if p := recover(); p != nil && p != r {
			panic(p)
		}
	}()
	f(r)
	return r
}

func TestKernelTestsDisabledSkipsWithOneLine(t *testing.T) {
	t.Setenv(KernelTestsEnv, "")
	r := run(KernelTests)
	if !r.skipped || r.msg != kernelSkipMsg {
		t.Fatalf("KernelTests without %s: skipped=%v msg=%q, want skip %q", KernelTestsEnv, r.skipped, r.msg, kernelSkipMsg)
	}
	t.Setenv(KernelTestsEnv, "0")
	if r := run(KernelTests); !r.skipped {
		t.Fatalf("KernelTests with %s=0 did not skip", KernelTestsEnv)
	}
}

func TestKernelTestsEnabledFailsWithoutPrivileges(t *testing.T) {
	t.Setenv(KernelTestsEnv, "1")
	privOnce.Do(func() {}) // keep the real probe from overwriting the injected result
	saved := privErr
	t.Cleanup(func() { privErr = saved })
	privErr = errors.New("not root (euid 1000)")
	r := run(KernelTests)
	if !r.failed || r.skipped {
		t.Fatalf("KernelTests with %s=1 and no privileges: failed=%v skipped=%v, want a failure", KernelTestsEnv, r.failed, r.skipped)
	}
	privErr = nil
	if r := run(KernelTests); r.failed || r.skipped {
		t.Fatalf("KernelTests with privileges: failed=%v skipped=%v msg=%q", r.failed, r.skipped, r.msg)
	}
}

func TestSkipIfNotSupported(t *testing.T) {
	wrapped := fmt.Errorf("attach tcx: %w", errors.ErrUnsupported)
	for _, c := range []struct {
		name          string
		err           error
		skip, failure bool
	}{
		{"nil", nil, false, false},
		{"wrapped unsupported", wrapped, true, false},
		{"bare sentinel", errors.ErrUnsupported, false, true},
		{"other error", errors.New("permission denied"), false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := run(func(tb testing.TB) { SkipIfNotSupported(tb, c.err) })
			if r.skipped != c.skip || r.failed != c.failure {
				t.Fatalf("SkipIfNotSupported(%v): skipped=%v failed=%v, want %v %v", c.err, r.skipped, r.failed, c.skip, c.failure)
			}
		})
	}
}
