package netstack

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"

	"github.com/skbsim/skbsim/internal/jhash"
	"github.com/skbsim/skbsim/internal/siphash"
	"github.com/skbsim/skbsim/skb"
)

// Multipath hash policies (net.ipv4.fib_multipath_hash_policy,
// net.ipv6.fib_multipath_hash_policy).
const (
	MultipathL3      = 0 // the addresses (an ICMP error's: its quoted header's); IPv6 also the flow label and next header
	MultipathL4      = 1 // the 5-tuple (a received skb's L4 hash, if it has one)
	MultipathL3Inner = 2 // the innermost addresses of IPIP, IPv6-in-IP and GRE (v5.3)
	MultipathCustom  = 3 // the fields of fib_multipath_hash_fields (v5.15)
)

// Fields of the custom policy (FIB_MULTIPATH_HASH_FIELD_*).
const (
	MultipathFieldSrcIP          = 1 << 0
	MultipathFieldDstIP          = 1 << 1
	MultipathFieldIPProto        = 1 << 2
	MultipathFieldFlowLabel      = 1 << 3
	MultipathFieldSrcPort        = 1 << 4
	MultipathFieldDstPort        = 1 << 5
	MultipathFieldInnerSrcIP     = 1 << 6
	MultipathFieldInnerDstIP     = 1 << 7
	MultipathFieldInnerIPProto   = 1 << 8
	MultipathFieldInnerFlowLabel = 1 << 9
	MultipathFieldInnerSrcPort   = 1 << 10
	MultipathFieldInnerDstPort   = 1 << 11

	mpFieldOuterMask = 0x3f
	mpFieldInnerMask = 0xfc0
	// MultipathFieldsAll is FIB_MULTIPATH_HASH_FIELD_ALL_MASK, the
	// largest value the sysctl takes.
	MultipathFieldsAll = mpFieldOuterMask | mpFieldInnerMask
	// MultipathFieldsDefault is FIB_MULTIPATH_HASH_FIELD_DEFAULT_MASK: the
	// addresses and the protocol.
	MultipathFieldsDefault = MultipathFieldSrcIP | MultipathFieldDstIP | MultipathFieldIPProto
)

// nexthop is one path of a multipath route (struct fib_nh, or an IPv6
// sibling's fib6_nh): the route as this path sends (dev and via; the
// prefix, metric and MTU are the route's), its weight and its upper bound.
type nexthop struct {
	route
	weight int32
	// dead is RTNH_F_DEAD with the device up (NexthopConfig.dead).
	dead bool
	// upper is fib_nh_upper_bound: the largest 31-bit hash this path
	// takes; -1 for a path through a device that is down (RTNH_F_DEAD).
	upper int32
	// saddr is nh_saddr (IPv4): inet_select_addr(dev, gw, scope), the
	// source fib_select_multipath prefers this path for.
	saddr netip.Addr
}

// rebalance models fib_rebalance() and rt6_multipath_rebalance(): with
// the weights of the live paths summed to total, path i's upper bound is
// DIV_ROUND_CLOSEST_ULL(w_i << 31, total) - 1, w_i the weights summed up
// to it; a dead path's is -1. Paths through a device that is down are
// dead (fib_sync_down_dev's RTNH_F_DEAD; a route left with none is
// flushed); with ignoreLinkdown (ip_ignore_linkdown, rt6_is_dead) so are
// the paths lookups pass over (nexthop.ignored: RTNH_F_LINKDOWN).
func rebalance(paths []nexthop, ignoreLinkdown bool) {
	live := func(nh *nexthop) bool { return nh.live() && !(ignoreLinkdown && nh.ignored) }
	var total uint64
	for i := range paths {
		if live(&paths[i]) {
			total += uint64(paths[i].weight)
		}
	}
	var w uint64
	for i := range paths {
		nh := &paths[i]
		if !live(nh) {
			nh.upper = -1
			continue
		}
		w += uint64(nh.weight)
		nh.upper = int32((w<<31+total/2)/total - 1)
	}
}

// usesDev models fib_info_nh_uses_dev: whether r, or one of its paths,
// leaves by d, whatever the path's state.
func (r *route) usesDev(d *Device) bool {
	if r.paths == nil {
		return r.dev == d
	}
	return slices.ContainsFunc(r.paths, func(nh nexthop) bool { return nh.dev == d })
}

// pathVia is the first path of r through d (r itself for a route with one
// path through d), or nil: fib_table_lookup's choice for a lookup bound
// to flowi4_oif d, which it makes without hashing.
func (r *route) pathVia(d *Device) *route { return r.pathOn(d, false) }

// pathOn is pathVia, or with anyLink (FIB_LOOKUP_IGNORE_LINKSTATE) the
// first path through d that is not dead, linkdown or not.
func (r *route) pathOn(d *Device, anyLink bool) *route {
	if r.paths == nil {
		if r.dev == d && (anyLink || !r.ignored) {
			return r
		}
		return nil
	}
	for i := range r.paths {
		if nh := &r.paths[i]; nh.dev == d && nh.live() && (anyLink || !nh.ignored) {
			return &nh.route
		}
	}
	return nil
}

