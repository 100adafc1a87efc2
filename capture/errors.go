package capture

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/skbsim/skbsim/internal/errno"
)

// Sentinels for the ways a capture file can be unreadable. Each matches,
// under errors.Is, both itself and its Linux errno.
var (
	// ErrEmpty: the file has no bytes at all.
	ErrEmpty = errno.New("empty file", errno.EINVAL)
	// ErrBadMagic: the file starts with neither a pcap nor a pcapng magic.
	ErrBadMagic = errno.New("bad magic", errno.EINVAL)
	// ErrTruncated: the file ends inside a header, record or block.
	ErrTruncated = errno.New("truncated capture", errno.EINVAL)
	// ErrBadHeader: a header holds values no writer can produce, such as a
	// captured length above the original length or above the maximum
	// snapshot length, or a pcapng block length that is not a multiple of 4.
	ErrBadHeader = errno.New("impossible header", errno.EINVAL)
	// ErrUnsupportedVersion: a pcap file header with a version other than 2.4.
	ErrUnsupportedVersion = errno.New("unsupported format version", errno.EOPNOTSUPP)
	// ErrUnsupportedLinkType: a packet whose link type the decoder does not
	// understand (see [LinkType.Supported]).
	ErrUnsupportedLinkType = errno.New("unsupported link type", errno.EOPNOTSUPP)
	// ErrCorrupt: pcapgo rejected the structure of a pcapng block (an
	// interface id with no interface, a bad option, ...).
	ErrCorrupt = errno.New("corrupt capture", errno.EINVAL)
	// ErrRead: the underlying reader failed (the cause is wrapped too).
	ErrRead = errno.New("read error", errno.EIO)
)

// MaxCapLen is the largest captured length a record may declare: libpcap's
// MAXIMUM_SNAPLEN. Longer records are reported as [ErrBadHeader] rather than
// read, so a damaged length cannot make the reader allocate.
const MaxCapLen = 262144

// Error is the error every Reader failure returns. Its message is one line:
//
//	x.pcap: packet 123 at byte 4567: truncated record (want 1514 bytes, have 200)
//
// Index is the index of the packet being read, which is also the number of
// packets delivered before the error (0 for a damaged file header). Offset is
// the byte offset of the record (pcap) or block (pcapng) where reading
// failed, counted in the uncompressed stream for gzipped files.
type Error struct {
	File   string
	Index  int64
	Offset int64
	Err    error
}

func (e *Error) Error() string {
	s := e.File + ": packet " + strconv.FormatInt(e.Index, 10) +
		" at byte " + strconv.FormatInt(e.Offset, 10) + ": " + e.Err.Error()
	return oneLine(s)
}

// Unwrap returns the cause, which matches one of the sentinels.
func (e *Error) Unwrap() error { return e.Err }

// oneLine keeps an error message on one line whatever a cause says.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

// detail is a sentinel with a specific message, and optionally the error
// that caused it (an I/O error, a pcapgo message).
type detail struct {
	sentinel *errno.Error
	msg      string
	cause    error
}

func (d *detail) Error() string { return d.msg }

func (d *detail) Unwrap() []error {
	if d.cause != nil {
		return []error{d.sentinel, d.cause}
	}
	return []error{d.sentinel}
}

func errorf(sentinel *errno.Error, format string, args ...any) error {
	return &detail{sentinel: sentinel, msg: fmt.Sprintf(format, args...)}
}

func wrapf(sentinel *errno.Error, cause error, format string, args ...any) error {
	return &detail{sentinel: sentinel, msg: fmt.Sprintf(format, args...), cause: cause}
}
