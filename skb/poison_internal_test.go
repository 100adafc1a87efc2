package skb

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestPoisonBytes checks that poisonBytes fills exactly its slice with
// POISON_FREE, below, at and across the size of its source block.
func TestPoisonBytes(t *testing.T) {
	for _, n := range []int{0, 1, 63, PageSize - 1, PageSize, PageSize + 1, 3*PageSize + 5} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			buf := make([]byte, n+2)
			poisonBytes(buf[1 : n+1])
			assert.Zero(t, buf[0], "byte before the slice")
			assert.Zero(t, buf[n+1], "byte after the slice")
			assert.True(t, bytes.Equal(buf[1:n+1], bytes.Repeat([]byte{poisonByte}, n)), "every byte poisoned")
		})
	}
}

func BenchmarkPoisonBytes(b *testing.B) {
	for _, n := range []int{64, SmallHeadCacheSize, 2048, PageSize} {
		buf := make([]byte, n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for b.Loop() {
				poisonBytes(buf)
			}
		})
	}
}

// TestFreedSkbHoldsNothing checks that every way an skb is freed leaves the
// struct poisoned and without references (buffer, extensions, dst,
// conntrack, socket, destructor), whatever it held.
func TestFreedSkbHoldsNothing(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(b *Buff)
	}{
		{"bare", func(b *Buff) {}},
		{"dst and conntrack", func(b *Buff) {
			b.DstSet(NewHandle("dst"))
			b.SetNfct(NewHandle("ct"), 2)
		}},
		{"noref dst", func(b *Buff) { b.DstSetNoref(NewHandle("dst")) }},
		{"extension", func(b *Buff) {
			_, err := b.ExtAdd(ExtTC)
			assert.NoError(t, err)
		}},
		{"socket with destructor", func(b *Buff) { b.SetOwner("sk", func(*Buff) {}) }},
		{"socket without destructor", func(b *Buff) { b.sk = "sk" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newAlloc(t)
			b := mustAlloc(t, a, 16, 10)
			tc.set(b)
			c, err := b.Clone()
			assert.NoError(t, err)
			for _, x := range []*Buff{b, c} {
				x.KfreeSkb(DropNotSpecified)
				assert.Equal(t, stateFree, x.state)
				assert.Equal(t, poisonHeader, x.hdr)
				assert.Nil(t, x.buf)
				assert.Nil(t, x.ext)
				assert.Nil(t, x.dst)
				assert.False(t, x.dstNoref)
				assert.Nil(t, x.nfct)
				assert.Nil(t, x.sk)
				assert.Nil(t, x.destructor)
				assert.Equal(t, [4]int{-1, -1, -1, -1}, [4]int{x.data, x.tail, x.len, int(x.users)})
				assert.Equal(t, "kfree_skb", x.freedBy)
			}
		})
	}
}

// TestFrameCachesAndBufferRings checks that napi_build_skb frames and their
// buffers are pooled by size, through the index up to maxIndexedCapacity
// and through the maps above it.
func TestFrameCachesAndBufferRings(t *testing.T) {
	a := newAlloc(t)
	for _, size := range []int{2048, maxIndexedCapacity, maxIndexedCapacity + L1CacheBytes, 5 * PageSize} {
		b1, err := a.BuildSkb(size)
		assert.NoError(t, err)
		buf1, c1 := b1.buf, b1.buf.cache
		assert.Equal(t, size, c1.ObjectSize)
		b1.ConsumeSkb()
		b2, err := a.BuildSkb(size)
		assert.NoError(t, err)
		assert.Same(t, c1, b2.buf.cache, "one cache per frame size")
		assert.Same(t, buf1, b2.buf, "the freed buffer is reused")
		assert.Equal(t, size, cap(b2.buf.bytes))
		b2.ConsumeSkb()
	}
	assert.Len(t, a.frameMap, 2)
	assert.Len(t, a.bufMap, 2)
}
