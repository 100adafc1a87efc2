package netstack

import (
	"cmp"
	"encoding/binary"
	"net/netip"

	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/skb"
)

// IPv4 options: what ip_rcv_options does with a received packet whose
// header is longer than 20 bytes, and what ip_forward_options and
// ip_options_fragment do to them on the way out.
//
// Modelling decisions:
//   - net.ipv4.conf.all.accept_source_route is 0 (the kernel's default;
//     IN_DEV_SOURCE_ROUTE ands it with the device's), so a packet with a
//     loose or strict source route option is dropped (NOT_SPECIFIED) and
//     source routing itself (ip_options_rcv_srr) is not modelled.
//   - CIPSO options (type 134) are validated by cipso_v4_validate, which
//     the model does not have: they are taken as valid.
//   - Timestamps are the capture's time in milliseconds since midnight
//     UTC (inet_current_timestamp).
//   - No router alert socket exists: a router alert option changes
//     nothing (ip_call_ra_chain finds none).
//   - The answers the stack sends (Options.Replies) echo the record
//     route and timestamp options (__ip_options_echo, ip_options_build);
//     the model's own sockets send no options.

// IP option types (include/uapi/linux/ip.h).
const (
	ipoptEnd       = 0
	ipoptNoop      = 1
	ipoptRR        = 7
	ipoptTimestamp = 68
	ipoptRA        = 148
	ipoptLSRR      = 131
	ipoptSSRR      = 137
	ipoptCopied    = 0x80 // IPOPT_COPIED

	ipoptTSTSOnly    = 0 // IPOPT_TS_TSONLY
	ipoptTSTSAndAddr = 1 // IPOPT_TS_TSANDADDR
	ipoptTSPrespec   = 3 // IPOPT_TS_PRESPEC

	icmpParamProbPointer = 0 // the parameter problem's code: the pointer indicates the error
)

// IPCB(skb)->opt, struct ip_options in struct inet_skb_parm (after the
// 4-byte iif) in skb->cb: optlen, srr, rr, ts (offsets of the options in
// the header), the flag bits, router_alert and cipso.
const (
	ipcbOptLen   = 12
	ipcbOptSRR   = 13
	ipcbOptRR    = 14
	ipcbOptTS    = 15
	ipcbOptFlags = 16
	ipcbOptRA    = 17
	ipcbOptCIPSO = 18

	optIsChanged  = 1 << 2 // is_changed
	optRRNeedAddr = 1 << 3 // rr_needaddr
	optTSNeedTime = 1 << 4 // ts_needtime
	optTSNeedAddr = 1 << 5 // ts_needaddr

	ipoptCIPSO = 134 // IPOPT_CIPSO
)

// ipOptions runs ipRcvOptions on b (ip.ihl > 20) and drops b when they
// refuse it (ip_rcv_finish_core), returning false.
func (s *Stack) ipOptions(b *skb.Buff, ns *Netns, in *Device, ip ipv4, local bool) bool {
	if r := s.ipRcvOptions(b, ns, in, ip, local); r != 0 {
		s.drop(b, r, OpIPRoute)
		return false
	}
	return true
}

