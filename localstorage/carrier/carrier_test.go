package carrier_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/localstorage"
	"github.com/skbsim/skbsim/localstorage/carrier"
	"github.com/skbsim/skbsim/skb"
)

func setup(t *testing.T, st localstorage.Strategy) (carrier.Carrier, *skb.Allocator) {
	t.Helper()
	acct := kmem.New()
	env := localstorage.NewEnv(localstorage.Config{Acct: acct, Skb: localstorage.SkbConfig{Strategy: st}})
	c := carrier.NewLocalStorage(env)
	a := skb.NewAllocator(acct, skb.DefaultProfile())
	a.AddHooks(c.Hooks())
	t.Cleanup(func() {
		require.NoError(t, a.CheckLeaks())
		env.Close()
		o, _ := acct.Live()
		assert.Zero(t, o, "leak")
	})
	return c, a
}

func TestLocalStorageCarrier(t *testing.T) {
	for _, st := range localstorage.Strategies() {
		t.Run(string(st), func(t *testing.T) {
			c, a := setup(t, st)
			assert.Equal(t, "skb-storage/"+string(st), c.Name())
			plain, err := c.NewSlot(carrier.Spec{Name: "flow", Size: 8})
			require.NoError(t, err)
			tun, err := c.NewSlot(carrier.Spec{Name: "tunnel", Size: 4, KeepOnScrub: true, CopyOnClone: true})
			require.NoError(t, err)
			_, err = c.NewSlot(carrier.Spec{Name: "huge", Size: 1 << 20})
			assert.ErrorIs(t, err, localstorage.ErrValueTooBig)
			c.Maintain()

			b, err := a.AllocSkb(128)
			require.NoError(t, err)
			_, err = c.Get(localstorage.CtxNormal, b, plain, nil, false)
			assert.ErrorIs(t, err, localstorage.ErrNotFound)
			v, err := c.Get(localstorage.CtxNormal, b, plain, nil, true)
			require.NoError(t, err)
			v[0] = 1
			v, err = c.Get(localstorage.CtxNormal, b, tun, []byte{7, 7, 7, 7}, true)
			require.NoError(t, err)
			assert.Equal(t, []byte{7, 7, 7, 7}, v)
			assert.Equal(t, []carrier.Entry{
				{Slot: "tunnel", Value: []byte{7, 7, 7, 7}},
				{Slot: "flow", Value: []byte{1, 0, 0, 0, 0, 0, 0, 0}},
			}, c.Entries(b, nil))

			cl, err := b.Clone()
			require.NoError(t, err)
			assert.Len(t, c.Entries(cl, nil), 1, "the clone got its own copy of the CopyOnClone slot")
			cl.Scrub(false)
			assert.Equal(t, []carrier.Entry{{Slot: "tunnel", Value: []byte{7, 7, 7, 7}}}, c.Entries(cl, nil))
			_, err = c.Get(localstorage.CtxHardirq, cl, tun, nil, false)
			assert.ErrorIs(t, err, localstorage.ErrPerm)
			require.NoError(t, c.Delete(localstorage.CtxNormal, cl, tun))
			assert.ErrorIs(t, c.Delete(localstorage.CtxNormal, cl, tun), localstorage.ErrNotFound)
			assert.Empty(t, c.Entries(cl, nil))
			cl.ConsumeSkb()
			b.ConsumeSkb()
			c.FreeSlot(plain)
			assert.Panics(t, func() { _, _ = c.Get(localstorage.CtxNormal, nil, plain, nil, false) }, "a freed slot")
			assert.Same(t, carrier.Map(tun), carrier.Map(tun))
			assert.Nil(t, carrier.Map(nil))
			c.Maintain()
		})
	}
}
