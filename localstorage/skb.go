package localstorage

import (
	"fmt"

	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/skb"
)

// The skb owner (RFC "bpf: Introduce local storage for sk_buff"): the
// storage hangs off the skb's SKB_EXT_BPF_STORAGE extension chunk
// (struct bpf_skb_storage_ext { struct bpf_local_storage __rcu *storage; }),
// whose lifetime is the skb_ext object's: clones and copies share it, a
// COW (skb_ext_add on a shared object) leaves the copy without storage,
// skb_scrub_packet() resets it, and the last __skb_ext_put() destroys the
// storage (bpf_skb_storage_free()). Package skb implements the extension
// object; this file is the BPF side.

var (
	siteSkbClone = kmem.RegisterSite("bpf_skb_storage_clone")
	siteSkbKeep  = kmem.RegisterSite("bpf_skb_storage_keep")
)

// extOwner is the owner of skb storage: the extension object
// (map_owner_storage_ptr returns &ext->storage). A one-pointer struct, so
// storing it in the owner interface does not allocate.
type extOwner struct{ ext *skb.Ext }

func (o extOwner) storagePtr() *Storage {
	s, _ := o.ext.Storage().(*Storage) // o.ext is never nil
	return s
}

func (o extOwner) setStoragePtr(s *Storage) {
	if s == nil {
		o.ext.SetStorage(nil)
		return
	}
	o.ext.SetStorage(s)
}

// The RFC sets no map_local_storage_charge: skb storage is only limited by
// memcg.
func (o extOwner) charge(int) error { return nil }
func (o extOwner) uncharge(int)     {}

func storageOf(ext *skb.Ext) *Storage {
	if ext == nil {
		return nil
	}
	s, _ := ext.Storage().(*Storage)
	return s
}

// ExtDestroy implements skb.ExtStorage: package skb calls it at the last
// put of the extension object holding the storage, modelling
// bpf_skb_storage_free() -> bpf_local_storage_destroy() (the returned
// mem_charge is ignored: skb storage is not charged).
func (s *Storage) ExtDestroy() {
	if s.kind != OwnerSkb || s.st != stLive {
		panic(fmt.Sprintf("localstorage: ExtDestroy of %v in state %d", s, s.st))
	}
	s.env.destroy(s)
}

// SkbStorage returns the storage the skb sees (nil when its
// SKB_EXT_BPF_STORAGE extension is inactive or holds no storage). It does
// not apply the shared-clone refusal; use it for traces.
func SkbStorage(b *skb.Buff) *Storage { return storageOf(b.ExtFind(skb.ExtBPFStorage)) }

// skbShared is the RFC's refusal condition: skb->cloned with an active,
// shared extension object (refcount != 1).
func skbShared(b *skb.Buff) bool { return b.Cloned() && b.ExtShared() }

// SkbStorageGet models the RFC kfunc bpf_skb_storage_get(map, skb, value,
// value__szk, flags). It returns the value (a live view) or nil and the
// reason for NULL: -EINVAL for a nil skb or flags other than 0 and
// F_CREATE; -EPERM in hardirq or NMI context ("requires kmalloc_nolock");
// -EOPNOTSUPP on a cloned skb whose extension is shared; -ENOENT when
// absent and not created; -ENOMEM when skb_ext_add() (which may allocate
// or COW the extension) or the update fails. The update is
// bpf_local_storage_update(ext, smap, value, BPF_NOEXIST, GFP_ATOMIC).
func (m *Map) SkbStorageGet(ctx ProgCtx, b *skb.Buff, init []byte, flags uint64) ([]byte, error) {
	m.mustOwner(OwnerSkb, "bpf_skb_storage_get")
	m.env.acct.Op(cost.OpHelperCall, 1)
	if b == nil || flags&^GetCreate != 0 {
		return nil, ErrInvalid
	}
	if ctx != CtxNormal {
		return nil, ErrPerm
	}
	// skbShared(b), with skb_ext_find()'s active bit read once: an skb
	// without active extensions shares none.
	cloned := b.Cloned()
	active := b.ExtActive()
	if cloned && active != 0 && b.ExtShared() {
		return nil, ErrNotSupported
	}
	m.checkInit(init)
	var ext *skb.Ext
	if active&(1<<skb.ExtBPFStorage) != 0 {
		var el *Elem
		if ext, el = m.skbLookup(b); el != nil {
			return el.data, nil
		}
	}
	if flags&GetCreate == 0 {
		return nil, ErrNotFound
	}
	return m.skbCreate(b, ext, init)
}

