package netstack

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/skbsim/skbsim/skb"
)

// maxFDB bounds a bridge's learned addresses in the model.
const maxFDB = 256

// fdbLearn models br_fdb_update(): a known address (in VLAN vid) moves to
// the port the frame came in on unless its entry is sticky
// (BR_FDB_STICKY; a static entry without it roams like a learned one); a
// new one is learned.
func (br *Device) fdbLearn(mac [6]byte, vid uint16, port *Device) {
	if isMulticastMAC(mac[:]) || br.fdbLocal(mac, vid) {
		return // a local entry stays ("received packet on ... with own address as source address")
	}
	if i := br.fdbIdx.find(mac, vid); i >= 0 {
		if e := &br.fdb[i]; !e.sticky {
			e.port = port
		}
		return
	}
	if len(br.fdb) < maxFDB {
		br.fdbAdd(fdbEntry{mac: mac, vid: vid, port: port})
	}
}

// fdbFind models br_fdb_find_rcu: the port of the entry of mac in VLAN
// vid (0 without filtering), or nil.
func (br *Device) fdbFind(mac [6]byte, vid uint16) *Device {
	if i := br.fdbIdx.find(mac, vid); i >= 0 {
		return br.fdb[i].port
	}
	return nil
}

// fdbLocal reports whether mac has a local entry (BR_FDB_LOCAL) in VLAN
// vid: the bridge's own address in VLAN 0 and in each VLAN of its own
// group (the brentry), or a port's own address (br_add_if's
// br_fdb_add_local in VLAN 0, nbp_vlan_add's in each of the port's
// VLANs).
func (br *Device) fdbLocal(mac [6]byte, vid uint16) bool {
	if mac == br.mac && (vid == 0 || br.brVLAN.has(vid)) {
		return true
	}
	return br.localPort(mac, vid) != nil
}

// localPort is the port whose own address mac is, with a local entry in
// VLAN vid, or nil.
func (br *Device) localPort(mac [6]byte, vid uint16) *Device {
	for _, p := range br.ports {
		if p.mac == mac && (vid == 0 || p.brVLAN.has(vid)) {
			return p
		}
	}
	return nil
}

// setBridgeMACs models br_stp_recalculate_bridge_id as br_add_if calls
// it: a bridge whose address was not set (DeviceConfig.MAC zero: not
// NET_ADDR_SET) takes the smallest of its ports' addresses; one without
// ports keeps its own.
func (s *Stack) setBridgeMACs() {
	for _, br := range s.devs {
		if br.kind != KindBridge || len(br.ports) == 0 || s.cfg.Devices[br.cfg].MAC != ([6]byte{}) {
			continue
		}
		low := br.ports[0].mac
		for _, p := range br.ports[1:] {
			if bytes.Compare(p.mac[:], low[:]) < 0 {
				low = p.mac
			}
		}
		br.mac = low
	}
}

// fdbAdd appends e, whose address and VLAN the database does not hold,
// and indexes it.
func (br *Device) fdbAdd(e fdbEntry) {
	br.fdbIdx.insert(e.mac, e.vid, len(br.fdb))
	br.fdb = append(br.fdb, e)
}

// fdbIndex finds a bridge's FDB entries by address and VLAN (the
// kernel's fdb rhashtable, keyed by struct net_bridge_fdb_key): an
// open-addressing table with linear probing of 2*maxFDB slots, allocated
// at the first insert. Entries are never removed (the model does not age
// them).
type fdbIndex struct {
	slots []fdbSlot
}

type fdbSlot struct {
	key uint64 // the VLAN, then the address's bytes, big-endian
	idx int32  // index in the fdb + 1 (0: a free slot)
}

const fdbIndexBits = 9 // 1<<fdbIndexBits >= 2*maxFDB

func fdbKey(mac [6]byte, vid uint16) uint64 {
	return uint64(vid)<<48 | uint64(mac[0])<<40 | uint64(mac[1])<<32 | uint64(mac[2])<<24 | uint64(mac[3])<<16 | uint64(mac[4])<<8 | uint64(mac[5])
}

func fdbHome(key uint64) int { return int((key * 0x9e3779b97f4a7c15) >> (64 - fdbIndexBits)) }

