package kernel

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/internal/testutil"
	"github.com/skbsim/skbsim/netstack"
)

// ruleArgs is `ip rule add` for r, device names mapped by dev.
func ruleArgs(r netstack.RuleConfig, dev func(string) string) []string {
	var a []string
	if r.IPv6 {
		a = append(a, "-6")
	}
	a = append(a, "rule", "add")
	if r.Priority != 0 {
		a = append(a, "pref", fmt.Sprint(r.Priority))
	}
	if r.Not {
		a = append(a, "not")
	}
	if r.From.IsValid() {
		a = append(a, "from", r.From.String())
	}
	if r.To.IsValid() {
		a = append(a, "to", r.To.String())
	}
	if r.FwMark != 0 || r.FwMask != 0 {
		m := fmt.Sprintf("%#x", r.FwMark)
		if r.FwMask != 0 {
			m += fmt.Sprintf("/%#x", r.FwMask)
		}
		a = append(a, "fwmark", m)
	}
	if r.IIF != "" {
		a = append(a, "iif", dev(r.IIF))
	}
	if r.IPProto != 0 {
		a = append(a, "ipproto", fmt.Sprint(r.IPProto))
	}
	for _, pr := range []struct {
		key string
		r   [2]uint16
	}{{"sport", r.Sport}, {"dport", r.Dport}} {
		if pr.r != [2]uint16{} {
			a = append(a, pr.key, fmt.Sprintf("%d-%d", pr.r[0], pr.r[1]))
		}
	}
	if r.TunID != 0 {
		a = append(a, "tun_id", fmt.Sprint(r.TunID))
	}
	if r.TOS != 0 {
		a = append(a, "tos", fmt.Sprintf("%#x", r.TOS))
	}
	if r.MatchUID {
		a = append(a, "uidrange", fmt.Sprintf("%d-%d", r.UIDRange[0], r.UIDRange[1]))
	}
	if r.OIF != "" {
		a = append(a, "oif", dev(r.OIF))
	}
	switch r.Type {
	case "", netstack.RuleLookup:
		table := r.Table
		if table == 0 {
			table = 254 // main
		}
		a = append(a, "table", fmt.Sprint(table))
	case netstack.RuleGoto:
		a = append(a, "goto", fmt.Sprint(r.Goto))
	default:
		a = append(a, r.Type)
	}
	if r.Suppress {
		a = append(a, "suppress_prefixlength", fmt.Sprint(r.SuppressPrefixlen))
	}
	return a
}

// markProg is a tc program that sets skb->mark to mark and passes.
func markProg(t *testing.T, mark uint32) *ebpf.Program {
	t.Helper()
	p, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.SchedCLS, License: "GPL", Instructions: asm.Instructions{
		asm.Mov.Imm32(asm.R2, int32(mark)),
		asm.StoreMem(asm.R1, 8, asm.R2, asm.Word), // mark
		asm.Mov.Imm(asm.R0, -1),                   // TCX_NEXT
		asm.Return(),
	}})
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })
	return p
}

// rulesTopo is newICMPTopo (A, H forwarding, B behind hB) with v's
// sysctls on H, a namespace C behind hC (10.2.0.0/24), and H's routes:
// 203.0.113.0/24 via B in main (throw 203.0.113.99), default via C in
// table 100, 203.0.113.0/25 via B in table 101, 198.18.0.0/16 on hA in
// table 102, throw 203.0.113.0/24 but 203.0.113.7 via C in table 103,
// and a permanent neighbour 198.18.0.9 (A's MAC) on hA.
type rulesTopo struct {
	*icmpTopo
	c            *Netns
	macHC, macVC [6]byte
	macVX        [6]byte // vx0's, when there is one
	srcValidMark bool
	rp           int
}

func newRulesTopo(t *testing.T, rp int, srcValidMark, vxlan bool) *rulesTopo {
	t.Helper()
	svm := map[bool]string{true: "1", false: "0"}[srcValidMark]
	tp := &rulesTopo{icmpTopo: newICMPTopo(t, "net.ipv4.conf.all.rp_filter", fmt.Sprint(rp), "net.ipv4.conf.all.src_valid_mark", svm),
		rp: rp, srcValidMark: srcValidMark}
	tp.c = newNetns(t, "icC")
	h, c := tp.h, tp.c
	require.NoError(t, c.IP("link", "add", "vC", "type", "veth", "peer", "name", "hC", "netns", h.Name))
	require.NoError(t, h.IP("addr", "add", "10.2.0.1/24", "dev", "hC"))
	require.NoError(t, c.IP("addr", "add", "10.2.0.2/24", "dev", "vC"))
	require.NoError(t, h.IP("link", "set", "hC", "up"))
	require.NoError(t, c.IP("link", "set", "vC", "up"))
	m, err := h.HardwareAddr("hC")
	require.NoError(t, err)
	tp.macHC = [6]byte(m)
	m, err = c.HardwareAddr("vC")
	require.NoError(t, err)
	tp.macVC = [6]byte(m)
	for _, c := range [][]string{
		{"neigh", "add", "10.2.0.2", "lladdr", macString(tp.macVC), "dev", "hC", "nud", "permanent"},
		{"route", "add", "203.0.113.0/24", "via", "10.1.0.2", "dev", "hB"},
		{"route", "add", "default", "via", "10.2.0.2", "dev", "hC", "table", "100"},
		{"route", "add", "203.0.113.0/25", "via", "10.1.0.2", "dev", "hB", "table", "101"},
		{"route", "add", "198.18.0.0/16", "dev", tp.hA, "table", "102"},
		{"route", "add", "throw", "203.0.113.0/24", "table", "103"},
		{"route", "add", "203.0.113.7/32", "via", "10.2.0.2", "dev", "hC", "table", "103"},
		{"route", "add", "throw", "203.0.113.99/32"},
		// A is 198.18.0.9 too, for the answers to that source.
		{"neigh", "add", "198.18.0.9", "lladdr", macString(tp.macA), "dev", tp.hA, "nud", "permanent"},
	} {
		require.NoError(t, h.IP(c...), "%v", c)
	}
	if vxlan {
		// A collect_md vxlan device on H's UDP port 4789, 10.9.0.1/24.
		for _, c := range [][]string{
			{"link", "add", "vx0", "type", "vxlan", "external", "dstport", "4789"},
			{"addr", "add", "10.9.0.1/24", "dev", "vx0"},
			{"link", "set", "vx0", "up"},
		} {
			require.NoError(t, h.IP(c...), "%v", c)
		}
		m, err := h.HardwareAddr("vx0")
		require.NoError(t, err)
		tp.macVX = [6]byte(m)
	}
	return tp
}

