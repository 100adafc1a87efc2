package diff

import (
	"fmt"

	"github.com/skbsim/skbsim/internal/errno"
	"github.com/skbsim/skbsim/localstorage"
)

// maxMaps is the number of map slots a sequence uses.
const maxMaps = 3

// badFD is the descriptor number used for TgtBadFD and for targets that
// are not open: far above any open descriptor (and RLIMIT_NOFILE), so
// fdget() finds nothing.
const badFD = 0x7fff0000

// modelBackend runs sequences on the localstorage model with the kernel
// profile of the machine under test (localstorage.ProfileV6_18).
type modelBackend struct {
	prof  localstorage.Profile
	env   *localstorage.Env
	net   *localstorage.NetCore
	files *localstorage.FDTable
	maps  [maxMaps]*localstorage.Map
	// fds maps open targets to their descriptor in files.
	fds   map[Target]int32
	socks map[Target]*localstorage.Sock
	lis   [3]*localstorage.Listener
	// conns and clients are the accepted and the client side of the last
	// connection to each listener kind.
	conns   [3]*localstorage.Conn
	clients [3]*localstorage.Conn
	tasks   struct{ self, child, reaped *localstorage.Task }
}

func newModelBackend(p localstorage.Profile) *modelBackend { return &modelBackend{prof: p} }

func (b *modelBackend) begin(optmemMax int) error {
	b.env = localstorage.NewEnv(localstorage.Config{Profile: b.prof})
	b.net = &localstorage.NetCore{OptmemMax: optmemMax}
	b.files = localstorage.NewFDTable()
	b.maps = [maxMaps]*localstorage.Map{}
	b.fds = map[Target]int32{}
	b.socks = map[Target]*localstorage.Sock{}
	b.conns = [3]*localstorage.Conn{}
	b.clients = [3]*localstorage.Conn{}
	for _, t := range []Target{TgtTCP0, TgtTCP1, TgtUDP, TgtUnix} {
		b.openSock(t, localstorage.NewSock(b.net))
	}
	for l := range Listen(3) {
		b.lis[l] = localstorage.NewListener(b.net, l != ListenPlain)
		b.openSock(l.listener(), b.lis[l].Sock)
	}
	b.fds[TgtPipe] = b.files.Install(&localstorage.OtherFile{Name: "pipe"})
	b.tasks.self = localstorage.NewTask(1)
	b.tasks.child = localstorage.NewTask(2)
	b.tasks.reaped = localstorage.NewTask(3)
	// models release_task() of a reaped child: its pidfd no longer
	// resolves (pid_task() == NULL).
	b.tasks.reaped.Exit()
	b.fds[TgtPidSelf] = b.files.Install(&localstorage.PidFD{Task: b.tasks.self})
	b.fds[TgtPidChild] = b.files.Install(&localstorage.PidFD{Task: b.tasks.child})
	b.fds[TgtPidReaped] = b.files.Install(&localstorage.PidFD{Task: b.tasks.reaped})
	return nil
}

func (b *modelBackend) openSock(t Target, sk *localstorage.Sock) {
	sk.Name = t.String()
	b.socks[t] = sk
	b.fds[t] = b.files.Install(sk)
}

func (b *modelBackend) fd(t Target) int32 {
	if fd, ok := b.fds[t]; ok {
		return fd
	}
	return badFD
}

// modelSpec translates a MapConf into the model's map spec.
func modelSpec(c MapConf) localstorage.MapSpec {
	s := localstorage.MapSpec{
		Type: localstorage.MapTypeSkStorage, KeySize: 4, ValueSize: int(c.ValueSize),
		MaxEntries: int(c.MaxEntries), Flags: c.Flags,
		Value: localstorage.BytesType(int(c.ValueSize)),
	}
	if c.Kind == TaskMap {
		s.Type = localstorage.MapTypeTaskStorage
	}
	if c.SpinLock {
		s.Value = localstorage.SpinLockType(int(c.ValueSize), 0)
	}
	switch c.Key {
	case KeyInt:
		s.Key = localstorage.IntType("int", 4, true)
	case KeyUint:
		s.Key = localstorage.IntType("unsigned int", 4, false)
	case KeyLongLong8:
		s.KeySize, s.Key = 8, localstorage.IntType("long long", 8, true)
	case KeyLongLong4:
		s.Key = localstorage.IntType("long long", 8, true)
	case KeyStruct:
		s.Key = &localstorage.BTFType{Kind: localstorage.BTFStruct, Name: "skbsim_key", Size: 4}
	case KeyNoBTF:
		s.Key, s.Value = nil, nil
	}
	return s
}

