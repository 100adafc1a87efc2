package capture

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"math/bits"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// pcapng block types (draft-ietf-opsawg-pcapng).
const (
	ngBlockIDB = 0x00000001
	ngBlockPB  = 0x00000002 // obsolete packet block
	ngBlockSPB = 0x00000003
	ngBlockNRB = 0x00000004
	ngBlockISB = 0x00000005
	ngBlockEPB = 0x00000006
	ngBlockDSB = 0x0000000a
	ngBlockSHB = 0x0a0d0d0a // a palindrome: the same in both byte orders
	ngBOM      = 0x1a2b3c4d

	// ngMaxBlockLen bounds the blocks the reader accepts: a packet block
	// holds at most MaxCapLen bytes of packet plus options, and no other
	// block comes near this.
	ngMaxBlockLen = 16 << 20
)

// ngMinBlockLen is the smallest total length of each block type: a shorter
// one cannot hold its fixed fields, and pcapgo would read past it.
func ngMinBlockLen(typ uint32) uint32 {
	switch typ {
	case ngBlockSHB:
		return 28
	case ngBlockIDB:
		return 20
	case ngBlockEPB, ngBlockPB:
		return 32
	case ngBlockSPB, ngBlockNRB:
		return 16
	case ngBlockISB, ngBlockDSB:
		return 24
	}
	return 12
}

func ngBlockName(typ uint32) string {
	switch typ {
	case ngBlockSHB:
		return "section header block"
	case ngBlockIDB:
		return "interface description block"
	case ngBlockEPB:
		return "enhanced packet block"
	case ngBlockPB:
		return "packet block"
	case ngBlockSPB:
		return "simple packet block"
	case ngBlockNRB:
		return "name resolution block"
	case ngBlockISB:
		return "interface statistics block"
	case ngBlockDSB:
		return "decryption secrets block"
	}
	return "block"
}

