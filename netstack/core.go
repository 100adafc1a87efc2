package netstack

import (
	"encoding/binary"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/skb"
)

// netifReceive models __netif_receive_skb_core(): skb_iif, header resets,
// generic XDP, skb_vlan_untag for an 802.1Q or 802.1ad frame, RX taps
// (ptype_all), tc ingress (tcx), the bridge or macvlan rx_handler, the
// check_vlan_id block and the protocol handler. bpf_redirect_peer re-runs it
// in the peer's namespace, and a macvlan's rx_handler on the macvlan
// (another_round), generic XDP included: the new device's program runs,
// since neither sets skb->redirected. Takes ownership of skb.
func (s *Stack) netifReceive(b *skb.Buff) {
	for {
		d := s.devOf(b)
		if d == nil || !d.up {
			s.drop(b, skb.DropDevReady, OpNetifReceive)
			return
		}
		h := b.H()
		if s.cfg.Options.RxTimestamps && h.Tstamp == 0 {
			h.Tstamp = int64(s.cur) // net_timestamp_check: a receive time (the model uses the packet id)
		}
		h.SkbIIF = d.ifindex // skb->skb_iif = skb->dev->ifindex
		// skb_reset_network_header, skb_reset_transport_header unless
		// set, skb_reset_mac_len
		b.ResetRxHeaders()
		s.traceOp(LayerCore, OpNetifReceive, b)
		if len(d.xdp) != 0 && d.xdpGeneric {
			if b = s.doXDPGeneric(b, d); b == nil {
				return
			}
		}
		if skb.EthTypeVlan(b.H().Protocol) {
			if b = s.vlanUntag(b); b == nil {
				return
			}
		}
		// skb_skip_tc_classify: an skb an ifb device put back skips the
		// taps and tc ingress once.
		h = b.H()
		skip := h.TCSkipClassify
		h.TCSkipClassify = false
		if !skip {
			for _, t := range d.rxTaps {
				s.tapRcv(t, b.Get(), false) // deliver_skb: refcount_inc(&skb->users)
			}
		}
		if len(d.tcIn) != 0 && !skip {
			ret := s.runTC(b, d, true)
			switch ret {
			case TCXDrop:
				s.drop(b, skb.DropTCIngress, OpTCIngress)
				return
			case TCXRedirect:
				b.Push(b.MacLen()) // __skb_push(skb, skb->mac_len) before skb_do_redirect
				if s.skbDoRedirect(b) {
					b.Pull(b.MacLen())
					continue // another_round in the peer's namespace
				}
				return
			case TCXStolen: // sch_handle_ingress: consume_skb
				s.consumeSkb(b)
				return
			case TCXConsumed:
				s.mirredConsumed(b, d)
				return
			}
		}
		if d.master != nil && d.master.kid == kidBridge && s.brHandleFrame(b, d) {
			return
		}
		if d.mvPort != nil {
			switch s.macvlanHandleFrame(&b, d) {
			case rxHandlerConsumed:
				return
			case rxHandlerAnother:
				continue
			}
		}
		if b.H().VlanTagPresent() {
			if b = s.checkVlanID(b); b == nil {
				return
			}
		}
		s.deliverProto(b)
		return
	}
}

// vlanUntag models skb_vlan_untag() where __netif_receive_skb_core calls
// it (skb->protocol is a VLAN TPID; the tag is not in vlan_tci already):
// skb_share_check (a shared skb is cloned and the reference dropped), then
// skb.Buff.VlanUntag; a frame too short for the tag, or a head copy that
// fails, is freed (kfree_skb: NOT_SPECIFIED). Takes ownership of skb and
// returns the one that goes on, or nil.
func (s *Stack) vlanUntag(b *skb.Buff) *skb.Buff {
	if b.Shared() {
		n, err := b.Clone()
		if err != nil {
			d := s.devOf(b)
			b.KfreeSkb(skb.DropNotSpecified) // a reference dropped: no tracepoint
			s.dropNoSkb(d, skb.DropNomem, OpVlanUntag)
			return nil
		}
		b.ConsumeSkb()
		b = n
	}
	if err := b.VlanUntag(); err != nil {
		s.drop(b, skb.DropNotSpecified, OpVlanUntag)
		return nil
	}
	s.traceOp(LayerCore, OpVlanUntag, b)
	return b
}

