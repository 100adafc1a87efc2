package observe

import (
	"fmt"
	"slices"
)

// RedirectKind is what an action does with the packet after its writes.
type RedirectKind string

// Redirects. Target is a device role name in the hook's namespace.
const (
	NoRedirect     RedirectKind = ""
	RedirectEgress RedirectKind = "redirect"         // return bpf_redirect(target, 0)
	RedirectIngr   RedirectKind = "redirect-ingress" // return bpf_redirect(target, BPF_F_INGRESS)
	RedirectPeer   RedirectKind = "redirect-peer"    // return bpf_redirect_peer(target, 0)
	RedirectNeigh  RedirectKind = "redirect-neigh"   // return bpf_redirect_neigh(target, NULL, 0, 0)
	// RedirectFib forwards in the program (tc and XDP; no target):
	// bpf_fib_lookup on the IPv4 header from the device the packet came
	// in by (at XDP with tot_len the header's, at tc with 0, so the skb
	// is checked), the return recorded; on success the TTL decremented,
	// the next hop's MACs written and bpf_redirect(ifindex, 0); otherwise
	// the program passes (TCX_NEXT, XDP_PASS).
	RedirectFib  RedirectKind = "fib-forward"
	CloneEgress  RedirectKind = "clone-redirect" // bpf_clone_redirect(target, 0); continue (TCX_NEXT)
	CloneIngress RedirectKind = "clone-redirect-ingress"
	// XDPTx, at an XDP hook, returns XDP_TX after the metadata is
	// reserved; it has no target.
	XDPTx RedirectKind = "xdp-tx"
	// RedirectCPU, at an XDP hook, returns bpf_redirect_map(&cpus, 0, 0)
	// after the metadata is reserved: into the recorder's cpumap entry for
	// CPU 0 (queue size 64), whose program is the recorder at the
	// device's XDPCpumap hook when the transition has one. It has no
	// target.
	RedirectCPU RedirectKind = "redirect-cpu"
	// The act_mirred kinds are not the program's: the program returns
	// TCX_NEXT and a classic tc filter after it that matches every packet
	// (`tc filter add dev D ingress|egress bpf bytecode "1,6 0 0
	// 4294967295," action mirred egress|ingress redirect|mirror dev
	// target`) acts on the packet.
	MirredEgressRedirect  RedirectKind = "mirred-egress-redirect"
	MirredIngressRedirect RedirectKind = "mirred-ingress-redirect"
	MirredEgressMirror    RedirectKind = "mirred-egress-mirror"
	MirredIngressMirror   RedirectKind = "mirred-ingress-mirror"
)

// Mirred reports whether the kind is an act_mirred filter after the
// program.
func (k RedirectKind) Mirred() bool {
	switch k {
	case MirredEgressRedirect, MirredIngressRedirect, MirredEgressMirror, MirredIngressMirror:
		return true
	}
	return false
}

// Targetless reports whether the kind has no target device: XDP_TX, the
// cpumap redirect and the FIB forward, which finds its device.
func (k RedirectKind) Targetless() bool {
	return k == XDPTx || k == RedirectCPU || k == RedirectFib
}

// BPF reports whether the program itself calls a redirect helper (and so
// records its return value).
func (k RedirectKind) BPF() bool { return k != NoRedirect && !k.Mirred() }

// Assign is one write an action performs.
type Assign struct {
	Field Field
	Value uint64
}

// Action is what the program at a hook does to the test packet after the
// recorder at that hook has read it. Writes happen in this order: mark,
// priority, cb[0..4], tc_index (direct __sk_buff stores), hash
// (bpf_set_hash), tstamp (a direct __sk_buff.tstamp store, which leaves
// tstamp_type unspecified, or bpf_skb_set_tstamp(..., BPF_SKB_CLOCK_MONOTONIC)
// when the action also assigns FieldTstampType = 1). A tc program then
// returns TCX_NEXT (-1, so tc_index is not overwritten with tc_classid) unless
// Redirect says otherwise. Because the same program also reads
// __sk_buff.tstamp_type, the verifier's tstamp rewrites
// (bpf_convert_tstamp_read/write) are the raw ones: tstamp is read as stored
// and a direct write leaves tstamp_type as it was, at ingress and egress
// alike. bpf_set_hash sets skb->sw_hash and l4_hash, so tunnel decap
// (skb_clear_hash_if_not_l4) keeps the hash. At an XDP hook only MetaLen is
// used:
// bpf_xdp_adjust_meta(ctx, -MetaLen), the bytes filled with MetaByte(i), and
// XDP_PASS.
type Action struct {
	Hook Hook
	// Generic attaches an XDP action in generic (skb) mode instead of
	// native (driver) mode.
	Generic bool
	// Frags loads an XDP action's program with BPF_F_XDP_HAS_FRAGS (a
	// multi-buffer program).
	Frags   bool
	Set     []Assign
	MetaLen int
	// MetaSeq makes an XDP action's last metadata byte the packet's
	// number at this hook (1, 2, ...) instead of MetaByte(MetaLen-1), so
	// every packet's metadata differs.
	MetaSeq  bool
	Redirect RedirectKind
	Target   string
	// Later makes the writes apply, at a tc hook, to every later fragment
	// (offset > 0) of a UDP datagram instead of to the test packet: such a
	// fragment has no UDP header, so it is recognised by its offset alone,
	// and it is not recorded. A Later action has no redirect and no
	// metadata; a hook may have one Later action besides its ordinary one.
	Later bool
}

// MetaByte is the i-th byte an XDP action writes into the metadata area.
func MetaByte(i int) byte { return byte(0xa0 + i) }

// Writes returns the standard assignments with a distinct base: mark = base,
// priority = base%16, tc_index = base%64, cb[i] = base<<8|i, hash =
// 0x5eed0000|base, tstamp = base*1000003. Distinct bases let a reader tell
// which writer a surviving value came from.
func Writes(base uint64) []Assign {
	a := []Assign{
		{FieldMark, base},
		{FieldPriority, base % 16},
		{FieldTCIndex, base % 64},
	}
	for i := range 5 {
		a = append(a, Assign{CBField(i), base<<8 | uint64(i)})
	}
	return append(a,
		Assign{FieldHash, 0x5eed0000 | base},
		Assign{FieldTstamp, base * 1000003},
	)
}

// Topology names the device layout a transition runs on; Setup texts
// describe each in full.
type Topology string

// Topologies.
const (
	TopoSameNetns Topology = "same-netns" // vX <-> vY, both in A
	TopoPair      Topology = "pair"       // vA (A) <-> vB (B)
	TopoHub       Topology = "hub"        // vA/vB/vC (A/B/C) <-> hA/hB/hC (H)
	// TopoHubRouted is hub with net.ipv4.ip_forward 1 in H and a route
	// 192.0.2.2/32 dev hB there.
	TopoHubRouted Topology = "hub-routed"
	TopoVXLAN     Topology = "vxlan"      // pair + vxA (A), vxB (B)
	TopoVXLANXnet Topology = "vxlan-xnet" // pair + vxA moved to S, vxB moved to D
	// TopoVXLAN6 is pair + vxA (A), vxB (B) over an IPv6 underlay, the
	// vxlan devices bound to no lower device, MTU 2000.
	TopoVXLAN6 Topology = "vxlan6"
	// TopoBridge is hub with a bridge br0 in H whose ports are hA, hB and
	// hC (enslaved in that order); TopoBridgeFDB adds a static FDB entry
	// for vB's MAC on hB.
	TopoBridge    Topology = "bridge"
	TopoBridgeFDB Topology = "bridge-fdb"
	// TopoBridgeNoNF is bridge with net.bridge.bridge-nf-call-iptables
	// 0 in H: br_netfilter's hooks pass IPv4 frames untouched.
	TopoBridgeNoNF Topology = "bridge-nonf"
	// Bridge port flags: TopoBridgeHairpin has a static FDB entry for vB's
	// MAC on hA and hairpin on hA (`bridge link set dev hA hairpin on`);
	// TopoBridgeIsolated makes hA and hC isolated; TopoBridgeNoFlood turns
	// unknown-unicast flooding off on hC.
	TopoBridgeHairpin  Topology = "bridge-hairpin"
	TopoBridgeIsolated Topology = "bridge-isolated"
	TopoBridgeNoFlood  Topology = "bridge-noflood"
	// TopoBridgeNoBcast turns broadcast flooding off on hC (`bcast_flood
	// off`) and gives vA a permanent neighbour 192.0.2.9 ->
	// ff:ff:ff:ff:ff:ff, so a datagram to it crosses the bridge in a
	// broadcast frame.
	TopoBridgeNoBcast Topology = "bridge-nobcast"
	// The IP tunnel topologies: pair (IPv4 underlay, permanent neighbours
	// both ways) or pair over IPv6 (as vxlan6) + tunnel devices tA (A)
	// and tB (B); see setupTunnel.
	TopoGeneve   Topology = "geneve"    // geneve id 42 (Ethernet in UDP 6081)
	TopoGRETap   Topology = "gretap"    // gretap (Ethernet in GRE 0x6558)
	TopoGRE      Topology = "gre"       // gre key 42 (IPv4 in GRE, no link-layer header)
	TopoIPIP     Topology = "ipip"      // ipip (IPv4 in IPv4, no link-layer header)
	TopoIPIPXnet Topology = "ipip-xnet" // ipip with tA moved to S and tB to D
	TopoIP6Tnl   Topology = "ip6tnl"    // IPv6 underlay, ip6tnl mode any (IPv4 in IPv6)
	TopoIP6GRE   Topology = "ip6gre"    // IPv6 underlay, ip6gre (IPv4 in GRE over IPv6)
	// The macvlan topologies: vA (A) <-> hL (H), with macvlan devices mvB
	// and mvC on hL moved to B and C (see setupMacvlan). They differ in
	// the test packet's path and in the macvlans' mode.
	TopoMacvlan        Topology = "macvlan"         // bridge mode; A -> mvB (receive)
	TopoMacvlanTx      Topology = "macvlan-tx"      // bridge mode; mvB -> A (transmit to the world)
	TopoMacvlanBridge  Topology = "macvlan-bridge"  // bridge mode; mvB -> mvC (dev_forward_skb on hL)
	TopoMacvlanPrivate Topology = "macvlan-private" // private mode; mvB -> mvC (out by hL, never to mvC)
	// The broadcast ones send to 192.0.2.9, no device's address, whose
	// permanent neighbour entry on the sender's device is
	// ff:ff:ff:ff:ff:ff: a unicast-routed datagram (no SO_BROADCAST, no
	// loopback copy) in a broadcast frame.
	TopoMacvlanBcast       Topology = "macvlan-broadcast"        // bridge mode; A -> broadcast (received on hL)
	TopoMacvlanBridgeBcast Topology = "macvlan-bridge-broadcast" // bridge mode; mvB -> broadcast
	// The source ones make mvB a source-mode macvlan whose list holds
	// vA's address ("mode source macaddr add", with "flag nodst" for
	// macvlan-source-nodst); mvC is in bridge mode. A -> mvC.
	TopoMacvlanSource      Topology = "macvlan-source"
	TopoMacvlanSourceNoDst Topology = "macvlan-source-nodst"
	// TopoIFB is pair with an ifb device in each namespace: ifbA (A) and
	// ifbB (B), up, without addresses.
	TopoIFB Topology = "ifb"
)

