package examples

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/capture"
	"github.com/skbsim/skbsim/capture/capturetest"
	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/netstack"
	"github.com/skbsim/skbsim/sim"
)

// frame is one packet of a crafted capture.
type frame []gopacket.SerializableLayer

// mustWrite writes frames as an Ethernet pcap in a test directory.
func mustWrite(tb testing.TB, frames []frame) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "crafted.pcap")
	f, err := os.Create(path)
	require.NoError(tb, err)
	bw := bufio.NewWriter(f)
	w := pcapgo.NewWriter(bw)
	require.NoError(tb, w.WriteFileHeader(65535, layers.LinkTypeEthernet))
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	ts := time.Unix(1704067200, 0)
	for i, fr := range frames {
		require.NoError(tb, gopacket.SerializeLayers(buf, opts, fr...))
		ci := gopacket.CaptureInfo{Timestamp: ts.Add(time.Duration(i) * time.Millisecond),
			CaptureLength: len(buf.Bytes()), Length: len(buf.Bytes())}
		require.NoError(tb, w.WritePacket(ci, buf.Bytes()))
	}
	require.NoError(tb, bw.Flush())
	require.NoError(tb, f.Close())
	return path
}

func mac(b byte) net.HardwareAddr { return net.HardwareAddr{0x02, 0, 0, 0, 0, b} }

func eth(src, dst net.HardwareAddr, t layers.EthernetType) *layers.Ethernet {
	return &layers.Ethernet{SrcMAC: src, DstMAC: dst, EthernetType: t}
}

func ip4(src, dst netip.Addr, proto layers.IPProtocol) *layers.IPv4 {
	return &layers.IPv4{Version: 4, TTL: 64, Protocol: proto, Flags: layers.IPv4DontFragment,
		SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
}

// udpFrames builds n UDP datagrams from src to dst in Ethernet frames.
func udpFrames(src, dst netip.AddrPort, n int) []frame {
	var out []frame
	for i := range n {
		ip := ip4(src.Addr(), dst.Addr(), layers.IPProtocolUDP)
		ip.Id = uint16(i + 1)
		udp := &layers.UDP{SrcPort: layers.UDPPort(src.Port()), DstPort: layers.UDPPort(dst.Port())}
		_ = udp.SetNetworkLayerForChecksum(ip)
		out = append(out, frame{eth(mac(1), mac(2), layers.EthernetTypeIPv4), ip, udp, gopacket.Payload("skb storage selftest")})
	}
	return out
}

// mustReplay replays pcap through the scenario file and checks the run
// ended complete and without leaks.
func mustReplay(tb testing.TB, scenario string, pcap string, opts sim.Options) *sim.Report {
	tb.Helper()
	s, err := sim.LoadScenario(scenario)
	require.NoError(tb, err)
	rep, err := sim.Replay(s, []string{pcap}, opts)
	require.NoError(tb, err)
	require.True(tb, rep.Complete)
	require.Zero(tb, rep.LiveObjectsAtEnd, "leaks: %v", rep.Leaks)
	require.Empty(tb, rep.Leaks)
	return rep
}

func runs(tb testing.TB, rep *sim.Report, prog string) uint64 {
	tb.Helper()
	p := rep.Program(prog)
	require.NotNil(tb, p, "program %s in the report", prog)
	return p.Runs
}

var (
	loopSender   = netip.MustParseAddrPort("127.0.0.1:40000")
	loopReceiver = netip.MustParseAddrPort("127.0.0.1:4444")
)

const selftestPackets = 20

// TestRFCSelftests replays the RFC's selftests (kernel_local_storage.md
// §1.5) and asserts what they assert, per packet: the store program ran,
// and the load program saw the value (load_seen, load_value == MAGIC:
// "found" means the value written for this very packet) or, for the clone,
// saw nothing.
func TestRFCSelftests(t *testing.T) {
	loop := mustWrite(t, udpFrames(loopSender, loopReceiver, selftestPackets))
	blackhole := mustWrite(t, udpFrames(netip.MustParseAddrPort("10.9.9.1:40000"), netip.MustParseAddrPort("10.9.9.9:4444"), selftestPackets))
	const n = selftestPackets
	for _, tc := range []struct {
		file      string
		pcap      string
		loadRuns  uint64 // runs of the load program (redir_seen for the clone)
		found     uint64 // load_seen with load_value == MAGIC
		delivered uint64
		drop      string
	}{
		// store_seen 1, redir_seen 1, load_seen 0: the clone shares the
		// extension and the RFC refuses access while it is shared.
		{"rfc-tc-clone-redirect.yaml", loop, n, 0, n, ""},
		// store_seen 1, load_seen 1, load_value MAGIC.
		{"rfc-tc-ingress-to-cgroup-ingress.yaml", loop, n, n, n, ""},
		{"rfc-tc-ingress-to-sk-filter.yaml", loop, n, n, n, ""},
		// the value is alive at the kfree_skb tracepoint of the qdisc drop.
		{"rfc-cgroup-egress-to-kfree-skb.yaml", blackhole, n, n, 0, "QDISC_DROP"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			rep := mustReplay(t, tc.file, tc.pcap, sim.Options{})
			assert.EqualValues(t, n, runs(t, rep, storeProg(rep)), "store_seen per packet")
			assert.Equal(t, tc.loadRuns, runs(t, rep, "load"), "load program runs")
			rd := rep.Read("load", "skb_storage")
			assert.Equal(t, tc.found, rd.Found, "load_seen with load_value == MAGIC: %+v", rd)
			assert.Equal(t, tc.loadRuns-tc.found, rd.Missing+rd.Refused, "reads that saw nothing: %+v", rd)
			assert.Zero(t, rd.Foreign+rd.Errors, "%+v", rd)
			assert.Equal(t, tc.delivered, sim.Count(rep.Outcomes, "delivered to a socket"))
			if tc.drop != "" {
				assert.EqualValues(t, n, sim.Count(rep.Drops, tc.drop))
			}
		})
	}
}

func storeProg(rep *sim.Report) string {
	if rep.Program("store_and_redirect") != nil {
		return "store_and_redirect"
	}
	return "store"
}

// TestRFCCloneRefused pins why the clone sees nothing: the RFC refuses
// access (EOPNOTSUPP) while the extension is shared, rather than finding
// no value.
func TestRFCCloneRefused(t *testing.T) {
	loop := mustWrite(t, udpFrames(loopSender, loopReceiver, selftestPackets))
	rep := mustReplay(t, "rfc-tc-clone-redirect.yaml", loop, sim.Options{})
	assert.EqualValues(t, selftestPackets, rep.Read("load", "skb_storage").Refused)
	// With a design that copies values to clones (skb-hash keys the value
	// by skb, so a clone is a different key) the clone still sees nothing
	// of its own.
	rep = mustReplay(t, "rfc-tc-clone-redirect.yaml", loop, sim.Options{Design: "skb-hash"})
	assert.Zero(t, rep.Read("load", "skb_storage").Found)
}

// TestRFCCloneFlag runs the clone selftest with the map flag the RFC leaves
// to future work (BPF_F_CLONE: copy the value on skb_clone): the clone then
// reads the value written for its packet.
func TestRFCCloneFlag(t *testing.T) {
	loop := mustWrite(t, udpFrames(loopSender, loopReceiver, selftestPackets))
	s, err := sim.LoadScenario("rfc-tc-clone-redirect.yaml")
	require.NoError(t, err)
	s.Maps[0].Flags |= carrier.FlagClone
	rep, err := sim.Replay(s, []string{loop}, sim.Options{})
	require.NoError(t, err)
	assert.EqualValues(t, selftestPackets, rep.Read("load", "skb_storage").Found)
	assert.Zero(t, rep.LiveObjectsAtEnd)
}