// checkVlanID models the check_vlan_id block of __netif_receive_skb_core
// for a tagged skb no rx_handler took (with CONFIG_VLAN_8021Q off, or no
// VLAN device on top, vlan_do_receive finds nothing): a non-zero VLAN id
// makes the packet PACKET_OTHERHOST (ip_rcv and ipv6_rcv then drop it); a
// priority tag (id 0) over another VLAN header has the tag cleared and the
// inner one untagged and checked in turn; then the tag is cleared
// (__vlan_hwaccel_clear_tag). Takes ownership of skb and returns the one
// that goes on, or nil.
func (s *Stack) checkVlanID(b *skb.Buff) *skb.Buff {
	for {
		h := b.H()
		if h.VlanTCI&vlanVIDMask != 0 {
			h.PktType = skb.PacketOtherhost
		} else if skb.EthTypeVlan(h.Protocol) {
			h.VlanProto, h.VlanTCI = 0, 0
			if b = s.vlanUntag(b); b == nil {
				return nil
			}
			continue
		}
		h.VlanProto, h.VlanTCI = 0, 0
		return b
	}
}

// vlanVIDMask is VLAN_VID_MASK.
const vlanVIDMask = 0x0fff

// deliverProto models the ptype_base dispatch by skb->protocol.
func (s *Stack) deliverProto(b *skb.Buff) {
	switch b.H().Protocol {
	case ethPIP:
		s.ipRcv(b)
	case ethPARP:
		s.arpRcv(b)
	case ethPIPv6:
		s.ip6Rcv(b)
	default:
		s.drop(b, skb.DropUnhandledProto, OpNetifReceive)
	}
}

// tapRcv models packet_rcv() for tap t on an skb it holds a users
// reference on: a shared skb is cloned (the clone is queued, the reference
// dropped), dst and conntrack are dropped, the skb is charged and queued
// until the application reads it. Takes ownership of the reference.
func (s *Stack) tapRcv(t *tap, b *skb.Buff, tx bool) {
	op := OpTapRx
	if tx {
		op = OpTapTx
	}
	if b.H().PktType == skb.PacketLoopback {
		b.ConsumeSkb()
		return
	}
	if len(t.filters) != 0 && !s.tapFilter(t, b, op) {
		b.ConsumeSkb() // drop_n_restore: the tap takes nothing
		return
	}
	if b.Shared() {
		n, err := b.Clone()
		b.ConsumeSkb()
		if err != nil {
			s.dropNoSkb(s.devOf(b), skb.DropNomem, op)
			return
		}
		b = n
	}
	// skb_dst_drop and nf_reset_ct; neither has anything to do on an skb
	// without dst or conntrack.
	if dst, noref := b.Dst(); dst != nil || noref {
		b.DstDrop()
	}
	if ct, ctinfo := b.Nfct(); ct != nil || ctinfo != 0 {
		b.NfResetCt()
	}
	s.traceOp(LayerTap, op, b)
	t.q = append(t.q, queued{b: b, pkt: s.cur})
}

// tapFilter models packet_rcv's run_filter for tap t's socket filter on
// the skb it was handed (shared with the stack and other taps): data
// pushed back to the mac header (a SOCK_RAW packet socket), cb[] cleared
// and not restored (bpf_prog_run_clear_cb), the program run, data put back
// where it was. It reports whether the tap keeps the packet (a non-zero
// return; the snap length is not modelled).
func (s *Stack) tapFilter(t *tap, b *skb.Buff, op Op) bool {
	push := 0
	if b.MacHeaderWasSet() {
		if off := -b.MacOffset(); off > 0 && off <= b.Headroom() {
			push = off
			b.Push(off)
		}
	}
	hd := b.H()
	keep := true
	for _, pi := range t.filters {
		clear(hd.CB[cbDataOff : cbDataOff+bpfCBWords*4])
		c := s.pushCtx(pi, carrier.HookSocketFilter, b, nil, t.ns, nil)
		s.traceOp(LayerTap, op, b)
		ret := s.progOf(c).Run(c)
		s.progRan(c, ret)
		s.popCtx()
		if ret == 0 {
			keep = false
			break
		}
	}
	if push > 0 {
		b.Pull(push)
	}
	return keep
}

// devQueueXmitNit models dev_queue_xmit_nit(): one clone for all TX taps
// (PACKET_OUTGOING, mac header reset, transport = network header); every
// tap but the last gets deliver_skb on it, the last the clone itself.
func (s *Stack) devQueueXmitNit(b *skb.Buff, d *Device) {
	n, err := b.Clone()
	if err != nil {
		s.dropNoSkb(d, skb.DropNomem, OpTapTx)
		return
	}
	n.ResetMacHeader()
	n.SetTransportHeader(n.NetworkOffset())
	n.H().PktType = skb.PacketOutgoing
	for i, t := range d.txTaps {
		if i == len(d.txTaps)-1 {
			s.tapRcv(t, n, true)
		} else {
			s.tapRcv(t, n.Get(), true)
		}
	}
}

