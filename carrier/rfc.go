package carrier

import (
	"errors"
	"fmt"

	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/internal/errno"
	"github.com/skbsim/skbsim/localstorage"
	"github.com/skbsim/skbsim/skb"
)

func init() {
	for _, s := range localstorage.Strategies() {
		s := s
		Register(string(s), func(env Env, maps []MapSpec, opts Options) (Carrier, error) {
			return newRFC(s, env, maps, opts)
		})
	}
}

// rfc adapts the skb owner of package localstorage (the skb local storage
// RFC, "bpf: Introduce local storage for sk_buff") to Carrier, under one of
// its allocation strategies ("rfc", "rfc-coalloc", "rfc-prealloc",
// "rfc-slim"). Each MapSpec is a BPF_MAP_TYPE_SKB_STORAGE map; programs use
// the RFC's kfuncs:
//
//   - Lookup: bpf_skb_storage_get(map, skb, NULL, 0, 0).
//   - Store: bpf_skb_storage_get(map, skb, NULL, 0,
//     BPF_LOCAL_STORAGE_GET_F_CREATE), then a write through the returned
//     pointer. The first write of a packet allocates the skb_ext (or COWs
//     a shared one), the struct bpf_local_storage and the element under
//     "rfc"; the strategies save some of these.
//   - Delete: bpf_skb_storage_delete(map, skb).
//
// The RFC's semantics (package localstorage and skb/ implement them): a
// clone shares the extension and both sides get -EOPNOTSUPP (ErrRefused)
// while it is shared; skb_copy and friends share it too but are not
// cloned, so they access the same storage; an skb_ext COW leaves the copy
// without storage; skb_scrub_packet() resets the extension (storage gone);
// the last extension put destroys the storage. FlagClone, FlagKeepScrub
// and FlagKeepNetns map to localstorage's model options for the RFC's
// future work (SkbMapOptions CloneCopy, KeepOnScrub, KeepOnNetns; the RFC
// as posted refuses BPF_F_CLONE).
//
// Options.CacheSize sets the storage cache size (the RFC's skb_cache of 16
// slots by default); under rfc-slim it also sizes the skb_ext's
// SKB_EXT_BPF_STORAGE slot (8*N + 16 bytes in every skb_ext object; more
// than 228 slots exceed the 255-chunk layout on v6.18 and give
// ErrBadValueSize). Options.PreallocPool sets the rfc-prealloc pool targets.
// Objects freed through RCU return for reuse at GracePeriod, which also
// refills the rfc-prealloc pool (the off-hot-path refill).
type rfc struct {
	base
	strategy localstorage.Strategy
	ls       *localstorage.Env
	lm       []*localstorage.Map
}

