package kernel

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/internal/testutil"
	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/netstack"
	"github.com/skbsim/skbsim/skb"
)

// xdpToCpumap is an XDP program returning bpf_redirect_map(&cpus, 0, 0)
// into a new cpumap whose entry 0 has a queue of 64 frames; both are closed
// with the test.
func xdpToCpumap(t *testing.T) *ebpf.Program {
	t.Helper()
	cpus, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.CPUMap, KeySize: 4, ValueSize: 8, MaxEntries: 1})
	require.NoError(t, err)
	t.Cleanup(func() { cpus.Close() })
	require.NoError(t, cpus.Put(uint32(0), [2]uint32{64, 0}))
	p, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.XDP, License: "GPL", Instructions: asm.Instructions{
		asm.LoadMapPtr(asm.R1, cpus.FD()),
		asm.Mov.Imm(asm.R2, 0),
		asm.Mov.Imm(asm.R3, 0),
		asm.FnRedirectMap.Call(),
		asm.Return(),
	}})
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })
	return p
}

// udp4Packet is an IPv4 UDP packet from src:sport to dst:dport with
// payload zero bytes and no checksum, as a socket entry's capture holds it.
func udp4Packet(src, dst [4]byte, sport, dport uint16, payload int) []byte {
	pkt := make([]byte, 20+8+payload)
	pkt[0], pkt[8], pkt[9] = 0x45, 64, unix.IPPROTO_UDP
	binary.BigEndian.PutUint16(pkt[2:], uint16(len(pkt)))
	copy(pkt[12:16], src[:])
	copy(pkt[16:20], dst[:])
	binary.BigEndian.PutUint16(pkt[20:], sport)
	binary.BigEndian.PutUint16(pkt[22:], dport)
	binary.BigEndian.PutUint16(pkt[24:], uint16(8+payload))
	return pkt
}

// drainUDP reads datagrams from fd until its receive timeout and returns
// how many it read.
func drainUDP(fd int) int {
	n := 0
	buf := make([]byte, 65536)
	for {
		if _, _, err := unix.Recvfrom(fd, buf, 0); err != nil {
			return n
		}
		n++
	}
}

// udpCsumErrors reads Udp InCsumErrors of the namespace n.
func udpCsumErrors(t *testing.T, n *Netns) uint64 {
	t.Helper()
	var v uint64
	require.NoError(t, n.Do(func() error {
		f, err := os.Open("/proc/thread-self/net/snmp")
		if err != nil {
			return err
		}
		defer f.Close()
		var names []string
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) == 0 || fields[0] != "Udp:" {
				continue
			}
			if names == nil {
				names = fields
				continue
			}
			for i, nm := range names {
				if nm == "InCsumErrors" && i < len(fields) {
					v, err = strconv.ParseUint(fields[i], 10, 64)
					return err
				}
			}
		}
		return fmt.Errorf("no Udp InCsumErrors in snmp")
	}))
	return v
}

// TestKernelCpumapChecksum: a UDP datagram a socket sends over a veth
// pair whose far end redirects it into a cpumap (native XDP) reaches the
// cpumap's kthread as a frame, and the skb built from it has no checksum
// state. With vA's transmit checksum offload (the default) the datagram
// carries only the pseudo-header sum of CHECKSUM_PARTIAL: UDP receive
// drops it (UDP_CSUM, Udp InCsumErrors + 1), short or long. With
// tx-checksumming off validate_xmit_skb writes the full checksum and the
// datagram is received; so are the segments of a UDP_SEGMENT datagram,
// each checksummed on its own (6.18 allows UDP GSO through a device
// without checksum offload). The model agrees (csum.go, cpumap.go).
func TestKernelCpumapChecksum(t *testing.T) {
	testutil.KernelTests(t)
	for _, tc := range []struct {
		name    string
		txOff   bool
		payload int
		segment int
		gro     bool // GRO on vB and UDP_GRO on the socket
		recv    int  // datagrams read
	}{
		{"offload short", false, 16, 0, false, 0},
		{"offload long", false, 200, 0, false, 0},
		{"no offload", true, 200, 0, false, 1},
		{"no offload, UDP_SEGMENT", true, 400, 100, false, 4},
		// The 4 segments reach the cpumap in one bulk and its GRO (v6.15)
		// merges them: the UDP_GRO socket reads one datagram.
		{"no offload, UDP_SEGMENT, cpumap GRO", true, 400, 100, true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var txOff []string
			if tc.txOff {
				txOff = []string{"tx-checksum-ip-generic"}
			}
			a, b := udpPair(t, "cc", 0, txOff)
			require.NoError(t, attach(t, b, "vB", xdpToCpumap(t), false))
			rcv := newSocket(t, b, unix.AF_INET, unix.SOCK_DGRAM, 0)
			if tc.gro {
				require.NoError(t, b.setGRO("vB", true))
				require.NoError(t, unix.SetsockoptInt(rcv, unix.SOL_UDP, unix.UDP_GRO, 1))
			}
			require.NoError(t, unix.Bind(rcv, &unix.SockaddrInet4{Port: 9999}))
			require.NoError(t, unix.SetsockoptTimeval(rcv, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Usec: 300_000}))
			before := udpCsumErrors(t, b)
			snd := newSocket(t, a, unix.AF_INET, unix.SOCK_DGRAM, 0)
			if tc.segment != 0 {
				require.NoError(t, unix.SetsockoptInt(snd, unix.SOL_UDP, unix.UDP_SEGMENT, tc.segment))
			}
			require.NoError(t, unix.Sendto(snd, make([]byte, tc.payload), 0, &unix.SockaddrInet4{Port: 9999, Addr: [4]byte{192, 0, 2, 2}}))
			got := drainUDP(rcv)
			errs := udpCsumErrors(t, b) - before
			require.Equal(t, tc.recv, got, "datagrams received")
			want := uint64(1)
			if tc.recv != 0 {
				want = 0
			}
			require.Equal(t, want, errs, "Udp InCsumErrors")

			delivered, reasons := modelCpumapChecksum(t, tc.txOff, tc.payload, tc.segment, tc.gro)
			require.Equal(t, tc.recv, delivered, "model datagrams read (drops %v)", reasons)
			if tc.recv == 0 {
				require.Contains(t, reasons, "SKB_DROP_REASON_UDP_CSUM")
			}
		})
	}
}

