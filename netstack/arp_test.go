package netstack

import (
	"encoding/binary"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
)

// arpFrame is an ARP frame from macB (192.0.2.9 unless sip) to dst.
func arpFrame(dst [6]byte, hrd uint16, hln uint8, op uint16, sip, tip string) []byte {
	f := make([]byte, ethHlen+arpHlen)
	writeEth(f, dst, macB, ethPARP)
	a := f[ethHlen:]
	binary.BigEndian.PutUint16(a[0:], hrd)
	binary.BigEndian.PutUint16(a[2:], ethPIP)
	a[4], a[5] = hln, 4
	binary.BigEndian.PutUint16(a[6:], op)
	copy(a[8:14], macB[:])
	s4, t4 := addr(sip).As4(), addr(tip).As4()
	copy(a[14:18], s4[:])
	copy(a[24:28], t4[:])
	return f
}

// TestARP: arp_rcv's fate for ARP frames and the replies the host sends
// with Options.Replies (TestKernelARP measures these and more on 6.18).
func TestARP(t *testing.T) {
	for _, tc := range []struct {
		name    string
		frame   []byte
		drop    string
		replies int
	}{
		{"request for the host", arpFrame(broadcastMAC, 1, 6, 1, "192.0.2.9", "192.0.2.1"), "", 1},
		{"request for another address", arpFrame(broadcastMAC, 1, 6, 1, "192.0.2.9", "192.0.2.77"), "", 0},
		{"duplicate address probe", arpFrame(broadcastMAC, 1, 6, 1, "0.0.0.0", "192.0.2.1"), "", 1},
		{"request from the host's address", arpFrame(broadcastMAC, 1, 6, 1, "192.0.2.1", "192.0.2.1"), "", 0},
		{"request for a multicast address", arpFrame(broadcastMAC, 1, 6, 1, "192.0.2.9", "224.0.0.1"), "SKB_DROP_REASON_NOT_SPECIFIED@arp_rcv", 0},
		{"operation 3", arpFrame(broadcastMAC, 1, 6, 3, "192.0.2.9", "192.0.2.1"), "SKB_DROP_REASON_NOT_SPECIFIED@arp_rcv", 0},
		{"hardware address length 8", arpFrame(broadcastMAC, 1, 8, 1, "192.0.2.9", "192.0.2.1"), "SKB_DROP_REASON_NOT_SPECIFIED@arp_rcv", 0},
		{"20 bytes", arpFrame(broadcastMAC, 1, 6, 1, "192.0.2.9", "192.0.2.1")[:ethHlen+20], "SKB_DROP_REASON_PKT_TOO_SMALL@arp_rcv", 0},
		{"to another MAC", arpFrame(macA, 1, 6, 1, "192.0.2.9", "192.0.2.1"), "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, replies := range []bool{false, true} {
				var sent [][]byte
				cfg := fibTopology(true, ProgramConfig{Name: "eg", Hook: carrier.HookTCEgress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
					sent = append(sent, append([]byte(nil), c.Skb.Data()...))
					return TCXNext
				})})
				cfg.Options.Replies = replies
				s, te := newStack(t, cfg, "", nil, nil)
				require.NoError(t, s.Inject(&Packet{ID: 1, Frame: tc.frame}))
				var got string
				if r := te.obs.dropReasons(); len(r) != 0 {
					got = r[0]
				}
				assert.Equal(t, tc.drop, got)
				if !replies {
					assert.Empty(t, sent)
					continue
				}
				require.Len(t, sent, tc.replies)
				for _, r := range sent {
					want := arpFrame(macB, 1, 6, arpopReply, "192.0.2.1", "192.0.2.9")
					copy(want[6:12], macNIC[:])
					a := want[ethHlen:]
					copy(a[8:14], macNIC[:])
					copy(a[18:24], macB[:])
					if tc.name == "duplicate address probe" {
						copy(a[24:28], []byte{0, 0, 0, 0})
					}
					assert.Equal(t, want, r)
				}
			}
		})
	}
}

