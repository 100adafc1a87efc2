package kernel

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/skbsim/skbsim/internal/errno"
	"github.com/skbsim/skbsim/internal/testutil"
	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/netstack"
	"github.com/skbsim/skbsim/skb"
)

// linkWrongMAC is the address H's neighbour entries for D's addresses
// hold before the events: a frame sent with it reaches d1 as
// PACKET_OTHERHOST.
var linkWrongMAC = [6]byte{2, 0, 0, 0, 5, 9}

// linkTopo adds to tp's H a veth d0 (198.18.5.1/24, or fd00:5::1/64)
// whose peer d1 is in a namespace of its own, D (.2 and .3, or ::2 and
// ::3), with H's neighbour entries for .2 (permanent) and .3 (reachable)
// holding linkWrongMAC, a route to 198.18.6.0/24 (fd00:6::/64) through
// .2, a multipath route to 198.18.7.0/24 (fd00:7::/64) through it and
// hB, and (IPv4) a nexthop object through it, which 198.18.10.0/24
// uses. It returns D and the model's part.
func linkTopo(t *testing.T, tp *icmpTopo, v6 bool, keep int) (*Netns, *netstack.Config) {
	t.Helper()
	pfx, addr := netip.MustParsePrefix, netip.MustParseAddr
	h := tp.h
	d := newNetns(t, "lkD")
	a, b, c, rt, mp, bgw, plen := "198.18.5.1", "198.18.5.2", "198.18.5.3", "198.18.6.0/24", "198.18.7.0/24", "10.1.0.2", "/24"
	if v6 {
		a, b, c, rt, mp, bgw, plen = "fd00:5::1", "fd00:5::2", "fd00:5::3", "fd00:6::/64", "fd00:7::/64", icmp6AddrB, "/64"
	}
	require.NoError(t, h.IP("link", "add", "d0", "type", "veth", "peer", "name", "d1", "netns", d.Name))
	if v6 {
		require.NoError(t, h.Do(func() error { return writeSysctl("net/ipv6/conf/d0/disable_ipv6", "0") }))
		require.NoError(t, d.Do(func() error { return writeSysctl("net/ipv6/conf/d1/disable_ipv6", "0") }))
		require.NoError(t, h.Sysctl("net.ipv6.conf.all.keep_addr_on_down", fmt.Sprint(keep)))
	}
	nodad := func(c []string) []string {
		if v6 {
			return append(c, "nodad")
		}
		return c
	}
	for _, x := range []string{b, c} {
		require.NoError(t, d.IP(nodad([]string{"addr", "add", x + plen, "dev", "d1"})...))
	}
	require.NoError(t, d.IP("link", "set", "d1", "up"))
	for _, c := range [][]string{
		{"link", "set", "d0", "up"},
		nodad([]string{"addr", "add", a + plen, "dev", "d0"}),
		{"neigh", "add", b, "lladdr", macString(linkWrongMAC), "dev", "d0", "nud", "permanent"},
		{"neigh", "add", c, "lladdr", macString(linkWrongMAC), "dev", "d0", "nud", "reachable"},
		{"route", "add", rt, "via", b, "dev", "d0"},
		{"route", "add", mp, "nexthop", "via", b, "dev", "d0", "nexthop", "via", bgw, "dev", "hB"},
	} {
		require.NoError(t, h.IP(c...), "%v", c)
	}
	if !v6 {
		require.NoError(t, h.IP("nexthop", "add", "id", "1", "via", b, "dev", "d0"))
		require.NoError(t, h.IP("route", "add", "198.18.10.0/24", "nhid", "1"))
	}
	m0, err := h.HardwareAddr("d0")
	require.NoError(t, err)
	m1, err := d.HardwareAddr("d1")
	require.NoError(t, err)
	if v6 {
		waitRoute(t, h, "-6", "local", a)
	}

	cfg := &netstack.Config{
		Namespaces: []netstack.NamespaceConfig{{Name: "D"}},
		Devices: []netstack.DeviceConfig{{Name: "d0", Kind: netstack.KindVeth, Netns: "H", MAC: [6]byte(m0), Addrs: []netip.Prefix{pfx(a + plen)},
			Peer: "d1", PeerNetns: "D", PeerMAC: [6]byte(m1), PeerAddrs: []netip.Prefix{pfx(b + plen), pfx(c + plen)}}},
		Routes: []netstack.RouteConfig{{Netns: "H", Dst: pfx(rt), Dev: "d0", Via: addr(b)},
			{Netns: "H", Dst: pfx(mp), Nexthops: []netstack.NexthopConfig{{Dev: "d0", Via: addr(b)}, {Dev: "hB", Via: addr(bgw)}}}},
		Neighbours: []netstack.NeighConfig{{Netns: "H", Dev: "d0", Addr: addr(b), MAC: linkWrongMAC},
			{Netns: "H", Dev: "d0", Addr: addr(c), MAC: linkWrongMAC, State: netstack.NeighReachable}},
	}
	if !v6 {
		cfg.NexthopObjects = []netstack.NexthopObjConfig{{Netns: "H", ID: 1, Dev: "d0", Via: addr(b)}}
		cfg.Routes = append(cfg.Routes, netstack.RouteConfig{Netns: "H", Dst: pfx("198.18.10.0/24"), NHID: 1})
	}
	return d, cfg
}

