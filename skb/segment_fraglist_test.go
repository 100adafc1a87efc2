package skb

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/skbsim/skbsim/internal/errno"
	"github.com/skbsim/skbsim/kmem"
)

// segHdr is the header block of groAggregate's segments (Ethernet, IPv4,
// TCP without options).
const segHdr = 14 + 20 + 20

// groAggregate builds what GRO makes of len(kinds) segments of mss payload
// bytes (the last one last bytes): the first segment held, the others
// merged by skb_gro_receive (page fragments, stolen page-fragment heads,
// or the frag_list for kmalloc'ed heads and once MAX_SKB_FRAGS is
// reached), with what napi_skb_finish frees freed. Each segment's payload
// is payloadOf(n, its payload offset). The aggregate's data is at its
// payload, the mac header before the header block, gso_size mss.
func groAggregate(tb testingTB, a *Allocator, mss, last int, kinds ...fragHead) *Buff {
	tb.Helper()
	p := groSeg(tb, a, kinds[0], segHdr, min(mss, last+len(kinds)*mss), 0)
	if len(kinds) == 1 {
		p.Trim(segHdr + last)
	}
	p.ResetMacHeader()
	p.SetNetworkHeader(14)
	p.SetTransportHeader(34)
	p.ResetMacLen()
	held := mss
	l := p
	for i, k := range kinds[1:] {
		n := mss
		if i == len(kinds)-2 {
			n = last
		}
		b := groSeg(tb, a, k, segHdr, n, byte(held))
		var (
			free GROFree
			err  error
		)
		l, free, err = p.GROReceive(l, b, segHdr)
		require.NoError(tb, err)
		switch free {
		case GROFreeStolenHead:
			b.FreeStolenHead()
		case GROFreeSkb:
			b.NapiFree()
		}
		held += n
	}
	_, ok := p.Pull(segHdr)
	require.True(tb, ok)
	sh := p.Shinfo()
	sh.GSOSize, sh.GSOSegs, sh.GSOType = uint16(mss), uint16(len(kinds)), GSOTCPv4
	return p
}

// testingTB is what the builders need of a *testing.T or a *rapid.T.
type testingTB interface {
	require.TestingT
	Helper()
}

func repeatKind(k fragHead, n int) []fragHead {
	ks := make([]fragHead, n)
	for i := range ks {
		ks[i] = k
	}
	return ks
}

// checkPieces asserts that the segments carry the aggregate's header block
// and, in order, its payload, each at most mss bytes (or, for a GSO
// segment, gso_segs of them).
func checkPieces(t *testing.T, agg *Buff, segs []*Buff) {
	t.Helper()
	hdr := allBytes(t, agg)[:0]
	mac := agg.MacHeader()
	hdr = append(hdr, agg.Head()[mac:mac+segHdr]...)
	payload := allBytes(t, agg)
	var got []byte
	for i, s := range segs {
		b := allBytes(t, s)
		require.Equal(t, hdr, b[:segHdr], "segment %d: header block", i)
		got = append(got, b[segHdr:]...)
		assert.Equal(t, s.Headroom(), s.MacHeader(), "segment %d: data at its mac header", i)
		assert.Equal(t, s.MacHeader()+14, s.NetworkHeader(), "segment %d", i)
		assert.Equal(t, agg.H().Mark, s.H().Mark, "segment %d: __copy_skb_header", i)
	}
	require.Equal(t, payload, got, "the pieces are the payload in order")
}

// TestSegmentFragListClones: once the head's own bytes are used up, each
// piece held by a kmalloc'ed frag_list skb is that skb's clone, given its
// own head (skb_cow_head: pskb_expand_head), with the head skb's header
// state; nothing of the payload is copied but through the new heads.
func TestSegmentFragListClones(t *testing.T) {
	for _, prof := range []string{"v6.18", "v6.19"} {
		t.Run(prof, func(t *testing.T) {
			a := newAlloc(t, withProfile(prof))
			agg := groAggregate(t, a, 100, 60, headPageFrag, headKmalloced, headKmalloced, headKmalloced)
			require.Equal(t, 3, agg.FragListLen())
			agg.H().Mark = 7
			list := agg.FragList(nil)
			// The list skbs' own XDP metadata, state and extension.
			for _, l := range list {
				l.MetadataSet(0)
				l.H().Mark = 99
			}
			_, err := agg.ExtAdd(ExtTC)
			require.NoError(t, err)
			own := &fakeStorage{}
			e, err := list[0].ExtAdd(ExtBPFStorage)
			require.NoError(t, err)
			e.SetStorage(own)

			before := a.Accountant().Stats()
			segs, err := agg.Segment(0, nil)
			require.NoError(t, err)
			require.Len(t, segs, 4)
			checkPieces(t, agg, segs)
			st := a.Accountant().Stats()
			d := st.Sub(&before)
			// One fresh skb for the head's bytes, three clones; four heads,
			// all kmalloc'ed (the fresh one and three pskb_expand_head).
			assert.Equal(t, uint64(4), d.BySite[siteHead].Allocs, "sk_buffs: 1 __alloc_skb + 3 skb_clone")
			assert.Equal(t, uint64(4), d.BySite[siteKmalloc].Allocs+d.BySite[siteSmallHead].Allocs, "heads: 1 __alloc_skb + 3 pskb_expand_head")
			for i, s := range segs {
				assert.Same(t, agg.Ext(), s.Ext(), "segment %d: the head skb's extensions, shared", i)
				assert.Equal(t, uint32(7), s.H().Mark, "segment %d", i)
				assert.Zero(t, s.NrFrags(), "segment %d", i)
				assert.False(t, s.HasFragList())
				assert.Zero(t, s.Shinfo().GSOSize, "segment %d", i)
			}
			assert.Zero(t, own.destroyed, "the list skb keeps its own extension; only the clone's reference went")
			assert.Equal(t, 5, agg.Ext().Refs())
			for _, s := range segs {
				s.ConsumeSkb()
			}
			agg.ConsumeSkb()
			assert.Equal(t, 1, own.destroyed)
		})
	}
}

