package kernel

import (
	"errors"
	"fmt"
	"io"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/skbsim/skbsim/kernel/bpf"
)

// ExtBridgeNF is the active_extensions bit of SKB_EXT_BRIDGE_NF (enum
// skb_ext_id 0 on a kernel with CONFIG_BRIDGE_NETFILTER).
const ExtBridgeNF = 1 << 0

// ExtSeen is what an ExtProbe saw on one device: how many IPv4 skbs the
// kernel received on it (netif_receive_skb) and queued to it
// (net_dev_queue), the OR of their skb->active_extensions, and how many
// carried a VLAN tag (in vlan_tci, or, received, in the data: an 802.1Q or
// 802.1ad frame around IPv4).
type ExtSeen struct {
	Rx, Tx         uint64
	RxExt, TxExt   uint8
	RxVlan, TxVlan uint64
}

// ExtProbe watches the skb extensions of IPv4 packets on named devices,
// in every namespace, with tp_btf programs on the netif_receive_skb and
// net_dev_queue tracepoints. Device names are global to the probe, so
// callers use names no other test's topology uses. Close releases the
// programs, links and map; the probe owns nothing else.
type ExtProbe struct {
	objs  bpf.ExtProbeObjects
	links []link.Link
}

// NewExtProbe loads and attaches the probe. Errors for a kernel without
// tp_btf match ErrNotSupported.
func NewExtProbe() (*ExtProbe, error) {
	p := &ExtProbe{}
	if err := bpf.LoadExtProbeObjects(&p.objs, nil); err != nil {
		return nil, wrap("extension probe: load", err)
	}
	for _, prog := range []*ebpf.Program{p.objs.OnRx, p.objs.OnTx} {
		l, err := link.AttachTracing(link.TracingOptions{Program: prog})
		if err != nil {
			p.Close()
			return nil, wrap("extension probe: attach", err)
		}
		p.links = append(p.links, l)
	}
	return p, nil
}

func devKey(dev string) (bpf.ExtProbeDevname, error) {
	var k bpf.ExtProbeDevname
	if dev == "" || len(dev) >= len(k.Name) {
		return k, fmt.Errorf("extension probe: device name %q: want 1 to %d bytes", dev, len(k.Name)-1)
	}
	for i := range len(dev) {
		k.Name[i] = int8(dev[i])
	}
	return k, nil
}

// Watch starts counting on device dev (again from zero).
func (p *ExtProbe) Watch(dev string) error {
	k, err := devKey(dev)
	if err != nil {
		return err
	}
	return wrap("extension probe: watch "+dev, p.objs.Devs.Put(k, bpf.ExtProbeExtseen{}))
}

// Seen returns what the probe saw on dev since Watch.
func (p *ExtProbe) Seen(dev string) (ExtSeen, error) {
	k, err := devKey(dev)
	if err != nil {
		return ExtSeen{}, err
	}
	var v bpf.ExtProbeExtseen
	if err := p.objs.Devs.Lookup(k, &v); err != nil {
		return ExtSeen{}, wrap("extension probe: read "+dev, err)
	}
	return ExtSeen{Rx: v.Rx, Tx: v.Tx, RxExt: uint8(v.RxExt), TxExt: uint8(v.TxExt), RxVlan: v.RxVlan, TxVlan: v.TxVlan}, nil
}

// Close detaches and releases the probe.
func (p *ExtProbe) Close() error {
	err := closeProbe(p.links, &p.objs)
	p.links = nil
	return err
}

// closeProbe detaches a probe's links and closes its objects.
func closeProbe(links []link.Link, objs io.Closer) error {
	var errs []error
	for _, l := range links {
		errs = append(errs, l.Close())
	}
	errs = append(errs, objs.Close())
	return errors.Join(errs...)
}
