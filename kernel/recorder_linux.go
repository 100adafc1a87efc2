package kernel

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/skbsim/skbsim/kernel/bpf"
	"github.com/skbsim/skbsim/kernel/observe"
)

// Action bits and redirect kinds of recorder.c.
const (
	setMark       = 1 << 0
	setPriority   = 1 << 1
	setTCIndex    = 1 << 2
	setCB0        = 1 << 3
	setHash       = 1 << 8
	setTstamp     = 1 << 9
	setTstampMono = 1 << 10

	maxHooks = 32
)

var redirectCodes = map[observe.RedirectKind]uint32{
	observe.NoRedirect: 0, observe.RedirectEgress: 1, observe.RedirectIngr: 2,
	observe.RedirectPeer: 3, observe.CloneEgress: 4, observe.CloneIngress: 5, observe.XDPTx: 6,
	observe.RedirectCPU: 7, observe.RedirectNeigh: 8, observe.RedirectFib: 9,
	// act_mirred is a tc filter after the program, which returns TCX_NEXT.
	observe.MirredEgressRedirect: 0, observe.MirredIngressRedirect: 0,
	observe.MirredEgressMirror: 0, observe.MirredIngressMirror: 0,
}

var (
	recorderOnce sync.Once
	recorderSpec *ebpf.CollectionSpec
	recorderErr  error
)

func loadRecorderSpec() (*ebpf.CollectionSpec, error) {
	recorderOnce.Do(func() { recorderSpec, recorderErr = bpf.LoadRecorder() })
	return recorderSpec, recorderErr
}

// RecordOptions tunes RunTransition.
type RecordOptions struct {
	// Wait bounds how long to wait for every hook to see the packet
	// (default 500ms); hooks that legitimately never see it cost this.
	Wait time.Duration
}

// RunTransition builds t's topology, attaches a recorder at each of t's hooks
// (and at each action hook), sends the marked packet, and returns the
// normalised observations (observe.Normalize). Everything it created is
// removed before it returns.
func RunTransition(t observe.Transition, opts *RecordOptions) (m observe.Matrix, err error) {
	wait := 500 * time.Millisecond
	if opts != nil && opts.Wait > 0 {
		wait = opts.Wait
	}
	r, err := newRecording(t)
	if err != nil {
		return nil, fmt.Errorf("transition %s: %w", t.Name, err)
	}
	defer func() { err = errors.Join(err, r.Close()) }()
	if t.GRO != "" {
		if err := r.enableGRO(t.GRO); err != nil {
			return nil, fmt.Errorf("transition %s: %w", t.Name, err)
		}
	}
	if t.NoTunnelTSO != "" {
		ns, err := r.topo.nsOf(t.NoTunnelTSO)
		if err != nil {
			return nil, fmt.Errorf("transition %s: %w", t.Name, err)
		}
		if err := ns.clearFeatures(t.NoTunnelTSO, []string{"tx-udp_tnl-segmentation", "tx-udp_tnl-csum-segmentation"}); err != nil {
			return nil, fmt.Errorf("transition %s: %w", t.Name, err)
		}
	}
	if err := r.send(); err != nil {
		return nil, fmt.Errorf("transition %s: %w", t.Name, err)
	}
	r.wait(wait)
	m, err = r.matrix()
	if err != nil {
		return nil, fmt.Errorf("transition %s: %w", t.Name, err)
	}
	return observe.Normalize(m, t), nil
}

type recording struct {
	t       observe.Transition
	topo    *topology
	hooks   []observe.Hook
	recs    *ebpf.Map
	actions *ebpf.Map
	cpus    *ebpf.Map // the cpumap of RedirectCPU
	cpuProg bool      // cpus' entry has its program
	colls   []*ebpf.Collection
	links   []link.Link
	fds     []int
	cg      *Cgroup // of the receiving sockets (socket-level hooks)
	// senderInCgroup makes send create the sender's socket in cg (a
	// CgroupEgress hook).
	senderInCgroup bool
	rcv            map[*Netns]int // receiving socket on TestPort, by namespace
}

