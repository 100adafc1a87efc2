package netstack

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"

	"github.com/skbsim/skbsim/skb"
)

// Policy routing: `ip rule` and routing tables other than main.
//
// Without a rule of its own, a namespace's lookups take the local table
// and then main, as fib_lookup's fast path does (fib_has_custom_rules
// false, and for IPv4 the local table merged into main). A first rule of
// a family switches that family to fib_rules_lookup: the rules are walked
// in priority order after the local rule (priority 0), with main at 32766
// and, for IPv4, default (253) at 32767 (fib_default_rules_init,
// fib6_default_rules_init); adding an IPv4 rule also unmerges the local
// table from main (fib_unmerge), which FibLookupDirect sees.
//
// The model's local decisions (isLocal, fibLocal) stand for the local
// rule; the walk below covers the rest. A rule matches on iif, oif,
// fwmark/mask, tun_id, a uid range (flowi_uid: a sending socket's sk_uid,
// 0 otherwise), source and destination prefixes, the legacy tos, ip_proto
// and source and destination port ranges, inverted by `not`
// (fib_rule_match, fib4_rule_match, fib6_rule_match); the dscp selector
// and l3mdev are not modelled (a scenario cannot state them). A received
// packet's protocol and ports enter the flow only while a rule needs them
// (fib_rules_require_fldissect: an ip_proto or port selector on a rule
// whose iif is not lo), as the flow dissector reads them
// (fib4_rules_early_flow_dissect): no ports for fragments, whose protocol
// is the one they carry (for IPv6, the fragment header's next header).
//
// A lookup rule's table lookup that finds nothing (-EAGAIN, a table that
// does not exist too, or a throw route) continues the walk, as does a
// result whose prefix is no longer than suppress_prefixlength
// (fib4_rule_suppress, fib6_rule_suppress). A reject route found in a
// table ends the walk with its error; the rule actions blackhole,
// unreachable and prohibit end it with -EINVAL, -ENETUNREACH and -EACCES
// (fib4_rule_action, fib6_rule_action); goto jumps to the first rule of
// its target priority, nop goes on. No match at all is -ESRCH, which
// fib_lookup turns into -ENETUNREACH.

// flow is the part of a flowi4 or flowi6 that the model's rules match:
// the addresses (src 0.0.0.0 or :: when the sender has none yet), the
// input and output interfaces (flowi_iif is LOOPBACK_IFINDEX, 1, for
// packets the host sends; flowi_oif 0 unless a lookup is bound to a
// device), the fwmark, the protocol and ports (flowi_uli), and the
// tunnel key.
type flow struct {
	src, dst     netip.Addr
	iif, oif     int32
	mark         uint32
	proto        uint8
	sport, dport uint16 // for ICMP, dport is type << 8 | code (flowi_uli's icmpt)
	tunID        uint64 // flowi_tun_key.tun_id: a received collect_md packet's key
	dscp         uint8  // flowi4_dscp, or IPv6's traffic class, as a DS field less ECN
	uid          uint32 // flowi_uid: a socket's sk_uid; 0 (sock_net_uid without a socket) otherwise
	// prefsrc is an answer, not a key: routeOutputPath sets it to the
	// route's RTA_PREFSRC (the zero Addr for none), which a sender
	// without a source takes (fib_result_prefsrc, ip6_route_get_saddr).
	prefsrc netip.Addr
	label   uint32 // IPv6: flowi6_get_flowlabel, the 20-bit flow label
	mpHash  uint32 // IPv4: flowi4_multipath_hash, a tunnel's inner skb_get_hash
	anyLink bool   // FIB_LOOKUP_IGNORE_LINKSTATE: linkdown routes count (route.ignored)
}

// The rule actions (FR_ACT_*).
const (
	ruleToTable     = iota // FR_ACT_TO_TBL
	ruleBlackhole          // FR_ACT_BLACKHOLE: -EINVAL
	ruleUnreachable        // FR_ACT_UNREACHABLE: -ENETUNREACH
	ruleProhibit           // FR_ACT_PROHIBIT: -EACCES
	ruleGoto               // FR_ACT_GOTO: on to the first rule of priority target
	ruleNop                // FR_ACT_NOP: on to the next rule
)

