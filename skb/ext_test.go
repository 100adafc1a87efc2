package skb

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/internal/errno"
	"github.com/skbsim/skbsim/kmem"
)

func TestExtLayout(t *testing.T) {
	every := Profile{Name: "every id", Exts: 1<<ExtNum - 1}
	l, err := every.ExtLayout()
	require.NoError(t, err)
	assert.Equal(t, 2, l.HdrChunks, "SKB_EXT_CHUNKSIZEOF(struct skb_ext) with 7 ids")
	assert.Equal(t, 26, l.TotalChunks, "skb_ext_total_length with every id")
	assert.Less(t, int(ExtNum), 8, "SKB_EXT_NUM < 8: active_extensions is a u8")
	tests := []struct {
		name      string
		profile   string
		objSize   int
		slabBytes int
	}{
		{"v6.18 with PSP and RFC", "v6.18", 208, 256},
		{"v6.6 without PSP", "v6.6", 200, 256},
		{"v5.4 without MPTCP, MCTP, PSP", "v5.4", 8 * (2 + 4 + 11 + 2 + 1), 192},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAlloc(t, withProfile(tt.profile))
			assert.Equal(t, tt.objSize, a.ExtCacheSize())
			assert.Equal(t, tt.slabBytes, a.extCache.SlabSize())
		})
	}
}

// extSnapshot is every observable property of an skb's extension state.
type extSnapshot struct {
	active  uint8
	ext     *Ext
	refs    int
	offsets [ExtNum]uint8
	chunks  int
	storage ExtStorage
	slowGRO bool
}

func snapExt(b *Buff) extSnapshot {
	s := extSnapshot{active: b.ExtActive(), ext: b.Ext(), slowGRO: b.H().SlowGRO}
	if s.ext != nil {
		s.refs = s.ext.Refs()
		s.offsets = s.ext.offset
		s.chunks = s.ext.Chunks()
		s.storage = s.ext.Storage()
	}
	return s
}

func TestExtAddFindDel(t *testing.T) {
	a := newAlloc(t)
	b := mustAlloc(t, a, 64, 100)
	defer b.ConsumeSkb()

	assert.Nil(t, b.ExtFind(ExtTC))
	assert.False(t, b.ExtShared())
	st0 := a.acct.Stats()

	e, err := b.ExtAdd(ExtTC)
	require.NoError(t, err)
	assert.Equal(t, extSnapshot{
		active: 1 << ExtTC, ext: e, refs: 1, chunks: 2 + 2, slowGRO: true,
		offsets: [ExtNum]uint8{ExtTC: 2},
	}, snapExt(b))
	assert.Same(t, e, b.ExtFind(ExtTC))
	assert.Nil(t, b.ExtFind(ExtBPFStorage))
	assert.Len(t, e.Chunk(ExtTC), 16)
	assert.Nil(t, e.Chunk(ExtSecPath))

	// Second id lands after the first; same object (refcnt 1: no COW).
	e2, err := b.ExtAdd(ExtBPFStorage)
	require.NoError(t, err)
	assert.Same(t, e, e2)
	assert.Equal(t, [ExtNum]uint8{ExtTC: 2, ExtBPFStorage: 4}, e.offset)
	assert.Equal(t, 5, e.Chunks())
	assert.Nil(t, e.Storage(), "a new BPF_STORAGE chunk starts nil")

	st1 := a.acct.Stats()
	d := st1.Sub(&st0)
	assert.Equal(t, uint64(2), d.Ops[cost.OpExtAdd])
	assert.Equal(t, uint64(0), d.Ops[cost.OpExtCOW])
	assert.Equal(t, uint64(1), d.BySite[siteExt].Allocs, "one skbuff_ext_cache object")

	// Re-adding an existing id does not allocate or move it.
	e3, err := b.ExtAdd(ExtTC)
	require.NoError(t, err)
	assert.Same(t, e, e3)
	assert.Equal(t, 5, e.Chunks())

	// Delete clears the bit; the chunk stays in the object.
	b.ExtDel(ExtTC)
	assert.Nil(t, b.ExtFind(ExtTC))
	assert.True(t, e.Exists(ExtTC), "__skb_ext_exist is about the object")
	assert.Equal(t, uint8(1<<ExtBPFStorage), b.ExtActive())

	// Deleting the last active id puts the object.
	s := &fakeStorage{}
	e.SetStorage(s)
	b.ExtDel(ExtBPFStorage)
	assert.Nil(t, b.Ext())
	assert.Equal(t, 1, s.destroyed, "last put destroys the storage")
	assert.Equal(t, 0, a.Live().Exts)
	assert.Panics(t, func() { e.Refs() }, "the freed object is poisoned")
}

