package netstack

import (
	"fmt"
	"net/netip"

	"github.com/skbsim/skbsim/skb"
)

// macvlanMode is enum macvlan_mode.
type macvlanMode uint8

const (
	mvBridge macvlanMode = iota
	mvPrivate
	mvVEPA
	mvPassthru
)

func parseMacvlanMode(s string) (macvlanMode, bool) {
	switch s {
	case "", MacvlanBridge:
		return mvBridge, true
	case MacvlanPrivate:
		return mvPrivate, true
	case MacvlanVEPA:
		return mvVEPA, true
	case MacvlanPassthru:
		return mvPassthru, true
	}
	return 0, false
}

// macvlanPort is struct macvlan_port: the macvlans of one lower device,
// in creation order (port->vlans; passthru takes the first).
type macvlanPort struct {
	vlans    []*Device
	passthru bool
}

// lookup models macvlan_hash_lookup: the macvlan with address mac among
// those that are up (macvlan_open hashes a device, macvlan_stop unhashes
// it).
func (p *macvlanPort) lookup(mac [6]byte) *Device {
	for _, v := range p.vlans {
		if v.up && v.mac == mac {
			return v
		}
	}
	return nil
}

// buildMacvlans links every macvlan of the configuration to its lower
// device, with macvlan_common_newlink's and macvlan_open's checks: the
// lower device exists in the link namespace and is an Ethernet device
// (ARPHRD_ETHER, not loopback: EINVAL) that is no bridge port
// (netdev_rx_handler_register: EBUSY); a macvlan on a macvlan goes on the
// latter's lower device; the MTU is at most the lower device's and
// defaults to it; a passthru macvlan is the lower device's only one and
// takes its address (eth_hw_addr_inherit); the other macvlans' addresses
// differ from the lower device's and from each other (macvlan_addr_busy:
// EADDRINUSE).
func (s *Stack) buildMacvlans() error {
	c := s.cfg
	for i := range c.Devices {
		dc := &c.Devices[i]
		what := fmt.Sprintf("device %d (%s)", i, dc.Name)
		if dc.Kind != KindMacvlan {
			if dc.Link != "" || dc.Mode != "" {
				return cfgErr("%s: link and mode are for macvlan devices", what)
			}
			continue
		}
		d := s.Netns(dc.Netns).dev(dc.Name)
		mode, ok := parseMacvlanMode(dc.Mode)
		if !ok {
			return cfgErr("%s: mode %q (want bridge, private, vepa or passthru)", what, dc.Mode)
		}
		ln := s.Netns(nsName(firstNonEmpty(dc.LinkNetns, dc.Netns)))
		if ln == nil {
			return cfgErr("%s link: unknown namespace %q", what, dc.LinkNetns)
		}
		if dc.Link == "" {
			return cfgErr("%s: a macvlan needs its lower device (link)", what)
		}
		low := ln.dev(dc.Link)
		switch {
		case low == nil:
			return cfgErr("%s: no lower device %q in %s", what, dc.Link, ln.name)
		case low.kid == kidMacvlan:
			if low.lower == nil {
				return cfgErr("%s: lower device %q is a macvlan declared later", what, dc.Link)
			}
			low = low.lower // macvlan_common_newlink: macvlan_dev_real_dev
		case low.kid == kidLoopback || hardHeaderLenOf(low) != ethHlen:
			return cfgErr("%s: lower device %q is not an Ethernet device", what, dc.Link)
		case low.master != nil:
			return cfgErr("%s: lower device %q is a port of bridge %s (its rx_handler is taken)", what, dc.Link, low.master.name)
		case low == d:
			return cfgErr("%s: a macvlan cannot be its own lower device", what)
		}
		if dc.MTU == 0 {
			d.mtu = low.mtu
		} else if dc.MTU > low.mtu {
			return cfgErr("%s: mtu %d above its lower device's %d", what, dc.MTU, low.mtu)
		}
		if low.mvPort == nil {
			low.mvPort = &macvlanPort{}
		}
		port := low.mvPort
		if port.passthru || (mode == mvPassthru && len(port.vlans) != 0) {
			return cfgErr("%s: a passthru macvlan is the only macvlan of %s", what, low.name)
		}
		if mode == mvPassthru {
			if dc.MAC != ([6]byte{}) {
				return cfgErr("%s: a passthru macvlan takes its lower device's address", what)
			}
			d.mac = low.mac
			port.passthru = true
		} else {
			if d.mac == low.mac {
				return cfgErr("%s: address %s is the lower device's", what, macString(d.mac))
			}
			for _, v := range port.vlans {
				if v.mac == d.mac {
					return cfgErr("%s: address %s is macvlan %s's", what, macString(d.mac), v.name)
				}
			}
		}
		d.lower, d.mvMode = low, mode
		if dc.TxFragList == "" {
			// macvlan_fix_features: NETIF_F_FRAGLIST, one of
			// MACVLAN_FEATURES, as the lower device has it.
			d.fragList = low.fragList
		}
		d.gro = false // no NAPI: a macvlan receives through its lower device's path
		port.vlans = append(port.vlans, d)
	}
	for _, d := range s.devs {
		if d.mvPort != nil && d.master != nil {
			return cfgErr("device %s: a bridge port cannot carry macvlans", d.name)
		}
	}
	return nil
}

