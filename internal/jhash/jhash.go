package jhash

import (
	"encoding/binary"
	"math/bits"
)

// initval is JHASH_INITVAL.
const initval = 0xdeadbeef

// Bytes models jhash(key, length, initval) (lookup3's hashlittle).
func Bytes(key []byte, seed uint32) uint32 {
	a := initval + uint32(len(key)) + seed
	b, c := a, a
	k := key
	for len(k) > 12 {
		a += binary.LittleEndian.Uint32(k[0:])
		b += binary.LittleEndian.Uint32(k[4:])
		c += binary.LittleEndian.Uint32(k[8:])
		a, b, c = mix(a, b, c)
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
	return final(a, b, c)
}

// Words models jhash2(k, length, initval) over 32-bit words, which
// htab_map_hash() uses for keys whose size is a multiple of 4.
func Words(k []uint32, seed uint32) uint32 {
	a := initval + uint32(len(k))<<2 + seed
	b, c := a, a
	for len(k) > 3 {
		a += k[0]
		b += k[1]
		c += k[2]
		a, b, c = mix(a, b, c)
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
		return final(a, b, c)
	}
	return c
}

// TwoWords models jhash_2words(a, b, initval): __jhash_nwords(a, b, 0,
// initval + JHASH_INITVAL + (2 << 2)).
func TwoWords(a, b, seed uint32) uint32 {
	iv := seed + initval + 2<<2
	return final(a+iv, b+iv, iv)
}

// mix is __jhash_mix.
func mix(a, b, c uint32) (uint32, uint32, uint32) {
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

// final is __jhash_final.
func final(a, b, c uint32) uint32 {
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
