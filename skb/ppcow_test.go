package skb

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/internal/errno"
)

// TestPPCowData: skb_pp_cow_data copies the bytes into a page-pool head of
// XDP_PACKET_HEADROOM and, past SKB_WITH_OVERHEAD(PAGE_SIZE - headroom)
// bytes, page-pool pages; the header state comes along (skb_copy_header:
// gso fields and extensions too), the XDP metadata does not, and the old
// skb is the caller's to free.
func TestPPCowData(t *testing.T) {
	maxHead := withOverhead(PageSize - XDPPacketHeadroom)
	for _, tc := range []struct {
		name  string
		n     int // bytes
		paged int // of them in page fragments of the original
		frags int // page fragments of the copy
	}{
		{"linear", 200, 0, 0},
		{"paged", 3000, 2800, 0},
		{"past one head", maxHead + 5000, 5000, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newAlloc(t)
			b := groSeg(t, a, headPageFrag, 14, tc.n-tc.paged-14, 0)
			for off := tc.n - tc.paged; off < tc.n; off += 1000 {
				m := groSeg(t, a, headPageFrag, 0, min(1000, tc.n-off), byte(off))
				_, _, err := b.GROReceive(b, m, 0)
				require.NoError(t, err)
				m.FreeStolenHead()
			}
			require.Equal(t, tc.n, b.Len())
			b.ResetMacHeader()
			b.SetNetworkHeader(14)
			b.H().Mark = 5
			sh := b.Shinfo()
			sh.GSOSize, sh.GSOSegs, sh.GSOType = 100, 3, GSOUDPL4
			e, err := b.ExtAdd(ExtBPFStorage)
			require.NoError(t, err)
			want := allBytes(t, b)

			n, err := b.PPCowData(XDPPacketHeadroom)
			require.NoError(t, err)
			assert.Equal(t, want, allBytes(t, n))
			assert.Equal(t, XDPPacketHeadroom, n.Headroom())
			assert.Equal(t, min(tc.n, maxHead), n.Headlen())
			assert.Equal(t, tc.frags, n.NrFrags())
			assert.Equal(t, n.Headroom(), n.MacHeader())
			assert.Equal(t, n.Headroom()+14, n.NetworkHeader())
			assert.Equal(t, uint32(5), n.H().Mark)
			assert.Equal(t, SharedInfo{GSOSize: 100, GSOSegs: 3, GSOType: GSOUDPL4}, *n.Shinfo())
			assert.Same(t, e, n.Ext(), "skb_copy_header shares the extensions")
			assert.True(t, n.HeadFrag())
			assert.Zero(t, n.MetadataLen())
			b.ConsumeSkb()
			n.ConsumeSkb()
		})
	}
}

// TestPPCowDataRefused: a frag_list is EOPNOTSUPP, more than a head and
// MAX_SKB_FRAGS pages ENOMEM; the skb is left as it was.
func TestPPCowDataRefused(t *testing.T) {
	a := newAlloc(t)
	b := groSeg(t, a, headPageFrag, 14, 100, 0)
	l := groSeg(t, a, headKmalloced, 0, 100, 1)
	_, _, err := b.GROReceive(b, l, 0)
	require.NoError(t, err)
	b.ResetMacHeader()
	_, err = b.PPCowData(XDPPacketHeadroom)
	require.True(t, errors.Is(err, ErrPPCowFragList) && errors.Is(err, errno.EOPNOTSUPP), "%v", err)
	require.Equal(t, 214, b.Len())
	b.ConsumeSkb()

	big := groSeg(t, a, headPageFrag, 14, 100, 0)
	big.ResetMacHeader()
	big.len += withOverhead(PageSize-XDPPacketHeadroom) + MaxSkbFrags*PageSize // the length check comes first
	_, err = big.PPCowData(XDPPacketHeadroom)
	require.True(t, errors.Is(err, ErrPPCowTooBig) && errors.Is(err, errno.ENOMEM), "%v", err)
	big.len = 114
	big.ConsumeSkb()
}

// TestToFrame: the frame keeps the bytes, page fragments included; it has
// no header state, no extensions (the old skb's storage destroyed), no
// metadata, gso fields, hardware timestamp or other shared info
// (__finalize_skb_around's memset for the skb built from it); the old
// sk_buff is freed, and the frame's own is accounted only once an skb is
// built from it; nothing leaks.
func TestToFrame(t *testing.T) {
	a := newAlloc(t)
	b := groSeg(t, a, headPageFrag, 14, 100, 0)
	m := groSeg(t, a, headPageFrag, 0, 300, 100)
	_, _, err := b.GROReceive(b, m, 0)
	require.NoError(t, err)
	m.FreeStolenHead()
	b.ResetMacHeader()
	b.H().Mark, b.H().Priority, b.H().Hash = 42, 3, 0x1234
	st := &fakeStorage{}
	e, err := b.ExtAdd(ExtBPFStorage)
	require.NoError(t, err)
	e.SetStorage(st)
	b.Shinfo().GSOSize = 100
	b.Shinfo().HwTstamp, b.Shinfo().TxFlags, b.Shinfo().Tskey = 77, 1, 9
	want := allBytes(t, b)
	heads := a.Accountant().Stats().BySite[siteHead].Allocs
	n := b.ToFrame()
	assert.True(t, n.XDPFrame())
	assert.Equal(t, heads, a.Accountant().Stats().BySite[siteHead].Allocs, "an xdp_frame has no sk_buff")
	assert.Equal(t, want, allBytes(t, n))
	assert.Equal(t, 1, n.NrFrags())
	assert.Equal(t, Header{}, *n.H())
	assert.Nil(t, n.Ext())
	assert.Equal(t, 1, st.destroyed, "the old skb's storage went with its head state")
	assert.Equal(t, SharedInfo{}, *n.Shinfo())
	assert.True(t, n.HeadFrag())
	assert.Panics(t, func() { b.Len() }, "the old sk_buff is freed")
	require.NoError(t, n.BuildSkbFromFrame())
	assert.False(t, n.XDPFrame())
	assert.Equal(t, heads+1, a.Accountant().Stats().BySite[siteHead].Allocs, "xdp_build_skb_from_frame")
	n.ConsumeSkb()
}
