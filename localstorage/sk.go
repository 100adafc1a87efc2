package localstorage

import (
	"fmt"

	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/kmem"
)

// DefaultOptmemMax is net.core.optmem_max's default since v6.8 (commit
// 4944566706b2, 131072), the value the lab read in the root and in fresh
// network namespaces.
const DefaultOptmemMax = 131072

// NetCore holds the per-network-namespace sysctls local storage reads
// (struct netns_core: sock_net(sk)->core.sysctl_optmem_max). The stack
// model keeps one per namespace.
type NetCore struct {
	OptmemMax int
}

// NewNetCore returns a namespace's core sysctls with their defaults.
func NewNetCore() *NetCore { return &NetCore{OptmemMax: DefaultOptmemMax} }

// Sock is the part of struct sock that local storage uses: the storage
// pointer (sk->sk_bpf_storage), the option-memory counter
// (sk->sk_omem_alloc, shared with sock_kmalloc users), the namespace whose
// optmem_max limits it, whether it is a full socket, and whether its
// refcount has dropped to zero. The stack model embeds or points to one per
// socket.
type Sock struct {
	storage *Storage
	omem    int
	net     *NetCore
	notFull bool
	dead    bool
	freed   bool
	// Name labels the socket in traces.
	Name string
}

// NewSock returns a full socket in namespace net (nil means a fresh
// namespace with the defaults).
func NewSock(net *NetCore) *Sock {
	if net == nil {
		net = NewNetCore()
	}
	return &Sock{net: net}
}

// NewRequestSock returns a socket that is not a full socket (a request or
// timewait minisock): sk_fullsock() is false, so the helpers refuse it.
func NewRequestSock(net *NetCore) *Sock {
	sk := NewSock(net)
	sk.notFull = true
	return sk
}

// Net returns the socket's namespace sysctls.
func (sk *Sock) Net() *NetCore { return sk.net }

// Storage returns sk->sk_bpf_storage (nil when the socket has none).
func (sk *Sock) Storage() *Storage { return sk.storage }

// OmemAlloc returns sk->sk_omem_alloc.
func (sk *Sock) OmemAlloc() int { return sk.omem }

// AddOmem adds n (possibly negative) to sk_omem_alloc, for other users of
// option memory (sock_kmalloc) modelled by the stack.
func (sk *Sock) AddOmem(n int) { sk.omem += n }

// FullSock reports sk_fullsock().
func (sk *Sock) FullSock() bool { return !sk.notFull }

// Release drops the socket's last reference (sk_refcnt reaches 0) without
// destructing it yet: helpers can no longer create storage (create needs
// refcount_inc_not_zero) and delete returns -ENOENT, while lookups still
// see existing elements until Destruct.
func (sk *Sock) Release() { sk.dead = true }

func (sk *Sock) storagePtr() *Storage     { return sk.storage }
func (sk *Sock) setStoragePtr(s *Storage) { sk.storage = s }

// charge models bpf_sk_storage_charge(): "same check as in sock_kmalloc()":
// size <= optmem_max and sk_omem_alloc + size < optmem_max (strict), read
// from the socket's namespace; else -ENOMEM.
func (sk *Sock) charge(size int) error {
	limit := sk.net.OptmemMax
	if size <= limit && sk.omem+size < limit {
		sk.omem += size
		return nil
	}
	return ErrNoMem
}

// uncharge models bpf_sk_storage_uncharge().
func (sk *Sock) uncharge(size int) { sk.omem -= size }

// mustOwner panics when fn is called on a freed map or on a map of
// another owner type (a verifier-refused program). It is one inlinable
// test; the panics are built in ownerMisuse.
func (m *Map) mustOwner(want OwnerType, fn string) {
	if m.freed || m.owner != want {
		m.ownerMisuse(fn)
	}
}

//go:noinline
func (m *Map) ownerMisuse(fn string) {
	m.mustLive()
	panic(fmt.Sprintf("localstorage: %s on %v (verifier: cannot pass map_type %d into func %s)",
		fn, m, m.spec.Type, fn))
}

