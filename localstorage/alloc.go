package localstorage

import "github.com/skbsim/skbsim/kmem"

// allocMode is how an owner type's storages and elements get their memory.
// The sk and task owners always use allocKmalloc (the kernel's
// bpf_map_kzalloc / bpf_map_kmalloc_nolock); the others are the skb
// owner's allocation strategies.
type allocMode uint8

const (
	allocKmalloc  allocMode = iota // one kmalloc per storage and per element
	allocCoalloc                   // storage and first element in one kmalloc
	allocPrealloc                  // objects from a per-CPU pool refilled off the hot path
	allocSlim                      // slim storage embedded in the skb_ext chunk
)

var siteCoalloc = kmem.RegisterSite("bpf_local_storage_alloc:coalloc")

// elemMem books the memory of a new element.
func (e *Env) elemMem(m *Map, el *Elem, first bool, site kmem.Site) error {
	switch e.policy(m.owner) {
	case allocCoalloc:
		if first {
			// Booked together with the storage by storageMem.
			el.embedded = true
			return nil
		}
	case allocPrealloc:
		if e.skb.pool.takeElem(m.elemSize) {
			el.pooled = true
			el.ksize = m.elemKSize
			return nil
		}
	}
	if err := e.acct.KmallocSize(site, m.elemKSize); err != nil {
		return err
	}
	el.site, el.ksize = site, m.elemKSize
	return nil
}

// elemMemFree returns an element's memory, RCU-deferred.
func (e *Env) elemMemFree(el *Elem, _ bool) {
	switch {
	case el.embedded:
		// Part of its storage's block.
	case el.pooled:
		e.skb.pool.pendingElem(el.ksize.Bytes())
	case el.ksize.Bytes() > 0:
		e.acct.KfreeRCUSize(el.site, el.ksize)
	}
}

// storageMem books the memory of a new storage whose first element is
// first.
func (e *Env) storageMem(s *Storage, first *Elem) error {
	ss := e.storageKSize[s.kind] // StorageSize(s.kind) as a kmalloc request
	switch e.policy(s.kind) {
	case allocSlim:
		// Embedded in the skb_ext chunk the skb owner allocated.
		return nil
	case allocCoalloc:
		if first.embedded {
			n := first.smap.coallocKSize // ss + elem_size, worked out by mapAlloc
			if err := e.acct.KmallocSize(siteCoalloc, n); err != nil {
				return err
			}
			s.site, s.ksize = siteCoalloc, n
			return nil
		}
	case allocPrealloc:
		if e.skb.pool.takeStorage() {
			s.pooled = true
			s.ksize = ss
			return nil
		}
	}
	if err := e.acct.KmallocSize(siteStorage, ss); err != nil {
		return err
	}
	s.site, s.ksize = siteStorage, ss
	return nil
}

// storageMemFree returns a storage's memory, RCU-deferred.
func (e *Env) storageMemFree(s *Storage, _ bool) {
	switch {
	case s.pooled:
		e.skb.pool.pendingStorage()
	case s.ksize.Bytes() > 0:
		e.acct.KfreeRCUSize(s.site, s.ksize)
	}
}

func (e *Env) policy(o OwnerType) allocMode {
	if o == OwnerSkb {
		return e.skb.mode
	}
	return allocKmalloc
}
