package netstack

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/kmem"
)

// externalPair is tunnelPair with collect_md devices (no remote, no VNI)
// of kind, and in B a veth pB to namespace C (10.0.0.2/24, pC) that B
// forwards to. Programs read the tunnel key at vB ingress (the underlay),
// tB ingress, pB egress and pC ingress; tB's tc ingress redirects to pB
// when redirect is set. set gives tA's tc egress a set_tunnel_key.
func externalPair(kind string, set, redirect bool, keys map[string][]string) *Config {
	cfg := tunnelPair(kind, 0)
	for i := 1; i <= 2; i++ {
		d := &cfg.Devices[i]
		d.External, d.Local, d.Remote = true, netip.Addr{}, netip.Addr{}
	}
	cfg.Namespaces = []NamespaceConfig{{Name: "A"}, {Name: "B", Forwarding: true}, {Name: "C"}}
	cfg.Devices = append(cfg.Devices, DeviceConfig{Name: "pB", Kind: KindVeth, Netns: "B", MAC: [6]byte{2, 0, 0, 0, 0xc, 1},
		Addrs: []netip.Prefix{pfx("10.0.0.1/24")}, Peer: "pC", PeerNetns: "C", PeerMAC: [6]byte{2, 0, 0, 0, 0xc, 2},
		PeerAddrs: []netip.Prefix{pfx("10.0.0.2/24")}})
	cfg.Routes = []RouteConfig{{Netns: "A", Dst: pfx("10.0.0.0/24"), Dev: "tA", Via: addr("10.9.0.2")}}
	cfg.Sockets = append(cfg.Sockets, SocketConfig{Name: "rxC", Netns: "C", Proto: ProtoUDP, Port: 9999})
	read := func(at string) Program {
		if keys == nil {
			return nil
		}
		return ProgramFunc(func(c *Ctx) int {
			k, ret := c.GetTunnelKey(0)
			s := HelperResultName(HelperGetTunnelKey, ret)
			if ret == 0 {
				s = fmt.Sprintf("id %d remote %s local %s", k.ID, k.Remote, k.Local)
			}
			keys[at] = append(keys[at], s)
			if at == "tB" && redirect {
				return c.Redirect(c.Ifindex("pB"), 0)
			}
			return TCXNext
		})
	}
	cfg.Programs = []ProgramConfig{
		{Name: "vB", Hook: carrier.HookTCIngress, Netns: "B", Dev: "vB", Prog: read("vB")},
		{Name: "tB", Hook: carrier.HookTCIngress, Netns: "B", Dev: "tB", Prog: read("tB")},
		{Name: "pB", Hook: carrier.HookTCEgress, Netns: "B", Dev: "pB", Prog: read("pB")},
		{Name: "pC", Hook: carrier.HookTCIngress, Netns: "C", Dev: "pC", Prog: read("pC")},
	}
	if set {
		cfg.Programs = append(cfg.Programs, ProgramConfig{Name: "key", Hook: carrier.HookTCEgress, Netns: "A", Dev: "tA",
			Actions: []Action{{Kind: ActSetTunnelKey, Value: 42, Via: addr("192.0.2.2")}}})
	}
	return cfg
}

