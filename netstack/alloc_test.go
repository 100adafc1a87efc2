package netstack

import (
	"encoding/binary"
	"net/netip"

	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/skb"
)

var (
	macNIC  = [6]byte{0x02, 0, 0, 0, 0x10, 1}
	macPeer = [6]byte{0x02, 0, 0, 0, 0x10, 2}
)

// rxToSocketConfig: a NIC receives, tc ingress sets the mark, a UDP
// socket reads.
func rxToSocketConfig() *Config {
	return &Config{
		Devices: []DeviceConfig{{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("192.0.2.1/24")}}},
		Sockets: []SocketConfig{{Name: "app", Proto: ProtoUDP, Port: 9999}},
		Programs: []ProgramConfig{{Name: "tc", Hook: carrier.HookTCIngress, Dev: "eth0",
			Actions: []Action{{Kind: ActSetMark, Value: 7}, {Kind: ActCount}}}},
	}
}

// rxVethConfig: a NIC receives; tc ingress redirects to the container's
// veth with bpf_redirect_peer; the container's socket reads (rx -> tc ->
// veth -> socket).
func rxVethConfig() *Config {
	return &Config{
		Namespaces: []NamespaceConfig{{Name: "c"}},
		Devices: []DeviceConfig{
			{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("192.0.2.1/24")}},
			{Name: "veth0", Kind: KindVeth, MAC: macA, Peer: "eth0", PeerNetns: "c", PeerMAC: macNIC,
				PeerAddrs: []netip.Prefix{pfx("10.0.0.2/24")}},
		},
		Sockets: []SocketConfig{{Name: "app", Netns: "c", Proto: ProtoUDP, Port: 9999}},
		Programs: []ProgramConfig{{Name: "tc", Hook: carrier.HookTCIngress, Dev: "eth0",
			Actions: []Action{{Kind: ActSetMark, Value: 7}, {Kind: ActRedirectPeer, Target: "veth0"}}}},
	}
}

// vethTxConfig: a socket in A sends over a veth pair to a socket in B.
func vethTxConfig() *Config {
	return &Config{
		Namespaces: []NamespaceConfig{{Name: "A"}, {Name: "B"}},
		Devices: []DeviceConfig{{Name: "vA", Kind: KindVeth, Netns: "A", MAC: macA, Addrs: []netip.Prefix{pfx("192.0.2.1/24")},
			Peer: "vB", PeerNetns: "B", PeerMAC: macB, PeerAddrs: []netip.Prefix{pfx("192.0.2.2/24")}}},
		Sockets: []SocketConfig{
			{Name: "tx", Netns: "A", Proto: ProtoUDP, Port: 40000},
			{Name: "rx", Netns: "B", Proto: ProtoUDP, Port: 9999},
		},
		Entries: []EntryConfig{{Kind: EntryTX, Netns: "A", Socket: "tx"}},
		Programs: []ProgramConfig{{Name: "tc", Hook: carrier.HookTCEgress, Netns: "A", Dev: "vA",
			Actions: []Action{{Kind: ActSetMark, Value: 7}}}},
	}
}

// tproxyConfig: AnyIP (`ip route add local 0.0.0.0/0 dev lo`) and a
// TPROXY rule steering all UDP to a transparent socket.
func tproxyConfig() *Config {
	cfg := rxToSocketConfig()
	cfg.Routes = []RouteConfig{{Dst: pfx("0.0.0.0/0"), Dev: "lo", Type: RouteLocal}}
	cfg.Sockets[0].Port, cfg.Sockets[0].TProxy = 3128, true
	return cfg
}

func rxFrame(dst string) []byte {
	return buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: dst, sport: 1000, dport: 9999, payload: 64})
}