// rxHandlerResult is rx_handler_result_t.
type rxHandlerResult uint8

const (
	rxHandlerConsumed rxHandlerResult = iota // RX_HANDLER_CONSUMED
	rxHandlerAnother                         // RX_HANDLER_ANOTHER: another_round on the skb's new device
	rxHandlerPass                            // RX_HANDLER_PASS: the lower device's own protocol handlers
)

// macvlanHandleFrame models macvlan_handle_frame, the rx_handler of a
// device with macvlans, for a unicast frame: a looped-back skb
// (PACKET_LOOPBACK) and a destination that no up macvlan has pass to the
// lower device; passthru takes every unicast frame; otherwise the skb is
// made unshared (skb_share_check) and moves to the macvlan as
// PACKET_HOST, with no scrub even when the macvlan is in another
// namespace, for another round of __netif_receive_skb_core there.
// Broadcast and multicast frames pass to the lower device; the copies
// macvlan_broadcast gives the macvlans are not modelled. *pb is the skb
// (replaced by a clone when it was shared; nil when consumed).
func (s *Stack) macvlanHandleFrame(pb **skb.Buff, low *Device) rxHandlerResult {
	b := *pb
	h := b.H()
	if h.PktType == skb.PacketLoopback {
		return rxHandlerPass
	}
	mac := b.Head()[b.MacHeader() : b.MacHeader()+ethHlen]
	if isMulticastMAC(mac[0:6]) {
		return rxHandlerPass
	}
	port := low.mvPort
	var v *Device
	if port.passthru {
		v = port.vlans[0]
	} else {
		v = port.lookup([6]byte(mac[0:6]))
	}
	if v == nil {
		return rxHandlerPass
	}
	if !v.up {
		s.drop(b, skb.DropNotSpecified, OpMacvlanRx) // kfree_skb
		*pb = nil
		return rxHandlerConsumed
	}
	if b.Shared() {
		n, err := b.Clone()
		if err != nil {
			b.KfreeSkb(skb.DropNotSpecified) // skb_share_check: kfree_skb of the reference
			s.dropNoSkb(low, skb.DropNomem, OpMacvlanRx)
			*pb = nil
			return rxHandlerConsumed
		}
		b.ConsumeSkb()
		b, *pb = n, n
	}
	setDev(b, v)
	b.H().PktType = skb.PacketHost
	s.traceOp(LayerDev, OpMacvlanRx, b)
	return rxHandlerAnother
}

// macvlanXmit models macvlan_start_xmit -> macvlan_queue_xmit for macvlan
// d. In bridge mode, a unicast frame for another bridge-mode macvlan of
// the same lower device is handed to the lower device's receive path
// (dev_forward_skb: a scrub with xnet when the two are in different
// namespaces, priority 0, eth_type_trans on the lower device, netif_rx),
// whose rx_handler then delivers it. Every other frame goes out of the
// lower device: skb->dev = lower device and dev_queue_xmit, with no scrub
// although the lower device may be in another namespace (its tc egress
// sees the macvlan side's mark and tstamp). A bridge-mode broadcast's
// copies for the other macvlans (macvlan_broadcast) are not modelled.
// Takes ownership of skb.
func (s *Stack) macvlanXmit(b *skb.Buff, d *Device) {
	low := d.lower
	s.traceOp(LayerDev, OpMacvlanXmit, b)
	if d.mvMode == mvBridge {
		dst := [6]byte(b.Data()[0:6])
		if !isMulticastMAC(dst[:]) {
			if to := low.mvPort.lookup(dst); to != nil && to.mvMode == mvBridge {
				if !s.devForwardSkb(b, low) {
					return
				}
				if !s.ethTypeTrans(b, low) {
					s.drop(b, skb.DropPktTooSmall, OpMacvlanXmit)
					return
				}
				s.netifRx(b)
				return
			}
		}
	}
	s.devQueueXmit(b, low)
}

// withAddr returns the macvlan of p holding address a, or nil (also for a
// nil port).
func (p *macvlanPort) withAddr(a netip.Addr) *Device {
	if p == nil {
		return nil
	}
	for _, v := range p.vlans {
		if v.hasAddr(a) {
			return v
		}
	}
	return nil
}
