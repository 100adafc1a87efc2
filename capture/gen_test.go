package capture

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/internal/testutil"
)

// genBytes generates a capture into memory.
func genBytes(tb testing.TB, spec GenSpec) []byte {
	tb.Helper()
	var buf bytes.Buffer
	n, err := Generate(&buf, spec)
	require.NoError(tb, err)
	if spec.Packets > 0 {
		require.Equal(tb, spec.Packets, n)
	}
	return buf.Bytes()
}

// decodedPacket is a packet read back from a generated capture.
type decodedPacket struct {
	pkt *Packet
	d   Decoded
}

func readDecoded(tb testing.TB, name string, data []byte) []decodedPacket {
	tb.Helper()
	r := mustReader(tb, name, data)
	dec := NewDecoder()
	dec.surfacePanics()
	var out []decodedPacket
	for {
		p, err := r.Next()
		if err == io.EOF {
			return out
		}
		require.NoError(tb, err)
		dp := decodedPacket{pkt: p.Clone()}
		dec.Decode(p, &dp.d)
		out = append(out, dp)
	}
}

func TestGenerateDeterministic(t *testing.T) {
	seed := testutil.Seed(t)
	a := genBytes(t, GenSpec{Preset: "mixed", Seed: seed, Packets: 2000})
	b := genBytes(t, GenSpec{Preset: "mixed", Seed: seed, Packets: 2000})
	assert.True(t, bytes.Equal(a, b), "same spec, different bytes")
	c := genBytes(t, GenSpec{Preset: "mixed", Seed: seed + 1, Packets: 2000})
	assert.False(t, bytes.Equal(a, c), "different seeds, same bytes")
	for _, preset := range []string{"overlay-node"} {
		x := genBytes(t, GenSpec{Preset: preset, Seed: seed})
		assert.Equal(t, x, genBytes(t, GenSpec{Preset: preset, Seed: seed}), "%s: same spec, different bytes", preset)
		assert.NotEqual(t, x, genBytes(t, GenSpec{Preset: preset, Seed: seed + 1}), "%s: different seeds, same bytes", preset)
	}
	// The file is the same in pcapng as in pcap, packet for packet.
	ng := readDecoded(t, "x.pcapng", genBytes(t, GenSpec{Preset: "mixed", Seed: seed, Packets: 2000, Format: FormatPcapng}))
	pc := readDecoded(t, "x.pcap", a)
	require.Len(t, ng, len(pc))
	for i := range pc {
		require.Equal(t, pc[i].pkt.Data, ng[i].pkt.Data)
		require.Equal(t, pc[i].pkt.Timestamp, ng[i].pkt.Timestamp)
	}
}

