package netstack

import (
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
		var errs []string
		cfg := icmpTopology(true, new([]icmpSeen))
		cfg.Namespaces[0].ICMPErrorsUseInboundIfaddr = tc.inbound
		cfg.Routes = append(cfg.Routes, RouteConfig{Dst: pfx("203.0.113.0/24"), Dev: "lo", Type: RouteLocal})
		if tc.src != "" {
			cfg.Routes = append(cfg.Routes, RouteConfig{Dst: pfx("10.1.0.7/32"), Dev: "veth0", Src: addr(tc.src)})
		}
		cfg.Neighbours = append(cfg.Neighbours, NeighConfig{Dev: "veth0", Addr: addr("10.1.0.7"), MAC: macB})
		cfg.Programs = append(cfg.Programs, ProgramConfig{Name: "atB", Hook: carrier.HookTCIngress, Netns: "B", Dev: "vB",
			Prog: ProgramFunc(func(c *Ctx) int {
				if d := c.Skb.Data()[ethHlen:]; d[9] == ipprotoICMP {
					ip, _ := parseIPv4(d)
					errs = append(errs, ip.src.String())
				}
				return TCXNext
			})})
		s, _ := newStack(t, cfg, "", nil, nil)
		f := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "10.1.0.7", dst: "10.1.0.2", sport: 1, dport: 9, payload: 8, ttl: 1})
		require.NoError(t, s.Inject(&Packet{ID: 1, Tstamp: 1e15, Frame: f}))
		s.Flush()
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
