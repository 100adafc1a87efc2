package kernel

import (
	"encoding/json"
	"net"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/internal/testutil"
	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/netstack"
	"github.com/skbsim/skbsim/skb"
)

// kernelFDB is `bridge fdb show br BR` in n: the entries whose master is
// the bridge, but the local ones ("permanent"), as "port mac state".
func kernelFDB(t *testing.T, n *Netns, br string, macs []net.HardwareAddr) []string {
	t.Helper()
	out, err := exec.Command("bridge", "-n", n.Name, "-j", "fdb", "show", "br", br).Output()
	require.NoError(t, err)
	var rows []struct {
		MAC    string `json:"mac"`
		Ifname string `json:"ifname"`
		Master string `json:"master"`
		State  string `json:"state"`
	}
	require.NoError(t, json.Unmarshal(out, &rows))
	var got []string
	for _, r := range rows {
		if r.Master != br || r.State == "permanent" || !slices.ContainsFunc(macs, func(m net.HardwareAddr) bool { return m.String() == r.MAC }) {
			continue
		}
		got = append(got, r.Ifname+" "+r.MAC+" "+r.State)
	}
	slices.Sort(got)
	return got
}

// modelFDB is kernelFDB of the model's bridge.
func modelFDB(s *netstack.Stack, netns, br string, macs []net.HardwareAddr) []string {
	var got []string
	for _, e := range s.FDB(netns, br) {
		m := net.HardwareAddr(e.MAC[:])
		if !slices.ContainsFunc(macs, func(x net.HardwareAddr) bool { return x.String() == m.String() }) {
			continue
		}
		state := ""
		if e.Static {
			state = "static"
		}
		got = append(got, e.Port+" "+m.String()+" "+state)
	}
	slices.Sort(got)
	return got
}

// TestKernelLinkEventsFDB: what a bridge forgets when a port is
// disabled: A and B, behind ports pA and pB of H's br0, send a frame each
// (br0 learns their addresses), then a port goes down, loses its carrier
// (its peer goes down) or the bridge goes down. br_stp_disable_port
// deletes the entries learnt on the port (br_fdb_delete_by_port); a
// static entry stays; coming back up relearns nothing. The kernel's
// database (bridge fdb show) against the model's (Stack.FDB).
func TestKernelLinkEventsFDB(t *testing.T) {
	testutil.KernelTests(t)
	staticMAC := net.HardwareAddr{2, 0, 0, 0, 0x0b, 0x0b}
	type step struct {
		ns, dev string
		op      netstack.EventOp
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"no events", nil},
		{"pA down", []step{{"H", "pA", netstack.LinkDown}}},
		{"pA down and up", []step{{"H", "pA", netstack.LinkDown}, {"H", "pA", netstack.LinkUp}}},
		{"vA down: pA without carrier", []step{{"A", "vA", netstack.LinkDown}}},
		{"br0 down", []step{{"H", "br0", netstack.LinkDown}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b, h := newNetns(t, "lfA"), newNetns(t, "lfB"), newNetns(t, "lfH")
			ns := map[string]*Netns{"A": a, "B": b, "H": h}
			for _, c := range []struct {
				n    *Netns
				args []string
			}{
				{h, []string{"link", "add", "br0", "type", "bridge", "mcast_snooping", "0"}},
				{a, []string{"link", "add", "vA", "type", "veth", "peer", "name", "pA", "netns", h.Name}},
				{b, []string{"link", "add", "vB", "type", "veth", "peer", "name", "pB", "netns", h.Name}},
				{h, []string{"link", "set", "pA", "master", "br0"}},
				{h, []string{"link", "set", "pB", "master", "br0"}},
				{a, []string{"link", "set", "vA", "up"}},
				{b, []string{"link", "set", "vB", "up"}},
				{h, []string{"link", "set", "pA", "up"}},
				{h, []string{"link", "set", "pB", "up"}},
				{h, []string{"link", "set", "br0", "up"}},
			} {
				require.NoError(t, c.n.IP(c.args...), "%v", c.args)
			}
			out, err := exec.Command("bridge", "-n", h.Name, "fdb", "add", staticMAC.String(), "dev", "pA", "master", "static").CombinedOutput()
			require.NoError(t, err, "%s", out)
			waitRunning(t, h, "br0")
			hw := func(n *Netns, dev string) net.HardwareAddr {
				m, err := n.HardwareAddr(dev)
				require.NoError(t, err)
				return m
			}
			macA, macB, macPA, macPB := hw(a, "vA"), hw(b, "vB"), hw(h, "pA"), hw(h, "pB")
			macs := []net.HardwareAddr{macA, macB, staticMAC}
			frameFrom := func(src net.HardwareAddr) []byte {
				f := make([]byte, 60)
				copy(f[0:6], []byte{2, 0, 0, 0, 0x0b, 0x99}) // an unknown destination: flooded
				copy(f[6:12], src)
				f[12], f[13] = 0x88, 0xb5 // IEEE local experimental EtherType
				return f
			}
			fa, fb := frameFrom(macA), frameFrom(macB)
			vA, err := a.Ifindex("vA")
			require.NoError(t, err)
			vB, err := b.Ifindex("vB")
			require.NoError(t, err)
			sendFrame(t, a, vA, net.HardwareAddr(fa[0:6]), fa)
			sendFrame(t, b, vB, net.HardwareAddr(fb[0:6]), fb)
			time.Sleep(20 * time.Millisecond)
			for _, st := range tc.steps {
				require.NoError(t, ns[st.ns].IP("link", "set", st.dev, string(st.op)))
			}
			if len(tc.steps) > 0 && tc.steps[0].dev == "vA" {
				waitNoCarrier(t, h, "pA")
			}
			kern := kernelFDB(t, h, "br0", macs)
			t.Logf("kernel: %v", kern)

			cfg := &netstack.Config{
				Namespaces: []netstack.NamespaceConfig{{Name: "A"}, {Name: "H"}, {Name: "B"}},
				Devices: []netstack.DeviceConfig{
					{Name: "br0", Kind: netstack.KindBridge, Netns: "H"},
					{Name: "pA", Kind: netstack.KindVeth, Netns: "H", Master: "br0", MAC: [6]byte(macPA), Peer: "vA", PeerNetns: "A", PeerMAC: [6]byte(macA)},
					{Name: "pB", Kind: netstack.KindVeth, Netns: "H", Master: "br0", MAC: [6]byte(macPB), Peer: "vB", PeerNetns: "B", PeerMAC: [6]byte(macB)},
				},
				FDB: []netstack.FDBConfig{{Netns: "H", Dev: "pA", MAC: [6]byte(staticMAC)}},
				Entries: []netstack.EntryConfig{{Kind: netstack.EntryPacket, Netns: "A", Dev: "vA"},
					{Kind: netstack.EntryPacket, Netns: "B", Dev: "vB"}},
			}
			al := skb.NewAllocator(kmem.New(), machineProfile())
			s, err := netstack.New(cfg, netstack.Env{Alloc: al, Observer: netstack.NopObserver{}})
			require.NoError(t, err)
			require.NoError(t, s.Inject(&netstack.Packet{ID: 1, Frame: fa, Entry: 0}))
			require.NoError(t, s.Inject(&netstack.Packet{ID: 2, Frame: fb, Entry: 1}))
			s.Flush()
			for _, st := range tc.steps {
				require.NoError(t, s.SetLink(st.ns, st.dev, st.op))
			}
			model := modelFDB(s, "H", "br0", macs)
			require.NoError(t, s.Close())
			require.NoError(t, al.CheckLeaks())
			require.Equal(t, kern, model, "model")
		})
	}
}
