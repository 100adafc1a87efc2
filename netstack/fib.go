package netstack

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/internal/errno"
	"github.com/skbsim/skbsim/skb"
)

// FibParams is struct bpf_fib_lookup, the in/out argument of
// bpf_fib_lookup. In the kernel several fields share storage (a union);
// the model keeps them apart and says below which ones a successful lookup
// overwrites.
type FibParams struct {
	// Family is AF_INET (AFInet) or AF_INET6 (AFInet6).
	Family uint8
	// L4Protocol, Sport and Dport are the flow's, which policy rules'
	// ip_proto and port selectors match and a multipath route's hash
	// covers.
	L4Protocol   uint8
	Sport, Dport uint16
	// Flowinfo is IPv6's flowinfo (in): the traffic class and flow label
	// (ip6_flowinfo, host order), which policy rules' tos selector and a
	// multipath route's hash read. In the kernel it shares storage with
	// tos and rt_metric, which a successful lookup writes.
	Flowinfo uint32
	// TotLen is, in, the IPv4 tot_len or IPv6 packet length to check
	// against the route's MTU (0: none for tc, whose skb is checked
	// instead); out, mtu_result (the same field in the kernel): the MTU on
	// BPF_FIB_LKUP_RET_FRAG_NEEDED and, when one was checked, on success.
	TotLen uint16
	// Ifindex is, in, the device the packet came in by (with
	// FibLookupOutput: the one it would leave by); out, the device of the
	// route's next hop.
	Ifindex int32
	// TOS is the IPv4 TOS byte (in). RtMetric is, out, the route's
	// priority (IPv4) or metric (IPv6); the kernel's union overwrites
	// tos with it.
	TOS      uint8
	RtMetric uint32
	// Src and Dst are the flow's addresses (in). Out: Dst is the gateway
	// when the route has one; Src, with FibLookupSrc, the source address
	// the kernel would pick.
	Src, Dst netip.Addr
	// TBID is the table with FibLookupTBID (in; 0 on success, since it
	// shares storage with VlanProto and VlanTCI, which are zeroed).
	TBID               uint32
	VlanProto, VlanTCI uint16
	// Mark is the fwmark with FibLookupMark (in). It shares storage with
	// Smac: FibLookup puts it in Smac's first four bytes (host order,
	// little-endian), and writing the MACs overwrites it.
	Mark uint32
	// Smac and Dmac are, out, the egress device's address and the next
	// hop's (not with FibLookupSkipNeigh).
	Smac, Dmac [6]byte
}

// Address families of FibParams.Family.
const (
	AFInet  = 2  // AF_INET
	AFInet6 = 10 // AF_INET6
)

// bpf_fib_lookup flags (enum BPF_FIB_LOOKUP_*).
const (
	FibLookupDirect    = 1 << 0 // BPF_FIB_LOOKUP_DIRECT: the main table (or TBID) only, no rules
	FibLookupOutput    = 1 << 1 // BPF_FIB_LOOKUP_OUTPUT: Ifindex is the output device
	FibLookupSkipNeigh = 1 << 2 // BPF_FIB_LOOKUP_SKIP_NEIGH: no neighbour lookup, no MACs
	FibLookupTBID      = 1 << 3 // BPF_FIB_LOOKUP_TBID: with FibLookupDirect, table TBID
	FibLookupSrc       = 1 << 4 // BPF_FIB_LOOKUP_SRC: fill Src
	FibLookupMark      = 1 << 5 // BPF_FIB_LOOKUP_MARK: Mark for the rules
)

// fibFlagName names the lowest flag of f and the release that added it.
func fibFlagName(f uint32) string {
	switch {
	case f&FibLookupSkipNeigh != 0:
		return "BPF_FIB_LOOKUP_SKIP_NEIGH (v6.3)"
	case f&FibLookupTBID != 0:
		return "BPF_FIB_LOOKUP_TBID (v6.5)"
	case f&FibLookupSrc != 0:
		return "BPF_FIB_LOOKUP_SRC (v6.7)"
	case f&FibLookupMark != 0:
		return "BPF_FIB_LOOKUP_MARK (v6.10)"
	}
	return fmt.Sprintf("flags %#x", f)
}

