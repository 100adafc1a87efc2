package proptest

import (
	"fmt"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/skbsim/skbsim/internal/errno"
	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/localstorage"
	"github.com/skbsim/skbsim/skb"
)

// The cross-owner machine runs sockets, tasks and skbs against one Env (one
// kernel): maps of the three owner types at once, each with its own cache
// index space; maps freed while owners of every type hold elements; owners
// destroyed at any point; skb clones, copies, scrubs, extension COWs and
// frees; and allocation faults (kmem.Fault with a seeded probability) at
// random steps. localstorage's own machines run one owner type per Env with
// predicted Nth-allocation faults; this one checks what only shows when the
// types share a kernel, and that a failed operation changes nothing it
// should not.
//
// The reference is deliberately plain: a storage is a list of (map, value)
// newest first and a map from cache slot to map, shared by every skb that
// shares the extension object.

type rMap struct {
	m    *localstorage.Map
	kind localstorage.OwnerType
}

type rStore struct {
	refs  int // skb: extension object sharers; 1 for sk and task
	order []*rMap
	vals  map[*rMap][]byte
	cache map[int]*rMap // slot -> map whose element the slot points at
	embed *rMap         // rfc-coalloc: map of the co-allocated first element, while linked
}

func newStore() *rStore {
	return &rStore{refs: 1, vals: map[*rMap][]byte{}, cache: map[int]*rMap{}}
}

func (g *rStore) has(m *rMap) bool { _, ok := g.vals[m]; return ok }

func (g *rStore) put(m *rMap, v []byte, first bool) {
	if len(g.order) == 0 {
		g.cache = map[int]*rMap{} // a new storage starts with a cold cache
		if first {
			g.embed = m
		}
	}
	g.order = slices.DeleteFunc(g.order, func(x *rMap) bool { return x == m })
	g.order = append([]*rMap{m}, g.order...)
	g.vals[m] = slices.Clone(v)
}

// del unlinks m's element: its cache slot is cleared if it points at it.
func (g *rStore) del(m *rMap) {
	if !g.has(m) {
		return
	}
	g.order = slices.DeleteFunc(g.order, func(x *rMap) bool { return x == m })
	delete(g.vals, m)
	if g.cache[m.m.CacheIdx()] == m {
		delete(g.cache, m.m.CacheIdx())
	}
	if g.embed == m {
		g.embed = nil
	}
}

// looked is a lookup with cacheit_lockit that hit.
func (g *rStore) looked(m *rMap) { g.cache[m.m.CacheIdx()] = m }

type rSock struct {
	sk       *localstorage.Sock
	fd       int32
	net      int
	g        *rStore
	released bool // sk_refcnt reached 0: no create, delete is -ENOENT; the fd is closed
	// subflow: an MPTCP client's subflow (Env.ActiveOpen), which has no
	// fd: only the helpers reach it.
	subflow bool
	// connected: ActiveOpen ran on the socket (connect() again is
	// -EISCONN, not a second subflow).
	connected bool
	// msk: for a subflow, the MPTCP socket it belongs to.
	msk *rSock
	// listening: PassiveOpen used the socket as a listener (connect() on
	// it is -EISCONN, as on an accepted socket).
	listening bool
}

type rTask struct {
	t      *localstorage.Task
	fd     int32
	g      *rStore
	exited bool // release_task(): the pidfd no longer resolves (-ENOENT)
}

type rSkb struct {
	b      *skb.Buff
	g      *rStore // the extension object's storage contents; nil: no extension
	bpf    bool    // SKB_EXT_BPF_STORAGE active on this skb
	cloned bool
}

type ownersMachine struct {
	e        *localstorage.Env
	acct     *kmem.Accountant
	a        *skb.Allocator
	strat    localstorage.Strategy
	files    *localstorage.FDTable
	nets     []*localstorage.NetCore
	maps     []*rMap
	socks    []*rSock
	tasks    []*rTask
	skbs     []*rSkb
	closed   []int32 // fds of destroyed owners
	pipe     int32
	faulted  bool   // the current action ran with fault injection
	failed   uint64 // injected failures before the action
	faultPct int
	dying    bool // the helper's socket has sk_refcnt 0
}

func (s *ownersMachine) value(t *rapid.T, m *rMap) []byte {
	n := m.m.ValueSize()
	return rapid.SliceOfN(rapid.Byte(), n, n).Draw(t, "value")
}

// arm turns fault injection on for this action with probability
// faultPct%: each allocation then fails with a drawn probability. The
// smallest draw means no fault: a fuzz input that runs out of bytes draws
// minimums, and must not fail every allocation (then no skb could ever be
// made, and every action that needs one would skip for ever).
func (s *ownersMachine) arm(t *rapid.T) {
	s.failed = s.acct.Stats().Total.Failed
	s.faulted = rapid.IntRange(0, 99).Draw(t, "fault?") >= 100-s.faultPct
	if s.faulted {
		s.acct.SetFault(kmem.Fault{Prob: rapid.SampledFrom([]float64{0.3, 0.6, 1}).Draw(t, "prob"),
			Seed: rapid.Uint64().Draw(t, "fault seed")})
	}
}