// TestExternalTunnel: a collect_md vxlan or geneve device sends only what
// bpf_skb_set_tunnel_key gave transmit info, to that remote and VNI; the
// receiving one attaches the tunnel info (a kmalloc'ed metadata dst) that
// bpf_skb_get_tunnel_key reads at its tc ingress, and after a
// bpf_redirect at the next device's tc egress, but not on the underlay,
// not once B's IP layer routed the packet (ip_route_input_slow drops the
// dst), and not across a veth into another namespace (skb_scrub_packet).
func TestExternalTunnel(t *testing.T) {
	const tb = "id 42 remote 192.0.2.1 local 192.0.2.2"
	for _, kind := range []string{KindVXLAN, KindGeneve} {
		for _, tc := range []struct {
			name     string
			set      bool
			redirect bool
			dst      string
			keys     map[string][]string
			drops    []string
		}{
			{name: "no key", dst: "10.9.0.2", drops: []string{"SKB_DROP_REASON_TUNNEL_TXINFO@iptunnel_xmit"}, keys: map[string][]string{}},
			{name: "to B", set: true, dst: "10.9.0.2", keys: map[string][]string{"vB": {"EINVAL"}, "tB": {tb}}},
			{name: "routed to C", set: true, dst: "10.0.0.2",
				keys: map[string][]string{"vB": {"EINVAL"}, "tB": {tb}, "pB": {"EINVAL"}, "pC": {"EINVAL"}}},
			{name: "redirected to C", set: true, redirect: true, dst: "10.0.0.2",
				// The inner frame still names tB's MAC: C drops it.
				keys:  map[string][]string{"vB": {"EINVAL"}, "tB": {tb}, "pB": {tb}, "pC": {"EINVAL"}},
				drops: []string{"SKB_DROP_REASON_OTHERHOST@ip_rcv_core"}},
		} {
			t.Run(kind+" "+tc.name, func(t *testing.T) {
				keys := map[string][]string{}
				s, te := newStack(t, externalPair(kind, tc.set, tc.redirect, keys), "", nil, nil)
				f := buildFrame(frameOpts{src: "10.9.0.1", dst: tc.dst, sport: 40000, dport: 9999, payload: 32, noEth: true})
				require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
				s.Flush()
				assert.Equal(t, tc.keys, keys)
				assert.Equal(t, tc.drops, te.obs.dropReasons())
				if tc.set && !tc.redirect {
					assert.Equal(t, uint64(1), te.obs.delivered(DeliverSocket))
				}
				// One metadata dst per decapsulated packet, freed after a
				// grace period.
				st := te.a.Accountant().Stats().BySite[kmem.RegisterSite("metadata_dst_alloc")]
				want := uint64(0)
				if tc.set {
					want = 1
				}
				assert.Equal(t, want, st.Allocs)
			})
		}
	}
}

// TestExternalTunnelBridge: with tB and pB ports of a bridge in B (C on
// tA's link), the tunnel key crosses the bridge to pB's tc egress, unless
// br_netfilter's pre-routing (bridge-nf-call-iptables) replaced the dst
// with the bridge's fake rtable; pC never has it. As on 6.18
// (TestKernelExternalTunnel).
func TestExternalTunnelBridge(t *testing.T) {
	const key = "id 42 remote 192.0.2.1 local 192.0.2.2"
	for _, nf := range []bool{false, true} {
		t.Run(fmt.Sprint("br_netfilter ", nf), func(t *testing.T) {
			keys := map[string][]string{}
			cfg := externalPair(KindVXLAN, true, false, keys)
			cfg.Namespaces[1].BridgeNFCallIPTables = nf
			cfg.Devices = append(cfg.Devices, DeviceConfig{Name: "br0", Kind: KindBridge, Netns: "B", MAC: [6]byte{2, 0, 0, 0, 0xb, 0}})
			cfg.Devices[2].Master = "br0"
			cfg.Devices[3].Master, cfg.Devices[3].Addrs = "br0", nil
			cfg.Routes = []RouteConfig{{Netns: "A", Dst: pfx("10.0.0.0/24"), Dev: "tA"}}
			cfg.Neighbours = append(cfg.Neighbours, NeighConfig{Netns: "A", Dev: "tA", Addr: addr("10.0.0.2"), MAC: cfg.Devices[3].PeerMAC})
			s, te := newStack(t, cfg, "", nil, nil)
			f := buildFrame(frameOpts{src: "10.9.0.1", dst: "10.0.0.2", sport: 40000, dport: 9999, payload: 32, noEth: true})
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
			s.Flush()
			atPB := key
			if nf {
				atPB = "EINVAL"
			}
			assert.Equal(t, map[string][]string{"vB": {"EINVAL"}, "tB": {key}, "pB": {atPB}, "pC": {"EINVAL"}}, keys)
			assert.Equal(t, uint64(1), te.obs.delivered(DeliverSocket))
		})
	}
}