// vxlanFrame is inner frame f, addressed to vx0, in a VXLAN packet with
// VNI vni from A to H's UDP port 4789, in an Ethernet frame from vA to
// hA.
func (tp *rulesTopo) vxlanFrame(f []byte, vni uint32) []byte {
	f = append([]byte(nil), f...)
	copy(f[0:6], tp.macVX[:])
	copy(f[6:12], []byte{2, 0, 0, 0, 0, 0x77})
	pkt := udp4Packet(netip.MustParseAddr(icmpAddrA).As4(), netip.MustParseAddr(icmpAddrH).As4(), 50000, 4789, 8+len(f))
	pkt[28] = 0x08 // VXLAN_HF_VNI
	binary.BigEndian.PutUint32(pkt[32:], vni<<8)
	copy(pkt[36:], f)
	binary.BigEndian.PutUint16(pkt[10:], inetCsum(pkt[:20]))
	out := ethIPv4(pkt)
	copy(out[0:6], tp.macH[:])
	copy(out[6:12], tp.macA[:])
	return out
}

// dev maps the model's device names to the kernel's.
func (tp *rulesTopo) dev(name string) string {
	if name == "hA" {
		return tp.hA
	}
	return name
}

// rulesModel is the model of tp with rules, packets entering at hA.
func (tp *rulesTopo) rulesModel(rules []netstack.RuleConfig, progs ...netstack.ProgramConfig) *netstack.Config {
	pfx, ad := netip.MustParsePrefix, netip.MustParseAddr
	cfg := tp.model(netstack.NamespaceConfig{RPFilter: tp.rp, SrcValidMark: tp.srcValidMark}, progs...)
	tp.rxAtH(cfg)
	cfg.Namespaces = append(cfg.Namespaces, netstack.NamespaceConfig{Name: "C"})
	cfg.Devices = append(cfg.Devices, netstack.DeviceConfig{Name: "hC", Kind: netstack.KindVeth, Netns: "H", MAC: tp.macHC,
		Addrs: []netip.Prefix{pfx("10.2.0.1/24")}, Peer: "vC", PeerNetns: "C", PeerMAC: tp.macVC, PeerAddrs: []netip.Prefix{pfx("10.2.0.2/24")}})
	cfg.Routes = append(cfg.Routes,
		netstack.RouteConfig{Netns: "H", Dst: pfx("203.0.113.0/24"), Dev: "hB", Via: ad("10.1.0.2")},
		netstack.RouteConfig{Netns: "H", Dev: "hC", Via: ad("10.2.0.2"), Table: 100},
		netstack.RouteConfig{Netns: "H", Dst: pfx("203.0.113.0/25"), Dev: "hB", Via: ad("10.1.0.2"), Table: 101},
		netstack.RouteConfig{Netns: "H", Dst: pfx("198.18.0.0/16"), Dev: "hA", Table: 102},
		netstack.RouteConfig{Netns: "H", Dst: pfx("203.0.113.0/24"), Type: netstack.RouteThrow, Table: 103},
		netstack.RouteConfig{Netns: "H", Dst: pfx("203.0.113.7/32"), Dev: "hC", Via: ad("10.2.0.2"), Table: 103},
		netstack.RouteConfig{Netns: "H", Dst: pfx("203.0.113.99/32"), Type: netstack.RouteThrow})
	cfg.Neighbours = append(cfg.Neighbours, netstack.NeighConfig{Netns: "H", Dev: "hA", Addr: ad("198.18.0.9"), MAC: tp.macA})
	for _, r := range rules {
		r.Netns = "H"
		cfg.Rules = append(cfg.Rules, r)
	}
	return cfg
}

// ruleCase is a datagram sent through H under rules: from A (src to dst,
// marked at hA's tc ingress), or from a socket in H with SO_MARK mark
// (local).
type ruleCase struct {
	name     string
	rules    []netstack.RuleConfig
	rp       int
	svm      bool
	mark     uint32
	src, dst string
	local    bool
	frag     uint16 // the datagram's flags and fragment offset (ip_is_fragment)
	vni      uint32 // non-zero: A sends the datagram in VXLAN with this VNI to H's collect_md vx0
	neigh    string // H's entry for vB's 10.1.0.2 replaced by one in this NUD state, without an address
	tos      uint8  // the datagram's TOS
	uid      uint32 // the sending socket's owner (local)
}

