package kernel

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/skbsim/skbsim/internal/errno"
	"github.com/skbsim/skbsim/internal/testutil"
)

// TestKernelSkStorageCloneOnAccept is kernel_lab §4: storage set on the
// listener before the client connects is copied to the accepted socket only
// for BPF_F_CLONE maps and only when the accepted socket was cloned from the
// listener fd's socket (sk_clone_lock -> bpf_sk_storage_clone).
func TestKernelSkStorageCloneOnAccept(t *testing.T) {
	testutil.KernelTests(t)
	for _, c := range []struct {
		mode                              ListenMode
		listenerProto, clientProto, accPr int
		cloned                            bool
	}{
		{ListenPlainTCP, unix.IPPROTO_TCP, unix.IPPROTO_TCP, unix.IPPROTO_TCP, true},
		{ListenGoDefault, unix.IPPROTO_MPTCP, unix.IPPROTO_TCP, unix.IPPROTO_TCP, false},
		{ListenMPTCP, unix.IPPROTO_MPTCP, unix.IPPROTO_MPTCP, unix.IPPROTO_MPTCP, true},
	} {
		t.Run(c.mode.String(), func(t *testing.T) {
			ns := newNetns(t, "clone")
			clone := newStorageMap(t, skSpec(4, FlagNoPrealloc|FlagClone))
			plain := newStorageMap(t, skSpec(4, FlagNoPrealloc))
			l, err := ns.ListenTCP(c.mode)
			require.NoError(t, err)
			defer l.Close()
			require.Equal(t, c.listenerProto, l.Proto, "listener protocol")
			val := []byte{1, 2, 3, 4}
			require.NoError(t, clone.Update(l.FD, val, UpdateNoExist))
			require.NoError(t, plain.Update(l.FD, val, UpdateNoExist))

			cl, acc, err := l.Connect()
			require.NoError(t, err)
			defer cl.Close()
			defer acc.Close()
			require.Equal(t, c.clientProto, cl.Proto, "client protocol")
			require.Equal(t, c.accPr, acc.Proto, "accepted protocol")

			got, err := clone.Lookup(acc.FD, 0)
			if c.cloned {
				require.NoError(t, err, "CLONE map on the accepted socket")
				require.Equal(t, val, got)
				// The child's copy is independent of the listener's.
				require.NoError(t, clone.Update(acc.FD, []byte{9, 9, 9, 9}, UpdateExist))
				lv, err := clone.Lookup(l.FD, 0)
				require.NoError(t, err)
				require.Equal(t, val, lv)
			} else {
				require.ErrorIs(t, err, errno.ENOENT, "CLONE map on the accepted socket")
			}
			_, err = plain.Lookup(acc.FD, 0)
			require.ErrorIs(t, err, errno.ENOENT, "non-CLONE map on the accepted socket")
			_, err = clone.Lookup(cl.FD, 0)
			require.ErrorIs(t, err, errno.ENOENT, "the connecting socket gets nothing")
		})
	}
}