// find returns the fdb index of the entry of mac in VLAN vid, or -1.
func (t *fdbIndex) find(mac [6]byte, vid uint16) int {
	if t.slots == nil {
		return -1
	}
	key := fdbKey(mac, vid)
	mask := len(t.slots) - 1
	for i := fdbHome(key); ; i = (i + 1) & mask {
		sl := &t.slots[i]
		if sl.idx == 0 || sl.key == key {
			return int(sl.idx) - 1
		}
	}
}

func (t *fdbIndex) insert(mac [6]byte, vid uint16, idx int) {
	if t.slots == nil {
		t.slots = make([]fdbSlot, 1<<fdbIndexBits)
	}
	if idx >= len(t.slots)-1 {
		panic("netstack: fdb index over its bound")
	}
	key := fdbKey(mac, vid)
	mask := len(t.slots) - 1
	i := fdbHome(key)
	for t.slots[i].idx != 0 {
		i = (i + 1) & mask
	}
	t.slots[i] = fdbSlot{key: key, idx: int32(idx) + 1}
}

// brHandleFrame models br_handle_frame -> br_handle_frame_finish on a port
// (data after the Ethernet header): a frame from an invalid source address
// (is_valid_ether_addr) is dropped; one to a link-local group address
// (01:80:c2:00:00:0X, brLinkLocal) may go up the port itself; a frame on
// a port that does not forward (brForwarding: BR_STATE_DISABLED) is
// dropped, the drops with their reasons from v6.14
// (skb.Profile.BridgeDropReasons); the source is learned; a frame for the
// bridge's own address goes up the bridge device (br_pass_frame_up:
// skb->dev = bridge, netif_receive_skb); a known unicast destination is
// forwarded to its port (__br_forward); broadcast and multicast are flooded
// to the other ports (deliver_clone: skb_clone for each but the last) and
// passed up; an unknown unicast is flooded. It reports whether the
// bridge took the frame (RX_HANDLER_CONSUMED); if not, the port's own
// stack receives it (RX_HANDLER_PASS). Takes ownership of skb if it
// returns true.
func (s *Stack) brHandleFrame(b *skb.Buff, port *Device) bool {
	br := port.master
	mac := b.Head()[b.MacHeader() : b.MacHeader()+ethHlen]
	if !isValidEtherAddr([6]byte(mac[6:12])) {
		s.drop(b, s.brReason(skb.DropMacInvalidSource), OpBridgeRx)
		return true
	}
	// memset(skb->cb, 0, sizeof(struct br_input_skb_cb)).
	clear(b.H().CB[:sizeofBrInputSkbCB])
	if [5]byte(mac[0:5]) == [5]byte{0x01, 0x80, 0xc2, 0, 0} && mac[5]&0xf0 == 0 {
		switch s.brLinkLocal(b, port, mac[5]) {
		case rxHandlerConsumed:
			return true
		case rxHandlerPass:
			return false
		}
	}
	if !port.brForwarding() {
		s.drop(b, s.brReason(skb.DropBridgeIngressSTPState), OpBridgeRx)
		return true
	}
	// NF_BR_PRE_ROUTING, then br_handle_frame_finish.
	if !brNFPreRouting(b, port.ns) {
		s.drop(b, skb.DropNetfilterDrop, OpBridgeRx)
		return true
	}
	s.traceOp(LayerBridge, OpBridgeRx, b)
	vid, ok := s.brAllowedIngress(b, br, port.brVLAN)
	if !ok {
		return true
	}
	mac = b.Head()[b.MacHeader() : b.MacHeader()+ethHlen]
	dst, src := [6]byte(mac[0:6]), [6]byte(mac[6:12])
	if !port.brNoLearn {
		br.fdbLearn(src, vid, port) // BR_LEARNING
	}
	// A local entry (the bridge's or a port's own address, fdbLocal)
	// passes the frame up: br_pass_frame_up keeps the pkt_type the port
	// gave it, PACKET_HOST only for the bridge's address.
	if br.fdbLocal(dst, vid) {
		s.brPassFrameUp(b, br)
		return true
	}
	local := isMulticastMAC(dst[:])
	if !local {
		if to := br.fdbFind(dst, vid); to != nil {
			if !brShouldDeliver(port, to, b) {
				s.drop(b, skb.DropNotSpecified, OpBridgeForward) // br_forward: kfree_skb
				return true
			}
			s.brForward(b, to, false)
			return true
		}
	}
	s.brFlood(b, br, port, local)
	if local {
		s.brPassFrameUp(b, br)
	}
	return true
}

