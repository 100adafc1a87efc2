package localstorage

import (
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/internal/errno"
	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/skb"
)

const magic = 0xdeadbeef

func u32(v []byte) uint32 { return binary.LittleEndian.Uint32(v) }

func putU32(v []byte, x uint32) { binary.LittleEndian.PutUint32(v, x) }

// newSkbEnv returns an Env and an skb allocator on one accountant, with the
// hooks attached; the cleanup checks the allocator for leaks before the
// Env's own leak check.
func newSkbEnv(t testing.TB, cfg Config) (*Env, *skb.Allocator) {
	t.Helper()
	acct := kmem.New()
	cfg.Acct = acct
	a := skb.NewAllocator(acct, skb.DefaultProfile())
	e := newTestEnv(t, cfg)
	e.AttachSkb(a)
	t.Cleanup(func() {
		if err := a.CheckLeaks(); err != nil {
			t.Error(err)
		}
	})
	return e, a
}

func mustSkb(t testing.TB, a *skb.Allocator) *skb.Buff {
	t.Helper()
	b, err := a.AllocSkb(256)
	require.NoError(t, err)
	return b
}

// TestSkbStorageOps replays the RFC selftest skb_storage_ops (§1.5).
func TestSkbStorageOps(t *testing.T) {
	for _, st := range Strategies() {
		t.Run(string(st), func(t *testing.T) {
			e, a := newSkbEnv(t, Config{Skb: SkbConfig{Strategy: st}})
			m := mustMap(t, e, Spec(MapTypeSkbStorage, 4, 0))
			e.RefillSkbPool()
			b := mustSkb(t, a)

			v, err := m.SkbStorageGet(CtxNormal, b, nil, 0)
			assert.Nil(t, v)
			assert.ErrorIs(t, err, ErrNotFound)
			v, err = m.SkbStorageGet(CtxNormal, b, nil, GetCreate)
			require.NoError(t, err)
			assert.Zero(t, u32(v))
			putU32(v, magic)
			v, err = m.SkbStorageGet(CtxNormal, b, nil, 0)
			require.NoError(t, err)
			assert.Equal(t, uint32(magic), u32(v))
			require.NoError(t, m.SkbStorageDelete(CtxNormal, b))
			assert.ErrorIs(t, m.SkbStorageDelete(CtxNormal, b), ErrNotFound)
			init := make([]byte, 4)
			putU32(init, magic)
			v, err = m.SkbStorageGet(CtxNormal, b, init, GetCreate)
			require.NoError(t, err)
			assert.Equal(t, uint32(magic), u32(v), "the initial value is copied")

			rows := []struct {
				name string
				err  error
				want errno.Errno
			}{
				{"get flags 2", second(m.SkbStorageGet(CtxNormal, b, nil, 2)), errno.EINVAL},
				{"get nil skb", second(m.SkbStorageGet(CtxNormal, nil, nil, 0)), errno.EINVAL},
				{"delete nil skb", m.SkbStorageDelete(CtxNormal, nil), errno.EINVAL},
				{"get in hardirq", second(m.SkbStorageGet(CtxHardirq, b, nil, 0)), errno.EPERM},
				{"get in NMI", second(m.SkbStorageGet(CtxNMI, b, nil, GetCreate)), errno.EPERM},
				{"delete in hardirq", m.SkbStorageDelete(CtxHardirq, b), errno.EPERM},
				{"syscall lookup", m.LookupElem(NewFDTable(), 3, make([]byte, 4), 0), errno.EOPNOTSUPP},
				{"syscall update", m.UpdateElem(NewFDTable(), 3, make([]byte, 4), 0), errno.EOPNOTSUPP},
				{"syscall delete", m.DeleteElem(NewFDTable(), 3), errno.EOPNOTSUPP},
				{"syscall next key", m.GetNextKey(), errno.EOPNOTSUPP},
			}
			for _, r := range rows {
				assert.Equal(t, r.want, errno.Of(r.err), "%s: %v", r.name, r.err)
			}
			b.ConsumeSkb()
		})
	}
}

