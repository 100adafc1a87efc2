package kernel

import (
	"fmt"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/skbsim/skbsim/internal/testutil"
)

// TestKernelGenericXDPFragsMacLen: a UDP GSO skb of 40 segments (its
// payload in page fragments) reaches vB, where a generic XDP program
// passes it. A multi-buffer program (BPF_F_XDP_HAS_FRAGS) gets a page-pool
// copy (skb_pp_cow_data), whose skb_copy_header does not copy mac_len, the
// 14 that __netif_receive_skb_core's skb_reset_mac_len set before
// do_xdp_generic; so tc ingress, which pushes mac_len bytes, sees the
// packet from its IPv4 header, and a linear part of
// SKB_WITH_OVERHEAD(PAGE_SIZE - XDP_PACKET_HEADROOM) - 14 bytes. Another
// program gets the skb linearized in place and tc sees the Ethernet header
// and all 4042 bytes. This is why the xdp-generic-gso-frags transition's
// recorder at vB tc ingress, which looks for an Ethernet frame, counts
// nothing, in the kernel and in the model (TestXDPGenericFragsMacLen).
func TestKernelGenericXDPFragsMacLen(t *testing.T) {
	testutil.KernelTests(t)
	for _, tc := range []struct {
		frags     bool
		ip        bool // tc ingress sees the IPv4 header first, not vB's MAC address
		headlen   uint32
		totLength uint32 // skb->len at tc ingress
	}{
		{false, false, 4042, 4042},
		{true, true, 3520 - 14, 4042 - 14},
	} {
		first, mac0, headlen, skbLen := xdpTC(t, xdpTCOpts{frags: tc.frags, generic: true, segment: 100, payload: 4000})
		t.Logf("frags %v: tc ingress sees first byte %#x (vB's MAC starts %#x), %d linear bytes, len %d",
			tc.frags, first, mac0, headlen, skbLen)
		want := mac0
		if tc.ip {
			want = 0x45
		}
		require.Equal(t, want, first, "frags %v", tc.frags)
		require.Equal(t, tc.headlen, headlen, "frags %v", tc.frags)
		require.Equal(t, tc.totLength, skbLen, "frags %v", tc.frags)
	}
}

// xdpTCOpts are what xdpTC sends and attaches.
type xdpTCOpts struct {
	frags   bool // BPF_F_XDP_HAS_FRAGS
	generic bool // generic (skb) mode, else native
	mtu     int  // vA's MTU (0: the default)
	segment int  // UDP_SEGMENT (0: none)
	payload int
}

