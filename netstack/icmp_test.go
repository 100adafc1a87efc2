package netstack

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/skb"
)

// icmpSeen is an ICMP message a tc egress program saw leave eth0.
type icmpSeen struct {
	typ, code uint8
	src, dst  string
	len       int
	mark      uint32
	rest      uint32 // the header's second word (un.gateway)
	tos       uint8
	df        bool
}

// icmpTopology is fibTopology with 192.0.2.9 (the senders) a neighbour
// of eth0, a tc ingress program setting mark 77 on eth0 and a tc egress
// one there noting the ICMP messages that leave.
func icmpTopology(replies bool, seen *[]icmpSeen) *Config {
	cfg := fibTopology(true,
		ProgramConfig{Name: "mark", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
			c.SetMark(77)
			return TCXNext
		})},
		ProgramConfig{Name: "out", Hook: carrier.HookTCEgress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
			d := c.Skb.Data()[ethHlen:]
			if d[9] == ipprotoICMP {
				ip, _ := parseIPv4(d)
				*seen = append(*seen, icmpSeen{typ: d[ipHlen], code: d[ipHlen+1], src: ip.src.String(), dst: ip.dst.String(),
					len: c.Skb.Len() - ethHlen, mark: c.Skb.H().Mark, rest: binary.BigEndian.Uint32(d[ipHlen+4:]), tos: ip.tos,
					df: ip.fragOff&ipDF != 0})
			}
			return TCXNext
		})})
	cfg.Neighbours = append(cfg.Neighbours, NeighConfig{Dev: "eth0", Addr: addr("192.0.2.9"), MAC: macB})
	cfg.Options.Replies = replies
	return cfg
}

// icmpFrame is an IPv4 frame from 192.0.2.9 to dst carrying ICMP message
// msg (its checksum computed unless bad).
func icmpFrame(dst string, ttl uint8, msg []byte, bad bool) []byte {
	f := make([]byte, ethHlen+ipHlen+len(msg))
	writeEth(f, macNIC, macB, ethPIP)
	writeIPv4(f[ethHlen:], 0, ipHlen+len(msg), 1, false, ttl, ipprotoICMP, addr("192.0.2.9"), addr(dst))
	m := f[ethHlen+ipHlen:]
	copy(m, msg)
	if len(m) >= 4 {
		binary.BigEndian.PutUint16(m[2:], 0)
		c := ^csumFold(csumAdd(0, m))
		if bad {
			c ^= 0x5555
		}
		binary.BigEndian.PutUint16(m[2:], c)
	}
	return f
}

// quoteOf is an ICMP error of type typ quoting the first n bytes of a
// UDP datagram (IHL ihl words) from 192.0.2.1 to 192.0.2.9.
func quoteOf(typ, code uint8, ihl uint8, n int) []byte {
	q := buildFrame(frameOpts{src: "192.0.2.1", dst: "192.0.2.9", sport: 9, dport: 9, payload: 40, noEth: true})
	q[0] = 0x40 | ihl
	return append([]byte{typ, code, 0, 0, 0, 0, 0, 0}, q[:n]...)
}

