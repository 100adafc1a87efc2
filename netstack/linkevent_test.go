package netstack

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/internal/errno"
)

type linkStep struct {
	ns, dev string
	op      EventOp
	e       Event // an event to Apply, when op is ""
}

// linkOutcome is ruleOutcome after steps: where a datagram from src to
// dst, entering at eth0, ends.
func linkOutcome(t *testing.T, cfg *Config, steps []linkStep, src, dst string) string {
	t.Helper()
	return stepOutcome(t, cfg, steps, src, dst, false)
}

// stepOutcome is linkOutcome; with where, a drop outside the host
// namespace is named with its namespace ("REASON@NS").
func stepOutcome(t *testing.T, cfg *Config, steps []linkStep, src, dst string, where bool) string {
	t.Helper()
	var at string
	defer notingArrival(cfg, &at)()
	s, te := newStack(t, cfg, "", nil, nil)
	for _, st := range steps {
		if st.op == "" {
			require.NoError(t, s.Apply(st.e), "%v", st.e)
			continue
		}
		require.NoError(t, s.SetLink(st.ns, st.dev, st.op), "%v", st)
	}
	var f []byte
	if addr(dst).Is6() {
		f = buildFrame6(frame6{dstMAC: macNIC, srcMAC: macB, src: src, dst: dst, dport: 2000, payload: 10})
	} else {
		f = buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: src, dst: dst, sport: 1000, dport: 2000, payload: 10})
	}
	if err := s.Inject(&Packet{ID: 1, Frame: f}); err != nil {
		require.ErrorIs(t, err, ErrNoLink)
		return "no link"
	}
	s.Flush()
	if got := endOf(te, cfg); got != "" {
		if where && len(te.obs.drops) != 0 && te.obs.drops[0].Netns != s.Netns(HostNetns).ID() {
			d := te.obs.drops[0]
			for _, n := range s.nss {
				if n.ID() == d.Netns {
					got += "@" + n.Name()
				}
			}
		}
		return got
	}
	return at
}

