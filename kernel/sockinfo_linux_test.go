package kernel

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestParseNetstat: /proc/net/netstat is pairs of lines, a header of
// names and a line of values with the same prefix. Malformed input is a
// one-line error naming the line, never a panic.
func TestParseNetstat(t *testing.T) {
	good := "TcpExt: ListenOverflows ListenDrops\nTcpExt: 0 3\nMPTcpExt: MPCapableSYNRX\nMPTcpExt: 7\n"
	m, err := parseNetstat([]byte(good))
	require.NoError(t, err)
	assert.Equal(t, map[string]uint64{"TcpExt.ListenOverflows": 0, "TcpExt.ListenDrops": 3, "MPTcpExt.MPCapableSYNRX": 7}, m)

	for name, in := range map[string]string{
		"empty header":    "\n\n",
		"empty values":    "TcpExt: ListenDrops\n\n",
		"short values":    "TcpExt: ListenOverflows ListenDrops\nTcpExt: 0\n",
		"not a number":    "TcpExt: ListenDrops\nTcpExt: x\n",
		"other prefix":    "TcpExt: ListenDrops\nIpExt: 1\n",
		"header only":     "TcpExt: ListenDrops\n",
		"values too long": "TcpExt: ListenDrops\nTcpExt: 1 2\n",
	} {
		t.Run(name, func(t *testing.T) {
			var err error
			require.NotPanics(t, func() { _, err = parseNetstat([]byte(in)) })
			require.Error(t, err)
			assert.Contains(t, err.Error(), "netstat: line ")
		})
	}
}
