package netstack

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
)

// TestIP6FragProfileOptions: the version-dependent checks of
// ipv6_frag_rcv. An atomic fragment gets IP6CB frag_max_size =
// payload_len + sizeof(struct ipv6hdr) from v5.13
// (Profile.IPv6AtomicFragMaxSize); a first fragment whose upper-layer
// header is truncated (ipv6frag_thdr_truncated: 8 bytes of a 20-byte TCP
// header) is freed by icmpv6_param_prob from v5.10
// (Profile.IPv6FragDropTruncatedFirst), queued before.
func TestIP6FragProfileOptions(t *testing.T) {
	atomic := frag6Frames("2001:db8::9", "2001:db8::1", 0x77, 12, []frag6Cut{{0, 20, false}})[0]
	trunc := frag6Frames("2001:db8::9", "2001:db8::1", 0x78, 192, []frag6Cut{{0, 8, true}})[0]
	trunc[ethHlen+ip6Hlen] = nexthdrTCP // the fragment header's next header
	for _, tc := range []struct {
		profile     string
		maxSize     uint16 // IP6CB frag_max_size of the atomic fragment the socket read
		truncDrops  []string
		truncQueued int
	}{
		{"v4.19", 0, nil, 1},
		{"v5.4", 0, nil, 1},
		{"v5.10", 0, []string{"SKB_DROP_REASON_NOT_SPECIFIED@ipv6_frag_rcv"}, 0},
		{"v5.15", ip6Hlen + fragHdrLen + 20, []string{"SKB_DROP_REASON_NOT_SPECIFIED@ipv6_frag_rcv"}, 0},
		{"v6.18", ip6Hlen + fragHdrLen + 20, []string{"SKB_DROP_REASON_NOT_SPECIFIED@ipv6_frag_rcv"}, 0},
	} {
		t.Run(tc.profile+"/atomic", func(t *testing.T) {
			var got []uint16
			cfg := frag6Host()
			cfg.Programs = []ProgramConfig{{Name: "tp", Hook: carrier.HookTracepoint, Event: EventConsumeSkb,
				Prog: ProgramFunc(func(c *Ctx) int {
					got = append(got, binary.LittleEndian.Uint16(c.Skb.H().CB[ip6cbFragMaxSize:]))
					return 0
				})}}
			s, te := newStack(t, cfg, tc.profile, nil, nil)
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: atomic}))
			require.Len(t, te.obs.delivs, 1)
			require.Equal(t, []uint16{tc.maxSize}, got)
		})
		t.Run(tc.profile+"/truncated first fragment", func(t *testing.T) {
			s, te := newStack(t, frag6Host(), tc.profile, nil, nil)
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: trunc}))
			require.Equal(t, tc.truncDrops, te.obs.dropReasons())
			queued := 0
			if st := s.Netns("").fragDirs; st != nil {
				queued = len(st.v6.live)
			}
			require.Equal(t, tc.truncQueued, queued)
		})
	}
}

// TestIPv6FragThdrTruncated covers ipv6frag_thdr_truncated's walk.
func TestIPv6FragThdrTruncated(t *testing.T) {
	pkt := func(next uint8, ext []byte, l4 int) []byte {
		p := make([]byte, ip6Hlen+len(ext)+l4)
		p[0] = 0x60
		p[6] = next
		copy(p[ip6Hlen:], ext)
		return p
	}
	frag := func(next uint8, off uint16) []byte {
		return []byte{next, 0, byte(off >> 8), byte(off), 0, 0, 0, 1}
	}
	dst := []byte{nexthdrFrag, 0, 0, 0, 0, 0, 0, 0}
	for _, tc := range []struct {
		name string
		p    []byte
		want bool
	}{
		{"UDP header whole", pkt(nexthdrFrag, frag(nexthdrUDP, 1), 8), false},
		{"UDP header cut", pkt(nexthdrFrag, frag(nexthdrUDP, 1), 7), true},
		{"TCP needs 20", pkt(nexthdrFrag, frag(nexthdrTCP, 1), 16), true},
		{"ICMPv6 needs 8", pkt(nexthdrFrag, frag(nexthdrICMPv6, 1), 8), false},
		{"other protocol needs 1", pkt(nexthdrFrag, frag(ipprotoGRE, 1), 0), true},
		{"not a first fragment", pkt(nexthdrFrag, frag(nexthdrTCP, 8|1), 0), false},
		{"destination options first", pkt(nexthdrDest, append(append([]byte{}, dst...), frag(nexthdrUDP, 1)...), 4), true},
		{"no next header", pkt(nexthdrFrag, frag(nexthdrNone, 1), 0), false},
		{"extension header cut", pkt(nexthdrDest, []byte{nexthdrFrag}, 0), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, ipv6fragThdrTruncated(tc.p))
		})
	}
}
