package capture

import (
	"fmt"
	"net/netip"
)

// MaxTunnelDepth is the number of nested tunnels the decoder follows. A
// tunnel below that depth is noted with [FlagDepthLimit] and left undecoded.
const MaxTunnelDepth = 2

// MaxExtHeaders is the number of IPv6 extension header types
// [ExtHeaders.Types] lists; the count goes on past it.
const MaxExtHeaders = 8

// MaxMPLSLabels is the number of MPLS label stack entries [MPLS] keeps; the
// count goes on past it.
const MaxMPLSLabels = 4

// Decoded is the decoder's output for one packet. It is a fixed-size value
// that holds no pointers to per-packet memory: it may be copied, kept and
// compared freely after the packet bytes are gone.
//
// Hdr[0] holds the outer headers. When the packet is tunnelled, Tunnel[i]
// describes the tunnel header between Hdr[i] and Hdr[i+1]; Depth is the
// number of tunnels decoded, so Hdr[Depth] holds the innermost headers.
// Levels above Depth are zero.
type Decoded struct {
	Link   LinkType
	Depth  uint8
	Flags  DecodeFlags
	Hdr    [MaxTunnelDepth + 1]Headers
	Tunnel [MaxTunnelDepth]Tunnel

	// Flow is the flow key of the innermost IP header pair (see FlowKey);
	// FlowHash is Flow.Hash(), or for packets without IP a symmetric hash of
	// the outer MAC addresses and EtherType. Both directions of a flow, and
	// every tunnel leg carrying it, get the same FlowHash.
	Flow     FlowKey
	FlowHash uint64

	// Malformed is the first header check that failed, the one the kernel
	// would drop the packet for; MalformedDepth and MalformedOffset say at
	// which level and byte offset the failing header starts. Decoding stops
	// there: the fields of the failing header and below are not filled.
	Malformed       Malformation
	MalformedDepth  uint8
	MalformedOffset uint32
}

// Outer returns the outermost headers.
func (d *Decoded) Outer() *Headers { return &d.Hdr[0] }

// Inner returns the innermost headers (the outer ones for a packet that is
// not tunnelled).
func (d *Decoded) Inner() *Headers { return &d.Hdr[d.Depth] }

// DropReason returns the drop reason a current kernel gives for a malformed
// packet, or DropNone (see Malformation.DropReasonFor for older kernels).
func (d *Decoded) DropReason() DropReason { return d.Malformed.DropReason() }

// Headers are the headers of one level of a packet: the outer packet or a
// packet carried in a tunnel.
type Headers struct {
	// Offset is the byte offset in the packet where this level starts (its
	// L2 header, or its L3 header when it has none).
	Offset uint32
	L2     L2
	MPLS   MPLS
	L3     L3
	L4     L4
}

// L2Kind says which link-layer header a level starts with.
type L2Kind uint8

// Link-layer header kinds.
const (
	L2None     L2Kind = iota // raw IP, or a tunnel carrying IP
	L2Ethernet               // Ethernet II or 802.3
	L2SLL                    // Linux cooked v1
	L2SLL2                   // Linux cooked v2
	L2Loopback               // BSD NULL / LOOP
	L2PPP                    // PPP
)

var l2Names = [...]string{"none", "ethernet", "sll", "sll2", "loopback", "ppp"}

func (k L2Kind) String() string {
	if int(k) < len(l2Names) {
		return l2Names[k]
	}
	return fmt.Sprintf("l2kind(%d)", uint8(k))
}

// MAC is an Ethernet address.
type MAC [6]byte

func (m MAC) String() string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])
}

// VLANTag is one 802.1Q or 802.1ad tag.
type VLANTag struct {
	TPID     uint16 // 0x8100 (802.1Q), 0x88a8 (802.1ad S-tag) or 0x9100
	ID       uint16
	Priority uint8
	DEI      bool
}

// L2 is a link-layer header with its VLAN tags.
type L2 struct {
	Kind L2Kind
	// Src and Dst are the MAC addresses (SLL and SLL2 carry only a source
	// address; loopback and PPP none).
	Src, Dst MAC
	// EtherType is the protocol of what follows the link header and its VLAN
	// tags (ETH_P_*). Loopback address families and PPP protocols are
	// mapped to their EtherType. Values below 0x0600 are an 802.3 length.
	EtherType uint16
	// NumVLAN counts the VLAN tags; the first two (outermost first) are in
	// VLAN.
	NumVLAN uint8
	VLAN    [2]VLANTag
	// PktType is the SLL/SLL2 packet type (PACKET_HOST, PACKET_OUTGOING...).
	PktType uint8
	// IfIndex is the SLL2 interface index.
	IfIndex uint32
	// HeaderLen is the length of the link header including VLAN tags.
	HeaderLen uint16
}

