package skb

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMetadataView(t *testing.T) {
	tests := []struct {
		name      string
		op        func(b *Buff)
		wantLen   int
		wantView  func(head []byte) string // "" for nil
		wantValid bool
	}{
		{
			name: "as set", op: func(b *Buff) {}, wantLen: richMeta,
			wantView: func([]byte) string { return metaBytes() }, wantValid: true,
		},
		{
			name: "outer header pushed over it (encap)",
			op: func(b *Buff) {
				h := b.Push(EthHlen)
				for i := range h {
					h[i] = 0xee
				}
			},
			wantLen:  richMeta,
			wantView: func([]byte) string { return metaBytes()[:2] + string(make14(0xee)) },
		},
		{
			name: "pull then push back the same header does not overwrite",
			op: func(b *Buff) {
				b.Pull(EthHlen)
				b.Push(EthHlen)
			},
			wantLen: richMeta, wantView: func([]byte) string { return metaBytes() }, wantValid: true,
		},
		{
			name: "a push below the metadata (by a clone) does not overwrite it",
			op: func(b *Buff) {
				c, err := b.Clone()
				if err != nil {
					panic(err)
				}
				defer c.ConsumeSkb()
				b.Pull(EthHlen + 8)
				b.MetadataSet(8)
				b.ResetMacHeader()
				c.Push(4) // [data-4, data) of the clone, before the metadata
			},
			wantLen:   8,
			wantView:  func(head []byte) string { return string(head[richHeadroom+EthHlen : richHeadroom+EthHlen+8]) },
			wantValid: true,
		},
		{
			name: "a push ending inside the metadata overwrites it",
			op: func(b *Buff) {
				b.Pull(EthHlen)
				b.MetadataSet(8)
				b.ResetMacHeader()
				b.Pull(2)
				b.Push(10) // [hi-8, hi+2): starts at lo, ends past hi
			},
			wantLen:  8,
			wantView: func(head []byte) string { return string(head[richHeadroom+EthHlen-8 : richHeadroom+EthHlen]) },
		},
		{
			name: "mac header moved by decapsulation",
			op: func(b *Buff) {
				b.Pull(EthHlen)
				b.ResetMacHeader()
			},
			wantLen:  richMeta,
			wantView: func(head []byte) string { return string(head[richHeadroom+EthHlen-richMeta : richHeadroom+EthHlen]) },
		},
		{
			name: "mac header unset", op: func(b *Buff) { b.UnsetMacHeader() },
			wantLen: richMeta, wantView: func([]byte) string { return "" },
		},
		{
			name: "cleared", op: func(b *Buff) { b.MetadataClear() },
			wantLen: 0, wantView: func([]byte) string { return "" },
		},
		{
			name: "set again at the new place after decapsulation",
			op: func(b *Buff) {
				b.Pull(EthHlen)
				b.MetadataSet(8)
				b.ResetMacHeader()
			},
			wantLen:   8,
			wantView:  func(head []byte) string { return string(head[richHeadroom+EthHlen-8 : richHeadroom+EthHlen]) },
			wantValid: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAlloc(t)
			r := newRich(t, a)
			defer r.b.ConsumeSkb()
			tt.op(r.b)
			view, valid := r.b.Metadata()
			assert.Equal(t, tt.wantLen, r.b.MetadataLen())
			assert.Equal(t, tt.wantView(r.b.Head()), string(view))
			assert.Equal(t, tt.wantValid, valid)
		})
	}
}

// TestDataMeta: __sk_buff->data_meta is data minus meta_len. With data
// at the mac header it is the metadata, as Metadata shows it; with data
// past the mac header (tc on an skb whose mac_len is stale, 0) it is the
// end of the Ethernet header, not valid, while Metadata, computed from the
// mac header, still finds the metadata.
func TestDataMeta(t *testing.T) {
	a := newAlloc(t)
	r := newRich(t, a)
	defer r.b.ConsumeSkb()
	view, valid := r.b.DataMeta()
	require.True(t, valid)
	require.Equal(t, metaBytes(), string(view))

	r.b.Pull(EthHlen) // data at the network header, the mac header unmoved
	view, valid = r.b.DataMeta()
	require.False(t, valid)
	require.Equal(t, string(r.b.Head()[richHeadroom+EthHlen-richMeta:richHeadroom+EthHlen]), string(view))
	mview, mvalid := r.b.Metadata()
	require.True(t, mvalid)
	require.Equal(t, metaBytes(), string(mview))

	r.b.MetadataSet(0)
	view, valid = r.b.DataMeta()
	require.Nil(t, view)
	require.False(t, valid)
}

