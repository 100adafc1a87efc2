package carrier_test

import (
	"fmt"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/skb"
)

// received builds a received frame as a driver does for XDP.
func received(a *skb.Allocator) *skb.Buff {
	b, err := a.BuildSkb(2048)
	if err != nil {
		panic(err)
	}
	b.Reserve(skb.XDPPacketHeadroom)
	b.Put(64)
	b.ResetMacHeader()
	return b
}

// Every design behind the same API: a tc program stores a mark, the packet
// is cloned (a packet tap), and a downstream program reads both sides.
func Example() {
	for _, name := range []string{"ext-buffer", "skb-hash", "rfc"} {
		acct := kmem.New()
		env := carrier.Env{Alloc: skb.NewAllocator(acct, skb.DefaultProfile()), Acct: acct}
		c, err := carrier.New(name, env, []carrier.MapSpec{{Name: "mark", ValueSize: 4, Flags: carrier.FlagClone}}, carrier.Options{})
		if err != nil {
			panic(err)
		}
		b := received(env.Alloc)
		before := acct.Stats().Total.Allocs
		_ = c.Store(carrier.HookTCEgress, b, 0, []byte{0xca, 0xfe, 0xba, 0xbe})
		first := acct.Stats().Total.Allocs - before
		n, _ := b.Clone()
		v1, err1 := c.Lookup(carrier.HookTCIngress, b, 0)
		v2, err2 := c.Lookup(carrier.HookTCIngress, n, 0)
		fmt.Printf("%-10s first write %d allocations; orig %x %v; clone %x %v\n", name, first, v1, err1, v2, err2)
		n.ConsumeSkb()
		b.ConsumeSkb()
		_ = c.Close()
	}
	// Output:
	// ext-buffer first write 1 allocations; orig cafebabe <nil>; clone cafebabe <nil>
	// skb-hash   first write 1 allocations; orig cafebabe <nil>; clone cafebabe <nil>
	// rfc        first write 3 allocations; orig cafebabe <nil>; clone cafebabe <nil>
}

// Without its free tracepoint program, a hash keyed by the skb pointer
// hands a freed packet's value to the next packet that reuses the sk_buff.
func ExampleOptions_disableReaper() {
	acct := kmem.New()
	env := carrier.Env{Alloc: skb.NewAllocator(acct, skb.DefaultProfile()), Acct: acct}
	c, _ := carrier.New("skb-hash", env, []carrier.MapSpec{{Name: "mark", ValueSize: 4}},
		carrier.Options{DisableReaper: true})
	b := received(env.Alloc)
	_ = c.Store(carrier.HookTCEgress, b, 0, []byte{1, 2, 3, 4})
	b.ConsumeSkb()
	next := received(env.Alloc) // the slab hands back the same object
	v, err := c.Lookup(carrier.HookTCIngress, next, 0)
	st, _ := carrier.StatsOf(c)
	fmt.Printf("next packet reads %x (err %v), stale reads %d\n", v, err, st.StaleReads)
	next.ConsumeSkb()
	_ = c.Close()
	// Output:
	// next packet reads 01020304 (err <nil>), stale reads 1
}

// XDP metadata needs no allocation, but is lost wherever the stack drops
// it: here a pskb_expand_head() on a v6.18 kernel.
func ExampleNew_xdpMeta() {
	acct := kmem.New()
	env := carrier.Env{Alloc: skb.NewAllocator(acct, skb.DefaultProfile()), Acct: acct}
	c, _ := carrier.New("xdp-meta", env, []carrier.MapSpec{{Name: "mark", ValueSize: 4}}, carrier.Options{})
	b := received(env.Alloc)
	_ = c.Store(carrier.HookXDP, b, 0, []byte{1, 2, 3, 4})
	v, err := c.Lookup(carrier.HookTCIngress, b, 0)
	fmt.Printf("tc ingress: %x %v\n", v, err)
	_ = b.ExpandHead(64, 0)
	_, err = c.Lookup(carrier.HookTCIngress, b, 0)
	fmt.Printf("after pskb_expand_head: %v\n", err)
	b.ConsumeSkb()
	_ = c.Close()
	// Output:
	// tc ingress: 01020304 <nil>
	// after pskb_expand_head: carrier: no value for this packet (ENOENT)
}
