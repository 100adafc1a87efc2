package skb

import (
	"bytes"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/skbsim/skbsim/internal/errno"
)

// fragHead says how a test fragment's head is allocated.
type fragHead uint8

const (
	headPageFrag  fragHead = iota // netdev_alloc_skb: a page fragment, head_frag = 1 (not locked)
	headKmalloced                 // alloc_skb: kmalloc'ed, head_frag = 0 (skb_head_is_locked)
)

// fragOf returns an skb like a queued IP fragment: a 20-byte header pulled,
// data at the payload, which is seed, seed+1, ...
func fragOf(tb testing.TB, a *Allocator, kind fragHead, n int, seed byte) *Buff {
	tb.Helper()
	var (
		b   *Buff
		err error
	)
	if kind == headPageFrag {
		b, err = a.NetdevAllocSkb(20 + n)
	} else {
		b, err = a.AllocSkb(NetSkbPad + 20 + n)
		if err == nil {
			b.Reserve(NetSkbPad)
		}
	}
	require.NoError(tb, err)
	d := b.Put(20 + n)
	for i := range d[20:] {
		d[20+i] = seed + byte(i)
	}
	b.ResetNetworkHeader()
	_, ok := b.Pull(20)
	require.True(tb, ok)
	return b
}

func payloadOf(n int, seed byte) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = seed + byte(i)
	}
	return p
}

// allBytes returns the skb's bytes through CopyBits.
func allBytes(tb testing.TB, b *Buff) []byte {
	tb.Helper()
	p := make([]byte, b.Len())
	require.NoError(tb, b.CopyBits(0, p))
	return p
}

// reasm chains frags onto head as inet_frag_reasm_finish does with
// try_coalesce: skb_try_coalesce, else frag_list.
func reasm(head *Buff, frags ...*Buff) {
	for _, f := range frags {
		if ok, stolen, _ := head.TryCoalesce(f); ok {
			f.FreePartial(stolen)
			continue
		}
		head.AppendFragList(f)
	}
}

func TestTryCoalesce(t *testing.T) {
	tests := []struct {
		name       string
		toLen      int
		toKind     fragHead
		fromLen    int
		fromKind   fragHead
		cloneTo    bool
		ok, stolen bool
	}{
		// A 64-byte fragment fits the tailroom of a kmalloc'ed head.
		{name: "tailroom copy", toLen: 1000, toKind: headKmalloced, fromLen: 64, fromKind: headKmalloced, ok: true},
		{name: "head stolen", toLen: 1000, toKind: headPageFrag, fromLen: 1000, fromKind: headPageFrag, ok: true, stolen: true},
		{name: "kmalloc head locked", toLen: 1000, toKind: headPageFrag, fromLen: 1000, fromKind: headKmalloced},
		{name: "cloned to", toLen: 1000, toKind: headKmalloced, fromLen: 64, fromKind: headPageFrag, cloneTo: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := newAlloc(t)
			to := fragOf(t, a, tc.toKind, tc.toLen, 0)
			from := fragOf(t, a, tc.fromKind, tc.fromLen, byte(tc.toLen))
			var clone *Buff
			if tc.cloneTo {
				var err error
				clone, err = to.Clone()
				require.NoError(t, err)
			}
			ts, fromTS := to.Truesize(), from.Truesize()
			ok, stolen, delta := to.TryCoalesce(from)
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.stolen, stolen)
			if !ok {
				assert.Equal(t, tc.toLen, to.Len())
				assert.Equal(t, ts, to.Truesize())
				from.ConsumeSkb()
			} else {
				assert.Equal(t, tc.toLen+tc.fromLen, to.Len())
				assert.Equal(t, payloadOf(tc.toLen+tc.fromLen, 0), allBytes(t, to))
				assert.Equal(t, ts+delta, to.Truesize())
				if stolen {
					assert.Equal(t, fromTS-dataAlign(SizeofSkBuff), delta)
					assert.Equal(t, 1, to.NrFrags())
					assert.Equal(t, tc.fromLen, to.DataLen())
					assert.Equal(t, tc.toLen, to.Headlen())
				} else {
					assert.Zero(t, delta)
					assert.False(t, to.IsNonlinear())
				}
				from.FreePartial(stolen)
			}
			if clone != nil {
				clone.ConsumeSkb()
			}
			to.ConsumeSkb()
			require.NoError(t, a.CheckLeaks())
		})
	}
}

