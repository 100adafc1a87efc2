package kernel

import (
	"encoding/json"
	"os/exec"
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

// txPackets is dev's transmitted-packet count in n (ip -s -j link).
func txPackets(t *testing.T, n *Netns, dev string) uint64 {
	t.Helper()
	out, err := exec.Command("ip", "-n", n.Name, "-s", "-j", "link", "show", "dev", dev).Output()
	require.NoError(t, err)
	var links []struct {
		Stats64 struct {
			TX struct {
				Packets uint64 `json:"packets"`
			} `json:"tx"`
		} `json:"stats64"`
	}
	require.NoError(t, json.Unmarshal(out, &links))
	require.Len(t, links, 1)
	return links[0].Stats64.TX.Packets
}

// TestKernelXDPRedirectTargets: a frame sent on vA reaches vB, whose XDP
// program redirects it with bpf_redirect to a device of the namespace:
// the veth vC (whose peer vD counts what its native XDP program gets), a
// bridge br0, a macvlan mv0 on vC, or lo. In native mode only the veth
// takes the frame; the others have no ndo_xdp_xmit (no
// NETDEV_XDP_ACT_NDO_XMIT), so __xdp_enqueue fails and the frame is
// dropped without leaving them (tx_packets unchanged). In generic mode the
// skb is transmitted on any of them (generic_xdp_tx: tx_packets grows).
// The model agrees (netstack.Device.ndoXDPXmit).
func TestKernelXDPRedirectTargets(t *testing.T) {
	testutil.KernelTests(t)
	for _, generic := range []bool{false, true} {
		for _, target := range []string{"vC", "br0", "mv0", "lo"} {
			name := target
			if generic {
				name += "/generic"
			}
			t.Run(name, func(t *testing.T) {
				n := newNetns(t, "xr")
				for _, p := range [][2]string{{"vA", "vB"}, {"vC", "vD"}} {
					require.NoError(t, n.IP("link", "add", p[0], "type", "veth", "peer", "name", p[1]))
				}
				require.NoError(t, n.IP("link", "add", "br0", "type", "bridge"))
				require.NoError(t, n.IP("link", "add", "link", "vC", "name", "mv0", "type", "macvlan", "mode", "bridge"))
				for _, d := range []string{"vA", "vB", "vC", "vD", "br0", "mv0", "lo"} {
					require.NoError(t, n.IP("link", "set", d, "up"))
				}
				tidx, err := n.Ifindex(target)
				require.NoError(t, err)
				count, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 1})
				require.NoError(t, err)
				t.Cleanup(func() { count.Close() })
				// vD: count[0]++ for frames longer than 100 bytes, XDP_DROP.
				rec, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.XDP, License: "GPL", Instructions: asm.Instructions{
					asm.LoadMem(asm.R2, asm.R1, 0, asm.Word), // data
					asm.LoadMem(asm.R3, asm.R1, 4, asm.Word), // data_end
					asm.Sub.Reg(asm.R3, asm.R2),
					asm.JLE.Imm(asm.R3, 100, "drop"),
					asm.StoreImm(asm.R10, -4, 0, asm.Word),
					asm.Mov.Reg(asm.R2, asm.R10),
					asm.Add.Imm(asm.R2, -4),
					asm.LoadMapPtr(asm.R1, count.FD()),
					asm.FnMapLookupElem.Call(),
					asm.JEq.Imm(asm.R0, 0, "drop"),
					asm.LoadMem(asm.R1, asm.R0, 0, asm.Word),
					asm.Add.Imm(asm.R1, 1),
					asm.StoreMem(asm.R0, 0, asm.R1, asm.Word),
					asm.Mov.Imm(asm.R0, 1).WithSymbol("drop"), // XDP_DROP
					asm.Return(),
				}})
				require.NoError(t, err)
				t.Cleanup(func() { rec.Close() })
				require.NoError(t, attach(t, n, "vD", rec, false))
				// vB: bpf_redirect(target, 0).
				xdp, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.XDP, License: "GPL", Instructions: asm.Instructions{
					asm.Mov.Imm(asm.R1, int32(tidx)),
					asm.Mov.Imm(asm.R2, 0),
					asm.FnRedirect.Call(),
					asm.Return(),
				}})
				require.NoError(t, err)
				t.Cleanup(func() { xdp.Close() })
				require.NoError(t, attach(t, n, "vB", xdp, generic))

				before := txPackets(t, n, target)
				macB, err := n.HardwareAddr("vB")
				require.NoError(t, err)
				frame := make([]byte, 14+200)
				copy(frame[0:6], macB)
				frame[12], frame[13] = 0x88, 0xb5 // local experimental ethertype
				aidx, err := n.Ifindex("vA")
				require.NoError(t, err)
				fd := newSocket(t, n, unix.AF_PACKET, unix.SOCK_RAW, 0)
				sa := &unix.SockaddrLinklayer{Ifindex: aidx, Halen: 6}
				copy(sa.Addr[:], macB)
				require.NoError(t, unix.Sendto(fd, frame, 0, sa))
				unix.Nanosleep(&unix.Timespec{Nsec: 100e6}, nil)
				var got uint32
				require.NoError(t, count.Lookup(uint32(0), &got))
				sent := txPackets(t, n, target) - before
				t.Logf("%s: tx_packets +%d, vD got %d", name, sent, got)

				left := sent > 0 || got > 0
				want := generic || target == "vC"
				require.Equal(t, want, left, "the frame left by %s", target)
				if !generic {
					require.Equal(t, left, modelXDPRedirect(t, target, frame), "model")
				}
			})
		}
	}
}

