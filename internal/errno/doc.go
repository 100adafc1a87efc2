// Package errno holds Linux errno values as a host-independent type, so the
// pure-Go model can return the errors the kernel returns and the differential
// harness can compare them with what the real kernel said.
//
// An [Errno] matches, under errors.Is, any other error value that is the same
// number: another Errno, or a syscall.Errno on Linux (the value cilium/ebpf
// and golang.org/x/sys/unix return). Numbers are Linux's (x86-64 and
// asm-generic agree for every value here), not the host's.
//
// Model packages build sentinels with [New], which pairs a package-specific
// message with the errno:
//
//	var ErrNotFound = errno.New("local storage element not found", errno.ENOENT)
//
// so that both errors.Is(err, localstorage.ErrNotFound) and
// errors.Is(err, errno.ENOENT) hold for an error wrapped with %w.
package errno
