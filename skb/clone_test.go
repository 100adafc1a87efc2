package skb

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCloneCopiesHeaderSharesBuffer(t *testing.T) {
	a := newAlloc(t)
	r := newRich(t, a)
	orig := r.b
	before := snapshot(orig)
	var hooked [2]*Buff
	a.AddHooks(Hooks{Clone: func(o, c *Buff) { hooked = [2]*Buff{o, c} }})

	c, err := orig.Clone()
	require.NoError(t, err)

	wantClone := before
	wantClone.Users = 1
	wantClone.Cloned = true
	wantClone.Sk = nil
	wantClone.HasDestructor = false
	wantClone.Dataref = 2
	wantClone.Fclone = fcloneUnavailable
	assert.Equal(t, wantClone, snapshot(c))

	wantOrig := before
	wantOrig.Cloned = true
	wantOrig.Dataref = 2
	assert.Equal(t, wantOrig, snapshot(orig))

	assert.Equal(t, [2]*Buff{orig, c}, hooked)
	assert.Equal(t, 3, r.dst.Refs(), "test + orig + clone")
	assert.Equal(t, 3, r.ct.Refs())
	assert.Equal(t, 2, orig.Ext().Refs())
	assert.True(t, orig.SkbCloned())
	assert.True(t, c.SkbCloned())
	assert.NotEqual(t, orig.ID(), c.ID())

	// Header writes stay per skb; data and metadata writes are shared.
	c.H().Mark = 1
	c.H().CB[0] = 0
	assert.Equal(t, uint32(0xfeed), orig.H().Mark)
	assert.Equal(t, byte(0xc0), orig.H().CB[0])
	c.Data()[0] = 0xff
	assert.Equal(t, byte(0xff), orig.Data()[0])
	view, _ := c.Metadata()
	view[0] = 0xee
	ov, ok := orig.Metadata()
	assert.True(t, ok)
	assert.Equal(t, byte(0xee), ov[0])
	c.MetadataSet(8)
	assert.Equal(t, 8, orig.MetadataLen(), "meta_len lives in the shared info")
	// Geometry is per skb.
	c.Pull(14)
	assert.Equal(t, richLen, orig.Len())
	assert.Equal(t, richLen-14, c.Len())

	c.ConsumeSkb()
	assert.Equal(t, 1, orig.Dataref())
	assert.True(t, orig.Cloned(), "cloned bit stays after the clone is gone")
	assert.False(t, orig.SkbCloned())
	assert.Equal(t, 0, r.storage.destroyed)
	orig.ConsumeSkb()
	assert.Equal(t, 1, r.destroy, "destructor ran once, on the original only")
	assert.Equal(t, 1, r.storage.destroyed)
	assert.Equal(t, 1, r.dst.Refs())
	assert.Equal(t, 1, r.ct.Refs())
}

func TestCloneOfCloneAndFreeOrders(t *testing.T) {
	for _, order := range [][3]int{{0, 1, 2}, {2, 1, 0}, {1, 0, 2}, {1, 2, 0}} {
		a := newAlloc(t)
		b := mustAlloc(t, a, 32, 64)
		c1, err := b.Clone()
		require.NoError(t, err)
		c2, err := c1.Clone()
		require.NoError(t, err)
		skbs := [3]*Buff{b, c1, c2}
		assert.Equal(t, 3, b.Dataref())
		for i, k := range order {
			skbs[k].KfreeSkb(DropNotSpecified)
			if i < 2 {
				assert.Equal(t, 1, a.Live().Buffers, "order %v step %d", order, i)
			}
		}
		assert.Equal(t, Live{}, a.Live())
	}
}

func TestCloneNohdr(t *testing.T) {
	a := newAlloc(t)
	b := mustAlloc(t, a, 64, 100)
	c, err := b.Clone()
	require.NoError(t, err)
	// TCP: the clone goes down the stack; the original releases the header.
	b.HeaderRelease()
	assert.Equal(t, uint32(2+1<<datarefShift), b.buf.dataref)
	assert.True(t, c.SkbCloned())
	assert.False(t, c.HeaderCloned(), "only c may write the header")
	assert.False(t, b.HeaderCloned(), "skb_header_cloned does not know who promised; b must not write")
	c2, err := b.Clone()
	require.NoError(t, err)
	assert.Equal(t, 64, c2.HdrLen(), "hdr_len = headroom of a nohdr original")
	assert.False(t, c2.Nohdr())
	assert.Panics(t, func() { b.HeaderRelease() })
	b.ConsumeSkb()
	assert.Equal(t, uint32(2), c.buf.dataref, "the nohdr skb drops both kinds of reference")
	c.ConsumeSkb()
	c2.ConsumeSkb()
}

