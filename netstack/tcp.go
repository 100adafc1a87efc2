package netstack

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"net/netip"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/skb"
)

// TCP connection state of the modelled host's sockets.
//
// The kernel keeps request socks (TCP_NEW_SYN_RECV) and full sockets in
// the established hash (ehash) keyed by the 4-tuple; __inet_lookup_skb
// looks there first and falls back to the listeners. The model keeps the
// passive side's requests and established children in one bounded,
// preallocated table (tcpTable) keyed by namespace and 4-tuple; an active
// side (a socket with SocketConfig.Connect) is one connection and keeps
// its state in the Socket. The model's sockets stand for the application:
// data of an established child is queued to its listener's Socket (the
// accepted socket inherits the listener's cgroup and socket filter in
// sk_clone_lock, so tcp_filter runs the same programs).
//
// What the state changes run:
//   - a SYN to a listener: tcp_conn_request() -> security_inet_conn_request
//     (HookLSM, EventInetConnRequest; a non-zero return refuses the request)
//     and a request entry (inet_reqsk_alloc, inet_csk_reqsk_queue_hash_add);
//   - the ACK completing it: tcp_check_req() -> tcp_v4_syn_recv_sock() makes
//     the child, tcp_child_process() -> tcp_rcv_state_process(child, skb) ->
//     tcp_init_transfer(sk, BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB, skb) ->
//     bpf_skops_established(): the sockops programs of the socket's cgroup
//     run with kctx->skb = that ACK (bpf_skops_init_skb);
//   - a SYN-ACK to a connecting socket: tcp_rcv_synsent_state_process() ->
//     tcp_finish_connect(sk, skb) -> security_inet_conn_established(sk, skb)
//     (HookLSM, EventInetConnEstablished), then tcp_init_transfer(sk,
//     BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB, skb) with the SYN-ACK;
//   - RST ends a request (tcp_check_req: inet_csk_reqsk_queue_drop) or a
//     connection (tcp_reset -> tcp_done); FIN ends a passive entry (see
//     below) and moves a connecting socket to CLOSE_WAIT.
//
// Modelling decisions:
//   - The stack does not send the segments TCP would answer with (SYN-ACK,
//     ACK, RST, challenge ACKs); a capture's own copies of them take the
//     path their entry gives them. The one exception is the reset for a
//     segment that finds no socket, with Options.Replies (tcpV4SendReset,
//     tcpV6SendReset). So the model does not know the ISN it
//     would have chosen: tcp_check_req's ack_seq == snt_isn + 1 and
//     tcp_rcv_synsent_state_process's snd_una < ack_seq <= snd_nxt are
//     taken as true; tcp_check_req's window test is done on the sequence
//     number (rcv_isn + 1 <= seq < rcv_isn + 1 + tcpReqWindow).
//   - The closing states of the passive side (CLOSE_WAIT, LAST_ACK,
//     FIN_WAIT*, TIME_WAIT) are not tracked: a FIN removes the entry, and
//     later segments of the flow go to the listener like segments of any
//     flow the table does not hold.
//   - What happens to the skb itself: a segment tcp_check_req answers with
//     NULL (a retransmitted SYN, an out-of-window segment, RST or a new
//     SYN to a request, a segment without ACK) is dropped as tcp_v4_rcv
//     does (NOT_SPECIFIED); otherwise, for a listener and its children, a
//     segment without payload is consumed and data is queued, whatever the
//     state. A connecting socket drops segments that are not a SYN-ACK in
//     SYN_SENT (the kernel's discard_and_undo, with its reasons), and every
//     segment once it is closed (RST), since it is no longer hashed
//     (NO_SOCKET).
//   - The table is bounded (Options.TCPConnections): a set of tcpWays
//     entries per hash, and a new request in a full set evicts the entry
//     used longest ago (TCPStats.Evicted). An evicted flow is one the table
//     does not hold. Memory does not grow with the number of flows.
//   - Sockops programs run at the two callbacks with an skb (ACTIVE and
//     PASSIVE_ESTABLISHED_CB); the others (TIMEOUT_INIT, RWND_INIT,
//     TCP_CONNECT_CB, NEEDS_ECN, ...) run without kctx->skb and are not
//     modelled. ProgramConfig.Event restricts a program to one of the two
//     (what `if (skops->op != ...) return 1;` does); Ctx.SockOp tells Go
//     programs which one runs.