func TestExtSharingAndCOW(t *testing.T) {
	tests := []struct {
		name          string
		rule          ExtCOWRule
		wantDestroyed int // 0 means 1
		steps         func(t *testing.T, a *Allocator, orig, clone *Buff, s *fakeStorage)
	}{
		{
			name: "write through find is seen by the sharer",
			steps: func(t *testing.T, a *Allocator, orig, clone *Buff, s *fakeStorage) {
				orig.ExtFind(ExtTC).Chunk(ExtTC)[0] = 0xaa
				assert.Equal(t, byte(0xaa), clone.ExtFind(ExtTC).Chunk(ExtTC)[0])
				assert.Same(t, orig.ExtFind(ExtBPFStorage).Storage(), clone.ExtFind(ExtBPFStorage).Storage())
			},
		},
		{
			name: "add on the clone copies; the copy's storage is nil; the original keeps it",
			steps: func(t *testing.T, a *Allocator, orig, clone *Buff, s *fakeStorage) {
				old := orig.Ext()
				st0 := a.acct.Stats()
				e, err := clone.ExtAdd(ExtSecPath)
				require.NoError(t, err)
				assert.NotSame(t, old, e)
				assert.Equal(t, 1, old.Refs())
				assert.Equal(t, 1, e.Refs())
				assert.Nil(t, e.Storage())
				assert.Same(t, s, old.Storage())
				assert.Equal(t, e.Chunk(ExtTC), old.Chunk(ExtTC), "chunks copied")
				assert.Equal(t, 2+2+1, int(old.chunks))
				assert.Equal(t, 2+2+1+11, int(e.chunks))
				assert.False(t, orig.ExtShared())
				assert.False(t, clone.ExtShared())
				st1 := a.acct.Stats()
				d := st1.Sub(&st0)
				assert.Equal(t, uint64(1), d.Ops[cost.OpExtCOW])
				assert.Equal(t, uint64(5*8), d.Ops[cost.OpMemcpyByte])
				assert.Equal(t, uint64(1), d.Ops[cost.OpExtAdd], "the new id is laid out after the copy")
				// Writes no longer cross.
				e.Chunk(ExtTC)[1] = 1
				old.Chunk(ExtTC)[1] = 2
				assert.Equal(t, byte(1), clone.ExtFind(ExtTC).Chunk(ExtTC)[1])
				assert.Equal(t, 0, s.destroyed)
			},
		},
		{
			name: "re-adding an existing id on a shared object still copies",
			steps: func(t *testing.T, a *Allocator, orig, clone *Buff, s *fakeStorage) {
				old := orig.Ext()
				e, err := orig.ExtAdd(ExtTC)
				require.NoError(t, err)
				assert.NotSame(t, old, e)
				assert.Equal(t, old.offset, e.offset)
			},
		},
		{
			name: "del on one sharer keeps the object for the other",
			steps: func(t *testing.T, a *Allocator, orig, clone *Buff, s *fakeStorage) {
				e := orig.Ext()
				clone.ExtDel(ExtTC)
				clone.ExtDel(ExtBPFStorage)
				assert.Nil(t, clone.Ext())
				assert.Equal(t, 1, e.Refs())
				assert.Same(t, e, orig.ExtFind(ExtTC))
				assert.Equal(t, 0, s.destroyed)
			},
		},
		{
			name: "reset on one sharer keeps the object for the other",
			steps: func(t *testing.T, a *Allocator, orig, clone *Buff, s *fakeStorage) {
				e := orig.Ext()
				orig.ExtReset()
				assert.Zero(t, orig.ExtActive())
				assert.Nil(t, orig.Ext())
				assert.Equal(t, 1, e.Refs())
				assert.Same(t, s, clone.ExtFind(ExtBPFStorage).Storage())
			},
		},
		{
			name:          "clear-if-active: COW after deleting the storage id shares the storage pointer",
			rule:          ExtCOWClearIfActive,
			wantDestroyed: 2, // both objects destroy it: a double free in the RFC as we read it
			steps: func(t *testing.T, a *Allocator, orig, clone *Buff, s *fakeStorage) {
				clone.ExtDel(ExtBPFStorage)
				e, err := clone.ExtAdd(ExtMPTCP)
				require.NoError(t, err)
				assert.Same(t, s, e.storage, "copied pointer not cleared: the RFC hook keys on the active bit")
				assert.Same(t, s, orig.Ext().Storage())
				// Both objects now destroy the same storage on their last put.
			},
		},
		{
			name: "clear-if-exists: COW after deleting the storage id clears the copy",
			rule: ExtCOWClearIfExists,
			steps: func(t *testing.T, a *Allocator, orig, clone *Buff, s *fakeStorage) {
				clone.ExtDel(ExtBPFStorage)
				e, err := clone.ExtAdd(ExtMPTCP)
				require.NoError(t, err)
				assert.Nil(t, e.storage)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAlloc(t, func(p *Profile) { p.ExtCOWStorage = tt.rule })
			orig := mustAlloc(t, a, 64, 60)
			_, err := orig.ExtAdd(ExtTC)
			require.NoError(t, err)
			e, err := orig.ExtAdd(ExtBPFStorage)
			require.NoError(t, err)
			s := &fakeStorage{name: "orig"}
			e.SetStorage(s)
			clone, err := orig.Clone()
			require.NoError(t, err)
			assert.Same(t, orig.Ext(), clone.Ext())
			assert.Equal(t, 2, e.Refs())
			assert.True(t, orig.ExtShared())
			assert.True(t, clone.ExtShared())
			tt.steps(t, a, orig, clone, s)
			orig.ConsumeSkb()
			clone.ConsumeSkb()
			want := tt.wantDestroyed
			if want == 0 {
				want = 1
			}
			assert.Equal(t, want, s.destroyed, "ExtDestroy calls")
		})
	}
}