func TestFcloneCompanion(t *testing.T) {
	a := newAlloc(t)
	b, err := a.AllocSkbFclone(1000)
	require.NoError(t, err)
	st0 := a.acct.Stats()
	c, err := b.Clone()
	require.NoError(t, err)
	st1 := a.acct.Stats()
	d := st1.Sub(&st0)
	assert.Zero(t, d.Total.Allocs, "first clone uses the companion")
	assert.Same(t, &b.pair.skb2, c)
	c2, err := b.Clone()
	require.NoError(t, err)
	st2 := a.acct.Stats()
	d = st2.Sub(&st1)
	assert.Equal(t, uint64(1), d.BySite[siteHead].Allocs, "companion busy: skbuff_head_cache")
	assert.Equal(t, fcloneUnavailable, c2.fclone)
	c.ConsumeSkb()
	assert.Equal(t, 1, a.Live().Fclones)
	c3, err := b.Clone()
	require.NoError(t, err)
	assert.Same(t, &b.pair.skb2, c3, "companion reused after its release")
	b.ConsumeSkb()
	assert.Equal(t, 1, a.Live().Fclones, "pair lives while the companion does")
	c3.ConsumeSkb()
	c2.ConsumeSkb()
	assert.Equal(t, 0, a.Live().Fclones)
	st3 := a.acct.Stats()
	assert.Equal(t, st3.BySite[siteFclone].Allocs, st3.BySite[siteFclone].Frees)
}

func TestShareCheckAndGet(t *testing.T) {
	a := newAlloc(t)
	b := mustAlloc(t, a, 0, 10)
	same, err := b.ShareCheck()
	require.NoError(t, err)
	assert.Same(t, b, same)
	b.Get()
	assert.True(t, b.Shared())
	n, err := b.ShareCheck()
	require.NoError(t, err)
	assert.NotSame(t, b, n)
	assert.Equal(t, 1, b.Users(), "skb_share_check dropped the caller's reference")
	assert.Equal(t, 2, b.Dataref())
	n.ConsumeSkb()
	b.ConsumeSkb()
}

func TestMorph(t *testing.T) {
	a := newAlloc(t)
	r := newRich(t, a)
	dst := mustAlloc(t, a, 0, 5)
	_, err := dst.ExtAdd(ExtMPTCP)
	require.NoError(t, err)
	dst.Morph(r.b)
	assert.Equal(t, r.b.ExtActive(), dst.ExtActive())
	assert.Same(t, r.b.Ext(), dst.Ext())
	assert.Equal(t, 2, r.b.Dataref())
	assert.Equal(t, richLen, dst.Len())
	assert.Equal(t, 1, a.Live().Exts, "dst's own extension was released")
	dst.ConsumeSkb()
	r.b.ConsumeSkb()
}

// TestHooksRunInInstallOrder installs two hook sets, each with some
// functions nil, and checks that clone, scrub and free run every installed
// function of their kind in installation order; ClearHooks removes them.
func TestHooksRunInInstallOrder(t *testing.T) {
	a := newAlloc(t)
	var got []string
	rec := func(s string) { got = append(got, s) }
	a.AddHooks(Hooks{
		Clone:       func(_, _ *Buff) { rec("clone1") },
		ScrubBefore: func(_ *Buff, _ bool) { rec("before1") },
		Free:        func(_ *Buff, _ DropReason) { rec("free1") },
	})
	a.AddHooks(Hooks{})
	a.AddHooks(Hooks{
		Clone:      func(_, _ *Buff) { rec("clone3") },
		ScrubAfter: func(_ *Buff, _ bool) { rec("after3") },
		Free:       func(_ *Buff, _ DropReason) { rec("free3") },
	})
	b, err := a.AllocSkb(64)
	require.NoError(t, err)
	n, err := b.Clone()
	require.NoError(t, err)
	n.Scrub(true)
	n.ConsumeSkb()
	require.Equal(t, []string{"clone1", "clone3", "before1", "after3", "free1", "free3"}, got)

	a.ClearHooks()
	got = nil
	n, err = b.Clone()
	require.NoError(t, err)
	n.Scrub(false)
	n.ConsumeSkb()
	b.ConsumeSkb()
	require.Empty(t, got)
}
