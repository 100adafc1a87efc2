package capture

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

func unixNano(ns int64) time.Time { return time.Unix(0, ns).UTC() }

// us is n microseconds in nanoseconds: generated timestamps keep
// microsecond granularity, which pcap stores exactly.
func us(n int64) int64 { return n * 1000 }

// filler is the payload bytes are cut from: text, so that hex dumps of
// generated captures read as traffic.
var filler = func() []byte {
	const line = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nServer: skbsim\r\n\r\nThe quick brown fox jumps over the lazy dog. "
	b := make([]byte, 0, 70000)
	for len(b) < 65536 {
		b = append(b, line...)
	}
	return b[:65536]
}()

func payload(n int) gopacket.Payload { return gopacket.Payload(filler[:n]) }

// host is one end of a conversation.
type host struct {
	mac net.HardwareAddr
	ip  net.IP // 4 or 16 bytes
}

func macFor(ip net.IP) net.HardwareAddr {
	h := fmix64(binary.BigEndian.Uint64(ip.To16()[:8]) ^ binary.BigEndian.Uint64(ip.To16()[8:]))
	return net.HardwareAddr{0x02, byte(h >> 32), byte(h >> 24), byte(h >> 16), byte(h >> 8), byte(h)}
}

func (b *flowBuilder) v4(a, c byte) host {
	ip := net.IP{a, c, byte(b.rng.IntN(256)), byte(1 + b.rng.IntN(254))}
	return host{mac: macFor(ip), ip: ip}
}

func (b *flowBuilder) v6(prefix uint16) host {
	ip := make(net.IP, 16)
	binary.BigEndian.PutUint16(ip, 0xfd00)
	binary.BigEndian.PutUint16(ip[2:], prefix)
	binary.BigEndian.PutUint64(ip[8:], b.rng.Uint64())
	return host{mac: macFor(ip), ip: ip}
}

func (b *flowBuilder) client4() host { return b.v4(10, byte(1+b.rng.IntN(200))) }
func (b *flowBuilder) server4() host { return b.v4(192, 168) }
func (b *flowBuilder) client6() host { return b.v6(1) }
func (b *flowBuilder) server6() host { return b.v6(2) }
func (b *flowBuilder) ephemeral() uint16 {
	return uint16(32768 + b.rng.IntN(28232)) // net.ipv4.ip_local_port_range
}

// pathKind is how a flow's packets travel.
type pathKind uint8

const (
	pathPlain pathKind = iota
	pathVLAN
	pathQinQ
	pathVXLAN
	pathGeneve
	pathGRE
	pathGRETap
	pathGREinGRE
	pathIPIP
	pathSIT
	pathIP6IP6
	pathLB
)

// path wraps the inner packets of a flow: VLAN tags, tunnel endpoints.
type path struct {
	kind   pathKind
	vlan   [2]uint16
	outer  [2]host // tunnel endpoints (LB: the load balancer and the backend)
	mid    [2]host // GRE-in-GRE: the inner tunnel's endpoints
	id     uint32  // VNI or GRE key
	sport  [2]uint16
	seq    [2]uint32
	csum   bool
	ipid   [2]uint16
	lbMAC  net.HardwareAddr
	gwMACs [2]net.HardwareAddr
}

// flowBuilder plans the packets of one flow.
type flowBuilder struct {
	g    *generator
	rng  *rand.Rand
	t    int64
	link LinkType
	id   int
	a, c host // initiator and responder
	path path
	ipid [2]uint16
	pkts []genPacket
}

