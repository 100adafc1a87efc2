package skb

import (
	"fmt"
	"strings"

	"github.com/skbsim/skbsim/kmem"
)

// Allocation sites and caches the model charges to the accountant.
var (
	siteHead      = kmem.RegisterSite("skbuff_head_cache")
	siteFclone    = kmem.RegisterSite("skbuff_fclone_cache")
	siteSmallHead = kmem.RegisterSite("skbuff_small_head")
	siteKmalloc   = kmem.RegisterSite("kmalloc_reserve")
	siteFrag      = kmem.RegisterSite("page_frag_alloc")
	sitePagePool  = kmem.RegisterSite("page_pool")
	siteExt       = kmem.RegisterSite("skbuff_ext_cache")

	headCache      = kmem.NewCache("skbuff_head_cache", SizeofSkBuff, true)
	fcloneCache    = kmem.NewCache("skbuff_fclone_cache", SizeofSkBuffFclones, true)
	smallHeadCache = kmem.NewCache("skbuff_small_head", SmallHeadCacheSize, true)
	// fragCaches describe page-fragment allocations of SKB_HEAD_ALIGN'ed
	// sizes: they take exactly their (64-aligned) size from a page.
	fragCaches = func() (c [PageSize/L1CacheBytes + 1]*kmem.Cache) {
		for i := 1; i < len(c); i++ {
			c[i] = kmem.NewCache("page_frag", i*L1CacheBytes, false)
		}
		return c
	}()
)

// Allocator creates, copies and frees skbs for one replay shard. It holds the
// pools that make steady-state allocation free of Go heap allocation, counts
// live objects for leak checks, and charges every modelled kernel allocation
// to its accountant. It is not safe for concurrent use.
type Allocator struct {
	acct  *kmem.Accountant
	prof  Profile
	hooks hookList

	skbs  ring[Buff]
	pairs ring[fclonePair]
	exts  ring[Ext]
	// mdFree are released metadata dsts whose Go objects NewMetadataDst
	// reuses.
	mdFree []*MetadataDst
	// Free data buffers by capacity: bufRing[capacity/L1CacheBytes] for
	// capacities that are multiples of L1CacheBytes up to
	// maxIndexedCapacity (every head the model allocates), bufMap for any
	// other. An index, not a map, on the per-packet path.
	bufRing [maxIndexedCapacity/L1CacheBytes + 1]ring[buffer]
	bufMap  map[int]*ring[buffer]

	// page_pool caches by frame size, indexed like bufRing (frame sizes
	// are multiples of L1CacheBytes).
	frameCaches [maxIndexedCapacity/L1CacheBytes + 1]*kmem.Cache
	frameMap    map[int]*kmem.Cache

	extCache     *kmem.Cache
	extHdrChunks int           // SKB_EXT_CHUNKSIZEOF(struct skb_ext)
	extTotal     int           // skb_ext_total_length()
	extLen       [ExtNum]uint8 // skb_ext_type_len[] (the BPF_STORAGE slot sized by the profile)
	extSlotSet   bool          // SetExtSlotChunks succeeded: the slot size is fixed

	live Live
	seq  uint64

	noPoison bool
	warns    Warnings
}

// Live counts the objects an allocator has handed out and not yet freed.
type Live struct {
	Skbs    int // struct sk_buff (including fclone companions in use)
	Fclones int // struct sk_buff_fclones objects
	Buffers int // data buffers (skb->head)
	Exts    int // struct skb_ext objects
	// MetadataDsts are the allocated metadata dsts (NewMetadataDst).
	MetadataDsts int
	Pending      int // always 0; reserved for deferred frees
	Failures     int // allocations refused by fault injection
}

// Warnings counts WARN_ON_ONCE conditions the model hit (the kernel warns
// once; the model counts every occurrence).
type Warnings struct {
	// DataMoveMeta counts skb_data_move() finding the metadata not right
	// before skb->data, or without headroom, and clearing it.
	DataMoveMeta int
	// SkbCopyFraglist counts skb_copy/skb_copy_expand refusing a
	// SKB_GSO_FRAGLIST skb.
	SkbCopyFraglist int
}

