package netstack

import (
	"fmt"

	"github.com/skbsim/skbsim/skb"
)

// maxFDB bounds a bridge's learned addresses in the model.
const maxFDB = 256

// fdbLearn models br_fdb_update(): a known address moves to the port the
// frame came in on unless its entry is sticky (BR_FDB_STICKY; a static
// entry without it roams like a learned one); a new one is learned.
func (br *Device) fdbLearn(mac [6]byte, port *Device) {
	if isMulticastMAC(mac[:]) {
		return
	}
	if i := br.fdbIdx.find(mac); i >= 0 {
		if e := &br.fdb[i]; !e.sticky {
			e.port = port
		}
		return
	}
	if len(br.fdb) < maxFDB {
		br.fdbAdd(fdbEntry{mac: mac, port: port})
	}
}

// fdbFind models br_fdb_find_rcu: the port of mac's entry, or nil.
func (br *Device) fdbFind(mac [6]byte) *Device {
	if i := br.fdbIdx.find(mac); i >= 0 {
		return br.fdb[i].port
	}
	return nil
}

// fdbAdd appends e, whose address the database does not hold, and indexes
// it.
func (br *Device) fdbAdd(e fdbEntry) {
	br.fdbIdx.insert(e.mac, len(br.fdb))
	br.fdb = append(br.fdb, e)
}

// fdbIndex finds a bridge's FDB entries by address (the kernel's fdb
// rhashtable): an open-addressing table with linear probing of
// 2*maxFDB slots, allocated at the first insert. Entries are never
// removed (the model does not age them).
type fdbIndex struct {
	slots []fdbSlot
}

type fdbSlot struct {
	key uint64 // the address's bytes, big-endian
	idx int32  // index in the fdb + 1 (0: a free slot)
}

const fdbIndexBits = 9 // 1<<fdbIndexBits >= 2*maxFDB

func fdbKey(mac [6]byte) uint64 {
	return uint64(mac[0])<<40 | uint64(mac[1])<<32 | uint64(mac[2])<<24 | uint64(mac[3])<<16 | uint64(mac[4])<<8 | uint64(mac[5])
}

func fdbHome(key uint64) int { return int((key * 0x9e3779b97f4a7c15) >> (64 - fdbIndexBits)) }

// find returns the fdb index of mac's entry, or -1.
func (t *fdbIndex) find(mac [6]byte) int {
	if t.slots == nil {
		return -1
	}
	key := fdbKey(mac)
	mask := len(t.slots) - 1
	for i := fdbHome(key); ; i = (i + 1) & mask {
		sl := &t.slots[i]
		if sl.idx == 0 || sl.key == key {
			return int(sl.idx) - 1
		}
	}
}

func (t *fdbIndex) insert(mac [6]byte, idx int) {
	if t.slots == nil {
		t.slots = make([]fdbSlot, 1<<fdbIndexBits)
	}
	if idx >= len(t.slots)-1 {
		panic("netstack: fdb index over its bound")
	}
	key := fdbKey(mac)
	mask := len(t.slots) - 1
	i := fdbHome(key)
	for t.slots[i].idx != 0 {
		i = (i + 1) & mask
	}
	t.slots[i] = fdbSlot{key: key, idx: int32(idx) + 1}
}

// brHandleFrame models br_handle_frame -> br_handle_frame_finish on a port
// (data after the Ethernet header): the source is learned; a frame for the
// bridge's own address goes up the bridge device (br_pass_frame_up:
// skb->dev = bridge, netif_receive_skb); a known unicast destination is
// forwarded to its port (__br_forward); broadcast and multicast are flooded
// to the other ports (deliver_clone: skb_clone for each but the last) and
// passed up; an unknown unicast is flooded. Takes ownership of skb.
func (s *Stack) brHandleFrame(b *skb.Buff, port *Device) {
	br := port.master
	mac := b.Head()[b.MacHeader() : b.MacHeader()+ethHlen]
	dst, src := [6]byte(mac[0:6]), [6]byte(mac[6:12])
	br.fdbLearn(src, port)
	s.traceOp(LayerBridge, OpBridgeRx, b)
	if !br.up {
		s.drop(b, skb.DropDevReady, OpBridgeRx)
		return
	}
	if dst == br.mac {
		s.brPassFrameUp(b, br)
		return
	}
	local := isMulticastMAC(dst[:])
	if !local {
		if to := br.fdbFind(dst); to != nil {
			if to == port {
				s.drop(b, skb.DropNotSpecified, OpBridgeForward)
				return
			}
			s.brForward(b, to)
			return
		}
	}
	s.brFlood(b, br, port, local)
	if local {
		s.brPassFrameUp(b, br)
	}
}

// brPassFrameUp models br_pass_frame_up: skb->dev = the bridge,
// netif_receive_skb (the bridge's own rx path).
func (s *Stack) brPassFrameUp(b *skb.Buff, br *Device) {
	setDev(b, br)
	if [6]byte(b.Head()[b.MacHeader():b.MacHeader()+6]) == br.mac {
		b.H().PktType = skb.PacketHost
	}
	s.netifReceive(b)
}

// brFlood models br_flood: every port but the source gets a clone
// (deliver_clone), the last one the skb itself unless it also goes up
// (local_rcv). Takes ownership of skb unless keep is true.
func (s *Stack) brFlood(b *skb.Buff, br, from *Device, keep bool) {
	var prev *Device
	for _, p := range br.ports {
		if p == from || !p.up {
			continue
		}
		if prev != nil {
			if n, err := b.Clone(); err == nil {
				s.brForward(n, prev)
			}
		}
		prev = p
	}
	switch {
	case prev == nil:
		if !keep {
			s.drop(b, skb.DropNotSpecified, OpBridgeForward)
		}
	case keep:
		if n, err := b.Clone(); err == nil {
			s.brForward(n, prev)
		}
	default:
		s.brForward(b, prev)
	}
}

// brForward models __br_forward -> br_forward_finish ->
// br_dev_queue_push_xmit: skb->dev = the port, skb_clear_tstamp,
// skb_push(ETH_HLEN), dev_queue_xmit. Takes ownership of skb.
func (s *Stack) brForward(b *skb.Buff, to *Device) {
	setDev(b, to)
	b.ClearTstamp()
	b.Push(-b.MacOffset())
	s.traceOp(LayerBridge, OpBridgeForward, b)
	s.devQueueXmit(b, to)
}

// brDevXmit models br_dev_xmit (the bridge device transmitting a locally
// generated frame, data at the mac header): the destination's port from
// the FDB, or a flood to every port.
func (s *Stack) brDevXmit(b *skb.Buff, br *Device) {
	mac := b.Data()
	if len(mac) < ethHlen {
		s.drop(b, skb.DropPktTooSmall, OpBridgeForward)
		return
	}
	b.Pull(ethHlen)
	dst := [6]byte(mac[0:6])
	if !isMulticastMAC(dst[:]) {
		if to := br.fdbFind(dst); to != nil {
			s.brForward(b, to)
			return
		}
	}
	s.brFlood(b, br, nil, false)
}

func macString(m [6]byte) string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])
}
