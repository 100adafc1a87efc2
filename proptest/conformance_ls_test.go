package proptest

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/skbsim/skbsim/internal/errno"
	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/localstorage"
	"github.com/skbsim/skbsim/skb"
)

// newEnv returns an Env whose leak check (every map freed, a grace period,
// nothing left in the accountant) runs when the test ends.
func newEnv(tb testing.TB, cfg localstorage.Config) *localstorage.Env {
	tb.Helper()
	if cfg.Acct == nil {
		cfg.Acct = kmem.New()
	}
	e := localstorage.NewEnv(cfg)
	tb.Cleanup(func() {
		e.Close()
		if st := cfg.Acct.Stats(); st.LiveObjects != 0 || st.PendingRCU != 0 {
			tb.Errorf("after Env.Close: %d objects live, %d pending RCU", st.LiveObjects, st.PendingRCU)
		}
	})
	return e
}

func mustMap(tb testing.TB, e *localstorage.Env, spec localstorage.MapSpec) *localstorage.Map {
	tb.Helper()
	m, err := e.CreateMap(spec)
	require.NoError(tb, err)
	return m
}

func wantErrno(tb testing.TB, want errno.Errno, err error, what string) {
	tb.Helper()
	if want == 0 {
		require.NoError(tb, err, what)
		return
	}
	require.Equal(tb, want.Name(), errno.Of(err).Name(), "%s: err %v", what, err)
}

func u32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

// TestSelftestSkStorageMapBasic restates test_sk_storage_map_basic()
// (tools/testing/selftests/bpf/map_tests/sk_storage_map.c): a SK_STORAGE map
// with key int and value struct { int cnt; struct bpf_spin_lock lock; },
// BPF_F_NO_PREALLOC, on one socket fd, with its exact errno sequence; the
// lookups with BPF_F_LOCK read the lock as 0 however the update set it.
// Then the four map creations it expects to fail with EINVAL.
func TestSelftestSkStorageMapBasic(t *testing.T) {
	e := newEnv(t, localstorage.Config{})
	spec := localstorage.Spec(localstorage.MapTypeSkStorage, 8, 0)
	spec.Value = localstorage.SpinLockType(8, 4)
	m := mustMap(t, e, spec)
	files := localstorage.NewFDTable()
	sk := localstorage.NewSock(nil)
	fd := files.Install(sk)
	defer sk.Close(e)

	type value struct{ cnt, lock uint32 }
	enc := func(v value) []byte { return binary.LittleEndian.AppendUint32(u32(v.cnt), v.lock) }
	lookup := func(what string, want value) {
		out := enc(value{0xffffffff, 0xffffffff})
		require.NoError(t, m.LookupElem(files, fd, out, localstorage.UpdateLock), what)
		got := value{binary.LittleEndian.Uint32(out), binary.LittleEndian.Uint32(out[4:])}
		assert.Equal(t, value{want.cnt, 0}, got, "%s: lookup_value.lock must be 0 and cnt %d", what, want.cnt)
	}
	v := value{cnt: 0xeB9f, lock: 1}
	wantErrno(t, 0, m.UpdateElem(files, fd, enc(v), localstorage.UpdateNoExist|localstorage.UpdateLock), "update(BPF_NOEXIST|BPF_F_LOCK)")
	lookup("bpf_map_lookup_elem_flags(BPF_F_LOCK)", v)
	v.cnt, v.lock = v.cnt+1, 2
	wantErrno(t, 0, m.UpdateElem(files, fd, enc(v), localstorage.UpdateExist|localstorage.UpdateLock), "update(BPF_EXIST|BPF_F_LOCK)")
	lookup("after BPF_EXIST|BPF_F_LOCK", v)
	v.cnt, v.lock = v.cnt+1, 2
	wantErrno(t, 0, m.UpdateElem(files, fd, enc(v), localstorage.UpdateExist), "update(BPF_EXIST)")
	lookup("after BPF_EXIST", v)
	v.cnt, v.lock = v.cnt+1, 2
	wantErrno(t, errno.EEXIST, m.UpdateElem(files, fd, enc(v), localstorage.UpdateNoExist|localstorage.UpdateLock), "update(BPF_NOEXIST|BPF_F_LOCK)")
	wantErrno(t, errno.EEXIST, m.UpdateElem(files, fd, enc(v), localstorage.UpdateNoExist), "update(BPF_NOEXIST)")
	v.cnt--
	lookup("value unchanged by the refused updates", v)
	v.cnt, v.lock = v.cnt+1, 2
	wantErrno(t, 0, m.UpdateElem(files, fd, enc(v), 0), "update(0)")
	lookup("after map_flags 0", v)
	wantErrno(t, 0, m.DeleteElem(files, fd), "delete")
	wantErrno(t, errno.ENOENT, m.LookupElem(files, fd, enc(v), localstorage.UpdateLock), "lookup after delete")
	wantErrno(t, errno.ENOENT, m.DeleteElem(files, fd), "delete again")

	bad := []struct {
		name string
		edit func(*localstorage.MapSpec)
	}{
		{"btf_key_type_id = 0", func(s *localstorage.MapSpec) { s.Key = nil }},
		{"btf_key_type_id = 3 (the value struct)", func(s *localstorage.MapSpec) { s.Key = localstorage.SpinLockType(8, 4) }},
		{"max_entries = 1", func(s *localstorage.MapSpec) { s.MaxEntries = 1 }},
		{"map_flags = 0", func(s *localstorage.MapSpec) { s.Flags = 0 }},
	}
	for _, b := range bad {
		s := spec
		b.edit(&s)
		_, err := e.CreateMap(s)
		wantErrno(t, errno.EINVAL, err, "bpf_map_create with "+b.name)
	}
}

