package localstorage

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/skbsim/skbsim/internal/errno"
	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/skb"
)

// The skb reference model: extension objects are "groups" shared by
// reference; each holds the storage contents (map -> value, newest first).

type refGroup struct {
	refs  int
	order []*refMap
	vals  map[*refMap][]byte
}

func newGroup() *refGroup { return &refGroup{refs: 1, vals: map[*refMap][]byte{}} }

func (g *refGroup) put(m *refMap, v []byte) {
	g.order = slices.DeleteFunc(g.order, func(x *refMap) bool { return x == m })
	g.order = append([]*refMap{m}, g.order...)
	g.vals[m] = v
}

func (g *refGroup) del(m *refMap) {
	g.order = slices.DeleteFunc(g.order, func(x *refMap) bool { return x == m })
	delete(g.vals, m)
}

type refSkb struct {
	b      *skb.Buff
	group  *refGroup
	bpf    bool // SKB_EXT_BPF_STORAGE active on this skb
	cloned bool
}

type skbMachine struct {
	e      *Env
	a      *skb.Allocator
	maps   []*refMap
	skbs   []*refSkb
	strat  Strategy
	fault  uint64
	allocs uint64
}

func (s *skbMachine) alloc() bool { s.allocs++; return s.allocs != s.fault }

// arm fails the Nth allocation of the action; rfc-prealloc takes objects
// from its pool, so its allocation count is not predicted and it runs
// without faults.
func (s *skbMachine) arm(t *rapid.T) {
	s.fault, s.allocs = 0, 0
	if s.strat != StrategyPrealloc {
		s.fault = rapid.SampledFrom([]uint64{0, 0, 0, 1, 2, 3}).Draw(t, "fault")
	}
	s.e.Acct().SetFault(kmem.Fault{Nth: s.fault})
}

func (s *skbMachine) disarm() { s.e.Acct().SetFault(kmem.Fault{}); s.fault = 0 }

// allocElem / allocStorage predict the allocations of bpf_selem_alloc and
// bpf_local_storage_alloc under the strategy (first: the element starts a
// storage).
func (s *skbMachine) allocElem(first bool) bool {
	if s.strat == StrategyPrealloc || (s.strat == StrategyCoalloc && first) {
		return true
	}
	return s.alloc()
}

func (s *skbMachine) allocStorage() bool {
	if s.strat == StrategyPrealloc || s.strat == StrategySlim {
		return true
	}
	return s.alloc()
}

// copyInto predicts cloneElems of the entries of src passing keep into the
// fresh group g; false means an allocation failed (g is left empty: the
// partial storage is destroyed).
func (s *skbMachine) copyInto(src, g *refGroup, keep func(*Map) bool) bool {
	for _, m := range src.order {
		if !keep(m.m) {
			continue
		}
		first := len(g.order) == 0
		if !s.allocElem(first) || (first && !s.allocStorage()) {
			g.order, g.vals = nil, map[*refMap][]byte{}
			return false
		}
		g.put(m, slices.Clone(src.vals[m]))
	}
	return true
}

func (s *skbMachine) shared(r *refSkb) bool { return r.group != nil && r.group.refs > 1 }

func (s *skbMachine) unref(g *refGroup) {
	if g != nil {
		g.refs--
	}
}

func (s *skbMachine) pickSkb(t *rapid.T) *refSkb {
	if len(s.skbs) == 0 {
		t.Skip("no skb")
	}
	return rapid.SampledFrom(s.skbs).Draw(t, "skb")
}

func (s *skbMachine) pickMap(t *rapid.T) *refMap {
	if len(s.maps) == 0 {
		t.Skip("no map")
	}
	return rapid.SampledFrom(s.maps).Draw(t, "map")
}

func (s *skbMachine) CreateMap(t *rapid.T) {
	size := rapid.SampledFrom([]int{4, 24, 120}).Draw(t, "value_size")
	spec := Spec(MapTypeSkbStorage, size, 0)
	if rapid.Bool().Draw(t, "clonecopy") {
		spec.Skb.CloneCopy = true
		spec.Flags |= FlagClone
	}
	spec.Skb.KeepOnScrub = rapid.Bool().Draw(t, "keep_scrub")
	spec.Skb.KeepOnNetns = rapid.Bool().Draw(t, "keep_netns")
	m, err := s.e.CreateMap(spec)
	require.NoError(t, err)
	s.maps = append(s.maps, &refMap{m: m})
}

func (s *skbMachine) FreeMap(t *rapid.T) {
	if rapid.IntRange(0, 3).Draw(t, "rare") != 0 {
		t.Skip("map free is kept rare")
	}
	m := s.pickMap(t)
	m.m.Free()
	s.maps = slices.DeleteFunc(s.maps, func(x *refMap) bool { return x == m })
	for _, r := range s.skbs {
		if r.group != nil {
			r.group.del(m)
		}
	}
}

