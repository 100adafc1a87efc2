package skb

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/internal/errno"
)

// groSeg returns a received segment: hdr bytes of headers (0xee) then n
// payload bytes seed, seed+1, ..., with a page-fragment head (netdev_alloc_skb
// of a large frame) or a small kmalloc'ed one.
func groSeg(tb testingTB, a *Allocator, kind fragHead, hdr, n int, seed byte) *Buff {
	tb.Helper()
	var (
		b   *Buff
		err error
	)
	if kind == headPageFrag {
		b, err = a.NetdevAllocSkb(max(hdr+n, 400))
	} else {
		b, err = a.AllocSkb(hdr + n)
	}
	require.NoError(tb, err)
	d := b.Put(hdr + n)
	for i := range d[:hdr] {
		d[i] = 0xee
	}
	copy(d[hdr:], payloadOf(n, seed))
	return b
}

// TestGROReceive: skb_gro_receive's three ways, the held skb's bytes
// after each (its headers then every payload in order), and what
// napi_skb_finish frees.
func TestGROReceive(t *testing.T) {
	const hdr = 40
	a := newAlloc(t)
	p := groSeg(t, a, headPageFrag, hdr, 500, 0)
	last := p
	want := append(make([]byte, 0, 2000), allBytes(t, p)...)
	add := func(kind fragHead, n int, wantFree GROFree) {
		t.Helper()
		b := groSeg(t, a, kind, hdr, n, byte(len(want)-hdr))
		ts := p.Truesize()
		var free GROFree
		var err error
		last, free, err = p.GROReceive(last, b, hdr)
		require.NoError(t, err)
		require.Equal(t, wantFree, free)
		require.Greater(t, p.Truesize(), ts)
		switch free {
		case GROFreeStolenHead:
			b.FreeStolenHead()
		case GROFreeSkb:
			b.NapiFree()
		}
		want = append(want, payloadOf(n, byte(len(want)-hdr))...)
		require.Equal(t, want, allBytes(t, p))
	}
	add(headPageFrag, 500, GROFreeStolenHead)
	require.Equal(t, 1, p.NrFrags())
	require.Same(t, p, last)
	add(headKmalloced, 100, GROMerged)
	require.Len(t, p.FragList(nil), 1)
	require.NotSame(t, p, last, "NAPI_GRO_CB(p)->last is the frag_list skb")
	// A stolen head now goes to last's page fragments, and both lengths grow.
	lastLen := last.Len()
	add(headPageFrag, 300, GROFreeStolenHead)
	require.Equal(t, lastLen+300, last.Len())
	require.Equal(t, 1, last.NrFrags())
	require.Equal(t, 1, p.NrFrags())

	big := groSeg(t, a, headPageFrag, hdr, 500, 0)
	p.len = GROMaxSize - 100
	_, _, err := p.GROReceive(last, big, hdr)
	require.True(t, errors.Is(err, ErrGROTooBig) && errors.Is(err, errno.E2BIG))
	p.len = len(want)
	big.ConsumeSkb()
	p.ConsumeSkb()
	require.NoError(t, a.CheckLeaks())
}
