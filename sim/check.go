package sim

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/netstack"
	"github.com/skbsim/skbsim/skb"
)

// errAt is a ParseError at p in the scenario's file.
func (s *Scenario) errAt(p Pos, format string, args ...any) error {
	return &ParseError{File: s.File, Line: p.Line, Column: p.Column, Msg: oneLine(fmt.Sprintf(format, args...))}
}

func at(ps []Pos, i int) Pos {
	if i < len(ps) {
		return ps[i]
	}
	return Pos{}
}

// devKey names a device in a namespace.
type devKey struct{ netns, name string }

// check resolves the scenario's cross references (namespaces, devices,
// bridges, routes, sockets, taps, programs' attach points, entries), so
// that mistakes are reported at their line rather than when the stack is
// built.
func (s *Scenario) check() error {
	prof, err := skb.ProfileByName(s.Kernel)
	if err != nil {
		return s.errAt(s.Src.Kernel, "kernel: unknown profile %q (known: %v)", s.Kernel, skb.ProfileNames())
	}
	c := &s.Stack
	ns := map[string]bool{netstack.HostNetns: true}
	hostSeen := false
	for i, n := range c.Namespaces {
		if n.Name == netstack.HostNetns && !hostSeen {
			hostSeen = true // declared to set its forwarding switch
			continue
		}
		if ns[n.Name] {
			return s.errAt(at(s.Src.Namespaces, i), "namespace %q declared twice", n.Name)
		}
		ns[n.Name] = true
	}
	devs := map[devKey]*netstack.DeviceConfig{}
	for name := range ns {
		devs[devKey{name, "lo"}] = &netstack.DeviceConfig{Name: "lo", Kind: netstack.KindLoopback}
	}
	addDev := func(netns, name string, p Pos, dev *netstack.DeviceConfig) error {
		if !ns[netns] {
			return s.errAt(p, "device %s: unknown namespace %q", name, netns)
		}
		k := devKey{netns, name}
		if devs[k] != nil {
			return s.errAt(p, "device %q declared twice in namespace %s", name, netns)
		}
		devs[k] = dev
		return nil
	}
	for i := range c.Devices {
		dv, p := &c.Devices[i], at(s.Src.Devices, i)
		if dv.Kind == netstack.KindLoopback {
			return s.errAt(p, "device %s: every namespace has its loopback device lo already", dv.Name)
		}
		if err := addDev(dv.Netns, dv.Name, p, dv); err != nil {
			return err
		}
		if dv.Kind == netstack.KindVeth || dv.Kind == netstack.KindNetkit {
			if err := addDev(dv.PeerNetns, dv.Peer, p, dv); err != nil {
				return err
			}
		}
		if why := netstack.NetkitConfigError(dv, &prof); why != "" {
			return s.errAt(p, "device %s: %s", dv.Name, why)
		}
		if why := netstack.CarrierConfigError(dv); why != "" {
			return s.errAt(p, "device %s: %s", dv.Name, why)
		}
		if why := netstack.BridgeConfigError(dv); why != "" {
			return s.errAt(p, "device %s: %s", dv.Name, why)
		}
		if why := netstack.BridgeVLANConfigError(dv); why != "" {
			return s.errAt(p, "device %s: %s", dv.Name, why)
		}
		if dv.LinkNetns != "" && !ns[dv.LinkNetns] {
			return s.errAt(p, "device %s: unknown link_netns %q", dv.Name, dv.LinkNetns)
		}
		if err := s.checkDevice(dv, p); err != nil {
			return err
		}
	}
	for i := range c.Devices {
		var de *netstack.DeviceConfigError
		if err := netstack.CheckMacvlan(c.Devices, i); errors.As(err, &de) {
			return s.errAt(at(s.Src.Devices, i), "device %s: %s", de.Name, de.Why)
		}
	}
	for i, dv := range c.Devices {
		if dv.Master == "" {
			continue
		}
		m := devs[devKey{dv.Netns, dv.Master}]
		if m == nil || m.Kind != netstack.KindBridge {
			return s.errAt(at(s.Src.Devices, i), "device %s: master %q is not a bridge in namespace %s", dv.Name, dv.Master, dv.Netns)
		}
	}
	hasDev := func(p Pos, what, netns, dev string) error {
		if !ns[netns] {
			return s.errAt(p, "%s: unknown namespace %q", what, netns)
		}
		if devs[devKey{netns, dev}] == nil {
			return s.errAt(p, "%s: no device %q in namespace %s", what, dev, netns)
		}
		return nil
	}
	for i, r := range c.Routes {
		if netstack.RejectRoute(r.Type) {
			continue // no device (the parser refused one)
		}
		if r.NHID != 0 {
			continue // netstack checks the object
		}
		if r.Nexthops != nil {
			for j, nh := range r.Nexthops {
				if err := hasDev(at(s.Src.Routes, i), fmt.Sprintf("route nexthop %d", j), r.Netns, nh.Dev); err != nil {
					return err
				}
			}
			continue
		}
		if err := hasDev(at(s.Src.Routes, i), "route", r.Netns, r.Dev); err != nil {
			return err
		}
	}
	for i, o := range c.NexthopObjects {
		if o.Dev != "" {
			if err := hasDev(at(s.Src.NexthopObjects, i), fmt.Sprintf("nexthop object %d", o.ID), o.Netns, o.Dev); err != nil {
				return err
			}
		}
	}
	for i, r := range c.Rules {
		for _, dev := range []string{r.IIF, r.OIF} {
			if dev == "" {
				if !ns[r.Netns] {
					return s.errAt(at(s.Src.Rules, i), "rule: unknown namespace %q", r.Netns)
				}
				continue
			}
			if err := hasDev(at(s.Src.Rules, i), "rule", r.Netns, dev); err != nil {
				return err
			}
		}
	}
	for i, nb := range c.Neighbours {
		if err := hasDev(at(s.Src.Neighbours, i), "neighbour", nb.Netns, nb.Dev); err != nil {
			return err
		}
	}
	for i, e := range s.Events {
		p := at(s.Src.Events, i)
		switch e.Op {
		case netstack.RouteAdd, netstack.RouteDel:
			r := &e.Route
			if !ns[r.Netns] {
				return s.errAt(p, "event: unknown namespace %q", r.Netns)
			}
			for j, nh := range r.Nexthops {
				if err := hasDev(p, fmt.Sprintf("event: route nexthop %d", j), r.Netns, nh.Dev); err != nil {
					return err
				}
			}
			if r.Dev != "" {
				if err := hasDev(p, "event: route", r.Netns, r.Dev); err != nil {
					return err
				}
			}
		case netstack.AddrAdd, netstack.AddrDel, netstack.MTU:
			if err := hasDev(p, "event", e.Netns, e.Dev); err != nil {
				return err
			}
		default:
			if err := hasDev(p, "event", e.Netns, e.Dev); err != nil {
				return err
			}
			kind := devs[devKey{e.Netns, e.Dev}].Kind
			if why := netstack.LinkEventError(kind, e.Op); why != "" {
				return s.errAt(p, "event: %s", why)
			}
		}
		if i > 0 && e.At < s.Events[i-1].At {
			return s.errAt(p, "event: at %d comes before the previous event's %d (list events in packet order)", e.At, s.Events[i-1].At)
		}
	}
	for i, f := range c.FDB {
		p := at(s.Src.FDB, i)
		if err := hasDev(p, "fdb entry", f.Netns, f.Dev); err != nil {
			return err
		}
		if dv := devs[devKey{f.Netns, f.Dev}]; dv.Master == "" || dv.Name != f.Dev {
			return s.errAt(p, "fdb entry: device %q is not a bridge port", f.Dev)
		}
	}
	socks := map[string]bool{}
	for i, so := range c.Sockets {
		p := at(s.Src.Sockets, i)
		if !ns[so.Netns] {
			return s.errAt(p, "socket %s: unknown namespace %q", so.Name, so.Netns)
		}
		if socks[so.Name] {
			return s.errAt(p, "socket %q declared twice", so.Name)
		}
		if err := s.checkConnect(&so, p); err != nil {
			return err
		}
		for _, j := range so.Join {
			if j.Dev != "" {
				if err := hasDev(p, "socket "+so.Name+": join", so.Netns, j.Dev); err != nil {
					return err
				}
				continue
			}
			// ip_mc_find_dev: the device of the route to the group.
			if !slices.ContainsFunc(c.Routes, func(r netstack.RouteConfig) bool {
				return r.Netns == so.Netns && (!r.Dst.IsValid() || r.Dst.Contains(j.Group))
			}) {
				return s.errAt(p, "socket %s: join %s: no route to the group picks a device (ENODEV); name one with dev", so.Name, j.Group)
			}
		}
		socks[so.Name] = true
	}
	for i, t := range c.Taps {
		p := at(s.Src.Taps, i)
		if t.Dev == "" {
			if !ns[t.Netns] {
				return s.errAt(p, "tap %s: unknown namespace %q", t.Name, t.Netns)
			}
		} else if err := hasDev(p, "tap "+t.Name, t.Netns, t.Dev); err != nil {
			return err
		}
	}
	progs := map[string]bool{}
	for i := range c.Programs {
		p, pp := &c.Programs[i], at(s.Src.Programs, i)
		if progs[p.Name] {
			return s.errAt(pp, "program %q declared twice", p.Name)
		}
		progs[p.Name] = true
		if err := s.checkProgram(p, pp, ns, hasDev, socks, prof); err != nil {
			return err
		}
		if p.DevBound {
			if err := s.checkDevBound(p, pp, devs[devKey{nsOr(p.Netns), p.Dev}], prof); err != nil {
				return err
			}
		}
	}
	if err := s.checkCpumaps(prof); err != nil {
		return err
	}
	if err := s.checkDevmaps(prof, hasDev); err != nil {
		return err
	}
	for _, e := range c.Entries {
		if e.Kind == netstack.EntryTX {
			if !socks[e.Socket] {
				return s.errAt(s.Src.Entry, "entry: unknown socket %q", e.Socket)
			}
			continue
		}
		if err := hasDev(s.Src.Entry, "entry", e.Netns, e.Dev); err != nil {
			return err
		}
		if e.AboveMTU != netstack.AboveMTUGROHW {
			continue
		}
		if dv := devs[devKey{e.Netns, e.Dev}]; dv.Kind != netstack.KindNIC && dv.Kind != netstack.KindVeth {
			return s.errAt(s.Src.Entry, "entry: above_mtu gro_hw on %s device %s: hardware GRO is a NIC's (or the GSO skb a veth's peer sends)", dv.Kind, e.Dev)
		} else if dv.Kind == netstack.KindNIC {
			for _, p := range c.Programs {
				if p.Hook == carrier.HookXDP && p.Dev == e.Dev && nsOr(p.Netns) == e.Netns && !p.Cpumap && !p.Devmap {
					return s.errAt(s.Src.Entry, "entry: above_mtu gro_hw on %s with XDP program %s: drivers refuse native XDP while hardware GRO or LRO is on, and generic XDP turns them off (dev_disable_gro_hw)", e.Dev, p.Name)
				}
			}
		}
	}
	return nil
}

