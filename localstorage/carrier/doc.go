// Package carrier is the seam between the stack model and the ways a
// per-packet metadata design can attach bytes to an sk_buff: BPF local
// storage for skbs (this package's LocalStorage, over package
// localstorage), and the alternatives other packages implement (a buffer in
// an skb extension chunk, a hash map keyed by the skb pointer with or
// without LRU eviction, XDP metadata in the headroom).
//
// A Carrier offers what a BPF program at a hook sees: Get (with create) and
// Delete of a slot's bytes on an skb. A slot is what a design calls a map,
// a field or a key: a named value of fixed size with lifetime options
// (copy on clone, keep across scrub, keep across a network namespace
// crossing). Hooks returns the skb lifecycle callbacks the carrier needs;
// the stack installs them on its skb.Allocator. Maintain runs off the hot
// path (pool refills, RCU grace periods).
//
// Ownership: carriers never take ownership of an skb; Get and Delete may
// allocate or free the carrier's own objects. Values returned by Get are
// live views, valid until the next call into the carrier that may free
// them (the end of the BPF program run, in kernel terms).
//
// Errors match kernel errnos under errors.Is (see package localstorage's
// sentinels): ENOENT for an absent value, ENOMEM, EOPNOTSUPP where the
// design refuses access (a shared clone under the skb storage RFC), EPERM
// in hardirq/NMI context, EINVAL for bad arguments.
package carrier