// fibRule is a policy rule of one family.
type fibRule struct {
	v6             bool
	pref           uint32
	src, dst       netip.Prefix // invalid: any
	mark, markMask uint32
	iif, oif       int32 // ifindex; 0: any
	table          uint32
	action         uint8
	invert         bool
	suppress       int // suppress_prefixlength; -1: none
	proto          uint8
	sport, dport   [2]uint16 // inclusive ranges; {0, 0}: any
	tunID          uint64
	target         uint32 // a goto rule's priority to jump to
	dscp           uint8  // the tos selector as a DS field less ECN (0: any)
	uidSet         bool   // uid_range set (fib_kuid_range_unset otherwise: every uid)
	uidLo, uidHi   uint32
}

// The answers of the rule actions that end a walk with an error, as the
// reject routes with that error do; -ENETUNREACH is no route (nil).
var (
	blackholeRule = route{reject: errEINVAL}
	prohibitRule  = route{reject: errEACCES}
)

// fibTable is a routing table other than main and local.
type fibTable struct {
	id     uint32
	v4, v6 bool // the table exists in the family: a route of it was added (fib_new_table)
	routes []route
}

// match models fib_rule_match() with fib4_rule_match / fib6_rule_match.
func (ru *fibRule) match(fl *flow) bool {
	m := (ru.iif == 0 || ru.iif == fl.iif) && (ru.oif == 0 || ru.oif == fl.oif) &&
		(ru.mark^fl.mark)&ru.markMask == 0 &&
		(ru.tunID == 0 || ru.tunID == fl.tunID) &&
		(!ru.src.IsValid() || ru.src.Contains(fl.src)) &&
		(!ru.dst.IsValid() || ru.dst.Contains(fl.dst)) &&
		(ru.proto == 0 || ru.proto == fl.proto) &&
		portMatch(ru.sport, fl.sport) && portMatch(ru.dport, fl.dport) &&
		ru.dscpMatch(fl) && (!ru.uidSet || (fl.uid >= ru.uidLo && fl.uid <= ru.uidHi))
	return m != ru.invert // FIB_RULE_INVERT
}

// dscpMatch is the legacy tos selector: IPv4 compares only the flow's
// old TOS bits (fib_dscp_masked_match: INET_DSCP_LEGACY_TOS_MASK, 0x1c),
// IPv6 the whole DSCP (fib6_rule_match: dscp_mask INET_DSCP_MASK).
func (ru *fibRule) dscpMatch(fl *flow) bool {
	switch {
	case ru.dscp == 0:
		return true
	case ru.v6:
		return ru.dscp == fl.dscp
	}
	return ru.dscp == fl.dscp&0x1c
}

// portMatch models fib_rule_port_match for a range without a mask.
func portMatch(r [2]uint16, p uint16) bool {
	return r == [2]uint16{} || (p >= r[0] && p <= r[1])
}

// flowL4 fills fl's protocol and ports from packet p (from its IP
// header) as fib4_rules_early_flow_dissect / fib6_rules_early_flow_dissect
// read them: the IPv4 protocol, for IPv6 the header after the hop-by-hop,
// destination and routing headers (for a fragment, the fragment header's
// next header), and the ports of TCP, UDP, UDP-Lite, DCCP, SCTP (and
// ESP's SPI, AH's at offset 4: proto_ports_offset) unless the packet is a
// fragment or too short.
func flowL4(b *skb.Buff, fl *flow) {
	p := b.Data() // the IP header and IPv6's extension headers: ip_rcv and ip6_rcv pulled them
	var off int
	if fl.dst.Is4() {
		ip, ok := parseIPv4(p)
		if !ok {
			return
		}
		fl.proto, off = ip.proto, ip.ihl
		if ip.isFragment() {
			return
		}
	} else {
		if len(p) < ip6Hlen {
			return
		}
		next, l4, ok := ip6L4(p)
		if !ok {
			return
		}
		fl.proto, off = next, l4
		if next == nexthdrFrag {
			// The fragment header's next header, and no ports
			// (__skb_flow_dissect's NEXTHDR_FRAGMENT: out without
			// FLOW_DISSECTOR_F_PARSE_1ST_FRAG).
			if off+8 <= len(p) {
				fl.proto = p[off]
			}
			return
		}
	}
	switch fl.proto {
	case ipprotoTCP, ipprotoUDP, ipprotoUDPLite, ipprotoDCCP, ipprotoSCTP, ipprotoESP:
	case ipprotoAH:
		off += 4
	default:
		return
	}
	var scratch [4]byte
	if ports := b.HeaderPointer(off, 4, scratch[:]); ports != nil { // skb_flow_get_ports
		fl.sport, fl.dport = binary.BigEndian.Uint16(ports), binary.BigEndian.Uint16(ports[2:])
	}
}

