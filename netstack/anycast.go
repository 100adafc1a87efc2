package netstack

import (
	"net/netip"

	"github.com/skbsim/skbsim/skb"
)

// IPv6 anycast addresses. A namespace that forwards IPv6 joins, for each
// IPv6 address of its devices whose prefix is shorter than /127, the
// prefix's subnet-router anycast address (RFC 4291: the prefix with a
// zero interface identifier) on the address's device
// (__ipv6_ifa_notify -> addrconf_join_anycast -> __ipv6_dev_ac_inc). That
// puts an RTN_ANYCAST route in the local table (addrconf_f6i_alloc with
// anycast: ip6_input, like a local address) and joins the address's
// solicited-node group. So a packet to it is the host's, from any device:
//   - its ICMPv6 errors come from it (icmp6_send:
//     ipv6_chk_acast_addr_src);
//   - an echo reply does not (icmpv6_echo_reply: the route's source),
//     unless anycast_src_echo_reply; echo_ignore_anycast drops the
//     request (NamespaceConfig.ICMPv6EchoIgnoreAnycast,
//     AnycastSrcEchoReply);
//   - TCP answers neither a SYN nor with a reset (tcp_v6_conn_request and
//     tcp_v6_send_reset: ipv6_unicast_destination, RTF_LOCAL only);
//   - bpf_fib_lookup does not forward it (not RTN_UNICAST);
//   - a neighbour solicitation for it on its device is answered as for a
//     proxied address (ndisc_recv_ns: ipv6_chk_acast_addr; the router
//     flag the device's forwarding, override clear, proxy_delay for a
//     multicast solicitation).
//
// The model's devices have no link-local addresses, so there is no fe80::
// anycast address; addresses of devices that are down join too (their
// notifier runs once addrconf completes a nodad address).

// anycast6 is a joined anycast address (struct ifacaddr6).
type anycast6 struct {
	dev  *Device
	addr netip.Addr
}

// buildAnycast6 joins every forwarding namespace's subnet-router anycast
// addresses (addrconf_join_anycast).
func (s *Stack) buildAnycast6() {
	for _, n := range s.nss {
		if !n.fwd6 || n.noIPv6 {
			continue
		}
		for _, d := range n.devs {
			if d == nil || d.unrouted {
				continue
			}
			for _, p := range d.addrs {
				if !p.Addr().Is6() || p.Bits() >= 127 { // RFC 6164
					continue
				}
				a := p.Masked().Addr()
				if a.IsUnspecified() || n.hasAnycast6(d, a) {
					continue
				}
				n.anycast6 = append(n.anycast6, anycast6{dev: d, addr: a})
			}
		}
	}
}

// hasAnycast6 models ipv6_chk_acast_addr(net, d, a): a is an anycast
// address joined on d, or on any device when d is nil.
func (ns *Netns) hasAnycast6(d *Device, a netip.Addr) bool {
	for _, x := range ns.anycast6 {
		if x.addr == a && (d == nil || x.dev == d) {
			return true
		}
	}
	return false
}

// tcpAnycastDst reports whether segment b's IPv6 destination is one of
// the namespace's anycast addresses.
func (ns *Netns) tcpAnycastDst(b *skb.Buff) bool {
	if ns.anycast6 == nil {
		return false
	}
	nh := netHeader(b)
	return len(nh) >= ip6Hlen && nh[0]>>4 == 6 && ns.hasAnycast6(nil, netip.AddrFrom16([16]byte(nh[24:40])))
}