func (r *recording) Close() error {
	var errs []error
	for _, l := range r.links {
		errs = append(errs, l.Close())
	}
	for _, c := range r.colls {
		c.Close()
	}
	for _, fd := range r.fds {
		closeFD(fd)
	}
	if r.cg != nil {
		errs = append(errs, r.cg.Close())
	}
	for _, m := range []*ebpf.Map{r.recs, r.actions, r.cpus} {
		if m != nil {
			errs = append(errs, m.Close())
		}
	}
	if r.topo != nil {
		errs = append(errs, r.topo.Close())
	}
	return errors.Join(errs...)
}

func newRecording(t observe.Transition) (r *recording, err error) {
	spec, err := loadRecorderSpec()
	if err != nil {
		return nil, wrap("load recorder", err)
	}
	r = &recording{t: t}
	defer func() {
		if err != nil {
			r.Close()
			r = nil
		}
	}()
	seen := map[observe.Hook]bool{}
	for _, h := range t.Hooks {
		if !seen[h] {
			seen[h] = true
			r.hooks = append(r.hooks, h)
		}
	}
	for _, a := range t.Actions {
		if !seen[a.Hook] {
			seen[a.Hook] = true
			r.hooks = append(r.hooks, a.Hook)
		}
	}
	if len(r.hooks) > maxHooks {
		return r, fmt.Errorf("%d hooks, at most %d", len(r.hooks), maxHooks)
	}
	if r.recs, err = ebpf.NewMap(spec.Maps[bpf.RecorderMapRecs]); err != nil {
		return r, wrap("create recs map", err)
	}
	if r.actions, err = ebpf.NewMap(spec.Maps[bpf.RecorderMapActions]); err != nil {
		return r, wrap("create actions map", err)
	}
	if r.cpus, err = ebpf.NewMap(spec.Maps[bpf.RecorderMapCpus]); err != nil {
		return r, wrap("create cpumap", err)
	}
	if r.topo, err = buildTopology(t.Topology); err != nil {
		return r, err
	}
	for id, h := range r.hooks {
		if err := r.attach(spec, uint32(id), h); err != nil {
			return r, fmt.Errorf("hook %s: %w", h, err)
		}
	}
	if !r.cpuProg {
		// The entry without a program, for a transition that redirects
		// into it without recording there.
		if err := r.setCPUEntry(0); err != nil {
			return r, err
		}
	}
	return r, nil
}

// cpumapQSize is the queue size of the recorder's cpumap entry.
const cpumapQSize = 64

// setCPUEntry fills entry 0 of the cpumap with queue size cpumapQSize and
// the program fd (0: none): struct bpf_cpumap_val.
func (r *recording) setCPUEntry(progFD int) error {
	return wrap("fill cpumap entry", r.cpus.Put(uint32(0), [2]uint32{cpumapQSize, uint32(progFD)}))
}

