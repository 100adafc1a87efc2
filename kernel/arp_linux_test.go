package kernel

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/internal/testutil"
	"github.com/skbsim/skbsim/netstack"
)

// arpCounter is a tc egress program noting into io's element 0 (an
// icmpMeta) how many ARP frames leave and the last one's length and
// operation.
func arpCounter(t *testing.T, io *ebpf.Map) *ebpf.Program {
	t.Helper()
	p, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.SchedCLS, License: "GPL", Instructions: asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1),
		asm.LoadMem(asm.R2, asm.R6, 16, asm.Word), // protocol
		asm.JNE.Imm(asm.R2, int32(htons(unix.ETH_P_ARP)), "out"),
		asm.LoadMem(asm.R2, asm.R6, 76, asm.Word), // data
		asm.LoadMem(asm.R3, asm.R6, 80, asm.Word), // data_end
		asm.Mov.Reg(asm.R4, asm.R2),
		asm.Add.Imm(asm.R4, 22),
		asm.JGT.Reg(asm.R4, asm.R3, "out"),
		asm.LoadMem(asm.R8, asm.R2, 21, asm.Byte), // ar_op's low byte
		asm.StoreImm(asm.RFP, -4, 0, asm.Word),
		asm.LoadMapPtr(asm.R1, io.FD()),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -4),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "out"),
		asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord),
		asm.Add.Imm(asm.R1, 1),
		asm.StoreMem(asm.R0, 0, asm.R1, asm.DWord),
		asm.LoadMem(asm.R1, asm.R6, 0, asm.Word), // len
		asm.StoreMem(asm.R0, 20, asm.R1, asm.Word),
		asm.StoreMem(asm.R0, 32, asm.R8, asm.Word),
		asm.Mov.Imm(asm.R0, -1).WithSymbol("out"),
		asm.Return(),
	}})
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })
	return p
}

// TestKernelARP: what arp_rcv and arp_process do with ARP frames A sends
// H (freed with their reason, or consumed) and whether H replies, in 6.18
// (the kfree_skb tracepoint on hA, an ARP counter on hA's tc egress) and
// in the model.
func TestKernelARP(t *testing.T) {
	testutil.KernelTests(t)
	probe, err := NewMetaProbe(false)
	testutil.SkipIfNotSupported(t, err)
	t.Cleanup(func() { require.NoError(t, probe.Close()) })
	tp := newICMPTopo(t)
	io, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 48, MaxEntries: 1})
	require.NoError(t, err)
	t.Cleanup(func() { io.Close() })
	l, err := attachTCXIn(tp.h, tp.hA, arpCounter(t, io), ebpf.AttachTCXEgress)
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	vA, err := tp.a.Ifindex("vA")
	require.NoError(t, err)
	pk := newSocket(t, tp.a, unix.AF_PACKET, unix.SOCK_RAW, 0)
	bcast := [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	arp := func(dst [6]byte, hrd, pro uint16, hln uint8, op uint16, sip, tip string) []byte {
		f := make([]byte, 14+28)
		copy(f[0:6], dst[:])
		copy(f[6:12], tp.macA[:])
		binary.BigEndian.PutUint16(f[12:], unix.ETH_P_ARP)
		a := f[14:]
		binary.BigEndian.PutUint16(a[0:], hrd)
		binary.BigEndian.PutUint16(a[2:], pro)
		a[4], a[5] = hln, 4
		binary.BigEndian.PutUint16(a[6:], op)
		copy(a[8:14], tp.macA[:])
		copy(a[14:18], netip.MustParseAddr(sip).AsSlice())
		copy(a[24:28], netip.MustParseAddr(tip).AsSlice())
		return f
	}
	const ip4, h4 = icmpAddrA, icmpAddrH
	for _, tc := range []struct {
		name  string
		frame []byte
	}{
		{"request for H", arp(bcast, 1, unix.ETH_P_IP, 6, 1, ip4, h4)},
		{"request for another address", arp(bcast, 1, unix.ETH_P_IP, 6, 1, ip4, "192.0.2.77")},
		{"request for a multicast address", arp(bcast, 1, unix.ETH_P_IP, 6, 1, ip4, "224.0.0.1")},
		{"request for a loopback address", arp(bcast, 1, unix.ETH_P_IP, 6, 1, ip4, "127.0.0.1")},
		{"duplicate address probe for H", arp(bcast, 1, unix.ETH_P_IP, 6, 1, "0.0.0.0", h4)},
		{"request from H's own address", arp(bcast, 1, unix.ETH_P_IP, 6, 1, h4, h4)},
		{"reply", arp(tp.macH, 1, unix.ETH_P_IP, 6, 2, ip4, h4)},
		{"operation 3", arp(bcast, 1, unix.ETH_P_IP, 6, 3, ip4, h4)},
		{"hardware address length 8", arp(bcast, 1, unix.ETH_P_IP, 8, 1, ip4, h4)},
		{"IEEE 802 hardware type", arp(bcast, 6, unix.ETH_P_IP, 6, 1, ip4, h4)},
		{"hardware type 7", arp(bcast, 7, unix.ETH_P_IP, 6, 1, ip4, h4)},
		{"protocol IPv6", arp(bcast, 1, unix.ETH_P_IPV6, 6, 1, ip4, h4)},
		{"20 bytes", arp(bcast, 1, unix.ETH_P_IP, 6, 1, ip4, h4)[:14+20]},
		{"request to another MAC", arp([6]byte{2, 0, 0, 0, 0, 0x99}, 1, unix.ETH_P_IP, 6, 1, ip4, h4)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, io.Put(uint32(0), icmpMeta{}))
			kern := watchDrop(t, probe, tp.hA, func() {
				require.NoError(t, unix.Sendto(pk, tc.frame, 0, &unix.SockaddrLinklayer{Ifindex: vA, Protocol: htons(unix.ETH_P_ARP)}))
			})
			var kr icmpMeta
			require.NoError(t, io.Lookup(uint32(0), &kr))
			t.Logf("kernel: %v, %d replies (length %d, op %d)", kern, kr.Count, kr.Len, kr.Type)

			var mr icmpMeta
			cfg := tp.model(netstack.NamespaceConfig{}, netstack.ProgramConfig{Name: "eg", Hook: carrier.HookTCEgress, Netns: "H", Dev: "hA",
				Prog: netstack.ProgramFunc(func(c *netstack.Ctx) int {
					if d := c.Skb.Data(); binary.BigEndian.Uint16(d[12:14]) == unix.ETH_P_ARP {
						mr.Count++
						mr.Len, mr.Type = uint32(c.Skb.Len()), uint32(d[21])
					}
					return -1
				})})
			tp.rxAtH(cfg)
			obs := &nsDrops{ns: 3}
			runModel(t, cfg, obs, tc.frame, nil)
			require.Equal(t, kern, obs.reasons, "model: drop")
			require.Equal(t, kr, mr, "model: replies")
		})
	}
}
