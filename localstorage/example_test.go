package localstorage_test

import (
	"errors"
	"fmt"

	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/localstorage"
	"github.com/skbsim/skbsim/skb"
)

// An sk storage map used from a program and from the syscall side, on the
// lab kernel's profile: the first element charges sizeof(struct
// bpf_local_storage) 176 + 72 + value_size against optmem_max.
func Example() {
	env := localstorage.NewEnv(localstorage.Config{Profile: localstorage.ProfileV6_18})
	m, err := env.CreateMap(localstorage.Spec(localstorage.MapTypeSkStorage, 8, 0))
	if err != nil {
		panic(err)
	}
	sk := localstorage.NewSock(nil)
	v, _ := m.SkStorageGet(sk, nil, localstorage.GetCreate) // bpf_sk_storage_get(F_CREATE)
	v[0] = 42

	files := localstorage.NewFDTable()
	fd := files.Install(sk)
	out := make([]byte, 8)
	_ = m.LookupElem(files, fd, out, 0) // BPF_MAP_LOOKUP_ELEM with the socket fd
	fmt.Println(out[0], sk.OmemAlloc())

	err = m.UpdateElem(files, fd, out, localstorage.UpdateNoExist)
	fmt.Println(errors.Is(err, localstorage.ErrExists))
	fmt.Println(m.GetNextKey())
	sk.Close(env)
	fmt.Println(sk.OmemAlloc())
	// Output:
	// 42 256
	// true
	// map_get_next_key: local storage maps have no keys to iterate (ENOTSUPP)
	// 0
}

// Map creation follows bpf_local_storage_map_alloc_check.
func ExampleEnv_CreateMap() {
	env := localstorage.NewEnv(localstorage.Config{})
	spec := localstorage.Spec(localstorage.MapTypeSkStorage, 65408, 0)
	_, err := env.CreateMap(spec)
	fmt.Println(err)
	spec = localstorage.Spec(localstorage.MapTypeSkbStorage, 8, localstorage.FlagClone)
	_, err = env.CreateMap(spec)
	fmt.Println(errors.Is(err, localstorage.ErrInvalid))
	// Output:
	// map_create: value_size 65408 > 65407: local storage value size too big (E2BIG)
	// true
}

// BPF_F_CLONE elements are copied to the accepted socket, except when an
// MPTCP listener falls back for a plain TCP client (kernel_lab §4).
func ExampleEnv_PassiveOpen() {
	env := localstorage.NewEnv(localstorage.Config{})
	m, _ := env.CreateMap(localstorage.Spec(localstorage.MapTypeSkStorage, 4, localstorage.FlagClone))
	for _, mptcp := range []bool{false, true} {
		l := localstorage.NewListener(nil, mptcp)
		_, _ = m.SkStorageGet(l.Sock, []byte{1, 2, 3, 4}, localstorage.GetCreate)
		conn, _ := env.PassiveOpen(l, false)
		v, err := m.SkStorageGet(conn.Sock, nil, 0)
		fmt.Println(mptcp, v, err)
		conn.Close(env)
		l.Close(env)
	}
	// Output:
	// false [1 2 3 4] <nil>
	// true [] local storage element not found (ENOENT)
}

// A program's bpf_sk_storage_get(skb->sk, F_CREATE) on a client's packets:
// for TCP the element lands on the client's socket, for MPTCP on its first
// subflow, so the client's fd (the msk) has none (kernel_lab §6).
func ExampleEnv_ActiveOpen() {
	env := localstorage.NewEnv(localstorage.Config{Profile: localstorage.ProfileV6_18})
	m, _ := env.CreateMap(localstorage.Spec(localstorage.MapTypeSkStorage, 40, 0))
	files := localstorage.NewFDTable()
	for _, mptcp := range []bool{false, true} {
		sk := localstorage.NewSock(nil)
		fd := files.Install(sk)
		conn := env.ActiveOpen(sk, mptcp)
		_, _ = m.SkStorageGet(conn.PacketSock, nil, localstorage.GetCreate)
		err := m.LookupElem(files, fd, make([]byte, 40), 0)
		fmt.Println(mptcp, err, sk.OmemAlloc(), conn.PacketSock.OmemAlloc())
		files.Close(fd)
		conn.Close(env)
	}
	// Output:
	// false <nil> 288 288
	// true map_lookup_elem: fd 3: local storage element not found (ENOENT) 0 288
}

