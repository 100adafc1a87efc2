package errno

import (
	"errors"
	"strconv"
	"syscall"
)

// Errno is a Linux error number. The zero value means no error and should not
// be returned as an error.
type Errno uint16

// Linux error numbers used by the modelled kernel paths.
const (
	EPERM      Errno = 1
	ENOENT     Errno = 2
	EINTR      Errno = 4
	EIO        Errno = 5
	EBADF      Errno = 9
	EAGAIN     Errno = 11
	ENOMEM     Errno = 12
	EACCES     Errno = 13
	EFAULT     Errno = 14
	EBUSY      Errno = 16
	EEXIST     Errno = 17
	EINVAL     Errno = 22
	ENOSPC     Errno = 28
	ERANGE     Errno = 34
	EDEADLK    Errno = 35
	ENOTSOCK   Errno = 88
	EMSGSIZE   Errno = 90
	EOPNOTSUPP Errno = 95
	ETIMEDOUT  Errno = 110
	E2BIG      Errno = 7
	ENODEV     Errno = 19
	EPROTO     Errno = 71
	// ENETDOWN is 100.
	ENETDOWN Errno = 100
	// ENETUNREACH is 101.
	ENETUNREACH Errno = 101
	// EHOSTUNREACH is 113.
	EHOSTUNREACH Errno = 113
	// EADDRNOTAVAIL is 99.
	EADDRNOTAVAIL Errno = 99
	// ESRCH is 3.
	ESRCH Errno = 3
	// EAFNOSUPPORT is 97.
	EAFNOSUPPORT Errno = 97
	// ETOOMANYREFS is 109.
	ETOOMANYREFS Errno = 109
	// ENOTSUPP is the kernel-internal 524, which leaks to user space from
	// some BPF syscall commands (for example BPF_MAP_GET_NEXT_KEY on local
	// storage maps). It has no libc name.
	ENOTSUPP Errno = 524
)

var names = map[Errno]string{
	EPERM: "EPERM", ENOENT: "ENOENT", EINTR: "EINTR", EIO: "EIO", EBADF: "EBADF",
	EAGAIN: "EAGAIN", ENOMEM: "ENOMEM", EACCES: "EACCES", EFAULT: "EFAULT",
	EBUSY: "EBUSY", EEXIST: "EEXIST", EINVAL: "EINVAL", ENOSPC: "ENOSPC",
	ERANGE: "ERANGE", EDEADLK: "EDEADLK", ENOTSOCK: "ENOTSOCK", EMSGSIZE: "EMSGSIZE",
	EOPNOTSUPP: "EOPNOTSUPP", ETIMEDOUT: "ETIMEDOUT", E2BIG: "E2BIG",
	ETOOMANYREFS: "ETOOMANYREFS", ENOTSUPP: "ENOTSUPP", ENODEV: "ENODEV", EPROTO: "EPROTO",
	EAFNOSUPPORT: "EAFNOSUPPORT", ENETDOWN: "ENETDOWN", ENETUNREACH: "ENETUNREACH",
	EADDRNOTAVAIL: "EADDRNOTAVAIL", ESRCH: "ESRCH", EHOSTUNREACH: "EHOSTUNREACH",
}

// Name returns the symbolic name, such as "ENOENT", or "errno N".
func (e Errno) Name() string {
	if n, ok := names[e]; ok {
		return n
	}
	return "errno " + strconv.Itoa(int(e))
}

func (e Errno) Error() string { return e.Name() }

// Is reports whether target is the same error number, as an Errno or a
// syscall.Errno.
func (e Errno) Is(target error) bool {
	switch t := target.(type) {
	case Errno:
		return e == t
	case syscall.Errno:
		return uintptr(e) == uintptr(t)
	}
	return false
}

// Of returns the errno carried by err, or 0 if err carries none. It looks
// through wrapping, and understands syscall.Errno as well as Errno.
func Of(err error) Errno {
	if err == nil {
		return 0
	}
	var e Errno
	if errors.As(err, &e) {
		return e
	}
	var se syscall.Errno
	if errors.As(err, &se) {
		return Errno(se)
	}
	return 0
}

// Error is a sentinel that pairs a message with an errno. It matches both
// itself (by identity) and its errno under errors.Is.
type Error struct {
	msg   string
	errno Errno
}

// New returns a sentinel error with the message msg that also matches e.
func New(msg string, e Errno) *Error { return &Error{msg: msg, errno: e} }

func (e *Error) Error() string { return e.msg + " (" + e.errno.Name() + ")" }

// Errno returns the error number the sentinel stands for.
func (e *Error) Errno() Errno { return e.errno }

// Is matches the sentinel's errno (as Errno or syscall.Errno).
func (e *Error) Is(target error) bool { return e.errno.Is(target) }

// Unwrap exposes the errno so errors.As(err, *Errno) finds it.
func (e *Error) Unwrap() error { return e.errno }