func (b *flowBuilder) build(k kind) {
	b.ipid = [2]uint16{uint16(b.rng.Uint32()), uint16(b.rng.Uint32())}
	switch k {
	case kTCP, kTCPRetx:
		b.a, b.c = b.client4(), b.server4()
		b.tcp(tcpOpts{retx: k == kTCPRetx})
	case kTCP6:
		b.a, b.c = b.client6(), b.server6()
		b.tcp(tcpOpts{})
	case kDNS:
		b.a, b.c = b.client4(), b.server4()
		b.dns()
	case kDNS6:
		b.a, b.c = b.client6(), b.server6()
		b.dns()
	case kPing:
		b.a, b.c = b.client4(), b.server4()
		b.ping(3)
	case kARP:
		if b.link == LinkRaw {
			b.a, b.c = b.client4(), b.server4()
			b.ping(1) // raw IP captures carry no ARP
			return
		}
		b.a, b.c = b.client4(), b.server4()
		b.arp()
	case kVLAN:
		b.a, b.c = b.client4(), b.server4()
		b.path = path{kind: pathVLAN, vlan: [2]uint16{uint16(10 + b.rng.IntN(100))}}
		b.tcp(tcpOpts{})
	case kQinQ:
		b.a, b.c = b.client4(), b.server4()
		b.path = path{kind: pathQinQ, vlan: [2]uint16{uint16(100 + b.rng.IntN(100)), uint16(10 + b.rng.IntN(100))}}
		b.tcp(tcpOpts{})
	case kFrag4:
		b.a, b.c = b.client4(), b.server4()
		b.frag4()
	case kIPv6Ext:
		b.a, b.c = b.client6(), b.server6()
		b.ipv6ext()
	case kVXLAN, kGeneve:
		b.a, b.c = b.v4(10, 244), b.v4(10, 244) // pods
		b.path = path{kind: pathVXLAN, outer: [2]host{b.v4(192, 168), b.v4(192, 168)}, id: uint32(1 + b.rng.IntN(4096))}
		b.path.sport = [2]uint16{uint16(49152 + b.rng.IntN(16384)), uint16(49152 + b.rng.IntN(16384))}
		if k == kGeneve {
			b.path.kind = pathGeneve
		}
		if b.rng.IntN(4) == 0 {
			b.dns()
		} else {
			b.tcp(tcpOpts{})
		}
	case kGRE:
		b.a, b.c = b.client4(), b.server4()
		b.path = path{kind: pathGRE, outer: [2]host{b.v4(172, 16), b.v4(172, 17)}, id: b.rng.Uint32() >> 8,
			csum: b.rng.IntN(2) == 0, seq: [2]uint32{1, 1}}
		b.tcp(tcpOpts{})
	case kGRETap:
		b.a, b.c = b.client4(), b.server4()
		b.path = path{kind: pathGRETap, outer: [2]host{b.v4(172, 16), b.v4(172, 17)}, id: b.rng.Uint32() >> 8}
		b.ping(3)
	case kGREinGRE:
		b.a, b.c = b.client4(), b.server4()
		b.path = path{kind: pathGREinGRE, outer: [2]host{b.v4(172, 16), b.v4(172, 17)},
			mid: [2]host{b.v4(172, 18), b.v4(172, 19)}, id: b.rng.Uint32() >> 8}
		b.ping(3)
	case kIPIP:
		b.a, b.c = b.client4(), b.server4()
		b.path = path{kind: pathIPIP, outer: [2]host{b.v4(172, 20), b.v4(172, 21)}}
		b.tcp(tcpOpts{})
	case kSIT:
		b.a, b.c = b.client6(), b.server6()
		b.path = path{kind: pathSIT, outer: [2]host{b.v4(172, 22), b.v4(172, 23)}}
		b.ping(3)
	case kIP6IP6:
		b.a, b.c = b.client6(), b.server6()
		b.path = path{kind: pathIP6IP6, outer: [2]host{b.v6(0xa), b.v6(0xb)}}
		b.dns()
	case kLB:
		b.a = b.v4(198, 18)
		vip := net.IP{192, 0, 2, byte(10 + b.rng.IntN(4))}
		b.c = host{mac: macFor(vip), ip: vip}
		lbIP := net.IP{10, 0, 0, byte(1 + b.rng.IntN(4))}
		lb := host{mac: macFor(lbIP), ip: lbIP}
		backend := net.IP{10, 0, 1, 0}
		// Consistent choice of one of 8 backends by flow: the same
		// client port always reaches the same backend.
		backend[3] = byte(1 + b.rng.IntN(8))
		b.path = path{kind: pathLB, outer: [2]host{lb, {mac: macFor(backend), ip: backend}},
			lbMAC: lb.mac, gwMACs: [2]net.HardwareAddr{macFor(net.IP{10, 0, 0, 254}), macFor(backend)}}
		b.tcp(tcpOpts{})
	case kOverlayNode:
		b.overlayNode()
	case kQUIC:
		b.quic()
	case kQUICRouter:
		b.quicRouter()
	default:
		panic(fmt.Sprintf("capture: no builder for flow kind %d", k))
	}
}

// The VXLAN overlay node of examples/overlay.yaml: its address, the remote
// node's, the VNI, and the two local pods (the scenario's veth peers) with
// the UDP port their sockets are bound to.
var (
	overlayNodeAddr   = netip.AddrFrom4([4]byte{192, 168, 1, 1})
	overlayRemoteAddr = netip.AddrFrom4([4]byte{192, 168, 1, 2})
	overlayPods       = [2]overlayPod{
		{mac: net.HardwareAddr{0x02, 0x00, 0x0a, 0xf4, 0x01, 0x02}, addr: netip.AddrFrom4([4]byte{10, 244, 1, 2})},
		{mac: net.HardwareAddr{0x02, 0x00, 0x0a, 0xf4, 0x01, 0x03}, addr: netip.AddrFrom4([4]byte{10, 244, 1, 3})},
	}
)

// overlayPod is a pod of the overlay-node preset's node.
type overlayPod struct {
	mac  net.HardwareAddr
	addr netip.Addr
}

const (
	// overlayVNI is the VNI of the overlay-node preset.
	overlayVNI = 42
	// overlayPodPort is the UDP port the overlay node's pods receive on.
	overlayPodPort = 8080
	// overlayMaxPayload fits the inner frame in the outer 1500-byte MTU:
	// 1500 - 20 (outer IP) - 8 (UDP) - 8 (VXLAN) - 14 (inner Ethernet) - 20
	// (inner IP) - 8 (inner UDP). The VXLAN device's MTU is 1450.
	overlayMaxPayload = 1422
)

