package netstack

import (
	"fmt"
	"github.com/skbsim/skbsim/kernel/observe"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/cost"
)

// rfcCarrier builds the skb local storage RFC design with the maps given.
func rfcCarrier(name string, maps []carrier.MapSpec) func(carrier.Env) carrier.Carrier {
	return func(env carrier.Env) carrier.Carrier {
		c, err := carrier.New(name, env, maps, carrier.Options{})
		if err != nil {
			panic(err)
		}
		return c
	}
}

var oneMap = []carrier.MapSpec{{Name: "m", ValueSize: 8}}

// loConfig is the RFC selftests' setting: a UDP datagram from a socket to
// 127.0.0.1:9999 where a socket listens, optionally a dummy device.
func loConfig(progs ...ProgramConfig) *Config {
	return &Config{
		Devices: []DeviceConfig{{Name: "dum0", Kind: KindDummy}},
		Sockets: []SocketConfig{
			{Name: "srv", Proto: ProtoUDP, Addr: addr("127.0.0.1"), Port: 9999, Cgroup: "/test"},
			{Name: "cli", Proto: ProtoUDP, Port: 40000, Cgroup: "/test"},
		},
		Entries:  []EntryConfig{{Kind: EntryTX, Socket: "cli"}},
		Programs: progs,
	}
}

func loDatagram() []byte {
	return buildFrame(frameOpts{src: "127.0.0.1", dst: "127.0.0.1", sport: 40000, dport: 9999, payload: 16, noEth: true})
}

func reads(r *recorder, h carrier.Hook) []ReadResult {
	var out []ReadResult
	for _, e := range r.reads {
		if e.Hook == h {
			out = append(out, e.Result)
		}
	}
	return out
}

// TestRFCSelftests runs the four scenarios of the RFC's
// prog_tests/skb_storage.c at the stack level with the rfc design.
func TestRFCSelftests(t *testing.T) {
	write := []Action{{Kind: ActWrite, Map: 0, Value: 0xdeadbeef}}
	read := []Action{{Kind: ActRead, Map: 0}}
	for _, tc := range []struct {
		name  string
		progs []ProgramConfig
		hook  carrier.Hook
		want  ReadResult
		drops []string
	}{
		{
			// tcx/egress on lo stores, bpf_clone_redirect to dum0; the
			// clone cannot see the storage (load_seen == 0).
			name: "tc_clone_redirect",
			progs: []ProgramConfig{
				{Name: "store", Hook: carrier.HookTCEgress, Dev: "lo",
					Actions: append(append([]Action{}, write...), Action{Kind: ActCloneRedirect, Target: "dum0"})},
				{Name: "load", Hook: carrier.HookTCEgress, Dev: "dum0", Actions: read},
			},
			hook: carrier.HookTCEgress, want: ReadRefused,
		},
		{
			name: "tc_ingress_to_cgrp_ingress",
			progs: []ProgramConfig{
				{Name: "store", Hook: carrier.HookTCIngress, Dev: "lo", Actions: write},
				{Name: "load", Hook: carrier.HookCgroupIngress, Cgroup: "/test", Actions: read},
			},
			hook: carrier.HookCgroupIngress, want: ReadFound,
		},
		{
			name: "tc_ingress_to_sk_filter",
			progs: []ProgramConfig{
				{Name: "store", Hook: carrier.HookTCIngress, Dev: "lo", Actions: write},
				{Name: "load", Hook: carrier.HookSocketFilter, Socket: "srv", Actions: read},
			},
			hook: carrier.HookSocketFilter, want: ReadFound,
		},
		{
			// cgroup_skb/egress stores; a blackhole qdisc on lo drops;
			// tp_btf/kfree_skb still finds the value.
			name: "cgrp_egress_to_tp_kfree_skb",
			progs: []ProgramConfig{
				{Name: "store", Hook: carrier.HookCgroupEgress, Cgroup: "/test", Actions: write},
				{Name: "load", Hook: carrier.HookTracepoint, Event: EventKfreeSkb, Actions: read},
			},
			hook: carrier.HookTracepoint, want: ReadFound,
			drops: []string{"SKB_DROP_REASON_QDISC_DROP@qdisc_enqueue"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := loConfig(tc.progs...)
			if tc.drops != nil {
				// tc qdisc add dev lo root handle 1:0 blackhole
				cfg.Devices = append(cfg.Devices, DeviceConfig{Name: "lo", Kind: KindLoopback, Qdisc: "blackhole"})
			}
			s, te := newStack(t, cfg, "", rfcCarrier("rfc", oneMap), oneMap)
			require.NoError(t, s.Inject(&Packet{ID: 5, Frame: loDatagram()}))
			require.Equal(t, []ReadResult{tc.want}, reads(te.obs, tc.hook))
			if tc.drops != nil {
				require.Equal(t, tc.drops, te.obs.dropReasons())
			}
		})
	}
}

