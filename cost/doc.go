// Package cost names the primitive operations that skbsim's metadata carriers
// perform (allocation by size class, frees, hash and list operations, locks,
// copies, program runs) and counts them without allocating.
//
// Counting happens in the model (localstorage, skb, netstack) through a
// [Counts] value that the replay engine snapshots per packet. A cost [Table]
// (nanoseconds per operation, each entry with a spread and its provenance)
// turns counts into an estimated CPU cost per packet with
// [Table.Estimate], which does not allocate.
//
// Tables are YAML files ([Load], [Save], [Parse]); [Default] returns the
// table embedded from default.yaml: the entries BPF can reach were measured
// by package kernel/calibrate on the project's 2-vCPU 6.18 VM (date,
// kernel, p10/p90 spread and load average in each entry); the others keep
// reference figures from named kernel benchmarks, derivations or stated
// estimates. Loading is strict: unknown fields, op or
// size-class names, duplicate or missing entries, negative or non-finite
// numbers, a spread that does not contain the value, and provenance without
// the fields its kind needs are one-line errors naming the file and line,
// wrapping [ErrInvalidTable].
//
// Provenance ([Source]): "measured" entries come from package
// kernel/calibrate on a running kernel and carry the date, kernel release
// and how the spread was taken (p10/p90 over rounds); "benchmark" entries
// quote a named kernel benchmark (tools/testing/selftests/bpf/benchs/...);
// "derived" entries state their formula; "estimate" entries (operations no
// BPF program can reach, such as skb_ext_add) state their reasoning.
//
// Size classes mirror package kmem ([SizeClasses], [NumSizeClasses]); kmem
// imports this package, so the list is repeated here and a test keeps both
// equal. Allocations and frees whose class is unknown (kmem_cache objects)
// are priced at the class-less kmalloc/kfree entries; [OpKfreeRCU] is
// priced as the deferral only, on top of the free.
package cost
