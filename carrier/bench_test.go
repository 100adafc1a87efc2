package carrier_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/kmem"
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
	// A reader before the writer: the miss path must not allocate either.
	if _, err := p.c.Lookup(carrier.HookTCIngress, b, 0); err == nil {
		tb.Fatal("value before the first write")
	}
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

// TestPerPacketCost prices one packet's life under each design with the
// reference cost table, minus the same packet's life without any program
// (the skb allocation and free), so the figure is the design's share. The
// per-operation counts are logged (go test -run PerPacketCost -v).
func TestPerPacketCost(t *testing.T) {
	table := cost.Default()
	price := func(a, b *kmem.Stats) (cost.Range, cost.Counts) {
		d := b.Sub(a)
		var allocs, frees [cost.NumSizeClasses]uint64
		for i := range d.ByClass {
			allocs[i] = d.ByClass[i].Allocs
			frees[i] = d.ByClass[i].Frees + d.ByClass[i].DeferredFrees
		}
		return table.Estimate(d.Ops, &allocs, &frees), d.Ops
	}
	run := func(d design) (cost.Range, cost.Counts) {
		p := newPacket(t, d, false)
		for i := 0; i < 8; i++ {
			p.run(t)
		}
		acct := p.a.Accountant()
		before := acct.Stats()
		p.run(t)
		after := acct.Stats()
		return price(&before, &after)
	}
	// The baseline: a design whose program does nothing costs the skb's
	// life only; measure it with xdp-meta and no store.
	env, _ := newEnv(t)
	before := env.Acct.Stats()
	b := rxSkb(t, env.Alloc)
	b.ConsumeSkb()
	after := env.Acct.Stats()
	base, _ := price(&before, &after)
	est := map[string]float64{}
	for _, d := range designs {
		r, ops := run(d)
		est[d.name] = r.NS - base.NS
		var sb strings.Builder
		for op := cost.Op(0); op < cost.NumOps; op++ {
			if ops[op] != 0 {
				fmt.Fprintf(&sb, " %s=%d", op, ops[op])
			}
		}
		t.Logf("%-13s %6.0f ns (range %.0f..%.0f) beyond the skb's own life;%s",
			d.name, r.NS-base.NS, r.Low-base.Low, r.High-base.High, sb.String())
	}
	for n, v := range est {
		if n != carrier.NameXDPMeta {
			require.Greater(t, v, est[carrier.NameXDPMeta], "%s vs xdp-meta", n)
		}
	}
	require.Greater(t, est["rfc"], est["rfc-prealloc"])
	require.Greater(t, est["rfc"], est[carrier.NameExtBuffer])
}
