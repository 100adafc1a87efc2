package kernel

import (
	"errors"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/skbsim/skbsim/internal/errno"
	"github.com/skbsim/skbsim/internal/testutil"
)

func TestKernelStorageMapCreateErrno(t *testing.T) {
	testutil.KernelTests(t)
	np := FlagNoPrealloc
	for _, c := range []struct {
		name string
		spec StorageMapSpec
		want errno.Errno // 0: created
	}{
		{"no-prealloc", skSpec(8, np), 0},
		{"no-prealloc|clone", skSpec(8, np|FlagClone), 0},
		{"flags 0", skSpec(8, 0), errno.EINVAL},
		{"clone only", skSpec(8, FlagClone), errno.EINVAL},
		{"max_entries 1", StorageMapSpec{Type: MapSkStorage, ValueSize: 8, Flags: np, MaxEntries: 1}, errno.EINVAL},
		{"value_size 65407 (max)", skSpec(65407, np), 0},
		{"value_size 65408", skSpec(65408, np), errno.E2BIG},
		{"value_size 0", skSpec(0, np), errno.EINVAL},
		{"key_size 8 BTF long long", StorageMapSpec{Type: MapSkStorage, KeySize: 8, ValueSize: 8, Flags: np, Key: KeyLongLong}, errno.EINVAL},
		{"key_size 8 BTF int", StorageMapSpec{Type: MapSkStorage, KeySize: 8, ValueSize: 8, Flags: np}, errno.EINVAL},
		{"no BTF", StorageMapSpec{Type: MapSkStorage, ValueSize: 8, Flags: np, Key: KeyNone}, errno.EINVAL},
		{"BTF key unsigned int", StorageMapSpec{Type: MapSkStorage, ValueSize: 8, Flags: np, Key: KeyUnsignedInt}, 0},
		{"BTF key struct", StorageMapSpec{Type: MapSkStorage, ValueSize: 8, Flags: np, Key: KeyStruct}, errno.EINVAL},
		{"no-prealloc|rdonly", skSpec(8, np|FlagRdonly), errno.EINVAL},
		{"no-prealloc|mmapable", skSpec(8, np|FlagMmapable), errno.EINVAL},
		{"hash with clone", StorageMapSpec{Type: MapHash, ValueSize: 8, MaxEntries: 4, Flags: FlagClone}, errno.EINVAL},
		{"task storage", StorageMapSpec{Type: MapTaskStorage, ValueSize: 8, Flags: np}, 0},
		// BPF_F_CLONE passes bpf_local_storage_map_alloc_check() for every
		// owner type; it only has an effect for sockets (sk_clone_lock).
		{"task storage with clone", StorageMapSpec{Type: MapTaskStorage, ValueSize: 8, Flags: np | FlagClone}, 0},
		{"cgroup storage", StorageMapSpec{Type: MapCgrpStorage, ValueSize: 8, Flags: np}, 0},
		{"spin lock value", StorageMapSpec{Type: MapSkStorage, ValueSize: 8, Flags: np, SpinLock: true}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, err := NewStorageMap(c.spec)
			if c.want == 0 {
				require.NoError(t, err)
				info, err := m.Info()
				require.NoError(t, err)
				require.Equal(t, c.spec.Flags, info.Flags, "flags read back")
				require.NoError(t, m.Close())
				return
			}
			require.Error(t, err)
			require.ErrorIs(t, err, c.want, "got %v", err)
			require.ErrorIs(t, err, syscall.Errno(c.want))
		})
	}
}

