package netstack

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/skb"
)

// superTCP is a captured GRO aggregate: an IPv4 TCP frame of payload
// bytes with a 12-byte timestamp option (a 32-byte TCP header), seq 1000,
// IP id 7, the flags given.
func superTCP(payload int, flags uint8) []byte {
	f := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "203.0.113.7", proto: ipprotoTCP,
		sport: 5000, dport: 443, seq: 1000, ack: 1, tcpFlags: flags, payload: payload + 12, id: 7})
	ip := f[ethHlen:]
	th := ip[ipHlen:]
	th[12] = 8 << 4
	copy(th[20:32], []byte{1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2})
	for i := range payload {
		th[32+i] = byte(i * 7)
	}
	return f
}

// wireSeg is what a tc ingress program saw of one skb.
type wireSeg struct {
	len, gsoSize, gsoSegs int
	frame                 []byte // the linear frame (a linear skb)
	summed                skb.IPSummed
	nrFrags               int
}

// aboveMTUStack is a forwarding host whose eth0 (MTU 1500, GRO as gro)
// is the entry with mode above; a tc ingress program records each skb.
func aboveMTUStack(t *testing.T, above string, seg int, gro string, xdp bool) (*Stack, *testEnv, *[]wireSeg, *int) {
	var segs []wireSeg
	xdpRuns := 0
	cfg := routerConfig(DeviceConfig{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("192.0.2.254/24")}, GRO: gro}, true)
	cfg.Programs = []ProgramConfig{{Name: "in", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
		b := c.Skb
		w := wireSeg{len: b.Len(), gsoSize: int(b.Shinfo().GSOSize), gsoSegs: int(b.Shinfo().GSOSegs), summed: b.H().IPSummed, nrFrags: b.NrFrags()}
		if !b.IsNonlinear() {
			w.frame = bytes.Clone(b.Data())
		}
		segs = append(segs, w)
		return TCXNext
	})}}
	if xdp {
		cfg.Programs = append(cfg.Programs, ProgramConfig{Name: "x", Hook: carrier.HookXDP, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
			xdpRuns++
			return XDPPass
		})})
	}
	cfg.Entries = []EntryConfig{{Dev: "eth0", AboveMTU: above, SegmentSize: seg}}
	s, te := newStack(t, cfg, "", nil, nil)
	return s, te, &segs, &xdpRuns
}

// checkWireTCP checks that frames are the wire segments of superTCP(total,
// flags) with seg bytes of payload each.
func checkWireTCP(t *testing.T, frames []wireSeg, total, seg int, flags uint8) {
	t.Helper()
	src := superTCP(total, flags)
	n := (total + seg - 1) / seg
	require.Len(t, frames, n)
	hdr := ethHlen + ipHlen + 32
	for i, w := range frames {
		m := min(seg, total-i*seg)
		f := w.frame
		require.Len(t, f, hdr+m, "segment %d", i)
		ip := f[ethHlen:]
		th := ip[ipHlen:]
		require.Equal(t, uint16(ipHlen+32+m), binary.BigEndian.Uint16(ip[2:4]), "tot_len %d", i)
		require.Equal(t, uint16(7+i), binary.BigEndian.Uint16(ip[4:6]), "id %d", i)
		require.Zero(t, ipCsum(ip[:ipHlen]), "IP checksum %d", i)
		require.Equal(t, uint32(1000+i*seg), binary.BigEndian.Uint32(th[4:8]), "seq %d", i)
		want := flags
		if i != n-1 {
			want &^= tcpFIN | tcpPSH
		}
		if i != 0 {
			want &^= tcpCWR
		}
		require.Equal(t, want, th[13], "flags %d", i)
		require.Equal(t, src[hdr+i*seg:hdr+i*seg+m], f[hdr:], "payload %d", i)
		require.Equal(t, uint16(0xffff), csumFold(csumAdd(pseudoSum(ip, ipprotoTCP, len(th)), th)), "TCP checksum %d", i)
	}
}

