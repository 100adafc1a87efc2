package localstorage

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/kmem"
)

type traffic struct {
	allocs, frees, deferred uint64
}

func siteTraffic(st *kmem.Stats, s kmem.Site) traffic {
	c := st.BySite[s]
	return traffic{c.Allocs, c.Frees, c.DeferredFrees}
}

func delta(e *Env, f func()) kmem.Stats {
	before := e.Acct().Stats()
	f()
	after := e.Acct().Stats()
	return after.Sub(&before)
}

// TestAllocationCounts: first create = selem + storage (2 allocations, 2
// charges), another map's create = 1, replace = 1 allocation + 1 deferred
// free, F_LOCK update in place = 0, delete of the last element frees 2
// after the grace period.
func TestAllocationCounts(t *testing.T) {
	e := newTestEnv(t, Config{})
	spec := Spec(MapTypeSkStorage, 8, 0)
	spec.Value = SpinLockType(8, 4)
	m := mustMap(t, e, spec)
	m2 := mustMap(t, e, Spec(MapTypeSkStorage, 64, 0))
	sk := NewSock(nil)
	files := NewFDTable()
	fd := files.Install(sk)

	d := delta(e, func() { require.NoError(t, m.UpdateElem(files, fd, make([]byte, 8), UpdateNoExist)) })
	assert.Equal(t, traffic{1, 0, 0}, siteTraffic(&d, siteSelem))
	assert.Equal(t, traffic{1, 0, 0}, siteTraffic(&d, siteStorage))
	assert.Equal(t, uint64(1), d.ByClass[kmem.ClassIndex(96)].Allocs, "80-byte element in kmalloc-96")
	assert.Equal(t, uint64(1), d.ByClass[kmem.ClassIndex(192)].Allocs, "184-byte storage in kmalloc-192")
	assert.Equal(t, uint64(80+184), d.Total.BytesRequested)
	assert.Equal(t, uint64(96+192), d.Total.BytesOccupied)
	assert.Equal(t, 184+80, sk.OmemAlloc())

	d = delta(e, func() { require.NoError(t, m2.UpdateElem(files, fd, make([]byte, 64), UpdateNoExist)) })
	assert.Equal(t, uint64(1), d.Total.Allocs)
	assert.Equal(t, uint64(1), d.ByClass[kmem.ClassIndex(136)].Allocs, "136-byte element in kmalloc-192")
	assert.Equal(t, 184+80+136, sk.OmemAlloc())

	d = delta(e, func() { require.NoError(t, m2.UpdateElem(files, fd, bytesOf(64, 1), UpdateExist)) })
	assert.Equal(t, traffic{1, 0, 1}, siteTraffic(&d, siteSelem), "replace: a new element, the old freed after a grace period")
	assert.Equal(t, uint64(64), d.Ops[cost.OpMemcpyByte])
	assert.Equal(t, int64(1), d.PendingRCU)
	assert.Equal(t, 184+80+136, sk.OmemAlloc(), "the old element is uncharged at unlink")

	d = delta(e, func() { require.NoError(t, m.UpdateElem(files, fd, bytesOf(8, 2), UpdateExist|UpdateLock)) })
	assert.Zero(t, d.Total.Allocs, "F_LOCK updates in place")

	e.GracePeriod()
	d = delta(e, func() { require.NoError(t, m2.DeleteElem(files, fd)) })
	assert.Equal(t, traffic{0, 0, 1}, siteTraffic(&d, siteSelem))
	d = delta(e, func() { require.NoError(t, m.DeleteElem(files, fd)) })
	assert.Equal(t, traffic{0, 0, 1}, siteTraffic(&d, siteSelem))
	assert.Equal(t, traffic{0, 0, 1}, siteTraffic(&d, siteStorage), "the last delete frees the storage")
	assert.Nil(t, sk.Storage())
	assert.Zero(t, sk.OmemAlloc())
	live, _ := e.Acct().Live()
	assert.Equal(t, int64(4+3), live, "smap+buckets of 2 maps, and 2 elements and the storage pending RCU")
	e.GracePeriod()
	live, _ = e.Acct().Live()
	assert.Equal(t, int64(4), live)
}

