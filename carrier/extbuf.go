package carrier

import (
	"encoding/binary"
	"fmt"

	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/skb"
)

// NameExtBuffer is the ext-buffer design.
const NameExtBuffer = "ext-buffer"

func init() { Register(NameExtBuffer, newExtBuffer) }

// extBufID is the extension id the ext-buffer design lives in. The design
// (CONFIG_BPF_SKB_EXT, kfunc bpf_dynptr_from_skb_ext) needs its own id whose
// chunk is the buffer; skb/ has a fixed id table, so the model stands the
// buffer in for the RFC's SKB_EXT_BPF_STORAGE slot (same position: last
// before SKB_EXT_NUM). Its 8-byte chunk holds a handle to the buffer bytes,
// which skb_ext_maybe_cow() memcpys with the rest of the object, exactly as
// the kernel would memcpy the buffer itself; see extBuffer. A shard therefore
// cannot run ext-buffer and an rfc design on one allocator.
const extBufID = skb.ExtBPFStorage

// ExtBufferLayout returns what the skb_ext object would be under profile p
// if the ext-buffer id had a chunk of bufSize bytes in place of the RFC's
// one-chunk SKB_EXT_BPF_STORAGE: the chunks of the buffer
// (SKB_EXT_CHUNKSIZEOF), skb_ext_total_length() in chunks, and the
// skbuff_ext_cache object size (8 * total; the slab rounds it up to 64,
// SLAB_HWCACHE_ALIGN). ok is false when the total exceeds the u8 chunk
// count (skb_extensions_init()'s BUILD_BUG_ON).
func ExtBufferLayout(p skb.Profile, bufSize int) (bufChunks, totalChunks, objectSize int, ok bool) {
	bufChunks = (bufSize + 7) / 8
	n, sum := 0, 0
	for id := skb.ExtID(0); id < skb.ExtNum; id++ {
		if !p.HasExt(id) && id != extBufID {
			continue
		}
		n++
		if id == extBufID {
			sum += bufChunks
		} else {
			sum += skb.ExtChunks(id)
		}
	}
	hdr := (4 + n + 1 + 7) / 8 // refcnt, offset[SKB_EXT_NUM], chunks; 8-aligned
	totalChunks = hdr + sum
	return bufChunks, totalChunks, 8 * totalChunks, totalChunks <= 255
}

// extBuffer implements the ext-buffer design: a fixed-size metadata buffer
// inside the skb extension object (bpf_dynptr_from_skb_ext(skb, size,
// BPF_SKB_EXT_F_CREATE, &ptr)). Every rule follows from the buffer being
// part of struct skb_ext:
//
//   - first write: skb_ext_add() allocates the extension object (or COWs a
//     shared one); the kfunc zeroes the new buffer. One allocation, none on
//     later writes while the object is private.
//   - skb_clone, skb_copy, pskb_copy, GSO segments, IP fragments:
//     __copy_skb_header() shares the object (refcnt+1), so both sides read
//     the same bytes.
//   - a write on a shared object goes through skb_ext_add(), whose
//     skb_ext_maybe_cow() gives the writer a private copy (allocation +
//     memcpy); the other sharers keep the old bytes.
//   - skb_ext_add() of any other id on a shared object (the stack adding a
//     TC or secpath extension) COWs too: the copy carries the buffer's bytes
//     as they were at that moment.
//   - skb_scrub_packet(): skb_ext_reset() drops the object, and the value.
//   - kfree_skb/consume_skb: the last __skb_ext_put() frees the object.
//
// Model mechanics: the buffer bytes live in versions owned by the carrier.
// The chunk in the extension object holds an 8-byte handle (index,
// generation) that skb_ext_maybe_cow() copies like any chunk bytes, and the
// object's storage pointer names the version it owns, so the last put tells
// the carrier (ExtDestroy). A version that was current while its object was
// shared is frozen: a later write makes a new version, so a COW copy made
// in between (which the carrier is not told about) still finds the bytes as
// they were when it was copied. Frozen versions nobody owns are recycled
// once no extension object exists at all.
type extBuffer struct {
	base
	lay     slotLayout
	bufSize int

	vers     []*bufVersion
	freeIdx  []uint32
	orphans  []*bufVersion
	viewBuf  []byte
	nVersion int // live versions (owned or orphaned), for tests
}

// bufVersion is one set of buffer bytes.
type bufVersion struct {
	c      *extBuffer
	data   []byte
	owner  *skb.Ext
	idx    uint32
	gen    uint32
	live   bool
	frozen bool
}

// ExtDestroy is called by the last __skb_ext_put() of the object that owns
// the version (skb/ models bpf_skb_storage_free() at that point).
func (v *bufVersion) ExtDestroy() { v.c.destroyed(v) }

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
	if _, total, _, ok := ExtBufferLayout(*prof, size); !ok {
		return nil, fmt.Errorf("%s: buffer of %d bytes makes skb_ext %d chunks, limit 255: %w", NameExtBuffer, size, total, ErrBadValueSize)
	}
	c := &extBuffer{base: b, lay: lay, bufSize: size}
	env.Alloc.AddHooks(skb.Hooks{Clone: c.onClone, Copy: c.onCopy})
	return c, nil
}