// TestSelftestSockoptInherit restates prog_tests/sockopt_inherit.c: the
// cgroup/setsockopt program stores 1 in three sk storage maps on the
// listener (CUSTOM_INHERIT1 and CUSTOM_INHERIT2 in BPF_F_CLONE maps,
// CUSTOM_LISTENER in a map without it); getsockopt reads the values with
// bpf_sk_storage_get(F_CREATE) (0 for a socket without one). Listener
// 1/1/1, accepted socket 1/1/0, connecting client 0/0/0. The listener is
// plain TCP (the selftest's socket(AF_INET, SOCK_STREAM, 0)).
func TestSelftestSockoptInherit(t *testing.T) {
	e := newEnv(t, localstorage.Config{})
	maps := []*localstorage.Map{
		mustMap(t, e, localstorage.Spec(localstorage.MapTypeSkStorage, 4, localstorage.FlagClone)),
		mustMap(t, e, localstorage.Spec(localstorage.MapTypeSkStorage, 4, localstorage.FlagClone)),
		mustMap(t, e, localstorage.Spec(localstorage.MapTypeSkStorage, 4, 0)),
	}
	l := localstorage.NewListener(nil, false)
	defer l.Close(e)
	for _, m := range maps {
		v, err := m.SkStorageGet(l.Sock, nil, localstorage.GetCreate)
		require.NoError(t, err)
		copy(v, u32(1))
	}
	client := localstorage.NewSock(nil)
	defer client.Close(e)
	conn, err := e.PassiveOpen(l, false)
	require.NoError(t, err)
	defer conn.Close(e)
	read := func(sk *localstorage.Sock) [3]uint32 {
		var out [3]uint32
		for i, m := range maps {
			v, err := m.SkStorageGet(sk, nil, localstorage.GetCreate)
			require.NoError(t, err)
			out[i] = binary.LittleEndian.Uint32(v)
		}
		return out
	}
	assert.Equal(t, [3]uint32{1, 1, 1}, read(l.Sock), "listener")
	assert.Equal(t, [3]uint32{1, 1, 0}, read(conn.Sock), "accepted socket")
	assert.Equal(t, [3]uint32{0, 0, 0}, read(client), "client")
}

// TestSelftestSkStorageOmemUncharge restates
// prog_tests/sk_storage_omem_uncharge.c: update(0) then update(0xdeadbeef)
// on a socket (the replace path allocates a new element before freeing the
// old), the destructor still reads 0xdeadbeef, and sk_omem_alloc ends at 0.
func TestSelftestSkStorageOmemUncharge(t *testing.T) {
	for _, prof := range localstorage.Profiles() {
		t.Run(prof.Name, func(t *testing.T) {
			e := newEnv(t, localstorage.Config{Profile: prof})
			m := mustMap(t, e, localstorage.Spec(localstorage.MapTypeSkStorage, 4, 0))
			files := localstorage.NewFDTable()
			sk := localstorage.NewSock(nil)
			fd := files.Install(sk)
			require.NoError(t, m.UpdateElem(files, fd, u32(0), localstorage.UpdateAny))
			require.NoError(t, m.UpdateElem(files, fd, u32(0xdeadbeef), localstorage.UpdateAny))
			assert.Equal(t, e.StorageSize(localstorage.OwnerSock)+m.ElemSize(), sk.OmemAlloc(), "charge after the replace")
			e.GracePeriod()
			ents := sk.Storage().Entries(nil)
			require.Len(t, ents, 1)
			assert.Equal(t, u32(0xdeadbeef), ents[0].Value, "value seen by the inet6_sock_destruct probe")
			sk.Destruct(e)
			assert.Zero(t, sk.OmemAlloc(), "sk_omem_alloc after bpf_local_storage_destroy")
			assert.Nil(t, sk.Storage())
		})
	}
}