// podDatagrams counts the datagrams of an overlay capture by inner
// destination address, and returns the number of packets.
func podDatagrams(tb testing.TB, pcap string) (map[string]uint64, uint64) {
	tb.Helper()
	r, err := capture.Open(pcap)
	require.NoError(tb, err)
	defer r.Close()
	dec := capture.NewDecoder()
	var d capture.Decoded
	per := map[string]uint64{}
	var n uint64
	for {
		p, err := r.Next()
		if err != nil {
			require.ErrorIs(tb, err, io.EOF)
			return per, n
		}
		dec.Decode(p, &d)
		n++
		if d.Depth == 1 && d.Tunnel[0].Kind == capture.TunnelVXLAN && d.Inner().L4.DstPort == 8080 {
			per[d.Inner().L3.Dst.String()]++
		}
	}
}

// TestOverlay replays `simrun gen -preset overlay-node` traffic: every
// inner packet reaches its pod's socket; the value written on the outer
// packet is gone after vxlan_rcv's decap (skb_scrub_packet resets the
// extensions), the one written after the decap is gone in the pod (veth
// into another namespace scrubs again), and the map with keep_scrub and
// keep_netns keeps its value all the way to pod1, which the flood sends
// the frame itself. pod2 gets a clone: with br_netfilter on, the clone's
// nf_bridge_unshare copies the extension it shares (skb_ext_maybe_cow),
// and the RFC's copy does not carry the BPF storage over, so kept is gone
// there.
func TestOverlay(t *testing.T) {
	pcap := capturetest.MustGenerate(t, capture.GenSpec{Preset: "overlay-node", Seed: 1})
	per, n := podDatagrams(t, pcap)
	require.Equal(t, n, per["10.244.1.2"]+per["10.244.1.3"], "every packet is VXLAN to a pod's port 8080: %v", per)
	require.Positive(t, per["10.244.1.2"])
	require.Positive(t, per["10.244.1.3"])
	rep := mustReplay(t, "overlay.yaml", pcap, sim.Options{})
	assert.EqualValues(t, n, rep.PacketsRead)
	assert.Equal(t, n, sim.Count(rep.Outcomes, "delivered to a socket"))
	assert.Equal(t, n, runs(t, rep, "tc_nic"))
	assert.Equal(t, n, runs(t, rep, "tc_vxlan"), "every packet decapsulated by vx42")
	// The pods never send a frame, so the bridge does not learn their
	// addresses: br_flood() sends every frame to both pods (a clone to
	// all ports but the last), and the pod it is not for drops it as
	// PACKET_OTHERHOST in ip_rcv.
	assert.Equal(t, n, runs(t, rep, "tc_pod1"))
	assert.Equal(t, n, runs(t, rep, "tc_pod2"))
	assert.Equal(t, n, sim.Count(rep.Drops, "OTHERHOST"))
	assert.Len(t, rep.Drops, 1, "no other drops: %v", rep.Drops)

	assert.Equal(t, n, rep.Read("tc_vxlan", "outer").Missing, "scrubbed by the decap")
	assert.Equal(t, n, rep.Read("tc_vxlan", "kept").Found, "keep_scrub survives the decap")
	for _, prog := range []string{"tc_pod1", "tc_pod2"} {
		// Each pod's tc ingress sees every flooded frame after the veth
		// into its namespace: both default values are gone.
		assert.Equal(t, n, rep.Read(prog, "outer").Missing, prog)
		assert.Equal(t, n, rep.Read(prog, "inner").Missing, "%s: scrubbed by the netns crossing", prog)
	}
	// br_flood visits the newest port first: veth2 gets the clone, veth1
	// the frame.
	assert.Equal(t, n, rep.Read("tc_pod1", "kept").Found, "keep_netns survives the netns crossing")
	assert.Equal(t, n, rep.Read("tc_pod2", "kept").Missing, "the clone's copied extension has no storage")
	for sock, pod := range map[string]string{"sock_app1": "10.244.1.2", "sock_app2": "10.244.1.3"} {
		assert.Equal(t, per[pod], runs(t, rep, sock), "%s receives %s's datagrams", sock, pod)
		assert.Equal(t, per[pod], rep.Read(sock, "inner").Missing, "%s: scrubbed by the netns crossing", sock)
	}
	assert.Equal(t, per["10.244.1.2"], rep.Read("sock_app1", "kept").Found)
	assert.Equal(t, per["10.244.1.3"], rep.Read("sock_app2", "kept").Missing)
}

// TestOverlayWithoutBridgeNetfilter: the same node without br_netfilter
// (bridge_nf_call_iptables off): the flooded clone shares the frame's
// extension, so kept reaches both pods.
func TestOverlayWithoutBridgeNetfilter(t *testing.T) {
	pcap := capturetest.MustGenerate(t, capture.GenSpec{Preset: "overlay-node", Seed: 1})
	per, _ := podDatagrams(t, pcap)
	sc, err := sim.LoadScenario("overlay.yaml")
	require.NoError(t, err)
	for i := range sc.Stack.Namespaces {
		sc.Stack.Namespaces[i].BridgeNFCallIPTables = false
	}
	rep, err := sim.Replay(sc, []string{pcap}, sim.Options{})
	require.NoError(t, err)
	require.True(t, rep.Complete)
	require.Zero(t, rep.LiveObjectsAtEnd)
	for _, prog := range []string{"tc_pod1", "tc_pod2"} {
		assert.EqualValues(t, rep.PacketsRead, rep.Read(prog, "kept").Found, prog)
	}
	assert.Equal(t, per["10.244.1.3"], rep.Read("sock_app2", "kept").Found)
}

// TestEdgeLB replays `simrun gen -preset lb` traffic through the edge load
// balancer's backend.
func TestEdgeLB(t *testing.T) {
	pcap := capturetest.MustGenerate(t, capture.GenSpec{Preset: "lb", Seed: 1})
	rep := mustReplay(t, "edge-lb.yaml", pcap, sim.Options{})
	xdpRuns := runs(t, rep, "xdp_tag")
	assert.EqualValues(t, rep.PacketsRead, xdpRuns, "XDP runs on every received frame")
	// The RFC registers its kfuncs for skb program types only: every XDP
	// store fails and nothing reads the tag.
	assert.Equal(t, xdpRuns, sim.Count(rep.Carrier, "errors"))
	assert.Zero(t, rep.Read("tc_outer", "xdp_tag").Found)

	svc := runs(t, rep, "tc_svc")
	assert.Positive(t, svc, "decapsulated packets reach the service namespace")
	assert.Equal(t, svc, rep.Read("tc_svc", "outer").Missing, "the value written before the IPIP decap is scrubbed")
	assert.Equal(t, svc, rep.Read("sock_web", "svc").Found, "a value written in the service namespace reaches the socket")
	assert.Positive(t, sim.Count(rep.Outcomes, "delivered to a socket"))
	assert.Zero(t, sim.Count(rep.Drops, "IP_INNOROUTES"), "replies leave by the default route")

	// With the keep flags, the outer value crosses the decap and the veth.
	s, err := sim.LoadScenario("edge-lb.yaml")
	require.NoError(t, err)
	s.Maps[1].Flags |= carrier.FlagKeepScrub | carrier.FlagKeepNetns
	kept, err := sim.Replay(s, []string{pcap}, sim.Options{})
	require.NoError(t, err)
	assert.Equal(t, svc, kept.Read("tc_svc", "outer").Found)
}

