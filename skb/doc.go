// Package skb models Linux struct sk_buff and struct skb_ext as far as they
// decide where per-packet metadata survives: the two-level ownership of a
// per-skb header and a shared data buffer, XDP metadata in the headroom,
// clone / copy / copy-on-write, skb extensions, scrubbing and freeing.
//
// # Ownership
//
// A *Buff stands for one struct sk_buff. Its header fields (Header, header
// offsets, cb, mark, priority, hash, tstamp, dst, conntrack, the active
// extension mask) belong to that skb alone. The data buffer (head ... end,
// with skb_shared_info: meta_len, gso_*, hwtstamps, dataref) is shared by
// every clone and reference counted by dataref. Extension objects (*Ext) are
// shared by reference between every skb whose header was copied from the
// same skb, and copied only by ExtAdd on a shared object.
//
// Functions that free an skb ("takes ownership of skb") must not be followed
// by any use of it; a use after free or double free panics and names the
// operation that freed it. Functions that "do NOT take ownership" leave the
// caller responsible for the skb.
//
// See Buff for the geometry diagram.
package skb
