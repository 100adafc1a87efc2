//go:build unix

package main

import (
	"syscall"
	"time"
)

// cpuTime is the user and system CPU time of the process so far: on a
// machine shared with other work, the figure wall-clock rates hide.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
