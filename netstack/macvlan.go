package netstack

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"

	"github.com/skbsim/skbsim/skb"
)

// macvlanMode is enum macvlan_mode.
type macvlanMode uint8

const (
	mvBridge macvlanMode = iota
	mvPrivate
	mvVEPA
	mvPassthru
	mvSource
)

// bit is the mode's MACVLAN_MODE_* flag, which macvlan_broadcast tests
// against the set of modes a broadcast reaches.
func (m macvlanMode) bit() uint8 { return 1 << m }

// mvAllModes is the set of modes macvlan_multicast_rx floods a frame from
// an external address to (source-mode macvlans are not in it).
const mvAllModes = 1<<mvPrivate | 1<<mvVEPA | 1<<mvPassthru | 1<<mvBridge

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
	case MacvlanSource:
		return mvSource, true
	}
	return 0, false
}

// macvlanPort is struct macvlan_port: the macvlans of one lower device,
// in creation order (port->vlans; passthru takes the first).
type macvlanPort struct {
	vlans    []*Device
	passthru bool
	// hashed is vlans in macvlan_broadcast's order: by vlan_hash bucket
	// (macvlanEthHash of the address), newest first within a bucket
	// (hlist_add_head_rcu).
	hashed []*Device
	// sources are the source-mode macvlans' addresses
	// (vlan_source_hash), newest first as hlist_add_head_rcu leaves a
	// bucket.
	sources []macvlanSourceEntry
}

// macvlanSourceEntry is struct macvlan_source_entry: an address of a
// source-mode macvlan's list.
type macvlanSourceEntry struct {
	mac [6]byte
	v   *Device
}

// macvlanEthHash models macvlan_eth_hash on a little-endian machine: the
// six address bytes read as the top 48 bits of a u64, hash_64 to
// MACVLAN_HASH_BITS (8).
func macvlanEthHash(mac [6]byte) uint8 {
	var v uint64
	for i, b := range mac {
		v |= uint64(b) << (16 + 8*i)
	}
	return uint8(v * 0x61c8864680b583eb >> 56) // hash_64: GOLDEN_RATIO_64, top 8 bits
}

// macvlanBcItem is an skb on a port's broadcast queue (port->bc_queue)
// with its source macvlan (MACVLAN_SKB_CB(skb)->src, nil for an external
// address).
type macvlanBcItem struct {
	b        *skb.Buff
	low, src *Device
	pkt      uint64
}

