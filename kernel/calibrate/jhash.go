package calibrate

import (
	"encoding/binary"
	"math/bits"
)

// jhash models the kernel's jhash() (include/linux/jhash.h, Bob Jenkins'
// lookup3 hashlittle) over key bytes.
func jhash(key []byte, initval uint32) uint32 {
	a := 0xdeadbeef + uint32(len(key)) + initval
	b, c := a, a
	k := key
	for len(k) > 12 {
		a += binary.LittleEndian.Uint32(k[0:])
		b += binary.LittleEndian.Uint32(k[4:])
		c += binary.LittleEndian.Uint32(k[8:])
		a, b, c = jhashMix(a, b, c)
		k = k[12:]
	}
	if len(k) == 0 {
		return c
	}
	var tail [12]byte
	copy(tail[:], k)
	a += binary.LittleEndian.Uint32(tail[0:])
	b += binary.LittleEndian.Uint32(tail[4:])
	c += binary.LittleEndian.Uint32(tail[8:])
	return jhashFinal(a, b, c)
}

// jhash2 models the kernel's jhash2() over 32-bit words, which
// htab_map_hash() uses for keys whose size is a multiple of 4.
func jhash2(k []uint32, initval uint32) uint32 {
	a := 0xdeadbeef + uint32(len(k))<<2 + initval
	b, c := a, a
	for len(k) > 3 {
		a += k[0]
		b += k[1]
		c += k[2]
		a, b, c = jhashMix(a, b, c)
		k = k[3:]
	}
	switch len(k) {
	case 3:
		c += k[2]
		fallthrough
	case 2:
		b += k[1]
		fallthrough
	case 1:
		a += k[0]
		return jhashFinal(a, b, c)
	}
	return c
}

func jhashMix(a, b, c uint32) (uint32, uint32, uint32) {
	a -= c
	a ^= bits.RotateLeft32(c, 4)
	c += b
	b -= a
	b ^= bits.RotateLeft32(a, 6)
	a += c
	c -= b
	c ^= bits.RotateLeft32(b, 8)
	b += a
	a -= c
	a ^= bits.RotateLeft32(c, 16)
	c += b
	b -= a
	b ^= bits.RotateLeft32(a, 19)
	a += c
	c -= b
	c ^= bits.RotateLeft32(b, 4)
	b += a
	return a, b, c
}

func jhashFinal(a, b, c uint32) uint32 {
	c ^= b
	c -= bits.RotateLeft32(b, 14)
	a ^= c
	a -= bits.RotateLeft32(c, 11)
	b ^= a
	b -= bits.RotateLeft32(a, 25)
	c ^= b
	c -= bits.RotateLeft32(b, 16)
	a ^= c
	a -= bits.RotateLeft32(c, 4)
	b ^= a
	b -= bits.RotateLeft32(a, 14)
	c ^= b
	c -= bits.RotateLeft32(b, 24)
	return c
}

// htabHash64 is htab_map_hash() for an 8-byte key in a BPF_F_ZERO_SEED map
// (hashrnd 0). jhash and jhash2 agree on 8-byte keys, so the result does not
// depend on which of the two the kernel version uses.
func htabHash64(key uint64) uint32 {
	return jhash2([]uint32{uint32(key), uint32(key >> 32)}, 0)
}

// collidingKeys returns n distinct 8-byte keys that all fall in bucket 0 of
// a zero-seed hash map with nbuckets buckets (a power of two), in
// increasing order, starting the search at from.
func collidingKeys(n int, nbuckets uint32, from uint64) []uint64 {
	keys := make([]uint64, 0, n)
	for k := from; len(keys) < n; k++ {
		if htabHash64(k)&(nbuckets-1) == 0 {
			keys = append(keys, k)
		}
	}
	return keys
}