// ipRcvOptions models ip_rcv_options() for b (data at its IPv4 header,
// ip.ihl > 20) received on in and routed in ns: skb_cow with the current
// headroom (a cloned skb gets a private head; NOMEM when that fails),
// ip_options_compile (on an error a parameter problem pointing at the bad
// byte, then IP_INHDR), then a source route option refused
// (accept_source_route, NOT_SPECIFIED). local says the route is
// RTCF_LOCAL (not broadcast or multicast): the options record ip.dst,
// else fib_compute_spec_dst's address. The compiled options go to IPCB
// as they are read, so that an error's answer echoes those before the
// bad one. It returns the drop reason (0: the packet goes on).
func (s *Stack) ipRcvOptions(b *skb.Buff, ns *Netns, in *Device, ip ipv4, local bool) skb.DropReason {
	if err := b.Cow(b.Headroom()); err != nil {
		return skb.DropNomem
	}
	hdr := b.Data()[:ip.ihl]
	cb := b.H().CB[:]
	cb[ipcbOptLen] = uint8(ip.ihl - ipHlen)
	var spec [4]byte
	specDst := func() [4]byte {
		if spec == [4]byte{} {
			spec = s.specDst(ns, in, ip, local)
		}
		return spec
	}
	ptr := 0 // pp_ptr, from the header's start (0: no error)
	opt := hdr[ipHlen:]
	for l, i := len(opt), 0; l > 0; {
		switch opt[i] {
		case ipoptEnd:
			for i, l = i+1, l-1; l > 0; i, l = i+1, l-1 {
				if opt[i] != ipoptEnd {
					opt[i] = ipoptEnd
					cb[ipcbOptFlags] |= optIsChanged
				}
			}
			continue
		case ipoptNoop:
			i, l = i+1, l-1
			continue
		}
		if l < 2 {
			ptr = ipHlen + i
			break
		}
		optlen := int(opt[i+1])
		if optlen < 2 || optlen > l {
			ptr = ipHlen + i
			break
		}
		p := opt[i : i+optlen]
		switch p[0] {
		case ipoptSSRR, ipoptLSRR:
			switch {
			case optlen < 3:
				ptr = ipHlen + i + 1
			case p[2] < 4:
				ptr = ipHlen + i + 2
			case cb[ipcbOptSRR] != 0:
				ptr = ipHlen + i
			default:
				cb[ipcbOptSRR] = uint8(ipHlen + i)
			}
		case ipoptRR:
			switch {
			case cb[ipcbOptRR] != 0:
				ptr = ipHlen + i
			case optlen < 3:
				ptr = ipHlen + i + 1
			case p[2] < 4:
				ptr = ipHlen + i + 2
			case int(p[2]) <= optlen && int(p[2])+3 > optlen:
				ptr = ipHlen + i + 2
			case int(p[2]) <= optlen:
				a := specDst()
				copy(p[p[2]-1:], a[:])
				p[2] += 4
				cb[ipcbOptFlags] |= optIsChanged | optRRNeedAddr
			}
			if ptr == 0 {
				cb[ipcbOptRR] = uint8(ipHlen + i)
			}
		case ipoptTimestamp:
			ptr = s.ipOptTimestamp(ns, p, ipHlen+i, cb, specDst)
		case ipoptRA:
			if optlen < 4 {
				ptr = ipHlen + i + 1
			} else if p[2] == 0 && p[3] == 0 {
				cb[ipcbOptRA] = uint8(ipHlen + i)
			}
		case ipoptCIPSO:
			// cipso_v4_validate is not modelled: the option is valid.
			if cb[ipcbOptCIPSO] != 0 {
				ptr = ipHlen + i
			} else {
				cb[ipcbOptCIPSO] = uint8(ipHlen + i)
			}
		}
		if ptr != 0 {
			break
		}
		l -= optlen
		i += optlen
	}
	if ptr != 0 {
		// ip_options_compile: icmp_send(skb, ICMP_PARAMETERPROB, 0, info).
		s.icmpSend(b, ns, icmpParameterProb, icmpParamProbPointer, uint32(ptr)<<24, local)
		return skb.DropIPInhdr
	}
	if cb[ipcbOptSRR] != 0 {
		return skb.DropNotSpecified // !IN_DEV_SOURCE_ROUTE
	}
	return 0
}

