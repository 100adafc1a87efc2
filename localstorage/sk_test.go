package localstorage

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/internal/errno"
)

// TestSkStorageMapBasic replays map_tests/sk_storage_map.c's basic test
// (notes §4.1): value struct { int cnt; struct bpf_spin_lock lock; }.
func TestSkStorageMapBasic(t *testing.T) {
	e := newTestEnv(t, Config{})
	spec := Spec(MapTypeSkStorage, 8, 0)
	spec.Value = SpinLockType(8, 4)
	m := mustMap(t, e, spec)
	files := NewFDTable()
	fd := files.Install(NewSock(nil))
	val := func(cnt uint32) []byte {
		v := make([]byte, 8)
		binary.LittleEndian.PutUint32(v, cnt)
		v[4] = 0xff // lock bytes are a special field: never copied
		return v
	}
	cnt := func() uint32 {
		out := make([]byte, 8)
		require.NoError(t, m.LookupElem(files, fd, out, UpdateLock))
		assert.Zero(t, out[4], "check_and_init_map_value zeroes the lock")
		return binary.LittleEndian.Uint32(out)
	}
	steps := []struct {
		name string
		do   func() error
		want errno.Errno
		cnt  int64 // -1: do not check
	}{
		{"update NOEXIST|F_LOCK", func() error { return m.UpdateElem(files, fd, val(1), UpdateNoExist|UpdateLock) }, 0, 1},
		{"update EXIST|F_LOCK cnt+1", func() error { return m.UpdateElem(files, fd, val(2), UpdateExist|UpdateLock) }, 0, 2},
		{"update EXIST", func() error { return m.UpdateElem(files, fd, val(3), UpdateExist) }, 0, 3},
		{"update NOEXIST|F_LOCK", func() error { return m.UpdateElem(files, fd, val(9), UpdateNoExist|UpdateLock) }, errno.EEXIST, 3},
		{"update NOEXIST", func() error { return m.UpdateElem(files, fd, val(9), UpdateNoExist) }, errno.EEXIST, 3},
		{"update ANY", func() error { return m.UpdateElem(files, fd, val(4), UpdateAny) }, 0, 4},
		{"delete", func() error { return m.DeleteElem(files, fd) }, 0, -1},
		{"lookup", func() error { return m.LookupElem(files, fd, make([]byte, 8), 0) }, errno.ENOENT, -1},
		{"delete again", func() error { return m.DeleteElem(files, fd) }, errno.ENOENT, -1},
	}
	for _, s := range steps {
		err := s.do()
		if s.want == 0 {
			require.NoError(t, err, s.name)
		} else {
			assert.Equal(t, s.want, errno.Of(err), "%s: %v", s.name, err)
		}
		if s.cnt >= 0 {
			assert.Equal(t, uint32(s.cnt), cnt(), s.name)
		}
	}
}

