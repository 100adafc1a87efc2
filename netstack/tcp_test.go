package netstack

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/skb"
)

const (
	tcpHost   = "192.0.2.1"
	tcpClient = "192.0.2.9"
	tcpPeer   = "192.0.2.7" // the server the connecting socket talks to
)

// tcpHookRun is one run of a program at a TCP hook.
type tcpHookRun struct {
	hook  carrier.Hook
	op    uint32
	sock  string
	value string // what the program read from map 0: "found", "missing", ...
}

// tcpConfig: a NIC with tc ingress storing on every packet, a listener on
// port 80, a socket connect()ed from port 40000 to tcpPeer:443, and
// programs at sockops and lsm/inet_conn_established recording their runs.
func tcpConfig(runs *[]tcpHookRun) *Config {
	rec := func(c *Ctx) int {
		v, err := c.Lookup(0)
		*runs = append(*runs, tcpHookRun{hook: c.Hook, op: c.SockOp(), sock: c.Socket.Name(),
			value: classify(v, err, c.PacketID).String()})
		return 1
	}
	return &Config{
		Devices: []DeviceConfig{{Name: "eth0", Kind: KindNIC, MAC: macNIC, Addrs: []netip.Prefix{pfx(tcpHost + "/24")}}},
		Sockets: []SocketConfig{
			{Name: "srv", Proto: ProtoTCP, Port: 80},
			{Name: "cli", Proto: ProtoTCP, Port: 40000, Connect: netip.MustParseAddrPort(tcpPeer + ":443")},
		},
		Programs: []ProgramConfig{
			{Name: "tc", Hook: carrier.HookTCIngress, Dev: "eth0", Actions: []Action{{Kind: ActWrite, Map: 0}}},
			{Name: "skops", Hook: carrier.HookSockOps, Prog: ProgramFunc(rec)},
			{Name: "lsm", Hook: carrier.HookLSM, Prog: ProgramFunc(rec)},
		},
	}
}

func newRFCStack(t *testing.T, cfg *Config) (*Stack, *testEnv) {
	maps := []carrier.MapSpec{{Name: "m", ValueSize: 8}}
	return newStack(t, cfg, "", func(env carrier.Env) carrier.Carrier {
		c, err := carrier.New("rfc", env, maps, carrier.Options{})
		require.NoError(t, err)
		return c
	}, maps)
}

// seg is a segment from src:sport to the host.
type seg struct {
	src          string
	sport, dport uint16
	flags        uint8
	seq          uint32
	payload      int
}

func (g seg) frame() []byte {
	return buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: g.src, dst: tcpHost, proto: ipprotoTCP,
		sport: g.sport, dport: g.dport, tcpFlags: g.flags, seq: g.seq, ack: 1, payload: g.payload})
}

const (
	fSYN    = tcpSYN
	fACK    = tcpACK
	fSYNACK = tcpSYN | tcpACK
	fRST    = tcpRST
	fFIN    = tcpFIN | tcpACK
	fPSH    = tcpPSH | tcpACK
)

// toSrv and fromPeer build the two sides' segments.
func toSrv(sport uint16, flags uint8, seq uint32, payload int) seg {
	return seg{src: tcpClient, sport: sport, dport: 80, flags: flags, seq: seq, payload: payload}
}

func fromPeer(flags uint8, payload int) seg {
	return seg{src: tcpPeer, sport: 443, dport: 40000, flags: flags, seq: 5000, payload: payload}
}

