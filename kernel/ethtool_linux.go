package kernel

import (
	"fmt"
	"slices"
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

const (
	ethtoolGStrings  = 0x1b // ETHTOOL_GSTRINGS
	ethtoolGSsetInfo = 0x37 // ETHTOOL_GSSET_INFO
	ethtoolSFeatures = 0x3b // ETHTOOL_SFEATURES
	ethSSFeatures    = 4    // ETH_SS_FEATURES
	ethGStringLen    = 32   // ETH_GSTRING_LEN
	ethtoolFWish     = 1    // ETHTOOL_F_WISH: a requested feature could not be enabled
)

// ethtoolIoctl runs SIOCETHTOOL on dev with the command buffer at data.
func ethtoolIoctl(fd int, dev string, data unsafe.Pointer) (uintptr, error) {
	var ifr struct {
		name [unix.IFNAMSIZ]byte
		data unsafe.Pointer
		_    [16]byte
	}
	copy(ifr.name[:], dev)
	ifr.data = data
	r, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCETHTOOL, uintptr(unsafe.Pointer(&ifr)))
	if e != 0 {
		return 0, e
	}
	return r, nil
}

// setFeatures switches the named netdev features on for a device of the
// namespace ("rx-gro-list", "rx-udp-gro-forwarding", ...), as `ethtool -K`
// does with the ioctl interface: the feature names and their bit numbers
// from ETHTOOL_GSSET_INFO and ETHTOOL_GSTRINGS (ETH_SS_FEATURES), then
// ETHTOOL_SFEATURES. A feature the device cannot switch on is an error.
func (n *Netns) setFeatures(dev string, names []string) error {
	return n.changeFeatures(dev, names, true)
}

// clearFeatures switches the named netdev features off, as `ethtool -K
// dev NAME off` does.
func (n *Netns) clearFeatures(dev string, names []string) error {
	return n.changeFeatures(dev, names, false)
}

func (n *Netns) changeFeatures(dev string, names []string, on bool) error {
	return n.Do(func() error {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		all, err := featureNames(fd, dev)
		if err != nil {
			return err
		}
		words := (len(all) + 31) / 32
		sf := make([]uint32, 2+2*words) // cmd, size, then {valid, requested} per word
		sf[0], sf[1] = ethtoolSFeatures, uint32(words)
		for _, name := range names {
			bit := slices.Index(all, name)
			if bit < 0 {
				return fmt.Errorf("ethtool %s: no feature %q", dev, name)
			}
			sf[2+2*(bit/32)] |= 1 << (bit % 32) // valid
			if on {
				sf[3+2*(bit/32)] |= 1 << (bit % 32) // requested
			}
		}
		r, err := ethtoolIoctl(fd, dev, unsafe.Pointer(&sf[0]))
		if err != nil {
			return fmt.Errorf("ETHTOOL_SFEATURES %s %v: %w", dev, names, err)
		}
		if r&ethtoolFWish != 0 {
			return fmt.Errorf("ETHTOOL_SFEATURES %s %v on=%v: not all features could be changed", dev, names, on)
		}
		return nil
	})
}

const ethtoolGFeatures = 0x3a // ETHTOOL_GFEATURES

// featureActive reports whether the named netdev feature of a device of
// the namespace is active, as `ethtool -k` shows it: the feature's bit from
// ETHTOOL_GSTRINGS (ETH_SS_FEATURES), then ETHTOOL_GFEATURES.
func (n *Netns) featureActive(dev, name string) (active bool, err error) {
	err = n.Do(func() error {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		bit, count, err := featureBit(fd, dev, name)
		if err != nil {
			return err
		}
		words := (count + 31) / 32
		gf := make([]uint32, 2+4*words) // cmd, size, then {available, requested, active, never_changed} per word
		gf[0], gf[1] = ethtoolGFeatures, uint32(words)
		if _, err := ethtoolIoctl(fd, dev, unsafe.Pointer(&gf[0])); err != nil {
			return fmt.Errorf("ETHTOOL_GFEATURES %s: %w", dev, err)
		}
		active = gf[2+4*(bit/32)+2]&(1<<(bit%32)) != 0
		return nil
	})
	return active, err
}

// featureBit returns the bit of the named netdev feature of dev and the
// number of features, from ETHTOOL_GSSET_INFO and ETHTOOL_GSTRINGS
// (ETH_SS_FEATURES).
func featureBit(fd int, dev, name string) (bit, count int, err error) {
	names, err := featureNames(fd, dev)
	if err != nil {
		return 0, 0, err
	}
	for i, s := range names {
		if s == name {
			return i, len(names), nil
		}
	}
	return 0, 0, fmt.Errorf("ethtool %s: no feature %q", dev, name)
}

// featureNames returns dev's netdev feature names, by bit.
func featureNames(fd int, dev string) ([]string, error) {
	info := struct {
		cmd, reserved uint32
		mask          uint64
		count         uint32
	}{cmd: ethtoolGSsetInfo, mask: 1 << ethSSFeatures}
	if _, err := ethtoolIoctl(fd, dev, unsafe.Pointer(&info)); err != nil {
		return nil, fmt.Errorf("ETHTOOL_GSSET_INFO %s: %w", dev, err)
	}
	if info.mask == 0 || info.count == 0 || info.count > 1024 {
		return nil, fmt.Errorf("ETHTOOL_GSSET_INFO %s: no feature strings (mask %#x, count %d)", dev, info.mask, info.count)
	}
	buf := make([]byte, 12+int(info.count)*ethGStringLen)
	*(*[3]uint32)(unsafe.Pointer(&buf[0])) = [3]uint32{ethtoolGStrings, ethSSFeatures, info.count}
	if _, err := ethtoolIoctl(fd, dev, unsafe.Pointer(&buf[0])); err != nil {
		return nil, fmt.Errorf("ETHTOOL_GSTRINGS %s: %w", dev, err)
	}
	names := make([]string, info.count)
	for i := range names {
		s := buf[12+i*ethGStringLen : 12+(i+1)*ethGStringLen]
		names[i] = string(s[:bytesIndexZero(s)])
	}
	return names, nil
}

func bytesIndexZero(b []byte) int {
	for i, c := range b {
		if c == 0 {
			return i
		}
	}
	return len(b)
}
