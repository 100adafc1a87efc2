package skb

import (
	"testing"

	"github.com/skbsim/skbsim/kmem"
)

func benchAlloc() *Allocator { return NewAllocator(kmem.New(), DefaultProfile()) }

func BenchmarkAllocFree(b *testing.B) {
	for _, size := range []int{0, 1500} {
		b.Run(map[int]string{0: "small", 1500: "1500"}[size], func(b *testing.B) {
			a := benchAlloc()
			b.ReportAllocs()
			for b.Loop() {
				s, _ := a.AllocSkb(size)
				s.KfreeSkb(DropNotSpecified)
			}
		})
	}
}

func BenchmarkClone(b *testing.B) {
	a := benchAlloc()
	s, _ := a.AllocSkb(1500)
	_, _ = s.ExtAdd(ExtTC)
	b.ReportAllocs()
	for b.Loop() {
		c, _ := s.Clone()
		c.ConsumeSkb()
	}
	s.ConsumeSkb()
}

func BenchmarkPushPull(b *testing.B) {
	a := benchAlloc()
	s, _ := a.AllocSkb(1500)
	s.Reserve(128)
	s.Put(1400)
	b.ReportAllocs()
	for b.Loop() {
		s.Push(14)
		s.Pull(14)
	}
	s.ConsumeSkb()
}

func BenchmarkExtAdd(b *testing.B) {
	b.Run("fresh", func(b *testing.B) {
		a := benchAlloc()
		s, _ := a.AllocSkb(100)
		b.ReportAllocs()
		for b.Loop() {
			_, _ = s.ExtAdd(ExtBPFStorage)
			s.ExtDel(ExtBPFStorage)
		}
		s.ConsumeSkb()
	})
	b.Run("cow", func(b *testing.B) {
		a := benchAlloc()
		s, _ := a.AllocSkb(100)
		_, _ = s.ExtAdd(ExtBPFStorage)
		b.ReportAllocs()
		for b.Loop() {
			c, _ := s.Clone()
			_, _ = c.ExtAdd(ExtTC) // copies the shared object
			c.ConsumeSkb()
		}
		s.ConsumeSkb()
	})
}

func BenchmarkCopies(b *testing.B) {
	for _, tc := range []struct {
		name string
		op   func(s *Buff) *Buff
	}{
		{"skb_copy", func(s *Buff) *Buff { n, _ := s.Copy(); return n }},
		{"pskb_copy", func(s *Buff) *Buff { n, _ := s.PskbCopy(); return n }},
		{"clone+pskb_expand_head", func(s *Buff) *Buff {
			n, _ := s.Clone()
			_ = n.ExpandHead(0, 0)
			return n
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			a := benchAlloc()
			s, _ := a.AllocSkb(1500)
			s.Reserve(128)
			s.Put(1400)
			b.ReportAllocs()
			for b.Loop() {
				tc.op(s).ConsumeSkb()
			}
			s.ConsumeSkb()
		})
	}
}

func BenchmarkScrub(b *testing.B) {
	a := benchAlloc()
	b.ReportAllocs()
	for b.Loop() {
		s, _ := a.AllocSkb(100)
		_, _ = s.ExtAdd(ExtTC)
		s.Scrub(true)
		s.ConsumeSkb()
	}
}
