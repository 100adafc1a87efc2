package localstorage

import (
	"fmt"

	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/kmem"
)

// MapType is enum bpf_map_type.
type MapType uint32

// Local storage map types. BPF_MAP_TYPE_SKB_STORAGE is the RFC's value in
// its tree (appended after BPF_MAP_TYPE_INSN_ARRAY).
const (
	MapTypeSkStorage   MapType = 24
	MapTypeTaskStorage MapType = 29
	MapTypeSkbStorage  MapType = 35
)

func (t MapType) String() string {
	switch t {
	case MapTypeSkStorage:
		return "sk_storage"
	case MapTypeTaskStorage:
		return "task_storage"
	case MapTypeSkbStorage:
		return "skb_storage"
	}
	return fmt.Sprintf("map_type(%d)", uint32(t))
}

// Owner returns the owner type the map type stores into; ok is false for a
// map type the model does not know.
func (t MapType) Owner() (OwnerType, bool) {
	switch t {
	case MapTypeSkStorage:
		return OwnerSock, true
	case MapTypeTaskStorage:
		return OwnerTask, true
	case MapTypeSkbStorage:
		return OwnerSkb, true
	}
	return 0, false
}

// Map creation flags (include/uapi/linux/bpf.h), as far as local storage
// looks at them.
const (
	FlagNoPrealloc uint32 = 1 << 0  // BPF_F_NO_PREALLOC, mandatory
	FlagRdonly     uint32 = 1 << 3  // BPF_F_RDONLY (refused by local storage)
	FlagMmapable   uint32 = 1 << 10 // BPF_F_MMAPABLE (refused)
	FlagClone      uint32 = 1 << 9  // BPF_F_CLONE: copy to the child socket on passive open

	// localStorageCreateFlagMask is BPF_LOCAL_STORAGE_CREATE_FLAG_MASK.
	localStorageCreateFlagMask = FlagNoPrealloc | FlagClone
)

// Element update flags (BPF_ANY, BPF_NOEXIST, BPF_EXIST, BPF_F_LOCK).
const (
	UpdateAny     uint64 = 0
	UpdateNoExist uint64 = 1
	UpdateExist   uint64 = 2
	UpdateLock    uint64 = 4
)

// GetCreate is BPF_LOCAL_STORAGE_GET_F_CREATE (= BPF_SK_STORAGE_GET_F_CREATE).
const GetCreate uint64 = 1

// MapSpec is the part of union bpf_attr (BPF_MAP_CREATE) local storage maps
// look at, plus model options.
type MapSpec struct {
	Name       string
	Type       MapType
	KeySize    int
	ValueSize  int
	MaxEntries int
	Flags      uint32
	// Key and Value are the BTF types btf_key_type_id/btf_value_type_id
	// refer to; nil stands for type id 0 (no BTF).
	Key, Value *BTFType
	// NoCapBPF says the creator lacks CAP_BPF (bpf_token_capable() fails).
	NoCapBPF bool
	// Skb holds model options of skb storage maps beyond the RFC as posted.
	Skb SkbMapOptions
}

// Spec returns a valid spec for a map of type t with valueSize-byte values:
// key_size 4 with an int key, a byte-array value struct, max_entries 0, and
// flags (BPF_F_NO_PREALLOC is added).
func Spec(t MapType, valueSize int, flags uint32) MapSpec {
	return MapSpec{
		Type: t, KeySize: 4, ValueSize: valueSize, Flags: flags | FlagNoPrealloc,
		Key: IntType("int", 4, true), Value: BytesType(valueSize),
	}
}

// Map is a local storage map (struct bpf_local_storage_map).
type Map struct {
	env      *Env
	spec     MapSpec
	owner    OwnerType
	id       uint32
	cacheIdx int
	elemSize int
	// elemKSize is elemSize as a kmalloc request; coallocKSize the
	// rfc-coalloc block of a storage and its first element.
	elemKSize, coallocKSize kmem.Size
	buckets                 []*Elem // hlist heads, select_bucket()
	nelems                  int     // linked elements (model bookkeeping, not in the kernel)
	freed                   bool
	spinLock                bool
	lockOff                 int
	pool                    *Elem // recycled elements of this map
	bucketMem               int
}

