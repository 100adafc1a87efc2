package skb

import (
	"fmt"

	"github.com/skbsim/skbsim/cost"
)

// ExtID is an skb extension id (enum skb_ext_id, include/linux/skbuff.h),
// numbered as in a kernel with every extension compiled in, followed by the
// skb local storage RFC's SKB_EXT_BPF_STORAGE (its position is inferred:
// last before SKB_EXT_NUM).
type ExtID uint8

// Extension ids.
const (
	ExtBridgeNF   ExtID = iota // SKB_EXT_BRIDGE_NF (CONFIG_BRIDGE_NETFILTER): struct nf_bridge_info
	ExtSecPath                 // SKB_EXT_SEC_PATH (CONFIG_XFRM): struct sec_path
	ExtTC                      // TC_SKB_EXT (CONFIG_NET_TC_SKB_EXT): struct tc_skb_ext
	ExtMPTCP                   // SKB_EXT_MPTCP (CONFIG_MPTCP): struct mptcp_ext
	ExtMCTP                    // SKB_EXT_MCTP (CONFIG_MCTP_FLOWS): struct mctp_flow
	ExtPSP                     // SKB_EXT_PSP (CONFIG_INET_PSP, v6.18): struct psp_skb_ext
	ExtBPFStorage              // SKB_EXT_BPF_STORAGE (RFC): struct bpf_skb_storage_ext
	ExtNum                     // SKB_EXT_NUM; not an id
)

var extNames = [ExtNum]string{
	"SKB_EXT_BRIDGE_NF", "SKB_EXT_SEC_PATH", "TC_SKB_EXT", "SKB_EXT_MPTCP",
	"SKB_EXT_MCTP", "SKB_EXT_PSP", "SKB_EXT_BPF_STORAGE",
}

func (id ExtID) String() string {
	if id < ExtNum {
		return extNames[id]
	}
	return fmt.Sprintf("ExtID(%d)", id)
}

const extAlignValue = 8 // SKB_EXT_ALIGN_VALUE

// extTypeLen models skb_ext_type_len[]: SKB_EXT_CHUNKSIZEOF of each
// extension's struct on x86-64 v6.18. The SKB_EXT_BPF_STORAGE entry is the
// RFC's; a profile resizes that slot (Profile.ExtSlotChunks) and an
// allocator uses its own copy (Allocator.extLen).
var extTypeLen = [ExtNum]uint8{
	ExtBridgeNF:   4,  // struct nf_bridge_info: 32 bytes
	ExtSecPath:    11, // struct sec_path: len, olen, verified_cnt, xvec[6], ovec[1] = 88 bytes
	ExtTC:         2,  // struct tc_skb_ext: act_miss_cookie/chain, mru, zone, flags = 16 bytes
	ExtMPTCP:      4,  // struct mptcp_ext: 32 bytes
	ExtMCTP:       1,  // struct mctp_flow: one pointer
	ExtPSP:        1,  // struct psp_skb_ext: spi, dev_id, generation, version = 8 bytes
	ExtBPFStorage: 1,  // struct bpf_skb_storage_ext: one bpf_local_storage pointer
}

// ExtChunks returns SKB_EXT_CHUNKSIZEOF of extension id's struct in v6.18;
// for SKB_EXT_BPF_STORAGE, the RFC's one-pointer chunk. The chunks a given
// profile or allocator lays out are in its ExtLayout (the BPF_STORAGE slot
// may be resized).
func ExtChunks(id ExtID) int { return int(extTypeLen[id]) }

// ExtStorage is what the BPF_STORAGE chunk points at (struct
// bpf_local_storage in the RFC). ExtDestroy models bpf_skb_storage_free():
// the last put of an extension object in which the BPF_STORAGE chunk exists
// and holds a non-nil storage calls it, exactly once per object.
type ExtStorage interface {
	ExtDestroy()
}

// Ext models struct skb_ext: one skbuff_ext_cache object shared by
// reference between every skb whose header was copied from the same skb
// (clones, copies, segments, fragments). offset[id] != 0 means the chunk
// exists in the object; whether an skb sees it is that skb's
// active_extensions bit.
type Ext struct {
	refcnt int32
	offset [ExtNum]uint8
	chunks uint8
	// data is the whole skbuff_ext_cache object (8 * skb_ext_total_length()
	// bytes of the allocator's layout), chunk i at data[8*i:].
	data []byte

	// storage is the RFC's pointer in the BPF_STORAGE chunk (kept outside
	// data); designs that keep bytes in the slot use Chunk instead.
	storage ExtStorage
	// refs are the kernel pointers skb_ext_maybe_cow takes references on:
	// the sec_path's xfrm states (one Ref stands for xvec[0..len)) and the
	// MCTP flow key.
	refs [ExtNum]Ref

	a       *Allocator
	id      uint64
	state   objState
	allocBy string
	freedBy string
}