// TestKernelLinkEvents: where a datagram A sends through H ends (the
// first drop on hA, B's vB, d0 and D's d1) after d0 or d1 went down, and
// up again, in the kernel (ip link set) and in the model (SetLink):
//   - d0 down: its routes, its address's local and prefix routes, its
//     nexthop object and its path of the multipath route are gone; up
//     again, the address's routes come back, the rest does not, nor do
//     its neighbour entries (flushed, so the addresses resolve anew);
//   - d1 down takes d0's carrier: the routes stay (linkdown), the
//     nexthop object goes, the reachable neighbour entry is flushed and
//     the permanent one stays;
//   - IPv6: d0 down deletes its address unless keep_addr_on_down, with
//     which it stays, not local until d0 is up again.
func TestKernelLinkEvents(t *testing.T) {
	testutil.KernelTests(t)
	probe, err := NewMetaProbe(false)
	testutil.SkipIfNotSupported(t, err)
	t.Cleanup(func() { require.NoError(t, probe.Close()) })
	type step struct {
		ns, dev string
		op      netstack.EventOp
		ip      string // an address or route event: ip(8)'s arguments in H, split at spaces
		ev      netstack.Event
		refused errno.Errno // the kernel refuses ip's command, and the model the event, with this
		promote bool        // net.ipv4.conf.all.promote_secondaries=1 in H, before the other steps
	}
	d0down, d0up := step{ns: "H", dev: "d0", op: netstack.LinkDown}, step{ns: "H", dev: "d0", op: netstack.LinkUp}
	d1down, d1up := step{ns: "D", dev: "d1", op: netstack.LinkDown}, step{ns: "D", dev: "d1", op: netstack.LinkUp}
	pfx, ad := netip.MustParsePrefix, netip.MustParseAddr
	ev := func(ip string, e netstack.Event) step {
		if e.Op == netstack.RouteAdd || e.Op == netstack.RouteDel {
			e.Route.Netns = "H"
		} else {
			e.Netns = "H"
		}
		return step{ip: ip, ev: e}
	}
	del4 := ev("addr del 198.18.5.1/24 dev d0", netstack.Event{Dev: "d0", Op: netstack.AddrDel, Addr: pfx("198.18.5.1/24")})
	del6 := ev("addr del fd00:5::1/64 dev d0", netstack.Event{Dev: "d0", Op: netstack.AddrDel, Addr: pfx("fd00:5::1/64")})
	add4 := ev("addr add 198.18.9.1/24 dev d0", netstack.Event{Dev: "d0", Op: netstack.AddrAdd, Addr: pfx("198.18.9.1/24")})
	sec4 := ev("addr add 198.18.5.7/24 dev d0", netstack.Event{Dev: "d0", Op: netstack.AddrAdd, Addr: pfx("198.18.5.7/24")})
	rdel := ev("route del 198.18.6.0/24", netstack.Event{Op: netstack.RouteDel, Route: netstack.RouteConfig{Dst: pfx("198.18.6.0/24")}})
	radd := ev("route add 198.18.11.0/24 via 198.18.5.3 dev d0", netstack.Event{Op: netstack.RouteAdd,
		Route: netstack.RouteConfig{Dst: pfx("198.18.11.0/24"), Dev: "d0", Via: ad("198.18.5.3")}})
	rbh := ev("route add blackhole 198.18.7.0/25", netstack.Event{Op: netstack.RouteAdd,
		Route: netstack.RouteConfig{Dst: pfx("198.18.7.0/25"), Type: netstack.RouteBlackhole}})
	// Route metrics: a route to 198.18.6.0/24 (fd00:6::/64) through hB
	// beside the one through d0, of metric 0 (IPv6: 1024); one to d0's
	// connected prefix, 198.18.5.0/24 (fd00:5::/64, metric 256).
	m5 := ev("route add 198.18.6.0/24 via 10.1.0.2 dev hB metric 5", netstack.Event{Op: netstack.RouteAdd,
		Route: netstack.RouteConfig{Dst: pfx("198.18.6.0/24"), Dev: "hB", Via: ad("10.1.0.2"), Metric: 5}})
	m0 := ev("route add 198.18.6.0/24 via 10.1.0.2 dev hB", netstack.Event{Op: netstack.RouteAdd,
		Route: netstack.RouteConfig{Dst: pfx("198.18.6.0/24"), Dev: "hB", Via: ad("10.1.0.2")}})
	m0.refused = errno.EEXIST
	conn0 := ev("route add 198.18.5.0/24 via 10.1.0.2 dev hB", netstack.Event{Op: netstack.RouteAdd,
		Route: netstack.RouteConfig{Dst: pfx("198.18.5.0/24"), Dev: "hB", Via: ad("10.1.0.2")}})
	conn0.refused = errno.EEXIST
	conn7 := ev("route add 198.18.5.0/24 via 10.1.0.2 dev hB metric 7", netstack.Event{Op: netstack.RouteAdd,
		Route: netstack.RouteConfig{Dst: pfx("198.18.5.0/24"), Dev: "hB", Via: ad("10.1.0.2"), Metric: 7}})
	del5 := ev("route del 198.18.6.0/24 metric 5", netstack.Event{Op: netstack.RouteDel, Route: netstack.RouteConfig{Dst: pfx("198.18.6.0/24"), Metric: 5}})
	m6 := ev("route add fd00:6::/64 via "+icmp6AddrB+" dev hB metric 5", netstack.Event{Op: netstack.RouteAdd,
		Route: netstack.RouteConfig{Dst: pfx("fd00:6::/64"), Dev: "hB", Via: ad(icmp6AddrB), Metric: 5}})
	m6user := ev("route add fd00:6::/64 via "+icmp6AddrB+" dev hB", netstack.Event{Op: netstack.RouteAdd,
		Route: netstack.RouteConfig{Dst: pfx("fd00:6::/64"), Dev: "hB", Via: ad(icmp6AddrB)}})
	m6user.refused = errno.EEXIST
	conn6 := ev("route add fd00:5::/64 via "+icmp6AddrB+" dev hB metric 100", netstack.Event{Op: netstack.RouteAdd,
		Route: netstack.RouteConfig{Dst: pfx("fd00:5::/64"), Dev: "hB", Via: ad(icmp6AddrB), Metric: 100}})
	conn6at256 := ev("route add fd00:5::/64 via "+icmp6AddrB+" dev hB metric 256", netstack.Event{Op: netstack.RouteAdd,
		Route: netstack.RouteConfig{Dst: pfx("fd00:5::/64"), Dev: "hB", Via: ad(icmp6AddrB), Metric: 256}})
	conn6at256.refused = errno.EEXIST
	// Gateways no link of the device reaches (fib_check_nh_v4_gw).
	gw := func(via, dev string, refused errno.Errno) step {
		st := ev("route add 198.18.12.0/24 via "+via+" dev "+dev, netstack.Event{Op: netstack.RouteAdd,
			Route: netstack.RouteConfig{Dst: pfx("198.18.12.0/24"), Dev: dev, Via: ad(via)}})
		st.refused = refused
		return st
	}
	// IPv6 gateways (ip6_validate_gw): on d0's link (EHOSTUNREACH), not
	// local nor multicast (EINVAL), onlink unless another device's route
	// has them (EINVAL); an IPv4 route's (RFC 5549) alike.
	gw6 := func(dst, via, dev string, onlink bool, refused errno.Errno) step {
		cmd := "route add " + dst + " via " + via + " dev " + dev
		if pfx(dst).Addr().Is4() {
			cmd = "route add " + dst + " via inet6 " + via + " dev " + dev
		}
		if onlink {
			cmd += " onlink"
		}
		st := ev(cmd, netstack.Event{Op: netstack.RouteAdd,
			Route: netstack.RouteConfig{Dst: pfx(dst), Dev: dev, Via: ad(via), Onlink: onlink}})
		st.refused = refused
		return st
	}
	// Multipath next hops: an IPv4 route's onlink is none of its next
	// hops' (fib_get_nhs), a next hop's own is; an IPv6 route's is each
	// next hop's. An IPv4 next hop without a gateway is not onlink.
	nhs := func(dst string, routeOnlink bool, hops [][3]string, refused errno.Errno) step {
		cmd := "route add " + dst
		rc := netstack.RouteConfig{Dst: pfx(dst), Onlink: routeOnlink}
		if routeOnlink {
			cmd += " onlink"
		}
		for _, h := range hops {
			cmd += " nexthop via " + h[0] + " dev " + h[1]
			if h[2] != "" {
				cmd += " onlink"
			}
			rc.Nexthops = append(rc.Nexthops, netstack.NexthopConfig{Dev: h[1], Via: ad(h[0]), Onlink: h[2] != ""})
		}
		st := ev(cmd, netstack.Event{Op: netstack.RouteAdd, Route: rc})
		st.refused = refused
		return st
	}
	devOnlink := func(dst string, refused errno.Errno) step {
		st := ev("route add "+dst+" dev d0 onlink", netstack.Event{Op: netstack.RouteAdd,
			Route: netstack.RouteConfig{Dst: pfx(dst), Dev: "d0", Onlink: true}})
		st.refused = refused
		return st
	}
	// A route's preferred source: deleting the address deletes an IPv4
	// route that names it (fib_sync_down_addr), not an IPv6 one
	// (rt6_remove_prefsrc clears it).
	srcRoute := ev("route add 198.18.15.0/24 via 198.18.5.3 dev d0 src 198.18.9.1", netstack.Event{Op: netstack.RouteAdd,
		Route: netstack.RouteConfig{Dst: pfx("198.18.15.0/24"), Dev: "d0", Via: ad("198.18.5.3"), Src: ad("198.18.9.1")}})
	srcBad := ev("route add 198.18.16.0/24 via 198.18.5.3 dev d0 src 198.18.5.3", netstack.Event{Op: netstack.RouteAdd,
		Route: netstack.RouteConfig{Dst: pfx("198.18.16.0/24"), Dev: "d0", Via: ad("198.18.5.3"), Src: ad("198.18.5.3")}})
	srcBad.refused = errno.EINVAL
	readd4 := ev("addr add 198.18.5.1/24 dev d0", netstack.Event{Dev: "d0", Op: netstack.AddrAdd, Addr: pfx("198.18.5.1/24")})
	del9 := ev("addr del 198.18.9.1/24 dev d0", netstack.Event{Dev: "d0", Op: netstack.AddrDel, Addr: pfx("198.18.9.1/24")})
	add6 := ev("addr add fd00:9::1/64 dev d0 nodad", netstack.Event{Dev: "d0", Op: netstack.AddrAdd, Addr: pfx("fd00:9::1/64")})
	srcRoute6 := ev("route add fd00:15::/64 via fd00:5::3 dev d0 src fd00:9::1", netstack.Event{Op: netstack.RouteAdd,
		Route: netstack.RouteConfig{Dst: pfx("fd00:15::/64"), Dev: "d0", Via: ad("fd00:5::3"), Src: ad("fd00:9::1")}})
	del69 := ev("addr del fd00:9::1/64 dev d0", netstack.Event{Dev: "d0", Op: netstack.AddrDel, Addr: pfx("fd00:9::1/64")})
	// ip route del of an address's prefix route: the address stays, the
	// route is back when the device comes up again, not for a secondary.
	delPfx := ev("route del 198.18.5.0/24 dev d0", netstack.Event{Op: netstack.RouteDel, Route: netstack.RouteConfig{Dst: pfx("198.18.5.0/24"), Dev: "d0"}})
	delPfx6 := ev("-6 route del fd00:5::/64 dev d0", netstack.Event{Op: netstack.RouteDel, Route: netstack.RouteConfig{Dst: pfx("fd00:5::/64"), Dev: "d0"}})
	promote := step{promote: true}
	v4 := []string{"198.18.6.9", "198.18.5.1", "198.18.5.255", "198.18.5.2", "198.18.10.9", "198.18.7.1", "198.18.7.2", "198.18.7.3", "198.18.7.4",
		"198.18.9.1", "198.18.11.9", "198.18.5.3"}
	// The IPv6 cases leave out what resolves a neighbour after a flush
	// (D's addresses, the multipath route's path through d0 once d0 is up
	// again): the kernel's first solicitation went unanswered at times,
	// and the next one comes a second later (retrans_time).
	v6 := []string{"fd00:6::9", "fd00:5::1"}
	v6mp := append(v6, "fd00:7::1", "fd00:7::2", "fd00:7::3", "fd00:7::4")
	for _, tc := range []struct {
		name  string
		steps []step
		v6    bool
		keep  int
		dsts  []string // in place of the family's
	}{
		{"no events", nil, false, 0, nil},
		{"d0 down", []step{d0down}, false, 0, nil},
		{"d0 down and up", []step{d0down, d0up}, false, 0, nil},
		{"d1 down", []step{d1down}, false, 0, nil},
		{"d1 down and up", []step{d1down, d1up}, false, 0, nil},
		{"addr del: the address and its prefix go, the routes through it stay", []step{del4}, false, 0, nil},
		{"addr del: its secondary goes with it", []step{sec4, del4}, false, 0, nil},
		{"addr del and add again: the multipath route's dead path revived", []step{del4, readd4}, false, 0, nil},
		{"addr add", []step{add4}, false, 0, nil},
		{"addr del, promote_secondaries: its secondary stays", []step{promote, sec4, del4}, false, 0,
			[]string{"198.18.5.7", "198.18.5.2", "198.18.6.9", "198.18.5.255"}}, // .1 waits for ARP (3 s until NEIGH_FAILED)
		{"route del, route add", []step{rdel, radd, rbh}, false, 0, nil},
		{"IPv6, no events", nil, true, 0, nil},
		{"IPv6, addr del", []step{del6}, true, 0, nil},
		{"IPv6, d0 down: the multipath route's other path", []step{d0down}, true, 0, nil},
		{"IPv6, d0 down", []step{d0down}, true, 0, nil},
		{"IPv6, d0 down and up", []step{d0down, d0up}, true, 0, nil},
		{"IPv6, d0 down, keep_addr_on_down", []step{d0down}, true, 1, nil},
		{"IPv6, d0 down and up, keep_addr_on_down", []step{d0down, d0up}, true, 1, nil},
		{"IPv6, d1 down and up", []step{d1down, d1up}, true, 0, nil},
		{"gateways: on d0's link or refused", []step{gw("198.18.5.3", "hB", errno.ENETUNREACH), gw("198.18.13.3", "d0", errno.ENETUNREACH),
			gw("198.18.6.3", "d0", errno.ENETUNREACH), gw("198.18.5.3", "d0", 0)}, false, 0, []string{"198.18.12.5"}},
		{"IPv6 gateways: on d0's link or refused", []step{
			gw6("fd00:12::/64", "fd00:5::3", "hB", false, errno.EHOSTUNREACH),
			gw6("fd00:12::/64", "fd00:13::3", "d0", false, errno.EHOSTUNREACH),
			gw6("fd00:12::/64", "fd00:6::3", "d0", false, errno.EHOSTUNREACH),
			gw6("fd00:12::/64", "fd00:5::1", "d0", false, errno.EINVAL),
			gw6("fd00:12::/64", "2001:db8:2::1", "d0", false, errno.EINVAL),
			gw6("fd00:12::/64", "ff02::5", "d0", false, errno.EINVAL),
			gw6("fd00:12::/64", "2001:db8:2::9", "d0", true, errno.EINVAL),
			gw6("198.18.12.0/24", "fd00:13::3", "d0", false, errno.EHOSTUNREACH),
			gw6("fd00:12::/64", "fd00:13::3", "d0", true, 0),
			gw6("fd00:16::/64", "2001:db8:7::9", "d0", true, 0),
			gw6("fd00:14::/64", "fd00:5::3", "d0", false, 0),
			gw6("fd00:15::/64", "fe80::1234", "d0", false, 0),
			nhs("fd00:17::/64", true, [][3]string{{"fd00:13::3", "d0"}, {icmp6AddrB, "hB"}}, 0),
			nhs("fd00:18::/64", false, [][3]string{{"fd00:13::3", "d0"}, {icmp6AddrB, "hB"}}, errno.EHOSTUNREACH),
			devOnlink("fd00:19::/64", 0),
		}, true, 0, []string{"fd00:6::9", "fd00:14::9"}},
		{"src: a local address, another refused", []step{add4, srcRoute, srcBad}, false, 0, []string{"198.18.15.9", "198.18.6.9"}},
		{"src: a route's goes with its address, deleted", []step{add4, srcRoute, del9}, false, 0, []string{"198.18.15.9", "198.18.6.9"}},
		{"IPv6 src: the route stays", []step{add6, srcRoute6, del69}, true, 0, []string{"fd00:15::9", "fd00:6::9"}},
		{"route del of a prefix route", []step{delPfx}, false, 0, []string{"198.18.5.2", "198.18.6.9", "198.18.5.1"}},
		{"route del of a prefix route, a secondary added", []step{delPfx, sec4}, false, 0, []string{"198.18.5.2", "198.18.5.7"}},
		{"route del of a prefix route, d0 down and up", []step{delPfx, d0down, d0up}, false, 0, []string{"198.18.5.2", "198.18.5.1"}},
		{"IPv6 route del of a prefix route", []step{delPfx6}, true, 0, []string{"fd00:5::2", "fd00:6::9", "fd00:5::1"}},
		{"multipath gateways: a next hop's onlink, not the route's", []step{
			nhs("198.18.12.0/24", true, [][3]string{{"198.18.13.3", "d0"}, {"10.1.0.2", "hB"}}, errno.ENETUNREACH),
			nhs("198.18.12.0/24", false, [][3]string{{"198.18.13.3", "d0", "onlink"}, {"10.1.0.2", "hB"}}, 0),
			devOnlink("198.18.14.0/24", errno.EINVAL),
		}, false, 0, []string{"198.18.6.9"}},
		{"metrics: 0 beats 5, one of 0 is there", []step{m5, m0, conn0, conn7}, false, 0, []string{"198.18.6.9", "198.18.5.2"}},
		{"metrics: d0 down, 5 and 7 answer", []step{m5, conn7, d0down}, false, 0, []string{"198.18.6.9", "198.18.5.2"}},
		{"metrics: route del takes 0", []step{m5, rdel}, false, 0, []string{"198.18.6.9"}},
		{"metrics: route del metric 5", []step{m5, del5}, false, 0, []string{"198.18.6.9"}},
		{"IPv6 metrics: 5 beats 1024, 100 beats the connected 256", []step{m6, m6user, conn6, conn6at256}, true, 0,
			[]string{"fd00:6::9", "fd00:5::9", "fd00:5::1"}},
		{"IPv6 metrics: 5 deleted by route del", []step{m6, ev("route del fd00:6::/64", netstack.Event{Op: netstack.RouteDel,
			Route: netstack.RouteConfig{Dst: pfx("fd00:6::/64")}})}, true, 0, []string{"fd00:6::9"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var tp *icmpTopo
			var cfg *netstack.Config
			ns := netstack.NamespaceConfig{MultipathHashSeed: 4242, KeepAddrOnDown: tc.keep}
			if tc.v6 {
				tp = newICMP6Topo(t, "net.ipv4.fib_multipath_hash_seed", "4242")
				cfg = tp.model6(ns, true)
			} else {
				tp = newICMPTopo(t, "net.ipv4.fib_multipath_hash_seed", "4242")
				cfg = tp.model(ns)
				tp.rxAtH(cfg)
			}
			d, extra := linkTopo(t, tp, tc.v6, tc.keep)
			cfg.Namespaces = append(cfg.Namespaces, extra.Namespaces...)
			cfg.Devices = append(cfg.Devices, extra.Devices...)
			cfg.Routes = append(cfg.Routes, extra.Routes...)
			cfg.Neighbours = append(cfg.Neighbours, extra.Neighbours...)
			cfg.NexthopObjects = extra.NexthopObjects
			for _, st := range tc.steps {
				if st.promote {
					require.NoError(t, tp.h.Sysctl("net.ipv4.conf.all.promote_secondaries", "1"))
					i := slices.IndexFunc(cfg.Namespaces, func(n netstack.NamespaceConfig) bool { return n.Name == "H" })
					require.GreaterOrEqual(t, i, 0)
					cfg.Namespaces[i].PromoteSecondaries = true
					continue
				}
				if st.refused != 0 {
					msg := map[errno.Errno]string{errno.EEXIST: "File exists", errno.ENETUNREACH: "Nexthop has invalid gateway",
						errno.EHOSTUNREACH: "No route to host", errno.EINVAL: "[Gg]ateway|ONLINK can not be set|prefsrc"}[st.refused]
					err := tp.h.IP(strings.Fields(st.ip)...)
					require.Error(t, err, st.ip)
					require.Regexp(t, msg, err.Error(), st.ip)
					continue
				}
				if st.ip != "" {
					require.NoError(t, tp.h.IP(strings.Fields(st.ip)...), st.ip)
					continue
				}
				n := map[string]*Netns{"H": tp.h, "D": d}[st.ns]
				require.NoError(t, n.IP("link", "set", st.dev, string(st.op)))
				// d0's carrier follows d1 through the link watcher: each
				// change is waited for, lest it fold the two into one
				// NETDEV_CHANGE.
				switch {
				case st.dev == "d1" && st.op == netstack.LinkDown:
					waitNoCarrier(t, tp.h, "d0")
				case st.dev == "d1" && st.op == netstack.LinkUp:
					waitCarrier(t, tp.h, "d0")
				}
			}
			if tc.v6 && len(tc.steps) > 0 && tc.steps[len(tc.steps)-1].dev == "d0" && tc.steps[len(tc.steps)-1].op == netstack.LinkUp && tc.keep > 0 {
				waitRoute(t, tp.h, "-6", "local", "fd00:5::1")
			}
			vA, err := tp.a.Ifindex("vA")
			require.NoError(t, err)
			if tc.v6 {
				require.NoError(t, probe.FilterTclass(testTclass))
				t.Cleanup(func() { require.NoError(t, probe.FilterTclass(0)) })
			}
			dsts := v4
			switch {
			case tc.v6 && (tc.steps == nil || strings.Contains(tc.name, "multipath")):
				dsts = v6mp
			case tc.v6:
				dsts = v6
			}
			if tc.dsts != nil {
				dsts = tc.dsts
			}
			for _, dst := range dsts {
				var frame []byte
				if tc.v6 {
					frame = tp.udp6Frame(netip.MustParseAddr(icmp6AddrA), netip.MustParseAddr(dst))
				} else {
					frame = tp.rtFrame(icmpAddrA, dst, 64)
				}
				kern := watchDropsFor(t, probe, []string{tp.hA, "vB", "d0", "d1"}, 200*time.Millisecond, 20*time.Millisecond,
					func() { sendFrame(t, tp.a, vA, net.HardwareAddr(frame[0:6]), frame) })
				devs := map[string][2]string{tp.hA: {"H", "hA"}, "vB": {"B", "vB"}, "d0": {"H", "d0"}, "d1": {"D", "d1"}}
				model := eventDrops(t, cfg, frame, devs, func(s *netstack.Stack) {
					for _, st := range tc.steps {
						if st.promote {
							continue
						}
						if st.refused != 0 {
							err := s.Apply(st.ev)
							require.ErrorIs(t, err, st.refused, st.ip)
							if st.refused == errno.EINVAL {
								require.NotErrorIs(t, err, errno.EHOSTUNREACH, st.ip)
							}
							continue
						}
						if st.ip != "" {
							require.NoError(t, s.Apply(st.ev), st.ip)
							continue
						}
						require.NoError(t, s.SetLink(st.ns, st.dev, st.op))
					}
				})
				t.Logf("%s: kernel %v", dst, kern)
				require.Equal(t, kern, model, "%s: model", dst)
			}
		})
	}
}

