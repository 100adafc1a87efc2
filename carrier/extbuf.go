package carrier

import (
	"fmt"

	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/skb"
)

// NameExtBuffer is the ext-buffer design.
const NameExtBuffer = "ext-buffer"

func init() { Register(NameExtBuffer, newExtBuffer) }

// extBufID is the extension id the ext-buffer design lives in. The design
// (CONFIG_BPF_SKB_EXT, kfunc bpf_dynptr_from_skb_ext) keeps its buffer in
// an extension chunk; the model gives it the SKB_EXT_BPF_STORAGE slot
// (last before SKB_EXT_NUM, where a new id would go) sized to the buffer
// (skb.Profile.ExtSlotChunks), so no id is added and SKB_EXT_NUM stays 7.
// A shard therefore cannot run ext-buffer and an rfc design on one
// allocator: the allocator refuses a second slot size.
const extBufID = skb.ExtBPFStorage

// ExtBufferLayout returns the skb_ext object under profile p with the
// ext-buffer id's chunk holding a buffer of bufSize bytes in place of the
// RFC's one-chunk SKB_EXT_BPF_STORAGE (compiled in whether or not p has
// it): the chunks of the buffer (SKB_EXT_CHUNKSIZEOF), skb_ext_total_length()
// in chunks, and the skbuff_ext_cache object size (8 * total; the slab
// rounds it up to 64, SLAB_HWCACHE_ALIGN). It is the layout the design's
// allocator uses, so the accountant's skbuff_ext_cache bytes are
// objectSize. ok is false when the total exceeds the u8 chunk count
// (skb_extensions_init()'s BUILD_BUG_ON).
func ExtBufferLayout(p skb.Profile, bufSize int) (bufChunks, totalChunks, objectSize int, ok bool) {
	bufChunks = max((bufSize+7)/8, 1)
	p.Exts |= 1 << extBufID
	p.ExtSlotChunks = bufChunks
	l, err := p.ExtLayout()
	return bufChunks, l.TotalChunks, l.ObjectSize, err == nil
}

// extBuffer implements the ext-buffer design: a fixed-size metadata buffer
// inside the skb extension object (bpf_dynptr_from_skb_ext(skb, size,
// BPF_SKB_EXT_F_CREATE, &ptr)). The buffer bytes are the bytes of the
// extension chunk (skb.Ext.Chunk), so every rule comes from package skb:
//
//   - first write: skb_ext_add() allocates the extension object (or COWs a
//     shared one); the kfunc zeroes the new buffer. One allocation, none on
//     later writes while the object is private.
//   - skb_clone, skb_copy, pskb_copy, GSO segments, IP fragments:
//     __copy_skb_header() shares the object (refcnt+1), so both sides read
//     the same bytes.
//   - a write on a shared object goes through skb_ext_add(), whose
//     skb_ext_maybe_cow() gives the writer a private copy (allocation +
//     memcpy of the whole object); the other sharers keep the old bytes.
//   - skb_ext_add() of any other id on a shared object (the stack adding a
//     TC or secpath extension) COWs too: the copy carries the buffer's bytes
//     as they were at that moment.
//   - skb_scrub_packet(): skb_ext_reset() drops the object, and the value.
//   - kfree_skb/consume_skb: the last __skb_ext_put() frees the object.
//
// The carrier keeps no state per packet and installs no skb hook.
type extBuffer struct {
	base
	lay     slotLayout
	bufSize int
	viewBuf []byte // Lookup's result: bpf_dynptr_read into the program's stack
}

func newExtBuffer(env Env, maps []MapSpec, opts Options) (Carrier, error) {
	// FlagClone is what the design does anyway (clones and copies share the
	// object); the Keep flags would need skb_scrub_packet() to spare the
	// extension, which it does not.
	b, err := newBase(NameExtBuffer, env, maps, opts, FlagClone)
	if err != nil {
		return nil, err
	}
	prof := env.Alloc.Profile()
	if !prof.HasExt(extBufID) {
		return nil, fmt.Errorf("%s: profile %s has no extension slot for the buffer: %w", NameExtBuffer, prof.Name, ErrUnknown)
	}
	lay, err := newSlotLayout(maps, 8)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", NameExtBuffer, err)
	}
	size := lay.total
	if opts.BufferSize != 0 {
		if opts.BufferSize < lay.total {
			return nil, fmt.Errorf("%s: buffer of %d bytes, the maps need %d: %w", NameExtBuffer, opts.BufferSize, lay.total, ErrNoSpace)
		}
		size = opts.BufferSize
	}
	chunks, total, _, ok := ExtBufferLayout(*prof, size)
	if !ok {
		return nil, fmt.Errorf("%s: buffer of %d bytes makes skb_ext %d chunks, limit 255: %w", NameExtBuffer, size, total, ErrBadValueSize)
	}
	// models building the kernel with CONFIG_BPF_SKB_EXT: the id's
	// skb_ext_type_len[] entry is the buffer.
	if err := env.Alloc.SetExtSlotChunks(chunks); err != nil {
		return nil, fmt.Errorf("%s: buffer of %d bytes: %w", NameExtBuffer, size, err)
	}
	vmax := 0
	for _, m := range maps {
		vmax = max(vmax, m.ValueSize)
	}
	return &extBuffer{base: b, lay: lay, bufSize: size, viewBuf: make([]byte, vmax)}, nil
}