// Attach points of HookSockOps and HookLSM programs (ProgramConfig.Event).
const (
	// EventPassiveEstablished restricts a sockops program to
	// BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB ("" runs it at both callbacks).
	EventPassiveEstablished = "passive_established"
	// EventActiveEstablished restricts a sockops program to
	// BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB.
	EventActiveEstablished = "active_established"
	// EventInetConnEstablished is lsm/inet_conn_established (the default
	// LSM hook): tcp_finish_connect's security_inet_conn_established.
	EventInetConnEstablished = "inet_conn_established"
	// EventInetConnRequest is lsm/inet_conn_request: tcp_conn_request's
	// security_inet_conn_request on the SYN.
	EventInetConnRequest = "inet_conn_request"
)

// BPF_SOCK_OPS_* values of skops->op (include/uapi/linux/bpf.h).
const (
	SockOpsActiveEstablishedCB  = 4 // BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB
	SockOpsPassiveEstablishedCB = 5 // BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB
)

// DefaultTCPConnections is the connection table size when
// Options.TCPConnections is 0.
const DefaultTCPConnections = 1024

// MaxTCPConnections bounds Options.TCPConnections.
const MaxTCPConnections = 1 << 22

const (
	tcpWays = 4 // entries per set of the table
	// tcpReqWindow is a request's receive window (rsk_rcv_wnd) for
	// tcp_check_req's tcp_in_window: tcp_select_initial_window gives 65535
	// for the default rmem before scaling.
	tcpReqWindow = 65535
)

// tcpState is a connection's state (the kernel's TCP_* sk_state values the
// model uses).
type tcpState uint8

const (
	tcpClosed      tcpState = iota // TCP_CLOSE: a free slot, a reset socket
	tcpSynSent                     // TCP_SYN_SENT: connect() sent the SYN
	tcpNewSynRecv                  // TCP_NEW_SYN_RECV: a request sock
	tcpEstablished                 // TCP_ESTABLISHED
	tcpCloseWait                   // TCP_CLOSE_WAIT: the peer's FIN (connecting sockets only)
)

var tcpStateNames = [...]string{"CLOSE", "SYN_SENT", "NEW_SYN_RECV", "ESTABLISHED", "CLOSE_WAIT"}

func (st tcpState) String() string {
	if int(st) < len(tcpStateNames) {
		return tcpStateNames[st]
	}
	return fmt.Sprintf("tcpstate%d", uint8(st))
}

// tcpKey is a connection's namespace and 4-tuple as the host sees it.
type tcpKey struct {
	laddr, raddr netip.Addr
	ns           uint32
	lport, rport uint16
}

func (k *tcpKey) hash() uint64 {
	l, r := k.laddr.As16(), k.raddr.As16()
	h := uint64(k.ns)<<32 | uint64(k.lport)<<16 | uint64(k.rport)
	h = fmix(h ^ binary.LittleEndian.Uint64(l[:8]))
	h = fmix(h ^ binary.LittleEndian.Uint64(l[8:]))
	h = fmix(h ^ binary.LittleEndian.Uint64(r[:8]))
	return fmix(h ^ binary.LittleEndian.Uint64(r[8:]))
}

// fmix is MurmurHash3's 64-bit finaliser.
func fmix(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	return h ^ h>>33
}

// tcpConn is one entry: a request sock or an established child.
type tcpConn struct {
	key    tcpKey
	sk     *Socket // the listener
	rcvNxt uint32  // rcv_isn + 1 (the SYN's sequence number + 1)
	used   uint64  // the packet that last touched the entry
	state  tcpState
}

// TCPStats counts the connection table's events.
type TCPStats struct {
	// Requests are SYNs that made a request sock (tcp_conn_request).
	Requests uint64
	// RequestsRefused are SYNs an LSM inet_conn_request program refused.
	RequestsRefused uint64
	// PassiveEstablished are handshakes completed by an ACK
	// (tcp_check_req -> child), ActiveEstablished SYN-ACKs that completed
	// a connect() (tcp_finish_connect).
	PassiveEstablished, ActiveEstablished uint64
	// Resets are requests and connections ended by RST (and requests
	// ended by a new SYN: embryonic_reset), Fins passive connections
	// ended by FIN.
	Resets, Fins uint64
	// SynRetransmits are retransmitted SYNs that reached a request
	// (tcp_check_req resends the SYN-ACK and drops them).
	SynRetransmits uint64
	// Evicted are entries a new request pushed out of a full set.
	Evicted uint64
	// Live is the number of entries in the table now.
	Live uint64
}