// TestKernelSkStorageCloneFailure covers bpf_sk_storage_clone() failing on
// passive open, which needs no fault injection: the child's
// sk_omem_alloc starts at 0 (sk_clone_lock()) and the copy is charged
// against the namespace's optmem_max read at clone time, so lowering the
// sysctl under the listener's element makes the charge fail (-ENOMEM).
// sk_clone_lock() then frees the child, tcp_v4_syn_recv_sock() counts a
// ListenDrop (not a ListenOverflow), the final ACK is dropped and accept()
// has nothing to return. The request stays queued: once optmem_max is
// raised again, the retransmitted SYN-ACK and the client's ACK complete
// the same connection with the copied element. Closing the accepted
// socket with CloseWait removes it (and its element) from the namespace
// while the listener keeps its own. Netns.TCPSockets shows each stage,
// including the request socket that has no child.
func TestKernelSkStorageCloneFailure(t *testing.T) {
	testutil.KernelTests(t)
	ns := newNetns(t, "clonefail")
	clone := newStorageMap(t, skSpec(600, FlagNoPrealloc|FlagClone))
	l, err := ns.ListenTCP(ListenPlainTCP)
	require.NoError(t, err)
	defer l.Close()
	val := bytes.Repeat([]byte{0x5a}, 600)
	require.NoError(t, clone.Update(l.FD, val, UpdateNoExist))
	charge := 176 + 72 + 600 // struct bpf_local_storage + elem + value (kernel_lab §5)
	lo, err := SkOmemAlloc(l.FD)
	require.NoError(t, err)
	require.Equal(t, charge, lo)
	before, err := ns.Netstat()
	require.NoError(t, err)

	// 72+600 bytes of the child's element exceed 512: the first charge fails.
	require.NoError(t, ns.Sysctl("net.core.optmem_max", "512"))
	cl, acc, err := l.ConnectWithin(300 * time.Millisecond)
	defer cl.Close()
	defer acc.Close() // FD -1 unless the clone unexpectedly succeeded
	require.ErrorIs(t, err, ErrAcceptTimeout, "no child socket")
	require.ErrorIs(t, err, errno.ETIMEDOUT)
	require.Equal(t, -1, acc.FD)
	after, err := ns.Netstat()
	require.NoError(t, err)
	require.Positive(t, after["TcpExt.ListenDrops"]-before["TcpExt.ListenDrops"], "sk_clone_lock() failure counts a ListenDrop")
	require.Equal(t, before["TcpExt.ListenOverflows"], after["TcpExt.ListenOverflows"], "not an accept queue overflow")
	lo, err = SkOmemAlloc(l.FD)
	require.NoError(t, err)
	require.Equal(t, charge, lo, "the listener's element and charge are untouched")
	lc, err := l.Cookie()
	require.NoError(t, err)
	cc, err := cl.Cookie()
	require.NoError(t, err)
	socks := tcpSockets(t, ns, clone)
	require.Equal(t, TCPSock{lc, TCPListen, true}, socks[lc])
	require.Equal(t, TCPSock{cc, TCPEstablished, false}, socks[cc], "the client completed its handshake")
	require.Len(t, socks, 3)
	for c, s := range socks {
		if c != lc && c != cc {
			require.Equal(t, TCPNewSynRecv, s.State, "the request socket stays queued, no child socket exists")
		}
	}

	require.NoError(t, ns.Sysctl("net.core.optmem_max", "131072"))
	acc, err = l.Accept(5 * time.Second)
	require.NoError(t, err, "the retransmitted handshake completes once the charge fits")
	defer acc.Close()
	got, err := clone.Lookup(acc.FD, 0)
	require.NoError(t, err)
	require.Equal(t, val, got)
	ao, err := SkOmemAlloc(acc.FD)
	require.NoError(t, err)
	require.Equal(t, charge, ao, "the child is charged for its own copy")
	require.NoError(t, PingPong(cl.FD, acc.FD))

	ac, err := acc.Cookie()
	require.NoError(t, err)
	socks = tcpSockets(t, ns, clone)
	require.Len(t, socks, 3)
	require.Equal(t, TCPSock{ac, TCPEstablished, true}, socks[ac])
	require.NoError(t, acc.CloseWait(2*time.Second))
	socks = tcpSockets(t, ns, clone)
	require.NotContains(t, socks, ac, "the accepted socket is gone, with its element")
	require.Equal(t, TCPSock{lc, TCPListen, true}, socks[lc], "the listener keeps its own")
	lo, err = SkOmemAlloc(l.FD)
	require.NoError(t, err)
	require.Equal(t, charge, lo)
}

func tcpSockets(t *testing.T, ns *Netns, m *StorageMap) map[uint64]TCPSock {
	t.Helper()
	list, err := ns.TCPSockets(m)
	require.NoError(t, err)
	out := map[uint64]TCPSock{}
	for _, s := range list {
		out[s.Cookie] = s
	}
	require.Len(t, out, len(list), "cookies are unique")
	return out
}

