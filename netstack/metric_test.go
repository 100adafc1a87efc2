package netstack

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/internal/errno"
)

// TestRouteMetrics: of the routes to one prefix, the lowest metric whose
// next hop is live answers (fib_table_lookup's alias order, rt6_select);
// rulesTopology's main table has the default routes through veth0 (B),
// and the tests add others through veth1 (C). TestKernelLinkEvents
// measures the same on 6.18.
func TestRouteMetrics(t *testing.T) {
	c4 := RouteConfig{Dev: "veth1", Via: addr("10.2.0.2"), Metric: 100}
	c6 := RouteConfig{Dst: pfx("::/0"), Dev: "veth1", Via: addr("fd00:2::2"), Metric: 100}
	radd := func(r RouteConfig) linkStep { return linkStep{e: Event{Op: RouteAdd, Route: r}} }
	rdel := func(r RouteConfig) linkStep { return linkStep{e: Event{Op: RouteDel, Route: r}} }
	veth0Down := linkStep{dev: "veth0", op: LinkDown}
	for _, tc := range []struct {
		name   string
		routes []RouteConfig
		metric uint32 // of the default routes through veth0 (0: 0, and IPv6's 1024)
		ign    bool   // ignore_routes_with_linkdown (both families)
		steps  []linkStep
		dst    string
		want   string
	}{
		{"IPv4: 0 beats 100", []RouteConfig{c4}, 0, false, nil, "203.0.113.5", "b"},
		{"IPv4: 100 beats 200", []RouteConfig{c4}, 200, false, nil, "203.0.113.5", "c"},
		{"IPv4: the first device down, the next metric answers", []RouteConfig{c4}, 0, false, []linkStep{veth0Down}, "203.0.113.5", "c"},
		{"IPv4: its carrier lost, a linkdown route still answers", []RouteConfig{c4}, 0, false,
			[]linkStep{{ns: "B", dev: "vB", op: LinkDown}}, "203.0.113.5", "QDISC_DROP"},
		{"IPv4: its carrier lost, ignore_routes_with_linkdown", []RouteConfig{c4}, 0, true,
			[]linkStep{{ns: "B", dev: "vB", op: LinkDown}}, "203.0.113.5", "c"},
		{"IPv4: added at 100, the lower one deleted", nil, 0, false, []linkStep{radd(c4), rdel(RouteConfig{})}, "203.0.113.5", "c"},
		{"IPv4: added at 100 and deleted by metric", nil, 0, false,
			[]linkStep{radd(c4), rdel(RouteConfig{Metric: 100})}, "203.0.113.5", "b"},
		{"IPv4: added at 100, a delete by device takes it", nil, 0, false,
			[]linkStep{radd(c4), rdel(RouteConfig{Dev: "veth1"})}, "203.0.113.5", "b"},
		{"IPv4: a connected prefix beats a route of metric 5", []RouteConfig{{Dst: pfx("10.1.0.0/24"), Dev: "veth1", Via: addr("10.2.0.2"), Metric: 5}},
			0, false, nil, "10.1.0.2", "b"},
		{"IPv4: a connected prefix's device down, the metric 5 route answers",
			[]RouteConfig{{Dst: pfx("10.1.0.0/24"), Dev: "veth1", Via: addr("10.2.0.2"), Metric: 5}}, 0, false,
			[]linkStep{veth0Down}, "10.1.0.2", "IP_INADDRERRORS"},
		{"IPv6: 100 beats 1024", []RouteConfig{c6}, 0, false, nil, "2001:db8:99::5", "c6"},
		{"IPv6: 50 beats 100", []RouteConfig{c6}, 50, false, nil, "2001:db8:99::5", "b6"},
		{"IPv6: the first device down, the next metric answers", []RouteConfig{c6}, 50, false, []linkStep{veth0Down}, "2001:db8:99::5", "c6"},
		{"IPv6: its carrier lost, ignore_routes_with_linkdown", []RouteConfig{c6}, 50, true,
			[]linkStep{{ns: "B", dev: "vB", op: LinkDown}}, "2001:db8:99::5", "c6"},
		{"IPv6: a route of metric 100 beats the connected prefix (256)",
			[]RouteConfig{{Dst: pfx("fd00:1::/64"), Dev: "veth1", Via: addr("fd00:2::2"), Metric: 100}}, 0, false, nil, "fd00:1::2", "IP_INNOROUTES"},
		{"IPv6: the connected prefix (256) beats one of 1024",
			[]RouteConfig{{Dst: pfx("fd00:1::/64"), Dev: "veth1", Via: addr("fd00:2::2")}}, 0, false, nil, "fd00:1::2", "b6"},
		{"IPv6: deleted without a metric, the lowest goes", nil, 0, false,
			[]linkStep{radd(c6), rdel(RouteConfig{Dst: pfx("::/0")})}, "2001:db8:99::5", "b6"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mark uint32
			cfg := rulesTopology(&mark)
			cfg.Namespaces[0].IgnoreRoutesWithLinkdown, cfg.Namespaces[0].IPv6IgnoreRoutesWithLinkdown = tc.ign, tc.ign
			cfg.Routes[0].Metric, cfg.Routes[1].Metric = tc.metric, tc.metric
			cfg.Routes = append(cfg.Routes, tc.routes...)
			src := "192.0.2.9"
			if addr(tc.dst).Is6() {
				src = "2001:db8:1::9"
			}
			require.Equal(t, tc.want, linkOutcome(t, cfg, tc.steps, src, tc.dst))
		})
	}
}

