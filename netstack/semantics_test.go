package netstack

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/kernel/observe"
	"github.com/skbsim/skbsim/skb"
)

// TestTCXPassSetsTCIndex: a tcx program returning TCX_PASS ends the chain
// and tcx_action_code sets tc_index = tc_classid (0), so the tc_index it
// wrote is lost; TCX_NEXT keeps it and runs the next program
// (kernel_lab.md §7 gotchas).
func TestTCXPassSetsTCIndex(t *testing.T) {
	for _, tc := range []struct {
		last    ActionKind
		want    uint16
		ranNext bool
	}{{ActPass, 0, false}, {ActCount, 5, true}} {
		ran := false
		var got seen
		cfg := vethTxConfig()
		cfg.Programs = []ProgramConfig{
			{Name: "set", Hook: carrier.HookTCEgress, Netns: "A", Dev: "vA",
				Actions: []Action{{Kind: ActSetTCIndex, Value: 5}, {Kind: tc.last}}},
			{Name: "next", Hook: carrier.HookTCEgress, Netns: "A", Dev: "vA", Prog: ProgramFunc(func(c *Ctx) int {
				ran = true
				return TCXNext
			})},
			{Name: "dst", Hook: carrier.HookTCIngress, Netns: "B", Dev: "vB", Prog: probe(&got)},
		}
		s, _ := newStack(t, cfg, "", nil, nil)
		require.NoError(t, s.Inject(&Packet{ID: 1, Frame: buildFrame(frameOpts{src: "192.0.2.1", dst: "192.0.2.2", sport: 40000, dport: 9999, noEth: true})}))
		require.Equal(t, tc.want, got.tcIndex, tc.last.String())
		require.Equal(t, tc.ranNext, ran)
	}
}

// TestDecapMovesMetadataView: XDP metadata reserved on the underlay NIC is
// still meta_len bytes after vxlan decap, but skb_metadata_end is now the
// inner mac header, so the view no longer shows the bytes XDP wrote.
func TestDecapMovesMetadataView(t *testing.T) {
	var outer, inner seen
	var innerBytes []byte
	cfg := &Config{
		Devices: []DeviceConfig{
			{Name: "eth0", Kind: KindNIC, MAC: macNIC, XDP: "native", Addrs: []netip.Prefix{pfx("192.0.2.2/24")}},
			{Name: "vx0", Kind: KindVXLAN, MAC: macA, VNI: 42, Remote: addr("192.0.2.1"), Addrs: []netip.Prefix{pfx("198.51.100.2/24")}},
		},
		Programs: []ProgramConfig{
			{Name: "xdp", Hook: carrier.HookXDP, Dev: "eth0", Actions: []Action{{Kind: ActAdjustMeta, Value: 8}}},
			{Name: "outer", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: probe(&outer)},
			{Name: "inner", Hook: carrier.HookTCIngress, Dev: "vx0", Prog: ProgramFunc(func(c *Ctx) int {
				probe(&inner).Run(c)
				innerBytes = append([]byte(nil), c.Meta()...)
				return TCXNext
			})},
		},
	}
	s, te := newStack(t, cfg, "", nil, nil)
	in := buildFrame(frameOpts{dstMAC: macA, srcMAC: macB, src: "198.51.100.1", dst: "198.51.100.2", sport: 1, dport: 9999, payload: 16})
	f := make([]byte, ethHlen+ipHlen+udpHlen+vxlanHlen+len(in))
	writeEth(f, macNIC, macB, ethPIP)
	writeIPv4(f[ethHlen:], 0, len(f)-ethHlen, 1, true, 64, ipprotoUDP, addr("192.0.2.1"), addr("192.0.2.2"))
	writeUDP(f[ethHlen+ipHlen:], 50000, 4789, len(f)-ethHlen-ipHlen)
	vx := f[ethHlen+ipHlen+udpHlen:]
	vx[0] = 0x08
	vx[6] = 42
	copy(vx[vxlanHlen:], in)
	require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
	require.Equal(t, 1, outer.count)
	require.Equal(t, 8, outer.metaLen)
	require.True(t, outer.metaValid)
	require.Equal(t, 1, inner.count, "drops: %v", te.obs.dropReasons())
	require.Equal(t, 8, inner.metaLen, "meta_len survives decap")
	require.False(t, inner.metaValid, "skb_metadata_end moved to the inner mac header")
	require.NotEqual(t, []byte{0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7}, innerBytes)
}

