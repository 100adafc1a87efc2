package localstorage

import (
	"fmt"
	"iter"
	"math/bits"

	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/kmem"
)

// owner is what the generic code needs from an owner object: the storage
// pointer (map_owner_storage_ptr) and the optional charge callbacks
// (map_local_storage_charge/uncharge).
type owner interface {
	// storagePtr reads the owner's storage pointer (rcu_dereference of
	// *owner_storage()).
	storagePtr() *Storage
	// setStoragePtr writes it (the cmpxchg publish, or RCU_INIT_POINTER to
	// NULL when the last element goes).
	setStoragePtr(*Storage)
	// charge accounts size bytes to the owner; an error refuses them.
	charge(size int) error
	// uncharge returns size bytes.
	uncharge(size int)
}

type objState uint8

const (
	stFree    objState = iota // in a pool, or never used
	stLive                    // allocated and in use
	stPending                 // freed, waiting for a grace period
)

// Elem models struct bpf_local_storage_elem and its sdata: one map's value
// for one owner.
type Elem struct {
	smap    *Map     // SDATA(selem)->smap (cleared by bpf_selem_unlink_nofail)
	storage *Storage // selem->local_storage
	home    *Map     // the map whose pool the object returns to

	// snode: the owner's list, newest first.
	snext, sprev *Elem
	inStorage    bool
	// map_node: the map bucket list.
	mnext, mprev *Elem
	bucket       int
	inMap        bool

	data []byte // sdata.data, value_size bytes
	addr uint64 // synthetic address (hash_ptr input)

	// Allocation bookkeeping.
	st       objState
	site     kmem.Site
	ksize    kmem.Size // bytes booked in kmem (Bytes 0: part of another block)
	embedded bool      // co-allocated with its storage (rfc-coalloc)
	pooled   bool      // came from the per-CPU pool (rfc-prealloc)
	freeNext *Elem
}

// Map returns the element's map, nil once map_free unlinked it.
func (el *Elem) Map() *Map { return el.smap }

// Value returns the element's value (sdata.data). Writes through it are
// writes to the element, as a BPF program writes through the pointer the
// get helper returned.
func (el *Elem) Value() []byte { return el.data }

// Storage models struct bpf_local_storage: one owner's elements, newest
// first, with the per-owner-type cache of recently looked-up elements and
// the bytes charged to the owner.
type Storage struct {
	env   *Env
	kind  OwnerType
	cache []*Elem // cache[cache_idx] -> sdata of the last cached lookup
	// cached has bit i%64 set when cache[i] was written since the storage
	// was allocated (model bookkeeping: recycling clears only those slots).
	cached uint64
	head   *Elem // list, newest first (hlist_add_head_rcu)
	n      int   // number of linked elements
	owner  owner // storage->owner; nil once the last element went
	// memCharge is storage->mem_charge: sizeof(storage) + sum of
	// elem_size of the linked elements.
	memCharge int
	addr      uint64

	st       objState
	site     kmem.Site
	ksize    kmem.Size // bytes booked in kmem (Bytes 0: embedded in the skb_ext chunk)
	pooled   bool
	freeNext *Storage
}

// OwnerType returns the storage's owner type.
func (s *Storage) OwnerType() OwnerType { return s.kind }

// Len returns the number of elements.
func (s *Storage) Len() int { return s.n }

// MemCharge returns storage->mem_charge.
func (s *Storage) MemCharge() int { return s.memCharge }

// CacheSlot returns the element cache slot i points at (nil if empty).
func (s *Storage) CacheSlot(i int) *Elem { return s.cache[i] }

// Entry is one element of a storage, for traces and reports.
type Entry struct {
	Map    *Map
	Value  []byte // the live value (not a copy)
	Cached bool   // the map's cache slot points at this element
}

// Entries appends the storage's elements to dst, newest first (the kernel's
// list order), and returns the extended slice. It does not count as a
// lookup and changes no cache slot.
func (s *Storage) Entries(dst []Entry) []Entry {
	if s == nil {
		return dst
	}
	for el := s.head; el != nil; el = el.snext {
		m := el.smap
		dst = append(dst, Entry{Map: m, Value: el.data, Cached: s.cache[m.cacheIdx] == el})
	}
	return dst
}

