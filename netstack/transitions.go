package netstack

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/kernel/observe"
	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/skb"
)

// transitionMACs are the device addresses of the transition topologies.
var transitionMACs = observe.DeviceMACs

// TransitionConfig returns the model configuration of t's topology as its
// Setup text describes it, the sender socket's name, and the destination
// of the marked packet. Recorder programs are not included.
func TransitionConfig(t observe.Transition) (cfg *Config, dst netip.Addr, err error) {
	mac := transitionMACs
	veth := func(name, ns, peer, peerNs, a, pa string) DeviceConfig {
		d := DeviceConfig{Name: name, Kind: KindVeth, Netns: ns, MAC: mac[name], Peer: peer,
			PeerNetns: peerNs, PeerMAC: mac[peer]}
		if a != "" {
			d.Addrs = []netip.Prefix{netip.MustParsePrefix(a)}
		}
		if pa != "" {
			d.PeerAddrs = []netip.Prefix{netip.MustParsePrefix(pa)}
		}
		return d
	}
	neigh := func(ns, dev, a, to string) NeighConfig {
		return NeighConfig{Netns: ns, Dev: dev, Addr: netip.MustParseAddr(a), MAC: mac[to]}
	}
	cfg = &Config{}
	sender := "A"
	switch t.Topology {
	case observe.TopoSameNetns:
		cfg.Namespaces = []NamespaceConfig{{Name: "A"}}
		cfg.Devices = []DeviceConfig{veth("vX", "A", "vY", "A", "192.0.2.1/24", "192.0.2.2/24")}
		cfg.Routes = []RouteConfig{{Netns: "A", Dst: netip.MustParsePrefix("203.0.113.0/24"), Dev: "vX"}}
		cfg.Neighbours = []NeighConfig{neigh("A", "vX", "203.0.113.2", "vY")}
		dst = netip.MustParseAddr("203.0.113.2")
	case observe.TopoPair:
		cfg.Namespaces = []NamespaceConfig{{Name: "A"}, {Name: "B"}}
		cfg.Devices = []DeviceConfig{veth("vA", "A", "vB", "B", "192.0.2.1/24", "192.0.2.2/24")}
		cfg.Neighbours = []NeighConfig{neigh("A", "vA", "192.0.2.2", "vB")}
		dst = netip.MustParseAddr("192.0.2.2")
	case observe.TopoHub, observe.TopoHubRouted:
		routed := t.Topology == observe.TopoHubRouted
		cfg.Namespaces = []NamespaceConfig{{Name: "A"}, {Name: "B"}, {Name: "C"}, {Name: "H", Forwarding: routed}}
		if routed {
			cfg.Routes = []RouteConfig{{Netns: "H", Dst: netip.MustParsePrefix("192.0.2.2/32"), Dev: "hB"}}
		}
		cfg.Devices = []DeviceConfig{
			veth("vA", "A", "hA", "H", "192.0.2.1/24", ""),
			veth("vB", "B", "hB", "H", "192.0.2.2/24", ""),
			veth("vC", "C", "hC", "H", "192.0.2.3/24", ""),
		}
		cfg.Neighbours = []NeighConfig{neigh("A", "vA", "192.0.2.2", "vB"), neigh("H", "hB", "192.0.2.2", "vB")}
		dst = netip.MustParseAddr("192.0.2.2")
	case observe.TopoBridge, observe.TopoBridgeFDB, observe.TopoBridgeNoNF, observe.TopoBridgeHairpin,
		observe.TopoBridgeIsolated, observe.TopoBridgeNoFlood, observe.TopoBridgeNoBcast:
		// br_netfilter is built into the measured kernel: both sysctls
		// are 1 unless the topology turns bridge-nf-call-iptables off.
		nf := t.Topology != observe.TopoBridgeNoNF
		cfg.Namespaces = []NamespaceConfig{{Name: "A"}, {Name: "B"}, {Name: "C"},
			{Name: "H", BridgeNFCallIPTables: nf, BridgeNFCallIP6Tables: true}}
		cfg.Devices = []DeviceConfig{{Name: "br0", Kind: KindBridge, Netns: "H", MAC: mac["br0"]}}
		for i, r := range []string{"A", "B", "C"} {
			d := veth("h"+r, "H", "v"+r, r, "", fmt.Sprintf("192.0.2.%d/24", i+1))
			d.Master = "br0"
			switch t.Topology {
			case observe.TopoBridgeHairpin:
				d.Hairpin = r == "A"
			case observe.TopoBridgeIsolated:
				d.Isolated = r != "B"
			case observe.TopoBridgeNoFlood:
				d.NoFlood = r == "C"
			case observe.TopoBridgeNoBcast:
				d.NoBcastFlood = r == "C"
			}
			cfg.Devices = append(cfg.Devices, d)
		}
		switch t.Topology {
		case observe.TopoBridgeFDB:
			cfg.FDB = []FDBConfig{{Netns: "H", Dev: "hB", MAC: mac["vB"]}}
		case observe.TopoBridgeHairpin:
			cfg.FDB = []FDBConfig{{Netns: "H", Dev: "hA", MAC: mac["vB"]}}
		}
		cfg.Neighbours = []NeighConfig{neigh("A", "vA", "192.0.2.2", "vB")}
		dst = netip.MustParseAddr("192.0.2.2")
		if t.Topology == observe.TopoBridgeNoBcast {
			cfg.Neighbours = append(cfg.Neighbours, NeighConfig{Netns: "A", Dev: "vA", Addr: netip.MustParseAddr("192.0.2.9"), MAC: broadcastMAC})
			dst = netip.MustParseAddr("192.0.2.9")
		}
	case observe.TopoVXLAN, observe.TopoVXLANXnet:
		sNs, dNs := "A", "B"
		cfg.Namespaces = []NamespaceConfig{{Name: "A"}, {Name: "B"}}
		if t.Topology == observe.TopoVXLANXnet {
			sNs, dNs = "S", "D"
			cfg.Namespaces = append(cfg.Namespaces, NamespaceConfig{Name: "S"}, NamespaceConfig{Name: "D"})
		}
		cfg.Devices = []DeviceConfig{
			veth("vA", "A", "vB", "B", "192.0.2.1/24", "192.0.2.2/24"),
			{Name: "vxA", Kind: KindVXLAN, Netns: sNs, LinkNetns: "A", MAC: mac["vxA"], VNI: 42,
				Local: netip.MustParseAddr("192.0.2.1"), Remote: netip.MustParseAddr("192.0.2.2"),
				Port: observe.VXLANPort, Addrs: []netip.Prefix{netip.MustParsePrefix("198.51.100.1/24")}},
			{Name: "vxB", Kind: KindVXLAN, Netns: dNs, LinkNetns: "B", MAC: mac["vxB"], VNI: 42,
				Local: netip.MustParseAddr("192.0.2.2"), Remote: netip.MustParseAddr("192.0.2.1"),
				Port: observe.VXLANPort, Addrs: []netip.Prefix{netip.MustParsePrefix("198.51.100.2/24")}},
		}
		cfg.Neighbours = []NeighConfig{
			neigh("A", "vA", "192.0.2.2", "vB"), neigh("B", "vB", "192.0.2.1", "vA"),
			neigh(sNs, "vxA", "198.51.100.2", "vxB"),
		}
		sender = sNs
		dst = netip.MustParseAddr("198.51.100.2")
	case observe.TopoVXLAN6:
		// vxlan devices with no lower device and MTU 2000 over a 1500-byte
		// IPv6 underlay, both tunnel ends in the underlay's namespace.
		la, lb, plen := "2001:db8::1", "2001:db8::2", "/64"
		cfg.Namespaces = []NamespaceConfig{{Name: "A"}, {Name: "B"}}
		vx := func(name, ns, local, remote, a string) DeviceConfig {
			return DeviceConfig{Name: name, Kind: KindVXLAN, Netns: ns, LinkNetns: ns, MAC: mac[name], VNI: 42,
				MTU: 2000, Local: netip.MustParseAddr(local), Remote: netip.MustParseAddr(remote),
				Port: observe.VXLANPort, Addrs: []netip.Prefix{netip.MustParsePrefix(a)}}
		}
		cfg.Devices = []DeviceConfig{
			veth("vA", "A", "vB", "B", la+plen, lb+plen),
			vx("vxA", "A", la, lb, "198.51.100.1/24"),
			vx("vxB", "B", lb, la, "198.51.100.2/24"),
		}
		cfg.Neighbours = []NeighConfig{
			neigh("A", "vA", lb, "vB"), neigh("B", "vB", la, "vA"),
			neigh("A", "vxA", "198.51.100.2", "vxB"),
		}
		dst = netip.MustParseAddr("198.51.100.2")
	case observe.TopoMacvlan, observe.TopoMacvlanTx, observe.TopoMacvlanBridge, observe.TopoMacvlanPrivate,
		observe.TopoMacvlanBcast, observe.TopoMacvlanBridgeBcast, observe.TopoMacvlanSource, observe.TopoMacvlanSourceNoDst:
		cfg.Namespaces = []NamespaceConfig{{Name: "A"}, {Name: "B"}, {Name: "C"}, {Name: "H"}}
		cfg.Devices = []DeviceConfig{veth("vA", "A", "hL", "H", "192.0.2.1/24", "")}
		for i, r := range []string{"B", "C"} {
			d := DeviceConfig{Name: "mv" + r, Kind: KindMacvlan, Netns: r,
				LinkNetns: "H", Link: "hL", Mode: t.Topology.MacvlanMode("mv" + r), MAC: mac["mv"+r],
				Addrs: []netip.Prefix{netip.MustParsePrefix(fmt.Sprintf("192.0.2.%d/24", i+2))}}
			if d.Mode == MacvlanSource {
				d.SourceMACs, d.NoDst = [][6]byte{mac["vA"]}, t.Topology == observe.TopoMacvlanSourceNoDst
			}
			cfg.Devices = append(cfg.Devices, d)
		}
		cfg.Neighbours = []NeighConfig{neigh("A", "vA", "192.0.2.2", "mvB"), neigh("A", "vA", "192.0.2.3", "mvC"),
			neigh("B", "mvB", "192.0.2.1", "vA"), neigh("B", "mvB", "192.0.2.3", "mvC"),
			{Netns: "A", Dev: "vA", Addr: netip.MustParseAddr("192.0.2.9"), MAC: broadcastMAC},
			{Netns: "B", Dev: "mvB", Addr: netip.MustParseAddr("192.0.2.9"), MAC: broadcastMAC}}
		switch t.Topology {
		case observe.TopoMacvlan:
			dst = netip.MustParseAddr("192.0.2.2")
		case observe.TopoMacvlanBcast:
			dst = netip.MustParseAddr("192.0.2.9")
		case observe.TopoMacvlanBridgeBcast:
			sender, dst = "B", netip.MustParseAddr("192.0.2.9")
		case observe.TopoMacvlanTx:
			sender, dst = "B", netip.MustParseAddr("192.0.2.1")
		case observe.TopoMacvlanSource, observe.TopoMacvlanSourceNoDst:
			dst = netip.MustParseAddr("192.0.2.3")
		default:
			sender, dst = "B", netip.MustParseAddr("192.0.2.3")
		}
	case observe.TopoIFB:
		cfg.Namespaces = []NamespaceConfig{{Name: "A"}, {Name: "B"}}
		cfg.Devices = []DeviceConfig{veth("vA", "A", "vB", "B", "192.0.2.1/24", "192.0.2.2/24"),
			{Name: "ifbA", Kind: KindIFB, Netns: "A"}, {Name: "ifbB", Kind: KindIFB, Netns: "B"}}
		cfg.Neighbours = []NeighConfig{neigh("A", "vA", "192.0.2.2", "vB")}
		dst = netip.MustParseAddr("192.0.2.2")
	default:
		if !t.Topology.Tunnel() {
			return nil, dst, fmt.Errorf("transition %s: unknown topology %q: %w", t.Name, t.Topology, ErrConfig)
		}
		sNs, dNs := "A", "B"
		cfg.Namespaces = []NamespaceConfig{{Name: "A"}, {Name: "B"}}
		if t.Topology == observe.TopoIPIPXnet {
			sNs, dNs = "S", "D"
			cfg.Namespaces = append(cfg.Namespaces, NamespaceConfig{Name: "S"}, NamespaceConfig{Name: "D"})
		}
		la, lb, plen := "192.0.2.1", "192.0.2.2", "/24"
		if t.Topology.Underlay6() {
			la, lb, plen = "2001:db8::1", "2001:db8::2", "/64"
		}
		kind := map[observe.Topology]string{
			observe.TopoGeneve: KindGeneve, observe.TopoGRETap: KindGRETap, observe.TopoGRE: KindGRE,
			observe.TopoIPIP: KindIPIP, observe.TopoIPIPXnet: KindIPIP, observe.TopoIP6Tnl: KindIP6Tnl,
			observe.TopoIP6GRE: KindIP6GRE,
		}[t.Topology]
		tun := func(name, ns, link, local, remote, a string) DeviceConfig {
			d := DeviceConfig{Name: name, Kind: kind, Netns: ns, LinkNetns: link,
				Local: netip.MustParseAddr(local), Remote: netip.MustParseAddr(remote),
				Addrs: []netip.Prefix{netip.MustParsePrefix(a)}}
			switch t.Topology {
			case observe.TopoGeneve:
				d.VNI, d.Port, d.Local = 42, observe.GenevePort, netip.Addr{}
			case observe.TopoGRE:
				d.VNI = 42 // key 42
			}
			if t.Topology.TunnelL2() {
				d.MAC = mac[name]
			}
			return d
		}
		cfg.Devices = []DeviceConfig{
			veth("vA", "A", "vB", "B", la+plen, lb+plen),
			tun("tA", sNs, "A", la, lb, "198.51.100.1/24"),
			tun("tB", dNs, "B", lb, la, "198.51.100.2/24"),
		}
		cfg.Neighbours = []NeighConfig{neigh("A", "vA", lb, "vB"), neigh("B", "vB", la, "vA")}
		if t.Topology.TunnelL2() {
			cfg.Neighbours = append(cfg.Neighbours, neigh(sNs, "tA", "198.51.100.2", "tB"))
		}
		sender = sNs
		dst = netip.MustParseAddr("198.51.100.2")
	}
	for _, a := range t.Actions {
		if a.Redirect == observe.RedirectCPU && len(cfg.Cpumaps) == 0 {
			// The recorder's cpumap: entry 0, queue size 64.
			cfg.Cpumaps = []CpumapConfig{{Name: "cpus", Entries: []CpumapEntryConfig{{CPU: 0, QSize: 64}}}}
		}
		if a.Hook.Point == observe.XDP && a.Generic {
			for i := range cfg.Devices {
				d := &cfg.Devices[i]
				if d.Name == a.Hook.Dev {
					d.XDP = "generic"
				} else if d.Peer == a.Hook.Dev {
					d.PeerXDP = "generic"
				}
			}
		}
	}
	cfg.Sockets = []SocketConfig{{Name: "sender", Netns: sender, Proto: ProtoUDP, Port: 40000, Broadcast: t.Broadcast,
		NoMulticastLoop: t.NoMulticastLoop}}
	if t.Broadcast {
		a := dst.As4()
		a[3] = 255 // the /24's directed broadcast
		dst = netip.AddrFrom4(a)
	}
	if t.Multicast != "" {
		// IP_MULTICAST_IF in the kernel recorder; a route here.
		dst = netip.AddrFrom4(allHostsGroup)
		if t.Group != ([4]byte{}) {
			dst = netip.AddrFrom4(t.Group)
		}
		cfg.Routes = append(cfg.Routes, RouteConfig{Netns: sender, Dst: netip.MustParsePrefix("224.0.0.0/4"), Dev: t.Multicast})
	}
	if t.SendEncap {
		// A UDP socket on the underlay in A (AF_INET6 for an IPv6 underlay).
		cfg.Sockets[0].Netns = "A"
		if t.Topology == observe.TopoVXLAN6 {
			cfg.Sockets[0].Addr = netip.IPv6Unspecified()
		}
	}
	if t.Segments > 1 {
		cfg.Sockets[0].UDPSegment = observe.SegmentSize
	}
	if t.GRO != "" {
		// ETHTOOL_SGRO on the device and a UDP_GRO socket on TestPort in its
		// namespace, or the transition's GRO features (ETHTOOL_SFEATURES).
		// With GRO features, those instead of the socket.
		var list, fwd bool
		for _, f := range t.GROFeatures {
			switch f {
			case observe.FeatureGROList:
				list = true
			case observe.FeatureUDPGROFwd:
				fwd = true
			default:
				return nil, dst, fmt.Errorf("transition %s: GRO feature %q: %w", t.Name, f, ErrConfig)
			}
		}
		found := false
		for i := range cfg.Devices {
			d := &cfg.Devices[i]
			ns := ""
			switch t.GRO {
			case d.Name:
				d.GRO, d.GROList, d.UDPGROForwarding, found, ns = "on", list, fwd, true, d.Netns
			case d.Peer:
				d.PeerGRO, d.PeerGROList, d.PeerUDPGROForwarding, found, ns = "on", list, fwd, true, d.PeerNetns
			default:
				continue
			}
			if len(t.GROFeatures) == 0 {
				cfg.Sockets = append(cfg.Sockets, SocketConfig{Name: "gro", Netns: ns, Proto: ProtoUDP,
					Port: observe.TestPort, UDPGRO: true})
			}
		}
		if !found {
			return nil, dst, fmt.Errorf("transition %s: GRO device %q: %w", t.Name, t.GRO, ErrConfig)
		}
	}
	if t.NoTunnelTSO != "" {
		found := false
		for i := range cfg.Devices {
			if d := &cfg.Devices[i]; d.Name == t.NoTunnelTSO {
				d.TunnelTSO, found = "off", true
			}
		}
		if !found {
			return nil, dst, fmt.Errorf("transition %s: device %q without tunnel TSO: %w", t.Name, t.NoTunnelTSO, ErrConfig)
		}
	}
	cfg.Entries = []EntryConfig{{Kind: EntryTX, Netns: cfg.Sockets[0].Netns, Socket: "sender"}}
	return cfg, dst, nil
}

