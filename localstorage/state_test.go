package localstorage

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/skbsim/skbsim/internal/errno"
	"github.com/skbsim/skbsim/kmem"
)

// The reference model: a plain map keyed by (owner, map) plus the list
// order and the charge rules, written independently of the implementation.

type refOwner struct {
	id    int
	sk    *Sock
	task  *Task
	fd    int32
	net   int
	order []*refMap // newest first
	vals  map[*refMap][]byte
}

func (o *refOwner) omem(ss int) int {
	if o.task != nil || len(o.order) == 0 {
		return 0
	}
	n := ss
	for _, m := range o.order {
		n += m.m.ElemSize()
	}
	return n
}

type refMap struct {
	m *Map
}

type ownerMachine struct {
	e      *Env
	files  *FDTable
	nets   []*NetCore
	maps   []*refMap
	owners []*refOwner
	kind   OwnerType
	fault  uint64 // Nth allocation of the current action fails (0: none)
	allocs uint64 // allocations the prediction reached in this action
	nextID int
}

func (s *ownerMachine) ss() int { return s.e.StorageSize(s.kind) }

// alloc records that the predicted path allocates; false means the armed
// fault fails this allocation.
func (s *ownerMachine) alloc() bool {
	s.allocs++
	return s.allocs != s.fault
}

func (s *ownerMachine) chargeOK(o *refOwner, extra, size int) bool {
	if o.task != nil {
		return true
	}
	limit := s.nets[o.net].OptmemMax
	return size <= limit && o.omem(s.ss())+extra+size < limit
}

func (s *ownerMachine) has(o *refOwner, m *refMap) bool { _, ok := o.vals[m]; return ok }

func (s *ownerMachine) put(o *refOwner, m *refMap, v []byte) {
	o.order = slices.DeleteFunc(o.order, func(x *refMap) bool { return x == m })
	o.order = append([]*refMap{m}, o.order...)
	o.vals[m] = v
}

func (s *ownerMachine) del(o *refOwner, m *refMap) {
	o.order = slices.DeleteFunc(o.order, func(x *refMap) bool { return x == m })
	delete(o.vals, m)
}

// copied models copy_map_value: the spin lock bytes keep their old value
// (zero in a new element).
func copied(m *Map, old, v []byte) []byte {
	out := slices.Clone(v)
	if m.spinLock {
		for i := m.lockOff; i < m.lockOff+spinLockSize; i++ {
			out[i] = 0
			if old != nil {
				out[i] = old[i]
			}
		}
	}
	return out
}

// predictUpdate returns the errno bpf_local_storage_update() gives and
// whether the value is written in place (F_LOCK) or as a new element.
func (s *ownerMachine) predictUpdate(o *refOwner, m *refMap, flags uint64) (want errno.Errno, inPlace bool) {
	f := flags &^ UpdateLock
	lock := flags&UpdateLock != 0
	if f > UpdateExist || (lock && !m.m.spinLock) {
		return errno.EINVAL, false
	}
	es := m.m.ElemSize()
	if len(o.order) == 0 {
		if f == UpdateExist {
			return errno.ENOENT, false
		}
		if !s.chargeOK(o, 0, es) || !s.alloc() {
			return errno.ENOMEM, false
		}
		if !s.chargeOK(o, es, s.ss()) || !s.alloc() {
			return errno.ENOMEM, false
		}
		return 0, false
	}
	old := s.has(o, m)
	if lock && f != UpdateNoExist {
		if !old && f == UpdateExist {
			return errno.ENOENT, false
		}
		if old {
			return 0, true
		}
	}
	if !s.chargeOK(o, 0, es) || !s.alloc() {
		return errno.ENOMEM, false
	}
	if old && f == UpdateNoExist {
		return errno.EEXIST, false
	}
	if !old && f == UpdateExist {
		return errno.ENOENT, false
	}
	if old && lock {
		return 0, true
	}
	return 0, false
}

func (s *ownerMachine) applyUpdate(o *refOwner, m *refMap, v []byte, inPlace bool) {
	if inPlace {
		o.vals[m] = copied(m.m, o.vals[m], v)
		return
	}
	s.put(o, m, copied(m.m, nil, v))
}

