package netstack

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/skb"
)

// pppoeFrame wraps the IP packet of Ethernet frame f in a PPPoE session
// header (version 1, type 1, session 0x1234) and the PPP protocol proto.
func pppoeFrame(f []byte, proto uint16, pad int) []byte {
	ip := f[ethHlen:]
	out := append([]byte{}, f[:12]...)
	out = binary.BigEndian.AppendUint16(out, ethPPPSes)
	out = append(out, 0x11, 0x00, 0x12, 0x34)
	out = binary.BigEndian.AppendUint16(out, uint16(2+len(ip)))
	out = binary.BigEndian.AppendUint16(out, proto)
	out = append(out, ip...)
	return append(out, make([]byte, pad)...)
}

// bridgeABConfig: bridge br0 in namespace host (configured as host) with
// ports pa and pb, veths to ea in A (10.1.0.1, macA) and eb in B
// (10.1.0.2, macB, a static FDB entry on pb); A's packet socket sends the
// captured frames out of ea; progs attached.
func bridgeABConfig(host NamespaceConfig, progs ...ProgramConfig) *Config {
	return &Config{
		Namespaces: []NamespaceConfig{host, {Name: "A"}, {Name: "B"}},
		Devices: []DeviceConfig{
			{Name: "br0", Kind: KindBridge},
			{Name: "pa", Kind: KindVeth, Master: "br0", Peer: "ea", PeerNetns: "A", PeerMAC: macA, PeerAddrs: []netip.Prefix{pfx("10.1.0.1/24")}},
			{Name: "pb", Kind: KindVeth, Master: "br0", Peer: "eb", PeerNetns: "B", PeerMAC: macB, PeerAddrs: []netip.Prefix{pfx("10.1.0.2/24")}},
		},
		FDB:      []FDBConfig{{Dev: "pb", MAC: macB}},
		Programs: progs,
		Entries:  []EntryConfig{{Kind: EntryPacket, Netns: "A", Dev: "ea"}},
	}
}

// TestBridgePPPoE: a PPPoE session frame crosses a bridge with
// br_netfilter on. With bridge-nf-filter-pppoe-tagged, br_netfilter takes
// an IPv4 one: the 8 bytes of PPPoE and PPP header are pulled, the inner
// IPv4 header validated (the frame trimmed to it: the Ethernet padding
// goes), SKB_EXT_BRIDGE_NF added at PRE_ROUTING and deleted before the
// port transmits, and the header pushed back; a bad inner header checksum
// drops the frame before the extension is added. Without the option, or for another PPP protocol, the
// frame passes untouched.
func TestBridgePPPoE(t *testing.T) {
	ip4 := buildFrame(frameOpts{dstMAC: macB, srcMAC: macA, src: "10.1.0.1", dst: "10.1.0.2", sport: 1000, dport: 2000, payload: 10})
	bad := buildFrame(frameOpts{dstMAC: macB, srcMAC: macA, src: "10.1.0.1", dst: "10.1.0.2", sport: 1000, dport: 2000, payload: 10, badCsum: true})
	for _, tc := range []struct {
		name   string
		filter bool
		frame  []byte
		ext    bool
		atPB   string
	}{
		{"filter off", false, pppoeFrame(ip4, pppIP, 6), false, "proto 0x8864 len 66 ext false"},
		{"filter on", true, pppoeFrame(ip4, pppIP, 6), true, "proto 0x8864 len 60 ext false"},
		{"filter on, bad checksum", true, pppoeFrame(bad, pppIP, 6), false, ""},
		{"filter off, bad checksum", false, pppoeFrame(bad, pppIP, 6), false, "proto 0x8864 len 66 ext false"},
		{"filter on, PPP LCP", true, pppoeFrame(ip4, 0xc021, 6), false, "proto 0x8864 len 66 ext false"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var atPB string
			cfg := bridgeABConfig(NamespaceConfig{Name: HostNetns, BridgeNFCallIPTables: true, BridgeNFFilterPPPoETagged: tc.filter},
				ProgramConfig{Name: "pb", Hook: carrier.HookTCEgress, Dev: "pb", Prog: ProgramFunc(func(c *Ctx) int {
					atPB = fmt.Sprintf("proto %#x len %d ext %v", c.Skb.H().Protocol, c.Skb.Len(), c.Skb.ExtFind(skb.ExtBridgeNF) != nil)
					return TCXNext
				})})
			s, te := newStack(t, cfg, "", nil, nil)
			acct := te.a.Accountant()
			before := acct.Stats()
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: tc.frame}))
			after := acct.Stats()
			d := after.Sub(&before)
			assert.Equal(t, tc.atPB, atPB, "at the port")
			assert.Equal(t, tc.ext, d.Ops[cost.OpExtAdd] != 0, "SKB_EXT_BRIDGE_NF added")
			if tc.atPB == "" {
				assert.Equal(t, []string{"SKB_DROP_REASON_NETFILTER_DROP@br_handle_frame"}, te.obs.dropReasons(), "br_validate_ipv4 drops the frame")
			}
		})
	}
}
