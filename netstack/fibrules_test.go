package netstack

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
)

// rulesTopology: the host forwards between eth0 (192.0.2.1/24), veth0 to
// namespace B (10.1.0.0/24) and veth1 to namespace C (10.2.0.0/24). Main's
// default routes go to B, table 100's to C, table 101 holds
// 203.0.113.0/25 to B, table 103 throws 203.0.113.0/24 but for .7 (to C),
// main throws 203.0.113.99; B and C take 203.0.113.0/24 and 2001:db8:99::/64
// as local (AnyIP) and have a UDP socket on port 2000 each (b, c; b6,
// c6 for IPv6). A tc ingress program on eth0 sets the mark *mark.
func rulesTopology(mark *uint32, rules ...RuleConfig) *Config {
	return &Config{
		Namespaces: []NamespaceConfig{{Name: HostNetns, Forwarding: true, IPv6Forwarding: true}, {Name: "B"}, {Name: "C"}},
		Devices: []DeviceConfig{
			{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx("192.0.2.1/24"), pfx("2001:db8:1::1/64")}},
			{Name: "veth0", Kind: KindVeth, MAC: macA, Addrs: []netip.Prefix{pfx("10.1.0.1/24"), pfx("fd00:1::1/64")},
				Peer: "vB", PeerNetns: "B", PeerMAC: macB, PeerAddrs: []netip.Prefix{pfx("10.1.0.2/24"), pfx("fd00:1::2/64")}},
			{Name: "veth1", Kind: KindVeth, MAC: [6]byte{2, 0, 0, 0, 0, 0xc1}, Addrs: []netip.Prefix{pfx("10.2.0.1/24"), pfx("fd00:2::1/64")},
				Peer: "vC", PeerNetns: "C", PeerMAC: [6]byte{2, 0, 0, 0, 0, 0xc2}, PeerAddrs: []netip.Prefix{pfx("10.2.0.2/24"), pfx("fd00:2::2/64")}},
		},
		Routes: []RouteConfig{
			{Dev: "veth0", Via: addr("10.1.0.2")},
			{Dst: pfx("::/0"), Dev: "veth0", Via: addr("fd00:1::2")},
			{Dev: "veth1", Via: addr("10.2.0.2"), Table: 100},
			{Dst: pfx("::/0"), Dev: "veth1", Via: addr("fd00:2::2"), Table: 100},
			{Dst: pfx("203.0.113.0/25"), Dev: "veth0", Via: addr("10.1.0.2"), Table: 101},
			// Table 103 throws 203.0.113.0/24 but for .7; main throws .99.
			{Dst: pfx("203.0.113.0/24"), Type: RouteThrow, Table: 103},
			{Dst: pfx("203.0.113.7/32"), Dev: "veth1", Via: addr("10.2.0.2"), Table: 103},
			{Dst: pfx("203.0.113.99/32"), Type: RouteThrow},
			{Netns: "B", Dst: pfx("203.0.113.0/24"), Dev: "lo", Type: RouteLocal},
			{Netns: "C", Dst: pfx("203.0.113.0/24"), Dev: "lo", Type: RouteLocal},
			{Netns: "B", Dst: pfx("2001:db8:99::/64"), Dev: "lo", Type: RouteLocal},
			{Netns: "C", Dst: pfx("2001:db8:99::/64"), Dev: "lo", Type: RouteLocal},
		},
		Rules: rules,
		Sockets: []SocketConfig{
			{Name: "b", Netns: "B", Proto: ProtoUDP, Port: 2000}, {Name: "c", Netns: "C", Proto: ProtoUDP, Port: 2000},
			{Name: "b6", Netns: "B", Proto: ProtoUDP, Port: 2000, Addr: netip.IPv6Unspecified()},
			{Name: "c6", Netns: "C", Proto: ProtoUDP, Port: 2000, Addr: netip.IPv6Unspecified()},
		},
		Programs: []ProgramConfig{{Name: "mark", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
			c.SetMark(*mark)
			return TCXNext
		})}},
		Entries: []EntryConfig{{Dev: "eth0"}},
	}
}

// ruleOutcome injects a UDP datagram from src to dst on eth0 and returns
// where it ended (endOf).
func ruleOutcome(t *testing.T, cfg *Config, src, dst string) string {
	t.Helper()
	if addr(dst).Is6() {
		return ruleFrameOutcome(t, cfg, buildFrame6(frame6{dstMAC: macNIC, srcMAC: macB, src: src, dst: dst, dport: 2000, payload: 10}))
	}
	return ruleFrameOutcome(t, cfg, buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: src, dst: dst, sport: 1000, dport: 2000, payload: 10}))
}

