package netstack

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/skb"
)

// hints is what one XDP run's three XDP RX metadata kfunc calls returned.
type hints struct {
	tsRet, hashRet, vlanRet int
	ts                      int64
	hash                    uint32
	rss                     RSSType
	proto, tci              uint16
}

func (h hints) String() string {
	return fmt.Sprintf("ts %d/%d hash %d/%#x/%#x vlan %d/%#x/%#x", h.tsRet, h.ts, h.hashRet, h.hash, uint32(h.rss), h.vlanRet, h.proto, h.tci)
}

// hintsProg calls the three kfuncs, appends what they returned to out and
// passes.
func hintsProg(out *[]hints) Program {
	return ProgramFunc(func(c *Ctx) int {
		var h hints
		h.ts, h.tsRet = c.RxTimestamp()
		h.hash, h.rss, h.hashRet = c.RxHash()
		h.proto, h.tci, h.vlanRet = c.RxVlanTag()
		*out = append(*out, h)
		return XDPPass
	})
}

// TestRxMetaNIC: a device-bound program on a NIC gets the NIC's RSS hash
// with the type its headers give, the hardware timestamp with rx_hwtstamp
// on, and the tag the NIC stripped; without a hash, timestamps or a
// stripped tag, -ENODATA; for a kfunc its driver lacks (XDPMetadataOps),
// -EOPNOTSUPP. A Go program the verifier would not load (not
// device-bound, or rx_vlan_tag before v6.8) gets -EINVAL. With timestamps
// on, the driver's skb carries the time in skb_hwtstamps.
func TestRxMetaNIC(t *testing.T) {
	const ts = 1_700_000_000_123_456_789
	udp4 := rxFrame("192.0.2.1")
	tcp4 := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "192.0.2.1", proto: ipprotoTCP,
		sport: 5000, dport: 80, tcpFlags: tcpACK, payload: 10})
	frag4 := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "192.0.2.1", sport: 1, dport: 9999,
		payload: 64, fragOff: ipMF})
	udp6 := buildFrame6(frame6{dstMAC: macNIC, srcMAC: macB, src: "2001:db8::9", dst: "2001:db8::1", dport: 9999, payload: 8})
	hop6 := buildFrame6(frame6{dstMAC: macNIC, srcMAC: macB, src: "2001:db8::9", dst: "2001:db8::1", dport: 9999, payload: 8, hop: true})
	arp := append(append(append([]byte{}, macNIC[:]...), macB[:]...), 0x08, 0x06)
	arp = append(arp, make([]byte, 28)...)
	for _, tc := range []struct {
		name           string
		frame          []byte
		hash           uint32
		bound, tstamp  bool
		strip          bool
		want           string
		skbTs          int64
		vlanOnOldKernl bool
		ops            string
	}{
		{"udp4", udp4, 0x1234, true, false, false, "ts -61/0 hash 0/0x1234/0x29 vlan -61/0x0/0x0", 0, false, ""},
		{"tcp4, timestamps", tcp4, 0x99, true, true, false, fmt.Sprintf("ts 0/%d hash 0/0x99/0x19 vlan -61/0x0/0x0", int64(ts)), ts, false, ""},
		{"ipv4 fragment", frag4, 7, true, false, false, "ts -61/0 hash 0/0x7/0x1 vlan -61/0x0/0x0", 0, false, ""},
		{"udp6", udp6, 7, true, false, false, "ts -61/0 hash 0/0x7/0x2a vlan -61/0x0/0x0", 0, false, ""},
		{"udp6, hop-by-hop", hop6, 7, true, false, false, "ts -61/0 hash 0/0x7/0x2e vlan -61/0x0/0x0", 0, false, ""},
		{"arp", arp, 7, true, false, false, "ts -61/0 hash 0/0x7/0x0 vlan -61/0x0/0x0", 0, false, ""},
		{"no hash", udp4, 0, true, false, false, "ts -61/0 hash -61/0x0/0x0 vlan -61/0x0/0x0", 0, false, ""},
		{"stripped tag", withTags(udp4, skb.EthP8021Q, 0x2064), 5, true, false, true, "ts -61/0 hash 0/0x5/0x29 vlan 0/0x8100/0x2064", 0, false, ""},
		{"tag in the frame", withTags(udp4, skb.EthP8021Q, 0x2064), 5, true, false, false, "ts -61/0 hash 0/0x5/0x29 vlan -61/0x0/0x0", 0, false, ""},
		{"not device-bound", udp4, 5, false, true, true, "ts -22/0 hash -22/0x0/0x0 vlan -22/0x0/0x0", ts, false, ""},
		{"v6.6: no rx_vlan_tag", withTags(udp4, skb.EthP8021Q, 0x2064), 5, true, false, true, "ts -61/0 hash 0/0x5/0x29 vlan -22/0x0/0x0", 0, true, ""},
		{"driver without rx_vlan_tag", withTags(udp4, skb.EthP8021Q, 0x2064), 5, true, true, true, fmt.Sprintf("ts 0/%d hash 0/0x5/0x29 vlan -95/0x0/0x0", int64(ts)), ts, false, "rx_timestamp,rx_hash"},
		{"driver without ops", udp4, 5, true, true, false, "ts -95/0 hash -95/0x0/0x0 vlan -95/0x0/0x0", ts, false, "none"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []hints
			var skbTs []int64
			var skbL4 []bool
			cfg := rxToSocketConfig()
			cfg.Devices[0].RxHwTstamp = map[bool]string{true: "on", false: ""}[tc.tstamp]
			cfg.Devices[0].RxVLANOffload = map[bool]string{true: "on", false: ""}[tc.strip]
			cfg.Devices[0].XDPMetadataOps = tc.ops
			cfg.Programs = []ProgramConfig{
				{Name: "hints", Hook: carrier.HookXDP, Dev: "eth0", DevBound: tc.bound, Prog: hintsProg(&got)},
				{Name: "tc", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
					skbTs = append(skbTs, c.Skb.Shinfo().HwTstamp)
					skbL4 = append(skbL4, c.Skb.H().L4Hash)
					return TCXNext
				})},
			}
			profile := ""
			if tc.vlanOnOldKernl {
				profile = "v6.6"
			}
			s, te := newStack(t, cfg, profile, nil, nil)
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: tc.frame, Hash: tc.hash, Tstamp: ts}))
			s.Flush()
			require.Len(t, got, 1)
			assert.Equal(t, tc.want, got[0].String())
			if tc.name != "tag in the frame" { // dropped as another host's VLAN before tc
				require.Len(t, skbTs, 1)
				assert.Equal(t, tc.skbTs, skbTs[0], "skb_hwtstamps of the driver's skb")
				if got[0].hashRet == 0 {
					assert.Equal(t, got[0].rss&RSSL4 != 0, skbL4[0], "the driver's skb has l4_hash for an L4 RSS hash only")
				}
			}
			require.Len(t, te.obs.rxMeta, 3)
			h := got[0]
			assert.Equal(t, []RxMetaEvent{
				{PacketID: 1, Kfunc: RxMetaTimestamp, Ret: int32(h.tsRet), Value: uint64(h.ts)},
				{PacketID: 1, Kfunc: RxMetaHash, Ret: int32(h.hashRet), Value: uint64(h.hash)},
				{PacketID: 1, Kfunc: RxMetaVlanTag, Ret: int32(h.vlanRet), Value: uint64(h.proto)<<16 | uint64(h.tci)},
			}, te.obs.rxMeta)
		})
	}
}

