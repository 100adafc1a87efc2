package localstorage

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/internal/errno"
	"github.com/skbsim/skbsim/kmem"
)

// TestCreateMapErrno follows the map-create rows of kernel_lab §3 and the
// create cases of map_tests/sk_storage_map.c (§4.1).
func TestCreateMapErrno(t *testing.T) {
	ok := Spec(MapTypeSkStorage, 8, 0)
	with := func(f func(*MapSpec)) MapSpec { s := ok; f(&s); return s }
	tests := []struct {
		name string
		spec MapSpec
		want errno.Errno // 0: success
	}{
		{"valid", ok, 0},
		{"valid with clone", with(func(s *MapSpec) { s.Flags |= FlagClone }), 0},
		{"flags 0 (no NO_PREALLOC)", with(func(s *MapSpec) { s.Flags = 0 }), errno.EINVAL},
		{"CLONE only", with(func(s *MapSpec) { s.Flags = FlagClone }), errno.EINVAL},
		{"NO_PREALLOC|RDONLY", with(func(s *MapSpec) { s.Flags |= FlagRdonly }), errno.EINVAL},
		{"NO_PREALLOC|MMAPABLE", with(func(s *MapSpec) { s.Flags |= FlagMmapable }), errno.EINVAL},
		{"max_entries 1", with(func(s *MapSpec) { s.MaxEntries = 1 }), errno.EINVAL},
		{"value_size 0", with(func(s *MapSpec) { s.ValueSize = 0; s.Value = BytesType(0) }), errno.EINVAL},
		{"value_size 65407", with(func(s *MapSpec) { s.ValueSize = 65407; s.Value = BytesType(65407) }), 0},
		{"value_size 65408", with(func(s *MapSpec) { s.ValueSize = 65408; s.Value = BytesType(65408) }), errno.E2BIG},
		{"value_size 65408 and max_entries 1", with(func(s *MapSpec) {
			s.ValueSize = 65408
			s.MaxEntries = 1
		}), errno.EINVAL},
		{"key_size 8 long long", with(func(s *MapSpec) { s.KeySize = 8; s.Key = IntType("long long", 8, true) }), errno.EINVAL},
		{"key_size 8 int btf", with(func(s *MapSpec) { s.KeySize = 8 }), errno.EINVAL},
		{"no BTF", with(func(s *MapSpec) { s.Key, s.Value = nil, nil }), errno.EINVAL},
		{"btf_key_type_id 0", with(func(s *MapSpec) { s.Key = nil }), errno.EINVAL},
		{"btf_value_type_id 0", with(func(s *MapSpec) { s.Value = nil }), errno.EINVAL},
		{"key unsigned int", with(func(s *MapSpec) { s.Key = IntType("unsigned int", 4, false) }), 0},
		{"key type struct (id 3)", with(func(s *MapSpec) { s.Key = &BTFType{Kind: BTFStruct, Name: "val", Size: 4} }), errno.EINVAL},
		{"key bitfield int", with(func(s *MapSpec) { s.Key = &BTFType{Kind: BTFInt, Size: 4, Bits: 31} }), errno.EINVAL},
		{"value btf size mismatch", with(func(s *MapSpec) { s.Value = BytesType(16) }), errno.EINVAL},
		{"spin lock outside value", with(func(s *MapSpec) { s.Value = SpinLockType(8, 6) }), errno.EINVAL},
		{"no CAP_BPF", with(func(s *MapSpec) { s.NoCapBPF = true }), errno.EPERM},
		{"no CAP_BPF and bad flags", with(func(s *MapSpec) { s.NoCapBPF = true; s.Flags = 0 }), errno.EINVAL},
		{"unknown map type", with(func(s *MapSpec) { s.Type = 1 }), errno.EINVAL},
		{"task storage", Spec(MapTypeTaskStorage, 4, 0), 0},
		{"task storage with clone", Spec(MapTypeTaskStorage, 4, FlagClone), 0},
		{"skb storage (RFC)", Spec(MapTypeSkbStorage, 4, 0), 0},
		{"skb storage with clone (RFC)", Spec(MapTypeSkbStorage, 4, FlagClone), errno.EINVAL},
		{"skb storage with clone, CloneCopy option", with(func(s *MapSpec) {
			*s = Spec(MapTypeSkbStorage, 4, FlagClone)
			s.Skb.CloneCopy = true
		}), 0},
		{"skb storage flags 0", with(func(s *MapSpec) { *s = Spec(MapTypeSkbStorage, 4, 0); s.Flags = 0 }), errno.EINVAL},
		{"skb storage RDONLY", Spec(MapTypeSkbStorage, 4, FlagRdonly), errno.EINVAL},
		{"skb storage E2BIG", Spec(MapTypeSkbStorage, 65408, 0), errno.E2BIG},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, Config{})
			m, err := e.CreateMap(tt.spec)
			if tt.want == 0 {
				require.NoError(t, err)
				assert.Equal(t, ElemSize(tt.spec.ValueSize), m.ElemSize())
				return
			}
			require.Error(t, err)
			assert.Nil(t, m)
			assert.Equal(t, tt.want, errno.Of(err), "CreateMap: %v", err)
			assert.Empty(t, e.Maps())
		})
	}
}

