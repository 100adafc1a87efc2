package kernel

import (
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/internal/testutil"
	"github.com/skbsim/skbsim/netstack"
)

// xdpCounter is an XDP program that counts frames longer than 100 bytes in
// slot of the array m, then drops them; closed with the test.
func xdpCounter(t *testing.T, m *ebpf.Map, slot int32) *ebpf.Program {
	t.Helper()
	p, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.XDP, License: "GPL", Instructions: asm.Instructions{
		asm.LoadMem(asm.R2, asm.R1, 0, asm.Word), // data
		asm.LoadMem(asm.R3, asm.R1, 4, asm.Word), // data_end
		asm.Sub.Reg(asm.R3, asm.R2),
		asm.JLE.Imm(asm.R3, 100, "drop"),
		asm.StoreImm(asm.R10, -4, int64(slot), asm.Word),
		asm.Mov.Reg(asm.R2, asm.R10),
		asm.Add.Imm(asm.R2, -4),
		asm.LoadMapPtr(asm.R1, m.FD()),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "drop"),
		asm.LoadMem(asm.R1, asm.R0, 0, asm.Word),
		asm.Add.Imm(asm.R1, 1),
		asm.StoreMem(asm.R0, 0, asm.R1, asm.Word),
		asm.Mov.Imm(asm.R0, 1).WithSymbol("drop"), // XDP_DROP
		asm.Return(),
	}})
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })
	return p
}

// sendTestFrame sends a 214-byte frame of a local experimental ethertype out
// of from in n, to to's address, with a packet socket; it returns the
// frame.
func sendTestFrame(t *testing.T, n *Netns, from, to string) []byte {
	t.Helper()
	mac, err := n.HardwareAddr(to)
	require.NoError(t, err)
	frame := make([]byte, 14+200)
	copy(frame[0:6], mac)
	frame[12], frame[13] = 0x88, 0xb5
	idx, err := n.Ifindex(from)
	require.NoError(t, err)
	fd := newSocket(t, n, unix.AF_PACKET, unix.SOCK_RAW, 0)
	sa := &unix.SockaddrLinklayer{Ifindex: idx, Halen: 6}
	copy(sa.Addr[:], mac)
	require.NoError(t, unix.Sendto(fd, frame, 0, sa))
	unix.Nanosleep(&unix.Timespec{Nsec: 100e6}, nil)
	return frame
}

// TestKernelXDPRedirectTargets: a frame sent on vA reaches vB, whose XDP
// program redirects it with bpf_redirect to a device of the namespace:
// the veth vC, a macvlan mv0 on vC (both seen at vC's peer vD), a bridge
// br0 (seen at vQ, the peer of its port vP) or lo (seen by a generic XDP
// program on lo); the watchers count frames longer than 100 bytes, so
// the devices' own packets do not count. In native mode only the veth
// takes the frame; the others have no ndo_xdp_xmit (no
// NETDEV_XDP_ACT_NDO_XMIT), so __xdp_enqueue fails and the frame is
// dropped. In generic mode the skb is transmitted on any of them
// (generic_xdp_tx). The model agrees (netstack.Device.ndoXDPXmit).
func TestKernelXDPRedirectTargets(t *testing.T) {
	testutil.KernelTests(t)
	watch := map[string]int{"vC": 0, "mv0": 0, "br0": 1, "lo": 2} // the count slot that sees each target's frames
	for _, generic := range []bool{false, true} {
		for _, target := range []string{"vC", "br0", "mv0", "lo"} {
			name := target
			if generic {
				name += "/generic"
			}
			t.Run(name, func(t *testing.T) {
				n := newNetns(t, "xr")
				for _, p := range [][2]string{{"vA", "vB"}, {"vC", "vD"}, {"vP", "vQ"}} {
					require.NoError(t, n.IP("link", "add", p[0], "type", "veth", "peer", "name", p[1]))
				}
				require.NoError(t, n.IP("link", "add", "br0", "type", "bridge"))
				require.NoError(t, n.IP("link", "set", "vP", "master", "br0"))
				require.NoError(t, n.IP("link", "add", "link", "vC", "name", "mv0", "type", "macvlan", "mode", "bridge"))
				for _, d := range []string{"vA", "vB", "vC", "vD", "vP", "vQ", "br0", "mv0", "lo"} {
					require.NoError(t, n.IP("link", "set", d, "up"))
				}
				tidx, err := n.Ifindex(target)
				require.NoError(t, err)
				count, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 3})
				require.NoError(t, err)
				t.Cleanup(func() { count.Close() })
				require.NoError(t, attach(t, n, "vD", xdpCounter(t, count, 0), false))
				require.NoError(t, attach(t, n, "vQ", xdpCounter(t, count, 1), false))
				require.NoError(t, attach(t, n, "lo", xdpCounter(t, count, 2), true))
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

				frame := sendTestFrame(t, n, "vA", "vB")
				var got [3]uint32
				for i := range got {
					require.NoError(t, count.Lookup(uint32(i), &got[i]))
				}
				t.Logf("%s: seen %v", name, got)
				left := got[watch[target]] > 0
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
	var obs xmitCounter
	runModel(t, cfg, &obs, append([]byte(nil), frame...), nil)
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

// TestKernelDevmapBroadcastInvalid: vB's XDP program broadcasts (no
// flags) into a device map {1: vC, 2: vE, which is down, 3: vG}; vD and vH,
// the peers of vC and vG, count what arrives. Natively dev_map_enqueue_multi
// skips the invalid entry (is_valid_dst) and both get the frame; in generic
// mode dev_map_redirect_multi clones for vC, then fails on vE
// (dev_map_generic_redirect: -ENETDOWN), so vG gets nothing and the skb is
// dropped. The model agrees.
func TestKernelDevmapBroadcastInvalid(t *testing.T) {
	testutil.KernelTests(t)
	for _, generic := range []bool{false, true} {
		n := newNetns(t, "dmi")
		for _, p := range [][2]string{{"vA", "vB"}, {"vC", "vD"}, {"vE", "vF"}, {"vG", "vH"}} {
			require.NoError(t, n.IP("link", "add", p[0], "type", "veth", "peer", "name", p[1]))
			require.NoError(t, n.IP("link", "set", p[1], "up"))
			if p[0] != "vE" {
				require.NoError(t, n.IP("link", "set", p[0], "up"))
			}
		}
		count, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 2})
		require.NoError(t, err)
		t.Cleanup(func() { count.Close() })
		require.NoError(t, attach(t, n, "vD", xdpCounter(t, count, 0), false))
		require.NoError(t, attach(t, n, "vH", xdpCounter(t, count, 1), false))
		dm, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.DevMap, KeySize: 4, ValueSize: 4, MaxEntries: 4})
		require.NoError(t, err)
		t.Cleanup(func() { dm.Close() })
		for key, dev := range map[uint32]string{1: "vC", 2: "vE", 3: "vG"} {
			idx, err := n.Ifindex(dev)
			require.NoError(t, err)
			require.NoError(t, n.Do(func() error { return dm.Put(key, uint32(idx)) }))
		}
		xdp, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.XDP, License: "GPL", Instructions: asm.Instructions{
			asm.LoadMapPtr(asm.R1, dm.FD()),
			asm.Mov.Imm(asm.R2, 0),
			asm.Mov.Imm(asm.R3, int32(netstack.FlagBroadcast)),
			asm.FnRedirectMap.Call(),
			asm.Return(),
		}})
		require.NoError(t, err)
		t.Cleanup(func() { xdp.Close() })
		require.NoError(t, attach(t, n, "vB", xdp, generic))
		frame := sendTestFrame(t, n, "vA", "vB")
		var got [2]uint32
		for i := range got {
			require.NoError(t, count.Lookup(uint32(i), &got[i]))
		}
		t.Logf("generic %v: vD %d, vH %d", generic, got[0], got[1])
		want := [2]uint32{1, 1}
		if generic {
			want = [2]uint32{1, 0}
		}
		require.Equal(t, want, got)
		require.Equal(t, got, modelDevmapBroadcastInvalid(t, generic, frame), "model")
	}
}

