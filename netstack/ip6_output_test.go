package netstack

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/skb"
)

// veth6TxConfig: an AF_INET6 socket in A sends over a veth pair to a socket
// in B (fd00::1/64 - fd00::2/64).
func veth6TxConfig() *Config {
	return &Config{
		Namespaces: []NamespaceConfig{{Name: "A"}, {Name: "B"}},
		Devices: []DeviceConfig{{Name: "vA", Kind: KindVeth, Netns: "A", MAC: macA, Addrs: []netip.Prefix{pfx("fd00::1/64")},
			Peer: "vB", PeerNetns: "B", PeerMAC: macB, PeerAddrs: []netip.Prefix{pfx("fd00::2/64")}}},
		Sockets: []SocketConfig{
			{Name: "tx", Netns: "A", Proto: ProtoUDP, Addr: addr("::"), Port: 40000, Mark: 5, Priority: 3},
			{Name: "rx", Netns: "B", Proto: ProtoUDP, Addr: addr("::"), Port: 53},
		},
		Entries: []EntryConfig{{Kind: EntryTX, Netns: "A", Socket: "tx"}},
	}
}

func v6Datagram(payload int) []byte {
	f := buildFrame6(frame6{src: "fd00::1", dst: "fd00::2", dport: 53, payload: payload})[ethHlen:]
	binary.BigEndian.PutUint16(f[ip6Hlen:], 40000)
	return f
}

// TestIP6SockSend: udpv6_sendmsg -> ip6_make_skb -> ip6_local_out ->
// ip6_output (cgroup egress) -> ip6_finish_output2 (ETH_P_IPV6 neighbour
// output) -> tc egress -> veth -> the peer namespace's socket; a datagram
// above the MTU is fragmented by ip6_fragment (ignore_df at the default
// IPV6_PMTUDISC_WANT) and reassembled in B; the socket's mark and
// priority and the automatic flow label's L4 hash are on every skb tc
// egress sees (ip6_copy_metadata copies them to the fragments).
func TestIP6SockSend(t *testing.T) {
	type seen struct {
		proto    uint16
		mark     uint32
		priority uint32
		l4hash   bool
		sw       bool
		next     uint8
		owned    bool
	}
	for _, tc := range []struct {
		name    string
		payload int
		mod     func(*Config)
		egress  int
		drops   []string
		deliver bool
	}{
		{"one datagram", 64, nil, 1, nil, true},
		{"fragmented and reassembled", 3000, nil, 3, nil, true},
		{"cgroup egress refuses", 64, func(c *Config) {
			c.Programs = append(c.Programs, ProgramConfig{Name: "deny", Hook: carrier.HookCgroupEgress, Netns: "A",
				Prog: ProgramFunc(func(*Ctx) int { return 0 })})
		}, 0, []string{"SKB_DROP_REASON_BPF_CGROUP_EGRESS@__cgroup_bpf_run_filter_skb(egress)"}, false},
		{"disable_ipv6", 64, func(c *Config) { c.Namespaces[0].DisableIPv6 = true }, 0,
			[]string{"SKB_DROP_REASON_IPV6DISABLED@ip6_output"}, false},
		{"tc egress drops", 64, func(c *Config) {
			c.Programs = append(c.Programs, ProgramConfig{Name: "drop", Hook: carrier.HookTCEgress, Netns: "A", Dev: "vA",
				Actions: []Action{{Kind: ActDrop}}})
		}, 1, []string{"SKB_DROP_REASON_TC_EGRESS@sch_handle_egress"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var eg []seen
			var rxMark []uint32
			cfg := veth6TxConfig()
			cfg.Programs = []ProgramConfig{
				{Name: "eg", Hook: carrier.HookTCEgress, Netns: "A", Dev: "vA", Prog: ProgramFunc(func(c *Ctx) int {
					h := c.Skb.H()
					_, owned := c.Skb.Sk().(*Socket)
					eg = append(eg, seen{h.Protocol, h.Mark, h.Priority, h.L4Hash, h.SWHash, c.Skb.Data()[ethHlen+6], owned})
					return TCXNext
				})},
				{Name: "tp", Hook: carrier.HookTracepoint, Netns: "B", Event: EventConsumeSkb, Prog: ProgramFunc(func(c *Ctx) int {
					rxMark = append(rxMark, c.Skb.H().Mark)
					return 0
				})},
			}
			if tc.mod != nil {
				tc.mod(cfg)
			}
			s, te := newStack(t, cfg, "", nil, nil)
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: v6Datagram(tc.payload)}))
			require.Equal(t, tc.drops, te.obs.dropReasons())
			require.Len(t, eg, tc.egress)
			next := uint8(nexthdrUDP)
			if tc.egress > 1 {
				next = nexthdrFrag
			}
			for _, e := range eg {
				require.Equal(t, seen{ethPIPv6, 5, 3, true, true, next, true}, e)
			}
			if !tc.deliver {
				require.Empty(t, te.obs.delivs)
				return
			}
			require.Equal(t, []DeliverEvent{{PacketID: 1, Kind: DeliverSocket, Index: 1}}, te.obs.delivs)
			require.Equal(t, uint32(0), rxMark[len(rxMark)-1], "__dev_forward_skb scrubs the mark across namespaces")
			require.Zero(t, s.Socket("tx").wmem, "every fragment uncharged the sender (sock_wfree)")
		})
	}
}