func TestTCPStates(t *testing.T) {
	passive := func(op uint32) tcpHookRun {
		return tcpHookRun{hook: carrier.HookSockOps, op: op, sock: "srv", value: "found"}
	}
	active := []tcpHookRun{
		{hook: carrier.HookLSM, sock: "cli", value: "found"}, // security_inet_conn_established first
		{hook: carrier.HookSockOps, op: SockOpsActiveEstablishedCB, sock: "cli", value: "found"},
	}
	for _, tc := range []struct {
		name      string
		segs      []seg
		runs      []tcpHookRun
		stats     TCPStats
		srv, cli  string // socket states at the end
		delivered int    // skbs consumed or read (none dropped unless drops)
		drops     []string
	}{
		{name: "SYN makes a request",
			segs:  []seg{toSrv(1000, fSYN, 100, 0)},
			stats: TCPStats{Requests: 1, Live: 1}, srv: "LISTEN", cli: "SYN_SENT", delivered: 1},
		{name: "handshake: the ACK runs PASSIVE_ESTABLISHED_CB with itself",
			segs:  []seg{toSrv(1000, fSYN, 100, 0), toSrv(1000, fACK, 101, 0)},
			runs:  []tcpHookRun{passive(SockOpsPassiveEstablishedCB)},
			stats: TCPStats{Requests: 1, PassiveEstablished: 1, Live: 1}, srv: "LISTEN", cli: "SYN_SENT", delivered: 2},
		{name: "ACK with data completes the handshake and is queued",
			segs:  []seg{toSrv(1000, fSYN, 100, 0), toSrv(1000, fPSH, 101, 200)},
			runs:  []tcpHookRun{passive(SockOpsPassiveEstablishedCB)},
			stats: TCPStats{Requests: 1, PassiveEstablished: 1, Live: 1}, srv: "LISTEN", cli: "SYN_SENT", delivered: 2},
		{name: "data after the handshake runs nothing more",
			segs:  []seg{toSrv(1000, fSYN, 100, 0), toSrv(1000, fACK, 101, 0), toSrv(1000, fPSH, 101, 300), toSrv(1000, fACK, 401, 0)},
			runs:  []tcpHookRun{passive(SockOpsPassiveEstablishedCB)},
			stats: TCPStats{Requests: 1, PassiveEstablished: 1, Live: 1}, srv: "LISTEN", cli: "SYN_SENT", delivered: 4},
		{name: "retransmitted SYN keeps the request and is dropped",
			segs:  []seg{toSrv(1000, fSYN, 100, 0), toSrv(1000, fSYN, 100, 0)},
			stats: TCPStats{Requests: 1, SynRetransmits: 1, Live: 1}, srv: "LISTEN", cli: "SYN_SENT", delivered: 1,
			drops: []string{"SKB_DROP_REASON_NOT_SPECIFIED@tcp_v4_rcv"}},
		{name: "ACK outside the request's window completes nothing and is dropped",
			segs:  []seg{toSrv(1000, fSYN, 100, 0), toSrv(1000, fACK, 100+tcpReqWindow+1, 0), toSrv(1000, fACK, 101, 0)},
			runs:  []tcpHookRun{passive(SockOpsPassiveEstablishedCB)},
			stats: TCPStats{Requests: 1, PassiveEstablished: 1, Live: 1}, srv: "LISTEN", cli: "SYN_SENT", delivered: 2,
			drops: []string{"SKB_DROP_REASON_NOT_SPECIFIED@tcp_v4_rcv"}},
		{name: "a new SYN to a request resets it (embryonic_reset)",
			segs:  []seg{toSrv(1000, fSYN, 100, 0), toSrv(1000, fSYN, 500, 0), toSrv(1000, fACK, 101, 0)},
			stats: TCPStats{Requests: 1, Resets: 1}, srv: "LISTEN", cli: "SYN_SENT", delivered: 2,
			drops: []string{"SKB_DROP_REASON_NOT_SPECIFIED@tcp_v4_rcv"}},
		{name: "a segment without ACK to a request is dropped silently",
			segs:  []seg{toSrv(1000, fSYN, 100, 0), toSrv(1000, tcpPSH, 101, 10)},
			stats: TCPStats{Requests: 1, Live: 1}, srv: "LISTEN", cli: "SYN_SENT", delivered: 1,
			drops: []string{"SKB_DROP_REASON_NOT_SPECIFIED@tcp_v4_rcv"}},
		{name: "data without a handshake is delivered as before",
			segs:  []seg{toSrv(1000, fPSH, 7, 100), toSrv(1000, fACK, 107, 0)},
			stats: TCPStats{}, srv: "LISTEN", cli: "SYN_SENT", delivered: 2},
		{name: "FIN ends the connection; later segments go to the listener",
			segs:  []seg{toSrv(1000, fSYN, 100, 0), toSrv(1000, fACK, 101, 0), toSrv(1000, fFIN, 101, 0), toSrv(1000, fACK, 102, 0)},
			runs:  []tcpHookRun{passive(SockOpsPassiveEstablishedCB)},
			stats: TCPStats{Requests: 1, PassiveEstablished: 1, Fins: 1}, srv: "LISTEN", cli: "SYN_SENT", delivered: 4},
		{name: "RST ends the request and is dropped",
			segs:  []seg{toSrv(1000, fSYN, 100, 0), toSrv(1000, fRST, 101, 0), toSrv(1000, fACK, 101, 0)},
			stats: TCPStats{Requests: 1, Resets: 1}, srv: "LISTEN", cli: "SYN_SENT", delivered: 2,
			drops: []string{"SKB_DROP_REASON_NOT_SPECIFIED@tcp_v4_rcv"}},
		{name: "RST ends an established connection",
			segs:  []seg{toSrv(1000, fSYN, 100, 0), toSrv(1000, fACK, 101, 0), toSrv(1000, fRST, 101, 0)},
			runs:  []tcpHookRun{passive(SockOpsPassiveEstablishedCB)},
			stats: TCPStats{Requests: 1, PassiveEstablished: 1, Resets: 1}, srv: "LISTEN", cli: "SYN_SENT", delivered: 3},
		{name: "SYN-ACK: tcp_finish_connect runs the LSM then ACTIVE_ESTABLISHED_CB",
			segs: []seg{fromPeer(fSYNACK, 0), fromPeer(fPSH, 100)},
			runs: active, stats: TCPStats{ActiveEstablished: 1}, srv: "LISTEN", cli: "ESTABLISHED", delivered: 2},
		{name: "ACK without SYN in SYN_SENT is discarded as TCP_FLAGS",
			segs:  []seg{fromPeer(fACK, 0)},
			stats: TCPStats{}, srv: "LISTEN", cli: "SYN_SENT", drops: []string{"SKB_DROP_REASON_TCP_FLAGS@tcp_v4_rcv"}},
		{name: "RST without ACK in SYN_SENT is discarded as TCP_RESET; the socket stays",
			segs: []seg{fromPeer(tcpRST, 0), fromPeer(fSYNACK, 0)},
			runs: active, stats: TCPStats{ActiveEstablished: 1}, srv: "LISTEN", cli: "ESTABLISHED", delivered: 1,
			drops: []string{"SKB_DROP_REASON_TCP_RESET@tcp_v4_rcv"}},
		{name: "a segment without ACK, RST or SYN in SYN_SENT is discarded, reason not specified",
			segs:  []seg{fromPeer(tcpPSH, 0)},
			stats: TCPStats{}, srv: "LISTEN", cli: "SYN_SENT", drops: []string{"SKB_DROP_REASON_NOT_SPECIFIED@tcp_v4_rcv"}},
		{name: "RST in SYN_SENT closes the socket; it is then not found",
			segs:  []seg{fromPeer(tcpRST|tcpACK, 0), fromPeer(fSYNACK, 0)},
			stats: TCPStats{Resets: 1}, srv: "LISTEN", cli: "CLOSE", delivered: 1,
			drops: []string{"SKB_DROP_REASON_NO_SOCKET@tcp_v4_rcv"}},
		{name: "FIN moves the connecting socket to CLOSE_WAIT",
			segs: []seg{fromPeer(fSYNACK, 0), fromPeer(fFIN, 0), fromPeer(fACK, 0)},
			runs: active, stats: TCPStats{ActiveEstablished: 1}, srv: "LISTEN", cli: "CLOSE_WAIT", delivered: 3},
		{name: "a segment from another peer does not reach the connecting socket",
			segs:  []seg{{src: tcpClient, sport: 443, dport: 40000, flags: fSYNACK}},
			stats: TCPStats{}, srv: "LISTEN", cli: "SYN_SENT", drops: []string{"SKB_DROP_REASON_NO_SOCKET@tcp_v4_rcv"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var runs []tcpHookRun
			s, te := newRFCStack(t, tcpConfig(&runs))
			for i, g := range tc.segs {
				require.NoError(t, s.Inject(&Packet{ID: uint64(i), Frame: g.frame()}))
			}
			assert.Equal(t, tc.runs, runs)
			assert.Equal(t, tc.stats, s.TCPStats())
			assert.Equal(t, tc.srv, s.Socket("srv").State())
			assert.Equal(t, tc.cli, s.Socket("cli").State())
			assert.Len(t, te.obs.delivs, tc.delivered)
			assert.Equal(t, tc.drops, te.obs.dropReasons())
		})
	}
}

