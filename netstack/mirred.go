package netstack

import "github.com/skbsim/skbsim/skb"

// mirredNestLimit is MIRRED_NEST_LIMIT: act_mirred refuses a packet that
// mirred has already sent this deep (tcf_mirred_act: TC_ACT_SHOT).
const mirredNestLimit = 4

// mirred models tcf_mirred_act -> tcf_mirred_to_dev for the skb of tc
// program run c, to the device ifindex of the program's namespace,
// toward its receive path (wantIngress) or its transmit path, mirroring
// (a clone; the actions go on) or redirecting:
//   - nesting past MIRRED_NEST_LIMIT returns TC_ACT_SHOT, mirror or not;
//   - a target that is down or a failed clone (err_cant_do): a redirect
//     returns TC_ACT_SHOT, a mirror goes on;
//   - at tc ingress a redirect sends the skb itself (dont_clone: the
//     default TC_ACT_STOLEN can reinsert) and returns TC_ACT_CONSUMED; the
//     caller sends it after the run (mirredConsumed);
//   - otherwise a clone (skb_clone) is sent now, and a redirect returns
//     TC_ACT_STOLEN, which makes the caller consume the original.
//
// Unlike bpf_redirect and bpf_clone_redirect, act_mirred never scrubs:
// toward ingress it hands the skb to netif_receive_skb / netif_rx as it
// is, without __dev_forward_skb or eth_type_trans.
func (s *Stack) mirred(c *Ctx, ifindex int32, wantIngress, mirror bool) int {
	b := c.Skb
	if h := b.H(); h.TCSkipClassify {
		// tcf_action_exec: skb_skip_tc_classify (an skb an ifb device
		// sent back out) runs no action and clears the flag: TC_ACT_OK.
		h.TCSkipClassify = false
		return TCXPass
	}
	shot := TCXNext
	if !mirror {
		shot = TCXDrop
	}
	if s.mirredNest >= mirredNestLimit {
		return TCXDrop // "Packet exceeded mirred recursion limit"
	}
	cur := s.devOf(b)
	if cur == nil {
		return shot
	}
	t := cur.ns.devByIndex(ifindex)
	if t == nil || !t.up {
		return shot // "tc mirred to Houston: device %s is down"
	}
	if c.ingress && !mirror {
		c.ri = redirectInfo{set: true, ifindex: ifindex, flags: mirredFlags(wantIngress)}
		return TCXConsumed
	}
	n, err := b.Clone()
	if err != nil {
		return shot
	}
	// The model's tc hooks run with data at the mac header, so the clone
	// is where act_mirred's skb_push_rcsum would put it for a target that
	// expects the mac header.
	s.mirredSend(n, cur, t, c.ingress, wantIngress, !mirror, true)
	if mirror {
		return TCXNext
	}
	return TCXStolen
}

func mirredFlags(wantIngress bool) uint64 {
	if wantIngress {
		return FlagIngress
	}
	return 0
}

// mirredSend is the rest of tcf_mirred_to_dev for skb_to_send b, taken at
// from's tc ingress (atIngress) or egress: nf_reset_ct; skb_dst_drop
// when it turns from egress to ingress; data moved to where the target
// expects it (the network header toward ingress and for devices without
// a link-layer header, else the mac header; atMac says where it is);
// skb_iif = from's ifindex and skb->dev = t; for a redirect
// skb_set_redirected (redirected, from_ingress, skb_clear_tstamp when from
// ingress); then tcf_mirred_forward: dev_queue_xmit, netif_rx (egress to
// ingress) or netif_receive_skb (ingress to ingress), counted against
// MIRRED_NEST_LIMIT. Takes ownership of b.
func (s *Stack) mirredSend(b *skb.Buff, from, t *Device, atIngress, wantIngress, redirect, atMac bool) {
	b.NfResetCt()
	if wantIngress && !atIngress {
		b.DstDrop()
	}
	expectsNH := wantIngress || !t.hasL2()
	switch {
	case expectsNH && atMac:
		b.Pull(b.NetworkOffset()) // skb_pull_rcsum(skb, mac_len)
	case !expectsNH && !atMac:
		b.Push(b.MacLen()) // skb_push_rcsum(skb, mac_len)
	}
	h := b.H()
	h.SkbIIF = from.ifindex
	setDev(b, t)
	if redirect {
		h.Redirected = true
		h.FromIngress = h.TCAtIngress
		if h.FromIngress {
			b.ClearTstamp()
		}
	}
	s.traceOp(LayerTC, OpMirred, b)
	if s.recursion >= maxRecursion {
		s.drop(b, skb.DropNotSpecified, OpMirred)
		return
	}
	s.mirredNest++
	s.recursion++
	switch {
	case !wantIngress:
		s.devQueueXmit(b, t)
	case !atIngress:
		s.netifRx(b)
	default:
		s.netifReceive(b)
	}
	s.recursion--
	s.mirredNest--
}

// mirredConsumed sends the skb an act_mirred redirect at tc ingress took
// without a clone (TC_ACT_CONSUMED), after the program run: data is at
// the network header there. Takes ownership of b.
func (s *Stack) mirredConsumed(b *skb.Buff, from *Device) {
	ri := s.ri
	s.ri = redirectInfo{}
	t := from.ns.devByIndex(ri.ifindex)
	if t == nil {
		s.drop(b, skb.DropTCIngress, OpMirred)
		return
	}
	s.mirredSend(b, from, t, true, ri.flags&FlagIngress != 0, true, false)
}

// hasL2 reports whether the device has a link-layer header (dev->header_ops,
// which act_mirred reads as m_mac_header_xmit): not the IP-in-IP and GRE
// devices that carry IP directly.
func (d *Device) hasL2() bool {
	switch d.kind {
	case KindGRE, KindIPIP, KindSIT, KindIP6Tnl, KindIP6GRE:
		return false
	}
	return true
}
