package netstack

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/skb"
)

// netkitEnd is one end of a netkit pair (struct netkit): whether it is
// the primary, its default verdict, its scrub mode and the programs that
// run when it transmits (nk->active: BPF_NETKIT_PRIMARY programs on the
// primary, BPF_NETKIT_PEER programs on the peer).
type netkitEnd struct {
	primary bool
	policy  int  // TCXPass (NETKIT_PASS) or TCXDrop (NETKIT_DROP)
	scrub   bool // NETKIT_SCRUB_DEFAULT: clear mark and priority across namespaces
	progs   []int
}

// NetkitConfigError reports what netkit_new_link (and the profile) would
// refuse in dc, or "" when dc is a valid netkit pair or not a netkit
// device and uses none of the netkit settings:
//   - a kernel before v6.7 has no netkit (rtnetlink: "Unknown device type");
//   - modes other than l3 and l2, policies other than forward and
//     blackhole (netkit_check_policy: -EINVAL), scrub modes other than
//     default and none (NLA_POLICY_MAX), head- and tailroom above 65535
//     (NLA_U16);
//   - an address in L3 mode (-EOPNOTSUPP), or in L2 mode before v6.10
//     (netkit_validate refused every IFLA_ADDRESS);
//   - scrub before v6.13, head- and tailroom before v6.14 (unknown
//     attributes);
//   - native XDP (netkit has no ndo_bpf: dev_xdp_attach's -EOPNOTSUPP),
//     and GRO: netkit hands frames to the backlog (__netif_rx), which
//     does no GRO, so the setting would change nothing;
//   - the veth-only peer settings.
func NetkitConfigError(dc *DeviceConfig, p *skb.Profile) string {
	if dc.Kind != KindNetkit {
		if dc.Policy != "" || dc.PeerPolicy != "" || dc.Scrub != "" || dc.PeerScrub != "" || dc.Headroom != 0 || dc.Tailroom != 0 {
			return "policy, peer_policy, scrub, peer_scrub, headroom and tailroom are for netkit devices"
		}
		return ""
	}
	switch {
	case !p.Netkit:
		return fmt.Sprintf("netkit needs kernel v6.7 or later, not %s", p.Name)
	case dc.Peer == "":
		return "a netkit device needs a peer"
	case dc.Mode != "" && dc.Mode != NetkitL3 && dc.Mode != NetkitL2:
		return fmt.Sprintf("netkit mode %q (want l3 or l2)", dc.Mode)
	}
	for _, f := range [...]struct{ key, v string }{{"policy", dc.Policy}, {"peer_policy", dc.PeerPolicy}} {
		if f.v != "" && f.v != NetkitForward && f.v != NetkitBlackhole {
			return fmt.Sprintf("netkit %s %q (want forward or blackhole)", f.key, f.v)
		}
	}
	for _, f := range [...]struct{ key, v string }{{"scrub", dc.Scrub}, {"peer_scrub", dc.PeerScrub}} {
		if f.v != "" && f.v != NetkitScrubDefault && f.v != NetkitScrubNone {
			return fmt.Sprintf("netkit %s %q (want default or none)", f.key, f.v)
		}
		if f.v != "" && !p.NetkitScrub {
			return fmt.Sprintf("netkit %s (IFLA_NETKIT_SCRUB) needs kernel v6.13 or later, not %s", f.key, p.Name)
		}
	}
	for _, f := range [...]struct {
		key string
		v   int
	}{{"headroom", dc.Headroom}, {"tailroom", dc.Tailroom}} {
		if f.v < 0 || f.v > 0xffff {
			return fmt.Sprintf("netkit %s %d (want 0 to 65535)", f.key, f.v)
		}
		if f.v != 0 && !p.NetkitRoom {
			return fmt.Sprintf("netkit %s (IFLA_NETKIT_%s) needs kernel v6.14 or later, not %s", f.key, strings.ToUpper(f.key), p.Name)
		}
	}
	hasMAC := dc.MAC != [6]byte{} || dc.PeerMAC != [6]byte{}
	switch {
	case hasMAC && dc.Mode != NetkitL2:
		return "a netkit device in l3 mode has no address (netkit_new_link: -EOPNOTSUPP); use mode l2"
	case hasMAC && !p.NetkitPktType:
		return fmt.Sprintf("a netkit address needs kernel v6.10 or later (netkit_validate refused IFLA_ADDRESS before), not %s", p.Name)
	case dc.XDP == "native" || dc.PeerXDP == "native":
		return "netkit has no native XDP (no ndo_bpf); use xdp: generic"
	case dc.GRO == "on" || dc.PeerGRO == "on":
		return "netkit has no GRO: it hands frames to the peer's backlog (__netif_rx)"
	case dc.PeerGROList || dc.PeerUDPGROForwarding || dc.GROList || dc.UDPGROForwarding:
		return "netkit has no GRO: gro_list and udp_gro_forwarding do not apply"
	}
	return ""
}