// tcpTable is the stack's connection state: the passive side's entries
// (allocated on the first SYN, never grown), the programs at the TCP
// hooks, and the op of the sockops run in progress.
type tcpTable struct {
	slots   []tcpConn
	size    int // entries, a power of two >= tcpWays
	sockops []int
	lsmEst  []int
	lsmReq  []int
	op      uint32
	stats   TCPStats
}

// TCPStats returns the connection table's counters.
func (s *Stack) TCPStats() TCPStats { return s.tcp.stats }

// setSize sets the table size from Options.TCPConnections.
func (t *tcpTable) setSize(n int) error {
	if n < 0 || n > MaxTCPConnections {
		return cfgErr("options: tcp connections %d (want 0..%d)", n, MaxTCPConnections)
	}
	if n == 0 {
		n = DefaultTCPConnections
	}
	t.size = max(tcpWays, 1<<bits.Len(uint(n-1)))
	return nil
}

// find returns the slot of key, or -1.
func (t *tcpTable) find(k *tcpKey) int {
	if t.slots == nil {
		return -1
	}
	base := int(k.hash()&uint64(t.size/tcpWays-1)) * tcpWays
	for i := base; i < base+tcpWays; i++ {
		if c := &t.slots[i]; c.state != tcpClosed && c.key == *k {
			return i
		}
	}
	return -1
}

// insert adds a request for key, evicting the least recently used entry
// of a full set.
func (t *tcpTable) insert(k *tcpKey, sk *Socket, rcvNxt uint32, pkt uint64) {
	if t.slots == nil {
		t.slots = make([]tcpConn, t.size)
	}
	base := int(k.hash()&uint64(t.size/tcpWays-1)) * tcpWays
	victim := base
	for i := base; i < base+tcpWays; i++ {
		c := &t.slots[i]
		if c.state == tcpClosed {
			victim = i
			break
		}
		if c.used < t.slots[victim].used {
			victim = i
		}
	}
	c := &t.slots[victim]
	if c.state != tcpClosed {
		t.stats.Evicted++
		t.stats.Live--
	}
	*c = tcpConn{key: *k, sk: sk, rcvNxt: rcvNxt, used: pkt, state: tcpNewSynRecv}
	t.stats.Live++
}

func (t *tcpTable) remove(i int) {
	t.slots[i] = tcpConn{}
	t.stats.Live--
}

// attach records program idx at its TCP hook (HookSockOps or HookLSM).
func (t *tcpTable) attach(idx int, pc *ProgramConfig, what string) error {
	for j, a := range pc.Actions {
		switch a.Kind {
		case ActWrite, ActRead, ActDelete, ActCount, ActPass:
		default:
			// bpf_sock_ops and LSM programs have no __sk_buff to write and
			// no redirect or XDP helpers.
			return cfgErr("%s action %d (%s): not available at hook %s", what, j, a.Kind, pc.Hook)
		}
	}
	switch pc.Hook {
	case carrier.HookSockOps:
		switch pc.Event {
		case "", EventActiveEstablished, EventPassiveEstablished:
		default:
			return cfgErr("%s: unknown sockops callback %q (want %s or %s)", what, pc.Event,
				EventActiveEstablished, EventPassiveEstablished)
		}
		t.sockops = append(t.sockops, idx)
	case carrier.HookLSM:
		switch pc.Event {
		case "", EventInetConnEstablished:
			t.lsmEst = append(t.lsmEst, idx)
		case EventInetConnRequest:
			t.lsmReq = append(t.lsmReq, idx)
		default:
			return cfgErr("%s: unknown LSM hook %q (want %s or %s)", what, pc.Event,
				EventInetConnEstablished, EventInetConnRequest)
		}
	}
	return nil
}

