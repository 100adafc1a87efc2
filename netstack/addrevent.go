package netstack

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/skbsim/skbsim/internal/errno"
)

// Address and route events: `ip addr add|del` and `ip route add|del`
// while the stack runs. Each rebuilds the namespaces' tables from the
// configuration and the devices' addresses, as New does (rebuildFIB), so
// what an address brings or takes follows from the same rules:
//   - an address's RTN_LOCAL route, and on a device that is up its prefix
//     and broadcast routes (fib_add_ifaddr, addrconf_prefix_route; the
//     model runs no DAD: an IPv6 address is usable at once, as with
//     nodad), and with IPv6 forwarding its subnet-router anycast address;
//   - deleting an address takes those away (fib_del_ifaddr,
//     ipv6_del_addr); deleting an IPv4 primary address also deletes the
//     secondary addresses of its subnet on the device (__inet_del_ifa),
//     the primary being the first address of the subnet the device got,
//     unless promote_secondaries (the namespace's or the device's) makes
//     the next of them the primary;
//     deleting the device's last IPv4 address deletes the IPv4 routes
//     through it and its ARP entries, and leaves a multipath route's next
//     hops through it dead until an IPv4 address or NETDEV_UP revives
//     them (fibDisableIP4, reviveOnDev);
//   - a route is added as a configured one is, and refused where the
//     kernel refuses it: EEXIST for a destination its table holds with
//     the same metric (`ip route add` sets NLM_F_EXCL: an IPv4 connected
//     prefix has metric 0, an IPv6 one 256, a user route's default
//     1024), ENETDOWN when every next hop's device is down
//     (fib_check_nh, fib6_nh_init), ENETUNREACH for an IPv4 gateway no
//     link of its device reaches (fib_check_nh_v4_gw, gwOnLink: the
//     configuration refuses it too), EHOSTUNREACH or EINVAL for an IPv6
//     one (ip6_validate_gw), EINVAL for a src no device has
//     (fib_valid_prefsrc); deleting one is deleting the lowest metric
//     that matches what the command gives (a metric too), and one that
//     is not there is ESRCH;
//   - deleting an address's prefix route (`ip route del` of a connected
//     prefix) leaves the address; the route is back when the device
//     comes up again (fib_add_ifaddr, addrconf) or an address makes it
//     anew (IPv6: any address of the prefix; IPv4: the subnet's primary);
//   - deleting an address deletes the IPv4 routes whose src it was and
//     takes it from the IPv6 routes through its device (prefsrcGone).
//
// Not modelled: deleting an address's local route, or a prefix route a
// configured route stands for (EOPNOTSUPP).

// ErrExists is matched by an event's error for an address or route that
// is there already; it is EEXIST.
var ErrExists = errno.New("netstack: already there", errno.EEXIST)

// ErrNoAddr is matched by DelAddr's error for an address the device does
// not have; it is EADDRNOTAVAIL.
var ErrNoAddr = errno.New("netstack: no such address", errno.EADDRNOTAVAIL)

// ErrNoRoute is matched by DelRoute's error for a route the table does
// not hold; it is ESRCH.
var ErrNoRoute = errno.New("netstack: no such route", errno.ESRCH)

// ErrNoIPv6 is matched by AddRoute's error for an IPv6 route through a
// device whose IPv6 is disabled (fib6_nh_init); it is EACCES.
var ErrNoIPv6 = errno.New("netstack: IPv6 is disabled on the nexthop device", errno.EACCES)

// ErrNoDevice is matched by an event's error for a device or namespace
// that does not exist; it is ENODEV.
var ErrNoDevice = errno.New("netstack: no such device", errno.ENODEV)

// eventDev returns device dev of namespace netns ("" is HostNetns).
func (s *Stack) eventDev(netns, dev string) (*Device, error) {
	if s.closed {
		return nil, fmt.Errorf("netstack: event after close: %w", ErrConfig)
	}
	n := s.Netns(nsName(netns))
	if n == nil {
		return nil, fmt.Errorf("netstack: unknown namespace %q: %w", netns, ErrNoDevice)
	}
	d := n.dev(dev)
	if d == nil {
		return nil, fmt.Errorf("netstack: unknown device %q in %s: %w", dev, n.name, ErrNoDevice)
	}
	return d, nil
}

// rebuildOr rebuilds the tables after a change; if that fails, it undoes
// the change (undo) and rebuilds them as they were.
func (s *Stack) rebuildOr(undo func()) error {
	err := s.rebuildFIB()
	if err == nil {
		return nil
	}
	undo()
	if err2 := s.rebuildFIB(); err2 != nil {
		return fmt.Errorf("%w (and the tables as they were failed to build: %v)", err, err2)
	}
	return err
}

