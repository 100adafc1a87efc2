package sim

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"

	"github.com/skbsim/skbsim/capture"
	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/netstack"
)

// Options tune a replay.
type Options struct {
	// Design overrides the scenario's metadata design when not empty.
	Design string
	// Workers is the number of goroutines that run shards (1 when 0). It
	// changes nothing in the report: packets go to one of the scenario's
	// Shards by flow hash, whatever the number of workers.
	Workers int
	// Progress, when set, is called from the reading goroutine about every
	// progressEvery packets and once at the end.
	Progress func(ProgressInfo)
	// Trace, when set, receives the step-by-step life of the packets whose
	// ids are in TracePackets (all packets when TracePackets is nil).
	Trace        io.Writer
	TracePackets []int64
	// IgnoreChecksums makes the decoder accept wrong IPv4 and GRE
	// checksums, and the drivers complete captured TCP and UDP checksums
	// (netstack.Options.CaptureCsumOffload): captures taken on a host with
	// checksum offload.
	IgnoreChecksums bool
	// PoisonFree fills freed data buffers and extensions with POISON_FREE
	// (0x6b), as a kernel booted with slub_debug=P does. Off, as on a
	// kernel without slab debugging, a recycled buffer keeps the bytes of
	// the object freed before it. The report does not depend on it unless
	// the model reads bytes nobody wrote (TestPoisonFreeChangesNothing);
	// it costs about 5% of the replay's instructions.
	PoisonFree bool
	// PadTruncated replays a packet the capture cut short (its captured
	// length below its length on the wire, as with a snaplen) padded with
	// zero bytes to its wire length (at most capture.MaxCapLen), so that
	// the lengths its headers claim hold and the stack does not drop it as
	// truncated (PKT_TOO_SMALL at ip_rcv). The padding's checksums cannot
	// hold, so it implies IgnoreChecksums, whose drivers complete each
	// frame's own TCP or UDP checksum, and a datagram reassembled from
	// fragments keeps its sender's checksum
	// (netstack.Options.TrustReassembledCsum: the software check passes,
	// its cost charged). The report counts the padded packets
	// (FileReport.Padded).
	PadTruncated bool
}

// ProgressInfo says how far a replay is.
type ProgressInfo struct {
	File         string
	FileIndex    int
	Packets      int64 // packets read so far, all files
	Offset, Size int64 // byte position in the current file and its size (0 if unknown)
	Done         bool
}

const progressEvery = 1 << 14

// Replay replays the captures in files, in order, through the scenario and
// returns the report. A capture that cannot be opened is an error and no
// report. A capture damaged part way still yields a report of every packet
// before the damage, with Complete false and Error set; the error (a
// *capture.Error) is also returned, with the report.
func Replay(s *Scenario, files []string, opts Options) (*Report, error) {
	if len(files) == 0 {
		return nil, errors.New("replay: no capture given")
	}
	if opts.Workers < 0 || opts.Workers > 256 {
		return nil, fmt.Errorf("replay: %d workers (want 1 to 256)", opts.Workers)
	}
	if opts.Workers == 0 {
		opts.Workers = 1
	}
	if opts.Trace != nil && opts.Workers != 1 {
		return nil, errors.New("replay: tracing needs a single worker")
	}
	if opts.PadTruncated {
		opts.IgnoreChecksums = true
	}
	readers := make([]*capture.Reader, 0, len(files))
	defer func() {
		for _, r := range readers {
			r.Close()
		}
	}()
	sizes := make([]int64, len(files))
	for i, f := range files {
		r, err := capture.Open(f)
		if err != nil {
			return nil, err
		}
		readers = append(readers, r)
		sizes[i] = fileSize(f)
	}
	m, err := newMachine(s, opts)
	if err != nil {
		return nil, err
	}
	rep := m.report(s)
	rep.Files = make([]FileReport, len(files))
	for i, f := range files {
		rep.Files[i].Name = f
	}
	rd := &reading{opts: &opts, sizes: sizes}
	var capErr error
	switch {
	case opts.Workers == 1 && opts.Trace != nil:
		capErr = rd.inline(readers, m, rep)
	case opts.Workers == 1:
		capErr = rd.grouped(readers, m, rep)
	default:
		capErr = rd.parallel(readers, m, rep, opts.Workers)
	}
	m.finish(rep)
	if capErr != nil {
		rep.Complete = false
		rep.Error = capErr.Error()
	}
	return rep, capErr
}

func fileSize(path string) int64 {
	if fi, err := os.Stat(path); err == nil {
		return fi.Size()
	}
	return 0
}