// TestSkbFirstWriteAllocations: the allocations of the first write, per
// strategy (the RFC: skb_ext + storage + element = 3).
func TestSkbFirstWriteAllocations(t *testing.T) {
	want := map[Strategy]struct {
		allocs uint64
		bytes  uint64 // requested by localstorage (the skb_ext is skb's)
		ext    uint64 // the skb_ext object: 8 * skb_ext_total_length()
	}{
		StrategyRFC:      {3, 184 + 80, 208},
		StrategyCoalloc:  {2, 184 + 80, 208},
		StrategyPrealloc: {1, 0, 208},
		// The 144-byte slim storage (16 slots) is 18 chunks in the
		// extension instead of the pointer's 1: 8 * (26 + 17).
		StrategySlim: {2, 80, 208 + 8*17},
	}
	for _, st := range Strategies() {
		t.Run(string(st), func(t *testing.T) {
			e, a := newSkbEnv(t, Config{Skb: SkbConfig{Strategy: st}})
			m := mustMap(t, e, Spec(MapTypeSkbStorage, 8, 0))
			e.RefillSkbPool()
			b := mustSkb(t, a)
			d := delta(e, func() {
				_, err := m.SkbStorageGet(CtxNormal, b, nil, GetCreate)
				require.NoError(t, err)
			})
			w := want[st]
			assert.Equal(t, w.allocs, d.Total.Allocs)
			ours := d.BySite[siteSelem].BytesRequested + d.BySite[siteStorage].BytesRequested +
				d.BySite[siteCoalloc].BytesRequested
			assert.Equal(t, w.bytes, ours)
			assert.Equal(t, w.ext, d.BySite[siteSkbExt].BytesRequested)
			assert.Equal(t, w.ext+ours, d.Total.BytesRequested, "nothing else")
			assert.Equal(t, uint64(1), d.Ops[cost.OpExtAdd], "one skb_ext_add")
			// A second map's first write on the skb allocates one element
			// (none under rfc-prealloc: the pool serves it).
			m2 := mustMap(t, e, Spec(MapTypeSkbStorage, 8, 0))
			d = delta(e, func() {
				_, err := m2.SkbStorageGet(CtxNormal, b, nil, GetCreate)
				require.NoError(t, err)
			})
			if st == StrategyPrealloc {
				assert.Zero(t, d.Total.Allocs)
			} else {
				assert.Equal(t, uint64(1), d.Total.Allocs)
			}
			d = delta(e, func() { b.ConsumeSkb() })
			assert.Equal(t, int64(0), int64(a.Live().Exts))
			e.GracePeriod()
			if st == StrategyPrealloc {
				ps := e.SkbPoolStats()
				assert.Equal(t, 64, ps.Storages, "the storage went back to the pool")
				assert.Equal(t, uint64(3), ps.Hits)
			}
		})
	}
}

var siteSkbExt = kmem.RegisterSite("skbuff_ext_cache")

