package localstorage

// Profile names a kernel version whose local storage layout and bucket hash
// the model follows. The two differ only where the kernel changed:
//
//   - ProfileV6_18 is the kernel the project's lab machines run (6.18.44):
//     struct bpf_local_storage still holds the smap pointer and a
//     raw_spinlock_t, 176 bytes with 16 cache slots; the map bucket of an
//     element is chosen by hashing the element pointer.
//   - ProfileBPFNext2026 is the torvalds snapshot of 2026 the notes describe
//     (rqspinlock and kmalloc_nolock series, and the base of the skb local
//     storage RFC): bpf_local_storage gained mem_charge and owner_refcnt and
//     lost smap, 184 bytes with 16 cache slots; the bucket is chosen by
//     hashing the storage pointer.
//
// Both land in kmalloc-192. The lab measured the first element on a socket
// charging 176 + 72 + value_size bytes against optmem_max (kernel_lab §5):
// the charge is sizeof(struct bpf_local_storage) in both versions
// (mem_charge(smap, owner, sizeof(*storage)) in bpf_local_storage_alloc()),
// so ProfileV6_18 reproduces the lab numbers and ProfileBPFNext2026 charges
// 184.
type Profile struct {
	// Name is the profile's name, as accepted by ParseProfile.
	Name string
	// StorageTail is sizeof(struct bpf_local_storage) minus its cache
	// array: the storage of an owner type with N cache slots is 8*N +
	// StorageTail bytes.
	//
	// 6.18:  cache[N] | smap 8 | list 8 | owner 8 | rcu 16 | lock 4 | bool 1 -> 45, padded to 48.
	// 2026:  cache[N] | list 8 | owner 8 | rcu 16 | lock 4 +4 | mem_charge 8 |
	//        owner_refcnt 4 | bool 1 -> 53, padded to 56.
	StorageTail int
	// HashStorage selects the bucket hash input: the storage pointer
	// (select_bucket(smap, local_storage), 2026) or the element pointer
	// (select_bucket(smap, selem), 6.18 and earlier).
	HashStorage bool
	// SmapSize is the size the model books for struct
	// bpf_local_storage_map (struct bpf_map plus buckets pointer,
	// bucket_log, elem_size, cache_idx, allocator flag) at map creation.
	// sizeof(struct bpf_map) is not derivable from the notes (no pahole
	// output); this figure is an estimate and only affects map-creation
	// accounting, never per-packet figures.
	SmapSize int
}

// The kernel profiles.
var (
	ProfileV6_18 = Profile{
		Name: "v6.18", StorageTail: 48, HashStorage: false, SmapSize: 280,
	}
	ProfileBPFNext2026 = Profile{
		Name: "bpf-next-2026", StorageTail: 56, HashStorage: true, SmapSize: 280,
	}
)

// DefaultProfile is the profile used when Config.Profile is zero: the 2026
// tree that the skb local storage RFC is based on.
var DefaultProfile = ProfileBPFNext2026

// Profiles lists the known profiles.
func Profiles() []Profile { return []Profile{ProfileV6_18, ProfileBPFNext2026} }

// ParseProfile returns the profile called name.
func ParseProfile(name string) (Profile, bool) {
	for _, p := range Profiles() {
		if p.Name == name {
			return p, true
		}
	}
	return Profile{}, false
}

// Layout constants of struct bpf_local_storage_elem on x86-64 (identical in
// both profiles): the element header up to sdata.data is 72 bytes
// (map_node 16, snode 16, local_storage 8, rcu 16, state 4, bool 1 + hole,
// then the cacheline-aligned sdata at 64 whose smap pointer ends at 72), and
// sizeof(struct bpf_local_storage_elem) is 128.
const (
	ElemHeaderSize  = 72
	selemStructSize = 128

	// DefaultCacheSize is BPF_LOCAL_STORAGE_CACHE_SIZE.
	DefaultCacheSize = 16
	// MaxCacheSize bounds the configurable cache size (cache_idx is u16 in
	// the kernel; the model keeps the slot array small).
	MaxCacheSize = 1024

	// MaxValueSize is BPF_LOCAL_STORAGE_MAX_VALUE_SIZE on x86-64:
	// min(KMALLOC_MAX_SIZE - MAX_BPF_STACK - sizeof(selem), U16_MAX -
	// sizeof(selem)) = min(4 MiB - 512 - 128, 65535 - 128) = 65407.
	MaxValueSize = 65535 - selemStructSize

	// bucketSize is sizeof(struct bpf_local_storage_map_bucket): an
	// hlist_head and a 4-byte lock, padded to 16.
	bucketSize = 16
)

// StorageSize returns sizeof(struct bpf_local_storage) in profile p for an
// owner type with cacheSize cache slots.
func (p Profile) StorageSize(cacheSize int) int { return 8*cacheSize + p.StorageTail }

// ElemSize returns smap->elem_size for a value of valueSize bytes:
// offsetof(struct bpf_local_storage_elem, sdata.data[value_size]).
func ElemSize(valueSize int) int { return ElemHeaderSize + valueSize }
