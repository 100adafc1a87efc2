package netstack

import (
	"encoding/binary"
	"errors"
	"flag"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/internal/testutil"
	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/skb"
)

// setRapidSeed makes rapid use the project's deterministic seed unless
// -rapid.seed was given.
func setRapidSeed(t *testing.T) {
	f := flag.Lookup("rapid.seed")
	if f == nil || f.Value.String() != "0" {
		return
	}
	require.NoError(t, f.Value.Set(strconv.FormatUint(uint64(testutil.Seed(t)), 10)))
}

// propConfigs are topologies that exercise most paths: a NIC with native
// XDP and forwarding, a tap and GRO; veth with redirect_peer; tunnels; a
// bridge.
func propConfigs() []*Config {
	fwd := rxVethConfig()
	fwd.Namespaces = append(fwd.Namespaces, NamespaceConfig{Name: HostNetns, Forwarding: true})
	fwd.Devices[0].XDP = "native"
	fwd.Taps = []TapConfig{{Name: "dump", Dir: TapBoth}}
	fwd.Sockets = append(fwd.Sockets, SocketConfig{Name: "tcp", Netns: "c", Proto: ProtoTCP, Port: 80},
		SocketConfig{Name: "tx", Netns: "c", Proto: ProtoTCP, Port: 81})
	fwd.Programs = append(fwd.Programs,
		ProgramConfig{Name: "xdp", Hook: carrier.HookXDP, Dev: "eth0", Actions: []Action{{Kind: ActAdjustMeta, Value: 8}, {Kind: ActWrite, Map: 0}}},
		ProgramConfig{Name: "clone", Hook: carrier.HookTCEgress, Netns: "c", Dev: "eth0",
			Actions: []Action{{Kind: ActRead, Map: 0}, {Kind: ActCloneRedirect, Target: "lo"}}},
		ProgramConfig{Name: "tp", Hook: carrier.HookTracepoint, Actions: []Action{{Kind: ActRead, Map: 0}}},
	)
	fwd.Entries = []EntryConfig{{Dev: "eth0"}, {Kind: EntryTX, Netns: "c", Socket: "tx"}, {Kind: EntryTX, Netns: "c", Socket: "app"}}
	tun := tunnelPair(KindVXLAN, 5)
	tun.Entries = append(tun.Entries, EntryConfig{Netns: "B", Dev: "vB"})
	gre := tunnelPair(KindGRETap, 3)
	gre.Entries = append(gre.Entries, EntryConfig{Netns: "B", Dev: "vB"})
	// AnyIP with TPROXY steering UDP, IPv6 with forwarding and sockets.
	any := tproxyConfig()
	any.Namespaces = []NamespaceConfig{{Name: HostNetns, Forwarding: true, IPv6Forwarding: true}}
	any.Devices[0].Addrs = append(any.Devices[0].Addrs, pfx("2001:db8::1/64"))
	any.Routes = append(any.Routes, RouteConfig{Dst: pfx("fd00::/16"), Dev: "eth0", Via: addr("2001:db8::fe")})
	any.Neighbours = []NeighConfig{{Dev: "eth0", Addr: addr("2001:db8::fe"), MAC: macB}}
	any.Sockets = append(any.Sockets, SocketConfig{Name: "v6", Proto: ProtoTCP, Addr: addr("::"), Port: 80})
	// Senders whose payload sits in page fragments (UDP_SEGMENT, TCP) over a
	// veth with GRO on the peer, and act_mirred copying both directions to
	// the namespaces' loopback devices.
	gso := vethTxConfig()
	gso.Sockets[0].UDPSegment = 1000
	gso.Sockets = append(gso.Sockets, SocketConfig{Name: "ttx", Netns: "A", Proto: ProtoTCP, Port: 81},
		SocketConfig{Name: "trx", Netns: "B", Proto: ProtoTCP, Port: 80})
	gso.Devices[0].PeerGRO = "on"
	gso.Programs = append(gso.Programs,
		ProgramConfig{Name: "mir", Hook: carrier.HookTCIngress, Netns: "B", Dev: "vB",
			Actions: []Action{{Kind: ActRead, Map: 0}, {Kind: ActMirred, Target: "lo", Ingress: true, Mirror: true}}},
		ProgramConfig{Name: "mir-out", Hook: carrier.HookTCEgress, Netns: "A", Dev: "vA",
			Actions: []Action{{Kind: ActWrite, Map: 0}, {Kind: ActMirred, Target: "lo", Mirror: true}}},
		ProgramConfig{Name: "mir-redirect", Hook: carrier.HookTCIngress, Netns: "B", Dev: "lo",
			Actions: []Action{{Kind: ActMirred, Target: "vB"}}})
	gso.Entries = append(gso.Entries, EntryConfig{Kind: EntryTX, Netns: "A", Socket: "ttx"}, EntryConfig{Netns: "B", Dev: "vB"})
	// UDP GRO for forwarding and fraglist GRO on a tapped NIC with native
	// XDP; the aggregates leave through a NIC (skb_segment_list), a veth
	// whose peer runs native XDP (software GSO) or reach local sockets.
	glist := &Config{
		Namespaces: []NamespaceConfig{{Name: HostNetns, Forwarding: true}, {Name: "c", Forwarding: true}},
		Devices: []DeviceConfig{
			{Name: "eth0", Kind: KindNIC, MAC: macNIC, XDP: "native", Addrs: []netip.Prefix{pfx("192.0.2.1/24")},
				GROList: true, UDPGROForwarding: true},
			{Name: "eth1", Kind: KindNIC, MAC: macA, Addrs: []netip.Prefix{pfx("198.51.100.1/24")}},
			{Name: "veth0", Kind: KindVeth, MAC: macB, Addrs: []netip.Prefix{pfx("10.200.0.1/30")}, Peer: "eth0", PeerNetns: "c",
				PeerMAC: macPeer, PeerAddrs: []netip.Prefix{pfx("10.200.0.2/30"), pfx("10.9.0.2/16")}, PeerGRO: "on", PeerGROList: true},
		},
		Routes: []RouteConfig{{Dst: pfx("203.0.113.0/24"), Dev: "eth1", Via: addr("198.51.100.2")},
			{Dst: pfx("10.9.0.0/16"), Dev: "veth0", Via: addr("10.200.0.2")}},
		Neighbours: []NeighConfig{{Dev: "eth1", Addr: addr("198.51.100.2"), MAC: macB},
			{Dev: "veth0", Addr: addr("10.200.0.2"), MAC: macPeer}},
		Sockets: []SocketConfig{{Name: "app", Proto: ProtoUDP, Port: 9999}, {Name: "capp", Netns: "c", Proto: ProtoUDP, Port: 9999}},
		Taps:    []TapConfig{{Name: "dump", Dev: "eth0", Dir: TapBoth}},
		Programs: []ProgramConfig{
			{Name: "xdp", Hook: carrier.HookXDP, Dev: "eth0", Actions: []Action{{Kind: ActAdjustMeta, Value: 8}}},
			{Name: "cxdp", Hook: carrier.HookXDP, Netns: "c", Dev: "eth0", Actions: []Action{{Kind: ActAdjustMeta, Value: 8}}},
			{Name: "in", Hook: carrier.HookTCIngress, Dev: "eth0", Actions: []Action{{Kind: ActWrite, Map: 0}, {Kind: ActSetMark, Value: 3}}},
			{Name: "out", Hook: carrier.HookTCEgress, Dev: "eth1", Actions: []Action{{Kind: ActRead, Map: 0}}},
			{Name: "f", Hook: carrier.HookSocketFilter, Netns: "c", Socket: "capp", Actions: []Action{{Kind: ActRead, Map: 0}}},
			{Name: "tp", Hook: carrier.HookTracepoint, Actions: []Action{{Kind: ActRead, Map: 0}}},
		},
		Entries: []EntryConfig{{Dev: "eth0"}},
	}
	// The same with a UDP_GRO socket: udp_encap_needed_key on.
	glistKey := *glist
	glistKey.Sockets = append([]SocketConfig{{Name: "gro", Proto: ProtoUDP, Port: 53, UDPGRO: true}}, glist.Sockets...)
	// Tunnel GRO: a tapped NIC (rx-udp-gro-forwarding) with a vxlan
	// device (VNI 5) and a geneve one (VNI 6) whose sockets merge VXLAN
	// packets for the host and in transit; transit aggregates leave through a NIC without GSO offloads
	// (skb_udp_tunnel_segment), inner packets for the tunnel subnet are
	// encapsulated again (iptunnel_handle_offloads).
	tgro := &Config{
		Namespaces: []NamespaceConfig{{Name: HostNetns, Forwarding: true}},
		Devices: []DeviceConfig{
			{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("192.0.2.1/24")}, UDPGROForwarding: true},
			{Name: "eth1", Kind: KindNIC, MAC: macA, Addrs: []netip.Prefix{pfx("198.51.100.1/24")}, SoftwareGSO: true},
			{Name: "vx0", Kind: KindVXLAN, MAC: macB, VNI: 5, Remote: addr("198.51.100.9"), Addrs: []netip.Prefix{pfx("10.9.0.1/16")}},
			{Name: "gn0", Kind: KindGeneve, MAC: macPeer, VNI: 6, Remote: addr("192.0.2.9"), Addrs: []netip.Prefix{pfx("10.0.0.1/24")}},
		},
		Routes: []RouteConfig{{Dst: pfx("203.0.113.0/24"), Dev: "eth1", Via: addr("198.51.100.2")}},
		Neighbours: []NeighConfig{{Dev: "eth1", Addr: addr("198.51.100.2"), MAC: macB}, {Dev: "eth1", Addr: addr("198.51.100.9"), MAC: macB},
			{Dev: "vx0", Addr: addr("10.9.0.2"), MAC: macA}, {Dev: "eth0", Addr: addr("192.0.2.9"), MAC: macB}},
		Sockets: []SocketConfig{{Name: "tcp", Proto: ProtoTCP, Port: 80}, {Name: "app", Proto: ProtoUDP, Port: 9999}},
		Taps:    []TapConfig{{Name: "dump", Dev: "eth0", Dir: TapRX}},
		Programs: []ProgramConfig{
			{Name: "in", Hook: carrier.HookTCIngress, Dev: "vx0", Actions: []Action{{Kind: ActWrite, Map: 0}}},
			{Name: "out", Hook: carrier.HookTCEgress, Dev: "eth1", Actions: []Action{{Kind: ActRead, Map: 0}}},
		},
		Entries: []EntryConfig{{Dev: "eth0"}},
	}
	// Frag_list aggregates (the copy-break driver's small heads) leave
	// through a NIC without NETIF_F_FRAGLIST (skb_segment's frag_list walk,
	// split along the list when it lines up) or a veth with
	// tx_fraglist off, whose peer runs a multi-buffer generic XDP program
	// (skb_pp_cow_data of tapped, non-linear skbs); those for 10.0.0.0/24
	// are encapsulated by vx0 and leave eth1 without tunnel TSO.
	flx := &Config{
		Namespaces: []NamespaceConfig{{Name: HostNetns, Forwarding: true}, {Name: "c", Forwarding: true}},
		Devices: []DeviceConfig{
			{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("192.0.2.1/24")}, UDPGROForwarding: true},
			{Name: "eth1", Kind: KindNIC, MAC: macA, Addrs: []netip.Prefix{pfx("198.51.100.1/24")}, TunnelTSO: "off"},
			{Name: "vx0", Kind: KindVXLAN, MAC: macNIC, VNI: 5, Remote: addr("198.51.100.9"), Addrs: []netip.Prefix{pfx("10.77.0.1/16")}},
			{Name: "veth0", Kind: KindVeth, MAC: macB, Addrs: []netip.Prefix{pfx("10.200.0.1/30")}, Peer: "eth0", PeerNetns: "c",
				PeerMAC: macPeer, PeerAddrs: []netip.Prefix{pfx("10.200.0.2/30"), pfx("10.9.0.2/16")}, PeerXDP: "generic",
				TxFragList: "off"},
		},
		Routes: []RouteConfig{{Dst: pfx("203.0.113.0/24"), Dev: "eth1", Via: addr("198.51.100.2")},
			{Dst: pfx("10.9.0.0/16"), Dev: "veth0", Via: addr("10.200.0.2")}, {Dst: pfx("10.0.0.0/24"), Dev: "vx0"}},
		Neighbours: []NeighConfig{{Dev: "eth1", Addr: addr("198.51.100.2"), MAC: macB},
			{Dev: "veth0", Addr: addr("10.200.0.2"), MAC: macPeer}, {Dev: "eth1", Addr: addr("198.51.100.9"), MAC: macB},
			{Dev: "vx0", Addr: addr("10.0.0.2"), MAC: macA}},
		Sockets: []SocketConfig{{Name: "app", Proto: ProtoUDP, Port: 9999}, {Name: "capp", Netns: "c", Proto: ProtoUDP, Port: 9999}},
		Taps:    []TapConfig{{Name: "dump", Dev: "eth0", Dir: TapBoth}, {Name: "cdump", Netns: "c", Dev: "eth0", Dir: TapRX}},
		Programs: []ProgramConfig{
			{Name: "cxdp", Hook: carrier.HookXDP, Netns: "c", Dev: "eth0", XDPFrags: true, Actions: []Action{{Kind: ActAdjustMeta, Value: 8}}},
			{Name: "in", Hook: carrier.HookTCIngress, Dev: "eth0", Actions: []Action{{Kind: ActWrite, Map: 0}}},
			{Name: "cin", Hook: carrier.HookTCIngress, Netns: "c", Dev: "eth0", Actions: []Action{{Kind: ActRead, Map: 0}}},
			{Name: "tp", Hook: carrier.HookTracepoint, Event: EventConsumeSkb, Actions: []Action{{Kind: ActRead, Map: 0}}},
		},
		Entries: []EntryConfig{{Dev: "eth0"}},
	}
	// XDP redirect into a veth: a NIC's native XDP sends every frame to
	// veth0, whose peer runs native XDP too (xdp_build_skb_from_frame, then
	// its own program), with a tap in the container.
	xr := &Config{
		Namespaces: []NamespaceConfig{{Name: HostNetns, Forwarding: true}, {Name: "c", Forwarding: true}},
		Devices: []DeviceConfig{
			{Name: "eth0", Kind: KindNIC, MAC: macNIC, XDP: "native", Addrs: []netip.Prefix{pfx("192.0.2.1/24")}},
			{Name: "veth0", Kind: KindVeth, MAC: macB, Addrs: []netip.Prefix{pfx("10.200.0.1/30")}, Peer: "eth0", PeerNetns: "c",
				PeerMAC: macPeer, PeerAddrs: []netip.Prefix{pfx("10.200.0.2/30"), pfx("10.9.0.2/16")}, PeerGRO: "on"},
		},
		Sockets: []SocketConfig{{Name: "capp", Netns: "c", Proto: ProtoUDP, Port: 9999}},
		Taps:    []TapConfig{{Name: "cdump", Netns: "c", Dev: "eth0", Dir: TapRX}},
		Programs: []ProgramConfig{
			{Name: "xdp", Hook: carrier.HookXDP, Dev: "eth0", Actions: []Action{{Kind: ActAdjustMeta, Value: 8}, {Kind: ActRedirect, Target: "veth0"}}},
			{Name: "cxdp", Hook: carrier.HookXDP, Netns: "c", Dev: "eth0", Actions: []Action{{Kind: ActRead, Map: 0}}},
			{Name: "cin", Hook: carrier.HookTCIngress, Netns: "c", Dev: "eth0", Actions: []Action{{Kind: ActWrite, Map: 0}}},
			{Name: "tp", Hook: carrier.HookTracepoint, Event: EventConsumeSkb, Actions: []Action{{Kind: ActRead, Map: 0}}},
		},
		Entries: []EntryConfig{{Dev: "eth0"}},
	}
	// cpumaps: the NIC's native XDP spreads frames over a cpumap drained
	// at the end of each poll (cpu 0 with a short queue and a program that
	// redirects into veth0, cpu 1 without one, cpu 2 empty: XDP_PASS);
	// veth0's peer runs generic XDP that sends every other skb into a
	// second cpumap drained per bulk, whose program counts; GRO everywhere.
	cpm := &Config{
		Namespaces: []NamespaceConfig{{Name: HostNetns, Forwarding: true}, {Name: "c", Forwarding: true}},
		Devices: []DeviceConfig{
			{Name: "eth0", Kind: KindNIC, MAC: macNIC, XDP: "native", Addrs: []netip.Prefix{pfx("192.0.2.1/24")}},
			{Name: "veth0", Kind: KindVeth, MAC: macB, Addrs: []netip.Prefix{pfx("10.200.0.1/30")}, Peer: "eth0", PeerNetns: "c",
				PeerMAC: macPeer, PeerAddrs: []netip.Prefix{pfx("10.200.0.2/30"), pfx("10.9.0.2/16")}, PeerXDP: "generic",
				PeerGRO: "on", TxChecksum: "off"},
		},
		Routes:     []RouteConfig{{Dst: pfx("10.9.0.0/16"), Dev: "veth0", Via: addr("10.200.0.2")}},
		Neighbours: []NeighConfig{{Dev: "veth0", Addr: addr("10.200.0.2"), MAC: macPeer}},
		Sockets: []SocketConfig{{Name: "app", Proto: ProtoUDP, Port: 9999},
			{Name: "capp", Netns: "c", Proto: ProtoUDP, Port: 9999, UDPGRO: true}},
		Cpumaps: []CpumapConfig{
			{Name: "cpus", Drain: DrainPoll, Entries: []CpumapEntryConfig{{CPU: 0, QSize: 4, Program: "oncpu"}, {CPU: 1, QSize: 64}}},
			{Name: "gcpus", Entries: []CpumapEntryConfig{{CPU: 0, QSize: 8, Program: "goncpu"}}},
		},
		Programs: []ProgramConfig{
			{Name: "xdp", Hook: carrier.HookXDP, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
				c.AdjustMeta(-8)
				return c.RedirectCPU(0, uint32(c.PacketID%3), XDPPass)
			})},
			{Name: "oncpu", Hook: carrier.HookXDP, Cpumap: true, Actions: []Action{{Kind: ActRead, Map: 0}, {Kind: ActRedirect, Target: "veth0"}}},
			{Name: "cxdp", Hook: carrier.HookXDP, Netns: "c", Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
				if c.PacketID%2 == 1 {
					return c.RedirectCPU(1, 0, 0)
				}
				return XDPPass
			})},
			{Name: "goncpu", Hook: carrier.HookXDP, Netns: "c", Cpumap: true, Actions: []Action{{Kind: ActCount}}},
			{Name: "cin", Hook: carrier.HookTCIngress, Netns: "c", Dev: "eth0", Actions: []Action{{Kind: ActWrite, Map: 0}}},
			{Name: "tp", Hook: carrier.HookTracepoint, Event: EventConsumeSkb, Actions: []Action{{Kind: ActRead, Map: 0}}},
		},
		Entries: []EntryConfig{{Dev: "eth0"}},
	}
	// Device maps: the NIC's native XDP broadcasts every other frame into a
	// device map (excluding itself; a veth whose peer runs native XDP,
	// with an entry program that drops some frames, a veth whose peer has
	// GRO, a second NIC, a device that is down) and sends the others to
	// one entry; the first veth's peer runs generic XDP that broadcasts
	// back into the map.
	dvm := &Config{
		Namespaces: []NamespaceConfig{{Name: HostNetns, Forwarding: true}, {Name: "c", Forwarding: true}, {Name: "d"}},
		Devices: []DeviceConfig{
			{Name: "eth0", Kind: KindNIC, MAC: macNIC, XDP: "native", Addrs: []netip.Prefix{pfx("192.0.2.1/24")}},
			{Name: "eth1", Kind: KindNIC, MAC: macA, Addrs: []netip.Prefix{pfx("198.51.100.1/24")}},
			{Name: "eth2", Kind: KindNIC, Down: true},
			{Name: "veth0", Kind: KindVeth, MAC: macB, Addrs: []netip.Prefix{pfx("10.200.0.1/30")}, Peer: "eth0", PeerNetns: "c",
				PeerMAC: macPeer, PeerAddrs: []netip.Prefix{pfx("10.200.0.2/30"), pfx("10.9.0.2/16")}, PeerXDP: "native"},
			{Name: "veth1", Kind: KindVeth, Peer: "eth0", PeerNetns: "d", PeerGRO: "on", PeerAddrs: []netip.Prefix{pfx("10.9.0.2/16")}},
		},
		Sockets: []SocketConfig{{Name: "capp", Netns: "c", Proto: ProtoUDP, Port: 9999},
			{Name: "dapp", Netns: "d", Proto: ProtoUDP, Port: 9999, UDPGRO: true}},
		Devmaps: []DevmapConfig{{Name: "ports", Entries: []DevmapEntryConfig{
			{Key: 0, Dev: "eth0"}, {Key: 1, Dev: "veth0", Program: "ontx"}, {Key: 2, Dev: "veth1"}, {Key: 3, Dev: "eth1"}, {Key: 4, Dev: "eth2"}}}},
		Programs: []ProgramConfig{
			{Name: "xdp", Hook: carrier.HookXDP, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
				c.AdjustMeta(-8)
				if c.PacketID%2 == 0 {
					return c.RedirectDevmap(0, 0, FlagBroadcast|FlagExcludeIngress)
				}
				return c.RedirectDevmap(0, uint32(c.PacketID%5), XDPPass)
			})},
			{Name: "ontx", Hook: carrier.HookXDP, Devmap: true, Prog: ProgramFunc(func(c *Ctx) int {
				if c.PacketID%3 == 0 {
					return XDPDrop
				}
				return XDPPass
			})},
			{Name: "cxdp", Hook: carrier.HookXDP, Netns: "c", Dev: "eth0", Actions: []Action{{Kind: ActRead, Map: 0}}},
			{Name: "cin", Hook: carrier.HookTCIngress, Netns: "c", Dev: "eth0", Actions: []Action{{Kind: ActWrite, Map: 0}}},
			{Name: "tp", Hook: carrier.HookTracepoint, Event: EventConsumeSkb, Actions: []Action{{Kind: ActRead, Map: 0}}},
		},
		Entries: []EntryConfig{{Dev: "eth0"}},
	}
	gb := *dvm
	gb.Devices = slices.Clone(dvm.Devices)
	gb.Devices[0].XDP = "generic"
	// A bridge with br_netfilter (bridge-nf-call-iptables and
	// -ip6tables): frames received on port pa go up to br0 (macNIC),
	// to port pb (macB), are flooded (broadcast) or dropped (macA, back to
	// pa); programs write at pa and read at pb and on the way up.
	brg := &Config{
		Namespaces: []NamespaceConfig{{Name: HostNetns, BridgeNFCallIPTables: true, BridgeNFCallIP6Tables: true}, {Name: "A"}, {Name: "B"}},
		Devices: []DeviceConfig{
			{Name: "br0", Kind: KindBridge, MAC: macNIC, Addrs: []netip.Prefix{pfx("192.0.2.1/24"), pfx("2001:db8::1/64")}},
			{Name: "pa", Kind: KindVeth, Master: "br0", Peer: "ea", PeerNetns: "A", PeerMAC: macA, PeerAddrs: []netip.Prefix{pfx("192.0.2.9/24")}},
			{Name: "pb", Kind: KindVeth, Master: "br0", Peer: "eb", PeerNetns: "B", PeerMAC: macB, PeerAddrs: []netip.Prefix{pfx("192.0.2.2/24")}},
		},
		Sockets: []SocketConfig{{Name: "h", Proto: ProtoUDP, Port: 9999}, {Name: "b", Netns: "B", Proto: ProtoUDP, Port: 9999}},
		Programs: []ProgramConfig{
			{Name: "w", Hook: carrier.HookTCIngress, Dev: "pa", Actions: []Action{{Kind: ActWrite, Map: 0}}},
			{Name: "r", Hook: carrier.HookTCEgress, Dev: "pb", Actions: []Action{{Kind: ActRead, Map: 0}}},
			{Name: "up", Hook: carrier.HookTCIngress, Dev: "br0", Actions: []Action{{Kind: ActRead, Map: 0}}},
		},
		Entries: []EntryConfig{{Dev: "pa"}},
	}
	brOff := brg.Copy()
	brOff.Namespaces[0].BridgeNFCallIPTables, brOff.Namespaces[0].BridgeNFCallIP6Tables = false, false
	cfgs := []*Config{fwd, tun, gre, any, gso, glist, &glistKey, tgro, flx, xr, cpm, dvm, &gb, brg, brOff}
	// The NIC's native XDP programs with xdp.frags: frames above a page
	// are multi-buffer, and are redirected so into veths, cpumaps and
	// device maps.
	for _, c := range []*Config{xr, cpm, dvm} {
		m := c.Copy()
		for i := range m.Programs {
			if m.Programs[i].Hook == carrier.HookXDP && m.Programs[i].Dev == "eth0" && nsName(m.Programs[i].Netns) == HostNetns {
				m.Programs[i].XDPFrags = true
			}
		}
		cfgs = append(cfgs, m)
	}
	// Macvlans (a bridge-mode one with generic XDP and a multicast group,
	// a source-mode one listing the frames' source address) on a NIC
	// whose tc ingress mirrors everything through an ifb device; a
	// broadcast-capable sender whose egress redirects to its own device
	// through the neighbour subsystem (until the recursion limit drops it).
	mvl := &Config{
		Namespaces: []NamespaceConfig{{Name: HostNetns, Forwarding: true}, {Name: "c"}, {Name: "d"}},
		Devices: []DeviceConfig{
			{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("192.0.2.1/24")}},
			{Name: "mv0", Kind: KindMacvlan, Netns: "c", Link: "eth0", LinkNetns: HostNetns, MAC: macA, XDP: "generic",
				Addrs: []netip.Prefix{pfx("192.0.2.2/24")}},
			{Name: "mv1", Kind: KindMacvlan, Netns: "d", Link: "eth0", LinkNetns: HostNetns, MAC: macPeer,
				Mode: MacvlanSource, SourceMACs: [][6]byte{macB}},
			{Name: "ifb0", Kind: KindIFB},
		},
		Sockets: []SocketConfig{
			{Name: "app", Netns: "c", Proto: ProtoUDP, Port: 9999, Join: []GroupJoin{{Group: addr("239.1.2.3"), Dev: "mv0"}}},
			{Name: "tx", Netns: "c", Proto: ProtoUDP, Port: 53, Broadcast: true},
		},
		Programs: []ProgramConfig{
			{Name: "to-ifb", Hook: carrier.HookTCIngress, Dev: "eth0", Actions: []Action{{Kind: ActWrite, Map: 0}, {Kind: ActMirred, Target: "ifb0", Mirror: true}}},
			{Name: "xdp", Hook: carrier.HookXDP, Netns: "c", Dev: "mv0", Actions: []Action{{Kind: ActAdjustMeta, Value: 8}}},
			{Name: "neigh", Hook: carrier.HookTCEgress, Netns: "c", Dev: "mv0", Actions: []Action{{Kind: ActRead, Map: 0}, {Kind: ActRedirectNeigh, Target: "mv0"}}},
		},
		Entries: []EntryConfig{{Dev: "eth0"}, {Kind: EntryTX, Netns: "c", Socket: "tx"}},
	}
	// Forwarding in programs: a tapped NIC whose XDP program forwards
	// with bpf_fib_lookup (to a veth whose peer runs XDP, or to a NIC),
	// and whose tc program forwards what XDP passed, redirecting through
	// the neighbour subsystem when the next hop has no entry.
	fib := fibTopology(true,
		ProgramConfig{Name: "xfwd", Hook: carrier.HookXDP, Dev: "eth0", Actions: []Action{{Kind: ActAdjustMeta, Value: 8}, {Kind: ActFibForward}}},
		ProgramConfig{Name: "tfwd", Hook: carrier.HookTCIngress, Dev: "eth0",
			Actions: []Action{{Kind: ActWrite, Map: 0}, {Kind: ActFibForward, Value: FibLookupDirect, Index: FibNoNeighRedirect}}},
		ProgramConfig{Name: "xB", Hook: carrier.HookXDP, Netns: "B", Dev: "vB", Actions: []Action{{Kind: ActRead, Map: 0}}},
		ProgramConfig{Name: "tB", Hook: carrier.HookTCIngress, Netns: "B", Dev: "vB", Actions: []Action{{Kind: ActRead, Map: 0}}})
	fib.Taps = []TapConfig{{Name: "dump", Dev: "eth0", Dir: TapBoth}}
	// collect_md vxlan devices: A's sets the key at its egress (or not:
	// every other packet of the sender is dropped as TUNNEL_TXINFO), B's
	// reads it and redirects to B's veth to C, whose egress reads it again.
	ext := externalPair(KindVXLAN, false, false, nil)
	ext.Programs = []ProgramConfig{
		{Name: "key", Hook: carrier.HookTCEgress, Netns: "A", Dev: "tA",
			Actions: []Action{{Kind: ActGetTunnelKey}, {Kind: ActSetTunnelKey, Value: 42, Via: addr("192.0.2.2")}}},
		{Name: "tB", Hook: carrier.HookTCIngress, Netns: "B", Dev: "tB", Actions: []Action{{Kind: ActGetTunnelKey}, {Kind: ActWrite, Map: 0},
			{Kind: ActRedirect, Target: "pB"}}},
		{Name: "pB", Hook: carrier.HookTCEgress, Netns: "B", Dev: "pB", Actions: []Action{{Kind: ActGetTunnelKey}, {Kind: ActRead, Map: 0}}},
	}
	ext.Entries = append(ext.Entries, EntryConfig{Netns: "B", Dev: "vB"})
	// netkit pairs into a namespace c: in l3 mode with programs on both
	// ends (the peer's sends the pod's packets straight out of eth0), and
	// in l2 mode with head- and tailroom, no scrub, a blackhole policy, a
	// tap, and eth0's tc ingress moving packets to the pod with
	// bpf_redirect_peer (which fails from the primary's program).
	nk := &Config{
		Namespaces: []NamespaceConfig{{Name: HostNetns, Forwarding: true, IPv6Forwarding: true}, {Name: "c"}},
		Devices: []DeviceConfig{
			{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("192.0.2.1/24")}},
			{Name: "nk0", Kind: KindNetkit, Addrs: []netip.Prefix{pfx("10.0.0.1/24"), pfx("fd00::1/16")},
				Peer: "nk1", PeerNetns: "c", PeerAddrs: []netip.Prefix{pfx("10.0.0.2/24"), pfx("fd00::7/16")}},
		},
		Routes:     []RouteConfig{{Netns: "c", Dev: "nk1"}, {Netns: "c", Dst: pfx("::/0"), Dev: "nk1"}},
		Neighbours: []NeighConfig{{Dev: "eth0", Addr: addr("192.0.2.9"), MAC: macB}},
		Sockets: []SocketConfig{{Name: "app", Netns: "c", Proto: ProtoUDP, Port: 9999}, {Name: "tcp", Netns: "c", Proto: ProtoTCP, Port: 80},
			{Name: "tx", Netns: "c", Proto: ProtoUDP, Port: 53}},
		Programs: []ProgramConfig{
			{Name: "in", Hook: carrier.HookTCIngress, Dev: "eth0", Actions: []Action{{Kind: ActWrite, Map: 0}}},
			{Name: "primary", Hook: carrier.HookNetkitPrimary, Dev: "nk0", Actions: []Action{{Kind: ActRead, Map: 0}, {Kind: ActWrite, Map: 0}}},
			{Name: "peer", Hook: carrier.HookNetkitPeer, Dev: "nk0", Actions: []Action{{Kind: ActRead, Map: 0}, {Kind: ActRedirect, Target: "eth0"}}},
		},
		Entries: []EntryConfig{{Dev: "eth0"}, {Kind: EntryTX, Netns: "c", Socket: "tx"}, {Kind: EntryPacket, Dev: "nk0"}},
	}
	nk2 := nk.Copy()
	d := &nk2.Devices[1]
	d.Mode, d.MAC, d.PeerMAC, d.Headroom, d.Tailroom = NetkitL2, macA, macPeer, 256, 64
	d.Scrub, d.PeerScrub, d.Policy, d.PeerPolicy = NetkitScrubNone, NetkitScrubNone, NetkitBlackhole, NetkitBlackhole
	nk2.Taps = []TapConfig{{Name: "dump", Dev: "nk0", Dir: TapBoth}}
	nk2.Programs = []ProgramConfig{
		{Name: "in", Hook: carrier.HookTCIngress, Dev: "eth0", Actions: []Action{{Kind: ActWrite, Map: 0}, {Kind: ActRedirectPeer, Target: "nk0"}}},
		{Name: "primary", Hook: carrier.HookNetkitPrimary, Dev: "nk0", Actions: []Action{{Kind: ActRedirectPeer, Target: "nk1"}}},
		{Name: "peer", Hook: carrier.HookNetkitPeer, Dev: "nk0", Actions: []Action{{Kind: ActRead, Map: 0}, {Kind: ActCount}}},
	}
	// Without carrier: fib's veth0 with its peer down (its routes
	// linkdown, passed over for IPv6 only), and a bridge with a port whose
	// peer is down and one whose peer in B sends frames in (link-local
	// ones go up the port unless the group_fwd_masks bridge them), with
	// arp_ignore 2 and arp_filter.
	nc := fib.Copy()
	nc.Devices[1].PeerDown = true
	nc.Namespaces[0].IPv6IgnoreRoutesWithLinkdown = true
	nc.Namespaces[0].ARPIgnore, nc.Namespaces[0].ARPFilter = 2, true
	nc.Devices = append(nc.Devices, DeviceConfig{Name: "br0", Kind: KindBridge, MAC: macA, Addrs: []netip.Prefix{pfx("10.3.0.1/24")}, GroupFwdMask: 0x4000},
		DeviceConfig{Name: "p1", Kind: KindVeth, Master: "br0", Peer: "x1", PeerDown: true},
		DeviceConfig{Name: "p2", Kind: KindVeth, Master: "br0", Peer: "x2", PeerNetns: "B", PeerAddrs: []netip.Prefix{pfx("10.3.0.2/24")}, GroupFwdMask: 0x8})
	nc.Entries = append(nc.Entries, EntryConfig{Netns: "B", Dev: "x2"})
	nc.Options.Replies = true
	// A bridge filtering VLANs (brvlan.go), with a static entry in VLAN
	// 10 and frames entering from all three of its ports' peers.
	vl := brVLANTopology()
	vl.FDB = []FDBConfig{{Netns: "H", Dev: "pC", MAC: macB, VLAN: 10}}
	vl.Entries = append(vl.Entries, EntryConfig{Kind: EntryPacket, Netns: "B", Dev: "vB"}, EntryConfig{Kind: EntryPacket, Netns: "C", Dev: "vC"})
	return append(cfgs, mvl, fib, ext, nk, nk2, nc, vl)
}

