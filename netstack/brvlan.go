package netstack

import (
	"fmt"

	"github.com/skbsim/skbsim/skb"
)

// Bridge VLAN filtering (net/bridge/br_vlan.c). A bridge with
// DeviceConfig.VLANFiltering (BROPT_VLAN_ENABLED) checks every frame
// against the VLAN group of the port it came in by (br_allowed_ingress),
// learns and looks up addresses per VLAN, delivers it only to ports of
// its VLAN (should_deliver's br_allowed_egress) and strips the tag where
// the VLAN is untagged (br_handle_vlan). The bridge device itself is a
// port too: its own group decides what goes up it (br_pass_frame_up) and
// what it may send (br_dev_xmit). The tag travels in vlan_tci
// (skb_vlan_tag_present) from ingress to egress. Not modelled: 802.1ad
// bridges (vlan_protocol), per-VLAN STP states, VLAN statistics and
// multicast snooping per VLAN, VLAN tunnels, and the local FDB entries of
// the ports' own addresses.

// brVLANs is a bridge's or a port's VLAN group (struct
// net_bridge_vlan_group): the member VLANs, those sent untagged
// (BRIDGE_VLAN_INFO_UNTAGGED) and the port VLAN id (0: none).
type brVLANs struct {
	member, untagged [64]uint64
	pvid             uint16
}

// ethP8021Q is ETH_P_8021Q, a bridge's vlan_proto (the only one modelled).
const ethP8021Q = 0x8100

func (g *brVLANs) has(vid uint16) bool { return g.member[vid>>6]&(1<<(vid&63)) != 0 }

func (g *brVLANs) isUntagged(vid uint16) bool { return g.untagged[vid>>6]&(1<<(vid&63)) != 0 }

// add models br_vlan_add / nbp_vlan_add for a new or existing VLAN
// (__vlan_add_flags): it becomes a member; PVID makes it the group's pvid,
// and without PVID a VLAN that was the pvid stops being it
// (__vlan_delete_pvid); UNTAGGED is set or cleared.
func (g *brVLANs) add(v BridgeVLAN) {
	w, bit := v.VID>>6, uint64(1)<<(v.VID&63)
	if v.Del {
		// br_vlan_delete / nbp_vlan_delete.
		g.member[w] &^= bit
		g.untagged[w] &^= bit
		if g.pvid == v.VID {
			g.pvid = 0
		}
		return
	}
	g.member[w] |= bit
	if v.Untagged {
		g.untagged[w] |= bit
	} else {
		g.untagged[w] &^= bit
	}
	switch {
	case v.PVID:
		g.pvid = v.VID
	case g.pvid == v.VID:
		g.pvid = 0
	}
}

// BridgeVLANConfigError explains why dc's VLAN settings are refused, or
// returns "".
func BridgeVLANConfigError(dc *DeviceConfig) string {
	if dc.Kind != KindBridge && (dc.VLANFiltering || dc.VLANDefaultPVID != 0 || dc.NoDefaultPVID) {
		return "vlan_filtering and vlan_default_pvid are a bridge's"
	}
	if dc.VLANDefaultPVID < 0 || dc.VLANDefaultPVID > 4094 {
		return fmt.Sprintf("vlan_default_pvid %d (want 0 to 4094)", dc.VLANDefaultPVID)
	}
	if dc.VLANs != nil && dc.Kind != KindBridge && dc.Master == "" {
		return "vlans are a bridge's or a bridge port's (set master)"
	}
	for _, v := range dc.VLANs {
		if v.VID == 0 || v.VID >= 4095 {
			// br_vlan_valid_id: -EINVAL.
			return fmt.Sprintf("vlan %d (want 1 to 4094: EINVAL)", v.VID)
		}
	}
	return ""
}

// setBridgeVLANs gives a bridge and its ports their VLAN groups: the
// bridge's default pvid (vlan_default_pvid, 1 unless NoDefaultPVID) as
// pvid and untagged, which br_vlan_init and nbp_vlan_init add to the
// bridge device and to each new port, then the configured VLANs in order
// (`bridge vlan add|del dev DEV vid N [pvid] [untagged] [self]`).
func (s *Stack) setBridgeVLANs() {
	for _, d := range s.devs {
		br := d
		if d.master != nil {
			br = d.master
		} else if d.kind != KindBridge {
			continue
		}
		bc := &s.cfg.Devices[br.cfg]
		g := &brVLANs{}
		if pvid := defaultPVID(bc); pvid != 0 {
			g.add(BridgeVLAN{VID: pvid, PVID: true, Untagged: true})
		}
		if d.cfg >= 0 && s.cfg.Devices[d.cfg].Name == d.name {
			for _, v := range s.cfg.Devices[d.cfg].VLANs {
				g.add(v)
			}
		}
		d.brVLAN = g
		if d.kind == KindBridge {
			d.vlanFiltering = bc.VLANFiltering
		}
	}
}