// TestTCPProgramsByCgroupAndEvent: sockops programs run for sockets of
// their cgroup (or a descendant) only and, with an event, at one callback;
// lsm/inet_conn_request programs run on the SYN and can refuse the
// request.
func TestTCPProgramsByCgroupAndEvent(t *testing.T) {
	var runs []string
	prog := func(name string, ret int) Program {
		return ProgramFunc(func(c *Ctx) int { runs = append(runs, name); return ret })
	}
	cfg := tcpConfig(new([]tcpHookRun))
	cfg.Sockets[0].Cgroup = "/web/a"
	cfg.Programs = []ProgramConfig{
		{Name: "web", Hook: carrier.HookSockOps, Cgroup: "/web", Prog: prog("web", 1)},
		{Name: "other", Hook: carrier.HookSockOps, Cgroup: "/other", Prog: prog("other", 1)},
		{Name: "active-only", Hook: carrier.HookSockOps, Event: EventActiveEstablished, Prog: prog("active-only", 1)},
		{Name: "req", Hook: carrier.HookLSM, Event: EventInetConnRequest, Prog: ProgramFunc(func(c *Ctx) int {
			runs = append(runs, "req")
			if c.PacketID == 2 {
				return -1 // -EPERM: security_inet_conn_request refuses
			}
			return 0
		})},
	}
	s, _ := newStack(t, cfg, "", nil, nil)
	for i, g := range []seg{toSrv(1000, fSYN, 100, 0), toSrv(1000, fACK, 101, 0), toSrv(1001, fSYN, 100, 0),
		toSrv(1001, fACK, 101, 0), fromPeer(fSYNACK, 0)} {
		require.NoError(t, s.Inject(&Packet{ID: uint64(i), Frame: g.frame()}))
	}
	assert.Equal(t, []string{"req", "web", "req", "active-only"}, runs)
	assert.Equal(t, TCPStats{Requests: 1, RequestsRefused: 1, PassiveEstablished: 1, ActiveEstablished: 1, Live: 1}, s.TCPStats())
}