// TestSelftestSkStorageStressChange restates test_sk_storage_map_stress_change()
// (map_tests/sk_storage_map.c): on one socket, updaters (flags 0) tolerate
// only EAGAIN and deleters only ENOENT. The model is sequential, so the other
// CPU runs at the race windows the kernel has (Env.SetRace); rapid picks the
// interleavings.
func TestSelftestSkStorageStressChange(t *testing.T) {
	check(t, 2000, 60, func(rt *rapid.T) {
		e := localstorage.NewEnv(localstorage.Config{})
		m, err := e.CreateMap(localstorage.Spec(localstorage.MapTypeSkStorage, 8, 0))
		require.NoError(rt, err)
		files := localstorage.NewFDTable()
		sk := localstorage.NewSock(nil)
		fd := files.Install(sk)
		v := make([]byte, 8)
		var raceErr []error
		e.SetRace(func(localstorage.RacePoint) {
			if rapid.Bool().Draw(rt, "other cpu deletes") {
				if err := m.DeleteElem(files, fd); err != nil {
					raceErr = append(raceErr, err)
				}
			} else if rapid.Bool().Draw(rt, "other cpu updates") {
				if err := m.UpdateElem(files, fd, v, 0); err != nil {
					raceErr = append(raceErr, err)
				}
			}
		})
		n := rapid.IntRange(1, 60).Draw(rt, "ops")
		for range n {
			if rapid.Bool().Draw(rt, "update") {
				if err := m.UpdateElem(files, fd, v, 0); err != nil && errno.Of(err) != errno.EAGAIN {
					rt.Fatalf("updater: %v, tolerated only EAGAIN", err)
				}
			} else if err := m.DeleteElem(files, fd); err != nil && errno.Of(err) != errno.ENOENT {
				rt.Fatalf("deleter: %v, tolerated only ENOENT", err)
			}
			if rapid.IntRange(0, 4).Draw(rt, "grace") == 0 {
				e.GracePeriod()
			}
		}
		e.SetRace(nil)
		for _, err := range raceErr {
			if c := errno.Of(err); c != errno.EAGAIN && c != errno.ENOENT {
				rt.Fatalf("racing CPU: %v", err)
			}
		}
		sk.Close(e)
		e.Close()
		if o, _ := e.Acct().Live(); o != 0 {
			rt.Fatalf("%d objects live after Close", o)
		}
	})
}