// TestRouteMetricErrors: a route to a prefix the table holds with the
// same metric is refused, in the configuration (EINVAL, naming the route)
// and as an event (EEXIST); a route that is an address's own prefix route
// is taken as that route.
func TestRouteMetricErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		extra RouteConfig
		ok    bool
	}{
		{"a second default route of metric 0", RouteConfig{Dev: "veth1", Via: addr("10.2.0.2")}, false},
		{"a second default route of metric 1", RouteConfig{Dev: "veth1", Via: addr("10.2.0.2"), Metric: 1}, true},
		{"IPv6: a second default route of 1024", RouteConfig{Dst: pfx("::/0"), Dev: "veth1", Via: addr("fd00:2::2"), Metric: 1024}, false},
		{"a connected prefix through a gateway", RouteConfig{Dst: pfx("10.1.0.0/24"), Dev: "veth1", Via: addr("10.2.0.2")}, false},
		{"a connected prefix as the address makes it", RouteConfig{Dst: pfx("10.1.0.0/24"), Dev: "veth0"}, true},
		{"IPv6: a connected prefix at 256 through another device", RouteConfig{Dst: pfx("fd00:1::/64"), Dev: "veth1", Metric: 256}, false},
		{"a blackhole at the default route's metric", RouteConfig{Type: RouteBlackhole, Dst: pfx("0.0.0.0/0")}, false},
		{"a blackhole at another", RouteConfig{Type: RouteBlackhole, Dst: pfx("0.0.0.0/0"), Metric: 9}, true},
		{"another table", RouteConfig{Dev: "veth0", Via: addr("10.1.0.2"), Table: 101}, true},
		{"a local route with a metric", RouteConfig{Netns: "B", Dst: pfx("198.51.100.0/24"), Dev: "lo", Type: RouteLocal, Metric: 5}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mark uint32
			cfg := rulesTopology(&mark)
			cfg.Routes = append(cfg.Routes, tc.extra)
			err := newStackErr(t, cfg, "")
			if tc.ok {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrConfig)
			require.ErrorIs(t, err, errno.EINVAL)
			if tc.extra.Type == RouteLocal {
				return
			}
			// The same route as an event: EEXIST.
			cfg.Routes = cfg.Routes[:len(cfg.Routes)-1]
			s, _ := newStack(t, cfg, "", nil, nil)
			require.ErrorIs(t, s.Apply(Event{Op: RouteAdd, Route: tc.extra}), errno.EEXIST)
		})
	}
	var mark uint32
	cfg := rulesTopology(&mark)
	cfg.Routes = append(cfg.Routes, RouteConfig{Dst: pfx("10.1.0.0/24"), Dev: "veth0"}, RouteConfig{Dst: pfx("10.2.0.0/24"), Dev: "veth0", Metric: 5})
	s, _ := newStack(t, cfg, "", nil, nil)
	// The configured route that is the connected prefix is the address's:
	// deleting it is deleting that.
	require.ErrorIs(t, s.DelRoute(RouteConfig{Dst: pfx("10.1.0.0/24")}), errno.EOPNOTSUPP)
	// The connected prefix of 10.2.0.1/24 (veth1) comes first (metric 0).
	require.NoError(t, s.DelRoute(RouteConfig{Dst: pfx("10.2.0.0/24")}))
	require.ErrorIs(t, s.DelRoute(RouteConfig{Dst: pfx("10.2.0.0/24"), Metric: 7}), errno.ESRCH)
	require.NoError(t, s.DelRoute(RouteConfig{Dst: pfx("10.2.0.0/24"), Metric: 5}))
	require.ErrorIs(t, s.DelRoute(RouteConfig{Dst: pfx("10.2.0.0/24"), Dev: "veth0"}), errno.ESRCH)
	require.ErrorIs(t, s.DelRoute(RouteConfig{Dst: pfx("10.2.0.0/24")}), errno.ESRCH)
}

