package kernel

import (
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/skbsim/skbsim/kernel/bpf"
)

// MetaProbeLen is how many bytes of XDP metadata a MetaProbe's XDP
// program writes (0xa0 + i) and its tracepoint program reads back.
const MetaProbeLen = 8

// MetaSeen is what a MetaProbe's kfree_skb program saw on one device:
// how many skbs were freed there and, for the first, skb_shinfo's
// meta_len, the MetaProbeLen bytes before the mac header and the drop
// reason (the kernel's enum skb_drop_reason value; DropReasonName names
// it).
type MetaSeen struct {
	Count   uint64
	MetaLen uint32
	Reason  uint32
	Meta    [MetaProbeLen]byte
}

// MetaProbe pairs an XDP program that writes metadata with a
// tp_btf/kfree_skb program that reads a freed skb's metadata through BTF
// (skb->head, skb->end, skb->mac_header), as a tracing program of the
// xdp-meta design would, and with tc programs that write a packet byte in
// place and read data - data_meta after it. Device names are global to the probe. Close
// releases the programs, links and map; the probe owns nothing else.
type MetaProbe struct {
	objs  bpf.MetaProbeObjects
	links []link.Link
}

// NewMetaProbe loads the probe and attaches its tracepoint program; frags
// loads the XDP program with BPF_F_XDP_HAS_FRAGS (a multi-buffer
// program). Errors for a kernel without tp_btf match ErrNotSupported.
func NewMetaProbe(frags bool) (*MetaProbe, error) {
	spec, err := bpf.LoadMetaProbe()
	if err != nil {
		return nil, wrap("metadata probe: spec", err)
	}
	if frags {
		spec.Programs[bpf.MetaProbeProgMetaXdp].Flags |= unix.BPF_F_XDP_HAS_FRAGS
	}
	p := &MetaProbe{}
	if err := spec.LoadAndAssign(&p.objs, nil); err != nil {
		return nil, wrap("metadata probe: load", err)
	}
	l, err := link.AttachTracing(link.TracingOptions{Program: p.objs.MetaFree})
	if err != nil {
		p.Close()
		return nil, wrap("metadata probe: attach kfree_skb", err)
	}
	p.links = append(p.links, l)
	return p, nil
}

// AttachXDP attaches the XDP program to dev in ns, in generic (skb) or
// native (driver) mode.
func (p *MetaProbe) AttachXDP(ns *Netns, dev string, generic bool) error {
	return p.attachXDP(p.objs.MetaXdp, ns, dev, generic)
}

// AttachXDPHead attaches, as AttachXDP, the program that writes the
// metadata and then calls bpf_xdp_adjust_head(ctx, delta), keeping the
// Ethernet header at the new frame start (an XDP decap for a positive
// delta).
func (p *MetaProbe) AttachXDPHead(ns *Netns, dev string, generic bool, delta int32) error {
	if err := p.objs.XdpHeadDelta.Put(uint32(0), delta); err != nil {
		return wrap("metadata probe: adjust_head delta", err)
	}
	return p.attachXDP(p.objs.MetaXdpHead, ns, dev, generic)
}

// AttachXDPTail attaches, as AttachXDP, the program that writes the
// metadata and then, on the first frame, calls bpf_xdp_adjust_tail(ctx,
// delta) (XDPTailRet reads its return).
func (p *MetaProbe) AttachXDPTail(ns *Netns, dev string, generic bool, delta int32) error {
	if err := p.objs.XdpHeadDelta.Put(uint32(0), delta); err != nil {
		return wrap("metadata probe: adjust_tail delta", err)
	}
	return p.attachXDP(p.objs.MetaXdpTail, ns, dev, generic)
}

// XDPTailRet returns bpf_xdp_adjust_tail's return in the program
// AttachXDPTail attached, and whether it ran.
func (p *MetaProbe) XDPTailRet() (ret int32, ran bool, err error) {
	var r, v int32
	if err := p.objs.XdpTailRet.Lookup(uint32(0), &r); err != nil {
		return 0, false, wrap("metadata probe: read adjust_tail", err)
	}
	if err := p.objs.XdpTailRet.Lookup(uint32(1), &v); err != nil {
		return 0, false, wrap("metadata probe: read adjust_tail", err)
	}
	return v, r != 0, nil
}