// The protocols whose ports proto_ports_offset knows, besides TCP, UDP
// and SCTP.
const (
	ipprotoDCCP    = 33
	ipprotoESP     = 50
	ipprotoAH      = 51
	ipprotoUDPLite = 136
)

// rxTunID is the flowi_tun_key.tun_id of received packet b while a rule
// selects tun_id: the key of a receive-side ip_tunnel_info (a collect_md
// device's metadata dst), which ip_route_input_slow and ip6_route_input
// read before they drop the dst; else 0.
func (ns *Netns) rxTunID(b *skb.Buff) uint64 {
	if !ns.rulesTunID {
		return 0
	}
	if info, ok := b.TunnelInfo(); ok && !info.TX {
		return info.ID
	}
	return 0
}

// hasRules reports whether lookups of a's family walk the rules
// (fib4_has_custom_rules, fib6_has_custom_rules).
func (ns *Netns) hasRules(a netip.Addr) bool {
	if a.Is4() {
		return ns.rules4
	}
	return ns.rules6
}

// routeFlow is fib_lookup (IPv4) or fib6_lookup (IPv6) of fl after the
// local table: the main table's longest matching route without rules
// (mainRoute, or routeOif for a lookup bound to fl.oif), the rules' answer
// with them. The answer is a route, a reject route (blackholeRule and
// prohibitRule stand for the rule actions), or nil for no route
// (-ENETUNREACH, an unreachable rule's answer too). Callers must not
// modify it.
func (ns *Netns) routeFlow(fl *flow) *route {
	if !ns.hasRules(fl.dst) {
		if fl.oif != 0 {
			return noThrow(ns.routeOif(ns.devByIndex(fl.oif), fl.dst))
		}
		return noThrow(ns.mainRoute(fl.dst))
	}
	return ns.ruleLookup(fl)
}

// noThrow is r, or nil for a throw route: without rules, fib_lookup turns
// its -EAGAIN into -ENETUNREACH.
func noThrow(r *route) *route {
	if r != nil && r.reject == errEAGAIN {
		return nil
	}
	return r
}

// ruleLookup models fib_rules_lookup() over the family's rules.
func (ns *Netns) ruleLookup(fl *flow) *route {
	v6 := fl.dst.Is6()
	for i := 0; i < len(ns.rules); i++ {
		ru := &ns.rules[i]
		if ru.v6 != v6 || !ru.match(fl) {
			continue
		}
		switch ru.action {
		case ruleBlackhole:
			return &blackholeRule
		case ruleUnreachable:
			return nil
		case ruleProhibit:
			return &prohibitRule
		case ruleNop:
			continue
		case ruleGoto:
			// ctarget: the first rule of the family with priority
			// target (later in the list: backward jumps are refused);
			// none leaves the goto unresolved, and the walk goes on.
			if j := ns.ruleAt(v6, ru.target); j >= 0 {
				i = j - 1
			}
			continue
		}
		r, ok := ns.tableLookup(ru.table, v6, fl)
		if !ok || r == nil || r.reject == errEAGAIN {
			continue // -EAGAIN: no such table, no route in it, or a throw route
		}
		if r.reject == 0 && r.dst.Bits() <= ru.suppress {
			continue // fib4_rule_suppress, fib6_rule_suppress
		}
		return r
	}
	return nil // -ESRCH: fib_lookup's -ENETUNREACH
}

// ruleAt is the index of the first rule of the family with priority
// pref, or -1.
func (ns *Netns) ruleAt(v6 bool, pref uint32) int {
	for i := range ns.rules {
		if ns.rules[i].v6 == v6 && ns.rules[i].pref == pref {
			return i
		}
	}
	return -1
}

