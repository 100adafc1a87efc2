package sim

import (
	"math"

	"github.com/skbsim/skbsim/capture"
)

// Packet is one captured packet with its decoded headers, as the
// single-worker path replays it (the tracer prints the headers; batches for
// several workers carry a much smaller summary). Data is a view into the
// replay's buffers, valid only during the call that receives it.
type Packet struct {
	// ID is the packet's index in the capture (for several captures, the
	// index counted across them in the order given).
	ID        int64
	Timestamp int64
	OrigLen   int
	Link      capture.LinkType
	// Owned says Data is the replay's own copy, which the shard may
	// modify in place.
	Owned bool
	// Iface is the capture interface (pcapng); with several entry points
	// it picks the entry.
	Iface int
	Data  []byte
	Dec   capture.Decoded
}

// frameInfo is what a shard needs of a packet's decoded headers: the flow
// hash and how to build the frame it injects. capture.Decoded is close to
// a kilobyte; batches carry this summary instead.
type frameInfo struct {
	hash        uint64
	etherType   uint16 // Hdr[0].L2.EtherType
	l2Len       uint16 // Hdr[0].L2.HeaderLen
	l2Kind      capture.L2Kind
	l3          capture.L3Proto
	unsupported bool // FlagUnsupportedLink
}

func frameInfoOf(d *capture.Decoded) frameInfo {
	h := &d.Hdr[0]
	return frameInfo{hash: d.FlowHash, etherType: h.L2.EtherType, l2Len: h.L2.HeaderLen,
		l2Kind: h.L2.Kind, l3: h.L3.Proto, unsupported: d.Flags&capture.FlagUnsupportedLink != 0}
}

// wire is a packet as a shard injects it: a batch slot, or built from a
// Packet on the single-worker path. It fits one 64-byte cache line
// (TestWireSize): the reader fills slots that a worker on another core
// read last, and each line it writes is a coherence miss; at 72 bytes, the
// reader's store to a slot was the costliest instruction of -j 2.
type wire struct {
	id, ts int64
	data   []byte
	iface  int32 // capture interface, at most math.MaxInt32
	link   capture.LinkType
	owned  bool // data is the replay's own copy, which the shard may modify in place
	frameInfo
}

// wireIface is the capture interface as wire keeps it.
func wireIface(i int) int32 { return int32(min(i, math.MaxInt32)) }

// batchPackets and arenaBytes size a batch: up to batchPackets packets
// whose bytes fit in the arena. The arena holds at least one packet of the
// largest captured length a reader accepts.
const (
	batchPackets = 128
	arenaBytes   = 2 * capture.MaxCapLen
)

// batch is a slab of packets travelling from the reader to one worker.
// Batches are preallocated and recycled, so steady-state replay does not
// allocate.
type batch struct {
	n     int
	used  int
	pkts  []wire
	arena []byte
}

func newBatch() *batch { return newBatchSize(batchPackets, arenaBytes) }

func newBatchSize(packets, bytes int) *batch {
	return &batch{pkts: make([]wire, packets), arena: make([]byte, bytes)}
}

// fits reports whether a packet of size bytes fits.
func (b *batch) fits(size int) bool {
	return b.n < len(b.pkts) && b.used+size <= len(b.arena)
}

// add copies p into the batch and returns the slot, whose frameInfo the
// caller fills.
func (b *batch) add(p *capture.Packet, id int64) *wire {
	s := &b.pkts[b.n]
	b.n++
	end := b.used + len(p.Data)
	s.data = b.arena[b.used:end:end]
	copy(s.data, p.Data)
	b.used = end
	s.id, s.ts, s.link, s.iface, s.owned = id, p.Timestamp, p.LinkType, wireIface(p.Interface), true
	return s
}

func (b *batch) reset() { b.n, b.used = 0, 0 }

// lane is the queue between the reader and one worker: full batches go
// down work, emptied ones come back on free.
type lane struct {
	work chan *batch
	free chan *batch
	cur  *batch
}

// laneDepth is the number of batches per lane. With -j N on N cores the
// reader shares a core with a worker, and the Go scheduler runs them in
// turn; the other workers keep going only on what is queued. Deeper lanes
// starve them less: on 2 cores, -j 2 over the 1.6M-packet capture of make
// bench took 1.44 s on average with 4 batches of 128 packets per lane, 1.26
// s with 16 and 1.29 s with 32 (2.67, 2.49 and 2.55 CPU-seconds; five
// alternating runs each). The arenas are touched only as far as packets
// fill them, so the resident memory grows by about 3 MB.
const laneDepth = 16

func newLane() *lane {
	l := &lane{work: make(chan *batch, laneDepth), free: make(chan *batch, laneDepth)}
	for range laneDepth - 1 {
		l.free <- newBatch()
	}
	l.cur = newBatch()
	return l
}

// slot returns room for a packet of size bytes, sending the current batch
// when it is full.
func (l *lane) slot(p *capture.Packet, id int64) *wire {
	if !l.cur.fits(len(p.Data)) {
		l.flush()
	}
	return l.cur.add(p, id)
}

// flush sends the current batch (if it holds anything) and takes a free one.
func (l *lane) flush() {
	if l.cur.n == 0 {
		return
	}
	l.work <- l.cur
	l.cur = <-l.free
	l.cur.reset()
}

// shardOrder replays a batch shard by shard, each shard's packets in
// capture order. A shard's state depends only on its own packets, in
// their order, so this changes no report; it changes locality: a shard's
// packets run back to back while its stack, pools and counters are in
// cache, instead of each packet touching another shard's. On 2 cores, -j 1
// over the 1.6M-packet capture of make bench took 2.03 s on average with
// batches of 1024 packets in shard order against 2.46 s in capture order
// (2.18 s with batches of 128, 2.06 s with 512; four alternating runs
// each); the instructions per packet are the same.
type shardOrder struct {
	next        []int16 // next[i]: the slot after i in its shard's list (-1: none)
	first, last []int16 // per shard: the first and last slot of its list
}

func newShardOrder(shards, slots int) *shardOrder {
	return &shardOrder{next: make([]int16, slots), first: make([]int16, shards), last: make([]int16, shards)}
}

// run replays b's packets through m's shards in shard order.
func (o *shardOrder) run(m *machine, b *batch) {
	for s := range o.first {
		o.first[s] = -1
	}
	n := uint64(len(m.shards))
	for i := range b.n {
		s := b.pkts[i].hash % n
		o.next[i] = -1
		if o.first[s] < 0 {
			o.first[s] = int16(i)
		} else {
			o.next[o.last[s]] = int16(i)
		}
		o.last[s] = int16(i)
	}
	for s, i := range o.first {
		sh := m.shards[s]
		for ; i >= 0; i = o.next[i] {
			sh.replay(&b.pkts[i], nil)
		}
	}
}

// The single-worker batch: more packets than a lane's, since nothing waits
// on it, in an arena that holds at least two packets of the largest length.
const (
	soloPackets = 1024
	soloBytes   = 4 * capture.MaxCapLen
)
