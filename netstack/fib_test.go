package netstack

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/skb"
)

// fibTopology is the host of the bpf_fib_lookup tests: eth0 (NIC,
// 192.0.2.1/24, 2001:db8:1::1/64) and veth0 (10.1.0.1/24, fd00:1::1/64,
// MTU 1400) to B (10.1.0.2, fd00:1::2); 10.9.0.0/16 via 10.1.0.254 (a
// permanent neighbour), 10.8.0.0/16 via 10.1.0.253 (none) and fd00:9::/64
// via fd00:1::2 on veth0; blackhole 10.7.0.0/16, unreachable 10.6.0.0/16,
// prohibit 10.5.0.0/16; forwarding as fwd says, for both families.
func fibTopology(fwd bool, progs ...ProgramConfig) *Config {
	return &Config{
		Namespaces: []NamespaceConfig{{Name: HostNetns, Forwarding: fwd, IPv6Forwarding: fwd}, {Name: "B"}},
		Devices: []DeviceConfig{
			{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("192.0.2.1/24"), pfx("2001:db8:1::1/64")}},
			{Name: "veth0", Kind: KindVeth, MAC: macA, MTU: 1400, Addrs: []netip.Prefix{pfx("10.1.0.1/24"), pfx("fd00:1::1/64")},
				Peer: "vB", PeerNetns: "B", PeerMAC: macB,
				PeerAddrs: []netip.Prefix{pfx("10.1.0.2/24"), pfx("fd00:1::2/64")}},
		},
		Routes: []RouteConfig{
			{Dst: pfx("10.9.0.0/16"), Dev: "veth0", Via: addr("10.1.0.254")},
			{Dst: pfx("10.8.0.0/16"), Dev: "veth0", Via: addr("10.1.0.253")},
			{Dst: pfx("fd00:9::/64"), Dev: "veth0", Via: addr("fd00:1::2")},
			{Netns: "B", Dev: "vB", Via: addr("10.1.0.1")},
			{Dst: pfx("10.7.0.0/16"), Type: RouteBlackhole},
			{Dst: pfx("10.6.0.0/16"), Type: RouteUnreachable},
			{Dst: pfx("10.5.0.0/16"), Type: RouteProhibit},
		},
		Neighbours: []NeighConfig{{Dev: "veth0", Addr: addr("10.1.0.254"), MAC: gwMAC}},
		Sockets:    []SocketConfig{{Name: "b", Netns: "B", Proto: ProtoUDP, Port: 2000}, {Name: "b6", Netns: "B", Proto: ProtoUDP, Port: 2000, Addr: netip.IPv6Unspecified()}},
		Programs:   progs,
		Entries:    []EntryConfig{{Dev: "eth0"}},
	}
}

var gwMAC = [6]byte{2, 0, 0, 0, 0, 0xfe}