// TestSkSyscallErrno follows kernel_lab §3's element-op table (value
// without a spin lock, a TCP socket fd).
func TestSkSyscallErrno(t *testing.T) {
	e := newTestEnv(t, Config{Profile: ProfileV6_18})
	m := mustMap(t, e, Spec(MapTypeSkStorage, 16, FlagClone))
	files := NewFDTable()
	tcp := files.Install(NewSock(nil))
	udp := files.Install(NewSock(nil))
	pipe := files.Install(&OtherFile{Name: "pipe"})
	v := bytesOf(16, 7)
	out := make([]byte, 16)
	rows := []struct {
		name string
		do   func() error
		want errno.Errno
	}{
		{"lookup before update", func() error { return m.LookupElem(files, tcp, out, 0) }, errno.ENOENT},
		{"update EXIST on missing", func() error { return m.UpdateElem(files, tcp, v, UpdateExist) }, errno.ENOENT},
		{"delete on missing", func() error { return m.DeleteElem(files, tcp) }, errno.ENOENT},
		{"update NOEXIST", func() error { return m.UpdateElem(files, tcp, v, UpdateNoExist) }, 0},
		{"update NOEXIST again", func() error { return m.UpdateElem(files, tcp, v, UpdateNoExist) }, errno.EEXIST},
		{"update EXIST", func() error { return m.UpdateElem(files, tcp, v, UpdateExist) }, 0},
		{"update ANY", func() error { return m.UpdateElem(files, tcp, v, UpdateAny) }, 0},
		{"update F_LOCK without spin lock", func() error { return m.UpdateElem(files, tcp, v, UpdateLock) }, errno.EINVAL},
		{"lookup F_LOCK without spin lock", func() error { return m.LookupElem(files, tcp, out, UpdateLock) }, errno.EINVAL},
		{"lookup flags 1", func() error { return m.LookupElem(files, tcp, out, 1) }, errno.EINVAL},
		{"update flags 8", func() error { return m.UpdateElem(files, tcp, v, 8) }, errno.EINVAL},
		{"update NOEXIST|EXIST", func() error { return m.UpdateElem(files, tcp, v, UpdateNoExist|UpdateExist) }, errno.EINVAL},
		{"update UDP socket", func() error { return m.UpdateElem(files, udp, v, UpdateAny) }, 0},
		{"update pipe fd", func() error { return m.UpdateElem(files, pipe, v, UpdateAny) }, errno.ENOTSOCK},
		{"lookup pipe fd", func() error { return m.LookupElem(files, pipe, out, 0) }, errno.ENOTSOCK},
		{"delete pipe fd", func() error { return m.DeleteElem(files, pipe) }, errno.ENOTSOCK},
		{"update fd 9999", func() error { return m.UpdateElem(files, 9999, v, UpdateAny) }, errno.EBADF},
		{"lookup fd -1", func() error { return m.LookupElem(files, -1, out, 0) }, errno.EBADF},
		{"update flags 8 on a bad fd (fd first)", func() error { return m.UpdateElem(files, 9999, v, 8) }, errno.EBADF},
		{"next key", func() error { return m.GetNextKey() }, errno.ENOTSUPP},
		{"lookup and delete", func() error { return m.LookupAndDeleteElem() }, errno.ENOTSUPP},
		{"short update buffer", func() error { return m.UpdateElem(files, tcp, v[:3], UpdateAny) }, errno.EFAULT},
		{"short lookup buffer", func() error { return m.LookupElem(files, tcp, out[:3], 0) }, errno.EFAULT},
	}
	for _, r := range rows {
		err := r.do()
		assert.Equal(t, r.want, errno.Of(err), "%s: %v", r.name, err)
	}
	// dup(fd) sees the same value: storage is per socket.
	dup, ok := files.Dup(tcp)
	require.True(t, ok)
	require.NoError(t, m.LookupElem(files, dup, out, 0))
	assert.Equal(t, v, out)
}