// SkbStorageLookup is SkbStorageGet(CtxNormal, b, nil, 0), the get a
// program makes without BPF_LOCAL_STORAGE_GET_F_CREATE from process or
// softirq context: the value (a live view), or nil and -EINVAL for a nil
// skb, -EOPNOTSUPP on a cloned skb whose extension is shared, -ENOENT
// when absent. It counts, caches and panics as SkbStorageGet does, with
// fewer arguments to pass and check on the per-packet path.
func (m *Map) SkbStorageLookup(b *skb.Buff) ([]byte, error) {
	if m.SkbStorageLookupNoExt(b) {
		return nil, ErrNotFound
	}
	return m.skbStorageLookup(b)
}

// SkbStorageLookupNoExt is the first step of SkbStorageLookup, small
// enough to inline into a caller: when m is a live skb storage map and b a
// live skb with no active extension (so nothing shared, no
// SKB_EXT_BPF_STORAGE), it counts the helper call and reports true: the
// lookup's outcome is -ENOENT (ErrNotFound). Otherwise it does nothing and
// reports false; the caller then calls SkbStorageLookup. It panics on a
// freed skb, as SkbStorageLookup does.
func (m *Map) SkbStorageLookupNoExt(b *skb.Buff) bool {
	if m.freed || m.owner != OwnerSkb || b == nil || b.ExtActive() != 0 {
		return false
	}
	m.env.acct.Op(cost.OpHelperCall, 1)
	return true
}

// skbStorageLookup is SkbStorageLookup after SkbStorageLookupNoExt
// declined.
func (m *Map) skbStorageLookup(b *skb.Buff) ([]byte, error) {
	m.mustOwner(OwnerSkb, "bpf_skb_storage_get")
	m.env.acct.Op(cost.OpHelperCall, 1)
	if b == nil {
		return nil, ErrInvalid
	}
	cloned := b.Cloned()
	active := b.ExtActive()
	if cloned && active != 0 && b.ExtShared() {
		return nil, ErrNotSupported
	}
	if active&(1<<skb.ExtBPFStorage) != 0 {
		// skbLookup, written out: skb_ext_find() then
		// bpf_local_storage_lookup(storage, smap, true).
		if s, _ := b.ExtFind(skb.ExtBPFStorage).Storage().(*Storage); s != nil {
			if el := s.lookup(m, true); el != nil {
				return el.data, nil
			}
		}
	}
	return nil, ErrNotFound
}

// skbLookup returns the skb's active SKB_EXT_BPF_STORAGE extension
// (skb_ext_find()) and m's element in the storage it holds
// (bpf_local_storage_lookup(storage, smap, true)), nil when there is none.
func (m *Map) skbLookup(b *skb.Buff) (*skb.Ext, *Elem) {
	ext := b.ExtFind(skb.ExtBPFStorage)
	if s, _ := ext.Storage().(*Storage); s != nil {
		return ext, s.lookup(m, true)
	}
	return ext, nil
}

// skbCreate is the F_CREATE part of bpf_skb_storage_get() after a failed
// lookup: skb_ext_add() when the skb has no active SKB_EXT_BPF_STORAGE
// (ext == nil), then bpf_local_storage_update(ext, smap, value,
// BPF_NOEXIST, GFP_ATOMIC).
func (m *Map) skbCreate(b *skb.Buff, ext *skb.Ext, init []byte) ([]byte, error) {
	if ext == nil {
		var err error
		if ext, err = b.ExtAdd(skb.ExtBPFStorage); err != nil {
			return nil, ErrNoMem
		}
	}
	el, err := m.env.update(extOwner{ext}, OwnerSkb, m, init, UpdateNoExist, false)
	if err != nil {
		return nil, err
	}
	return el.data, nil
}