// setAddrs replaces d's addresses with addrs and rebuilds the tables; if
// that fails, it puts the old ones back.
func (s *Stack) setAddrs(d *Device, addrs []netip.Prefix) error {
	old := d.addrs
	d.addrs = addrs
	return s.rebuildOr(func() { d.addrs = old })
}

// AddAddr models `ip addr add P dev DEV` in namespace netns
// (inet_rtm_newaddr, inet6_rtm_newaddr).
func (s *Stack) AddAddr(netns, dev string, p netip.Prefix) error {
	d, err := s.eventDev(netns, dev)
	if err != nil {
		return err
	}
	if !p.IsValid() {
		return fmt.Errorf("netstack: address %s: %w", p, ErrConfig)
	}
	for _, q := range d.addrs {
		// __inet_insert_ifa: the same local address and mask;
		// ipv6_add_addr: the same address.
		if q.Addr() == p.Addr() && (p.Addr().Is6() || q.Bits() == p.Bits()) {
			return fmt.Errorf("netstack: %s has %s already: %w", d.name, q, ErrExists)
		}
	}
	s.Flush()
	back := s.addrRouteBack(d, p)
	old := s.cfg.Routes
	if p.Addr().Is4() {
		s.reviveOnDev(d) // fib_inetaddr_event NETDEV_UP: fib_sync_up
	}
	if err := s.setAddrs(d, append(slices.Clone(d.addrs), p)); err != nil {
		s.cfg.Routes = old
		for _, k := range back {
			s.addrRoutesGone[k] = true
		}
		return err
	}
	return nil
}

// DelAddr models `ip addr del P dev DEV` in namespace netns
// (inet_rtm_deladdr, inet6_rtm_deladdr).
func (s *Stack) DelAddr(netns, dev string, p netip.Prefix) error {
	d, err := s.eventDev(netns, dev)
	if err != nil {
		return err
	}
	i := slices.Index(d.addrs, p)
	if i < 0 {
		return fmt.Errorf("netstack: %s has no address %s: %w", d.name, p, ErrNoAddr)
	}
	// __inet_del_ifa: IN_DEV_PROMOTE_SECONDARIES keeps the secondaries,
	// the first of them promoted (the first of the subnet left).
	primary := p.Addr().Is4() && !(d.promoteSec || d.ns.promoteSec) && slices.IndexFunc(d.addrs, func(q netip.Prefix) bool {
		return q.Addr().Is4() && q.Bits() == p.Bits() && q.Masked() == p.Masked()
	}) == i
	var addrs []netip.Prefix
	for j, q := range d.addrs {
		if j == i || primary && q.Addr().Is4() && q.Bits() == p.Bits() && q.Masked() == p.Masked() {
			continue // __inet_del_ifa: the primary's secondaries go with it
		}
		addrs = append(addrs, q)
	}
	s.Flush()
	old := s.cfg.Routes
	s.prefsrcGone(d, addrs)
	if p.Addr().Is4() && !slices.ContainsFunc(addrs, func(q netip.Prefix) bool { return q.Addr().Is4() }) {
		// fib_inetaddr_event: the last IPv4 address of the device went,
		// so fib_disable_ip(dev, NETDEV_DOWN, force).
		s.fibDisableIP4(d)
		if err := s.setAddrs(d, addrs); err != nil {
			s.cfg.Routes = old
			return err
		}
		return nil
	}
	if err := s.setAddrs(d, addrs); err != nil {
		s.cfg.Routes = old
		return err
	}
	return nil
}

// prefsrcGone updates the configuration's routes for the addresses d
// loses, keeping addrs: an IPv4 route whose preferred source is one that
// is no longer local in the namespace is deleted (fib_del_ifaddr:
// inet_addr_type_dev_table is not RTN_LOCAL, so fib_sync_down_addr marks
// every fib_info of that fib_prefsrc dead and fib_flush deletes them); an
// IPv6 route through d whose preferred source no device has any more
// loses it (__ipv6_ifa_notify RTM_DELADDR: rt6_remove_prefsrc, which
// clears fib6_prefsrc). The routes' slice is a new one.
func (s *Stack) prefsrcGone(d *Device, addrs []netip.Prefix) {
	n := d.ns
	still := func(a netip.Addr) bool {
		if slices.ContainsFunc(addrs, func(q netip.Prefix) bool { return q.Addr() == a }) {
			return true
		}
		for _, o := range n.devs {
			if o != nil && o != d && o.hasAddr(a) {
				return true
			}
		}
		return a.Is4() && slices.ContainsFunc(n.local, func(p netip.Prefix) bool { return p.Contains(a) })
	}
	var routes []RouteConfig
	changed := false
	for _, rc := range s.cfg.Routes {
		if !rc.Src.IsValid() || nsName(rc.Netns) != n.name || !d.hasAddr(rc.Src) || still(rc.Src) {
			routes = append(routes, rc)
			continue
		}
		changed = true
		if rc.Src.Is4() {
			continue // fib_sync_down_addr
		}
		if rc.Dev == d.name || slices.ContainsFunc(rc.Nexthops, func(nh NexthopConfig) bool { return nh.Dev == d.name }) {
			rc.Src = netip.Addr{} // fib6_remove_prefsrc
		}
		routes = append(routes, rc)
	}
	if changed {
		s.cfg.Routes = routes
	}
}

