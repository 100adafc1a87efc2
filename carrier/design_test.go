package carrier_test

import (
	"errors"
	"fmt"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/skb"
)

func oneMap(flags carrier.Flags) []carrier.MapSpec {
	return []carrier.MapSpec{{Name: "m", ValueSize: 4, Flags: flags}}
}

func twoMaps() []carrier.MapSpec {
	return []carrier.MapSpec{{Name: "m0", ValueSize: 4}, {Name: "m1", ValueSize: 16}}
}

func TestRegistry(t *testing.T) {
	want := []string{"ext-buffer", "rfc", "rfc-coalloc", "rfc-prealloc", "rfc-slim", "skb-hash", "skb-hash-lru", "xdp-meta"}
	assert.Equal(t, want, carrier.Names())
	env, _ := newEnv(t)
	_, err := carrier.New("nope", env, oneMap(0), carrier.Options{})
	assert.ErrorIs(t, err, carrier.ErrUnknown)
	assert.ErrorIs(t, err, syscall.EINVAL)
	assert.Panics(t, func() { carrier.Register("rfc", nil) })
}

func TestNewRefuses(t *testing.T) {
	for _, tc := range []struct {
		name   string
		design string
		maps   []carrier.MapSpec
		opts   carrier.Options
		prof   func(*skb.Profile)
		want   error
	}{
		{"no maps", "skb-hash", nil, carrier.Options{}, nil, carrier.ErrBadValueSize},
		{"zero value", "rfc", []carrier.MapSpec{{Name: "z"}}, carrier.Options{}, nil, carrier.ErrBadValueSize},
		{"ext-buffer keep-scrub", "ext-buffer", oneMap(carrier.FlagKeepScrub), carrier.Options{}, nil, carrier.ErrBadFlags},
		{"xdp-meta clone", "xdp-meta", oneMap(carrier.FlagClone), carrier.Options{}, nil, carrier.ErrBadFlags},
		{"unknown flag", "skb-hash", oneMap(1 << 7), carrier.Options{}, nil, carrier.ErrBadFlags},
		{"ext-buffer smaller than the maps", "ext-buffer", twoMaps(), carrier.Options{BufferSize: 16}, nil, carrier.ErrNoSpace},
		{"ext-buffer beyond 255 chunks", "ext-buffer", oneMap(0), carrier.Options{BufferSize: 4096}, nil, carrier.ErrBadValueSize},
		{"xdp-meta above 252 bytes", "xdp-meta", []carrier.MapSpec{{Name: "big", ValueSize: 252}}, carrier.Options{}, nil, carrier.ErrBadValueSize},
		{"xdp-meta above 32 bytes before v6.8", "xdp-meta", []carrier.MapSpec{{Name: "m", ValueSize: 32}}, carrier.Options{},
			func(p *skb.Profile) { *p, _ = skb.ProfileByName("v6.6") }, carrier.ErrBadValueSize},
		{"rfc value too big", "rfc", []carrier.MapSpec{{Name: "big", ValueSize: 65408}}, carrier.Options{}, nil, carrier.ErrBadValueSize},
		{"rfc cache size", "rfc", oneMap(0), carrier.Options{CacheSize: 5000}, nil, carrier.ErrBadValueSize},
		{"rfc without the extension id", "rfc", oneMap(0), carrier.Options{},
			func(p *skb.Profile) { p.Exts &^= 1 << skb.ExtBPFStorage }, carrier.ErrUnknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var opts []func(*skb.Profile)
			if tc.prof != nil {
				opts = append(opts, tc.prof)
			}
			env, _ := newEnv(t, opts...)
			c, err := carrier.New(tc.design, env, tc.maps, tc.opts)
			require.Nil(t, c)
			require.ErrorIs(t, err, tc.want)
		})
	}
}

