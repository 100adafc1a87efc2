package netstack

import (
	"bytes"
	"encoding/binary"
	"net/netip"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/skb"
)

const (
	maxBacklog  = 1000 // net.core.netdev_max_backlog
	xdpFrameMin = 4096 // a driver's receive buffer: one page
	// xdpLinearMax is the frame a page holds after XDP_PACKET_HEADROOM
	// and skb_shared_info: the most a single-buffer XDP frame can be.
	xdpLinearMax = skb.PageSize - skb.XDPPacketHeadroom - skb.SizeofSharedInfo
)

// --- common helpers ---

// traceOp reports op on b when the current packet is traced.
//
// Kept small enough to inline, so a run without tracing pays a field test.
func (s *Stack) traceOp(l Layer, op Op, b *skb.Buff) {
	if s.trace {
		s.traceOpSlow(l, op, b)
	}
}

func (s *Stack) traceOpSlow(l Layer, op Op, b *skb.Buff) {
	s.obs.Trace(TraceEvent{PacketID: s.cur, Layer: l, Op: op, SkbID: b.ID(), State: State(b)})
}

// drop models kfree_skb_reason(skb, reason) at loc: the kfree_skb
// tracepoint programs run while the skb is intact (trace_kfree_skb fires
// before skb_release_all), the observer hears of it, the skb is freed. An
// XDP frame (skb.Buff.XDPFrame: a native XDP_DROP, a frame's veth or
// cpumap program dropping it) is no skb: xdp_return_frame fires no
// tracepoint. Takes ownership of skb.
func (s *Stack) drop(b *skb.Buff, reason skb.DropReason, loc Op) {
	if b.Users() == 1 && len(s.tpKfree) != 0 && !b.XDPFrame() {
		s.runTracepoint(s.tpKfree, b, reason)
	}
	h := b.H()
	s.stats.Drops++
	s.obs.Drop(DropEvent{PacketID: s.cur, Reason: reason, Loc: loc, Dev: h.Dev, Netns: h.Netns, Clone: b.Cloned()})
	if s.trace {
		s.traceOp(LayerCore, loc, b)
	}
	b.KfreeSkb(reason)
}

// consume models consume_skb at the end of a successful path; an XDP
// frame a device sends (XDP_TX, ndo_xdp_xmit) fires no tracepoint.
// Takes ownership of skb.
func (s *Stack) consume(b *skb.Buff, kind DeliverKind, index int) {
	if b.Users() == 1 && len(s.tpConsum) != 0 && !b.XDPFrame() {
		s.runTracepoint(s.tpConsum, b, skb.SkbConsumed)
	}
	s.stats.Delivered++
	s.obs.Deliver(DeliverEvent{PacketID: s.cur, Kind: kind, Index: index})
	b.ConsumeSkb()
}

// consumeSkb models consume_skb() on an skb the stack is done with in the
// middle of a path (ip_do_fragment's original, the GSO skb after
// skb_segment, skb_pp_cow_data's old skb): trace_consume_skb programs run
// when the last reference goes, nothing is delivered. Takes ownership of
// skb.
func (s *Stack) consumeSkb(b *skb.Buff) {
	if b.Users() == 1 && len(s.tpConsum) != 0 && !b.XDPFrame() {
		s.runTracepoint(s.tpConsum, b, skb.SkbConsumed)
	}
	b.ConsumeSkb()
}

// listFree is the skb ListFree hook: kfree_skb_list_reason frees an skb of
// a frag_list (the datagram it belonged to was freed, trimmed or pulled),
// and trace_kfree_skb or trace_consume_skb fires for it, on behalf of the
// packet it came with.
func (s *Stack) listFree(b *skb.Buff, reason skb.DropReason) {
	list := s.tpKfree
	if reason == skb.SkbConsumed {
		list = s.tpConsum
	}
	saved := s.cur
	if p, ok := s.listPkt[b]; ok {
		s.cur = p
		delete(s.listPkt, b)
	}
	s.runTracepoint(list, b, reason)
	s.cur = saved
}

// forgetListed drops the packet each skb of list was recorded with on a
// frag_list (listPkt): they leave it as skbs of their own, freed later on
// behalf of whatever packet then runs.
func (s *Stack) forgetListed(list []*skb.Buff) {
	if s.listPkt == nil {
		return
	}
	for _, f := range list {
		delete(s.listPkt, f)
	}
}

func (s *Stack) runTracepoint(list []int, b *skb.Buff, reason skb.DropReason) {
	for _, pi := range list {
		c := s.pushCtx(pi, carrier.HookTracepoint, b, nil, nil, nil)
		c.Reason = reason
		s.acct.Op(cost.OpTracepointRun, 1)
		s.progRan(c, s.progOf(c).Run(c))
		s.popCtx()
	}
}

// pushCtx takes the context of a run of program pi at hook h on b, with
// dev, ns and sk as its Dev, Netns and Socket (nil where the hook has
// none); popCtx gives it back.
func (s *Stack) pushCtx(pi int, h carrier.Hook, b *skb.Buff, dev *Device, ns *Netns, sk *Socket) *Ctx {
	if s.depth >= len(s.ctxs) {
		panic("netstack: program nesting deeper than the xmit recursion limit")
	}
	c := &s.ctxs[s.depth]
	s.depth++
	// Every field but the owner (set once by ownCtxs; programs cannot
	// change it) is written in place (the same as *c = Ctx{...} without
	// building and copying a zeroed temporary); TestPushCtxResetsAll keeps
	// the list complete. The device, namespace and socket are the
	// caller's, so that no hook stores them twice. The pointer-free run
	// state is one block (ctxRun), which keeps pushCtx small enough to
	// inline.
	pe := &s.progs[pi]
	c.Hook, c.Prog, c.Skb, c.PacketID, c.Carrier, c.count = h, pe.cfg, b, s.cur, s.car, &pe.count
	c.Dev, c.Netns, c.Socket, c.Reason = dev, ns, sk, 0
	c.ctxRun = ctxRun{}
	return c
}

func (s *Stack) popCtx() { s.depth-- }

// ownCtxs makes s the owner of its program contexts, once, when the stack
// is built.
func (s *Stack) ownCtxs() {
	for i := range s.ctxs {
		s.ctxs[i].s = s
	}
}

// progIndex maps a Config.Programs index to s.progs (they are equal: every
// configured program is attached in order).
func (s *Stack) progIndex(cfg int) int { return cfg }

func (s *Stack) devOf(b *skb.Buff) *Device {
	h := b.H()
	if h.Netns == 0 || int(h.Netns) > len(s.nss) {
		return nil
	}
	return s.nss[h.Netns-1].devByIndex(h.Dev)
}

func setDev(b *skb.Buff, d *Device) {
	h := b.H()
	h.Dev, h.Netns = d.ifindex, d.ns.id
}

// ethTypeTrans models eth_type_trans(skb, dev): skb->dev = dev, mac header
// reset to data, ETH_HLEN pulled, pkt_type from the destination address
// (broadcast, multicast, or OTHERHOST when it is not the device's), and
// returns the protocol. ok is false when the frame is shorter than ETH_HLEN.
func (s *Stack) ethTypeTrans(b *skb.Buff, d *Device) bool {
	h := b.H()
	h.Dev, h.Netns = d.ifindex, d.ns.id // setDev
	b.ResetMacHeader()
	// The mac header is at data: the frame as Pull(ETH_HLEN) leaves it
	// behind (a frame shorter than that is not pulled; the callers'
	// pskb_may_pull(skb, ETH_HLEN) brings a non-linear frame's header into
	// the linear data).
	mac := b.Data()
	if len(mac) < ethHlen {
		if !b.MayPull(ethHlen) {
			return false
		}
		mac = b.Data()
	}
	b.Pull(ethHlen)
	setPktType(h, mac[0:6], d)
	h.Protocol = binary.BigEndian.Uint16(mac[12:14])
	s.traceOp(LayerCore, OpEthTypeTrans, b)
	return true
}

// setPktType models eth_skb_pkt_type's decision for a frame to dst
// received on d: broadcast, multicast, or PACKET_OTHERHOST when not to
// d's address; a frame to d's address keeps its pkt_type.
func setPktType(h *skb.Header, dst []byte, d *Device) {
	switch {
	case isMulticastMAC(dst):
		if [6]byte(dst) == broadcastMAC {
			h.PktType = skb.PacketBroadcast
		} else {
			h.PktType = skb.PacketMulticast
		}
	case [6]byte(dst) != d.mac:
		h.PktType = skb.PacketOtherhost
	}
}

// --- driver receive ---