// tableLookup models fib_table_lookup (fib6_table_lookup) of fl in table
// id of one family: ok is false when the table does not exist
// (fib_get_table), r nil when no route matches. With fl.oif the routes
// through other devices are skipped, reject routes still matching
// (routeOif).
func (ns *Netns) tableLookup(id uint32, v6 bool, fl *flow) (r *route, ok bool) {
	var routes []route
	switch id {
	case rtTableLocal:
		if v6 || ns.rules4 {
			return nil, true // the local decisions precede every lookup
		}
		id = rtTableMain // merged into main: fib_get_table(LOCAL) is main's trie
		fallthrough
	case rtTableMain:
		if fl.oif == 0 {
			return ns.mainRoute(fl.dst), true
		}
		routes = ns.routes
	default:
		t := ns.table(id)
		if t == nil || (!v6 && !t.v4) || (v6 && !t.v6) {
			return nil, false
		}
		routes = t.routes
	}
	var oif *Device
	if fl.oif != 0 {
		if oif = ns.devByIndex(fl.oif); oif == nil {
			return nil, true
		}
	}
	return longestMatch(routes, fl.dst, oif, fl.anyLink), true
}

// table returns table id, or nil.
func (ns *Netns) table(id uint32) *fibTable {
	for i := range ns.tables {
		if ns.tables[i].id == id {
			return &ns.tables[i]
		}
	}
	return nil
}

// tableExists reports whether fib_get_table (fib6_get_table) finds table
// id of a's family: main and local always, another once a route of the
// family was added to it.
func (ns *Netns) tableExists(id uint32, v6 bool) bool {
	if id == rtTableMain || id == rtTableLocal {
		return true
	}
	t := ns.table(id)
	return t != nil && ((!v6 && t.v4) || (v6 && t.v6))
}

// longestMatch is the longest prefix among routes holding dst (of equal
// lengths the lowest metric, route.beats), restricted to the routes through oif and the reject
// routes when oif is not nil; nil for none. Linkdown routes and paths
// lookups pass over (route.ignored) count with anyLink only.
func longestMatch(routes []route, dst netip.Addr, oif *Device, anyLink bool) *route {
	var best *route
	for i := range routes {
		r := &routes[i]
		if r.dst.Addr().Is4() != dst.Is4() || !r.dst.Contains(dst) {
			continue
		}
		switch {
		case oif != nil && r.reject == 0:
			if r = r.oifPath(oif, anyLink); r == nil {
				continue
			}
		case r.ignored && !anyLink:
			continue
		}
		if r.beats(best) {
			best = r
		}
	}
	return best
}

// Rule actions as scenario strings (RuleConfig.Type).
const (
	RuleLookup      = "lookup" // FR_ACT_TO_TBL (the default)
	RuleBlackhole   = "blackhole"
	RuleUnreachable = "unreachable"
	RuleProhibit    = "prohibit"
	RuleGoto        = "goto" // FR_ACT_GOTO: on to the first rule of priority Goto
	RuleNop         = "nop"  // FR_ACT_NOP
)

// The default rules' priorities (fib_default_rules_init).
const (
	rulePrefMain    = 32766
	rulePrefDefault = 32767
	rtTableDefault  = 253 // RT_TABLE_DEFAULT
)

