package netstack

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/skb"
)

var (
	macEth0 = [6]byte{0x02, 0, 0, 0, 0x0e, 0}
	macMvB  = [6]byte{0x02, 0, 0, 0, 0x0e, 0xb}
	macMvC  = [6]byte{0x02, 0, 0, 0, 0x0e, 0xc}
	macGW   = [6]byte{0x02, 0, 0, 0, 0x0e, 0xfe}
)

// macvlanSeen is what a probe program read at one hook.
type macvlanSeen struct {
	hook     string
	mark     uint32
	tstamp   int64
	pktType  skb.PktType
	skbIIF   int32
	ifindex  int32
	netns    uint32
	priority uint32
}

// macvlanConfig is a NIC eth0 in the host namespace with macvlans mvB (in
// B, 10.0.1.2) and mvC (in C, 10.0.1.3) on it in the given modes, a UDP
// socket on port 2000 in B and C and one in B on port 1000 that sends,
// and probe programs at tc ingress and egress of every device, which
// append what they read to *seen; the probes at eth0's tc ingress and at
// mvB's tc egress then set mark 7, priority 5 and tstamp 99.
func macvlanConfig(seen *[]macvlanSeen, modeB, modeC string) *Config {
	probe := func(name string, write bool) Program {
		return ProgramFunc(func(c *Ctx) int {
			h := c.Skb.H()
			*seen = append(*seen, macvlanSeen{hook: name, mark: h.Mark, tstamp: h.Tstamp, pktType: h.PktType,
				skbIIF: h.SkbIIF, ifindex: h.Dev, netns: h.Netns, priority: h.Priority})
			if write {
				c.SetMark(7)
				c.SetPriority(5)
				c.SetTstamp(99)
			}
			return TCXNext
		})
	}
	return &Config{
		Namespaces: []NamespaceConfig{{Name: "B"}, {Name: "C"}},
		Devices: []DeviceConfig{
			{Name: "eth0", Kind: KindNIC, MAC: macEth0},
			{Name: "mvB", Kind: KindMacvlan, Netns: "B", Link: "eth0", LinkNetns: HostNetns, Mode: modeB, MAC: macMvB,
				Addrs: []netip.Prefix{pfx("10.0.1.2/24")}},
			{Name: "mvC", Kind: KindMacvlan, Netns: "C", Link: "eth0", LinkNetns: HostNetns, Mode: modeC, MAC: macMvC,
				Addrs: []netip.Prefix{pfx("10.0.1.3/24")}},
		},
		Neighbours: []NeighConfig{{Netns: "B", Dev: "mvB", Addr: addr("10.0.1.254"), MAC: macGW},
			{Netns: "B", Dev: "mvB", Addr: addr("10.0.1.9"), MAC: broadcastMAC}},
		Sockets: []SocketConfig{
			{Name: "b", Netns: "B", Proto: ProtoUDP, Port: 2000},
			{Name: "c", Netns: "C", Proto: ProtoUDP, Port: 2000},
			{Name: "send", Netns: "B", Proto: ProtoUDP, Port: 1000},
		},
		Programs: []ProgramConfig{
			{Name: "eth0-in", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: probe("eth0-in", true)},
			{Name: "eth0-out", Hook: carrier.HookTCEgress, Dev: "eth0", Prog: probe("eth0-out", false)},
			{Name: "mvB-in", Hook: carrier.HookTCIngress, Netns: "B", Dev: "mvB", Prog: probe("mvB-in", false)},
			{Name: "mvB-out", Hook: carrier.HookTCEgress, Netns: "B", Dev: "mvB", Prog: probe("mvB-out", true)},
			{Name: "mvC-in", Hook: carrier.HookTCIngress, Netns: "C", Dev: "mvC", Prog: probe("mvC-in", false)},
		},
		Entries: []EntryConfig{{Dev: "eth0"}, {Kind: EntryTX, Netns: "B", Socket: "send"}},
	}
}