// TestGeneratePresets checks what every preset promises, through the
// decoder.
func TestGeneratePresets(t *testing.T) {
	seed := testutil.Seed(t)
	type summary struct {
		tunnels   map[TunnelKind]int
		flags     DecodeFlags
		syn, dns  int
		vlan      int
		ext6      int
		flows     map[uint64]bool
		retx      int
		arp, icmp int
	}
	summarise := func(pkts []decodedPacket) summary {
		s := summary{tunnels: map[TunnelKind]int{}, flows: map[uint64]bool{}}
		seen := map[string]bool{}
		for _, p := range pkts {
			d := &p.d
			require.Equal(t, MalformedNone, d.Malformed, "packet %d", p.pkt.Index)
			for _, tn := range d.Tunnel[:d.Depth] {
				s.tunnels[tn.Kind]++
			}
			s.flags |= d.Flags
			in := d.Inner()
			if in.L4.TCPFlags&TCPSyn != 0 {
				s.syn++
			}
			if in.L4.Proto == protoUDP && (in.L4.DstPort == 53 || in.L4.SrcPort == 53) {
				s.dns++
			}
			if d.Outer().L2.NumVLAN > 0 {
				s.vlan++
			}
			if in.L3.Ext.N > 0 {
				s.ext6++
			}
			if in.L3.Proto == L3ARP {
				s.arp++
			}
			if in.L4.Proto == protoICMP || in.L4.Proto == protoICMPv6 {
				s.icmp++
			}
			s.flows[d.FlowHash] = true
			if in.L4.Proto == protoTCP && in.L4.PayloadLen > 0 && d.Depth == 0 {
				k := fmt.Sprint(d.Flow, in.L4.Seq, in.L4.PayloadLen)
				if seen[k] {
					s.retx++
				}
				seen[k] = true
			}
		}
		return s
	}
	tests := []struct {
		preset  string
		packets int
		check   func(t *testing.T, s summary, pkts []decodedPacket)
	}{
		{"demo", 0, func(t *testing.T, s summary, _ []decodedPacket) {
			for _, k := range []TunnelKind{TunnelVXLAN, TunnelGRE, TunnelIPIP, TunnelGeneve} {
				assert.Positive(t, s.tunnels[k], "%v tunnels", k)
			}
			assert.NotZero(t, s.flags&FlagFragment, "fragments")
			assert.Positive(t, s.syn)
			assert.Positive(t, s.dns)
			assert.Positive(t, s.vlan)
			assert.Positive(t, s.ext6)
		}},
		{"lb", 0, func(t *testing.T, s summary, pkts []decodedPacket) {
			assert.Equal(t, map[TunnelKind]int{TunnelIPIP: s.tunnels[TunnelIPIP]}, s.tunnels)
			// Every encapsulated request follows its plain copy and shards
			// with it; the backend is outside the VIP range.
			plain := map[uint64]bool{}
			for _, p := range pkts {
				d := &p.d
				if d.Depth == 0 {
					plain[d.FlowHash] = true
					continue
				}
				assert.True(t, plain[d.FlowHash], "encapsulated packet %d before its plain copy", p.pkt.Index)
				assert.Equal(t, "192.0.2", d.Inner().L3.Dst.String()[:7])
				assert.Equal(t, "10.0.1", d.Outer().L3.Dst.String()[:6])
			}
		}},
		{"overlay", 0, func(t *testing.T, s summary, pkts []decodedPacket) {
			assert.Equal(t, len(pkts), s.tunnels[TunnelVXLAN])
		}},
		{"overlay-node", 0, func(t *testing.T, s summary, pkts []decodedPacket) {
			// Every packet is what examples/overlay.yaml's node receives:
			// VXLAN VNI 42 from the remote node to this one, carrying UDP
			// from a remote pod to port 8080 of one of the two pods, at the
			// pod's MAC. Both pods get traffic, from several remote pods.
			pods := map[string]string{"10.244.1.2": "02:00:0a:f4:01:02", "10.244.1.3": "02:00:0a:f4:01:03"}
			perPod := map[string]int{}
			remotes := map[netip.Addr]bool{}
			sport := map[FlowKey]uint16{}
			for _, p := range pkts {
				d := &p.d
				require.EqualValues(t, 1, d.Depth, "packet %d", p.pkt.Index)
				require.Equal(t, TunnelVXLAN, d.Tunnel[0].Kind)
				assert.EqualValues(t, 42, d.Tunnel[0].ID)
				o, in := d.Outer(), d.Inner()
				assert.Equal(t, "192.168.1.2", o.L3.Src.String())
				assert.Equal(t, "192.168.1.1", o.L3.Dst.String())
				assert.EqualValues(t, 4789, o.L4.DstPort)
				// udp_flow_src_port(): one port per inner flow, in the
				// local port range.
				assert.GreaterOrEqual(t, o.L4.SrcPort, uint16(32768))
				assert.LessOrEqual(t, o.L4.SrcPort, uint16(60999))
				if sp, ok := sport[d.Flow]; ok {
					assert.Equal(t, sp, o.L4.SrcPort, "packet %d: outer source port changed within a flow", p.pkt.Index)
				}
				sport[d.Flow] = o.L4.SrcPort
				mac, ok := pods[in.L3.Dst.String()]
				require.True(t, ok, "packet %d: inner destination %v is no pod", p.pkt.Index, in.L3.Dst)
				assert.Equal(t, mac, net.HardwareAddr(in.L2.Dst[:]).String())
				assert.Equal(t, "10.244.2", in.L3.Src.String()[:8])
				assert.EqualValues(t, protoUDP, in.L4.Proto)
				assert.EqualValues(t, 8080, in.L4.DstPort)
				assert.LessOrEqual(t, p.pkt.CapLen, 1514, "packet %d exceeds the NIC's MTU", p.pkt.Index)
				perPod[in.L3.Dst.String()]++
				remotes[in.L3.Src] = true
			}
			assert.Len(t, perPod, 2)
			for pod, n := range perPod {
				assert.Greater(t, n, len(pkts)/4, "traffic to %s", pod)
			}
			assert.Greater(t, len(remotes), 8, "remote pods")
			assert.Greater(t, len(sport), 100, "flows")
		}},
		{"quic", 0, func(t *testing.T, _ summary, pkts []decodedPacket) {
			batches := 0
			for _, p := range pkts {
				d := &p.d
				require.Empty(t, d.Tunnel)
				l := d.Outer()
				assert.Equal(t, "10.0.0.2", l.L3.Src.String())
				assert.Equal(t, "10.0.0.1", l.L3.Dst.String())
				assert.EqualValues(t, protoUDP, l.L4.Proto)
				assert.EqualValues(t, 443, l.L4.DstPort)
				n := p.pkt.CapLen - 14 - 20 - 8
				assert.GreaterOrEqual(t, n, 20)
				assert.LessOrEqual(t, n, quicMaxSegs*quicSegment)
				if n > quicSegment {
					batches++
				}
			}
			assert.Greater(t, batches, len(pkts)/2, "most datagrams are batches of several segments")
		}},
		{"quic-router", 0, func(t *testing.T, _ summary, pkts []decodedPacket) {
			// Datagrams of at most one segment, clients to servers on 443;
			// within a flow, full segments come in bursts that end with a
			// shorter one, and IP IDs count up.
			full := 0
			lastID := map[FlowKey]uint16{}
			for _, p := range pkts {
				d := &p.d
				require.Empty(t, d.Tunnel)
				l := d.Outer()
				assert.Equal(t, "198.51.100", l.L3.Src.String()[:10])
				assert.Equal(t, "203.0.113", l.L3.Dst.String()[:9])
				assert.EqualValues(t, protoUDP, l.L4.Proto)
				assert.EqualValues(t, 443, l.L4.DstPort)
				n := p.pkt.CapLen - 14 - 20 - 8
				assert.GreaterOrEqual(t, n, 20)
				assert.LessOrEqual(t, n, quicSegment)
				if n == quicSegment {
					full++
				}
				ip := p.pkt.Data[14:]
				id := uint16(ip[4])<<8 | uint16(ip[5])
				if prev, ok := lastID[d.Flow]; ok {
					assert.Equal(t, prev+1, id, "packet %d: IP ID within a flow", p.pkt.Index)
				}
				lastID[d.Flow] = id
			}
			assert.Greater(t, full, len(pkts)/2, "most datagrams are full segments of a burst")
			assert.Greater(t, len(lastID), 10, "flows")
		}},
		{"tap", 0, func(t *testing.T, s summary, _ []decodedPacket) {
			assert.Positive(t, s.retx, "retransmissions")
		}},
		{"mixed", 0, func(t *testing.T, s summary, _ []decodedPacket) {
			for k := TunnelVXLAN; k <= TunnelIP6IP6; k++ {
				if k != TunnelERSPAN && k != TunnelIP4IP6 {
					assert.Positive(t, s.tunnels[k], "%v tunnels", k)
				}
			}
			assert.Positive(t, s.arp)
			assert.Positive(t, s.icmp)
			assert.NotZero(t, s.flags&FlagFragment)
		}},
		{"large", 20000, func(t *testing.T, s summary, _ []decodedPacket) {
			assert.Greater(t, len(s.flows), 1500, "distinct flows")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.preset, func(t *testing.T) {
			spec := GenSpec{Preset: tt.preset, Seed: seed, Packets: tt.packets}
			pkts := readDecoded(t, tt.preset, genBytes(t, spec))
			want := tt.packets
			if want == 0 {
				want = presets[tt.preset].packets
			}
			require.Len(t, pkts, want)
			assert.GreaterOrEqual(t, pkts[0].pkt.Timestamp, defaultStart)
			assert.Less(t, pkts[0].pkt.Timestamp, defaultStart+int64(50e6))
			for i := range pkts {
				require.Zero(t, pkts[i].pkt.Timestamp%1000, "timestamps are whole microseconds")
			}
			for i := 1; i < len(pkts); i++ {
				require.LessOrEqual(t, pkts[i-1].pkt.Timestamp, pkts[i].pkt.Timestamp, "packet %d goes back in time", i)
			}
			tt.check(t, summarise(pkts), pkts)
		})
	}
}

func TestGenerateLinkTypes(t *testing.T) {
	for _, tt := range []struct {
		link LinkType
		kind L2Kind
	}{{LinkEthernet, L2Ethernet}, {LinkLinuxSLL, L2SLL}, {LinkSLL2, L2SLL2}, {LinkRaw, L2None}} {
		t.Run(tt.link.String(), func(t *testing.T) {
			pkts := readDecoded(t, "x", genBytes(t, GenSpec{Preset: "mixed", Seed: 3, Link: tt.link, Packets: 1500}))
			for _, p := range pkts {
				require.Equal(t, tt.link, p.pkt.LinkType)
				d := &p.d
				require.Equal(t, MalformedNone, d.Malformed)
				assert.Equal(t, tt.kind, d.Outer().L2.Kind)
				if tt.link != LinkEthernet {
					assert.Zero(t, d.Outer().L2.NumVLAN)
				}
				if tt.link == LinkRaw {
					assert.NotEqual(t, L3ARP, d.Outer().L3.Proto)
				}
			}
		})
	}
}

func TestGenerateErrors(t *testing.T) {
	_, err := Generate(io.Discard, GenSpec{Preset: "nope"})
	assert.EqualError(t, err, `generate: unknown preset "nope" (have demo, large, lb, mixed, overlay, overlay-node, quic, quic-router, tap)`)
	_, err = Generate(io.Discard, GenSpec{Link: LinkPPP})
	assert.EqualError(t, err, "generate: link type 9 (PPP) not generated (want EN10MB, LINUX_SLL, LINUX_SLL2 or RAW)")
	assert.NotEmpty(t, PresetDoc("lb"))
}

// TestGenerateTCPFlows follows every TCP connection of the tap preset: it
// starts with SYN (possibly retransmitted), SYN-ACK and ACK, and ends with
// FIN from both sides and a last ACK.
func TestGenerateTCPFlows(t *testing.T) {
	pkts := readDecoded(t, "tap", genBytes(t, GenSpec{Preset: "tap", Seed: testutil.Seed(t), Packets: 3000}))
	conns := map[uint64][]TCPFlags{}
	var order []uint64
	for _, p := range pkts {
		if p.d.Inner().L4.Proto != protoTCP {
			continue
		}
		h := p.d.FlowHash
		if _, ok := conns[h]; !ok {
			order = append(order, h)
		}
		conns[h] = append(conns[h], p.d.Inner().L4.TCPFlags&(TCPSyn|TCPAck|TCPFin))
	}
	complete := 0
	for _, h := range order {
		fl := conns[h]
		i := 0
		for i < len(fl) && fl[i] == TCPSyn {
			i++
		}
		if i == 0 {
			continue // the flow started before the capture... it cannot: fail below
		}
		require.Less(t, i, len(fl))
		assert.Equal(t, TCPSyn|TCPAck, fl[i])
		n := len(fl)
		if n >= 4 && fl[n-1] == TCPAck && fl[n-2] == TCPFin|TCPAck && fl[n-3] == TCPFin|TCPAck {
			complete++
		}
	}
	assert.Len(t, order, len(conns))
	assert.Greater(t, complete, len(order)/2, "most connections finish within the capture")
	for _, h := range order {
		assert.Equal(t, TCPSyn, conns[h][0], "every connection starts with a SYN")
	}
}

// TestReaderDamagedGenerated damages generated captures at chosen offsets
// and checks the exact message, index and offset.
func TestReaderDamagedGenerated(t *testing.T) {
	pc := genBytes(t, GenSpec{Preset: "demo", Seed: 7})
	ng := genBytes(t, GenSpec{Preset: "demo", Seed: 7, Format: FormatPcapng})
	at := func(data []byte, i int) *Packet {
		pkts, err := readAll(t, mustReader(t, "x", data))
		require.NoError(t, err)
		return pkts[i]
	}
	p100, p250 := at(pc, 100), at(pc, 250)
	n100 := at(ng, 100)
	ngLen := func(off int64) int { // the pcapng block length, little endian
		b := ng[off+4 : off+8]
		return int(b[0]) | int(b[1])<<8 | int(b[2])<<16 | int(b[3])<<24
	}
	tests := []struct {
		name   string
		data   []byte
		wantN  int
		msg    string
		index  int64
		offset int64
	}{
		{"cut in a record", pc[:p100.Offset+16+10], 100,
			fmt.Sprintf("demo.pcap: packet 100 at byte %d: truncated record (want %d bytes, have 10)", p100.Offset, p100.CapLen), 100, p100.Offset},
		{"cut in a record header", pc[:p250.Offset+7], 250,
			fmt.Sprintf("demo.pcap: packet 250 at byte %d: truncated record header (want 16 bytes, have 7)", p250.Offset), 250, p250.Offset},
		{"caplen above origlen", patch(pc, int(p250.Offset)+12, 1, 0, 0, 0), 250,
			fmt.Sprintf("demo.pcap: packet 250 at byte %d: impossible record header (caplen %d > origlen 1)", p250.Offset, p250.CapLen), 250, p250.Offset},
		{"caplen huge", patch(pc, int(p100.Offset)+8, 0xff, 0xff, 0xff, 0x7f), 100,
			fmt.Sprintf("demo.pcap: packet 100 at byte %d: impossible record header (caplen 2147483647 > maximum 262144)", p100.Offset), 100, p100.Offset},
		{"pcapng cut in a block", ng[:n100.Offset+40], 100,
			fmt.Sprintf("demo.pcap: packet 100 at byte %d: truncated block (want %d bytes, have 40)", n100.Offset, ngLen(n100.Offset)), 100, n100.Offset},
		{"pcapng block length odd", patch(ng, int(n100.Offset)+4, byte(ngLen(n100.Offset)+1)), 100,
			fmt.Sprintf("demo.pcap: packet 100 at byte %d: impossible enhanced packet block length %d", n100.Offset, ngLen(n100.Offset)+1), 100, n100.Offset},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader("demo.pcap", bytes.NewReader(tt.data))
			require.NoError(t, err)
			pkts, err := readAll(t, r)
			assert.Len(t, pkts, tt.wantN)
			require.Error(t, err)
			assert.Equal(t, tt.msg, err.Error())
			var ce *Error
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tt.index, ce.Index)
			assert.Equal(t, tt.offset, ce.Offset)
		})
	}
}