// TestARPSysctls: the replies arp_ignore and arp_filter let through on
// fibTopology's eth0 (192.0.2.1/24; veth0 has 10.1.0.1; 198.51.100.0/24
// lies behind veth0, 203.0.113.0/24 is AnyIP; TestKernelARPSysctls
// measures the same on 6.18).
func TestARPSysctls(t *testing.T) {
	for _, tc := range []struct {
		name     string
		ignore   int
		filter   bool
		sip, tip string
		replies  int
	}{
		{"arp_ignore 0, veth0's address", 0, false, "192.0.2.9", "10.1.0.1", 1},
		{"arp_ignore 1, eth0's address", 1, false, "192.0.2.9", "192.0.2.1", 1},
		{"arp_ignore 1, veth0's address", 1, false, "192.0.2.9", "10.1.0.1", 0},
		{"arp_ignore 2, a sender in the subnet", 2, false, "192.0.2.9", "192.0.2.1", 1},
		{"arp_ignore 2, a sender outside the subnet", 2, false, "198.51.100.1", "192.0.2.1", 0},
		{"arp_ignore 2, veth0's address", 2, false, "10.1.0.9", "10.1.0.1", 0},
		{"arp_ignore 2, probe", 2, false, "0.0.0.0", "192.0.2.1", 1},
		{"arp_ignore 3, veth0's address", 3, false, "192.0.2.9", "10.1.0.1", 1},
		{"arp_ignore 3, AnyIP", 3, false, "192.0.2.9", "203.0.113.5", 0},
		{"arp_ignore 0, AnyIP", 0, false, "192.0.2.9", "203.0.113.5", 1},
		{"arp_ignore 6", 6, false, "192.0.2.9", "10.1.0.1", 1},
		{"arp_ignore 8", 8, false, "192.0.2.9", "192.0.2.1", 0},
		{"arp_ignore 8, probe", 8, false, "0.0.0.0", "192.0.2.1", 0},
		{"arp_filter, veth0's address", 0, true, "192.0.2.9", "10.1.0.1", 1},
		{"arp_filter, a sender behind veth0", 0, true, "198.51.100.1", "192.0.2.1", 0},
		{"arp_filter off, a sender behind veth0", 0, false, "198.51.100.1", "192.0.2.1", 1},
		{"arp_filter, probe", 0, true, "0.0.0.0", "192.0.2.1", 1},
		{"arp_filter, an unrouted sender", 0, true, "203.0.114.1", "192.0.2.1", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			replies := 0
			cfg := fibTopology(true, ProgramConfig{Name: "eg", Hook: carrier.HookTCEgress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
				if binary.BigEndian.Uint16(c.Skb.Data()[12:14]) == ethPARP {
					replies++
				}
				return TCXNext
			})})
			cfg.Namespaces[0].ARPIgnore, cfg.Namespaces[0].ARPFilter = tc.ignore, tc.filter
			cfg.Routes = append(cfg.Routes, RouteConfig{Dst: pfx("198.51.100.0/24"), Dev: "veth0", Via: addr("10.1.0.2")},
				RouteConfig{Dst: pfx("203.0.113.0/24"), Dev: "lo", Type: RouteLocal})
			cfg.Options.Replies = true
			s, _ := newStack(t, cfg, "", nil, nil)
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: arpFrame(broadcastMAC, 1, 6, 1, tc.sip, tc.tip)}))
			s.Flush()
			require.Equal(t, tc.replies, replies)
		})
	}
	require.ErrorIs(t, newStackErr(t, &Config{Namespaces: []NamespaceConfig{{Name: HostNetns, ARPIgnore: 9}}}, ""), ErrConfig)
}