// TestSkbExtSlotSize: AttachSkb sizes the allocator's SKB_EXT_BPF_STORAGE
// slot to the strategy's chunk: the pointer, or the slim storage (8*N + 16
// bytes) in every skb_ext object, whose COW copies it.
func TestSkbExtSlotSize(t *testing.T) {
	tests := []struct {
		strategy  Strategy
		cache     int
		chunk     int // SkbExtChunkSize
		slot      int // chunks
		objSize   int // skbuff_ext_cache object
		slabBytes int
	}{
		{StrategyRFC, 0, 8, 1, 208, 256},
		{StrategyCoalloc, 0, 8, 1, 208, 256},
		{StrategyPrealloc, 0, 8, 1, 208, 256},
		{StrategySlim, 1, 24, 3, 224, 256},
		{StrategySlim, 2, 32, 4, 232, 256},
		{StrategySlim, 4, 48, 6, 248, 256},
		{StrategySlim, 16, 144, 18, 344, 384},
		{StrategySlim, 32, 272, 34, 472, 512},
		{StrategySlim, 228, 1840, 230, 2040, 2048},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/cache=%d", tt.strategy, tt.cache), func(t *testing.T) {
			e, a := newSkbEnv(t, Config{Skb: SkbConfig{Strategy: tt.strategy, CacheSize: tt.cache}})
			assert.Equal(t, tt.chunk, e.SkbExtChunkSize())
			assert.Equal(t, tt.slot, a.Profile().ExtSlotChunks)
			assert.Equal(t, tt.objSize, a.ExtCacheSize())
			assert.Equal(t, tt.slabBytes, a.ExtLayout().SlabSize)
			m := mustMap(t, e, Spec(MapTypeSkbStorage, 4, 0))
			e.RefillSkbPool()
			b := mustSkb(t, a)
			d := delta(e, func() {
				_, err := m.SkbStorageGet(CtxNormal, b, nil, GetCreate)
				require.NoError(t, err)
			})
			assert.Equal(t, uint64(tt.objSize), d.BySite[siteSkbExt].BytesRequested)
			assert.Equal(t, uint64(tt.slabBytes), d.BySite[siteSkbExt].BytesOccupied)
			assert.Len(t, b.ExtFind(skb.ExtBPFStorage).Chunk(skb.ExtBPFStorage), 8*tt.slot)
			// An skb_ext COW copies the whole used object, slot included.
			c, err := b.Clone()
			require.NoError(t, err)
			d = delta(e, func() {
				_, err := c.ExtAdd(skb.ExtTC)
				require.NoError(t, err)
			})
			assert.Equal(t, uint64(8*(2+tt.slot)), d.Ops[cost.OpMemcpyByte])
			c.ConsumeSkb()
			b.ConsumeSkb()
			e.GracePeriod()
		})
	}
}

// TestSkbExtSlotRefused: a slim storage too large for the u8 chunk count,
// or an allocator whose slot another design sized, is refused by
// SizeSkbExt (and AttachSkb panics with the same message).
func TestSkbExtSlotRefused(t *testing.T) {
	e := newTestEnv(t, Config{Skb: SkbConfig{Strategy: StrategySlim, CacheSize: 229}})
	a := skb.NewAllocator(e.Acct(), skb.DefaultProfile())
	err := e.SizeSkbExt(a)
	assert.ErrorIs(t, err, skb.ErrExtTooLarge)
	assert.ErrorIs(t, err, errno.E2BIG)
	assert.Contains(t, err.Error(), "localstorage: skb strategy rfc-slim: set skb_ext slot:")
	assert.Contains(t, err.Error(), "slot of 231 chunks makes skb_ext_total_length() 256 chunks, limit 255")
	assert.PanicsWithValue(t, "localstorage: AttachSkb: "+err.Error(), func() { e.AttachSkb(a) })

	rfc := newTestEnv(t, Config{})
	a = skb.NewAllocator(rfc.Acct(), skb.DefaultProfile())
	require.NoError(t, rfc.SizeSkbExt(a))
	slim := newTestEnv(t, Config{Acct: rfc.Acct(), Skb: SkbConfig{Strategy: StrategySlim}})
	assert.ErrorIs(t, slim.SizeSkbExt(a), errno.EBUSY, "the slot holds rfc's pointer")
}

// TestSkbSlimCacheSize: the slim storage is 8*N + 16 bytes; the cache size
// option applies to skb storages only.
func TestSkbSlimCacheSize(t *testing.T) {
	e := newTestEnv(t, Config{Skb: SkbConfig{Strategy: StrategySlim, CacheSize: 2}})
	assert.Equal(t, 32, e.StorageSize(OwnerSkb))
	assert.Equal(t, 184, e.StorageSize(OwnerSock))
	assert.Equal(t, 2, e.CacheSize(OwnerSkb))
	for i := range 3 {
		assert.Equal(t, i%2, mustMap(t, e, Spec(MapTypeSkbStorage, 4, 0)).CacheIdx())
	}
	assert.Equal(t, StrategySlim, e.SkbStrategy())
	assert.Panics(t, func() { NewEnv(Config{Skb: SkbConfig{Strategy: "rfc-magic"}}) })
	s, ok := ParseStrategy("rfc-coalloc")
	assert.True(t, ok)
	assert.Equal(t, StrategyCoalloc, s)
}