// ipOptTimestamp is __ip_options_compile's timestamp case for option p at
// offset off: the time (and address) recorded while there is room, the
// overflow count raised when there is none. It returns the error pointer
// (0: none).
func (s *Stack) ipOptTimestamp(ns *Netns, p []byte, off int, cb []byte, specDst func() [4]byte) int {
	optlen := len(p)
	switch {
	case cb[ipcbOptTS] != 0:
		return off
	case optlen < 4:
		return off + 1
	case p[2] < 5:
		return off + 2
	case int(p[2]) > optlen:
		if p[3]&0xf == ipoptTSPrespec {
			cb[ipcbOptTS] = uint8(off)
			return 0
		}
		overflow := p[3] >> 4
		if overflow == 15 {
			return off + 3
		}
		p[3] = p[3]&0xf | (overflow+1)<<4
		cb[ipcbOptFlags] |= optIsChanged
		cb[ipcbOptTS] = uint8(off)
		return 0
	case int(p[2])+3 > optlen:
		return off + 2
	}
	timeAt := -1
	switch p[3] & 0xf {
	case ipoptTSTSOnly:
		timeAt = int(p[2]) - 1
		cb[ipcbOptFlags] |= optTSNeedTime
		p[2] += 4
	case ipoptTSTSAndAddr:
		if int(p[2])+7 > optlen {
			return off + 2
		}
		a := specDst()
		copy(p[p[2]-1:], a[:])
		timeAt = int(p[2]) + 3
		cb[ipcbOptFlags] |= optTSNeedAddr | optTSNeedTime
		p[2] += 8
	case ipoptTSPrespec:
		if int(p[2])+7 > optlen {
			return off + 2
		}
		cb[ipcbOptTS] = uint8(off)
		if !ns.notUnicast4([4]byte(p[p[2]-1:])) {
			return 0
		}
		timeAt = int(p[2]) + 3
		cb[ipcbOptFlags] |= optTSNeedTime
		p[2] += 8
	}
	cb[ipcbOptTS] = uint8(off)
	if timeAt >= 0 {
		binary.BigEndian.PutUint32(p[timeAt:], s.midtime())
		cb[ipcbOptFlags] |= optIsChanged
	}
	return 0
}

// midtime is inet_current_timestamp(): milliseconds since midnight UTC,
// of the capture's time.
func (s *Stack) midtime() uint32 { return uint32((s.now / 1e6) % (24 * 3600 * 1000)) }

// notUnicast4 reports whether inet_addr_type(a) is not RTN_UNICAST: one of
// the namespace's addresses (RTN_LOCAL), a broadcast, 0.0.0.0 or a
// multicast address.
func (ns *Netns) notUnicast4(a [4]byte) bool {
	return ns.isLocal4(a) || ns.isBcast4(a) || a == [4]byte{} || a[0]&0xf0 == 0xe0
}

// specDst models fib_compute_spec_dst(): the packet's destination for an
// RTCF_LOCAL route, else the preferred source of the route back to its
// source (inet_select_addr on the input device when there is none).
func (s *Stack) specDst(ns *Netns, in *Device, ip ipv4, local bool) [4]byte {
	if local {
		return ip.dst.As4()
	}
	d, gw := in, ip.src
	if r := ns.mainRoute(ip.src); !ip.src.IsUnspecified() && r != nil && r.reject == 0 && r.dev != nil {
		if r.prefsrc.IsValid() {
			return r.prefsrc.As4() // fib_result_prefsrc
		}
		d, gw = r.dev, r.via
	}
	if a := fibPrefSrc(ns, d, gw, false); a.IsValid() {
		return a.As4()
	}
	return [4]byte{}
}

// ipForwardOptions models ip_forward_options() on the forwarded header
// hdr, whose IPCB is cb, leaving by out to next hop nh: the record route
// slot the receive filled gets the outgoing address (ip_rt_get_source),
// and a changed header gets its checksum (ip_send_check).
func (s *Stack) ipForwardOptions(hdr, cb []byte, ns *Netns, out *Device, nh, prefsrc netip.Addr) {
	changed := cb[ipcbOptFlags]&optIsChanged != 0
	if cb[ipcbOptFlags]&optRRNeedAddr != 0 {
		p := hdr[cb[ipcbOptRR]:]
		gw := netip.Addr{}
		if nh != netip.AddrFrom4([4]byte(hdr[16:20])) {
			gw = nh
		}
		// ip_rt_get_source: fib_result_prefsrc of the route.
		if a := cmp.Or(prefsrc, fibPrefSrc(ns, out, gw, false)); a.IsValid() {
			a4 := a.As4()
			copy(p[p[2]-5:], a4[:])
		}
		changed = true
	}
	if changed {
		cb[ipcbOptFlags] &^= optIsChanged
		s.acct.Op(cost.OpCsumByte, uint64(len(hdr)))
		setIPCsum(hdr, len(hdr))
	}
}

// ipOptionsFragment models ip_options_fragment() on the header of the
// fragments after the first: every option without the copied flag
// becomes no-operations.
func ipOptionsFragment(hdr []byte) {
	opt := hdr[ipHlen:]
	for l, i := len(opt), 0; l > 0; {
		switch opt[i] {
		case ipoptEnd:
			return
		case ipoptNoop:
			i, l = i+1, l-1
			continue
		}
		if l < 2 {
			return
		}
		optlen := int(opt[i+1])
		if optlen < 2 || optlen > l {
			return
		}
		if opt[i]&ipoptCopied == 0 {
			for j := range optlen {
				opt[i+j] = ipoptNoop
			}
		}
		l -= optlen
		i += optlen
	}
}