// settle runs a garbage collection once a replay's buffers are built. The
// replay allocates nothing per packet, so the garbage of the set-up
// (scenario, shards, buffers) is collected now rather than by a cycle that
// would run during the replay, its write barriers on for a stretch of
// packets that depends on timing: the instruction counts of a replay (make
// icount) repeat to 0.2% with it and varied by a factor of two without.
func settle() { runtime.GC() }

// reading is the reading side of a replay.
type reading struct {
	opts    *Options
	sizes   []int64
	packets int64
	pad     []byte // a truncated packet padded to its wire length (Options.PadTruncated)
}

// padded returns p with its data padded with zeros to its wire length when
// the capture cut it short and Options.PadTruncated is on (in rd.pad,
// valid until the next call), and whether it did.
func (rd *reading) padded(p *capture.Packet) bool {
	n := min(p.OrigLen, capture.MaxCapLen)
	if !rd.opts.PadTruncated || len(p.Data) >= n {
		return false
	}
	if rd.pad == nil {
		rd.pad = make([]byte, capture.MaxCapLen)
	}
	copy(rd.pad, p.Data)
	clear(rd.pad[len(p.Data):n])
	p.Data = rd.pad[:n]
	return true
}

func (rd *reading) progress(fi int, r *capture.Reader, off int64, done bool) {
	if rd.opts.Progress != nil {
		rd.opts.Progress(ProgressInfo{File: r.Name(), FileIndex: fi, Packets: rd.packets,
			Offset: off, Size: rd.sizes[fi], Done: done})
	}
}

// each reads every file in order and calls f for every packet, stopping at
// the first damaged capture.
func (rd *reading) each(readers []*capture.Reader, rep *Report, f func(p *capture.Packet, id int64)) error {
	for fi, r := range readers {
		fr := &rep.Files[fi]
		fr.Format = r.Format().String()
		for {
			p, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				fr.Error = err.Error()
				rd.progress(fi, r, 0, true)
				return err
			}
			if rd.padded(p) {
				fr.Padded++
			}
			f(p, rd.packets)
			rd.packets++
			fr.Packets++
			if rd.packets%progressEvery == 0 {
				rd.progress(fi, r, p.Offset, false)
			}
		}
		rd.progress(fi, r, rd.sizes[fi], fi == len(readers)-1)
	}
	return nil
}

// inline replays on the calling goroutine: read, decode, replay, one packet
// at a time, in capture order (tracing).
func (rd *reading) inline(readers []*capture.Reader, m *machine, rep *Report) error {
	dec := capture.NewDecoderOptions(capture.DecoderOptions{IgnoreChecksums: rd.opts.IgnoreChecksums})
	// The reader's record buffer is ours to modify until the next record
	// (capture.Packet), so the shard rewrites the frame in place.
	pkt := Packet{Owned: true}
	settle()
	err := rd.each(readers, rep, func(p *capture.Packet, id int64) {
		pkt.ID, pkt.Timestamp, pkt.OrigLen, pkt.Link, pkt.Data, pkt.Iface = id, p.Timestamp, p.OrigLen, p.LinkType, p.Data, p.Interface
		dec.Decode(p, &pkt.Dec)
		m.shardOf(pkt.Dec.FlowHash).inject(&pkt)
	})
	rep.PacketsRead = rd.packets
	return err
}

// grouped replays on the calling goroutine, a batch at a time, each batch
// in shard order (shardOrder). Tracing prints events in capture order and
// uses inline instead.
func (rd *reading) grouped(readers []*capture.Reader, m *machine, rep *Report) error {
	dec := capture.NewDecoderOptions(capture.DecoderOptions{IgnoreChecksums: rd.opts.IgnoreChecksums})
	d := new(capture.Decoded) // reused, see parallel
	b := newBatchSize(soloPackets, soloBytes)
	ord := newShardOrder(len(m.shards), soloPackets)
	settle()
	err := rd.each(readers, rep, func(p *capture.Packet, id int64) {
		dec.Decode(p, d)
		if !b.fits(len(p.Data)) {
			ord.run(m, b)
			b.reset()
		}
		b.add(p, id).frameInfo = frameInfoOf(d)
	})
	ord.run(m, b)
	rep.PacketsRead = rd.packets
	return err
}

