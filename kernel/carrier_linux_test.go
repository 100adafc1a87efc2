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

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/internal/testutil"
	"github.com/skbsim/skbsim/netstack"
)

// carrierSetup is what a TestKernelCarrier case adds to H: devices
// without carrier (which the test waits for the link watcher to settle),
// in the kernel as ip(8) commands and in the model as configuration.
type carrierSetup struct {
	cmds      [][]string
	noCarrier []string // H's devices the link watcher takes carrier from
	watch     []string // H's devices whose drops the case compares (beside hA and B's vB)
	devices   []netstack.DeviceConfig
	routes    []netstack.RouteConfig
	neigh     []netstack.NeighConfig
}

var carrierGwMAC = [6]byte{2, 0, 0, 0, 5, 2}

// carrierVeth: H's veth d0 is up, its peer d1 down (no carrier on
// either), with 198.18.5.1/24 (fd00:5::1/64 with v6), a permanent
// neighbour .2 (::2), a route through it to 198.18.6.0/24 (fd00:6::/64)
// and a multipath route to 198.18.7.0/24 (fd00:7::/64) through it and
// hB.
func carrierVeth(v6 bool) carrierSetup {
	pfx, addr := netip.MustParsePrefix, netip.MustParseAddr
	a, gw, rt, mp, bgw := "198.18.5.1/24", "198.18.5.2", "198.18.6.0/24", "198.18.7.0/24", "10.1.0.2"
	c := carrierSetup{cmds: [][]string{{"link", "add", "d0", "type", "veth", "peer", "name", "d1"}}}
	if v6 {
		a, gw, rt, mp, bgw = "fd00:5::1/64", "fd00:5::2", "fd00:6::/64", "fd00:7::/64", icmp6AddrB
		c.cmds = append(c.cmds, []string{"sysctl", "net.ipv6.conf.d0.disable_ipv6", "0"})
	}
	c.cmds = append(c.cmds, [][]string{
		{"link", "set", "d0", "up"},
		{"addr", "add", a, "dev", "d0", "nodad"},
		{"neigh", "add", gw, "lladdr", macString(carrierGwMAC), "dev", "d0", "nud", "permanent"},
		{"route", "add", rt, "via", gw, "dev", "d0"},
		{"route", "add", mp, "nexthop", "via", gw, "dev", "d0", "nexthop", "via", bgw, "dev", "hB"},
	}...)
	if !v6 {
		c.cmds[2] = c.cmds[2][:len(c.cmds[2])-1] // nodad is IPv6's
	}
	c.noCarrier = []string{"d0"}
	c.devices = []netstack.DeviceConfig{{Name: "d0", Kind: netstack.KindVeth, Netns: "H", PeerDown: true,
		Addrs: []netip.Prefix{pfx(a)}, Peer: "d1", PeerNetns: "H"}}
	c.routes = []netstack.RouteConfig{{Netns: "H", Dst: pfx(rt), Dev: "d0", Via: addr(gw)},
		{Netns: "H", Dst: pfx(mp), Nexthops: []netstack.NexthopConfig{{Dev: "d0", Via: addr(gw)}, {Dev: "hB", Via: addr(bgw)}}}}
	c.neigh = []netstack.NeighConfig{{Netns: "H", Dev: "d0", Addr: addr(gw), MAC: carrierGwMAC}}
	c.watch = []string{"d0"}
	return c
}

// carrierMacvlan: H's macvlan mv0 (198.18.9.1/24) is on veth d0, whose
// peer is down, and has the route to 198.18.6.0/24 (in the kernel a
// neighbour entry for each address: mv0 takes no neighbour through d0).
func carrierMacvlan() carrierSetup {
	pfx := netip.MustParsePrefix
	return carrierSetup{
		cmds: [][]string{
			{"link", "add", "d0", "type", "veth", "peer", "name", "d1"},
			{"link", "set", "d0", "up"},
			{"link", "add", "mv0", "link", "d0", "type", "macvlan", "mode", "bridge"},
			{"link", "set", "mv0", "up"},
			{"addr", "add", "198.18.9.1/24", "dev", "mv0"},
			{"route", "add", "198.18.6.0/24", "dev", "mv0"},
			{"neigh", "add", "198.18.6.9", "lladdr", macString(carrierGwMAC), "dev", "mv0", "nud", "permanent"},
		},
		noCarrier: []string{"d0", "mv0"},
		devices: []netstack.DeviceConfig{{Name: "d0", Kind: netstack.KindVeth, Netns: "H", PeerDown: true, Peer: "d1", PeerNetns: "H"},
			{Name: "mv0", Kind: netstack.KindMacvlan, Netns: "H", Link: "d0", Addrs: []netip.Prefix{pfx("198.18.9.1/24")}}},
		routes: []netstack.RouteConfig{{Netns: "H", Dst: pfx("198.18.6.0/24"), Dev: "mv0"}},
		neigh:  []netstack.NeighConfig{{Netns: "H", Dev: "mv0", Addr: netip.MustParseAddr("198.18.6.9"), MAC: carrierGwMAC}},
		watch:  []string{"mv0", "d0"},
	}
}