func (s *ownerMachine) pickOwner(t *rapid.T) *refOwner {
	if len(s.owners) == 0 {
		t.Skip("no owner")
	}
	return rapid.SampledFrom(s.owners).Draw(t, "owner")
}

func (s *ownerMachine) pickMap(t *rapid.T) *refMap {
	if len(s.maps) == 0 {
		t.Skip("no map")
	}
	return rapid.SampledFrom(s.maps).Draw(t, "map")
}

func (s *ownerMachine) value(t *rapid.T, m *refMap) []byte {
	return rapid.SliceOfN(rapid.Byte(), m.m.ValueSize(), m.m.ValueSize()).Draw(t, "value")
}

func (s *ownerMachine) arm(t *rapid.T) {
	s.fault = rapid.SampledFrom([]uint64{0, 0, 0, 0, 1, 2}).Draw(t, "fault")
	s.allocs = 0
	s.e.Acct().SetFault(kmem.Fault{Nth: s.fault})
}

func (s *ownerMachine) disarm() {
	s.e.Acct().SetFault(kmem.Fault{})
	s.fault = 0
}

func checkErr(t *rapid.T, what string, want errno.Errno, err error) {
	if got := errno.Of(err); got != want {
		t.Fatalf("%s: errno %v, want %v (err %v)", what, got, want, err)
	}
}

func (s *ownerMachine) CreateMap(t *rapid.T) {
	typ := MapTypeSkStorage
	if s.kind == OwnerTask {
		typ = MapTypeTaskStorage
	}
	size := rapid.SampledFrom([]int{4, 8, 40, 200}).Draw(t, "value_size")
	spec := Spec(typ, size, 0)
	if rapid.Bool().Draw(t, "clone") {
		spec.Flags |= FlagClone
	}
	if size == 8 && rapid.Bool().Draw(t, "spinlock") {
		spec.Value = SpinLockType(8, 4)
	}
	s.arm(t)
	defer s.disarm()
	m, err := s.e.CreateMap(spec)
	want := errno.Errno(0)
	if !s.alloc() || !s.alloc() {
		want = errno.ENOMEM
	}
	checkErr(t, "create map", want, err)
	if err == nil {
		s.maps = append(s.maps, &refMap{m: m})
	}
}

// init starts every run with three maps (one with a spin lock, one
// BPF_F_CLONE) and three owners, so most actions have something to act on.
func (s *ownerMachine) init(t *rapid.T) {
	typ := MapTypeSkStorage
	if s.kind == OwnerTask {
		typ = MapTypeTaskStorage
	}
	lock := Spec(typ, 8, 0)
	lock.Value = SpinLockType(8, 4)
	for _, spec := range []MapSpec{Spec(typ, 4, FlagClone), lock, Spec(typ, 200, 0)} {
		m, err := s.e.CreateMap(spec)
		require.NoError(t, err)
		s.maps = append(s.maps, &refMap{m: m})
	}
	for range 3 {
		s.NewOwner(t)
	}
}

func (s *ownerMachine) FreeMap(t *rapid.T) {
	if rapid.IntRange(0, 3).Draw(t, "rare") != 0 {
		t.Skip("map free is kept rare")
	}
	m := s.pickMap(t)
	m.m.Free()
	s.maps = slices.DeleteFunc(s.maps, func(x *refMap) bool { return x == m })
	for _, o := range s.owners {
		s.del(o, m)
	}
}

func (s *ownerMachine) NewOwner(t *rapid.T) {
	s.nextID++
	o := &refOwner{id: s.nextID, vals: map[*refMap][]byte{}}
	if s.kind == OwnerSock {
		o.net = rapid.IntRange(0, len(s.nets)-1).Draw(t, "net")
		o.sk = NewSock(s.nets[o.net])
		o.fd = s.files.Install(o.sk)
	} else {
		o.task = NewTask(o.id)
		o.fd = s.files.Install(&PidFD{Task: o.task})
	}
	s.owners = append(s.owners, o)
}

func (s *ownerMachine) DestroyOwner(t *rapid.T) {
	if rapid.IntRange(0, 2).Draw(t, "rare") != 0 {
		t.Skip("owner destroy is kept rare")
	}
	o := s.pickOwner(t)
	if o.sk != nil {
		o.sk.Close(s.e)
	} else {
		o.task.Free(s.e)
	}
	s.files.Close(o.fd)
	s.owners = slices.DeleteFunc(s.owners, func(x *refOwner) bool { return x == o })
}

