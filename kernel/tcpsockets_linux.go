package kernel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/skbsim/skbsim/kernel/bpf"
)

// TCP states (skc_state) that TCPSockets reports.
const (
	TCPEstablished = 1
	TCPFinWait1    = 4
	TCPFinWait2    = 5
	TCPTimeWait    = 6
	TCPClose       = 7
	TCPListen      = 10
	TCPNewSynRecv  = 12
)

// TCPSock is one TCP socket of a namespace as the iter/tcp program of
// kernel/bpf/skiter.c sees it.
type TCPSock struct {
	Cookie uint64 // SO_COOKIE (see SocketCookie)
	State  int    // skc_state (TCPEstablished, ...)
	// HasElem: a full socket that owns an element of the map given to
	// TCPSockets (request and time-wait sockets have no storage).
	HasElem bool
}

// TCPSockets lists the TCP sockets of the namespace, everything in its TCP
// hash tables: listeners, request sockets, established sockets and
// orphans (closed descriptors still in FIN_WAIT etc.), time-wait sockets.
// With m (a MapSkStorage map) it also reports which of them own an element
// of m, so storage of sockets without a descriptor is visible. A socket
// leaves the list when it is unhashed (inet_csk_destroy_sock(), tcp_done());
// its destruction (__sk_destruct() -> bpf_sk_storage_free(), which unlinks
// its elements) follows at the last reference, for an abortive close of an
// idle socket within the close itself. Map iterators, which would show the
// unlink itself, do not load on the project's machines (EPERM, like
// trampolines; kernel_lab §12).
func (n *Netns) TCPSockets(m *StorageMap) ([]TCPSock, error) {
	spec, err := bpf.LoadSkIter()
	if err != nil {
		return nil, wrap("tcp sockets: spec", err)
	}
	opts := &ebpf.CollectionOptions{}
	if m != nil {
		if m.spec.Type != MapSkStorage {
			panic(fmt.Sprintf("kernel: Netns.TCPSockets with a map of type %d", m.spec.Type))
		}
		// The program only tests for an element: give its map the
		// target's attributes and load it against the target.
		ms := spec.Maps["sk_map"]
		ms.ValueSize, ms.Flags, ms.Value = m.spec.ValueSize, m.spec.Flags, nil
		fd, err := unix.FcntlInt(uintptr(m.fd), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			return nil, wrap("tcp sockets: dup map", err)
		}
		em, err := ebpf.NewMapFromFD(fd) // takes ownership of fd
		if err != nil {
			unix.Close(fd)
			return nil, wrap("tcp sockets: map", err)
		}
		defer em.Close()
		opts.MapReplacements = map[string]*ebpf.Map{"sk_map": em}
	}
	var objs bpf.SkIterObjects
	if err := spec.LoadAndAssign(&objs, opts); err != nil {
		return nil, wrap("tcp sockets: load iterator", err)
	}
	defer objs.Close()
	it, err := link.AttachIter(link.IterOptions{Program: objs.TcpOwners})
	if err != nil {
		return nil, wrap("tcp sockets: attach iterator", err)
	}
	defer it.Close()
	var b []byte
	// The iterator lists the namespace of the thread that opens it.
	err = n.Do(func() error {
		r, err := it.Open()
		if err != nil {
			return err
		}
		b, err = io.ReadAll(r)
		return errors.Join(err, r.Close())
	})
	if err != nil {
		return nil, wrap("tcp sockets: read iterator", err)
	}
	const size = int(unsafe.Sizeof(bpf.SkIterOwner{}))
	if len(b)%size != 0 {
		return nil, fmt.Errorf("tcp sockets: iterator wrote %d bytes, not a multiple of %d", len(b), size)
	}
	out := make([]TCPSock, 0, len(b)/size)
	for i := 0; i < len(b); i += size {
		out = append(out, TCPSock{
			Cookie:  binary.NativeEndian.Uint64(b[i:]),
			State:   int(binary.NativeEndian.Uint32(b[i+8:])),
			HasElem: binary.NativeEndian.Uint32(b[i+12:]) != 0,
		})
	}
	return out, nil
}

// SocketCookie returns the socket's cookie (getsockopt SO_COOKIE), the
// identity TCPSockets reports; the kernel assigns it on first use and it
// never changes.
func SocketCookie(fd int) (uint64, error) {
	var c uint64
	l := uint32(8)
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.SOL_SOCKET, unix.SO_COOKIE,
		uintptr(unsafe.Pointer(&c)), uintptr(unsafe.Pointer(&l)), 0)
	if e != 0 {
		return 0, wrap(fmt.Sprintf("getsockopt SO_COOKIE fd %d", fd), e)
	}
	return c, nil
}

// WaitTCPGone polls TCPSockets until no socket with the cookie is left in
// the namespace's TCP tables (at most timeout; the error then wraps
// ErrReleaseTimeout).
func (n *Netns) WaitTCPGone(cookie uint64, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		socks, err := n.TCPSockets(nil)
		if err != nil {
			return err
		}
		state := -1
		for _, s := range socks {
			if s.Cookie == cookie {
				state = s.State
			}
		}
		if state < 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("wait for socket %d: still in state %d after %v: %w", cookie, state, timeout, ErrReleaseTimeout)
		}
		time.Sleep(time.Millisecond)
	}
}
