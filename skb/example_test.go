package skb_test

import (
	"errors"
	"fmt"

	"github.com/skbsim/skbsim/internal/errno"
	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/skb"
)

// A driver builds an skb around an XDP buffer whose program left 8 bytes of
// metadata; a clone shares them, a copy loses them.
func Example() {
	a := skb.NewAllocator(kmem.New(), skb.DefaultProfile())

	b, _ := a.BuildSkb(2048)
	b.Reserve(skb.XDPPacketHeadroom)
	b.Put(60)
	copy(b.Head()[skb.XDPPacketHeadroom-8:], "metadata")
	b.MetadataSet(8)
	b.ResetMacHeader() // eth_type_trans

	c, _ := b.Clone()
	cp, _ := b.Copy()
	view, ok := c.Metadata()
	fmt.Printf("clone: %q valid=%v\n", view, ok)
	fmt.Println("copy meta_len:", cp.MetadataLen())

	// An outer Ethernet header pushed over the metadata (encapsulation).
	b.Push(skb.EthHlen)
	_, ok = c.Metadata()
	fmt.Println("after push, clone's view valid:", ok)

	for _, x := range []*skb.Buff{b, c, cp} {
		x.ConsumeSkb()
	}
	fmt.Println("leaks:", a.CheckLeaks())
	// Output:
	// clone: "metadata" valid=true
	// copy meta_len: 0
	// after push, clone's view valid: false
	// leaks: <nil>
}

// pskb_expand_head on a clone keeps the metadata only from v6.19 on.
func ExampleBuff_ExpandHead() {
	for _, name := range []string{"v6.18", "v6.19"} {
		p, _ := skb.ProfileByName(name)
		a := skb.NewAllocator(kmem.New(), p)
		b, _ := a.AllocSkb(256)
		b.Reserve(64)
		b.Put(100)
		b.MetadataSet(16)
		b.ResetMacHeader()
		c, _ := b.Clone()
		_ = b.ExpandHead(0, 0) // skb_unclone
		fmt.Printf("%s: expanded meta_len=%d, other clone meta_len=%d\n", name, b.MetadataLen(), c.MetadataLen())
		b.ConsumeSkb()
		c.ConsumeSkb()
	}
	// Output:
	// v6.18: expanded meta_len=0, other clone meta_len=16
	// v6.19: expanded meta_len=16, other clone meta_len=16
}

type storage struct{ name string }

func (s *storage) ExtDestroy() { fmt.Println("destroy", s.name) }

// The BPF storage extension is shared by clones, dropped from the copy made
// by skb_ext_add on a shared object, and destroyed by the last put.
func ExampleBuff_ExtAdd() {
	a := skb.NewAllocator(kmem.New(), skb.DefaultProfile())
	b, _ := a.AllocSkb(100)
	e, _ := b.ExtAdd(skb.ExtBPFStorage)
	e.SetStorage(&storage{"orig"})

	c, _ := b.Clone()
	fmt.Println("shared:", c.ExtShared(), "refs:", e.Refs())

	ce, _ := c.ExtAdd(skb.ExtTC) // COW: the clone gets a private copy
	fmt.Println("clone copy has storage:", ce.Storage() != nil, "orig refs:", e.Refs())

	c.ConsumeSkb()
	b.KfreeSkb(skb.DropTCIngress)
	// Output:
	// shared: true refs: 2
	// clone copy has storage: false orig refs: 1
	// destroy orig
}

// Scrubbing within a netns keeps the mark; crossing one clears it. Both
// drop every extension.
func ExampleBuff_Scrub() {
	a := skb.NewAllocator(kmem.New(), skb.DefaultProfile())
	for _, xnet := range []bool{false, true} {
		b, _ := a.AllocSkb(64)
		b.H().Mark = 0x42
		_, _ = b.ExtAdd(skb.ExtTC)
		b.Scrub(xnet)
		fmt.Printf("xnet=%v mark=%#x extensions=%d\n", xnet, b.H().Mark, b.ExtActive())
		b.ConsumeSkb()
	}
	// Output:
	// xnet=false mark=0x42 extensions=0
	// xnet=true mark=0x0 extensions=0
}

// Allocation failures injected by the accountant follow the kernel's error
// paths and match ENOMEM.
func ExampleAllocator_AllocSkb() {
	acct := kmem.New()
	a := skb.NewAllocator(acct, skb.DefaultProfile())
	acct.SetFault(kmem.Fault{Nth: 2}) // the data buffer after the sk_buff
	_, err := a.AllocSkb(1500)
	fmt.Println(errors.Is(err, errno.ENOMEM), a.CheckLeaks())
	objs, _ := acct.Live()
	fmt.Println("live kernel objects:", objs)
	// Output:
	// true <nil>
	// live kernel objects: 0
}

// Hooks let carriers outside the skb follow clones and frees.
func ExampleAllocator_AddHooks() {
	a := skb.NewAllocator(kmem.New(), skb.DefaultProfile())
	a.AddHooks(skb.Hooks{
		Clone: func(orig, clone *skb.Buff) { fmt.Println("clone of", orig.ID()) },
		Free:  func(b *skb.Buff, r skb.DropReason) { fmt.Println("free", b.ID(), r) },
	})
	b, _ := a.AllocSkb(10)
	c, _ := b.Clone()
	c.ConsumeSkb()
	b.KfreeSkb(skb.DropNoSocket)
	// Output:
	// clone of 1
	// free 3 SKB_CONSUMED
	// free 1 SKB_DROP_REASON_NO_SOCKET
}