// TestTCPTableEviction: a table of 4 entries (one set) holds the 4 most
// recently used flows; a fifth request evicts the least recently used,
// whose ACK then completes nothing.
func TestTCPTableEviction(t *testing.T) {
	var runs []tcpHookRun
	cfg := tcpConfig(&runs)
	cfg.Options.TCPConnections = 4
	s, _ := newRFCStack(t, cfg)
	id := uint64(0)
	inject := func(g seg) {
		id++
		require.NoError(t, s.Inject(&Packet{ID: id, Frame: g.frame()}))
	}
	for p := range uint16(4) {
		inject(toSrv(2000+p, fSYN, 1, 0))
	}
	inject(toSrv(2000, fACK, 2, 0)) // flow 2000 is now the most recently used
	inject(toSrv(2004, fSYN, 1, 0)) // evicts 2001
	st := s.TCPStats()
	assert.EqualValues(t, 1, st.Evicted)
	assert.EqualValues(t, 4, st.Live)
	inject(toSrv(2001, fACK, 2, 0))
	inject(toSrv(2002, fACK, 2, 0))
	assert.EqualValues(t, 2, s.TCPStats().PassiveEstablished, "2000 and 2002; 2001 was evicted")
	assert.Len(t, runs, 2)
}

func TestTCPConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Config)
		msg  string
	}{
		{"connect on udp", func(c *Config) { c.Sockets[1].Proto = ProtoUDP }, "connect is for tcp sockets"},
		{"connect without local port", func(c *Config) { c.Sockets[1].Port = 0 }, "needs a peer address and port and a local port"},
		{"connect across families", func(c *Config) { c.Sockets[1].Addr = addr("2001:db8::1") }, "another family"},
		{"connect with tproxy", func(c *Config) { c.Sockets[1].TProxy = true }, "not a TPROXY listener"},
		{"sockops callback", func(c *Config) { c.Programs[1].Event = "rtt" }, `unknown sockops callback "rtt"`},
		{"lsm hook", func(c *Config) { c.Programs[2].Event = "socket_bind" }, `unknown LSM hook "socket_bind"`},
		{"sockops action", func(c *Config) {
			c.Programs[1].Prog = nil
			c.Programs[1].Actions = []Action{{Kind: ActSetMark, Value: 1}}
		}, "set_mark): not available at hook sockops"},
		{"table size", func(c *Config) { c.Options.TCPConnections = MaxTCPConnections + 1 }, "tcp connections"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tcpConfig(new([]tcpHookRun))
			tc.edit(c)
			_, err := New(c, Env{Alloc: skb.NewAllocator(kmem.New(), skb.DefaultProfile())})
			require.ErrorIs(t, err, ErrConfig)
			require.ErrorContains(t, err, tc.msg)
		})
	}
}

