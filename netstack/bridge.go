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
	for i := range br.fdb {
		if br.fdb[i].mac == mac {
			if !br.fdb[i].sticky {
				br.fdb[i].port = port
			}
			return
		}
	}
	if len(br.fdb) < maxFDB {
		br.fdb = append(br.fdb, fdbEntry{mac: mac, port: port})
	}
}

func (br *Device) fdbFind(mac [6]byte) *Device {
	for i := range br.fdb {
		if br.fdb[i].mac == mac {
			return br.fdb[i].port
		}
	}
	return nil
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
