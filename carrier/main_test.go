package carrier_test

import (
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/internal/errno"
	"github.com/skbsim/skbsim/internal/testutil"
	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/skb"
)

type tracked struct {
	env carrier.Env
	cs  []carrier.Carrier
}

var (
	trackMu sync.Mutex
	envs    []*tracked
)

// TestMain fails the run when an environment made by newEnv still has live
// skbs, extensions or accountant objects once its carriers are closed.
func TestMain(m *testing.M) {
	code := m.Run()
	trackMu.Lock()
	defer trackMu.Unlock()
	for _, t := range envs {
		for _, c := range t.cs {
			_ = c.Close()
		}
		if err := t.env.Alloc.CheckLeaks(); err != nil {
			fmt.Fprintln(os.Stderr, "carrier leak check:", err)
			code = 1
		}
		t.env.Acct.GracePeriod()
		if o, b := t.env.Acct.Live(); o != 0 {
			fmt.Fprintf(os.Stderr, "carrier leak check: accountant has %d live objects (%d bytes)\n", o, b)
			code = 1
		}
	}
	os.Exit(code)
}

// newEnv returns a shard environment on the default profile (edited by
// opts) that the test's cleanup and TestMain check for leaks.
func newEnv(tb testing.TB, opts ...func(*skb.Profile)) (carrier.Env, *tracked) {
	tb.Helper()
	p := skb.DefaultProfile()
	for _, o := range opts {
		o(&p)
	}
	acct := kmem.New()
	env := carrier.Env{Alloc: skb.NewAllocator(acct, p), Acct: acct}
	t := &tracked{env: env}
	trackMu.Lock()
	envs = append(envs, t)
	trackMu.Unlock()
	tb.Cleanup(func() {
		for _, c := range t.cs {
			require.NoError(tb, c.Close())
		}
		if tb.Failed() {
			return
		}
		require.NoError(tb, env.Alloc.CheckLeaks(), "skb leak in %s", tb.Name())
		acct.GracePeriod()
		o, _ := acct.Live()
		require.Zero(tb, o, "accountant objects left by %s", tb.Name())
	})
	return env, t
}

func mustNew(tb testing.TB, name string, maps []carrier.MapSpec, o carrier.Options, opts ...func(*skb.Profile)) (carrier.Carrier, carrier.Env) {
	tb.Helper()
	env, t := newEnv(tb, opts...)
	c, err := carrier.New(name, env, maps, o)
	require.NoError(tb, err)
	t.cs = append(t.cs, c)
	return c, env
}

// helperT is what test helpers need from testing.TB and rapid.T.
type helperT interface {
	require.TestingT
	Helper()
}

// frameLen is the test frames' length.
const frameLen = 64

// rxSkb returns a received frame as a driver builds it for XDP: a 2 KiB
// page-pool buffer with XDP_PACKET_HEADROOM, data and the mac header at
// the frame start.
func rxSkb(tb helperT, a *skb.Allocator) *skb.Buff {
	tb.Helper()
	b, err := a.BuildSkb(2048)
	require.NoError(tb, err)
	b.Reserve(skb.XDPPacketHeadroom)
	d := b.Put(frameLen)
	for i := range d {
		d[i] = byte(i)
	}
	b.ResetMacHeader()
	return b
}

func val(n int, seed byte) []byte {
	v := make([]byte, n)
	for i := range v {
		v[i] = seed + byte(i)
	}
	return v
}

// show renders a Lookup result: the value in hex or the errno name.
func show(v []byte, err error) string {
	if err != nil {
		if e := errno.Of(err); e != 0 {
			return e.Name()
		}
		return err.Error()
	}
	return hex.EncodeToString(v)
}

func showErr(err error) string {
	if err == nil {
		return "ok"
	}
	return show(nil, err)
}

// setRapid makes rapid use the project's deterministic seed
// (SKBSIM_TEST_SEED) unless -rapid.seed was given, and keeps it from
// writing fail files (a failure prints its seed).
func setRapid(t *testing.T) {
	t.Helper()
	if f := flag.Lookup("rapid.seed"); f != nil && f.Value.String() == "0" {
		require.NoError(t, f.Value.Set(strconv.FormatUint(uint64(testutil.Seed(t)), 10)))
		t.Cleanup(func() { _ = f.Value.Set("0") })
	}
	if f := flag.Lookup("rapid.nofailfile"); f != nil {
		require.NoError(t, f.Value.Set("true"))
	}
}