// check panics if e was freed, without a call (see Buff.check).
func (e *Ext) check(op string) {
	if e == nil {
		panic("skb: " + op + " on nil extension")
	}
	if e.state != stateLive {
		panic(&misuseError{op: op, ext: e})
	}
}

// Refs returns refcount_read(&ext->refcnt).
func (e *Ext) Refs() int { e.check("skb_ext refcnt"); return int(e.refcnt) }

// Exists models __skb_ext_exist(ext, id): the chunk is laid out in the
// object (an skb may still have its active bit clear).
func (e *Ext) Exists(id ExtID) bool {
	e.check("__skb_ext_exist")
	return id < ExtNum && e.offset[id] != 0
}

// Offset returns ext->offset[id] in 8-byte chunks (0: absent).
func (e *Ext) Offset(id ExtID) int { e.check("skb_ext offset"); return int(e.offset[id]) }

// Chunks returns ext->chunks, the object's used length in 8-byte chunks.
func (e *Ext) Chunks() int { e.check("skb_ext chunks"); return int(e.chunks) }

// Chunk models skb_ext_get_ptr(ext, id): the bytes of extension id inside
// the shared object (nil if it does not exist), skb_ext_type_len[id] chunks
// long. Writes are seen by every skb sharing the object; skb_ext_maybe_cow()
// copies them. For ExtBPFStorage the slot is the allocator's
// (Profile.ExtSlotChunks): a design that keeps bytes there (a slim storage,
// a metadata buffer) uses these bytes; the RFC's storage pointer is
// Storage, not these bytes.
func (e *Ext) Chunk(id ExtID) []byte {
	e.check("skb_ext_get_ptr")
	if id >= ExtNum || e.offset[id] == 0 {
		return nil
	}
	lo := int(e.offset[id]) * extAlignValue
	hi := lo + int(e.a.extLen[id])*extAlignValue
	return e.data[lo:hi:hi]
}

// Storage returns the BPF_STORAGE chunk's storage pointer (nil when the
// chunk does not exist or holds NULL).
func (e *Ext) Storage() ExtStorage {
	e.check("bpf_skb_storage_ext")
	if e.offset[ExtBPFStorage] == 0 {
		return nil
	}
	return e.storage
}

// SetStorage writes the BPF_STORAGE chunk's pointer. It panics if the chunk
// does not exist in the object (add it with Buff.ExtAdd first). The write is
// seen by every skb sharing the object.
func (e *Ext) SetStorage(s ExtStorage) {
	e.check("bpf_skb_storage_ext")
	if e.offset[ExtBPFStorage] == 0 {
		panic("skb: SetStorage on an extension without SKB_EXT_BPF_STORAGE")
	}
	e.storage = s
}

// SetRef stores the kernel pointer chunk id holds a reference on (the
// sec_path's xfrm states, the MCTP flow key): skb_ext_maybe_cow holds it
// for the copy when id is active, the last put releases it. It takes over
// the caller's reference.
func (e *Ext) SetRef(id ExtID, r Ref) {
	e.check("skb_ext ref")
	if id != ExtSecPath && id != ExtMCTP {
		panic("skb: SetRef is for SKB_EXT_SEC_PATH and SKB_EXT_MCTP")
	}
	if e.offset[id] == 0 {
		panic("skb: SetRef on an absent extension " + id.String())
	}
	e.refs[id] = r
}

// Ref returns the pointer stored by SetRef.
func (e *Ext) Ref(id ExtID) Ref { e.check("skb_ext ref"); return e.refs[id] }

func (e *Ext) String() string {
	if e == nil {
		return "skb_ext<nil>"
	}
	if e.state != stateLive {
		return fmt.Sprintf("skb_ext#%d<freed by %s>", e.id, e.freedBy)
	}
	return fmt.Sprintf("skb_ext#%d{refcnt=%d chunks=%d offset=%v}", e.id, e.refcnt, e.chunks, e.offset)
}

// --- allocator side ---