// TestIP6FragmentHeaders: ip6_fragment's fragments carry the unfragmentable
// part, a fragment header with one identification, offsets in 8-byte units
// and M on all but the last, payloads of at most MTU - 48 bytes rounded to
// 8; the skb_iif ip6_copy_metadata does not copy stays 0.
func TestIP6FragmentHeaders(t *testing.T) {
	var frags [][]byte
	cfg := veth6TxConfig()
	cfg.Devices[0].MTU = 1280
	cfg.Programs = []ProgramConfig{{Name: "eg", Hook: carrier.HookTCEgress, Netns: "A", Dev: "vA", Prog: ProgramFunc(func(c *Ctx) int {
		require.Zero(t, c.Skb.H().SkbIIF)
		frags = append(frags, append([]byte(nil), c.Skb.Data()[ethHlen:]...))
		return TCXNext
	})}}
	s, te := newStack(t, cfg, "", nil, nil)
	require.NoError(t, s.Inject(&Packet{ID: 1, Frame: v6Datagram(3000)}))
	require.Empty(t, te.obs.dropReasons())
	require.Len(t, frags, 3)
	id := binary.BigEndian.Uint32(frags[0][ip6Hlen+4:])
	off := 0
	for i, f := range frags {
		require.Equal(t, uint8(nexthdrFrag), f[6])
		require.Equal(t, uint16(len(f)-ip6Hlen), binary.BigEndian.Uint16(f[4:6]))
		fh := f[ip6Hlen:]
		require.Equal(t, uint8(nexthdrUDP), fh[0])
		fo := binary.BigEndian.Uint16(fh[2:4])
		require.Equal(t, off, int(fo&^7))
		require.Equal(t, i != 2, fo&1 == 1)
		require.Equal(t, id, binary.BigEndian.Uint32(fh[4:8]))
		n := len(f) - ip6Hlen - fragHdrLen
		if i != 2 {
			require.Equal(t, (1280-ip6Hlen-fragHdrLen)&^7, n)
		}
		off += n
	}
	require.Equal(t, udpHlen+3000, off)
	require.Len(t, te.obs.delivs, 1)
}

