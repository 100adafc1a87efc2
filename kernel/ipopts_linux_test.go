package kernel

import (
	"encoding/binary"
	"encoding/hex"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/internal/testutil"
	"github.com/skbsim/skbsim/netstack"
)

// optHdrLen is how many bytes of an IPv4 packet hdrCopyProg keeps.
const optHdrLen = 128

// hdrCopy is what hdrCopyProg records: the packet's length from its
// network header, and its first optHdrLen bytes.
type hdrCopy struct {
	Len  uint32
	Data [optHdrLen]byte
}

// bytes returns the recorded bytes (nil when none).
func (h hdrCopy) bytes() []byte { return h.Data[:min(int(h.Len), optHdrLen)] }

// hdrCopyProg is a tc program that records into io's element 0 the first
// optHdrLen bytes (or fewer: the whole packet) of every IPv4 packet of
// protocol proto (the last one wins).
func hdrCopyProg(t *testing.T, io *ebpf.Map, proto uint8) *ebpf.Program {
	t.Helper()
	p, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.SchedCLS, License: "GPL", Instructions: asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1),
		asm.LoadMem(asm.R2, asm.R6, 16, asm.Word), // protocol
		asm.JNE.Imm(asm.R2, int32(htons(unix.ETH_P_IP)), "out"),
		asm.LoadMem(asm.R2, asm.R6, 76, asm.Word), // data
		asm.LoadMem(asm.R3, asm.R6, 80, asm.Word), // data_end
		asm.Mov.Reg(asm.R4, asm.R2),
		asm.Add.Imm(asm.R4, 14+20),
		asm.JGT.Reg(asm.R4, asm.R3, "out"),
		asm.LoadMem(asm.R4, asm.R2, 14+9, asm.Byte),
		asm.JNE.Imm(asm.R4, int32(proto), "out"),
		asm.StoreImm(asm.RFP, -4, 0, asm.Word),
		asm.LoadMapPtr(asm.R1, io.FD()),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -4),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "out"),
		asm.Mov.Reg(asm.R7, asm.R0),
		asm.LoadMem(asm.R4, asm.R6, 0, asm.Word), // len
		asm.Sub.Imm(asm.R4, 14),
		asm.StoreMem(asm.R7, 0, asm.R4, asm.Word),
		asm.JSLT.Imm(asm.R4, 1, "out"),
		asm.JLE.Imm(asm.R4, optHdrLen, "load"),
		asm.Mov.Imm(asm.R4, optHdrLen),
		asm.Mov.Reg(asm.R1, asm.R6).WithSymbol("load"),
		asm.Mov.Imm(asm.R2, 14),
		asm.Mov.Reg(asm.R3, asm.R7),
		asm.Add.Imm(asm.R3, 4),
		asm.FnSkbLoadBytes.Call(),
		asm.Mov.Imm(asm.R0, -1).WithSymbol("out"), // TCX_NEXT
		asm.Return(),
	}})
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })
	return p
}

// attachHdrCopy attaches hdrCopyProg for protocol proto at dev's tc
// ingress in n and returns its map.
func attachHdrCopy(t *testing.T, n *Netns, dev string, proto uint8) *ebpf.Map {
	t.Helper()
	io, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 4 + optHdrLen, MaxEntries: 1})
	require.NoError(t, err)
	t.Cleanup(func() { io.Close() })
	l, err := attachTCXIn(n, dev, hdrCopyProg(t, io, proto), ebpf.AttachTCXIngress)
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	return io
}

// optPacket is a UDP datagram from A to dst (port 9999) with IP options
// opts (padded with END to a multiple of 4 bytes) and payload bytes, its
// header checksum computed, in an Ethernet frame from vA to H.
func (tp *icmpTopo) optPacket(dst string, opts []byte, payload int) []byte {
	for len(opts)%4 != 0 {
		opts = append(opts, 0)
	}
	hl := 20 + len(opts)
	p := make([]byte, hl+8+payload)
	p[0], p[8], p[9] = 0x40|byte(hl/4), 64, unix.IPPROTO_UDP
	binary.BigEndian.PutUint16(p[2:], uint16(len(p)))
	copy(p[12:16], netip.MustParseAddr(icmpAddrA).AsSlice())
	copy(p[16:20], netip.MustParseAddr(dst).AsSlice())
	copy(p[20:], opts)
	binary.BigEndian.PutUint16(p[10:], inetCsum(p[:hl]))
	binary.BigEndian.PutUint16(p[hl:], 40000)
	binary.BigEndian.PutUint16(p[hl+2:], 9999)
	binary.BigEndian.PutUint16(p[hl+4:], uint16(8+payload))
	f := ethIPv4(p)
	copy(f[0:6], tp.macH[:])
	copy(f[6:12], tp.macA[:])
	return f
}