// TestSetLink: what a packet meets after devices of rulesTopology went
// down, up, or lost carrier (TestKernelLinkEvents measures the same
// rules on 6.18): B is behind veth0 (the main table's default route), C
// behind veth1.
func TestSetLink(t *testing.T) {
	down := func(ns, dev string) linkStep { return linkStep{ns: ns, dev: dev, op: LinkDown} }
	up := func(ns, dev string) linkStep { return linkStep{ns: ns, dev: dev, op: LinkUp} }
	wrong := [6]byte{2, 0, 0, 0, 5, 9}
	for _, tc := range []struct {
		name  string
		mod   func(*Config)
		steps []linkStep
		dst   string
		want  string
	}{
		{"no events", nil, nil, "203.0.113.5", "b"},
		{"veth0 down: its routes go", nil, []linkStep{down("", "veth0")}, "203.0.113.5", "IP_INNOROUTES"},
		{"veth0 down and up: they do not come back", nil, []linkStep{down("", "veth0"), up("", "veth0")}, "203.0.113.5", "IP_INNOROUTES"},
		{"veth0 down and up: its prefix route does", nil, []linkStep{down("", "veth0"), up("", "veth0")}, "10.1.0.2", "b"},
		{"veth0 down: its prefix route goes", nil, []linkStep{down("", "veth0")}, "10.1.0.2", "IP_INNOROUTES"},
		{"veth0 down: its address stays local", nil, []linkStep{down("", "veth0")}, "10.1.0.1", "NO_SOCKET"},
		{"a local route through veth0", func(c *Config) {
			c.Routes = append(c.Routes, RouteConfig{Dst: pfx("198.51.100.0/24"), Dev: "veth0", Type: RouteLocal})
		}, nil, "198.51.100.5", "NO_SOCKET"},
		{"veth0 down: a local route stays", func(c *Config) {
			c.Routes = append(c.Routes, RouteConfig{Dst: pfx("198.51.100.0/24"), Dev: "veth0", Type: RouteLocal})
		}, []linkStep{down("", "veth0")}, "198.51.100.5", "NO_SOCKET"},
		{"veth0's broadcast address", nil, nil, "10.1.0.255", "NOT_SPECIFIED"},
		{"veth0 down: its broadcast route goes", nil, []linkStep{down("", "veth0")}, "10.1.0.255", "IP_INNOROUTES"},
		{"vB down: veth0 without carrier", nil, []linkStep{down("B", "vB")}, "203.0.113.5", "QDISC_DROP"},
		{"vB down and up", nil, []linkStep{down("B", "vB"), up("B", "vB")}, "203.0.113.5", "b"},
		{"eth0 carrier off: no frame comes in", nil, []linkStep{{ns: "", dev: "eth0", op: CarrierOff}}, "203.0.113.5", "no link"},
		{"eth0 carrier off and on", nil, []linkStep{{ns: "", dev: "eth0", op: CarrierOff}, {ns: "", dev: "eth0", op: CarrierOn}}, "203.0.113.5", "b"},
		{"eth0 down and up", nil, []linkStep{down("", "eth0"), up("", "eth0")}, "203.0.113.5", "b"},
		{"twice down is once", nil, []linkStep{down("", "veth0"), down("", "veth0"), up("", "veth0")}, "10.1.0.2", "b"},
		{"a permanent neighbour with another address", func(c *Config) {
			c.Neighbours = []NeighConfig{{Dev: "veth0", Addr: addr("10.1.0.2"), MAC: wrong}}
		}, nil, "10.1.0.2", "OTHERHOST"},
		{"veth0 down and up flushes it", func(c *Config) {
			c.Neighbours = []NeighConfig{{Dev: "veth0", Addr: addr("10.1.0.2"), MAC: wrong}}
		}, []linkStep{down("", "veth0"), up("", "veth0")}, "10.1.0.2", "b"},
		{"carrier loss keeps it", func(c *Config) {
			c.Neighbours = []NeighConfig{{Dev: "veth0", Addr: addr("10.1.0.2"), MAC: wrong}}
		}, []linkStep{down("B", "vB"), up("B", "vB")}, "10.1.0.2", "OTHERHOST"},
		{"carrier loss flushes a reachable one", func(c *Config) {
			c.Neighbours = []NeighConfig{{Dev: "veth0", Addr: addr("10.1.0.2"), MAC: wrong, State: NeighReachable}}
		}, []linkStep{down("B", "vB"), up("B", "vB")}, "10.1.0.2", "b"},
		{"a nexthop object through veth1", func(c *Config) {
			c.NexthopObjects = []NexthopObjConfig{{ID: 1, Dev: "veth1", Via: addr("10.2.0.2")}}
			c.Routes = append(c.Routes, RouteConfig{Dst: pfx("203.0.113.0/24"), NHID: 1})
		}, nil, "203.0.113.5", "c"},
		{"carrier loss removes it for good", func(c *Config) {
			c.NexthopObjects = []NexthopObjConfig{{ID: 1, Dev: "veth1", Via: addr("10.2.0.2")}}
			c.Routes = append(c.Routes, RouteConfig{Dst: pfx("203.0.113.0/24"), NHID: 1})
		}, []linkStep{down("C", "vC"), up("C", "vC")}, "203.0.113.5", "b"},
		{"a group keeps its other member", func(c *Config) {
			c.NexthopObjects = []NexthopObjConfig{{ID: 1, Dev: "veth1", Via: addr("10.2.0.2")}, {ID: 2, Dev: "veth1", Via: addr("10.2.0.2")},
				{ID: 3, Dev: "eth0", Via: addr("192.0.2.7")}, {ID: 10, Group: []NexthopGroupMember{{ID: 1}, {ID: 3}}}}
			c.Routes = append(c.Routes, RouteConfig{Dst: pfx("203.0.113.0/24"), NHID: 10}, RouteConfig{Dst: pfx("203.0.113.0/25"), NHID: 2})
		}, []linkStep{down("", "veth1"), up("", "veth1")}, "203.0.113.200", "NEIGH_FAILED"},
		{"a multipath route loses a path", func(c *Config) {
			c.Routes = append(c.Routes, RouteConfig{Dst: pfx("203.0.113.0/24"), Nexthops: []NexthopConfig{{Dev: "veth0", Via: addr("10.1.0.2")},
				{Dev: "veth1", Via: addr("10.2.0.2")}}})
		}, []linkStep{down("", "veth1")}, "203.0.113.5", "b"},
		{"and its other path", func(c *Config) {
			c.Routes = append(c.Routes, RouteConfig{Dst: pfx("203.0.113.0/24"), Nexthops: []NexthopConfig{{Dev: "veth1", Via: addr("10.2.0.2")},
				{Dev: "veth0", Via: addr("10.1.0.2")}}})
		}, []linkStep{down("", "veth0")}, "203.0.113.5", "c"},
		{"all its paths: gone for good", func(c *Config) {
			c.Routes = append(c.Routes[1:], RouteConfig{Dst: pfx("203.0.113.0/24"), Nexthops: []NexthopConfig{{Dev: "veth1", Via: addr("10.2.0.2")},
				{Dev: "veth0", Via: addr("10.1.0.2")}}})
		}, []linkStep{down("", "veth0"), down("", "veth1"), up("", "veth0"), up("", "veth1")}, "203.0.113.5", "IP_INNOROUTES"},
		{"IPv6: no events", nil, nil, "fd00:2::2", "c6"},
		{"IPv6: no events, B", nil, nil, "2001:db8:99::5", "b6"},
		{"IPv6: veth1's address is deleted", nil, []linkStep{down("", "veth1")}, "fd00:2::1", "IP_INADDRERRORS"},
		{"IPv6: and stays deleted", nil, []linkStep{down("", "veth1"), up("", "veth1")}, "fd00:2::1", "IP_INADDRERRORS"},
		{"IPv6, keep_addr_on_down: kept, not local while down", func(c *Config) {
			c.Namespaces[0].KeepAddrOnDown = 1
		}, []linkStep{down("", "veth1")}, "fd00:2::1", "IP_INADDRERRORS"},
		{"IPv6, keep_addr_on_down: local again", func(c *Config) {
			c.Namespaces[0].KeepAddrOnDown = 1
		}, []linkStep{down("", "veth1"), up("", "veth1")}, "fd00:2::1", "NO_SOCKET"},
		{"IPv6, the device's -1 wins", func(c *Config) {
			c.Namespaces[0].KeepAddrOnDown = 1
			c.Devices[2].KeepAddrOnDown = -1
		}, []linkStep{down("", "veth1"), up("", "veth1")}, "fd00:2::1", "IP_INADDRERRORS"},
		{"IPv6, the device's own", func(c *Config) {
			c.Devices[2].KeepAddrOnDown = 1
		}, []linkStep{down("", "veth1"), up("", "veth1")}, "fd00:2::1", "NO_SOCKET"},
		{"IPv6: its prefix route does not come back", nil, []linkStep{down("", "veth1"), up("", "veth1")}, "fd00:2::2", "IP_INADDRERRORS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mark uint32
			cfg := rulesTopology(&mark)
			cfg.Programs = nil
			if tc.mod != nil {
				tc.mod(cfg)
			}
			src := "192.0.2.9"
			if addr(tc.dst).Is6() {
				src = "2001:db8:1::9"
				// B, which does not forward, has a default route: what
				// reaches it for another address is IP_INADDRERRORS.
				cfg.Routes = append(cfg.Routes, RouteConfig{Netns: "B", Dst: pfx("::/0"), Dev: "vB", Via: addr("fd00:1::1")})
			}
			require.Equal(t, tc.want, linkOutcome(t, cfg, tc.steps, src, tc.dst))
		})
	}
}

