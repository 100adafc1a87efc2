package netstack

import (
	"fmt"
	"slices"

	"github.com/skbsim/skbsim/skb"
)

// bpf_redirect_map flags for device maps (v5.13).
const (
	// FlagBroadcast is BPF_F_BROADCAST: every entry of the map gets the
	// frame (a clone for all but the last).
	FlagBroadcast uint64 = 1 << 3
	// FlagExcludeIngress is BPF_F_EXCLUDE_INGRESS: with FlagBroadcast, not
	// the device the frame came from.
	FlagExcludeIngress uint64 = 1 << 4
)

// devmap is a BPF_MAP_TYPE_DEVMAP(_HASH) of one stack: its entries in key
// order.
type devmap struct {
	name    string
	entries []devEntry
}

// devEntry models struct bpf_dtab_netdev: the device, and the index of its
// BPF_XDP_DEVMAP program (-1 for none).
type devEntry struct {
	key  uint32
	dev  *Device
	prog int
}

func (m *devmap) lookup(key uint32) *devEntry {
	i, ok := slices.BinarySearchFunc(m.entries, key, func(e devEntry, k uint32) int { return int(e.key) - int(k) })
	if !ok {
		return nil
	}
	return &m.entries[i]
}

// buildDevmaps instantiates the configuration's device maps once the
// devices exist; their programs are resolved by linkDevmaps.
func (s *Stack) buildDevmaps() error {
	for i := range s.cfg.Devmaps {
		mc := &s.cfg.Devmaps[i]
		if mc.Name == "" {
			return cfgErr("devmap %d: empty name", i)
		}
		if s.devmapIndex(mc.Name) >= 0 || s.cpumapIndex(mc.Name) >= 0 {
			return cfgErr("map %q declared twice", mc.Name)
		}
		m := &devmap{name: mc.Name}
		for j, ec := range mc.Entries {
			if ec.Key < 0 || ec.Key > 1<<32-1 {
				return cfgErr("devmap %s entry %d: key %d", mc.Name, j, ec.Key)
			}
			n := s.Netns(ec.Netns)
			if n == nil {
				return cfgErr("devmap %s entry %d: unknown namespace %q", mc.Name, j, ec.Netns)
			}
			d := n.dev(ec.Dev)
			if d == nil {
				return cfgErr("devmap %s entry %d: unknown device %q in %s", mc.Name, j, ec.Dev, n.name)
			}
			if m.lookup(uint32(ec.Key)) != nil {
				return cfgErr("devmap %s: key %d twice", mc.Name, ec.Key)
			}
			m.entries = append(m.entries, devEntry{key: uint32(ec.Key), dev: d, prog: -1})
			slices.SortFunc(m.entries, func(a, b devEntry) int { return int(a.key) - int(b.key) })
		}
		s.devmaps = append(s.devmaps, m)
	}
	return nil
}

// linkDevmaps resolves the entries' programs: xdp programs loaded for
// device maps (ProgramConfig.Devmap), which need v5.8.
func (s *Stack) linkDevmaps() error {
	for i, m := range s.devmaps {
		for _, ec := range s.cfg.Devmaps[i].Entries {
			if ec.Program == "" {
				continue
			}
			pi, err := s.mapEntryProgram(fmt.Sprintf("devmap %s key %d", m.name, ec.Key), ec.Program,
				s.prof.DevmapProg, "devmap", "v5.8", "device maps (BPF_XDP_DEVMAP)", func(p *ProgramConfig) bool { return p.Devmap })
			if err != nil {
				return err
			}
			m.lookup(uint32(ec.Key)).prog = pi
		}
	}
	return nil
}

func (s *Stack) devmapIndex(name string) int {
	return slices.IndexFunc(s.devmaps, func(m *devmap) bool { return m.name == name })
}

// devmapAt returns device map i, or nil.
func (s *Stack) devmapAt(i int) *devmap {
	if i < 0 || i >= len(s.devmaps) {
		return nil
	}
	return s.devmaps[i]
}

// devmapValid models is_valid_dst / xdp_ok_fwd_dev for a frame of length
// n (from the mac header) to entry e: the device is up and the frame fits
// its MTU.
func devmapValid(e *devEntry, n int) bool {
	return e.dev.up && n <= e.dev.mtu+ethHlen+skb.VlanHlen
}