// TestFaultPaths: fault injection follows bpf_local_storage_update()'s
// error paths.
func TestFaultPaths(t *testing.T) {
	t.Run("selem alloc fails", func(t *testing.T) {
		e := newTestEnv(t, Config{})
		m := mustMap(t, e, Spec(MapTypeSkStorage, 8, 0))
		sk := NewSock(nil)
		e.Acct().SetFault(kmem.Fault{Nth: 1})
		d := delta(e, func() {
			_, err := m.SkStorageGet(sk, nil, GetCreate)
			assert.ErrorIs(t, err, ErrNoMem)
		})
		assert.Zero(t, d.Total.Allocs)
		assert.Equal(t, uint64(1), d.BySite[siteSelem].Failed)
		assert.Nil(t, sk.Storage())
		assert.Zero(t, sk.OmemAlloc(), "bpf_selem_alloc uncharges on failure")
	})
	t.Run("storage alloc fails after elem alloc", func(t *testing.T) {
		e := newTestEnv(t, Config{})
		m := mustMap(t, e, Spec(MapTypeSkStorage, 8, 0))
		sk := NewSock(nil)
		e.Acct().SetFault(kmem.Fault{Nth: 2})
		d := delta(e, func() {
			_, err := m.SkStorageGet(sk, nil, GetCreate)
			assert.ErrorIs(t, err, ErrNoMem)
		})
		assert.Equal(t, traffic{1, 0, 1}, siteTraffic(&d, siteSelem), "the element is freed (call_rcu)")
		assert.Equal(t, uint64(1), d.BySite[siteStorage].Failed)
		assert.Nil(t, sk.Storage(), "the owner's storage pointer stays unpublished")
		assert.Zero(t, sk.OmemAlloc())
		assert.Zero(t, m.Len())
		e.Acct().SetFault(kmem.Fault{})
		v, err := m.SkStorageGet(sk, nil, GetCreate)
		require.NoError(t, err)
		assert.Len(t, v, 8)
	})
	t.Run("storage site only", func(t *testing.T) {
		e := newTestEnv(t, Config{})
		m := mustMap(t, e, Spec(MapTypeTaskStorage, 8, 0))
		tk := NewTask(1)
		e.Acct().SetFault(kmem.Fault{Prob: 1, Site: siteStorage})
		_, err := m.TaskStorageGet(tk, nil, GetCreate)
		assert.ErrorIs(t, err, ErrNoMem)
		assert.Nil(t, tk.Storage())
		e.Acct().SetFault(kmem.Fault{})
		tk.Free(e)
	})
	t.Run("replace alloc fails", func(t *testing.T) {
		e := newTestEnv(t, Config{})
		m := mustMap(t, e, Spec(MapTypeSkStorage, 4, 0))
		files := NewFDTable()
		sk := NewSock(nil)
		fd := files.Install(sk)
		require.NoError(t, m.UpdateElem(files, fd, []byte{1, 2, 3, 4}, UpdateAny))
		charge := sk.OmemAlloc()
		e.Acct().SetFault(kmem.Fault{Nth: 1})
		assert.ErrorIs(t, m.UpdateElem(files, fd, []byte{5, 6, 7, 8}, UpdateAny), ErrNoMem)
		out := make([]byte, 4)
		require.NoError(t, m.LookupElem(files, fd, out, 0))
		assert.Equal(t, []byte{1, 2, 3, 4}, out, "the old element is untouched")
		assert.Equal(t, charge, sk.OmemAlloc())
	})
	t.Run("EEXIST after allocating", func(t *testing.T) {
		// For an existing storage, NOEXIST allocates the new element first
		// and only finds the old one under storage->lock.
		e := newTestEnv(t, Config{})
		m := mustMap(t, e, Spec(MapTypeSkStorage, 4, 0))
		files := NewFDTable()
		sk := NewSock(nil)
		fd := files.Install(sk)
		require.NoError(t, m.UpdateElem(files, fd, []byte{1, 2, 3, 4}, UpdateAny))
		d := delta(e, func() {
			assert.ErrorIs(t, m.UpdateElem(files, fd, []byte{1, 2, 3, 4}, UpdateNoExist), ErrExists)
		})
		assert.Equal(t, traffic{1, 0, 1}, siteTraffic(&d, siteSelem))
	})
}
