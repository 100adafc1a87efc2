package netstack

import (
	"encoding/binary"
	"errors"
	"math"
	"net/netip"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/internal/errno"
	"github.com/skbsim/skbsim/skb"
)

// Program is a BPF program at a hook: any Go function can be one. Run
// returns the program's return code, whose meaning depends on the hook
// (XDPPass..., TCXNext..., CgroupAllow/CgroupDrop, a socket filter's
// accepted length, ignored at tracepoints). Run must not keep c or the skb
// after it returns and must not free the skb.
type Program interface {
	Run(c *Ctx) int
}

// ProgramFunc adapts a function to Program.
type ProgramFunc func(c *Ctx) int

// Run implements Program.
func (f ProgramFunc) Run(c *Ctx) int { return f(c) }

// XDP return codes (enum xdp_action).
const (
	XDPAborted  = 0
	XDPDrop     = 1
	XDPPass     = 2
	XDPTx       = 3
	XDPRedirect = 4
)

// tcx return codes (enum tcx_action_base) and TC_ACT_* values they alias.
const (
	TCXNext     = -1 // TC_ACT_UNSPEC: run the next program
	TCXPass     = 0  // TC_ACT_OK: stop, tc_index = tc_classid
	TCXDrop     = 2  // TC_ACT_SHOT
	TCXRedirect = 7  // TC_ACT_REDIRECT
	// TCXStolen is TC_ACT_STOLEN: the skb is taken (act_mirred's redirect
	// sent a clone); sch_handle_ingress / sch_handle_egress consume it.
	TCXStolen = 4
	// TCXConsumed is TC_ACT_CONSUMED (TC_ACT_VALUE_MAX + 1): the skb itself
	// was sent on (act_mirred's redirect at ingress, without a clone); the
	// caller does nothing more with it.
	TCXConsumed = 9
)

// cgroup_skb return codes.
const (
	CgroupDrop  = 0
	CgroupAllow = 1
)

// FilterAccept is a socket filter return that keeps the whole packet (a
// socket filter returns the number of bytes to keep; 0 drops).
const FilterAccept = 0x40000

// Redirect flags.
const (
	FlagIngress uint64 = 1 << 0 // BPF_F_INGRESS
	flagPeer    uint64 = 1 << 1 // BPF_F_PEER (internal, set by bpf_redirect_peer)
	flagNeigh   uint64 = 1 << 2 // BPF_F_NEIGH (internal, set by bpf_redirect_neigh)
	flagNexthop uint64 = 1 << 3 // BPF_F_NEXTHOP (internal: bpf_redirect_neigh with params)
)

// Helper errors as BPF programs see them (negative errno).
const (
	errEINVAL   = -22
	errENOMEM   = -12
	errEACCES   = -13
	errENOTSUP  = -524 // ENOTSUPP, the kernel-internal value bpf_xdp_adjust_meta returns
	errEFAULT   = -14
	errEALREADY = -114
)

// __sk_buff cb[] offsets: qdisc_skb_cb { u32 pkt_len; u16
// slave_dev_queue_mapping; u16 tc_classid; u8 data[20] } — cb[i] of a BPF
// program is data[4i:4i+4], i.e. skb->cb[8+4i:12+4i].
const (
	cbDataOff     = 8
	cbTCClassid   = 6
	bpfCBWords    = 5
	sizeofIPCB    = 24 // struct inet_skb_parm
	sizeofTCPSKB  = 48 // struct tcp_skb_cb (the whole cb)
	maxRecursion  = 8  // XMIT_RECURSION_LIMIT
	maxCtxDepth   = maxRecursion + 4
	metaFillStart = 0xa0
)

// redirectInfo models struct bpf_redirect_info: the target device's
// ifindex, or with cpumap (the cpumap's index + 1; 0 for none) the CPU
// whose entry bpf_redirect_map found (ri->tgt_value) in ifindex.
type redirectInfo struct {
	set     bool
	ifindex int32
	cpumap  int32
	devmap  int32 // the device map's index + 1, the key in ifindex
	flags   uint64
	nh      [16]byte // bpf_redirect_neigh's nexthop (ri->nh) with flagNexthop
	nhFam   uint8    // its nh_family: 4, 6, or 0 for neither
}