// MPLSEntry is one MPLS label stack entry.
type MPLSEntry struct {
	Label uint32
	TC    uint8
	TTL   uint8
	BoS   bool
}

// MPLS is the label stack between the link header and L3.
type MPLS struct {
	N      uint8
	Labels [MaxMPLSLabels]MPLSEntry
}

// L3Proto says which network header a level has.
type L3Proto uint8

// Network header kinds.
const (
	L3None L3Proto = iota
	L3IPv4
	L3IPv6
	L3ARP
)

var l3Names = [...]string{"none", "ipv4", "ipv6", "arp"}

func (p L3Proto) String() string {
	if int(p) < len(l3Names) {
		return l3Names[p]
	}
	return fmt.Sprintf("l3proto(%d)", uint8(p))
}

// ExtHeaders summarises the IPv6 extension headers of a packet.
type ExtHeaders struct {
	// N counts the extension headers; Types lists the first MaxExtHeaders
	// of them by protocol number (0 hop-by-hop, 43 routing, 44 fragment,
	// 60 destination options, 51 AH).
	N     uint8
	Types [MaxExtHeaders]uint8
	// RoutingType and SegmentsLeft describe the routing header, if any
	// (type 4 is the segment routing header, SRH).
	HasRouting   bool
	RoutingType  uint8
	SegmentsLeft uint8
	// LastEntry is the SRH last-entry field (number of segments - 1).
	LastEntry uint8
	// Len is the total length of the extension headers.
	Len uint32
}

// L3 is an IPv4, IPv6 or ARP header.
type L3 struct {
	Proto L3Proto
	// Src and Dst are the IP addresses (for ARP, the sender and target
	// protocol addresses).
	Src, Dst netip.Addr
	// Protocol is the upper-layer protocol: the IPv4 protocol field, or the
	// next header after the IPv6 extension headers.
	Protocol uint8
	// TTL is the IPv4 TTL or IPv6 hop limit; TOS the IPv4 TOS or IPv6
	// traffic class.
	TTL, TOS  uint8
	FlowLabel uint32
	// ID is the IPv4 identification, or the IPv6 fragment header's.
	ID uint32
	// FragOffset is the fragment offset in bytes; MF and DF the flags.
	FragOffset uint16
	MF, DF     bool
	// HeaderLen is the IPv4 header length (IHL*4) or 40 plus the IPv6
	// extension headers; TotalLen the IPv4 total length or 40 plus the IPv6
	// payload length (for a jumbogram, the jumbo payload length + 40).
	HeaderLen uint32
	TotalLen  uint32
	Ext       ExtHeaders
	// ARPOp is the ARP operation (1 request, 2 reply).
	ARPOp uint16
}

// IsFragment reports whether the header is an IPv4 or IPv6 fragment.
func (l *L3) IsFragment() bool { return l.MF || l.FragOffset != 0 }

// TCPFlags are the TCP header flags; bit 8 is NS (AccECN's AE).
type TCPFlags uint16

// TCP flags.
const (
	TCPFin TCPFlags = 1 << iota
	TCPSyn
	TCPRst
	TCPPsh
	TCPAck
	TCPUrg
	TCPEce
	TCPCwr
	TCPNs
)

func (f TCPFlags) String() string {
	const names = "FSRPAUECN"
	var b []byte
	for i := range len(names) {
		if f&(1<<i) != 0 {
			b = append(b, names[i])
		}
	}
	if len(b) == 0 {
		return "."
	}
	return string(b)
}

// L4 is a TCP, UDP, ICMPv4 or ICMPv6 header.
type L4 struct {
	// Proto is the protocol decoded (IPPROTO_TCP, ...), 0 if none was.
	Proto            uint8
	SrcPort, DstPort uint16
	TCPFlags         TCPFlags
	Seq, Ack         uint32
	Window           uint16
	// HeaderLen is the L4 header length (TCP data offset*4, 8 for UDP and
	// ICMP); PayloadLen the bytes after it according to the IP (and UDP)
	// lengths, which counts bytes the capture may have snapped off.
	HeaderLen  uint16
	PayloadLen uint32
	// ICMPType and ICMPCode are the ICMP or ICMPv6 type and code; ICMPID
	// and ICMPSeq the echo identifier and sequence number.
	ICMPType, ICMPCode uint8
	ICMPID, ICMPSeq    uint16
}