// NewAllocator returns an allocator that charges acct and follows profile.
// It panics if the profile's extension layout breaks the kernel's build-time
// limits (skb_extensions_init: SKB_EXT_NUM <= 8, at most 255 chunks; see
// Profile.ExtLayout for the error without the panic).
func NewAllocator(acct *kmem.Accountant, profile Profile) *Allocator {
	if acct == nil {
		panic("skb: NewAllocator with nil accountant")
	}
	a := &Allocator{
		acct:     acct,
		prof:     profile,
		bufMap:   make(map[int]*ring[buffer]),
		frameMap: make(map[int]*kmem.Cache),
	}
	a.setExtLayout()
	return a
}

// Profile returns the kernel profile.
func (a *Allocator) Profile() *Profile { return &a.prof }

// Accountant returns the accountant the allocator charges.
func (a *Allocator) Accountant() *kmem.Accountant { return a.acct }

// Live returns the live object counts.
func (a *Allocator) Live() Live { return a.live }

// Warnings returns the WARN conditions counted so far.
func (a *Allocator) Warnings() Warnings { return a.warns }

// SetPoison turns poisoning of freed buffers and extensions (POISON_FREE,
// 0x6b) on or off. It is on by default; freed headers are always poisoned.
func (a *Allocator) SetPoison(on bool) { a.noPoison = !on }

// ExtCacheSize is the object size of skbuff_ext_cache under the profile:
// SKB_EXT_ALIGN_VALUE * skb_ext_total_length() (ExtLayout has the rest).
func (a *Allocator) ExtCacheSize() int { return a.extCache.ObjectSize }

// CheckLeaks returns an error describing every skb, buffer or extension that
// is still live. Call it when every skb should have been freed.
func (a *Allocator) CheckLeaks() error {
	l := a.live
	if l.Skbs == 0 && l.Fclones == 0 && l.Buffers == 0 && l.Exts == 0 && l.MetadataDsts == 0 {
		return nil
	}
	var parts []string
	if l.Skbs != 0 {
		parts = append(parts, fmt.Sprintf("%d skbs", l.Skbs))
	}
	if l.Fclones != 0 {
		parts = append(parts, fmt.Sprintf("%d fclone pairs", l.Fclones))
	}
	if l.Buffers != 0 {
		parts = append(parts, fmt.Sprintf("%d data buffers", l.Buffers))
	}
	if l.Exts != 0 {
		parts = append(parts, fmt.Sprintf("%d skb extensions", l.Exts))
	}
	if l.MetadataDsts != 0 {
		parts = append(parts, fmt.Sprintf("%d metadata dsts", l.MetadataDsts))
	}
	return fmt.Errorf("skb: leaked %s", strings.Join(parts, ", "))
}

func (a *Allocator) nextID() uint64 { a.seq++; return a.seq }

// --- sk_buff heads ---

