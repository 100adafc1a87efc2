package kernel

import (
	"errors"
	"fmt"
	"syscall"
	"unsafe"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/skbsim/skbsim/internal/errno"
)

// bpf(2) commands used with raw syscalls.
const (
	cmdMapCreate       = 0
	cmdMapLookupElem   = 1
	cmdMapUpdateElem   = 2
	cmdMapDeleteElem   = 3
	cmdMapGetNextKey   = 4
	cmdObjGetInfoByFD  = 15
	cmdMapLookupAndDel = 21
)

// sysBPF issues a raw bpf(2) call and returns its result or the errno as an
// errno.Errno (which matches syscall.Errno under errors.Is).
func sysBPF(cmd int, attr unsafe.Pointer, size uintptr) (int, error) {
	r, _, e := unix.Syscall(unix.SYS_BPF, uintptr(cmd), uintptr(attr), size)
	if e != 0 {
		return int(r), errno.Errno(e)
	}
	return int(r), nil
}

// ErrNotSupported is cilium/ebpf's sentinel for a missing kernel feature.
var ErrNotSupported = ebpf.ErrNotSupported

// notSupportedError wraps an error that matches ebpf.ErrNotSupported so that
// it also matches errors.ErrUnsupported (what internal/testutil checks,
// which does not import cilium/ebpf).
type notSupportedError struct{ err error }

func (e notSupportedError) Error() string { return e.err.Error() }
func (e notSupportedError) Unwrap() error { return e.err }
func (e notSupportedError) Is(target error) bool {
	return target == errors.ErrUnsupported
}

// wrap annotates err with op and marks not-supported errors.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	// cilium/ebpf errors carry a syscall.Errno; add the errno.Errno so
	// errors.Is matches the project's errno values too.
	var se syscall.Errno
	var e errno.Errno
	if errors.As(err, &se) && !errors.As(err, &e) {
		err = fmt.Errorf("%w (%w)", err, errno.Errno(se))
	}
	err = fmt.Errorf("%s: %w", op, err)
	if errors.Is(err, ebpf.ErrNotSupported) {
		return notSupportedError{err}
	}
	return err
}