// TestAboveMTUSegment: a captured 4-segment TCP aggregate (a capture taken
// above GRO) enters a NIC of MTU 1500: the driver receives the four wire
// frames its sender's TSO sent (XDP runs on each), and GRO merges them
// again; with GRO off, tc sees each, with its own IP length,
// identification, sequence number, flags and checksums. A segment size
// below the MSS cuts smaller segments.
func TestAboveMTUSegment(t *testing.T) {
	const mss = 1500 - ipHlen - 32
	total := 3*mss + 500
	flags := uint8(tcpACK | tcpPSH | tcpCWR)

	s, te, segs, xdp := aboveMTUStack(t, AboveMTUSegment, 0, "", true)
	require.NoError(t, s.Inject(&Packet{ID: 1, Frame: superTCP(total, tcpACK|tcpPSH), Hash: 0xabc}))
	s.Flush()
	require.Empty(t, te.obs.dropReasons())
	require.Equal(t, 4, *xdp, "XDP runs on each wire frame")
	require.Len(t, *segs, 1, "GRO merges the wire frames")
	require.Equal(t, wireSeg{len: ethHlen + ipHlen + 32 + total, gsoSize: mss, gsoSegs: 4, summed: skb.ChecksumPartial, nrFrags: (*segs)[0].nrFrags}, (*segs)[0])
	require.Equal(t, Stats{Injected: 1, GROMerged: 3, GROFlushed: 1, GROAggregates: 1, RxCut: 1, RxCutFrames: 4, GSOSegmented: 1, GSOSegments: 4},
		statsWithout(s.Stats(), "Delivered"))

	s, te, segs, _ = aboveMTUStack(t, AboveMTUSegment, 0, "off", false)
	require.NoError(t, s.Inject(&Packet{ID: 1, Frame: superTCP(total, flags)}))
	s.Flush()
	require.Empty(t, te.obs.dropReasons())
	checkWireTCP(t, *segs, total, mss, flags)

	s, _, segs, _ = aboveMTUStack(t, AboveMTUSegment, 1000, "off", false)
	require.NoError(t, s.Inject(&Packet{ID: 1, Frame: superTCP(total, tcpACK|tcpFIN)}))
	s.Flush()
	checkWireTCP(t, *segs, total, 1000, tcpACK|tcpFIN)
}

// statsWithout returns st with the named counter cleared.
func statsWithout(st Stats, name string) Stats {
	if name == "Delivered" {
		st.Delivered = 0
	}
	return st
}

// TestAboveMTUSegmentUDP: a captured UDP GRO aggregate is cut into
// datagrams of the segment size, each with its own UDP length and
// checksum (__udp_gso_segment); one without a checksum keeps 0.
func TestAboveMTUSegmentUDP(t *testing.T) {
	for _, csum := range []bool{true, false} {
		o := frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "203.0.113.7", sport: 4433, dport: 9999, payload: 3000, id: 3}
		f := buildFrame(o)
		if csum {
			f = udpCsumFrame(o)
		}
		s, te, segs, _ := aboveMTUStack(t, AboveMTUSegment, 1200, "off", false)
		require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
		s.Flush()
		require.Empty(t, te.obs.dropReasons())
		require.Len(t, *segs, 3)
		for i, w := range *segs {
			m := []int{1200, 1200, 600}[i]
			ip := w.frame[ethHlen:]
			u := ip[ipHlen:]
			require.Equal(t, uint16(udpHlen+m), binary.BigEndian.Uint16(u[4:6]))
			require.Equal(t, uint16(3+i), binary.BigEndian.Uint16(ip[4:6]))
			require.Equal(t, f[ethHlen+ipHlen+udpHlen+i*1200:ethHlen+ipHlen+udpHlen+i*1200+m], u[udpHlen:])
			if csum {
				require.Equal(t, uint16(0xffff), csumFold(csumAdd(pseudoSum(ip, ipprotoUDP, len(u)), u)), "UDP checksum %d", i)
			} else {
				require.Zero(t, binary.BigEndian.Uint16(u[6:8]))
			}
		}
	}
}

