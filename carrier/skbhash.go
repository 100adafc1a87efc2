package carrier

import (
	"fmt"

	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/skb"
)

// Names of the hash designs.
const (
	NameSkbHash    = "skb-hash"
	NameSkbHashLRU = "skb-hash-lru"
)

func init() {
	Register(NameSkbHash, func(env Env, maps []MapSpec, opts Options) (Carrier, error) {
		return newSkbHash(NameSkbHash, false, env, maps, opts)
	})
	Register(NameSkbHashLRU, func(env Env, maps []MapSpec, opts Options) (Carrier, error) {
		return newSkbHash(NameSkbHashLRU, true, env, maps, opts)
	})
}

// skbHash implements the designs that keep metadata outside the skb, in a
// BPF hash map keyed by the skb pointer (the counter-proposal to skb local
// storage: "map_update(key=skb, ...) ... and free it from
// trace_consume/kfree_skb"):
//
//   - skb-hash: one BPF_MAP_TYPE_HASH with BPF_F_NO_PREALLOC per MapSpec
//     (key_size 8): the first write of a packet allocates one element
//     (htab_elem header + key + value); Options.Capacity is max_entries,
//     a full map refuses new packets with -E2BIG. Options.HashPrealloc
//     makes it the default preallocated hash instead: every element is
//     allocated at map creation and taken from a free list.
//   - skb-hash-lru: one BPF_MAP_TYPE_LRU_PERCPU_HASH per MapSpec: every
//     element and per-CPU value is allocated when the map is created;
//     inserting into a full map evicts the least recently used packet's
//     value (counted in Stats.Evictions; the packet loses its metadata).
//
// Programs write with lookup-then-write-in-place, inserting with
// bpf_map_update_elem(BPF_NOEXIST) when the packet has no entry. The stack
// does not know about the map; two tracing programs maintain it:
//
//   - a reaper on the kfree_skb/consume_skb tracepoints (skb/ Hooks.Free,
//     where trace_kfree_skb fires) deletes the freed skb's entry from every
//     map. It runs on every skb free, whether or not the skb has entries.
//     Options.DisableReaper removes it and Options.ReaperMissEvery makes it
//     miss events: the entries then outlive their skb, and the next skb
//     allocated in the same sk_buff object (the key is the pointer, and the
//     slab reuses objects) reads them. The model keys entries by the
//     *skb.Buff, which the allocator's pool reuses the same way, so the
//     hazard is observable (Stats.StaleReads). The reaper is attached when
//     the design is built; programs attached later to the same tracepoint
//     run after it (attach order) and no longer find the entry.
//   - a clone program (tp_btf on a clone/copy tracepoint, skb/
//     Hooks.Clone and Hooks.Copy) copies the entries of maps with
//     FlagClone to the new skb: a lookup on the original and a
//     bpf_map_update_elem(BPF_ANY) on the new skb (one allocation per map
//     in skb-hash). It is attached only if some map has FlagClone.
//
// skb_scrub_packet() and netns crossings do not touch the map: values
// survive them whatever the flags say (FlagKeepScrub and FlagKeepNetns are
// accepted and describe what happens anyway). skb_ext COW is irrelevant.
// Values are per-CPU in skb-hash-lru; the model runs one CPU per shard, so
// a packet read on the CPU that wrote it sees its value.
type skbHash struct {
	base
	lru    bool
	tabs   []*htab
	addrs  map[*skb.Buff]uint64
	next   uint64
	clone  bool
	reaper bool
	frees  int
	tmp    []byte
}

func newSkbHash(name string, lru bool, env Env, maps []MapSpec, opts Options) (Carrier, error) {
	b, err := newBase(name, env, maps, opts, FlagClone|FlagKeepScrub|FlagKeepNetns)
	if err != nil {
		return nil, err
	}
	capacity := opts.Capacity
	if capacity == 0 {
		capacity = DefaultCapacity
	}
	if capacity < 0 {
		return nil, fmt.Errorf("%s: capacity %d: %w", name, capacity, ErrBadValueSize)
	}
	ncpu := opts.PossibleCPUs
	if ncpu <= 0 {
		ncpu = 2
	}
	c := &skbHash{base: b, lru: lru, addrs: make(map[*skb.Buff]uint64), next: 0xffff888200000000,
		reaper: !opts.DisableReaper}
	maxVal := 0
	for i, m := range maps {
		// models htab_map_alloc(); hashrnd from the seed (BPF_F_ZERO_SEED
		// off: get_random_u32 in the kernel).
		t, err := newHtab(env.Acct, lru, opts.HashPrealloc, m.ValueSize, capacity, ncpu, uint32(opts.Seed)+uint32(i)*0x9e3779b9)
		if err != nil {
			c.destroy()
			return nil, fmt.Errorf("%s: map %q: %w", name, m.Name, err)
		}
		c.tabs = append(c.tabs, t)
		maxVal = max(maxVal, m.ValueSize)
	}
	c.tmp = make([]byte, maxVal)
	c.clone = c.anyFlag(FlagClone)
	h := skb.Hooks{Free: c.onFree}
	if c.clone {
		h.Clone = c.onClone
		h.Copy = c.onCopy
	}
	env.Alloc.AddHooks(h)
	return c, nil
}

