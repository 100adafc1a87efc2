package skb

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/internal/errno"
	"github.com/skbsim/skbsim/kmem"
)

func TestAllocSizes(t *testing.T) {
	tests := []struct {
		name     string
		alloc    func(a *Allocator) (*Buff, error)
		headroom int
		end      int
		headFrag bool
		site     kmem.Site
		occupied uint64
		truesize int
	}{
		// SKB_HEAD_ALIGN(0) = 320 fits skbuff_small_head (640): end 320.
		{"alloc_skb(0)", func(a *Allocator) (*Buff, error) { return a.AllocSkb(0) }, 0, 320, false, siteSmallHead, 640, 320 + 256 + 320},
		{"alloc_skb(320)", func(a *Allocator) (*Buff, error) { return a.AllocSkb(320) }, 0, 320, false, siteSmallHead, 640, 896},
		// 321 -> 384 + 320 = 704 -> kmalloc-1024, end 704.
		{"alloc_skb(321)", func(a *Allocator) (*Buff, error) { return a.AllocSkb(321) }, 0, 704, false, siteKmalloc, 1024, 704 + 576},
		// 1500 -> 1536 + 320 = 1856 -> kmalloc-2048, end 1728.
		{"alloc_skb(1500)", func(a *Allocator) (*Buff, error) { return a.AllocSkb(1500) }, 0, 1728, false, siteKmalloc, 2048, 1728 + 576},
		// 9000 -> 9024 + 320 = 9344 -> 4 pages = 16384, end 16064.
		{"alloc_skb(9000)", func(a *Allocator) (*Buff, error) { return a.AllocSkb(9000) }, 0, 16064, false, siteKmalloc, 16384, 16064 + 576},
		// netdev_alloc_skb(200): 264 <= 320 -> __alloc_skb(264), small head.
		{"netdev_alloc_skb(200)", func(a *Allocator) (*Buff, error) { return a.NetdevAllocSkb(200) }, 64, 320, false, siteSmallHead, 640, 896},
		// netdev_alloc_skb(1500): 1564 -> SKB_HEAD_ALIGN = 1600+320 = 1920 page fragment.
		{"netdev_alloc_skb(1500)", func(a *Allocator) (*Buff, error) { return a.NetdevAllocSkb(1500) }, 64, 1600, true, siteFrag, 1920, 1600 + 576},
		// netdev_alloc_skb(4000): 4064 > 3776 -> kmalloc 4384 -> 8192.
		{"netdev_alloc_skb(4000)", func(a *Allocator) (*Buff, error) { return a.NetdevAllocSkb(4000) }, 64, 8192 - 320, false, siteKmalloc, 8192, 8192 - 320 + 576},
		{"napi_alloc_skb(1000)", func(a *Allocator) (*Buff, error) { return a.NapiAllocSkb(1000) }, 64, 1088, true, siteFrag, 1408, 1088 + 576},
		{"napi_build_skb(4096)", func(a *Allocator) (*Buff, error) { return a.BuildSkb(4096) }, 0, 3776, true, sitePagePool, 4096, 3776 + 576},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAlloc(t)
			b, err := tt.alloc(a)
			require.NoError(t, err)
			assert.Equal(t, tt.headroom, b.Headroom())
			assert.Equal(t, tt.end, b.EndOffset())
			assert.Equal(t, tt.headFrag, b.HeadFrag())
			assert.Equal(t, tt.truesize, b.Truesize())
			assert.Equal(t, 1, b.Users())
			assert.Equal(t, 1, b.Dataref())
			assert.False(t, b.Cloned())
			assert.False(t, b.MacHeaderWasSet())
			assert.Equal(t, Header{}, *b.H(), "skbuff_clear zeroes the header")
			assert.Equal(t, SharedInfo{}, *b.Shinfo())
			st := a.acct.Stats()
			assert.Equal(t, uint64(1), st.BySite[tt.site].Allocs)
			assert.Equal(t, tt.occupied, st.BySite[tt.site].BytesOccupied)
			assert.Equal(t, uint64(1), st.BySite[siteHead].Allocs)
			assert.Equal(t, uint64(256), st.BySite[siteHead].BytesOccupied, "skbuff_head_cache slab object")
			b.KfreeSkb(DropNotSpecified)
			st = a.acct.Stats()
			assert.Equal(t, int64(0), st.LiveObjects)
		})
	}
}

