package sim

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/skbsim/skbsim/capture"
	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/netstack"
	"github.com/skbsim/skbsim/skb"
)

// shard is one flow shard: its own accountant, skb allocator, carrier and
// stack. A shard is used by one goroutine at a time.
type shard struct {
	idx    int
	design string
	acct   *kmem.Accountant
	alloc  *skb.Allocator
	car    carrier.Carrier
	stack  *netstack.Stack
	tally  *tally
	ents   []entryInfo
	frame  []byte // scratch frame for captures without Ethernet headers
	np     netstack.Packet
	tr     *tracer
	closed bool
	// rewriteMAC addresses captured unicast frames to the entry device.
	rewriteMAC bool
	// polled counts packets since the last end of a NAPI poll.
	polled int
	// events are the scenario's events; next is the first not yet
	// applied.
	events []netstack.Event
	next   int

	// filled by close
	stats    kmem.Stats
	carStats carrier.Stats
	leaks    []string
}

// entryInfo is what the shard needs to know of an entry point to build
// frames for it.
type entryInfo struct {
	rx  bool
	mac [6]byte
}

// Outcomes of a packet's path, as the report names them.
const (
	outSocket = iota
	outTap
	outXmit
	outStack
	outDropped
	outNotEthernet
	outRejected
	outNoLink
)

var outcomeNames = []string{
	outSocket:      "delivered to a socket",
	outTap:         "read by a packet tap",
	outXmit:        "transmitted by a device",
	outStack:       "consumed by the stack",
	outDropped:     "dropped",
	outNotEthernet: "not injected: no IP or Ethernet frame to inject",
	outRejected:    "not injected: rejected by the stack",
	outNoLink:      "not received: the entry device is down or without carrier",
}

// layoutOf builds the tally layout of a scenario.
func layoutOf(s *Scenario) *layout {
	l := &layout{outcomes: outcomeNames, drops: make([]string, 256)}
	for i := range l.drops {
		l.drops[i] = strings.TrimPrefix(skb.DropReason(i).Name(), "SKB_DROP_REASON_")
	}
	for _, p := range s.Stack.Programs {
		l.progs = append(l.progs, progInfo{name: p.Name, hook: p.Hook.String(), where: progWhere(s, p)})
	}
	for _, m := range s.Maps {
		l.maps = append(l.maps, m.Name)
	}
	return l
}

// progWhere is where a program is attached, printed so that no two kinds
// of attach point read alike: "dev NETNS/DEV" for xdp and tc, "socket
// NETNS/SOCKET" for a socket filter (the socket's namespace), "cgroup PATH"
// for cgroup_skb, sockops and LSM programs ("/" for the root; cgroups are
// not per namespace), "event NAME" for tracepoints (global; kfree_skb
// when none is named) and "cpumap MAP/CPU,..." for an xdp program of
// cpumap entries. A hook without a known attach point prints the
// fields that are set, each after its kind.
func progWhere(s *Scenario, p netstack.ProgramConfig) string {
	cgroup := func() string {
		if p.Cgroup == "" {
			return "cgroup /"
		}
		return "cgroup " + p.Cgroup
	}
	if p.Cpumap {
		var at []string
		for _, m := range s.Stack.Cpumaps {
			for _, e := range m.Entries {
				if e.Program == p.Name {
					at = append(at, m.Name+"/"+strconv.Itoa(e.CPU))
				}
			}
		}
		return "cpumap " + strings.Join(at, ",")
	}
	if p.Devmap {
		var at []string
		for _, m := range s.Stack.Devmaps {
			for _, e := range m.Entries {
				if e.Program == p.Name {
					at = append(at, m.Name+"/"+strconv.Itoa(e.Key))
				}
			}
		}
		return "devmap " + strings.Join(at, ",")
	}
	switch p.Hook {
	case carrier.HookXDP, carrier.HookTCIngress, carrier.HookTCEgress, carrier.HookNetkitPrimary, carrier.HookNetkitPeer:
		return "dev " + p.Netns + "/" + p.Dev
	case carrier.HookSocketFilter:
		ns := p.Netns
		for _, sk := range s.Stack.Sockets {
			if sk.Name == p.Socket {
				ns = sk.Netns
			}
		}
		return "socket " + ns + "/" + p.Socket
	case carrier.HookCgroupIngress, carrier.HookCgroupEgress:
		return cgroup()
	case carrier.HookSockOps:
		// A sockops program is attached to a cgroup; Event narrows it to
		// one callback ("" is every callback with an skb).
		if p.Event != "" {
			return cgroup() + " event " + p.Event
		}
		return cgroup()
	case carrier.HookLSM:
		// BPF LSM programs attach to the LSM hook itself, for the whole
		// system: no cgroup, no namespace.
		if p.Event == "" {
			return "lsm " + netstack.EventInetConnEstablished
		}
		return "lsm " + p.Event
	case carrier.HookTracepoint:
		if p.Event == "" {
			return "event " + netstack.EventKfreeSkb
		}
		return "event " + p.Event
	}
	var parts []string
	if p.Dev != "" {
		parts = append(parts, "dev "+p.Netns+"/"+p.Dev)
	}
	if p.Socket != "" {
		parts = append(parts, "socket "+p.Socket)
	}
	if p.Cgroup != "" {
		parts = append(parts, cgroup())
	}
	if p.Event != "" {
		parts = append(parts, "event "+p.Event)
	}
	if len(parts) == 0 {
		return "netns " + p.Netns
	}
	return strings.Join(parts, ", ")
}

