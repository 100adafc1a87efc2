package netstack

import (
	"fmt"
	"github.com/skbsim/skbsim/skb"
	"slices"
)

// Cpumap limits.
const (
	cpuMapBulkSize  = 8     // CPU_MAP_BULK_SIZE: frames per bulk queue
	cpumapBatch     = 8     // CPUMAP_BATCH: frames the kthread takes at once
	cpumapMaxQSize  = 16384 // cpu_map_update_elem's sanity limit on qsize
	cpumapMaxCPUs   = 8192  // CONFIG_NR_CPUS at its largest: keys beyond are -E2BIG
	napiPollWeight  = 64    // NAPI_POLL_WEIGHT: the kthread's GRO flush interval
	cpumapKindFrame = 0     // an xdp_frame (the model: a header-less skb around it)
	cpumapKindOld   = 1     // an xdp_frame whose old skb is not yet rebuilt (veth)
	cpumapKindSkb   = 2     // an skb from generic XDP (cpu_map_generic_redirect)
)

// cpumap is a BPF_MAP_TYPE_CPUMAP of one stack.
type cpumap struct {
	name    string
	drain   CpumapDrain
	entries []*cpuEntry // by CPU; nil for an empty slot
}

// cpuEntry models struct bpf_cpu_map_entry: the sending CPU's bulk queue
// (xdp_bulk_queue, one CPU in the model), the ptr_ring, the kthread's
// program and GRO instance.
type cpuEntry struct {
	m       *cpumap
	cpu     int
	qsize   int
	prog    int // the BPF_XDP_CPUMAP program's index, -1 for none
	bulk    []cpuItem
	ring    []cpuItem // queued items; ring[head:] are pending
	head    int
	flushed bool // on the stack's flush list (bq->flush_node linked)
	woken   bool // on the stack's list of kthreads to run
	packets int  // the kthread's packets since its last GRO flush
	gro     groNode
	out     []cpuItem // the kthread's batch of skbs to receive
}

// cpuItem is one queued frame or skb.
type cpuItem struct {
	b     *skb.Buff
	dev   *Device // xdpf->dev_rx, or skb->dev
	pkt   uint64
	meta  int // the frame's metasize
	kind  uint8
	trace bool
}

// buildCpumaps instantiates the configuration's cpumaps; their entries'
// programs are resolved by linkCpumaps once the programs are attached.
func (s *Stack) buildCpumaps() error {
	for i := range s.cfg.Cpumaps {
		mc := &s.cfg.Cpumaps[i]
		if mc.Name == "" {
			return cfgErr("cpumap %d: empty name", i)
		}
		if s.cpumapIndex(mc.Name) >= 0 {
			return cfgErr("cpumap %q declared twice", mc.Name)
		}
		if mc.Drain > DrainPoll {
			return cfgErr("cpumap %s: drain mode %d", mc.Name, mc.Drain)
		}
		m := &cpumap{name: mc.Name, drain: mc.Drain}
		for j, ec := range mc.Entries {
			switch {
			case ec.CPU < 0 || ec.CPU >= cpumapMaxCPUs:
				return cfgErr("cpumap %s entry %d: cpu %d (want 0..%d)", mc.Name, j, ec.CPU, cpumapMaxCPUs-1)
			case ec.QSize < 1 || ec.QSize > cpumapMaxQSize:
				return cfgErr("cpumap %s entry %d: qsize %d (want 1..%d; 0 would delete the entry)", mc.Name, j, ec.QSize, cpumapMaxQSize)
			}
			for len(m.entries) <= ec.CPU {
				m.entries = append(m.entries, nil)
			}
			if m.entries[ec.CPU] != nil {
				return cfgErr("cpumap %s: cpu %d twice", mc.Name, ec.CPU)
			}
			e := &cpuEntry{m: m, cpu: ec.CPU, qsize: ec.QSize, prog: -1,
				bulk: make([]cpuItem, 0, cpuMapBulkSize), out: make([]cpuItem, 0, cpumapBatch)}
			e.ring = make([]cpuItem, 0, min(ec.QSize, 1024))
			e.gro.init()
			m.entries[ec.CPU] = e
		}
		s.cpumaps = append(s.cpumaps, m)
	}
	return nil
}

// linkCpumaps resolves the entries' programs: each must be an xdp program
// loaded for cpumaps (ProgramConfig.Cpumap), which needs v5.9.
func (s *Stack) linkCpumaps() error {
	for i, m := range s.cpumaps {
		for _, ec := range s.cfg.Cpumaps[i].Entries {
			if ec.Program == "" {
				continue
			}
			pi, err := s.mapEntryProgram(fmt.Sprintf("cpumap %s cpu %d", m.name, ec.CPU), ec.Program,
				s.prof.CpumapProg, "cpumap", "v5.9", "cpumaps (BPF_XDP_CPUMAP)", func(p *ProgramConfig) bool { return p.Cpumap })
			if err != nil {
				return err
			}
			m.entries[ec.CPU].prog = pi
		}
	}
	return nil
}