// TestConsumeTracepoint: a consume_skb tracepoint program runs when the
// application reads the datagram, while the storage is still attached.
func TestConsumeTracepoint(t *testing.T) {
	cfg := loConfig(
		ProgramConfig{Name: "store", Hook: carrier.HookTCIngress, Dev: "lo", Actions: []Action{{Kind: ActWrite, Map: 0}}},
		ProgramConfig{Name: "reap", Hook: carrier.HookTracepoint, Event: EventConsumeSkb, Actions: []Action{{Kind: ActRead, Map: 0}}},
	)
	s, te := newStack(t, cfg, "", rfcCarrier("rfc", oneMap), oneMap)
	require.NoError(t, s.Inject(&Packet{ID: 8, Frame: loDatagram()}))
	require.Equal(t, []ReadResult{ReadFound}, reads(te.obs, carrier.HookTracepoint))
	require.Equal(t, []DeliverEvent{{PacketID: 8, Kind: DeliverSocket, Index: 0}}, te.obs.delivs)
}

// TestXDPMetaCarrierNativeXDP: the xdp-meta design stores at native XDP
// by setting the skb's metadata length itself (bpf_xdp_adjust_meta inside
// the carrier); the driver's metalen = data - data_meta after the program
// keeps it, so tc ingress reads the value.
func TestXDPMetaCarrierNativeXDP(t *testing.T) {
	for _, mode := range []string{"native", "generic"} {
		t.Run(mode, func(t *testing.T) {
			cfg := rxToSocketConfig()
			cfg.Devices[0].XDP = mode
			cfg.Programs = []ProgramConfig{
				{Name: "store", Hook: carrier.HookXDP, Dev: "eth0", Actions: []Action{{Kind: ActWrite, Map: 0, Value: 0xcafe}}},
				{Name: "read", Hook: carrier.HookTCIngress, Dev: "eth0", Actions: []Action{{Kind: ActRead, Map: 0}}},
			}
			s, te := newStack(t, cfg, "", rfcCarrier(carrier.NameXDPMeta, oneMap), oneMap)
			require.NoError(t, s.Inject(&Packet{ID: 3, Frame: rxFrame("192.0.2.1")}))
			require.Equal(t, []ReadResult{ReadFound}, reads(te.obs, carrier.HookTCIngress))
			require.Empty(t, te.obs.drops)
		})
	}
}

// TestXDPMetaCarrierGenericFragsCopy: tc programs read the xdp-meta
// design through __sk_buff->data_meta, data minus meta_len. A UDP GSO skb
// passed by a multi-buffer generic XDP program is a page-pool copy whose
// mac_len is 0 (skb_pp_cow_data, v6.9), so tc ingress sees it from the
// IPv4 header and data_meta points at the end of the Ethernet header: the
// value is lost to tc (the kernel recorder measured meta_len 8 and the
// bytes of vA's MAC address and the ethertype there), while a tracepoint,
// reading from the mac header through BTF, still finds it. A program
// without xdp.frags gets the skb linearized in place, and tc finds the
// value.
func TestXDPMetaCarrierGenericFragsCopy(t *testing.T) {
	for _, tc := range []struct {
		frags  bool
		wantTC ReadResult
	}{{false, ReadFound}, {true, ReadMissing}} {
		t.Run(fmt.Sprintf("frags %v", tc.frags), func(t *testing.T) {
			tr := observe.Transition{Name: "xdp-meta-frags", Topology: observe.TopoPair, Segments: 40,
				Actions: []observe.Action{{Hook: observe.Hook{Dev: "vB", Point: observe.XDP}, Generic: true}}}
			cfg, dst, err := TransitionConfig(tr)
			require.NoError(t, err)
			cfg.Programs = []ProgramConfig{
				{Name: "store", Hook: carrier.HookXDP, Dev: "vB", Netns: "B", XDPFrags: tc.frags,
					Actions: []Action{{Kind: ActWrite, Map: 0, Value: 0xcafe}}},
				{Name: "read", Hook: carrier.HookTCIngress, Dev: "vB", Netns: "B", Actions: []Action{{Kind: ActRead, Map: 0}}},
				{Name: "reap", Hook: carrier.HookTracepoint, Netns: "B", Event: EventKfreeSkb, Actions: []Action{{Kind: ActRead, Map: 0}}},
			}
			s, te := newStack(t, cfg, "", rfcCarrier(carrier.NameXDPMeta, oneMap), oneMap)
			require.NoError(t, s.Inject(&Packet{Frame: transitionFrame(s, tr, dst)}))
			s.Flush()
			require.Equal(t, []ReadResult{tc.wantTC}, reads(te.obs, carrier.HookTCIngress))
			require.Equal(t, []ReadResult{ReadFound}, reads(te.obs, carrier.HookTracepoint),
				"kfree_skb at UDP (no socket) reads from the mac header")
		})
	}
}

