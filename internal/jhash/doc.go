// Package jhash is the kernel's Jenkins hash (include/linux/jhash.h, Bob
// Jenkins' lookup3): jhash() over bytes, jhash2() over 32-bit words and
// jhash_2words().
//
// It has a home of its own because two packages need the kernel's bits:
// kernel/calibrate picks keys that collide in a BPF hash map's bucket
// (htab_map_hash), and netstack mixes the custom multipath hash's outer
// and inner parts (fib_multipath_custom_hash_skb) and an IPv4 tunnel's
// inner hash (flowi4_multipath_hash) as the kernel does.
package jhash