// hintsVethConfig: A's packet socket sends over a veth pair to B, whose
// vB runs hints as a device-bound native XDP program; tc ingress on vB
// records the skb's hash and tc egress on vA pushes VLAN tag 100 into
// vlan_tci when push.
func hintsVethConfig(xdp Program, tcIn Program, push bool) *Config {
	cfg := &Config{
		Namespaces: []NamespaceConfig{{Name: "A"}, {Name: "B"}},
		Devices: []DeviceConfig{{Name: "vA", Kind: KindVeth, Netns: "A", MAC: macA, Addrs: []netip.Prefix{pfx("192.0.2.9/24")},
			Peer: "vB", PeerNetns: "B", PeerMAC: macNIC, PeerAddrs: []netip.Prefix{pfx("192.0.2.1/24")}, PeerXDP: "native"}},
		Sockets: []SocketConfig{{Name: "app", Netns: "B", Proto: ProtoUDP, Port: 9999}},
		Programs: []ProgramConfig{
			{Name: "hints", Hook: carrier.HookXDP, Netns: "B", Dev: "vB", DevBound: true, Prog: xdp},
			{Name: "tc", Hook: carrier.HookTCIngress, Netns: "B", Dev: "vB", Prog: tcIn},
		},
		Entries: []EntryConfig{{Kind: EntryPacket, Netns: "A", Dev: "vA"}},
	}
	if push {
		cfg.Programs = append(cfg.Programs, ProgramConfig{Name: "push", Hook: carrier.HookTCEgress, Netns: "A", Dev: "vA",
			Actions: []Action{{Kind: ActVlanPush, Value: 100}}})
	}
	return cfg
}

