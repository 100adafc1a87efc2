package kernel

import (
	"net"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// attachXDPIn attaches prog to device dev of ns as its XDP program, in
// generic (skb) or native (driver) mode. The caller owns the link.
func attachXDPIn(ns *Netns, dev string, prog *ebpf.Program, generic bool) (l link.Link, err error) {
	err = ns.Do(func() error {
		iface, err := net.InterfaceByName(dev)
		if err != nil {
			return err
		}
		flags := link.XDPDriverMode
		if generic {
			flags = link.XDPGenericMode
		}
		l, err = link.AttachXDP(link.XDPOptions{Program: prog, Interface: iface.Index, Flags: flags})
		return err
	})
	return l, err
}

// attachTCXIn attaches prog at tcx ingress or egress (at) of device dev of
// ns. The caller owns the link.
func attachTCXIn(ns *Netns, dev string, prog *ebpf.Program, at ebpf.AttachType) (l link.Link, err error) {
	err = ns.Do(func() error {
		iface, err := net.InterfaceByName(dev)
		if err != nil {
			return err
		}
		l, err = link.AttachTCX(link.TCXOptions{Interface: iface.Index, Program: prog, Attach: at})
		return err
	})
	return l, err
}