// extAlloc models __skb_ext_alloc(): kmem_cache_alloc(skbuff_ext_cache),
// offset[] zeroed, refcnt = 1. The data is not zeroed (a reused object shows
// POISON_FREE); the storage pointer starts nil.
func (a *Allocator) extAlloc(op string) (*Ext, error) {
	if err := a.acct.CacheAlloc(siteExt, a.extCache); err != nil {
		a.live.Failures++
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	e := a.exts.get()
	if e == nil {
		e = &Ext{data: make([]byte, a.extCache.ObjectSize)}
		poisonBytes(e.data)
	}
	e.refcnt = 1
	e.offset = [ExtNum]uint8{}
	e.chunks = 0
	e.storage = nil
	// e.refs is all nil: a new object is zeroed and extPut cleared a
	// reused one.
	e.a = a
	e.id = a.nextID()
	e.state = stateLive
	e.allocBy, e.freedBy = op, ""
	a.live.Exts++
	return e, nil
}

// extMaybeCOW models skb_ext_maybe_cow(): an unshared object is returned as
// is; a shared one is copied (memcpy of old->chunks * 8 bytes: the header
// and every laid-out chunk, the whole BPF_STORAGE slot included), the copy
// takes references for
// the active sec_path and MCTP chunks, the RFC hook leaves the copy's storage
// pointer nil (see ExtCOWRule), and the old object is put.
func (a *Allocator) extMaybeCOW(old *Ext, oldActive uint8) (*Ext, error) {
	if old.refcnt == 1 {
		return old, nil
	}
	e, err := a.extAlloc("skb_ext_maybe_cow")
	if err != nil {
		return nil, err
	}
	n := int(old.chunks) * extAlignValue
	copy(e.data[:n], old.data[:n])
	e.offset, e.chunks = old.offset, old.chunks
	e.storage = old.storage
	e.refs = old.refs
	e.refcnt = 1
	if oldActive&(1<<ExtSecPath) != 0 && e.refs[ExtSecPath] != nil {
		e.refs[ExtSecPath].Hold() // xfrm_state_hold for each xvec[i]
	}
	if oldActive&(1<<ExtMCTP) != 0 && e.refs[ExtMCTP] != nil {
		e.refs[ExtMCTP].Hold() // refcount_inc(&flow->key->refs)
	}
	switch a.prof.ExtCOWStorage {
	case ExtCOWClearIfActive:
		if oldActive&(1<<ExtBPFStorage) != 0 {
			e.storage = nil
		}
	case ExtCOWClearIfExists:
		if old.offset[ExtBPFStorage] != 0 {
			e.storage = nil
		}
	}
	a.acct.Op(cost.OpExtCOW, 1)
	a.acct.Op(cost.OpMemcpyByte, uint64(n))
	a.extPut(old, "skb_ext_maybe_cow")
	return e, nil
}

// extPut models __skb_ext_put(): drop a reference; the last one releases
// the sec_path states and MCTP key, destroys the BPF storage (RFC:
// bpf_skb_storage_free) and frees the object.
func (a *Allocator) extPut(e *Ext, op string) {
	e.check(op)
	if e.refcnt <= 0 {
		panic(fmt.Sprintf("skb: %s: skb_ext #%d refcnt %d", op, e.id, e.refcnt))
	}
	e.refcnt--
	if e.refcnt != 0 {
		return
	}
	if e.offset[ExtSecPath] != 0 && e.refs[ExtSecPath] != nil {
		e.refs[ExtSecPath].Release() // skb_ext_put_sp
	}
	if e.offset[ExtMCTP] != 0 && e.refs[ExtMCTP] != nil {
		e.refs[ExtMCTP].Release() // skb_ext_put_mctp
	}
	if e.offset[ExtBPFStorage] != 0 && e.storage != nil {
		s := e.storage
		e.storage = nil
		s.ExtDestroy() // bpf_skb_storage_free
	}
	a.acct.CacheFree(siteExt, a.extCache)
	e.state = stateFree
	e.freedBy = op
	e.refs = [ExtNum]Ref{}
	if !a.noPoison {
		poisonBytes(e.data)
	}
	a.live.Exts--
	a.exts.put(e)
}

// --- skb side ---

// ExtAdd models skb_ext_add(skb, id): make extension id active on the skb
// and return the object holding it. A shared object is copied first
// (skb_ext_maybe_cow), so the returned object may differ from the one other
// skbs share; an id that already exists in the object is just re-activated
// with its old contents. A newly laid-out chunk's bytes are not zeroed,
// except that a new BPF_STORAGE chunk starts with a nil storage. Sets
// slow_gro. On allocation failure it returns an error matching ENOMEM and
// the skb is unchanged.
func (b *Buff) ExtAdd(id ExtID) (*Ext, error) {
	b.check("skb_ext_add")
	a := b.a
	if !a.prof.HasExt(id) {
		panic(fmt.Sprintf("skb: skb_ext_add(%v): not compiled into profile %s", id, a.prof.Name))
	}
	var (
		e      *Ext
		err    error
		newoff int
	)
	if b.activeExt != 0 {
		e, err = a.extMaybeCOW(b.ext, b.activeExt)
		if err != nil {
			return nil, fmt.Errorf("skb_ext_add: %w", err)
		}
		if e.offset[id] != 0 {
			goto setActive
		}
		newoff = int(e.chunks)
	} else {
		e, err = a.extAlloc("skb_ext_add")
		if err != nil {
			return nil, err
		}
		newoff = a.extHdrChunks
	}
	e.chunks = uint8(newoff + int(a.extLen[id]))
	e.offset[id] = uint8(newoff)
	if id == ExtBPFStorage {
		e.storage = nil
	}
	a.acct.Op(cost.OpExtAdd, 1)
setActive:
	b.hdr.SlowGRO = true
	b.ext = e
	b.activeExt |= 1 << id
	return e, nil
}

// ExtFind models skb_ext_find(skb, id): the object holding extension id if
// it is active on this skb, else nil. The object may be shared: writes
// through it are seen by every sharer.
func (b *Buff) ExtFind(id ExtID) *Ext {
	b.check("skb_ext_find")
	if id < ExtNum && b.activeExt&(1<<id) != 0 {
		return b.ext
	}
	return nil
}

// ExtExists models skb_ext_exist(skb, id): the active bit.
func (b *Buff) ExtExists(id ExtID) bool {
	b.check("skb_ext_exist")
	return id < ExtNum && b.activeExt&(1<<id) != 0
}

// ExtActive returns skb->active_extensions.
func (b *Buff) ExtActive() uint8 { b.check("active_extensions"); return b.activeExt }

// Ext returns skb->extensions when any extension is active, else nil.
func (b *Buff) Ext() *Ext {
	b.check("skb->extensions")
	if b.activeExt == 0 {
		return nil
	}
	return b.ext
}

// ExtShared reports whether the skb's extension object is shared with
// another skb (active and refcnt != 1), the condition under which the RFC
// refuses storage access on cloned skbs.
func (b *Buff) ExtShared() bool {
	b.check("skb_ext shared")
	return b.activeExt != 0 && b.ext.refcnt != 1
}

// ExtDel models skb_ext_del(skb, id) -> __skb_ext_del(): clear this skb's
// active bit; the last bit gone puts the object. Deleting SKB_EXT_SEC_PATH
// from an unshared object also releases its xfrm states (sp->len = 0).
func (b *Buff) ExtDel(id ExtID) {
	b.check("skb_ext_del")
	if id >= ExtNum || b.activeExt&(1<<id) == 0 {
		return
	}
	e := b.ext
	b.activeExt &^= 1 << id
	if b.activeExt == 0 {
		b.ext = nil
		b.a.extPut(e, "skb_ext_del")
	} else if id == ExtSecPath && e.refcnt == 1 {
		if r := e.refs[ExtSecPath]; r != nil {
			e.refs[ExtSecPath] = nil
			r.Release() // skb_ext_put_sp; sp->len = 0
		}
	}
}

// ExtReset models skb_ext_reset(): put the object (if any extension is
// active) and clear every active bit.
func (b *Buff) ExtReset() { b.check("skb_ext_reset"); b.extReset("skb_ext_reset") }

// With no active extension skb->extensions is already nil (every path that
// clears the last active bit clears the pointer).
func (b *Buff) extReset(op string) {
	if b.activeExt != 0 {
		b.extDrop(op)
	}
}

// extDrop is extReset with an extension active: clear and put the object.
// It is not inlined so that extReset is.
//
//go:noinline
func (b *Buff) extDrop(op string) {
	e := b.ext
	b.ext = nil
	b.activeExt = 0
	b.a.extPut(e, op)
}

// ExtCopy models skb_ext_copy(dst, src): put dst's object and share src's.
func (b *Buff) ExtCopy(src *Buff) {
	b.check("skb_ext_copy")
	src.check("skb_ext_copy")
	b.extReset("skb_ext_copy")
	b.extShare(src)
}

// extShare models __skb_ext_copy(dst, src): share by reference.
func (b *Buff) extShare(src *Buff) {
	b.activeExt = src.activeExt
	if src.activeExt != 0 {
		src.ext.refcnt++
		b.ext = src.ext
	} else {
		b.ext = nil
	}
}
