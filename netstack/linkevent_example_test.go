package netstack_test

import (
	"fmt"
	"net/netip"

	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/netstack"
	"github.com/skbsim/skbsim/skb"
)

// A socket in namespace A sends to B over a veth pair; B's end goes down
// between two datagrams, taking vA's carrier: the second is dropped at
// vA's qdisc (noop_qdisc), and up again, the third arrives.
func ExampleStack_SetLink() {
	cfg := &netstack.Config{
		Namespaces: []netstack.NamespaceConfig{{Name: "A"}, {Name: "B"}},
		Devices: []netstack.DeviceConfig{{
			Name: "vA", Kind: netstack.KindVeth, Netns: "A",
			Addrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.1/24")},
			Peer:  "vB", PeerNetns: "B",
			PeerAddrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.2/24")},
		}},
		Sockets: []netstack.SocketConfig{
			{Name: "tx", Netns: "A", Proto: netstack.ProtoUDP, Port: 40000},
			{Name: "rx", Netns: "B", Proto: netstack.ProtoUDP, Port: 9999},
		},
		Entries: []netstack.EntryConfig{{Kind: netstack.EntryTX, Netns: "A", Socket: "tx"}},
	}
	a := skb.NewAllocator(kmem.New(), skb.DefaultProfile())
	s, err := netstack.New(cfg, netstack.Env{Alloc: a, Observer: printDrops{}})
	if err != nil {
		panic(err)
	}
	// IPv4/UDP 192.0.2.1:40000 -> 192.0.2.2:9999, 4 bytes of payload.
	pkt := []byte{
		0x45, 0, 0, 32, 0, 1, 0x40, 0, 64, 17, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2,
		0x9c, 0x40, 0x27, 0x0f, 0, 12, 0, 0, 'p', 'i', 'n', 'g',
	}
	send := func(id uint64) {
		if err := s.Inject(&netstack.Packet{ID: id, Frame: pkt}); err != nil {
			fmt.Println(err)
		}
	}
	send(1)
	if err := s.SetLink("B", "vB", netstack.LinkDown); err != nil {
		panic(err)
	}
	send(2)
	if err := s.SetLink("B", "vB", netstack.LinkUp); err != nil {
		panic(err)
	}
	send(3)
	fmt.Println(s.Close(), a.CheckLeaks())
	// Output:
	// packet 1 delivered (kind 0, index 1)
	// packet 2 dropped: SKB_DROP_REASON_QDISC_DROP at qdisc_enqueue
	// packet 3 delivered (kind 0, index 1)
	// <nil> <nil>
}