// SockOp returns skops->op of a sockops run (SockOpsActiveEstablishedCB
// or SockOpsPassiveEstablishedCB), 0 at other hooks.
func (c *Ctx) SockOp() uint32 {
	if c.Hook != carrier.HookSockOps {
		return 0
	}
	return c.s.tcp.op
}

// tcpFlow is what tcpLookup found for a segment.
type tcpFlow struct {
	key  tcpKey
	slot int  // table entry, -1 when none
	ok   bool // the 4-tuple could be read
}

// tcpLookup models __inet_lookup_skb() for a segment to dst:dport:
// inet_steal_sock (a TPROXY-assigned socket) is taken from the skb, but an
// established or request entry of the 4-tuple wins, as it does in
// nf_tproxy_get_sock_v4's first lookup; then __inet_lookup_established
// (the table, then connecting sockets), then __inet_lookup_listener.
func (s *Stack) tcpLookup(b *skb.Buff, ns *Netns, dst netip.Addr, dport uint16) (*Socket, tcpFlow) {
	f := tcpFlow{slot: -1}
	stolen := stealSock(b)
	src, ok := l3Src(b)
	if ok {
		f.ok = true
		f.key = tcpKey{laddr: dst, raddr: src, ns: ns.id, lport: dport,
			rport: binary.BigEndian.Uint16(b.Data()[0:2])}
		if f.slot = s.tcp.find(&f.key); f.slot >= 0 {
			return s.tcp.slots[f.slot].sk, f
		}
		for _, sk := range ns.active {
			if sk.cstate != tcpClosed && sk.port == dport && sk.connect.Port() == f.key.rport &&
				sk.connect.Addr() == src && (!sk.addr.IsValid() || sk.addr.IsUnspecified() || sk.addr == dst) {
				return sk, f
			}
		}
	}
	if stolen != nil {
		return stolen, f
	}
	return ns.lookup(ipprotoTCP, dst, dport), f
}

// l3Src returns the source address of the IPv4 or IPv6 header at the
// skb's network header.
func l3Src(b *skb.Buff) (netip.Addr, bool) {
	h, o := b.Head(), b.NetworkHeader()
	if o < 0 || o >= len(h) {
		return netip.Addr{}, false
	}
	nh := h[o:]
	switch {
	case len(nh) >= ipHlen && nh[0]>>4 == 4:
		return netip.AddrFrom4([4]byte(nh[12:16])), true
	case len(nh) >= 40 && nh[0]>>4 == 6:
		return netip.AddrFrom16([16]byte(nh[8:24])), true
	}
	return netip.Addr{}, false
}

