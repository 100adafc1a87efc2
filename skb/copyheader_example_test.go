package skb_test

import (
	"fmt"

	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/skb"
)

// skb_pp_cow_data copies a packet into a page-pool buffer with more
// headroom: skb_copy_header, then skb_headers_offset_update.
func ExampleBuff_CopyHeader() {
	a := skb.NewAllocator(kmem.New(), skb.DefaultProfile())
	old, _ := a.AllocSkb(164)
	old.Reserve(64)
	old.Put(60)
	old.ResetMacHeader()
	old.H().Mark = 42

	n, _ := a.BuildSkb(4096)
	n.Reserve(skb.XDPPacketHeadroom)
	copy(n.Put(old.Len()), old.Data())
	n.CopyHeader(old)
	n.HeadersOffsetUpdate(skb.XDPPacketHeadroom - old.Headroom())
	fmt.Println("mark:", n.H().Mark, "mac offset:", n.MacOffset())

	old.ConsumeSkb()
	n.ConsumeSkb()
	fmt.Println("leaks:", a.CheckLeaks())
	// Output:
	// mark: 42 mac offset: 0
	// leaks: <nil>
}