// endOf is where the packets of a test ended: the first drop reason
// (without its prefix and site), else the receiving sockets' names.
func endOf(te *testEnv, cfg *Config) string {
	if r := te.obs.dropReasons(); len(r) != 0 {
		got, _, _ := strings.Cut(strings.TrimPrefix(r[0], "SKB_DROP_REASON_"), "@")
		return got
	}
	var got []string
	for _, e := range te.obs.delivs {
		if e.Kind == DeliverSocket {
			got = append(got, cfg.Sockets[e.Index].Name)
		}
	}
	return strings.Join(got, ",")
}

// TestPolicyRules: forwarding under `ip rule` (TestKernelPolicyRules
// measures the same cases on 6.18).
func TestPolicyRules(t *testing.T) {
	t100 := func(r RuleConfig) RuleConfig { r.Table = 100; return r }
	for _, tc := range []struct {
		name     string
		rules    []RuleConfig
		ns       NamespaceConfig
		mark     uint32
		src, dst string
		want     string
	}{
		{"no rules", nil, NamespaceConfig{}, 1, "192.0.2.9", "203.0.113.5", "b"},
		{"fwmark, marked", []RuleConfig{t100(RuleConfig{FwMark: 1})}, NamespaceConfig{}, 1, "192.0.2.9", "203.0.113.5", "c"},
		{"fwmark, unmarked", []RuleConfig{t100(RuleConfig{FwMark: 1})}, NamespaceConfig{}, 0, "192.0.2.9", "203.0.113.5", "b"},
		{"fwmark with a mask", []RuleConfig{t100(RuleConfig{FwMark: 0x10, FwMask: 0xf0})}, NamespaceConfig{}, 0x13, "192.0.2.9", "203.0.113.5", "c"},
		{"fwmark 0 without a mask matches every mark", []RuleConfig{t100(RuleConfig{})}, NamespaceConfig{}, 7, "192.0.2.9", "203.0.113.5", "c"},
		{"from", []RuleConfig{t100(RuleConfig{From: pfx("192.0.2.0/24")})}, NamespaceConfig{}, 0, "192.0.2.9", "203.0.113.5", "c"},
		{"from, another source", []RuleConfig{t100(RuleConfig{From: pfx("192.0.2.128/25")})}, NamespaceConfig{}, 0, "192.0.2.9", "203.0.113.5", "b"},
		{"to", []RuleConfig{t100(RuleConfig{To: pfx("203.0.113.0/25")})}, NamespaceConfig{}, 0, "192.0.2.9", "203.0.113.5", "c"},
		{"to, another destination", []RuleConfig{t100(RuleConfig{To: pfx("203.0.113.0/25")})}, NamespaceConfig{}, 0, "192.0.2.9", "203.0.113.200", "b"},
		{"iif", []RuleConfig{t100(RuleConfig{IIF: "eth0"})}, NamespaceConfig{}, 0, "192.0.2.9", "203.0.113.5", "c"},
		{"uidrange 0-0: forwarded packets have uid 0", []RuleConfig{t100(RuleConfig{MatchUID: true})}, NamespaceConfig{}, 0, "192.0.2.9", "203.0.113.5", "c"},
		{"uidrange 1-100: not forwarded packets", []RuleConfig{t100(RuleConfig{MatchUID: true, UIDRange: [2]uint32{1, 100}})}, NamespaceConfig{}, 0,
			"192.0.2.9", "203.0.113.5", "b"},
		{"iif of another device", []RuleConfig{t100(RuleConfig{IIF: "veth0"})}, NamespaceConfig{}, 0, "192.0.2.9", "203.0.113.5", "b"},
		{"iif lo: only the host's own packets", []RuleConfig{t100(RuleConfig{IIF: "lo"})}, NamespaceConfig{}, 0, "192.0.2.9", "203.0.113.5", "b"},
		{"oif: no forwarding lookup has one", []RuleConfig{t100(RuleConfig{OIF: "veth1"})}, NamespaceConfig{}, 0, "192.0.2.9", "203.0.113.5", "b"},
		{"not fwmark, unmarked", []RuleConfig{t100(RuleConfig{FwMark: 1, Not: true})}, NamespaceConfig{}, 0, "192.0.2.9", "203.0.113.5", "c"},
		{"not fwmark, marked", []RuleConfig{t100(RuleConfig{FwMark: 1, Not: true})}, NamespaceConfig{}, 1, "192.0.2.9", "203.0.113.5", "b"},
		{"blackhole rule", []RuleConfig{{FwMark: 1, Type: RuleBlackhole}}, NamespaceConfig{}, 1, "192.0.2.9", "203.0.113.5", "NOT_SPECIFIED"},
		{"unreachable rule", []RuleConfig{{FwMark: 1, Type: RuleUnreachable}}, NamespaceConfig{}, 1, "192.0.2.9", "203.0.113.5", "IP_INNOROUTES"},
		{"prohibit rule", []RuleConfig{{FwMark: 1, Type: RuleProhibit}}, NamespaceConfig{}, 1, "192.0.2.9", "203.0.113.5", "NOT_SPECIFIED"},
		{"a table without routes goes on", []RuleConfig{{Table: 200}}, NamespaceConfig{}, 0, "192.0.2.9", "203.0.113.5", "b"},
		{"a table without a match goes on", []RuleConfig{{Table: 101}, t100(RuleConfig{})}, NamespaceConfig{}, 0, "192.0.2.9", "203.0.113.200", "c"},
		{"suppress_prefixlength 0 skips a default route", []RuleConfig{{Table: 100, Suppress: true}}, NamespaceConfig{}, 0, "192.0.2.9", "203.0.113.5", "b"},
		{"suppress_prefixlength 0 keeps a longer one", []RuleConfig{{Priority: 100, Table: 101, Suppress: true}, {Priority: 200, Table: 100}}, NamespaceConfig{}, 0, "192.0.2.9", "203.0.113.5", "b"},
		{"priorities: the lower first", []RuleConfig{{Priority: 200, Table: 101}, {Priority: 100, Table: 100}}, NamespaceConfig{}, 0, "192.0.2.9", "203.0.113.5", "c"},
		{"without a priority, the later rule comes first", []RuleConfig{{Table: 100}, {Table: 101}}, NamespaceConfig{}, 0, "192.0.2.9", "203.0.113.5", "b"},
		{"after main", []RuleConfig{{Priority: 32767, Table: 100}}, NamespaceConfig{}, 0, "192.0.2.9", "203.0.113.5", "b"},
		{"nop", []RuleConfig{{Priority: 100, Type: RuleNop}, {Priority: 200, Table: 100}}, NamespaceConfig{}, 0, "192.0.2.9", "203.0.113.5", "c"},
		{"goto over a rule", []RuleConfig{{Priority: 100, FwMark: 1, Type: RuleGoto, Goto: 300}, {Priority: 200, Table: 101},
			{Priority: 300, Table: 100}}, NamespaceConfig{}, 1, "192.0.2.9", "203.0.113.5", "c"},
		{"goto not taken", []RuleConfig{{Priority: 100, FwMark: 1, Type: RuleGoto, Goto: 300}, {Priority: 200, Table: 101},
			{Priority: 300, Table: 100}}, NamespaceConfig{}, 0, "192.0.2.9", "203.0.113.5", "b"},
		{"goto: the target must match", []RuleConfig{{Priority: 100, Type: RuleGoto, Goto: 300}, {Priority: 200, Table: 100},
			{Priority: 300, FwMark: 2, Table: 100}}, NamespaceConfig{}, 1, "192.0.2.9", "203.0.113.5", "b"},
		{"goto an absent priority: unresolved", []RuleConfig{{Priority: 100, Type: RuleGoto, Goto: 150}, {Priority: 200, Table: 100}},
			NamespaceConfig{}, 0, "192.0.2.9", "203.0.113.5", "c"},
		{"throw: on to the next rule", []RuleConfig{{Priority: 100, Table: 103}}, NamespaceConfig{}, 0, "192.0.2.9", "203.0.113.5", "b"},
		{"throw: a longer route in its table", []RuleConfig{{Priority: 100, Table: 103}}, NamespaceConfig{}, 0, "192.0.2.9", "203.0.113.7", "c"},
		{"throw in main without rules: no route", nil, NamespaceConfig{}, 0, "192.0.2.9", "203.0.113.99", "IP_INNOROUTES"},
		{"IPv6 fwmark", []RuleConfig{t100(RuleConfig{IPv6: true, FwMark: 1})}, NamespaceConfig{}, 1, "2001:db8:1::9", "2001:db8:99::5", "c6"},
		{"IPv6 rules leave IPv4 alone", []RuleConfig{t100(RuleConfig{IPv6: true, FwMark: 1})}, NamespaceConfig{}, 1, "192.0.2.9", "203.0.113.5", "b"},
		{"IPv4 rules leave IPv6 alone", []RuleConfig{t100(RuleConfig{FwMark: 1})}, NamespaceConfig{}, 1, "2001:db8:1::9", "2001:db8:99::5", "b6"},
		{"IPv6 blackhole rule", []RuleConfig{{IPv6: true, Type: RuleBlackhole}}, NamespaceConfig{}, 0, "2001:db8:1::9", "2001:db8:99::5", "NOT_SPECIFIED"},
		{"IPv6 unreachable rule", []RuleConfig{{IPv6: true, Type: RuleUnreachable}}, NamespaceConfig{}, 0, "2001:db8:1::9", "2001:db8:99::5", "IP_INNOROUTES"},
		// fib_validate_source: the reversed flow walks the rules.
		{"rp_filter 1, source behind veth1 by a rule", []RuleConfig{{To: pfx("198.18.0.0/16"), Table: 102}},
			NamespaceConfig{RPFilter: 1}, 0, "198.18.0.9", "203.0.113.5", "b"},
		{"rp_filter 1, source routed elsewhere", nil, NamespaceConfig{RPFilter: 1}, 0, "198.18.0.9", "203.0.113.5", "IP_RPFILTER"},
		{"rp_filter 1, fwmark rule without src_valid_mark", []RuleConfig{{FwMark: 1, Table: 102}},
			NamespaceConfig{RPFilter: 1}, 1, "198.18.0.9", "203.0.113.5", "IP_RPFILTER"},
		{"rp_filter 1, fwmark rule with src_valid_mark", []RuleConfig{{FwMark: 1, Table: 102}},
			NamespaceConfig{RPFilter: 1, SrcValidMark: true}, 1, "198.18.0.9", "203.0.113.5", "b"},
		{"rp_filter 1, iif rule: the reversed flow's iif is the route's device", []RuleConfig{{IIF: "veth0", To: pfx("198.18.0.0/16"), Table: 102}},
			NamespaceConfig{RPFilter: 1}, 0, "198.18.0.9", "203.0.113.5", "b"},
		{"own address as source: rules force the full check", []RuleConfig{{FwMark: 9, Table: 100}},
			NamespaceConfig{}, 0, "10.2.0.1", "203.0.113.5", "IP_LOCAL_SOURCE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mark := tc.mark
			cfg := rulesTopology(&mark, tc.rules...)
			tc.ns.Name, tc.ns.Forwarding, tc.ns.IPv6Forwarding = HostNetns, true, true
			cfg.Namespaces[0] = tc.ns
			cfg.Routes = append(cfg.Routes, RouteConfig{Dst: pfx("198.18.0.0/16"), Dev: "eth0", Table: 102})
			assert.Equal(t, tc.want, ruleOutcome(t, cfg, tc.src, tc.dst))
		})
	}
}

