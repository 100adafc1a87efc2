package netstack

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/skb"
)

// xdpRx is where the buffer of an XDP run came from, which decides what
// the device's XDP RX metadata kfuncs (struct xdp_metadata_ops) can read.
type xdpRx uint8

const (
	// xdpRxNone: no driver context (generic XDP, cpumap and devmap
	// programs); a device-bound program never runs there.
	xdpRxNone xdpRx = iota
	// xdpRxNIC: a NIC driver's receive descriptor (nicXDPRx).
	xdpRxNIC
	// xdpRxVethSkb: veth_xdp_rcv_skb, where veth_xdp_buff.skb is the skb.
	xdpRxVethSkb
	// xdpRxVethFrame: veth_xdp_rcv_one, an xdp_frame from veth_xdp_xmit
	// (XDP_TX or XDP_REDIRECT into the peer): veth_xdp_buff.skb is NULL.
	xdpRxVethFrame
)

// RxMetaKfunc names an XDP RX metadata kfunc.
type RxMetaKfunc uint8

// XDP RX metadata kfuncs.
const (
	RxMetaTimestamp RxMetaKfunc = iota // bpf_xdp_metadata_rx_timestamp
	RxMetaHash                         // bpf_xdp_metadata_rx_hash
	RxMetaVlanTag                      // bpf_xdp_metadata_rx_vlan_tag
	NumRxMetaKfuncs
)

var rxMetaNames = [NumRxMetaKfuncs]string{"rx_timestamp", "rx_hash", "rx_vlan_tag"}

func (k RxMetaKfunc) String() string {
	if k < NumRxMetaKfuncs {
		return rxMetaNames[k]
	}
	return "rx_meta?"
}

// ParseRxMetaKfunc returns the kfunc named s (as printed by String, with or
// without the bpf_xdp_metadata_ prefix).
func ParseRxMetaKfunc(s string) (RxMetaKfunc, bool) {
	for i, n := range rxMetaNames {
		if s == n || s == "bpf_xdp_metadata_"+n {
			return RxMetaKfunc(i), true
		}
	}
	return 0, false
}

// RSSType is enum xdp_rss_hash_type, bpf_xdp_metadata_rx_hash's rss_type.
type RSSType uint32

// RSS hash type bits and the combinations drivers report (enum
// xdp_rss_hash_type in include/net/xdp.h).
const (
	RSSL3IPv4  RSSType = 1 << 0 // XDP_RSS_L3_IPV4
	RSSL3IPv6  RSSType = 1 << 1 // XDP_RSS_L3_IPV6
	RSSL3Dyn   RSSType = 1 << 2 // XDP_RSS_L3_DYNHDR: IPv4 options, IPv6 extension headers
	RSSL4      RSSType = 1 << 3 // XDP_RSS_L4: the hash covers L4
	RSSL4TCP   RSSType = 1 << 4 // XDP_RSS_L4_TCP
	RSSL4UDP   RSSType = 1 << 5 // XDP_RSS_L4_UDP
	RSSL4SCTP  RSSType = 1 << 6 // XDP_RSS_L4_SCTP
	RSSL4IPsec RSSType = 1 << 7 // XDP_RSS_L4_IPSEC
	RSSL4ICMP  RSSType = 1 << 8 // XDP_RSS_L4_ICMP

	RSSTypeNone  RSSType = 0     // XDP_RSS_TYPE_NONE (XDP_RSS_TYPE_L2)
	RSSTypeL4Any RSSType = RSSL4 // XDP_RSS_TYPE_L4_ANY: what veth reports for an l4_hash
)

// Helper errors of the XDP RX metadata kfuncs.
const (
	errENODATA    = -61 // the driver has no such hint for this buffer
	errEOPNOTSUPP = -95 // the default kfunc: the bound device's driver lacks the op
)

// ipprotoSCTP is IPPROTO_SCTP, whose ports a NIC's RSS hash covers.
const ipprotoSCTP = 132

// allRxMetaOps is every kfunc's bit in Device.rxMetaOps.
const allRxMetaOps = 1<<NumRxMetaKfuncs - 1