// TestICMPRcv: what icmp_rcv does with a message for the host
// (TestKernelICMPRcv measures the same messages on 6.18).
func TestICMPRcv(t *testing.T) {
	echo := append([]byte{icmpEcho, 0, 0, 0, 0x12, 0x34, 0, 1}, make([]byte, 32)...)
	for _, tc := range []struct {
		name string
		dst  string
		msg  []byte
		bad  bool
		want []string // drop reasons; none: consumed
	}{
		{"echo request", "192.0.2.1", echo, false, nil},
		{"echo request, bad checksum", "192.0.2.1", echo, true, []string{"SKB_DROP_REASON_ICMP_CSUM@icmp_rcv"}},
		{"echo reply", "192.0.2.1", append([]byte{icmpEchoReply}, echo[1:]...), false, []string{"SKB_DROP_REASON_NO_SOCKET@icmp_rcv"}},
		{"echo request to the broadcast", "192.0.2.255", echo, false, []string{"SKB_DROP_REASON_INVALID_PROTO@icmp_rcv"}},
		{"address mask request to the broadcast", "192.0.2.255", append([]byte{icmpAddress}, echo[1:12]...), false, nil},
		{"type 19", "192.0.2.1", append([]byte{19}, echo[1:]...), false, []string{"SKB_DROP_REASON_UNHANDLED_PROTO@icmp_rcv"}},
		{"extended echo", "192.0.2.1", append([]byte{icmpExtEcho}, echo[1:]...), false, nil},
		{"4 bytes", "192.0.2.1", []byte{icmpEcho, 0, 0, 0}, false, []string{"SKB_DROP_REASON_NOT_SPECIFIED@icmp_rcv"}},
		{"port unreachable", "192.0.2.1", quoteOf(icmpDestUnreach, icmpPortUnreach, 5, 28), false, nil},
		{"port unreachable, quote of 10 bytes", "192.0.2.1", quoteOf(icmpDestUnreach, icmpPortUnreach, 5, 10), false, []string{"SKB_DROP_REASON_NOT_SPECIFIED@icmp_rcv"}},
		{"port unreachable, IHL 4", "192.0.2.1", quoteOf(icmpDestUnreach, icmpPortUnreach, 4, 28), false, []string{"SKB_DROP_REASON_IP_INHDR@icmp_rcv"}},
		{"port unreachable, no transport header", "192.0.2.1", quoteOf(icmpDestUnreach, icmpPortUnreach, 5, 20), false, nil},
		{"unreachable code 16, no transport header", "192.0.2.1", quoteOf(icmpDestUnreach, 16, 5, 20), false, nil},
		{"fragment reassembly time exceeded, no transport header", "192.0.2.1", quoteOf(icmpTimeExceeded, icmpExcFragtime, 5, 20), false, nil},
		{"TTL exceeded, no transport header", "192.0.2.1", quoteOf(icmpTimeExceeded, icmpExcTTL, 5, 20), false, nil},
		{"redirect, quote of 10 bytes", "192.0.2.1", quoteOf(icmpRedirect, 1, 5, 10), false, []string{"SKB_DROP_REASON_PKT_TOO_SMALL@icmp_rcv"}},
		{"redirect", "192.0.2.1", quoteOf(icmpRedirect, 1, 5, 28), false, nil},
		{"redirect, no transport header", "192.0.2.1", quoteOf(icmpRedirect, 1, 5, 20), false, nil},
		{"timestamp request", "192.0.2.1", make([]byte, 20), false, nil},
		{"timestamp request, 10 bytes", "192.0.2.1", append([]byte{icmpTimestamp}, make([]byte, 9)...), false, []string{"SKB_DROP_REASON_PKT_TOO_SMALL@icmp_rcv"}},
		{"timestamp reply", "192.0.2.1", append([]byte{icmpTimestampReply}, make([]byte, 19)...), false, nil},
	} {
		if tc.name == "timestamp request" {
			tc.msg[0] = icmpTimestamp
		}
		t.Run(tc.name, func(t *testing.T) {
			for _, replies := range []bool{false, true} {
				var seen []icmpSeen
				cfg := icmpTopology(replies, &seen)
				cfg.Devices[0].RxChecksum = "off" // CHECKSUM_NONE: icmp_rcv sums the message
				s, te := newStack(t, cfg, "", nil, nil)
				require.NoError(t, s.Inject(&Packet{ID: 1, Frame: icmpFrame(tc.dst, 64, tc.msg, tc.bad)}))
				s.Flush()
				assert.Equal(t, tc.want, te.obs.dropReasons(), "replies %v", replies)
			}
		})
	}
}