// modelDevmapBroadcastInvalid is TestKernelDevmapBroadcastInvalid's setup
// in the model: what vD and vH count.
func modelDevmapBroadcastInvalid(t *testing.T, generic bool, frame []byte) [2]uint32 {
	t.Helper()
	var got [2]uint32
	mode := "native"
	if generic {
		mode = "generic"
	}
	counter := func(slot int) netstack.ProgramFunc {
		return func(c *netstack.Ctx) int {
			if c.Skb.Len() > 100 {
				got[slot]++
			}
			return netstack.XDPDrop
		}
	}
	cfg := &netstack.Config{
		Namespaces: []netstack.NamespaceConfig{{Name: "n"}},
		Devices: []netstack.DeviceConfig{
			{Name: "vA", Kind: netstack.KindVeth, Netns: "n", Peer: "vB", PeerNetns: "n", PeerXDP: mode},
			{Name: "vC", Kind: netstack.KindVeth, Netns: "n", Peer: "vD", PeerNetns: "n", PeerXDP: "native"},
			{Name: "vE", Kind: netstack.KindVeth, Netns: "n", Peer: "vF", PeerNetns: "n", Down: true},
			{Name: "vG", Kind: netstack.KindVeth, Netns: "n", Peer: "vH", PeerNetns: "n", PeerXDP: "native"},
		},
		Devmaps: []netstack.DevmapConfig{{Name: "dm", Entries: []netstack.DevmapEntryConfig{
			{Key: 1, Netns: "n", Dev: "vC"}, {Key: 2, Netns: "n", Dev: "vE"}, {Key: 3, Netns: "n", Dev: "vG"}}}},
		Programs: []netstack.ProgramConfig{
			{Name: "xdp", Hook: carrier.HookXDP, Netns: "n", Dev: "vB", Prog: netstack.ProgramFunc(func(c *netstack.Ctx) int {
				return c.RedirectDevmap(0, 0, netstack.FlagBroadcast)
			})},
			{Name: "xD", Hook: carrier.HookXDP, Netns: "n", Dev: "vD", Prog: counter(0)},
			{Name: "xH", Hook: carrier.HookXDP, Netns: "n", Dev: "vH", Prog: counter(1)},
		},
		Entries: []netstack.EntryConfig{{Kind: netstack.EntryRX, Netns: "n", Dev: "vB"}},
	}
	runModel(t, cfg, netstack.NopObserver{}, append([]byte(nil), frame...), nil)
	return got
}