// TestReasmFragListFree: once one fragment goes on the frag_list, every
// later one does (skb_try_coalesce refuses a frag_list), and freeing the
// datagram frees them with the head's reason, each with its tracepoint.
func TestReasmFragListFree(t *testing.T) {
	for _, tc := range []struct {
		name   string
		free   func(*Buff)
		reason DropReason
	}{
		{"consume_skb", (*Buff).ConsumeSkb, SkbConsumed},
		{"kfree_skb", func(b *Buff) { b.KfreeSkb(DropSocketRcvbuff) }, DropSocketRcvbuff},
		{"__kfree_skb", func(b *Buff) { b.FreePartial(false) }, DropNotSpecified},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newAlloc(t)
			head := fragOf(t, a, headPageFrag, 1480, 0)
			f1 := fragOf(t, a, headPageFrag, 1480, 1480%256)
			f2 := fragOf(t, a, headKmalloced, 1480, 2960%256)
			f3 := fragOf(t, a, headPageFrag, 600, 4440%256)
			reasm(head, f1, f2, f3)
			assert.Equal(t, 1, head.NrFrags(), "f1 stolen")
			assert.Equal(t, []*Buff{f2, f3}, head.FragList(nil), "f2 locked, f3 after a frag_list")
			assert.Equal(t, 1480*3+600, head.Len())
			assert.Equal(t, 1480*2+600, head.DataLen())
			assert.Equal(t, payloadOf(1480*3+600, 0), allBytes(t, head))

			var listFreed, freed []*Buff
			var reasons []DropReason
			a.AddHooks(Hooks{
				ListFree: func(b *Buff, r DropReason) { listFreed = append(listFreed, b); reasons = append(reasons, r) },
				Free:     func(b *Buff, r DropReason) { freed = append(freed, b) },
			})
			tc.free(head)
			assert.Equal(t, []*Buff{f2, f3}, listFreed)
			assert.Equal(t, []DropReason{tc.reason, tc.reason}, reasons)
			if tc.reason == DropNotSpecified {
				assert.Equal(t, []*Buff{f2, f3}, freed, "__kfree_skb: no tracepoint of its own")
			} else {
				assert.Equal(t, []*Buff{head, f2, f3}, freed)
			}
			require.NoError(t, a.CheckLeaks())
		})
	}
}

func TestNonlinearCloneAndCopies(t *testing.T) {
	a := newAlloc(t)
	head := fragOf(t, a, headPageFrag, 1000, 0)
	reasm(head, fragOf(t, a, headPageFrag, 1000, 1000%256), fragOf(t, a, headKmalloced, 800, 2000%256))
	want := payloadOf(2800, 0)
	clone, err := head.Clone()
	require.NoError(t, err)
	assert.Equal(t, head.DataLen(), clone.DataLen())
	assert.Equal(t, want, allBytes(t, clone))

	cp, err := head.Copy()
	require.NoError(t, err)
	assert.False(t, cp.IsNonlinear(), "skb_copy linearises")
	assert.Equal(t, want, cp.Data())

	pc, err := head.PskbCopy()
	require.NoError(t, err)
	assert.Equal(t, 1000, pc.Headlen())
	assert.Equal(t, 1, pc.NrFrags())
	assert.Equal(t, head.FragList(nil), pc.FragList(nil), "frag_list shared")
	assert.Equal(t, want, allBytes(t, pc))

	// The clone's private head keeps the fragments and the list.
	require.NoError(t, clone.ExpandHead(0, 0))
	assert.Equal(t, want, allBytes(t, clone))

	for _, b := range []*Buff{head, cp, pc} {
		b.ConsumeSkb()
	}
	assert.Equal(t, want, allBytes(t, clone), "the last owner still reads every byte")
	clone.ConsumeSkb()
	require.NoError(t, a.CheckLeaks())
}

