package netstack

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/skb"
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
		// br_flood walks br->port_list, newest port first (br_add_if's
		// list_add_rcu): pc gets a clone first (deliver_clone), then pb,
		// the last port it visits, the frame itself.
		{"unknown destination floods", nil, []string{"pc", "pb"}},
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
	br := &Device{}
	br.fdbAdd(fdbEntry{mac: macA, port: pa, static: true})
	br.fdbAdd(fdbEntry{mac: macB, port: pa, static: true, sticky: true})
	br.fdbLearn(macA, 0, pb)
	br.fdbLearn(macB, 0, pb)
	require.Same(t, pb, br.fdbFind(macA, 0), "a static entry roams")
	require.Same(t, pa, br.fdbFind(macB, 0), "a sticky entry stays")
}

// TestFDBMatchesList learns random addresses (unicast and multicast,
// beyond maxFDB) on random ports and compares the bridge's answers with a
// plain list searched front to back.
func TestFDBMatchesList(t *testing.T) {
	setRapidSeed(t)
	ports := []*Device{{name: "p0"}, {name: "p1"}, {name: "p2"}}
	rapid.Check(t, func(rt *rapid.T) {
		br := &Device{}
		var ref []fdbEntry
		find := func(mac [6]byte) *Device {
			for _, e := range ref {
				if e.mac == mac {
					return e.port
				}
			}
			return nil
		}
		// Addresses differing in a few bits of the first and last bytes:
		// collisions in the table's home slots, multicast ones, and more
		// than maxFDB distinct ones.
		macs := rapid.Custom(func(rt *rapid.T) [6]byte {
			return [6]byte{rapid.Byte().Draw(rt, "b0") & 0x03, 0, 0, 0x5e, 0, rapid.Byte().Draw(rt, "b5")}
		})
		for range rapid.IntRange(1, 1500).Draw(rt, "ops") {
			mac := macs.Draw(rt, "mac")
			if rapid.Bool().Draw(rt, "learn") {
				p := ports[rapid.IntRange(0, len(ports)-1).Draw(rt, "port")]
				br.fdbLearn(mac, 0, p)
				switch {
				case isMulticastMAC(mac[:]):
				case find(mac) != nil:
					for i := range ref {
						if ref[i].mac == mac {
							ref[i].port = p
						}
					}
				case len(ref) < maxFDB:
					ref = append(ref, fdbEntry{mac: mac, port: p})
				}
			}
			require.Same(rt, find(mac), br.fdbFind(mac, 0), "%x", mac)
		}
		require.Equal(rt, ref, br.fdb)
	})
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

// TestBridgeNetfilter: with bridge-nf-call-iptables on, br_nf_pre_routing
// validates a bridged IPv4 frame's header (a bad checksum is dropped,
// NETFILTER_DROP, where the plain bridge forwards it), clears IPCB (the
// first 24 bytes of skb->cb, where the bridge alone clears the 16 of
// struct br_input_skb_cb) and adds an SKB_EXT_BRIDGE_NF extension, which
// each flooded copy unshares (br_nf_forward_ip: skb_ext_add COWs the one a
// clone shares) and br_nf_dev_queue_xmit deletes before the port's xmit;
// a frame delivered up the bridge keeps it.
func TestBridgeNetfilter(t *testing.T) {
	macBr := [6]byte{0x02, 0, 0, 0, 0, 0xbb}
	macC := [6]byte{0x02, 0, 0, 0, 0, 0xc}
	for _, tc := range []struct {
		name    string
		nf      bool
		dstMAC  [6]byte
		dst     string
		badCsum bool
		egress  []string // port: cb[] words cleared, extension present
		brIn    string   // at br0's tc ingress
		drops   []string
		extAdd  uint64 // new extension chunks (an existing one is re-activated)
		extCOW  uint64
	}{
		// C drops B's frame (OTHERHOST); B's IP layer drops the bad one.
		{"flood, off", false, macB, "10.1.0.2", false, []string{"pc cb 01 ext false", "pb cb 01 ext false"}, "",
			[]string{"SKB_DROP_REASON_OTHERHOST@ip_rcv_core"}, 0, 0},
		{"flood, on", true, macB, "10.1.0.2", false, []string{"pc cb 0123 ext false", "pb cb 0123 ext false"}, "",
			[]string{"SKB_DROP_REASON_OTHERHOST@ip_rcv_core"}, 1, 1},
		{"bad checksum, off", false, macB, "10.1.0.2", true, []string{"pc cb 01 ext false", "pb cb 01 ext false"}, "",
			[]string{"SKB_DROP_REASON_OTHERHOST@ip_rcv_core", "SKB_DROP_REASON_IP_CSUM@ip_rcv_core"}, 0, 0},
		{"bad checksum, on", true, macB, "10.1.0.2", true, nil, "",
			[]string{"SKB_DROP_REASON_NETFILTER_DROP@br_handle_frame"}, 0, 0},
		{"local, on", true, macBr, "10.1.0.9", false, nil, "cb 0123 ext true", nil, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var egress []string
			var brIn string
			// The __sk_buff cb[] words the bridge cleared (each was
			// filled at ea's egress).
			look := func(c *Ctx) string {
				zero := ""
				for i := range bpfCBWords {
					if c.CB(i) == 0 {
						zero += fmt.Sprint(i)
					}
				}
				return fmt.Sprintf("cb %s ext %v", zero, c.Skb.ExtFind(skb.ExtBridgeNF) != nil)
			}
			probe := func(name string) Program {
				return ProgramFunc(func(c *Ctx) int { egress = append(egress, name+" "+look(c)); return TCXNext })
			}
			// cb filled at ea's egress, so zeroes come from the bridge.
			fill := ProgramFunc(func(c *Ctx) int {
				for i := range c.Skb.H().CB {
					c.Skb.H().CB[i] = 0xcc
				}
				return TCXNext
			})
			cfg := &Config{
				Namespaces: []NamespaceConfig{{Name: HostNetns, BridgeNFCallIPTables: tc.nf}, {Name: "A"}, {Name: "B"}, {Name: "C"}},
				Devices: []DeviceConfig{
					{Name: "br0", Kind: KindBridge, MAC: macBr, Addrs: []netip.Prefix{pfx("10.1.0.9/24")}},
					{Name: "pa", Kind: KindVeth, Master: "br0", Peer: "ea", PeerNetns: "A", PeerMAC: macA, PeerAddrs: []netip.Prefix{pfx("10.1.0.1/24")}},
					{Name: "pb", Kind: KindVeth, Master: "br0", Peer: "eb", PeerNetns: "B", PeerMAC: macB, PeerAddrs: []netip.Prefix{pfx("10.1.0.2/24")}},
					{Name: "pc", Kind: KindVeth, Master: "br0", Peer: "ec", PeerNetns: "C", PeerMAC: macC, PeerAddrs: []netip.Prefix{pfx("10.1.0.3/24")}},
				},
				Sockets: []SocketConfig{
					{Name: "b", Netns: "B", Proto: ProtoUDP, Port: 2000},
					{Name: "h", Proto: ProtoUDP, Port: 2000},
				},
				Programs: []ProgramConfig{
					{Name: "fill", Hook: carrier.HookTCEgress, Netns: "A", Dev: "ea", Prog: fill},
					{Name: "pb", Hook: carrier.HookTCEgress, Dev: "pb", Prog: probe("pb")},
					{Name: "pc", Hook: carrier.HookTCEgress, Dev: "pc", Prog: probe("pc")},
					{Name: "br", Hook: carrier.HookTCIngress, Dev: "br0", Prog: ProgramFunc(func(c *Ctx) int { brIn = look(c); return TCXNext })},
				},
				Entries: []EntryConfig{{Kind: EntryPacket, Netns: "A", Dev: "ea"}},
			}
			s, te := newStack(t, cfg, "", nil, nil)
			acct := te.a.Accountant()
			before := acct.Stats()
			f := buildFrame(frameOpts{dstMAC: tc.dstMAC, srcMAC: macA, src: "10.1.0.1", dst: tc.dst, sport: 1000, dport: 2000,
				payload: 10, badCsum: tc.badCsum})
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
			after := acct.Stats()
			d := after.Sub(&before)
			require.Equal(t, tc.egress, egress)
			require.Equal(t, tc.brIn, brIn)
			require.Equal(t, tc.drops, te.obs.dropReasons())
			require.Equal(t, tc.extAdd, d.Ops[cost.OpExtAdd], "skb_ext_add calls")
			require.Equal(t, tc.extCOW, d.Ops[cost.OpExtCOW], "skb_ext_cow calls")
		})
	}
}