// oifPath is the path of r a lookup bound to output device d takes
// (fib_table_lookup's nexthop_get_nhc_lookup, fib6 with flowi6_oif): the
// first live path through d, or nil; but for an IPv6 route over a
// nexthop group, 6.18 ignores the device and answers with the group's
// first member (fib6_select_path returns before hashing when the oif
// matched, and the group lookup matched without looking at it).
func (r *route) oifPath(d *Device, anyLink bool) *route {
	if r.nhg && r.dst.Addr().Is6() {
		return &r.paths[0].route
	}
	return r.pathOn(d, anyLink)
}

// mpKeys are the fields of struct flow_keys a multipath hash fills (the
// others stay zero: fib_multipath_hash memsets hash_keys).
type mpKeys struct {
	v6       bool    // control.addr_type: IPV6_ADDRS, else IPV4_ADDRS
	proto    uint8   // basic.ip_proto
	label    [4]byte // tags.flow_label as it lies in memory (see mpLabelRaw, mpLabelHost)
	ports    [4]byte // ports.src, ports.dst in network order
	src, dst [16]byte
}

// mpLabelRaw is a flow label as ip6_flowlabel() and flowi6_get_flowlabel()
// store it: the header's big-endian word masked to 20 bits.
func mpLabelRaw(label uint32) [4]byte {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], label&0xfffff)
	return b
}

// mpLabelHost is a flow label as the flow dissector stores it,
// ntohl(flow_label): a host-order u32 (little-endian on x86-64).
func mpLabelHost(label uint32) [4]byte {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], label&0xfffff)
	return b
}

func (k *mpKeys) setAddrs(src, dst netip.Addr) {
	k.v6 = src.Is6() && !src.Is4In6()
	if k.v6 {
		k.src, k.dst = src.As16(), dst.As16()
		return
	}
	s4, d4 := src.As4(), dst.As4()
	copy(k.src[:4], s4[:])
	copy(k.dst[:4], d4[:])
}

func (k *mpKeys) setPorts(sport, dport uint16) {
	binary.BigEndian.PutUint16(k.ports[0:], sport)
	binary.BigEndian.PutUint16(k.ports[2:], dport)
}

// hash models flow_hash_from_keys_seed(keys, key): __flow_hash_consistentify
// orders the addresses and, apart from them, the ports (each pair by its
// raw bytes read as little-endian integers, IPv6 addresses by memcmp), so
// both directions of a flow hash alike; then SipHash-2-4 of struct
// flow_keys from its basic member (FLOW_KEYS_HASH_OFFSET, 8) through the
// address pair and the 4 bytes after it (flow_keys_hash_length: 48 bytes
// for IPv4, 72 for IPv6, on x86-64), its low 32 bits, 0 made 1.
func (k *mpKeys) hash(key siphash.Key) uint32 {
	n := 4
	if k.v6 {
		n = 16
		if bytes.Compare(k.dst[:], k.src[:]) < 0 {
			k.src, k.dst = k.dst, k.src
		}
	} else if binary.LittleEndian.Uint32(k.dst[:4]) < binary.LittleEndian.Uint32(k.src[:4]) {
		k.src, k.dst = k.dst, k.src
	}
	if binary.LittleEndian.Uint16(k.ports[2:]) < binary.LittleEndian.Uint16(k.ports[0:]) {
		k.ports[0], k.ports[1], k.ports[2], k.ports[3] = k.ports[2], k.ports[3], k.ports[0], k.ports[1]
	}
	var in [72]byte
	in[2] = k.proto
	copy(in[4:8], k.label[:])
	copy(in[28:32], k.ports[:])
	copy(in[36:], k.src[:n])
	copy(in[36+n:], k.dst[:n])
	ln := 48
	if k.v6 {
		ln = 72
	}
	h := uint32(siphash.Sum64(in[:ln], key))
	if h == 0 {
		h = 1
	}
	return h
}

// mpDissected is what __skb_flow_dissect with flow_keys_dissector leaves
// in struct flow_keys for the multipath hash.
type mpDissected struct {
	mpKeys
	addrs bool // control.addr_type was set (an IP header was read)
	encap bool // FLOW_DIS_ENCAPSULATION
}

