package skb

import (
	"fmt"
	"net/netip"

	"github.com/skbsim/skbsim/kmem"
)

// TunnelInfo is the key of struct ip_tunnel_info that a metadata dst
// carries: what a collect_md ("external") tunnel device's receive path
// records for a decapsulated packet, or what bpf_skb_set_tunnel_key asks
// its transmit path to use.
type TunnelInfo struct {
	// ID is key.tun_id: the VNI of a vxlan or geneve packet.
	ID uint64
	// Src and Dst are key.u.ipv4 or key.u.ipv6: on receive the outer
	// header's source (the remote end) and destination; for transmit the
	// local address (unset: the route's) and the remote end.
	Src, Dst netip.Addr
	// TOS and TTL are the outer header's (0 on transmit: the defaults).
	TOS, TTL uint8
	// TPSrc and TPDst are the outer UDP ports (key.tp_src, key.tp_dst).
	TPSrc, TPDst uint16
	// TX is mode & IP_TUNNEL_INFO_TX: the info is for transmit.
	TX bool
	// DF is TUNNEL_DONT_FRAGMENT in key.tun_flags: the outer IPv4
	// header gets DF.
	DF bool
}

// SizeofMetadataDst is sizeof(struct metadata_dst) on the 6.18 kernel
// (BTF): a dst_entry and the ip_tunnel_info union.
const SizeofMetadataDst = 240

var siteMetadataDst = kmem.RegisterSite("metadata_dst_alloc")

// MetadataDst models a METADATA_IP_TUNNEL struct metadata_dst: a dst that
// carries tunnel info instead of a route. It is a Ref: the skbs pointing
// at it hold references. One from NewMetadataDst (a tunnel's receive
// path, udp_tun_rx_dst -> metadata_dst_alloc) is kmalloc'ed and freed
// after an RCU grace period with its last reference (dst_release ->
// call_rcu); a per-CPU one (PerCPUMetadataDst, bpf_skb_set_tunnel_key's
// md_dst) is never freed, and every program that sets a tunnel key on
// that CPU rewrites its one info, whichever skbs still point at it.
type MetadataDst struct {
	Info   TunnelInfo
	refs   int32
	optLen int
	a      *Allocator // nil for a per-CPU one
}

// NewMetadataDst models metadata_dst_alloc(optsLen, METADATA_IP_TUNNEL,
// GFP_ATOMIC): kmalloc of sizeof(struct metadata_dst) + optsLen, one
// reference (the caller's), or an error matching ENOMEM.
func (a *Allocator) NewMetadataDst(info TunnelInfo, optsLen int) (*MetadataDst, error) {
	if err := a.acct.Kmalloc(siteMetadataDst, SizeofMetadataDst+optsLen); err != nil {
		a.live.Failures++
		return nil, fmt.Errorf("metadata_dst_alloc: %w", err)
	}
	a.live.MetadataDsts++
	var m *MetadataDst
	if n := len(a.mdFree); n != 0 {
		m, a.mdFree = a.mdFree[n-1], a.mdFree[:n-1]
	} else {
		m = new(MetadataDst)
	}
	*m = MetadataDst{Info: info, refs: 1, optLen: optsLen, a: a}
	return m, nil
}

// PerCPUMetadataDst returns a per-CPU metadata dst (md_dst): never freed,
// allocated once outside the per-packet accounting.
func PerCPUMetadataDst() *MetadataDst { return &MetadataDst{refs: 1} }

// Hold implements Ref (dst_hold).
func (m *MetadataDst) Hold() {
	if m.refs <= 0 {
		panic(fmt.Sprintf("skb: dst_hold of a freed metadata dst (refs %d)", m.refs))
	}
	m.refs++
}

// Release implements Ref (dst_release): the last reference of an
// allocated one frees it after a grace period (call_rcu_hurry ->
// dst_destroy_rcu).
func (m *MetadataDst) Release() {
	if m.refs <= 0 {
		panic(fmt.Sprintf("skb: dst_release of a freed metadata dst (refs %d)", m.refs))
	}
	m.refs--
	if m.refs == 0 && m.a != nil {
		a := m.a
		a.acct.KfreeRCU(siteMetadataDst, SizeofMetadataDst+m.optLen)
		a.live.MetadataDsts--
		m.a = nil                      // a stale Hold or Release panics (refs 0)
		a.mdFree = append(a.mdFree, m) // the Go object is reused; the model's memory went to RCU
	}
}

// Refs returns the reference count.
func (m *MetadataDst) Refs() int { return int(m.refs) }

// TunnelInfo models skb_tunnel_info(skb): the info of the skb's dst when
// it is a metadata dst.
func (b *Buff) TunnelInfo() (*TunnelInfo, bool) {
	b.check("skb_tunnel_info")
	if m, ok := b.dst.(*MetadataDst); ok {
		return &m.Info, true
	}
	return nil, false
}

// MetadataDstDiffers models skb_metadata_dst_cmp(a, b), which GRO asks
// of skbs with slow_gro: one has a metadata dst and the other not, or
// their tunnel infos (options included) differ.
func MetadataDstDiffers(a, b *Buff) bool {
	ma, _ := a.dst.(*MetadataDst)
	mb, _ := b.dst.(*MetadataDst)
	if (ma == nil) != (mb == nil) {
		return true
	}
	return ma != nil && (ma.Info != mb.Info || ma.optLen != mb.optLen)
}

// DropTunnelDst drops the skb's dst when it is a metadata dst (the IP
// layer's route lookup, ip_route_input_slow and ip6_route_input, replaces
// it: skb_dst_drop).
func (b *Buff) DropTunnelDst() {
	if _, ok := b.dst.(*MetadataDst); ok {
		b.DstDrop()
	}
}
