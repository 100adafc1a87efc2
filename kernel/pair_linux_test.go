package kernel

import (
	"fmt"
	"net"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// udpPair is a veth pair vA (192.0.2.1/24, in namespace A) and vB
// (192.0.2.2/24, in namespace B), both up, with permanent neighbour
// entries for each other, vA's features txOff switched off and, when mtu
// is not 0, both MTUs set.
func udpPair(t *testing.T, prefix string, mtu int, txOff []string) (a, b *Netns) {
	t.Helper()
	a, b = newNetns(t, prefix+"A"), newNetns(t, prefix+"B")
	require.NoError(t, a.IP("link", "add", "vA", "type", "veth", "peer", "name", "vB", "netns", b.Name))
	if mtu != 0 {
		require.NoError(t, a.IP("link", "set", "vA", "mtu", fmt.Sprint(mtu)))
		require.NoError(t, b.IP("link", "set", "vB", "mtu", fmt.Sprint(mtu)))
	}
	require.NoError(t, a.IP("addr", "add", "192.0.2.1/24", "dev", "vA"))
	require.NoError(t, b.IP("addr", "add", "192.0.2.2/24", "dev", "vB"))
	require.NoError(t, a.IP("link", "set", "vA", "up"))
	require.NoError(t, b.IP("link", "set", "vB", "up"))
	if len(txOff) != 0 {
		require.NoError(t, a.clearFeatures("vA", txOff))
	}
	macA, err := a.HardwareAddr("vA")
	require.NoError(t, err)
	macB, err := b.HardwareAddr("vB")
	require.NoError(t, err)
	require.NoError(t, a.IP("neigh", "add", "192.0.2.2", "lladdr", macB.String(), "dev", "vA", "nud", "permanent"))
	require.NoError(t, b.IP("neigh", "add", "192.0.2.1", "lladdr", macA.String(), "dev", "vB", "nud", "permanent"))
	return a, b
}

// xdpPass is an XDP program returning XDP_PASS, multi-buffer
// (BPF_F_XDP_HAS_FRAGS) when frags is set; closed with the test.
func xdpPass(t *testing.T, frags bool) *ebpf.Program {
	t.Helper()
	flags := uint32(0)
	if frags {
		flags = unix.BPF_F_XDP_HAS_FRAGS
	}
	p, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.XDP, License: "GPL", Flags: flags, Instructions: asm.Instructions{
		asm.Mov.Imm(asm.R0, 2), // XDP_PASS
		asm.Return(),
	}})
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })
	return p
}

// attach attaches prog to dev in n: a tc ingress program (tcx) for a
// SchedCLS program, else an XDP program in generic or driver mode. The
// link goes away with the test.
func attach(t *testing.T, n *Netns, dev string, prog *ebpf.Program, generic bool) error {
	t.Helper()
	return n.Do(func() error {
		iface, err := net.InterfaceByName(dev)
		if err != nil {
			return err
		}
		var l link.Link
		if prog.Type() == ebpf.SchedCLS {
			l, err = link.AttachTCX(link.TCXOptions{Interface: iface.Index, Program: prog, Attach: ebpf.AttachTCXIngress})
		} else {
			mode := link.XDPDriverMode
			if generic {
				mode = link.XDPGenericMode
			}
			l, err = link.AttachXDP(link.XDPOptions{Interface: iface.Index, Program: prog, Flags: mode})
		}
		if err != nil {
			return err
		}
		t.Cleanup(func() { l.Close() })
		return nil
	})
}

// attachEgress attaches the tc program prog to dev's egress in n (tcx); the
// link goes away with the test.
func attachEgress(t *testing.T, n *Netns, dev string, prog *ebpf.Program) error {
	t.Helper()
	return n.Do(func() error {
		iface, err := net.InterfaceByName(dev)
		if err != nil {
			return err
		}
		l, err := link.AttachTCX(link.TCXOptions{Interface: iface.Index, Program: prog, Attach: ebpf.AttachTCXEgress})
		if err != nil {
			return err
		}
		t.Cleanup(func() { l.Close() })
		return nil
	})
}

// recordOut is the one-entry array of struct {u32 a, b, c, d} the
// recording tc programs of these tests write.
func recordOut(t *testing.T) *ebpf.Map {
	t.Helper()
	m, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 16, MaxEntries: 1})
	require.NoError(t, err)
	t.Cleanup(func() { m.Close() })
	return m
}

// readOut polls out[0] until done says its four words are final (or 1 s
// passes) and returns them.
func readOut(t *testing.T, out *ebpf.Map, done func(v [4]uint32) bool) [4]uint32 {
	t.Helper()
	var v [4]uint32
	for range 200 {
		require.NoError(t, out.Lookup(uint32(0), &v))
		if done(v) {
			break
		}
		unix.Nanosleep(&unix.Timespec{Nsec: 5e6}, nil)
	}
	return v
}

// outLookup is the instructions that leave &out[0] in r0, or jump to
// label when the lookup fails (r1-r5 clobbered).
func outLookup(out *ebpf.Map, label string) asm.Instructions {
	return asm.Instructions{
		asm.StoreImm(asm.R10, -4, 0, asm.Word),
		asm.Mov.Reg(asm.R2, asm.R10),
		asm.Add.Imm(asm.R2, -4),
		asm.LoadMapPtr(asm.R1, out.FD()),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, label),
	}
}

// concat joins instruction lists.
func concat(parts ...asm.Instructions) asm.Instructions {
	var all asm.Instructions
	for _, p := range parts {
		all = append(all, p...)
	}
	return all
}
