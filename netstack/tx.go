package netstack

import (
	"encoding/binary"
	"net/netip"
	"slices"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/skb"
)

// ipPacket returns the IPv4 packet inside a captured frame: the frame
// itself when it starts with an IPv4 header, else the payload of an
// Ethernet frame carrying IPv4.
func ipPacket(f []byte) ([]byte, bool) {
	if len(f) >= ethHlen+ipHlen && binary.BigEndian.Uint16(f[12:14]) == ethPIP && f[ethHlen]>>4 == 4 {
		return f[ethHlen:], true
	}
	if len(f) >= ipHlen && f[0]>>4 == 4 {
		return f, true
	}
	return nil, false
}

// sockSend sends the IP packet of p from sk: UDP through ip_make_skb
// (alloc_skb with LL_RESERVED_SPACE of headroom, the socket's mark,
// priority and tx hash, skb_set_owner_w), TCP through tcp_sendmsg (an
// fclone skb with MAX_TCP_HEADER of headroom kept on the retransmit queue,
// __tcp_transmit_skb sending a clone — or a pskb_copy when the queued skb
// is still cloned — and a retransmission of a queued sequence range
// sending another clone of the same skb). The IP and L4 headers are the
// captured ones.
func (s *Stack) sockSend(sk *Socket, p *Packet) error {
	pkt, ok := ipPacket(p.Frame)
	if !ok {
		if pkt6, ok := ip6Packet(p.Frame); ok {
			return s.sockSend6(sk, p, pkt6) // ip6_output.go
		}
		return s.badFrame(p, "no IPv4 or IPv6 packet to send")
	}
	ip, ok := parseIPv4(pkt)
	if !ok || ip.totLen < ip.ihl || ip.totLen > len(pkt) {
		return s.badFrame(p, "malformed IPv4 header")
	}
	pkt = pkt[:ip.totLen]
	want := uint8(ipprotoUDP)
	if sk.proto == ProtoTCP {
		want = ipprotoTCP
	}
	if ip.proto != want {
		return s.badFrame(p, "IP protocol does not match socket "+sk.name)
	}
	fl := sockFlow(sk, ip.dst, pkt, ip.ihl)
	out, nh, mtu := s.routeOutputPath(sk.ns, &fl, nil)
	if out == nil {
		// ip_route_output_flow fails: sendmsg returns -ENETUNREACH, no skb.
		s.sendRefused(sk, skb.DropIPOutNoroutes, OpIPOutput)
		return nil
	}
	if d4 := ip.dst.As4(); sk.ns.isBcastMcast4(d4) {
		// An RTN_BROADCAST or multicast route (RTCF_BROADCAST,
		// RTCF_MULTICAST): tcp_v4_connect refuses it (-ENETUNREACH),
		// udp_sendmsg a broadcast without SO_BROADCAST (-EACCES); neither
		// makes an skb. __mkroute_output sends a multicast datagram to
		// the group itself, not to the route's gateway (the model ignores
		// a /4 route's gateway too).
		if sk.proto == ProtoTCP {
			s.sendRefused(sk, skb.DropIPOutNoroutes, OpIPOutput)
			return nil
		}
		nh = ip.dst
		if !sk.broadcast && d4[0]&0xf0 != 0xe0 {
			s.sendRefused(sk, skb.DropNotSpecified, OpSockSend)
			return nil
		}
	}
	sk.initFns()
	if sk.proto == ProtoTCP {
		return s.tcpSend(sk, pkt, ip, out, nh, mtu)
	}
	if len(pkt) < ip.ihl+udpHlen {
		return s.badFrame(p, "short UDP header")
	}
	hh := llReservedSpace(out)
	payload := len(pkt) - ip.ihl - udpHlen
	if len(pkt) > mtu && sk.udpSegment <= 0 {
		// Above the MTU without UDP_SEGMENT: a frag_list datagram that
		// ip_do_fragment's fast path can send as it is. With
		// UDP_SEGMENT, __ip_append_data's mtu is IP_MAX_MTU: one skb,
		// which udp_send_skb then checks.
		b := s.ipAppendData(pkt, ip.ihl, out, mtu)
		if b == nil {
			s.dropNoSkb(out, skb.DropNomem, OpSockSend)
			return nil
		}
		s.initTxSkb(b, sk)
		s.traceOp(LayerSocket, OpSockSend, b)
		s.ipLocalOut(b, sk.ns, out, nh, sk, mtu)
		return nil
	}
	// __ip_append_data: alloc_skb(fraglen + LL_RESERVED_SPACE + 15); on a
	// UDP_SEGMENT socket (paged = !!cork->gso_size) only the headers are
	// linear and the payload goes to the socket's page fragments.
	linear := len(pkt)
	if sk.udpSegment > 0 {
		linear = ip.ihl + udpHlen
	}
	b, err := s.a.AllocSkb(linear + hh + 15)
	if err != nil {
		s.dropNoSkb(out, skb.DropNomem, OpSockSend)
		return nil
	}
	b.Reserve(hh)
	b.PutData(pkt[:linear])
	if !s.appendPageFrags(b, sk, pkt[linear:]) {
		s.dropNoSkb(out, skb.DropNomem, OpSockSend)
		return nil
	}
	s.initTxSkb(b, sk)
	b.SetTransportHeader(ip.ihl) // __ip_append_data: network header + fragheaderlen
	s.traceOp(LayerSocket, OpSockSend, b)
	if !s.udpSegment(b, sk, ip.ihl+udpHlen, payload, mtu) { // udp_send_skb
		s.drop(b, skb.DropNotSpecified, OpSockSend)
		return nil
	}
	s.ipLocalOut(b, sk.ns, out, nh, sk, mtu)
	return nil
}

// ipAppendData models __ip_append_data and __ip_make_skb for a datagram
// pkt (IP header of ihl bytes, UDP header, payload) above mtu, the route's,
// sent without MSG_MORE or UDP_SEGMENT: one alloc_skb per fragment-sized
// piece (maxfraglen = ((mtu - ihl) & ~7) + ihl bytes each, the last
// smaller), each of fraglen + LL_RESERVED_SPACE + 15 bytes with
// LL_RESERVED_SPACE of headroom and room for the IP header; the first
// carries the IP and UDP headers. __ip_make_skb chains the others on the
// first's frag_list, pulled to their payload (skb_network_header_len),
// their len, data_len and truesize added to the first's, their socket
// cleared. The IP header is the captured one. Returns the datagram, or
// nil when an allocation fails (the pieces made so far are freed:
// __ip_flush_pending_frames, kfree_skb).
func (s *Stack) ipAppendData(pkt []byte, ihl int, out *Device, mtu int) *skb.Buff {
	hh := llReservedSpace(out)
	maxfraglen := (mtu-ihl)&^7 + ihl
	return s.appendData(pkt, ihl, mtu-ihl, maxfraglen-ihl, hh+15, hh, OpSockSend)
}

// appendData is the loop of __ip_append_data and __ip6_append_data and
// the chaining of __ip_make_skb and __ip6_make_skb for pkt, hlen bytes of
// IP header then the rest: while more than fit bytes are left, a piece
// of chunk bytes, else the rest; each piece in alloc_skb(hlen + piece +
// extra) with reserve bytes of headroom, the network header at the data
// and hlen bytes of room for it; the first piece takes pkt's header, the
// others are pulled to their payload and chained on its frag_list.
// Returns nil when an allocation fails, the pieces made so far freed
// (kfree_skb at op).
func (s *Stack) appendData(pkt []byte, hlen, fit, chunk, extra, reserve int, op Op) *skb.Buff {
	body := pkt[hlen:]
	var head *skb.Buff
	for off := 0; off < len(body); {
		datalen := len(body) - off
		if datalen > fit {
			datalen = chunk
		}
		fraglen := datalen + hlen
		b, err := s.a.AllocSkb(fraglen + extra)
		if err != nil {
			if head != nil {
				s.drop(head, skb.DropNotSpecified, op)
			}
			return nil
		}
		b.Reserve(reserve)
		d := b.Put(fraglen)
		b.ResetNetworkHeader()
		b.SetTransportHeader(hlen)
		copy(d[hlen:], body[off:off+datalen])
		off += datalen
		if head == nil {
			copy(d[:hlen], pkt[:hlen]) // ip_make_skb writes the header in place
			head = b
			continue
		}
		b.Pull(hlen) // __ip_make_skb: __skb_pull(tmp_skb, skb_network_header_len(skb))
		head.AppendFragList(b)
	}
	return head
}