// TestSetLinkErrors: the changes SetLink refuses, with EOPNOTSUPP.
func TestSetLinkErrors(t *testing.T) {
	var mark uint32
	cfg := rulesTopology(&mark)
	cfg.Devices = append(cfg.Devices, DeviceConfig{Name: "vx0", Kind: KindVXLAN, VNI: 5, Local: addr("192.0.2.1"), Remote: addr("192.0.2.2")})
	s, _ := newStack(t, cfg, "", nil, nil)
	for _, tc := range []struct {
		ns, dev string
		op      EventOp
		want    string
	}{
		{"", "lo", LinkDown, "lo are not modelled"},
		{"", "vx0", LinkDown, "vxlan devices are not modelled"},
		{"", "veth0", CarrierOff, "EOPNOTSUPP"},
		{"", "veth0", "sideways", "want up, down"},
	} {
		err := s.SetLink(tc.ns, tc.dev, tc.op)
		require.ErrorIs(t, err, ErrLink)
		require.ErrorIs(t, err, errno.EOPNOTSUPP)
		require.ErrorContains(t, err, tc.want)
	}
	for _, tc := range []struct{ ns, dev string }{{"", "nope"}, {"nope", "veth0"}} {
		err := s.SetLink(tc.ns, tc.dev, LinkDown)
		require.ErrorIs(t, err, ErrNoDevice)
		require.ErrorIs(t, err, errno.ENODEV)
	}
	require.NoError(t, s.SetLink("", "veth0", LinkUp), "up when up does nothing")
	require.NoError(t, s.SetLink("", "eth0", CarrierOn))
	require.NoError(t, s.Close())
	require.True(t, errors.Is(s.SetLink("", "veth0", LinkDown), ErrConfig), "after close")
}

// TestSetLinkBridge: a port that is disabled, by going down, losing
// carrier or its bridge going down, loses the entries learnt on it
// (br_fdb_delete_by_port); static entries stay.
func TestSetLinkBridge(t *testing.T) {
	m1, m2, m3 := [6]byte{2, 0, 0, 0, 1, 1}, [6]byte{2, 0, 0, 0, 1, 2}, [6]byte{2, 0, 0, 0, 1, 3}
	for _, tc := range []struct {
		name   string
		step   linkStep
		p0, p1 []bool // m1 (learnt), m2 (static) on p0; m3 (learnt) on p1
	}{
		{"p0 down", linkStep{ns: "", dev: "p0", op: LinkDown}, []bool{false, true}, []bool{true}},
		{"p0's peer down", linkStep{ns: "", dev: "p0p", op: LinkDown}, []bool{false, true}, []bool{true}},
		{"bridge down", linkStep{ns: "", dev: "br0", op: LinkDown}, []bool{false, true}, []bool{false}},
		{"bridge up", linkStep{ns: "", dev: "br0", op: LinkUp}, []bool{true, true}, []bool{true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &Config{
				Devices: []DeviceConfig{{Name: "br0", Kind: KindBridge}, {Name: "p0", Kind: KindVeth, Peer: "p0p", Master: "br0"},
					{Name: "p1", Kind: KindVeth, Peer: "p1p", Master: "br0"}},
				FDB:     []FDBConfig{{Dev: "p0", MAC: m2}},
				Entries: []EntryConfig{{Dev: "p0p"}},
			}
			s, _ := newStack(t, cfg, "", nil, nil)
			br, p0, p1 := s.Device("", "br0"), s.Device("", "p0"), s.Device("", "p1")
			br.fdbLearn(m1, 0, p0)
			br.fdbLearn(m3, 0, p1)
			require.NoError(t, s.SetLink(tc.step.ns, tc.step.dev, tc.step.op))
			require.Equal(t, tc.p0, []bool{br.fdbFind(m1, 0) == p0, br.fdbFind(m2, 0) == p0})
			require.Equal(t, tc.p1, []bool{br.fdbFind(m3, 0) == p1})
		})
	}
}

