package skb

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/internal/errno"
	"github.com/skbsim/skbsim/kmem"
)

// fraglistSeg is one received UDP segment for fraglist GRO: 64 bytes of
// headroom with 8 bytes of XDP metadata holding id, a 14+20+8 byte header
// block and 100 payload bytes filled with id; data at the mac header,
// network header at 14, transport at 34.
func fraglistSeg(t *testing.T, a *Allocator, id byte) *Buff {
	t.Helper()
	b := mustAlloc(t, a, 64, 142)
	d := b.Data()
	for i := range d {
		d[i] = id
	}
	meta := b.Head()[64-8 : 64]
	for i := range meta {
		meta[i] = id
	}
	b.MetadataSet(8)
	b.ResetMacHeader()
	b.SetNetworkHeader(14)
	b.SetTransportHeader(34)
	b.ResetMacLen()
	b.H().Mark = uint32(id)
	return b
}

// gro merges the segments into the first one as napi_gro_receive does with
// fraglist GRO: data at the payload past the UDP header (skb_gro_offset 42
// from the mac header, as the model's GRO pulls to the network header
// first: offset 28 after a 14-byte pull), then udp_gro_complete's gso
// fields.
func groList(t *testing.T, segs ...*Buff) *Buff {
	t.Helper()
	p := segs[0]
	p.Pull(14)
	last := p
	for _, b := range segs[1:] {
		b.Pull(14)
		var err error
		last, err = p.GROReceiveList(last, b, 28)
		require.NoError(t, err)
	}
	sh := p.Shinfo()
	sh.GSOSize, sh.GSOSegs, sh.GSOType = 100, uint16(len(segs)), GSOUDPL4|GSOFraglist
	p.Push(14)
	return p
}

func TestGROReceiveList(t *testing.T) {
	a := newAlloc(t)
	p, b1, b2 := fraglistSeg(t, a, 1), fraglistSeg(t, a, 2), fraglistSeg(t, a, 3)
	ts0, ts1 := p.Truesize(), b1.Truesize()
	sock := &struct{}{}
	b1.SetOwner(sock, func(*Buff) { t.Error("skb_gro_receive_list must not run the destructor") })
	agg := groList(t, p, b1, b2)
	assert.Same(t, p, agg)
	assert.Equal(t, 142+2*100, p.Len(), "each merged skb adds its payload")
	assert.Equal(t, 200, p.DataLen())
	assert.Equal(t, ts0+2*ts1, p.Truesize())
	assert.Equal(t, 2, p.FragListLen())
	assert.Nil(t, b1.Sk(), "socket cleared")
	assert.Equal(t, 100, b1.Len(), "pulled to its payload")
	assert.Equal(t, 8, b1.MetadataLen(), "a merged skb keeps its own XDP metadata")
	// The bytes read through the aggregate are head, then each payload.
	all := make([]byte, p.Len())
	require.NoError(t, p.CopyBits(0, all))
	assert.Equal(t, byte(1), all[141])
	assert.Equal(t, byte(2), all[142])
	assert.Equal(t, byte(3), all[341])
	p.ConsumeSkb()
	assert.Equal(t, Live{}, a.Live(), "the list is freed with the aggregate")
}

func TestGROReceiveListTooBig(t *testing.T) {
	a := newAlloc(t)
	p := mustAlloc(t, a, 64, 65000)
	b := mustAlloc(t, a, 64, 600)
	last, err := p.GROReceiveList(p, b, 42)
	assert.True(t, errors.Is(err, errno.E2BIG))
	assert.Same(t, p, last)
	assert.Equal(t, 65000, p.Len(), "unchanged")
	assert.Equal(t, 600, b.Len(), "unchanged")
	p.ConsumeSkb()
	b.ConsumeSkb()
}

