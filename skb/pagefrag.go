package skb

import (
	"fmt"

	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/internal/errno"
	"github.com/skbsim/skbsim/kmem"
)

// SkPageFragSize is the size of the pages skb_page_frag_refill()
// allocates for a socket's send path: 32 KB (SKB_FRAG_PAGE_ORDER =
// get_order(32768), a compound page), falling back to one page only under
// memory pressure, which the model does not have.
const SkPageFragSize = 32768

// The socket pages are page-allocator allocations (alloc_pages of order 3,
// __GFP_COMP): the accountant counts them in the kmalloc-large class at the
// sk_page_frag call site, so the cost table prices them as kmalloc_large()'s
// page allocation. That figure (derived from an order-2 kzalloc through
// bpf_sk_storage_get) includes memcg charging and zeroing that
// skb_page_frag_refill does not do: an upper bound. skPageFragCache only
// keys the model's buffer pool.
var (
	siteSkPageFrag  = kmem.RegisterSite("sk_page_frag")
	skPageFragCache = kmem.NewCache("sk_page_frag", SkPageFragSize, false)
)

// ErrTooManyFrags is returned by AppendPageFragData when the skb already
// has MAX_SKB_FRAGS fragments and the bytes cannot extend the last one
// (__ip_append_data's -EMSGSIZE; tcp_sendmsg_locked starts a new skb).
var ErrTooManyFrags = errno.New("skb: no room for another page fragment", errno.EMSGSIZE)

// PageFrag models a socket's struct page_frag (sk->sk_frag, or the
// sending task's task_frag that sk_page_frag() picks for user sockets;
// netstack keeps one per task, shared by the task's sockets): the page skb_page_frag_refill() last
// allocated and the offset of its free space. While it has a page, the
// PageFrag holds one reference to it; page fragments of skbs hold the
// others, so the page is freed with the last of them. The zero value has
// no page. A PageFrag belongs to one Allocator and is not safe for
// concurrent use; its owner calls Release when the socket goes away.
type PageFrag struct {
	page *buffer
	off  int
}

// Offset is pfrag->offset: where the next bytes go in the page.
func (pf *PageFrag) Offset() int { return pf.off }

// HasPage reports whether the PageFrag holds a page.
func (pf *PageFrag) HasPage() bool { return pf.page != nil }

// PageFragRefill models skb_page_frag_refill(32, pfrag, sk->sk_allocation)
// (sk_page_frag_refill): a page only the PageFrag still references
// (page_ref_count == 1) is reused from offset 0; a page with at least 32
// bytes free is kept; otherwise the PageFrag drops its reference
// (put_page) and gets a new 32 KB page. It returns an error matching
// ENOMEM when that allocation fails, the PageFrag then holding no page.
func (a *Allocator) PageFragRefill(pf *PageFrag) error {
	const op = "skb_page_frag_refill"
	if p := pf.page; p != nil {
		if p.pageRefs == 1 {
			pf.off = 0
			return nil
		}
		if pf.off+32 <= SkPageFragSize {
			return nil
		}
		pf.page = nil
		a.fragUnref(pageFrag{buf: p}, "put_page")
	}
	// alloc_pages(order 3): accounted, and priced, as a page-allocator
	// request (the kmalloc-large class, as kmalloc_large() is).
	if err := a.acct.Kmalloc(siteSkPageFrag, SkPageFragSize); err != nil {
		a.live.Failures++
		return fmt.Errorf("%s: %w", op, err)
	}
	buf := a.getBuffer(SkPageFragSize, SkPageFragSize, headSockPage, SkPageFragSize, skPageFragCache, op)
	buf.dataref = 0 // a page, not an skb's data buffer: its page references keep it
	buf.pageRefs = 1
	pf.page, pf.off = buf, 0
	return nil
}

// PageFragRelease drops the PageFrag's reference to its page (sk_destruct:
// put_page(sk->sk_frag.page)); the page is freed when no skb fragment
// references it any more.
func (a *Allocator) PageFragRelease(pf *PageFrag) {
	if p := pf.page; p != nil {
		pf.page, pf.off = nil, 0
		a.fragUnref(pageFrag{buf: p}, "sk_destruct")
	}
}

// AppendPageFragData models the copy of send data into the socket's page
// fragment that tcp_sendmsg_locked (skb_copy_to_page_nocache) and
// __ip_append_data do for bytes beyond the linear part: with pf refilled,
// as many of data's bytes as the page has room for are copied at pfrag's
// offset; they extend the skb's last fragment when they follow it in the
// same page (skb_can_coalesce), else become a new fragment that takes a
// page reference (skb_fill_page_desc, get_page); pfrag's offset and the
// skb's len, data_len and truesize grow by the bytes copied
// (skb_len_add). It returns how many bytes it took, which may be fewer
// than len(data): the caller loops. Errors: a refill failure (ENOMEM), or
// ErrTooManyFrags (EMSGSIZE) when the skb has MAX_SKB_FRAGS fragments and
// the bytes do not follow the last one. The skb's buffer must not be
// shared (a clone's fragments are the original's).
func (b *Buff) AppendPageFragData(pf *PageFrag, data []byte) (int, error) {
	b.check("skb_copy_to_page_nocache")
	if b.SkbCloned() || b.buf.fragList != nil {
		panic(fmt.Sprintf("skb: page fragment data appended to a cloned or frag_list skb %v", b))
	}
	if err := b.a.PageFragRefill(pf); err != nil {
		return 0, err
	}
	buf := b.buf
	n := min(len(data), SkPageFragSize-pf.off)
	i := len(buf.frags)
	if i > 0 && buf.frags[i-1].buf == pf.page && buf.frags[i-1].off+buf.frags[i-1].size == pf.off {
		buf.frags[i-1].size += n // skb_can_coalesce: skb_frag_size_add
	} else {
		if i >= MaxSkbFrags {
			return 0, fmt.Errorf("skb_fill_page_desc: %d fragments: %w", i, ErrTooManyFrags)
		}
		pf.page.pageRefs++ // get_page
		buf.frags = append(buf.frags, pageFrag{buf: pf.page, off: pf.off, size: n})
	}
	copy(pf.page.bytes[pf.off:pf.off+n], data[:n])
	b.a.acct.Op(cost.OpMemcpyByte, uint64(n))
	pf.off += n
	b.len += n
	b.dataLen += n
	b.truesize += n
	return n, nil
}