// netkitEnds fills in the netkit state of the pair d (primary) and p
// (peer) from dc, as netkit_new_link does: policies and scrub modes per
// end, headroom and tailroom on both.
func netkitEnds(d, p *Device, dc *DeviceConfig) {
	pol := func(v string) int {
		if v == NetkitBlackhole {
			return TCXDrop
		}
		return TCXPass
	}
	d.nk = &netkitEnd{primary: true, policy: pol(dc.Policy), scrub: dc.Scrub != NetkitScrubNone}
	p.nk = &netkitEnd{policy: pol(dc.PeerPolicy), scrub: dc.PeerScrub != NetkitScrubNone}
	d.headroom, p.headroom = dc.Headroom, dc.Headroom
	d.tailroom, p.tailroom = dc.Tailroom, dc.Tailroom
}

// netkitXmit models netkit_xmit on d, one end of a netkit pair: a frame
// whose peer is missing or down, or shorter than an Ethernet header
// (pskb_may_pull), is dropped (kfree_skb; skb_orphan_frags has nothing to
// do: the model has no zero-copy frags). netkit_prep_forward scrubs it,
// skb->dev becomes the peer, and d's programs (netkit_run, with data at
// the mac header) give the verdict, d's policy when it has none:
//   - NETKIT_NEXT from the last program, or NETKIT_PASS: the Ethernet
//     header is pulled and the frame queued to the peer's backlog
//     (__netif_rx), where the peer receives it (taps, generic XDP, tc
//     ingress, the protocol handlers);
//   - NETKIT_REDIRECT: skb_do_redirect with the program's
//     bpf_redirect_info, looked up in the peer's namespace;
//     bpf_redirect_peer fails there (the skb is not at tc ingress:
//     __dev_queue_xmit cleared tc_at_ingress) and drops it;
//   - NETKIT_DROP or any other value: dropped (kfree_skb).
//
// Takes ownership of skb (data at the mac header).
func (s *Stack) netkitXmit(b *skb.Buff, d *Device) {
	p := d.peer
	s.traceOp(LayerDev, OpNetkitXmit, b)
	if p == nil || !p.up || !b.MayPull(ethHlen) {
		s.drop(b, skb.DropNotSpecified, OpNetkitXmit)
		return
	}
	s.netkitPrepForward(b, d, d.ns != p.ns)
	if s.prof.NetkitPktType {
		setPktType(b.H(), b.Data()[0:6], p) // eth_skb_pkt_type(skb, peer); scrubbed to PACKET_HOST
	}
	setDev(b, p)
	ret := d.nk.policy
	if len(d.nk.progs) != 0 {
		ret = s.runNetkit(b, d, p)
	}
	switch ret {
	case TCXNext, TCXPass:
		if s.prof.NetkitPktType {
			b.Pull(ethHlen) // eth_skb_pull_mac; skb->protocol stays the sender's
		} else if !s.ethTypeTrans(b, p) { // skb->protocol = eth_type_trans(skb, skb->dev)
			s.drop(b, skb.DropPktTooSmall, OpNetkitXmit)
			return
		}
		// skb_postpull_rcsum: only CHECKSUM_COMPLETE changes, which the
		// model has none of.
		s.netifRx(b)
	case TCXRedirect:
		s.skbDoRedirect(b)
	default:
		s.drop(b, skb.DropNotSpecified, OpNetkitXmit)
	}
}