// TestFirstWriteAllocations checks the allocations of a packet's first
// write, and of its first write to a second map, against the analytic
// figures of each design.
func TestFirstWriteAllocations(t *testing.T) {
	for _, tc := range []struct {
		design        string
		first, second uint64
		opts          carrier.Options
	}{
		{"ext-buffer", 1, 0, carrier.Options{}}, // skb_ext (the buffer is inside)
		{"skb-hash", 1, 1, carrier.Options{}},   // one htab element per map
		{"skb-hash", 0, 0, carrier.Options{HashPrealloc: true}},
		{"skb-hash-lru", 0, 0, carrier.Options{}}, // preallocated
		{"xdp-meta", 0, 0, carrier.Options{}},     // headroom
		{"rfc", 3, 1, carrier.Options{}},          // skb_ext, bpf_local_storage, element; then an element
		{"rfc-coalloc", 2, 1, carrier.Options{}},  // skb_ext, storage+element
		{"rfc-prealloc", 1, 0, carrier.Options{}}, // skb_ext; storage and elements from the pool
		{"rfc-slim", 2, 1, carrier.Options{}},     // skb_ext (storage in the chunk), element
	} {
		name := tc.design
		if tc.opts.HashPrealloc {
			name += "/prealloc"
		}
		t.Run(name, func(t *testing.T) {
			c, env := mustNew(t, tc.design, twoMaps(), tc.opts)
			h := carrier.HookTCIngress
			if tc.design == "xdp-meta" {
				h = carrier.HookXDP
			}
			b := rxSkb(t, env.Alloc)
			defer b.ConsumeSkb()
			allocs := func() uint64 { return env.Acct.Stats().Total.Allocs }
			occupied := func() uint64 { return env.Acct.Stats().Total.BytesOccupied }
			a0, o0 := allocs(), occupied()
			require.NoError(t, c.Store(h, b, 0, val(4, 1)))
			a1 := allocs()
			t.Logf("%s: first write of a 4-byte value: %d allocations, %d bytes occupied", tc.design, a1-a0, occupied()-o0)
			require.NoError(t, c.Store(h, b, 1, val(16, 2)))
			a2 := allocs()
			require.NoError(t, c.Store(h, b, 0, val(4, 3)))
			a3 := allocs()
			assert.Equal(t, tc.first, a1-a0, "first write")
			assert.Equal(t, tc.second, a2-a1, "first write to a second map")
			assert.Zero(t, a3-a2, "rewrite")
		})
	}
}

func TestSkbHashReaper(t *testing.T) {
	for _, tc := range []struct {
		name       string
		opts       carrier.Options
		reuse      string
		stale      uint64
		runs, miss uint64
	}{
		{"reaper", carrier.Options{}, "ENOENT", 0, 1, 0},
		{"no reaper", carrier.Options{DisableReaper: true}, valA, 1, 0, 0},
		{"missed event", carrier.Options{ReaperMissEvery: 1}, valA, 1, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, env := mustNew(t, "skb-hash", oneMap(0), tc.opts)
			b := rxSkb(t, env.Alloc)
			require.NoError(t, c.Store(carrier.HookTCEgress, b, 0, bytesA))
			b.ConsumeSkb()
			n := rxSkb(t, env.Alloc) // the pool hands back the same sk_buff object
			require.Same(t, b, n)
			assert.Equal(t, tc.reuse, show(c.Lookup(carrier.HookTCIngress, n, 0)))
			n.ConsumeSkb()
			st, ok := carrier.StatsOf(c)
			require.True(t, ok)
			assert.Equal(t, tc.stale, st.StaleReads)
			assert.Equal(t, tc.runs*2, st.ReaperRuns)
			assert.Equal(t, tc.miss*2, st.ReaperMissed)
		})
	}
}