// TestGatewayOnLink: an IPv4 gateway must be reached by a link of its
// device (fib_check_nh_v4_gw): an address's prefix, a route through the
// device without a gateway (scope link), or the device's own address; a
// gateway route does not count. The configuration refuses the rest
// (EINVAL, ENETUNREACH), as does a route event (ENETUNREACH).
func TestGatewayOnLink(t *testing.T) {
	for _, tc := range []struct {
		name   string
		routes []RouteConfig
		ok     bool
	}{
		{"on the connected prefix", []RouteConfig{{Dst: pfx("198.51.100.0/24"), Dev: "veth0", Via: addr("10.1.0.2")}}, true},
		{"on another device's prefix", []RouteConfig{{Dst: pfx("198.51.100.0/24"), Dev: "veth0", Via: addr("10.2.0.2")}}, false},
		{"on no prefix", []RouteConfig{{Dst: pfx("198.51.100.0/24"), Dev: "veth0", Via: addr("10.9.0.2")}}, false},
		{"on a device route", []RouteConfig{{Dst: pfx("198.51.100.0/24"), Dev: "veth0", Via: addr("10.9.0.2")},
			{Dst: pfx("10.9.0.0/16"), Dev: "veth0"}}, true},
		{"behind a gateway route", []RouteConfig{{Dst: pfx("198.51.100.0/24"), Dev: "veth0", Via: addr("10.9.0.2")},
			{Dst: pfx("10.9.0.0/16"), Dev: "veth0", Via: addr("10.1.0.2")}}, false},
		{"the device's own address", []RouteConfig{{Dst: pfx("198.51.100.0/24"), Dev: "veth0", Via: addr("10.1.0.1")}}, true},
		{"a device route of the route's table", []RouteConfig{{Dst: pfx("198.51.100.0/24"), Dev: "veth0", Via: addr("10.9.0.2"), Table: 100},
			{Dst: pfx("10.9.0.0/16"), Dev: "veth0", Table: 100}}, true},
		{"a device route of another table", []RouteConfig{{Dst: pfx("198.51.100.0/24"), Dev: "veth0", Via: addr("10.9.0.2")},
			{Dst: pfx("10.9.0.0/16"), Dev: "veth0", Table: 100}}, false},
		{"a multipath route's second path", []RouteConfig{{Dst: pfx("198.51.100.0/24"),
			Nexthops: []NexthopConfig{{Dev: "veth0", Via: addr("10.1.0.2")}, {Dev: "veth1", Via: addr("10.1.0.2")}}}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mark uint32
			cfg := rulesTopology(&mark)
			cfg.Routes = append(cfg.Routes, tc.routes...)
			err := newStackErr(t, cfg, "")
			if tc.ok {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrConfig)
			require.ErrorIs(t, err, errno.ENETUNREACH)
			require.ErrorContains(t, err, "gateway")
			if len(tc.routes) == 1 {
				// As an event.
				cfg.Routes = cfg.Routes[:len(cfg.Routes)-1]
				s, _ := newStack(t, cfg, "", nil, nil)
				require.ErrorIs(t, s.Apply(Event{Op: RouteAdd, Route: tc.routes[0]}), errno.ENETUNREACH)
			}
		})
	}
	// onlink: any ordinary unicast address, not a local, broadcast or
	// multicast one (EINVAL).
	for gw, ok := range map[string]bool{"10.9.0.2": true, "10.1.0.1": false, "10.2.0.255": false, "224.0.0.9": false,
		"255.255.255.255": false, "0.1.2.3": false, "10.2.0.2": true} {
		var mark uint32
		cfg := rulesTopology(&mark)
		cfg.Routes = append(cfg.Routes, RouteConfig{Dst: pfx("198.51.100.0/24"), Dev: "veth0", Via: addr(gw), Onlink: true})
		err := newStackErr(t, cfg, "")
		if ok {
			require.NoError(t, err, gw)
			continue
		}
		require.ErrorIs(t, err, errno.EINVAL, gw)
		require.NotErrorIs(t, err, errno.ENETUNREACH, gw)
	}
	// A route through a device that is down is not checked: it is not
	// there (a state the kernel reaches by the device going down).
	var mark uint32
	cfg := rulesTopology(&mark)
	cfg.Devices[1].Down = true
	cfg.Routes = append(cfg.Routes, RouteConfig{Dst: pfx("198.51.100.0/24"), Dev: "veth0", Via: addr("10.9.0.2")})
	require.NoError(t, newStackErr(t, cfg, ""))
}