// newShard builds shard i of the scenario. Errors are scenario errors: an
// unknown kernel profile or design, options or flags the design refuses,
// or a stack configuration netstack rejects.
func newShard(s *Scenario, i int, lay *layout, opts Options) (*shard, error) {
	prof, err := skb.ProfileByName(s.Kernel)
	if err != nil {
		return nil, s.errAt(s.Src.Kernel, "kernel: %v", err)
	}
	sh := &shard{idx: i, design: s.Design, acct: kmem.New(), tally: newTally(lay), events: s.Events}
	if opts.Design != "" {
		sh.design = opts.Design
	}
	sh.alloc = skb.NewAllocator(sh.acct, prof)
	sh.alloc.SetPoison(opts.PoisonFree)
	if len(s.Maps) != 0 {
		copts := s.Carrier
		copts.Seed += uint64(i)
		sh.car, err = carrier.New(sh.design, carrier.Env{Alloc: sh.alloc, Acct: sh.acct}, s.Maps, copts)
		if err != nil {
			if opts.Design != "" {
				return nil, fmt.Errorf("replay: %w", err)
			}
			return nil, s.errAt(s.Src.Design, "design %s: %v", sh.design, err)
		}
	}
	cfg := s.Stack.Copy()
	cfg.Options.CaptureCsumOffload = cfg.Options.CaptureCsumOffload || opts.IgnoreChecksums
	cfg.Options.TrustReassembledCsum = cfg.Options.TrustReassembledCsum || opts.PadTruncated
	sh.ents = assignEntryMACs(cfg)
	sh.rewriteMAC = !s.KeepDstMAC
	env := netstack.Env{Alloc: sh.alloc, Acct: sh.acct, Carrier: sh.car, Maps: s.Maps, Observer: sh}
	sh.stack, err = netstack.New(cfg, env)
	if err != nil {
		if sh.car != nil {
			sh.car.Close()
		}
		return nil, fmt.Errorf("%s: %w", s.File, err)
	}
	if opts.Trace != nil {
		sh.tr = newTracer(opts.Trace, opts.TracePackets, lay, s)
	}
	sh.frame = make([]byte, 0, capture.MaxCapLen+64)
	return sh, nil
}

// assignEntryMACs gives every RX entry device without a configured MAC a
// deterministic one, so that frames built for captures without Ethernet
// headers can be addressed to it, and returns the entries' addresses.
func assignEntryMACs(cfg *netstack.Config) []entryInfo {
	ents := make([]entryInfo, len(cfg.Entries))
	for i, e := range cfg.Entries {
		if e.Kind == netstack.EntryTX {
			continue
		}
		ents[i].rx = true
		// An rx entry's frames are addressed to its device; a packet
		// entry's to the device that receives them: a veth's peer (other
		// devices send them to the wire, addressed to themselves).
		send := e.Kind == netstack.EntryPacket
		for j := range cfg.Devices {
			d := &cfg.Devices[j]
			self := d.Name == e.Dev && nsOr(d.Netns) == nsOr(e.Netns)
			peer := d.Kind == netstack.KindVeth && d.Peer == e.Dev && nsOr(d.PeerNetns) == nsOr(e.Netns)
			switch {
			case self && send && d.Kind == netstack.KindVeth, peer && !send:
				if d.PeerMAC == ([6]byte{}) {
					d.PeerMAC = entryMAC(j, true)
				}
				ents[i].mac = d.PeerMAC
			case self, peer && send:
				if d.MAC == ([6]byte{}) {
					d.MAC = entryMAC(j, false)
				}
				ents[i].mac = d.MAC
			}
		}
	}
	return ents
}