// transitionCgroup is the cgroup of the recorder's CgroupIngress sockets.
const transitionCgroup = "/skbsim-recorder"

// transitionRec is what the recorder keeps at one hook (struct rec of
// kernel/bpf/recorder.c).
type transitionRec struct {
	count                            uint64
	tstamp                           uint64
	mark, priority, tcIndex          uint32
	cb                               [5]uint32
	hash, tstampType, pktType        uint32
	ingressIfindex, ifindex, metaLen uint32
	gsoSegs, headlen                 uint32
	ret                              int32
	meta                             [observe.MetaRecordLen]byte
	ingressNs, devNs                 *Netns
	ingressName, ifName              string
	action                           *observe.Action
	later                            *observe.Action // writes on later fragments
	target                           int32
}

// Encapsulations the recorder's matcher follows (recorder.c enum
// inner_kind, the low 2 bits of an encoded inner offset).
const (
	matchInEth = 1 // an Ethernet frame (VXLAN, Geneve, GRE 0x6558)
	matchInIP4 = 2 // an IPv4 packet (IPIP, GRE 0x0800)
	matchInIP6 = 3 // an IPv6 packet (next header 41, GRE 0x86dd)
)

// matchSkb models recorder.c match_skb: the test datagram found from the
// network header (bpf_skb_load_bytes_relative with BPF_HDR_START_NET reads
// the linear part only), skb->protocol naming the network header's kind.
func matchSkb(b *skb.Buff) bool {
	f, ok := netBytes(b)
	return ok && matchNet(f, b.H().Protocol)
}

