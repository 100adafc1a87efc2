package netstack

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
)

// TestBridgeStaticFDB: with a static FDB entry for B's address the first
// frame from A is forwarded to B's port only (br_handle_frame_finish finds
// the entry), not flooded to every port as an unknown unicast is.
func TestBridgeStaticFDB(t *testing.T) {
	macC := [6]byte{0x02, 0, 0, 0, 0, 0xc}
	for _, tc := range []struct {
		name   string
		fdb    []FDBConfig
		egress []string
	}{
		{"unknown destination floods", nil, []string{"pb", "pc"}},
		{"static entry forwards", []FDBConfig{{Dev: "pb", MAC: macB}}, []string{"pb"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var egress []string
			probe := func(name string) Program {
				return ProgramFunc(func(c *Ctx) int { egress = append(egress, name); return TCXNext })
			}
			cfg := &Config{
				Namespaces: []NamespaceConfig{{Name: "A"}, {Name: "B"}, {Name: "C"}},
				Devices: []DeviceConfig{
					{Name: "br0", Kind: KindBridge},
					{Name: "pa", Kind: KindVeth, Master: "br0", Peer: "ea", PeerNetns: "A", PeerMAC: macA, PeerAddrs: []netip.Prefix{pfx("10.1.0.1/24")}},
					{Name: "pb", Kind: KindVeth, Master: "br0", Peer: "eb", PeerNetns: "B", PeerMAC: macB, PeerAddrs: []netip.Prefix{pfx("10.1.0.2/24")}},
					{Name: "pc", Kind: KindVeth, Master: "br0", Peer: "ec", PeerNetns: "C", PeerMAC: macC, PeerAddrs: []netip.Prefix{pfx("10.1.0.3/24")}},
				},
				Neighbours: []NeighConfig{{Netns: "A", Dev: "ea", Addr: addr("10.1.0.2"), MAC: macB}},
				FDB:        tc.fdb,
				Sockets: []SocketConfig{
					{Name: "a", Netns: "A", Proto: ProtoUDP, Port: 1000},
					{Name: "b", Netns: "B", Proto: ProtoUDP, Port: 2000},
				},
				Programs: []ProgramConfig{
					{Name: "pb", Hook: carrier.HookTCEgress, Dev: "pb", Prog: probe("pb")},
					{Name: "pc", Hook: carrier.HookTCEgress, Dev: "pc", Prog: probe("pc")},
				},
				Entries: []EntryConfig{{Kind: EntryTX, Netns: "A", Socket: "a"}},
			}
			s, te := newStack(t, cfg, "", nil, nil)
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: buildFrame(frameOpts{src: "10.1.0.1", dst: "10.1.0.2", sport: 1000, dport: 2000, payload: 10, noEth: true})}))
			require.Equal(t, tc.egress, egress)
			require.Equal(t, []DeliverEvent{{PacketID: 1, Kind: DeliverSocket, Index: 1}}, te.obs.delivs)
		})
	}
}

// TestFDBLearnSticky: br_fdb_update moves a static entry to the port a
// frame from its address arrives on, but not a sticky one.
func TestFDBLearnSticky(t *testing.T) {
	pa, pb := &Device{name: "pa"}, &Device{name: "pb"}
	br := &Device{fdb: []fdbEntry{{mac: macA, port: pa, static: true}, {mac: macB, port: pa, static: true, sticky: true}}}
	br.fdbLearn(macA, pb)
	br.fdbLearn(macB, pb)
	require.Same(t, pb, br.fdbFind(macA), "a static entry roams")
	require.Same(t, pa, br.fdbFind(macB), "a sticky entry stays")
}

func TestFDBConfigErrors(t *testing.T) {
	base := func() *Config {
		return &Config{Devices: []DeviceConfig{
			{Name: "br0", Kind: KindBridge},
			{Name: "pa", Kind: KindVeth, Master: "br0", Peer: "ea"},
			{Name: "d0", Kind: KindDummy},
		}}
	}
	for _, tc := range []struct {
		name string
		fdb  []FDBConfig
	}{
		{"not a port", []FDBConfig{{Dev: "d0", MAC: macA}}},
		{"unknown device", []FDBConfig{{Dev: "nope", MAC: macA}}},
		{"multicast", []FDBConfig{{Dev: "pa", MAC: broadcastMAC}}},
		{"twice", []FDBConfig{{Dev: "pa", MAC: macA}, {Dev: "pa", MAC: macA}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base()
			cfg.FDB = tc.fdb
			_, err := New(cfg, Env{Alloc: newAlloc()})
			require.ErrorIs(t, err, ErrConfig)
		})
	}
}