func nsOr(s string) string {
	if s == "" {
		return netstack.HostNetns
	}
	return s
}

// entryMAC is a locally administered address for entry devices.
func entryMAC(dev int, peer bool) [6]byte {
	p := byte(0)
	if peer {
		p = 1
	}
	return [6]byte{0x02, 0x53, 0x4b, 0x42, byte(dev), p}
}

// peerMAC is the source address of frames built for captures without
// Ethernet headers: the capture's other end.
var peerMAC = [6]byte{0x02, 0x53, 0x4b, 0x42, 0xff, 0xfe}

// inject replays one packet of the single-worker path (the tracer sees its
// decoded headers). Steady state does not allocate.
func (sh *shard) inject(p *Packet) {
	w := wire{id: p.ID, ts: p.Timestamp, data: p.Data, iface: wireIface(p.Iface), link: p.Link, owned: p.Owned,
		frameInfo: frameInfoOf(&p.Dec)}
	sh.replay(&w, p)
}

// replay injects one packet; p is the packet with its decoded headers when
// tracing (nil in batches: tracing needs a single worker).
func (sh *shard) replay(w *wire, p *Packet) {
	if sh.next < len(sh.events) && uint64(w.id) >= sh.events[sh.next].At {
		sh.applyEvents(uint64(w.id))
	}
	entry := 0
	if n := len(sh.ents); n > 1 {
		entry = min(int(w.iface), n-1)
	}
	frame, ok := sh.frameOf(w, entry)
	if !ok {
		sh.tally.outcome(outNotEthernet)
		return
	}
	// The NIC's RSS hash (skb_set_hash(skb, hash, PKT_HASH_TYPE_L4) in the
	// driver) is the capture's flow hash: symmetric, where a Toeplitz key
	// usually is not.
	sh.np = netstack.Packet{ID: uint64(w.id), Frame: frame, Entry: entry, Tstamp: w.ts,
		Hash: uint32(w.hash)}
	tr := sh.tr
	if tr != nil && p != nil {
		sh.np.Trace = tr.wants(w.id)
		tr.begin(p)
	}
	if err := sh.stack.Inject(&sh.np); err != nil {
		if errors.Is(err, netstack.ErrNoLink) {
			sh.tally.outcome(outNoLink)
		} else {
			sh.tally.outcome(outRejected)
		}
		if tr != nil {
			tr.rejected(w.id, err)
		}
	}
	if sh.polled++; sh.polled == napiBudget {
		sh.endPoll()
	}
}

// applyEvents applies the events due before packet id: after the end of
// the poll under way (the configuration changes between NAPI polls), each
// in turn (netstack.Stack.Apply). checkEvents has applied them all to a
// stack of the scenario already, so an error here is the model's own
// fault, which the report lists with the leaks.
func (sh *shard) applyEvents(id uint64) {
	sh.endPoll()
	for ; sh.next < len(sh.events) && id >= sh.events[sh.next].At; sh.next++ {
		e := sh.events[sh.next]
		if sh.tr != nil {
			sh.tr.linkEvent(int64(id), e)
		}
		if err := sh.stack.Apply(e); err != nil {
			sh.leaks = append(sh.leaks, fmt.Sprintf("shard %d: event at %d (%s): %s", sh.idx, e.At, e, oneLine(err.Error())))
		}
	}
}

// napiBudget is the number of packets a shard receives per NAPI poll
// (NAPI_POLL_WEIGHT): after each, GRO lists are flushed and an RCU grace
// period ends. Counting per shard keeps this independent of the number of
// workers.
const napiBudget = 64

// endPoll models the end of a net_rx_action() round: napi_gro_flush() of
// every device, then a quiescent state that lets RCU callbacks run.
func (sh *shard) endPoll() {
	sh.polled = 0
	sh.stack.Flush()
	if sh.car != nil {
		carrier.GracePeriod(sh.car)
	}
	sh.acct.GracePeriod()
}