// RxTimestamp models bpf_xdp_metadata_rx_timestamp(ctx, &timestamp).
//
// The verifier loads the XDP RX metadata kfuncs in device-bound XDP
// programs only (ProgramConfig.DevBound; check_kfunc_call: "metadata
// kfuncs require device-bound program", measured on 6.18), and only on a
// kernel that has them (v6.3; rx_vlan_tag v6.8). A Go program has no
// verifier: one that calls them anyway gets -EINVAL, and the built-in
// action rx_meta is a configuration error there. A bound program whose
// device's driver lacks the op (DeviceConfig.XDPMetadataOps) gets the
// default kfunc's -EOPNOTSUPP (bpf_dev_bound_resolve_kfunc). Otherwise
// the driver answers:
//   - nic (a driver such as mlx5 or ice): the frame's hardware receive
//     time when DeviceConfig.RxHwTstamp is on, else -ENODATA;
//   - veth (veth_xdp_rx_timestamp): skb_hwtstamps(skb)->hwtstamp of the
//     skb veth_xdp_rcv_skb runs on, whatever it holds (0 unless a NIC
//     stamped the skb); -ENODATA for an xdp_frame redirected or sent with
//     XDP_TX into the veth (veth_xdp_rcv_one: no skb).
//
// The call is reported to the observer (RxMetaEvent).
func (c *Ctx) RxTimestamp() (ts int64, ret int) {
	src, ret := c.rxMetaSrc(RxMetaTimestamp)
	switch src {
	case xdpRxNIC:
		if p := c.s.rxPkt; p != nil && c.Dev.rxHwTstamp {
			ts = p.Tstamp
		} else {
			ret = errENODATA
		}
	case xdpRxVethSkb:
		ts = c.Skb.Shinfo().HwTstamp
	case xdpRxVethFrame:
		ret = errENODATA
	}
	c.rxMetaDone(RxMetaTimestamp, ret, uint64(ts))
	return ts, ret
}

// RxHash models bpf_xdp_metadata_rx_hash(ctx, &hash, &rss_type) (errors as
// for RxTimestamp). The driver answers:
//   - nic: the RSS hash the NIC computed (Packet.Hash; -ENODATA for a
//     frame without one) and its type from the headers the NIC parsed:
//     IPv4 or IPv6 (with options or extension headers: XDP_RSS_L3_DYNHDR)
//     and TCP, UDP or SCTP ports (XDP_RSS_L4 and the protocol's bit),
//     as mlx5's CQE hash types map;
//   - veth (veth_xdp_rx_hash): skb_get_hash(skb), which computes the flow
//     hash in software when the skb has none and keeps it in the skb
//     (sw_hash, and l4_hash for TCP and UDP ports), so it stays with the
//     packet after XDP_PASS; the type is XDP_RSS_TYPE_L4_ANY for an
//     l4_hash, else XDP_RSS_TYPE_NONE. -ENODATA for an xdp_frame.
func (c *Ctx) RxHash() (hash uint32, rss RSSType, ret int) {
	src, ret := c.rxMetaSrc(RxMetaHash)
	switch src {
	case xdpRxNIC:
		p := c.s.rxPkt
		if p == nil || p.Hash == 0 {
			ret = errENODATA
			break
		}
		hash, rss = p.Hash, nicRSSType(p.Frame)
	case xdpRxVethSkb:
		h := c.Skb.H()
		if !h.L4Hash && !h.SWHash {
			c.s.skbGetHash(c.Skb) // skb_get_hash -> __skb_get_hash
		}
		hash = h.Hash
		if h.L4Hash {
			rss = RSSTypeL4Any
		}
	case xdpRxVethFrame:
		ret = errENODATA
	}
	c.rxMetaDone(RxMetaHash, ret, uint64(hash))
	return hash, rss, ret
}

// RxVlanTag models bpf_xdp_metadata_rx_vlan_tag(ctx, &vlan_proto,
// &vlan_tci) (v6.8; errors as for RxTimestamp). The driver answers:
//   - nic: the outer 802.1Q tag the NIC stripped (DeviceConfig.RxVLANOffload
//     on); -ENODATA when it stripped none;
//   - veth (veth_xdp_rx_vlan_tag): the skb's vlan_proto and vlan_tci
//     (__vlan_hwaccel_get_tag), -ENODATA when the skb has no tag there (a
//     tag in the frame does not count: __netif_receive_skb_core untags it
//     after XDP) and for an xdp_frame.
func (c *Ctx) RxVlanTag() (proto, tci uint16, ret int) {
	src, ret := c.rxMetaSrc(RxMetaVlanTag)
	switch src {
	case xdpRxNIC:
		if c.s.hwVlan {
			proto, tci = skb.EthP8021Q, c.s.hwVlanTCI
		} else {
			ret = errENODATA
		}
	case xdpRxVethSkb:
		if h := c.Skb.H(); h.VlanTagPresent() {
			proto, tci = h.VlanProto, h.VlanTCI
		} else {
			ret = errENODATA
		}
	case xdpRxVethFrame:
		ret = errENODATA
	}
	c.rxMetaDone(RxMetaVlanTag, ret, uint64(proto)<<16|uint64(tci))
	return proto, tci, ret
}

// ParseXDPMetadataOps returns the set of kfuncs a
// DeviceConfig.XDPMetadataOps value names, one bit per RxMetaKfunc.
func ParseXDPMetadataOps(s string) (uint8, error) {
	switch strings.TrimSpace(s) {
	case "":
		return allRxMetaOps, nil
	case "none":
		return 0, nil
	}
	var ops uint8
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' }) {
		k, ok := ParseRxMetaKfunc(f)
		if !ok {
			return 0, fmt.Errorf("xdp_metadata_ops: unknown kfunc %q (want rx_timestamp, rx_hash, rx_vlan_tag or none)", f)
		}
		ops |= 1 << k
	}
	return ops, nil
}

