package netstack

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/kmem"
)

// cpumapPair is a veth pair vA-vB in namespace A whose vB redirects every
// datagram into cpumap "cpus" (entry cpu 1) after reserving 8 bytes of
// metadata; vB's tc ingress records what reaches it. The entry runs
// program "on_cpu" when cpuProg is set.
func cpumapPair(xdpMode string, cpuProg ProgramFunc, rec ProgramFunc) *Config {
	cfg := &Config{
		Namespaces: []NamespaceConfig{{Name: "A"}},
		Devices: []DeviceConfig{{Name: "vA", Kind: KindVeth, Netns: "A", MAC: macA, Addrs: []netip.Prefix{pfx("192.0.2.1/24")},
			Peer: "vB", PeerNetns: "A", PeerMAC: macB, PeerXDP: xdpMode}},
		Neighbours: []NeighConfig{{Netns: "A", Dev: "vA", Addr: addr("192.0.2.9"), MAC: macB}},
		Sockets:    []SocketConfig{{Name: "tx", Netns: "A", Proto: ProtoUDP, Port: 40000}},
		Entries:    []EntryConfig{{Kind: EntryTX, Netns: "A", Socket: "tx"}},
		Cpumaps:    []CpumapConfig{{Name: "cpus", Entries: []CpumapEntryConfig{{CPU: 1, QSize: 64}}}},
		Programs: []ProgramConfig{
			{Name: "eg", Hook: carrier.HookTCEgress, Netns: "A", Dev: "vA", Actions: []Action{{Kind: ActSetMark, Value: 42}}},
			{Name: "xdp", Hook: carrier.HookXDP, Netns: "A", Dev: "vB", Actions: []Action{
				{Kind: ActAdjustMeta, Value: 8}, {Kind: ActRedirectCPU, Target: "cpus", Index: 1}}},
			{Name: "in", Hook: carrier.HookTCIngress, Netns: "A", Dev: "vB", Prog: rec},
		},
	}
	if cpuProg != nil {
		cfg.Cpumaps[0].Entries[0].Program = "on_cpu"
		cfg.Programs = append(cfg.Programs, ProgramConfig{Name: "on_cpu", Hook: carrier.HookXDP, Netns: "A", Cpumap: true, Prog: cpuProg})
	}
	return cfg
}

// cpumapDrops are the drops other than IPv4 receive's for a datagram to
// an address nobody has (the veth cases' destination).
func cpumapDrops(te *testEnv) []string {
	var d []string
	for _, r := range te.obs.dropReasons() {
		if r != "SKB_DROP_REASON_IP_INADDRERRORS@ip_rcv_finish_core" {
			d = append(d, r)
		}
	}
	return d
}

// TestCpumapVeth: a frame that native XDP redirects into a cpumap reaches
// tc ingress of the same device as a new skb (__xdp_build_skb_from_frame
// in the kthread): the mark written at the sender's egress is gone, the
// metadata is there, and the cpumap program sees it in its view. A
// generic XDP program redirects the skb itself: the mark survives, the
// metadata, which generic XDP sets on XDP_PASS only, does not.
func TestCpumapVeth(t *testing.T) {
	for _, tc := range []struct {
		name     string
		xdp      string
		profile  string
		mark     []uint32
		meta     []int
		cpuView  []int // the metadata the cpumap program sees
		redirect []bool
		drops    []string
	}{
		{"native", "native", "", []uint32{0}, []int{8}, []int{8}, []bool{false}, nil},
		{"generic", "generic", "", []uint32{42}, []int{0}, []int{0}, []bool{true}, nil},
		{"generic before v5.15", "generic", "v5.10", nil, nil, nil, nil, []string{"SKB_DROP_REASON_XDP@do_xdp_generic"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var marks []uint32
			var metas, views []int
			var redirected []bool
			rec := ProgramFunc(func(c *Ctx) int {
				marks = append(marks, c.Skb.H().Mark)
				metas = append(metas, c.Skb.MetadataLen())
				redirected = append(redirected, c.Skb.H().Redirected)
				return TCXNext
			})
			cpu := ProgramFunc(func(c *Ctx) int {
				require.Equal(t, "vB", c.Dev.Name())
				views = append(views, len(c.Meta()))
				return XDPPass
			})
			s, te := newStack(t, cpumapPair(tc.xdp, cpu, rec), tc.profile, nil, nil)
			frame := buildFrame(frameOpts{src: "192.0.2.1", dst: "192.0.2.9", sport: 40000, dport: 9999, payload: 200, noEth: true})
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: frame}))
			s.Flush()
			require.Equal(t, tc.mark, marks)
			require.Equal(t, tc.meta, metas)
			require.Equal(t, tc.cpuView, views)
			require.Equal(t, tc.redirect, redirected)
			require.Equal(t, tc.drops, cpumapDrops(te))
		})
	}
}

