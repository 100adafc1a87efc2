package netstack

import (
	"cmp"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/internal/errno"
)

// TestPrefsrcConfig: a route's preferred source must be local (IPv4: an
// address of a device, up or down, or in a local route), an address of a
// device (IPv6; a link-local one of the route's), of the route's family,
// on a unicast route.
func TestPrefsrcConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		rc   RouteConfig
		ok   bool
	}{
		{"an address of the route's device", RouteConfig{Dst: pfx("10.33.0.0/16"), Dev: "veth0", Via: addr("10.1.0.254"), Src: addr("10.1.0.1")}, true},
		{"an address of another device", RouteConfig{Dst: pfx("10.33.0.0/16"), Dev: "veth0", Via: addr("10.1.0.254"), Src: addr("192.0.2.1")}, true},
		{"in a local route", RouteConfig{Dst: pfx("10.33.0.0/16"), Dev: "veth0", Via: addr("10.1.0.254"), Src: addr("203.0.113.5")}, true},
		{"a loopback address", RouteConfig{Dst: pfx("10.33.0.0/16"), Dev: "veth0", Via: addr("10.1.0.254"), Src: addr("127.0.0.9")}, true},
		{"no local address", RouteConfig{Dst: pfx("10.33.0.0/16"), Dev: "veth0", Via: addr("10.1.0.254"), Src: addr("10.1.0.2")}, false},
		{"the subnet broadcast", RouteConfig{Dst: pfx("10.33.0.0/16"), Dev: "veth0", Via: addr("10.1.0.254"), Src: addr("10.1.0.255")}, false},
		{"another family", RouteConfig{Dst: pfx("10.33.0.0/16"), Dev: "veth0", Via: addr("10.1.0.254"), Src: addr("fd00:1::1")}, false},
		{"on a blackhole route", RouteConfig{Dst: pfx("10.33.0.0/16"), Type: RouteBlackhole, Src: addr("10.1.0.1")}, false},
		{"IPv6: an address of another device", RouteConfig{Dst: pfx("fd00:7::/64"), Dev: "veth0", Via: addr("fd00:1::2"), Src: addr("2001:db8:1::1")}, true},
		{"IPv6: a peer's address", RouteConfig{Dst: pfx("fd00:7::/64"), Dev: "veth0", Via: addr("fd00:1::2"), Src: addr("fd00:1::2")}, false},
		{"IPv6: a link-local address of another device", RouteConfig{Dst: pfx("fd00:7::/64"), Dev: "veth0", Via: addr("fd00:1::2"), Src: addr("fe80::1")}, false},
		{"IPv6: a link-local address of the device", RouteConfig{Dst: pfx("fd00:7::/64"), Dev: "eth0", Via: addr("2001:db8:1::2"), Src: addr("fe80::1")}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fibTopology(true)
			cfg.Devices[0].Addrs = append(cfg.Devices[0].Addrs, pfx("fe80::1/64"))
			cfg.Routes = append(cfg.Routes, RouteConfig{Dst: pfx("203.0.113.0/24"), Dev: "lo", Type: RouteLocal}, tc.rc)
			err := newStackErr(t, cfg, "")
			if tc.ok {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrConfig)
			require.ErrorIs(t, err, errno.EINVAL)
			require.ErrorContains(t, err, "src")
			if tc.rc.Src.Is4() == tc.rc.Dst.Addr().Is4() && tc.rc.Type == "" {
				// As an event.
				s, _ := newStack(t, fibTopology(true), "", nil, nil)
				require.ErrorIs(t, s.Apply(Event{Op: RouteAdd, Route: tc.rc}), errno.EINVAL)
			}
		})
	}
}