// parallel reads and decodes on the calling goroutine and replays on
// workers goroutines, in capture order. Worker w runs a contiguous block of
// shards (shard i on worker i*workers/shards), not every workers-th one:
// shards built one after another sit next to each other on the Go heap,
// and two workers writing the counters of neighbouring shards would share
// cache lines (measured on 2 cores: -j 2 used 18% more CPU than -j 1 that
// way, 6-7% more with blocks).
func (rd *reading) parallel(readers []*capture.Reader, m *machine, rep *Report, workers int) error {
	lanes := make([]*lane, workers)
	var wg sync.WaitGroup
	for w := range lanes {
		l := newLane()
		lanes[w] = l
		wg.Add(1)
		go func() {
			defer wg.Done()
			ord := newShardOrder(len(m.shards), batchPackets)
			for b := range l.work {
				ord.run(m, b)
				l.free <- b
			}
		}()
	}
	dec := capture.NewDecoderOptions(capture.DecoderOptions{IgnoreChecksums: rd.opts.IgnoreChecksums})
	nshards := uint64(len(m.shards))
	// d is reused: Decode keeps a pointer to its output while it runs, so
	// a fresh value per packet would escape to the heap.
	d := new(capture.Decoded)
	settle()
	err := rd.each(readers, rep, func(p *capture.Packet, id int64) {
		dec.Decode(p, d)
		l := lanes[(d.FlowHash%nshards)*uint64(workers)/nshards]
		l.slot(p, id).frameInfo = frameInfoOf(d)
	})
	for _, l := range lanes {
		l.flush()
		close(l.work)
	}
	wg.Wait()
	rep.PacketsRead = rd.packets
	return err
}

// machine is the set of shards a replay runs.
type machine struct {
	shards []*shard
	lay    *layout
}

func newMachine(s *Scenario, opts Options) (*machine, error) {
	n := s.Shards
	if n <= 0 {
		n = DefaultShards
	}
	m := &machine{shards: make([]*shard, n), lay: layoutOf(s)}
	if err := checkEvents(s, m.lay, opts); err != nil {
		return nil, err
	}
	for i := range m.shards {
		sh, err := newShard(s, i, m.lay, opts)
		if err != nil {
			for _, built := range m.shards[:i] {
				built.abort()
			}
			return nil, err
		}
		m.shards[i] = sh
	}
	return m, nil
}

// checkEvents applies the scenario's events, in order, to a stack of its
// own, so that an event the stack refuses (an address or route that is
// there already, or not there, a route through a device that is down) is
// an error at its line before the replay starts. What an event does does
// not depend on the packets before it, so each shard will apply them
// alike.
func checkEvents(s *Scenario, lay *layout, opts Options) error {
	if len(s.Events) == 0 {
		return nil
	}
	opts.Trace = nil
	sh, err := newShard(s, 0, lay, opts)
	if err != nil {
		return err
	}
	defer sh.abort()
	for i, e := range s.Events {
		if err := sh.stack.Apply(e); err != nil {
			return s.errAt(at(s.Src.Events, i), "event (%s): %v", e, err)
		}
	}
	return nil
}

func (m *machine) shardOf(hash uint64) *shard { return m.shards[hash%uint64(len(m.shards))] }

// report starts the report with what is known before replaying.
func (m *machine) report(s *Scenario) *Report {
	sh := m.shards[0]
	rep := &Report{Scenario: s.Name, Design: sh.design, Kernel: sh.alloc.Profile().Name,
		Shards: len(m.shards), Complete: true}
	for _, e := range s.Events {
		rep.Events = append(rep.Events, EventRow{At: e.At, Command: e.String()})
	}
	return rep
}

// finish closes every shard in order and merges their tallies.
func (m *machine) finish(rep *Report) {
	var st kmem.Stats
	var cs carrier.Stats
	var ns netstack.Stats
	t := newTally(m.lay)
	for _, sh := range m.shards {
		if sh.tr != nil {
			sh.tr.end()
		}
		sh.close()
		ns.Add(sh.stack.Stats())
		st.Merge(&sh.stats)
		mergeCarrierStats(&cs, &sh.carStats)
		t.merge(sh.tally)
		rep.LiveObjectsAtEnd += sh.stats.LiveObjects
		rep.Leaks = append(rep.Leaks, sh.leaks...)
	}
	for i := range rep.Events {
		rep.Events[i].Applied = rep.Events[i].At < uint64(rep.PacketsRead)
	}
	rep.Allocations = allocations(&st, rep.PacketsRead)
	rep.Ops = opRows(&st.Ops)
	rep.Carrier = carrierRows(&cs)
	rep.Stack = stackRows(&ns)
	t.fill(rep)
}
