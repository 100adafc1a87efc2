package kernel

import (
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
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
// (netstack's TestGSOSegmentsOwned).
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
// (netstack's TestGSOSegmentsOwned).
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

// gsoOwned runs send between vA (its features txOff switched off) and vB
// and returns how many skbs longer than 100 bytes tc ingress on vB saw and
// which of them (a bit each, in order) had skb->sk.
func gsoOwned(t *testing.T, txOff []string, send func(a, b *Netns)) (n int, mask uint32) {
	t.Helper()
	a, b := udpPair(t, "go", 0, txOff)
	out := recordOut(t)
	// For every skb longer than 100 bytes: out[0].mask |= (skb->sk != NULL)
	// << out[0].count; out[0].count++.
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.SchedCLS, License: "GPL", Instructions: concat(asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1),
		asm.LoadMem(asm.R7, asm.R6, 0, asm.Word), // skb->len
		asm.JLE.Imm(asm.R7, 100, "next"),
		asm.LoadMem(asm.R8, asm.R6, 168, asm.DWord), // skb->sk
	}, outLookup(out, "next"), asm.Instructions{
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
	})})
	require.NoError(t, err)
	defer prog.Close()
	require.NoError(t, attach(t, b, "vB", prog, false))
	send(a, b)
	last, stable := uint32(0), 0
	v := readOut(t, out, func(v [4]uint32) bool {
		if v[0] != 0 && v[0] == last {
			stable++
		} else {
			last, stable = v[0], 0
		}
		return stable == 10
	})
	t.Logf("tc ingress on vB: %d skbs longer than 100 bytes, socket mask %#b", v[0], v[1])
	return int(v[0]), v[1]
}