// optFill says where ip_options_build writes into echoed options (offsets
// from the options' start): the answer's source address at rr and tsAddr,
// the time at tsTime (-1: none).
type optFill struct{ rr, tsAddr, tsTime int }

// ipOptionsEcho models __ip_options_echo() for an answer to b, whose IPCB
// holds the options its receive compiled: the record route option copied
// with room for the answer's address when there is, the timestamp option
// with room for the answer's address and time as its flag asks, then
// CIPSO, padded with END to a multiple of four bytes (the answer's header
// carries them; source routes are dropped on receive). ok is false when
// a slot the receive announced does not fit (-EINVAL: no answer). The
// returned slice is the stack's scratch buffer.
func (s *Stack) ipOptionsEcho(b *skb.Buff, ns *Netns) (opts []byte, fill optFill, ok bool) {
	fill = optFill{-1, -1, -1}
	cb := b.H().CB[:]
	if cb[ipcbOptLen] == 0 || b.H().Protocol != ethPIP {
		return nil, fill, true
	}
	sp := netHeader(b)
	ihl := min(int(sp[0]&0xf)*4, len(sp))
	d := s.optBuf[:0]
	flags := cb[ipcbOptFlags]
	option := func(off uint8) ([]byte, bool) {
		if off == 0 || int(off)+2 > ihl || int(off)+int(sp[off+1]) > ihl {
			return nil, false
		}
		return sp[off : int(off)+int(sp[off+1])], true
	}
	if o, have := option(cb[ipcbOptRR]); have {
		n, optlen, soff := len(d), len(o), int(o[2])
		d = append(d, o...)
		if flags&optRRNeedAddr != 0 && soff <= optlen {
			if soff+3 > optlen {
				return nil, fill, false
			}
			d[n+2] = byte(soff + 4)
			fill.rr = n + soff + 4 - 5
		}
	}
	if o, have := option(cb[ipcbOptTS]); have {
		n, optlen, soff := len(d), len(o), int(o[2])
		d = append(d, o...)
		if soff <= optlen {
			needAddr, needTime := false, false
			if flags&optTSNeedAddr != 0 {
				if soff+3 > optlen {
					return nil, fill, false
				}
				needAddr = true
				soff += 4
			}
			if flags&optTSNeedTime != 0 {
				if soff+3 > optlen {
					return nil, fill, false
				}
				switch {
				case d[n+3]&0xf != ipoptTSPrespec:
					needTime = true
					soff += 4
				case soff+7 <= optlen && ns.notUnicast4([4]byte(d[n+soff-1:])):
					needTime = true
					soff += 8
				}
			}
			d[n+2] = byte(soff)
			// ip_options_build: the address at the pointer - 9, the time
			// at the pointer - 5.
			if needAddr {
				fill.tsAddr = n + soff - 9
			}
			if needTime {
				fill.tsTime = n + soff - 5
			}
		}
	}
	if o, have := option(cb[ipcbOptCIPSO]); have {
		d = append(d, o...)
	}
	for len(d)&3 != 0 {
		d = append(d, ipoptEnd)
	}
	return d, fill, true
}

// ipOptionsBuild models ip_options_build() for an answer: the echoed
// options after the 20-byte header in pkt (header length and checksum
// updated), the answer's source address and the time in the slots fill
// names.
func (s *Stack) ipOptionsBuild(pkt, opts []byte, fill optFill) {
	hl := ipHlen + len(opts)
	o := pkt[ipHlen:hl]
	copy(o, opts)
	for _, at := range []int{fill.rr, fill.tsAddr} {
		if at >= 0 {
			copy(o[at:at+4], pkt[12:16]) // ip_rt_get_source: the answer's saddr
		}
	}
	if fill.tsTime >= 0 {
		binary.BigEndian.PutUint32(o[fill.tsTime:], s.midtime())
	}
	pkt[0] = 0x40 | byte(hl/4)
	setIPCsum(pkt, hl)
}