// mpDissect models __skb_flow_dissect(skb, &flow_keys_dissector, ...)
// from the IP header at p (IPv6 if v6): the addresses and, for IPv6, a
// non-zero flow label (host order) of each IP header it reaches; the last
// protocol; the ports (proto_ports_offset: TCP, UDP, UDP-Lite, DCCP, SCTP
// and ESP at 0, AH at 4) of that protocol unless a header was a fragment
// (FLOW_DIS_IS_FRAGMENT: an IPv4 fragment or an IPv6 fragment header
// ends the dissection, FLOW_DISSECTOR_F_PARSE_1ST_FRAG not given); IPv6's
// hop-by-hop, routing and destination headers are walked. IPIP,
// IPv6-in-IP and GRE (version 0 without routing; checksum, key and
// sequence words skipped; IPv4, IPv6, or transparent Ethernet bridging
// whose Ethernet header is skipped) set FLOW_DIS_ENCAPSULATION; with
// stopAtEncap (FLOW_DISSECTOR_F_STOP_AT_ENCAP) the dissection ends there,
// otherwise it goes on into the inner header, at most
// MAX_FLOW_DISSECT_HDRS (15) headers deep. b, when p is b's data, reads
// ports beyond the linear part (skb_header_pointer).
func mpDissect(b *skb.Buff, p []byte, v6, stopAtEncap bool) mpDissected {
	var k mpDissected
	var scratch [4]byte
	get := func(off, n int) []byte {
		if off >= 0 && off+n <= len(p) {
			return p[off : off+n]
		}
		if b != nil && off >= 0 {
			return b.HeaderPointer(off, n, scratch[:n])
		}
		return nil
	}
	off, hdrs := 0, 15
	frag := false
	for {
		var proto uint8
		if !v6 {
			h := get(off, ipHlen)
			if h == nil || h[0]&0xf < 5 {
				return k
			}
			proto = h[9]
			k.proto, k.v6, k.addrs = proto, false, true
			k.src, k.dst = [16]byte{}, [16]byte{}
			copy(k.src[:4], h[12:16])
			copy(k.dst[:4], h[16:20])
			if binary.BigEndian.Uint16(h[6:8])&(ipMF|ipOffset) != 0 {
				return k // FLOW_DIS_IS_FRAGMENT: no ports
			}
			off += int(h[0]&0xf) * 4
		} else {
			h := get(off, ip6Hlen)
			if h == nil {
				return k
			}
			proto = h[6]
			k.proto, k.v6, k.addrs = proto, true, true
			k.src, k.dst = [16]byte(h[8:24]), [16]byte(h[24:40])
			if label := binary.BigEndian.Uint32(h[0:4]) & 0xfffff; label != 0 {
				k.label = mpLabelHost(label)
			}
			off += ip6Hlen
		ext:
			for {
				switch proto {
				case nexthdrHop, nexthdrRouting, nexthdrDest:
					x := get(off, 2)
					if x == nil {
						return k
					}
					proto = x[0]
					off += (int(x[1]) + 1) * 8
					k.proto = proto
				case nexthdrFrag:
					x := get(off, 8)
					if x == nil {
						return k
					}
					k.proto = x[0]
					frag = true
					return k
				default:
					break ext
				}
			}
		}
		if hdrs--; hdrs <= 0 {
			return k
		}
		inner := -1 // the inner header's family: 0 IPv4, 1 IPv6
		switch proto {
		case ipprotoIPIP:
			inner = 0
		case ipprotoIPv6:
			inner = 1
		case ipprotoGRE:
			g := get(off, 4)
			if g == nil {
				return k
			}
			flags := binary.BigEndian.Uint16(g[0:2])
			if flags&greFlagRouting != 0 || flags&greFlagVersion != 0 {
				break // only version 0 without routing is looked into (version 1 is PPTP's PPP)
			}
			etype := binary.BigEndian.Uint16(g[2:4])
			goff := off + 4
			if flags&greFlagCsum != 0 {
				goff += 4
			}
			if flags&greFlagKey != 0 {
				goff += 4
			}
			if flags&greFlagSeq != 0 {
				goff += 4
			}
			if etype == ethPTEB {
				e := get(goff, ethHlen)
				if e == nil {
					return k
				}
				etype = binary.BigEndian.Uint16(e[12:14])
				goff += ethHlen
			}
			k.encap = true
			if stopAtEncap {
				return k
			}
			switch etype {
			case ethPIP:
				inner, off = 0, goff
			case ethPIPv6:
				inner, off = 1, goff
			default:
				return k // MPLS, VLAN, ...: the keys stay the outer header's
			}
			v6 = inner == 1
			continue
		}
		if inner >= 0 {
			k.encap = true
			if stopAtEncap {
				return k
			}
			v6 = inner == 1
			continue
		}
		break
	}
	if frag {
		return k
	}
	poff := 0
	switch k.proto {
	case ipprotoTCP, ipprotoUDP, ipprotoUDPLite, ipprotoDCCP, ipprotoSCTP, ipprotoESP:
	case ipprotoAH:
		poff = 4
	default:
		return k
	}
	if pp := get(off+poff, 4); pp != nil { // __skb_flow_get_ports
		copy(k.ports[:], pp)
	}
	return k
}

// mpSeedKey is the SipHash key of ns's multipath hash
// (fib_multipath_hash_construct_key): the seed in both halves of both
// words, the seed being fib_multipath_hash_seed or the boot value.
func (s *Stack) mpSeedKey(ns *Netns) siphash.Key {
	seed := uint64(ns.mpSeed)
	if seed == 0 {
		seed = uint64(s.cfg.Options.MultipathBootSeed)
	}
	k := seed<<32 | seed
	return siphash.Key{k, k}
}

// mpPacket is the skb a multipath hash reads (fib_multipath_hash's skb
// argument).
type mpPacket struct {
	b     *skb.Buff // its L4 hash (policy 1)
	p     []byte    // the packet from its IP header
	paged bool      // p is b's data: headers past it are read from b's pages
}

