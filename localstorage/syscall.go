package localstorage

import "fmt"

// FileTable resolves the file descriptors that local storage maps use as
// keys. File returns the object an open fd refers to (ok=false when fd is
// not open): a *Sock for a socket, a *PidFD for a pidfd, any other value for
// other files.
type FileTable interface {
	File(fd int32) (obj any, ok bool)
}

// PidFD is an open pidfd (pidfd_open()).
type PidFD struct{ Task *Task }

// OtherFile is an open file that is neither a socket nor a pidfd (a pipe, a
// regular file).
type OtherFile struct{ Name string }

// FDTable is a simple FileTable: a process's descriptor table.
type FDTable struct {
	files map[int32]any
	next  int32
}

// NewFDTable returns an empty table; the first fd handed out is 3.
func NewFDTable() *FDTable { return &FDTable{files: map[int32]any{}, next: 3} }

// Install opens obj on the lowest free descriptor from 3 and returns it.
func (t *FDTable) Install(obj any) int32 {
	fd := t.next
	for {
		if _, used := t.files[fd]; !used {
			break
		}
		fd++
	}
	t.files[fd] = obj
	return fd
}

// Dup models dup(fd): a new descriptor for the same object.
func (t *FDTable) Dup(fd int32) (int32, bool) {
	obj, ok := t.files[fd]
	if !ok {
		return -1, false
	}
	return t.Install(obj), true
}

// Close closes fd; it reports whether fd was open.
func (t *FDTable) Close(fd int32) bool {
	_, ok := t.files[fd]
	delete(t.files, fd)
	return ok
}

// File implements FileTable.
func (t *FDTable) File(fd int32) (any, bool) {
	obj, ok := t.files[fd]
	return obj, ok
}

// resolveFD maps the key fd to the map's owner: sockfd_lookup() for sk
// storage (-EBADF when not open, -ENOTSOCK when not a socket),
// pidfd_get_pid() + pid_task() for task storage (-EBADF when not open or
// not a pidfd, -ENOENT when the task is gone).
func (m *Map) resolveFD(files FileTable, fd int32) (owner, error) {
	obj, ok := files.File(fd)
	switch m.owner {
	case OwnerSock:
		if !ok {
			return nil, ErrBadFD
		}
		sk, isSock := obj.(*Sock)
		if !isSock || sk == nil {
			return nil, ErrNotSock
		}
		return sk, nil
	case OwnerTask:
		if !ok {
			return nil, ErrBadFD
		}
		p, isPid := obj.(*PidFD)
		if !isPid || p == nil || p.Task == nil {
			return nil, ErrBadFD
		}
		if p.Task.exited {
			return nil, ErrNotFound
		}
		return p.Task, nil
	}
	return nil, ErrNotSupported
}

// LookupElem models BPF_MAP_LOOKUP_ELEM with the fd key: flags other than
// BPF_F_LOCK, or BPF_F_LOCK on a value without a bpf_spin_lock, are
// -EINVAL (map_lookup_elem()); then the owner's element is looked up with
// caching (bpf_fd_sk_storage_lookup_elem() / bpf_pid_task_storage_lookup_elem())
// and copied out (copy_map_value[_locked], special fields zeroed by
// check_and_init_map_value()). skb storage maps return -EOPNOTSUPP.
func (m *Map) LookupElem(files FileTable, fd int32, out []byte, flags uint64) error {
	m.mustLive()
	if flags&^UpdateLock != 0 || (flags&UpdateLock != 0 && !m.spinLock) {
		return fmt.Errorf("map_lookup_elem: flags %#x: %w", flags, ErrInvalid)
	}
	if m.owner == OwnerSkb {
		return fmt.Errorf("map_lookup_elem: %w", ErrNotSupported)
	}
	o, err := m.resolveFD(files, fd)
	if err != nil {
		return fmt.Errorf("map_lookup_elem: fd %d: %w", fd, err)
	}
	el := lookupOwner(o, m, true)
	if el == nil {
		return fmt.Errorf("map_lookup_elem: fd %d: %w", fd, ErrNotFound)
	}
	if len(out) < m.spec.ValueSize {
		return fmt.Errorf("map_lookup_elem: %w", ErrFault)
	}
	if flags&UpdateLock != 0 {
		m.copyMapValueLocked(out, el.data)
	} else {
		m.copyMapValue(out, el.data)
	}
	if m.spinLock {
		clear(out[m.lockOff : m.lockOff+spinLockSize])
	}
	return nil
}

// UpdateElem models BPF_MAP_UPDATE_ELEM with the fd key: BPF_F_LOCK on a
// value without a bpf_spin_lock is -EINVAL (map_update_elem()), then the fd
// is resolved and bpf_local_storage_update() runs with the flags
// (ANY/NOEXIST/EXIST, optionally F_LOCK) and GFP_ATOMIC. skb storage maps
// return -EOPNOTSUPP.
func (m *Map) UpdateElem(files FileTable, fd int32, value []byte, flags uint64) error {
	m.mustLive()
	if flags&UpdateLock != 0 && !m.spinLock {
		return fmt.Errorf("map_update_elem: BPF_F_LOCK without bpf_spin_lock: %w", ErrInvalid)
	}
	if len(value) < m.spec.ValueSize {
		return fmt.Errorf("map_update_elem: %w", ErrFault)
	}
	if m.owner == OwnerSkb {
		return fmt.Errorf("map_update_elem: %w", ErrNotSupported)
	}
	o, err := m.resolveFD(files, fd)
	if err != nil {
		return fmt.Errorf("map_update_elem: fd %d: %w", fd, err)
	}
	if _, err := m.env.update(o, m.owner, m, value[:m.spec.ValueSize], flags, false); err != nil {
		return fmt.Errorf("map_update_elem: fd %d flags %#x: %w", fd, flags, err)
	}
	return nil
}

// DeleteElem models BPF_MAP_DELETE_ELEM with the fd key: -ENOENT when the
// owner has no element. skb storage maps return -EOPNOTSUPP.
func (m *Map) DeleteElem(files FileTable, fd int32) error {
	m.mustLive()
	if m.owner == OwnerSkb {
		return fmt.Errorf("map_delete_elem: %w", ErrNotSupported)
	}
	o, err := m.resolveFD(files, fd)
	if err != nil {
		return fmt.Errorf("map_delete_elem: fd %d: %w", fd, err)
	}
	if err := m.env.deleteOwner(o, m); err != nil {
		return fmt.Errorf("map_delete_elem: fd %d: %w", fd, err)
	}
	return nil
}

// GetNextKey models BPF_MAP_GET_NEXT_KEY: -ENOTSUPP (524) from
// notsupp_get_next_key() for sk and task maps; the RFC's skb map returns
// -EOPNOTSUPP.
func (m *Map) GetNextKey() error {
	m.mustLive()
	if m.owner == OwnerSkb {
		return fmt.Errorf("map_get_next_key: %w", ErrNotSupported)
	}
	return fmt.Errorf("map_get_next_key: %w", ErrNextKey)
}

// LookupAndDeleteElem models BPF_MAP_LOOKUP_AND_DELETE_ELEM, which
// map_lookup_and_delete_elem() only implements for queue, stack and hash
// maps: -ENOTSUPP (524) here.
func (m *Map) LookupAndDeleteElem() error {
	m.mustLive()
	return fmt.Errorf("map_lookup_and_delete_elem: %w", ErrNextKey)
}
