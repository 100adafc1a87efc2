package carrier_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/internal/errno"
	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/localstorage"
	"github.com/skbsim/skbsim/skb"
)

// The reference models below restate each design's documented semantics
// in the plainest terms: skbs, the extension objects and data buffers they
// share, and the values the design keeps. The machine drives the real
// carrier and the model side by side; every observation and the
// accountant's live objects must agree after every step.

const (
	idTC  = uint8(1 << skb.ExtTC)
	idBPF = uint8(1 << skb.ExtBPFStorage)
)

// mExt is an skb_ext object: its active ids (the same on every sharer),
// refcount, and the design's contents (ext-buffer: the buffer; rfc: the
// storage).
type mExt struct {
	refs int
	ids  uint8
	buf  [][]byte // ext-buffer: per map value, nil when absent
	st   *mStorage
}

type mStorage struct {
	vals          [][]byte
	embeddedAlive bool // rfc-coalloc: the co-allocated first element is linked
	embeddedMap   int
}

func (s *mStorage) n() int {
	k := 0
	for _, v := range s.vals {
		if v != nil {
			k++
		}
	}
	return k
}

// mHead is a data buffer and its shared info: the XDP metadata.
type mHead struct {
	refs  int
	meta  [][]byte // per map value; nil slice: no metadata
	valid bool
}

type mSkb struct {
	b      *skb.Buff
	ext    *mExt
	head   *mHead
	cloned bool
	fresh  bool // data at the frame start, never cloned, pushed or copied into: XDP may run
}

type refModel interface {
	store(h *harness, s *mSkb, hook carrier.Hook, m int, v []byte) errno.Errno
	lookup(h *harness, s *mSkb, hook carrier.Hook, m int) ([]byte, errno.Errno)
	del(h *harness, s *mSkb, hook carrier.Hook, m int) errno.Errno
	cloned(h *harness, orig, n *mSkb)
	copied(h *harness, orig, n *mSkb)
	cow(old, n *mExt)
	freeing(h *harness, s *mSkb)
	// objects is the accountant objects the design holds beyond skb/'s;
	// ok false means the model cannot tell at this step.
	objects(h *harness) (n int64, ok bool)
}

type harness struct {
	t        *rapid.T
	name     string
	c        carrier.Carrier
	env      carrier.Env
	maps     []carrier.MapSpec
	model    refModel
	skbs     []*mSkb
	base     int64 // accountant objects of the empty carrier
	lastOp   string
	keepMeta bool
}

// --- the generic skb model ---

func (h *harness) extPut(e *mExt) {
	if e == nil {
		return
	}
	e.refs--
	if e.refs < 0 {
		panic("model: ext refcount below zero")
	}
}

// extAdd models skb_ext_add on the model skb: a new object, a bit on a
// private one, or a COW of a shared one (the design decides what the copy
// carries). It returns whether a new object was made.
func (h *harness) extAdd(s *mSkb, id uint8) {
	switch {
	case s.ext == nil:
		s.ext = &mExt{refs: 1, ids: id}
	case s.ext.refs > 1:
		n := &mExt{refs: 1, ids: s.ext.ids | id}
		h.model.cow(s.ext, n)
		s.ext.refs--
		s.ext = n
	default:
		s.ext.ids |= id
	}
}

func (h *harness) liveExts() int {
	seen := map[*mExt]bool{}
	for _, s := range h.skbs {
		if s.ext != nil {
			seen[s.ext] = true
		}
	}
	return len(seen)
}

func (h *harness) pick(t *rapid.T) *mSkb {
	if len(h.skbs) == 0 {
		t.Skip("no skb")
	}
	return h.skbs[rapid.IntRange(0, len(h.skbs)-1).Draw(t, "skb")]
}

func (h *harness) alloc(t *rapid.T) {
	b := rxSkb(t, h.env.Alloc)
	h.skbs = append(h.skbs, &mSkb{b: b, head: &mHead{refs: 1}, fresh: true})
}