// mpHashOf models fib_multipath_hash(net, fl4, skb, flkeys) and
// rt6_multipath_hash(net, fl6, skb, flkeys): the 31-bit hash a multipath
// route's path is picked with. With pk (forwarding, and IPv4 ICMP errors,
// which hash the packet they answer) it is the skb path; without, the
// flowi path of the host's own lookups and bpf_fib_lookup, from fl. v6
// picks the family. flkeys6 says IPv6 input passed the early-dissected
// keys of its policy rules (ip6_route_input does for ICMPv6 when a rule
// needs them).
func (s *Stack) mpHashOf(ns *Netns, pk *mpPacket, fl *flow, v6, flkeys6 bool) int32 {
	key := s.mpSeedKey(ns)
	var b *skb.Buff
	var p []byte
	skbPath := pk != nil
	if skbPath {
		p = pk.p
		if pk.paged {
			b = pk.b
		}
	}
	policy, fields := ns.mpPolicy4, ns.mpFields4
	if v6 {
		policy, fields = ns.mpPolicy6, ns.mpFields6
	}
	var k mpKeys
	var mhash uint32
	switch policy {
	case MultipathL3:
		if skbPath {
			k = mpL3Keys(p, v6, b, flkeys6)
		} else {
			k.setAddrs(fl.src, fl.dst)
			if v6 {
				k.label, k.proto = mpLabelRaw(fl.label), fl.proto
			}
		}
		mhash = k.hash(key)
	case MultipathL4:
		if skbPath {
			if pk.b != nil && pk.b.H().L4Hash {
				return int32(pk.b.H().Hash >> 1) // the skb's L4 hash, as it is
			}
			d := mpDissect(b, p, v6, true)
			k.v6, k.src, k.dst, k.ports, k.proto = v6, d.src, d.dst, d.ports, d.proto
		} else {
			k.setAddrs(fl.src, fl.dst)
			k.setPorts(fl.sport, fl.dport)
			k.proto = fl.proto
		}
		mhash = k.hash(key)
	case MultipathL3Inner:
		if !skbPath {
			k.setAddrs(fl.src, fl.dst)
			if v6 {
				k.label, k.proto = mpLabelRaw(fl.label), fl.proto
			}
			mhash = k.hash(key)
			break
		}
		// IPv6 input with early-dissected keys takes them (dissected
		// with FLOW_DISSECTOR_F_STOP_AT_ENCAP).
		d := mpDissect(b, p, v6, v6 && flkeys6)
		switch {
		case !d.addrs:
			k = mpL3Keys(p, v6, b, false)
		case d.v6:
			k.v6, k.src, k.dst, k.label, k.proto = true, d.src, d.dst, d.label, d.proto
		default:
			k.src, k.dst = d.src, d.dst
		}
		mhash = k.hash(key)
	case MultipathCustom:
		if skbPath {
			outer, hasInner := mpCustomOuter(b, p, v6, fields, key)
			inner := uint32(0)
			if hasInner && fields&mpFieldInnerMask != 0 {
				inner = mpCustomInner(b, p, v6, fields, key)
			}
			mhash = jhash.TwoWords(outer, inner, 0)
			break
		}
		if fields&mpFieldOuterMask == 0 {
			break
		}
		k.v6 = v6
		if fields&MultipathFieldSrcIP != 0 || fields&MultipathFieldDstIP != 0 {
			var src, dst netip.Addr
			if fields&MultipathFieldSrcIP != 0 {
				src = fl.src
			}
			if fields&MultipathFieldDstIP != 0 {
				dst = fl.dst
			}
			k.setAddrsOf(src, dst)
		}
		if fields&MultipathFieldIPProto != 0 {
			k.proto = fl.proto
		}
		if v6 && fields&MultipathFieldFlowLabel != 0 {
			k.label = mpLabelRaw(fl.label)
		}
		var sport, dport uint16
		if fields&MultipathFieldSrcPort != 0 {
			sport = fl.sport
		}
		if fields&MultipathFieldDstPort != 0 {
			dport = fl.dport
		}
		k.setPorts(sport, dport)
		mhash = k.hash(key)
	}
	if !v6 && fl != nil && fl.mpHash != 0 {
		mhash = jhash.TwoWords(mhash, fl.mpHash, 0) // flowi4_multipath_hash
	}
	return int32(mhash >> 1)
}

// setAddrsOf sets the addresses of a key whose family k.v6 already
// says; an invalid address stays zero.
func (k *mpKeys) setAddrsOf(src, dst netip.Addr) {
	put := func(to *[16]byte, a netip.Addr) {
		switch {
		case !a.IsValid():
		case k.v6:
			*to = a.As16()
		default:
			a4 := a.Unmap().As4()
			copy(to[:4], a4[:])
		}
	}
	put(&k.src, src)
	put(&k.dst, dst)
}