// FibLookupFlags returns the BPF_FIB_LOOKUP_* flags bpf_fib_lookup
// accepts in profile p (the others are -EINVAL): DIRECT and OUTPUT in
// every profile, SKIP_NEIGH from v6.3, TBID from v6.5, SRC from v6.7 and
// MARK from v6.10 (skb.Profile.FibSkipNeigh and the fields after it).
func FibLookupFlags(p *skb.Profile) uint32 {
	f := uint32(FibLookupDirect | FibLookupOutput)
	for _, x := range [...]struct {
		ok   bool
		flag uint32
	}{{p.FibSkipNeigh, FibLookupSkipNeigh}, {p.FibTBID, FibLookupTBID}, {p.FibSrc, FibLookupSrc}, {p.FibMark, FibLookupMark}} {
		if x.ok {
			f |= x.flag
		}
	}
	return f
}

// bpf_fib_lookup results (enum BPF_FIB_LKUP_RET_*); the helper returns
// one of them or a negative errno.
const (
	FibRetSuccess     = 0 // forward: Ifindex, Dmac and Smac are set
	FibRetBlackhole   = 1
	FibRetUnreachable = 2
	FibRetProhibit    = 3
	FibRetNotFwded    = 4 // not forwarded: local, broadcast, no route, link-local IPv6
	FibRetFwdDisabled = 5 // forwarding is off on the input device
	FibRetUnsuppLWT   = 6
	FibRetNoNeigh     = 7 // no valid neighbour entry for the next hop
	FibRetFragNeeded  = 8 // above the MTU; TotLen holds it
	FibRetNoSrcAddr   = 9
	numFibRets        = 10
)

// FibRetName returns the BPF_FIB_LKUP_RET_ name of rc without the prefix
// ("SUCCESS", "NO_NEIGH", ...), or the errno's name for a negative rc.
func FibRetName(rc int) string {
	if rc >= 0 && rc < numFibRets {
		return fibRetNames[rc]
	}
	if rc < 0 {
		return errno.Errno(-rc).Name()
	}
	return fmt.Sprint(rc)
}

var fibRetNames = [numFibRets]string{
	"SUCCESS", "BLACKHOLE", "UNREACHABLE", "PROHIBIT", "NOT_FWDED", "FWD_DISABLED",
	"UNSUPP_LWT", "NO_NEIGH", "FRAG_NEEDED", "NO_SRC_ADDR",
}

const (
	errENODEV       = -19
	errEAFNOSUPPORT = -97
	rtTableMain     = 254 // RT_TABLE_MAIN
	rtTableLocal    = 255 // RT_TABLE_LOCAL
	// IPv6 route metrics (fib6_metric): addrconf_prefix_route's
	// IP6_RT_PRIO_ADDRCONF for an address's prefix, IP6_RT_PRIO_USER for
	// `ip -6 route add` without a metric.
	ip6RtPrioAddrconf = 256
	ip6RtPrioUser     = 1024
)

// FibLookup models bpf_fib_lookup(ctx, params, sizeof(*params), flags):
// bpf_xdp_fib_lookup at XDP (the MTU is always checked against TotLen),
// bpf_skb_fib_lookup elsewhere (TotLen 0: the skb itself is checked on
// success, is_skb_forwardable, and TotLen becomes the device's MTU).
// Flags the profile does not know are -EINVAL (FibLookupFlags). Before
// v5.12 (skb.Profile.FibMTUResult) TotLen is never written and tc's
// lookup always checks the skb. See Stack.fibLookup for the lookup.
func (c *Ctx) FibLookup(p *FibParams, flags uint32) int {
	c.s.acct.Op(cost.OpHelperCall, 1)
	// mark and smac share storage: smac's first four bytes are the mark
	// until the MACs are written over it.
	binary.LittleEndian.PutUint32(p.Smac[:4], p.Mark)
	if flags&^FibLookupFlags(c.s.prof) != 0 {
		return errEINVAL
	}
	ns := c.Netns
	checkMTU := c.xdp || (p.TotLen != 0 && c.s.prof.FibMTUResult)
	var rc int
	switch p.Family {
	case AFInet, AFInet6:
		rc = c.s.fibLookup(ns, p, flags, checkMTU)
	default:
		return errEAFNOSUPPORT
	}
	if rc == FibRetSuccess && !checkMTU && c.Skb != nil {
		// bpf_skb_fib_lookup: the skb against the egress device.
		d := ns.devByIndex(p.Ifindex)
		if !isSkbForwardable(d, c.Skb) {
			rc = FibRetFragNeeded
		}
		if c.s.prof.FibMTUResult {
			p.TotLen = uint16(d.mtu)
		}
	}
	return rc
}

