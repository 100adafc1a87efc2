package kernel_test

import (
	"fmt"
	"log"

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