// tcpStateProcess runs the connection state machine for a segment that
// passed tcp_filter on sk. It returns false when it dropped or freed the
// skb; otherwise the caller delivers it as before. Takes ownership of the
// skb only when it returns false.
func (s *Stack) tcpStateProcess(b *skb.Buff, sk *Socket, f *tcpFlow, op Op) bool {
	if !f.ok {
		return true
	}
	th := b.Data()
	flags := th[13]
	seq := binary.BigEndian.Uint32(th[4:8])
	syn, ack, rst, fin := flags&tcpSYN != 0, flags&tcpACK != 0, flags&tcpRST != 0, flags&tcpFIN != 0
	if sk.connect.IsValid() {
		return s.tcpActive(b, sk, syn, ack, rst, fin, op)
	}
	t := &s.tcp
	if f.slot < 0 {
		// tcp_rcv_state_process, TCP_LISTEN: a SYN (without ACK, RST or
		// FIN) goes to icsk_af_ops->conn_request = tcp_v4_conn_request;
		// tcp_v6_conn_request drops one to an anycast address
		// (ipv6_unicast_destination: tcp_listendrop, no request).
		if syn && !ack && !rst && !fin && !sk.ns.tcpAnycastDst(b) {
			s.tcpConnRequest(b, sk, f, seq)
		}
		return true
	}
	c := &t.slots[f.slot]
	c.used = s.cur
	switch c.state {
	case tcpNewSynRecv:
		// tcp_check_req() on the request sock, in its order. Every
		// segment it answers with NULL is freed by tcp_v4_rcv's
		// discard_and_relse -> discard_it: kfree_skb_reason with
		// NOT_SPECIFIED (tcp_check_req sets a reason only for PAWS, TSecr
		// and listen overflow, which the model does not reach).
		isn := c.rcvNxt - 1
		switch {
		case syn && !ack && !rst && seq == isn:
			// A pure retransmitted SYN: inet_rtx_syn_ack resends the
			// SYN-ACK (not modelled), the SYN is dropped.
			t.stats.SynRetransmits++
			s.drop(b, skb.DropNotSpecified, op)
			return false
		case seq-c.rcvNxt >= tcpReqWindow:
			// Out of window (tcp_in_window, on seq): an ACK is sent (not
			// modelled) and the segment dropped; the request stays.
			s.drop(b, skb.DropNotSpecified, op)
			return false
		case rst || syn:
			// embryonic_reset (a SYN at rcv_isn has been truncated to its
			// ACK above, so any SYN here is a new one): the request is
			// unhashed (inet_csk_reqsk_queue_drop), the segment dropped.
			t.remove(f.slot)
			t.stats.Resets++
			s.drop(b, skb.DropNotSpecified, op)
			return false
		case !ack:
			// "If ACK not set, just silently drop the packet."
			s.drop(b, skb.DropNotSpecified, op)
			return false
		}
		c.state = tcpEstablished
		t.stats.PassiveEstablished++
		// syn_recv_sock made the child; tcp_child_process ->
		// tcp_rcv_state_process(child, skb), case TCP_SYN_RECV ->
		// tcp_init_transfer(child, BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB,
		// skb). The segment then goes on on the child as before.
		s.runSockOps(sk, b, SockOpsPassiveEstablishedCB)
	case tcpEstablished:
		switch {
		case rst:
			// tcp_validate_incoming: tcp_reset -> tcp_done, then
			// __kfree_skb(skb) (no tracepoint).
			t.remove(f.slot)
			t.stats.Resets++
			s.tcpKfreeSkb(b, sk)
			return false
		case fin: // tcp_fin; the closing states are not tracked
			t.remove(f.slot)
			t.stats.Fins++
		}
	}
	return true
}

// tcpConnRequest models tcp_conn_request() on a listener: the LSM
// inet_conn_request programs run (security_inet_conn_request; a non-zero
// return refuses the request, and the SYN is consumed all the same), then
// the request sock is hashed (inet_csk_reqsk_queue_hash_add).
func (s *Stack) tcpConnRequest(b *skb.Buff, sk *Socket, f *tcpFlow, seq uint32) {
	t := &s.tcp
	for _, pi := range t.lsmReq {
		if s.runTCPProg(pi, carrier.HookLSM, b, sk, 0) != 0 {
			t.stats.RequestsRefused++
			return
		}
	}
	t.insert(&f.key, sk, seq+1, s.cur)
	t.stats.Requests++
}

// tcpActive models tcp_rcv_state_process() on a connecting socket:
// tcp_rcv_synsent_state_process() in SYN_SENT, tcp_reset and tcp_fin
// afterwards.
func (s *Stack) tcpActive(b *skb.Buff, sk *Socket, syn, ack, rst, fin bool, op Op) bool {
	switch sk.cstate {
	case tcpSynSent:
		switch {
		case ack && rst:
			// tcp_reset -> tcp_done, then the consume label:
			// __kfree_skb(skb) (no tracepoint).
			sk.cstate = tcpClosed
			s.tcp.stats.Resets++
			s.tcpKfreeSkb(b, sk)
			return false
		case ack && syn:
			// tcp_ack(sk, skb, FLAG_SLOWPATH) frees the acknowledged
			// retransmit queue first.
			if len(sk.rtx) != 0 {
				saved := s.cur
				s.cleanRtx(sk, binary.BigEndian.Uint32(b.Data()[8:12]))
				s.cur = saved
			}
			sk.cstate = tcpEstablished
			s.tcp.stats.ActiveEstablished++
			// tcp_finish_connect(sk, skb): security_inet_conn_established,
			// then tcp_init_transfer(sk, BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB,
			// skb).
			for _, pi := range s.tcp.lsmEst {
				s.runTCPProg(pi, carrier.HookLSM, b, sk, 0)
			}
			s.runSockOps(sk, b, SockOpsActiveEstablishedCB)
			// tcp_send_ack and return -1: tcp_rcv_state_process's
			// __kfree_skb(skb) (or the consume label when the ACK is
			// delayed); no tracepoint either way.
			s.tcpKfreeSkb(b, sk)
			return false
		case syn && !rst:
			// A SYN without ACK is a simultaneous open: tcp_send_synack,
			// then __kfree_skb (the consume label; tcp_drop's
			// __kfree_skb before v5.19), no tracepoint. TCP_SYN_RECV is
			// not followed: the state stays.
			s.tcpKfreeSkb(b, sk)
			return false
		}
		// discard_and_undo, with the reason tcp_rcv_synsent_state_process
		// sets: an ACK without SYN is TCP_FLAGS, a RST without ACK is
		// TCP_RESET, a segment without ACK, RST or SYN keeps
		// NOT_SPECIFIED.
		switch {
		case ack:
			s.drop(b, skb.DropTCPFlags, op)
		case rst:
			s.drop(b, skb.DropTCPReset, op)
		default:
			s.drop(b, skb.DropNotSpecified, op)
		}
		return false
	case tcpEstablished, tcpCloseWait:
		switch {
		case rst:
			// tcp_validate_incoming: tcp_reset, __kfree_skb.
			sk.cstate = tcpClosed
			s.tcp.stats.Resets++
			s.tcpKfreeSkb(b, sk)
			return false
		case fin && sk.cstate == tcpEstablished:
			sk.cstate = tcpCloseWait // tcp_fin
		}
	}
	return true
}