// TestExternalTunnelIPv6: over an IPv6 underlay the collect_md devices use
// their IPv6 sockets: a key with an IPv6 remote (BPF_F_TUNINFO_IPV6) is
// sent there, with an outer UDP checksum (IPv6's default), and the
// receiver's info holds the outer IPv6 addresses, which the IPv4 flags
// refuse (-EPROTO).
func TestExternalTunnelIPv6(t *testing.T) {
	var got []string
	cfg := externalPair(KindVXLAN, false, false, nil)
	cfg.Devices[0].Addrs = append(cfg.Devices[0].Addrs, pfx("2001:db8::1/64"))
	cfg.Devices[0].PeerAddrs = append(cfg.Devices[0].PeerAddrs, pfx("2001:db8::2/64"))
	cfg.Neighbours = append(cfg.Neighbours, NeighConfig{Netns: "A", Dev: "vA", Addr: addr("2001:db8::2"), MAC: macB})
	cfg.Programs = []ProgramConfig{
		{Name: "key", Hook: carrier.HookTCEgress, Netns: "A", Dev: "tA", Actions: []Action{{Kind: ActSetTunnelKey, Value: 7, Via: addr("2001:db8::2")}}},
		{Name: "tB", Hook: carrier.HookTCIngress, Netns: "B", Dev: "tB", Prog: ProgramFunc(func(c *Ctx) int {
			k, ret := c.GetTunnelKey(TunInfoIPv6)
			_, ret4 := c.GetTunnelKey(0)
			got = append(got, fmt.Sprintf("%d id %d remote %s local %s; ipv4 flags %d", ret, k.ID, k.Remote, k.Local, ret4))
			return TCXNext
		})},
	}
	s, te := newStack(t, cfg, "", nil, nil)
	require.NoError(t, s.Inject(&Packet{ID: 1, Frame: buildFrame(frameOpts{src: "10.9.0.1", dst: "10.9.0.2", sport: 40000, dport: 9999, payload: 32, noEth: true})}))
	s.Flush()
	assert.Equal(t, []string{fmt.Sprintf("0 id 7 remote 2001:db8::1 local 2001:db8::2; ipv4 flags %d", errEPROTO)}, got)
	assert.Empty(t, te.obs.drops)
	assert.Equal(t, uint64(1), te.obs.delivered(DeliverSocket))
}

// TestTunnelKeyHelper: the helpers' checks, and the one md_dst per CPU
// that every bpf_skb_set_tunnel_key rewrites.
func TestTunnelKeyHelper(t *testing.T) {
	var rets []int
	var got []TunnelKey
	cfg := rxVethConfig()
	cfg.Programs = []ProgramConfig{{Name: "k", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
		_, r := c.GetTunnelKey(0)
		rets = append(rets, r)
		rets = append(rets, c.SetTunnelKey(TunnelKey{ID: 1, Remote: addr("192.0.2.7"), Label: 5}, 0))
		rets = append(rets, c.SetTunnelKey(TunnelKey{ID: 1, Remote: addr("192.0.2.7")}, 1<<5))
		rets = append(rets, c.SetTunnelKey(TunnelKey{ID: 7, Remote: addr("192.0.2.7"), TTL: 3}, TunDontFragment))
		k, r := c.GetTunnelKey(0)
		rets, got = append(rets, r), append(got, k)
		_, r = c.GetTunnelKey(TunInfoIPv6)
		rets = append(rets, r)
		_, r = c.GetTunnelKey(1 << 3)
		rets = append(rets, r)
		return TCXDrop
	})}}
	s, _ := newStack(t, cfg, "", nil, nil)
	require.NoError(t, s.Inject(&Packet{ID: 1, Frame: rxFrame("10.0.0.2")}))
	assert.Equal(t, []int{errEINVAL, errEINVAL, errEINVAL, 0, 0, errEPROTO, errEINVAL}, rets)
	assert.Equal(t, []TunnelKey{{ID: 7, Remote: addr("0.0.0.0"), Local: addr("192.0.2.7"), TTL: 3}}, got,
		"get reads the info's source as remote: the key set for transmit comes back swapped")
	assert.True(t, s.mdDst.Info.DF)
	assert.Equal(t, 1, s.mdDst.Refs(), "the dropped skb released its reference")
}

// TestExternalConfig: external devices have no remote, local or VNI, are
// vxlan or geneve, and cannot share a port with a device of other flags.
func TestExternalConfig(t *testing.T) {
	for _, f := range []func(c *Config){
		func(c *Config) { c.Devices[1].Remote = addr("192.0.2.2") },
		func(c *Config) { c.Devices[1].VNI = 5 },
		func(c *Config) { c.Devices[1].Kind = KindGRETap },
		func(c *Config) {
			c.Devices = append(c.Devices, DeviceConfig{Name: "vx9", Kind: KindVXLAN, Netns: "A", VNI: 9, Remote: addr("192.0.2.2")})
		},
		func(c *Config) {
			c.Programs = []ProgramConfig{{Name: "x", Hook: carrier.HookXDP, Netns: "A", Dev: "vA", Actions: []Action{{Kind: ActGetTunnelKey}}}}
		},
		func(c *Config) {
			c.Programs = []ProgramConfig{{Name: "x", Hook: carrier.HookTCEgress, Netns: "A", Dev: "tA", Actions: []Action{{Kind: ActSetTunnelKey, Value: 1}}}}
		},
	} {
		cfg := externalPair(KindVXLAN, false, false, map[string][]string{})
		f(cfg)
		require.ErrorIs(t, newStackErr(t, cfg, ""), ErrConfig)
	}
}
