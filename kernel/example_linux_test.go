package kernel_test

import (
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/skbsim/skbsim/kernel"
	"github.com/skbsim/skbsim/kernel/observe"
)

// Record what the running kernel does to a packet's metadata on a
// cross-namespace veth hop and compare it with a model's matrix.
func ExampleRunTransition() {
	tr, err := observe.Lookup("veth-cross-netns")
	if err != nil {
		log.Fatal(err)
	}
	got, err := kernel.RunTransition(tr, nil)
	if err != nil {
		log.Fatal(err)
	}
	var model observe.Matrix // produced by the simulator for the same transition
	for _, d := range observe.Diff(got, model) {
		fmt.Println(d)
	}
}

// Drive socket local storage from the syscall side, keyed by a socket fd.
func ExampleNewStorageMap() {
	m, err := kernel.NewStorageMap(kernel.StorageMapSpec{
		Type: kernel.MapSkStorage, ValueSize: 8, Flags: kernel.FlagNoPrealloc | kernel.FlagClone,
	})
	if err != nil {
		log.Fatal(err) // errors.Is(err, errno.EINVAL) etc. match the kernel's first answer
	}
	defer m.Close()
	ns, err := kernel.NewNetns("example")
	if err != nil {
		log.Fatal(err)
	}
	defer ns.Close()
	l, err := ns.ListenTCP(kernel.ListenPlainTCP)
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	if err := m.Update(l.FD, make([]byte, 8), kernel.UpdateNoExist); err != nil {
		log.Fatal(err)
	}
}

// Create this process's task storage element from a BPF program and read it
// back through the syscall side, keyed by a pidfd.
func ExampleTaskProgStorage() {
	p, err := kernel.LoadTaskProgStorage()
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()
	pid := os.Getpid()
	r, err := p.Get(kernel.TaskGet{Pid: pid, Flags: kernel.TaskGetCreate, Arg: 42})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.Got, r.Value) // true {1 42}
	fd, err := kernel.OpenPidfd(pid)
	if err != nil {
		log.Fatal(err)
	}
	defer fd.Close()
	v, err := p.Lookup(fd.FD)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(v) // {1 42}
}

// Make a listener's BPF_F_CLONE element too big to copy into the child
// and see the connection wait in the accept queue's request socket.
func ExampleListener_ConnectWithin() {
	ns, err := kernel.NewNetns("example")
	if err != nil {
		log.Fatal(err)
	}
	defer ns.Close()
	m, err := kernel.NewStorageMap(kernel.StorageMapSpec{
		Type: kernel.MapSkStorage, ValueSize: 600, Flags: kernel.FlagNoPrealloc | kernel.FlagClone,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	l, err := ns.ListenTCP(kernel.ListenPlainTCP)
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	if err := m.Update(l.FD, make([]byte, 600), kernel.UpdateNoExist); err != nil {
		log.Fatal(err)
	}
	if err := ns.Sysctl("net.core.optmem_max", "512"); err != nil {
		log.Fatal(err)
	}
	client, _, err := l.ConnectWithin(300 * time.Millisecond)
	defer client.Close()
	fmt.Println(errors.Is(err, kernel.ErrAcceptTimeout)) // true
	socks, err := ns.TCPSockets(m)
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range socks {
		fmt.Println(s.State, s.HasElem) // listener 10 true, client 1 false, request 12 false
	}
}