func seenHooks(seen []macvlanSeen) []string {
	var out []string
	for _, s := range seen {
		out = append(out, s.hook)
	}
	return out
}

// TestMacvlanReceive: macvlan_handle_frame hands a unicast frame for a
// macvlan's address to that macvlan, in its namespace, as PACKET_HOST and
// without a scrub (what eth0's tc ingress wrote is read in B); any other
// frame, and one for a macvlan that is down, stays with eth0, whose IP
// layer drops it as PACKET_OTHERHOST. A passthru macvlan takes every
// unicast frame.
func TestMacvlanReceive(t *testing.T) {
	for _, tc := range []struct {
		name     string
		dst, src [6]byte
		modeB    string
		onlyB    bool // mvB is eth0's only macvlan (passthru)
		downB    bool
		hooks    []string
		delivers int
		drops    []string
	}{
		{name: "to mvB", dst: macMvB, hooks: []string{"eth0-in", "mvB-in"}, delivers: 1},
		{name: "to mvB in private mode", dst: macMvB, modeB: MacvlanPrivate, hooks: []string{"eth0-in", "mvB-in"}, delivers: 1},
		{name: "to eth0", dst: macEth0, hooks: []string{"eth0-in"}, drops: []string{"SKB_DROP_REASON_IP_INADDRERRORS@ip_rcv_finish_core"}},
		{name: "to another host", dst: macGW, hooks: []string{"eth0-in"}, drops: []string{"SKB_DROP_REASON_OTHERHOST@ip_rcv_core"}},
		{name: "to mvB while it is down", dst: macMvB, downB: true, hooks: []string{"eth0-in"},
			drops: []string{"SKB_DROP_REASON_OTHERHOST@ip_rcv_core"}},
		{name: "passthru takes eth0's address", dst: macEth0, modeB: MacvlanPassthru, onlyB: true, hooks: []string{"eth0-in", "mvB-in"}, delivers: 1},
		{name: "passthru takes any unicast", dst: macGW, modeB: MacvlanPassthru, onlyB: true, hooks: []string{"eth0-in", "mvB-in"}, delivers: 1},
		// The broadcast queue's clones reach the macvlans in vlan_hash
		// order (mvC's address hashes to a lower bucket) after eth0's
		// own stack had the frame; the UDP socket in B takes it (no
		// PACKET_HOST check in UDP), C and eth0 do not forward.
		{name: "broadcast", dst: broadcastMAC, hooks: []string{"eth0-in", "mvC-in", "mvB-in"}, delivers: 1,
			drops: []string{"SKB_DROP_REASON_IP_INADDRERRORS@ip_rcv_finish_core", "SKB_DROP_REASON_IP_INADDRERRORS@ip_rcv_finish_core"}},
		{name: "multicast stays with eth0", dst: [6]byte{0x01, 0, 0x5e, 0, 0, 1}, hooks: []string{"eth0-in"},
			drops: []string{"SKB_DROP_REASON_IP_INADDRERRORS@ip_rcv_finish_core"}},
		// A private macvlan's broadcast reflected by the switch goes back
		// to it alone, and eth0 never sees it.
		{name: "private macvlan's broadcast reflected", dst: broadcastMAC, src: macMvB, modeB: MacvlanPrivate,
			hooks: []string{"eth0-in", "mvB-in"}, delivers: 1},
		{name: "bridge macvlan's broadcast reflected", dst: broadcastMAC, src: macMvB, hooks: []string{"eth0-in"},
			drops: []string{"SKB_DROP_REASON_IP_INADDRERRORS@ip_rcv_finish_core"}},
		{name: "broadcast to passthru", dst: broadcastMAC, modeB: MacvlanPassthru, onlyB: true, hooks: []string{"eth0-in", "mvB-in"}, delivers: 1,
			drops: []string{"SKB_DROP_REASON_IP_INADDRERRORS@ip_rcv_finish_core"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var seen []macvlanSeen
			cfg := macvlanConfig(&seen, tc.modeB, "")
			if tc.onlyB {
				cfg.Devices = cfg.Devices[:2]
				cfg.Devices[1].MAC = [6]byte{}
				cfg.Programs = cfg.Programs[:4]
			}
			cfg.Devices[1].Down = tc.downB
			s, te := newStack(t, cfg, "", nil, nil)
			if tc.src == ([6]byte{}) {
				tc.src = macGW
			}
			f := buildFrame(frameOpts{dstMAC: tc.dst, srcMAC: tc.src, src: "10.0.1.254", dst: "10.0.1.2", sport: 1000, dport: 2000, payload: 10})
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
			require.Equal(t, tc.hooks, seenHooks(seen))
			require.Equal(t, uint64(tc.delivers), te.obs.delivered(DeliverSocket))
			require.Equal(t, tc.drops, te.obs.dropReasons())
			if n := len(seen); n > 1 {
				b := s.Netns("B").dev("mvB")
				want := skb.PacketHost
				if tc.dst == broadcastMAC {
					want = skb.PacketBroadcast
				}
				require.Equal(t, macvlanSeen{hook: "mvB-in", mark: 7, priority: 5, tstamp: 99, pktType: want,
					skbIIF: b.ifindex, ifindex: b.ifindex, netns: b.ns.id}, seen[n-1], "nothing scrubbed in B")
			}
		})
	}
}