// TestEdgeLBHints: where the NIC's receive hints reach, read by
// device-bound XDP programs on the NIC and in the container (see
// edge-lb-hints.yaml).
func TestEdgeLBHints(t *testing.T) {
	pcap := capturetest.MustGenerate(t, capture.GenSpec{Preset: "lb", Seed: 1})
	replay := func(edit func(*sim.Scenario)) *sim.Report {
		t.Helper()
		s, err := sim.LoadScenario("edge-lb-hints.yaml")
		require.NoError(t, err)
		if edit != nil {
			edit(s)
		}
		rep, err := sim.Replay(s, []string{pcap}, sim.Options{})
		require.NoError(t, err)
		require.True(t, rep.Complete)
		require.Zero(t, rep.LiveObjectsAtEnd, "leaks: %v", rep.Leaks)
		return rep
	}
	rep := replay(nil)
	n := uint64(rep.PacketsRead)
	for _, k := range []string{"rx_hash", "rx_timestamp"} {
		row := rep.RxMetaCalls("nic_hints", k)
		assert.Equal(t, sim.RxMetaRow{Program: "nic_hints", Where: "dev host/eth0", Kfunc: k, OK: n}, row, "the NIC has every frame's %s", k)
	}
	assert.Equal(t, n, rep.RxMetaCalls("nic_hints", "rx_vlan_tag").EOPNOTSUPP, "the driver lacks rx_vlan_tag")
	pod := runs(t, rep, "pod_hints")
	assert.Positive(t, pod)
	assert.Equal(t, sim.RxMetaRow{Program: "pod_hints", Where: "dev svc/eth0", Kfunc: "rx_hash", OK: pod}, rep.RxMetaCalls("pod_hints", "rx_hash"),
		"veth's skb_get_hash always has a hash")
	assert.Equal(t, sim.RxMetaRow{Program: "pod_hints", Where: "dev svc/eth0", Kfunc: "rx_timestamp", OK: pod}, rep.RxMetaCalls("pod_hints", "rx_timestamp"),
		"the NIC's hardware timestamp reaches the container")
	assert.Equal(t, pod, rep.RxMetaCalls("pod_hints", "rx_vlan_tag").ENODATA, "no tag in vlan_tci")
	assert.Zero(t, sim.Count(rep.Stack, "xdp_page_pool_copies"), "the NIC's XDP skbs have the headroom veth needs")

	// Without the NIC's XDP program, veth copies every skb for its own
	// XDP, and the copy has no hardware timestamp.
	plain := replay(func(s *sim.Scenario) { s.Stack.Programs = s.Stack.Programs[1:] })
	podPlain := runs(t, plain, "pod_hints")
	assert.Equal(t, pod, podPlain)
	ts := plain.RxMetaCalls("pod_hints", "rx_timestamp")
	assert.Equal(t, podPlain, ts.OK)
	assert.Equal(t, podPlain, ts.Zero, "skb_pp_cow_data's copy has no skb_hwtstamps")
	assert.Equal(t, podPlain, sim.Count(plain.Stack, "xdp_page_pool_copies"))

	// Redirected by XDP, a frame reaches the container as an xdp_frame.
	redir := replay(func(s *sim.Scenario) {
		s.Stack.Programs[0].Actions = append(s.Stack.Programs[0].Actions, netstack.Action{Kind: netstack.ActRedirect, Target: "veth0"})
	})
	assert.Equal(t, n, runs(t, redir, "pod_hints"), "every frame goes to the container")
	for _, k := range []string{"rx_hash", "rx_timestamp", "rx_vlan_tag"} {
		assert.Equal(t, sim.RxMetaRow{Program: "pod_hints", Where: "dev svc/eth0", Kfunc: k, ENODATA: n}, redir.RxMetaCalls("pod_hints", k),
			"no skb behind an xdp_frame: %s", k)
	}
}

// retransmissions counts the TCP segments of a capture that repeat the
// sequence range of an earlier data segment of the same flow direction.
func retransmissions(tb testing.TB, pcap string) int {
	tb.Helper()
	r, err := capture.Open(pcap)
	require.NoError(tb, err)
	defer r.Close()
	type key struct {
		flow     capture.FlowKey
		seq, end uint32
	}
	seen := map[key]bool{}
	dec := capture.NewDecoder()
	var d capture.Decoded
	n := 0
	for {
		p, err := r.Next()
		if err != nil {
			break
		}
		dec.Decode(p, &d)
		l4 := &d.Inner().L4
		if l4.Proto != 6 || l4.PayloadLen == 0 {
			continue
		}
		k := key{d.Flow, l4.Seq, l4.Seq + l4.PayloadLen}
		if seen[k] {
			n++
		}
		seen[k] = true
	}
	return n
}

// TestTapClone replays TCP traffic with retransmissions through a sending
// socket: every segment is transmitted as a clone of the queued skb, a
// retransmission as a new clone, and the packet tap gets a clone of every
// transmitted frame.
func TestTapClone(t *testing.T) {
	pcap := capturetest.MustGenerate(t, capture.GenSpec{Preset: "tap", Seed: 1})
	retx := retransmissions(t, pcap)
	require.Positive(t, retx, "the tap preset has retransmissions")
	rep := mustReplay(t, "tap-clone.yaml", pcap, sim.Options{})
	n := uint64(rep.PacketsRead)
	assert.Equal(t, n, runs(t, rep, "tc_egress"), "every segment, ACK and retransmission is transmitted once")
	rd := rep.Read("tc_egress", "egress")
	// The first read of each transmission finds nothing, retransmissions
	// included: the value was written on the previous transmission's clone,
	// not on the queued skb the retransmission clones again. The read
	// after the write finds it.
	assert.Equal(t, n, rd.Missing, "%+v", rd)
	assert.Equal(t, n, rd.Found, "%+v", rd)
	assert.Equal(t, n, sim.Count(rep.Outcomes, "read by a packet tap"))
	assert.Equal(t, n, sim.Count(rep.Outcomes, "transmitted by a device"))
	// The tap's clone shares the extension with the transmitted skb: the
	// RFC refuses access to it.
	assert.Equal(t, n, rep.Read("on_consume", "egress").Refused)
	assert.Empty(t, rep.Drops)
}

// quicBatches counts, from a quic capture alone, its datagrams, the
// segments a UDP_SEGMENT 1200 socket cuts them into, and the datagrams
// that are batches of more than one segment.
func quicBatches(tb testing.TB, pcap string) (datagrams, segments, batches uint64) {
	tb.Helper()
	r, err := capture.Open(pcap)
	require.NoError(tb, err)
	defer r.Close()
	for {
		p, err := r.Next()
		if err != nil {
			require.ErrorIs(tb, err, io.EOF)
			return datagrams, segments, batches
		}
		n := uint64(len(p.Data) - 14 - 20 - 8)
		datagrams++
		segments += (n + 1199) / 1200
		if n > 1200 {
			batches++
		}
	}
}

// TestUDPGSO replays `simrun gen -preset quic` through a UDP_SEGMENT
// sender: each batch leaves as one GSO skb and reaches the server socket
// as its segments (udp_rcv_segment). Under the RFC the segments share the
// GSO skb's extension, so the value tc egress wrote in the pod is found on
// every segment (in the map that survives the namespace crossing); under
// skb-hash only the datagrams that were never segmented find theirs, the
// segments being new skbs at new addresses.
func TestUDPGSO(t *testing.T) {
	pcap := capturetest.MustGenerate(t, capture.GenSpec{Preset: "quic", Seed: 1})
	n, segs, batches := quicBatches(t, pcap)
	require.Greater(t, segs, n, "the capture has batches")
	rep := mustReplay(t, "udp-gso.yaml", pcap, sim.Options{})
	assert.Equal(t, n, runs(t, rep, "tc_pod_egress"), "one GSO skb per datagram at tc egress")
	assert.Equal(t, segs, runs(t, rep, "sock_server"), "the server's filter runs once per segment")
	assert.Equal(t, segs, sim.Count(rep.Outcomes, "delivered to a socket"))
	assert.Equal(t, batches+segs, runs(t, rep, "on_consume"), "udp_rcv_segment consumes each GSO skb, the application each segment")
	assert.Equal(t, segs, rep.Read("sock_server", "tag").Missing, "scrubbed by the veth into the host namespace")
	assert.Equal(t, segs, rep.Read("sock_server", "kept").Found, "the segments share the GSO skb's extension")
	assert.Empty(t, rep.Drops)

	rep = mustReplay(t, "udp-gso.yaml", pcap, sim.Options{Design: "skb-hash"})
	assert.Equal(t, n-batches, rep.Read("sock_server", "kept").Found, "only unsegmented datagrams keep their skb")
	assert.Equal(t, segs-(n-batches), rep.Read("sock_server", "kept").Missing)
}