// netBytes returns the linear bytes from b's network header to its tail.
func netBytes(b *skb.Buff) ([]byte, bool) {
	nh, tail := b.Headroom()+b.NetworkOffset(), b.Headroom()+b.Headlen()
	if nh < 0 || nh > tail {
		return nil, false
	}
	return b.Head()[nh:tail], true
}

// matchNet is match_skb on the bytes f from the network header.
func matchNet(f []byte, proto uint16) bool {
	r := matchIP(f, 0, proto, true)
	if r <= 0 {
		return r == 0
	}
	return matchInner(f, r)
}

// matchEth models recorder.c match_xdp: the test datagram in the Ethernet
// frame f.
func matchEth(f []byte) bool {
	if len(f) < ethHlen {
		return false
	}
	r := matchIP(f, ethHlen, binary.BigEndian.Uint16(f[12:14]), true)
	if r <= 0 {
		return r == 0
	}
	return matchInner(f, r)
}

// matchIP models recorder.c's name_ip: the IPv4 packet (fragment offset
// 0) or IPv6 packet (transport header after the fixed header, up to two
// hop-by-hop or destination options headers and a fragment header of
// offset 0) at off in f, proto its ethertype. It returns 0 for
// UDP to observe.TestPort; with outer, the encoded offset (off<<2 | kind)
// of the packet inside one encapsulation: UDP to observe.VXLANPort or the
// Geneve port (with its options' length), GRE (4 bytes more per checksum,
// key and sequence flag; protocols 0x6558, 0x0800, 0x86dd), IPv4 in IP and
// IPv6 in IP; -1 otherwise.
func matchIP(f []byte, off int, proto uint16, outer bool) int {
	var p uint8
	switch proto {
	case ethPIPv6:
		if len(f) < off+ip6Hlen {
			return -1
		}
		p = f[off+6]
		off += ip6Hlen
		// Up to two hop-by-hop or destination options headers
		// (ip6tnl's encapsulation limit).
		for range 2 {
			if p != nexthdrHop && p != nexthdrDest {
				break
			}
			if len(f) < off+2 {
				return -1
			}
			p, off = f[off], off+(int(f[off+1])+1)*8
		}
		if p == nexthdrFrag {
			if len(f) < off+4 || binary.BigEndian.Uint16(f[off+2:off+4])&0xfff8 != 0 {
				return -1
			}
			p = f[off]
			off += 8
		}
	case ethPIP:
		if len(f) < off+ipHlen {
			return -1
		}
		vi := f[off]
		p = f[off+9]
		if vi>>4 != 4 || binary.BigEndian.Uint16(f[off+6:off+8])&0x1fff != 0 {
			return -1
		}
		off += int(vi&0xf) * 4
	default:
		return -1
	}
	if p == ipprotoUDP {
		if len(f) < off+4 {
			return -1
		}
		switch dport := binary.BigEndian.Uint16(f[off+2 : off+4]); {
		case dport == observe.TestPort:
			return 0
		case outer && dport == observe.VXLANPort:
			return (off+udpHlen+vxlanHlen)<<2 | matchInEth
		case outer && dport == defaultGenevePort:
			if len(f) < off+udpHlen+1 {
				return -1
			}
			return (off+udpHlen+8+int(f[off+udpHlen]&0x3f)*4)<<2 | matchInEth
		}
		return -1
	}
	if !outer {
		return -1
	}
	switch p {
	case ipprotoIPIP:
		return off<<2 | matchInIP4
	case ipprotoIPv6:
		return off<<2 | matchInIP6
	case ipprotoGRE:
		if len(f) < off+4 {
			return -1
		}
		fl := binary.BigEndian.Uint16(f[off : off+2])
		n := 4
		for _, bit := range []uint16{greFlagCsum, greFlagKey, greFlagSeq} {
			if fl&bit != 0 {
				n += 4
			}
		}
		switch binary.BigEndian.Uint16(f[off+2 : off+4]) {
		case ethPTEB:
			return (off+n)<<2 | matchInEth
		case ethPIP:
			return (off+n)<<2 | matchInIP4
		case ethPIPv6:
			return (off+n)<<2 | matchInIP6
		}
	}
	return -1
}

