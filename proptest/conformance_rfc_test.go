package proptest

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/netstack"
	"github.com/skbsim/skbsim/skb"
)

// ipv4UDP returns a bare IPv4 + UDP packet with a correct header checksum
// and no UDP checksum.
func ipv4UDP(src, dst netip.Addr, sport, dport uint16, payload int) []byte {
	p := make([]byte, 20+8+payload)
	p[0], p[8], p[9] = 0x45, 64, 17
	binary.BigEndian.PutUint16(p[2:], uint16(len(p)))
	s, d := src.As4(), dst.As4()
	copy(p[12:], s[:])
	copy(p[16:], d[:])
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(p[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(p[10:], ^uint16(sum))
	binary.BigEndian.PutUint16(p[20:], sport)
	binary.BigEndian.PutUint16(p[22:], dport)
	binary.BigEndian.PutUint16(p[24:], uint16(8+payload))
	return p
}

// rfcCounters are the globals of the RFC's progs/skb_storage.c.
type rfcCounters struct {
	storeSeen, redirSeen, loadSeen int
	loadValue                      uint32
}

func (c *rfcCounters) store(x *netstack.Ctx) {
	if x.Store(0, u32(rfcMagic)) == nil {
		c.storeSeen++
	}
}

func (c *rfcCounters) load(x *netstack.Ctx) {
	v, err := x.Lookup(0)
	if err != nil {
		return
	}
	c.loadSeen++
	c.loadValue = binary.LittleEndian.Uint32(v)
}

// runRFCSelftest runs one datagram from a client socket to
// 127.0.0.1:9999 through the stack with the rfc carrier (one map, value
// __u32) and the programs progs builds from the counters.
func runRFCSelftest(t *testing.T, devs []netstack.DeviceConfig, progs func(c *rfcCounters) []netstack.ProgramConfig) rfcCounters {
	t.Helper()
	acct := kmem.New()
	a := skb.NewAllocator(acct, skb.DefaultProfile())
	maps := []carrier.MapSpec{{Name: "skb_storage", ValueSize: 4}}
	car, err := carrier.New("rfc", carrier.Env{Alloc: a, Acct: acct}, maps, carrier.Options{})
	require.NoError(t, err)
	var c rfcCounters
	lo := netip.MustParseAddr("127.0.0.1")
	cfg := &netstack.Config{
		Devices: devs,
		Sockets: []netstack.SocketConfig{
			{Name: "srv", Proto: netstack.ProtoUDP, Addr: lo, Port: 9999, Cgroup: "/skb_storage"},
			{Name: "cli", Proto: netstack.ProtoUDP, Port: 40000, Cgroup: "/skb_storage"},
		},
		Entries:  []netstack.EntryConfig{{Kind: netstack.EntryTX, Socket: "cli"}},
		Programs: progs(&c),
	}
	s, err := netstack.New(cfg, netstack.Env{Alloc: a, Carrier: car, Maps: maps})
	require.NoError(t, err)
	require.NoError(t, s.Inject(&netstack.Packet{ID: 1, Frame: ipv4UDP(lo, lo, 40000, 9999, 16)}))
	s.Flush()
	require.NoError(t, s.Close())
	require.NoError(t, car.Close())
	carrier.GracePeriod(car)
	acct.GracePeriod()
	require.NoError(t, a.CheckLeaks())
	o, _ := acct.Live()
	require.Zero(t, o, "accountant objects after the run")
	return c
}

func prog(name string, hook carrier.Hook, f func(*netstack.Ctx) int) netstack.ProgramConfig {
	return netstack.ProgramConfig{Name: name, Hook: hook, Prog: netstack.ProgramFunc(f)}
}

// TestSelftestTCCloneRedirect restates the RFC's tc_clone_redirect subtest:
// tcx/egress on lo stores MAGIC then bpf_clone_redirect()s to dum0, where a
// tcx/egress program loads: store_seen == 1, redir_seen == 1, load_seen ==
// 0, load_value == 0 (the clone shares the extension and is refused).
func TestSelftestTCCloneRedirect(t *testing.T) {
	c := runRFCSelftest(t, []netstack.DeviceConfig{{Name: "dum0", Kind: netstack.KindDummy}},
		func(c *rfcCounters) []netstack.ProgramConfig {
			st := prog("store", carrier.HookTCEgress, func(x *netstack.Ctx) int {
				c.store(x)
				if x.CloneRedirect(x.Ifindex("dum0"), 0) == 0 {
					c.redirSeen++
				}
				return netstack.TCXNext
			})
			st.Dev = "lo"
			ld := prog("load", carrier.HookTCEgress, func(x *netstack.Ctx) int { c.load(x); return netstack.TCXNext })
			ld.Dev = "dum0"
			return []netstack.ProgramConfig{st, ld}
		})
	assert.Equal(t, rfcCounters{storeSeen: 1, redirSeen: 1, loadSeen: 0, loadValue: 0}, c)
}

// TestSelftestTCIngressToCgrpIngress restates tc_ingress_to_cgrp_ingress:
// UDP to 127.0.0.1, tcx/ingress on lo stores, cgroup_skb/ingress loads:
// 1, 1, MAGIC.
func TestSelftestTCIngressToCgrpIngress(t *testing.T) {
	c := runRFCSelftest(t, nil, func(c *rfcCounters) []netstack.ProgramConfig {
		st := prog("store", carrier.HookTCIngress, func(x *netstack.Ctx) int { c.store(x); return netstack.TCXNext })
		st.Dev = "lo"
		ld := prog("load", carrier.HookCgroupIngress, func(x *netstack.Ctx) int { c.load(x); return netstack.CgroupAllow })
		ld.Cgroup = "/skb_storage"
		return []netstack.ProgramConfig{st, ld}
	})
	assert.Equal(t, rfcCounters{storeSeen: 1, loadSeen: 1, loadValue: rfcMagic}, c)
}

// TestSelftestTCIngressToSkFilter restates tc_ingress_to_sk_filter:
// tcx/ingress stores, an SO_ATTACH_BPF socket filter on the receiver loads:
// 1, 1, MAGIC.
func TestSelftestTCIngressToSkFilter(t *testing.T) {
	c := runRFCSelftest(t, nil, func(c *rfcCounters) []netstack.ProgramConfig {
		st := prog("store", carrier.HookTCIngress, func(x *netstack.Ctx) int { c.store(x); return netstack.TCXNext })
		st.Dev = "lo"
		ld := prog("load", carrier.HookSocketFilter, func(x *netstack.Ctx) int { c.load(x); return netstack.FilterAccept })
		ld.Socket = "srv"
		return []netstack.ProgramConfig{st, ld}
	})
	assert.Equal(t, rfcCounters{storeSeen: 1, loadSeen: 1, loadValue: rfcMagic}, c)
}

// TestSelftestCgrpEgressToTPKfreeSkb restates cgrp_egress_to_tp_kfree_skb:
// cgroup_skb/egress stores, `tc qdisc add dev lo root handle 1:0 blackhole`
// drops, tp_btf/kfree_skb loads: 1, 1, MAGIC (the storage is alive at the
// tracepoint).
func TestSelftestCgrpEgressToTPKfreeSkb(t *testing.T) {
	devs := []netstack.DeviceConfig{{Name: "lo", Kind: netstack.KindLoopback, Qdisc: "blackhole"}}
	c := runRFCSelftest(t, devs, func(c *rfcCounters) []netstack.ProgramConfig {
		st := prog("store", carrier.HookCgroupEgress, func(x *netstack.Ctx) int { c.store(x); return netstack.CgroupAllow })
		st.Cgroup = "/skb_storage"
		ld := prog("load", carrier.HookTracepoint, func(x *netstack.Ctx) int {
			if x.Reason == skb.DropQdiscDrop {
				c.load(x)
			}
			return 0
		})
		ld.Event = netstack.EventKfreeSkb
		return []netstack.ProgramConfig{st, ld}
	})
	assert.Equal(t, rfcCounters{storeSeen: 1, loadSeen: 1, loadValue: rfcMagic}, c)
}

// handshakeSeg returns a bare IPv4 + TCP segment without payload
// (ipv4TCP's) with the given acknowledgment number and flags.
func handshakeSeg(src, dst netip.Addr, sport, dport uint16, seq, ack uint32, flags byte) []byte {
	p := ipv4TCP(src, dst, sport, dport, seq, 0)
	binary.BigEndian.PutUint32(p[28:], ack)
	p[33] = flags
	return p
}

const (
	tcpFlagSYN = 0x02
	tcpFlagACK = 0x10
)

// runHandshakeSelftest runs the selftests' loopback TCP handshake through
// the stack with the rfc carrier, as prog_tests/skb_storage.c does with
// connect_to_fd(): a listener "srv" on 127.0.0.1:9999, a socket "cli"
// connect()ed to it from port 40000. The client sends the SYN
// (__tcp_transmit_skb of a clone of the queued fclone), the server the
// SYN-ACK, the client the ACK (tcp_send_ack, a fresh skb); loopback_xmit
// hands each to netif_rx, so tcx/ingress on lo sees the skb the receiving
// TCP sees. The listener's SYN makes a request, the SYN-ACK completes the
// client's connect() (tcp_finish_connect: lsm/inet_conn_established and
// BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB with it), the ACK the server's child
// (BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB with it).
func runHandshakeSelftest(t *testing.T, progs func(c *rfcCounters) []netstack.ProgramConfig) (rfcCounters, netstack.TCPStats) {
	t.Helper()
	acct := kmem.New()
	a := skb.NewAllocator(acct, skb.DefaultProfile())
	maps := []carrier.MapSpec{{Name: "skb_storage", ValueSize: 4}}
	car, err := carrier.New("rfc", carrier.Env{Alloc: a, Acct: acct}, maps, carrier.Options{})
	require.NoError(t, err)
	var c rfcCounters
	lo := netip.MustParseAddr("127.0.0.1")
	cfg := &netstack.Config{
		Sockets: []netstack.SocketConfig{
			{Name: "srv", Proto: netstack.ProtoTCP, Addr: lo, Port: 9999, Cgroup: "/skb_storage"},
			{Name: "cli", Proto: netstack.ProtoTCP, Addr: lo, Port: 40000, Cgroup: "/skb_storage",
				Connect: netip.AddrPortFrom(lo, 9999)},
		},
		Entries: []netstack.EntryConfig{
			{Kind: netstack.EntryTX, Socket: "cli"},
			{Kind: netstack.EntryTX, Socket: "srv"},
		},
		Programs: progs(&c),
	}
	s, err := netstack.New(cfg, netstack.Env{Alloc: a, Carrier: car, Maps: maps})
	require.NoError(t, err)
	const cisn, sisn = 1000, 5000
	for i, p := range []netstack.Packet{
		{Entry: 0, Frame: handshakeSeg(lo, lo, 40000, 9999, cisn, 0, tcpFlagSYN)},
		{Entry: 1, Frame: handshakeSeg(lo, lo, 9999, 40000, sisn, cisn+1, tcpFlagSYN|tcpFlagACK)},
		{Entry: 0, Frame: handshakeSeg(lo, lo, 40000, 9999, cisn+1, sisn+1, tcpFlagACK)},
	} {
		p.ID = uint64(i)
		require.NoError(t, s.Inject(&p))
	}
	assert.Equal(t, "ESTABLISHED", s.Socket("cli").State())
	assert.Zero(t, s.Socket("cli").RtxQueued(), "the SYN-ACK acknowledged the SYN")
	assert.Zero(t, s.Socket("srv").RtxQueued(), "the ACK acknowledged the SYN-ACK")
	st := s.TCPStats()
	s.Flush()
	require.NoError(t, s.Close())
	require.NoError(t, car.Close())
	carrier.GracePeriod(car)
	acct.GracePeriod()
	require.NoError(t, a.CheckLeaks())
	o, _ := acct.Live()
	require.Zero(t, o, "accountant objects after the run")
	return c, st
}

// storeOnLo is the selftests' tcx/ingress program on lo: store MAGIC on
// every packet.
func storeOnLo(c *rfcCounters) netstack.ProgramConfig {
	st := prog("store", carrier.HookTCIngress, func(x *netstack.Ctx) int { c.store(x); return netstack.TCXNext })
	st.Dev = "lo"
	return st
}

// TestSelftestTCIngressToLSMInetConnEstab restates
// tc_ingress_to_lsm_inet_conn_estab through the stack (see
// runHandshakeSelftest): tcx/ingress stores MAGIC on every packet,
// lsm/inet_conn_established loads from its skb, the SYN-ACK:
// store_seen > 0, load_seen > 0, load_value == MAGIC.
func TestSelftestTCIngressToLSMInetConnEstab(t *testing.T) {
	c, st := runHandshakeSelftest(t, func(c *rfcCounters) []netstack.ProgramConfig {
		ld := prog("load", carrier.HookLSM, func(x *netstack.Ctx) int { c.load(x); return 0 })
		ld.Event = netstack.EventInetConnEstablished
		return []netstack.ProgramConfig{storeOnLo(c), ld}
	})
	assert.Equal(t, 3, c.storeSeen, "store_seen: SYN, SYN-ACK, ACK")
	assert.Equal(t, 1, c.loadSeen, "load_seen")
	assert.Equal(t, uint32(rfcMagic), c.loadValue, "load_value")
	assert.EqualValues(t, 1, st.ActiveEstablished)
}

// TestSelftestTCIngressToSkopsPassiveEstab restates
// tc_ingress_to_skops_passive_estab through the stack: a sockops program
// on the cgroup loads from kctx->skb at BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB
// (skops->op filtered as the selftest's program does), which the server
// runs with the handshake's ACK: > 0, > 0, MAGIC. The program also runs at
// the client's ACTIVE_ESTABLISHED_CB and returns there without loading.
func TestSelftestTCIngressToSkopsPassiveEstab(t *testing.T) {
	var ops []uint32
	c, st := runHandshakeSelftest(t, func(c *rfcCounters) []netstack.ProgramConfig {
		ld := prog("load", carrier.HookSockOps, func(x *netstack.Ctx) int {
			ops = append(ops, x.SockOp())
			if x.SockOp() == netstack.SockOpsPassiveEstablishedCB {
				c.load(x)
			}
			return 1
		})
		ld.Cgroup = "/skb_storage"
		return []netstack.ProgramConfig{storeOnLo(c), ld}
	})
	assert.Equal(t, 3, c.storeSeen, "store_seen")
	assert.Equal(t, 1, c.loadSeen, "load_seen")
	assert.Equal(t, uint32(rfcMagic), c.loadValue, "load_value")
	assert.Equal(t, []uint32{netstack.SockOpsActiveEstablishedCB, netstack.SockOpsPassiveEstablishedCB}, ops)
	assert.EqualValues(t, 1, st.PassiveEstablished)
}