// disarm turns injection off and reports whether an allocation failed.
func (s *ownersMachine) disarm() bool {
	s.acct.SetFault(kmem.Fault{})
	s.faulted = false
	return s.acct.Stats().Total.Failed != s.failed
}

// outcome checks err against the reference's expectation want: with no
// injected failure they must agree; with one, the operation must have
// failed with ENOMEM (reported false: the caller leaves the reference as
// it was) or succeeded without the failed allocation mattering (never
// the case for the paths here, so it is an error).
func outcome(t *rapid.T, what string, want errno.Errno, err error, injected bool) bool {
	got := errno.Of(err)
	if injected && got == errno.ENOMEM {
		return false
	}
	if injected && want == 0 {
		if got != errno.ENOMEM {
			t.Fatalf("%s: an allocation failed but the result is %v (err %v), want ENOMEM", what, got.Name(), err)
		}
		return false
	}
	if got != want {
		t.Fatalf("%s: errno %v, want %v (err %v)", what, got.Name(), want.Name(), err)
	}
	return want == 0
}

func (s *ownersMachine) pickMap(t *rapid.T, kind localstorage.OwnerType) *rMap {
	var c []*rMap
	for _, m := range s.maps {
		if m.kind == kind {
			c = append(c, m)
		}
	}
	if len(c) == 0 {
		t.Skip("no map of this owner type")
	}
	return rapid.SampledFrom(c).Draw(t, "map")
}

func (s *ownersMachine) CreateMap(t *rapid.T) {
	kind := localstorage.OwnerType(rapid.IntRange(0, int(localstorage.NumOwnerTypes)-1).Draw(t, "owner type"))
	typ := [...]localstorage.MapType{localstorage.MapTypeSkStorage, localstorage.MapTypeTaskStorage, localstorage.MapTypeSkbStorage}[kind]
	var flags uint32
	if kind == localstorage.OwnerSock && rapid.Bool().Draw(t, "clone") {
		flags = localstorage.FlagClone
	}
	spec := localstorage.Spec(typ, rapid.SampledFrom([]int{4, 8, 40, 120}).Draw(t, "value size"), flags)
	s.arm(t)
	m, err := s.e.CreateMap(spec)
	if outcome(t, "map_create", 0, err, s.disarm()) {
		s.maps = append(s.maps, &rMap{m: m, kind: kind})
	}
}

// FreeMap frees a map while owners of every type may hold its elements.
func (s *ownersMachine) FreeMap(t *rapid.T) {
	if len(s.maps) == 0 || rapid.IntRange(0, 2).Draw(t, "rare") != 0 {
		t.Skip("map free is kept rare")
	}
	m := rapid.SampledFrom(s.maps).Draw(t, "map")
	m.m.Free()
	s.maps = slices.DeleteFunc(s.maps, func(x *rMap) bool { return x == m })
	for _, g := range s.stores() {
		g.del(m)
	}
}

func (s *ownersMachine) stores() []*rStore {
	var out []*rStore
	seen := map[*rStore]bool{}
	add := func(g *rStore) {
		if g != nil && !seen[g] {
			seen[g] = true
			out = append(out, g)
		}
	}
	for _, o := range s.socks {
		add(o.g)
	}
	for _, o := range s.tasks {
		add(o.g)
	}
	for _, o := range s.skbs {
		add(o.g)
	}
	return out
}

// install opens obj on a descriptor, which may reuse a closed one.
func (s *ownersMachine) install(obj any) int32 {
	fd := s.files.Install(obj)
	s.closed = slices.DeleteFunc(s.closed, func(x int32) bool { return x == fd })
	return fd
}

func (s *ownersMachine) NewSock(t *rapid.T) {
	if len(s.socks) >= 6 {
		t.Skip("enough sockets")
	}
	s.openSock(t)
}

// openSock opens a socket in a drawn namespace.
func (s *ownersMachine) openSock(t *rapid.T) {
	n := rapid.IntRange(0, len(s.nets)-1).Draw(t, "netns")
	sk := localstorage.NewSock(s.nets[n])
	s.socks = append(s.socks, &rSock{sk: sk, fd: s.install(sk), net: n, g: newStore()})
}

func (s *ownersMachine) NewTask(t *rapid.T) {
	if len(s.tasks) >= 4 {
		t.Skip("enough tasks")
	}
	tk := localstorage.NewTask(100 + len(s.tasks))
	s.tasks = append(s.tasks, &rTask{t: tk, fd: s.install(&localstorage.PidFD{Task: tk}), g: newStore()})
}