// attach programs the hook's action and loads and attaches one recorder
// instance with hook_id = id, inside the device's namespace.
func (r *recording) attach(spec *ebpf.CollectionSpec, id uint32, h observe.Hook) error {
	ns, err := r.topo.nsOf(h.Dev)
	if err != nil {
		return err
	}
	a, hasAction := r.t.ActionAt(h)
	if hasAction {
		act, err := r.encodeAction(ns, a)
		if err != nil {
			return err
		}
		if err := r.actions.Put(id, act); err != nil {
			return wrap("program action", err)
		}
	}
	if la, ok := r.t.LaterAt(h); ok {
		if h.Point.IsXDP() || la.Redirect != observe.NoRedirect || la.MetaLen != 0 {
			return fmt.Errorf("action on later fragments at %s: writes at a tc hook only", h)
		}
		act, err := r.encodeAction(ns, la)
		if err != nil {
			return err
		}
		// actions[MAX_HOOKS + hook_id] (recorder.c match_later).
		if err := r.actions.Put(maxHooks+id, act); err != nil {
			return wrap("program later-fragment action", err)
		}
	}
	prog := bpf.RecorderProgRecordTc
	switch {
	case h.Point.IsXDP():
		prog = bpf.RecorderProgRecordXdp
	case h.Point == observe.CgroupEgress:
		if hasAction {
			for _, as := range a.Set {
				switch as.Field {
				case observe.FieldMark, observe.FieldPriority, observe.FieldCB0, observe.FieldCB1,
					observe.FieldCB2, observe.FieldCB3, observe.FieldCB4:
				default:
					return fmt.Errorf("%s: a cgroup_skb program writes mark, priority and cb[] only, not %s", h, as.Field)
				}
			}
			if a.Redirect != observe.NoRedirect || a.MetaLen != 0 {
				return fmt.Errorf("%s: writes only", h)
			}
		}
		if ns != r.topo.ns[r.topo.sender] {
			return fmt.Errorf("%s: not the sender's namespace", h)
		}
		prog = bpf.RecorderProgRecordCgEgress
	case h.Point == observe.TapFilter:
		if hasAction {
			return fmt.Errorf("no action can run at %s", h)
		}
		prog = bpf.RecorderProgRecordSf
	case h.Point.SocketLevel():
		if hasAction {
			return fmt.Errorf("no action can run at %s", h)
		}
		if r.t.GRO != "" && len(r.t.GROFeatures) == 0 {
			return fmt.Errorf("%s: the GRO socket already holds the test port", h)
		}
		prog = bpf.RecorderProgRecordCg
		if h.Point == observe.SocketFilter {
			prog = bpf.RecorderProgRecordSf
		}
	}
	s := spec.Copy()
	for name := range s.Programs {
		if name != prog {
			delete(s.Programs, name)
		}
	}
	if hasAction && a.Frags {
		s.Programs[prog].Flags |= unix.BPF_F_XDP_HAS_FRAGS
	}
	if h.Point == observe.XDPCpumap {
		s.Programs[prog].AttachType = ebpf.AttachXDPCPUMap
	}
	if err := s.Variables["hook_id"].Set(id); err != nil {
		return err
	}
	coll, err := ebpf.NewCollectionWithOptions(s, ebpf.CollectionOptions{
		MapReplacements: map[string]*ebpf.Map{bpf.RecorderMapRecs: r.recs, bpf.RecorderMapActions: r.actions,
			bpf.RecorderMapCpus: r.cpus},
	})
	if err != nil {
		return wrap("load recorder", err)
	}
	r.colls = append(r.colls, coll)
	if h.Point.SocketLevel() {
		if err := r.attachSocket(ns, h.Point, coll.Programs[prog]); err != nil {
			return err
		}
		return r.joinGroup(ns, h.Dev)
	}
	if h.Point == observe.TapFilter {
		return r.attachTap(ns, h.Dev, coll.Programs[prog])
	}
	if h.Point == observe.CgroupEgress {
		if err := r.ensureCgroup(); err != nil {
			return err
		}
		r.senderInCgroup = true
		l, err := link.AttachCgroup(link.CgroupOptions{Path: r.cg.Path, Attach: ebpf.AttachCGroupInetEgress, Program: coll.Programs[prog]})
		if err != nil {
			return wrap("attach cgroup egress recorder", err)
		}
		r.links = append(r.links, l)
		return nil
	}
	if h.Point == observe.XDPCpumap {
		if r.cpuProg {
			return fmt.Errorf("one cpumap program per transition")
		}
		r.cpuProg = true
		return r.setCPUEntry(coll.Programs[prog].FD())
	}
	if err := ns.Do(func() error {
		iface, err := net.InterfaceByName(h.Dev)
		if err != nil {
			return err
		}
		var l link.Link
		switch h.Point {
		case observe.TCIngress, observe.TCEgress:
			at := ebpf.AttachTCXIngress
			if h.Point == observe.TCEgress {
				at = ebpf.AttachTCXEgress
			}
			l, err = link.AttachTCX(link.TCXOptions{Interface: iface.Index, Program: coll.Programs[prog], Attach: at})
		case observe.XDP:
			flags := link.XDPDriverMode
			if hasAction && a.Generic {
				flags = link.XDPGenericMode
			}
			l, err = link.AttachXDP(link.XDPOptions{Interface: iface.Index, Program: coll.Programs[prog], Flags: flags})
		default:
			err = fmt.Errorf("unknown point %q", h.Point)
		}
		if err != nil {
			return wrap("attach", err)
		}
		r.links = append(r.links, l)
		return nil
	}); err != nil {
		return err
	}
	if hasAction && a.Redirect.Mirred() {
		return r.addMirred(ns, h, a)
	}
	return nil
}

