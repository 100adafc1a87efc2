package capture

import "strconv"

// LinkType is a pcap LINKTYPE_ value: what the bytes of a packet start with.
type LinkType uint16

// Link types the decoder understands. RawBSD12 and RawBSD14 are the legacy
// DLT_RAW values of the BSDs (12 on most, 14 on OpenBSD and BSD/OS) that
// some writers still put in files instead of LINKTYPE_RAW (101).
const (
	LinkNull     LinkType = 0   // BSD loopback: 4-byte address family in host order
	LinkEthernet LinkType = 1   // IEEE 802.3 Ethernet
	LinkPPP      LinkType = 9   // PPP (RFC 1661), optional HDLC address/control
	LinkRawBSD12 LinkType = 12  // raw IPv4/IPv6, legacy DLT_RAW
	LinkRawBSD14 LinkType = 14  // raw IPv4/IPv6, OpenBSD DLT_RAW
	LinkRaw      LinkType = 101 // raw IPv4/IPv6 (LINKTYPE_RAW)
	LinkLoop     LinkType = 108 // OpenBSD loopback: family in network order
	LinkLinuxSLL LinkType = 113 // Linux cooked capture v1
	LinkIPv4     LinkType = 228 // raw IPv4
	LinkIPv6     LinkType = 229 // raw IPv6
	LinkSLL2     LinkType = 276 // Linux cooked capture v2
)

var linkNames = map[LinkType]string{
	LinkNull: "NULL", LinkEthernet: "EN10MB", 3: "AX25", 6: "IEEE802", 7: "ARCNET",
	8: "SLIP", LinkPPP: "PPP", 10: "FDDI", LinkRawBSD12: "RAW", LinkRawBSD14: "RAW",
	50: "PPP_HDLC", 51: "PPP_ETHER", 100: "ATM_RFC1483", LinkRaw: "RAW", 104: "C_HDLC",
	105: "IEEE802_11", 107: "FRELAY", LinkLoop: "LOOP", LinkLinuxSLL: "LINUX_SLL",
	117: "PFLOG", 119: "PRISM_HEADER", 127: "IEEE802_11_RADIOTAP", 187: "BLUETOOTH_HCI_H4",
	189: "USB_LINUX", 195: "IEEE802_15_4", 201: "BLUETOOTH_HCI_H4_WITH_PHDR",
	220: "USB_LINUX_MMAPPED", LinkIPv4: "IPV4", LinkIPv6: "IPV6", 239: "NFLOG",
	240: "NETANALYZER", 249: "IPOIB", 253: "NETLINK", LinkSLL2: "LINUX_SLL2",
}

// String returns libpcap's name for the link type (without the LINKTYPE_
// prefix), USERn for the private-use range, or "unknown".
func (l LinkType) String() string {
	if n, ok := linkNames[l]; ok {
		return n
	}
	if l >= 147 && l <= 162 {
		return "USER" + strconv.Itoa(int(l)-147)
	}
	return "unknown"
}

// Supported reports whether the decoder understands packets of this link
// type. The reader refuses packets of other link types with
// [ErrUnsupportedLinkType].
func (l LinkType) Supported() bool {
	switch l {
	case LinkNull, LinkEthernet, LinkPPP, LinkRawBSD12, LinkRawBSD14, LinkRaw,
		LinkLoop, LinkLinuxSLL, LinkIPv4, LinkIPv6, LinkSLL2:
		return true
	}
	return false
}

func unsupportedLinkType(l LinkType) error {
	return errorf(ErrUnsupportedLinkType, "unsupported link type %d (%s)", uint16(l), l)
}