// appendPageFrags copies data into sk's page fragments at the end of b
// (skb_copy_to_page_nocache in tcp_sendmsg_locked, the paged branch of
// __ip_append_data and __ip6_append_data), refilling the page frag as the
// loops do. When a refill fails (or, which the model's datagrams never
// reach, MAX_SKB_FRAGS is hit) b is freed without a tracepoint
// (tcp_remove_empty_skb; __ip_flush_pending_frames frees with kfree_skb
// but the model counts the send as a NOMEM drop without an skb) and false
// returned.
func (s *Stack) appendPageFrags(b *skb.Buff, sk *Socket, data []byte) bool {
	for len(data) > 0 {
		n, err := b.AppendPageFragData(sk.pfrag, data)
		if err != nil {
			b.ConsumeSkb()
			return false
		}
		data = data[n:]
	}
	return true
}

// initTxSkb sets what ip_make_skb / tcp_transmit_skb set on a locally
// generated skb.
func (s *Stack) initTxSkb(b *skb.Buff, sk *Socket) { initTxSkbProto(b, sk, ethPIP, sizeofIPCB) }

// initTxSkbProto sets what the IPv4 and IPv6 output paths set on a
// locally generated skb: the network header, the protocol, the socket's
// priority and mark, its tx hash (skb_set_hash_from_sk), the family's
// control block (IPCB or IP6CB, cbLen bytes) cleared, and the socket as
// owner (skb_set_owner_w).
func initTxSkbProto(b *skb.Buff, sk *Socket, proto uint16, cbLen int) {
	b.ResetNetworkHeader()
	h := b.H()
	h.Protocol = proto
	h.Priority = sk.priority
	h.Mark = sk.mark
	if sk.txhash != 0 { // skb_set_hash_from_sk
		h.Hash, h.L4Hash, h.SWHash = sk.txhash, true, false
	}
	clear(h.CB[:cbLen])
	if b.Sk() == nil {
		b.SetOwner(sk, sk.wfreeFn)
		sk.wmem += b.Truesize()
	}
}

// udpSegment models the UDP_SEGMENT part of udp_send_skb and
// udp_v6_send_skb for a datagram of hlen header bytes (the network header
// through the UDP header) and datalen payload bytes to a path MTU of
// fragsize, sent from a socket with gso_size sk.udpSegment:
//   - too big for the path: hlen + min(datalen, gso_size) > fragsize
//     (-EMSGSIZE; Profile.UDPGSOSmallPackets, v6.14), before that
//     hlen + gso_size > fragsize (-EINVAL) whatever the datagram's size;
//   - more than gso_size * UDP_MAX_SEGMENTS payload bytes
//     (Profile.UDPMaxSegments, -EINVAL);
//   - otherwise a payload of more than gso_size bytes makes b a GSO
//     super-packet (SKB_GSO_UDP_L4) of ceil(datalen / gso_size)
//     segments; before v5.4 (Profile.UDPGSOMultiSegmentOnly) a
//     one-segment datagram did too.
//
// It returns false when udp_send_skb refuses the datagram: the caller
// frees b with kfree_skb (NOT_SPECIFIED) and sendmsg fails. The checks on
// UDP_NO_CHECK6_TX, UDP-Lite and xfrm (-EINVAL, -EIO) concern sockets and
// routes the model does not have.
func (s *Stack) udpSegment(b *skb.Buff, sk *Socket, hlen, datalen, fragsize int) bool {
	n := sk.udpSegment
	if n <= 0 {
		return true
	}
	if s.prof.UDPGSOSmallPackets {
		if hlen+min(datalen, n) > fragsize {
			return false
		}
	} else if hlen+n > fragsize {
		return false
	}
	if datalen > n*s.prof.UDPMaxSegments {
		return false
	}
	if datalen > n || !s.prof.UDPGSOMultiSegmentOnly {
		sh := b.Shinfo()
		sh.GSOSize = uint16(n)
		sh.GSOSegs = uint16((datalen + n - 1) / n)
		sh.GSOType = skb.GSOUDPL4
	}
	return true
}

// tcpSeg is the part of a captured TCP segment tcp_sendmsg and
// __tcp_transmit_skb need: its header, data offset, payload length and
// sequence space [seq, end) (SYN and FIN count one).
type tcpSeg struct {
	th       []byte
	doff     int
	payload  int
	seq, end uint32
}

// parseTCPSeg parses the TCP header at th for tcpSend / tcpSend6; a
// malformed one is a capture error.
func (s *Stack) parseTCPSeg(th []byte) (tcpSeg, error) {
	if len(th) < 20 {
		return tcpSeg{}, &packetError{id: s.cur, why: "short TCP header"}
	}
	doff := int(th[12]>>4) * 4
	if doff < 20 || doff > len(th) {
		return tcpSeg{}, &packetError{id: s.cur, why: "bad TCP data offset"}
	}
	g := tcpSeg{th: th, doff: doff, payload: len(th) - doff, seq: binary.BigEndian.Uint32(th[4:8])}
	g.end = g.seq + uint32(g.payload)
	if th[13]&(tcpSYN|tcpFIN) != 0 {
		g.end++
	}
	return g, nil
}

// tcpQueueSkb models tcp_sendmsg's part of a segment with sequence space:
// the queued skb of the same range when this is a retransmission, else a
// new fclone (sk_stream_alloc_skb) with the payload, owned by the socket
// (skb_set_owner_w via sk_wmem_queued_add), the socket's priority and
// mark, TSO segments of mss = mtu (the route's: tcp_sync_mss) - hdrs -
// doff (tcp_set_skb_tso_segs, gsoType), __skb_header_release, on the
// retransmit queue (bounded: the oldest entry is consumed beyond maxRtx).
// nil when the allocation failed (dropped as NOMEM).
func (s *Stack) tcpQueueSkb(sk *Socket, g *tcpSeg, out *Device, mtu, hdrs int, gsoType uint32) *skb.Buff {
	if b := sk.rtxFind(g.seq, g.end); b != nil {
		return b // a retransmission of the queued skb
	}
	// tcp_stream_alloc_skb: alloc_skb_fclone(MAX_TCP_HEADER + linear),
	// MAX_TCP_HEADER reserved; the payload goes to the socket's page
	// fragments (Profile.TCPSendLinearFirst: before v5.1 the first skb of
	// an empty write queue took up to SKB_WITH_OVERHEAD(2048 -
	// MAX_TCP_HEADER) bytes in its linear part first).
	payload := g.th[g.doff:]
	linear := 0
	if s.prof.TCPSendLinearFirst && len(sk.rtx) == 0 {
		linear = min(len(payload), 2048-skb.MaxTCPHeader-skb.SizeofSharedInfo)
	}
	b, err := s.a.AllocSkbFclone(skb.MaxTCPHeader + linear)
	if err != nil {
		s.dropNoSkb(out, skb.DropNomem, OpSockSend)
		return nil
	}
	b.Reserve(skb.MaxTCPHeader)
	b.PutData(payload[:linear])
	if !s.appendPageFrags(b, sk, payload[linear:]) {
		s.dropNoSkb(out, skb.DropNomem, OpSockSend)
		return nil
	}
	b.SetOwner(sk, sk.wfreeFn) // skb_set_owner_w via sk_wmem_queued_add
	sk.wmem += b.Truesize()
	h := b.H()
	h.Priority, h.Mark = sk.priority, sk.mark
	mss := mtu - hdrs - g.doff
	if g.payload > mss && mss > 0 {
		// tcp_set_skb_tso_segs: a TSO/GSO skb.
		sh := b.Shinfo()
		sh.GSOSize = uint16(mss)
		sh.GSOSegs = uint16((g.payload + mss - 1) / mss)
		sh.GSOType = gsoType
	}
	b.HeaderRelease() // __skb_header_release: clones may write the header
	s.traceOp(LayerSocket, OpSockSend, b)
	if len(sk.rtx) >= maxRtx {
		saved := s.cur
		r := sk.rtxPopFront()
		s.cur = r.pkt
		r.b.ConsumeSkb()
		s.cur = saved
	}
	sk.rtxPush(rtxEntry{b: b, pkt: s.cur, seq: g.seq, end: g.end})
	return b
}