// isSkbForwardable models is_skb_forwardable(dev, skb): the device is up
// and the skb fits its MTU, its link header and a VLAN tag, or is GSO.
func isSkbForwardable(d *Device, b *skb.Buff) bool {
	if !d.up {
		return false
	}
	return b.Len() <= d.mtu+hardHeaderLenOf(d)+skb.VlanHlen || b.Shinfo().GSOSize != 0
}

// fibLookup models bpf_ipv4_fib_lookup and bpf_ipv6_fib_lookup
// (net/core/filter.c) on the model's tables and policy rules (without
// lightweight tunnels); a multipath route's path is picked by the
// params' flow (fib_select_path, fib6_select_path: multipath.go). Without
// FibLookupDirect the rules
// decide (fibrules.go) with the flow's addresses, L4 fields, Ifindex as
// flowi_iif (flowi_oif with FibLookupOutput, flowi_iif lo) and Mark with
// FibLookupMark; an unreachable rule is NOT_FWDED, unlike an unreachable
// route. Then:
//   - IPv6: a link-local or multicast source or destination
//     (rt6_need_strict) is NOT_FWDED;
//   - no device Ifindex is -ENODEV; forwarding off in the namespace
//     (IN_DEV_FORWARD, idev->cnf.forwarding) is FWD_DISABLED, with
//     FibLookupOutput too;
//   - a local address or prefix, or an IPv4 subnet broadcast, is
//     RTN_LOCAL or RTN_BROADCAST, NOT_FWDED: fib_lookup and fib6_lookup
//     consult the local table first and, for IPv4, FibLookupDirect's main
//     table holds it too until a first IPv4 rule unmerges it (fib_unmerge:
//     then a direct lookup of a local address finds its subnet's route);
//     IPv6 with FibLookupDirect looks in main alone, where a local
//     address is on its prefix's route (and has no neighbour);
//     FibLookupTBID names the table (0 is main): one no route was added
//     to is absent, and the local table (IPv6's, or IPv4's unmerged)
//     forwards nothing, NOT_FWDED; no
//     route is NOT_FWDED; a blackhole, unreachable or prohibit route is
//     BLACKHOLE, UNREACHABLE or PROHIBIT (fib_lookup's -EINVAL,
//     -EHOSTUNREACH, -EACCES; fib6_type);
//     FibLookupOutput restricts the lookup to the routes through Ifindex
//     (flowi4_oif), a reject route still matching (routeOif);
//   - with checkMTU, TotLen above the route's MTU (fibLookupMTU) is
//     FRAG_NEEDED with the MTU in TotLen;
//   - Ifindex becomes the egress device, RtMetric the route's metric, Dst
//     the gateway if the route has one, Src (FibLookupSrc) the address
//     inet_select_addr or ipv6_dev_get_saddr would pick (none for IPv6:
//     NO_SRC_ADDR);
//   - unless FibLookupSkipNeigh, the next hop's neighbour (the model's
//     neighbour resolution, Stack.neighLookup) must exist, else NO_NEIGH;
//     then Dmac is its address and Smac the device's;
//   - bpf_fib_set_fwd_params: the VLAN fields (and TBID) zeroed, TotLen
//     the MTU when one was checked.
func (s *Stack) fibLookup(ns *Netns, p *FibParams, flags uint32, checkMTU bool) int {
	v6 := p.Family == AFInet6
	if v6 && (!p.Dst.Is6() || !p.Src.Is6() || rt6NeedStrict(p.Dst) || rt6NeedStrict(p.Src)) {
		return FibRetNotFwded
	}
	in := ns.devByIndex(p.Ifindex)
	if in == nil {
		return errENODEV
	}
	if !v6 && !p.Dst.Is4() {
		return FibRetNotFwded
	}
	if (!v6 && !ns.forwarding) || (v6 && !ns.fwd6) {
		return FibRetFwdDisabled
	}
	direct := flags&FibLookupDirect != 0
	tbid := uint32(rtTableMain)
	if direct && flags&FibLookupTBID != 0 {
		if tbid = p.TBID; tbid == 0 {
			tbid = rtTableMain // fib_get_table(net, 0)
		}
		p.TBID = 0
	}
	merged := !v6 && !ns.rules4 // IPv4's local table still merged into main
	switch {
	case direct && !ns.tableExists(tbid, v6):
		return FibRetNotFwded // fib_get_table: no such table
	case direct && tbid == rtTableLocal && !merged:
		return FibRetNotFwded // the local table holds RTN_LOCAL and RTN_BROADCAST routes only
	case (!direct || (merged && (tbid == rtTableMain || tbid == rtTableLocal))) && ns.fibLocal(p.Dst):
		return FibRetNotFwded // RTN_LOCAL or RTN_BROADCAST
	}
	// The flow: flowi_iif the device, or LOOPBACK_IFINDEX and flowi_oif
	// it with FibLookupOutput; the mark with FibLookupMark (not direct).
	fl := flow{src: p.Src, dst: p.Dst, iif: in.ifindex, proto: p.L4Protocol, sport: p.Sport, dport: p.Dport}
	if !v6 {
		fl.dscp = p.TOS &^ 3 // inet_dsfield_to_dscp(params->tos)
	} else {
		fl.dscp, fl.label = uint8(p.Flowinfo>>20)&^3, p.Flowinfo&0xfffff // fl6.flowlabel = params->flowinfo
	}
	if !fl.src.IsValid() || fl.src.Is4() != fl.dst.Is4() {
		fl.src = unspecifiedOf(fl.dst)
	}
	if flags&FibLookupOutput != 0 {
		fl.iif, fl.oif = loIfindex, in.ifindex
	}
	var r *route
	if direct {
		r, _ = ns.tableLookup(tbid, v6, &fl)
	} else {
		if flags&FibLookupMark != 0 {
			fl.mark = p.Mark
		}
		r = ns.routeFlow(&fl)
	}
	if r != nil && r.paths != nil {
		// fib_select_path / fib6_select_path with the flowi: no skb,
		// flowi4_multipath_hash 0; bound to Ifindex with OUTPUT.
		r = s.multipath(ns, r, nil, &fl, false)
	}
	switch {
	case r == nil || r.reject == errEAGAIN: // a throw route: no route
		return FibRetNotFwded
	case r.reject == errEINVAL:
		return FibRetBlackhole
	case r.reject == errEHOSTUNREACH:
		return FibRetUnreachable
	case r.reject == errEACCES:
		return FibRetProhibit
	}
	out := r.dev
	mtu := 0
	if checkMTU {
		mtu = fibLookupMTU(ns, r, v6)
		if int(p.TotLen) > mtu {
			if s.prof.FibMTUResult {
				p.TotLen = uint16(mtu)
			}
			return FibRetFragNeeded
		}
		if !s.prof.FibMTUResult {
			mtu = 0 // bpf_fib_set_fwd_params writes no mtu_result
		}
	}
	p.RtMetric = r.metric
	if s.prof.FibNoNeighIfindex {
		p.Ifindex = out.ifindex
	}
	if flags&FibLookupSrc != 0 {
		src := cmp.Or(r.prefsrc, fibPrefSrc(ns, out, r.via, v6)) // fib_result_prefsrc, fib6_prefsrc
		if !src.IsValid() && v6 {
			return FibRetNoSrcAddr
		}
		p.Src = src
	}
	nh := p.Dst
	if r.via.IsValid() {
		nh = r.via
		p.Dst = nh
		if !v6 && nh.Is6() {
			// An IPv6 gateway (RTA_VIA): family AF_INET6, ipv6_dst the
			// gateway; ipv4_src stays the first word of ipv6_src.
			p.Family = AFInet6
			var s16 [16]byte
			if p.Src.Is4() {
				s4 := p.Src.As4()
				copy(s16[:], s4[:])
			}
			p.Src = netip.AddrFrom16(s16)
		}
	}
	if flags&FibLookupSkipNeigh == 0 {
		mac, ok := s.neighValid(ns, out, nh) // NUD_VALID, or NO_NEIGH
		if !ok && !s.prof.FibNeighValid {
			// Before v6.3 any entry answers, with the address it holds.
			mac, ok = ns.neighEntry(out, nh)
		}
		if !ok {
			return FibRetNoNeigh
		}
		p.Dmac, p.Smac = mac, out.mac
		p.Mark = binary.LittleEndian.Uint32(p.Smac[:4]) // the same storage
	}
	p.Ifindex = out.ifindex // bpf_fib_set_fwd_params before v5.10
	p.VlanProto, p.VlanTCI = 0, 0
	if mtu != 0 {
		p.TotLen = uint16(mtu)
	}
	return FibRetSuccess
}

