package kernel

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// Socket is a socket file descriptor owned by the caller, plus the Go
// connection it was duplicated from (if any), which Close also closes.
type Socket struct {
	FD    int
	Proto int // SO_PROTOCOL: 6 TCP, 17 UDP, 262 MPTCP, 0 for AF_UNIX
	conn  interface{ Close() error }
}

// Close closes the descriptor and the underlying Go connection.
func (s *Socket) Close() error {
	if s == nil || s.FD < 0 {
		return nil
	}
	err := unix.Close(s.FD)
	s.FD = -1
	if s.conn != nil {
		err = errors.Join(err, s.conn.Close())
	}
	return err
}

// Socket creates a socket(domain, typ, proto) inside the namespace (close
// it with unix.Close).
func (n *Netns) Socket(domain, typ, proto int) (int, error) {
	fd := -1
	err := n.Do(func() error {
		var err error
		fd, err = unix.Socket(domain, typ|unix.SOCK_CLOEXEC, proto)
		return err
	})
	return fd, wrap("socket", err)
}

// ListenMode selects how a passive TCP open is made, which decides whether
// the accepted socket is a clone of the listener (BPF_F_CLONE storage).
type ListenMode int

// Listen modes.
const (
	// ListenPlainTCP: ListenConfig.SetMultipathTCP(false) and a plain TCP
	// dialer. The accepted socket is sk_clone_lock()'d from the listener.
	ListenPlainTCP ListenMode = iota
	// ListenGoDefault: Go's default ListenConfig (an MPTCP listener since
	// Go 1.24) and a plain TCP dialer. The accepted socket falls back to
	// TCP but is cloned from an internal subflow listener, not from the fd.
	ListenGoDefault
	// ListenMPTCP: MPTCP listener and MPTCP dialer (Dialer.SetMultipathTCP(true)).
	ListenMPTCP
)

func (m ListenMode) String() string {
	return [...]string{"plain-tcp", "go-default", "mptcp"}[m]
}

// Listener is a TCP (or MPTCP) listener on 127.0.0.1 inside a namespace.
type Listener struct {
	Socket
	ns   *Netns
	mode ListenMode
	ln   net.Listener
}

// ListenTCP opens a listener on 127.0.0.1, port chosen by the kernel.
func (n *Netns) ListenTCP(mode ListenMode) (*Listener, error) {
	var lc net.ListenConfig
	switch mode {
	case ListenPlainTCP:
		lc.SetMultipathTCP(false)
	case ListenMPTCP:
		lc.SetMultipathTCP(true)
	}
	var ln net.Listener
	err := n.Do(func() error {
		var err error
		ln, err = lc.Listen(context.Background(), "tcp4", "127.0.0.1:0")
		return err
	})
	if err != nil {
		return nil, wrap("listen", err)
	}
	s, err := socketOf(ln.(syscall.Conn), ln)
	if err != nil {
		ln.Close()
		return nil, wrap("listen", err)
	}
	return &Listener{Socket: s, ns: n, mode: mode, ln: ln}, nil
}

// Connect dials the listener from the namespace and accepts the connection.
func (l *Listener) Connect() (client, accepted Socket, err error) {
	var d net.Dialer
	d.SetMultipathTCP(l.mode == ListenMPTCP)
	var c net.Conn
	err = l.ns.Do(func() error {
		var err error
		c, err = d.Dial("tcp4", l.ln.Addr().String())
		return err
	})
	if err != nil {
		return Socket{}, Socket{}, wrap("connect", err)
	}
	a, err := l.ln.Accept()
	if err != nil {
		c.Close()
		return Socket{}, Socket{}, wrap("accept", err)
	}
	if client, err = socketOf(c.(syscall.Conn), c); err != nil {
		c.Close()
		a.Close()
		return Socket{}, Socket{}, wrap("connect", err)
	}
	if accepted, err = socketOf(a.(syscall.Conn), a); err != nil {
		client.Close()
		a.Close()
		return Socket{}, Socket{}, wrap("accept", err)
	}
	return client, accepted, nil
}

// socketOf duplicates the descriptor of a Go connection (storage is per
// socket, so the duplicate keys the same storage) and reads its protocol.
func socketOf(c syscall.Conn, closer interface{ Close() error }) (Socket, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return Socket{}, err
	}
	fd, proto := -1, 0
	var inner error
	err = rc.Control(func(raw uintptr) {
		fd, inner = unix.FcntlInt(raw, unix.F_DUPFD_CLOEXEC, 0)
		if inner == nil {
			proto, inner = unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PROTOCOL)
		}
	})
	if err = errors.Join(err, inner); err != nil {
		if fd >= 0 {
			unix.Close(fd)
		}
		return Socket{}, fmt.Errorf("socket fd: %w", err)
	}
	return Socket{FD: fd, Proto: proto, conn: closer}, nil
}

func closeFD(fd int) {
	if fd >= 0 {
		unix.Close(fd)
	}
}