// TestSelftestLocalStorageSyscall restates check_syscall_operations() of
// prog_tests/test_local_storage.c for the task (pidfd key) and sk (socket fd
// key) maps, value struct { struct inode *exec_inode; u32 value; struct
// bpf_spin_lock lock; }: lookup ENOENT; update(BPF_NOEXIST) ok; lookup
// returns 0xbeefdead; delete ok; lookup ENOENT. Then the LSM part for
// sockets: socket_post_create creates sk storage holding 0xdeadbeef,
// socket_bind reads it and deletes it (sk_storage_result == 0).
func TestSelftestLocalStorageSyscall(t *testing.T) {
	e := newEnv(t, localstorage.Config{})
	files := localstorage.NewFDTable()
	valType := localstorage.SpinLockType(16, 12)
	task := localstorage.NewTask(42)
	sk := localstorage.NewSock(nil)
	defer sk.Close(e)
	defer task.Free(e)
	owners := []struct {
		name string
		typ  localstorage.MapType
		fd   int32
	}{
		{"task_storage_map", localstorage.MapTypeTaskStorage, files.Install(&localstorage.PidFD{Task: task})},
		{"sk_storage_map", localstorage.MapTypeSkStorage, files.Install(sk)},
	}
	for _, o := range owners {
		t.Run(o.name, func(t *testing.T) {
			spec := localstorage.Spec(o.typ, 16, 0)
			if o.typ == localstorage.MapTypeSkStorage {
				spec.Flags |= localstorage.FlagClone // progs/local_storage.c's sk map
			}
			spec.Value = valType
			m := mustMap(t, e, spec)
			out := make([]byte, 16)
			wantErrno(t, errno.ENOENT, m.LookupElem(files, o.fd, out, 0), "lookup before update")
			val := make([]byte, 16)
			binary.LittleEndian.PutUint32(val[8:], 0xbeefdead)
			wantErrno(t, 0, m.UpdateElem(files, o.fd, val, localstorage.UpdateNoExist), "update BPF_NOEXIST")
			wantErrno(t, 0, m.LookupElem(files, o.fd, out, 0), "lookup")
			assert.Equal(t, uint32(0xbeefdead), binary.LittleEndian.Uint32(out[8:]), "value.value")
			wantErrno(t, 0, m.DeleteElem(files, o.fd), "delete")
			wantErrno(t, errno.ENOENT, m.LookupElem(files, o.fd, out, 0), "lookup after delete")
		})
	}
	t.Run("socket_post_create/socket_bind", func(t *testing.T) {
		spec := localstorage.Spec(localstorage.MapTypeSkStorage, 16, localstorage.FlagClone)
		spec.Value = valType
		m := mustMap(t, e, spec)
		s := localstorage.NewSock(nil)
		defer s.Close(e)
		v, err := m.SkStorageGet(s, nil, localstorage.GetCreate) // lsm/socket_post_create
		require.NoError(t, err)
		binary.LittleEndian.PutUint32(v[8:], 0xdeadbeef)
		result := -1
		v, err = m.SkStorageGet(s, nil, 0) // lsm/socket_bind
		if err == nil && binary.LittleEndian.Uint32(v[8:]) == 0xdeadbeef && m.SkStorageDelete(s) == nil {
			result = 0
		}
		assert.Zero(t, result, "sk_storage_result")
		_, err = m.SkStorageGet(s, nil, 0)
		wantErrno(t, errno.ENOENT, err, "get after the bind program deleted it")
	})
}

// rfcMagic is MAGIC of progs/skb_storage.c.
const rfcMagic = 0xdeadbeef

// TestSelftestSkbStorageOps restates the skb_storage_ops subtest of the
// RFC's prog_tests/skb_storage.c (a SEC("socket") program run by
// BPF_PROG_TEST_RUN on pkt_v4, value __u32): get without F_CREATE is NULL;
// get(F_CREATE) is non-NULL and 0; write MAGIC; get reads MAGIC; delete 0;
// delete again -ENOENT; get(&init, sizeof(init), F_CREATE) returns the
// initial value MAGIC; test_result == 0. Run under every strategy.
func TestSelftestSkbStorageOps(t *testing.T) {
	for _, st := range localstorage.Strategies() {
		t.Run(string(st), func(t *testing.T) {
			acct := kmem.New()
			e := newEnv(t, localstorage.Config{Acct: acct, Skb: localstorage.SkbConfig{Strategy: st}})
			a := skb.NewAllocator(acct, skb.DefaultProfile())
			e.AttachSkb(a)
			m := mustMap(t, e, localstorage.Spec(localstorage.MapTypeSkbStorage, 4, 0))
			b, err := a.AllocSkb(128)
			require.NoError(t, err)
			b.Put(54) // pkt_v4
			ctx := localstorage.CtxNormal
			fail := func(step string) { t.Errorf("test_result != 0 at %s", step) }
			if v, err := m.SkbStorageGet(ctx, b, nil, 0); v != nil || errno.Of(err) != errno.ENOENT {
				fail("get without F_CREATE")
			}
			v, err := m.SkbStorageGet(ctx, b, nil, localstorage.GetCreate)
			if err != nil || binary.LittleEndian.Uint32(v) != 0 {
				fail("get(F_CREATE)")
			}
			binary.LittleEndian.PutUint32(v, rfcMagic)
			if v, err := m.SkbStorageGet(ctx, b, nil, 0); err != nil || binary.LittleEndian.Uint32(v) != rfcMagic {
				fail("get after write")
			}
			wantErrno(t, 0, m.SkbStorageDelete(ctx, b), "delete")
			wantErrno(t, errno.ENOENT, m.SkbStorageDelete(ctx, b), "delete again")
			v, err = m.SkbStorageGet(ctx, b, u32(rfcMagic), localstorage.GetCreate)
			if err != nil || binary.LittleEndian.Uint32(v) != rfcMagic {
				fail("get(&init, F_CREATE)")
			}
			b.ConsumeSkb()
			require.NoError(t, a.CheckLeaks())
		})
	}
}