// defaultPVID is a bridge's vlan_default_pvid.
func defaultPVID(bc *DeviceConfig) uint16 {
	switch {
	case bc.NoDefaultPVID:
		return 0
	case bc.VLANDefaultPVID == 0:
		return 1
	}
	return uint16(bc.VLANDefaultPVID)
}

// brAllowedIngress models br_allowed_ingress -> __allowed_ingress for skb b
// (data after the Ethernet header) entering bridge br through group g (a
// port's, or the bridge's own for br_dev_xmit): with filtering off every
// frame passes in VLAN 0. Otherwise a tag in the data of a frame the
// bridge device sends moves into vlan_tci (skb_vlan_untag), a tag of
// another protocol than the bridge's goes back into the data (vlan_insert_tag_set_proto) and the
// frame counts as untagged; an untagged or priority-tagged frame (VLAN id
// 0) takes the group's pvid into vlan_tci (__vlan_hwaccel_put_tag; a
// priority tag keeps its PCP) and is dropped without one; a tagged frame
// must be in a member VLAN. A dropped frame is freed (kfree_skb:
// NOT_SPECIFIED) and false returned.
func (s *Stack) brAllowedIngress(b *skb.Buff, br *Device, g *brVLANs) (uint16, bool) {
	if !br.vlanFiltering {
		return 0, true
	}
	h := b.H()
	if !h.VlanTagPresent() && h.Protocol == ethP8021Q {
		// A tag in the data of a frame the bridge device sends
		// (skb_vlan_untag; a port's frames were untagged on receive).
		if err := b.VlanUntag(); err != nil {
			s.drop(b, skb.DropNotSpecified, OpBridgeRx)
			return 0, false
		}
	}
	var vid uint16
	tagged := false
	if h.VlanTagPresent() {
		if h.VlanProto != ethP8021Q {
			// Protocol mismatch: skb_push(ETH_HLEN),
			// vlan_insert_tag_set_proto, skb_pull(ETH_HLEN),
			// skb_reset_mac_len.
			b.Push(ethHlen)
			err := b.VlanHwaccelPushInside()
			b.Pull(ethHlen)
			if err != nil {
				s.drop(b, skb.DropNotSpecified, OpBridgeRx)
				return 0, false
			}
			b.ResetMacLen()
		} else {
			vid, tagged = h.VlanTCI&vlanVIDMask, true
		}
	}
	if vid == 0 {
		if g.pvid == 0 {
			s.drop(b, skb.DropNotSpecified, OpBridgeRx)
			return 0, false
		}
		if tagged {
			h.VlanTCI |= g.pvid
		} else {
			h.VlanProto, h.VlanTCI = ethP8021Q, g.pvid
		}
		return g.pvid, true
	}
	if !g.has(vid) {
		s.drop(b, skb.DropNotSpecified, OpBridgeRx)
		return 0, false
	}
	return vid, true
}

// brAllowedEgress models br_allowed_egress: a frame the bridge filtered
// at its input leaves through group g only in a member VLAN.
func brAllowedEgress(br *Device, g *brVLANs, b *skb.Buff) bool {
	return !br.vlanFiltering || g.has(b.H().VlanTCI&vlanVIDMask)
}

// brHandleVlan models br_handle_vlan for a frame leaving through group g
// (a port's, or the bridge's on its way up) that br_allowed_egress let
// through: an untagged VLAN clears the tag (__vlan_hwaccel_clear_tag).
func brHandleVlan(br *Device, g *brVLANs, b *skb.Buff) {
	if !br.vlanFiltering {
		return
	}
	h := b.H()
	if g.isUntagged(h.VlanTCI & vlanVIDMask) {
		h.VlanProto, h.VlanTCI = 0, 0
	}
}

// brShouldLearn models br_should_learn for a link-local frame that goes
// up the port: with filtering, its VLAN (the pvid for an untagged,
// priority-tagged or other-protocol one) must be the port's.
func brShouldLearn(port *Device, b *skb.Buff) (uint16, bool) {
	if !port.master.vlanFiltering {
		return 0, true
	}
	g, h := port.brVLAN, b.H()
	var vid uint16
	if h.VlanTagPresent() && h.VlanProto == ethP8021Q {
		vid = h.VlanTCI & vlanVIDMask
	}
	if vid == 0 {
		return g.pvid, g.pvid != 0
	}
	return vid, g.has(vid)
}