// TestSkbCloneRefused replays tc_clone_redirect: a clone shares the
// extension, and both sides get EOPNOTSUPP while it is shared.
func TestSkbCloneRefused(t *testing.T) {
	e, a := newSkbEnv(t, Config{})
	m := mustMap(t, e, Spec(MapTypeSkbStorage, 4, 0))
	b := mustSkb(t, a)
	v, err := m.SkbStorageGet(CtxNormal, b, nil, GetCreate)
	require.NoError(t, err)
	putU32(v, magic)
	c, err := b.Clone()
	require.NoError(t, err)
	_, err = m.SkbStorageGet(CtxNormal, c, nil, 0)
	assert.ErrorIs(t, err, ErrNotSupported, "load_seen == 0 on the clone")
	_, err = m.SkbStorageGet(CtxNormal, b, nil, GetCreate)
	assert.ErrorIs(t, err, ErrNotSupported, "the original is refused too while shared")
	assert.ErrorIs(t, m.SkbStorageDelete(CtxNormal, c), ErrNotSupported)
	c.ConsumeSkb()
	v, err = m.SkbStorageGet(CtxNormal, b, nil, 0)
	require.NoError(t, err, "the clone is gone: the extension is no longer shared")
	assert.Equal(t, uint32(magic), u32(v))
	b.ConsumeSkb()
}

// TestSkbLifetimes: skb_copy shares the storage (not a clone); a COW of the
// shared extension leaves the copy without storage; scrub resets it; the
// last put destroys it, after the kfree_skb tracepoint could still read it.
func TestSkbLifetimes(t *testing.T) {
	e, a := newSkbEnv(t, Config{})
	m := mustMap(t, e, Spec(MapTypeSkbStorage, 4, 0))
	var seenAtFree []uint32
	a.AddHooks(skb.Hooks{Free: func(b *skb.Buff, _ skb.DropReason) {
		if s := SkbStorage(b); s != nil {
			for _, en := range s.Entries(nil) {
				seenAtFree = append(seenAtFree, u32(en.Value))
			}
		}
	}})
	b := mustSkb(t, a)
	v, err := m.SkbStorageGet(CtxNormal, b, nil, GetCreate)
	require.NoError(t, err)
	putU32(v, magic)

	cp, err := b.Copy()
	require.NoError(t, err)
	v2, err := m.SkbStorageGet(CtxNormal, cp, nil, 0)
	require.NoError(t, err, "skb_copy shares the extension and is not cloned")
	assert.Equal(t, uint32(magic), u32(v2))
	putU32(v2, 7)
	assert.Equal(t, uint32(7), u32(v), "one storage for both")

	// Adding another extension to the shared object COWs it; the copy's new
	// object has no storage.
	_, err = cp.ExtAdd(skb.ExtSecPath)
	require.NoError(t, err)
	_, err = m.SkbStorageGet(CtxNormal, cp, nil, 0)
	assert.ErrorIs(t, err, ErrNotFound)
	v, err = m.SkbStorageGet(CtxNormal, b, nil, 0)
	require.NoError(t, err)
	assert.Equal(t, uint32(7), u32(v))
	v2, err = m.SkbStorageGet(CtxNormal, cp, nil, GetCreate)
	require.NoError(t, err, "the copy can create its own")
	putU32(v2, 9)
	cp.ConsumeSkb()
	assert.Equal(t, []uint32{9}, seenAtFree, "storage alive at the free tracepoint")

	for _, xnet := range []bool{false, true} {
		d := delta(e, func() { b.Scrub(xnet) })
		assert.Equal(t, uint64(2), d.Total.DeferredFrees, "xnet=%v: element and storage freed", xnet)
		_, err = m.SkbStorageGet(CtxNormal, b, nil, 0)
		assert.ErrorIs(t, err, ErrNotFound)
		_, err = m.SkbStorageGet(CtxNormal, b, nil, GetCreate)
		require.NoError(t, err)
	}
	b.KfreeSkb(skb.DropReason(2))
	assert.Len(t, seenAtFree, 2)
	assert.Zero(t, m.Len())
}

