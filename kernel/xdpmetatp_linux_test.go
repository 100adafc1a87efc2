package kernel

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/internal/testutil"
	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/netstack"
	"github.com/skbsim/skbsim/skb"
)

// TestKernelXDPMetaAtTracepoint: a tracing program reads an skb's XDP
// metadata through BTF as skb_shinfo(skb)->meta_len and the bytes before
// the mac header (the xdp-meta design's reach at tracepoints,
// XDPMetaReachBTF). An XDP program on vB writes 8 bytes of metadata; the
// datagram finds no socket in B and is freed (kfree_skb, NO_SOCKET), where
// the probe reads them back: from native XDP, and from a multi-buffer
// generic XDP program that got a 40-segment GSO skb as a page-pool copy
// (whose tc programs see other bytes at data_meta: xdp-generic-gso-frags).
// The model's xdp-meta design finds the value at the kfree_skb tracepoint
// in every case the kernel shows the bytes.
func TestKernelXDPMetaAtTracepoint(t *testing.T) {
	testutil.KernelTests(t)
	sfx := fmt.Sprint(os.Getpid() % 100000)
	va, vb := "mtA"+sfx, "mtB"+sfx
	for _, tc := range []struct {
		name     string
		generic  bool
		frags    bool
		segments int
	}{
		{"native", false, false, 1},
		{"generic", true, false, 1},
		{"generic frags gso", true, true, 40},
	} {
		t.Run(tc.name, func(t *testing.T) {
			probe, err := NewMetaProbe(tc.frags)
			testutil.SkipIfNotSupported(t, err)
			t.Cleanup(func() { require.NoError(t, probe.Close()) })
			a, b, _ := vethPairAB(t, "mt", va, vb)
			require.NoError(t, probe.AttachXDP(b, vb, tc.generic))
			require.NoError(t, probe.Watch(vb))
			snd := newSocket(t, a, unix.AF_INET, unix.SOCK_DGRAM, 0)
			payload := 16
			if tc.segments > 1 {
				require.NoError(t, unix.SetsockoptInt(snd, unix.SOL_UDP, unix.UDP_SEGMENT, 100))
				payload = 100 * tc.segments
			}
			require.NoError(t, unix.Sendto(snd, make([]byte, payload), 0, &unix.SockaddrInet4{Port: 9999, Addr: [4]byte{192, 0, 2, 2}}))
			seen, err := probe.Seen(vb)
			require.NoError(t, err)
			require.Equal(t, uint64(1), seen.Count, "skbs freed on %s", vb)
			require.EqualValues(t, MetaProbeLen, seen.MetaLen)
			for i, c := range seen.Meta {
				require.Equal(t, byte(0xa0+i), c, "metadata byte %d", i)
			}
			require.Equal(t, []netstack.ReadResult{netstack.ReadFound}, modelXDPMetaAtTracepoint(t, tc.generic, tc.frags, tc.segments))
		})
	}
}