// TestSetLinkAddrs: keep_addr_on_down keeps the permanent IPv6
// addresses but link-local ones; IPv4 addresses always stay.
func TestSetLinkAddrs(t *testing.T) {
	cfg := &Config{
		Namespaces: []NamespaceConfig{{Name: HostNetns, KeepAddrOnDown: 1}},
		Devices: []DeviceConfig{{Name: "v0", Kind: KindVeth, Peer: "v1",
			Addrs: []netip.Prefix{pfx("192.0.2.1/24"), pfx("fe80::1/64"), pfx("2001:db8::1/64")}}},
		Entries: []EntryConfig{{Dev: "v1"}},
	}
	s, _ := newStack(t, cfg, "", nil, nil)
	require.NoError(t, s.SetLink("", "v0", LinkDown))
	require.Equal(t, []netip.Prefix{pfx("192.0.2.1/24"), pfx("2001:db8::1/64")}, s.Device("", "v0").addrs)
	ns := s.Netns(HostNetns)
	require.False(t, ns.isLocalSlow(addr("2001:db8::1")), "kept, without its local route")
	require.True(t, ns.isLocalSlow(addr("192.0.2.1")))
	require.NoError(t, s.SetLink("", "v0", LinkUp))
	require.True(t, ns.isLocalSlow(addr("2001:db8::1")))
	require.False(t, ns.isLocalSlow(addr("fe80::1")))
}

// eventTopology is rulesTopology without programs, where B, which does
// not forward, has default routes back to the host: what reaches it for
// another address is IP_INADDRERRORS there.
func eventTopology() *Config {
	var mark uint32
	cfg := rulesTopology(&mark)
	cfg.Programs = nil
	cfg.Routes = append(cfg.Routes, RouteConfig{Netns: "B", Dst: pfx("::/0"), Dev: "vB", Via: addr("fd00:1::1")},
		RouteConfig{Netns: "B", Dev: "vB", Via: addr("10.1.0.1")})
	return cfg
}

// eventOutcome is linkOutcome, from eth0's network of dst's family, after
// events (Stack.Apply), each of which must succeed; a drop outside the
// host is named with its namespace.
func eventOutcome(t *testing.T, cfg *Config, events []Event, dst string) string {
	t.Helper()
	src := "192.0.2.9"
	if addr(dst).Is6() {
		src = "2001:db8:1::9"
	}
	steps := make([]linkStep, len(events))
	for i, e := range events {
		steps[i] = linkStep{e: e}
	}
	return stepOutcome(t, cfg, steps, src, dst, true)
}