// TestICMPReplies: the echo and timestamp replies icmp_reply sends, with
// Options.Replies only.
func TestICMPReplies(t *testing.T) {
	echo := append([]byte{icmpEcho, 0, 0, 0, 0x12, 0x34, 0, 1}, make([]byte, 1000)...)
	ts := make([]byte, 20)
	ts[0] = icmpTimestamp
	for _, replies := range []bool{false, true} {
		var seen []icmpSeen
		s, _ := newStack(t, icmpTopology(replies, &seen), "", nil, nil)
		for i := range 10 {
			require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Frame: icmpFrame("192.0.2.1", 64, echo, false)}))
		}
		require.NoError(t, s.Inject(&Packet{ID: 11, Tstamp: 3_600_000_000_123, Frame: icmpFrame("192.0.2.1", 64, ts, false)}))
		s.Flush()
		if !replies {
			assert.Empty(t, seen)
			continue
		}
		require.Len(t, seen, 11, "echo replies are not rate limited")
		assert.Equal(t, icmpSeen{typ: icmpEchoReply, src: "192.0.2.1", dst: "192.0.2.9", len: ipHlen + len(echo), rest: 0x12340001}, seen[0])
		assert.Equal(t, icmpSeen{typ: icmpTimestampReply, src: "192.0.2.1", dst: "192.0.2.9", len: ipHlen + 20}, seen[10])
	}
}

// TestICMPErrors: the errors icmp_send and ip_error send and their rate
// limits (TestKernelICMPErrors measures the same bursts on 6.18).
func TestICMPErrors(t *testing.T) {
	udp := func(dst string, ttl uint8, df bool, payload int) []byte {
		f := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: dst, sport: 1000, dport: 9999, payload: payload, ttl: ttl})
		if df {
			f[ethHlen+6] |= 0x40
			setIPCsum(f[ethHlen:], ipHlen)
		}
		return f
	}
	for _, tc := range []struct {
		name      string
		frame     []byte
		n         int
		typ, code uint8
		src       string
		want      int // errors sent for n packets at once
		rest      uint32
		limit     int // NamespaceConfig.ICMPRatelimit
		len       int
	}{
		{"port unreachable", udp("192.0.2.1", 64, false, 100), 10, icmpDestUnreach, icmpPortUnreach, "192.0.2.1", 6, 0, 0, 20 + 8 + 128},
		{"port unreachable, no limit", udp("192.0.2.1", 64, false, 100), 10, icmpDestUnreach, icmpPortUnreach, "192.0.2.1", 10, 0, -1, 20 + 8 + 128},
		{"port unreachable, 100 ms", udp("192.0.2.1", 64, false, 100), 10, icmpDestUnreach, icmpPortUnreach, "192.0.2.1", 6, 0, 100, 20 + 8 + 128},
		{"port unreachable, quote cut at 576 bytes", udp("192.0.2.1", 64, false, 1000), 1, icmpDestUnreach, icmpPortUnreach, "192.0.2.1", 1, 0, 0, 576},
		{"time exceeded", udp("10.1.0.2", 1, false, 100), 10, icmpTimeExceeded, icmpExcTTL, "192.0.2.1", 6, 0, 0, 20 + 8 + 128},
		{"fragmentation needed", udp("10.1.0.2", 64, true, 1400), 10, icmpDestUnreach, icmpFragNeeded, "192.0.2.1", 10, 1400, 0, 576},
		{"no route", udp("203.0.113.1", 64, false, 100), 10, icmpDestUnreach, icmpNetUnreach, "192.0.2.1", 2, 0, 0, 20 + 8 + 128},
		{"no route, no limit", udp("203.0.113.1", 64, false, 100), 10, icmpDestUnreach, icmpNetUnreach, "192.0.2.1", 5, 0, -1, 20 + 8 + 128},
		{"unreachable route", udp("10.6.0.1", 64, false, 100), 10, icmpDestUnreach, icmpHostUnreach, "192.0.2.1", 2, 0, 0, 20 + 8 + 128},
		{"prohibit route", udp("10.5.0.1", 64, false, 100), 10, icmpDestUnreach, icmpPktFiltered, "192.0.2.1", 2, 0, 0, 20 + 8 + 128},
		{"blackhole route", udp("10.7.0.1", 64, false, 100), 10, 0, 0, "", 0, 0, 0, 0},
		{"unknown protocol", func() []byte {
			f := udp("192.0.2.1", 64, false, 100)
			f[ethHlen+9] = 253
			setIPCsum(f[ethHlen:], ipHlen)
			return f
		}(), 10, icmpDestUnreach, icmpProtUnreach, "192.0.2.1", 6, 0, 0, 20 + 8 + 128},
		{"to the broadcast", udp("192.0.2.255", 64, false, 100), 3, 0, 0, "", 0, 0, 0, 0},
		{"later fragment", func() []byte {
			f := udp("10.1.0.2", 1, false, 100)
			binary.BigEndian.PutUint16(f[ethHlen+6:], 0x2000|10)
			setIPCsum(f[ethHlen:], ipHlen)
			return f
		}(), 3, 0, 0, "", 0, 0, 0, 0},
		{"an ICMP error", icmpFrame("10.1.0.2", 1, quoteOf(icmpDestUnreach, icmpPortUnreach, 5, 28), false), 3, 0, 0, "", 0, 0, 0, 0},
		{"an echo request", icmpFrame("10.1.0.2", 1, []byte{icmpEcho, 0, 0, 0, 0, 1, 0, 1}, false), 3, icmpTimeExceeded, icmpExcTTL, "192.0.2.1", 3, 0, 0, 20 + 8 + 28},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var seen []icmpSeen
			cfg := icmpTopology(true, &seen)
			cfg.Namespaces[0].ICMPRatelimit = tc.limit
			s, te := newStack(t, cfg, "", nil, nil)
			for i := range tc.n {
				require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Tstamp: 1e15, Frame: tc.frame}))
			}
			s.Flush()
			require.Len(t, seen, tc.want)
			for _, e := range seen {
				assert.Equal(t, icmpSeen{typ: tc.typ, code: tc.code, src: tc.src, dst: "192.0.2.9", len: tc.len, rest: tc.rest, tos: 0xc0}, e)
			}
			assert.Len(t, te.obs.drops, tc.n, "each packet is still dropped")
		})
	}
}

