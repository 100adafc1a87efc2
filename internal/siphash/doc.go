// Package siphash is SipHash-2-4 (Aumasson and Bernstein) as the kernel's
// lib/siphash.c computes it: siphash() over a byte string with a 128-bit
// key given as two 64-bit words (siphash_key_t), the message read as
// little-endian 64-bit words and its length in the last word's top byte.
//
// It has a home of its own because netstack's multipath hash
// (fib_multipath_hash, rt6_multipath_hash) and any later model of
// flow_hash_from_keys need the same bits the kernel computes, so that a
// scenario's next hop can be checked against a real kernel with a fixed
// net.ipv4.fib_multipath_hash_seed. The standard library keeps its own
// hash functions unexported.
package siphash