// TestExamplesWorkersIdentical checks the -j independence of reports on
// the example scenarios, whose stacks hold packets longer (TCP queues,
// tunnels, bridges) than the built-in one.
func TestExamplesWorkersIdentical(t *testing.T) {
	for _, tc := range []struct{ scenario, preset string }{
		{"edge-lb.yaml", "lb"},
		{"tap-clone.yaml", "tap"},
		{"overlay.yaml", "overlay-node"},
		{"udp-gso.yaml", "quic"},
		{"udp-gro-router.yaml", "quic-router"},
		{"edge-lb-cpumap.yaml", "lb"},
		{"edge-lb-hints.yaml", "lb"},
		{"edge-lb-macvlan.yaml", "lb"},
		{"xdp-router.yaml", "quic-router"},
		{"overlay-collect-md.yaml", "overlay-node"},
		{"mark-routing.yaml", "quic-router"},
		{"ecmp.yaml", "quic-router"},
		{"ecmp-failover.yaml", "quic-router"},
		{"netkit.yaml", "quic-router"},
	} {
		t.Run(tc.scenario, func(t *testing.T) {
			pcap := capturetest.MustGenerate(t, capture.GenSpec{Preset: tc.preset, Seed: 2})
			var want string
			for _, j := range []int{1, 2, 5} {
				rep := mustReplay(t, tc.scenario, pcap, sim.Options{Workers: j})
				var buf strings.Builder
				require.NoError(t, rep.WriteJSON(&buf))
				if j == 1 {
					want = buf.String()
					continue
				}
				assert.Equal(t, want, buf.String(), "-j %d", j)
			}
		})
	}
}

// completedHandshakes counts the handshakes of a capture a listener sees
// complete, from the capture alone: a client's SYN, then an ACK without
// SYN or RST from the same client whose sequence number is the SYN's + 1
// (no loss and no new SYN in between).
func completedHandshakes(tb testing.TB, path string) int {
	tb.Helper()
	f, err := os.Open(path)
	require.NoError(tb, err)
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	require.NoError(tb, err)
	type flow struct {
		src, dst     netip.Addr
		sport, dport uint16
	}
	pending := map[flow]uint32{}
	n := 0
	for {
		data, _, err := r.ReadPacketData()
		if err != nil {
			break
		}
		p := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.Default)
		ip, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		tcp, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if ip == nil || tcp == nil {
			continue
		}
		src, _ := netip.AddrFromSlice(ip.SrcIP)
		dst, _ := netip.AddrFromSlice(ip.DstIP)
		k := flow{src, dst, uint16(tcp.SrcPort), uint16(tcp.DstPort)}
		switch {
		case tcp.SYN && !tcp.ACK:
			pending[k] = tcp.Seq + 1
		case tcp.ACK && !tcp.SYN && !tcp.RST:
			if want, ok := pending[k]; ok && tcp.Seq == want {
				n++
				delete(pending, k)
			}
		}
	}
	return n
}

// TestRFCHandshakeSelftests replays generated TCP handshakes through the
// two selftests that load at connection setup and asserts what they
// assert: store_seen > 0, load_seen > 0 and load_value == MAGIC ("found":
// the value tc ingress wrote on this very skb), on every run.
func TestRFCHandshakeSelftests(t *testing.T) {
	pcap := capturetest.MustGenerate(t, capture.GenSpec{Preset: "tap", Seed: 1, Packets: 200})

	t.Run("tc_ingress_to_skops_passive_estab", func(t *testing.T) {
		rep := mustReplay(t, "rfc-tc-ingress-to-skops-passive-estab.yaml", pcap, sim.Options{})
		assert.Positive(t, runs(t, rep, "store"), "store_seen")
		want := completedHandshakes(t, pcap)
		require.Positive(t, want)
		// One PASSIVE_ESTABLISHED_CB per handshake, with its ACK.
		assert.EqualValues(t, want, runs(t, rep, "load"))
		rd := rep.Read("load", "skb_storage")
		assert.EqualValues(t, want, rd.Found, "load_seen with load_value == MAGIC: %+v", rd)
		assert.Zero(t, rd.Missing+rd.Refused+rd.Foreign+rd.Errors, "%+v", rd)
		assert.Positive(t, sim.Count(rep.Outcomes, "delivered to a socket"), "the requests reach the listeners")
	})

	t.Run("tc_ingress_to_lsm_inet_conn_estab", func(t *testing.T) {
		rep := mustReplay(t, "rfc-tc-ingress-to-lsm-inet-conn-estab.yaml", pcap, sim.Options{})
		assert.Positive(t, runs(t, rep, "store"), "store_seen")
		// One connect(), one SYN-ACK: security_inet_conn_established, then
		// BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB, both with the SYN-ACK.
		for _, prog := range []string{"load", "load_skops"} {
			assert.EqualValues(t, 1, runs(t, rep, prog), prog)
			rd := rep.Read(prog, "skb_storage")
			assert.EqualValues(t, 1, rd.Found, "%s: load_seen with load_value == MAGIC: %+v", prog, rd)
			assert.Zero(t, rd.Missing+rd.Refused+rd.Foreign+rd.Errors, "%s: %+v", prog, rd)
		}
		assert.Positive(t, sim.Count(rep.Outcomes, "delivered to a socket"), "the server's data reaches the connected socket")
	})
}

// TestUDPGRORouter: a router's NIC with rx-gro-list merges each burst of
// QUIC-style datagrams into one fraglist skb, which the uplink NIC cuts back
// into the skbs that arrived (skb_segment_list): tc sees one skb per
// aggregate, the driver sends every datagram, and under rfc every one of
// them carries the aggregate's extension, so consume_skb finds the value tc
// ingress wrote on each; under skb-hash only the aggregate's own skb (the
// first segment) keys it. rx-udp-gro-forwarding makes the same aggregates
// but merges their payload, and the uplink sends each as one USO skb,
// except those whose last datagram was short: the copy-break driver gave
// it a kmalloc'ed head, which GRO chains on the frag_list, and the uplink
// NIC, without NETIF_F_FRAGLIST, has skb_segment cut such an aggregate
// into its datagrams (with tx_fraglist on, it sends them whole too);
// without either feature, nothing merges.
func TestUDPGRORouter(t *testing.T) {
	pcap := capturetest.MustGenerate(t, capture.GenSpec{Preset: "quic-router", Seed: 1})
	replayFL := func(design string, list, fwd bool, fragList string) *sim.Report {
		t.Helper()
		s, err := sim.LoadScenario("udp-gro-router.yaml")
		require.NoError(t, err)
		eth0 := &s.Stack.Devices[0]
		require.Equal(t, "eth0", eth0.Name)
		require.True(t, eth0.GROList, "the example has rx-gro-list on")
		eth0.GROList, eth0.UDPGROForwarding = list, fwd
		s.Stack.Devices[1].TxFragList = fragList
		rep, err := sim.Replay(s, []string{pcap}, sim.Options{Design: design})
		require.NoError(t, err)
		require.True(t, rep.Complete)
		require.Zero(t, rep.LiveObjectsAtEnd, "leaks: %v", rep.Leaks)
		require.Empty(t, rep.Drops)
		return rep
	}
	replay := func(design string, list, fwd bool) *sim.Report {
		t.Helper()
		return replayFL(design, list, fwd, "")
	}
	list := replay("", true, false)
	n := uint64(list.PacketsRead)
	aggs := runs(t, list, "tc_in")
	require.Less(t, aggs, n/3, "bursts are merged")
	assert.Equal(t, aggs, runs(t, list, "tc_out"), "forwarded as one skb")
	assert.Equal(t, n, sim.Count(list.Outcomes, "transmitted by a device"), "cut back at the uplink")
	assert.Equal(t, n, list.Read("on_consume", "flow").Found, "each segment shares the aggregate's extension")
	fl := sim.Count(list.Stack, "gro_fraglist_aggregates")
	assert.Positive(t, fl)
	assert.Equal(t, fl, sim.Count(list.Stack, "gro_aggregates"), "every aggregate is a fraglist one")
	assert.Equal(t, fl, sim.Count(list.Stack, "gso_segment_list"), "each is cut back by skb_segment_list")
	assert.Equal(t, n-(aggs-fl), sim.Count(list.Stack, "gso_segments"), "into the datagrams it chained")

	hash := replay("skb-hash", true, false)
	assert.Equal(t, aggs, hash.Read("on_consume", "flow").Found, "only the first segment is the skb tc ingress keyed")
	assert.Equal(t, n-aggs, hash.Read("on_consume", "flow").Missing)

	fwd := replay("", false, true)
	assert.Equal(t, aggs, runs(t, fwd, "tc_in"), "the same aggregates")
	assert.Equal(t, fl, sim.Count(fwd.Stack, "gro_aggregates"))
	assert.Zero(t, sim.Count(fwd.Stack, "gro_fraglist_aggregates"))
	cut := sim.Count(fwd.Stack, "gso_segmented")
	assert.Positive(t, cut, "aggregates with a short last datagram, on the frag_list")
	assert.Less(t, cut, fl, "the others have their payload in page fragments")
	assert.Equal(t, aggs-cut+sim.Count(fwd.Stack, "gso_segments"), sim.Count(fwd.Outcomes, "transmitted by a device"),
		"sent whole (USO) but for those cut in software")
	whole := replayFL("", false, true, "on")
	assert.Equal(t, aggs, sim.Count(whole.Outcomes, "transmitted by a device"), "with NETIF_F_FRAGLIST every aggregate is sent whole")
	assert.Zero(t, sim.Count(whole.Stack, "gso_segmented"), "nothing is segmented in software")

	none := replay("", false, false)
	assert.Equal(t, n, runs(t, none, "tc_in"))
	assert.Empty(t, none.Stack, "no GRO, no GSO")
	assert.Equal(t, n, none.Read("on_consume", "flow").Found)
	assert.Less(t, list.Allocations.Allocs, none.Allocations.Allocs, "one extension and storage per aggregate instead of per datagram")
}