// TestICMPRateRefill: tokens come back with the capture's time: one per
// jiffy, a message's worth a second (icmp_ratelimit), up to six.
func TestICMPRateRefill(t *testing.T) {
	var seen []icmpSeen
	s, _ := newStack(t, icmpTopology(true, &seen), "", nil, nil)
	f := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "192.0.2.1", sport: 1000, dport: 9999, payload: 10})
	sent := func(at int64, n int) int {
		before := len(seen)
		for range n {
			require.NoError(t, s.Inject(&Packet{ID: 1, Tstamp: at, Frame: f}))
		}
		return len(seen) - before
	}
	const sec = int64(1e9)
	assert.Equal(t, 6, sent(100*sec, 10), "the burst")
	assert.Equal(t, 0, sent(100*sec+sec/2, 5), "half a second: half a token")
	assert.Equal(t, 1, sent(101*sec, 5), "a second: one")
	assert.Equal(t, 3, sent(104*sec, 5), "three seconds: three")
	assert.Equal(t, 6, sent(200*sec, 10), "six at most")
}

// TestICMPGlobalLimit: beyond the per-peer limit, the namespace's credit
// (icmp_msgs_burst 50, spent 0 to 2 a message) bounds a burst to many
// peers; the draws are the stack's, so a run repeats.
func TestICMPGlobalLimit(t *testing.T) {
	run := func() int {
		var seen []icmpSeen
		cfg := icmpTopology(true, &seen)
		cfg.Neighbours = nil
		cfg.Routes = append(cfg.Routes, RouteConfig{Dst: pfx("198.18.0.0/15"), Dev: "eth0", Via: addr("192.0.2.9")})
		cfg.Neighbours = append(cfg.Neighbours, NeighConfig{Dev: "eth0", Addr: addr("192.0.2.9"), MAC: macB})
		s, _ := newStack(t, cfg, "", nil, nil)
		for i := range 200 {
			f := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: fmt.Sprintf("198.18.%d.%d", i/250, i%250+1), dst: "192.0.2.1",
				sport: 1000, dport: 9999, payload: 10})
			require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Tstamp: 1e15, Frame: f}))
		}
		s.Flush()
		return len(seen)
	}
	n := run()
	assert.Equal(t, n, run(), "deterministic")
	assert.GreaterOrEqual(t, n, 25, "credit 50, at most 2 a message")
	assert.Less(t, n, 200, "the global limit holds")
	t.Logf("%d of 200 errors to distinct peers", n)
}

