package kernel

import (
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/internal/testutil"
)

// TestMain sweeps objects left by an interrupted earlier run before the
// tests, and anything the tests leaked after them (a leak fails the run).
func TestMain(m *testing.M) {
	enabled := testutil.KernelTestsEnabled() && os.Geteuid() == 0
	if enabled {
		if err := Sweep(); err != nil {
			fmt.Fprintln(os.Stderr, "sweep before tests:", err)
		}
	}
	code := m.Run()
	if enabled {
		if left := leftovers(); len(left) > 0 {
			fmt.Fprintln(os.Stderr, "leaked objects:", left)
			if code == 0 {
				code = 99
			}
		}
		if err := Sweep(); err != nil {
			fmt.Fprintln(os.Stderr, "sweep after tests:", err)
		}
	}
	os.Exit(code)
}

// leftovers lists this process's objects that still exist.
func leftovers() []string {
	var out []string
	own := fmt.Sprintf("%s%d-", Prefix, os.Getpid())
	for _, dir := range []string{netnsDir, BPFFS} {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if len(e.Name()) >= len(own) && e.Name()[:len(own)] == own {
				out = append(out, dir+"/"+e.Name())
			}
		}
	}
	if root, err := cgroup2Root(); err == nil {
		ents, _ := os.ReadDir(root)
		for _, e := range ents {
			if len(e.Name()) >= len(own) && e.Name()[:len(own)] == own {
				out = append(out, root+"/"+e.Name())
			}
		}
	}
	return out
}

func newNetns(tb testing.TB, what string) *Netns {
	tb.Helper()
	n, err := NewNetns(what)
	require.NoError(tb, err)
	tb.Cleanup(func() { require.NoError(tb, n.Close()) })
	return n
}

func newStorageMap(tb testing.TB, spec StorageMapSpec) *StorageMap {
	tb.Helper()
	m, err := NewStorageMap(spec)
	require.NoError(tb, err)
	tb.Cleanup(func() { m.Close() })
	return m
}

func newSocket(tb testing.TB, n *Netns, domain, typ, proto int) int {
	tb.Helper()
	fd, err := n.Socket(domain, typ, proto)
	require.NoError(tb, err)
	tb.Cleanup(func() { closeFD(fd) })
	return fd
}

// skSpec is the socket storage spec of kernel_lab §3 with value size v.
func skSpec(v uint32, flags uint32) StorageMapSpec {
	return StorageMapSpec{Type: MapSkStorage, ValueSize: v, Flags: flags}
}