func (s *ownerMachine) helperGet(o *refOwner, m *refMap, init []byte, flags uint64) ([]byte, error) {
	if o.sk != nil {
		return m.m.SkStorageGet(o.sk, init, flags)
	}
	return m.m.TaskStorageGet(o.task, init, flags)
}

func (s *ownerMachine) HelperGet(t *rapid.T) {
	o, m := s.pickOwner(t), s.pickMap(t)
	flags := rapid.SampledFrom([]uint64{0, GetCreate, GetCreate, 2}).Draw(t, "flags")
	var init []byte
	if rapid.Bool().Draw(t, "init") {
		init = s.value(t, m)
	}
	s.arm(t)
	defer s.disarm()
	v, err := s.helperGet(o, m, init, flags)
	var want errno.Errno
	switch {
	case flags > GetCreate:
		want = errno.EINVAL
	case s.has(o, m):
		require.Equal(t, o.vals[m], v, "hit")
		return
	case flags == 0:
		want = errno.ENOENT
	default:
		want, _ = s.predictUpdate(o, m, UpdateNoExist)
	}
	checkErr(t, "helper get", want, err)
	if want == 0 {
		zero := make([]byte, m.m.ValueSize())
		if init != nil {
			zero = init
		}
		s.put(o, m, copied(m.m, nil, zero))
		require.Equal(t, o.vals[m], v)
	}
}

func (s *ownerMachine) ProgramWrite(t *rapid.T) {
	o, m := s.pickOwner(t), s.pickMap(t)
	if !s.has(o, m) {
		t.Skip("absent")
	}
	v, err := s.helperGet(o, m, nil, 0)
	require.NoError(t, err)
	i := rapid.IntRange(0, m.m.ValueSize()-1).Draw(t, "byte")
	if m.m.spinLock && i >= m.m.lockOff && i < m.m.lockOff+spinLockSize {
		t.Skip("the verifier forbids writing the lock")
	}
	v[i]++
	o.vals[m][i]++
}

func (s *ownerMachine) SyscallUpdate(t *rapid.T) {
	o, m := s.pickOwner(t), s.pickMap(t)
	flags := rapid.SampledFrom([]uint64{UpdateAny, UpdateNoExist, UpdateExist, UpdateAny | UpdateLock,
		UpdateNoExist | UpdateLock, UpdateExist | UpdateLock, 3, 8}).Draw(t, "flags")
	v := s.value(t, m)
	s.arm(t)
	defer s.disarm()
	err := m.m.UpdateElem(s.files, o.fd, v, flags)
	if flags&UpdateLock != 0 && !m.m.spinLock {
		checkErr(t, "update", errno.EINVAL, err)
		return
	}
	want, inPlace := s.predictUpdate(o, m, flags)
	checkErr(t, fmt.Sprintf("update flags %#x", flags), want, err)
	if want == 0 {
		s.applyUpdate(o, m, v, inPlace)
	}
}

func (s *ownerMachine) SyscallLookup(t *rapid.T) {
	o, m := s.pickOwner(t), s.pickMap(t)
	out := make([]byte, m.m.ValueSize())
	err := m.m.LookupElem(s.files, o.fd, out, 0)
	if !s.has(o, m) {
		checkErr(t, "lookup", errno.ENOENT, err)
		return
	}
	require.NoError(t, err)
	require.Equal(t, copied(m.m, nil, o.vals[m]), out, "lock bytes read as zero")
}

func (s *ownerMachine) Delete(t *rapid.T) {
	o, m := s.pickOwner(t), s.pickMap(t)
	var err error
	switch {
	case rapid.Bool().Draw(t, "syscall"):
		err = m.m.DeleteElem(s.files, o.fd)
	case o.sk != nil:
		err = m.m.SkStorageDelete(o.sk)
	default:
		err = m.m.TaskStorageDelete(o.task)
	}
	if !s.has(o, m) {
		checkErr(t, "delete", errno.ENOENT, err)
		return
	}
	require.NoError(t, err)
	s.del(o, m)
}

