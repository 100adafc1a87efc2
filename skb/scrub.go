package skb

// Scrub models skb_scrub_packet(skb, xnet) (net/core/skbuff.c): always
// pkt_type = PACKET_HOST, skb_iif = 0, ignore_df = 0, dst dropped, every
// extension reset (the Scrub hooks run around this), conntrack put,
// nf_trace = 0, offload_fwd_mark = offload_l3_fwd_mark = 0 and (profile
// ScrubIPVSAlways) ipvs_property = 0; only when xnet: mark = 0 and
// skb_clear_tstamp (an EDT delivery time survives under
// ScrubKeepsDeliveryTime), plus skb_orphan before v4.19. Untouched: XDP
// metadata, priority, hash, cb, tc_index, queue_mapping, vlan, secmark, sk
// (v4.19+), hwtstamps, redirect and encapsulation bits. May modify skb; does
// NOT take ownership.
func (b *Buff) Scrub(xnet bool) {
	b.check("skb_scrub_packet")
	p := &b.a.prof
	h := &b.hdr
	h.PktType = PacketHost
	h.SkbIIF = 0
	h.IgnoreDF = false
	b.dstDrop()
	if l := &b.a.hooks; len(l.scrubBefore)+len(l.scrubAfter) != 0 {
		b.a.runScrub(b, xnet, false)
		b.extReset("skb_scrub_packet")
		b.a.runScrub(b, xnet, true)
	} else {
		b.extReset("skb_scrub_packet")
	}
	b.nfResetCt()
	h.NfTrace = false
	h.OffloadFwdMark = false
	h.OffloadL3FwdMark = false
	if p.ScrubIPVSAlways {
		h.IPVSProperty = false
	}
	if !xnet {
		return
	}
	if !p.ScrubIPVSAlways {
		h.IPVSProperty = false
	}
	if !p.ScrubKeepsSock {
		b.orphan()
	}
	h.Mark = 0
	if p.ScrubKeepsDeliveryTime {
		b.clearTstamp()
	} else {
		h.Tstamp = 0
	}
}

// ClearTstamp models skb_clear_tstamp(): forget a receive timestamp but keep
// an EDT delivery time (tstamp_type != SKB_CLOCK_REALTIME).
func (b *Buff) ClearTstamp() { b.check("skb_clear_tstamp"); b.clearTstamp() }

func (b *Buff) clearTstamp() {
	if b.hdr.TstampType != ClockRealtime {
		return
	}
	b.hdr.Tstamp = 0
}

// SetDeliveryTime models skb_set_delivery_time(skb, kt, type): tstamp = kt
// and tstamp_type = type when kt is non-zero, else REALTIME. A TAI type on a
// profile before v6.11 is stored as MONOTONIC (the mono_delivery_time bit).
func (b *Buff) SetDeliveryTime(kt int64, typ TstampType) {
	b.check("skb_set_delivery_time")
	b.hdr.Tstamp = kt
	if kt == 0 {
		typ = ClockRealtime
	} else if typ == ClockTAI && !b.a.prof.TstampTypeTAI {
		typ = ClockMonotonic
	}
	b.hdr.TstampType = typ
}