// TestSegmentFragListMeta: a clone-path segment's shared info is its list
// skb's: the XDP metadata the list skb carried survives the segmentation
// when pskb_expand_head keeps it (v6.19), and is cleared before.
func TestSegmentFragListMeta(t *testing.T) {
	for _, tc := range []struct {
		prof string
		want int
	}{{"v6.18", 0}, {"v6.19", 8}} {
		t.Run(tc.prof, func(t *testing.T) {
			a := newAlloc(t, withProfile(tc.prof))
			p := groSeg(t, a, headPageFrag, segHdr, 100, 0)
			p.ResetMacHeader()
			p.SetNetworkHeader(14)
			l, err := a.AllocSkb(64 + segHdr + 100)
			require.NoError(t, err)
			l.Reserve(64)
			copy(l.Put(segHdr+100), append(make([]byte, segHdr), payloadOf(100, 100)...))
			l.ResetMacHeader()
			copy(l.Head()[64-8:64], "METADATA")
			l.MetadataSet(8)
			_, _, err = p.GROReceive(p, l, segHdr)
			require.NoError(t, err)
			p.Pull(segHdr)
			p.Shinfo().GSOSize = 100
			segs, err := p.Segment(0, nil)
			require.NoError(t, err)
			require.Len(t, segs, 2)
			checkPieces(t, p, segs)
			assert.Zero(t, segs[0].MetadataLen(), "a fresh skb has no metadata")
			assert.Equal(t, tc.want, segs[1].MetadataLen())
			if tc.want != 0 {
				m, ok := segs[1].Metadata()
				require.True(t, ok)
				assert.Equal(t, "METADATA", string(m))
			}
			for _, s := range segs {
				s.ConsumeSkb()
			}
			p.ConsumeSkb()
		})
	}
}

// TestSegmentFragListPages: an aggregate of page-fragment heads past
// MAX_SKB_FRAGS (the head with 17 fragments, then list skbs collecting
// fragments of their own) is cut without copying payload beyond the
// first piece: later pieces reference the pages, a list skb's head among
// them. With net_gso_ok and list skbs as long as the head's own bytes, it
// is split along the list into GSO skbs instead.
func TestSegmentFragListPages(t *testing.T) {
	const mss = 100
	t.Run("full", func(t *testing.T) {
		a := newAlloc(t)
		agg := groAggregate(t, a, mss, 40, repeatKind(headPageFrag, 20)...)
		require.Equal(t, MaxSkbFrags, agg.NrFrags())
		require.Equal(t, 1, agg.FragListLen())
		segs, err := agg.Segment(0, nil)
		require.NoError(t, err)
		require.Len(t, segs, 20)
		checkPieces(t, agg, segs)
		for i, s := range segs {
			switch {
			case i == 0:
				assert.Equal(t, segHdr+mss, s.Headlen(), "the head's linear piece is copied")
			case i == 18:
				assert.True(t, s.Cloned() || s.Headlen() == segHdr+mss, "segment 18 is the list skb's clone")
				assert.Equal(t, segHdr+mss, s.Headlen())
			default:
				assert.Equal(t, segHdr, s.Headlen(), "segment %d: headers only", i)
				assert.Equal(t, 1, s.NrFrags(), "segment %d: its piece by reference", i)
			}
		}
		// Free the aggregate first: the pages live on in the segments.
		agg.ConsumeSkb()
		for _, s := range segs {
			s.ConsumeSkb()
		}
	})
	t.Run("split along the list", func(t *testing.T) {
		a := newAlloc(t)
		// 18 segments in the head (linear + 17 fragments), 18 in the first
		// list skb, 2 in the second.
		agg := groAggregate(t, a, mss, 70, repeatKind(headPageFrag, 38)...)
		require.Equal(t, 2, agg.FragListLen())
		agg.Shinfo().GSOType |= GSODodgy
		segs, err := agg.SegmentFeatures(0, SegNetGSOOK, nil)
		require.NoError(t, err)
		require.Len(t, segs, 3)
		checkPieces(t, agg, segs)
		for i, want := range []struct{ size, segs int }{{mss, 18}, {mss, 18}, {mss, 2}} {
			sh := segs[i].Shinfo()
			assert.Equal(t, want.size, int(sh.GSOSize), "segment %d", i)
			assert.Equal(t, want.segs, int(sh.GSOSegs), "segment %d", i)
			assert.Equal(t, GSOTCPv4, sh.GSOType, "segment %d: SKB_GSO_DODGY cleared", i)
		}
		for _, s := range segs {
			s.ConsumeSkb()
		}
		agg.ConsumeSkb()
	})
	t.Run("no split when the lengths differ", func(t *testing.T) {
		a := newAlloc(t)
		agg := groAggregate(t, a, mss, 40, repeatKind(headPageFrag, 20)...)
		segs, err := agg.SegmentFeatures(0, SegNetGSOOK, nil)
		require.NoError(t, err)
		require.Len(t, segs, 20, "18 pieces in the head, 2 in the list skb: cut into gso_size pieces")
		for _, s := range segs {
			assert.Zero(t, s.Shinfo().GSOSize)
			s.ConsumeSkb()
		}
		agg.ConsumeSkb()
	})
}