// TestPrefsrc: the host's ICMP errors and bpf_fib_lookup's
// BPF_FIB_LOOKUP_SRC take the route's preferred source; deleting the
// address deletes an IPv4 route that names it and takes it from an IPv6
// route through the address's device (not from one through another).
func TestPrefsrc(t *testing.T) {
	// A time exceeded about a packet from 10.1.0.7 (behind veth0) comes
	// from the route back's src, unless icmp_errors_use_inbound_ifaddr
	// picked eth0's address first.
	for _, tc := range []struct {
		src     string
		inbound bool
		want    string
	}{{"", false, "10.1.0.1"}, {"203.0.113.5", false, "203.0.113.5"}, {"203.0.113.5", true, "192.0.2.1"}} {
		cfg := icmpTopology(true, new([]icmpSeen))
		cfg.Namespaces[0].ICMPErrorsUseInboundIfaddr = tc.inbound
		cfg.Routes = append(cfg.Routes, RouteConfig{Dst: pfx("203.0.113.0/24"), Dev: "lo", Type: RouteLocal})
		if tc.src != "" {
			cfg.Routes = append(cfg.Routes, RouteConfig{Dst: pfx("10.1.0.7/32"), Dev: "veth0", Src: addr(tc.src)})
		}
		errs := timeExceededSrcs(t, cfg)
		assert.Equal(t, []string{tc.want}, errs, "src %q, icmp_errors_use_inbound_ifaddr %v", tc.src, tc.inbound)
	}

	// bpf_fib_lookup with BPF_FIB_LOOKUP_SRC, before and after events.
	cfg := fibTopology(true)
	cfg.Devices[0].Addrs = append(cfg.Devices[0].Addrs, pfx("192.0.2.50/24"))
	cfg.Devices[1].Addrs = append(cfg.Devices[1].Addrs, pfx("fd00:1::50/64"))
	cfg.Routes = append(cfg.Routes,
		RouteConfig{Dst: pfx("10.3.0.0/16"), Dev: "veth0", Via: addr("10.1.0.254"), Src: addr("192.0.2.50")},
		RouteConfig{Dst: pfx("fd00:3::/64"), Dev: "veth0", Via: addr("fd00:1::2"), Src: addr("fd00:1::50")},
		RouteConfig{Dst: pfx("fd00:4::/64"), Dev: "eth0", Via: addr("2001:db8:1::2"), Src: addr("fd00:1::50")},
		RouteConfig{Dst: pfx("fd00:5::/64"), Dev: "veth0", Via: addr("fd00:1::2"), Src: addr("2001:db8:1::1")})
	type answer struct {
		rc  int
		src string
	}
	var got map[string]answer
	cfg.Programs = append(cfg.Programs, ProgramConfig{Name: "fib", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
		for _, dst := range []string{"10.3.1.1", "fd00:3::1", "fd00:4::1", "fd00:5::1", "10.9.1.1"} {
			p := FibParams{Family: AFInet, Ifindex: 2, Src: addr("192.0.2.9"), Dst: addr(dst)}
			if p.Dst.Is6() {
				p.Family, p.Src = AFInet6, addr("2001:db8:1::9")
			}
			rc := c.FibLookup(&p, FibLookupSrc|FibLookupSkipNeigh)
			got[dst] = answer{rc, p.Src.String()}
		}
		return TCXNext
	})})
	s, _ := newStack(t, cfg, "", nil, nil)
	lookup := func() map[string]answer {
		got = map[string]answer{}
		require.NoError(t, s.Inject(&Packet{ID: 1, Frame: buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macA, src: "192.0.2.9", dst: "10.1.0.2",
			sport: 1000, dport: 2000, payload: 10})}))
		s.Flush()
		return got
	}
	assert.Equal(t, map[string]answer{
		"10.3.1.1": {FibRetSuccess, "192.0.2.50"}, "fd00:3::1": {FibRetSuccess, "fd00:1::50"}, "fd00:4::1": {FibRetSuccess, "fd00:1::50"},
		"fd00:5::1": {FibRetSuccess, "2001:db8:1::1"}, "10.9.1.1": {FibRetSuccess, "10.1.0.1"},
	}, lookup())
	require.NoError(t, s.Apply(Event{Op: AddrDel, Dev: "eth0", Addr: pfx("192.0.2.50/24")}))
	require.NoError(t, s.Apply(Event{Op: AddrDel, Dev: "veth0", Addr: pfx("fd00:1::50/64")}))
	assert.Equal(t, map[string]answer{
		// fib_sync_down_addr deleted 10.3.0.0/16: no route.
		"10.3.1.1": {FibRetNotFwded, "192.0.2.9"},
		// rt6_remove_prefsrc: the route through veth0 lost it, the one
		// through eth0 kept it.
		"fd00:3::1": {FibRetSuccess, "fd00:1::1"}, "fd00:4::1": {FibRetSuccess, "fd00:1::50"},
		"fd00:5::1": {FibRetSuccess, "2001:db8:1::1"}, "10.9.1.1": {FibRetSuccess, "10.1.0.1"},
	}, lookup())
}