func make14(v byte) []byte {
	p := make([]byte, EthHlen)
	for i := range p {
		p[i] = v
	}
	return p
}

func TestPushPullMove(t *testing.T) {
	tests := []struct {
		name      string
		profile   string
		op        func(b *Buff) []byte
		macDelta  int // applied after the op, like mac_header -= VLAN_HLEN
		wantLen   int
		wantValid bool
		wantWarn  int
		wantView  string
		gapAt     int // offset of the returned gap from data; -1 when not checked
	}{
		{
			name: "v6.19 VLAN insert moves metadata", profile: "v6.19",
			op:       func(b *Buff) []byte { return b.PushMove(VlanHlen, 2*6) },
			macDelta: -VlanHlen, wantLen: richMeta, wantValid: true, wantView: metaBytes(), gapAt: 12,
		},
		{
			name: "v6.18 VLAN insert overwrites metadata", profile: "v6.18",
			op:       func(b *Buff) []byte { return b.PushMove(VlanHlen, 2*6) },
			macDelta: -VlanHlen, wantLen: richMeta, wantValid: false, gapAt: 12,
		},
		{
			name: "v6.19 change_head (n = 0)", profile: "v6.19",
			op:       func(b *Buff) []byte { return b.PushMove(EthHlen, 0) },
			macDelta: -EthHlen, wantLen: richMeta, wantValid: true, wantView: metaBytes(), gapAt: 0,
		},
		{
			name: "v6.19 metadata not before data: WARN and clear", profile: "v6.19",
			op: func(b *Buff) []byte {
				b.Pull(EthHlen) // data at the network header
				return b.PushMove(8, 0)
			},
			wantLen: 0, wantWarn: 1, gapAt: 0,
		},
		{
			name: "v6.19 VLAN pop moves metadata up", profile: "v6.19",
			op: func(b *Buff) []byte {
				d, ok := b.PullMove(VlanHlen, 2*6)
				if !ok {
					panic("pull")
				}
				return d
			},
			macDelta: VlanHlen, wantLen: richMeta, wantValid: true, wantView: metaBytes(), gapAt: -1,
		},
		{
			name: "v6.18 VLAN pop leaves metadata behind", profile: "v6.18",
			op: func(b *Buff) []byte {
				d, _ := b.PullMove(VlanHlen, 2*6)
				return d
			},
			macDelta: VlanHlen, wantLen: richMeta, wantValid: false, gapAt: -1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAlloc(t, withProfile(tt.profile))
			r := newRich(t, a)
			defer r.b.ConsumeSkb()
			macs := string(r.b.Data()[:12])
			gap := tt.op(r.b)
			r.b.off.mac = uint16(int(r.b.off.mac) + tt.macDelta)
			view, valid := r.b.Metadata()
			assert.Equal(t, tt.wantLen, r.b.MetadataLen())
			assert.Equal(t, tt.wantValid, valid)
			if tt.wantView != "" {
				assert.Equal(t, tt.wantView, string(view))
			}
			assert.Equal(t, tt.wantWarn, a.Warnings().DataMoveMeta)
			if tt.gapAt >= 0 {
				assert.Equal(t, &r.b.Head()[r.b.Headroom()+tt.gapAt], &gap[0])
			}
			if tt.name == "v6.19 VLAN insert moves metadata" || tt.name == "v6.18 VLAN insert overwrites metadata" {
				assert.Equal(t, macs, string(r.b.Data()[:12]), "MAC addresses moved to the new start")
			}
		})
	}
}

func TestPushMoveHeadroomWarn(t *testing.T) {
	a := newAlloc(t, withProfile("v6.19"))
	b := mustAlloc(t, a, 20, 40)
	defer b.ConsumeSkb()
	b.MetadataSet(16)
	b.ResetMacHeader()
	b.PushMove(VlanHlen, 12) // headroom 16 >= meta_len 16
	assert.Equal(t, 16, b.MetadataLen())
	b.ResetMacHeader()
	b.PushMove(VlanHlen, 12) // headroom 12 < 16: WARN, clear
	assert.Equal(t, 0, b.MetadataLen())
	assert.Equal(t, 1, a.Warnings().DataMoveMeta)
}

