package capture

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"time"

	"github.com/gopacket/gopacket/pcapgo"
)

// Format is the container format of a capture file.
type Format uint8

// Capture file formats.
const (
	FormatPcap   Format = 1 // libpcap, version 2.4
	FormatPcapng Format = 2 // pcapng, version 1.0
)

func (f Format) String() string {
	switch f {
	case FormatPcap:
		return "pcap"
	case FormatPcapng:
		return "pcapng"
	}
	return "unknown"
}

// PacketFlags note conditions of a record that are not errors.
type PacketFlags uint8

const (
	// PktBadTimestamp: the record's sub-second field is out of range (a
	// microsecond field >= 10^6 or a nanosecond field >= 10^9). Timestamp
	// holds seconds*10^9 + field*scale anyway, as libpcap would compute it.
	PktBadTimestamp PacketFlags = 1 << iota
	// PktSnapped: the packet was cut by the snapshot length (CapLen <
	// OrigLen), so headers may claim bytes that are not in Data.
	PktSnapped
)

// Packet is one record of a capture. It is a view owned by the Reader: Data
// and the Packet itself are valid until the next call to [Reader.Next] or
// [Reader.Close]. Use [Packet.Clone] to keep one. Data is the reader's own
// copy of the record (pcapgo reads each record into a buffer of its own),
// so the caller may modify it in place: the Reader never reads it again.
type Packet struct {
	// Data holds the captured bytes (CapLen of them).
	Data []byte
	// Index is the 0-based position of the packet in the file.
	Index int64
	// Offset is the byte offset of the packet's record (pcap: exact) or of
	// its packet block (pcapng: exact unless non-packet blocks larger than
	// the reader's look-ahead window precede it, in which case it is the
	// offset of the first of those blocks).
	Offset int64
	// Timestamp is the capture time in nanoseconds since the Unix epoch
	// (0 for pcapng simple packet blocks, which carry none).
	Timestamp int64
	// CapLen is the number of bytes captured, OrigLen the length of the
	// packet on the wire.
	CapLen, OrigLen int
	// LinkType says what Data starts with.
	LinkType LinkType
	// Interface is the pcapng interface the packet was captured on, counted
	// across sections in the order the interface blocks appear (always 0
	// for pcap). Interfaces of sections skipped for an unknown version are
	// not counted.
	Interface int
	// Flags note out-of-range timestamps and snapped packets.
	Flags PacketFlags
}

// Time returns Timestamp as a time.Time in UTC.
func (p *Packet) Time() time.Time { return time.Unix(0, p.Timestamp).UTC() }

// Clone returns a copy of the packet that owns its bytes.
func (p *Packet) Clone() *Packet {
	c := *p
	c.Data = append([]byte(nil), p.Data...)
	return &c
}

// readBufSize is the look-ahead window of the reader: the bufio buffer that
// pcapgo reads through and that the reader peeks headers in.
const readBufSize = 64 << 10

// Reader streams the packets of one pcap or pcapng file. It is not safe for
// concurrent use.
type Reader struct {
	name   string
	file   *os.File // closed by Close when Open created the Reader
	cnt    *countingReader
	br     *bufio.Reader
	format Format
	pkt    Packet
	index  int64
	err    error // sticky: the error Next returned, io.EOF at the end
	closed bool
	gzip   bool

	pcap       *pcapgo.Reader
	nanoFactor int64
	bigEndian  bool
	pcapLink   uint32

	ng          *pcapgo.NgReader
	sectionBase int // interfaces in the sections before the current one
}

// countingReader counts the bytes the bufio layer has taken from the source,
// so that the consumed position is cnt.n - br.Buffered().
type countingReader struct {
	r   io.Reader
	n   int64
	eof bool
	err error // first error other than io.EOF
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err == io.EOF {
		c.eof = true
	} else if err != nil && c.err == nil {
		c.err = err
	}
	return n, err
}

// Open opens a capture file for reading. The returned Reader owns the file
// and closes it on Close.
func Open(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{File: path, Err: wrapf(ErrRead, err, "open: %v", err)}
	}
	r, err := NewReader(path, f)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.file = f
	return r, nil
}