func TestNoAllocsSteadyState(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cfg    *Config
		frame  []byte
		delivs int // reads per packet (0: 1)
	}{
		{"rx-to-socket", rxToSocketConfig(), rxFrame("192.0.2.1"), 0},
		// skb_vlan_untag in software, and a NIC's hardware strip.
		{"rx-vlan-untag-socket", rxToSocketConfig(), withTags(rxFrame("192.0.2.1"), skb.EthP8021Q, 0x2000), 0},
		{"rx-vlan-strip-socket", vlanOffloadConfig(), withTags(rxFrame("192.0.2.1"), skb.EthP8021Q, 0x2000), 0},
		// Device-bound XDP programs calling the XDP RX metadata kfuncs on
		// the NIC and on a veth.
		{"rx-hints-veth-hints-socket", hintsConfig(), rxFrame("10.0.0.2"), 0},
		{"rx-tc-veth-socket", rxVethConfig(), rxFrame("10.0.0.2"), 0},
		{"socket-veth-socket", vethTxConfig(), buildFrame(frameOpts{src: "192.0.2.1", dst: "192.0.2.2", sport: 40000, dport: 9999, payload: 64, noEth: true}), 0},
		{"rx-anyip-tproxy", tproxyConfig(), rxFrame("203.0.113.77"), 0},
		// UDP_SEGMENT: page-frag payload, skb_segment at the receiver.
		{"udp-segment-veth-segments", udpSegmentConfig(1000), buildFrame(frameOpts{src: "192.0.2.1", dst: "192.0.2.2", sport: 40000, dport: 9999, payload: 2500, noEth: true}), 3},
		// macvlan_handle_frame into another namespace; a broadcast frame
		// for eth0's stack and, through the port's queue, the macvlan's.
		{"rx-macvlan-socket", macvlanRxConfig(), buildFrame(frameOpts{dstMAC: macMvB, srcMAC: macGW, src: "10.0.1.254", dst: "10.0.1.2", sport: 1000, dport: 2000, payload: 64}), 0},
		{"rx-macvlan-broadcast-sockets", macvlanRxConfig(), buildFrame(frameOpts{dstMAC: broadcastMAC, srcMAC: macGW, src: "10.0.1.254", dst: "10.0.1.2", sport: 1000, dport: 2000, payload: 64}), 2},
		// Forwarding in programs: bpf_fib_lookup at XDP into a veth whose
		// peer runs XDP, and at tc behind a tap (the unclone prologue).
		{"rx-xdp-fib-forward-veth-socket", fibTopology(true,
			ProgramConfig{Name: "fwd", Hook: carrier.HookXDP, Dev: "eth0", Actions: []Action{{Kind: ActFibForward}}},
			ProgramConfig{Name: "xB", Hook: carrier.HookXDP, Netns: "B", Dev: "vB", Actions: []Action{{Kind: ActPass}}}),
			buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "10.1.0.2", sport: 1000, dport: 2000, payload: 64}), 0},
		// A collect_md vxlan device: a metadata dst per packet, read by
		// bpf_skb_get_tunnel_key at its tc ingress.
		{"rx-external-vxlan-socket", externalRxConfig(), vxlanWrap(buildFrame(frameOpts{dstMAC: macB, srcMAC: macA,
			src: "10.9.0.9", dst: "10.9.0.1", sport: 1000, dport: 2000, payload: 64}), "192.0.2.1", 1, 77), 0},
		{"rx-tc-fib-forward-veth-socket", fibTopologyTapped(ProgramConfig{Name: "fwd", Hook: carrier.HookTCIngress, Dev: "eth0",
			Actions: []Action{{Kind: ActFibForward}}}),
			buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "10.1.0.2", sport: 1000, dport: 2000, payload: 64}), 2},
		// A multipath route's hash: the flow dissector's keys and
		// SipHash on the stack (the custom policy also jhash).
		{"rx-multipath-forward-socket", mpTopology(NamespaceConfig{MultipathHashPolicy: MultipathL4, MultipathHashSeed: 1}, [2]int{}),
			buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "198.51.100.7", sport: 1000, dport: 2000, payload: 64}), 0},
		{"rx-multipath-custom-forward-socket", mpTopology(NamespaceConfig{MultipathHashPolicy: MultipathCustom, MultipathHashFields: 0x37}, [2]int{}),
			buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "198.51.100.7", sport: 1000, dport: 2000, payload: 64}), 0},
		// Forwarding into a netkit pair whose primary runs a program.
		{"rx-forward-netkit-socket", netkitRxConfig(), worldFrame(), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, te := newStack(t, tc.cfg, "", nil, nil)
			p := &Packet{Frame: tc.frame}
			for i := range 64 {
				p.ID = uint64(i)
				require.NoError(t, s.Inject(p))
			}
			require.Empty(t, te.obs.drops)
			require.Len(t, te.obs.delivs, 64*max(tc.delivs, 1), "every packet reached the socket")
			if tc.cfg.Programs[len(tc.cfg.Programs)-1].DevBound {
				require.Len(t, te.obs.rxMeta, 64*6, "both XDP programs called the three kfuncs")
			}
			s.obs = NopObserver{}
			allocs := testing.AllocsPerRun(200, func() {
				p.ID++
				_ = s.Inject(p)
			})
			require.Zero(t, allocs, "Go heap allocations per packet")
		})
	}
}

