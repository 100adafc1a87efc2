package skb

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/internal/errno"
	"github.com/skbsim/skbsim/kmem"
)

// TestCopiesVersusClone checks every field of the new skb for clone, copy,
// copy_expand and pskb_copy of the same skb, with the metadata and headroom
// consequences of §2.6 of the reference.
func TestCopiesVersusClone(t *testing.T) {
	poison := strings.Repeat("\x6b", 1)
	tests := []struct {
		name string
		op   func(b *Buff) (*Buff, error)
		kind CopyKind // hook kind; 255 for clone
		// expectations on the new skb
		headroom     int
		end          int
		metaLen      int
		metaView     string // "" when nil
		metaValid    bool
		headroomTail string // the last 16 bytes of headroom (where metadata was)
		sharedBuf    bool
		offShift     int
	}{
		{
			name: "skb_clone", op: (*Buff).Clone, kind: 255,
			headroom: richHeadroom, end: 320, metaLen: richMeta, metaView: metaBytes(), metaValid: true,
			headroomTail: metaBytes(), sharedBuf: true,
		},
		{
			name: "skb_copy", op: (*Buff).Copy, kind: CopySkb,
			headroom: richHeadroom, end: 320, metaLen: 0,
			headroomTail: metaBytes(), // copied but unreachable
		},
		{
			name: "skb_copy_expand shrinking headroom", op: func(b *Buff) (*Buff, error) { return b.CopyExpand(64, 0) },
			kind: CopyExpand, headroom: 64, end: 320, metaLen: 0, headroomTail: metaBytes(), offShift: -64,
		},
		{
			name: "skb_copy_expand growing headroom", op: func(b *Buff) (*Buff, error) { return b.CopyExpand(256, 32) },
			kind: CopyExpand, headroom: 256, end: withOverhead(1024), metaLen: 0, headroomTail: metaBytes(), offShift: 128,
		},
		{
			name: "pskb_copy", op: (*Buff).PskbCopy, kind: CopyPskb,
			headroom: richHeadroom, end: 320, metaLen: 0,
			headroomTail: strings.Repeat(poison, richMeta), // headroom not copied
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAlloc(t)
			r := newRich(t, a)
			before := snapshot(r.b)
			var hookKind CopyKind = 255
			var hookPair [2]*Buff
			a.AddHooks(Hooks{Copy: func(o, c *Buff, k CopyKind) { hookKind, hookPair = k, [2]*Buff{o, c} }})

			n, err := tt.op(r.b)
			require.NoError(t, err)
			got := snapshot(n)

			want := before
			want.Users, want.Sk, want.HasDestructor = 1, nil, false
			want.Headroom, want.End = tt.headroom, tt.end
			want.Tailroom = tt.end - tt.headroom - richLen
			want.MetaView, want.MetaValid = tt.metaView, tt.metaValid
			want.Fclone = fcloneUnavailable
			if tt.sharedBuf {
				want.Cloned, want.Dataref = true, 2
			} else {
				want.Buffer = got.Buffer
				want.Dataref = 1
				want.Cloned = false
				want.Truesize = trueSize(tt.end)
				// skb_copy_header: only the gso fields of the shared info.
				want.Shinfo = SharedInfo{GSOSize: 1448, GSOSegs: 3, GSOType: GSOTCPv4}
				want.HdrLen = 0
				// mac_len is outside the headers group and only __skb_clone
				// copies it: copies start with mac_len 0.
				want.MacLen = 0
			}
			want.Shinfo.MetaLen = uint8(tt.metaLen)
			if tt.offShift != 0 {
				n2 := *r.b
				n2.off = before.Off
				n2.headersOffsetUpdate(tt.offShift)
				want.Off = n2.off
			}
			if !tt.sharedBuf && tt.offShift == 0 {
				assert.NotSame(t, r.b.buf, n.buf)
			}
			assert.Equal(t, want, got)
			head := n.Head()
			assert.Equal(t, tt.headroomTail, string(head[tt.headroom-richMeta:tt.headroom]), "headroom bytes before the frame")
			assert.Equal(t, frameBytes(richLen), string(n.Data()))
			assert.Equal(t, before.Ext, n.Ext(), "extensions shared by reference")
			assert.Equal(t, 2, n.Ext().Refs())
			assert.Equal(t, 3, r.dst.Refs())
			assert.Equal(t, 3, r.ct.Refs())
			if tt.kind != 255 {
				assert.Equal(t, tt.kind, hookKind)
				assert.Equal(t, [2]*Buff{r.b, n}, hookPair)
			}
			// The original keeps its metadata in every case.
			ov, ok := r.b.Metadata()
			assert.True(t, ok)
			assert.Equal(t, metaBytes(), string(ov))
			n.ConsumeSkb()
			r.b.ConsumeSkb()
			assert.Equal(t, 1, r.storage.destroyed)
			assert.Equal(t, 1, r.destroy)
		})
	}
}