func TestMayPullNonlinear(t *testing.T) {
	a := newAlloc(t)
	head := fragOf(t, a, headPageFrag, 8, 0) // a tiny first fragment
	f1 := fragOf(t, a, headPageFrag, 400, 8)
	f2 := fragOf(t, a, headKmalloced, 16, 408%256)
	f3 := fragOf(t, a, headKmalloced, 600, 424%256)
	reasm(head, f1, f2, f3)
	require.Equal(t, 1, head.NrFrags())
	require.Equal(t, []*Buff{f2, f3}, head.FragList(nil))
	var listFreed []*Buff
	a.AddHooks(Hooks{ListFree: func(b *Buff, r DropReason) {
		assert.Equal(t, SkbConsumed, r)
		listFreed = append(listFreed, b)
	}})
	want := payloadOf(1024, 0)

	require.True(t, head.MayPull(8), "already linear")
	require.True(t, head.MayPull(100))
	assert.Equal(t, 100, head.Headlen())
	assert.Equal(t, 1, head.NrFrags(), "the page fragment shrank")
	assert.Equal(t, want, allBytes(t, head))

	// Past the page fragment and f2, into f3: f2 is consumed.
	require.True(t, head.MayPull(500))
	assert.Equal(t, 500, head.Headlen())
	assert.Zero(t, head.NrFrags())
	assert.Equal(t, []*Buff{f2}, listFreed)
	assert.Equal(t, want, allBytes(t, head))
	assert.Equal(t, want[:500], head.Data())

	assert.False(t, head.MayPull(1025), "longer than the skb")
	require.NoError(t, head.Linearize())
	assert.Equal(t, []*Buff{f2, f3}, listFreed)
	assert.Equal(t, want, head.Data())
	head.ConsumeSkb()
	require.NoError(t, a.CheckLeaks())
}

func TestPskbTrimNonlinear(t *testing.T) {
	tests := []struct {
		name       string
		length     int
		nrFrags    int
		listLen    int
		listFreed  int
		linearized bool
	}{
		{name: "inside the list", length: 2500, nrFrags: 1, listLen: 1, listFreed: 1},
		{name: "inside the page fragment", length: 1200, nrFrags: 1, listFreed: 2},
		{name: "inside the linear data", length: 600, listFreed: 2},
		{name: "end of the first list skb", length: 2800, nrFrags: 1, listLen: 1, listFreed: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := newAlloc(t)
			head := fragOf(t, a, headPageFrag, 1000, 0)
			f2 := fragOf(t, a, headKmalloced, 800, 2000%256)
			reasm(head, fragOf(t, a, headPageFrag, 1000, 1000%256), f2, fragOf(t, a, headKmalloced, 500, 2800%256))
			var freed []DropReason
			a.AddHooks(Hooks{ListFree: func(b *Buff, r DropReason) { freed = append(freed, r) }})
			require.NoError(t, head.PskbTrim(tc.length))
			assert.Equal(t, tc.length, head.Len())
			assert.Equal(t, tc.nrFrags, head.NrFrags())
			assert.Len(t, head.FragList(nil), tc.listLen)
			assert.Len(t, freed, tc.listFreed)
			for _, r := range freed {
				assert.Equal(t, DropNotSpecified, r, "skb_drop_list")
			}
			assert.Equal(t, payloadOf(tc.length, 0), allBytes(t, head))
			head.ConsumeSkb()
			require.NoError(t, a.CheckLeaks())
		})
	}
}

func TestNonlinearMisuse(t *testing.T) {
	a := newAlloc(t)
	head := fragOf(t, a, headPageFrag, 100, 0)
	reasm(head, fragOf(t, a, headKmalloced, 1000, 100))
	require.True(t, head.IsNonlinear())
	assert.Zero(t, head.Tailroom(), "skb_tailroom of a non-linear skb")
	assert.Panics(t, func() { head.Put(1) }, "SKB_LINEAR_ASSERT")
	assert.Panics(t, func() { head.Pull(101) }, "__skb_pull past the linear data")
	assert.Panics(t, func() { head.Trim(50) }, "skb_trim of a non-linear skb")
	err := head.CopyBits(1000, make([]byte, 200))
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrFault))
	assert.True(t, errors.Is(err, errno.EFAULT))
	scratch := make([]byte, 8)
	assert.Equal(t, payloadOf(108, 0)[96:104], head.HeaderPointer(96, 8, scratch), "copied across the boundary")
	assert.Nil(t, head.HeaderPointer(1096, 8, scratch))
	d, ok := head.PskbPull(150)
	require.True(t, ok)
	assert.Equal(t, payloadOf(1100, 0)[150:], append(d, allBytes(t, head)[len(d):]...))
	head.ConsumeSkb()
	require.NoError(t, a.CheckLeaks())
}

