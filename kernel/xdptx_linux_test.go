package kernel

import (
	"net"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/skbsim/skbsim/internal/testutil"
)

// TestKernelVethXDPTxFreshSkb: vA and vB are a veth pair in one namespace
// (so __dev_forward_skb keeps the mark). A frame sent on vA through a
// packet socket is marked 42 at vA's tc egress; native XDP on vB reserves
// 8 bytes of metadata and bounces it back (XDP_TX). veth turns the skb
// into an xdp_frame and vA receives it as a new skb built from that frame
// (veth_xdp_rcv_one -> __xdp_build_skb_from_frame): tc ingress on vA sees
// mark 0 and the metadata. vA runs an XDP_PASS program, without which the
// frame would not be received (GRO alone does not do for XDP_TX). With
// XDP_PASS on vB instead, vB's tc ingress sees mark 42: the mark does
// cross the pair.
func TestKernelVethXDPTxFreshSkb(t *testing.T) {
	testutil.KernelTests(t)
	for _, tx := range []bool{true, false} {
		n := newNetns(t, "xt")
		require.NoError(t, n.IP("link", "add", "vA", "type", "veth", "peer", "name", "vB"))
		require.NoError(t, n.IP("link", "set", "vA", "up"))
		require.NoError(t, n.IP("link", "set", "vB", "up"))
		out := recordOut(t)
		egress, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.SchedCLS, License: "GPL", Instructions: asm.Instructions{
			asm.LoadMem(asm.R2, asm.R1, 0, asm.Word), // skb->len
			asm.JLE.Imm(asm.R2, 100, "next"),
			asm.Mov.Imm(asm.R2, 42),
			asm.StoreMem(asm.R1, 8, asm.R2, asm.Word), // skb->mark = 42
			asm.Mov.Imm(asm.R0, -1).WithSymbol("next"),
			asm.Return(),
		}})
		require.NoError(t, err)
		t.Cleanup(func() { egress.Close() })
		ret := int32(2) // XDP_PASS
		if tx {
			ret = 3 // XDP_TX
		}
		// XDP: bpf_xdp_adjust_meta(ctx, -8), then ret.
		xdp, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.XDP, License: "GPL", Instructions: asm.Instructions{
			asm.Mov.Imm(asm.R2, -8),
			asm.FnXdpAdjustMeta.Call(),
			asm.Mov.Imm(asm.R0, ret),
			asm.Return(),
		}})
		require.NoError(t, err)
		t.Cleanup(func() { xdp.Close() })
		// tc ingress: for the first skb longer than 100 bytes, out[0] =
		// {1, mark, data - data_meta, len}.
		ingress, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.SchedCLS, License: "GPL", Instructions: concat(asm.Instructions{
			asm.Mov.Reg(asm.R6, asm.R1),
			asm.LoadMem(asm.R7, asm.R6, 0, asm.Word), // skb->len
			asm.JLE.Imm(asm.R7, 100, "next"),
		}, outLookup(out, "next"), asm.Instructions{
			asm.LoadMem(asm.R1, asm.R0, 0, asm.Word),
			asm.JNE.Imm(asm.R1, 0, "next"),
			asm.LoadMem(asm.R2, asm.R6, 8, asm.Word), // skb->mark
			asm.StoreMem(asm.R0, 4, asm.R2, asm.Word),
			asm.LoadMem(asm.R2, asm.R6, 140, asm.Word), // skb->data_meta
			asm.LoadMem(asm.R3, asm.R6, 76, asm.Word),  // skb->data
			asm.Sub.Reg(asm.R3, asm.R2),
			asm.StoreMem(asm.R0, 8, asm.R3, asm.Word),
			asm.StoreMem(asm.R0, 12, asm.R7, asm.Word),
			asm.StoreImm(asm.R0, 0, 1, asm.Word),
			asm.Mov.Imm(asm.R0, -1).WithSymbol("next"),
			asm.Return(),
		})})
		require.NoError(t, err)
		t.Cleanup(func() { ingress.Close() })
		require.NoError(t, attachEgress(t, n, "vA", egress))
		at := "vB"
		if tx {
			at = "vA"
			require.NoError(t, attach(t, n, "vA", xdpPass(t, false), false))
		}
		require.NoError(t, attach(t, n, at, ingress, false))
		require.NoError(t, attach(t, n, "vB", xdp, false))
		macB, err := n.HardwareAddr("vB")
		require.NoError(t, err)
		var ifA int
		require.NoError(t, n.Do(func() error {
			i, err := net.InterfaceByName("vA")
			if err == nil {
				ifA = i.Index
			}
			return err
		}))
		frame := make([]byte, 14+200)
		copy(frame[0:6], macB)
		frame[12], frame[13] = 0x88, 0xb5 // local experimental ethertype
		fd := newSocket(t, n, unix.AF_PACKET, unix.SOCK_RAW, 0)
		sa := &unix.SockaddrLinklayer{Ifindex: ifA, Halen: 6}
		copy(sa.Addr[:], macB)
		require.NoError(t, unix.Sendto(fd, frame, 0, sa))
		v := readOut(t, out, func(v [4]uint32) bool { return v[0] == 1 })
		t.Logf("XDP_TX %v: tc ingress on %s: mark %d, meta_len %d, len %d", tx, at, v[1], v[2], v[3])
		require.Equal(t, uint32(1), v[0], "the frame reached %s", at)
		if tx {
			require.Zero(t, v[1], "a new skb: the mark is gone")
		} else {
			require.Equal(t, uint32(42), v[1], "the mark crosses the pair")
		}
		require.Equal(t, uint32(8), v[2], "the XDP metadata")
	}
}