// frameOf returns the frame to inject: the captured bytes for Ethernet
// captures, otherwise an Ethernet header addressed to the entry device in
// front of the captured IP packet (models the capture having been taken on
// the wire of the entry device). RX entries only; TX entries take the
// captured bytes as they are.
func (sh *shard) frameOf(w *wire, entry int) ([]byte, bool) {
	data := w.data
	if !sh.ents[entry].rx {
		return data, len(data) > 0
	}
	if w.link == capture.LinkEthernet {
		if !sh.rewriteMAC || len(data) < 14 || data[0]&1 != 0 {
			return data, len(data) > 0
		}
		// The capture was taken on the entry device's wire: unicast
		// frames are addressed to it (PACKET_HOST in eth_type_trans).
		mac := sh.ents[entry].mac
		if w.owned {
			copy(data, mac[:])
			return data, true
		}
		f := append(append(sh.frame[:0], mac[:]...), data[6:]...)
		sh.frame = f
		return f, true
	}
	etype := w.etherType
	if w.l2Kind == capture.L2None {
		switch w.l3 {
		case capture.L3IPv4:
			etype = 0x0800
		case capture.L3IPv6:
			etype = 0x86dd
		default:
			return nil, false
		}
	}
	off := int(w.l2Len)
	if etype < 0x0600 || off > len(data) || w.unsupported {
		return nil, false
	}
	mac := sh.ents[entry].mac
	f := append(sh.frame[:0], mac[:]...)
	f = append(f, peerMAC[:]...)
	f = append(f, byte(etype>>8), byte(etype))
	f = append(f, data[off:]...)
	sh.frame = f
	return f, true
}

// close ends the shard: the stack's held packets are flushed and freed,
// the carrier closed, RCU grace periods run, and the leak checks taken.
func (sh *shard) close() {
	if sh.closed {
		return
	}
	sh.closed = true
	sh.endPoll()
	var errs []error
	if err := sh.stack.Close(); err != nil {
		errs = append(errs, fmt.Errorf("stack close: %w", err))
	}
	if sh.car != nil {
		if st, ok := carrier.StatsOf(sh.car); ok {
			sh.carStats = st
		}
		if err := sh.car.Close(); err != nil {
			errs = append(errs, fmt.Errorf("carrier close: %w", err))
		}
	}
	sh.acct.GracePeriod()
	if err := sh.alloc.CheckLeaks(); err != nil {
		errs = append(errs, err)
	}
	sh.acct.StatsInto(&sh.stats)
	if sh.stats.LiveObjects != 0 {
		errs = append(errs, fmt.Errorf("accountant: %d live objects (%d bytes)", sh.stats.LiveObjects, sh.stats.LiveBytes))
	}
	for _, e := range errs {
		sh.leaks = append(sh.leaks, fmt.Sprintf("shard %d: %s", sh.idx, oneLine(e.Error())))
	}
}

// abort releases a shard that never replayed anything.
func (sh *shard) abort() {
	sh.close()
}

// ProgRun implements netstack.Observer.
func (sh *shard) ProgRun(ev netstack.ProgRunEvent) {
	sh.tally.run(ev.Prog)
	if sh.tr != nil {
		sh.tr.progRun(ev)
	}
}

// MapRead implements netstack.Observer.
func (sh *shard) MapRead(ev netstack.MapReadEvent) {
	sh.tally.read(ev.Prog, ev.Map, ev.Result)
	if sh.tr != nil {
		sh.tr.mapRead(ev)
	}
}

// RxMeta implements netstack.Observer.
func (sh *shard) RxMeta(ev netstack.RxMetaEvent) {
	sh.tally.rxMetaCall(ev.Prog, ev.Kfunc, ev.Ret, ev.Value)
	if sh.tr != nil {
		sh.tr.rxMeta(ev)
	}
}

// Helper implements netstack.Observer.
func (sh *shard) Helper(ev netstack.HelperEvent) {
	sh.tally.helperCall(ev.Prog, ev.Helper, ev.Ret)
	if sh.tr != nil {
		sh.tr.helper(ev)
	}
}

// Drop implements netstack.Observer.
func (sh *shard) Drop(ev netstack.DropEvent) {
	sh.tally.drop(int(ev.Reason))
	sh.tally.outcome(outDropped)
	if sh.tr != nil {
		sh.tr.drop(ev)
	}
}

// Deliver implements netstack.Observer.
func (sh *shard) Deliver(ev netstack.DeliverEvent) {
	switch ev.Kind {
	case netstack.DeliverSocket:
		sh.tally.outcome(outSocket)
	case netstack.DeliverTap:
		sh.tally.outcome(outTap)
	case netstack.DeliverXmit:
		sh.tally.outcome(outXmit)
	default:
		sh.tally.outcome(outStack)
	}
	if sh.tr != nil {
		sh.tr.deliver(ev)
	}
}

// Trace implements netstack.Observer.
func (sh *shard) Trace(ev netstack.TraceEvent) {
	if sh.tr != nil {
		sh.tr.trace(ev)
	}
}

var _ netstack.Observer = (*shard)(nil)