func (p *MetaProbe) attachXDP(prog *ebpf.Program, ns *Netns, dev string, generic bool) error {
	l, err := attachXDPIn(ns, dev, prog, generic)
	if err != nil {
		return wrap("metadata probe: attach xdp", err)
	}
	p.links = append(p.links, l)
	return nil
}

// AttachTC attaches, at tc ingress of dev in ns, the in-place packet
// write (when touch) and after it the program that records data -
// data_meta (TCMetaLen).
func (p *MetaProbe) AttachTC(ns *Netns, dev string, touch bool) error {
	progs := []*ebpf.Program{p.objs.TcMetalen}
	if touch {
		progs = []*ebpf.Program{p.objs.TcTouch, p.objs.TcMetalen}
	}
	for _, prog := range progs {
		l, err := attachTCXIn(ns, dev, prog, ebpf.AttachTCXIngress)
		if err != nil {
			return wrap("metadata probe: attach tc", err)
		}
		p.links = append(p.links, l)
	}
	return nil
}

// VLAN helper calls for AttachTCVlan.
const (
	VlanPushQ     = 1  // bpf_skb_vlan_push(skb, 802.1Q, 100)
	VlanPushAD    = 2  // bpf_skb_vlan_push(skb, 802.1ad, 200)
	VlanPop       = 3  // bpf_skb_vlan_pop(skb)
	ChangeHead    = 4  // bpf_skb_change_head(skb, 14, 0)
	RoomNetGrow   = 5  // bpf_skb_adjust_room(skb, 8, BPF_ADJ_ROOM_NET, 0)
	RoomNetShrink = 6  // bpf_skb_adjust_room(skb, -8, BPF_ADJ_ROOM_NET, 0)
	RoomMacIPIP   = 7  // bpf_skb_adjust_room(skb, 20, BPF_ADJ_ROOM_MAC, BPF_F_ADJ_ROOM_ENCAP_L3_IPV4)
	ProtoToV6     = 8  // bpf_skb_change_proto(skb, ETH_P_IPV6, 0)
	TailGrow      = 9  // bpf_skb_change_tail(skb, skb->len + 8, 0)
	TailShrink    = 10 // bpf_skb_change_tail(skb, skb->len - 8, 0)
	TailGrowBig   = 11 // bpf_skb_change_tail(skb, skb->len + 8000, 0)
	TailSame      = 12 // bpf_skb_change_tail(skb, skb->len, 0)
	RoomMacIP6    = 13 // bpf_skb_adjust_room(skb, 40, MAC, ENCAP_L3_IPV6)
	RoomMacGRE    = 14 // bpf_skb_adjust_room(skb, 24, MAC, ENCAP_L3_IPV4 | ENCAP_L4_GRE)
	RoomMacUDP    = 15 // bpf_skb_adjust_room(skb, 28, MAC, ENCAP_L3_IPV4 | ENCAP_L4_UDP)
	RoomMacVXLAN  = 16 // bpf_skb_adjust_room(skb, 50, MAC, ENCAP_L3_IPV4 | ENCAP_L4_UDP | ENCAP_L2(14) | ENCAP_L2_ETH)
	RoomMacDecap4 = 17 // bpf_skb_adjust_room(skb, -20, MAC, DECAP_L3_IPV4)
	RoomBadL4     = 18 // bpf_skb_adjust_room(skb, 8, MAC, ENCAP_L4_GRE): no L3 flag
	ProtoToV4     = 19 // bpf_skb_change_proto(skb, ETH_P_IP, 0)
	RoomBadL3     = 20 // bpf_skb_adjust_room(skb, 20, MAC, ENCAP_L3_IPV4 | ENCAP_L3_IPV6)
)

// VlanSeen is what the tc program AttachTCVlan attached saw in the first
// packet after its helper calls.
type VlanSeen struct {
	Ran                                   bool
	Ret                                   [4]int32
	MetaLen                               uint32 // data - data_meta
	VlanPresent, VlanTCI, VlanProto, Prot uint32
	Meta                                  [MetaProbeLen]byte
	Frame                                 [48]byte
	Len                                   uint32 // skb->len
}

