package diff

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"time"

	"github.com/skbsim/skbsim/internal/errno"
	"github.com/skbsim/skbsim/kernel"
)

// kernelWorld holds the kernel objects a suite reuses across sequences: a
// network namespace, the pool sockets, three listeners, a pipe and pidfds.
// Close releases all of them.
type kernelWorld struct {
	ns     *kernel.Netns
	fds    map[Target]int
	lis    [3]*kernel.Listener
	conns  [3][2]*kernel.Socket // client, accepted
	pipe   [2]int
	child  *exec.Cmd
	optmem int
}

// newKernelWorld creates the namespace and the long-lived targets. On
// error everything created so far is released.
func newKernelWorld(what string) (w *kernelWorld, err error) {
	w = &kernelWorld{fds: map[Target]int{}, pipe: [2]int{-1, -1}}
	defer func() {
		if err != nil {
			err = errors.Join(err, w.Close())
			w = nil
		}
	}()
	if w.ns, err = kernel.NewNetns(what); err != nil {
		return w, err
	}
	for _, t := range []Target{TgtTCP0, TgtTCP1, TgtUDP, TgtUnix} {
		if err := w.openPool(t); err != nil {
			return w, err
		}
	}
	for l := range Listen(3) {
		if w.lis[l], err = w.ns.ListenTCP(kernel.ListenMode(l)); err != nil {
			return w, fmt.Errorf("listener %s: %w", l, err)
		}
		w.fds[l.listener()] = w.lis[l].FD
	}
	if w.pipe[0], w.pipe[1], err = kernel.Pipe(); err != nil {
		return w, err
	}
	w.fds[TgtPipe] = w.pipe[0]
	self, err := kernel.OpenPidfd(os.Getpid())
	if err != nil {
		return w, fmt.Errorf("self: %w", err)
	}
	w.fds[TgtPidSelf] = self.FD
	w.child = exec.Command("sleep", "3600")
	if err := w.child.Start(); err != nil {
		w.child = nil
		return w, fmt.Errorf("start child: %w", err)
	}
	child, err := kernel.OpenPidfd(w.child.Process.Pid)
	if err != nil {
		return w, fmt.Errorf("child: %w", err)
	}
	w.fds[TgtPidChild] = child.FD
	// A child that exits and is reaped: its pidfd stays open but
	// pid_task() finds no task any more.
	reaped := exec.Command("true")
	if err := reaped.Start(); err != nil {
		return w, fmt.Errorf("start child: %w", err)
	}
	fd, perr := kernel.OpenPidfd(reaped.Process.Pid)
	if werr := reaped.Wait(); werr != nil || perr != nil {
		return w, fmt.Errorf("reaped child: %w", errors.Join(perr, werr, fd.Close()))
	}
	w.fds[TgtPidReaped] = fd.FD
	w.optmem, err = w.readOptmem()
	return w, err
}

func (w *kernelWorld) openPool(t Target) error {
	kind := kernel.SockTCP
	switch t {
	case TgtUDP:
		kind = kernel.SockUDP
	case TgtUnix:
		kind = kernel.SockUnixStream
	}
	fd, err := w.ns.NewSocket(kind)
	if err != nil {
		return fmt.Errorf("socket %s: %w", t, err)
	}
	w.fds[t] = fd
	return nil
}

func (w *kernelWorld) readOptmem() (int, error) {
	v, err := w.ns.ReadSysctl("net.core.optmem_max")
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(v)
}

func (w *kernelWorld) setOptmem(n int) error {
	if n == w.optmem {
		return nil
	}
	if err := w.ns.Sysctl("net.core.optmem_max", strconv.Itoa(n)); err != nil {
		return err
	}
	w.optmem = n
	return nil
}

// closeConn closes one side of a connection.
func (w *kernelWorld) closeConn(t Target) error {
	l, side := Listen(0), 0
	switch {
	case t >= TgtClientPlain && t <= TgtClientMPTCP:
		l = Listen(t - TgtClientPlain)
	case t >= TgtAccPlain && t <= TgtAccMPTCP:
		l, side = Listen(t-TgtAccPlain), 1
	default:
		return fmt.Errorf("%s is not a connection socket", t)
	}
	s := w.conns[l][side]
	w.conns[l][side] = nil
	delete(w.fds, t)
	if s == nil {
		return nil
	}
	return s.Close()
}