// tcpTransmitClone models __tcp_transmit_skb(clone_it = 1): a clone of the
// queued skb, or a pskb_copy when it is still cloned (a previous
// transmission not yet freed), with the TCP header pushed
// (skb_push(tcp_header_size), skb_reset_transport_header). nil when the
// allocation failed (dropped as NOMEM).
func (s *Stack) tcpTransmitClone(oskb *skb.Buff, g *tcpSeg, out *Device) *skb.Buff {
	var b *skb.Buff
	var err error
	if oskb.SkbCloned() {
		b, err = oskb.PskbCopy()
	} else {
		b, err = oskb.Clone()
	}
	if err != nil {
		s.dropNoSkb(out, skb.DropNomem, OpTCPXmit)
		return nil
	}
	copy(b.Push(g.doff), g.th[:g.doff])
	b.ResetTransportHeader()
	return b
}

// tcpSend models tcp_sendmsg / tcp_send_ack for an AF_INET socket sending
// the captured segment pkt (IPv4 header ip): a pure ACK is built and sent
// on its own; otherwise tcpQueueSkb and tcpTransmitClone, then
// ip_queue_xmit pushes the IP header; ip_local_out.
func (s *Stack) tcpSend(sk *Socket, pkt []byte, ip ipv4, out *Device, nh netip.Addr, mtu int) error {
	g, err := s.parseTCPSeg(pkt[ip.ihl:])
	if err != nil {
		return err
	}
	if g.end == g.seq {
		// A pure ACK: tcp_send_ack allocates, builds and sends it; nothing
		// is queued.
		b, err := s.a.AllocSkb(skb.MaxTCPHeader)
		if err != nil {
			s.dropNoSkb(out, skb.DropNomem, OpTCPXmit)
			return nil
		}
		b.Reserve(skb.MaxTCPHeader)
		copy(b.Push(len(pkt)), pkt)
		s.initTxSkb(b, sk)
		s.traceOp(LayerL4, OpTCPXmit, b)
		s.ipLocalOut(b, sk.ns, out, nh, sk, mtu)
		return nil
	}
	oskb := s.tcpQueueSkb(sk, &g, out, mtu, ip.ihl, skb.GSOTCPv4)
	if oskb == nil {
		return nil
	}
	b := s.tcpTransmitClone(oskb, &g, out)
	if b == nil {
		return nil
	}
	copy(b.Push(ip.ihl), pkt[:ip.ihl]) // ip_queue_xmit: skb_push(sizeof(iphdr))
	s.initTxSkb(b, sk)
	s.traceOp(LayerL4, OpTCPXmit, b)
	s.ipLocalOut(b, sk.ns, out, nh, sk, mtu)
	return nil
}

// ipLocalOut models ip_local_out -> __ip_local_out (iph->tot_len =
// skb->len, ip_send_check) -> dst_output -> ip_output for a packet whose
// data starts at the IP header. A socket's packet (sk set) gets its
// transport checksum first (l4TxCsum: the transport's own send path).
func (s *Stack) ipLocalOut(b *skb.Buff, ns *Netns, out *Device, nh netip.Addr, sk *Socket, mtu int) {
	d := b.Data()
	if len(d) >= ipHlen {
		binary.BigEndian.PutUint16(d[2:4], uint16(b.Len()))
		setIPCsum(d, int(d[0]&0xf)*4)
		if sk != nil {
			s.l4TxCsum(b, int(d[0]&0xf)*4, d[9])
		}
	}
	s.ipOutput(b, ns, out, nh, sk, mtu)
}

// ipOutput models ip_output -> ip_finish_output: skb->dev = the route's
// device; cgroup_skb egress programs of the sending socket's cgroup (only
// for the socket's own skbs: skb->sk == sk); then a GSO skb goes on whole,
// a packet longer than the MTU is fragmented (ip_do_fragment: DF set drops
// with PKT_TOO_BIG; otherwise the slow path, each fragment getting
// ip_copy_metadata), and ip_finish_output2 resolves the neighbour. Takes
// ownership of skb.
func (s *Stack) ipOutput(b *skb.Buff, ns *Netns, out *Device, nh netip.Addr, sk *Socket, mtu int) {
	setDev(b, out)
	b.H().Protocol = ethPIP
	b.ResetNetworkHeader()
	s.traceOp(LayerIP, OpIPOutput, b)
	if sk != nil && out.kid != kidLoopback && nh.Is4() {
		a := nh.As4()
		if (len(ns.bcast4) != 0 && ns.isBcast4(a)) ||
			(!sk.noMcLoop && (a == allHostsGroup || (len(out.mcGroups) != 0 && slices.Contains(out.mcGroups, a)))) {
			s.ipMcLoopback(b)
		}
		if a[0]&0xf0 == 0xe0 && len(b.Data()) > 8 && b.Data()[8] == 0 {
			// ip_mc_output: multicasts with TTL 0 do not leave the host.
			s.drop(b, skb.DropNotSpecified, OpIPOutput)
			return
		}
	}
	if !s.cgroupEgress(b, sk) {
		return
	}
	if b.Shinfo().GSOSize != 0 || b.Len() <= mtu {
		s.ipFinishOutput2(b, ns, out, nh)
		return
	}
	ip, _ := parseIPv4(b.Data())
	if (ip.fragOff&ipDF != 0 && !b.H().IgnoreDF) || mtu-ip.ihl < 8 || b.Len() < ip.ihl {
		s.drop(b, skb.DropPktTooBig, OpIPFragment)
		return
	}
	s.traceOp(LayerIP, OpIPFragment, b)
	// ip_do_fragment: IPCB(skb)->flags |= IPSKB_FRAG_COMPLETE, which
	// either path passes on to every fragment.
	h := b.H()
	flags := binary.LittleEndian.Uint16(h.CB[ipcbFlags:]) | ipskbFragComplete
	binary.LittleEndian.PutUint16(h.CB[ipcbFlags:], flags)
	if b.HasFragList() && s.ipFragFast(b, ns, out, nh, ip, flags, mtu) {
		return
	}
	owner, _ := b.Sk().(*Socket)
	start := len(s.segs)
	segs, err := b.IPFragment(ip.ihl, mtu, llReservedSpace(out), s.segs)
	s.segs = segs
	if err != nil {
		s.drop(b, skb.DropNomem, OpIPFragment)
		s.segs = s.segs[:start]
		return
	}
	off := int(ip.fragOff&ipOffset) * 8 // ip_frag_init: state->offset
	for i := start; i < len(s.segs); i++ {
		f := s.segs[i]
		d := f.Data()
		n := f.Len() - ip.ihl
		if i != start && ip.fragOff&ipOffset == 0 && ip.ihl > ipHlen {
			// ip_frag_ipcb: ip_options_fragment on the original
			// after the first fragment, whose header the others copy.
			ipOptionsFragment(d[:ip.ihl])
		}
		fo := uint16(off / 8)
		if i != len(s.segs)-1 || ip.fragOff&ipMF != 0 {
			fo |= ipMF
		}
		binary.BigEndian.PutUint16(d[2:4], uint16(f.Len()))
		binary.BigEndian.PutUint16(d[6:8], fo|(ip.fragOff&ipDF))
		setIPCsum(d, ip.ihl)
		binary.LittleEndian.PutUint16(f.H().CB[ipcbFlags:], flags) // ip_frag_ipcb
		if owner != nil {
			f.SetOwner(owner, owner.wfreeFn) // ip_frag_next: skb_set_owner_w(skb2, skb->sk)
			owner.wmem += f.Truesize()
		}
		off += n
	}
	s.consumeSkb(b) // ip_do_fragment: consume_skb(skb) after the slow path
	for i := start; i < len(s.segs); i++ {
		f := s.segs[i]
		s.segs[i] = nil
		s.ipFinishOutput2(f, ns, out, nh)
	}
	s.segs = s.segs[:start]
}