// TestPolicyRulesOutput: the host's own packets match rules with iif lo,
// their socket's mark and bound source.
func TestPolicyRulesOutput(t *testing.T) {
	for _, tc := range []struct {
		name  string
		rule  RuleConfig
		mark  uint32
		bound string
		want  string
		uid   uint32
	}{
		{"fwmark: SO_MARK", RuleConfig{FwMark: 5, Table: 100}, 5, "", "c", 0},
		{"fwmark, another mark", RuleConfig{FwMark: 5, Table: 100}, 4, "", "b", 0},
		{"iif lo", RuleConfig{IIF: "lo", Table: 100}, 0, "", "c", 0},
		{"from the bound address", RuleConfig{From: pfx("10.2.0.1/32"), Table: 100}, 0, "10.2.0.1", "c", 0},
		{"from: a wildcard socket has no source yet", RuleConfig{From: pfx("10.2.0.1/32"), Table: 100}, 0, "", "b", 0},
		{"unreachable: no skb", RuleConfig{Type: RuleUnreachable}, 0, "", "IP_OUTNOROUTES", 0},
		{"ipproto and dport", RuleConfig{IPProto: ipprotoUDP, Dport: [2]uint16{2000, 2000}, Table: 100}, 0, "", "c", 0},
		{"sport: the bound port", RuleConfig{Sport: [2]uint16{4000, 4000}, Table: 100}, 0, "", "c", 0},
		{"ipproto tcp", RuleConfig{IPProto: ipprotoTCP, Table: 100}, 0, "", "b", 0},
		{"uidrange: the socket's owner", RuleConfig{MatchUID: true, UIDRange: [2]uint32{1000, 1999}, Table: 100}, 0, "", "c", 1000},
		{"uidrange: another owner", RuleConfig{MatchUID: true, UIDRange: [2]uint32{1000, 1999}, Table: 100}, 0, "", "b", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var none uint32
			cfg := rulesTopology(&none, tc.rule)
			so := SocketConfig{Name: "tx", Proto: ProtoUDP, Port: 4000, Mark: tc.mark, UID: tc.uid}
			if tc.bound != "" {
				so.Addr = addr(tc.bound)
			}
			cfg.Sockets = append(cfg.Sockets, so)
			cfg.Entries = []EntryConfig{{Kind: EntryTX, Socket: "tx"}}
			s, te := newStack(t, cfg, "", nil, nil)
			f := buildFrame(frameOpts{src: "10.2.0.1", dst: "203.0.113.5", sport: 4000, dport: 2000, payload: 8, noEth: true})
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
			s.Flush()
			assert.Equal(t, tc.want, endOf(te, cfg))
		})
	}
}