// TestEdgeLBCpumap replays the edge load balancer's traffic through its
// cpumap variant: xdp-meta's tag crosses the cpumap for every packet (and
// keeps the cpumap's GRO from merging), an rfc run merges TCP segments in
// the cpumap's GRO, more when the remote CPU drains once per poll, none
// before v6.15, and a short queue drops frames.
func TestEdgeLBCpumap(t *testing.T) {
	pcap := capturetest.MustGenerate(t, capture.GenSpec{Preset: "lb", Seed: 1})
	replay := func(design string, edit func(*sim.Scenario)) *sim.Report {
		t.Helper()
		s, err := sim.LoadScenario("edge-lb-cpumap.yaml")
		require.NoError(t, err)
		if edit != nil {
			edit(s)
		}
		rep, err := sim.Replay(s, []string{pcap}, sim.Options{Design: design})
		require.NoError(t, err)
		require.True(t, rep.Complete)
		require.Zero(t, rep.LiveObjectsAtEnd, "leaks: %v", rep.Leaks)
		return rep
	}
	meta := replay("xdp-meta", nil)
	n := uint64(meta.PacketsRead)
	assert.Equal(t, n, sim.Count(meta.Stack, "cpumap_queued"), "every frame crosses the cpumap")
	assert.Equal(t, n, meta.Read("on_cpu", "xdp_tag").Found, "the cpumap program sees the frame's metadata")
	assert.Equal(t, n, meta.Read("tc_outer", "xdp_tag").Found, "the skb built from the frame keeps it")
	assert.Zero(t, sim.Count(meta.Stack, "gro_merged_segments"), "per-packet metadata keeps GRO from merging")

	rfc := replay("rfc", nil)
	assert.Equal(t, n, rfc.Read("on_cpu", "xdp_tag").Errors, "XDP has no storage kfuncs")
	merged := sim.Count(rfc.Stack, "gro_merged_segments")
	assert.Positive(t, merged, "the cpumap's GRO merges the TCP segments")
	assert.Equal(t, n-merged, runs(t, rfc, "tc_outer"))
	assert.Zero(t, sim.Count(rfc.Stack, "gro_csum_bad"), "the capture's TCP checksums are valid")

	poll := replay("rfc", func(s *sim.Scenario) { s.Stack.Cpumaps[0].Drain = netstack.DrainPoll })
	assert.Greater(t, sim.Count(poll.Stack, "gro_merged_segments"), merged, "a busy remote CPU lets GRO merge across bulks")

	short := replay("rfc", func(s *sim.Scenario) {
		s.Stack.Cpumaps[0].Drain = netstack.DrainPoll
		s.Stack.Cpumaps[0].Entries[0].QSize = 16
	})
	queued := sim.Count(short.Stack, "cpumap_queued")
	assert.Less(t, queued, n)
	assert.Equal(t, n-queued, sim.Count(short.Drops, "XDP"), "what does not fit the queue is dropped")

	old := replay("rfc", func(s *sim.Scenario) { s.Kernel = "v6.12" })
	assert.Zero(t, sim.Count(old.Stack, "gro_merged_segments"), "no cpumap GRO before v6.15")
	assert.Equal(t, n, runs(t, old, "tc_outer"))
}

// TestEdgeLBMacvlan: the edge load balancer's backends as macvlan
// containers (see edge-lb-macvlan.yaml).
func TestEdgeLBMacvlan(t *testing.T) {
	pcap := capturetest.MustGenerate(t, capture.GenSpec{Preset: "lb", Seed: 1})
	rep := mustReplay(t, "edge-lb-macvlan.yaml", pcap, sim.Options{})
	host := runs(t, rep, "tc_outer")
	var pods uint64
	for _, b := range []string{"b1", "b2"} {
		n := runs(t, rep, "tc_"+b)
		assert.Positive(t, n, b)
		pods += n
		assert.Equal(t, n, rep.Read("tc_"+b, "outer").Found, "%s: macvlan_handle_frame does not scrub", b)
		sock := "sock_web" + b[1:]
		assert.Equal(t, n, runs(t, rep, sock), "%s: every frame for the container reaches its socket", b)
		assert.Equal(t, n, rep.Read(sock, "outer").Missing, "%s: the decap resets the extensions", b)
		assert.Equal(t, n, rep.Read(sock, "pod").Missing, b)
	}
	assert.Equal(t, host-pods, sim.Count(rep.Drops, "OTHERHOST"), "frames for no macvlan's address stay with eth0")
	assert.Len(t, rep.Drops, 1, "no other drops: %v", rep.Drops)

	// With the keep flags, both values cross the decap.
	s, err := sim.LoadScenario("edge-lb-macvlan.yaml")
	require.NoError(t, err)
	for i := range s.Maps {
		s.Maps[i].Flags |= carrier.FlagKeepScrub
	}
	kept, err := sim.Replay(s, []string{pcap}, sim.Options{})
	require.NoError(t, err)
	assert.Equal(t, runs(t, kept, "sock_web1"), kept.Read("sock_web1", "outer").Found)
	assert.Equal(t, runs(t, kept, "sock_web1"), kept.Read("sock_web1", "pod").Found)

	// Replayed to eth0's own address, every frame stays with eth0.
	s.KeepDstMAC = false
	all, err := sim.Replay(s, []string{pcap}, sim.Options{})
	require.NoError(t, err)
	assert.Zero(t, runs(t, all, "tc_b1"))
	assert.Zero(t, runs(t, all, "tc_b2"))
}