// TestFibLookup: Ctx.FibLookup's results and outputs, as
// bpf_ipv4_fib_lookup and bpf_ipv6_fib_lookup give them, from a tc
// ingress program on eth0 (bpf_skb_fib_lookup) and, for the MTU, an XDP
// one (bpf_xdp_fib_lookup checks TotLen always).
func TestFibLookup(t *testing.T) {
	const eth0, veth0 = 2, 3 // ifindexes: lo is 1
	v4 := func(src, dst string) FibParams {
		return FibParams{Family: AFInet, Ifindex: eth0, Src: addr(src), Dst: addr(dst)}
	}
	v6 := func(src, dst string) FibParams {
		p := v4(src, dst)
		p.Family = AFInet6
		return p
	}
	with := func(p FibParams, f func(*FibParams)) FibParams { f(&p); return p }
	for _, tc := range []struct {
		name    string
		p       FibParams
		flags   uint32
		noFwd   bool
		xdp     bool
		payload int // of the packet the program runs on (UDP, 192.0.2.9 -> 10.1.0.2)
		rc      int
		want    FibParams // the fields compared: Ifindex, Dst, Src, Smac, Dmac, TotLen, RtMetric, TBID
	}{
		{name: "on link", p: v4("192.0.2.9", "10.1.0.2"), rc: FibRetSuccess,
			want: with(v4("192.0.2.9", "10.1.0.2"), func(p *FibParams) { p.Ifindex, p.Smac, p.Dmac, p.TotLen = veth0, macA, macB, 1400 })},
		{name: "through a gateway", p: v4("192.0.2.9", "10.9.1.1"), rc: FibRetSuccess,
			want: with(v4("192.0.2.9", "10.1.0.254"), func(p *FibParams) { p.Ifindex, p.Smac, p.Dmac, p.TotLen = veth0, macA, gwMAC, 1400 })},
		{name: "no neighbour", p: v4("192.0.2.9", "10.8.1.1"), rc: FibRetNoNeigh,
			want: with(v4("192.0.2.9", "10.1.0.253"), func(p *FibParams) { p.Ifindex = veth0 })},
		{name: "skip_neigh", p: v4("192.0.2.9", "10.8.1.1"), flags: FibLookupSkipNeigh, rc: FibRetSuccess,
			want: with(v4("192.0.2.9", "10.1.0.253"), func(p *FibParams) { p.Ifindex, p.TotLen = veth0, 1400 })},
		{name: "local address", p: v4("192.0.2.9", "10.1.0.1"), rc: FibRetNotFwded, want: v4("192.0.2.9", "10.1.0.1")},
		{name: "local address, direct: main holds local", p: v4("192.0.2.9", "10.1.0.1"), flags: FibLookupDirect, rc: FibRetNotFwded,
			want: v4("192.0.2.9", "10.1.0.1")},
		{name: "table local", p: with(v4("192.0.2.9", "10.1.0.2"), func(p *FibParams) { p.TBID = rtTableLocal }), flags: FibLookupDirect | FibLookupTBID,
			rc: FibRetSuccess, want: with(v4("192.0.2.9", "10.1.0.2"), func(p *FibParams) { p.Ifindex, p.Smac, p.Dmac, p.TotLen = veth0, macA, macB, 1400 })},
		{name: "subnet broadcast", p: v4("192.0.2.9", "10.1.0.255"), rc: FibRetNotFwded, want: v4("192.0.2.9", "10.1.0.255")},
		{name: "no route", p: v4("192.0.2.9", "203.0.113.1"), rc: FibRetNotFwded, want: v4("192.0.2.9", "203.0.113.1")},
		{name: "forwarding off", p: v4("192.0.2.9", "10.1.0.2"), noFwd: true, rc: FibRetFwdDisabled, want: v4("192.0.2.9", "10.1.0.2")},
		{name: "output through eth0", p: v4("192.0.2.9", "10.1.0.2"), flags: FibLookupOutput, rc: FibRetNotFwded, want: v4("192.0.2.9", "10.1.0.2")},
		{name: "output through veth0", p: with(v4("192.0.2.9", "10.1.0.2"), func(p *FibParams) { p.Ifindex = veth0 }), flags: FibLookupOutput,
			rc: FibRetSuccess, want: with(v4("192.0.2.9", "10.1.0.2"), func(p *FibParams) { p.Ifindex, p.Smac, p.Dmac, p.TotLen = veth0, macA, macB, 1400 })},
		{name: "table main", p: with(v4("192.0.2.9", "10.1.0.2"), func(p *FibParams) { p.TBID = rtTableMain }), flags: FibLookupDirect | FibLookupTBID,
			rc: FibRetSuccess, want: with(v4("192.0.2.9", "10.1.0.2"), func(p *FibParams) { p.Ifindex, p.Smac, p.Dmac, p.TotLen = veth0, macA, macB, 1400 })},
		{name: "table 100", p: with(v4("192.0.2.9", "10.1.0.2"), func(p *FibParams) { p.TBID = 100 }), flags: FibLookupDirect | FibLookupTBID,
			rc: FibRetNotFwded, want: v4("192.0.2.9", "10.1.0.2")},
		{name: "source address", p: v4("192.0.2.9", "10.9.1.1"), flags: FibLookupSrc | FibLookupSkipNeigh, rc: FibRetSuccess,
			want: with(v4("10.1.0.1", "10.1.0.254"), func(p *FibParams) { p.Ifindex, p.TotLen = veth0, 1400 })},
		{name: "tot_len above the MTU", p: with(v4("192.0.2.9", "10.1.0.2"), func(p *FibParams) { p.TotLen = 1401 }), rc: FibRetFragNeeded,
			want: with(v4("192.0.2.9", "10.1.0.2"), func(p *FibParams) { p.TotLen = 1400 })},
		{name: "xdp: tot_len at the MTU", xdp: true, p: with(v4("192.0.2.9", "10.1.0.2"), func(p *FibParams) { p.TotLen = 1400 }), rc: FibRetSuccess,
			want: with(v4("192.0.2.9", "10.1.0.2"), func(p *FibParams) { p.Ifindex, p.Smac, p.Dmac, p.TotLen = veth0, macA, macB, 1400 })},
		{name: "xdp: tot_len 0 is not checked", xdp: true, payload: 1460, p: v4("192.0.2.9", "10.1.0.2"), rc: FibRetSuccess,
			want: with(v4("192.0.2.9", "10.1.0.2"), func(p *FibParams) { p.Ifindex, p.Smac, p.Dmac, p.TotLen = veth0, macA, macB, 1400 })},
		{name: "tc: the skb fits mtu + 18", payload: 1400 + 18 - 42, p: v4("192.0.2.9", "10.1.0.2"), rc: FibRetSuccess,
			want: with(v4("192.0.2.9", "10.1.0.2"), func(p *FibParams) { p.Ifindex, p.Smac, p.Dmac, p.TotLen = veth0, macA, macB, 1400 })},
		{name: "tc: the skb above mtu + 18", payload: 1400 + 19 - 42, p: v4("192.0.2.9", "10.1.0.2"), rc: FibRetFragNeeded,
			want: with(v4("192.0.2.9", "10.1.0.2"), func(p *FibParams) { p.Ifindex, p.Smac, p.Dmac, p.TotLen = veth0, macA, macB, 1400 })},
		{name: "unknown flag", p: v4("192.0.2.9", "10.1.0.2"), flags: 1 << 6, rc: errEINVAL, want: v4("192.0.2.9", "10.1.0.2")},
		{name: "blackhole", p: v4("192.0.2.9", "10.7.0.1"), rc: FibRetBlackhole, want: v4("192.0.2.9", "10.7.0.1")},
		{name: "unreachable", p: v4("192.0.2.9", "10.6.0.1"), rc: FibRetUnreachable, want: v4("192.0.2.9", "10.6.0.1")},
		{name: "prohibit", p: v4("192.0.2.9", "10.5.0.1"), rc: FibRetProhibit, want: v4("192.0.2.9", "10.5.0.1")},
		{name: "blackhole, output: before any next hop", p: with(v4("192.0.2.9", "10.7.0.1"), func(p *FibParams) { p.Ifindex = veth0 }),
			flags: FibLookupOutput, rc: FibRetBlackhole, want: with(v4("192.0.2.9", "10.7.0.1"), func(p *FibParams) { p.Ifindex = veth0 })},
		{name: "no family", p: with(v4("192.0.2.9", "10.1.0.2"), func(p *FibParams) { p.Family = 0 }), rc: errEAFNOSUPPORT,
			want: with(v4("192.0.2.9", "10.1.0.2"), func(p *FibParams) { p.Family = 0 })},
		{name: "no device", p: with(v4("192.0.2.9", "10.1.0.2"), func(p *FibParams) { p.Ifindex = 9 }), rc: errENODEV,
			want: with(v4("192.0.2.9", "10.1.0.2"), func(p *FibParams) { p.Ifindex = 9 })},
		{name: "IPv6 on link", p: v6("2001:db8:1::9", "fd00:1::2"), rc: FibRetSuccess,
			want: with(v6("2001:db8:1::9", "fd00:1::2"), func(p *FibParams) {
				p.Ifindex, p.Smac, p.Dmac, p.TotLen, p.RtMetric = veth0, macA, macB, 1400, ip6RtPrioAddrconf
			})},
		{name: "IPv6 through a gateway", p: v6("2001:db8:1::9", "fd00:9::5"), rc: FibRetSuccess,
			want: with(v6("2001:db8:1::9", "fd00:1::2"), func(p *FibParams) {
				p.Ifindex, p.Smac, p.Dmac, p.TotLen, p.RtMetric = veth0, macA, macB, 1400, ip6RtPrioUser
			})},
		{name: "IPv6 link-local", p: v6("2001:db8:1::9", "fe80::1"), rc: FibRetNotFwded, want: v6("2001:db8:1::9", "fe80::1")},
		{name: "IPv6 local", p: v6("2001:db8:1::9", "fd00:1::1"), rc: FibRetNotFwded, want: v6("2001:db8:1::9", "fd00:1::1")},
		{name: "IPv6 local, direct: main alone", p: v6("2001:db8:1::9", "fd00:1::1"), flags: FibLookupDirect, rc: FibRetNoNeigh,
			want: with(v6("2001:db8:1::9", "fd00:1::1"), func(p *FibParams) { p.Ifindex, p.RtMetric = veth0, ip6RtPrioAddrconf })},
		{name: "IPv6 table local", p: with(v6("2001:db8:1::9", "fd00:1::2"), func(p *FibParams) { p.TBID = rtTableLocal }),
			flags: FibLookupDirect | FibLookupTBID, rc: FibRetNotFwded, want: v6("2001:db8:1::9", "fd00:1::2")},
		{name: "IPv6 forwarding off", p: v6("2001:db8:1::9", "fd00:1::2"), noFwd: true, rc: FibRetFwdDisabled, want: v6("2001:db8:1::9", "fd00:1::2")},
		{name: "IPv6 source address", p: v6("2001:db8:1::9", "fd00:9::5"), flags: FibLookupSrc | FibLookupSkipNeigh, rc: FibRetSuccess,
			want: with(v6("fd00:1::1", "fd00:1::2"), func(p *FibParams) { p.Ifindex, p.TotLen, p.RtMetric = veth0, 1400, ip6RtPrioUser })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fibLookupCase(t, fibTopology(!tc.noFwd), "", tc.xdp, tc.payload, tc.p, tc.flags, tc.rc, tc.want)
		})
	}
}