// Ctx is a program's view of one run: the hook, the device and namespace,
// the skb, the packet's id and the helpers. It is reused between runs.
type Ctx struct {
	// Hook is the attach point.
	Hook carrier.Hook
	// Prog is the program's index in Config.Programs.
	Prog int
	// Dev is the device of xdp and tc programs (nil elsewhere).
	Dev *Device
	// Netns is the namespace the program runs in.
	Netns *Netns
	// Socket is the socket of socket filter and cgroup programs.
	Socket *Socket
	// Skb is the packet. For native XDP it is the driver's frame wrapped
	// early (an XDP frame, see doc.go): only its bytes and XDP metadata
	// are meaningful.
	Skb *skb.Buff
	// PacketID is the capture index of the packet the skb carries.
	PacketID uint64
	// Carrier is the metadata design (nil if none was configured).
	Carrier carrier.Carrier
	// Reason is the drop reason at a kfree_skb tracepoint.
	Reason skb.DropReason

	s     *Stack
	count *uint64
	ctxRun
}

// ctxRun is the pointer-free state of one run, kept in one block so
// pushCtx clears it with a few wide stores.
type ctxRun struct {
	ri        redirectInfo
	xdpMeta   int   // XDP: data - data_meta
	xdpMirror int   // XDP: the skb's meta_len when xdpMeta was last mirrored into it
	egress    int32 // xdp_md->egress_ifindex (devmap programs)
	ingress   bool  // tc ingress or xdp
	xdp       bool
	generic   bool
	devBound  bool  // the program is device-bound (ProgramConfig.DevBound)
	rx        xdpRx // what the XDP RX metadata kfuncs read (xdphints.go)
}

// xdpMetaLen returns data - data_meta of an XDP run. The model mirrors
// data_meta in shinfo->meta_len; a change of meta_len the stack did not
// make is a carrier's bpf_xdp_adjust_meta through the skb, so it moves
// data_meta too.
func (c *Ctx) xdpMetaLen() int {
	if l := c.Skb.MetadataLen(); l != c.xdpMirror {
		c.xdpMeta, c.xdpMirror = l, l
	}
	return c.xdpMeta
}

// progOf counts a program run and returns c's program. Every hook runs
// its program as s.progRan(c, s.progOf(c).Run(c)): two halves small
// enough to inline.
func (s *Stack) progOf(c *Ctx) Program {
	s.acct.Op(cost.OpProgRun, 1)
	return s.progs[s.progIndex(c.Prog)].prog
}

// progRan reports a run of c's program that returned ret.
func (s *Stack) progRan(c *Ctx, ret int) {
	s.obs.ProgRun(ProgRunEvent{PacketID: c.PacketID, Prog: c.Prog, Hook: c.Hook, Ret: int32(ret)})
}

// Lookup calls the carrier's Lookup for this packet at this hook. The
// carrier counts the call it models (cost.OpHelperCall for a helper or
// kfunc, none for xdp-meta's direct data_meta access), so Lookup, Store
// and Delete count none of their own.
func (c *Ctx) Lookup(m int) ([]byte, error) {
	if c.Carrier == nil {
		return nil, carrier.ErrNotFound
	}
	return c.Carrier.Lookup(c.Hook, c.Skb, m)
}

// Store calls the carrier's Store.
func (c *Ctx) Store(m int, val []byte) error {
	if c.Carrier == nil {
		return carrier.ErrHookDenied
	}
	return c.Carrier.Store(c.Hook, c.Skb, m, val)
}

// Delete calls the carrier's Delete.
func (c *Ctx) Delete(m int) error {
	if c.Carrier == nil {
		return carrier.ErrNotFound
	}
	return c.Carrier.Delete(c.Hook, c.Skb, m)
}

func (c *Ctx) skbOnly() bool { return !c.xdp && c.Skb != nil }

// SetMark models a __sk_buff->mark store.
func (c *Ctx) SetMark(v uint32) {
	if c.skbOnly() {
		c.Skb.H().Mark = v
	}
}

// SetPriority models a __sk_buff->priority store.
func (c *Ctx) SetPriority(v uint32) {
	if c.skbOnly() {
		c.Skb.H().Priority = v
	}
}

// SetTCIndex models a __sk_buff->tc_index store (tc programs only).
func (c *Ctx) SetTCIndex(v uint16) {
	if c.skbOnly() && c.Hook.SchedCLS() {
		c.Skb.H().TCIndex = v
	}
}