func newRFC(s localstorage.Strategy, env Env, maps []MapSpec, opts Options) (Carrier, error) {
	name := string(s)
	b, err := newBase(name, env, maps, opts, FlagClone|FlagKeepScrub|FlagKeepNetns)
	if err != nil {
		return nil, err
	}
	if opts.CacheSize < 0 || opts.CacheSize > localstorage.MaxCacheSize {
		return nil, fmt.Errorf("%s: cache size %d outside 1..%d: %w", name, opts.CacheSize, localstorage.MaxCacheSize, ErrBadValueSize)
	}
	if opts.PreallocPool < 0 {
		return nil, fmt.Errorf("%s: prealloc pool %d: %w", name, opts.PreallocPool, ErrBadValueSize)
	}
	prof := env.Alloc.Profile()
	if !prof.HasExt(skb.ExtBPFStorage) {
		return nil, fmt.Errorf("%s: profile %s has no SKB_EXT_BPF_STORAGE: %w", name, prof.Name, ErrUnknown)
	}
	ls := localstorage.NewEnv(localstorage.Config{
		Acct: env.Acct,
		Skb: localstorage.SkbConfig{
			Strategy: s, CacheSize: opts.CacheSize,
			PoolStorages: opts.PreallocPool, PoolElems: opts.PreallocPool,
		},
	})
	// models building the kernel with the strategy: the
	// SKB_EXT_BPF_STORAGE slot holds the storage pointer, or rfc-slim's
	// embedded storage.
	if err := ls.SizeSkbExt(env.Alloc); err != nil {
		ls.Close()
		if errors.Is(err, errno.E2BIG) {
			return nil, fmt.Errorf("%s: cache size %d: %w (%w)", name, ls.CacheSize(localstorage.OwnerSkb), ErrBadValueSize, err)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	c := &rfc{base: b, strategy: s, ls: ls}
	hooks := false
	for _, m := range maps {
		spec := localstorage.Spec(localstorage.MapTypeSkbStorage, m.ValueSize, 0)
		spec.Name = m.Name
		if m.Flags&FlagClone != 0 {
			spec.Flags |= localstorage.FlagClone
			spec.Skb.CloneCopy = true
		}
		spec.Skb.KeepOnScrub = m.Flags&(FlagKeepScrub|FlagKeepNetns) != 0
		spec.Skb.KeepOnNetns = m.Flags&FlagKeepNetns != 0
		hooks = hooks || m.Flags != 0
		lm, err := ls.CreateMap(spec)
		if err != nil {
			ls.Close()
			if errors.Is(err, errno.E2BIG) {
				return nil, fmt.Errorf("%s: map %q: %w (%w)", name, m.Name, ErrBadValueSize, err)
			}
			return nil, fmt.Errorf("%s: map %q: %w (%w)", name, m.Name, ErrBadFlags, err)
		}
		c.lm = append(c.lm, lm)
	}
	if hooks {
		ls.AttachSkb(env.Alloc)
	}
	ls.RefillSkbPool()
	return c, nil
}

// Local returns the localstorage environment behind the carrier (for
// traces and pool statistics).
func (c *rfc) Local() *localstorage.Env { return c.ls }

// kfuncHook reports whether the RFC registers its kfuncs for the program
// type behind h: every program type with a trusted sk_buff (SCHED_CLS,
// CGROUP_SKB, SOCKET_FILTER, SOCK_OPS via kctx->skb, tp_btf, BPF LSM on a
// hook with an skb argument such as inet_conn_established, as the RFC's
// tc_ingress_to_lsm_inet_conn_estab selftest uses); XDP has no sk_buff.
func kfuncHook(h Hook) bool { return h != HookXDP }

// mapErr turns localstorage's kfunc errors into the carrier's sentinels
// where they mean the same; others are wrapped. The miss is tested inline
// (the common outcome of a lookup), the rest in mapErrSlow.
func (c *rfc) mapErr(op string, err error) error {
	if err == localstorage.ErrNotFound {
		return ErrNotFound
	}
	return c.mapErrSlow(op, err)
}

func (c *rfc) mapErrSlow(op string, err error) error {
	switch err {
	case localstorage.ErrNotFound:
		return ErrNotFound
	case localstorage.ErrNotSupported:
		return ErrRefused
	}
	return fmt.Errorf("%s %s: %w", c.name, op, err)
}

// Lookup models bpf_skb_storage_get(map, skb, NULL, 0, 0). Does NOT take
// ownership of b.
func (c *rfc) Lookup(h Hook, b *skb.Buff, m int) ([]byte, error) {
	c.check("lookup", h, m)
	c.st.Lookups++
	if !kfuncHook(h) {
		return nil, c.result(ErrHookDenied)
	}
	lm := c.lm[m]
	if lm.SkbStorageLookupNoExt(b) {
		// No active extension: -ENOENT without a call.
		c.st.Misses++ // c.result(ErrNotFound)
		return nil, ErrNotFound
	}
	v, err := lm.SkbStorageLookup(b) // SkbStorageGet(CtxNormal, b, nil, 0)
	if err != nil {
		if err == localstorage.ErrNotFound {
			c.st.Misses++ // c.result(ErrNotFound)
			return nil, ErrNotFound
		}
		return nil, c.result(c.mapErrSlow("lookup", err))
	}
	c.op(cost.OpMemcpyByte, uint64(len(v)))
	return v, nil
}

// Store models bpf_skb_storage_get(map, skb, NULL, 0, F_CREATE) and a
// write of val through the returned pointer. Does NOT take ownership of b.
func (c *rfc) Store(h Hook, b *skb.Buff, m int, val []byte) error {
	c.checkStore(h, m, val)
	c.st.Stores++
	if !kfuncHook(h) {
		c.st.Errors++ // c.result(ErrHookDenied)
		return ErrHookDenied
	}
	v, err := c.lm[m].SkbStorageGet(localstorage.CtxNormal, b, nil, localstorage.GetCreate)
	if err != nil {
		return c.result(c.mapErr("store", err))
	}
	copy(v, val)
	c.op(cost.OpMemcpyByte, uint64(len(val)))
	return nil
}

// Delete models bpf_skb_storage_delete(map, skb).
func (c *rfc) Delete(h Hook, b *skb.Buff, m int) error {
	c.check("delete", h, m)
	c.st.Deletes++
	if !kfuncHook(h) {
		return c.result(ErrHookDenied)
	}
	if err := c.lm[m].SkbStorageDelete(localstorage.CtxNormal, b); err != nil {
		return c.result(c.mapErr("delete", err))
	}
	return nil
}

// Stats returns the design counters, with localstorage's counts of the
// clone-copy option (BPF_F_CLONE with CloneCopy).
func (c *rfc) Stats() Stats {
	st := c.st
	ls := c.ls.SkbStats()
	st.CloneCopies, st.CloneCopyFailures = ls.CloneCopies, ls.CloneCopyFailures
	return st
}

// GracePeriod ends an RCU grace period: deferred frees complete and their
// objects become reusable; the rfc-prealloc pool is refilled.
func (c *rfc) GracePeriod() {
	if c.closed {
		c.acct.GracePeriod()
		return
	}
	c.ls.GracePeriod()
	c.ls.RefillSkbPool()
}

// Close models bpf_local_storage_map_free() of every map (elements of
// skbs still alive are unlinked and freed) and empties the pool.
func (c *rfc) Close() error {
	if !c.closed {
		c.closed = true
		c.ls.Close()
	}
	return nil
}
