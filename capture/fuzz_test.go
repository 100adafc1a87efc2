package capture

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// fuzzSeeds are small generated captures of every link type and format,
// and hand-built files of the shapes the reader must handle.
func fuzzSeeds(f *testing.F) [][]byte {
	var seeds [][]byte
	for _, link := range []LinkType{LinkEthernet, LinkLinuxSLL, LinkSLL2, LinkRaw} {
		for _, format := range []Format{FormatPcap, FormatPcapng} {
			var buf bytes.Buffer
			if _, err := Generate(&buf, GenSpec{Preset: "mixed", Seed: 5, Packets: 8, Link: link, Format: format}); err != nil {
				f.Fatal(err)
			}
			seeds = append(seeds, buf.Bytes())
		}
	}
	var ng ngBuilder
	ng.shb(true, 1, 0).idb(uint16(LinkNull), 9).epb(0, 1, frame(40, 1), 40).spb(frame(20, 2))
	ng.shb(false, 1, 0).idb(uint16(LinkEthernet), 0x88).isb(0).custom(16).epb(0, 2, frame(60, 3), 100)
	seeds = append(seeds, ng.bytes(), pcapBytes(), newPcap(true, true, uint32(LinkRaw)).add(1, 2, frame(30, 0x45)).bytes())
	return seeds
}

// checkReaderError asserts the error contract: an *Error, one line,
// naming the file, matching a sentinel.
func checkReaderError(t *testing.T, err error) {
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %T is not *capture.Error: %v", err, err)
	}
	msg := err.Error()
	if strings.ContainsAny(msg, "\r\n") || !strings.HasPrefix(msg, "fuzz: packet ") {
		t.Fatalf("bad error message %q", msg)
	}
	for _, s := range []error{ErrEmpty, ErrBadMagic, ErrTruncated, ErrBadHeader, ErrUnsupportedVersion,
		ErrUnsupportedLinkType, ErrCorrupt, ErrRead} {
		if errors.Is(err, s) {
			return
		}
	}
	t.Fatalf("error matches no sentinel: %v", err)
}

// FuzzReader feeds arbitrary bytes to the reader and decodes every packet
// it delivers: nothing may panic, errors keep their contract.
func FuzzReader(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	dec := NewDecoder()
	dec.surfacePanics()
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader("fuzz", bytes.NewReader(data))
		if err != nil {
			checkReaderError(t, err)
			return
		}
		var d Decoded
		for i := int64(0); ; i++ {
			p, err := r.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				checkReaderError(t, err)
				return
			}
			if p.Index != i || len(p.Data) != p.CapLen || p.CapLen > MaxCapLen || !p.LinkType.Supported() {
				t.Fatalf("bad packet %d: index %d caplen %d len %d link %v", i, p.Index, p.CapLen, len(p.Data), p.LinkType)
			}
			dec.Decode(p, &d)
		}
	})
}

// FuzzDecode feeds arbitrary packets of every link type to the decoder.
func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds(f)[:8] {
		r, err := NewReader("seed", bytes.NewReader(s))
		if err != nil {
			f.Fatal(err)
		}
		for {
			p, err := r.Next()
			if err != nil {
				break
			}
			f.Add(uint16(p.LinkType), append([]byte(nil), p.Data...), uint16(0))
		}
	}
	f.Add(uint16(LinkPPP), []byte{0xff, 0x03, 0x02, 0x81, 0, 1, 0x21, 0xff, 0x45}, uint16(3))
	f.Add(uint16(LinkNull), []byte{0x1e, 0, 0, 0, 0x60}, uint16(100))
	dec := NewDecoder()
	dec.surfacePanics()
	f.Fuzz(func(t *testing.T, link uint16, data []byte, snapped uint16) {
		var d Decoded
		dec.DecodeBytes(LinkType(link), data, len(data)+int(snapped), &d)
		if int(d.Depth) > MaxTunnelDepth {
			t.Fatalf("depth %d", d.Depth)
		}
		if d.Malformed != MalformedNone && int(d.MalformedOffset) > len(data) {
			t.Fatalf("malformation at %d beyond %d bytes", d.MalformedOffset, len(data))
		}
		if d.Flow.IsValid() && d.Flow.Reverse().Hash() != d.FlowHash {
			t.Fatalf("flow hash not symmetric")
		}
		if d.Malformed.DropReason() == DropNone && d.Malformed != MalformedNone {
			t.Fatalf("malformation %v without a drop reason", d.Malformed)
		}
	})
}