// fibDisableIP4 models fib_disable_ip(dev, NETDEV_DOWN, true) after the
// last IPv4 address of d went: fib_sync_down_dev with force marks every
// IPv4 next hop through d dead, host-scope ones too, and fib_flush
// deletes the routes left without a live one (a multipath route keeps
// the dead path, which the device's next IPv4 address or NETDEV_UP
// revives: reviveOnDev); arp_ifdown flushes d's ARP entries, permanent
// and proxy ones too. The configuration loses them.
func (s *Stack) fibDisableIP4(d *Device) {
	c := s.cfg
	var routes []RouteConfig
	for _, rc := range c.Routes {
		if nsName(rc.Netns) != d.ns.name || rc.NHID != 0 || !routeDst(&rc).Addr().Is4() {
			routes = append(routes, rc)
			continue
		}
		if rc, ok := deadOnDev(rc, d.name); ok {
			routes = append(routes, rc)
		}
	}
	c.Routes = routes
	s.flushNeigh(d, func(nc *NeighConfig) bool { return nc.Addr.Is4() })
}

// deadOnDev is rc with its next hops through device dev dead
// (RTNH_F_DEAD), and false when none is left live: the route goes
// (fib_flush), as does a route of one path through dev.
func deadOnDev(rc RouteConfig, dev string) (RouteConfig, bool) {
	if len(rc.Nexthops) == 0 {
		return rc, rc.Dev != dev
	}
	rc.Nexthops = slices.Clone(rc.Nexthops)
	live := false
	for j := range rc.Nexthops {
		nh := &rc.Nexthops[j]
		if nh.Dev == dev {
			nh.dead = true
		}
		live = live || !nh.dead
	}
	return rc, live
}

// reviveOnDev models fib_sync_up(dev, RTNH_F_DEAD) for the
// configuration's IPv4 routes of d's namespace: the next hops through d
// that are dead come back (an address added, NETDEV_UP), and the
// routes' weights are balanced again at the rebuild.
func (s *Stack) reviveOnDev(d *Device) {
	var routes []RouteConfig
	changed := false
	for _, rc := range s.cfg.Routes {
		if nsName(rc.Netns) == d.ns.name && slices.ContainsFunc(rc.Nexthops, func(nh NexthopConfig) bool { return nh.dead && nh.Dev == d.name }) {
			rc.Nexthops = slices.Clone(rc.Nexthops)
			for j := range rc.Nexthops {
				if rc.Nexthops[j].Dev == d.name {
					rc.Nexthops[j].dead = false
				}
			}
			changed = true
		}
		routes = append(routes, rc)
	}
	if changed {
		s.cfg.Routes = routes
	}
}

// withoutDev is rc without its next hops through device dev, and false
// when none is left: a multipath route loses those paths, a route through
// dev goes.
func withoutDev(rc RouteConfig, dev string) (RouteConfig, bool) {
	if len(rc.Nexthops) == 0 {
		return rc, rc.Dev != dev
	}
	var paths []NexthopConfig
	for _, nh := range rc.Nexthops {
		if nh.Dev != dev {
			paths = append(paths, nh)
		}
	}
	rc.Nexthops = paths
	return rc, len(paths) != 0
}

// routeNetns returns the namespace of route event rc.
func (s *Stack) routeNetns(rc *RouteConfig) (*Netns, error) {
	if s.closed {
		return nil, fmt.Errorf("netstack: event after close: %w", ErrConfig)
	}
	n := s.Netns(nsName(rc.Netns))
	if n == nil {
		return nil, fmt.Errorf("netstack: unknown namespace %q: %w", rc.Netns, ErrNoDevice)
	}
	return n, nil
}

