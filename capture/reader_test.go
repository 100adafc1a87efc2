package capture

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/internal/errno"
)

// readAll reads every packet, cloning each, and returns the final error
// (nil at a clean end).
func readAll(tb testing.TB, r *Reader) ([]*Packet, error) {
	tb.Helper()
	var pkts []*Packet
	for {
		p, err := r.Next()
		if err == io.EOF {
			return pkts, nil
		}
		if err != nil {
			return pkts, err
		}
		pkts = append(pkts, p.Clone())
	}
}

func mustReader(tb testing.TB, name string, b []byte) *Reader {
	tb.Helper()
	r, err := NewReader(name, bytes.NewReader(b))
	require.NoError(tb, err)
	tb.Cleanup(func() { r.Close() })
	return r
}

func TestReaderPcapVariants(t *testing.T) {
	tests := []struct {
		name      string
		big, nano bool
		frac      uint32
		wantNS    int64
	}{
		{"little endian usec", false, false, 123456, 1_700_000_000_123_456_000},
		{"big endian usec", true, false, 123456, 1_700_000_000_123_456_000},
		{"little endian nsec", false, true, 123456789, 1_700_000_000_123_456_789},
		{"big endian nsec", true, true, 123456789, 1_700_000_000_123_456_789},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newPcap(tt.big, tt.nano, uint32(LinkEthernet))
			b.add(1_700_000_000, tt.frac, frame(60, 1))
			b.record(1_700_000_001, 0, 40, 1514, frame(40, 2))
			b.add(1_700_000_002, 0, frame(1514, 3))
			r := mustReader(t, "v.pcap", b.bytes())
			assert.Equal(t, FormatPcap, r.Format())
			pkts, err := readAll(t, r)
			require.NoError(t, err)
			require.Len(t, pkts, 3)
			for i, p := range pkts {
				assert.Equal(t, int64(i), p.Index)
				assert.Equal(t, b.offsets[i], p.Offset, "offset of packet %d", i)
				assert.Equal(t, LinkEthernet, p.LinkType)
				assert.Equal(t, 0, p.Interface)
				assert.Equal(t, len(p.Data), p.CapLen)
			}
			assert.Equal(t, tt.wantNS, pkts[0].Timestamp)
			assert.Equal(t, frame(60, 1), pkts[0].Data)
			assert.Equal(t, 1514, pkts[1].OrigLen)
			assert.Equal(t, 40, pkts[1].CapLen)
			assert.Equal(t, PktSnapped, pkts[1].Flags)
			assert.Equal(t, PacketFlags(0), pkts[2].Flags)
			assert.Equal(t, int64(1_700_000_002_000_000_000), pkts[2].Timestamp)
		})
	}
}

func TestReaderPcapBadTimestamp(t *testing.T) {
	b := newPcap(false, true, uint32(LinkEthernet))
	b.add(10, 999_999_999, frame(20, 0))
	b.add(10, 1_000_000_000, frame(20, 0))
	pkts, err := readAll(t, mustReader(t, "ts.pcap", b.bytes()))
	require.NoError(t, err)
	require.Len(t, pkts, 2)
	assert.Equal(t, PacketFlags(0), pkts[0].Flags)
	assert.Equal(t, PktBadTimestamp, pkts[1].Flags)
	assert.Equal(t, int64(11_000_000_000), pkts[1].Timestamp)
}

// TestReaderPcapngSections reads a file with three sections in both byte
// orders, several interfaces of different link types, every packet block
// type, and blocks the reader must skip.
func TestReaderPcapngSections(t *testing.T) {
	var b ngBuilder
	b.shb(false, 1, 0).idb(uint16(LinkEthernet), 0).idb(uint16(LinkNull), 9)
	b.epb(0, 1_000_000, frame(60, 1), 60)     // 1 s in usec
	b.epb(1, 2_000_000_000, frame(44, 2), 44) // 2 s in nsec
	b.isb(0).custom(100)
	b.epb(0, 3_000_000, frame(30, 3), 1500) // snapped
	b.shb(true, 1, 0).idb(uint16(LinkRaw), 0x88)
	b.epb(0, 4<<8, frame(20, 4), 20) // 4 s in 2^-8 units
	b.spb(frame(64, 5))
	b.shb(false, 2, 0).idb(uint16(LinkEthernet), 0) // unknown version: skipped
	b.epb(0, 0, frame(10, 6), 10)
	b.shb(true, 1, 0).idb(uint16(LinkSLL2), 0)
	b.epb(0, 5_000_000, frame(70, 7), 70)
	skipped := b.offsets[5]
	b.offsets = append(b.offsets[:5], b.offsets[6:]...)

	r := mustReader(t, "x.pcapng", b.bytes())
	assert.Equal(t, FormatPcapng, r.Format())
	pkts, err := readAll(t, r)
	require.NoError(t, err)
	require.Len(t, pkts, 6)
	want := []struct {
		link  LinkType
		iface int
		ts    int64
		seed  byte
	}{
		{LinkEthernet, 0, 1e9, 1},
		{LinkNull, 1, 2e9, 2},
		{LinkEthernet, 0, 3e9, 3},
		{LinkRaw, 2, 4e9, 4},
		{LinkRaw, 2, 0, 5},
		{LinkSLL2, 3, 5e9, 7},
	}
	for i, p := range pkts {
		assert.Equal(t, int64(i), p.Index)
		assert.Equal(t, b.offsets[i], p.Offset, "offset of packet %d", i)
		assert.NotEqual(t, skipped, p.Offset)
		assert.Equal(t, want[i].link, p.LinkType, "link type of packet %d", i)
		assert.Equal(t, want[i].iface, p.Interface, "interface of packet %d", i)
		assert.Equal(t, want[i].ts, p.Timestamp, "timestamp of packet %d", i)
		assert.Equal(t, want[i].seed, p.Data[0])
	}
	assert.Equal(t, PktSnapped, pkts[2].Flags)
	assert.Equal(t, 1500, pkts[2].OrigLen)
}

