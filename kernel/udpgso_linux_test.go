package kernel

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/internal/testutil"
	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/netstack"
	"github.com/skbsim/skbsim/skb"
)

// udpGSORuns is what the cgroup_skb programs and the application see of one
// UDP_SEGMENT datagram sent over loopback to a socket of the same namespace.
type udpGSORuns struct {
	EgressPkts, EgressBytes   uint64 // cgroup_skb/egress of the sender
	IngressPkts, IngressBytes uint64 // cgroup_skb/ingress of the receiver
	Reads                     []int  // the payload of each recvfrom
}

// TestKernelUDPSegmentReceive runs a UDP_SEGMENT datagram over loopback on
// the kernel and in the model and compares what the cgroup programs count:
// egress runs once on the GSO skb; a receiver without UDP_GRO gets it cut
// into segments (udp_queue_rcv_skb -> udp_rcv_segment), so its ingress
// program runs once per segment and each recvfrom returns one segment; a
// UDP_GRO receiver gets it whole. It also checks that the kernel refuses
// what the model refuses (gso_size * UDP_MAX_SEGMENTS exceeded).
func TestKernelUDPSegmentReceive(t *testing.T) {
	testutil.KernelTests(t)
	p := progStorage(t)
	require.NoError(t, p.SetMode(ModeCreate))
	for _, tc := range []struct {
		gso, payload int
		gro          bool
	}{
		{100, 400, false},
		{100, 250, false},
		{100, 250, true},
		{1000, 3000, false},
		{100, 12800, false},
		{100, 12801, false}, // one segment more than UDP_MAX_SEGMENTS
	} {
		t.Run(fmt.Sprintf("gso%d-%d-gro%v", tc.gso, tc.payload, tc.gro), func(t *testing.T) {
			ns := newNetns(t, "udpgso")
			rx := newSocket(t, ns, unix.AF_INET, unix.SOCK_DGRAM, 0)
			tx := newSocket(t, ns, unix.AF_INET, unix.SOCK_DGRAM, 0)
			require.NoError(t, unix.Bind(rx, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: 9999}))
			require.NoError(t, unix.SetsockoptInt(tx, unix.IPPROTO_UDP, unix.UDP_SEGMENT, tc.gso))
			if tc.gro {
				require.NoError(t, unix.SetsockoptInt(rx, unix.IPPROTO_UDP, unix.UDP_GRO, 1))
			}
			require.NoError(t, unix.SetsockoptTimeval(rx, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Usec: 200_000}))
			var kern udpGSORuns
			err := unix.Sendto(tx, make([]byte, tc.payload), 0, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: 9999})
			if err == nil {
				buf := make([]byte, 65536)
				deadline := time.Now().Add(2 * time.Second)
				for got := 0; got < tc.payload && time.Now().Before(deadline); {
					n, _, err := unix.Recvfrom(rx, buf, 0)
					require.NoError(t, err)
					kern.Reads = append(kern.Reads, n)
					got += n
				}
				s, err := p.Value(tx)
				require.NoError(t, err)
				r, err := p.Value(rx)
				require.NoError(t, err)
				kern.EgressPkts, kern.EgressBytes = s.EgressPkts, s.EgressBytes
				kern.IngressPkts, kern.IngressBytes = r.IngressPkts, r.IngressBytes
			}
			model := modelUDPGSO(t, tc.gso, tc.payload, tc.gro)
			require.Equal(t, kern, model, "kernel (send error %v) against the model", err)
			if err != nil {
				require.ErrorIs(t, err, unix.EINVAL)
			}
		})
	}
}

// modelUDPGSO runs the same send in the model: one namespace, sockets on
// 127.0.0.1, cgroup_skb programs that count runs and bytes from the
// network header, as skstorage.c's do.
func modelUDPGSO(t *testing.T, gso, payload int, gro bool) udpGSORuns {
	t.Helper()
	var r udpGSORuns
	count := func(pkts, bytes *uint64) netstack.ProgramFunc {
		return func(c *netstack.Ctx) int {
			*pkts++
			*bytes += uint64(c.Skb.Len() - c.Skb.NetworkOffset())
			return 1
		}
	}
	cfg := &netstack.Config{
		Namespaces: []netstack.NamespaceConfig{{Name: "A"}},
		Sockets: []netstack.SocketConfig{
			{Name: "tx", Netns: "A", Proto: netstack.ProtoUDP, Addr: netip.MustParseAddr("127.0.0.1"), Port: 40000, UDPSegment: gso},
			{Name: "rx", Netns: "A", Proto: netstack.ProtoUDP, Addr: netip.MustParseAddr("127.0.0.1"), Port: 9999, UDPGRO: gro},
		},
		Programs: []netstack.ProgramConfig{
			{Name: "eg", Hook: carrier.HookCgroupEgress, Prog: count(&r.EgressPkts, &r.EgressBytes)},
			{Name: "in", Hook: carrier.HookCgroupIngress, Prog: count(&r.IngressPkts, &r.IngressBytes)},
			// Observes what each recvfrom returns: the filter runs on
			// every skb queued to the socket and keeps it whole.
			{Name: "reads", Hook: carrier.HookSocketFilter, Socket: "rx", Prog: netstack.ProgramFunc(func(c *netstack.Ctx) int {
				r.Reads = append(r.Reads, c.Skb.Len()-8)
				return -1
			})},
		},
		Entries: []netstack.EntryConfig{{Kind: netstack.EntryTX, Netns: "A", Socket: "tx"}},
	}
	a := skb.NewAllocator(kmem.New(), skb.DefaultProfile())
	s, err := netstack.New(cfg, netstack.Env{Alloc: a})
	require.NoError(t, err)
	frame := udp4Datagram(netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("127.0.0.1"), 40000, 9999, payload)
	require.NoError(t, s.Inject(&netstack.Packet{ID: 1, Frame: frame}))
	require.NoError(t, s.Close())
	require.NoError(t, a.CheckLeaks())
	if r.EgressPkts == 0 {
		return udpGSORuns{} // refused at sendmsg, as the kernel's error leaves nothing to read
	}
	return r
}

// udp4Datagram returns an IPv4 header and a UDP header followed by
// payload zero bytes.
func udp4Datagram(src, dst netip.Addr, sport, dport uint16, payload int) []byte {
	b := make([]byte, 20+8+payload)
	b[0], b[8], b[9] = 0x45, 64, unix.IPPROTO_UDP
	binary.BigEndian.PutUint16(b[2:4], uint16(len(b)))
	s4, d4 := src.As4(), dst.As4()
	copy(b[12:16], s4[:])
	copy(b[16:20], d4[:])
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(b[10:12], ^uint16(sum))
	binary.BigEndian.PutUint16(b[20:22], sport)
	binary.BigEndian.PutUint16(b[22:24], dport)
	binary.BigEndian.PutUint16(b[24:26], uint16(8+payload))
	return b
}
