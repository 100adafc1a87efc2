package skb

import (
	"bytes"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/internal/errno"
	"github.com/skbsim/skbsim/kmem"
)

// sendSkb returns an skb as tcp_stream_alloc_skb makes it: MAX_TCP_HEADER
// reserved, no linear payload.
func sendSkb(tb testing.TB, a *Allocator) *Buff {
	tb.Helper()
	b, err := a.AllocSkbFclone(MaxTCPHeader)
	require.NoError(tb, err)
	b.Reserve(MaxTCPHeader)
	return b
}

// appendAll appends data through the page frag as the send loops do.
func appendAll(tb testing.TB, b *Buff, pf *PageFrag, data []byte) {
	tb.Helper()
	for len(data) > 0 {
		n, err := b.AppendPageFragData(pf, data)
		require.NoError(tb, err)
		require.Positive(tb, n)
		data = data[n:]
	}
}

// TestPageFragAppend: bytes land in a 32 KB page, consecutive appends
// coalesce into one fragment, len, data_len and truesize grow by the bytes,
// and the page is freed with its last reference.
func TestPageFragAppend(t *testing.T) {
	a := newAlloc(t)
	var pf PageFrag
	b := sendSkb(t, a)
	truesize := b.Truesize()
	appendAll(t, b, &pf, payloadOf(1000, 1))
	appendAll(t, b, &pf, payloadOf(500, 100))
	require.Equal(t, 1, b.NrFrags(), "skb_can_coalesce: the second copy follows the first in the page")
	require.Equal(t, 1500, b.Len())
	require.Equal(t, 1500, b.DataLen())
	require.Equal(t, 0, b.Headlen())
	require.Equal(t, truesize+1500, b.Truesize())
	require.Equal(t, 1500, pf.Offset())
	require.Equal(t, append(payloadOf(1000, 1), payloadOf(500, 100)...), allBytes(t, b))
	require.Equal(t, int32(2), pf.page.pageRefs, "the page frag's reference and the fragment's")

	// A second skb takes the bytes after the first's.
	c := sendSkb(t, a)
	appendAll(t, c, &pf, payloadOf(700, 9))
	require.Equal(t, 1500, c.buf.frags[0].off)
	require.Equal(t, payloadOf(700, 9), allBytes(t, c))
	b.ConsumeSkb()
	c.ConsumeSkb()

	// Only the page frag references the page: the refill reuses it from 0.
	require.NoError(t, a.PageFragRefill(&pf))
	require.Equal(t, 0, pf.Offset())
	a.PageFragRelease(&pf)
	require.False(t, pf.HasPage())
	require.NoError(t, a.CheckLeaks())
}

// TestPageFragNewPage: when a page is full while skbs still reference it,
// the refill drops the page frag's reference and takes a new page; the old
// one lives until the skb that references it is freed.
func TestPageFragNewPage(t *testing.T) {
	a := newAlloc(t)
	var pf PageFrag
	b := sendSkb(t, a)
	appendAll(t, b, &pf, payloadOf(SkPageFragSize-40, 3))
	first := pf.page
	c := sendSkb(t, a)
	appendAll(t, c, &pf, payloadOf(100, 5))
	require.Equal(t, 2, c.NrFrags(), "40 bytes at the end of the first page, 60 in a new one")
	require.True(t, first != pf.page, "a new page")
	require.Equal(t, 60, pf.Offset())
	require.Equal(t, payloadOf(100, 5), allBytes(t, c))
	b.ConsumeSkb()
	require.Equal(t, stateLive, first.state, "c's first fragment still references the full page")
	c.ConsumeSkb()
	require.Equal(t, stateFree, first.state)

	// Only the page frag references the second page: d's bytes start at
	// 0 again; then, with fewer than 32 bytes left, the refill takes a
	// new page before e's bytes.
	d := sendSkb(t, a)
	appendAll(t, d, &pf, payloadOf(SkPageFragSize-20, 1))
	require.Equal(t, 0, d.buf.frags[0].off)
	second := pf.page
	e := sendSkb(t, a)
	appendAll(t, e, &pf, payloadOf(30, 2))
	require.Equal(t, 1, e.NrFrags())
	require.True(t, second != pf.page, "a new page")
	d.ConsumeSkb()
	e.ConsumeSkb()
	a.PageFragRelease(&pf)
	require.NoError(t, a.CheckLeaks())
	// Three pages, each an order-3 alloc_pages: the page allocator's
	// class, not a kmem_cache.
	st := a.Accountant().Stats()
	require.Equal(t, uint64(3), st.ByClass[kmem.LargeClass].Allocs)
	require.Equal(t, uint64(3*SkPageFragSize), st.ByClass[kmem.LargeClass].BytesRequested)
}

