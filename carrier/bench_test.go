package carrier_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/skb"
)

// packet is one packet's life under a design: the driver builds the skb, a
// program writes the value (XDP for xdp-meta, tc egress otherwise), tc
// ingress reads it, the stack consumes the skb; an RCU grace period then
// ends (the replay engine runs one between packets).
type packet struct {
	c     carrier.Carrier
	a     *skb.Allocator
	write carrier.Hook
	v     []byte
	clone bool
}

func newPacket(tb testing.TB, d design, clone bool) *packet {
	tb.Helper()
	flags := d.flags
	if d.name == carrier.NameXDPMeta {
		flags = 0
	}
	c, env := mustNew(tb, d.name, []carrier.MapSpec{{Name: "m", ValueSize: 16, Flags: flags}}, d.opts)
	return &packet{c: c, a: env.Alloc, write: d.write, v: val(16, 1), clone: clone}
}

func (p *packet) run(tb testing.TB) {
	b, err := p.a.BuildSkb(2048)
	if err != nil {
		tb.Fatal(err)
	}
	b.Reserve(skb.XDPPacketHeadroom)
	b.Put(frameLen)
	b.ResetMacHeader()
	if err := p.c.Store(p.write, b, 0, p.v); err != nil {
		tb.Fatal(err)
	}
	if p.clone {
		// A packet tap: dev_queue_xmit_nit clones, the tap frees its copy.
		n, err := b.Clone()
		if err != nil {
			tb.Fatal(err)
		}
		n.ConsumeSkb()
	}
	if _, err := p.c.Lookup(carrier.HookTCIngress, b, 0); err != nil {
		tb.Fatal(err)
	}
	b.ConsumeSkb()
	carrier.GracePeriod(p.c)
}

func BenchmarkPacket(b *testing.B) {
	for _, d := range designs {
		b.Run(d.name, func(b *testing.B) {
			p := newPacket(b, d, false)
			b.ReportAllocs()
			for b.Loop() {
				p.run(b)
			}
		})
	}
}

// BenchmarkPacketWithTap adds a clone that is freed at once (a packet tap
// on the transmit path).
func BenchmarkPacketWithTap(b *testing.B) {
	for _, d := range designs {
		if d.name == "rfc" || d.name[:3] == "rfc" {
			continue // the RFC refuses reads while the clone shares the extension; measured above
		}
		b.Run(d.name, func(b *testing.B) {
			p := newPacket(b, d, true)
			b.ReportAllocs()
			for b.Loop() {
				p.run(b)
			}
		})
	}
}

// TestSteadyStateNoHeapAllocs: after warming the pools, a packet's life
// allocates nothing on the Go heap under any design.
func TestSteadyStateNoHeapAllocs(t *testing.T) {
	for _, d := range designs {
		for _, clone := range []bool{false, true} {
			if clone && d.name[:3] == "rfc" {
				continue
			}
			name := d.name
			if clone {
				name += "/tap"
			}
			t.Run(name, func(t *testing.T) {
				p := newPacket(t, d, clone)
				for i := 0; i < 64; i++ {
					p.run(t)
				}
				require.Zero(t, testing.AllocsPerRun(200, func() { p.run(t) }))
			})
		}
	}
}