func TestSkbHashReaperRunsOnEveryFree(t *testing.T) {
	c, env := mustNew(t, "skb-hash", oneMap(0), carrier.Options{})
	ops := func() uint64 { return env.Acct.Ops()[cost.OpTracepointRun] }
	o0 := ops()
	b := rxSkb(t, env.Alloc)
	b.ConsumeSkb() // no entry: the program still runs and looks the skb up
	assert.Equal(t, uint64(1), ops()-o0)
	st, _ := carrier.StatsOf(c)
	assert.Equal(t, uint64(0), st.Reaped)
	// No clone program without FlagClone.
	b = rxSkb(t, env.Alloc)
	require.NoError(t, c.Store(carrier.HookTCIngress, b, 0, bytesA))
	o1 := ops()
	n, err := b.Clone()
	require.NoError(t, err)
	assert.Equal(t, o1, ops())
	assert.Equal(t, "ENOENT", show(c.Lookup(carrier.HookTCIngress, n, 0)))
	n.ConsumeSkb()
	b.ConsumeSkb()
}

func TestSkbHashFull(t *testing.T) {
	c, env := mustNew(t, "skb-hash", oneMap(0), carrier.Options{Capacity: 2})
	var bs []*skb.Buff
	for i := 0; i < 3; i++ {
		bs = append(bs, rxSkb(t, env.Alloc))
	}
	require.NoError(t, c.Store(carrier.HookTCIngress, bs[0], 0, bytesA))
	require.NoError(t, c.Store(carrier.HookTCIngress, bs[1], 0, bytesA))
	err := c.Store(carrier.HookTCIngress, bs[2], 0, bytesA)
	require.ErrorIs(t, err, carrier.ErrMapFull)
	require.ErrorIs(t, err, syscall.E2BIG)
	require.NoError(t, c.Store(carrier.HookTCIngress, bs[1], 0, bytesB), "a present key is rewritten in place")
	bs[0].ConsumeSkb()
	require.NoError(t, c.Store(carrier.HookTCIngress, bs[2], 0, bytesA), "the reaper made room")
	bs[1].ConsumeSkb()
	bs[2].ConsumeSkb()
}

func TestSkbHashLRUEviction(t *testing.T) {
	c, env := mustNew(t, "skb-hash-lru", oneMap(0), carrier.Options{Capacity: 2})
	o0, _ := env.Acct.Live()
	p := []*skb.Buff{rxSkb(t, env.Alloc), rxSkb(t, env.Alloc), rxSkb(t, env.Alloc)}
	require.NoError(t, c.Store(carrier.HookTCEgress, p[0], 0, bytesA))
	require.NoError(t, c.Store(carrier.HookTCEgress, p[1], 0, bytesB))
	_, err := c.Lookup(carrier.HookTCIngress, p[0], 0) // p[0] becomes most recent
	require.NoError(t, err)
	require.NoError(t, c.Store(carrier.HookTCEgress, p[2], 0, bytesA))
	assert.Equal(t, valA, show(c.Lookup(carrier.HookTCIngress, p[0], 0)))
	assert.Equal(t, "ENOENT", show(c.Lookup(carrier.HookTCIngress, p[1], 0)), "the least recently used packet lost its value")
	assert.Equal(t, valA, show(c.Lookup(carrier.HookTCIngress, p[2], 0)))
	st, _ := carrier.StatsOf(c)
	assert.Equal(t, uint64(1), st.Evictions)
	assert.Equal(t, uint64(1), env.Acct.Ops()[cost.OpLRUEvict])
	o1, _ := env.Acct.Live()
	assert.Equal(t, o0+6, o1, "only the three skbs (sk_buff and head each) were allocated")
	for _, b := range p {
		b.ConsumeSkb()
	}
}