// vxlanWrap puts frame f (an Ethernet frame) in a VXLAN packet from
// 192.0.2.9 to dst, UDP port 4789, with the given outer identification
// and VNI.
func vxlanWrap(f []byte, dst string, id uint16, vni uint32) []byte {
	out := make([]byte, ethHlen+ipHlen+udpHlen+vxlanHlen+len(f))
	writeEth(out, macNIC, macB, ethPIP)
	writeIPv4(out[ethHlen:], 0, len(out)-ethHlen, id, true, 64, ipprotoUDP, addr("192.0.2.9"), addr(dst))
	writeUDP(out[ethHlen+ipHlen:], 50000, defaultVXLANPort, len(out)-ethHlen-ipHlen)
	vx := out[ethHlen+ipHlen+udpHlen:]
	vx[0] = 0x08
	binary.BigEndian.PutUint32(vx[4:8], vni<<8)
	copy(vx[vxlanHlen:], f)
	return out
}

// TestPropertyNoPanicNoLeak: mutated and random frames through every entry
// never panic, and after Flush and Close nothing leaks.
func TestPropertyNoPanicNoLeak(t *testing.T) {
	setRapidSeed(t)
	cfgs := propConfigs()
	rapid.Check(t, func(rt *rapid.T) {
		cfg := cfgs[rapid.IntRange(0, len(cfgs)-1).Draw(rt, "config")].Copy()
		// The stack's ICMP errors and replies, without the per-peer limit
		// at times, so that they take every transmit path.
		cfg.Options.Replies = rapid.Bool().Draw(rt, "replies")
		if rapid.Bool().Draw(rt, "noICMPRatelimit") {
			for i := range cfg.Namespaces {
				cfg.Namespaces[i].ICMPRatelimit = -1
			}
		}
		// Route input's source checks in every mode (rtinput.go).
		rp := rapid.IntRange(0, 2).Draw(rt, "rpFilter")
		acceptLocal, localnet := rapid.Bool().Draw(rt, "acceptLocal"), rapid.Bool().Draw(rt, "routeLocalnet")
		for i := range cfg.Namespaces {
			cfg.Namespaces[i].RPFilter, cfg.Namespaces[i].AcceptLocal, cfg.Namespaces[i].RouteLocalnet = rp, acceptLocal, localnet
		}
		// Linkdown routes passed over or not, ARP answers filtered.
		ignoreLD, arpFilter := rapid.Bool().Draw(rt, "ignoreLinkdown"), rapid.Bool().Draw(rt, "arpFilter")
		arpIgnore := rapid.SampledFrom([]int{0, 1, 2, 3, 8}).Draw(rt, "arpIgnore")
		proxyARP, proxyNDP, acast := rapid.Bool().Draw(rt, "proxyARP"), rapid.Bool().Draw(rt, "proxyNDP"), rapid.Bool().Draw(rt, "anycastSysctls")
		keepAddr := rapid.IntRange(-1, 1).Draw(rt, "keepAddrOnDown")
		for i := range cfg.Namespaces {
			ns := &cfg.Namespaces[i]
			ns.IgnoreRoutesWithLinkdown, ns.IPv6IgnoreRoutesWithLinkdown = ns.IgnoreRoutesWithLinkdown || ignoreLD, ns.IPv6IgnoreRoutesWithLinkdown || ignoreLD
			ns.ARPIgnore, ns.ARPFilter = max(ns.ARPIgnore, arpIgnore), ns.ARPFilter || arpFilter
			ns.ProxyARP = ns.ProxyARP || proxyARP
			ns.ProxyNDP = ns.ProxyNDP || proxyNDP
			ns.ICMPv6EchoIgnoreAnycast, ns.AnycastSrcEchoReply = acast, !acast
			ns.KeepAddrOnDown = keepAddr
		}
		if proxyNDP && len(cfg.Devices) > 0 {
			// Proxy entries on the first device, for a target its
			// solicitations name and a neighbour's address.
			d := cfg.Devices[0]
			cfg.Neighbours = append(cfg.Neighbours, NeighConfig{Netns: d.Netns, Dev: d.Name, Addr: addr("2001:db8::1"), Proxy: true, Router: true},
				NeighConfig{Netns: d.Netns, Dev: d.Name, Addr: addr("10.0.0.2"), Proxy: true})
		}
		// Policy rules (fibrules.go): a copy of a namespace's routes in
		// table 100, and rules over marks, sources, destinations, iif lo
		// and the rule actions, in both families.
		if rapid.Bool().Draw(rt, "rules") {
			for _, r := range slices.Clone(cfg.Routes) {
				if r.Type == "" && r.Table == 0 && rapid.Bool().Draw(rt, "table100") {
					r.Table = 100
					if rapid.Bool().Draw(rt, "throw") {
						r.Type, r.Dev, r.Via, r.MTU = RouteThrow, "", netip.Addr{}, 0
					}
					cfg.Routes = append(cfg.Routes, r)
				}
			}
			for i := range cfg.Namespaces {
				cfg.Namespaces[i].SrcValidMark = rapid.Bool().Draw(rt, "srcValidMark")
				for range rapid.IntRange(0, 3).Draw(rt, "nrules") {
					r := RuleConfig{Netns: cfg.Namespaces[i].Name, IPv6: rapid.Bool().Draw(rt, "rule6"),
						Priority: uint32(rapid.SampledFrom([]int{0, 0, 100, 32766, 40000}).Draw(rt, "pref")),
						FwMark:   uint32(rapid.IntRange(0, 3).Draw(rt, "fwmark")),
						Table:    uint32(rapid.SampledFrom([]int{0, 100, 200}).Draw(rt, "table")),
						Type:     rapid.SampledFrom([]string{"", "", RuleBlackhole, RuleUnreachable, RuleProhibit, RuleNop, RuleGoto}).Draw(rt, "ruleType"),
						Not:      rapid.Bool().Draw(rt, "not"),
						TOS:      uint8(rapid.SampledFrom([]int{0, 0, 0x10}).Draw(rt, "tos"))}
					if !r.IPv6 && rapid.Bool().Draw(rt, "from") {
						r.From = pfx(rapid.SampledFrom([]string{"192.0.2.0/24", "10.0.0.0/8", "0.0.0.0/0"}).Draw(rt, "fromPfx"))
					}
					if rapid.Bool().Draw(rt, "iifLo") {
						r.IIF = "lo"
					}
					if r.Type == RuleGoto {
						r.Priority, r.Goto = 100, uint32(rapid.SampledFrom([]int{200, 32766, 40000}).Draw(rt, "goto"))
					}
					if r.Type != "" {
						r.Table = 0
					} else if r.Suppress = rapid.Bool().Draw(rt, "suppress"); r.Suppress {
						r.SuppressPrefixlen = rapid.IntRange(0, 32).Draw(rt, "suppressLen")
					}
					cfg.Rules = append(cfg.Rules, r)
				}
			}
		}
		// Multipath routes (multipath.go): a unicast route's next hop
		// joined by those of other routes of its namespace and family,
		// with every hash policy, fields, seeds and use_neigh.
		if rapid.Bool().Draw(rt, "multipath") {
			for i := range cfg.Routes {
				r := &cfg.Routes[i]
				if r.Type != "" || r.Dev == "" || !rapid.Bool().Draw(rt, "mpRoute") {
					continue
				}
				v6 := (r.Dst.IsValid() && r.Dst.Addr().Is6()) || r.Via.Is6()
				paths := []NexthopConfig{{Dev: r.Dev, Via: r.Via, Weight: rapid.IntRange(0, 4).Draw(rt, "weight")}}
				for _, o := range cfg.Routes {
					ov6 := (o.Dst.IsValid() && o.Dst.Addr().Is6()) || o.Via.Is6()
					if o.Netns == r.Netns && o.Type == "" && o.Dev != "" && ov6 == v6 && (!v6 || !o.Via.Is4()) && len(paths) < 3 &&
						rapid.Bool().Draw(rt, "mpJoin") {
						paths = append(paths, NexthopConfig{Dev: o.Dev, Via: o.Via, Weight: rapid.IntRange(0, 4).Draw(rt, "weight")})
					}
				}
				r.Dev, r.Via, r.Nexthops = "", netip.Addr{}, paths
				if rapid.Bool().Draw(rt, "nexthopGroup") {
					// The same next hops as `ip nexthop` objects and a
					// group (ids unique across namespaces, as they may
					// be per namespace).
					var members []NexthopGroupMember
					for _, p := range paths {
						id := uint32(len(cfg.NexthopObjects) + 1)
						cfg.NexthopObjects = append(cfg.NexthopObjects, NexthopObjConfig{Netns: r.Netns, ID: id, Dev: p.Dev, Via: p.Via})
						members = append(members, NexthopGroupMember{ID: id, Weight: p.Weight})
					}
					id := uint32(len(cfg.NexthopObjects) + 1)
					cfg.NexthopObjects = append(cfg.NexthopObjects, NexthopObjConfig{Netns: r.Netns, ID: id, Group: members})
					r.Nexthops, r.NHID = nil, id
				}
			}
			for i := range cfg.Namespaces {
				ns := &cfg.Namespaces[i]
				ns.MultipathHashPolicy = rapid.IntRange(0, 3).Draw(rt, "mpPolicy")
				ns.MultipathHashPolicy6 = rapid.IntRange(0, 3).Draw(rt, "mpPolicy6")
				ns.MultipathHashFields = uint32(rapid.IntRange(0, MultipathFieldsAll).Draw(rt, "mpFields"))
				ns.MultipathHashFields6 = uint32(rapid.IntRange(0, MultipathFieldsAll).Draw(rt, "mpFields6"))
				ns.MultipathHashSeed = uint32(rapid.IntRange(0, 3).Draw(rt, "mpSeed"))
				ns.MultipathUseNeigh = rapid.Bool().Draw(rt, "mpUseNeigh")
			}
		}
		// What frames above an rx entry's MTU become (abovemtu.go).
		above := rapid.SampledFrom([]string{"", AboveMTUSegment, AboveMTUGROHW, AboveMTUDrop}).Draw(rt, "aboveMTU")
		segSize := rapid.SampledFrom([]int{0, 0, 536, 1000}).Draw(rt, "segmentSize")
		for i := range cfg.Entries {
			if k := cfg.Entries[i].Kind; k == "" || k == EntryRX {
				cfg.Entries[i].AboveMTU, cfg.Entries[i].SegmentSize = above, segSize
			}
		}
		a := skb.NewAllocator(kmem.New(), skb.DefaultProfile())
		car, err := carrier.New("rfc", carrier.Env{Alloc: a, Acct: a.Accountant()}, oneMap, carrier.Options{})
		require.NoError(rt, err)
		s, err := New(cfg, Env{Alloc: a, Carrier: car, Maps: oneMap})
		if err != nil && above == AboveMTUGROHW {
			// An entry NIC with XDP cannot have hardware GRO.
			require.ErrorIs(rt, err, ErrConfig)
			for i := range cfg.Entries {
				if k := cfg.Entries[i].Kind; k == "" || k == EntryRX {
					cfg.Entries[i].AboveMTU = AboveMTUSegment
				}
			}
			s, err = New(cfg, Env{Alloc: a, Carrier: car, Maps: oneMap})
		}
		require.NoError(rt, err)
		n := rapid.IntRange(1, 12).Draw(rt, "packets")
		for i := range n {
			o := frameOpts{
				dstMAC: rapid.SampledFrom([][6]byte{macNIC, macA, macB, broadcastMAC}).Draw(rt, "dmac"),
				srcMAC: macB,
				src: rapid.SampledFrom([]string{"192.0.2.9", "10.0.0.2", "192.0.2.1", "10.9.0.1", "192.0.2.2",
					"0.0.0.0", "127.0.0.1", "224.0.0.9", "192.0.2.255"}).Draw(rt, "src"),
				dst:      rapid.SampledFrom([]string{"10.0.0.2", "192.0.2.1", "192.0.2.2", "10.9.0.2", "203.0.113.1", "127.0.0.1"}).Draw(rt, "dst"),
				proto:    rapid.SampledFrom([]uint8{ipprotoUDP, ipprotoTCP, ipprotoICMP}).Draw(rt, "proto"),
				sport:    uint16(rapid.IntRange(1, 65535).Draw(rt, "sport")),
				dport:    rapid.SampledFrom([]uint16{9999, 80, 81, 4789, 53}).Draw(rt, "dport"),
				ttl:      uint8(rapid.IntRange(1, 64).Draw(rt, "ttl")),
				id:       uint16(rapid.IntRange(0, 3).Draw(rt, "id")),
				seq:      uint32(rapid.IntRange(0, 3).Draw(rt, "seq")) * 100,
				payload:  rapid.SampledFrom([]int{rapid.IntRange(0, 3100).Draw(rt, "small"), rapid.IntRange(3100, 7000).Draw(rt, "large")}).Draw(rt, "payload"),
				tcpFlags: uint8(rapid.IntRange(0, 63).Draw(rt, "flags")),
				fragOff:  uint16(rapid.SampledFrom([]int{0, 0, 0, ipMF, 5, ipMF | 5, ipDF}).Draw(rt, "frag")),
				noEth:    rapid.Bool().Draw(rt, "noEth"),
			}
			// Some frames go in a VXLAN packet (with their bursts).
			tunnel := rapid.IntRange(0, 3).Draw(rt, "vxlan") == 0 && !o.noEth
			outerDst := rapid.SampledFrom([]string{"192.0.2.1", "203.0.113.1"}).Draw(rt, "outerDst")
			vni := rapid.SampledFrom([]uint32{5, 6, 7}).Draw(rt, "vni")
			wrap := func(f []byte, j int) []byte {
				if !tunnel {
					return f
				}
				return vxlanWrap(f, outerDst, uint16(100+j), vni)
			}
			f := buildFrame(o)
			if o.proto == ipprotoUDP && rapid.Bool().Draw(rt, "udpCsum") {
				if o.noEth {
					setUDP4Csum(f)
				} else {
					setUDP4Csum(f[ethHlen:])
				}
			}
			if rapid.IntRange(0, 3).Draw(rt, "ipopts") == 0 {
				// IP options (ipopts.go): well-formed ones and noise.
				opts := rapid.SampledFrom([][]byte{
					{ipoptRR, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0},
					{ipoptTimestamp, 12, 5, uint8(rapid.IntRange(0, 0xff).Draw(rt, "tsFlags")), 0, 0, 0, 0, 192, 0, 2, 1},
					{ipoptRA, 4, 0, 0},
					{ipoptLSRR, 7, 4, 10, 1, 0, 2},
					rapid.SliceOfN(rapid.Byte(), 1, 40).Draw(rt, "optBytes"),
				}).Draw(rt, "opts")
				f = withIPOptions(f, opts, o.noEth)
			}
			if rapid.IntRange(0, 3).Draw(rt, "v6") == 0 {
				next := o.proto
				if next == ipprotoICMP {
					next = nexthdrICMPv6 // NDP when the port bytes make a type 133-137
				}
				f = buildFrame6(frame6{dstMAC: o.dstMAC, srcMAC: o.srcMAC,
					src:      rapid.SampledFrom([]string{"2001:db8::9", "fd00::1", "::1", "ff02::2", "::", "fe80::9"}).Draw(rt, "src6"),
					dst:      rapid.SampledFrom([]string{"2001:db8::1", "fd00::7", "2001:db8:5::1", "ff02::1", "ff02::1:ff00:1", "ff02::2", "2001:db8::", "ff02::1:ff00:0"}).Draw(rt, "dst6"),
					next:     next,
					hop:      rapid.Bool().Draw(rt, "hop"),
					frag:     rapid.IntRange(0, 5).Draw(rt, "frag6") == 0,
					hopLimit: o.ttl,
					dport:    o.dport,
					payload:  o.payload,
				})
			}
			if rapid.IntRange(0, 7).Draw(rt, "arp") == 0 && !o.noEth {
				f = arpFrame(o.dstMAC, uint16(rapid.IntRange(0, 7).Draw(rt, "hrd")), uint8(rapid.SampledFrom([]int{6, 6, 8}).Draw(rt, "hln")),
					uint16(rapid.IntRange(0, 3).Draw(rt, "op")), o.src, o.dst)
			}
			if rapid.IntRange(0, 3).Draw(rt, "vlanTag") == 0 && !o.noEth && len(f) >= ethHlen {
				f = vlanTagged(f, [2]uint16{rapid.SampledFrom([]uint16{0x8100, 0x8100, 0x88a8}).Draw(rt, "tpid"),
					rapid.SampledFrom([]uint16{0, 1, 10, 20, 30, 0xa00a}).Draw(rt, "tci")})
			}
			f = wrap(f, 0)
			// Mutate some bytes, and maybe truncate.
			for range rapid.IntRange(0, 3).Draw(rt, "mutations") {
				if len(f) == 0 {
					break
				}
				at := rapid.IntRange(0, len(f)-1).Draw(rt, "at")
				f[at] = byte(rapid.IntRange(0, 255).Draw(rt, "byte"))
			}
			if rapid.IntRange(0, 4).Draw(rt, "truncate") == 0 {
				f = f[:rapid.IntRange(0, len(f)).Draw(rt, "len")]
			}
			if rapid.IntRange(0, 5).Draw(rt, "addrRouteEvent") == 0 {
				// An address or route comes or goes (addrevent.go): the
				// kernel's refusals are the only errors.
				d := rapid.SampledFrom(s.devs).Draw(rt, "eventDev")
				p := pfx(rapid.SampledFrom([]string{"192.0.2.1/24", "10.0.0.1/24", "198.51.100.1/24", "2001:db8::1/64", "fd00::7/64", "10.0.0.9/24"}).Draw(rt, "eventAddr"))
				r := RouteConfig{Netns: d.ns.name, Dst: pfx(rapid.SampledFrom([]string{"203.0.113.0/24", "10.9.0.0/16", "2001:db8:5::/48", "0.0.0.0/0"}).Draw(rt, "eventDst")),
					Dev: d.name, Type: rapid.SampledFrom([]string{"", "", RouteBlackhole, RouteLocal}).Draw(rt, "eventType")}
				if RejectRoute(r.Type) {
					r.Dev = ""
				}
				var err error
				switch rapid.IntRange(0, 4).Draw(rt, "eventOp") {
				case 4:
					err = s.SetMTU(d.ns.name, d.name, rapid.SampledFrom([]int{1200, 1280, 1400, 1500, 9000}).Draw(rt, "eventMTU"))
				case 0:
					err = s.AddAddr(d.ns.name, d.name, p)
				case 1:
					err = s.DelAddr(d.ns.name, d.name, p)
				case 2:
					err = s.AddRoute(r)
				default:
					err = s.DelRoute(r)
				}
				if err != nil && !errors.Is(err, ErrExists) && !errors.Is(err, ErrNoAddr) && !errors.Is(err, ErrNoRoute) && !errors.Is(err, ErrNoLink) &&
					!errors.Is(err, ErrLink) && !errors.Is(err, ErrNoIPv6) && !strings.Contains(err.Error(), "native XDP on its peer") {
					rt.Fatalf("event: %v", err)
				}
			}
			if rapid.IntRange(0, 5).Draw(rt, "linkEvent") == 0 {
				// A device changes state between packets (linkevent.go).
				d := rapid.SampledFrom(s.devs).Draw(rt, "linkDev")
				op := rapid.SampledFrom([]EventOp{LinkDown, LinkUp, CarrierOff, CarrierOn}).Draw(rt, "linkOp")
				err := s.SetLink(d.ns.name, d.name, op)
				if LinkEventError(d.kind, op) == "" {
					require.NoError(rt, err)
				} else {
					require.ErrorIs(rt, err, ErrLink)
				}
			}
			entry := rapid.IntRange(0, len(s.entries)-1).Draw(rt, "entry")
			_ = s.Inject(&Packet{ID: uint64(i), Frame: f, Entry: entry, Hash: uint32(i % 2)})
			// A burst of the same flow's next segments, which GRO may merge.
			for j := range rapid.IntRange(0, 3).Draw(rt, "burst") {
				o.id++
				o.seq += uint32(o.payload)
				g := buildFrame(o)
				if o.proto == ipprotoUDP {
					if o.noEth {
						setUDP4Csum(g)
					} else {
						setUDP4Csum(g[ethHlen:])
					}
				}
				_ = s.Inject(&Packet{ID: uint64(i)<<8 | uint64(j+1), Frame: wrap(g, j+1), Entry: entry, Hash: uint32(i % 2)})
			}
			if rapid.IntRange(0, 3).Draw(rt, "flush") == 0 {
				s.Flush()
			}
		}
		s.Flush()
		require.NoError(rt, s.Close())
		require.NoError(rt, car.Close())
		require.NoError(rt, a.CheckLeaks())
		objs, _ := a.Accountant().Live()
		require.Zero(rt, objs)
	})
}

// withIPOptions inserts opts (padded with END to a multiple of four bytes,
// at most 40) after the IPv4 header of frame f and fixes its lengths and
// header checksum.
func withIPOptions(f, opts []byte, noEth bool) []byte {
	l2 := ethHlen
	if noEth {
		l2 = 0
	}
	if len(f) < l2+ipHlen {
		return f
	}
	opts = append([]byte(nil), opts[:min(len(opts), 40)]...)
	for len(opts)%4 != 0 {
		opts = append(opts, ipoptEnd)
	}
	out := append(append(append([]byte(nil), f[:l2+ipHlen]...), opts...), f[l2+ipHlen:]...)
	ip := out[l2:]
	hl := ipHlen + len(opts)
	ip[0] = 0x40 | byte(hl/4)
	binary.BigEndian.PutUint16(ip[2:], uint16(len(ip)))
	setIPCsum(ip, hl)
	return out
}