// runTC models sch_handle_ingress / sch_handle_egress with tcx_run():
// qdisc_skb_cb(skb)->pkt_len = len, tc_at_ingress set, at ingress the mac
// header pushed around the programs; programs run until one returns
// something other than TCX_NEXT; TCX_PASS sets tc_index from
// qdisc_skb_cb(skb)->tc_classid (tcx_action_code); unknown codes count as
// TCX_NEXT.
func (s *Stack) runTC(b *skb.Buff, d *Device, ingress bool) int {
	h := b.H()
	binary.LittleEndian.PutUint32(h.CB[0:4], uint32(b.Len()))
	h.TCAtIngress = ingress
	hook, progs, op := carrier.HookTCEgress, d.tcEg, OpTCEgress
	if ingress {
		hook, progs, op = carrier.HookTCIngress, d.tcIn, OpTCIngress
		b.Push(b.MacLen())
	}
	s.traceOp(LayerTC, op, b)
	ret := TCXNext
	for _, pi := range progs {
		c := s.pushCtx(pi, hook, b, d, d.ns, nil)
		c.ingress = ingress
		ret = s.progOf(c).Run(c)
		s.progRan(c, ret)
		ri := c.ri
		s.popCtx()
		if ret == TCXRedirect || ret == TCXConsumed {
			s.ri = ri
		}
		if ret != TCXNext {
			break
		}
	}
	if ingress {
		b.Pull(b.MacLen())
	}
	switch ret {
	case TCXPass:
		h.TCIndex = binary.LittleEndian.Uint16(h.CB[cbTCClassid : cbTCClassid+2])
		return TCXPass
	case TCXDrop, TCXRedirect, TCXStolen, TCXConsumed:
		return ret
	}
	return TCXNext
}

// skbDoRedirect models skb_do_redirect() with the bpf_redirect_info the
// program left: the target is looked up in dev_net(skb->dev); BPF_F_PEER
// (tc ingress only, a veth or netkit device, ndo_get_peer_dev, whose peer
// is up in another namespace) sets
// skb->dev to the peer, scrubs with xnet=false (v6.8+) and returns true
// for another round; otherwise __bpf_redirect. Takes ownership of skb
// unless it returns true. Data must be at the mac header.
func (s *Stack) skbDoRedirect(b *skb.Buff) (again bool) {
	ri := s.ri
	s.ri = redirectInfo{}
	cur := s.devOf(b)
	var t *Device
	if cur != nil {
		t = cur.ns.devByIndex(ri.ifindex)
	}
	if t == nil {
		s.drop(b, skb.DropNotSpecified, OpRedirect)
		return false
	}
	if ri.flags&flagNeigh != 0 {
		s.bpfRedirectNeigh(b, t, &ri)
		return false
	}
	if ri.flags&flagPeer != 0 {
		p := t.peer
		if !b.H().TCAtIngress || (t.kid != kidVeth && t.kid != kidNetkit) || p == nil || !p.up || p.ns == cur.ns {
			s.drop(b, skb.DropNotSpecified, OpRedirectPeer)
			return false
		}
		setDev(b, p)
		if s.prof.RedirectPeerScrubs {
			b.Scrub(false)
		}
		s.traceOp(LayerTC, OpRedirectPeer, b)
		return true
	}
	s.bpfRedirect(b, t, ri.flags)
	return false
}

