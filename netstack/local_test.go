package netstack

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/skb"
)

// anyIPConfig: a NIC in the host receives traffic for arbitrary
// addresses; routes and sockets are added by each case.
func anyIPConfig() *Config {
	return &Config{
		Devices: []DeviceConfig{{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("192.0.2.1/24")}}},
		Sockets: []SocketConfig{
			{Name: "dns", Proto: ProtoUDP, Port: 53},
			{Name: "pinned", Proto: ProtoUDP, Addr: addr("203.0.113.9"), Port: 5000},
			{Name: "web", Proto: ProtoTCP, Port: 80},
		},
	}
}

func frameTo(dst string, proto uint8, dport uint16) []byte {
	return frameFrom("192.0.2.7", dst, proto, dport)
}

// frameFrom is frameTo from src.
func frameFrom(src, dst string, proto uint8, dport uint16) []byte {
	return buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: src, dst: dst, proto: proto,
		sport: 40000, dport: dport, payload: 16, tcpFlags: tcpACK | tcpPSH})
}

// TestLocalRoutes: fib_table_lookup returns RTN_LOCAL for a destination
// covered by a local route (`ip route add local 0.0.0.0/0 dev lo`, AnyIP)
// or by the prefix of an address on lo, so ip_route_input_slow delivers it
// to a socket bound to the port on the wildcard (or on that address). The
// sources are on eth0's link, whose connected route is a longer match than
// the local route in fib_validate_source's reverse lookup; a source only
// the local route covers is refused (IP_LOCAL_SOURCE) unless accept_local.
func TestLocalRoutes(t *testing.T) {
	anyIP := []RouteConfig{{Dst: pfx("0.0.0.0/0"), Dev: "lo", Type: RouteLocal}}
	for _, tc := range []struct {
		name   string
		routes []RouteConfig
		loAddr []netip.Prefix
		fwd    bool
		frame  []byte
		sock   int // delivered to this socket; -1: dropped
		drop   string
	}{
		{"anyip udp", anyIP, nil, false, frameTo("203.0.113.77", ipprotoUDP, 53), 0, ""},
		{"anyip, a source the local route covers", anyIP, nil, false, frameFrom("198.51.100.7", "203.0.113.77", ipprotoUDP, 53), -1,
			"SKB_DROP_REASON_IP_LOCAL_SOURCE@ip_rcv_finish_core"},
		{"anyip tcp", anyIP, nil, false, frameTo("10.9.8.7", ipprotoTCP, 80), 2, ""},
		{"anyip pinned address", anyIP, nil, false, frameTo("203.0.113.9", ipprotoUDP, 5000), 1, ""},
		{"anyip other address of a pinned port", anyIP, nil, false, frameTo("203.0.113.10", ipprotoUDP, 5000), -1,
			"SKB_DROP_REASON_NO_SOCKET@__udp4_lib_rcv"},
		{"local prefix only", []RouteConfig{{Dst: pfx("203.0.113.0/24"), Dev: "lo", Type: RouteLocal}}, nil, false,
			frameTo("203.0.113.77", ipprotoUDP, 53), 0, ""},
		{"outside the local prefix", []RouteConfig{{Dst: pfx("203.0.113.0/24"), Dev: "lo", Type: RouteLocal}}, nil, false,
			frameTo("198.18.0.1", ipprotoUDP, 53), -1, "SKB_DROP_REASON_IP_INADDRERRORS@ip_rcv_finish_core"},
		{"loopback address prefix", nil, []netip.Prefix{pfx("10.0.0.1/8")}, false, frameTo("10.200.3.4", ipprotoUDP, 53), 0, ""},
		{"no local route", nil, nil, false, frameTo("203.0.113.77", ipprotoUDP, 53), -1,
			"SKB_DROP_REASON_IP_INADDRERRORS@ip_rcv_finish_core"},
		{"unicast route via lo is not local", []RouteConfig{{Dst: pfx("203.0.113.0/24"), Dev: "lo"}}, nil, false,
			frameTo("203.0.113.77", ipprotoUDP, 53), -1, "SKB_DROP_REASON_IP_INADDRERRORS@ip_rcv_finish_core"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := anyIPConfig()
			cfg.Routes = tc.routes
			cfg.Namespaces = []NamespaceConfig{{Name: HostNetns, Forwarding: tc.fwd}}
			if tc.loAddr != nil {
				cfg.Devices = append(cfg.Devices, DeviceConfig{Name: "lo", Kind: KindLoopback, Addrs: tc.loAddr})
			}
			s, te := newStack(t, cfg, "", nil, nil)
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: tc.frame}))
			if tc.sock < 0 {
				require.Empty(t, te.obs.delivs)
				require.Equal(t, []string{tc.drop}, te.obs.dropReasons())
				return
			}
			require.Empty(t, te.obs.drops)
			require.Equal(t, []DeliverEvent{{PacketID: 1, Kind: DeliverSocket, Index: tc.sock}}, te.obs.delivs)
		})
	}
}