// ipMcLoopback models what ip_mc_output does for a route with
// RTCF_BROADCAST, or RTCF_MULTICAST to a group the output device joined
// (RTCF_LOCAL) when the socket has IP_MULTICAST_LOOP on (sk_mc_loop, the
// default), before the skb goes on
// to ip_finish_output: a clone goes through ip_mc_finish_output, whose
// cgroup egress programs do not run on it (the clone has no skb->sk), to
// dev_loopback_xmit: the mac header reset to the network header,
// PACKET_LOOPBACK, CHECKSUM_NONE made CHECKSUM_UNNECESSARY, netif_rx on
// the output device. The stack then delivers it locally (the local
// sockets get their own broadcast). A failed clone sends nothing back.
func (s *Stack) ipMcLoopback(b *skb.Buff) {
	n, err := b.Clone()
	if err != nil {
		return
	}
	n.ResetMacHeader()
	h := n.H()
	h.PktType = skb.PacketLoopback
	if h.IPSummed == skb.ChecksumNone {
		h.IPSummed = skb.ChecksumUnnecessary
	}
	s.traceOp(LayerIP, OpIPOutput, n)
	s.netifRx(n)
}

// ipFragFast models ip_do_fragment()'s fast path for an skb with a
// frag_list (a local UDP datagram from ipAppendData): the first skb's own
// bytes (skb_pagelen) and every frag_list skb must be fragment-sized
// (payload at most mtu - hlen, a multiple of 8 except the last) with
// hlen + LL_RESERVED_SPACE of headroom, the skb not cloned nor a fragment
// already, and no frag_list skb shared; otherwise it returns false and
// changes nothing (slow_path / slow_path_clean). Each frag_list skb then
// gets the socket (sock_wfree) and its truesize back from the first's;
// ip_fraglist_init gives the first skb its own length, tot_len and IP_MF;
// before each fragment goes to ip_finish_output2, the next is prepared
// from it (ip_fraglist_prepare: IPCB flags, the IP header pushed and
// copied, tot_len, ip_copy_metadata, the offset and IP_MF of all but the
// last, ip_send_check), and each gets the original's delivery time.
// Nothing is allocated or copied but the headers. Takes ownership of skb
// when it returns true.
func (s *Stack) ipFragFast(b *skb.Buff, ns *Netns, out *Device, nh netip.Addr, ip ipv4, flags uint16, pmtu int) bool {
	hlen := ip.ihl
	mtu := pmtu - hlen
	llrs := llReservedSpace(out)
	first := b.Pagelen()
	if first-hlen > mtu || (first-hlen)&7 != 0 || ip.isFragment() || b.SkbCloned() || b.Headroom() < llrs {
		return false
	}
	if !s.fragListOwn(b, mtu, hlen+llrs) {
		return false
	}
	// ip_fraglist_init.
	list := b.DetachFragList(s.fragList[:0])
	s.fragList = list
	s.forgetListed(list)
	d := b.Data()
	binary.BigEndian.PutUint16(d[2:4], uint16(first))
	binary.BigEndian.PutUint16(d[6:8], ipMF)
	setIPCsum(d, hlen)
	h := b.H()
	tstamp, tstampType := h.Tstamp, h.TstampType
	offset := 0
	cur := b
	for i, f := range list {
		// ip_fraglist_prepare(cur, iter).
		binary.LittleEndian.PutUint16(f.H().CB[ipcbFlags:], flags)
		f.ResetTransportHeader()
		fd := f.Push(hlen)
		f.ResetNetworkHeader()
		copy(fd[:hlen], cur.Data()[:hlen])
		binary.BigEndian.PutUint16(fd[2:4], uint16(f.Len()))
		skb.IPCopyMetadata(f, cur)
		offset += cur.Len() - hlen
		fo := uint16(offset >> 3)
		if i != len(list)-1 {
			fo |= ipMF
		}
		binary.BigEndian.PutUint16(fd[6:8], fo)
		if i == 0 && hlen > ipHlen {
			ipOptionsFragment(fd[:hlen]) // the first frag_list skb: the others copy its header
		}
		setIPCsum(fd, hlen)
		cur.SetDeliveryTime(tstamp, tstampType)
		list[i] = nil
		s.ipFinishOutput2(cur, ns, out, nh)
		cur = f
	}
	cur.SetDeliveryTime(tstamp, tstampType)
	s.fragList = list[:0]
	s.ipFinishOutput2(cur, ns, out, nh)
	return true
}

// fragListOwn is the frag_list check of ip_do_fragment's and
// ip6_fragment's fast path: every skb on b's frag_list must hold at most
// mtu bytes, a multiple of 8 except the last, have headroom bytes of
// headroom and not be shared; otherwise it returns false and changes
// nothing (slow_path_clean). Then each gets b's socket (sock_wfree) and
// its truesize back from b's.
func (s *Stack) fragListOwn(b *skb.Buff, mtu, headroom int) bool {
	list := b.FragList(s.fragList[:0])
	s.fragList = list
	defer clear(list)
	for i, f := range list {
		if f.Len() > mtu || (f.Len()&7 != 0 && i != len(list)-1) || f.Headroom() < headroom || f.Shared() {
			return false
		}
	}
	sk, _ := b.Sk().(*Socket)
	for _, f := range list {
		if sk != nil {
			f.SetOwner(sk, sk.wfreeFn) // frag->sk = skb->sk; frag->destructor = sock_wfree
		}
		b.AdjustTruesize(-f.Truesize())
	}
	return true
}

// ipFinishOutput2 models ip_finish_output2 -> neigh_output: an skb with
// less headroom than LL_RESERVED_SPACE(dev) gets more (skb_expand_head);
// devices with an Ethernet header get it from the neighbour entry (neigh_hh_output
// copies HH_DATA_ALIGN(14) = 16 bytes in front of data, then pushes 14, so
// two more headroom bytes are written), L3 tunnels get none; then
// dev_queue_xmit. A missing neighbour drops with NEIGH_FAILED (the model
// resolves a veth peer's or bridge neighbour's address like a finished ARP
// exchange). Takes ownership of skb.
func (s *Stack) ipFinishOutput2(b *skb.Buff, ns *Netns, out *Device, nh netip.Addr) {
	if hardHeaderLen(out) == 0 {
		b.ResetMacHeader()
		s.devQueueXmit(b, out)
		return
	}
	var dst [6]byte
	switch {
	case out.kid == kidLoopback:
	case nh == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		dst = broadcastMAC
	default:
		mac, ok := s.neighLookup(ns, out, nh)
		if !ok {
			s.drop(b, skb.DropNeighFailed, OpNeighOutput)
			return
		}
		dst = mac
	}
	if hh := llReservedSpace(out); b.Headroom() < hh {
		if b = s.skbExpandHead(b, hh); b == nil {
			return
		}
	}
	b.Push(16)
	b.Pull(2)
	writeEth(b.Data(), dst, out.mac, b.H().Protocol) // ETH_P_IP or ETH_P_IPV6 (ip6_finish_output2)
	s.traceOp(LayerIP, OpNeighOutput, b)
	s.devQueueXmit(b, out)
}

// skbExpandHead models skb_expand_head(skb, headroom) on an skb with less
// headroom than that: a shared skb, or one not charged to a socket's
// write memory (is_skb_wmem: sock_wfree or tcp_wfree; in the model's
// output paths, any skb with a socket), is first replaced by a clone
// (skb_set_owner_w to the socket, consume_skb on the original); then
// pskb_expand_head by SKB_DATA_ALIGN(headroom - skb_headroom(skb)). On
// failure the skb is dropped (NOMEM) and nil returned. (skb_expand_head
// came with v5.15; before, ip_finish_output2 copied the skb with
// skb_realloc_headroom and ip6_finish_output2 had no check. The model
// expands in every profile.) Takes ownership of
// skb and returns the one to go on with.
func (s *Stack) skbExpandHead(b *skb.Buff, headroom int) *skb.Buff {
	delta := skb.DataAlign(headroom - b.Headroom())
	if sk := b.Sk(); b.Shared() || sk == nil {
		n, err := b.Clone()
		if err != nil {
			s.drop(b, skb.DropNomem, OpNeighOutput)
			return nil
		}
		if so, ok := sk.(*Socket); ok {
			n.SetOwner(so, so.wfreeFn)
		}
		s.consumeSkb(b)
		b = n
	}
	if err := b.ExpandHead(delta, 0); err != nil {
		s.drop(b, skb.DropNomem, OpNeighOutput)
		return nil
	}
	return b
}