// AddRoute models `ip route add` of rc (inet_rtm_newroute,
// inet6_rtm_newroute with NLM_F_CREATE | NLM_F_EXCL).
func (s *Stack) AddRoute(rc RouteConfig) error {
	n, err := s.routeNetns(&rc)
	if err != nil {
		return err
	}
	if s.routeExists(n, &rc) {
		return fmt.Errorf("netstack: route %s in %s: %w", routeString(&rc), n.name, ErrExists)
	}
	if rc.NHID == 0 && rc.Type != RouteLocal && !RejectRoute(rc.Type) {
		for _, name := range routeDevs(&rc) {
			if n.dev(name) == nil {
				return fmt.Errorf("netstack: route %s: unknown device %q in %s: %w", routeString(&rc), name, n.name, ErrNoDevice)
			}
		}
		if routeDst(&rc).Addr().Is6() {
			for _, name := range routeDevs(&rc) {
				if n.dev(name).noIdev6 {
					// ip6_route_info_create: in6_dev_get finds none.
					return fmt.Errorf("netstack: route %s: %s has no IPv6 (its MTU is below 1280): %w", routeString(&rc), name, ErrNoDevice)
				}
				if n.noIPv6 {
					return fmt.Errorf("netstack: route %s: %w", routeString(&rc), ErrNoIPv6)
				}
			}
		}
		if !s.routeLive(&rc) {
			// fib_check_nh, fib6_nh_init: -ENETDOWN.
			return fmt.Errorf("netstack: route %s: %w", routeString(&rc), ErrNoLink)
		}
	}
	s.Flush()
	old := s.cfg.Routes
	s.cfg.Routes = append(slices.Clone(old), rc)
	s.gwCheckRoute = len(old)
	defer func() { s.gwCheckRoute = -1 }()
	return s.rebuildOr(func() { s.cfg.Routes = old })
}

// routeDevs are the devices rc's next hops name.
func routeDevs(rc *RouteConfig) []string {
	if len(rc.Nexthops) > 0 {
		var out []string
		for _, nh := range rc.Nexthops {
			out = append(out, nh.Dev)
		}
		return out
	}
	return []string{rc.Dev}
}

// routeExists reports whether the table rc goes to holds its destination
// with its metric: fib_table_insert's and fib6_add_rt2node's EEXIST under
// NLM_F_EXCL. The local table holds the local routes and the devices'
// own addresses; an IPv4 connected prefix has metric 0, an IPv6 one 256
// (addrconf), where an IPv6 route's default is 1024 (user).
func (s *Stack) routeExists(n *Netns, rc *RouteConfig) bool {
	dst := routeDst(rc)
	if rc.Type == RouteLocal {
		for _, o := range s.cfg.Routes {
			if o.Type == RouteLocal && nsName(o.Netns) == n.name && routeDst(&o) == dst {
				return true
			}
		}
		for _, d := range n.devs {
			if d != nil && dst.IsSingleIP() && d.hasAddr(dst.Addr()) {
				return true
			}
		}
		return false
	}
	routes := n.routes
	if rc.Table != 0 && rc.Table != rtTableMain {
		t := n.table(rc.Table)
		if t == nil {
			return false
		}
		routes = t.routes
	}
	metric := routeMetric(rc, dst)
	return slices.ContainsFunc(routes, func(r route) bool { return r.dst == dst && r.metric == metric })
}

// routeDst is the destination buildFIB gives rc: a zero Dst is the
// default route of the gateway's family.
func routeDst(rc *RouteConfig) netip.Prefix {
	if rc.Dst.IsValid() {
		return rc.Dst.Masked()
	}
	if rc.Via.Is6() || (len(rc.Nexthops) > 0 && rc.Nexthops[0].Via.Is6()) {
		return netip.MustParsePrefix("::/0")
	}
	return netip.MustParsePrefix("0.0.0.0/0")
}

