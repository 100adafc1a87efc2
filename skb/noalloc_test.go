package skb

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// steadyOps are the per-packet operations that must not allocate on the Go
// heap once the pools are warm.
var steadyOps = []struct {
	name string
	run  func(a *Allocator, out []*Buff)
}{
	{"alloc_skb+kfree_skb", func(a *Allocator, _ []*Buff) {
		b, _ := a.AllocSkb(1500)
		b.KfreeSkb(DropNotSpecified)
	}},
	{"netdev_alloc_skb+consume", func(a *Allocator, _ []*Buff) {
		b, _ := a.NetdevAllocSkb(1500)
		b.ConsumeSkb()
	}},
	{"napi_build_skb+metadata+consume", func(a *Allocator, _ []*Buff) {
		b, _ := a.BuildSkb(2048)
		b.Reserve(XDPPacketHeadroom)
		b.Put(60)
		b.MetadataSet(8)
		b.ResetMacHeader()
		_, _ = b.Metadata()
		b.ConsumeSkb()
	}},
	{"clone+free both", func(a *Allocator, _ []*Buff) {
		b, _ := a.AllocSkb(200)
		c, _ := b.Clone()
		c.ConsumeSkb()
		b.ConsumeSkb()
	}},
	{"fclone clone", func(a *Allocator, _ []*Buff) {
		b, _ := a.AllocSkbFclone(200)
		c, _ := b.Clone()
		b.ConsumeSkb()
		c.ConsumeSkb()
	}},
	{"push/pull", func(a *Allocator, _ []*Buff) {
		b, _ := a.AllocSkb(200)
		b.Reserve(64)
		b.Put(100)
		b.Push(14)
		b.Pull(14)
		b.Trim(50)
		b.ConsumeSkb()
	}},
	{"ext add+cow+free", func(a *Allocator, _ []*Buff) {
		b, _ := a.AllocSkb(100)
		e, _ := b.ExtAdd(ExtBPFStorage)
		e.SetStorage(nopStorage{})
		c, _ := b.Clone()
		_, _ = c.ExtAdd(ExtTC)
		c.ConsumeSkb()
		b.ConsumeSkb()
	}},
	{"copy, pskb_copy, expand_head", func(a *Allocator, _ []*Buff) {
		b, _ := a.AllocSkb(200)
		b.Reserve(64)
		b.Put(100)
		c, _ := b.Copy()
		d, _ := b.PskbCopy()
		e, _ := b.Clone()
		_ = e.Cow(128)
		e.ConsumeSkb()
		d.ConsumeSkb()
		c.ConsumeSkb()
		b.ConsumeSkb()
	}},
	{"scrub", func(a *Allocator, _ []*Buff) {
		b, _ := a.AllocSkb(100)
		_, _ = b.ExtAdd(ExtTC)
		b.Scrub(true)
		b.ConsumeSkb()
	}},
	{"segment", func(a *Allocator, out []*Buff) {
		b, _ := a.AllocSkb(400)
		b.Reserve(64)
		b.Put(300)
		b.ResetMacHeader()
		b.Pull(54)
		segs, _ := b.Segment(100, out[:0])
		for _, s := range segs {
			s.ConsumeSkb()
		}
		b.ConsumeSkb()
	}},
}

type nopStorage struct{}

func (nopStorage) ExtDestroy() {}

func TestSteadyStateDoesNotAllocate(t *testing.T) {
	for _, op := range steadyOps {
		t.Run(op.name, func(t *testing.T) {
			a := newAlloc(t)
			out := make([]*Buff, 0, 8)
			a.AddHooks(Hooks{}) // installed but empty hooks cost nothing either
			op.run(a, out)      // warm the pools
			op.run(a, out)
			n := testing.AllocsPerRun(100, func() { op.run(a, out) })
			require.Zero(t, n, "Go heap allocations per run")
		})
	}
}