// attachSocket attaches p at a socket-level point for ns's receiving
// socket: to the recording's cgroup's inet ingress hook (CgroupIngress) or
// to the socket itself (SocketFilter, SO_ATTACH_BPF).
func (r *recording) attachSocket(ns *Netns, pt observe.Point, p *ebpf.Program) error {
	fd, err := r.receiver(ns)
	if err != nil {
		return err
	}
	if pt == observe.SocketFilter {
		return wrap("attach socket filter recorder", unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ATTACH_BPF, p.FD()))
	}
	l, err := link.AttachCgroup(link.CgroupOptions{Path: r.cg.Path, Attach: ebpf.AttachCGroupInetIngress, Program: p})
	if err != nil {
		return wrap("attach cgroup recorder", err)
	}
	r.links = append(r.links, l)
	return nil
}

// joinGroup makes the receiving socket of ns join the transition's
// multicast group (Transition.Group) on dev, if it has one
// (IP_ADD_MEMBERSHIP; joining twice is EADDRINUSE, which is fine).
func (r *recording) joinGroup(ns *Netns, dev string) error {
	if r.t.Group == ([4]byte{}) {
		return nil
	}
	fd, err := r.receiver(ns)
	if err != nil {
		return err
	}
	return ns.Do(func() error {
		iface, err := net.InterfaceByName(dev)
		if err != nil {
			return err
		}
		err = unix.SetsockoptIPMreqn(fd, unix.IPPROTO_IP, unix.IP_ADD_MEMBERSHIP,
			&unix.IPMreqn{Multiaddr: r.t.Group, Ifindex: int32(iface.Index)})
		if errors.Is(err, unix.EADDRINUSE) {
			err = nil
		}
		return wrap("IP_ADD_MEMBERSHIP", err)
	})
}

// attachTap opens a packet socket (SOCK_RAW, ETH_P_ALL) bound to dev in
// ns, which it never reads, and attaches p to it as its filter.
func (r *recording) attachTap(ns *Netns, dev string, p *ebpf.Program) error {
	return ns.Do(func() error {
		iface, err := net.InterfaceByName(dev)
		if err != nil {
			return err
		}
		proto := htons(unix.ETH_P_ALL)
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, int(proto))
		if err != nil {
			return wrap("tap recorder socket", err)
		}
		r.fds = append(r.fds, fd)
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ATTACH_BPF, p.FD()); err != nil {
			return wrap("attach tap filter recorder", err)
		}
		return wrap("bind tap recorder", unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: proto, Ifindex: iface.Index}))
	})
}

// ensureCgroup makes the recording's cgroup on first use.
func (r *recording) ensureCgroup() error {
	if r.cg != nil {
		return nil
	}
	cg, err := NewCgroup()
	if err != nil {
		return err
	}
	r.cg = cg
	return nil
}

// receiver returns ns's receiving socket: a UDP socket bound to TestPort,
// created (once per namespace) from inside the recording's cgroup, made
// on first use, so cgroup programs attached there see what it receives.
func (r *recording) receiver(ns *Netns) (int, error) {
	if fd, ok := r.rcv[ns]; ok {
		return fd, nil
	}
	if err := r.ensureCgroup(); err != nil {
		return -1, err
	}
	leave, err := r.cg.Enter()
	if err != nil {
		return -1, err
	}
	fd := -1
	err = ns.Do(func() error {
		var err error
		if fd, err = unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0); err != nil {
			return err
		}
		r.fds = append(r.fds, fd)
		return unix.Bind(fd, &unix.SockaddrInet4{Port: observe.TestPort})
	})
	if lerr := leave(); err == nil {
		err = lerr
	}
	if err != nil {
		return -1, wrap("recorder receiving socket", err)
	}
	if r.rcv == nil {
		r.rcv = map[*Netns]int{}
	}
	r.rcv[ns] = fd
	return fd, nil
}

