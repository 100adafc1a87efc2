package netstack

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/internal/siphash"
)

// TestMultipathHashVectors: the keys, consistentify and SipHash of the
// multipath hash against values a reference model computed and 6.18.44's
// next-hop choices confirmed (seed 0x12345678).
func TestMultipathHashVectors(t *testing.T) {
	const seed = 0x12345678
	key := siphash.Key{seed<<32 | seed, seed<<32 | seed}
	a := netip.MustParseAddr
	for _, tc := range []struct {
		name string
		k    func() mpKeys
		want uint32 // mhash >> 1
	}{
		{"IPv4 L3 192.0.2.10 -> 10.0.0.5", func() mpKeys {
			var k mpKeys
			k.setAddrs(a("192.0.2.10"), a("10.0.0.5"))
			return k
		}, 1151485661},
		{"IPv4 L3, the reverse direction", func() mpKeys {
			var k mpKeys
			k.setAddrs(a("10.0.0.5"), a("192.0.2.10"))
			return k
		}, 1151485661},
		{"IPv4 L4 192.0.2.10:40000 -> 10.0.0.5:443 TCP", func() mpKeys {
			var k mpKeys
			k.setAddrs(a("192.0.2.10"), a("10.0.0.5"))
			k.setPorts(40000, 443)
			k.proto = ipprotoTCP
			return k
		}, 617570768},
		{"IPv4 L4, the reverse direction", func() mpKeys {
			var k mpKeys
			k.setAddrs(a("10.0.0.5"), a("192.0.2.10"))
			k.setPorts(443, 40000)
			k.proto = ipprotoTCP
			return k
		}, 617570768},
		{"IPv6 L3 with a raw flow label 0x12345, UDP", func() mpKeys {
			var k mpKeys
			k.setAddrs(a("2001:db8::1"), a("2001:db8:100::5"))
			k.label, k.proto = mpLabelRaw(0x12345), ipprotoUDP
			return k
		}, 962507722},
		{"IPv6 L4 [2001:db8::1]:1234 -> [2001:db8:100::5]:53 UDP", func() mpKeys {
			var k mpKeys
			k.setAddrs(a("2001:db8::1"), a("2001:db8:100::5"))
			k.setPorts(1234, 53)
			k.proto = ipprotoUDP
			return k
		}, 235462303},
		{"IPv6 L3 inner: the dissector's host-order label", func() mpKeys {
			var k mpKeys
			k.setAddrs(a("2001:db8::1"), a("2001:db8:100::5"))
			k.label, k.proto = mpLabelHost(0x12345), ipprotoUDP
			return k
		}, 2001452920},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := tc.k()
			assert.Equal(t, tc.want, k.hash(key)>>1)
		})
	}
	assert.Equal(t, uint32(0x3386b28c), jhash2Words(0x11223344, 0, 0))
}

// TestMultipathUpperBounds: fib_rebalance's bounds for weights, and a
// dead path's -1.
func TestMultipathUpperBounds(t *testing.T) {
	up, down := &Device{up: true}, &Device{}
	for _, tc := range []struct {
		weights []int32
		dead    int // index of a path through a device that is down, or -1
		want    []int32
	}{
		{[]int32{1, 2}, -1, []int32{715827882, 2147483647}},
		{[]int32{1, 1}, -1, []int32{1073741823, 2147483647}},
		{[]int32{1, 2, 3}, -1, []int32{357913940, 1073741823, 2147483647}},
		{[]int32{3, 5}, -1, []int32{805306367, 2147483647}},
		{[]int32{1, 2, 3}, 1, []int32{536870911, -1, 2147483647}},
	} {
		paths := make([]nexthop, len(tc.weights))
		for i, w := range tc.weights {
			paths[i].weight, paths[i].dev = w, up
			if i == tc.dead {
				paths[i].dev = down
			}
		}
		rebalance(paths)
		got := make([]int32, len(paths))
		for i := range paths {
			got[i] = paths[i].upper
		}
		require.Equal(t, tc.want, got, "%v", tc.weights)
	}
}
