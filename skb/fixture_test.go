package skb

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// richSkb is an skb with every kind of state set: 128 bytes of headroom
// with 16 bytes of XDP metadata right before the frame, a 100-byte frame
// whose data starts at the mac header (network header at 14, transport at
// 34), every Header field set, a dst, a conntrack, a socket with a
// destructor, TC and BPF storage extensions, and gso/hwtstamp shared info.
type richSkb struct {
	b       *Buff
	dst, ct *Handle
	storage *fakeStorage
	sock    *struct{ name string }
	destroy int // destructor runs
}

const (
	richHeadroom = 128
	richLen      = 100
	richMeta     = 16
)

func newRich(tb testing.TB, a *Allocator) *richSkb {
	tb.Helper()
	r := &richSkb{dst: NewHandle("dst"), ct: NewHandle("ct"), storage: &fakeStorage{name: "rich"},
		sock: &struct{ name string }{"sk"}}
	b, err := a.AllocSkb(richHeadroom + richLen)
	require.NoError(tb, err)
	r.b = b
	b.Reserve(richHeadroom)
	d := b.Put(richLen)
	for i := range d {
		d[i] = byte(i)
	}
	meta := b.Head()[richHeadroom-richMeta : richHeadroom]
	for i := range meta {
		meta[i] = byte(0xa0 + i)
	}
	b.MetadataSet(richMeta)
	b.ResetMacHeader()
	b.SetNetworkHeader(14)
	b.SetTransportHeader(34)
	b.SetInnerHeaders(50, 64, 84)
	b.ResetMacLen()
	fillHeader(b.H())
	b.H().IPSummed = ChecksumPartial
	b.SetCsumStart(34)
	b.DstSet(r.dst)
	r.dst.Hold() // the test keeps its own reference
	b.SetNfct(r.ct, 2)
	r.ct.Hold()
	b.SetOwner(r.sock, func(*Buff) { r.destroy++ })
	_, err = b.ExtAdd(ExtTC)
	require.NoError(tb, err)
	e, err := b.ExtAdd(ExtBPFStorage)
	require.NoError(tb, err)
	e.Chunk(ExtTC)[0] = 0x5a
	e.SetStorage(r.storage)
	sh := b.Shinfo()
	sh.GSOSize, sh.GSOSegs, sh.GSOType, sh.HwTstamp, sh.TxFlags, sh.Tskey = 1448, 3, GSOTCPv4, 555, 1, 9
	return r
}

// metaBytes are the bytes newRich writes as metadata.
func metaBytes() string {
	p := make([]byte, richMeta)
	for i := range p {
		p[i] = byte(0xa0 + i)
	}
	return string(p)
}

func frameBytes(n int) string {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(i)
	}
	return string(p)
}
