package sim

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/capture"
	"github.com/skbsim/skbsim/capture/capturetest"
	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/netstack"
)

// sharedPcaps is the folder of third-party captures next to the repository
// (see its MANIFEST.md); the tests over it skip when it is absent.
const sharedPcaps = "../../shared/pcaps"

// TestSharedPcaps replays every third-party capture through the built-in
// scenario: no panic, no leak, and damaged captures end in a one-line
// error naming the file and where reading stopped.
func TestSharedPcaps(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(sharedPcaps, "*.pcap*"))
	if len(files) == 0 {
		t.Skip("no captures in " + sharedPcaps)
	}
	if testing.Short() {
		files = files[:min(len(files), 8)]
	}
	s := mustBuiltin(t)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			rep, err := Replay(s, []string{f}, Options{Workers: 2})
			if rep == nil {
				// Unreadable from the first byte: bad magic, unsupported
				// link type or version in the file header.
				require.Error(t, err)
				assertOneLineCaptureError(t, err, f)
				return
			}
			assert.Zero(t, rep.LiveObjectsAtEnd, "leaks: %v", rep.Leaks)
			assert.Empty(t, rep.Leaks)
			if err != nil {
				assertOneLineCaptureError(t, err, f)
				assert.False(t, rep.Complete)
				return
			}
			assert.True(t, rep.Complete)
		})
	}
}

func assertOneLineCaptureError(t *testing.T, err error, file string) {
	t.Helper()
	var ce *capture.Error
	require.True(t, errors.As(err, &ce), "%v is a *capture.Error", err)
	msg := err.Error()
	assert.False(t, strings.ContainsAny(msg, "\r\n"), "one line: %q", msg)
	assert.True(t, strings.HasPrefix(msg, file+": packet "), "names the file and packet: %q", msg)
	assert.Contains(t, msg, " at byte ")
}

// TestSharedPcapsDamaged pins the behaviour on the captures MANIFEST.md
// lists as malformed.
func TestSharedPcapsDamaged(t *testing.T) {
	path := func(n string) string { return filepath.Join(sharedPcaps, n) }
	if _, err := os.Stat(path("MANIFEST.md")); err != nil {
		t.Skip("no " + sharedPcaps)
	}
	s := mustBuiltin(t)
	// The second section declares version 2.0: the reader skips it, as
	// pcapgo's SkipUnknownVersion does, and reports both packets.
	rep, err := Replay(s, []string{path("gopacket__pcapngtest_le_test901.pcapng")}, Options{})
	require.NoError(t, err)
	assert.True(t, rep.Complete)
	assert.EqualValues(t, 2, rep.PacketsRead)

	rep, err = Replay(s, []string{path("tcpdump__empty.pcap")}, Options{})
	require.NoError(t, err)
	assert.True(t, rep.Complete)
	assert.Zero(t, rep.PacketsRead)

	_, err = Replay(s, []string{path("tcpdump__unsupported-link-type-160.pcap")}, Options{})
	require.Error(t, err)
	assert.ErrorIs(t, err, capture.ErrUnsupportedLinkType)
}