// modelXDPMetaAtTracepoint is TestKernelXDPMetaAtTracepoint's case in the
// model: the xdp-meta design written at vB's XDP program, read by a
// kfree_skb tracepoint program.
func modelXDPMetaAtTracepoint(t *testing.T, generic, frags bool, segments int) []netstack.ReadResult {
	t.Helper()
	mode := "native"
	if generic {
		mode = "generic"
	}
	sock := netstack.SocketConfig{Name: "snd", Netns: "A", Proto: netstack.ProtoUDP, Port: 40000}
	payload := 16
	if segments > 1 {
		sock.UDPSegment, payload = 100, 100*segments
	}
	macB := [6]byte{2, 0, 0, 0, 8, 2}
	cfg := &netstack.Config{
		Namespaces: []netstack.NamespaceConfig{{Name: "A"}, {Name: "B"}},
		Devices: []netstack.DeviceConfig{{Name: "vA", Kind: netstack.KindVeth, Netns: "A",
			Addrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.1/24")}, Peer: "vB", PeerNetns: "B", PeerMAC: macB,
			PeerAddrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.2/24")}, PeerXDP: mode}},
		Neighbours: []netstack.NeighConfig{{Netns: "A", Dev: "vA", Addr: netip.MustParseAddr("192.0.2.2"), MAC: macB}},
		Sockets:    []netstack.SocketConfig{sock},
		Programs: []netstack.ProgramConfig{
			{Name: "xdp", Hook: carrier.HookXDP, Netns: "B", Dev: "vB", XDPFrags: frags,
				Actions: []netstack.Action{{Kind: netstack.ActWrite, Map: 0, Value: 0xa0}}},
			{Name: "tp", Hook: carrier.HookTracepoint, Netns: "B", Event: netstack.EventKfreeSkb,
				Actions: []netstack.Action{{Kind: netstack.ActRead, Map: 0}}},
		},
		Entries: []netstack.EntryConfig{{Kind: netstack.EntryTX, Netns: "A", Socket: "snd"}},
	}
	return runXDPMetaModel(t, cfg, udp4Packet([4]byte{192, 0, 2, 1}, [4]byte{192, 0, 2, 2}, 40000, 9999, payload))
}

// runXDPMetaModel sends pkt through cfg with the xdp-meta design (one
// 4-byte map) and returns what its tracepoint programs' reads found.
func runXDPMetaModel(t *testing.T, cfg *netstack.Config, pkt []byte) []netstack.ReadResult {
	t.Helper()
	return runXDPMetaModelAt(t, cfg, carrier.HookTracepoint, pkt)
}

// runXDPMetaModelAt is runXDPMetaModel for the reads at hook.
func runXDPMetaModelAt(t *testing.T, cfg *netstack.Config, hook carrier.Hook, pkt []byte) []netstack.ReadResult {
	t.Helper()
	maps := []carrier.MapSpec{{Name: "m", ValueSize: 4}}
	a := skb.NewAllocator(kmem.New(), skb.DefaultProfile())
	car, err := carrier.New(carrier.NameXDPMeta, carrier.Env{Alloc: a, Acct: a.Accountant()}, maps, carrier.Options{})
	require.NoError(t, err)
	obs := &readRecorder{hook: hook}
	s, err := netstack.New(cfg, netstack.Env{Alloc: a, Observer: obs, Carrier: car, Maps: maps})
	require.NoError(t, err)
	require.NoError(t, s.Inject(&netstack.Packet{ID: 1, Frame: pkt}))
	s.Flush()
	require.NoError(t, s.Close())
	require.NoError(t, car.Close())
	require.NoError(t, a.CheckLeaks())
	return obs.reads
}

// TestKernelXDPMetaAtTracepointAfterDecap: vxlan_rcv's decap moves the
// mac header to the inner frame while meta_len stays, so a tracing program
// that reads the bytes before the mac header gets the VXLAN header (flags
// 0x08, VNI 42), not what native XDP on the underlay wrote; the model's
// xdp-meta design reports the value lost (missing) at the tracepoint.
func TestKernelXDPMetaAtTracepointAfterDecap(t *testing.T) {
	testutil.KernelTests(t)
	sfx := fmt.Sprint(os.Getpid() % 100000)
	va, vb, xa, xb := "mdA"+sfx, "mdB"+sfx, "mxA"+sfx, "mxB"+sfx
	probe, err := NewMetaProbe(false)
	testutil.SkipIfNotSupported(t, err)
	t.Cleanup(func() { require.NoError(t, probe.Close()) })
	a, b := newNetns(t, "mdA"), newNetns(t, "mdB")
	require.NoError(t, a.IP("link", "add", va, "type", "veth", "peer", "name", vb, "netns", b.Name))
	for _, x := range []struct {
		n                       *Netns
		dev, vx, me, you, inner string
	}{{a, va, xa, "192.0.2.1", "192.0.2.2", "198.51.100.1/24"}, {b, vb, xb, "192.0.2.2", "192.0.2.1", "198.51.100.2/24"}} {
		require.NoError(t, x.n.IP("addr", "add", x.me+"/24", "dev", x.dev))
		require.NoError(t, x.n.IP("link", "set", x.dev, "up"))
		require.NoError(t, x.n.IP("link", "add", x.vx, "type", "vxlan", "id", "42", "local", x.me, "remote", x.you,
			"dstport", "4789", "dev", x.dev))
		require.NoError(t, x.n.IP("addr", "add", x.inner, "dev", x.vx))
		require.NoError(t, x.n.IP("link", "set", x.vx, "up"))
	}
	macB, err := b.HardwareAddr(vb)
	require.NoError(t, err)
	macXB, err := b.HardwareAddr(xb)
	require.NoError(t, err)
	require.NoError(t, a.IP("neigh", "add", "192.0.2.2", "lladdr", macB.String(), "dev", va, "nud", "permanent"))
	require.NoError(t, a.IP("neigh", "add", "198.51.100.2", "lladdr", macXB.String(), "dev", xa, "nud", "permanent"))
	require.NoError(t, probe.AttachXDP(b, vb, false))
	require.NoError(t, probe.Watch(xb))
	snd := newSocket(t, a, unix.AF_INET, unix.SOCK_DGRAM, 0)
	require.NoError(t, unix.Sendto(snd, make([]byte, 16), 0, &unix.SockaddrInet4{Port: 9999, Addr: [4]byte{198, 51, 100, 2}}))
	seen, err := probe.Seen(xb)
	require.NoError(t, err)
	require.Equal(t, uint64(1), seen.Count, "skbs freed on %s", xb)
	require.EqualValues(t, MetaProbeLen, seen.MetaLen, "meta_len survives the decap")
	require.Equal(t, [MetaProbeLen]byte{0x08, 0, 0, 0, 0, 0, 42, 0}, seen.Meta, "the VXLAN header, not the metadata")

	macVXB := [6]byte{2, 0, 0, 0, 9, 2}
	cfg := &netstack.Config{
		Namespaces: []netstack.NamespaceConfig{{Name: "A"}, {Name: "B"}},
		Devices: []netstack.DeviceConfig{
			{Name: "vA", Kind: netstack.KindVeth, Netns: "A", Addrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.1/24")},
				Peer: "vB", PeerNetns: "B", PeerMAC: [6]byte{2, 0, 0, 0, 9, 1},
				PeerAddrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.2/24")}, PeerXDP: "native"},
			{Name: "vxA", Kind: netstack.KindVXLAN, Netns: "A", VNI: 42, Local: netip.MustParseAddr("192.0.2.1"),
				Remote: netip.MustParseAddr("192.0.2.2"), Addrs: []netip.Prefix{netip.MustParsePrefix("198.51.100.1/24")}},
			{Name: "vxB", Kind: netstack.KindVXLAN, Netns: "B", VNI: 42, Local: netip.MustParseAddr("192.0.2.2"), MAC: macVXB,
				Remote: netip.MustParseAddr("192.0.2.1"), Addrs: []netip.Prefix{netip.MustParsePrefix("198.51.100.2/24")}},
		},
		Neighbours: []netstack.NeighConfig{
			{Netns: "A", Dev: "vA", Addr: netip.MustParseAddr("192.0.2.2"), MAC: [6]byte{2, 0, 0, 0, 9, 1}},
			{Netns: "A", Dev: "vxA", Addr: netip.MustParseAddr("198.51.100.2"), MAC: macVXB},
		},
		Sockets: []netstack.SocketConfig{{Name: "snd", Netns: "A", Proto: netstack.ProtoUDP, Port: 40000}},
		Programs: []netstack.ProgramConfig{
			{Name: "xdp", Hook: carrier.HookXDP, Netns: "B", Dev: "vB", Actions: []netstack.Action{{Kind: netstack.ActWrite, Map: 0, Value: 0xa0}}},
			{Name: "tp", Hook: carrier.HookTracepoint, Netns: "B", Event: netstack.EventKfreeSkb,
				Actions: []netstack.Action{{Kind: netstack.ActRead, Map: 0}}},
		},
		Entries: []netstack.EntryConfig{{Kind: netstack.EntryTX, Netns: "A", Socket: "snd"}},
	}
	require.Equal(t, []netstack.ReadResult{netstack.ReadMissing},
		runXDPMetaModel(t, cfg, udp4Packet([4]byte{198, 51, 100, 1}, [4]byte{198, 51, 100, 2}, 40000, 9999, 16)))
}

// TestKernelXDPMetaCloneWrite: an ETH_P_ALL packet socket on vB, served
// before tc ingress (dev->ptype_all), makes the skb that reaches tc a
// clone (packet_rcv clones a shared skb), and a tc program that writes
// packet data in place (it flips a bit of the destination MAC) runs
// bpf_unclone_prologue first: pskb_expand_head gives it a private head,
// which the tap's copy, still showing the MAC as sent, proves, and on 6.18
// without the metadata, so data - data_meta reads 0 after it. Without the
// packet socket the skb is not cloned and the 8 bytes stay. The model's
// xdp-meta design, written at XDP and written and then read at tc ingress,
// loses the value (missing) in the same case only.
func TestKernelXDPMetaCloneWrite(t *testing.T) {
	testutil.KernelTests(t)
	sfx := fmt.Sprint(os.Getpid() % 100000)
	va, vb := "mcA"+sfx, "mcB"+sfx
	for _, tc := range []struct {
		tap     bool
		metaLen uint32
		model   netstack.ReadResult
	}{{false, MetaProbeLen, netstack.ReadFound}, {true, 0, netstack.ReadMissing}} {
		t.Run(fmt.Sprintf("tap %v", tc.tap), func(t *testing.T) {
			probe, err := NewMetaProbe(false)
			testutil.SkipIfNotSupported(t, err)
			t.Cleanup(func() { require.NoError(t, probe.Close()) })
			a, b, macB := vethPairAB(t, "mc", va, vb)
			require.NoError(t, probe.AttachXDP(b, vb, false))
			require.NoError(t, probe.AttachTC(b, vb, true))
			ps := -1
			if tc.tap {
				ifB, err := b.Ifindex(vb)
				require.NoError(t, err)
				ps = newSocket(t, b, unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_NONBLOCK, int(htons(unix.ETH_P_ALL)))
				require.NoError(t, unix.Bind(ps, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifB}))
			}
			snd := newSocket(t, a, unix.AF_INET, unix.SOCK_DGRAM, 0)
			require.NoError(t, unix.Sendto(snd, make([]byte, 16), 0, &unix.SockaddrInet4{Port: 9999, Addr: [4]byte{192, 0, 2, 2}}))
			n, ran, err := probe.TCMetaLen()
			require.NoError(t, err)
			require.True(t, ran, "tc ingress saw the packet")
			if tc.tap {
				// The tap's clone still has the destination MAC as sent:
				// the write went to a private head (pskb_expand_head).
				buf := make([]byte, 64)
				nr, _, err := unix.Recvfrom(ps, buf, 0)
				require.NoError(t, err)
				require.GreaterOrEqual(t, nr, 6)
				require.Equal(t, []byte(macB), buf[:6], "the tap's copy of the frame")
			}
			require.Equal(t, tc.metaLen, n, "data - data_meta after the in-place write")

			macBm := [6]byte{2, 0, 0, 0, 10, 2}
			cfg := &netstack.Config{
				Namespaces: []netstack.NamespaceConfig{{Name: "A"}, {Name: "B"}},
				Devices: []netstack.DeviceConfig{{Name: "vA", Kind: netstack.KindVeth, Netns: "A",
					Addrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.1/24")}, Peer: "vB", PeerNetns: "B", PeerMAC: macBm,
					PeerAddrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.2/24")}, PeerXDP: "native"}},
				Neighbours: []netstack.NeighConfig{{Netns: "A", Dev: "vA", Addr: netip.MustParseAddr("192.0.2.2"), MAC: macBm}},
				Sockets:    []netstack.SocketConfig{{Name: "snd", Netns: "A", Proto: netstack.ProtoUDP, Port: 40000}},
				Programs: []netstack.ProgramConfig{
					{Name: "xdp", Hook: carrier.HookXDP, Netns: "B", Dev: "vB", Actions: []netstack.Action{{Kind: netstack.ActWrite, Map: 0, Value: 0xa0}}},
					{Name: "tc", Hook: carrier.HookTCIngress, Netns: "B", Dev: "vB", Actions: []netstack.Action{
						{Kind: netstack.ActWrite, Map: 0, Value: 0xa0}, {Kind: netstack.ActRead, Map: 0}}},
				},
				Entries: []netstack.EntryConfig{{Kind: netstack.EntryTX, Netns: "A", Socket: "snd"}},
			}
			if tc.tap {
				cfg.Taps = []netstack.TapConfig{{Name: "t", Netns: "B", Dev: "vB", Dir: netstack.TapRX, Hold: true}}
			}
			require.Equal(t, []netstack.ReadResult{tc.model},
				runXDPMetaModelAt(t, cfg, carrier.HookTCIngress, udp4Packet([4]byte{192, 0, 2, 1}, [4]byte{192, 0, 2, 2}, 40000, 9999, 16)))
		})
	}
}

// readRecorder keeps the results of the reads of the programs at hook.
type readRecorder struct {
	netstack.NopObserver
	hook  carrier.Hook
	reads []netstack.ReadResult
}

func (r *readRecorder) MapRead(e netstack.MapReadEvent) {
	if e.Hook == r.hook {
		r.reads = append(r.reads, e.Result)
	}
}

// vethPairAB makes namespaces A and B (named after what) joined by the
// veth pair va (A, 192.0.2.1/24) <-> vb (B, 192.0.2.2/24), both up, with a
// permanent neighbour for 192.0.2.2 on va, and returns vb's MAC address.
func vethPairAB(t *testing.T, what, va, vb string) (a, b *Netns, macB net.HardwareAddr) {
	t.Helper()
	a, b = newNetns(t, what+"A"), newNetns(t, what+"B")
	require.NoError(t, a.IP("link", "add", va, "type", "veth", "peer", "name", vb, "netns", b.Name))
	require.NoError(t, a.IP("addr", "add", "192.0.2.1/24", "dev", va))
	require.NoError(t, b.IP("addr", "add", "192.0.2.2/24", "dev", vb))
	require.NoError(t, a.IP("link", "set", va, "up"))
	require.NoError(t, b.IP("link", "set", vb, "up"))
	macB, err := b.HardwareAddr(vb)
	require.NoError(t, err)
	require.NoError(t, a.IP("neigh", "add", "192.0.2.2", "lladdr", macB.String(), "dev", va, "nud", "permanent"))
	return a, b, macB
}
