// Package kernel is the real-kernel half of skbsim's differential tests: it
// runs the behaviours the model simulates on the running Linux kernel and
// reports what the kernel did, in the same terms the model uses.
//
// It exists so that exactly one package touches the kernel: it is the only
// importer of github.com/cilium/ebpf and, with its tests, the only
// Linux-specific code in the module. Everything else (skb/, localstorage/,
// netstack/, sim/) stays pure Go and builds on any OS; on other systems this
// package compiles to this documentation only. The observation types it
// produces live in the pure-Go package kernel/observe.
//
// Drivers:
//
//   - [StorageMap]: BPF local storage maps (socket, task, cgroup, inode)
//     driven from the syscall side. Maps are created with a raw
//     BPF_MAP_CREATE so the first-try errno is what the caller sees
//     (cilium/ebpf retries a failed create without BTF). Element operations
//     are keyed by file descriptors; errors wrap the kernel errno as an
//     internal/errno.Errno, so errors.Is matches both errno.ENOENT and
//     syscall.ENOENT.
//   - [Netns]: network namespaces the caller creates, with per-namespace
//     sysctls (net.core.optmem_max), sockets, and passive TCP opens in the
//     listener modes that matter for BPF_F_CLONE ([ListenPlainTCP],
//     [ListenGoDefault] (Go's MPTCP listener), [ListenMPTCP]). accept()
//     is bounded ([Listener.ConnectWithin], [Listener.Accept],
//     [ErrAcceptTimeout]): a child that sk_clone_lock() could not create
//     (bpf_sk_storage_clone() over optmem_max) is never accepted.
//     [Netns.TCPSockets] lists a namespace's TCP sockets, with or without
//     a descriptor, and which own an element of a socket storage map;
//     [Socket.CloseWait] closes a TCP socket abortively and waits until it
//     has left the tables. [SkOmemAlloc], [SocketCookie], [Netns.Netstat],
//     [Netns.UDPSocket], [PingPong], [Pipe], [CloseFD] and [Release] are the
//     socket and system calls the differential harness needs.
//   - [Cgroup] and [ProgStorage]: cgroup_skb ingress/egress and sockops
//     programs that create, count into and delete socket storage.
//   - [TaskProgStorage]: a BPF_PROG_TYPE_SYSCALL program run with
//     BPF_PROG_TEST_RUN that calls bpf_task_storage_get and
//     bpf_task_storage_delete on a task chosen by pid (or the calling
//     thread), next to the pidfd-keyed syscall side of the same map
//     ([OpenPidfd]).
//   - [ExtProbe]: tp_btf programs on the netif_receive_skb and
//     net_dev_queue tracepoints that report which skb extensions
//     (skb->active_extensions) the IPv4 packets on named devices carry.
//   - [MetaProbe]: a native or generic XDP program that writes metadata
//     and a tp_btf/kfree_skb program that reads a freed skb's metadata
//     back through BTF (meta_len, the bytes before the mac header).
//   - [RunTransition]: the skb transition recorder. It builds a transition's
//     topology (namespaces, veth pairs, vxlan), attaches tcx/XDP recorder
//     programs at its hooks, sends the marked packet and returns an
//     observe.Matrix.
//
// Resources: every object is created with the project prefix
// "skbsim-<pid>-" (namespaces, cgroups, bpffs pins) and removed by its
// Close; [Sweep] removes leftovers of processes that are no longer running
// (for a TestMain before and after the tests). Traffic stays on loopback and
// inside the caller's namespaces, using the documentation address ranges.
//
// Errors for features the running kernel lacks wrap both
// cilium/ebpf.ErrNotSupported and errors.ErrUnsupported (see
// internal/testutil.SkipIfNotSupported).
package kernel