// mpL3Keys models ip_multipath_l3_keys and ip6_multipath_l3_keys: the
// addresses of the IP header at p or, for an ICMP error (icmp_is_err:
// destination unreachable, source quench, redirect, time exceeded,
// parameter problem; IPv4 not a later fragment) or an ICMPv6 error
// (icmpv6_is_err: types 1 to 4, right after the fixed header), of the
// header it quotes; IPv6 adds that header's raw flow label and next
// header. IPv6 input with early-dissected keys (flkeys6) takes theirs
// instead when the packet is no ICMPv6 error: the host-order label and
// the last protocol.
func mpL3Keys(p []byte, v6 bool, b *skb.Buff, flkeys6 bool) mpKeys {
	var k mpKeys
	if !v6 {
		if len(p) < ipHlen {
			return k
		}
		key := p
		ihl := int(p[0]&0xf) * 4
		if p[9] == ipprotoICMP && binary.BigEndian.Uint16(p[6:8])&ipOffset == 0 && ihl+icmpHlen+ipHlen <= len(p) &&
			icmpIsErr(p[ihl]) {
			key = p[ihl+icmpHlen:]
		}
		copy(k.src[:4], key[12:16])
		copy(k.dst[:4], key[16:20])
		return k
	}
	k.v6 = true
	if len(p) < ip6Hlen {
		return k
	}
	key := p
	isErr := p[6] == nexthdrICMPv6 && ip6Hlen+icmpHlen+ip6Hlen <= len(p) && p[ip6Hlen] >= 1 && p[ip6Hlen] <= 4
	if isErr {
		key = p[ip6Hlen+icmpHlen:]
	} else if flkeys6 {
		d := mpDissect(b, p, true, true)
		k.src, k.dst, k.label, k.proto = d.src, d.dst, d.label, d.proto
		return k
	}
	k.src, k.dst = [16]byte(key[8:24]), [16]byte(key[24:40])
	k.label = mpLabelRaw(binary.BigEndian.Uint32(key[0:4]))
	k.proto = key[6]
	return k
}

// icmpIsErr models icmp_is_err().
func icmpIsErr(t uint8) bool {
	switch t {
	case icmpDestUnreach, icmpSourceQuench, icmpRedirect, icmpTimeExceeded, icmpParameterProb:
		return true
	}
	return false
}

// mpCustomOuter models fib_multipath_custom_hash_outer and
// rt6_multipath_custom_hash_outer: the outer fields the policy selects,
// from a dissection that stops at an encapsulation (0 when no outer
// field is selected), and whether it found one.
func mpCustomOuter(b *skb.Buff, p []byte, v6 bool, fields uint32, key siphash.Key) (uint32, bool) {
	if fields&mpFieldOuterMask == 0 {
		return 0, true // has_inner stays true: the inner pass dissects anew
	}
	d := mpDissect(b, p, v6, true)
	k := mpKeys{v6: v6}
	if fields&MultipathFieldSrcIP != 0 {
		k.src = d.src
	}
	if fields&MultipathFieldDstIP != 0 {
		k.dst = d.dst
	}
	if fields&MultipathFieldIPProto != 0 {
		k.proto = d.proto
	}
	if v6 && fields&MultipathFieldFlowLabel != 0 {
		k.label = d.label
	}
	if fields&MultipathFieldSrcPort != 0 {
		copy(k.ports[0:2], d.ports[0:2])
	}
	if fields&MultipathFieldDstPort != 0 {
		copy(k.ports[2:4], d.ports[2:4])
	}
	return k.hash(key), d.encap
}

// mpCustomInner models fib_multipath_custom_hash_inner and its IPv6
// twin: the inner fields the policy selects from a full dissection, 0
// when it finds no encapsulation.
func mpCustomInner(b *skb.Buff, p []byte, v6 bool, fields uint32, key siphash.Key) uint32 {
	d := mpDissect(b, p, v6, false)
	if !d.encap {
		return 0
	}
	k := mpKeys{v6: d.v6}
	if fields&MultipathFieldInnerSrcIP != 0 {
		k.src = d.src
	}
	if fields&MultipathFieldInnerDstIP != 0 {
		k.dst = d.dst
	}
	if d.v6 && fields&MultipathFieldInnerFlowLabel != 0 {
		k.label = d.label
	}
	if fields&MultipathFieldInnerIPProto != 0 {
		k.proto = d.proto
	}
	if fields&MultipathFieldInnerSrcPort != 0 {
		copy(k.ports[0:2], d.ports[0:2])
	}
	if fields&MultipathFieldInnerDstPort != 0 {
		copy(k.ports[2:4], d.ports[2:4])
	}
	return k.hash(key)
}