// newSkb takes a zeroed struct sk_buff from skbuff_head_cache.
func (a *Allocator) newSkb(op string) (*Buff, error) {
	if err := a.acct.CacheAlloc(siteHead, headCache); err != nil {
		a.live.Failures++
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	b := a.skbs.get()
	if b == nil {
		b = new(Buff)
	}
	*b = Buff{a: a, fclone: fcloneUnavailable}
	a.claimSkb(b, op)
	return b, nil
}

// newPair takes a struct sk_buff_fclones from skbuff_fclone_cache and
// returns its first skb (SKB_FCLONE_ORIG, fclone_ref = 1).
func (a *Allocator) newPair(op string) (*Buff, error) {
	if err := a.acct.CacheAlloc(siteFclone, fcloneCache); err != nil {
		a.live.Failures++
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	p := a.pairs.get()
	if p == nil {
		p = new(fclonePair)
	}
	p.ref = 1
	p.skb1 = Buff{a: a, fclone: fcloneOrig, pair: p}
	p.skb2 = Buff{a: a, fclone: fcloneClone, pair: p, state: stateFree, freedBy: "fclone companion not in use"}
	a.live.Fclones++
	a.claimSkb(&p.skb1, op)
	return &p.skb1, nil
}

func (a *Allocator) claimSkb(b *Buff, op string) {
	b.id = a.nextID()
	b.state = stateLive
	b.allocBy = op
	a.live.Skbs++
}

// freeSkbmem models kfree_skbmem(): return the struct sk_buff to its cache,
// or drop the fclone reference.
func (a *Allocator) freeSkbmem(b *Buff, op string) {
	a.poisonSkb(b, op)
	a.live.Skbs--
	switch b.fclone {
	case fcloneUnavailable:
		if !b.frame {
			a.acct.CacheFree(siteHead, headCache)
		}
		a.skbs.put(b)
		return
	case fcloneOrig:
		if b.pair.ref == 1 {
			a.freePair(b.pair)
			return
		}
	}
	p := b.pair
	p.ref--
	if p.ref == 0 {
		a.freePair(p)
	}
}

func (a *Allocator) freePair(p *fclonePair) {
	if p.skb1.state == stateLive || p.skb2.state == stateLive {
		panic("skb: freeing an fclone pair with a live member")
	}
	p.ref = 0
	a.acct.CacheFree(siteFclone, fcloneCache)
	a.live.Fclones--
	a.pairs.put(p)
}

var poisonHeader = func() (h Header) {
	h.Tstamp = 0x6b6b6b6b6b6b6b6b
	h.Dev = 0x6b6b6b6b
	h.Mark = 0x6b6b6b6b
	h.Priority = 0x6b6b6b6b
	h.Hash = 0x6b6b6b6b
	h.TCIndex = 0x6b6b
	for i := range h.CB {
		h.CB[i] = poisonByte
	}
	return h
}()

// poisonSkb makes b a freed struct sk_buff: poisoned header, no references
// (so a use after free cannot reach the buffer, extensions, dst, conntrack
// or socket), geometry and users -1, freed by op. Its callers have dropped
// every reference but sk already (skb_release_all, or an skb that never got
// any): buf, ext, dst, nfct and destructor are nil. The fields that
// identify the object (allocator, id, fclone pair and kind, allocBy) stay;
// the other scalar fields keep their last values, which nothing reads:
// every method checks the state first, and allocation zeroes the whole
// struct.
func (a *Allocator) poisonSkb(b *Buff, op string) {
	b.hdr = poisonHeader
	b.sk = nil
	b.data, b.tail, b.len, b.users = -1, -1, -1, -1
	b.state = stateFree
	b.freedBy = op
}

// --- data buffers ---

// maxIndexedCapacity is the largest buffer capacity whose free list
// Allocator.bufRing indexes (larger ones go to a map).
const maxIndexedCapacity = 4 * PageSize

// bufRingFor returns the free list of data buffers of the given capacity,
// creating it if create is set (else it may return nil).
func (a *Allocator) bufRingFor(capacity int, create bool) *ring[buffer] {
	if capacity <= maxIndexedCapacity && capacity%L1CacheBytes == 0 {
		return &a.bufRing[capacity/L1CacheBytes]
	}
	r := a.bufMap[capacity]
	if r == nil && create {
		r = new(ring[buffer])
		a.bufMap[capacity] = r
	}
	return r
}

func (a *Allocator) getBuffer(capacity, end int, kind headKind, size int, c *kmem.Cache, op string) *buffer {
	var buf *buffer
	if r := a.bufRingFor(capacity, false); r != nil {
		buf = r.get()
	}
	if buf == nil {
		buf = &buffer{bytes: make([]byte, capacity)}
		buf.frags = buf.fragArr[:0] // shinfo->frags[MAX_SKB_FRAGS]: never grows
		if !a.noPoison {
			poisonBytes(buf.bytes) // slab memory is not zeroed
		}
	}
	buf.bytes = buf.bytes[:end]
	buf.sh = SharedInfo{}
	buf.dataref = 1
	// frags, fragList and pageRefs are empty: freeHead checked them.
	buf.kind, buf.allocSize, buf.cache = kind, size, c
	buf.meta = metaRecord{}
	buf.id = a.nextID()
	buf.state = stateLive
	buf.allocBy, buf.freedBy = op, ""
	a.live.Buffers++
	return buf
}

// allocHead models kmalloc_reserve(): SKB_HEAD_ALIGN(size) bytes from the
// skbuff_small_head cache when they fit (v6.3+), else from kmalloc rounded
// up to its size class (kmalloc_size_roundup). skb_shared_info goes at the
// end of what was really allocated, so end = SKB_WITH_OVERHEAD(allocated).
func (a *Allocator) allocHead(size int, op string) (*buffer, error) {
	obj := headAlign(size)
	if obj <= SmallHeadCacheSize {
		if err := a.acct.CacheAlloc(siteSmallHead, smallHeadCache); err != nil {
			a.live.Failures++
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		return a.getBuffer(SmallHeadCacheSize, SmallHeadHeadroom, headSmall, SmallHeadCacheSize, smallHeadCache, op), nil
	}
	obj = kmem.Occupied(obj)
	if err := a.acct.Kmalloc(siteKmalloc, obj); err != nil {
		a.live.Failures++
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return a.getBuffer(obj, withOverhead(obj), headKmalloc, obj, nil, op), nil
}

// allocFrag models page_frag_alloc(SKB_HEAD_ALIGN'ed len): the fragment
// takes exactly len bytes of a page.
func (a *Allocator) allocFrag(length int, op string) (*buffer, error) {
	c := fragCaches[length/L1CacheBytes]
	if err := a.acct.CacheAlloc(siteFrag, c); err != nil {
		a.live.Failures++
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return a.getBuffer(length, withOverhead(length), headFrag, length, c, op), nil
}

// freeHead models skb_free_head(): give the buffer back to where it came
// from.
func (a *Allocator) freeHead(buf *buffer, op string) {
	if buf.state != stateLive {
		panic(fmt.Sprintf("skb: double free of data buffer #%d by %s (freed by %s)", buf.id, op, buf.freedBy))
	}
	if len(buf.frags) != 0 || buf.fragList != nil || buf.pageRefs != 0 {
		panic(fmt.Sprintf("skb: data buffer #%d freed by %s with %d page fragments, a frag_list %t and %d page references",
			buf.id, op, len(buf.frags), buf.fragList != nil, buf.pageRefs))
	}
	switch buf.kind {
	case headSmall:
		a.acct.CacheFree(siteSmallHead, buf.cache)
	case headKmalloc:
		a.acct.Kfree(siteKmalloc, buf.allocSize)
	case headFrag:
		a.acct.CacheFree(siteFrag, buf.cache)
	case headPage:
		a.acct.CacheFree(sitePagePool, buf.cache)
	case headSockPage:
		a.acct.Kfree(siteSkPageFrag, SkPageFragSize) // __free_pages
	}
	buf.state = stateFree
	buf.freedBy = op
	buf.sh = SharedInfo{MetaLen: poisonByte, GSOSize: 0x6b6b, GSOSegs: 0x6b6b}
	buf.dataref = 0x6b6b6b6b
	buf.meta = metaRecord{}
	full := buf.bytes[:cap(buf.bytes)]
	if !a.noPoison {
		poisonBytes(full)
	}
	a.live.Buffers--
	a.bufRingFor(cap(full), true).put(buf)
}

// frameCache returns the page_pool cache description of frames of
// frameSize bytes, made on first use.
func (a *Allocator) frameCache(frameSize int) *kmem.Cache {
	if i := uint(frameSize) / L1CacheBytes; i < uint(len(a.frameCaches)) {
		if c := a.frameCaches[i]; c != nil {
			return c
		}
	}
	return a.newFrameCache(frameSize)
}

// newFrameCache returns the page_pool cache description of frames of
// frameSize bytes (a multiple of L1CacheBytes) that BuildSkb does not find
// in frameCaches: the first frame of a size, or a size above
// maxIndexedCapacity.
func (a *Allocator) newFrameCache(frameSize int) *kmem.Cache {
	if frameSize <= maxIndexedCapacity {
		c := kmem.NewCache("page_pool", frameSize, false)
		a.frameCaches[frameSize/L1CacheBytes] = c
		return c
	}
	c := a.frameMap[frameSize]
	if c == nil {
		c = kmem.NewCache("page_pool", frameSize, false)
		a.frameMap[frameSize] = c
	}
	return c
}

// --- constructors ---

// finalize models __finalize_skb_around(): the skb fields a fresh buffer
// gets (the struct itself was zeroed by skbuff_clear()).
func (b *Buff) finalize(buf *buffer) {
	b.buf = buf
	b.truesize = trueSize(len(buf.bytes))
	b.users = 1
	b.data, b.tail, b.len = 0, 0, 0
	b.off.mac = unsetOffset
	b.off.transport = unsetOffset
}

// AllocSkb models alloc_skb(size, GFP_ATOMIC) (__alloc_skb without flags):
// an skb with no headroom and at least size bytes of tailroom. It returns an
// error matching ENOMEM when the accountant refuses either allocation; the
// head is freed again if the data allocation fails.
func (a *Allocator) AllocSkb(size int) (*Buff, error) { return a.allocSkb(size, false, "alloc_skb") }

// AllocSkbFclone models alloc_skb_fclone(): the skb comes from
// skbuff_fclone_cache together with a companion that the first skb_clone()
// uses without allocating (TCP's transmit skbs).
func (a *Allocator) AllocSkbFclone(size int) (*Buff, error) {
	return a.allocSkb(size, true, "alloc_skb_fclone")
}

func (a *Allocator) allocSkb(size int, fclone bool, op string) (*Buff, error) {
	if size < 0 {
		panic(fmt.Sprintf("skb: %s(%d)", op, size))
	}
	var (
		b   *Buff
		err error
	)
	if fclone {
		b, err = a.newPair(op)
	} else {
		b, err = a.newSkb(op)
	}
	if err != nil {
		return nil, err
	}
	buf, err := a.allocHead(size, op)
	if err != nil {
		// nodata: kmem_cache_free(cache, skb)
		a.freeSkbmem(b, op+" (nodata)")
		return nil, err
	}
	b.finalize(buf)
	return b, nil
}

// NetdevAllocSkb models netdev_alloc_skb(dev, length): NET_SKB_PAD of
// headroom reserved; small (<= SKB_WITH_OVERHEAD(SKB_SMALL_HEAD_CACHE_SIZE))
// and large (> SKB_WITH_OVERHEAD(PAGE_SIZE)) requests use __alloc_skb, the
// rest a page fragment wrapped by __build_skb (head_frag = 1). The caller
// sets H().Dev and H().Netns (skb->dev = dev).
func (a *Allocator) NetdevAllocSkb(length int) (*Buff, error) {
	return a.rxAllocSkb(length, NetSkbPad, "netdev_alloc_skb")
}

// NapiAllocSkb models napi_alloc_skb(napi, length): like NetdevAllocSkb
// with NET_SKB_PAD + NET_IP_ALIGN of headroom.
func (a *Allocator) NapiAllocSkb(length int) (*Buff, error) {
	return a.rxAllocSkb(length, NetSkbPad+NetIPAlign, "napi_alloc_skb")
}

func (a *Allocator) rxAllocSkb(length, pad int, op string) (*Buff, error) {
	length += pad
	if length <= withOverhead(SmallHeadCacheSize) || length > withOverhead(PageSize) {
		b, err := a.allocSkb(length, false, op)
		if err != nil {
			return nil, err
		}
		b.Reserve(pad)
		return b, nil
	}
	length = headAlign(length)
	buf, err := a.allocFrag(length, op)
	if err != nil {
		return nil, err
	}
	b, err := a.newSkb(op)
	if err != nil {
		a.freeHead(buf, op+" (skb_free_frag)")
		return nil, err
	}
	b.finalize(buf)
	b.headFrag = true
	b.Reserve(pad)
	return b, nil
}

// BuildSkb models napi_build_skb(data, frameSize) on a driver's receive
// buffer of frameSize bytes (a page-pool page or fragment, charged to the
// "page_pool" site): the skb's head is the whole frame and skb_shared_info
// takes its last SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) bytes. The
// caller then reserves the headroom (for XDP drivers, data - data_hard_start),
// puts the frame length and records XDP metadata with MetadataSet.
func (a *Allocator) BuildSkb(frameSize int) (*Buff, error) {
	return a.buildSkb(frameSize, false)
}

// BuildXDPBuff is BuildSkb for a driver's native XDP: the page-pool page
// is allocated and accounted, but the Buff around it stands for the
// xdp_buff (XDPFrame): no struct sk_buff is accounted until the driver,
// or whoever receives the frame, builds one (BuildSkbFromFrame). A frame
// dropped, bounced (XDP_TX) or sent by a device's ndo_xdp_xmit never
// becomes an skb; freeing it returns the page only.
func (a *Allocator) BuildXDPBuff(frameSize int) (*Buff, error) {
	return a.buildSkb(frameSize, true)
}

func (a *Allocator) buildSkb(frameSize int, frame bool) (*Buff, error) {
	const op = "napi_build_skb"
	if frameSize <= SizeofSharedInfo || frameSize%L1CacheBytes != 0 {
		panic(fmt.Sprintf("skb: %s(%d): frame must be a multiple of %d above %d",
			op, frameSize, L1CacheBytes, SizeofSharedInfo))
	}
	// frameCache, written out: the per-packet path of native XDP drivers.
	var c *kmem.Cache
	if i := frameSize / L1CacheBytes; i < len(a.frameCaches) {
		c = a.frameCaches[i]
	}
	if c == nil {
		c = a.newFrameCache(frameSize)
	}
	if err := a.acct.CacheAlloc(sitePagePool, c); err != nil {
		a.live.Failures++
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	buf := a.getBuffer(frameSize, withOverhead(frameSize), headPage, frameSize, c, op)
	var b *Buff
	if frame {
		b = a.newFrame(op)
	} else {
		var err error
		if b, err = a.newSkb(op); err != nil {
			a.freeHead(buf, op+" (page_pool_put)")
			return nil, err
		}
	}
	b.finalize(buf)
	b.headFrag = true
	return b, nil
}

// newFrame is newSkb for a Buff that stands for an xdp_buff or xdp_frame:
// nothing is accounted for it.
func (a *Allocator) newFrame(op string) *Buff {
	b := a.skbs.get()
	if b == nil {
		b = new(Buff)
	}
	*b = Buff{a: a, fclone: fcloneUnavailable, frame: true}
	a.claimSkb(b, op)
	return b
}

// XDPFrame reports whether b stands for an xdp_buff or xdp_frame, not an
// skb (BuildXDPBuff, ToFrame).
func (b *Buff) XDPFrame() bool { return b.frame }

// BuildSkbFromFrame models the sk_buff allocation that turns frame b into
// an skb around the same data: napi_build_skb after a driver's XDP_PASS,
// xdp_build_skb_from_frame in a veth's NAPI or a cpumap's kthread. b must
// be a frame (XDPFrame); on allocation failure it stays one and an error
// matching ENOMEM is returned.
func (b *Buff) BuildSkbFromFrame() error {
	const op = "xdp_build_skb_from_frame"
	b.check(op)
	if !b.frame {
		panic(fmt.Sprintf("skb: %s of %v: not an XDP frame", op, b))
	}
	if err := b.a.acct.CacheAlloc(siteHead, headCache); err != nil {
		b.a.live.Failures++
		return fmt.Errorf("%s: %w", op, err)
	}
	b.frame = false
	return nil
}