// The skb local storage RFC: a clone shares the extension, and both sides
// are refused while it is shared.
func ExampleMap_SkbStorageGet() {
	acct := kmem.New()
	env := localstorage.NewEnv(localstorage.Config{Acct: acct})
	alloc := skb.NewAllocator(acct, skb.DefaultProfile())
	env.AttachSkb(alloc)
	m, _ := env.CreateMap(localstorage.Spec(localstorage.MapTypeSkbStorage, 4, 0))

	b, _ := alloc.AllocSkb(128)
	before := acct.Stats()
	v, _ := m.SkbStorageGet(localstorage.CtxNormal, b, nil, localstorage.GetCreate)
	after := acct.Stats()
	d := after.Sub(&before)
	fmt.Println("first write allocations:", d.Total.Allocs)
	v[0] = 7

	c, _ := b.Clone()
	_, err := m.SkbStorageGet(localstorage.CtxNormal, c, nil, 0)
	fmt.Println(err)
	c.ConsumeSkb()
	v, _ = m.SkbStorageGet(localstorage.CtxNormal, b, nil, 0)
	fmt.Println(v[0])
	b.ConsumeSkb()
	// Output:
	// first write allocations: 3
	// operation not supported on this local storage (EOPNOTSUPP)
	// 7
}

// A program's get without F_CREATE: -ENOENT until a value exists, then a
// live view of it.
func ExampleMap_SkbStorageLookup() {
	acct := kmem.New()
	env := localstorage.NewEnv(localstorage.Config{Acct: acct})
	alloc := skb.NewAllocator(acct, skb.DefaultProfile())
	env.AttachSkb(alloc)
	m, _ := env.CreateMap(localstorage.Spec(localstorage.MapTypeSkbStorage, 4, 0))

	b, _ := alloc.AllocSkb(128)
	_, err := m.SkbStorageLookup(b)
	fmt.Println(err)
	_ = m.SkbStorageStore(localstorage.CtxNormal, b, []byte{7, 0, 0, 0})
	v, err := m.SkbStorageLookup(b)
	fmt.Println(v, err)
	b.ConsumeSkb()
	// Output:
	// local storage element not found (ENOENT)
	// [7 0 0 0] <nil>
}

// Listing what a storage holds, newest first, for traces.
func ExampleStorage_Entries() {
	env := localstorage.NewEnv(localstorage.Config{})
	a, _ := env.CreateMap(localstorage.MapSpec{
		Name: "a", Type: localstorage.MapTypeTaskStorage, KeySize: 4, ValueSize: 2,
		Flags: localstorage.FlagNoPrealloc,
		Key:   localstorage.IntType("int", 4, true), Value: localstorage.BytesType(2),
	})
	bspec := localstorage.Spec(localstorage.MapTypeTaskStorage, 2, 0)
	bspec.Name = "b"
	b, _ := env.CreateMap(bspec)
	task := localstorage.NewTask(100)
	_, _ = a.TaskStorageGet(task, []byte{1, 1}, localstorage.GetCreate)
	_, _ = b.TaskStorageGet(task, []byte{2, 2}, localstorage.GetCreate)
	_, _ = a.TaskStorageGet(task, nil, 0)
	for _, e := range task.Storage().Entries(nil) {
		fmt.Println(e.Map.Name(), e.Value, e.Cached)
	}
	fmt.Println(task.Storage())
	// Output:
	// b [2 2] false
	// a [1 1] true
	// storage(task 2 elems, mem_charge 332)
}