func (h *harness) hook(t *rapid.T, s *mSkb) carrier.Hook {
	hk := rapid.SampledFrom([]carrier.Hook{carrier.HookXDP, carrier.HookTCIngress, carrier.HookTCEgress,
		carrier.HookCgroupIngress, carrier.HookTracepoint}).Draw(t, "hook")
	if hk == carrier.HookXDP && !s.fresh {
		hk = carrier.HookTCIngress // XDP runs before anything else touches the frame
	}
	return hk
}

func (h *harness) check(t *rapid.T) {
	a := h.env.Alloc.Live()
	require.Equal(t, h.liveExts(), a.Exts, "live skb_ext objects after %s", h.lastOp)
	n, ok := h.model.objects(h)
	if !ok {
		return
	}
	st := h.env.Acct.Stats()
	skbObjs := int64(a.Skbs + a.Buffers + a.Exts)
	require.Equal(t, h.base+skbObjs+n, st.LiveObjects-st.PendingRCU, "accountant live objects after %s", h.lastOp)
}

func (h *harness) actions() map[string]func(*rapid.T) {
	return map[string]func(*rapid.T){
		"alloc": func(t *rapid.T) {
			if len(h.skbs) >= 6 {
				t.Skip("enough skbs")
			}
			h.alloc(t)
			h.lastOp = "alloc"
		},
		"store": func(t *rapid.T) {
			s := h.pick(t)
			hk := h.hook(t, s)
			m := rapid.IntRange(0, len(h.maps)-1).Draw(t, "map")
			v := rapid.SliceOfN(rapid.Byte(), h.maps[m].ValueSize, h.maps[m].ValueSize).Draw(t, "value")
			want := h.model.store(h, s, hk, m, v)
			got := errno.Of(h.c.Store(hk, s.b, m, v))
			h.lastOp = fmt.Sprintf("store(%v, map %d)", hk, m)
			require.Equal(t, want.Name(), got.Name(), h.lastOp)
		},
		"lookup": func(t *rapid.T) {
			s := h.pick(t)
			hk := h.hook(t, s)
			m := rapid.IntRange(0, len(h.maps)-1).Draw(t, "map")
			want, wantErr := h.model.lookup(h, s, hk, m)
			got, err := h.c.Lookup(hk, s.b, m)
			h.lastOp = fmt.Sprintf("lookup(%v, map %d)", hk, m)
			require.Equal(t, wantErr.Name(), errno.Of(err).Name(), h.lastOp)
			if err == nil {
				require.True(t, bytes.Equal(want, got), "%s = %x, want %x", h.lastOp, got, want)
			}
		},
		"delete": func(t *rapid.T) {
			s := h.pick(t)
			hk := h.hook(t, s)
			m := rapid.IntRange(0, len(h.maps)-1).Draw(t, "map")
			want := h.model.del(h, s, hk, m)
			got := errno.Of(h.c.Delete(hk, s.b, m))
			h.lastOp = fmt.Sprintf("delete(%v, map %d)", hk, m)
			require.Equal(t, want.Name(), got.Name(), h.lastOp)
		},
		"clone": func(t *rapid.T) {
			if len(h.skbs) >= 8 {
				t.Skip("enough skbs")
			}
			s := h.pick(t)
			nb, err := s.b.Clone()
			require.NoError(t, err)
			n := &mSkb{b: nb, ext: s.ext, head: s.head, cloned: true}
			if s.ext != nil {
				s.ext.refs++
			}
			s.head.refs++
			s.cloned, s.fresh = true, false
			h.skbs = append(h.skbs, n)
			h.model.cloned(h, s, n)
			h.lastOp = "clone"
		},
		"copy": func(t *rapid.T) {
			if len(h.skbs) >= 8 {
				t.Skip("enough skbs")
			}
			s := h.pick(t)
			nb, err := s.b.Copy()
			require.NoError(t, err)
			n := &mSkb{b: nb, ext: s.ext, head: &mHead{refs: 1}}
			if s.ext != nil {
				s.ext.refs++
			}
			h.skbs = append(h.skbs, n)
			h.model.copied(h, s, n)
			h.lastOp = "copy"
		},
		"scrub": func(t *rapid.T) {
			s := h.pick(t)
			xnet := rapid.Bool().Draw(t, "xnet")
			s.b.Scrub(xnet)
			h.extPut(s.ext)
			s.ext = nil
			h.lastOp = fmt.Sprintf("scrub(xnet=%v)", xnet)
		},
		"ext-cow": func(t *rapid.T) {
			s := h.pick(t)
			_, err := s.b.ExtAdd(skb.ExtTC)
			require.NoError(t, err)
			h.extAdd(s, idTC)
			h.lastOp = "skb_ext_add(TC)"
		},
		"expand-head": func(t *rapid.T) {
			s := h.pick(t)
			require.NoError(t, s.b.ExpandHead(0, 0))
			h.expand(s)
			h.lastOp = "pskb_expand_head"
		},
		"push": func(t *rapid.T) {
			s := h.pick(t)
			if s.b.Headroom() < 64 {
				t.Skip("headroom")
			}
			s.b.Push(4)
			if s.head.meta != nil {
				s.head.valid = false
			}
			s.fresh = false
			h.lastOp = "push"
		},
		"free": func(t *rapid.T) {
			s := h.pick(t)
			h.model.freeing(h, s)
			if rapid.Bool().Draw(t, "consume") {
				s.b.ConsumeSkb()
			} else {
				s.b.KfreeSkb(skb.DropTCIngress)
			}
			h.extPut(s.ext)
			s.head.refs--
			for i, x := range h.skbs {
				if x == s {
					h.skbs = append(h.skbs[:i], h.skbs[i+1:]...)
					break
				}
			}
			h.lastOp = "free"
		},
		"grace": func(t *rapid.T) {
			carrier.GracePeriod(h.c)
			h.lastOp = "grace period"
		},
		"": h.check,
	}
}