func TestExtAddENOMEM(t *testing.T) {
	a := newAlloc(t)
	b := mustAlloc(t, a, 0, 10)
	defer b.ConsumeSkb()

	// Fresh allocation fails: nothing changes.
	a.acct.SetFault(kmem.Fault{Nth: 1, Site: siteExt})
	e, err := b.ExtAdd(ExtTC)
	assert.Nil(t, e)
	require.Error(t, err)
	assert.True(t, errors.Is(err, errno.ENOMEM))
	assert.Equal(t, extSnapshot{}, snapExt(b))

	// COW allocation fails: the skb keeps the shared object.
	a.acct.SetFault(kmem.Fault{})
	_, err = b.ExtAdd(ExtTC)
	require.NoError(t, err)
	c, err := b.Clone()
	require.NoError(t, err)
	defer c.ConsumeSkb()
	before := snapExt(c)
	a.acct.SetFault(kmem.Fault{Nth: 1, Site: siteExt})
	e, err = c.ExtAdd(ExtMPTCP)
	assert.Nil(t, e)
	assert.True(t, errors.Is(err, errno.ENOMEM))
	assert.Equal(t, before, snapExt(c))
	assert.Equal(t, 2, c.Ext().Refs())
	assert.Equal(t, 1, a.Live().Exts)
}

func TestExtDestroyOnFreeOnce(t *testing.T) {
	a := newAlloc(t)
	b := mustAlloc(t, a, 0, 10)
	e, err := b.ExtAdd(ExtBPFStorage)
	require.NoError(t, err)
	s := &fakeStorage{}
	e.SetStorage(s)
	var seenAtFree ExtStorage
	a.AddHooks(Hooks{Free: func(b *Buff, r DropReason) {
		seenAtFree = b.ExtFind(ExtBPFStorage).Storage()
		assert.Equal(t, DropTCEgress, r)
	}})
	c, err := b.Clone()
	require.NoError(t, err)
	b.KfreeSkb(DropTCEgress)
	assert.Equal(t, 0, s.destroyed, "clone still holds the object")
	c.KfreeSkb(DropTCEgress)
	assert.Same(t, s, seenAtFree, "storage alive at the kfree_skb hook")
	assert.Equal(t, 1, s.destroyed)
}