func (b *modelBackend) step(s Step) (Result, error) {
	if s.Map < 0 || s.Map >= maxMaps {
		return Result{}, fmt.Errorf("map slot %d out of range", s.Map)
	}
	m := b.maps[s.Map]
	switch s.Op {
	case OpCreateMap:
		if m != nil {
			return Result{Skip: true}, nil
		}
		nm, err := b.env.CreateMap(modelSpec(s.Conf))
		if err == nil {
			b.maps[s.Map] = nm
		}
		return Result{Errno: errno.Of(err)}, nil
	case OpClose:
		return b.close(s.Target), nil
	case OpConnect:
		return b.connect(s.Listen)
	case OpSetOptmem:
		// models the sysctl write: bpf_sk_storage_charge() reads
		// sock_net(sk)->core.sysctl_optmem_max at every charge.
		b.net.OptmemMax = s.Optmem
		return Result{}, nil
	}
	if m == nil {
		return Result{Skip: true}, nil
	}
	fd := b.fd(s.Target)
	switch s.Op {
	case OpCloseMap:
		m.Free()
		b.maps[s.Map] = nil
		return Result{}, nil
	case OpUpdate:
		return Result{Errno: errno.Of(m.UpdateElem(b.files, fd, Value(uint32(m.ValueSize()), s.Fill), s.Flags))}, nil
	case OpLookup:
		out := make([]byte, m.ValueSize())
		if err := m.LookupElem(b.files, fd, out, s.Flags); err != nil {
			return Result{Errno: errno.Of(err)}, nil
		}
		return Result{Value: out}, nil
	case OpDelete:
		return Result{Errno: errno.Of(m.DeleteElem(b.files, fd))}, nil
	case OpNextKey:
		return Result{Errno: errno.Of(m.GetNextKey())}, nil
	case OpLookupAndDelete:
		return Result{Errno: errno.Of(m.LookupAndDeleteElem())}, nil
	}
	return Result{}, fmt.Errorf("unknown op %v", s.Op)
}

// close models close(fd) of the target's last descriptor: the socket is
// released and destructed (__sk_destruct -> bpf_sk_storage_free). A pool
// socket is replaced by a fresh one; closing a connection side leaves its
// slot closed. Other targets are not closable (skipped).
func (b *modelBackend) close(t Target) Result {
	sk, open := b.socks[t]
	if !open || !(t.poolSocket() || t.connSocket()) {
		return Result{Skip: true}
	}
	b.files.Close(b.fds[t])
	delete(b.fds, t)
	delete(b.socks, t)
	if l, acc := t.acceptedOf(); acc && b.conns[l] != nil {
		// The accepted socket and, for MPTCP, its subflow.
		b.conns[l].Close(b.env)
		b.conns[l] = nil
	} else if l, cli := t.clientOf(); cli && b.clients[l] != nil {
		// The client's socket and, for MPTCP, its subflow
		// (mptcp_close() -> __mptcp_close_ssk()).
		b.clients[l].Close(b.env)
		b.clients[l] = nil
	} else {
		sk.Close(b.env)
	}
	if t.poolSocket() {
		b.openSock(t, localstorage.NewSock(b.net))
	}
	return Result{}
}

// connect closes the previous connection of the listener's kind, then
// makes a new one: the client comes from localstorage.Env.ActiveOpen on a
// fresh socket (for MPTCP the fd is the msk, with a first subflow), the
// accepted socket from localstorage.Env.PassiveOpen.
func (b *modelBackend) connect(l Listen) (Result, error) {
	b.close(l.client())
	b.close(l.accepted())
	cli := b.env.ActiveOpen(localstorage.NewSock(b.net), l.clientMPTCP())
	c, err := b.env.PassiveOpen(b.lis[l], l.clientMPTCP())
	if err != nil {
		// The kernel would drop the handshake and accept() would not
		// return; the harness never generates this case.
		cli.Close(b.env)
		return Result{}, fmt.Errorf("passive open on %s: %w", l, err)
	}
	b.conns[l] = c
	b.clients[l] = cli
	b.openSock(l.client(), cli.Sock)
	b.openSock(l.accepted(), c.Sock)
	return Result{}, nil
}

func (b *modelBackend) omem() (map[Target]int, error) {
	out := make(map[Target]int, len(b.socks))
	for t, sk := range b.socks {
		out[t] = sk.OmemAlloc()
	}
	return out, nil
}

func (b *modelBackend) end() error {
	b.env.Close()
	b.env = nil
	return nil
}
