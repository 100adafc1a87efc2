package kernel

import (
	"errors"
	"net"
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

// devmapSlot is what a recorder of TestKernelDevmapBroadcast writes:
// runs, then meta_len (data - data_meta) and, for the devmap program,
// egress_ifindex, of the first frame longer than 100 bytes.
type devmapSlot struct{ Count, Meta, Egress, Pad uint32 }

// TestKernelDevmapBroadcast: in one namespace, three veth pairs vA-vB,
// vC-vD, vE-vF. A frame sent on vA reaches vB, whose XDP program (native
// or generic) reserves 8 bytes of metadata and returns bpf_redirect_map
// into a device map {1: vC, 2: vE with a BPF_XDP_DEVMAP program, 3: vB}
// with BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS. vD and vF (native XDP
// passing, for their NAPI) record at tc ingress what arrives; the devmap
// program records its egress_ifindex and metadata. Natively both get the
// frame with its metadata (vD a copy, xdpf_clone) and the devmap program
// sees it; in generic mode both get the skb (a clone), without metadata,
// as the model has it (netstack/devmap.go).
func TestKernelDevmapBroadcast(t *testing.T) {
	testutil.KernelTests(t)
	for _, generic := range []bool{false, true} {
		n := newNetns(t, "dm")
		for _, p := range [][2]string{{"vA", "vB"}, {"vC", "vD"}, {"vE", "vF"}} {
			require.NoError(t, n.IP("link", "add", p[0], "type", "veth", "peer", "name", p[1]))
			require.NoError(t, n.IP("link", "set", p[0], "up"))
			require.NoError(t, n.IP("link", "set", p[1], "up"))
		}
		idx := map[string]int{}
		require.NoError(t, n.Do(func() error {
			for _, d := range []string{"vA", "vB", "vC", "vE"} {
				i, err := net.InterfaceByName(d)
				if err != nil {
					return err
				}
				idx[d] = i.Index
			}
			return nil
		}))
		out, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 16, MaxEntries: 3})
		require.NoError(t, err)
		t.Cleanup(func() { out.Close() })
		slotLookup := func(slot int32, label string) asm.Instructions {
			return asm.Instructions{
				asm.StoreImm(asm.R10, -4, int64(slot), asm.Word),
				asm.Mov.Reg(asm.R2, asm.R10),
				asm.Add.Imm(asm.R2, -4),
				asm.LoadMapPtr(asm.R1, out.FD()),
				asm.FnMapLookupElem.Call(),
				asm.JEq.Imm(asm.R0, 0, label),
			}
		}
		// The devmap program: out[2] = {runs, data - data_meta,
		// egress_ifindex} for frames longer than 100 bytes; XDP_PASS.
		dprog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.XDP, AttachType: ebpf.AttachXDPDevMap, License: "GPL",
			Instructions: concat(asm.Instructions{
				asm.Mov.Reg(asm.R6, asm.R1),
				asm.LoadMem(asm.R7, asm.R6, 0, asm.Word), // data
				asm.LoadMem(asm.R8, asm.R6, 4, asm.Word), // data_end
				asm.Mov.Reg(asm.R9, asm.R8),
				asm.Sub.Reg(asm.R9, asm.R7),
				asm.JLE.Imm(asm.R9, 100, "pass"),
				asm.LoadMem(asm.R8, asm.R6, 8, asm.Word), // data_meta
				asm.Sub.Reg(asm.R7, asm.R8),
				asm.LoadMem(asm.R9, asm.R6, 20, asm.Word), // egress_ifindex
			}, slotLookup(2, "pass"), asm.Instructions{
				asm.LoadMem(asm.R1, asm.R0, 0, asm.Word),
				asm.Add.Imm(asm.R1, 1),
				asm.StoreMem(asm.R0, 0, asm.R1, asm.Word),
				asm.StoreMem(asm.R0, 4, asm.R7, asm.Word),
				asm.StoreMem(asm.R0, 8, asm.R9, asm.Word),
				asm.Mov.Imm(asm.R0, 2).WithSymbol("pass"),
				asm.Return(),
			})})
		require.NoError(t, err)
		t.Cleanup(func() { dprog.Close() })
		dm, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.DevMapHash, KeySize: 4, ValueSize: 8, MaxEntries: 8})
		require.NoError(t, err)
		t.Cleanup(func() { dm.Close() })
		// A device map finds its devices in the updater's namespace.
		require.NoError(t, n.Do(func() error {
			return errors.Join(dm.Put(uint32(1), [2]uint32{uint32(idx["vC"]), 0}),
				dm.Put(uint32(2), [2]uint32{uint32(idx["vE"]), uint32(dprog.FD())}),
				dm.Put(uint32(3), [2]uint32{uint32(idx["vB"]), 0}))
		}))
		// vB: bpf_xdp_adjust_meta(ctx, -8), then bpf_redirect_map(&dm, 0,
		// BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS).
		xdp, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.XDP, License: "GPL", Instructions: asm.Instructions{
			asm.Mov.Reg(asm.R6, asm.R1),
			asm.Mov.Imm(asm.R2, -8),
			asm.FnXdpAdjustMeta.Call(),
			asm.LoadMapPtr(asm.R1, dm.FD()),
			asm.Mov.Imm(asm.R2, 0),
			asm.Mov.Imm(asm.R3, int32(netstack.FlagBroadcast|netstack.FlagExcludeIngress)),
			asm.FnRedirectMap.Call(),
			asm.Return(),
		}})
		require.NoError(t, err)
		t.Cleanup(func() { xdp.Close() })
		// tc ingress on vD (slot 0) and vF (slot 1).
		for slot, dev := range []string{"vD", "vF"} {
			rec, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.SchedCLS, License: "GPL", Instructions: concat(asm.Instructions{
				asm.Mov.Reg(asm.R6, asm.R1),
				asm.LoadMem(asm.R7, asm.R6, 0, asm.Word), // skb->len
				asm.JLE.Imm(asm.R7, 100, "next"),
			}, slotLookup(int32(slot), "next"), asm.Instructions{
				asm.LoadMem(asm.R1, asm.R0, 0, asm.Word),
				asm.Add.Imm(asm.R1, 1),
				asm.StoreMem(asm.R0, 0, asm.R1, asm.Word),
				asm.LoadMem(asm.R2, asm.R6, 140, asm.Word), // skb->data_meta
				asm.LoadMem(asm.R3, asm.R6, 76, asm.Word),  // skb->data
				asm.Sub.Reg(asm.R3, asm.R2),
				asm.StoreMem(asm.R0, 4, asm.R3, asm.Word),
				asm.Mov.Imm(asm.R0, -1).WithSymbol("next"),
				asm.Return(),
			})})
			require.NoError(t, err)
			t.Cleanup(func() { rec.Close() })
			require.NoError(t, attach(t, n, dev, rec, false))
			require.NoError(t, attach(t, n, dev, xdpPass(t, false), false))
		}
		require.NoError(t, attach(t, n, "vB", xdp, generic))
		macB, err := n.HardwareAddr("vB")
		require.NoError(t, err)
		frame := make([]byte, 14+200)
		copy(frame[0:6], macB)
		frame[12], frame[13] = 0x88, 0xb5 // local experimental ethertype
		fd := newSocket(t, n, unix.AF_PACKET, unix.SOCK_RAW, 0)
		sa := &unix.SockaddrLinklayer{Ifindex: idx["vA"], Halen: 6}
		copy(sa.Addr[:], macB)
		require.NoError(t, unix.Sendto(fd, frame, 0, sa))
		var got [3]devmapSlot
		for range 200 {
			for i := range got {
				require.NoError(t, out.Lookup(uint32(i), &got[i]))
			}
			if got[0].Count != 0 && got[1].Count != 0 && got[2].Count != 0 {
				break
			}
			unix.Nanosleep(&unix.Timespec{Nsec: 5e6}, nil)
		}
		unix.Nanosleep(&unix.Timespec{Nsec: 50e6}, nil) // stragglers
		for i := range got {
			require.NoError(t, out.Lookup(uint32(i), &got[i]))
		}
		meta := uint32(8)
		if generic {
			meta = 0
		}
		t.Logf("generic %v: vD %+v, vF %+v, devmap program %+v", generic, got[0], got[1], got[2])
		require.Equal(t, devmapSlot{Count: 1, Meta: meta}, got[0], "vD (through vC)")
		require.Equal(t, devmapSlot{Count: 1, Meta: meta}, got[1], "vF (through vE)")
		require.Equal(t, devmapSlot{Count: 1, Meta: meta, Egress: uint32(idx["vE"])}, got[2], "the devmap program of vE's entry")

		m := modelDevmapBroadcast(t, generic, frame)
		require.Equal(t, got[0], m[0], "model: vD")
		require.Equal(t, got[1], m[1], "model: vF")
		m[2].Egress = uint32(idx["vE"]) // the model's ifindexes differ; it checks the device by name
		require.Equal(t, got[2], m[2], "model: the devmap program")
	}
}

