package netstack

import (
	"net/netip"
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/skb"
)

func TestConfigCopyIsDeep(t *testing.T) {
	c := rxVethConfig()
	c.Taps = []TapConfig{{Name: "t"}}
	c.Routes = []RouteConfig{{Dev: "eth0"}}
	c.Neighbours = []NeighConfig{{Dev: "eth0"}}
	c.Entries = []EntryConfig{{Dev: "eth0"}}
	n := c.Copy()
	require.True(t, reflect.DeepEqual(c, n))
	n.Devices[0].Addrs[0] = pfx("10.0.0.0/8")
	n.Devices[1].PeerAddrs[0] = pfx("10.0.0.0/8")
	n.Programs[0].Actions[0].Value = 99
	n.Taps[0].Name = "x"
	n.Routes[0].Dev = "x"
	n.Neighbours[0].Dev = "x"
	n.Entries[0].Dev = "x"
	n.Sockets[0].Port = 1
	require.Equal(t, pfx("192.0.2.1/24"), c.Devices[0].Addrs[0])
	require.Equal(t, pfx("10.0.0.2/24"), c.Devices[1].PeerAddrs[0])
	require.Equal(t, uint64(7), c.Programs[0].Actions[0].Value)
	require.Equal(t, "t", c.Taps[0].Name)
	require.Equal(t, "eth0", c.Routes[0].Dev)
	require.Equal(t, "eth0", c.Neighbours[0].Dev)
	require.Equal(t, "eth0", c.Entries[0].Dev)
	require.Equal(t, uint16(9999), c.Sockets[0].Port)
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(c *Config)
		msg  string
	}{
		{"unknown namespace", func(c *Config) { c.Devices[0].Netns = "nope" }, `unknown namespace "nope"`},
		{"unknown kind", func(c *Config) { c.Devices[0].Kind = "wifi" }, `unknown kind "wifi"`},
		{"duplicate device", func(c *Config) { c.Devices = append(c.Devices, c.Devices[0]) }, "duplicate name"},
		{"veth without peer", func(c *Config) { c.Devices[1].Peer = "" }, "veth without peer"},
		{"bad xdp mode", func(c *Config) { c.Devices[0].XDP = "offload" }, `xdp mode "offload"`},
		{"route to unknown device", func(c *Config) { c.Routes = []RouteConfig{{Dev: "x"}} }, `route 0: unknown device "x"`},
		{"socket protocol", func(c *Config) { c.Sockets[0].Proto = "sctp" }, `protocol "sctp"`},
		{"UDP_SEGMENT on tcp", func(c *Config) { c.Sockets[0].Proto, c.Sockets[0].UDPSegment = ProtoTCP, 1000 }, "options of udp sockets"},
		{"UDP_GRO on tcp", func(c *Config) { c.Sockets[0].Proto, c.Sockets[0].UDPGRO = ProtoTCP, true }, "options of udp sockets"},
		{"UDP_SEGMENT range", func(c *Config) { c.Sockets[0].UDPSegment = 65536 }, "UDP_SEGMENT 65536"},
		{"redirect target", func(c *Config) { c.Programs[0].Actions[1].Target = "x" }, `unknown target "x"`},
		{"program device", func(c *Config) { c.Programs[0].Dev = "x" }, `unknown device "x"`},
		{"cb index", func(c *Config) { c.Programs[0].Actions[0] = Action{Kind: ActSetCB, Index: 5} }, "cb index 5"},
		{"entry kind", func(c *Config) { c.Entries = []EntryConfig{{Kind: "sideways"}} }, `kind "sideways"`},
		{"entry socket", func(c *Config) { c.Entries = []EntryConfig{{Kind: EntryTX, Socket: "nope"}} }, `unknown socket "nope"`},
		{"tunnel remote", func(c *Config) { c.Devices = append(c.Devices, DeviceConfig{Name: "vx", Kind: KindVXLAN}) }, "IPv4 remote"},
		{"master", func(c *Config) { c.Devices[0].Master = "eth0" }, "is not a bridge"},
		{"sockops action", func(c *Config) { c.Programs[0].Hook = carrier.HookSockOps }, "(set_mark): not available at hook sockops"},
		{"lsm action", func(c *Config) { c.Programs[0].Hook = carrier.HookLSM }, "(set_mark): not available at hook lsm"},
		{"rp_filter", func(c *Config) { c.Namespaces = append(c.Namespaces, NamespaceConfig{Name: "rp", RPFilter: 3}) },
			`namespace "rp": rp_filter 3 (want 0, 1 or 2)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := rxVethConfig()
			tc.edit(c)
			_, err := New(c, Env{Alloc: skb.NewAllocator(kmem.New(), skb.DefaultProfile())})
			require.ErrorIs(t, err, ErrConfig)
			require.ErrorContains(t, err, tc.msg)
		})
	}
}

// TestTraceOnlyWhenAsked: trace events come only for traced packets and
// name the operations of the path in order.
func TestTraceOnlyWhenAsked(t *testing.T) {
	s, te := newStack(t, rxVethConfig(), "", nil, nil)
	require.NoError(t, s.Inject(&Packet{ID: 1, Frame: rxFrame("10.0.0.2")}))
	require.Empty(t, te.obs.traces)
	require.NoError(t, s.Inject(&Packet{ID: 2, Frame: rxFrame("10.0.0.2"), Trace: true}))
	var ops []Op
	for _, e := range te.obs.traces {
		require.Equal(t, uint64(2), e.PacketID)
		ops = append(ops, e.Op)
	}
	require.Equal(t, []Op{OpDriverRx, OpEthTypeTrans, OpGROReceive, OpNetifReceive, OpTCIngress,
		OpRedirectPeer, OpNetifReceive, OpIPRcv, OpIPLocalDeliver, OpUDPRcv, OpSockQueue}, ops)
	last := te.obs.traces[len(te.obs.traces)-1].State
	require.Equal(t, uint32(7), last.Mark)
	require.Equal(t, int32(2), last.SkbIIF, "the peer's ifindex in the container")
}

// TestRedirectLoopIsBounded: a program redirecting into its own ingress
// forever is cut off (CPU_BACKLOG) and an egress self-redirect by the xmit
// recursion limit.
func TestRedirectLoopIsBounded(t *testing.T) {
	for _, ingress := range []bool{true, false} {
		cfg := &Config{
			Devices: []DeviceConfig{{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("192.0.2.1/24")}}},
			Programs: []ProgramConfig{{Name: "loop", Hook: carrier.HookTCIngress, Dev: "eth0",
				Actions: []Action{{Kind: ActRedirect, Target: "eth0", Ingress: true}}}},
		}
		if !ingress {
			cfg.Programs[0].Hook = carrier.HookTCEgress
			cfg.Programs[0].Actions[0].Ingress = false
			cfg.Programs = append(cfg.Programs, ProgramConfig{Name: "in", Hook: carrier.HookTCIngress, Dev: "eth0",
				Actions: []Action{{Kind: ActRedirect, Target: "eth0"}}})
		}
		s, te := newStack(t, cfg, "", nil, nil)
		require.NoError(t, s.Inject(&Packet{ID: 1, Frame: rxFrame("192.0.2.1")}))
		require.Len(t, te.obs.drops, 1)
		if ingress {
			require.Equal(t, skb.DropCPUBacklog, te.obs.drops[0].Reason)
		}
		require.Zero(t, te.a.Live().Skbs)
	}
}