// TestXDPRouter: xdp-router.yaml forwards every datagram in XDP with
// bpf_fib_lookup: no skb hook of the host runs, frames to the uplink leave
// by eth1 without becoming skbs, frames to svc become skbs there with no
// value from the host. Forwarded at tc instead, the value reaches eth1's
// tc egress but not svc (veth0's scrub) unless the map keeps it.
func TestXDPRouter(t *testing.T) {
	pcap := capturetest.MustGenerate(t, capture.GenSpec{Preset: "quic-router", Seed: 1})
	rep := mustReplay(t, "xdp-router.yaml", pcap, sim.Options{})
	n := uint64(rep.PacketsRead)
	assert.Equal(t, n, runs(t, rep, "xdp_fwd"))
	assert.Equal(t, n, rep.HelperResults("xdp_fwd", "bpf_fib_lookup", "SUCCESS"), "every lookup succeeds")
	assert.Zero(t, runs(t, rep, "tc_in"), "XDP_REDIRECT: the frame never reaches tc ingress")
	assert.Zero(t, runs(t, rep, "tc_out"), "ndo_xdp_xmit: no tc egress on eth1")
	toSvc := runs(t, rep, "tc_svc")
	assert.Positive(t, toSvc)
	assert.Equal(t, toSvc, runs(t, rep, "xdp_svc"), "veth_xdp_xmit hands every frame to vB's XDP program")
	assert.Equal(t, toSvc, rep.Read("tc_svc", "flow").Missing)
	assert.Equal(t, toSvc, sim.Count(rep.Outcomes, "delivered to a socket"))
	assert.Equal(t, n-toSvc, sim.Count(rep.Outcomes, "transmitted by a device"))
	assert.Empty(t, rep.Drops)
	assert.Zero(t, sim.Count(rep.Carrier, "stores"), "no value is ever stored")
	heads := map[string]uint64{}
	for _, r := range rep.Allocations.BySite {
		heads[r.Name] = r.Allocs
	}
	assert.Equal(t, n, heads["page_pool"], "one driver page per frame")
	assert.Equal(t, toSvc, heads["skbuff_head_cache"], "an sk_buff only for the frames svc receives (xdp_build_skb_from_frame)")

	// Forwarded at tc ingress instead.
	s, err := sim.LoadScenario("xdp-router.yaml")
	require.NoError(t, err)
	require.Equal(t, "xdp_fwd", s.Stack.Programs[0].Name)
	s.Stack.Programs = s.Stack.Programs[1:]
	tc, err := sim.Replay(s, []string{pcap}, sim.Options{})
	require.NoError(t, err)
	assert.Equal(t, n, tc.HelperResults("tc_in", "bpf_fib_lookup", "SUCCESS"))
	assert.Equal(t, n, sim.Count(tc.Carrier, "stores"))
	out := runs(t, tc, "tc_out")
	assert.Equal(t, n-toSvc, out)
	assert.Equal(t, out, tc.Read("tc_out", "flow").Found, "bpf_redirect to eth1 keeps the value")
	assert.Equal(t, toSvc, tc.Read("tc_svc", "flow").Missing, "veth0 scrubs across namespaces")
	for i := range s.Maps {
		s.Maps[i].Flags |= carrier.FlagKeepNetns
	}
	kept, err := sim.Replay(s, []string{pcap}, sim.Options{})
	require.NoError(t, err)
	assert.Equal(t, toSvc, kept.Read("tc_svc", "flow").Found, "a map with the keep flag crosses veth0")
}

// TestOverlayCollectMD: overlay-collect-md.yaml's collect_md vxlan device
// attaches each packet's tunnel key, which bpf_skb_get_tunnel_key reads at
// its tc ingress and, after fib_forward's bpf_redirect, at the host veth's
// tc egress, but not in the pod; a value written next to it reaches the
// pod only with keep_netns; each packet's metadata dst is a kmalloc freed
// after a grace period.
func TestOverlayCollectMD(t *testing.T) {
	pcap := capturetest.MustGenerate(t, capture.GenSpec{Preset: "overlay-node", Seed: 1})
	per, n := podDatagrams(t, pcap)
	rep := mustReplay(t, "overlay-collect-md.yaml", pcap, sim.Options{})
	assert.Equal(t, n, sim.Count(rep.Outcomes, "delivered to a socket"))
	assert.Empty(t, rep.Drops)
	assert.Equal(t, n, rep.HelperResults("tc_vxlan", "bpf_skb_get_tunnel_key", "OK"))
	assert.Equal(t, n, rep.HelperResults("tc_vxlan", "bpf_fib_lookup", "SUCCESS"))
	for i, pod := range []string{"10.244.1.2", "10.244.1.3"} {
		host, inPod := fmt.Sprintf("tc_host%d", i+1), fmt.Sprintf("tc_pod%d", i+1)
		m := per[pod]
		require.Positive(t, m)
		assert.Equal(t, m, rep.HelperResults(host, "bpf_skb_get_tunnel_key", "OK"), "%s: bpf_redirect keeps the dst", host)
		assert.Equal(t, m, rep.HelperResults(inPod, "bpf_skb_get_tunnel_key", "EINVAL"), "%s: veth_xmit's scrub drops it", inPod)
		assert.Equal(t, m, rep.Read(host, "plain").Found, host)
		assert.Equal(t, m, rep.Read(inPod, "plain").Missing, inPod)
		assert.Equal(t, m, rep.Read(inPod, "identity").Found, "%s: keep_netns", inPod)
	}
	var md sim.AllocRow
	for _, r := range rep.Allocations.BySite {
		if r.Name == "metadata_dst_alloc" {
			md = r
		}
	}
	assert.Equal(t, n, md.Allocs, "one metadata dst per decapsulated packet")
	assert.Equal(t, n, md.DeferredFrees, "freed after a grace period")
}

// TestDefaultReplies: the built-in scenario with options.replies. The
// container answers the capture's segments and datagrams to its closed
// ports (TCP resets; ICMP port unreachables within the rate limits) and
// the pings to its addresses; the answers leave by its uplink, whose tc
// egress program runs on each and finds none of the packet's values: an
// answer is a new skb, under every design. They cost an skb each.
func TestDefaultReplies(t *testing.T) {
	pcap := capturetest.MustGenerate(t, capture.GenSpec{Preset: "mixed", Seed: 1, Packets: 3000})
	for _, design := range []string{"rfc", "skb-hash", "xdp-meta"} {
		t.Run(design, func(t *testing.T) {
			s, err := sim.Builtin("default")
			require.NoError(t, err)
			s.Design = design
			off, err := sim.Replay(s, []string{pcap}, sim.Options{})
			require.NoError(t, err)
			s.Stack.Options.Replies = true
			var want string
			var on *sim.Report
			for _, j := range []int{1, 2} {
				on, err = sim.Replay(s, []string{pcap}, sim.Options{Workers: j})
				require.NoError(t, err)
				require.True(t, on.Complete)
				require.Zero(t, on.LiveObjectsAtEnd, "leaks: %v", on.Leaks)
				var buf strings.Builder
				require.NoError(t, on.WriteJSON(&buf))
				if j == 1 {
					want = buf.String()
				} else {
					assert.Equal(t, want, buf.String(), "-j %d", j)
				}
			}
			answers := runs(t, on, "tc_out_uplink") - runs(t, off, "tc_out_uplink")
			assert.Positive(t, answers)
			for _, m := range []string{"tag", "mark"} {
				assert.Equal(t, off.Read("tc_out_uplink", m).Found, on.Read("tc_out_uplink", m).Found, "map %s", m)
				assert.Equal(t, off.Read("tc_out_uplink", m).Missing+answers, on.Read("tc_out_uplink", m).Missing, "map %s: the answers miss", m)
			}
			assert.Equal(t, sim.Count(off.Drops, "NO_SOCKET"), sim.Count(on.Drops, "NO_SOCKET"), "the packets are dropped all the same")
			assert.Greater(t, on.Allocations.Allocs, off.Allocations.Allocs)
			t.Logf("%s: %d answers for %d NO_SOCKET drops; %d allocations, %d without", design, answers, sim.Count(on.Drops, "NO_SOCKET"), on.Allocations.Allocs, off.Allocations.Allocs)
		})
	}
}