// netkitPrepForward models netkit_prep_forward on a frame d sends to its
// peer, xnet when the peer is in another namespace:
//   - v6.13 on (Profile.NetkitScrub): skb_scrub_packet(skb, false),
//     nf_skip_egress (no netfilter egress hook in the model),
//     skb_reset_mac_header; across namespaces ipvs_reset (until v6.15,
//     when skb_scrub_packet clears ipvs_property itself),
//     skb_clear_tstamp, and with NETKIT_SCRUB_DEFAULT netkit_xnet: mark
//     and priority 0;
//   - before: skb_scrub_packet(skb, xnet) and priority 0 on every frame,
//     within a namespace too (skb_reset_mac_header from v6.10).
func (s *Stack) netkitPrepForward(b *skb.Buff, d *Device, xnet bool) {
	h := b.H()
	if !s.prof.NetkitScrub {
		b.Scrub(xnet)
		h.Priority = 0
		b.ResetMacHeader()
		return
	}
	b.Scrub(false)
	b.ResetMacHeader()
	if !xnet {
		return
	}
	if !s.prof.ScrubIPVSAlways {
		h.IPVSProperty = false
	}
	b.ClearTstamp()
	if d.nk.scrub {
		h.Priority = 0
		h.Mark = 0
	}
}

// runNetkit models netkit_run over d's programs, with skb->dev already
// the peer p (ctx->ifindex is p's, helpers look up in p's namespace) and
// data at the mac header: each program runs after
// bpf_compute_data_pointers until one returns something other than
// NETKIT_NEXT, which is the verdict. qdisc_skb_cb(skb)->pkt_len is the
// frame's length (qdisc_pkt_len_init in __dev_queue_xmit), tc_at_ingress
// clear.
func (s *Stack) runNetkit(b *skb.Buff, d, p *Device) int {
	hook := carrier.HookNetkitPeer
	if d.nk.primary {
		hook = carrier.HookNetkitPrimary
	}
	binary.LittleEndian.PutUint32(b.H().CB[0:4], uint32(b.Len()))
	s.traceOp(LayerDev, OpNetkitRun, b)
	ret := TCXNext
	for _, pi := range d.nk.progs {
		c := s.pushCtx(pi, hook, b, p, p.ns, nil)
		ret = s.progOf(c).Run(c)
		s.progRan(c, ret)
		ri := c.ri
		s.popCtx()
		if ret == TCXRedirect {
			s.ri = ri
		}
		if ret != TCXNext {
			break
		}
	}
	return ret
}

// netkitAttachDev models netkit_dev_fetch for a netkit_primary or
// netkit_peer program: Dev, in the program's namespace, must be a netkit
// device (-ENXIO otherwise) and the pair's primary (-EACCES for the peer:
// programs of both ends attach through the primary).
func netkitAttachDev(n *Netns, pc *ProgramConfig, what string) (*Device, error) {
	d := n.dev(pc.Dev)
	switch {
	case d == nil:
		return nil, cfgErr("%s: unknown device %q in %s", what, pc.Dev, n.name)
	case d.nk == nil:
		return nil, cfgErr("%s: %s is not a netkit device (netkit_dev_fetch: -ENXIO)", what, pc.Dev)
	case !d.nk.primary:
		return nil, cfgErr("%s: %s is a netkit peer; netkit programs attach through the primary %s (netkit_dev_fetch: -EACCES)",
			what, pc.Dev, d.peer.name)
	}
	return d, nil
}
