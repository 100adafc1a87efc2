package kmem

import "math/bits"

// PageSize is the x86-64 page size used for kmalloc_large.
const PageSize = 4096

// KmallocMaxCacheSize is the largest request served by a kmalloc slab cache
// (KMALLOC_MAX_CACHE_SIZE = 1 << (PAGE_SHIFT+1) with SLUB); larger requests go
// to the page allocator (kmalloc_large()).
const KmallocMaxCacheSize = 8192

// Classes are the kmalloc cache sizes on x86-64 with SLUB (kmalloc_info[] in
// mm/slab_common.c): powers of two from 8 plus the 96 and 192 caches.
var Classes = [...]int{8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192}

// NumClasses is the number of size-class buckets in Stats: the kmalloc caches
// plus one bucket for page-allocator (kmalloc_large) requests.
const NumClasses = len(Classes) + 1

// LargeClass is the bucket index for requests above KmallocMaxCacheSize.
const LargeClass = len(Classes)

// ClassIndex returns the bucket that serves a request of size bytes. It models
// kmalloc_index() through the kmalloc_size_index[] table of
// mm/slab_common.c for sizes up to 192 (so 65..96 uses kmalloc-96 and
// 129..192 uses kmalloc-192) and fls(size - 1) above. Size must be positive.
func ClassIndex(size int) int {
	if size <= 0 {
		panic("kmem: ClassIndex of non-positive size")
	}
	if size <= 192 {
		return int(smallIndex[(size-1)/8])
	}
	if size > KmallocMaxCacheSize {
		return LargeClass
	}
	// 193..8192: powers of two from 256 (class 7) up; fls(size-1) is the
	// bit length of size-1.
	return bits.Len(uint(size-1)) - 8 + 7
}

// smallIndex is kmalloc_size_index[] (by (size-1)/8) expressed as class
// indexes.
var smallIndex = func() (t [24]uint8) {
	for i := range t {
		size := (i + 1) * 8
		for c, cs := range Classes {
			if size <= cs {
				t[i] = uint8(c)
				break
			}
		}
	}
	return t
}()

// Occupied returns the bytes a request of size really takes: the kmalloc
// class size, or whole pages (rounded up to a power-of-two order, as
// kmalloc_large() -> alloc_pages(order) does) above KmallocMaxCacheSize.
func Occupied(size int) int { return classOccupied(ClassIndex(size), size) }

// classOccupied is Occupied(size) for a request of size that ClassIndex
// put in class i.
func classOccupied(i, size int) int {
	if i < LargeClass {
		return Classes[i]
	}
	pages := (size + PageSize - 1) / PageSize
	order := 1
	for order < pages {
		order <<= 1
	}
	return order * PageSize
}

// ClassName names bucket i, such as "kmalloc-192" or "kmalloc-large".
func ClassName(i int) string {
	if i >= 0 && i < len(Classes) {
		return classNames[i]
	}
	return "kmalloc-large"
}

var classNames = func() [len(Classes)]string {
	var n [len(Classes)]string
	for i, c := range Classes {
		n[i] = "kmalloc-" + itoa(c)
	}
	return n
}()

func itoa(v int) string {
	if v == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for v > 0 {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return string(b[i:])
}

// Cache models a kmem_cache with a fixed object size. The size actually
// occupied is the object size rounded up to the cache's alignment (64 for
// SLAB_HWCACHE_ALIGN caches, 8 otherwise).
type Cache struct {
	Name       string
	ObjectSize int
	Align      int

	// slab caches SlabSize for the ObjectSize and Align it was computed
	// from (NewCache sets it; a Cache built or changed by hand recomputes).
	slab, slabOf, slabAlign int
}

// NewCache returns a cache description. hwcacheAlign models SLAB_HWCACHE_ALIGN.
func NewCache(name string, objectSize int, hwcacheAlign bool) *Cache {
	align := 8
	if hwcacheAlign {
		align = 64
	}
	c := &Cache{Name: name, ObjectSize: objectSize, Align: align}
	c.slab, c.slabOf, c.slabAlign = c.slabSize(), objectSize, align
	return c
}

// SlabSize is the bytes one object occupies in its slab.
func (c *Cache) SlabSize() int {
	if c.slabOf == c.ObjectSize && c.slabAlign == c.Align && c.slabAlign != 0 {
		return c.slab
	}
	return c.slabSize()
}

func (c *Cache) slabSize() int {
	return (c.ObjectSize + c.Align - 1) / c.Align * c.Align
}
