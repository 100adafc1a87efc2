package kernel

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

const netnsDir = "/run/netns"

// Netns is a network namespace created by this package (ip netns add), with
// a name starting with Prefix. Close deletes it, which destroys the devices
// inside it and detaches their programs.
type Netns struct {
	Name string
	fd   int
}

// NewNetns creates a network namespace. what is a short tag added to the
// name. IPv6 is disabled inside it (no router solicitations or DAD noise)
// and lo is brought up.
func NewNetns(what string) (*Netns, error) {
	name := newName(what)
	if err := ip("netns", "add", name); err != nil {
		return nil, fmt.Errorf("create netns: %w", err)
	}
	fd, err := unix.Open(filepath.Join(netnsDir, name), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		_ = ip("netns", "del", name)
		return nil, fmt.Errorf("open netns %s: %w", name, err)
	}
	n := &Netns{Name: name, fd: fd}
	err = n.Do(func() error {
		for _, k := range []string{"net/ipv6/conf/all/disable_ipv6", "net/ipv6/conf/default/disable_ipv6"} {
			if err := writeSysctl(k, "1"); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		err = n.IP("link", "set", "lo", "up")
	}
	if err != nil {
		n.Close()
		return nil, fmt.Errorf("set up netns %s: %w", name, err)
	}
	return n, nil
}

// Close deletes the namespace. It is safe to call more than once. Its
// devices are deleted first, one by one: the namespace's own teardown
// (cleanup_net) runs later from a workqueue, and the skbs it frees then
// (queues purged as the devices unregister) would reach the kfree_skb
// probes of a later test watching devices of the same name.
func (n *Netns) Close() error {
	if n == nil || n.fd < 0 {
		return nil
	}
	if ifs, err := n.Interfaces(); err == nil {
		for _, name := range ifs {
			if name != "lo" {
				_ = n.IP("link", "del", name) // a veth's peer may be gone with its other end
			}
		}
	}
	unix.Close(n.fd)
	n.fd = -1
	return ip("netns", "del", n.Name)
}

// Do runs f on an OS thread that has entered the namespace. Sockets f
// creates belong to the namespace; /proc/sys/net read or written by f is the
// namespace's. The thread is discarded afterwards (never unlocked), so the
// caller's thread keeps its namespace.
func (n *Netns) Do(f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // not unlocked: the thread exits with the goroutine
		if err := unix.Setns(n.fd, unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", n.Name, err)
			return
		}
		errc <- f()
	}()
	return <-errc
}

// IP runs `ip -n <ns> args...`.
func (n *Netns) IP(args ...string) error {
	return ip(append([]string{"-n", n.Name}, args...)...)
}

// Bridge runs bridge (iproute2) with args inside the namespace.
func (n *Netns) Bridge(args ...string) error {
	return run("bridge", append([]string{"-n", n.Name}, args...)...)
}

// TC runs tc (iproute2) with args inside the namespace.
func (n *Netns) TC(args ...string) error {
	return run("tc", append([]string{"-n", n.Name}, args...)...)
}

// Sysctl sets a sysctl inside the namespace, key in dotted form
// ("net.core.optmem_max").
func (n *Netns) Sysctl(key, value string) error {
	return n.Do(func() error { return writeSysctl(strings.ReplaceAll(key, ".", "/"), value) })
}

// ReadSysctl reads a sysctl inside the namespace.
func (n *Netns) ReadSysctl(key string) (string, error) {
	var v string
	err := n.Do(func() error {
		b, err := os.ReadFile("/proc/sys/" + strings.ReplaceAll(key, ".", "/"))
		v = strings.TrimSpace(string(b))
		return err
	})
	return v, err
}

// Ifindex returns the index of device dev inside the namespace.
func (n *Netns) Ifindex(dev string) (int, error) {
	var idx int
	err := n.Do(func() error {
		i, err := net.InterfaceByName(dev)
		if err != nil {
			return err
		}
		idx = i.Index
		return nil
	})
	return idx, err
}

// HardwareAddr returns the MAC address of device dev inside the namespace.
func (n *Netns) HardwareAddr(dev string) (net.HardwareAddr, error) {
	var mac net.HardwareAddr
	err := n.Do(func() error {
		i, err := net.InterfaceByName(dev)
		if err == nil {
			mac = i.HardwareAddr
		}
		return err
	})
	return mac, err
}

// Interfaces maps ifindex to device name inside the namespace.
func (n *Netns) Interfaces() (map[int]string, error) {
	m := map[int]string{}
	err := n.Do(func() error {
		ifs, err := net.Interfaces()
		for _, i := range ifs {
			m[i.Index] = i.Name
		}
		return err
	})
	return m, err
}

func writeSysctl(path, value string) error {
	return os.WriteFile("/proc/sys/"+path, []byte(value), 0)
}

// ip runs the ip(8) command and returns its stderr in the error.
func ip(args ...string) error { return run("ip", args...) }

// run runs an iproute2 command, its stderr in the error.
func run(name string, args ...string) error {
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// sweepNetns deletes stale namespaces (see stale).
func sweepNetns() error {
	ents, err := os.ReadDir(netnsDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range ents {
		if stale(e.Name()) {
			errs = append(errs, ip("netns", "del", e.Name()))
		}
	}
	return errors.Join(errs...)
}

// htons converts a 16-bit value to network byte order (packet socket
// protocols).
func htons(v uint16) uint16 { return v<<8 | v>>8 }
