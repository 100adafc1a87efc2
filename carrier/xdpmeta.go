package carrier

import (
	"fmt"

	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/skb"
)

// NameXDPMeta is the xdp-meta design.
const NameXDPMeta = "xdp-meta"

func init() { Register(NameXDPMeta, newXDPMeta) }

// sizeofXDPFrame is sizeof(struct xdp_frame) on x86-64: the start of the
// headroom that bpf_xdp_adjust_meta() must not reach into (data, len,
// headroom, metasize, mem_type/mem info, dev_rx, frame_sz, flags).
const sizeofXDPFrame = 40

// xdpMeta implements the design without any allocation: the values live in
// the XDP metadata area, meta_len bytes of headroom ending at the mac
// header, written by an XDP program after bpf_xdp_adjust_meta() and read
// from tc through __sk_buff->data_meta (or bpf_dynptr_from_skb_meta()).
// All maps share one area laid out by the program (a u32 presence mask,
// then 4-aligned values), which must fit in the profile's MaxMetaLen.
//
// Where the value survives is wherever skb/ keeps the metadata: clones
// share it (shinfo and head are shared); skb_copy, pskb_copy, GSO segments
// and IP fragments lose it (meta_len 0); pskb_expand_head() (skb_cow,
// skb_unclone, ...) loses it on profiles before v6.19; a push that writes
// over the bytes, or a decapsulation that moves the mac header, leaves a
// view that is not the metadata (counted in Stats.Lost and reported as
// ErrNotFound: the program's presence check reads garbage), and so does, at
// tc only, data not being at the mac header (__sk_buff->data_meta is data
// minus meta_len: a multi-buffer generic XDP program's page-pool copy
// reaches tc with mac_len 0, so tc sees the end of the Ethernet header
// while tracepoints, reading from the mac header, still find the values;
// measured on 6.18 by the xdp-generic-gso-frags transition); GRO frees the
// non-first skbs; skb_scrub_packet() and netns crossings keep it.
//
// Programs access the area directly (xdp->data_meta, __sk_buff->data_meta),
// which is why a tc write on a cloned skb unclones first: the verifier marks
// the program seen_direct_write and cls_bpf runs bpf_unclone_prologue. (A
// program writing through bpf_dynptr_from_skb_meta() on v6.18 would instead
// write the shared head; the unclone on dynptr writes came with f38499ff45f5
// in v6.19.)
//
// Hooks: HookXDP writes (adjust_meta on the first write) and reads;
// HookTCIngress/HookTCEgress (and netkit's SCHED_CLS programs,
// HookNetkitPrimary/HookNetkitPeer) read and write in place within the existing
// area (a write cannot grow it: bpf_dynptr_write returns -E2BIG, and on a
// cloned skb the direct-write prologue unclones the head first, which
// clears the metadata before v6.19); HookTracepoint reads through BTF
// (tp_btf can load skb->head and shinfo->meta_len) but cannot write; the
// BPF LSM programs (HookLSM) get the skb as a BTF argument too and read the
// same way, read-only; the other hooks (cgroup_skb, socket filters,
// sockops) have no data_meta in their context (-EACCES from the verifier;
// bpf_dynptr_from_skb_meta is for tc programs only). Which reads count is
// the option Options.XDPMetaReach: the rules above are XDPMetaReachBTF,
// the default; XDPMetaReachCtx keeps reads to XDP and tc, and
// XDPMetaReachKernCtx adds cgroup_skb, socket filter and sockops programs,
// which can reach the skb with bpf_cast_to_kern_ctx and read the bytes with
// bpf_probe_read_kernel like a tracepoint.
type xdpMeta struct {
	base
	lay   slotLayout
	reach string
}