// devmapRedirect models xdp_do_redirect into a device map for skb b's
// frame (data at the mac header, meta bytes of metadata in front) that d's
// XDP program redirected. The frame leaves its skb first (an skb b, not
// an XDP frame: veth_xdp_get and consume_skb, skb.Buff.ToFrame). Unicast
// (dev_map_enqueue): the entry's device, which must be up and fit the
// frame (-ENETDOWN, -EMSGSIZE: the driver drops it). Broadcast
// (dev_map_enqueue_multi, FlagBroadcast): every valid entry in key order
// but the ingress device with FlagExcludeIngress, each but the last a copy
// of the frame in a page of its own (xdpf_clone, metadata included; a
// multi-buffer frame cannot be copied: -ENOMEM drops it), none freeing it.
// Each frame then goes through the entry's program and out of its device
// (devmapXmit). Takes ownership of b.
func (s *Stack) devmapRedirect(b *skb.Buff, d *Device, meta int, ri redirectInfo) {
	m := s.devmaps[ri.devmap-1]
	if !b.XDPFrame() {
		if len(s.tpConsum) != 0 {
			s.runTracepoint(s.tpConsum, b, skb.SkbConsumed) // consume_skb(skb)
		}
		b = b.ToFrame()
		b.MetadataSet(meta)
	}
	s.traceOp(LayerXDP, OpDevmapXmit, b)
	if ri.flags&FlagBroadcast == 0 {
		e := m.lookup(uint32(ri.ifindex))
		if e == nil || !devmapValid(e, b.Len()) || !e.dev.ndoXDPXmit() {
			b.NapiFree()
			s.dropNoSkb(d, skb.DropXDP, OpDevmapXmit)
			return
		}
		s.devmapXmit(b, d, e, meta)
		return
	}
	var buf [8]*devEntry
	ts := m.broadcastTargets(buf[:0], d, b.Len(), ri.flags, true)
	if len(ts) == 0 {
		b.NapiFree() // xdp_return_frame_rx_napi: no destination
		s.dropNoSkb(d, skb.DropXDP, OpDevmapXmit)
		return
	}
	for _, e := range ts[:len(ts)-1] {
		c := s.frameClone(b, meta)
		if c == nil {
			b.NapiFree()
			s.dropNoSkb(d, skb.DropNomem, OpDevmapXmit)
			return
		}
		s.devmapXmit(c, d, e, meta)
	}
	s.devmapXmit(b, d, ts[len(ts)-1], meta)
}

// broadcastTargets appends to ts the entries a broadcast from d of a
// frame of n bytes reaches, in key order, without those FlagExcludeIngress
// excludes (excludedIfindex). A native frame goes to valid destinations
// only (dev_map_enqueue_multi's is_valid_dst: up, ndo_xdp_xmit, the MTU);
// a generic skb goes to every entry, which dev_map_redirect_multi checks
// only when it sends there (devmapGenericRedirect).
func (m *devmap) broadcastTargets(ts []*devEntry, d *Device, n int, flags uint64, native bool) []*devEntry {
	for i := range m.entries {
		e := &m.entries[i]
		if (!native || devmapValid(e, n) && e.dev.ndoXDPXmit()) && (flags&FlagExcludeIngress == 0 || !excludedIfindex(d, e.dev.ifindex)) {
			ts = append(ts, e)
		}
	}
	return ts
}

// excludedIfindex models is_ifindex_excluded over the ifindexes
// BPF_F_EXCLUDE_INGRESS excludes: the ingress device's and those of its
// direct upper devices (get_upper_ifindexes: a bridge it is a port of, the
// macvlans on it). The kernel compares ifindexes alone, so an entry in
// another namespace with one of these numbers is excluded too.
func excludedIfindex(d *Device, ifindex int32) bool {
	if ifindex == d.ifindex || d.master != nil && ifindex == d.master.ifindex {
		return true
	}
	if p := d.mvPort; p != nil {
		for _, v := range p.vlans {
			if v.ifindex == ifindex {
				return true
			}
		}
	}
	return false
}

// frameClone models xdpf_clone: a new page (napi_build_skb-sized in the
// model) holding a copy of frame b's headroom, metadata and data; nil for a
// multi-buffer frame or when the allocation fails.
func (s *Stack) frameClone(b *skb.Buff, meta int) *skb.Buff {
	if b.IsNonlinear() {
		return nil
	}
	hr := b.Headroom()
	size := max(xdpFrameMin, (hr+b.Len()+skb.SizeofSharedInfo+63)&^63)
	c, err := s.a.BuildXDPBuff(size)
	if err != nil {
		return nil
	}
	c.Reserve(hr)
	c.PutData(b.Data())
	copy(c.Head()[hr-meta:hr], b.Head()[hr-meta:hr])
	c.MetadataSet(meta)
	c.ResetMacHeader()
	return c
}