// expand models pskb_expand_head(skb, 0, 0): a private buffer; the shared
// info (metadata) is copied and, before v6.19, meta_len cleared.
func (h *harness) expand(s *mSkb) {
	n := &mHead{refs: 1}
	if h.keepMeta && s.head.meta != nil {
		n.meta, n.valid = cloneVals(s.head.meta), s.head.valid
	}
	s.head.refs--
	s.head = n
	s.cloned = false
	s.fresh = false
}

func (h *harness) finish(t *rapid.T) {
	for _, s := range h.skbs {
		s.b.ConsumeSkb()
	}
	h.skbs = nil
	require.NoError(t, h.c.Close())
	carrier.GracePeriod(h.c)
	h.env.Acct.GracePeriod()
	require.NoError(t, h.env.Alloc.CheckLeaks())
	o, _ := h.env.Acct.Live()
	require.Zero(t, o, "accountant objects after Close with every skb freed")
}

func cloneVals(v [][]byte) [][]byte {
	out := make([][]byte, len(v))
	for i, x := range v {
		if x != nil {
			out[i] = append([]byte(nil), x...)
		}
	}
	return out
}

// --- ext-buffer ---

type extBufModel struct{ nmaps int }

func (x *extBufModel) store(h *harness, s *mSkb, hook carrier.Hook, m int, v []byte) errno.Errno {
	if hook == carrier.HookXDP {
		return errno.EACCES
	}
	if s.ext == nil || s.ext.refs > 1 || s.ext.ids&idBPF == 0 {
		had := s.ext != nil && s.ext.ids&idBPF != 0
		h.extAdd(s, idBPF)
		if !had {
			s.ext.buf = make([][]byte, x.nmaps)
		}
	}
	s.ext.buf[m] = append([]byte(nil), v...)
	return 0
}

