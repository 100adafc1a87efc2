package skb

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/internal/errno"
)

// TestExtSlotSizes: the SKB_EXT_BPF_STORAGE slot feeds
// skb_ext_total_length(), the skbuff_ext_cache object and its slab size,
// the chunk ExtAdd lays out and the accountant's bytes.
func TestExtSlotSizes(t *testing.T) {
	tests := []struct {
		name    string
		profile string
		slot    int // Profile.ExtSlotChunks
		total   int // skb_ext_total_length()
		slab    int // SLAB_HWCACHE_ALIGN
	}{
		// v6.18: 2 header chunks + BRIDGE_NF 4, SEC_PATH 11, TC 2, MPTCP 4,
		// MCTP 1, PSP 1 = 25, plus the slot.
		{"rfc pointer (0 means 1)", "v6.18", 0, 26, 256},
		{"rfc pointer", "v6.18", 1, 26, 256},
		{"16-byte buffer", "v6.18", 2, 27, 256},
		{"slim storage, 1 slot (24 bytes)", "v6.18", 3, 28, 256},
		{"slim storage, 4 slots (48 bytes)", "v6.18", 6, 31, 256},
		{"64-byte buffer", "v6.18", 8, 33, 320},
		{"128-byte buffer", "v6.18", 16, 41, 384},
		{"slim storage, 16 slots (144 bytes)", "v6.18", 18, 43, 384},
		{"256-byte buffer", "v6.18", 32, 57, 512},
		{"slim storage, 32 slots (272 bytes)", "v6.18", 34, 59, 512},
		{"largest slot", "v6.18", 230, 255, 2048},
		// v5.4: BRIDGE_NF, SEC_PATH, TC and the slot: 4 ids, 2 header chunks.
		{"v5.4 pointer", "v5.4", 1, 2 + 17 + 1, 192},
		{"v5.4 64-byte buffer", "v5.4", 8, 2 + 17 + 8, 256},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAlloc(t, withProfile(tt.profile), func(p *Profile) { p.ExtSlotChunks = tt.slot })
			slot := max(tt.slot, 1)
			l := a.ExtLayout()
			assert.Equal(t, slot, l.Chunks[ExtBPFStorage])
			assert.Equal(t, 4, l.Chunks[ExtBridgeNF], "other ids keep their size")
			assert.Equal(t, 2, l.HdrChunks)
			assert.Equal(t, tt.total, l.TotalChunks)
			assert.Equal(t, 8*tt.total, l.ObjectSize)
			assert.Equal(t, 8*tt.total, a.ExtCacheSize())
			assert.Equal(t, tt.slab, l.SlabSize)
			assert.Equal(t, tt.slab, a.extCache.SlabSize())

			b := mustAlloc(t, a, 0, 10)
			defer b.ConsumeSkb()
			st0 := a.acct.Stats()
			e, err := b.ExtAdd(ExtBPFStorage)
			require.NoError(t, err)
			d := a.acct.Stats()
			d = d.Sub(&st0)
			assert.Len(t, e.Chunk(ExtBPFStorage), 8*slot)
			assert.Equal(t, l.HdrChunks+slot, e.Chunks())
			assert.Equal(t, uint64(8*tt.total), d.BySite[siteExt].BytesRequested)
			assert.Equal(t, uint64(tt.slab), d.BySite[siteExt].BytesOccupied)
			if tt.profile == "v6.18" {
				e, err = b.ExtAdd(ExtPSP)
				require.NoError(t, err)
				assert.Equal(t, l.HdrChunks+slot, e.Offset(ExtPSP), "the next id lands after the whole slot")
			}
		})
	}
}

// TestExtSlotRefused: layouts above 255 chunks and slots below one chunk
// are refused at profile and allocator construction, with the numbers.
func TestExtSlotRefused(t *testing.T) {
	tests := []struct {
		name  string
		slot  int
		want  error
		errno errno.Errno
		msg   string
	}{
		{"one chunk too many", 231, ErrExtTooLarge, errno.E2BIG,
			"profile v6.18: SKB_EXT_BPF_STORAGE slot of 231 chunks makes skb_ext_total_length() 256 chunks, limit 255"},
		{"far too many", 4096 / 8, ErrExtTooLarge, errno.E2BIG, "makes skb_ext_total_length() 537 chunks, limit 255"},
		{"negative", -1, ErrExtSlotSize, errno.EINVAL, "profile v6.18: ExtSlotChunks -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := DefaultProfile()
			p.ExtSlotChunks = tt.slot
			_, err := p.ExtLayout()
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.want)
			assert.ErrorIs(t, err, tt.errno)
			assert.Contains(t, err.Error(), tt.msg)
			msg := mustPanic(t, func() { NewAllocator(newAlloc(t).acct, p) })
			assert.Contains(t, msg, "skb: NewAllocator: profile v6.18: ")
			assert.Contains(t, msg, tt.msg)
		})
	}
}