// driverRx models a driver receiving frame p on d: native XDP on the
// frame (nic), then the skb is built and handed to GRO; other devices
// receive the frame as their peer's transmission would deliver it.
//
// A NIC with receive VLAN offload (DeviceConfig.RxVLANOffload; ethtool
// rxvlan, NETIF_F_HW_VLAN_CTAG_RX) strips an outer 802.1Q tag in
// hardware: the frame reaches the driver's buffer and native XDP without
// it (a program reads it with bpf_xdp_metadata_rx_vlan_tag, not modelled;
// XDP_TX and XDP_REDIRECT send the frame untagged), and the driver puts
// it into the skb (__vlan_hwaccel_put_tag) before GRO, which then merges
// a tagged flow (gro_list_prepare compares vlan_all);
// __netif_receive_skb_core has nothing left to untag. 802.1ad tags
// (rx-vlan-stag-hw-parse, off by default) stay in the frame.
func (s *Stack) driverRx(d *Device, p *Packet) error {
	if !d.rxVlanStrip || len(p.Frame) < ethHlen+skb.VlanHlen || binary.BigEndian.Uint16(p.Frame[12:14]) != skb.EthP8021Q {
		return s.driverRxFrame(d, p)
	}
	f := p.Frame
	s.stripBuf = append(append(s.stripBuf[:0], f[:12]...), f[ethHlen+2:]...)
	s.hwVlanTCI, s.hwVlan = binary.BigEndian.Uint16(f[ethHlen:ethHlen+2]), true
	p.Frame = s.stripBuf
	err := s.driverRxFrame(d, p)
	p.Frame, s.hwVlan = f, false
	return err
}

// hwVlanPutTag models the driver's __vlan_hwaccel_put_tag(skb,
// htons(ETH_P_8021Q), tci) for a tag its NIC stripped (driverRx).
func (s *Stack) hwVlanPutTag(b *skb.Buff) {
	if s.hwVlan {
		h := b.H()
		h.VlanProto, h.VlanTCI = skb.EthP8021Q, s.hwVlanTCI
	}
}

// driverRxFrame is driverRx on the frame the driver's buffer holds.
func (s *Stack) driverRxFrame(d *Device, p *Packet) error {
	if len(p.Frame) < ethHlen {
		return s.badFrame(p, "frame shorter than an Ethernet header")
	}
	if s.cfg.Options.CaptureCsumOffload {
		completeL4Csum(p.Frame) // the checksum the sender's NIC wrote on the wire
	}
	if d.kid == kidNIC && len(d.xdp) != 0 && !d.xdpGeneric {
		return s.nicXDPRx(d, p)
	}
	// napi_alloc_skb(napi, len) + skb_put_data (copy-break drivers).
	b, err := s.a.NapiAllocSkb(len(p.Frame))
	if err != nil {
		s.dropNoSkb(d, skb.DropNomem, OpDriverRx)
		return nil
	}
	b.PutData(p.Frame)
	setRxCsum(b, p.Frame, d) // the NIC's receive checksum offload (csum.go)
	s.hwVlanPutTag(b)
	s.traceOp(LayerDriver, OpDriverRx, b)
	if !s.ethTypeTrans(b, d) {
		s.drop(b, skb.DropPktTooSmall, OpEthTypeTrans)
		return nil
	}
	s.rxHash(b, d, p)
	switch d.kid {
	case kidNIC:
		s.napiGROReceive(b, d)
	case kidVeth:
		s.vethRx(b, d, vethGROEligible(b, d.peer, d))
	default:
		s.netifRx(b)
	}
	return nil
}

// rxHash models what a driver puts into the skb it built from the NIC's
// descriptor: the RSS hash, PKT_HASH_TYPE_L4 when it covers ports and L3
// otherwise (mlx5e_skb_set_hash: skb_set_hash, l4_hash only for an L4
// hash, so skb_get_hash computes a software hash for the others), and,
// with hardware timestamps on (DeviceConfig.RxHwTstamp), the receive time
// (skb_hwtstamps(skb)->hwtstamp, as mlx5e_build_rx_skb does).
func (s *Stack) rxHash(b *skb.Buff, d *Device, p *Packet) {
	if p.Hash != 0 {
		h := b.H()
		h.Hash, h.L4Hash, h.SWHash = p.Hash, nicRSSType(p.Frame)&RSSL4 != 0, false
	}
	if d.rxHwTstamp {
		b.Shinfo().HwTstamp = p.Tstamp
	}
}

func (s *Stack) badFrame(p *Packet, why string) error {
	return &packetError{id: p.ID, why: why}
}

type packetError struct {
	id  uint64
	why string
}

func (e *packetError) Error() string {
	return "netstack: packet " + itoa(e.id) + ": " + e.why + ": " + ErrPacket.Error()
}

func (e *packetError) Unwrap() error { return ErrPacket }

func itoa(v uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			return string(b[i:])
		}
	}
}

// dropNoSkb reports a packet lost before an skb existed (allocation
// failure, XDP drop of a native frame).
func (s *Stack) dropNoSkb(d *Device, reason skb.DropReason, loc Op) {
	s.stats.Drops++
	s.obs.Drop(DropEvent{PacketID: s.cur, Reason: reason, Loc: loc, Dev: d.ifindex, Netns: d.ns.id})
}

// sendRefused reports a socket's send that fails before any skb exists
// (sendmsg returns an error: no route, EACCES) as a drop in sk's
// namespace.
func (s *Stack) sendRefused(sk *Socket, reason skb.DropReason, loc Op) {
	s.stats.Drops++
	s.obs.Drop(DropEvent{PacketID: s.cur, Reason: reason, Loc: loc, Netns: sk.ns.id})
}

// nicXDPRx models a driver with native XDP: the frame sits in a page with
// XDP_PACKET_HEADROOM in front (xdp_prepare_buff, data_meta == data); the
// program runs; on XDP_PASS the driver builds the skb around the page
// (napi_build_skb, skb_reserve, __skb_put, skb_metadata_set(metasize),
// eth_type_trans) and hands it to GRO, which an XDP device elides.
//
// The model wraps the page in a Buff before the program runs so that
// programs and carriers see one *skb.Buff; that Buff stands for the
// xdp_buff (skb.Buff.XDPFrame) and no sk_buff is accounted for it until
// XDP_PASS builds one (or whoever receives a redirected frame does): a
// frame dropped, bounced or sent by a device costs its page only, and
// fires no kfree_skb or consume_skb tracepoint.
func (s *Stack) nicXDPRx(d *Device, p *Packet) error {
	lin := len(p.Frame)
	if lin > xdpLinearMax {
		// A frame longer than one page holds: a driver with a program
		// without BPF_F_XDP_HAS_FRAGS sizes its receive buffers to one
		// page, so the NIC drops the frame (rx_length_errors); with
		// xdp.frags the rest goes to further page-pool pages, the
		// xdp_buff's fragments (multi-buffer XDP), which the skb keeps
		// (xdp_build_skb_from_buff: skb_add_rx_frag).
		if !d.xdpFrags {
			s.rxOversize(d)
			return nil
		}
		lin = xdpLinearMax
	}
	size := max(xdpFrameMin, (skb.XDPPacketHeadroom+lin+skb.SizeofSharedInfo+63)&^63)
	b, err := s.a.BuildXDPBuff(size)
	if err != nil {
		s.dropNoSkb(d, skb.DropNomem, OpDriverRx)
		return nil
	}
	b.Reserve(skb.XDPPacketHeadroom)
	b.PutData(p.Frame[:lin])
	if lin < len(p.Frame) {
		if err := b.AddRxPages(p.Frame[lin:]); err != nil {
			s.drop(b, skb.DropNomem, OpDriverRx)
			return nil
		}
	}
	b.ResetMacHeader() // the XDP view: data_meta..data ends at the frame start
	setDev(b, d)
	s.traceOp(LayerDriver, OpDriverRx, b)
	s.rxPkt = p
	act, meta, target := s.runXDP(b, d, xdpRxNIC, 0)
	s.rxPkt = nil
	switch act {
	case XDPPass:
		if b.BuildSkbFromFrame() != nil { // napi_build_skb
			b.NapiFree() // the page goes back to the pool
			s.dropNoSkb(d, skb.DropNomem, OpDriverRx)
			return nil
		}
		b.MetadataSet(meta)      // skb_metadata_set(skb, metasize) while data is at the frame
		setRxCsum(b, p.Frame, d) // the driver's receive checksum offload (csum.go)
		s.hwVlanPutTag(b)
		s.ethTypeTrans(b, d)
		s.rxHash(b, d, p)
		s.napiGROReceive(b, d)
	case XDPTx:
		// XDP_TX: the frame goes back out of the same NIC.
		s.consume(b, DeliverXmit, d.cfg)
	case XDPRedirect:
		s.xdpRedirect(b, d, meta, target)
	default:
		// XDP_DROP / XDP_ABORTED: the page is recycled.
		s.drop(b, skb.DropXDP, OpXDP)
	}
	return nil
}

// runXDP runs d's XDP programs (the last one attached, as one XDP program
// per device) on b, whose data is at the frame start; the program's view
// starts with view bytes of metadata (an xdp_frame's metasize; 0 for a
// frame the driver or an skb gives). It returns the action, the metadata
// length (data - data_meta) and a redirect target.
func (s *Stack) runXDP(b *skb.Buff, d *Device, rx xdpRx, view int) (act, meta int, target redirectInfo) {
	return s.runXDPProg(d.xdp[len(d.xdp)-1], b, d, false, rx, view)
}