// TestKernelSkStorageOrphan: what a graceful close does to a TCP socket's
// storage. By default the closed client's FIN_WAIT2 orphan is replaced at
// once by a time-wait socket (tcp_close() -> tcp_time_wait(TCP_FIN_WAIT2)
// when tcp_fin_time() <= TCP_TIMEWAIT_LEN): same cookie, the full socket
// and its element are gone. With TCP_LINGER2 above 60 s the full socket
// lives on as an orphan in FIN_WAIT2 and keeps its element without a
// descriptor, until the peer's FIN turns it into a time-wait socket and
// its destruction frees the element (bpf_sk_storage_free()). CloseWait on
// a UDP socket only closes it.
func TestKernelSkStorageOrphan(t *testing.T) {
	testutil.KernelTests(t)
	ns := newNetns(t, "orphan")
	m := newStorageMap(t, skSpec(8, FlagNoPrealloc))
	l, err := ns.ListenTCP(ListenPlainTCP)
	require.NoError(t, err)
	defer l.Close()
	for _, linger2 := range []int{0, 90} {
		cl, acc, err := l.Connect()
		require.NoError(t, err)
		defer acc.Close()
		require.NoError(t, m.Update(cl.FD, make([]byte, 8), UpdateNoExist))
		if linger2 > 0 {
			require.NoError(t, unix.SetsockoptInt(cl.FD, unix.IPPROTO_TCP, unix.TCP_LINGER2, linger2))
		}
		cc, err := cl.Cookie()
		require.NoError(t, err)
		require.NoError(t, cl.Close())
		state := func(want int) func() bool {
			return func() bool { return tcpSockets(t, ns, m)[cc].State == want }
		}
		if linger2 > 0 {
			require.Eventually(t, state(TCPFinWait2), 2*time.Second, time.Millisecond)
			require.Equal(t, TCPSock{cc, TCPFinWait2, true}, tcpSockets(t, ns, m)[cc], "the orphan keeps its element")
			require.NoError(t, acc.Close())
		}
		require.Eventually(t, state(TCPTimeWait), 2*time.Second, time.Millisecond)
		require.Equal(t, TCPSock{cc, TCPTimeWait, false}, tcpSockets(t, ns, m)[cc], "time-wait socket: the full socket was destructed")
	}

	u, err := ns.UDPSocket()
	require.NoError(t, err)
	us := Socket{FD: u.FD, Proto: unix.IPPROTO_UDP}
	require.ErrorIs(t, us.CloseWait(time.Second), errors.ErrUnsupported)
	require.Equal(t, -1, us.FD, "closed anyway")
}

// TestKernelSkStorageCloneFailureMPTCP: with MPTCP on both sides the
// subflow child is cloned from the internal subflow listener (no storage),
// and only mptcp_sk_clone_init() -> sk_clone_lock(listener msk) copies the
// listener fd's element. When that copy fails the connection is not
// dropped: subflow_syn_recv_sock() falls back to TCP and accept() returns
// the TCP subflow, without the element.
func TestKernelSkStorageCloneFailureMPTCP(t *testing.T) {
	testutil.KernelTests(t)
	ns := newNetns(t, "clonefailmp")
	clone := newStorageMap(t, skSpec(600, FlagNoPrealloc|FlagClone))
	l, err := ns.ListenTCP(ListenMPTCP)
	require.NoError(t, err)
	defer l.Close()
	require.NoError(t, clone.Update(l.FD, make([]byte, 600), UpdateNoExist))
	require.NoError(t, ns.Sysctl("net.core.optmem_max", "512"))
	cl, acc, err := l.ConnectWithin(2 * time.Second)
	require.NoError(t, err)
	defer cl.Close()
	defer acc.Close()
	require.Equal(t, unix.IPPROTO_MPTCP, cl.Proto)
	require.Equal(t, unix.IPPROTO_TCP, acc.Proto, "fell back to TCP")
	_, err = clone.Lookup(acc.FD, 0)
	require.ErrorIs(t, err, errno.ENOENT)
	require.NoError(t, PingPong(cl.FD, acc.FD))
}
