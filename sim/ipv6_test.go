package sim

import (
	"bufio"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/capture"
	"github.com/skbsim/skbsim/capture/capturetest"
)

// writeV6Capture writes frames (layers serialized by gopacket, lengths
// and checksums fixed) as an Ethernet pcap, one millisecond apart (or gap
// apart from the index in gapAt on).
func writeV6Capture(tb testing.TB, frames [][]gopacket.SerializableLayer, gapAt int, gap time.Duration) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "v6.pcap")
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
		at := ts.Add(time.Duration(i) * time.Millisecond)
		if gapAt > 0 && i >= gapAt {
			at = at.Add(gap)
		}
		ci := gopacket.CaptureInfo{Timestamp: at, CaptureLength: len(buf.Bytes()), Length: len(buf.Bytes())}
		require.NoError(tb, w.WritePacket(ci, buf.Bytes()))
	}
	require.NoError(tb, bw.Flush())
	require.NoError(tb, f.Close())
	return path
}

var (
	v6MAC  = net.HardwareAddr{0x02, 0, 0, 0, 0, 1}
	v6Peer = net.HardwareAddr{0x02, 0, 0, 0, 0, 2}
)

func udp6(src, dst string, payload int) []gopacket.SerializableLayer {
	ip := &layers.IPv6{Version: 6, NextHeader: layers.IPProtocolUDP, HopLimit: 64, SrcIP: net.ParseIP(src), DstIP: net.ParseIP(dst)}
	u := &layers.UDP{SrcPort: 40000, DstPort: 53}
	_ = u.SetNetworkLayerForChecksum(ip)
	return []gopacket.SerializableLayer{&layers.Ethernet{SrcMAC: v6Peer, DstMAC: v6MAC, EthernetType: layers.EthernetTypeIPv6},
		ip, u, gopacket.Payload(make([]byte, payload))}
}

// frag6 is one fragment (offset off, M flag more, identification id) of a
// UDP datagram whose fragmentable part is body.
func frag6(src, dst string, body []byte, off, n int, more bool, id uint32) []gopacket.SerializableLayer {
	ip := &layers.IPv6{Version: 6, NextHeader: layers.IPProtocolIPv6Fragment, HopLimit: 64, SrcIP: net.ParseIP(src), DstIP: net.ParseIP(dst)}
	fh := &layers.IPv6Fragment{NextHeader: layers.IPProtocolUDP, FragmentOffset: uint16(off / 8), MoreFragments: more, Identification: id}
	return []gopacket.SerializableLayer{&layers.Ethernet{SrcMAC: v6Peer, DstMAC: v6MAC, EthernetType: layers.EthernetTypeIPv6},
		ip, fh, gopacket.Payload(body[off : off+n])}
}

// udpBody is the fragmentable part of a UDP datagram to port 53.
func udpBody(payload int) []byte {
	b := make([]byte, 8+payload)
	b[0], b[1], b[2], b[3] = 0x9c, 0x40, 0, 53
	b[4], b[5] = byte((8+payload)>>8), byte(8+payload)
	return b
}

// udp6Sum writes the UDP checksum of datagram b from src to dst (RFC 8200
// pseudo-header): IPv6 receivers drop a datagram without one.
func udp6Sum(b []byte, src, dst string) []byte {
	s16, d16 := netip.MustParseAddr(src).As16(), netip.MustParseAddr(dst).As16()
	var sum uint32
	add := func(p []byte) {
		for i := 0; i+1 < len(p); i += 2 {
			sum += uint32(p[i])<<8 | uint32(p[i+1])
		}
		if len(p)%2 == 1 {
			sum += uint32(p[len(p)-1]) << 8
		}
	}
	add(s16[:])
	add(d16[:])
	sum += uint32(len(b)) + 17
	b[6], b[7] = 0, 0
	add(b)
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	c := ^uint16(sum)
	if c == 0 {
		c = 0xffff
	}
	b[6], b[7] = byte(c>>8), byte(c)
	return b
}

const v6SendScenario = `
name: v6-send
devices:
  - {name: va, kind: veth, netns: a, addr: fd00::1/64, peer: vb, peer_netns: b, peer_addr: fd00::2/64, mtu: 1280}
namespaces:
  - {name: a}
  - {name: b}
sockets:
  - {name: tx, netns: a, proto: udp, addr: "::", port: 40000}
  - {name: rx, netns: b, proto: udp, addr: "::", port: 53}
programs:
  - {name: eg, hook: tc_egress, netns: a, dev: va, actions: [count]}
entry: {kind: tx, netns: a, socket: tx}
`

// TestReplayIPv6Send replays IPv6 datagrams a socket sends (tx entry): the
// ones above the veth's MTU are fragmented by ip6_fragment (three tc
// egress runs each) and reassembled in the peer namespace, so every
// datagram reaches the receiving socket once.
func TestReplayIPv6Send(t *testing.T) {
	s, err := Parse("v6.yaml", []byte(v6SendScenario))
	require.NoError(t, err)
	frames := [][]gopacket.SerializableLayer{
		udp6("fd00::1", "fd00::2", 100), udp6("fd00::1", "fd00::2", 3000), udp6("fd00::1", "fd00::2", 500),
	}
	rep := mustReplay(t, s, []string{writeV6Capture(t, frames, 0, 0)}, Options{})
	assert.EqualValues(t, 3, rep.PacketsRead)
	assert.EqualValues(t, 3, Count(rep.Outcomes, outcomeNames[outSocket]))
	assert.Empty(t, rep.Drops)
	assert.EqualValues(t, 1+3+1, rep.Program("eg").Runs)
}