// rxMetaSrc counts the call of kfunc k and returns what answers it: the
// bound device's driver (c.rx), or xdpRxNone with -EINVAL for a program
// the verifier would not have loaded (not device-bound, not XDP, a kernel
// without k) and -EOPNOTSUPP for a driver without the op.
func (c *Ctx) rxMetaSrc(k RxMetaKfunc) (xdpRx, int) {
	c.s.acct.Op(cost.OpHelperCall, 1)
	if !c.xdp || !c.devBound || !c.s.prof.XDPRxMetadata || (k == RxMetaVlanTag && !c.s.prof.XDPRxVlanTag) {
		return xdpRxNone, errEINVAL
	}
	if c.Dev.rxMetaOps&(1<<k) == 0 {
		return xdpRxNone, errEOPNOTSUPP
	}
	return c.rx, 0
}

func (c *Ctx) rxMetaDone(k RxMetaKfunc, ret int, v uint64) {
	c.s.obs.RxMeta(RxMetaEvent{PacketID: c.PacketID, Prog: c.Prog, Kfunc: k, Ret: int32(ret), Value: v})
}

// nicRSSType is the hash type a NIC reports for frame f (from its
// Ethernet header): the L3 bits for IPv4 and IPv6, XDP_RSS_L3_DYNHDR for
// IPv4 options or IPv6 extension headers, and the L4 bits for TCP, UDP and
// SCTP (not for a fragment, whose ports the NIC cannot see).
func nicRSSType(f []byte) RSSType {
	if len(f) < ethHlen {
		return RSSTypeNone
	}
	et, d := binary.BigEndian.Uint16(f[12:14]), f[ethHlen:]
	if et == skb.EthP8021Q && len(d) >= skb.VlanHlen {
		et, d = binary.BigEndian.Uint16(d[2:4]), d[skb.VlanHlen:]
	}
	var t RSSType
	var proto uint8
	switch {
	case et == ethPIP && len(d) >= ipHlen && d[0]>>4 == 4:
		t = RSSL3IPv4
		if d[0]&0xf > 5 {
			t |= RSSL3Dyn
		}
		if binary.BigEndian.Uint16(d[6:8])&(ipMF|ipOffset) != 0 {
			return t
		}
		proto = d[9]
	case et == ethPIPv6 && len(d) >= ip6Hlen:
		t, proto = RSSL3IPv6, d[6]
		for off := ip6Hlen; proto == nexthdrHop || proto == nexthdrRouting || proto == nexthdrDest; {
			n, ok := extLen(d[off:])
			if !ok {
				return t
			}
			t |= RSSL3Dyn
			proto, off = d[off], off+n
		}
	default:
		return RSSTypeNone
	}
	switch proto {
	case ipprotoTCP:
		t |= RSSL4 | RSSL4TCP
	case ipprotoUDP:
		t |= RSSL4 | RSSL4UDP
	case ipprotoSCTP:
		t |= RSSL4 | RSSL4SCTP
	case nexthdrFrag:
		t |= RSSL3Dyn
	}
	return t
}

// checkDevBound models the checks a device-bound XDP program meets: the
// kfuncs and BPF_F_XDP_DEV_BOUND_ONLY need v6.3 (bpf_prog_load -EINVAL
// before); bpf_prog_map_compatible keeps it out of cpumap and device map
// entries; dev_xdp_attach refuses it on another device ("Program bound to
// different device") and in generic mode ("Can't attach device-bound
// programs in generic mode"), the only mode of a device without ndo_bpf.
func (s *Stack) checkDevBound(pc *ProgramConfig, what string) error {
	switch {
	case !s.prof.XDPRxMetadata:
		return cfgErr("%s: dev_bound (BPF_F_XDP_DEV_BOUND_ONLY) needs kernel v6.3 or later, not %s", what, s.prof.Name)
	case pc.Hook != carrier.HookXDP || pc.Cpumap || pc.Devmap || pc.Dev == "":
		return cfgErr("%s: dev_bound is for an xdp program attached to a device (not a %s, cpumap or devmap program)", what, pc.Hook)
	}
	n := s.Netns(pc.Netns)
	if n == nil {
		return cfgErr("%s: unknown namespace %q", what, pc.Netns)
	}
	d := n.dev(pc.Dev)
	if d == nil {
		return cfgErr("%s: unknown device %q in %s", what, pc.Dev, n.name)
	}
	if d.xdpGeneric || (d.kid != kidNIC && d.kid != kidVeth) {
		return cfgErr("%s: a device-bound program attaches in native mode only, and %s runs XDP in generic mode", what, d.name)
	}
	return nil
}
