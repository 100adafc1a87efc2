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

// macvlanLower returns the index in devs of the device that macvlan
// devs[i] sits on, following a macvlan lower device to its own
// (macvlan_common_newlink: macvlan_dev_real_dev), with peer true when the
// lower device is the peer end of the veth devs[j] declares; j is -1 for
// a namespace's loopback device, -2 when there is no such device and -3
// for macvlans that are each other's lower devices.
func macvlanLower(devs []DeviceConfig, i int) (j int, peer bool) {
	for hops := 0; hops <= len(devs); hops++ {
		dc := &devs[i]
		ns := nsName(firstNonEmpty(dc.LinkNetns, dc.Netns))
		if dc.Link == "lo" {
			return -1, false
		}
		j = -2
		for k := range devs {
			switch d := &devs[k]; {
			case d.Name == dc.Link && nsName(d.Netns) == ns && d.Kind != KindLoopback:
				j, peer = k, false
			case d.Kind == KindVeth && d.Peer == dc.Link && nsName(firstNonEmpty(d.PeerNetns, d.Netns)) == ns:
				j, peer = k, true
			}
		}
		if j < 0 || peer || devs[j].Kind != KindMacvlan {
			return j, peer
		}
		i = j
	}
	return -3, false // a loop of macvlans
}

// CheckMacvlan reports what macvlan_common_newlink and macvlan_open
// would refuse in macvlan devs[i] (nil for any other kind): the lower
// device (Link, in LinkNetns) must exist and be an Ethernet device
// (ARPHRD_ETHER, not loopback: EINVAL) that is no bridge port
// (netdev_rx_handler_register: EBUSY); a macvlan on a macvlan goes on the
// latter's lower device; the MTU is at most the lower device's (and
// defaults to it); a passthru macvlan is its lower device's only macvlan
// and takes the lower device's address (eth_hw_addr_inherit); the other
// macvlans' addresses differ from the lower device's and from each other
// (macvlan_addr_busy: EADDRINUSE). The error is a *DeviceConfigError.
func CheckMacvlan(devs []DeviceConfig, i int) error {
	dc := &devs[i]
	bad := func(format string, args ...any) error {
		return &DeviceConfigError{Index: i, Name: dc.Name, Why: fmt.Sprintf(format, args...)}
	}
	if dc.Kind != KindMacvlan {
		if dc.Link != "" || dc.Mode != "" {
			return bad("link and mode are for macvlan devices")
		}
		return nil
	}
	mode, ok := parseMacvlanMode(dc.Mode)
	if !ok {
		return bad("mode %q (want bridge, private, vepa or passthru)", dc.Mode)
	}
	if dc.Link == "" {
		return bad("a macvlan needs its lower device (link)")
	}
	j, peer := macvlanLower(devs, i)
	switch {
	case j == -3:
		return bad("lower device %q is a macvlan whose lower devices lead back to it", dc.Link)
	case j == -1:
		return bad("lower device %q is not an Ethernet device", dc.Link)
	case j == -2:
		return bad("no lower device %q in namespace %s", dc.Link, nsName(firstNonEmpty(dc.LinkNetns, dc.Netns)))
	}
	low := &devs[j]
	lowMTU, lowMAC := low.MTU, low.MAC
	if peer {
		lowMAC = low.PeerMAC
	} else {
		switch low.Kind {
		case KindGRE, KindIPIP, KindSIT, KindIP6Tnl, KindIP6GRE:
			return bad("lower device %q is not an Ethernet device", dc.Link)
		}
		if low.Master != "" {
			return bad("lower device %q is a port of bridge %s (its rx_handler is taken)", dc.Link, low.Master)
		}
	}
	if lowMTU == 0 {
		lowMTU = 1500
	}
	if dc.MTU > lowMTU {
		return bad("mtu %d above its lower device's %d", dc.MTU, lowMTU)
	}
	if mode == mvPassthru && dc.MAC != ([6]byte{}) {
		return bad("a passthru macvlan takes its lower device's address")
	}
	if dc.MAC != ([6]byte{}) && dc.MAC == lowMAC {
		return bad("address %s is the lower device's", macString(dc.MAC))
	}
	for k := range devs {
		o := &devs[k]
		if k == i || o.Kind != KindMacvlan {
			continue
		}
		if oj, opeer := macvlanLower(devs, k); oj != j || opeer != peer {
			continue
		}
		m, _ := parseMacvlanMode(o.Mode)
		switch {
		case mode == mvPassthru || m == mvPassthru:
			return bad("a passthru macvlan is the only macvlan of %s (%s is another)", dc.Link, o.Name)
		case dc.MAC != ([6]byte{}) && o.MAC == dc.MAC:
			return bad("address %s is macvlan %s's", macString(dc.MAC), o.Name)
		}
	}
	return nil
}

// DeviceConfigError is what is wrong with Config.Devices[Index]. It
// matches ErrConfig.
type DeviceConfigError struct {
	Index int
	Name  string
	Why   string
}

func (e *DeviceConfigError) Error() string {
	return fmt.Sprintf("netstack: device %d (%s): %s", e.Index, e.Name, e.Why)
}

// Unwrap returns ErrConfig.
func (e *DeviceConfigError) Unwrap() error { return ErrConfig }

// buildMacvlans checks every macvlan of the configuration (CheckMacvlan)
// and links it to its lower device: the port (struct macvlan_port) the
// first macvlan creates, the MTU and the address a passthru macvlan
// inherits, and the features that follow the lower device's.
func (s *Stack) buildMacvlans() error {
	c := s.cfg
	for i := range c.Devices {
		if err := CheckMacvlan(c.Devices, i); err != nil {
			return err
		}
	}
	for i := range c.Devices {
		dc := &c.Devices[i]
		if dc.Kind != KindMacvlan {
			continue
		}
		d := s.Netns(dc.Netns).dev(dc.Name)
		j, peer := macvlanLower(c.Devices, i)
		lc := &c.Devices[j]
		name, ns := lc.Name, lc.Netns
		if peer {
			name, ns = lc.Peer, firstNonEmpty(lc.PeerNetns, lc.Netns)
		}
		low := s.Netns(nsName(ns)).dev(name)
		d.mvMode, _ = parseMacvlanMode(dc.Mode)
		if dc.MTU == 0 {
			d.mtu = low.mtu
		}
		if low.mvPort == nil {
			low.mvPort = &macvlanPort{}
		}
		port := low.mvPort
		if d.mvMode == mvPassthru {
			d.mac = low.mac
			port.passthru = true
		} else if d.mac == low.mac {
			// A configured address equal to a generated one.
			return cfgErr("device %d (%s): address %s is the lower device's", i, dc.Name, macString(d.mac))
		}
		d.lower = low
		if dc.TxFragList == "" {
			// macvlan_fix_features: NETIF_F_FRAGLIST, one of
			// MACVLAN_FEATURES, as the lower device has it.
			d.fragList = low.fragList
		}
		d.gro = false // no NAPI: a macvlan receives through its lower device's path
		port.vlans = append(port.vlans, d)
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
