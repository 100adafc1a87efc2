// Package carrier defines the seam between the stack model and the
// per-packet metadata designs that skbsim compares: where a program's value
// for "this packet" lives, and what the stack's clones, copies, scrubs and
// frees do to it.
//
// A [Carrier] is one design instantiated for one replay shard. Programs at
// the stack's hooks call Lookup, Store and Delete on the skb they run on; the
// carrier keeps its state wherever its design says and hooks the skb
// allocator's clone, copy, scrub and free call-outs where its design needs
// them.
//
// # Designs
//
// Designs register a [Factory] under a name; [New] builds one by name, so a
// scenario can swap designs without touching the stack:
//
//   - "rfc", "rfc-coalloc", "rfc-prealloc", "rfc-slim": BPF local storage
//     for skbs (the RFC "bpf: Introduce local storage for sk_buff") behind
//     the SKB_EXT_BPF_STORAGE extension, over package localstorage, with its
//     four allocation strategies. A clone shares the extension and both
//     sides are refused (ErrRefused, EOPNOTSUPP) while it is shared; an
//     skb_ext COW leaves the copy without storage; skb_scrub_packet() drops
//     it; the last extension put destroys it. First write: skb_ext, storage
//     and element (3 allocations) under "rfc".
//   - "ext-buffer": a fixed-size buffer inside the skb_ext object
//     (bpf_dynptr_from_skb_ext with BPF_SKB_EXT_F_CREATE): shared by
//     clones and copies, copied by skb_ext COW, dropped by scrub. First
//     write: the skb_ext (1 allocation), whose SKB_EXT_BPF_STORAGE slot is
//     the buffer (ExtBufferLayout gives the object size).
//   - "skb-hash", "skb-hash-lru": a BPF hash map (BPF_F_NO_PREALLOC) or a
//     per-CPU LRU hash keyed by the skb pointer, with a kfree_skb/
//     consume_skb tracepoint program reaping entries and, for FlagClone
//     maps, a clone tracepoint program copying them. Values survive
//     scrubbing; without the reaper a reused sk_buff sees stale values.
//     First write: one element (skb-hash) or none (preallocated LRU).
//   - "xdp-meta": the XDP metadata area in the headroom: no allocation;
//     written at XDP, read (and rewritten in place) at tc; lost on copies,
//     on pskb_expand_head() before v6.19, on pushes over it and when the
//     mac header moves.
//
// TestLifecycle checks (and with -v prints) what every design shows at every
// lifecycle event.
//
// # Ownership
//
// A Carrier never takes ownership of an skb. Store and Delete may modify
// the skb (add, COW or unclone its extension or head, as the kernel path
// they model does). Values returned by Lookup are views into the carrier's
// storage, valid until the next call on the same carrier; callers copy what
// they keep. Every kernel allocation a carrier performs goes through the
// shard's kmem.Accountant, and every primitive operation is recorded there
// (cost.Op), so allocation counts, bytes, fault injection and the cost
// table apply to every design alike. Call [GracePeriod] between packets or
// batches: RCU-deferred frees then complete and pools refill.
//
// A carrier installs its hooks on the Env's allocator when it is built;
// after Close they do nothing. ext-buffer and the rfc designs both use the
// SKB_EXT_BPF_STORAGE slot, which each sizes on the allocator when it is
// built (the RFC's pointer, rfc-slim's embedded storage, the buffer); they
// cannot share an allocator, and a second design with another slot size is
// refused (skb.ErrExtSlotBusy, EBUSY).
//
// # Errors
//
// Lookup, Store and Delete return the sentinels of this package, or errors
// wrapping package kmem's and localstorage's; each matches the errno a BPF
// program would see under errors.Is (ErrNotFound ENOENT, ErrRefused
// EOPNOTSUPP, ErrHookDenied EACCES, ErrMapFull and ErrOutOfRange E2BIG,
// ErrNoHeadroom EINVAL, allocation failures ENOMEM). Misuse (a closed
// carrier, a map index or hook out of range, a value of the wrong size)
// panics.
package carrier