func TestAllocENOMEM(t *testing.T) {
	tests := []struct {
		name  string
		fault kmem.Fault
		alloc func(a *Allocator) (*Buff, error)
	}{
		{"head", kmem.Fault{Nth: 1, Site: siteHead}, func(a *Allocator) (*Buff, error) { return a.AllocSkb(100) }},
		{"data", kmem.Fault{Nth: 1, Site: siteSmallHead}, func(a *Allocator) (*Buff, error) { return a.AllocSkb(100) }},
		{"kmalloc data", kmem.Fault{Nth: 1, Site: siteKmalloc}, func(a *Allocator) (*Buff, error) { return a.AllocSkb(1000) }},
		{"fclone", kmem.Fault{Nth: 1, Site: siteFclone}, func(a *Allocator) (*Buff, error) { return a.AllocSkbFclone(100) }},
		{"fclone data", kmem.Fault{Nth: 1, Site: siteSmallHead}, func(a *Allocator) (*Buff, error) { return a.AllocSkbFclone(100) }},
		{"frag", kmem.Fault{Nth: 1, Site: siteFrag}, func(a *Allocator) (*Buff, error) { return a.NetdevAllocSkb(1500) }},
		{"frag head", kmem.Fault{Nth: 1, Site: siteHead}, func(a *Allocator) (*Buff, error) { return a.NetdevAllocSkb(1500) }},
		{"page pool", kmem.Fault{Nth: 1, Site: sitePagePool}, func(a *Allocator) (*Buff, error) { return a.BuildSkb(2048) }},
		{"build head", kmem.Fault{Nth: 1, Site: siteHead}, func(a *Allocator) (*Buff, error) { return a.BuildSkb(2048) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAlloc(t)
			a.acct.SetFault(tt.fault)
			b, err := tt.alloc(a)
			assert.Nil(t, b)
			require.Error(t, err)
			assert.True(t, errors.Is(err, errno.ENOMEM), "%v", err)
			assert.True(t, errors.Is(err, kmem.ErrNoMem))
			o, _ := a.acct.Live()
			assert.Equal(t, int64(0), o, "nothing stays allocated")
			assert.Equal(t, 1, a.Live().Failures)
		})
	}
	a := newAlloc(t)
	b := mustAlloc(t, a, 0, 10)
	a.acct.SetFault(kmem.Fault{Nth: 1})
	_, err := b.Clone()
	assert.True(t, errors.Is(err, errno.ENOMEM))
	assert.False(t, b.Cloned(), "a failed clone leaves the skb alone")
	a.acct.SetFault(kmem.Fault{})
	b.ConsumeSkb()
}

// TestXDPBuff: a driver's XDP buffer costs its page-pool page only; the
// sk_buff is accounted when an skb is built around the frame, which can
// fail (ENOMEM) and leave it a frame; freeing a frame frees the page
// alone, and nothing leaks either way.
func TestXDPBuff(t *testing.T) {
	a := newAlloc(t)
	b, err := a.BuildXDPBuff(2048)
	require.NoError(t, err)
	require.True(t, b.XDPFrame())
	st := a.acct.Stats()
	assert.Equal(t, uint64(1), st.BySite[sitePagePool].Allocs)
	assert.Zero(t, st.BySite[siteHead].Allocs, "an xdp_buff has no sk_buff")
	b.KfreeSkb(DropXDP) // XDP_DROP: the page goes back
	st = a.acct.Stats()
	assert.Equal(t, uint64(1), st.BySite[sitePagePool].Frees)
	assert.Zero(t, st.BySite[siteHead].Frees)

	b, err = a.BuildXDPBuff(2048)
	require.NoError(t, err)
	a.acct.SetFault(kmem.Fault{Nth: 1, Site: siteHead})
	err = b.BuildSkbFromFrame()
	require.True(t, errors.Is(err, errno.ENOMEM), "%v", err)
	assert.True(t, b.XDPFrame(), "a failed build leaves the frame")
	a.acct.SetFault(kmem.Fault{})
	require.NoError(t, b.BuildSkbFromFrame())
	assert.False(t, b.XDPFrame())
	assert.Panics(t, func() { _ = b.BuildSkbFromFrame() }, "an skb is no frame")
	b.ConsumeSkb()
	st = a.acct.Stats()
	assert.Equal(t, uint64(1), st.BySite[siteHead].Allocs)
	assert.Equal(t, uint64(1), st.BySite[siteHead].Frees)
	o, _ := a.acct.Live()
	assert.Zero(t, o)
}

