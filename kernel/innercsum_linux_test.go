package kernel

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/skbsim/skbsim/internal/testutil"
	"github.com/skbsim/skbsim/netstack"
)

// vxlanInnerFrame is an Ethernet frame to dst from src: IPv4 192.0.2.1 ->
// 192.0.2.2, UDP 50000 -> 4789 (outer checksum set when outerCsum), VXLAN
// VNI 42, and an inner Ethernet frame to innerDst carrying IPv4 10.9.0.1
// -> 10.9.0.2, UDP 1 -> 9999 with 64 bytes of payload and its checksum,
// wrong when badInner.
func vxlanInnerFrame(dst, src, innerDst net.HardwareAddr, outerCsum, badInner bool) []byte {
	ipv4 := func(b []byte, total int, srcIP, dstIP [4]byte) {
		b[0], b[8], b[9] = 0x45, 64, unix.IPPROTO_UDP
		binary.BigEndian.PutUint16(b[2:], uint16(total))
		copy(b[12:16], srcIP[:])
		copy(b[16:20], dstIP[:])
		binary.BigEndian.PutUint16(b[10:], ^csumFold(csumAdd(0, b[:20])))
	}
	udpCsum := func(ip, u []byte) uint16 {
		c := ^csumFold(csumAdd(csumAdd(0, ip[12:20])+unix.IPPROTO_UDP+uint32(len(u)), u))
		if c == 0 {
			c = 0xffff
		}
		return c
	}
	const payload = 64
	inner := make([]byte, 14+20+8+payload)
	copy(inner[0:6], innerDst)
	copy(inner[6:12], []byte{0x02, 0, 0, 0, 0, 0x0a})
	binary.BigEndian.PutUint16(inner[12:], unix.ETH_P_IP)
	iip := inner[14:]
	ipv4(iip, 20+8+payload, [4]byte{10, 9, 0, 1}, [4]byte{10, 9, 0, 2})
	iu := iip[20:]
	binary.BigEndian.PutUint16(iu[0:], 1)
	binary.BigEndian.PutUint16(iu[2:], 9999)
	binary.BigEndian.PutUint16(iu[4:], 8+payload)
	for i := range payload {
		iu[8+i] = byte(i)
	}
	c := udpCsum(iip, iu)
	if badInner {
		c ^= 0x5a5a
	}
	binary.BigEndian.PutUint16(iu[6:], c)

	f := make([]byte, 14+20+8+8+len(inner))
	copy(f[0:6], dst)
	copy(f[6:12], src)
	binary.BigEndian.PutUint16(f[12:], unix.ETH_P_IP)
	ip := f[14:]
	ipv4(ip, len(f)-14, [4]byte{192, 0, 2, 1}, [4]byte{192, 0, 2, 2})
	u := ip[20:]
	binary.BigEndian.PutUint16(u[0:], 50000)
	binary.BigEndian.PutUint16(u[2:], 4789)
	binary.BigEndian.PutUint16(u[4:], uint16(len(u)))
	u[8] = 0x08
	binary.BigEndian.PutUint32(u[12:], 42<<8)
	copy(u[16:], inner)
	if outerCsum {
		binary.BigEndian.PutUint16(u[6:], udpCsum(ip, u))
	}
	return f
}