// TestRxMetaVeth: on a veth the kfuncs read the skb veth_xdp_rcv_skb
// runs on. rx_hash computes the flow hash in software (skb_get_hash), and
// the skb keeps it: tc ingress reads the same hash. Its type is L4_ANY for
// a TCP or UDP hash, NONE otherwise. rx_timestamp returns the skb's
// (zero) hardware timestamp; rx_vlan_tag the tag in vlan_tci, not one in
// the frame.
func TestRxMetaVeth(t *testing.T) {
	icmp := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macA, src: "192.0.2.9", dst: "192.0.2.1", proto: 1, payload: 16})
	for _, tc := range []struct {
		name  string
		frame []byte
		push  bool
		want  string // with the hash left out
		l4    bool
	}{
		{"udp", rxFrame("192.0.2.1"), false, "ts 0/0 hash 0/0x8 vlan -61/0x0/0x0", true},
		{"icmp", icmp, false, "ts 0/0 hash 0/0x0 vlan -61/0x0/0x0", false},
		// The packet socket set the network header past the tag, where
		// the flow dissector reads a VLAN header (skb->protocol is
		// 802.1Q): the hash has no ports.
		{"tag in the frame", withTags(rxFrame("192.0.2.1"), skb.EthP8021Q, 100), false, "ts 0/0 hash 0/0x0 vlan -61/0x0/0x0", false},
		{"tag in vlan_tci", rxFrame("192.0.2.1"), true, "ts 0/0 hash 0/0x8 vlan 0/0x8100/0x64", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []hints
			var tcHash []uint32
			cfg := hintsVethConfig(hintsProg(&got), ProgramFunc(func(c *Ctx) int {
				h := c.Skb.H()
				tcHash = append(tcHash, h.Hash)
				assert.Equal(t, tc.l4, h.L4Hash, "l4_hash")
				assert.True(t, h.SWHash, "sw_hash")
				return TCXNext
			}), tc.push)
			s, _ := newStack(t, cfg, "", nil, nil)
			f := append([]byte{}, tc.frame...)
			copy(f[6:12], macA[:])
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f, Hash: 0x5555}))
			s.Flush()
			require.Len(t, got, 1)
			h := got[0]
			assert.NotZero(t, h.hash)
			assert.Equal(t, tc.want, fmt.Sprintf("ts %d/%d hash %d/%#x vlan %d/%#x/%#x", h.tsRet, h.ts, h.hashRet, uint32(h.rss), h.vlanRet, h.proto, h.tci))
			if tc.name != "tag in the frame" {
				require.Equal(t, []uint32{h.hash}, tcHash, "the hash rx_hash computed stays in the skb")
			}
		})
	}
}

// TestRxMetaVethFrame: a frame a NIC's XDP program redirects into a veth
// reaches the peer's program as an xdp_frame (veth_xdp_rcv_one), where
// veth's kfuncs have no skb: -ENODATA, even for the hash, the hardware
// timestamp and the tag the NIC had.
func TestRxMetaVethFrame(t *testing.T) {
	var nic, veth []hints
	cfg := &Config{
		Namespaces: []NamespaceConfig{{Name: "c"}},
		Devices: []DeviceConfig{
			{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("192.0.2.1/24")}, RxHwTstamp: "on", RxVLANOffload: "on"},
			{Name: "veth0", Kind: KindVeth, MAC: macA, Peer: "ceth0", PeerNetns: "c", PeerMAC: macNIC,
				PeerAddrs: []netip.Prefix{pfx("10.0.0.2/24")}, PeerXDP: "native"},
		},
		Programs: []ProgramConfig{
			{Name: "lb", Hook: carrier.HookXDP, Dev: "eth0", DevBound: true, Prog: ProgramFunc(func(c *Ctx) int {
				hintsProg(&nic).Run(c)
				return c.Redirect(c.Ifindex("veth0"), 0)
			})},
			{Name: "pod", Hook: carrier.HookXDP, Netns: "c", Dev: "ceth0", DevBound: true, Prog: hintsProg(&veth)},
		},
	}
	s, te := newStack(t, cfg, "", nil, nil)
	require.NoError(t, s.Inject(&Packet{ID: 1, Frame: withTags(rxFrame("10.0.0.2"), skb.EthP8021Q, 7), Hash: 0x77, Tstamp: 5}))
	s.Flush()
	require.Len(t, nic, 1)
	require.Len(t, veth, 1)
	assert.Equal(t, "ts 0/5 hash 0/0x77/0x29 vlan 0/0x8100/0x7", nic[0].String())
	assert.Equal(t, "ts -61/0 hash -61/0x0/0x0 vlan -61/0x0/0x0", veth[0].String())
	require.Len(t, te.obs.rxMeta, 6)
	assert.Equal(t, 1, te.obs.rxMeta[5].Prog)
}