// overlayNode plans what the NIC of the overlay node receives from one
// remote pod: a burst of UDP datagrams to one of the two local pods' port,
// each in a VXLAN packet from the remote node with VNI 42. The remote pods
// (10.244.2.2-33, the remote node's pod range) are drawn per flow, so a
// remote pod talks to both local pods over the capture. The pods' replies
// are not planned: a capture replayed through the scenario enters its NIC
// as received traffic, and the scenario has no path that sends.
func (b *flowBuilder) overlayNode() {
	rp := net.IP{10, 244, 2, byte(2 + b.rng.IntN(32))}
	b.a = host{mac: macFor(rp), ip: rp}
	pod := overlayPods[b.rng.IntN(len(overlayPods))]
	b.c = host{mac: pod.mac, ip: pod.addr.AsSlice()}
	remote, node := overlayRemoteAddr.AsSlice(), overlayNodeAddr.AsSlice()
	b.path = path{kind: pathVXLAN, id: overlayVNI,
		outer: [2]host{{mac: macFor(remote), ip: remote}, {mac: macFor(node), ip: node}}}
	cport := b.ephemeral()
	sp := vxlanSrcPort(b.a.ip, b.c.ip, cport, overlayPodPort)
	b.path.sport = [2]uint16{sp, sp}
	for i := range 1 + b.rng.IntN(16) {
		ip := b.ip(0, layers.IPProtocolUDP)
		udp := &layers.UDP{SrcPort: layers.UDPPort(cport), DstPort: overlayPodPort}
		udp.SetNetworkLayerForChecksum(ip)
		dt := us(50 + b.rng.Int64N(2000))
		if i == 0 {
			dt = 0
		}
		b.emit(dt, 0, ip.(gopacket.SerializableLayer), udp, payload(16+b.rng.IntN(overlayMaxPayload-15)))
	}
}

// The QUIC client and server of the quic preset (examples/udp-gso.yaml:
// the pod's veth end and the host's), the server's port, and the segment
// size the client's socket sets with UDP_SEGMENT.
var (
	quicClientAddr = netip.AddrFrom4([4]byte{10, 0, 0, 2})
	quicServerAddr = netip.AddrFrom4([4]byte{10, 0, 0, 1})
)

const (
	quicServerPort = 443
	quicSegment    = 1200
	quicMaxSegs    = 10
)

// quic plans one connection's worth of what the client sends: a train of
// UDP datagrams, each a batch of 1 to quicMaxSegs segments of quicSegment
// payload bytes (the last one shorter), as tcpdump on a sender using
// UDP_SEGMENT captures them: one large datagram per sendmsg, before the
// stack segments it. The server's replies are not planned: the scenario
// sends the capture from the client's socket.
func (b *flowBuilder) quic() {
	c, s := quicClientAddr.AsSlice(), quicServerAddr.AsSlice()
	b.a, b.c = host{mac: macFor(c), ip: c}, host{mac: macFor(s), ip: s}
	cport := b.ephemeral()
	for i := range 1 + b.rng.IntN(12) {
		segs := 1 + b.rng.IntN(quicMaxSegs)
		n := (segs-1)*quicSegment + 20 + b.rng.IntN(quicSegment-19)
		ip := b.ip(0, layers.IPProtocolUDP)
		udp := &layers.UDP{SrcPort: layers.UDPPort(cport), DstPort: quicServerPort}
		udp.SetNetworkLayerForChecksum(ip)
		dt := us(20 + b.rng.Int64N(500))
		if i == 0 {
			dt = 0
		}
		b.emit(dt, 0, ip.(gopacket.SerializableLayer), udp, payload(n))
	}
}

// quicRouter plans one QUIC-style connection as a router's NIC receives it
// on the clients' side: a train of bursts, each one UDP_SEGMENT send of the
// client cut into its datagrams (1 to quicMaxSegs of quicSegment payload
// bytes, the last one shorter; IP IDs counting up, DF set) 2 µs apart, from
// a client in 198.51.100.0/24 to one of four servers in 203.0.113.0/24 on
// port 443. The servers' replies are not planned.
func (b *flowBuilder) quicRouter() {
	c := net.IP{198, 51, 100, byte(10 + b.rng.IntN(200))}
	s := net.IP{203, 0, 113, byte(10 + b.rng.IntN(4))}
	b.a, b.c = host{mac: macFor(c), ip: c}, host{mac: macFor(s), ip: s}
	cport := b.ephemeral()
	for i := range 1 + b.rng.IntN(12) {
		segs := 1 + b.rng.IntN(quicMaxSegs)
		last := 20 + b.rng.IntN(quicSegment-19)
		for j := range segs {
			n := quicSegment
			if j == segs-1 {
				n = last
			}
			ip := b.ip(0, layers.IPProtocolUDP)
			udp := &layers.UDP{SrcPort: layers.UDPPort(cport), DstPort: quicServerPort}
			udp.SetNetworkLayerForChecksum(ip)
			dt := us(2)
			switch {
			case i == 0 && j == 0:
				dt = 0
			case j == 0:
				dt = us(20 + b.rng.Int64N(500))
			}
			b.emit(dt, 0, ip.(gopacket.SerializableLayer), udp, payload(n))
		}
	}
}