// brLinkLocal models br_handle_frame on a frame to the link-local group
// address 01:80:c2:00:00:0X (is_link_local_ether_addr), whose last byte
// is ll: the bridge group address (0x00) goes on as any multicast frame,
// STP being off (BR_NO_STP); MAC control (0x01, pause) is dropped; the
// others go up the port itself (RX_HANDLER_PASS), their source learned
// first when the port learns and forwards (__br_handle_local_finish,
// nbp_state_should_learn), unless the port's or the bridge's
// group_fwd_mask has their bit: then they go on as the group address.
func (s *Stack) brLinkLocal(b *skb.Buff, port *Device, ll byte) rxHandlerResult {
	switch ll {
	case 0x00:
		return rxHandlerAnother // on to the port's state, as any frame
	case 0x01:
		s.drop(b, s.brReason(skb.DropMacIEEEMacControl), OpBridgeRx)
		return rxHandlerConsumed
	}
	// "Allow selective forwarding for most other protocols": the port's
	// and the bridge's group_fwd_mask (LLDP's 0x0e as the rest).
	if (port.groupFwdMask|port.master.groupFwdMask)&(1<<ll) != 0 {
		return rxHandlerAnother
	}
	if !port.brNoLearn && port.brForwarding() {
		if vid, ok := brShouldLearn(port, b); ok {
			mac := b.Head()[b.MacHeader() : b.MacHeader()+ethHlen]
			port.master.fdbLearn([6]byte(mac[6:12]), vid, port)
		}
	}
	return rxHandlerPass
}

// BridgeConfigError explains why dc's group_fwd_mask is refused, or
// returns "".
func BridgeConfigError(dc *DeviceConfig) string {
	switch {
	case dc.GroupFwdMask == 0:
	case dc.Kind == KindBridge:
		// br_changelink: BR_GROUPFWD_RESTRICTED is -EINVAL.
		if dc.GroupFwdMask&0x7 != 0 {
			return fmt.Sprintf("group_fwd_mask %#x: a bridge cannot forward STP, MAC pause or LACP frames (bits 0-2: EINVAL)", dc.GroupFwdMask)
		}
	case dc.Master != "":
		// br_setport: BR_GROUPFWD_MACPAUSE is -EINVAL.
		if dc.GroupFwdMask&0x2 != 0 {
			return fmt.Sprintf("group_fwd_mask %#x: a bridge port cannot forward MAC pause frames (bit 1: EINVAL)", dc.GroupFwdMask)
		}
	default:
		return "group_fwd_mask is a bridge's or a bridge port's (set master)"
	}
	return ""
}

// brPassFrameUp models br_pass_frame_up: with VLAN filtering the frame's
// VLAN must be in the bridge's own group (br_allowed_egress, else
// kfree_skb at the port: NOT_SPECIFIED) and leaves its tag if untagged
// there (br_handle_vlan); skb->dev = the bridge, netif_receive_skb (the
// bridge's own rx path).
func (s *Stack) brPassFrameUp(b *skb.Buff, br *Device) {
	if !brAllowedEgress(br, br.brVLAN, b) {
		s.drop(b, skb.DropNotSpecified, OpBridgeRx)
		return
	}
	brHandleVlan(br, br.brVLAN, b)
	setDev(b, br)
	if [6]byte(b.Head()[b.MacHeader():b.MacHeader()+6]) == br.mac {
		b.H().PktType = skb.PacketHost
	}
	s.netifReceive(b)
}

// brShouldDeliver models should_deliver for frame b that came in by
// port from (nil: the bridge device sent it) and would leave by p: p
// forwards (brForwarding), the frame's VLAN is p's (br_allowed_egress),
// and the frame goes not back out of its own port unless p is in hairpin
// mode, and not between two isolated ports (br_skb_isolated).
func brShouldDeliver(from, p *Device, b *skb.Buff) bool {
	if !p.brForwarding() || !brAllowedEgress(p.master, p.brVLAN, b) {
		return false
	}
	if from == nil {
		return true
	}
	return (p != from || p.brHairpin) && !(from.brIsolated && p.brIsolated)
}

// brReason is reason from v6.14 (skb.Profile.BridgeDropReasons), before
// which the bridge's input drops were kfree_skb's NOT_SPECIFIED.
func (s *Stack) brReason(reason skb.DropReason) skb.DropReason {
	if s.prof.BridgeDropReasons {
		return reason
	}
	return skb.DropNotSpecified
}