func (s *ownersMachine) AllocSkb(t *rapid.T) {
	if len(s.skbs) >= 8 {
		t.Skip("enough skbs")
	}
	s.arm(t)
	b, err := s.a.AllocSkb(rapid.IntRange(64, 512).Draw(t, "size"))
	if outcome(t, "alloc_skb", 0, err, s.disarm()) {
		s.skbs = append(s.skbs, &rSkb{b: b})
	}
}

func (s *ownersMachine) DestroySock(t *rapid.T) {
	if len(s.socks) == 0 {
		t.Skip("no socket")
	}
	o := rapid.SampledFrom(s.socks).Draw(t, "sock")
	if !o.released {
		s.closeSubflows(o)
	}
	switch {
	case o.released:
		o.sk.Destruct(s.e)
	case o.subflow:
		o.sk.Close(s.e) // __mptcp_close_ssk(): no fd to close
	default:
		o.sk.Close(s.e)
		s.files.Close(o.fd)
		s.closed = append(s.closed, o.fd)
	}
	if o.sk.OmemAlloc() != 0 {
		t.Fatalf("sk_omem_alloc %d after __sk_destruct", o.sk.OmemAlloc())
	}
	s.socks = slices.DeleteFunc(s.socks, func(x *rSock) bool { return x == o })
}

// closeSubflows destructs the subflows of an msk whose fd is being closed
// (mptcp_close() -> __mptcp_close_ssk(), as localstorage.Conn.Close does).
func (s *ownersMachine) closeSubflows(msk *rSock) {
	s.socks = slices.DeleteFunc(s.socks, func(x *rSock) bool {
		if x.msk != msk {
			return false
		}
		x.sk.Close(s.e)
		return true
	})
}

// ReleaseSock drops the socket's last reference before its destruction
// (the fd is closed first): lookups still see its elements, creation and
// delete are refused.
func (s *ownersMachine) ReleaseSock(t *rapid.T) {
	o := s.liveSock(t)
	s.closeSubflows(o)
	o.sk.Release()
	o.released = true
	s.files.Close(o.fd)
	s.closed = append(s.closed, o.fd)
}

// ExitTask models release_task(): pidfd syscalls get -ENOENT, helpers
// still reach the task until its last put.
func (s *ownersMachine) ExitTask(t *rapid.T) {
	if len(s.tasks) == 0 {
		t.Skip("no task")
	}
	o := rapid.SampledFrom(s.tasks).Draw(t, "task")
	if o.exited {
		t.Skip("exited")
	}
	o.t.Exit()
	o.exited = true
}

// liveSock picks a socket whose fd is open.
func (s *ownersMachine) liveSock(t *rapid.T) *rSock {
	var c []*rSock
	for _, o := range s.socks {
		if !o.released && !o.subflow {
			c = append(c, o)
		}
	}
	if len(c) == 0 {
		// Open one rather than skip: an input whose every action needs a
		// live socket (a fuzz input that runs out of bytes draws the same
		// action again and again) must not make every step skip, which
		// rapid reports as a failure. Released sockets stay until
		// destroyed, so the count is not capped here.
		s.openSock(t)
		return s.socks[len(s.socks)-1]
	}
	return rapid.SampledFrom(c).Draw(t, "sock")
}

func (s *ownersMachine) DestroyTask(t *rapid.T) {
	if len(s.tasks) == 0 {
		t.Skip("no task")
	}
	o := rapid.SampledFrom(s.tasks).Draw(t, "task")
	if !o.exited {
		o.t.Exit()
	}
	o.t.Free(s.e)
	s.files.Close(o.fd)
	s.closed = append(s.closed, o.fd)
	s.tasks = slices.DeleteFunc(s.tasks, func(x *rTask) bool { return x == o })
}

// fdOwner picks a key for a syscall on m: a live owner of m's type (the
// reference store returned), or a bad fd with the errno it gives.
func (s *ownersMachine) fdOwner(t *rapid.T, m *rMap) (fd int32, g *rStore, want errno.Errno) {
	if m.kind == localstorage.OwnerSkb {
		return 3, nil, errno.EOPNOTSUPP
	}
	switch rapid.IntRange(0, 9).Draw(t, "key kind") {
	case 0:
		if len(s.closed) > 0 {
			return rapid.SampledFrom(s.closed).Draw(t, "closed fd"), nil, errno.EBADF
		}
		return 9999, nil, errno.EBADF
	case 1:
		if m.kind == localstorage.OwnerSock {
			return s.pipe, nil, errno.ENOTSOCK
		}
		return s.pipe, nil, errno.EBADF
	}
	if m.kind == localstorage.OwnerSock {
		o := s.liveSock(t)
		return o.fd, o.g, 0
	}
	if len(s.tasks) == 0 {
		t.Skip("no task")
	}
	o := rapid.SampledFrom(s.tasks).Draw(t, "task")
	if o.exited {
		return o.fd, nil, errno.ENOENT
	}
	return o.fd, o.g, 0
}

