package kernel

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/skbsim/skbsim/internal/testutil"
	"github.com/skbsim/skbsim/kernel/observe"
)

// TestKernelGROFraglistForwardTTL: a router whose receiving veth has
// rx-gro-list chains a forwarded TCP flow (tcp4_check_fraglist_gro: no
// local socket) and sends it out of a veth without tx-gso-list, which cuts
// it back with skb_segment_list. ip_forward lowers the TTL of the
// aggregate's own IP header only: skb_segment_list copies the mac header
// into each chained skb, not the IP header, and inet_gso_segment rewrites
// only tot_len, identification and checksum. So the first segment leaves
// with TTL 63 and the others with the 64 they arrived with, as the model
// has it (TestGROTCPFraglistForwardTTL). Each segment also keeps its own
// TCP checksum, which shows the flow was chained, not merged.
func TestKernelGROFraglistForwardTTL(t *testing.T) {
	testutil.KernelTests(t)
	p := groSeg{payload: 100, ack: 1, window: 512, flags: 0x10}
	checks, got := routeSegments(t, []string{observe.FeatureGROList}, []string{"tx-gso-list"}, []groSeg{p, p, p, p})
	var ttls []uint8
	var gotChecks []uint16
	for _, f := range got {
		ttls = append(ttls, f[14+8])
		gotChecks = append(gotChecks, binary.BigEndian.Uint16(f[14+20+16:]))
	}
	t.Logf("TTLs after forwarding: %v", ttls)
	require.Equal(t, []uint8{63, 64, 64, 64}, ttls)
	require.Equal(t, checks, gotChecks, "each segment keeps its own TCP header (fraglist, not skb_segment)")
}

// routeSegments sends segs (a TCP flow from 192.0.2.1 to 203.0.113.7)
// through a router: in at vB (GRO on, groFeatures, a 20 ms
// gro_flush_timeout), forwarded out of vC with txOff switched off (names
// this kernel lacks are skipped), to vD, where a packet socket records
// the frames. It returns the TCP checksums sent and the TCP frames
// received.
func routeSegments(t *testing.T, groFeatures, txOff []string, segs []groSeg) (checks []uint16, got [][]byte) {
	t.Helper()
	a, r, d := newNetns(t, "fwdA"), newNetns(t, "fwdR"), newNetns(t, "fwdD")
	require.NoError(t, a.IP("link", "add", "vA", "type", "veth", "peer", "name", "vB", "netns", r.Name))
	require.NoError(t, r.IP("link", "add", "vC", "type", "veth", "peer", "name", "vD", "netns", d.Name))
	for _, x := range []struct {
		n   *Netns
		dev string
	}{{a, "vA"}, {r, "vB"}, {r, "vC"}, {d, "vD"}} {
		require.NoError(t, x.n.IP("link", "set", x.dev, "up"))
	}
	require.NoError(t, a.clearFeatures("vA", []string{"tx-tcp-segmentation", "tx-tcp-ecn-segmentation",
		"tx-tcp-mangleid-segmentation", "tx-tcp6-segmentation"}))
	require.NoError(t, r.setGRO("vB", true))
	if len(groFeatures) != 0 {
		require.NoError(t, r.setFeatures("vB", groFeatures))
	}
	for _, f := range txOff {
		if err := r.clearFeatures("vC", []string{f}); err != nil && f != "tx-tcp-accecn-segmentation" {
			require.NoError(t, err)
		}
	}
	require.NoError(t, run("ip", "netns", "exec", r.Name, "sh", "-c", "echo 20000000 > /sys/class/net/vB/gro_flush_timeout"))
	require.NoError(t, r.Do(func() error { return writeSysctl("net/ipv4/ip_forward", "1") }))
	require.NoError(t, r.IP("addr", "add", "192.0.2.254/24", "dev", "vB"))
	require.NoError(t, r.IP("addr", "add", "198.51.100.1/24", "dev", "vC"))
	macD, err := d.HardwareAddr("vD")
	require.NoError(t, err)
	require.NoError(t, r.IP("neigh", "add", "198.51.100.2", "lladdr", macD.String(), "dev", "vC", "nud", "permanent"))
	require.NoError(t, r.IP("route", "add", "203.0.113.0/24", "via", "198.51.100.2", "dev", "vC"))

	ifD, err := d.Ifindex("vD")
	require.NoError(t, err)
	rx := capture(t, d, ifD)

	macB, err := r.HardwareAddr("vB")
	require.NoError(t, err)
	macA, err := a.HardwareAddr("vA")
	require.NoError(t, err)
	ifA, err := a.Ifindex("vA")
	require.NoError(t, err)
	frames := groFrames(false, false, segs)
	tx := newSocket(t, a, unix.AF_PACKET, unix.SOCK_RAW, 0)
	sa := &unix.SockaddrLinklayer{Ifindex: ifA, Halen: 6}
	copy(sa.Addr[:], macB)
	for _, f := range frames {
		g := append([]byte(nil), f...)
		copy(g[0:6], macB)
		copy(g[6:12], macA)
		copy(g[14+16:14+20], []byte{203, 0, 113, 7}) // forwarded: not for the router
		binary.BigEndian.PutUint16(g[14+10:14+12], 0)
		binary.BigEndian.PutUint16(g[14+10:14+12], ^csumFold(csumAdd(0, g[14:14+20])))
		// The TCP checksum for the new destination (GRO validates it).
		th := g[14+20:]
		binary.BigEndian.PutUint16(th[16:18], 0)
		pseudo := make([]byte, 12)
		copy(pseudo, g[14+12:14+20])
		pseudo[9] = unix.IPPROTO_TCP
		binary.BigEndian.PutUint16(pseudo[10:12], uint16(len(th)))
		binary.BigEndian.PutUint16(th[16:18], ^csumFold(csumAdd(csumAdd(0, pseudo), th)))
		checks = append(checks, binary.BigEndian.Uint16(th[16:18]))
		require.NoError(t, unix.Sendto(tx, g, 0, sa))
	}
	for _, f := range recvFrames(rx) {
		if len(f) >= 14+20+20 && binary.BigEndian.Uint16(f[12:14]) == unix.ETH_P_IP && f[14+9] == unix.IPPROTO_TCP {
			got = append(got, f)
		}
	}
	return checks, got
}
