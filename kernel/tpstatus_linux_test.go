package kernel

import (
	"encoding/binary"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/skbsim/skbsim/internal/testutil"
	"github.com/skbsim/skbsim/netstack"
)

// TestKernelTapChecksumStatus: what a packet socket on vB reads with
// PACKET_AUXDATA (tp_status) tells the skb's checksum state after GRO. A
// socket in A sends a 400-byte UDP_SEGMENT datagram (4 segments of 100)
// to B:
//   - with vA's checksum offload the GSO skb crosses the veth whole,
//     CHECKSUM_PARTIAL: one packet, TP_STATUS_CSUMNOTREADY;
//   - with tx-checksumming off vA cuts and checksums the segments in
//     software, and they arrive CHECKSUM_NONE: four packets without a
//     checksum bit;
//   - with GRO on vB, GRO checks each in software and marks it
//     CHECKSUM_UNNECESSARY: four packets, TP_STATUS_CSUM_VALID, when
//     nothing merges them (no UDP_GRO socket);
//   - and with a UDP_GRO socket the aggregate is CHECKSUM_PARTIAL again
//     (udp_gro_complete_segment): one packet, TP_STATUS_CSUMNOTREADY.
//
// The model's held tap (Stack.TapPackets) agrees in count, length and
// status.
func TestKernelTapChecksumStatus(t *testing.T) {
	testutil.KernelTests(t)
	const (
		user     = netstack.TPStatusUser
		notReady = netstack.TPStatusUser | netstack.TPStatusCsumNotReady
		valid    = netstack.TPStatusUser | netstack.TPStatusCsumValid
	)
	for _, tc := range []struct {
		name   string
		txOff  bool
		gro    bool // GRO on vB
		udpGRO bool // UDP_GRO on the receiving socket
		want   []uint32
	}{
		{"offload", false, false, false, []uint32{notReady}},
		{"no offload", true, false, false, []uint32{user, user, user, user}},
		{"no offload, GRO", true, true, false, []uint32{valid, valid, valid, valid}},
		{"no offload, GRO, UDP_GRO socket", true, true, true, []uint32{notReady}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var txOff []string
			if tc.txOff {
				txOff = []string{"tx-checksum-ip-generic"}
			}
			a, b := udpPair(t, "ts", 0, txOff)
			if tc.gro {
				require.NoError(t, b.setGRO("vB", true))
			}
			ifindex, err := b.Ifindex("vB")
			require.NoError(t, err)
			ps := newSocket(t, b, unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_NONBLOCK, int(htons(unix.ETH_P_ALL)))
			require.NoError(t, unix.Bind(ps, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifindex}))
			require.NoError(t, unix.SetsockoptInt(ps, unix.SOL_PACKET, unix.PACKET_AUXDATA, 1))
			rcv := newSocket(t, b, unix.AF_INET, unix.SOCK_DGRAM, 0)
			if tc.udpGRO {
				require.NoError(t, unix.SetsockoptInt(rcv, unix.SOL_UDP, unix.UDP_GRO, 1))
			}
			require.NoError(t, unix.Bind(rcv, &unix.SockaddrInet4{Port: 9999}))
			require.NoError(t, unix.SetsockoptTimeval(rcv, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Usec: 300_000}))
			snd := newSocket(t, a, unix.AF_INET, unix.SOCK_DGRAM, 0)
			require.NoError(t, unix.SetsockoptInt(snd, unix.SOL_UDP, unix.UDP_SEGMENT, 100))
			require.NoError(t, unix.Sendto(snd, make([]byte, 400), 0, &unix.SockaddrInet4{Port: 9999, Addr: [4]byte{192, 0, 2, 2}}))
			// The datagrams reach the socket once the taps have run.
			drainUDP(rcv)
			buf := make([]byte, 2048)
			var got []uint32
			var lens []int
			oob := make([]byte, 256)
			for {
				n, oobn, _, _, err := unix.Recvmsg(ps, buf, oob, 0)
				if err != nil {
					break
				}
				// The UDP datagrams to port 9999 (vB also sees IPv6
				// neighbour discovery).
				if n < 14+20+8 || binary.BigEndian.Uint16(buf[12:14]) != unix.ETH_P_IP || buf[14+9] != unix.IPPROTO_UDP ||
					binary.BigEndian.Uint16(buf[14+20+2:]) != 9999 {
					continue
				}
				aux := auxdata(t, oob[:oobn])
				got = append(got, aux.Status)
				lens = append(lens, int(aux.Len))
			}
			require.Equal(t, tc.want, got, "tp_status of each packet")

			pkts := modelTapChecksumStatus(t, tc.txOff, tc.gro, tc.udpGRO)
			var mst []uint32
			var mlens []int
			for _, p := range pkts {
				mst = append(mst, p.Status)
				mlens = append(mlens, p.Len)
			}
			require.Equal(t, got, mst, "model tp_status")
			require.Equal(t, lens, mlens, "model tp_len")
		})
	}
}

// auxdata returns the PACKET_AUXDATA control message in oob.
func auxdata(t *testing.T, oob []byte) unix.TpacketAuxdata {
	t.Helper()
	msgs, err := unix.ParseSocketControlMessage(oob)
	require.NoError(t, err)
	for _, m := range msgs {
		if m.Header.Level == unix.SOL_PACKET && m.Header.Type == unix.PACKET_AUXDATA && len(m.Data) >= int(unsafe.Sizeof(unix.TpacketAuxdata{})) {
			return *(*unix.TpacketAuxdata)(unsafe.Pointer(&m.Data[0]))
		}
	}
	t.Fatal("no PACKET_AUXDATA control message")
	return unix.TpacketAuxdata{}
}

// modelTapChecksumStatus is TestKernelTapChecksumStatus's case in the
// model: what a held RX tap on vB holds.
func modelTapChecksumStatus(t *testing.T, txOff, gro, udpGRO bool) []netstack.TapPacket {
	t.Helper()
	cfg := udpPairModel(txOff, gro, 100, udpGRO)
	cfg.Taps = []netstack.TapConfig{{Name: "t", Netns: "B", Dev: "vB", Dir: netstack.TapRX, Hold: true}}
	var pkts []netstack.TapPacket
	runModel(t, cfg, netstack.NopObserver{}, ethIPv4(udp4Packet([4]byte{192, 0, 2, 1}, [4]byte{192, 0, 2, 2}, 40000, 9999, 400)),
		func(s *netstack.Stack) { pkts = s.TapPackets("t") })
	return pkts
}