// DelRoute models `ip route del` of rc (inet_rtm_delroute,
// inet6_rtm_delroute): of the configured or added routes of rc's table
// with rc's destination whose type, device, gateway, nexthop object and
// metric match those rc gives, the one lookups find first goes, the
// lowest metric (fib_table_delete walks the prefix's aliases in priority
// order, ip6_route_del the node's routes in metric order).
func (s *Stack) DelRoute(rc RouteConfig) error {
	n, err := s.routeNetns(&rc)
	if err != nil {
		return err
	}
	table := func(t uint32) uint32 {
		if t == 0 {
			return rtTableMain
		}
		return t
	}
	dst := routeDst(&rc)
	i := -1
	for j, o := range s.cfg.Routes {
		if nsName(o.Netns) == n.name && table(o.Table) == table(rc.Table) && routeDst(&o) == dst &&
			(rc.Type == "" || rc.Type == o.Type || rc.Type == RouteUnicast && o.Type == "") &&
			(rc.Dev == "" || rc.Dev == o.Dev) && (!rc.Via.IsValid() || rc.Via == o.Via) && (rc.NHID == 0 || rc.NHID == o.NHID) &&
			(rc.Metric == 0 || routeMetric(&rc, dst) == routeMetric(&o, dst)) &&
			(i < 0 || routeMetric(&o, dst) < routeMetric(&s.cfg.Routes[i], dst)) {
			i = j
		}
	}
	if r := addrRouteOf(n, &rc, dst); r != nil && (i < 0 || r.metric < routeMetric(&s.cfg.Routes[i], dst) ||
		r.metric == routeMetric(&s.cfg.Routes[i], dst) && r == firstRoute(n.routes, dst, r.metric)) {
		// The address's prefix route comes first: it goes
		// (fib_table_delete, ip6_route_del), the address stays.
		if rc.Type == RouteLocal || (i >= 0 && s.cfg.Routes[i].Dev == r.dev.name && !s.cfg.Routes[i].Via.IsValid() && len(s.cfg.Routes[i].Nexthops) == 0) {
			// A local route, or a configured route taken as the
			// address's own (buildFIB): the kernel holds two routes
			// there, which the model does not.
			return fmt.Errorf("netstack: route %s in %s: deleting a local route, or a prefix route a configured route stands for, is not modelled: %w", routeString(&rc), n.name, ErrLink)
		}
		s.Flush()
		if s.addrRoutesGone == nil {
			s.addrRoutesGone = map[addrRouteKey]bool{}
		}
		k := addrRouteKey{n.name, r.dev.name, r.dst}
		s.addrRoutesGone[k] = true
		return s.rebuildOr(func() { delete(s.addrRoutesGone, k) })
	}
	if i < 0 {
		return fmt.Errorf("netstack: route %s in %s: %w", routeString(&rc), n.name, ErrNoRoute)
	}
	s.Flush()
	old := s.cfg.Routes
	s.cfg.Routes = slices.Delete(slices.Clone(old), i, i+1)
	return s.rebuildOr(func() { s.cfg.Routes = old })
}

// addrRouteKey names an address's prefix route: namespace, device and
// prefix.
type addrRouteKey struct {
	netns, dev string
	dst        netip.Prefix
}

// addrRouteBack forgets the deletions of d's address prefix routes that
// come back: all of them when d comes up (fib_netdev_event NETDEV_UP:
// fib_add_ifaddr for each address; IPv6: addrconf's), or p's when it is
// added: an IPv6 address always adds its prefix route (addrconf_prefix_route),
// an IPv4 one when it is the subnet's primary (fib_add_ifaddr passes
// over secondaries). It returns the deletions it forgot.
func (s *Stack) addrRouteBack(d *Device, p netip.Prefix) (back []addrRouteKey) {
	for k := range s.addrRoutesGone {
		if k.netns != d.ns.name || k.dev != d.name {
			continue
		}
		if !p.IsValid() || (k.dst == p.Masked() && (p.Addr().Is6() || !slices.ContainsFunc(d.addrs, func(q netip.Prefix) bool {
			return q.Addr().Is4() && q.Masked() == p.Masked()
		}))) {
			delete(s.addrRoutesGone, k)
			back = append(back, k)
		}
	}
	return back
}

// addrRouteOf is the route an address of n makes to dst that `ip route
// del` of rc matches (a connected prefix of the main table, unicast, with
// no gateway or nexthop object; a local route to the address itself), or
// nil.
func addrRouteOf(n *Netns, rc *RouteConfig, dst netip.Prefix) *route {
	switch {
	case rc.Type == RouteLocal:
		for _, d := range n.devs {
			if d != nil && dst.IsSingleIP() && d.hasAddr(dst.Addr()) {
				return &route{dst: dst, dev: d}
			}
		}
		return nil
	case rc.Table != 0 && rc.Table != rtTableMain, rc.Type != "" && rc.Type != RouteUnicast, rc.Via.IsValid(), rc.NHID != 0:
		return nil
	}
	for i := range n.routes {
		r := &n.routes[i]
		if r.ofAddr && r.dst == dst && (rc.Dev == "" || rc.Dev == r.dev.name) && (rc.Metric == 0 || routeMetric(rc, dst) == r.metric) {
			return r
		}
	}
	return nil
}

// firstRoute is the first of routes to dst with metric m, or nil.
func firstRoute(routes []route, dst netip.Prefix, m uint32) *route {
	for i := range routes {
		if routes[i].dst == dst && routes[i].metric == m {
			return &routes[i]
		}
	}
	return nil
}