// TestAddrRouteEvents: addresses and routes added and deleted while the
// stack runs (rulesTopology: B behind veth0, the main table's default
// route; C behind veth1).
func TestAddrRouteEvents(t *testing.T) {
	add := func(dev, p string) Event { return Event{Dev: dev, Op: AddrAdd, Addr: pfx(p)} }
	del := func(dev, p string) Event { return Event{Dev: dev, Op: AddrDel, Addr: pfx(p)} }
	radd := func(r RouteConfig) Event { return Event{Op: RouteAdd, Route: r} }
	rdel := func(r RouteConfig) Event { return Event{Op: RouteDel, Route: r} }
	for _, tc := range []struct {
		name   string
		events []Event
		dst    string
		want   string
	}{
		{"an address of nobody's", nil, "198.51.100.1", "IP_INADDRERRORS@B"},
		{"added: local", []Event{add("veth0", "198.51.100.1/24")}, "198.51.100.1", "NO_SOCKET"},
		{"added: its prefix route", []Event{add("veth1", "198.51.100.1/24")}, "198.51.100.9", "NEIGH_FAILED"},
		{"deleted: not local", []Event{add("veth0", "10.1.1.1/24"), del("veth0", "10.1.0.1/24")}, "10.1.0.1", "IP_INADDRERRORS@B"},
		{"deleted: the gateway route stays", []Event{add("veth0", "10.1.1.1/24"), del("veth0", "10.1.0.1/24")}, "203.0.113.5", "b"},
		{"the last IPv4 address deleted: the routes through the device go", []Event{del("veth0", "10.1.0.1/24")}, "203.0.113.5", "IP_INNOROUTES"},
		{"and a multipath route's path", []Event{radd(RouteConfig{Dst: pfx("203.0.113.0/24"), Nexthops: []NexthopConfig{{Dev: "veth0", Via: addr("10.1.0.2")},
			{Dev: "veth1", Via: addr("10.2.0.2")}}}), del("veth0", "10.1.0.1/24")}, "203.0.113.5", "c"},
		{"and its IPv4 neighbours (a permanent one with another address here)", []Event{del("veth0", "10.1.0.1/24"), add("veth0", "10.1.0.1/24")},
			"10.1.0.2", "b"},
		{"the neighbour stays without the deletion", []Event{add("veth0", "10.1.1.1/24"), del("veth0", "10.1.1.1/24")}, "10.1.0.2", "OTHERHOST@B"},
		{"a secondary goes with its primary", []Event{add("veth0", "10.1.1.1/24"), add("veth0", "10.1.0.5/24"), del("veth0", "10.1.0.1/24")},
			"10.1.0.5", "IP_INADDRERRORS@B"},
		{"promote_secondaries: the secondary stays, the primary now", []Event{add("veth1", "10.1.0.7/24"), add("veth0", "10.1.0.5/24"), add("veth0", "10.1.0.6/24"),
			del("veth0", "10.1.0.1/24")}, "10.1.0.6", "NO_SOCKET"},
		{"the device's promote_secondaries", []Event{add("veth0", "10.1.0.5/24"), del("veth0", "10.1.0.1/24"), del("veth0", "10.1.0.5/24")},
			"10.1.0.2", "IP_INNOROUTES"},
		{"promote_secondaries: the routes stay", []Event{add("veth0", "10.1.0.5/24"), del("veth0", "10.1.0.1/24")}, "203.0.113.5", "b"},
		{"a primary stays without its secondary", []Event{add("veth0", "10.1.0.5/24"), del("veth0", "10.1.0.5/24")}, "10.1.0.1", "NO_SOCKET"},
		{"another subnet is no secondary", []Event{add("veth0", "10.1.1.5/24"), del("veth0", "10.1.0.1/24")}, "10.1.1.5", "NO_SOCKET"},
		{"IPv6 added", []Event{add("veth1", "2001:db8:7::1/64")}, "2001:db8:7::1", "NO_SOCKET"},
		{"IPv6 deleted", []Event{del("veth1", "fd00:2::1/64")}, "fd00:2::2", "IP_INADDRERRORS@B"},
		{"a route added", []Event{radd(RouteConfig{Dst: pfx("203.0.113.0/24"), Dev: "veth1", Via: addr("10.2.0.2")})}, "203.0.113.5", "c"},
		{"a route added and deleted", []Event{radd(RouteConfig{Dst: pfx("203.0.113.0/24"), Dev: "veth1", Via: addr("10.2.0.2")}),
			rdel(RouteConfig{Dst: pfx("203.0.113.0/24")})}, "203.0.113.5", "b"},
		{"the default route deleted", []Event{rdel(RouteConfig{Dev: "veth0"})}, "203.0.113.5", "IP_INNOROUTES"},
		{"a blackhole added", []Event{radd(RouteConfig{Dst: pfx("203.0.113.0/24"), Type: RouteBlackhole})}, "203.0.113.5", "NOT_SPECIFIED"},
		{"a local route added", []Event{radd(RouteConfig{Dst: pfx("203.0.113.0/24"), Dev: "lo", Type: RouteLocal})}, "203.0.113.5", "NO_SOCKET"},
		{"an IPv6 route added", []Event{radd(RouteConfig{Dst: pfx("2001:db8:99::/64"), Dev: "veth1", Via: addr("fd00:2::2")})}, "2001:db8:99::5", "c6"},
		{"a route in table 100 deleted", []Event{rdel(RouteConfig{Table: 100, Dev: "veth1"})}, "203.0.113.5", "b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := eventTopology()
			switch {
			case strings.HasPrefix(tc.name, "promote_secondaries"):
				cfg.Namespaces[0].PromoteSecondaries = true
			case strings.HasPrefix(tc.name, "the device's promote_secondaries"):
				cfg.Devices[1].PromoteSecondaries = true
			}
			if strings.Contains(tc.name, "neighbour") {
				cfg.Neighbours = []NeighConfig{{Dev: "veth0", Addr: addr("10.1.0.2"), MAC: [6]byte{2, 0, 0, 0, 5, 9}}}
			}
			require.Equal(t, tc.want, eventOutcome(t, cfg, tc.events, tc.dst))
		})
	}
}

