package diff

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skbsim/skbsim/internal/testutil"
	"github.com/skbsim/skbsim/kernel"
)

// TestMain sweeps objects an interrupted earlier run left, runs the tests,
// and fails the run (exit 99) if this process left a namespace, cgroup or
// pin behind.
func TestMain(m *testing.M) {
	enabled := testutil.KernelTestsEnabled() && os.Geteuid() == 0
	if enabled {
		if err := kernel.Sweep(); err != nil {
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
		if err := kernel.Sweep(); err != nil {
			fmt.Fprintln(os.Stderr, "sweep after tests:", err)
		}
	}
	os.Exit(code)
}

// leftovers lists this process's objects (named kernel.Prefix<pid>-...)
// that still exist.
func leftovers() []string {
	own := fmt.Sprintf("%s%d-", kernel.Prefix, os.Getpid())
	dirs := []string{"/run/netns", kernel.BPFFS}
	if root := cgroup2Root(); root != "" {
		dirs = append(dirs, root)
	}
	var out []string
	for _, dir := range dirs {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), own) {
				out = append(out, filepath.Join(dir, e.Name()))
			}
		}
	}
	return out
}

func cgroup2Root() string {
	f, err := os.Open("/proc/self/mounts")
	if err != nil {
		return ""
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if fs := strings.Fields(s.Text()); len(fs) >= 3 && fs[2] == "cgroup2" {
			return fs[1]
		}
	}
	return ""
}