// NewReader reads a capture from src, using name in error messages. It reads
// and checks the file header before returning. The Reader does NOT take
// ownership of src: Close leaves it open.
func NewReader(name string, src io.Reader) (*Reader, error) {
	r := &Reader{name: name, cnt: &countingReader{r: src}}
	r.br = bufio.NewReaderSize(r.cnt, readBufSize)
	if err := r.open(); err != nil {
		return nil, r.fail(0, err)
	}
	return r, nil
}

func (r *Reader) open() error {
	head, _ := r.br.Peek(4)
	if len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b {
		gz, err := gzip.NewReader(r.br)
		if err != nil {
			return wrapf(ErrTruncated, err, "damaged gzip header: %v", err)
		}
		// Offsets count the uncompressed stream from here on.
		r.gzip = true
		r.cnt = &countingReader{r: gz}
		r.br = bufio.NewReaderSize(r.cnt, readBufSize)
		head, _ = r.br.Peek(4)
	}
	if len(head) < 4 {
		if err := r.readErr(); err != nil {
			return err
		}
		if len(head) == 0 {
			return errorf(ErrEmpty, "empty file")
		}
		return errorf(ErrTruncated, "truncated file header (want at least 4 bytes, have %d)", len(head))
	}
	switch magic := binary.BigEndian.Uint32(head); magic {
	case 0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1:
		return r.openPcap()
	case ngBlockSHB:
		return r.openNg()
	default:
		return errorf(ErrBadMagic, "bad magic 0x%08x (not a pcap or pcapng file)", magic)
	}
}

// Name returns the name given to NewReader (the path for Open).
func (r *Reader) Name() string { return r.name }

// Format returns the container format of the file.
func (r *Reader) Format() Format { return r.format }

// Next returns the next packet, io.EOF after the last one, or an [*Error].
// The returned Packet and its Data are owned by the Reader and valid until
// the next call to Next or Close. After an error, Next keeps returning it.
func (r *Reader) Next() (*Packet, error) {
	if r.closed {
		panic("capture: Next on a closed Reader (" + r.name + ")")
	}
	if r.err != nil {
		return nil, r.err
	}
	var err error
	if r.format == FormatPcap {
		err = r.nextPcap()
	} else {
		err = r.nextNg()
	}
	if err != nil {
		r.err = err
		return nil, err
	}
	r.pkt.Index = r.index
	r.index++
	if r.pkt.CapLen < r.pkt.OrigLen {
		r.pkt.Flags |= PktSnapped
	}
	return &r.pkt, nil
}

// Close releases the reader and closes the file Open opened. Next must not
// be called after Close.
func (r *Reader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	r.pkt = Packet{}
	if r.file != nil {
		return r.file.Close()
	}
	return nil
}

// pos is the number of bytes consumed from the (uncompressed) stream.
func (r *Reader) pos() int64 { return r.cnt.n - int64(r.br.Buffered()) }

// fail wraps err in an *Error at offset off for the packet being read.
func (r *Reader) fail(off int64, err error) error {
	return &Error{File: r.name, Index: r.index, Offset: off, Err: err}
}

// readErr reports a failure of the source, if there was one.
func (r *Reader) readErr() error {
	switch err := r.cnt.err; {
	case err == nil:
		return nil
	case r.gzip && errors.Is(err, io.ErrUnexpectedEOF):
		return wrapf(ErrTruncated, err, "truncated gzip stream")
	case r.gzip:
		return wrapf(ErrCorrupt, err, "damaged gzip stream: %v", err)
	}
	return wrapf(ErrRead, r.cnt.err, "read error: %v", r.cnt.err)
}

// haveFrom is the number of bytes the stream holds from offset off on,
// known once the source reached EOF.
func (r *Reader) haveFrom(off int64) int64 {
	if h := r.cnt.n - off; h > 0 {
		return h
	}
	return 0
}

// setTimestamp fills pkt.Timestamp from a time.Time, flagging times that do
// not fit int64 nanoseconds.
func (r *Reader) setTimestamp(t time.Time) {
	if t.IsZero() {
		r.pkt.Timestamp = 0
		return
	}
	const maxSec = (1<<63 - 1) / 1_000_000_000
	if s := t.Unix(); s > maxSec || s < -maxSec {
		r.pkt.Flags |= PktBadTimestamp
		if s > 0 {
			r.pkt.Timestamp = maxSec * 1e9
		} else {
			r.pkt.Timestamp = -maxSec * 1e9
		}
		return
	}
	r.pkt.Timestamp = t.UnixNano()
}