func (s *Scenario) checkProgram(p *netstack.ProgramConfig, pp Pos, ns map[string]bool,
	hasDev func(Pos, string, string, string) error, socks map[string]bool, prof skb.Profile) error {
	what := "program " + p.Name
	if !ns[p.Netns] {
		return s.errAt(pp, "%s: unknown namespace %q", what, p.Netns)
	}
	if p.XDPFrags && !prof.XDPFrags {
		return s.errAt(pp, "%s: xdp_frags (BPF_F_XDP_HAS_FRAGS) needs kernel v5.18 or later, not %s", what, s.Kernel)
	}
	devHook := p.Hook == carrier.HookXDP || p.Hook.SchedCLS()
	switch {
	case p.Cpumap && p.Devmap:
		return s.errAt(pp, "%s: a program is loaded for cpumaps or for devmaps, not both", what)
	case p.Cpumap || p.Devmap:
		if p.Dev != "" {
			return s.errAt(pp, "%s: a cpumap or devmap program runs for map entries and attaches to no device", what)
		}
	case devHook:
		if p.Dev == "" {
			return s.errAt(pp, "%s: hook %s needs a dev", what, p.Hook)
		}
		if err := hasDev(pp, what, p.Netns, p.Dev); err != nil {
			return err
		}
	case p.Dev != "":
		return s.errAt(pp, "%s: hook %s does not attach to a device", what, p.Hook)
	}
	// tns is where the program's helpers find devices: dev_net(skb->dev),
	// for a netkit program the receiving end's namespace.
	tns := p.Netns
	if p.Hook.Netkit() {
		i := slices.IndexFunc(s.Stack.Devices, func(d netstack.DeviceConfig) bool {
			return d.Kind == netstack.KindNetkit && d.Name == p.Dev && d.Netns == p.Netns
		})
		if i < 0 {
			return s.errAt(pp, "%s: %s is not the primary of a netkit pair in namespace %s (netkit programs of both ends attach through the primary)",
				what, p.Dev, p.Netns)
		}
		if p.Hook == carrier.HookNetkitPrimary {
			tns = s.Stack.Devices[i].PeerNetns
		}
	}
	if p.Hook == carrier.HookSocketFilter {
		switch {
		case p.Tap != "" && p.Socket != "":
			return s.errAt(pp, "%s: a socket_filter program names a socket or a tap, not both", what)
		case p.Tap != "":
			if !slices.ContainsFunc(s.Stack.Taps, func(t netstack.TapConfig) bool { return t.Name == p.Tap }) {
				return s.errAt(pp, "%s: unknown tap %q", what, p.Tap)
			}
		case p.Socket == "":
			return s.errAt(pp, "%s: hook socket_filter needs a socket or a tap", what)
		case !socks[p.Socket]:
			return s.errAt(pp, "%s: unknown socket %q", what, p.Socket)
		}
	} else if p.Socket != "" {
		return s.errAt(pp, "%s: only a socket_filter program names a socket", what)
	}
	if p.Event != "" && p.Hook != carrier.HookTracepoint && p.Hook != carrier.HookLSM && p.Hook != carrier.HookSockOps {
		return s.errAt(pp, "%s: only tracepoint, lsm and sockops programs name an event", what)
	}
	switch {
	case p.Hook == carrier.HookTracepoint && p.Event == "":
		p.Event = netstack.EventKfreeSkb
	case p.Hook == carrier.HookLSM && p.Event == "":
		p.Event = netstack.EventInetConnEstablished
	}
	if p.Cgroup != "" && p.Hook != carrier.HookCgroupIngress && p.Hook != carrier.HookCgroupEgress && p.Hook != carrier.HookSockOps {
		return s.errAt(pp, "%s: only cgroup_ingress, cgroup_egress and sockops programs attach to a cgroup", what)
	}
	for j, a := range p.Actions {
		ap := pp
		if i := s.progIndex(p); i >= 0 && i < len(s.Src.Actions) {
			ap = at(s.Src.Actions[i], j)
		}
		if (p.Hook == carrier.HookSockOps || p.Hook == carrier.HookLSM) && !tcpHookAction(a.Kind) {
			// bpf_sock_ops and LSM programs have no __sk_buff to write and
			// no redirect or XDP helpers.
			return s.errAt(ap, "%s: %s is not available at hook %s (write, read, delete, count and pass are)", what, a.Kind, p.Hook)
		}
		if a.Kind == netstack.ActRedirectDevmap {
			if p.Hook != carrier.HookXDP {
				return s.errAt(ap, "%s: redirect_devmap (bpf_redirect_map into a device map) is for xdp programs", what)
			}
			if !slices.ContainsFunc(s.Stack.Devmaps, func(m netstack.DevmapConfig) bool { return m.Name == a.Target }) {
				return s.errAt(ap, "%s: redirect_devmap: unknown devmap %q", what, a.Target)
			}
			if a.Value&(netstack.FlagBroadcast|netstack.FlagExcludeIngress) != 0 && !prof.DevmapBroadcast {
				return s.errAt(ap, "%s: redirect_devmap: broadcast and exclude_ingress need kernel v5.13 or later, not %s", what, prof.Name)
			}
			continue
		}
		if (a.Kind == netstack.ActAdjustHead || a.Kind == netstack.ActAdjustTail) && p.Hook != carrier.HookXDP {
			return s.errAt(ap, "%s: %s (bpf_xdp_%s) is for xdp programs", what, a.Kind, a.Kind)
		}
		if a.Kind == netstack.ActRxMeta {
			k := netstack.RxMetaKfunc(a.Index)
			switch {
			case p.Hook != carrier.HookXDP:
				return s.errAt(ap, "%s: rx_meta (bpf_xdp_metadata_%s) is for xdp programs", what, k)
			case !p.DevBound:
				return s.errAt(ap, "%s: rx_meta: the verifier loads the XDP RX metadata kfuncs in device-bound programs only (set dev_bound: true)", what)
			case !prof.XDPRxMetadata || (k == netstack.RxMetaVlanTag && !prof.XDPRxVlanTag):
				return s.errAt(ap, "%s: rx_meta: bpf_xdp_metadata_%s needs kernel %s or later, not %s", what, k,
					map[bool]string{true: "v6.8", false: "v6.3"}[k == netstack.RxMetaVlanTag], prof.Name)
			}
		}
		tc := p.Hook.SchedCLS()
		switch a.Kind {
		case netstack.ActVlanPush, netstack.ActVlanPop, netstack.ActChangeHead, netstack.ActAdjustRoom, netstack.ActChangeProto, netstack.ActChangeType,
			netstack.ActChangeTail, netstack.ActSetTunnelKey, netstack.ActGetTunnelKey:
			if !tc {
				return s.errAt(ap, "%s: %s (bpf_skb_%s) is for tc programs", what, a.Kind, a.Kind)
			}
		case netstack.ActRedirectNeigh:
			if !tc {
				return s.errAt(ap, "%s: redirect_neigh (bpf_redirect_neigh) is for tc programs", what)
			}
		case netstack.ActFibForward:
			if !tc && p.Hook != carrier.HookXDP {
				return s.errAt(ap, "%s: fib_forward (bpf_fib_lookup) is for xdp and tc programs", what)
			}
			if a.Index == netstack.FibNoNeighRedirect && !tc {
				return s.errAt(ap, "%s: fib_forward: no_neigh: redirect_neigh (bpf_redirect_neigh) is for tc programs", what)
			}
		}
		if a.Kind == netstack.ActRedirectCPU {
			if p.Hook != carrier.HookXDP {
				return s.errAt(ap, "%s: redirect_cpu (bpf_redirect_map into a cpumap) is for xdp programs", what)
			}
			if !slices.ContainsFunc(s.Stack.Cpumaps, func(m netstack.CpumapConfig) bool { return m.Name == a.Target }) {
				return s.errAt(ap, "%s: redirect_cpu: unknown cpumap %q", what, a.Target)
			}
			continue
		}
		if a.Target == "" {
			continue
		}
		if err := hasDev(ap, what+": "+a.Kind.String(), tns, a.Target); err != nil {
			return err
		}
	}
	return nil
}