// TestSegmentFragListDodgy: with SKB_GSO_DODGY and kmalloc'ed list skbs
// whose linear length is not gso_size, SG is off: every piece is copied
// into a linear segment.
func TestSegmentFragListDodgy(t *testing.T) {
	a := newAlloc(t)
	agg := groAggregate(t, a, 100, 100, headPageFrag, headKmalloced, headKmalloced)
	agg.Shinfo().GSOType |= GSODodgy
	segs, err := agg.Segment(60, nil)
	require.NoError(t, err)
	require.Len(t, segs, 5)
	checkPieces(t, agg, segs)
	for _, s := range segs {
		assert.Zero(t, s.DataLen(), "copied whole")
		s.ConsumeSkb()
	}
	// Without SKB_GSO_DODGY the same cut reaches a list skb mid-piece: the
	// kernel BUG()s there; the model refuses with EINVAL.
	agg.Shinfo().GSOType &^= GSODodgy
	_, err = agg.Segment(60, nil)
	require.True(t, errors.Is(err, ErrSegmentFrags) && errors.Is(err, errno.EINVAL), "%v", err)
	agg.ConsumeSkb()
}

// TestSegmentFragListProperties: for any GRO aggregate of page-fragment
// and kmalloc'ed segments, skb_segment gives back the payload in order
// under the headers, each piece one gso_size (or, split along the list,
// gso_segs of them), and freeing the segments and the aggregate in any
// order leaks nothing.
func TestSegmentFragListProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a := NewAllocator(kmem.New(), DefaultProfile())
		mss := rapid.IntRange(1, 300).Draw(t, "mss")
		kinds := rapid.SliceOfN(rapid.SampledFrom([]fragHead{headPageFrag, headKmalloced}), 1, 50).Draw(t, "kinds")
		last := rapid.IntRange(1, mss).Draw(t, "last")
		agg := groAggregate(t, a, mss, last, kinds...)
		var feat SegFeatures
		if rapid.Bool().Draw(t, "net_gso_ok") {
			feat = SegNetGSOOK
		}
		segs, err := agg.SegmentFeatures(0, feat, nil)
		if err != nil {
			if !errors.Is(err, ErrSegmentFrags) {
				t.Fatalf("segment: %v", err)
			}
			t.Skip("more than MAX_SKB_FRAGS in a piece")
		}
		var got []byte
		for i, s := range segs {
			b := make([]byte, s.Len())
			if err := s.CopyBits(0, b); err != nil {
				t.Fatal(err)
			}
			n := len(b) - segHdr
			max := mss
			if gs := int(s.Shinfo().GSOSegs); s.Shinfo().GSOSize != 0 && gs > 1 {
				max *= gs
			}
			if n <= 0 || n > max {
				t.Fatalf("segment %d: %d payload bytes, gso_size %d", i, n, mss)
			}
			got = append(got, b[segHdr:]...)
		}
		want := make([]byte, agg.Len())
		if err := agg.CopyBits(0, want); err != nil {
			t.Fatal(err)
		}
		if string(want) != string(got) {
			t.Fatalf("payload differs")
		}
		order := rapid.Permutation(append(segs, agg)).Draw(t, "free order")
		for _, s := range order {
			s.ConsumeSkb()
		}
		if err := a.CheckLeaks(); err != nil {
			t.Fatal(err)
		}
	})
}
