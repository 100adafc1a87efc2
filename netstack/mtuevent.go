package netstack

import (
	"fmt"
	"net/netip"

	"github.com/skbsim/skbsim/skb"
)

// MTU events: `ip link set DEV mtu N` while the stack runs (dev_set_mtu,
// then the NETDEV_CHANGEMTU notifiers).
//
//   - The device's MTU is what every later packet meets: forwarding's and
//     the host's own fragmentation or fragmentation-needed answer, GSO,
//     an entry's frames above the MTU, bpf_fib_lookup's check.
//   - dev_validate_mtu refuses an MTU outside 68-65535 (ETH_MIN_MTU,
//     ETH_MAX_MTU) or, for a veth whose peer runs native XDP, above the
//     max_mtu veth_xdp_set gave it (EINVAL).
//   - IPv6 (addrconf_notify): below IPV6_MIN_MTU (1280) addrconf_ifdown
//     (dev, unregister) tears the device's IPv6 down: its IPv6 addresses
//     and routes and its neighbour discovery entries go (rt6_disable_ip),
//     and without an inet6_dev ip6_rcv_core drops what arrives
//     (NOT_SPECIFIED) and ip6_output what would leave (IPV6DISABLED).
//     Back at 1280 or more, ipv6_add_dev makes a new one, without the old
//     addresses. Otherwise rt6_mtu_change sets the mtu metric of an IPv6
//     route through the device that is not locked to the new MTU when it
//     is not below it, or, when the MTU grows, when it equalled the old
//     one (rt6_mtu_change_route).
//   - IPv4 keeps its routes and their metrics (fib_sync_mtu updates the
//     PMTU exceptions, which the model does not have).
//
// A device configured below 1280 has no IPv6 from the start: New refuses
// IPv6 addresses (inet6_addr_add's EINVAL) and routes (ENODEV) on it, and
// drops what IPv6 it receives.
//
// Not modelled: a bridge's MTU following its ports' (br_mtu_auto_adjust).

// SetMTU models `ip link set DEV mtu N` of device dev in namespace netns.
func (s *Stack) SetMTU(netns, dev string, mtu int) error {
	d, err := s.eventDev(netns, dev)
	if err != nil {
		return err
	}
	if mtu < 68 || mtu > 65535 {
		return fmt.Errorf("netstack: %s: mtu %d (want 68 to 65535: dev_validate_mtu): %w", d.name, mtu, ErrConfig)
	}
	if p := d.peer; d.kind == KindVeth && p != nil && len(p.xdp) != 0 && !p.xdpGeneric {
		maxMTU := skb.PageSize - skb.XDPPacketHeadroom - skb.SizeofSharedInfo - ethHlen
		if p.xdpFrags {
			maxMTU += skb.PageSize * skb.MaxSkbFrags
		}
		if mtu > maxMTU {
			return fmt.Errorf("netstack: %s: mtu %d above the %d native XDP on its peer %s allows (veth_xdp_set's max_mtu): %w", d.name, mtu, maxMTU, p.name, ErrConfig)
		}
	}
	old := d.mtu
	if mtu == old {
		return nil
	}
	s.Flush()
	d.mtu = mtu
	if d.kind == KindBridge {
		d.mtuByUser = true // br_change_mtu
	}
	c := s.cfg
	var routes []RouteConfig
	for _, rc := range c.Routes {
		v6 := rc.NHID == 0 && routeDst(&rc).Addr().Is6()
		if !v6 || nsName(rc.Netns) != d.ns.name {
			routes = append(routes, rc)
			continue
		}
		if mtu < ipv6MinMTU {
			// rt6_disable_ip: the routes through d go (each path of a
			// multipath route is a sibling route of its own).
			var ok bool
			if rc, ok = withoutDev(rc, d.name); !ok {
				continue
			}
		} else if rc.Dev == d.name && rc.MTU != 0 && !rc.MTULock && (rc.MTU >= mtu || mtu > old && rc.MTU == old) {
			rc.MTU = mtu // rt6_mtu_change_route
		}
		routes = append(routes, rc)
	}
	c.Routes = routes
	switch {
	case mtu < ipv6MinMTU && !d.noIdev6:
		d.noIdev6 = true
		var addrs []netip.Prefix
		for _, p := range d.addrs {
			if p.Addr().Is4() {
				addrs = append(addrs, p)
			}
		}
		d.addrs = addrs
		s.flushNeigh(d, func(nc *NeighConfig) bool { return nc.Addr.Is6() })
	case mtu >= ipv6MinMTU:
		d.noIdev6 = false // ipv6_add_dev
	}
	if err := s.rebuildFIB(); err != nil {
		return err
	}
	if br := d.master; br != nil && !br.mtuByUser && br.brMTUMin() != br.mtu {
		// br_device_event's NETDEV_CHANGEMTU: br_mtu_auto_adjust sets the
		// bridge's MTU to its ports' smallest and clears the flag
		// br_change_mtu set.
		err := s.SetMTU(br.ns.name, br.name, br.brMTUMin())
		br.mtuByUser = false
		return err
	}
	return nil
}
