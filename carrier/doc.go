// Package carrier defines the seam between the stack model and the
// per-packet metadata designs that skbsim compares: where a program's value
// for "this packet" lives, and what the stack's clones, copies, scrubs and
// frees do to it.
//
// A [Carrier] is one design instantiated for one replay shard. Programs at
// the stack's hooks call Lookup, Store and Delete on the skb they run on; the
// carrier keeps its state wherever its design says (BPF local storage behind
// an skb extension, a buffer inside an skb extension, a hash table keyed by
// the skb pointer, the XDP metadata area) and hooks the skb allocator's
// clone, copy, scrub and free call-outs where its design needs them.
//
// Designs register a [Factory] under a name ("rfc", "rfc-coalloc",
// "rfc-prealloc", "rfc-slim", "ext-buffer", "skb-hash", "skb-hash-lru",
// "xdp-meta"); [New] builds one by name, so a scenario can swap designs
// without touching the stack.
//
// Ownership: a Carrier never takes ownership of an skb. Values returned by
// Lookup are views into the carrier's storage, valid until the next call on
// the same carrier; callers copy what they keep. Every kernel allocation a
// carrier performs goes through the shard's kmem.Accountant, so allocation
// counts, bytes and fault injection are the same for every design.
package carrier
