package capture

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The real third-party captures in ../shared/pcaps (relative to the
// repository root) are not part of the repository; these tests skip when
// the folder is absent.
const sharedPcaps = "../../shared/pcaps"

// sharedManifest returns the packet count of every capture listed in the
// MANIFEST, skipping the test when the folder is absent.
func sharedManifest(tb testing.TB) map[string]int {
	tb.Helper()
	f, err := os.Open(filepath.Join(sharedPcaps, "MANIFEST.md"))
	if os.IsNotExist(err) {
		tb.Skip("no shared captures in " + sharedPcaps)
	}
	require.NoError(tb, err)
	defer f.Close()
	counts := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "|")
		if len(cols) < 5 {
			continue
		}
		name := strings.TrimSpace(cols[1])
		n, err := strconv.Atoi(strings.TrimSpace(cols[3]))
		if err != nil || !strings.Contains(name, ".pcap") {
			continue
		}
		counts[name] = n
	}
	require.NoError(tb, sc.Err())
	require.NotEmpty(tb, counts, "MANIFEST lists no captures")
	return counts
}

func sharedPath(name string) string { return filepath.Join(sharedPcaps, name) }

// TestSharedCounts reads every listed capture and compares its packet count
// with the MANIFEST.
func TestSharedCounts(t *testing.T) {
	counts := sharedManifest(t)
	// Where the reader deliberately differs from capinfos.
	override := map[string]struct {
		packets int
		err     error
	}{
		// capinfos stops at the second section's unknown version 2.0; the
		// reader skips that section, as the pcapng draft says, and reads the
		// packet of the third.
		"gopacket__pcapngtest_le_test901.pcapng": {2, nil},
		// The link type is refused before the only packet is delivered.
		"tcpdump__unsupported-link-type-160.pcap": {0, ErrUnsupportedLinkType},
	}
	for name, want := range counts {
		t.Run(name, func(t *testing.T) {
			r, err := Open(sharedPath(name))
			require.NoError(t, err)
			defer r.Close()
			n := 0
			for {
				_, err = r.Next()
				if err != nil {
					break
				}
				n++
			}
			o, ok := override[name]
			if !ok {
				assert.Equal(t, io.EOF, err)
				assert.Equal(t, want, n)
				return
			}
			assert.Equal(t, o.packets, n)
			if o.err == nil {
				assert.Equal(t, io.EOF, err)
			} else {
				assert.ErrorIs(t, err, o.err)
			}
		})
	}
}

func TestSharedUnsupportedLinkType(t *testing.T) {
	sharedManifest(t)
	path := sharedPath("tcpdump__unsupported-link-type-160.pcap")
	r, err := Open(path)
	require.NoError(t, err)
	defer r.Close()
	_, err = r.Next()
	require.Error(t, err)
	assert.Equal(t, path+": packet 0 at byte 24: unsupported link type 160 (USER13)", err.Error())
	assert.ErrorIs(t, err, ErrUnsupportedLinkType)
}

func TestSharedBadTimestamps(t *testing.T) {
	sharedManifest(t)
	r, err := Open(sharedPath("tcpdump__timestamp_invalid_nano.pcap"))
	require.NoError(t, err)
	defer r.Close()
	pkts, err := readAll(t, r)
	require.NoError(t, err)
	require.Len(t, pkts, 3)
	assert.Equal(t, PacketFlags(0), pkts[0].Flags&PktBadTimestamp)
	assert.Equal(t, PktBadTimestamp, pkts[1].Flags&PktBadTimestamp)
	assert.Equal(t, PktBadTimestamp, pkts[2].Flags&PktBadTimestamp)
}

func TestSharedSnapped(t *testing.T) {
	sharedManifest(t)
	for _, name := range []string{"tcpdump__quic_handshake_truncated.pcap", "zeek__tcp_timestamp.pcap"} {
		r, err := Open(sharedPath(name))
		require.NoError(t, err)
		pkts, err := readAll(t, r)
		r.Close()
		require.NoError(t, err)
		snapped := 0
		for _, p := range pkts {
			if p.Flags&PktSnapped != 0 {
				snapped++
				assert.Less(t, p.CapLen, p.OrigLen)
			}
		}
		assert.Positive(t, snapped, name)
	}
}