// checkDevBound checks a dev_bound program (BPF_F_XDP_DEV_BOUND_ONLY):
// v6.3, an xdp program on a device, and that device running XDP in native
// mode (dev_xdp_attach refuses a device-bound program in generic mode).
// dv is the device's entry (for a veth peer, its pair's).
func (s *Scenario) checkDevBound(p *netstack.ProgramConfig, pp Pos, dv *netstack.DeviceConfig, prof skb.Profile) error {
	what := "program " + p.Name
	switch {
	case !prof.XDPRxMetadata:
		return s.errAt(pp, "%s: dev_bound (BPF_F_XDP_DEV_BOUND_ONLY) needs kernel v6.3 or later, not %s", what, prof.Name)
	case p.Cpumap || p.Devmap || p.Dev == "" || dv == nil:
		return s.errAt(pp, "%s: dev_bound is for an xdp program attached to a device, not to cpumap or devmap entries (bpf_prog_map_compatible)", what)
	}
	kind, mode := dv.Kind, dv.XDP
	if dv.Name != p.Dev {
		mode = dv.PeerXDP
	}
	if (kind != netstack.KindNIC && kind != netstack.KindVeth) || mode == "generic" {
		return s.errAt(pp, "%s: a device-bound program attaches in native XDP mode only, and %s runs XDP in generic mode", what, p.Dev)
	}
	return nil
}