// CB returns __sk_buff->cb[i] (qdisc_skb_cb data).
func (c *Ctx) CB(i int) uint32 {
	if !c.skbOnly() || i < 0 || i >= bpfCBWords {
		return 0
	}
	o := cbDataOff + 4*i
	return binary.LittleEndian.Uint32(c.Skb.H().CB[o : o+4])
}

// SetCB models a __sk_buff->cb[i] store.
func (c *Ctx) SetCB(i int, v uint32) {
	if !c.skbOnly() || i < 0 || i >= bpfCBWords {
		return
	}
	o := cbDataOff + 4*i
	binary.LittleEndian.PutUint32(c.Skb.H().CB[o:o+4], v)
}

// SetHash models bpf_set_hash(): __skb_set_sw_hash(skb, hash, true).
func (c *Ctx) SetHash(h uint32) {
	if c.skbOnly() {
		hd := c.Skb.H()
		hd.Hash, hd.SWHash, hd.L4Hash = h, true, true
	}
}

// SetTstamp models a direct __sk_buff->tstamp store by a program that does
// not read __sk_buff->tstamp_type (bpf_convert_tstamp_write without
// tstamp_type_access): at tc ingress tstamp_type is reset to REALTIME, then
// the value is stored. Use SetTstampRaw for a program that reads
// tstamp_type.
func (c *Ctx) SetTstamp(v int64) {
	if c.skbOnly() {
		c.Skb.H().Tstamp = v
		if c.ingress {
			c.Skb.H().TstampType = skb.ClockRealtime
		}
	}
}

// SetTstampRaw models the store of a program with tstamp_type_access: the
// value is stored as is and tstamp_type kept.
func (c *Ctx) SetTstampRaw(v int64) {
	if c.skbOnly() {
		c.Skb.H().Tstamp = v
	}
}

// Tstamp models a __sk_buff->tstamp load (bpf_convert_tstamp_read): a
// program without tstamp_type access reads 0 at tc ingress when tstamp
// holds a delivery time (tstamp_type != 0); typeAware programs read it as
// stored.
func (c *Ctx) Tstamp(typeAware bool) int64 {
	if !c.skbOnly() {
		return 0
	}
	h := c.Skb.H()
	if !typeAware && c.ingress && h.TstampType != skb.ClockRealtime {
		return 0
	}
	return h.Tstamp
}

// SetDeliveryTime models bpf_skb_set_tstamp(skb, v, BPF_SKB_CLOCK_MONOTONIC
// or TAI): skb_set_delivery_time.
func (c *Ctx) SetDeliveryTime(v int64, typ skb.TstampType) {
	if c.skbOnly() {
		c.Skb.SetDeliveryTime(v, typ)
	}
}

// Redirect models bpf_redirect(ifindex, flags): records the target in the
// per-CPU bpf_redirect_info and returns TC_ACT_REDIRECT (XDP_REDIRECT in
// XDP); unknown flags give TC_ACT_SHOT (XDP_ABORTED).
func (c *Ctx) Redirect(ifindex int32, flags uint64) int {
	c.s.acct.Op(cost.OpHelperCall, 1)
	if c.xdp {
		if flags != 0 {
			return XDPAborted
		}
		c.ri = redirectInfo{set: true, ifindex: ifindex}
		return XDPRedirect
	}
	if flags&^FlagIngress != 0 {
		return TCXDrop
	}
	c.ri = redirectInfo{set: true, ifindex: ifindex, flags: flags}
	return TCXRedirect
}

// RedirectCPU models bpf_redirect_map(&cpumap, cpu, flags) on a
// BPF_MAP_TYPE_CPUMAP (cpu_map_redirect -> __bpf_xdp_redirect_map), where
// cpumap indexes Config.Cpumaps: flags other than an action in the low
// bits give XDP_ABORTED; an empty entry gives the action in flags
// (XDP_ABORTED when 0); otherwise the entry is recorded and XDP_REDIRECT
// returned. The helper is XDP-only: other programs get their hook's drop
// code.
func (c *Ctx) RedirectCPU(cpumap int, cpu uint32, flags uint64) int {
	c.s.acct.Op(cost.OpHelperCall, 1)
	if !c.xdp {
		return dropRet(c.Hook)
	}
	const actionMask = XDPAborted | XDPDrop | XDPPass | XDPTx
	if flags&^actionMask != 0 {
		return XDPAborted
	}
	if c.s.cpumapEntry(cpumap, cpu) == nil {
		c.ri = redirectInfo{}
		return int(flags & actionMask)
	}
	c.ri = redirectInfo{set: true, ifindex: int32(cpu), cpumap: int32(cpumap) + 1}
	return XDPRedirect
}