// TestMacvlanTransmit: in bridge mode a frame for a sibling bridge-mode
// macvlan goes through eth0's receive path (dev_forward_skb: a scrub with
// xnet, priority 0) to the sibling, and a broadcast frame gives every
// bridge-mode sibling a scrubbed clone before it leaves by eth0; every
// other frame leaves by eth0
// (dev_queue_xmit, no scrub: eth0's tc egress reads what mvB's wrote),
// as does every frame of a private or vepa macvlan, or one for a macvlan
// that is not in bridge mode.
func TestMacvlanTransmit(t *testing.T) {
	for _, tc := range []struct {
		name         string
		dst          string
		modeB, modeC string
		hooks        []string
		delivers     int
		xmits        int
		drops        []string
	}{
		{name: "bridge to bridge", dst: "10.0.1.3", hooks: []string{"mvB-out", "eth0-in", "mvC-in"}, delivers: 1},
		{name: "bridge to the world", dst: "10.0.1.254", hooks: []string{"mvB-out", "eth0-out"}, xmits: 1},
		// A broadcast frame: mvC's clone (scrubbed) into the backlog at
		// once, then the frame out.
		{name: "bridge broadcast", dst: "10.0.1.9", hooks: []string{"mvB-out", "eth0-out", "mvC-in"}, xmits: 1,
			drops: []string{"SKB_DROP_REASON_IP_INADDRERRORS@ip_rcv_finish_core"}},
		{name: "vepa broadcast", dst: "10.0.1.9", modeB: MacvlanVEPA, hooks: []string{"mvB-out", "eth0-out"}, xmits: 1},
		{name: "bridge to private", dst: "10.0.1.3", modeC: MacvlanPrivate, hooks: []string{"mvB-out", "eth0-out"}, xmits: 1},
		{name: "private to bridge", dst: "10.0.1.3", modeB: MacvlanPrivate, hooks: []string{"mvB-out", "eth0-out"}, xmits: 1},
		{name: "vepa to vepa", dst: "10.0.1.3", modeB: MacvlanVEPA, modeC: MacvlanVEPA, hooks: []string{"mvB-out", "eth0-out"}, xmits: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var seen []macvlanSeen
			s, te := newStack(t, macvlanConfig(&seen, tc.modeB, tc.modeC), "", nil, nil)
			f := buildFrame(frameOpts{src: "10.0.1.2", dst: tc.dst, sport: 1000, dport: 2000, payload: 10, noEth: true})
			require.NoError(t, s.Inject(&Packet{ID: 1, Entry: 1, Frame: f}))
			require.Equal(t, tc.hooks, seenHooks(seen))
			require.Equal(t, uint64(tc.delivers), te.obs.delivered(DeliverSocket))
			require.Equal(t, uint64(tc.xmits), te.obs.delivered(DeliverXmit))
			require.Equal(t, tc.drops, te.obs.dropReasons())
			last := seen[len(seen)-1]
			eth0 := s.Netns(HostNetns).dev("eth0")
			if tc.hooks[len(tc.hooks)-1] == "mvC-in" && tc.xmits != 0 { // the broadcast clone
				c := s.Netns("C").dev("mvC")
				require.Equal(t, macvlanSeen{hook: "mvC-in", pktType: skb.PacketBroadcast, skbIIF: c.ifindex,
					ifindex: c.ifindex, netns: c.ns.id}, last, "__dev_forward_skb scrubs with xnet")
				last = seen[1]
			}
			if tc.xmits != 0 {
				require.Equal(t, macvlanSeen{hook: "eth0-out", mark: 7, priority: 5, tstamp: 99, ifindex: eth0.ifindex,
					netns: eth0.ns.id}, last, "no scrub on the way out")
				return
			}
			in := seen[1]
			require.Equal(t, "eth0-in", in.hook)
			require.Zero(t, in.mark, "dev_forward_skb scrubs with xnet")
			require.Zero(t, in.priority)
			require.Equal(t, skb.PacketOtherhost, in.pktType, "eth_type_trans on eth0")
			c := s.Netns("C").dev("mvC")
			require.Equal(t, c.ifindex, last.skbIIF)
			require.Equal(t, skb.PacketHost, last.pktType)
		})
	}
}

