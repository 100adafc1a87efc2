package skb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"github.com/skbsim/skbsim/internal/errno"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tagged builds an skb as eth_type_trans leaves a received 802.1Q frame:
// 8 bytes of XDP metadata before the mac header, ETH_HLEN pulled, the
// protocol the TPID. after is what follows the tag's TCI.
func tagged(t *testing.T, a *Allocator, tpid, tci uint16, after []byte) *Buff {
	t.Helper()
	f := make([]byte, 0, 64)
	f = append(f, 1, 2, 3, 4, 5, 6, 11, 12, 13, 14, 15, 16)
	f = binary.BigEndian.AppendUint16(f, tpid)
	f = binary.BigEndian.AppendUint16(f, tci)
	f = append(f, after...)
	b := mustAlloc(t, a, 64, len(f))
	copy(b.Data(), f)
	copy(b.Head()[56:64], "metadata")
	b.MetadataSet(8)
	b.ResetMacHeader()
	b.Pull(EthHlen)
	b.H().Protocol = tpid
	return b
}

func TestVlanUntag(t *testing.T) {
	ip := []byte{0x08, 0x00, 0x45, 0, 0, 20}
	tests := []struct {
		name      string
		tpid, tci uint16
		after     []byte
		proto     uint16
	}{
		{"802.1Q IPv4", EthP8021Q, 0x2064, ip, 0x0800},
		{"802.1ad outer tag of QinQ", EthP8021AD, 7, []byte{0x81, 0x00, 0, 9, 0x08, 0x00}, EthP8021Q},
		{"length field, Novell raw", EthP8021Q, 5, []byte{0, 40, 0xff, 0xff, 0, 0}, EthP8023},
		{"length field, LLC", EthP8021Q, 5, []byte{0, 40, 0xaa, 0xaa, 3, 0}, EthP8022},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAlloc(t)
			b := tagged(t, a, tt.tpid, tt.tci, tt.after)
			defer b.ConsumeSkb()
			require.NoError(t, b.VlanUntag())
			h := b.H()
			assert.Equal(t, tt.tpid, h.VlanProto)
			assert.Equal(t, tt.tci, h.VlanTCI)
			assert.True(t, h.VlanTagPresent())
			assert.Equal(t, tt.proto, h.Protocol)
			assert.Equal(t, tt.after[2:], b.Data(), "VLAN_HLEN pulled")
			assert.Equal(t, b.Headroom(), b.NetworkHeader())
			assert.Equal(t, EthHlen, b.MacLen())
			mac := b.Head()[b.MacHeader():b.NetworkHeader()]
			want := append([]byte{1, 2, 3, 4, 5, 6, 11, 12, 13, 14, 15, 16}, tt.after[:2]...)
			assert.Equal(t, want, mac, "the addresses moved up to the encapsulated type")
			v, ok := b.Metadata()
			assert.True(t, ok)
			assert.Equal(t, "metadata", string(v), "the metadata moved with the mac header")
			require.NoError(t, b.VlanUntag(), "a present tag is left alone")
			assert.Equal(t, tt.after[2:], b.Data())
		})
	}
}

func TestVlanUntagShort(t *testing.T) {
	a := newAlloc(t)
	b := tagged(t, a, EthP8021Q, 1, []byte{0x08})
	defer b.ConsumeSkb()
	err := b.VlanUntag()
	assert.ErrorIs(t, err, ErrVlanShort)
	var en errno.Errno
	require.True(t, errors.As(err, &en))
	assert.False(t, b.H().VlanTagPresent())
}

func TestVlanUntagCloned(t *testing.T) {
	for _, keep := range []bool{false, true} {
		a := newAlloc(t, func(p *Profile) { p.PskbExpandHeadKeepsMeta = keep })
		b := tagged(t, a, EthP8021Q, 3, []byte{0x86, 0xdd, 0x60, 0, 0, 0})
		c, err := b.Clone()
		require.NoError(t, err)
		orig := string(c.Head()[c.MacHeader() : c.MacHeader()+22])
		require.NoError(t, b.VlanUntag())
		assert.False(t, b.SkbCloned(), "skb_cow copied the shared head")
		assert.Equal(t, orig, string(c.Head()[c.MacHeader():c.MacHeader()+22]), "the clone still sees the tagged frame")
		assert.False(t, c.H().VlanTagPresent())
		v, ok := b.Metadata()
		if keep {
			assert.True(t, ok)
			assert.Equal(t, "metadata", string(v), "pskb_expand_head copied the headroom with the metadata")
		} else {
			assert.Zero(t, b.MetadataLen(), "pskb_expand_head cleared meta_len")
		}
		b.ConsumeSkb()
		c.ConsumeSkb()
	}
}

