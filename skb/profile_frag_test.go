package skb

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestProfileIPv6FragOptions: the releases the IPv6 reassembly options
// start at (9d9e937b1c8b in v5.10, e29f011e8fc0 in v5.13).
func TestProfileIPv6FragOptions(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		truncFirst, atomicMS bool
	}{
		{"v4.19", false, false},
		{"v5.4", false, false},
		{"v5.10", true, false},
		{"v5.15", true, true},
		{"v6.1", true, true},
		{"v6.19", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ProfileByName(tc.name)
			require.NoError(t, err)
			require.Equal(t, tc.truncFirst, p.IPv6FragDropTruncatedFirst)
			require.Equal(t, tc.atomicMS, p.IPv6AtomicFragMaxSize)
		})
	}
}