// carrierBridge: H's bridge br0 (198.18.8.1/24, a permanent neighbour
// .2 whose address no port has learnt) has port d0, whose peer is down,
// and with live, port e0, whose peer e1 (in H, no address) is up.
func carrierBridge(live bool) carrierSetup {
	pfx := netip.MustParsePrefix
	c := carrierSetup{
		cmds: [][]string{
			// Without snooping the bridge joins no 224.0.0.106 and sends
			// no report (which its qdisc would drop at random times).
			{"link", "add", "br0", "type", "bridge", "mcast_snooping", "0"},
			{"link", "add", "d0", "type", "veth", "peer", "name", "d1"},
			{"link", "set", "d0", "master", "br0"},
			{"link", "set", "d0", "up"},
			{"link", "set", "br0", "up"},
			{"addr", "add", "198.18.8.1/24", "dev", "br0"},
			{"neigh", "add", "198.18.8.2", "lladdr", macString(carrierGwMAC), "dev", "br0", "nud", "permanent"},
		},
		noCarrier: []string{"d0"},
		watch:     []string{"br0"},
		devices: []netstack.DeviceConfig{{Name: "br0", Kind: netstack.KindBridge, Netns: "H", Addrs: []netip.Prefix{pfx("198.18.8.1/24")}},
			{Name: "d0", Kind: netstack.KindVeth, Netns: "H", PeerDown: true, Peer: "d1", PeerNetns: "H", Master: "br0"}},
		neigh: []netstack.NeighConfig{{Netns: "H", Dev: "br0", Addr: netip.MustParseAddr("198.18.8.2"), MAC: carrierGwMAC}},
	}
	if live {
		c.cmds = slices.Insert(c.cmds, 4,
			[]string{"link", "add", "e0", "type", "veth", "peer", "name", "e1"},
			[]string{"link", "set", "e0", "master", "br0"},
			[]string{"link", "set", "e0", "up"},
			[]string{"link", "set", "e1", "up"})
		c.devices = append(c.devices, netstack.DeviceConfig{Name: "e0", Kind: netstack.KindVeth, Netns: "H", Peer: "e1", PeerNetns: "H", Master: "br0"})
		c.watch = []string{"d0", "e1"}
	} else {
		c.noCarrier = append(c.noCarrier, "br0")
	}
	return c
}