func (x *extBufModel) lookup(_ *harness, s *mSkb, hook carrier.Hook, m int) ([]byte, errno.Errno) {
	if hook == carrier.HookXDP {
		return nil, errno.EACCES
	}
	if s.ext == nil || s.ext.buf == nil || s.ext.buf[m] == nil {
		return nil, errno.ENOENT
	}
	return s.ext.buf[m], 0
}

func (x *extBufModel) del(h *harness, s *mSkb, hook carrier.Hook, m int) errno.Errno {
	if _, e := x.lookup(h, s, hook, m); e != 0 {
		return e
	}
	if s.ext.refs > 1 {
		h.extAdd(s, idBPF)
	}
	s.ext.buf[m] = nil
	return 0
}

func (x *extBufModel) cloned(*harness, *mSkb, *mSkb)  {}
func (x *extBufModel) copied(*harness, *mSkb, *mSkb)  {}
func (x *extBufModel) freeing(*harness, *mSkb)        {}
func (x *extBufModel) cow(old, n *mExt)               { n.buf = cloneValsOrNil(old.buf) }
func (x *extBufModel) objects(*harness) (int64, bool) { return 0, true }

func cloneValsOrNil(v [][]byte) [][]byte {
	if v == nil {
		return nil
	}
	return cloneVals(v)
}

// --- skb-hash, skb-hash-lru ---

type hashModel struct {
	lru      bool
	prealloc bool
	capacity int
	reaper   bool
	clone    []bool
	// entries per map keyed by the sk_buff object, LRU order most recent
	// first.
	vals  []map[*skb.Buff][]byte
	order [][]*skb.Buff
}

func newHashModel(lru bool, capacity int, reaper bool, maps []carrier.MapSpec) *hashModel {
	x := &hashModel{lru: lru, capacity: capacity, reaper: reaper}
	for _, m := range maps {
		x.clone = append(x.clone, m.Flags&carrier.FlagClone != 0)
		x.vals = append(x.vals, map[*skb.Buff][]byte{})
		x.order = append(x.order, nil)
	}
	return x
}

func (x *hashModel) touch(m int, b *skb.Buff) {
	o := x.order[m]
	for i, k := range o {
		if k == b {
			copy(o[1:i+1], o[:i])
			o[0] = b
			return
		}
	}
}

func (x *hashModel) drop(m int, b *skb.Buff) {
	delete(x.vals[m], b)
	o := x.order[m]
	for i, k := range o {
		if k == b {
			x.order[m] = append(o[:i], o[i+1:]...)
			return
		}
	}
}

// insert models update(BPF_NOEXIST or BPF_ANY): LRU maps evict the tail
// when no element is free (before looking for the key).
func (x *hashModel) insert(m int, b *skb.Buff, v []byte) errno.Errno {
	_, present := x.vals[m][b]
	if x.lru {
		if len(x.vals[m]) == x.capacity {
			tail := x.order[m][len(x.order[m])-1]
			x.drop(m, tail)
			_, present = x.vals[m][b]
		}
	} else if len(x.vals[m]) >= x.capacity && !present {
		return errno.E2BIG
	}
	if present {
		x.drop(m, b)
	}
	x.vals[m][b] = append([]byte(nil), v...)
	x.order[m] = append([]*skb.Buff{b}, x.order[m]...)
	return 0
}

func (x *hashModel) store(_ *harness, s *mSkb, hook carrier.Hook, m int, v []byte) errno.Errno {
	if hook == carrier.HookXDP {
		return errno.EACCES
	}
	if _, ok := x.vals[m][s.b]; ok {
		x.vals[m][s.b] = append([]byte(nil), v...)
		x.touch(m, s.b)
		return 0
	}
	return x.insert(m, s.b, v)
}