// routeString formats rc as ip-route(8) writes it.
func routeString(rc *RouteConfig) string {
	var b strings.Builder
	if rc.Type != "" && rc.Type != RouteUnicast {
		b.WriteString(rc.Type + " ")
	}
	if dst := routeDst(rc); dst.Bits() == 0 {
		b.WriteString("default")
	} else {
		b.WriteString(dst.String())
	}
	if rc.NHID != 0 {
		fmt.Fprintf(&b, " nhid %d", rc.NHID)
	}
	if rc.Via.IsValid() {
		b.WriteString(" via " + rc.Via.String())
	}
	if rc.Dev != "" {
		b.WriteString(" dev " + rc.Dev)
	}
	for _, nh := range rc.Nexthops {
		b.WriteString(" nexthop")
		if nh.Via.IsValid() {
			b.WriteString(" via " + nh.Via.String())
		}
		b.WriteString(" dev " + nh.Dev)
		if nh.Onlink {
			b.WriteString(" onlink")
		}
	}
	if rc.Table != 0 && rc.Table != rtTableMain {
		fmt.Fprintf(&b, " table %d", rc.Table)
	}
	if rc.Onlink {
		b.WriteString(" onlink")
	}
	if rc.Src.IsValid() {
		b.WriteString(" src " + rc.Src.String())
	}
	if rc.Metric != 0 {
		fmt.Fprintf(&b, " metric %d", rc.Metric)
	}
	return b.String()
}

// ErrGateway is matched by the error for a route whose IPv4 gateway no
// link reaches (fib_check_nh_v4_gw: "Nexthop has invalid gateway"); it is
// ENETUNREACH.
var ErrGateway = errno.New("netstack: nexthop has invalid gateway", errno.ENETUNREACH)

// ErrGateway6 is matched by the error for a route whose global IPv6
// gateway no link of its device reaches (ip6_route_check_nh: the gateway's
// route has a gateway itself, is a reject route, goes by another device,
// or there is none); it is EHOSTUNREACH.
var ErrGateway6 = errno.New("netstack: IPv6 gateway unreachable", errno.EHOSTUNREACH)

// gwCheck is a gateway buildFIB checks once every route is in: route i's
// next hop through dev, or nexthop object obj-1's (id id).
type gwCheck struct {
	i      int
	obj    int
	id     uint32
	n      *Netns
	table  uint32
	dev    *Device
	gw     netip.Addr
	onlink bool
}

// what names the route or nexthop object whose gateway g is.
func (g *gwCheck) what() string {
	if g.obj != 0 {
		return fmt.Sprintf("nexthop object %d (id %d)", g.obj-1, g.id)
	}
	return fmt.Sprintf("route %d", g.i)
}

// onlinkGW models fib_check_nh_v4_gw()'s RTNH_F_ONLINK case: gw must be
// RTN_UNICAST by inet_addr_type_dev_table, not the zero network, the
// limited broadcast, a multicast group, an address or a local route of
// n, or a subnet broadcast address of one of its devices.
func (n *Netns) onlinkGW(gw netip.Addr) bool {
	a := gw.As4()
	if a[0] == 0 || a == [4]byte{255, 255, 255, 255} || gw.IsMulticast() {
		return false
	}
	for _, p := range n.local {
		if p.Contains(gw) {
			return false
		}
	}
	for _, d := range n.devs {
		if d == nil {
			continue
		}
		for _, p := range d.addrs {
			if p.Addr() == gw {
				return false
			}
			if p.Addr().Is4() && p.Bits() < 31 && d.up {
				b := p.Masked().Addr().As4()
				for i := p.Bits(); i < 32; i++ {
					b[i/8] |= 0x80 >> (i % 8)
				}
				if b == a {
					return false
				}
			}
		}
	}
	return true
}

// srcCheck is a route's preferred source buildFIB checks once every
// route is in: route i's, through dev, to dst.
type srcCheck struct {
	i   int
	n   *Netns
	dev *Device
	src netip.Addr
	dst netip.Prefix
}

// prefsrcCheck models fib_valid_prefsrc() (IPv4: c.src is RTN_LOCAL in
// the local table, a device's address or in a local route) and
// ip6_route_info_create's ipv6_chk_addr (IPv6: an address of a device,
// a link-local one of c.dev): nil or EINVAL.
func (n *Netns) prefsrcCheck(c *srcCheck) error {
	ok := false
	if c.src.Is4() {
		ok = slices.ContainsFunc(n.local, func(p netip.Prefix) bool { return p.Contains(c.src) })
	}
	for _, d := range n.devs {
		if d != nil && (!c.src.IsLinkLocalUnicast() || d == c.dev) && d.hasAddr(c.src) {
			ok = true
		}
	}
	if !ok {
		return cfgErr("route %d: src %s is no address of %s (fib_valid_prefsrc, ipv6_chk_addr: invalid prefsrc address)", c.i, c.src, n.name)
	}
	return nil
}