// matchInner models recorder.c's name_inner: whether the packet at the
// encoded offset enc is the test datagram.
func matchInner(f []byte, enc int) bool {
	off := enc >> 2
	switch enc & 3 {
	case matchInEth:
		if len(f) < off+ethHlen {
			return false
		}
		return matchIP(f, off+ethHlen, binary.BigEndian.Uint16(f[off+12:off+14]), false) == 0
	case matchInIP4:
		return matchIP(f, off, ethPIP, false) == 0
	case matchInIP6:
		return matchIP(f, off, ethPIPv6, false) == 0
	}
	return false
}

// matchLater models recorder.c match_later: a later fragment (offset > 0)
// of a UDP datagram, IPv4 or IPv6 (fragment header right after the fixed
// header), in the bytes f from the network header.
func matchLater(f []byte, proto uint16) bool {
	switch proto {
	case ethPIPv6:
		if len(f) < ip6Hlen+4 || f[6] != nexthdrFrag {
			return false
		}
		fh := f[ip6Hlen:]
		return fh[0] == ipprotoUDP && binary.BigEndian.Uint16(fh[2:4])&0xfff8 != 0
	case ethPIP:
		if len(f) < ipHlen {
			return false
		}
		return f[0]>>4 == 4 && f[9] == ipprotoUDP && binary.BigEndian.Uint16(f[6:8])&0x1fff != 0
	}
	return false
}

