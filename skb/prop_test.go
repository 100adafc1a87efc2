package skb

import (
	"flag"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/skbsim/skbsim/internal/testutil"
	"github.com/skbsim/skbsim/kmem"
)

// setRapidSeed makes rapid use the project's deterministic seed unless
// -rapid.seed was given, and raises the default step count to 200.
func setRapidSeed(t *testing.T) {
	if f := flag.Lookup("rapid.steps"); f != nil && f.Value.String() == "30" {
		require.NoError(t, f.Value.Set("200"))
	}
	f := flag.Lookup("rapid.seed")
	if f == nil || f.Value.String() != "0" {
		return
	}
	require.NoError(t, f.Value.Set(strconv.FormatUint(uint64(testutil.Seed(t)), 10)))
}

// skbMachine runs random sequences of skb operations against one allocator
// and checks the ownership invariants after every step.
type skbMachine struct {
	a        *Allocator
	live     []*Buff
	freed    []*Buff
	storages []*fakeStorage
	out      []*Buff
}

func (m *skbMachine) pick(t *rapid.T) (int, *Buff) {
	if len(m.live) == 0 {
		t.Skip("no live skb")
	}
	i := rapid.IntRange(0, len(m.live)-1).Draw(t, "skb")
	return i, m.live[i]
}

func (m *skbMachine) add(b *Buff) { m.live = append(m.live, b) }

func (m *skbMachine) maybeFault(t *rapid.T) {
	if rapid.IntRange(0, 9).Draw(t, "fault") == 0 {
		m.a.acct.SetFault(kmem.Fault{Nth: 1})
	}
}

func (m *skbMachine) clearFault() { m.a.acct.SetFault(kmem.Fault{}) }

func (m *skbMachine) free(i int, reason DropReason) {
	b := m.live[i]
	last := b.Users() == 1
	b.KfreeSkb(reason)
	if last {
		m.live = append(m.live[:i], m.live[i+1:]...)
		m.freed = append(m.freed, b)
	}
}