// gw6Check models ip6_validate_gw() for an IPv6 gateway gw through dev
// (an IPv6 route's, or an IPv4 route's by RFC 5549: fib_check_nh_v6_gw
// calls fib6_nh_init): nil or the error the kernel answers.
//   - The gateway is no address of the namespace, of dev for a link-local
//     one (ipv6_chk_addr_and_flags, tentative ones too): EINVAL.
//   - A link-local unicast gateway is taken as on dev's link.
//   - Another gateway must be unicast or IPv4-mapped (ipv6_addr_type):
//     else EINVAL. With onlink (ip6_route_check_nh_onlink) the longest
//     match in table main, unless it is the default route or a reject
//     route, must be a unicast route through dev: else EINVAL. Without it
//     (ip6_route_check_nh) the longest match through dev, in the route's
//     table and else by fib6_lookup (the model: table main), must have no
//     gateway and not be a reject route: else EHOSTUNREACH.
//   - dev is not the loopback: EINVAL.
func (n *Netns) gw6Check(g *gwCheck) error {
	ll := g.gw.IsLinkLocalUnicast()
	for _, d := range n.devs {
		if d != nil && (!ll || d == g.dev) && d.hasAddr(g.gw) {
			return cfgErr("%s: gateway %s is an address of %s (ip6_validate_gw: gateway can not be a local address)", g.what(), g.gw, d.name)
		}
	}
	switch {
	case ll:
	case g.gw.IsUnspecified() || g.gw.IsMulticast():
		return cfgErr("%s: gateway %s is not unicast (ip6_validate_gw: invalid gateway address)", g.what(), g.gw)
	case g.onlink:
		if !n.onlinkGW6(g.dev, g.gw) {
			return cfgErr("%s: onlink gateway %s: its route in table main goes by another device (ip6_route_check_nh_onlink)", g.what(), g.gw)
		}
	default:
		// ip6_nh_lookup_table: the route's table, main too (ip(8)
		// always names one).
		ok, found := false, false
		if g.table == 0 || g.table == rtTableMain {
			ok, found, _ = onLink6(n.routes, g.dev, g.gw)
		} else if t := n.table(g.table); t != nil {
			ok, found, _ = onLink6(t.routes, g.dev, g.gw)
		}
		if !found || !ok {
			// fib6_lookup: main, or the rules' walk (fib6_rule_lookup
			// with a flow of the gateway and the device only).
			ok, _ = n.gwLookup(g.dev, g.gw, func(routes []route) (bool, bool, int) { return onLink6(routes, g.dev, g.gw) })
		}
		if !ok {
			return fmt.Errorf("netstack: %s: gateway %s is on no link of %s (ip6_route_check_nh): %w: %w", g.what(), g.gw, g.dev.name, ErrGateway6, ErrConfig)
		}
	}
	if g.dev.kind == KindLoopback {
		return cfgErr("%s: a gateway route through %s (ip6_validate_gw: egress device can not be loopback)", g.what(), g.dev.name)
	}
	return nil
}

// onLink6 models ip6_route_check_nh()'s lookup of gw in routes with
// RT6_LOOKUP_F_IFACE: of the next hops through dev (rt6_score_route fails
// others hard, fib6_table_lookup backtracks to shorter prefixes) the
// longest prefix answers; gw is on the link when that next hop has no
// gateway. found is whether any answered, bits its prefix length.
func onLink6(routes []route, dev *Device, gw netip.Addr) (ok, found bool, bits int) {
	best := -1
	for i := range routes {
		r := &routes[i]
		if r.reject != 0 || !r.dst.Addr().Is6() || !r.dst.Contains(gw) || r.dst.Bits() <= best {
			continue
		}
		hops := r.paths
		if hops == nil {
			hops = []nexthop{{route: route{dev: r.dev, via: r.via}}}
		}
		for _, nh := range hops {
			if nh.dev == dev {
				best, ok, found = r.dst.Bits(), !nh.via.IsValid(), true
				break
			}
		}
	}
	return ok, found, best
}