// eventDrops builds cfg in the model, lets events change it, injects
// frame and returns the first drop on each of devs (devDrops.firsts).
func eventDrops(t *testing.T, cfg *netstack.Config, frame []byte, devs map[string][2]string, events func(*netstack.Stack)) map[string]string {
	t.Helper()
	obs := &devDrops{}
	a := skb.NewAllocator(kmem.New(), machineProfile())
	s, err := netstack.New(cfg, netstack.Env{Alloc: a, Observer: obs})
	require.NoError(t, err)
	events(s)
	require.NoError(t, s.Inject(&netstack.Packet{ID: 1, Frame: frame}))
	s.Flush()
	model := obs.firsts(s, devs)
	require.NoError(t, s.Close())
	require.NoError(t, a.CheckLeaks())
	return model
}

// waitCarrier waits until dev of n is IFF_RUNNING and no route through
// it is linkdown (fib_sync_up after the link watcher's NETDEV_CHANGE).
func waitCarrier(t *testing.T, n *Netns, dev string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		settled := ifaceRunning(t, n, dev)
		for _, fam := range []string{"-4", "-6"} {
			out, err := exec.Command("ip", "-n", n.Name, fam, "route", "show", "dev", dev).Output()
			require.NoError(t, err)
			settled = settled && !strings.Contains(string(out), "linkdown")
		}
		if settled {
			return
		}
		require.True(t, time.Now().Before(deadline), "%s has no carrier", dev)
		time.Sleep(20 * time.Millisecond)
	}
}

