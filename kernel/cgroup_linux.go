package kernel

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Cgroup is a cgroup v2 directory created by this package (name starting
// with Prefix) under the cgroup2 mount.
type Cgroup struct {
	Path string
}

// cgroup2Root returns the mount point of the cgroup2 hierarchy.
func cgroup2Root() (string, error) {
	f, err := os.Open("/proc/self/mounts")
	if err != nil {
		return "", err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		fs := strings.Fields(s.Text())
		if len(fs) >= 3 && fs[2] == "cgroup2" {
			return fs[1], nil
		}
	}
	return "", errors.New("no cgroup2 mount in /proc/self/mounts")
}

// NewCgroup creates a cgroup.
func NewCgroup() (*Cgroup, error) {
	root, err := cgroup2Root()
	if err != nil {
		return nil, fmt.Errorf("create cgroup: %w", err)
	}
	p := filepath.Join(root, newName("cg"))
	if err := os.Mkdir(p, 0o755); err != nil {
		return nil, fmt.Errorf("create cgroup: %w", err)
	}
	return &Cgroup{Path: p}, nil
}

// Enter moves the whole process into the cgroup (sockets take their cgroup
// at creation, so enter before creating the sockets a program should see)
// and returns a function that moves it back to the cgroup it was in.
func (c *Cgroup) Enter() (leave func() error, err error) {
	root, err := cgroup2Root()
	if err != nil {
		return nil, err
	}
	orig, err := currentCgroup()
	if err != nil {
		return nil, err
	}
	if err := writePid(c.Path); err != nil {
		return nil, fmt.Errorf("enter cgroup: %w", err)
	}
	return func() error { return writePid(filepath.Join(root, orig)) }, nil
}

// Close removes the cgroup (it must be empty: call leave first).
func (c *Cgroup) Close() error {
	if err := os.Remove(c.Path); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("remove cgroup: %w", err)
	}
	return nil
}

func writePid(dir string) error {
	return os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(os.Getpid())), 0)
}

// currentCgroup returns the process's cgroup v2 path ("0::/path").
func currentCgroup() (string, error) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if p, ok := strings.CutPrefix(l, "0::"); ok {
			return p, nil
		}
	}
	return "", errors.New("no cgroup v2 entry in /proc/self/cgroup")
}

// sweepCgroups removes stale cgroups, first moving this process back to the
// root if it is still inside one of them.
func sweepCgroups() error {
	root, err := cgroup2Root()
	if err != nil {
		return nil // nothing of ours can exist
	}
	ents, err := os.ReadDir(root)
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range ents {
		if !e.IsDir() || !stale(e.Name()) {
			continue
		}
		p := filepath.Join(root, e.Name())
		if cur, err := currentCgroup(); err == nil && strings.HasPrefix(cur, "/"+e.Name()) {
			errs = append(errs, writePid(root))
		}
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
