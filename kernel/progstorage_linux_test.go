package kernel

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/skbsim/skbsim/internal/errno"
	"github.com/skbsim/skbsim/internal/testutil"
)

// BPF_SOCK_OPS_* ops (uapi enum).
const (
	opTimeoutInit        = 1
	opRwndInit           = 2
	opTCPConnectCB       = 3
	opActiveEstablished  = 4
	opPassiveEstablished = 5
	opNeedsECN           = 6
	opTCPListenCB        = 11
)

func mask(ops ...int) uint64 {
	var m uint64
	for _, o := range ops {
		m |= 1 << o
	}
	return m
}

// progStorage loads and attaches the programs to a fresh cgroup the process
// is moved into; everything is undone in cleanups.
func progStorage(t *testing.T) *ProgStorage {
	t.Helper()
	cg, err := NewCgroup()
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, cg.Close()) })
	p, err := LoadProgStorage()
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, p.Close()) })
	require.NoError(t, p.Attach(cg))
	leave, err := cg.Enter()
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, leave()) })
	return p
}

// pingPong sends 4 bytes each way and waits for both.
func pingPong(t *testing.T, a, b Socket) {
	t.Helper()
	ca, cb := a.conn.(net.Conn), b.conn.(net.Conn)
	for _, d := range [][2]net.Conn{{ca, cb}, {cb, ca}} {
		_, err := d[0].Write([]byte("ping"))
		require.NoError(t, err)
		buf := make([]byte, 4)
		require.NoError(t, d[1].SetReadDeadline(time.Now().Add(2*time.Second)))
		_, err = io.ReadFull(d[1], buf)
		require.NoError(t, err)
	}
}

func TestKernelProgSkStorageTCP(t *testing.T) {
	testutil.KernelTests(t)
	p := progStorage(t)
	ns := newNetns(t, "progsk")
	require.NoError(t, p.SetMode(ModeCreate))

	l, err := ns.ListenTCP(ListenPlainTCP)
	require.NoError(t, err)
	defer l.Close()
	cl, acc, err := l.Connect()
	require.NoError(t, err)
	defer cl.Close()
	defer acc.Close()
	pingPong(t, cl, acc)
	time.Sleep(20 * time.Millisecond) // let delayed ACKs go out

	c, err := p.Value(cl.FD)
	require.NoError(t, err, "client storage created by the programs")
	a, err := p.Value(acc.FD)
	require.NoError(t, err, "accepted socket storage")
	lv, err := p.Value(l.FD)
	require.NoError(t, err, "listener storage")
	t.Logf("client %+v", c)
	t.Logf("accepted %+v", a)
	t.Logf("listener %+v", lv)

	// Client: SYN, ACK, data out; SYN-ACK, data in.
	require.GreaterOrEqual(t, c.EgressPkts, uint64(3))
	require.GreaterOrEqual(t, c.IngressPkts, uint64(2))
	require.Equal(t, mask(opTimeoutInit, opRwndInit, opTCPConnectCB, opActiveEstablished, opNeedsECN), c.SockopsMask)
	// Accepted: its first packets are seen once it exists (after the 3WHS).
	require.GreaterOrEqual(t, a.EgressPkts, uint64(1))
	require.GreaterOrEqual(t, a.IngressPkts, uint64(1))
	require.Equal(t, mask(opPassiveEstablished), a.SockopsMask)
	// Listener: SYN and final ACK arrive on the listener's skb->sk; the
	// SYN-ACK leaves from the request socket, and bpf_sk_fullsock() on it
	// yields the listener (measured: one egress packet of 60 bytes).
	require.Equal(t, uint64(2), lv.IngressPkts)
	require.Equal(t, uint64(1), lv.EgressPkts, "SYN-ACK")
	require.Equal(t, uint64(60), lv.EgressBytes, "SYN-ACK: 20 IP + 40 TCP with options")
	require.Equal(t, mask(opTCPListenCB), lv.SockopsMask)

	// Lookup mode does not create: a new connection gets nothing.
	require.NoError(t, p.SetMode(ModeLookup))
	cl2, acc2, err := l.Connect()
	require.NoError(t, err)
	defer cl2.Close()
	defer acc2.Close()
	pingPong(t, cl2, acc2)
	_, err = p.Value(cl2.FD)
	require.ErrorIs(t, err, errno.ENOENT)
	c1, err := p.Value(cl.FD)
	require.NoError(t, err)
	require.Equal(t, c, c1, "the first connection was idle")

	// Delete mode: the next packet of the first connection deletes its storage.
	require.NoError(t, p.ResetStats())
	require.NoError(t, p.SetMode(ModeDelete))
	pingPong(t, cl, acc)
	_, err = p.Value(cl.FD)
	require.ErrorIs(t, err, errno.ENOENT, "client storage deleted by the program")
	_, err = p.Value(acc.FD)
	require.ErrorIs(t, err, errno.ENOENT, "accepted storage deleted by the program")
	eg, err := p.Stats(ProgEgress)
	require.NoError(t, err)
	in, err := p.Stats(ProgIngress)
	require.NoError(t, err)
	t.Logf("delete mode: egress %+v ingress %+v", eg, in)
	// Exactly two elements existed (client, accepted): the first packet each
	// socket sends or receives deletes its element, later ones get ENOENT.
	require.Equal(t, uint64(2), eg.DelOK+in.DelOK, "successful deletes")
	require.Equal(t, eg.Runs+in.Runs-2, eg.DelErr+in.DelErr, "every other delete fails")
	require.Equal(t, -int64(errno.ENOENT), eg.LastDelErr)
}

func TestKernelProgSkStorageUDP(t *testing.T) {
	testutil.KernelTests(t)
	p := progStorage(t)
	ns := newNetns(t, "progudp")
	require.NoError(t, p.SetMode(ModeCreate))
	rx := newSocket(t, ns, unix.AF_INET, unix.SOCK_DGRAM, 0)
	tx := newSocket(t, ns, unix.AF_INET, unix.SOCK_DGRAM, 0)
	lo := &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}
	require.NoError(t, unix.Bind(rx, lo))
	sa, err := unix.Getsockname(rx)
	require.NoError(t, err)
	for range 3 {
		require.NoError(t, unix.Sendto(tx, make([]byte, 10), 0, sa))
	}
	buf := make([]byte, 64)
	for range 3 {
		n, _, err := unix.Recvfrom(rx, buf, 0)
		require.NoError(t, err)
		require.Equal(t, 10, n)
	}
	s, err := p.Value(tx)
	require.NoError(t, err)
	r, err := p.Value(rx)
	require.NoError(t, err)
	require.Equal(t, SkValue{EgressPkts: 3, EgressBytes: 3 * (20 + 8 + 10)}, s)
	require.Equal(t, SkValue{IngressPkts: 3, IngressBytes: 3 * (20 + 8 + 10)}, r)
}