// fibLookupCase runs Ctx.FibLookup(&p, flags) from a program at eth0's tc
// ingress (XDP with xdp) of cfg under profile on a datagram with payload
// bytes (at least 10) and compares the return and the outputs.
func fibLookupCase(t *testing.T, cfg *Config, profile string, xdp bool, payload int, p FibParams, flags uint32, rc int, want FibParams) {
	t.Helper()
	hook := carrier.HookTCIngress
	if xdp {
		hook = carrier.HookXDP
	}
	got, ret := p, 1000
	cfg.Programs = append(cfg.Programs, ProgramConfig{Name: "fib", Hook: hook, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
		got = p
		ret = c.FibLookup(&got, flags)
		return dropRet(c.Hook)
	})})
	s, _ := newStack(t, cfg, profile, nil, nil)
	require.NoError(t, s.Inject(&Packet{ID: 1, Frame: buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macA, src: "192.0.2.9", dst: "10.1.0.2",
		sport: 1000, dport: 2000, payload: max(payload, 10)})}))
	require.Equal(t, rc, ret, "%s", FibRetName(ret))
	pick := func(p FibParams) FibParams {
		return FibParams{Family: p.Family, Ifindex: p.Ifindex, Src: p.Src, Dst: p.Dst, Smac: p.Smac, Dmac: p.Dmac,
			TotLen: p.TotLen, RtMetric: p.RtMetric, TBID: p.TBID}
	}
	assert.Equal(t, pick(want), pick(got))
}