func TestGateway6(t *testing.T) {
	const dst = "2001:db8:77::/64"
	hostUnreach, inval := errno.EHOSTUNREACH, errno.EINVAL
	for _, tc := range []struct {
		name   string
		routes []RouteConfig
		want   errno.Errno // 0: made
	}{
		{"on the connected prefix", []RouteConfig{{Dst: pfx(dst), Dev: "veth0", Via: addr("fd00:1::2")}}, 0},
		{"on another device's prefix", []RouteConfig{{Dst: pfx(dst), Dev: "veth0", Via: addr("fd00:2::2")}}, hostUnreach},
		{"behind the default route", []RouteConfig{{Dst: pfx(dst), Dev: "veth0", Via: addr("fd00:9::2")}}, hostUnreach},
		{"on a device route", []RouteConfig{{Dst: pfx(dst), Dev: "veth0", Via: addr("fd00:9::2")},
			{Dst: pfx("fd00:9::/64"), Dev: "veth0"}}, 0},
		{"behind a gateway route", []RouteConfig{{Dst: pfx(dst), Dev: "veth0", Via: addr("fd00:9::2")},
			{Dst: pfx("fd00:9::/64"), Dev: "veth0", Via: addr("fd00:1::2")}}, hostUnreach},
		{"a longer gateway route of the device answers", []RouteConfig{{Dst: pfx(dst), Dev: "veth0", Via: addr("fd00:1::99")},
			{Dst: pfx("fd00:1::80/121"), Dev: "veth0", Via: addr("fd00:1::2")}}, hostUnreach},
		{"a longer route of another device is passed over", []RouteConfig{{Dst: pfx(dst), Dev: "veth0", Via: addr("fd00:1::99")},
			{Dst: pfx("fd00:1::80/121"), Dev: "veth1"}}, 0},
		{"a device route of the route's table", []RouteConfig{{Dst: pfx(dst), Dev: "veth0", Via: addr("fd00:9::2"), Table: 100},
			{Dst: pfx("fd00:9::/64"), Dev: "veth0", Table: 100}}, 0},
		{"a device route of another table", []RouteConfig{{Dst: pfx(dst), Dev: "veth0", Via: addr("fd00:9::2")},
			{Dst: pfx("fd00:9::/64"), Dev: "veth0", Table: 100}}, hostUnreach},
		{"link-local: on the link", []RouteConfig{{Dst: pfx(dst), Dev: "veth0", Via: addr("fe80::2")}}, 0},
		{"an address of the device", []RouteConfig{{Dst: pfx(dst), Dev: "veth0", Via: addr("fd00:1::1")}}, inval},
		{"an address of another device", []RouteConfig{{Dst: pfx(dst), Dev: "veth0", Via: addr("fd00:2::1")}}, inval},
		{"multicast", []RouteConfig{{Dst: pfx(dst), Dev: "veth0", Via: addr("ff02::2")}}, inval},
		{"through lo", []RouteConfig{{Dst: pfx(dst), Dev: "lo", Via: addr("fe80::2")}}, inval},
		{"an IPv4 route's (RFC 5549), on the link", []RouteConfig{{Dst: pfx("198.51.100.0/24"), Dev: "veth0", Via: addr("fd00:1::2")}}, 0},
		{"an IPv4 route's (RFC 5549), off the link", []RouteConfig{{Dst: pfx("198.51.100.0/24"), Dev: "veth0", Via: addr("fd00:2::2")}}, hostUnreach},
		{"a multipath route's second path", []RouteConfig{{Dst: pfx(dst),
			Nexthops: []NexthopConfig{{Dev: "veth0", Via: addr("fd00:1::2")}, {Dev: "veth1", Via: addr("fd00:1::2")}}}}, hostUnreach},
		{"onlink: behind the default route", []RouteConfig{{Dst: pfx(dst), Dev: "veth0", Via: addr("fd00:9::2"), Onlink: true}}, 0},
		{"onlink: on the connected prefix", []RouteConfig{{Dst: pfx(dst), Dev: "veth0", Via: addr("fd00:1::7"), Onlink: true}}, 0},
		{"onlink: on another device's prefix", []RouteConfig{{Dst: pfx(dst), Dev: "veth0", Via: addr("fd00:2::2"), Onlink: true}}, inval},
		{"onlink: behind a gateway route of the device", []RouteConfig{{Dst: pfx(dst), Dev: "veth0", Via: addr("fd00:9::2"), Onlink: true},
			{Dst: pfx("fd00:9::/64"), Dev: "veth0", Via: addr("fd00:1::2")}}, 0},
		{"onlink: behind a blackhole", []RouteConfig{{Dst: pfx(dst), Dev: "veth0", Via: addr("fd00:9::2"), Onlink: true},
			{Dst: pfx("fd00:9::/64"), Type: RouteBlackhole}}, 0},
		{"onlink: the lower metric goes by another device", []RouteConfig{{Dst: pfx(dst), Dev: "veth0", Via: addr("fd00:9::2"), Onlink: true},
			{Dst: pfx("fd00:9::/64"), Dev: "veth1", Metric: 10}, {Dst: pfx("fd00:9::/64"), Dev: "veth0", Metric: 20}}, inval},
		{"onlink: the lower metric, listed last, goes by another device", []RouteConfig{{Dst: pfx(dst), Dev: "veth0", Via: addr("fd00:9::2"), Onlink: true},
			{Dst: pfx("fd00:9::/64"), Dev: "veth0", Metric: 20}, {Dst: pfx("fd00:9::/64"), Dev: "veth1", Metric: 10}}, inval},
		{"onlink: the lower metric goes by the device", []RouteConfig{{Dst: pfx(dst), Dev: "veth0", Via: addr("fd00:9::2"), Onlink: true},
			{Dst: pfx("fd00:9::/64"), Dev: "veth1", Metric: 20}, {Dst: pfx("fd00:9::/64"), Dev: "veth0", Metric: 10}}, 0},
		{"onlink: a default route by another device is passed over", []RouteConfig{{Dst: pfx(dst), Dev: "veth0", Via: addr("fd00:9::2"), Onlink: true},
			{Dst: pfx("::/0"), Dev: "veth1", Via: addr("fd00:2::2"), Metric: 10}}, 0},
		{"onlink: an address", []RouteConfig{{Dst: pfx(dst), Dev: "veth0", Via: addr("fd00:1::1"), Onlink: true}}, inval},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mark uint32
			cfg := rulesTopology(&mark)
			cfg.Routes = append(cfg.Routes, tc.routes...)
			err := newStackErr(t, cfg, "")
			check := func(err error) {
				t.Helper()
				if tc.want == 0 {
					require.NoError(t, err)
					return
				}
				require.ErrorIs(t, err, ErrConfig)
				require.ErrorIs(t, err, tc.want)
				require.ErrorContains(t, err, "gateway")
				if tc.want == inval {
					require.NotErrorIs(t, err, ErrGateway6)
				}
			}
			check(err)
			if len(tc.routes) == 1 && tc.want != 0 {
				// As an event.
				cfg.Routes = cfg.Routes[:len(cfg.Routes)-1]
				s, _ := newStack(t, cfg, "", nil, nil)
				check(s.Apply(Event{Op: RouteAdd, Route: tc.routes[0]}))
			}
		})
	}
}