// TestBridgeNoLearning: a port with learning off (BR_LEARNING clear) adds
// no FDB entry for the addresses that come in by it; a port flag on a
// device that is no bridge port is a configuration error.
func TestBridgeNoLearning(t *testing.T) {
	for _, learn := range []bool{true, false} {
		cfg := &Config{
			Namespaces: []NamespaceConfig{{Name: "A"}, {Name: "B"}},
			Devices: []DeviceConfig{
				{Name: "br0", Kind: KindBridge},
				{Name: "pa", Kind: KindVeth, Master: "br0", NoLearning: !learn, Peer: "ea", PeerNetns: "A", PeerMAC: macA, PeerAddrs: []netip.Prefix{pfx("10.1.0.1/24")}},
				{Name: "pb", Kind: KindVeth, Master: "br0", Peer: "eb", PeerNetns: "B", PeerMAC: macB, PeerAddrs: []netip.Prefix{pfx("10.1.0.2/24")}},
			},
			Neighbours: []NeighConfig{{Netns: "A", Dev: "ea", Addr: addr("10.1.0.2"), MAC: macB}},
			Sockets:    []SocketConfig{{Name: "a", Netns: "A", Proto: ProtoUDP, Port: 1000}, {Name: "b", Netns: "B", Proto: ProtoUDP, Port: 2000}},
			Entries:    []EntryConfig{{Kind: EntryTX, Netns: "A", Socket: "a"}},
		}
		s, te := newStack(t, cfg, "", nil, nil)
		require.NoError(t, s.Inject(&Packet{ID: 1, Frame: buildFrame(frameOpts{src: "10.1.0.1", dst: "10.1.0.2", sport: 1000, dport: 2000, payload: 10, noEth: true})}))
		require.Equal(t, uint64(1), te.obs.delivered(DeliverSocket))
		br := s.Netns(HostNetns).dev("br0")
		if learn {
			require.NotNil(t, br.fdbFind(macA, 0), "learned")
		} else {
			require.Nil(t, br.fdbFind(macA, 0), "learning off")
		}
	}
	cfg := &Config{Devices: []DeviceConfig{{Name: "eth0", Kind: KindNIC, Hairpin: true}}}
	require.ErrorIs(t, newStackErr(t, cfg, ""), ErrConfig)
}