// neighLookup models __ipv4_neigh_lookup_noref / __ipv6_neigh_lookup_noref
// on a table that never changes: the device remembers its last answer.
func (s *Stack) neighLookup(ns *Netns, out *Device, nh netip.Addr) ([6]byte, bool) {
	if out.nbCached && out.nbAddr == nh && out.nbNs == ns {
		return out.nbMAC, out.nbOK
	}
	mac, ok := neighResolve(ns, out, nh)
	out.nbCached, out.nbOK, out.nbMAC, out.nbNs, out.nbAddr = true, ok, mac, ns, nh
	return mac, ok
}

// neighValid is the neighbour entry bpf_fib_lookup and
// ndisc_send_redirect read without resolving anything: a configured entry
// answers by its state (NUD_VALID); without one the model takes the
// address as resolved the way neighLookup does (a peer's address, whose
// ARP or ND exchange it assumes done).
func (s *Stack) neighValid(ns *Netns, out *Device, nh netip.Addr) ([6]byte, bool) {
	for _, n := range ns.neigh {
		if n.dev == out && n.addr == nh {
			return n.mac, n.valid
		}
	}
	return s.neighLookup(ns, out, nh)
}

// neighEntry is the configured neighbour entry of nh on out, whatever
// its state (__ipv4_neigh_lookup_noref, __ipv6_neigh_lookup_noref_stub).
func (ns *Netns) neighEntry(out *Device, nh netip.Addr) ([6]byte, bool) {
	for _, n := range ns.neigh {
		if n.dev == out && n.addr == nh {
			return n.mac, true
		}
	}
	return [6]byte{}, false
}

// neighResolve is neighLookup without the cache: the configured
// neighbours of ns in a NUD_VALID state, then a directly attached peer's
// (or a bridge port's peer's) address.
func neighResolve(ns *Netns, out *Device, nh netip.Addr) ([6]byte, bool) {
	for _, n := range ns.neigh {
		if n.dev == out && n.addr == nh {
			if n.valid {
				return n.mac, true
			}
			break // failed or incomplete: resolved anew, as an address without an entry
		}
	}
	// arp_constructor and ndisc_constructor, in their order: the
	// neighbour of a multicast address is NUD_NOARP with the group's
	// Ethernet address (arp_mc_map -> ip_eth_mc_map, ndisc_mc_map), one on
	// an IFF_NOARP device (ifb, dummy, a netkit pair in l3 mode) takes the
	// device's own address, that of an RTN_BROADCAST address the device's
	// broadcast address.
	if nh.Is4() {
		a := nh.As4()
		if a[0]&0xf0 == 0xe0 {
			return [6]byte{0x01, 0x00, 0x5e, a[1] & 0x7f, a[2], a[3]}, true
		}
		if out.noarp {
			return out.mac, true
		}
		if ns.isBcast4(a) {
			return broadcastMAC, true
		}
	} else if nh.IsMulticast() {
		a := nh.As16()
		return [6]byte{0x33, 0x33, a[12], a[13], a[14], a[15]}, true
	} else if out.noarp {
		return out.mac, true
	}
	// A completed ARP exchange with a directly attached peer, or with a
	// macvlan on it.
	if p := out.peer; p != nil {
		if p.hasAddr(nh) {
			return p.mac, true
		}
		if v := p.mvPort.withAddr(nh); v != nil {
			return v.mac, true
		}
	}
	// From a macvlan: the lower device's peer, or a sibling macvlan.
	if low := out.lower; low != nil {
		if p := low.peer; p != nil && p.hasAddr(nh) {
			return p.mac, true
		}
		if v := low.mvPort.withAddr(nh); v != nil && v != out {
			return v.mac, true
		}
	}
	if out.kid == kidBridge {
		for _, port := range out.ports {
			if p := port.peer; p != nil && p.hasAddr(nh) {
				return p.mac, true
			}
		}
	}
	return [6]byte{}, false
}

// packetSnd models packet_snd for a SOCK_RAW packet socket bound to d
// sending Ethernet frame p (EntryPacket): a frame longer than the MTU and
// its link header (a VLAN tag more) is -EMSGSIZE, no skb;
// sock_alloc_send_pskb(LL_RESERVED_SPACE + len), the frame copied in,
// skb->protocol from the Ethernet header and the network header after it
// and after any VLAN tags (packet_parse_headers: dev_parse_header_protocol,
// vlan_get_protocol_and_depth), CHECKSUM_NONE, no
// socket state; then dev_queue_xmit (packet_xmit without
// PACKET_QDISC_BYPASS).
func (s *Stack) packetSnd(d *Device, p *Packet) error {
	f := p.Frame
	if len(f) < ethHlen {
		return s.badFrame(p, "frame shorter than an Ethernet header")
	}
	limit := d.mtu + ethHlen
	if binary.BigEndian.Uint16(f[12:14]) == 0x8100 || binary.BigEndian.Uint16(f[12:14]) == 0x88a8 {
		limit += skb.VlanHlen // packet_extra_vlan_len_allowed
	}
	if len(f) > limit {
		s.dropNoSkb(d, skb.DropPktTooBig, OpPacketSnd)
		return nil
	}
	hh := llReservedSpace(d)
	b, err := s.a.AllocSkb(hh + len(f))
	if err != nil {
		s.dropNoSkb(d, skb.DropNomem, OpPacketSnd)
		return nil
	}
	b.Reserve(hh)
	b.PutData(f)
	b.ResetMacHeader()
	b.H().Protocol = binary.BigEndian.Uint16(f[12:14])
	b.SetNetworkHeader(vlanDepth(f))
	s.traceOp(LayerSocket, OpPacketSnd, b)
	s.devQueueXmit(b, d)
	return nil
}

// vlanDepth models the depth vlan_get_protocol_and_depth returns for an
// Ethernet frame f: past the Ethernet header and every 802.1Q or 802.1ad
// tag f holds whole (up to VLAN_MAX_DEPTH, 8); ETH_HLEN for an untagged
// frame or one whose tags are cut short (packet_parse_headers then leaves
// the network header where it was).
func vlanDepth(f []byte) int {
	et, depth := binary.BigEndian.Uint16(f[12:14]), ethHlen
	if et != skb.EthP8021Q && et != skb.EthP8021AD {
		return ethHlen
	}
	for n := 0; et == skb.EthP8021Q || et == skb.EthP8021AD; n++ {
		if n == 8 || len(f) < depth+skb.VlanHlen {
			return ethHlen
		}
		et = binary.BigEndian.Uint16(f[depth+2 : depth+4])
		depth += skb.VlanHlen
	}
	return depth
}

// devQueueXmit models __dev_queue_xmit: mac header reset, tc egress
// (tcx: drop TC_EGRESS, redirect), the qdisc (blackhole, and noop_qdisc
// on a device that is down or without carrier, drop with QDISC_DROP), validate_xmit_skb (validate_xmit_vlan: a tag the device
// cannot insert goes into the frame; software GSO: skb_segment, each
// segment getting the head's header state and no XDP metadata), then per skb
// dev_queue_xmit_nit (TX taps) and the driver's xmit. The recursion limit
// (XMIT_RECURSION_LIMIT) drops. Takes ownership of skb.
func (s *Stack) devQueueXmit(b *skb.Buff, d *Device) {
	setDev(b, d)
	b.ResetMacHeader()
	b.H().TCAtIngress = false // tcx_set_ingress(skb, false)
	s.traceOp(LayerCore, OpDevQueueXmit, b)
	if s.recursion > maxRecursion {
		s.drop(b, skb.DropNotSpecified, OpDevQueueXmit)
		return
	}
	if len(d.tcEg) != 0 {
		switch s.runTC(b, d, false) {
		case TCXDrop:
			s.drop(b, skb.DropTCEgress, OpTCEgress)
			return
		case TCXRedirect:
			s.recursion++
			s.skbDoRedirect(b)
			s.recursion--
			return
		case TCXStolen: // sch_handle_egress: consume_skb
			s.consumeSkb(b)
			return
		}
	}
	// The qdisc: a blackhole drops every packet, and so does noop_qdisc
	// (noop_enqueue), which a device that is down or without carrier has
	// on its queues (dev_init_scheduler, dev_deactivate; dev_activate
	// waits for carrier).
	if d.blackhole || !d.carrier || !d.up {
		s.drop(b, skb.DropQdiscDrop, OpQdisc)
		return
	}
	// validate_xmit_skb -> validate_xmit_vlan
	if b.H().VlanTagPresent() && !d.vlanTxOffload() {
		if b.VlanHwaccelPushInside() != nil {
			s.drop(b, skb.DropNotSpecified, OpDevQueueXmit) // vlan_insert_tag: dev_kfree_skb_any
			return
		}
	}
	if sh := b.Shinfo(); sh.GSOSize != 0 {
		// netif_needs_gso: !skb_gso_ok(skb, features), which also wants
		// NETIF_F_FRAGLIST for an skb with a frag_list.
		if !d.takesGSO(sh.GSOType) || (!d.fragList && b.HasFragList()) {
			s.gsoSegment(b, d)
			return
		}
	} else if !d.fragList && b.HasFragList() {
		// skb_needs_linearize: a frag_list without NETIF_F_FRAGLIST.
		s.traceOp(LayerCore, OpLinearize, b)
		if b.Linearize() != nil {
			s.drop(b, skb.DropNotSpecified, OpLinearize) // out_kfree_skb
			return
		}
		s.stats.Linearized++
	}
	if d.noTxCsum && b.H().IPSummed == skb.ChecksumPartial {
		s.csumHelp(b) // skb_csum_hwoffload_help
	}
	s.xmitOne(b, d)
}