// tcpKfreeSkb models __kfree_skb() on a segment TCP is done with (a RST
// after tcp_reset, a SYN-ACK or SYN in SYN_SENT): the skb is released
// without trace_kfree_skb or trace_consume_skb, so no tracepoint program
// runs; the observer records the end of its path as for any consumed
// segment. Takes ownership of skb.
func (s *Stack) tcpKfreeSkb(b *skb.Buff, sk *Socket) {
	s.stats.Delivered++
	s.obs.Deliver(DeliverEvent{PacketID: s.cur, Kind: DeliverOther, Index: sk.idx})
	b.ConsumeSkb()
}

// runSockOps models BPF_CGROUP_RUN_PROG_SOCK_OPS from
// bpf_skops_established(): the sockops programs attached to the socket's
// cgroup or an ancestor run with skops->op = op and kctx->skb = b
// (bpf_skops_init_skb). Their return value is ignored there.
func (s *Stack) runSockOps(sk *Socket, b *skb.Buff, op uint32) {
	t := &s.tcp
	for _, pi := range t.sockops {
		pe := &s.progs[pi]
		if !cgroupMatch(pe.cgroup, sk.cgroup) {
			continue
		}
		if (pe.event == EventActiveEstablished && op != SockOpsActiveEstablishedCB) ||
			(pe.event == EventPassiveEstablished && op != SockOpsPassiveEstablishedCB) {
			continue
		}
		s.runTCPProg(pi, carrier.HookSockOps, b, sk, op)
	}
}

// runTCPProg runs program pi at a TCP hook with the skb and the socket.
func (s *Stack) runTCPProg(pi int, h carrier.Hook, b *skb.Buff, sk *Socket, op uint32) int {
	c := s.pushCtx(pi, h, b, nil, sk.ns, sk)
	saved := s.tcp.op
	s.tcp.op = op
	ret := s.progOf(c).Run(c)
	s.progRan(c, ret)
	s.tcp.op = saved
	s.popCtx()
	return ret
}

// tcpSocket sets up a socket's TCP connection state: a socket with
// SocketConfig.Connect was connect()ed before the capture
// (tcp_v4_connect -> tcp_connect sent the SYN): it is in SYN_SENT, hashed
// by its 4-tuple and not a listener.
func (s *Stack) tcpSocket(sk *Socket, sc *SocketConfig, what string) error {
	if !sc.Connect.IsValid() {
		return nil
	}
	if sc.Proto != ProtoTCP {
		return cfgErr("%s: connect is for tcp sockets", what)
	}
	ra := sc.Connect.Addr()
	if ra.IsUnspecified() || sc.Connect.Port() == 0 || sc.Port == 0 {
		return cfgErr("%s: connect needs a peer address and port and a local port", what)
	}
	if sc.Addr.IsValid() && !sc.Addr.IsUnspecified() && sc.Addr.Is4() != ra.Is4() {
		return cfgErr("%s: connect to %s from an address of another family", what, sc.Connect)
	}
	if sc.TProxy {
		return cfgErr("%s: a connecting socket is not a TPROXY listener", what)
	}
	sk.connect, sk.cstate = sc.Connect, tcpSynSent
	sk.ns.active = append(sk.ns.active, sk)
	return nil
}

