package localstorage

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/cost"
)

func ops(e *Env) cost.Counts { return *e.Acct().Ops() }

// TestCacheBehaviour: create does not fill the cache, a caching lookup
// does (helper get and syscall lookup), update/delete-internal lookups do
// not, unlink clears the slot.
func TestCacheBehaviour(t *testing.T) {
	e := newTestEnv(t, Config{})
	m := mustMap(t, e, Spec(MapTypeSkStorage, 8, 0))
	other := mustMap(t, e, Spec(MapTypeSkStorage, 8, 0))
	sk := NewSock(nil)
	files := NewFDTable()
	fd := files.Install(sk)

	_, err := m.SkStorageGet(sk, nil, GetCreate)
	require.NoError(t, err)
	s := sk.Storage()
	assert.Nil(t, s.CacheSlot(m.CacheIdx()), "create does not fill the cache")

	before := ops(e)
	_, err = m.SkStorageGet(sk, nil, 0)
	require.NoError(t, err)
	d := ops(e)
	d = d.Sub(&before)
	assert.Equal(t, uint64(1), d[cost.OpListWalk], "first lookup walks the list")
	assert.Zero(t, d[cost.OpStorageCacheHit])
	el := s.CacheSlot(m.CacheIdx())
	require.NotNil(t, el, "a caching lookup fills the slot")
	assert.Equal(t, m, el.Map())

	before = ops(e)
	_, err = m.SkStorageGet(sk, nil, 0)
	require.NoError(t, err)
	d = ops(e)
	d = d.Sub(&before)
	assert.Equal(t, uint64(1), d[cost.OpStorageCacheHit])
	assert.Zero(t, d[cost.OpListWalk])

	// A second map: its create and a syscall update do not cache; the
	// update replacing m's element clears m's slot (unlink of the old).
	require.NoError(t, other.UpdateElem(files, fd, make([]byte, 8), UpdateAny))
	assert.Nil(t, s.CacheSlot(other.CacheIdx()))
	require.NoError(t, m.UpdateElem(files, fd, bytesOf(8, 1), UpdateExist))
	assert.Nil(t, s.CacheSlot(m.CacheIdx()), "the replaced element left the cache")
	require.NoError(t, other.LookupElem(files, fd, make([]byte, 8), 0))
	assert.NotNil(t, s.CacheSlot(other.CacheIdx()), "syscall lookup caches")
	require.NoError(t, other.DeleteElem(files, fd))
	assert.Nil(t, s.CacheSlot(other.CacheIdx()), "unlink clears the slot")
	assert.Equal(t, 1, s.Len())
	for i := range e.CacheSize(OwnerSock) {
		if el := s.CacheSlot(i); el != nil {
			assert.True(t, el.inStorage)
		}
	}
}

// TestCacheSharing: with 17 maps of one owner type, maps 0 and 16 share
// slot 0 and evict each other; the others stay cached.
func TestCacheSharing(t *testing.T) {
	e := newTestEnv(t, Config{})
	sk := NewSock(nil)
	var maps []*Map
	for range 17 {
		m := mustMap(t, e, Spec(MapTypeSkStorage, 4, 0))
		_, err := m.SkStorageGet(sk, nil, GetCreate)
		require.NoError(t, err)
		maps = append(maps, m)
	}
	require.Equal(t, maps[0].CacheIdx(), maps[16].CacheIdx())
	s := sk.Storage()
	get := func(m *Map) cost.Counts {
		before := ops(e)
		_, err := m.SkStorageGet(sk, nil, 0)
		require.NoError(t, err)
		d := ops(e)
		return d.Sub(&before)
	}
	get(maps[0])
	assert.Equal(t, uint64(1), get(maps[0])[cost.OpStorageCacheHit])
	d := get(maps[16])
	assert.Zero(t, d[cost.OpStorageCacheHit], "slot 0 holds map 0's element")
	assert.Equal(t, uint64(1), d[cost.OpListWalk], "map 16's element is the newest: first in the list")
	assert.Equal(t, maps[16], s.CacheSlot(0).Map(), "map 16 evicted map 0")
	d = get(maps[0])
	assert.Equal(t, uint64(17), d[cost.OpListWalk], "map 0's element is the oldest: 17 steps")
	assert.Equal(t, maps[0], s.CacheSlot(0).Map())
	assert.Equal(t, uint64(12), get(maps[5])[cost.OpListWalk], "map 5 is 12th newest")
	assert.Equal(t, uint64(1), get(maps[5])[cost.OpStorageCacheHit], "then cached in its own slot")
}

// TestStorageEntries lists a storage newest first, marking cached entries.
func TestStorageEntries(t *testing.T) {
	e := newTestEnv(t, Config{})
	a := mustMap(t, e, Spec(MapTypeSkStorage, 2, 0))
	b := mustMap(t, e, Spec(MapTypeSkStorage, 2, 0))
	sk := NewSock(nil)
	_, err := a.SkStorageGet(sk, []byte{1, 1}, GetCreate)
	require.NoError(t, err)
	_, err = b.SkStorageGet(sk, []byte{2, 2}, GetCreate)
	require.NoError(t, err)
	_, err = a.SkStorageGet(sk, nil, 0)
	require.NoError(t, err)
	ents := sk.Storage().Entries(nil)
	require.Len(t, ents, 2)
	assert.Equal(t, Entry{Map: b, Value: []byte{2, 2}}, ents[0])
	assert.Equal(t, Entry{Map: a, Value: []byte{1, 1}, Cached: true}, ents[1])
	var none *Storage
	assert.Empty(t, none.Entries(nil))
}

// TestRecycledStorageCacheClean: a storage destroyed with filled cache
// slots (bpf_local_storage_destroy does not clear them) comes back from
// the pool after the grace period with every slot empty, whether the
// cache has up to 64 slots (cleared slot by slot) or more.
func TestRecycledStorageCacheClean(t *testing.T) {
	for _, cs := range []int{1, 3, 64, 65, 130} {
		e := newTestEnv(t, Config{CacheSize: cs})
		var maps []*Map
		for range min(cs, 70) {
			maps = append(maps, mustMap(t, e, Spec(MapTypeSkStorage, 4, 0)))
		}
		sk := NewSock(nil)
		for _, m := range maps {
			_, err := m.SkStorageGet(sk, nil, GetCreate)
			require.NoError(t, err)
		}
		for _, m := range maps {
			_, err := m.SkStorageGet(sk, nil, 0)
			require.NoError(t, err)
		}
		s := sk.Storage()
		filled := 0
		for i := range cs {
			if s.CacheSlot(i) != nil {
				filled++
			}
		}
		require.Equal(t, len(maps), filled, "cache size %d: every lookup cached", cs)
		sk.Destruct(e)
		e.GracePeriod()
		sk2 := NewSock(nil)
		_, err := maps[0].SkStorageGet(sk2, nil, GetCreate)
		require.NoError(t, err)
		require.Same(t, s, sk2.Storage(), "cache size %d: the storage object is reused", cs)
		for i := range cs {
			assert.Nil(t, s.CacheSlot(i), "cache size %d: slot %d", cs, i)
		}
		sk2.Destruct(e)
	}
}