// TestDevBoundConfig: where a device-bound program may not go.
func TestDevBoundConfig(t *testing.T) {
	nop := ProgramFunc(func(*Ctx) int { return XDPPass })
	for _, tc := range []struct {
		name    string
		profile string
		edit    func(*Config)
		want    string
	}{
		{"generic mode", "", func(c *Config) { c.Devices[0].XDP = "generic" }, "native mode only"},
		{"veth peer in generic mode", "", func(c *Config) {
			c.Devices = append(c.Devices, DeviceConfig{Name: "v0", Kind: KindVeth, Peer: "v1", PeerXDP: "generic"})
			c.Programs[0].Dev = "v1"
		}, "native mode only"},
		{"bridge", "", func(c *Config) {
			c.Devices = append(c.Devices, DeviceConfig{Name: "br0", Kind: KindBridge})
			c.Programs[0].Dev = "br0"
		}, "native mode only"},
		{"tc program", "", func(c *Config) { c.Programs[0].Hook = carrier.HookTCIngress }, "dev_bound is for an xdp program"},
		{"cpumap program", "", func(c *Config) { c.Programs[0].Dev, c.Programs[0].Cpumap = "", true }, "dev_bound is for an xdp program"},
		{"v6.1", "v6.1", func(*Config) {}, "needs kernel v6.3"},
		{"rx_meta at tc", "", func(c *Config) {
			c.Programs[0].DevBound = false
			c.Programs = append(c.Programs, ProgramConfig{Name: "t", Hook: carrier.HookTCIngress, Dev: "eth0",
				Actions: []Action{{Kind: ActRxMeta, Index: int(RxMetaHash)}}})
		}, "are for xdp programs"},
		{"rx_meta without dev_bound", "", func(c *Config) {
			c.Programs[0].DevBound, c.Programs[0].Prog, c.Programs[0].Actions = false, nil, []Action{{Kind: ActRxMeta}}
		}, "device-bound programs only"},
		{"bad xdp_metadata_ops", "", func(c *Config) { c.Devices[0].XDPMetadataOps = "rx_hash rx_csum" }, `unknown kfunc "rx_csum"`},
		{"xdp_metadata_ops on a veth", "", func(c *Config) {
			c.Devices = append(c.Devices, DeviceConfig{Name: "v0", Kind: KindVeth, Peer: "v1", XDPMetadataOps: "none"})
		}, "xdp_metadata_ops on a veth device"},
		{"rx_vlan_tag on v6.6", "v6.6", func(c *Config) {
			c.Programs[0].Prog, c.Programs[0].Actions = nil, []Action{{Kind: ActRxMeta, Index: int(RxMetaVlanTag)}}
		}, "bpf_xdp_metadata_rx_vlan_tag does not exist in v6.6"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := rxToSocketConfig()
			cfg.Programs = []ProgramConfig{{Name: "x", Hook: carrier.HookXDP, Dev: "eth0", DevBound: true, Prog: nop}}
			tc.edit(cfg)
			err := newStackErr(t, cfg, tc.profile)
			require.ErrorIs(t, err, ErrConfig)
			require.ErrorContains(t, err, tc.want)
		})
	}
	cfg := rxToSocketConfig()
	cfg.Programs = []ProgramConfig{{Name: "x", Hook: carrier.HookXDP, Dev: "eth0", DevBound: true, Prog: nop}}
	require.NoError(t, newStackErr(t, cfg, "v6.6"), "v6.6 has device-bound programs")
}

// TestRxMetaAction: the rx_meta action calls the kfunc its Index names.
func TestRxMetaAction(t *testing.T) {
	cfg := rxToSocketConfig()
	cfg.Programs = []ProgramConfig{{Name: "x", Hook: carrier.HookXDP, Dev: "eth0", DevBound: true,
		Actions: []Action{{Kind: ActRxMeta, Index: int(RxMetaVlanTag)}, {Kind: ActRxMeta, Index: int(RxMetaHash)}, {Kind: ActRxMeta, Index: int(RxMetaTimestamp)}}}}
	s, te := newStack(t, cfg, "", nil, nil)
	require.NoError(t, s.Inject(&Packet{ID: 3, Frame: rxFrame("192.0.2.1"), Hash: 1}))
	s.Flush()
	assert.Equal(t, []RxMetaEvent{{PacketID: 3, Kfunc: RxMetaVlanTag, Ret: errENODATA}, {PacketID: 3, Kfunc: RxMetaHash, Value: 1},
		{PacketID: 3, Kfunc: RxMetaTimestamp, Ret: errENODATA}}, te.obs.rxMeta)
}
