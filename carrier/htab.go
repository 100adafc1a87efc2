package carrier

import (
	"fmt"

	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/skb"
)

// Sizes of kernel/bpf/hashtab.c on x86-64 (v6.18).
const (
	// htabElemHeader is sizeof(struct htab_elem): hash_node (16), the
	// union of ptr_to_pptr and struct bpf_lru_node (list_head 16, cpu,
	// type, ref: 24), u32 hash, then key[] aligned to 8 at offset 48.
	htabElemHeader = 48
	// htabKeySize is the key: the skb pointer (key_size == sizeof(void *)).
	htabKeySize = 8
	// htabBucketSize is sizeof(struct bucket): hlist_nulls_head and a
	// raw_spinlock_t, padded to 16.
	htabBucketSize = 16
	// skbObjectStride spaces the synthetic sk_buff addresses: one
	// skbuff_head_cache object (struct sk_buff, 232 bytes, cacheline
	// aligned).
	skbObjectStride = 256
	// DefaultCapacity is max_entries when Options.Capacity is 0.
	DefaultCapacity = 16384
)

// Allocation sites of the hash designs, named after the kernel allocation.
var (
	siteHtabBuckets  = kmem.RegisterSite("htab_map_alloc:buckets")
	siteHtabElem     = kmem.RegisterSite("alloc_htab_elem")
	siteHtabPrealloc = kmem.RegisterSite("prealloc_init:elems")
	sitePcpuValue    = kmem.RegisterSite("bpf_map_alloc_percpu")
)

// htab models one BPF hash map keyed by the skb pointer: a
// BPF_MAP_TYPE_HASH with BPF_F_NO_PREALLOC (an element allocated per entry,
// alloc_htab_elem) or a BPF_MAP_TYPE_LRU_PERCPU_HASH (all elements
// preallocated by prealloc_init; an insert into a full map evicts the least
// recently used entry). Buckets are chains; every operation records the
// chain steps it walks and the bucket locks it takes.
type htab struct {
	acct     *kmem.Accountant
	lru      bool
	prealloc bool // BPF_MAP_TYPE_HASH without BPF_F_NO_PREALLOC
	valSize  int
	elemSize int // htab->elem_size
	maxEnt   int
	ncpu     int
	seed     uint32

	buckets []int32 // head element index per bucket, -1 empty
	elems   []helem
	free    []int32 // element indices not in the table
	count   int

	// LRU order, most recent at head (bpf_lru_list, modelled exactly).
	lruHead, lruTail int32

	// The cost ops of this map type. The cost table prices them per
	// helper-level operation (bucket lock and the first chain step
	// included), so the model adds only collision steps and failed
	// attempts on top.
	opLookup, opInsert, opDelete cost.Op
}

type helem struct {
	key   *skb.Buff
	addr  uint64
	id    uint64 // skb ID at insert: tells a stale entry from the current skb's
	hash  uint32
	next  int32
	prev  int32 // LRU
	lnext int32 // LRU
	used  bool
	value []byte
}

func newHtab(acct *kmem.Accountant, lru, prealloc bool, valSize, maxEnt, ncpu int, seed uint32) (*htab, error) {
	t := &htab{acct: acct, lru: lru, prealloc: prealloc && !lru, valSize: valSize, maxEnt: maxEnt, ncpu: ncpu, seed: seed,
		lruHead: -1, lruTail: -1,
		opLookup: cost.OpHashLookup, opInsert: cost.OpHashInsert, opDelete: cost.OpHashDelete}
	if lru {
		t.opLookup, t.opInsert, t.opDelete = cost.OpPercpuLRULookup, cost.OpPercpuLRUInsert, cost.OpPercpuLRUDelete
	}
	// models htab_map_alloc(): n_buckets = roundup_pow_of_two(max_entries).
	nb := 1
	for nb < maxEnt {
		nb <<= 1
	}
	t.buckets = make([]int32, nb)
	for i := range t.buckets {
		t.buckets[i] = -1
	}
	if lru {
		// percpu: the element stores a per-CPU pointer to the value.
		t.elemSize = htabElemHeader + htabKeySize + 8
	} else {
		t.elemSize = htabElemHeader + htabKeySize + round8(valSize)
	}
	if err := acct.Kmalloc(siteHtabBuckets, htabBucketSize*nb); err != nil {
		return nil, err
	}
	// The arena has one spare element for a replace in a full map.
	n := maxEnt + 1
	if lru {
		n = maxEnt
	}
	t.elems = make([]helem, n)
	t.free = make([]int32, n, n+1)
	vals := make([]byte, n*valSize)
	for i := range t.elems {
		t.elems[i].value = vals[i*valSize : (i+1)*valSize : (i+1)*valSize]
		t.elems[i].next, t.elems[i].prev, t.elems[i].lnext = -1, -1, -1
		t.free[i] = int32(n - 1 - i)
	}
	if lru {
		// models prealloc_init(): one area of max_entries elements, and a
		// per-CPU value (round_up(value_size, 8) on every possible CPU) per
		// element (bpf_map_alloc_percpu).
		if err := acct.Kmalloc(siteHtabPrealloc, t.elemSize*maxEnt); err != nil {
			acct.Kfree(siteHtabBuckets, htabBucketSize*nb)
			return nil, err
		}
		for i := 0; i < maxEnt; i++ {
			if err := acct.Kmalloc(sitePcpuValue, round8(valSize)*ncpu); err != nil {
				for ; i > 0; i-- {
					acct.Kfree(sitePcpuValue, round8(valSize)*ncpu)
				}
				acct.Kfree(siteHtabPrealloc, t.elemSize*maxEnt)
				acct.Kfree(siteHtabBuckets, htabBucketSize*nb)
				return nil, err
			}
		}
	}
	if t.prealloc {
		// models prealloc_init() of a plain hash: max_entries elements plus
		// one extra per possible CPU (alloc_extra_elems: the spare a
		// replacing update swaps in), in one area.
		if err := acct.Kmalloc(siteHtabPrealloc, t.elemSize*(maxEnt+ncpu)); err != nil {
			acct.Kfree(siteHtabBuckets, htabBucketSize*nb)
			return nil, err
		}
	}
	return t, nil
}