func TestGatewayNexthops(t *testing.T) {
	const dst4, dst6 = "198.51.100.0/24", "2001:db8:77::/64"
	for _, tc := range []struct {
		name   string
		routes []RouteConfig
		objs   []NexthopObjConfig
		want   errno.Errno // 0: made
	}{
		{"IPv4: a route's onlink does not reach its next hops", []RouteConfig{{Dst: pfx(dst4), Onlink: true,
			Nexthops: []NexthopConfig{{Dev: "veth0", Via: addr("10.9.0.2")}, {Dev: "veth1", Via: addr("10.2.0.2")}}}}, nil, errno.ENETUNREACH},
		{"IPv4: a next hop's onlink", []RouteConfig{{Dst: pfx(dst4),
			Nexthops: []NexthopConfig{{Dev: "veth0", Via: addr("10.9.0.2"), Onlink: true}, {Dev: "veth1", Via: addr("10.2.0.2")}}}}, nil, 0},
		{"IPv4: another next hop's onlink is its own", []RouteConfig{{Dst: pfx(dst4),
			Nexthops: []NexthopConfig{{Dev: "veth0", Via: addr("10.9.0.2")}, {Dev: "veth1", Via: addr("10.2.0.2"), Onlink: true}}}}, nil, errno.ENETUNREACH},
		{"IPv6: a route's onlink reaches its next hops", []RouteConfig{{Dst: pfx(dst6), Onlink: true,
			Nexthops: []NexthopConfig{{Dev: "veth0", Via: addr("fd00:9::2")}, {Dev: "veth1", Via: addr("fd00:2::2")}}}}, nil, 0},
		{"IPv6: without it", []RouteConfig{{Dst: pfx(dst6),
			Nexthops: []NexthopConfig{{Dev: "veth0", Via: addr("fd00:9::2")}, {Dev: "veth1", Via: addr("fd00:2::2")}}}}, nil, errno.EHOSTUNREACH},
		{"IPv6: a next hop's onlink", []RouteConfig{{Dst: pfx(dst6),
			Nexthops: []NexthopConfig{{Dev: "veth0", Via: addr("fd00:9::2"), Onlink: true}, {Dev: "veth1", Via: addr("fd00:2::2")}}}}, nil, 0},
		{"IPv4: onlink without a gateway", []RouteConfig{{Dst: pfx(dst4), Dev: "veth0", Onlink: true}}, nil, errno.EINVAL},
		{"IPv4: a next hop's onlink without a gateway", []RouteConfig{{Dst: pfx(dst4),
			Nexthops: []NexthopConfig{{Dev: "veth0", Onlink: true}, {Dev: "veth1", Via: addr("10.2.0.2")}}}}, nil, errno.EINVAL},
		{"IPv6: onlink without a gateway", []RouteConfig{{Dst: pfx(dst6), Dev: "veth0", Onlink: true}}, nil, 0},
		{"object: off the link", nil, []NexthopObjConfig{{ID: 1, Dev: "veth0", Via: addr("10.9.0.2")}}, errno.ENETUNREACH},
		{"object: onlink", []RouteConfig{{Dst: pfx(dst4), NHID: 1}}, []NexthopObjConfig{{ID: 1, Dev: "veth0", Via: addr("10.9.0.2"), Onlink: true}}, 0},
		{"object: onlink, a group of it", []RouteConfig{{Dst: pfx(dst4), NHID: 3}}, []NexthopObjConfig{
			{ID: 1, Dev: "veth0", Via: addr("10.9.0.2"), Onlink: true}, {ID: 2, Dev: "veth1", Via: addr("10.2.0.2")},
			{ID: 3, Group: []NexthopGroupMember{{ID: 1}, {ID: 2}}}}, 0},
		{"object: onlink without a gateway", nil, []NexthopObjConfig{{ID: 1, Dev: "veth0", Onlink: true}}, errno.EINVAL},
		{"object: IPv6 off the link", nil, []NexthopObjConfig{{ID: 1, Dev: "veth0", Via: addr("fd00:9::2")}}, errno.EHOSTUNREACH},
		{"object: IPv6 a local address", nil, []NexthopObjConfig{{ID: 1, Dev: "veth0", Via: addr("fd00:1::1")}}, errno.EINVAL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mark uint32
			cfg := rulesTopology(&mark)
			cfg.Routes = append(cfg.Routes, tc.routes...)
			cfg.NexthopObjects = tc.objs
			err := newStackErr(t, cfg, "")
			if tc.want == 0 {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.want)
			require.ErrorIs(t, err, ErrConfig)
			if tc.want == errno.EINVAL {
				require.NotErrorIs(t, err, errno.EHOSTUNREACH)
				require.NotErrorIs(t, err, errno.ENETUNREACH)
			}
			if tc.objs != nil {
				require.ErrorContains(t, err, "nexthop object 0")
			}
		})
	}
}

