package carrier

import (
	"fmt"
	"sort"
	"sync"

	"github.com/skbsim/skbsim/internal/errno"
	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/skb"
)

// Hook is the program attach point a carrier operation comes from. Designs
// differ in where they may be used: BPF local storage kfuncs are registered
// for skb program types only (and for sockops and LSM programs, which get
// the skb as kctx->skb or as a trusted hook argument), the XDP metadata
// area is writable from XDP and readable from tc.
type Hook uint8

// Hooks, in the order a received packet meets them.
const (
	HookXDP           Hook = iota // XDP (native or generic); the skb is not built yet for native XDP
	HookTCIngress                 // tcx / cls_bpf ingress (SCHED_CLS)
	HookTCEgress                  // tcx / cls_bpf egress (SCHED_CLS)
	HookCgroupIngress             // cgroup_skb/ingress
	HookCgroupEgress              // cgroup_skb/egress
	HookSocketFilter              // SO_ATTACH_BPF socket filter
	HookSockOps                   // sockops with the skb (bpf_sock_ops_skb)
	HookTracepoint                // tp_btf on skb tracepoints (kfree_skb, consume_skb)
	HookLSM                       // BPF LSM (lsm/inet_conn_established, lsm/inet_conn_request) with the skb argument
	HookNetkitPrimary             // netkit BPF_NETKIT_PRIMARY (SCHED_CLS): run when the primary device transmits
	HookNetkitPeer                // netkit BPF_NETKIT_PEER (SCHED_CLS): run when the peer device transmits
	NumHooks                      // number of hooks; not a hook
)

var hookNames = [NumHooks]string{
	HookXDP: "xdp", HookTCIngress: "tc_ingress", HookTCEgress: "tc_egress",
	HookCgroupIngress: "cgroup_ingress", HookCgroupEgress: "cgroup_egress",
	HookSocketFilter: "socket_filter", HookSockOps: "sockops", HookTracepoint: "tracepoint",
	HookLSM: "lsm", HookNetkitPrimary: "netkit_primary", HookNetkitPeer: "netkit_peer",
}

// SchedCLS reports whether programs at h are BPF_PROG_TYPE_SCHED_CLS: tc
// ingress and egress (tcx or cls_bpf), and netkit's primary and peer
// programs, which bpf_prog_attach_check_attach_type and
// attach_type_to_prog_type give the same program type
// (BPF_NETKIT_PRIMARY, BPF_NETKIT_PEER). They share tc_cls_act_func_proto's
// helpers and kfuncs, __sk_buff->data_meta, and the direct-write prologue
// (bpf_unclone_prologue).
func (h Hook) SchedCLS() bool {
	return h == HookTCIngress || h == HookTCEgress || h == HookNetkitPrimary || h == HookNetkitPeer
}

// Netkit reports whether h is one of netkit's attach points.
func (h Hook) Netkit() bool { return h == HookNetkitPrimary || h == HookNetkitPeer }

func (h Hook) String() string {
	if h < NumHooks {
		return hookNames[h]
	}
	return fmt.Sprintf("hook%d", uint8(h))
}

// ParseHook returns the hook named s, as printed by Hook.String.
func ParseHook(s string) (Hook, bool) {
	for i, n := range hookNames {
		if n == s {
			return Hook(i), true
		}
	}
	return 0, false
}

// Flags are per-map options. Which ones a design accepts is the design's
// business: a design refuses flags it does not implement with ErrBadFlags.
type Flags uint32

// Map flags. FlagClone is BPF_F_CLONE's meaning carried over to skbs; the
// Keep flags are the skb local storage RFC's future work ("other flags could
// allow map contents to survive sk_buff scrubbing during encapsulation/
// decapsulation or pass across network namespace boundaries"), which the RFC
// as posted does not have.
const (
	// FlagClone copies the map's value to a clone (skb_clone) and to copies.
	FlagClone Flags = 1 << iota
	// FlagKeepScrub keeps the value across skb_scrub_packet within a
	// namespace (tunnel encap/decap, bpf_redirect_peer).
	FlagKeepScrub
	// FlagKeepNetns keeps the value across skb_scrub_packet with xnet=true
	// (veth or tunnel into another namespace). It implies FlagKeepScrub.
	FlagKeepNetns
)

// MapSpec declares one metadata map (or slot) of a design.
type MapSpec struct {
	Name      string
	ValueSize int
	Flags     Flags
}

// Env is what a carrier gets from its shard. The carrier installs its skb
// hooks on Alloc (if it needs any) when it is built.
type Env struct {
	Alloc *skb.Allocator
	Acct  *kmem.Accountant
}

// Options tune a design; zero values pick the design's default.
type Options struct {
	// CacheSize is the local storage cache size (BPF_LOCAL_STORAGE_CACHE_SIZE,
	// 16 in the kernel) for the rfc designs.
	CacheSize int
	// Capacity bounds hash and LRU designs (max_entries); 0 picks a default.
	Capacity int
	// BufferSize is the ext-buffer design's fixed buffer size in bytes.
	BufferSize int
	// PreallocPool is the per-CPU pool size of rfc-prealloc.
	PreallocPool int
	// Seed makes any randomised choice (hash seeds, LRU lists) reproducible.
	Seed uint64
	// PossibleCPUs is num_possible_cpus() for per-CPU allocations (the
	// skb-hash-lru values); 0 means 2, the lab machines.
	PossibleCPUs int
	// DisableReaper leaves the skb-hash designs without their
	// kfree_skb/consume_skb tracepoint program, so entries of freed skbs
	// stay in the map and a later skb that reuses the same sk_buff object
	// sees them.
	DisableReaper bool
	// ReaperMissEvery makes the skb-hash reaper miss every Nth skb free
	// (a dropped or detached tracepoint event); 0 misses none.
	ReaperMissEvery int
	// HashPrealloc makes skb-hash a preallocated BPF_MAP_TYPE_HASH (no
	// BPF_F_NO_PREALLOC): no allocation per packet, all elements at map
	// creation.
	HashPrealloc bool
	// XDPMetaReach says which hooks can read the xdp-meta design's area
	// besides XDP and tc, which reach it through their context
	// (xdp->data_meta, __sk_buff->data_meta). The RFC leaves it open;
	// XDPMetaReachBTF ("", the default), XDPMetaReachCtx or
	// XDPMetaReachKernCtx.
	XDPMetaReach string
}

