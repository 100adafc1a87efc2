package netstack

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/skbsim/skbsim/skb"
)

// TestRtxQueueMatchesList drives a socket's retransmit queue (rtxPush,
// rtxPopFront, rtxFind, the removal cleanRtx does and the purge at close)
// with random operations and compares it with a plain list searched front
// to back: same entries in the same order, same answers.
func TestRtxQueueMatchesList(t *testing.T) {
	setRapidSeed(t)
	bufs := make([]skb.Buff, 4*maxRtx)
	rapid.Check(t, func(rt *rapid.T) {
		var sk Socket
		var ref []rtxEntry
		next := 0
		// Small ranges so that pushes meet queued ones and keys collide
		// in the table's home slots.
		seqs := rapid.Uint32Range(0, 600)
		for range rapid.IntRange(1, 3000).Draw(rt, "ops") {
			switch rapid.IntRange(0, 9).Draw(rt, "op") {
			default: // push unless queued (tcpQueueSkb), popping at the bound
				seq := seqs.Draw(rt, "seq")
				end := seq + rapid.Uint32Range(0, 3).Draw(rt, "len")
				var want *skb.Buff
				for _, r := range ref {
					if r.seq == seq && r.end == end {
						want = r.b
						break
					}
				}
				got := sk.rtxFind(seq, end)
				require.Same(rt, want, got, "find [%d, %d)", seq, end)
				if got != nil {
					break
				}
				if len(sk.rtx) >= maxRtx {
					r := sk.rtxPopFront()
					require.Equal(rt, ref[0], r)
					ref = ref[1:]
				}
				e := rtxEntry{b: &bufs[next%len(bufs)], pkt: uint64(next), seq: seq, end: end}
				next++
				sk.rtxPush(e)
				ref = append(ref, e)
			case 7, 8: // an acknowledgment removes what it covers (cleanRtx)
				ack := seqs.Draw(rt, "ack")
				n, keep := 0, ref[:0:0]
				for _, r := range sk.rtx {
					if int32(ack-r.end) >= 0 {
						sk.rtxIdx.remove(r.seq, r.end)
						continue
					}
					sk.rtx[n] = r
					n++
				}
				clear(sk.rtx[n:])
				sk.rtx = sk.rtx[:n]
				for _, r := range ref {
					if int32(ack-r.end) < 0 {
						keep = append(keep, r)
					}
				}
				ref = keep
			case 9:
				if rapid.IntRange(0, 20).Draw(rt, "close") != 0 {
					break
				}
				clear(sk.rtx)
				sk.rtx = sk.rtx[:0]
				sk.rtxIdx.reset()
				ref = nil
			}
			require.Equal(rt, len(ref), len(sk.rtx))
			require.Equal(rt, len(ref), sk.rtxIdx.n)
			for i := range ref {
				require.Equal(rt, ref[i], sk.rtx[i])
			}
		}
		for _, r := range ref {
			require.Same(rt, r.b, sk.rtxFind(r.seq, r.end))
		}
	})
}

// TestRtxPushReusesBuffer checks that a full queue that pops and pushes
// for many times its bound keeps to its first buffer: no allocation.
func TestRtxPushReusesBuffer(t *testing.T) {
	var sk Socket
	b := new(skb.Buff)
	seq := uint32(0)
	push := func() {
		if len(sk.rtx) >= maxRtx {
			sk.rtxPopFront()
		}
		sk.rtxPush(rtxEntry{b: b, seq: seq, end: seq + 1})
		seq++
	}
	for range maxRtx {
		push()
	}
	allocs := testing.AllocsPerRun(10*maxRtx, push)
	require.Zero(t, allocs)
	require.Len(t, sk.rtx, maxRtx)
	require.Equal(t, maxRtx, sk.rtxIdx.n)
}

// TestNetnsLookup: the socket lookup matches port, protocol and address; a
// socket bound to the address wins over a wildcard one whatever their
// order; a connecting TCP socket is no listener.
func TestNetnsLookup(t *testing.T) {
	a1, a2 := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	udpWild := &Socket{name: "udp-wild", proto: ProtoUDP, l4: ipprotoUDP, port: 53}
	udpA1 := &Socket{name: "udp-a1", proto: ProtoUDP, l4: ipprotoUDP, port: 53, addr: a1}
	tcpWild := &Socket{name: "tcp-wild", proto: ProtoTCP, l4: ipprotoTCP, port: 53, addr: netip.IPv4Unspecified()}
	tcpConn := &Socket{name: "tcp-conn", proto: ProtoTCP, l4: ipprotoTCP, port: 80, connect: netip.AddrPortFrom(a2, 1000)}
	v6Only := &Socket{name: "v6only", proto: ProtoUDP, l4: ipprotoUDP, port: 123, addr: netip.IPv6Unspecified(), v6only: true}
	n := &Netns{socks: []*Socket{udpWild, udpA1, tcpWild, tcpConn, v6Only}}
	for _, tc := range []struct {
		l4   uint8
		dst  netip.Addr
		port uint16
		want *Socket
	}{
		{ipprotoUDP, a1, 53, udpA1},
		{ipprotoUDP, a2, 53, udpWild},
		{ipprotoTCP, a1, 53, tcpWild},
		{ipprotoUDP, a1, 54, nil},
		{ipprotoTCP, a2, 80, nil},
		{ipprotoUDP, a1, 123, nil},
		{ipprotoUDP, netip.MustParseAddr("fd00::1"), 123, v6Only},
	} {
		require.Same(t, tc.want, n.lookup(tc.l4, tc.dst, tc.port), "%d %s:%d", tc.l4, tc.dst, tc.port)
	}
}