func TestUseAfterFreeAndDoubleFree(t *testing.T) {
	a := newAlloc(t)
	b := mustAlloc(t, a, 0, 10)
	b.ConsumeSkb()
	msg := mustPanic(t, func() { b.Push(1) })
	assert.Contains(t, msg, "use after free: skb_push")
	assert.Contains(t, msg, "freed by consume_skb")
	assert.Contains(t, msg, "allocated by alloc_skb")
	assert.Contains(t, msg, "(called from ", "the panic names the caller of the method")
	assert.Contains(t, msg, "alloc_test.go:")
	msg = mustPanic(t, func() { b.KfreeSkb(DropNotSpecified) })
	assert.Contains(t, msg, "double free: kfree_skb")
	assert.Contains(t, msg, "already freed by consume_skb")
	msg = mustPanic(t, func() { b.H().Mark = 1 })
	assert.Contains(t, msg, "use after free: H")

	c := mustAlloc(t, a, 0, 10)
	e, err := c.ExtAdd(ExtTC)
	require.NoError(t, err)
	c.KfreeSkb(DropTCIngress)
	msg = mustPanic(t, func() { e.Chunk(ExtTC) })
	assert.Contains(t, msg, "freed by skb_release_head_state")
}

func TestCheckLeaks(t *testing.T) {
	a := NewAllocator(kmem.New(), DefaultProfile()) // not registered: it leaks on purpose
	assert.NoError(t, a.CheckLeaks())
	b, err := a.AllocSkb(10)
	require.NoError(t, err)
	_, err = b.ExtAdd(ExtTC)
	require.NoError(t, err)
	c, err := b.Clone()
	require.NoError(t, err)
	err = a.CheckLeaks()
	require.Error(t, err)
	assert.Equal(t, "skb: leaked 2 skbs, 1 data buffers, 1 skb extensions", err.Error())
	assert.Equal(t, Live{Skbs: 2, Buffers: 1, Exts: 1}, a.Live())
	b.ConsumeSkb()
	c.ConsumeSkb()
	assert.NoError(t, a.CheckLeaks())
}

func TestUsersAndDestructor(t *testing.T) {
	a := newAlloc(t)
	r := newRich(t, a)
	var reasons []DropReason
	a.AddHooks(Hooks{Free: func(_ *Buff, reason DropReason) { reasons = append(reasons, reason) }})
	r.b.Get()
	r.b.KfreeSkb(DropQdiscDrop)
	assert.Empty(t, reasons, "first put only drops skb->users")
	assert.Equal(t, 1, r.b.Users())
	assert.Equal(t, 0, r.destroy)
	r.b.ConsumeSkb()
	assert.Equal(t, []DropReason{SkbConsumed}, reasons)
	assert.True(t, reasons[0].Consumed())
	assert.Equal(t, 1, r.destroy)
	assert.Equal(t, 1, r.dst.Refs())
	assert.Equal(t, 1, r.ct.Refs())
	assert.Equal(t, 1, r.storage.destroyed)
}