func (s *ownersMachine) SyscallUpdate(t *rapid.T) {
	m := s.pickMap(t, localstorage.OwnerType(rapid.IntRange(0, 2).Draw(t, "type")))
	fd, g, want := s.fdOwner(t, m)
	flags := rapid.SampledFrom([]uint64{localstorage.UpdateAny, localstorage.UpdateNoExist, localstorage.UpdateExist, 8}).Draw(t, "flags")
	v := s.value(t, m)
	if want == 0 {
		// bpf_local_storage_update(): check_flags() comes first for an
		// owner without storage; with a storage the new element is
		// charged and allocated before check_flags() under the lock.
		old := g.has(m)
		switch {
		case flags == 8:
			want = errno.EINVAL
		case len(g.order) == 0 && flags == localstorage.UpdateExist:
			want = errno.ENOENT
		case m.kind == localstorage.OwnerSock && !s.fits(g, m):
			want = errno.ENOMEM
		case old && flags == localstorage.UpdateNoExist:
			want = errno.EEXIST
		case !old && flags == localstorage.UpdateExist:
			want = errno.ENOENT
		}
	}
	s.arm(t)
	err := m.m.UpdateElem(s.files, fd, v, flags)
	if outcome(t, fmt.Sprintf("update(%v, flags %d)", m.m, flags), want, err, s.disarm()) {
		g.del(m) // the old element (if any) is replaced by a new one
		g.put(m, v, true)
	}
}

// fits predicts bpf_sk_storage_charge() for an update of m on the socket
// whose reference is g: a new element is charged before the old one (if
// any) is uncharged, and a first element also charges the storage.
func (s *ownersMachine) fits(g *rStore, m *rMap) bool {
	var o *rSock
	for _, x := range s.socks {
		if x.g == g {
			o = x
		}
	}
	limit := s.nets[o.net].OptmemMax
	cur := s.omem(g, localstorage.OwnerSock)
	es := m.m.ElemSize()
	if es > limit || cur+es >= limit {
		return false
	}
	if len(g.order) == 0 {
		ss := s.e.StorageSize(localstorage.OwnerSock)
		return ss <= limit && cur+es+ss < limit
	}
	return true
}

func (s *ownersMachine) omem(g *rStore, kind localstorage.OwnerType) int {
	if len(g.order) == 0 {
		return 0
	}
	n := s.e.StorageSize(kind)
	for _, m := range g.order {
		n += m.m.ElemSize()
	}
	return n
}

func (s *ownersMachine) SyscallLookup(t *rapid.T) {
	m := s.pickMap(t, localstorage.OwnerType(rapid.IntRange(0, 2).Draw(t, "type")))
	fd, g, want := s.fdOwner(t, m)
	if want == 0 && !g.has(m) {
		want = errno.ENOENT
	}
	out := make([]byte, m.m.ValueSize())
	err := m.m.LookupElem(s.files, fd, out, 0)
	if outcome(t, "lookup", want, err, false) {
		g.looked(m)
		if string(out) != string(g.vals[m]) {
			t.Fatalf("lookup %v = %x, want %x", m.m, out, g.vals[m])
		}
	}
}

func (s *ownersMachine) SyscallDelete(t *rapid.T) {
	m := s.pickMap(t, localstorage.OwnerType(rapid.IntRange(0, 2).Draw(t, "type")))
	fd, g, want := s.fdOwner(t, m)
	if want == 0 && !g.has(m) {
		want = errno.ENOENT
	}
	if outcome(t, "delete", want, m.m.DeleteElem(s.files, fd), false) {
		g.del(m)
	}
}

func (s *ownersMachine) GetNextKey(t *rapid.T) {
	m := s.pickMap(t, localstorage.OwnerType(rapid.IntRange(0, 2).Draw(t, "type")))
	want := errno.ENOTSUPP
	if m.kind == localstorage.OwnerSkb {
		want = errno.EOPNOTSUPP
	}
	outcome(t, "get_next_key", want, m.m.GetNextKey(), false)
}

// helperGet dispatches the get helper / kfunc of m's owner type on a live
// owner; it returns the owner's store and whether the RFC refuses it.
func (s *ownersMachine) helper(t *rapid.T, m *rMap) (g *rStore, get func([]byte, uint64) ([]byte, error), del func() error, sk *rSkb) {
	s.dying = false
	switch m.kind {
	case localstorage.OwnerSock:
		if len(s.socks) == 0 {
			t.Skip("no socket")
		}
		o := rapid.SampledFrom(s.socks).Draw(t, "sock")
		s.dying = o.released
		return o.g, func(init []byte, f uint64) ([]byte, error) { return m.m.SkStorageGet(o.sk, init, f) },
			func() error { return m.m.SkStorageDelete(o.sk) }, nil
	case localstorage.OwnerTask:
		if len(s.tasks) == 0 {
			t.Skip("no task")
		}
		o := rapid.SampledFrom(s.tasks).Draw(t, "task")
		return o.g, func(init []byte, f uint64) ([]byte, error) { return m.m.TaskStorageGet(o.t, init, f) },
			func() error { return m.m.TaskStorageDelete(o.t) }, nil
	}
	if len(s.skbs) == 0 {
		t.Skip("no skb")
	}
	o := rapid.SampledFrom(s.skbs).Draw(t, "skb")
	return o.g, func(init []byte, f uint64) ([]byte, error) {
			return m.m.SkbStorageGet(localstorage.CtxNormal, o.b, init, f)
		},
		func() error { return m.m.SkbStorageDelete(localstorage.CtxNormal, o.b) }, o
}

