package skb

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestGeometry(t *testing.T) {
	type geo struct{ Headroom, Len, Tailroom, Data int }
	tests := []struct {
		name string
		op   func(t *testing.T, b *Buff)
		want geo
	}{
		{"fresh alloc_skb(100)", func(*testing.T, *Buff) {}, geo{0, 0, 320, 0}},
		{"reserve 64", func(_ *testing.T, b *Buff) { b.Reserve(64) }, geo{64, 0, 256, 64}},
		{"reserve+put", func(_ *testing.T, b *Buff) { b.Reserve(64); b.Put(100) }, geo{64, 100, 156, 64}},
		{"push 14", func(_ *testing.T, b *Buff) { b.Reserve(64); b.Put(100); b.Push(14) }, geo{50, 114, 156, 50}},
		{"pull 20", func(t *testing.T, b *Buff) {
			b.Reserve(64)
			b.Put(100)
			d, ok := b.Pull(20)
			assert.True(t, ok)
			assert.Len(t, d, 80)
		}, geo{84, 80, 156, 84}},
		{"pull past len fails and changes nothing", func(t *testing.T, b *Buff) {
			b.Reserve(64)
			b.Put(100)
			d, ok := b.Pull(101)
			assert.False(t, ok)
			assert.Nil(t, d)
		}, geo{64, 100, 156, 64}},
		{"pull everything", func(t *testing.T, b *Buff) {
			b.Reserve(64)
			b.Put(100)
			_, ok := b.Pull(100)
			assert.True(t, ok)
		}, geo{164, 0, 156, 164}},
		{"trim", func(_ *testing.T, b *Buff) { b.Reserve(64); b.Put(100); b.Trim(40) }, geo{64, 40, 216, 64}},
		{"trim longer is a no-op", func(_ *testing.T, b *Buff) { b.Reserve(64); b.Put(100); b.Trim(400) }, geo{64, 100, 156, 64}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAlloc(t)
			b, err := a.AllocSkb(100)
			if !assert.NoError(t, err) {
				return
			}
			defer b.ConsumeSkb()
			tt.op(t, b)
			got := geo{b.Headroom(), b.Len(), b.Tailroom(), b.Headroom()}
			assert.Equal(t, tt.want, got)
			assert.Equal(t, b.Len(), len(b.Data()), "len == tail - data")
			assert.Equal(t, b.EndOffset(), b.Headroom()+b.Len()+b.Tailroom())
		})
	}
}

func TestGeometryPanics(t *testing.T) {
	a := newAlloc(t)
	b := mustAlloc(t, a, 16, 10)
	defer b.ConsumeSkb()
	msg := mustPanic(t, func() { b.Push(17) })
	assert.Contains(t, msg, "skb_under_panic")
	assert.Contains(t, msg, "headroom:16")
	assert.Equal(t, "skb_under_panic: skb_push:17 len:10 headroom:16 tail:26 end:320 dev:0", msg)
	assert.Equal(t, 16, b.Headroom(), "no change after the panic")
	msg = mustPanic(t, func() { b.Put(b.Tailroom() + 1) })
	assert.Contains(t, msg, "skb_over_panic")
	assert.Equal(t, "skb_over_panic: put:295 len:10 headroom:16 tail:26 end:320 dev:0", msg)
	assert.Equal(t, 10, b.Len(), "no change after the panic")
	assert.Panics(t, func() { b.Push(-1) }, "negative push")
	assert.Panics(t, func() { b.Put(-1) }, "negative put")
	msg = mustPanic(t, func() { b.Reserve(1) })
	assert.Contains(t, msg, "skb: skb_reserve(1) on skb#", "reserve on a non-empty skb")
	msg = mustPanic(t, func() { b.SetMacHeader(-17) })
	assert.Contains(t, msg, "skb: skb_set_mac_header(-17) outside the buffer of skb#")
	assert.Panics(t, func() { b.MacOffset() })
}

func TestHeaderOffsets(t *testing.T) {
	a := newAlloc(t)
	b := mustAlloc(t, a, 32, 60)
	defer b.ConsumeSkb()
	assert.False(t, b.MacHeaderWasSet())
	assert.False(t, b.TransportHeaderWasSet())
	assert.Equal(t, -1, b.MacHeader())
	b.ResetMacHeader()
	b.SetNetworkHeader(14)
	b.SetTransportHeader(34)
	b.ResetMacLen()
	assert.Equal(t, 32, b.MacHeader())
	assert.Equal(t, 46, b.NetworkHeader())
	assert.Equal(t, 66, b.TransportHeader())
	assert.Equal(t, 14, b.MacLen())
	b.Pull(14)
	assert.Equal(t, -14, b.MacOffset())
	assert.Equal(t, 0, b.NetworkOffset())
	b.ResetNetworkHeader()
	b.ResetTransportHeader()
	assert.Equal(t, 46, b.TransportHeader())
	b.UnsetMacHeader()
	b.ResetMacLen()
	assert.Equal(t, 0, b.MacLen())
	b.SetMacLen(14)
	assert.Equal(t, 14, b.MacLen())
}

func TestPutDataPushContents(t *testing.T) {
	a := newAlloc(t)
	b := mustAlloc(t, a, 20, 0)
	defer b.ConsumeSkb()
	b.PutData([]byte("payload"))
	copy(b.Push(4), "hdr:")
	assert.Equal(t, "hdr:payload", string(b.Data()))
	assert.True(t, b.MayPull(11))
	assert.False(t, b.MayPull(12))
}

// TestResetRxHeaders checks ResetRxHeaders against the four calls it
// stands for in __netif_receive_skb_core.
func TestResetRxHeaders(t *testing.T) {
	tests := []struct {
		name string
		prep func(b *Buff)
	}{
		{"nothing set", func(*Buff) {}},
		{"mac header at data", func(b *Buff) { b.ResetMacHeader() }},
		{"mac header pulled", func(b *Buff) { b.ResetMacHeader(); b.Pull(14) }},
		{"transport header set", func(b *Buff) { b.ResetMacHeader(); b.Pull(14); b.SetTransportHeader(20) }},
		{"transport set, mac unset", func(b *Buff) { b.SetTransportHeader(8); b.Pull(4) }},
	}
	type hdrs struct{ Mac, Network, Transport, MacLen int }
	get := func(b *Buff) hdrs { return hdrs{b.MacHeader(), b.NetworkHeader(), b.TransportHeader(), b.MacLen()} }
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAlloc(t)
			want, got := mustAlloc(t, a, 32, 60), mustAlloc(t, a, 32, 60)
			defer want.ConsumeSkb()
			defer got.ConsumeSkb()
			tt.prep(want)
			tt.prep(got)
			want.ResetNetworkHeader()
			if !want.TransportHeaderWasSet() {
				want.ResetTransportHeader()
			}
			want.ResetMacLen()
			got.ResetRxHeaders()
			assert.Equal(t, get(want), get(got))
		})
	}
	a := newAlloc(t)
	b := mustAlloc(t, a, 0, 10)
	b.ConsumeSkb()
	assert.Contains(t, mustPanic(t, func() { b.ResetRxHeaders() }), "use after free: skb_reset_network_header")
}