// TestKernelPolicyRules: where H forwards A's datagram to 203.0.113.x
// under `ip rule` (B by main, C by table 100), or why it drops it (the
// first drop on hA), in the kernel and the model: fwmark with and without
// a mask, from, to, iif, oif, not, ipproto, port ranges (none read from
// fragments), tun_id on a collect_md vxlan device's packets, the rule
// actions, absent tables, suppress_prefixlength, priorities given and
// picked (fib_default_rule_pref), fib_validate_source's reversed flow
// under rp_filter (with and without src_valid_mark, its ports swapped,
// iif lo for local delivery), and packets H's own socket sends with
// SO_MARK.
func TestKernelPolicyRules(t *testing.T) {
	testutil.KernelTests(t)
	probe, err := NewMetaProbe(false)
	testutil.SkipIfNotSupported(t, err)
	t.Cleanup(func() { require.NoError(t, probe.Close()) })
	type R = netstack.RuleConfig
	p := netip.MustParsePrefix
	const a = icmpAddrA
	for _, tc := range []ruleCase{
		{name: "no rules", mark: 1, src: a, dst: "203.0.113.5"},
		{name: "fwmark, marked", rules: []R{{FwMark: 1, Table: 100}}, mark: 1, src: a, dst: "203.0.113.5"},
		{name: "fwmark, unmarked", rules: []R{{FwMark: 1, Table: 100}}, src: a, dst: "203.0.113.5"},
		{name: "fwmark with a mask", rules: []R{{FwMark: 0x10, FwMask: 0xf0, Table: 100}}, mark: 0x13, src: a, dst: "203.0.113.5"},
		{name: "fwmark 0 without a mask", rules: []R{{Table: 100}}, mark: 7, src: a, dst: "203.0.113.5"},
		{name: "from", rules: []R{{From: p("192.0.2.0/24"), Table: 100}}, src: a, dst: "203.0.113.5"},
		{name: "from another prefix", rules: []R{{From: p("192.0.2.128/25"), Table: 100}}, src: a, dst: "203.0.113.5"},
		{name: "to", rules: []R{{To: p("203.0.113.0/25"), Table: 100}}, src: a, dst: "203.0.113.5"},
		{name: "to another prefix", rules: []R{{To: p("203.0.113.0/25"), Table: 100}}, src: a, dst: "203.0.113.200"},
		{name: "iif", rules: []R{{IIF: "hA", Table: 100}}, src: a, dst: "203.0.113.5"},
		{name: "iif of another device", rules: []R{{IIF: "hB", Table: 100}}, src: a, dst: "203.0.113.5"},
		{name: "iif lo", rules: []R{{IIF: "lo", Table: 100}}, src: a, dst: "203.0.113.5"},
		{name: "oif", rules: []R{{OIF: "hC", Table: 100}}, src: a, dst: "203.0.113.5"},
		{name: "not fwmark, unmarked", rules: []R{{FwMark: 1, Not: true, Table: 100}}, src: a, dst: "203.0.113.5"},
		{name: "not fwmark, marked", rules: []R{{FwMark: 1, Not: true, Table: 100}}, mark: 1, src: a, dst: "203.0.113.5"},
		{name: "blackhole", rules: []R{{FwMark: 1, Type: netstack.RuleBlackhole}}, mark: 1, src: a, dst: "203.0.113.5"},
		{name: "unreachable", rules: []R{{FwMark: 1, Type: netstack.RuleUnreachable}}, mark: 1, src: a, dst: "203.0.113.5"},
		{name: "prohibit", rules: []R{{FwMark: 1, Type: netstack.RuleProhibit}}, mark: 1, src: a, dst: "203.0.113.5"},
		{name: "an absent table", rules: []R{{Table: 200}}, src: a, dst: "203.0.113.5"},
		{name: "a table without a match", rules: []R{{Priority: 100, Table: 101}, {Priority: 200, Table: 100}}, src: a, dst: "203.0.113.200"},
		{name: "suppress_prefixlength 0, a default route", rules: []R{{Table: 100, Suppress: true}}, src: a, dst: "203.0.113.5"},
		{name: "suppress_prefixlength 24, a /25", rules: []R{{Priority: 100, Table: 101, Suppress: true, SuppressPrefixlen: 24},
			{Priority: 200, Table: 100}}, src: a, dst: "203.0.113.5"},
		{name: "priorities", rules: []R{{Priority: 200, Table: 101}, {Priority: 100, Table: 100}}, src: a, dst: "203.0.113.5"},
		{name: "picked priorities", rules: []R{{Table: 100}, {Table: 101}}, src: a, dst: "203.0.113.5"},
		{name: "after main", rules: []R{{Priority: 32767, Table: 100}}, src: a, dst: "203.0.113.5"},
		{name: "nop", rules: []R{{Priority: 100, Type: netstack.RuleNop}, {Priority: 200, Table: 100}}, src: a, dst: "203.0.113.5"},
		{name: "goto over a rule", rules: []R{{Priority: 100, FwMark: 1, Type: netstack.RuleGoto, Goto: 300}, {Priority: 200, Table: 101},
			{Priority: 300, Table: 100}}, mark: 1, src: a, dst: "203.0.113.5"},
		{name: "goto not taken", rules: []R{{Priority: 100, FwMark: 1, Type: netstack.RuleGoto, Goto: 300}, {Priority: 200, Table: 101},
			{Priority: 300, Table: 100}}, src: a, dst: "203.0.113.5"},
		{name: "goto, the target must match", rules: []R{{Priority: 100, Type: netstack.RuleGoto, Goto: 300}, {Priority: 200, Table: 100},
			{Priority: 300, FwMark: 2, Table: 100}}, mark: 1, src: a, dst: "203.0.113.5"},
		{name: "goto an absent priority", rules: []R{{Priority: 100, Type: netstack.RuleGoto, Goto: 150}, {Priority: 200, Table: 100}},
			src: a, dst: "203.0.113.5"},
		{name: "throw, on to main", rules: []R{{Priority: 100, Table: 103}}, src: a, dst: "203.0.113.5"},
		{name: "throw, a longer route", rules: []R{{Priority: 100, Table: 103}}, src: a, dst: "203.0.113.7"},
		{name: "throw in main without rules", src: a, dst: "203.0.113.99"},
		// A failed entry is probed at the packet (__neigh_event_send:
		// INCOMPLETE, an immediate solicit). An incomplete one added by
		// hand is probed by its timer, whose first solicit may go before
		// the packet: how soon it resolves varies, so no case has one.
		{name: "a failed neighbour is resolved anew", src: a, dst: "203.0.113.5", neigh: netstack.NeighFailed},
		{name: "rp_filter 1, source by a rule", rules: []R{{To: p("198.18.0.0/16"), Table: 102}}, rp: 1, src: "198.18.0.9", dst: "203.0.113.5"},
		{name: "rp_filter 1, no rule", rp: 1, src: "198.18.0.9", dst: "203.0.113.5"},
		{name: "rp_filter 1, fwmark without src_valid_mark", rules: []R{{FwMark: 1, Table: 102}}, rp: 1, mark: 1, src: "198.18.0.9", dst: "203.0.113.5"},
		{name: "rp_filter 1, fwmark with src_valid_mark", rules: []R{{FwMark: 1, Table: 102}}, rp: 1, svm: true, mark: 1, src: "198.18.0.9", dst: "203.0.113.5"},
		{name: "rp_filter 1, reversed iif", rules: []R{{IIF: "hB", To: p("198.18.0.0/16"), Table: 102}}, rp: 1, src: "198.18.0.9", dst: "203.0.113.5"},
		{name: "own address as source", rules: []R{{FwMark: 9, Table: 100}}, src: "10.2.0.1", dst: "203.0.113.5"},
		{name: "ipproto udp", rules: []R{{IPProto: unix.IPPROTO_UDP, Table: 100}}, src: a, dst: "203.0.113.5"},
		{name: "ipproto tcp", rules: []R{{IPProto: unix.IPPROTO_TCP, Table: 100}}, src: a, dst: "203.0.113.5"},
		{name: "dport", rules: []R{{Dport: [2]uint16{9999, 9999}, Table: 100}}, src: a, dst: "203.0.113.5"},
		{name: "dport range without it", rules: []R{{Dport: [2]uint16{1, 9998}, Table: 100}}, src: a, dst: "203.0.113.5"},
		{name: "sport range", rules: []R{{Sport: [2]uint16{39000, 41000}, Table: 100}}, src: a, dst: "203.0.113.5"},
		{name: "ipproto, a later fragment", rules: []R{{IPProto: unix.IPPROTO_UDP, Table: 100}}, src: a, dst: "203.0.113.5", frag: 4},
		{name: "dport, a first fragment", rules: []R{{Dport: [2]uint16{9999, 9999}, Table: 100}}, src: a, dst: "203.0.113.5", frag: 0x2000},
		{name: "rp_filter 1, the reversed flow's ports swapped", rules: []R{{To: p("198.18.0.0/16"), Dport: [2]uint16{40000, 40000}, Table: 102}},
			rp: 1, src: "198.18.0.9", dst: "203.0.113.5"},
		{name: "rp_filter 1, local: an iif lo rule's ports are not dissected", rules: []R{{IIF: "lo", To: p("198.18.0.0/16"),
			Dport: [2]uint16{40000, 40000}, Table: 102}}, rp: 1, src: "198.18.0.9", dst: icmpAddrH},
		{name: "rp_filter 1, local: an iif lo rule", rules: []R{{IIF: "lo", To: p("198.18.0.0/16"), Table: 102}}, rp: 1, src: "198.18.0.9", dst: icmpAddrH},
		{name: "tos", rules: []R{{TOS: 0x10, Table: 100}}, src: a, dst: "203.0.113.5", tos: 0x10},
		{name: "tos, another", rules: []R{{TOS: 0x18, Table: 100}}, src: a, dst: "203.0.113.5", tos: 0x10},
		{name: "tos, the old TOS bits of DSCP EF", rules: []R{{TOS: 0x18, Table: 100}}, src: a, dst: "203.0.113.5", tos: 0xb8},
		{name: "tun_id, its VNI", rules: []R{{TunID: 42, Table: 100}}, src: "10.9.0.7", dst: "203.0.113.5", vni: 42},
		{name: "tun_id, another VNI", rules: []R{{TunID: 42, Table: 100}}, src: "10.9.0.7", dst: "203.0.113.5", vni: 7},
		{name: "socket, ipproto and dport", rules: []R{{IPProto: unix.IPPROTO_UDP, Dport: [2]uint16{9999, 9999}, Table: 100}}, dst: "203.0.113.5", local: true},
		{name: "socket, SO_MARK", rules: []R{{FwMark: 5, Table: 100}}, mark: 5, dst: "203.0.113.5", local: true},
		{name: "socket, another mark", rules: []R{{FwMark: 5, Table: 100}}, mark: 4, dst: "203.0.113.5", local: true},
		{name: "socket, iif lo", rules: []R{{IIF: "lo", Table: 100}}, dst: "203.0.113.5", local: true},
		{name: "socket, uidrange: its owner", rules: []R{{MatchUID: true, UIDRange: [2]uint32{1000, 1999}, Table: 100}}, dst: "203.0.113.5",
			local: true, uid: 1000},
		{name: "socket, uidrange: another owner", rules: []R{{MatchUID: true, UIDRange: [2]uint32{1000, 1999}, Table: 100}}, dst: "203.0.113.5",
			local: true},
		{name: "uidrange 0-0: forwarded packets have uid 0", rules: []R{{MatchUID: true, Table: 100}}, src: a, dst: "203.0.113.5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tp := newRulesTopo(t, tc.rp, tc.svm, tc.vni != 0)
			for _, r := range tc.rules {
				require.NoError(t, tp.h.IP(ruleArgs(r, tp.dev)...))
			}
			if tc.neigh != "" {
				require.NoError(t, tp.h.IP("neigh", "replace", "10.1.0.2", "dev", "hB", "nud", tc.neigh))
			}
			atB := attachHdrCopy(t, tp.b, "vB", unix.IPPROTO_UDP)
			atC := attachHdrCopy(t, tp.c, "vC", unix.IPPROTO_UDP)
			var frame []byte
			var kern []string
			if tc.local {
				// The model's socket sends this packet; the kernel's picks
				// its source from the route.
				frame = ethIPv4(udp4Packet(netip.MustParseAddr(icmpAddrH).As4(), netip.MustParseAddr(tc.dst).As4(), 4000, 9999, 16))
				fd := -1
				// sk_uid is the creator's fsuid (sock_alloc): set on the
				// namespace's thread, which exits with it.
				require.NoError(t, tp.h.Do(func() error {
					if err := unix.Setfsuid(int(tc.uid)); err != nil {
						return err
					}
					var err error
					fd, err = unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
					return err
				}))
				t.Cleanup(func() { unix.Close(fd) })
				require.NoError(t, unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_MARK, int(tc.mark)))
				require.NoError(t, unix.Sendto(fd, make([]byte, 16), 0, &unix.SockaddrInet4{Port: 9999, Addr: netip.MustParseAddr(tc.dst).As4()}))
				time.Sleep(30 * time.Millisecond)
			} else {
				l, err := attachTCXIn(tp.h, tp.hA, markProg(t, tc.mark), ebpf.AttachTCXIngress)
				require.NoError(t, err)
				t.Cleanup(func() { l.Close() })
				frame = tp.rtFrame(tc.src, tc.dst, 64)
				if tc.frag != 0 || tc.tos != 0 {
					frame[14+1] = tc.tos
					binary.BigEndian.PutUint16(frame[14+6:], tc.frag)
					binary.BigEndian.PutUint16(frame[14+10:], 0)
					binary.BigEndian.PutUint16(frame[14+10:], inetCsum(frame[14:14+20]))
				}
				if tc.vni != 0 {
					frame = tp.vxlanFrame(frame, tc.vni)
				}
				vA, err := tp.a.Ifindex("vA")
				require.NoError(t, err)
				kern = watchDrop(t, probe, tp.hA, func() { sendFrame(t, tp.a, vA, net.HardwareAddr(frame[0:6]), frame) })
				if tc.neigh != "" {
					time.Sleep(200 * time.Millisecond) // the ARP exchange before the queued datagram leaves
				}
			}
			var kb, kc hdrCopy
			require.NoError(t, atB.Lookup(uint32(0), &kb))
			require.NoError(t, atC.Lookup(uint32(0), &kc))
			if len(kb.bytes()) != 0 {
				kern = append(kern, "at B")
			}
			if len(kc.bytes()) != 0 {
				kern = append(kern, "at C")
			}
			t.Logf("kernel: %v", kern)

			var model []string
			at := func(name string) netstack.ProgramFunc {
				return func(c *netstack.Ctx) int {
					if f := c.Skb.Data(); binary.BigEndian.Uint16(f[12:]) == unix.ETH_P_IP && f[14+9] == unix.IPPROTO_UDP {
						model = append(model, "at "+name)
					}
					return -1
				}
			}
			progs := []netstack.ProgramConfig{
				{Name: "atB", Hook: carrier.HookTCIngress, Netns: "B", Dev: "vB", Prog: at("B")},
				{Name: "atC", Hook: carrier.HookTCIngress, Netns: "C", Dev: "vC", Prog: at("C")},
			}
			if !tc.local {
				mark := tc.mark
				progs = append(progs, netstack.ProgramConfig{Name: "mark", Hook: carrier.HookTCIngress, Netns: "H", Dev: "hA",
					Prog: netstack.ProgramFunc(func(c *netstack.Ctx) int { c.SetMark(mark); return -1 })})
			}
			cfg := tp.rulesModel(tc.rules, progs...)
			if tc.neigh != "" {
				cfg.Neighbours = append(cfg.Neighbours, netstack.NeighConfig{Netns: "H", Dev: "hB", Addr: netip.MustParseAddr("10.1.0.2"),
					State: tc.neigh})
			}
			if tc.vni != 0 {
				cfg.Devices = append(cfg.Devices, netstack.DeviceConfig{Name: "vx0", Kind: netstack.KindVXLAN, Netns: "H", External: true,
					MAC: tp.macVX, Port: 4789, Addrs: []netip.Prefix{netip.MustParsePrefix("10.9.0.1/24")}})
			}
			obs := &devDrops{}
			var drops []string
			if tc.local {
				cfg.Sockets = append(cfg.Sockets, netstack.SocketConfig{Name: "own", Netns: "H", Proto: netstack.ProtoUDP, Port: 4000, Mark: tc.mark,
					UID: tc.uid})
				cfg.Entries = []netstack.EntryConfig{{Kind: netstack.EntryTX, Netns: "H", Socket: "own"}}
				frame = frame[14:]
			}
			runModel(t, cfg, obs, frame, func(s *netstack.Stack) {
				if !tc.local {
					drops = obs.first(s, "H", "hA")
				}
			})
			require.Equal(t, kern, append(drops, model...), "model")
		})
	}
}