// TestFibLookupProfiles: what bpf_fib_lookup's outputs were in the
// profiles before each change of the helper: the flags each release
// added (-EINVAL before), mtu_result (v5.12), the egress ifindex on
// NO_NEIGH (v5.10) and the NUD_VALID check (v6.3).
func TestFibLookupProfiles(t *testing.T) {
	const eth0, veth0 = 2, 3
	v4 := func(dst string) FibParams {
		return FibParams{Family: AFInet, Ifindex: eth0, Src: addr("192.0.2.9"), Dst: addr(dst)}
	}
	with := func(p FibParams, f func(*FibParams)) FibParams { f(&p); return p }
	for _, tc := range []struct {
		name, profile string
		p             FibParams
		flags         uint32
		xdp           bool
		payload       int
		failed        bool // 10.1.0.253 has a failed entry without an address
		rc            int
		want          FibParams
	}{
		{name: "skip_neigh in v6.1", profile: "v6.1", p: v4("10.1.0.2"), flags: FibLookupSkipNeigh, rc: errEINVAL, want: v4("10.1.0.2")},
		{name: "skip_neigh in v6.6", profile: "v6.6", p: v4("10.1.0.2"), flags: FibLookupSkipNeigh, rc: FibRetSuccess,
			want: with(v4("10.1.0.2"), func(p *FibParams) { p.Ifindex, p.TotLen = veth0, 1400 })},
		{name: "tbid in v6.1", profile: "v6.1", p: v4("10.1.0.2"), flags: FibLookupDirect | FibLookupTBID, rc: errEINVAL, want: v4("10.1.0.2")},
		{name: "src in v6.6", profile: "v6.6", p: v4("10.1.0.2"), flags: FibLookupSrc, rc: errEINVAL, want: v4("10.1.0.2")},
		{name: "src in v6.12", profile: "v6.12", p: v4("10.1.0.2"), flags: FibLookupSrc, rc: FibRetSuccess,
			want: with(v4("10.1.0.2"), func(p *FibParams) {
				p.Src, p.Ifindex, p.Smac, p.Dmac, p.TotLen = addr("10.1.0.1"), veth0, macA, macB, 1400
			})},
		{name: "mark in v6.6", profile: "v6.6", p: v4("10.1.0.2"), flags: FibLookupMark, rc: errEINVAL, want: v4("10.1.0.2")},
		{name: "mark in v6.12", profile: "v6.12", p: v4("10.1.0.2"), flags: FibLookupMark, rc: FibRetSuccess,
			want: with(v4("10.1.0.2"), func(p *FibParams) { p.Ifindex, p.Smac, p.Dmac, p.TotLen = veth0, macA, macB, 1400 })},
		{name: "direct and output in v4.19", profile: "v4.19", p: with(v4("10.1.0.2"), func(p *FibParams) { p.Ifindex = veth0 }),
			flags: FibLookupDirect | FibLookupOutput, rc: FibRetSuccess,
			want: with(v4("10.1.0.2"), func(p *FibParams) { p.Ifindex, p.Smac, p.Dmac = veth0, macA, macB })},
		{name: "v5.10: tc writes no mtu_result", profile: "v5.10", p: v4("10.1.0.2"), rc: FibRetSuccess,
			want: with(v4("10.1.0.2"), func(p *FibParams) { p.Ifindex, p.Smac, p.Dmac = veth0, macA, macB })},
		{name: "v5.10: tc checks the skb, not tot_len", profile: "v5.10", p: with(v4("10.1.0.2"), func(p *FibParams) { p.TotLen = 1401 }),
			rc: FibRetSuccess, want: with(v4("10.1.0.2"), func(p *FibParams) { p.Ifindex, p.Smac, p.Dmac, p.TotLen = veth0, macA, macB, 1401 })},
		{name: "v5.10: tc, the skb above the MTU", profile: "v5.10", payload: 1400 + 19 - 42, p: with(v4("10.1.0.2"), func(p *FibParams) { p.TotLen = 100 }),
			rc: FibRetFragNeeded, want: with(v4("10.1.0.2"), func(p *FibParams) { p.Ifindex, p.Smac, p.Dmac, p.TotLen = veth0, macA, macB, 100 })},
		{name: "v5.12: tc checks tot_len", profile: "v5.15", p: with(v4("10.1.0.2"), func(p *FibParams) { p.TotLen = 1401 }),
			rc: FibRetFragNeeded, want: with(v4("10.1.0.2"), func(p *FibParams) { p.TotLen = 1400 })},
		{name: "v5.10: xdp, frag needed keeps tot_len", profile: "v5.10", xdp: true, p: with(v4("10.1.0.2"), func(p *FibParams) { p.TotLen = 1401 }),
			rc: FibRetFragNeeded, want: with(v4("10.1.0.2"), func(p *FibParams) { p.TotLen = 1401 })},
		{name: "v5.10: xdp, success keeps tot_len", profile: "v5.10", xdp: true, p: with(v4("10.1.0.2"), func(p *FibParams) { p.TotLen = 100 }),
			rc: FibRetSuccess, want: with(v4("10.1.0.2"), func(p *FibParams) { p.Ifindex, p.Smac, p.Dmac, p.TotLen = veth0, macA, macB, 100 })},
		{name: "v5.4: no neighbour keeps the input ifindex", profile: "v5.4", p: v4("10.8.1.1"), rc: FibRetNoNeigh,
			want: v4("10.1.0.253")},
		{name: "v5.10: no neighbour, the egress ifindex", profile: "v5.10", p: v4("10.8.1.1"), rc: FibRetNoNeigh,
			want: with(v4("10.1.0.253"), func(p *FibParams) { p.Ifindex = veth0 })},
		{name: "v6.1: a failed entry answers with its zero address", profile: "v6.1", failed: true, p: v4("10.8.1.1"), rc: FibRetSuccess,
			want: with(v4("10.1.0.253"), func(p *FibParams) { p.Ifindex, p.Smac, p.TotLen = veth0, macA, 1400 })},
		{name: "v6.6: a failed entry is no neighbour", profile: "v6.6", failed: true, p: v4("10.8.1.1"), rc: FibRetNoNeigh,
			want: with(v4("10.1.0.253"), func(p *FibParams) { p.Ifindex = veth0 })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fibTopology(true)
			if tc.failed {
				cfg.Neighbours = append(cfg.Neighbours, NeighConfig{Dev: "veth0", Addr: addr("10.1.0.253"), State: NeighFailed})
			}
			fibLookupCase(t, cfg, tc.profile, tc.xdp, tc.payload, tc.p, tc.flags, tc.rc, tc.want)
		})
	}
	for _, prof := range skb.ProfileNames() {
		p, err := skb.ProfileByName(prof)
		require.NoError(t, err)
		err = newStackErr(t, fibTopology(true, ProgramConfig{Name: "fwd", Hook: carrier.HookTCIngress, Dev: "eth0",
			Actions: []Action{{Kind: ActFibForward, Value: FibLookupSkipNeigh}}}), prof)
		if p.Major > 6 || p.Major == 6 && p.Minor >= 3 {
			assert.NoError(t, err, prof)
		} else {
			assert.ErrorContains(t, err, "BPF_FIB_LOOKUP_SKIP_NEIGH (v6.3) does not exist in "+prof, prof)
		}
	}
}

