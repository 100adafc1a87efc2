package netstack_test

import (
	"fmt"
	"net/netip"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/netstack"
	"github.com/skbsim/skbsim/skb"
)

type printDrops struct{ netstack.NopObserver }

func (printDrops) Drop(e netstack.DropEvent) {
	fmt.Printf("packet %d dropped: %s at %s\n", e.PacketID, e.Reason.Name(), e.Loc)
}

func (printDrops) Deliver(e netstack.DeliverEvent) {
	fmt.Printf("packet %d delivered (kind %d, index %d)\n", e.PacketID, e.Kind, e.Index)
}

// A socket in namespace A sends over a veth pair to namespace B; the mark
// set at vA's tc egress is scrubbed by the namespace crossing
// (dev_forward_skb with xnet = true).
func Example() {
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
		Programs: []netstack.ProgramConfig{
			{Name: "mark", Hook: carrier.HookTCEgress, Netns: "A", Dev: "vA",
				Actions: []netstack.Action{{Kind: netstack.ActSetMark, Value: 42}}},
			{Name: "see", Hook: carrier.HookTCIngress, Netns: "B", Dev: "vB",
				Prog: netstack.ProgramFunc(func(c *netstack.Ctx) int {
					fmt.Printf("mark at %s: %d\n", c.Dev.Name(), c.Skb.H().Mark)
					return netstack.TCXNext
				})},
		},
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
	if err := s.Inject(&netstack.Packet{ID: 1, Frame: pkt}); err != nil {
		fmt.Println(err)
	}
	fmt.Println(s.Close(), a.CheckLeaks())
	// Output:
	// mark at vB: 0
	// packet 1 delivered (kind 0, index 1)
	// <nil> <nil>
}