// CreateMap models BPF_MAP_CREATE for a local storage map type: map_create()
// -> map_alloc_check (flags, attributes, E2BIG) -> the CAP_BPF check ->
// map_alloc (smap and bucket allocations, cache index) -> map_check_btf
// (key and value sizes, i32 key). Errors are wrapped as "map_create: %w".
func (e *Env) CreateMap(spec MapSpec) (*Map, error) {
	ot, ok := spec.Type.Owner()
	if !ok {
		return nil, fmt.Errorf("map_create: map type %d: %w", spec.Type, ErrInvalid)
	}
	if err := e.mapAllocCheck(ot, &spec); err != nil {
		return nil, fmt.Errorf("map_create: %w", err)
	}
	// models map_create(): local storage map types need CAP_BPF
	// (syscall_map_create_cap() == SYSCALL_MAP_CAP_BPF), checked after
	// map_alloc_check.
	if spec.NoCapBPF {
		return nil, fmt.Errorf("map_create: %s needs CAP_BPF: %w", spec.Type, ErrPerm)
	}
	m, err := e.mapAlloc(ot, spec)
	if err != nil {
		return nil, fmt.Errorf("map_create: %w", err)
	}
	if err := m.checkBTF(); err != nil {
		// models map_create()'s error path after map_alloc: the map is
		// freed through ops->map_free.
		m.Free()
		return nil, fmt.Errorf("map_create: %w", err)
	}
	e.maps = append(e.maps, m)
	return m, nil
}

// mapAllocCheck models bpf_local_storage_map_alloc_check(), preceded for
// skb storage maps by the RFC's skb_storage_map_alloc_check().
func (e *Env) mapAllocCheck(ot OwnerType, spec *MapSpec) error {
	if ot == OwnerSkb {
		if err := skbMapAllocCheck(spec); err != nil {
			return err
		}
	} else if spec.Skb.any() {
		return fmt.Errorf("skb map options on a %s map: %w", spec.Type, ErrInvalid)
	}
	if spec.Flags&^localStorageCreateFlagMask != 0 || spec.Flags&FlagNoPrealloc == 0 ||
		spec.MaxEntries != 0 || spec.KeySize != 4 || spec.ValueSize == 0 ||
		spec.Key == nil || spec.Value == nil {
		return fmt.Errorf("flags %#x key_size %d value_size %d max_entries %d btf %t/%t: %w",
			spec.Flags, spec.KeySize, spec.ValueSize, spec.MaxEntries, spec.Key != nil, spec.Value != nil, ErrInvalid)
	}
	// value_size is a u32: a negative size is a huge one.
	if spec.ValueSize < 0 || spec.ValueSize > MaxValueSize {
		return fmt.Errorf("value_size %d > %d: %w", spec.ValueSize, MaxValueSize, ErrValueTooBig)
	}
	return nil
}

// mapAlloc models bpf_local_storage_map_alloc(): the smap
// (bpf_map_area_alloc), the buckets (bpf_map_kvcalloc, freeing the smap on
// failure), elem_size, and the cache index.
func (e *Env) mapAlloc(ot OwnerType, spec MapSpec) (*Map, error) {
	if err := e.acct.Kmalloc(siteSmap, e.prof.SmapSize); err != nil {
		return nil, fmt.Errorf("smap: %w", ErrNoMem)
	}
	nb := e.NumBuckets()
	if err := e.acct.Kmalloc(siteBuckets, nb*bucketSize); err != nil {
		e.acct.Kfree(siteSmap, e.prof.SmapSize)
		return nil, fmt.Errorf("buckets: %w", ErrNoMem)
	}
	e.nextMapID++
	m := &Map{
		env: e, spec: spec, owner: ot, id: e.nextMapID,
		elemSize: ElemSize(spec.ValueSize), buckets: make([]*Elem, nb),
		bucketMem: nb * bucketSize,
	}
	if spec.Value.SpinLock {
		m.spinLock = true
		m.lockOff = spec.Value.SpinLockOffset
	}
	m.elemKSize = kmem.SizeOf(m.elemSize)
	m.coallocKSize = kmem.SizeOf(e.StorageSize(ot) + m.elemSize)
	m.cacheIdx = e.caches[ot].get()
	e.countOptions(m, 1)
	return m, nil
}

