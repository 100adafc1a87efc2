package capture

import (
	"encoding/binary"
	"errors"
	"io"

	"github.com/gopacket/gopacket/pcapgo"
)

const (
	pcapFileHeaderLen   = 24
	pcapRecordHeaderLen = 16
)

// openPcap checks the 24-byte pcap file header, then hands the stream to
// pcapgo. pcapgo wraps its source in a bufio.Reader unless it already is one
// of at least 4 KiB, so it reads through r.br and the consumed position
// stays exact.
func (r *Reader) openPcap() error {
	h, _ := r.br.Peek(pcapFileHeaderLen)
	if len(h) < pcapFileHeaderLen {
		if err := r.readErr(); err != nil {
			return err
		}
		return errorf(ErrTruncated, "truncated file header (want %d bytes, have %d)", pcapFileHeaderLen, len(h))
	}
	var order binary.ByteOrder = binary.LittleEndian
	switch binary.BigEndian.Uint32(h) {
	case 0xa1b2c3d4:
		r.bigEndian, r.nanoFactor = true, 1000
	case 0xd4c3b2a1:
		r.nanoFactor = 1000
	case 0xa1b23c4d:
		r.bigEndian, r.nanoFactor = true, 1
	case 0x4d3cb2a1:
		r.nanoFactor = 1
	}
	if r.bigEndian {
		order = binary.BigEndian
	}
	major, minor := order.Uint16(h[4:6]), order.Uint16(h[6:8])
	if major != 2 || minor != 4 {
		return errorf(ErrUnsupportedVersion, "unsupported pcap version %d.%d (want 2.4)", major, minor)
	}
	r.pcapLink = order.Uint32(h[20:24])
	pr, err := pcapgo.NewReader(r.br)
	if err != nil {
		return wrapf(ErrCorrupt, err, "pcap file header: %v", err)
	}
	r.pcap = pr
	r.format = FormatPcap
	return nil
}

// pcapLinkType returns the file's link type, or an error for one the decoder
// cannot handle. The upper bits of the field may carry the FCS length
// (LT_FCS_DATALEN); other reserved bits make the type unknown.
func (r *Reader) pcapLinkType() (LinkType, error) {
	const fcsBits = 0xf0000000 | 0x04000000
	lt := r.pcapLink &^ fcsBits
	if lt > 0xffff || !LinkType(lt).Supported() {
		if lt > 0xffff {
			return 0, errorf(ErrUnsupportedLinkType, "unsupported link type %d (unknown)", r.pcapLink)
		}
		return 0, unsupportedLinkType(LinkType(lt))
	}
	return LinkType(lt), nil
}

func (r *Reader) nextPcap() error {
	off := r.pos()
	h, _ := r.br.Peek(pcapRecordHeaderLen)
	if len(h) < pcapRecordHeaderLen {
		if err := r.readErr(); err != nil {
			return r.fail(off, err)
		}
		if len(h) == 0 {
			return io.EOF
		}
		return r.fail(off, errorf(ErrTruncated, "truncated record header (want %d bytes, have %d)", pcapRecordHeaderLen, len(h)))
	}
	link, err := r.pcapLinkType()
	if err != nil {
		return r.fail(off, err)
	}
	var order binary.ByteOrder = binary.LittleEndian
	if r.bigEndian {
		order = binary.BigEndian
	}
	sec, frac := order.Uint32(h[0:4]), order.Uint32(h[4:8])
	caplen, origlen := order.Uint32(h[8:12]), order.Uint32(h[12:16])
	if caplen > MaxCapLen {
		return r.fail(off, errorf(ErrBadHeader, "impossible record header (caplen %d > maximum %d)", caplen, MaxCapLen))
	}
	if caplen > origlen {
		return r.fail(off, errorf(ErrBadHeader, "impossible record header (caplen %d > origlen %d)", caplen, origlen))
	}
	data, _, err := r.pcap.ZeroCopyReadPacketData()
	if err != nil {
		if rerr := r.readErr(); rerr != nil {
			return r.fail(off, rerr)
		}
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			have := r.haveFrom(off + pcapRecordHeaderLen)
			return r.fail(off, errorf(ErrTruncated, "truncated record (want %d bytes, have %d)", caplen, have))
		}
		return r.fail(off, wrapf(ErrCorrupt, err, "corrupt record: %v", err))
	}
	r.pkt = Packet{
		Data:     data,
		Offset:   off,
		CapLen:   len(data),
		OrigLen:  int(origlen),
		LinkType: link,
	}
	// The timestamp is taken from the header rather than from pcapgo, which
	// multiplies the microsecond field in 32 bits and wraps out-of-range
	// values.
	r.pkt.Timestamp = int64(sec)*1e9 + int64(frac)*r.nanoFactor
	if int64(frac)*r.nanoFactor >= 1e9 {
		r.pkt.Flags |= PktBadTimestamp
	}
	return nil
}
