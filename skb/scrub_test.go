package skb

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestScrub(t *testing.T) {
	const edt = int64(5_000_000)
	tests := []struct {
		name    string
		profile func(*Profile)
		xnet    bool
		edt     bool
		// expectations
		mark      uint32
		tstamp    int64
		ipvs      bool
		skKept    bool
		destroyed int // destructor runs
	}{
		{name: "same netns", xnet: false, mark: 0xfeed, tstamp: 1_000_000_007, ipvs: false, skKept: true},
		{name: "crossing netns", xnet: true, mark: 0, tstamp: 0, ipvs: false, skKept: true},
		{name: "crossing netns with EDT", xnet: true, edt: true, mark: 0, tstamp: edt, ipvs: false, skKept: true},
		{
			name: "crossing netns with EDT before v5.18", xnet: true, edt: true,
			profile: func(p *Profile) { p.ScrubKeepsDeliveryTime = false },
			mark:    0, tstamp: 0, skKept: true,
		},
		{
			name: "same netns before the 2025 ipvs change", xnet: false,
			profile: func(p *Profile) { p.ScrubIPVSAlways = false },
			mark:    0xfeed, tstamp: 1_000_000_007, ipvs: true, skKept: true,
		},
		{
			name: "crossing netns before v4.19 orphans", xnet: true,
			profile: func(p *Profile) { p.ScrubKeepsSock = false },
			mark:    0, tstamp: 0, skKept: false, destroyed: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []func(*Profile)
			if tt.profile != nil {
				opts = append(opts, tt.profile)
			}
			a := newAlloc(t, opts...)
			r := newRich(t, a)
			if tt.edt {
				r.b.SetDeliveryTime(edt, ClockMonotonic)
			}
			before := snapshot(r.b)
			var order []string
			a.AddHooks(Hooks{
				ScrubBefore: func(b *Buff, xnet bool) {
					assert.Equal(t, tt.xnet, xnet)
					assert.NotNil(t, b.ExtFind(ExtBPFStorage), "extensions still there before the reset")
					assert.Nil(t, b.dst, "dst is dropped before the extension reset")
					order = append(order, "before")
				},
				ScrubAfter: func(b *Buff, xnet bool) {
					assert.Zero(t, b.ExtActive())
					assert.Equal(t, 1, r.storage.destroyed, "the reset put the last reference")
					order = append(order, "after")
				},
			})

			r.b.Scrub(tt.xnet)

			want := before
			want.Hdr.PktType = PacketHost
			want.Hdr.SkbIIF = 0
			want.Hdr.IgnoreDF = false
			want.Hdr.NfTrace = false
			want.Hdr.OffloadFwdMark = false
			want.Hdr.OffloadL3FwdMark = false
			want.Hdr.IPVSProperty = tt.ipvs
			want.Hdr.Mark = tt.mark
			want.Hdr.Tstamp = tt.tstamp
			want.Dst, want.Nfct, want.Ctinfo = nil, nil, 0
			want.ExtActive, want.Ext = 0, nil
			if !tt.skKept {
				want.Sk, want.HasDestructor = nil, false
			}
			assert.Equal(t, want, snapshot(r.b))
			assert.Equal(t, []string{"before", "after"}, order)
			assert.Equal(t, 1, r.dst.Refs(), "dst released")
			assert.Equal(t, 1, r.ct.Refs(), "conntrack released")
			assert.Equal(t, tt.destroyed, r.destroy)
			// XDP metadata, priority, hash, cb, tc_index survive.
			v, ok := r.b.Metadata()
			assert.True(t, ok)
			assert.Equal(t, metaBytes(), string(v))
			r.b.ConsumeSkb()
			assert.Equal(t, 1, r.storage.destroyed)
		})
	}
}

func TestScrubSharedExtension(t *testing.T) {
	a := newAlloc(t)
	r := newRich(t, a)
	c, err := r.b.Clone()
	if !assert.NoError(t, err) {
		return
	}
	c.Scrub(true)
	assert.Zero(t, c.ExtActive())
	assert.Equal(t, 1, r.b.Ext().Refs(), "the original keeps the object")
	assert.Equal(t, 0, r.storage.destroyed)
	assert.Equal(t, uint32(0xfeed), r.b.H().Mark)
	c.ConsumeSkb()
	r.b.ConsumeSkb()
	assert.Equal(t, 1, r.storage.destroyed)
}

func TestSetDeliveryTimeAndClearTstamp(t *testing.T) {
	tests := []struct {
		profile string
		typ     TstampType
		kt      int64
		want    TstampType
	}{
		{"v6.18", ClockTAI, 10, ClockTAI},
		{"v6.6", ClockTAI, 10, ClockMonotonic},
		{"v6.18", ClockMonotonic, 0, ClockRealtime},
	}
	for _, tt := range tests {
		a := newAlloc(t, withProfile(tt.profile))
		b := mustAlloc(t, a, 0, 1)
		b.SetDeliveryTime(tt.kt, tt.typ)
		assert.Equal(t, tt.want, b.H().TstampType, "%s %v", tt.profile, tt.typ)
		b.ClearTstamp()
		if tt.want == ClockRealtime {
			assert.Zero(t, b.H().Tstamp)
		} else {
			assert.Equal(t, tt.kt, b.H().Tstamp)
		}
		b.ConsumeSkb()
	}
}
