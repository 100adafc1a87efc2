package netstack

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/skbsim/skbsim/internal/errno"
)

// Link events: a device's state changing while the stack runs.
//
// New takes every device as created in its final state (carrier.go).
// SetLink then changes one, as `ip link set DEV up|down` (dev_open,
// dev_close) and `ip link set DEV carrier on|off` (dev_change_carrier) do,
// and applies what the notifier chain does to the state that existed
// before.
//
// NETDEV_DOWN of the device:
//   - fib_netdev_event, fib_disable_ip: fib_sync_down_dev marks every
//     IPv4 next hop through it dead (RTNH_F_DEAD) and fib_flush deletes
//     the routes left without a live one: its addresses' broadcast and
//     prefix routes, the routes through it, a multipath route once all
//     its paths are dead (the dead ones come back with fib_sync_up at
//     NETDEV_UP). Host-scope routes stay (their next hops' scope is
//     RT_SCOPE_NOWHERE, which it passes over): the addresses' RTN_LOCAL
//     routes, so they stay local, and local routes through it.
//   - addrconf_ifdown: the device's IPv6 addresses are deleted, unless
//     keep_addr_on_down is positive (the device's, or net.ipv6.conf.all's
//     when the device's is 0): then the permanent ones other than
//     link-local stay, without their local routes (ifa->rt is deleted);
//     rt6_sync_down_dev deletes the IPv6 routes through it (fib6_ifdown).
//   - nh_netdev_event, nexthop_flush_dev: the nexthop objects through it
//     are removed, a group losing its last member goes with it, and so do
//     the routes that use them.
//   - arp_netdev_event and ndisc_netdev_event, neigh_ifdown: every
//     neighbour entry of the device is flushed, permanent ones and proxy
//     entries too (pneigh_ifdown_and_unlock).
//   - veth_close, netkit_close: the peer loses carrier.
//   - br_device_event: a port is disabled (br_stp_disable_port) and
//     br_fdb_delete_by_port drops the entries learned on it (static and
//     local ones stay); a bridge that goes down disables every port
//     (br_stp_disable_bridge).
//
// NETDEV_UP: fib_add_ifaddr for each IPv4 address (local, broadcast and
// prefix routes), addrconf_permanent_addr for the IPv6 addresses kept
// (fixup_permanent_addr: the local and prefix routes; the model runs no
// DAD), fib_sync_up for multipath paths; veth_open gives both ends carrier
// when the peer is up, and a bridge port is enabled (BR_STATE_FORWARDING
// without STP). Routes, nexthop objects and neighbour entries deleted on
// the way down do not come back.
//
// Carrier loss (linkwatch's NETDEV_CHANGE), of the device or of one whose
// carrier follows it (a veth's or netkit's peer, a bridge whose last
// forwarding port went, a macvlan on it):
//   - fib_sync_down_dev and rt6_sync_down_dev with NETDEV_CHANGE mark the
//     next hops through it RTNH_F_LINKDOWN, which lookups pass over under
//     ignore_routes_with_linkdown; fib_sync_up(RTNH_F_LINKDOWN) clears
//     them when carrier comes back;
//   - nexthop_flush_dev removes its nexthop objects, as on NETDEV_DOWN;
//   - neigh_carrier_down flushes its neighbour entries other than
//     permanent ones; proxy entries, which `ip neigh add proxy` makes
//     permanent, stay;
//   - a bridge port is disabled (br_port_carrier_check), as above.
//
// The kernel changes a device's state between NAPI polls: SetLink first
// completes every GRO list (Flush), as dev_close's napi_disable waits for
// the poll that holds them. Packets already queued elsewhere (sockets,
// taps, backlog, TCP retransmit queues) stay.
//
// Not modelled: events on loopback and tunnel devices (their sockets open
// and close with the device: vxlan_open, vxlan_stop), a NIC whose driver
// turns its carrier off in ndo_stop (the model's NIC keeps its link's
// carrier while down, as dummy does), IPv6 link-local addresses made at
// NETDEV_UP (the model's devices have addrgenmode none), DAD of the
// addresses that come back.

// EventOp is the change an Event makes.
type EventOp string