// vxlanSrcPort models udp_flow_src_port() as vxlan_xmit_one() calls it
// with the default port range (inet_get_local_port_range: 32768-60999):
// the inner flow's hash, folded (hash ^= hash << 16) and scaled into the
// range, so every packet of an inner flow leaves from the same port. The
// hash stands in for skb_get_hash()'s flow dissector hash.
func vxlanSrcPort(src, dst net.IP, sport, dport uint16) uint16 {
	const lo, hi = 32768, 60999
	h := fmix64(binary.BigEndian.Uint64(src.To16()[8:]) ^ binary.BigEndian.Uint64(dst.To16()[8:])<<1 ^
		uint64(sport)<<32 ^ uint64(dport))
	x := uint32(h)
	x ^= x << 16
	return uint16(uint64(x)*(hi-lo)>>32 + lo)
}

// ends returns source and destination of direction dir (0: a to c).
func (b *flowBuilder) ends(dir int) (src, dst host) {
	if dir == 0 {
		return b.a, b.c
	}
	return b.c, b.a
}

// ip returns the network layer for direction dir.
func (b *flowBuilder) ip(dir int, proto layers.IPProtocol) gopacket.NetworkLayer {
	src, dst := b.ends(dir)
	b.ipid[dir]++
	if src.ip.To4() != nil {
		return &layers.IPv4{Version: 4, TTL: 64, Id: b.ipid[dir], Flags: layers.IPv4DontFragment,
			Protocol: proto, SrcIP: src.ip, DstIP: dst.ip}
	}
	return &layers.IPv6{Version: 6, HopLimit: 64, FlowLabel: uint32(b.id) & 0xfffff,
		NextHeader: proto, SrcIP: src.ip, DstIP: dst.ip}
}

func etherTypeOf(ip net.IP) layers.EthernetType {
	if ip.To4() != nil {
		return layers.EthernetTypeIPv4
	}
	return layers.EthernetTypeIPv6
}

// link returns the link-layer header(s) for a frame from src to dst.
func (b *flowBuilder) linkLayers(dir int, srcMAC, dstMAC net.HardwareAddr, et layers.EthernetType, vlans []uint16, qinq bool) []gopacket.SerializableLayer {
	switch b.link {
	case LinkRaw:
		return nil
	case LinkLinuxSLL:
		return []gopacket.SerializableLayer{&sllHeader{outgoing: dir == 0, addr: srcMAC, proto: et}}
	case LinkSLL2:
		return []gopacket.SerializableLayer{&sll2Header{outgoing: dir == 0, addr: srcMAC, proto: et, ifindex: 2}}
	}
	eth := &layers.Ethernet{SrcMAC: srcMAC, DstMAC: dstMAC, EthernetType: et}
	ls := []gopacket.SerializableLayer{eth}
	for i, v := range vlans {
		tag := &layers.Dot1Q{VLANIdentifier: v, Type: et}
		if i == 0 {
			eth.EthernetType = layers.EthernetTypeDot1Q
			if qinq {
				eth.EthernetType = layers.EthernetTypeQinQ
			}
		} else {
			ls[len(ls)-1].(*layers.Dot1Q).Type = layers.EthernetTypeDot1Q
		}
		ls = append(ls, tag)
	}
	return ls
}

// outerIP is a tunnel's outer network layer from endpoint s to d.
func (b *flowBuilder) outerIP(dir int, s, d host, proto layers.IPProtocol) gopacket.NetworkLayer {
	b.path.ipid[dir]++
	if s.ip.To4() != nil {
		return &layers.IPv4{Version: 4, TTL: 64, Id: b.path.ipid[dir], Protocol: proto, SrcIP: s.ip, DstIP: d.ip}
	}
	return &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: proto, SrcIP: s.ip, DstIP: d.ip}
}