func TestMoveMetadata(t *testing.T) {
	a := newAlloc(t)
	r := newRich(t, a)
	defer r.b.ConsumeSkb()
	// skb_reorder_vlan_header: memmove(meta + VLAN_HLEN, meta, meta_len);
	// mac_header += VLAN_HLEN.
	r.b.MoveMetadata(VlanHlen)
	r.b.off.mac += VlanHlen
	v, ok := r.b.Metadata()
	assert.True(t, ok)
	assert.Equal(t, metaBytes(), string(v))
}

func TestMetadataDiffers(t *testing.T) {
	a := newAlloc(t)
	mk := func(meta []byte) *Buff {
		b := mustAlloc(t, a, 64, 20)
		copy(b.Head()[64-len(meta):64], meta)
		b.MetadataSet(len(meta))
		b.ResetMacHeader()
		return b
	}
	tests := []struct {
		name string
		x, y []byte
		want bool
	}{
		{"no metadata", nil, nil, false},
		{"one side only", []byte{1, 2, 3, 4}, nil, true},
		{"different lengths", []byte{1, 2, 3, 4}, []byte{1, 2, 3, 4, 5, 6, 7, 8}, true},
		{"same bytes", []byte{1, 2, 3, 4, 5, 6, 7, 8}, []byte{1, 2, 3, 4, 5, 6, 7, 8}, false},
		{"different bytes", []byte{1, 2, 3, 4}, []byte{1, 2, 3, 5}, true},
		{"over 32 bytes", make([]byte, 40), append(make([]byte, 39), 1), true},
	}
	for _, tt := range tests {
		x, y := mk(tt.x), mk(tt.y)
		assert.Equal(t, tt.want, MetadataDiffers(x, y), tt.name)
		assert.Equal(t, tt.want, MetadataDiffers(y, x), tt.name)
		x.ConsumeSkb()
		y.ConsumeSkb()
	}
	b := mk([]byte{9, 9, 9, 9})
	c, err := b.Clone()
	require.NoError(t, err)
	assert.False(t, MetadataDiffers(b, c), "clones share the bytes")
	b.ConsumeSkb()
	c.ConsumeSkb()
}

func TestBuildSkbXDPPass(t *testing.T) {
	a := newAlloc(t)
	// Driver: XDP buffer of a 2048-byte frame, XDP_PACKET_HEADROOM, program
	// wrote 8 bytes of metadata; napi_build_skb + skb_reserve + __skb_put +
	// skb_metadata_set + eth_type_trans.
	b, err := a.BuildSkb(2048)
	require.NoError(t, err)
	defer b.ConsumeSkb()
	assert.True(t, b.HeadFrag())
	assert.Equal(t, 2048-SizeofSharedInfo, b.EndOffset())
	b.Reserve(XDPPacketHeadroom)
	copy(b.Put(60), make14(0x11))
	copy(b.Head()[XDPPacketHeadroom-8:], []byte("metadata"))
	b.MetadataSet(8)
	b.ResetMacHeader() // eth_type_trans
	b.Pull(EthHlen)
	v, ok := b.Metadata()
	assert.True(t, ok)
	assert.Equal(t, "metadata", string(v))
	st := a.acct.Stats()
	assert.Equal(t, uint64(1), st.BySite[sitePagePool].Allocs)
	assert.Equal(t, uint64(2048), st.BySite[sitePagePool].BytesOccupied)
}

func TestMetalenInvalid(t *testing.T) {
	old, _ := ProfileByName("v6.6")
	cur := DefaultProfile()
	for _, tt := range []struct {
		n          int
		old, newer bool
	}{{4, false, false}, {6, true, true}, {32, false, false}, {36, true, false}, {252, true, false}, {256, true, true}} {
		assert.Equal(t, tt.old, old.MetalenInvalid(tt.n), "v6.6 %d", tt.n)
		assert.Equal(t, tt.newer, cur.MetalenInvalid(tt.n), "v6.18 %d", tt.n)
	}
}
