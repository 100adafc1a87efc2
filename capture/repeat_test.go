package capture

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func writeTemp(tb testing.TB, name string, data []byte) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), name)
	require.NoError(tb, os.WriteFile(path, data, 0o644))
	return path
}

func TestRepeat(t *testing.T) {
	src := writeTemp(t, "demo.pcap", genBytes(t, GenSpec{Preset: "demo", Seed: 1}))
	var out bytes.Buffer
	n, err := Repeat(&out, src, 1000)
	require.NoError(t, err)
	assert.Equal(t, 1200, n, "whole copies of 300 packets")
	r := mustReader(t, "rep.pcap", out.Bytes())
	pkts, err := readAll(t, r)
	require.NoError(t, err)
	require.Len(t, pkts, 1200)
	for i := 1; i < len(pkts); i++ {
		require.Less(t, pkts[i-1].Timestamp, pkts[i].Timestamp+1, "packet %d goes back in time", i)
	}
	for _, i := range []int{0, 17, 299} {
		assert.Equal(t, pkts[i].Data, pkts[i+300].Data)
		assert.Equal(t, pkts[i].Data, pkts[i+900].Data)
	}
	assert.Greater(t, pkts[300].Timestamp, pkts[299].Timestamp)

	_, err = Repeat(io.Discard, filepath.Join(t.TempDir(), "none.pcap"), 10)
	assert.ErrorIs(t, err, ErrRead)
	empty := writeTemp(t, "empty.pcap", newPcap(false, false, 1).bytes())
	_, err = Repeat(io.Discard, empty, 10)
	assert.EqualError(t, err, "repeat: "+empty+": no packets")
}

func TestDecodeOnly(t *testing.T) {
	path := writeTemp(t, "demo.pcap", genBytes(t, GenSpec{Preset: "demo", Seed: 1}))
	n, dur, err := DecodeOnly(path)
	require.NoError(t, err)
	assert.Equal(t, 300, n)
	assert.Positive(t, dur)
	_, _, err = DecodeOnly(path + ".missing")
	assert.ErrorIs(t, err, ErrRead)
	bad := writeTemp(t, "bad.pcap", pcapBytes()[:300])
	n, _, err = DecodeOnly(bad)
	assert.Equal(t, 1, n)
	assert.EqualError(t, err, bad+": packet 1 at byte 140: truncated record (want 200 bytes, have 144)")
}