// TestIP6SockSendErrors: frames a socket cannot send are one-line errors
// matching ErrPacket.
func TestIP6SockSendErrors(t *testing.T) {
	cfg := veth6TxConfig()
	cfg.Sockets = append(cfg.Sockets, SocketConfig{Name: "v4", Netns: "A", Proto: ProtoUDP, Port: 1})
	cfg.Entries = append(cfg.Entries, EntryConfig{Kind: EntryTX, Netns: "A", Socket: "v4"})
	s, _ := newStack(t, cfg, "", nil, nil)
	tcp := buildFrame6(frame6{src: "fd00::1", dst: "fd00::2", dport: 53, payload: 8, next: ipprotoTCP})[ethHlen:]
	bad := v6Datagram(8)
	binary.BigEndian.PutUint16(bad[4:6], 900)
	for _, tc := range []struct {
		frame []byte
		entry int
		want  string
	}{
		{v6Datagram(8), 1, "AF_INET socket"},
		{tcp, 0, "does not match socket"},
		{bad, 0, "malformed IPv6 header"},
	} {
		err := s.Inject(&Packet{ID: 9, Frame: tc.frame, Entry: tc.entry})
		require.ErrorIs(t, err, ErrPacket)
		require.ErrorContains(t, err, tc.want)
	}
}

// TestIP6TCPSend: tcp_sendmsg on an AF_INET6 socket queues the fclone (a
// TSO skb of SKB_GSO_TCPV6 when longer than the MSS) and __tcp_transmit_skb
// -> ip6_xmit sends a clone whose IPv6 header is pushed in front of the TCP
// header, with the socket's tx hash (an L4 hash the flow label keeps).
func TestIP6TCPSend(t *testing.T) {
	type seen struct {
		proto   uint16
		gso     uint32
		cloned  bool
		hash    uint32
		payload int
	}
	var eg []seen
	cfg := veth6TxConfig()
	cfg.Sockets[0] = SocketConfig{Name: "tx", Netns: "A", Proto: ProtoTCP, Addr: addr("fd00::1"), Port: 40000}
	cfg.Programs = []ProgramConfig{{Name: "eg", Hook: carrier.HookTCEgress, Netns: "A", Dev: "vA", Prog: ProgramFunc(func(c *Ctx) int {
		d := c.Skb.Data()
		eg = append(eg, seen{c.Skb.H().Protocol, c.Skb.Shinfo().GSOType, c.Skb.Cloned(), c.Skb.H().Hash,
			int(binary.BigEndian.Uint16(d[ethHlen+4:]))})
		return TCXDrop
	})}}
	s, _ := newStack(t, cfg, "", nil, nil)
	f := buildFrame6(frame6{src: "fd00::1", dst: "fd00::2", dport: 80, payload: 4000, next: ipprotoTCP})[ethHlen:]
	binary.BigEndian.PutUint16(f[ip6Hlen:], 40000)
	require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
	require.Len(t, eg, 1)
	require.Equal(t, uint16(ethPIPv6), eg[0].proto)
	require.Equal(t, skb.GSOTCPv6, eg[0].gso)
	require.True(t, eg[0].cloned, "__tcp_transmit_skb sends a clone")
	require.Equal(t, s.Socket("tx").txhash, eg[0].hash)
	require.Equal(t, 20+4000, eg[0].payload)
	require.Equal(t, 1, s.Socket("tx").RtxQueued())
}

// TestNoAllocsIP6SockSend: the IPv6 send path through a veth to another
// namespace's socket does not allocate on the Go heap in steady state.
func TestNoAllocsIP6SockSend(t *testing.T) {
	s, te := newStack(t, veth6TxConfig(), "", nil, nil)
	p := &Packet{Frame: v6Datagram(64)}
	for i := range 32 {
		p.ID = uint64(i)
		require.NoError(t, s.Inject(p))
	}
	require.Empty(t, te.obs.drops)
	require.Len(t, te.obs.delivs, 32)
	s.obs = NopObserver{}
	require.Zero(t, testing.AllocsPerRun(200, func() {
		p.ID++
		_ = s.Inject(p)
	}))
	_ = errors.New
}