// recorderProg models record_tc / record_xdp.
type recorderProg struct{ r *transitionRec }

func (p recorderProg) Run(c *Ctx) int {
	r := p.r
	if c.Hook == carrier.HookXDP {
		if !matchEth(c.Skb.Data()) {
			return XDPPass
		}
	} else if !matchSkb(c.Skb) {
		if f, ok := netBytes(c.Skb); ok && r.later != nil && matchLater(f, c.Skb.H().Protocol) {
			setFields(c, r.later)
		}
		return TCXNext
	}
	r.count++
	first := r.count == 1
	if c.Hook == carrier.HookXDP {
		if first {
			r.ingressIfindex = uint32(c.Dev.ifindex)
			r.ingressNs = c.Dev.ns
			r.metaLen = uint32(c.xdpMeta)
		}
		a := r.action
		if a == nil {
			return XDPPass
		}
		if a.MetaLen != 0 {
			ret := c.AdjustMeta(-a.MetaLen)
			if first {
				r.ret = int32(ret)
			}
			if ret != 0 {
				return XDPPass
			}
			m := c.Meta()
			for i := range m {
				m[i] = observe.MetaByte(i)
			}
			if a.MetaSeq && len(m) > 0 {
				m[len(m)-1] = byte(r.count)
			}
		}
		switch a.Redirect {
		case observe.RedirectFib:
			ret, done, rc := c.fibForward(0, false)
			if first {
				r.ret = int32(rc)
			}
			if done {
				return ret
			}
			return XDPPass
		case observe.XDPTx:
			return XDPTx
		case observe.RedirectCPU:
			return c.RedirectCPU(0, 0, 0) // bpf_redirect_map(&cpus, 0, 0)
		}
		return XDPPass
	}
	b := c.Skb
	h := b.H()
	if first {
		r.mark, r.priority, r.tcIndex = h.Mark, h.Priority, uint32(h.TCIndex)
		for i := range r.cb {
			r.cb[i] = c.CB(i)
		}
		r.hash, r.tstamp, r.tstampType, r.pktType = h.Hash, uint64(h.Tstamp), uint32(h.TstampType), uint32(h.PktType)
		r.ingressIfindex, r.ifindex = uint32(h.SkbIIF), uint32(h.Dev)
		r.gsoSegs = uint32(b.Shinfo().GSOSegs)
		r.headlen = uint32(b.Headlen()) // data_end - data (bpf_compute_data_pointers)
		r.ingressNs, r.devNs = c.Netns, c.Netns
		switch c.Hook {
		case carrier.HookCgroupIngress:
			return 1 // no data_meta in a cgroup_skb context; no action
		case carrier.HookSocketFilter:
			return b.Len() // keep the whole packet
		case carrier.HookCgroupEgress:
		default:
			// bpf_compute_data_pointers: data_meta = data - meta_len.
			n := b.MetadataLen()
			r.metaLen = uint32(n)
			if lo := b.Headroom() - n; n > 0 && lo >= 0 {
				copy(r.meta[:], b.Head()[lo:b.Headroom()])
			}
		}
	}
	if c.Hook == carrier.HookCgroupEgress {
		// Writes of mark, priority and cb[] only (RunTransition checks).
		if a := r.action; a != nil {
			setFields(c, a)
		}
		return 1
	}
	switch c.Hook {
	case carrier.HookCgroupIngress:
		return 1
	case carrier.HookSocketFilter:
		return b.Len()
	}
	a := r.action
	if a == nil {
		return TCXNext
	}
	setFields(c, a)
	var ret int
	switch a.Redirect {
	case observe.RedirectEgress:
		ret = c.Redirect(r.target, 0)
	case observe.RedirectIngr:
		ret = c.Redirect(r.target, FlagIngress)
	case observe.RedirectPeer:
		ret = c.RedirectPeer(r.target, 0)
	case observe.RedirectNeigh:
		ret = c.RedirectNeigh(r.target, 0)
	case observe.RedirectFib:
		// fib_forward_tc: bpf_skb_store_bytes makes the head writable
		// where the model's action runs the unclone prologue; the test
		// packet is not cloned at the hooks that use it.
		ret, done, rc := c.fibForward(0, false)
		if first {
			r.ret = int32(rc)
		}
		if !done {
			return TCXNext
		}
		return ret
	case observe.CloneEgress:
		ret = c.CloneRedirect(r.target, 0)
	case observe.CloneIngress:
		ret = c.CloneRedirect(r.target, FlagIngress)
	default:
		return TCXNext
	}
	if first {
		r.ret = int32(ret)
	}
	if a.Redirect == observe.CloneEgress || a.Redirect == observe.CloneIngress {
		return TCXNext
	}
	return ret
}