// bpfRedirect models __bpf_redirect -> __bpf_redirect_common: ingress
// (__bpf_rx_skb: ____dev_forward_skb, eth_type_trans, netif_rx) or egress
// (__bpf_tx_skb: skb->dev = dev, skb_set_redirected_noclear,
// skb_clear_tstamp, dev_queue_xmit). Returns 0 or a negative errno.
// Takes ownership of skb (data at the mac header).
func (s *Stack) bpfRedirect(b *skb.Buff, t *Device, flags uint64) int {
	if !b.MacHeaderWasSet() || b.Len() == 0 || b.MacHeader() >= b.NetworkHeader() && t.kind != KindGRE && t.kind != KindIPIP && t.kind != KindSIT {
		s.drop(b, skb.DropNotSpecified, OpRedirect)
		return -34 // -ERANGE
	}
	s.traceOp(LayerTC, OpRedirect, b)
	if flags&FlagIngress != 0 {
		if !s.devForwardSkbMTU(b, t, !s.prof.RedirectIngressNoMTU) {
			return -1
		}
		if !s.ethTypeTrans(b, t) {
			s.drop(b, skb.DropPktTooSmall, OpRedirect)
			return -22
		}
		s.netifRx(b)
		return 0
	}
	if s.recursion >= maxRecursion {
		s.drop(b, skb.DropNotSpecified, OpRedirect)
		return -100 // -ENETDOWN
	}
	setDev(b, t)
	h := b.H()
	h.Redirected = true
	h.FromIngress = h.TCAtIngress
	b.ClearTstamp()
	s.recursion++
	s.devQueueXmit(b, t)
	s.recursion--
	return 0
}

// cloneRedirect models bpf_clone_redirect(): see Ctx.CloneRedirect.
func (s *Stack) cloneRedirect(c *Ctx, ifindex int32, flags uint64) int {
	if flags&^FlagIngress != 0 {
		return errEINVAL
	}
	b := c.Skb
	cur := s.devOf(b)
	if cur == nil {
		return errEINVAL
	}
	t := cur.ns.devByIndex(ifindex)
	if t == nil {
		return errEINVAL
	}
	n, err := b.Clone()
	if err != nil {
		return errENOMEM
	}
	// bpf_try_make_head_writable(skb): skb_ensure_writable(skb, headlen).
	if err := b.EnsureWritable(b.Headlen()); err != nil {
		s.drop(n, skb.DropNomem, OpCloneRedirect)
		return errENOMEM
	}
	s.traceOp(LayerTC, OpCloneRedirect, n)
	// Data is at the mac header at both tc hooks (tcx_run pushed it at
	// ingress).
	return s.bpfRedirect(n, t, flags)
}

// devForwardSkb models ____dev_forward_skb(dev, skb, true): drop
// (kfree_skb: NOT_SPECIFIED, measured on 6.18) if the device is down or
// the packet too long (__is_skb_forwardable: len > mtu + hard_header_len
// + VLAN_HLEN, unless it is a GSO skb, which may be segmented later),
// scrub with xnet = the namespaces differ (v5.13+; always true before),
// priority = 0. Takes ownership of skb on failure (returns false).
func (s *Stack) devForwardSkb(b *skb.Buff, t *Device) bool { return s.devForwardSkbMTU(b, t, true) }

// devForwardSkbMTU is devForwardSkb with check_mtu: without it only the
// device's state counts (dev_forward_skb_nomtu).
func (s *Stack) devForwardSkbMTU(b *skb.Buff, t *Device, checkMTU bool) bool {
	if !t.up || checkMTU && b.Len() > t.mtu+ethHlen+skb.VlanHlen && b.Shinfo().GSOSize == 0 {
		s.drop(b, skb.DropNotSpecified, OpDevForward)
		return false
	}
	cur := s.devOf(b)
	xnet := true
	if s.prof.DevForwardScrubByNetns && cur != nil {
		xnet = cur.ns != t.ns
	}
	b.Scrub(xnet)
	b.H().Priority = 0
	s.traceOp(LayerDev, OpDevForward, b)
	return true
}

// doXDPGeneric models do_xdp_generic -> netif_receive_generic_xdp: a
// redirected skb skips it; a cloned or non-linear skb, or one with less
// than XDP_PACKET_HEADROOM of headroom, is made fit first
// (netif_skb_check_for_xdp): for a multi-buffer program from v6.9, a
// page-pool copy that stays non-linear replaces it (skb_cow_data_for_xdp:
// skb_pp_cow_data, the original consumed; not for a frag_list); otherwise
// it gets a private, bigger head (pskb_expand_head, which clears meta_len
// before v6.19, with the tailroom the non-linear bytes need) and is
// linearized. The program sees the frame from the mac header (its linear
// part) with data_meta == data; XDP_PASS with a non-zero metalen calls
// skb_metadata_set. Returns the skb to continue with, or nil when it was
// consumed.
func (s *Stack) doXDPGeneric(b *skb.Buff, d *Device) *skb.Buff {
	if b.H().Redirected {
		return b
	}
	macLen := -b.MacOffset()
	b.Push(macLen)
	if hroom := skb.XDPPacketHeadroom - b.Headroom(); b.SkbCloned() || hroom > 0 || b.IsNonlinear() {
		if b = s.xdpCheckSkb(b, hroom); b == nil {
			return nil
		}
	}
	act, ri := s.runXDPGeneric(d.xdp[len(d.xdp)-1], b, d, macLen)
	switch act {
	case XDPPass:
		return b
	case XDPTx:
		s.devXmitRaw(b, d) // generic_xdp_tx: straight to the driver
	case XDPRedirect:
		s.xdpGenericRedirect(b, d, ri, skb.DropXDP, OpXDPGeneric)
	default:
		s.drop(b, skb.DropXDP, OpXDPGeneric)
	}
	return nil
}

