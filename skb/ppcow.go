package skb

import (
	"fmt"

	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/internal/errno"
)

// Errors of PPCowData.
var (
	// ErrPPCowFragList is skb_pp_cow_data's -EOPNOTSUPP for an skb with a
	// frag_list, which XDP cannot describe.
	ErrPPCowFragList = errno.New("skb: page-pool copy of an skb with a frag_list", errno.EOPNOTSUPP)
	// ErrPPCowTooBig is its -ENOMEM for an skb longer than one head and
	// MAX_SKB_FRAGS pages.
	ErrPPCowTooBig = errno.New("skb: page-pool copy larger than a head and MAX_SKB_FRAGS pages", errno.ENOMEM)
)

// PPCowData models skb_pp_cow_data(pool, &skb, headroom) (v6.9, generic
// XDP for multi-buffer programs through skb_cow_data_for_xdp, and veth's
// native XDP): skb's bytes from data on are copied into page-pool memory,
// as a new skb that XDP can work on in place:
//   - a head of SKB_HEAD_ALIGN(size) + headroom bytes (napi_build_skb on a
//     page_pool_dev_alloc_va fragment, a whole page when two such would
//     not fit in one, marked for recycling), size being up to
//     SKB_WITH_OVERHEAD(PAGE_SIZE - headroom) bytes, with headroom
//     reserved;
//   - skb_copy_header: every header field, the header offsets moved to the
//     new headroom, the extensions shared, dst and conntrack referenced,
//     and the gso fields; not the XDP metadata (meta_len) nor the socket;
//   - the rest in page-pool pages, up to PAGE_SIZE bytes each, as page
//     fragments (skb_add_rx_frag).
//
// The caller consumes the old skb (consume_skb) when it gets the new one.
// An skb with a frag_list is ErrPPCowFragList (EOPNOTSUPP), one longer
// than the head and MAX_SKB_FRAGS pages ErrPPCowTooBig (ENOMEM), a failed
// allocation an error matching ENOMEM; skb is unchanged then. Does NOT take
// ownership of skb.
func (b *Buff) PPCowData(headroom int) (*Buff, error) {
	const op = "skb_pp_cow_data"
	b.check(op)
	if b.buf.fragList != nil {
		return nil, fmt.Errorf("%s: %w", op, ErrPPCowFragList)
	}
	maxHead := withOverhead(PageSize - headroom)
	if b.len > maxHead+MaxSkbFrags*PageSize {
		return nil, fmt.Errorf("%s: %d bytes: %w", op, b.len, ErrPPCowTooBig)
	}
	size := min(b.len, maxHead)
	nb, err := b.a.BuildSkb(ppSize(headAlign(size) + dataAlign(headroom)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	nb.Reserve(headroom)
	nb.copyHeaderGSO(b)
	nb.ppRc = true // skb_mark_for_recycle
	b.copyBits(0, nb.Put(size))
	b.a.acct.Op(cost.OpMemcpyByte, uint64(size))
	nb.headersOffsetUpdate(nb.data - b.data)
	for off := size; off < b.len; {
		n := min(b.len-off, PageSize)
		dst, err := nb.addPPFrag(n, op)
		if err != nil {
			nb.ConsumeSkb()
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		b.copyBits(off, dst)
		b.a.acct.Op(cost.OpMemcpyByte, uint64(n))
		off += n
	}
	return nb, nil
}

// addPPFrag appends a page-pool fragment of n bytes (at most PageSize) to
// b as skb_add_rx_frag does (len, data_len and truesize grow) and returns
// its bytes for the caller to fill.
func (b *Buff) addPPFrag(n int, op string) ([]byte, error) {
	pg, err := b.a.ppPage(ppSize(dataAlign(n)), op)
	if err != nil {
		return nil, err
	}
	b.buf.frags = append(b.buf.frags, pageFrag{buf: pg, size: n})
	b.len += n
	b.dataLen += n
	b.truesize += len(pg.bytes)
	return pg.bytes[:n], nil
}

// GrowLastFrag models the data work of bpf_xdp_frags_increase_tail on an
// skb standing for a multi-buffer xdp_buff: the last page fragment grows
// by n zeroed bytes when its buffer, of at most fragSize bytes
// (rxq->frag_size), has the room after it (skb_frag_size_add); false, and
// nothing changed, when it has not or the skb has no page fragment.
func (b *Buff) GrowLastFrag(n, fragSize int) bool {
	b.check("bpf_xdp_frags_increase_tail")
	if len(b.buf.frags) == 0 || n < 0 {
		return false
	}
	f := &b.buf.frags[len(b.buf.frags)-1]
	end := f.off + f.size
	if end+n > min(fragSize, len(f.buf.bytes)) {
		return false
	}
	clear(f.buf.bytes[end : end+n])
	f.size += n
	b.len += n
	b.dataLen += n
	return true
}

// AddRxPages models a driver whose hardware placed data in its page
// pool's pages, PageSize bytes to a page, as a NIC's hardware GRO or LRO
// packs an aggregate's payload: each page becomes one page fragment of b
// (skb_add_rx_frag) and b is marked for recycling (skb_mark_for_recycle).
// It fails with ErrTooManyFrags (EMSGSIZE) when the pages would exceed
// MAX_SKB_FRAGS, or with an error matching ENOMEM when a page cannot be
// allocated; the fragments added so far stay on b, which the caller
// frees. b must be uncloned and without a frag_list.
func (b *Buff) AddRxPages(data []byte) error {
	const op = "skb_add_rx_frag"
	b.check(op)
	if b.SkbCloned() || b.buf.fragList != nil {
		panic(fmt.Sprintf("skb: rx pages added to a cloned or frag_list skb %v", b))
	}
	if pages := (len(data) + PageSize - 1) / PageSize; len(b.buf.frags)+pages > MaxSkbFrags {
		return fmt.Errorf("%s: %d pages: %w", op, pages, ErrTooManyFrags)
	}
	b.ppRc = true
	for len(data) > 0 {
		n := min(len(data), PageSize)
		dst, err := b.addPPFrag(n, op)
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		copy(dst, data[:n])
		b.a.acct.Op(cost.OpMemcpyByte, uint64(n))
		data = data[n:]
	}
	return nil
}

// ppSize is the truesize page_pool_alloc gives a request of size bytes:
// a whole page when two would not fit in one, else a fragment of that
// size (rounded up to a cache line).
func ppSize(size int) int {
	if 2*size > PageSize {
		return PageSize
	}
	return size
}

// ppPage models page_pool_dev_alloc(pool, &offset, &size) for a fragment of
// size bytes: memory charged to the page_pool site, held by the page
// reference the new fragment takes.
func (a *Allocator) ppPage(size int, op string) (*buffer, error) {
	c := a.frameCache(size)
	if err := a.acct.CacheAlloc(sitePagePool, c); err != nil {
		a.live.Failures++
		return nil, err
	}
	buf := a.getBuffer(size, size, headPage, size, c, op)
	buf.dataref = 0 // a page, not an skb's data buffer: its page references keep it
	buf.pageRefs = 1
	return buf, nil
}

// ToFrame models an skb's frame leaving the skb for XDP_TX or
// XDP_REDIRECT, as veth does it: veth_xdp_get and consume_skb (the caller
// fires consume_skb's tracepoint first) release the sk_buff's head state
// (dst, conntrack, extensions and their storage, socket) and free the
// sk_buff, keeping the data buffer, page fragments included, as the
// xdp_frame, returned as a frame (XDPFrame): the frame's headroom and
// length, every header field and the shared info (hardware timestamp
// included) zero (what xdp_build_skb_from_frame's __finalize_skb_around
// gives the skb built from it later, BuildSkbFromFrame), marked for
// recycling when it is page-pool memory. The XDP metadata (meta_len) is
// the caller's. The skb's buffer must be its own (veth copies a shared,
// cloned or kmalloc'ed one first: PPCowData). Takes ownership of skb.
func (b *Buff) ToFrame() *Buff {
	const op = "xdp_convert_buff_to_frame"
	b.checkFree(op)
	if b.users != 1 || b.SkbCloned() || !b.headFrag || b.fclone != fcloneUnavailable {
		panic(fmt.Sprintf("skb: %s of %v: the frame must be the skb's own page-fragment head", op, b))
	}
	a := b.a
	b.releaseHeadState()
	buf, data, tail, length, dataLen, truesize, pp := b.buf, b.data, b.tail, b.len, b.dataLen, b.truesize, b.ppRc
	b.buf = nil
	a.freeSkbmem(b, "consume_skb")
	nb := a.newFrame(op)
	nb.buf = buf
	nb.data, nb.tail, nb.len, nb.dataLen, nb.truesize = data, tail, length, dataLen, truesize
	nb.users = 1
	nb.headFrag, nb.ppRc = true, pp
	nb.off.mac = unsetOffset
	nb.off.transport = unsetOffset
	buf.sh = SharedInfo{} // __finalize_skb_around: memset of skb_shared_info up to dataref
	buf.meta = metaRecord{}
	return nb
}