// setFields models the recorder's set_fields: the writes of a, in order
// (mark, priority, tc_index, cb[], bpf_set_hash, then a raw tstamp store or
// bpf_skb_set_tstamp(BPF_SKB_CLOCK_MONOTONIC) when a assigns tstamp_type 1).
func setFields(c *Ctx, a *observe.Action) {
	mono := false
	for _, s := range a.Set {
		if s.Field == observe.FieldTstampType && s.Value == 1 {
			mono = true
		}
	}
	for _, s := range a.Set {
		switch s.Field {
		case observe.FieldMark:
			c.SetMark(uint32(s.Value))
		case observe.FieldPriority:
			c.SetPriority(uint32(s.Value))
		case observe.FieldTCIndex:
			c.SetTCIndex(uint16(s.Value))
		case observe.FieldCB0, observe.FieldCB1, observe.FieldCB2, observe.FieldCB3, observe.FieldCB4:
			c.SetCB(int(s.Field[2]-'0'), uint32(s.Value))
		case observe.FieldHash:
			c.SetHash(uint32(s.Value))
		case observe.FieldTstamp:
			if mono {
				c.SetDeliveryTime(int64(s.Value), skb.ClockMonotonic)
			} else {
				// The recorder reads tstamp_type: raw store.
				c.SetTstampRaw(int64(s.Value))
			}
		}
	}
}