// TestNonlinearProperties runs random reassemblies and random pulls, trims,
// clones, copies, frees and bpf_skb_change_tail calls, checking after each step that every live skb
// still holds exactly its expected bytes and, at the end, that nothing
// leaked.
func TestNonlinearProperties(t *testing.T) {
	setRapidSeed(t)
	rapid.Check(t, func(rt *rapid.T) {
		a := newAlloc(t)
		type live struct {
			b    *Buff
			want []byte
		}
		var skbs []live
		n := rapid.IntRange(1, 6).Draw(rt, "fragments")
		var frags []*Buff
		var want []byte
		for i := range n {
			size := rapid.IntRange(1, 1500).Draw(rt, "size")
			kind := fragHead(rapid.IntRange(0, 1).Draw(rt, "kind"))
			seed := byte(len(want))
			frags = append(frags, fragOf(t, a, kind, size, seed))
			want = append(want, payloadOf(size, seed)...)
			_ = i
		}
		reasm(frags[0], frags[1:]...)
		skbs = append(skbs, live{frags[0], want})
		steps := rapid.IntRange(0, 12).Draw(rt, "steps")
		for range steps {
			i := rapid.IntRange(0, len(skbs)-1).Draw(rt, "skb")
			s := &skbs[i]
			switch rapid.IntRange(0, 7).Draw(rt, "op") {
			case 0: // pskb_may_pull
				k := rapid.IntRange(0, s.b.Len()+1).Draw(rt, "pull")
				assert.Equal(rt, k <= s.b.Len(), s.b.MayPull(k))
			case 1: // pskb_pull
				k := rapid.IntRange(0, s.b.Len()).Draw(rt, "pull")
				_, ok := s.b.PskbPull(k)
				require.True(rt, ok)
				s.want = s.want[k:]
			case 2: // pskb_trim
				if s.b.Users() != 1 {
					continue
				}
				k := rapid.IntRange(0, s.b.Len()).Draw(rt, "trim")
				require.NoError(rt, s.b.PskbTrim(k))
				s.want = s.want[:k]
			case 3:
				c, err := s.b.Clone()
				require.NoError(rt, err)
				skbs = append(skbs, live{c, s.want})
			case 4:
				c, err := s.b.PskbCopy()
				require.NoError(rt, err)
				skbs = append(skbs, live{c, s.want})
			case 5:
				c, err := s.b.Copy()
				require.NoError(rt, err)
				require.False(rt, c.IsNonlinear())
				skbs = append(skbs, live{c, s.want})
			case 6:
				if len(skbs) > 1 {
					s.b.ConsumeSkb()
					skbs = append(skbs[:i], skbs[i+1:]...)
				}
			case 7: // bpf_skb_change_tail's data work: linear, private, grown with zeroes or trimmed
				if s.b.Users() != 1 {
					continue
				}
				k := rapid.IntRange(0, s.b.Len()+2000).Draw(rt, "new_len")
				require.NoError(rt, s.b.ChangeTail(k))
				require.False(rt, s.b.IsNonlinear())
				require.False(rt, s.b.SkbCloned())
				if k <= len(s.want) {
					s.want = s.want[:k:k]
				} else {
					s.want = append(s.want[:len(s.want):len(s.want)], make([]byte, k-len(s.want))...)
				}
			}
			for _, l := range skbs {
				require.Equal(rt, len(l.want), l.b.Len())
				got := make([]byte, l.b.Len())
				require.NoError(rt, l.b.CopyBits(0, got))
				require.True(rt, bytes.Equal(l.want, got), "bytes of skb #%d", l.b.id)
			}
		}
		for _, l := range skbs {
			l.b.ConsumeSkb()
		}
		require.NoError(rt, a.CheckLeaks())
	})
}