// emit plans a packet dt after the previous one, in direction dir, whose
// inner headers (L3 and up) are given.
func (b *flowBuilder) emit(dt int64, dir int, inner ...gopacket.SerializableLayer) {
	b.t += dt
	src, dst := b.ends(dir)
	et := etherTypeOf(src.ip)
	if _, arp := inner[0].(*layers.ARP); arp {
		et = layers.EthernetTypeARP
	}
	p := &b.path
	var ls []gopacket.SerializableLayer
	innerEth := func() gopacket.SerializableLayer {
		return &layers.Ethernet{SrcMAC: src.mac, DstMAC: dst.mac, EthernetType: et}
	}
	tunnel := func(proto layers.IPProtocol) (host, host, gopacket.NetworkLayer) {
		s, d := p.outer[dir], p.outer[1-dir]
		ls = b.linkLayers(dir, s.mac, d.mac, etherTypeOf(s.ip), nil, false)
		oip := b.outerIP(dir, s, d, proto)
		ls = append(ls, oip.(gopacket.SerializableLayer))
		return s, d, oip
	}
	switch p.kind {
	case pathPlain:
		ls = b.linkLayers(dir, src.mac, dst.mac, et, nil, false)
	case pathVLAN:
		ls = b.linkLayers(dir, src.mac, dst.mac, et, p.vlan[:1], false)
	case pathQinQ:
		ls = b.linkLayers(dir, src.mac, dst.mac, et, p.vlan[:2], true)
	case pathVXLAN, pathGeneve:
		_, _, oip := tunnel(layers.IPProtocolUDP)
		udp := &layers.UDP{SrcPort: layers.UDPPort(p.sport[dir]), DstPort: portVXLAN}
		udp.SetNetworkLayerForChecksum(oip)
		ls = append(ls, udp)
		if p.kind == pathVXLAN {
			ls = append(ls, &layers.VXLAN{ValidIDFlag: true, VNI: p.id})
		} else {
			udp.DstPort = portGeneve
			ls = append(ls, &layers.Geneve{Protocol: layers.EthernetTypeTransparentEthernetBridging, VNI: p.id,
				Options: []*layers.GeneveOption{{Class: 0x0102, Type: 0x80, Data: []byte{0, 0, byte(b.id >> 8), byte(b.id)}}}})
		}
		ls = append(ls, innerEth())
	case pathGRE:
		tunnel(layers.IPProtocolGRE)
		ls = append(ls, &layers.GRE{KeyPresent: true, Key: p.id, SeqPresent: true, Seq: p.seq[dir],
			ChecksumPresent: p.csum, Protocol: et})
		p.seq[dir]++
	case pathGRETap:
		tunnel(layers.IPProtocolGRE)
		ls = append(ls, &layers.GRE{KeyPresent: true, Key: p.id, Protocol: layers.EthernetTypeTransparentEthernetBridging}, innerEth())
	case pathGREinGRE:
		tunnel(layers.IPProtocolGRE)
		ls = append(ls, &layers.GRE{Protocol: layers.EthernetTypeIPv4})
		ms, md := p.mid[dir], p.mid[1-dir]
		ls = append(ls, b.outerIP(dir, ms, md, layers.IPProtocolGRE).(gopacket.SerializableLayer),
			&layers.GRE{KeyPresent: true, Key: p.id, Protocol: et})
	case pathIPIP:
		tunnel(layers.IPProtocolIPv4)
	case pathSIT, pathIP6IP6:
		tunnel(layers.IPProtocolIPv6)
	case pathLB:
		b.emitLB(dir, et, inner)
		return
	}
	ls = append(ls, inner...)
	b.pkts = append(b.pkts, genPacket{ts: b.t, layers: ls})
}

// emitLB plans what a capture at an IPIP load balancer sees: requests to
// the VIP arrive plain and leave encapsulated toward the backend a few
// microseconds later (models ipip_tunnel_xmit() as used by IPVS tunnel
// mode and XDP load balancers); replies come back from the backend to the
// client directly.
func (b *flowBuilder) emitLB(dir int, et layers.EthernetType, inner []gopacket.SerializableLayer) {
	p := &b.path
	src, _ := b.ends(dir)
	if dir == 1 {
		ls := append(b.linkLayers(dir, p.gwMACs[1], p.gwMACs[0], et, nil, false), inner...)
		b.pkts = append(b.pkts, genPacket{ts: b.t, layers: ls})
		return
	}
	ls := append(b.linkLayers(dir, src.mac, p.lbMAC, et, nil, false), inner...)
	b.pkts = append(b.pkts, genPacket{ts: b.t, layers: ls})
	lb, be := p.outer[0], p.outer[1]
	enc := b.linkLayers(dir, lb.mac, be.mac, layers.EthernetTypeIPv4, nil, false)
	enc = append(enc, b.outerIP(0, lb, be, layers.IPProtocolIPv4).(gopacket.SerializableLayer))
	// The inner headers are serialised twice: give the copy its own
	// layer values so that checksums are computed against the right IP.
	enc = append(enc, cloneLayers(inner)...)
	b.pkts = append(b.pkts, genPacket{ts: b.t + us(int64(3+b.rng.IntN(20))), layers: enc})
}

// cloneLayers copies the IP, TCP and payload layers of an inner packet.
func cloneLayers(ls []gopacket.SerializableLayer) []gopacket.SerializableLayer {
	out := make([]gopacket.SerializableLayer, len(ls))
	var net gopacket.NetworkLayer
	for i, l := range ls {
		switch v := l.(type) {
		case *layers.IPv4:
			c := *v
			out[i], net = &c, &c
		case *layers.IPv6:
			c := *v
			out[i], net = &c, &c
		case *layers.TCP:
			c := *v
			c.SetNetworkLayerForChecksum(net)
			out[i] = &c
		case *layers.UDP:
			c := *v
			c.SetNetworkLayerForChecksum(net)
			out[i] = &c
		default:
			out[i] = l
		}
	}
	return out
}

type tcpOpts struct {
	retx bool // lose and retransmit segments, with duplicate ACKs
}