// RunTransition runs transition t of the real-kernel recorder's catalogue
// on the model with the kernel profile prof: the topology of t's Setup, a
// recorder program at each hook doing t's action after recording, one UDP
// datagram (t.PayloadLen() bytes of payload) from the sender socket, or for
// t.SendEncap the VXLAN datagram observe.EncapPayload from a socket on the
// underlay. It returns the
// observations in the recorder's format, normalised as the kernel's are
// (observe.Normalize), so observe.Diff compares them cell by cell. It
// returns an error if the topology is unknown or the model leaked.
func RunTransition(t observe.Transition, prof skb.Profile) (observe.Matrix, error) {
	cfg, dst, err := TransitionConfig(t)
	if err != nil {
		return nil, err
	}
	recs := make([]*transitionRec, len(t.Hooks))
	for i, h := range t.Hooks {
		r := &transitionRec{}
		if a, ok := t.ActionAt(h); ok {
			r.action = &a
		}
		if a, ok := t.LaterAt(h); ok {
			r.later = &a
		}
		recs[i] = r
		hook := carrier.HookTCIngress
		switch h.Point {
		case observe.XDP, observe.XDPCpumap:
			hook = carrier.HookXDP
		case observe.TCEgress:
			hook = carrier.HookTCEgress
		case observe.CgroupIngress:
			hook = carrier.HookCgroupIngress
		case observe.SocketFilter, observe.TapFilter:
			hook = carrier.HookSocketFilter
		case observe.CgroupEgress:
			hook = carrier.HookCgroupEgress
		}
		ns := ""
		for _, d := range cfg.Devices {
			if d.Name == h.Dev {
				ns = d.Netns
			} else if d.Peer == h.Dev {
				ns = d.PeerNetns
			}
		}
		pc := ProgramConfig{Name: "rec-" + h.String(), Hook: hook,
			Dev: h.Dev, Netns: ns, Prog: recorderProg{r}, XDPFrags: r.action != nil && r.action.Frags}
		if h.Point == observe.CgroupEgress {
			// The sender's socket is made in the recorder's cgroup. A
			// cgroup_skb program writes mark, priority and cb[] only.
			if ns != cfg.Sockets[0].Netns {
				return nil, fmt.Errorf("transition %s: %s: not the sender's namespace: %w", t.Name, h, ErrConfig)
			}
			if a := r.action; a != nil {
				for _, as := range a.Set {
					if as.Field != observe.FieldMark && as.Field != observe.FieldPriority && !strings.HasPrefix(string(as.Field), "cb") {
						return nil, fmt.Errorf("transition %s: %s writes %s: %w", t.Name, h, as.Field, ErrConfig)
					}
				}
			}
			cfg.Sockets[0].Cgroup = transitionCgroup
			pc.Dev, pc.Cgroup = "", transitionCgroup
		}
		if h.Point == observe.TapFilter {
			// A packet tap on the device (ETH_P_ALL, never read) with the
			// recorder as its filter.
			if r.action != nil {
				return nil, fmt.Errorf("transition %s: %s: no action: %w", t.Name, h, ErrConfig)
			}
			name := "rec-" + h.String()
			cfg.Taps = append(cfg.Taps, TapConfig{Name: name, Netns: ns, Dev: h.Dev, Hold: true})
			pc.Dev, pc.Tap = "", name
		}
		if h.Point.SocketLevel() {
			// The receiving socket on the test port in the device's
			// namespace, created in the recorder's cgroup: the cgroup
			// program is attached to the cgroup, the filter to the socket.
			if r.action != nil || (t.GRO != "" && len(t.GROFeatures) == 0) {
				return nil, fmt.Errorf("transition %s: %s: no action, and no GRO socket on the test port: %w", t.Name, h, ErrConfig)
			}
			name := "rcv-" + ns
			if !slices.ContainsFunc(cfg.Sockets, func(sc SocketConfig) bool { return sc.Name == name }) {
				cfg.Sockets = append(cfg.Sockets, SocketConfig{Name: name, Netns: ns, Proto: ProtoUDP,
					Port: observe.TestPort, Cgroup: transitionCgroup})
			}
			if t.Group != ([4]byte{}) {
				// IP_ADD_MEMBERSHIP on the hook's device.
				i := slices.IndexFunc(cfg.Sockets, func(sc SocketConfig) bool { return sc.Name == name })
				cfg.Sockets[i].Join = append(cfg.Sockets[i].Join, GroupJoin{Group: netip.AddrFrom4(t.Group), Dev: h.Dev})
			}
			pc.Dev = ""
			if h.Point == observe.SocketFilter {
				pc.Socket = name
			} else {
				pc.Cgroup = transitionCgroup
			}
		}
		if h.Point == observe.XDPCpumap {
			if len(cfg.Cpumaps) == 0 {
				return nil, fmt.Errorf("transition %s: a cpumap hook without a redirect into the cpumap: %w", t.Name, ErrConfig)
			}
			pc.Dev, pc.Cpumap = "", true
			cfg.Cpumaps[0].Entries[0].Program = pc.Name
		}
		cfg.Programs = append(cfg.Programs, pc)
		if a := r.action; a != nil && a.Redirect.Mirred() {
			// The classic tc filter after the program, matching every
			// packet, with action mirred.
			m := Action{Kind: ActMirred, Target: a.Target,
				Ingress: a.Redirect == observe.MirredIngressRedirect || a.Redirect == observe.MirredIngressMirror,
				Mirror:  a.Redirect == observe.MirredEgressMirror || a.Redirect == observe.MirredIngressMirror}
			cfg.Programs = append(cfg.Programs, ProgramConfig{Name: "mirred-" + h.String(), Hook: hook,
				Dev: h.Dev, Netns: ns, Actions: []Action{m}})
		}
	}
	acct := kmem.New()
	a := skb.NewAllocator(acct, prof)
	s, err := New(cfg, Env{Alloc: a})
	if err != nil {
		return nil, fmt.Errorf("transition %s: %w", t.Name, err)
	}
	for i, r := range recs {
		if r.action != nil && r.action.Target != "" {
			pc := &s.cfg.Programs[i]
			d := s.Device(pc.Netns, r.action.Target)
			if d == nil {
				return nil, fmt.Errorf("transition %s: unknown target %s: %w", t.Name, r.action.Target, ErrConfig)
			}
			r.target = d.ifindex
		}
	}
	frame := transitionFrame(s, t, dst)
	injErr := s.Inject(&Packet{ID: 0, Frame: frame})
	s.Flush()
	closeErr := s.Close()
	if err := errors.Join(injErr, closeErr, a.CheckLeaks()); err != nil {
		return nil, fmt.Errorf("transition %s: %w", t.Name, err)
	}
	return transitionMatrix(t, recs), nil
}

