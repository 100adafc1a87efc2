package kernel

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/skbsim/skbsim/internal/errno"
)

// DefaultAcceptTimeout bounds the accept() of Listener.Connect.
const DefaultAcceptTimeout = 5 * time.Second

// Sentinels of the socket helpers.
var (
	// ErrAcceptTimeout: no connection was accepted in time although the
	// client's handshake completed. The kernel creates the accepted socket
	// when the final ACK arrives (tcp_check_req() -> syn_recv_sock() ->
	// sk_clone_lock()); when that fails, e.g. because
	// bpf_sk_storage_clone() cannot charge the child's copy under
	// net.core.optmem_max (-ENOMEM), the ACK is dropped (ListenDrops), the
	// request stays queued and accept() has nothing to return until a
	// retransmitted ACK succeeds.
	ErrAcceptTimeout = errno.New("accept timed out", errno.ETIMEDOUT)
	// ErrReleaseTimeout: a socket was still in the TCP tables when the wait of
	// Socket.CloseWait or Netns.WaitTCPGone ended.
	ErrReleaseTimeout = errno.New("socket not released in time", errno.ETIMEDOUT)
)

// Socket is a socket file descriptor owned by the caller, plus the Go
// connection it was duplicated from (if any), which Close also closes.
type Socket struct {
	FD    int
	Proto int // SO_PROTOCOL: 6 TCP, 17 UDP, 262 MPTCP, 0 for AF_UNIX
	conn  interface{ Close() error }
	ns    *Netns // the namespace of a socket made by ListenTCP, Connect, Accept
}

// noSocket is what the socket helpers return with an error: FD -1, so
// that a Close of it does nothing.
var noSocket = Socket{FD: -1}

// Cookie returns the socket's cookie (see SocketCookie).
func (s *Socket) Cookie() (uint64, error) { return SocketCookie(s.FD) }

// CloseWait closes a TCP socket abortively (SO_LINGER with a zero
// timeout: a RST, no FIN_WAIT or TIME_WAIT, so the socket does not live on
// as an orphan) and waits, at most timeout, until it has left its
// namespace's TCP tables (Netns.WaitTCPGone). Its destruction
// (__sk_destruct() -> bpf_sk_storage_free(), which unlinks its storage
// elements and returns their charge) happens at the last reference, for an
// idle socket within the close itself; the element memory is freed after
// an RCU grace period, which no syscall observes. The error wraps
// ErrReleaseTimeout if the socket is still there at the deadline. For a
// socket of another protocol (an MPTCP msk is not in the TCP tables),
// CloseWait only closes it and returns an error that matches
// errors.ErrUnsupported.
func (s *Socket) CloseWait(timeout time.Duration) error {
	if s == nil || s.FD < 0 {
		return nil
	}
	if s.Proto != unix.IPPROTO_TCP || s.ns == nil {
		err := s.Close()
		return errors.Join(err, notSupportedError{fmt.Errorf("close wait: socket of protocol %d outside a Netns's TCP tables: %w", s.Proto, ErrNotSupported)})
	}
	cookie, err := s.Cookie()
	if err != nil {
		return errors.Join(err, s.Close())
	}
	if err := unix.SetsockoptLinger(s.FD, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0}); err != nil {
		return errors.Join(wrap("close wait: SO_LINGER", err), s.Close())
	}
	if err := s.Close(); err != nil {
		return wrap("close wait", err)
	}
	return s.ns.WaitTCPGone(cookie, timeout)
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
	s.ns = n
	return &Listener{Socket: s, ns: n, mode: mode, ln: ln}, nil
}

// Connect dials the listener from the namespace and accepts the
// connection, waiting at most DefaultAcceptTimeout for accept() (see
// ConnectWithin).
func (l *Listener) Connect() (client, accepted Socket, err error) {
	return l.ConnectWithin(DefaultAcceptTimeout)
}

// ConnectWithin dials the listener from the namespace (the dial itself is
// bounded by timeout too) and accepts the connection, waiting at most
// timeout for accept(). If the client's handshake completed but nothing was
// accepted in time, err wraps ErrAcceptTimeout and client is returned open:
// the caller owns it (the connection may still be accepted later with
// Accept). On other errors nothing is returned open.
func (l *Listener) ConnectWithin(timeout time.Duration) (client, accepted Socket, err error) {
	d := net.Dialer{Timeout: timeout}
	d.SetMultipathTCP(l.mode == ListenMPTCP)
	var c net.Conn
	err = l.ns.Do(func() error {
		var err error
		c, err = d.Dial("tcp4", l.ln.Addr().String())
		return err
	})
	if err != nil {
		return noSocket, noSocket, wrap("connect", err)
	}
	if client, err = socketOf(c.(syscall.Conn), c); err != nil {
		c.Close()
		return noSocket, noSocket, wrap("connect", err)
	}
	client.ns = l.ns
	accepted, err = l.Accept(timeout)
	if err != nil && !errors.Is(err, ErrAcceptTimeout) {
		client.Close()
		return noSocket, noSocket, err
	}
	return client, accepted, err
}

// Accept waits at most timeout for the next connection of the listener
// (the error wraps ErrAcceptTimeout when none came).
func (l *Listener) Accept(timeout time.Duration) (Socket, error) {
	dl, ok := l.ln.(interface{ SetDeadline(time.Time) error })
	if !ok {
		panic(fmt.Sprintf("kernel: listener %T has no SetDeadline", l.ln))
	}
	if err := dl.SetDeadline(time.Now().Add(timeout)); err != nil {
		return noSocket, wrap("accept", err)
	}
	a, err := l.ln.Accept()
	if derr := dl.SetDeadline(time.Time{}); derr != nil && err == nil {
		a.Close()
		return noSocket, wrap("accept", derr)
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return noSocket, fmt.Errorf("accept after %v: %w", timeout, ErrAcceptTimeout)
	}
	if err != nil {
		return noSocket, wrap("accept", err)
	}
	s, err := socketOf(a.(syscall.Conn), a)
	if err != nil {
		a.Close()
		return noSocket, wrap("accept", err)
	}
	s.ns = l.ns
	return s, nil
}

// socketOf duplicates the descriptor of a Go connection (storage is per
// socket, so the duplicate keys the same storage) and reads its protocol.
func socketOf(c syscall.Conn, closer interface{ Close() error }) (Socket, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return noSocket, err
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
		return noSocket, fmt.Errorf("socket fd: %w", err)
	}
	return Socket{FD: fd, Proto: proto, conn: closer}, nil
}

func closeFD(fd int) {
	if fd >= 0 {
		unix.Close(fd)
	}
}
