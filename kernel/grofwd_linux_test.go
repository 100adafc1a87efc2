package kernel

import (
	"encoding/binary"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/skbsim/skbsim/internal/testutil"
	"github.com/skbsim/skbsim/kernel/observe"
	"github.com/skbsim/skbsim/netstack"
	"github.com/skbsim/skbsim/skb"
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
	var (
		checks, gotChecks []uint16
		ttls              []uint8
	)
	oneFlow(t, func() bool {
		var got [][]byte
		checks, got = routeSegments(t, []string{observe.FeatureGROList}, []string{"tx-gso-list"}, []groSeg{p, p, p, p})
		ttls, gotChecks = nil, nil
		for _, f := range got {
			ttls = append(ttls, f[14+8])
			gotChecks = append(gotChecks, binary.BigEndian.Uint16(f[14+20+16:]))
		}
		t.Logf("TTLs after forwarding: %v", ttls)
		return slices.Equal(ttls, []uint8{63, 64, 64, 64})
	})
	require.Equal(t, []uint8{63, 64, 64, 64}, ttls)
	require.Equal(t, checks, gotChecks, "each segment keeps its own TCP header (fraglist, not skb_segment)")
}

// oneFlow runs measure, which reports whether GRO held the flow as one
// aggregate, up to three times. napi_complete_done flushes an aggregate
// older than a jiffy (gro_flush(&n->gro, flush_old)) even within
// gro_flush_timeout, so a jiffy boundary between two sends splits the
// flow now and then; a result that is wrong three times is not that.
func oneFlow(t *testing.T, measure func() bool) {
	t.Helper()
	for range 2 {
		if measure() {
			return
		}
		t.Log("the flow was split; measuring again")
	}
	measure()
}

// routeSegments sends segs (a TCP flow from 192.0.2.1 to 203.0.113.7)
// through a router: in at vB (GRO on, groFeatures, a 50 ms
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
	require.NoError(t, run("ip", "netns", "exec", r.Name, "sh", "-c", "echo 50000000 > /sys/class/net/vB/gro_flush_timeout"))
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
	var out [][]byte
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
		out = append(out, g)
	}
	// Sent back to back: GRO holds the flow for gro_flush_timeout after
	// each frame, so a sender descheduled for longer would split it.
	for _, g := range out {
		require.NoError(t, unix.Sendto(tx, g, 0, sa))
	}
	for _, f := range recvFrames(rx) {
		if len(f) >= 14+20+20 && binary.BigEndian.Uint16(f[12:14]) == unix.ETH_P_IP && f[14+9] == unix.IPPROTO_TCP {
			got = append(got, f)
		}
	}
	return checks, got
}

// TestKernelGROFragListForward: the packet socket's frames reach vB's GRO
// with kmalloc'ed heads, so GRO merges them on the aggregate's frag_list
// (skb_gro_receive's merge:). Forwarded out of vC, which has
// NETIF_F_FRAGLIST (tx-scatter-gather-fraglist, a veth's default), the
// aggregate leaves whole: vD sees one frame of four segments. With it
// off, validate_xmit_skb cannot send the frag_list (skb_gso_ok) and
// skb_segment cuts the aggregate: four frames, each a copy of the
// aggregate's headers with its own sequence number, TTL 63 on every one
// (fraglist GRO's skb_segment_list gives [63 64 64 64], see above). The
// model agrees (TestGROForwardFragList).
func TestKernelGROFragListForward(t *testing.T) {
	testutil.KernelTests(t)
	p := groSeg{payload: 100, ack: 1, window: 512, flags: 0x10}
	for _, tc := range []struct {
		txOff []string
		lens  []int // IP total lengths at vD
		ttls  []uint8
		seqs  []uint32
	}{
		{nil, []int{440}, []uint8{63}, []uint32{1000}},
		{[]string{"tx-scatter-gather-fraglist"}, []int{140, 140, 140, 140}, []uint8{63, 63, 63, 63}, []uint32{1000, 1100, 1200, 1300}},
	} {
		var (
			lens []int
			ttls []uint8
			seqs []uint32
		)
		oneFlow(t, func() bool {
			_, got := routeSegments(t, nil, tc.txOff, []groSeg{p, p, p, p})
			lens, ttls, seqs = nil, nil, nil
			for _, f := range got {
				lens = append(lens, int(binary.BigEndian.Uint16(f[14+2:])))
				ttls = append(ttls, f[14+8])
				seqs = append(seqs, binary.BigEndian.Uint32(f[14+20+4:]))
			}
			t.Logf("tx off %v: IP lengths %v, TTLs %v, sequence numbers %v", tc.txOff, lens, ttls, seqs)
			return slices.Equal(tc.ttls, ttls)
		})
		require.Equal(t, tc.lens, lens, "tx off %v", tc.txOff)
		require.Equal(t, tc.ttls, ttls, "tx off %v", tc.txOff)
		require.Equal(t, tc.seqs, seqs, "tx off %v", tc.txOff)
	}
}

// TestKernelTxFragListDefaults: the devices this kernel can create have
// NETIF_F_FRAGLIST (tx-scatter-gather-fraglist) as the model's
// netstack.TxFragListDefault says for the v6.18 profile. A physical NIC
// cannot be created here; the model gives it none, as NIC drivers do not
// offer it.
func TestKernelTxFragListDefaults(t *testing.T) {
	testutil.KernelTests(t)
	prof := skb.DefaultProfile()
	n := newNetns(t, "flfeat")
	require.NoError(t, n.IP("link", "add", "v0", "type", "veth", "peer", "name", "v1"))
	require.NoError(t, n.IP("link", "add", "br0", "type", "bridge"))
	require.NoError(t, n.IP("link", "add", "vx0", "type", "vxlan", "id", "7", "dstport", "4789", "remote", "192.0.2.9"))
	for _, d := range []struct{ dev, kind string }{
		{"lo", netstack.KindLoopback}, {"v0", netstack.KindVeth}, {"br0", netstack.KindBridge}, {"vx0", netstack.KindVXLAN},
	} {
		on, err := n.featureActive(d.dev, "tx-scatter-gather-fraglist")
		require.NoError(t, err)
		t.Logf("%s (%s): tx-scatter-gather-fraglist %v", d.dev, d.kind, on)
		require.Equal(t, netstack.TxFragListDefault(d.kind, &prof), on, "%s", d.dev)
	}
}

// TestKernelBridgeFragList: a bridge has NETIF_F_FRAGLIST when any of its
// ports has it (br_features_recompute, one of NETIF_F_ONE_FOR_ALL), as
// the model computes it (netstack's TestBridgeFragList).
func TestKernelBridgeFragList(t *testing.T) {
	testutil.KernelTests(t)
	n := newNetns(t, "brfl")
	require.NoError(t, n.IP("link", "add", "br0", "type", "bridge"))
	require.NoError(t, n.IP("link", "add", "vP", "type", "veth", "peer", "name", "vP1"))
	require.NoError(t, n.IP("link", "add", "vQ", "type", "veth", "peer", "name", "vQ1"))
	require.NoError(t, n.clearFeatures("vP", []string{"tx-scatter-gather-fraglist"}))
	on := func() bool {
		t.Helper()
		v, err := n.featureActive("br0", "tx-scatter-gather-fraglist")
		require.NoError(t, err)
		return v
	}
	require.True(t, on(), "no ports: COMMON_FEATURES")
	require.NoError(t, n.IP("link", "set", "vP", "master", "br0"))
	require.False(t, on(), "its only port lacks it")
	require.NoError(t, n.IP("link", "set", "vQ", "master", "br0"))
	require.True(t, on(), "one port has it")
}
