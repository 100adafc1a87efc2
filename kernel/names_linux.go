package kernel

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
)

// Prefix starts the name of every namespace, cgroup and pin this package
// creates; the creating process's pid follows it.
const Prefix = "skbsim-"

var seq atomic.Uint64

// newName returns a unique name "skbsim-<pid>-<n>[-what]".
func newName(what string) string {
	n := fmt.Sprintf("%s%d-%d", Prefix, os.Getpid(), seq.Add(1))
	if what != "" {
		n += "-" + what
	}
	return n
}

// ownerPid parses the pid out of a name made by newName; ok is false for
// names that do not follow the pattern (never touched).
func ownerPid(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, Prefix)
	if !ok {
		return 0, false
	}
	p, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	pid, err := strconv.Atoi(p)
	return pid, err == nil && pid > 0
}

// stale reports whether an object named name belongs to this process or to
// a process that no longer runs.
func stale(name string) bool {
	pid, ok := ownerPid(name)
	if !ok {
		return false
	}
	if pid == os.Getpid() {
		return true
	}
	_, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
	return os.IsNotExist(err)
}