func TestExtBuffer(t *testing.T) {
	c, env := mustNew(t, "ext-buffer", twoMaps(), carrier.Options{BufferSize: 64})
	b := rxSkb(t, env.Alloc)
	defer b.ConsumeSkb()
	assert.ErrorIs(t, c.Store(carrier.HookXDP, b, 0, bytesA), carrier.ErrHookDenied)
	require.NoError(t, c.Store(carrier.HookTCEgress, b, 0, bytesA))
	require.NoError(t, c.Store(carrier.HookTCEgress, b, 1, val(16, 7)))
	// A clone shares the object; the original's write COWs it.
	n, err := b.Clone()
	require.NoError(t, err)
	defer n.ConsumeSkb()
	require.Same(t, b.Ext(), n.Ext())
	cow := env.Acct.Ops()[cost.OpExtCOW]
	require.NoError(t, c.Store(carrier.HookTCIngress, b, 0, bytesB))
	assert.Equal(t, cow+1, env.Acct.Ops()[cost.OpExtCOW])
	assert.NotSame(t, b.Ext(), n.Ext())
	assert.Equal(t, valB, show(c.Lookup(carrier.HookTCIngress, b, 0)))
	assert.Equal(t, valA, show(c.Lookup(carrier.HookTCIngress, n, 0)))
	assert.Equal(t, show(val(16, 7), nil), show(c.Lookup(carrier.HookTCIngress, n, 1)))
	// Delete on the clone (now private) leaves the original alone.
	require.NoError(t, c.Delete(carrier.HookTCIngress, n, 1))
	assert.Equal(t, "ENOENT", show(c.Lookup(carrier.HookTCIngress, n, 1)))
	assert.Equal(t, show(val(16, 7), nil), show(c.Lookup(carrier.HookTCIngress, b, 1)))
}

// TestExtBufferCOWUnseen: the stack COWs the shared object (the carrier is
// not told), then the other sharer writes its now private object; the COW
// copy must still read the bytes as they were when it was copied.
func TestExtBufferCOWUnseen(t *testing.T) {
	c, env := mustNew(t, "ext-buffer", oneMap(0), carrier.Options{})
	b := rxSkb(t, env.Alloc)
	require.NoError(t, c.Store(carrier.HookTCEgress, b, 0, bytesA))
	n, err := b.Clone()
	require.NoError(t, err)
	_, err = n.ExtAdd(skb.ExtTC) // n gets a copy; b's object is private again
	require.NoError(t, err)
	require.Equal(t, 1, b.Ext().Refs())
	require.NoError(t, c.Store(carrier.HookTCEgress, b, 0, bytesB)) // in place on b's object
	assert.Equal(t, valA, show(c.Lookup(carrier.HookTCIngress, n, 0)))
	assert.Equal(t, valB, show(c.Lookup(carrier.HookTCIngress, b, 0)))
	b.ConsumeSkb()
	n.ConsumeSkb()
}

func TestExtBufferLayout(t *testing.T) {
	p := skb.DefaultProfile()
	// v6.18 ids: BRIDGE_NF 4, SEC_PATH 11, TC 2, MPTCP 4, MCTP 1, PSP 1 = 23
	// chunks, 7 ids -> a 2-chunk header.
	for _, tc := range []struct{ size, buf, total int }{
		{8, 1, 26}, {64, 8, 33}, {128, 16, 41},
	} {
		buf, total, obj, ok := carrier.ExtBufferLayout(p, tc.size)
		assert.True(t, ok)
		assert.Equal(t, tc.buf, buf)
		assert.Equal(t, tc.total, total)
		assert.Equal(t, 8*tc.total, obj)
	}
	_, _, _, ok := carrier.ExtBufferLayout(p, 8*240)
	assert.False(t, ok)
}