func (s *ownersMachine) refused(o *rSkb) bool {
	return o != nil && o.cloned && o.g != nil && o.g.refs > 1
}

func (s *ownersMachine) HelperGet(t *rapid.T) {
	m := s.pickMap(t, localstorage.OwnerType(rapid.IntRange(0, 2).Draw(t, "type")))
	g, get, _, o := s.helper(t, m)
	flags := rapid.SampledFrom([]uint64{0, localstorage.GetCreate, localstorage.GetCreate, 2}).Draw(t, "flags")
	var init []byte
	if rapid.Bool().Draw(t, "init") {
		init = s.value(t, m)
	}
	var want errno.Errno
	hit := false
	switch {
	case flags > localstorage.GetCreate:
		want = errno.EINVAL
	case s.refused(o):
		want = errno.EOPNOTSUPP
	case o != nil && (!o.bpf || g == nil):
		if flags == 0 {
			want = errno.ENOENT
		}
	case g.has(m):
		hit = true
	case flags == 0 || s.dying:
		want = errno.ENOENT // a dying socket gets no new element (refcount_inc_not_zero)
	case m.kind == localstorage.OwnerSock && !s.fits(g, m):
		want = errno.ENOMEM
	}
	var extBefore *skb.Ext
	if o != nil {
		extBefore = o.b.Ext()
	}
	s.arm(t)
	v, err := get(init, flags)
	injected := s.disarm()
	if o != nil && injected && err != nil {
		s.resyncExt(t, o, extBefore)
	}
	if !outcome(t, "get", want, err, injected && !hit) {
		return
	}
	if hit {
		g.looked(m)
		if string(v) != string(g.vals[m]) {
			t.Fatalf("get hit %v = %x, want %x", m.m, v, g.vals[m])
		}
		return
	}
	if o != nil {
		s.extAddBPF(o)
		g = o.g
	}
	val := make([]byte, m.m.ValueSize())
	copy(val, init)
	g.put(m, val, true)
	if string(v) != string(val) {
		t.Fatalf("get(F_CREATE) %v = %x, want %x", m.m, v, val)
	}
}

// extAddBPF models skb_ext_add(skb, SKB_EXT_BPF_STORAGE) on the reference
// when the kfunc creates: a new object, or a COW of a shared one (the copy
// has no storage), or the bit on a private one.
func (s *ownersMachine) extAddBPF(o *rSkb) {
	if o.bpf {
		return
	}
	switch {
	case o.g == nil:
		o.g = newStore()
	case o.g.refs > 1:
		o.g.refs--
		o.g = newStore()
	}
	o.bpf = true
}

// resyncExt follows an extension COW that happened before a later
// allocation failed: the skb then holds a private copy without storage.
func (s *ownersMachine) resyncExt(t *rapid.T, o *rSkb, before *skb.Ext) {
	if o.b.Ext() != before {
		if o.g != nil {
			o.g.refs--
		}
		o.g = newStore()
		if !o.b.ExtExists(skb.ExtBPFStorage) {
			t.Fatalf("skb_ext_add left a new extension without the BPF_STORAGE bit")
		}
	}
	o.bpf = o.b.ExtExists(skb.ExtBPFStorage)
}

func (s *ownersMachine) HelperWrite(t *rapid.T) {
	m := s.pickMap(t, localstorage.OwnerType(rapid.IntRange(0, 2).Draw(t, "type")))
	g, get, _, o := s.helper(t, m)
	if g == nil || !g.has(m) || s.refused(o) || (o != nil && !o.bpf) {
		t.Skip("no element to write")
	}
	v, err := get(nil, 0)
	if err != nil {
		t.Fatalf("get of a present element: %v", err)
	}
	g.looked(m)
	i := rapid.IntRange(0, len(v)-1).Draw(t, "byte")
	v[i]++
	g.vals[m][i]++
}

func (s *ownersMachine) HelperDelete(t *rapid.T) {
	m := s.pickMap(t, localstorage.OwnerType(rapid.IntRange(0, 2).Draw(t, "type")))
	g, _, del, o := s.helper(t, m)
	want := errno.Errno(0)
	switch {
	case s.refused(o):
		want = errno.EOPNOTSUPP
	case g == nil || !g.has(m) || (o != nil && !o.bpf) || s.dying:
		want = errno.ENOENT
	}
	if outcome(t, "delete helper", want, del(), false) {
		g.del(m)
	}
}

