package localstorage

import "fmt"

// Listener is a listening socket for the passive-open model. For an MPTCP
// listener (IPPROTO_MPTCP, Go's default for net.Listen since 1.24) the
// listening fd is the MPTCP socket (msk) while SYNs are received by an
// in-kernel TCP subflow listener; the two have separate local storage.
type Listener struct {
	// Sock is the socket behind the listening fd: syscall-side storage
	// operations on the listener's fd act on it.
	Sock    *Sock
	subflow *Sock
}

// NewListener returns a listening socket in namespace net. mptcp selects an
// MPTCP listener (with its internal TCP subflow listener).
func NewListener(net *NetCore, mptcp bool) *Listener {
	l := &Listener{Sock: NewSock(net)}
	if mptcp {
		l.subflow = NewSock(l.Sock.net)
	}
	return l
}

// MPTCP reports whether the listener is an MPTCP listener.
func (l *Listener) MPTCP() bool { return l.subflow != nil }

// PacketSock returns the socket that packets addressed to the listener
// carry (skb->sk at cgroup_skb hooks, the sockops socket): the TCP subflow
// listener for MPTCP, the listening socket otherwise. Program-side storage
// created on listener packets lands there (kernel_lab §6: with an MPTCP
// listener "the listener fd has no storage").
func (l *Listener) PacketSock() *Sock {
	if l.subflow != nil {
		return l.subflow
	}
	return l.Sock
}

// Close destructs the listener's sockets.
func (l *Listener) Close(e *Env) {
	l.Sock.Close(e)
	if l.subflow != nil {
		l.subflow.Close(e)
	}
}

// Conn is one side of a connection: the server side made by PassiveOpen
// or the client side made by ActiveOpen.
type Conn struct {
	// Sock is the socket behind the side's fd: the one accept() returns,
	// or the one the client called connect() on.
	Sock *Sock
	// PacketSock is the socket the connection's packets carry: the TCP
	// subflow for an MPTCP connection, Sock otherwise.
	PacketSock *Sock
	// FellBack reports an MPTCP listener ending with a plain TCP
	// connection (a TCP client, or the msk clone failed). ActiveOpen
	// leaves it false.
	FellBack bool
}

// Close destructs the connection's sockets (for MPTCP the msk and its
// subflow, as mptcp_close() -> __mptcp_close_ssk() does).
func (c *Conn) Close(e *Env) {
	c.Sock.Close(e)
	if c.PacketSock != c.Sock {
		c.PacketSock.Close(e)
	}
}

// PassiveOpen models the server side of a TCP or MPTCP handshake, as far as
// BPF_F_CLONE storage is concerned; clientMPTCP says whether the client
// requested MPTCP (MP_CAPABLE). The three cases kernel_lab §4 measured:
//
//   - plain TCP listener: the child is sk_clone_lock(listener) (via
//     inet_csk_clone_lock()), which runs bpf_sk_storage_clone(): the
//     accepted socket gets copies of the listener's BPF_F_CLONE elements.
//   - MPTCP listener, TCP client: subflow_syn_recv_sock() falls back; the
//     child is cloned from the internal subflow listener, whose storage is
//     not the listener fd's, so the accepted socket gets nothing from the
//     listener fd.
//   - MPTCP listener and client: the TCP subflow is cloned from the subflow
//     listener, then mptcp_sk_clone_init() runs sk_clone_lock(listener msk):
//     the accepted msk gets the listener fd's BPF_F_CLONE elements, while
//     the connection's packets carry the subflow.
//
// If cloning storage into the (subflow) child fails, sk_clone_lock() fails,
// the half-built child is freed (sk_free_unlock_clone() ->
// bpf_sk_storage_free()) and no connection is made: the error is -ENOMEM.
// If only the msk clone fails, subflow_syn_recv_sock() falls back to plain
// TCP with the subflow child.
func (e *Env) PassiveOpen(l *Listener, clientMPTCP bool) (*Conn, error) {
	from := l.Sock
	if l.subflow != nil {
		from = l.subflow
	}
	child, err := e.cloneSock(from)
	if err != nil {
		return nil, fmt.Errorf("passive open: %w", err)
	}
	if l.subflow == nil {
		return &Conn{Sock: child, PacketSock: child}, nil
	}
	if !clientMPTCP {
		return &Conn{Sock: child, PacketSock: child, FellBack: true}, nil
	}
	msk, err := e.cloneSock(l.Sock)
	if err != nil {
		// mptcp_sk_clone_init() returned NULL: goto fallback.
		return &Conn{Sock: child, PacketSock: child, FellBack: true}, nil
	}
	return &Conn{Sock: msk, PacketSock: child}, nil
}

// cloneSock models sk_clone_lock()'s storage part: a new socket in the
// parent's namespace, bpf_sk_storage_clone(), and on failure the destruct
// of the half-built child.
func (e *Env) cloneSock(parent *Sock) (*Sock, error) {
	child := NewSock(parent.net)
	if err := e.SkClone(parent, child); err != nil {
		child.Close(e)
		return nil, err
	}
	return child, nil
}