// TestAddrRouteEventErrors: the events the kernel refuses, with its
// errno.
func TestAddrRouteEventErrors(t *testing.T) {
	var mark uint32
	cfg := rulesTopology(&mark)
	cfg.Programs = nil
	s, _ := newStack(t, cfg, "", nil, nil)
	for _, tc := range []struct {
		name string
		e    Event
		want error
	}{
		{"address there", Event{Dev: "veth0", Op: AddrAdd, Addr: pfx("10.1.0.1/24")}, errno.EEXIST},
		{"IPv6 address there, another length", Event{Dev: "veth1", Op: AddrAdd, Addr: pfx("fd00:2::1/80")}, errno.EEXIST},
		{"no such address", Event{Dev: "veth0", Op: AddrDel, Addr: pfx("10.1.0.9/24")}, errno.EADDRNOTAVAIL},
		{"the address of another length", Event{Dev: "veth0", Op: AddrDel, Addr: pfx("10.1.0.1/16")}, errno.EADDRNOTAVAIL},
		{"no such device", Event{Dev: "nope", Op: AddrAdd, Addr: pfx("10.1.0.9/24")}, errno.ENODEV},
		{"a connected prefix", Event{Op: RouteAdd, Route: RouteConfig{Dst: pfx("10.1.0.0/24"), Dev: "veth1"}}, errno.EEXIST},
		{"the default route", Event{Op: RouteAdd, Route: RouteConfig{Dev: "veth1", Via: addr("10.2.0.2")}}, errno.EEXIST},
		{"a throw route there", Event{Op: RouteAdd, Route: RouteConfig{Dst: pfx("203.0.113.99/32"), Type: RouteBlackhole}}, errno.EEXIST},
		{"an address's local route", Event{Op: RouteAdd, Route: RouteConfig{Dst: pfx("10.1.0.1/32"), Dev: "lo", Type: RouteLocal}}, errno.EEXIST},
		{"no such route", Event{Op: RouteDel, Route: RouteConfig{Dst: pfx("198.51.100.0/24")}}, errno.ESRCH},
		{"another gateway", Event{Op: RouteDel, Route: RouteConfig{Via: addr("10.1.0.9")}}, errno.ESRCH},
		{"an address's local route deleted", Event{Op: RouteDel, Route: RouteConfig{Dst: pfx("10.1.0.1/32"), Type: RouteLocal}}, errno.EOPNOTSUPP},
		{"through an unknown device", Event{Op: RouteAdd, Route: RouteConfig{Dst: pfx("198.51.100.0/24"), Dev: "nope"}}, errno.ENODEV},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.ErrorIs(t, s.Apply(tc.e), tc.want)
		})
	}
	// A route through a device that is down: ENETDOWN.
	require.NoError(t, s.SetLink("", "veth1", LinkDown))
	require.ErrorIs(t, s.AddRoute(RouteConfig{Dst: pfx("198.51.100.0/24"), Dev: "veth1"}), errno.ENETDOWN)
	// An IPv6 route of metric 1024 beside the connected prefix (256).
	require.NoError(t, s.AddRoute(RouteConfig{Dst: pfx("fd00:1::/64"), Dev: "veth0"}))
	require.ErrorIs(t, s.AddRoute(RouteConfig{Dst: pfx("fd00:1::/64"), Dev: "veth0"}), errno.EEXIST)
}

// TestEventString: an event as the command that makes it.
func TestEventString(t *testing.T) {
	for _, tc := range []struct {
		e    Event
		want string
	}{
		{Event{Dev: "eth0", Op: LinkDown}, "ip -n host link set eth0 down"},
		{Event{Netns: "c", Dev: "eth0", Op: CarrierOff}, "ip -n c link set eth0 carrier off"},
		{Event{Dev: "eth0", Op: AddrAdd, Addr: pfx("10.0.0.1/24")}, "ip -n host addr add 10.0.0.1/24 dev eth0"},
		{Event{Op: RouteDel, Route: RouteConfig{Netns: "c", Dev: "eth0", Via: addr("10.0.0.2")}}, "ip -n c route del default via 10.0.0.2 dev eth0"},
		{Event{Op: RouteAdd, Route: RouteConfig{Dst: pfx("10.9.0.0/16"), Type: RouteBlackhole, Table: 100}}, "ip -n host route add blackhole 10.9.0.0/16 table 100"},
		{Event{Op: RouteAdd, Route: RouteConfig{Dst: pfx("10.9.0.0/16"), Nexthops: []NexthopConfig{{Dev: "a", Via: addr("10.0.0.1")}, {Dev: "b"}}}},
			"ip -n host route add 10.9.0.0/16 nexthop via 10.0.0.1 dev a nexthop dev b"},
	} {
		require.Equal(t, tc.want, tc.e.String())
	}
}

// TestSetMTU: ip link set DEV mtu N while the stack runs (mtuevent.go;
// TestKernelMTUEvents measures the packets' side on 6.18).
func TestSetMTU(t *testing.T) {
	mtu := func(dev string, n int) Event { return Event{Dev: dev, Op: MTU, MTU: n} }
	for _, tc := range []struct {
		name   string
		events []Event
		dst    string
		want   string
	}{
		{"no events", nil, "fd00:2::2", "c6"},
		{"below 1280: no IPv6 on veth1", []Event{mtu("veth1", 1200)}, "fd00:2::2", "IP_INADDRERRORS@B"},
		{"its address goes", []Event{mtu("veth1", 1200)}, "fd00:2::1", "IP_INADDRERRORS@B"},
		{"and does not come back", []Event{mtu("veth1", 1200), mtu("veth1", 1500)}, "fd00:2::1", "IP_INADDRERRORS@B"},
		{"IPv4 stays", []Event{mtu("veth1", 1200)}, "10.2.0.2", "c"},
		{"no IPv6 on eth0: what arrives is dropped", []Event{mtu("eth0", 1200)}, "fd00:2::2", "NOT_SPECIFIED"},
		{"1280 keeps it", []Event{mtu("veth1", 1280)}, "fd00:2::2", "c6"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, eventOutcome(t, eventTopology(), tc.events, tc.dst))
		})
	}
}

