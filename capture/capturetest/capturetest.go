// Package capturetest holds test helpers for packages that replay captures:
// generated captures written into a test's temporary directory, and
// captures cut short as a snaplen would have.
package capturetest

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/capture"
)

// MustGenerate writes capture.Generate(spec) into tb's temporary directory
// and returns the file's path. It fails the test on any error.
func MustGenerate(tb testing.TB, spec capture.GenSpec) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), spec.Preset+".pcap")
	f, err := os.Create(path)
	require.NoError(tb, err)
	w := bufio.NewWriter(f)
	_, err = capture.Generate(w, spec)
	require.NoError(tb, err)
	require.NoError(tb, w.Flush())
	require.NoError(tb, f.Close())
	return path
}

// MustTruncate writes capture src (one link type) again into tb's
// temporary directory with every packet cut to snaplen bytes, its wire
// length kept, as tcpdump -s snaplen would have captured it, and returns
// the new file's path and how many packets were cut. It fails the test on
// any error.
func MustTruncate(tb testing.TB, src string, snaplen int) (string, int64) {
	tb.Helper()
	r, err := capture.Open(src)
	require.NoError(tb, err)
	defer r.Close()
	path := filepath.Join(tb.TempDir(), "cut.pcap")
	f, err := os.Create(path)
	require.NoError(tb, err)
	bw := bufio.NewWriter(f)
	w := pcapgo.NewWriter(bw)
	var cut int64
	for i := 0; ; i++ {
		p, err := r.Next()
		if err == io.EOF {
			break
		}
		require.NoError(tb, err)
		if i == 0 {
			require.NoError(tb, w.WriteFileHeader(uint32(snaplen), layers.LinkType(p.LinkType)))
		}
		n := min(len(p.Data), snaplen)
		if n < p.OrigLen {
			cut++
		}
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(0, p.Timestamp), CaptureLength: n, Length: p.OrigLen}
		require.NoError(tb, w.WritePacket(ci, p.Data[:n]))
	}
	require.NoError(tb, bw.Flush())
	require.NoError(tb, f.Close())
	return path, cut
}
