package kernel

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/internal/testutil"
)

// deadPid returns a pid with no running process.
func deadPid(t *testing.T) int {
	for pid := 4194000; pid > 1000; pid-- {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); os.IsNotExist(err) {
			return pid
		}
	}
	t.Fatal("no free pid found")
	return 0
}

func TestKernelSweep(t *testing.T) {
	testutil.KernelTests(t)
	dead := fmt.Sprintf("%s%d-1-left", Prefix, deadPid(t))
	alive := fmt.Sprintf("%s1-1-alive", Prefix) // pid 1 runs: never swept
	foreign := "skbsimx-1"                      // not the project pattern
	for _, n := range []string{dead, alive, foreign} {
		require.NoError(t, ip("netns", "add", n))
	}
	t.Cleanup(func() {
		for _, n := range []string{alive, foreign} {
			_ = ip("netns", "del", n)
		}
	})
	root, err := cgroup2Root()
	require.NoError(t, err)
	deadCg := filepath.Join(root, dead)
	require.NoError(t, os.Mkdir(deadCg, 0o755))
	t.Cleanup(func() { os.Remove(deadCg) })

	require.NoError(t, Sweep())
	_, err = os.Stat(filepath.Join(netnsDir, dead))
	require.True(t, os.IsNotExist(err), "netns of a dead process swept")
	_, err = os.Stat(deadCg)
	require.True(t, os.IsNotExist(err), "cgroup of a dead process swept")
	for _, n := range []string{alive, foreign} {
		_, err = os.Stat(filepath.Join(netnsDir, n))
		require.NoError(t, err, "%s left alone", n)
	}
}