// TestFibLookupRules: bpf_fib_lookup under rules: the mark only with
// FibLookupMark, FibLookupDirect's tables, and the rule actions' answers
// (an unreachable rule is NOT_FWDED, unlike an unreachable route).
func TestFibLookupRules(t *testing.T) {
	const eth0, veth0, veth1 = 2, 3, 4
	v4 := FibParams{Family: AFInet, Ifindex: eth0, Src: addr("192.0.2.9"), Dst: addr("203.0.113.5"), Mark: 1}
	for _, tc := range []struct {
		name    string
		rules   []RuleConfig
		flags   uint32
		p       func(*FibParams)
		rc      int
		ifindex int32
	}{
		{"no rules", nil, FibLookupMark, nil, FibRetSuccess, veth0},
		{"fwmark rule with FibLookupMark", []RuleConfig{{FwMark: 1, Table: 100}}, FibLookupMark, nil, FibRetSuccess, veth1},
		{"fwmark rule without FibLookupMark: mark 0", []RuleConfig{{FwMark: 1, Table: 100}}, 0, nil, FibRetSuccess, veth0},
		{"iif rule: Ifindex", []RuleConfig{{IIF: "eth0", Table: 100}}, 0, nil, FibRetSuccess, veth1},
		{"iif lo rule with FibLookupOutput", []RuleConfig{{IIF: "lo", Table: 100}}, FibLookupOutput, func(p *FibParams) { p.Ifindex = veth1 }, FibRetSuccess, veth1},
		{"direct ignores the rules", []RuleConfig{{FwMark: 1, Table: 100}}, FibLookupMark | FibLookupDirect, nil, FibRetSuccess, veth0},
		{"direct, table 100", nil, FibLookupDirect | FibLookupTBID, func(p *FibParams) { p.TBID = 100 }, FibRetSuccess, veth1},
		{"direct, an absent table", nil, FibLookupDirect | FibLookupTBID, func(p *FibParams) { p.TBID = 200 }, FibRetNotFwded, 0},
		{"direct, table 101 without a match", nil, FibLookupDirect | FibLookupTBID, func(p *FibParams) { p.TBID = 101; p.Dst = addr("203.0.113.200") }, FibRetNotFwded, 0},
		{"blackhole rule", []RuleConfig{{Type: RuleBlackhole}}, 0, nil, FibRetBlackhole, 0},
		{"unreachable rule", []RuleConfig{{Type: RuleUnreachable}}, 0, nil, FibRetNotFwded, 0},
		{"prohibit rule", []RuleConfig{{Type: RuleProhibit}}, 0, nil, FibRetProhibit, 0},
		{"throw: on to main", []RuleConfig{{Priority: 100, Table: 103}}, 0, nil, FibRetSuccess, veth0},
		{"throw, direct", nil, FibLookupDirect | FibLookupTBID, func(p *FibParams) { p.TBID = 103 }, FibRetNotFwded, 0},
		{"throw in main without rules", nil, 0, func(p *FibParams) { p.Dst = addr("203.0.113.99") }, FibRetNotFwded, 0},
		{"dport rule: the params' dport", []RuleConfig{{Dport: [2]uint16{2000, 2000}, Table: 100}}, 0,
			func(p *FibParams) { p.L4Protocol, p.Dport = ipprotoUDP, 2000 }, FibRetSuccess, veth1},
		{"ipproto rule: another protocol", []RuleConfig{{IPProto: ipprotoTCP, Table: 100}}, 0,
			func(p *FibParams) { p.L4Protocol, p.Dport = ipprotoUDP, 2000 }, FibRetSuccess, veth0},
		{"own address, direct main, merged", nil, FibLookupDirect | FibLookupSkipNeigh, func(p *FibParams) { p.Dst = addr("10.2.0.1") }, FibRetNotFwded, 0},
		{"own address, direct main, unmerged by a rule", []RuleConfig{{FwMark: 9, Table: 100}}, FibLookupDirect | FibLookupSkipNeigh,
			func(p *FibParams) { p.Dst = addr("10.2.0.1") }, FibRetSuccess, veth1},
		{"own address through the rules", []RuleConfig{{FwMark: 9, Table: 100}}, FibLookupSkipNeigh, func(p *FibParams) { p.Dst = addr("10.2.0.1") }, FibRetNotFwded, 0},
		{"IPv6 fwmark rule", []RuleConfig{{IPv6: true, FwMark: 1, Table: 100}}, FibLookupMark,
			func(p *FibParams) { p.Family, p.Src, p.Dst = AFInet6, addr("2001:db8:1::9"), addr("2001:db8:99::5") }, FibRetSuccess, veth1},
		{"IPv6 unreachable rule", []RuleConfig{{IPv6: true, Type: RuleUnreachable}}, 0,
			func(p *FibParams) { p.Family, p.Src, p.Dst = AFInet6, addr("2001:db8:1::9"), addr("2001:db8:99::5") }, FibRetNotFwded, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rc int
			var got FibParams
			var none uint32
			cfg := rulesTopology(&none, tc.rules...)
			cfg.Programs = []ProgramConfig{{Name: "fib", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
				got = v4
				if tc.p != nil {
					tc.p(&got)
				}
				rc = c.FibLookup(&got, tc.flags)
				return TCXNext
			})}}
			ruleOutcome(t, cfg, "192.0.2.9", "203.0.113.5")
			assert.Equal(t, tc.rc, rc, FibRetName(rc))
			if tc.ifindex != 0 {
				assert.Equal(t, tc.ifindex, got.Ifindex)
			}
		})
	}
}