// checkCpumaps checks the cpumaps' names and their entries' programs.
func (s *Scenario) checkCpumaps(prof skb.Profile) error {
	seen := map[string]bool{}
	for i, m := range s.Stack.Cpumaps {
		p := at(s.Src.Cpumaps, i)
		if seen[m.Name] {
			return s.errAt(p, "cpumap %q declared twice", m.Name)
		}
		seen[m.Name] = true
		for _, e := range m.Entries {
			if e.Program == "" {
				continue
			}
			what := fmt.Sprintf("cpumap %s cpu %d", m.Name, e.CPU)
			if err := s.checkEntryProgram(p, what, e.Program, prof.CpumapProg, prof.Name, "cpumap", "v5.9",
				func(pc *netstack.ProgramConfig) bool { return pc.Cpumap }); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkEntryProgram checks the program a cpumap or devmap entry (what, at
// p) names: the kernel (profile name) must allow entry programs of the
// kind (allowed, from release since), and the program must exist and be
// loaded for the kind (loadedFor: the program's "kind: true", its
// expected_attach_type).
func (s *Scenario) checkEntryProgram(p Pos, what, name string, allowed bool, profile, kind, since string,
	loadedFor func(*netstack.ProgramConfig) bool) error {
	if !allowed {
		return s.errAt(p, "%s: a %s program needs kernel %s or later, not %s", what, kind, since, profile)
	}
	j := slices.IndexFunc(s.Stack.Programs, func(pc netstack.ProgramConfig) bool { return pc.Name == name })
	switch {
	case j < 0:
		return s.errAt(p, "%s: unknown program %q", what, name)
	case !loadedFor(&s.Stack.Programs[j]):
		return s.errAt(p, "%s: program %s needs %s: true (expected_attach_type BPF_XDP_%s)", what, name, kind, strings.ToUpper(kind))
	}
	return nil
}

// checkDevmaps checks the device maps' names, devices and programs.
func (s *Scenario) checkDevmaps(prof skb.Profile, hasDev func(Pos, string, string, string) error) error {
	seen := map[string]bool{}
	for _, m := range s.Stack.Cpumaps {
		seen[m.Name] = true
	}
	for i, m := range s.Stack.Devmaps {
		p := at(s.Src.Devmaps, i)
		if seen[m.Name] {
			return s.errAt(p, "map %q declared twice", m.Name)
		}
		seen[m.Name] = true
		for _, e := range m.Entries {
			if err := hasDev(p, fmt.Sprintf("devmap %s key %d", m.Name, e.Key), e.Netns, e.Dev); err != nil {
				return err
			}
			if e.Program == "" {
				continue
			}
			what := fmt.Sprintf("devmap %s key %d", m.Name, e.Key)
			if err := s.checkEntryProgram(p, what, e.Program, prof.DevmapProg, prof.Name, "devmap", "v5.8",
				func(pc *netstack.ProgramConfig) bool { return pc.Devmap }); err != nil {
				return err
			}
		}
	}
	return nil
}

// tcpHookAction reports whether a sockops or LSM program can run action k.
func tcpHookAction(k netstack.ActionKind) bool {
	switch k {
	case netstack.ActWrite, netstack.ActRead, netstack.ActDelete, netstack.ActCount, netstack.ActPass:
		return true
	}
	return false
}

func (s *Scenario) progIndex(p *netstack.ProgramConfig) int {
	for i := range s.Stack.Programs {
		if &s.Stack.Programs[i] == p {
			return i
		}
	}
	return -1
}

// checkDevice reports device settings the stack model cannot build, at
// their line.
func (s *Scenario) checkDevice(dv *netstack.DeviceConfig, p Pos) error {
	switch dv.Kind {
	case netstack.KindVXLAN, netstack.KindGeneve, netstack.KindGRE, netstack.KindGRETap, netstack.KindIPIP, netstack.KindSIT,
		netstack.KindIP6Tnl, netstack.KindIP6GRE, netstack.KindIP6GRETap:
		if dv.External {
			if why := netstack.ExternalConfigError(dv); why != "" {
				return s.errAt(p, "device %s: %s", dv.Name, why)
			}
			break
		}
		// ip_tunnel_lookup / ip6_tnl_lookup / vxlan_find_sock need the
		// endpoints, of the underlay's family: IPv4 for gre, gretap, ipip
		// and sit, IPv6 for ip6tnl, ip6gre and ip6gretap, either for vxlan
		// and geneve.
		want := "an IPv4"
		switch dv.Kind {
		case netstack.KindVXLAN, netstack.KindGeneve:
			want = "an IPv4 or IPv6"
		case netstack.KindIP6Tnl, netstack.KindIP6GRE, netstack.KindIP6GRETap:
			want = "an IPv6"
		}
		ok := dv.Remote.IsValid() && (!dv.Local.IsValid() || dv.Local.Is4() == dv.Remote.Is4())
		switch want {
		case "an IPv4":
			ok = ok && dv.Remote.Is4()
		case "an IPv6":
			ok = ok && dv.Remote.Is6()
		}
		if !ok {
			return s.errAt(p, "device %s: a %s tunnel needs %s remote (and a local of the same family, if given)", dv.Name, dv.Kind, want)
		}
	default:
		if dv.Remote.IsValid() || dv.Local.IsValid() || dv.VNI != 0 || dv.Port != 0 || dv.External {
			return s.errAt(p, "device %s: local, remote, vni, port and external are for tunnels", dv.Name)
		}
	}
	prof, _ := skb.ProfileByName(s.Kernel) // check verified the name
	groOn := func(gro string, kind string) bool { return gro == "on" || (gro == "" && kind != netstack.KindVeth) }
	for _, f := range []struct {
		list, fwd bool
		gro, side string
	}{{dv.GROList, dv.UDPGROForwarding, dv.GRO, ""}, {dv.PeerGROList, dv.PeerUDPGROForwarding, dv.PeerGRO, "peer_"}} {
		switch {
		case f.list && !prof.GROFraglist:
			return s.errAt(p, "device %s: %sgro_list (NETIF_F_GRO_FRAGLIST, rx-gro-list) needs kernel v5.6 or later, not %s", dv.Name, f.side, s.Kernel)
		case f.fwd && !prof.GROUDPFwd:
			return s.errAt(p, "device %s: %sudp_gro_forwarding (NETIF_F_GRO_UDP_FWD, rx-udp-gro-forwarding) needs kernel v5.12 or later, not %s", dv.Name, f.side, s.Kernel)
		case (f.list || f.fwd) && !groOn(f.gro, dv.Kind):
			return s.errAt(p, "device %s: %sgro_list and %sudp_gro_forwarding need %sgro on", dv.Name, f.side, f.side, f.side)
		}
	}
	if dv.XDP == "native" && dv.Kind != netstack.KindNIC && dv.Kind != netstack.KindVeth {
		return s.errAt(p, "device %s: native XDP is modelled on nic and veth devices only (use xdp: generic)", dv.Name)
	}
	if dv.RxVLANOffload == "on" && dv.Kind != netstack.KindNIC {
		return s.errAt(p, "device %s: rx_vlan_offload on a %s device (NICs only)", dv.Name, dv.Kind)
	}
	if dv.RxHwTstamp == "on" && dv.Kind != netstack.KindNIC {
		return s.errAt(p, "device %s: rx_hwtstamp on a %s device (NICs only)", dv.Name, dv.Kind)
	}
	if dv.XDPMetadataOps != "" && dv.Kind != netstack.KindNIC {
		return s.errAt(p, "device %s: xdp_metadata_ops on a %s device (NICs only; veth implements all three)", dv.Name, dv.Kind)
	}
	return nil
}

// checkConnect reports a connect on a socket that cannot be a connecting
// TCP socket, at its line.
func (s *Scenario) checkConnect(so *netstack.SocketConfig, p Pos) error {
	if !so.Connect.IsValid() {
		return nil
	}
	switch {
	case so.Proto != netstack.ProtoTCP:
		return s.errAt(p, "socket %s: connect is for tcp sockets", so.Name)
	case so.Port == 0:
		return s.errAt(p, "socket %s: a connecting socket needs its local port", so.Name)
	case so.TProxy:
		return s.errAt(p, "socket %s: a connecting socket is not a TPROXY listener", so.Name)
	case so.Addr.IsValid() && !so.Addr.IsUnspecified() && so.Addr.Is4() != so.Connect.Addr().Is4():
		return s.errAt(p, "socket %s: connect to %s from an address of another family", so.Name, so.Connect)
	}
	return nil
}