// TestSkbFaults: skb_ext_add fails -> ENOMEM without extension; element or
// storage allocation fails after the extension was added -> ENOMEM, the
// extension stays with no storage.
func TestSkbFaults(t *testing.T) {
	for nth := uint64(1); nth <= 3; nth++ {
		e, a := newSkbEnv(t, Config{})
		m := mustMap(t, e, Spec(MapTypeSkbStorage, 4, 0))
		b := mustSkb(t, a)
		e.Acct().SetFault(kmem.Fault{Nth: nth})
		_, err := m.SkbStorageGet(CtxNormal, b, nil, GetCreate)
		e.Acct().SetFault(kmem.Fault{})
		assert.ErrorIs(t, err, ErrNoMem, "fault %d", nth)
		assert.Equal(t, nth > 1, b.ExtExists(skb.ExtBPFStorage), "fault %d", nth)
		assert.Nil(t, SkbStorage(b))
		_, err = m.SkbStorageGet(CtxNormal, b, nil, GetCreate)
		require.NoError(t, err)
		b.ConsumeSkb()
	}
}

// TestSkbCloneCopy: the CloneCopy option (not in the RFC as posted).
func TestSkbCloneCopy(t *testing.T) {
	for _, st := range Strategies() {
		t.Run(string(st), func(t *testing.T) {
			e, a := newSkbEnv(t, Config{Skb: SkbConfig{Strategy: st}})
			spec := Spec(MapTypeSkbStorage, 4, FlagClone)
			spec.Skb.CloneCopy = true
			cl := mustMap(t, e, spec)
			plain := mustMap(t, e, Spec(MapTypeSkbStorage, 4, 0))
			b := mustSkb(t, a)
			for i, m := range []*Map{cl, plain} {
				v, err := m.SkbStorageGet(CtxNormal, b, nil, GetCreate)
				require.NoError(t, err)
				putU32(v, uint32(i+1))
			}
			c, err := b.Clone()
			require.NoError(t, err)
			assert.Equal(t, uint64(1), e.SkbStats().CloneCopies)
			assert.False(t, c.ExtShared() || b.ExtShared(), "both have private extensions")
			v, err := cl.SkbStorageGet(CtxNormal, c, nil, 0)
			require.NoError(t, err)
			assert.Equal(t, uint32(1), u32(v))
			putU32(v, 5)
			ov, err := cl.SkbStorageGet(CtxNormal, b, nil, 0)
			require.NoError(t, err)
			assert.Equal(t, uint32(1), u32(ov), "deep copy")
			_, err = plain.SkbStorageGet(CtxNormal, c, nil, 0)
			assert.ErrorIs(t, err, ErrNotFound, "only BPF_F_CLONE maps are copied")
			pv, err := plain.SkbStorageGet(CtxNormal, b, nil, 0)
			require.NoError(t, err)
			assert.Equal(t, uint32(2), u32(pv))
			c.ConsumeSkb()
			b.ConsumeSkb()
		})
	}
	// Without any element of a copy-on-clone map the clone shares (RFC).
	e, a := newSkbEnv(t, Config{})
	spec := Spec(MapTypeSkbStorage, 4, FlagClone)
	spec.Skb.CloneCopy = true
	mustMap(t, e, spec)
	plain := mustMap(t, e, Spec(MapTypeSkbStorage, 4, 0))
	b := mustSkb(t, a)
	_, err := plain.SkbStorageGet(CtxNormal, b, nil, GetCreate)
	require.NoError(t, err)
	c, err := b.Clone()
	require.NoError(t, err)
	assert.True(t, c.ExtShared())
	c.ConsumeSkb()
	b.ConsumeSkb()
}

// TestSkbCloneCopyFailure: a failing copy leaves the clone without storage
// (or sharing, when skb_ext_add failed).
func TestSkbCloneCopyFailure(t *testing.T) {
	// Clone allocates the sk_buff (1), then the hook: skb_ext_add COW (2),
	// the element (3), the storage (4).
	for nth := uint64(2); nth <= 4; nth++ {
		e, a := newSkbEnv(t, Config{})
		spec := Spec(MapTypeSkbStorage, 4, FlagClone)
		spec.Skb.CloneCopy = true
		m := mustMap(t, e, spec)
		b := mustSkb(t, a)
		_, err := m.SkbStorageGet(CtxNormal, b, nil, GetCreate)
		require.NoError(t, err)
		e.Acct().SetFault(kmem.Fault{Nth: nth})
		c, err := b.Clone()
		e.Acct().SetFault(kmem.Fault{})
		require.NoError(t, err)
		assert.Equal(t, uint64(1), e.SkbStats().CloneCopyFailures, "fault %d", nth)
		_, err = m.SkbStorageGet(CtxNormal, c, nil, 0)
		if nth == 2 {
			assert.ErrorIs(t, err, ErrNotSupported, "still sharing")
		} else {
			assert.ErrorIs(t, err, ErrNotFound, "private extension, no storage")
		}
		c.ConsumeSkb()
		b.ConsumeSkb()
	}
}

