package proptest

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/internal/errno"
	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/localstorage"
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

// tcpHandshake plays the skbs of a loopback TCP handshake as far as skb
// storage sees them, at the skb/localstorage level (netstack has no TCP
// connection setup, LSM or sockops hooks): the SYN is a clone of the
// fclone queued for retransmission (__tcp_transmit_skb); the SYN-ACK
// (tcp_make_synack) and the final ACK (tcp_send_ack) are fresh skbs;
// loopback_xmit hands each to netif_rx in the same namespace, so the skb
// that tcx/ingress on lo sees is the skb the receiving TCP sees. ingress
// runs at tcx/ingress for every packet; atSynAck runs where
// tcp_finish_connect() calls security_inet_conn_established(sk, skb)
// on the client, atAck where tcp_rcv_state_process() runs
// BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB with the ACK (kctx->skb) on the
// server.
func tcpHandshake(t *testing.T, a *skb.Allocator, ingress, atSynAck, atAck func(*skb.Buff)) {
	t.Helper()
	syn, err := a.AllocSkbFclone(128)
	require.NoError(t, err)
	syn.Reserve(64)
	syn.Put(40)
	xmit, err := syn.Clone()
	require.NoError(t, err)
	ingress(xmit)
	xmit.ConsumeSkb() // tcp_v4_rcv on the listener: request sock, SYN consumed
	for i, step := range []func(*skb.Buff){atSynAck, atAck} {
		b, err := a.AllocSkb(128)
		require.NoError(t, err)
		b.Reserve(64)
		b.Put(40)
		ingress(b)
		step(b)
		b.ConsumeSkb()
		if i == 0 {
			syn.ConsumeSkb() // the SYN-ACK acknowledges the SYN: tcp_clean_rtx_queue
		}
	}
}

// TestSelftestTCIngressToLSMInetConnEstab restates
// tc_ingress_to_lsm_inet_conn_estab at the skb/localstorage level (see
// tcpHandshake): tcx/ingress stores MAGIC on every packet,
// lsm/inet_conn_established loads from its skb: store_seen > 0, load_seen >
// 0, load_value == MAGIC.
func TestSelftestTCIngressToLSMInetConnEstab(t *testing.T) {
	c := runHandshakeSelftest(t, true)
	assert.Positive(t, c.storeSeen, "store_seen")
	assert.Positive(t, c.loadSeen, "load_seen")
	assert.Equal(t, uint32(rfcMagic), c.loadValue, "load_value")
}

// TestSelftestTCIngressToSkopsPassiveEstab restates
// tc_ingress_to_skops_passive_estab at the skb/localstorage level: sockops
// BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB loads from kctx->skb: > 0, > 0, MAGIC.
func TestSelftestTCIngressToSkopsPassiveEstab(t *testing.T) {
	c := runHandshakeSelftest(t, false)
	assert.Positive(t, c.storeSeen, "store_seen")
	assert.Positive(t, c.loadSeen, "load_seen")
	assert.Equal(t, uint32(rfcMagic), c.loadValue, "load_value")
}

func runHandshakeSelftest(t *testing.T, lsm bool) rfcCounters {
	acct := kmem.New()
	e := newEnv(t, localstorage.Config{Acct: acct})
	a := skb.NewAllocator(acct, skb.DefaultProfile())
	e.AttachSkb(a)
	m := mustMap(t, e, localstorage.Spec(localstorage.MapTypeSkbStorage, 4, 0))
	var c rfcCounters
	ingress := func(b *skb.Buff) {
		v, err := m.SkbStorageGet(localstorage.CtxNormal, b, nil, localstorage.GetCreate)
		if err == nil {
			binary.LittleEndian.PutUint32(v, rfcMagic)
			c.storeSeen++
		}
	}
	load := func(b *skb.Buff) {
		v, err := m.SkbStorageGet(localstorage.CtxNormal, b, nil, 0)
		if err != nil {
			require.Equal(t, errno.ENOENT.Name(), errno.Of(err).Name())
			return
		}
		c.loadSeen++
		c.loadValue = binary.LittleEndian.Uint32(v)
	}
	nop := func(*skb.Buff) {}
	if lsm {
		tcpHandshake(t, a, ingress, load, nop)
	} else {
		tcpHandshake(t, a, ingress, nop, load)
	}
	require.NoError(t, a.CheckLeaks())
	return c
}