// runXDPGeneric models bpf_prog_run_generic_xdp for program pi on skb b
// received by d, its data at the mac header, macLen bytes before the
// network header. The program sees the frame with data_meta == data. A
// program that moved the frame start (bpf_xdp_adjust_head) moves the mac
// header with it and the network header to macLen bytes after it
// (skb_reset_network_header on the pulled or pushed skb); one whose new
// Ethernet header differs in type, in being for this host or in being
// multicast has it parsed again (pkt_type PACKET_HOST, eth_type_trans). On
// XDP_PASS data goes back to the network header and a non-zero metalen is
// skb_metadata_set; on XDP_TX and XDP_REDIRECT data stays at the mac
// header and meta_len is what it was (the model mirrors data_meta in it
// during the run; the kernel sets it on XDP_PASS only).
func (s *Stack) runXDPGeneric(pi int, b *skb.Buff, d *Device, macLen int) (act int, ri redirectInfo) {
	oldMeta := b.MetadataLen()
	orig := b.Headroom()
	origEth := ethSummary(b.Data(), d)
	act, meta, ri := s.runXDPProg(pi, b, d, true, xdpRxNone, 0)
	switch {
	case act == XDPPass && meta != 0:
		b.MetadataSet(meta) // recorded while data is at the frame start
	case b.MetadataLen() != oldMeta:
		b.MetadataSet(oldMeta)
	}
	moved := b.Headroom() != orig
	if moved {
		b.SetNetworkHeader(macLen)
	}
	if ethSummary(b.Data(), d) != origEth {
		b.H().PktType = skb.PacketHost
		s.ethTypeTrans(b, d)
		b.Push(ethHlen)
	}
	if act == XDPPass {
		b.Pull(macLen)
	}
	return act, ri
}

// ethSummary is what bpf_prog_run_generic_xdp compares of the Ethernet
// header f starts with before and after the program: the type, whether it
// is for d (ether_addr_equal_64bits with dev_addr) and whether it is
// multicast.
func ethSummary(f []byte, d *Device) [3]uint16 {
	if len(f) < ethHlen {
		return [3]uint16{}
	}
	var host, mc uint16
	if [6]byte(f[0:6]) == d.mac {
		host = 1
	}
	if isMulticastMAC(f[0:6]) {
		mc = 1
	}
	return [3]uint16{binary.BigEndian.Uint16(f[12:14]), host, mc}
}

// xdpGenericRedirect models xdp_do_generic_redirect for skb b (data at the
// mac header) that an XDP program on d redirected: into a cpumap entry
// (cpumapGenericRedirect), or to a device (generic_xdp_tx, straight to its
// driver). When it fails (an unknown device, a full cpumap ring) the caller
// frees the skb: kfree_skb with reason at loc. Takes ownership of b.
func (s *Stack) xdpGenericRedirect(b *skb.Buff, d *Device, ri redirectInfo, reason skb.DropReason, loc Op) {
	if ri.cpumap != 0 {
		s.cpumapGenericRedirect(b, d, ri, reason, loc)
		return
	}
	if ri.devmap != 0 {
		s.devmapGenericRedirect(b, d, ri, reason, loc)
		return
	}
	t := d.ns.devByIndex(ri.ifindex)
	if t == nil {
		s.drop(b, reason, loc)
		return
	}
	setDev(b, t)
	s.devXmitRaw(b, t)
}

