package kernel

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/skbsim/skbsim/kernel/bpf"
)

// StorageMode is what the programs of ProgStorage do on each run.
type StorageMode uint32

// Storage modes (ctl_map[0].mode in skstorage.c).
const (
	ModeCreate StorageMode = 0 // bpf_sk_storage_get(F_CREATE) and count
	ModeLookup StorageMode = 1 // bpf_sk_storage_get(0) and count if present
	ModeDelete StorageMode = 2 // bpf_sk_storage_delete
)

// ProgID names one of ProgStorage's programs.
type ProgID uint32

// Programs of ProgStorage.
const (
	ProgEgress  ProgID = 0 // cgroup_skb/egress
	ProgIngress ProgID = 1 // cgroup_skb/ingress
	ProgSockops ProgID = 2 // sockops
)

// SkValue is the value the programs keep per socket.
type SkValue struct {
	EgressPkts, EgressBytes   uint64
	IngressPkts, IngressBytes uint64
	// SockopsMask has bit op set for every BPF_SOCK_OPS_* op the sockops
	// program ran with on this socket.
	SockopsMask uint64
}

// ProgStats counts helper results of one program.
type ProgStats struct {
	Runs, Got, Null, DelOK, DelErr uint64
	LastDelErr                     int64
}

// ProgStorage holds the program-side socket storage objects: an SK_STORAGE
// map (BPF_F_NO_PREALLOC, key int, value SkValue) used by cgroup_skb
// ingress/egress and sockops programs.
type ProgStorage struct {
	objs  bpf.SkStorageObjects
	links []link.Link
}

// LoadProgStorage loads the programs and maps.
func LoadProgStorage() (*ProgStorage, error) {
	p := &ProgStorage{}
	if err := bpf.LoadSkStorageObjects(&p.objs, nil); err != nil {
		return nil, wrap("load sk storage programs", err)
	}
	return p, nil
}

// Attach attaches the three programs to cg (cgroup BPF links).
func (p *ProgStorage) Attach(cg *Cgroup) error {
	for _, a := range []struct {
		prog *ebpf.Program
		typ  ebpf.AttachType
	}{
		{p.objs.SkEgress, ebpf.AttachCGroupInetEgress},
		{p.objs.SkIngress, ebpf.AttachCGroupInetIngress},
		{p.objs.SkSockops, ebpf.AttachCGroupSockOps},
	} {
		l, err := link.AttachCgroup(link.CgroupOptions{Path: cg.Path, Attach: a.typ, Program: a.prog})
		if err != nil {
			return wrap(fmt.Sprintf("attach %s", a.prog), err)
		}
		p.links = append(p.links, l)
	}
	return nil
}

// SetMode switches what the programs do.
func (p *ProgStorage) SetMode(m StorageMode) error {
	return wrap("set mode", p.objs.CtlMap.Put(uint32(0), bpf.SkStorageCtl{Mode: uint32(m)}))
}

// Value reads the socket's element through the syscall side (ENOENT when
// the socket has none).
func (p *ProgStorage) Value(fd int) (SkValue, error) {
	var v bpf.SkStorageSkval
	if err := p.objs.SkMap.Lookup(int32(fd), &v); err != nil {
		return SkValue{}, wrap("lookup", err)
	}
	return SkValue{v.EgressPkts, v.EgressBytes, v.IngressPkts, v.IngressBytes, v.SockopsMask}, nil
}

// Stats returns the helper result counters of one program.
func (p *ProgStorage) Stats(id ProgID) (ProgStats, error) {
	var s bpf.SkStoragePstat
	if err := p.objs.Stats.Lookup(uint32(id), &s); err != nil {
		return ProgStats{}, wrap("stats", err)
	}
	return ProgStats{s.Runs, s.Got, s.Null, s.DelOk, s.DelErr, s.LastErr}, nil
}

// ResetStats zeroes the counters.
func (p *ProgStorage) ResetStats() error {
	var errs []error
	for id := range uint32(3) {
		errs = append(errs, p.objs.Stats.Put(id, bpf.SkStoragePstat{}))
	}
	return wrap("reset stats", errors.Join(errs...))
}

// Close detaches the programs and releases the objects.
func (p *ProgStorage) Close() error {
	var errs []error
	for _, l := range p.links {
		errs = append(errs, l.Close())
	}
	p.links = nil
	errs = append(errs, p.objs.Close())
	return errors.Join(errs...)
}
