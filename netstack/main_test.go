package netstack

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/skb"
)

var (
	allocsMu sync.Mutex
	allocs   []*skb.Allocator
)

// TestMain fails the run when an allocator made by newEnv still has live
// skbs, buffers or extensions, or its accountant live objects.
func TestMain(m *testing.M) {
	code := m.Run()
	allocsMu.Lock()
	defer allocsMu.Unlock()
	for _, a := range allocs {
		if err := a.CheckLeaks(); err != nil {
			fmt.Fprintln(os.Stderr, "netstack leak check:", err)
			code = 1
		}
		if o, b := a.Accountant().Live(); o != 0 {
			fmt.Fprintf(os.Stderr, "netstack leak check: accountant has %d live objects (%d bytes)\n", o, b)
			code = 1
		}
	}
	os.Exit(code)
}

// recorder is an Observer that keeps everything.
type recorder struct {
	runs   []ProgRunEvent
	reads  []MapReadEvent
	drops  []DropEvent
	delivs []DeliverEvent
	traces []TraceEvent
	rxMeta []RxMetaEvent
	fib    []HelperEvent
}

func (r *recorder) ProgRun(e ProgRunEvent) { r.runs = append(r.runs, e) }
func (r *recorder) MapRead(e MapReadEvent) { r.reads = append(r.reads, e) }
func (r *recorder) Drop(e DropEvent)       { r.drops = append(r.drops, e) }
func (r *recorder) Deliver(e DeliverEvent) { r.delivs = append(r.delivs, e) }
func (r *recorder) Trace(e TraceEvent)     { r.traces = append(r.traces, e) }
func (r *recorder) RxMeta(e RxMetaEvent)   { r.rxMeta = append(r.rxMeta, e) }
func (r *recorder) Helper(e HelperEvent)   { r.fib = append(r.fib, e) }

// delivered counts the deliveries of kind k.
func (r *recorder) delivered(k DeliverKind) uint64 {
	var n uint64
	for _, e := range r.delivs {
		if e.Kind == k {
			n++
		}
	}
	return n
}

func (r *recorder) dropReasons() []string {
	var out []string
	for _, d := range r.drops {
		out = append(out, d.Reason.Name()+"@"+d.Loc.String())
	}
	return out
}

type testEnv struct {
	a   *skb.Allocator
	obs *recorder
}

// testProfile is the named profile ("" is the default, v6.18).
func testProfile(tb testing.TB, name string) skb.Profile {
	tb.Helper()
	if name == "" {
		return skb.DefaultProfile()
	}
	p, err := skb.ProfileByName(name)
	require.NoError(tb, err)
	return p
}

// newStackErr builds cfg under the named profile and returns New's error.
func newStackErr(tb testing.TB, cfg *Config, profile string) error {
	tb.Helper()
	_, err := New(cfg, Env{Alloc: skb.NewAllocator(kmem.New(), testProfile(tb, profile)), Observer: NopObserver{}})
	return err
}

// newStack builds cfg on a fresh allocator (profile name, "" = default)
// with car (may be nil) and registers leak checks; the stack is closed in
// the test's cleanup.
func newStack(tb testing.TB, cfg *Config, profile string, car func(carrier.Env) carrier.Carrier, maps []carrier.MapSpec) (*Stack, *testEnv) {
	tb.Helper()
	return newStackProf(tb, cfg, testProfile(tb, profile), car, maps)
}

// newStackProf is newStack under profile prof.
func newStackProf(tb testing.TB, cfg *Config, prof skb.Profile, car func(carrier.Env) carrier.Carrier, maps []carrier.MapSpec) (*Stack, *testEnv) {
	tb.Helper()
	a := skb.NewAllocator(kmem.New(), prof)
	allocsMu.Lock()
	allocs = append(allocs, a)
	allocsMu.Unlock()
	te := &testEnv{a: a, obs: &recorder{}}
	env := Env{Alloc: a, Observer: te.obs, Maps: maps}
	if car != nil {
		env.Carrier = car(carrier.Env{Alloc: a, Acct: a.Accountant()})
	}
	s, err := New(cfg, env)
	require.NoError(tb, err)
	tb.Cleanup(func() {
		require.NoError(tb, s.Close())
		a.Accountant().GracePeriod() // RCU-deferred frees (metadata dsts) complete
		if env.Carrier != nil {
			require.NoError(tb, env.Carrier.Close())
		}
		if !tb.Failed() {
			require.NoError(tb, a.CheckLeaks(), "leak in %s", tb.Name())
		}
	})
	return s, te
}

var (
	macA = [6]byte{0x02, 0, 0, 0, 0, 0xa}
	macB = [6]byte{0x02, 0, 0, 0, 0, 0xb}
)

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }
func addr(s string) netip.Addr  { return netip.MustParseAddr(s) }

// frameOpts describes a test frame.
type frameOpts struct {
	dstMAC, srcMAC [6]byte
	src, dst       string
	proto          uint8
	sport, dport   uint16
	payload        int
	tos, ttl       uint8
	id             uint16
	fragOff        uint16 // flags+offset as on the wire
	seq, ack       uint32
	tcpFlags       uint8
	badCsum        bool
	noEth          bool
}

// buildFrame returns an Ethernet + IPv4 + UDP/TCP frame.
func buildFrame(o frameOpts) []byte {
	if o.proto == 0 {
		o.proto = ipprotoUDP
	}
	if o.ttl == 0 {
		o.ttl = 64
	}
	l4 := udpHlen
	if o.proto == ipprotoTCP {
		l4 = 20
	}
	ipLen := ipHlen + l4 + o.payload
	f := make([]byte, ethHlen+ipLen)
	writeEth(f, o.dstMAC, o.srcMAC, ethPIP)
	ip := f[ethHlen:]
	writeIPv4(ip, o.tos, ipLen, o.id, false, o.ttl, o.proto, addr(o.src), addr(o.dst))
	if o.fragOff != 0 {
		binary.BigEndian.PutUint16(ip[6:8], o.fragOff)
		setIPCsum(ip, ipHlen)
	}
	if o.badCsum {
		ip[10] ^= 0xff
	}
	th := ip[ipHlen:]
	binary.BigEndian.PutUint16(th[0:2], o.sport)
	binary.BigEndian.PutUint16(th[2:4], o.dport)
	if o.proto != ipprotoTCP { // UDP (or ICMP with the same eight bytes)
		binary.BigEndian.PutUint16(th[4:6], uint16(l4+o.payload))
	} else {
		binary.BigEndian.PutUint32(th[4:8], o.seq)
		binary.BigEndian.PutUint32(th[8:12], o.ack)
		th[12] = 5 << 4
		th[13] = o.tcpFlags
	}
	for i := range o.payload {
		th[l4+i] = byte(i)
	}
	if o.noEth {
		return f[ethHlen:]
	}
	return f
}