// Tunnel reports whether t is one of the IP tunnel topologies (tA and tB).
func (t Topology) Tunnel() bool {
	switch t {
	case TopoGeneve, TopoGRETap, TopoGRE, TopoIPIP, TopoIPIPXnet, TopoIP6Tnl, TopoIP6GRE:
		return true
	}
	return false
}

// TunnelL2 reports whether the tunnel devices of t carry Ethernet frames
// (and so have a MAC address and need a neighbour entry).
func (t Topology) TunnelL2() bool { return t == TopoGeneve || t == TopoGRETap }

// Underlay6 reports whether t's underlay is IPv6 (2001:db8::1 and ::2).
func (t Topology) Underlay6() bool {
	return t == TopoVXLAN6 || t == TopoIP6Tnl || t == TopoIP6GRE
}

// Devices returns the device role names of the topology (the names the
// devices have inside their namespaces).
func (t Topology) Devices() []string {
	switch t {
	case TopoSameNetns:
		return []string{"vX", "vY"}
	case TopoPair:
		return []string{"vA", "vB"}
	case TopoHub, TopoHubRouted:
		return []string{"vA", "vB", "vC", "hA", "hB", "hC"}
	case TopoBridge, TopoBridgeFDB, TopoBridgeNoNF, TopoBridgeHairpin, TopoBridgeIsolated, TopoBridgeNoFlood, TopoBridgeNoBcast:
		return []string{"vA", "vB", "vC", "hA", "hB", "hC", "br0"}
	case TopoVXLAN, TopoVXLANXnet, TopoVXLAN6:
		return []string{"vA", "vB", "vxA", "vxB"}
	}
	if t.Tunnel() {
		return []string{"vA", "vB", "tA", "tB"}
	}
	if t.Macvlan() {
		return []string{"vA", "hL", "mvB", "mvC"}
	}
	if t == TopoIFB {
		return []string{"vA", "vB", "ifbA", "ifbB"}
	}
	return nil
}

// Macvlan reports whether t is one of the macvlan topologies.
func (t Topology) Macvlan() bool {
	switch t {
	case TopoMacvlan, TopoMacvlanTx, TopoMacvlanBridge, TopoMacvlanPrivate, TopoMacvlanBcast, TopoMacvlanBridgeBcast,
		TopoMacvlanSource, TopoMacvlanSourceNoDst:
		return true
	}
	return false
}

// MacvlanMode returns the mode of a macvlan topology's device dev (mvB
// or mvC).
func (t Topology) MacvlanMode(dev string) string {
	switch {
	case t == TopoMacvlanPrivate:
		return "private"
	case dev == "mvB" && (t == TopoMacvlanSource || t == TopoMacvlanSourceNoDst):
		return "source"
	}
	return "bridge"
}

// Transition is one scenario of the matrix.
type Transition struct {
	Name     string
	Topology Topology
	// Setup is the exact topology and traffic, for a model to reproduce.
	Setup string
	// Actions, in packet order.
	Actions []Action
	// Hooks where recorders run, in packet order.
	Hooks []Hook
	// Segments > 1 sends the test datagram as one UDP GSO super-packet
	// (UDP_SEGMENT) of Segments segments of SegmentSize payload bytes.
	Segments int
	// GRO names a device on which GRO is switched on (ETHTOOL_SGRO; on veth
	// this also enables the NAPI receive path); a UDP socket with UDP_GRO
	// is bound to TestPort in that device's namespace unless GROFeatures
	// is set.
	GRO string
	// GROFeatures are netdev features (ethtool -K names: FeatureGROList,
	// FeatureUDPGROFwd) switched on for the GRO device. With them no
	// UDP_GRO socket is bound: the features alone decide whether UDP
	// segments are merged.
	GROFeatures []string
	// Payload is the test datagram's payload in bytes (0: 16, the text
	// "skbsim test pkt!"); a larger payload is all zero bytes, so no later
	// fragment can look like a test packet.
	Payload int
	// Unseen lists hooks (of Hooks) that the test packet must never reach
	// because the kernel drops it before them; recorders there report
	// count 0 and the recorder does not wait for them.
	Unseen []Hook
	// Twice lists hooks (of Hooks) the test packet passes twice (an ifb
	// device sends it back out of the device it came from).
	Twice []Hook
	// SendEncap makes the sender a UDP socket on the underlay (in A) that
	// writes the VXLAN packet itself: it sends EncapPayload (the VXLAN
	// header and the inner frame vxA -> vxB carrying the test datagram) to
	// the remote tunnel endpoint's port 4789. vxA is not used; a datagram
	// larger than vA's MTU is fragmented by the sending socket's IP layer
	// (ip_do_fragment / ip6_fragment), and B reassembles it on local
	// delivery to the vxlan socket.
	SendEncap bool
	// Broadcast sends the test datagram to the directed broadcast address
	// of the destination's /24 (its last byte 255; fib_add_ifaddr made it
	// RTN_BROADCAST in the local table) from a socket with SO_BROADCAST.
	Broadcast bool
	// Multicast names the sender's device: the test datagram goes to the
	// all-hosts group 224.0.0.1 out of it (IP_MULTICAST_IF with its
	// ifindex; the model routes 224.0.0.0/4 to it).
	Multicast string
	// Group, with Multicast, is the group the datagram goes to instead of
	// 224.0.0.1; the receiving socket of the socket-level hooks joins it on
	// the hook's device (IP_ADD_MEMBERSHIP with its ifindex).
	Group [4]byte
	// NoMulticastLoop turns the sender's IP_MULTICAST_LOOP off.
	NoMulticastLoop bool
	// NoTunnelTSO names a device whose tx-udp_tnl-segmentation and
	// tx-udp_tnl-csum-segmentation are switched off (ETHTOOL_SFEATURES), so
	// validate_xmit_skb segments an encapsulated GSO skb in software
	// (skb_udp_tunnel_segment) before that device's xmit.
	NoTunnelTSO string
}

// Visits is how many times a one-segment test packet is expected at hook
// h: 0 when h is in t.Unseen, 2 when in t.Twice, else 1.
func (t Transition) Visits(h Hook) uint64 {
	switch {
	case !t.Reaches(h):
		return 0
	case slices.Contains(t.Twice, h):
		return 2
	}
	return 1
}

// Reaches reports whether the test packet is expected at hook h (h is not
// in t.Unseen).
func (t Transition) Reaches(h Hook) bool {
	for _, u := range t.Unseen {
		if u == h {
			return false
		}
	}
	return true
}

// GRO features a transition can switch on (their ethtool names).
const (
	FeatureGROList   = "rx-gro-list"           // NETIF_F_GRO_FRAGLIST
	FeatureUDPGROFwd = "rx-udp-gro-forwarding" // NETIF_F_GRO_UDP_FWD
)

// SegmentSize is the payload of one segment of a GSO test packet.
const SegmentSize = 100

// ActionAt returns the action on the test packet at hook h, if any.
func (t Transition) ActionAt(h Hook) (Action, bool) {
	for _, a := range t.Actions {
		if a.Hook == h && !a.Later {
			return a, true
		}
	}
	return Action{}, false
}

// LaterAt returns the action on later fragments at hook h, if any.
func (t Transition) LaterAt(h Hook) (Action, bool) {
	for _, a := range t.Actions {
		if a.Hook == h && a.Later {
			return a, true
		}
	}
	return Action{}, false
}

// PayloadLen is the test datagram's payload length.
func (t Transition) PayloadLen() int {
	switch {
	case t.Segments > 1:
		return t.Segments * SegmentSize
	case t.Payload > 0:
		return t.Payload
	}
	return 16
}

// BigPayload is the inner payload of the fragmenting transitions: the
// VXLAN datagram (1650 bytes) does not fit the underlay's MTU of 1500.
const BigPayload = 1600

// Inner addresses of the VXLAN transitions.
var (
	InnerSrc = [4]byte{198, 51, 100, 1}
	InnerDst = [4]byte{198, 51, 100, 2}
)

// InnerSrcPort is the UDP source port of the inner test datagram that
// EncapPayload builds.
const InnerSrcPort = 40000

// EncapPayload returns the payload a SendEncap sender writes: the VXLAN
// header (flags 0x08, VNI 42), the inner Ethernet header (src -> dst,
// IPv4), an IPv4 header (ID 1, DF, TTL 64, InnerSrc -> InnerDst, valid
// checksum), a UDP header (InnerSrcPort -> TestPort, checksum 0) and n
// zero bytes.
func EncapPayload(src, dst [6]byte, n int) []byte {
	b := make([]byte, 8+14+20+8+n)
	b[0] = 0x08
	b[4], b[5], b[6] = 0, 0, 42
	e := b[8:]
	copy(e[0:6], dst[:])
	copy(e[6:12], src[:])
	e[12], e[13] = 0x08, 0x00
	ip := e[14:34]
	tot := 20 + 8 + n
	ip[0] = 0x45
	ip[2], ip[3] = byte(tot>>8), byte(tot)
	ip[4], ip[5] = 0, 1
	ip[6] = 0x40
	ip[8], ip[9] = 64, 17
	copy(ip[12:16], InnerSrc[:])
	copy(ip[16:20], InnerDst[:])
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(ip[i])<<8 | uint32(ip[i+1])
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	c := ^uint16(sum)
	ip[10], ip[11] = byte(c>>8), byte(c)
	u := e[34:42]
	u[0], u[1] = byte(InnerSrcPort>>8), byte(InnerSrcPort&0xff)
	u[2], u[3] = byte(TestPort>>8), byte(TestPort&0xff)
	u[4], u[5] = byte((8+n)>>8), byte(8+n)
	return b
}

