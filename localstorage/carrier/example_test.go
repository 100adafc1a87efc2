package carrier_test

import (
	"fmt"

	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/localstorage"
	"github.com/skbsim/skbsim/localstorage/carrier"
	"github.com/skbsim/skbsim/skb"
)

// A slot that survives encap/decap, through the Carrier interface.
func ExampleLocalStorage() {
	acct := kmem.New()
	env := localstorage.NewEnv(localstorage.Config{Acct: acct, Skb: localstorage.SkbConfig{Strategy: localstorage.StrategySlim}})
	var c carrier.Carrier = carrier.NewLocalStorage(env)
	alloc := skb.NewAllocator(acct, skb.DefaultProfile())
	alloc.AddHooks(c.Hooks())

	mark, _ := c.NewSlot(carrier.Spec{Name: "mark", Size: 4, KeepOnScrub: true})
	scratch, _ := c.NewSlot(carrier.Spec{Name: "scratch", Size: 4})
	b, _ := alloc.AllocSkb(128)
	_, _ = c.Get(localstorage.CtxNormal, b, mark, []byte{1, 2, 3, 4}, true)
	_, _ = c.Get(localstorage.CtxNormal, b, scratch, nil, true)
	fmt.Println(c.Name(), len(c.Entries(b, nil)))
	b.Scrub(false) // tunnel decap
	fmt.Println(c.Entries(b, nil))
	b.ConsumeSkb()
	// Output:
	// skb-storage/rfc-slim 2
	// [{mark [1 2 3 4]}]
}
