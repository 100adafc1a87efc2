package skb

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/internal/errno"
	"github.com/skbsim/skbsim/kmem"
)

func TestSegment(t *testing.T) {
	a := newAlloc(t)
	r := newRich(t, a)
	head := r.b
	// data at the transport payload: headers are mac..data (54 bytes).
	head.Pull(34 + 20)
	var kinds []CopyKind
	a.AddHooks(Hooks{Copy: func(o, c *Buff, k CopyKind) {
		assert.Same(t, head, o)
		kinds = append(kinds, k)
	}})
	segs, err := head.Segment(20, nil)
	require.NoError(t, err)
	// 46 payload bytes / 20 = 3 segments (20, 20, 6).
	require.Len(t, segs, 3)
	assert.Equal(t, []CopyKind{CopySegment, CopySegment, CopySegment}, kinds)
	frame := frameBytes(richLen)
	for i, s := range segs {
		n := 20
		if i == 2 {
			n = 6
		}
		assert.Equal(t, 54+n, s.Len(), "segment %d", i)
		assert.Equal(t, frame[:54]+frame[54+20*i:54+20*i+n], string(s.Data()), "headers + piece")
		assert.Equal(t, richHeadroom, s.Headroom(), "same headroom as the head skb")
		assert.Equal(t, richHeadroom, s.MacHeader())
		assert.Equal(t, richHeadroom+14, s.NetworkHeader())
		assert.Equal(t, 14, s.MacLen())
		h := *s.H()
		assert.Equal(t, *head.H(), h, "__copy_skb_header replicates every header field")
		assert.Same(t, head.Ext(), s.Ext(), "extensions shared")
		d, _ := s.Dst()
		assert.Equal(t, r.dst, d)
		assert.Nil(t, s.Sk(), "sk stays with the head skb")
		assert.Equal(t, 0, s.MetadataLen(), "no XDP metadata in segments")
		assert.Equal(t, SharedInfo{}, *s.Shinfo(), "fresh shared info")
	}
	assert.Equal(t, 4, head.Ext().Refs())
	assert.Equal(t, 5, r.dst.Refs())
	for _, s := range segs {
		s.ConsumeSkb()
	}
	head.ConsumeSkb()
	assert.Equal(t, 1, r.storage.destroyed)
}

func TestSegmentENOMEM(t *testing.T) {
	a := newAlloc(t)
	b := mustAlloc(t, a, 64, 200)
	defer b.ConsumeSkb()
	b.ResetMacHeader()
	b.Pull(40)
	a.acct.SetFault(kmem.Fault{Nth: 5}) // the third segment's head
	out := make([]*Buff, 0, 8)
	segs, err := b.Segment(50, out)
	assert.True(t, errors.Is(err, errno.ENOMEM))
	assert.Empty(t, segs)
	assert.Equal(t, Live{Skbs: 1, Buffers: 1, Failures: 1}, a.Live(), "partial segments freed")
}

func TestIPFragment(t *testing.T) {
	a := newAlloc(t)
	r := newRich(t, a)
	b := r.b
	b.Pull(EthHlen) // data at the network header
	b.SetDeliveryTime(77, ClockMonotonic)
	frags, err := b.IPFragment(20, 52, 16, nil)
	require.NoError(t, err)
	// 66 payload bytes, 32 per fragment (52-20 rounded to 8): 32, 32, 2.
	require.Len(t, frags, 3)
	frame := frameBytes(richLen)
	for i, f := range frags {
		n := []int{32, 32, 2}[i]
		assert.Equal(t, 16, f.Headroom())
		assert.Equal(t, frame[14:34]+frame[34+32*i:34+32*i+n], string(f.Data()))
		assert.Equal(t, 0, f.NetworkOffset())
		assert.Equal(t, f.NetworkHeader()+20, f.TransportHeader())
		h, bh := f.H(), b.H()
		assert.Equal(t, bh.Mark, h.Mark)
		assert.Equal(t, bh.Priority, h.Priority)
		assert.Equal(t, bh.Hash, h.Hash)
		assert.Equal(t, bh.L4Hash, h.L4Hash)
		assert.Equal(t, bh.TCIndex, h.TCIndex)
		assert.Equal(t, bh.Secmark, h.Secmark)
		assert.Equal(t, bh.Dev, h.Dev)
		assert.Equal(t, bh.NfTrace, h.NfTrace)
		assert.Equal(t, bh.IPVSProperty, h.IPVSProperty)
		assert.Equal(t, int64(77), h.Tstamp)
		assert.Equal(t, ClockMonotonic, h.TstampType)
		assert.Zero(t, h.QueueMapping, "not copied by ip_copy_metadata")
		assert.Zero(t, h.VlanTCI, "not copied")
		assert.Equal(t, [CBSize]byte{}, h.CB, "cb not copied")
		assert.Same(t, b.Ext(), f.Ext())
		ct, info := f.Nfct()
		assert.Equal(t, r.ct, ct)
		assert.Equal(t, uint8(2), info, "_nfct carries the ctinfo bits")
		assert.Equal(t, 0, f.MetadataLen())
	}
	for _, f := range frags {
		f.ConsumeSkb()
	}
	b.ConsumeSkb()
	assert.Equal(t, 1, r.ct.Refs())
}

func TestIPCopyMetadataReplacesReferences(t *testing.T) {
	a := newAlloc(t)
	r := newRich(t, a)
	to := mustAlloc(t, a, 0, 10)
	oldDst := NewHandle("old dst")
	to.DstSet(oldDst)
	oldCt := NewHandle("old ct")
	to.SetNfct(oldCt, 1)
	_, err := to.ExtAdd(ExtMPTCP)
	require.NoError(t, err)
	IPCopyMetadata(to, r.b)
	assert.Equal(t, 0, oldDst.Refs(), "skb_dst_drop(to)")
	assert.Equal(t, 0, oldCt.Refs(), "nf_reset_ct(to)")
	assert.Equal(t, 1, a.Live().Exts, "to's own extension was put")
	assert.Same(t, r.b.Ext(), to.Ext())
	assert.Equal(t, 3, r.dst.Refs())
	to.ConsumeSkb()
	r.b.ConsumeSkb()
}