// pickSkb draws a live skb, allocating one first if there is none, so that
// an action on an skb is always possible (rapid fails a run that can find
// no action that does not skip).
func (s *ownersMachine) pickSkb(t *rapid.T) *rSkb {
	if len(s.skbs) == 0 {
		s.AllocSkb(t)
	}
	if len(s.skbs) == 0 {
		t.Skip("no skb")
	}
	return rapid.SampledFrom(s.skbs).Draw(t, "skb")
}

func (s *ownersMachine) CloneSkb(t *rapid.T) {
	if len(s.skbs) >= 8 {
		t.Skip("enough skbs")
	}
	o := s.pickSkb(t)
	s.arm(t)
	c, err := o.b.Clone()
	if !outcome(t, "skb_clone", 0, err, s.disarm()) {
		return
	}
	o.cloned = true
	if o.g != nil {
		o.g.refs++
	}
	s.skbs = append(s.skbs, &rSkb{b: c, g: o.g, bpf: o.bpf, cloned: true})
}

func (s *ownersMachine) CopySkb(t *rapid.T) {
	if len(s.skbs) >= 8 {
		t.Skip("enough skbs")
	}
	o := s.pickSkb(t)
	s.arm(t)
	var c *skb.Buff
	var err error
	if rapid.Bool().Draw(t, "pskb") {
		c, err = o.b.PskbCopy()
	} else {
		c, err = o.b.Copy()
	}
	if !outcome(t, "skb_copy", 0, err, s.disarm()) {
		return
	}
	if o.g != nil {
		o.g.refs++
	}
	s.skbs = append(s.skbs, &rSkb{b: c, g: o.g, bpf: o.bpf})
}

func (s *ownersMachine) put(o *rSkb) {
	if o.g != nil {
		o.g.refs--
	}
	o.g, o.bpf = nil, false
}

func (s *ownersMachine) ScrubSkb(t *rapid.T) {
	o := s.pickSkb(t)
	o.b.Scrub(rapid.Bool().Draw(t, "xnet"))
	s.put(o)
}

// ExtCOW adds another extension (sec_path): a shared object is copied and
// the copy has no storage.
func (s *ownersMachine) ExtCOW(t *rapid.T) {
	o := s.pickSkb(t)
	s.arm(t)
	_, err := o.b.ExtAdd(skb.ExtSecPath)
	if !outcome(t, "skb_ext_add(SEC_PATH)", 0, err, s.disarm()) {
		return
	}
	switch {
	case o.g == nil:
		o.g = newStore()
	case o.g.refs > 1:
		o.g.refs--
		o.g = newStore()
	}
}

func (s *ownersMachine) FreeSkb(t *rapid.T) {
	o := s.pickSkb(t)
	if rapid.Bool().Draw(t, "drop") {
		o.b.KfreeSkb(skb.DropNotSpecified)
	} else {
		o.b.ConsumeSkb()
	}
	s.put(o)
	s.skbs = slices.DeleteFunc(s.skbs, func(x *rSkb) bool { return x == o })
}

// PassiveOpen clones a listener's BPF_F_CLONE elements into a child
// (bpf_sk_storage_clone); a failure leaves no child.
func (s *ownersMachine) PassiveOpen(t *rapid.T) {
	if len(s.socks) >= 6 {
		t.Skip("enough sockets")
	}
	p := s.liveSock(t)
	if p.connected {
		t.Skip("listen() on a connected socket is -EINVAL")
	}
	p.listening = true
	child := localstorage.NewSock(s.nets[p.net])
	c := &rSock{sk: child, net: p.net, g: newStore(), connected: true}
	want := errno.Errno(0)
	for _, m := range p.g.order {
		if m.m.Flags()&localstorage.FlagClone == 0 {
			continue
		}
		if !s.fitsOn(c, m) {
			want = errno.ENOMEM
			break
		}
		c.g.put(m, p.g.vals[m], false)
	}
	s.arm(t)
	err := s.e.SkClone(p.sk, child)
	injected := s.disarm()
	if !outcome(t, "bpf_sk_storage_clone", want, err, injected) {
		child.Close(s.e)
		return
	}
	// c.g.put links each copy at the head, as SkClone does: the child's
	// order is the parent's reversed.
	c.fd = s.install(child)
	s.socks = append(s.socks, c)
}