// TestICMPFwmarkReflect: with net.ipv4.fwmark_reflect the error carries
// the mark of the packet it answers.
func TestICMPFwmarkReflect(t *testing.T) {
	for _, reflect := range []bool{false, true} {
		var seen []icmpSeen
		cfg := icmpTopology(true, &seen)
		cfg.Namespaces[0].FwmarkReflect = reflect
		s, _ := newStack(t, cfg, "", nil, nil)
		require.NoError(t, s.Inject(&Packet{ID: 1, Frame: buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "192.0.2.1",
			sport: 1000, dport: 9999, payload: 10})}))
		require.Len(t, seen, 1)
		want := uint32(0)
		if reflect {
			want = 77
		}
		assert.Equal(t, want, seen[0].mark)
	}
}

// TestICMPErrorSkb: the error's skb is the ICMP socket's: a fresh skb
// (no extension, no storage) whose checksum is complete.
func TestICMPErrorSkb(t *testing.T) {
	var got []skb.Header
	cfg := icmpTopology(true, new([]icmpSeen))
	cfg.Programs = append(cfg.Programs, ProgramConfig{Name: "h", Hook: carrier.HookTCEgress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
		got = append(got, *c.Skb.H())
		d := c.Skb.Data()[ethHlen:]
		assert.Equal(t, uint16(0xffff), csumFold(csumAdd(0, d[ipHlen:])), "ICMP checksum")
		assert.Equal(t, uint16(0xffff), csumFold(csumAdd(0, d[:ipHlen])), "IP header checksum")
		return TCXNext
	})})
	s, _ := newStack(t, cfg, "", nil, nil)
	require.NoError(t, s.Inject(&Packet{ID: 1, Frame: buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "192.0.2.1",
		sport: 1000, dport: 9999, payload: 10})}))
	require.Len(t, got, 1)
	assert.Equal(t, skb.ChecksumNone, got[0].IPSummed)
	assert.Zero(t, got[0].Priority)
	assert.Zero(t, got[0].Hash)
}

// TestNoAllocsICMP: echo replies and ICMP errors, as many as the rate
// limits allow with the capture's clock advancing 2 ms a packet, make no
// Go heap allocation per packet once warm.
func TestNoAllocsICMP(t *testing.T) {
	echo := icmpFrame("192.0.2.1", 64, append([]byte{icmpEcho, 0, 0, 0, 0x12, 0x34, 0, 1}, make([]byte, 56)...), false)
	for _, tc := range []struct {
		name  string
		frame []byte
		out   int // deliveries a packet (the request consumed, the reply transmitted)
	}{
		{"echo", echo, 2},
		{"port unreachable", buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "192.0.2.1", sport: 1, dport: 9999, payload: 64}), 1},
		{"time exceeded", buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "10.1.0.2", sport: 1, dport: 2000, payload: 64, ttl: 1}), 1},
		{"ICMPv6 port unreachable", buildFrame6(frame6{dstMAC: macNIC, srcMAC: macB, src: "2001:db8:1::9", dst: "2001:db8:1::1", dport: 9999, payload: 64}), 1},
		{"TCP reset", buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: "192.0.2.1", proto: ipprotoTCP, sport: 1, dport: 9999, tcpFlags: tcpSYN}), 1},
		{"ARP reply", arpFrame(broadcastMAC, 1, 6, 1, "192.0.2.9", "192.0.2.1"), 2},
		{"TCP reset over IPv6", func() []byte {
			f := buildFrame6(frame6{dstMAC: macNIC, srcMAC: macB, src: "2001:db8:1::9", dst: "2001:db8:1::1", next: ipprotoTCP, dport: 9999})
			f[ethHlen+ip6Hlen+13] = tcpSYN
			return f
		}(), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fibTopology(true)
			cfg.Neighbours = append(cfg.Neighbours, NeighConfig{Dev: "eth0", Addr: addr("192.0.2.9"), MAC: macB},
				NeighConfig{Dev: "eth0", Addr: addr("2001:db8:1::9"), MAC: macB})
			cfg.Namespaces[0].ICMPRatelimit, cfg.Namespaces[0].ICMPv6Ratelimit = -1, -1
			cfg.Options.Replies = true
			s, te := newStack(t, cfg, "", nil, nil)
			p := &Packet{Frame: tc.frame, Tstamp: 1e15}
			for i := range 64 {
				p.ID, p.Tstamp = uint64(i), p.Tstamp+2e6
				require.NoError(t, s.Inject(p))
			}
			require.Len(t, te.obs.delivs, 64*tc.out, "each packet answered")
			s.obs = NopObserver{}
			allocs := testing.AllocsPerRun(200, func() {
				p.ID, p.Tstamp = p.ID+1, p.Tstamp+2e6
				_ = s.Inject(p)
			})
			require.Zero(t, allocs, "Go heap allocations per packet")
		})
	}
}

