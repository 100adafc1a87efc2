// Package diff is skbsim's differential harness: it runs the same
// operations on the model (packages localstorage and, for skb transitions,
// netstack) and on the running Linux kernel (package kernel), compares the
// results step by step and cell by cell, and reports agreement.
//
// It exists as its own package because it is the one place that needs both
// backends at once: the model packages are pure Go and must not import the
// kernel backend, and the kernel backend must not import the model. The
// harness is pure Go where it only compares (sequences, results, reports,
// the list of known divergences, the transition comparison); the parts that
// drive the kernel are Linux-only (files *_linux.go) and [Run] reports that
// it needs Linux elsewhere.
//
// Suites (see [Run]):
//
//   - "storage-create": BPF_MAP_CREATE validation for socket and task
//     storage maps (flags, key size and BTF, value size 0/65407/65408,
//     max_entries, BTF present), first-try errno of a raw syscall against
//     localstorage.Env.CreateMap.
//   - "storage-keys": key resolution: socket fds of every kind, listeners,
//     pidfds (live, reaped), a pipe and a closed descriptor against socket
//     and task storage maps, with every element command.
//   - "storage-charge": optmem_max charging in a namespace the harness
//     created: the largest storable value, multi-map sums, the replace path,
//     map free and owner close returning the charge, the sysctl lowered
//     under live elements; task storage is not charged. sk_omem_alloc is
//     read from the kernel with SO_MEMINFO and compared after every step
//     of every storage suite.
//   - "storage-clone": BPF_F_CLONE on passive TCP open for the three
//     listener kinds (plain TCP, Go's default MPTCP listener with a TCP
//     client, MPTCP on both sides), and the copy failing ("fail/<kind>":
//     net.core.optmem_max lowered under the listener's element, so
//     bpf_sk_storage_clone() cannot charge the child): no connection
//     accepted (kernel.Listener.ConnectWithin times out, a ListenDrop is
//     counted) against PassiveOpen's -ENOMEM, the MPTCP fallback to TCP,
//     and the retried handshake once the sysctl is restored.
//   - "storage-seq": rapid-generated operation sequences (map create and
//     close, update with every flag, lookup, delete, next-key,
//     lookup-and-delete, socket close, connect, optmem_max change) on a pool
//     of sockets, pidfds and other files, comparing errno, value and
//     sk_omem_alloc after every step. A disagreement shrinks to a minimal
//     sequence. The kernel side reuses one namespace and its sockets across
//     sequences and deletes every element between them.
//   - "storage-prog": program-side socket storage (cgroup_skb and sockops
//     programs calling bpf_sk_storage_get(F_CREATE) and
//     bpf_sk_storage_delete) driven by real UDP and TCP traffic, against the
//     model's helpers called on the sockets the packets carry. For TCP
//     connections those come from localstorage.Env.ActiveOpen (client) and
//     Env.PassiveOpen (server): with MPTCP they are the TCP subflows, not
//     the msk sockets behind the fds, so the fds of an MPTCP client and of
//     its accepted socket have no program-created storage (kernel_lab §6).
//   - "storage-task-prog": program-side task storage: the SYSCALL program
//     of kernel.TaskProgStorage (bpf_task_storage_get with valid, invalid
//     and F_CREATE flags, with and without an init value, and
//     bpf_task_storage_delete, on this process's leader task and on a
//     child found with bpf_task_from_pid), mixed with pidfd-keyed syscall
//     updates and deletes and a reap of the child, against the model's
//     Task owner (localstorage.Map.TaskStorageGet/TaskStorageDelete and
//     the syscall side through PidFD). After every step the helper's
//     outcome and a syscall lookup of every task are compared.
//   - "skb-transitions": observe.Transitions recorded on the kernel
//     (kernel.RunTransition) against netstack.RunTransition with the skb
//     profile of the running kernel's release, cell by cell
//     ([NetstackTransitions], [TransitionModel]). A transition whose
//     devices the running kernel lacks (a tunnel driver it was built
//     without) is listed as skipped with the reason, never as agreed.
//
// Every disagreement is either listed in knownDivergences (keyed by case,
// with the reason) or reported as new. A listed case that agrees fails the
// run, so the list stays true. On 6.18.44 the list is empty.
//
// Running: `SKBSIM_KERNEL_TESTS=1 go test ./kernel/diff/` as root runs every
// suite as a TestKernel* test (SKBSIM_TEST_SEED overrides the seed of the
// generated sequences, -rapid.checks their number); `simrun kernel diff`
// prints the same table through [Run] and [Report.Format]. Without
// SKBSIM_KERNEL_TESTS=1 only the pure tests run (the harness against itself
// and against a model with a different kernel profile).
//
// Kernel resources: the harness creates its own network namespaces, cgroup,
// programs, maps and sockets through package kernel and removes them on
// every path; traffic stays on loopback inside those namespaces. It does not
// take ownership of anything the caller passes.
package diff
