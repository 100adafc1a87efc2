package netstack

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/cost"
)

// greHdrOpts builds a GRE header with the given flags word and protocol;
// the options the flags announce follow (checksum 0, key, sequence 1).
func greHdrOpts(flags, proto uint16, key uint32) []byte {
	g := make([]byte, greHlen, 16)
	binary.BigEndian.PutUint16(g[0:2], flags)
	binary.BigEndian.PutUint16(g[2:4], proto)
	if flags&greFlagCsum != 0 {
		g = append(g, 0, 0, 0, 0)
	}
	if flags&greFlagKey != 0 {
		g = binary.BigEndian.AppendUint32(g, key)
	}
	if flags&greFlagSeq != 0 {
		g = binary.BigEndian.AppendUint32(g, 1)
	}
	return g
}

// withGRECsum fills the GRE checksum of pkt (GRE header and payload).
func withGRECsum(pkt []byte) []byte {
	binary.BigEndian.PutUint16(pkt[4:6], 0)
	var sum uint64
	for i := 0; i+1 < len(pkt); i += 2 {
		sum += uint64(binary.BigEndian.Uint16(pkt[i:]))
	}
	if len(pkt)%2 == 1 {
		sum += uint64(pkt[len(pkt)-1]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(pkt[4:6], ^uint16(sum))
	return pkt
}

// outer4 wraps payload in Ethernet and an IPv4 header from 192.0.2.9 to
// the NIC's 192.0.2.1 with protocol proto.
func outer4(proto uint8, payload []byte) []byte {
	f := make([]byte, ethHlen+ipHlen+len(payload))
	writeEth(f, macNIC, macB, ethPIP)
	writeIPv4(f[ethHlen:], 0, ipHlen+len(payload), 1, false, 64, proto, addr("192.0.2.9"), addr("192.0.2.1"))
	copy(f[ethHlen+ipHlen:], payload)
	return f
}

// TestGRERcvHeader: ip_gre's and ip6_gre's gre_rcv share
// gre_parse_header (greParseHeader); a header it refuses is freed with
// kfree_skb (NOT_SPECIFIED) by both, as is a packet for no tunnel
// (PACKET_REJECT after the ICMP port unreachable). IPv4 goes through
// gre_demux first: fewer than 12 bytes or a non-zero version is dropped
// there (NOT_SPECIFIED too); ip6_gre has no such check. A GRE checksum is
// validated as the skb's checksum state says: the NIC's
// CHECKSUM_UNNECESSARY (the model's NIC verifies tunnel checksums) uses
// up a level and lets a bad one through; without receive offload it is
// summed in software.
func TestGRERcvHeader(t *testing.T) {
	inner := buildFrame(frameOpts{src: "10.9.0.1", dst: "10.9.0.2", sport: 1, dport: 9999, payload: 32, noEth: true})
	cat := func(a, b []byte) []byte { return append(append([]byte{}, a...), b...) }
	const key = 42
	for _, tc := range []struct {
		name  string
		gre   []byte // GRE header and payload
		ok    bool   // delivered to the socket behind the tunnel
		rxOff bool   // the NIC's receive checksum offload off
	}{
		{"key", cat(greHdrOpts(greFlagKey, ethPIP, key), inner), true, false},
		{"key and sequence number", cat(greHdrOpts(greFlagKey|greFlagSeq, ethPIP, key), inner), true, false},
		{"valid checksum", withGRECsum(cat(greHdrOpts(greFlagCsum|greFlagKey, ethPIP, key), inner)), true, false},
		{"bad checksum, the NIC verified", cat(greHdrOpts(greFlagCsum|greFlagKey, ethPIP, key), inner), true, false},
		{"valid checksum, no receive offload", withGRECsum(cat(greHdrOpts(greFlagCsum|greFlagKey, ethPIP, key), inner)), true, true},
		{"bad checksum, no receive offload", cat(greHdrOpts(greFlagCsum|greFlagKey, ethPIP, key), inner), false, true},
		{"wrong key", cat(greHdrOpts(greFlagKey, ethPIP, key+1), inner), false, false},
		{"no key", cat(greHdrOpts(0, ethPIP, 0), inner), false, false},
		{"version 1", cat(greHdrOpts(greFlagKey|1, ethPIP, key), inner), false, false},
		{"routing flag", cat(greHdrOpts(greFlagKey|greFlagRouting, ethPIP, key), inner), false, false},
		{"shorter than the base header", []byte{0x20, 0, 8}, false, false},
		{"key announced, not there", greHdrOpts(greFlagKey, ethPIP, key)[:6], false, false},
	} {
		for _, fam := range []string{"ipv4", "ipv6"} {
			t.Run(tc.name+"/"+fam, func(t *testing.T) {
				var cfg *Config
				var frame []byte
				drop := "SKB_DROP_REASON_NOT_SPECIFIED@gre_rcv" // both families' gre_rcv
				if fam == "ipv6" {
					cfg = decap6Config(KindIP6GRE, HostNetns)
					frame = outer6(ipprotoGRE, tc.gre)
				} else {
					cfg = decap6Config(KindGRE, HostNetns)
					cfg.Devices[0].Addrs = []netip.Prefix{pfx("192.0.2.1/24")}
					cfg.Devices[1].MAC = [6]byte{}
					cfg.Devices[1].Local, cfg.Devices[1].Remote = addr("192.0.2.1"), addr("192.0.2.9")
					frame = outer4(ipprotoGRE, tc.gre)
				}
				if tc.rxOff {
					cfg.Devices[0].RxChecksum = "off"
				}
				s, te := newStack(t, cfg, "", nil, nil)
				before := te.a.Accountant().Stats()
				require.NoError(t, s.Inject(&Packet{ID: 1, Frame: frame}))
				s.Flush()
				after := te.a.Accountant().Stats()
				if d := after.Sub(&before); tc.rxOff && tc.gre[0]&0x80 != 0 {
					require.GreaterOrEqual(t, d.Ops[cost.OpCsumByte], uint64(len(tc.gre)), "the GRE checksum summed in software")
				}
				if tc.ok {
					require.Empty(t, te.obs.dropReasons())
					require.Equal(t, []DeliverEvent{{PacketID: 1, Kind: DeliverSocket, Index: 0}}, te.obs.delivs)
					return
				}
				require.Empty(t, te.obs.delivs)
				require.Equal(t, []string{drop}, te.obs.dropReasons())
			})
		}
	}
}

// TestGREDemuxMinLen: gre_demux's gre_rcv pulls 12 bytes before it reads
// the version, so an IPv4 GRE packet of 4 to 11 bytes that ip6_gre would
// parse is dropped there.
func TestGREDemuxMinLen(t *testing.T) {
	short := greHdrOpts(greFlagKey, ethPIP, 42) // 8 bytes, a whole header
	cfg := decap6Config(KindGRE, HostNetns)
	cfg.Devices[0].Addrs = []netip.Prefix{pfx("192.0.2.1/24")}
	cfg.Devices[1].MAC = [6]byte{}
	cfg.Devices[1].Local, cfg.Devices[1].Remote = addr("192.0.2.1"), addr("192.0.2.9")
	s, te := newStack(t, cfg, "", nil, nil)
	require.NoError(t, s.Inject(&Packet{ID: 1, Frame: outer4(ipprotoGRE, short)}))
	require.Equal(t, []string{"SKB_DROP_REASON_NOT_SPECIFIED@gre_rcv"}, te.obs.dropReasons())
	_, _, _, _, ok := greParseHeader(short)
	require.True(t, ok, "gre_parse_header alone accepts it")
}