// onlinkGW6 models ip6_route_check_nh_onlink(): the lookup of gw in table
// main without RT6_LOOKUP_F_IFACE finds the longest prefix; of its routes
// of the lowest metric, one through dev is preferred (rt6_check_dev). gw
// is refused when that route is not the default route, not a reject
// route, and goes by another device.
func (n *Netns) onlinkGW6(dev *Device, gw netip.Addr) bool {
	var best *route
	for i := range n.routes {
		r := &n.routes[i]
		if !r.dst.Addr().Is6() || !r.dst.Contains(gw) {
			continue
		}
		if best == nil || r.dst.Bits() > best.dst.Bits() || (r.dst.Bits() == best.dst.Bits() && r.metric < best.metric) {
			best = r
		}
	}
	if best == nil || best.dst.Bits() == 0 || best.reject != 0 {
		return true
	}
	return slices.ContainsFunc(n.routes, func(r route) bool {
		return r.dst == best.dst && r.metric == best.metric && r.reject == 0 && slices.ContainsFunc(append([]nexthop{{route: route{dev: r.dev}}}, r.paths...),
			func(nh nexthop) bool { return nh.dev == dev })
	})
}

// gwOnLink models fib_check_nh_v4_gw() for a gateway route (scope
// universe, not onlink): gw must be found by a lookup of scope link
// through dev, ignoring the link state, in the route's table and else in
// the local and main tables (fib_lookup, which walks the policy rules
// when there are some: gwLookup), and be RTN_UNICAST or RTN_LOCAL. What
// has scope link or host: dev's own addresses (local), the prefix routes
// of its addresses, and the routes through dev without a gateway (ip(8)
// gives those scope link).
func (n *Netns) gwOnLink(table uint32, dev *Device, gw netip.Addr) bool {
	// link is the longest of routes with scope link through dev that
	// holds gw (fib_table_lookup with flowi4_scope RT_SCOPE_LINK and
	// flowi4_oif): its prefix length, or -1.
	link := func(routes []route) int {
		bits := -1
		for i := range routes {
			if r := &routes[i]; r.reject == 0 && r.paths == nil && !r.via.IsValid() && r.dev == dev && r.dst.Contains(gw) {
				bits = max(bits, r.dst.Bits())
			}
		}
		return bits
	}
	if table != 0 && table != rtTableMain {
		if t := n.table(table); t != nil && link(t.routes) >= 0 {
			return true
		}
	}
	if dev.hasAddr(gw) {
		return true // the local table (the local rule, priority 0)
	}
	ok, _ := n.gwLookup(dev, gw, func(routes []route) (bool, bool, int) { b := link(routes); return b >= 0, b >= 0, b })
	return ok
}

// gwLookup is the full lookup of a gateway check (fib_lookup,
// fib6_lookup) after the local table: without policy rules, in main by
// in(n.routes); with them, the rules' walk (fib_rules_lookup) with the
// flow the checks build (dst gw, oif dev, IPv4's iif lo), each table
// asked by in, which answers ok and whether the table answered at all
// (a table without an answer gives -EAGAIN: the walk goes on). The
// blackhole, unreachable and prohibit actions end it with no gateway; an
// IPv4 rule's suppress_prefixlength passes over an answer of that prefix
// length or shorter (fib4_rule_suppress), an IPv6 one's none
// (fib6_rule_suppress returns at once: fib6_lookup's result has no
// rt6_info; measured on 6.18). A configuration's routes are
// made before its rules (rulesForGW is off in New), as `ip route add
// table N` comes before `ip rule add lookup N`; AddRoute's walk the
// rules.
func (n *Netns) gwLookup(dev *Device, gw netip.Addr, in func([]route) (ok, found bool, bits int)) (ok, found bool) {
	v6 := gw.Is6()
	if !n.hasRules(gw) || !n.rulesForGW {
		ok, found, _ = in(n.routes)
		return ok, found
	}
	fl := flow{dst: gw, src: unspecifiedOf(gw), oif: dev.ifindex}
	if !v6 {
		fl.iif = loIfindex
	}
	for i := 0; i < len(n.rules); i++ {
		ru := &n.rules[i]
		if ru.v6 != v6 || !ru.match(&fl) {
			continue
		}
		switch ru.action {
		case ruleBlackhole, ruleUnreachable, ruleProhibit:
			return false, true
		case ruleNop:
			continue
		case ruleGoto:
			if j := n.ruleAt(v6, ru.target); j >= 0 {
				i = j - 1
			}
			continue
		}
		var routes []route
		switch ru.table {
		case rtTableLocal:
			continue // the local decisions came first
		case rtTableMain:
			routes = n.routes
		default:
			t := n.table(ru.table)
			if t == nil {
				continue
			}
			routes = t.routes
		}
		if ok, found, bits := in(routes); found {
			if !v6 && bits <= ru.suppress {
				continue // fib4_rule_suppress
			}
			return ok, true
		}
	}
	return false, false
}
