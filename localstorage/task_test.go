package localstorage

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/internal/errno"
)

// TestTaskStorage follows check_syscall_operations() of
// prog_tests/test_local_storage.c for a task map keyed by a pidfd, plus the
// helper and pidfd errno paths.
func TestTaskStorage(t *testing.T) {
	e := newTestEnv(t, Config{})
	m := mustMap(t, e, Spec(MapTypeTaskStorage, 4, 0))
	files := NewFDTable()
	task := NewTask(42)
	pfd := files.Install(&PidFD{Task: task})
	sockfd := files.Install(NewSock(nil))
	out := make([]byte, 4)
	val := []byte{0xad, 0xde, 0xef, 0xbe} // 0xbeefdead little-endian

	assert.ErrorIs(t, m.LookupElem(files, pfd, out, 0), ErrNotFound)
	require.NoError(t, m.UpdateElem(files, pfd, val, UpdateNoExist))
	require.NoError(t, m.LookupElem(files, pfd, out, 0))
	assert.Equal(t, val, out)
	require.NoError(t, m.DeleteElem(files, pfd))
	assert.ErrorIs(t, m.LookupElem(files, pfd, out, 0), ErrNotFound)

	rows := []struct {
		name string
		err  error
		want errno.Errno
	}{
		{"socket fd is not a pidfd", m.UpdateElem(files, sockfd, val, UpdateAny), errno.EBADF},
		{"closed fd", m.LookupElem(files, 77, out, 0), errno.EBADF},
		{"next key", m.GetNextKey(), errno.ENOTSUPP},
		{"get flags 2", second(m.TaskStorageGet(task, nil, 2)), errno.EINVAL},
		{"get nil task", second(m.TaskStorageGet(nil, nil, GetCreate)), errno.EINVAL},
		{"delete nil task", m.TaskStorageDelete(nil), errno.EINVAL},
		{"get missing", second(m.TaskStorageGet(task, nil, 0)), errno.ENOENT},
		{"delete missing", m.TaskStorageDelete(task), errno.ENOENT},
	}
	for _, r := range rows {
		assert.Equal(t, r.want, errno.Of(r.err), "%s: %v", r.name, r.err)
	}

	v, err := m.TaskStorageGet(task, val, GetCreate)
	require.NoError(t, err)
	assert.Equal(t, val, v)
	// No per-owner charge for tasks: a huge value fits.
	big := mustMap(t, e, Spec(MapTypeTaskStorage, MaxValueSize, 0))
	_, err = big.TaskStorageGet(task, nil, GetCreate)
	require.NoError(t, err)

	// release_task: the pidfd no longer resolves; the storage lives on.
	task.Exit()
	assert.ErrorIs(t, m.LookupElem(files, pfd, out, 0), ErrNotFound)
	assert.ErrorIs(t, m.UpdateElem(files, pfd, val, UpdateAny), ErrNotFound)
	assert.ErrorIs(t, m.DeleteElem(files, pfd), ErrNotFound)
	v, err = m.TaskStorageGet(task, nil, 0)
	require.NoError(t, err)
	assert.Equal(t, val, v)

	// The last put destroys the storage; an exiting task cannot get new
	// storage (task_local_storage/exit_creds: get returns NULL).
	d := delta(e, func() { task.Free(e) })
	assert.Equal(t, uint64(3), d.Total.DeferredFrees, "2 elements and the storage")
	assert.Nil(t, task.Storage())
	_, err = m.TaskStorageGet(task, nil, GetCreate)
	assert.ErrorIs(t, err, ErrNotFound)
	assert.Panics(t, func() { task.Free(e) })
}

