package kernel

import (
	"errors"
	"net"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/skbsim/skbsim/kernel/bpf"
)

// XDP RX metadata kfuncs a HintProbe's XDP program calls (a bit mask).
const (
	HintTimestamp = 1 // bpf_xdp_metadata_rx_timestamp
	HintHash      = 2 // bpf_xdp_metadata_rx_hash
	HintVlanTag   = 4 // bpf_xdp_metadata_rx_vlan_tag
)

// HintSeen is what a HintProbe's XDP program saw on one device: how many
// frames it ran on and, for the first, what each kfunc it called returned
// (0 or a negative errno) and gave.
type HintSeen struct {
	Runs               uint64
	TsRet              int32
	Ts                 uint64
	HashRet            int32
	Hash, RSS          uint32
	VlanRet            int32
	VlanProto, VlanTCI uint16
}

// TCSeen is what a HintProbe's tc ingress program saw in the first skb on
// one device: __sk_buff's hash and VLAN fields.
type TCSeen struct {
	Runs                                  uint64
	Hash, VlanPresent, VlanTCI, VlanProto uint32
}

// HintProbe holds an XDP program calling the XDP RX metadata kfuncs,
// loaded device-bound (BPF_F_XDP_DEV_BOUND_ONLY) or not, an XDP program
// that redirects every frame, a tc program recording the skb's hash and
// tag, and one pushing a VLAN tag. Close releases the programs, links and
// maps; the probe owns nothing else.
type HintProbe struct {
	objs  bpf.HintProbeObjects
	links []link.Link
}

// NewHintProbe loads the probe in ns. With bound, the kfunc program is
// bound to ns's device dev (prog_ifindex is resolved in the loading task's
// namespace); ops selects the kfuncs it calls (HintTimestamp | ...).
func NewHintProbe(ns *Netns, dev string, bound bool, ops uint32) (*HintProbe, error) {
	spec, err := bpf.LoadHintProbe()
	if err != nil {
		return nil, wrap("hint probe: spec", err)
	}
	p := &HintProbe{}
	err = ns.Do(func() error {
		if bound {
			iface, err := net.InterfaceByName(dev)
			if err != nil {
				return err
			}
			ps := spec.Programs[bpf.HintProbeProgXdpHints]
			ps.Flags |= unix.BPF_F_XDP_DEV_BOUND_ONLY
			ps.Ifindex = uint32(iface.Index)
		}
		return spec.LoadAndAssign(&p.objs, nil)
	})
	if err != nil {
		return nil, wrap("hint probe: load", err)
	}
	if err := p.objs.HintOps.Put(uint32(0), ops); err != nil {
		p.Close()
		return nil, wrap("hint probe: ops", err)
	}
	return p, nil
}

// AttachHints attaches the kfunc program to dev in ns, in generic (skb)
// or native (driver) mode.
func (p *HintProbe) AttachHints(ns *Netns, dev string, generic bool) error {
	return p.attachXDP(p.objs.XdpHints, ns, dev, generic)
}

// AttachRedirect attaches, in native mode, the program that redirects
// every frame of dev in ns to the device with ifindex to.
func (p *HintProbe) AttachRedirect(ns *Netns, dev string, to int) error {
	if err := p.objs.RedirTo.Put(uint32(0), uint32(to)); err != nil {
		return wrap("hint probe: redirect target", err)
	}
	return p.attachXDP(p.objs.XdpRedir, ns, dev, false)
}

func (p *HintProbe) attachXDP(prog *ebpf.Program, ns *Netns, dev string, generic bool) error {
	l, err := attachXDPIn(ns, dev, prog, generic)
	if err != nil {
		return wrap("hint probe: attach xdp", err)
	}
	p.links = append(p.links, l)
	return nil
}

// AttachTC attaches at dev in ns the program recording the skb's hash and
// tag (tc ingress) or, with push, the one pushing VLAN tag 100 into
// vlan_tci (tc egress).
func (p *HintProbe) AttachTC(ns *Netns, dev string, push bool) error {
	prog, at := p.objs.TcHash, ebpf.AttachTCXIngress
	if push {
		prog, at = p.objs.TcPush, ebpf.AttachTCXEgress
	}
	l, err := attachTCXIn(ns, dev, prog, at)
	if err != nil {
		return wrap("hint probe: attach tc", err)
	}
	p.links = append(p.links, l)
	return nil
}

// Hints returns what the kfunc program saw on the device with ifindex
// (zero before it ran there).
func (p *HintProbe) Hints(ifindex int) (HintSeen, error) {
	var v bpf.HintProbeHintseen
	if err := p.objs.Hints.Lookup(uint32(ifindex), &v); err != nil {
		if errors.Is(err, ebpf.ErrKeyNotExist) {
			return HintSeen{}, nil
		}
		return HintSeen{}, wrap("hint probe: read hints", err)
	}
	return HintSeen{Runs: v.Runs, TsRet: v.TsRet, Ts: v.Ts, HashRet: v.HashRet, Hash: v.Hash, RSS: v.Rss,
		VlanRet: v.VlanRet, VlanProto: v.VlanProto, VlanTCI: v.VlanTci}, nil
}

// TC returns what the tc ingress program saw on the device with ifindex.
func (p *HintProbe) TC(ifindex int) (TCSeen, error) {
	var v bpf.HintProbeTcseen
	if err := p.objs.Tcs.Lookup(uint32(ifindex), &v); err != nil {
		if errors.Is(err, ebpf.ErrKeyNotExist) {
			return TCSeen{}, nil
		}
		return TCSeen{}, wrap("hint probe: read tc", err)
	}
	return TCSeen{Runs: v.Runs, Hash: v.Hash, VlanPresent: v.VlanPresent, VlanTCI: v.VlanTci, VlanProto: v.VlanProto}, nil
}

// Close detaches and releases everything.
func (p *HintProbe) Close() error {
	var first error
	for _, l := range p.links {
		if err := l.Close(); err != nil && first == nil {
			first = err
		}
	}
	p.links = nil
	if err := p.objs.Close(); err != nil && first == nil {
		first = err
	}
	return first
}