func (x *hashModel) lookup(_ *harness, s *mSkb, hook carrier.Hook, m int) ([]byte, errno.Errno) {
	if hook == carrier.HookXDP {
		return nil, errno.EACCES
	}
	v, ok := x.vals[m][s.b]
	if !ok {
		return nil, errno.ENOENT
	}
	x.touch(m, s.b)
	return v, 0
}

func (x *hashModel) del(_ *harness, s *mSkb, hook carrier.Hook, m int) errno.Errno {
	if hook == carrier.HookXDP {
		return errno.EACCES
	}
	if _, ok := x.vals[m][s.b]; !ok {
		return errno.ENOENT
	}
	x.drop(m, s.b)
	return 0
}

func (x *hashModel) copyTo(orig, n *mSkb) {
	for m := range x.vals {
		if !x.clone[m] {
			continue
		}
		v, ok := x.vals[m][orig.b]
		if !ok {
			continue
		}
		x.touch(m, orig.b)
		x.insert(m, n.b, v) // a full skb-hash map refuses silently
	}
}

func (x *hashModel) cloned(_ *harness, o, n *mSkb) { x.copyTo(o, n) }
func (x *hashModel) copied(_ *harness, o, n *mSkb) { x.copyTo(o, n) }
func (x *hashModel) cow(*mExt, *mExt)              {}

func (x *hashModel) freeing(_ *harness, s *mSkb) {
	if !x.reaper {
		return
	}
	for m := range x.vals {
		x.drop(m, s.b)
	}
}

func (x *hashModel) objects(*harness) (int64, bool) {
	if x.lru || x.prealloc {
		return 0, true
	}
	n := 0
	for _, v := range x.vals {
		n += len(v)
	}
	return int64(n), true
}

// --- xdp-meta ---

type xdpModel struct{ nmaps int }

func (x *xdpModel) area(s *mSkb) [][]byte {
	if s.head.meta == nil || !s.head.valid {
		return nil
	}
	return s.head.meta
}

func (x *xdpModel) lookup(_ *harness, s *mSkb, hook carrier.Hook, m int) ([]byte, errno.Errno) {
	switch hook {
	case carrier.HookXDP, carrier.HookTCIngress, carrier.HookTCEgress, carrier.HookTracepoint:
	default:
		return nil, errno.EACCES
	}
	a := x.area(s)
	if a == nil || a[m] == nil {
		return nil, errno.ENOENT
	}
	return a[m], 0
}

// writeArea models the write path: XDP makes the area; tc unclones a
// cloned skb first (pskb_expand_head when the head is shared), then needs
// an intact area.
func (x *xdpModel) writeArea(h *harness, s *mSkb, hook carrier.Hook) ([][]byte, errno.Errno) {
	switch hook {
	case carrier.HookXDP:
		if s.head.meta == nil {
			s.head.meta, s.head.valid = make([][]byte, x.nmaps), true
		}
		return s.head.meta, 0
	case carrier.HookTCIngress, carrier.HookTCEgress:
		if s.cloned && s.head.refs > 1 {
			h.expand(s)
		}
		a := x.area(s)
		if a == nil {
			return nil, errno.E2BIG
		}
		return a, 0
	}
	return nil, errno.EACCES
}

func (x *xdpModel) store(h *harness, s *mSkb, hook carrier.Hook, m int, v []byte) errno.Errno {
	a, e := x.writeArea(h, s, hook)
	if e != 0 {
		return e
	}
	a[m] = append([]byte(nil), v...)
	return 0
}

func (x *xdpModel) del(h *harness, s *mSkb, hook carrier.Hook, m int) errno.Errno {
	if hook != carrier.HookXDP && hook != carrier.HookTCIngress && hook != carrier.HookTCEgress {
		return errno.EACCES
	}
	if a := x.area(s); a == nil || a[m] == nil {
		return errno.ENOENT
	}
	a, e := x.writeArea(h, s, hook)
	if e != 0 {
		return e
	}
	if a[m] == nil {
		return errno.ENOENT
	}
	a[m] = nil
	return 0
}

