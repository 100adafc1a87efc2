package kernel

import (
	"errors"
	"os"
	"path/filepath"
)

// BPFFS is where pins are made; only names starting with Prefix are touched.
const BPFFS = "/sys/fs/bpf"

// Sweep removes objects with the project prefix left by this process or by
// processes that are no longer running (an interrupted test run): network
// namespaces (which takes their devices and attached programs with them),
// cgroups and bpffs pins. Objects of other running processes are left
// alone. Maps, programs and links that are only held by file descriptors
// die with their process and need no sweeping.
func Sweep() error {
	return errors.Join(sweepNetns(), sweepCgroups(), sweepPins())
}

func sweepPins() error {
	ents, err := os.ReadDir(BPFFS)
	if err != nil {
		return nil // not mounted: no pins
	}
	var errs []error
	for _, e := range ents {
		if stale(e.Name()) {
			if err := os.RemoveAll(filepath.Join(BPFFS, e.Name())); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}
