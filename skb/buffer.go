package skb

import "github.com/skbsim/skbsim/kmem"

// headKind says which allocator the data buffer came from, so the free goes
// back to the same one (skb_free_head()).
type headKind uint8

const (
	headSmall    headKind = iota // kmem_cache_alloc(skb_small_head_cache) via kmalloc_reserve (v6.3+)
	headKmalloc                  // kmalloc via kmalloc_reserve
	headFrag                     // page_frag_alloc (netdev_alloc_skb, napi_alloc_skb), head_frag = 1
	headPage                     // a driver's page-pool buffer wrapped by napi_build_skb, head_frag = 1
	headSockPage                 // a socket's page_frag page (skb_page_frag_refill): only ever a page fragment
)

// buffer models the data buffer (skb->head ... skb->end) and the
// skb_shared_info at its end, shared by every clone.
type buffer struct {
	bytes   []byte // head .. end; cap is the allocation's size
	sh      SharedInfo
	dataref uint32 // shinfo->dataref: low 16 bits all refs, high 16 payload-only refs

	frags    []pageFrag // shinfo->frags[:nr_frags], backed by fragArr
	fragArr  [MaxSkbFrags]pageFrag
	fragList *Buff // shinfo->frag_list
	pageRefs int32 // page references to this buffer as another skb's page fragment (after its head was stolen)

	kind      headKind
	allocSize int         // object size given to the accountant
	cache     *kmem.Cache // for headSmall, headFrag, headPage

	meta metaRecord

	id      uint64
	state   objState
	allocBy string
	freedBy string
}

// metaRecord remembers where skb_metadata_set() put the XDP metadata bytes
// and whether they are still intact, so the view computed from the current
// mac header can be told apart from garbage.
type metaRecord struct {
	lo, hi int  // [lo, hi) from head
	intact bool // no push wrote over [lo, hi) since it was recorded
}

const poisonByte = 0x6b // POISON_FREE

// poisonBlock is a page of POISON_FREE bytes that poisonBytes copies from.
var poisonBlock = func() (b [PageSize]byte) {
	for i := range b {
		b[i] = poisonByte
	}
	return b
}()

// poisonBytes fills p with POISON_FREE: one memmove per page from
// poisonBlock (a freed buffer is poisoned on every free, so this is on the
// per-packet path).
func poisonBytes(p []byte) {
	for len(p) > 0 {
		p = p[copy(p, poisonBlock[:]):]
	}
}