func (s *ownerMachine) Clone(t *rapid.T) {
	if s.kind != OwnerSock {
		t.Skip("sockets only")
	}
	p := s.pickOwner(t)
	s.nextID++
	c := &refOwner{id: s.nextID, net: p.net, vals: map[*refMap][]byte{}, sk: NewSock(s.nets[p.net])}
	s.arm(t)
	defer s.disarm()
	err := s.e.SkClone(p.sk, c.sk)
	want := errno.Errno(0)
	for _, m := range p.order {
		if m.m.Flags()&FlagClone == 0 {
			continue
		}
		es := m.m.ElemSize()
		if !s.chargeOK(c, 0, es) || !s.alloc() {
			want = errno.ENOMEM
			break
		}
		if len(c.order) == 0 && (!s.chargeOK(c, es, s.ss()) || !s.alloc()) {
			want = errno.ENOMEM
			break
		}
		s.put(c, m, copied(m.m, nil, p.vals[m]))
	}
	checkErr(t, "clone", want, err)
	if err != nil {
		c.sk.Close(s.e) // sk_clone_lock frees the half-built child
		return
	}
	c.fd = s.files.Install(c.sk)
	s.owners = append(s.owners, c)
}

func (s *ownerMachine) GracePeriod(_ *rapid.T) { s.e.GracePeriod() }

func (s *ownerMachine) SetOptmem(t *rapid.T) {
	if s.kind != OwnerSock {
		t.Skip("sockets only")
	}
	n := rapid.IntRange(0, len(s.nets)-1).Draw(t, "net")
	s.nets[n].OptmemMax = rapid.SampledFrom([]int{500, 900, 1500, DefaultOptmemMax}).Draw(t, "optmem_max")
}

// Check runs the invariants after every step.
func (s *ownerMachine) Check(t *rapid.T) {
	checkInvariants(t, s.e, s.kind, len(s.maps), s.refView())
}

type refView struct {
	owners []refOwnerView
}

type refOwnerView struct {
	storage *Storage
	sk      *Sock
	omem    int
	order   []*Map
	vals    map[*Map][]byte
}

func (s *ownerMachine) refView() refView {
	var v refView
	for _, o := range s.owners {
		ov := refOwnerView{sk: o.sk, omem: o.omem(s.ss()), vals: map[*Map][]byte{}}
		if o.sk != nil {
			ov.storage = o.sk.Storage()
		} else {
			ov.storage = o.task.Storage()
		}
		for _, m := range o.order {
			ov.order = append(ov.order, m.m)
			ov.vals[m.m] = o.vals[m]
		}
		v.owners = append(v.owners, ov)
	}
	return v
}