// waitNoCarrier waits until the link watcher handled dev's loss of
// carrier (linkwatch_do_dev, at once for a veth or macvlan, within a
// second for others): IFF_RUNNING gone with the operational state, then
// dev_deactivate's noop_qdisc and the NETDEV_CHANGE handlers.
func waitNoCarrier(t *testing.T, n *Netns, dev string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for ifaceRunning(t, n, dev) {
		require.True(t, time.Now().Before(deadline), "%s kept its carrier", dev)
		time.Sleep(20 * time.Millisecond)
	}
	// netif_state_change (NETDEV_CHANGE) follows dev_deactivate: the
	// routes through dev are then linkdown (fib_sync_down_dev,
	// fib6_ifdown) and a bridge port disabled (br_port_carrier_check).
	for _, cmd := range [][]string{{"ip", "-4", "route", "show", "dev", dev}, {"ip", "-6", "route", "show", "dev", dev},
		{"bridge", "link", "show", "dev", dev}} {
		for {
			out, err := exec.Command(cmd[0], append([]string{"-n", n.Name}, cmd[1:]...)...).Output()
			require.NoError(t, err, "%v", cmd)
			settled := true
			for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				switch {
				case l == "" || strings.HasPrefix(l, "multicast") || strings.HasPrefix(l, "fe80::") || strings.Contains(l, "proto kernel metric 256 pref medium") && strings.HasPrefix(l, "ff"):
				case cmd[0] == "bridge":
					settled = settled && strings.Contains(l, "state disabled")
				default:
					settled = settled && strings.Contains(l, "linkdown")
				}
			}
			if settled {
				break
			}
			require.True(t, time.Now().Before(deadline), "%s: %v: %s", dev, cmd, out)
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// TestKernelCarrier: where a datagram A sends through H ends when H's
// route leads to a device without carrier (the first drop on each of
// H's devices and on B's vB, by the kfree_skb tracepoint), in the kernel
// and in the model:
//   - a veth whose peer is down, a dummy with carrier off, a macvlan on
//     it, a bridge whose only port has no carrier: the qdisc drops
//     (noop_qdisc, QDISC_DROP), with ignore_routes_with_linkdown the
//     lookup passes the route over (IP_INNOROUTES at hA, or the other
//     path of a multipath route, to B);
//   - a bridge floods past a port without carrier (d0 sends nothing).
func TestKernelCarrier(t *testing.T) {
	testutil.KernelTests(t)
	probe, err := NewMetaProbe(false)
	testutil.SkipIfNotSupported(t, err)
	t.Cleanup(func() { require.NoError(t, probe.Close()) })
	const seed = "4242"
	cases := []struct {
		name   string
		setup  carrierSetup
		v6     bool
		ignore bool
		dsts   []string
	}{
		{"veth, peer down", carrierVeth(false), false, false, []string{"198.18.6.9"}},
		{"veth, peer down, ignore_routes_with_linkdown", carrierVeth(false), false, true, []string{"198.18.6.9", "198.18.5.9"}},
		{"veth, peer down, multipath", carrierVeth(false), false, false, []string{"198.18.7.1", "198.18.7.2", "198.18.7.3", "198.18.7.4", "198.18.7.5", "198.18.7.6"}},
		{"veth, peer down, multipath, ignore_routes_with_linkdown", carrierVeth(false), false, true, []string{"198.18.7.1", "198.18.7.2", "198.18.7.3", "198.18.7.4", "198.18.7.5", "198.18.7.6"}},
		{"IPv6, veth, peer down", carrierVeth(true), true, false, []string{"fd00:6::9"}},
		{"IPv6, veth, peer down, ignore_routes_with_linkdown", carrierVeth(true), true, true, []string{"fd00:6::9", "fd00:5::9"}},
		{"IPv6, veth, peer down, multipath", carrierVeth(true), true, false, []string{"fd00:7::1", "fd00:7::2", "fd00:7::3", "fd00:7::4", "fd00:7::5", "fd00:7::6"}},
		{"IPv6, veth, peer down, multipath, ignore_routes_with_linkdown", carrierVeth(true), true, true, []string{"fd00:7::1", "fd00:7::2", "fd00:7::3", "fd00:7::4", "fd00:7::5", "fd00:7::6"}},
		{"macvlan on a veth without carrier", carrierMacvlan(), false, false, []string{"198.18.6.9"}},
		{"macvlan on a veth without carrier, ignore_routes_with_linkdown", carrierMacvlan(), false, true, []string{"198.18.6.9"}},
		{"bridge, its port without carrier", carrierBridge(false), false, false, []string{"198.18.8.2"}},
		{"bridge, its port without carrier, ignore_routes_with_linkdown", carrierBridge(false), false, true, []string{"198.18.8.2"}},
		{"bridge floods past a port without carrier", carrierBridge(true), false, false, []string{"198.18.8.2"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sysctls := []string{"net.ipv4.fib_multipath_hash_seed", seed}
			if tc.ignore {
				sysctls = append(sysctls, "net.ipv4.conf.all.ignore_routes_with_linkdown", "1", "net.ipv6.conf.all.ignore_routes_with_linkdown", "1")
			}
			var tp *icmpTopo
			if tc.v6 {
				tp = newICMP6Topo(t, sysctls...)
				require.NoError(t, tp.h.Sysctl("net.ipv6.conf.all.forwarding", "1"))
			} else {
				tp = newICMPTopo(t, sysctls...)
			}
			for _, c := range tc.setup.cmds {
				if c[0] == "sysctl" {
					require.NoError(t, tp.h.Sysctl(c[1], c[2]))
					continue
				}
				require.NoError(t, tp.h.IP(c...), "%v", c)
			}
			for _, d := range tc.setup.noCarrier {
				waitNoCarrier(t, tp.h, d)
			}
			watch := append([]string{tp.hA, "vB"}, tc.setup.watch...)
			ns := netstack.NamespaceConfig{IgnoreRoutesWithLinkdown: tc.ignore, IPv6IgnoreRoutesWithLinkdown: tc.ignore, MultipathHashSeed: 4242}
			var cfg *netstack.Config
			if tc.v6 {
				cfg = tp.model6(ns, true)
			} else {
				cfg = tp.model(ns)
				tp.rxAtH(cfg)
			}
			cfg.Devices = append(cfg.Devices, tc.setup.devices...)
			cfg.Routes = append(cfg.Routes, tc.setup.routes...)
			cfg.Neighbours = append(cfg.Neighbours, tc.setup.neigh...)
			vA, err := tp.a.Ifindex("vA")
			require.NoError(t, err)
			if tc.v6 {
				// Only the test's datagrams: d0 sends its own MLD reports
				// (dropped there too) at random times.
				require.NoError(t, probe.FilterTclass(testTclass))
				t.Cleanup(func() { require.NoError(t, probe.FilterTclass(0)) })
			}
			for _, d := range tc.dsts {
				var frame []byte
				if tc.v6 {
					frame = tp.udp6Frame(netip.MustParseAddr(icmp6AddrA), netip.MustParseAddr(d))
				} else {
					frame = tp.rtFrame(icmpAddrA, d, 64)
				}
				kern := watchDrops(t, probe, watch, func() { sendFrame(t, tp.a, vA, net.HardwareAddr(frame[0:6]), frame) })
				devs := map[string][2]string{tp.hA: {"H", "hA"}, "vB": {"B", "vB"}}
				for _, w := range tc.setup.watch {
					devs[w] = [2]string{"H", w}
				}
				obs := &devDrops{}
				var model map[string]string
				runModel(t, cfg, obs, frame, func(s *netstack.Stack) { model = obs.firsts(s, devs) })
				t.Logf("%s: kernel %v", d, kern)
				require.Equal(t, kern, model, "%s: model", d)
			}
		})
	}
}

// watchDrops is watchDrop on several devices (four at most): the reason of the first
// skb freed on each one that freed any.
func watchDrops(t *testing.T, probe *MetaProbe, devs []string, send func()) map[string]string {
	t.Helper()
	return watchDropsFor(t, probe, devs, 30*time.Millisecond, 0, send)
}

// watchDropsFor is watchDrops waiting wait after send, or, with
// settle, until a drop is seen and settle has passed after it (for a
// packet that ends in one drop, where a neighbour resolution may delay
// it).
func watchDropsFor(t *testing.T, probe *MetaProbe, devs []string, wait, settle time.Duration, send func()) map[string]string {
	t.Helper()
	for _, d := range devs {
		require.NoError(t, probe.Watch(d))
	}
	send()
	if settle == 0 {
		time.Sleep(wait)
	} else {
		for end := time.Now().Add(wait); time.Now().Before(end); {
			time.Sleep(5 * time.Millisecond)
			if slices.ContainsFunc(devs, func(d string) bool {
				seen, err := probe.Seen(d)
				require.NoError(t, err)
				return seen.Count != 0
			}) {
				time.Sleep(settle)
				break
			}
		}
	}
	got := map[string]string{}
	for _, d := range devs {
		seen, err := probe.Seen(d)
		require.NoError(t, err)
		require.NoError(t, probe.Unwatch(d))
		if seen.Count == 0 {
			continue
		}
		name, err := DropReasonName(seen.Reason)
		require.NoError(t, err)
		got[d] = name
	}
	return got
}

// ifaceRunning reports whether dev of n is IFF_RUNNING.
func ifaceRunning(t *testing.T, n *Netns, dev string) bool {
	t.Helper()
	var running bool
	require.NoError(t, n.Do(func() error {
		i, err := net.InterfaceByName(dev)
		if err == nil {
			running = i.Flags&net.FlagRunning != 0
		}
		return err
	}))
	return running
}

// xdpRedirectProg is an XDP program that returns bpf_redirect(ifindex,
// 0).
func xdpRedirectProg(t *testing.T, ifindex int) *ebpf.Program {
	t.Helper()
	p, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.XDP, License: "GPL", Instructions: asm.Instructions{
		asm.Mov.Imm(asm.R1, int32(ifindex)),
		asm.Mov.Imm(asm.R2, 0),
		asm.FnRedirect.Call(),
		asm.Return(),
	}})
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })
	return p
}