// TestMacvlanNeighbours: with no neighbour entries, a macvlan resolves a
// sibling's address and its lower device's veth peer's, and the peer
// resolves the macvlan's (a completed ARP exchange).
func TestMacvlanNeighbours(t *testing.T) {
	cfg := &Config{
		Namespaces: []NamespaceConfig{{Name: "A"}, {Name: "B"}, {Name: "C"}},
		Devices: []DeviceConfig{
			{Name: "vA", Kind: KindVeth, Netns: "A", Addrs: []netip.Prefix{pfx("10.0.1.1/24")}, Peer: "hL"},
			{Name: "mvB", Kind: KindMacvlan, Netns: "B", Link: "hL", LinkNetns: "A", Addrs: []netip.Prefix{pfx("10.0.1.2/24")}},
			{Name: "mvC", Kind: KindMacvlan, Netns: "C", Link: "hL", LinkNetns: "A", Addrs: []netip.Prefix{pfx("10.0.1.3/24")}},
		},
		Sockets: []SocketConfig{
			{Name: "a", Netns: "A", Proto: ProtoUDP, Port: 2000},
			{Name: "c", Netns: "C", Proto: ProtoUDP, Port: 2000},
			{Name: "sb", Netns: "B", Proto: ProtoUDP, Port: 1000},
		},
		Entries: []EntryConfig{{Kind: EntryTX, Netns: "B", Socket: "sb"}},
	}
	// hL is vA's peer, in A: the macvlans' lower device.
	cfg.Devices[0].PeerNetns = "A"
	s, te := newStack(t, cfg, "", nil, nil)
	for i, dst := range []string{"10.0.1.3", "10.0.1.1"} {
		f := buildFrame(frameOpts{src: "10.0.1.2", dst: dst, sport: 1000, dport: 2000, payload: 10, noEth: true})
		require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: f}))
	}
	require.Empty(t, te.obs.dropReasons())
	require.Equal(t, []DeliverEvent{{PacketID: 1, Kind: DeliverSocket, Index: 1}, {PacketID: 2, Kind: DeliverSocket, Index: 0}}, te.obs.delivs)
	hL := s.Netns("A").dev("hL")
	mac, ok := neighResolve(s.Netns("A"), s.Netns("A").dev("vA"), addr("10.0.1.3"))
	require.True(t, ok)
	require.Equal(t, s.Netns("C").dev("mvC").mac, mac)
	require.Len(t, hL.mvPort.vlans, 2)
}