// TestMarkRouting: mark-routing.yaml's fwmark rule routes the marked
// datagrams to 203.0.113.12/31 into svc and the rest out of eth1; svc's
// own fwmark rule never matches, because veth0 scrubs the mark, so svc's
// blackhole route drops them all; marked again in svc they reach app.
// Without the marking program everything leaves by eth1. The map value
// written with the mark reaches eth1 but not svc.
func TestMarkRouting(t *testing.T) {
	pcap := capturetest.MustGenerate(t, capture.GenSpec{Preset: "quic-router", Seed: 1})
	rep := mustReplay(t, "mark-routing.yaml", pcap, sim.Options{})
	n := uint64(rep.PacketsRead)
	toSvc := runs(t, rep, "tc_svc")
	assert.Positive(t, toSvc)
	assert.Less(t, toSvc, n)
	assert.Equal(t, n-toSvc, runs(t, rep, "tc_out"), "the rest leaves by the uplink")
	assert.Equal(t, n-toSvc, sim.Count(rep.Outcomes, "transmitted by a device"))
	assert.Equal(t, toSvc, sim.Count(rep.Drops, "NOT_SPECIFIED"), "svc's rule does not see the scrubbed mark: its blackhole route")
	assert.Zero(t, sim.Count(rep.Outcomes, "delivered to a socket"))
	assert.Equal(t, n-toSvc, rep.Read("tc_out", "flow").Found, "forwarding within the namespace keeps the value")
	assert.Equal(t, toSvc, rep.Read("tc_svc", "flow").Missing, "veth0 scrubs the value as the mark")

	s, err := sim.LoadScenario("mark-routing.yaml")
	require.NoError(t, err)
	for i := range s.Stack.Programs {
		if p := &s.Stack.Programs[i]; p.Name == "tc_svc" {
			p.Actions = append(p.Actions, netstack.Action{Kind: netstack.ActSetMark, Value: 1})
		}
	}
	remarked, err := sim.Replay(s, []string{pcap}, sim.Options{})
	require.NoError(t, err)
	assert.Equal(t, toSvc, sim.Count(remarked.Outcomes, "delivered to a socket"), "marked again in svc: to app")
	assert.Empty(t, remarked.Drops)

	s, err = sim.LoadScenario("mark-routing.yaml")
	require.NoError(t, err)
	require.Equal(t, "tc_mark", s.Stack.Programs[0].Name)
	s.Stack.Programs = s.Stack.Programs[1:]
	unmarked, err := sim.Replay(s, []string{pcap}, sim.Options{})
	require.NoError(t, err)
	assert.Equal(t, n, runs(t, unmarked, "tc_out"), "without the mark everything leaves by eth1")
	assert.Zero(t, runs(t, unmarked, "tc_svc"))
}

// TestECMP: ecmp.yaml's multipath route spreads the datagrams over both
// backends; under the l4 policy the NIC's RSS hash decides (the seed
// moves nothing), under l3 the seeded hash of the addresses does; the map
// value reaches neither backend (veth scrubs it).
func TestECMP(t *testing.T) {
	pcap := capturetest.MustGenerate(t, capture.GenSpec{Preset: "quic-router", Seed: 1})
	split := func(policy int, seed uint32) (b1, b2 uint64, rep *sim.Report) {
		t.Helper()
		s, err := sim.LoadScenario("ecmp.yaml")
		require.NoError(t, err)
		s.Stack.Namespaces[0].MultipathHashPolicy, s.Stack.Namespaces[0].MultipathHashSeed = policy, seed
		rep, err = sim.Replay(s, []string{pcap}, sim.Options{})
		require.NoError(t, err)
		return runs(t, rep, "tc_b1"), runs(t, rep, "tc_b2"), rep
	}
	b1, b2, rep := split(netstack.MultipathL4, 0x5eed)
	n := uint64(rep.PacketsRead)
	assert.Positive(t, b1)
	assert.Positive(t, b2)
	assert.Equal(t, n, b1+b2, "every datagram takes one path")
	assert.Equal(t, n, sim.Count(rep.Outcomes, "delivered to a socket"))
	assert.Equal(t, b1, rep.Read("tc_b1", "flow").Missing, "veth scrubs the value")
	assert.Equal(t, b2, rep.Read("tc_b2", "flow").Missing)
	o1, o2, _ := split(netstack.MultipathL4, 0x1234)
	assert.Equal(t, [2]uint64{b1, b2}, [2]uint64{o1, o2}, "l4: the NIC's L4 hash, whatever the seed")
	l1, l2, _ := split(netstack.MultipathL3, 0x5eed)
	m1, m2, _ := split(netstack.MultipathL3, 0x1234)
	assert.Equal(t, n, l1+l2)
	assert.Positive(t, l1)
	assert.Positive(t, l2)
	assert.NotEqual(t, [2]uint64{l1, l2}, [2]uint64{m1, m2}, "l3: another seed moves flows")
	assert.Equal(t, b2, rep.Read("tc_out2", "flow").Found, "the router's own egress reads the value")

	// b2's end of its link down: veth2 has no carrier.
	down := func(ignore bool) *sim.Report {
		t.Helper()
		s, err := sim.LoadScenario("ecmp.yaml")
		require.NoError(t, err)
		s.Stack.Devices[2].PeerDown = true
		s.Stack.Namespaces[0].IgnoreRoutesWithLinkdown = ignore
		rep, err := sim.Replay(s, []string{pcap}, sim.Options{})
		require.NoError(t, err)
		require.True(t, rep.Complete)
		require.Zero(t, rep.LiveObjectsAtEnd)
		return rep
	}
	rep = down(false)
	assert.Equal(t, b2, runs(t, rep, "tc_out2"), "the linkdown path keeps its share")
	assert.Equal(t, b2, rep.Read("tc_out2", "flow").Found, "tc egress runs before the qdisc")
	assert.Zero(t, runs(t, rep, "tc_b2"))
	assert.Equal(t, b2, sim.Count(rep.Drops, "QDISC_DROP"), "noop_qdisc drops: %v", rep.Drops)
	assert.Equal(t, b1, sim.Count(rep.Outcomes, "delivered to a socket"))
	rep = down(true)
	assert.Zero(t, runs(t, rep, "tc_out2"), "ignore_routes_with_linkdown: veth2 is out of the balance")
	assert.Equal(t, n, runs(t, rep, "tc_b1"))
	assert.Equal(t, n, sim.Count(rep.Outcomes, "delivered to a socket"))
}

