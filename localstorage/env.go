package localstorage

import (
	"fmt"

	"github.com/skbsim/skbsim/kmem"
)

// OwnerType is a kind of kernel object that BPF local storage hangs off.
// Each owner type has its own cache index space (one struct
// bpf_local_storage_cache, DEFINE_BPF_STORAGE_CACHE(sk_cache) etc.).
type OwnerType uint8

// Owner types.
const (
	OwnerSock OwnerType = iota // struct sock: sk->sk_bpf_storage
	OwnerTask                  // struct task_struct: task->bpf_storage
	OwnerSkb                   // struct sk_buff via the SKB_EXT_BPF_STORAGE extension (RFC)
	NumOwnerTypes
)

var ownerNames = [NumOwnerTypes]string{"sk", "task", "skb"}

func (o OwnerType) String() string {
	if o < NumOwnerTypes {
		return ownerNames[o]
	}
	return fmt.Sprintf("owner%d", uint8(o))
}

// Allocation sites of the model, named after the kernel function that
// performs the allocation.
var (
	siteSmap      = kmem.RegisterSite("bpf_local_storage_map_alloc")
	siteBuckets   = kmem.RegisterSite("bpf_local_storage_map_alloc:buckets")
	siteSelem     = kmem.RegisterSite("bpf_selem_alloc")
	siteStorage   = kmem.RegisterSite("bpf_local_storage_alloc")
	siteCloneElem = kmem.RegisterSite("bpf_sk_storage_clone_elem")
)

// Config configures an Env. The zero value is usable: a fresh accountant,
// DefaultProfile, 16 cache slots per owner type, 2 possible CPUs.
type Config struct {
	// Acct records every allocation and operation. Nil means a new
	// accountant; the replay engine passes the shard's.
	Acct *kmem.Accountant
	// Profile selects struct sizes and the bucket hash; zero means
	// DefaultProfile.
	Profile Profile
	// CacheSize is the number of cache slots of struct bpf_local_storage
	// (BPF_LOCAL_STORAGE_CACHE_SIZE, 16) for the sk and task owner types;
	// 0 means 16. Changing it also changes sizeof(struct
	// bpf_local_storage) (8 bytes per slot).
	CacheSize int
	// PossibleCPUs is num_possible_cpus(); map buckets =
	// max(2, roundup_pow_of_two(PossibleCPUs)). 0 means 2 (the lab VMs).
	PossibleCPUs int
	// Skb configures the skb owner (RFC) and its allocation strategy.
	Skb SkbConfig
}

// Env is the kernel-side state local storage lives in: the allocation
// accountant, the kernel profile, one cache index per owner type, the
// RCU-deferred free lists and object pools. One Env stands for one kernel;
// it is not safe for concurrent use (the replay engine gives each shard its
// own).
type Env struct {
	acct      *kmem.Accountant
	prof      Profile
	ncpu      int
	bucketLog uint
	cacheSize [NumOwnerTypes]int
	// storageKSize is StorageSize of each owner type as a kmalloc request.
	storageKSize [NumOwnerTypes]kmem.Size
	caches       [NumOwnerTypes]cacheIndex

	nextAddr  uint64
	nextMapID uint32
	maps      []*Map

	// Objects freed through call_rcu and friends: they stay out of reuse
	// until GracePeriod.
	rcuElems    *Elem
	rcuStorages *Storage
	// Reusable storages per owner type (elements are pooled per map).
	storagePool [NumOwnerTypes]*Storage

	race   func(RacePoint)
	inRace bool

	skb skbState
}

// NewEnv returns an Env. It panics on an invalid configuration (a
// programmer error).
func NewEnv(cfg Config) *Env {
	e := &Env{acct: cfg.Acct, prof: cfg.Profile, ncpu: cfg.PossibleCPUs}
	if e.acct == nil {
		e.acct = kmem.New()
	}
	if e.prof.Name == "" {
		e.prof = DefaultProfile
	}
	if e.ncpu == 0 {
		e.ncpu = 2
	}
	if e.ncpu < 0 {
		panic(fmt.Sprintf("localstorage: PossibleCPUs=%d", e.ncpu))
	}
	cs := cfg.CacheSize
	if cs == 0 {
		cs = DefaultCacheSize
	}
	if cs < 1 || cs > MaxCacheSize {
		panic(fmt.Sprintf("localstorage: CacheSize=%d outside 1..%d", cs, MaxCacheSize))
	}
	// models bpf_local_storage_map_alloc(): nbuckets =
	// max(2, roundup_pow_of_two(num_possible_cpus())), bucket_log = ilog2.
	nb := 1
	for nb < e.ncpu {
		nb <<= 1
	}
	nb = max(nb, 2)
	for 1<<e.bucketLog < nb {
		e.bucketLog++
	}
	e.cacheSize[OwnerSock] = cs
	e.cacheSize[OwnerTask] = cs
	e.cacheSize[OwnerSkb] = cs
	e.initSkb(cfg.Skb)
	for o := range e.storageKSize {
		e.storageKSize[o] = kmem.SizeOf(e.StorageSize(OwnerType(o)))
	}
	for i := range e.caches {
		e.caches[i].counts = make([]uint64, e.cacheSize[i])
	}
	// A kernel direct-map-looking base so traces show plausible pointers.
	e.nextAddr = 0xffff888100000000
	return e
}

