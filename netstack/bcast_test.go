package netstack

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/skb"
)

// TestBroadcastReceive: a datagram to a network broadcast address of the
// namespace (RTN_BROADCAST, from every address shorter than /31), to
// 255.255.255.255 or to the all-hosts group is delivered locally to every UDP socket bound to the
// port and the wildcard or that address (__udp4_lib_mcast_deliver: the
// first the skb, the others clones); with none it is freed with
// NOT_SPECIFIED and no port unreachable. A TCP segment in a broadcast
// frame is discarded by tcp_v4_rcv. A broadcast of another network is
// routed as any other address.
func TestBroadcastReceive(t *testing.T) {
	for _, tc := range []struct {
		name     string
		dst      string
		dstMAC   [6]byte
		proto    uint8
		socks    []SocketConfig
		forward  bool
		delivers []int // socket indexes, in any order
		drops    []string
	}{
		{name: "network broadcast to a wildcard socket", dst: "10.0.1.255", dstMAC: broadcastMAC,
			socks: []SocketConfig{{Name: "w", Proto: ProtoUDP, Port: 2000}}, delivers: []int{0}},
		{name: "limited broadcast", dst: "255.255.255.255", dstMAC: broadcastMAC,
			socks: []SocketConfig{{Name: "w", Proto: ProtoUDP, Port: 2000}}, delivers: []int{0}},
		{name: "in a unicast frame", dst: "10.0.1.255", dstMAC: macEth0,
			socks: []SocketConfig{{Name: "w", Proto: ProtoUDP, Port: 2000}}, delivers: []int{0}},
		{name: "two sockets: a clone each but the first", dst: "10.0.1.255", dstMAC: broadcastMAC,
			socks: []SocketConfig{{Name: "w", Proto: ProtoUDP, Port: 2000}, {Name: "b", Proto: ProtoUDP, Port: 2000, Addr: addr("10.0.1.255")},
				{Name: "u", Proto: ProtoUDP, Port: 2000, Addr: addr("10.0.1.1")}, {Name: "other", Proto: ProtoUDP, Port: 2001}},
			delivers: []int{0, 1}},
		{name: "no socket", dst: "10.0.1.255", dstMAC: broadcastMAC,
			socks: []SocketConfig{{Name: "u", Proto: ProtoUDP, Port: 2000, Addr: addr("10.0.1.1")}},
			drops: []string{"SKB_DROP_REASON_NOT_SPECIFIED@__udp4_lib_rcv"}},
		{name: "the /30's broadcast", dst: "10.0.2.3", dstMAC: broadcastMAC,
			socks: []SocketConfig{{Name: "w", Proto: ProtoUDP, Port: 2000}}, delivers: []int{0}},
		{name: "a /31 has none", dst: "10.0.3.1", dstMAC: broadcastMAC,
			socks: []SocketConfig{{Name: "w", Proto: ProtoUDP, Port: 2000}},
			drops: []string{"SKB_DROP_REASON_IP_INADDRERRORS@ip_rcv_finish_core"}},
		{name: "another network's broadcast", dst: "10.9.0.255", dstMAC: broadcastMAC,
			socks: []SocketConfig{{Name: "w", Proto: ProtoUDP, Port: 2000}},
			drops: []string{"SKB_DROP_REASON_IP_INADDRERRORS@ip_rcv_finish_core"}},
		// Multicast: the all-hosts group every device joined is
		// delivered like a broadcast; any other group is dropped by
		// ip_route_input_rcu (no group joins, no multicast forwarding).
		{name: "all-hosts group", dst: "224.0.0.1", dstMAC: [6]byte{1, 0, 0x5e, 0, 0, 1},
			socks: []SocketConfig{{Name: "w", Proto: ProtoUDP, Port: 2000}}, delivers: []int{0}},
		{name: "all-hosts group, no socket", dst: "224.0.0.1", dstMAC: [6]byte{1, 0, 0x5e, 0, 0, 1},
			drops: []string{"SKB_DROP_REASON_NOT_SPECIFIED@__udp4_lib_rcv"}},
		{name: "a group not joined", dst: "239.255.255.250", dstMAC: [6]byte{1, 0, 0x5e, 0x7f, 0xff, 0xfa},
			socks: []SocketConfig{{Name: "w", Proto: ProtoUDP, Port: 2000}},
			drops: []string{"SKB_DROP_REASON_NOT_SPECIFIED@ip_rcv_finish_core"}},
		{name: "a group not joined, forwarding on", dst: "239.255.255.250", dstMAC: [6]byte{1, 0, 0x5e, 0x7f, 0xff, 0xfa}, forward: true,
			drops: []string{"SKB_DROP_REASON_NOT_SPECIFIED@ip_rcv_finish_core"}},
		{name: "TCP in a broadcast frame", dst: "10.0.1.1", dstMAC: broadcastMAC, proto: ipprotoTCP,
			socks: []SocketConfig{{Name: "web", Proto: ProtoTCP, Port: 2000}},
			drops: []string{"SKB_DROP_REASON_NOT_SPECIFIED@tcp_v4_rcv"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &Config{
				Namespaces: []NamespaceConfig{{Name: HostNetns, Forwarding: tc.forward}},
				Devices: []DeviceConfig{{Name: "eth0", Kind: KindNIC, MAC: macEth0,
					Addrs: []netip.Prefix{pfx("10.0.1.1/24"), pfx("10.0.2.1/30"), pfx("10.0.3.0/31")}}},
				Sockets: tc.socks,
				Entries: []EntryConfig{{Dev: "eth0"}},
			}
			s, te := newStack(t, cfg, "", nil, nil)
			f := buildFrame(frameOpts{dstMAC: tc.dstMAC, srcMAC: macGW, src: "10.0.1.7", dst: tc.dst, proto: tc.proto,
				sport: 1000, dport: 2000, payload: 10, tcpFlags: 0x02})
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
			var got []int
			for _, d := range te.obs.delivs {
				if d.Kind == DeliverSocket {
					got = append(got, d.Index)
				}
			}
			require.ElementsMatch(t, tc.delivers, got)
			require.Equal(t, tc.drops, te.obs.dropReasons())
		})
	}
}