// TestKernelFibLookupRules: bpf_fib_lookup under `ip rule` on 6.18 and in
// the model, in TestKernelFibLookup's namespace with 203.0.113.0/24 via
// veth0 in main, via eth0 (192.0.2.7) in table 100, 203.0.113.0/25 in
// table 101 and fd00:9::/64 via eth0 in IPv6's table 100: the mark only
// with BPF_FIB_LOOKUP_MARK, iif (LOOPBACK_IFINDEX with
// BPF_FIB_LOOKUP_OUTPUT), BPF_FIB_LOOKUP_DIRECT's tables, the rule
// actions (an unreachable rule is NOT_FWDED, an unreachable route
// UNREACHABLE), and the local table unmerged from main by a first rule.
func TestKernelFibLookupRules(t *testing.T) {
	testutil.KernelTests(t)
	type R = netstack.RuleConfig
	const v4, v6 = netstack.AFInet, netstack.AFInet6
	const mark, direct, tbid, out, skip = netstack.FibLookupMark, netstack.FibLookupDirect, netstack.FibLookupTBID,
		netstack.FibLookupOutput, netstack.FibLookupSkipNeigh
	c := func(name string, flags uint32) fibCase {
		return fibCase{name: name, family: v4, src: "192.0.2.9", dst: "203.0.113.5", in: "eth0", mark: 1, flags: flags}
	}
	with := func(tc fibCase, f func(*fibCase)) fibCase { f(&tc); return tc }
	for _, tc := range []struct {
		fibCase
		rules []R
	}{
		{c("no rules", mark), nil},
		{c("fwmark, BPF_FIB_LOOKUP_MARK", mark), []R{{FwMark: 1, Table: 100}}},
		{c("fwmark, without BPF_FIB_LOOKUP_MARK", 0), []R{{FwMark: 1, Table: 100}}},
		{c("iif", 0), []R{{IIF: "eth0", Table: 100}}},
		{c("iif lo, output", out), []R{{IIF: "lo", Table: 100}}},
		{c("oif, output", out), []R{{OIF: "eth0", Table: 100}}},
		{c("from", 0), []R{{From: netip.MustParsePrefix("192.0.2.0/24"), Table: 100}}},
		{c("direct ignores the rules", mark|direct), []R{{FwMark: 1, Table: 100}}},
		{with(c("direct, table 100", direct|tbid), func(f *fibCase) { f.tbid = 100 }), nil},
		{with(c("direct, an absent table", direct|tbid), func(f *fibCase) { f.tbid = 200 }), nil},
		{with(c("direct, table 101 without a match", direct|tbid), func(f *fibCase) { f.tbid, f.dst = 101, "203.0.113.200" }), nil},
		{with(c("direct, table local, unmerged", direct|tbid), func(f *fibCase) { f.tbid, f.dst = 255, "10.1.0.2" }), []R{{FwMark: 9, Table: 100}}},
		{with(c("direct, table main, unmerged", direct|tbid), func(f *fibCase) { f.tbid, f.dst = 254, "10.1.0.2" }), []R{{FwMark: 9, Table: 100}}},
		{c("blackhole rule", 0), []R{{Type: netstack.RuleBlackhole}}},
		{c("unreachable rule", 0), []R{{Type: netstack.RuleUnreachable}}},
		{c("prohibit rule", 0), []R{{Type: netstack.RuleProhibit}}},
		{c("suppress_prefixlength 0", 0), []R{{Table: 100, Suppress: true}}},
		{c("throw, on to main", 0), []R{{Priority: 100, Table: 103}}},
		{with(c("throw, direct", direct|tbid), func(f *fibCase) { f.tbid = 103 }), nil},
		{with(c("dport rule, l4 fields", 0), func(f *fibCase) { f.l4, f.dport = unix.IPPROTO_UDP, 53 }),
			[]R{{IPProto: unix.IPPROTO_UDP, Dport: [2]uint16{53, 53}, Table: 100}}},
		{with(c("tos rule", 0), func(f *fibCase) { f.tos = 0xb8 }), []R{{TOS: 0x18, Table: 100}}},
		{with(c("tos rule, another tos", 0), func(f *fibCase) { f.tos = 0x10 }), []R{{TOS: 0x18, Table: 100}}},
		{with(c("dport rule, another port", 0), func(f *fibCase) { f.l4, f.dport = unix.IPPROTO_UDP, 54 }),
			[]R{{IPProto: unix.IPPROTO_UDP, Dport: [2]uint16{53, 53}, Table: 100}}},
		{with(c("local address, direct, unmerged", direct|skip), func(f *fibCase) { f.dst = "10.1.0.1" }), []R{{FwMark: 9, Table: 100}}},
		{with(c("local address, unmerged", skip), func(f *fibCase) { f.dst = "10.1.0.1" }), []R{{FwMark: 9, Table: 100}}},
		{with(c("IPv6 fwmark", mark|skip), func(f *fibCase) { f.family, f.src, f.dst = v6, "2001:db8:1::9", "fd00:9::5" }),
			[]R{{IPv6: true, FwMark: 1, Table: 100}}},
		{with(c("IPv6 unreachable rule", 0), func(f *fibCase) { f.family, f.src, f.dst = v6, "2001:db8:1::9", "fd00:9::5" }),
			[]R{{IPv6: true, Type: netstack.RuleUnreachable}}},
		{with(c("IPv6 direct, table 100", direct|tbid|skip), func(f *fibCase) {
			f.family, f.src, f.dst, f.tbid = v6, "2001:db8:1::9", "fd00:9::5", 100
		}), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fh := newFibHarness(t, "fibr")
			for _, a := range [][]string{
				{"route", "add", "203.0.113.0/24", "via", "10.1.0.254", "dev", "veth0"},
				{"route", "add", "203.0.113.0/24", "via", "192.0.2.7", "dev", "eth0", "table", "100"},
				{"route", "add", "203.0.113.0/25", "via", "10.1.0.254", "dev", "veth0", "table", "101"},
				{"-6", "route", "add", "fd00:9::/64", "via", "2001:db8:1::7", "dev", "eth0", "table", "100"},
				{"route", "add", "throw", "203.0.113.0/24", "table", "103"},
				{"neigh", "add", "192.0.2.7", "lladdr", "02:00:00:00:00:07", "dev", "eth0", "nud", "permanent"},
			} {
				require.NoError(t, fh.h.IP(a...), "%v", a)
			}
			for _, r := range tc.rules {
				require.NoError(t, fh.h.IP(ruleArgs(r, func(s string) string { return s })...))
			}
			pfx, ad := netip.MustParsePrefix, netip.MustParseAddr
			fh.run(t, tc.fibCase, func(cfg *netstack.Config) {
				cfg.Routes = append(cfg.Routes,
					netstack.RouteConfig{Netns: "H", Dst: pfx("203.0.113.0/24"), Dev: "veth0", Via: ad("10.1.0.254")},
					netstack.RouteConfig{Netns: "H", Dst: pfx("203.0.113.0/24"), Dev: "eth0", Via: ad("192.0.2.7"), Table: 100},
					netstack.RouteConfig{Netns: "H", Dst: pfx("203.0.113.0/25"), Dev: "veth0", Via: ad("10.1.0.254"), Table: 101},
					netstack.RouteConfig{Netns: "H", Dst: pfx("fd00:9::/64"), Dev: "eth0", Via: ad("2001:db8:1::7"), Table: 100},
					netstack.RouteConfig{Netns: "H", Dst: pfx("203.0.113.0/24"), Type: netstack.RouteThrow, Table: 103})
				cfg.Neighbours = append(cfg.Neighbours, netstack.NeighConfig{Netns: "H", Dev: "eth0", Addr: ad("192.0.2.7"),
					MAC: [6]byte{2, 0, 0, 0, 0, 7}})
				for _, r := range tc.rules {
					r.Netns = "H"
					cfg.Rules = append(cfg.Rules, r)
				}
			})
		})
	}
}