func TestCopyFraglistRefused(t *testing.T) {
	a := newAlloc(t)
	b := mustAlloc(t, a, 0, 10)
	defer b.ConsumeSkb()
	b.Shinfo().GSOType = GSOFraglist
	_, err := b.Copy()
	assert.ErrorIs(t, err, ErrFraglist)
	assert.ErrorIs(t, err, errno.EINVAL)
	_, err = b.CopyExpand(0, 0)
	assert.ErrorIs(t, err, ErrFraglist)
	assert.Equal(t, 2, a.Warnings().SkbCopyFraglist)
}

// TestExpandHeadMeta covers pskb_expand_head on a clone under v6.18
// (meta_len cleared on the private copy) and v6.19 (kept), and the users
// built on it.
func TestExpandHeadMeta(t *testing.T) {
	tests := []struct {
		profile  string
		op       string
		wantMeta int
		nhead    int // expected headroom growth
		copied   bool
	}{
		{"v6.18", "pskb_expand_head(0,0)", 0, 0, true},
		{"v6.19", "pskb_expand_head(0,0)", richMeta, 0, true},
		{"v6.18", "skb_cow(256)", 0, 128, true},
		{"v6.19", "skb_cow(256)", richMeta, 128, true},
		{"v6.18", "skb_cow(8)", 0, 0, true},
		{"v6.18", "skb_cow_head(8) header released", richMeta, 0, false},
		{"v6.18", "skb_unclone", 0, 0, true},
		{"v6.19", "skb_unclone", richMeta, 0, true},
		{"v6.18", "skb_ensure_writable(20)", 0, 0, true},
		{"v6.19", "skb_ensure_writable(20)", richMeta, 0, true},
		{"v6.18", "skb_ensure_writable(20) clone writable", richMeta, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.profile+" "+tt.op, func(t *testing.T) {
			a := newAlloc(t, withProfile(tt.profile))
			r := newRich(t, a)
			other, err := r.b.Clone()
			require.NoError(t, err)
			before := snapshot(r.b)
			oldBuf := r.b.buf
			switch tt.op {
			case "pskb_expand_head(0,0)":
				err = r.b.ExpandHead(0, 0)
			case "skb_cow(256)":
				err = r.b.Cow(256)
			case "skb_cow(8)":
				err = r.b.Cow(8)
			case "skb_cow_head(8) header released":
				other.HeaderRelease()
				err = r.b.CowHead(8)
			case "skb_unclone":
				err = r.b.Unclone()
			case "skb_ensure_writable(20)":
				err = r.b.EnsureWritable(20)
			case "skb_ensure_writable(20) clone writable":
				r.b.hdrLen = uint16(richHeadroom + 20)
				before.HdrLen = richHeadroom + 20
				other.HeaderRelease()
				err = r.b.EnsureWritable(20)
			}
			require.NoError(t, err)
			got := snapshot(r.b)
			if !tt.copied {
				assert.Same(t, oldBuf, r.b.buf)
				assert.Equal(t, tt.wantMeta, r.b.MetadataLen())
				other.ConsumeSkb()
				r.b.ConsumeSkb()
				return
			}
			want := before
			want.Buffer = got.Buffer
			want.Headroom += tt.nhead
			want.End = got.End
			want.Tailroom = got.End - want.Headroom - richLen
			want.Cloned, want.Nohdr, want.HdrLen, want.Dataref = false, false, 0, 1
			want.HeadFrag = false
			want.Shinfo.MetaLen = uint8(tt.wantMeta)
			if tt.wantMeta != 0 {
				want.MetaView, want.MetaValid = metaBytes(), true
			} else {
				want.MetaView, want.MetaValid = "", false
			}
			n2 := *r.b
			n2.off = before.Off
			n2.headersOffsetUpdate(tt.nhead)
			want.Off = n2.off
			assert.Equal(t, want, got)
			assert.NotSame(t, oldBuf, r.b.buf)
			// Whole head copied: the metadata bytes moved with the frame.
			assert.Equal(t, metaBytes(), string(r.b.Head()[want.Headroom-richMeta:want.Headroom]))
			// The other clone keeps the old buffer, its shared info and meta.
			assert.Same(t, oldBuf, other.buf)
			assert.Equal(t, 1, other.Dataref())
			ov, ok := other.Metadata()
			assert.True(t, ok)
			assert.Equal(t, metaBytes(), string(ov))
			// Writes no longer cross.
			r.b.Data()[0] = 0xff
			assert.Equal(t, byte(0), other.Data()[0])
			other.ConsumeSkb()
			r.b.ConsumeSkb()
		})
	}
}