// fibLookupMTU is the MTU bpf_fib_lookup checks TotLen against: the
// route's mtu metric when locked (or, for IPv4, under
// ip_forward_use_pmtu), else its device's MTU, at most IP_MAX_MTU for
// IPv4 and at least IPV6_MIN_MTU for IPv6 (ip_mtu_from_fib_result,
// ip6_mtu_from_fib6; the learned path MTUs they would take next are not
// modelled). Unlike forwarding (route.mtuOf), an unlocked metric does not
// count, and a locked 0 does not cap a gateway route at 576.
func fibLookupMTU(ns *Netns, r *route, v6 bool) int {
	if r.mtu > 0 && (r.mtuLocked || (!v6 && ns.fwdUsePMTU)) {
		return r.mtu
	}
	if v6 {
		return max(r.dev.mtu, ipv6MinMTU)
	}
	return min(r.dev.mtu, 0xffff)
}

// routeOif is the route fib_table_lookup (fib6_table_lookup) picks with
// flowi4_oif (flowi6_oif) d: the longest matching prefix among the reject
// routes (their error is returned before any next hop is looked at) and
// the routes through d, whose next hops of other devices are skipped; nil
// for none.
func (ns *Netns) routeOif(d *Device, dst netip.Addr) *route {
	var best *route
	for i := range ns.routes {
		r := &ns.routes[i]
		if r.reject == 0 {
			if r = r.oifPath(d, false); r == nil {
				continue
			}
		}
		if r.dst.Contains(dst) && r.beats(best) {
			best = r
		}
	}
	return best
}