// runXDPProg is runXDP with program pi (a device's, or a cpumap entry's),
// in generic (skb) mode when generic; rx says what the XDP RX metadata
// kfuncs of a device-bound program read.
func (s *Stack) runXDPProg(pi int, b *skb.Buff, d *Device, generic bool, rx xdpRx, view int) (act, meta int, target redirectInfo) {
	c := s.pushCtx(pi, carrier.HookXDP, b, d, d.ns, nil)
	c.xdp, c.generic, c.ingress, c.egress = true, generic, true, s.xdpEgress
	c.devBound, c.rx = s.progs[pi].devBound, rx
	op := OpXDP
	if generic {
		op = OpXDPGeneric
	}
	// xdp_prepare_buff(.., meta_valid): data_meta = data. An existing
	// meta_len (veth, generic XDP) is not part of the program's view; an
	// xdp_frame's metadata is (xdp_convert_frame_to_buff).
	c.xdpMeta, c.xdpMirror = view, b.MetadataLen()
	s.traceOp(LayerXDP, op, b)
	act = s.progOf(c).Run(c)
	s.progRan(c, act)
	// The driver computes metalen = xdp->data - xdp->data_meta after the
	// program: whatever moved data_meta (the program's adjust_meta, or a
	// carrier that wrote the skb's metadata length itself) counts.
	meta, target = c.xdpMetaLen(), c.ri
	s.popCtx()
	switch act {
	case XDPPass, XDPDrop, XDPTx, XDPRedirect:
	default:
		act = XDPAborted
	}
	return act, meta, target
}

// xdpAdjustMeta models bpf_xdp_adjust_meta(): the new data_meta must stay
// after data_hard_start + sizeof(struct xdp_frame) and not pass data
// (-EINVAL), and the length must be valid (-EACCES: multiple of 4, at most
// the profile's maximum). The model mirrors data_meta in shinfo->meta_len
// during the run so the area is visible through skb.Buff.Metadata.
func (s *Stack) xdpAdjustMeta(c *Ctx, delta int) int {
	b := c.Skb
	n := c.xdpMetaLen() - delta
	headroom := b.Headroom()
	if n < 0 || n > headroom-skb.SizeofXDPFrame {
		return errEINVAL
	}
	if s.prof.MetalenInvalid(n) {
		return errEACCES
	}
	b.MetadataSet(n)
	c.xdpMeta, c.xdpMirror = n, n
	s.traceOp(LayerXDP, OpXDPAdjustMeta, b)
	return 0
}

// xdpAdjustHead models bpf_xdp_adjust_head(): the new data must stay at
// or after data_hard_start + sizeof(struct xdp_frame) + metalen and
// ETH_HLEN or more before data_end (the linear part's end), else
// -EINVAL; the metadata moves with data (memmove(xdp->data_meta + offset,
// xdp->data_meta, metalen)). In the model the frame start is also the
// wrapper's mac header during the run, so it moves too (as generic XDP's
// skb->mac_header += off does after the program).
func (s *Stack) xdpAdjustHead(c *Ctx, off int) int {
	b := c.Skb
	n := c.xdpMetaLen()
	if b.Headroom()+off < skb.SizeofXDPFrame+n || off > b.Headlen()-ethHlen {
		return errEINVAL
	}
	if n != 0 {
		b.MoveMetadata(off)
	}
	if off > 0 {
		b.Pull(off)
	} else {
		b.Push(-off)
	}
	b.ResetMacHeader()
	return 0
}

// xdpAdjustTail models bpf_xdp_adjust_tail(). A linear buffer's new end
// must stay within data_hard_end (frame_sz less skb_shared_info: the
// wrapper's or, for veth and generic XDP, the skb's end) and ETH_HLEN or
// more after data, else -EINVAL; grown bytes are zeroed. A multi-buffer
// one (page fragments) shrinks from its last fragment on
// (bpf_xdp_frags_shrink_tail: -EINVAL beyond its length less ETH_HLEN)
// and grows only its last fragment, up to the driver's rxq->frag_size
// (bpf_xdp_frags_increase_tail: -EINVAL beyond): veth and generic XDP
// register no frag_size (-EOPNOTSUPP), the model's NIC a page's. The
// driver or generic XDP then sets the skb's length from data_end, which
// the model's buffer already has.
func (s *Stack) xdpAdjustTail(c *Ctx, off int) int {
	b := c.Skb
	if b.NrFrags() != 0 {
		if off < 0 {
			if -off > b.Len()-ethHlen || b.PskbTrim(b.Len()+off) != nil {
				return errEINVAL
			}
			return 0
		}
		if c.rx != xdpRxNIC {
			return errEOPNOTSUPP
		}
		if !b.GrowLastFrag(off, skb.PageSize) {
			return errEINVAL
		}
		return 0
	}
	if off > b.Tailroom() || b.Headlen()+off < ethHlen {
		return errEINVAL
	}
	if off > 0 {
		clear(b.Put(off))
	} else if off < 0 {
		b.Trim(b.Len() + off)
	}
	return 0
}

// xdpRedirect models xdp_do_redirect: into a cpumap entry (cpumapEnqueue)
// or to a device: a veth target passes the frame to its peer
// (vethXDPXmit), a NIC transmits it (ndo_xdp_xmit), a device without
// ndo_xdp_xmit (ndoXDPXmit) fails the redirect and the frame is dropped.
// b is an XDP
// frame (skb.Buff.XDPFrame: a driver's page, nicXDPRx, or a frame a veth
// or cpumap program redirects again) or, from a veth's native XDP, an skb
// the redirect gives up (consume_skb).
func (s *Stack) xdpRedirect(b *skb.Buff, d *Device, meta int, ri redirectInfo) {
	if ri.cpumap != 0 {
		s.cpumapEnqueue(b, d, meta, ri)
		return
	}
	if ri.devmap != 0 {
		s.devmapRedirect(b, d, meta, ri)
		return
	}
	t := d.ns.devByIndex(ri.ifindex)
	if t == nil || !t.up || !t.ndoXDPXmit() {
		s.drop(b, skb.DropXDP, OpXDP)
		return
	}
	if t.kid == kidVeth {
		s.vethXDPXmit(b, t, meta, false)
		return
	}
	s.consume(b, DeliverXmit, t.cfg)
}

// ndoXDPXmit reports whether d takes XDP frames from a native XDP
// redirect: __xdp_enqueue wants NETDEV_XDP_ACT_NDO_XMIT in
// dev->xdp_features (v6.3; before, an ndo_xdp_xmit), which a veth and the
// model's NIC (whose drivers implement it) have, and a bridge, macvlan,
// ifb, netkit, loopback, dummy and the tunnels do not (-EOPNOTSUPP). A
// generic XDP redirect needs none: it transmits the skb (generic_xdp_tx).
func (d *Device) ndoXDPXmit() bool { return d.kid == kidNIC || d.kid == kidVeth }

// vethXDPXmit models XDP_TX (tx) or XDP_REDIRECT of b's frame (data at
// the mac header, meta bytes of XDP metadata in front) to veth dev
// (veth_xdp_xmit). b is an skb, which the sender gives up (veth_xdp_get,
// consume_skb: skb.Buff.ToFrame), or already a frame (skb.Buff.XDPFrame:
// a driver's page, a frame from a device map or another veth). dev's
// peer takes the frame when it is up and runs native XDP, or, for a
// redirect, has GRO on (its NAPI); measured on 6.18, an XDP_TX frame to
// a peer with GRO alone is dropped too. Otherwise the frame is dropped
// (xdp_return_frame). The peer's veth_xdp_rcv_one runs its XDP program on
// the frame and, on XDP_PASS, builds an skb around it
// (xdp_build_skb_from_frame: no header state survives, the metadata
// does), or without a program builds it at once for GRO (eth_type_trans,
// napi_gro_receive). Frames bouncing between veths beyond the xmit
// recursion limit are dropped (the kernel would keep them circulating).
// Takes ownership of b.
func (s *Stack) vethXDPXmit(b *skb.Buff, dev *Device, meta int, tx bool) {
	rcv := dev.peer
	xdp := rcv != nil && len(rcv.xdp) != 0 && !rcv.xdpGeneric
	napi := xdp || (!tx && rcv != nil && rcv.gro && s.prof.VethGRONapi)
	if !b.XDPFrame() {
		if len(s.tpConsum) != 0 {
			s.runTracepoint(s.tpConsum, b, skb.SkbConsumed) // consume_skb(skb)
		}
		b = b.ToFrame()
	}
	if rcv == nil || !rcv.up || !napi || s.recursion > maxRecursion {
		b.NapiFree() // xdp_return_frame
		s.dropNoSkb(dev, skb.DropXDP, OpVethXDPXmit)
		return
	}
	setDev(b, rcv)
	b.ResetMacHeader()
	b.MetadataSet(meta)
	if !xdp {
		if b.BuildSkbFromFrame() != nil {
			b.NapiFree()
			s.dropNoSkb(rcv, skb.DropNomem, OpVethXDPXmit)
			return
		}
		s.traceOp(LayerXDP, OpVethXDP, b)
		s.ethTypeTrans(b, rcv)
		s.napiGROReceive(b, rcv)
		return
	}
	s.recursion++
	s.vethXDPOnSkb(b, rcv, meta)
	s.recursion--
}

