package capture

import (
	"fmt"
	"io"
)

// Repeat writes to dst a pcap file holding the packets of the capture at
// src, repeated whole until at least minPackets are written, and returns
// the number written. Each copy is shifted in time to start one average
// packet gap after the previous copy ends, so timestamps keep increasing.
// The output uses nanosecond timestamps and the link type of src, which
// must have a single link type. src is streamed once per copy: memory does
// not grow with the output.
func Repeat(dst io.Writer, src string, minPackets int) (n int, err error) {
	rp := repeater{dst: dst, src: src}
	for {
		count, span, err := rp.copyOnce()
		n += count
		if err != nil {
			return n, fmt.Errorf("repeat: %w", err)
		}
		if count == 0 {
			return 0, fmt.Errorf("repeat: %s: no packets", src)
		}
		if n >= minPackets {
			break
		}
		rp.shift += span + max(span/int64(count), 1000)
	}
	if err := rp.cw.flush(); err != nil {
		return n, fmt.Errorf("repeat: %w", err)
	}
	return n, nil
}

type repeater struct {
	dst   io.Writer
	src   string
	cw    *captureWriter
	link  LinkType
	shift int64
}

// copyOnce copies src once with timestamps shifted by rp.shift and returns
// the packets copied and the time from the first to the last.
func (rp *repeater) copyOnce() (count int, span int64, err error) {
	r, err := Open(rp.src)
	if err != nil {
		return 0, 0, err
	}
	defer r.Close()
	var first int64
	for {
		p, err := r.Next()
		if err == io.EOF {
			return count, span, nil
		}
		if err != nil {
			return count, span, err
		}
		if rp.cw == nil {
			rp.link = p.LinkType
			if rp.cw, err = newCaptureWriterNanos(rp.dst, p.LinkType); err != nil {
				return count, span, err
			}
		}
		if p.LinkType != rp.link {
			return count, span, fmt.Errorf("%s: packet %d has link type %d (%s), not %d (%s) as the first: pcap holds one link type",
				rp.src, p.Index, uint16(p.LinkType), p.LinkType, uint16(rp.link), rp.link)
		}
		if count == 0 {
			first = p.Timestamp
		}
		span = p.Timestamp - first
		if err := rp.cw.writeLen(p.Timestamp+rp.shift, p.Data, p.OrigLen); err != nil {
			return count, span, err
		}
		count++
	}
}