// TestGatewayRules: with policy rules a gateway check's full lookup walks
// them (fib_lookup, fib6_lookup) with a flow of the gateway and the
// device (IPv4: iif lo), so a link route of a table a rule names puts a
// gateway on the link, and an unreachable rule takes it off: for a route
// added (AddRoute), not for the configuration's, which come before its
// rules.
func TestGatewayRules(t *testing.T) {
	link4 := RouteConfig{Dst: pfx("10.9.0.0/16"), Dev: "veth0", Table: 100}
	link6 := RouteConfig{Dst: pfx("fd00:9::/64"), Dev: "veth0", Table: 100}
	via4 := RouteConfig{Dst: pfx("198.51.100.0/24"), Dev: "veth0", Via: addr("10.9.0.2")}
	via6 := RouteConfig{Dst: pfx("2001:db8:77::/64"), Dev: "veth0", Via: addr("fd00:9::2")}
	for _, tc := range []struct {
		name  string
		rules []RuleConfig
		route RouteConfig
		want  errno.Errno
	}{
		{"no rule to table 100", nil, via4, errno.ENETUNREACH},
		{"a rule to table 100", []RuleConfig{{Priority: 100, Table: 100}}, via4, 0},
		{"a fwmark rule to table 100", []RuleConfig{{Priority: 100, Table: 100, FwMark: 1}}, via4, errno.ENETUNREACH},
		{"an iif lo rule to table 100", []RuleConfig{{Priority: 100, Table: 100, IIF: "lo"}}, via4, 0},
		{"an oif rule to table 100", []RuleConfig{{Priority: 100, Table: 100, OIF: "veth0"}}, via4, 0},
		{"an oif rule of another device", []RuleConfig{{Priority: 100, Table: 100, OIF: "veth1"}}, via4, errno.ENETUNREACH},
		{"an unreachable rule before main", []RuleConfig{{Priority: 100, To: pfx("10.1.0.0/24"), Type: RuleUnreachable}},
			RouteConfig{Dst: pfx("198.51.100.0/24"), Dev: "veth0", Via: addr("10.1.0.2")}, errno.ENETUNREACH},
		{"a goto over the unreachable rule", []RuleConfig{{Priority: 50, Type: RuleGoto, Goto: 200},
			{Priority: 100, To: pfx("10.1.0.0/24"), Type: RuleUnreachable}, {Priority: 200, Table: 254}},
			RouteConfig{Dst: pfx("198.51.100.0/24"), Dev: "veth0", Via: addr("10.1.0.2")}, 0},
		{"a rule to table 100, suppress_prefixlength 16", []RuleConfig{{Priority: 100, Table: 100, Suppress: true, SuppressPrefixlen: 16}}, via4, errno.ENETUNREACH},
		{"a rule to table 100, suppress_prefixlength 15", []RuleConfig{{Priority: 100, Table: 100, Suppress: true, SuppressPrefixlen: 15}}, via4, 0},
		// fib6_rule_suppress passes nothing over for fib6_lookup.
		{"IPv6: a rule to table 100, suppress_prefixlength 64", []RuleConfig{{IPv6: true, Priority: 100, Table: 100, Suppress: true, SuppressPrefixlen: 64}},
			via6, 0},
		{"IPv6: a rule to table 100, suppress_prefixlength 63", []RuleConfig{{IPv6: true, Priority: 100, Table: 100, Suppress: true, SuppressPrefixlen: 63}},
			via6, 0},
		{"IPv6: no rule to table 100", nil, via6, errno.EHOSTUNREACH},
		{"IPv6: a rule to table 100", []RuleConfig{{IPv6: true, Priority: 100, Table: 100}}, via6, 0},
		{"IPv6: an iif lo rule does not match (no iif)", []RuleConfig{{IPv6: true, Priority: 100, Table: 100, IIF: "lo"}}, via6, errno.EHOSTUNREACH},
		// ip6_route_check_nh looks in the route's table, main, before
		// the rules; IPv4 walks them for a route of main.
		{"IPv6: a prohibit rule before main, main first", []RuleConfig{{IPv6: true, Priority: 100, To: pfx("fd00:1::/64"), Type: RuleProhibit}},
			RouteConfig{Dst: pfx("2001:db8:77::/64"), Dev: "veth0", Via: addr("fd00:1::2")}, 0},
		{"IPv6: a prohibit rule, a gateway only table 100 has", []RuleConfig{{IPv6: true, Priority: 100, To: pfx("fd00:9::/64"), Type: RuleProhibit},
			{IPv6: true, Priority: 200, Table: 100}}, via6, errno.EHOSTUNREACH},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mark uint32
			cfg := rulesTopology(&mark, tc.rules...)
			cfg.Routes = append(cfg.Routes, link4, link6)
			s, _ := newStack(t, cfg, "", nil, nil)
			err := s.Apply(Event{Op: RouteAdd, Route: tc.route})
			if tc.want == 0 {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.want)
		})
	}
	// The configuration's routes come before its rules: New checks
	// their gateways against local and main.
	var mark uint32
	cfg := rulesTopology(&mark, RuleConfig{Priority: 100, Table: 100})
	cfg.Routes = append(cfg.Routes, link4, via4)
	require.ErrorIs(t, newStackErr(t, cfg, ""), errno.ENETUNREACH)
	cfg = rulesTopology(&mark, RuleConfig{Priority: 100, To: pfx("10.1.0.0/24"), Type: RuleUnreachable})
	cfg.Routes = append(cfg.Routes, RouteConfig{Dst: pfx("198.51.100.0/24"), Dev: "veth0", Via: addr("10.1.0.2")})
	require.NoError(t, newStackErr(t, cfg, ""))
}

