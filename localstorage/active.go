package localstorage

import "fmt"

// ActiveOpen models the client side of a TCP or MPTCP connect(), as far as
// socket local storage is concerned: sk is the socket behind the client's
// fd (socket(AF_INET, SOCK_STREAM, IPPROTO_TCP or IPPROTO_MPTCP)), mptcp
// says which. The returned Conn's Sock is sk; its PacketSock is the socket
// the connection's packets carry (skb->sk at the cgroup_skb hooks, the
// sockops socket), where a program's bpf_sk_storage_get(F_CREATE) creates
// storage.
//
//   - TCP: tcp_v4_connect() sends from sk itself (tcp_connect() and
//     __tcp_transmit_skb() set skb->sk = sk via skb_set_owner_w()), so
//     PacketSock is sk.
//   - MPTCP: sk is the MPTCP socket (msk). mptcp_connect() gets its first
//     subflow from __mptcp_nmpc_sk() -> __mptcp_socket_create() ->
//     mptcp_subflow_create_socket(), which makes a new kernel TCP socket
//     (ssk) with sock_create_kern() in the msk's namespace
//     (sock_net(sk)) and the msk's cgroup (mptcp_attach_cgroup()), then
//     connects it (inet_stream_connect() on the subflow). The subflow is a
//     separate struct sock: its own sk_bpf_storage and sk_omem_alloc,
//     charged against the same namespace's optmem_max. sk_alloc() starts
//     it without storage and nothing on the active side calls
//     bpf_sk_storage_clone() (only sk_clone_lock() does, on passive open):
//     the msk's elements, BPF_F_CLONE or not, are neither copied to nor
//     shared with the subflow, and mptcp_sockopt_sync_locked() copies
//     socket options only. The connection's packets are sent and received
//     by the subflow (tcp_transmit_skb() on ssk), so PacketSock is the
//     subflow, while syscall-side map operations on the client's fd
//     address the msk. The same holds when the server does not speak
//     MPTCP: subflow_finish_connect() falls back to plain TCP on the same
//     subflow (mptcp_do_fallback(), mptcp_try_fallback() in later trees)
//     and the fd stays the msk.
//
// Additional subflows (__mptcp_subflow_connect(), MP_JOIN) are created the
// same way and are not modelled: the project's namespaces announce no
// further endpoints, so a connection has one subflow.
//
// ActiveOpen allocates no local storage, so it has no error path here
// (connect() failures that do not involve storage, such as
// sock_create_kern() running out of memory, are the stack model's). It
// does not take ownership of sk. The subflow belongs to the connection:
// Conn.Close destructs sk and the subflow together, as closing the msk
// closes its subflows (mptcp_close() -> __mptcp_close_ssk()); a caller
// that destructs sk itself destructs Conn.PacketSock too. ActiveOpen
// panics on a socket that is not a full socket or whose refcount has
// dropped (connect() on a closed socket is a caller bug).
func (e *Env) ActiveOpen(sk *Sock, mptcp bool) *Conn {
	if sk == nil || sk.notFull || sk.dead || sk.freed {
		panic(fmt.Sprintf("localstorage: active open on a socket that cannot connect: %+v", sk))
	}
	if !mptcp {
		return &Conn{Sock: sk, PacketSock: sk}
	}
	// models mptcp_subflow_create_socket(): sock_create_kern(sock_net(sk),
	// ...) -> sk_alloc(), a fresh full socket with sk_bpf_storage NULL and
	// sk_omem_alloc 0 in the msk's namespace.
	ssk := NewSock(sk.net)
	if sk.Name != "" {
		ssk.Name = sk.Name + "/subflow"
	}
	return &Conn{Sock: sk, PacketSock: ssk}
}
