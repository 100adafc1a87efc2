package capture

import (
	"encoding/binary"
	"net/netip"
)

// Flow hashing. The hash is part of the package's contract: it never depends
// on the process (no per-run seed), so shard assignments are reproducible
// across runs, machines and versions. TestFlowHashGolden pins its values.

const (
	hashSeed = 0x736b6273696d3031 // "skbsim01"
	hashMul  = 0x9e3779b97f4a7c15
)

// mix folds one 64-bit word into h.
func mix(h, w uint64) uint64 {
	h ^= w
	h *= hashMul
	return h ^ h>>32
}

// fmix64 is MurmurHash3's finaliser.
func fmix64(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// addrLess orders two endpoints by address, then port.
func endpointLess(a [16]byte, ap uint16, b [16]byte, bp uint16) bool {
	x0, y0 := binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(b[:8])
	if x0 != y0 {
		return x0 < y0
	}
	x1, y1 := binary.BigEndian.Uint64(a[8:]), binary.BigEndian.Uint64(b[8:])
	if x1 != y1 {
		return x1 < y1
	}
	return ap < bp
}

// Hash returns a stable, symmetric 64-bit hash of the key: k.Hash() ==
// k.Reverse().Hash(), so both directions of a flow land in the same shard.
// The zero key hashes to a fixed value.
func (k FlowKey) Hash() uint64 {
	if k.Src.Is4() && k.Dst.Is4() {
		// IPv4, the common case, on 64-bit words: address<<16 | port.
		s4, d4 := k.Src.As4(), k.Dst.As4()
		a := uint64(binary.BigEndian.Uint32(s4[:]))<<16 | uint64(k.SrcPort)
		b := uint64(binary.BigEndian.Uint32(d4[:]))<<16 | uint64(k.DstPort)
		if b < a {
			a, b = b, a
		}
		h := uint64(hashSeed) ^ uint64(k.Proto)<<56
		return fmix64(mix(mix(h, a), b))
	}
	a, b := k.Src.As16(), k.Dst.As16()
	if !k.Src.IsValid() {
		a = [16]byte{}
	}
	if !k.Dst.IsValid() {
		b = [16]byte{}
	}
	ap, bp := k.SrcPort, k.DstPort
	if endpointLess(b, bp, a, ap) {
		a, b = b, a
		ap, bp = bp, ap
	}
	h := uint64(hashSeed)
	h = mix(h, binary.BigEndian.Uint64(a[:8]))
	h = mix(h, binary.BigEndian.Uint64(a[8:]))
	h = mix(h, binary.BigEndian.Uint64(b[:8]))
	h = mix(h, binary.BigEndian.Uint64(b[8:]))
	h = mix(h, uint64(ap)<<24|uint64(bp)<<8|uint64(k.Proto))
	return fmix64(h)
}

// l2Hash is the symmetric hash of a frame without IP: its MAC addresses and
// EtherType.
func l2Hash(src, dst MAC, etherType uint16) uint64 {
	a := uint64(binary.BigEndian.Uint16(src[:2]))<<32 | uint64(binary.BigEndian.Uint32(src[2:]))
	b := uint64(binary.BigEndian.Uint16(dst[:2]))<<32 | uint64(binary.BigEndian.Uint32(dst[2:]))
	if b < a {
		a, b = b, a
	}
	h := uint64(hashSeed) ^ 0x4c32 // "L2"
	h = mix(h, a)
	h = mix(h, b)
	h = mix(h, uint64(etherType))
	return fmix64(h)
}

// addrFrom4 and addrFrom16 build addresses from packet bytes without
// allocating.
func addrFrom4(b []byte) netip.Addr {
	return netip.AddrFrom4([4]byte(b[:4]))
}

func addrFrom16(b []byte) netip.Addr {
	return netip.AddrFrom16([16]byte(b[:16]))
}