// --- veth receive ---

// vethRx models the receive side of veth_xmit after __dev_forward_skb:
// with native XDP on the device, veth_xdp_rx queues to the device's NAPI,
// where veth_xdp_rcv_skb runs XDP and napi_gro_receive follows; with GRO on
// (and no XDP) the NAPI path and napi_gro_receive for an skb that
// veth_skb_is_eligible_for_gro accepted (eligible, decided by the caller
// before __dev_forward_skb: vethGROEligible); otherwise __netif_rx (the
// backlog).
func (s *Stack) vethRx(b *skb.Buff, d *Device, eligible bool) {
	if len(d.xdp) != 0 && !d.xdpGeneric {
		b.Push(-b.MacOffset()) // __skb_push(skb, skb->data - skb_mac_header(skb))
		s.vethXDPOnSkb(b, d, 0)
		return
	}
	if d.gro && eligible && s.prof.VethGRONapi {
		// GRO on: veth_xmit uses the NAPI path (veth_poll ->
		// napi_gro_receive).
		s.napiGROReceive(b, d)
		return
	}
	s.netifRx(b)
}

// vethGROEligible models veth_skb_is_eligible_for_gro(dev, rcv, skb) for
// b sent by from to its peer rcv: the sending device has no TSO (the
// model's veth has NETIF_F_ALL_TSO unless it lacks GSO offloads: a peer
// with native XDP, or SoftwareGSO), or the skb belongs to a socket through
// sock_wfree (a UDP socket's; TCP uses tcp_wfree) and rcv has rx-gro-list
// or rx-udp-gro-forwarding. A captured frame entering a veth counts as
// sent by its peer without a socket.
func vethGROEligible(b *skb.Buff, from, rcv *Device) bool {
	if from == nil || from.softGSO {
		return true
	}
	sk, _ := b.Sk().(*Socket)
	return sk != nil && sk.proto == ProtoUDP && (rcv.groList || rcv.groUDPFwd)
}

// vethXDPOnSkb models veth_xdp_rcv_skb(): a shared, cloned or kmalloc'ed
// (head locked), non-linear or short-headroom skb is first copied into
// page-pool memory with XDP_PACKET_HEADROOM (veth_convert_skb_to_xdp_buff
// -> skb_pp_cow_data, skb.PPCowData: new skb, skb_copy_header, meta_len 0,
// the old skb consumed; one with a frag_list is dropped). data_meta
// starts at data (an existing meta_len is not shown to the program). On
// XDP_PASS: eth_type_trans, skb_metadata_set(metalen) when non-zero, then
// napi_gro_receive. For a frame from veth_xdp_xmit (veth_xdp_rcv_one; b is
// an XDP frame, veth_xdp_buff.skb is NULL) nothing is copied, the
// program's view holds the frame's view bytes of metadata, and XDP_PASS
// builds the skb (xdp_build_skb_from_frame). Takes ownership of b, whose
// data is at the mac header.
func (s *Stack) vethXDPOnSkb(b *skb.Buff, d *Device, view int) {
	frame := b.XDPFrame()
	if !frame && (b.Shared() || !b.HeadFrag() || b.SkbCloned() || b.NrFrags() != 0 || b.Headroom() < skb.XDPPacketHeadroom) {
		nb, err := b.PPCowData(skb.XDPPacketHeadroom)
		if err != nil {
			s.drop(b, skb.DropNomem, OpVethXDP)
			return
		}
		s.consumeSkb(b) // skb_pp_cow_data: consume_skb(skb)
		s.stats.XDPCopies++
		b = nb
	}
	b.ResetMacHeader()
	oldMeta := b.MetadataLen()
	s.traceOp(LayerXDP, OpVethXDP, b)
	rx := xdpRxVethSkb
	if frame {
		rx = xdpRxVethFrame
	}
	act, meta, ri := s.runXDP(b, d, rx, view)
	switch act {
	case XDPPass:
		if frame && b.BuildSkbFromFrame() != nil {
			b.NapiFree() // xdp_return_frame
			s.dropNoSkb(d, skb.DropNomem, OpVethXDP)
			return
		}
		if meta != 0 {
			b.MetadataSet(meta)
		} else if b.MetadataLen() != oldMeta {
			b.MetadataSet(oldMeta)
		}
		s.ethTypeTrans(b, d)
		s.napiGROReceive(b, d)
	case XDPTx:
		s.vethXDPXmit(b, d, meta, true)
	case XDPRedirect:
		s.xdpRedirect(b, d, meta, ri)
	default:
		s.drop(b, skb.DropXDP, OpVethXDP)
	}
}

// --- GRO ---

const (
	maxGROSkbs     = 8 // MAX_GRO_SKBS, per bucket
	groHashBuckets = 8 // GRO_HASH_BUCKETS
)

// bootJiffies stands for jiffies on a machine up for five minutes:
// INITIAL_JIFFIES ((unsigned long)(unsigned int)(-300 * HZ) on 64-bit)
// has then passed 2^32.
const bootJiffies = uint64(1) << 32

// groAddr is an IP address as GRO compares it: an IPv4 address in lo, an
// IPv6 address in hi and lo.
type groAddr struct{ hi, lo uint64 }

func (a groAddr) addr(v6 bool) netip.Addr {
	if !v6 {
		return netip.AddrFrom4([4]byte{byte(a.lo >> 24), byte(a.lo >> 16), byte(a.lo >> 8), byte(a.lo)})
	}
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], a.hi)
	binary.BigEndian.PutUint64(b[8:], a.lo)
	return netip.AddrFrom16(b)
}

// groIP is what GRO reads of one IPv4 or IPv6 header (inet_gro_receive,
// ipv6_gro_receive).
type groIP struct {
	ihl          int // the header's length (IPv6: with the extension headers)
	totLen       int // the packet's length by the header
	proto        uint8
	v6           bool
	v6word       uint32 // IPv6 version and flow label, which same_flow compares
	ttlTos       uint16 // TTL and TOS, or hop limit and traffic class: equal or flush
	ipID         uint16
	df           bool
	saddr, daddr groAddr
}

// groParseIP models the header checks of inet_gro_receive and
// ipv6_gro_receive for the network header at the start of data (etype
// its Ethernet type, n the bytes from there to the end of the skb). It
// is false for a packet GRO sends up alone: another protocol; an IPv4
// header that is not 0x45 (options), a fragment, or fails
// ip_fast_csum; an IPv6 header followed by anything but TCP or UDP after
// the extension headers ipv6_gro_pull_exthdrs skips (hop-by-hop, routing
// and destination options: INET6_PROTO_GSO_EXTHDR, the hop-by-hop header
// special-cased before v6.10), so a fragment header; a length beyond the
// data.
func groParseIP(data []byte, etype uint16, n int) (h groIP, ok bool) {
	switch etype {
	case ethPIP:
		if len(data) < ipHlen || data[0] != 0x45 ||
			binary.BigEndian.Uint16(data[6:8])&(ipMF|ipOffset) != 0 || ipCsum(data[:ipHlen]) != 0 {
			return h, false
		}
		h.ihl = ipHlen
		h.totLen = int(binary.BigEndian.Uint16(data[2:4]))
		h.proto = data[9]
		h.saddr.lo = uint64(binary.BigEndian.Uint32(data[12:16]))
		h.daddr.lo = uint64(binary.BigEndian.Uint32(data[16:20]))
		h.ttlTos = uint16(data[8])<<8 | uint16(data[1])
		h.ipID = binary.BigEndian.Uint16(data[4:6])
		h.df = binary.BigEndian.Uint16(data[6:8])&ipDF != 0
		return h, h.totLen <= n && h.totLen >= ipHlen
	case ethPIPv6:
		if len(data) < ip6Hlen || data[0]>>4 != 6 {
			return h, false
		}
		next, off := data[6], ip6Hlen
		for next == nexthdrHop || next == nexthdrRouting || next == nexthdrDest {
			if len(data) < off+8 || len(data) < off+(int(data[off+1])+1)*8 {
				return h, false
			}
			next, off = data[off], off+(int(data[off+1])+1)*8
		}
		if next != ipprotoTCP && next != ipprotoUDP {
			return h, false
		}
		h.ihl, h.proto, h.v6 = off, next, true
		h.totLen = ip6Hlen + int(binary.BigEndian.Uint16(data[4:6]))
		h.saddr = groAddr{binary.BigEndian.Uint64(data[8:16]), binary.BigEndian.Uint64(data[16:24])}
		h.daddr = groAddr{binary.BigEndian.Uint64(data[24:32]), binary.BigEndian.Uint64(data[32:40])}
		h.v6word = binary.BigEndian.Uint32(data[0:4]) & 0xF00FFFFF // the traffic class flushes instead
		h.ttlTos = uint16(data[7])<<8 | uint16(binary.BigEndian.Uint16(data[0:2])>>4&0xff)
		return h, h.totLen <= n
	}
	return h, false
}