func (x *xdpModel) cloned(*harness, *mSkb, *mSkb)  {}
func (x *xdpModel) copied(*harness, *mSkb, *mSkb)  {}
func (x *xdpModel) cow(*mExt, *mExt)               {}
func (x *xdpModel) freeing(*harness, *mSkb)        {}
func (x *xdpModel) objects(*harness) (int64, bool) { return 0, true }

// --- rfc and its strategies ---

type rfcModel struct {
	strategy string
	nmaps    int
	sawGrace bool
}

func (x *rfcModel) refused(s *mSkb) bool { return s.cloned && s.ext != nil && s.ext.refs > 1 }

func (x *rfcModel) lookup(_ *harness, s *mSkb, hook carrier.Hook, m int) ([]byte, errno.Errno) {
	if hook == carrier.HookXDP {
		return nil, errno.EACCES
	}
	if x.refused(s) {
		return nil, errno.EOPNOTSUPP
	}
	if s.ext == nil || s.ext.ids&idBPF == 0 || s.ext.st == nil || s.ext.st.vals[m] == nil {
		return nil, errno.ENOENT
	}
	return s.ext.st.vals[m], 0
}

func (x *rfcModel) store(h *harness, s *mSkb, hook carrier.Hook, m int, v []byte) errno.Errno {
	if hook == carrier.HookXDP {
		return errno.EACCES
	}
	if x.refused(s) {
		return errno.EOPNOTSUPP
	}
	if s.ext == nil || s.ext.ids&idBPF == 0 {
		h.extAdd(s, idBPF)
	}
	if s.ext.st == nil {
		s.ext.st = &mStorage{vals: make([][]byte, x.nmaps), embeddedAlive: true, embeddedMap: m}
	}
	s.ext.st.vals[m] = append([]byte(nil), v...)
	return 0
}

func (x *rfcModel) del(h *harness, s *mSkb, hook carrier.Hook, m int) errno.Errno {
	if _, e := x.lookup(h, s, hook, m); e != 0 {
		return e
	}
	st := s.ext.st
	st.vals[m] = nil
	if st.embeddedMap == m {
		st.embeddedAlive = false
	}
	if st.n() == 0 {
		s.ext.st = nil // bpf_selem_unlink of the last element frees the storage
	}
	return 0
}

func (x *rfcModel) cloned(*harness, *mSkb, *mSkb) {}
func (x *rfcModel) copied(*harness, *mSkb, *mSkb) {}

// cow: skb_ext_maybe_cow leaves the copy without storage.
func (x *rfcModel) cow(_, n *mExt)          { n.st = nil }
func (x *rfcModel) freeing(*harness, *mSkb) {}

func (x *rfcModel) objects(h *harness) (int64, bool) {
	seen := map[*mExt]bool{}
	var storages, elems, embedded int64
	for _, s := range h.skbs {
		e := s.ext
		if e == nil || seen[e] || e.st == nil {
			continue
		}
		seen[e] = true
		storages++
		elems += int64(e.st.n())
		if e.st.embeddedAlive {
			embedded++
		}
	}
	switch x.strategy {
	case "rfc":
		return storages + elems, true
	case "rfc-coalloc":
		return storages + elems - embedded, true
	case "rfc-slim":
		return elems, true
	}
	// rfc-prealloc: objects come from the pool, which the grace period
	// refills to its target: the accountant holds the pool's target plus
	// what live packets took, once a grace period has run and before any
	// further free.
	if h.lastOp != "grace period" {
		return 0, false
	}
	return storages + elems, true
}

// --- the machine ---

type smCase struct {
	name   string
	design string
	maps   []carrier.MapSpec
	opts   carrier.Options
	prof   string
	mod    func(*skb.Profile)
	model  func(maps []carrier.MapSpec) refModel
}