// addMirred adds the classic tc filter of an act_mirred action after the
// recorder at h: a clsact qdisc on the device and a filter that matches
// every packet, whose action is mirred toward the action's target. The
// filter is cls_bpf with the classic BPF program "ret #-1" (cls_matchall
// is not built into the project's kernels; cls_bpf in its non-direct-action
// mode runs the filter's actions for a match). The namespace goes away with
// the topology, and the qdisc with it.
func (r *recording) addMirred(ns *Netns, h observe.Hook, a observe.Action) error {
	dir, mode := "egress", "redirect"
	switch a.Redirect {
	case observe.MirredIngressRedirect:
		dir = "ingress"
	case observe.MirredEgressMirror:
		mode = "mirror"
	case observe.MirredIngressMirror:
		dir, mode = "ingress", "mirror"
	}
	at := "ingress"
	if h.Point == observe.TCEgress {
		at = "egress"
	}
	if err := ns.TC("qdisc", "add", "dev", h.Dev, "clsact"); err != nil {
		return err
	}
	return ns.TC("filter", "add", "dev", h.Dev, at, "bpf", "bytecode", "1,6 0 0 4294967295,",
		"action", "mirred", dir, mode, "dev", a.Target)
}

func (r *recording) encodeAction(ns *Netns, a observe.Action) (bpf.RecorderAction, error) {
	var act bpf.RecorderAction
	mono := false
	for _, s := range a.Set {
		if s.Field == observe.FieldTstampType {
			if s.Value != 1 {
				return act, fmt.Errorf("tstamp_type %d: only 1 (BPF_SKB_CLOCK_MONOTONIC) can be written", s.Value)
			}
			mono = true
		}
	}
	for _, s := range a.Set {
		v := uint32(s.Value)
		switch s.Field {
		case observe.FieldMark:
			act.Set |= setMark
			act.Mark = v
		case observe.FieldPriority:
			act.Set |= setPriority
			act.Priority = v
		case observe.FieldTCIndex:
			act.Set |= setTCIndex
			act.TcIndex = v
		case observe.FieldCB0, observe.FieldCB1, observe.FieldCB2, observe.FieldCB3, observe.FieldCB4:
			i := int(s.Field[2] - '0')
			act.Set |= setCB0 << i
			act.Cb[i] = v
		case observe.FieldHash:
			act.Set |= setHash
			act.Hash = v
		case observe.FieldTstamp:
			act.Set |= setTstamp
			if mono {
				act.Set |= setTstampMono
			}
			act.Tstamp = s.Value
		case observe.FieldTstampType:
		default:
			return act, fmt.Errorf("field %s cannot be written", s.Field)
		}
	}
	code, ok := redirectCodes[a.Redirect]
	if !ok {
		return act, fmt.Errorf("unknown redirect %q", a.Redirect)
	}
	act.Redirect = code
	if code != 0 && !a.Redirect.Targetless() {
		idx, err := ns.Ifindex(a.Target)
		if err != nil {
			return act, fmt.Errorf("redirect target %q: %w", a.Target, err)
		}
		act.Target = uint32(idx)
	}
	if a.MetaLen < 0 || a.MetaLen > 255 {
		return act, fmt.Errorf("meta length %d out of range", a.MetaLen)
	}
	act.MetaLen = uint32(a.MetaLen)
	if a.MetaSeq {
		if a.MetaLen == 0 {
			return act, fmt.Errorf("meta_seq without metadata")
		}
		act.MetaSeq = 1
	}
	return act, nil
}