// Close releases everything the world holds.
func (w *kernelWorld) Close() error {
	var errs []error
	for l := range w.conns {
		for side := range w.conns[l] {
			if s := w.conns[l][side]; s != nil {
				errs = append(errs, s.Close())
			}
		}
	}
	for _, l := range w.lis {
		if l != nil {
			errs = append(errs, l.Close())
		}
	}
	for t, fd := range w.fds {
		if t.poolSocket() || t >= TgtPidSelf {
			errs = append(errs, kernel.CloseFD(fd))
		}
	}
	for _, fd := range w.pipe {
		errs = append(errs, kernel.CloseFD(fd))
	}
	if w.child != nil {
		_ = w.child.Process.Kill()
		_ = w.child.Wait() // "signal: killed"
	}
	if w.ns != nil {
		errs = append(errs, w.ns.Close())
	}
	return errors.Join(errs...)
}

// soMeminfo reads sk_omem_alloc of a socket (kernel.SkOmemAlloc).
func soMeminfo(fd int) (int, error) { return kernel.SkOmemAlloc(fd) }

// kernelBackend runs sequences on the running kernel, reusing a
// kernelWorld.
type kernelBackend struct {
	w    *kernelWorld
	maps [maxMaps]*kernel.StorageMap
}

func kernelSpec(c MapConf) kernel.StorageMapSpec {
	s := kernel.StorageMapSpec{
		Type: kernel.MapSkStorage, KeySize: 4, ValueSize: c.ValueSize, MaxEntries: c.MaxEntries,
		Flags: c.Flags, SpinLock: c.SpinLock,
	}
	if c.Kind == TaskMap {
		s.Type = kernel.MapTaskStorage
	}
	switch c.Key {
	case KeyInt:
		s.Key = kernel.KeyInt
	case KeyUint:
		s.Key = kernel.KeyUnsignedInt
	case KeyLongLong8:
		s.KeySize, s.Key = 8, kernel.KeyLongLong
	case KeyLongLong4:
		s.Key = kernel.KeyLongLong
	case KeyStruct:
		s.Key = kernel.KeyStruct
	case KeyNoBTF:
		s.Key = kernel.KeyNone
	}
	return s
}

func (b *kernelBackend) begin(optmemMax int) error {
	b.maps = [maxMaps]*kernel.StorageMap{}
	return b.w.setOptmem(optmemMax)
}

func (b *kernelBackend) fd(t Target) int {
	if fd, ok := b.w.fds[t]; ok {
		return fd
	}
	return badFD
}

func (b *kernelBackend) step(s Step) (Result, error) {
	if s.Map < 0 || s.Map >= maxMaps {
		return Result{}, fmt.Errorf("map slot %d out of range", s.Map)
	}
	m := b.maps[s.Map]
	switch s.Op {
	case OpCreateMap:
		if m != nil {
			return Result{Skip: true}, nil
		}
		nm, err := kernel.NewStorageMap(kernelSpec(s.Conf))
		if err == nil {
			b.maps[s.Map] = nm
		} else if errno.Of(err) == 0 {
			return Result{}, err
		}
		return Result{Errno: errno.Of(err)}, nil
	case OpClose:
		return b.close(s.Target)
	case OpConnect:
		return b.connect(s.Listen)
	case OpSetOptmem:
		return Result{}, b.w.setOptmem(s.Optmem)
	}
	if m == nil {
		return Result{Skip: true}, nil
	}
	fd := b.fd(s.Target)
	switch s.Op {
	case OpCloseMap:
		b.maps[s.Map] = nil
		return Result{}, b.closeMap(m)
	case OpUpdate:
		return Result{Errno: errno.Of(m.Update(fd, Value(m.Spec().ValueSize, s.Fill), s.Flags))}, nil
	case OpLookup:
		v, err := m.Lookup(fd, s.Flags)
		return Result{Errno: errno.Of(err), Value: v}, nil
	case OpDelete:
		return Result{Errno: errno.Of(m.Delete(fd))}, nil
	case OpNextKey:
		_, err := m.NextKey(fd)
		return Result{Errno: errno.Of(err)}, nil
	case OpLookupAndDelete:
		_, err := m.LookupAndDelete(fd)
		return Result{Errno: errno.Of(err)}, nil
	}
	return Result{}, fmt.Errorf("unknown op %v", s.Op)
}

