package kernel

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// SkOmemAlloc returns the socket's sk_omem_alloc, where socket local
// storage is charged: getsockopt(SOL_SOCKET, SO_MEMINFO) returns
// u32[SK_MEMINFO_VARS] with SK_MEMINFO_OPTMEM at index 6.
func SkOmemAlloc(fd int) (int, error) {
	var mi [16]uint32
	l := uint32(unsafe.Sizeof(mi))
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.SOL_SOCKET, unix.SO_MEMINFO,
		uintptr(unsafe.Pointer(&mi[0])), uintptr(unsafe.Pointer(&l)), 0)
	if e != 0 {
		return 0, wrap(fmt.Sprintf("getsockopt SO_MEMINFO fd %d", fd), e)
	}
	if l < 7*4 {
		return 0, fmt.Errorf("getsockopt SO_MEMINFO fd %d: %d bytes", fd, l)
	}
	return int(mi[6]), nil
}

// Netstat reads the namespace's TcpExt/IpExt/MPTcpExt counters
// (/proc/net/netstat of a thread inside it), keyed "TcpExt.ListenDrops".
func (n *Netns) Netstat() (map[string]uint64, error) {
	var b []byte
	err := n.Do(func() error {
		var err error
		// thread-self: /proc/net follows the process's leader, not
		// the thread that entered the namespace.
		b, err = os.ReadFile("/proc/thread-self/net/netstat")
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("netstat: %w", err)
	}
	return parseNetstat(b)
}

// parseNetstat parses /proc/net/netstat: pairs of lines, a header
// ("TcpExt: name...") and its values ("TcpExt: n..."), keyed
// "TcpExt.name". Malformed input is an error naming the line.
func parseNetstat(b []byte) (map[string]uint64, error) {
	out := map[string]uint64{}
	s := bufio.NewScanner(bytes.NewReader(b))
	line := 0
	for s.Scan() {
		line++
		names := strings.Fields(s.Text())
		if len(names) == 0 {
			return nil, fmt.Errorf("netstat: line %d: empty header", line)
		}
		if !s.Scan() {
			return nil, fmt.Errorf("netstat: line %d: header %s without values", line, names[0])
		}
		line++
		vals := strings.Fields(s.Text())
		if len(vals) != len(names) || vals[0] != names[0] {
			return nil, fmt.Errorf("netstat: line %d: %d fields after %q for a header of %d after %q",
				line, len(vals), strings.Join(vals[:min(len(vals), 1)], ""), len(names), names[0])
		}
		pfx := strings.TrimSuffix(names[0], ":")
		for i := 1; i < len(names); i++ {
			v, err := strconv.ParseUint(vals[i], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("netstat: line %d: %s.%s: %w", line, pfx, names[i], err)
			}
			out[pfx+"."+names[i]] = v
		}
	}
	if err := s.Err(); err != nil {
		return nil, fmt.Errorf("netstat: line %d: %w", line+1, err)
	}
	return out, nil
}

// Release returns the running kernel's release (uname -r), "" if uname
// fails.
func Release() string {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return ""
	}
	return unix.ByteSliceToString(u.Release[:])
}

// CloseFD closes a descriptor this package returned as a plain int (a
// socket of Netns.Socket, a pipe end of Pipe); negative descriptors are
// ignored.
func CloseFD(fd int) error {
	if fd < 0 {
		return nil
	}
	return wrap("close", unix.Close(fd))
}

// Pipe returns a pipe (read end, write end), close-on-exec; close both
// with CloseFD.
func Pipe() (r, w int, err error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return -1, -1, wrap("pipe", err)
	}
	return p[0], p[1], nil
}

// PingPong writes 4 bytes on a and reads them on b, then the other way,
// waiting at most 2 s for each read. a and b are the two ends of a
// connection (descriptors of Socket.FD, which may be non-blocking).
func PingPong(a, b int) error {
	for _, d := range [][2]int{{a, b}, {b, a}} {
		if _, err := unix.Write(d[0], []byte("ping")); err != nil {
			return wrap("write", err)
		}
		buf, got := make([]byte, 4), 0
		deadline := time.Now().Add(2 * time.Second)
		for got < 4 {
			n, err := unix.Read(d[1], buf[got:])
			switch {
			case err == nil && n > 0:
				got += n
			case errors.Is(err, unix.EAGAIN) && time.Now().Before(deadline):
				pfd := []unix.PollFd{{Fd: int32(d[1]), Events: unix.POLLIN}}
				unix.Poll(pfd, 100)
			default:
				return fmt.Errorf("read: %d bytes, %v", n, err)
			}
		}
	}
	return nil
}

// UDPSocket is a UDP socket bound to 127.0.0.1 (port chosen by the kernel)
// inside a namespace.
type UDPSocket struct {
	FD   int
	addr unix.SockaddrInet4
}

// UDPSocket opens a blocking UDP socket bound to 127.0.0.1 in the
// namespace; close it with Close.
func (n *Netns) UDPSocket() (*UDPSocket, error) {
	fd, err := n.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		return nil, err
	}
	u := &UDPSocket{FD: fd}
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		unix.Close(fd)
		return nil, wrap("bind", err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		unix.Close(fd)
		return nil, wrap("getsockname", err)
	}
	u.addr = *sa.(*unix.SockaddrInet4)
	return u, nil
}

// SendTo sends one datagram of payload zero bytes to the socket to.
func (u *UDPSocket) SendTo(to *UDPSocket, payload int) error {
	return wrap("sendto", unix.Sendto(u.FD, make([]byte, payload), 0, &to.addr))
}

// Recv receives one datagram (into a 64 KiB buffer), waiting at most
// timeout, and returns its length.
func (u *UDPSocket) Recv(timeout time.Duration) (int, error) {
	buf := make([]byte, 65536)
	deadline := time.Now().Add(timeout)
	for {
		n, _, err := unix.Recvfrom(u.FD, buf, unix.MSG_DONTWAIT)
		if err == nil {
			return n, nil
		}
		if !errors.Is(err, unix.EAGAIN) || time.Now().After(deadline) {
			return 0, wrap("recvfrom", err)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// Close closes the socket (safe to call more than once).
func (u *UDPSocket) Close() error {
	if u == nil || u.FD < 0 {
		return nil
	}
	err := unix.Close(u.FD)
	u.FD = -1
	return wrap("close", err)
}

// SockKind selects the kind of socket Netns.NewSocket creates.
type SockKind int

// Socket kinds.
const (
	SockTCP        SockKind = iota // AF_INET, SOCK_STREAM
	SockUDP                        // AF_INET, SOCK_DGRAM
	SockUnixStream                 // AF_UNIX, SOCK_STREAM
)

// NewSocket creates an unbound socket of the kind inside the namespace
// (close it with CloseFD).
func (n *Netns) NewSocket(k SockKind) (int, error) {
	switch k {
	case SockTCP:
		return n.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	case SockUDP:
		return n.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	case SockUnixStream:
		return n.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	}
	panic(fmt.Sprintf("kernel: NewSocket: unknown socket kind %d", k))
}
