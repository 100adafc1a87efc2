package skb

import (
	"encoding/binary"

	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/internal/errno"
)

// VLAN ethertypes and the protocols vlan_set_encap_proto() falls back to.
const (
	EthP8021Q   = 0x8100 // ETH_P_8021Q
	EthP8021AD  = 0x88a8 // ETH_P_8021AD
	EthP8023    = 0x0001 // ETH_P_802_3: Novell raw 802.3 (0xffff after the tag)
	EthP8022    = 0x0004 // ETH_P_802_2: an 802.2 LLC frame
	ethP8023Min = 0x0600 // ETH_P_802_3_MIN
)

// encapProto models vlan_set_encap_proto(): the encapsulated type inner,
// or for a length field ETH_P_802_3 (raw, the two bytes after the tag, is
// 0xffff: Novell raw 802.3) or ETH_P_802_2.
func encapProto(inner, raw uint16) uint16 {
	switch {
	case inner >= ethP8023Min:
		return inner
	case raw == 0xffff:
		return EthP8023
	}
	return EthP8022
}

// EthTypeVlan models eth_type_vlan(): 802.1Q or 802.1ad.
func EthTypeVlan(proto uint16) bool { return proto == EthP8021Q || proto == EthP8021AD }

// ErrVlanShort is returned by VlanUntag when the tag and the two bytes after
// it are not in the packet (skb_vlan_untag's pskb_may_pull fails and the
// skb is freed).
var ErrVlanShort = errno.New("skb: VLAN header beyond the packet", errno.EINVAL)

// VlanUntag models skb_vlan_untag() after its skb_share_check (the caller
// holds the only reference): a packet with a tag already in vlan_tci is
// left alone; otherwise the 802.1Q/802.1ad header at data (the protocol is
// its TPID) moves into skb->vlan_proto/vlan_tci (__vlan_hwaccel_put_tag),
// VLAN_HLEN is pulled (skb_pull_rcsum), skb->protocol becomes the
// encapsulated ethertype (vlan_set_encap_proto: ETH_P_802_3 or ETH_P_802_2
// for a length field), and skb_reorder_vlan_header() makes the head
// private (skb_cow(skb, skb_headroom(skb)): a cloned skb's head is copied),
// moves the mac addresses and then the XDP metadata up by VLAN_HLEN, and
// moves the mac header with them; the network header is reset to data, the
// transport header too if unset, and mac_len recomputed. On an error the
// caller frees the skb (kfree_skb): ErrVlanShort, or the ENOMEM of the
// head copy.
func (b *Buff) VlanUntag() error {
	b.check("skb_vlan_untag")
	h := &b.hdr
	if h.VlanTagPresent() {
		return nil
	}
	if !b.MayPull(VlanHlen + 2) {
		return ErrVlanShort
	}
	d := b.buf.bytes[b.data:]
	tci := binary.BigEndian.Uint16(d[0:2])
	inner := binary.BigEndian.Uint16(d[2:4])
	raw := binary.BigEndian.Uint16(d[4:6])
	h.VlanProto, h.VlanTCI = h.Protocol, tci
	b.Pull(VlanHlen)
	h.Protocol = encapProto(inner, raw)
	// skb_reorder_vlan_header
	if err := b.Cow(b.data); err != nil {
		return err
	}
	if b.off.mac != unsetOffset {
		mh := int(b.off.mac)
		if macLen := b.data - mh; macLen > VlanHlen+2 {
			n := macLen - VlanHlen - 2
			copy(b.buf.bytes[mh+VlanHlen:mh+VlanHlen+n], b.buf.bytes[mh:mh+n])
			b.a.acct.Op(cost.OpMemcpyByte, uint64(n))
			b.buf.meta.overwrite(mh+VlanHlen, mh+VlanHlen+n)
		}
		b.MoveMetadata(VlanHlen)
		b.off.mac += VlanHlen
	}
	b.off.network = uint16(b.data)
	if b.off.transport == unsetOffset {
		b.off.transport = uint16(b.data)
	}
	b.ResetMacLen()
	return nil
}

// VlanHwaccelPushInside models __vlan_hwaccel_push_inside(), which
// validate_xmit_vlan() calls for a device without VLAN transmit offload:
// vlan_insert_tag_set_proto(skb, vlan_proto, vlan_tci) (insertTag);
// skb->protocol = vlan_proto; then the tag cleared
// (__vlan_hwaccel_clear_tag). Data must be at the mac header of an
// Ethernet frame and a tag present. On an error (the ENOMEM of
// skb_cow_head) the skb is unchanged and the caller frees it.
func (b *Buff) VlanHwaccelPushInside() error {
	b.check("__vlan_hwaccel_push_inside")
	h := &b.hdr
	if !h.VlanTagPresent() {
		panic("skb: __vlan_hwaccel_push_inside without a tag")
	}
	if err := b.insertTag(h.VlanProto, h.VlanTCI); err != nil {
		return err
	}
	h.Protocol = h.VlanProto
	h.VlanProto, h.VlanTCI = 0, 0
	return nil
}