// TestSkHelpers covers bpf_sk_storage_get/delete and their tracing variants.
func TestSkHelpers(t *testing.T) {
	e := newTestEnv(t, Config{})
	m := mustMap(t, e, Spec(MapTypeSkStorage, 4, 0))
	sk := NewSock(nil)

	v, err := m.SkStorageGet(sk, nil, 0)
	assert.Nil(t, v)
	assert.ErrorIs(t, err, ErrNotFound)

	v, err = m.SkStorageGet(sk, nil, GetCreate)
	require.NoError(t, err)
	assert.Equal(t, []byte{0, 0, 0, 0}, v, "zero-initialised without an initial value")
	copy(v, []byte{1, 2, 3, 4})
	v2, err := m.SkStorageGet(sk, []byte{9, 9, 9, 9}, GetCreate)
	require.NoError(t, err)
	assert.Equal(t, []byte{1, 2, 3, 4}, v2, "a hit ignores the initial value")

	rows := []struct {
		name string
		err  error
		want errno.Errno
	}{
		{"get flags 2", second(m.SkStorageGet(sk, nil, 2)), errno.EINVAL},
		{"get nil sk", second(m.SkStorageGet(nil, nil, GetCreate)), errno.EINVAL},
		{"get request sock", second(m.SkStorageGet(NewRequestSock(nil), nil, GetCreate)), errno.EINVAL},
		{"delete request sock", m.SkStorageDelete(NewRequestSock(nil)), errno.EINVAL},
		{"delete nil", m.SkStorageDelete(nil), errno.EINVAL},
		{"tracing get in hardirq", second(m.SkStorageGetTracing(CtxHardirq, sk, nil, 0)), errno.EPERM},
		{"tracing get in NMI", second(m.SkStorageGetTracing(CtxNMI, sk, nil, 0)), errno.EPERM},
		{"tracing delete in hardirq", m.SkStorageDeleteTracing(CtxHardirq, sk), errno.EPERM},
		{"tracing get", second(m.SkStorageGetTracing(CtxNormal, sk, nil, 0)), 0},
		{"delete", m.SkStorageDelete(sk), 0},
		{"delete again", m.SkStorageDelete(sk), errno.ENOENT},
		{"tracing delete missing", m.SkStorageDeleteTracing(CtxNormal, sk), errno.ENOENT},
	}
	for _, r := range rows {
		assert.Equal(t, r.want, errno.Of(r.err), "%s: %v", r.name, r.err)
	}

	v, err = m.SkStorageGet(sk, []byte{5, 6, 7, 8}, GetCreate)
	require.NoError(t, err)
	assert.Equal(t, []byte{5, 6, 7, 8}, v, "the initial value is copied")
	v, err = m.SkStorageGetSleepable(NewSock(nil), nil, GetCreate)
	require.NoError(t, err, "a sleepable program creates with BPF_NOEXIST under GFP_KERNEL")
	assert.Len(t, v, 4)

	// A socket whose refcount is zero: lookups still work, no create,
	// delete says ENOENT.
	sk.Release()
	v, err = m.SkStorageGet(sk, nil, 0)
	require.NoError(t, err)
	assert.Equal(t, []byte{5, 6, 7, 8}, v)
	assert.ErrorIs(t, m.SkStorageDelete(sk), ErrNotFound)
	dead := NewSock(nil)
	dead.Release()
	_, err = m.SkStorageGet(dead, nil, GetCreate)
	assert.ErrorIs(t, err, ErrNotFound)
	sk.Destruct(e)
	assert.Zero(t, sk.OmemAlloc())
	assert.Nil(t, sk.Storage())
	assert.Panics(t, func() { sk.Destruct(e) })
	assert.Panics(t, func() { _, _ = m.SkStorageGet(NewSock(nil), []byte{1}, GetCreate) }, "initial value of the wrong size")
	tm := mustMap(t, e, Spec(MapTypeTaskStorage, 4, 0))
	assert.Panics(t, func() { _, _ = tm.SkStorageGet(NewSock(nil), nil, 0) }, "task map passed to an sk helper")
}

func second[T any](_ T, err error) error { return err }