// TestDelAddrRoute: `ip route del` of an address's prefix route takes it
// and leaves the address; the device coming up again, or an address
// that makes the route (IPv6: any of the prefix; IPv4: the subnet's
// primary, not a secondary), brings it back.
func TestDelAddrRoute(t *testing.T) {
	var mark uint32
	s, _ := newStack(t, rulesTopology(&mark), "", nil, nil)
	has := func(dst string) bool {
		return slices.ContainsFunc(s.Netns(HostNetns).routes, func(r route) bool { return r.dst == pfx(dst) && r.dev.name == "veth1" })
	}
	del := func(dst string) { t.Helper(); require.NoError(t, s.DelRoute(RouteConfig{Dst: pfx(dst), Dev: "veth1"})) }
	require.True(t, has("10.2.0.0/24"))
	del("10.2.0.0/24")
	require.False(t, has("10.2.0.0/24"))
	require.True(t, s.Netns(HostNetns).Device("veth1").hasAddr(addr("10.2.0.1")), "the address stays")
	require.ErrorIs(t, s.DelRoute(RouteConfig{Dst: pfx("10.2.0.0/24"), Dev: "veth1"}), errno.ESRCH)
	// A secondary makes no prefix route.
	require.NoError(t, s.AddAddr(HostNetns, "veth1", pfx("10.2.0.9/24")))
	require.False(t, has("10.2.0.0/24"))
	// Down and up: fib_add_ifaddr for each address.
	require.NoError(t, s.SetLink(HostNetns, "veth1", LinkDown))
	require.NoError(t, s.SetLink(HostNetns, "veth1", LinkUp))
	require.True(t, has("10.2.0.0/24"))
	// A primary added anew makes it.
	del("10.2.0.0/24")
	require.NoError(t, s.DelAddr(HostNetns, "veth1", pfx("10.2.0.1/24")))
	require.NoError(t, s.AddAddr(HostNetns, "veth1", pfx("10.2.0.1/24")))
	require.True(t, has("10.2.0.0/24"))
	// IPv6: any address of the prefix makes it (veth1's went with the
	// device down: keep_addr_on_down 0).
	require.False(t, has("fd00:2::/64"))
	require.NoError(t, s.AddAddr(HostNetns, "veth1", pfx("fd00:2::1/64")))
	require.True(t, has("fd00:2::/64"))
	del("fd00:2::/64")
	require.False(t, has("fd00:2::/64"))
	require.NoError(t, s.AddAddr(HostNetns, "veth1", pfx("fd00:2::9/64")))
	require.True(t, has("fd00:2::/64"))
	// A route added in its place is the configuration's.
	del("fd00:2::/64")
	require.NoError(t, s.AddRoute(RouteConfig{Dst: pfx("fd00:2::/64"), Dev: "veth1", Metric: 256}))
	require.True(t, has("fd00:2::/64"))
}