func (r *Reader) ngOrder() binary.ByteOrder {
	if r.bigEndian {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// checkSHB checks the section header block at relative offset off of the
// look-ahead window and switches the byte order to the section's.
func (r *Reader) checkSHB(h []byte, off int) error {
	switch bom := binary.BigEndian.Uint32(h[off+8 : off+12]); bom {
	case ngBOM:
		r.bigEndian = true
	case 0x4d3c2b1a:
		r.bigEndian = false
	default:
		return errorf(ErrBadHeader, "bad byte-order magic 0x%08x in section header block", bom)
	}
	return nil
}

func (r *Reader) openNg() error {
	h, _ := r.br.Peek(28)
	if len(h) < 28 {
		if err := r.readErr(); err != nil {
			return err
		}
		return errorf(ErrTruncated, "truncated section header block (want 28 bytes, have %d)", len(h))
	}
	if err := r.checkSHB(h, 0); err != nil {
		return err
	}
	if l := r.ngOrder().Uint32(h[4:8]); l < 28 || l%4 != 0 || l > ngMaxBlockLen {
		return errorf(ErrBadHeader, "impossible section header block length %d", l)
	}
	ng, err := pcapgo.NewNgReader(r.br, pcapgo.NgReaderOptions{
		WantMixedLinkType:  true,
		SkipUnknownVersion: true,
		SectionEndCallback: func(ifaces []pcapgo.NgInterface, _ pcapgo.NgSectionInfo) {
			r.sectionBase += len(ifaces)
		},
	})
	if err != nil {
		return r.ngError(err, 0, 0, false)
	}
	r.ng = ng
	r.format = FormatPcapng
	return nil
}

// ngWalk looks ahead, without consuming, from the current position to the
// next packet block, checking every block header on the way. It returns the
// relative offset of the packet block and its total length, known=false when
// the packet block lies beyond the look-ahead window, or the error of the
// first impossible block (with that block's relative offset).
func (r *Reader) ngWalk() (off int, blockLen uint32, known bool, err error) {
	skipping := false
	for {
		h, perr := r.br.Peek(off + 12)
		if len(h) < off+12 {
			if errors.Is(perr, bufio.ErrBufferFull) {
				return off, 0, false, nil
			}
			if rerr := r.readErr(); rerr != nil {
				return off, 0, false, rerr
			}
			if len(h) == off {
				return off, 0, true, nil // clean end of file: pcapgo says io.EOF
			}
			return off, 0, false, errorf(ErrTruncated, "truncated block header (want 12 bytes, have %d)", len(h)-off)
		}
		typ := r.ngOrder().Uint32(h[off:])
		if typ == ngBlockSHB {
			if err := r.checkSHB(h, off); err != nil {
				return off, 0, false, err
			}
			if hv, _ := r.br.Peek(off + 16); len(hv) == off+16 {
				// pcapgo (SkipUnknownVersion) skips a whole section whose
				// version is not 1.0, as the pcapng draft says to.
				skipping = r.ngOrder().Uint16(hv[off+12:]) != 1 || r.ngOrder().Uint16(hv[off+14:]) != 0
			}
		} else if typ > 0xffff && typ&^0x40000000 != 0xbad {
			// A block in the other byte order than the one the reader
			// believes in: resynchronise (the look-ahead window missed a
			// section header).
			if sw := bits.ReverseBytes32(typ); sw <= 0xffff {
				r.bigEndian = !r.bigEndian
				typ = sw
			}
		}
		l := r.ngOrder().Uint32(h[off+4:])
		if l < ngMinBlockLen(typ) || l%4 != 0 || l > ngMaxBlockLen {
			return off, 0, false, errorf(ErrBadHeader, "impossible %s length %d", ngBlockName(typ), l)
		}
		switch {
		case skipping:
		case typ == ngBlockEPB || typ == ngBlockPB:
			h, _ = r.br.Peek(off + 28)
			if len(h) < off+28 {
				return off, l, true, nil // pcapgo reports the truncation
			}
			caplen := r.ngOrder().Uint32(h[off+20:])
			if caplen > MaxCapLen {
				return off, l, true, errorf(ErrBadHeader, "impossible %s (caplen %d > maximum %d)", ngBlockName(typ), caplen, MaxCapLen)
			}
			if caplen > l-32 {
				return off, l, true, errorf(ErrBadHeader, "impossible %s (caplen %d in a %d-byte block)", ngBlockName(typ), caplen, l)
			}
			return off, l, true, nil
		case typ == ngBlockSPB:
			if origlen := r.ngOrder().Uint32(h[off+8:]); origlen > l-16 && origlen > MaxCapLen {
				return off, l, true, errorf(ErrBadHeader, "impossible simple packet block (length %d in a %d-byte block)", origlen, l)
			}
			return off, l, true, nil
		}
		off += int(l)
		if off+12 > readBufSize {
			return off, 0, false, nil
		}
	}
}

func (r *Reader) nextNg() error {
	start := r.pos()
	rel, blockLen, known, werr := r.ngWalk()
	off := start
	if known || werr != nil {
		off = start + int64(rel)
	}
	if werr != nil {
		return r.fail(off, werr)
	}
	data, ci, err := r.ng.ZeroCopyReadPacketData()
	if err != nil {
		if err == io.EOF {
			return io.EOF
		}
		return r.fail(off, r.ngError(err, off, blockLen, known))
	}
	link := LinkType(0)
	if len(ci.AncillaryData) > 0 {
		if lt, ok := ci.AncillaryData[0].(layers.LinkType); ok {
			link = LinkType(lt)
		}
	}
	if !link.Supported() {
		return r.fail(off, unsupportedLinkType(link))
	}
	r.pkt = Packet{
		Data:      data,
		Offset:    off,
		CapLen:    len(data),
		OrigLen:   ci.Length,
		LinkType:  link,
		Interface: r.sectionBase + ci.InterfaceIndex,
	}
	r.setTimestamp(ci.Timestamp)
	return nil
}

// ngError classifies an error pcapgo returned for the block at off.
func (r *Reader) ngError(err error, off int64, blockLen uint32, known bool) error {
	if rerr := r.readErr(); rerr != nil {
		return rerr
	}
	truncated := errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		(r.cnt.eof && r.br.Buffered() == 0)
	if truncated {
		if known && blockLen > 0 {
			return errorf(ErrTruncated, "truncated block (want %d bytes, have %d)", blockLen, r.haveFrom(off))
		}
		return errorf(ErrTruncated, "truncated block (have %d bytes)", r.haveFrom(off))
	}
	return wrapf(ErrCorrupt, err, "corrupt block: %v", err)
}