// tcp plans a TCP connection: handshake, a request, a response of several
// segments acknowledged every second segment, optional losses, and the
// FIN exchange. Times are as seen near the client.
func (b *flowBuilder) tcp(o tcpOpts) {
	rtt := us(200 + b.rng.Int64N(30000))
	cport, sport := b.ephemeral(), uint16([]int{80, 443, 8080, 22}[b.rng.IntN(4)])
	if b.path.kind == pathLB {
		sport = 80
	}
	cseq, sseq := b.rng.Uint32(), b.rng.Uint32()
	tsval := b.rng.Uint32()
	seg := func(dir int, flags TCPFlags, seq, ack uint32, n int, syn bool) []gopacket.SerializableLayer {
		ip := b.ip(dir, layers.IPProtocolTCP)
		t := &layers.TCP{Seq: seq, Ack: ack, Window: 502, SYN: flags&TCPSyn != 0, ACK: flags&TCPAck != 0,
			PSH: flags&TCPPsh != 0, FIN: flags&TCPFin != 0}
		t.SrcPort, t.DstPort = layers.TCPPort(cport), layers.TCPPort(sport)
		if dir == 1 {
			t.SrcPort, t.DstPort = t.DstPort, t.SrcPort
		}
		ts := make([]byte, 8)
		binary.BigEndian.PutUint32(ts, tsval+uint32(b.t/1e6))
		if syn {
			t.Window = 64240
			t.Options = []layers.TCPOption{
				{OptionType: layers.TCPOptionKindMSS, OptionData: []byte{0x05, 0xb4}},
				{OptionType: layers.TCPOptionKindSACKPermitted},
				{OptionType: layers.TCPOptionKindTimestamps, OptionData: ts},
				{OptionType: layers.TCPOptionKindNop},
				{OptionType: layers.TCPOptionKindWindowScale, OptionData: []byte{7}},
			}
		} else {
			t.Options = []layers.TCPOption{
				{OptionType: layers.TCPOptionKindNop},
				{OptionType: layers.TCPOptionKindNop},
				{OptionType: layers.TCPOptionKindTimestamps, OptionData: ts},
			}
		}
		t.SetNetworkLayerForChecksum(ip)
		ls := []gopacket.SerializableLayer{ip.(gopacket.SerializableLayer), t}
		if n > 0 {
			ls = append(ls, payload(n))
		}
		return ls
	}
	mss := 1448 // 1500 - 20 - 20 - 12 (timestamps)
	if b.a.ip.To4() == nil {
		mss = 1428 // 1500 - 40 - 20 - 12: IPv6 frames fit the MTU too
	}
	b.emit(0, 0, seg(0, TCPSyn, cseq, 0, 0, true)...)
	if o.retx && b.rng.IntN(3) == 0 {
		b.emit(us(1000000), 0, seg(0, TCPSyn, cseq, 0, 0, true)...) // SYN retransmitted after the initial RTO
	}
	cseq++
	b.emit(rtt, 1, seg(1, TCPSyn|TCPAck, sseq, cseq, 0, true)...)
	sseq++
	b.emit(us(30), 0, seg(0, TCPAck, cseq, sseq, 0, false)...)
	req := 80 + b.rng.IntN(500)
	b.emit(us(50), 0, seg(0, TCPAck|TCPPsh, cseq, sseq, req, false)...)
	cseq += uint32(req)
	resp := 1 + b.rng.IntN(20*mss)
	nseg := (resp + mss - 1) / mss
	lost := -1
	if o.retx && nseg > 1 {
		lost = b.rng.IntN(nseg)
	}
	b.t += rtt + us(100+b.rng.Int64N(2000))
	acked := sseq
	// The response is one write: the server's TSO segments carry PSH on
	// the last one only (tcp_gso_segment clears PSH on the others).
	pshIf := func(i int) TCPFlags {
		if i == nseg-1 {
			return TCPAck | TCPPsh
		}
		return TCPAck
	}
	for i := range nseg {
		n := min(mss, resp-i*mss)
		seq := sseq + uint32(i*mss)
		b.emit(us(12), 1, seg(1, pshIf(i), seq, cseq, n, false)...)
		switch {
		case i > lost && lost >= 0:
			// The client saw a hole: duplicate ACK of the lost segment.
			b.emit(us(10), 0, seg(0, TCPAck, cseq, acked, 0, false)...)
		case i != lost && (i%2 == 1 || i == nseg-1):
			acked = seq + uint32(n)
			b.emit(us(10), 0, seg(0, TCPAck, cseq, acked, 0, false)...)
		case i == lost:
			acked = seq
		}
	}
	if lost >= 0 {
		// Fast retransmit after the duplicate ACKs, or the RTO.
		seq := sseq + uint32(lost*mss)
		n := min(mss, resp-lost*mss)
		b.emit(max(rtt, us(200000)), 1, seg(1, pshIf(lost), seq, cseq, n, false)...)
		b.emit(us(10), 0, seg(0, TCPAck, cseq, sseq+uint32(resp), 0, false)...)
	}
	sseq += uint32(resp)
	b.emit(us(1000+b.rng.Int64N(50000)), 0, seg(0, TCPFin|TCPAck, cseq, sseq, 0, false)...)
	cseq++
	b.emit(rtt, 1, seg(1, TCPFin|TCPAck, sseq, cseq, 0, false)...)
	sseq++
	b.emit(us(20), 0, seg(0, TCPAck, cseq, sseq, 0, false)...)
}