// TestAboveMTUGROHW: the NIC's hardware GRO hands the TCP aggregate over
// whole: one non-linear skb of 4 segments, CHECKSUM_PARTIAL; forwarded
// out of a device without GSO offloads it is cut into the same four wire
// segments, whose checksums the device completes.
func TestAboveMTUGROHW(t *testing.T) {
	const mss = 1500 - ipHlen - 32
	total := 3*mss + 500
	s, te, segs, _ := aboveMTUStack(t, AboveMTUGROHW, 0, "", false)
	require.NoError(t, s.Inject(&Packet{ID: 1, Frame: superTCP(total, tcpACK|tcpPSH)}))
	s.Flush()
	require.Empty(t, te.obs.dropReasons())
	require.Len(t, *segs, 1)
	w := (*segs)[0]
	require.Equal(t, ethHlen+ipHlen+32+total, w.len)
	require.Equal(t, mss, w.gsoSize)
	require.Equal(t, 4, w.gsoSegs)
	require.Equal(t, skb.ChecksumPartial, w.summed)
	require.Equal(t, (total+skb.PageSize-1)/skb.PageSize, w.nrFrags, "the payload in 4 KB page-pool pages")
	require.Equal(t, uint64(1), s.Stats().RxGROHW)
	require.Equal(t, uint64(4), s.Stats().GSOSegments, "eth1 without GSO cuts it")
	var wire []wireSeg
	for _, q := range s.taps[0].q {
		f := make([]byte, q.b.Len())
		require.NoError(t, q.b.CopyBits(0, f))
		require.Equal(t, skb.ChecksumPartial, q.b.H().IPSummed)
		ip := f[ethHlen:]
		th := ip[ipHlen:]
		binary.BigEndian.PutUint16(th[16:], ^csumFold(csumAdd(0, th))) // the device completes it
		ip[8]++                                                        // the TTL before forwarding
		setIPCsum(ip, ipHlen)
		copy(f[0:6], macNIC[:])
		copy(f[6:12], macB[:])
		wire = append(wire, wireSeg{frame: f})
	}
	checkWireTCP(t, wire, total, mss, tcpACK|tcpPSH)
}

// TestAboveMTUDrop: AboveMTUDrop, and frames that cannot be cut, are
// dropped by the NIC (PKT_TOO_BIG at the driver, no skb); a VLAN-tagged
// frame whose IP packet fits the MTU, and one whose excess is only bytes
// past its IP packet, are received.
func TestAboveMTUDrop(t *testing.T) {
	big := superTCP(3000, tcpACK)
	icmp := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "203.0.113.7", proto: 1, payload: 3000})
	frag := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "203.0.113.7", payload: 3000, fragOff: ipMF})
	full := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "203.0.113.7", payload: 1500 - ipHlen - udpHlen})
	vlan := append(append(append([]byte{}, full[:12]...), 0x81, 0x00, 0x00, 0x05), full[12:]...)
	padded := append(bytes.Clone(full), make([]byte, 30)...)
	for _, tc := range []struct {
		name  string
		above string
		frame []byte
		drop  bool
	}{
		{"drop", AboveMTUDrop, big, true},
		{"icmp", AboveMTUSegment, icmp, true},
		{"fragment", AboveMTUSegment, frag, true},
		{"truncated", AboveMTUSegment, big[:len(big)-1], true},
		{"vlan tag", AboveMTUSegment, vlan, false},
		{"trailing bytes", AboveMTUSegment, padded, false},
		{"accept", "", big, false},
		{"accept, named", AboveMTUAccept, icmp, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, te, segs, _ := aboveMTUStack(t, tc.above, 0, "off", false)
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: tc.frame}))
			s.Flush()
			if tc.drop {
				require.Equal(t, []string{"SKB_DROP_REASON_PKT_TOO_BIG@napi_build_skb"}, te.obs.dropReasons())
				require.Empty(t, *segs)
				require.Equal(t, uint64(1), s.Stats().RxOversize)
				require.Zero(t, te.a.Accountant().Stats().Total.Allocs, "no skb")
				return
			}
			require.Len(t, *segs, 1)
			require.Zero(t, s.Stats().RxOversize+s.Stats().RxCut)
		})
	}
}

