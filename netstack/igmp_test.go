package netstack

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestIGMPRcv: igmp_rcv's fate for a sequence of messages to a host that
// joined 239.1.2.3 on eth0, in order (a v2 query makes later v3 queries
// read as v2 ones); TestKernelIGMPRcv measures the same sequence on 6.18.
func TestIGMPRcv(t *testing.T) {
	msg := func(typ, code uint8, group string, v3 bool, srcs, have int) []byte {
		m := make([]byte, 8)
		m[0], m[1] = typ, code
		g := addr(group).As4()
		copy(m[4:8], g[:])
		if v3 {
			m = append(m, 2, 125, 0, 0)
			binary.BigEndian.PutUint16(m[10:], uint16(srcs))
			for i := range have {
				m = append(m, 10, 0, 0, byte(i+1))
			}
		}
		return m
	}
	const drop = "SKB_DROP_REASON_NOT_SPECIFIED@igmp_rcv"
	cfg := fibTopology(true)
	cfg.Devices[0].RxChecksum = "off"
	cfg.Sockets = append(cfg.Sockets, SocketConfig{Name: "m", Proto: ProtoUDP, Port: 5000, Join: []GroupJoin{{Group: addr("239.1.2.3"), Dev: "eth0"}}})
	s, te := newStack(t, cfg, "", nil, nil)
	for i, tc := range []struct {
		name string
		dst  string
		msg  []byte
		want string
	}{
		{"v3 general query", "224.0.0.1", msg(0x11, 100, "0.0.0.0", true, 0, 0), ""},
		{"v3 general query with a source", "224.0.0.1", msg(0x11, 100, "0.0.0.0", true, 1, 1), drop},
		{"v3 group query short of its sources", "224.0.0.1", msg(0x11, 100, "239.1.2.3", true, 2, 1), drop},
		{"10-byte query", "224.0.0.1", append(msg(0x11, 100, "0.0.0.0", false, 0, 0), 0, 0), drop},
		{"v2 report to the group", "239.1.2.3", msg(0x16, 0, "239.1.2.3", false, 0, 0), ""},
		{"v2 report unicast", "192.0.2.1", msg(0x16, 0, "239.1.2.3", false, 0, 0), drop},
		{"v3 report", "224.0.0.1", msg(0x22, 0, "0.0.0.0", false, 0, 0), drop},
		{"4 bytes", "224.0.0.1", msg(0x11, 100, "0.0.0.0", false, 0, 0)[:4], drop},
		{"v2 query", "224.0.0.1", msg(0x11, 100, "0.0.0.0", false, 0, 0), ""},
		{"v3 general query with a source after a v2 query", "224.0.0.1", msg(0x11, 100, "0.0.0.0", true, 1, 1), ""},
	} {
		if len(tc.msg) >= 4 {
			binary.BigEndian.PutUint16(tc.msg[2:], ^csumFold(csumAdd(0, tc.msg)))
		}
		f := make([]byte, ethHlen+ipHlen+len(tc.msg))
		d := addr(tc.dst).As4()
		dmac := macNIC
		if d[0]&0xf0 == 0xe0 {
			dmac = [6]byte{1, 0, 0x5e, d[1] & 0x7f, d[2], d[3]}
		}
		writeEth(f, dmac, macB, ethPIP)
		writeIPv4(f[ethHlen:], 0, ipHlen+len(tc.msg), 1, false, 1, ipprotoIGMP, addr("192.0.2.9"), addr(tc.dst))
		copy(f[ethHlen+ipHlen:], tc.msg)
		before := len(te.obs.drops)
		require.NoError(t, s.Inject(&Packet{ID: uint64(i + 1), Tstamp: 1e15, Frame: f}))
		var got string
		if r := te.obs.dropReasons(); len(r) > before {
			got = r[before]
		}
		assert.Equal(t, tc.want, got, tc.name)
	}
}
