package skb

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCopyHeader: skb_copy_header copies every Header field, the gso
// fields and shares the extensions, but not meta_len or skb->sk; the
// offsets are head-relative until HeadersOffsetUpdate moves them.
func TestCopyHeader(t *testing.T) {
	for _, tc := range []struct {
		name             string
		oldRoom, newRoom int
	}{
		{"same headroom", 64, 64},
		{"bigger headroom", 64, 256},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newAlloc(t)
			old, err := a.AllocSkb(tc.oldRoom + 100)
			require.NoError(t, err)
			old.Reserve(tc.oldRoom)
			old.Put(60)
			old.ResetMacHeader()
			old.SetNetworkHeader(14)
			old.H().Mark, old.H().Priority, old.H().Hash = 7, 3, 0xabc
			old.Shinfo().GSOSize, old.Shinfo().GSOSegs, old.Shinfo().GSOType = 1400, 3, GSOTCPv4
			old.MetadataSet(8)
			_, err = old.ExtAdd(ExtTC)
			require.NoError(t, err)
			old.SetOwner("sock", nil)

			n, err := a.AllocSkb(tc.newRoom + 100)
			require.NoError(t, err)
			n.Reserve(tc.newRoom)
			n.Put(60)
			n.CopyHeader(old)
			n.HeadersOffsetUpdate(tc.newRoom - tc.oldRoom)

			require.Equal(t, *old.H(), *n.H())
			require.Equal(t, old.Shinfo().GSOSize, n.Shinfo().GSOSize)
			require.Equal(t, old.Shinfo().GSOSegs, n.Shinfo().GSOSegs)
			require.Equal(t, old.Shinfo().GSOType, n.Shinfo().GSOType)
			require.Zero(t, n.MetadataLen(), "meta_len is the new buffer's own")
			require.Nil(t, n.Sk(), "skb->sk is not copied")
			require.Equal(t, 2, old.Ext().Refs(), "extensions shared")
			require.Same(t, old.Ext(), n.Ext())
			require.Equal(t, old.MacOffset(), n.MacOffset(), "mac header at the same place relative to data")
			require.Equal(t, old.NetworkOffset(), n.NetworkOffset())
			old.Orphan()
			old.ConsumeSkb()
			n.ConsumeSkb()
		})
	}
}

func TestCopyHeaderOntoUsedSkbPanics(t *testing.T) {
	a := newAlloc(t)
	old, _ := a.AllocSkb(64)
	n, _ := a.AllocSkb(64)
	_, err := n.ExtAdd(ExtTC)
	require.NoError(t, err)
	require.PanicsWithValue(t, fmt.Sprintf("skb: skb_copy_header onto skb %d that holds a dst (false), conntrack (false) or extensions (true)", n.ID()),
		func() { n.CopyHeader(old) })
	old.ConsumeSkb()
	n.ConsumeSkb()
}
