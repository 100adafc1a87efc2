// Package localstorage models BPF local storage (kernel/bpf/bpf_local_storage.c
// and its owners net/core/bpf_sk_storage.c, kernel/bpf/bpf_task_storage.c)
// and the proposed skb local storage RFC (net/core/bpf_skb_storage.c): maps,
// per-owner storage with its element cache, charging, clone, the syscall
// side and the BPF helpers/kfuncs, with every allocation booked in a
// kmem.Accountant and every primitive operation counted (cost.Op).
//
// # Objects and ownership
//
// An Env is one kernel: the accountant, a kernel Profile (struct sizes, the
// bucket hash), one cache index per owner type (struct
// bpf_local_storage_cache: N slots, 16 by default), the skb allocation
// strategy, and the RCU free lists. A Map is a local storage map (struct
// bpf_local_storage_map), created with Env.CreateMap and freed with
// Map.Free. A Storage is one owner's struct bpf_local_storage: its
// elements (Elem, newest first), the cache slots, mem_charge. Owners:
//
//   - Sock (struct sock): sk->sk_bpf_storage and sk_omem_alloc, limited by
//     its NetCore's optmem_max. The stack model embeds or points to one per
//     socket; Destruct (or Close) models __sk_destruct. Env.SkClone and
//     Env.PassiveOpen model bpf_sk_storage_clone on passive open, with the
//     MPTCP cases. Env.ActiveOpen models connect(): for MPTCP the fd's
//     socket is the msk and the connection's packets carry its first TCP
//     subflow (mptcp_subflow_create_socket), a separate socket with its
//     own storage and sk_omem_alloc that starts empty (nothing is cloned
//     or shared on the active side). Conn.PacketSock and
//     Listener.PacketSock name the socket a program's
//     bpf_sk_storage_get(skb->sk) reaches; Conn.Sock and Listener.Sock the
//     one the syscall side reaches through the fd.
//   - Task (struct task_struct): task->bpf_storage; Exit and Free.
//   - skb.Buff: the storage hangs off the SKB_EXT_BPF_STORAGE chunk of the
//     skb's extension object (package skb). The skb owns nothing here:
//     extension sharing, COW, reset and the last put are package skb's,
//     which calls Storage.ExtDestroy (bpf_skb_storage_free) at the last put.
//     Env.AttachSkb sizes the allocator's SKB_EXT_BPF_STORAGE slot for the
//     strategy (Env.SizeSkbExt: the storage pointer, or rfc-slim's embedded
//     storage) and installs the hooks the model options need.
//
// No function takes ownership of an skb or a socket the caller passes.
// The sockets the model creates itself belong to what returns them: a
// Listener's subflow listener to the Listener, an accepted socket and its
// subflow to the Conn PassiveOpen returns, an MPTCP client's subflow to
// the Conn ActiveOpen returns (whose Close also destructs the client's
// socket, as closing the msk closes its subflows). Helpers return the
// element's value as a live slice: the program's pointer into the element,
// valid for the rest of the program run.
//
// # RCU model
//
// The model is sequential. Every free the kernel defers (call_rcu,
// kfree_rcu, call_rcu_tasks_trace — elements and storages on delete,
// replace, destroy, map free, and on the error paths) is booked as an
// RCU-deferred free: the memory stays live in the accountant and the Go
// object out of reuse until Env.GracePeriod. Map.Free ends a grace period
// itself, as bpf_local_storage_map_free() waits for rcu_barrier. Race
// windows that only concurrency opens (a lost publish cmpxchg, a storage
// emptied under an update) are reachable through Env.SetRace, which runs
// the "other CPU" at the window; they return -EAGAIN as in the kernel.
//
// # Public API for the stack model and the CLI
//
//   - Env: NewEnv(Config), CreateMap(MapSpec) (Spec(type, valueSize, flags)
//     builds a valid spec), GracePeriod, Close, Acct, StorageSize,
//     CacheUsage, Maps, AttachSkb/SkbHooks, RefillSkbPool, SkbPoolStats,
//     SkbStats, SkbExtChunkSize, SizeSkbExt, SkClone, PassiveOpen,
//     ActiveOpen, SetRace; Map accessors (ID, Name, Len, CacheIdx,
//     ElemSize, MemUsage) and Free. Sockets: NewSock, NewRequestSock,
//     NewListener (with PacketSock), Conn (Sock, PacketSock, Close).
//   - Program side: Map.SkStorageGet/SkStorageDelete (and the Tracing and
//     Sleepable variants), Map.TaskStorageGet/TaskStorageDelete,
//     Map.SkbStorageGet/SkbStorageDelete (RFC kfuncs, with a ProgCtx;
//     SkbStorageLookup is the get without F_CREATE in CtxNormal, for the
//     per-packet path, and SkbStorageLookupNoExt its inlinable first step
//     for an skb without extensions), and the Store variants (get with
//     F_CREATE, then the program's write).
//   - Syscall side (fd-keyed, through a FileTable such as FDTable):
//     Map.LookupElem, UpdateElem, DeleteElem, GetNextKey,
//     LookupAndDeleteElem.
//   - Listing for traces: Sock.Storage, Task.Storage, SkbStorage(b), then
//     Storage.Entries or Storage.All (newest first, cached slots marked).
//   - Package carrier (at the module root) wraps the skb owner and its
//     strategies as the rfc* designs of carrier.Carrier, next to the
//     alternative per-packet metadata designs.
//
// # Errors
//
// Errors match the kernel's errno under errors.Is, through the sentinels
// (ErrNotFound ENOENT, ErrExists EEXIST, ErrInvalid EINVAL, ErrValueTooBig
// E2BIG, ErrNoMem ENOMEM, ErrAgain EAGAIN, ErrNotSupported EOPNOTSUPP,
// ErrPerm EPERM, ErrBadFD EBADF, ErrNotSock ENOTSOCK, ErrNextKey ENOTSUPP
// 524, ErrFault EFAULT). Helpers return the bare sentinel (no allocation on
// a miss) and, where the kernel returns NULL, the reason it had. Syscall
// and map-creation errors are wrapped as "op: %w". Misuse the verifier or
// the kernel's reference counting would prevent (a map of the wrong owner
// type, a freed map, an initial value of the wrong size, a double destroy)
// panics.
//
// # Accounting
//
// Elements are 72 + value_size bytes (kmalloc class by size), storages
// 8*N + 48 (v6.18, 176 with 16 slots, what the lab measured in optmem
// charges) or 8*N + 56 (the 2026 tree, 184) bytes, both kmalloc-192 with 16
// slots. Each allocation is booked at the kernel function that makes it
// (bpf_selem_alloc, bpf_local_storage_alloc, bpf_sk_storage_clone_elem,
// bpf_local_storage_map_alloc and its buckets, and the skb strategies'
// sites), so fault injection (kmem.Fault) follows the kernel's error paths.
//
// # The skb owner and its model options
//
// As posted, the RFC refuses every map flag but BPF_F_NO_PREALLOC, shares
// storage between an skb and its clones (both refused with -EOPNOTSUPP
// while the extension is shared), leaves a COW copy of the extension
// without storage, drops storage on skb_scrub_packet (encap/decap, netns
// crossing), and refuses syscall operations. Since skb_copy, pskb_copy,
// GSO segments and IP fragments share the extension object by reference
// without setting skb->cloned, they share one storage and may all use it. SkbMapOptions are the model's
// names for the future work (copy on clone, keep across scrub, keep across
// netns crossing); they are NOT in the RFC. SkbConfig.Strategy selects how
// the skb owner allocates (rfc, rfc-coalloc, rfc-prealloc, rfc-slim) with
// the same observable semantics.
package localstorage