// redirectProg is a tc program that returns bpf_redirect(ifindex, flags)
// for IPv4 packets.
func redirectProg(t *testing.T, ifindex int, flags int32) *ebpf.Program {
	t.Helper()
	p, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.SchedCLS, License: "GPL", Instructions: asm.Instructions{
		asm.LoadMem(asm.R2, asm.R1, 16, asm.Word), // protocol
		asm.Mov.Imm(asm.R0, -1),
		asm.JNE.Imm(asm.R2, int32(htons(unix.ETH_P_IP)), "out"),
		asm.Mov.Imm(asm.R1, int32(ifindex)),
		asm.Mov.Imm(asm.R2, flags),
		asm.FnRedirect.Call(),
		asm.Return().WithSymbol("out"),
	}})
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })
	return p
}

// TestKernelRedirectTargetState: hA's tc ingress redirects A's datagram
// to H with bpf_redirect: into the ingress of veth d0 (MTU 1280), which
// takes it whatever its length (dev_forward_skb_nomtu, v5.12; the frame
// is for hA's address: OTHERHOST at d0), or of d2, which is down
// (____dev_forward_skb's kfree_skb: NOT_SPECIFIED at hA); or out of d0,
// whose peer d1 takes it (OTHERHOST at d1) or refuses it above its MTU
// (NOT_SPECIFIED at d0), or out of d2, whose queues hold noop_qdisc
// (QDISC_DROP at d2, after its tc egress). A generic XDP program on hA
// redirecting out of d4, whose peer d5 is down, skips d4's qdisc
// (generic_xdp_tx): veth_xmit's ____dev_forward_skb frees the frame
// (NOT_SPECIFIED at d4). The first drop on hA and the veths, in the
// kernel and in the model.
func TestKernelRedirectTargetState(t *testing.T) {
	testutil.KernelTests(t)
	probe, err := NewMetaProbe(false)
	testutil.SkipIfNotSupported(t, err)
	t.Cleanup(func() { require.NoError(t, probe.Close()) })
	for _, tc := range []struct {
		name    string
		target  string
		ingress bool
		payload int
		xdp     bool // a generic XDP program redirects, not tc
	}{
		{"into d0, small", "d0", true, 16, false},
		{"into d0, above its MTU", "d0", true, 1300, false},
		{"into d2, down", "d2", true, 16, false},
		{"out of d0, small", "d0", false, 16, false},
		{"out of d0, above its MTU", "d0", false, 1300, false},
		{"out of d2, down", "d2", false, 16, false},
		{"generic XDP, out of d4, its peer down", "d4", false, 16, true},
		{"generic XDP, out of d0", "d0", false, 16, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tp := newICMPTopo(t)
			for _, c := range [][]string{
				{"link", "add", "d0", "mtu", "1280", "type", "veth", "peer", "name", "d1", "mtu", "1280"},
				{"link", "set", "d0", "up"},
				{"link", "set", "d1", "up"},
				{"link", "add", "d2", "type", "veth", "peer", "name", "d3"},
				{"link", "add", "d4", "type", "veth", "peer", "name", "d5"},
				{"link", "set", "d4", "up"},
			} {
				require.NoError(t, tp.h.IP(c...), "%v", c)
			}
			waitRunning(t, tp.h, "d0")
			waitNoCarrier(t, tp.h, "d4")
			idx, err := tp.h.Ifindex(tc.target)
			require.NoError(t, err)
			flags := int32(0)
			if tc.ingress {
				flags = 1 // BPF_F_INGRESS
			}
			var l link.Link
			if tc.xdp {
				l, err = attachXDPIn(tp.h, tp.hA, xdpRedirectProg(t, idx), true)
			} else {
				l, err = attachTCXIn(tp.h, tp.hA, redirectProg(t, idx, flags), ebpf.AttachTCXIngress)
			}
			require.NoError(t, err)
			t.Cleanup(func() { l.Close() })
			pkt := udp4Packet(netip.MustParseAddr(icmpAddrA).As4(), netip.MustParseAddr(icmpAddrH).As4(), 40000, 9999, tc.payload)
			binary.BigEndian.PutUint16(pkt[10:], inetCsum(pkt[:20]))
			frame := ethIPv4(pkt)
			copy(frame[0:6], tp.macH[:])
			copy(frame[6:12], tp.macA[:])
			vA, err := tp.a.Ifindex("vA")
			require.NoError(t, err)
			watch := []string{tp.hA, "d0", "d1", "d2"}
			if tc.xdp {
				watch = []string{tp.hA, "d0", "d1", "d4"}
			}
			kern := watchDrops(t, probe, watch, func() { sendFrame(t, tp.a, vA, net.HardwareAddr(frame[0:6]), frame) })
			t.Logf("kernel: %v", kern)

			hook := carrier.HookTCIngress
			if tc.xdp {
				hook = carrier.HookXDP
			}
			cfg := tp.model(netstack.NamespaceConfig{}, netstack.ProgramConfig{Name: "r", Hook: hook, Netns: "H", Dev: "hA",
				Actions: []netstack.Action{{Kind: netstack.ActRedirect, Target: tc.target, Ingress: tc.ingress}}})
			tp.rxAtH(cfg) // Devices[0] is hA now
			if tc.xdp {
				cfg.Devices[0].XDP = "generic"
			}
			cfg.Devices = append(cfg.Devices, netstack.DeviceConfig{Name: "d0", Kind: netstack.KindVeth, Netns: "H", MTU: 1280, Peer: "d1", PeerNetns: "H"},
				netstack.DeviceConfig{Name: "d2", Kind: netstack.KindVeth, Netns: "H", Down: true, Peer: "d3", PeerNetns: "H"},
				netstack.DeviceConfig{Name: "d4", Kind: netstack.KindVeth, Netns: "H", Peer: "d5", PeerNetns: "H", PeerDown: true})
			obs := &devDrops{}
			var model map[string]string
			names := map[string][2]string{}
			for _, d := range watch {
				names[d] = [2]string{"H", d}
			}
			names[tp.hA] = [2]string{"H", "hA"}
			runModel(t, cfg, obs, frame, func(s *netstack.Stack) { model = obs.firsts(s, names) })
			require.Equal(t, kern, model, "model")
		})
	}
}