func newXDPMeta(env Env, maps []MapSpec, opts Options) (Carrier, error) {
	// FlagClone cannot be honoured (copies lose the metadata); the Keep
	// flags describe what skb_scrub_packet() does anyway.
	b, err := newBase(NameXDPMeta, env, maps, opts, FlagKeepScrub|FlagKeepNetns)
	if err != nil {
		return nil, err
	}
	lay, err := newSlotLayout(maps, 4)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", NameXDPMeta, err)
	}
	prof := env.Alloc.Profile()
	if prof.MetalenInvalid(lay.total) {
		// models xdp_metalen_invalid() in bpf_xdp_adjust_meta: the program
		// could never make the area.
		return nil, fmt.Errorf("%s: metadata of %d bytes, profile %s allows %d: %w",
			NameXDPMeta, lay.total, prof.Name, prof.MaxMetaLen, ErrBadValueSize)
	}
	switch opts.XDPMetaReach {
	case "":
		opts.XDPMetaReach = XDPMetaReachBTF
	case XDPMetaReachCtx, XDPMetaReachBTF, XDPMetaReachKernCtx:
	default:
		return nil, fmt.Errorf("%s: reach %q (want %s, %s or %s): %w", NameXDPMeta, opts.XDPMetaReach,
			XDPMetaReachCtx, XDPMetaReachBTF, XDPMetaReachKernCtx, ErrBadFlags)
	}
	return &xdpMeta{base: b, lay: lay, reach: opts.XDPMetaReach}, nil
}

// MetaLen is the size of the metadata area the design uses.
func (c *xdpMeta) MetaLen() int { return c.lay.total }

// xdpArea returns xdp->data_meta .. xdp->data at the XDP hook: the
// meta_len bytes right before skb->data (the skb's data is at the frame
// start there).
func (c *xdpMeta) xdpArea(b *skb.Buff) []byte {
	n := b.MetadataLen()
	if n == 0 || n > b.Headroom() {
		return nil
	}
	d := b.Headroom()
	return b.Head()[d-n : d : d]
}

// tcArea returns the area as a program at h sees it: at tc
// __sk_buff->data_meta, data minus meta_len (skb.Buff.DataMeta); through
// BTF (tracepoint, LSM, bpf_cast_to_kern_ctx) skb_metadata_end() (the mac
// header) minus meta_len, as bpf_dynptr_from_skb_meta also computes it;
// lost reports bytes that are not the metadata any more.
func (c *xdpMeta) tcArea(h Hook, b *skb.Buff) (area []byte, lost bool) {
	var view []byte
	var valid bool
	if h.SchedCLS() {
		view, valid = b.DataMeta()
	} else {
		view, valid = b.Metadata()
	}
	if view == nil {
		return nil, false
	}
	if !valid || len(view) != c.lay.total {
		return nil, true
	}
	return view, false
}

func (c *xdpMeta) area(h Hook, b *skb.Buff) []byte {
	if h == HookXDP {
		a := c.xdpArea(b)
		if len(a) != c.lay.total {
			return nil
		}
		return a
	}
	// tc programs use __sk_buff->data_meta directly (bpf_compute_data_pointers
	// set it up before the run): no helper call.
	a, lost := c.tcArea(h, b)
	if lost {
		c.st.Lost++
	}
	return a
}

// readable reports whether a program at h can read the area under the
// design's reach option.
func (c *xdpMeta) readable(h Hook) bool {
	switch h {
	case HookXDP, HookTCIngress, HookTCEgress, HookNetkitPrimary, HookNetkitPeer:
		return true
	case HookTracepoint, HookLSM:
		return c.reach != XDPMetaReachCtx
	case HookCgroupIngress, HookCgroupEgress, HookSocketFilter, HookSockOps:
		return c.reach == XDPMetaReachKernCtx
	}
	return false
}

func writable(h Hook) bool { return h == HookXDP || h.SchedCLS() }

// Lookup reads the map's slot of the metadata area. ErrNotFound when the
// skb has no (intact) metadata or the presence bit is clear; ErrHookDenied
// from hooks without data_meta. Does NOT take ownership of b.
func (c *xdpMeta) Lookup(h Hook, b *skb.Buff, m int) ([]byte, error) {
	c.check("lookup", h, m)
	c.st.Lookups++
	if !c.readable(h) {
		return nil, c.result(ErrHookDenied)
	}
	a := c.area(h, b)
	if a == nil || !c.lay.has(a, m) {
		return nil, c.result(ErrNotFound)
	}
	c.op(cost.OpMemcpyByte, uint64(c.lay.size[m]))
	return c.lay.slot(a, m), nil
}