// RedirectDevmap models bpf_redirect_map(&devmap, key, flags) on a device
// map (dev_map_redirect / dev_hash_map_redirect ->
// __bpf_xdp_redirect_map), where devmap indexes Config.Devmaps: flags
// beyond an action in the low bits and, from v5.13, FlagBroadcast and
// FlagExcludeIngress give XDP_ABORTED; without FlagBroadcast an empty
// entry gives the action in flags; otherwise XDP_REDIRECT. XDP-only:
// other programs get their hook's drop code.
func (c *Ctx) RedirectDevmap(devmap int, key uint32, flags uint64) int {
	c.s.acct.Op(cost.OpHelperCall, 1)
	if !c.xdp {
		return dropRet(c.Hook)
	}
	mask := uint64(XDPAborted | XDPDrop | XDPPass | XDPTx)
	if c.s.prof.DevmapBroadcast {
		mask |= FlagBroadcast | FlagExcludeIngress
	}
	if flags&^mask != 0 {
		return XDPAborted
	}
	m := c.s.devmapAt(devmap)
	if m == nil || (flags&FlagBroadcast == 0 && m.lookup(key) == nil) {
		c.ri = redirectInfo{}
		return int(flags & 3)
	}
	c.ri = redirectInfo{set: true, ifindex: int32(key), devmap: int32(devmap) + 1, flags: flags & (FlagBroadcast | FlagExcludeIngress)}
	return XDPRedirect
}

// EgressIfindex is xdp_md->egress_ifindex: the entry's device for a
// device map program, 0 elsewhere.
func (c *Ctx) EgressIfindex() int32 { return c.egress }

// RedirectPeer models bpf_redirect_peer(ifindex, flags): flags must be 0;
// the redirect happens (or fails) in skb_do_redirect after the program.
func (c *Ctx) RedirectPeer(ifindex int32, flags uint64) int {
	c.s.acct.Op(cost.OpHelperCall, 1)
	if flags != 0 || c.xdp {
		return TCXDrop
	}
	c.ri = redirectInfo{set: true, ifindex: ifindex, flags: flagPeer}
	return TCXRedirect
}

// RedirectNeigh models bpf_redirect_neigh(ifindex, NULL, 0, flags), tc
// programs only: any flag is TC_ACT_SHOT; otherwise TC_ACT_REDIRECT, and
// skb_do_redirect sends the packet out of the device through the
// neighbour subsystem (Stack.bpfRedirectNeigh), to the next hop of the
// route to its destination through the device.
func (c *Ctx) RedirectNeigh(ifindex int32, flags uint64) int {
	c.s.acct.Op(cost.OpHelperCall, 1)
	if flags != 0 || c.xdp {
		return TCXDrop
	}
	c.ri = redirectInfo{set: true, ifindex: ifindex, flags: flagNeigh}
	return TCXRedirect
}

// RedirectNeighVia models bpf_redirect_neigh(ifindex, &params,
// sizeof(params), flags) with struct bpf_redir_neigh params: nh_family
// AF_INET or AF_INET6 and the address of nh. As RedirectNeigh, but
// skb_do_redirect does no route lookup: the packet goes to nh's neighbour
// on the device (ip_neigh_gw4 / ip_neigh_gw6, an IPv6 next hop for an
// IPv4 packet too). An invalid nh (a nh_family that is neither) frees the
// packet there.
func (c *Ctx) RedirectNeighVia(ifindex int32, nh netip.Addr, flags uint64) int {
	c.s.acct.Op(cost.OpHelperCall, 1)
	if flags != 0 || c.xdp {
		return TCXDrop
	}
	c.ri = redirectInfo{set: true, ifindex: ifindex, flags: flagNeigh | flagNexthop}
	switch {
	case nh.Is4():
		c.ri.nhFam, c.ri.nh = 4, nh.As16()
	case nh.Is6():
		c.ri.nhFam, c.ri.nh = 6, nh.As16()
	}
	return TCXRedirect
}