// selectPath models fib_select_multipath (IPv4) and fib6_select_path
// (IPv6) for route r with paths: the first usable path whose upper bound
// covers hash, else the first usable one. Usable: not dead and, for IPv4
// with fib_multipath_use_neigh, a gateway whose neighbour entry, if any,
// is NUD_VALID (fib_good_nh; skipping a path does not rebalance). An
// IPv4 output lookup's source saddr counts as skb.Profile.MultipathSaddr
// says.
func (s *Stack) selectPath(ns *Netns, r *route, hash int32, saddr netip.Addr) *route {
	if r.nhg {
		return s.selectMember(ns, r, hash)
	}
	v6 := r.dst.Addr().Is6()
	if v6 || !saddr.IsValid() || saddr.IsUnspecified() || s.prof.MultipathSaddr == skb.MultipathSaddrNone {
		saddr = netip.Addr{}
	}
	useNeigh := !v6 && ns.mpUseNeigh
	pick := -1
	usable := func(nh *nexthop) bool {
		if nh.upper < 0 {
			return false
		}
		if useNeigh && nh.via.IsValid() {
			if valid, found := ns.neighState(nh.dev, nh.via); found && !valid {
				return false
			}
		}
		return true
	}
	if s.prof.MultipathSaddr == skb.MultipathSaddrFirst && saddr.IsValid() {
		found := false
		for i := range r.paths {
			nh := &r.paths[i]
			if !usable(nh) {
				continue
			}
			if !found {
				pick, found = i, nh.saddr == saddr
			}
			if hash > nh.upper {
				continue
			}
			if nh.saddr == saddr {
				return &nh.route
			}
			if found {
				break
			}
		}
	} else {
		score := -1
		for i := range r.paths {
			nh := &r.paths[i]
			if !usable(nh) {
				continue
			}
			sc := 0
			if saddr.IsValid() && nh.saddr == saddr {
				sc += 2
			}
			if hash <= nh.upper {
				sc++
			}
			if score < sc {
				pick = i
				if sc == 3 || (!saddr.IsValid() && sc == 1) {
					break
				}
				score = sc
			}
		}
	}
	if pick < 0 {
		return r.firstLive() // fib_table_lookup's (rt6_select's) choice stays
	}
	return &r.paths[pick].route
}

// selectMember models nexthop_path_fib_result and
// nexthop_path_fib6_result for a hash-threshold group (route r's paths,
// nexthop_select_path_hthr): no source address and no sysctl count, but
// a member whose gateway has a neighbour entry outside NUD_VALID is never
// good. From v6.6 (skb.Profile.NexthopGoodFirst) the first good member
// whose bound covers the hash, else the first good one, else the first;
// before, the first covering member that is good, else the first
// covering one.
func (s *Stack) selectMember(ns *Netns, r *route, hash int32) *route {
	good := func(nh *nexthop) bool {
		valid, found := ns.neighState(nh.dev, nh.via) // ipv4_good_nh, ipv6_good_nh: none is NUD_REACHABLE
		return !nh.via.IsValid() || !found || valid
	}
	pick := -1
	for i := range r.paths {
		nh := &r.paths[i]
		if s.prof.NexthopGoodFirst {
			if !good(nh) {
				continue
			}
			if pick < 0 {
				pick = i
			}
			if hash > nh.upper {
				continue
			}
			return &nh.route
		}
		if hash > nh.upper {
			continue
		}
		if good(nh) {
			return &nh.route
		}
		if pick < 0 {
			pick = i
		}
	}
	return &r.paths[max(pick, 0)].route
}

// anyLive reports whether r, or one of its paths, goes through a device
// that is up.
func (r *route) anyLive() bool {
	if r.paths == nil {
		return r.dev.up
	}
	return slices.ContainsFunc(r.paths, func(nh nexthop) bool { return nh.live() })
}

// live reports whether nh is not RTNH_F_DEAD: its device is up and it
// was not marked dead with the device's last IPv4 address.
func (nh *nexthop) live() bool { return nh.dev.up && !nh.dead }

// firstLive is the first path of r a lookup takes (fib_table_lookup's
// nh_sel: neither dead nor passed over as linkdown), else its first.
func (r *route) firstLive() *route {
	for i := range r.paths {
		if nh := &r.paths[i]; nh.live() && !nh.ignored {
			return &nh.route
		}
	}
	return &r.paths[0].route
}

// neighState reports whether out has a configured neighbour entry for
// addr and whether it is NUD_VALID.
func (ns *Netns) neighState(out *Device, addr netip.Addr) (valid, found bool) {
	for _, n := range ns.neigh {
		if n.dev == out && n.addr == addr {
			return n.valid, true
		}
	}
	return false, false
}

// multipath picks the path of route r (its own for a route with one
// path): pk for the skb path, fl for the flowi path and the output
// source (see mpHashOf). A lookup bound to an output device (fl.oif)
// never gets here: fib_table_lookup answers it with the path through that
// device (routeOif, longestMatch: route.pathVia), and fib_select_path
// (flowi4_oif) and fib6_select_path (have_oif_match) do not hash.
func (s *Stack) multipath(ns *Netns, r *route, pk *mpPacket, fl *flow, flkeys6 bool) *route {
	if r == nil || r.paths == nil {
		return r
	}
	var saddr netip.Addr
	if fl != nil {
		saddr = fl.src
		if !fl.src.IsValid() || fl.src.Is4() != fl.dst.Is4() {
			f := *fl
			f.src = unspecifiedOf(fl.dst)
			fl = &f
		}
	}
	v6 := r.dst.Addr().Is6()
	return s.selectPath(ns, r, s.mpHashOf(ns, pk, fl, v6, flkeys6), saddr)
}

