package capture

import (
	"bytes"
	"io"
	"sync"
	"testing"
	"time"
)

// benchPackets is the size of the capture the benchmarks decode.
const benchPackets = 200000

var largeCapture = sync.OnceValue(func() []byte {
	var buf bytes.Buffer
	if _, err := Generate(&buf, GenSpec{Preset: "large", Seed: 1, Packets: benchPackets}); err != nil {
		panic(err)
	}
	return buf.Bytes()
})

// BenchmarkDecodeOnly reads (pcapgo, zero-copy) and decodes
// (DecodingLayerParser) a generated capture of many flows held in memory:
// the ceiling for any replay of it. One op is the whole capture.
func BenchmarkDecodeOnly(b *testing.B) {
	data := largeCapture()
	dec := NewDecoder()
	var d Decoded
	pkts := 0
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		r, err := NewReader("large.pcap", bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		for {
			p, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			dec.Decode(p, &d)
			pkts++
		}
	}
	reportRate(b, pkts, cpuTime()-cpu0)
}

// reportRate reports packets per second of wall time, and wall and CPU
// nanoseconds per packet.
func reportRate(b *testing.B, pkts int, cpu time.Duration) {
	b.ReportMetric(float64(pkts)/b.Elapsed().Seconds(), "pkts/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(pkts), "ns/pkt")
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(pkts), "cpu-ns/pkt")
	}
}

// BenchmarkDecode decodes packets already in memory: one op is one packet.
func BenchmarkDecode(b *testing.B) {
	type pkt struct {
		link LinkType
		data []byte
	}
	var pkts []pkt
	r, err := NewReader("large.pcap", bytes.NewReader(largeCapture()))
	if err != nil {
		b.Fatal(err)
	}
	for len(pkts) < 20000 {
		p, err := r.Next()
		if err != nil {
			b.Fatal(err)
		}
		pkts = append(pkts, pkt{p.LinkType, append([]byte(nil), p.Data...)})
	}
	dec := NewDecoder()
	var d Decoded
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		p := &pkts[i%len(pkts)]
		dec.DecodeBytes(p.link, p.data, len(p.data), &d)
		i++
	}
}

// BenchmarkReader reads without decoding: one op is the whole capture.
func BenchmarkReader(b *testing.B) {
	data := largeCapture()
	pkts := 0
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		r, err := NewReader("large.pcap", bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := r.Next(); err != nil {
				break
			}
			pkts++
		}
	}
	reportRate(b, pkts, cpuTime()-cpu0)
}

// BenchmarkGenerate writes the demo preset: one op is 300 packets.
func BenchmarkGenerate(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Generate(io.Discard, GenSpec{Preset: "demo", Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}