// TestSetExtSlotChunks: a design sizes the slot of an allocator once,
// before any skb_ext object is live; refusals leave the layout unchanged.
func TestSetExtSlotChunks(t *testing.T) {
	t.Run("resize drops pooled objects of the old size", func(t *testing.T) {
		a := newAlloc(t)
		b := mustAlloc(t, a, 0, 10)
		_, err := b.ExtAdd(ExtBPFStorage)
		require.NoError(t, err)
		assert.ErrorIs(t, a.SetExtSlotChunks(8), ErrExtSlotBusy, "an skb_ext is live")
		assert.ErrorIs(t, a.SetExtSlotChunks(8), errno.EBUSY)
		b.ConsumeSkb()
		require.NoError(t, a.SetExtSlotChunks(8))
		assert.Equal(t, 8, a.Profile().ExtSlotChunks)
		assert.Equal(t, 8*33, a.ExtCacheSize())
		b = mustAlloc(t, a, 0, 10)
		defer b.ConsumeSkb()
		e, err := b.ExtAdd(ExtBPFStorage)
		require.NoError(t, err)
		assert.Len(t, e.data, 8*33)
		assert.Len(t, e.Chunk(ExtBPFStorage), 64)
	})
	t.Run("refusals", func(t *testing.T) {
		a := newAlloc(t)
		err := a.SetExtSlotChunks(0)
		assert.ErrorIs(t, err, ErrExtSlotSize)
		assert.ErrorIs(t, err, errno.EINVAL)
		err = a.SetExtSlotChunks(231)
		assert.ErrorIs(t, err, ErrExtTooLarge)
		assert.ErrorIs(t, err, errno.E2BIG)
		assert.EqualError(t, err, "set skb_ext slot: profile v6.18: SKB_EXT_BPF_STORAGE slot of 231 chunks "+
			"makes skb_ext_total_length() 256 chunks, limit 255: skb: skb_ext layout too large (E2BIG)")
		assert.Equal(t, 208, a.ExtCacheSize(), "unchanged")
		require.NoError(t, a.SetExtSlotChunks(230))
		require.NoError(t, a.SetExtSlotChunks(230), "the same size again")
		err = a.SetExtSlotChunks(1)
		assert.ErrorIs(t, err, ErrExtSlotBusy, "a second design with another slot")
		assert.Contains(t, err.Error(), "already sized to 230")
		assert.Equal(t, 8*255, a.ExtCacheSize())
	})
	t.Run("the profile's size claimed without change", func(t *testing.T) {
		a := newAlloc(t)
		require.NoError(t, a.SetExtSlotChunks(1))
		assert.True(t, errors.Is(a.SetExtSlotChunks(2), ErrExtSlotBusy))
	})
}

// TestExtSlotSharingAndCOW: bytes written in a multi-chunk slot through
// one sharer's ExtFind are seen by every sharer; skb_ext_maybe_cow()
// copies the whole slot (and counts old->chunks * 8 bytes); after the COW
// writes do not cross; scrub drops the slot with the object.
func TestExtSlotSharingAndCOW(t *testing.T) {
	const slot = 16
	a := newAlloc(t, func(p *Profile) { p.ExtSlotChunks = slot })
	orig := mustAlloc(t, a, 64, 60)
	defer orig.ConsumeSkb()
	e, err := orig.ExtAdd(ExtBPFStorage)
	require.NoError(t, err)
	buf := e.Chunk(ExtBPFStorage)
	require.Len(t, buf, 8*slot)
	for i := range buf {
		buf[i] = byte(i)
	}
	_, err = orig.ExtAdd(ExtTC)
	require.NoError(t, err)
	assert.Equal(t, 2+slot+2, e.Chunks())

	clone, err := orig.Clone()
	require.NoError(t, err)
	defer clone.ConsumeSkb()
	cp, err := orig.Copy()
	require.NoError(t, err)
	defer cp.ConsumeSkb()
	require.Same(t, e, clone.ExtFind(ExtBPFStorage))
	require.Same(t, e, cp.ExtFind(ExtBPFStorage))
	clone.ExtFind(ExtBPFStorage).Chunk(ExtBPFStorage)[8*slot-1] = 0xee
	assert.Equal(t, byte(0xee), orig.ExtFind(ExtBPFStorage).Chunk(ExtBPFStorage)[8*slot-1], "written through the clone, seen by the original")
	assert.Equal(t, byte(0xee), cp.ExtFind(ExtBPFStorage).Chunk(ExtBPFStorage)[8*slot-1], "and by the copy")

	// The copy adds an id: COW of the whole object, slot included.
	st0 := a.acct.Stats()
	ce, err := cp.ExtAdd(ExtMPTCP)
	require.NoError(t, err)
	st1 := a.acct.Stats()
	d := st1.Sub(&st0)
	require.NotSame(t, e, ce)
	assert.Equal(t, uint64(1), d.Ops[cost.OpExtCOW])
	assert.Equal(t, uint64(8*(2+slot+2)), d.Ops[cost.OpMemcpyByte], "memcpy(new, old, old->chunks * 8)")
	assert.Equal(t, e.Chunk(ExtBPFStorage), ce.Chunk(ExtBPFStorage), "the copy carries the slot's bytes")
	assert.Equal(t, 2+slot+2+4, ce.Chunks())
	assert.Nil(t, ce.Storage())
	ce.Chunk(ExtBPFStorage)[0] = 0xcc
	assert.Equal(t, byte(0), e.Chunk(ExtBPFStorage)[0], "writes no longer cross")
	assert.Equal(t, byte(0), clone.ExtFind(ExtBPFStorage).Chunk(ExtBPFStorage)[0])
	assert.Equal(t, 2, e.Refs(), "orig and clone still share the old object")

	// Scrub resets the clone's extensions: the original keeps the slot.
	clone.Scrub(false)
	assert.Nil(t, clone.ExtFind(ExtBPFStorage))
	assert.Equal(t, 1, e.Refs())
	assert.Equal(t, byte(0xee), orig.ExtFind(ExtBPFStorage).Chunk(ExtBPFStorage)[8*slot-1])
}
