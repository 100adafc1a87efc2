package proptest

import (
	"fmt"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/skb"
)

// The skb reference machine complements skb's own (skb/prop_test.go,
// structural invariants: dataref, extension refcounts, live counts,
// storage destroyed once, under ExtCOWClearIfExists): it checks values
// against a plain reference. Header fields follow __copy_skb_header on
// clone and copy and skb_scrub_packet's xnet rules; data bytes are shared
// by clones (a write is seen by every sharer) and private after a copy or
// skb_unclone; XDP meta_len shared by clones, 0 after a copy, cleared by
// pskb_expand_head before v6.19; the hooks fire once per event, the Free hook while the
// extension is still attached; the default profile's ExtCOWClearIfActive
// rule holds; skb_share_check and skb_unshare hand back the right skb;
// allocation faults (kmem.Fault with a seeded probability) leave the skb
// unchanged.

type rHdr struct {
	mark, prio, hash uint32
	tcIndex          uint16
	tstamp           int64
	tsType           skb.TstampType
	pktType          skb.PktType
	iif              int32
	cb0              byte
}

func hdrOf(b *skb.Buff) rHdr {
	h := b.H()
	return rHdr{h.Mark, h.Priority, h.Hash, h.TCIndex, h.Tstamp, h.TstampType, h.PktType, h.SkbIIF, h.CB[0]}
}

type rBuf struct {
	refs    int
	bytes   []byte
	metaLen int // skb_shinfo()->meta_len lives with the buffer
}

type rExtObj struct {
	refs    int
	storage *countStorage
}

// countStorage is an skb.ExtStorage that counts its destruction.
type countStorage struct {
	id        int
	destroyed int
}

func (s *countStorage) ExtDestroy() { s.destroyed++ }

type rBuff struct {
	b      *skb.Buff
	hdr    rHdr
	buf    *rBuf
	ext    *rExtObj
	users  int
	cloned bool
}

type hookLog struct {
	clones, copies, scrubBefore, scrubAfter, frees int
	freeSawExt                                     bool
	lastFree                                       *skb.Buff
}

type skbRefMachine struct {
	a        *skb.Allocator
	acct     *kmem.Accountant
	skbs     []*rBuff
	storages []*countStorage
	hooks    hookLog
	want     hookLog
	failed   uint64
}

func (s *skbRefMachine) pick(t *rapid.T) *rBuff {
	if len(s.skbs) == 0 {
		t.Skip("no skb")
	}
	return rapid.SampledFrom(s.skbs).Draw(t, "skb")
}

func (s *skbRefMachine) arm(t *rapid.T) {
	s.failed = s.acct.Stats().Total.Failed
	if rapid.IntRange(0, 7).Draw(t, "fault?") == 0 {
		s.acct.SetFault(kmem.Fault{Prob: 0.5, Seed: rapid.Uint64().Draw(t, "fault seed")})
	}
}

// disarm reports whether an allocation failed; err must then be ENOMEM.
func (s *skbRefMachine) disarm(t *rapid.T, what string, err error) bool {
	s.acct.SetFault(kmem.Fault{})
	injected := s.acct.Stats().Total.Failed != s.failed
	if injected != (err != nil) {
		t.Fatalf("%s: injected failure %v, error %v", what, injected, err)
	}
	return injected
}

func (s *skbRefMachine) Alloc(t *rapid.T) {
	if len(s.skbs) >= 8 {
		t.Skip("enough")
	}
	n := rapid.IntRange(1, 200).Draw(t, "len")
	s.arm(t)
	b, err := s.a.AllocSkb(64 + n)
	if s.disarm(t, "alloc_skb", err) {
		return
	}
	b.Reserve(64)
	ml := 4 * rapid.IntRange(0, 8).Draw(t, "meta words")
	b.MetadataSet(ml)
	d := b.Put(n)
	for i := range d {
		d[i] = byte(i * 7)
	}
	s.skbs = append(s.skbs, &rBuff{b: b, hdr: hdrOf(b), buf: &rBuf{refs: 1, bytes: slices.Clone(d), metaLen: ml}, users: 1})
}

func (s *skbRefMachine) SetHeader(t *rapid.T) {
	r := s.pick(t)
	h := r.b.H()
	v := rapid.Uint32().Draw(t, "v")
	switch rapid.IntRange(0, 6).Draw(t, "field") {
	case 0:
		h.Mark = v
	case 1:
		h.Priority = v
	case 2:
		h.Hash = v
	case 3:
		h.TCIndex = uint16(v)
	case 4:
		r.b.SetDeliveryTime(int64(v)+1, skb.ClockMonotonic)
	case 5:
		h.Tstamp, h.TstampType = int64(v)+1, skb.ClockRealtime
	case 6:
		h.CB[0] = byte(v)
		h.PktType = skb.PacketOtherhost
		h.SkbIIF = int32(v & 0xff)
	}
	r.hdr = hdrOf(r.b)
}