// checkInvariants: storage exists iff it has elements; contents and list
// order match the reference; cache slots only point at linked elements of
// their own map; mem_charge (and the socket's omem) equal sizeof(storage)
// plus the elements' sizes; bucket lists hold exactly the linked elements;
// kmem holds exactly the maps, storages, elements and RCU-pending objects.
func checkInvariants(t *rapid.T, e *Env, kind OwnerType, nmaps int, ref refView) {
	storages, elems := 0, 0
	for _, o := range ref.owners {
		s := o.storage
		if len(o.order) == 0 {
			if s != nil {
				t.Fatalf("owner has a storage with %d elements but the reference has none", s.Len())
			}
			if o.sk != nil && o.sk.OmemAlloc() != 0 {
				t.Fatalf("empty socket charged %d", o.sk.OmemAlloc())
			}
			continue
		}
		if s == nil {
			t.Fatalf("owner has no storage, reference has %d elements", len(o.order))
		}
		storages++
		elems += s.Len()
		ents := s.Entries(nil)
		if len(ents) != len(o.order) || s.Len() != len(ents) {
			t.Fatalf("storage has %d elements, reference %d", len(ents), len(o.order))
		}
		want := e.StorageSize(kind)
		for i, en := range ents {
			if en.Map != o.order[i] {
				t.Fatalf("element %d is %v, reference order says %v", i, en.Map, o.order[i])
			}
			if string(en.Value) != string(o.vals[en.Map]) {
				t.Fatalf("%v: value %x, reference %x", en.Map, en.Value, o.vals[en.Map])
			}
			want += en.Map.ElemSize()
		}
		if s.MemCharge() != want {
			t.Fatalf("mem_charge %d, want %d", s.MemCharge(), want)
		}
		if o.sk != nil && (o.sk.OmemAlloc() != want || o.omem != want) {
			t.Fatalf("sk_omem_alloc %d, reference %d, want %d", o.sk.OmemAlloc(), o.omem, want)
		}
		for i := range e.CacheSize(kind) {
			el := s.CacheSlot(i)
			if el == nil {
				continue
			}
			if !el.inStorage || el.storage != s || el.smap == nil || el.smap.CacheIdx() != i {
				t.Fatalf("cache slot %d points at an unlinked or foreign element", i)
			}
		}
	}
	inMaps := 0
	for _, m := range e.Maps() {
		n := 0
		for b, el := range m.buckets {
			for ; el != nil; el = el.mnext {
				if el.smap != m || !el.inMap || el.bucket != b || !el.inStorage {
					t.Fatalf("bucket %d of %v holds a stray element", b, m)
				}
				if want := m.selectBucket(el.storage, el); want != b {
					t.Fatalf("element in bucket %d, hash says %d", b, want)
				}
				n++
			}
		}
		if n != m.Len() {
			t.Fatalf("%v: buckets hold %d, Len %d", m, n, m.Len())
		}
		inMaps += n
	}
	if inMaps != elems {
		t.Fatalf("buckets hold %d elements, storages %d", inMaps, elems)
	}
	var users uint64
	for _, c := range e.CacheUsage(kind) {
		users += c
	}
	if users != uint64(nmaps) {
		t.Fatalf("cache index users %d, maps %d", users, nmaps)
	}
	// kmem holds exactly the maps, the storages and elements that own
	// memory, and the pool (including objects waiting to return to it).
	want := int64(2 * nmaps)
	for _, o := range ref.owners {
		if o.storage == nil {
			continue
		}
		if o.storage.ksize.Bytes() > 0 {
			want++
		}
		for el := o.storage.head; el != nil; el = el.snext {
			if !el.embedded {
				want++
			}
		}
	}
	p := &e.skb.pool
	want += int64(p.storages + p.pendStorages)
	for c := range p.elems {
		want += int64(p.elems[c] + p.pendElems[c])
	}
	if got := ourLive(e); got != want {
		t.Fatalf("kmem: %d objects of localstorage sites live, want %d", got, want)
	}
}

// ourLive counts the objects allocated at localstorage's sites and not
// freed (RCU-deferred frees count as freed).
func ourLive(e *Env) int64 {
	st := e.Acct().Stats()
	var n int64
	for _, s := range []kmem.Site{siteSmap, siteBuckets, siteSelem, siteStorage, siteCoalloc,
		sitePoolRefill, siteCloneElem, siteSkbClone, siteSkbKeep} {
		c := st.BySite[s]
		n += int64(c.Allocs) - int64(c.Frees) - int64(c.DeferredFrees)
	}
	return n
}

func TestOwnerStateMachine(t *testing.T) {
	setRapidSeed(t)
	for _, kind := range []OwnerType{OwnerSock, OwnerTask} {
		t.Run(kind.String(), func(t *testing.T) {
			rapid.Check(t, func(rt *rapid.T) {
				prof := rapid.SampledFrom(Profiles()).Draw(rt, "profile")
				cs := rapid.SampledFrom([]int{1, 2, 16}).Draw(rt, "cache_size")
				ncpu := rapid.IntRange(1, 8).Draw(rt, "cpus")
				s := &ownerMachine{
					e:     NewEnv(Config{Profile: prof, CacheSize: cs, PossibleCPUs: ncpu}),
					files: NewFDTable(), kind: kind,
					nets: []*NetCore{NewNetCore(), {OptmemMax: 1200}},
				}
				s.init(rt)
				rt.Repeat(rapid.StateMachineActions(s))
				for _, o := range s.owners {
					if o.sk != nil {
						o.sk.Close(s.e)
					} else {
						o.task.Free(s.e)
					}
				}
				s.owners = nil
				s.Check(rt)
				s.e.Close()
				if o, _ := s.e.Acct().Live(); o != 0 {
					rt.Fatalf("%d objects live after Close", o)
				}
			})
		})
	}
}