// Common topology texts.
const (
	setupPair = `Namespaces A and B. veth pair vA (in A, 192.0.2.1/24) <-> vB (in B, 192.0.2.2/24), both up,
IPv6 disabled, permanent neighbour 192.0.2.2 -> vB's MAC on vA. One UDP datagram (16 bytes payload) is sent
from a socket in A to 192.0.2.2:9999.`
	setupHub = `Namespaces A, B, C and H. veth pairs vA (A, 192.0.2.1/24) <-> hA (H), vB (B, 192.0.2.2/24)
<-> hB (H), vC (C, 192.0.2.3/24) <-> hC (H); the h* devices have no address; all up, IPv6 disabled;
permanent neighbours 192.0.2.2 -> vB's MAC on vA and on hB. One UDP datagram is sent from a socket in A to
192.0.2.2:9999, so it reaches hA with vB's destination MAC.`
	setupVXLAN = `Namespaces A and B joined by the veth pair vA (A, 192.0.2.1/24) <-> vB (B, 192.0.2.2/24)
(permanent neighbours on both sides). vxlan devices: vxA "id 42 remote 192.0.2.2 local 192.0.2.1 dstport
4789 dev vA" with 198.51.100.1/24 and vxB "id 42 remote 192.0.2.1 local 192.0.2.2 dstport 4789 dev vB" with
198.51.100.2/24, permanent neighbour 198.51.100.2 -> vxB's MAC on vxA. One UDP datagram is sent to
198.51.100.2:9999 from a socket in the namespace of vxA. Recorders on the underlay devices match the outer
UDP/4789 packet whose inner packet is UDP/9999.`

	setupVXLAN6 = `Namespaces A and B joined by the veth pair vA (A, 2001:db8::1/64 nodad) <-> vB (B,
2001:db8::2/64 nodad) (MTU 1500, IPv6 enabled on vA and vB only, permanent neighbours on both sides). vxlan
devices over IPv6 bound to no lower device, MTU 2000: vxA "id 42 remote 2001:db8::2 local 2001:db8::1 dstport
4789" (A, 198.51.100.1/24) and vxB "id 42 remote 2001:db8::1 local 2001:db8::2 dstport 4789" (B,
198.51.100.2/24), permanent neighbour 198.51.100.2 -> vxB's MAC on vxA. One UDP datagram (inner IPv4) is sent
to 198.51.100.2:9999 from a socket in A. Recorders on the underlay devices match the outer IPv6/UDP 4789
packet (or its first fragment) whose inner packet is UDP/9999.`
	setupBridge = `Namespaces A, B, C and H. veth pairs vA (A, 192.0.2.1/24) <-> hA (H), vB (B, 192.0.2.2/24)
<-> hB (H), vC (C, 192.0.2.3/24) <-> hC (H); a bridge br0 in H (no STP, no VLAN filtering, no address) with
the ports hA, hB and hC, enslaved in that order; all up, IPv6 disabled; permanent neighbour 192.0.2.2 -> vB's
MAC on vA. One UDP datagram is sent from a socket in A to 192.0.2.2:9999. At hA ingress: writes, then
TCX_NEXT, so the frame goes on into the bridge (br_handle_frame).`
	setupTunnel = `Namespaces A and B joined by the veth pair vA (A) <-> vB (B), with permanent neighbours on
both sides: 192.0.2.1/24 and 192.0.2.2/24, or for an IPv6 underlay 2001:db8::1/64 and 2001:db8::2/64 (nodad,
IPv6 enabled on vA and vB only). Tunnel devices tA in A ("local <A's underlay address> remote <B's>") with
198.51.100.1/24 and tB in B (the reverse) with 198.51.100.2/24, of the topology's kind (geneve: "id 42
remote" only, dstport 6081; gre: "key 42"; ip6tnl: "mode any"; ip6tnl and ip6gre keep the default
encapsulation limit, a destination options header); on the Ethernet tunnels (geneve, gretap) a permanent
neighbour 198.51.100.2 -> tB's MAC on tA. One UDP datagram (16 bytes of payload) is sent to
198.51.100.2:9999 from a socket in A. Writes on the inner packet at tA egress (encap is observed at vA
egress and vB ingress), other writes on the outer packet at vB ingress (decap is observed at tB
ingress). Recorders find the test datagram from the network header, inside one encapsulation or none.`
	setupMacvlan = `Namespaces A, B, C and H. veth pair vA (A, 192.0.2.1/24) <-> hL (H, no address). macvlan
devices mvB and mvC ("link hL type macvlan mode bridge", or mode private for macvlan-private) created in H,
in that order, and moved to B (192.0.2.2/24) and C (192.0.2.3/24); all up, IPv6 disabled; permanent
neighbours 192.0.2.2 -> mvB's MAC and 192.0.2.3 -> mvC's MAC on vA, and 192.0.2.1 -> vA's MAC and 192.0.2.3 ->
mvC's MAC on mvB; and
192.0.2.9 (no device's address) -> ff:ff:ff:ff:ff:ff on vA and on mvB, so a datagram to it leaves as a
unicast-routed packet in a broadcast frame.`
	setupEncap = ` The sender is instead a UDP socket in A on the underlay: it sends the VXLAN header and
the inner frame (vxA's MAC -> vxB's MAC, IPv4 198.51.100.1 -> 198.51.100.2, UDP 40000 -> 9999, 1600 zero bytes
of payload) as one 1650-byte datagram to the remote endpoint's port 4789 (vxA is not used). The datagram does
not fit vA's MTU, so the sender's IP layer fragments it; only the first fragment carries the UDP headers, so
only it matches the recorders and takes the writes at vA egress and vB ingress; the later fragment (recognised
by its offset) takes other writes at vB ingress. B reassembles the datagram on local delivery to the vxlan
socket (the reassembled skb takes the first fragment's header state by skb_morph, the tstamp and device of the
completing, later fragment), then vxlan decapsulates it and vxB ingress sees the inner packet.`
)