func (s *skbRefMachine) Write(t *rapid.T) {
	r := s.pick(t)
	i := rapid.IntRange(0, len(r.buf.bytes)-1).Draw(t, "offset")
	r.b.Data()[i]++
	r.buf.bytes[i]++
}

func (s *skbRefMachine) AttachStorage(t *rapid.T) {
	r := s.pick(t)
	s.arm(t)
	e, err := r.b.ExtAdd(skb.ExtBPFStorage)
	if s.disarm(t, "skb_ext_add", err) {
		return
	}
	s.extAdded(r)
	if e.Storage() == nil {
		st := &countStorage{id: len(s.storages)}
		s.storages = append(s.storages, st)
		e.SetStorage(st)
		r.ext.storage = st
	}
}

// extAdded models skb_ext_add on the reference: a new object, or a COW of
// a shared one whose copy has no storage (the BPF bit is active on the
// old object for every sharer here, so ClearIfActive clears it).
func (s *skbRefMachine) extAdded(r *rBuff) {
	switch {
	case r.ext == nil:
		r.ext = &rExtObj{refs: 1}
	case r.ext.refs > 1:
		r.ext.refs--
		r.ext = &rExtObj{refs: 1}
	}
}

func (s *skbRefMachine) ExtCOW(t *rapid.T) {
	r := s.pick(t)
	s.arm(t)
	_, err := r.b.ExtAdd(skb.ExtTC)
	if s.disarm(t, "skb_ext_add(TC)", err) {
		return
	}
	s.extAdded(r)
}

func (s *skbRefMachine) share(r *rBuff, n *skb.Buff, buf *rBuf) *rBuff {
	c := &rBuff{b: n, hdr: r.hdr, buf: buf, ext: r.ext, users: 1}
	if r.ext != nil {
		r.ext.refs++
	}
	s.skbs = append(s.skbs, c)
	return c
}

func (s *skbRefMachine) Clone(t *rapid.T) {
	if len(s.skbs) >= 8 {
		t.Skip("enough")
	}
	r := s.pick(t)
	s.arm(t)
	n, err := r.b.Clone()
	if s.disarm(t, "skb_clone", err) {
		return
	}
	s.want.clones++
	r.buf.refs++
	r.cloned = true
	s.share(r, n, r.buf).cloned = true
}

func (s *skbRefMachine) Copy(t *rapid.T) {
	if len(s.skbs) >= 8 {
		t.Skip("enough")
	}
	r := s.pick(t)
	s.arm(t)
	var n *skb.Buff
	var err error
	if rapid.Bool().Draw(t, "pskb") {
		n, err = r.b.PskbCopy()
	} else {
		n, err = r.b.Copy()
	}
	if s.disarm(t, "skb_copy", err) {
		return
	}
	s.want.copies++
	s.share(r, n, &rBuf{refs: 1, bytes: slices.Clone(r.buf.bytes)})
}

func (s *skbRefMachine) Unclone(t *rapid.T) {
	r := s.pick(t)
	if r.users > 1 {
		t.Skip("pskb_expand_head on a shared skb is a BUG")
	}
	s.arm(t)
	err := r.b.Unclone()
	if s.disarm(t, "skb_unclone", err) {
		return
	}
	if r.cloned && r.buf.refs > 1 {
		// pskb_expand_head: the shared info is copied, then meta_len
		// cleared before v6.19.
		ml := 0
		if s.a.Profile().PskbExpandHeadKeepsMeta {
			ml = r.buf.metaLen
		}
		r.buf.refs--
		r.buf = &rBuf{refs: 1, bytes: slices.Clone(r.buf.bytes), metaLen: ml}
		r.cloned = false
	}
}

func (s *skbRefMachine) Scrub(t *rapid.T) {
	r := s.pick(t)
	xnet := rapid.Bool().Draw(t, "xnet")
	r.b.Scrub(xnet)
	s.want.scrubBefore++
	s.want.scrubAfter++
	r.hdr.pktType, r.hdr.iif = skb.PacketHost, 0
	if xnet {
		r.hdr.mark = 0
		if r.hdr.tsType == skb.ClockRealtime {
			r.hdr.tstamp = 0
		}
	}
	s.put(r)
}

func (s *skbRefMachine) put(r *rBuff) {
	if r.ext != nil {
		r.ext.refs--
		r.ext = nil
	}
}

func (s *skbRefMachine) Get(t *rapid.T) {
	r := s.pick(t)
	if r.users >= 3 {
		t.Skip("enough users")
	}
	r.b.Get()
	r.users++
}

// ShareCheck models a receive path's skb_share_check: a shared skb is
// replaced by a clone and the caller's reference dropped.
func (s *skbRefMachine) ShareCheck(t *rapid.T) {
	r := s.pick(t)
	shared := r.users > 1
	s.arm(t)
	n, err := r.b.ShareCheck()
	if s.disarm(t, "skb_share_check", err) {
		r.users--
		return
	}
	if !shared {
		if n != r.b {
			t.Fatalf("skb_share_check of an unshared skb returned another skb")
		}
		return
	}
	s.want.clones++
	r.users--
	r.buf.refs++
	r.cloned = true
	s.share(r, n, r.buf).cloned = true
}