func TestDropReasonNames(t *testing.T) {
	for r := SkbNotDroppedYet; r < numDropReasons; r++ {
		got, ok := ParseDropReason(r.Name())
		assert.True(t, ok, "reason %d", r)
		assert.Equal(t, r, got)
	}
	assert.Equal(t, "SKB_DROP_REASON_NOMEM", DropNomem.String())
	_, ok := ParseDropReason("nope")
	assert.False(t, ok)
}

func TestProfiles(t *testing.T) {
	p, err := ProfileByName("v6.18")
	require.NoError(t, err)
	assert.Equal(t, DefaultProfile(), p)
	assert.False(t, p.PskbExpandHeadKeepsMeta)
	assert.False(t, p.DataMoveHelpers)
	assert.True(t, p.SkbMetaDynptr)
	assert.True(t, p.HasExt(ExtPSP))
	assert.True(t, p.HasExt(ExtBPFStorage))
	p19, err := ProfileByName("6.19")
	require.NoError(t, err)
	assert.True(t, p19.PskbExpandHeadKeepsMeta)
	assert.True(t, p19.DataMoveHelpers)
	p419, err := ProfileByName("v4.19.3")
	require.NoError(t, err)
	assert.True(t, p419.ScrubKeepsSock)
	assert.False(t, p419.ScrubKeepsDeliveryTime)
	assert.False(t, p419.HasExt(ExtTC))
	assert.Equal(t, 32, p419.MaxMetaLen)
	_, err = ProfileByName("v6.7")
	assert.ErrorIs(t, err, ErrUnknownProfile)
	assert.ErrorIs(t, err, errno.EINVAL)
	_, err = ProfileByName("latest")
	assert.ErrorIs(t, err, ErrUnknownProfile)
	assert.Len(t, ProfileNames(), 9)
	a := newAlloc(t, withProfile("v4.19"))
	b := mustAlloc(t, a, 0, 1)
	defer b.ConsumeSkb()
	assert.Panics(t, func() { _, _ = b.ExtAdd(ExtPSP) }, "PSP is not in v4.19")
}

// TestMetadataDst: a metadata dst from metadata_dst_alloc is a kmalloc
// freed after a grace period with its last reference; skb_tunnel_info
// finds it; skb_metadata_dst_cmp tells infos apart; a per-CPU one is
// never freed.
func TestMetadataDst(t *testing.T) {
	a := newAlloc(t)
	info := TunnelInfo{ID: 42, Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("192.0.2.2"), TTL: 64}
	md, err := a.NewMetadataDst(info, 4)
	require.NoError(t, err)
	b, c := mustAlloc(t, a, 0, 10), mustAlloc(t, a, 0, 10)
	b.DstSet(md)
	got, ok := b.TunnelInfo()
	require.True(t, ok)
	assert.Equal(t, info, *got)
	_, ok = c.TunnelInfo()
	assert.False(t, ok)
	assert.True(t, MetadataDstDiffers(b, c), "one has tunnel info")
	md2, err := a.NewMetadataDst(info, 4)
	require.NoError(t, err)
	c.DstSet(md2)
	assert.False(t, MetadataDstDiffers(b, c), "equal infos")
	md2.Info.Src = netip.MustParseAddr("192.0.2.9")
	assert.True(t, MetadataDstDiffers(b, c), "another remote")
	c.DropTunnelDst()
	b.ConsumeSkb()
	c.ConsumeSkb()
	st := a.acct.Stats()
	assert.Equal(t, uint64(2), st.BySite[siteMetadataDst].Allocs)
	assert.Equal(t, uint64(2), st.BySite[siteMetadataDst].DeferredFrees, "dst_release -> call_rcu")
	a.acct.GracePeriod()
	pc := PerCPUMetadataDst()
	d := mustAlloc(t, a, 0, 10)
	pc.Hold()
	d.DstSet(pc)
	d.ConsumeSkb()
	assert.Equal(t, 1, pc.Refs(), "the per-CPU md_dst stays")
	a.acct.SetFault(kmem.Fault{Nth: 1, Site: siteMetadataDst})
	_, err = a.NewMetadataDst(info, 0)
	assert.True(t, errors.Is(err, errno.ENOMEM))
}