// TestProxyARP: eth0 answers requests for addresses the host routes
// through another device when it proxies (its own proxy_arp or all's) and
// the host forwards; not for its own subnet, an unrouted or broadcast
// target, a probe, nor a sender rp_filter refuses. The reply names eth0's
// address for the target (TestKernelProxyARP measures the same on 6.18).
func TestProxyARP(t *testing.T) {
	for _, tc := range []struct {
		name     string
		dev, all bool
		noFwd    bool
		rpFilter int
		sip, tip string
		replies  int
	}{
		{"eth0 proxies, a target beyond veth0", true, false, false, 0, "192.0.2.9", "10.9.1.1", 1},
		{"all proxies", false, true, false, 0, "192.0.2.9", "10.9.1.1", 1},
		{"no proxy_arp", false, false, false, 0, "192.0.2.9", "10.9.1.1", 0},
		{"forwarding off", true, false, true, 0, "192.0.2.9", "10.9.1.1", 0},
		{"a target on eth0's subnet", true, false, false, 0, "192.0.2.9", "192.0.2.77", 0},
		{"no route", true, false, false, 0, "192.0.2.9", "203.0.114.1", 0},
		{"a blackhole route", true, false, false, 0, "192.0.2.9", "10.7.0.1", 0},
		{"veth0's subnet broadcast", true, false, false, 0, "192.0.2.9", "10.1.0.255", 0},
		{"a probe", true, false, false, 0, "0.0.0.0", "10.9.1.1", 0},
		{"a sender behind veth0", true, false, false, 0, "10.9.0.5", "10.1.0.9", 1},
		{"a sender behind veth0, strict rp_filter", true, false, false, 1, "10.9.0.5", "10.1.0.9", 0},
		{"a local sender", true, false, false, 0, "10.1.0.1", "10.9.1.1", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got [][]byte
			cfg := fibTopology(!tc.noFwd, ProgramConfig{Name: "eg", Hook: carrier.HookTCEgress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
				if d := c.Skb.Data(); binary.BigEndian.Uint16(d[12:14]) == ethPARP {
					got = append(got, slices.Clone(d))
				}
				return TCXNext
			})})
			cfg.Devices[0].ProxyARP = tc.dev
			cfg.Namespaces[0].ProxyARP, cfg.Namespaces[0].RPFilter = tc.all, tc.rpFilter
			cfg.Options.Replies = true
			s, _ := newStack(t, cfg, "", nil, nil)
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: arpFrame(broadcastMAC, 1, 6, 1, tc.sip, tc.tip)}))
			s.Flush()
			require.Len(t, got, tc.replies)
			if tc.replies == 1 {
				a := got[0][ethHlen:]
				require.Equal(t, macB[:], got[0][0:6], "to the requester")
				require.Equal(t, macNIC[:], a[8:14], "eth0's address")
				require.Equal(t, addr(tc.tip).AsSlice(), a[14:18], "for the target")
				require.Equal(t, addr(tc.sip).AsSlice(), a[24:28])
			}
		})
	}
	// A proxy entry answers without proxy_arp, for a target routed
	// through another device only, and only while the host forwards.
	for _, tc := range []struct {
		name    string
		tip     string
		noFwd   bool
		replies int
	}{{"beyond veth0", "10.9.1.1", false, 1}, {"on eth0's subnet", "192.0.2.77", false, 0}, {"forwarding off", "10.9.1.1", true, 0}} {
		t.Run("proxy entry, "+tc.name, func(t *testing.T) {
			replies := 0
			cfg := fibTopology(!tc.noFwd, ProgramConfig{Name: "eg", Hook: carrier.HookTCEgress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
				if binary.BigEndian.Uint16(c.Skb.Data()[12:14]) == ethPARP {
					replies++
				}
				return TCXNext
			})})
			cfg.Neighbours = append(cfg.Neighbours, NeighConfig{Dev: "eth0", Addr: addr(tc.tip), Proxy: true})
			cfg.Options.Replies = true
			s, _ := newStack(t, cfg, "", nil, nil)
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: arpFrame(broadcastMAC, 1, 6, 1, "192.0.2.9", tc.tip)}))
			s.Flush()
			require.Equal(t, tc.replies, replies)
		})
	}
}
