package netstack

import (
	"net/netip"

	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/skb"
)

func nicConfig() *Config {
	return &Config{
		Devices: []DeviceConfig{{Name: "eth0", Kind: KindNIC, MAC: macA, Addrs: []netip.Prefix{pfx("192.0.2.1/24")}}},
		Sockets: []SocketConfig{{Name: "app", Proto: ProtoUDP, Port: 9999}},
	}
}

func TestRxToSocket(t *testing.T) {
	cfg := nicConfig()
	var seenMark uint32
	cfg.Programs = []ProgramConfig{
		{Name: "tc", Hook: carrier.HookTCIngress, Dev: "eth0", Actions: []Action{{Kind: ActSetMark, Value: 7}}},
		{Name: "filter", Hook: carrier.HookSocketFilter, Socket: "app", Prog: ProgramFunc(func(c *Ctx) int {
			seenMark = c.Skb.H().Mark
			return FilterAccept
		})},
	}
	s, te := newStack(t, cfg, "", nil, nil)
	f := buildFrame(frameOpts{dstMAC: macA, srcMAC: macB, src: "192.0.2.2", dst: "192.0.2.1", sport: 1000, dport: 9999, payload: 16})
	require.NoError(t, s.Inject(&Packet{ID: 3, Frame: f}))
	require.Empty(t, te.obs.drops)
	require.Equal(t, uint32(7), seenMark)
	require.Len(t, te.obs.runs, 2)
	require.Equal(t, []DeliverEvent{{PacketID: 3, Kind: DeliverSocket, Index: 0}}, te.obs.delivs)
	require.Zero(t, te.a.Live().Skbs, "the application read the packet")

	// No socket on another port: NO_SOCKET at __udp4_lib_rcv.
	f = buildFrame(frameOpts{dstMAC: macA, srcMAC: macB, src: "192.0.2.2", dst: "192.0.2.1", sport: 1000, dport: 1, payload: 16})
	require.NoError(t, s.Inject(&Packet{ID: 4, Frame: f}))
	require.Equal(t, []string{"SKB_DROP_REASON_NO_SOCKET@__udp4_lib_rcv"}, te.obs.dropReasons())
	require.Equal(t, skb.DropNoSocket, te.obs.drops[0].Reason)
}
