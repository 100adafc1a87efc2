package kernel

import (
	"encoding/json"
	"os/exec"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/internal/testutil"
	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/netstack"
	"github.com/skbsim/skbsim/skb"
)

// linkMTU reads dev's MTU in n (ip -j link show).
func linkMTU(t *testing.T, n *Netns, dev string) int {
	t.Helper()
	out, err := exec.Command("ip", "-n", n.Name, "-j", "link", "show", "dev", dev).Output()
	require.NoError(t, err)
	var links []struct {
		MTU int `json:"mtu"`
	}
	require.NoError(t, json.Unmarshal(out, &links))
	require.Len(t, links, 1)
	return links[0].MTU
}

// TestKernelBridgeMTU: a bridge's MTU follows its ports' smallest
// (br_mtu_auto_adjust) until it is set (BROPT_MTU_SET_BY_USER), in 6.18
// and in the model: br0's ports p1 (9000) and p2 (2000) are veths whose
// peers are in the same namespace; br1 was given an MTU before its port
// joined.
func TestKernelBridgeMTU(t *testing.T) {
	testutil.KernelTests(t)
	n := newNetns(t, "brmtu")
	for _, c := range [][]string{
		{"link", "add", "br0", "type", "bridge"},
		{"link", "add", "p1", "mtu", "9000", "type", "veth", "peer", "name", "q1", "mtu", "9000"},
		{"link", "add", "p2", "mtu", "2000", "type", "veth", "peer", "name", "q2", "mtu", "2000"},
		{"link", "set", "p1", "master", "br0"},
		{"link", "set", "p2", "master", "br0"},
		{"link", "add", "br1", "type", "bridge"},
		{"link", "set", "br1", "mtu", "1400"},
		{"link", "add", "p3", "type", "veth", "peer", "name", "q3"},
		{"link", "set", "p3", "master", "br1"},
		{"link", "add", "br2", "type", "bridge"},
	} {
		require.NoError(t, n.IP(c...), "%v", c)
	}
	cfg := &netstack.Config{
		Namespaces: []netstack.NamespaceConfig{{Name: "N"}},
		Devices: []netstack.DeviceConfig{
			{Name: "br0", Kind: netstack.KindBridge, Netns: "N"},
			{Name: "p1", Kind: netstack.KindVeth, Netns: "N", MTU: 9000, Peer: "q1", PeerMTU: 9000, Master: "br0"},
			{Name: "p2", Kind: netstack.KindVeth, Netns: "N", MTU: 2000, Peer: "q2", PeerMTU: 2000, Master: "br0"},
			{Name: "br1", Kind: netstack.KindBridge, Netns: "N", MTU: 1400},
			{Name: "p3", Kind: netstack.KindVeth, Netns: "N", Peer: "q3", Master: "br1"},
			{Name: "br2", Kind: netstack.KindBridge, Netns: "N"},
		},
	}
	a := skb.NewAllocator(kmem.New(), machineProfile())
	s, err := netstack.New(cfg, netstack.Env{Alloc: a, Observer: netstack.NopObserver{}})
	require.NoError(t, err)
	t.Cleanup(func() {
		require.NoError(t, s.Close())
		require.NoError(t, a.CheckLeaks())
	})
	check := func(when string) {
		t.Helper()
		for _, dev := range []string{"br0", "br1", "br2", "p1", "p2", "p3"} {
			require.Equal(t, linkMTU(t, n, dev), s.Netns("N").Device(dev).MTU(), "%s: %s", when, dev)
		}
	}
	check("configured")
	for _, st := range []struct {
		dev string
		mtu int
	}{
		{"p2", 1400}, // br0 follows it down
		{"p2", 9000}, // and up
		{"p3", 1300}, // br1's MTU was set: it stays
		{"br0", 1600},
		{"p1", 1350}, // br0's MTU was set now
		{"p2", 1280},
	} {
		require.NoError(t, n.IP("link", "set", st.dev, "mtu", strconv.Itoa(st.mtu)))
		require.NoError(t, s.SetMTU("N", st.dev, st.mtu))
		check(st.dev + " mtu " + strconv.Itoa(st.mtu))
	}
	require.Equal(t, 1600, linkMTU(t, n, "br0"))
}
