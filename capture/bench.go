package capture

import (
	"io"
	"time"
)

// DecodeOnly reads and decodes every packet of the capture at path and
// returns the number of packets and the time taken: the rate no replay of
// the file can exceed, which the CLI's bench target prints next to the
// simulator's own rate.
func DecodeOnly(path string) (packets int, dur time.Duration, err error) {
	start := time.Now()
	r, err := Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer r.Close()
	dec := NewDecoder()
	var d Decoded
	for {
		p, err := r.Next()
		if err == io.EOF {
			return packets, time.Since(start), nil
		}
		if err != nil {
			return packets, time.Since(start), err
		}
		dec.Decode(p, &d)
		packets++
	}
}
