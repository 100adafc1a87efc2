// Package kmem accounts for the kernel memory that skbsim's model allocates:
// kmalloc with the kernel's size classes, kmem_cache objects, immediate and
// RCU-deferred frees, per call site and per size class, live and peak. It also
// injects allocation failures (fail the Nth allocation, or with a seeded
// probability) so the model can follow the kernel's error paths.
//
// The accountant holds no objects: callers say what they allocate and free.
// Every model package that stands for a kernel allocation (skb heads,
// extensions, local storage, elements, hash entries) calls it, so reports can
// state allocations, bytes requested and bytes occupied per packet.
//
// An [Accountant] is not safe for concurrent use; the replay engine gives each
// flow shard its own and merges their [Stats] at the end. Recording does not
// allocate.
package kmem