// TestAboveMTUConfig: the entry options' errors.
func TestAboveMTUConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"unknown mode", func(c *Config) { c.Entries[0].AboveMTU = "split" }, `above_mtu "split"`},
		{"segment size", func(c *Config) { c.Entries[0].SegmentSize = 70000 }, "segment_size 70000"},
		{"gro_hw with XDP", func(c *Config) {
			c.Entries[0].AboveMTU = AboveMTUGROHW
			c.Programs = []ProgramConfig{{Name: "x", Hook: carrier.HookXDP, Dev: "eth0", Actions: []Action{{Kind: ActPass}}}}
		}, "drivers refuse native XDP"},
		{"gro_hw on a dummy", func(c *Config) {
			c.Devices[0].Kind = KindDummy
			c.Entries[0].AboveMTU = AboveMTUGROHW
		}, "hardware GRO is a NIC's"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := routerConfig(DeviceConfig{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("192.0.2.254/24")}}, false)
			cfg.Entries = []EntryConfig{{Dev: "eth0"}}
			tc.edit(cfg)
			err := newStackErr(t, cfg, "")
			require.ErrorIs(t, err, ErrConfig)
			require.True(t, strings.Contains(err.Error(), tc.want), err.Error())
		})
	}
}

// superVXLAN wraps inner (an Ethernet frame) in VXLAN to port 4789, the
// outer UDP checksum set when csum.
func superVXLAN(inner []byte, csum bool) []byte {
	f := make([]byte, ethHlen+ipHlen+udpHlen+vxlanHlen+len(inner))
	writeEth(f, macNIC, macB, ethPIP)
	writeIPv4(f[ethHlen:], 0, len(f)-ethHlen, 40, true, 64, ipprotoUDP, addr("198.51.100.9"), addr("203.0.113.1"))
	u := f[ethHlen+ipHlen:]
	writeUDP(u, 50000, defaultVXLANPort, len(u))
	u[udpHlen] = 0x08
	binary.BigEndian.PutUint32(u[udpHlen+4:], 42<<8)
	copy(u[udpHlen+vxlanHlen:], inner)
	if csum {
		l4Csum(f[ethHlen:], u, ipprotoUDP)
	}
	return f
}

// TestAboveMTUSegmentTunnel: a captured VXLAN aggregate (GRO through the
// tunnel, or a sender's tunnel TSO) is cut as skb_udp_tunnel_segment cuts
// it: the inner TCP payload in MSS pieces, every segment with the outer
// and inner headers, its outer IPv4 length, identification and checksum,
// outer UDP length (and checksum when the aggregate had one), and the
// inner headers' fields as for plain TCP.
func TestAboveMTUSegmentTunnel(t *testing.T) {
	const tun = ethHlen + ipHlen + udpHlen + vxlanHlen
	const mss = 1500 - (tun - ethHlen) - ethHlen - ipHlen - 32 // the inner Ethernet header counts too
	total := 2*mss + 100
	for _, csum := range []bool{false, true} {
		inner := superTCP(total, tcpACK|tcpPSH)
		s, te, segs, _ := aboveMTUStack(t, AboveMTUSegment, 0, "off", false)
		require.NoError(t, s.Inject(&Packet{ID: 1, Frame: superVXLAN(inner, csum)}))
		s.Flush()
		require.Equal(t, uint64(3), s.Stats().RxCutFrames)
		require.Empty(t, te.obs.dropReasons())
		var innerSegs []wireSeg
		for i, w := range *segs {
			f := w.frame
			require.LessOrEqual(t, len(f)-ethHlen, 1500)
			o := f[ethHlen:]
			u := o[ipHlen:]
			require.Equal(t, uint16(len(o)), binary.BigEndian.Uint16(o[2:4]))
			require.Equal(t, uint16(40+i), binary.BigEndian.Uint16(o[4:6]), "outer id")
			require.Zero(t, ipCsum(o[:ipHlen]))
			require.Equal(t, uint16(len(u)), binary.BigEndian.Uint16(u[4:6]))
			if csum {
				require.Equal(t, uint16(0xffff), csumFold(csumAdd(pseudoSum(o, ipprotoUDP, len(u)), u)), "outer UDP checksum %d", i)
			} else {
				require.Zero(t, binary.BigEndian.Uint16(u[6:8]))
			}
			innerSegs = append(innerSegs, wireSeg{frame: f[tun:]})
		}
		checkWireTCP(t, innerSegs, total, mss, tcpACK|tcpPSH)
	}
}