// TestConsumeTracepointTapAndFragments: the application reading a tap's
// queued clone frees it through consume_skb (packet_recvmsg ->
// skb_free_datagram), so consume_skb tracepoint programs run for it as for
// the socket's read; ip_do_fragment's consume_skb of the original does too.
func TestConsumeTracepointTapAndFragments(t *testing.T) {
	var at []uint64
	counter := ProgramFunc(func(c *Ctx) int { at = append(at, c.PacketID); return 0 })
	cfg := rxToSocketConfig()
	cfg.Taps = []TapConfig{{Name: "rx", Dev: "eth0", Dir: TapRX}}
	cfg.Programs = []ProgramConfig{{Name: "reap", Hook: carrier.HookTracepoint, Event: EventConsumeSkb, Prog: counter}}
	s, te := newStack(t, cfg, "", nil, nil)
	require.NoError(t, s.Inject(&Packet{ID: 5, Frame: rxFrame("192.0.2.1")}))
	require.Len(t, te.obs.delivs, 2, "the tap's clone and the socket's skb")
	require.Equal(t, []uint64{5, 5}, at, "one consume_skb tracepoint run per freed skb")

	at = nil
	cfg = vethTxConfig()
	cfg.Programs = []ProgramConfig{{Name: "reap", Hook: carrier.HookTracepoint, Netns: "A", Event: EventConsumeSkb, Prog: counter}}
	s, te = newStack(t, cfg, "", nil, nil)
	f := buildFrame(frameOpts{src: "192.0.2.1", dst: "192.0.2.2", sport: 40000, dport: 9999, payload: 3000, noEth: true})
	require.NoError(t, s.Inject(&Packet{ID: 6, Frame: f}))
	require.Equal(t, []DeliverEvent{{PacketID: 6, Kind: DeliverSocket, Index: 1}}, te.obs.delivs)
	// The sender's datagram is a frag_list skb that ip_do_fragment's fast
	// path sends as its fragments: no original is consumed. At the
	// receiver: the first fragment's sk_buff after skb_morph onto the last
	// one (inet_frag_reasm_prepare), then the reassembled datagram read by
	// the socket and, as its frag_list is freed (kfree_skb_list_reason),
	// the two other fragments: their kmalloc'ed heads are locked, so
	// skb_try_coalesce left them on the list.
	require.Equal(t, []uint64{6, 6, 6, 6}, at)
}

// TestMapHelperCallsCountedOnce: a program's map access is one call in
// the kernel (bpf_skb_storage_get and bpf_skb_storage_delete are kfuncs;
// an xdp-meta read is a direct data_meta load, no call at all). The
// carrier counts the call it models; the program context adds none.
func TestMapHelperCallsCountedOnce(t *testing.T) {
	write := Action{Kind: ActWrite, Map: 0, Value: 1}
	read := Action{Kind: ActRead, Map: 0}
	del := Action{Kind: ActDelete, Map: 0}
	for _, tc := range []struct {
		name    string
		design  string
		actions []Action
		want    uint64
	}{
		{"rfc write read read delete", "rfc", []Action{write, read, read, del}, 4},
		{"rfc read of nothing", "rfc", []Action{read}, 1},
		{"xdp-meta reads", "xdp-meta", []Action{read, read, read}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := loConfig(ProgramConfig{Name: "p", Hook: carrier.HookTCIngress, Dev: "lo", Actions: tc.actions})
			s, te := newStack(t, cfg, "", rfcCarrier(tc.design, oneMap), oneMap)
			before := te.a.Accountant().Ops()[cost.OpHelperCall]
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: loDatagram()}))
			require.Equal(t, tc.want, te.a.Accountant().Ops()[cost.OpHelperCall]-before)
		})
	}
}
