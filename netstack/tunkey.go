package netstack

import (
	"net/netip"

	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/skb"
)

// TunnelKey is struct bpf_tunnel_key: what bpf_skb_set_tunnel_key asks a
// collect_md tunnel device to send with, and what bpf_skb_get_tunnel_key
// reads of a received packet's tunnel info.
type TunnelKey struct {
	// ID is tunnel_id: the VNI.
	ID uint32
	// Remote and Local are remote_ipv4/remote_ipv6 and
	// local_ipv4/local_ipv6: the other end and this one (on receive, the
	// outer header's source and destination).
	Remote, Local netip.Addr
	TOS, TTL      uint8
	// Label is the IPv6 flow label (tunnel_label; 0 for IPv4).
	Label uint32
}

// bpf_skb_set_tunnel_key and bpf_skb_get_tunnel_key flags.
const (
	TunInfoIPv6     = 1 << 0 // BPF_F_TUNINFO_IPV6: the key's addresses are IPv6
	TunZeroCsumTX   = 1 << 1 // BPF_F_ZERO_CSUM_TX (accepted, not modelled)
	TunDontFragment = 1 << 2 // BPF_F_DONT_FRAGMENT: the outer IPv4 header gets DF
	TunSeqNumber    = 1 << 3 // BPF_F_SEQ_NUMBER (accepted, not modelled)
	TunNoTunnelKey  = 1 << 4 // BPF_F_NO_TUNNEL_KEY (accepted, not modelled)

	setTunnelKeyFlags = TunInfoIPv6 | TunZeroCsumTX | TunDontFragment | TunSeqNumber | TunNoTunnelKey
	errEPROTO         = -71
)

// SetTunnelKey models bpf_skb_set_tunnel_key(skb, &k, sizeof(k), flags)
// (tc programs; -EINVAL elsewhere): unknown flags, or a flow label
// without BPF_F_TUNINFO_IPV6, are -EINVAL; otherwise the skb's dst is
// dropped and the CPU's md_dst (one per stack, never freed) set, holding
// transmit tunnel info: the id, remote, local (unset: the route's
// source), TOS, TTL (0: the default) and BPF_F_DONT_FRAGMENT. Every
// call rewrites that one md_dst, so an skb still pointing at it carries
// the last key set on the CPU. A collect_md device (DeviceConfig.External)
// sends the skb with it.
func (c *Ctx) SetTunnelKey(k TunnelKey, flags uint64) int {
	c.s.acct.Op(cost.OpHelperCall, 1)
	if !c.atTC() || flags&^setTunnelKeyFlags != 0 {
		return errEINVAL
	}
	v6 := flags&TunInfoIPv6 != 0
	if !v6 && k.Label != 0 {
		return errEINVAL
	}
	remote, local := k.Remote, k.Local
	if v6 {
		remote, local = addr16(remote), addr16(local)
	} else {
		remote, local = addr4(remote), addr4(local)
	}
	b := c.Skb
	md := c.s.mdDst
	b.DstDrop()
	md.Hold()
	b.DstSet(md)
	md.Info = skb.TunnelInfo{TX: true, ID: uint64(k.ID), Dst: remote, Src: local, TOS: k.TOS, TTL: k.TTL,
		DF: flags&TunDontFragment != 0}
	return 0
}

// ExternalConfigError says what is wrong with external (collect_md)
// device dc, or "": it must be a vxlan or geneve device without remote,
// local or VNI. The scenario checker shares it.
func ExternalConfigError(dc *DeviceConfig) string {
	switch {
	case dc.Kind != KindVXLAN && dc.Kind != KindGeneve:
		return "external (collect_md) is modelled for vxlan and geneve devices"
	case dc.Remote.IsValid() || dc.Local.IsValid() || dc.VNI != 0:
		return "an external device has no remote, local or vni: each packet's tunnel key gives them"
	}
	return ""
}

// addr4 is a as the u32 the kernel's bpf_tunnel_key holds: 0.0.0.0 for
// none or an IPv6 address.
func addr4(a netip.Addr) netip.Addr {
	if !a.Is4() {
		return netip.IPv4Unspecified()
	}
	return a
}

// addr16 is a as a 16-byte address (:: for none).
func addr16(a netip.Addr) netip.Addr {
	if !a.IsValid() {
		return netip.IPv6Unspecified()
	}
	return netip.AddrFrom16(a.As16())
}

// GetTunnelKey models bpf_skb_get_tunnel_key(skb, &k, sizeof(k), flags)
// (tc programs; -EINVAL elsewhere): an skb without tunnel info (no
// metadata dst: none was attached, or skb_scrub_packet or the IP layer's
// route lookup dropped it) or flags other than BPF_F_TUNINFO_IPV6 are
// -EINVAL, info of the other family -EPROTO; otherwise the key: the id
// (its low 32 bits), remote = the info's source (on receive, the outer
// header's source), local = its destination, TOS and TTL.
func (c *Ctx) GetTunnelKey(flags uint64) (TunnelKey, int) {
	c.s.acct.Op(cost.OpHelperCall, 1)
	if !c.atTC() || flags&^TunInfoIPv6 != 0 {
		return TunnelKey{}, errEINVAL
	}
	info, ok := c.Skb.TunnelInfo()
	if !ok {
		return TunnelKey{}, errEINVAL
	}
	if info.Dst.Is4() == (flags&TunInfoIPv6 != 0) {
		return TunnelKey{}, errEPROTO
	}
	return TunnelKey{ID: uint32(info.ID), Remote: info.Src, Local: info.Dst, TOS: info.TOS, TTL: info.TTL}, 0
}

// getTunnelKey is ActGetTunnelKey: GetTunnelKey with flags (0 or
// BPF_F_TUNINFO_IPV6), reported.
func (c *Ctx) getTunnelKey(flags uint64) {
	k, ret := c.GetTunnelKey(flags)
	c.s.obs.Helper(HelperEvent{PacketID: c.PacketID, Prog: c.Prog, Hook: c.Hook, Helper: HelperGetTunnelKey,
		Ret: int32(ret), ID: uint64(k.ID)})
}
