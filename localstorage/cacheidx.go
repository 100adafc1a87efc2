package localstorage

// cacheIndex models struct bpf_local_storage_cache: how many live maps of
// one owner type use each cache slot.
type cacheIndex struct {
	counts []uint64 // idx_usage_counts
}

// get models bpf_local_storage_cache_idx_get(): the first slot with the
// smallest usage count (stopping early at an unused slot) is taken and its
// count incremented. With more maps than slots, maps share slots and evict
// each other's cached element.
func (c *cacheIndex) get() int {
	minUsage := ^uint64(0)
	res := 0
	for i, n := range c.counts {
		if n < minUsage {
			minUsage = n
			res = i
			if minUsage == 0 {
				break
			}
		}
	}
	c.counts[res]++
	return res
}

// free models bpf_local_storage_cache_idx_free().
func (c *cacheIndex) free(idx int) {
	if c.counts[idx] == 0 {
		panic("localstorage: cache index usage underflow")
	}
	c.counts[idx]--
}