// SkStorageGet models the bpf_sk_storage_get() helper. It returns the
// value (a live view of the element, valid for the rest of the program
// run) or a nil slice and the reason the kernel had for returning NULL
// (the program itself only sees NULL): -EINVAL for a nil or non-full socket
// or flags other than 0 and F_CREATE; -ENOENT when absent and not created
// (also when the socket's refcount is zero); an update error otherwise.
// init, when non-nil, is the initial value (value_size bytes). A hit does
// not allocate.
func (m *Map) SkStorageGet(sk *Sock, init []byte, flags uint64) ([]byte, error) {
	m.mustOwner(OwnerSock, "bpf_sk_storage_get")
	m.env.acct.Op(cost.OpHelperCall, 1)
	return m.skGet(sk, init, flags, false)
}

// SkStorageGetSleepable is bpf_sk_storage_get() from a sleepable program
// (the verifier passes GFP_KERNEL as the hidden gfp argument).
func (m *Map) SkStorageGetSleepable(sk *Sock, init []byte, flags uint64) ([]byte, error) {
	m.mustOwner(OwnerSock, "bpf_sk_storage_get")
	m.env.acct.Op(cost.OpHelperCall, 1)
	return m.skGet(sk, init, flags, true)
}

func (m *Map) skGet(sk *Sock, init []byte, flags uint64, gfpKernel bool) ([]byte, error) {
	if sk == nil || sk.notFull || flags > GetCreate {
		return nil, ErrInvalid
	}
	m.checkInit(init)
	if el := lookupOwner(sk, m, true); el != nil {
		return el.data, nil
	}
	// Cannot add a new element to a going-away socket.
	if flags != GetCreate || sk.dead {
		return nil, ErrNotFound
	}
	el, err := m.env.update(sk, OwnerSock, m, init, UpdateNoExist, gfpKernel)
	if err != nil {
		return nil, err
	}
	return el.data, nil
}

// SkStorageDelete models the bpf_sk_storage_delete() helper: -EINVAL for a
// nil or non-full socket, -ENOENT for a socket whose refcount is zero or
// that has no element.
func (m *Map) SkStorageDelete(sk *Sock) error {
	m.mustOwner(OwnerSock, "bpf_sk_storage_delete")
	m.env.acct.Op(cost.OpHelperCall, 1)
	if sk == nil || sk.notFull {
		return ErrInvalid
	}
	if sk.dead {
		return ErrNotFound
	}
	return m.env.deleteOwner(sk, m)
}

// ProgCtx is the context a tracing program or kfunc runs in.
type ProgCtx uint8

// Program contexts.
const (
	CtxNormal  ProgCtx = iota // process or softirq context
	CtxHardirq                // in_hardirq()
	CtxNMI                    // in_nmi()
)

// SkStorageGetTracing models bpf_sk_storage_get_tracing(): NULL (-EPERM) in
// hardirq or NMI context, else bpf_sk_storage_get().
func (m *Map) SkStorageGetTracing(ctx ProgCtx, sk *Sock, init []byte, flags uint64) ([]byte, error) {
	m.mustOwner(OwnerSock, "bpf_sk_storage_get")
	m.env.acct.Op(cost.OpHelperCall, 1)
	if ctx != CtxNormal {
		return nil, ErrPerm
	}
	return m.skGet(sk, init, flags, false)
}

// SkStorageDeleteTracing models bpf_sk_storage_delete_tracing(): -EPERM in
// hardirq or NMI context, else bpf_sk_storage_delete().
func (m *Map) SkStorageDeleteTracing(ctx ProgCtx, sk *Sock) error {
	if ctx != CtxNormal {
		m.mustOwner(OwnerSock, "bpf_sk_storage_delete")
		m.env.acct.Op(cost.OpHelperCall, 1)
		return ErrPerm
	}
	return m.SkStorageDelete(sk)
}