// TestSkbKeep: KeepOnScrub and KeepOnNetns (not in the RFC as posted).
func TestSkbKeep(t *testing.T) {
	for _, st := range Strategies() {
		t.Run(string(st), func(t *testing.T) {
			e, a := newSkbEnv(t, Config{Skb: SkbConfig{Strategy: st}})
			sc := Spec(MapTypeSkbStorage, 4, 0)
			sc.Skb.KeepOnScrub = true
			ns := Spec(MapTypeSkbStorage, 4, 0)
			ns.Skb.KeepOnNetns = true
			keepScrub, keepNetns := mustMap(t, e, sc), mustMap(t, e, ns)
			plain := mustMap(t, e, Spec(MapTypeSkbStorage, 4, 0))
			all := []*Map{keepScrub, keepNetns, plain}
			fill := func(b *skb.Buff) {
				for i, m := range all {
					v, err := m.SkbStorageGet(CtxNormal, b, nil, GetCreate)
					require.NoError(t, err)
					putU32(v, uint32(10+i))
				}
			}
			present := func(b *skb.Buff) []bool {
				var out []bool
				for i, m := range all {
					v, err := m.SkbStorageGet(CtxNormal, b, nil, 0)
					out = append(out, err == nil)
					if err == nil {
						assert.Equal(t, uint32(10+i), u32(v))
					}
				}
				return out
			}
			b := mustSkb(t, a)
			fill(b)
			s := SkbStorage(b)
			b.Scrub(false)
			assert.Equal(t, []bool{true, false, false}, present(b), "encap/decap keeps KeepOnScrub maps")
			assert.Same(t, s, SkbStorage(b), "an unshared storage moves to the new extension")
			fill(b)
			b.Scrub(true)
			assert.Equal(t, []bool{false, true, false}, present(b), "netns crossing keeps KeepOnNetns maps")

			// Shared extension (skb_copy): the kept elements are copied.
			fill(b)
			cp, err := b.Copy()
			require.NoError(t, err)
			cp.Scrub(false)
			assert.Equal(t, []bool{true, false, false}, present(cp))
			assert.Equal(t, []bool{true, true, true}, present(b), "the other sharer keeps everything")
			assert.NotSame(t, SkbStorage(b), SkbStorage(cp))
			assert.Equal(t, uint64(3), e.SkbStats().ScrubKept)
			cp.ConsumeSkb()
			b.ConsumeSkb()

			// skb_ext_add failing after the reset loses the kept elements.
			b = mustSkb(t, a)
			fill(b)
			e.Acct().SetFault(kmem.Fault{Nth: 1, Site: kmem.RegisterSite("skbuff_ext_cache")})
			b.Scrub(false)
			e.Acct().SetFault(kmem.Fault{})
			assert.Equal(t, []bool{false, false, false}, present(b))
			assert.Equal(t, uint64(1), e.SkbStats().ScrubKeepFailures)
			b.ConsumeSkb()
		})
	}
}