// Transitions is the catalogue the kernel recorder runs and the model must
// reproduce.
var Transitions = []Transition{
	{
		Name:     "veth-same-netns",
		Topology: TopoSameNetns,
		Setup: `Namespace A holds both ends of a veth pair vX (192.0.2.1/24) <-> vY (192.0.2.2/24). Route
203.0.113.0/24 dev vX and permanent neighbour 203.0.113.2 -> vY's MAC on vX. One UDP datagram is sent from a
socket in A to 203.0.113.2:9999 (it leaves by vX, is forwarded by veth to vY: dev_forward_skb with xnet=false).`,
		Actions: []Action{{Hook: Hook{"vX", TCEgress}, Set: Writes(42)}},
		Hooks:   []Hook{{"vX", TCEgress}, {"vY", TCIngress}},
	},
	{
		Name:     "veth-cross-netns",
		Topology: TopoPair,
		Setup:    setupPair + ` veth forwards with xnet=true.`,
		Actions:  []Action{{Hook: Hook{"vA", TCEgress}, Set: Writes(42)}},
		Hooks:    []Hook{{"vA", TCEgress}, {"vB", TCIngress}},
	},
	{
		Name:     "veth-cross-netns-socket",
		Topology: TopoPair,
		Setup: setupPair + ` A UDP socket bound to 9999 in B, created in the recorder's cgroup, receives it; a
cgroup_skb/ingress recorder on that cgroup and a socket filter recorder on the socket see it when it is queued
(sk_filter_trim_cap). Writes at vA egress and, others, at vB ingress.`,
		Actions: []Action{
			{Hook: Hook{"vA", TCEgress}, Set: Writes(42)},
			{Hook: Hook{"vB", TCIngress}, Set: Writes(77)},
		},
		Hooks: []Hook{{"vA", TCEgress}, {"vB", TCIngress}, {"vB", CgroupIngress}, {"vB", SocketFilter}},
	},
	{
		Name:     "veth-cgroup-egress",
		Topology: TopoPair,
		Setup: setupPair + ` The sender's socket is made in the recorder's cgroup, whose cgroup_skb/egress program
writes mark 0x2c, priority 12 and cb[0] and cb[4]: mark and priority go on with the packet (vA egress), the
cb[] writes are undone when the program returns (__bpf_prog_run_save_cb restores cb[]).`,
		Actions: []Action{{Hook: Hook{"vA", CgroupEgress}, Set: []Assign{
			{FieldMark, 0x2c}, {FieldPriority, 12}, {FieldCB0, 0x2c00}, {FieldCB4, 0x2c04}}}},
		Hooks: []Hook{{"vA", CgroupEgress}, {"vA", TCEgress}, {"vB", TCIngress}},
	},
	{
		Name:     "veth-tap-filter",
		Topology: TopoPair,
		Setup: setupPair + ` A packet socket (SOCK_RAW, ETH_P_ALL) bound to vB, never read, has a recorder as its
socket filter: packet_rcv runs it before tc ingress and clears cb[] for it without restoring it
(bpf_prog_run_clear_cb), so tc ingress reads cb[] zeroed. Writes at vA egress.`,
		Actions: []Action{{Hook: Hook{"vA", TCEgress}, Set: Writes(42)}},
		Hooks:   []Hook{{"vA", TCEgress}, {"vB", TapFilter}, {"vB", TCIngress}},
	},
	{
		Name:     "veth-broadcast",
		Topology: TopoPair,
		Setup: setupPair + ` The datagram goes to 192.0.2.255 instead, B's subnet broadcast (RTN_BROADCAST on both
sides), from a socket with SO_BROADCAST, and a UDP socket bound to 9999 in B, created in the recorder's
cgroup, receives it. ip_mc_output loops a clone back (ip_mc_finish_output -> dev_loopback_xmit: PACKET_LOOPBACK,
netif_rx on vA) before the skb goes on to vA's tc egress (writes there) and out in a broadcast frame (the
RTN_BROADCAST neighbour: NUD_NOARP, the device's broadcast address); B delivers it locally (brd_input) as
PACKET_BROADCAST.`,
		Actions:   []Action{{Hook: Hook{"vA", TCEgress}, Set: Writes(42)}},
		Hooks:     []Hook{{"vA", TCEgress}, {"vA", TCIngress}, {"vB", TCIngress}, {"vB", SocketFilter}},
		Broadcast: true,
	},
	{
		Name:     "veth-multicast",
		Topology: TopoPair,
		Setup: setupPair + ` The datagram goes to the all-hosts group 224.0.0.1 instead, out of vA (IP_MULTICAST_IF),
and a UDP socket bound to 9999 in B, created in the recorder's cgroup, receives it. Every device joined the
group when it came up (ip_mc_up), so the output route is RTCF_MULTICAST|RTCF_LOCAL and ip_mc_output loops a
clone back (IP_MULTICAST_LOOP) before the skb leaves by vA (writes at its tc egress) to 01:00:5e:00:00:01; B
takes it as PACKET_MULTICAST (ip_route_input_mc) and delivers it.`,
		Actions:   []Action{{Hook: Hook{"vA", TCEgress}, Set: Writes(42)}},
		Hooks:     []Hook{{"vA", TCEgress}, {"vA", TCIngress}, {"vB", TCIngress}, {"vB", SocketFilter}},
		Multicast: "vA",
	},
	{
		Name:     "veth-multicast-noloop",
		Topology: TopoPair,
		Setup: `As "veth-multicast", with IP_MULTICAST_LOOP off on the sender: ip_mc_output makes no loopback
clone (sk_mc_loop), though A joined 224.0.0.1.`,
		Actions:         []Action{{Hook: Hook{"vA", TCEgress}, Set: Writes(42)}},
		Hooks:           []Hook{{"vA", TCEgress}, {"vA", TCIngress}, {"vB", TCIngress}},
		Unseen:          []Hook{{"vA", TCIngress}},
		Multicast:       "vA",
		NoMulticastLoop: true,
	},
	{
		Name:     "veth-multicast-joined",
		Topology: TopoPair,
		Setup: setupPair + ` The datagram goes to 239.1.2.3 out of vA (IP_MULTICAST_IF), and a UDP socket bound to 9999
in B, created in the recorder's cgroup, joined that group on vB (IP_ADD_MEMBERSHIP): B delivers it
(ip_check_mc_rcu finds the membership), while A, which did not join it, loops no copy back.`,
		Actions:   []Action{{Hook: Hook{"vA", TCEgress}, Set: Writes(42)}},
		Hooks:     []Hook{{"vA", TCEgress}, {"vA", TCIngress}, {"vB", TCIngress}, {"vB", SocketFilter}},
		Unseen:    []Hook{{"vA", TCIngress}},
		Multicast: "vA",
		Group:     [4]byte{239, 1, 2, 3},
	},
	{
		Name:     "veth-cross-netns-edt",
		Topology: TopoPair,
		Setup:    setupPair + ` The tstamp is written with bpf_skb_set_tstamp(BPF_SKB_CLOCK_MONOTONIC) (EDT).`,
		Actions: []Action{{Hook: Hook{"vA", TCEgress},
			Set: append(Writes(42), Assign{FieldTstampType, 1})}},
		Hooks: []Hook{{"vA", TCEgress}, {"vB", TCIngress}},
	},
	{
		Name:     "bpf-redirect-egress",
		Topology: TopoHub,
		Setup:    setupHub + ` At hA ingress: writes, then bpf_redirect(hB, 0).`,
		Actions:  []Action{{Hook: Hook{"hA", TCIngress}, Set: Writes(43), Redirect: RedirectEgress, Target: "hB"}},
		Hooks:    []Hook{{"vA", TCEgress}, {"hA", TCIngress}, {"hB", TCEgress}, {"vB", TCIngress}},
	},
	{
		Name:     "bpf-redirect-ingress",
		Topology: TopoHub,
		Setup:    setupHub + ` At hA ingress: writes, then bpf_redirect(hB, BPF_F_INGRESS).`,
		Actions:  []Action{{Hook: Hook{"hA", TCIngress}, Set: Writes(43), Redirect: RedirectIngr, Target: "hB"}},
		Hooks:    []Hook{{"hA", TCIngress}, {"hB", TCIngress}},
	},
	{
		Name:     "bpf-redirect-peer",
		Topology: TopoHub,
		Setup:    setupHub + ` At hA ingress: writes, then bpf_redirect_peer(hB, 0) (delivers at vB ingress in B).`,
		Actions:  []Action{{Hook: Hook{"hA", TCIngress}, Set: Writes(43), Redirect: RedirectPeer, Target: "hB"}},
		Hooks:    []Hook{{"hA", TCIngress}, {"vB", TCIngress}},
	},
	{
		Name:     "xdp-generic-redirect-peer",
		Topology: TopoHub,
		Setup: setupHub + ` At hA ingress: writes, then bpf_redirect_peer(hB, 0). Generic XDP on vB reserves 8
bytes of metadata: the another_round in B runs do_xdp_generic for vB (skb_do_redirect does not set
skb->redirected).`,
		Actions: []Action{
			{Hook: Hook{"hA", TCIngress}, Set: Writes(43), Redirect: RedirectPeer, Target: "hB"},
			{Hook: Hook{"vB", XDP}, MetaLen: 8, Generic: true},
		},
		Hooks: []Hook{{"hA", TCIngress}, {"vB", XDP}, {"vB", TCIngress}},
	},
	{
		Name:     "bpf-redirect-neigh",
		Topology: TopoHub,
		Setup: setupHub + ` At hA ingress: writes, then bpf_redirect_neigh(hB, NULL, 0, 0): the Ethernet header is
pulled, the route to 192.0.2.2 with hB as the output device (H has none: on-link) is set, skb->dev = hB, the
tstamp cleared, and neigh_output writes H's permanent neighbour for 192.0.2.2 on hB (vB's MAC) before
dev_queue_xmit on hB. Nothing is scrubbed.`,
		Actions: []Action{{Hook: Hook{"hA", TCIngress}, Set: Writes(43), Redirect: RedirectNeigh, Target: "hB"}},
		Hooks:   []Hook{{"hA", TCIngress}, {"hB", TCEgress}, {"vB", TCIngress}},
	},
	{
		Name:     "tc-fib-forward",
		Topology: TopoHubRouted,
		Setup: setupHub + ` H forwards (net.ipv4.ip_forward 1) and routes 192.0.2.2/32 dev hB. At hA ingress:
writes, then bpf_fib_lookup(skb, {AF_INET, the header's addresses, protocol and TOS, ifindex hA}, 0): H's
route and permanent neighbour give BPF_FIB_LKUP_RET_SUCCESS with ifindex hB, smac hB's and dmac vB's MAC
(tot_len 0: is_skb_forwardable checks the skb against hB). Then the TTL is decremented and the MACs written
with bpf_skb_store_bytes, and the program returns bpf_redirect(hB, 0). Nothing is scrubbed; the packet
never enters H's IP stack.`,
		Actions: []Action{{Hook: Hook{"hA", TCIngress}, Set: Writes(43), Redirect: RedirectFib}},
		Hooks:   []Hook{{"hA", TCIngress}, {"hB", TCEgress}, {"vB", TCIngress}},
	},
	{
		Name:     "xdp-fib-forward",
		Topology: TopoHubRouted,
		Setup: setupHub + ` H forwards (net.ipv4.ip_forward 1) and routes 192.0.2.2/32 dev hB. Native XDP on hA
reserves 8 bytes of metadata, then bpf_fib_lookup(ctx, {AF_INET, the header's addresses, protocol, TOS and
tot_len, ifindex hA}, 0) gives BPF_FIB_LKUP_RET_SUCCESS with ifindex hB; the TTL is decremented, the MACs
written and the program returns bpf_redirect(hB, 0). The xdp_frame goes to hB's ndo_xdp_xmit (veth_xdp_xmit,
which takes frames because vB has an XDP program), and vB's NAPI runs vB's XDP program on it with the
metadata, then builds the skb from the frame (__xdp_build_skb_from_frame: skb_metadata_set).`,
		Actions: []Action{{Hook: Hook{"hA", XDP}, MetaLen: 8, Redirect: RedirectFib}},
		Hooks:   []Hook{{"hA", XDP}, {"vB", XDP}, {"vB", TCIngress}},
	},
	{
		Name:     "bpf-clone-redirect-egress",
		Topology: TopoHub,
		Setup: setupHub + ` At hA ingress: writes, then bpf_clone_redirect(hC, 0) and TCX_NEXT (the original
continues into H's stack).`,
		Actions: []Action{{Hook: Hook{"hA", TCIngress}, Set: Writes(43), Redirect: CloneEgress, Target: "hC"}},
		Hooks:   []Hook{{"hA", TCIngress}, {"hC", TCEgress}, {"vC", TCIngress}},
	},
	{
		Name:     "bpf-clone-redirect-ingress",
		Topology: TopoHub,
		Setup:    setupHub + ` At hA ingress: writes, then bpf_clone_redirect(hC, BPF_F_INGRESS) and TCX_NEXT.`,
		Actions:  []Action{{Hook: Hook{"hA", TCIngress}, Set: Writes(43), Redirect: CloneIngress, Target: "hC"}},
		Hooks:    []Hook{{"hA", TCIngress}, {"hC", TCIngress}},
	},
	{
		Name:     "xdp-meta-clone-redirect",
		Topology: TopoHub,
		Setup: setupHub + ` Native XDP on hA reserves 8 bytes of metadata. At hA ingress: writes, then
bpf_clone_redirect(hC, 0) and TCX_NEXT: the clone leaves by hC with the head it shares, metadata included,
while bpf_clone_redirect makes the original's head private (bpf_try_make_head_writable).`,
		Actions: []Action{
			{Hook: Hook{"hA", XDP}, MetaLen: 8},
			{Hook: Hook{"hA", TCIngress}, Set: Writes(43), Redirect: CloneEgress, Target: "hC"},
		},
		Hooks: []Hook{{"hA", XDP}, {"hA", TCIngress}, {"hC", TCEgress}, {"vC", TCIngress}},
	},
	{
		Name:     "xdp-meta-redirect-peer",
		Topology: TopoHub,
		Setup: setupHub + ` Native XDP on hA reserves 8 bytes of metadata. At hA ingress: writes, then
bpf_redirect_peer(hB, 0): the skb itself goes on at vB ingress in B.`,
		Actions: []Action{
			{Hook: Hook{"hA", XDP}, MetaLen: 8},
			{Hook: Hook{"hA", TCIngress}, Set: Writes(43), Redirect: RedirectPeer, Target: "hB"},
		},
		Hooks: []Hook{{"hA", XDP}, {"hA", TCIngress}, {"vB", TCIngress}},
	},
	{
		Name:     "mirred-egress-redirect",
		Topology: TopoHub,
		Setup: setupHub + ` At hA ingress: writes, then a classic tc filter after the program, matching every packet, with action
mirred egress redirect dev hB (act_mirred: at ingress the skb itself is sent, TC_ACT_CONSUMED).`,
		Actions: []Action{{Hook: Hook{"hA", TCIngress}, Set: Writes(43), Redirect: MirredEgressRedirect, Target: "hB"}},
		Hooks:   []Hook{{"hA", TCIngress}, {"hB", TCEgress}, {"vB", TCIngress}},
	},
	{
		Name:     "mirred-ingress-redirect",
		Topology: TopoHub,
		Setup: setupHub + ` At hA ingress: writes, then the same filter with action mirred ingress redirect dev hB
(netif_receive_skb on hB, without __dev_forward_skb: no scrub).`,
		Actions: []Action{{Hook: Hook{"hA", TCIngress}, Set: Writes(43), Redirect: MirredIngressRedirect, Target: "hB"}},
		Hooks:   []Hook{{"hA", TCIngress}, {"hB", TCIngress}},
	},
	{
		Name:     "mirred-egress-mirror",
		Topology: TopoHub,
		Setup: setupHub + ` At hA ingress: writes, then the same filter with action mirred egress mirror dev hC (a clone leaves
by hC; the original goes on into H's stack).`,
		Actions: []Action{{Hook: Hook{"hA", TCIngress}, Set: Writes(43), Redirect: MirredEgressMirror, Target: "hC"}},
		Hooks:   []Hook{{"hA", TCIngress}, {"hC", TCEgress}, {"vC", TCIngress}},
	},
	{
		Name:     "mirred-ingress-mirror",
		Topology: TopoHub,
		Setup:    setupHub + ` At hA ingress: writes, then the same filter with action mirred ingress mirror dev hC.`,
		Actions:  []Action{{Hook: Hook{"hA", TCIngress}, Set: Writes(43), Redirect: MirredIngressMirror, Target: "hC"}},
		Hooks:    []Hook{{"hA", TCIngress}, {"hC", TCIngress}},
	},
	{
		Name:     "vxlan",
		Topology: TopoVXLAN,
		Setup: setupVXLAN + ` vxA and the sender are in A, vxB in B (tunnel and underlay share a namespace on
both sides). Writes on the inner packet at vxA egress (encap is observed at vA egress and, after the
cross-netns veth, vB ingress); other writes on the outer packet at vB ingress (decap is observed at vxB
ingress).`,
		Actions: []Action{
			{Hook: Hook{"vxA", TCEgress}, Set: Writes(42)},
			{Hook: Hook{"vB", TCIngress}, Set: Writes(77)},
		},
		Hooks: []Hook{{"vxA", TCEgress}, {"vA", TCEgress}, {"vB", TCIngress}, {"vxB", TCIngress}},
	},
	{
		Name:     "xdp-meta-vxlan-decap",
		Topology: TopoVXLAN,
		Setup: setupVXLAN + ` vxA and the sender are in A, vxB in B. Native XDP on vB reserves 8 bytes of metadata
on the outer frame. vxlan_rcv's decap moves the mac header to the inner frame; meta_len stays.`,
		Actions: []Action{{Hook: Hook{"vB", XDP}, MetaLen: 8}},
		Hooks:   []Hook{{"vB", XDP}, {"vB", TCIngress}, {"vxB", TCIngress}},
	},
	{
		Name:     "vxlan-socket",
		Topology: TopoVXLAN,
		Setup: `As "vxlan", with a UDP socket bound to 9999 in B, created in the recorder's cgroup, receiving the
inner datagram, a cgroup_skb/ingress recorder on that cgroup and a socket filter recorder on the socket.`,
		Actions: []Action{
			{Hook: Hook{"vxA", TCEgress}, Set: Writes(42)},
			{Hook: Hook{"vB", TCIngress}, Set: Writes(77)},
		},
		Hooks: []Hook{{"vxA", TCEgress}, {"vB", TCIngress}, {"vxB", TCIngress}, {"vxB", CgroupIngress}, {"vxB", SocketFilter}},
	}, {
		Name:     "vxlan-uso",
		Topology: TopoVXLAN,
		Setup: `As "vxlan", but the datagram is one UDP GSO super-packet of 4 segments (UDP_SEGMENT 100): vxlan
encapsulates it whole (udp_tunnel_handle_offloads: SKB_GSO_UDP_TUNNEL, inner headers), the veth pair carries
it whole (its tunnel TSO features), and vxlan_rcv's iptunnel_pull_offloads clears the tunnel GSO type.`,
		Actions: []Action{
			{Hook: Hook{"vxA", TCEgress}, Set: Writes(42)},
			{Hook: Hook{"vB", TCIngress}, Set: Writes(77)},
		},
		Hooks:    []Hook{{"vxA", TCEgress}, {"vA", TCEgress}, {"vB", TCIngress}, {"vxB", TCIngress}},
		Segments: 4,
	},
	{
		Name:     "vxlan-uso-segmented",
		Topology: TopoVXLAN,
		Setup: `As "vxlan-uso" with tx-udp_tnl-segmentation off on vA: vA's validate_xmit_skb cuts the
encapsulated super-packet into 4 VXLAN packets (skb_udp_tunnel_segment, __udp_gso_segment inside), each
with the head's header state (__copy_skb_header) and its own inner and outer headers.`,
		Actions: []Action{
			{Hook: Hook{"vxA", TCEgress}, Set: Writes(42)},
			{Hook: Hook{"vB", TCIngress}, Set: Writes(77)},
		},
		Hooks:       []Hook{{"vxA", TCEgress}, {"vA", TCEgress}, {"vB", TCIngress}, {"vxB", TCIngress}},
		Segments:    4,
		NoTunnelTSO: "vA",
	},

	{
		Name:     "vxlan-xnet",
		Topology: TopoVXLANXnet,
		Setup: setupVXLAN + ` vxA is created in A over vA and then moved to namespace S, where its address is
set and the sender runs; vxB is created in B over vB and moved to namespace D. Encap and decap therefore
cross namespaces (vxlan->net differs from the device's). Writes as in "vxlan".`,
		Actions: []Action{
			{Hook: Hook{"vxA", TCEgress}, Set: Writes(42)},
			{Hook: Hook{"vB", TCIngress}, Set: Writes(77)},
		},
		Hooks: []Hook{{"vxA", TCEgress}, {"vA", TCEgress}, {"vB", TCIngress}, {"vxB", TCIngress}},
	},
	{
		Name:     "vxlan-frag-reasm",
		Topology: TopoVXLAN,
		Setup:    setupVXLAN + setupEncap,
		Actions: []Action{
			{Hook: Hook{"vA", TCEgress}, Set: Writes(42)},
			{Hook: Hook{"vB", TCIngress}, Set: Writes(77)},
			{Hook: Hook{"vB", TCIngress}, Set: Writes(99), Later: true},
		},
		Hooks:     []Hook{{"vA", TCEgress}, {"vB", TCIngress}, {"vxB", TCIngress}},
		Payload:   BigPayload,
		SendEncap: true,
	},
	{
		Name:     "vxlan6",
		Topology: TopoVXLAN6,
		Setup:    setupVXLAN6 + ` The datagram has 16 bytes of payload (no fragmentation). Writes as in "vxlan".`,
		Actions: []Action{
			{Hook: Hook{"vxA", TCEgress}, Set: Writes(42)},
			{Hook: Hook{"vB", TCIngress}, Set: Writes(77)},
		},
		Hooks: []Hook{{"vxA", TCEgress}, {"vA", TCEgress}, {"vB", TCIngress}, {"vxB", TCIngress}},
	},
	{
		Name:     "vxlan6-toobig",
		Topology: TopoVXLAN6,
		Setup: setupVXLAN6 + ` The datagram has 1600 bytes of zero payload: the inner packet fits vxA's MTU
of 2000, the IPv6 outer packet (1700 bytes) does not fit vA's 1500, and the IPv6 underlay does not
fragment it (the encapsulated skb has no ignore_df, so ip6_fragment refuses it): nothing leaves vA.
Writes as in "vxlan".`,
		Actions: []Action{
			{Hook: Hook{"vxA", TCEgress}, Set: Writes(42)},
			{Hook: Hook{"vB", TCIngress}, Set: Writes(77)},
		},
		Hooks:   []Hook{{"vxA", TCEgress}, {"vA", TCEgress}, {"vB", TCIngress}, {"vxB", TCIngress}},
		Unseen:  []Hook{{"vA", TCEgress}, {"vB", TCIngress}, {"vxB", TCIngress}},
		Payload: BigPayload,
	},
	{
		Name:     "vxlan6-frag-reasm",
		Topology: TopoVXLAN6,
		Setup:    setupVXLAN6 + setupEncap,
		Actions: []Action{
			{Hook: Hook{"vA", TCEgress}, Set: Writes(42)},
			{Hook: Hook{"vB", TCIngress}, Set: Writes(77)},
			{Hook: Hook{"vB", TCIngress}, Set: Writes(99), Later: true},
		},
		Hooks:     []Hook{{"vA", TCEgress}, {"vB", TCIngress}, {"vxB", TCIngress}},
		Payload:   BigPayload,
		SendEncap: true,
	},
	{
		Name:     "geneve",
		Topology: TopoGeneve,
		Setup:    setupTunnel,
		Actions:  tunnelActions(),
		Hooks:    tunnelHooks(),
	},
	{
		Name:     "gretap",
		Topology: TopoGRETap,
		Setup:    setupTunnel,
		Actions:  tunnelActions(),
		Hooks:    tunnelHooks(),
	},
	{
		Name:     "gre",
		Topology: TopoGRE,
		Setup:    setupTunnel,
		Actions:  tunnelActions(),
		Hooks:    tunnelHooks(),
	},
	{
		Name:     "ipip",
		Topology: TopoIPIP,
		Setup:    setupTunnel,
		Actions:  tunnelActions(),
		Hooks:    tunnelHooks(),
	},
	{
		Name:     "ipip-xnet",
		Topology: TopoIPIPXnet,
		Setup:    setupTunnel + ` tA is created in A and then moved to namespace S, where its address is set and the sender runs; tB is created in B and moved to D. Encap and decap therefore cross namespaces (tunnel->net differs from the device's: iptunnel_xmit and ip_tunnel_rcv scrub with xnet).`,
		Actions:  tunnelActions(),
		Hooks:    tunnelHooks(),
	},
	{
		Name:     "ip6tnl",
		Topology: TopoIP6Tnl,
		Setup:    setupTunnel,
		Actions:  tunnelActions(),
		Hooks:    tunnelHooks(),
	},
	{
		Name:     "ip6gre",
		Topology: TopoIP6GRE,
		Setup:    setupTunnel,
		Actions:  tunnelActions(),
		Hooks:    tunnelHooks(),
	},
	{
		Name:     "bridge-flood",
		Topology: TopoBridge,
		Setup: setupBridge + ` vB's MAC is not in the FDB yet, so the bridge floods the frame to hB and hC
(br_flood: deliver_clone gives every port but the last a clone, and the last the frame itself;
br_forward_finish clears a tstamp that is not a delivery time).`,
		Actions: []Action{{Hook: Hook{"hA", TCIngress}, Set: Writes(43)}},
		Hooks:   []Hook{{"hA", TCIngress}, {"hB", TCEgress}, {"hC", TCEgress}, {"vB", TCIngress}, {"vC", TCIngress}},
	},
	{
		Name:     "bridge-flood-edt",
		Topology: TopoBridge,
		Setup: `As "bridge-flood" with the tstamp written by bpf_skb_set_tstamp(BPF_SKB_CLOCK_MONOTONIC): a
delivery time, which skb_clear_tstamp keeps.`,
		Actions: []Action{{Hook: Hook{"hA", TCIngress}, Set: append(Writes(43), Assign{FieldTstampType, 1})}},
		Hooks:   []Hook{{"hA", TCIngress}, {"hB", TCEgress}, {"hC", TCEgress}, {"vB", TCIngress}, {"vC", TCIngress}},
	},
	{
		Name:     "bridge-flood-nonf",
		Topology: TopoBridgeNoNF,
		Setup: `As "bridge-flood" with net.bridge.bridge-nf-call-iptables set to 0 in H, so br_netfilter's
NF_BR_PRE_ROUTING and NF_BR_FORWARD hooks (br_nf_pre_routing, br_nf_forward) return NF_ACCEPT at once.`,
		Actions: []Action{{Hook: Hook{"hA", TCIngress}, Set: Writes(43)}},
		Hooks:   []Hook{{"hA", TCIngress}, {"hB", TCEgress}, {"hC", TCEgress}, {"vB", TCIngress}, {"vC", TCIngress}},
	},
	{
		Name:     "xdp-meta-bridge",
		Topology: TopoBridgeFDB,
		Setup: `As "bridge-fdb" with native XDP on hA reserving 8 bytes of metadata: the frame crosses the bridge
(br_netfilter on) to hB and the veth into B.`,
		Actions: []Action{{Hook: Hook{"hA", XDP}, MetaLen: 8}},
		Hooks:   []Hook{{"hA", XDP}, {"hA", TCIngress}, {"hB", TCEgress}, {"vB", TCIngress}},
	},
	{
		Name:     "bridge-fdb",
		Topology: TopoBridgeFDB,
		Setup: setupBridge + ` A static FDB entry ("bridge fdb add <vB's MAC> dev hB master static") makes the
bridge forward the frame to hB alone (__br_forward); hC never sees it.`,
		Actions: []Action{{Hook: Hook{"hA", TCIngress}, Set: Writes(43)}},
		Hooks:   []Hook{{"hA", TCIngress}, {"hB", TCEgress}, {"hC", TCEgress}, {"vB", TCIngress}},
		Unseen:  []Hook{{"hC", TCEgress}},
	},
	{
		Name:     "xdp-meta-native",
		Topology: TopoPair,
		Setup: setupPair + ` Native (driver mode) XDP on vB reserves 8 bytes of metadata. Writes at vA
egress.`,
		Actions: vethXDPActions(),
		Hooks:   []Hook{{"vA", TCEgress}, {"vB", XDP}, {"vB", TCIngress}},
	},
	{
		Name:     "xdp-meta-generic",
		Topology: TopoPair,
		Setup:    setupPair + ` Generic (skb mode) XDP on vB reserves 8 bytes of metadata. Writes at vA egress.`,
		Actions: []Action{
			{Hook: Hook{"vA", TCEgress}, Set: Writes(42)},
			{Hook: Hook{"vB", XDP}, MetaLen: 8, Generic: true},
		},
		Hooks: []Hook{{"vA", TCEgress}, {"vB", XDP}, {"vB", TCIngress}},
	},
	{
		Name:     "xdp-generic-gso",
		Topology: TopoPair,
		Setup: setupPair + ` The datagram is one UDP GSO super-packet of 40 segments (UDP_SEGMENT 100), its
payload in page fragments. Generic (skb mode) XDP on vB reserves 8 bytes of metadata: the non-linear skb
gets a private head with XDP_PACKET_HEADROOM and is linearized first (netif_skb_check_for_xdp). Writes at
vA egress.`,
		Actions: []Action{
			{Hook: Hook{"vA", TCEgress}, Set: Writes(42)},
			{Hook: Hook{"vB", XDP}, MetaLen: 8, Generic: true},
		},
		Hooks:    []Hook{{"vA", TCEgress}, {"vB", XDP}, {"vB", TCIngress}},
		Segments: 40,
	},
	{
		Name:     "xdp-generic-gso-frags",
		Topology: TopoPair,
		Setup: `As "xdp-generic-gso" with a multi-buffer XDP program (BPF_F_XDP_HAS_FRAGS): from v6.9 the skb is
copied into page-pool memory instead (skb_cow_data_for_xdp: skb_pp_cow_data), a head of
SKB_WITH_OVERHEAD(PAGE_SIZE - XDP_PACKET_HEADROOM) bytes and a page fragment with the rest, and the
original is consumed. skb_copy_header leaves the copy's mac_len at 0, so tc ingress pushes nothing and sees
the packet from its IPv4 header (the recorder finds it from the network header all the same).`,
		Actions: []Action{
			{Hook: Hook{"vA", TCEgress}, Set: Writes(42)},
			{Hook: Hook{"vB", XDP}, MetaLen: 8, Generic: true, Frags: true},
		},
		Hooks:    []Hook{{"vA", TCEgress}, {"vB", XDP}, {"vB", TCIngress}},
		Segments: 40,
	},
	{
		Name:     "veth-xdp-tx",
		Topology: TopoSameNetns,
		Setup: `As "veth-same-netns", with native XDP on both ends: vY's reserves 8 bytes of metadata and bounces the
datagram (XDP_TX); vX's passes it. veth hands the frame to vX (veth_xdp_xmit), which builds a new skb around it
(veth_xdp_rcv_one -> __xdp_build_skb_from_frame). Writes at vX egress.`,
		Actions: []Action{
			{Hook: Hook{"vX", TCEgress}, Set: Writes(42)},
			{Hook: Hook{"vY", XDP}, MetaLen: 8, Redirect: XDPTx},
		},
		Hooks: []Hook{{"vX", TCEgress}, {"vY", XDP}, {"vX", XDP}, {"vX", TCIngress}},
	},
	{
		Name:     "veth-xdp-cpumap",
		Topology: TopoSameNetns,
		Setup: `As "veth-same-netns", with native XDP on vY, which reserves 8 bytes of metadata and redirects the
datagram into a cpumap entry (bpf_redirect_map, CPU 0, queue size 64) whose program is a recorder
(BPF_XDP_CPUMAP). The entry's kthread builds a new skb around the frame (__xdp_build_skb_from_frame) and
receives it as vY's. Writes at vX egress.`,
		Actions: []Action{
			{Hook: Hook{"vX", TCEgress}, Set: Writes(42)},
			{Hook: Hook{"vY", XDP}, MetaLen: 8, Redirect: RedirectCPU},
		},
		Hooks: []Hook{{"vX", TCEgress}, {"vY", XDP}, {"vY", XDPCpumap}, {"vY", TCIngress}},
	},
	{
		Name:     "xdp-generic-cpumap",
		Topology: TopoSameNetns,
		Setup: `As "veth-xdp-cpumap" with the XDP program on vY in generic (skb) mode: the skb itself is queued
(cpu_map_generic_redirect, v5.15), and the cpumap program runs on it in generic mode. Generic XDP sets the
metadata on XDP_PASS only. Writes at vX egress.`,
		Actions: []Action{
			{Hook: Hook{"vX", TCEgress}, Set: Writes(42)},
			{Hook: Hook{"vY", XDP}, MetaLen: 8, Redirect: RedirectCPU, Generic: true},
		},
		Hooks: []Hook{{"vX", TCEgress}, {"vY", XDP}, {"vY", XDPCpumap}, {"vY", TCIngress}},
	},
	{
		Name:     "veth-gro",
		Topology: TopoPair,
		Setup: setupPair + ` The datagram is one UDP GSO super-packet of 4 segments (UDP_SEGMENT 100). Native
XDP on vB (reserving 8 bytes of metadata) makes veth segment it and receive the segments through NAPI; GRO
is on for vB and a UDP_GRO socket listens on 192.0.2.2:9999 in B, so GRO merges the segments again before
tc ingress. Writes at vA egress on the super-packet.`,
		Actions:  vethXDPActions(),
		Hooks:    []Hook{{"vA", TCEgress}, {"vB", XDP}, {"vB", TCIngress}},
		Segments: 4,
		GRO:      "vB",
	},
	{
		Name:     "veth-gro-meta-differs",
		Topology: TopoPair,
		Setup: `As "veth-gro", but vB's XDP program makes the last metadata byte each segment's number (1 to 4):
GRO's gro_list_prepare finds the metadata different (skb_metadata_differs) and merges nothing, so tc
ingress sees the 4 segments.`,
		Actions: []Action{
			{Hook: Hook{"vA", TCEgress}, Set: Writes(42)},
			{Hook: Hook{"vB", XDP}, MetaLen: 8, MetaSeq: true},
		},
		Hooks:    []Hook{{"vA", TCEgress}, {"vB", XDP}, {"vB", TCIngress}},
		Segments: 4,
		GRO:      "vB",
	},
	{
		Name:     "veth-gro-cpumap",
		Topology: TopoPair,
		Setup: `As "veth-gro" with vB's XDP program redirecting each segment into a cpumap entry (CPU 0, queue size
64): the segments reach the entry's queue together at the end of veth's NAPI poll (xdp_do_flush) and go to
the kthread's own GRO instance (v6.15: gro_receive_skb on rcpu->gro). The skbs it builds have no checksum
state (CHECKSUM_NONE) while the socket's segments carry only the pseudo-header sum of CHECKSUM_PARTIAL, so
GRO's software check fails and nothing merges: tc ingress sees the 4 segments.`,
		Actions: []Action{
			{Hook: Hook{"vA", TCEgress}, Set: Writes(42)},
			{Hook: Hook{"vB", XDP}, MetaLen: 8, Redirect: RedirectCPU},
		},
		Hooks:    []Hook{{"vA", TCEgress}, {"vB", XDP}, {"vB", TCIngress}},
		Segments: 4,
		GRO:      "vB",
	},
	{
		Name:     "veth-gro-fwd",
		Topology: TopoPair,
		Setup: `As "veth-gro" but no UDP_GRO socket listens: rx-udp-gro-forwarding is on for vB
(NETIF_F_GRO_UDP_FWD), so GRO merges the payload of the 4 segments for no socket.`,
		Actions:     vethXDPActions(),
		Hooks:       []Hook{{"vA", TCEgress}, {"vB", XDP}, {"vB", TCIngress}},
		Segments:    4,
		GRO:         "vB",
		GROFeatures: []string{FeatureUDPGROFwd},
	},
	{
		Name:     "veth-gro-list",
		Topology: TopoPair,
		Setup: `As "veth-gro" but no UDP_GRO socket listens: rx-gro-list is on for vB
(NETIF_F_GRO_FRAGLIST), so GRO chains the 4 segment skbs on the first one's frag_list (fraglist GRO).`,
		Actions:     vethXDPActions(),
		Hooks:       []Hook{{"vA", TCEgress}, {"vB", XDP}, {"vB", TCIngress}},
		Segments:    4,
		GRO:         "vB",
		GROFeatures: []string{FeatureGROList},
	},
	{
		Name:     "hub-gro-list-redirect",
		Topology: TopoHub,
		Setup: setupHub + ` The datagram is one UDP GSO super-packet of 4 segments (UDP_SEGMENT 100). Native
XDP on hA (reserving 8 bytes of metadata) makes vA segment it and hA receive the segments through NAPI; GRO
and rx-gro-list are on for hA, so fraglist GRO chains them again. At hA ingress: writes, then
bpf_redirect(hB, 0). Native XDP on vB (8 bytes of metadata) leaves hB without NETIF_F_GSO_SOFTWARE, so hB's
validate_xmit_skb cuts the fraglist skb back into its 4 skbs (skb_segment_list).`,
		Actions:     hubGROActions(),
		Hooks:       []Hook{{"vA", TCEgress}, {"hA", XDP}, {"hA", TCIngress}, {"hB", TCEgress}, {"vB", XDP}, {"vB", TCIngress}},
		Segments:    4,
		GRO:         "hA",
		GROFeatures: []string{FeatureGROList},
	},
	{
		Name:     "hub-gro-fwd-redirect",
		Topology: TopoHub,
		Setup: `As "hub-gro-list-redirect" with rx-udp-gro-forwarding instead of rx-gro-list on hA: GRO merges the
payload, and hB's validate_xmit_skb cuts the GSO skb into new skbs (skb_segment).`,
		Actions:     hubGROActions(),
		Hooks:       []Hook{{"vA", TCEgress}, {"hA", XDP}, {"hA", TCIngress}, {"hB", TCEgress}, {"vB", XDP}, {"vB", TCIngress}},
		Segments:    4,
		GRO:         "hA",
		GROFeatures: []string{FeatureUDPGROFwd},
	},
	{
		Name:     "veth-xdp-nogro",
		Topology: TopoPair,
		Setup: `As "veth-gro" but GRO stays off on vB and no UDP_GRO socket listens: the 4 segments reach tc
ingress one by one.`,
		Actions:  vethXDPActions(),
		Hooks:    []Hook{{"vA", TCEgress}, {"vB", XDP}, {"vB", TCIngress}},
		Segments: 4,
	},
	{
		Name:     "ifb-ingress",
		Topology: TopoIFB,
		Setup: setupPair + ` ifb devices ifbA (A) and ifbB (B), up. At vB ingress: writes, then a classic tc filter
with action mirred egress redirect dev ifbB (the skb itself, redirected from ingress: skb_iif vB). ifbB's tc
egress sees it; ifb_xmit queues it and the ifb tasklet re-injects it on vB (skb->dev from skb_iif,
tc_skip_classify set, redirected cleared, netif_receive_skb), skipping vB's taps and tc ingress this time. A UDP
socket bound to 9999 in B receives it.`,
		Actions: []Action{{Hook: Hook{"vB", TCIngress}, Set: Writes(43), Redirect: MirredEgressRedirect, Target: "ifbB"}},
		Hooks:   []Hook{{"vB", TCIngress}, {"ifbB", TCEgress}, {"vB", SocketFilter}},
	},
	{
		Name:     "ifb-ingress-xdp-generic",
		Topology: TopoIFB,
		Setup: `As "ifb-ingress", with generic XDP on vB reserving 8 bytes of metadata: the skb the ifb tasklet puts
back has skb->redirected cleared, so netif_receive_generic_xdp runs vB's program on it a second time.`,
		Actions: []Action{
			{Hook: Hook{"vB", XDP}, MetaLen: 8, Generic: true},
			{Hook: Hook{"vB", TCIngress}, Set: Writes(43), Redirect: MirredEgressRedirect, Target: "ifbB"},
		},
		Hooks: []Hook{{"vB", XDP}, {"vB", TCIngress}, {"ifbB", TCEgress}, {"vB", SocketFilter}},
		Twice: []Hook{{"vB", XDP}},
	},
	{
		Name:     "ifb-egress",
		Topology: TopoIFB,
		Setup: setupPair + ` ifb devices ifbA (A) and ifbB (B), up. At vA egress: writes, then a classic tc filter
with action mirred egress redirect dev ifbA (skb_iif vA, from egress). ifbA's tc egress sees it; the ifb tasklet
sends it out of vA again (dev_queue_xmit with tc_skip_classify): vA's tcx program runs a second time, the classic
filter's actions do not (tcf_action_exec: TC_ACT_OK, so tc_index = tc_classid), and it goes on to B.`,
		Actions: []Action{{Hook: Hook{"vA", TCEgress}, Set: Writes(42), Redirect: MirredEgressRedirect, Target: "ifbA"}},
		Hooks:   []Hook{{"vA", TCEgress}, {"ifbA", TCEgress}, {"vB", TCIngress}},
		Twice:   []Hook{{"vA", TCEgress}},
	},
	{
		Name:     "bridge-hairpin",
		Topology: TopoBridgeHairpin,
		Setup: setupBridge + ` A static FDB entry puts vB's MAC on hA, and hA is in hairpin mode: br_forward's
should_deliver lets the frame go back out of the port it came in by, to vA (PACKET_OTHERHOST there).`,
		Actions: []Action{{Hook: Hook{"hA", TCIngress}, Set: Writes(43)}},
		Hooks:   []Hook{{"hA", TCIngress}, {"hA", TCEgress}, {"vA", TCIngress}, {"hB", TCEgress}},
		Unseen:  []Hook{{"hB", TCEgress}},
	},
	{
		Name:     "bridge-isolated",
		Topology: TopoBridgeIsolated,
		Setup: setupBridge + ` hA and hC are isolated ports: the flood of the frame from hA (vB's MAC not yet
learned) reaches hB, not hC (br_skb_isolated).`,
		Actions: []Action{{Hook: Hook{"hA", TCIngress}, Set: Writes(43)}},
		Hooks:   []Hook{{"hA", TCIngress}, {"hB", TCEgress}, {"hC", TCEgress}, {"vB", TCIngress}},
		Unseen:  []Hook{{"hC", TCEgress}},
	},
	{
		Name:     "bridge-noflood",
		Topology: TopoBridgeNoFlood,
		Setup: setupBridge + ` Unknown-unicast flooding is off on hC (BR_FLOOD clear): the flood of the frame from
hA reaches hB only.`,
		Actions: []Action{{Hook: Hook{"hA", TCIngress}, Set: Writes(43)}},
		Hooks:   []Hook{{"hA", TCIngress}, {"hB", TCEgress}, {"hC", TCEgress}, {"vB", TCIngress}},
		Unseen:  []Hook{{"hC", TCEgress}},
	},
	{
		Name:     "bridge-nobcast",
		Topology: TopoBridgeNoBcast,
		Setup: setupBridge + ` The datagram goes to 192.0.2.9 instead, whose permanent neighbour on vA is
ff:ff:ff:ff:ff:ff, and broadcast flooding is off on hC (BR_BCAST_FLOOD clear): br_flood sends the broadcast
frame to hB only, and a clone goes up the bridge device.`,
		Actions: []Action{{Hook: Hook{"hA", TCIngress}, Set: Writes(43)}},
		Hooks:   []Hook{{"hA", TCIngress}, {"hB", TCEgress}, {"hC", TCEgress}, {"br0", TCIngress}},
		Unseen:  []Hook{{"hC", TCEgress}},
	},
	{
		Name:     "macvlan-rx",
		Topology: TopoMacvlan,
		Setup: setupMacvlan + ` One UDP datagram is sent from a socket in A to 192.0.2.2:9999. At hL ingress: writes,
then TCX_NEXT, so macvlan's rx_handler (macvlan_handle_frame) takes the frame for mvB's address and
__netif_receive_skb_core runs another round on mvB, in B, without a scrub.`,
		Actions: []Action{{Hook: Hook{"hL", TCIngress}, Set: Writes(43)}},
		Hooks:   []Hook{{"vA", TCEgress}, {"hL", TCIngress}, {"mvB", TCIngress}},
	},
	{
		Name:     "xdp-meta-macvlan",
		Topology: TopoMacvlan,
		Setup: setupMacvlan + ` One UDP datagram is sent from a socket in A to 192.0.2.2:9999. Native XDP on hL
reserves 8 bytes of metadata; the skb that macvlan hands to mvB is the same one, head untouched.`,
		Actions: []Action{{Hook: Hook{"hL", XDP}, MetaLen: 8}},
		Hooks:   []Hook{{"hL", XDP}, {"hL", TCIngress}, {"mvB", TCIngress}},
	},
	{
		Name:     "xdp-generic-macvlan",
		Topology: TopoMacvlan,
		Setup: setupMacvlan + ` One UDP datagram is sent from a socket in A to 192.0.2.2:9999. Generic XDP on mvB
reserves 8 bytes of metadata: another_round runs do_xdp_generic for the skb's new device.`,
		Actions: []Action{{Hook: Hook{"mvB", XDP}, MetaLen: 8, Generic: true}},
		Hooks:   []Hook{{"hL", TCIngress}, {"mvB", XDP}, {"mvB", TCIngress}},
	},
	{
		Name:     "macvlan-tx",
		Topology: TopoMacvlanTx,
		Setup: setupMacvlan + ` One UDP datagram is sent from a socket in B to 192.0.2.1:9999. At mvB egress:
writes; macvlan_queue_xmit finds no macvlan for vA's address and sends the skb on hL (skb->dev = hL,
dev_queue_xmit, no scrub), in H; veth then forwards it to A with xnet.`,
		Actions: []Action{{Hook: Hook{"mvB", TCEgress}, Set: Writes(42)}},
		Hooks:   []Hook{{"mvB", TCEgress}, {"hL", TCEgress}, {"vA", TCIngress}},
	},
	{
		Name:     "macvlan-bridge",
		Topology: TopoMacvlanBridge,
		Setup: setupMacvlan + ` One UDP datagram is sent from a socket in B to 192.0.2.3:9999. At mvB egress:
writes; in bridge mode macvlan_queue_xmit finds mvC's address and calls dev_forward_skb(hL) (a scrub with
xnet, B against H), so the frame is received on hL and macvlan's rx_handler hands it to mvC.`,
		Actions: []Action{{Hook: Hook{"mvB", TCEgress}, Set: Writes(42)}},
		Hooks:   []Hook{{"mvB", TCEgress}, {"hL", TCEgress}, {"hL", TCIngress}, {"mvC", TCIngress}},
		Unseen:  []Hook{{"hL", TCEgress}},
	},
	{
		Name:     "macvlan-broadcast",
		Topology: TopoMacvlanBcast,
		Setup: setupMacvlan + ` One UDP datagram is sent from a socket in A to 192.0.2.9:9999. At hL ingress: writes,
then TCX_NEXT. macvlan_handle_frame queues a clone (macvlan_broadcast_enqueue, which stores the source
macvlan, none, in cb[0..7]) and passes the frame on to hL; the port's work (macvlan_process_broadcast)
gives each macvlan a clone of that clone (macvlan_broadcast_one: skb->dev, PACKET_BROADCAST, no scrub) and
__netif_rx.`,
		Actions: []Action{{Hook: Hook{"hL", TCIngress}, Set: Writes(43)}},
		Hooks:   []Hook{{"hL", TCIngress}, {"mvB", TCIngress}, {"mvC", TCIngress}},
	},
	{
		Name:     "macvlan-bridge-broadcast",
		Topology: TopoMacvlanBridgeBcast,
		Setup: setupMacvlan + ` One UDP datagram is sent from a socket in B to 192.0.2.9:9999. At mvB egress: writes.
In bridge mode macvlan_queue_xmit gives every other bridge-mode macvlan a clone at once
(macvlan_broadcast_one with local: __dev_forward_skb, a scrub with xnet, B against C) and sends the skb out
of hL (no scrub), to A.`,
		Actions: []Action{{Hook: Hook{"mvB", TCEgress}, Set: Writes(42)}},
		Hooks:   []Hook{{"mvB", TCEgress}, {"mvC", TCIngress}, {"hL", TCEgress}, {"hL", TCIngress}, {"vA", TCIngress}},
		Unseen:  []Hook{{"hL", TCIngress}},
	},
	{
		Name:     "macvlan-source",
		Topology: TopoMacvlanSource,
		Setup: setupMacvlan + ` mvB is a source-mode macvlan whose list holds vA's address. One UDP datagram is sent
from a socket in A to 192.0.2.3:9999. At hL ingress: writes, then TCX_NEXT. macvlan_forward_source gives mvB a
clone (__netif_rx; PACKET_OTHERHOST kept, the destination being mvC's) before the frame goes to mvC.`,
		Actions: []Action{{Hook: Hook{"hL", TCIngress}, Set: Writes(43)}},
		Hooks:   []Hook{{"hL", TCIngress}, {"mvB", TCIngress}, {"mvC", TCIngress}},
	},
	{
		Name:     "macvlan-source-nodst",
		Topology: TopoMacvlanSourceNoDst,
		Setup: setupMacvlan + ` As "macvlan-source" with "flag nodst" on mvB: after the clone, macvlan_handle_frame
frees the frame (kfree_skb, RX_HANDLER_CONSUMED) and mvC never sees it.`,
		Actions: []Action{{Hook: Hook{"hL", TCIngress}, Set: Writes(43)}},
		Hooks:   []Hook{{"hL", TCIngress}, {"mvB", TCIngress}, {"mvC", TCIngress}},
		Unseen:  []Hook{{"mvC", TCIngress}},
	},
	{
		Name:     "macvlan-private",
		Topology: TopoMacvlanPrivate,
		Setup: setupMacvlan + ` The macvlans are in private mode. One UDP datagram is sent from a socket in B to
192.0.2.3:9999: macvlan_queue_xmit sends it on hL as to any other address, vA receives it as
PACKET_OTHERHOST and ip_rcv drops it; mvC never sees it.`,
		Actions: []Action{{Hook: Hook{"mvB", TCEgress}, Set: Writes(42)}},
		Hooks:   []Hook{{"mvB", TCEgress}, {"hL", TCEgress}, {"vA", TCIngress}, {"mvC", TCIngress}},
		Unseen:  []Hook{{"mvC", TCIngress}},
	},
}