// fibLocal reports whether fib_lookup's local table (RT_TABLE_LOCAL)
// holds a for forwarding purposes: a device address, a local prefix
// (loopback's 127.0.0.0/8, RouteLocal routes) or an IPv4 subnet broadcast
// address. Unlike isLocal it leaves out the limited broadcast, which is
// no table's entry (ip_route_input and ip_route_output handle it before
// the lookup).
func (ns *Netns) fibLocal(a netip.Addr) bool {
	if a.Is4() {
		a4 := a.As4()
		return a4 != [4]byte{255, 255, 255, 255} && (ns.isLocal4(a4) || ns.isBcast4(a4))
	}
	return ns.isLocalSlow(a)
}

// rt6NeedStrict models rt6_need_strict(): multicast, link-local or
// loopback addresses are scoped to a device and never forwarded.
func rt6NeedStrict(a netip.Addr) bool {
	return a.IsMulticast() || a.IsLinkLocalUnicast() || a.IsLoopback()
}

// fibPrefSrc models fib_result_prefsrc (IPv4: inet_select_addr(dev, gw,
// scope)) and ipv6_dev_get_saddr for the model's devices: the egress
// device's first address of the family whose prefix holds the gateway,
// else its first of the family (for IPv6, link-local ones last), else the
// first of another device of the namespace; the zero Addr when there is
// none. Loopback addresses (host scope) are never picked.
func fibPrefSrc(ns *Netns, d *Device, gw netip.Addr, v6 bool) netip.Addr {
	pick := func(d *Device) netip.Addr {
		var first, ll netip.Addr
		for _, p := range d.addrs {
			a := p.Addr()
			if a.Is6() != v6 || a.IsLoopback() {
				continue
			}
			if gw.IsValid() && p.Masked().Contains(gw) {
				return a
			}
			switch {
			case a.IsLinkLocalUnicast():
				if !ll.IsValid() {
					ll = a
				}
			case !first.IsValid():
				first = a
			}
		}
		if first.IsValid() {
			return first
		}
		return ll
	}
	if a := pick(d); a.IsValid() {
		return a
	}
	for _, o := range ns.devs {
		if o != nil && o != d {
			if a := pick(o); a.IsValid() {
				return a
			}
		}
	}
	return netip.Addr{}
}