func (m *skbMachine) actions() map[string]func(*rapid.T) {
	return map[string]func(*rapid.T){
		"alloc": func(t *rapid.T) {
			headroom := rapid.IntRange(0, 256).Draw(t, "headroom")
			n := rapid.IntRange(0, 1600).Draw(t, "len")
			m.maybeFault(t)
			b, err := m.a.AllocSkb(headroom + n)
			m.clearFault()
			if err != nil {
				return
			}
			b.Reserve(headroom)
			d := b.Put(n)
			for i := range d {
				d[i] = byte(i)
			}
			if rapid.Bool().Draw(t, "mac") {
				b.ResetMacHeader()
				b.SetNetworkHeader(0)
			}
			if ml := rapid.IntRange(0, 8).Draw(t, "meta") * 4; ml <= headroom {
				b.MetadataSet(ml)
			}
			m.add(b)
		},
		"clone": func(t *rapid.T) {
			_, b := m.pick(t)
			m.maybeFault(t)
			c, err := b.Clone()
			m.clearFault()
			if err == nil {
				m.add(c)
			}
		},
		"copy": func(t *rapid.T) {
			_, b := m.pick(t)
			var (
				c   *Buff
				err error
			)
			m.maybeFault(t)
			switch rapid.IntRange(0, 2).Draw(t, "kind") {
			case 0:
				c, err = b.Copy()
			case 1:
				c, err = b.PskbCopy()
			case 2:
				c, err = b.CopyExpand(rapid.IntRange(0, 300).Draw(t, "nh"), rapid.IntRange(0, 100).Draw(t, "nt"))
			}
			m.clearFault()
			if err == nil {
				require.Equal(t, 0, c.MetadataLen(), "copies have no metadata")
				require.Equal(t, string(b.Data()), string(c.Data()))
				m.add(c)
			}
		},
		"push": func(t *rapid.T) {
			_, b := m.pick(t)
			n := rapid.IntRange(0, b.Headroom()).Draw(t, "n")
			l := b.Len()
			require.Len(t, b.Push(n), n)
			require.Equal(t, l+n, b.Len())
		},
		"pull": func(t *rapid.T) {
			_, b := m.pick(t)
			n := rapid.IntRange(0, b.Len()+4).Draw(t, "n")
			l := b.Len()
			_, ok := b.Pull(n)
			require.Equal(t, n <= l, ok)
			if ok {
				require.Equal(t, l-n, b.Len())
			} else {
				require.Equal(t, l, b.Len())
			}
		},
		"put": func(t *rapid.T) {
			_, b := m.pick(t)
			b.Put(rapid.IntRange(0, b.Tailroom()).Draw(t, "n"))
		},
		"trim": func(t *rapid.T) {
			_, b := m.pick(t)
			b.Trim(rapid.IntRange(0, b.Len()+4).Draw(t, "n"))
		},
		"ext_add": func(t *rapid.T) {
			_, b := m.pick(t)
			id := ExtID(rapid.IntRange(0, int(ExtNum)-1).Draw(t, "id"))
			before := b.Ext()
			beforeActive := b.ExtActive()
			m.maybeFault(t)
			e, err := b.ExtAdd(id)
			m.clearFault()
			if err != nil {
				require.Same(t, before, b.Ext())
				require.Equal(t, beforeActive, b.ExtActive())
				return
			}
			require.Same(t, e, b.ExtFind(id))
			require.Equal(t, 1, e.Refs(), "after skb_ext_add the object is private")
		},
		"ext_del": func(t *rapid.T) {
			_, b := m.pick(t)
			id := ExtID(rapid.IntRange(0, int(ExtNum)-1).Draw(t, "id"))
			b.ExtDel(id)
			require.Nil(t, b.ExtFind(id))
		},
		"ext_reset": func(t *rapid.T) {
			_, b := m.pick(t)
			b.ExtReset()
			require.Zero(t, b.ExtActive())
		},
		"set_storage": func(t *rapid.T) {
			_, b := m.pick(t)
			e := b.ExtFind(ExtBPFStorage)
			if e == nil || e.Storage() != nil {
				t.Skip("no empty storage chunk")
			}
			s := &fakeStorage{name: strconv.Itoa(len(m.storages))}
			m.storages = append(m.storages, s)
			e.SetStorage(s)
		},
		"write_chunk": func(t *rapid.T) {
			_, b := m.pick(t)
			e := b.ExtFind(ExtTC)
			if e == nil {
				t.Skip("no TC extension")
			}
			v := byte(rapid.IntRange(0, 255).Draw(t, "v"))
			e.Chunk(ExtTC)[0] = v
			for _, o := range m.live {
				if o.ExtFind(ExtTC) == e {
					require.Equal(t, v, o.ExtFind(ExtTC).Chunk(ExtTC)[0], "sharers see the write")
				}
			}
		},
		"scrub": func(t *rapid.T) {
			_, b := m.pick(t)
			ml := b.MetadataLen()
			b.Scrub(rapid.Bool().Draw(t, "xnet"))
			require.Zero(t, b.ExtActive())
			require.Equal(t, ml, b.MetadataLen(), "scrub keeps meta_len")
		},
		"cow": func(t *rapid.T) {
			_, b := m.pick(t)
			if b.Shared() {
				t.Skip("pskb_expand_head on a shared skb is a BUG")
			}
			h := rapid.IntRange(0, 300).Draw(t, "headroom")
			m.maybeFault(t)
			err := b.Cow(h)
			m.clearFault()
			if err == nil {
				require.GreaterOrEqual(t, b.Headroom(), h)
				require.False(t, b.SkbCloned())
			}
		},
		"get": func(t *rapid.T) {
			_, b := m.pick(t)
			if b.Users() > 3 {
				t.Skip("enough users")
			}
			b.Get()
		},
		"free": func(t *rapid.T) {
			i, _ := m.pick(t)
			m.free(i, DropReason(rapid.IntRange(int(SkbConsumed), int(numDropReasons)-1).Draw(t, "reason")))
		},
		"segment": func(t *rapid.T) {
			_, b := m.pick(t)
			if b.MacHeader() < 0 || b.MacHeader() > b.Headroom() || b.Len() == 0 {
				t.Skip("no mac header before data")
			}
			segs, err := b.Segment(rapid.IntRange(1, 600).Draw(t, "mss"), m.out[:0])
			require.NoError(t, err)
			for _, s := range segs {
				require.Zero(t, s.MetadataLen())
				m.add(s)
			}
		},
		"use_after_free": func(t *rapid.T) {
			var cands []*Buff
			for _, b := range m.freed {
				if b.state == stateFree {
					cands = append(cands, b)
				}
			}
			if len(cands) == 0 {
				t.Skip("nothing freed and not reused")
			}
			b := rapid.SampledFrom(cands).Draw(t, "freed")
			require.Panics(t, func() { b.Len() })
			require.Panics(t, func() { b.ConsumeSkb() })
		},
		"": m.check,
	}
}

