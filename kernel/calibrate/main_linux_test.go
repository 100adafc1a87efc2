package calibrate

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"

	"github.com/skbsim/skbsim/internal/testutil"
)

// TestMain fails the run if a calibration program is still loaded after
// the tests: every path must close what it loads.
func TestMain(m *testing.M) {
	code := m.Run()
	if testutil.KernelTestsEnabled() && os.Geteuid() == 0 {
		deadline := time.Now().Add(3 * time.Second)
		for {
			left := loadedCalibPrograms()
			if len(left) == 0 {
				break
			}
			if time.Now().After(deadline) {
				fmt.Fprintln(os.Stderr, "leaked calibration programs:", left)
				if code == 0 {
					code = 99
				}
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	os.Exit(code)
}

// loadedCalibPrograms lists loaded programs named like calib.c's
// measuring programs.
func loadedCalibPrograms() []string {
	var out []string
	for id := ebpf.ProgramID(0); ; {
		next, err := ebpf.ProgramGetNextID(id)
		if err != nil {
			return out
		}
		id = next
		p, err := ebpf.NewProgramFromID(id)
		if err != nil {
			continue
		}
		info, err := p.Info()
		p.Close()
		if err != nil {
			continue
		}
		switch n := info.Name; {
		case strings.HasPrefix(n, "calib_"), n == "pair_tc", n == "pair_cg", n == "loop_tc", n == "loop_cg":
			out = append(out, fmt.Sprintf("%s (id %d)", n, id))
		}
	}
}
