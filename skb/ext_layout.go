package skb

import (
	"fmt"

	"github.com/skbsim/skbsim/internal/errno"
	"github.com/skbsim/skbsim/kmem"
)

// MaxExtChunks is the largest skb_ext_total_length(): struct skb_ext's
// chunks and offset[] are u8, and skb_extensions_init() has
// BUILD_BUG_ON(skb_ext_total_length() > 255).
const MaxExtChunks = 255

// Errors of the extension layout.
var (
	// ErrExtTooLarge: the layout exceeds MaxExtChunks (the kernel does not
	// build).
	ErrExtTooLarge = errno.New("skb: skb_ext layout too large", errno.E2BIG)
	// ErrExtSlotSize: a slot of fewer than one chunk.
	ErrExtSlotSize = errno.New("skb: SKB_EXT_BPF_STORAGE slot of fewer than 1 chunk", errno.EINVAL)
	// ErrExtSlotBusy: the allocator's slot cannot be resized now (extension
	// objects are live, or a design already sized it differently).
	ErrExtSlotBusy = errno.New("skb: SKB_EXT_BPF_STORAGE slot size is in use", errno.EBUSY)
)

// ExtLayout is the skb_ext layout a profile compiles to (skb_ext_type_len[],
// skb_ext_total_length(), the skbuff_ext_cache object).
type ExtLayout struct {
	// Chunks is SKB_EXT_CHUNKSIZEOF of each compiled-in id's struct
	// (skb_ext_type_len[id]); 0 for an id that is not compiled in.
	// Chunks[ExtBPFStorage] is the profile's ExtSlotChunks.
	Chunks [ExtNum]int
	// HdrChunks is SKB_EXT_CHUNKSIZEOF(struct skb_ext): refcnt, u8
	// offset[SKB_EXT_NUM], u8 chunks, 8-aligned.
	HdrChunks int
	// TotalChunks is skb_ext_total_length(): the header and every
	// compiled-in id's chunks.
	TotalChunks int
	// ObjectSize is the skbuff_ext_cache object size,
	// SKB_EXT_ALIGN_VALUE * TotalChunks.
	ObjectSize int
	// SlabSize is ObjectSize as the slab lays it out (SLAB_HWCACHE_ALIGN:
	// rounded up to 64).
	SlabSize int
}

// slotChunks returns the effective SKB_EXT_BPF_STORAGE slot size (0 means
// the RFC's one chunk).
func (p *Profile) slotChunks() int {
	if p.ExtSlotChunks == 0 {
		return 1
	}
	return p.ExtSlotChunks
}

// ExtLayout models skb_ext_total_length() and the skbuff_ext_cache object
// size under the profile: the v6.18 chunk sizes of the compiled-in ids
// (Exts) with SKB_EXT_BPF_STORAGE at ExtSlotChunks. It returns an error
// matching ErrExtSlotSize (EINVAL) for a negative slot, or ErrExtTooLarge
// (E2BIG) when the total exceeds 255 chunks (skb_extensions_init()'s
// BUILD_BUG_ON).
func (p *Profile) ExtLayout() (ExtLayout, error) {
	var l ExtLayout
	slot := p.slotChunks()
	if slot < 1 {
		return l, fmt.Errorf("profile %s: ExtSlotChunks %d: %w", p.Name, p.ExtSlotChunks, ErrExtSlotSize)
	}
	n, sum := 0, 0
	for id := ExtID(0); id < ExtNum; id++ {
		if p.Exts&(1<<id) == 0 {
			continue
		}
		c := int(extTypeLen[id])
		if id == ExtBPFStorage {
			c = slot
		}
		l.Chunks[id] = c
		n++
		sum += c
	}
	l.HdrChunks = alignUp(4+n+1, extAlignValue) / extAlignValue
	l.TotalChunks = l.HdrChunks + sum
	l.ObjectSize = extAlignValue * l.TotalChunks
	l.SlabSize = alignUp(l.ObjectSize, L1CacheBytes)
	if l.TotalChunks > MaxExtChunks {
		return l, fmt.Errorf("profile %s: SKB_EXT_BPF_STORAGE slot of %d chunks makes skb_ext_total_length() %d chunks, limit %d: %w",
			p.Name, slot, l.TotalChunks, MaxExtChunks, ErrExtTooLarge)
	}
	return l, nil
}

// setExtLayout installs the profile's layout on the allocator: the
// per-id chunk sizes ExtAdd and Chunk use and the skbuff_ext_cache
// description (SLAB_HWCACHE_ALIGN). Pooled extension objects of another
// size are dropped. It panics if the layout is refused.
func (a *Allocator) setExtLayout() {
	l, err := a.prof.ExtLayout()
	if err != nil {
		panic("skb: NewAllocator: " + err.Error())
	}
	for id := range l.Chunks {
		a.extLen[id] = uint8(l.Chunks[id])
	}
	a.extHdrChunks, a.extTotal = l.HdrChunks, l.TotalChunks
	a.extCache = kmem.NewCache("skbuff_ext_cache", l.ObjectSize, true)
	a.exts = ring[Ext]{}
}

// ExtLayout returns the allocator's skb_ext layout.
func (a *Allocator) ExtLayout() ExtLayout {
	l, _ := a.prof.ExtLayout() // accepted by NewAllocator or SetExtSlotChunks
	return l
}

// SetExtSlotChunks sizes the SKB_EXT_BPF_STORAGE slot of the allocator's
// extension layout to n chunks (Profile.ExtSlotChunks): a design building
// the kernel it runs on. The slot is a build-time constant, so the size can
// change only while no extension object is live, and only once: after a
// successful call, a different size is refused (two designs that keep
// different things in the slot cannot share an allocator). Setting the
// current size again is a no-op. Errors match ErrExtSlotSize (EINVAL,
// n < 1), ErrExtTooLarge (E2BIG, more than 255 chunks in all) or
// ErrExtSlotBusy (EBUSY); on error the layout is unchanged.
func (a *Allocator) SetExtSlotChunks(n int) error {
	if n < 1 {
		return fmt.Errorf("set skb_ext slot: %d chunks: %w", n, ErrExtSlotSize)
	}
	if n == a.prof.slotChunks() {
		a.extSlotSet = true
		return nil
	}
	if a.extSlotSet {
		return fmt.Errorf("set skb_ext slot: %d chunks, already sized to %d by a design: %w",
			n, a.prof.slotChunks(), ErrExtSlotBusy)
	}
	if a.live.Exts != 0 {
		return fmt.Errorf("set skb_ext slot: %d chunks with %d skb_ext objects live: %w",
			n, a.live.Exts, ErrExtSlotBusy)
	}
	p := a.prof
	p.ExtSlotChunks = n
	if _, err := p.ExtLayout(); err != nil {
		return fmt.Errorf("set skb_ext slot: %w", err)
	}
	a.prof = p
	a.extSlotSet = true
	a.setExtLayout()
	return nil
}