// ActiveOpen connects a socket as an MPTCP client (Env.ActiveOpen): the fd
// keeps the msk with its elements, and the first subflow, a new socket in
// the msk's namespace without an fd, starts without storage even when the
// msk holds BPF_F_CLONE elements (mptcp_subflow_create_socket() allocates
// it with sk_alloc(); nothing clones storage on the active side). From
// then on the helpers reach the subflow like any socket, charged on its
// own sk_omem_alloc.
func (s *ownersMachine) ActiveOpen(t *rapid.T) {
	if len(s.socks) >= 6 {
		t.Skip("enough sockets")
	}
	p := s.liveSock(t)
	if p.connected || p.listening {
		t.Skip("connect() on a connected or listening socket is -EISCONN")
	}
	conn := s.e.ActiveOpen(p.sk, true)
	if conn.Sock != p.sk || conn.PacketSock == p.sk || conn.PacketSock.Net() != p.sk.Net() {
		t.Fatalf("active open: fd socket %p (msk %p), packet socket %p, namespaces %p %p",
			conn.Sock, p.sk, conn.PacketSock, conn.PacketSock.Net(), p.sk.Net())
	}
	p.connected = true
	s.socks = append(s.socks, &rSock{sk: conn.PacketSock, fd: -1, net: p.net, g: newStore(), subflow: true, connected: true, msk: p})
}

// fitsOn is fits for a socket not yet in the machine.
func (s *ownersMachine) fitsOn(o *rSock, m *rMap) bool {
	s.socks = append(s.socks, o)
	defer func() { s.socks = s.socks[:len(s.socks)-1] }()
	return s.fits(o.g, m)
}

func (s *ownersMachine) SetOptmem(t *rapid.T) {
	n := rapid.IntRange(0, len(s.nets)-1).Draw(t, "netns")
	s.nets[n].OptmemMax = rapid.SampledFrom([]int{400, 700, 1200, localstorage.DefaultOptmemMax}).Draw(t, "optmem_max")
}

func (s *ownersMachine) GracePeriod(*rapid.T) { s.e.GracePeriod() }

func (s *ownersMachine) Refill(*rapid.T) { s.e.RefillSkbPool() }

// Check runs after every step.
func (s *ownersMachine) Check(t *rapid.T) {
	for _, o := range s.socks {
		// Closing the msk closes its subflows (mptcp_close() ->
		// __mptcp_close_ssk()): no subflow outlives its msk's fd.
		if o.subflow && (!slices.Contains(s.socks, o.msk) || o.msk.released) {
			t.Fatalf("subflow %p outlives its msk %p", o.sk, o.msk.sk)
		}
		s.checkStore(t, "sock", o.sk.Storage(), o.g, localstorage.OwnerSock)
		if want := s.omem(o.g, localstorage.OwnerSock); o.sk.OmemAlloc() != want {
			t.Fatalf("sk_omem_alloc %d, want %d", o.sk.OmemAlloc(), want)
		}
	}
	for _, o := range s.tasks {
		s.checkStore(t, "task", o.t.Storage(), o.g, localstorage.OwnerTask)
	}
	seen := map[*rStore]bool{}
	for _, o := range s.skbs {
		if o.b.Cloned() != o.cloned || o.b.ExtExists(skb.ExtBPFStorage) != o.bpf {
			t.Fatalf("skb cloned %v bpf %v, reference %v %v", o.b.Cloned(), o.b.ExtExists(skb.ExtBPFStorage), o.cloned, o.bpf)
		}
		if shared := o.g != nil && o.g.refs > 1; o.b.ExtShared() != shared {
			t.Fatalf("extension shared %v, reference %v", o.b.ExtShared(), shared)
		}
		st := localstorage.SkbStorage(o.b)
		if o.g == nil || !o.bpf {
			if st != nil {
				t.Fatalf("skb without an active BPF extension has a storage")
			}
			continue
		}
		if !seen[o.g] {
			seen[o.g] = true
			s.checkStore(t, "skb", st, o.g, localstorage.OwnerSkb)
		}
	}
	for k := range localstorage.NumOwnerTypes {
		var users uint64
		for _, c := range s.e.CacheUsage(k) {
			users += c
		}
		n := 0
		for _, m := range s.maps {
			if m.kind == k {
				n++
			}
		}
		if users != uint64(n) {
			t.Fatalf("%v cache index: %d users, %d live maps", k, users, n)
		}
	}
	s.checkObjects(t)
}

func (s *ownersMachine) checkStore(t *rapid.T, what string, st *localstorage.Storage, g *rStore, kind localstorage.OwnerType) {
	if len(g.order) == 0 {
		if st != nil {
			t.Fatalf("%s: storage with %d elements, reference has none", what, st.Len())
		}
		return
	}
	if st == nil {
		t.Fatalf("%s: no storage, reference has %d elements", what, len(g.order))
	}
	ents := st.Entries(nil)
	if len(ents) != len(g.order) {
		t.Fatalf("%s: %d elements, reference %d", what, len(ents), len(g.order))
	}
	for i, en := range ents {
		if en.Map != g.order[i].m {
			t.Fatalf("%s: element %d is %v, reference %v", what, i, en.Map, g.order[i].m)
		}
		if string(en.Value) != string(g.vals[g.order[i]]) {
			t.Fatalf("%s: %v = %x, reference %x", what, en.Map, en.Value, g.vals[g.order[i]])
		}
	}
	if kind != localstorage.OwnerSkb || s.strat != localstorage.StrategySlim {
		if want := s.omem(g, kind); st.MemCharge() != want {
			t.Fatalf("%s: mem_charge %d, want %d", what, st.MemCharge(), want)
		}
	}
	for i := range s.e.CacheSize(kind) {
		el, want := st.CacheSlot(i), g.cache[i]
		switch {
		case el == nil && want != nil:
			t.Fatalf("%s: cache slot %d empty, reference %v", what, i, want.m)
		case el != nil && (want == nil || el.Map() != want.m):
			t.Fatalf("%s: cache slot %d holds %v, reference %v", what, i, el.Map(), want)
		}
	}
}