// TestBridgeMcastFlood: a port with multicast flooding off gets no
// multicast frame a bridge port received, but still gets the bridge
// device's own (br_flood: skb->dev == br->dev).
func TestBridgeMcastFlood(t *testing.T) {
	var egress []string
	probe := func(name string) Program {
		return ProgramFunc(func(c *Ctx) int { egress = append(egress, name); return TCXNext })
	}
	cfg := &Config{
		Namespaces: []NamespaceConfig{{Name: "A"}, {Name: "B"}},
		Devices: []DeviceConfig{
			{Name: "br0", Kind: KindBridge, Addrs: []netip.Prefix{pfx("10.1.0.254/24")}},
			{Name: "pa", Kind: KindVeth, Master: "br0", Peer: "ea", PeerNetns: "A", PeerMAC: macA, PeerAddrs: []netip.Prefix{pfx("10.1.0.1/24")}},
			{Name: "pb", Kind: KindVeth, Master: "br0", NoMcastFlood: true, Peer: "eb", PeerNetns: "B", PeerMAC: macB, PeerAddrs: []netip.Prefix{pfx("10.1.0.2/24")}},
		},
		Routes: []RouteConfig{{Netns: "A", Dst: pfx("224.0.0.0/4"), Dev: "ea"}, {Dst: pfx("224.0.0.0/4"), Dev: "br0"}},
		Sockets: []SocketConfig{{Name: "a", Netns: "A", Proto: ProtoUDP, Port: 1000},
			{Name: "h", Proto: ProtoUDP, Port: 1001}},
		Programs: []ProgramConfig{{Name: "pb", Hook: carrier.HookTCEgress, Dev: "pb", Prog: probe("pb")},
			{Name: "pa", Hook: carrier.HookTCEgress, Dev: "pa", Prog: probe("pa")}},
		Entries: []EntryConfig{{Kind: EntryTX, Netns: "A", Socket: "a"}, {Kind: EntryTX, Socket: "h"}},
	}
	s, _ := newStack(t, cfg, "", nil, nil)
	require.NoError(t, s.Inject(&Packet{ID: 1, Frame: buildFrame(frameOpts{src: "10.1.0.1", dst: "239.1.2.3", sport: 1000, dport: 2000, payload: 10, noEth: true})}))
	require.Empty(t, egress, "received by pa: not flooded to pb")
	require.NoError(t, s.Inject(&Packet{ID: 2, Entry: 1, Frame: buildFrame(frameOpts{src: "10.1.0.254", dst: "239.1.2.3", sport: 1001, dport: 2000, payload: 10, noEth: true})}))
	require.ElementsMatch(t, []string{"pa", "pb"}, egress, "the bridge device's own frame floods everywhere")
}