// mapEntryProgram resolves program name of a map entry (what names the
// entry): the profile must allow entry programs of the kind (allowed,
// from release since), and the program must exist and be loaded for the
// map type (loadedFor; attach describes the attach type), as the
// map update's bpf_prog_get_type_dev and expected_attach_type checks
// have it (-EINVAL).
func (s *Stack) mapEntryProgram(what, name string, allowed bool, kind, since, attach string, loadedFor func(*ProgramConfig) bool) (int, error) {
	if !allowed {
		return -1, cfgErr("%s: a %s program needs kernel %s or later, not %s", what, kind, since, s.prof.Name)
	}
	pi := slices.IndexFunc(s.cfg.Programs, func(p ProgramConfig) bool { return p.Name == name })
	if pi < 0 {
		return -1, cfgErr("%s: unknown program %q", what, name)
	}
	if !loadedFor(&s.cfg.Programs[pi]) {
		return -1, cfgErr("%s: program %s is not loaded for %s: -EINVAL", what, name, attach)
	}
	return pi, nil
}

func (s *Stack) cpumapIndex(name string) int {
	for i, m := range s.cpumaps {
		if m.name == name {
			return i
		}
	}
	return -1
}

// cpumapEntry models __cpu_map_lookup_elem: the entry of cpumap i for cpu,
// nil when the map or the slot is empty.
func (s *Stack) cpumapEntry(i int, cpu uint32) *cpuEntry {
	if i < 0 || i >= len(s.cpumaps) {
		return nil
	}
	m := s.cpumaps[i]
	if cpu >= uint32(len(m.entries)) {
		return nil
	}
	return m.entries[cpu]
}

func (s *Stack) cpumapOf(ri redirectInfo) *cpuEntry {
	return s.cpumapEntry(int(ri.cpumap)-1, uint32(ri.ifindex))
}

// cpumapEnqueue models XDP_REDIRECT of b's frame (data at the mac header,
// meta bytes of metadata in front) into a cpumap entry by d's XDP program
// (xdp_do_redirect -> cpu_map_enqueue -> bq_enqueue): a full bulk queue
// is moved to the ring first (bq_flush_to_queue), then the frame joins
// the bulk queue. An skb b (veth's native XDP, not an XDP frame) is given up
// as for any redirected frame (veth_xdp_get, consume_skb: its tracepoint
// fires now; the sk_buff goes when the frame reaches the ring, see
// cpumapBulkFlush). Takes ownership of b.
func (s *Stack) cpumapEnqueue(b *skb.Buff, d *Device, meta int, ri redirectInfo) {
	e := s.cpumapOf(ri)
	kind := uint8(cpumapKindFrame)
	if !b.XDPFrame() {
		kind = cpumapKindOld
		if len(s.tpConsum) != 0 {
			s.runTracepoint(s.tpConsum, b, skb.SkbConsumed) // consume_skb(skb)
		}
	}
	s.traceOp(LayerXDP, OpCpumapEnqueue, b)
	if len(e.bulk) == cpuMapBulkSize {
		s.cpumapBulkFlush(e)
	}
	e.bulk = append(e.bulk, cpuItem{b: b, dev: d, pkt: s.cur, meta: meta, kind: kind, trace: s.trace})
	if !e.flushed {
		e.flushed = true
		s.cpuFlush = append(s.cpuFlush, e)
	}
}

// cpumapGenericRedirect models xdp_do_generic_redirect into a cpumap entry
// for skb b (data at the mac header) from generic XDP on d: from v5.15
// cpu_map_generic_redirect pulls the mac header (__skb_pull(skb,
// skb->mac_len)), marks the skb redirected (skb_set_redirected(skb,
// false): generic XDP skips it from now on) and puts it on the ring
// itself, which fails when the ring is full; before, the map type is
// refused (-EBADRQC). A failure drops the skb with reason at loc
// (do_xdp_generic's kfree_skb_reason(skb, SKB_DROP_REASON_XDP), the cpumap
// kthread's kfree_skb). Takes ownership of b.
func (s *Stack) cpumapGenericRedirect(b *skb.Buff, d *Device, ri redirectInfo, reason skb.DropReason, loc Op) {
	e := s.cpumapOf(ri)
	if !s.prof.CpumapGeneric || e == nil || len(e.ring)-e.head >= e.qsize {
		s.drop(b, reason, loc)
		return
	}
	b.Pull(b.MacLen())
	h := b.H()
	h.Redirected, h.FromIngress = true, false
	s.traceOp(LayerXDP, OpCpumapEnqueue, b)
	s.stats.CpumapQueued++
	e.ring = append(e.ring, cpuItem{b: b, dev: d, pkt: s.cur, kind: cpumapKindSkb, trace: s.trace})
	s.cpumapWake(e)
}