// TestTCPReset: tcp_v4_send_reset's answer to segments that find no
// socket (TestKernelTCPReset measures the same segments on 6.18).
func TestTCPReset(t *testing.T) {
	type rst struct {
		flags    uint8
		seq, ack uint32
		src, dst string
		sp, dp   uint16
		df       bool
		mark     uint32
	}
	for _, tc := range []struct {
		name    string
		flags   uint8
		ack     uint32
		payload int
		dst     string
		replies bool
		reflect bool
		want    []rst
	}{
		{"SYN", tcpSYN, 0, 0, "192.0.2.1", true, false, []rst{{tcpRST | tcpACK, 0, 1001, "192.0.2.1", "192.0.2.9", 80, 1000, true, 0}}},
		{"SYN, fwmark_reflect", tcpSYN, 0, 0, "192.0.2.1", true, true, []rst{{tcpRST | tcpACK, 0, 1001, "192.0.2.1", "192.0.2.9", 80, 1000, true, 77}}},
		{"ACK with data", tcpACK | 0x08, 5000, 10, "192.0.2.1", true, false, []rst{{tcpRST, 5000, 0, "192.0.2.1", "192.0.2.9", 80, 1000, true, 0}}},
		{"data", 0x08, 0, 10, "192.0.2.1", true, false, []rst{{tcpRST | tcpACK, 0, 1010, "192.0.2.1", "192.0.2.9", 80, 1000, true, 0}}},
		{"SYN FIN with data", tcpSYN | tcpFIN, 0, 7, "192.0.2.1", true, false, []rst{{tcpRST | tcpACK, 0, 1009, "192.0.2.1", "192.0.2.9", 80, 1000, true, 0}}},
		{"RST", tcpRST, 0, 0, "192.0.2.1", true, false, nil},
		{"to the broadcast", tcpSYN, 0, 0, "192.0.2.255", true, false, nil},
		{"replies off", tcpSYN, 0, 0, "192.0.2.1", false, false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []rst
			cfg := fibTopology(true,
				ProgramConfig{Name: "mark", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
					c.SetMark(77)
					return TCXNext
				})},
				ProgramConfig{Name: "out", Hook: carrier.HookTCEgress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
					d := c.Skb.Data()[ethHlen:]
					if ip, _ := parseIPv4(d); ip.proto == ipprotoTCP {
						th := d[ipHlen:]
						got = append(got, rst{th[13], binary.BigEndian.Uint32(th[4:]), binary.BigEndian.Uint32(th[8:]), ip.src.String(), ip.dst.String(),
							binary.BigEndian.Uint16(th[0:]), binary.BigEndian.Uint16(th[2:]), ip.fragOff&ipDF != 0, c.Skb.H().Mark})
						assert.Equal(t, ipHlen+20, c.Skb.Len()-ethHlen)
						assert.True(t, l4CsumOK(d), "TCP checksum")
					}
					return TCXNext
				})})
			cfg.Neighbours = append(cfg.Neighbours, NeighConfig{Dev: "eth0", Addr: addr("192.0.2.9"), MAC: macB})
			cfg.Options.Replies = tc.replies
			cfg.Namespaces[0].FwmarkReflect = tc.reflect
			s, _ := newStack(t, cfg, "", nil, nil)
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: tc.dst,
				proto: ipprotoTCP, sport: 1000, dport: 80, seq: 1000, ack: tc.ack, tcpFlags: tc.flags, payload: tc.payload})}))
			s.Flush()
			assert.Equal(t, tc.want, got)
		})
	}
}

