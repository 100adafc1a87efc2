package netstack

import (
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/skb"
)

// TestPropertyIP6PathsNoPanicNoLeak: valid, mutated and truncated IPv6
// frames — UDP tunnel, ip6tnl and ip6gre encapsulations, fragments,
// datagrams sent from sockets — through the IPv6 tunnel decap topologies,
// tunnel pairs (sent from A, or received on B's veth) and the IPv6 send
// topology never panic, and after Flush and Close nothing leaks.
func TestPropertyIP6PathsNoPanicNoLeak(t *testing.T) {
	setRapidSeed(t)
	kinds := []string{KindVXLAN, KindGeneve, KindIP6Tnl, KindIP6GRE, KindIP6GRETap, KindSIT}
	var cfgs []*Config
	for _, k := range kinds {
		if k != KindSIT {
			cfgs = append(cfgs, decap6Config(k, "c"))
		}
		p := tunnel6Pair(k)
		p.Entries = append(p.Entries, EntryConfig{Netns: "B", Dev: "vB"})
		cfgs = append(cfgs, p)
	}
	cfgs = append(cfgs, veth6TxConfig())
	gso := veth6TxConfig() // a UDP_SEGMENT sender, a receiver that segments
	gso.Sockets[0].UDPSegment = 700
	cfgs = append(cfgs, gso)
	innerV4 := buildFrame(frameOpts{src: "10.9.0.1", dst: "10.9.0.2", sport: 1, dport: 9999, payload: 32, noEth: true})
	innerV6 := buildFrame6(frame6{src: "fd99::1", dst: "fd99::2", dport: 9998, payload: 32})[ethHlen:]
	rapid.Check(t, func(rt *rapid.T) {
		cfg := cfgs[rapid.IntRange(0, len(cfgs)-1).Draw(rt, "config")]
		cfg = cfg.Copy()
		cfg.Options.RxTimestamps = rapid.Bool().Draw(rt, "rxts")
		cfg.Programs = append(cfg.Programs, ProgramConfig{Name: "tp", Hook: carrier.HookTracepoint,
			Actions: []Action{{Kind: ActCount}}})
		a := skb.NewAllocator(kmem.New(), skb.DefaultProfile())
		s, err := New(cfg, Env{Alloc: a})
		require.NoError(rt, err)
		n := rapid.IntRange(1, 12).Draw(rt, "packets")
		for i := range n {
			var f []byte
			switch rapid.IntRange(0, 6).Draw(rt, "shape") {
			case 0:
				f = udpTunnel6Frame(rapid.Bool().Draw(rt, "geneve"), rapid.SampledFrom([]uint16{4789, 6081}).Draw(rt, "port"),
					uint32(rapid.IntRange(41, 43).Draw(rt, "vni")))
			case 1:
				f = outer6(rapid.SampledFrom([]uint8{ipprotoIPIP, ipprotoIPv6}).Draw(rt, "next"),
					rapid.SampledFrom([][]byte{innerV4, innerV6}).Draw(rt, "inner"))
			case 2:
				f = outer6(ipprotoGRE, append(gre6Hdr(rapid.SampledFrom([]uint16{ethPIP, ethPTEB, ethPIPv6}).Draw(rt, "gp"),
					uint32(rapid.IntRange(41, 42).Draw(rt, "key"))), innerV4...))
			case 3:
				off := 8 * rapid.IntRange(0, 30).Draw(rt, "off8")
				f = frag6Frames("2001:db8::9", "2001:db8::1", uint32(rapid.IntRange(0, 2).Draw(rt, "id")), 200,
					[]frag6Cut{{off, rapid.IntRange(0, 96).Draw(rt, "n"), rapid.Bool().Draw(rt, "more")}})[0]
			case 4:
				f = v6Datagram(rapid.IntRange(0, 3000).Draw(rt, "payload"))
			case 5:
				f = buildFrame(frameOpts{src: "10.9.0.1", dst: "10.9.0.2", sport: 40000, dport: 9999,
					payload: rapid.IntRange(0, 2000).Draw(rt, "p4"), noEth: true})
			default:
				f = buildFrame6(frame6{src: "fd99::1", dst: "fd99::2", dport: 9998, payload: rapid.IntRange(0, 2000).Draw(rt, "p6")})[ethHlen:]
			}
			for range rapid.IntRange(0, 3).Draw(rt, "mutations") {
				if len(f) == 0 {
					break
				}
				f[rapid.IntRange(0, len(f)-1).Draw(rt, "at")] = byte(rapid.IntRange(0, 255).Draw(rt, "byte"))
			}
			if rapid.IntRange(0, 4).Draw(rt, "truncate") == 0 {
				f = f[:rapid.IntRange(0, len(f)).Draw(rt, "len")]
			}
			entry := rapid.IntRange(0, len(s.entries)-1).Draw(rt, "entry")
			_ = s.Inject(&Packet{ID: uint64(i), Frame: f, Entry: entry, Tstamp: int64(i) * 20e9})
			if rapid.Bool().Draw(rt, "flush") {
				s.Flush()
			}
		}
		s.Flush()
		require.NoError(rt, s.Close())
		require.NoError(rt, a.CheckLeaks())
		objs, _ := a.Accountant().Live()
		require.Zero(rt, objs)
	})
}