// RuleConfig is a policy routing rule, as `ip rule add` (or `ip -6 rule
// add`) makes it: a packet whose lookup matches every selector given is
// looked up in Table (Type RuleLookup) or refused (Type RuleBlackhole,
// RuleUnreachable, RuleProhibit). A namespace's first rule of a family
// makes that family's lookups walk the rules (see fibrules.go).
type RuleConfig struct {
	Netns string
	// IPv6 makes an `ip -6 rule`; From or To of an IPv6 prefix implies it.
	IPv6 bool
	// Priority is the rule's preference; 0 lets the kernel pick one below
	// the first rule after the local one (fib_default_rule_pref: 32765,
	// then 32764, ...). Rules of equal priority keep their order, after
	// the default rules of that priority.
	Priority uint32
	// From and To are the source and destination prefixes (invalid: any).
	From, To netip.Prefix
	// FwMark and FwMask select skb->mark (the socket's SO_MARK for the
	// host's own packets): (mark ^ FwMark) & FwMask == 0. A zero FwMask
	// is all ones for a non-zero FwMark and none (every mark matches) for
	// FwMark 0, as fib_nl2rule sets mark_mask without FRA_FWMASK.
	FwMark, FwMask uint32
	// IIF and OIF name devices of the namespace: flowi_iif is the input
	// device, or lo for packets the host sends; flowi_oif is set only
	// for lookups bound to a device.
	IIF, OIF string
	// Table is the table a lookup rule consults (0: main); rtTableLocal
	// is refused (the model's local decisions precede the rules).
	Table uint32
	// Type is RuleLookup ("" too), a reject action, RuleGoto (with Goto,
	// a priority above the rule's own) or RuleNop.
	Type string
	Goto uint32
	// Not inverts the selectors (`not`).
	Not bool
	// Suppress with SuppressPrefixlen is `suppress_prefixlength N`: a
	// route of prefix length N or shorter found by this rule is ignored
	// and the walk goes on.
	Suppress          bool
	SuppressPrefixlen int
	// IPProto selects the flow's protocol (`ipproto`; 0: any), Sport and
	// Dport its ports as inclusive ranges (`sport 1000-2000`; {0, 0}:
	// any; a single port is {p, p}).
	IPProto      uint8
	Sport, Dport [2]uint16
	// TunID selects a received collect_md packet's tunnel key (`tun_id`:
	// a vxlan VNI; 0: any).
	TunID uint64
	// UIDRange with MatchUID is `uidrange LO-HI`: the sending socket's
	// owner (SocketConfig.UID); packets without a socket (forwarded ones,
	// the stack's answers) have uid 0 (sock_net_uid).
	MatchUID bool
	UIDRange [2]uint32
	// TOS is the legacy tos selector (`tos`; 0: any), a DS field whose
	// ECN bits are 0. IPv4 takes only 0x04 to 0x1c and compares those bits
	// of the packet's (fib4_rule_configure, fib_dscp_masked_match); IPv6
	// compares the whole DSCP of the traffic class.
	TOS uint8
}

