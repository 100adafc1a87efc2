package capture

import (
	"bytes"
	"net/netip"
	"testing"

	"pgregory.net/rapid"
)

func drawAddr(t *rapid.T, label string) netip.Addr {
	if rapid.Bool().Draw(t, label+"4") {
		return netip.AddrFrom4([4]byte(rapid.SliceOfN(rapid.Byte(), 4, 4).Draw(t, label)))
	}
	return netip.AddrFrom16([16]byte(rapid.SliceOfN(rapid.Byte(), 16, 16).Draw(t, label)))
}

// TestFlowHashProperties: the hash is symmetric, and a key differing in
// any field almost never collides (checked on the drawn pair).
func TestFlowHashProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		k := FlowKey{Src: drawAddr(t, "src"), Dst: drawAddr(t, "dst"),
			SrcPort: rapid.Uint16().Draw(t, "sport"), DstPort: rapid.Uint16().Draw(t, "dport"),
			Proto: rapid.Uint8().Draw(t, "proto")}
		if k.Hash() != k.Reverse().Hash() {
			t.Fatalf("%v: hash not symmetric", k)
		}
		o := k
		o.SrcPort++
		if o != k.Reverse() && o.Hash() == k.Hash() {
			t.Fatalf("%v and %v collide", k, o)
		}
	})
}

// TestGenerateProperties: for any spec, the file holds exactly the
// packets asked for, in time order, all well formed, and is the same on a
// second run.
func TestGenerateProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		spec := GenSpec{
			Preset:  rapid.SampledFrom(Presets()).Draw(t, "preset"),
			Seed:    rapid.Int64().Draw(t, "seed"),
			Packets: rapid.IntRange(1, 300).Draw(t, "packets"),
			Flows:   rapid.IntRange(1, 40).Draw(t, "flows"),
			Link:    rapid.SampledFrom([]LinkType{LinkEthernet, LinkLinuxSLL, LinkSLL2, LinkRaw}).Draw(t, "link"),
			Format:  rapid.SampledFrom([]Format{FormatPcap, FormatPcapng}).Draw(t, "format"),
		}
		var a, b bytes.Buffer
		n, err := Generate(&a, spec)
		if err != nil || n != spec.Packets {
			t.Fatalf("Generate = %d, %v; want %d packets", n, err, spec.Packets)
		}
		if _, err := Generate(&b, spec); err != nil || !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Fatalf("second run differs (%v)", err)
		}
		r, err := NewReader("gen", &a)
		if err != nil {
			t.Fatal(err)
		}
		dec := NewDecoder()
		var d Decoded
		var last int64
		count := 0
		for {
			p, err := r.Next()
			if err != nil {
				break
			}
			count++
			if p.Timestamp < last || p.LinkType != spec.Link {
				t.Fatalf("packet %d: time %d after %d, link %v", p.Index, p.Timestamp, last, p.LinkType)
			}
			last = p.Timestamp
			dec.Decode(p, &d)
			if d.Malformed != MalformedNone || d.Flags&(FlagSnapped|FlagUnsupportedLink) != 0 {
				t.Fatalf("packet %d: %v, flags %b", p.Index, d.Malformed, d.Flags)
			}
		}
		if count != spec.Packets {
			t.Fatalf("read %d packets, want %d", count, spec.Packets)
		}
	})
}