// free models htab_map_free(): every element, the preallocated area and
// the buckets.
func (t *htab) destroy() {
	for i := range t.elems {
		if t.elems[i].used {
			t.unlink(int32(i))
			t.freeElem(int32(i))
		}
	}
	if t.prealloc {
		t.acct.Kfree(siteHtabPrealloc, t.elemSize*(t.maxEnt+t.ncpu))
	}
	if t.lru {
		for i := 0; i < t.maxEnt; i++ {
			t.acct.Kfree(sitePcpuValue, round8(t.valSize)*t.ncpu)
		}
		t.acct.Kfree(siteHtabPrealloc, t.elemSize*t.maxEnt)
	}
	t.acct.Kfree(siteHtabBuckets, htabBucketSize*len(t.buckets))
}

// hashKey models htab_map_hash(key, 8, hashrnd) (jhash2 of the pointer)
// with a 64-bit mix seeded by hashrnd.
func (t *htab) hashKey(addr uint64) uint32 {
	z := addr ^ uint64(t.seed)*0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return uint32(z ^ (z >> 31))
}

func (t *htab) bucket(hash uint32) int { return int(hash) & (len(t.buckets) - 1) }

// find models lookup_nulls_elem_raw(): walk the bucket chain comparing
// hash and key. Steps past the first element (collisions) are counted as
// OpListWalk; the first is part of the operation's price.
func (t *htab) find(key *skb.Buff, hash uint32) int32 {
	steps := uint64(0)
	i := t.buckets[t.bucket(hash)]
	for ; i >= 0; i = t.elems[i].next {
		steps++
		if e := &t.elems[i]; e.hash == hash && e.key == key {
			break
		}
	}
	if steps > 1 {
		t.acct.Op(cost.OpListWalk, steps-1)
	}
	return i
}

// lookup models htab_map_lookup_elem() (lockless, RCU) and, for LRU maps,
// htab_lru_map_lookup_elem()'s bpf_lru_node_set_ref(): the model moves the
// entry to the head of the exact LRU order.
func (t *htab) lookup(key *skb.Buff, addr uint64) int32 {
	t.acct.Op(t.opLookup, 1)
	i := t.find(key, t.hashKey(addr))
	if i >= 0 && t.lru {
		t.touch(i)
	}
	return i
}