// modelDevmapBroadcast is TestKernelDevmapBroadcast's setup in the model,
// the frame entering vB from vA.
func modelDevmapBroadcast(t *testing.T, generic bool, frame []byte) [3]devmapSlot {
	t.Helper()
	var got [3]devmapSlot
	var vE int32
	mode := "native"
	if generic {
		mode = "generic"
	}
	rec := func(slot int) netstack.ProgramFunc {
		return func(c *netstack.Ctx) int {
			if c.Skb.Len() > 100 {
				got[slot].Count++
				got[slot].Meta = uint32(c.Skb.MetadataLen())
			}
			return netstack.TCXNext
		}
	}
	cfg := &netstack.Config{
		Namespaces: []netstack.NamespaceConfig{{Name: "n"}},
		Devices: []netstack.DeviceConfig{
			{Name: "vA", Kind: netstack.KindVeth, Netns: "n", Peer: "vB", PeerNetns: "n", PeerXDP: mode},
			{Name: "vC", Kind: netstack.KindVeth, Netns: "n", Peer: "vD", PeerNetns: "n", PeerXDP: "native"},
			{Name: "vE", Kind: netstack.KindVeth, Netns: "n", Peer: "vF", PeerNetns: "n", PeerXDP: "native"},
		},
		Devmaps: []netstack.DevmapConfig{{Name: "dm", Entries: []netstack.DevmapEntryConfig{
			{Key: 1, Netns: "n", Dev: "vC"}, {Key: 2, Netns: "n", Dev: "vE", Program: "dprog"}, {Key: 3, Netns: "n", Dev: "vB"}}}},
		Programs: []netstack.ProgramConfig{
			{Name: "xdp", Hook: carrier.HookXDP, Netns: "n", Dev: "vB", Prog: netstack.ProgramFunc(func(c *netstack.Ctx) int {
				c.AdjustMeta(-8)
				return c.RedirectDevmap(0, 0, netstack.FlagBroadcast|netstack.FlagExcludeIngress)
			})},
			{Name: "dprog", Hook: carrier.HookXDP, Netns: "n", Devmap: true, Prog: netstack.ProgramFunc(func(c *netstack.Ctx) int {
				if c.Skb.Len() > 100 {
					got[2].Count++
					got[2].Meta = uint32(len(c.Meta()))
					if c.EgressIfindex() == vE {
						got[2].Egress = 1
					}
				}
				return netstack.XDPPass
			})},
			{Name: "xD", Hook: carrier.HookXDP, Netns: "n", Dev: "vD", Actions: []netstack.Action{{Kind: netstack.ActPass}}},
			{Name: "xF", Hook: carrier.HookXDP, Netns: "n", Dev: "vF", Actions: []netstack.Action{{Kind: netstack.ActPass}}},
			{Name: "rD", Hook: carrier.HookTCIngress, Netns: "n", Dev: "vD", Prog: rec(0)},
			{Name: "rF", Hook: carrier.HookTCIngress, Netns: "n", Dev: "vF", Prog: rec(1)},
		},
		Entries: []netstack.EntryConfig{{Kind: netstack.EntryRX, Netns: "n", Dev: "vB"}},
	}
	a := skb.NewAllocator(kmem.New(), skb.DefaultProfile())
	s, err := netstack.New(cfg, netstack.Env{Alloc: a})
	require.NoError(t, err)
	vE = s.Device("n", "vE").Ifindex()
	require.NoError(t, s.Inject(&netstack.Packet{ID: 1, Frame: append([]byte(nil), frame...)}))
	s.Flush()
	require.NoError(t, s.Close())
	require.NoError(t, a.CheckLeaks())
	require.Equal(t, uint32(1), got[2].Egress, "the model's devmap program egresses through vE")
	return got
}