// TestKernelMTUEvents: ip link set d0 mtu N while datagrams from A cross
// H to D (linkTopo): IPv4 answers a DF datagram above the new MTU with
// fragmentation needed (PKT_TOO_BIG) and fragments one without DF; IPv6
// forwards up to the new MTU, and below 1280 the device loses its IPv6
// (addresses, routes), which a larger MTU does not bring back.
func TestKernelMTUEvents(t *testing.T) {
	testutil.KernelTests(t)
	probe, err := NewMetaProbe(false)
	testutil.SkipIfNotSupported(t, err)
	t.Cleanup(func() { require.NoError(t, probe.Close()) })
	type send struct {
		dst  string
		size int // UDP payload
		df   bool
	}
	for _, tc := range []struct {
		name  string
		v6    bool
		mtus  []int
		sends []send
	}{
		{"1280", false, []int{1280}, []send{{"198.18.5.2", 1400, true}, {"198.18.5.2", 1400, false}, {"198.18.5.2", 1200, true}}},
		{"1280 and 1500", false, []int{1280, 1500}, []send{{"198.18.5.2", 1400, true}}},
		{"IPv6, 1300", true, []int{1300}, []send{{"fd00:6::9", 1300, false}, {"fd00:6::9", 1200, false}, {"fd00:5::1", 16, false}}},
		{"IPv6, 1200: no IPv6 on d0", true, []int{1200}, []send{{"fd00:6::9", 16, false}, {"fd00:5::1", 16, false}}},
		{"IPv6, 1200 and 1500", true, []int{1200, 1500}, []send{{"fd00:6::9", 16, false}, {"fd00:5::1", 16, false}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tp, cfg := linkModel(t, tc.v6)
			for _, m := range tc.mtus {
				require.NoError(t, tp.h.IP("link", "set", "d0", "mtu", fmt.Sprint(m)))
			}
			if tc.v6 && tc.mtus[len(tc.mtus)-1] < 1280 {
				// ip6_route_info_create: no inet6_dev, ENODEV; the model
				// refuses alike.
				out, err := exec.Command("ip", "-n", tp.h.Name, "-6", "route", "add", "2001:db8:77::/64", "dev", "d0").CombinedOutput()
				require.Error(t, err)
				require.Contains(t, string(out), "No such device")
				a := skb.NewAllocator(kmem.New(), machineProfile())
				s, err := netstack.New(cfg, netstack.Env{Alloc: a, Observer: netstack.NopObserver{}})
				require.NoError(t, err)
				require.NoError(t, s.SetMTU("H", "d0", 1200))
				require.ErrorIs(t, s.AddRoute(netstack.RouteConfig{Netns: "H", Dst: netip.MustParsePrefix("2001:db8:77::/64"), Dev: "d0"}), unix.ENODEV)
				require.NoError(t, s.Close())
			}
			vA, err := tp.a.Ifindex("vA")
			require.NoError(t, err)
			if tc.v6 {
				require.NoError(t, probe.FilterTclass(testTclass))
				t.Cleanup(func() { require.NoError(t, probe.FilterTclass(0)) })
			}
			for _, sd := range tc.sends {
				var frame []byte
				if tc.v6 {
					frame = tp.udp6FrameN(netip.MustParseAddr(icmp6AddrA), netip.MustParseAddr(sd.dst), sd.size)
				} else {
					pkt := udp4Packet(netip.MustParseAddr(icmpAddrA).As4(), netip.MustParseAddr(sd.dst).As4(), 40000, 9999, sd.size)
					if sd.df {
						pkt[6] = 0x40
					}
					binary.BigEndian.PutUint16(pkt[10:], inetCsum(pkt[:20]))
					frame = ethIPv4(pkt)
					copy(frame[0:6], tp.macH[:])
					copy(frame[6:12], tp.macA[:])
				}
				kern := watchDropsFor(t, probe, []string{tp.hA, "vB", "d0", "d1"}, 200*time.Millisecond, 20*time.Millisecond,
					func() { sendFrame(t, tp.a, vA, net.HardwareAddr(frame[0:6]), frame) })
				model := eventDrops(t, cfg, frame, map[string][2]string{tp.hA: {"H", "hA"}, "vB": {"B", "vB"}, "d0": {"H", "d0"}, "d1": {"D", "d1"}},
					func(s *netstack.Stack) {
						for _, m := range tc.mtus {
							require.NoError(t, s.SetMTU("H", "d0", m))
						}
					})
				t.Logf("%v: kernel %v", sd, kern)
				require.Equal(t, kern, model, "%v: model", sd)
			}
		})
	}
}