// TestIP6CBNhoff: __ip6_local_out and ip6_rcv_core both set IP6CB(skb)->nhoff
// = offsetof(struct ipv6hdr, nexthdr) = 6, which tc egress of the sender
// (the cb is not cleared before the qdisc) and the consume_skb tracepoint
// on the receiver (IP6CB intact through UDP delivery; a socket filter would
// see zeros there, bpf_prog_run_save_cb clears the area) see; the kernel's skb-transitions
// cells of vxlan6 measure the same on 6.18.
func TestIP6CBNhoff(t *testing.T) {
	var eg, rx []uint16
	cfg := veth6TxConfig()
	cfg.Programs = []ProgramConfig{
		{Name: "eg", Hook: carrier.HookTCEgress, Netns: "A", Dev: "vA", Prog: ProgramFunc(func(c *Ctx) int {
			eg = append(eg, binary.LittleEndian.Uint16(c.Skb.H().CB[ip6cbNhoff:]))
			return TCXNext
		})},
		{Name: "tp", Hook: carrier.HookTracepoint, Netns: "B", Event: EventConsumeSkb, Prog: ProgramFunc(func(c *Ctx) int {
			rx = append(rx, binary.LittleEndian.Uint16(c.Skb.H().CB[ip6cbNhoff:]))
			return 0
		})},
	}
	s, te := newStack(t, cfg, "", nil, nil)
	require.NoError(t, s.Inject(&Packet{ID: 1, Frame: v6Datagram(64)}))
	require.Empty(t, te.obs.dropReasons())
	require.Equal(t, []uint16{6}, eg, "__ip6_local_out")
	require.Equal(t, []uint16{6}, rx, "ip6_rcv_core")
}

// TestIP6FragFastPathExtensionHeaders: __ip6_append_data keeps hop-by-hop
// and routing headers (opt_nflen) out of the fragmentable part, so a large
// datagram with them still goes by ip6_fragment's fast path, its pieces
// sent as they are; destination options without a routing header are
// fragmentable for the socket (IPV6_DSTOPTS) but not for
// ip6_find_1stfragopt, and the pieces no longer fit: the slow path copies
// them into new skbs.
func TestIP6FragFastPathExtensionHeaders(t *testing.T) {
	send := func(hop, routing bool, dstOpt byte) (allocs uint64, frags int) {
		cfg := veth6TxConfig()
		cfg.Programs = []ProgramConfig{{Name: "eg", Hook: carrier.HookTCEgress, Netns: "A", Dev: "vA",
			Prog: ProgramFunc(func(*Ctx) int { frags++; return TCXNext })}}
		s, te := newStack(t, cfg, "", nil, nil)
		f := buildFrame6(frame6{src: "fd00::1", dst: "fd00::2", dport: 53, payload: 3000, hop: hop, routing: routing, dstOpt: dstOpt})[ethHlen:]
		_, l4, ok := ip6L4(f)
		require.True(t, ok)
		binary.BigEndian.PutUint16(f[l4:], 40000)
		require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
		require.Empty(t, te.obs.dropReasons())
		require.Len(t, te.obs.delivs, 1, "reassembled and delivered")
		return te.a.Accountant().Stats().Total.Allocs, frags
	}
	plain, n := send(false, false, 0)
	require.Equal(t, 3, n)
	for _, tc := range []struct {
		name    string
		hop, rt bool
		dst     byte
		slow    bool
	}{
		{"hop-by-hop", true, false, 0, false},
		{"destination options before a routing header", false, true, 0x1e, false},
		{"destination options alone", false, false, 0x1e, true},
		{"hop-by-hop and destination options", true, false, 0x1e, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, n := send(tc.hop, tc.rt, tc.dst)
			require.Equal(t, 3, n, "three fragments leave")
			if tc.slow {
				require.Greater(t, a, plain, "the slow path allocates the fragments")
			} else {
				require.Equal(t, plain, a, "the fast path sends the pieces themselves")
			}
		})
	}
}