// TestKernelVethPeerMTU: A's vA has MTU 9000, its peer hA 1500; A's
// packet socket sends a 3,000-byte frame out of vA, which veth_xmit's
// ____dev_forward_skb frees against hA's MTU (NOT_SPECIFIED at vA), and
// a 1,400-byte one, which H takes (NO_SOCKET at hA). The first drop on vA
// and hA, in the kernel and in the model (DeviceConfig.PeerMTU).
func TestKernelVethPeerMTU(t *testing.T) {
	testutil.KernelTests(t)
	probe, err := NewMetaProbe(false)
	testutil.SkipIfNotSupported(t, err)
	t.Cleanup(func() { require.NoError(t, probe.Close()) })
	for _, payload := range []int{1372, 2972} {
		t.Run(fmt.Sprint(payload), func(t *testing.T) {
			tp := newICMPTopo(t)
			require.NoError(t, tp.a.IP("link", "set", "vA", "mtu", "9000"))
			pkt := udp4Packet(netip.MustParseAddr(icmpAddrA).As4(), netip.MustParseAddr(icmpAddrH).As4(), 40000, 9999, payload)
			binary.BigEndian.PutUint16(pkt[10:], inetCsum(pkt[:20]))
			frame := ethIPv4(pkt)
			copy(frame[0:6], tp.macH[:])
			copy(frame[6:12], tp.macA[:])
			vA, err := tp.a.Ifindex("vA")
			require.NoError(t, err)
			watch := []string{"vA", tp.hA}
			kern := watchDrops(t, probe, watch, func() {
				tx := newSocket(t, tp.a, unix.AF_PACKET, unix.SOCK_RAW, 0)
				sa := &unix.SockaddrLinklayer{Ifindex: vA, Halen: 6}
				copy(sa.Addr[:], frame[0:6])
				_ = unix.Sendto(tx, frame, 0, sa) // ENOBUFS when veth_xmit drops it
			})
			t.Logf("kernel: %v", kern)

			cfg := tp.model(netstack.NamespaceConfig{})
			cfg.Devices[0].MTU, cfg.Devices[0].PeerMTU = 9000, 1500
			cfg.Entries = []netstack.EntryConfig{{Kind: netstack.EntryPacket, Netns: "A", Dev: "vA"}}
			obs := &devDrops{}
			var model map[string]string
			runModel(t, cfg, obs, frame, func(s *netstack.Stack) {
				model = obs.firsts(s, map[string][2]string{"vA": {"A", "vA"}, tp.hA: {"H", "hA"}})
			})
			require.Equal(t, kern, model, "model")
		})
	}
}