// TestPageFragTooManyFrags: bytes that cannot extend the last fragment of
// an skb with MAX_SKB_FRAGS fragments are refused with EMSGSIZE.
func TestPageFragTooManyFrags(t *testing.T) {
	a := newAlloc(t)
	var p1, p2 PageFrag
	b := sendSkb(t, a)
	for i := 0; i < MaxSkbFrags; i++ {
		pf := &p1
		if i%2 == 1 {
			pf = &p2
		}
		appendAll(t, b, pf, payloadOf(10, byte(i)))
	}
	require.Equal(t, MaxSkbFrags, b.NrFrags())
	n, err := b.AppendPageFragData(&p2, payloadOf(10, 0))
	require.Zero(t, n)
	require.True(t, errors.Is(err, ErrTooManyFrags) && errors.Is(err, errno.EMSGSIZE))
	n, err = b.AppendPageFragData(&p1, payloadOf(10, 0))
	require.NoError(t, err, "bytes that follow the last fragment still fit")
	require.Equal(t, 10, n)
	b.ConsumeSkb()
	a.PageFragRelease(&p1)
	a.PageFragRelease(&p2)
	require.NoError(t, a.CheckLeaks())
}

// TestSegmentPagedPayload: skb_segment of an skb whose payload is in page
// fragments copies the headers only; each segment's payload references the
// pages, so no payload byte is copied, and the bytes are right.
func TestSegmentPagedPayload(t *testing.T) {
	a := newAlloc(t)
	var pf PageFrag
	b := sendSkb(t, a)
	payload := payloadOf(2500, 7)
	appendAll(t, b, &pf, payload)
	hdr := b.Push(14 + 20 + 8)
	for i := range hdr {
		hdr[i] = byte(0xa0 + i)
	}
	b.ResetMacHeader()
	_, ok := b.Pull(14 + 20 + 8)
	require.True(t, ok)
	b.Shinfo().GSOSize = 1000
	before := a.Accountant().Stats()
	segs, err := b.Segment(0, nil)
	require.NoError(t, err)
	require.Len(t, segs, 3)
	for i, g := range segs {
		n := min(1000, 2500-i*1000)
		require.Equal(t, 42, g.Headlen(), "segment %d: only the headers are linear", i)
		require.Equal(t, n, g.DataLen())
		got := allBytes(t, g)
		require.Equal(t, hdr, got[:42])
		require.Equal(t, payload[i*1000:i*1000+n], got[42:])
	}
	copied := a.Accountant().Stats().Ops[cost.OpMemcpyByte] - before.Ops[cost.OpMemcpyByte]
	require.Equal(t, uint64(3*42), copied, "the headers of each segment, no payload")
	require.Equal(t, int32(5), pf.page.pageRefs, "the page frag, the GSO skb and three segments")
	b.ConsumeSkb()
	for _, g := range segs {
		g.ConsumeSkb()
	}
	a.PageFragRelease(&pf)
	require.NoError(t, a.CheckLeaks())
}

