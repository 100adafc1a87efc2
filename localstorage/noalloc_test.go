package localstorage

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNoGoAllocations: lookups, misses and steady-state create/delete
// (objects recycled after each grace period) allocate nothing on the Go
// heap.
func TestNoGoAllocations(t *testing.T) {
	e := newTestEnv(t, Config{})
	m := mustMap(t, e, Spec(MapTypeSkStorage, 16, 0))
	other := mustMap(t, e, Spec(MapTypeSkStorage, 16, 0))
	tm := mustMap(t, e, Spec(MapTypeTaskStorage, 16, 0))
	sk, empty, task := NewSock(nil), NewSock(nil), NewTask(1)
	files := NewFDTable()
	fd := files.Install(sk)
	_, err := m.SkStorageGet(sk, nil, GetCreate)
	require.NoError(t, err)
	_, err = tm.TaskStorageGet(task, nil, GetCreate)
	require.NoError(t, err)
	val := make([]byte, 16)
	out := make([]byte, 16)

	cases := []struct {
		name string
		fn   func()
	}{
		{"sk get hit", func() { _, _ = m.SkStorageGet(sk, nil, 0) }},
		{"task get hit", func() { _, _ = tm.TaskStorageGet(task, nil, 0) }},
		{"sk get miss", func() { _, _ = other.SkStorageGet(empty, nil, 0) }},
		{"sk delete miss", func() { _ = other.SkStorageDelete(empty) }},
		{"syscall lookup", func() { _ = m.LookupElem(files, fd, out, 0) }},
		{"create and delete", func() {
			_, _ = other.SkStorageGet(empty, nil, GetCreate)
			_ = other.SkStorageDelete(empty)
			e.GracePeriod()
		}},
		{"replace", func() {
			_ = m.UpdateElem(files, fd, val, UpdateExist)
			e.GracePeriod()
		}},
	}
	for _, c := range cases {
		c.fn() // warm pools
		assert.Zero(t, testing.AllocsPerRun(200, c.fn), c.name)
	}
	sk.Close(e)
	empty.Close(e)
	task.Free(e)
}

// TestSkbNoGoAllocations: an skb's first write, hits, a miss and the free,
// per strategy, allocate nothing once the pools are warm.
func TestSkbNoGoAllocations(t *testing.T) {
	for _, st := range Strategies() {
		t.Run(string(st), func(t *testing.T) {
			e, a := newSkbEnv(t, Config{Skb: SkbConfig{Strategy: st}})
			m := mustMap(t, e, Spec(MapTypeSkbStorage, 16, 0))
			other := mustMap(t, e, Spec(MapTypeSkbStorage, 8, 0))
			e.RefillSkbPool()
			packet := func() {
				b, err := a.AllocSkb(256)
				if err != nil {
					panic(err)
				}
				_, _ = m.SkbStorageGet(CtxNormal, b, nil, GetCreate)
				_, _ = m.SkbStorageGet(CtxNormal, b, nil, 0)
				_, _ = m.SkbStorageLookup(b)
				_, _ = other.SkbStorageLookup(b)
				b.ConsumeSkb()
				e.GracePeriod()
			}
			packet()
			assert.Zero(t, testing.AllocsPerRun(200, packet))
		})
	}
}