// TestKernelFibLookupNeighStates: bpf_fib_lookup against neighbour entries
// in each NUD state on 6.18 and in the model: a NUD_VALID entry answers
// with its address (a stale, wrong one too), a failed or incomplete one
// is NO_NEIGH although the address is vB's.
func TestKernelFibLookupNeighStates(t *testing.T) {
	testutil.KernelTests(t)
	wrong := [6]byte{2, 0, 0, 0, 0, 0x99}
	for _, tc := range []struct {
		state string
		addr  string
		mac   [6]byte // zero: vB's
	}{
		{netstack.NeighStale, "10.1.0.2", [6]byte{}},
		{netstack.NeighStale, "10.1.0.2", wrong},
		{netstack.NeighReachable, "10.1.0.2", [6]byte{}},
		{netstack.NeighNoarp, "10.1.0.2", [6]byte{}},
		{netstack.NeighProbe, "10.1.0.2", [6]byte{}},
		{netstack.NeighFailed, "10.1.0.2", [6]byte{}},
		{netstack.NeighIncomplete, "10.1.0.2", [6]byte{}},
		{netstack.NeighFailed, "10.1.0.254", [6]byte{}},
	} {
		t.Run(fmt.Sprintf("%s %s %x", tc.state, tc.addr, tc.mac), func(t *testing.T) {
			fh := newFibHarness(t, "fibn")
			mac := tc.mac
			if mac == [6]byte{} {
				mac = [6]byte(fh.macB)
			}
			args := []string{"neigh", "replace", tc.addr, "dev", "veth0", "nud", tc.state}
			if tc.state != netstack.NeighFailed && tc.state != netstack.NeighIncomplete {
				args = append(args, "lladdr", macString(mac))
			}
			require.NoError(t, fh.h.IP(args...))
			dst := "10.1.0.2"
			if tc.addr == "10.1.0.254" {
				dst = "10.9.1.1" // through the gateway
			}
			fc := fibCase{name: tc.state, family: netstack.AFInet, src: "192.0.2.9", dst: dst, in: "eth0"}
			fh.run(t, fc, func(cfg *netstack.Config) {
				cfg.Neighbours = slices.DeleteFunc(cfg.Neighbours, func(n netstack.NeighConfig) bool { return n.Addr.String() == tc.addr })
				cfg.Neighbours = append(cfg.Neighbours, netstack.NeighConfig{Netns: "H", Dev: "veth0", Addr: netip.MustParseAddr(tc.addr),
					MAC: mac, State: tc.state})
			})
		})
	}
}

