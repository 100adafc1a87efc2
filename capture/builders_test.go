package capture

import (
	"bytes"
	"encoding/binary"
)

// Hand-built capture files, byte by byte, so that tests control byte order,
// resolution, block layout and damage exactly.

// pcapBuilder writes a pcap file.
type pcapBuilder struct {
	order   binary.ByteOrder
	buf     bytes.Buffer
	offsets []int64
}

func newPcap(big, nano bool, link uint32) *pcapBuilder {
	b := &pcapBuilder{order: binary.LittleEndian}
	if big {
		b.order = binary.BigEndian
	}
	magic := uint32(0xa1b2c3d4)
	if nano {
		magic = 0xa1b23c4d
	}
	h := make([]byte, 24)
	b.order.PutUint32(h[0:], magic)
	b.order.PutUint16(h[4:], 2)
	b.order.PutUint16(h[6:], 4)
	b.order.PutUint32(h[16:], 262144)
	b.order.PutUint32(h[20:], link)
	b.buf.Write(h)
	return b
}

// record appends a record with explicit header fields.
func (b *pcapBuilder) record(sec, frac, caplen, origlen uint32, data []byte) *pcapBuilder {
	b.offsets = append(b.offsets, int64(b.buf.Len()))
	h := make([]byte, 16)
	b.order.PutUint32(h[0:], sec)
	b.order.PutUint32(h[4:], frac)
	b.order.PutUint32(h[8:], caplen)
	b.order.PutUint32(h[12:], origlen)
	b.buf.Write(h)
	b.buf.Write(data)
	return b
}

func (b *pcapBuilder) add(sec, frac uint32, data []byte) *pcapBuilder {
	return b.record(sec, frac, uint32(len(data)), uint32(len(data)), data)
}

func (b *pcapBuilder) bytes() []byte { return b.buf.Bytes() }

// ngBuilder writes a pcapng file; every section may have its own byte
// order.
type ngBuilder struct {
	order   binary.ByteOrder
	buf     bytes.Buffer
	offsets []int64 // of packet blocks
}

func (b *ngBuilder) block(typ uint32, body []byte) int64 {
	off := int64(b.buf.Len())
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	n := uint32(12 + len(body))
	h := make([]byte, 8)
	b.order.PutUint32(h[0:], typ)
	b.order.PutUint32(h[4:], n)
	b.buf.Write(h)
	b.buf.Write(body)
	t := make([]byte, 4)
	b.order.PutUint32(t, n)
	b.buf.Write(t)
	return off
}

func (b *ngBuilder) shb(big bool, major, minor uint16) *ngBuilder {
	b.order = binary.LittleEndian
	if big {
		b.order = binary.BigEndian
	}
	body := make([]byte, 16)
	b.order.PutUint32(body[0:], ngBOM)
	b.order.PutUint16(body[4:], major)
	b.order.PutUint16(body[6:], minor)
	binary.LittleEndian.PutUint64(body[8:], ^uint64(0)) // section length unknown
	b.block(ngBlockSHB, body)
	return b
}

// idb adds an interface; tsresol 0 leaves the default (microseconds).
func (b *ngBuilder) idb(link uint16, tsresol byte) *ngBuilder {
	body := make([]byte, 8)
	b.order.PutUint16(body[0:], link)
	b.order.PutUint32(body[4:], 262144)
	if tsresol != 0 {
		opt := make([]byte, 8)
		b.order.PutUint16(opt[0:], 9) // if_tsresol
		b.order.PutUint16(opt[2:], 1)
		opt[4] = tsresol
		body = append(body, opt...)
		body = append(body, 0, 0, 0, 0) // opt_endofopt
	}
	b.block(ngBlockIDB, body)
	return b
}

func (b *ngBuilder) epb(iface uint32, ts uint64, data []byte, origlen uint32) *ngBuilder {
	body := make([]byte, 20, 20+len(data)+4)
	b.order.PutUint32(body[0:], iface)
	b.order.PutUint32(body[4:], uint32(ts>>32))
	b.order.PutUint32(body[8:], uint32(ts))
	b.order.PutUint32(body[12:], uint32(len(data)))
	b.order.PutUint32(body[16:], origlen)
	body = append(body, data...)
	b.offsets = append(b.offsets, b.block(ngBlockEPB, body))
	return b
}

func (b *ngBuilder) spb(data []byte) *ngBuilder {
	body := make([]byte, 4, 4+len(data)+4)
	b.order.PutUint32(body[0:], uint32(len(data)))
	body = append(body, data...)
	b.offsets = append(b.offsets, b.block(ngBlockSPB, body))
	return b
}

func (b *ngBuilder) isb(iface uint32) *ngBuilder {
	body := make([]byte, 12)
	b.order.PutUint32(body[0:], iface)
	b.block(ngBlockISB, body)
	return b
}

// custom adds a block of an unknown type that readers skip.
func (b *ngBuilder) custom(n int) *ngBuilder {
	b.block(0x00000bad, make([]byte, n))
	return b
}

func (b *ngBuilder) bytes() []byte { return b.buf.Bytes() }

// frame returns n bytes of recognisable content.
func frame(n int, seed byte) []byte {
	f := make([]byte, n)
	for i := range f {
		f[i] = seed + byte(i)
	}
	return f
}
