package netstack

import (
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/skb"
)

// TestPropertyIP6Fragments: any sequence of IPv6 fragments (a few
// identifications, arbitrary 8-byte offsets, lengths, M flags and capture
// times) never panics; after every fragment the queued fragments of a
// queue never overlap (RFC 5722), the namespace's fragment memory equals
// their truesize, the queues stay within maxFragQueues, and after Close
// nothing leaks.
func TestPropertyIP6Fragments(t *testing.T) {
	setRapidSeed(t)
	rapid.Check(t, func(rt *rapid.T) {
		a := skb.NewAllocator(kmem.New(), skb.DefaultProfile())
		cfg := frag6Host()
		cfg.Programs = []ProgramConfig{{Name: "tp", Hook: carrier.HookTracepoint, Event: EventConsumeSkb,
			Prog: ProgramFunc(func(c *Ctx) int { _ = c.Skb.H().Mark; return 0 })}}
		s, err := New(cfg, Env{Alloc: a, Observer: &recorder{}})
		require.NoError(rt, err)
		n := rapid.IntRange(1, 40).Draw(rt, "n")
		now := int64(0)
		for i := range n {
			id := uint32(rapid.IntRange(0, 2).Draw(rt, "id"))
			off := 8 * rapid.IntRange(0, 40).Draw(rt, "off8")
			ln := rapid.IntRange(0, 120).Draw(rt, "len")
			if rapid.Bool().Draw(rt, "round") {
				ln &^= 7
			}
			more := rapid.Bool().Draw(rt, "more")
			now += int64(rapid.IntRange(0, 30).Draw(rt, "dt")) * 1e9
			f := frag6Frames("2001:db8::9", "2001:db8::1", id, 400, []frag6Cut{{off, ln, more}})[0]
			require.NoError(rt, s.Inject(&Packet{ID: uint64(i + 1), Frame: f, Tstamp: now}))
			st := s.Netns("").fragDirs
			if st != nil {
				queued, mem := 0, 0
				for _, q := range st.v6.live {
					queued += len(q.frags)
					mem += q.memOf()
					for j := 1; j < len(q.frags); j++ {
						require.LessOrEqual(rt, q.frags[j-1].end, q.frags[j].offset, "queued fragments never overlap")
					}
				}
				require.Equal(rt, mem, st.v6.mem)
				require.LessOrEqual(rt, len(st.v6.live), maxFragQueues)
			}
		}
		require.NoError(rt, s.Close())
		require.NoError(rt, a.CheckLeaks())
	})
}

func BenchmarkIP6Reassembly(b *testing.B) {
	s, _ := newStack(b, frag6Host(), "", nil, nil)
	s.obs = NopObserver{}
	f := frag6Frames("2001:db8::9", "2001:db8::1", 5, 192, cuts3)
	ps := []*Packet{{Frame: f[2]}, {Frame: f[0]}, {Frame: f[1]}}
	id := uint64(0)
	b.ReportAllocs()
	for b.Loop() {
		for _, p := range ps {
			id++
			p.ID = id
			if err := s.Inject(p); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "datagrams/s")
}

func BenchmarkTunnel6Decap(b *testing.B) {
	for _, kind := range []string{KindVXLAN, KindIP6Tnl} {
		b.Run(kind, func(b *testing.B) {
			s, _ := newStack(b, decap6Config(kind, "c"), "", nil, nil)
			s.obs = NopObserver{}
			frame := udpTunnel6Frame(false, defaultVXLANPort, 42)
			if kind == KindIP6Tnl {
				frame = outer6(ipprotoIPIP, buildFrame(frameOpts{src: "10.9.0.1", dst: "10.9.0.2", sport: 1, dport: 9999, payload: 32, noEth: true}))
			}
			p := &Packet{Frame: frame}
			b.ReportAllocs()
			for b.Loop() {
				p.ID++
				if err := s.Inject(p); err != nil {
					b.Fatal(err)
				}
				s.Flush()
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
		})
	}
}

func BenchmarkIP6SockSendVeth(b *testing.B) {
	benchInject(b, veth6TxConfig(), v6Datagram(64))
}