// modelXDPRedirect is TestKernelXDPRedirectTargets's native setup in the
// model: whether the frame vB's XDP program redirects to target leaves by
// it (vD's program runs for vC).
func modelXDPRedirect(t *testing.T, target string, frame []byte) bool {
	t.Helper()
	var vD int
	cfg := &netstack.Config{
		Namespaces: []netstack.NamespaceConfig{{Name: "n"}},
		Devices: []netstack.DeviceConfig{
			{Name: "vA", Kind: netstack.KindVeth, Netns: "n", Peer: "vB", PeerNetns: "n", PeerXDP: "native"},
			{Name: "vC", Kind: netstack.KindVeth, Netns: "n", Peer: "vD", PeerNetns: "n", PeerXDP: "native"},
			{Name: "br0", Kind: netstack.KindBridge, Netns: "n"},
			{Name: "mv0", Kind: netstack.KindMacvlan, Netns: "n", Link: "vC"},
		},
		Programs: []netstack.ProgramConfig{
			{Name: "xdp", Hook: carrier.HookXDP, Netns: "n", Dev: "vB", Prog: netstack.ProgramFunc(func(c *netstack.Ctx) int {
				return c.Redirect(c.Ifindex(target), 0)
			})},
			{Name: "xD", Hook: carrier.HookXDP, Netns: "n", Dev: "vD", Prog: netstack.ProgramFunc(func(c *netstack.Ctx) int {
				vD++
				return netstack.XDPDrop
			})},
		},
		Entries: []netstack.EntryConfig{{Kind: netstack.EntryRX, Netns: "n", Dev: "vB"}},
	}
	a := skb.NewAllocator(kmem.New(), skb.DefaultProfile())
	var obs xmitCounter
	s, err := netstack.New(cfg, netstack.Env{Alloc: a, Observer: &obs})
	require.NoError(t, err)
	require.NoError(t, s.Inject(&netstack.Packet{ID: 1, Frame: append([]byte(nil), frame...)}))
	s.Flush()
	require.NoError(t, s.Close())
	require.NoError(t, a.CheckLeaks())
	return vD > 0 || obs.xmits > 0
}

// xmitCounter counts the packets the model's devices transmit.
type xmitCounter struct {
	netstack.NopObserver
	xmits int
}

func (o *xmitCounter) Deliver(e netstack.DeliverEvent) {
	if e.Kind == netstack.DeliverXmit {
		o.xmits++
	}
}