// enableGRO switches GRO on for dev and then either the transition's GRO
// features or, without them, binds a UDP_GRO socket to TestPort in its
// namespace (udp4_gro_receive merges UDP for such sockets, or with
// rx-udp-gro-forwarding or rx-gro-list).
func (r *recording) enableGRO(dev string) error {
	ns, err := r.topo.nsOf(dev)
	if err != nil {
		return err
	}
	if err := ns.setGRO(dev, true); err != nil {
		return err
	}
	if len(r.t.GROFeatures) != 0 {
		return ns.setFeatures(dev, r.t.GROFeatures)
	}
	return ns.Do(func() error {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		r.fds = append(r.fds, fd)
		if err := unix.SetsockoptInt(fd, unix.SOL_UDP, unix.UDP_GRO, 1); err != nil {
			return fmt.Errorf("UDP_GRO: %w", err)
		}
		return unix.Bind(fd, &unix.SockaddrInet4{Port: observe.TestPort})
	})
}

// send transmits the marked datagram (t.PayloadLen() bytes of payload: 16,
// t.Payload zero bytes, or a GSO super-packet of t.Segments segments) from the sender namespace to the
// destination's TestPort.
func (r *recording) send() error {
	if r.t.SendEncap {
		return r.sendEncap()
	}
	ns := r.topo.ns[r.topo.sender]
	if r.senderInCgroup {
		leave, err := r.cg.Enter()
		if err != nil {
			return err
		}
		defer leave()
	}
	return ns.Do(func() error {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		sa := &unix.SockaddrInet4{Port: observe.TestPort}
		copy(sa.Addr[:], r.topo.dst.To4())
		if r.t.Multicast != "" {
			iface, err := net.InterfaceByName(r.t.Multicast)
			if err != nil {
				return err
			}
			sa.Addr = [4]byte{224, 0, 0, 1}
			if r.t.Group != ([4]byte{}) {
				sa.Addr = r.t.Group
			}
			if r.t.NoMulticastLoop {
				if err := unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_MULTICAST_LOOP, 0); err != nil {
					return fmt.Errorf("IP_MULTICAST_LOOP: %w", err)
				}
			}
			if err := unix.SetsockoptIPMreqn(fd, unix.IPPROTO_IP, unix.IP_MULTICAST_IF, &unix.IPMreqn{Ifindex: int32(iface.Index)}); err != nil {
				return fmt.Errorf("IP_MULTICAST_IF: %w", err)
			}
		}
		if r.t.Broadcast {
			sa.Addr[3] = 255 // the /24's directed broadcast
			if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_BROADCAST, 1); err != nil {
				return fmt.Errorf("SO_BROADCAST: %w", err)
			}
		}
		payload := []byte("skbsim test pkt!")
		if n := r.t.PayloadLen(); n != len(payload) {
			payload = make([]byte, n)
		}
		if r.t.Segments > 1 {
			if err := unix.SetsockoptInt(fd, unix.SOL_UDP, unix.UDP_SEGMENT, observe.SegmentSize); err != nil {
				return fmt.Errorf("UDP_SEGMENT: %w", err)
			}
		}
		return wrap("send", unix.Sendto(fd, payload, 0, sa))
	})
}

// sendEncap sends observe.EncapPayload (vxA's MAC -> vxB's MAC) from a UDP
// socket in A to the remote tunnel endpoint's VXLAN port.
func (r *recording) sendEncap() error {
	if r.topo.remote == nil {
		return fmt.Errorf("topology %s has no tunnel endpoint", r.t.Topology)
	}
	var mac [2][6]byte
	for i, d := range []string{"vxA", "vxB"} {
		ns, err := r.topo.nsOf(d)
		if err != nil {
			return err
		}
		hw, err := ns.HardwareAddr(d)
		if err != nil {
			return err
		}
		copy(mac[i][:], hw)
	}
	payload := observe.EncapPayload(mac[0], mac[1], r.t.PayloadLen())
	return r.topo.ns["A"].Do(func() error {
		family := unix.AF_INET
		var sa unix.Sockaddr
		if ip4 := r.topo.remote.To4(); ip4 != nil {
			s4 := &unix.SockaddrInet4{Port: observe.VXLANPort}
			copy(s4.Addr[:], ip4)
			sa = s4
		} else {
			s6 := &unix.SockaddrInet6{Port: observe.VXLANPort}
			copy(s6.Addr[:], r.topo.remote.To16())
			sa, family = s6, unix.AF_INET6
		}
		fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		return wrap("send", unix.Sendto(fd, payload, 0, sa))
	})
}