// TunnelKind is the kind of encapsulation between two levels.
type TunnelKind uint8

// Tunnel kinds.
const (
	TunnelNone   TunnelKind = iota
	TunnelVXLAN             // UDP 4789, inner Ethernet
	TunnelGeneve            // UDP 6081
	TunnelGRE               // GRE carrying IP or MPLS
	TunnelGRETap            // GRE carrying Ethernet (transparent Ethernet bridging, 0x6558)
	TunnelERSPAN            // GRE carrying ERSPAN type II or III, inner Ethernet
	TunnelIPIP              // IPv4 in IPv4 (protocol 4)
	TunnelSIT               // IPv6 in IPv4 (protocol 41, 6in4)
	TunnelIP6IP6            // IPv6 in IPv6 (next header 41)
	TunnelIP4IP6            // IPv4 in IPv6 (next header 4)
	TunnelMPLSPW            // Ethernet pseudowire over MPLS (control word + Ethernet)
)

var tunnelNames = [...]string{"none", "vxlan", "geneve", "gre", "gretap", "erspan", "ipip", "sit", "ip6ip6", "ip4ip6", "mpls-pw"}

func (k TunnelKind) String() string {
	if int(k) < len(tunnelNames) {
		return tunnelNames[k]
	}
	return fmt.Sprintf("tunnel(%d)", uint8(k))
}

// Tunnel describes one tunnel header.
type Tunnel struct {
	Kind TunnelKind
	// ID is the VXLAN or Geneve VNI, the GRE key (HasID tells whether the
	// key is present), or the ERSPAN session ID.
	ID    uint32
	HasID bool
	// Seq is the GRE sequence number (HasSeq), Checksum whether the GRE
	// checksum is present.
	Seq      uint32
	HasSeq   bool
	Checksum bool
	// Proto is the inner protocol as an EtherType (GRE or Geneve protocol
	// field; 0x0800/0x86dd for IP-in-IP; 0x6558 for inner Ethernet).
	Proto uint16
	// OptLen is the Geneve options length in bytes and NumOpts the number
	// of option TLVs; Critical is the Geneve C bit, OAM the O bit.
	OptLen   uint8
	NumOpts  uint8
	Critical bool
	OAM      bool
	// Offset is the byte offset of the tunnel header in the packet.
	Offset uint32
}

// DecodeFlags note conditions that are not malformations.
type DecodeFlags uint16

const (
	// FlagSnapped: a header claims bytes the capture snapped off; decoding
	// stopped at the first header that is not complete in Data.
	FlagSnapped DecodeFlags = 1 << iota
	// FlagTrailer: bytes follow the IP packet in the frame (Ethernet
	// padding or a trailer), which the kernel trims (pskb_trim_rcsum).
	FlagTrailer
	// FlagFragment: an IP header is a fragment, so L4 was not decoded at
	// that level (the kernel reassembles before L4) and Flow has no ports.
	FlagFragment
	// FlagDepthLimit: a tunnel deeper than MaxTunnelDepth was not decoded.
	FlagDepthLimit
	// FlagUnsupportedLink: the link type is not one the decoder knows.
	FlagUnsupportedLink
)

// Malformation is the first header check a packet failed. Each names the
// kernel check it models; DropReason gives the drop reason Linux reports.
type Malformation uint8

