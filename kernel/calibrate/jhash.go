package calibrate

import "github.com/skbsim/skbsim/internal/jhash"

// htabHash64 is htab_map_hash() for an 8-byte key in a BPF_F_ZERO_SEED map
// (hashrnd 0). jhash and jhash2 agree on 8-byte keys, so the result does not
// depend on which of the two the kernel version uses.
func htabHash64(key uint64) uint32 {
	return jhash.Words([]uint32{uint32(key), uint32(key >> 32)}, 0)
}

// collidingKeys returns n distinct 8-byte keys that all fall in bucket 0 of
// a zero-seed hash map with nbuckets buckets (a power of two), in
// increasing order, starting the search at from.
func collidingKeys(n int, nbuckets uint32, from uint64) []uint64 {
	keys := make([]uint64, 0, n)
	for k := from; len(keys) < n; k++ {
		if htabHash64(k)&(nbuckets-1) == 0 {
			keys = append(keys, k)
		}
	}
	return keys
}
