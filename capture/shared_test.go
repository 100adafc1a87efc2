package capture

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The real third-party captures in ../shared/pcaps (relative to the
// repository root) are not part of the repository; these tests skip when
// the folder is absent.
const sharedPcaps = "../../shared/pcaps"

// sharedManifest returns the packet count of every capture listed in the
// MANIFEST, skipping the test when the folder is absent.
func sharedManifest(tb testing.TB) map[string]int {
	tb.Helper()
	f, err := os.Open(filepath.Join(sharedPcaps, "MANIFEST.md"))
	if os.IsNotExist(err) {
		tb.Skip("no shared captures in " + sharedPcaps)
	}
	require.NoError(tb, err)
	defer f.Close()
	counts := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "|")
		if len(cols) < 5 {
			continue
		}
		name := strings.TrimSpace(cols[1])
		n, err := strconv.Atoi(strings.TrimSpace(cols[3]))
		if err != nil || !strings.Contains(name, ".pcap") {
			continue
		}
		counts[name] = n
	}
	require.NoError(tb, sc.Err())
	require.NotEmpty(tb, counts, "MANIFEST lists no captures")
	return counts
}

func sharedPath(name string) string { return filepath.Join(sharedPcaps, name) }

// TestSharedCounts reads every listed capture and compares its packet count
// with the MANIFEST.
func TestSharedCounts(t *testing.T) {
	counts := sharedManifest(t)
	// Where the reader deliberately differs from capinfos.
	override := map[string]struct {
		packets int
		err     error
	}{
		// capinfos stops at the second section's unknown version 2.0; the
		// reader skips that section, as the pcapng draft says, and reads the
		// packet of the third.
		"gopacket__pcapngtest_le_test901.pcapng": {2, nil},
		// The link type is refused before the only packet is delivered.
		"tcpdump__unsupported-link-type-160.pcap": {0, ErrUnsupportedLinkType},
	}
	for name, want := range counts {
		t.Run(name, func(t *testing.T) {
			r, err := Open(sharedPath(name))
			require.NoError(t, err)
			defer r.Close()
			n := 0
			for {
				_, err = r.Next()
				if err != nil {
					break
				}
				n++
			}
			o, ok := override[name]
			if !ok {
				assert.Equal(t, io.EOF, err)
				assert.Equal(t, want, n)
				return
			}
			assert.Equal(t, o.packets, n)
			if o.err == nil {
				assert.Equal(t, io.EOF, err)
			} else {
				assert.ErrorIs(t, err, o.err)
			}
		})
	}
}

func TestSharedUnsupportedLinkType(t *testing.T) {
	sharedManifest(t)
	path := sharedPath("tcpdump__unsupported-link-type-160.pcap")
	r, err := Open(path)
	require.NoError(t, err)
	defer r.Close()
	_, err = r.Next()
	require.Error(t, err)
	assert.Equal(t, path+": packet 0 at byte 24: unsupported link type 160 (USER13)", err.Error())
	assert.ErrorIs(t, err, ErrUnsupportedLinkType)
}

func TestSharedBadTimestamps(t *testing.T) {
	sharedManifest(t)
	r, err := Open(sharedPath("tcpdump__timestamp_invalid_nano.pcap"))
	require.NoError(t, err)
	defer r.Close()
	pkts, err := readAll(t, r)
	require.NoError(t, err)
	require.Len(t, pkts, 3)
	assert.Equal(t, PacketFlags(0), pkts[0].Flags&PktBadTimestamp)
	assert.Equal(t, PktBadTimestamp, pkts[1].Flags&PktBadTimestamp)
	assert.Equal(t, PktBadTimestamp, pkts[2].Flags&PktBadTimestamp)
}

func TestSharedSnapped(t *testing.T) {
	sharedManifest(t)
	for _, name := range []string{"tcpdump__quic_handshake_truncated.pcap", "zeek__tcp_timestamp.pcap"} {
		r, err := Open(sharedPath(name))
		require.NoError(t, err)
		pkts, err := readAll(t, r)
		r.Close()
		require.NoError(t, err)
		snapped := 0
		for _, p := range pkts {
			if p.Flags&PktSnapped != 0 {
				snapped++
				assert.Less(t, p.CapLen, p.OrigLen)
			}
		}
		assert.Positive(t, snapped, name)
	}
}