// hintsConfig is rxVethConfig with hardware timestamps on the NIC, native
// XDP on the container's veth, and a device-bound XDP program calling the
// three XDP RX metadata kfuncs on each; tc redirects to the veth's egress
// (bpf_redirect), so that the peer's XDP runs.
func hintsConfig() *Config {
	cfg := rxVethConfig()
	cfg.Devices[0].RxHwTstamp = "on"
	cfg.Devices[1].PeerXDP = "native"
	hints := []Action{{Kind: ActRxMeta, Index: int(RxMetaHash)}, {Kind: ActRxMeta, Index: int(RxMetaTimestamp)}, {Kind: ActRxMeta, Index: int(RxMetaVlanTag)}}
	cfg.Programs[0].Actions[1] = Action{Kind: ActRedirect, Target: "veth0"}
	cfg.Programs = append(cfg.Programs,
		ProgramConfig{Name: "nic", Hook: carrier.HookXDP, Dev: "eth0", DevBound: true, Actions: hints},
		ProgramConfig{Name: "pod", Hook: carrier.HookXDP, Netns: "c", Dev: "eth0", DevBound: true, Actions: hints})
	return cfg
}

// macvlanRxConfig is a NIC eth0 (10.0.1.2) with a macvlan mvB (10.0.1.2
// too) moved to namespace B, and a UDP socket on port 2000 on each side.
func macvlanRxConfig() *Config {
	a := []netip.Prefix{pfx("10.0.1.2/24")}
	return &Config{
		Namespaces: []NamespaceConfig{{Name: "B"}},
		Devices: []DeviceConfig{
			{Name: "eth0", Kind: KindNIC, MAC: macEth0, Addrs: a},
			{Name: "mvB", Kind: KindMacvlan, Netns: "B", Link: "eth0", LinkNetns: HostNetns, MAC: macMvB, Addrs: a},
		},
		Sockets: []SocketConfig{
			{Name: "host", Proto: ProtoUDP, Port: 2000},
			{Name: "b", Netns: "B", Proto: ProtoUDP, Port: 2000},
		},
		Programs: []ProgramConfig{{Name: "mvB", Hook: carrier.HookTCIngress, Netns: "B", Dev: "mvB", Actions: []Action{{Kind: ActCount}}}},
		Entries:  []EntryConfig{{Dev: "eth0"}},
	}
}

// vlanOffloadConfig is rxToSocketConfig with the NIC's receive VLAN
// offload on.
func vlanOffloadConfig() *Config {
	cfg := rxToSocketConfig()
	cfg.Devices[0].RxVLANOffload = "on"
	return cfg
}

// udpSegmentConfig is vethTxConfig with UDP_SEGMENT gso on the sender.
func udpSegmentConfig(gso int) *Config {
	cfg := vethTxConfig()
	cfg.Sockets[0].UDPSegment = gso
	return cfg
}

