package netstack

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/skb"
)

// TestPropertyGROStream: random TCP segments of a few flows (random
// payload sizes, so small kmalloc'ed heads, page-fragment heads and, under
// native XDP, page-pool heads; sequence numbers mostly in order; random
// PSH) go through GRO in random NAPI polls. Whatever skb_gro_receive
// merged and how (stolen heads, frag_list), each flow's bytes reach the
// socket complete and in order, and nothing leaks.
func TestPropertyGROStream(t *testing.T) {
	setRapidSeed(t)
	rapid.Check(t, func(rt *rapid.T) {
		xdp := rapid.SampledFrom([]string{"", "native"}).Draw(rt, "xdp")
		cfg := &Config{
			Devices: []DeviceConfig{{Name: "eth0", Kind: KindNIC, MAC: macNIC, XDP: xdp, Addrs: []netip.Prefix{pfx("192.0.2.1/24")}}},
			Sockets: []SocketConfig{{Name: "srv", Proto: ProtoTCP, Port: 80}},
		}
		got := map[uint16][]byte{}
		cfg.Programs = []ProgramConfig{{Name: "f", Hook: carrier.HookSocketFilter, Socket: "srv", Prog: ProgramFunc(func(c *Ctx) int {
			all := make([]byte, c.Skb.Len())
			require.NoError(rt, c.Skb.CopyBits(0, all))
			sport := uint16(all[0])<<8 | uint16(all[1])
			got[sport] = append(got[sport], all[20:]...)
			return -1
		})}}
		if xdp != "" {
			cfg.Programs = append(cfg.Programs, ProgramConfig{Name: "x", Hook: carrier.HookXDP, Dev: "eth0",
				Prog: ProgramFunc(func(c *Ctx) int { return XDPPass })})
		}
		a := skb.NewAllocator(kmem.New(), skb.DefaultProfile())
		s, err := New(cfg, Env{Alloc: a, Observer: &recorder{}})
		require.NoError(rt, err)
		flows := rapid.IntRange(1, 3).Draw(rt, "flows")
		seq := make([]uint32, flows)
		ids := make([]uint16, flows)
		want := map[uint16][]byte{}
		n := rapid.IntRange(1, 40).Draw(rt, "segments")
		for i := range n {
			fl := rapid.IntRange(0, flows-1).Draw(rt, "flow")
			sport := uint16(5000 + fl)
			size := rapid.SampledFrom([]int{1, 100, 200, 536, 1000, 1448}).Draw(rt, "size")
			flags := uint8(tcpACK)
			if rapid.IntRange(0, 5).Draw(rt, "psh") == 0 {
				flags |= tcpPSH
			}
			f := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "192.0.2.1", proto: ipprotoTCP,
				sport: sport, dport: 80, seq: 1000 + seq[fl], tcpFlags: flags, payload: size, id: ids[fl]})
			p := f[ethHlen+ipHlen+20:]
			for j := range p {
				p[j] = byte(i*7 + j)
			}
			want[sport] = append(want[sport], p...)
			seq[fl] += uint32(size)
			ids[fl]++
			require.NoError(rt, s.Inject(&Packet{ID: uint64(i + 1), Frame: f, Hash: uint32(0xa00 + fl)}))
			if rapid.IntRange(0, 7).Draw(rt, "poll") == 0 {
				s.Flush() // the end of a NAPI poll
			}
		}
		s.Flush()
		require.NoError(rt, s.Close())
		for sport, w := range want {
			require.True(rt, bytes.Equal(w, got[sport]), "flow %d: %d bytes in, %d out", sport, len(w), len(got[sport]))
		}
		require.NoError(rt, a.CheckLeaks())
	})
}
