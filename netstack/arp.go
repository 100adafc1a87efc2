package netstack

import (
	"encoding/binary"
	"net/netip"

	"github.com/skbsim/skbsim/skb"
)

// ARP (include/uapi/linux/if_arp.h).
const (
	arpHlen       = 28 // arp_hdr_len of an Ethernet device: the header, two MACs, two IPv4 addresses
	arphrdEther   = 1
	arphrdIEEE802 = 6
	arpopRequest  = 1
	arpopReply    = 2
	ethAddrLen    = 6
	ipv4AddrLen   = 4
)

// arpRcv models arp_rcv() and arp_process() for an ARP frame on its
// device (b's data at the ARP header): a frame for another host or looped
// back is consumed untouched; one shorter than arp_hdr_len is
// PKT_TOO_SMALL; a hardware or protocol address length other than 6 and 4,
// a hardware type other than Ethernet or IEEE 802, a protocol other than
// IPv4, an operation other than request and reply, or a target that is
// multicast or loopback is freed (NOT_SPECIFIED); everything else is
// consumed. A request for a local address (a duplicate address probe
// from 0.0.0.0 included) from a valid unicast source gets a reply
// (arpSendReply) when Options.Replies is on, unless arp_ignore
// (arpIgnore) or, but for a probe, arp_filter (arpFilter) says not; a
// request for another address gets one when d proxies it (arpProxies).
// Not modelled: the neighbour table updates (the model's table is its
// configuration), private VLAN proxy ARP (proxy_arp_pvlan), medium_id
// and arp_accept, at their defaults.
func (s *Stack) arpRcv(b *skb.Buff) {
	s.traceOp(LayerIP, OpARP, b)
	d := s.devOf(b)
	if pt := b.H().PktType; d.noarp || pt == skb.PacketOtherhost || pt == skb.PacketLoopback {
		s.consume(b, DeliverOther, -1)
		return
	}
	if b.Len() < arpHlen || !b.MayPull(arpHlen) {
		s.drop(b, skb.DropPktTooSmall, OpARP)
		return
	}
	a := b.Data()
	if a[4] != ethAddrLen || a[5] != ipv4AddrLen {
		s.drop(b, skb.DropNotSpecified, OpARP)
		return
	}
	hrd, pro, op := binary.BigEndian.Uint16(a[0:2]), binary.BigEndian.Uint16(a[2:4]), binary.BigEndian.Uint16(a[6:8])
	sip, tip := [4]byte(a[14:18]), [4]byte(a[24:28])
	if (hrd != arphrdEther && hrd != arphrdIEEE802) || pro != ethPIP || (op != arpopRequest && op != arpopReply) ||
		tip[0]&0xf0 == 0xe0 || tip[0] == 127 {
		s.drop(b, skb.DropNotSpecified, OpARP)
		return
	}
	ns := d.ns
	if op == arpopRequest && s.cfg.Options.Replies {
		switch {
		case ns.isLocal4(tip) && !ns.isBcast4(tip):
			if (sip == [4]byte{} || arpValidSource(ns, sip)) && !ns.arpIgnores(d, sip, tip) &&
				(sip == [4]byte{} || !ns.arpFilter || s.arpFilterPasses(d, sip, tip)) {
				s.arpSendReply(d, [6]byte(a[8:14]), sip, tip)
			}
		case sip != [4]byte{} && s.arpProxies(b, d, sip, tip):
			s.arpSendReply(d, [6]byte(a[8:14]), sip, tip)
		}
	}
	s.consume(b, DeliverOther, -1)
}

// arpProxies models arp_process's proxy branch for a request received on
// d for tip, which is not local, from sip: the namespace forwards
// (IN_DEV_FORWARD), ip_route_input_noref finds tip a unicast route
// (ip_route_input_slow's martian checks, the rules with the request's
// mark, a multipath route's path by the flow's hash) through another
// device than d whose source check passes (fib_validate_source:
// rp_filter, a local sender), and d proxies (arp_fwd_proxy's
// IN_DEV_PROXY_ARP: the namespace's net.ipv4.conf.all.proxy_arp or d's
// own) or has a proxy entry for tip (pneigh_lookup). The reply names d's
// address for tip. A request the kernel takes as broadcast (not PACKET_HOST) with a non-zero
// proxy_delay (80 jiffies by default) is queued (pneigh_enqueue) and
// answered after a random part of that delay; the model answers at once.
func (s *Stack) arpProxies(b *skb.Buff, d *Device, sip, tip [4]byte) bool {
	ns := d.ns
	proxies := ns.proxyARP || d.proxyARP
	if !ns.forwarding || !proxies && ns.pneigh == nil || ipRouteMartian(ns, sip, tip) != 0 || tip == lbcast4 || ns.isBcast4(tip) {
		return false
	}
	dst := netip.AddrFrom4(tip)
	if !proxies {
		if _, ok := ns.pneighLookup(d, dst); !ok {
			return false
		}
	}
	fl := flow{src: netip.AddrFrom4(sip), dst: dst, iif: d.ifindex, mark: b.H().Mark}
	var r *route
	if ns.hasRules(dst) {
		r = ns.ruleLookup(&fl)
	} else {
		r = noThrow(ns.mainRoute(dst))
	}
	if r != nil && r.paths != nil {
		r = s.multipath(ns, r, nil, &fl, false)
	}
	if r == nil || r.reject != 0 || r.dev == d {
		return false
	}
	reason, _ := s.fibValidateSource(ns, d, b, sip, tip, r.dev)
	return reason == 0
}