// cpumapWake models wake_up_process(rcpu->kthread): with DrainBulk the
// kthread runs once the current packet has finished its path
// (runCpumaps).
func (s *Stack) cpumapWake(e *cpuEntry) {
	if e.m.drain == DrainBulk && !e.woken {
		e.woken = true
		s.cpuWake = append(s.cpuWake, e)
	}
}

// cpumapBulkFlush models bq_flush_to_queue: the bulk queue's frames go to
// the ring (__ptr_ring_produce) while it has room; the rest are dropped
// (xdp_return_frame_rx_napi). A frame still in its old skb (veth) leaves
// it here (skb.Buff.ToFrame); the kthread builds the new skb around each
// frame its program passes (__xdp_build_skb_from_frame, cpumapFrame).
// Then the kthread is woken (__cpu_map_flush: wake_up_process).
func (s *Stack) cpumapBulkFlush(e *cpuEntry) {
	saved, savedTrace := s.cur, s.trace
	for i := range e.bulk {
		it := e.bulk[i]
		e.bulk[i] = cpuItem{}
		s.cur, s.trace = it.pkt, it.trace
		if len(e.ring)-e.head >= e.qsize {
			it.b.NapiFree()
			s.dropNoSkb(it.dev, skb.DropXDP, OpCpumapEnqueue)
			continue
		}
		if it.kind == cpumapKindOld {
			it.b, it.kind = it.b.ToFrame(), cpumapKindFrame
		}
		s.stats.CpumapQueued++
		e.ring = append(e.ring, it)
	}
	e.bulk = e.bulk[:0]
	s.cur, s.trace = saved, savedTrace
	s.cpumapWake(e)
}

// cpumapFlush models xdp_do_flush -> __cpu_map_flush at the end of the
// sending CPU's NAPI poll: every bulk queue with frames goes to its ring.
// Then every kthread with work runs (both drain modes), until what they
// redirect into cpumaps has been drained too.
func (s *Stack) cpumapFlush() {
	s.cpuWork = 0
	for busy := true; busy; {
		busy = false
		for i := 0; i < len(s.cpuFlush); i++ {
			e := s.cpuFlush[i]
			e.flushed = false
			s.cpumapBulkFlush(e)
		}
		clear(s.cpuFlush)
		s.cpuFlush = s.cpuFlush[:0]
		for _, m := range s.cpumaps {
			for _, e := range m.entries {
				if e != nil && len(e.ring) > e.head {
					s.cpumapKthread(e)
					busy = true
				}
			}
		}
		busy = busy || len(s.cpuFlush) != 0
	}
	s.clearWake()
}

// clearWake empties the list of woken kthreads.
func (s *Stack) clearWake() {
	for _, e := range s.cpuWake {
		e.woken = false
	}
	clear(s.cpuWake)
	s.cpuWake = s.cpuWake[:0]
}

// runCpumaps runs the woken kthreads (DrainBulk), after the packet that
// woke them.
func (s *Stack) runCpumaps() {
	s.cpuWork = 0
	for i := 0; i < len(s.cpuWake); i++ {
		e := s.cpuWake[i]
		e.woken = false
		s.cpumapKthread(e)
	}
	s.clearWake()
}

// cpumapKthread models cpu_map_kthread_run draining e's ring, CPUMAP_BATCH
// items at a time: the entry's program runs on each frame
// (cpu_map_bpf_prog_run_xdp, the frame's metadata in its view; XDP_TX is
// not allowed there and drops like XDP_DROP) and then on each skb
// (cpu_map_bpf_prog_run_skb: generic XDP); the passing frames become skbs
// (__xdp_build_skb_from_frame: skb_metadata_set(metasize), eth_type_trans
// for xdpf->dev_rx) and, after them, the passing skbs are received: from
// v6.15 through the entry's own GRO (gro_receive_skb on rcpu->gro,
// flushed after 64 packets and when the ring is empty), before through
// netif_receive_skb_list.
func (s *Stack) cpumapKthread(e *cpuEntry) {
	saved, savedTrace := s.cur, s.trace
	for e.head < len(e.ring) {
		n := min(cpumapBatch, len(e.ring)-e.head)
		batch := e.ring[e.head : e.head+n]
		e.out = e.out[:0]
		for pass := uint8(0); pass < 2; pass++ { // frames first, then skbs
			for i := range batch {
				it := &batch[i]
				if it.b == nil || (it.kind == cpumapKindSkb) != (pass == 1) {
					continue
				}
				s.cur, s.trace = it.pkt, it.trace
				var ok bool
				s.cpuWork++
				switch {
				case s.cpuWork > maxBacklogWork:
					// Frames a cpumap program keeps redirecting into
					// cpumaps (a real CPU would spin on them) are cut
					// off after maxBacklogWork per drain.
					if it.kind == cpumapKindSkb {
						s.drop(it.b, skb.DropCPUBacklog, OpCpumapKthread)
					} else {
						it.b.NapiFree()
						s.dropNoSkb(it.dev, skb.DropCPUBacklog, OpCpumapKthread)
					}
				case pass == 0:
					ok = s.cpumapFrame(e, it)
				default:
					ok = s.cpumapSkb(e, it)
				}
				if ok {
					e.out = append(e.out, *it)
				}
				it.b = nil
			}
		}
		e.head += n
		if e.head == len(e.ring) {
			clear(e.ring)
			e.ring, e.head = e.ring[:0], 0
		}
		for i := range e.out {
			it := &e.out[i]
			s.cur, s.trace = it.pkt, it.trace
			if s.prof.CpumapGRO {
				s.groReceive(&e.gro, it.b, it.dev)
			} else {
				s.netifReceive(it.b)
			}
			it.b = nil
		}
		if s.prof.CpumapGRO {
			// cpu_map_gro_flush: the model takes gro_flush(flush_old)
			// after 64 packets as a full flush.
			e.packets += n
			if e.packets >= napiPollWeight || e.head == 0 {
				s.groFlush(&e.gro)
				e.packets = 0
			}
		}
	}
	s.cur, s.trace = saved, savedTrace
}