// PullData models bpf_skb_pull_data(skb, len) (tc programs; -EINVAL
// elsewhere): skb_ensure_writable(skb, len, or the linear length when 0):
// the first len bytes pulled into the linear part and, if the skb is a
// clone whose head others share, a private head (pskb_expand_head, which
// clears the XDP metadata before v6.19). The verifier runs the same call
// with len 0 first in every run of a tc program that writes the packet
// directly, when the skb is cloned (bpf_unclone_prologue). Returns 0 or
// -ENOMEM.
func (c *Ctx) PullData(n uint32) int {
	c.s.acct.Op(cost.OpHelperCall, 1)
	if !c.atTC() {
		return errEINVAL
	}
	if n == 0 {
		n = uint32(c.Skb.Headlen())
	}
	if c.Skb.EnsureWritable(int(n)) != nil {
		return errENOMEM
	}
	return 0
}

// CloneRedirect models bpf_clone_redirect(skb, ifindex, flags): the clone
// is sent (egress: __bpf_tx_skb, synchronously) or received (BPF_F_INGRESS:
// dev_forward_skb) by the target; the original is made head-writable
// (pskb_expand_head, which clears its XDP metadata before v6.19). Returns 0
// or a negative errno.
func (c *Ctx) CloneRedirect(ifindex int32, flags uint64) int {
	c.s.acct.Op(cost.OpHelperCall, 1)
	if !c.skbOnly() {
		return errEINVAL
	}
	return c.s.cloneRedirect(c, ifindex, flags)
}

// VlanPush models bpf_skb_vlan_push(skb, vlan_proto, vlan_tci) at the tc
// hooks (the verifier allows it nowhere else here; the model returns
// -EINVAL): a TPID other than 802.1Q or 802.1ad is 802.1Q, then
// skb_vlan_push (skb.Buff.VlanPush: a tag already in vlan_tci goes into
// the frame and mac_len grows by VLAN_HLEN, the XDP metadata moving with
// the data only on v6.19+ profiles). Returns 0 or a negative errno.
func (c *Ctx) VlanPush(proto, tci uint16) int {
	c.s.acct.Op(cost.OpHelperCall, 1)
	if !c.atTC() {
		return errEINVAL
	}
	if proto != skb.EthP8021Q && proto != skb.EthP8021AD {
		proto = skb.EthP8021Q
	}
	return negErrno(c.Skb.VlanPush(proto, tci))
}

// VlanPop models bpf_skb_vlan_pop(skb) at the tc hooks (-EINVAL
// elsewhere): skb_vlan_pop (skb.Buff.VlanPop: the tag in vlan_tci cleared
// or one in the frame popped, a further one in the frame moved into
// vlan_tci, mac_len reset by __skb_vlan_pop; the XDP metadata moves with
// the data only on v6.19+ profiles). Returns 0 or a negative errno.
func (c *Ctx) VlanPop() int {
	c.s.acct.Op(cost.OpHelperCall, 1)
	if !c.atTC() {
		return errEINVAL
	}
	return negErrno(c.Skb.VlanPop())
}

// bpfSkbMaxLen is BPF_SKB_MAX_LEN, SKB_MAX_ALLOC: (PAGE_SIZE << 2) less
// SKB_DATA_ALIGN(sizeof(struct skb_shared_info)).
const bpfSkbMaxLen = 4<<12 - skb.SizeofSharedInfo

// ChangeHead models bpf_skb_change_head(skb, head_room, flags) at the tc
// hooks (-EINVAL elsewhere): flags must be 0 and, unless the skb is GSO,
// the new length at most BPF_SKB_MAX_LEN (-EINVAL); then skb.Buff.ChangeHead
// (head_room zeroed bytes in front, the mac header there; the XDP metadata
// moves only on v6.19+ profiles). Returns 0 or a negative errno.
func (c *Ctx) ChangeHead(headRoom uint32, flags uint64) int {
	c.s.acct.Op(cost.OpHelperCall, 1)
	if !c.atTC() {
		return errEINVAL
	}
	b := c.Skb
	newLen := uint64(b.Len()) + uint64(headRoom)
	if flags != 0 || b.Shinfo().GSOSize == 0 && newLen > bpfSkbMaxLen || newLen > math.MaxUint32 {
		return errEINVAL
	}
	return negErrno(b.ChangeHead(int(headRoom)))
}