// TestSetMTURoutes: rt6_mtu_change_route on the mtu metrics of IPv6
// routes through the device, IPv4's left alone; the refusals.
func TestSetMTURoutes(t *testing.T) {
	var mark uint32
	cfg := rulesTopology(&mark)
	cfg.Programs = nil
	cfg.Routes = append(cfg.Routes,
		RouteConfig{Dst: pfx("2001:db8:a::/48"), Dev: "veth1", Via: addr("fd00:2::2"), MTU: 1450},
		RouteConfig{Dst: pfx("2001:db8:b::/48"), Dev: "veth1", Via: addr("fd00:2::2"), MTU: 1300},
		RouteConfig{Dst: pfx("2001:db8:c::/48"), Dev: "veth1", Via: addr("fd00:2::2"), MTU: 1450, MTULock: true},
		RouteConfig{Dst: pfx("2001:db8:d::/48"), Dev: "veth0", Via: addr("fd00:1::2"), MTU: 1450},
		RouteConfig{Dst: pfx("198.51.100.0/24"), Dev: "veth1", Via: addr("10.2.0.2"), MTU: 1450})
	s, _ := newStack(t, cfg, "", nil, nil)
	metrics := func() []int {
		var out []int
		for _, rc := range s.cfg.Routes[len(s.cfg.Routes)-5:] {
			out = append(out, rc.MTU)
		}
		return out
	}
	require.NoError(t, s.SetMTU("", "veth1", 1400))
	require.Equal(t, []int{1400, 1300, 1450, 1450, 1450}, metrics(), "down to 1400: a metric above it follows, a locked one does not")
	require.NoError(t, s.SetMTU("", "veth1", 1600))
	require.Equal(t, []int{1600, 1300, 1450, 1450, 1450}, metrics(), "up: a metric that was the old MTU follows")
	require.Equal(t, 1600, s.Device("", "veth1").mtu)
	for _, n := range []int{67, 65536} {
		err := s.SetMTU("", "veth1", n)
		require.ErrorIs(t, err, ErrConfig)
		require.ErrorIs(t, err, errno.EINVAL)
	}
	require.ErrorIs(t, s.SetMTU("", "nope", 1500), ErrNoDevice)
	require.NoError(t, s.Apply(Event{Dev: "veth1", Op: MTU, MTU: 1600}), "the same MTU does nothing")
	require.Equal(t, "ip -n host link set veth1 mtu 1500", Event{Dev: "veth1", Op: MTU, MTU: 1500}.String())
}

// TestSetMTUXDPPeer: a veth whose peer runs native XDP takes no MTU above
// the one veth_xdp_set allows it.
func TestSetMTUXDPPeer(t *testing.T) {
	cfg := &Config{
		Devices:  []DeviceConfig{{Name: "v0", Kind: KindVeth, Peer: "v1", PeerXDP: "native"}},
		Programs: []ProgramConfig{{Name: "x", Hook: carrier.HookXDP, Dev: "v1", Prog: ProgramFunc(func(*Ctx) int { return XDPPass })}},
		Entries:  []EntryConfig{{Dev: "v1"}},
	}
	s, _ := newStack(t, cfg, "", nil, nil)
	require.NoError(t, s.SetMTU("", "v0", 3000))
	require.ErrorIs(t, s.SetMTU("", "v0", 4000), ErrConfig)
	require.NoError(t, s.SetMTU("", "v1", 9000), "the end with the program has no limit")
}

// TestSetMTUTooBig: an IPv6 packet above veth1's new MTU is answered
// with packet too big and dropped on the output device (ip6_forward sets
// skb->dev to it first), IPv4 with DF on the input's side
// (TestKernelMTUEvents measures both).
func TestSetMTUTooBig(t *testing.T) {
	var mark uint32
	cfg := rulesTopology(&mark)
	cfg.Programs = nil
	cfg.Routes = append(cfg.Routes, RouteConfig{Dst: pfx("2001:db8:99::/64"), Dev: "veth1", Via: addr("fd00:2::2")})
	s, te := newStack(t, cfg, "", nil, nil)
	require.NoError(t, s.SetMTU("", "veth1", 1300))
	f := buildFrame6(frame6{dstMAC: macNIC, srcMAC: macB, src: "2001:db8:1::9", dst: "2001:db8:99::5", dport: 2000, payload: 1300})
	require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
	s.Flush()
	require.Equal(t, []string{"SKB_DROP_REASON_PKT_TOO_BIG@ip6_forward"}, te.obs.dropReasons())
	require.Equal(t, s.Device("", "veth1").Ifindex(), te.obs.drops[0].Dev)
}

// TestSetMTURestoresIPv6: back at 1280 or more, a device has IPv6 again
// (ipv6_add_dev), without its old addresses: one added anew works.
func TestSetMTURestoresIPv6(t *testing.T) {
	var mark uint32
	cfg := rulesTopology(&mark)
	cfg.Programs = nil
	events := []Event{{Dev: "veth1", Op: MTU, MTU: 1200}, {Dev: "veth1", Op: MTU, MTU: 1500},
		{Dev: "veth1", Op: AddrAdd, Addr: pfx("fd00:2::1/64")}}
	require.Equal(t, "c6", eventOutcome(t, cfg, events, "fd00:2::2"))
}