// TestMacvlanConfigErrors: macvlan_common_newlink's and macvlan_open's
// refusals, each a *DeviceConfigError matching ErrConfig; a macvlan on a
// macvlan goes on the latter's lower device.
func TestMacvlanConfigErrors(t *testing.T) {
	base := func() *Config {
		return &Config{
			Namespaces: []NamespaceConfig{{Name: "B"}},
			Devices: []DeviceConfig{
				{Name: "eth0", Kind: KindNIC, MAC: macEth0},
				{Name: "mvB", Kind: KindMacvlan, Netns: "B", Link: "eth0", LinkNetns: HostNetns, MAC: macMvB},
			},
		}
	}
	for _, tc := range []struct {
		name string
		edit func(c *Config)
		want string // "" builds
	}{
		{"ok", func(c *Config) {}, ""},
		{"no link", func(c *Config) { c.Devices[1].Link = "" }, "a macvlan needs its lower device (link)"},
		{"unknown link", func(c *Config) { c.Devices[1].Link = "eth9" }, `no lower device "eth9" in namespace host`},
		{"link in the wrong namespace", func(c *Config) { c.Devices[1].LinkNetns = "" }, `no lower device "eth0" in namespace B`},
		{"link on loopback", func(c *Config) { c.Devices[1].Link = "lo" }, `lower device "lo" is not an Ethernet device`},
		{"link on an L3 tunnel", func(c *Config) {
			c.Devices = append(c.Devices, DeviceConfig{Name: "tun0", Kind: KindIPIP, Remote: addr("10.0.0.1")})
			c.Devices[1].Link = "tun0"
		}, `lower device "tun0" is not an Ethernet device`},
		{"link on a bridge port", func(c *Config) {
			c.Devices = append(c.Devices, DeviceConfig{Name: "br0", Kind: KindBridge})
			c.Devices[0].Master = "br0"
		}, `lower device "eth0" is a port of bridge br0`},
		{"bad mode", func(c *Config) { c.Devices[1].Mode = "sink" }, `mode "sink"`},
		{"source addresses in bridge mode", func(c *Config) { c.Devices[1].SourceMACs = [][6]byte{macGW} }, "source_macs are for a source-mode macvlan"},
		{"mtu above the lower device's", func(c *Config) { c.Devices[1].MTU = 9000 }, "mtu 9000 above its lower device's 1500"},
		{"address of the lower device", func(c *Config) { c.Devices[1].MAC = macEth0 }, "is the lower device's"},
		{"address of a sibling", func(c *Config) {
			c.Devices = append(c.Devices, DeviceConfig{Name: "mvX", Kind: KindMacvlan, Link: "eth0", MAC: macMvB})
		}, "is macvlan mvX's"},
		{"passthru with a sibling", func(c *Config) {
			c.Devices[1].Mode, c.Devices[1].MAC = MacvlanPassthru, [6]byte{}
			c.Devices = append(c.Devices, DeviceConfig{Name: "mvX", Kind: KindMacvlan, Link: "eth0"})
		}, "a passthru macvlan is the only macvlan of eth0"},
		{"passthru with an address", func(c *Config) { c.Devices[1].Mode = MacvlanPassthru }, "takes its lower device's address"},
		{"link on another kind", func(c *Config) { c.Devices[0].Link = "x" }, "link, mode, source_macs and nodst are for macvlan devices"},
		{"macvlans on each other", func(c *Config) {
			c.Devices = append(c.Devices, DeviceConfig{Name: "m1", Kind: KindMacvlan, Link: "m2"}, DeviceConfig{Name: "m2", Kind: KindMacvlan, Link: "m1"})
		}, "lead back to it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			tc.edit(c)
			err := newStackErr(t, c, "")
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrConfig)
			var de *DeviceConfigError
			require.True(t, errors.As(err, &de), "%v", err)
			require.Contains(t, de.Why, tc.want)
		})
	}
}