// TestCreateMapENOMEM: bpf_local_storage_map_alloc() fails on the smap or
// the bucket allocation; the bucket failure frees the smap; a map whose BTF
// check fails is freed through map_free.
func TestCreateMapENOMEM(t *testing.T) {
	for nth := uint64(1); nth <= 2; nth++ {
		e := newTestEnv(t, Config{})
		e.Acct().SetFault(kmem.Fault{Nth: nth})
		_, err := e.CreateMap(Spec(MapTypeSkStorage, 8, 0))
		require.ErrorIs(t, err, ErrNoMem)
		assert.True(t, errors.Is(err, errno.ENOMEM))
		o, _ := e.Acct().Live()
		assert.Zero(t, o, "fault %d: nothing stays allocated", nth)
		assert.Equal(t, []uint64{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, e.CacheUsage(OwnerSock))
	}
	e := newTestEnv(t, Config{})
	bad := Spec(MapTypeSkStorage, 8, 0)
	bad.Key = &BTFType{Kind: BTFStruct, Size: 4}
	_, err := e.CreateMap(bad)
	require.ErrorIs(t, err, ErrInvalid)
	o, _ := e.Acct().Live()
	assert.Zero(t, o)
	assert.Equal(t, uint64(0), e.CacheUsage(OwnerSock)[0], "the failed map released its cache index")
}

// TestCacheIdxGet models bpf_local_storage_cache_idx_get(): least used slot,
// first minimum, per owner type; freeing a map releases its slot.
func TestCacheIdxGet(t *testing.T) {
	e := newTestEnv(t, Config{})
	var sk []*Map
	for i := range 20 {
		m := mustMap(t, e, Spec(MapTypeSkStorage, 4, 0))
		want := i % 16
		assert.Equal(t, want, m.CacheIdx(), "map %d", i)
		sk = append(sk, m)
	}
	// Task maps have their own index space.
	assert.Equal(t, 0, mustMap(t, e, Spec(MapTypeTaskStorage, 4, 0)).CacheIdx())
	// Slots 0..3 have 2 users, 4..15 one. Free the maps on slot 5 (1 -> 0)
	// and the second map on slot 2 (2 -> 1).
	sk[5].Free()
	sk[2+16].Free()
	assert.Equal(t, uint64(1), e.CacheUsage(OwnerSock)[2])
	assert.Equal(t, 5, mustMap(t, e, Spec(MapTypeSkStorage, 4, 0)).CacheIdx(), "an unused slot wins")
	assert.Equal(t, 2, mustMap(t, e, Spec(MapTypeSkStorage, 4, 0)).CacheIdx(),
		"then the first slot with the smallest count (slot 2, one user, before 4..15)")
}

func TestCacheSizeConfigurable(t *testing.T) {
	e := newTestEnv(t, Config{CacheSize: 4})
	for i := range 6 {
		assert.Equal(t, i%4, mustMap(t, e, Spec(MapTypeSkStorage, 4, 0)).CacheIdx())
	}
	assert.Equal(t, 8*4+DefaultProfile.StorageTail, e.StorageSize(OwnerSock))
	assert.Panics(t, func() { NewEnv(Config{CacheSize: -1}) })
}

func TestProfiles(t *testing.T) {
	assert.Equal(t, 176, ProfileV6_18.StorageSize(16), "6.18: the charge the lab measured")
	assert.Equal(t, 184, ProfileBPFNext2026.StorageSize(16))
	for _, p := range Profiles() {
		got, ok := ParseProfile(p.Name)
		assert.True(t, ok)
		assert.Equal(t, p, got)
		assert.Equal(t, "kmalloc-192", kmem.ClassName(kmem.ClassIndex(p.StorageSize(16))))
	}
	_, ok := ParseProfile("v2.6")
	assert.False(t, ok)
	assert.Equal(t, 65407, MaxValueSize)
	for _, c := range []struct{ v, class int }{{4, 96}, {8, 96}, {16, 96}, {32, 128}, {64, 192}, {128, 256}} {
		assert.Equal(t, c.class, kmem.Occupied(ElemSize(c.v)), "value %d", c.v)
	}
	e := newTestEnv(t, Config{PossibleCPUs: 5})
	assert.Equal(t, 8, e.NumBuckets())
	assert.Equal(t, 2, newTestEnv(t, Config{PossibleCPUs: 1}).NumBuckets())
}