// macvlanBcQueueLen is MACVLAN_DEFAULT_BC_QUEUE_LEN, the default
// bc_queue_len_used.
const macvlanBcQueueLen = 1000

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
		if dc.Link != "" || (dc.Mode != "" && dc.Kind != KindNetkit) || len(dc.SourceMACs) != 0 || dc.NoDst {
			return bad("link, mode, source_macs and nodst are for macvlan devices (and mode for netkit)")
		}
		return nil
	}
	mode, ok := parseMacvlanMode(dc.Mode)
	if !ok {
		return bad("mode %q (want bridge, private, vepa, passthru or source)", dc.Mode)
	}
	if dc.Link == "" {
		return bad("a macvlan needs its lower device (link)")
	}
	if len(dc.SourceMACs) != 0 && mode != mvSource {
		return bad("source_macs are for a source-mode macvlan")
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
		d.mvNoDst = dc.NoDst
		port.vlans = append(port.vlans, d)
		for _, m := range dc.SourceMACs {
			// macvlan_hash_add_source: an address already listed for
			// this macvlan is not added twice.
			if !slices.Contains(port.sources, macvlanSourceEntry{m, d}) {
				port.sources = slices.Insert(port.sources, 0, macvlanSourceEntry{m, d})
			}
		}
	}
	for _, d := range s.devs {
		if p := d.mvPort; p != nil {
			p.hashed = slices.Clone(p.vlans)
			slices.Reverse(p.hashed)
			slices.SortStableFunc(p.hashed, func(x, y *Device) int {
				return cmp.Compare(macvlanEthHash(x.mac), macvlanEthHash(y.mac))
			})
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
// Broadcast and multicast frames: see macvlanMulticastFrame. *pb is the
// skb (replaced by a clone when it was shared; nil when consumed).
func (s *Stack) macvlanHandleFrame(pb **skb.Buff, low *Device) rxHandlerResult {
	b := *pb
	h := b.H()
	if h.PktType == skb.PacketLoopback {
		return rxHandlerPass
	}
	mac := b.Head()[b.MacHeader() : b.MacHeader()+ethHlen]
	port := low.mvPort
	if len(port.sources) != 0 && s.macvlanForwardSource(b, port, [6]byte(mac[0:6]), [6]byte(mac[6:12])) {
		s.drop(b, skb.DropNotSpecified, OpMacvlanRx) // a nodst entry: kfree_skb, RX_HANDLER_CONSUMED
		*pb = nil
		return rxHandlerConsumed
	}
	if isMulticastMAC(mac[0:6]) {
		return s.macvlanMulticastFrame(pb, low, [6]byte(mac[0:6]), [6]byte(mac[6:12]))
	}
	var v *Device
	if port.passthru {
		v = port.vlans[0]
	} else {
		v = port.lookup([6]byte(mac[0:6]))
	}
	if v == nil || v.mvMode == mvSource {
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

// macvlanForwardSource models macvlan_forward_source, which
// macvlan_handle_frame runs first (for a multicast frame after
// ip_check_defrag, not modelled): every up source-mode macvlan whose list
// holds the frame's source address gets a clone, moved to it
// (PACKET_HOST when the destination is its address, else the lower
// device's pkt_type) and queued with __netif_rx. It reports whether one
// of them has MACVLAN_FLAG_NODST, so that the frame itself is freed.
func (s *Stack) macvlanForwardSource(b *skb.Buff, port *macvlanPort, dst, src [6]byte) bool {
	consume := false
	for _, e := range port.sources {
		if e.mac != src || !e.v.up {
			continue
		}
		if e.v.mvNoDst {
			consume = true
		}
		n, err := b.Clone()
		if err != nil {
			continue // macvlan_forward_source_one: nothing on a failed clone
		}
		setDev(n, e.v)
		if dst == e.v.mac {
			n.H().PktType = skb.PacketHost
		}
		s.traceOp(LayerDev, OpMacvlanRx, n)
		s.netifRx(n)
	}
	return consume
}

// macvlanMulticastFrame is macvlan_handle_frame for a broadcast or
// multicast frame. A frame whose source is a private or passthru macvlan
// of the port (a switch reflected it) goes back to that macvlan alone
// (macvlan_broadcast_one without local: skb->dev, PACKET_BROADCAST or
// MULTICAST; __netif_rx) and the lower device never sees it. Otherwise a
// broadcast frame is in the port's bc_filter (bc_cutoff 1, the default),
// so a clone goes on the broadcast queue (macvlan_broadcast_enqueue, which
// stores the source macvlan in cb[0..7], outside the BPF cb[] words), and
// the frame passes to the lower device. The model keeps no multicast
// group memberships: the filters hold the broadcast address only, so
// other multicast frames pass to the lower device alone (a group joined
// on a macvlan, IPv6's all-nodes one included, is not modelled).
// ip_check_defrag (IPv4 fragments reassembled before the fan-out) is not
// modelled either.
func (s *Stack) macvlanMulticastFrame(pb **skb.Buff, low *Device, dst, srcMAC [6]byte) rxHandlerResult {
	b := *pb
	port := low.mvPort
	src := port.lookup(srcMAC)
	if src != nil && src.mvMode != mvVEPA && src.mvMode != mvBridge {
		s.macvlanBroadcastOne(b, src, dst)
		s.traceOp(LayerDev, OpMacvlanRx, b)
		s.netifRx(b)
		*pb = nil
		return rxHandlerConsumed
	}
	if dst == broadcastMAC {
		s.macvlanBroadcastEnqueue(b, low, src)
	}
	return rxHandlerPass
}

// macvlanBroadcastOne models macvlan_broadcast_one without local: the
// skb moves to the macvlan, PACKET_BROADCAST or PACKET_MULTICAST by its
// destination, with no scrub.
func (s *Stack) macvlanBroadcastOne(b *skb.Buff, v *Device, dst [6]byte) {
	setDev(b, v)
	if dst == broadcastMAC {
		b.H().PktType = skb.PacketBroadcast
	} else {
		b.H().PktType = skb.PacketMulticast
	}
}

// macvlanBroadcastEnqueue models macvlan_broadcast_enqueue: a clone, its
// cb[0..7] holding the source macvlan (the model writes its ifindex, 0
// for an external address, where the kernel writes the pointer), is
// queued for the port's work unless the queue holds bc_queue_len_used
// (1000) skbs; a failed clone or a full queue counts rx_dropped.
func (s *Stack) macvlanBroadcastEnqueue(b *skb.Buff, low, src *Device) {
	n, err := b.Clone()
	if err != nil {
		s.dropNoSkb(low, skb.DropNomem, OpMacvlanRx)
		return
	}
	var id uint64
	if src != nil {
		id = uint64(src.ifindex)
	}
	binary.LittleEndian.PutUint64(n.H().CB[0:8], id)
	if len(s.mvBcQ) >= macvlanBcQueueLen {
		s.drop(n, skb.DropNotSpecified, OpMacvlanRx) // free_nskb: kfree_skb
		return
	}
	s.mvBcQ = append(s.mvBcQ, macvlanBcItem{b: n, low: low, src: src, pkt: s.cur})
}

// macvlanProcessBroadcast models the port work macvlan_process_broadcast,
// which runs after the packets that queued skbs (the model runs it when
// the backlog is empty): each queued skb is flooded by
// macvlan_multicast_rx (from an external address to every macvlan; from
// a VEPA macvlan to the other VEPA and bridge ones; from a bridge one to
// the VEPA ones, the bridge ones having had it on transmit) and consumed.
func (s *Stack) macvlanProcessBroadcast() {
	saved := s.cur
	q := s.mvBcQ // the flood queues nothing: netif_rx only
	for i, it := range q {
		q[i] = macvlanBcItem{}
		s.cur = it.pkt
		modes := uint8(mvAllModes)
		switch {
		case it.src == nil:
		case it.src.mvMode == mvVEPA:
			modes = mvVEPA.bit() | mvBridge.bit()
		default:
			modes = mvVEPA.bit()
		}
		s.macvlanBroadcast(it.b, it.low.mvPort, it.src, modes, false)
		s.consumeSkb(it.b)
	}
	s.mvBcQ = q[:0]
	s.cur = saved
}

// macvlanBroadcast models macvlan_broadcast: every up macvlan of port in
// one of modes but src gets a clone of skb (a PAUSE frame none), in
// vlan_hash order; with local (a bridge-mode macvlan's transmit) the
// clone goes through __dev_forward_skb onto the macvlan (a scrub with
// xnet against src's namespace, priority 0, eth_type_trans), otherwise
// macvlan_broadcast_one moves it; then netif_rx. skb stays the caller's.
func (s *Stack) macvlanBroadcast(b *skb.Buff, port *macvlanPort, src *Device, modes uint8, local bool) {
	if b.H().Protocol == ethPPause {
		return
	}
	var dst [6]byte
	copy(dst[:], b.Head()[b.MacHeader():])
	for _, v := range port.hashed {
		if v == src || !v.up || v.mvMode.bit()&modes == 0 {
			continue
		}
		n, err := b.Clone()
		if err != nil {
			s.dropNoSkb(v, skb.DropNomem, OpMacvlanRx)
			continue
		}
		if local {
			if !s.devForwardSkb(n, v) {
				continue
			}
			if !s.ethTypeTrans(n, v) {
				s.drop(n, skb.DropPktTooSmall, OpMacvlanXmit)
				continue
			}
		} else {
			s.macvlanBroadcastOne(n, v, dst)
		}
		s.traceOp(LayerDev, OpMacvlanRx, n)
		s.netifRx(n)
	}
}

// macvlanXmit models macvlan_start_xmit -> macvlan_queue_xmit for macvlan
// d. In bridge mode, a unicast frame for another bridge-mode macvlan of
// the same lower device is handed to the lower device's receive path
// (dev_forward_skb: a scrub with xnet when the two are in different
// namespaces, priority 0, eth_type_trans on the lower device, netif_rx),
// whose rx_handler then delivers it. Every other frame goes out of the
// lower device: skb->dev = lower device and dev_queue_xmit, with no scrub
// although the lower device may be in another namespace (its tc egress
// sees the macvlan side's mark and tstamp). A bridge-mode macvlan's
// broadcast or multicast frame first gives every other bridge-mode
// macvlan a clone (macvlanBroadcast with local), then goes out too.
// Takes ownership of skb.
func (s *Stack) macvlanXmit(b *skb.Buff, d *Device) {
	low := d.lower
	s.traceOp(LayerDev, OpMacvlanXmit, b)
	if d.mvMode == mvBridge {
		dst := [6]byte(b.Data()[0:6])
		if isMulticastMAC(dst[:]) {
			// Straight to the other bridge-mode macvlans, then out.
			s.macvlanBroadcast(b, low.mvPort, d, mvBridge.bit(), true)
		} else {
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