// TestMacvlanOnMacvlan: a macvlan whose link is a macvlan sits on the
// latter's lower device (macvlan_dev_real_dev), a passthru macvlan takes
// its lower device's address, and a macvlan's MTU defaults to its lower
// device's.
func TestMacvlanOnMacvlan(t *testing.T) {
	var seen []macvlanSeen
	cfg := macvlanConfig(&seen, "", "")
	cfg.Devices[0].MTU = 9000
	cfg.Devices = append(cfg.Devices, DeviceConfig{Name: "mvX", Kind: KindMacvlan, Netns: "C", Link: "mvC", MTU: 1400})
	s, _ := newStack(t, cfg, "", nil, nil)
	eth0 := s.Netns(HostNetns).dev("eth0")
	x := s.Netns("C").dev("mvX")
	require.Same(t, eth0, x.lower)
	require.Len(t, eth0.mvPort.vlans, 3)
	require.Equal(t, 9000, s.Netns("B").dev("mvB").mtu)
	require.Equal(t, 1400, x.mtu)

	cfg = macvlanConfig(&seen, MacvlanPassthru, "")
	cfg.Devices, cfg.Programs = cfg.Devices[:2], cfg.Programs[:4]
	cfg.Devices[1].MAC = [6]byte{}
	s, _ = newStack(t, cfg, "", nil, nil)
	require.Equal(t, macEth0, s.Netns("B").dev("mvB").mac)
}

// TestMacvlanSource: a source-mode macvlan gets a clone of every frame
// from a listed address (macvlan_forward_source), PACKET_HOST only when
// the frame is for its own address, before the frame goes on as it would
// have; with nodst the frame itself is freed. A frame for the
// source-mode macvlan's own address from another source stays with the
// lower device.
func TestMacvlanSource(t *testing.T) {
	for _, tc := range []struct {
		name   string
		src    [6]byte
		dst    [6]byte
		nodst  bool
		hooks  []string
		pkt    skb.PktType // at mvB-in
		drops  []string
		delivs int
	}{
		// mvC's stack does not own 10.0.1.2 (INADDRERRORS), mvB's clone
		// is for another host.
		{name: "listed source, for mvC", src: macGW, dst: macMvC, hooks: []string{"eth0-in", "mvC-in", "mvB-in"}, pkt: skb.PacketOtherhost,
			drops: []string{"SKB_DROP_REASON_IP_INADDRERRORS@ip_rcv_finish_core", "SKB_DROP_REASON_OTHERHOST@ip_rcv_core"}},
		{name: "listed source, nodst", src: macGW, dst: macMvC, nodst: true, hooks: []string{"eth0-in", "mvB-in"}, pkt: skb.PacketOtherhost,
			drops: []string{"SKB_DROP_REASON_NOT_SPECIFIED@macvlan_handle_frame", "SKB_DROP_REASON_OTHERHOST@ip_rcv_core"}},
		{name: "listed source, for mvB", src: macGW, dst: macMvB, hooks: []string{"eth0-in", "mvB-in"}, pkt: skb.PacketHost,
			drops: []string{"SKB_DROP_REASON_OTHERHOST@ip_rcv_core"}, delivs: 1},
		{name: "other source, for mvB", src: macEth0, dst: macMvB, hooks: []string{"eth0-in"},
			drops: []string{"SKB_DROP_REASON_OTHERHOST@ip_rcv_core"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var seen []macvlanSeen
			cfg := macvlanConfig(&seen, MacvlanSource, "")
			cfg.Devices[1].SourceMACs = [][6]byte{macGW}
			cfg.Devices[1].NoDst = tc.nodst
			s, te := newStack(t, cfg, "", nil, nil)
			f := buildFrame(frameOpts{dstMAC: tc.dst, srcMAC: tc.src, src: "10.0.1.254", dst: "10.0.1.2", sport: 1000, dport: 2000, payload: 10})
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
			require.Equal(t, tc.hooks, seenHooks(seen))
			require.Equal(t, tc.drops, te.obs.dropReasons())
			require.Equal(t, uint64(tc.delivs), te.obs.delivered(DeliverSocket))
			for _, x := range seen {
				if x.hook == "mvB-in" {
					require.Equal(t, tc.pkt, x.pktType)
					require.Equal(t, uint32(7), x.mark, "the clone carries what eth0's tc ingress wrote")
				}
			}
		})
	}
}