// TestKernelSmallMTUNoIPv6: a veth created with MTU 1200 has no IPv6
// (ipv6_add_dev): `ip -6 addr add` on it is EINVAL and `ip -6 route add`
// through it ENODEV, in the kernel and in the model (AddAddr, AddRoute).
func TestKernelSmallMTUNoIPv6(t *testing.T) {
	testutil.KernelTests(t)
	n := newNetns(t, "smtu")
	require.NoError(t, n.IP("link", "add", "s0", "mtu", "1200", "type", "veth", "peer", "name", "s1"))
	require.NoError(t, n.IP("link", "set", "s0", "up"))
	out, err := exec.Command("ip", "-n", n.Name, "-6", "addr", "add", "fd00:9::1/64", "dev", "s0", "nodad").CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(out), "Invalid argument")
	out, err = exec.Command("ip", "-n", n.Name, "-6", "route", "add", "2001:db8:9::/64", "dev", "s0").CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(out), "No such device")

	cfg := &netstack.Config{Devices: []netstack.DeviceConfig{{Name: "s0", Kind: netstack.KindVeth, MTU: 1200, Peer: "s1"}},
		Entries: []netstack.EntryConfig{{Dev: "s1"}}}
	a := skb.NewAllocator(kmem.New(), machineProfile())
	s, err := netstack.New(cfg, netstack.Env{Alloc: a, Observer: netstack.NopObserver{}})
	require.NoError(t, err)
	require.ErrorIs(t, s.AddAddr("", "s0", netip.MustParsePrefix("fd00:9::1/64")), unix.EINVAL)
	require.ErrorIs(t, s.AddRoute(netstack.RouteConfig{Dst: netip.MustParsePrefix("2001:db8:9::/64"), Dev: "s0"}), unix.ENODEV)
	require.NoError(t, s.Close())
	require.NoError(t, a.CheckLeaks())
}