// TestXDPMetaHooks: which hooks read and write the area under each
// Options.XDPMetaReach (writes stay XDP and tc under all of them).
func TestXDPMetaHooks(t *testing.T) {
	const deny = "EACCES"
	for _, tc := range []struct {
		hook           carrier.Hook
		ctx, btf, kern string // lookup result per reach
		store          string
	}{
		{carrier.HookXDP, valA, valA, valA, "ok"},
		{carrier.HookTCIngress, valA, valA, valA, "ok"},
		{carrier.HookTCEgress, valA, valA, valA, "ok"},
		{carrier.HookTracepoint, deny, valA, valA, deny},
		{carrier.HookLSM, deny, valA, valA, deny},
		{carrier.HookCgroupIngress, deny, deny, valA, deny},
		{carrier.HookCgroupEgress, deny, deny, valA, deny},
		{carrier.HookSocketFilter, deny, deny, valA, deny},
		{carrier.HookSockOps, deny, deny, valA, deny},
	} {
		for _, r := range []struct{ reach, want string }{
			{carrier.XDPMetaReachCtx, tc.ctx}, {"", tc.btf}, {carrier.XDPMetaReachBTF, tc.btf},
			{carrier.XDPMetaReachKernCtx, tc.kern},
		} {
			t.Run(tc.hook.String()+"/"+r.reach, func(t *testing.T) {
				c, env := mustNew(t, "xdp-meta", oneMap(0), carrier.Options{XDPMetaReach: r.reach})
				b := rxSkb(t, env.Alloc)
				defer b.ConsumeSkb()
				require.NoError(t, c.Store(carrier.HookXDP, b, 0, bytesA))
				assert.Equal(t, r.want, show(c.Lookup(tc.hook, b, 0)))
				assert.Equal(t, tc.store, showErr(c.Store(tc.hook, b, 0, bytesA)))
			})
		}
	}
	env, _ := newEnv(t)
	_, err := carrier.New("xdp-meta", env, oneMap(0), carrier.Options{XDPMetaReach: "everywhere"})
	assert.ErrorIs(t, err, carrier.ErrBadFlags)
	assert.ErrorContains(t, err, `reach "everywhere"`)
}

func TestXDPMetaWritePaths(t *testing.T) {
	t.Run("tc cannot grow the area", func(t *testing.T) {
		c, env := mustNew(t, "xdp-meta", oneMap(0), carrier.Options{})
		b := rxSkb(t, env.Alloc)
		defer b.ConsumeSkb()
		err := c.Store(carrier.HookTCEgress, b, 0, bytesA)
		require.ErrorIs(t, err, carrier.ErrOutOfRange)
		require.ErrorIs(t, err, syscall.E2BIG)
	})
	t.Run("adjust_meta without headroom", func(t *testing.T) {
		c, env := mustNew(t, "xdp-meta", oneMap(0), carrier.Options{})
		b, err := env.Alloc.AllocSkb(128)
		require.NoError(t, err)
		defer b.ConsumeSkb()
		b.Reserve(sizeofXDPFrame + 4)
		b.Put(64)
		b.ResetMacHeader()
		err = c.Store(carrier.HookXDP, b, 0, bytesA)
		require.ErrorIs(t, err, carrier.ErrNoHeadroom)
		require.ErrorIs(t, err, syscall.EINVAL)
	})
	t.Run("v6.19 keeps metadata on unclone", func(t *testing.T) {
		c, env := mustNew(t, "xdp-meta", oneMap(0), carrier.Options{}, func(p *skb.Profile) { *p, _ = skb.ProfileByName("v6.19") })
		b := rxSkb(t, env.Alloc)
		require.NoError(t, c.Store(carrier.HookXDP, b, 0, bytesA))
		n, err := b.Clone()
		require.NoError(t, err)
		require.NoError(t, c.Store(carrier.HookTCIngress, n, 0, bytesB))
		assert.Equal(t, valA, show(c.Lookup(carrier.HookTCIngress, b, 0)))
		assert.Equal(t, valB, show(c.Lookup(carrier.HookTCIngress, n, 0)))
		n.ConsumeSkb()
		b.ConsumeSkb()
	})
	t.Run("lost metadata is counted", func(t *testing.T) {
		c, env := mustNew(t, "xdp-meta", oneMap(0), carrier.Options{})
		b := rxSkb(t, env.Alloc)
		defer b.ConsumeSkb()
		require.NoError(t, c.Store(carrier.HookXDP, b, 0, bytesA))
		b.Push(4)
		assert.Equal(t, "ENOENT", show(c.Lookup(carrier.HookTCIngress, b, 0)))
		st, _ := carrier.StatsOf(c)
		assert.Equal(t, uint64(1), st.Lost)
	})
}