// sameFlow reports whether h and g's header are one flow for
// inet_gro_receive / ipv6_gro_receive (same_flow): protocol and
// addresses, and for IPv6 version and flow label.
func (h *groIP) sameFlow(g *groIP) bool {
	return h.proto == g.proto && h.v6 == g.v6 && h.v6word == g.v6word && h.saddr == g.saddr && h.daddr == g.daddr
}

// groTunnelHdr models the header checks of vxlan_gro_receive (the 8-byte
// VXLAN header; VXLAN_HF_RCO remote checksum offload is not modelled) and
// geneve_gro_receive (version 0, no OAM bit, an Ethernet payload:
// ETH_P_TEB) for the tunnel header at the start of th: its length, or
// false when GRO sends the packet up alone.
func groTunnelHdr(th []byte, kind string) (int, bool) {
	if len(th) < 8 {
		return 0, false
	}
	if kind != KindGeneve {
		return vxlanHlen, true
	}
	n := geneveHlen + int(th[0]&0x3f)*4
	return n, th[0]>>6 == 0 && th[1]&0x80 == 0 && binary.BigEndian.Uint16(th[2:4]) == ethPTEB && len(th) >= n
}

type groEntry struct {
	b     *skb.Buff
	last  *skb.Buff // NAPI_GRO_CB(b)->last: b, or the last skb on its frag_list
	pkt   uint64
	trace bool
	count int
	next  uint32 // sequence number the next segment must carry
	mss   int
	ip    groIP // the network header the L4 merge is on: a tunnel's inner one
	nh    int   // its offset in the held skb's data
	// A UDP tunnel packet (encap_mark): the outer network header, the
	// outer UDP ports, whether the outer UDP checksum is set, and the
	// tunnel header's length (the inner Ethernet header follows it).
	tun      bool
	outer    groIP
	oports   uint32
	ocsum    bool
	tunHdr   int
	fixedID  uint8 // NAPI_GRO_CB(p)->ip_fixedid: bit 0 the outer (or only) header, bit 1 a tunnel's inner one
	flist    bool  // NAPI_GRO_CB(p)->is_flist: merged by skb_gro_receive_list
	sport    uint16
	dport    uint16
	macBytes [ethHlen]byte
}

// napiGROReceive models napi_gro_receive(): skb_gro_reset_offset writes
// NAPI_GRO_CB into skb->cb (frag0_len = headlen at cb[8:12] as measured on
// 6.18, data_offset = 0 at cb[16:20]); a device without NETIF_F_GRO or
// with a generic XDP program (dev->xdp_prog; native programs live in the
// driver) skips GRO (netif_elide_gro) and delivers at once. Otherwise
// dev_gro_receive initialises the rest of NAPI_GRO_CB (flush, count, and
// the L4 protocol at cb[24:26]) and the protocol's gro_receive runs:
// TCP segments of a held flow are merged (tcp4_gro_receive,
// tcp6_gro_receive; an IPv6 flow also has one version and flow label, and
// the same hop-by-hop, routing and destination options bytes), as are UDP
// segments of the same size (udp_gro_receive_segment) for a UDP_GRO
// socket, or with rx-udp-gro-forwarding for none, or chained whole with
// rx-gro-list (skb_gro_receive_list). A packet for a vxlan or geneve
// socket goes through the tunnel's gro_receive (udp_gro_receive with
// vxlan_gro_receive or geneve_gro_receive, then eth_gro_receive and the
// inner IP and TCP gro_receive): a flow is also one outer header, outer
// UDP ports, outer checksum presence, tunnel header and inner Ethernet
// header, and both IP headers follow inet_gro_flush's rules; an inner
// UDP packet follows the inner socket lookup and
// udp_gro_receive_segment, fraglist GRO included (the chained skbs keep
// their outer headers in front of their network header, the inner one).
// gro_list_prepare
// requires equal hash, device, vlan_all (TPID and TCI), XDP metadata bytes
// (skb_metadata_differs) and MAC header, and with slow_gro the same socket
// and conntrack. The first skb survives. Other packets
// are delivered at once (GRO_NORMAL); held skbs wait for Flush, at most
// MAX_GRO_SKBS in each of the GRO_HASH_BUCKETS buckets (skb->hash & 7),
// a new flow in a full bucket completing its oldest (gro_flush_oldest). A merged
// segment's payload joins the held skb (skb_gro_receive: its page-fragment
// head stolen, or the skb on the held one's frag_list); napi_skb_finish
// frees what is left of it without a tracepoint. L4 checksums are taken
// as valid (skb_gro_checksum_validate is not modelled).
func (s *Stack) napiGROReceive(b *skb.Buff, d *Device) { s.groReceive(&d.napi, b, d) }

// groCsumValidate models skb_gro_checksum_validate (TCP) and
// skb_gro_checksum_validate_zero_check (UDP) on the L4 header nhLen bytes
// after the network header nh of b's data, cnt being NAPI_GRO_CB's
// csum_cnt: a check is needed unless the skb is CHECKSUM_PARTIAL, a
// verified level is left (cnt), or a UDP checksum is 0; then
// skb_gro_incr_csum_unnecessary uses up a level of cnt or, with none
// left, records one more verified (__skb_incr_checksum_unnecessary). It
// reports whether the checksum is good.
func (s *Stack) groCsumValidate(b *skb.Buff, cnt *int, nh, nhLen int, proto uint8) bool {
	h := b.H()
	if h.IPSummed != skb.ChecksumPartial && *cnt == 0 && !s.l4CsumValid(b, nh, nhLen, proto) {
		return false
	}
	if *cnt > 0 {
		*cnt--
	} else {
		incrCsumUnnecessary(h)
	}
	return true
}