// TestPrefsrcTunnel: a tunnel without a local address takes its outer
// source from the route to its remote (ip_tunnel_xmit's
// ip_route_output_key: fl4.saddr is fib_result_prefsrc), the route's src
// first.
func TestPrefsrcTunnel(t *testing.T) {
	for _, src := range []string{"", "203.0.113.5"} {
		var outer []string
		cfg := &Config{
			Namespaces: []NamespaceConfig{{Name: HostNetns, Forwarding: true}},
			Devices: []DeviceConfig{
				{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("192.0.2.2/24")}},
				{Name: "tun0", Kind: KindIPIP, Remote: addr("198.51.100.7"), Addrs: []netip.Prefix{pfx("10.19.0.1/24")}},
			},
			Routes: []RouteConfig{
				{Dst: pfx("203.0.113.0/24"), Dev: "lo", Type: RouteLocal},
				{Dst: pfx("10.20.0.0/16"), Dev: "tun0"},
				{Dst: pfx("198.51.100.0/24"), Dev: "eth0", Via: addr("192.0.2.1")},
			},
			Neighbours: []NeighConfig{{Dev: "eth0", Addr: addr("192.0.2.1"), MAC: macB}},
			Programs: []ProgramConfig{{Name: "out", Hook: carrier.HookTCEgress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
				if d := c.Skb.Data()[ethHlen:]; d[9] == ipprotoIPIP {
					ip, _ := parseIPv4(d)
					outer = append(outer, ip.src.String())
				}
				return TCXNext
			})}},
			Entries: []EntryConfig{{Dev: "eth0"}},
		}
		if src != "" {
			cfg.Routes[2].Src = addr(src)
		}
		s, _ := newStack(t, cfg, "", nil, nil)
		f := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "10.20.0.1", sport: 1, dport: 9, payload: 8, ttl: 64})
		require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
		s.Flush()
		assert.Equal(t, []string{cmp.Or(src, "192.0.2.2")}, outer, "src %q", src)
	}
}

// TestPrefsrcICMPv6: a time exceeded about a forwarded IPv6 packet comes
// from the route back's src (ip6_route_get_saddr), else the address
// ipv6_dev_get_saddr picks.
func TestPrefsrcICMPv6(t *testing.T) {
	for _, src := range []string{"", "fd00:1::1"} {
		var errs []string
		cfg := fibTopology(true, ProgramConfig{Name: "out", Hook: carrier.HookTCEgress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
			if d := c.Skb.Data()[ethHlen:]; len(d) > ip6Hlen && d[6] == nexthdrICMPv6 && d[ip6Hlen] == 3 {
				errs = append(errs, netip.AddrFrom16([16]byte(d[8:24])).String())
			}
			return TCXNext
		})})
		cfg.Options.Replies = true
		cfg.Neighbours = append(cfg.Neighbours, NeighConfig{Dev: "eth0", Addr: addr("2001:db8:1::9"), MAC: macB})
		if src != "" {
			cfg.Routes = append(cfg.Routes, RouteConfig{Dst: pfx("2001:db8:1::9/128"), Dev: "eth0", Src: addr(src)})
		}
		s, _ := newStack(t, cfg, "", nil, nil)
		f := buildFrame6(frame6{dstMAC: macNIC, srcMAC: macB, src: "2001:db8:1::9", dst: "fd00:9::5", hopLimit: 1, dport: 9, payload: 8})
		require.NoError(t, s.Inject(&Packet{ID: 1, Tstamp: 1e15, Frame: f}))
		s.Flush()
		assert.Equal(t, []string{cmp.Or(src, "2001:db8:1::1")}, errs, "src %q", src)
	}
}
