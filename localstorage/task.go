package localstorage

import "github.com/skbsim/skbsim/cost"

// Task is the part of struct task_struct that task local storage uses: the
// storage pointer (task->bpf_storage), whether its pid still resolves
// (pid_task() != NULL) and whether its usage count dropped to zero. Task
// storage is not charged to any per-owner limit.
type Task struct {
	storage *Storage
	// Pid labels the task.
	Pid    int
	exited bool
	freed  bool
}

// NewTask returns a live task.
func NewTask(pid int) *Task { return &Task{Pid: pid} }

// Storage returns task->bpf_storage (nil when none).
func (t *Task) Storage() *Storage { return t.storage }

// Exit models release_task(): the pid no longer resolves to the task, so
// pidfd-keyed syscalls return -ENOENT; the task struct and its storage
// live on until Free.
func (t *Task) Exit() { t.exited = true }

// Free models the last put of the task (__put_task_struct() ->
// bpf_task_storage_free() -> bpf_local_storage_destroy()): the storage is
// destroyed and the usage count is zero, so later helper calls cannot
// create storage. Freeing twice panics.
func (t *Task) Free(e *Env) {
	if t.freed {
		panic("localstorage: task freed twice")
	}
	t.exited = true
	t.freed = true
	if s := t.storage; s != nil {
		e.destroy(s)
		t.storage = nil
	}
}

func (t *Task) storagePtr() *Storage     { return t.storage }
func (t *Task) setStoragePtr(s *Storage) { t.storage = s }
func (t *Task) charge(int) error         { return nil }
func (t *Task) uncharge(int)             {}

// TaskStorageGet models the bpf_task_storage_get() helper: NULL (-EINVAL)
// for flags other than 0 and F_CREATE or a nil task; a lookup that caches;
// on a miss with F_CREATE and a task whose usage is not zero, an update
// with BPF_NOEXIST. See SkStorageGet for the return values.
func (m *Map) TaskStorageGet(t *Task, init []byte, flags uint64) ([]byte, error) {
	m.mustOwner(OwnerTask, "bpf_task_storage_get")
	m.env.acct.Op(cost.OpHelperCall, 1)
	if flags&^GetCreate != 0 || t == nil {
		return nil, ErrInvalid
	}
	m.checkInit(init)
	if el := lookupOwner(t, m, true); el != nil {
		return el.data, nil
	}
	// Only allocate new storage when the task is refcounted.
	if flags&GetCreate == 0 || t.freed {
		return nil, ErrNotFound
	}
	el, err := m.env.update(t, OwnerTask, m, init, UpdateNoExist, false)
	if err != nil {
		return nil, err
	}
	return el.data, nil
}

// TaskStorageDelete models the bpf_task_storage_delete() helper: -EINVAL
// for a nil task, -ENOENT when absent.
func (m *Map) TaskStorageDelete(t *Task) error {
	m.mustOwner(OwnerTask, "bpf_task_storage_delete")
	m.env.acct.Op(cost.OpHelperCall, 1)
	if t == nil {
		return ErrInvalid
	}
	return m.env.deleteOwner(t, m)
}