// checkBTF models map_check_btf(): the key and value BTF sizes must equal
// key_size and value_size, then bpf_local_storage_map_check_btf() requires
// an i32 key. A spin lock must lie inside the value.
func (m *Map) checkBTF() error {
	k, v := m.spec.Key, m.spec.Value
	if k.Size != m.spec.KeySize || v.Size != m.spec.ValueSize {
		return fmt.Errorf("btf key size %d value size %d vs map %d/%d: %w",
			k.Size, v.Size, m.spec.KeySize, m.spec.ValueSize, ErrInvalid)
	}
	if v.SpinLock && (v.Kind != BTFStruct || v.SpinLockOffset < 0 || v.SpinLockOffset%4 != 0 ||
		v.SpinLockOffset+spinLockSize > v.Size) {
		return fmt.Errorf("bpf_spin_lock at %d in a %d-byte value: %w", v.SpinLockOffset, v.Size, ErrInvalid)
	}
	if !k.isI32() {
		return fmt.Errorf("key type %q is not a 4-byte int: %w", k.Name, ErrInvalid)
	}
	return nil
}

// ID returns the map id (map->id), unique within the Env.
func (m *Map) ID() uint32 { return m.id }

// Name returns the map name.
func (m *Map) Name() string { return m.spec.Name }

// Type returns the map type.
func (m *Map) Type() MapType { return m.spec.Type }

// OwnerType returns the owner type the map stores into.
func (m *Map) OwnerType() OwnerType { return m.owner }

// Flags returns the map flags.
func (m *Map) Flags() uint32 { return m.spec.Flags }

// ValueSize returns value_size.
func (m *Map) ValueSize() int { return m.spec.ValueSize }

// ElemSize returns elem_size (72 + value_size).
func (m *Map) ElemSize() int { return m.elemSize }

// CacheIdx returns the map's cache slot.
func (m *Map) CacheIdx() int { return m.cacheIdx }

// Len returns the number of elements linked to the map (all owners).
func (m *Map) Len() int { return m.nelems }

// Freed reports whether Free has run.
func (m *Map) Freed() bool { return m.freed }

// Spec returns the spec the map was created with.
func (m *Map) Spec() MapSpec { return m.spec }

func (m *Map) String() string {
	return fmt.Sprintf("%s(id=%d %q value=%d flags=%#x cache_idx=%d)",
		m.spec.Type, m.id, m.spec.Name, m.spec.ValueSize, m.spec.Flags, m.cacheIdx)
}

// mustLive panics when a freed map is used: the kernel holds a map
// reference for every user, so using a freed map is a model bug.
func (m *Map) mustLive() {
	if m.freed {
		m.freedMisuse()
	}
}

//go:noinline
func (m *Map) freedMisuse() { panic(fmt.Sprintf("localstorage: use of freed map %v", m)) }

// Free models the last map reference going away:
// bpf_local_storage_map_free() releases the cache index, unlinks every
// element from every owner (bpf_selem_unlink_nofail(selem, b): uncharging
// the owner and freeing the owner's storage when it held the last element),
// waits for RCU (synchronize_rcu, rcu_barrier_tasks_trace, rcu_barrier:
// every pending RCU callback in the kernel runs, modelled by a GracePeriod),
// then frees the buckets and the smap. Freeing twice panics.
func (m *Map) Free() {
	m.mustLive()
	e := m.env
	e.caches[m.owner].free(m.cacheIdx)
	e.countOptions(m, -1)
	for i := range m.buckets {
		for m.buckets[i] != nil {
			e.acct.Op(cost.OpListWalk, 1)
			e.unlinkNofail(m.buckets[i], true)
		}
	}
	m.freed = true
	for i, mm := range e.maps {
		if mm == m {
			e.maps = append(e.maps[:i], e.maps[i+1:]...)
			break
		}
	}
	e.GracePeriod()
	m.pool = nil
	e.acct.Kfree(siteBuckets, m.bucketMem)
	e.acct.Kfree(siteSmap, e.prof.SmapSize)
}

// countOptions tracks the live skb maps that need the skb hooks.
func (e *Env) countOptions(m *Map, d int) {
	if copyOnClone(m) {
		e.skb.cloneMaps += d
	}
	if m.spec.Skb.KeepOnScrub || m.spec.Skb.KeepOnNetns {
		e.skb.keepMaps += d
	}
}

// MemUsage models bpf_local_storage_map_mem_usage(): sizeof(smap) plus the
// buckets; elements are not counted ("The dynamically callocated selems are
// not counted currently").
func (m *Map) MemUsage() int { return m.env.prof.SmapSize + m.bucketMem }