// dns plans a DNS query and its answer.
func (b *flowBuilder) dns() {
	rtt := us(300 + b.rng.Int64N(20000))
	cport := b.ephemeral()
	id := uint16(b.rng.Uint32())
	name := []byte(fmt.Sprintf("host%d.svc.example.com", b.rng.IntN(1000)))
	v6 := b.a.ip.To4() == nil
	qtype := layers.DNSTypeA
	if v6 {
		qtype = layers.DNSTypeAAAA
	}
	q := layers.DNSQuestion{Name: name, Type: qtype, Class: layers.DNSClassIN}
	ip := b.ip(0, layers.IPProtocolUDP)
	udp := &layers.UDP{SrcPort: layers.UDPPort(cport), DstPort: 53}
	udp.SetNetworkLayerForChecksum(ip)
	b.emit(0, 0, ip.(gopacket.SerializableLayer), udp, &layers.DNS{ID: id, RD: true, Questions: []layers.DNSQuestion{q}})
	ans := layers.DNSResourceRecord{Name: name, Type: qtype, Class: layers.DNSClassIN, TTL: 300,
		IP: net.IP{192, 0, 2, byte(b.rng.IntN(256))}}
	if v6 {
		ans.IP = b.server6().ip
	}
	ip = b.ip(1, layers.IPProtocolUDP)
	udp = &layers.UDP{SrcPort: 53, DstPort: layers.UDPPort(cport)}
	udp.SetNetworkLayerForChecksum(ip)
	b.emit(rtt, 1, ip.(gopacket.SerializableLayer), udp, &layers.DNS{ID: id, QR: true, RD: true, RA: true,
		Questions: []layers.DNSQuestion{q}, Answers: []layers.DNSResourceRecord{ans}})
}

// ping plans n ICMP (or ICMPv6) echo exchanges.
func (b *flowBuilder) ping(n int) {
	rtt := us(100 + b.rng.Int64N(10000))
	id := uint16(b.rng.Uint32())
	v6 := b.a.ip.To4() == nil
	for i := range n {
		for dir := range 2 {
			var ls []gopacket.SerializableLayer
			if v6 {
				ip := b.ip(dir, layers.IPProtocolICMPv6)
				typ := uint8(layers.ICMPv6TypeEchoRequest) + uint8(dir)
				ic := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(typ, 0)}
				ic.SetNetworkLayerForChecksum(ip)
				ls = []gopacket.SerializableLayer{ip.(gopacket.SerializableLayer), ic,
					&layers.ICMPv6Echo{Identifier: id, SeqNumber: uint16(i + 1)}, payload(56)}
			} else {
				typ := uint8(layers.ICMPv4TypeEchoRequest)
				if dir == 1 {
					typ = layers.ICMPv4TypeEchoReply
				}
				ls = []gopacket.SerializableLayer{b.ip(dir, layers.IPProtocolICMPv4).(gopacket.SerializableLayer),
					&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(typ, 0), Id: id, Seq: uint16(i + 1)}, payload(56)}
			}
			dt := rtt
			if dir == 0 && i > 0 {
				dt = us(10000)
			} else if dir == 0 {
				dt = 0
			}
			b.emit(dt, dir, ls...)
		}
	}
}

// arp plans a who-has and its reply.
func (b *flowBuilder) arp() {
	bcast := net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	req := &layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4,
		Operation: layers.ARPRequest, SourceHwAddress: b.a.mac, SourceProtAddress: b.a.ip.To4(),
		DstHwAddress: make(net.HardwareAddr, 6), DstProtAddress: b.c.ip.To4()}
	ls := append(b.linkLayers(0, b.a.mac, bcast, layers.EthernetTypeARP, nil, false), req)
	b.pkts = append(b.pkts, genPacket{ts: b.t, layers: ls})
	rep := &layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4,
		Operation: layers.ARPReply, SourceHwAddress: b.c.mac, SourceProtAddress: b.c.ip.To4(),
		DstHwAddress: b.a.mac, DstProtAddress: b.a.ip.To4()}
	b.t += us(50 + b.rng.Int64N(500))
	ls = append(b.linkLayers(1, b.c.mac, b.a.mac, layers.EthernetTypeARP, nil, false), rep)
	b.pkts = append(b.pkts, genPacket{ts: b.t, layers: ls})
}

// udpDatagram serialises a UDP header and n payload bytes with the
// checksum for network layer ip, for fragmentation.
func udpDatagram(ip gopacket.NetworkLayer, sport, dport uint16, n int) []byte {
	udp := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
	udp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		udp, payload(n)); err != nil {
		panic("capture: serialising a UDP datagram: " + err.Error())
	}
	return append([]byte(nil), buf.Bytes()...)
}

// frag4 plans a UDP datagram larger than the MTU, fragmented as
// ip_do_fragment() does (1480-byte fragments), sometimes delivered in
// reverse order, and a small reply.
func (b *flowBuilder) frag4() {
	ip := b.ip(0, layers.IPProtocolUDP).(*layers.IPv4)
	cport := b.ephemeral()
	dgram := udpDatagram(ip, cport, 2049, 2000+b.rng.IntN(7000))
	const fragLen = 1480
	var frags [][]gopacket.SerializableLayer
	for off := 0; off < len(dgram); off += fragLen {
		end := min(off+fragLen, len(dgram))
		f := &layers.IPv4{Version: 4, TTL: 64, Id: ip.Id, Protocol: layers.IPProtocolUDP,
			SrcIP: ip.SrcIP, DstIP: ip.DstIP, FragOffset: uint16(off / 8)}
		if end < len(dgram) {
			f.Flags = layers.IPv4MoreFragments
		}
		frags = append(frags, []gopacket.SerializableLayer{f, gopacket.Payload(dgram[off:end])})
	}
	if b.rng.IntN(4) == 0 {
		for i, j := 0, len(frags)-1; i < j; i, j = i+1, j-1 {
			frags[i], frags[j] = frags[j], frags[i]
		}
	}
	for i, f := range frags {
		dt := us(12)
		if i == 0 {
			dt = 0
		}
		b.emit(dt, 0, f...)
	}
	rip := b.ip(1, layers.IPProtocolUDP)
	udp := &layers.UDP{SrcPort: 2049, DstPort: layers.UDPPort(cport)}
	udp.SetNetworkLayerForChecksum(rip)
	b.emit(us(200+b.rng.Int64N(5000)), 1, rip.(gopacket.SerializableLayer), udp, payload(120))
}