// cpumapFrame runs the entry's program on a frame and builds its skb; it
// reports whether the skb is to be received (it.b then holds it).
func (s *Stack) cpumapFrame(e *cpuEntry, it *cpuItem) bool {
	b, d, meta := it.b, it.dev, it.meta
	b.ResetMacHeader()
	b.MetadataSet(meta) // the frame's data_meta (xdp_convert_frame_to_buff)
	if e.prog >= 0 {
		act, m, ri := s.runXDPProg(e.prog, b, d, false, xdpRxNone, meta)
		switch act {
		case XDPPass:
			meta = m // xdp_update_frame_from_buff
		case XDPRedirect:
			s.xdpRedirect(b, d, m, ri)
			return false
		default:
			// XDP_TX (bpf_warn_invalid_xdp_action), XDP_ABORTED, XDP_DROP:
			// xdp_return_frame.
			b.NapiFree()
			s.dropNoSkb(d, skb.DropXDP, OpCpumapKthread)
			return false
		}
	}
	if b.BuildSkbFromFrame() != nil { // __xdp_build_skb_from_frame
		b.NapiFree()
		s.dropNoSkb(d, skb.DropNomem, OpCpumapKthread)
		return false
	}
	setDev(b, d)
	b.MetadataSet(meta)
	s.traceOp(LayerXDP, OpCpumapKthread, b)
	s.ethTypeTrans(b, d)
	return true
}

// cpumapSkb runs the entry's program on an skb from generic XDP
// (bpf_prog_run_generic_xdp); it reports whether the skb is to be
// received.
func (s *Stack) cpumapSkb(e *cpuEntry, it *cpuItem) bool {
	b, d := it.b, it.dev
	s.traceOp(LayerXDP, OpCpumapKthread, b)
	if e.prog < 0 {
		return true
	}
	macLen := -b.MacOffset()
	b.Push(macLen)
	act, ri := s.runXDPGeneric(e.prog, b, d, macLen)
	switch act {
	case XDPPass:
		return true
	case XDPRedirect:
		s.xdpGenericRedirect(b, d, ri, skb.DropNotSpecified, OpCpumapKthread)
	default:
		if s.prof.CpumapGRO {
			s.consumeSkb(b) // napi_consume_skb(skb, true)
			s.dropNoSkb(d, skb.DropXDP, OpCpumapKthread)
		} else {
			s.drop(b, skb.DropNotSpecified, OpCpumapKthread) // kfree_skb(skb)
		}
	}
	return false
}

// closeCpumaps drops what the cpumaps still hold (the kthreads' stop).
func (s *Stack) closeCpumaps() {
	for _, m := range s.cpumaps {
		for _, e := range m.entries {
			if e == nil {
				continue
			}
			for _, q := range [][]cpuItem{e.bulk, e.ring[e.head:]} {
				for i := range q {
					if it := &q[i]; it.b != nil {
						s.cur = it.pkt
						if it.kind == cpumapKindSkb {
							s.drop(it.b, skb.DropNotSpecified, OpClose)
							continue
						}
						it.b.NapiFree()
						s.dropNoSkb(it.dev, skb.DropNotSpecified, OpClose)
					}
				}
			}
			clear(e.bulk)
			clear(e.ring)
			e.bulk, e.ring, e.head = e.bulk[:0], e.ring[:0], 0
			s.groDiscard(&e.gro)
		}
	}
}