// ChangeTail models bpf_skb_change_tail(skb, new_len, flags) at the tc
// hooks (-EINVAL elsewhere): flags must be 0 and new_len at most
// BPF_SKB_MAX_LEN and at least __bpf_skb_min_len (the offset of the
// network header, of the transport header once set, and of the end of a
// CHECKSUM_PARTIAL skb's checksum field; -EINVAL); an encapsulated skb is
// -ENOTSUPP. Then skb.Buff.ChangeTail (the packet linearized and made
// private, grown with zeroes or trimmed; before v6.19 a pskb_expand_head
// on the way loses the XDP metadata). Returns 0 or a negative errno.
func (c *Ctx) ChangeTail(newLen uint32, flags uint64) int {
	c.s.acct.Op(cost.OpHelperCall, 1)
	if !c.atTC() {
		return errEINVAL
	}
	b := c.Skb
	if flags != 0 || newLen > bpfSkbMaxLen || int(newLen) < skbMinLen(b) {
		return errEINVAL
	}
	if b.H().Encapsulation {
		return errENOTSUP
	}
	return negErrno(b.ChangeTail(int(newLen)))
}

// skbMinLen models __bpf_skb_min_len: the shortest length
// bpf_skb_change_tail leaves, the last positive of the network offset, the
// transport offset (once set) and, for CHECKSUM_PARTIAL, the end of the
// checksum field (csum_start + csum_offset + 2).
func skbMinLen(b *skb.Buff) int {
	n := 0
	if off := b.NetworkOffset(); off > 0 {
		n = off
	}
	if b.TransportHeaderWasSet() {
		if off := b.TransportHeader() - b.Headroom(); off > 0 {
			n = off
		}
	}
	if h := b.H(); h.IPSummed == skb.ChecksumPartial {
		if off := b.CsumStart() - b.Headroom() + int(h.CsumOffset) + 2; off > 0 {
			n = off
		}
	}
	return n
}

// atTC reports whether c is a tc or netkit program's (SCHED_CLS, data at
// the mac header).
func (c *Ctx) atTC() bool {
	return c.skbOnly() && c.Hook.SchedCLS()
}

// negErrno is err as a helper's return value: 0, or the negative errno
// it matches (-EINVAL when it matches none).
func negErrno(err error) int {
	if err == nil {
		return 0
	}
	var e errno.Errno
	if errors.As(err, &e) {
		return -int(e)
	}
	return errEINVAL
}

// AdjustMeta models bpf_xdp_adjust_meta(xdp, delta) (XDP only).
func (c *Ctx) AdjustMeta(delta int) int {
	c.s.acct.Op(cost.OpHelperCall, 1)
	if !c.xdp {
		return errEINVAL
	}
	return c.s.xdpAdjustMeta(c, delta)
}

// AdjustHead models bpf_xdp_adjust_head(xdp, offset) (XDP only): data
// moves by offset (positive: bytes removed from the front, as a decap;
// negative: room for an encap) and the metadata moves with it. See
// Stack.xdpAdjustHead.
func (c *Ctx) AdjustHead(offset int) int {
	c.s.acct.Op(cost.OpHelperCall, 1)
	if !c.xdp {
		return errEINVAL
	}
	return c.s.xdpAdjustHead(c, offset)
}

// AdjustTail models bpf_xdp_adjust_tail(xdp, offset) (XDP only; -EINVAL
// elsewhere): the frame's end moves by offset (negative: bytes trimmed,
// positive: zeroed bytes added); the metadata is not touched. See
// Stack.xdpAdjustTail.
func (c *Ctx) AdjustTail(offset int) int {
	c.s.acct.Op(cost.OpHelperCall, 1)
	if !c.xdp {
		return errEINVAL
	}
	return c.s.xdpAdjustTail(c, offset)
}

// Meta returns the metadata area: in XDP data_meta..data, elsewhere the
// skb's XDP metadata view (skb_metadata_end back meta_len bytes). Writes go
// to the packet buffer.
func (c *Ctx) Meta() []byte {
	if c.Skb == nil {
		return nil
	}
	v, _ := c.Skb.Metadata()
	return v
}

// Ifindex returns the ifindex of the device called name in the program's
// namespace (0 if there is none), as a program's configuration would hold.
func (c *Ctx) Ifindex(name string) int32 {
	if c.Netns == nil {
		return 0
	}
	if d := c.Netns.dev(name); d != nil {
		return d.ifindex
	}
	return 0
}

// Count increments the program's counter (Stack.ProgramCount).
func (c *Ctx) Count() {
	if c.count != nil {
		*c.count++
	}
}