// TestSetMTUNoIdevRoute: ip6_route_info_create refuses an IPv6 route
// through a device without inet6_dev (ENODEV); back at 1500 it takes one.
func TestSetMTUNoIdevRoute(t *testing.T) {
	var mark uint32
	cfg := rulesTopology(&mark)
	cfg.Programs = nil
	s, _ := newStack(t, cfg, "", nil, nil)
	rc := RouteConfig{Dst: pfx("2001:db8:99::/64"), Dev: "veth1"}
	require.NoError(t, s.SetMTU("", "veth1", 1200))
	require.ErrorIs(t, s.AddRoute(rc), errno.ENODEV)
	require.NoError(t, s.AddRoute(RouteConfig{Dst: pfx("198.51.100.0/24"), Dev: "veth1"}), "IPv4 is there")
	require.NoError(t, s.SetMTU("", "veth1", 1500))
	require.NoError(t, s.AddRoute(rc))
}

// TestSmallMTUNoIPv6: a device created below 1280 has no inet6_dev
// (ipv6_add_dev): no IPv6 address (EINVAL) or route (ENODEV) on it, and
// what IPv6 it receives is dropped.
func TestSmallMTUNoIPv6(t *testing.T) {
	base := func() *Config {
		var mark uint32
		cfg := rulesTopology(&mark)
		cfg.Programs = nil
		cfg.Devices[2].MTU = 1200
		cfg.Devices[2].Addrs = []netip.Prefix{pfx("10.2.0.1/24")}
		cfg.Devices[2].PeerAddrs = []netip.Prefix{pfx("10.2.0.2/24")} // the peer's MTU is 1200 too
		cfg.Routes = slices.DeleteFunc(cfg.Routes, func(r RouteConfig) bool { return r.Dev == "veth1" && r.Via.Is6() })
		return cfg
	}
	cfg := base()
	cfg.Devices[2].Addrs = append(cfg.Devices[2].Addrs, pfx("fd00:2::1/64"))
	err := newStackErr(t, cfg, "")
	require.ErrorIs(t, err, ErrConfig)
	require.ErrorContains(t, err, "IPv6 address fd00:2::1/64, its MTU 1200 being below 1280")
	cfg = base()
	cfg.Routes = append(cfg.Routes, RouteConfig{Dst: pfx("2001:db8:99::/64"), Dev: "veth1"})
	require.ErrorContains(t, newStackErr(t, cfg, ""), "veth1 has no IPv6, its MTU 1200 being below 1280")

	cfg = base()
	s, _ := newStack(t, cfg, "", nil, nil)
	require.ErrorIs(t, s.AddAddr("", "veth1", pfx("fd00:2::1/64")), errno.EINVAL)
	require.NoError(t, s.AddAddr("", "veth1", pfx("10.2.1.1/24")))
	require.Equal(t, "NOT_SPECIFIED", eventOutcome(t, func() *Config {
		c := base()
		c.Devices[0].MTU = 1200 // eth0, where the packets enter
		c.Devices[0].Addrs = []netip.Prefix{pfx("192.0.2.1/24")}
		return c
	}(), nil, "fd00:1::2"))
}

// TestBridgeMTUAuto: a bridge's MTU is its ports' smallest until it is
// set (br_mtu_auto_adjust, BROPT_MTU_SET_BY_USER); TestKernelBridgeMTU
// measures the same on 6.18.
func TestBridgeMTUAuto(t *testing.T) {
	cfg := &Config{Devices: []DeviceConfig{
		{Name: "br0", Kind: KindBridge, Addrs: []netip.Prefix{pfx("fd00:9::1/64")}},
		{Name: "p1", Kind: KindVeth, MTU: 9000, Peer: "q1", Master: "br0"},
		{Name: "p2", Kind: KindVeth, MTU: 2000, Peer: "q2", Master: "br0"},
		{Name: "br1", Kind: KindBridge},
		{Name: "br2", Kind: KindBridge, MTU: 1400},
		{Name: "p3", Kind: KindVeth, Peer: "q3", Master: "br2"},
	}}
	s, _ := newStack(t, cfg, "", nil, nil)
	n := s.Netns(HostNetns)
	mtus := func() []int {
		var out []int
		for _, d := range []string{"br0", "br1", "br2"} {
			out = append(out, n.Device(d).MTU())
		}
		return out
	}
	require.Equal(t, []int{2000, 1500, 1400}, mtus(), "the smallest port's; 1500 without ports; the configured one")
	require.NoError(t, s.SetMTU("", "p2", 9000))
	require.Equal(t, []int{9000, 1500, 1400}, mtus())
	require.NoError(t, s.SetMTU("", "p3", 1300))
	require.Equal(t, []int{9000, 1500, 1400}, mtus(), "br2's was set")
	// A port below 1280 takes the bridge's IPv6 with its MTU.
	require.True(t, n.Device("br0").hasAddr(addr("fd00:9::1")))
	require.NoError(t, s.SetMTU("", "p1", 1200))
	require.Equal(t, []int{1200, 1500, 1400}, mtus())
	require.False(t, n.Device("br0").hasAddr(addr("fd00:9::1")))
	// Set on the bridge, its MTU stays.
	require.NoError(t, s.SetMTU("", "br0", 1500))
	require.NoError(t, s.SetMTU("", "p1", 1400))
	require.Equal(t, []int{1500, 1500, 1400}, mtus())
}
