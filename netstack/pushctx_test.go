package netstack

import (
	"reflect"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// fillNonZero sets every settable field of v (exported or not) to a
// non-zero value, recursing into structs. Interface fields are left alone.
func fillNonZero(v reflect.Value) {
	switch v.Kind() {
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			f := v.Field(i)
			fillNonZero(reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem())
		}
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(1)
	}
}

// TestPushCtxResetsAll checks that pushCtx leaves a used context exactly as
// a fresh Ctx literal would: no field of an earlier run survives. The owner
// s is the one field pushCtx leaves alone: ownCtxs sets it when the stack
// is built, and programs cannot change it.
func TestPushCtxResetsAll(t *testing.T) {
	s := &Stack{progs: []progEntry{{cfg: 3}, {cfg: 5}}, cur: 42}
	s.ownCtxs()
	for i := range s.ctxs {
		require.Same(t, s, s.ctxs[i].s, "ctxs[%d]", i)
	}
	fillNonZero(reflect.ValueOf(&s.ctxs[0]).Elem())
	s.ctxs[0].s = s
	dev, ns, sk := &Device{}, &Netns{}, &Socket{}
	c := s.pushCtx(1, 2, nil, dev, ns, sk)
	want := Ctx{Hook: 2, Prog: 5, Dev: dev, Netns: ns, Socket: sk, PacketID: 42, s: s, count: &s.progs[1].count}
	require.Equal(t, want, *c)
	require.Same(t, &s.progs[1].count, c.count)
	require.Same(t, dev, c.Dev)
	require.Same(t, ns, c.Netns)
	require.Same(t, sk, c.Socket)
	require.Equal(t, 1, s.depth)

	// A hook without device, namespace or socket leaves none from the
	// run before.
	s.popCtx()
	c = s.pushCtx(0, 1, nil, nil, nil, nil)
	require.Equal(t, Ctx{Hook: 1, Prog: 3, PacketID: 42, s: s, count: &s.progs[0].count}, *c)
}