// check verifies the invariants: len == tail - data; dataref equals the
// number of live skbs on each buffer; each extension's refcnt equals the
// number of live skbs with it active; the allocator's live counts match;
// every storage is destroyed exactly when no live object points at it.
func (m *skbMachine) check(t *rapid.T) {
	// Plain comparisons: testify's Helper() stack walks would dominate.
	bufs := map[*buffer]int{}
	exts := map[*Ext]int{}
	for _, b := range m.live {
		if b.state != stateLive {
			t.Fatalf("freed skb in the live list: %v", b)
		}
		if b.Len() != b.tail-b.data || len(b.Data()) != b.Len() {
			t.Fatalf("len %d != tail - data %d on %v", b.Len(), b.tail-b.data, b)
		}
		if b.EndOffset() != b.Headroom()+b.Len()+b.Tailroom() {
			t.Fatalf("geometry does not add up on %v", b)
		}
		if b.Users() < 1 {
			t.Fatalf("users %d on %v", b.Users(), b)
		}
		bufs[b.buf]++
		if b.activeExt != 0 {
			exts[b.ext]++
		}
	}
	for buf, n := range bufs {
		if buf.dataref&datarefMask != uint32(n) || buf.state != stateLive {
			t.Fatalf("buffer #%d: dataref %d, %d live sharers, state %d", buf.id, buf.dataref&datarefMask, n, buf.state)
		}
	}
	for e, n := range exts {
		if e.refcnt != int32(n) || e.state != stateLive {
			t.Fatalf("ext #%d: refcnt %d, %d sharers, state %d", e.id, e.refcnt, n, e.state)
		}
	}
	if l := m.a.Live(); l.Skbs != len(m.live) || l.Buffers != len(bufs) || l.Exts != len(exts) {
		t.Fatalf("allocator live %+v, model %d skbs %d buffers %d exts", l, len(m.live), len(bufs), len(exts))
	}
	for _, s := range m.storages {
		refs := 0
		for e := range exts {
			if e.offset[ExtBPFStorage] != 0 && e.storage == s {
				refs++
			}
		}
		switch {
		case refs > 1:
			t.Fatalf("storage %s in %d objects", s.name, refs)
		case refs == 1 && s.destroyed != 0:
			t.Fatalf("storage %s destroyed while referenced", s.name)
		case refs == 0 && s.destroyed != 1:
			t.Fatalf("storage %s destroyed %d times, want 1", s.name, s.destroyed)
		}
	}
}

func TestSkbProperties(t *testing.T) {
	setRapidSeed(t)
	for _, profile := range []string{"v6.18", "v6.19"} {
		t.Run(profile, rapid.MakeCheck(func(rt *rapid.T) {
			p, _ := ProfileByName(profile)
			p.ExtCOWStorage = ExtCOWClearIfExists
			m := &skbMachine{a: NewAllocator(kmem.New(), p), out: make([]*Buff, 0, 64)}
			rt.Repeat(m.actions())
			for len(m.live) > 0 {
				for m.live[0].Users() > 1 {
					m.live[0].ConsumeSkb()
				}
				m.free(0, SkbConsumed)
			}
			require.NoError(rt, m.a.CheckLeaks())
			o, _ := m.a.acct.Live()
			require.Zero(rt, o, "accountant has live objects")
			for _, s := range m.storages {
				require.Equal(rt, 1, s.destroyed, "storage %s", s.name)
			}
		}))
	}
}