// xdpCheckSkb models netif_skb_check_for_xdp for skb b at its mac header,
// hroom bytes short of XDP_PACKET_HEADROOM: skb_cow_data_for_xdp (a
// multi-buffer program, v6.9: skb_pp_cow_data, the old skb consumed), and
// when that is not possible pskb_expand_head and skb_linearize. Returns
// the skb to go on with, or nil when it was dropped (NOMEM).
func (s *Stack) xdpCheckSkb(b *skb.Buff, hroom int) *skb.Buff {
	d := s.devOf(b)
	if d != nil && d.xdpFrags && s.prof.GenericXDPFrags {
		if n, err := b.PPCowData(skb.XDPPacketHeadroom); err == nil {
			s.traceOp(LayerCore, OpXDPGeneric, n)
			s.consumeSkb(b)
			s.stats.XDPCopies++
			return n
		}
	}
	nonlinear := b.IsNonlinear()
	nh, nt := 0, 0
	if hroom > 0 {
		nh = (hroom + skb.NetSkbPad - 1) &^ (skb.NetSkbPad - 1)
	}
	if troom := b.Headroom() + b.Len() - b.EndOffset(); troom > 0 { // skb->tail + skb->data_len - skb->end
		nt = troom + 128
	}
	if err := b.ExpandHead(nh, nt); err != nil {
		s.drop(b, skb.DropNomem, OpXDPGeneric)
		return nil
	}
	if err := b.Linearize(); err != nil {
		s.drop(b, skb.DropNomem, OpXDPGeneric)
		return nil
	}
	if nonlinear {
		s.stats.Linearized++
	}
	return b
}

// Packet socket status bits of tpacket_auxdata.tp_status.
const (
	TPStatusUser          uint32 = 1 << 0 // TP_STATUS_USER
	TPStatusCsumNotReady  uint32 = 1 << 3 // TP_STATUS_CSUMNOTREADY
	TPStatusVLANValid     uint32 = 1 << 4 // TP_STATUS_VLAN_VALID
	TPStatusVLANTPIDValid uint32 = 1 << 6 // TP_STATUS_VLAN_TPID_VALID
	TPStatusCsumValid     uint32 = 1 << 7 // TP_STATUS_CSUM_VALID
)

// TapPacket is one skb a tap holds, as a packet socket reading it with
// PACKET_AUXDATA sees it.
type TapPacket struct {
	PacketID uint64
	Len      int    // tp_len: skb->len from the mac header (a SOCK_RAW socket)
	Status   uint32 // tp_status
	VlanTCI  uint16 // tp_vlan_tci (with TP_STATUS_VLAN_VALID)
	VlanTPID uint16 // tp_vlan_tpid (with TP_STATUS_VLAN_TPID_VALID)
	Frame    []byte // the bytes a SOCK_RAW socket reads (a copy)
}

// TapPackets returns what the tap called name holds (a held tap,
// TapConfig.Hold, keeps every packet until Close), in arrival order, with
// each one's tp_status as packet_recvmsg's PACKET_AUXDATA computes it:
// TP_STATUS_USER; TP_STATUS_CSUMNOTREADY for CHECKSUM_PARTIAL, else
// TP_STATUS_CSUM_VALID when skb_csum_unnecessary and the packet is not
// outgoing; TP_STATUS_VLAN_VALID and TP_STATUS_VLAN_TPID_VALID with a
// VLAN tag in vlan_tci (tp_vlan_tci, tp_vlan_tpid). Unknown names return
// nil.
func (s *Stack) TapPackets(name string) []TapPacket {
	for i, t := range s.taps {
		if s.cfg.Taps[i].Name != name {
			continue
		}
		out := make([]TapPacket, 0, len(t.q))
		for _, q := range t.q {
			mac := 0
			if q.b.MacHeaderWasSet() {
				mac = q.b.MacOffset() // packet_rcv: skb_push(skb, skb->data - skb_mac_header(skb))
			}
			f := make([]byte, q.b.Len()-mac)
			_ = q.b.CopyBits(mac, f)
			h := q.b.H()
			out = append(out, TapPacket{PacketID: q.pkt, Len: len(f), Status: tpStatus(q.b),
				VlanTCI: h.VlanTCI, VlanTPID: h.VlanProto, Frame: f})
		}
		return out
	}
	return nil
}

// tpStatus models the tp_status packet_recvmsg puts in tpacket_auxdata.
func tpStatus(b *skb.Buff) uint32 {
	h := b.H()
	st := TPStatusUser
	switch {
	case h.IPSummed == skb.ChecksumPartial:
		st |= TPStatusCsumNotReady
	case h.PktType != skb.PacketOutgoing && (h.IPSummed == skb.ChecksumUnnecessary || h.CsumValid):
		st |= TPStatusCsumValid // skb_csum_unnecessary
	}
	if h.VlanTagPresent() {
		st |= TPStatusVLANValid | TPStatusVLANTPIDValid
	}
	return st
}