func TestKernelSkStorageElementErrno(t *testing.T) {
	testutil.KernelTests(t)
	ns := newNetns(t, "elem")
	m := newStorageMap(t, skSpec(8, FlagNoPrealloc))
	tcp := newSocket(t, ns, unix.AF_INET, unix.SOCK_STREAM, 0)
	v := func(b byte) []byte { return []byte{b, 0, 0, 0, 0, 0, 0, 0} }

	_, err := m.Lookup(tcp, 0)
	require.ErrorIs(t, err, errno.ENOENT, "lookup before any update")
	require.ErrorIs(t, m.Update(tcp, v(1), UpdateExist), errno.ENOENT, "update EXIST on missing")
	require.ErrorIs(t, m.Delete(tcp), errno.ENOENT, "delete missing")
	require.NoError(t, m.Update(tcp, v(1), UpdateNoExist))
	require.ErrorIs(t, m.Update(tcp, v(2), UpdateNoExist), errno.EEXIST, "NOEXIST again")
	got, err := m.Lookup(tcp, 0)
	require.NoError(t, err)
	require.Equal(t, v(1), got, "failed NOEXIST must not change the value")
	require.NoError(t, m.Update(tcp, v(3), UpdateExist))
	require.NoError(t, m.Update(tcp, v(4), UpdateAny))
	require.ErrorIs(t, m.Update(tcp, v(5), UpdateLock), errno.EINVAL, "F_LOCK without spin lock")
	require.ErrorIs(t, m.Update(tcp, v(5), 8), errno.EINVAL, "flags 8")
	require.ErrorIs(t, m.Update(tcp, v(5), UpdateNoExist|UpdateExist), errno.EINVAL, "NOEXIST|EXIST")
	_, err = m.Lookup(tcp, UpdateLock)
	require.ErrorIs(t, err, errno.EINVAL, "lookup F_LOCK without spin lock")

	dup, err := unix.Dup(tcp)
	require.NoError(t, err)
	defer unix.Close(dup)
	got, err = m.Lookup(dup, 0)
	require.NoError(t, err)
	require.Equal(t, v(4), got, "storage is per socket, not per fd")

	for _, s := range []struct {
		name            string
		domain, typ, pr int
	}{{"udp6", unix.AF_INET6, unix.SOCK_DGRAM, 0}, {"unix stream", unix.AF_UNIX, unix.SOCK_STREAM, 0}} {
		fd := newSocket(t, ns, s.domain, s.typ, s.pr)
		require.NoError(t, m.Update(fd, v(9), UpdateNoExist), s.name)
	}

	var p [2]int
	require.NoError(t, unix.Pipe2(p[:], unix.O_CLOEXEC))
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	require.ErrorIs(t, m.Update(p[0], v(1), UpdateAny), errno.ENOTSOCK, "pipe update")
	_, err = m.Lookup(p[0], 0)
	require.ErrorIs(t, err, errno.ENOTSOCK, "pipe lookup")
	require.ErrorIs(t, m.Update(9999, v(1), UpdateAny), errno.EBADF, "fd not open")
	require.ErrorIs(t, m.Update(-1, v(1), UpdateAny), errno.EBADF, "fd -1")
	_, err = m.NextKey(tcp)
	require.ErrorIs(t, err, errno.ENOTSUPP, "next key")
	_, err = m.LookupAndDelete(tcp)
	require.ErrorIs(t, err, errno.ENOTSUPP, "lookup and delete")

	require.NoError(t, m.Delete(tcp))
	_, err = m.Lookup(tcp, 0)
	require.ErrorIs(t, err, errno.ENOENT, "lookup after delete")
	require.ErrorIs(t, m.Delete(tcp), errno.ENOENT, "delete twice")
}

func TestKernelSkStorageSpinLock(t *testing.T) {
	testutil.KernelTests(t)
	ns := newNetns(t, "lock")
	m := newStorageMap(t, StorageMapSpec{Type: MapSkStorage, ValueSize: 8, Flags: FlagNoPrealloc, SpinLock: true})
	fd := newSocket(t, ns, unix.AF_INET6, unix.SOCK_STREAM, 0)
	val := []byte{0, 0, 0, 0, 7, 0, 0, 0} // lock word, then data
	require.NoError(t, m.Update(fd, val, UpdateNoExist|UpdateLock))
	got, err := m.Lookup(fd, UpdateLock)
	require.NoError(t, err)
	require.Equal(t, val, got)
	require.NoError(t, m.Update(fd, []byte{0, 0, 0, 0, 8, 0, 0, 0}, UpdateExist|UpdateLock))
	require.ErrorIs(t, m.Update(fd, val, UpdateNoExist|UpdateLock), errno.EEXIST)
	require.ErrorIs(t, m.Update(fd, val, UpdateNoExist), errno.EEXIST)
	got, err = m.Lookup(fd, 0)
	require.NoError(t, err)
	require.Equal(t, byte(8), got[4], "F_LOCK update is in place and visible")
	require.NoError(t, m.Update(fd, val, UpdateAny))
	require.NoError(t, m.Delete(fd))
}

func TestKernelTaskStorage(t *testing.T) {
	testutil.KernelTests(t)
	m := newStorageMap(t, StorageMapSpec{Type: MapTaskStorage, ValueSize: 4, Flags: FlagNoPrealloc})
	pidfd, err := unix.PidfdOpen(unix.Getpid(), 0)
	require.NoError(t, err)
	defer unix.Close(pidfd)
	_, err = m.Lookup(pidfd, 0)
	require.ErrorIs(t, err, errno.ENOENT)
	require.NoError(t, m.Update(pidfd, []byte{0xad, 0xde, 0xef, 0xbe}, UpdateNoExist))
	require.ErrorIs(t, m.Update(pidfd, []byte{1, 2, 3, 4}, UpdateNoExist), errno.EEXIST)
	got, err := m.Lookup(pidfd, 0)
	require.NoError(t, err)
	require.Equal(t, []byte{0xad, 0xde, 0xef, 0xbe}, got)
	_, err = m.NextKey(pidfd)
	require.ErrorIs(t, err, errno.ENOTSUPP)
	require.NoError(t, m.Delete(pidfd))
	_, err = m.Lookup(pidfd, 0)
	require.ErrorIs(t, err, errno.ENOENT)

	// A socket fd is not a pidfd; a pidfd is not a socket.
	sock, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	require.NoError(t, err)
	defer unix.Close(sock)
	err = m.Update(sock, []byte{1, 2, 3, 4}, UpdateAny)
	require.Error(t, err)
	t.Logf("task storage keyed by a socket fd: %v", err)
	sk := newStorageMap(t, skSpec(4, FlagNoPrealloc))
	require.ErrorIs(t, sk.Update(pidfd, []byte{1, 2, 3, 4}, UpdateAny), errno.ENOTSOCK)
	require.True(t, errors.Is(err, errno.EBADF), "task storage keyed by a socket fd: %v, want EBADF", err)
}