// vethXDPActions are the actions of the pair transitions with native XDP
// on vB (xdp-meta-native and the veth GRO ones): the writes at vA egress,
// and native XDP on vB reserving 8 bytes of metadata (which makes veth
// segment a GSO super-packet and receive the segments through NAPI).
func vethXDPActions() []Action {
	return []Action{
		{Hook: Hook{"vA", TCEgress}, Set: Writes(42)},
		{Hook: Hook{"vB", XDP}, MetaLen: 8},
	}
}

// hubGROActions are the actions of the hub-gro-* transitions: native XDP
// on hA and vB (8 bytes of metadata each), and at hA ingress the writes and
// bpf_redirect(hB, 0).
func hubGROActions() []Action {
	return []Action{
		{Hook: Hook{"hA", XDP}, MetaLen: 8},
		{Hook: Hook{"hA", TCIngress}, Set: Writes(43), Redirect: RedirectEgress, Target: "hB"},
		{Hook: Hook{"vB", XDP}, MetaLen: 8},
	}
}

// Lookup returns the transition with the given name.
func Lookup(name string) (Transition, error) {
	for _, t := range Transitions {
		if t.Name == name {
			return t, nil
		}
	}
	return Transition{}, fmt.Errorf("unknown transition %q", name)
}

// normalized lists the fields whose values Normalize maps to ValueOther
// when no action wrote them.
var normalized = map[Field]bool{
	FieldMark: true, FieldPriority: true, FieldTCIndex: true, FieldCB0: true,
	FieldCB1: true, FieldCB2: true, FieldCB3: true, FieldCB4: true,
	FieldHash: true, FieldTstamp: true,
}