// setMultipath takes nc's multipath sysctls into n, refusing the values
// the profile's kernel does not have.
func (s *Stack) setMultipath(n *Netns, nc *NamespaceConfig) error {
	for _, p := range [...]struct {
		policy int
		fields uint32
		name   string
	}{{nc.MultipathHashPolicy, nc.MultipathHashFields, "net.ipv4"}, {nc.MultipathHashPolicy6, nc.MultipathHashFields6, "net.ipv6"}} {
		switch {
		case p.policy < MultipathL3 || p.policy > MultipathCustom:
			return cfgErr("namespace %q: %s.fib_multipath_hash_policy %d (want 0 to 3)", nc.Name, p.name, p.policy)
		case p.policy == MultipathL3Inner && !s.prof.MultipathL3Inner:
			return cfgErr("namespace %q: %s.fib_multipath_hash_policy 2 (inner L3) needs v5.3 or later, not %s", nc.Name, p.name, s.prof.Name)
		case p.policy == MultipathCustom && !s.prof.MultipathCustom:
			return cfgErr("namespace %q: %s.fib_multipath_hash_policy 3 (custom) needs v5.15 or later, not %s", nc.Name, p.name, s.prof.Name)
		case p.fields&^MultipathFieldsAll != 0:
			return cfgErr("namespace %q: %s.fib_multipath_hash_fields %#x (want 0x1 to %#x)", nc.Name, p.name, p.fields, MultipathFieldsAll)
		case p.fields != 0 && !s.prof.MultipathCustom:
			return cfgErr("namespace %q: %s.fib_multipath_hash_fields needs v5.15 or later, not %s", nc.Name, p.name, s.prof.Name)
		}
	}
	if nc.MultipathHashSeed != 0 && !s.prof.MultipathSeed {
		return cfgErr("namespace %q: net.ipv4.fib_multipath_hash_seed needs v6.11 or later, not %s", nc.Name, s.prof.Name)
	}
	n.mpPolicy4, n.mpPolicy6 = nc.MultipathHashPolicy, nc.MultipathHashPolicy6
	n.mpFields4, n.mpFields6 = cmp.Or(nc.MultipathHashFields, MultipathFieldsDefault), cmp.Or(nc.MultipathHashFields6, MultipathFieldsDefault)
	n.mpSeed, n.mpUseNeigh = nc.MultipathHashSeed, nc.MultipathUseNeigh
	return nil
}

// multipathOf checks route i's next hops (fib_get_nhs,
// ip6_route_multipath_add) and makes its paths, weights and devices set.
func multipathOf(n *Netns, i int, rc *RouteConfig, nhg bool) ([]nexthop, error) {
	if rc.Dev != "" || rc.Via.IsValid() || (rc.Type != "" && rc.Type != RouteUnicast) {
		return nil, cfgErr("route %d: a multipath route has its devices and gateways in nexthops only, and is unicast", i)
	}
	paths := make([]nexthop, len(rc.Nexthops))
	for j, nc := range rc.Nexthops {
		d := n.dev(nc.Dev)
		if d == nil {
			return nil, cfgErr("route %d nexthop %d: unknown device %q in %s", i, j, nc.Dev, n.name)
		}
		w := cmp.Or(nc.Weight, 1)
		if w < 1 || (w > 256 && !nhg) { // rtnh_hops + 1; a group's weights were checked with it
			return nil, cfgErr("route %d nexthop %d: weight %d (want 1 to 256)", i, j, nc.Weight)
		}
		paths[j] = nexthop{route: route{dev: d, via: nc.Via}, weight: int32(w), dead: nc.dead}
	}
	return paths, nil
}

// addPaths makes r, whose prefix, metric and MTU are set, the multipath
// route of paths (route i): each path a copy of r through its device and
// gateway, nh_saddr picked (IPv4), the upper bounds balanced.
func (n *Netns) addPaths(r *route, paths []nexthop, i int) error {
	v6 := r.dst.Addr().Is6()
	for j := range paths {
		nh := &paths[j]
		if nh.via.IsValid() && nh.via.Is4() && v6 {
			return cfgErr("route %d nexthop %d: gateway %s of another family than %s", i, j, nh.via, r.dst)
		}
		nh.dst, nh.metric, nh.mtu, nh.mtuLocked, nh.prefsrc = r.dst, r.metric, r.mtu, r.mtuLocked, r.prefsrc
		if !v6 {
			nh.saddr = fibPrefSrc(n, nh.dev, nh.via, false) // fib_info_update_nhc_saddr
		}
	}
	r.paths = paths
	n.setIgnored(r)
	// A nexthop group's bounds count every member
	// (nh_hthr_group_rebalance); its members are picked by their
	// neighbours, not their carrier (nexthop_is_good_nh).
	rebalance(paths, !r.nhg)
	first := r.firstLive() // what code that does not hash reads
	r.dev, r.via = first.dev, first.via
	if v6 {
		n.multipath6 = true
	} else {
		n.multipath4 = true
	}
	return nil
}

// nhObj is a nexthop object of a namespace (struct nexthop).
type nhObj struct {
	cfg   *NexthopObjConfig
	dev   *Device
	group []nhMember
}

type nhMember struct {
	obj    *nhObj
	weight int
}

type nhKey struct {
	ns *Netns
	id uint32
}