// addRules builds the namespaces' rules from c.Rules.
func (s *Stack) addRules(c *Config, nsOf func(string, string) (*Netns, error)) error {
	for i, rc := range c.Rules {
		n, err := nsOf(fmt.Sprintf("rule %d", i), nsName(rc.Netns))
		if err != nil {
			return err
		}
		v6 := rc.IPv6 || (rc.From.IsValid() && rc.From.Addr().Is6()) || (rc.To.IsValid() && rc.To.Addr().Is6())
		for _, p := range []netip.Prefix{rc.From, rc.To} {
			if p.IsValid() && p.Addr().Is6() != v6 {
				return cfgErr("rule %d: prefixes of two families", i)
			}
		}
		ru := fibRule{v6: v6, pref: rc.Priority, src: rc.From.Masked(), dst: rc.To.Masked(),
			mark: rc.FwMark, markMask: rc.FwMask, table: rc.Table, invert: rc.Not, suppress: -1,
			proto: rc.IPProto, sport: rc.Sport, dport: rc.Dport, tunID: rc.TunID, dscp: rc.TOS,
			uidSet: rc.MatchUID, uidLo: rc.UIDRange[0], uidHi: rc.UIDRange[1]}
		if rc.MatchUID && rc.UIDRange[0] > rc.UIDRange[1] {
			return cfgErr("rule %d: uidrange %d-%d (low to high)", i, rc.UIDRange[0], rc.UIDRange[1])
		}
		if rc.TOS&3 != 0 || (!v6 && rc.TOS&^0x1e != 0) {
			return cfgErr("rule %d: tos %#x (ECN bits must be 0; IPv4 takes 0x04 to 0x1c)", i, rc.TOS)
		}
		for _, r := range [][2]uint16{rc.Sport, rc.Dport} {
			if r != [2]uint16{} && (r[0] == 0 || r[0] > r[1]) {
				return cfgErr("rule %d: port range %d-%d (want 1 to 65535, low to high)", i, r[0], r[1])
			}
		}
		if ru.src.IsValid() && ru.src.Bits() == 0 {
			ru.src = netip.Prefix{} // from all
		}
		if ru.dst.IsValid() && ru.dst.Bits() == 0 {
			ru.dst = netip.Prefix{}
		}
		if rc.FwMark != 0 && rc.FwMask == 0 {
			ru.markMask = ^uint32(0) // FRA_FWMARK without FRA_FWMASK
		}
		if rc.Suppress {
			if rc.SuppressPrefixlen < 0 || rc.SuppressPrefixlen > 128 {
				return cfgErr("rule %d: suppress_prefixlength %d (want 0 to 128)", i, rc.SuppressPrefixlen)
			}
			ru.suppress = rc.SuppressPrefixlen
		}
		for _, f := range []struct {
			name string
			idx  *int32
		}{{rc.IIF, &ru.iif}, {rc.OIF, &ru.oif}} {
			if f.name == "" {
				continue
			}
			d := n.dev(f.name)
			if d == nil {
				return cfgErr("rule %d: unknown device %q in %s", i, f.name, n.name)
			}
			*f.idx = d.ifindex
		}
		switch rc.Type {
		case "", RuleLookup:
			switch ru.table {
			case 0:
				ru.table = rtTableMain
			case rtTableLocal:
				return cfgErr("rule %d: table local is not modelled in rules", i)
			}
		case RuleBlackhole:
			ru.action = ruleBlackhole
		case RuleUnreachable:
			ru.action = ruleUnreachable
		case RuleProhibit:
			ru.action = ruleProhibit
		case RuleGoto:
			ru.action, ru.target = ruleGoto, rc.Goto
		case RuleNop:
			ru.action = ruleNop
		default:
			return cfgErr("rule %d: type %q (want lookup, blackhole, unreachable, prohibit, goto or nop)", i, rc.Type)
		}
		if (rc.Type == RuleGoto) != (rc.Goto != 0) {
			return cfgErr("rule %d: goto needs a target priority (Goto), and only goto has one", i)
		}
		if ru.action != ruleToTable && (rc.Table != 0 || rc.Suppress) {
			return cfgErr("rule %d: a %s rule has no table", i, rc.Type)
		}
		if pref := n.addRule(ru); ru.action == ruleGoto && ru.target <= pref {
			return cfgErr("rule %d: goto %d is not after its priority (backward goto not supported)", i, ru.target)
		}
		n.rulesTunID = n.rulesTunID || ru.tunID != 0
		// fib_rule_requires_fldissect
		if ru.iif != loIfindex && (ru.proto != 0 || ru.sport != [2]uint16{} || ru.dport != [2]uint16{}) {
			n.rulesDissect = true
		}
	}
	return nil
}

// addRule models fib_nl_newrule: the first rule of a family adds the
// family's default rules to the model's list (the local rule is the
// model's local decisions), a rule without a priority gets
// fib_default_rule_pref's, and the rule goes after every rule of a
// priority not above its own. It returns the rule's priority.
func (ns *Netns) addRule(ru fibRule) uint32 {
	if (!ru.v6 && !ns.rules4) || (ru.v6 && !ns.rules6) {
		ns.insertRule(fibRule{v6: ru.v6, pref: rulePrefMain, table: rtTableMain, suppress: -1})
		if !ru.v6 {
			ns.insertRule(fibRule{pref: rulePrefDefault, table: rtTableDefault, suppress: -1})
			ns.rules4 = true // fib4_rule_configure: fib_unmerge, fib_has_custom_rules
		} else {
			ns.rules6 = true
		}
	}
	if ru.pref == 0 {
		// fib_default_rule_pref: one below the second rule of the list
		// (the first after the local rule).
		for i := range ns.rules {
			if ns.rules[i].v6 == ru.v6 {
				ru.pref = ns.rules[i].pref - 1
				break
			}
		}
	}
	ns.insertRule(ru)
	return ru.pref
}

// insertRule inserts ru after the rules of its family whose priority is
// not above its own.
func (ns *Netns) insertRule(ru fibRule) {
	i := len(ns.rules)
	for j := range ns.rules {
		if ns.rules[j].pref > ru.pref {
			i = j
			break
		}
	}
	ns.rules = slices.Insert(ns.rules, i, ru)
}