// TestRuleConfigErrors: rules New refuses.
func TestRuleConfigErrors(t *testing.T) {
	var none uint32
	for _, tc := range []struct {
		name string
		rule RuleConfig
	}{
		{"unknown iif", RuleConfig{IIF: "nope", Table: 100}},
		{"table local", RuleConfig{Table: 255}},
		{"a blackhole rule with a table", RuleConfig{Type: RuleBlackhole, Table: 100}},
		{"two families", RuleConfig{From: pfx("192.0.2.0/24"), To: pfx("2001:db8::/32"), Table: 100}},
		{"unknown type", RuleConfig{Type: "goto"}},
		{"suppress_prefixlength above 128", RuleConfig{Suppress: true, SuppressPrefixlen: 129}},
		{"port range low above high", RuleConfig{Dport: [2]uint16{2000, 1000}, Table: 100}},
		{"port 0", RuleConfig{Sport: [2]uint16{0, 10}, Table: 100}},
		{"goto backward", RuleConfig{Priority: 200, Type: RuleGoto, Goto: 100}},
		{"tos with ECN bits", RuleConfig{TOS: 0x11, Table: 100}},
		{"IPv4 tos above 0x1c", RuleConfig{TOS: 0xb8, Table: 100}},
		{"goto without a target", RuleConfig{Type: RuleGoto}},
		{"a target without goto", RuleConfig{Goto: 300, Table: 100}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.ErrorIs(t, newStackErr(t, rulesTopology(&none, tc.rule), ""), ErrConfig)
		})
	}
	cfg := rulesTopology(&none)
	cfg.Routes = append(cfg.Routes, RouteConfig{Dst: pfx("10.9.0.0/16"), Dev: "lo", Type: RouteLocal, Table: 100})
	assert.ErrorIs(t, newStackErr(t, cfg, ""), ErrConfig, "a local route in table 100")
}

