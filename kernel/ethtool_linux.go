package kernel

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	ethtoolGGRO = 0x2b // ETHTOOL_GGRO
	ethtoolSGRO = 0x2c // ETHTOOL_SGRO
)

// setGRO switches NETIF_F_GRO on a device of the namespace with the legacy
// ETHTOOL_SGRO ioctl (veth: GRO on enables the NAPI receive path).
func (n *Netns) setGRO(dev string, on bool) error {
	return n.Do(func() error {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		val := struct{ cmd, data uint32 }{ethtoolSGRO, 0}
		if on {
			val.data = 1
		}
		// struct ifreq with ifr_data pointing at struct ethtool_value.
		var ifr struct {
			name [unix.IFNAMSIZ]byte
			data unsafe.Pointer
			_    [16]byte
		}
		copy(ifr.name[:], dev)
		ifr.data = unsafe.Pointer(&val)
		if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCETHTOOL, uintptr(unsafe.Pointer(&ifr))); e != 0 {
			return fmt.Errorf("ETHTOOL_SGRO %s: %w", dev, e)
		}
		return nil
	})
}
