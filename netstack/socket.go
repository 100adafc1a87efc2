package netstack

import (
	"net/netip"

	"github.com/skbsim/skbsim/skb"
)

// rmemDefault is net.core.rmem_default.
const rmemDefault = 212992

// maxRtx bounds a socket's retransmit queue in the model: beyond it the
// oldest queued skb is released as if acknowledged.
const maxRtx = 256

// Socket is a bound UDP or TCP socket of the model.
type Socket struct {
	idx      int // index in Config.Sockets (-1: a tunnel's kernel socket)
	name     string
	ns       *Netns
	proto    string
	l4       uint8 // proto's IP protocol number (ipprotoUDP, ipprotoTCP)
	addr     netip.Addr
	port     uint16
	cgroup   string
	mark     uint32
	uid      uint32 // sk_uid
	priority uint32
	rcvbuf   int
	noRead   bool
	v6only   bool
	txhash   uint32

	udpGRO     bool
	udpSegment int
	broadcast  bool // SO_BROADCAST
	noMcLoop   bool // IP_MULTICAST_LOOP off

	connect netip.AddrPort // the peer of a connecting TCP socket (tcp.go)
	cstate  tcpState       // its connection's state

	rq      []queued
	rmem    int
	filters []int
	rtx     []rtxEntry // the retransmit queue, oldest first: a window of rtxBuf
	rtxBuf  []rtxEntry // rtx's buffer (2*maxRtx entries, allocated at the first push)
	rtxIdx  rtxIndex   // rtx's entries by sequence range
	encap   []*Device  // UDP tunnel devices this socket decapsulates for
	// noCheck6Rx is udp_get_no_check6_rx: IPv6 datagrams with a UDP
	// checksum of 0 are accepted (a tunnel socket with udp6zerocsumrx).
	noCheck6Rx bool

	rfreeFn func(*skb.Buff)
	wfreeFn func(*skb.Buff)
	wmem    int

	// pfrag is the page_frag sk_page_frag() gives the send path (the
	// sending task's task_frag, shared by the task's sockets): TCP payload
	// and UDP_SEGMENT datagrams go to its pages.
	pfrag *skb.PageFrag
}

type rtxEntry struct {
	b        *skb.Buff
	pkt      uint64
	seq, end uint32
}

// Name returns the socket's name.
func (sk *Socket) Name() string { return sk.name }

// Netns returns the socket's namespace.
func (sk *Socket) Netns() *Netns { return sk.ns }

// Queued returns the number of skbs waiting in the receive queue.
func (sk *Socket) Queued() int { return len(sk.rq) }

// RtxQueued returns the number of skbs on the TCP retransmit queue.
func (sk *Socket) RtxQueued() int { return len(sk.rtx) }

// Sockets returns the configured sockets in Config order.
func (s *Stack) Sockets() []*Socket {
	out := make([]*Socket, 0, len(s.socks))
	out = append(out, s.socks...)
	return out
}

// Socket returns the configured socket called name, or nil.
func (s *Stack) Socket(name string) *Socket {
	for _, sk := range s.socks {
		if sk.name == name {
			return sk
		}
	}
	return nil
}

func (sk *Socket) initFns() {
	if sk.rfreeFn == nil {
		sk.rfreeFn = sk.rfree
		sk.wfreeFn = sk.wfree
	}
}

// rfree models sock_rfree(): uncharge the receive buffer.
func (sk *Socket) rfree(b *skb.Buff) { sk.rmem -= b.Truesize() }

// wfree models sock_wfree(): uncharge the send buffer.
func (sk *Socket) wfree(b *skb.Buff) { sk.wmem -= b.Truesize() }