// TestFibForward: the fib_forward action at XDP and tc ingress of eth0
// forwards a datagram to B's socket through veth0 with the TTL
// decremented and the next hop's addresses, reports each lookup, and
// passes what it cannot forward to the stack (or, at tc with no_neigh:
// redirect_neigh, sends it to the next hop through the neighbour
// subsystem). At tc a tap's clone makes the verifier's unclone prologue
// give the skb a private head, which loses the XDP metadata before v6.19.
func TestFibForward(t *testing.T) {
	for _, tc := range []struct {
		name    string
		hook    carrier.Hook
		dst     string
		ttl     uint8
		noFwd   bool
		noNeigh bool // no_neigh: redirect_neigh
		tap     bool
		peerXDP bool // an XDP program on vB, so veth_xdp_xmit takes frames
		rets    []int32
		deliver int
		drops   []string
		ttlB    uint8 // the TTL B's tc ingress reads (0: none arrives)
		metaB   int   // the XDP metadata B's tc ingress reads (eth0's XDP wrote 8 bytes at tc hooks)
	}{
		{name: "xdp", hook: carrier.HookXDP, dst: "10.1.0.2", peerXDP: true, rets: []int32{FibRetSuccess}, deliver: 1, ttlB: 63},
		{name: "xdp: the peer has no XDP program", hook: carrier.HookXDP, dst: "10.1.0.2", rets: []int32{FibRetSuccess},
			drops: []string{"SKB_DROP_REASON_XDP@veth_xdp_xmit"}},
		{name: "tc", hook: carrier.HookTCIngress, dst: "10.1.0.2", rets: []int32{FibRetSuccess}, deliver: 1, ttlB: 63, metaB: 8},
		{name: "tc behind a tap", hook: carrier.HookTCIngress, tap: true, dst: "10.1.0.2", rets: []int32{FibRetSuccess}, deliver: 1, ttlB: 63},
		{name: "TTL 1 is left to the stack", hook: carrier.HookXDP, dst: "10.1.0.2", ttl: 1,
			drops: []string{"SKB_DROP_REASON_IP_INHDR@ip_forward"}},
		{name: "forwarding off: passed, dropped by the stack", hook: carrier.HookXDP, dst: "10.1.0.2", noFwd: true,
			rets: []int32{FibRetFwdDisabled}, drops: []string{"SKB_DROP_REASON_IP_INADDRERRORS@ip_rcv_finish_core"}},
		{name: "xdp: no neighbour, passed to the stack", hook: carrier.HookXDP, dst: "10.8.0.1", rets: []int32{FibRetNoNeigh},
			drops: []string{"SKB_DROP_REASON_NEIGH_FAILED@neigh_output"}},
		{name: "tc: no neighbour, redirect_neigh", hook: carrier.HookTCIngress, dst: "10.8.0.1", noNeigh: true, rets: []int32{FibRetNoNeigh},
			drops: []string{"SKB_DROP_REASON_NEIGH_FAILED@neigh_output"}},
		{name: "through the gateway", hook: carrier.HookTCIngress, dst: "10.9.0.1", rets: []int32{FibRetSuccess}, ttlB: 63, metaB: 8,
			drops: []string{"SKB_DROP_REASON_OTHERHOST@ip_rcv_core"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			act := Action{Kind: ActFibForward}
			if tc.noNeigh {
				act.Index = FibNoNeighRedirect
			}
			var ttls []uint8
			var metas []int
			cfg := fibTopology(!tc.noFwd, ProgramConfig{Name: "fwd", Hook: tc.hook, Dev: "eth0", Actions: []Action{act}},
				ProgramConfig{Name: "atB", Hook: carrier.HookTCIngress, Netns: "B", Dev: "vB", Prog: ProgramFunc(func(c *Ctx) int {
					ttls = append(ttls, c.Skb.Data()[ethHlen+8])
					metas = append(metas, len(c.Meta()))
					if [6]byte(c.Skb.Data()[6:12]) != macA {
						t.Errorf("source %x is not veth0's", c.Skb.Data()[6:12])
					}
					return TCXNext
				})})
			if tc.hook != carrier.HookXDP {
				cfg.Programs = append(cfg.Programs, ProgramConfig{Name: "meta", Hook: carrier.HookXDP, Dev: "eth0", Actions: []Action{{Kind: ActAdjustMeta, Value: 8}}})
			}
			if tc.peerXDP {
				cfg.Programs = append(cfg.Programs, ProgramConfig{Name: "xdpB", Hook: carrier.HookXDP, Netns: "B", Dev: "vB", Actions: []Action{{Kind: ActPass}}})
			}
			if tc.tap {
				cfg.Taps = []TapConfig{{Name: "t", Dev: "eth0"}}
			}
			s, te := newStack(t, cfg, "", nil, nil)
			ttl := tc.ttl
			if ttl == 0 {
				ttl = 64
			}
			f := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: [6]byte{2, 9, 9, 9, 9, 9}, src: "192.0.2.9", dst: tc.dst, sport: 1000, dport: 2000, payload: 10, ttl: ttl})
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
			s.Flush()
			var rets []int32
			for _, e := range te.obs.fib {
				rets = append(rets, e.Ret)
			}
			assert.Equal(t, tc.rets, rets, "bpf_fib_lookup results")
			assert.Equal(t, tc.drops, te.obs.dropReasons())
			assert.Equal(t, uint64(tc.deliver), te.obs.delivered(DeliverSocket))
			if tc.ttlB != 0 {
				assert.Equal(t, []uint8{tc.ttlB}, ttls)
				assert.Equal(t, []int{tc.metaB}, metas, "XDP metadata at B (the unclone prologue's pskb_expand_head clears it)")
			} else {
				assert.Empty(t, ttls)
			}
		})
	}
}