// groReceive is napiGROReceive on GRO instance g (a NAPI's, or a cpumap
// entry's rcpu->gro) for b received by device d (skb->dev).
func (s *Stack) groReceive(gn *groNode, b *skb.Buff, d *Device) {
	cb := &b.H().CB
	binary.LittleEndian.PutUint32(cb[8:12], uint32(b.Len()))
	binary.LittleEndian.PutUint32(cb[16:20], 0)
	s.traceOp(LayerGRO, OpGROReceive, b)
	if !d.gro || (d.xdpGeneric && len(d.xdp) != 0) {
		s.netifReceive(b)
		return
	}
	// skb_gro_header: the IP header (and below, the TCP or UDP header)
	// read from the linear data; a non-linear skb (a reassembled datagram
	// after decapsulation) counts its whole length.
	data := b.Data()
	ip, ok := groParseIP(data, b.H().Protocol, b.Len())
	if !ok {
		s.netifReceive(b)
		return
	}
	// dev_gro_receive: NAPI_GRO_CB(skb)->flush = 0, count = 1;
	// inet_gro_receive / ipv6_gro_receive: NAPI_GRO_CB(skb)->proto.
	binary.LittleEndian.PutUint16(cb[20:22], 0)
	binary.LittleEndian.PutUint16(cb[22:24], 1)
	binary.LittleEndian.PutUint32(cb[24:28], uint32(ip.proto))
	binary.LittleEndian.PutUint32(cb[16:20], uint32(ip.ihl)) // skb_gro_pull(iph) -> NAPI_GRO_CB(skb)->data_offset
	var (
		seq     uint32
		flags   uint8
		payload int
		tcp     bool
		flist   bool // NAPI_GRO_CB(skb)->is_flist
		doff    int  // the TCP header's length
		nh      int  // the offset of the network header the L4 merge is on
		outer   groIP
		tun     bool // encap_mark
		tunHdr  int
	)
	l4 := data[ip.ihl:]
	// dev_gro_receive: NAPI_GRO_CB(skb)->csum_cnt, the checksums a
	// CHECKSUM_UNNECESSARY skb has verified (csum_level + 1).
	csumCnt := 0
	if h := b.H(); h.IPSummed == skb.ChecksumUnnecessary {
		csumCnt = int(h.CsumLevel) + 1
	}
	if l4p := ip.proto == ipprotoUDP || ip.proto == ipprotoTCP; l4p && csumCnt > 0 {
		csumCnt-- // skb_gro_incr_csum_unnecessary: a verified level used up
	} else if l4p && !s.groCsumValidate(b, &csumCnt, 0, ip.ihl, ip.proto) {
		s.stats.GROCsumBad++
		s.netifReceive(b)
		return
	}
	if ip.proto == ipprotoUDP {
		// udp4_gro_receive / udp6_gro_receive look the socket up only once
		// udp_encap_needed_key is on. udp_gro_receive hands the packet to
		// a tunnel socket's gro_receive; otherwise to
		// udp_gro_receive_segment for a UDP_GRO socket, for no socket on a
		// device with NETIF_F_GRO_UDP_FWD, and as fraglist GRO (is_flist)
		// on a device with NETIF_F_GRO_FRAGLIST unless a UDP_GRO socket
		// receives it.
		if len(l4) < udpHlen {
			s.netifReceive(b)
			return
		}
		var sk *Socket
		if s.udpEncapKey {
			sk = d.ns.lookup(ipprotoUDP, ip.daddr.addr(ip.v6), binary.BigEndian.Uint16(l4[2:4]))
		}
		if sk != nil && len(sk.encap) != 0 {
			// The tunnel's gro_receive, then eth_gro_receive (the inner
			// Ethernet header), then the inner network header.
			binary.LittleEndian.PutUint32(cb[16:20], uint32(ip.ihl+udpHlen))
			hl, ok := groTunnelHdr(l4[udpHlen:], sk.encap[0].kind)
			eth := ip.ihl + udpHlen + hl
			if !ok || len(data) < eth+ethHlen {
				s.netifReceive(b)
				return
			}
			binary.LittleEndian.PutUint32(cb[16:20], uint32(eth+ethHlen))
			in, ok := groParseIP(data[eth+ethHlen:], binary.BigEndian.Uint16(data[eth+12:eth+14]), b.Len()-eth-ethHlen)
			if !ok {
				s.netifReceive(b)
				return
			}
			outer, tun, tunHdr, nh, ip = ip, true, hl, eth+ethHlen, in
			binary.LittleEndian.PutUint32(cb[16:20], uint32(nh+ip.ihl))
			binary.LittleEndian.PutUint32(cb[24:28], uint32(ip.proto)) // the inner inet_gro_receive's proto
			if (ip.proto == ipprotoUDP || ip.proto == ipprotoTCP) && !s.groCsumValidate(b, &csumCnt, nh, ip.ihl, ip.proto) {
				// The inner tcp4_gro_receive / udp4_gro_receive: a bad
				// inner checksum goes up alone, with the outer level
				// verified (TestKernelVXLANInnerChecksum).
				s.stats.GROCsumBad++
				s.netifReceive(b)
				return
			}
			l4 = data[nh+ip.ihl:]
			if ip.proto == ipprotoUDP {
				// The inner udp4_gro_receive / udp6_gro_receive: the
				// socket of the inner addresses (udp_encap_needed_key is
				// on); a second tunnel layer goes up alone (encap_mark).
				if len(l4) < udpHlen {
					s.netifReceive(b)
					return
				}
				sk = d.ns.lookup(ipprotoUDP, ip.daddr.addr(ip.v6), binary.BigEndian.Uint16(l4[2:4]))
				if sk != nil && len(sk.encap) != 0 {
					s.netifReceive(b)
					return
				}
			}
		}
		if ip.proto == ipprotoUDP {
			flist = d.groList && (sk == nil || !sk.udpGRO)
			if !(sk == nil && d.groUDPFwd) && !(sk != nil && sk.udpGRO) && !flist {
				s.netifReceive(b) // udp_gro_receive: no GRO, flush
				return
			}
			// udp_gro_receive_segment: a zero checksum (for symmetry with
			// GSO) or a UDP length other than the GRO length flushes this
			// segment alone; a held flow is not completed.
			if ulen := int(binary.BigEndian.Uint16(l4[4:6])); binary.BigEndian.Uint16(l4[6:8]) == 0 ||
				ulen <= udpHlen || ulen != ip.totLen-ip.ihl {
				s.netifReceive(b)
				return
			}
			payload = ip.totLen - ip.ihl - udpHlen
			binary.LittleEndian.PutUint32(cb[16:20], uint32(nh+ip.ihl+udpHlen)) // udp_gro_receive: skb_gro_pull(udphdr)
		}
	}
	switch ip.proto {
	case ipprotoTCP:
		if len(l4) < 20 {
			s.netifReceive(b)
			return
		}
		doff = int(l4[12]>>4) * 4
		if doff < 20 || len(l4) < doff {
			s.netifReceive(b) // tcp_gro_pull_header: thlen < sizeof(*th)
			return
		}
		payload = ip.totLen - ip.ihl - doff
		seq = binary.BigEndian.Uint32(l4[4:8])
		flags = l4[13]
		tcp = true
		binary.LittleEndian.PutUint32(cb[16:20], uint32(nh+ip.ihl+doff)) // tcp_gro_pull_header
		// tcp4_check_fraglist_gro / tcp6_check_fraglist_gro: with
		// NETIF_F_GRO_FRAGLIST, a flow no local socket has in the
		// established hash goes to fraglist GRO (a held flow's choice
		// stands; the loop below takes it). A tunnel's inner flow too:
		// the lookup takes the inner addresses in the device's namespace.
		if d.groList && s.prof.TCPFraglistGRO {
			flist = !s.tcpEhashHas(d.ns, ip.daddr.addr(ip.v6), ip.saddr.addr(ip.v6), binary.BigEndian.Uint16(l4[2:4]), binary.BigEndian.Uint16(l4[0:2]))
		}
	case ipprotoUDP:
	default:
		s.netifReceive(b)
		return
	}
	sport, dport, _ := l4Ports(l4)
	var oports uint32
	var ocsum bool
	if tun {
		ol4 := data[outer.ihl:]
		oports, ocsum = binary.BigEndian.Uint32(ol4[0:4]), binary.BigEndian.Uint16(ol4[6:8]) != 0
	}
	// dev_gro_receive: NAPI_GRO_CB(skb)->flush = skb_has_frag_list(skb)
	// (a reassembled datagram is never held nor merged); a GSO skb (an
	// aggregate forwarded here) counts gso_segs segments and is flushed
	// unless it is TCP and not SKB_GSO_DODGY.
	sh := b.Shinfo()
	segs, flush := 1, b.HasFragList()
	gsoSize := int(sh.GSOSize) // b's, read before b is merged and freed
	if gsoSize != 0 {
		segs = int(sh.GSOSegs)
		flush = flush || sh.GSOType&(skb.GSOTCPv4|skb.GSOTCPv6) == 0 || sh.GSOType&skb.GSODodgy != 0
	}
	mh := b.MacHeader()
	mac := [ethHlen]byte(b.Head()[mh : mh+ethHlen])
	bk := b.H().Hash & (groHashBuckets - 1) // dev_gro_receive: skb_get_hash_raw(skb) & (GRO_HASH_BUCKETS - 1)
	for i := range gn.held[bk] {
		g := &gn.held[bk][i]
		if g.sport != sport || g.dport != dport || g.tun != tun || !ip.sameFlow(&g.ip) {
			continue
		}
		p := g.b
		pd := p.Data()
		// udp_gro_receive: the outer ports, and checksums both zero or
		// both set; vxlan_gro_receive: the flags and VNI, geneve_gro_receive:
		// the whole header; eth_gro_receive: compare_ether_header.
		if tun && (!outer.sameFlow(&g.outer) || g.oports != oports || g.ocsum != ocsum || g.tunHdr != tunHdr ||
			!bytes.Equal(pd[outer.ihl+udpHlen:nh], data[outer.ihl+udpHlen:nh])) {
			continue
		}
		// ipv6_gro_receive: the first next header and the extension
		// headers must be the same bytes (memcmp over nlen).
		if ip.v6 && (g.ip.ihl != ip.ihl || (ip.ihl > ip6Hlen && (pd[nh+6] != data[nh+6] ||
			!bytes.Equal(pd[nh+ip6Hlen:nh+ip.ihl], data[nh+ip6Hlen:nh+ip.ihl])))) {
			continue
		}
		ph, bh := p.H(), b.H()
		same := ph.Hash == bh.Hash && ph.Dev == bh.Dev && ph.VlanTCI == bh.VlanTCI && ph.VlanProto == bh.VlanProto &&
			!skb.MetadataDiffers(p, b) && g.macBytes == mac
		if same && (ph.SlowGRO || bh.SlowGRO) {
			pc, _ := p.Nfct()
			bc, _ := b.Nfct()
			same = p.Sk() == b.Sk() && pc == bc && !skb.MetadataDstDiffers(p, b)
		}
		if !same {
			continue
		}
		if g.flist != flist {
			if !tcp {
				// udp_gro_receive_segment: fraglist and plain GRO do not
				// mix; the held skb is completed and this one goes up alone.
				s.groComplete(gn, bk, i)
				s.netifReceive(b)
				return
			}
			flist = g.flist // tcp4_check_fraglist_gro: tcp_gro_lookup's p decides
		}
		// gro_receive_network_flush: inet_gro_flush / ipv6_gro_flush on
		// the outer (or only) header, then on a tunnel's inner one.
		var ipFlush bool
		if tun {
			ipFlush = g.ipFlush(&g.outer, &outer, 1, s.prof)
			ipFlush = g.ipFlush(&g.ip, &ip, 2, s.prof) || ipFlush
		} else {
			ipFlush = g.ipFlush(&g.ip, &ip, 1, s.prof)
		}
		// inet_gro_receive flushes a segment whose tot_len is not its
		// GRO length (Ethernet padding).
		off := int(binary.LittleEndian.Uint32(cb[16:20])) // skb_gro_offset
		// tcp_gro_receive: a GSO skb (an aggregate that came back to GRO,
		// as after decapsulation) needs the held skb's gso_size, a single
		// segment at most that much payload. Fraglist TCP stops at 64
		// segments (before merging); UDP completes there (after); plain
		// TCP is bounded by the aggregate's size (skb_gro_receive: E2BIG).
		sizeOK := payload <= g.mss
		if gsoSize != 0 {
			sizeOK = gsoSize == g.mss
		}
		mergeable := payload > 0 && sizeOK && (!tcp || !flist || g.count < 64) && b.Len()-off == payload && !ipFlush && !flush
		if tcp {
			// tcp_gro_receive: no merge for a segment with CWR
			// (flags & TCP_FLAG_CWR), another flag word (data offset,
			// flags but FIN and PSH, and from v6.18 CWR too, so a held
			// skb with CWR takes nothing: Profile.TCPGROAccECN, measured),
			// acknowledgment number or options than the held skb's, or a
			// sequence gap; fraglist GRO wants the very same flag word.
			th2 := pd[nh+g.ip.ihl:]
			fw, fw2 := binary.BigEndian.Uint32(l4[12:16]), binary.BigEndian.Uint32(th2[12:16])
			ignore := uint32(tcpFlagCWR | tcpFlagFIN | tcpFlagPSH)
			if s.prof.TCPGROAccECN {
				ignore = tcpFlagFIN | tcpFlagPSH
			}
			words := fw&tcpFlagCWR == 0 && (fw^fw2)&^ignore == 0
			mergeable = mergeable && words &&
				bytes.Equal(l4[8:12], th2[8:12]) && bytes.Equal(l4[20:doff], th2[20:doff]) && seq == g.next &&
				(!flist || fw == fw2)
		}
		var (
			free skb.GROFree
			err  error
		)
		switch {
		case mergeable && flist:
			// skb_gro_receive_list, after skb_set_network_header(skb,
			// skb_gro_receive_network_offset(skb)); the transport header
			// follows it, so skb_segment_list finds the headers of each
			// list skb where they are.
			b.SetNetworkHeader(nh)
			b.SetTransportHeader(nh + ip.ihl)
			g.last, err = p.GROReceiveList(g.last, b, off)
			free = skb.GROMerged
		case mergeable:
			g.last, free, err = p.GROReceive(g.last, b, off)
		}
		if !mergeable || err != nil {
			// The held skb is completed (pp = p); this one was not merged
			// (same_flow 0) and, unless its own flags or headers flush it,
			// dev_gro_receive holds it as a new flow.
			s.groComplete(gn, bk, i)
			break
		}
		if tcp && !flist {
			pd[nh+g.ip.ihl+13] |= flags & (tcpFIN | tcpPSH) // tcp_flag_word(th2) |= flags & (FIN | PSH)
		}
		g.count += segs
		g.next += uint32(payload)
		binary.LittleEndian.PutUint16(ph.CB[22:24], uint16(g.count))
		s.stats.GROMerged++
		s.traceOp(LayerGRO, OpGROMerge, b)
		// napi_skb_finish: no tracepoint for a merged skb.
		switch free {
		case skb.GROFreeStolenHead:
			b.FreeStolenHead()
		case skb.GROFreeSkb:
			b.NapiFree()
		case skb.GROMerged:
			if s.listPkt != nil {
				s.listPkt[b] = s.cur // on the held skb's frag_list until it is freed
			}
		}
		// out_check_final: a short segment (a GSO skb: one whose payload is
		// not gso_segs full segments), or URG, PSH, RST, SYN or FIN
		// completes the aggregate; udp_gro_receive_segment completes it at
		// UDP_GRO_CNT_MAX (64) segments.
		short := payload < g.mss
		if gsoSize != 0 {
			short = payload != segs*gsoSize
		}
		if (tcp && flags&(tcpURG|tcpPSH|tcpRST|tcpSYN|tcpFIN) != 0) || short || (!tcp && g.count >= 64) {
			s.groComplete(gn, bk, i)
		}
		return
	}
	if (tcp && flags&(tcpSYN|tcpRST|tcpURG|tcpFIN|tcpPSH) != 0) || payload <= 0 || flush {
		s.netifReceive(b)
		return
	}
	if len(gn.held[bk]) >= maxGROSkbs {
		s.groComplete(gn, bk, 0) // gro_flush_oldest
	}
	mss := int(sh.GSOSize)
	if mss == 0 {
		mss = payload
		sh.GSOSize = uint16(payload) // skb_shinfo(skb)->gso_size = skb_gro_len(skb)
	}
	// NAPI_GRO_CB(skb)->last = skb; ->age = jiffies: cb[0:16] (the model
	// writes the skb id and a jiffies stand-in).
	binary.LittleEndian.PutUint64(cb[0:8], b.ID())
	binary.LittleEndian.PutUint64(cb[8:16], bootJiffies+s.stats.Injected)
	gn.n++
	gn.held[bk] = append(gn.held[bk], groEntry{b: b, last: b, pkt: s.cur, trace: s.trace, count: segs, next: seq + uint32(payload),
		mss: mss, ip: ip, nh: nh, tun: tun, outer: outer, oports: oports, ocsum: ocsum, tunHdr: tunHdr,
		sport: sport, dport: dport, macBytes: mac, flist: flist})
}