// TestNetkit replays `-preset quic-router` through netkit.yaml: by
// bpf_redirect_peer into the pod, then forwarded through nk0 under scrub
// default, scrub none, and a v6.12 kernel, and, for contrast, through a
// veth pair in nk0's place.
func TestNetkit(t *testing.T) {
	pcap := capturetest.MustGenerate(t, capture.GenSpec{Preset: "quic-router", Seed: 1})
	replay := func(mod func(s *sim.Scenario)) *sim.Report {
		t.Helper()
		s, err := sim.LoadScenario("netkit.yaml")
		require.NoError(t, err)
		if mod != nil {
			mod(s)
		}
		rep, err := sim.Replay(s, []string{pcap}, sim.Options{})
		require.NoError(t, err)
		require.True(t, rep.Complete)
		require.Zero(t, rep.LiveObjectsAtEnd)
		return rep
	}
	forward := func(s *sim.Scenario) {
		p := &s.Stack.Programs[0]
		require.Equal(t, netstack.ActRedirectPeer, p.Actions[len(p.Actions)-1].Kind)
		p.Actions = p.Actions[:len(p.Actions)-1]
	}

	rep := replay(nil)
	n := uint64(rep.PacketsRead)
	require.Positive(t, n)
	assert.Equal(t, n, sim.Count(rep.Outcomes, "delivered to a socket"), "the mark reaches the pod: every address delivered")
	assert.Zero(t, runs(t, rep, "nk_primary"), "bpf_redirect_peer skips nk0's transmit path")
	assert.Equal(t, n, rep.Read("tc_app", "plain").Missing, "skb_scrub_packet reset the extension")
	assert.Equal(t, n, rep.Read("tc_app", "kept").Found, "keep_scrub keeps it across a scrub with xnet=false")

	// Forwarded through nk0 with scrub default: the mark is cleared
	// crossing into app, so .12 and .13 meet the blackhole.
	rep = replay(forward)
	assert.Equal(t, n, runs(t, rep, "nk_primary"))
	assert.Equal(t, n, rep.Read("nk_primary", "kept").Found, "netkit_prep_forward scrubs with xnet=false from v6.13")
	assert.Equal(t, n, rep.Read("nk_primary", "plain").Missing)
	assert.Equal(t, n, rep.Read("tc_app", "kept").Found)
	local := sim.Count(rep.Outcomes, "delivered to a socket")
	blackholed := sim.Count(rep.Drops, "NOT_SPECIFIED")
	assert.Positive(t, local)
	assert.Positive(t, blackholed)
	assert.Equal(t, n, local+blackholed, "the unmarked datagrams to .12 and .13 are blackholed: %v", rep.Drops)

	// scrub none keeps the mark.
	rep = replay(func(s *sim.Scenario) { forward(s); s.Stack.Devices[1].Scrub = netstack.NetkitScrubNone })
	assert.Equal(t, n, sim.Count(rep.Outcomes, "delivered to a socket"))

	// v6.12: skb_scrub_packet(skb, xnet=true) takes kept's value too.
	rep = replay(func(s *sim.Scenario) { forward(s); s.Kernel = "v6.12" })
	assert.Equal(t, n, rep.Read("nk_primary", "kept").Missing)
	assert.Equal(t, n, rep.Read("tc_app", "kept").Missing)
	assert.Equal(t, local, sim.Count(rep.Outcomes, "delivered to a socket"))

	// A veth pair in nk0's place (it ARPs: a /30 and gateways):
	// __dev_forward_skb scrubs with xnet=true.
	rep = replay(func(s *sim.Scenario) {
		forward(s)
		d := &s.Stack.Devices[1]
		d.Kind = netstack.KindVeth
		d.Addrs, d.PeerAddrs = []netip.Prefix{netip.MustParsePrefix("10.4.0.1/30")}, []netip.Prefix{netip.MustParsePrefix("10.4.0.2/30")}
		s.Stack.Routes[0].Via = netip.MustParseAddr("10.4.0.2")
		s.Stack.Routes[4].Via = netip.MustParseAddr("10.4.0.1")
		s.Stack.Programs = slices.DeleteFunc(s.Stack.Programs, func(p netstack.ProgramConfig) bool { return p.Name == "nk_primary" })
	})
	assert.Equal(t, n, rep.Read("tc_app", "kept").Missing)
	assert.Equal(t, local, sim.Count(rep.Outcomes, "delivered to a socket"))
}

// TestECMPFailover: ecmp-failover.yaml's events. Before packet 1000 and
// from 3000 both backends take flows; from 1000 b2's link is down and
// its share, read at veth2's tc egress, is dropped at veth2's qdisc; from
// 2000 veth2 is down and b1 takes every flow. Each phase is replayed
// alone (the capture cut at its end, events at 0) to compare.
func TestECMPFailover(t *testing.T) {
	pcap := capturetest.MustGenerate(t, capture.GenSpec{Preset: "quic-router", Seed: 1})
	rep := mustReplay(t, "ecmp-failover.yaml", pcap, sim.Options{})
	n := uint64(rep.PacketsRead)
	b1, b2, drops := runs(t, rep, "tc_b1"), runs(t, rep, "tc_b2"), sim.Count(rep.Drops, "QDISC_DROP")
	assert.Equal(t, n, b1+b2+drops, "every datagram reaches a backend or veth2's qdisc")
	assert.Equal(t, b2+drops, runs(t, rep, "tc_out2"), "veth2's tc egress reads what its qdisc drops")
	assert.Equal(t, b2+drops, rep.Read("tc_out2", "flow").Found)
	assert.Equal(t, drops, sim.Count(rep.Outcomes, "dropped"))

	// The same replay without events: b2's share of packets 1000-2999
	// is what the failover moved or dropped.
	s, err := sim.LoadScenario("ecmp-failover.yaml")
	require.NoError(t, err)
	events := s.Events
	s.Events = nil
	steady, err := sim.Replay(s, []string{pcap}, sim.Options{})
	require.NoError(t, err)
	sb1, sb2 := runs(t, steady, "tc_b1"), runs(t, steady, "tc_b2")
	assert.Zero(t, sim.Count(steady.Drops, "QDISC_DROP"))
	assert.Positive(t, drops, "b2's share from 1000 to 1999")
	assert.Less(t, b2, sb2)
	assert.Greater(t, b1, sb1, "b1 took b2's flows from 2000 to 2999")

	// Only the carrier loss, from packet 0: b2's whole share is dropped.
	s.Events = events[:1]
	s.Events[0].At = 0
	lost, err := sim.Replay(s, []string{pcap}, sim.Options{})
	require.NoError(t, err)
	assert.Equal(t, sb2, sim.Count(lost.Drops, "QDISC_DROP"))
	assert.Equal(t, sb1, runs(t, lost, "tc_b1"), "a linkdown path keeps its share")
	// And veth2 down too: b1 takes everything.
	s.Events = []netstack.Event{{Netns: "host", Dev: "veth2", Op: netstack.LinkDown}}
	dead, err := sim.Replay(s, []string{pcap}, sim.Options{})
	require.NoError(t, err)
	assert.Equal(t, n, runs(t, dead, "tc_b1"))
	assert.Zero(t, sim.Count(dead.Drops, "QDISC_DROP"))
}

// TestMetricFailover: ecmp-failover.yaml's router with a primary route
// through veth1 (metric 10) and a backup through veth2 (metric 20) in
// place of the multipath route: b1 takes every flow until veth1 goes
// down at packet 2000, when the flush of its route leaves the backup to
// answer, and b2 takes the rest; veth1 up again brings back its
// address's routes only, so the backup stays.
func TestMetricFailover(t *testing.T) {
	pcap := capturetest.MustGenerate(t, capture.GenSpec{Preset: "quic-router", Seed: 1})
	s, err := sim.LoadScenario("ecmp-failover.yaml")
	require.NoError(t, err)
	dst := s.Stack.Routes[0].Dst
	s.Stack.Routes[0] = netstack.RouteConfig{Netns: "host", Dst: dst, Dev: "veth1", Via: netip.MustParseAddr("10.1.0.2"), Metric: 10}
	s.Stack.Routes = append(s.Stack.Routes, netstack.RouteConfig{Netns: "host", Dst: dst, Dev: "veth2", Via: netip.MustParseAddr("10.2.0.2"), Metric: 20})
	s.Events = []netstack.Event{{At: 2000, Netns: "host", Dev: "veth1", Op: netstack.LinkDown}, {At: 3000, Netns: "host", Dev: "veth1", Op: netstack.LinkUp}}
	rep, err := sim.Replay(s, []string{pcap}, sim.Options{})
	require.NoError(t, err)
	n := uint64(rep.PacketsRead)
	require.Greater(t, n, uint64(3000))
	assert.Equal(t, uint64(2000), runs(t, rep, "tc_b1"), "b1 takes every packet before 2000")
	assert.Equal(t, n-2000, runs(t, rep, "tc_b2"), "the backup takes every packet from 2000")
	assert.Equal(t, n-2000, rep.Read("tc_out2", "flow").Found, "the router's egress to the backup reads the value")

	// Metrics the other way round: b2 takes everything.
	s.Stack.Routes[0].Metric = 30
	s.Events = nil
	rev, err := sim.Replay(s, []string{pcap}, sim.Options{})
	require.NoError(t, err)
	assert.Equal(t, n, runs(t, rev, "tc_b2"))
	assert.Zero(t, runs(t, rev, "tc_b1"))
}