func (s *skbRefMachine) Free(t *rapid.T) {
	r := s.pick(t)
	s.hooks.freeSawExt = false
	r.b.KfreeSkb(skb.DropNotSpecified)
	r.users--
	if r.users > 0 {
		return
	}
	s.want.frees++
	if s.hooks.lastFree != r.b || s.hooks.freeSawExt != (r.ext != nil) {
		t.Fatalf("free hook: skb %v (want %v), saw the extension %v (want %v)", s.hooks.lastFree, r.b, s.hooks.freeSawExt, r.ext != nil)
	}
	s.put(r)
	r.buf.refs--
	s.skbs = slices.DeleteFunc(s.skbs, func(x *rBuff) bool { return x == r })
}

func (s *skbRefMachine) Check(t *rapid.T) {
	for _, r := range s.skbs {
		if got := hdrOf(r.b); got != r.hdr {
			t.Fatalf("header %+v, reference %+v", got, r.hdr)
		}
		if string(r.b.Data()) != string(r.buf.bytes) {
			t.Fatalf("data %x, reference %x", r.b.Data(), r.buf.bytes)
		}
		if r.b.MetadataLen() != r.buf.metaLen {
			t.Fatalf("meta_len %d, reference %d", r.b.MetadataLen(), r.buf.metaLen)
		}
		if r.b.Users() != r.users || r.b.Cloned() != r.cloned || r.b.Dataref() != r.buf.refs {
			t.Fatalf("users %d cloned %v dataref %d, reference %d %v %d", r.b.Users(), r.b.Cloned(), r.b.Dataref(), r.users, r.cloned, r.buf.refs)
		}
		var st skb.ExtStorage
		if e := r.b.Ext(); e != nil {
			st = e.Storage()
		}
		var want skb.ExtStorage
		if r.ext != nil && r.ext.storage != nil {
			want = r.ext.storage
		}
		if (r.b.Ext() != nil) != (r.ext != nil) || st != want {
			t.Fatalf("extension %v storage %v, reference %+v", r.b.Ext(), st, r.ext)
		}
	}
	for _, st := range s.storages {
		live := false
		for _, r := range s.skbs {
			if r.ext != nil && r.ext.storage == st {
				live = true
			}
		}
		if want := map[bool]int{true: 0, false: 1}[live]; st.destroyed != want {
			t.Fatalf("storage %d destroyed %d times, want %d", st.id, st.destroyed, want)
		}
	}
	h, w := s.hooks, s.want
	if h.clones != w.clones || h.copies != w.copies || h.scrubBefore != w.scrubBefore || h.scrubAfter != w.scrubAfter || h.frees != w.frees {
		t.Fatalf("hooks ran %s, want %s", hookCounts(h), hookCounts(w))
	}
}

func hookCounts(h hookLog) string {
	return fmt.Sprintf("clone %d copy %d scrub %d/%d free %d", h.clones, h.copies, h.scrubBefore, h.scrubAfter, h.frees)
}

func TestSkbReferenceMachine(t *testing.T) {
	for _, prof := range []string{"v6.18", "v6.19"} {
		t.Run(prof, func(t *testing.T) {
			check(t, 3000, 200, func(rt *rapid.T) {
				p, err := skb.ProfileByName(prof)
				if err != nil {
					rt.Fatal(err)
				}
				acct := kmem.New()
				s := &skbRefMachine{a: skb.NewAllocator(acct, p), acct: acct}
				s.a.AddHooks(skb.Hooks{
					Clone: func(orig, c *skb.Buff) { s.hooks.clones++ },
					Copy:  func(orig, c *skb.Buff, _ skb.CopyKind) { s.hooks.copies++ },
					ScrubBefore: func(b *skb.Buff, _ bool) {
						s.hooks.scrubBefore++
					},
					ScrubAfter: func(b *skb.Buff, _ bool) {
						s.hooks.scrubAfter++
						if b.ExtActive() != 0 {
							rt.Fatalf("extension still active after the reset")
						}
					},
					Free: func(b *skb.Buff, _ skb.DropReason) {
						s.hooks.frees++
						s.hooks.lastFree = b
						s.hooks.freeSawExt = b.Ext() != nil
					},
				})
				rt.Repeat(rapid.StateMachineActions(s))
				for _, r := range s.skbs {
					for range r.users {
						r.b.ConsumeSkb()
					}
				}
				if err := s.a.CheckLeaks(); err != nil {
					rt.Fatal(err)
				}
				for _, st := range s.storages {
					if st.destroyed != 1 {
						rt.Fatalf("storage %d destroyed %d times", st.id, st.destroyed)
					}
				}
				if o, _ := acct.Live(); o != 0 {
					rt.Fatalf("%d objects live", o)
				}
			})
		})
	}
}