func TestExpandHeadSizesAndTruesize(t *testing.T) {
	a := newAlloc(t)
	b := mustAlloc(t, a, 0, 100) // small head: end 320
	require.Equal(t, 320, b.EndOffset())
	require.Equal(t, trueSize(320), b.Truesize())
	require.NoError(t, b.ExpandHead(64, 1000))
	// kmalloc_reserve(320+64+1000) -> SKB_HEAD_ALIGN = 1408+320 = 1728 -> kmalloc-2048
	assert.Equal(t, withOverhead(2048), b.EndOffset())
	assert.Equal(t, 64, b.Headroom())
	assert.Equal(t, trueSize(320)+withOverhead(2048)-320, b.Truesize())
	assert.Equal(t, frameBytes(100), string(b.Data()))
	b.SetOwner(struct{}{}, nil)
	ts := b.Truesize()
	require.NoError(t, b.ExpandHead(0, 0))
	assert.Equal(t, ts, b.Truesize(), "truesize kept when owned by a socket")
	b.ConsumeSkb()
}

func TestExpandHeadMisuseAndENOMEM(t *testing.T) {
	a := newAlloc(t)
	b := mustAlloc(t, a, 16, 50)
	defer b.ConsumeSkb()
	b.Get()
	msg := mustPanic(t, func() { _ = b.ExpandHead(0, 0) })
	assert.Contains(t, msg, "shared")
	b.ConsumeSkb()
	assert.Panics(t, func() { _ = b.ExpandHead(-1, 0) })

	c, err := b.Clone()
	require.NoError(t, err)
	defer c.ConsumeSkb()
	before := snapshot(b)
	a.acct.SetFault(kmem.Fault{Nth: 1})
	err = b.Cow(200)
	assert.True(t, errors.Is(err, errno.ENOMEM))
	assert.Equal(t, before, snapshot(b), "pskb_expand_head failure leaves the skb unchanged")
	a.acct.SetFault(kmem.Fault{})
	err = b.EnsureWritable(51)
	assert.ErrorIs(t, err, ErrNoMemPull)
}

func TestUnshare(t *testing.T) {
	a := newAlloc(t)
	r := newRich(t, a)
	// Not cloned: the same skb comes back.
	same, err := r.b.Unshare()
	require.NoError(t, err)
	assert.Same(t, r.b, same)
	c, err := r.b.Clone()
	require.NoError(t, err)
	var freed []DropReason
	a.AddHooks(Hooks{Free: func(_ *Buff, reason DropReason) { freed = append(freed, reason) }})
	n, err := c.Unshare()
	require.NoError(t, err)
	assert.Equal(t, []DropReason{SkbConsumed}, freed, "the clone was consumed")
	assert.Equal(t, 0, n.MetadataLen(), "skb_unshare loses meta_len")
	assert.Equal(t, 1, r.b.Dataref())
	// Copy failure frees the original too.
	c2, err := r.b.Clone()
	require.NoError(t, err)
	a.acct.SetFault(kmem.Fault{Nth: 1})
	n2, err := c2.Unshare()
	assert.Nil(t, n2)
	assert.True(t, errors.Is(err, errno.ENOMEM))
	assert.Equal(t, DropNomem, freed[len(freed)-1])
	a.acct.SetFault(kmem.Fault{})
	n.ConsumeSkb()
	r.b.ConsumeSkb()
}

func TestReallocHeadroom(t *testing.T) {
	a := newAlloc(t)
	r := newRich(t, a)
	n, err := r.b.ReallocHeadroom(64)
	require.NoError(t, err)
	assert.Equal(t, richHeadroom, n.Headroom(), "pskb_copy path keeps the headroom")
	assert.Equal(t, 0, n.MetadataLen())
	n.ConsumeSkb()
	n, err = r.b.ReallocHeadroom(200)
	require.NoError(t, err)
	assert.Equal(t, richHeadroom+128, n.Headroom(), "clone + pskb_expand_head(SKB_DATA_ALIGN(72))")
	assert.True(t, bytes.Equal(n.Data(), r.b.Data()))
	assert.Equal(t, 1, r.b.Dataref())
	n.ConsumeSkb()
	r.b.ConsumeSkb()
}