// fibTopologyTapped is fibTopology (forwarding on) with progs and a
// receive tap on eth0 (its packet socket reads each clone at once), so
// eth0's tc programs see a cloned skb.
func fibTopologyTapped(progs ...ProgramConfig) *Config {
	cfg := fibTopology(true, progs...)
	cfg.Taps = []TapConfig{{Name: "t", Dev: "eth0", Dir: TapRX}}
	return cfg
}

// TestCheckMTU: bpf_check_mtu's GSO rules, which TestKernelCheckMTU cannot
// build: a GSO skb above the MTU passes unless MTUCheckSegs finds a
// segment above it (skb_gso_validate_network_len); a plain one is
// FRAG_NEEDED.
func TestCheckMTU(t *testing.T) {
	for _, tc := range []struct {
		name    string
		gsoSize uint16
		flags   uint64
		want    int
	}{
		{"not GSO", 0, 0, MTUCheckFragNeeded},
		{"GSO", 1500, 0, MTUCheckSuccess},
		{"GSO, segments fit", 1000, MTUCheckSegs, MTUCheckSuccess},
		{"GSO, segments too big", 1500, MTUCheckSegs, MTUCheckSegsTooBig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ret, mtu := -100, uint32(0)
			s, _ := newStack(t, fibTopology(true, ProgramConfig{Name: "mtu", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
				if tc.gsoSize != 0 {
					sh := c.Skb.Shinfo()
					sh.GSOSize, sh.GSOType, sh.GSOSegs = tc.gsoSize, skb.GSOUDPL4, 3
				}
				ret = c.CheckMTU(0, &mtu, 0, tc.flags)
				if tc.gsoSize != 0 {
					sh := c.Skb.Shinfo()
					sh.GSOSize, sh.GSOType, sh.GSOSegs = 0, 0, 0
				}
				return TCXDrop
			})}), "", nil, nil)
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "10.1.0.2",
				sport: 1000, dport: 2000, payload: 3000})}))
			assert.Equal(t, tc.want, ret)
			assert.Equal(t, uint32(1500), mtu)
		})
	}
}