// AttachTCVlan attaches at tc ingress of dev in ns the program that calls
// the helpers ops lists (VlanPushQ ... ProtoToV6; up to 4) on
// the first packet and records it (TCVlan).
func (p *MetaProbe) AttachTCVlan(ns *Netns, dev string, ops []uint32) error {
	if len(ops) > 4 {
		return fmt.Errorf("metadata probe: %d VLAN helper calls, at most 4", len(ops))
	}
	for i, op := range ops {
		if err := p.objs.TcVlanOps.Put(uint32(i), op); err != nil {
			return wrap("metadata probe: VLAN ops", err)
		}
	}
	l, err := attachTCXIn(ns, dev, p.objs.TcVlan, ebpf.AttachTCXIngress)
	if err != nil {
		return wrap("metadata probe: attach tc", err)
	}
	p.links = append(p.links, l)
	return nil
}

// TCVlan returns what AttachTCVlan's program recorded.
func (p *MetaProbe) TCVlan() (VlanSeen, error) {
	var v bpf.MetaProbeVlanseen
	if err := p.objs.TcVlanSeen.Lookup(uint32(0), &v); err != nil {
		return VlanSeen{}, wrap("metadata probe: read tc VLAN", err)
	}
	return VlanSeen{Ran: v.Ran != 0, Ret: v.Ret, MetaLen: v.MetaLen, VlanPresent: v.VlanPresent, VlanTCI: v.VlanTci,
		VlanProto: v.VlanProto, Prot: v.Protocol, Meta: v.Meta, Frame: v.Frame, Len: v.Len}, nil
}

// TCMetaLen returns data - data_meta as the first packet showed it to the
// tc program AttachTC attached, and whether it ran.
func (p *MetaProbe) TCMetaLen() (n uint32, ran bool, err error) {
	var v uint32
	if err := p.objs.TcLens.Lookup(uint32(0), &v); err != nil {
		return 0, false, wrap("metadata probe: read tc", err)
	}
	if v == 0 {
		return 0, false, nil
	}
	return v - 1, true, nil
}

func metaDevKey(dev string) (bpf.MetaProbeMdevname, error) {
	k, err := devKey(dev)
	return bpf.MetaProbeMdevname{Name: k.Name}, err
}

// Watch starts recording on device dev (again from zero).
func (p *MetaProbe) Watch(dev string) error {
	k, err := metaDevKey(dev)
	if err != nil {
		return err
	}
	return wrap("metadata probe: watch "+dev, p.objs.Mdevs.Put(k, bpf.MetaProbeMetaseen{}))
}

// Unwatch stops recording on device dev (the probe watches at most four
// devices at a time).
func (p *MetaProbe) Unwatch(dev string) error {
	k, err := metaDevKey(dev)
	if err != nil {
		return err
	}
	return wrap("metadata probe: unwatch "+dev, p.objs.Mdevs.Delete(k))
}

// FilterTclass has the kfree_skb probe count only IPv6 packets of
// traffic class tc (0: every skb).
func (p *MetaProbe) FilterTclass(tc uint8) error {
	return wrap("metadata probe: filter", p.objs.Mfilter.Put(uint32(0), uint32(tc)))
}

// Seen returns what the probe saw on dev since Watch.
func (p *MetaProbe) Seen(dev string) (MetaSeen, error) {
	k, err := metaDevKey(dev)
	if err != nil {
		return MetaSeen{}, err
	}
	var v bpf.MetaProbeMetaseen
	if err := p.objs.Mdevs.Lookup(k, &v); err != nil {
		return MetaSeen{}, wrap("metadata probe: read "+dev, err)
	}
	return MetaSeen{Count: v.Count, MetaLen: v.MetaLen, Reason: v.Reason, Meta: v.Meta}, nil
}

// Close detaches and releases the probe.
func (p *MetaProbe) Close() error {
	err := closeProbe(p.links, &p.objs)
	p.links = nil
	return err
}

// DropReasonName names the value r of the running kernel's enum
// skb_drop_reason, as its BTF spells it ("SKB_DROP_REASON_IP_INNOROUTES").
func DropReasonName(r uint32) (string, error) {
	spec, err := btf.LoadKernelSpec()
	if err != nil {
		return "", wrap("drop reason names", err)
	}
	var e *btf.Enum
	if err := spec.TypeByName("skb_drop_reason", &e); err != nil {
		return "", wrap("drop reason names", err)
	}
	for _, v := range e.Values {
		if v.Value == uint64(r) {
			return v.Name, nil
		}
	}
	return "", fmt.Errorf("drop reason %d: not in the kernel's enum skb_drop_reason", r)
}