// TestPolicyRulesMarkScrubbed: a mark steers a rule in the namespace
// that set it, but not in the next one: the veth crossing scrubs it
// (skb_scrub_packet with xnet). B forwards by a fwmark rule to C; a mark
// set at the host's eth0 is gone when B routes, one set at B's vB is not.
func TestPolicyRulesMarkScrubbed(t *testing.T) {
	for _, tc := range []struct {
		name string
		at   string // the namespace of the marking program
		want string
	}{
		{"marked in the host", HostNetns, "IP_INNOROUTES"},
		{"marked in B", "B", "c"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var none uint32
			cfg := rulesTopology(&none)
			cfg.Namespaces[1].Forwarding = true
			cfg.Routes = slices.DeleteFunc(cfg.Routes, func(r RouteConfig) bool { return r.Netns == "B" })
			cfg.Devices = append(cfg.Devices, DeviceConfig{Name: "bx", Kind: KindVeth, Netns: "B", MAC: [6]byte{2, 0, 0, 0, 0, 0xb1},
				Addrs: []netip.Prefix{pfx("10.3.0.1/24")}, Peer: "cx", PeerNetns: "C", PeerMAC: [6]byte{2, 0, 0, 0, 0, 0xc3},
				PeerAddrs: []netip.Prefix{pfx("10.3.0.2/24")}})
			cfg.Routes = append(cfg.Routes, RouteConfig{Netns: "B", Dst: pfx("203.0.113.0/24"), Dev: "bx", Via: addr("10.3.0.2"), Table: 100})
			cfg.Rules = []RuleConfig{{Netns: "B", FwMark: 1, Table: 100}}
			dev := "eth0"
			if tc.at == "B" {
				dev = "vB"
			}
			cfg.Programs = []ProgramConfig{{Name: "mark", Hook: carrier.HookTCIngress, Netns: tc.at, Dev: dev, Prog: ProgramFunc(func(c *Ctx) int {
				c.SetMark(1)
				return TCXNext
			})}}
			assert.Equal(t, tc.want, ruleOutcome(t, cfg, "192.0.2.9", "203.0.113.5"))
		})
	}
}

// ruleFrameOutcome injects frame f on eth0 and returns where it ended
// (endOf); a packet that reached B or C but no socket (a fragment waiting
// for the rest) is "at B" or "at C".
func ruleFrameOutcome(t *testing.T, cfg *Config, f []byte) string {
	t.Helper()
	var at string
	defer notingArrival(cfg, &at)()
	s, te := newStack(t, cfg, "", nil, nil)
	require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
	s.Flush()
	if got := endOf(te, cfg); got != "" {
		return got
	}
	return at
}