// Normalize replaces, in the cells of transition t, every value of mark,
// priority, tc_index, cb[], hash and tstamp that is neither 0 nor a value
// some action of t assigned to that field with ValueOther (socket hashes,
// receive clock timestamps and stale cb[] bytes differ between runs), and
// drops the cells of fields a program at the hook cannot read (Readable).
// It modifies m and returns it.
func Normalize(m Matrix, t Transition) Matrix {
	m = slices.DeleteFunc(m, func(o Observation) bool {
		h, err := ParseHook(o.Hook)
		return o.Transition == t.Name && err == nil && !h.Point.Readable(o.Field)
	})
	written := map[Field]map[uint64]bool{}
	for _, a := range t.Actions {
		for _, s := range a.Set {
			if written[s.Field] == nil {
				written[s.Field] = map[uint64]bool{}
			}
			written[s.Field][s.Value] = true
		}
	}
	for i, o := range m {
		if o.Transition != t.Name || !normalized[o.Field] || o.Value == 0 {
			continue
		}
		if !written[o.Field][o.Value] {
			m[i].Value = ValueOther
		}
	}
	return m
}

// tunnelActions are the actions of the IP tunnel transitions: writes on
// the inner packet at tA egress and on the outer packet at vB ingress.
func tunnelActions() []Action {
	return []Action{
		{Hook: Hook{"tA", TCEgress}, Set: Writes(42)},
		{Hook: Hook{"vB", TCIngress}, Set: Writes(77)},
	}
}

// tunnelHooks are the recorders of the IP tunnel transitions, in packet
// order.
func tunnelHooks() []Hook {
	return []Hook{{"tA", TCEgress}, {"vA", TCEgress}, {"vB", TCIngress}, {"tB", TCIngress}}
}