// TestCpumapProgramActions: the cpumap program's XDP_DROP drops the frame
// before any skb is built; XDP_TX is not allowed there and drops too; a
// redirect into another device's veth goes on as a veth frame. The
// sender's skb and veth's copy of it into page-pool memory
// (skb_pp_cow_data) are the first two sk_buffs; the kthread builds a third
// only for a frame its program passes.
func TestCpumapProgramActions(t *testing.T) {
	for _, tc := range []struct {
		name  string
		ret   int
		seen  int
		drops []string
		heads uint64 // skbuff_head_cache allocations
	}{
		{"pass", XDPPass, 1, nil, 3},
		{"drop", XDPDrop, 0, []string{"SKB_DROP_REASON_XDP@cpu_map_kthread_run"}, 2},
		{"tx", XDPTx, 0, []string{"SKB_DROP_REASON_XDP@cpu_map_kthread_run"}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seen := 0
			rec := ProgramFunc(func(c *Ctx) int { seen++; return TCXNext })
			cpu := ProgramFunc(func(c *Ctx) int { return tc.ret })
			s, te := newStack(t, cpumapPair("native", cpu, rec), "", nil, nil)
			frame := buildFrame(frameOpts{src: "192.0.2.1", dst: "192.0.2.9", sport: 40000, dport: 9999, payload: 200, noEth: true})
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: frame}))
			s.Flush()
			require.Equal(t, tc.seen, seen)
			require.Equal(t, tc.drops, cpumapDrops(te))
			require.Equal(t, tc.heads, te.a.Accountant().Stats().BySite[kmem.RegisterSite("skbuff_head_cache")].Allocs)
		})
	}
}

// TestCpumapEmptyEntry: bpf_redirect_map on an empty slot returns the
// action in its flags, XDP_ABORTED by default.
func TestCpumapEmptyEntry(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flags uint64
		seen  int
		drops []string
	}{
		{"aborted", 0, 0, []string{"SKB_DROP_REASON_XDP@veth_xdp_rcv_skb"}},
		{"pass", XDPPass, 1, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seen := 0
			cfg := cpumapPair("native", nil, func(c *Ctx) int { seen++; return TCXNext })
			cfg.Programs[1].Actions[1] = Action{Kind: ActRedirectCPU, Target: "cpus", Index: 3, Value: tc.flags}
			s, te := newStack(t, cfg, "", nil, nil)
			frame := buildFrame(frameOpts{src: "192.0.2.1", dst: "192.0.2.9", sport: 40000, dport: 9999, payload: 200, noEth: true})
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: frame}))
			s.Flush()
			require.Equal(t, tc.seen, seen)
			require.Equal(t, tc.drops, cpumapDrops(te))
		})
	}
}

// cpumapNIC is a NIC whose native XDP redirects every frame into cpumap
// "cpus" (entry cpu 0, queue qsize, drained as drain); tc ingress records
// the GSO segment count of every skb reaching it.
func cpumapNIC(drain CpumapDrain, qsize int, segs *[]uint16) *Config {
	return &Config{
		Devices: []DeviceConfig{{Name: "eth0", Kind: KindNIC, MAC: macNIC, XDP: "native", Addrs: []netip.Prefix{pfx("192.0.2.1/24")}}},
		Sockets: []SocketConfig{{Name: "srv", Proto: ProtoTCP, Port: 80}},
		Cpumaps: []CpumapConfig{{Name: "cpus", Drain: drain, Entries: []CpumapEntryConfig{{CPU: 0, QSize: qsize}}}},
		Programs: []ProgramConfig{
			{Name: "xdp", Hook: carrier.HookXDP, Dev: "eth0", Actions: []Action{{Kind: ActRedirectCPU, Target: "cpus"}}},
			{Name: "tc", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
				*segs = append(*segs, max(1, c.Skb.Shinfo().GSOSegs))
				return TCXNext
			})},
		},
	}
}

// setTCPCsum writes the full TCP checksum of the IPv4 packet p.
func setTCPCsum(p []byte) {
	ihl := int(p[0]&0xf) * 4
	tot := int(p[2])<<8 | int(p[3])
	p[ihl+16], p[ihl+17] = 0, 0
	c := ^csumFold(csumAdd(pseudoSum(p, ipprotoTCP, tot-ihl), p[ihl:tot]))
	p[ihl+16], p[ihl+17] = byte(c>>8), byte(c)
}