// TCP flag word bits (tcp_flag_word: bytes 12-15 of the header, big
// endian).
const (
	tcpFlagCWR = 0x00800000
	tcpFlagPSH = 0x00080000
	tcpFlagFIN = 0x00010000
)

// tcpEhashHas models __inet_lookup_established / __inet6_lookup_established
// for GRO's fraglist heuristic: a request or child in the connection table
// or a connecting socket of the namespace owns the flow laddr:lport from
// raddr:rport. Listeners are not in the established hash.
func (s *Stack) tcpEhashHas(ns *Netns, laddr, raddr netip.Addr, lport, rport uint16) bool {
	k := tcpKey{laddr: laddr, raddr: raddr, ns: ns.id, lport: lport, rport: rport}
	if s.tcp.find(&k) >= 0 {
		return true
	}
	for _, sk := range ns.active {
		if sk.cstate != tcpClosed && sk.port == lport && sk.connect.Port() == rport && sk.connect.Addr() == raddr &&
			(!sk.addr.IsValid() || sk.addr.IsUnspecified() || sk.addr == laddr) {
			return true
		}
	}
	return false
}

// ipFlush models inet_gro_flush() and ipv6_gro_flush() for header h of a
// segment of g's flow against the held skb's header hp, bit 1 for the
// outer (or only) header and 2 for a tunnel's inner one: a different TTL,
// TOS or DF bit (IPv6: hop limit or traffic class) flushes; for IPv4 the
// identification must follow the held skb's, incrementing by one per
// merged segment, or stay fixed when the second segment repeated the
// first's (ip_fixedid): before v6.18 only for DF packets, from v6.18 for
// any (Profile.GROFixedIDWithoutDF). Before v6.18
// (Profile.GROOuterIPID) an outer header with DF is not checked further,
// and one ip_fixedid bit serves both headers.
func (g *groEntry) ipFlush(hp, h *groIP, bit uint8, prof *skb.Profile) bool {
	if hp.ttlTos != h.ttlTos {
		return true
	}
	if hp.v6 {
		return false
	}
	if hp.df != h.df {
		return true
	}
	if !prof.GROOuterIPID {
		if g.tun && bit == 1 && h.df {
			return false // inet_gro_flush: flush | (outer && df)
		}
		bit = 1
	}
	off := h.ipID - hp.ipID
	if g.count == 1 && (h.df || prof.GROFixedIDWithoutDF) && off == 0 {
		g.fixedID |= bit
	}
	if g.fixedID&bit != 0 {
		return off != 0
	}
	return off != uint16(g.count)
}

