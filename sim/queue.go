package sim

import (
	"github.com/skbsim/skbsim/capture"
)

// Packet is one captured packet as a shard replays it. Data is a view into
// the replay's buffers, valid only during the call that receives it.
type Packet struct {
	// ID is the packet's index in the capture (for several captures, the
	// index counted across them in the order given).
	ID        int64
	Timestamp int64
	OrigLen   int
	Link      capture.LinkType
	// Owned says Data is the replay's own copy (a batch slot), which the
	// shard may modify in place.
	Owned bool
	// Iface is the capture interface (pcapng); with several entry points
	// it picks the entry.
	Iface int
	Data  []byte
	Dec   capture.Decoded
}

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
	pkts  [batchPackets]Packet
	arena []byte
}

func newBatch() *batch { return &batch{arena: make([]byte, arenaBytes)} }

// fits reports whether a packet of size bytes fits.
func (b *batch) fits(size int) bool {
	return b.n < batchPackets && b.used+size <= len(b.arena)
}

// add copies p into the batch and returns the slot, whose Dec the caller
// fills.
func (b *batch) add(p *capture.Packet, id int64) *Packet {
	s := &b.pkts[b.n]
	b.n++
	end := b.used + len(p.Data)
	s.Data = b.arena[b.used:end:end]
	copy(s.Data, p.Data)
	b.used = end
	s.ID, s.Timestamp, s.OrigLen, s.Link, s.Iface, s.Owned = id, p.Timestamp, p.OrigLen, p.LinkType, p.Interface, true
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

// laneDepth is the number of batches per lane.
const laneDepth = 4

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
func (l *lane) slot(p *capture.Packet, id int64) *Packet {
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