// SkbStorageDelete models the RFC kfunc bpf_skb_storage_delete(map, skb):
// -EINVAL for a nil skb, -EPERM in hardirq or NMI context, -EOPNOTSUPP on
// a cloned skb whose extension is shared, -ENOENT when absent, else
// bpf_selem_unlink().
func (m *Map) SkbStorageDelete(ctx ProgCtx, b *skb.Buff) error {
	m.mustOwner(OwnerSkb, "bpf_skb_storage_delete")
	m.env.acct.Op(cost.OpHelperCall, 1)
	if b == nil {
		return ErrInvalid
	}
	if ctx != CtxNormal {
		return ErrPerm
	}
	if skbShared(b) {
		return ErrNotSupported
	}
	s := SkbStorage(b)
	if s == nil {
		return ErrNotFound
	}
	el := s.lookup(m, false)
	if el == nil {
		return ErrNotFound
	}
	m.env.selemUnlink(el)
	return nil
}

// SkbStats counts what the model options of skb maps did.
type SkbStats struct {
	CloneCopies       uint64 // skb clones that got copies (CloneCopy)
	CloneCopyFailures uint64 // clones whose copy failed (ENOMEM)
	ScrubKept         uint64 // scrubs that kept elements (KeepOnScrub/KeepOnNetns)
	ScrubKeepFailures uint64 // scrubs whose kept elements were lost (ENOMEM)
}

// SkbStats returns the model-option counters.
func (e *Env) SkbStats() SkbStats { return e.skb.stats }

// SkbHooks returns the skb lifecycle hooks the model options of skb maps
// need (CloneCopy on skb_clone, KeepOnScrub/KeepOnNetns around the
// extension reset of skb_scrub_packet). With no map using an option the
// hooks return at once, so the RFC as posted needs no hook: extension
// sharing, COW, reset and the last put are package skb's.
func (e *Env) SkbHooks() skb.Hooks {
	return skb.Hooks{Clone: e.skbClone, ScrubBefore: e.skbScrubBefore, ScrubAfter: e.skbScrubAfter}
}

// AttachSkb sizes a's SKB_EXT_BPF_STORAGE slot for the strategy
// (SizeSkbExt) and installs SkbHooks on a. The allocator must record into
// the Env's accountant; AttachSkb panics if it does not, or if the
// allocator refuses the slot size (call SizeSkbExt first to get the
// error).
func (e *Env) AttachSkb(a *skb.Allocator) {
	if a.Accountant() != e.acct {
		panic("localstorage: AttachSkb with an allocator on another accountant")
	}
	if err := e.SizeSkbExt(a); err != nil {
		panic("localstorage: AttachSkb: " + err.Error())
	}
	a.AddHooks(e.SkbHooks())
}

func copyOnClone(m *Map) bool { return m.spec.Skb.CloneCopy && m.spec.Flags&FlagClone != 0 }

// skbClone implements the CloneCopy option after skb_clone(), modelled on
// the prototype's bpf_skb_storage_clone(skb, newskb): if the original's
// storage holds an element of a BPF_F_CLONE map with CloneCopy,
// skb_ext_add() on the clone gives it a private extension (a COW of the
// shared one, whose storage pointer the RFC hook clears; the original's
// object is no longer shared) and those elements are deep-copied into a
// new storage for it. skb_clone() cannot fail here (the prototype's call
// site was not found): a failed extension add leaves the clone sharing
// (access refused, as in the RFC), a failed element copy destroys the
// partial storage, leaving the clone with a private extension and no
// storage; both are counted in SkbStats.CloneCopyFailures.
func (e *Env) skbClone(orig, clone *skb.Buff) {
	if e.skb.cloneMaps == 0 {
		return
	}
	s := SkbStorage(orig)
	if s == nil || !s.holds(copyOnClone) {
		return
	}
	ext, err := clone.ExtAdd(skb.ExtBPFStorage)
	if err != nil {
		e.skb.stats.CloneCopyFailures++
		return
	}
	if err := e.cloneElems(s, extOwner{ext}, OwnerSkb, copyOnClone, siteSkbClone); err != nil {
		e.skb.stats.CloneCopyFailures++
		if ns := storageOf(ext); ns != nil {
			ext.SetStorage(nil)
			e.destroy(ns)
		}
		return
	}
	e.skb.stats.CloneCopies++
}

// holds reports whether an element of a map passing keep is linked.
func (s *Storage) holds(keep func(*Map) bool) bool {
	for el := s.head; el != nil; el = el.snext {
		if keep(el.smap) {
			return true
		}
	}
	return false
}

func keepOnScrub(m *Map) bool { return m.spec.Skb.KeepOnScrub }
func keepOnNetns(m *Map) bool { return m.spec.Skb.KeepOnNetns }

