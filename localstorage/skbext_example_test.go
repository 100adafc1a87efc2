package localstorage_test

import (
	"fmt"

	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/localstorage"
	"github.com/skbsim/skbsim/skb"
)

// rfc-slim embeds the storage in the SKB_EXT_BPF_STORAGE chunk: sizing the
// allocator's slot for it makes every skbuff_ext_cache object carry the
// 8*N + 16 bytes of the slim storage instead of the RFC's pointer.
func ExampleEnv_SizeSkbExt() {
	for _, cache := range []int{1, 4, 16, 32} {
		acct := kmem.New()
		env := localstorage.NewEnv(localstorage.Config{Acct: acct,
			Skb: localstorage.SkbConfig{Strategy: localstorage.StrategySlim, CacheSize: cache}})
		alloc := skb.NewAllocator(acct, skb.DefaultProfile())
		if err := env.SizeSkbExt(alloc); err != nil {
			fmt.Println(err)
			continue
		}
		l := alloc.ExtLayout()
		fmt.Printf("cache=%-2d slim storage %3d bytes: slot %2d chunks, skb_ext %d bytes (slab %d)\n",
			cache, env.SkbExtChunkSize(), l.Chunks[skb.ExtBPFStorage], l.ObjectSize, l.SlabSize)
	}
	// Output:
	// cache=1  slim storage  24 bytes: slot  3 chunks, skb_ext 224 bytes (slab 256)
	// cache=4  slim storage  48 bytes: slot  6 chunks, skb_ext 248 bytes (slab 256)
	// cache=16 slim storage 144 bytes: slot 18 chunks, skb_ext 344 bytes (slab 384)
	// cache=32 slim storage 272 bytes: slot 34 chunks, skb_ext 472 bytes (slab 512)
}