// TestVlanPushInsideRoundTrip: the tag skb_vlan_untag moved into vlan_tci,
// __vlan_hwaccel_push_inside puts back into the frame: the same bytes, the
// TPID as skb->protocol, no tag left. The XDP metadata before the mac
// header survives only with v6.19's skb_postpush_data_move
// (DataMoveHelpers); before, the moved addresses overwrite it.
func TestVlanPushInsideRoundTrip(t *testing.T) {
	for _, helpers := range []bool{false, true} {
		t.Run(fmt.Sprintf("DataMoveHelpers %v", helpers), func(t *testing.T) {
			a := newAlloc(t, func(p *Profile) { p.DataMoveHelpers = helpers })
			after := []byte{0x08, 0x00, 0x45, 0, 0, 20, 1, 2, 3, 4}
			b := tagged(t, a, EthP8021AD, 0x3007, after)
			defer b.ConsumeSkb()
			b.Push(EthHlen)
			orig := append([]byte(nil), b.Data()...)
			b.Pull(EthHlen)
			require.NoError(t, b.VlanUntag())
			b.Push(b.MacLen()) // __dev_queue_xmit: data and mac header at the frame
			b.ResetMacHeader()
			require.NoError(t, b.VlanHwaccelPushInside())
			assert.Equal(t, orig, b.Data())
			assert.Equal(t, b.Headroom(), b.MacHeader(), "the mac header moved with the addresses")
			assert.Equal(t, uint16(EthP8021AD), b.H().Protocol)
			assert.False(t, b.H().VlanTagPresent())
			v, ok := b.Metadata()
			assert.Equal(t, helpers, ok && string(v) == "metadata", "metadata %q valid %v", v, ok)
		})
	}
}

// atMac builds an skb as a tc program sees an untagged received frame:
// data and the mac header at the frame, 8 bytes of XDP metadata before it,
// the network header after the Ethernet header, mac_len ETH_HLEN.
func atMac(t *testing.T, a *Allocator, frame []byte) *Buff {
	t.Helper()
	b := mustAlloc(t, a, 64, len(frame))
	copy(b.Data(), frame)
	copy(b.Head()[56:64], "metadata")
	b.MetadataSet(8)
	b.ResetMacHeader()
	b.SetNetworkHeader(EthHlen)
	b.ResetMacLen()
	b.H().Protocol = binary.BigEndian.Uint16(frame[12:14])
	return b
}

// TestVlanPushPop: skb_vlan_push puts the first tag in vlan_tci and, for a
// second, the first into the frame; skb_vlan_pop undoes it, the tag in
// the frame moving back into vlan_tci. The frame and protocol come back
// as they were. The XDP metadata follows each data move only with v6.19's
// data-move helpers; before, the second push's moved addresses overwrite
// it and the pop leaves it behind.
func TestVlanPushPop(t *testing.T) {
	frame := []byte{1, 2, 3, 4, 5, 6, 11, 12, 13, 14, 15, 16, 0x08, 0x00, 0x45, 0, 0, 20, 9, 9, 9, 9}
	for _, helpers := range []bool{false, true} {
		t.Run(fmt.Sprintf("DataMoveHelpers %v", helpers), func(t *testing.T) {
			a := newAlloc(t, func(p *Profile) { p.DataMoveHelpers = helpers })
			b := atMac(t, a, frame)
			defer b.ConsumeSkb()
			h := b.H()
			metaOK := func() bool { v, ok := b.Metadata(); return ok && string(v) == "metadata" }

			require.NoError(t, b.VlanPush(EthP8021AD, 7))
			assert.Equal(t, frame, b.Data(), "the first tag goes into vlan_tci only")
			assert.True(t, metaOK())
			require.NoError(t, b.VlanPush(EthP8021Q, 9))
			want := append(append(append([]byte(nil), frame[:12]...), 0x88, 0xa8, 0, 7), frame[12:]...)
			assert.Equal(t, want, b.Data(), "the first tag moved into the frame")
			assert.Equal(t, uint16(EthP8021AD), h.Protocol)
			assert.Equal(t, uint16(EthP8021Q), h.VlanProto)
			assert.Equal(t, uint16(9), h.VlanTCI)
			assert.Equal(t, EthHlen+VlanHlen, b.MacLen())
			assert.Equal(t, b.Headroom(), b.MacHeader())
			assert.Equal(t, helpers, metaOK(), "metadata after the second push")

			require.NoError(t, b.VlanPop())
			assert.Equal(t, frame, b.Data(), "the tag in the frame popped")
			assert.Equal(t, uint16(EthP8021AD), h.VlanProto, "and moved into vlan_tci")
			assert.Equal(t, uint16(7), h.VlanTCI)
			assert.Equal(t, uint16(0x0800), h.Protocol)
			assert.Equal(t, EthHlen, b.MacLen())
			assert.Equal(t, b.Headroom(), b.MacHeader())
			require.NoError(t, b.VlanPop())
			assert.False(t, h.VlanTagPresent())
			assert.Equal(t, frame, b.Data())
			require.NoError(t, b.VlanPop(), "nothing to pop")
			if helpers {
				assert.True(t, metaOK(), "the metadata moved with every data move")
			}
		})
	}
}

