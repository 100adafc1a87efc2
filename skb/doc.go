// Package skb models Linux struct sk_buff and struct skb_ext as far as they
// decide where per-packet metadata survives: the two-level ownership of a
// per-skb header and a shared data buffer, XDP metadata in the headroom,
// clone / copy / copy-on-write, skb extensions, scrubbing and freeing. Every
// rule names the kernel function it models; behaviour that changed between
// kernel versions, or that the skb local storage RFC leaves open, is a field
// of Profile.
//
// # Geometry
//
// A Buff (struct sk_buff) points into a data buffer that skb_clone shares:
//
//	                 per skb (Buff)                           shared by clones
//	           head   data                 tail         end
//	            |      |                    |            |
//	            v      v                    v            v
//	buffer:     [ headroom ][ linear data ][ tailroom ][ skb_shared_info      ]
//	            |   [meta]|mac|net|trans|..|           | meta_len, gso_*,     |
//	            |         ^                            | hwtstamps, dataref   |
//	            |   skb_metadata_end = mac header      +----------------------+
//
//	Headroom = data - head   (Reserve, Push, Pull move data)
//	Headlen  = tail - data   (Put, Trim move tail)
//	Len      = Headlen + DataLen
//	Tailroom = end - tail    (0 for a non-linear skb)
//
// DataLen (skb->data_len) counts the bytes past the linear data: page
// fragments (heads stolen by TryCoalesce) and the skbs on the frag_list
// (AppendFragList), both in the shared info. IP reassembly makes such skbs;
// CopyBits, HeaderPointer, MayPull (__pskb_pull_tail), PskbPull, PskbTrim
// and Linearize reach their bytes, Copy and CopyExpand linearise,
// PskbCopy and ExpandHead share the fragments (page references) and the
// list (skb_clone_fraglist), and the buffer's last reference frees the
// list with the free's reason (kfree_skb_list_reason), running the
// ListFree hooks where each member's tracepoint fires. Put, Pull past the
// linear data and Trim of a non-linear skb panic, as the kernel's
// SKB_LINEAR_ASSERT and BUGs do.
//
// Offsets (mac, network, transport, inner headers, csum_start) are kept from
// head, as with NET_SKBUFF_DATA_USES_OFFSET. Push past the headroom panics
// like skb_under_panic, Put past the tailroom like skb_over_panic; Pull past
// len returns ok = false like skb_pull returning NULL. Sizes follow x86-64:
// alloc_skb takes the sk_buff from skbuff_head_cache (232 bytes, 256 in the
// slab) and SKB_HEAD_ALIGN(size) from skbuff_small_head (640) or kmalloc,
// and puts skb_shared_info (320 bytes) at the end of what was allocated.
//
// # XDP metadata
//
// Metadata is skb_shinfo()->meta_len (shared) plus the meta_len bytes of
// headroom that end at the mac header. Metadata computes that view from the
// current mac header every time; the buffer remembers where
// skb_metadata_set put the bytes, so the view is reported invalid when a
// Push wrote over them, the mac header moved, or a copy left them behind.
// PushMove and PullMove model the v6.19 skb_postpush/postpull_data_move
// helpers (and their pre-6.19 callers' plain memmove).
//
// # VLAN tags
//
// VlanUntag (skb_vlan_untag) moves a tag from the frame into
// vlan_proto/vlan_tci, and the metadata with the mac header, on every
// profile; VlanHwaccelPushInside, VlanPush and VlanPop move tags between
// vlan_tci and the frame with PushMove and PullMove, so the metadata
// follows only with DataMoveHelpers (v6.19). ChangeHead, NetHdrPush and
// NetHdrPop, the bodies of bpf_skb_change_head and bpf_skb_adjust_room, do
// the same.
//
// # Ownership
//
// Per skb (copied by clone, never shared): Header (tstamp, dev, cb, mark,
// priority, hash, tc_index, vlan, protocol, every flag of the headers
// group), header offsets, data/tail, users, the cloned bit, the dst and
// conntrack references, sk and destructor (not copied by clones), the
// active-extensions mask.
//
// Shared by every clone, reference counted by dataref: the buffer bytes
// (headroom, metadata, data, tailroom) and SharedInfo (meta_len, gso,
// hwtstamps). A clone that writes must first get a private head
// (pskb_expand_head via Cow, CowHead, Unclone, EnsureWritable); copies
// (Copy, CopyExpand, PskbCopy, Segment, IPFragment, PPCowData) get a new
// buffer whose shared info is zeroed, so meta_len is 0, except the segments
// Segment makes from a frag_list skb's clones, which keep that list skb's
// shared info (and, where pskb_expand_head keeps it, its metadata).
//
// Shared by reference between every skb whose header was copied from the
// same skb (clones, copies, segments, fragments): the Ext object. Writes
// through ExtFind are seen by all sharers; only ExtAdd on a shared object
// copies it (skb_ext_maybe_cow), and the copy's BPF storage pointer starts
// nil. The last put of an object calls ExtStorage.ExtDestroy once.
//
// Refcounted objects the skb points at (dst, conntrack) are Refs: the model
// Holds when it copies the pointer and Releases when it drops it.
//
// Freeing: KfreeSkb and ConsumeSkb take ownership of the skb (one reference
// of skb->users); the last reference runs the Free hooks, then
// skb_release_head_state (dst, destructor, conntrack, extensions) and
// skb_release_data (the last dataref frees the head). Unshare and
// ShareCheck take ownership and return the skb to use. Clone, Copy,
// CopyExpand, PskbCopy, ReallocHeadroom, Segment and IPFragment do NOT take
// ownership: the caller frees both. Everything else may modify the skb and
// does not take ownership.
//
// # Allocator, pools and misuse
//
// An Allocator serves one replay shard: it charges every modelled kernel
// allocation (sites skbuff_head_cache, skbuff_fclone_cache,
// skbuff_small_head, kmalloc_reserve, page_frag_alloc, page_pool,
// skbuff_ext_cache) to its kmem.Accountant, so injected faults follow the
// kernel's ENOMEM paths; and it reuses Buffs, buffers and Exts from FIFO
// pools, so steady-state allocation, clone and free allocate nothing on the
// Go heap. Freed objects are poisoned (POISON_FREE, 0x6b) and stay in the
// pool's queue as long as possible: using or freeing one again panics and
// names the operation that freed it. CheckLeaks reports live objects. The
// checks on the per-packet accessors make no call so that they inline: the
// value of such a panic is an error whose message (the same text the
// kernel-style panics always had) is formatted when it is printed.
//
// Hooks let carriers that live outside the skb (BPF local storage flags,
// a hash table keyed by skb pointer maintained from tracepoints) follow
// clones, copies, scrubs and frees.
package skb