// FibNoNeighRedirect is ActFibForward's Index for a NO_NEIGH result
// answered with bpf_redirect_neigh to the next hop (tc only).
const FibNoNeighRedirect = 1

// fibForward is ActFibForward's program body; done reports that the
// program returns ret, and rc is bpf_fib_lookup's return (-1 when the
// packet was not looked up).
func (c *Ctx) fibForward(flags uint32, noNeighRedirect bool) (ret int, done bool, rc int) {
	b := c.Skb
	if b == nil || c.Dev == nil {
		return 0, false, -1
	}
	d := b.Data()
	if len(d) < ethHlen {
		return 0, false, -1
	}
	p := FibParams{Ifindex: c.Dev.ifindex}
	if flags&FibLookupMark != 0 && !c.xdp {
		p.Mark = b.H().Mark // the program passes skb->mark for the rules
	}
	ip := d[ethHlen:]
	switch binary.BigEndian.Uint16(d[12:14]) {
	case ethPIP:
		if len(ip) < ipHlen || ip[8] <= 1 {
			return 0, false, -1
		}
		p.Family, p.TOS, p.L4Protocol = AFInet, ip[1], ip[9]
		p.Src, p.Dst = netip.AddrFrom4([4]byte(ip[12:16])), netip.AddrFrom4([4]byte(ip[16:20]))
		if c.xdp {
			p.TotLen = binary.BigEndian.Uint16(ip[2:4])
		}
	case ethPIPv6:
		if len(ip) < ip6Hlen || ip[7] <= 1 {
			return 0, false, -1
		}
		p.Family, p.L4Protocol = AFInet6, ip[6]
		p.Flowinfo = binary.BigEndian.Uint32(ip[0:4]) & 0x0fffffff // *(__be32 *)ip6h & IPV6_FLOWINFO_MASK
		p.Src, p.Dst = netip.AddrFrom16([16]byte(ip[8:24])), netip.AddrFrom16([16]byte(ip[24:40]))
		if c.xdp {
			p.TotLen = binary.BigEndian.Uint16(ip[4:6]) + ip6Hlen
		}
	default:
		return 0, false, -1
	}
	rc = c.FibLookup(&p, flags)
	ev := HelperEvent{PacketID: c.PacketID, Prog: c.Prog, Hook: c.Hook, Helper: HelperFibLookup, Ret: int32(rc)}
	if rc == FibRetSuccess || rc == FibRetNoNeigh {
		ev.Ifindex = p.Ifindex
	}
	c.s.obs.Helper(ev)
	switch {
	case rc == FibRetNoNeigh && noNeighRedirect && !c.xdp:
		return c.RedirectNeighVia(p.Ifindex, p.Dst, 0), true, rc
	case rc != FibRetSuccess:
		return 0, false, rc
	}
	if !c.xdp && b.Cloned() && c.PullData(0) != 0 {
		return TCXDrop, true, rc // bpf_unclone_prologue: TC_ACT_SHOT
	}
	d = b.Data()
	ip = d[ethHlen:]
	if p.Family == AFInet {
		ipDecreaseTTL(ip)
	} else {
		ip[7]--
	}
	if flags&FibLookupSkipNeigh == 0 {
		copy(d[0:6], p.Dmac[:])
		copy(d[6:12], p.Smac[:])
	}
	return c.Redirect(p.Ifindex, 0), true, rc
}

// bpf_check_mtu results (enum bpf_check_mtu_ret) and flag.
const (
	MTUCheckSuccess    = 0      // BPF_MTU_CHK_RET_SUCCESS
	MTUCheckFragNeeded = 1      // BPF_MTU_CHK_RET_FRAG_NEEDED
	MTUCheckSegsTooBig = 2      // BPF_MTU_CHK_RET_SEGS_TOOBIG
	MTUCheckSegs       = 1 << 0 // BPF_MTU_CHK_SEGS: check a GSO skb's segments
)