var smMaps = []carrier.MapSpec{{Name: "m0", ValueSize: 4, Flags: carrier.FlagClone}, {Name: "m1", ValueSize: 8}}
var smMapsPlain = []carrier.MapSpec{{Name: "m0", ValueSize: 4}, {Name: "m1", ValueSize: 8}}

var smCases = []smCase{
	{name: "ext-buffer", design: "ext-buffer", maps: smMaps,
		model: func(m []carrier.MapSpec) refModel { return &extBufModel{nmaps: len(m)} }},
	{name: "ext-buffer clear-if-exists", design: "ext-buffer", maps: smMaps,
		mod:   func(p *skb.Profile) { p.ExtCOWStorage = skb.ExtCOWClearIfExists },
		model: func(m []carrier.MapSpec) refModel { return &extBufModel{nmaps: len(m)} }},
	{name: "skb-hash", design: "skb-hash", maps: smMaps, opts: carrier.Options{Capacity: 4},
		model: func(m []carrier.MapSpec) refModel { return newHashModel(false, 4, true, m) }},
	{name: "skb-hash prealloc", design: "skb-hash", maps: smMaps, opts: carrier.Options{Capacity: 4, HashPrealloc: true},
		model: func(m []carrier.MapSpec) refModel {
			x := newHashModel(false, 4, true, m)
			x.prealloc = true
			return x
		}},
	{name: "skb-hash without reaper", design: "skb-hash", maps: smMaps, opts: carrier.Options{Capacity: 64, DisableReaper: true},
		model: func(m []carrier.MapSpec) refModel { return newHashModel(false, 64, false, m) }},
	{name: "skb-hash-lru", design: "skb-hash-lru", maps: smMaps, opts: carrier.Options{Capacity: 3},
		model: func(m []carrier.MapSpec) refModel { return newHashModel(true, 3, true, m) }},
	{name: "xdp-meta", design: "xdp-meta", maps: smMapsPlain,
		model: func(m []carrier.MapSpec) refModel { return &xdpModel{nmaps: len(m)} }},
	{name: "xdp-meta v6.19", design: "xdp-meta", maps: smMapsPlain, prof: "v6.19",
		model: func(m []carrier.MapSpec) refModel { return &xdpModel{nmaps: len(m)} }},
}

func init() {
	for _, s := range localstorage.Strategies() {
		s := string(s)
		smCases = append(smCases, smCase{name: s, design: s, maps: smMapsPlain, opts: carrier.Options{PreallocPool: 256},
			model: func(m []carrier.MapSpec) refModel { return &rfcModel{strategy: s, nmaps: len(m)} }})
	}
	smCases = append(smCases, smCase{name: "rfc clear-if-exists", design: "rfc", maps: smMapsPlain,
		mod:   func(p *skb.Profile) { p.ExtCOWStorage = skb.ExtCOWClearIfExists },
		model: func(m []carrier.MapSpec) refModel { return &rfcModel{strategy: "rfc", nmaps: len(m)} }})
}

func TestStateMachine(t *testing.T) {
	for _, tc := range smCases {
		t.Run(tc.name, func(t *testing.T) {
			setRapid(t)
			rapid.Check(t, func(rt *rapid.T) {
				p := skb.DefaultProfile()
				if tc.prof != "" {
					var err error
					p, err = skb.ProfileByName(tc.prof)
					require.NoError(rt, err)
				}
				if tc.mod != nil {
					tc.mod(&p)
				}
				acct := kmem.New()
				env := carrier.Env{Alloc: skb.NewAllocator(acct, p), Acct: acct}
				c, err := carrier.New(tc.design, env, tc.maps, tc.opts)
				require.NoError(rt, err)
				o, _ := acct.Live()
				h := &harness{t: rt, name: tc.name, c: c, env: env, maps: tc.maps, model: tc.model(tc.maps),
					base: o, keepMeta: p.PskbExpandHeadKeepsMeta}
				rt.Repeat(h.actions())
				h.finish(rt)
			})
		})
	}
}