// BufferSize is the buffer size in bytes.
func (c *extBuffer) BufferSize() int { return c.bufSize }

// --- handles in the chunk ---

func (c *extBuffer) handle(e *skb.Ext) *bufVersion {
	ch := e.Chunk(extBufID)
	idx := binary.LittleEndian.Uint32(ch)
	gen := binary.LittleEndian.Uint32(ch[4:])
	if int(idx) >= len(c.vers) {
		return nil
	}
	v := c.vers[idx]
	if !v.live || v.gen != gen {
		return nil
	}
	return v
}

func setHandle(e *skb.Ext, v *bufVersion) {
	ch := e.Chunk(extBufID)
	binary.LittleEndian.PutUint32(ch, v.idx)
	binary.LittleEndian.PutUint32(ch[4:], v.gen)
}

func (c *extBuffer) newVersion(from []byte) *bufVersion {
	var v *bufVersion
	if n := len(c.freeIdx); n > 0 {
		v = c.vers[c.freeIdx[n-1]]
		c.freeIdx = c.freeIdx[:n-1]
		v.gen++
	} else {
		v = &bufVersion{c: c, data: make([]byte, c.bufSize), idx: uint32(len(c.vers))}
		c.vers = append(c.vers, v)
	}
	v.live, v.frozen, v.owner = true, false, nil
	if from == nil {
		clear(v.data)
	} else {
		copy(v.data, from)
	}
	c.nVersion++
	return v
}

func (c *extBuffer) release(v *bufVersion) {
	v.live, v.owner, v.frozen = false, nil, false
	c.freeIdx = append(c.freeIdx, v.idx)
	c.nVersion--
}

// own makes v the version of e: the chunk's handle and the object's
// storage pointer (so its last put reaches destroyed).
func (c *extBuffer) own(e *skb.Ext, v *bufVersion) {
	v.owner = e
	setHandle(e, v)
	e.SetStorage(v)
}

func (c *extBuffer) destroyed(v *bufVersion) {
	if !v.live {
		panic(fmt.Sprintf("carrier %s: skb_ext destroyed a released buffer version", c.name))
	}
	v.owner = nil
	if v.frozen {
		c.orphans = append(c.orphans, v)
		return
	}
	c.release(v)
}

// collect recycles orphaned frozen versions when no extension object is
// alive: no chunk can refer to them any more.
func (c *extBuffer) collect() {
	if len(c.orphans) == 0 || c.env.Alloc.Live().Exts != 0 {
		return
	}
	for i, v := range c.orphans {
		c.release(v)
		c.orphans[i] = nil
	}
	c.orphans = c.orphans[:0]
}

// find models skb_ext_find(skb, SKB_EXT_BPF_BUF) and the dynptr over the
// buffer: the version the skb's (possibly shared) object holds. Seeing the
// object shared freezes its version.
func (c *extBuffer) find(b *skb.Buff) (*skb.Ext, *bufVersion) {
	e := b.ExtFind(extBufID)
	if e == nil {
		return nil, nil
	}
	if s := e.Storage(); s != nil {
		if _, mine := s.(*bufVersion); !mine {
			panic(fmt.Sprintf("carrier %s: SKB_EXT_BPF_STORAGE holds %T: another design shares the allocator", c.name, s))
		}
	}
	v := c.handle(e)
	if v == nil {
		panic(fmt.Sprintf("carrier %s: %v has the buffer extension active without a buffer", c.name, b))
	}
	if v.owner != e {
		v = c.adopt(e, v)
	}
	if e.Refs() > 1 {
		v.frozen = true
	}
	return e, v
}

// onClone and onCopy see __copy_skb_header() share the object: its
// current version may now be copied by a COW the carrier does not see.
func (c *extBuffer) onClone(orig, _ *skb.Buff) { c.shared(orig) }

func (c *extBuffer) onCopy(orig, _ *skb.Buff, _ skb.CopyKind) { c.shared(orig) }

func (c *extBuffer) shared(b *skb.Buff) {
	if c.closed || !b.ExtExists(extBufID) {
		return
	}
	c.find(b)
}

// Lookup models bpf_dynptr_from_skb_ext(skb, size, 0, &ptr) followed by
// bpf_dynptr_read of the slot: -ENOENT when the skb has no buffer
// extension (the dynptr is NULL), or when the program's presence bit for
// the map is clear. Reads of a shared object see the shared bytes. Does
// NOT take ownership of b.
func (c *extBuffer) Lookup(h Hook, b *skb.Buff, m int) ([]byte, error) {
	c.check("lookup", h, m, nil, false)
	c.st.Lookups++
	if h == HookXDP {
		return nil, c.result(ErrHookDenied) // no sk_buff at native XDP; the kfunc takes one
	}
	c.collect()
	c.op(cost.OpHelperCall, 1)
	_, v := c.find(b)
	if v == nil || !c.lay.has(v.data, m) {
		return nil, c.result(ErrNotFound)
	}
	c.op(cost.OpMemcpyByte, uint64(c.lay.size[m]))
	return c.lay.slot(v.data, m), nil
}

