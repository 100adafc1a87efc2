package proptest

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/skbsim/skbsim/capture"
	"github.com/skbsim/skbsim/localstorage"
)

// Fuzz targets. capture's own targets (FuzzReader, FuzzDecode) feed
// arbitrary bytes to the reader and decoder; the ones here check what a
// damaged file must still give: the packets before the damage, unchanged.
// The local storage targets turn bytes into operation sequences with
// rapid.MakeFuzz, so every input is a valid program for the state machine
// and its invariants run after every step.

// seedBytes returns n deterministic pseudo-random inputs for rapid
// properties (the engine reads them as its random stream).
func seedBytes(n int) [][]byte {
	r := rand.New(rand.NewPCG(1, 2))
	out := make([][]byte, n)
	for i := range out {
		b := make([]byte, 64<<(i%5))
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		out[i] = b
	}
	return out
}

// FuzzLocalStorageOps: bytes -> a sequence of operations on one kernel's
// sk, task and skb owners (rfc strategy), invariants after every step.
func FuzzLocalStorageOps(f *testing.F) {
	for _, b := range seedBytes(8) {
		f.Add(b)
	}
	f.Fuzz(rapid.MakeFuzz(ownersProp(localstorage.StrategyRFC, true)))
}

// FuzzLocalStorageOpsSlim is FuzzLocalStorageOps under rfc-slim, whose
// storage lives inside the skb extension.
func FuzzLocalStorageOpsSlim(f *testing.F) {
	for _, b := range seedBytes(8) {
		f.Add(b)
	}
	f.Fuzz(rapid.MakeFuzz(ownersProp(localstorage.StrategySlim, true)))
}

var genPresets = []string{"demo", "mixed"}

// genCapture writes a small generated capture.
func genCapture(tb testing.TB, seed int64, which uint8) []byte {
	links := []capture.LinkType{capture.LinkEthernet, capture.LinkLinuxSLL, capture.LinkSLL2, capture.LinkRaw}
	spec := capture.GenSpec{Preset: genPresets[int(which)%len(genPresets)], Seed: seed, Packets: 12,
		Link: links[int(which/2)%len(links)], Format: []capture.Format{capture.FormatPcap, capture.FormatPcapng}[int(which/8)%2]}
	var buf bytes.Buffer
	if _, err := capture.Generate(&buf, spec); err != nil {
		tb.Fatalf("generate %+v: %v", spec, err)
	}
	return buf.Bytes()
}

// readAll reads every packet (copied) and the error that ended the read
// (nil for a clean EOF).
func readAll(data []byte) ([]capture.Packet, error) {
	r, err := capture.NewReader("fuzz.cap", bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	var out []capture.Packet
	for {
		p, err := r.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, *p.Clone())
	}
}

// checkDamage: every packet whose record ends at or before good (the first
// damaged byte) is read back unchanged, in order, and the read ends with EOF
// or a one-line *capture.Error naming the file. size is the undamaged
// file's length (where the last record ends).
func checkDamage(t *testing.T, full, got []capture.Packet, err error, good, size int64) {
	t.Helper()
	end := func(i int) int64 {
		if i+1 < len(full) {
			return full[i+1].Offset
		}
		return size
	}
	intact := 0
	for i := range full {
		if end(i) <= good {
			intact = i + 1
		}
	}
	if len(got) < intact {
		t.Fatalf("read %d packets, but the first %d records end before the damage at byte %d (err %v)", len(got), intact, good, err)
	}
	for i := range intact {
		p, w := got[i], full[i]
		if p.Index != w.Index || p.Timestamp != w.Timestamp || p.LinkType != w.LinkType || !bytes.Equal(p.Data, w.Data) {
			t.Fatalf("packet %d, before the damage at byte %d, differs", i, good)
		}
	}
	if err != nil {
		var ce *capture.Error
		if !errors.As(err, &ce) {
			t.Fatalf("error %T is not a *capture.Error: %v", err, err)
		}
		if msg := err.Error(); strings.ContainsAny(msg, "\r\n") || !strings.Contains(msg, "fuzz.cap") {
			t.Fatalf("error %q is not one line naming the file", msg)
		}
	}
}

// FuzzCaptureTruncated cuts a generated capture anywhere: the reader
// returns every packet whose record is complete, unchanged, then EOF or a
// one-line error.
func FuzzCaptureTruncated(f *testing.F) {
	for i := range 16 {
		f.Add(int64(i), uint8(i), uint32(i*97+30))
	}
	f.Fuzz(func(t *testing.T, seed int64, which uint8, cut uint32) {
		data := genCapture(t, seed%1000, which)
		full, err := readAll(data)
		if err != nil || len(full) == 0 {
			t.Fatalf("generated capture does not read back: %d packets, %v", len(full), err)
		}
		c := int64(cut) % int64(len(data)+1)
		got, err := readAll(data[:c])
		if c < full[0].Offset {
			return // the file header itself is cut: any one-line error will do
		}
		checkDamage(t, full, got, err, c, int64(len(data)))
		if c == int64(len(data)) && (err != nil || len(got) != len(full)) {
			t.Fatalf("untruncated read: %d of %d packets, %v", len(got), len(full), err)
		}
	})
}

// FuzzCaptureCorrupted flips one byte of a generated capture: nothing
// panics, the packets before the damaged record are unchanged, errors keep
// their contract.
func FuzzCaptureCorrupted(f *testing.F) {
	for i := range 16 {
		f.Add(int64(i), uint8(i), uint32(i*131+7), uint8(0x80>>(i%8)))
	}
	f.Fuzz(func(t *testing.T, seed int64, which uint8, pos uint32, xor uint8) {
		if xor == 0 {
			return
		}
		data := genCapture(t, seed%1000, which)
		full, err := readAll(data)
		if err != nil {
			t.Fatal(err)
		}
		p := int64(pos) % int64(len(data))
		data[p] ^= xor
		got, err := readAll(data)
		if p < full[0].Offset {
			if err != nil {
				checkDamage(t, nil, nil, err, 0, 0)
			}
			return
		}
		checkDamage(t, full, got, err, p, int64(len(data)))
	})
}