// TestCpumapGRO: from v6.15 the kthread's GRO merges a flow's frames. With
// the remote CPU idle (DrainBulk) each bulk of 8 frames is drained and
// flushed on its own; with the CPU busy until the poll ends (DrainPoll)
// the 16 frames meet in one aggregate. Before v6.15 nothing merges. A
// queue shorter than what a poll brings drops the rest (bq_flush_to_queue).
func TestCpumapGRO(t *testing.T) {
	ones := func(n int) []uint16 {
		s := make([]uint16, n)
		for i := range s {
			s[i] = 1
		}
		return s
	}
	for _, tc := range []struct {
		name    string
		profile string
		drain   CpumapDrain
		qsize   int
		badCsum bool
		segs    []uint16
		csumBad int
		drops   int
		reason  string
	}{
		{"bulk", "", DrainBulk, 64, false, []uint16{8, 8}, 0, 0, ""},
		{"poll", "", DrainPoll, 64, false, []uint16{16}, 0, 0, ""},
		{"before v6.15", "v6.12", DrainPoll, 64, false, ones(16), 0, 0, ""},
		{"queue full", "", DrainPoll, 4, false, []uint16{4}, 0, 12, "SKB_DROP_REASON_XDP@cpu_map_enqueue"},
		// The frame has no checksum state: GRO checks the TCP checksum
		// in software, and these are not complete; tcp_v4_rcv drops them.
		{"bad checksums", "", DrainPoll, 64, true, ones(16), 16, 16, "SKB_DROP_REASON_TCP_CSUM@tcp_v4_rcv"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var segs []uint16
			s, te := newStack(t, cpumapNIC(tc.drain, tc.qsize, &segs), tc.profile, nil, nil)
			for i := range 16 {
				f := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "192.0.2.1", proto: ipprotoTCP,
					sport: 5000, dport: 80, seq: uint32(1000 + 100*i), tcpFlags: tcpACK, payload: 100, id: uint16(i)})
				if !tc.badCsum {
					setTCPCsum(f[ethHlen:])
				}
				require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: f, Hash: 0xabc}))
			}
			s.Flush()
			require.Equal(t, tc.segs, segs)
			require.Equal(t, uint64(tc.csumBad), s.Stats().GROCsumBad)
			require.Len(t, cpumapDrops(te), tc.drops)
			for _, r := range cpumapDrops(te) {
				require.Equal(t, tc.reason, r)
			}
		})
	}
}

// TestCpumapGenericSelfRedirect: a cpumap program that sends every skb
// back into its own cpumap would spin a CPU; the model cuts it off.
func TestCpumapGenericSelfRedirect(t *testing.T) {
	cfg := cpumapPair("generic", func(c *Ctx) int { return c.RedirectCPU(0, 1, 0) }, func(c *Ctx) int { return TCXNext })
	s, te := newStack(t, cfg, "", nil, nil)
	frame := buildFrame(frameOpts{src: "192.0.2.1", dst: "192.0.2.9", sport: 40000, dport: 9999, payload: 200, noEth: true})
	require.NoError(t, s.Inject(&Packet{ID: 1, Frame: frame}))
	s.Flush()
	require.Equal(t, []string{"SKB_DROP_REASON_CPU_BACKLOG@cpu_map_kthread_run"}, cpumapDrops(te))
}

// TestCpumapConfig: the configuration errors.
func TestCpumapConfig(t *testing.T) {
	for _, tc := range []struct {
		name    string
		profile string
		edit    func(*Config)
		want    string
	}{
		{"qsize 0", "", func(c *Config) { c.Cpumaps[0].Entries[0].QSize = 0 }, "qsize 0"},
		{"qsize too big", "", func(c *Config) { c.Cpumaps[0].Entries[0].QSize = 16385 }, "qsize 16385"},
		{"cpu twice", "", func(c *Config) {
			c.Cpumaps[0].Entries = append(c.Cpumaps[0].Entries, CpumapEntryConfig{CPU: 1, QSize: 8})
		}, "cpu 1 twice"},
		{"unknown cpumap", "", func(c *Config) { c.Programs[1].Actions[1].Target = "nope" }, `unknown cpumap "nope"`},
		{"tc program", "", func(c *Config) {
			c.Programs[2].Prog, c.Programs[2].Actions = nil, []Action{{Kind: ActRedirectCPU, Target: "cpus"}}
		}, "for xdp programs"},
		{"program not for cpumaps", "", func(c *Config) {
			c.Cpumaps[0].Entries[0].Program = "xdp"
		}, "not loaded for cpumaps"},
		{"cpumap program before v5.9", "v5.4", func(c *Config) {}, "needs kernel v5.9"},
		{"cpumap program with a device", "", func(c *Config) { c.Programs[3].Dev = "vB" }, "without a device"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := cpumapPair("native", func(c *Ctx) int { return XDPPass }, func(c *Ctx) int { return TCXNext })
			tc.edit(cfg)
			err := newStackErr(t, cfg, tc.profile)
			require.ErrorIs(t, err, ErrConfig)
			require.ErrorContains(t, err, tc.want)
		})
	}
}