func (r *recording) rec(id int) (bpf.RecorderRec, error) {
	var v bpf.RecorderRec
	err := r.recs.Lookup(uint32(id), &v)
	return v, wrap("read record", err)
}

// wait polls until every recorded hook saw the packet (except the
// transition's Unseen hooks, where the kernel dropped it before, in the
// sender's own call) or d elapses, then
// gives stragglers (duplicates) a moment.
func (r *recording) wait(d time.Duration) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		all := true
		for id := range r.t.Hooks {
			if !r.t.Reaches(r.t.Hooks[id]) {
				continue
			}
			v, err := r.rec(r.hookID(r.t.Hooks[id]))
			if err != nil || v.Count == 0 {
				all = false
				break
			}
		}
		if all {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(10 * time.Millisecond)
}

func (r *recording) hookID(h observe.Hook) int {
	for i, x := range r.hooks {
		if x == h {
			return i
		}
	}
	panic(fmt.Sprintf("kernel: hook %s not attached", h))
}

// matrix reads the records of the transition's hooks.
func (r *recording) matrix() (observe.Matrix, error) {
	names := map[*Netns]map[int]string{}
	for _, n := range r.topo.ns {
		m, err := n.Interfaces()
		if err != nil {
			return nil, err
		}
		names[n] = m
	}
	var out observe.Matrix
	for _, h := range r.t.Hooks {
		v, err := r.rec(r.hookID(h))
		if err != nil {
			return nil, err
		}
		ns, _ := r.topo.nsOf(h.Dev)
		o := func(f observe.Field, val uint64) observe.Observation {
			return observe.Observation{Transition: r.t.Name, Hook: h.String(), Field: f, Value: val}
		}
		dev := func(f observe.Field, idx uint32) observe.Observation {
			ob := o(f, uint64(idx))
			if idx != 0 {
				if ob.Dev = names[ns][int(idx)]; ob.Dev == "" {
					ob.Dev = "?"
				}
			}
			return ob
		}
		out = append(out, o(observe.FieldCount, v.Count))
		if v.Count == 0 {
			continue
		}
		if !h.Point.IsXDP() {
			out = append(out,
				o(observe.FieldMark, uint64(v.Mark)),
				o(observe.FieldPriority, uint64(v.Priority)),
				o(observe.FieldTCIndex, uint64(v.TcIndex)))
			for i := range 5 {
				out = append(out, o(observe.CBField(i), uint64(v.Cb[i])))
			}
			out = append(out,
				o(observe.FieldHash, uint64(v.Hash)),
				o(observe.FieldTstamp, v.Tstamp),
				o(observe.FieldTstampType, uint64(v.TstampType)),
				o(observe.FieldPktType, uint64(v.PktType)))
		}
		out = append(out, dev(observe.FieldIngressIfindex, v.IngressIfindex))
		if !h.Point.IsXDP() {
			out = append(out, dev(observe.FieldIfindex, v.Ifindex), o(observe.FieldGSOSegs, uint64(v.GsoSegs)),
				o(observe.FieldHeadlen, uint64(v.Headlen)))
		}
		out = append(out, o(observe.FieldMetaLen, uint64(v.MetaLen)))
		if v.MetaLen > 0 && !h.Point.IsXDP() {
			b := o(observe.FieldMeta, 0)
			b.Bytes = append([]byte(nil), v.Meta[:min(int(v.MetaLen), observe.MetaRecordLen)]...)
			out = append(out, b)
		}
		if a, ok := r.t.ActionAt(h); ok && (a.Redirect.BPF() || a.MetaLen > 0) {
			out = append(out, o(observe.FieldRet, uint64(int64(v.Ret))))
		}
	}
	return out, nil
}

// RecordAll runs every transition of observe.Transitions and returns the
// concatenated matrix (about 3 s on a 2-vCPU VM).
func RecordAll(opts *RecordOptions) (observe.Matrix, error) {
	var all observe.Matrix
	for _, t := range observe.Transitions {
		m, err := RunTransition(t, opts)
		if err != nil {
			return nil, err
		}
		all = append(all, m...)
	}
	return all, nil
}