// transitionFrame returns the IP packet the sender socket sends: the test
// datagram to dst, or, for t.SendEncap, observe.EncapPayload in a UDP
// datagram to the remote tunnel endpoint's VXLAN port (without DF when it
// exceeds the MTU, as __ip_make_skb leaves it; with a valid UDP checksum
// for IPv6, as udp_v6_send_skb computes it).
func transitionFrame(s *Stack, t observe.Transition, dst netip.Addr) []byte {
	sender := s.Socket("sender")
	if t.SendEncap {
		var rem netip.Addr
		for _, d := range s.cfg.Devices {
			if d.Name == "vxA" {
				rem = d.Remote
			}
		}
		payload := observe.EncapPayload(transitionMACs["vxA"], transitionMACs["vxB"], t.PayloadLen())
		out, _ := s.routeOutput(sender.ns, rem)
		var src netip.Addr
		if out != nil {
			src = out.firstAddr()
			if rem.Is6() {
				src = firstAddr6(out)
			}
		}
		if rem.Is6() {
			frame := make([]byte, ip6Hlen+udpHlen+len(payload))
			writeIPv6(frame, 0, 0, udpHlen+len(payload), nexthdrUDP, 64, src, rem)
			writeUDP(frame[ip6Hlen:], 40000, observe.VXLANPort, udpHlen+len(payload))
			copy(frame[ip6Hlen+udpHlen:], payload)
			setUDP6Csum(frame)
			return frame
		}
		frame := make([]byte, ipHlen+udpHlen+len(payload))
		writeIPv4(frame, 0, len(frame), 1, out == nil || len(frame) <= out.mtu, 64, ipprotoUDP, src, rem)
		writeUDP(frame[ipHlen:], 40000, observe.VXLANPort, udpHlen+len(payload))
		copy(frame[ipHlen+udpHlen:], payload)
		return frame
	}
	src := netip.Addr{}
	if out, _ := s.routeOutput(sender.ns, dst); out != nil {
		src = out.firstAddr()
	}
	if !src.IsValid() {
		src = netip.MustParseAddr("192.0.2.1")
	}
	payload := t.PayloadLen()
	frame := make([]byte, ipHlen+udpHlen+payload)
	writeIPv4(frame, 0, len(frame), 1, true, 64, ipprotoUDP, src, dst)
	writeUDP(frame[ipHlen:], 40000, observe.TestPort, udpHlen+payload)
	setUDP4Csum(frame)
	return frame
}

// transitionMatrix builds the observations from the recorders' records.
func transitionMatrix(t observe.Transition, recs []*transitionRec) observe.Matrix {
	var out observe.Matrix
	for i, h := range t.Hooks {
		r := recs[i]
		o := func(f observe.Field, v uint64) observe.Observation {
			return observe.Observation{Transition: t.Name, Hook: h.String(), Field: f, Value: v}
		}
		dev := func(f observe.Field, idx uint32, ns *Netns) observe.Observation {
			ob := o(f, uint64(idx))
			if idx != 0 {
				ob.Dev = "?"
				if ns != nil {
					if d := ns.devByIndex(int32(idx)); d != nil {
						ob.Dev = d.name
					}
				}
			}
			return ob
		}
		out = append(out, o(observe.FieldCount, r.count))
		if r.count == 0 {
			continue
		}
		xdp := h.Point.IsXDP()
		if !xdp {
			out = append(out, o(observe.FieldMark, uint64(r.mark)), o(observe.FieldPriority, uint64(r.priority)),
				o(observe.FieldTCIndex, uint64(r.tcIndex)))
			for j := range 5 {
				out = append(out, o(observe.CBField(j), uint64(r.cb[j])))
			}
			out = append(out, o(observe.FieldHash, uint64(r.hash)), o(observe.FieldTstamp, r.tstamp),
				o(observe.FieldTstampType, uint64(r.tstampType)), o(observe.FieldPktType, uint64(r.pktType)))
		}
		out = append(out, dev(observe.FieldIngressIfindex, r.ingressIfindex, r.ingressNs))
		if !xdp {
			out = append(out, dev(observe.FieldIfindex, r.ifindex, r.devNs), o(observe.FieldGSOSegs, uint64(r.gsoSegs)),
				o(observe.FieldHeadlen, uint64(r.headlen)))
		}
		out = append(out, o(observe.FieldMetaLen, uint64(r.metaLen)))
		if r.metaLen > 0 && !xdp {
			b := o(observe.FieldMeta, 0)
			b.Bytes = append([]byte(nil), r.meta[:min(int(r.metaLen), observe.MetaRecordLen)]...)
			out = append(out, b)
		}
		if a := r.action; a != nil && (a.Redirect.BPF() || a.MetaLen > 0) {
			out = append(out, o(observe.FieldRet, uint64(int64(r.ret))))
		}
	}
	return observe.Normalize(out, t)
}

// setUDP6Csum fills in the UDP checksum of an IPv6/UDP packet (RFC 8200
// pseudo-header), as udp6_hwcsum_outgoing / udp_v6_send_skb leave it.
func setUDP6Csum(p []byte) { setUDPCsum(p, ip6Hlen) }

// setUDP4Csum fills in the UDP checksum of an IPv4/UDP packet without
// options, as udp_send_skb leaves it on a socket without SO_NO_CHECK.
func setUDP4Csum(p []byte) { setUDPCsum(p, ipHlen) }

// setUDPCsum computes the UDP checksum of the datagram at p[hlen:] with
// the pseudo-header of the network header at p; a sum of zero is sent as
// 0xffff.
func setUDPCsum(p []byte, hlen int) {
	u := p[hlen:]
	u[6], u[7] = 0, 0
	c := ^csumFold(csumAdd(pseudoSum(p, ipprotoUDP, len(u)), u))
	if c == 0 {
		c = 0xffff
	}
	binary.BigEndian.PutUint16(u[6:8], c)
}