// TestTCPNoAllocs replays a handshake-heavy stream (SYN, ACK, data, FIN of
// 1000 flows in turn, far more than the table holds) with programs at tc
// ingress (storing on every packet) and sockops (loading) on the rfc
// carrier: no Go heap allocation per packet once the table exists, and the
// table never grows.
func TestTCPNoAllocs(t *testing.T) {
	cfg := tcpConfig(new([]tcpHookRun))
	cfg.Options.TCPConnections = 64
	cfg.Programs[1].Prog, cfg.Programs[1].Actions = nil, []Action{{Kind: ActRead, Map: 0}}
	cfg.Programs[2].Prog, cfg.Programs[2].Actions = nil, []Action{{Kind: ActRead, Map: 0}}
	s, _ := newRFCStack(t, cfg)
	s.obs = NopObserver{}
	const flows = 1000
	frames := make([][4][]byte, flows)
	for i := range frames {
		sport := uint16(1024 + i)
		frames[i] = [4][]byte{toSrv(sport, fSYN, 100, 0).frame(), toSrv(sport, fACK, 101, 0).frame(),
			toSrv(sport, fPSH, 101, 64).frame(), toSrv(sport, fFIN, 165, 0).frame()}
	}
	p := &Packet{}
	flow := 0
	step := func() {
		for _, f := range frames[flow%flows] {
			p.ID++
			p.Frame = f
			_ = s.Inject(p)
		}
		flow++
		carrier.GracePeriod(s.car) // an RCU grace period per batch, as the replay does
	}
	for range 200 {
		step()
	}
	slots := &s.tcp.slots[0]
	allocs := testing.AllocsPerRun(500, step)
	assert.Zero(t, allocs, "Go heap allocations per flow of 4 packets")
	assert.Same(t, slots, &s.tcp.slots[0], "the table was not reallocated")
	assert.Len(t, s.tcp.slots, 64)
	st := s.TCPStats()
	assert.EqualValues(t, 701, st.PassiveEstablished, "200 + AllocsPerRun's warm-up run + 500")
	assert.EqualValues(t, st.Requests, st.Fins)
	assert.Zero(t, st.Live)
}

// BenchmarkTCPHandshakes: SYN, ACK, data and FIN of flows in turn through
// tc ingress (store), sockops (load) on the rfc carrier.
func BenchmarkTCPHandshakes(b *testing.B) {
	cfg := tcpConfig(new([]tcpHookRun))
	cfg.Programs[1].Prog, cfg.Programs[1].Actions = nil, []Action{{Kind: ActRead, Map: 0}}
	cfg.Programs[2].Prog, cfg.Programs[2].Actions = nil, []Action{{Kind: ActRead, Map: 0}}
	maps := []carrier.MapSpec{{Name: "m", ValueSize: 8}}
	s, _ := newStack(b, cfg, "", rfcCarrier("rfc", maps), maps)
	s.obs = NopObserver{}
	const flows = 4096
	frames := make([][4][]byte, flows)
	for i := range frames {
		sport := uint16(1024 + i)
		frames[i] = [4][]byte{toSrv(sport, fSYN, 100, 0).frame(), toSrv(sport, fACK, 101, 0).frame(),
			toSrv(sport, fPSH, 101, 64).frame(), toSrv(sport, fFIN, 165, 0).frame()}
	}
	p := &Packet{}
	b.ReportAllocs()
	for b.Loop() {
		for _, f := range frames[p.ID/4%flows] {
			p.ID++
			p.Frame = f
			if err := s.Inject(p); err != nil {
				b.Fatal(err)
			}
		}
		if p.ID%64 == 0 {
			carrier.GracePeriod(s.car)
		}
	}
	b.ReportMetric(float64(p.ID)/b.Elapsed().Seconds(), "pkts/s")
}