// All iterates over the storage's elements, newest first, without
// allocating; like Entries it changes no cache slot. The storage must not
// change during the iteration.
func (s *Storage) All() iter.Seq[*Elem] {
	return func(yield func(*Elem) bool) {
		if s == nil {
			return
		}
		for el := s.head; el != nil; el = el.snext {
			if !yield(el) {
				return
			}
		}
	}
}

func (s *Storage) String() string {
	if s == nil {
		return "storage(nil)"
	}
	return fmt.Sprintf("storage(%s %d elems, mem_charge %d)", s.kind, s.n, s.memCharge)
}

// hashPtr models hash_ptr(ptr, bits) = hash_64((u64)ptr, bits).
func hashPtr(p uint64, bits uint) int {
	const goldenRatio64 = 0x61C8864680B583EB
	return int((p * goldenRatio64) >> (64 - bits))
}

// selectBucket models select_bucket(): the storage pointer (2026) or the
// element pointer (6.18) picks the bucket.
func (m *Map) selectBucket(s *Storage, el *Elem) int {
	if m.env.prof.HashStorage {
		return hashPtr(s.addr, m.env.bucketLog)
	}
	return hashPtr(el.addr, m.env.bucketLog)
}

// lookup models bpf_local_storage_lookup(): the cache slot first, then a
// walk of the list; with cacheit, a hit found by the walk is published in
// the cache slot (__bpf_local_storage_insert_cache()).
func (s *Storage) lookup(m *Map, cacheit bool) *Elem {
	if el := s.cache[m.cacheIdx]; el != nil && el.smap == m {
		s.env.acct.Op(cost.OpStorageCacheHit, 1)
		return el
	}
	return s.lookupList(m, cacheit)
}

// lookupList is the list walk of bpf_local_storage_lookup() after a cache
// miss (kept out of line so lookup inlines).
//
//go:noinline
func (s *Storage) lookupList(m *Map, cacheit bool) *Elem {
	acct := s.env.acct
	for el := s.head; el != nil; el = el.snext {
		acct.Op(cost.OpListWalk, 1)
		if el.smap == m {
			if cacheit {
				s.insertCache(m, el)
			}
			return el
		}
	}
	return nil
}

// insertCache models __bpf_local_storage_insert_cache(): under
// storage->lock, an element still linked to the storage is cached.
func (s *Storage) insertCache(m *Map, el *Elem) {
	s.env.acct.Op(cost.OpLock, 1)
	if el.inStorage {
		s.cache[m.cacheIdx] = el
		s.cached |= 1 << (uint(m.cacheIdx) & 63)
	}
}

// copyMapValue models copy_map_value(): the value is copied except its
// special fields (the bpf_spin_lock).
func (m *Map) copyMapValue(dst, src []byte) {
	n := m.spec.ValueSize
	if !m.spinLock {
		copy(dst[:n], src[:n])
	} else {
		copy(dst[:m.lockOff], src[:m.lockOff])
		copy(dst[m.lockOff+spinLockSize:n], src[m.lockOff+spinLockSize:n])
	}
	m.env.acct.Op(cost.OpMemcpyByte, uint64(n))
}

// copyMapValueLocked models copy_map_value_locked(): the same copy under
// the value's bpf_spin_lock.
func (m *Map) copyMapValueLocked(dst, src []byte) {
	m.env.acct.Op(cost.OpLock, 1)
	m.copyMapValue(dst, src)
}

// checkFlags models check_flags().
func checkFlags(old *Elem, flags uint64) error {
	f := flags &^ UpdateLock
	if old != nil && f == UpdateNoExist {
		return ErrExists
	}
	if old == nil && f == UpdateExist {
		return ErrNotFound
	}
	return nil
}

// newElem returns a clean element object of map m, from m's pool when
// possible.
func (m *Map) newElem() *Elem {
	el := m.pool
	if el != nil {
		m.pool = el.freeNext
		el.freeNext = nil
		clear(el.data)
	} else {
		el = &Elem{home: m, data: make([]byte, m.spec.ValueSize), addr: m.env.addr(m.elemSize)}
	}
	el.st = stLive
	return el
}

// recycle returns an element whose grace period ended to its map's pool.
func (el *Elem) recycle() {
	m := el.home
	*el = Elem{home: m, data: el.data, addr: el.addr}
	if m.freed {
		return
	}
	el.freeNext = m.pool
	m.pool = el
}

