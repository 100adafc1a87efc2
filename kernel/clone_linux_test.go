package kernel

import (
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/skbsim/skbsim/internal/errno"
	"github.com/skbsim/skbsim/internal/testutil"
)

// TestKernelSkStorageCloneOnAccept is kernel_lab §4: storage set on the
// listener before the client connects is copied to the accepted socket only
// for BPF_F_CLONE maps and only when the accepted socket was cloned from the
// listener fd's socket (sk_clone_lock -> bpf_sk_storage_clone).
func TestKernelSkStorageCloneOnAccept(t *testing.T) {
	testutil.KernelTests(t)
	for _, c := range []struct {
		mode                              ListenMode
		listenerProto, clientProto, accPr int
		cloned                            bool
	}{
		{ListenPlainTCP, unix.IPPROTO_TCP, unix.IPPROTO_TCP, unix.IPPROTO_TCP, true},
		{ListenGoDefault, unix.IPPROTO_MPTCP, unix.IPPROTO_TCP, unix.IPPROTO_TCP, false},
		{ListenMPTCP, unix.IPPROTO_MPTCP, unix.IPPROTO_MPTCP, unix.IPPROTO_MPTCP, true},
	} {
		t.Run(c.mode.String(), func(t *testing.T) {
			ns := newNetns(t, "clone")
			clone := newStorageMap(t, skSpec(4, FlagNoPrealloc|FlagClone))
			plain := newStorageMap(t, skSpec(4, FlagNoPrealloc))
			l, err := ns.ListenTCP(c.mode)
			require.NoError(t, err)
			defer l.Close()
			require.Equal(t, c.listenerProto, l.Proto, "listener protocol")
			val := []byte{1, 2, 3, 4}
			require.NoError(t, clone.Update(l.FD, val, UpdateNoExist))
			require.NoError(t, plain.Update(l.FD, val, UpdateNoExist))

			cl, acc, err := l.Connect()
			require.NoError(t, err)
			defer cl.Close()
			defer acc.Close()
			require.Equal(t, c.clientProto, cl.Proto, "client protocol")
			require.Equal(t, c.accPr, acc.Proto, "accepted protocol")

			got, err := clone.Lookup(acc.FD, 0)
			if c.cloned {
				require.NoError(t, err, "CLONE map on the accepted socket")
				require.Equal(t, val, got)
				// The child's copy is independent of the listener's.
				require.NoError(t, clone.Update(acc.FD, []byte{9, 9, 9, 9}, UpdateExist))
				lv, err := clone.Lookup(l.FD, 0)
				require.NoError(t, err)
				require.Equal(t, val, lv)
			} else {
				require.ErrorIs(t, err, errno.ENOENT, "CLONE map on the accepted socket")
			}
			_, err = plain.Lookup(acc.FD, 0)
			require.ErrorIs(t, err, errno.ENOENT, "non-CLONE map on the accepted socket")
			_, err = clone.Lookup(cl.FD, 0)
			require.ErrorIs(t, err, errno.ENOENT, "the connecting socket gets nothing")
		})
	}
}