// groComplete models napi_gro_complete() for held entry i: a single
// segment gets gso_size 0 back; an aggregate becomes a GSO skb
// (tcp4_gro_complete: SKB_GSO_TCPV4, gso_segs = count), its IP header's
// length the aggregate's; a tunnel aggregate's outer IP and UDP lengths
// too, gso_type SKB_GSO_UDP_TUNNEL or SKB_GSO_UDP_TUNNEL_CSUM and
// skb->encapsulation set (udp_gro_complete with the tunnel socket's
// gro_complete) before the inner headers' completion. The aggregate's
// checksum is left to whoever sends or delivers it: tcp4_gro_complete,
// tcp6_gro_complete and udp4/udp6_gro_complete write the pseudo-header
// sum of the aggregate's length into the TCP check (a UDP one that is not
// 0), and tcp_gro_complete / udp_gro_complete_segment make it
// CHECKSUM_PARTIAL at the L4 header; a tunnel's outer UDP check (when not
// 0) gets its own pseudo-header sum. A fraglist aggregate keeps its
// segments' checksums and is CHECKSUM_UNNECESSARY
// (__skb_incr_checksum_unnecessary). Then netif_receive_skb.
func (s *Stack) groComplete(gn *groNode, bk uint32, i int) {
	held := gn.held[bk]
	g := held[i]
	copy(held[i:], held[i+1:])
	held[len(held)-1] = groEntry{}
	gn.held[bk] = held[:len(held)-1]
	gn.n--
	saved, savedTrace := s.cur, s.trace
	s.cur, s.trace = g.pkt, g.trace || s.cfg.Options.TraceAll
	sh := g.b.Shinfo()
	if g.count == 1 {
		sh.GSOSize = 0
	} else {
		d := g.b.Data()
		n := g.b.Len()
		if g.tun {
			// inet_gro_complete / ipv6_gro_complete on the outer header,
			// then udp_gro_complete: uh->len, the tunnel GSO type (set,
			// not or-ed) and skb->encapsulation.
			groSetIPLen(d, &g.outer, n)
			binary.BigEndian.PutUint16(d[g.outer.ihl+4:g.outer.ihl+6], uint16(n-g.outer.ihl))
			sh.GSOType = skb.GSOUDPTunnel
			if g.ocsum {
				sh.GSOType = skb.GSOUDPTunnelCsum
				// udp4_gro_complete / udp6_gro_complete: uh->check =
				// ~udp_v4_check(len, saddr, daddr, 0).
				binary.BigEndian.PutUint16(d[g.outer.ihl+6:], csumFold(pseudoSum(d, ipprotoUDP, n-g.outer.ihl)))
			}
			g.b.H().Encapsulation = true
			// eth_gro_complete, inet_gro_complete / ipv6_gro_complete and
			// tcp_gro_complete with skb->encapsulation: the inner headers.
			g.b.SetInnerHeaders(g.nh-ethHlen, g.nh, g.nh+g.ip.ihl)
			g.b.H().InnerProtocol = ethPIP
			if g.ip.v6 {
				g.b.H().InnerProtocol = ethPIPv6
			}
		}
		groSetIPLen(d[g.nh:], &g.ip, n-g.nh)
		// tcp4_gro_complete, tcp6_gro_complete / udp4_gro_complete,
		// udp6_gro_complete: a UDP aggregate's length is its own
		// (uh->len); a fraglist one is SKB_GSO_FRAGLIST too.
		sh.GSOSegs = uint16(g.count)
		th := g.nh + g.ip.ihl // the L4 header follows the network headers
		switch {
		case g.ip.proto != ipprotoTCP:
			binary.BigEndian.PutUint16(d[th+4:th+6], uint16(n-th))
			sh.GSOType |= skb.GSOUDPL4
		case g.ip.v6:
			sh.GSOType |= skb.GSOTCPv6
		default:
			sh.GSOType |= skb.GSOTCPv4
		}
		if g.flist {
			incrCsumUnnecessary(g.b.H())
		} else {
			groCompleteCsum(g.b, d, g.nh, th, g.ip.proto)
		}
		switch {
		case g.flist:
			sh.GSOType |= skb.GSOFraglist // the fraglist branches of tcp4/6 and udp4/6_gro_complete
		case g.ip.proto == ipprotoTCP && d[th+13]&tcpCWR != 0:
			// tcp_gro_complete: th->cwr; from v6.18 (AccECN, with
			// Profile.TCPGROAccECN) SKB_GSO_TCP_ACCECN.
			if s.prof.TCPGROAccECN {
				sh.GSOType |= skb.GSOTCPAccECN
			} else {
				sh.GSOType |= skb.GSOTCPECN
			}
		}
		// tcp4_gro_complete: ip_fixedid * SKB_GSO_TCP_FIXEDID, the bit of
		// the outer (or only) header giving SKB_GSO_TCP_FIXEDID and, from
		// v6.18, a tunnel's inner header's bit SKB_GSO_TCP_FIXEDID_INNER.
		if g.ip.proto == ipprotoTCP && !g.flist && !g.ip.v6 {
			if g.fixedID&1 != 0 {
				sh.GSOType |= skb.GSOTCPFixedID
			}
			if g.fixedID&2 != 0 {
				sh.GSOType |= skb.GSOTCPFixedIDInner
			}
		}
	}
	s.stats.GROFlushed++
	if g.count > 1 {
		s.stats.GROAggregates++
		if g.flist {
			s.stats.GROFraglist++
		}
	}
	s.traceOp(LayerGRO, OpGROFlush, g.b)
	s.netifReceive(g.b)
	s.cur, s.trace = saved, savedTrace
}

// groCompleteCsum models the checksum part of tcp4_gro_complete,
// tcp6_gro_complete (th->check = ~tcp_v4_check(skb->len - thoff, saddr,
// daddr, 0)) and tcp_gro_complete, or of udp4_gro_complete,
// udp6_gro_complete (the same for a UDP check that is not 0) and
// udp_gro_complete_segment: the pseudo-header sum in the check field,
// ip_summed CHECKSUM_PARTIAL and csum_start at the L4 header th of d, the
// aggregate's data, whose network header is at nh.
func groCompleteCsum(b *skb.Buff, d []byte, nh, th int, proto uint8) {
	co := l4CheckOffset(proto)
	if proto != ipprotoUDP || binary.BigEndian.Uint16(d[th+co:]) != 0 {
		binary.BigEndian.PutUint16(d[th+co:], csumFold(pseudoSum(d[nh:], proto, b.Len()-th)))
	}
	b.H().IPSummed = skb.ChecksumPartial
	b.SetCsumStart(th)
	b.H().CsumOffset = uint16(co)
}

// groSetIPLen models the length update of inet_gro_complete (tot_len,
// with csum_replace2 keeping the header checksum right) and
// ipv6_gro_complete (payload_len) for header h at the start of nh, n
// bytes long with what follows.
func groSetIPLen(nh []byte, h *groIP, n int) {
	if h.v6 {
		binary.BigEndian.PutUint16(nh[4:6], uint16(n-ip6Hlen))
		return
	}
	binary.BigEndian.PutUint16(nh[2:4], uint16(n))
	setIPCsum(nh, ipHlen)
}

// groFlush models napi_gro_flush() (gro_flush() on a gro_node): every
// bucket in order, each from its oldest skb.
func (s *Stack) groFlush(gn *groNode) {
	for bk := range uint32(groHashBuckets) {
		for len(gn.held[bk]) != 0 {
			s.groComplete(gn, bk, 0)
		}
	}
}

// groNode models struct gro_node (v6.15; napi_struct's GRO state before):
// the skbs GRO holds, per hash bucket (gro->hash[bucket]: skb->hash &
// (GRO_HASH_BUCKETS - 1)), oldest first, and their count. Each device has
// its NAPI's; each cpumap entry has its own (rcpu->gro).
type groNode struct {
	held [groHashBuckets][]groEntry
	n    int
}

func (gn *groNode) init() {
	for i := range gn.held {
		gn.held[i] = make([]groEntry, 0, maxGROSkbs)
	}
}

// drop frees what gn holds without completing it (the stack's Close).
func (s *Stack) groDiscard(gn *groNode) {
	for bk := range gn.held {
		for _, g := range gn.held[bk] {
			s.cur = g.pkt
			g.b.ConsumeSkb()
		}
		clear(gn.held[bk])
		gn.held[bk] = gn.held[bk][:0]
	}
	gn.n = 0
}

// --- backlog ---

// netifRx models netif_rx / __netif_rx: enqueue_to_backlog, processed
// after the current packet's synchronous path (process_backlog).
// Takes ownership of skb.
func (s *Stack) netifRx(b *skb.Buff) {
	if len(s.backlog)-s.blHead >= maxBacklog {
		s.drop(b, skb.DropCPUBacklog, OpNetifRx)
		return
	}
	s.traceOp(LayerCore, OpNetifRx, b)
	s.stats.Backlog++
	s.backlog = append(s.backlog, queued{b: b, pkt: s.cur})
}

// maxBacklogWork bounds the backlog work one Inject may cause: a program
// that redirects a packet back into the backlog forever (which livelocks a
// real CPU) is cut off with CPU_BACKLOG drops.
const maxBacklogWork = 4096

// Once the backlog is empty, the ifb devices' tasklets run (ifb.go), then
// the macvlan ports' broadcast work (macvlan_process_broadcast), and the
// backlog again for what they queued.
func (s *Stack) runBacklog() {
	saved := s.cur
	for {
		for i := 0; i < len(s.backlog); i++ {
			q := s.backlog[i]
			s.backlog[i] = queued{}
			s.blHead = i + 1
			s.cur = q.pkt
			if i >= maxBacklogWork {
				s.drop(q.b, skb.DropCPUBacklog, OpNetifRx)
				continue
			}
			s.netifReceive(q.b)
		}
		s.backlog = s.backlog[:0]
		s.blHead = 0
		switch {
		case len(s.ifbQ) != 0:
			s.ifbTasklet()
			continue
		case len(s.mvBcQ) != 0:
			s.macvlanProcessBroadcast()
			continue
		}
		break
	}
	s.cur = saved
}