// checkInit panics on an initial value of the wrong size: the verifier
// guarantees a value_size buffer or NULL.
func (m *Map) checkInit(init []byte) {
	if init != nil && len(init) != m.spec.ValueSize {
		m.initMisuse(len(init))
	}
}

//go:noinline
func (m *Map) initMisuse(n int) {
	panic(fmt.Sprintf("localstorage: initial value of %d bytes for %v", n, m))
}

// Destruct models __sk_destruct() -> bpf_sk_storage_free(): the storage is
// destroyed (bpf_local_storage_destroy()) and its mem_charge uncharged from
// sk_omem_alloc. Destructing twice panics.
func (sk *Sock) Destruct(e *Env) {
	if sk.freed {
		panic("localstorage: socket destructed twice")
	}
	sk.dead = true
	sk.freed = true
	s := sk.storage
	if s == nil {
		return
	}
	unch := e.destroy(s)
	sk.omem -= unch
	sk.storage = nil
}

// Close releases and destructs the socket.
func (sk *Sock) Close(e *Env) {
	sk.Release()
	sk.Destruct(e)
}

// SkClone models bpf_sk_storage_clone(sk, newsk) as sk_clone_lock() calls
// it for a new child socket: the child starts without storage; for every
// parent element (newest first) of a BPF_F_CLONE map a new element is
// allocated and charged to the child, the value deep-copied
// (copy_map_value[_locked]); the first copy allocates the child's storage
// (bpf_local_storage_alloc), later ones are linked at its head (so the
// child's order is reversed). The child's cache starts cold. On -ENOMEM
// nothing is freed here: sk_clone_lock() frees the half-built child
// (sk_free_unlock_clone -> bpf_sk_storage_free), which SkClone's callers do
// through Destruct; PassiveOpen does it for them.
//
// The child must be a new socket: cloning into a socket that has storage
// panics (sk_clone_lock's newsk is a fresh copy of the parent).
func (e *Env) SkClone(parent, child *Sock) error {
	if child.storage != nil {
		panic("localstorage: bpf_sk_storage_clone into a socket that has storage")
	}
	if err := e.cloneElems(parent.storage, child, OwnerSock, cloneFlagSet, siteCloneElem); err != nil {
		return fmt.Errorf("bpf_sk_storage_clone: %w", err)
	}
	return nil
}

func cloneFlagSet(m *Map) bool { return m.spec.Flags&FlagClone != 0 }

// cloneElems copies the elements of src whose map passes keep into dst's
// (empty) storage, as bpf_sk_storage_clone() does: skip maps being freed
// (bpf_map_inc_not_zero), bpf_selem_alloc() charged to dst, value copy,
// bpf_local_storage_alloc() for the first copy (on failure the copy is
// freed and uncharged), bpf_selem_link_map() + bpf_selem_link_storage_nolock()
// for later ones. A failure leaves what was built in place for the caller to
// destroy.
func (e *Env) cloneElems(src *Storage, dst owner, kind OwnerType, keep func(*Map) bool, site kmem.Site) error {
	if src == nil || src.head == nil {
		return nil
	}
	var ns *Storage
	for el := src.head; el != nil; el = el.snext {
		e.acct.Op(cost.OpListWalk, 1)
		m := el.smap
		if !keep(m) || m.freed {
			continue
		}
		cp, err := e.selemAlloc(m, dst, nil, ns == nil, site)
		if err != nil {
			return err
		}
		if m.spinLock {
			m.copyMapValueLocked(cp.data, el.data)
		} else {
			m.copyMapValue(cp.data, el.data)
		}
		if ns == nil {
			if err := e.storageAlloc(dst, kind, m, cp); err != nil {
				e.selemFree(cp, true)
				dst.uncharge(m.elemSize)
				return err
			}
			ns = dst.storagePtr()
			continue
		}
		e.acct.Op(cost.OpLock, 1) // b->lock in bpf_selem_link_map
		e.linkMap(m, ns, cp)
		e.linkStorage(ns, cp)
	}
	return nil
}