// TestSoftwareGSO: a TSO skb from a TCP socket is segmented on a device
// without GSO offload; every segment carries the head's mark and priority
// (__copy_skb_header) and no XDP metadata; the peer receives each.
func TestSoftwareGSO(t *testing.T) {
	var marks []uint32
	cfg := &Config{
		Namespaces: []NamespaceConfig{{Name: "A"}, {Name: "B"}},
		Devices: []DeviceConfig{{Name: "vA", Kind: KindVeth, Netns: "A", MAC: macA, Addrs: []netip.Prefix{pfx("192.0.2.1/24")},
			SoftwareGSO: true, Peer: "vB", PeerNetns: "B", PeerMAC: macB, PeerAddrs: []netip.Prefix{pfx("192.0.2.2/24")}}},
		Sockets: []SocketConfig{
			{Name: "c", Netns: "A", Proto: ProtoTCP, Port: 40000, Mark: 3, Priority: 4},
			{Name: "srv", Netns: "B", Proto: ProtoTCP, Port: 80},
		},
		Entries: []EntryConfig{{Kind: EntryTX, Netns: "A", Socket: "c"}},
		Programs: []ProgramConfig{{Name: "in", Hook: carrier.HookTCIngress, Netns: "B", Dev: "vB", Prog: ProgramFunc(func(c *Ctx) int {
			marks = append(marks, c.Skb.H().Mark<<8|c.Skb.H().Priority)
			return TCXNext
		})}},
	}
	s, te := newStack(t, cfg, "", nil, nil)
	f := buildFrame(frameOpts{src: "192.0.2.1", dst: "192.0.2.2", proto: ipprotoTCP, sport: 40000, dport: 80, seq: 1, tcpFlags: tcpACK | tcpPSH, payload: 4000, noEth: true})
	require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
	// mss = 1500 - 20 - 20 = 1460: 3 segments; the veth crossing scrubbed
	// the mark (xnet) and zeroed the priority.
	require.Equal(t, []uint32{0, 0, 0}, marks)
	require.Empty(t, te.obs.drops)
	require.Len(t, te.obs.delivs, 3)
}

// TestProfilesAgreeOnTransitions: the profile gates reach the transitions.
func TestProfilesAgreeOnTransitions(t *testing.T) {
	// v6.19 changes pskb_expand_head and the data-move helpers only; the
	// measured transitions do not reallocate heads with metadata, so v6.18
	// and v6.19 agree on them, while v5.10 (dev_forward_skb scrubbing mark
	// in one namespace, no redirect_peer scrub) differs.
	tr, err := observe.Lookup("veth-same-netns")
	require.NoError(t, err)
	p619, err := skb.ProfileByName("v6.19")
	require.NoError(t, err)
	a, err := RunTransition(tr, skb.DefaultProfile())
	require.NoError(t, err)
	b, err := RunTransition(tr, p619)
	require.NoError(t, err)
	require.Empty(t, observe.Diff(a, b))
	p510, err := skb.ProfileByName("v5.10")
	require.NoError(t, err)
	c, err := RunTransition(tr, p510)
	require.NoError(t, err)
	// Before v5.13 ____dev_forward_skb scrubbed with xnet = true: mark and
	// the receive timestamp are cleared even within one namespace.
	require.Equal(t, []string{
		"veth-same-netns vY/tc-ingress mark: want 0x2a, got 0x0",
		"veth-same-netns vY/tc-ingress tstamp: want 0x280defe, got 0x0",
	}, observe.Diff(a, c))
}