func TestSegmentList(t *testing.T) {
	a := newAlloc(t)
	segs := []*Buff{fraglistSeg(t, a, 1), fraglistSeg(t, a, 2), fraglistSeg(t, a, 3)}
	storage := &fakeStorage{name: "head"}
	for _, b := range segs[1:] {
		// A merged skb's own extension is released by skb_segment_list.
		e, err := b.ExtAdd(ExtBPFStorage)
		require.NoError(t, err)
		e.SetStorage(&fakeStorage{name: "own"})
	}
	head := groList(t, segs...)
	e, err := head.ExtAdd(ExtBPFStorage)
	require.NoError(t, err)
	e.SetStorage(storage)
	head.H().Priority = 9
	headMac := string(head.Data()[:14])
	var kinds []CopyKind
	a.AddHooks(Hooks{Copy: func(o, c *Buff, k CopyKind) { kinds = append(kinds, k) }})
	out, err := head.SegmentList(14, nil)
	require.NoError(t, err)
	require.Len(t, out, 3)
	assert.Same(t, head, out[0], "the GSO skb is the first segment")
	assert.Equal(t, 2, head.Users(), "skb_get: the caller's consume_skb drops one")
	assert.Equal(t, []CopyKind{CopySegment, CopySegment}, kinds)
	assert.Equal(t, SharedInfo{}.GSOType, head.Shinfo().GSOType, "skb_gso_reset")
	assert.Equal(t, 0, int(head.Shinfo().GSOSize))
	for i, s := range out {
		assert.Equal(t, 142, s.Len(), "segment %d: its own frame", i)
		assert.Equal(t, 0, s.DataLen())
		assert.Equal(t, headMac, string(s.Data()[:14]), "segment %d: the head's mac header", i)
		assert.Equal(t, byte(i+1), s.Data()[14], "segment %d: its own IP header", i)
		assert.Equal(t, byte(i+1), s.Data()[141], "segment %d: its own payload", i)
		assert.Equal(t, uint32(1), s.H().Mark, "segment %d: the head's mark (__copy_skb_header)", i)
		assert.Equal(t, uint32(9), s.H().Priority)
		assert.Same(t, head.Ext(), s.Ext(), "segment %d: the head's extensions", i)
		assert.Equal(t, 8, s.MetadataLen(), "segment %d keeps its own XDP metadata", i)
		assert.Equal(t, s.Headroom(), s.MacHeader())
		assert.Equal(t, s.Headroom()+14, s.NetworkHeader())
		assert.Equal(t, s.Headroom()+34, s.TransportHeader())
		assert.Equal(t, 14, s.MacLen())
	}
	assert.Equal(t, 3, head.Ext().Refs())
	head.ConsumeSkb() // validate_xmit_skb's consume_skb: the skb_get reference
	for _, s := range out {
		s.ConsumeSkb()
	}
	assert.Equal(t, 1, storage.destroyed)
	assert.Equal(t, Live{}, a.Live())
}

// TestSegmentListShared: after pskb_expand_head of a cloned aggregate (a
// tap clone, then skb_cow for forwarding), both shared infos point to the
// same list skbs (skb_clone_fraglist); skb_segment_list replaces each with
// a clone and leaves the other list intact.
func TestSegmentListShared(t *testing.T) {
	a := newAlloc(t)
	head := groList(t, fraglistSeg(t, a, 1), fraglistSeg(t, a, 2), fraglistSeg(t, a, 3))
	tap, err := head.Clone()
	require.NoError(t, err)
	require.NoError(t, head.ExpandHead(0, 0))
	out, err := head.SegmentList(14, nil)
	require.NoError(t, err)
	require.Len(t, out, 3)
	assert.Equal(t, 2, tap.FragListLen(), "the tap's list is untouched")
	assert.Equal(t, 342, tap.Len())
	for i, s := range out[1:] {
		assert.Equal(t, 1, s.Users())
		assert.False(t, s.SkbCloned(), "segment %d has its own head (skb_unclone)", i+1)
		assert.Equal(t, byte(i+2), s.Data()[141])
	}
	head.ConsumeSkb()
	for _, s := range out {
		s.ConsumeSkb()
	}
	tap.ConsumeSkb()
	assert.Equal(t, Live{}, a.Live())
}

func TestSegmentListENOMEM(t *testing.T) {
	a := newAlloc(t)
	head := groList(t, fraglistSeg(t, a, 1), fraglistSeg(t, a, 2), fraglistSeg(t, a, 3))
	tap, err := head.Clone()
	require.NoError(t, err)
	require.NoError(t, head.ExpandHead(0, 0))
	a.acct.SetFault(kmem.Fault{Nth: 1}) // the clone of the first list skb
	out, err := head.SegmentList(14, nil)
	assert.True(t, errors.Is(err, errno.ENOMEM))
	assert.Empty(t, out)
	assert.Equal(t, 1, head.Users())
	assert.Equal(t, 142, head.Len(), "the head keeps its own bytes")
	assert.Equal(t, 2, tap.FragListLen(), "the tap's list is untouched")
	head.KfreeSkb(DropNotSpecified)
	tap.ConsumeSkb()
	assert.Equal(t, 1, a.Live().Failures)
	assert.Equal(t, Live{Failures: 1}, a.Live())
}