// Acct returns the accountant the Env records into.
func (e *Env) Acct() *kmem.Accountant { return e.acct }

// Profile returns the kernel profile.
func (e *Env) Profile() Profile { return e.prof }

// CacheSize returns the number of cache slots of storages of owner type o.
func (e *Env) CacheSize(o OwnerType) int { return e.cacheSize[o] }

// StorageSize returns sizeof(struct bpf_local_storage) for owner type o
// (for the skb owner under rfc-slim, the size of the slim storage embedded
// in the skb_ext chunk).
func (e *Env) StorageSize(o OwnerType) int {
	if o == OwnerSkb && e.skb.mode == allocSlim {
		return 8*e.cacheSize[o] + slimStorageTail
	}
	return e.prof.StorageSize(e.cacheSize[o])
}

// NumBuckets returns the number of buckets of every map (1 << bucket_log).
func (e *Env) NumBuckets() int { return 1 << e.bucketLog }

// CacheUsage returns idx_usage_counts of owner type o's cache index: how
// many live maps use each slot.
func (e *Env) CacheUsage(o OwnerType) []uint64 {
	return append([]uint64(nil), e.caches[o].counts...)
}

// Maps returns the live maps in creation order.
func (e *Env) Maps() []*Map { return append([]*Map(nil), e.maps...) }

// addr hands out a synthetic kernel address for a new object of size
// bytes, used as the input of hash_ptr() in select_bucket().
func (e *Env) addr(size int) uint64 {
	a := e.nextAddr
	e.nextAddr += uint64(kmem.Occupied(max(size, 8)))
	return a
}

// GracePeriod ends an RCU grace period (and an RCU Tasks Trace one): every
// object queued by call_rcu/kfree_rcu/call_rcu_tasks_trace is freed in the
// accountant (kmem.Accountant.GracePeriod) and its Go object becomes
// reusable. The replay engine calls it between packets or batches; calling
// only the accountant's GracePeriod frees the memory in the accounting but
// keeps the model's objects out of reuse.
func (e *Env) GracePeriod() {
	e.acct.GracePeriod()
	e.skb.pool.gracePeriod(e)
	for el := e.rcuElems; el != nil; {
		next := el.freeNext
		el.freeNext = nil
		el.recycle()
		el = next
	}
	e.rcuElems = nil
	for s := e.rcuStorages; s != nil; {
		next := s.freeNext
		s.freeNext = nil
		e.recycleStorage(s)
		s = next
	}
	e.rcuStorages = nil
}

// RacePoint names a window in which the kernel drops its locks and another
// CPU can change the owner's storage.
type RacePoint uint8

// Race windows.
const (
	// RaceBeforePublish: bpf_local_storage_alloc() has allocated and
	// linked the new storage and is about to publish it with
	// cmpxchg(owner_storage_ptr, NULL, storage). If another CPU published
	// first, the update fails with -EAGAIN.
	RaceBeforePublish RacePoint = iota + 1
	// RaceBeforeStorageLock: bpf_local_storage_update() has allocated the
	// new element for an existing storage and is about to take
	// storage->lock. If another CPU deleted the last element meanwhile, the
	// recheck of the list under the lock fails with -EAGAIN.
	RaceBeforeStorageLock
)

// SetRace installs fn to run at each race window, so a test can perform the
// other CPU's operation there (a deterministic interleaving). fn must not
// call GracePeriod (the racing CPU still holds the RCU read lock). Nil
// removes the hook. Race hooks do not nest.
func (e *Env) SetRace(fn func(RacePoint)) { e.race = fn }

func (e *Env) raceAt(p RacePoint) {
	if e.race != nil && !e.inRace {
		e.runRace(p)
	}
}

func (e *Env) runRace(p RacePoint) {
	e.inRace = true
	defer func() { e.inRace = false }()
	e.race(p)
}

// Close frees every live map (which unlinks and frees every element and
// every storage of every owner), ends a grace period and empties the
// rfc-prealloc pool, so that the accountant holds nothing of this Env. The
// Env must not be used afterwards.
func (e *Env) Close() {
	for len(e.maps) > 0 {
		e.maps[len(e.maps)-1].Free()
	}
	e.GracePeriod()
	e.drainSkbPool()
}