// linkModel sets up the topology of newICMPTopo (newICMP6Topo with v6)
// with linkTopo's d0 and D, and returns it with the model's
// configuration of both, in a namespace without sysctls of its own.
func linkModel(t *testing.T, v6 bool) (*icmpTopo, *netstack.Config) {
	t.Helper()
	var tp *icmpTopo
	var cfg *netstack.Config
	if v6 {
		tp = newICMP6Topo(t)
		cfg = tp.model6(netstack.NamespaceConfig{}, true)
	} else {
		tp = newICMPTopo(t)
		cfg = tp.model(netstack.NamespaceConfig{})
		tp.rxAtH(cfg)
	}
	_, extra := linkTopo(t, tp, v6, 0)
	cfg.Namespaces = append(cfg.Namespaces, extra.Namespaces...)
	cfg.Devices = append(cfg.Devices, extra.Devices...)
	cfg.Routes = append(cfg.Routes, extra.Routes...)
	cfg.Neighbours = append(cfg.Neighbours, extra.Neighbours...)
	cfg.NexthopObjects = extra.NexthopObjects
	return tp, cfg
}

// TestKernelGatewayObjects checks that a nexthop object's gateway is
// checked when it is made (nh_create_ipv4: fib_check_nh, ENETUNREACH or
// EINVAL; nh_create_ipv6: ip6_validate_gw, EHOSTUNREACH or EINVAL), as
// the model checks a configuration's objects.
func TestKernelGatewayObjects(t *testing.T) {
	testutil.KernelTests(t)
	type objCase struct {
		via, dev string
		onlink   bool
		refused  errno.Errno
	}
	for _, fam := range []struct {
		v6    bool
		cases []objCase
	}{
		{false, []objCase{
			{"198.18.13.7", "d0", false, errno.ENETUNREACH},
			{"198.18.13.7", "d0", true, 0},
			{"198.18.5.3", "d0", false, 0},
			{"198.18.5.3", "hB", false, errno.ENETUNREACH},
			{"198.18.5.1", "d0", true, errno.EINVAL},
			{"", "d0", true, errno.EINVAL},
		}},
		{true, []objCase{
			{"fd00:13::3", "d0", false, errno.EHOSTUNREACH},
			{"fd00:13::3", "d0", true, 0},
			{"fd00:5::3", "d0", false, 0},
			{"fe80::7", "d0", false, 0},
			{"fd00:5::1", "d0", false, errno.EINVAL},
			{"ff02::7", "d0", false, errno.EINVAL},
			{icmp6AddrB, "d0", true, errno.EINVAL},
		}},
	} {
		t.Run(fmt.Sprintf("v6=%v", fam.v6), func(t *testing.T) {
			tp, cfg := linkModel(t, fam.v6)
			for _, c := range fam.cases {
				args := []string{"nexthop", "add", "id", "7"}
				o := netstack.NexthopObjConfig{Netns: "H", ID: 7, Dev: c.dev, Onlink: c.onlink}
				if c.via != "" {
					args = append(args, "via", c.via)
					o.Via = netip.MustParseAddr(c.via)
				}
				args = append(args, "dev", c.dev)
				if c.onlink {
					args = append(args, "onlink")
				}
				what := strings.Join(args, " ")
				kerr := tp.h.IP(args...)
				m := *cfg
				m.NexthopObjects = append(slices.Clone(cfg.NexthopObjects), o)
				_, merr := netstack.New(&m, netstack.Env{Alloc: skb.NewAllocator(kmem.New(), machineProfile())})
				if c.refused == 0 {
					require.NoError(t, kerr, what)
					require.NoError(t, merr, what)
					require.NoError(t, tp.h.IP("nexthop", "del", "id", "7"))
					continue
				}
				msg := map[errno.Errno]string{errno.ENETUNREACH: "Nexthop has invalid gateway",
					errno.EHOSTUNREACH: "No route to host", errno.EINVAL: "[Gg]ateway|ONLINK can not be set"}[c.refused]
				require.Error(t, kerr, what)
				require.Regexp(t, msg, kerr.Error(), what)
				require.ErrorIs(t, merr, c.refused, what)
				t.Logf("%s: kernel %v; model %v", what, kerr, merr)
			}
		})
	}
}

