package carrier

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/skb"
)

// TestExtBufferVersionsRecycled: buffer versions (the model's own objects)
// are all recycled once every skb is gone, whatever clones and unseen COWs
// happened, and steady-state traffic does not grow them.
func TestExtBufferVersionsRecycled(t *testing.T) {
	acct := kmem.New()
	a := skb.NewAllocator(acct, skb.DefaultProfile())
	ci, err := New(NameExtBuffer, Env{Alloc: a, Acct: acct}, []MapSpec{{Name: "m", ValueSize: 8}}, Options{})
	require.NoError(t, err)
	c := ci.(*extBuffer)
	v := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	for round := 0; round < 50; round++ {
		b, err := a.AllocSkb(256)
		require.NoError(t, err)
		b.Reserve(64)
		b.Put(64)
		require.NoError(t, c.Store(HookTCEgress, b, 0, v))
		n, err := b.Clone()
		require.NoError(t, err)
		_, err = n.ExtAdd(skb.ExtTC) // a COW the carrier is not told about
		require.NoError(t, err)
		require.NoError(t, c.Store(HookTCEgress, b, 0, v)) // frozen: a new version
		cp, err := b.Copy()
		require.NoError(t, err)
		require.NoError(t, c.Store(HookTCIngress, cp, 0, v))
		for _, x := range []*skb.Buff{n, b, cp} {
			x.ConsumeSkb()
		}
		c.collect()
		require.Zero(t, c.nVersion, "round %d", round)
	}
	require.LessOrEqual(t, len(c.vers), 8, "versions are reused, not grown")
	require.NoError(t, c.Close())
	require.NoError(t, a.CheckLeaks())
}