// TestBroadcastSend: a datagram to a network broadcast address needs
// SO_BROADCAST (udp_sendmsg: EACCES, no skb) and a TCP socket cannot send
// to one (ENETUNREACH); with it, and for the all-hosts group the host has
// joined, ip_mc_output loops a clone back as
// PACKET_LOOPBACK (the sender's namespace delivers it to its own socket
// on the port; cgroup egress programs do not see the clone) and the skb
// leaves in a broadcast frame.
func TestBroadcastSend(t *testing.T) {
	for _, tc := range []struct {
		name      string
		dst       string // "" is the network broadcast 10.0.1.255
		broadcast bool
		proto     string
		ttl0      bool
		drops     []string
		delivers  []int
		egress    int
		mac       [6]byte // of the frame at egress ("" is the broadcast address)
	}{
		{name: "without SO_BROADCAST", drops: []string{"SKB_DROP_REASON_NOT_SPECIFIED@ip_make_skb"}},
		{name: "TCP", proto: ProtoTCP, broadcast: true, drops: []string{"SKB_DROP_REASON_IP_OUTNOROUTES@ip_output"}},
		// The local socket on 2000 gets the looped-back clone; B's socket
		// the frame.
		{name: "with SO_BROADCAST", broadcast: true, delivers: []int{1, 2}, egress: 1},
		// Multicast needs no SO_BROADCAST: the all-hosts group loops back
		// as well; a group the host did not join does not; TTL 0 stays
		// in the host.
		{name: "all-hosts group", dst: "224.0.0.1", delivers: []int{1, 2}, egress: 1, mac: [6]byte{1, 0, 0x5e, 0, 0, 1}},
		{name: "another group", dst: "239.129.2.3", egress: 1, mac: [6]byte{1, 0, 0x5e, 1, 2, 3}, // the low 23 bits
			drops: []string{"SKB_DROP_REASON_NOT_SPECIFIED@ip_rcv_finish_core"}},
		{name: "TTL 0", dst: "224.0.0.1", ttl0: true, delivers: []int{1},
			drops: []string{"SKB_DROP_REASON_NOT_SPECIFIED@ip_output"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var egressMACs [][6]byte
			var inTypes []skb.PktType
			proto := ProtoUDP
			if tc.proto != "" {
				proto = tc.proto
			}
			cfg := &Config{
				Namespaces: []NamespaceConfig{{Name: "B"}},
				Devices: []DeviceConfig{{Name: "v0", Kind: KindVeth, MAC: macEth0, Addrs: []netip.Prefix{pfx("10.0.1.1/24")},
					Peer: "v1", PeerNetns: "B", PeerAddrs: []netip.Prefix{pfx("10.0.1.2/24")}}},
				Sockets: []SocketConfig{
					{Name: "send", Proto: proto, Port: 1000, Broadcast: tc.broadcast, Cgroup: "/app"},
					{Name: "local", Proto: ProtoUDP, Port: 2000},
					{Name: "b", Netns: "B", Proto: ProtoUDP, Port: 2000},
				},
				Programs: []ProgramConfig{
					{Name: "eg", Hook: carrier.HookTCEgress, Dev: "v0", Prog: ProgramFunc(func(c *Ctx) int {
						egressMACs = append(egressMACs, [6]byte(c.Skb.Data()[0:6]))
						return TCXNext
					})},
					{Name: "in", Hook: carrier.HookTCIngress, Dev: "v0", Prog: ProgramFunc(func(c *Ctx) int {
						inTypes = append(inTypes, c.Skb.H().PktType)
						return TCXNext
					})},
					{Name: "cg", Hook: carrier.HookCgroupEgress, Cgroup: "/app", Actions: []Action{{Kind: ActCount}}},
				},
				Entries: []EntryConfig{{Kind: EntryTX, Socket: "send"}},
			}
			if tc.dst == "" {
				tc.dst = "10.0.1.255"
			}
			if tc.mac == ([6]byte{}) {
				tc.mac = broadcastMAC
			}
			cfg.Routes = []RouteConfig{{Dst: pfx("224.0.0.0/4"), Dev: "v0"}}
			s, te := newStack(t, cfg, "", nil, nil)
			f := buildFrame(frameOpts{src: "10.0.1.1", dst: tc.dst, sport: 1000, dport: 2000, payload: 10, noEth: true,
				proto: map[string]uint8{ProtoUDP: ipprotoUDP, ProtoTCP: ipprotoTCP}[proto], tcpFlags: 0x02})
			if tc.ttl0 {
				f[8] = 0
				setIPCsum(f, ipHlen)
			}
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
			require.Equal(t, tc.drops, te.obs.dropReasons())
			var got []int
			for _, d := range te.obs.delivs {
				if d.Kind == DeliverSocket {
					got = append(got, d.Index)
				}
			}
			require.ElementsMatch(t, tc.delivers, got)
			require.Len(t, egressMACs, tc.egress)
			if tc.egress != 0 {
				require.Equal(t, tc.mac, egressMACs[0], "the RTN_BROADCAST or multicast neighbour")
				require.Equal(t, uint64(1), s.ProgramCount(2), "cgroup egress runs on the skb, not on the clone")
			}
			if slices.Contains(tc.delivers, 1) {
				require.Equal(t, []skb.PktType{skb.PacketLoopback}, inTypes, "dev_loopback_xmit's clone")
			} else {
				require.Empty(t, inTypes)
			}
		})
	}
}