// Values of Options.XDPMetaReach.
const (
	// XDPMetaReachCtx: only the hooks whose context has data_meta (XDP and
	// tc; bpf_dynptr_from_skb_meta is registered for tc only).
	XDPMetaReachCtx = "ctx"
	// XDPMetaReachBTF: also the hooks that get the skb as a BTF pointer
	// (tp_btf tracepoints and BPF LSM) and read skb->head + data -
	// meta_len with bpf_probe_read_kernel. The default.
	XDPMetaReachBTF = "btf"
	// XDPMetaReachKernCtx: also the hooks that can reach the skb with
	// bpf_cast_to_kern_ctx (cgroup_skb, socket filters, and sockops
	// through bpf_sock_ops_kern->skb), read the same way.
	XDPMetaReachKernCtx = "kern-ctx"
)

// Errors common to designs. Each matches the errno a BPF program would see.
var (
	ErrNotFound     = errno.New("carrier: no value for this packet", errno.ENOENT)
	ErrRefused      = errno.New("carrier: access refused while the storage is shared with a clone", errno.EOPNOTSUPP)
	ErrHookDenied   = errno.New("carrier: design not usable from this hook", errno.EACCES)
	ErrBadFlags     = errno.New("carrier: map flags not supported by this design", errno.EINVAL)
	ErrBadValueSize = errno.New("carrier: value size not supported by this design", errno.E2BIG)
	ErrNoSpace      = errno.New("carrier: no room for the value", errno.ENOSPC)
	ErrUnknown      = errno.New("carrier: unknown design", errno.EINVAL)
	// ErrMapFull is htab's -E2BIG when a map without preallocation already
	// holds max_entries elements (alloc_htab_elem).
	ErrMapFull = errno.New("carrier: map is full", errno.E2BIG)
	// ErrOutOfRange is bpf_dynptr_write's -E2BIG: the write does not fit
	// in the area the dynptr covers (an skb without XDP metadata, or with
	// less of it than the slot needs).
	ErrOutOfRange = errno.New("carrier: write outside the metadata area", errno.E2BIG)
	// ErrNoHeadroom is bpf_xdp_adjust_meta's -EINVAL: the metadata would
	// reach into the xdp_frame at the start of the headroom.
	ErrNoHeadroom = errno.New("carrier: not enough headroom for the metadata", errno.EINVAL)
)

// Carrier is one metadata design instantiated for one replay shard. It is
// not safe for concurrent use.
type Carrier interface {
	// Name is the design name the carrier was built under.
	Name() string
	// Lookup returns map m's value for the packet b, without creating it.
	// The slice is a view valid until the next call on the carrier.
	// Missing values give ErrNotFound; designs return their own errors
	// (matching kernel errnos) for refused access.
	// Lookup does NOT take ownership of b.
	Lookup(h Hook, b *skb.Buff, m int) ([]byte, error)
	// Store creates or replaces map m's value for b with val (len(val) ==
	// the map's value size). It may allocate (through the accountant) and
	// fail with an ENOMEM-matching error. Store does NOT take ownership of b.
	Store(h Hook, b *skb.Buff, m int, val []byte) error
	// Delete removes map m's value for b; ErrNotFound if there is none.
	Delete(h Hook, b *skb.Buff, m int) error
	// Close releases everything the carrier still holds (map free). After
	// Close, and after every skb is freed, the accountant has no live
	// objects from the carrier.
	Close() error
}

// Factory builds a design for one shard.
type Factory func(env Env, maps []MapSpec, opts Options) (Carrier, error)

var (
	regMu     sync.Mutex
	factories = map[string]Factory{}
)

// Register makes a design available under name. It panics on a duplicate
// name; call it from init.
func Register(name string, f Factory) {
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := factories[name]; dup {
		panic("carrier: design registered twice: " + name)
	}
	factories[name] = f
}

// New builds the design called name.
func New(name string, env Env, maps []MapSpec, opts Options) (Carrier, error) {
	regMu.Lock()
	f := factories[name]
	regMu.Unlock()
	if f == nil {
		return nil, fmt.Errorf("design %q (known: %v): %w", name, Names(), ErrUnknown)
	}
	return f(env, maps, opts)
}

// Names lists the registered designs, sorted.
func Names() []string {
	regMu.Lock()
	defer regMu.Unlock()
	n := make([]string, 0, len(factories))
	for k := range factories {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// GracePeriod ends an RCU grace period for c: objects it freed through
// call_rcu/kfree_rcu stop counting as live in its accountant and become
// reusable, and pools it refills off the hot path are refilled. The replay
// engine calls it between packets or batches.
func GracePeriod(c Carrier) {
	if g, ok := c.(interface{ GracePeriod() }); ok {
		g.GracePeriod()
	}
}