// TestLocalRouteOutput: a socket sending to an AnyIP destination routes it
// through loopback (__mkroute_output: RTN_LOCAL -> dev_out = lo) and
// receives it itself.
func TestLocalRouteOutput(t *testing.T) {
	cfg := anyIPConfig()
	cfg.Routes = []RouteConfig{{Dst: pfx("0.0.0.0/0"), Dev: "lo", Type: RouteLocal}}
	cfg.Sockets = append(cfg.Sockets, SocketConfig{Name: "cli", Proto: ProtoUDP, Port: 40000})
	cfg.Entries = []EntryConfig{{Kind: EntryTX, Socket: "cli"}}
	var devs []string
	cfg.Programs = []ProgramConfig{{Name: "lo-in", Hook: carrier.HookTCIngress, Dev: "lo", Prog: ProgramFunc(func(c *Ctx) int {
		devs = append(devs, c.Dev.Name())
		return TCXNext
	})}}
	s, te := newStack(t, cfg, "", nil, nil)
	f := buildFrame(frameOpts{src: "192.0.2.1", dst: "203.0.113.50", sport: 40000, dport: 53, payload: 8, noEth: true})
	require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
	require.Equal(t, []string{"lo"}, devs)
	require.Empty(t, te.obs.drops)
	require.Equal(t, []DeliverEvent{{PacketID: 1, Kind: DeliverSocket, Index: 0}}, te.obs.delivs)
}

// TestTProxy: a TPROXY rule steers every packet of its protocol to the
// transparent socket (nf_tproxy_assign_sock, skb_steal_sock in the
// protocol's receive), whatever the destination port, provided a local
// route makes the destination local; without one the packet is routed on
// and ip_forward drops it (skb->sk set), or ip_error when forwarding is off.
func TestTProxy(t *testing.T) {
	anyIP := []RouteConfig{{Dst: pfx("0.0.0.0/0"), Dev: "lo", Type: RouteLocal}}
	for _, tc := range []struct {
		name   string
		routes []RouteConfig
		fwd    bool
		frame  []byte
		sock   int
		drop   string
	}{
		{"udp any port", anyIP, false, frameTo("203.0.113.77", ipprotoUDP, 12345), 3, ""},
		{"udp to a bound port is stolen too", anyIP, false, frameTo("203.0.113.77", ipprotoUDP, 53), 3, ""},
		{"tcp any port", anyIP, false, frameTo("203.0.113.77", ipprotoTCP, 443), 4, ""},
		{"local address", nil, false, frameTo("192.0.2.1", ipprotoUDP, 7), 3, ""},
		{"no local route, forwarding", []RouteConfig{{Dst: pfx("0.0.0.0/0"), Dev: "eth0", Via: addr("192.0.2.254")}}, true,
			frameTo("203.0.113.77", ipprotoUDP, 12345), -1, "SKB_DROP_REASON_NOT_SPECIFIED@ip_forward"},
		{"no local route, no forwarding", nil, false, frameTo("203.0.113.77", ipprotoUDP, 12345), -1,
			"SKB_DROP_REASON_IP_INADDRERRORS@ip_rcv_finish_core"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := anyIPConfig()
			cfg.Routes = tc.routes
			cfg.Namespaces = []NamespaceConfig{{Name: HostNetns, Forwarding: tc.fwd}}
			cfg.Neighbours = []NeighConfig{{Dev: "eth0", Addr: addr("192.0.2.254"), MAC: macB}}
			cfg.Sockets = append(cfg.Sockets,
				SocketConfig{Name: "proxy-udp", Proto: ProtoUDP, Port: 9000, TProxy: true, Cgroup: "/proxy"},
				SocketConfig{Name: "proxy-tcp", Proto: ProtoTCP, Port: 9001, TProxy: true, Cgroup: "/proxy"})
			var filtered []string
			cfg.Programs = []ProgramConfig{{Name: "cg", Hook: carrier.HookCgroupIngress, Cgroup: "/proxy", Prog: ProgramFunc(func(c *Ctx) int {
				filtered = append(filtered, c.Socket.Name())
				return CgroupAllow
			})}}
			s, te := newStack(t, cfg, "", nil, nil)
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: tc.frame}))
			if tc.sock < 0 {
				require.Empty(t, te.obs.delivs)
				require.Equal(t, []string{tc.drop}, te.obs.dropReasons())
				require.Empty(t, filtered)
				return
			}
			require.Empty(t, te.obs.drops)
			require.Equal(t, []DeliverEvent{{PacketID: 1, Kind: DeliverSocket, Index: tc.sock}}, te.obs.delivs)
			require.Equal(t, []string{cfg.Sockets[tc.sock].Name}, filtered, "cgroup ingress of the proxy's cgroup")
		})
	}
}

func TestLocalRouteConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		rc   RouteConfig
	}{
		{"unknown type", RouteConfig{Dst: pfx("0.0.0.0/0"), Dev: "lo", Type: "blackhole"}},
		{"gateway on a local route", RouteConfig{Dst: pfx("0.0.0.0/0"), Dev: "lo", Type: RouteLocal, Via: addr("192.0.2.9")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := anyIPConfig()
			cfg.Routes = []RouteConfig{tc.rc}
			_, err := New(cfg, Env{Alloc: skb.NewAllocator(kmem.New(), skb.DefaultProfile())})
			require.ErrorIs(t, err, ErrConfig)
		})
	}
}

func newAlloc() *skb.Allocator { return skb.NewAllocator(kmem.New(), skb.DefaultProfile()) }

// TestLocalDeliverClearsDeliveryTime: a delivery time set at tc egress
// survives loopback_xmit (skb_clear_tstamp keeps it) and becomes a receive
// time in ip_local_deliver_finish (skb_clear_delivery_time): the socket's
// filter sees tstamp_type REALTIME and no timestamp.
func TestLocalDeliverClearsDeliveryTime(t *testing.T) {
	type ts struct {
		typ skb.TstampType
		v   int64
	}
	var seen []ts
	cfg := loConfig(
		ProgramConfig{Name: "edt", Hook: carrier.HookTCEgress, Dev: "lo", Actions: []Action{{Kind: ActSetTstamp, Value: 12345, Mono: true}}},
		ProgramConfig{Name: "lo-in", Hook: carrier.HookTCIngress, Dev: "lo", Prog: ProgramFunc(func(c *Ctx) int {
			seen = append(seen, ts{c.Skb.H().TstampType, c.Skb.H().Tstamp})
			return TCXNext
		})},
		ProgramConfig{Name: "f", Hook: carrier.HookSocketFilter, Socket: "srv", Prog: ProgramFunc(func(c *Ctx) int {
			seen = append(seen, ts{c.Skb.H().TstampType, c.Skb.H().Tstamp})
			return FilterAccept
		})},
	)
	s, te := newStack(t, cfg, "", nil, nil)
	require.NoError(t, s.Inject(&Packet{ID: 1, Frame: loDatagram()}))
	require.Equal(t, []ts{{skb.ClockMonotonic, 12345}, {skb.ClockRealtime, 0}}, seen)
	require.Len(t, te.obs.delivs, 1)
}