// benchInject measures Inject of frame, again and again, on a stack built
// from cfg without an observer; it reports packets per second.
func benchInject(b *testing.B, cfg *Config, frame []byte) {
	b.Helper()
	s, _ := newStack(b, cfg, "", nil, nil)
	s.obs = NopObserver{}
	p := &Packet{Frame: frame}
	b.ReportAllocs()
	for b.Loop() {
		p.ID++
		if err := s.Inject(p); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
}

// BenchmarkUDPSegmentSend: a 2500-byte UDP_SEGMENT datagram (gso 1000)
// from a socket, through tc egress and a veth, cut into 3 segments at the
// receiving socket (udp_rcv_segment).
func BenchmarkUDPSegmentSend(b *testing.B) {
	benchInject(b, udpSegmentConfig(1000), buildFrame(frameOpts{src: "192.0.2.1", dst: "192.0.2.2", sport: 40000, dport: 9999, payload: 2500, noEth: true}))
}

func BenchmarkRxTCVethSocket(b *testing.B) {
	benchInject(b, rxVethConfig(), rxFrame("10.0.0.2"))
}

func BenchmarkRxTCVethSocketRFC(b *testing.B) {
	cfg := rxVethConfig()
	cfg.Programs[0].Actions = append([]Action{{Kind: ActWrite, Map: 0}}, cfg.Programs[0].Actions...)
	cfg.Programs = append(cfg.Programs, ProgramConfig{Name: "read", Hook: carrier.HookCgroupIngress,
		Actions: []Action{{Kind: ActRead, Map: 0}}})
	s, _ := newStack(b, cfg, "", rfcCarrier("rfc", oneMap), oneMap)
	s.obs = NopObserver{}
	gp, _ := s.car.(interface{ GracePeriod() })
	p := &Packet{Frame: rxFrame("10.0.0.2")}
	b.ReportAllocs()
	for b.Loop() {
		p.ID++
		if err := s.Inject(p); err != nil {
			b.Fatal(err)
		}
		if gp != nil && p.ID%64 == 0 {
			gp.GracePeriod() // an RCU grace period per NAPI-sized batch, as the replay does
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
}

func BenchmarkSocketVethSocket(b *testing.B) {
	benchInject(b, vethTxConfig(), buildFrame(frameOpts{src: "192.0.2.1", dst: "192.0.2.2", sport: 40000, dport: 9999, payload: 64, noEth: true}))
}

// TestNoAllocsReassembly: reassembly queues are reused, so locally
// delivered fragmented datagrams do not allocate in steady state.
func TestNoAllocsReassembly(t *testing.T) {
	s, te := newStack(t, rxToSocketConfig(), "", nil, nil)
	first := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "192.0.2.1", sport: 1, dport: 9999, payload: 32, id: 7, fragOff: ipMF})
	second := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "192.0.2.1", payload: 32, id: 7, fragOff: 5})
	second = append(second[:ethHlen+ipHlen], make([]byte, 40)...)
	binary.BigEndian.PutUint16(second[ethHlen+2:], uint16(ipHlen+40))
	setIPCsum(second[ethHlen:], ipHlen)
	p1, p2 := &Packet{Frame: first}, &Packet{Frame: second}
	for i := range 32 {
		p1.ID, p2.ID = uint64(2*i), uint64(2*i+1)
		require.NoError(t, s.Inject(p1))
		require.NoError(t, s.Inject(p2))
	}
	require.Empty(t, te.obs.drops)
	require.Len(t, te.obs.delivs, 32, "every datagram reassembled and read")
	s.obs = NopObserver{}
	allocs := testing.AllocsPerRun(200, func() {
		p1.ID += 2
		p2.ID += 2
		_ = s.Inject(p1)
		_ = s.Inject(p2)
	})
	require.Zero(t, allocs, "Go heap allocations per datagram")
}

// externalRxConfig is a NIC eth0 (192.0.2.1) with a collect_md vxlan
// device vx0 (10.9.0.1/24, MAC macB) whose tc ingress reads the tunnel
// key, and a UDP socket on port 2000.
func externalRxConfig() *Config {
	return &Config{
		Devices: []DeviceConfig{
			{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("192.0.2.1/24")}},
			{Name: "vx0", Kind: KindVXLAN, External: true, MAC: macB, Addrs: []netip.Prefix{pfx("10.9.0.1/24")}},
		},
		Sockets:  []SocketConfig{{Name: "app", Proto: ProtoUDP, Port: 2000}},
		Programs: []ProgramConfig{{Name: "key", Hook: carrier.HookTCIngress, Dev: "vx0", Actions: []Action{{Kind: ActGetTunnelKey}}}},
		Entries:  []EntryConfig{{Dev: "eth0"}},
	}
}