// TestSharedPcapsAboveGRO: the Linux cooked capture of an HTTP download
// was taken above GRO: 79 of its frames are receive aggregates of up to
// 65 KB. Accepted as they are (the default), the built-in scenario's
// forwarding drops them as PKT_TOO_BIG at the veth's MTU; cut into the
// wire frames the server sent (above_mtu: segment), GRO merges them again
// and none is too big; as hardware GRO aggregates they are GSO skbs,
// forwarded whole.
func TestSharedPcapsAboveGRO(t *testing.T) {
	f := filepath.Join(sharedPcaps, "suricata-verify__decode-sll2-02_input.pcap")
	if _, err := os.Stat(f); err != nil {
		t.Skip("no " + f)
	}
	run := func(mode string, noXDP bool) *Report {
		s := mustBuiltin(t)
		for i := range s.Stack.Entries {
			s.Stack.Entries[i].AboveMTU = mode
		}
		if noXDP {
			progs := s.Stack.Programs[:0]
			for _, p := range s.Stack.Programs {
				if p.Hook != carrier.HookXDP {
					progs = append(progs, p)
				}
			}
			s.Stack.Programs = progs
		}
		rep, err := Replay(s, []string{f}, Options{Workers: 2})
		require.NoError(t, err)
		require.Zero(t, rep.LiveObjectsAtEnd)
		return rep
	}
	tooBig := func(r *Report) uint64 { return Count(r.Drops, "PKT_TOO_BIG") }
	acc := run(netstack.AboveMTUAccept, false)
	assert.Equal(t, uint64(79), tooBig(acc))
	seg := run(netstack.AboveMTUSegment, false)
	assert.Zero(t, tooBig(seg))
	assert.Equal(t, uint64(79), Count(seg.Stack, "above_mtu_cut"))
	assert.Greater(t, Count(seg.Stack, "above_mtu_cut_frames"), uint64(79*10))
	assert.Positive(t, Count(seg.Stack, "gro_aggregates"))
	hw := run(netstack.AboveMTUGROHW, true)
	assert.Zero(t, tooBig(hw))
	assert.Equal(t, uint64(79), Count(hw.Stack, "above_mtu_gro_hw"))
}

// TestSharedPcapsTruncated: zeek's tcp/timestamp.pcap cut its data
// packets to 96 bytes. Replayed as it is, ip_rcv drops them as
// PKT_TOO_SMALL; padded to their wire length (PadTruncated), none is,
// and the report counts the padded ones.
func TestSharedPcapsTruncated(t *testing.T) {
	f := filepath.Join(sharedPcaps, "zeek__tcp_timestamp.pcap")
	if _, err := os.Stat(f); err != nil {
		t.Skip("no " + f)
	}
	s := mustBuiltin(t)
	plain, err := Replay(s, []string{f}, Options{})
	require.NoError(t, err)
	assert.Positive(t, Count(plain.Drops, "PKT_TOO_SMALL"))
	padded, err := Replay(s, []string{f}, Options{PadTruncated: true})
	require.NoError(t, err)
	assert.Zero(t, Count(padded.Drops, "PKT_TOO_SMALL"))
	assert.Equal(t, Count(plain.Drops, "PKT_TOO_SMALL"), uint64(padded.Files[0].Padded), "each packet cut short was dropped as too small")
	assert.Zero(t, padded.LiveObjectsAtEnd)
}

// TestSharedPcapsAboveGROTruncated: the above-GRO capture of
// TestSharedPcapsAboveGRO cut to 200 bytes a packet: its 79 aggregates
// then fit the MTU as captured, reach ip_rcv whole and are dropped there
// as too small, as every other packet cut short; padded to their wire
// length, all 79 are cut into wire frames again and nothing is too small.
func TestSharedPcapsAboveGROTruncated(t *testing.T) {
	f := filepath.Join(sharedPcaps, "suricata-verify__decode-sll2-02_input.pcap")
	if _, err := os.Stat(f); err != nil {
		t.Skip("no " + f)
	}
	cut, n := capturetest.MustTruncate(t, f, 200)
	require.Positive(t, n)
	s := mustBuiltin(t)
	for i := range s.Stack.Entries {
		s.Stack.Entries[i].AboveMTU = netstack.AboveMTUSegment
	}
	plain, err := Replay(s, []string{cut}, Options{})
	require.NoError(t, err)
	assert.Equal(t, uint64(n), Count(plain.Drops, "PKT_TOO_SMALL"))
	assert.Zero(t, Count(plain.Stack, "above_mtu_cut"))
	padded, err := Replay(s, []string{cut}, Options{PadTruncated: true})
	require.NoError(t, err)
	assert.Zero(t, Count(padded.Drops, "PKT_TOO_BIG"))
	assert.Zero(t, Count(padded.Drops, "PKT_TOO_SMALL"))
	assert.Equal(t, uint64(79), Count(padded.Stack, "above_mtu_cut"))
	assert.Zero(t, padded.LiveObjectsAtEnd)
}