// EventOp values.
const (
	LinkUp     EventOp = "up"          // `ip link set DEV up`: dev_open
	LinkDown   EventOp = "down"        // `ip link set DEV down`: dev_close
	CarrierOn  EventOp = "carrier_on"  // `ip link set DEV carrier on`: dev_change_carrier
	CarrierOff EventOp = "carrier_off" // `ip link set DEV carrier off`
	AddrAdd    EventOp = "addr_add"    // `ip addr add ADDR dev DEV` (addrevent.go)
	AddrDel    EventOp = "addr_del"    // `ip addr del ADDR dev DEV`
	RouteAdd   EventOp = "route_add"   // `ip route add ROUTE`
	RouteDel   EventOp = "route_del"   // `ip route del ROUTE`
	MTU        EventOp = "mtu"         // `ip link set DEV mtu N` (mtuevent.go)
)

// Event is a change of the stack's configuration while it runs: a
// device's state (SetLink), an address (AddAddr, DelAddr) or a route
// (AddRoute, DelRoute). Stack.Apply makes it.
type Event struct {
	// At is the index of the first packet that sees the change: a
	// replay applies it before that packet.
	At uint64
	// Netns and Dev name the device of a link or address event.
	Netns string
	Dev   string
	Op    EventOp
	// Addr is the address of AddrAdd and AddrDel, with its prefix
	// length.
	Addr netip.Prefix
	// MTU is the MTU of an MTU event.
	MTU int
	// Route is the route of RouteAdd and RouteDel, in its own
	// namespace. RouteDel deletes the first route of the table with
	// Route's destination whose type, device, gateway and nexthop object
	// match those Route gives.
	Route RouteConfig
}

// String formats e as the command that makes it.
func (e Event) String() string {
	switch e.Op {
	case AddrAdd, AddrDel:
		return fmt.Sprintf("ip -n %s addr %s %s dev %s", nsName(e.Netns), map[EventOp]string{AddrAdd: "add", AddrDel: "del"}[e.Op], e.Addr, e.Dev)
	case RouteAdd, RouteDel:
		return fmt.Sprintf("ip -n %s route %s %s", nsName(e.Route.Netns), map[EventOp]string{RouteAdd: "add", RouteDel: "del"}[e.Op], routeString(&e.Route))
	case MTU:
		return fmt.Sprintf("ip -n %s link set %s mtu %d", nsName(e.Netns), e.Dev, e.MTU)
	}
	op := string(e.Op)
	switch e.Op {
	case CarrierOn:
		op = "carrier on"
	case CarrierOff:
		op = "carrier off"
	}
	return fmt.Sprintf("ip -n %s link set %s %s", nsName(e.Netns), e.Dev, op)
}

// Apply makes event e (its At aside): SetLink, AddAddr, DelAddr,
// AddRoute or DelRoute.
func (s *Stack) Apply(e Event) error {
	switch e.Op {
	case AddrAdd:
		return s.AddAddr(e.Netns, e.Dev, e.Addr)
	case AddrDel:
		return s.DelAddr(e.Netns, e.Dev, e.Addr)
	case RouteAdd:
		return s.AddRoute(e.Route)
	case RouteDel:
		return s.DelRoute(e.Route)
	case MTU:
		return s.SetMTU(e.Netns, e.Dev, e.MTU)
	}
	return s.SetLink(e.Netns, e.Dev, e.Op)
}

// ErrLink is matched by the errors of SetLink that refuse a change; it
// is EOPNOTSUPP.
var ErrLink = errno.New("netstack: link change not supported", errno.EOPNOTSUPP)

// ErrNoLink is matched by Inject's error for a frame that arrives on, or
// is sent from, a device that is down or without carrier: the driver
// takes nothing in (packet_snd's -ENETDOWN for a packet socket).
var ErrNoLink = errno.New("netstack: device down or without carrier", errno.ENETDOWN)

// LinkEventError explains why op is refused on a device of kind, or
// returns "".
func LinkEventError(kind string, op EventOp) string {
	switch op {
	case LinkUp, LinkDown:
	case CarrierOn, CarrierOff:
		if kind != KindNIC && kind != KindDummy {
			// dev_change_carrier: -EOPNOTSUPP without ndo_change_carrier.
			return "carrier on or off on a " + kind + " device (a dummy's or a NIC's; the other kinds' carrier follows their state: EOPNOTSUPP)"
		}
	default:
		return fmt.Sprintf("link change %q (want up, down, carrier_on or carrier_off)", string(op))
	}
	switch kind {
	case KindNIC, KindDummy, KindVeth, KindNetkit, KindBridge, KindMacvlan:
		return ""
	case KindLoopback:
		return "link changes of lo are not modelled"
	}
	return "link changes of " + kind + " devices are not modelled (a tunnel's socket opens and closes with the device)"
}