// Store writes the map's slot. At XDP the first write makes the area with
// bpf_xdp_adjust_meta(-len) (ErrNoHeadroom if it would reach the
// xdp_frame); at tc the area must exist (ErrOutOfRange otherwise), and a
// cloned skb is uncloned first (bpf_unclone_prologue: bpf_skb_pull_data ->
// skb_ensure_writable -> pskb_expand_head, which allocates and, before
// v6.19, clears the metadata). Does NOT take ownership of b; may modify it.
func (c *xdpMeta) Store(h Hook, b *skb.Buff, m int, val []byte) error {
	c.checkStore(h, m, val)
	c.st.Stores++
	a, err := c.writeArea(h, b)
	if err != nil {
		return c.result(err)
	}
	copy(c.lay.slot(a, m), val)
	c.lay.setMask(a, c.lay.mask(a)|1<<m)
	c.op(cost.OpMemcpyByte, uint64(len(val)))
	return nil
}

// Delete clears the map's presence bit (a write, with Store's rules).
func (c *xdpMeta) Delete(h Hook, b *skb.Buff, m int) error {
	c.check("delete", h, m)
	c.st.Deletes++
	if !writable(h) {
		return c.result(ErrHookDenied)
	}
	if h == HookXDP {
		if a := c.area(h, b); a == nil || !c.lay.has(a, m) {
			return c.result(ErrNotFound)
		}
	} else if a, _ := c.tcArea(h, b); a == nil || !c.lay.has(a, m) {
		return c.result(ErrNotFound)
	}
	a, err := c.writeArea(h, b)
	if err != nil {
		return c.result(err)
	}
	if !c.lay.has(a, m) {
		return c.result(ErrNotFound) // the unclone lost it
	}
	c.lay.setMask(a, c.lay.mask(a)&^(1<<m))
	c.op(cost.OpMemcpyByte, maskBytes)
	return nil
}

func (c *xdpMeta) writeArea(h Hook, b *skb.Buff) ([]byte, error) {
	if !writable(h) {
		return nil, ErrHookDenied
	}
	if h == HookXDP {
		return c.xdpWrite(b)
	}
	if b.Cloned() {
		// models bpf_unclone_prologue(): tc programs that write packet
		// memory start with bpf_skb_pull_data(skb, 0) on cloned skbs.
		c.op(cost.OpHelperCall, 1)
		if err := b.EnsureWritable(b.Headlen()); err != nil {
			return nil, fmt.Errorf("%s store: %w", c.name, err)
		}
	}
	a := c.area(h, b)
	if a == nil {
		return nil, ErrOutOfRange
	}
	return a, nil
}

// xdpWrite returns the area at XDP, making it on the first write.
func (c *xdpMeta) xdpWrite(b *skb.Buff) ([]byte, error) {
	if b.SkbCloned() {
		// models netif_receive_generic_xdp(): a cloned skb gets a private
		// head before the program runs.
		if err := b.Unclone(); err != nil {
			return nil, fmt.Errorf("%s store: %w", c.name, err)
		}
	}
	if a := c.xdpArea(b); a != nil {
		if len(a) != c.lay.total {
			return nil, ErrOutOfRange // another program's metadata
		}
		return a, nil
	}
	// models bpf_xdp_adjust_meta(xdp, -len): meta must stay above
	// data_hard_start + sizeof(struct xdp_frame), else -EINVAL.
	c.op(cost.OpHelperCall, 1)
	if b.Headroom()-c.lay.total < sizeofXDPFrame {
		return nil, ErrNoHeadroom
	}
	// The driver (or generic XDP) then calls skb_metadata_set(skb, len).
	b.MetadataSet(c.lay.total)
	a := c.xdpArea(b)
	clear(a) // the program initialises its struct
	c.op(cost.OpMemcpyByte, uint64(len(a)))
	return a, nil
}

// Close implements Carrier; the design holds nothing.
func (c *xdpMeta) Close() error { c.closed = true; return nil }