// TestTCPTableBounded: requests of ever new flows that never complete (a
// SYN flood) fill the table and then evict; the table never holds more
// than its size and is never reallocated.
func TestTCPTableBounded(t *testing.T) {
	cfg := tcpConfig(new([]tcpHookRun))
	cfg.Options.TCPConnections = 64
	s, _ := newStack(t, cfg, "", nil, nil)
	s.obs = NopObserver{}
	const flows = 5000
	p := &Packet{}
	for i := range flows {
		p.ID = uint64(i)
		p.Frame = seg{src: tcpClient, sport: uint16(1024 + i%50000), dport: 80, flags: fSYN, seq: uint32(i)}.frame()
		if i%2 == 1 { // half from another client address
			p.Frame = seg{src: "192.0.2.10", sport: uint16(1024 + i), dport: 80, flags: fSYN, seq: uint32(i)}.frame()
		}
		require.NoError(t, s.Inject(p))
	}
	st := s.TCPStats()
	assert.EqualValues(t, flows, st.Requests)
	assert.EqualValues(t, 64, st.Live)
	assert.EqualValues(t, flows-64, st.Evicted)
	assert.Len(t, s.tcp.slots, 64)
	assert.Equal(t, 64, cap(s.tcp.slots))
}

// TestTCPTProxyHandshake: with TPROXY the SYN is steered to the
// transparent listener (skb_steal_sock) and makes a request under it; the
// ACK finds the request by its 4-tuple first (nf_tproxy_get_sock_v4's
// established lookup) and completes it on that listener, whatever the
// destination port.
func TestTCPTProxyHandshake(t *testing.T) {
	var runs []tcpHookRun
	cfg := tcpConfig(&runs)
	cfg.Routes = []RouteConfig{{Dst: pfx("0.0.0.0/0"), Dev: "lo", Type: RouteLocal}}
	cfg.Sockets[0].Port, cfg.Sockets[0].TProxy = 3128, true
	s, te := newRFCStack(t, cfg)
	for i, g := range []seg{
		{src: tcpClient, sport: 1000, dport: 8443, flags: fSYN, seq: 10},
		{src: tcpClient, sport: 1000, dport: 8443, flags: fACK, seq: 11},
	} {
		f := g.frame()
		copy(f[ethHlen+16:ethHlen+20], addr("203.0.113.5").AsSlice()) // any destination
		setIPCsum(f[ethHlen:], ipHlen)
		require.NoError(t, s.Inject(&Packet{ID: uint64(i), Frame: f}))
	}
	assert.Equal(t, []tcpHookRun{{hook: carrier.HookSockOps, op: SockOpsPassiveEstablishedCB, sock: "srv", value: "found"}}, runs)
	assert.EqualValues(t, 1, s.TCPStats().PassiveEstablished)
	assert.Empty(t, te.obs.drops)
}

// TestTCPIPv6Handshake: a handshake over IPv6 to a listener bound to ::
// (tcp_v6_rcv) completes like an IPv4 one.
func TestTCPIPv6Handshake(t *testing.T) {
	var runs []tcpHookRun
	cfg := tcpConfig(&runs)
	cfg.Devices[0].Addrs = append(cfg.Devices[0].Addrs, pfx("2001:db8::1/64"))
	cfg.Sockets[0].Addr = addr("::")
	s, te := newRFCStack(t, cfg)
	for i, fl := range []struct {
		flags uint8
		seq   uint32
	}{{fSYN, 7}, {fACK, 8}, {fFIN, 8}} {
		f := buildFrame6(frame6{dstMAC: macNIC, srcMAC: macB, src: "2001:db8::9", dst: "2001:db8::1", next: ipprotoTCP, dport: 80})
		th := f[ethHlen+ip6Hlen:]
		binary.BigEndian.PutUint32(th[4:8], fl.seq)
		th[13] = fl.flags
		require.NoError(t, s.Inject(&Packet{ID: uint64(i), Frame: f}))
	}
	assert.Equal(t, []tcpHookRun{{hook: carrier.HookSockOps, op: SockOpsPassiveEstablishedCB, sock: "srv", value: "found"}}, runs)
	assert.Equal(t, TCPStats{Requests: 1, PassiveEstablished: 1, Fins: 1}, s.TCPStats())
	assert.Empty(t, te.obs.drops)
}