// skbScrubBefore implements KeepOnScrub/KeepOnNetns before the extension
// reset of skb_scrub_packet(skb, xnet). When the skb's extension object is
// not shared, the elements of maps that do not survive this scrub are
// deleted and the storage is detached from the object, so the reset's put
// does not destroy it. When it is shared, the other sharers keep it and
// the kept elements are copied after the reset.
func (e *Env) skbScrubBefore(b *skb.Buff, xnet bool) {
	e.skb.kept = nil
	if e.skb.keepMaps == 0 {
		return
	}
	ext := b.ExtFind(skb.ExtBPFStorage)
	s := storageOf(ext)
	keep := keepOnScrub
	if xnet {
		keep = keepOnNetns
	}
	if s == nil || !s.holds(keep) {
		return
	}
	e.skb.kept, e.skb.keptFor, e.skb.keptFilter = s, b, keep
	e.skb.keptCopy = ext.Refs() != 1
	if e.skb.keptCopy {
		return
	}
	for el := s.head; el != nil; {
		next := el.snext
		if !keep(el.smap) {
			e.selemUnlink(el)
		}
		el = next
	}
	ext.SetStorage(nil)
}

// skbScrubAfter re-attaches (or copies) the kept elements to a new
// extension added after the reset. If skb_ext_add() fails the kept
// elements are lost (a moved storage is destroyed), counted in
// SkbStats.ScrubKeepFailures.
func (e *Env) skbScrubAfter(b *skb.Buff, _ bool) {
	s := e.skb.kept
	if s == nil || e.skb.keptFor != b {
		return
	}
	e.skb.kept, e.skb.keptFor = nil, nil
	ext, err := b.ExtAdd(skb.ExtBPFStorage)
	if err != nil {
		e.skb.stats.ScrubKeepFailures++
		if !e.skb.keptCopy {
			e.destroy(s)
		}
		return
	}
	if e.skb.keptCopy {
		if err := e.cloneElems(s, extOwner{ext}, OwnerSkb, e.skb.keptFilter, siteSkbKeep); err != nil {
			e.skb.stats.ScrubKeepFailures++
			if ns := storageOf(ext); ns != nil {
				ext.SetStorage(nil)
				e.destroy(ns)
			}
			return
		}
		e.skb.stats.ScrubKept++
		return
	}
	if e.skb.mode == allocSlim {
		// The slim storage lives in the chunk: it moves with a copy.
		e.acct.Op(cost.OpMemcpyByte, uint64(e.StorageSize(OwnerSkb)))
	}
	ext.SetStorage(s)
	s.owner = extOwner{ext}
	e.skb.stats.ScrubKept++
}

// SkbExtChunkSize returns the bytes the SKB_EXT_BPF_STORAGE chunk needs
// under the Env's strategy: the storage pointer (8) for rfc, rfc-coalloc
// and rfc-prealloc; the slim storage (8*N + 16) for rfc-slim, which every
// skb_ext object then carries (skbuff_ext_cache objects hold all
// extension chunks).
func (e *Env) SkbExtChunkSize() int {
	if e.skb.mode == allocSlim {
		return e.StorageSize(OwnerSkb)
	}
	return 8
}

// SizeSkbExt sizes the SKB_EXT_BPF_STORAGE slot of a's extension layout
// to SkbExtChunkSize rounded up to 8-byte chunks (skb.Profile.ExtSlotChunks:
// skb_ext_type_len[SKB_EXT_BPF_STORAGE] = SKB_EXT_CHUNKSIZEOF of struct
// bpf_skb_storage_ext, which under rfc-slim embeds the slim storage), so
// the skbuff_ext_cache object of every skb grows by it and
// skb_ext_maybe_cow() copies it. Call it before any skb_ext is live.
// Errors are the allocator's: E2BIG when the layout exceeds 255 chunks (a
// slim storage of more than 228 cache slots on v6.18), EBUSY when
// extension objects are live or another design sized the slot
// differently.
func (e *Env) SizeSkbExt(a *skb.Allocator) error {
	n := (e.SkbExtChunkSize() + 7) / 8
	if err := a.SetExtSlotChunks(n); err != nil {
		return fmt.Errorf("localstorage: skb strategy %s: %w", e.skb.strategy, err)
	}
	return nil
}