// brFlood models br_flood: every port that should get the frame
// (brShouldDeliver) and floods its kind gets a clone (deliver_clone), the
// last one the skb itself unless it also goes up (local_rcv). An unknown
// unicast destination floods to ports with BR_FLOOD, a multicast or
// broadcast one to ports with BR_MCAST_FLOOD or BR_BCAST_FLOOD unless the
// bridge device sent it (from nil). Takes ownership of skb unless keep is
// true.
func (s *Stack) brFlood(b *skb.Buff, br, from *Device, keep bool) {
	var prev *Device
	dst := [6]byte(b.Head()[b.MacHeader() : b.MacHeader()+6])
	unicast, bcast := !isMulticastMAC(dst[:]), dst == broadcastMAC
	for _, p := range br.ports {
		if !brShouldDeliver(from, p, b) {
			continue
		}
		switch {
		case unicast && p.brNoFlood,
			from != nil && bcast && p.brNoBcast,
			from != nil && !unicast && !bcast && p.brNoMcast:
			continue
		}
		if prev != nil {
			if n, err := b.Clone(); err == nil {
				s.brForward(n, prev, from == nil)
			}
		}
		prev = p
	}
	switch {
	case prev == nil:
		if !keep {
			s.drop(b, s.brReason(skb.DropNoTxTarget), OpBridgeForward)
		}
	case keep:
		if n, err := b.Clone(); err == nil {
			s.brForward(n, prev, from == nil)
		}
	default:
		s.brForward(b, prev, from == nil)
	}
}

// brForward models __br_forward -> br_forward_finish ->
// br_dev_queue_push_xmit: br_handle_vlan (an untagged VLAN of the port
// loses its tag), skb->dev = the port, br_netfilter's
// NF_BR_FORWARD and NF_BR_POST_ROUTING hooks for a frame the bridge
// received (brNFForward; a frame the bridge device sends, localOrig, goes
// through NF_BR_LOCAL_OUT instead, where br_netfilter has no hook, and
// br_nf_post_routing passes it with its extension: physoutdev unset),
// skb_clear_tstamp, skb_push(ETH_HLEN), dev_queue_xmit. Takes ownership of
// skb.
func (s *Stack) brForward(b *skb.Buff, to *Device, localOrig bool) {
	brHandleVlan(to.master, to.brVLAN, b)
	setDev(b, to)
	if !localOrig && b.ExtFind(skb.ExtBridgeNF) != nil && !brNFForward(b, to) {
		s.drop(b, skb.DropNetfilterDrop, OpBridgeForward)
		return
	}
	b.ClearTstamp()
	b.Push(-b.MacOffset())
	s.traceOp(LayerBridge, OpBridgeForward, b)
	s.devQueueXmit(b, to)
}

// brDevXmit models br_dev_xmit (the bridge device transmitting a locally
// generated frame, data at the mac header): memset(skb->cb, 0,
// sizeof(struct br_input_skb_cb)), br_allowed_ingress through the bridge's
// own VLAN group (the pvid tags the frame), then the destination's port
// from the FDB, or a flood to every port.
func (s *Stack) brDevXmit(b *skb.Buff, br *Device) {
	clear(b.H().CB[:sizeofBrInputSkbCB])
	mac := b.Data()
	if len(mac) < ethHlen {
		s.drop(b, skb.DropPktTooSmall, OpBridgeForward)
		return
	}
	b.Pull(ethHlen)
	vid, ok := s.brAllowedIngress(b, br, br.brVLAN)
	if !ok {
		return
	}
	dst := [6]byte(mac[0:6])
	if !isMulticastMAC(dst[:]) {
		to := br.localPort(dst, vid) // a port's local entry: br_forward to it
		if to == nil {
			to = br.fdbFind(dst, vid)
		}
		if to != nil {
			if !brShouldDeliver(nil, to, b) {
				s.drop(b, skb.DropNotSpecified, OpBridgeForward) // br_forward: kfree_skb
				return
			}
			s.brForward(b, to, true)
			return
		}
	}
	s.brFlood(b, br, nil, false)
}

func macString(m [6]byte) string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])
}