// TestSharedDecodeNeverPanics decodes every packet of every shared capture
// with panics surfacing, and checks the malformation reports stay inside
// the packet.
func TestSharedDecodeNeverPanics(t *testing.T) {
	counts := sharedManifest(t)
	dec := NewDecoder()
	dec.surfacePanics()
	var d Decoded
	for name := range counts {
		r, err := Open(sharedPath(name))
		require.NoError(t, err)
		for {
			p, err := r.Next()
			if err != nil {
				break
			}
			dec.Decode(p, &d)
			require.LessOrEqual(t, int(d.Depth), MaxTunnelDepth)
			if d.Malformed != MalformedNone {
				require.Less(t, int(d.MalformedOffset), max(1, len(p.Data)), "%s packet %d", name, p.Index)
			}
		}
		r.Close()
	}
}

// sharedDecoded decodes one shared capture.
func sharedDecoded(t *testing.T, name string, opts DecoderOptions) []Decoded {
	t.Helper()
	sharedManifest(t)
	r, err := Open(sharedPath(name))
	require.NoError(t, err)
	defer r.Close()
	dec := NewDecoderOptions(opts)
	var out []Decoded
	for {
		p, err := r.Next()
		if err == io.EOF {
			return out
		}
		require.NoError(t, err)
		var d Decoded
		dec.Decode(p, &d)
		out = append(out, d)
	}
}