const sizeofXDPFrame = 40

func TestRFCFlags(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flags carrier.Flags
		clone string
		scrub string
		xnet  string
	}{
		{"rfc as posted", 0, "orig=EOPNOTSUPP clone=EOPNOTSUPP", "ENOENT", "ENOENT"},
		{"clone", carrier.FlagClone, "orig=" + valA + " clone=" + valA, "ENOENT", "ENOENT"},
		{"keep scrub", carrier.FlagKeepScrub, "orig=EOPNOTSUPP clone=EOPNOTSUPP", valA, "ENOENT"},
		{"keep netns", carrier.FlagKeepNetns, "orig=EOPNOTSUPP clone=EOPNOTSUPP", valA, valA},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, env := mustNew(t, "rfc", oneMap(tc.flags), carrier.Options{})
			get := func(b *skb.Buff) string { return show(c.Lookup(carrier.HookTCIngress, b, 0)) }
			b := rxSkb(t, env.Alloc)
			require.NoError(t, c.Store(carrier.HookTCEgress, b, 0, bytesA))
			n, err := b.Clone()
			require.NoError(t, err)
			assert.Equal(t, tc.clone, "orig="+get(b)+" clone="+get(n))
			st, _ := carrier.StatsOf(c)
			if tc.flags&carrier.FlagClone != 0 {
				assert.Equal(t, uint64(1), st.CloneCopies)
			} else {
				assert.Zero(t, st.CloneCopies)
			}
			n.ConsumeSkb()
			b.ConsumeSkb()
			for _, xnet := range []bool{false, true} {
				b := rxSkb(t, env.Alloc)
				require.NoError(t, c.Store(carrier.HookTCEgress, b, 0, bytesA))
				b.Scrub(xnet)
				want := tc.scrub
				if xnet {
					want = tc.xnet
				}
				assert.Equal(t, want, get(b), "xnet=%v", xnet)
				b.ConsumeSkb()
			}
			assert.ErrorIs(t, c.Store(carrier.HookXDP, b0(t, env), 0, bytesA), carrier.ErrHookDenied)
		})
	}
}

func b0(t *testing.T, env carrier.Env) *skb.Buff {
	b := rxSkb(t, env.Alloc)
	t.Cleanup(b.ConsumeSkb)
	return b
}

// TestStoreFailures injects an allocation failure on the first write of
// each allocating design: the error matches ENOMEM and nothing leaks.
func TestStoreFailures(t *testing.T) {
	for _, d := range []string{"ext-buffer", "skb-hash", "rfc", "rfc-coalloc", "rfc-slim"} {
		t.Run(d, func(t *testing.T) {
			c, env := mustNew(t, d, oneMap(0), carrier.Options{})
			b := rxSkb(t, env.Alloc)
			defer b.ConsumeSkb()
			env.Acct.SetFault(kmem.Fault{Nth: 1})
			err := c.Store(carrier.HookTCIngress, b, 0, bytesA)
			require.Error(t, err)
			assert.True(t, errors.Is(err, syscall.ENOMEM), "%v", err)
			env.Acct.SetFault(kmem.Fault{})
			assert.Equal(t, "ENOENT", show(c.Lookup(carrier.HookTCIngress, b, 0)))
			require.NoError(t, c.Store(carrier.HookTCIngress, b, 0, bytesA))
			assert.Equal(t, valA, show(c.Lookup(carrier.HookTCIngress, b, 0)))
		})
	}
}