// insertTag models __vlan_insert_inner_tag(skb, proto, tci, ETH_HLEN)
// with data at the mac header: skb_cow_head(skb, VLAN_HLEN) (v6.19:
// meta_len + VLAN_HLEN, so the metadata fits in front of the pushed
// data), VLAN_HLEN pushed and the mac addresses moved down to the new data
// (PushMove: with DataMoveHelpers, v6.19's skb_postpush_data_move, the XDP
// metadata moves too; before, the moved addresses overwrite its last
// VLAN_HLEN bytes), the mac header moved with them if set, the TPID and
// TCI written after them.
func (b *Buff) insertTag(proto, tci uint16) error {
	need := VlanHlen
	if b.a.prof.DataMoveHelpers {
		need += int(b.buf.sh.MetaLen)
	}
	if err := b.CowHead(need); err != nil {
		return err
	}
	macSet := b.off.mac != unsetOffset
	gap := b.PushMove(VlanHlen, EthHlen-2)
	binary.BigEndian.PutUint16(gap[0:2], proto)
	binary.BigEndian.PutUint16(gap[2:4], tci)
	if macSet {
		b.off.mac -= VlanHlen
	}
	return nil
}

// ErrVlanNotAtMac is returned by VlanPush and VlanPop when data is not at
// the mac header (the kernel's WARN_ONCE and -EINVAL).
var ErrVlanNotAtMac = errno.New("skb: VLAN push or pop with data not at the mac header", errno.EINVAL)

// VlanPush models skb_vlan_push(skb, vlan_proto, vlan_tci): a tag already
// in vlan_tci first goes into the frame (skb_vlan_flush: insertTag with
// the old TPID and TCI, skb->protocol the old TPID, mac_len +=
// VLAN_HLEN), then the new tag goes into vlan_tci (__vlan_hwaccel_put_tag).
// Data must be at the mac header when a tag is present. Errors match
// EINVAL or ENOMEM; the skb is then unchanged.
func (b *Buff) VlanPush(proto, tci uint16) error {
	b.check("skb_vlan_push")
	h := &b.hdr
	if h.VlanTagPresent() {
		if b.off.mac == unsetOffset || int(b.off.mac) != b.data {
			return ErrVlanNotAtMac
		}
		if err := b.insertTag(h.VlanProto, h.VlanTCI); err != nil {
			return err
		}
		h.Protocol = h.VlanProto
		b.macLen += VlanHlen
	}
	h.VlanProto, h.VlanTCI = proto, tci
	return nil
}

// VlanPop models skb_vlan_pop(): the tag in vlan_tci is cleared, or, with
// none, a tag in the frame is popped (__skb_vlan_pop); then a further tag
// in the frame moves into vlan_tci. __skb_vlan_pop, with data at the mac
// header: skb_ensure_writable(skb, VLAN_ETH_HLEN), VLAN_HLEN pulled with
// the mac addresses moved up (PullMove: with DataMoveHelpers, v6.19's
// skb_postpull_data_move, the XDP metadata moves too; before, it stays
// behind and the view from the moved mac header shows other bytes),
// vlan_set_encap_proto, the mac header moved, the network header at least
// ETH_HLEN in, mac_len reset. Errors match EINVAL or ENOMEM.
func (b *Buff) VlanPop() error {
	b.check("skb_vlan_pop")
	h := &b.hdr
	if h.VlanTagPresent() {
		h.VlanProto, h.VlanTCI = 0, 0
	} else {
		if !EthTypeVlan(h.Protocol) {
			return nil
		}
		if _, err := b.vlanPopData(); err != nil {
			return err
		}
	}
	if !EthTypeVlan(h.Protocol) {
		return nil
	}
	proto := h.Protocol
	tci, err := b.vlanPopData()
	if err != nil {
		return err
	}
	h.VlanProto, h.VlanTCI = proto, tci
	return nil
}

// vlanPopData models __skb_vlan_pop (see VlanPop) and returns the TCI.
func (b *Buff) vlanPopData() (uint16, error) {
	if b.off.mac == unsetOffset || int(b.off.mac) != b.data {
		return 0, ErrVlanNotAtMac
	}
	const vlanEthHlen = EthHlen + VlanHlen
	if err := b.EnsureWritable(vlanEthHlen); err != nil {
		return 0, err
	}
	d := b.buf.bytes[b.data:b.tail]
	tci := binary.BigEndian.Uint16(d[EthHlen : EthHlen+2])
	inner := binary.BigEndian.Uint16(d[EthHlen+2 : vlanEthHlen])
	raw := uint16(0)
	if len(d) >= vlanEthHlen+2 {
		raw = binary.BigEndian.Uint16(d[vlanEthHlen : vlanEthHlen+2])
	}
	b.PullMove(VlanHlen, EthHlen-2)
	b.hdr.Protocol = encapProto(inner, raw)
	b.off.mac += VlanHlen
	if b.NetworkOffset() < EthHlen {
		b.SetNetworkHeader(EthHlen)
	}
	b.ResetMacLen()
	return tci, nil
}

// ChangeHead models the body of __bpf_skb_change_head(skb, head_room, 0)
// once its checks passed (the caller's): skb_cow(skb, head_room),
// head_room bytes pushed and zeroed (v6.19, DataMoveHelpers:
// skb_postpush_data_move(skb, head_room, 0) first moves the XDP metadata
// in front of them; before, the zeroing overwrites its last bytes), the
// mac header reset to data and mac_len reset. The network header and
// protocol stay. The metadata moves only when it ends at data (a tc
// program's view: data at the mac header). Errors match ENOMEM; the skb is
// then unchanged.
func (b *Buff) ChangeHead(headRoom int) error {
	b.check("bpf_skb_change_head")
	if err := b.Cow(headRoom); err != nil {
		return err
	}
	clear(b.PushMove(headRoom, 0))
	b.ResetMacHeader()
	b.ResetMacLen()
	return nil
}