// arpIgnores models arp_ignore(in_dev, sip, tip) with the namespace's
// arp_ignore: inet_confirm_addr finds tip among the addresses of d (modes
// 1 and 2) or of any device (3: a local route's address, AnyIP, is
// none), with a scope up to RT_SCOPE_HOST (1, 2) or RT_SCOPE_LINK (3;
// the host-scope 127.0.0.0/8 targets arp_process refused already), and
// in mode 2 an address of d whose subnet holds both tip and sip
// (confirm_addr_indev's inet_ifa_match; any for sip 0.0.0.0).
func (ns *Netns) arpIgnores(d *Device, sip, tip [4]byte) bool {
	t, src := netip.AddrFrom4(tip), netip.AddrFrom4(sip)
	switch ns.arpIgnore {
	case 1:
		return !d.hasAddr(t)
	case 2:
		if !d.hasAddr(t) {
			return true
		}
		if sip == [4]byte{} {
			return false
		}
		for _, p := range d.addrs {
			if p.Addr().Is4() && p.Masked().Contains(t) && p.Masked().Contains(src) {
				return false
			}
		}
		return true
	case 3:
		for _, x := range ns.devs {
			if x != nil && x.hasAddr(t) {
				return false
			}
		}
		return true
	case 8:
		return true
	}
	return false
}

// arpFilterPasses models arp_filter(sip, tip, dev): the output route to
// sip from tip (ip_route_output, the rules with it) must leave by d; no
// route refuses.
func (s *Stack) arpFilterPasses(d *Device, sip, tip [4]byte) bool {
	fl := flow{src: netip.AddrFrom4(tip), dst: netip.AddrFrom4(sip)}
	out, _ := s.routeOutputSkb(d.ns, &fl, nil)
	return out == d
}

// arpValidSource reports whether ip_route_input_noref accepts sip as the
// source of a packet to a local address: not multicast, broadcast, in
// 0.0.0.0/8 or loopback (martian sources), and not one of the
// namespace's own addresses (fib_validate_source).
func arpValidSource(ns *Netns, sip [4]byte) bool {
	switch {
	case sip[0]&0xf0 == 0xe0, sip == [4]byte{255, 255, 255, 255}, sip[0] == 0, sip[0] == 127, ns.isBcast4(sip):
		return false
	}
	a := netip.AddrFrom4(sip)
	for _, dev := range ns.devs {
		if dev != nil && dev.hasAddr(a) {
			return false
		}
	}
	return true
}

// arpSendReply models arp_send_dst(ARPOP_REPLY, ...) -> arp_create and
// arp_xmit: an skb of arp_hdr_len plus LL_RESERVED_SPACE (no owner, mark
// 0), the Ethernet header to the requester's address, the reply from the
// device's address for tip to sha and sip, then dev_queue_xmit on d.
func (s *Stack) arpSendReply(d *Device, sha [6]byte, sip, tip [4]byte) {
	hh := llReservedSpace(d)
	r, err := s.a.AllocSkb(arpHlen + hh + d.tailroom)
	if err != nil {
		s.dropNoSkb(d, skb.DropNomem, OpARP)
		return
	}
	r.Reserve(hh)
	r.ResetNetworkHeader()
	a := r.Put(arpHlen)
	binary.BigEndian.PutUint16(a[0:2], arphrdEther)
	binary.BigEndian.PutUint16(a[2:4], ethPIP)
	a[4], a[5] = ethAddrLen, ipv4AddrLen
	binary.BigEndian.PutUint16(a[6:8], arpopReply)
	copy(a[8:14], d.mac[:])
	copy(a[14:18], tip[:])
	copy(a[18:24], sha[:])
	copy(a[24:28], sip[:])
	writeEth(r.Push(ethHlen), sha, d.mac, ethPARP) // dev_hard_header
	h := r.H()
	h.Protocol = ethPARP
	setDev(r, d)
	s.traceOp(LayerIP, OpARPSend, r)
	s.devQueueXmit(r, d) // arp_xmit -> NF_ARP_OUT -> arp_xmit_finish
}