// TestOptmemCharging reproduces kernel_lab §5 on the lab's kernel profile:
// the largest storable value is optmem_max - 249; the 1024-byte scenario;
// re-update needs room for the new element; optmem_max is per namespace.
func TestOptmemCharging(t *testing.T) {
	for _, p := range Profiles() {
		t.Run(p.Name, func(t *testing.T) {
			first := p.StorageSize(16) + ElemHeaderSize // 248 on 6.18, 256 on 2026
			for _, limit := range []int{1024, 2048, 4096} {
				e := newTestEnv(t, Config{Profile: p})
				net := &NetCore{OptmemMax: limit}
				largest := limit - first - 1
				ok := mustMap(t, e, Spec(MapTypeSkStorage, largest, 0))
				big := mustMap(t, e, Spec(MapTypeSkStorage, largest+1, 0))
				files := NewFDTable()
				fd := files.Install(NewSock(net))
				fd2 := files.Install(NewSock(net))
				assert.ErrorIs(t, big.UpdateElem(files, fd2, make([]byte, largest+1), UpdateAny), ErrNoMem, "limit %d", limit)
				require.NoError(t, ok.UpdateElem(files, fd, make([]byte, largest), UpdateAny), "limit %d", limit)
				if p.Name == ProfileV6_18.Name {
					assert.Equal(t, limit-249, largest, "kernel_lab: largest value = optmem_max - 249")
				}
			}
		})
	}

	e := newTestEnv(t, Config{Profile: ProfileV6_18})
	net := &NetCore{OptmemMax: 1024}
	m1 := mustMap(t, e, Spec(MapTypeSkStorage, 400, 0))
	m2 := mustMap(t, e, Spec(MapTypeSkStorage, 400, 0))
	m3 := mustMap(t, e, Spec(MapTypeSkStorage, 100, 0))
	files := NewFDTable()
	sk := NewSock(net)
	fd := files.Install(sk)
	require.NoError(t, m1.UpdateElem(files, fd, make([]byte, 400), UpdateAny))
	assert.Equal(t, 176+472, sk.OmemAlloc())
	assert.ErrorIs(t, m2.UpdateElem(files, fd, make([]byte, 400), UpdateAny), ErrNoMem)
	require.NoError(t, m3.UpdateElem(files, fd, make([]byte, 100), UpdateAny))
	assert.ErrorIs(t, m1.UpdateElem(files, fd, make([]byte, 400), UpdateExist), ErrNoMem,
		"the new element is charged before the old one is freed")
	require.NoError(t, m1.DeleteElem(files, fd))
	require.NoError(t, m3.UpdateElem(files, fd, make([]byte, 100), UpdateExist))
	assert.Equal(t, 176+172, sk.OmemAlloc())
	assert.Equal(t, sk.OmemAlloc(), sk.Storage().MemCharge())

	// Create-then-update at 1024: the largest such value is 351.
	for _, c := range []struct {
		v  int
		ok bool
	}{{351, true}, {352, false}} {
		e := newTestEnv(t, Config{Profile: ProfileV6_18})
		m := mustMap(t, e, Spec(MapTypeSkStorage, c.v, 0))
		files := NewFDTable()
		fd := files.Install(NewSock(&NetCore{OptmemMax: 1024}))
		require.NoError(t, m.UpdateElem(files, fd, make([]byte, c.v), UpdateAny))
		err := m.UpdateElem(files, fd, make([]byte, c.v), UpdateAny)
		assert.Equal(t, c.ok, err == nil, "value %d: %v", c.v, err)
	}

	// Per namespace: the same socket creation succeeds in the root
	// namespace and fails in one with a smaller optmem_max.
	e = newTestEnv(t, Config{Profile: ProfileV6_18})
	m := mustMap(t, e, Spec(MapTypeSkStorage, 2000, 0))
	root, small := NewNetCore(), &NetCore{OptmemMax: 2048}
	_, err := m.SkStorageGet(NewSock(root), nil, GetCreate)
	require.NoError(t, err)
	_, err = m.SkStorageGet(NewSock(small), nil, GetCreate)
	assert.ErrorIs(t, err, ErrNoMem)
	// size <= optmem_max is part of the check: a charge bigger than the
	// limit fails even on an empty socket.
	assert.ErrorIs(t, NewSock(&NetCore{OptmemMax: 10}).charge(11), ErrNoMem)
	assert.ErrorIs(t, NewSock(&NetCore{OptmemMax: 10}).charge(10), ErrNoMem, "strict <")
	assert.NoError(t, NewSock(&NetCore{OptmemMax: 10}).charge(9))
}