// Malformations.
const (
	MalformedNone                 Malformation = iota
	MalformedL2Short                           // link header or VLAN tag truncated
	MalformedMPLSShort                         // MPLS label stack truncated
	MalformedIPVersion                         // raw IP link: first nibble neither 4 nor 6
	MalformedIPv4Version                       // IPv4 header with a version other than 4
	MalformedIPv6Version                       // IPv6 header with a version other than 6
	MalformedIPv4Short                         // fewer than 20 bytes for the IPv4 header
	MalformedIPv4IHL                           // IHL < 5
	MalformedIPv4HeaderShort                   // IHL*4 bytes not present
	MalformedIPv4Checksum                      // header checksum wrong
	MalformedIPv4TotalLen                      // total length larger than the packet
	MalformedIPv4TotalLenShort                 // total length smaller than the header
	MalformedIPv4Options                       // options malformed (ip_options_compile())
	MalformedIPv6Short                         // fewer than 40 bytes for the IPv6 header
	MalformedIPv6PayloadLen                    // payload length larger than the packet
	MalformedIPv6ExtHeader                     // extension header truncated or beyond the payload
	MalformedIPv6Jumbo                         // jumbo payload option with payload_len set or <= 65535
	MalformedIPv6HopByHopNotFirst              // hop-by-hop header after another header
	MalformedTCPShort                          // fewer than 20 bytes for the TCP header
	MalformedTCPDataOffset                     // data offset < 5
	MalformedTCPHeaderShort                    // data offset*4 bytes not present
	MalformedUDPShort                          // fewer than 8 bytes for the UDP header
	MalformedUDPLength                         // UDP length larger than the packet or < 8
	MalformedICMPShort                         // ICMP header truncated
	MalformedARPShort                          // ARP header truncated
	MalformedTunnelShort                       // tunnel header truncated
	MalformedVXLANShort                        // VXLAN header truncated
	MalformedVXLANFlags                        // VXLAN I flag clear or reserved bits set
	MalformedGeneveVersion                     // Geneve version not 0
	MalformedGRE                               // GRE routing present or unknown version
	MalformedGREChecksum                       // GRE checksum wrong
	MalformedUndecodable                       // a gopacket layer failed in a way not modelled
	malformedCount
)

var malformedNames = [malformedCount]string{
	"none",
	"link header truncated",
	"mpls label stack truncated",
	"bad ip version",
	"bad ipv4 version",
	"bad ipv6 version",
	"ipv4 header truncated",
	"bad ipv4 ihl",
	"ipv4 header shorter than ihl",
	"bad ipv4 header checksum",
	"ipv4 total length exceeds packet",
	"ipv4 total length below header length",
	"bad ipv4 options",
	"ipv6 header truncated",
	"ipv6 payload length exceeds packet",
	"ipv6 extension header truncated",
	"bad ipv6 jumbo payload option",
	"ipv6 hop-by-hop header not first",
	"tcp header truncated",
	"bad tcp data offset",
	"tcp header shorter than data offset",
	"udp header truncated",
	"bad udp length",
	"icmp header truncated",
	"arp header truncated",
	"tunnel header truncated",
	"vxlan header truncated",
	"bad vxlan flags",
	"bad geneve version",
	"unsupported gre flags or version",
	"bad gre checksum",
	"undecodable header",
}

func (m Malformation) String() string {
	if m < malformedCount {
		return malformedNames[m]
	}
	return fmt.Sprintf("malformation(%d)", uint8(m))
}

// DropReason is a kernel skb drop reason (enum skb_drop_reason, without the
// SKB_DROP_REASON_ prefix). Which reason a kernel reports for the same
// malformation depends on its version: see [Malformation.DropReasonFor].
type DropReason uint8

// Drop reasons the decoder reports.
const (
	DropNone            DropReason = iota
	DropNotSpecified               // NOT_SPECIFIED
	DropPktTooSmall                // PKT_TOO_SMALL
	DropIPInHdr                    // IP_INHDR
	DropIPCsum                     // IP_CSUM
	DropUnhandledProto             // UNHANDLED_PROTO
	DropVXLANInvalidHdr            // VXLAN_INVALID_HDR
	DropIPNoProto                  // IP_NOPROTO
)

var dropNames = [...]string{"", "NOT_SPECIFIED", "PKT_TOO_SMALL", "IP_INHDR", "IP_CSUM", "UNHANDLED_PROTO", "VXLAN_INVALID_HDR", "IP_NOPROTO"}

func (r DropReason) String() string {
	if int(r) < len(dropNames) {
		return dropNames[r]
	}
	return fmt.Sprintf("drop_reason(%d)", uint8(r))
}

// DropReason returns the reason a current kernel (v6.17 or later) gives
// when it drops a packet for this malformation. Use DropReasonFor for an
// older kernel.
func (m Malformation) DropReason() DropReason {
	r, _, _ := m.dropReason()
	return r
}