// TestSkbStorageLookupMatchesGet replays one scenario twice, reading with
// SkbStorageGet(CtxNormal, b, nil, 0) and with SkbStorageLookup: every
// result, the operation counts and the cache slots must agree. The
// scenario covers a nil skb, an skb without extensions, one with another
// extension only, one with storage for another map (list walk, then the
// cache), a shared clone, an unshared clone, and two maps sharing one
// cache slot.
func TestSkbStorageLookupMatchesGet(t *testing.T) {
	type read struct {
		val []byte
		err error
	}
	type run struct {
		reads []read
		ops   cost.Counts
		cache [][]uint32 // map ids in each storage's cache slots
	}
	scenario := func(t *testing.T, st Strategy, lookup func(*Map, *skb.Buff) ([]byte, error)) run {
		e, a := newSkbEnv(t, Config{Skb: SkbConfig{Strategy: st, CacheSize: 1}})
		m1 := mustMap(t, e, Spec(MapTypeSkbStorage, 4, 0))
		m2 := mustMap(t, e, Spec(MapTypeSkbStorage, 8, 0))
		e.RefillSkbPool()
		var r run
		rd := func(m *Map, b *skb.Buff) {
			v, err := lookup(m, b)
			r.reads = append(r.reads, read{append([]byte(nil), v...), err})
		}
		var stores []*Storage
		rd(m1, nil)
		b := mustSkb(t, a)
		rd(m1, b)
		_, err := b.ExtAdd(skb.ExtSecPath)
		require.NoError(t, err)
		rd(m1, b)
		require.NoError(t, m2.SkbStorageStore(CtxNormal, b, bytesOf(8, 2)))
		rd(m1, b)
		rd(m2, b)
		rd(m2, b)
		require.NoError(t, m1.SkbStorageStore(CtxNormal, b, bytesOf(4, 1)))
		rd(m2, b)
		rd(m1, b)
		rd(m1, b)
		rd(m2, b)
		stores = append(stores, SkbStorage(b))
		c, err := b.Clone()
		require.NoError(t, err)
		rd(m1, c)
		rd(m1, b)
		c.ConsumeSkb()
		rd(m1, b)
		d := mustSkb(t, a)
		c, err = d.Clone()
		require.NoError(t, err)
		rd(m1, c)
		rd(m1, d)
		c.ConsumeSkb()
		d.ConsumeSkb()
		for _, s := range stores {
			var slots []uint32
			for i := range e.CacheSize(OwnerSkb) {
				if el := s.CacheSlot(i); el != nil {
					slots = append(slots, el.Map().ID())
				}
			}
			r.cache = append(r.cache, slots)
		}
		b.ConsumeSkb()
		r.ops = *e.Acct().Ops()
		return r
	}
	for _, st := range Strategies() {
		t.Run(string(st), func(t *testing.T) {
			get := scenario(t, st, func(m *Map, b *skb.Buff) ([]byte, error) { return m.SkbStorageGet(CtxNormal, b, nil, 0) })
			lookup := scenario(t, st, (*Map).SkbStorageLookup)
			assert.Equal(t, get, lookup)
			noExt := 0
			split := scenario(t, st, func(m *Map, b *skb.Buff) ([]byte, error) {
				if m.SkbStorageLookupNoExt(b) {
					noExt++
					return nil, ErrNotFound
				}
				return m.SkbStorageLookup(b)
			})
			assert.Equal(t, get, split, "SkbStorageLookupNoExt then SkbStorageLookup")
			assert.Equal(t, 3, noExt, "reads of skbs without extensions")
			assert.Len(t, get.reads, 15)
			assert.NotZero(t, get.ops[cost.OpStorageCacheHit], "the scenario hits the cache")
			assert.NotZero(t, get.ops[cost.OpListWalk], "the scenario walks the list")
		})
	}
	e, _ := newSkbEnv(t, Config{})
	sk := mustMap(t, e, Spec(MapTypeSkStorage, 4, 0))
	assert.PanicsWithValue(t,
		fmt.Sprintf("localstorage: bpf_skb_storage_get on %v (verifier: cannot pass map_type %d into func bpf_skb_storage_get)", sk, MapTypeSkStorage),
		func() { _, _ = sk.SkbStorageLookup(nil) })
	assert.False(t, sk.SkbStorageLookupNoExt(nil), "an sk map leaves the panic to SkbStorageLookup")
	m := mustMap(t, e, Spec(MapTypeSkbStorage, 4, 0))
	m.Free()
	assert.PanicsWithValue(t, fmt.Sprintf("localstorage: use of freed map %v", m), func() { _, _ = m.SkbStorageLookup(nil) })
	assert.False(t, m.SkbStorageLookupNoExt(nil), "a freed map leaves the panic to SkbStorageLookup")
}