// maskTimes returns a copy of IPv4 packet p whose header checksum and
// timestamp words (of every timestamp option in its header and in the
// header an ICMP error quotes) are zeroed, after checking that the
// header checksum is valid, and for an ICMP message also its IP ID and
// ICMP checksum; the rest compares across runs.
func maskTimes(t *testing.T, p []byte) []byte {
	t.Helper()
	p = append([]byte(nil), p...)
	if len(p) < 20 {
		return p
	}
	ihl := min(int(p[0]&0xf)*4, len(p))
	require.Zero(t, inetCsum(p[:ihl]), "header checksum of %x", p[:ihl])
	p[10], p[11] = 0, 0
	maskTS(p[:ihl])
	if p[9] == unix.IPPROTO_ICMP && len(p) >= ihl+8+20 {
		// ip_select_ident's IP ID is the kernel's; the ICMP checksum
		// covers the quote's timestamps.
		p[4], p[5], p[ihl+2], p[ihl+3] = 0, 0, 0, 0
		q := p[ihl+8:]
		q[10], q[11] = 0, 0
		maskTS(q[:min(int(q[0]&0xf)*4, len(q))])
	}
	return p
}

// maskTS zeroes the timestamp words of the timestamp options in IPv4
// header h.
func maskTS(h []byte) {
	for i := 20; i+1 < len(h); {
		switch h[i] {
		case 0:
			return
		case 1:
			i++
			continue
		}
		l := int(h[i+1])
		if l < 2 || i+l > len(h) {
			return
		}
		if h[i] == 68 && l >= 4 {
			step, first := 4, 4
			if h[i+3]&0xf != 0 {
				step, first = 8, 8 // an address, then a time
			}
			for j := first; j+4 <= l; j += step {
				clear(h[i+j : i+j+4])
			}
		}
		i += l
	}
}

