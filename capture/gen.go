package capture

import (
	"bufio"
	"container/heap"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// GenSpec describes a synthetic capture. Zero fields take the preset's
// value; the result is a pure function of the spec (byte for byte the same
// file for the same spec on every machine).
type GenSpec struct {
	// Preset names the traffic mix (see Presets); "" means "demo".
	Preset string
	// Seed seeds the generator.
	Seed int64
	// Packets is the number of packets to write.
	Packets int
	// Flows is the number of flows in progress at any time: a flow that
	// ends is replaced by a new one until Packets are written.
	Flows int
	// Link is the link type of the file: LinkEthernet (default),
	// LinkLinuxSLL, LinkSLL2 or LinkRaw. VLAN tags, which these captures
	// show as metadata, are dropped for the last three, and ARP for raw IP.
	Link LinkType
	// Format is FormatPcap (default) or FormatPcapng.
	Format Format
	// Start is the time the first flows start from, in nanoseconds since
	// the epoch (rounded down to a microsecond); 0 means
	// 2024-01-01T00:00:00Z.
	Start int64
}

// defaultStart is 2024-01-01T00:00:00Z.
const defaultStart = 1704067200 * int64(1e9)

// kind is a kind of generated flow.
type kind uint8

const (
	kTCP      kind = iota // TCP over IPv4: handshake, request, response, FIN
	kTCP6                 // the same over IPv6
	kTCPRetx              // TCP with retransmissions and duplicate ACKs
	kDNS                  // DNS query and answer over UDP/IPv4
	kDNS6                 // the same over IPv6
	kPing                 // ICMP echo
	kARP                  // ARP request and reply
	kVLAN                 // TCP in an 802.1Q VLAN
	kQinQ                 // TCP in 802.1ad + 802.1Q tags
	kFrag4                // a UDP datagram in IPv4 fragments
	kIPv6Ext              // IPv6 with hop-by-hop, destination, SRH and fragment headers
	kVXLAN                // TCP between pods over VXLAN
	kGeneve               // TCP over Geneve with options
	kGRE                  // TCP over keyed, sequenced GRE
	kGRETap               // ICMP over GRE carrying Ethernet
	kGREinGRE             // ICMP over GRE over GRE
	kIPIP                 // TCP over IPIP
	kSIT                  // ICMPv6 over 6in4
	kIP6IP6               // UDP over IPv6-in-IPv6
	kLB                   // clients to a VIP, IPIP-encapsulated toward a backend
	// kOverlayNode is UDP from remote pods to the local pods of one VXLAN
	// overlay node at fixed addresses (examples/overlay.yaml). Kinds from
	// here on are not drawn at random addresses, so allKinds leaves them
	// out of the mixed preset.
	kOverlayNode
	// kQUIC is a QUIC-style client sending UDP_SEGMENT batches from the pod
	// of examples/udp-gso.yaml to its server (fixed addresses).
	kQUIC
	// kQUICRouter is QUIC-style UDP as a router's NIC receives it: each
	// UDP_SEGMENT batch of a client already cut into its datagrams
	// (examples/udp-gro-router.yaml).
	kQUICRouter
	kindCount
)

type preset struct {
	packets, flows int
	weights        [kindCount]int
	doc            string
	// first are the kinds of the first flows, so that short captures
	// still show every feature the preset promises.
	first []kind
}

var presets = map[string]preset{
	"demo": {300, 10, weights(map[kind]int{kTCP: 30, kTCP6: 5, kDNS: 15, kDNS6: 5, kPing: 5, kARP: 3,
		kVLAN: 8, kFrag4: 5, kIPv6Ext: 5, kVXLAN: 8, kGRE: 4, kIPIP: 4, kGeneve: 3}),
		"a few hundred packets of mixed TCP/UDP with some tunnels and fragments",
		[]kind{kTCP, kDNS, kFrag4, kVXLAN, kIPIP, kVLAN, kIPv6Ext, kGRE, kGeneve, kTCP6}},
	"lb": {2000, 20, weights(map[kind]int{kLB: 1}),
		"clients to a VIP, forwarded IPIP-encapsulated toward backends, replies direct", nil},
	"overlay": {2000, 20, weights(map[kind]int{kVXLAN: 1}),
		"TCP between pods over VXLAN", nil},
	"quic": {2000, 8, weights(map[kind]int{kQUIC: 1}),
		"QUIC-style UDP from 10.0.0.2 to 10.0.0.1:443 in batches of up to 10 segments of 1200 bytes, as a capture on a UDP_SEGMENT sender shows them before segmentation (examples/udp-gso.yaml)", nil},
	"quic-router": {4000, 24, weights(map[kind]int{kQUICRouter: 1}),
		"QUIC-style UDP from clients in 198.51.100.0/24 to servers in 203.0.113.0/24 port 443, as a router's NIC receives it: bursts of up to 10 datagrams of 1200 payload bytes (the last shorter) a few microseconds apart, each burst one UDP_SEGMENT send of the client (examples/udp-gro-router.yaml)", nil},
	"overlay-node": {2000, 16, weights(map[kind]int{kOverlayNode: 1}),
		"UDP from remote pods to the two pods of the VXLAN node examples/overlay.yaml describes (VNI 42, 192.168.1.2 to 192.168.1.1)", nil},
	"tap": {1000, 8, weights(map[kind]int{kTCPRetx: 4, kTCP: 1}),
		"TCP with retransmissions, duplicate ACKs and retransmitted SYNs", nil},
	"mixed": {3000, 30, weights(map[kind]int{kTCP: 1, kTCP6: 1, kTCPRetx: 1, kDNS: 1, kDNS6: 1, kPing: 1,
		kARP: 1, kVLAN: 1, kQinQ: 1, kFrag4: 1, kIPv6Ext: 1, kVXLAN: 1, kGeneve: 1, kGRE: 1, kGRETap: 1,
		kGREinGRE: 1, kIPIP: 1, kSIT: 1, kIP6IP6: 1, kLB: 1}),
		"every kind of traffic the generator draws at random addresses",
		allKinds()},
	"large": {200000, 2000, weights(map[kind]int{kTCP: 40, kTCP6: 5, kTCPRetx: 5, kDNS: 15, kDNS6: 5,
		kPing: 2, kVLAN: 5, kFrag4: 3, kIPv6Ext: 2, kVXLAN: 8, kGeneve: 2, kGRE: 3, kIPIP: 3, kLB: 2}),
		"many concurrent flows of the demo mix, for benchmarks", nil},
}

// allKinds returns the kinds drawn at random addresses, in order: the
// first flows of the mixed preset.
func allKinds() []kind {
	ks := make([]kind, kOverlayNode)
	for i := range ks {
		ks[i] = kind(i)
	}
	return ks
}

func weights(m map[kind]int) (w [kindCount]int) {
	for k, v := range m {
		w[k] = v
	}
	return w
}

// Presets returns the names of the generator presets, sorted.
func Presets() []string {
	names := make([]string, 0, len(presets))
	for n := range presets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// PresetDoc returns a one-line description of a preset, "" if unknown.
func PresetDoc(name string) string { return presets[name].doc }

// Generate writes the capture described by spec to w and returns the
// number of packets written.
func Generate(w io.Writer, spec GenSpec) (n int, err error) {
	if spec.Preset == "" {
		spec.Preset = "demo"
	}
	p, ok := presets[spec.Preset]
	if !ok {
		return 0, fmt.Errorf("generate: unknown preset %q (have %s)", spec.Preset, strings.Join(Presets(), ", "))
	}
	if spec.Packets <= 0 {
		spec.Packets = p.packets
	}
	if spec.Flows <= 0 {
		spec.Flows = p.flows
	}
	if spec.Link == 0 {
		spec.Link = LinkEthernet
	}
	switch spec.Link {
	case LinkEthernet, LinkLinuxSLL, LinkSLL2, LinkRaw:
	default:
		return 0, fmt.Errorf("generate: link type %d (%s) not generated (want EN10MB, LINUX_SLL, LINUX_SLL2 or RAW)", uint16(spec.Link), spec.Link)
	}
	if spec.Start == 0 {
		spec.Start = defaultStart
	}
	spec.Start -= spec.Start % 1000
	cw, err := newCaptureWriter(w, spec.Format, spec.Link)
	if err != nil {
		return 0, fmt.Errorf("generate: %w", err)
	}
	g := newGenerator(spec, p)
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	for n < spec.Packets {
		pkt, ok := g.next()
		if !ok {
			break
		}
		if err := gopacket.SerializeLayers(buf, opts, pkt.layers...); err != nil {
			return n, fmt.Errorf("generate: packet %d: %w", n, err)
		}
		if err := cw.write(pkt.ts, buf.Bytes()); err != nil {
			return n, fmt.Errorf("generate: %w", err)
		}
		n++
	}
	if err := cw.flush(); err != nil {
		return n, fmt.Errorf("generate: %w", err)
	}
	return n, nil
}

// captureWriter writes pcap or pcapng through pcapgo.
type captureWriter struct {
	bw  *bufio.Writer
	pw  *pcapgo.Writer
	ngw *pcapgo.NgWriter
}

func newCaptureWriter(w io.Writer, f Format, link LinkType) (*captureWriter, error) {
	cw := &captureWriter{bw: bufio.NewWriterSize(w, 1<<16)}
	switch f {
	case 0, FormatPcap:
		cw.pw = pcapgo.NewWriter(cw.bw)
		if err := cw.pw.WriteFileHeader(MaxCapLen, layers.LinkType(link)); err != nil {
			return nil, err
		}
	case FormatPcapng:
		ngw, err := pcapgo.NewNgWriterInterface(cw.bw, pcapgo.NgInterface{
			Name:                "gen0",
			LinkType:            layers.LinkType(link),
			SnapLength:          MaxCapLen,
			TimestampResolution: 9,
		}, pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{Application: "skbsim"}})
		if err != nil {
			return nil, err
		}
		cw.ngw = ngw
	default:
		return nil, fmt.Errorf("unknown format %d", f)
	}
	return cw, nil
}

// newCaptureWriterNanos writes pcap with nanosecond timestamps.
func newCaptureWriterNanos(w io.Writer, link LinkType) (*captureWriter, error) {
	cw := &captureWriter{bw: bufio.NewWriterSize(w, 1<<16)}
	cw.pw = pcapgo.NewWriterNanos(cw.bw)
	if err := cw.pw.WriteFileHeader(MaxCapLen, layers.LinkType(link)); err != nil {
		return nil, err
	}
	return cw, nil
}

func (cw *captureWriter) write(ts int64, data []byte) error { return cw.writeLen(ts, data, len(data)) }

func (cw *captureWriter) writeLen(ts int64, data []byte, origLen int) error {
	ci := gopacket.CaptureInfo{
		Timestamp:     unixNano(ts),
		CaptureLength: len(data),
		Length:        origLen,
	}
	if cw.ngw != nil {
		return cw.ngw.WritePacket(ci, data)
	}
	return cw.pw.WritePacket(ci, data)
}

func (cw *captureWriter) flush() error {
	if cw.ngw != nil {
		if err := cw.ngw.Flush(); err != nil {
			return err
		}
	}
	return cw.bw.Flush()
}

// genPacket is one planned packet.
type genPacket struct {
	ts     int64
	layers []gopacket.SerializableLayer
}

// genFlow is the planned packets of one flow, in time order.
type genFlow struct {
	id   int
	pkts []genPacket
	i    int
}

// flowHeap orders flows by the time of their next packet, then by id.
type flowHeap []*genFlow

func (h flowHeap) Len() int { return len(h) }
func (h flowHeap) Less(i, j int) bool {
	a, b := h[i].pkts[h[i].i].ts, h[j].pkts[h[j].i].ts
	if a != b {
		return a < b
	}
	return h[i].id < h[j].id
}
func (h flowHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *flowHeap) Push(x any)   { *h = append(*h, x.(*genFlow)) }
func (h *flowHeap) Pop() any {
	old := *h
	f := old[len(old)-1]
	*h = old[:len(old)-1]
	return f
}

// generator interleaves concurrent flows.
type generator struct {
	spec    GenSpec
	rng     *rand.Rand
	weights [kindCount]int
	total   int
	active  flowHeap
	nextID  int
	planned int    // packets planned so far
	first   []kind // kinds still to start before picking at random
}

func newGenerator(spec GenSpec, p preset) *generator {
	g := &generator{
		spec:    spec,
		rng:     rand.New(rand.NewPCG(uint64(spec.Seed), 0x736b6273696d)),
		weights: p.weights,
		first:   p.first,
	}
	for _, w := range p.weights {
		g.total += w
	}
	// Flows start staggered over the first 50 ms.
	for range spec.Flows {
		g.startFlow(spec.Start + us(g.rng.Int64N(50000)))
	}
	return g
}

// next returns the next packet in time order.
func (g *generator) next() (genPacket, bool) {
	for len(g.active) > 0 {
		f := g.active[0]
		p := f.pkts[f.i]
		f.i++
		if f.i < len(f.pkts) {
			heap.Fix(&g.active, 0)
		} else {
			heap.Pop(&g.active)
			if g.planned < g.spec.Packets {
				g.startFlow(p.ts + us(g.rng.Int64N(5000)))
			}
		}
		return p, true
	}
	return genPacket{}, false
}

func (g *generator) startFlow(start int64) {
	k := g.pickKind()
	b := &flowBuilder{g: g, rng: g.rng, t: start, link: g.spec.Link, id: g.nextID}
	b.build(k)
	if len(b.pkts) == 0 {
		return
	}
	// Packets of a flow are planned in time order except where a builder
	// deliberately reorders; keep the heap invariant by sorting.
	slices.SortStableFunc(b.pkts, func(x, y genPacket) int { return cmpInt64(x.ts, y.ts) })
	g.planned += len(b.pkts)
	heap.Push(&g.active, &genFlow{id: g.nextID, pkts: b.pkts})
	g.nextID++
}

func (g *generator) pickKind() kind {
	if len(g.first) > 0 {
		k := g.first[0]
		g.first = g.first[1:]
		return k
	}
	r := g.rng.IntN(g.total)
	for k, w := range g.weights {
		if r < w {
			return kind(k)
		}
		r -= w
	}
	return kTCP
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