// TestPageFragProperties runs random sends through a few sockets' page
// frags (a header in the linear part, the payload in page fragments), then
// random clones, copies, pulls, trims, segmentations and frees, checking
// every live skb's bytes after each step and, at the end, that every page
// went back with its last reference.
func TestPageFragProperties(t *testing.T) {
	setRapidSeed(t)
	rapid.Check(t, func(rt *rapid.T) {
		a := newAlloc(t)
		pfs := make([]PageFrag, rapid.IntRange(1, 3).Draw(rt, "sockets"))
		type live struct {
			b    *Buff
			want []byte
			hdr  int // header bytes before data (mac header set), 0 if none
		}
		var skbs []live
		check := func() {
			for _, l := range skbs {
				require.Equal(rt, len(l.want), l.b.Len())
				got := make([]byte, l.b.Len())
				require.NoError(rt, l.b.CopyBits(0, got))
				require.True(rt, bytes.Equal(l.want, got), "bytes of skb #%d", l.b.id)
			}
		}
		steps := rapid.IntRange(1, 16).Draw(rt, "steps")
		for range steps {
			op := rapid.IntRange(0, 6).Draw(rt, "op")
			if op == 0 || len(skbs) == 0 { // a send
				pf := &pfs[rapid.IntRange(0, len(pfs)-1).Draw(rt, "socket")]
				hdr := rapid.IntRange(14, 64).Draw(rt, "hdr")
				size := rapid.IntRange(1, 3*SkPageFragSize/2).Draw(rt, "payload")
				payload := payloadOf(size, byte(len(skbs)))
				b := sendSkb(t, a)
				appendAll(t, b, pf, payload)
				h := b.Push(hdr)
				for i := range h {
					h[i] = byte(0xc0 + i)
				}
				b.ResetMacHeader()
				_, ok := b.Pull(hdr)
				require.True(rt, ok)
				skbs = append(skbs, live{b, payload, hdr})
				check()
				continue
			}
			i := rapid.IntRange(0, len(skbs)-1).Draw(rt, "skb")
			s := skbs[i]
			switch op {
			case 1:
				c, err := s.b.Clone()
				require.NoError(rt, err)
				skbs = append(skbs, live{c, s.want, s.hdr})
			case 2:
				c, err := s.b.PskbCopy()
				require.NoError(rt, err)
				skbs = append(skbs, live{c, s.want, 0})
			case 3:
				c, err := s.b.Copy()
				require.NoError(rt, err)
				skbs = append(skbs, live{c, s.want, 0})
			case 4: // skb_segment of a skb that still has its header
				if s.hdr == 0 || s.b.Len() == 0 {
					continue
				}
				mss := rapid.IntRange(256, 9000).Draw(rt, "mss")
				head := append([]byte(nil), s.b.Head()[s.b.MacHeader():s.b.MacHeader()+s.hdr]...)
				segs, err := s.b.Segment(mss, nil)
				require.NoError(rt, err)
				require.Len(rt, segs, (len(s.want)+mss-1)/mss)
				for k, g := range segs {
					piece := s.want[k*mss : min(len(s.want), (k+1)*mss)]
					skbs = append(skbs, live{g, append(append([]byte(nil), head...), piece...), 0})
				}
			case 5: // pskb_pull, then the header is gone
				k := rapid.IntRange(0, s.b.Len()).Draw(rt, "pull")
				if s.b.Users() != 1 || s.b.SkbCloned() {
					continue
				}
				_, ok := s.b.PskbPull(k)
				require.True(rt, ok)
				skbs[i].want, skbs[i].hdr = s.want[k:], 0
			case 6:
				s.b.ConsumeSkb()
				skbs = append(skbs[:i], skbs[i+1:]...)
			}
			check()
		}
		for _, l := range skbs {
			l.b.ConsumeSkb()
		}
		for i := range pfs {
			a.PageFragRelease(&pfs[i])
		}
		require.NoError(rt, a.CheckLeaks())
	})
}