// TestKernelIPOptions: what ip_rcv_options does with datagrams A sends to
// or through H with IP options, in the kernel and the model: the first
// drop on hA; the ICMP message that reaches vA (a parameter problem with
// its pointer, or the port unreachable for H's closed port, which echoes
// the options as __ip_options_echo and ip_options_build make them and
// quotes the datagram as H's receive left it: record route and
// timestamps filled, END padding); and a datagram H forwards to B, as it
// reaches vB (ip_forward_options: the outgoing address in the record
// route, the checksum; the second fragment's options without the copied
// flag turned into no-operations). Timestamps are masked: the kernel's
// are its clock's.
func TestKernelIPOptions(t *testing.T) {
	testutil.KernelTests(t)
	probe, err := NewMetaProbe(false)
	testutil.SkipIfNotSupported(t, err)
	t.Cleanup(func() { require.NoError(t, probe.Close()) })
	const h, b = icmpAddrH, "10.1.0.2"
	rr := func(ptr byte, slots int) []byte {
		return append([]byte{7, byte(3 + 4*slots), ptr}, make([]byte, 4*slots)...)
	}
	ts := func(ptr, flags byte, words int, pre ...string) []byte {
		o := append([]byte{68, byte(4 + 4*words), ptr, flags}, make([]byte, 4*words)...)
		for i, a := range pre {
			copy(o[4+8*i:], netip.MustParseAddr(a).AsSlice())
		}
		return o
	}
	for _, tc := range []struct {
		name    string
		dst     string
		opts    []byte
		payload int
	}{
		{"no-operations", h, []byte{1, 1, 1, 1}, 16},
		{"end of list, then bytes", h, []byte{1, 0, 7, 7}, 16},
		{"option length 1", h, []byte{0x99, 1, 0, 0}, 16},
		{"option longer than the header", h, []byte{0x99, 8, 0, 0}, 16},
		{"unknown option", h, []byte{0x99, 4, 0, 0}, 16},
		{"router alert", h, []byte{148, 4, 0, 0}, 16},
		{"router alert of 3 bytes", h, []byte{148, 3, 0}, 16},
		{"record route", h, rr(4, 3), 16},
		{"record route, pointer 3", h, rr(3, 3), 16},
		{"record route, full", h, rr(16, 3), 16},
		{"record route, pointer in its last slot's middle", h, rr(14, 3), 16},
		{"record route with one slot left", h, rr(12, 3), 16},
		{"two record routes", h, append(rr(4, 1), rr(4, 1)...), 16},
		{"timestamps", h, ts(5, 0, 3), 16},
		{"timestamps, pointer 4", h, ts(4, 0, 3), 16},
		{"timestamps, full", h, ts(17, 0x10, 3), 16},
		{"timestamps, full, overflow 15", h, ts(17, 0xf0, 3), 16},
		{"timestamps and addresses", h, ts(5, 1, 4), 16},
		{"timestamps and addresses, room for an address only", h, ts(5, 1, 1), 16},
		{"prespecified timestamp for H", h, ts(5, 3, 4, h, "192.0.2.77"), 16},
		{"prespecified timestamp for another host", h, ts(5, 3, 4, "192.0.2.77", h), 16},
		{"prespecified timestamps for H twice", h, ts(5, 3, 4, h, h), 16},
		{"prespecified timestamps, full", h, ts(21, 3, 4, h, h), 16},
		{"unknown timestamp flag", h, ts(5, 2, 3), 16},
		{"loose source route", h, []byte{131, 7, 4, 10, 1, 0, 2}, 16},
		{"strict source route, pointer 3", h, []byte{137, 7, 3, 10, 1, 0, 2}, 16},
		{"record route, forwarded", b, rr(4, 3), 64},
		{"record route and timestamps with addresses, forwarded", b, append(rr(4, 2), ts(5, 1, 2)...), 64},
		{"bad option, forwarded", b, []byte{0x99, 1, 0, 0}, 64},
		{"bad option, no route", "203.0.113.1", []byte{0x99, 1, 0, 0}, 64},
		{"record route, fragmented", b, append([]byte{148, 4, 0, 0}, rr(4, 2)...), 1400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tp := newICMPTopo(t, "net.ipv4.icmp_ratelimit", "0")
			atB := attachHdrCopy(t, tp.b, "vB", unix.IPPROTO_UDP)
			atA := attachHdrCopy(t, tp.a, "vA", unix.IPPROTO_ICMP)
			frame := tp.optPacket(tc.dst, tc.opts, tc.payload)
			vA, err := tp.a.Ifindex("vA")
			require.NoError(t, err)
			kdrop := watchDrop(t, probe, tp.hA, func() {
				sendFrame(t, tp.a, vA, net.HardwareAddr(tp.macH[:]), frame)
				time.Sleep(50 * time.Millisecond)
			})
			var ka, kb hdrCopy
			require.NoError(t, atA.Lookup(uint32(0), &ka))
			require.NoError(t, atB.Lookup(uint32(0), &kb))
			t.Logf("kernel: drop %v, ICMP at vA %x, at vB %x", kdrop, ka.bytes(), kb.bytes())

			var ma, mb []byte
			record := func(to *[]byte, proto uint8) netstack.ProgramFunc {
				return func(c *netstack.Ctx) int {
					if f := c.Skb.Data(); binary.BigEndian.Uint16(f[12:]) == unix.ETH_P_IP && f[14+9] == proto {
						*to = append((*to)[:0], f[14:min(len(f), 14+optHdrLen)]...)
					}
					return -1
				}
			}
			cfg := tp.model(netstack.NamespaceConfig{ICMPRatelimit: -1},
				netstack.ProgramConfig{Name: "atA", Hook: carrier.HookTCIngress, Netns: "A", Dev: "vA", Prog: record(&ma, unix.IPPROTO_ICMP)},
				netstack.ProgramConfig{Name: "atB", Hook: carrier.HookTCIngress, Netns: "B", Dev: "vB", Prog: record(&mb, unix.IPPROTO_UDP)})
			tp.rxAtH(cfg)
			obs := &devDrops{}
			var mdrop []string
			runModel(t, cfg, obs, frame, func(s *netstack.Stack) { mdrop = obs.first(s, "H", "hA") })
			require.Equal(t, kdrop, mdrop, "drop")
			require.Equal(t, hex.EncodeToString(maskTimes(t, ka.bytes())), hex.EncodeToString(maskTimes(t, ma)), "ICMP at vA")
			require.Equal(t, hex.EncodeToString(maskTimes(t, kb.bytes())), hex.EncodeToString(maskTimes(t, mb)), "datagram at vB")
		})
	}
}