// TestAboveMTUSegmentIPv6AndBigTCP: an IPv6 aggregate with a hop-by-hop
// header is cut with the header in every segment (ipv6_gso_segment), and
// a BIG TCP aggregate above 64 KB, whose IPv4 tot_len is 0, is cut by the
// frame's length.
func TestAboveMTUSegmentIPv6AndBigTCP(t *testing.T) {
	t.Run("ipv6 hop-by-hop", func(t *testing.T) {
		f := buildFrame6(frame6{dstMAC: macNIC, srcMAC: macB, src: "2001:db8::9", dst: "2001:db8::1", next: ipprotoUDP, hop: true, dport: 9998, payload: 3000})
		s, _, segs, _ := aboveMTUStack(t, AboveMTUSegment, 1000, "off", false)
		require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
		s.Flush()
		require.Len(t, *segs, 3, "tc ingress sees the wire segments (the router has no IPv6 route for them)")
		for i, w := range *segs {
			ip := w.frame[ethHlen:]
			require.Equal(t, uint8(nexthdrHop), ip[6])
			require.Equal(t, uint16(8+udpHlen+1000), binary.BigEndian.Uint16(ip[4:6]), "payload_len %d", i)
			u := ip[ip6Hlen+8:]
			require.Equal(t, uint16(udpHlen+1000), binary.BigEndian.Uint16(u[4:6]))
		}
	})
	t.Run("big tcp", func(t *testing.T) {
		const mss = 1500 - ipHlen - 32
		total := 70000
		f := superTCP(total, tcpACK)
		binary.BigEndian.PutUint16(f[ethHlen+2:], 0) // iph_set_totlen above 64 KB
		s, te, segs, _ := aboveMTUStack(t, AboveMTUSegment, 0, "off", false)
		require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
		s.Flush()
		require.Empty(t, te.obs.dropReasons())
		require.Len(t, *segs, (total+mss-1)/mss)
	})
}

// TestNICXDPMultiBuffer: a NIC with native XDP takes a frame longer than
// a page holds (XDP_PACKET_HEADROOM and skb_shared_info aside) only with
// an xdp.frags program: the rest of the frame is the xdp_buff's page
// fragments, the program sees the first part, and the skb keeps the
// fragments and the metadata. Without xdp.frags the NIC drops the frame
// before the program runs.
func TestNICXDPMultiBuffer(t *testing.T) {
	for _, frags := range []bool{false, true} {
		var linear, runs int
		var seen []wireSeg
		var meta int
		cfg := routerConfig(DeviceConfig{Name: "eth0", Kind: KindNIC, MAC: macNIC, MTU: 9000, Addrs: []netip.Prefix{pfx("192.0.2.254/24")}}, true)
		cfg.Programs = []ProgramConfig{
			{Name: "x", Hook: carrier.HookXDP, Dev: "eth0", XDPFrags: frags, Prog: ProgramFunc(func(c *Ctx) int {
				runs++
				linear = len(c.Skb.Data())
				c.AdjustMeta(-8)
				return XDPPass
			})},
			{Name: "in", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
				seen = append(seen, wireSeg{len: c.Skb.Len(), nrFrags: c.Skb.NrFrags()})
				meta = c.Skb.MetadataLen()
				return TCXNext
			})},
		}
		s, te := newStack(t, cfg, "", nil, nil)
		f := superTCP(5000, tcpACK)
		require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
		s.Flush()
		if !frags {
			require.Zero(t, runs)
			require.Empty(t, seen)
			require.Equal(t, uint64(1), s.Stats().RxOversize)
			require.Equal(t, []string{"SKB_DROP_REASON_PKT_TOO_BIG@napi_build_skb"}, te.obs.dropReasons())
			continue
		}
		require.Equal(t, 1, runs)
		require.Equal(t, xdpLinearMax, linear, "the program sees the first buffer")
		require.Len(t, seen, 1)
		require.Equal(t, len(f), seen[0].len)
		require.Equal(t, 1, seen[0].nrFrags, "the frame's rest in one page-pool page")
		require.Equal(t, 8, meta)
	}
}