// TestKernelVethXDPRedirectNAPI: native XDP on vB redirects a datagram to
// vQ, another veth; the frame reaches vQ's peer vQ1 only when vQ1 has its
// NAPI, from GRO or from an XDP program of its own, as the model has it
// (netstack's TestNativeXDPActions). For XDP_TX, GRO alone does not do
// (TestKernelVethXDPTxFreshSkb).
func TestKernelVethXDPRedirectNAPI(t *testing.T) {
	testutil.KernelTests(t)
	for _, tc := range []struct {
		mode string
		seen uint32
	}{{"none", 0}, {"gro", 1}, {"xdp", 1}} {
		a, b := udpPair(t, "xr", 0, nil)
		require.NoError(t, b.IP("link", "add", "vQ", "type", "veth", "peer", "name", "vQ1"))
		require.NoError(t, b.IP("link", "set", "vQ", "up"))
		require.NoError(t, b.IP("link", "set", "vQ1", "up"))
		switch tc.mode {
		case "gro":
			require.NoError(t, b.setGRO("vQ1", true))
		case "xdp":
			require.NoError(t, attach(t, b, "vQ1", xdpPass(t, false), false))
		}
		var ifQ int
		require.NoError(t, b.Do(func() error {
			i, err := net.InterfaceByName("vQ")
			if err == nil {
				ifQ = i.Index
			}
			return err
		}))
		out := recordOut(t)
		xdp, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.XDP, License: "GPL", Instructions: asm.Instructions{
			asm.Mov.Imm(asm.R1, int32(ifQ)),
			asm.Mov.Imm(asm.R2, 0),
			asm.FnRedirect.Call(),
			asm.Return(),
		}})
		require.NoError(t, err)
		t.Cleanup(func() { xdp.Close() })
		require.NoError(t, attach(t, b, "vB", xdp, false))
		// tc ingress on vQ1 counts in out[0].
		tc2, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.SchedCLS, License: "GPL", Instructions: concat(outLookup(out, "n"), asm.Instructions{
			asm.LoadMem(asm.R1, asm.R0, 0, asm.Word),
			asm.Add.Imm(asm.R1, 1),
			asm.StoreMem(asm.R0, 0, asm.R1, asm.Word),
			asm.Mov.Imm(asm.R0, -1).WithSymbol("n"),
			asm.Return(),
		})})
		require.NoError(t, err)
		t.Cleanup(func() { tc2.Close() })
		require.NoError(t, attach(t, b, "vQ1", tc2, false))
		fd := newSocket(t, a, unix.AF_INET, unix.SOCK_DGRAM, 0)
		require.NoError(t, unix.Sendto(fd, make([]byte, 200), 0, &unix.SockaddrInet4{Port: 9999, Addr: [4]byte{192, 0, 2, 2}}))
		v := readOut(t, out, func(v [4]uint32) bool { return v[0] != 0 })
		t.Logf("vQ1 %s: tc ingress saw %d", tc.mode, v[0])
		require.Equal(t, tc.seen, v[0], tc.mode)
	}
}
