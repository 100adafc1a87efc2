package netstack

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/skb"
)

// udpCsumFrame is buildFrame's UDP frame with its checksum set, as a
// sender's udp_send_skb leaves it (udp_gro_receive_segment flushes a
// segment with a zero checksum).
func udpCsumFrame(o frameOpts) []byte {
	f := buildFrame(o)
	setUDP4Csum(f[ethHlen:])
	return f
}

// TestGROUDPForwardingAndFraglist: four UDP segments of one flow reach a
// host NIC in one NAPI poll and are forwarded out of a second device (a NIC
// or a dummy), or delivered to a local socket. Which GRO merges them, and
// how they leave:
//   - without rx-udp-gro-forwarding or rx-gro-list, and no UDP_GRO socket,
//     nothing merges: four skbs everywhere;
//   - rx-udp-gro-forwarding merges the payload (skb_gro_receive): one skb of
//     4 segments, which a NIC transmits whole (USO);
//   - rx-gro-list chains the skbs (skb_gro_receive_list): one skb of 4
//     segments at tc ingress and egress, which a NIC (no
//     NETIF_F_GSO_FRAGLIST) cuts back into the 4 skbs, and a dummy takes
//     whole; a local socket without UDP_GRO gets them back from
//     udp_rcv_segment, each with the head's mark;
//   - a UDP_GRO socket turns udp_encap_needed_key on and is_flist off: the
//     payload is merged for it and it reads one skb;
//   - a zero UDP checksum is never merged.
func TestGROUDPForwardingAndFraglist(t *testing.T) {
	type want struct {
		ingress []uint16 // gso_segs of each skb at eth0's tc ingress
		egress  []uint16 // gso_segs of each skb at the out device's tc egress
		xmits   int      // skbs the out device transmits
		marks   []uint32 // marks the local socket's filter sees
	}
	for _, tc := range []struct {
		name     string
		fwd      bool // rx-udp-gro-forwarding on eth0
		list     bool // rx-gro-list on eth0
		out      string
		local    bool // to the host's socket instead of forwarded
		udpGRO   bool // the local socket has UDP_GRO
		zeroCsum bool
		want     want
	}{
		{name: "no feature", out: KindNIC, want: want{ingress: []uint16{0, 0, 0, 0}, egress: []uint16{0, 0, 0, 0}, xmits: 4}},
		{name: "udp gro forwarding", fwd: true, out: KindNIC, want: want{ingress: []uint16{4}, egress: []uint16{4}, xmits: 1}},
		{name: "gro list, out of a NIC", list: true, out: KindNIC, want: want{ingress: []uint16{4}, egress: []uint16{4}, xmits: 4}},
		{name: "gro list, out of a dummy", list: true, out: KindDummy, want: want{ingress: []uint16{4}, egress: []uint16{4}, xmits: 1}},
		{name: "both: fraglist wins", fwd: true, list: true, out: KindNIC, want: want{ingress: []uint16{4}, egress: []uint16{4}, xmits: 4}},
		{name: "zero checksum", fwd: true, list: true, out: KindNIC, zeroCsum: true,
			want: want{ingress: []uint16{0, 0, 0, 0}, egress: []uint16{0, 0, 0, 0}, xmits: 4}},
		{name: "gro list, local socket", list: true, local: true, want: want{ingress: []uint16{4}, marks: []uint32{1, 1, 1, 1}}},
		{name: "udp gro forwarding, local socket", fwd: true, local: true, want: want{ingress: []uint16{4}, marks: []uint32{1, 1, 1, 1}}},
		{name: "gro list, local UDP_GRO socket", list: true, local: true, udpGRO: true, want: want{ingress: []uint16{4}, marks: []uint32{1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got want
			segs := func(list *[]uint16) ProgramFunc {
				return func(c *Ctx) int {
					sh := c.Skb.Shinfo()
					n := sh.GSOSegs
					if sh.GSOSize == 0 {
						n = 0
					}
					*list = append(*list, n)
					return TCXNext
				}
			}
			outKind := tc.out
			if outKind == "" {
				outKind = KindNIC
			}
			cfg := &Config{
				Namespaces: []NamespaceConfig{{Name: HostNetns, Forwarding: true}},
				Devices: []DeviceConfig{
					{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("192.0.2.1/24")},
						UDPGROForwarding: tc.fwd, GROList: tc.list},
					{Name: "eth1", Kind: outKind, MAC: macA, Addrs: []netip.Prefix{pfx("198.51.100.1/24")}},
				},
				Routes:     []RouteConfig{{Dst: pfx("203.0.113.0/24"), Dev: "eth1", Via: addr("198.51.100.2")}},
				Neighbours: []NeighConfig{{Dev: "eth1", Addr: addr("198.51.100.2"), MAC: macB}},
				Sockets:    []SocketConfig{{Name: "app", Proto: ProtoUDP, Port: 9999, UDPGRO: tc.udpGRO}},
				Programs: []ProgramConfig{
					{Name: "in", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
						c.SetMark(uint32(c.PacketID))
						return segs(&got.ingress)(c)
					})},
					{Name: "out", Hook: carrier.HookTCEgress, Dev: "eth1", Prog: segs(&got.egress)},
					{Name: "f", Hook: carrier.HookSocketFilter, Socket: "app", Prog: ProgramFunc(func(c *Ctx) int {
						got.marks = append(got.marks, c.Skb.H().Mark)
						return FilterAccept
					})},
				},
			}
			s, te := newStack(t, cfg, "", nil, nil)
			dst := "203.0.113.7"
			if tc.local {
				dst = "192.0.2.1"
			}
			for i := range 4 {
				o := frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: dst, sport: 4433, dport: 9999,
					payload: 1000, id: uint16(10 + i)}
				f := udpCsumFrame(o)
				if tc.zeroCsum {
					f = buildFrame(o)
				}
				require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: f, Hash: 0xabc}))
			}
			s.Flush()
			require.Empty(t, te.obs.dropReasons())
			for _, d := range te.obs.delivs {
				if d.Kind == DeliverXmit {
					got.xmits++
				}
			}
			require.Equal(t, tc.want, got)
			require.Zero(t, te.a.Live().Skbs)
		})
	}
}

