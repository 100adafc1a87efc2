package testutil

import (
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	capNetAdmin = 12
	capSysAdmin = 21
	capBPF      = 39
)

func checkPrivileges() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("not root (euid %d)", os.Geteuid())
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capget: %w", err)
	}
	eff := uint64(data[0].Effective) | uint64(data[1].Effective)<<32
	for _, c := range []struct {
		bit  uint
		name string
	}{{capBPF, "CAP_BPF"}, {capNetAdmin, "CAP_NET_ADMIN"}, {capSysAdmin, "CAP_SYS_ADMIN"}} {
		if eff&(1<<c.bit) == 0 {
			return fmt.Errorf("%s missing from the effective capabilities %#x", c.name, eff)
		}
	}
	return probeBPF()
}

// probeBPF creates and closes a one-element array map with a raw bpf(2)
// call, so that a kernel or seccomp policy refusing BPF is reported here.
func probeBPF() error {
	attr := struct {
		mapType, keySize, valueSize, maxEntries uint32
	}{mapType: 2 /* BPF_MAP_TYPE_ARRAY */, keySize: 4, valueSize: 4, maxEntries: 1}
	fd, _, errno := unix.Syscall(unix.SYS_BPF, 0 /* BPF_MAP_CREATE */, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
	if errno != 0 {
		return fmt.Errorf("bpf(BPF_MAP_CREATE) refused: %w", errno)
	}
	unix.Close(int(fd))
	return nil
}