// TestSharedDecode checks the decoder against what the MANIFEST says the
// captures hold.
func TestSharedDecode(t *testing.T) {
	count := func(ds []Decoded, f func(d *Decoded) bool) int {
		n := 0
		for i := range ds {
			if f(&ds[i]) {
				n++
			}
		}
		return n
	}
	tunnel := func(k TunnelKind) func(d *Decoded) bool {
		return func(d *Decoded) bool { return d.Depth > 0 && d.Tunnel[0].Kind == k }
	}
	t.Run("vxlan", func(t *testing.T) {
		ds := sharedDecoded(t, "suricata-verify__vxlan-decoder-03_vxlan.pcap", DecoderOptions{})
		assert.Equal(t, 100, count(ds, tunnel(TunnelVXLAN)))
	})
	t.Run("geneve", func(t *testing.T) {
		ds := sharedDecoded(t, "tcpdump__geneve.pcap", DecoderOptions{})
		assert.Equal(t, 19, count(ds, func(d *Decoded) bool { return tunnel(TunnelGeneve)(d) && d.Tunnel[0].ID == 0xa }))
		assert.Equal(t, 20, count(ds, func(d *Decoded) bool { return tunnel(TunnelGeneve)(d) && d.Tunnel[0].ID == 0xb }))
		crit := count(ds, func(d *Decoded) bool { return d.Tunnel[0].Critical && d.Tunnel[0].NumOpts > 0 })
		assert.Greater(t, crit, 10, "about half carry critical options")
	})
	t.Run("gre", func(t *testing.T) {
		ds := sharedDecoded(t, "zeek__tunnels_gre-sample.pcap", DecoderOptions{})
		assert.Equal(t, 40, count(ds, tunnel(TunnelGRE)))
	})
	t.Run("ipip", func(t *testing.T) {
		assert.Equal(t, 1, count(sharedDecoded(t, "zeek__tunnels_4in4.pcap", DecoderOptions{}), tunnel(TunnelIPIP)))
		ds := sharedDecoded(t, "zeek__tunnels_ping6-in-ipv4.pcap", DecoderOptions{})
		assert.Equal(t, 10, count(ds, func(d *Decoded) bool { return tunnel(TunnelSIT)(d) && d.Inner().L4.Proto == protoICMPv6 }))
	})
	t.Run("srh", func(t *testing.T) {
		ds := sharedDecoded(t, "tcpdump__ipv6-srh-ext-header.pcap", DecoderOptions{})
		require.Len(t, ds, 1)
		assert.True(t, ds[0].Outer().L3.Ext.HasRouting)
		assert.Equal(t, uint8(4), ds[0].Outer().L3.Ext.RoutingType)
		assert.Equal(t, TunnelIP6IP6, ds[0].Tunnel[0].Kind)
		assert.Equal(t, uint8(protoICMPv6), ds[0].Inner().L4.Proto)
	})
	t.Run("routing header type 0", func(t *testing.T) {
		ds := sharedDecoded(t, "tcpdump__ipv6-routing-header.pcap", DecoderOptions{})
		assert.Equal(t, 4, count(ds, func(d *Decoded) bool { return d.Outer().L3.Ext.HasRouting && d.Outer().L3.Ext.RoutingType == 0 }))
	})
	t.Run("qinq", func(t *testing.T) {
		ds := sharedDecoded(t, "tcpdump__802.1ad_QinQ.pcap", DecoderOptions{})
		assert.Equal(t, 2, count(ds, func(d *Decoded) bool {
			l2 := &d.Outer().L2
			return l2.NumVLAN == 2 && l2.VLAN[0].TPID == 0x88a8 && l2.VLAN[1].TPID == 0x8100 && d.Outer().L3.Proto == L3ARP
		}))
	})
	t.Run("mpls in vlan", func(t *testing.T) {
		ds := sharedDecoded(t, "zeek__mpls-in-vlan.pcap", DecoderOptions{IgnoreChecksums: true})
		require.Len(t, ds, 3)
		for i, want := range []uint8{0, 1, 2} {
			assert.Equal(t, want, ds[i].Outer().MPLS.N)
			assert.Equal(t, uint8(protoTCP), ds[i].Outer().L4.Proto)
		}
		// The addresses were anonymised without fixing the checksums.
		for _, d := range sharedDecoded(t, "zeek__mpls-in-vlan.pcap", DecoderOptions{}) {
			assert.Equal(t, MalformedIPv4Checksum, d.Malformed)
			assert.Equal(t, DropIPCsum, d.DropReason())
		}
	})
	t.Run("mpls over ppp", func(t *testing.T) {
		ds := sharedDecoded(t, "tcpdump__mpls-traceroute.pcap", DecoderOptions{})
		assert.Positive(t, count(ds, func(d *Decoded) bool { return d.Outer().L2.Kind == L2PPP && d.Outer().MPLS.N > 0 }))
		assert.Equal(t, len(ds), count(ds, func(d *Decoded) bool { return d.Outer().L3.Proto == L3IPv4 }))
	})
	t.Run("ethernet pseudowire", func(t *testing.T) {
		ds := sharedDecoded(t, "tcpreplay__test.pcap", DecoderOptions{})
		assert.Positive(t, count(ds, func(d *Decoded) bool { return tunnel(TunnelMPLSPW)(d) && d.Inner().L2.NumVLAN == 1 }))
	})
	t.Run("ipv4 fragments", func(t *testing.T) {
		ds := sharedDecoded(t, "pcapplusplus__ip-frag.pcap", DecoderOptions{})
		assert.Equal(t, 1859, count(ds, func(d *Decoded) bool { return d.Outer().L3.IsFragment() }))
	})
	t.Run("hop-by-hop flood", func(t *testing.T) {
		ds := sharedDecoded(t, "suricata-verify__ipv6-dos-with-ext-headers-6_denial6-6.pcap", DecoderOptions{})
		hbh := count(ds, func(d *Decoded) bool { return d.Outer().L3.Ext.N > 0 && d.Outer().L3.Ext.Types[0] == protoHopByHop })
		assert.Greater(t, hbh, len(ds)*9/10)
	})
	t.Run("invalid total length", func(t *testing.T) {
		ds := sharedDecoded(t, "tcpdump__ipv4_invalid_total_length.pcap", DecoderOptions{})
		require.Len(t, ds, 1)
		assert.Equal(t, MalformedIPv4TotalLen, ds[0].Malformed)
		assert.Equal(t, DropPktTooSmall, ds[0].DropReason())
	})
	t.Run("sll2 super frames", func(t *testing.T) {
		ds := sharedDecoded(t, "suricata-verify__decode-sll2-02_input.pcap", DecoderOptions{})
		assert.Equal(t, len(ds), count(ds, func(d *Decoded) bool { return d.Outer().L2.Kind == L2SLL2 && d.Malformed == MalformedNone }))
		assert.Positive(t, count(ds, func(d *Decoded) bool { return d.Outer().L3.TotalLen > 60000 }))
	})
	t.Run("raw bsd 12", func(t *testing.T) {
		ds := sharedDecoded(t, "pcapplusplus__four_ipv6_http_streams.pcap", DecoderOptions{})
		assert.Equal(t, 81, count(ds, func(d *Decoded) bool { return d.Outer().L3.Proto == L3IPv6 && d.Outer().L4.Proto == protoTCP }))
		flows := map[uint64]bool{}
		for _, d := range ds {
			flows[d.FlowHash] = true
		}
		assert.Len(t, flows, 4, "four streams, both directions together")
	})
}