// sizeofBrInputSkbCB is sizeof(struct br_input_skb_cb) without
// CONFIG_NET_SWITCHDEV: brdev, the IGMP and flag bytes, backup_nhid (16
// bytes; measured on 6.18 by the bridge-flood-nonf transition: cb[0] and
// cb[1] of __sk_buff, skb->cb[8:16], cleared, cb[2..4] kept).
const sizeofBrInputSkbCB = 16

// brNFPreRouting models br_netfilter's NF_BR_PRE_ROUTING hook,
// br_nf_pre_routing, on a frame a bridge port received (data at the
// network header), when the namespace's bridge-nf-call-iptables (IPv4) or
// -ip6tables (IPv6) is on: br_validate_ipv4 / br_validate_ipv6 (a bad
// header is NF_DROP), nf_bridge_alloc (skb_ext_add(SKB_EXT_BRIDGE_NF);
// failing is NF_DROP) and setup_pre_routing's skb_orphan. The IPv4
// PRE_ROUTING chain changes nothing the model keeps;
// br_nf_pre_routing_finish (and its IPv6 twin) drops the skb's dst for the
// bridge's fake rtable (skb_dst_drop, skb_dst_set_noref), which takes a
// collect_md tunnel's metadata dst with it: the tunnel key is gone at the
// ports' egress. It reports whether the frame goes on.
func brNFPreRouting(b *skb.Buff, ns *Netns) bool {
	v4, v6, encap := brNFProto(b, ns)
	v4, v6 = v4 && ns.brNF4, v6 && ns.brNF6
	if !v4 && !v6 {
		return true
	}
	if !brPullEncap(b, encap) || !brValidateIP(b, v4) {
		return false
	}
	if _, err := b.ExtAdd(skb.ExtBridgeNF); err != nil {
		return false
	}
	b.Orphan()
	b.DropTunnelDst()     // br_nf_pre_routing_finish: skb_dst_drop, then the fake rtable (noref, not modelled)
	brPushEncap(b, encap) // br_nf_pre_routing_finish
	return true
}

// brNFForward models br_nf_forward_ip (NF_BR_FORWARD) and
// br_nf_post_routing -> br_nf_dev_queue_xmit (NF_BR_POST_ROUTING) on a
// frame carrying the bridge's nf_bridge_info, forwarded to port to:
// nf_bridge_unshare (skb_ext_add COWs an extension a flooded clone
// shares), br_validate_ipv4 / br_validate_ipv6 again (IPCB or IP6CB
// cleared), then nf_bridge_info_free (skb_ext_del) before
// br_dev_queue_push_xmit. A frame above the port's MTU, which
// br_nf_dev_queue_xmit refragments, is passed on whole (not modelled). It
// reports whether the frame goes on.
func brNFForward(b *skb.Buff, to *Device) bool {
	v4, v6, encap := brNFProto(b, to.ns)
	if !v4 && !v6 {
		return true // br_nf_forward_ip: NF_ACCEPT for other protocols
	}
	if _, err := b.ExtAdd(skb.ExtBridgeNF); err != nil {
		return false
	}
	if !brPullEncap(b, encap) || !brValidateIP(b, v4) {
		return false
	}
	brPushEncap(b, encap) // br_nf_forward_finish
	b.ExtDel(skb.ExtBridgeNF)
	return true
}

// brNFProto models br_netfilter's IS_IP / IS_IPV6 tests with is_vlan_ip /
// is_vlan_ipv6 and is_pppoe_ip / is_pppoe_ipv6: an IPv4 (IPv6) frame
// without a VLAN tag, or with one in vlan_tci when the namespace's
// bridge-nf-filter-vlan-tagged is on (vlan_proto: skb->protocol is then
// the encapsulated type; __netif_receive_skb_core untagged the frame
// before the bridge's rx_handler, so nothing is pulled); or, with
// bridge-nf-filter-pppoe-tagged on, a PPPoE session frame whose PPP
// protocol (pppoe_proto: at the mac header + ETH_HLEN + the 6-byte PPPoE
// header) is PPP_IP (PPP_IPV6), whatever its VLAN tag: encap is then the
// 8 bytes (PPPOE_SES_HLEN) nf_bridge_encap_header_len has br_netfilter
// pull. The inner tag of a QinQ frame leaves skb->protocol 802.1Q: never
// IP.
func brNFProto(b *skb.Buff, ns *Netns) (v4, v6 bool, encap int) {
	h := b.H()
	if h.Protocol == ethPPPSes {
		if !ns.brNFPPPoE {
			return false, false, 0
		}
		off := b.MacOffset() + ethHlen + 6
		d := b.Data()
		if off < 0 || off+2 > len(d) {
			return false, false, 0
		}
		p := binary.BigEndian.Uint16(d[off : off+2])
		return p == pppIP, p == pppIPv6, pppoeSesHlen
	}
	if h.VlanTagPresent() && !ns.brNFVlan {
		return false, false, 0
	}
	return h.Protocol == ethPIP, h.Protocol == ethPIPv6, 0
}