// notingArrival adds to cfg tc ingress programs on vB and vC that note
// in at where a packet arrived ("at B", "at C"), and returns the function
// that takes them out again.
func notingArrival(cfg *Config, at *string) func() {
	for _, ns := range []string{"B", "C"} {
		cfg.Programs = append(cfg.Programs, ProgramConfig{Name: "at" + ns, Hook: carrier.HookTCIngress, Netns: ns, Dev: "v" + ns,
			Prog: ProgramFunc(func(c *Ctx) int {
				*at = "at " + ns
				return TCXNext
			})})
	}
	return func() { cfg.Programs = cfg.Programs[:len(cfg.Programs)-2] }
}

// TestPolicyRulesL4: ip_proto and port selectors on forwarded packets
// (the flow dissector's view: no ports for a fragment, whose protocol is
// the one it carries), on fib_validate_source's reversed flow (ports
// swapped), and bpf_fib_lookup's L4 fields.
func TestPolicyRulesL4(t *testing.T) {
	udp := func(sport uint16) []byte {
		return buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "203.0.113.5", sport: sport, dport: 2000, payload: 10})
	}
	tcp := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "203.0.113.5", proto: ipprotoTCP, sport: 1000, dport: 2000, tcpFlags: tcpRST})
	frag := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "203.0.113.5", sport: 1000, dport: 2000, payload: 10, fragOff: ipMF})
	later := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "203.0.113.5", sport: 1000, dport: 2000, payload: 10, fragOff: 4})
	rpSrc := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "198.18.0.9", dst: "203.0.113.5", sport: 1000, dport: 2000, payload: 10})
	rpLocal := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "198.18.0.9", dst: "192.0.2.1", sport: 1000, dport: 2000, payload: 10})
	udp6 := buildFrame6(frame6{dstMAC: macNIC, srcMAC: macB, src: "2001:db8:1::9", dst: "2001:db8:99::5", dport: 2000, payload: 10})
	tos := func(t uint8) []byte {
		return buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "203.0.113.5", sport: 1000, dport: 2000, payload: 10, tos: t})
	}
	tclass := func(t uint8) []byte {
		f := buildFrame6(frame6{dstMAC: macNIC, srcMAC: macB, src: "2001:db8:1::9", dst: "2001:db8:99::5", dport: 2000, payload: 10})
		f[ethHlen], f[ethHlen+1] = 0x60|t>>4, t<<4|f[ethHlen+1]&0xf
		return f
	}
	frag6 := buildFrame6(frame6{dstMAC: macNIC, srcMAC: macB, src: "2001:db8:1::9", dst: "2001:db8:99::5", dport: 2000, payload: 8, frag: true})
	r := func(proto uint8, sport, dport [2]uint16) RuleConfig {
		return RuleConfig{IPProto: proto, Sport: sport, Dport: dport, Table: 100}
	}
	for _, tc := range []struct {
		name string
		rule RuleConfig
		ns   NamespaceConfig
		f    []byte
		want string
	}{
		{"ipproto udp", r(ipprotoUDP, [2]uint16{}, [2]uint16{}), NamespaceConfig{}, udp(1000), "c"},
		{"ipproto tcp, a datagram", r(ipprotoTCP, [2]uint16{}, [2]uint16{}), NamespaceConfig{}, udp(1000), "b"},
		{"ipproto tcp, a segment", r(ipprotoTCP, [2]uint16{}, [2]uint16{}), NamespaceConfig{}, tcp, "NO_SOCKET"},
		{"dport", r(0, [2]uint16{}, [2]uint16{2000, 2000}), NamespaceConfig{}, udp(1000), "c"},
		{"dport range without it", r(0, [2]uint16{}, [2]uint16{1, 1999}), NamespaceConfig{}, udp(1000), "b"},
		{"sport range", r(0, [2]uint16{900, 1100}, [2]uint16{}), NamespaceConfig{}, udp(1000), "c"},
		{"sport range, another port", r(0, [2]uint16{900, 1100}, [2]uint16{}), NamespaceConfig{}, udp(1200), "b"},
		{"ipproto of a first fragment", r(ipprotoUDP, [2]uint16{}, [2]uint16{}), NamespaceConfig{}, frag, "at C"},
		{"ports of a first fragment: none", r(0, [2]uint16{}, [2]uint16{2000, 2000}), NamespaceConfig{}, frag, "at B"},
		{"ipproto of a later fragment", r(ipprotoUDP, [2]uint16{}, [2]uint16{}), NamespaceConfig{}, later, "at C"},
		{"iif lo: no dissection, no ports", RuleConfig{IIF: "lo", Dport: [2]uint16{2000, 2000}, Table: 100}, NamespaceConfig{}, udp(1000), "b"},
		{"rp_filter 1, the reversed flow's dport is the sport",
			RuleConfig{To: pfx("198.18.0.0/16"), Dport: [2]uint16{1000, 1000}, Table: 102}, NamespaceConfig{RPFilter: 1}, rpSrc, "b"},
		{"rp_filter 1, the reversed flow's sport is the dport",
			RuleConfig{To: pfx("198.18.0.0/16"), Dport: [2]uint16{2000, 2000}, Table: 102}, NamespaceConfig{RPFilter: 1}, rpSrc, "IP_RPFILTER"},
		{"rp_filter 1, delivered locally: the reversed flow's iif is lo, and an iif lo rule's ports are not dissected",
			RuleConfig{IIF: "lo", To: pfx("198.18.0.0/16"), Dport: [2]uint16{1000, 1000}, Table: 102}, NamespaceConfig{RPFilter: 1}, rpLocal, "IP_RPFILTER"},
		{"rp_filter 1, delivered locally: an iif lo rule without ports",
			RuleConfig{IIF: "lo", To: pfx("198.18.0.0/16"), Table: 102}, NamespaceConfig{RPFilter: 1}, rpLocal, "NO_SOCKET"},
		{"tos", RuleConfig{TOS: 0x10, Table: 100}, NamespaceConfig{}, tos(0x10), "c"},
		{"tos, another", RuleConfig{TOS: 0x18, Table: 100}, NamespaceConfig{}, tos(0x10), "b"},
		{"tos: IPv4 compares the old TOS bits only", RuleConfig{TOS: 0x18, Table: 100}, NamespaceConfig{}, tos(0xb8), "c"},
		{"IPv6 tos: the whole DSCP", RuleConfig{IPv6: true, TOS: 0xb8, Table: 100}, NamespaceConfig{}, tclass(0xb8), "c6"},
		{"IPv6 tos: no masking", RuleConfig{IPv6: true, TOS: 0x18, Table: 100}, NamespaceConfig{}, tclass(0xb8), "b6"},
		{"IPv6 dport", RuleConfig{IPv6: true, Dport: [2]uint16{2000, 2000}, Table: 100}, NamespaceConfig{}, udp6, "c6"},
		{"IPv6 fragment: ipproto is the fragment header's next header", RuleConfig{IPv6: true, IPProto: ipprotoUDP, Table: 100},
			NamespaceConfig{}, frag6, "at C"},
		{"IPv6 fragment: not the fragment header", RuleConfig{IPv6: true, IPProto: 44, Table: 100}, NamespaceConfig{}, frag6, "at B"},
		{"IPv6 fragment: no ports", RuleConfig{IPv6: true, Dport: [2]uint16{2000, 2000}, Table: 100}, NamespaceConfig{}, frag6, "at B"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var none uint32
			cfg := rulesTopology(&none, tc.rule)
			tc.ns.Name, tc.ns.Forwarding, tc.ns.IPv6Forwarding = HostNetns, true, true
			cfg.Namespaces[0] = tc.ns
			cfg.Routes = append(cfg.Routes, RouteConfig{Dst: pfx("198.18.0.0/16"), Dev: "eth0", Table: 102})
			assert.Equal(t, tc.want, ruleFrameOutcome(t, cfg, tc.f))
		})
	}
}