// vlanTxOffload models vlan_hw_offload_capable(features, vlan_proto) for
// d: NETIF_F_HW_VLAN_CTAG_TX and STAG_TX, which a veth (VETH_FEATURES), a
// netkit device (netkit_setup) and a bridge (br_dev_setup) have, and a NIC
// is taken to have (most
// drivers insert tags in hardware); vxlan, geneve, the IP tunnels, dummy
// and loopback have neither, so validate_xmit_vlan puts the tag into the
// frame (__vlan_hwaccel_push_inside) before the taps and the driver.
func (d *Device) vlanTxOffload() bool {
	return d.kid == kidVeth || d.kid == kidBridge || d.kid == kidNIC || d.kid == kidNetkit
}

// takesGSO models net_gso_ok(dev->features, gso_type): d has every GSO
// offload unless SoftwareGSO, fraglist GSO only with NETIF_F_GSO_FRAGLIST,
// and the tunnel types unless TunnelTSO is off.
func (d *Device) takesGSO(gsoType uint32) bool {
	return !d.softGSO && (gsoType&skb.GSOFraglist == 0 || d.gsoFraglist) &&
		(gsoType&skb.GSOEncapAll == 0 || !d.noTunnelTSO)
}

// xmitOne models xmit_one: TX taps then ndo_start_xmit.
func (s *Stack) xmitOne(b *skb.Buff, d *Device) {
	if len(d.txTaps) != 0 {
		s.devQueueXmitNit(b, d)
	}
	s.devXmitRaw(b, d)
}

// devXmitRaw models the driver's ndo_start_xmit. Takes ownership of skb.
func (s *Stack) devXmitRaw(b *skb.Buff, d *Device) {
	s.recursion++
	switch d.kid {
	case kidVeth:
		s.vethXmit(b, d)
	case kidNIC, kidDummy:
		s.traceOp(LayerDev, OpNICXmit, b)
		s.consume(b, DeliverXmit, d.cfg)
	case kidLoopback:
		// loopback_xmit: skb_clear_tstamp (a realtime stamp is cleared, a
		// delivery time kept), skb_orphan, eth_type_trans, __netif_rx.
		b.ClearTstamp()
		b.Orphan()
		s.traceOp(LayerDev, OpLoopbackXmit, b)
		if s.ethTypeTrans(b, d) {
			s.netifRx(b)
		} else {
			s.drop(b, skb.DropPktTooSmall, OpLoopbackXmit)
		}
	case kidBridge:
		s.brDevXmit(b, d)
	case kidMacvlan:
		s.macvlanXmit(b, d)
	case kidIFB:
		s.ifbXmit(b, d)
	case kidNetkit:
		s.netkitXmit(b, d)
	default:
		s.tunnelXmit(b, d)
	}
	s.recursion--
}

// vethXmit models veth_xmit -> veth_forward_skb -> __dev_forward_skb on
// the peer (scrub, priority 0, eth_type_trans), then the peer's receive
// (native XDP through its NAPI, or __netif_rx). A peer that is down
// refuses the frame in ____dev_forward_skb (kfree_skb: NOT_SPECIFIED);
// only a generic XDP redirect, which skips the qdisc of a device without
// carrier, gets there.
func (s *Stack) vethXmit(b *skb.Buff, d *Device) {
	p := d.peer
	s.traceOp(LayerDev, OpVethXmit, b)
	eligible := vethGROEligible(b, d, p) // veth_xmit: before veth_forward_skb
	if !s.devForwardSkb(b, p) {
		return
	}
	if !s.ethTypeTrans(b, p) {
		s.drop(b, skb.DropPktTooSmall, OpVethXmit)
		return
	}
	s.vethRx(b, p, eligible)
}

// gsoSegment models validate_xmit_skb -> skb_gso_segment for a GSO skb
// that d cannot send as it is: the segments (skbGSOSegment with d's
// features: net_gso_ok when d takes the skb's GSO type and only lacks
// NETIF_F_FRAGLIST) replace it, the GSO skb is consumed, and each segment
// goes through xmit_one. Takes ownership of skb.
func (s *Stack) gsoSegment(b *skb.Buff, d *Device) {
	s.traceOp(LayerCore, OpGSOSegment, b)
	var feat skb.SegFeatures
	if d.takesGSO(b.Shinfo().GSOType) {
		feat = skb.SegNetGSOOK
	}
	start, ok := s.skbGSOSegment(b, feat)
	if !ok {
		s.drop(b, skb.DropSkbGSOSeg, OpGSOSegment)
		return
	}
	s.consumeSkb(b) // validate_xmit_skb: consume_skb(skb) once segmented
	for i := start; i < len(s.segs); i++ {
		g := s.segs[i]
		s.segs[i] = nil
		setDev(g, d)
		if d.noTxCsum && g.H().IPSummed == skb.ChecksumPartial {
			s.csumHelp(g) // skb_csum_hwoffload_help
		}
		s.xmitOne(g, d)
	}
	s.segs = s.segs[:start]
}

// segmentList models __udp_gso_segment_list (udp) or
// __tcp4_gso_segment_list / __tcp6_gso_segment_list for the fraglist GSO
// skb b
// (data at its mac header, l2 bytes before the network header): the
// segments of skb_segment_list (b first, with one more reference that the
// caller's consume_skb drops; then the skbs GRO chained, each with b's
// header state and mac header and its own IP and UDP headers), whose IP
// headers inet_gso_segment / ipv6_gso_segment then fix: tot_len, the
// identification counted on from b's, and the checksum, or payload_len.
// __udpv4_gso_segment_list_csum's rewrite of addresses and ports that
// differ from b's (after NAT of the GSO skb) is not modelled: nothing in
// the model rewrites them. The segments are appended to s.segs from the
// index returned.
func (s *Stack) segmentList(b *skb.Buff, l2, l4off int, v6 bool, ip ipv4, udp bool, idStep uint16) (int, bool) {
	start := len(s.segs)
	segs, err := b.SegmentList(l2, s.segs)
	s.segs = segs
	if err != nil {
		return 0, false
	}
	s.stats.GSOSegmentList++
	s.forgetListed(s.segs[start+1:])
	for i, g := range s.segs[start:] {
		gsoFixIP(g, l2, v6, ip, ip.id+idStep*uint16(i))
		// __udp_gso_segment_list: the first segment's UDP length is one
		// segment's again; the others kept their own. A TCP segment keeps
		// its own header (__tcp4_gso_segment_list).
		if udp {
			binary.BigEndian.PutUint16(g.Data()[l4off+4:l4off+6], uint16(g.Len()-l4off))
		}
		g.SetNetworkHeader(l2)
		g.SetTransportHeader(l4off)
	}
	return start, true
}

// segmentAfter models skb_segment with features feat for GSO skb b whose
// headers end hdrEnd bytes after its data (the mac header): the headers
// are pulled, the payload cut (SegmentFeatures), and the segments appended
// to s.segs from the index returned. On failure b is as it was.
func (s *Stack) segmentAfter(b *skb.Buff, hdrEnd int, feat skb.SegFeatures) (int, bool) {
	if _, ok := b.Pull(hdrEnd); !ok {
		return 0, false
	}
	start := len(s.segs)
	segs, err := b.SegmentFeatures(0, feat, s.segs)
	s.segs = segs
	if err != nil {
		b.Push(hdrEnd)
		s.segs = s.segs[:start]
		return 0, false
	}
	return start, true
}