// boundAddr reports whether the socket, bound to the right port and
// protocol, receives for dst. A socket without an address or with an IPv4
// one is AF_INET (IPv4 only); one bound to an IPv6 address is AF_INET6: on
// the wildcard :: it also receives IPv4 (v4-mapped,
// net.ipv6.bindv6only = 0) unless V6Only (IPV6_V6ONLY).
func (sk *Socket) boundAddr(dst netip.Addr) bool {
	if !sk.addr.IsValid() || sk.addr.Is4() {
		return dst.Is4() && (!sk.addr.IsValid() || sk.addr.IsUnspecified() || sk.addr == dst)
	}
	if sk.addr.IsUnspecified() {
		return dst.Is6() || !sk.v6only
	}
	return sk.addr == dst
}

// lookup models __udp4_lib_lookup / __inet_lookup_listener: a socket
// bound to the destination port and address (or the wildcard) in the
// namespace, l4 being ipprotoUDP or ipprotoTCP. A connecting TCP socket is
// not a listener (tcpLookup finds it by its 4-tuple).
func (n *Netns) lookup(l4 uint8, dst netip.Addr, port uint16) *Socket {
	var wild *Socket
	for _, sk := range n.socks {
		if sk.port != port || sk.l4 != l4 || !sk.boundAddr(dst) || sk.connect.IsValid() {
			continue
		}
		if sk.addr.IsValid() && !sk.addr.IsUnspecified() {
			return sk
		}
		if wild == nil {
			wild = sk
		}
	}
	return wild
}

// queueRcv models __udp_enqueue_schedule_skb / tcp_queue_rcv: charge the
// receive buffer (drop SOCKET_RCVBUFF when full), skb_set_owner_r, queue.
// Takes ownership of skb.
func (s *Stack) queueRcv(sk *Socket, b *skb.Buff) {
	if sk.rmem+b.Truesize() > sk.rcvbuf {
		s.drop(b, skb.DropSocketRcvbuff, OpSockQueue)
		return
	}
	sk.initFns()
	b.DstDrop() // skb_dst_drop (udp_set_dev_scratch / tcp_queue_rcv)
	b.SetOwner(sk, sk.rfreeFn)
	sk.rmem += b.Truesize()
	s.traceOp(LayerSocket, OpSockQueue, b)
	sk.rq = append(sk.rq, queued{b: b, pkt: s.cur})
	s.rqQueued = true
}

// read models the application reading everything queued: skb_consume_udp
// / tcp_recvmsg -> consume_skb. When closing, the queue is purged instead.
func (sk *Socket) read(s *Stack, closing bool) {
	for _, q := range sk.rq {
		s.cur = q.pkt
		if !closing {
			if sk.proto == ProtoUDP && s.rxCsumBad(q.b, ipprotoUDP) {
				// udp_recvmsg: the copy's checksum fails
				// (csum_copy_err).
				s.drop(q.b, skb.DropUDPCsum, OpSockRead)
				continue
			}
			s.consume(q.b, DeliverSocket, sk.idx) // skb_consume_udp / __kfree_skb after tcp_recvmsg
			continue
		}
		q.b.ConsumeSkb()
	}
	clear(sk.rq)
	sk.rq = sk.rq[:0]
	if closing {
		for _, r := range sk.rtx {
			s.cur = r.pkt
			r.b.ConsumeSkb()
		}
		clear(sk.rtx)
		sk.rtx = sk.rtx[:0]
		sk.rtxIdx.reset()
	}
}

// cleanRtx models tcp_clean_rtx_queue(): queued skbs fully acknowledged by
// ack are freed (sk_wmem_free_skb).
func (s *Stack) cleanRtx(sk *Socket, ack uint32) {
	n := 0
	for _, r := range sk.rtx {
		if int32(ack-r.end) >= 0 {
			s.cur = r.pkt
			sk.rtxIdx.remove(r.seq, r.end)
			r.b.ConsumeSkb()
			continue
		}
		sk.rtx[n] = r
		n++
	}
	clear(sk.rtx[n:])
	sk.rtx = sk.rtx[:n]
}

// rtxFind returns the queued skb of the sequence range [seq, end), or nil.
// The queue holds one skb per range (rtxPush adds a range only when
// rtxFind does not find it).
func (sk *Socket) rtxFind(seq, end uint32) *skb.Buff { return sk.rtxIdx.find(seq, end) }