// SetLink applies op to device dev of namespace netns (HostNetns when
// ""). The stack must be between packets, as it is when Inject returns.
// A change to the state the device is in does nothing, as in the kernel.
func (s *Stack) SetLink(netns, dev string, op EventOp) error {
	d, err := s.eventDev(netns, dev)
	if err != nil {
		return err
	}
	if why := LinkEventError(d.kind, op); why != "" {
		return fmt.Errorf("netstack: %s: %s: %w", d.name, why, ErrLink)
	}
	switch op {
	case LinkUp:
		if d.up {
			return nil
		}
	case LinkDown:
		if !d.up {
			return nil
		}
	case CarrierOn, CarrierOff:
		if d.noCarrier == (op == CarrierOff) {
			return nil
		}
	}
	s.Flush()
	// What existed before the change and was refused or flushed when it
	// came about (a route through a device that was down, a nexthop
	// object through one without carrier) is gone for good.
	s.pruneRoutes()
	s.pruneNexthops()

	carrier := make([]bool, len(s.devs))
	enabled := make([]bool, len(s.devs))
	for i, x := range s.devs {
		carrier[i] = x.carrier
		enabled[i] = x.master != nil && x.brForwarding()
	}
	switch op {
	case LinkUp:
		d.up, d.unrouted = true, false
		s.addrRouteBack(d, netip.Prefix{})
		s.reviveOnDev(d) // fib_netdev_event NETDEV_UP: fib_sync_up
	case LinkDown:
		d.up, d.unrouted = false, true
		s.addrconfIfdown(d)
		s.neighFlush(d, false)
	case CarrierOn, CarrierOff:
		d.noCarrier = op == CarrierOff
	}
	s.setCarriers()
	for i, x := range s.devs {
		if carrier[i] && !x.carrier {
			s.neighFlush(x, true) // neigh_carrier_down
		}
		if enabled[i] && !x.brForwarding() {
			x.master.fdbDeleteByPort(x)
		}
	}
	s.pruneRoutes()
	s.pruneNexthops()
	s.setEntryLinks()
	return s.rebuildFIB()
}

// setEntryLinks marks the entries whose device takes no frame in: one
// that is down or, for an rx entry, without carrier receives nothing
// (Inject's ErrNoLink); packet_snd refuses a device that is down
// (-ENETDOWN).
func (s *Stack) setEntryLinks() {
	for i := range s.entries {
		e := &s.entries[i]
		e.noLink = (e.rx || e.packet) && (!e.dev.up || (e.rx && !e.dev.carrier))
	}
}

// pruneRoutes deletes from the configuration every route none of whose
// next hops is on a device that is up: fib_flush's and fib6_ifdown's
// deletions (fib_check_nh's -ENETDOWN for one added while its device was
// down), which NETDEV_UP does not undo. Local routes stay.
func (s *Stack) pruneRoutes() {
	c := s.cfg
	var keep []RouteConfig
	for _, rc := range c.Routes {
		if rc.NHID == 0 && rc.Type != RouteLocal && !s.routeLive(&rc) {
			continue
		}
		keep = append(keep, rc)
	}
	c.Routes = keep
}

// routeLive reports whether rc, a route without a nexthop object, has a
// next hop on a device that is up and not dead (a reject route has none
// and always lives).
func (s *Stack) routeLive(rc *RouteConfig) bool {
	n := s.Netns(nsName(rc.Netns))
	if len(rc.Nexthops) > 0 {
		return slices.ContainsFunc(rc.Nexthops, func(nh NexthopConfig) bool {
			d := n.dev(nh.Dev)
			return d != nil && d.up && !nh.dead
		})
	}
	if rc.Dev == "" {
		return true
	}
	d := n.dev(rc.Dev)
	return d != nil && d.up
}