// DropReasonFor returns the reason a kernel of version major.minor gives:
// NOT_SPECIFIED where the drop predates the kfree_skb_reason() call that
// names it.
func (m Malformation) DropReasonFor(major, minor int) DropReason {
	r, smaj, smin := m.dropReason()
	if r == DropNone || major > smaj || major == smaj && minor >= smin {
		return r
	}
	return DropNotSpecified
}

// dropReason returns the reason and the kernel version that introduced it.
func (m Malformation) dropReason() (r DropReason, major, minor int) {
	switch m {
	case MalformedNone:
		return DropNone, 0, 0
	// models ip_rcv_core() (v5.18, "net: ipv4: use kfree_skb_reason() in
	// ip_rcv_core()"): a short header, ihl < 5, version != 4, a header
	// that cannot be pulled and tot_len < ihl*4 all goto inhdr_error, which
	// turns NOT_SPECIFIED into IP_INHDR; a bad checksum is IP_CSUM and
	// skb->len < tot_len PKT_TOO_SMALL. IPv4 options rejected by
	// ip_options_compile() are dropped without a reason.
	case MalformedIPv4Short, MalformedIPv4Version, MalformedIPv4IHL, MalformedIPv4HeaderShort,
		MalformedIPv4TotalLenShort:
		return DropIPInHdr, 5, 18
	case MalformedIPv4Checksum:
		return DropIPCsum, 5, 18
	case MalformedIPv4TotalLen:
		return DropPktTooSmall, 5, 18
	// models ip6_rcv_core() (v5.19, "net: ipv6: add skb drop reasons to
	// ip6_rcv_core()"): a short header goes to err (IP_INHDR), a bad
	// version sets UNHANDLED_PROTO first, payload_len + 40 > skb->len is
	// PKT_TOO_SMALL; ipv6_hop_jumbo() rejects a bad jumbo option with
	// IP_INHDR; ip6_protocol_deliver_rcu() has no handler for a hop-by-hop
	// header after the first (IP_NOPROTO). The truncation paths of
	// ipv6_destopt_rcv() and ipv6_rthdr_rcv() free without a reason.
	case MalformedIPv6Short, MalformedIPv6Jumbo:
		return DropIPInHdr, 5, 19
	case MalformedIPv6Version:
		return DropUnhandledProto, 5, 19
	case MalformedIPv6PayloadLen:
		return DropPktTooSmall, 5, 19
	case MalformedIPv6HopByHopNotFirst:
		return DropIPNoProto, 5, 19
	// models tcp_v4_rcv() (doff < 5) and __udp4_lib_rcv() (short_packet),
	// v5.17, the first users of kfree_skb_reason(). A TCP or UDP header
	// that cannot be pulled is discarded as NOT_SPECIFIED.
	case MalformedTCPDataOffset, MalformedUDPLength:
		return DropPktTooSmall, 5, 17
	// models vxlan_rcv() (v6.13, "vxlan: add drop reasons support to
	// vxlan_rcv()"): pskb_may_pull_reason() and unparsed flags.
	case MalformedVXLANShort:
		return DropPktTooSmall, 6, 13
	case MalformedVXLANFlags:
		return DropVXLANInvalidHdr, 6, 13
	// models arp_rcv() (v6.17, "net: arp: use kfree_skb_reason() in
	// arp_rcv()"): pskb_may_pull_reason() of the whole header.
	case MalformedARPShort:
		return DropPktTooSmall, 6, 17
	}
	return DropNotSpecified, 0, 0
}

// FlowKey identifies a flow by its innermost IP addresses, protocol and
// ports. Ports are zero for protocols without them and for fragments:
// models __skb_flow_dissect(), which does not read ports of fragments unless
// FLOW_DISSECTOR_F_PARSE_1ST_FRAG is set.
type FlowKey struct {
	Src, Dst         netip.Addr
	SrcPort, DstPort uint16
	Proto            uint8
}

// Reverse returns the key of the opposite direction.
func (k FlowKey) Reverse() FlowKey {
	return FlowKey{Src: k.Dst, Dst: k.Src, SrcPort: k.DstPort, DstPort: k.SrcPort, Proto: k.Proto}
}

// IsValid reports whether the key has addresses.
func (k FlowKey) IsValid() bool { return k.Src.IsValid() }

func (k FlowKey) String() string {
	return fmt.Sprintf("%d %s -> %s", k.Proto,
		netip.AddrPortFrom(k.Src, k.SrcPort), netip.AddrPortFrom(k.Dst, k.DstPort))
}