// rtxPush appends e to the retransmit queue. The queue is a window of
// rtxBuf: rtxPopFront moves its start, and when the window reaches the
// buffer's end the entries move down to its start, so neither costs a copy
// of the queue per segment.
func (sk *Socket) rtxPush(e rtxEntry) {
	if sk.rtxBuf == nil {
		sk.rtxBuf = make([]rtxEntry, 2*maxRtx)
		sk.rtx = sk.rtxBuf[:0]
	}
	if len(sk.rtx) == cap(sk.rtx) && cap(sk.rtx) < len(sk.rtxBuf) {
		n := copy(sk.rtxBuf, sk.rtx)
		clear(sk.rtxBuf[n:])
		sk.rtx = sk.rtxBuf[:n]
	}
	sk.rtx = append(sk.rtx, e)
	sk.rtxIdx.insert(e.seq, e.end, e.b)
}

// rtxPopFront removes the oldest entry of the retransmit queue and
// returns it.
func (sk *Socket) rtxPopFront() rtxEntry {
	r := sk.rtx[0]
	sk.rtx[0] = rtxEntry{}
	sk.rtx = sk.rtx[1:]
	sk.rtxIdx.remove(r.seq, r.end)
	return r
}

// rtxIndex maps the sequence ranges of a retransmit queue to their skbs:
// an open-addressing table with linear probing and backward-shift
// deletion, 2*maxRtx slots allocated at the first insert.
type rtxIndex struct {
	slots []rtxSlot
	n     int
}

type rtxSlot struct {
	key uint64    // seq<<32 | end
	b   *skb.Buff // nil: a free slot
}

const rtxIndexBits = 9 // 1<<rtxIndexBits >= 2*maxRtx

func rtxKey(seq, end uint32) uint64 { return uint64(seq)<<32 | uint64(end) }

func rtxHome(key uint64) int { return int((key * 0x9e3779b97f4a7c15) >> (64 - rtxIndexBits)) }

func (t *rtxIndex) find(seq, end uint32) *skb.Buff {
	if t.n == 0 {
		return nil
	}
	key := rtxKey(seq, end)
	mask := len(t.slots) - 1
	for i := rtxHome(key); ; i = (i + 1) & mask {
		sl := &t.slots[i]
		if sl.b == nil || sl.key == key {
			return sl.b
		}
	}
}

func (t *rtxIndex) insert(seq, end uint32, b *skb.Buff) {
	if t.slots == nil {
		t.slots = make([]rtxSlot, 1<<rtxIndexBits)
	}
	if t.n >= len(t.slots)-1 {
		panic("netstack: retransmit index over its bound")
	}
	key := rtxKey(seq, end)
	mask := len(t.slots) - 1
	i := rtxHome(key)
	for t.slots[i].b != nil {
		i = (i + 1) & mask
	}
	t.slots[i] = rtxSlot{key: key, b: b}
	t.n++
}

func (t *rtxIndex) remove(seq, end uint32) {
	if t.n == 0 {
		return
	}
	key := rtxKey(seq, end)
	mask := len(t.slots) - 1
	i := rtxHome(key)
	for {
		sl := &t.slots[i]
		if sl.b == nil {
			return
		}
		if sl.key == key {
			break
		}
		i = (i + 1) & mask
	}
	t.n--
	// Backward shift: move up every later entry of the run whose home
	// is not in (i, j], so no lookup meets a hole before its entry.
	for j := (i + 1) & mask; t.slots[j].b != nil; j = (j + 1) & mask {
		h := rtxHome(t.slots[j].key)
		if (j-h)&mask >= (j-i)&mask {
			t.slots[i] = t.slots[j]
			i = j
		}
	}
	t.slots[i] = rtxSlot{}
}

func (t *rtxIndex) reset() {
	clear(t.slots)
	t.n = 0
}
