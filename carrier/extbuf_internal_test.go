package carrier

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/skb"
)

// TestExtBufferBytesInChunk: the buffer is the bytes of the extension
// chunk, laid out as slotLayout says (u32 presence mask, then each map's
// value 8-aligned, zeroed on creation); clones read the same chunk, a COW
// copies it with the object, and the accountant books the object the real
// layout gives (ExtBufferLayout).
func TestExtBufferBytesInChunk(t *testing.T) {
	acct := kmem.New()
	a := skb.NewAllocator(acct, skb.DefaultProfile())
	maps := []MapSpec{{Name: "small", ValueSize: 4}, {Name: "big", ValueSize: 16}}
	ci, err := New(NameExtBuffer, Env{Alloc: a, Acct: acct}, maps, Options{BufferSize: 64})
	require.NoError(t, err)
	c := ci.(*extBuffer)
	assert.Equal(t, []int{8, 16}, c.lay.off)
	chunks, total, obj, ok := ExtBufferLayout(*a.Profile(), 64)
	require.True(t, ok)
	assert.Equal(t, 8, chunks)
	assert.Equal(t, total, a.ExtLayout().TotalChunks)
	assert.Equal(t, obj, a.ExtCacheSize())

	siteExt := kmem.RegisterSite("skbuff_ext_cache")
	b, err := a.AllocSkb(256)
	require.NoError(t, err)
	b.Reserve(64)
	b.Put(64)
	s0 := acct.Stats()
	big := []byte("0123456789abcdef")
	require.NoError(t, c.Store(HookTCEgress, b, 1, big))
	s1 := acct.Stats()
	d := s1.Sub(&s0)
	assert.Equal(t, uint64(1), d.BySite[siteExt].Allocs)
	assert.Equal(t, uint64(obj), d.BySite[siteExt].BytesRequested, "264 bytes: 2 header + 23 + 8 buffer chunks")
	assert.Equal(t, uint64(320), d.BySite[siteExt].BytesOccupied)
	assert.Equal(t, d.Total.BytesRequested, d.BySite[siteExt].BytesRequested, "nothing outside the skb_ext")

	e := b.ExtFind(skb.ExtBPFStorage)
	ch := e.Chunk(skb.ExtBPFStorage)
	require.Len(t, ch, 64)
	assert.Equal(t, uint32(1<<1), binary.LittleEndian.Uint32(ch))
	assert.Equal(t, big, ch[16:32])
	assert.Equal(t, make([]byte, 4), ch[8:12], "the kfunc zeroed the new buffer")
	assert.Equal(t, make([]byte, 32), ch[32:])
	assert.Nil(t, e.Storage(), "no storage pointer: the bytes are the buffer")

	n, err := b.Clone()
	require.NoError(t, err)
	assert.Same(t, e, n.ExtFind(skb.ExtBPFStorage), "the clone reads the same chunk")
	s2 := acct.Stats()
	require.NoError(t, c.Store(HookTCIngress, n, 0, []byte{1, 2, 3, 4}))
	s3 := acct.Stats()
	d = s3.Sub(&s2)
	ne := n.ExtFind(skb.ExtBPFStorage)
	require.NotSame(t, e, ne)
	assert.Equal(t, uint64(1), d.Ops[cost.OpExtCOW])
	assert.Equal(t, uint64(8*(2+8)+4), d.Ops[cost.OpMemcpyByte], "memcpy of the object's used chunks, then the value")
	assert.Equal(t, big, ne.Chunk(skb.ExtBPFStorage)[16:32], "the copy carries the buffer")
	assert.Equal(t, uint32(1<<0|1<<1), binary.LittleEndian.Uint32(ne.Chunk(skb.ExtBPFStorage)))
	assert.Equal(t, uint32(1<<1), binary.LittleEndian.Uint32(ch), "the original's bytes are unchanged")

	b.ConsumeSkb()
	n.ConsumeSkb()
	require.NoError(t, c.Close())
	require.NoError(t, a.CheckLeaks())
	acct.GracePeriod()
	o, _ := acct.Live()
	require.Zero(t, o)
}

// TestExtBufferSlotClaimed: the buffer sizes the allocator's slot; an rfc
// design on the same allocator is refused, and so is a buffer of another
// size.
func TestExtBufferSlotClaimed(t *testing.T) {
	acct := kmem.New()
	a := skb.NewAllocator(acct, skb.DefaultProfile())
	env := Env{Alloc: a, Acct: acct}
	maps := []MapSpec{{Name: "m", ValueSize: 4}}
	c, err := New(NameExtBuffer, env, maps, Options{BufferSize: 128})
	require.NoError(t, err)
	defer c.Close()
	assert.Equal(t, 16, a.Profile().ExtSlotChunks)
	_, err = New(NameExtBuffer, env, maps, Options{BufferSize: 64})
	assert.ErrorIs(t, err, skb.ErrExtSlotBusy)
	c2, err := New(NameExtBuffer, env, maps, Options{BufferSize: 128})
	require.NoError(t, err, "the same buffer size again")
	require.NoError(t, c2.Close())
	_, err = New("rfc", env, maps, Options{})
	assert.ErrorIs(t, err, skb.ErrExtSlotBusy)
}

// TestRFCSlimSlotTooLarge: rfc-slim embeds 8*N + 16 bytes in the slot; a
// cache too large for the 255-chunk layout is refused at construction.
func TestRFCSlimSlotTooLarge(t *testing.T) {
	maps := []MapSpec{{Name: "m", ValueSize: 4}}
	for _, tc := range []struct {
		cache int
		ok    bool
	}{{228, true}, {229, false}} {
		acct := kmem.New()
		a := skb.NewAllocator(acct, skb.DefaultProfile())
		c, err := New("rfc-slim", Env{Alloc: a, Acct: acct}, maps, Options{CacheSize: tc.cache})
		if tc.ok {
			require.NoError(t, err)
			assert.Equal(t, 8*255, a.ExtCacheSize())
			require.NoError(t, c.Close())
			continue
		}
		assert.ErrorIs(t, err, ErrBadValueSize)
		assert.ErrorIs(t, err, skb.ErrExtTooLarge)
		assert.Contains(t, err.Error(), "rfc-slim: cache size 229: ")
		assert.Equal(t, 208, a.ExtCacheSize(), "the allocator keeps its layout")
		acct.GracePeriod()
		o, _ := acct.Live()
		assert.Zero(t, o, "nothing left allocated")
	}
}