// TestMapFree: bpf_local_storage_map_free() unlinks the map's element from
// every owner, uncharges it, frees storages left empty, keeps other maps'
// elements, and releases the cache index.
func TestMapFree(t *testing.T) {
	for _, p := range Profiles() {
		t.Run(p.Name, func(t *testing.T) {
			e := newTestEnv(t, Config{Profile: p, PossibleCPUs: 8})
			doomed := mustMap(t, e, Spec(MapTypeSkStorage, 8, 0))
			kept := mustMap(t, e, Spec(MapTypeSkStorage, 8, 0))
			var socks []*Sock
			for i := range 40 {
				sk := NewSock(nil)
				socks = append(socks, sk)
				_, err := doomed.SkStorageGet(sk, nil, GetCreate)
				require.NoError(t, err)
				_, err = doomed.SkStorageGet(sk, nil, 0) // cache it
				require.NoError(t, err)
				if i%2 == 0 {
					_, err := kept.SkStorageGet(sk, nil, GetCreate)
					require.NoError(t, err)
				}
			}
			assert.Equal(t, 40, doomed.Len())
			used := 0
			for _, b := range doomed.buckets {
				if b != nil {
					used++
				}
			}
			assert.Greater(t, used, 1, "elements spread over the 8 buckets")
			d := delta(e, func() { doomed.Free() })
			assert.Equal(t, uint64(40+20), d.Total.DeferredFrees, "40 elements and 20 emptied storages")
			assert.Zero(t, d.PendingRCU, "map free waits for every RCU callback")
			assert.Equal(t, uint64(0), e.CacheUsage(OwnerSock)[doomed.CacheIdx()])
			for i, sk := range socks {
				if i%2 == 0 {
					require.NotNil(t, sk.Storage())
					assert.Equal(t, 1, sk.Storage().Len())
					assert.Equal(t, e.StorageSize(OwnerSock)+80, sk.OmemAlloc())
					assert.Nil(t, sk.Storage().CacheSlot(doomed.CacheIdx()))
				} else {
					assert.Nil(t, sk.Storage())
					assert.Zero(t, sk.OmemAlloc())
				}
			}
			assert.Panics(t, func() { doomed.Free() })
			assert.Panics(t, func() { _, _ = doomed.SkStorageGet(socks[0], nil, 0) })
			assert.Equal(t, []*Map{kept}, e.Maps())
			for _, sk := range socks {
				sk.Close(e)
			}
		})
	}
}

// TestRaces drives the two race windows of bpf_local_storage_update()
// deterministically (the stress_change selftest tolerates EAGAIN only from
// these).
func TestRaces(t *testing.T) {
	t.Run("publish lost", func(t *testing.T) {
		e := newTestEnv(t, Config{})
		a := mustMap(t, e, Spec(MapTypeSkStorage, 4, 0))
		b := mustMap(t, e, Spec(MapTypeSkStorage, 4, 0))
		sk := NewSock(nil)
		e.SetRace(func(p RacePoint) {
			if p == RaceBeforePublish {
				_, err := b.SkStorageGet(sk, nil, GetCreate) // the other CPU
				require.NoError(t, err)
			}
		})
		_, err := a.SkStorageGet(sk, nil, GetCreate)
		assert.ErrorIs(t, err, ErrAgain)
		e.SetRace(nil)
		require.NotNil(t, sk.Storage())
		assert.Equal(t, 1, sk.Storage().Len(), "the winner's storage holds only its element")
		assert.Equal(t, e.StorageSize(OwnerSock)+76, sk.OmemAlloc(), "the loser uncharged both")
		assert.Zero(t, a.Len())
		_, err = a.SkStorageGet(sk, nil, GetCreate)
		require.NoError(t, err, "a retry succeeds")
		sk.Close(e)
	})
	t.Run("storage emptied", func(t *testing.T) {
		e := newTestEnv(t, Config{})
		m := mustMap(t, e, Spec(MapTypeSkStorage, 4, 0))
		files := NewFDTable()
		sk := NewSock(nil)
		fd := files.Install(sk)
		require.NoError(t, m.UpdateElem(files, fd, []byte{1, 1, 1, 1}, UpdateAny))
		e.SetRace(func(p RacePoint) {
			if p == RaceBeforeStorageLock {
				require.NoError(t, m.DeleteElem(files, fd)) // the other CPU
			}
		})
		assert.ErrorIs(t, m.UpdateElem(files, fd, []byte{2, 2, 2, 2}, UpdateAny), ErrAgain)
		e.SetRace(nil)
		assert.Nil(t, sk.Storage())
		assert.Zero(t, sk.OmemAlloc())
		sk.Close(e)
	})
}