// ipv6ext plans IPv6 packets with extension headers: hop-by-hop (router
// alert), destination options and a segment routing header before UDP, an
// echo with hop-by-hop, and a UDP datagram in two fragments.
func (b *flowBuilder) ipv6ext() {
	src, dst := b.a, b.c
	base := func(next layers.IPProtocol) *layers.IPv6 {
		return &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: next, SrcIP: src.ip, DstIP: dst.ip}
	}
	hbh := func(next layers.IPProtocol) *layers.IPv6HopByHop {
		h := &layers.IPv6HopByHop{Options: []*layers.IPv6HopByHopOption{
			{OptionType: 5, OptionData: []byte{0, 0}}, // router alert: MLD
			{OptionType: 1}, // PadN
		}}
		h.NextHeader = next
		return h
	}
	// 1. HBH + destination options + SRH + UDP.
	ip := base(layers.IPProtocolIPv6HopByHop)
	dopt := &layers.IPv6Destination{Options: []*layers.IPv6DestinationOption{{OptionType: 1, OptionData: make([]byte, 4)}}}
	dopt.NextHeader = layers.IPProtocolIPv6Routing
	seg1 := b.server6().ip
	rt := &layers.IPv6Routing{RoutingType: 4, SegmentsLeft: 1, Reserved: []byte{1, 0, 0, 0},
		Data: append(append([]byte(nil), dst.ip...), seg1...)}
	rt.NextHeader = layers.IPProtocolUDP
	ip.DstIP = seg1 // the active segment
	cport := b.ephemeral()
	udp := &layers.UDP{SrcPort: layers.UDPPort(cport), DstPort: 5001}
	udp.SetNetworkLayerForChecksum(ip)
	b.emit(0, 0, ip, hbh(layers.IPProtocolIPv6Destination), dopt, rt, udp, payload(64+b.rng.IntN(400)))
	// 2. Echo with a hop-by-hop header.
	ip = base(layers.IPProtocolIPv6HopByHop)
	ic := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeEchoRequest, 0)}
	ic.SetNetworkLayerForChecksum(ip)
	b.emit(us(500), 0, ip, hbh(layers.IPProtocolICMPv6), ic, &layers.ICMPv6Echo{Identifier: uint16(b.id), SeqNumber: 1}, payload(56))
	// 3. A datagram in two fragments.
	ip = base(layers.IPProtocolUDP)
	dgram := udpDatagram(ip, cport, 5001, 1800+b.rng.IntN(800))
	id := b.rng.Uint32()
	const fragLen = 1232 // 1280 - 40 - 8
	for off := 0; off < len(dgram); off += fragLen {
		end := min(off+fragLen, len(dgram))
		fip := base(layers.IPProtocolIPv6Fragment)
		fh := &layers.IPv6Fragment{NextHeader: layers.IPProtocolUDP, FragmentOffset: uint16(off / 8),
			MoreFragments: end < len(dgram), Identification: id}
		b.emit(us(15), 0, fip, fh, gopacket.Payload(dgram[off:end]))
	}
}

// sllHeader serialises a Linux cooked capture v1 header, which gopacket
// can decode but not write.
type sllHeader struct {
	outgoing bool
	addr     net.HardwareAddr
	proto    layers.EthernetType
}

func (h *sllHeader) LayerType() gopacket.LayerType { return layers.LayerTypeLinuxSLL }

func (h *sllHeader) SerializeTo(b gopacket.SerializeBuffer, _ gopacket.SerializeOptions) error {
	p, err := b.PrependBytes(16)
	if err != nil {
		return err
	}
	clear(p)
	if h.outgoing {
		p[1] = 4 // PACKET_OUTGOING
	}
	p[3] = 1 // ARPHRD_ETHER
	p[5] = 6
	copy(p[6:12], h.addr)
	binary.BigEndian.PutUint16(p[14:], uint16(h.proto))
	return nil
}

// sll2Header serialises a Linux cooked capture v2 header.
type sll2Header struct {
	outgoing bool
	addr     net.HardwareAddr
	proto    layers.EthernetType
	ifindex  uint32
}

func (h *sll2Header) LayerType() gopacket.LayerType { return layers.LayerTypeLinuxSLL2 }

func (h *sll2Header) SerializeTo(b gopacket.SerializeBuffer, _ gopacket.SerializeOptions) error {
	p, err := b.PrependBytes(20)
	if err != nil {
		return err
	}
	clear(p)
	binary.BigEndian.PutUint16(p[0:], uint16(h.proto))
	binary.BigEndian.PutUint32(p[4:], h.ifindex)
	p[9] = 1 // ARPHRD_ETHER
	if h.outgoing {
		p[10] = 4
	}
	p[11] = 6
	copy(p[12:18], h.addr)
	return nil
}
