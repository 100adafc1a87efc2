package cost

// SizeClasses mirrors kmem.Classes: the kmalloc cache sizes on x86-64 with
// SLUB (kmalloc_info[] in mm/slab_common.c). Package kmem records allocations
// in these classes and imports this package, so the list is repeated here;
// a test keeps the two equal.
var SizeClasses = [...]int{8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192}

// NumSizeClasses mirrors kmem.NumClasses: the kmalloc caches plus one bucket
// for page-allocator (kmalloc_large) requests, at index LargeSizeClass.
const NumSizeClasses = len(SizeClasses) + 1

// LargeSizeClass mirrors kmem.LargeClass.
const LargeSizeClass = len(SizeClasses)

// SizeClassName names class i as kmem.ClassName does: "kmalloc-192", or
// "kmalloc-large" for LargeSizeClass. It returns "" for an index out of range.
func SizeClassName(i int) string {
	if i >= 0 && i < NumSizeClasses {
		return sizeClassNames[i]
	}
	return ""
}

// ParseSizeClass returns the class index named s, as printed by SizeClassName.
func ParseSizeClass(s string) (int, bool) {
	for i, n := range sizeClassNames {
		if n == s {
			return i, true
		}
	}
	return 0, false
}

var sizeClassNames = [NumSizeClasses]string{
	"kmalloc-8", "kmalloc-16", "kmalloc-32", "kmalloc-64", "kmalloc-96", "kmalloc-128",
	"kmalloc-192", "kmalloc-256", "kmalloc-512", "kmalloc-1024", "kmalloc-2048", "kmalloc-4096",
	"kmalloc-8192", "kmalloc-large",
}
