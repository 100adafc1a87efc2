package skb_test

import (
	"fmt"

	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/skb"
)

// A design that keeps a 64-byte metadata buffer in the SKB_EXT_BPF_STORAGE
// slot sizes it to 8 chunks before traffic: every skbuff_ext_cache object
// grows by 56 bytes, a clone shares the buffer, and an skb_ext COW copies
// it.
func ExampleAllocator_SetExtSlotChunks() {
	a := skb.NewAllocator(kmem.New(), skb.DefaultProfile())
	fmt.Println("rfc pointer:", a.ExtLayout())
	if err := a.SetExtSlotChunks(64 / 8); err != nil {
		fmt.Println(err)
	}
	fmt.Println("64-byte buffer:", a.ExtLayout())

	b, _ := a.AllocSkb(128)
	e, _ := b.ExtAdd(skb.ExtBPFStorage)
	copy(e.Chunk(skb.ExtBPFStorage), "flow=42")
	c, _ := b.Clone()
	ce, _ := c.ExtAdd(skb.ExtTC) // COW: the copy carries the buffer
	fmt.Printf("slot %d bytes; copy reads %q\n", len(ce.Chunk(skb.ExtBPFStorage)), ce.Chunk(skb.ExtBPFStorage)[:7])

	fmt.Println(a.SetExtSlotChunks(1))
	b.ConsumeSkb()
	c.ConsumeSkb()
	// Output:
	// rfc pointer: {[4 11 2 4 1 1 1] 2 26 208 256}
	// 64-byte buffer: {[4 11 2 4 1 1 8] 2 33 264 320}
	// slot 64 bytes; copy reads "flow=42"
	// set skb_ext slot: 1 chunks, already sized to 8 by a design: skb: SKB_EXT_BPF_STORAGE slot size is in use (EBUSY)
}