// TestMultipathRevive: deleting a device's last IPv4 address marks the
// next hops through it dead (fib_sync_down_dev with force) and flushes
// the routes left without a live one; an IPv4 address added again, or
// the device coming up, revives the dead next hops (fib_sync_up).
func TestMultipathRevive(t *testing.T) {
	var mark uint32
	cfg := rulesTopology(&mark)
	cfg.Routes = append(cfg.Routes,
		RouteConfig{Dst: pfx("198.51.100.0/24"), Nexthops: []NexthopConfig{{Dev: "veth0", Via: addr("10.1.0.2")}, {Dev: "veth1", Via: addr("10.2.0.2")}}},
		RouteConfig{Dst: pfx("198.51.101.0/24"), Dev: "veth0", Via: addr("10.1.0.2")},
		RouteConfig{Dst: pfx("198.51.102.0/24"), Nexthops: []NexthopConfig{{Dev: "veth0", Via: addr("10.1.0.2")}, {Dev: "veth0", Via: addr("10.1.0.3")}}})
	s, _ := newStack(t, cfg, "", nil, nil)
	uppers := func(dst string) []int32 {
		for _, r := range s.Netns(HostNetns).routes {
			if r.dst == pfx(dst) {
				var u []int32
				for _, nh := range r.paths {
					u = append(u, nh.upper)
				}
				if u == nil {
					u = []int32{0}
				}
				return u
			}
		}
		return nil
	}
	both := uppers("198.51.100.0/24")
	require.Len(t, both, 2)
	require.NotEqual(t, int32(-1), both[0])
	require.NoError(t, s.DelAddr(HostNetns, "veth0", pfx("10.1.0.1/24")))
	require.Equal(t, []int32{-1, 1<<31 - 1}, uppers("198.51.100.0/24"), "the path through veth0 dead, veth1's takes every hash")
	require.Nil(t, uppers("198.51.101.0/24"), "the route through veth0 alone flushed")
	require.Nil(t, uppers("198.51.102.0/24"), "the multipath route through veth0 alone flushed")
	require.NoError(t, s.AddAddr(HostNetns, "veth0", pfx("10.1.0.1/24")))
	require.Equal(t, both, uppers("198.51.100.0/24"), "revived")
	require.Nil(t, uppers("198.51.101.0/24"), "a flushed route stays gone")
	require.Nil(t, uppers("198.51.102.0/24"), "a flushed multipath route stays gone")
	// NETDEV_UP revives too.
	require.NoError(t, s.DelAddr(HostNetns, "veth0", pfx("10.1.0.1/24")))
	require.NoError(t, s.SetLink(HostNetns, "veth0", LinkDown))
	require.NoError(t, s.SetLink(HostNetns, "veth0", LinkUp))
	require.Equal(t, both, uppers("198.51.100.0/24"), "revived by NETDEV_UP")
}

// TestMultipathDeadFlushed: a multipath route whose last live next hop
// goes (its device down) while the other is dead is flushed for good
// (fib_sync_down_dev, fib_flush): an address on the dead one's device
// does not bring it back.
func TestMultipathDeadFlushed(t *testing.T) {
	var mark uint32
	cfg := rulesTopology(&mark)
	cfg.Routes = append(cfg.Routes,
		RouteConfig{Dst: pfx("198.51.100.0/24"), Nexthops: []NexthopConfig{{Dev: "veth0", Via: addr("10.1.0.2")}, {Dev: "veth1", Via: addr("10.2.0.2")}}})
	s, _ := newStack(t, cfg, "", nil, nil)
	has := func() bool {
		return slices.ContainsFunc(s.Netns(HostNetns).routes, func(r route) bool { return r.dst == pfx("198.51.100.0/24") })
	}
	require.NoError(t, s.DelAddr(HostNetns, "veth0", pfx("10.1.0.1/24")))
	require.True(t, has())
	require.NoError(t, s.SetLink(HostNetns, "veth1", LinkDown))
	require.False(t, has())
	require.NoError(t, s.AddAddr(HostNetns, "veth0", pfx("10.1.0.1/24")))
	require.NoError(t, s.SetLink(HostNetns, "veth1", LinkUp))
	require.False(t, has(), "flushed for good")
}