// TestGROFeaturesNeedProfile: rx-gro-list and rx-udp-gro-forwarding do not
// exist before v5.6 and v5.12, and need GRO on.
func TestGROFeaturesNeedProfile(t *testing.T) {
	for _, tc := range []struct {
		name, profile string
		dev           DeviceConfig
		err           string
	}{
		{"gro list on v5.4", "v5.4", DeviceConfig{GROList: true}, "gro_list (NETIF_F_GRO_FRAGLIST, rx-gro-list) needs kernel v5.6 or later, not v5.4"},
		{"udp gro forwarding on v5.10", "v5.10", DeviceConfig{UDPGROForwarding: true}, "udp_gro_forwarding (NETIF_F_GRO_UDP_FWD, rx-udp-gro-forwarding) needs kernel v5.12 or later, not v5.10"},
		{"gro off", "", DeviceConfig{GROList: true, GRO: "off"}, "gro_list and udp_gro_forwarding need gro on"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.dev
			d.Name, d.Kind, d.MAC = "eth0", KindNIC, macNIC
			p := skb.DefaultProfile()
			if tc.profile != "" {
				var err error
				p, err = skb.ProfileByName(tc.profile)
				require.NoError(t, err)
			}
			a := skb.NewAllocator(kmem.New(), p)
			_, err := New(&Config{Devices: []DeviceConfig{d}}, Env{Alloc: a, Observer: NopObserver{}})
			require.ErrorContains(t, err, tc.err)
			require.ErrorIs(t, err, ErrConfig)
		})
	}
}

// TestGROListSegmentsWithoutCopy: fraglist GRO and skb_segment_list give
// the NIC the skbs that arrived: the forwarded flow allocates exactly what
// it allocates without GRO (no skb_segment copies), while payload GRO with
// software segmentation allocates a new skb per segment.
func TestGROListSegmentsWithoutCopy(t *testing.T) {
	allocs := func(list, fwd, soft bool) uint64 {
		cfg := &Config{
			Namespaces: []NamespaceConfig{{Name: HostNetns, Forwarding: true}},
			Devices: []DeviceConfig{
				{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("192.0.2.1/24")}, GROList: list, UDPGROForwarding: fwd},
				{Name: "eth1", Kind: KindNIC, MAC: macA, Addrs: []netip.Prefix{pfx("198.51.100.1/24")}, SoftwareGSO: soft},
			},
			Routes:     []RouteConfig{{Dst: pfx("203.0.113.0/24"), Dev: "eth1", Via: addr("198.51.100.2")}},
			Neighbours: []NeighConfig{{Dev: "eth1", Addr: addr("198.51.100.2"), MAC: macB}},
		}
		s, te := newStack(t, cfg, "", nil, nil)
		for i := range 4 {
			f := udpCsumFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "203.0.113.7", sport: 4433, dport: 9999,
				payload: 1000, id: uint16(10 + i)})
			require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: f, Hash: 0xabc}))
		}
		s.Flush()
		require.Empty(t, te.obs.dropReasons())
		require.Len(t, te.obs.delivs, 4)
		return te.a.Accountant().Stats().Total.Allocs
	}
	plain := allocs(false, false, false)
	require.Equal(t, plain, allocs(true, false, false), "fraglist GRO and skb_segment_list allocate nothing")
	require.Equal(t, plain, allocs(true, false, true), "a device without any GSO segments a fraglist skb the same way")
	require.Greater(t, allocs(false, true, true), plain, "skb_segment allocates the segments")
}