func (s *skbMachine) Alloc(t *rapid.T) {
	b, err := s.a.AllocSkb(128)
	require.NoError(t, err)
	s.skbs = append(s.skbs, &refSkb{b: b})
}

func (s *skbMachine) Clone(t *rapid.T) {
	r := s.pickSkb(t)
	s.arm(t)
	defer s.disarm()
	c, err := r.b.Clone()
	if !s.alloc() {
		checkErr(t, "skb_clone", errno.ENOMEM, err)
		return
	}
	require.NoError(t, err)
	rc := &refSkb{b: c, group: r.group, bpf: r.bpf, cloned: true}
	r.cloned = true
	if r.group != nil {
		r.group.refs++
	}
	if r.bpf && slices.ContainsFunc(r.group.order, func(m *refMap) bool { return copyOnClone(m.m) }) {
		if s.alloc() { // skb_ext_add COWs the clone's extension
			g := newGroup()
			s.copyInto(r.group, g, copyOnClone)
			r.group.refs--
			rc.group = g
		}
	}
	s.skbs = append(s.skbs, rc)
}

func (s *skbMachine) Copy(t *rapid.T) {
	r := s.pickSkb(t)
	c, err := r.b.Copy()
	require.NoError(t, err)
	s.skbs = append(s.skbs, &refSkb{b: c, group: r.group, bpf: r.bpf})
	if r.group != nil {
		r.group.refs++
	}
}

// AddSecPath adds another extension: a COW when the object is shared, and
// the copy keeps no storage.
func (s *skbMachine) AddSecPath(t *rapid.T) {
	r := s.pickSkb(t)
	s.arm(t)
	defer s.disarm()
	_, err := r.b.ExtAdd(skb.ExtSecPath)
	if r.group == nil || r.group.refs > 1 {
		if !s.alloc() {
			checkErr(t, "skb_ext_add", errno.ENOMEM, err)
			return
		}
		s.unref(r.group)
		r.group = newGroup()
	}
	require.NoError(t, err)
}

func (s *skbMachine) Scrub(t *rapid.T) {
	r := s.pickSkb(t)
	xnet := rapid.Bool().Draw(t, "xnet")
	keep := keepOnScrub
	if xnet {
		keep = keepOnNetns
	}
	s.arm(t)
	defer s.disarm()
	r.b.Scrub(xnet)
	old := r.group
	r.group, r.bpf = nil, false
	if old == nil {
		return
	}
	hasKept := slices.ContainsFunc(old.order, func(m *refMap) bool { return keep(m.m) })
	if !hasKept || !s.bpfOn(old) {
		s.unref(old)
		return
	}
	if !s.alloc() { // skb_ext_add after the reset
		if old.refs == 1 {
			old.order, old.vals = nil, map[*refMap][]byte{}
		}
		s.unref(old)
		return
	}
	g := newGroup()
	if old.refs == 1 {
		for _, m := range old.order {
			if keep(m.m) {
				g.order = append(g.order, m)
				g.vals[m] = old.vals[m]
			}
		}
	} else {
		s.copyInto(old, g, keep)
	}
	s.unref(old)
	r.group, r.bpf = g, true
}

// bpfOn: the scrubbed skb had the BPF extension active on old (every
// sharer of a group with entries has it active).
func (s *skbMachine) bpfOn(g *refGroup) bool { return len(g.order) > 0 }

func (s *skbMachine) Free(t *rapid.T) {
	r := s.pickSkb(t)
	r.b.ConsumeSkb()
	s.unref(r.group)
	s.skbs = slices.DeleteFunc(s.skbs, func(x *refSkb) bool { return x == r })
}

func (s *skbMachine) Get(t *rapid.T) {
	r, m := s.pickSkb(t), s.pickMap(t)
	create := rapid.Bool().Draw(t, "create")
	flags := uint64(0)
	if create {
		flags = GetCreate
	}
	var init []byte
	if rapid.Bool().Draw(t, "init") {
		init = rapid.SliceOfN(rapid.Byte(), m.m.ValueSize(), m.m.ValueSize()).Draw(t, "value")
	}
	s.arm(t)
	defer s.disarm()
	var v []byte
	var err error
	if !create && init == nil && rapid.Bool().Draw(t, "lookup") {
		v, err = m.m.SkbStorageLookup(r.b)
	} else {
		v, err = m.m.SkbStorageGet(CtxNormal, r.b, init, flags)
	}
	if r.cloned && s.shared(r) {
		checkErr(t, "get on a shared clone", errno.EOPNOTSUPP, err)
		return
	}
	if r.bpf {
		if want, ok := r.group.vals[m]; ok {
			require.NoError(t, err)
			require.Equal(t, want, v)
			return
		}
	}
	if !create {
		checkErr(t, "get", errno.ENOENT, err)
		return
	}
	if !r.bpf {
		if r.group == nil || r.group.refs > 1 {
			if !s.alloc() {
				checkErr(t, "get: skb_ext_add", errno.ENOMEM, err)
				return
			}
			s.unref(r.group)
			r.group = newGroup()
		}
		r.bpf = true
	}
	first := len(r.group.order) == 0
	if !s.allocElem(first) || (first && !s.allocStorage()) {
		checkErr(t, "get: update", errno.ENOMEM, err)
		return
	}
	require.NoError(t, err)
	val := make([]byte, m.m.ValueSize())
	if init != nil {
		copy(val, init)
	}
	r.group.put(m, val)
	require.Equal(t, val, v)
}