// xdpTC sends one UDP datagram of o.payload bytes from vA to vB (a GSO one
// of o.segment-byte segments when set), with an XDP_PASS program on vB
// and a tc ingress program there that records, for the first skb longer
// than 1000 bytes, its first byte, data_end - data and skb->len; and the
// first byte of vB's MAC address.
func xdpTC(t *testing.T, o xdpTCOpts) (first, mac0 byte, headlen, skbLen uint32) {
	t.Helper()
	a, b := udpPair(t, "xf", o.mtu, nil)
	macB, err := b.HardwareAddr("vB")
	require.NoError(t, err)
	out := recordOut(t)
	// r6 = skb; if skb->len <= 1000 or out[0] is set: return TCX_NEXT.
	// Else out[0] = {done, first byte, data_end - data, skb->len}.
	tcp, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.SchedCLS, License: "GPL", Instructions: concat(asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1),
		asm.LoadMem(asm.R7, asm.R6, 0, asm.Word), // skb->len
		asm.JLE.Imm(asm.R7, 1000, "next"),
	}, outLookup(out, "next"), asm.Instructions{
		asm.Mov.Reg(asm.R9, asm.R0),
		asm.LoadMem(asm.R1, asm.R9, 0, asm.Word),
		asm.JNE.Imm(asm.R1, 0, "next"),
		asm.LoadMem(asm.R2, asm.R6, 76, asm.Word), // skb->data
		asm.LoadMem(asm.R3, asm.R6, 80, asm.Word), // skb->data_end
		asm.Mov.Reg(asm.R4, asm.R2),
		asm.Add.Imm(asm.R4, 1),
		asm.JGT.Reg(asm.R4, asm.R3, "next"),
		asm.LoadMem(asm.R5, asm.R2, 0, asm.Byte),
		asm.StoreMem(asm.R9, 4, asm.R5, asm.Word),
		asm.Sub.Reg(asm.R3, asm.R2),
		asm.StoreMem(asm.R9, 8, asm.R3, asm.Word),
		asm.StoreMem(asm.R9, 12, asm.R7, asm.Word),
		asm.StoreImm(asm.R9, 0, 1, asm.Word),
		asm.Mov.Imm(asm.R0, -1).WithSymbol("next"), // TCX_NEXT
		asm.Return(),
	})})
	require.NoError(t, err)
	defer tcp.Close()
	require.NoError(t, attach(t, b, "vB", xdpPass(t, o.frags), o.generic))
	require.NoError(t, attach(t, b, "vB", tcp, false))

	fd := newSocket(t, a, unix.AF_INET, unix.SOCK_DGRAM, 0)
	if o.segment != 0 {
		require.NoError(t, unix.SetsockoptInt(fd, unix.SOL_UDP, unix.UDP_SEGMENT, o.segment))
	}
	require.NoError(t, unix.Sendto(fd, make([]byte, o.payload), 0, &unix.SockaddrInet4{Port: 9999, Addr: [4]byte{192, 0, 2, 2}}))
	v := readOut(t, out, func(v [4]uint32) bool { return v[0] == 1 })
	require.Equal(t, uint32(1), v[0], "tc ingress saw no skb longer than 1000 bytes")
	return byte(v[1]), macB[0], v[2], v[3]
}

// TestKernelVethXDPMaxMTU: native XDP on vB is refused (ERANGE) while its
// peer's MTU is above SKB_WITH_OVERHEAD(PAGE_SIZE - XDP_PACKET_HEADROOM) -
// ETH_HLEN = 3506, unless the program has BPF_F_XDP_HAS_FRAGS, as the
// model's configuration check says (netstack's TestVethXDPMaxMTU).
func TestKernelVethXDPMaxMTU(t *testing.T) {
	testutil.KernelTests(t)
	for _, tc := range []struct {
		mtu   int
		frags bool
		ok    bool
	}{{3506, false, true}, {3507, false, false}, {9000, true, true}} {
		n := newNetns(t, "xmtu")
		require.NoError(t, n.IP("link", "add", "vA", "mtu", fmt.Sprint(tc.mtu), "type", "veth", "peer", "name", "vB"))
		err := attach(t, n, "vB", xdpPass(t, tc.frags), false)
		t.Logf("peer MTU %d, frags %v: %v", tc.mtu, tc.frags, err)
		if tc.ok {
			require.NoError(t, err)
		} else {
			require.ErrorIs(t, err, unix.ERANGE)
		}
	}
}

// TestKernelVethXDPFragsJumbo: with a multi-buffer native XDP program on
// vB and a 9000-byte MTU, an 8000-byte datagram reaches tc ingress as the
// page-pool copy veth made for XDP (veth_convert_skb_to_xdp_buff ->
// skb_pp_cow_data): 3520 linear bytes from the mac header, the rest in
// page fragments, as the model has it (netstack's TestVethXDPFragsJumbo).
func TestKernelVethXDPFragsJumbo(t *testing.T) {
	testutil.KernelTests(t)
	first, mac0, headlen, skbLen := xdpTC(t, xdpTCOpts{frags: true, mtu: 9000, payload: 8000})
	t.Logf("tc ingress sees first byte %#x (vB's MAC starts %#x), %d linear bytes, len %d", first, mac0, headlen, skbLen)
	require.Equal(t, mac0, first, "from the mac header")
	require.Equal(t, uint32(3520), headlen)
	require.Equal(t, uint32(14+20+8+8000), skbLen)
}
