package cost

// Op is a primitive operation whose cost is estimated separately. Allocation
// and free operations are further split by kmalloc size class in package kmem;
// here they count calls.
type Op uint8

// The primitive operations.
const (
	OpKmalloc         Op = iota // kmalloc/kmem_cache_alloc call
	OpKfree                     // immediate kfree/kmem_cache_free
	OpKfreeRCU                  // free deferred past an RCU grace period (kfree_rcu/call_rcu); priced as the deferral only, the free itself is priced per class
	OpExtAdd                    // skb_ext_add() on an skb without a shared extension
	OpExtCOW                    // skb_ext_maybe_cow(): copy of a shared extension object
	OpHashInsert                // hash table insert of a new key (htab_map_update_elem, BPF_MAP_TYPE_HASH)
	OpHashLookup                // hash table lookup (__htab_map_lookup_elem)
	OpHashDelete                // hash table delete (htab_map_delete_elem)
	OpLRUEvict                  // LRU eviction: extra cost of an insert that evicts (prealloc_lru_pop -> bpf_lru_pop_free -> htab_lru_map_delete_node)
	OpStorageCacheHit           // bpf_local_storage_lookup() served from the cache slot
	OpListWalk                  // one step of an hlist walk (storage list or hash bucket)
	OpLock                      // spinlock acquire/release pair
	OpMemcpyByte                // one byte copied (value copies, ext COW, clone copies)
	OpProgRun                   // a BPF program run at a hook
	OpTracepointRun             // a tracepoint program run (skb free reaper, clone hook)
	OpHelperCall                // a BPF helper or kfunc call
	OpLRUInsert                 // LRU hash insert of a new key without eviction (htab_lru_map_update_elem)
	OpLRULookup                 // LRU hash lookup, sets the ref bit (htab_lru_map_lookup_elem)
	OpLRUDelete                 // LRU hash delete (htab_lru_map_delete_elem)
	OpPercpuLRUInsert           // per-CPU LRU hash insert (htab_lru_percpu_map_update_elem, BPF_MAP_TYPE_LRU_PERCPU_HASH)
	OpPercpuLRULookup           // per-CPU LRU hash lookup (htab_lru_percpu_map_lookup_elem)
	OpPercpuLRUDelete           // per-CPU LRU hash delete
	OpListLink                  // one hlist add or delete (hlist_add_head_rcu / hlist_del_init_rcu) under a lock counted separately: linking a local storage element into its map bucket or storage list
	OpCsumByte                  // one byte summed by a software checksum (csum_partial: __skb_checksum_complete, skb_checksum_help)
	NumOps                      // number of operations; not an operation
)

var opNames = [NumOps]string{
	OpKmalloc: "kmalloc", OpKfree: "kfree", OpKfreeRCU: "kfree_rcu",
	OpExtAdd: "skb_ext_add", OpExtCOW: "skb_ext_cow",
	OpHashInsert: "hash_insert", OpHashLookup: "hash_lookup", OpHashDelete: "hash_delete",
	OpLRUEvict: "lru_evict", OpStorageCacheHit: "storage_cache_hit", OpListWalk: "list_walk_step",
	OpListLink: "list_link", OpLock: "lock", OpMemcpyByte: "memcpy_byte", OpProgRun: "prog_run",
	OpTracepointRun: "tracepoint_run", OpHelperCall: "helper_call",
	OpLRUInsert: "lru_insert", OpLRULookup: "lru_lookup", OpLRUDelete: "lru_delete",
	OpPercpuLRUInsert: "percpu_lru_insert", OpPercpuLRULookup: "percpu_lru_lookup",
	OpPercpuLRUDelete: "percpu_lru_delete", OpCsumByte: "csum_byte",
}

func (o Op) String() string {
	if o < NumOps {
		return opNames[o]
	}
	return "op?"
}

// ParseOp returns the Op named s, as printed by Op.String.
func ParseOp(s string) (Op, bool) {
	for i, n := range opNames {
		if n == s {
			return Op(i), true
		}
	}
	return 0, false
}

// Counts holds how many times each operation ran. The zero value is empty and
// ready to use; Counts is a plain array so snapshots and differences do not
// allocate.
type Counts [NumOps]uint64

// Add records n runs of op.
func (c *Counts) Add(op Op, n uint64) { c[op] += n }

// Inc records one run of op.
func (c *Counts) Inc(op Op) { c[op]++ }

// Sub returns c - old, the operations counted since the snapshot old.
func (c *Counts) Sub(old *Counts) Counts {
	var d Counts
	for i := range c {
		d[i] = c[i] - old[i]
	}
	return d
}

// Merge adds o into c.
func (c *Counts) Merge(o *Counts) {
	for i := range c {
		c[i] += o[i]
	}
}