func (s *skbMachine) Write(t *rapid.T) {
	r, m := s.pickSkb(t), s.pickMap(t)
	if !r.bpf || r.group.vals[m] == nil || (r.cloned && s.shared(r)) {
		t.Skip("not readable")
	}
	v, err := m.m.SkbStorageGet(CtxNormal, r.b, nil, 0)
	require.NoError(t, err)
	i := rapid.IntRange(0, len(v)-1).Draw(t, "byte")
	v[i]++
	r.group.vals[m][i]++
}

func (s *skbMachine) Delete(t *rapid.T) {
	r, m := s.pickSkb(t), s.pickMap(t)
	err := m.m.SkbStorageDelete(CtxNormal, r.b)
	switch {
	case r.cloned && s.shared(r):
		checkErr(t, "delete on a shared clone", errno.EOPNOTSUPP, err)
	case !r.bpf || r.group.vals[m] == nil:
		checkErr(t, "delete", errno.ENOENT, err)
	default:
		require.NoError(t, err)
		r.group.del(m)
	}
}

func (s *skbMachine) GracePeriod(_ *rapid.T) { s.e.GracePeriod() }

func (s *skbMachine) Refill(_ *rapid.T) { s.e.RefillSkbPool() }

func (s *skbMachine) Check(t *rapid.T) {
	var v refView
	seen := map[*refGroup]bool{}
	for _, r := range s.skbs {
		if r.b.Cloned() != r.cloned {
			t.Fatalf("skb cloned %v, reference %v", r.b.Cloned(), r.cloned)
		}
		if r.b.ExtShared() != s.shared(r) {
			t.Fatalf("extension shared %v, reference %v (refs %d)", r.b.ExtShared(), s.shared(r), r.group.refs)
		}
		if r.b.ExtExists(skb.ExtBPFStorage) != r.bpf {
			t.Fatalf("BPF extension active %v, reference %v", r.b.ExtExists(skb.ExtBPFStorage), r.bpf)
		}
		st := SkbStorage(r.b)
		if st != nil {
			if o, ok := st.owner.(extOwner); !ok || o.ext != r.b.ExtFind(skb.ExtBPFStorage) {
				t.Fatalf("storage owner is not the skb's extension")
			}
		}
		if r.group == nil || seen[r.group] {
			if r.group == nil && st != nil {
				t.Fatalf("skb without extension has a storage")
			}
			continue
		}
		seen[r.group] = true
		if !r.bpf && len(r.group.order) > 0 {
			t.Fatalf("reference: entries on an skb without the BPF extension")
		}
		ov := refOwnerView{storage: st, vals: map[*Map][]byte{}}
		for _, m := range r.group.order {
			ov.order = append(ov.order, m.m)
			ov.vals[m.m] = r.group.vals[m]
		}
		v.owners = append(v.owners, ov)
	}
	checkInvariants(t, s.e, OwnerSkb, len(s.maps), v)
}

func TestSkbStateMachine(t *testing.T) {
	setRapidSeed(t)
	for _, st := range Strategies() {
		t.Run(string(st), func(t *testing.T) {
			rapid.Check(t, func(rt *rapid.T) {
				acct := kmem.New()
				cs := rapid.SampledFrom([]int{0, 1, 3}).Draw(rt, "cache_size")
				e := NewEnv(Config{Acct: acct, Skb: SkbConfig{Strategy: st, CacheSize: cs, PoolStorages: 4, PoolElems: 4}})
				a := skb.NewAllocator(acct, skb.DefaultProfile())
				e.AttachSkb(a)
				s := &skbMachine{e: e, a: a, strat: st}
				for range 3 {
					s.CreateMap(rt)
					s.Alloc(rt)
				}
				rt.Repeat(rapid.StateMachineActions(s))
				for _, r := range s.skbs {
					r.b.ConsumeSkb()
				}
				if err := a.CheckLeaks(); err != nil {
					rt.Fatal(err)
				}
				e.Close()
				if o, _ := acct.Live(); o != 0 {
					rt.Fatalf("%d objects live after Close", o)
				}
			})
		})
	}
}