// l4CsumOK checks the TCP or UDP checksum of IPv4 packet d.
func l4CsumOK(d []byte) bool {
	ip, _ := parseIPv4(d)
	return csumFold(csumAdd(pseudoSum(d, ip.proto, len(d)-ip.ihl), d[ip.ihl:])) == 0xffff
}

// TestICMPPeerTable: the namespace's peer table holds icmpPeers entries; a
// new peer in a full table takes the place of the one used longest ago,
// which starts again with a full burst.
func TestICMPPeerTable(t *testing.T) {
	s, _ := newStack(t, fibTopology(true), "", nil, nil)
	ns := s.nss[0]
	st := s.icmpOf(ns)
	peer := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, 99, byte(i >> 8), byte(i)}) }
	for i := range icmpPeers {
		st.peer(peer(i), 0).tokens = 7
	}
	st.peer(peer(0), 0) // peer 1 is now the one used longest ago
	p := st.peer(peer(icmpPeers), 0)
	assert.Len(t, st.ents, icmpPeers)
	assert.Len(t, st.peers, icmpPeers)
	_, kept := st.peers[peer(0)]
	_, evicted := st.peers[peer(1)]
	assert.True(t, kept)
	assert.False(t, evicted)
	assert.Zero(t, p.tokens, "a new peer's tokens start at 0, its rate_last 60 s back")
	assert.Equal(t, uint64(7), st.peer(peer(0), 0).tokens)
	assert.True(t, s.peerAllow(ns, peer(1), hz), "the evicted peer has its burst again")
}