// seen6Prog is a tc program that sets io[0] to 1 when an IPv6 packet
// whose first next header is UDP or a fragment header passes.
func seen6Prog(t *testing.T, io *ebpf.Map) *ebpf.Program {
	t.Helper()
	p, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.SchedCLS, License: "GPL", Instructions: asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1),
		asm.LoadMem(asm.R2, asm.R6, 16, asm.Word), // protocol
		asm.JNE.Imm(asm.R2, int32(htons(unix.ETH_P_IPV6)), "out"),
		asm.LoadMem(asm.R2, asm.R6, 76, asm.Word), // data
		asm.LoadMem(asm.R3, asm.R6, 80, asm.Word), // data_end
		asm.Mov.Reg(asm.R4, asm.R2),
		asm.Add.Imm(asm.R4, 14+40),
		asm.JGT.Reg(asm.R4, asm.R3, "out"),
		asm.LoadMem(asm.R4, asm.R2, 14+6, asm.Byte),
		asm.JEq.Imm(asm.R4, unix.IPPROTO_UDP, "seen"),
		asm.JEq.Imm(asm.R4, unix.IPPROTO_FRAGMENT, "seen"),
		asm.Ja.Label("out"),
		asm.StoreImm(asm.RFP, -4, 0, asm.Word).WithSymbol("seen"),
		asm.LoadMapPtr(asm.R1, io.FD()),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -4),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "out"),
		asm.StoreImm(asm.R0, 0, 1, asm.Word),
		asm.Mov.Imm(asm.R0, -1).WithSymbol("out"), // TCX_NEXT
		asm.Return(),
	}})
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })
	return p
}

