package netstack_test

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/netstack"
	"github.com/skbsim/skbsim/skb"
)

// segment returns a bare IPv4 + TCP segment without payload.
func segment(src, dst netip.Addr, sport, dport uint16, seq, ack uint32, flags byte) []byte {
	p := make([]byte, 40)
	p[0], p[8], p[9] = 0x45, 64, 6
	binary.BigEndian.PutUint16(p[2:], 40)
	copy(p[12:16], src.AsSlice())
	copy(p[16:20], dst.AsSlice())
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(p[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(p[10:], ^uint16(sum))
	binary.BigEndian.PutUint16(p[20:], sport)
	binary.BigEndian.PutUint16(p[22:], dport)
	binary.BigEndian.PutUint32(p[24:], seq)
	binary.BigEndian.PutUint32(p[28:], ack)
	p[32], p[33] = 5<<4, flags
	return p
}

// A loopback handshake: "cli" is connect()ed to the listener "srv". The
// client's SYN makes a request; the server's SYN-ACK completes the
// client's connect() (tcp_finish_connect runs lsm/inet_conn_established,
// then sockops with BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB); the client's ACK
// makes the server's child (BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB). Each
// program runs with the segment that caused it as its skb.
func ExampleStack_TCPStats() {
	lo := netip.MustParseAddr("127.0.0.1")
	show := func(c *netstack.Ctx) int {
		fmt.Printf("packet %d: %s op %d, socket %s\n", c.PacketID, c.Hook, c.SockOp(), c.Socket.Name())
		return 0
	}
	cfg := &netstack.Config{
		Sockets: []netstack.SocketConfig{
			{Name: "srv", Proto: netstack.ProtoTCP, Addr: lo, Port: 80},
			{Name: "cli", Proto: netstack.ProtoTCP, Addr: lo, Port: 40000, Connect: netip.AddrPortFrom(lo, 80)},
		},
		Entries: []netstack.EntryConfig{{Kind: netstack.EntryTX, Socket: "cli"}, {Kind: netstack.EntryTX, Socket: "srv"}},
		Programs: []netstack.ProgramConfig{
			{Name: "skops", Hook: carrier.HookSockOps, Prog: netstack.ProgramFunc(show)},
			{Name: "lsm", Hook: carrier.HookLSM, Event: netstack.EventInetConnEstablished, Prog: netstack.ProgramFunc(show)},
		},
	}
	a := skb.NewAllocator(kmem.New(), skb.DefaultProfile())
	s, err := netstack.New(cfg, netstack.Env{Alloc: a})
	if err != nil {
		panic(err)
	}
	for i, p := range []netstack.Packet{
		{Entry: 0, Frame: segment(lo, lo, 40000, 80, 100, 0, 0x02)},   // SYN
		{Entry: 1, Frame: segment(lo, lo, 80, 40000, 900, 101, 0x12)}, // SYN-ACK
		{Entry: 0, Frame: segment(lo, lo, 40000, 80, 101, 901, 0x10)}, // ACK
	} {
		p.ID = uint64(i)
		if err := s.Inject(&p); err != nil {
			panic(err)
		}
	}
	st := s.TCPStats()
	fmt.Printf("requests %d, passive %d, active %d, live %d; cli %s, srv %s\n",
		st.Requests, st.PassiveEstablished, st.ActiveEstablished, st.Live, s.Socket("cli").State(), s.Socket("srv").State())
	if err := s.Close(); err != nil {
		panic(err)
	}
	// Output:
	// packet 1: lsm op 0, socket cli
	// packet 1: sockops op 4, socket cli
	// packet 2: sockops op 5, socket srv
	// requests 1, passive 1, active 1, live 1; cli ESTABLISHED, srv LISTEN
}