// TestVlanPopLeavesMetadata: on a kernel without the data-move helpers,
// popping a tag in the frame (skb_vlan_pop with none in vlan_tci: the tag
// is dropped) moves the mac header up by VLAN_HLEN and the metadata
// stays: the view before the mac header shows the metadata's last 4
// bytes and the first 4 of the old destination address.
func TestVlanPopLeavesMetadata(t *testing.T) {
	a := newAlloc(t, func(p *Profile) { p.DataMoveHelpers = false })
	frame := []byte{1, 2, 3, 4, 5, 6, 11, 12, 13, 14, 15, 16, 0x81, 0x00, 0, 5, 0x08, 0x00, 0x45, 0, 0, 20}
	b := atMac(t, a, frame)
	defer b.ConsumeSkb()
	require.NoError(t, b.VlanPop())
	assert.False(t, b.H().VlanTagPresent(), "the next type is not a VLAN: nothing moves into vlan_tci")
	assert.Equal(t, append(append([]byte(nil), frame[:12]...), frame[16:]...), b.Data())
	v, ok := b.Metadata()
	assert.False(t, ok)
	assert.Equal(t, "data\x01\x02\x03\x04", string(v))

	c := atMac(t, a, frame)
	defer c.ConsumeSkb()
	c.Pull(EthHlen)
	assert.ErrorIs(t, c.VlanPop(), ErrVlanNotAtMac, "data past the mac header")
	c.Push(EthHlen)
	assert.Equal(t, frame, c.Data(), "nothing popped")
}

// TestVlanPushTightHeadroom: with only 10 bytes of headroom in front of the
// frame (8 of them metadata), v6.19's __vlan_insert_inner_tag asks
// skb_cow_head for meta_len + VLAN_HLEN, so the head is reallocated and
// the metadata moves in front of the tagged frame; v6.18 asks for
// VLAN_HLEN only and the moved addresses overwrite the metadata.
func TestVlanPushTightHeadroom(t *testing.T) {
	frame := []byte{1, 2, 3, 4, 5, 6, 11, 12, 13, 14, 15, 16, 0x08, 0x00, 0x45, 0, 0, 20}
	for _, helpers := range []bool{false, true} {
		a := newAlloc(t, func(p *Profile) { p.DataMoveHelpers = helpers; p.PskbExpandHeadKeepsMeta = helpers })
		b := mustAlloc(t, a, 10, len(frame))
		copy(b.Data(), frame)
		copy(b.Head()[2:10], "metadata")
		b.MetadataSet(8)
		b.ResetMacHeader()
		b.SetNetworkHeader(EthHlen)
		b.H().VlanProto, b.H().VlanTCI = EthP8021Q, 5
		require.NoError(t, b.VlanHwaccelPushInside())
		v, ok := b.Metadata()
		assert.Equal(t, helpers, ok && string(v) == "metadata", "helpers %v: metadata %q", helpers, v)
		assert.Equal(t, append(append(append([]byte(nil), frame[:12]...), 0x81, 0, 0, 5), frame[12:]...), b.Data())
		b.ConsumeSkb()
	}
}