// nexthopObjects checks c's nexthop objects (rtm_new_nexthop,
// nh_check_attr_group) and returns them by namespace and id.
func (s *Stack) nexthopObjects(c *Config, nsOf func(what, name string) (*Netns, error)) (map[nhKey]*nhObj, error) {
	if len(c.NexthopObjects) == 0 {
		return nil, nil
	}
	if !s.prof.NexthopObjects {
		return nil, cfgErr("nexthop objects need v5.3 or later, not %s", s.prof.Name)
	}
	maxWeight := 255
	if s.prof.NexthopWeightU16 {
		maxWeight = 65535
	}
	objs := make(map[nhKey]*nhObj, len(c.NexthopObjects))
	for i := range c.NexthopObjects {
		nc := &c.NexthopObjects[i]
		what := fmt.Sprintf("nexthop object %d (id %d)", i, nc.ID)
		n, err := nsOf(what, nsName(nc.Netns))
		if err != nil {
			return nil, err
		}
		o := &nhObj{cfg: nc}
		kinds := 0
		for _, b := range []bool{nc.Dev != "", nc.Blackhole, nc.Group != nil} {
			if b {
				kinds++
			}
		}
		switch {
		case nc.ID == 0:
			return nil, cfgErr("%s: id 0 (want 1 or more)", what)
		case objs[nhKey{n, nc.ID}] != nil:
			return nil, cfgErr("%s: id %d taken in %s", what, nc.ID, n.name)
		case kinds != 1 || (nc.Via.IsValid() && nc.Dev == ""):
			return nil, cfgErr("%s: want one of dev (with an optional via), blackhole or group", what)
		case nc.Onlink && !nc.Via.IsValid():
			// rtm_to_nh_config.
			return nil, cfgErr("%s: onlink without a gateway (rtm_to_nh_config: ONLINK flag can not be set for nexthop without a gateway)", what)
		case nc.Dev != "":
			if o.dev = n.dev(nc.Dev); o.dev == nil {
				return nil, cfgErr("%s: unknown device %q in %s", what, nc.Dev, n.name)
			}
		}
		for j, m := range nc.Group {
			mo := objs[nhKey{n, m.ID}]
			w := cmp.Or(m.Weight, 1)
			switch {
			case mo == nil:
				return nil, cfgErr("%s: member %d: no nexthop id %d (declared before the group) in %s", what, j, m.ID, n.name)
			case mo.group != nil:
				return nil, cfgErr("%s: member %d: a group can not be a nexthop within a group", what, j)
			case mo.cfg.Blackhole && len(nc.Group) > 1:
				return nil, cfgErr("%s: member %d: a blackhole nexthop can not be in a group with more than 1 path", what, j)
			case w < 1 || w > maxWeight:
				return nil, cfgErr("%s: member %d: weight %d (want 1 to %d in %s)", what, j, m.Weight, maxWeight, s.prof.Name)
			case slices.ContainsFunc(nc.Group[:j], func(x NexthopGroupMember) bool { return x.ID == m.ID }):
				return nil, cfgErr("%s: member %d: nexthop id %d twice in the group", what, j, m.ID)
			}
			o.group = append(o.group, nhMember{mo, w})
		}
		objs[nhKey{n, nc.ID}] = o
	}
	return objs, nil
}

// expandNHID rewrites route i, which names nexthop object rc.NHID, as the
// route it stands for: a blackhole route, a route through the object's
// device and gateway, or a multipath route over the group's members (nhg)
// whose devices are up with carrier. A nexthop whose device is down, or
// without carrier, is deleted (nexthop_flush_dev on NETDEV_DOWN, and on
// NETDEV_CHANGE without IFF_RUNNING or IFF_LOWER_UP: removed from its
// groups, which are rebalanced; one made on such a device is refused,
// which the model takes as made before), so
// a route that loses them all is gone; a group left with one member is
// one path (not hashed, no neighbour check).
func expandNHID(n *Netns, i int, rc RouteConfig, objs map[nhKey]*nhObj) (_ RouteConfig, nhg, gone bool, _ error) {
	o := objs[nhKey{n, rc.NHID}]
	switch {
	case rc.Dev != "" || rc.Via.IsValid() || rc.Nexthops != nil || (rc.Type != "" && rc.Type != RouteUnicast):
		return rc, false, false, cfgErr("route %d: a route with nhid has no dev, via or nexthops of its own and is unicast", i)
	case o == nil:
		return rc, false, false, cfgErr("route %d: no nexthop id %d in %s", i, rc.NHID, n.name)
	}
	v6 := rc.Dst.IsValid() && rc.Dst.Addr().Is6()
	members := o.group
	if members == nil {
		members = []nhMember{{o, 1}}
	}
	var live []NexthopConfig
	for _, m := range members {
		if m.obj.cfg.Via.Is4() && v6 {
			return rc, false, false, cfgErr("route %d: IPv6 routes can not use an IPv4 nexthop (id %d)", i, m.obj.cfg.ID)
		}
		switch {
		case m.obj.cfg.Blackhole:
			rc.Type = RouteBlackhole
			return rc, false, false, nil
		case m.obj.dev.up && m.obj.dev.carrier:
			live = append(live, NexthopConfig{Dev: m.obj.dev.name, Via: m.obj.cfg.Via, Weight: m.weight})
		}
	}
	switch len(live) {
	case 0:
		return rc, false, true, nil
	case 1:
		rc.Dev, rc.Via = live[0].Dev, live[0].Via
		return rc, false, false, nil
	}
	rc.Nexthops = live
	return rc, true, false, nil
}