// TestPropertyTCPTable: random segments (flags, sequence numbers, peers,
// ports, IPv4 and IPv6) against a small table never panic or leak; the
// table holds at most its size and its Live count is its occupied slots;
// every sockops and LSM run reads the value tc ingress wrote on that very
// skb; sockops runs are the established counts; the connecting socket
// establishes at most once.
func TestPropertyTCPTable(t *testing.T) {
	setRapidSeed(t)
	rapid.Check(t, func(rt *rapid.T) {
		var runs []tcpHookRun
		cfg := tcpConfig(&runs)
		cfg.Options.TCPConnections = rapid.SampledFrom([]int{4, 8, 64}).Draw(rt, "size")
		cfg.Devices[0].Addrs = append(cfg.Devices[0].Addrs, pfx("2001:db8::1/64"))
		cfg.Sockets[0].Addr = addr("::")
		a := skb.NewAllocator(kmem.New(), skb.DefaultProfile())
		maps := []carrier.MapSpec{{Name: "m", ValueSize: 8}}
		car, err := carrier.New("rfc", carrier.Env{Alloc: a, Acct: a.Accountant()}, maps, carrier.Options{})
		require.NoError(rt, err)
		s, err := New(cfg, Env{Alloc: a, Carrier: car, Maps: maps})
		require.NoError(rt, err)
		n := rapid.IntRange(1, 80).Draw(rt, "packets")
		for i := range n {
			flags := rapid.SampledFrom([]uint8{fSYN, fACK, fSYNACK, fRST, tcpRST | tcpACK, fFIN, fPSH, 0}).Draw(rt, "flags")
			seq := uint32(rapid.IntRange(0, 3).Draw(rt, "seq"))
			var f []byte
			switch rapid.IntRange(0, 3).Draw(rt, "kind") {
			case 0: // to the connecting socket, from its peer or another host
				src := rapid.SampledFrom([]string{tcpPeer, tcpClient}).Draw(rt, "peer")
				f = seg{src: src, sport: 443, dport: 40000, flags: flags, seq: seq}.frame()
			case 1: // IPv6 to the listener
				f = buildFrame6(frame6{dstMAC: macNIC, srcMAC: macB, src: "2001:db8::9", dst: "2001:db8::1", next: ipprotoTCP, dport: 80})
				th := f[ethHlen+ip6Hlen:]
				binary.BigEndian.PutUint16(th[0:2], uint16(1000+rapid.IntRange(0, 5).Draw(rt, "sport6")))
				binary.BigEndian.PutUint32(th[4:8], seq)
				th[13] = flags
			default:
				sport := uint16(1000 + rapid.IntRange(0, 11).Draw(rt, "sport"))
				f = toSrv(sport, flags, seq, rapid.IntRange(0, 1).Draw(rt, "payload")*10).frame()
			}
			_ = s.Inject(&Packet{ID: uint64(i), Frame: f})
			st := s.TCPStats()
			live := 0
			for _, c := range s.tcp.slots {
				if c.state != tcpClosed {
					live++
				}
			}
			require.EqualValues(rt, live, st.Live)
			require.LessOrEqual(rt, live, cfg.Options.TCPConnections)
		}
		st := s.TCPStats()
		sockops := 0
		for _, r := range runs {
			require.Equal(rt, "found", r.value, "%+v", r)
			if r.hook == carrier.HookSockOps {
				sockops++
			}
		}
		require.EqualValues(rt, st.PassiveEstablished+st.ActiveEstablished, sockops)
		require.LessOrEqual(rt, st.ActiveEstablished, uint64(1), "one connect(), one establishment")
		require.NoError(rt, s.Close())
		require.NoError(rt, car.Close())
		require.NoError(rt, a.CheckLeaks())
	})
}
