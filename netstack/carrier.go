package netstack

import "slices"

// Carrier and linkdown routes.
//
// A device's carrier (netif_carrier_ok) is fixed once the stack is built,
// as its administrative state is: the model takes every device as created
// in its final state, before its addresses, nexthop objects and routes.
// A device that is up without carrier then
//   - transmits nothing: dev_activate leaves its queues on noop_qdisc
//     until carrier comes, whose enqueue drops (QDISC_DROP) after tc
//     egress and before the taps (devQueueXmit);
//   - forwards nothing as a bridge port: the port is BR_STATE_DISABLED
//     (brForwarding);
//   - has linkdown routes: fib_check_nh (fib6_nh_init) sets RTNH_F_LINKDOWN
//     on every next hop through it except a local route's. Lookups use
//     them unless ignore_routes_with_linkdown is set (route.ignored).
//
// SetLink changes a device's state or carrier while the stack runs, and
// applies what the kernel's events do to what existed before
// (linkevent.go).

// CarrierConfigError explains why dc's carrier settings are refused, or
// returns "".
func CarrierConfigError(dc *DeviceConfig) string {
	if dc.NoCarrier && dc.Kind != KindNIC && dc.Kind != KindDummy {
		// dev_change_carrier: -EOPNOTSUPP without ndo_change_carrier.
		return "carrier off on a " + dc.Kind + " device (a dummy's or a NIC's; the other kinds' carrier follows their state: EOPNOTSUPP)"
	}
	if dc.PeerDown && dc.Kind != KindVeth && dc.Kind != KindNetkit {
		return "peer_down on a " + dc.Kind + " device (veth and netkit pairs only)"
	}
	return ""
}

// setCarriers models netif_carrier_ok of every device as the drivers set
// it:
//   - nic, dummy: on unless DeviceConfig.NoCarrier (dummy_change_carrier;
//     a NIC's link);
//   - veth, netkit: on while both ends are up (veth_open, veth_close;
//     netkit_open, netkit_close; both pairs are created without it);
//   - bridge: on while one of its ports forwards (br_port_state_selection
//     counts liveports);
//   - macvlan: its lower device's (netif_stacked_transfer_operstate at
//     creation and on the lower device's events);
//   - the rest (lo, the tunnels, vxlan, geneve, ifb) never turn it off.
func (s *Stack) setCarriers() {
	for _, d := range s.devs {
		switch d.kind {
		case KindNIC, KindDummy:
			d.carrier = !d.noCarrier
		case KindVeth, KindNetkit:
			d.carrier = d.up && d.peer != nil && d.peer.up
		case KindBridge, KindMacvlan:
			d.carrier = false // below
		default:
			d.carrier = true
		}
	}
	// A bridge's port may be a macvlan, and a macvlan's lower device a
	// bridge or another macvlan's (br_add_if refuses a bridge as a port):
	// from all off, up to the least fixed point.
	for changed := true; changed; {
		changed = false
		for _, d := range s.devs {
			var c bool
			switch d.kind {
			case KindBridge:
				c = slices.ContainsFunc(d.ports, (*Device).brForwarding)
			case KindMacvlan:
				c = d.lower.carrier
			default:
				continue
			}
			if c != d.carrier {
				d.carrier, changed = c, true
			}
		}
	}
}

// brForwarding reports whether bridge port p is in BR_STATE_FORWARDING.
// Without STP a port forwards as soon as it is enabled (br_make_forwarding
// with BR_NO_STP), and it is enabled while it is up with its carrier
// (netif_oper_up) and the bridge is up (br_add_if, br_port_carrier_check,
// br_stp_enable_bridge); otherwise it is BR_STATE_DISABLED.
func (p *Device) brForwarding() bool { return p.up && p.carrier && p.master.up }

// ignoreLinkdown is ip_ignore_linkdown (ip6_ignore_linkdown) of a device
// in ns: the namespace's ignore_routes_with_linkdown of the family.
func (ns *Netns) ignoreLinkdown(v6 bool) bool {
	if v6 {
		return ns.ignoreLD6
	}
	return ns.ignoreLD4
}

// setIgnored marks r, a unicast route of ns (with its paths, if any, but
// before their bounds: rebalance reads the marks), and its paths with
// what fib_lookup_good_nhc (find_match) answers: a next hop
// through a device without carrier (RTNH_F_LINKDOWN) is passed over when
// the family's ignore_routes_with_linkdown is set. A route none of whose
// paths is good is passed over as a whole: fib_table_lookup goes on to
// the next alias and shorter prefixes (fib6_backtrack).
func (ns *Netns) setIgnored(r *route) {
	ign := ns.ignoreLinkdown(r.dst.Addr().Is6())
	if r.paths == nil {
		r.ignored = ign && !r.dev.carrier
		return
	}
	r.ignored = true
	for i := range r.paths {
		p := &r.paths[i]
		p.ignored = ign && !p.dev.carrier
		if p.live() && !p.ignored {
			r.ignored = false
		}
	}
}
