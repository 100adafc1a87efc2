package localstorage

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStore(t *testing.T) {
	e, a := newSkbEnv(t, Config{})
	sm := mustMap(t, e, Spec(MapTypeSkStorage, 4, 0))
	tm := mustMap(t, e, Spec(MapTypeTaskStorage, 4, 0))
	bm := mustMap(t, e, Spec(MapTypeSkbStorage, 4, 0))
	sk, task, b := NewSock(nil), NewTask(1), mustSkb(t, a)
	val := []byte{1, 2, 3, 4}
	require.NoError(t, sm.SkStorageStore(sk, val))
	require.NoError(t, tm.TaskStorageStore(task, val))
	require.NoError(t, bm.SkbStorageStore(CtxNormal, b, val))
	v, _ := sm.SkStorageGet(sk, nil, 0)
	assert.Equal(t, val, v)
	v, _ = tm.TaskStorageGet(task, nil, 0)
	assert.Equal(t, val, v)
	v, _ = bm.SkbStorageGet(CtxNormal, b, nil, 0)
	assert.Equal(t, val, v)
	assert.ErrorIs(t, bm.SkbStorageStore(CtxHardirq, b, val), ErrPerm)
	assert.ErrorIs(t, sm.SkStorageStore(NewRequestSock(nil), val), ErrInvalid)
	assert.Panics(t, func() { _ = sm.SkStorageStore(sk, val[:2]) })
	assert.Panics(t, func() { _ = sm.SkStorageStore(sk, nil) })
	assert.Equal(t, 280+2*16, sm.MemUsage())
	assert.Equal(t, 8, e.SkbExtChunkSize())
	assert.Equal(t, 144, newTestEnv(t, Config{Skb: SkbConfig{Strategy: StrategySlim}}).SkbExtChunkSize())
	b.ConsumeSkb()
	sk.Close(e)
	task.Free(e)
}