// closeMap closes the map's last reference. The kernel frees the map from
// a workqueue (bpf_map_put -> bpf_map_free_deferred -> bpf_map_free ->
// bpf_local_storage_map_free, which unlinks and uncharges every owner's
// element after synchronize_rcu); the model frees synchronously. Until the
// work has run, an update on an owner whose last element belonged to the
// closed map can fail with -EAGAIN (bpf_local_storage_update() finds the
// owner's list emptied under it; seen with task storage). So closeMap waits
// for the free: it notes which owners hold an element (syscall lookups);
// for sockets it waits until each one's sk_omem_alloc has dropped, and if a
// task held one it waits until the map's BTF object, which only the map
// references and which bpf_map_free() puts after map_free, is gone.
func (b *kernelBackend) closeMap(m *kernel.StorageMap) error {
	btfID, err := m.BTFID()
	if err != nil {
		m.Close()
		return err
	}
	held := map[int]int{}
	tasks := false
	for t, fd := range b.w.fds {
		if _, err := m.Lookup(fd, 0); err != nil {
			continue
		}
		if !t.IsSocket() {
			tasks = true
			continue
		}
		o, err := soMeminfo(fd)
		if err != nil {
			m.Close()
			return err
		}
		held[fd] = o
	}
	if err := m.Close(); err != nil {
		return err
	}
	if err := waitOmem(held, func(now, before int) bool { return now < before }); err != nil {
		return err
	}
	if !tasks {
		return nil
	}
	// Task elements leave no trace a syscall can read; the whole free
	// (including its RCU barriers, tens of milliseconds) has to end.
	return waitBTFGone(btfID)
}

// waitBTFGone polls kernel.BTFExists until the BTF object is freed, at
// most 5 s.
func waitBTFGone(id uint32) error {
	if id == 0 {
		return nil
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		alive, err := kernel.BTFExists(id)
		if err != nil || !alive {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("map free did not finish: btf %d still referenced", id)
		}
		time.Sleep(time.Millisecond)
	}
}

// waitOmem polls sk_omem_alloc of the sockets in want until done(now,
// want[fd]) holds for every one of them (at most 5 s).
func waitOmem(want map[int]int, done func(now, v int) bool) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		pending := 0
		var last error
		for fd, v := range want {
			now, err := soMeminfo(fd)
			if err != nil {
				return err
			}
			if !done(now, v) {
				pending++
				last = fmt.Errorf("fd %d: sk_omem_alloc %d (was %d)", fd, now, v)
			}
		}
		if pending == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("map free did not uncharge %d sockets: %w", pending, last)
		}
		time.Sleep(time.Millisecond)
	}
}

func (b *kernelBackend) close(t Target) (Result, error) {
	fd, open := b.w.fds[t]
	switch {
	case !open || !(t.poolSocket() || t.connSocket()):
		return Result{Skip: true}, nil
	case t.connSocket():
		return Result{}, b.w.closeConn(t)
	}
	delete(b.w.fds, t)
	if err := kernel.CloseFD(fd); err != nil {
		return Result{}, err
	}
	return Result{}, b.w.openPool(t)
}

func (b *kernelBackend) connect(l Listen) (Result, error) {
	if err := errors.Join(b.w.closeConn(l.client()), b.w.closeConn(l.accepted())); err != nil {
		return Result{}, err
	}
	c, a, err := b.w.lis[l].Connect()
	if err != nil {
		return Result{}, err
	}
	b.w.conns[l] = [2]*kernel.Socket{&c, &a}
	b.w.fds[l.client()] = c.FD
	b.w.fds[l.accepted()] = a.FD
	return Result{}, nil
}

func (b *kernelBackend) omem() (map[Target]int, error) {
	out := make(map[Target]int, len(b.w.fds))
	for t, fd := range b.w.fds {
		if !t.IsSocket() {
			continue
		}
		v, err := soMeminfo(fd)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t, err)
		}
		out[t] = v
	}
	return out, nil
}

// end deletes every element the sequence left (so the pool is clean for the
// next sequence), closes the maps and the connections, and checks that every
// pool socket and listener is back to sk_omem_alloc 0.
func (b *kernelBackend) end() error {
	var errs []error
	for i, m := range b.maps {
		if m == nil {
			continue
		}
		for _, fd := range b.w.fds {
			if err := m.Delete(fd); err != nil && errno.Of(err) == 0 {
				errs = append(errs, err)
			}
		}
		errs = append(errs, m.Close())
		b.maps[i] = nil
	}
	for l := range Listen(3) {
		errs = append(errs, b.w.closeConn(l.client()), b.w.closeConn(l.accepted()))
	}
	want := map[int]int{}
	for t, fd := range b.w.fds {
		if t.IsSocket() {
			want[fd] = 0
		}
	}
	errs = append(errs, waitOmem(want, func(now, v int) bool { return now == v }))
	return errors.Join(errs...)
}
