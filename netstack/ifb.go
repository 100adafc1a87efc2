package netstack

import "github.com/skbsim/skbsim/skb"

// ifbItem is an skb on an ifb device's queue.
type ifbItem struct {
	b   *skb.Buff
	ifb *Device
	pkt uint64
}

// ifbXmit models ifb_xmit: an skb that act_mirred did not redirect here
// (skb->redirected clear, or no skb_iif) is freed (dev_kfree_skb, which is
// consume_skb); any other is queued for the device's tasklet. The queue's
// tx_queue_len only stops the device's queue, so nothing is dropped
// there. Takes ownership of skb.
func (s *Stack) ifbXmit(b *skb.Buff, d *Device) {
	s.traceOp(LayerDev, OpIFBXmit, b)
	if h := b.H(); !h.Redirected || h.SkbIIF == 0 {
		s.consumeSkb(b)
		return
	}
	s.ifbQ = append(s.ifbQ, ifbItem{b: b, ifb: d, pkt: s.cur})
}

// ifbTasklet models ifb_ri_tasklet, which the model runs once the backlog
// is empty: each queued skb loses skb->redirected and gets
// tc_skip_classify (its next tc hook with actions, or receive path, skips
// them: no loop), goes back to the device skb_iif names in the ifb
// device's namespace (none: dev_kfree_skb) with skb_iif now the ifb
// device's, and is sent out of it again (dev_queue_xmit: its tcx programs
// run, a classic filter's actions do not) when it came from egress, or
// received on it again (skb_pull_rcsum of mac_len, netif_receive_skb:
// taps and tc ingress skipped) when it came from ingress. Nothing is
// scrubbed.
func (s *Stack) ifbTasklet() {
	saved := s.cur
	q := s.ifbQ
	s.ifbQ = nil
	for i, it := range q {
		q[i] = ifbItem{}
		s.cur = it.pkt
		b := it.b
		h := b.H()
		h.Redirected = false
		h.TCSkipClassify = true
		d := it.ifb.ns.devByIndex(h.SkbIIF)
		if d == nil {
			s.consumeSkb(b)
			continue
		}
		setDev(b, d)
		h.SkbIIF = it.ifb.ifindex
		s.traceOp(LayerDev, OpIFBXmit, b)
		if !h.FromIngress {
			s.devQueueXmit(b, d)
			continue
		}
		b.Pull(b.MacLen())
		s.netifReceive(b)
	}
	if s.ifbQ == nil {
		s.ifbQ = q[:0] // keep the array
	}
	s.cur = saved
}