// insert models htab_map_update_elem(map, &skb, value, BPF_NOEXIST) for a
// key the caller found absent (or BPF_ANY, replacing: a new element is
// allocated, linked, and the old one unlinked and freed). LRU maps take a
// preallocated element, evicting the least recently used entry when none is
// free (prealloc_lru_pop -> htab_lru_map_delete_node). Returns the element
// and the evicted skb (nil if none).
func (t *htab) insert(key *skb.Buff, addr, id uint64, val []byte) (int32, *skb.Buff, error) {
	hash := t.hashKey(addr)
	var evicted *skb.Buff
	if t.lru && len(t.free) == 0 {
		// prealloc_lru_pop() runs before the bucket lock and evicts when
		// no element is free.
		evicted = t.evict()
	}
	old := t.find(key, hash) // under htab_lock_bucket()
	if !t.lru {
		// alloc_htab_elem(): a full map refuses a new key with -E2BIG
		// (replacing is fine: the old element is freed at once).
		// With preallocation the same limit is pcpu_freelist_pop()
		// finding no element (a replace uses the CPU's extra element).
		if t.count >= t.maxEnt && old < 0 {
			t.acct.Op(cost.OpLock, 1)
			t.acct.Op(t.opLookup, 1)
			return -1, nil, ErrMapFull
		}
		if !t.prealloc {
			// bpf_mem_cache_alloc() of elem_size, served by its kmalloc
			// size class (bpf_mem_alloc keeps per-class caches).
			if err := t.acct.Kmalloc(siteHtabElem, t.elemSize); err != nil {
				return -1, nil, err
			}
		}
	}
	i := t.pop()
	e := &t.elems[i]
	e.key, e.addr, e.id, e.hash, e.used = key, addr, id, hash, true
	copy(e.value, val)
	t.acct.Op(cost.OpMemcpyByte, uint64(len(val)))
	b := t.bucket(hash)
	e.next = t.buckets[b] // hlist_nulls_add_head_rcu
	t.buckets[b] = i
	t.count++
	t.acct.Op(t.opInsert, 1)
	if t.lru {
		t.pushHead(i)
	}
	if old >= 0 {
		// The replaced element is unlinked under the same lock and freed.
		t.unlink(old)
		t.freeElem(old)
	}
	return i, evicted, nil
}

// remove models htab_map_delete_elem() / htab_lru_map_delete_elem(): take
// the bucket lock, find, unlink, free (LRU: back to the free list).
func (t *htab) remove(key *skb.Buff, addr uint64) bool {
	i := t.find(key, t.hashKey(addr))
	if i < 0 {
		// -ENOENT: the bucket was locked and walked for nothing.
		t.acct.Op(cost.OpLock, 1)
		t.acct.Op(t.opLookup, 1)
		return false
	}
	t.unlink(i)
	t.freeElem(i)
	t.acct.Op(t.opDelete, 1)
	return true
}

func (t *htab) pop() int32 {
	n := len(t.free)
	i := t.free[n-1]
	t.free = t.free[:n-1]
	return i
}

// unlink removes element i from its bucket chain (hlist_nulls_del_rcu)
// and the LRU order.
func (t *htab) unlink(i int32) {
	e := &t.elems[i]
	b := t.bucket(e.hash)
	p := &t.buckets[b]
	for *p != i {
		p = &t.elems[*p].next
	}
	*p = e.next
	if t.lru {
		t.lruRemove(i)
	}
	t.count--
}

// freeElem models free_htab_elem() (bpf_mem_cache_free: reused at once;
// preallocated: pcpu_freelist_push) or, for LRU maps, bpf_lru_push_free().
func (t *htab) freeElem(i int32) {
	e := &t.elems[i]
	e.key, e.used, e.next = nil, false, -1
	if !t.lru && !t.prealloc {
		t.acct.Kfree(siteHtabElem, t.elemSize)
	}
	t.free = append(t.free, i)
}

// evict models the LRU shrink on a full map: htab_lru_map_delete_node() of
// the least recently used entry, under that entry's bucket lock.
func (t *htab) evict() *skb.Buff {
	i := t.lruTail
	if i < 0 {
		panic("carrier: LRU map without free elements or entries")
	}
	key := t.elems[i].key
	t.acct.Op(cost.OpLRUEvict, 1) // priced as the extra work of an evicting insert
	t.unlink(i)
	t.freeElem(i)
	return key
}

func (t *htab) pushHead(i int32) {
	e := &t.elems[i]
	e.prev, e.lnext = -1, t.lruHead
	if t.lruHead >= 0 {
		t.elems[t.lruHead].prev = i
	}
	t.lruHead = i
	if t.lruTail < 0 {
		t.lruTail = i
	}
}

func (t *htab) lruRemove(i int32) {
	e := &t.elems[i]
	if e.prev >= 0 {
		t.elems[e.prev].lnext = e.lnext
	} else {
		t.lruHead = e.lnext
	}
	if e.lnext >= 0 {
		t.elems[e.lnext].prev = e.prev
	} else {
		t.lruTail = e.prev
	}
	e.prev, e.lnext = -1, -1
}

func (t *htab) touch(i int32) {
	if t.lruHead == i {
		return
	}
	t.lruRemove(i)
	t.pushHead(i)
}

func (t *htab) String() string {
	return fmt.Sprintf("htab{lru=%v count=%d/%d buckets=%d elem_size=%d}", t.lru, t.count, t.maxEnt, len(t.buckets), t.elemSize)
}