// Store models bpf_dynptr_from_skb_ext(skb, size, BPF_SKB_EXT_F_CREATE,
// &ptr) and bpf_dynptr_write of the slot and the presence bit. An skb
// without the extension, or with a shared object, goes through
// skb_ext_add() (allocate, or COW a shared object: an ENOMEM-matching
// error if that fails); a private object is written in place. Does NOT
// take ownership of b.
func (c *extBuffer) Store(h Hook, b *skb.Buff, m int, val []byte) error {
	c.check("store", h, m, val, true)
	c.st.Stores++
	if h == HookXDP {
		return c.result(ErrHookDenied)
	}
	c.collect()
	c.op(cost.OpHelperCall, 1)
	e, v := c.find(b)
	if e == nil || e.Refs() > 1 {
		old := b.Ext()
		had := old != nil && old.Exists(extBufID)
		var err error
		// models skb_ext_add(skb, SKB_EXT_BPF_BUF): a new object, a new chunk
		// in a private object, or skb_ext_maybe_cow() of a shared one.
		if e, err = b.ExtAdd(extBufID); err != nil {
			return c.result(fmt.Errorf("%s store: %w", c.name, err))
		}
		v = nil
		if had {
			// The object already had the chunk (a COW copy, or a chunk
			// reactivated after skb_ext_del): its bytes are what
			// skb_ext_maybe_cow() copied.
			if v = c.handle(e); v != nil && v.owner != e {
				v = c.adopt(e, v)
			}
		}
		if v == nil {
			// A new chunk: the kfunc zeroes the buffer it creates.
			v = c.newVersion(nil)
			c.own(e, v)
			c.op(cost.OpMemcpyByte, uint64(c.bufSize))
		}
	}
	v = c.writable(e, v)
	copy(c.lay.slot(v.data, m), val)
	c.lay.setMask(v.data, c.lay.mask(v.data)|1<<m)
	c.op(cost.OpMemcpyByte, uint64(len(val)))
	return nil
}

// Delete clears the map's presence bit (a write like Store, so a shared
// object is COWed first). The extension stays: the kernel design has no
// delete, and dropping the extension (skb_ext_del) would cost the same
// object anyway. -ENOENT when there is no value. Does NOT take ownership.
func (c *extBuffer) Delete(h Hook, b *skb.Buff, m int) error {
	c.check("delete", h, m, nil, false)
	c.st.Deletes++
	if h == HookXDP {
		return c.result(ErrHookDenied)
	}
	c.collect()
	c.op(cost.OpHelperCall, 1)
	e, v := c.find(b)
	if v == nil || !c.lay.has(v.data, m) {
		return c.result(ErrNotFound)
	}
	if e.Refs() > 1 {
		// models skb_ext_add() on the shared object: the writer's COW.
		ne, err := b.ExtAdd(extBufID)
		if err != nil {
			return c.result(fmt.Errorf("%s delete: %w", c.name, err))
		}
		e = ne
		if v.owner != e {
			v = c.adopt(e, v)
		}
	}
	v = c.writable(e, v)
	c.lay.setMask(v.data, c.lay.mask(v.data)&^(1<<m))
	c.op(cost.OpMemcpyByte, maskBytes)
	return nil
}

// adopt gives e, a copy made by an skb_ext_maybe_cow() the carrier was not
// told about, its own version with the bytes it copied. skb/ counted the
// memcpy of its own layout, where the chunk is 8 bytes; the rest of the
// buffer is counted here, at the first sight of the copy.
func (c *extBuffer) adopt(e *skb.Ext, v *bufVersion) *bufVersion {
	nv := c.newVersion(v.data)
	c.own(e, nv)
	if extra := c.bufSize - 8; extra > 0 {
		c.op(cost.OpMemcpyByte, uint64(extra))
	}
	return nv
}

// writable returns the version a write to e may change in place: v itself
// when e owns it and no COW copy can refer to it, else a new version with
// v's bytes that e owns (v, if e owned it, waits as an orphan for the COW
// copies that may still read it).
func (c *extBuffer) writable(e *skb.Ext, v *bufVersion) *bufVersion {
	if v.owner == e && !v.frozen {
		return v
	}
	nv := c.newVersion(v.data)
	if v.owner == e {
		v.owner = nil
		c.orphans = append(c.orphans, v)
	}
	c.own(e, nv)
	return nv
}

// Close implements Carrier. The design holds no allocation of its own: the
// buffers die with their extension objects.
func (c *extBuffer) Close() error {
	c.closed = true
	c.collect()
	return nil
}