// modelCpumapChecksum is TestKernelCpumapChecksum's case in the model: it
// returns how many datagrams the socket in B read, and the drop reasons.
func modelCpumapChecksum(t *testing.T, txOff bool, payload, segment int, gro bool) (int, []string) {
	t.Helper()
	cfg := udpPairModel(txOff, gro, segment, gro)
	cfg.Devices[0].PeerXDP = "native"
	cfg.Cpumaps = []netstack.CpumapConfig{{Name: "cpus", Entries: []netstack.CpumapEntryConfig{{CPU: 0, QSize: 64}}}}
	cfg.Programs = []netstack.ProgramConfig{{Name: "xdp", Hook: carrier.HookXDP, Netns: "B", Dev: "vB",
		Actions: []netstack.Action{{Kind: netstack.ActRedirectCPU, Target: "cpus"}}}}
	obs := &dropRecorder{}
	runModel(t, cfg, obs, ethIPv4(udp4Packet([4]byte{192, 0, 2, 1}, [4]byte{192, 0, 2, 2}, 40000, 9999, payload)), nil)
	return obs.delivered, obs.reasons
}

// udpPairModel is udpPair in the model: veth vA (192.0.2.1/24, in A,
// tx-checksumming off with txOff) and vB (192.0.2.2/24, in B, GRO with
// gro), a UDP socket snd on A:40000 (UDP_SEGMENT segment) that the entry
// sends from, and rcv on B:9999 (UDP_GRO with udpGRO).
func udpPairModel(txOff, gro bool, segment int, udpGRO bool) *netstack.Config {
	tx, peerGRO := "", ""
	if txOff {
		tx = "off"
	}
	if gro {
		peerGRO = "on"
	}
	return &netstack.Config{
		Namespaces: []netstack.NamespaceConfig{{Name: "A"}, {Name: "B"}},
		Devices: []netstack.DeviceConfig{{Name: "vA", Kind: netstack.KindVeth, Netns: "A", TxChecksum: tx,
			Addrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.1/24")}, Peer: "vB", PeerNetns: "B",
			PeerAddrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.2/24")}, PeerGRO: peerGRO}},
		Sockets: []netstack.SocketConfig{
			{Name: "snd", Netns: "A", Proto: netstack.ProtoUDP, Port: 40000, UDPSegment: segment},
			{Name: "rcv", Netns: "B", Proto: netstack.ProtoUDP, Port: 9999, UDPGRO: udpGRO},
		},
		Entries: []netstack.EntryConfig{{Kind: netstack.EntryTX, Netns: "A", Socket: "snd"}},
	}
}

// runModel builds cfg with obs, injects frame as packet 1 of entry 0,
// flushes, hands the stack to inspect (nil: none), closes it and checks
// for leaks.
func runModel(t *testing.T, cfg *netstack.Config, obs netstack.Observer, frame []byte, inspect func(*netstack.Stack)) {
	t.Helper()
	runModelFrames(t, cfg, obs, [][]byte{frame}, 0, inspect)
}

// runModelFrames is runModel for several frames, all at capture time at
// (0: none).
func runModelFrames(t *testing.T, cfg *netstack.Config, obs netstack.Observer, frames [][]byte, at int64, inspect func(*netstack.Stack)) {
	t.Helper()
	a := skb.NewAllocator(kmem.New(), machineProfile())
	s, err := netstack.New(cfg, netstack.Env{Alloc: a, Observer: obs})
	require.NoError(t, err)
	for i, f := range frames {
		require.NoError(t, s.Inject(&netstack.Packet{ID: uint64(i + 1), Tstamp: at, Frame: f}))
	}
	s.Flush()
	if inspect != nil {
		inspect(s)
	}
	require.NoError(t, s.Close())
	require.NoError(t, a.CheckLeaks())
}

// machineProfile is the profile of the machines' 6.18.44: v6.18 with the
// 6.18 stable series' multipath fix (skb.MultipathSaddrScore, from about
// 6.18.4).
func machineProfile() skb.Profile {
	p := skb.DefaultProfile()
	p.MultipathSaddr = skb.MultipathSaddrScore
	return p
}

// ethIPv4 puts an Ethernet header with zero addresses in front of IPv4
// packet pkt.
func ethIPv4(pkt []byte) []byte {
	f := append(make([]byte, 14), pkt...)
	binary.BigEndian.PutUint16(f[12:], unix.ETH_P_IP)
	return f
}

// dropRecorder notes socket deliveries and drop reasons.
type dropRecorder struct {
	netstack.NopObserver
	delivered int
	reasons   []string
}

func (r *dropRecorder) Deliver(e netstack.DeliverEvent) {
	if e.Kind == netstack.DeliverSocket {
		r.delivered++
	}
}

func (r *dropRecorder) Drop(e netstack.DropEvent) { r.reasons = append(r.reasons, e.Reason.String()) }