// attachSeen6 attaches seen6Prog at dev's tc ingress in n and returns
// its map.
func attachSeen6(t *testing.T, n *Netns, dev string) *ebpf.Map {
	t.Helper()
	io, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 1})
	require.NoError(t, err)
	t.Cleanup(func() { io.Close() })
	l, err := attachTCXIn(n, dev, seen6Prog(t, io), ebpf.AttachTCXIngress)
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	return io
}

// TestKernelPolicyRules6: IPv6 forwarding under `ip -6 rule` on 6.18 and
// in the model: H (newICMP6Topo) routes 2001:db8:99::/64 to B in main and
// everything to C (behind hC, 2001:db8:3::/64) in table 100. A sends a UDP
// datagram, or its first fragment, marked at hA's tc ingress; where it
// arrives (vB or vC), or the first drop on hA, agrees: fwmark, dport, a
// fragment (no ports; its protocol for the rules is the fragment header's
// next header, not the fragment header), and an unreachable rule.
func TestKernelPolicyRules6(t *testing.T) {
	testutil.KernelTests(t)
	probe, err := NewMetaProbe(false)
	testutil.SkipIfNotSupported(t, err)
	t.Cleanup(func() { require.NoError(t, probe.Close()) })
	require.NoError(t, probe.FilterTclass(testTclass))
	type R = netstack.RuleConfig
	for _, tc := range []struct {
		name  string
		rules []R
		mark  uint32
		frag  bool
	}{
		{name: "no rules", mark: 1},
		{name: "fwmark", rules: []R{{IPv6: true, FwMark: 1, Table: 100}}, mark: 1},
		{name: "fwmark, unmarked", rules: []R{{IPv6: true, FwMark: 1, Table: 100}}},
		{name: "dport", rules: []R{{IPv6: true, Dport: [2]uint16{9999, 9999}, Table: 100}}},
		{name: "dport, a first fragment", rules: []R{{IPv6: true, Dport: [2]uint16{9999, 9999}, Table: 100}}, frag: true},
		{name: "ipproto udp, a fragment", rules: []R{{IPv6: true, IPProto: unix.IPPROTO_UDP, Table: 100}}, frag: true},
		{name: "ipproto the fragment header", rules: []R{{IPv6: true, IPProto: unix.IPPROTO_FRAGMENT, Table: 100}}, frag: true},
		{name: "unreachable rule", rules: []R{{IPv6: true, FwMark: 1, Type: netstack.RuleUnreachable}}, mark: 1},
		{name: "tos: the traffic class's DSCP", rules: []R{{IPv6: true, TOS: testTclass, Table: 100}}},
		{name: "tos: IPv6 does not mask", rules: []R{{IPv6: true, TOS: testTclass & 0x1c, Table: 100}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tp := newICMP6Topo(t)
			c := newNetns(t, "i6C")
			require.NoError(t, c.IP("link", "add", "vC", "type", "veth", "peer", "name", "hC", "netns", tp.h.Name))
			for _, x := range []struct {
				n   *Netns
				dev string
			}{{tp.h, "hC"}, {c, "vC"}} {
				require.NoError(t, x.n.Do(func() error { return writeSysctl("net/ipv6/conf/"+x.dev+"/disable_ipv6", "0") }))
			}
			require.NoError(t, tp.h.IP("-6", "addr", "add", "2001:db8:3::1/64", "dev", "hC", "nodad"))
			require.NoError(t, c.IP("-6", "addr", "add", "2001:db8:3::2/64", "dev", "vC", "nodad"))
			require.NoError(t, tp.h.IP("link", "set", "hC", "up"))
			require.NoError(t, c.IP("link", "set", "vC", "up"))
			m, err := c.HardwareAddr("vC")
			require.NoError(t, err)
			macVC := [6]byte(m)
			m, err = tp.h.HardwareAddr("hC")
			require.NoError(t, err)
			macHC := [6]byte(m)
			for _, a := range [][]string{
				{"-6", "neigh", "add", "2001:db8:3::2", "lladdr", macString(macVC), "dev", "hC", "nud", "permanent"},
				{"-6", "route", "add", "2001:db8:99::/64", "via", icmp6AddrB, "dev", "hB"},
				{"-6", "route", "add", "default", "via", "2001:db8:3::2", "dev", "hC", "table", "100"},
			} {
				require.NoError(t, tp.h.IP(a...), "%v", a)
			}
			for _, r := range tc.rules {
				require.NoError(t, tp.h.IP(ruleArgs(r, func(s string) string { return s })...))
			}
			l, err := attachTCXIn(tp.h, tp.hA, markProg(t, tc.mark), ebpf.AttachTCXIngress)
			require.NoError(t, err)
			t.Cleanup(func() { l.Close() })
			atB, atC := attachSeen6(t, tp.b, "vB"), attachSeen6(t, c, "vC")

			udp := make([]byte, 8+8)
			binary.BigEndian.PutUint16(udp[0:], 40000)
			binary.BigEndian.PutUint16(udp[2:], 9999)
			binary.BigEndian.PutUint16(udp[4:], uint16(len(udp)))
			p := ip6Packet("2001:db8:99::5", 64, unix.IPPROTO_UDP, udp, 6, false)
			if tc.frag {
				// A first fragment (M set) of the datagram.
				fh := []byte{unix.IPPROTO_UDP, 0, 0, 1, 0, 0, 0, 7}
				p = append(append(append([]byte{}, p[:40]...), fh...), p[40:]...)
				p[6] = unix.IPPROTO_FRAGMENT
				binary.BigEndian.PutUint16(p[4:], uint16(len(p)-40))
			}
			frame := tp.frame6(p)
			vA, err := tp.a.Ifindex("vA")
			require.NoError(t, err)
			kern := watchDrop(t, probe, tp.hA, func() { sendFrame(t, tp.a, vA, net.HardwareAddr(frame[0:6]), frame) })
			for _, at := range []struct {
				name string
				m    *ebpf.Map
			}{{"at B", atB}, {"at C", atC}} {
				var v uint32
				require.NoError(t, at.m.Lookup(uint32(0), &v))
				if v != 0 {
					kern = append(kern, at.name)
				}
			}
			t.Logf("kernel: %v", kern)

			var model []string
			seen := func(name string) netstack.ProgramFunc {
				return func(c *netstack.Ctx) int {
					if f := c.Skb.Data(); binary.BigEndian.Uint16(f[12:]) == unix.ETH_P_IPV6 && (f[14+6] == unix.IPPROTO_UDP || f[14+6] == unix.IPPROTO_FRAGMENT) {
						model = append(model, name)
					}
					return -1
				}
			}
			mark := tc.mark
			cfg := tp.model6(netstack.NamespaceConfig{}, true,
				netstack.ProgramConfig{Name: "mark", Hook: carrier.HookTCIngress, Netns: "H", Dev: "hA",
					Prog: netstack.ProgramFunc(func(c *netstack.Ctx) int { c.SetMark(mark); return -1 })},
				netstack.ProgramConfig{Name: "atB", Hook: carrier.HookTCIngress, Netns: "B", Dev: "vB", Prog: seen("at B")},
				netstack.ProgramConfig{Name: "atC", Hook: carrier.HookTCIngress, Netns: "C", Dev: "vC", Prog: seen("at C")})
			pfx, ad := netip.MustParsePrefix, netip.MustParseAddr
			cfg.Namespaces = append(cfg.Namespaces, netstack.NamespaceConfig{Name: "C"})
			cfg.Devices = append(cfg.Devices, netstack.DeviceConfig{Name: "hC", Kind: netstack.KindVeth, Netns: "H", MAC: macHC,
				Addrs: []netip.Prefix{pfx("2001:db8:3::1/64")}, Peer: "vC", PeerNetns: "C", PeerMAC: macVC,
				PeerAddrs: []netip.Prefix{pfx("2001:db8:3::2/64")}})
			cfg.Routes = append(cfg.Routes,
				netstack.RouteConfig{Netns: "H", Dst: pfx("2001:db8:99::/64"), Dev: "hB", Via: ad(icmp6AddrB)},
				netstack.RouteConfig{Netns: "H", Dst: pfx("::/0"), Dev: "hC", Via: ad("2001:db8:3::2"), Table: 100})
			for _, r := range tc.rules {
				r.Netns = "H"
				cfg.Rules = append(cfg.Rules, r)
			}
			obs := &devDrops{}
			var drops []string
			runModel(t, cfg, obs, frame, func(s *netstack.Stack) { drops = obs.first(s, "H", "hA") })
			require.Equal(t, kern, append(drops, model...), "model")
		})
	}
}