func TestMisusePanics(t *testing.T) {
	c, env := mustNew(t, "skb-hash", oneMap(0), carrier.Options{})
	b := rxSkb(t, env.Alloc)
	defer b.ConsumeSkb()
	assert.PanicsWithError(t, `carrier skb-hash: store of 1 bytes into map "m" of value size 4`,
		func() { _ = c.Store(carrier.HookTCIngress, b, 0, []byte{1}) }, "wrong value size")
	assert.PanicsWithError(t, "carrier skb-hash: lookup of map 1, have 1 maps",
		func() { _, _ = c.Lookup(carrier.HookTCIngress, b, 1) }, "map out of range")
	assert.PanicsWithError(t, "carrier skb-hash: delete of map -1, have 1 maps",
		func() { _ = c.Delete(carrier.HookTCIngress, b, -1) }, "negative map")
	assert.PanicsWithError(t, fmt.Sprintf("carrier skb-hash: lookup from %v", carrier.NumHooks),
		func() { _, _ = c.Lookup(carrier.NumHooks, b, 0) }, "hook out of range")
	require.NoError(t, c.Close())
	assert.PanicsWithError(t, "carrier skb-hash: lookup after Close",
		func() { _, _ = c.Lookup(carrier.HookTCIngress, b, 0) }, "after close")
}

// TestReadAtKfreeSkb: a tp_btf/kfree_skb program attached after the
// design reads the packet's value as it is freed (the RFC selftest
// cgrp_egress_to_tp_kfree_skb expects the storage alive there). The
// skb-hash reaper is attached when the design is built, so it runs first
// on the same tracepoint and the later program finds nothing.
func TestReadAtKfreeSkb(t *testing.T) {
	for _, tc := range []struct {
		design string
		want   string
	}{
		{"rfc", valA},
		{"ext-buffer", valA},
		{"xdp-meta", valA},
		{"skb-hash", "ENOENT"},
		{"skb-hash-lru", "ENOENT"},
	} {
		t.Run(tc.design, func(t *testing.T) {
			c, env := mustNew(t, tc.design, oneMap(0), carrier.Options{})
			var got string
			env.Alloc.AddHooks(skb.Hooks{Free: func(b *skb.Buff, r skb.DropReason) {
				got = show(c.Lookup(carrier.HookTracepoint, b, 0))
			}})
			h := carrier.HookTCEgress
			if tc.design == "xdp-meta" {
				h = carrier.HookXDP
			}
			b := rxSkb(t, env.Alloc)
			require.NoError(t, c.Store(h, b, 0, bytesA))
			b.KfreeSkb(skb.DropQdiscDrop)
			assert.Equal(t, tc.want, got)
		})
	}
}

// TestSkbHooks checks every design at the hooks that reach the stack's TCP
// connection setup: sockops (kctx->skb) and LSM (inet_conn_established's
// skb argument). The kfunc designs and the skb-keyed maps work there like
// at any skb hook; xdp-meta has no data_meta in a sockops context and is
// read-only through BTF at LSM.
func TestSkbHooks(t *testing.T) {
	for _, name := range carrier.Names() {
		for _, h := range []carrier.Hook{carrier.HookSockOps, carrier.HookLSM} {
			t.Run(name+"/"+h.String(), func(t *testing.T) {
				c, env := mustNew(t, name, oneMap(0), carrier.Options{})
				b := rxSkb(t, env.Alloc)
				defer b.ConsumeSkb()
				if name == carrier.NameXDPMeta {
					assert.ErrorIs(t, c.Store(h, b, 0, bytesA), carrier.ErrHookDenied)
					return
				}
				require.NoError(t, c.Store(h, b, 0, bytesA))
				assert.Equal(t, valA, show(c.Lookup(h, b, 0)))
				require.NoError(t, c.Delete(h, b, 0))
				assert.Equal(t, "ENOENT", show(c.Lookup(h, b, 0)))
			})
		}
	}
}