// CheckMTU models bpf_check_mtu(ctx, ifindex, &mtuLen, lenDiff, flags):
// the device is ifindex's in the program's namespace, or the packet's own
// for 0 (-ENODEV for none). The length checked is *mtuLen plus the
// device's hard_header_len when *mtuLen is not 0 (an L3 length, as
// tot_len), else the packet's (skb->len, from the mac header at tc; the
// linear frame at XDP), plus lenDiff; it must be at most the MTU plus
// hard_header_len, else BPF_MTU_CHK_RET_FRAG_NEEDED, except that a GSO
// skb passes, with MTUCheckSegs only when each segment's network length
// fits (skb_gso_validate_network_len; else SEGS_TOOBIG). *mtuLen becomes
// the device's MTU. Flags other than MTUCheckSegs, MTUCheckSegs with a
// lenDiff or *mtuLen, and any flag at XDP are -EINVAL (nothing written).
func (c *Ctx) CheckMTU(ifindex int32, mtuLen *uint32, lenDiff int32, flags uint64) int {
	c.s.acct.Op(cost.OpHelperCall, 1)
	if c.Skb == nil || c.Netns == nil {
		return errEINVAL
	}
	if c.xdp && flags != 0 || flags&^MTUCheckSegs != 0 || flags&MTUCheckSegs != 0 && (lenDiff != 0 || *mtuLen != 0) {
		return errEINVAL
	}
	d := c.Dev
	if !c.xdp || d == nil {
		d = c.s.devOf(c.Skb)
	}
	if ifindex != 0 {
		d = c.Netns.devByIndex(ifindex)
	}
	if d == nil {
		return errENODEV
	}
	mtu, hh := d.mtu, hardHeaderLenOf(d)
	n := c.Skb.Len()
	if c.xdp {
		n = c.Skb.Headlen()
	}
	if *mtuLen != 0 {
		n = int(*mtuLen) + hh
	}
	n += int(lenDiff)
	ret := MTUCheckSuccess
	switch {
	case n <= mtu+hh:
	case c.xdp || c.Skb.Shinfo().GSOSize == 0:
		ret = MTUCheckFragNeeded
	case flags&MTUCheckSegs != 0 && !gsoValidateNetworkLen(c.Skb, mtu):
		ret = MTUCheckSegsTooBig
	}
	*mtuLen = uint32(mtu)
	return ret
}

// gsoValidateNetworkLen models skb_gso_validate_network_len(skb, mtu):
// each segment's network length (skb_gso_network_seglen: the headers
// from the network header to the transport header, the transport header
// for TCP or UDP_L4 GSO, and gso_size) is at most mtu; GSO_BY_FRAGS is not
// modelled.
func gsoValidateNetworkLen(b *skb.Buff, mtu int) bool {
	sh := b.Shinfo()
	th := b.TransportHeader()
	if th < 0 {
		return true
	}
	seg := th - b.NetworkHeader() + int(sh.GSOSize)
	switch {
	case sh.GSOType&(skb.GSOTCPv4|skb.GSOTCPv6) != 0:
		if d := b.Head()[th:]; len(d) > 12 {
			seg += int(d[12]>>4) * 4
		}
	case sh.GSOType&skb.GSOUDPL4 != 0:
		seg += udpHlen
	}
	return seg <= mtu
}

// Lookup errors of the reject routes (fib_props[type].error).
const (
	errEHOSTUNREACH = -113
	errEAGAIN       = -11 // RTN_THROW
)

// rejectErr is the fib_lookup error of a route of type typ (fib_props):
// -EINVAL for a blackhole, -EHOSTUNREACH for unreachable, -EACCES for
// prohibit; 0 for the others.
func rejectErr(typ string) int {
	switch typ {
	case RouteBlackhole:
		return errEINVAL
	case RouteUnreachable:
		return errEHOSTUNREACH
	case RouteProhibit:
		return errEACCES
	case RouteThrow:
		return errEAGAIN
	}
	return 0
}

// RejectRoute reports whether typ is a reject route type (RouteBlackhole,
// RouteUnreachable, RouteProhibit), which has no device.
func RejectRoute(typ string) bool { return rejectErr(typ) != 0 }