// newStorage returns a clean storage object for owner type kind.
func (e *Env) newStorage(kind OwnerType) *Storage {
	s := e.storagePool[kind]
	if s != nil {
		e.storagePool[kind] = s.freeNext
		s.freeNext = nil
	} else {
		s = &Storage{env: e, kind: kind, cache: make([]*Elem, e.cacheSize[kind]),
			addr: e.addr(e.StorageSize(kind))}
	}
	s.st = stLive
	return s
}

func (e *Env) recycleStorage(s *Storage) {
	if len(s.cache) <= 64 {
		for c := s.cached; c != 0; c &= c - 1 {
			s.cache[bits.TrailingZeros64(c)] = nil
		}
	} else if s.cached != 0 {
		clear(s.cache)
	}
	*s = Storage{env: e, kind: s.kind, cache: s.cache, addr: s.addr}
	s.freeNext = e.storagePool[s.kind]
	e.storagePool[s.kind] = s
}

// selemAlloc models bpf_selem_alloc(): charge elem_size to the owner, then
// allocate a zeroed element (bpf_map_kzalloc / bpf_map_kmalloc_nolock),
// set sdata.smap and copy the initial value (special fields are not
// copied). A failed allocation uncharges. first says the element starts a
// new storage (the co-allocating strategy books it with the storage).
func (e *Env) selemAlloc(m *Map, o owner, value []byte, first bool, site kmem.Site) (*Elem, error) {
	if err := o.charge(m.elemSize); err != nil {
		return nil, ErrNoMem
	}
	el := m.newElem()
	if err := e.elemMem(m, el, first, site); err != nil {
		o.uncharge(m.elemSize)
		el.st = stFree
		el.freeNext = m.pool
		m.pool = el
		return nil, ErrNoMem
	}
	el.smap = m
	if value != nil {
		m.copyMapValue(el.data, value)
	}
	return el, nil
}

// selemFree models bpf_selem_free(): the element is freed after a grace
// period (call_rcu_tasks_trace for reuse_now=false, call_rcu for
// reuse_now=true; both are RCU-deferred).
func (e *Env) selemFree(el *Elem, reuseNow bool) {
	if el.st != stLive {
		panic(fmt.Sprintf("localstorage: bpf_selem_free of an element in state %d", el.st))
	}
	el.st = stPending
	e.elemMemFree(el, reuseNow)
	el.freeNext = e.rcuElems
	e.rcuElems = el
}

// storageAlloc models bpf_local_storage_alloc(): charge and allocate the
// storage, link the first element to it and to its map bucket, and publish
// the storage in the owner with cmpxchg(owner_storage_ptr, NULL, storage);
// losing that race returns -EAGAIN after unlinking and freeing the storage.
func (e *Env) storageAlloc(o owner, kind OwnerType, m *Map, first *Elem) error {
	ss := e.StorageSize(kind)
	if err := o.charge(ss); err != nil {
		return ErrNoMem
	}
	s := e.newStorage(kind)
	if err := e.storageMem(s, first); err != nil {
		o.uncharge(ss)
		s.st = stFree
		s.freeNext = e.storagePool[kind]
		e.storagePool[kind] = s
		return ErrNoMem
	}
	s.owner = o
	s.memCharge = ss
	e.linkStorage(s, first)
	e.raceAt(RaceBeforePublish)
	e.acct.Op(cost.OpLock, 1) // b->lock
	e.linkMap(m, s, first)
	if o.storagePtr() != nil {
		// Another CPU published first.
		e.unlinkMap(first)
		e.dropList(s, first)
		e.storageFree(s, true)
		o.uncharge(ss)
		return ErrAgain
	}
	o.setStoragePtr(s)
	return nil
}

// dropList empties s's list of its only element el without uncharging (the
// EAGAIN path of bpf_local_storage_alloc frees the storage with the element
// still on its list; the caller frees the element).
func (e *Env) dropList(s *Storage, el *Elem) {
	s.head = nil
	s.n = 0
	s.memCharge -= el.smap.elemSize
	el.inStorage = false
	el.storage = nil
	el.snext, el.sprev = nil, nil
}

// storageFree models bpf_local_storage_free(): kfree_rcu (reuse_now) or
// call_rcu_tasks_trace; both RCU-deferred.
func (e *Env) storageFree(s *Storage, reuseNow bool) {
	if s.st != stLive {
		panic(fmt.Sprintf("localstorage: bpf_local_storage_free of a storage in state %d", s.st))
	}
	s.st = stPending
	e.storageMemFree(s, reuseNow)
	s.freeNext = e.rcuStorages
	e.rcuStorages = s
}