// segmentTunnel models __skb_gso_segment for an encapsulated TCP or UDP GSO skb
// b (skb->encapsulation with SKB_GSO_UDP_TUNNEL(_CSUM), as GRO builds
// from a UDP tunnel's packets; data at its mac header, l2 bytes before
// the outer network header): inet_gso_segment / ipv6_gso_segment on the
// outer header, skb_udp_tunnel_segment, then the inner network header's
// gso_segment and tcp4_gso_segment / tcp6_gso_segment through
// skb_segment, which replicates every header up to the inner TCP
// header's end in each segment. Each segment then gets its inner IPv4
// tot_len, identification and checksum (or IPv6 payload_len), its inner
// TCP sequence number and flags (FIN and PSH only on the last, CWR only
// on the first unless SKB_GSO_TCP_ACCECN), its outer UDP length, and its
// outer IPv4 tot_len, identification and
// checksum (or IPv6 payload_len). Inner identifications count up unless
// the skb is SKB_GSO_TCP_FIXEDID_INNER (before v6.18: SKB_GSO_TCP_FIXEDID);
// outer ones count up unless it is SKB_GSO_TCP_FIXEDID from v6.18 (before,
// GSO takes outer identifications as incrementing: "net: gso: restore ids
// of outer ip headers correctly"). An inner UDP GSO skb (SKB_GSO_UDP_L4)
// is cut by __udp_gso_segment instead: each segment's inner UDP length is
// its own. With SegNetGSOOK (a device with the tunnel GSO type in its
// hw_enc_features but without NETIF_F_FRAGLIST) skb_segment may split a
// frag_list skb along its list into GSO skbs, whose sequence numbers and
// identifications step by their gso_segs. A CHECKSUM_PARTIAL segment's
// inner TCP or UDP check gets the pseudo-header sum of its own length
// (gsoSegCsum), and with SKB_GSO_UDP_TUNNEL_CSUM its outer UDP checksum
// is computed (tunnelSegOuterCsum). Other inner protocols return false.
func (s *Stack) segmentTunnel(b *skb.Buff, l2 int, feat skb.SegFeatures) (int, bool) {
	data := b.Data()

	hr := b.Headroom()
	_, inNet, inTr := b.InnerHeaders()
	inNet, inTr = inNet-hr, inTr-hr
	if inNet <= l2 || inTr <= inNet || len(data) < inTr+udpHlen {
		return 0, false
	}
	outer, ok := gsoParseIP(data[l2:], b.H().Protocol)
	if !ok {
		return 0, false
	}
	inProto := uint16(ethPIP)
	if data[inNet]>>4 == 6 {
		inProto = ethPIPv6
	}
	inner, ok := gsoParseIP(data[inNet:], inProto)
	gt := b.Shinfo().GSOType
	mss := int(b.Shinfo().GSOSize)
	udp := ok && inner.proto == ipprotoUDP && gt&skb.GSOUDPL4 != 0
	if !ok || (inner.proto != ipprotoTCP && !udp) {
		return 0, false
	}
	var (
		hdrEnd = inTr + udpHlen
		seq    uint32
		flags  uint8
	)
	if udp {
		if b.Len() <= hdrEnd+mss { // __udp_gso_segment: -EINVAL
			return 0, false
		}
	} else {
		if len(data) < inTr+20 {
			return 0, false
		}
		hdrEnd = inTr + int(data[inTr+12]>>4)*4
		seq = binary.BigEndian.Uint32(data[inTr+4 : inTr+8])
		flags = data[inTr+13]
	}
	innerStep, outerStep := uint16(1), uint16(1)
	if s.prof.GROOuterIPID {
		if gt&skb.GSOTCPFixedIDInner != 0 {
			innerStep = 0
		}
		if gt&skb.GSOTCPFixedID != 0 {
			outerStep = 0
		}
	} else if gt&skb.GSOTCPFixedID != 0 {
		innerStep = 0
	}
	if udp {
		innerStep = 1 // the fixed-ID types are TCP's
	}
	var oip, iip ipv4
	oip.id, oip.ihl = outer.ipID, outer.ihl
	iip.id, iip.ihl = inner.ipID, inner.ihl
	start, ok := s.segmentAfter(b, hdrEnd, feat)
	if !ok {
		return 0, false
	}
	s.gsoCopyDtor(b, start)
	n := len(s.segs) - start
	// Segments that are GSO skbs (split along the frag_list) carry
	// gso_segs pieces: sequence numbers and identifications step by as
	// many (tcp_gso_segment, inet_gso_segment).
	step := mss
	if sh := s.segs[start].Shinfo(); sh.GSOSize != 0 {
		step *= int(sh.GSOSegs)
	}
	innerID, outerID := iip.id, oip.id
	for i := 0; i < n; i++ {
		g := s.segs[start+i]
		pieces := uint16(1)
		if sh := g.Shinfo(); sh.GSOSize != 0 {
			pieces = sh.GSOSegs
		}
		gsoFixIP(g, inNet, inner.v6, iip, innerID)
		innerID += innerStep * pieces
		th := g.Data()[inTr:]
		switch {
		case udp:
			binary.BigEndian.PutUint16(th[4:6], uint16(g.Len()-inTr)) // __udp_gso_segment: each segment's uh->len
		default:
			binary.BigEndian.PutUint32(th[4:8], seq+uint32(i*step))
			if i != n-1 {
				th[13] = flags &^ (tcpFIN | tcpPSH)
			}
			if i != 0 && gt&skb.GSOTCPAccECN == 0 {
				th[13] &^= tcpCWR
			}
		}
		gsoSegCsum(g, inNet, inTr, inner.proto)
		if outer.proto == ipprotoUDP {
			binary.BigEndian.PutUint16(g.Data()[l2+outer.ihl+4:], uint16(g.Len()-l2-outer.ihl))
			if gt&skb.GSOUDPTunnelCsum != 0 {
				tunnelSegOuterCsum(g, l2, l2+outer.ihl, inTr, inner.proto)
			}
		}
		gsoFixIP(g, l2, outer.v6, oip, outerID)
		outerID += outerStep * pieces
		g.SetNetworkHeader(l2)
		g.SetTransportHeader(l2 + outer.ihl)
	}
	return start, true
}

// gsoCopyDtor models __udp_gso_segment's copy_dtor (sock_wfree) and
// tcp_gso_segment's copy_destructor (tcp_wfree) for a socket's GSO skb b
// cut into the segments from start: every segment gets the socket and the
// destructor and is charged its truesize, and b's own charge is returned
// (sum_truesize - gso_skb->truesize added to sk_wmem_alloc; b keeps its
// socket without the destructor, which UDP cleared before skb_segment and
// TCP swapped with the last segment's).
func (s *Stack) gsoCopyDtor(b *skb.Buff, start int) {
	sk, ok := b.Sk().(*Socket)
	if !ok {
		return
	}
	b.SetOwner(sk, nil) // sock_wfree(gso_skb) now, the socket kept
	for _, g := range s.segs[start:] {
		g.SetOwner(sk, sk.wfreeFn)
		sk.wmem += g.Truesize()
	}
}

// gsoParseIP models the header parsing of inet_gso_segment and
// ipv6_gso_segment for the network header at the start of data (etype its
// Ethernet type): an IPv4 header of ihl * 4 bytes, options included, or an
// IPv6 header and the extension headers ipv6_gso_pull_exthdrs skips
// (hop-by-hop, routing, destination options). It gives the header's
// length (with the extension headers), the next protocol and the IPv4
// identification; false for anything else.
func gsoParseIP(data []byte, etype uint16) (h groIP, ok bool) {
	switch etype {
	case ethPIP:
		ip, ok := parseIPv4(data)
		if !ok || len(data) < ip.ihl {
			return h, false
		}
		h.ihl, h.proto, h.ipID = ip.ihl, ip.proto, ip.id
		return h, true
	case ethPIPv6:
		if len(data) < ip6Hlen || data[0]>>4 != 6 {
			return h, false
		}
		next, off, ok := ip6L4(data)
		if !ok {
			return h, false
		}
		h.ihl, h.proto, h.v6 = off, next, true
		return h, true
	}
	return h, false
}