const v6ReasmScenario = `
name: v6-reasm
devices:
  - {name: eth0, kind: nic, addr: 2001:db8::1/64}
sockets:
  - {name: dns, proto: udp, addr: "::", port: 53}
entry: {dev: eth0}
`

// TestReplayIPv6Reassembly replays IPv6 fragments received on a NIC: a
// datagram in two fragments (out of order) is reassembled and delivered;
// a lone first fragment expires when a later fragment arrives more than
// ip6frag_time (60 s of capture time) after its queue was created
// (FRAG_REASM_TIMEOUT); an overlapping fragment kills its queue (RFC 5722).
func TestReplayIPv6Reassembly(t *testing.T) {
	s, err := Parse("r.yaml", []byte(v6ReasmScenario))
	require.NoError(t, err)
	s.Shards = 1 // one stack: every fragment meets its queue whatever the flow hash
	src, dst := "2001:db8::9", "2001:db8::1"
	body := udp6Sum(udpBody(200), src, dst)
	frames := [][]gopacket.SerializableLayer{
		frag6(src, dst, body, 104, 104, false, 1), frag6(src, dst, body, 0, 104, true, 1), // delivered
		frag6(src, dst, body, 0, 104, true, 2),                                          // expires
		frag6(src, dst, body, 0, 104, true, 3), frag6(src, dst, body, 56, 104, true, 3), // overlap
		frag6(src, dst, body, 0, 104, true, 4), // 61 s later: queue 2 expires (and queue 4 waits)
	}
	rep := mustReplay(t, s, []string{writeV6Capture(t, frames, 5, 61*time.Second)}, Options{})
	assert.EqualValues(t, 1, Count(rep.Outcomes, outcomeNames[outSocket]))
	assert.EqualValues(t, 1, Count(rep.Drops, "FRAG_REASM_TIMEOUT"))
	assert.EqualValues(t, 1, Count(rep.Drops, "NOT_SPECIFIED"), "the overlapping fragment")
}

// TestParseIPv6Tunnels: ip6tnl, ip6gre and ip6gretap are device kinds; tunnels' endpoint
// families are checked at their line.
func TestParseIPv6Tunnels(t *testing.T) {
	ok := "devices:\n  - {name: eth0, kind: nic, addr: 2001:db8::1/64}\n" +
		"  - {name: t6, kind: ip6tnl, remote: 2001:db8::9, local: 2001:db8::1}\n" +
		"  - {name: vx6, kind: vxlan, remote: 2001:db8::9, vni: 5}\n" +
		"  - {name: g6, kind: ip6gretap, remote: 2001:db8::9, vni: 5}\nentry: {dev: eth0}\n"
	_, err := Parse("ok.yaml", []byte(ok))
	require.NoError(t, err)
	for _, tc := range []struct{ src, want string }{
		{"devices:\n  - {name: t6, kind: ip6tnl, remote: 192.0.2.9}\nentry: {dev: lo}\n",
			"f.yaml:2:5: device t6: a ip6tnl tunnel needs an IPv6 remote"},
		{"devices:\n  - {name: s, kind: sit, remote: 2001:db8::9}\nentry: {dev: lo}\n",
			"f.yaml:2:5: device s: a sit tunnel needs an IPv4 remote"},
		{"devices:\n  - {name: v, kind: vxlan, vni: 1, remote: 2001:db8::9, local: 192.0.2.1}\nentry: {dev: lo}\n",
			"f.yaml:2:5: device v: a vxlan tunnel needs an IPv4 or IPv6 remote (and a local of the same family"},
	} {
		_, err := Parse("f.yaml", []byte(tc.src))
		require.Error(t, err)
		assert.Contains(t, err.Error(), tc.want)
	}
}

const packetEntryScenario = `
name: packet-entry
namespaces:
  - {name: a}
  - {name: b}
devices:
  - {name: va, kind: veth, netns: a, addr: 10.0.0.1/24, peer: vb, peer_netns: b, peer_addr: 10.0.0.2/24}
programs:
  - {name: at_vb, hook: tc_ingress, netns: b, dev: vb, actions: [count]}
entry: {kind: packet, netns: a, dev: va}
`

// TestReplayPacketEntry: a packet entry sends every captured frame out of
// va, addressed to its peer, which receives each one (as tcpreplay into
// a veth would).
func TestReplayPacketEntry(t *testing.T) {
	s, err := Parse("p.yaml", []byte(packetEntryScenario))
	require.NoError(t, err)
	pcap := capturetest.MustGenerate(t, capture.GenSpec{Preset: "demo", Seed: 1, Packets: 40})
	rep := mustReplay(t, s, []string{pcap}, Options{})
	assert.EqualValues(t, 40, rep.PacketsRead)
	assert.Positive(t, rep.Program("at_vb").Runs)
	assert.LessOrEqual(t, rep.Program("at_vb").Runs, uint64(40))
	assert.Zero(t, rep.LiveObjectsAtEnd)
}