// addr is the key: the sk_buff's address. The model hands each sk_buff
// object (the pool reuses them, as the slab does) a fixed synthetic
// address the first time it sees it.
func (c *skbHash) addr(b *skb.Buff) uint64 {
	a, ok := c.addrs[b]
	if !ok {
		a = c.next
		c.next += skbObjectStride
		c.addrs[b] = a
	}
	return a
}

// Lookup models bpf_map_lookup_elem(map, &skb) (htab_map_lookup_elem /
// htab_lru_map_lookup_elem). A value inserted for an earlier skb in the
// same sk_buff object is returned like any other (and counted stale). Does
// NOT take ownership of b.
func (c *skbHash) Lookup(h Hook, b *skb.Buff, m int) ([]byte, error) {
	c.check("lookup", h, m)
	c.st.Lookups++
	if h == HookXDP {
		return nil, c.result(ErrHookDenied) // native XDP has no sk_buff to key on
	}
	t := c.tabs[m]
	c.op(cost.OpHelperCall, 1)
	i := t.lookup(b, c.addr(b))
	if i < 0 {
		return nil, c.result(ErrNotFound)
	}
	e := &t.elems[i]
	if e.id != b.ID() {
		c.st.StaleReads++
	}
	c.op(cost.OpMemcpyByte, uint64(t.valSize))
	return e.value, nil
}

// Store looks the packet up and writes the value in place, or inserts it
// with bpf_map_update_elem(map, &skb, val, BPF_NOEXIST): ErrMapFull when a
// skb-hash map holds max_entries packets, an ENOMEM-matching error when
// the element allocation fails. Does NOT take ownership of b.
func (c *skbHash) Store(h Hook, b *skb.Buff, m int, val []byte) error {
	c.checkStore(h, m, val)
	c.st.Stores++
	if h == HookXDP {
		return c.result(ErrHookDenied)
	}
	t := c.tabs[m]
	a := c.addr(b)
	c.op(cost.OpHelperCall, 1)
	if i := t.lookup(b, a); i >= 0 {
		t.elems[i].id = b.ID() // (model bookkeeping: the value is this skb's now)
		copy(t.elems[i].value, val)
		c.op(cost.OpMemcpyByte, uint64(len(val)))
		return nil
	}
	c.op(cost.OpHelperCall, 1)
	_, ev, err := t.insert(b, a, b.ID(), val)
	if err != nil {
		return c.result(fmt.Errorf("%s store: %w", c.name, err))
	}
	if ev != nil {
		c.st.Evictions++
	}
	return nil
}

// Delete models bpf_map_delete_elem(map, &skb). Does NOT take ownership.
func (c *skbHash) Delete(h Hook, b *skb.Buff, m int) error {
	c.check("delete", h, m)
	c.st.Deletes++
	if h == HookXDP {
		return c.result(ErrHookDenied)
	}
	c.op(cost.OpHelperCall, 1)
	if !c.tabs[m].remove(b, c.addr(b)) {
		return c.result(ErrNotFound)
	}
	return nil
}

// onFree is the reaper: a program on trace_kfree_skb / trace_consume_skb
// deleting the skb from every map.
func (c *skbHash) onFree(b *skb.Buff, _ skb.DropReason) {
	if c.closed || !c.reaper {
		return
	}
	c.frees++
	if n := c.opts.ReaperMissEvery; n > 0 && c.frees%n == 0 {
		c.st.ReaperMissed++
		return
	}
	c.st.ReaperRuns++
	c.op(cost.OpTracepointRun, 1)
	a := c.addr(b)
	for _, t := range c.tabs {
		c.op(cost.OpHelperCall, 1)
		if t.remove(b, a) {
			c.st.Reaped++
		}
	}
}

func (c *skbHash) onClone(orig, n *skb.Buff) { c.copyEntries(orig, n) }

func (c *skbHash) onCopy(orig, n *skb.Buff, _ skb.CopyKind) { c.copyEntries(orig, n) }

// copyEntries is the clone program: for each FlagClone map, look the
// original up and bpf_map_update_elem(map, &new, value, BPF_ANY).
func (c *skbHash) copyEntries(orig, n *skb.Buff) {
	if c.closed {
		return
	}
	c.op(cost.OpTracepointRun, 1)
	ao, an := c.addr(orig), c.addr(n)
	for m, t := range c.tabs {
		if c.maps[m].Flags&FlagClone == 0 {
			continue
		}
		c.op(cost.OpHelperCall, 1)
		i := t.lookup(orig, ao)
		if i < 0 {
			continue
		}
		// The program passes the looked-up value; copy it first, since an
		// LRU insert may evict and reuse the very element.
		v := c.tmp[:t.valSize]
		copy(v, t.elems[i].value)
		c.op(cost.OpHelperCall, 1)
		_, ev, err := t.insert(n, an, n.ID(), v)
		if err != nil {
			c.st.CloneCopyFailures++
			continue
		}
		c.st.CloneCopies++
		if ev != nil {
			c.st.Evictions++
		}
	}
}

// Entries returns the number of entries in map m (live and stale).
func (c *skbHash) Entries(m int) int { return c.tabs[m].count }

func (c *skbHash) destroy() {
	for _, t := range c.tabs {
		t.destroy()
	}
	c.tabs = nil
}

// Close models htab_map_free() of every map: remaining entries (of skbs
// still alive, or stale ones) are freed with the map.
func (c *skbHash) Close() error {
	if !c.closed {
		c.closed = true
		c.destroy()
	}
	return nil
}
