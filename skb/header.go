package skb

// PktType is skb->pkt_type (PACKET_* in include/uapi/linux/if_packet.h).
type PktType uint8

// Packet types.
const (
	PacketHost      PktType = 0
	PacketBroadcast PktType = 1
	PacketMulticast PktType = 2
	PacketOtherhost PktType = 3
	PacketOutgoing  PktType = 4
	PacketLoopback  PktType = 5
)

// TstampType is skb->tstamp_type (enum skb_tstamp_type, v6.11; before it the
// single mono_delivery_time bit). A non-zero type marks skb->tstamp as an EDT
// delivery time rather than a receive timestamp.
type TstampType uint8

// Timestamp types.
const (
	ClockRealtime  TstampType = 0 // SKB_CLOCK_REALTIME: receive time
	ClockMonotonic TstampType = 1 // SKB_CLOCK_MONOTONIC: EDT delivery time
	ClockTAI       TstampType = 2 // SKB_CLOCK_TAI: EDT delivery time (v6.11)
)

// IPSummed is skb->ip_summed.
type IPSummed uint8

// Checksum states.
const (
	ChecksumNone        IPSummed = 0
	ChecksumUnnecessary IPSummed = 1
	ChecksumComplete    IPSummed = 2
	ChecksumPartial     IPSummed = 3
)

// Header holds the per-skb fields that __copy_skb_header() copies. The first
// five are copied one by one outside the kernel's "headers" struct_group; the
// rest are that group (memcpy'd as a block). Header offsets (mac, network,
// transport, inner, csum_start) are in the group too but live behind methods
// on Buff because geometry depends on them.
//
// References the skb holds (dst, conntrack, extensions, sk) are not here:
// they are reference counted and only change through Buff's methods.
type Header struct {
	// Outside the headers group, copied individually.
	Tstamp       int64        // skb->tstamp in ns (receive time or delivery time, see TstampType)
	Dev          int32        // skb->dev as an ifindex; 0 is NULL
	Netns        uint32       // dev_net(skb->dev): the model has no device table, so the netns travels with Dev
	CB           [CBSize]byte // skb->cb, the per-layer control buffer
	QueueMapping uint16       // skb->queue_mapping

	// The headers struct_group.
	PktType           PktType
	IgnoreDF          bool
	NfTrace           bool
	IPSummed          IPSummed
	OOOOkay           bool
	L4Hash            bool // skb->l4_hash: Hash is a canonical 4-tuple hash
	SWHash            bool // skb->sw_hash: Hash was computed in software
	WifiAckedValid    bool
	WifiAcked         bool
	NoFCS             bool
	Encapsulation     bool
	EncapHdrCsum      bool
	CsumValid         bool
	CsumCompleteSW    bool
	CsumLevel         uint8
	DstPendingConfirm bool
	TstampType        TstampType
	TCSkipClassify    bool
	TCAtIngress       bool
	NdiscNodetype     uint8
	IPVSProperty      bool
	InnerProtocolType uint8
	RemcsumOffload    bool
	OffloadFwdMark    bool
	OffloadL3FwdMark  bool
	Redirected        bool
	FromIngress       bool
	NfSkipEgress      bool
	Decrypted         bool
	SlowGRO           bool // set by skb_dst_set, skb_set_nfct, skb_ext_add
	CsumNotInet       bool
	TCIndex           uint16
	Csum              uint32 // skb->csum (CHECKSUM_COMPLETE); csum_start is an offset (Buff.CsumStart)
	CsumOffset        uint16
	Priority          uint32
	SkbIIF            int32
	Hash              uint32
	VlanProto         uint16
	VlanTCI           uint16
	NapiID            uint32
	AllocCPU          uint16
	Secmark           uint32
	Mark              uint32
	InnerProtocol     uint16
	Protocol          uint16 // skb->protocol, host byte order
}

// VlanTagPresent models skb_vlan_tag_present(): vlan_all != 0 (v5.2+).
func (h *Header) VlanTagPresent() bool { return h.VlanProto != 0 || h.VlanTCI != 0 }

// offsets are the header offsets of the headers group, relative to
// skb->head (NET_SKBUFF_DATA_USES_OFFSET), and csum_start.
type offsets struct {
	mac, network, transport                uint16
	innerMac, innerNetwork, innerTransport uint16
	csumStart                              uint16
}

// SharedInfo holds the fields of struct skb_shared_info the model keeps. It
// lives with the data buffer, so every clone sharing the buffer sees the same
// values. dataref is kept by the buffer and is not part of this struct.
type SharedInfo struct {
	Flags    uint8  // SKBFL_*
	MetaLen  uint8  // XDP metadata length (skb_metadata_len)
	NrFrags  uint8  // unused: Buff.NrFrags counts the page fragments
	TxFlags  uint8  // SKBTX_*
	GSOSize  uint16 // gso_size
	GSOSegs  uint16 // gso_segs
	GSOType  uint32 // SKB_GSO_*
	Tskey    uint32
	HwTstamp int64 // skb_hwtstamps(skb)->hwtstamp
}

// GSO types used by the model (SKB_GSO_* in include/linux/skbuff.h).
// v6.18 keeps SKB_GSO_TCP_FIXEDID next to SKB_GSO_TCP_FIXEDID_INNER in the
// top bits; the model keeps the bit it had before.
const (
	GSOTCPv4         uint32 = 1 << 0
	GSODodgy         uint32 = 1 << 1
	GSOTCPECN        uint32 = 1 << 2
	GSOTCPFixedID    uint32 = 1 << 3 // the outer (or only) IPv4 header keeps one identification
	GSOTCPv6         uint32 = 1 << 4
	GSOGRE           uint32 = 1 << 6
	GSOGRECsum       uint32 = 1 << 7
	GSOIPXIP4        uint32 = 1 << 8
	GSOIPXIP6        uint32 = 1 << 9
	GSOUDPTunnel     uint32 = 1 << 10
	GSOUDPTunnelCsum uint32 = 1 << 11
	GSOPartial       uint32 = 1 << 12
	GSOUDPL4         uint32 = 1 << 17
	GSOFraglist      uint32 = 1 << 18
	// GSOTCPAccECN: the aggregate's CWR is AccECN's (SKB_GSO_TCP_ACCECN,
	// v6.18): segmentation keeps it on every segment.
	GSOTCPAccECN uint32 = 1 << 19
	// GSOTCPFixedIDInner: an encapsulated aggregate's inner IPv4 header
	// keeps one identification (SKB_GSO_TCP_FIXEDID_INNER, v6.18).
	GSOTCPFixedIDInner uint32 = 1 << 31

	// GSOEncapAll is NETIF_F_GSO_ENCAP_ALL >> NETIF_F_GSO_SHIFT: the
	// tunnel bits iptunnel_pull_offloads clears at decapsulation.
	GSOEncapAll = GSOGRE | GSOGRECsum | GSOIPXIP4 | GSOIPXIP6 | GSOUDPTunnel | GSOUDPTunnelCsum
)