// TestPolicyRulesTunID: a tun_id rule steers the packets a collect_md
// vxlan device received with that VNI (the receive-side tunnel key), and
// none of the others.
func TestPolicyRulesTunID(t *testing.T) {
	for _, tc := range []struct {
		vni  uint32
		want string
	}{{42, "c"}, {7, "b"}} {
		t.Run(fmt.Sprint("VNI ", tc.vni), func(t *testing.T) {
			var none uint32
			cfg := rulesTopology(&none, RuleConfig{TunID: 42, Table: 100})
			cfg.Devices = append(cfg.Devices, DeviceConfig{Name: "vx0", Kind: KindVXLAN, External: true, MAC: macB,
				Addrs: []netip.Prefix{pfx("10.9.0.1/24")}})
			inner := buildFrame(frameOpts{dstMAC: macB, srcMAC: macA, src: "10.9.0.7", dst: "203.0.113.5", sport: 1000, dport: 2000, payload: 10})
			assert.Equal(t, tc.want, ruleFrameOutcome(t, cfg, vxlanWrap(inner, "192.0.2.1", 1, tc.vni)))
		})
	}
}

// TestFibForwardMark: the fib_forward action passes the skb's mark with
// FibLookupMark, so a fwmark rule picks the device it redirects to.
func TestFibForwardMark(t *testing.T) {
	for _, tc := range []struct {
		flags uint32
		want  string
	}{{FibLookupMark, "c"}, {0, "b"}} {
		var none uint32
		cfg := rulesTopology(&none, RuleConfig{FwMark: 1, Table: 100})
		cfg.Programs = []ProgramConfig{{Name: "fwd", Hook: carrier.HookTCIngress, Dev: "eth0",
			Actions: []Action{{Kind: ActSetMark, Value: 1}, {Kind: ActFibForward, Value: uint64(tc.flags)}}}}
		assert.Equal(t, tc.want, ruleOutcome(t, cfg, "192.0.2.9", "203.0.113.5"), "flags %#x", tc.flags)
	}
}