// State returns the socket's TCP state name: "LISTEN" for a TCP socket
// without Connect, the connection's state for a connecting one, "" for
// UDP.
func (sk *Socket) State() string {
	switch {
	case sk.proto != ProtoTCP:
		return ""
	case !sk.connect.IsValid():
		return "LISTEN"
	}
	return sk.cstate.String()
}

// tcpV4SendReset models tcp_v4_send_reset(NULL, skb) for segment b (data
// at its TCP header, its IPv4 header ip) that found no socket, when
// Options.Replies is on: no reset answers a reset or a segment whose
// route is not RTN_LOCAL; the reset swaps the ports, takes the segment's
// acknowledgment as its sequence number, or else acknowledges the
// segment (RST|ACK: seq + SYN + FIN + payload); ip_send_unicast_reply
// sends it from the segment's destination on TCP's control socket, with
// the segment's TOS less ECN, DF set and IP ID 0 (IP_PMTUDISC_DO, no
// connection), no rate limit, no tx hash and mark IP4_REPLY_MARK (0 from
// the missing socket otherwise).
func (s *Stack) tcpV4SendReset(b *skb.Buff, ns *Netns, ip ipv4) {
	th := b.Data()
	if !s.cfg.Options.Replies || th[13]&tcpRST != 0 || !ns.isLocal4(ip.dst.As4()) {
		return
	}
	opts, fill, ok := s.ipOptionsEcho(b, ns) // ip_send_unicast_reply: __ip_options_echo
	if !ok {
		return
	}
	// ip_send_unicast_reply's flowi4: the segment's ports swapped.
	fl := flow{dst: ip.src, src: ip.dst, mark: replyMark(b, ns.fwmarkReflect), proto: ipprotoTCP,
		sport: binary.BigEndian.Uint16(th[2:]), dport: binary.BigEndian.Uint16(th[0:]), dscp: ip.tos &^ 3}
	out, nh, mtu := s.routeOutputPath(ns, &fl, nil)
	if out == nil {
		return
	}
	hl := ipHlen + len(opts)
	n := hl + 20
	pkt := s.replyBuf(n)
	r := pkt[hl:]
	writeReset(r, th, b.Len())
	writeIPv4(pkt, ip.tos&^3, n, 0, true, 64, ipprotoTCP, ip.dst, ip.src)
	binary.BigEndian.PutUint16(r[16:], ^csumFold(csumAdd(pseudoSum(pkt, ipprotoTCP, 20), r)))
	if len(opts) != 0 {
		s.ipOptionsBuild(pkt, opts, fill)
	}
	s.replyXmit(b, ns, s.ctlSock(ns, &ns.tcpSk, "tcp-ctl", ipprotoTCP), pkt, out, nh, mtu, OpTCPSendReset)
}

// writeReset writes into r the 20-byte reset answering TCP segment th of
// segLen bytes (tcp_v4_send_reset, tcp_v6_send_reset): the ports swapped;
// the segment's acknowledgment as the sequence number (RST), or else an
// acknowledgment of seq + SYN + FIN + payload (RST|ACK); window 0; the
// checksum left 0.
func writeReset(r, th []byte, segLen int) {
	clear(r[:20])
	copy(r[0:2], th[2:4])
	copy(r[2:4], th[0:2])
	r[12] = 5 << 4
	if th[13]&tcpACK != 0 {
		copy(r[4:8], th[8:12])
		r[13] = tcpRST
		return
	}
	ack := binary.BigEndian.Uint32(th[4:8]) + uint32(segLen-int(th[12]>>4)*4)
	if th[13]&tcpSYN != 0 {
		ack++
	}
	if th[13]&tcpFIN != 0 {
		ack++
	}
	binary.BigEndian.PutUint32(r[8:12], ack)
	r[13] = tcpRST | tcpACK
}