// TestICMPSysctls: icmp_echo_ignore_all, icmp_echo_ignore_broadcasts 0,
// icmp_errors_use_inbound_ifaddr and the IPv6 echo_ignore sysctls
// (TestKernelICMPSysctls and TestKernelICMPv6EchoSysctls measure them on
// 6.18).
func TestICMPSysctls(t *testing.T) {
	echo := []byte{icmpEcho, 0, 0, 0, 0, 1, 0, 1}
	for _, tc := range []struct {
		name      string
		ns        NamespaceConfig
		frame     []byte
		typ       uint8 // the answer's type (0xff: none)
		src, drop string
	}{
		{"echo", NamespaceConfig{}, icmpFrame("192.0.2.1", 64, echo, false), icmpEchoReply, "192.0.2.1", ""},
		{"echo, icmp_echo_ignore_all", NamespaceConfig{ICMPEchoIgnoreAll: true}, icmpFrame("192.0.2.1", 64, echo, false), 0xff, "", ""},
		{"echo to the broadcast", NamespaceConfig{}, icmpFrame("192.0.2.255", 64, echo, false), 0xff, "", "INVALID_PROTO"},
		{"echo to the broadcast, icmp_echo_ignore_broadcasts 0", NamespaceConfig{ICMPEchoAnswerBroadcasts: true},
			icmpFrame("192.0.2.255", 64, echo, false), icmpEchoReply, "192.0.2.1", ""},
		{"time exceeded", NamespaceConfig{}, icmpFrame("10.1.0.2", 1, echo, false), icmpTimeExceeded, "192.0.2.1", "IP_INHDR"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var seen []icmpSeen
			cfg := icmpTopology(true, &seen)
			tc.ns.Name, tc.ns.Forwarding = HostNetns, true
			cfg.Namespaces[0] = tc.ns
			s, te := newStack(t, cfg, "", nil, nil)
			require.NoError(t, s.Inject(&Packet{ID: 1, Tstamp: 1e15, Frame: tc.frame}))
			s.Flush()
			if tc.typ == 0xff {
				assert.Empty(t, seen)
			} else {
				require.Len(t, seen, 1)
				assert.Equal(t, tc.typ, seen[0].typ)
				assert.Equal(t, tc.src, seen[0].src)
			}
			if tc.drop == "" {
				assert.Empty(t, te.obs.drops)
			} else {
				require.NotEmpty(t, te.obs.drops)
				assert.Equal(t, "SKB_DROP_REASON_"+tc.drop, te.obs.drops[0].Reason.Name())
			}
		})
	}
	// icmp_errors_use_inbound_ifaddr: a packet from behind veth0 that came
	// in on eth0 gets its error from eth0's address, not veth0's.
	for _, inbound := range []bool{false, true} {
		cfg := icmpTopology(true, new([]icmpSeen))
		cfg.Namespaces[0].ICMPErrorsUseInboundIfaddr = inbound
		errs := timeExceededSrcs(t, cfg)
		want := "10.1.0.1"
		if inbound {
			want = "192.0.2.1"
		}
		assert.Equal(t, []string{want}, errs, "icmp_errors_use_inbound_ifaddr %v", inbound)
	}
	// IPv6: echo_ignore_all and echo_ignore_multicast drop the request.
	for _, tc := range []struct {
		ns   NamespaceConfig
		dst  string
		drop bool
	}{{NamespaceConfig{}, "2001:db8:1::1", false}, {NamespaceConfig{ICMPv6EchoIgnoreAll: true}, "2001:db8:1::1", true},
		{NamespaceConfig{ICMPv6EchoIgnoreMulticast: true}, "ff02::1", true}, {NamespaceConfig{ICMPv6EchoIgnoreMulticast: true}, "2001:db8:1::1", false}} {
		cfg := fibTopology(true)
		tc.ns.Name, tc.ns.Forwarding, tc.ns.IPv6Forwarding = HostNetns, true, true
		cfg.Namespaces[0] = tc.ns
		s, te := newStack(t, cfg, "", nil, nil)
		dmac := macNIC
		if tc.dst == "ff02::1" {
			dmac = [6]byte{0x33, 0x33, 0, 0, 0, 1}
		}
		f := buildFrame6(frame6{dstMAC: dmac, srcMAC: macB, src: "2001:db8:1::9", dst: tc.dst, next: nexthdrICMPv6, payload: 8})
		m := f[ethHlen+ip6Hlen:]
		m[0], m[1] = icmp6EchoRequest, 0
		binary.BigEndian.PutUint16(m[2:], 0)
		binary.BigEndian.PutUint16(m[2:], ^csumFold(csumAdd(pseudoSum(f[ethHlen:], nexthdrICMPv6, len(m)), m)))
		require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
		s.Flush()
		assert.Equal(t, tc.drop, len(te.obs.drops) != 0, "%+v to %s: %v", tc.ns, tc.dst, te.obs.dropReasons())
	}
}

// timeExceededSrcs injects on eth0 of cfg (icmpTopology) a datagram from
// 10.1.0.7, behind veth0, with TTL 1, and returns the sources of the ICMP
// errors B's vB sees.
func timeExceededSrcs(t *testing.T, cfg *Config) []string {
	t.Helper()
	var errs []string
	cfg.Neighbours = append(cfg.Neighbours, NeighConfig{Dev: "veth0", Addr: addr("10.1.0.7"), MAC: macB})
	cfg.Programs = append(cfg.Programs, ProgramConfig{Name: "atB", Hook: carrier.HookTCIngress, Netns: "B", Dev: "vB",
		Prog: ProgramFunc(func(c *Ctx) int {
			if d := c.Skb.Data()[ethHlen:]; d[9] == ipprotoICMP {
				ip, _ := parseIPv4(d)
				errs = append(errs, ip.src.String())
			}
			return TCXNext
		})})
	s, _ := newStack(t, cfg, "", nil, nil)
	f := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "10.1.0.7", dst: "10.1.0.2", sport: 1, dport: 9, payload: 8, ttl: 1})
	require.NoError(t, s.Inject(&Packet{ID: 1, Tstamp: 1e15, Frame: f}))
	s.Flush()
	return errs
}