// TestRejectRoutes: a packet to forward meets the route lookup before
// ip_forward's checks: a blackhole, unreachable or prohibit route drops
// it in ip_error with NOT_SPECIFIED, no route with IP_INNOROUTES (even at
// TTL 1, which ip_forward would refuse later); IPv6 reject routes drop in
// their dst input; a local sender to a reject route is refused as with no
// route.
func TestRejectRoutes(t *testing.T) {
	for _, tc := range []struct {
		dst  string
		ttl  uint8
		want string
	}{
		{"10.7.0.1", 64, "SKB_DROP_REASON_NOT_SPECIFIED@ip_rcv_finish_core"},
		{"10.6.0.1", 64, "SKB_DROP_REASON_NOT_SPECIFIED@ip_rcv_finish_core"},
		{"10.5.0.1", 64, "SKB_DROP_REASON_NOT_SPECIFIED@ip_rcv_finish_core"},
		{"203.0.113.1", 64, "SKB_DROP_REASON_IP_INNOROUTES@ip_rcv_finish_core"},
		{"203.0.113.1", 1, "SKB_DROP_REASON_IP_INNOROUTES@ip_rcv_finish_core"},
		{"10.7.0.1", 1, "SKB_DROP_REASON_NOT_SPECIFIED@ip_rcv_finish_core"},
		{"10.1.0.2", 1, "SKB_DROP_REASON_IP_INHDR@ip_forward"},
	} {
		t.Run(fmt.Sprint(tc.dst, " ttl ", tc.ttl), func(t *testing.T) {
			s, te := newStack(t, fibTopology(true), "", nil, nil)
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: tc.dst,
				sport: 1000, dport: 2000, payload: 10, ttl: tc.ttl})}))
			assert.Equal(t, []string{tc.want}, te.obs.dropReasons())
		})
	}
	// IPv6: a blackhole's dst input is dst_discard, the others'
	// ip6_pkt_drop (measured on 6.18 with a kfree_skb trace: dst_discard_out
	// NOT_SPECIFIED, ip6_pkt_discard and ip6_pkt_prohibit IP_INNOROUTES).
	for _, tc := range []struct {
		typ, dst, want string
	}{
		{RouteBlackhole, "2001:db8:7::1", "SKB_DROP_REASON_NOT_SPECIFIED@ip6_pkt_discard"},
		{RouteUnreachable, "2001:db8:7::1", "SKB_DROP_REASON_IP_INNOROUTES@ip6_pkt_discard"},
		{RouteProhibit, "2001:db8:7::1", "SKB_DROP_REASON_IP_INNOROUTES@ip6_pkt_discard"},
		{RouteBlackhole, "2001:db8:9::1", "SKB_DROP_REASON_IP_INNOROUTES@ip6_pkt_discard"},
	} {
		t.Run(tc.typ+" "+tc.dst, func(t *testing.T) {
			cfg := fibTopology(true)
			cfg.Routes = append(cfg.Routes, RouteConfig{Dst: pfx("2001:db8:7::/48"), Type: tc.typ})
			s, te := newStack(t, cfg, "", nil, nil)
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: buildFrame6(frame6{dstMAC: macNIC, srcMAC: macB, src: "2001:db8:1::9", dst: tc.dst,
				dport: 2000, payload: 10})}))
			assert.Equal(t, []string{tc.want}, te.obs.dropReasons())
		})
	}
	cfg := fibTopology(true)
	cfg.Sockets = append(cfg.Sockets, SocketConfig{Name: "tx", Proto: ProtoUDP, Port: 4000})
	cfg.Entries = []EntryConfig{{Kind: EntryTX, Socket: "tx"}}
	for _, dst := range []string{"10.7.0.1", "203.0.113.1"} {
		s, te := newStack(t, cfg, "", nil, nil)
		require.NoError(t, s.Inject(&Packet{ID: 1, Frame: buildFrame(frameOpts{src: "192.0.2.1", dst: dst, sport: 4000, dport: 2000,
			payload: 10, noEth: true})}))
		assert.Len(t, te.obs.drops, 1, "%s: the send is refused", dst)
	}
	cfg = fibTopology(true)
	cfg.Routes = append(cfg.Routes, RouteConfig{Dst: pfx("10.4.0.0/16"), Dev: "eth0", Type: RouteBlackhole})
	require.ErrorIs(t, newStackErr(t, cfg, ""), ErrConfig, "a blackhole route has no device")
}