// TestMulticastJoin: a group a socket joined (IP_ADD_MEMBERSHIP) is
// delivered on the device it was joined on, or on the device of the route
// to it when none is named, and not on another; a local send to it loops
// a copy back. Joining a unicast address or on an unknown device is a
// configuration error.
func TestMulticastJoin(t *testing.T) {
	group := addr("239.1.2.3")
	base := func(join GroupJoin) *Config {
		return &Config{
			Devices: []DeviceConfig{
				{Name: "eth0", Kind: KindNIC, MAC: macEth0, Addrs: []netip.Prefix{pfx("10.0.1.1/24")}},
				{Name: "eth1", Kind: KindNIC, MAC: macMvB, Addrs: []netip.Prefix{pfx("10.0.2.1/24")}},
			},
			Routes:  []RouteConfig{{Dst: pfx("224.0.0.0/4"), Dev: "eth1"}},
			Sockets: []SocketConfig{{Name: "m", Proto: ProtoUDP, Port: 2000, Join: []GroupJoin{join}}, {Name: "s", Proto: ProtoUDP, Port: 1000}},
			Entries: []EntryConfig{{Dev: "eth0"}, {Dev: "eth1"}, {Kind: EntryTX, Socket: "s"}},
		}
	}
	frame := buildFrame(frameOpts{dstMAC: [6]byte{1, 0, 0x5e, 1, 2, 3}, srcMAC: macGW, src: "10.0.1.7", dst: "239.1.2.3", sport: 1000, dport: 2000, payload: 10})
	for _, tc := range []struct {
		name  string
		join  GroupJoin
		entry int
		want  uint64
	}{
		{"joined on eth0", GroupJoin{Group: group, Dev: "eth0"}, 0, 1},
		{"not joined on eth1", GroupJoin{Group: group, Dev: "eth0"}, 1, 0},
		{"joined on the route's device", GroupJoin{Group: group}, 1, 1},
		{"a local send loops back", GroupJoin{Group: group}, 2, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, te := newStack(t, base(tc.join), "", nil, nil)
			f := frame
			if tc.entry == 2 {
				f = f[ethHlen:]
			}
			require.NoError(t, s.Inject(&Packet{ID: 1, Entry: tc.entry, Frame: f}))
			require.Equal(t, tc.want, te.obs.delivered(DeliverSocket))
			if tc.want == 0 {
				require.Equal(t, []string{"SKB_DROP_REASON_NOT_SPECIFIED@ip_rcv_finish_core"}, te.obs.dropReasons())
			}
		})
	}
	for _, j := range []GroupJoin{{Group: addr("10.0.0.9")}, {Group: group, Dev: "eth9"}} {
		cfg := base(j)
		cfg.Routes = nil
		require.ErrorIs(t, newStackErr(t, cfg, ""), ErrConfig, "%v", j)
	}
	cfg := base(GroupJoin{Group: group})
	cfg.Routes = nil
	require.ErrorIs(t, newStackErr(t, cfg, ""), ErrConfig, "no route picks a device")
}