// TestReaderPcapngLookAhead covers the documented fallback: a packet block
// behind more non-packet blocks than the look-ahead window holds is located
// at the first of those blocks.
func TestReaderPcapngLookAhead(t *testing.T) {
	var b ngBuilder
	b.shb(false, 1, 0)
	first := int64(b.buf.Len()) // pcapgo reads the interface block with the first packet
	b.idb(uint16(LinkEthernet), 0).custom(40 << 10).custom(40 << 10)
	b.epb(0, 0, frame(60, 1), 60)
	b.custom(8)
	b.epb(0, 0, frame(60, 2), 60)
	pkts, err := readAll(t, mustReader(t, "big.pcapng", b.bytes()))
	require.NoError(t, err)
	require.Len(t, pkts, 2)
	assert.Equal(t, first, pkts[0].Offset)
	assert.Equal(t, b.offsets[1], pkts[1].Offset)
}

func TestReaderGzip(t *testing.T) {
	b := newPcap(false, false, uint32(LinkEthernet)).add(1, 0, frame(60, 1)).add(2, 0, frame(61, 2))
	var z bytes.Buffer
	w := gzip.NewWriter(&z)
	_, err := w.Write(b.bytes())
	require.NoError(t, err)
	require.NoError(t, w.Close())
	pkts, err := readAll(t, mustReader(t, "x.pcap.gz", z.Bytes()))
	require.NoError(t, err)
	require.Len(t, pkts, 2)
	assert.Equal(t, b.offsets[1], pkts[1].Offset)
	assert.Equal(t, frame(61, 2), pkts[1].Data)

	// A gzip stream cut short is a truncated capture.
	r := mustReader(t, "cut.pcap.gz", z.Bytes()[:z.Len()-30])
	pkts, err = readAll(t, r)
	assert.Less(t, len(pkts), 2)
	assert.ErrorIs(t, err, ErrTruncated)
	assert.Contains(t, err.Error(), "truncated")
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.pcap")
	require.NoError(t, os.WriteFile(path, newPcap(false, false, 1).add(1, 0, frame(60, 1)).bytes(), 0o644))
	r, err := Open(path)
	require.NoError(t, err)
	assert.Equal(t, path, r.Name())
	pkts, err := readAll(t, r)
	require.NoError(t, err)
	assert.Len(t, pkts, 1)
	require.NoError(t, r.Close())
	require.NoError(t, r.Close(), "a second Close is harmless")

	_, err = Open(filepath.Join(dir, "missing.pcap"))
	var ce *Error
	require.ErrorAs(t, err, &ce)
	assert.ErrorIs(t, err, ErrRead)
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestReaderNextAfterClosePanics(t *testing.T) {
	r := mustReader(t, "a.pcap", newPcap(false, false, 1).bytes())
	require.NoError(t, r.Close())
	defer func() {
		assert.NotNil(t, recover(), "Next after Close must panic")
	}()
	_, _ = r.Next()
	t.Fatal("Next after Close did not panic")
}

// pcapBytes returns a 2-packet pcap with packets of 100 and 200 bytes:
// records at 24 and 140, the second record's data at 156, 356 bytes in all.
func pcapBytes() []byte {
	return newPcap(false, false, uint32(LinkEthernet)).add(1, 0, frame(100, 0)).add(2, 0, frame(200, 0)).bytes()
}

func ngBytes() (*ngBuilder, []byte) {
	var b ngBuilder
	b.shb(false, 1, 0).idb(uint16(LinkEthernet), 0)
	b.epb(0, 1, frame(100, 0), 100).epb(0, 2, frame(200, 0), 200)
	return &b, b.bytes()
}

func patch(b []byte, off int, v ...byte) []byte {
	c := append([]byte(nil), b...)
	copy(c[off:], v)
	return c
}

func TestReaderErrors(t *testing.T) {
	pc := pcapBytes()
	ngb, ng := ngBytes()
	ep0, ep1 := int(ngb.offsets[0]), int(ngb.offsets[1])
	tests := []struct {
		name        string
		data        []byte
		wantPackets int
		wantMsg     string
		wantIs      error
		wantErrno   errno.Errno
		wantIndex   int64
		wantOffset  int64
	}{
		{"empty file", nil, 0, "x: packet 0 at byte 0: empty file", ErrEmpty, errno.EINVAL, 0, 0},
		{"bad magic", []byte("GET / HTTP/1.1\r\n\r\n"), 0,
			"x: packet 0 at byte 0: bad magic 0x47455420 (not a pcap or pcapng file)", ErrBadMagic, errno.EINVAL, 0, 0},
		{"three bytes", []byte{0xd4, 0xc3, 0xb2}, 0,
			"x: packet 0 at byte 0: truncated file header (want at least 4 bytes, have 3)", ErrTruncated, errno.EINVAL, 0, 0},
		{"truncated pcap header", pc[:20], 0,
			"x: packet 0 at byte 0: truncated file header (want 24 bytes, have 20)", ErrTruncated, errno.EINVAL, 0, 0},
		{"pcap version 2.3", patch(pc, 6, 3, 0), 0,
			"x: packet 0 at byte 0: unsupported pcap version 2.3 (want 2.4)", ErrUnsupportedVersion, errno.EOPNOTSUPP, 0, 0},
		{"truncated record header", pc[:140+5], 1,
			"x: packet 1 at byte 140: truncated record header (want 16 bytes, have 5)", ErrTruncated, errno.EINVAL, 1, 140},
		{"truncated record", pc[:356-150], 1,
			"x: packet 1 at byte 140: truncated record (want 200 bytes, have 50)", ErrTruncated, errno.EINVAL, 1, 140},
		{"record with no data", pc[:156], 1,
			"x: packet 1 at byte 140: truncated record (want 200 bytes, have 0)", ErrTruncated, errno.EINVAL, 1, 140},
		{"caplen above origlen", patch(pc, 140+12, 100, 0, 0, 0), 1,
			"x: packet 1 at byte 140: impossible record header (caplen 200 > origlen 100)", ErrBadHeader, errno.EINVAL, 1, 140},
		{"caplen above maximum", patch(pc, 24+8, 0, 0, 0, 0x10, 0, 0, 0, 0x10), 0,
			"x: packet 0 at byte 24: impossible record header (caplen 268435456 > maximum 262144)", ErrBadHeader, errno.EINVAL, 0, 24},
		{"unsupported link type", patch(pc, 20, 160, 0, 0, 0), 0,
			"x: packet 0 at byte 24: unsupported link type 160 (USER13)", ErrUnsupportedLinkType, errno.EOPNOTSUPP, 0, 24},
		{"unknown link type", patch(pc, 20, 0x34, 0x12, 0, 0), 0,
			"x: packet 0 at byte 24: unsupported link type 4660 (unknown)", ErrUnsupportedLinkType, errno.EOPNOTSUPP, 0, 24},
		{"pcapng truncated section header", ng[:20], 0,
			"x: packet 0 at byte 0: truncated section header block (want 28 bytes, have 20)", ErrTruncated, errno.EINVAL, 0, 0},
		{"pcapng bad byte-order magic", patch(ng, 8, 1, 2, 3, 4), 0,
			"x: packet 0 at byte 0: bad byte-order magic 0x01020304 in section header block", ErrBadHeader, errno.EINVAL, 0, 0},
		{"pcapng truncated block", ng[:len(ng)-10], 1,
			"x: packet 1 at byte " + itoa(ep1) + ": truncated block (want 232 bytes, have 222)", ErrTruncated, errno.EINVAL, 1, int64(ep1)},
		{"pcapng truncated block header", ng[:ep1+6], 1,
			"x: packet 1 at byte " + itoa(ep1) + ": truncated block header (want 12 bytes, have 6)", ErrTruncated, errno.EINVAL, 1, int64(ep1)},
		{"pcapng odd block length", patch(ng, ep1+4, 233), 1,
			"x: packet 1 at byte " + itoa(ep1) + ": impossible enhanced packet block length 233", ErrBadHeader, errno.EINVAL, 1, int64(ep1)},
		{"pcapng caplen beyond block", patch(ng, ep0+20, 200), 0,
			"x: packet 0 at byte " + itoa(ep0) + ": impossible enhanced packet block (caplen 200 in a 132-byte block)", ErrBadHeader, errno.EINVAL, 0, int64(ep0)},
		{"pcapng interface missing", patch(ng, ep1+8, 7), 1,
			"x: packet 1 at byte " + itoa(ep1) + ": corrupt block: Interface id 7 not present in section (have only 1 interfaces)", ErrCorrupt, errno.EINVAL, 1, int64(ep1)},
		{"pcapng unsupported link type", patch(ng, 36, 160), 0,
			"x: packet 0 at byte " + itoa(ep0) + ": unsupported link type 160 (USER13)", ErrUnsupportedLinkType, errno.EOPNOTSUPP, 0, int64(ep0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var pkts []*Packet
			r, err := NewReader("x", bytes.NewReader(tt.data))
			if err == nil {
				pkts, err = readAll(t, r)
				// The error is sticky.
				_, again := r.Next()
				assert.Equal(t, err, again)
			}
			require.Error(t, err)
			assert.Len(t, pkts, tt.wantPackets)
			assert.Equal(t, tt.wantMsg, err.Error())
			var ce *Error
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, "x", ce.File)
			assert.Equal(t, tt.wantIndex, ce.Index)
			assert.Equal(t, tt.wantOffset, ce.Offset)
			assert.ErrorIs(t, err, tt.wantIs)
			assert.ErrorIs(t, err, tt.wantErrno)
			assert.ErrorIs(t, err, syscall.Errno(tt.wantErrno))
		})
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// failingReader returns its data, then an I/O error.
type failingReader struct {
	data []byte
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

func TestReaderIOError(t *testing.T) {
	boom := errors.New("disk on fire")
	pc := pcapBytes()
	r, err := NewReader("x", &failingReader{data: pc[:200], err: boom})
	require.NoError(t, err)
	pkts, err := readAll(t, r)
	assert.Len(t, pkts, 1)
	assert.Equal(t, "x: packet 1 at byte 140: read error: disk on fire", err.Error())
	assert.ErrorIs(t, err, ErrRead)
	assert.ErrorIs(t, err, boom)
}

func TestErrorIsOneLine(t *testing.T) {
	err := &Error{File: "f", Index: 1, Offset: 2, Err: errors.New("two\nlines")}
	assert.Equal(t, "f: packet 1 at byte 2: two lines", err.Error())
}

// TestReaderNoAllocs proves the steady state of Next allocates nothing, for
// pcap and pcapng.
func TestReaderNoAllocs(t *testing.T) {
	const n = 2000
	pc := newPcap(false, false, uint32(LinkEthernet))
	var ng ngBuilder
	ng.shb(false, 1, 0).idb(uint16(LinkEthernet), 0)
	for i := range n {
		pc.add(uint32(i), 0, frame(60+i%1400, byte(i)))
		ng.epb(0, uint64(i), frame(60+i%1400, byte(i)), uint32(60+i%1400))
	}
	for name, data := range map[string][]byte{"pcap": pc.bytes(), "pcapng": ng.bytes()} {
		t.Run(name, func(t *testing.T) {
			r := mustReader(t, name, data)
			_, err := r.Next() // warm up the buffers
			require.NoError(t, err)
			allocs := testing.AllocsPerRun(n/2, func() {
				if _, err := r.Next(); err != nil {
					t.Fatal(err)
				}
			})
			assert.Zero(t, allocs, "allocations per Next")
		})
	}
}

// TestReaderDataWritable checks the Packet contract the replay relies on
// to rewrite frames in place: scribbling over a record's Data changes
// neither the records after it nor their offsets, in either format and
// whether a record is shorter or longer than the one before.
func TestReaderDataWritable(t *testing.T) {
	ng := func() []byte {
		var b ngBuilder
		b.shb(false, 1, 0).idb(uint16(LinkEthernet), 0)
		b.epb(0, 1, frame(100, 1), 100).epb(0, 2, frame(60, 2), 60).epb(0, 3, frame(300, 3), 300)
		return b.bytes()
	}()
	pcap := newPcap(false, false, uint32(LinkEthernet)).add(1, 0, frame(100, 1)).add(2, 0, frame(60, 2)).add(3, 0, frame(300, 3)).bytes()
	for name, b := range map[string][]byte{"pcap": pcap, "pcapng": ng} {
		t.Run(name, func(t *testing.T) {
			want, err := readAll(t, mustReader(t, name, b))
			require.NoError(t, err)
			require.Len(t, want, 3)
			r := mustReader(t, name, b)
			for i := range want {
				p, err := r.Next()
				require.NoError(t, err)
				assert.Equal(t, want[i].Data, p.Data, "packet %d", i)
				assert.Equal(t, want[i].Offset, p.Offset, "packet %d", i)
				for j := range p.Data {
					p.Data[j] = 0xee
				}
			}
			_, err = r.Next()
			assert.Equal(t, io.EOF, err)
		})
	}
}