// linkStorage models bpf_selem_link_storage_nolock(): mem_charge grows by
// elem_size and the element goes to the head of the list.
func (e *Env) linkStorage(s *Storage, el *Elem) {
	s.memCharge += el.smap.elemSize
	el.storage = s
	el.sprev = nil
	el.snext = s.head
	if s.head != nil {
		s.head.sprev = el
	}
	s.head = el
	s.n++
	el.inStorage = true
}

// linkMap models bpf_selem_link_map_nolock(): the element goes to the head
// of its bucket.
func (e *Env) linkMap(m *Map, s *Storage, el *Elem) {
	b := m.selectBucket(s, el)
	el.bucket = b
	el.mprev = nil
	el.mnext = m.buckets[b]
	if el.mnext != nil {
		el.mnext.mprev = el
	}
	m.buckets[b] = el
	el.inMap = true
	m.nelems++
	e.acct.Op(cost.OpListLink, 1) // hlist_add_head_rcu; b->lock is counted by the caller
}

// unlinkMap models bpf_selem_unlink_map_nolock(): hlist_del_init_rcu of
// the map node.
func (e *Env) unlinkMap(el *Elem) {
	if !el.inMap {
		return
	}
	m := el.smap
	if el.mprev != nil {
		el.mprev.mnext = el.mnext
	} else {
		m.buckets[el.bucket] = el.mnext
	}
	if el.mnext != nil {
		el.mnext.mprev = el.mprev
	}
	el.mnext, el.mprev = nil, nil
	el.inMap = false
	m.nelems--
	e.acct.Op(cost.OpListLink, 1) // hlist_del_init_rcu; b->lock is counted by the caller
}

// removeFromList unlinks el from s's list (hlist_del_init_rcu of snode).
func (s *Storage) removeFromList(el *Elem) {
	if el.sprev != nil {
		el.sprev.snext = el.snext
	} else {
		s.head = el.snext
	}
	if el.snext != nil {
		el.snext.sprev = el.sprev
	}
	el.snext, el.sprev = nil, nil
	el.inStorage = false
	s.n--
}

// unlinkStorageMisc models bpf_selem_unlink_storage_nolock_misc(): clear
// the cache slot pointing at the element, uncharge elem_size (and the
// storage when this is its last element) from the owner and from
// mem_charge, and when last clear storage->owner and the owner's storage
// pointer.
func (e *Env) unlinkStorageMisc(el *Elem, m *Map, s *Storage, freeStorage bool) {
	if s.cache[m.cacheIdx] == el {
		s.cache[m.cacheIdx] = nil
	}
	unch := m.elemSize
	if freeStorage {
		unch += e.StorageSize(s.kind)
	}
	s.owner.uncharge(unch)
	s.memCharge -= unch
	if freeStorage {
		o := s.owner
		s.owner = nil
		o.setStoragePtr(nil)
	}
}

// unlinkStorageNolock models bpf_selem_unlink_storage_nolock(); it reports
// whether the storage lost its last element and must be freed.
func (e *Env) unlinkStorageNolock(s *Storage, el *Elem) bool {
	free := s.n == 1 // hlist_is_singular_node()
	e.unlinkStorageMisc(el, el.smap, s, free)
	s.removeFromList(el)
	return free
}

// selemUnlink models bpf_selem_unlink(), the delete path: under
// storage->lock the element leaves its map bucket then the storage; it is
// freed after a tasks-trace grace period, and so is the storage when this
// was its last element.
func (e *Env) selemUnlink(el *Elem) {
	if !el.inStorage {
		return
	}
	s := el.storage
	e.acct.Op(cost.OpLock, 2) // storage->lock, b->lock
	e.unlinkMap(el)
	free := e.unlinkStorageNolock(s, el)
	e.selemFree(el, false)
	if free {
		e.storageFree(s, false)
	}
}