// devmapXmit models bq_xmit_all for frame b (no skb state) to entry e:
// the entry's BPF_XDP_DEVMAP program (dev_map_bpf_prog_run: ingress_ifindex
// the device the frame came from, egress_ifindex e's, the metadata in
// view; only XDP_PASS keeps the frame), then ndo_xdp_xmit: a veth hands
// the frame to its peer (vethXDPXmit), another device transmits it.
// Takes ownership of b.
func (s *Stack) devmapXmit(b *skb.Buff, from *Device, e *devEntry, meta int) {
	if e.prog >= 0 {
		b.ResetMacHeader()
		b.MetadataSet(meta)
		s.xdpEgress = e.dev.ifindex
		act, m, _ := s.runXDPProg(e.prog, b, from, false, xdpRxNone, meta)
		s.xdpEgress = 0
		if act != XDPPass {
			b.NapiFree() // xdp_return_frame_rx_napi
			s.dropNoSkb(from, skb.DropXDP, OpDevmapXmit)
			return
		}
		meta = m
	}
	if e.dev.kid == kidVeth {
		s.vethXDPXmit(b, e.dev, meta, false)
		return
	}
	setDev(b, e.dev)
	s.consume(b, DeliverXmit, e.dev.cfg)
}

// devmapGenericRedirect models xdp_do_generic_redirect into a device map
// for skb b (data at the mac header) from generic XDP on d: unicast
// (dev_map_generic_redirect) or, with FlagBroadcast, every entry but those
// FlagExcludeIngress excludes (dev_map_redirect_multi: an skb_clone for
// all but the last; none: consume_skb). An entry that is down or too small
// fails the redirect (the caller's drop: reason at loc); in a broadcast
// the entries before it have had their clones, the later ones get nothing.
// Takes ownership of b.
func (s *Stack) devmapGenericRedirect(b *skb.Buff, d *Device, ri redirectInfo, reason skb.DropReason, loc Op) {
	m := s.devmaps[ri.devmap-1]
	if ri.flags&FlagBroadcast == 0 {
		e := m.lookup(uint32(ri.ifindex))
		if e == nil || !devmapValid(e, b.Len()) {
			s.drop(b, reason, loc)
			return
		}
		s.devmapGenericXmit(b, e)
		return
	}
	var buf [8]*devEntry
	ts := m.broadcastTargets(buf[:0], d, b.Len(), ri.flags, false)
	if len(ts) == 0 {
		s.consumeSkb(b)
		return
	}
	for _, e := range ts[:len(ts)-1] {
		c, err := b.Clone()
		if err != nil {
			s.drop(b, reason, loc)
			return
		}
		// dev_map_redirect_clone: a destination that is down or too
		// small fails dev_map_generic_redirect; the clone is consumed and
		// the whole redirect fails, so later entries get nothing.
		if !devmapValid(e, c.Len()) {
			s.consumeSkb(c)
			s.drop(b, reason, loc)
			return
		}
		s.devmapGenericXmit(c, e)
	}
	if e := ts[len(ts)-1]; !devmapValid(e, b.Len()) {
		s.drop(b, reason, loc)
	} else {
		s.devmapGenericXmit(b, e)
	}
}

// devmapGenericXmit models dev_map_generic_redirect's transmit of skb b
// (data at the mac header) to entry e: the entry's program in generic mode
// (dev_map_bpf_prog_run_skb; anything but XDP_PASS is kfree_skb), then
// skb->dev = the entry's device and generic_xdp_tx. Takes ownership of b.
func (s *Stack) devmapGenericXmit(b *skb.Buff, e *devEntry) {
	if e.prog >= 0 {
		// __skb_pull(skb, skb->mac_len), then bpf_prog_run_generic_xdp
		// pushes it back: the program sees the frame from the mac header.
		from := s.devOf(b)
		macLen := b.MacLen()
		s.xdpEgress = e.dev.ifindex
		act, _ := s.runXDPGeneric(e.prog, b, from, macLen)
		s.xdpEgress = 0
		if act != XDPPass {
			s.drop(b, skb.DropNotSpecified, OpDevmapXmit)
			return
		}
		b.Push(macLen) // __skb_push(skb, skb->mac_len)
	}
	setDev(b, e.dev)
	s.traceOp(LayerXDP, OpDevmapXmit, b)
	s.devXmitRaw(b, e.dev)
}