// BufferSize is the buffer size in bytes.
func (c *extBuffer) BufferSize() int { return c.bufSize }

// buffer models the dynptr over the chunk: the first bufSize bytes of
// extension id extBufID in e (the chunk is rounded up to 8 bytes). It
// panics if another design put a storage pointer in the slot or sized it
// differently.
func (c *extBuffer) buffer(e *skb.Ext) []byte {
	if s := e.Storage(); s != nil {
		panic(fmt.Sprintf("carrier %s: SKB_EXT_BPF_STORAGE holds %T: another design shares the allocator", c.name, s))
	}
	ch := e.Chunk(extBufID)
	if len(ch) < c.bufSize {
		panic(fmt.Sprintf("carrier %s: SKB_EXT_BPF_STORAGE chunk of %d bytes, buffer of %d", c.name, len(ch), c.bufSize))
	}
	return ch[:c.bufSize:c.bufSize]
}

// writable models bpf_dynptr_from_skb_ext(skb, size, BPF_SKB_EXT_F_CREATE)
// for a write: an skb without the extension, or with a shared object, goes
// through skb_ext_add() (a new object, a new chunk in a private object, or
// skb_ext_maybe_cow() of a shared one, whose memcpy skb/ counts); a buffer
// the call lays out is zeroed by the kfunc. A private object is written in
// place.
func (c *extBuffer) writable(b *skb.Buff, e *skb.Ext) ([]byte, error) {
	if e != nil && e.Refs() == 1 {
		return c.buffer(e), nil
	}
	old := b.Ext()
	// The chunk exists already in a shared object (a COW copy carries it)
	// or in a private one whose bit was cleared (skb_ext_del): skb_ext_add()
	// reactivates it with its old bytes.
	had := old != nil && old.Exists(extBufID)
	e, err := b.ExtAdd(extBufID)
	if err != nil {
		return nil, err
	}
	buf := c.buffer(e)
	if !had {
		clear(buf)
		c.op(cost.OpMemcpyByte, uint64(c.bufSize))
	}
	return buf, nil
}

// Lookup models bpf_dynptr_from_skb_ext(skb, size, 0, &ptr) followed by
// bpf_dynptr_read of the slot: -ENOENT when the skb has no buffer
// extension (the dynptr is NULL), or when the program's presence bit for
// the map is clear. Reads of a shared object see the shared bytes. Does
// NOT take ownership of b.
func (c *extBuffer) Lookup(h Hook, b *skb.Buff, m int) ([]byte, error) {
	c.check("lookup", h, m)
	c.st.Lookups++
	if h == HookXDP {
		return nil, c.result(ErrHookDenied) // no sk_buff at native XDP; the kfunc takes one
	}
	c.op(cost.OpHelperCall, 1)
	e := b.ExtFind(extBufID)
	if e == nil {
		return nil, c.result(ErrNotFound)
	}
	buf := c.buffer(e)
	if !c.lay.has(buf, m) {
		return nil, c.result(ErrNotFound)
	}
	c.op(cost.OpMemcpyByte, uint64(c.lay.size[m]))
	v := c.viewBuf[:c.lay.size[m]]
	copy(v, c.lay.slot(buf, m))
	return v, nil
}

// Store models bpf_dynptr_from_skb_ext(skb, size, BPF_SKB_EXT_F_CREATE,
// &ptr) and bpf_dynptr_write of the slot and the presence bit. An skb
// without the extension, or with a shared object, goes through
// skb_ext_add() (allocate, or COW a shared object: an ENOMEM-matching
// error if that fails); a private object is written in place. Does NOT
// take ownership of b.
func (c *extBuffer) Store(h Hook, b *skb.Buff, m int, val []byte) error {
	c.checkStore(h, m, val)
	c.st.Stores++
	if h == HookXDP {
		return c.result(ErrHookDenied)
	}
	c.op(cost.OpHelperCall, 1)
	buf, err := c.writable(b, b.ExtFind(extBufID))
	if err != nil {
		return c.result(fmt.Errorf("%s store: %w", c.name, err))
	}
	copy(c.lay.slot(buf, m), val)
	c.lay.setMask(buf, c.lay.mask(buf)|1<<m)
	c.op(cost.OpMemcpyByte, uint64(len(val)))
	return nil
}

// Delete clears the map's presence bit (a write like Store, so a shared
// object is COWed first). The extension stays: the kernel design has no
// delete, and dropping the extension (skb_ext_del) would cost the same
// object anyway. -ENOENT when there is no value. Does NOT take ownership.
func (c *extBuffer) Delete(h Hook, b *skb.Buff, m int) error {
	c.check("delete", h, m)
	c.st.Deletes++
	if h == HookXDP {
		return c.result(ErrHookDenied)
	}
	c.op(cost.OpHelperCall, 1)
	e := b.ExtFind(extBufID)
	if e == nil || !c.lay.has(c.buffer(e), m) {
		return c.result(ErrNotFound)
	}
	// models skb_ext_add() on a shared object: the writer's COW.
	buf, err := c.writable(b, e)
	if err != nil {
		return c.result(fmt.Errorf("%s delete: %w", c.name, err))
	}
	c.lay.setMask(buf, c.lay.mask(buf)&^(1<<m))
	c.op(cost.OpMemcpyByte, maskBytes)
	return nil
}

// Close implements Carrier. The design holds no allocation of its own: the
// buffers die with their extension objects.
func (c *extBuffer) Close() error {
	c.closed = true
	return nil
}