// PPPoE session frames (include/uapi/linux/if_pppox.h, ppp_defs.h).
const (
	ethPPPSes    = 0x8864 // ETH_P_PPP_SES
	pppIP        = 0x21   // PPP_IP
	pppIPv6      = 0x57   // PPP_IPV6
	pppoeSesHlen = 8      // PPPOE_SES_HLEN: the PPPoE header and the PPP protocol
)

// brPullEncap models nf_bridge_pull_encap_header(_rcsum): skb_pull of the
// encap bytes in front of the IP header (a PPPoE session header) and the
// network header moved past them. False when they are not in the linear
// data (the kernel pulls without checking; the model drops instead).
func brPullEncap(b *skb.Buff, encap int) bool {
	if encap == 0 {
		return true
	}
	if _, ok := b.PskbPull(encap); !ok {
		return false
	}
	b.SetNetworkHeader(0)
	return true
}

// brPushEncap models nf_bridge_push_encap_header: the encap bytes pushed
// back and the network header moved in front of them again.
func brPushEncap(b *skb.Buff, encap int) {
	if encap != 0 {
		b.Push(encap)
		b.SetNetworkHeader(0)
	}
}

// brValidateIP models br_validate_ipv4 (v4) or br_validate_ipv6 on the
// packet at the network header: the IPv4 header's version, length and
// checksum and tot_len against the skb's length, or the IPv6 version and
// payload_len (a jumbo payload behind a hop-by-hop header is taken as
// it is); the skb is trimmed to the packet (pskb_trim_rcsum) and IPCB or
// IP6CB, the first 24 bytes of skb->cb, cleared.
func brValidateIP(b *skb.Buff, v4 bool) bool {
	if v4 {
		if !b.MayPull(ipHlen) {
			return false
		}
		data := b.Data()
		ihl := int(data[0]&0xf) * 4
		if ihl < ipHlen || data[0]>>4 != 4 || !b.MayPull(ihl) {
			return false
		}
		data = b.Data()
		if ipCsum(data[:ihl]) != 0 {
			return false
		}
		totLen := int(binary.BigEndian.Uint16(data[2:4]))
		if totLen == 0 && b.Shinfo().GSOSize != 0 {
			totLen = b.Len() // skb_ip_totlen: a BIG TCP packet
		}
		if b.Len() < totLen || totLen < ihl || b.PskbTrim(totLen) != nil {
			return false
		}
		clear(b.H().CB[:sizeofIPCB])
		return true
	}
	if !b.MayPull(ip6Hlen) {
		return false
	}
	data := b.Data()
	if data[0]>>4 != 6 {
		return false
	}
	if pl := int(binary.BigEndian.Uint16(data[4:6])); pl != 0 || data[6] != nexthdrHop {
		if ip6Hlen+pl > b.Len() || b.PskbTrim(ip6Hlen+pl) != nil {
			return false
		}
	}
	clear(b.H().CB[:sizeofIP6CB])
	return true
}

// FDBEntry is an entry of a bridge's forwarding database.
type FDBEntry struct {
	Port   string // the bridge port
	MAC    [6]byte
	VLAN   uint16
	Static bool // BR_FDB_STATIC: configured (FDBConfig)
	Sticky bool
}

// FDB returns the entries of bridge br in namespace netns (HostNetns when
// "") as `bridge fdb show br BR` lists them, learnt and static ones, but
// not the local entries of the bridge's and its ports' own addresses; nil
// when there is no such bridge.
func (s *Stack) FDB(netns, br string) []FDBEntry {
	d := s.Device(nsName(netns), br)
	if d == nil || d.kind != KindBridge {
		return nil
	}
	out := make([]FDBEntry, 0, len(d.fdb))
	for _, e := range d.fdb {
		out = append(out, FDBEntry{Port: e.port.name, MAC: e.mac, VLAN: e.vid, Static: e.static, Sticky: e.sticky})
	}
	return out
}
