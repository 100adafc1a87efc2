package kernel

import (
	"net"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/skbsim/skbsim/internal/testutil"
)

// TestKernelUDPGSOSegmentsOwned: a UDP_SEGMENT datagram of 2500 bytes
// (gso_size 1000) leaves vA, whose tx-udp-segmentation is off, cut in
// software. __udp_gso_segment clears the GSO skb's sock_wfree before
// skb_segment (which would hand it to the last segment) and gives it, with
// the socket, to every segment: tc ingress on the peer vB sees three
// segments, each with skb->sk, as the model has it
// (TestUDPGSOSegmentsOwned).
func TestKernelUDPGSOSegmentsOwned(t *testing.T) {
	testutil.KernelTests(t)
	n, mask := gsoOwned(t, []string{"tx-udp-segmentation"}, func(a, b *Netns) {
		fd := newSocket(t, a, unix.AF_INET, unix.SOCK_DGRAM, 0)
		require.NoError(t, unix.SetsockoptInt(fd, unix.SOL_UDP, unix.UDP_SEGMENT, 1000))
		require.NoError(t, unix.Sendto(fd, make([]byte, 2500), 0, &unix.SockaddrInet4{Port: 9999, Addr: [4]byte{192, 0, 2, 2}}))
	})
	require.Equal(t, 3, n, "three segments")
	require.Equal(t, uint32(0b111), mask, "the socket on every segment")
}

// TestKernelTCPGSOSegmentsOwned: a connected TCP socket writes 3000 bytes
// through vA without TSO; tcp_gso_segment gives every segment the socket
// (copy_destructor: tcp_wfree), as the model has it
// (TestTCPGSOSegmentsOwned).
func TestKernelTCPGSOSegmentsOwned(t *testing.T) {
	testutil.KernelTests(t)
	n, mask := gsoOwned(t, []string{"tx-tcp-segmentation", "tx-tcp-ecn-segmentation", "tx-tcp-mangleid-segmentation", "tx-tcp6-segmentation"},
		func(a, b *Netns) {
			ln := newSocket(t, b, unix.AF_INET, unix.SOCK_STREAM, 0)
			require.NoError(t, unix.Bind(ln, &unix.SockaddrInet4{Port: 9999, Addr: [4]byte{192, 0, 2, 2}}))
			require.NoError(t, unix.Listen(ln, 1))
			fd := newSocket(t, a, unix.AF_INET, unix.SOCK_STREAM, 0)
			require.NoError(t, unix.Connect(fd, &unix.SockaddrInet4{Port: 9999, Addr: [4]byte{192, 0, 2, 2}}))
			_, err := unix.Write(fd, make([]byte, 3000))
			require.NoError(t, err)
		})
	require.GreaterOrEqual(t, n, 3, "the data in segments")
	require.Equal(t, uint32(1)<<n-1, mask, "the socket on every segment")
}

// gsoOwned runs send between vA (in a, with the features txOff switched
// off) and vB (in b) and returns how many skbs longer than 100 bytes tc
// ingress on vB saw and which of them (a bit each, in order) had skb->sk.
func gsoOwned(t *testing.T, txOff []string, send func(a, b *Netns)) (n int, mask uint32) {
	t.Helper()
	a, b := newNetns(t, "goA"), newNetns(t, "goB")
	require.NoError(t, a.IP("link", "add", "vA", "type", "veth", "peer", "name", "vB", "netns", b.Name))
	require.NoError(t, a.IP("addr", "add", "192.0.2.1/24", "dev", "vA"))
	require.NoError(t, b.IP("addr", "add", "192.0.2.2/24", "dev", "vB"))
	require.NoError(t, a.IP("link", "set", "vA", "up"))
	require.NoError(t, b.IP("link", "set", "vB", "up"))
	require.NoError(t, a.clearFeatures("vA", txOff))
	macB, err := b.HardwareAddr("vB")
	require.NoError(t, err)
	require.NoError(t, a.IP("neigh", "add", "192.0.2.2", "lladdr", macB.String(), "dev", "vA", "nud", "permanent"))
	macA, err := a.HardwareAddr("vA")
	require.NoError(t, err)
	require.NoError(t, b.IP("neigh", "add", "192.0.2.1", "lladdr", macA.String(), "dev", "vB", "nud", "permanent"))

	out, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1})
	require.NoError(t, err)
	defer out.Close()
	// For every skb longer than 100 bytes: out[0].mask |= (skb->sk != NULL)
	// << out[0].count; out[0].count++.
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.SchedCLS, License: "GPL", Instructions: asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1),
		asm.LoadMem(asm.R7, asm.R6, 0, asm.Word), // skb->len
		asm.JLE.Imm(asm.R7, 100, "next"),
		asm.LoadMem(asm.R8, asm.R6, 168, asm.DWord), // skb->sk
		asm.StoreImm(asm.R10, -4, 0, asm.Word),
		asm.Mov.Reg(asm.R2, asm.R10),
		asm.Add.Imm(asm.R2, -4),
		asm.LoadMapPtr(asm.R1, out.FD()),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "next"),
		asm.LoadMem(asm.R1, asm.R0, 0, asm.Word), // count
		asm.JGE.Imm(asm.R1, 32, "next"),
		asm.JEq.Imm(asm.R8, 0, "nosk"),
		asm.Mov.Imm(asm.R2, 1),
		asm.LSh.Reg(asm.R2, asm.R1),
		asm.LoadMem(asm.R3, asm.R0, 4, asm.Word),
		asm.Or.Reg(asm.R3, asm.R2),
		asm.StoreMem(asm.R0, 4, asm.R3, asm.Word),
		asm.Add.Imm(asm.R1, 1).WithSymbol("nosk"),
		asm.StoreMem(asm.R0, 0, asm.R1, asm.Word),
		asm.Mov.Imm(asm.R0, -1).WithSymbol("next"), // TCX_NEXT
		asm.Return(),
	}})
	require.NoError(t, err)
	defer prog.Close()
	require.NoError(t, b.Do(func() error {
		iface, err := net.InterfaceByName("vB")
		if err != nil {
			return err
		}
		l, err := link.AttachTCX(link.TCXOptions{Interface: iface.Index, Program: prog, Attach: ebpf.AttachTCXIngress})
		if err != nil {
			return err
		}
		t.Cleanup(func() { l.Close() })
		return nil
	}))
	send(a, b)
	var v [8]byte
	last, stable := -1, 0
	for range 200 {
		require.NoError(t, out.Lookup(uint32(0), &v))
		if int(v[0]) == last && last > 0 {
			if stable++; stable == 10 {
				break
			}
		} else {
			last, stable = int(v[0]), 0
		}
		unix.Nanosleep(&unix.Timespec{Nsec: 5e6}, nil)
	}
	n = int(v[0])
	mask = uint32(v[4]) | uint32(v[5])<<8 | uint32(v[6])<<16 | uint32(v[7])<<24
	t.Logf("tc ingress on vB: %d skbs longer than 100 bytes, socket mask %#b", n, mask)
	return n, mask
}