// checkObjects: the accountant holds exactly the skb objects, two per map
// (smap, buckets), and the storages and elements the reference predicts
// for the strategy (rfc-prealloc takes them from a pool: not predicted).
func (s *ownersMachine) checkObjects(t *rapid.T) {
	if s.strat == localstorage.StrategyPrealloc {
		return
	}
	st := s.acct.Stats()
	l := s.a.Live()
	want := int64(l.Skbs+l.Buffers+l.Exts) + 2*int64(len(s.maps))
	for _, o := range s.socks {
		want += s.objs(o.g, false)
	}
	for _, o := range s.tasks {
		want += s.objs(o.g, false)
	}
	seen := map[*rStore]bool{}
	for _, o := range s.skbs {
		if o.g != nil && !seen[o.g] {
			seen[o.g] = true
			want += s.objs(o.g, true)
		}
	}
	if got := st.LiveObjects - st.PendingRCU; got != want {
		t.Fatalf("accountant: %d live objects, want %d (skbs %+v, %d maps)", got, want, l, len(s.maps))
	}
}

func (s *ownersMachine) objs(g *rStore, skbOwner bool) int64 {
	n := int64(len(g.order))
	if n == 0 {
		return 0
	}
	if !skbOwner {
		return n + 1
	}
	switch s.strat {
	case localstorage.StrategySlim:
		return n
	case localstorage.StrategyCoalloc:
		if g.embed == nil {
			return n + 1 // the block stays while later elements live
		}
		return n
	}
	return n + 1
}

// ownersProp is the cross-owner property under strategy st.
//
// With fuzz set (the Fuzz targets) every action first draws a value. An
// action that skips before drawing anything counts as not taken, and rapid
// fails a step after 100 such skips in a row ("can't find a valid
// (non-skipped) action"); a fuzzer's bytes can pick one skipping action
// that often (AllocSkb at its cap, ReleaseSock with no socket left), which
// says nothing about the code. After a draw, a skip is a rejected step,
// which rapid counts against the run's length and then stops the run
// cleanly.
func ownersProp(st localstorage.Strategy, fuzz bool) func(*rapid.T) {
	return func(rt *rapid.T) {
		acct := kmem.New()
		cs := rapid.SampledFrom([]int{1, 2, 16}).Draw(rt, "cache size")
		e := localstorage.NewEnv(localstorage.Config{Acct: acct, CacheSize: cs,
			PossibleCPUs: rapid.IntRange(1, 4).Draw(rt, "cpus"),
			Skb:          localstorage.SkbConfig{Strategy: st, PoolStorages: 4, PoolElems: 4}})
		a := skb.NewAllocator(acct, skb.DefaultProfile())
		e.AttachSkb(a)
		files := localstorage.NewFDTable()
		s := &ownersMachine{e: e, acct: acct, a: a, strat: st, files: files,
			nets:     []*localstorage.NetCore{localstorage.NewNetCore(), {OptmemMax: 1200}},
			pipe:     files.Install(&localstorage.OtherFile{Name: "pipe"}),
			faultPct: 12}
		actions := rapid.StateMachineActions(s)
		if fuzz {
			for k, a := range actions {
				if k != "" {
					actions[k] = func(t *rapid.T) { _ = rapid.Bool().Draw(t, "step"); a(t) }
				}
			}
		}
		rt.Repeat(actions)
		for _, o := range s.skbs {
			o.b.ConsumeSkb()
		}
		for _, o := range s.socks {
			if o.released {
				o.sk.Destruct(e)
			} else {
				o.sk.Close(e)
			}
		}
		for _, o := range s.tasks {
			o.t.Free(e)
		}
		if err := a.CheckLeaks(); err != nil {
			rt.Fatal(err)
		}
		e.Close()
		if o, _ := acct.Live(); o != 0 {
			rt.Fatalf("%d objects live after Close", o)
		}
	}
}

func TestOwnersStateMachine(t *testing.T) {
	for _, st := range localstorage.Strategies() {
		t.Run(string(st), func(t *testing.T) { check(t, 3000, 200, ownersProp(st, false)) })
	}
}