// unlinkNofail models bpf_selem_unlink_nofail(), used by owner destroy
// (inMapFree=false) and map free (inMapFree=true). From the map side it
// clears sdata.smap; from the storage side it unlinks, and only map free
// uncharges the owner and clears the owner's pointer (destroy returns
// mem_charge for the caller to uncharge). The element is freed with
// reuse_now, the storage too when this was its last element.
func (e *Env) unlinkNofail(el *Elem, inMapFree bool) {
	s, m := el.storage, el.smap
	if m != nil {
		e.acct.Op(cost.OpLock, 1)
		e.unlinkMap(el)
		el.smap = nil
	}
	free := false
	if s != nil {
		e.acct.Op(cost.OpLock, 1)
		if el.inStorage {
			free = s.n == 1
			if m != nil && inMapFree {
				e.unlinkStorageMisc(el, m, s, free)
			}
			s.removeFromList(el)
		}
		el.storage = nil
	}
	e.selemFree(el, true)
	if free {
		e.storageFree(s, true)
	}
}

// destroy models bpf_local_storage_destroy(): every element is unlinked
// (bpf_selem_unlink_nofail(selem, NULL)), the storage freed with the last,
// and mem_charge returned for the caller to uncharge.
func (e *Env) destroy(s *Storage) int {
	charge := s.memCharge
	for el := s.head; el != nil; {
		next := el.snext
		e.unlinkNofail(el, false)
		el = next
	}
	return charge
}

// update models bpf_local_storage_update(owner, smap, value, map_flags,
// swap_uptrs=false, gfp). gfpKernel is the sleepable-program GFP_KERNEL
// case, which only allows BPF_NOEXIST.
func (e *Env) update(o owner, kind OwnerType, m *Map, value []byte, flags uint64, gfpKernel bool) (*Elem, error) {
	if flags&^UpdateLock > UpdateExist || (flags&UpdateLock != 0 && !m.spinLock) {
		return nil, ErrInvalid
	}
	if gfpKernel && flags&^UpdateLock != UpdateNoExist {
		return nil, ErrInvalid
	}
	s := o.storagePtr()
	if s == nil || s.head == nil {
		// Very first element for the owner.
		if err := checkFlags(nil, flags); err != nil {
			return nil, err
		}
		el, err := e.selemAlloc(m, o, value, true, siteSelem)
		if err != nil {
			return nil, err
		}
		if err := e.storageAlloc(o, kind, m, el); err != nil {
			e.selemFree(el, true)
			o.uncharge(m.elemSize)
			return nil, err
		}
		return el, nil
	}
	if flags&UpdateLock != 0 && flags&UpdateNoExist == 0 {
		// Hoping to find an old element to update in place without
		// taking storage->lock.
		old := s.lookup(m, false)
		if err := checkFlags(old, flags); err != nil {
			return nil, err
		}
		if old != nil && old.inStorage {
			m.copyMapValueLocked(old.data, value)
			return old, nil
		}
	}
	el, err := e.selemAlloc(m, o, value, false, siteSelem)
	if err != nil {
		return nil, err
	}
	e.raceAt(RaceBeforeStorageLock)
	e.acct.Op(cost.OpLock, 1) // storage->lock
	if s.head == nil {
		// A parallel delete emptied the storage.
		e.dropNew(o, m, el)
		return nil, ErrAgain
	}
	old := s.lookup(m, false)
	if err := checkFlags(old, flags); err != nil {
		e.dropNew(o, m, el)
		return nil, err
	}
	if old != nil && flags&UpdateLock != 0 {
		m.copyMapValueLocked(old.data, value)
		e.dropNew(o, m, el)
		return old, nil
	}
	e.acct.Op(cost.OpLock, 1) // b->lock
	e.linkMap(m, s, el)
	e.linkStorage(s, el)
	if old != nil {
		e.unlinkMap(old)
		e.unlinkStorageNolock(s, old)
		e.selemFree(old, false)
	}
	return el, nil
}

// dropNew is the free_selem label of bpf_local_storage_update(): the
// unused new element is uncharged and freed.
func (e *Env) dropNew(o owner, m *Map, el *Elem) {
	o.uncharge(m.elemSize)
	e.selemFree(el, true)
}

// lookupOwner returns the owner's element for m (nil if none).
func lookupOwner(o owner, m *Map, cacheit bool) *Elem {
	s := o.storagePtr()
	if s == nil {
		return nil
	}
	return s.lookup(m, cacheit)
}

// deleteOwner models the owner-type *_storage_del() functions: a lookup
// without caching, -ENOENT when absent, else bpf_selem_unlink().
func (e *Env) deleteOwner(o owner, m *Map) error {
	el := lookupOwner(o, m, false)
	if el == nil {
		return ErrNotFound
	}
	e.selemUnlink(el)
	return nil
}