// TestKernelGatewayRules checks that a route added while policy rules
// exist has its gateway checked through them: IPv4's fib_lookup walks
// them for a route of main (a link route of a table a rule names puts a
// gateway on the link, an unreachable rule takes one off), IPv6 looks in
// the route's table, main, first (ip6_route_check_nh), then walks them.
func TestKernelGatewayRules(t *testing.T) {
	testutil.KernelTests(t)
	pfx, ad := netip.MustParsePrefix, netip.MustParseAddr
	type step struct {
		ip      string
		route   netstack.RouteConfig
		refused errno.Errno
	}
	for _, fam := range []struct {
		v6    bool
		setup []string // ip commands, as the model's configuration has them
		cfg   func(*netstack.Config)
		steps []step
	}{
		{false, []string{"route add 198.18.20.0/24 dev d0 table 100", "rule add pref 100 lookup 100", "rule add pref 90 to 198.18.5.0/24 unreachable"},
			func(c *netstack.Config) {
				c.Routes = append(c.Routes, netstack.RouteConfig{Netns: "H", Dst: pfx("198.18.20.0/24"), Dev: "d0", Table: 100})
				c.Rules = append(c.Rules, netstack.RuleConfig{Netns: "H", Priority: 100, Table: 100},
					netstack.RuleConfig{Netns: "H", Priority: 90, To: pfx("198.18.5.0/24"), Type: netstack.RuleUnreachable})
			}, []step{
				{"route add 198.18.21.0/24 via 198.18.20.3 dev d0", netstack.RouteConfig{Dst: pfx("198.18.21.0/24"), Dev: "d0", Via: ad("198.18.20.3")}, 0},
				{"route add 198.18.22.0/24 via 198.18.5.3 dev d0", netstack.RouteConfig{Dst: pfx("198.18.22.0/24"), Dev: "d0", Via: ad("198.18.5.3")}, errno.ENETUNREACH},
				{"route add 198.18.23.0/24 via 198.18.24.3 dev d0", netstack.RouteConfig{Dst: pfx("198.18.23.0/24"), Dev: "d0", Via: ad("198.18.24.3")}, errno.ENETUNREACH},
			}},
		{true, []string{"-6 route add fd00:20::/64 dev d0 table 100", "-6 rule add pref 100 lookup 100", "-6 rule add pref 90 to fd00:5::/64 prohibit",
			"-6 rule add pref 80 to fd00:25::/64 prohibit", "-6 route add fd00:25::/64 dev d0 table 100"},
			func(c *netstack.Config) {
				c.Routes = append(c.Routes, netstack.RouteConfig{Netns: "H", Dst: pfx("fd00:20::/64"), Dev: "d0", Table: 100},
					netstack.RouteConfig{Netns: "H", Dst: pfx("fd00:25::/64"), Dev: "d0", Table: 100})
				c.Rules = append(c.Rules, netstack.RuleConfig{Netns: "H", IPv6: true, Priority: 100, Table: 100},
					netstack.RuleConfig{Netns: "H", IPv6: true, Priority: 90, To: pfx("fd00:5::/64"), Type: netstack.RuleProhibit},
					netstack.RuleConfig{Netns: "H", IPv6: true, Priority: 80, To: pfx("fd00:25::/64"), Type: netstack.RuleProhibit})
			}, []step{
				{"-6 route add fd00:21::/64 via fd00:20::3 dev d0", netstack.RouteConfig{Dst: pfx("fd00:21::/64"), Dev: "d0", Via: ad("fd00:20::3")}, 0},
				{"-6 route add fd00:22::/64 via fd00:5::3 dev d0", netstack.RouteConfig{Dst: pfx("fd00:22::/64"), Dev: "d0", Via: ad("fd00:5::3")}, 0},
				{"-6 route add fd00:23::/64 via fd00:25::3 dev d0", netstack.RouteConfig{Dst: pfx("fd00:23::/64"), Dev: "d0", Via: ad("fd00:25::3")}, errno.EHOSTUNREACH},
			}},
		{false, []string{"route add 198.18.20.0/24 dev d0 table 100", "rule add pref 100 lookup 100 suppress_prefixlength 24"},
			func(c *netstack.Config) {
				c.Routes = append(c.Routes, netstack.RouteConfig{Netns: "H", Dst: pfx("198.18.20.0/24"), Dev: "d0", Table: 100})
				c.Rules = append(c.Rules, netstack.RuleConfig{Netns: "H", Priority: 100, Table: 100, Suppress: true, SuppressPrefixlen: 24})
			}, []step{
				{"route add 198.18.21.0/24 via 198.18.20.3 dev d0", netstack.RouteConfig{Dst: pfx("198.18.21.0/24"), Dev: "d0", Via: ad("198.18.20.3")}, errno.ENETUNREACH},
			}},
		{true, []string{"-6 route add fd00:20::/64 dev d0 table 100", "-6 rule add pref 100 lookup 100 suppress_prefixlength 64"},
			func(c *netstack.Config) {
				c.Routes = append(c.Routes, netstack.RouteConfig{Netns: "H", Dst: pfx("fd00:20::/64"), Dev: "d0", Table: 100})
				c.Rules = append(c.Rules, netstack.RuleConfig{Netns: "H", IPv6: true, Priority: 100, Table: 100, Suppress: true, SuppressPrefixlen: 64})
			}, []step{
				// fib6_rule_suppress passes nothing over in fib6_lookup.
				{"-6 route add fd00:21::/64 via fd00:20::3 dev d0", netstack.RouteConfig{Dst: pfx("fd00:21::/64"), Dev: "d0", Via: ad("fd00:20::3")}, 0},
			}},
	} {
		t.Run(fmt.Sprintf("v6=%v/%s", fam.v6, fam.setup[1]), func(t *testing.T) {
			tp, cfg := linkModel(t, fam.v6)
			for _, c := range fam.setup {
				require.NoError(t, tp.h.IP(strings.Fields(c)...), c)
			}
			fam.cfg(cfg)
			s, err := netstack.New(cfg, netstack.Env{Alloc: skb.NewAllocator(kmem.New(), machineProfile())})
			require.NoError(t, err)
			for _, st := range fam.steps {
				kerr := tp.h.IP(strings.Fields(st.ip)...)
				st.route.Netns = "H"
				merr := s.Apply(netstack.Event{Op: netstack.RouteAdd, Route: st.route})
				t.Logf("%s: kernel %v; model %v", st.ip, kerr, merr)
				if st.refused == 0 {
					require.NoError(t, kerr, st.ip)
					require.NoError(t, merr, st.ip)
					continue
				}
				msg := map[errno.Errno]string{errno.ENETUNREACH: "Nexthop has invalid gateway", errno.EHOSTUNREACH: "No route to host"}[st.refused]
				require.Error(t, kerr, st.ip)
				require.Contains(t, kerr.Error(), msg, st.ip)
				require.ErrorIs(t, merr, st.refused, st.ip)
			}
			require.NoError(t, s.Close())
		})
	}
}