// pruneNexthops models nexthop_flush_dev: it deletes from the
// configuration the nexthop objects through a device that is down or
// without carrier, drops them from their groups (remove_nh_grp_entry,
// which removes a group with its last member), and deletes the routes
// that used a removed object.
func (s *Stack) pruneNexthops() {
	c := s.cfg
	if len(c.NexthopObjects) == 0 {
		return
	}
	type key struct {
		ns string
		id uint32
	}
	gone := map[key]bool{}
	var keep []NexthopObjConfig
	for _, oc := range c.NexthopObjects {
		ns := nsName(oc.Netns)
		if oc.Dev != "" {
			if d := s.Netns(ns).dev(oc.Dev); d != nil && (!d.up || !d.carrier) {
				gone[key{ns, oc.ID}] = true
				continue
			}
		}
		if oc.Group != nil {
			var members []NexthopGroupMember
			for _, m := range oc.Group {
				if !gone[key{ns, m.ID}] {
					members = append(members, m)
				}
			}
			if len(members) == 0 {
				gone[key{ns, oc.ID}] = true
				continue
			}
			oc.Group = members
		}
		keep = append(keep, oc)
	}
	if len(gone) == 0 {
		return
	}
	c.NexthopObjects = keep
	var routes []RouteConfig
	for _, rc := range c.Routes {
		if rc.NHID != 0 && gone[key{nsName(rc.Netns), rc.NHID}] {
			continue
		}
		routes = append(routes, rc)
	}
	c.Routes = routes
}

// addrconfIfdown models addrconf_ifdown(dev, unregister=false) for the
// addresses: without keep_addr_on_down, every IPv6 address of d is
// deleted; with it, the link-local ones (addr_is_local).
func (s *Stack) addrconfIfdown(d *Device) {
	keep := d.keepAddr
	if keep == 0 {
		keep = d.ns.keepAddr
	}
	var addrs []netip.Prefix
	for _, p := range d.addrs {
		if p.Addr().Is6() && (keep <= 0 || p.Addr().IsLinkLocalUnicast()) {
			continue
		}
		addrs = append(addrs, p)
	}
	d.addrs = addrs
}

// neighFlush models neigh_ifdown (all false) and neigh_carrier_down
// (carrierDown true, which keeps permanent entries and proxy entries) of
// both tables for d: the configuration loses the entries flushed.
func (s *Stack) neighFlush(d *Device, carrierDown bool) {
	s.flushNeigh(d, func(nc *NeighConfig) bool {
		return !carrierDown || (!nc.Proxy && nc.State != "" && nc.State != NeighPermanent)
	})
}

// flushNeigh deletes from the configuration the neighbour entries (proxy
// ones too) of d that flush selects.
func (s *Stack) flushNeigh(d *Device, flush func(*NeighConfig) bool) {
	c := s.cfg
	var keep []NeighConfig
	for _, nc := range c.Neighbours {
		if nsName(nc.Netns) == d.ns.name && nc.Dev == d.name && flush(&nc) {
			continue
		}
		keep = append(keep, nc)
	}
	c.Neighbours = keep
}

// fdbDeleteByPort models br_fdb_delete_by_port(br, p, 0, 0): the
// entries learned on port p go; static ones stay (local ones are not in
// the model's database: fdbLocal).
func (br *Device) fdbDeleteByPort(p *Device) {
	var keep []fdbEntry
	for _, e := range br.fdb {
		if e.port != p || e.static {
			keep = append(keep, e)
		}
	}
	if len(keep) == len(br.fdb) {
		return
	}
	br.fdb, br.fdbIdx = br.fdb[:0], fdbIndex{}
	for _, e := range keep {
		br.fdbAdd(e)
	}
}

// rebuildFIB builds every namespace's tables again from the
// configuration and the devices' states, as New does.
func (s *Stack) rebuildFIB() error {
	for _, n := range s.nss {
		n.routes, n.tables, n.rules, n.local, n.neigh, n.pneigh, n.anycast6 = nil, nil, nil, nil, nil, nil, nil
		n.rules4, n.rules6, n.rulesDissect, n.rulesTunID = false, false, false, false
		n.customLocal4, n.multipath4, n.multipath6 = false, false, false
	}
	s.buildAnycast6()
	if err := s.buildFIB(); err != nil {
		return err
	}
	for _, n := range s.nss {
		n.buildLocal4()
	}
	for _, d := range s.devs {
		d.nbCached = false
	}
	return nil
}