// gsoFixIP is the per-segment loop of inet_gso_segment / ipv6_gso_segment
// for segment g (data at its mac header, l2 bytes before the network
// header): IPv4 tot_len, identification id and header checksum, or the IPv6
// payload_len.
func gsoFixIP(g *skb.Buff, l2 int, v6 bool, ip ipv4, id uint16) {
	ipb := g.Data()[l2:]
	if v6 {
		binary.BigEndian.PutUint16(ipb[4:6], uint16(g.Len()-l2-ip6Hlen))
		return
	}
	binary.BigEndian.PutUint16(ipb[2:4], uint16(g.Len()-l2))
	binary.BigEndian.PutUint16(ipb[4:6], id)
	setIPCsum(ipb, ip.ihl)
}

// skbGSOSegment models __skb_gso_segment -> skb_mac_gso_segment for the
// GSO skb b, whose data is at its mac header (mac_len bytes before the
// network header): inet_gso_segment or ipv6_gso_segment, then
// tcp4_gso_segment / tcp6_gso_segment or __udp_gso_segment, then
// skb_segment. Every segment is a new skb with the GSO skb's header
// state (__copy_skb_header: mark, priority, cb, hash, tstamp, extensions
// shared) and no XDP metadata; each gets its IPv4 tot_len, id and checksum
// or its IPv6 payload_len, and its UDP length or TCP sequence number and
// flags (FIN and PSH only on the last, CWR only on the first unless
// SKB_GSO_TCP_ACCECN). The segments are appended to s.segs from the index
// returned, with data at their mac header. Returns
// false, with b untouched, when b's headers cannot be segmented
// (__udp_gso_segment's gso_skb->len <= sizeof(*uh) + mss is -EINVAL) or
// an allocation fails; the caller frees b. Does not take ownership of b.
func (s *Stack) skbGSOSegment(b *skb.Buff, feat skb.SegFeatures) (start int, ok bool) {
	if start, ok = s.segmentGSO(b, feat); ok {
		s.stats.GSOSegmented++
		s.stats.GSOSegments += uint64(len(s.segs) - start)
	}
	return start, ok
}

// segmentGSO is skbGSOSegment without the counting.
func (s *Stack) segmentGSO(b *skb.Buff, feat skb.SegFeatures) (start int, ok bool) {
	data := b.Data()
	l2 := b.NetworkOffset()
	if l2 < 0 || len(data) < l2+ipHlen {
		return 0, false
	}
	if b.H().Encapsulation && b.Shinfo().GSOType&skb.GSOEncapAll != 0 {
		return s.segmentTunnel(b, l2, feat)
	}
	var (
		ip     ipv4
		l4off  int
		proto  uint8
		v6     bool
		nh     = data[l2:]
		hdrEnd int
	)
	switch b.H().Protocol {
	case ethPIP:
		if ip, ok = parseIPv4(nh); !ok {
			return 0, false
		}
		l4off, proto = l2+ip.ihl, ip.proto
	case ethPIPv6:
		if len(nh) < ip6Hlen {
			return 0, false
		}
		next, off, ok := ip6L4(nh)
		if !ok {
			return 0, false
		}
		l4off, proto, v6 = l2+off, next, true
	default:
		return 0, false
	}
	mss := int(b.Shinfo().GSOSize)
	tcp := proto == ipprotoTCP
	// inet_gso_segment: SKB_GSO_TCP_FIXEDID keeps every segment's
	// identification; otherwise they count up from the GSO skb's.
	idStep := uint16(1)
	if b.Shinfo().GSOType&skb.GSOTCPFixedID != 0 {
		idStep = 0
	}
	var seq uint32
	var flags uint8
	accECN := b.Shinfo().GSOType&skb.GSOTCPAccECN != 0
	switch {
	case tcp:
		if len(data) < l4off+20 {
			return 0, false
		}
		hdrEnd = l4off + int(data[l4off+12]>>4)*4
		seq = binary.BigEndian.Uint32(data[l4off+4 : l4off+8])
		flags = data[l4off+13]
		// tcp4_gso_segment / tcp6_gso_segment: a fraglist skb whose own
		// bytes are still one segment (not SKB_GSO_DODGY) goes to
		// __tcp4_gso_segment_list; otherwise skb_segment cuts it, walking
		// the frag_list.
		if sh := b.Shinfo(); sh.GSOType&skb.GSOFraglist != 0 && sh.GSOType&skb.GSODodgy == 0 &&
			b.HasFragList() && b.Pagelen()-hdrEnd == mss {
			return s.segmentList(b, l2, l4off, v6, ip, false, idStep)
		}
	case proto == ipprotoUDP:
		hdrEnd = l4off + udpHlen
		if b.Len() <= hdrEnd+mss { // __udp_gso_segment: -EINVAL
			return 0, false
		}
		// __udp_gso_segment: a fraglist skb whose own bytes are still one
		// segment (not SKB_GSO_DODGY) goes to __udp_gso_segment_list;
		// otherwise it is linearized (__skb_linearize) and cut by
		// skb_segment.
		if sh := b.Shinfo(); sh.GSOType&skb.GSOFraglist != 0 {
			if sh.GSOType&skb.GSODodgy == 0 && b.HasFragList() && b.Pagelen()-hdrEnd == mss {
				return s.segmentList(b, l2, l4off, v6, ip, true, idStep)
			}
			if b.Linearize() != nil {
				return 0, false
			}
		}
	default:
		return 0, false
	}
	if start, ok = s.segmentAfter(b, hdrEnd, feat); !ok {
		return 0, false
	}
	s.gsoCopyDtor(b, start)
	n := len(s.segs) - start
	// tcp_gso_segment / __udp_gso_segment: segments that are GSO skbs
	// (skb_segment split the frag_list along its skbs) carry gso_segs
	// pieces each, so the sequence numbers step by that many; so do the
	// identifications (inet_gso_segment: id += gso_segs).
	step := mss
	if sh := s.segs[start].Shinfo(); sh.GSOSize != 0 {
		step *= int(sh.GSOSegs)
	}
	id := ip.id
	for i := 0; i < n; i++ {
		g := s.segs[start+i]
		gsoFixIP(g, l2, v6, ip, id)
		if sh := g.Shinfo(); sh.GSOSize != 0 {
			id += idStep * sh.GSOSegs
		} else {
			id += idStep
		}
		l4 := g.Data()[l4off:]
		if tcp {
			binary.BigEndian.PutUint32(l4[4:8], seq+uint32(i*step))
			if i != n-1 {
				l4[13] = flags &^ (tcpFIN | tcpPSH)
			}
			if i != 0 && !accECN {
				l4[13] &^= tcpCWR // tcp_gso_segment: th->cwr &= ecn_cwr_mask after the first
			}
		} else {
			binary.BigEndian.PutUint16(l4[4:6], uint16(g.Len()-l4off))
		}
		proto := uint8(ipprotoUDP)
		if tcp {
			proto = ipprotoTCP
		}
		gsoSegCsum(g, l2, l4off, proto)
		g.SetNetworkHeader(l2)
		g.SetTransportHeader(l4off)
	}
	return start, true
}

// cgroupEgress models BPF_CGROUP_RUN_PROG_INET_EGRESS(sk, skb) in
// ip_finish_output and ip6_finish_output: for the sending socket's own
// skbs (skb->sk == sk), the cgroup_skb egress programs of its cgroup and
// the cgroups above; a refusal frees the skb
// (kfree_skb_reason(skb, SKB_DROP_REASON_BPF_CGROUP_EGRESS)) and returns
// false.
func (s *Stack) cgroupEgress(b *skb.Buff, sk *Socket) bool {
	if sk == nil || b.Sk() != any(sk) || len(s.cgroupEg) == 0 {
		return true
	}
	for _, pi := range s.cgroupEg {
		if !cgroupMatch(s.progs[pi].cgroup, sk.cgroup) {
			continue
		}
		if s.runSkProg(pi, carrier.HookCgroupEgress, b, sk)&1 == 0 {
			s.drop(b, skb.DropBPFCgroupEgress, OpCgroupEgress)
			return false
		}
	}
	return true
}