// TestKernelVXLANInnerChecksum: a VXLAN packet a packet socket sends into
// a veth reaches the peer as CHECKSUM_NONE; vxlan decapsulates it and the
// inner UDP datagram goes to a socket. Whether the outer UDP checksum is 0
// or set (and checked), and with GRO on the receiving veth (the sender
// without TSO) or not, the
// inner datagram's checksum is checked in software: a bad one is dropped
// (Udp InCsumErrors + 1), a good one is received. The model, sending the
// frame from a packet socket entry (netstack.EntryPacket), agrees: GRO
// and the UDP receive path use up one verified checksum level per header
// (csum_level, csum_valid), and decapsulation starts the next.
func TestKernelVXLANInnerChecksum(t *testing.T) {
	testutil.KernelTests(t)
	for _, tc := range []struct {
		name                     string
		outerCsum, badInner, gro bool
	}{
		{"outer 0, inner good", false, false, false},
		{"outer 0, inner bad", false, true, false},
		{"outer set, inner good", true, false, false},
		{"outer set, inner bad", true, true, false},
		{"outer 0, inner bad, GRO", false, true, true},
		{"outer set, inner bad, GRO", true, true, true},
		{"outer set, inner good, GRO", true, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := udpPair(t, "vic", 0, nil)
			require.NoError(t, b.IP("link", "add", "vxB", "type", "vxlan", "id", "42", "dstport", "4789", "local", "192.0.2.2",
				"remote", "192.0.2.1", "dev", "vB"))
			require.NoError(t, b.IP("addr", "add", "10.9.0.2/24", "dev", "vxB"))
			require.NoError(t, b.IP("link", "set", "vxB", "up"))
			if tc.gro {
				// vA without TSO, so that vB's GRO takes its packets
				// (veth_skb_is_eligible_for_gro).
				require.NoError(t, a.clearFeatures("vA", []string{"tx-tcp-segmentation", "tx-tcp-ecn-segmentation",
					"tx-tcp-mangleid-segmentation", "tx-tcp6-segmentation"}))
				require.NoError(t, b.setGRO("vB", true))
			}
			rcv := newSocket(t, b, unix.AF_INET, unix.SOCK_DGRAM, 0)
			require.NoError(t, unix.Bind(rcv, &unix.SockaddrInet4{Port: 9999}))
			require.NoError(t, unix.SetsockoptTimeval(rcv, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Usec: 300_000}))
			macA, err := a.HardwareAddr("vA")
			require.NoError(t, err)
			macB, err := b.HardwareAddr("vB")
			require.NoError(t, err)
			macVx, err := b.HardwareAddr("vxB")
			require.NoError(t, err)
			ifA, err := a.Ifindex("vA")
			require.NoError(t, err)
			before := udpCsumErrors(t, b)
			tx := newSocket(t, a, unix.AF_PACKET, unix.SOCK_RAW, 0)
			sa := &unix.SockaddrLinklayer{Ifindex: ifA, Halen: 6}
			copy(sa.Addr[:], macB)
			require.NoError(t, unix.Sendto(tx, vxlanInnerFrame(macB, macA, macVx, tc.outerCsum, tc.badInner), 0, sa))
			got := drainUDP(rcv)
			errs := udpCsumErrors(t, b) - before
			t.Logf("received %d, Udp InCsumErrors +%d", got, errs)
			if tc.badInner {
				require.Equal(t, 0, got)
				require.Equal(t, uint64(1), errs)
			} else {
				require.Equal(t, 1, got)
				require.Zero(t, errs)
			}

			delivered, reasons := modelVXLANInner(t, tc.outerCsum, tc.badInner, tc.gro)
			require.Equal(t, got, delivered, "model datagrams read (drops %v)", reasons)
			if tc.badInner {
				require.Equal(t, []string{"SKB_DROP_REASON_UDP_CSUM"}, reasons)
			}
		})
	}
}

// modelVXLANInner is TestKernelVXLANInnerChecksum's case in the model: a
// packet socket entry on vA sends the frame (netstack.EntryPacket).
func modelVXLANInner(t *testing.T, outerCsum, badInner, gro bool) (int, []string) {
	t.Helper()
	macA, macB, macVx := net.HardwareAddr{2, 0, 0, 0, 0xa, 1}, net.HardwareAddr{2, 0, 0, 0, 0xb, 1}, net.HardwareAddr{2, 0, 0, 0, 0xb, 2}
	peerGRO := ""
	if gro {
		peerGRO = "on"
	}
	cfg := &netstack.Config{
		Namespaces: []netstack.NamespaceConfig{{Name: "A"}, {Name: "B"}},
		Devices: []netstack.DeviceConfig{
			{Name: "vA", Kind: netstack.KindVeth, Netns: "A", MAC: [6]byte(macA), Addrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.1/24")},
				Peer: "vB", PeerNetns: "B", PeerMAC: [6]byte(macB), PeerAddrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.2/24")}, PeerGRO: peerGRO,
				SoftwareGSO: gro},
			{Name: "vxB", Kind: netstack.KindVXLAN, Netns: "B", VNI: 42, MAC: [6]byte(macVx), Local: netip.MustParseAddr("192.0.2.2"),
				Remote: netip.MustParseAddr("192.0.2.1"), Addrs: []netip.Prefix{netip.MustParsePrefix("10.9.0.2/24")}},
		},
		Sockets: []netstack.SocketConfig{{Name: "rcv", Netns: "B", Proto: netstack.ProtoUDP, Port: 9999}},
		Entries: []netstack.EntryConfig{{Kind: netstack.EntryPacket, Netns: "A", Dev: "vA"}},
	}
	obs := &dropRecorder{}
	runModel(t, cfg, obs, vxlanInnerFrame(macB, macA, macVx, outerCsum, badInner), nil)
	return obs.delivered, obs.reasons
}