// TestIFB: an ifb device frees what was not redirected to it
// (dev_kfree_skb: a consume, no drop), and puts a redirected skb back on
// the device it came from, skipping that device's taps and tc ingress
// once (tc_skip_classify) and scrubbing nothing.
func TestIFB(t *testing.T) {
	var seen []macvlanSeen
	probe := func(name string) Program {
		return ProgramFunc(func(c *Ctx) int {
			h := c.Skb.H()
			seen = append(seen, macvlanSeen{hook: name, mark: h.Mark, skbIIF: h.SkbIIF, ifindex: h.Dev})
			if name == "eth0-in" && h.Mark == 0 {
				c.SetMark(7)
				return c.Redirect(c.Ifindex("ifb0"), 0)
			}
			return TCXNext
		})
	}
	cfg := &Config{
		Devices: []DeviceConfig{{Name: "eth0", Kind: KindNIC, MAC: macEth0, Addrs: []netip.Prefix{pfx("10.0.1.1/24")}},
			{Name: "ifb0", Kind: KindIFB}},
		Routes:   []RouteConfig{{Dst: pfx("10.9.0.0/16"), Dev: "ifb0"}},
		Sockets:  []SocketConfig{{Name: "app", Proto: ProtoUDP, Port: 2000}, {Name: "out", Proto: ProtoUDP, Port: 1000}},
		Taps:     []TapConfig{{Name: "dump", Dev: "eth0", Dir: TapRX, Hold: true}},
		Programs: []ProgramConfig{{Name: "eth0-in", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: probe("eth0-in")}, {Name: "ifb0-out", Hook: carrier.HookTCEgress, Dev: "ifb0", Prog: probe("ifb0-out")}},
		Entries:  []EntryConfig{{Dev: "eth0"}, {Kind: EntryTX, Socket: "out"}},
	}
	s, te := newStack(t, cfg, "", nil, nil)
	f := buildFrame(frameOpts{dstMAC: macEth0, srcMAC: macGW, src: "10.0.1.7", dst: "10.0.1.1", sport: 1000, dport: 2000, payload: 10})
	require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
	eth0, ifb := s.Netns(HostNetns).dev("eth0"), s.Netns(HostNetns).dev("ifb0")
	require.Equal(t, []macvlanSeen{{hook: "eth0-in", skbIIF: eth0.ifindex, ifindex: eth0.ifindex},
		{hook: "ifb0-out", mark: 7, skbIIF: eth0.ifindex, ifindex: ifb.ifindex}}, seen, "tc ingress skipped on the way back")
	require.Empty(t, te.obs.dropReasons())
	require.Equal(t, uint64(1), te.obs.delivered(DeliverSocket))
	require.Len(t, s.taps[0].q, 1, "the tap saw the frame once")

	// A datagram routed out of ifb0 was not redirected there.
	seen = nil
	out := buildFrame(frameOpts{src: "10.0.1.1", dst: "10.9.0.1", sport: 1000, dport: 2000, payload: 10, noEth: true})
	require.NoError(t, s.Inject(&Packet{ID: 2, Entry: 1, Frame: out}))
	require.Equal(t, []string{"ifb0-out"}, seenHooks(seen))
	require.Empty(t, te.obs.dropReasons(), "dev_kfree_skb is a consume")
}