// superTCP6 is an IPv6 TCP aggregate of payload bytes to 2001:db8::1 with
// the extension header ext (its first byte, the next header, set to TCP)
// between the IPv6 and the TCP header.
func superTCP6(payload int, ext []byte) []byte {
	l4 := 20 + payload
	f := make([]byte, ethHlen+ip6Hlen+len(ext)+l4)
	writeEth(f, macNIC, macB, ethPIPv6)
	ip := f[ethHlen:]
	ip[0] = 6 << 4
	binary.BigEndian.PutUint16(ip[4:6], uint16(len(ext)+l4))
	ip[6], ip[7] = nexthdrRouting, 64
	s16, d16 := addr("2001:db8::9").As16(), addr("2001:db8::1").As16()
	copy(ip[8:24], s16[:])
	copy(ip[24:40], d16[:])
	copy(ip[ip6Hlen:], ext)
	ip[ip6Hlen] = ipprotoTCP
	th := ip[ip6Hlen+len(ext):]
	binary.BigEndian.PutUint16(th[0:2], 5000)
	binary.BigEndian.PutUint16(th[2:4], 443)
	binary.BigEndian.PutUint32(th[4:8], 1000)
	th[12], th[13] = 5<<4, tcpACK|tcpPSH
	for i := range payload {
		th[20+i] = byte(i)
	}
	return f
}

// srh is a segment routing header (type 4) with segments left left and
// the segment list segs (Segment List[0], the final destination, first).
func srh(left byte, segs ...string) []byte {
	h := []byte{0, byte(2 * len(segs)), 4, left, byte(len(segs) - 1), 0, 0, 0}
	for _, s := range segs {
		a := addr(s).As16()
		h = append(h, a[:]...)
	}
	return h
}

// TestAboveMTUSegmentIPv6Routing: ipv6_gso_segment copies a routing
// header into every segment (INET6_PROTO_GSO_EXTHDR). Each wire segment's
// TCP checksum covers the pseudo-header with the final destination: the
// IPv6 destination when no segments are left, Segment List[0] of a segment
// routing header, the last address of a type 0 header. A routing header
// of a type the model cannot read (RPL's, type 3) with segments left is
// not cut: the frame is dropped as too big.
func TestAboveMTUSegmentIPv6Routing(t *testing.T) {
	type0 := append([]byte{0, 4, 0, 1, 0, 0, 0, 0}, make([]byte, 32)...) // type 0, 2 addresses, 1 left
	last := addr("2001:db8::77").As16()
	copy(type0[8+16:], last[:])
	for _, tc := range []struct {
		name  string
		ext   []byte
		final string // "" : dropped
	}{
		{"srh, none left", srh(0, "2001:db8::1", "2001:db8::5"), "2001:db8::1"},
		{"srh, one left", srh(1, "2001:db8::66", "2001:db8::1"), "2001:db8::66"},
		{"type 0, one left", type0, "2001:db8::77"},
		{"rpl", []byte{0, 2, 3, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const payload = 3000
			s, _, segs, _ := aboveMTUStack(t, AboveMTUSegment, 1000, "off", false)
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: superTCP6(payload, tc.ext)}))
			s.Flush()
			if tc.final == "" {
				require.Empty(t, *segs)
				require.Equal(t, uint64(1), s.Stats().RxOversize)
				return
			}
			require.Len(t, *segs, 3)
			fd := addr(tc.final).As16()
			for i, w := range *segs {
				ip := w.frame[ethHlen:]
				require.Equal(t, uint8(nexthdrRouting), ip[6], "segment %d keeps the routing header", i)
				require.Equal(t, tc.ext[1:], ip[ip6Hlen+1:ip6Hlen+len(tc.ext)], "segment %d", i)
				th := ip[ip6Hlen+len(tc.ext):]
				require.Equal(t, uint32(1000+1000*i), binary.BigEndian.Uint32(th[4:8]))
				var ph [ip6Hlen]byte
				ph[0] = 6 << 4
				copy(ph[8:24], ip[8:24])
				copy(ph[24:40], fd[:])
				require.Equal(t, uint16(0xffff), csumFold(csumAdd(pseudoSum(ph[:], ipprotoTCP, len(th)), th)),
					"segment %d: the TCP checksum covers the final destination %s", i, tc.final)
			}
		})
	}
}
