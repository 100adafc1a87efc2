package skb

import (
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/kmem"
)

var (
	allocsMu sync.Mutex
	allocs   []*Allocator
)

// TestMain fails the run when any allocator created through newAlloc still
// has live skbs, buffers or extensions, or the accountant live objects.
func TestMain(m *testing.M) {
	code := m.Run()
	allocsMu.Lock()
	defer allocsMu.Unlock()
	for _, a := range allocs {
		if err := a.CheckLeaks(); err != nil {
			fmt.Fprintln(os.Stderr, "skb leak check:", err)
			code = 1
		}
		if o, b := a.acct.Live(); o != 0 {
			fmt.Fprintf(os.Stderr, "skb leak check: accountant has %d live objects (%d bytes)\n", o, b)
			code = 1
		}
	}
	os.Exit(code)
}

// newAlloc returns an allocator on a fresh accountant with the default
// profile (edited by opts) that TestMain checks for leaks; the test's
// cleanup checks it too, so a leak names the test.
func newAlloc(tb testing.TB, opts ...func(*Profile)) *Allocator {
	tb.Helper()
	p := DefaultProfile()
	for _, o := range opts {
		o(&p)
	}
	a := NewAllocator(kmem.New(), p)
	allocsMu.Lock()
	allocs = append(allocs, a)
	allocsMu.Unlock()
	tb.Cleanup(func() {
		if !tb.Failed() {
			require.NoError(tb, a.CheckLeaks(), "leak in %s", tb.Name())
		}
	})
	return a
}

// withProfile returns an option that replaces the profile by the named one.
func withProfile(name string) func(*Profile) {
	return func(p *Profile) {
		q, err := ProfileByName(name)
		if err != nil {
			panic(err)
		}
		*p = q
	}
}

// mustAlloc allocates an skb of size bytes with headroom reserved and len
// bytes of data 0, 1, 2, ...
func mustAlloc(tb testing.TB, a *Allocator, headroom, length int) *Buff {
	tb.Helper()
	b, err := a.AllocSkb(headroom + length)
	require.NoError(tb, err)
	b.Reserve(headroom)
	d := b.Put(length)
	for i := range d {
		d[i] = byte(i)
	}
	return b
}

// fakeStorage counts ExtDestroy calls.
type fakeStorage struct {
	name      string
	destroyed int
}

func (s *fakeStorage) ExtDestroy() { s.destroyed++ }

// mustPanic runs f and returns the panic message; it fails if f returns.
func mustPanic(tb testing.TB, f func()) (msg string) {
	tb.Helper()
	defer func() {
		r := recover()
		if r == nil {
			tb.Fatal("did not panic")
		}
		msg = fmt.Sprint(r)
	}()
	f()
	return ""
}
