package kernel

import (
	"encoding/binary"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/skbsim/skbsim/internal/errno"
	"github.com/skbsim/skbsim/kernel/bpf"
)

// TaskGetCreate is BPF_LOCAL_STORAGE_GET_F_CREATE, the only valid flag of
// bpf_task_storage_get().
const TaskGetCreate uint64 = 1

// TaskValueSize is sizeof(struct tval) of taskstorage.c: the value of
// TaskProgStorage's map.
const TaskValueSize = 16

// TaskValue is the value TaskProgStorage's program keeps per task.
type TaskValue struct {
	// Count is incremented by every get that returns an element.
	Count uint64
	// Last is the Arg of the last get that returned an element.
	Last uint64
}

// Bytes encodes the value as the map stores it (little endian, 16 bytes).
func (v TaskValue) Bytes() []byte {
	b := make([]byte, TaskValueSize)
	binary.LittleEndian.PutUint64(b, v.Count)
	binary.LittleEndian.PutUint64(b[8:], v.Last)
	return b
}

// TaskValueOf decodes a value encoded by Bytes (b must hold 16 bytes).
func TaskValueOf(b []byte) TaskValue {
	return TaskValue{binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[8:])}
}

// TaskGet is one bpf_task_storage_get() call of TaskProgStorage's program.
type TaskGet struct {
	// Pid selects the task: a pid or thread id in the initial pid
	// namespace (bpf_task_from_pid()), or 0 for the calling thread
	// (bpf_get_current_task_btf(); lock the goroutine to its thread with
	// runtime.LockOSThread for this to name a known task).
	Pid int
	// Flags are passed to the helper unchecked (TaskGetCreate, 0, or an
	// invalid value, for which the helper returns NULL).
	Flags uint64
	// Init passes the value set with SetInit as the helper's value
	// argument (the new element's initial value); otherwise NULL (zeroed).
	Init bool
	// Arg is written to TaskValue.Last of the element the helper returns.
	Arg uint64
}

// TaskResult is what one run of the program reports.
type TaskResult struct {
	// TaskFound is false when bpf_task_from_pid() found no task with the
	// pid (the program then called no helper).
	TaskFound bool
	// Got: the get returned an element (false: NULL).
	Got bool
	// Value is the element after the program's write (Count+1, Last=Arg),
	// when Got.
	Value TaskValue
	// Err is bpf_task_storage_delete()'s result as an errno (nil for 0).
	Err error
}

// TaskProgStorage is program-side task local storage: a TASK_STORAGE map
// (BPF_F_NO_PREALLOC, key int, value TaskValue) and one
// BPF_PROG_TYPE_SYSCALL program that calls bpf_task_storage_get() or
// bpf_task_storage_delete() on one task per run, run with
// BPF_PROG_TEST_RUN (SEC("syscall"), kernel/bpf/taskstorage.c). SYSCALL
// programs are the simplest type that may call the task storage helpers on
// 6.18 and can be run on demand; fentry and LSM programs do not load on the
// project's machines (kernel_lab §12). A SYSCALL program is sleepable: the
// helper allocates with GFP_KERNEL.
//
// The syscall side of the same map is keyed by pidfds (Lookup, Update,
// Delete). Not safe for concurrent use.
type TaskProgStorage struct {
	objs bpf.TaskStorageObjects
}

// LoadTaskProgStorage loads the program and its maps.
func LoadTaskProgStorage() (*TaskProgStorage, error) {
	p := &TaskProgStorage{}
	if err := bpf.LoadTaskStorageObjects(&p.objs, nil); err != nil {
		return nil, wrap("load task storage program", err)
	}
	return p, nil
}

// run runs the program once with args as its context.
func (p *TaskProgStorage) run(a bpf.TaskStorageTargs) (TaskResult, error) {
	var out bpf.TaskStorageTargs
	if _, err := p.objs.TaskStorage.Run(&ebpf.RunOptions{Context: a, ContextOut: &out}); err != nil {
		return TaskResult{}, err
	}
	r := TaskResult{TaskFound: out.TaskFound != 0, Got: out.Got != 0, Value: TaskValue{out.Val.Count, out.Val.Last}}
	if out.Ret < 0 {
		r.Err = errno.Errno(-out.Ret)
	}
	return r, nil
}

// Get runs bpf_task_storage_get() on the task g names and, if it returns
// an element, increments its Count and sets Last to g.Arg. The error is for
// a program that could not run; the helper's NULL is TaskResult.Got false.
func (p *TaskProgStorage) Get(g TaskGet) (TaskResult, error) {
	a := bpf.TaskStorageTargs{Op: 0, Flags: g.Flags, Pid: int32(g.Pid), Arg: g.Arg}
	if g.Init {
		a.UseInit = 1
	}
	r, err := p.run(a)
	return r, wrap("task storage get", err)
}

// Delete runs bpf_task_storage_delete() on the task with the pid (0: the
// calling thread); its result is TaskResult.Err.
func (p *TaskProgStorage) Delete(pid int) (TaskResult, error) {
	r, err := p.run(bpf.TaskStorageTargs{Op: 1, Pid: int32(pid)})
	return r, wrap("task storage delete", err)
}

// SetInit sets the value Get passes as the helper's initial value.
func (p *TaskProgStorage) SetInit(v TaskValue) error {
	return wrap("set init", p.objs.InitMap.Put(uint32(0), bpf.TaskStorageTval{Count: v.Count, Last: v.Last}))
}

// Lookup reads the task's element through the syscall side, keyed by a
// pidfd (ENOENT when the task has none or its pid no longer resolves).
func (p *TaskProgStorage) Lookup(pidfd int) (TaskValue, error) {
	var v bpf.TaskStorageTval
	if err := p.objs.TaskMap.Lookup(int32(pidfd), &v); err != nil {
		return TaskValue{}, wrap("lookup", err)
	}
	return TaskValue{v.Count, v.Last}, nil
}

// Update writes the task's element through the syscall side with flags
// (UpdateAny, UpdateNoExist, UpdateExist).
func (p *TaskProgStorage) Update(pidfd int, v TaskValue, flags uint64) error {
	return wrap("update", p.objs.TaskMap.Update(int32(pidfd), bpf.TaskStorageTval{Count: v.Count, Last: v.Last}, ebpf.MapUpdateFlags(flags)))
}

// DeleteElem removes the task's element through the syscall side.
func (p *TaskProgStorage) DeleteElem(pidfd int) error {
	return wrap("delete", p.objs.TaskMap.Delete(int32(pidfd)))
}

// Close releases the program and the maps.
func (p *TaskProgStorage) Close() error { return p.objs.Close() }

// Pidfd is a pidfd the caller owns (pidfd_open(2)), the key of task
// storage maps on the syscall side.
type Pidfd struct{ FD int }

// OpenPidfd opens a pidfd for the process pid (a thread-group leader).
func OpenPidfd(pid int) (Pidfd, error) {
	fd, err := unix.PidfdOpen(pid, 0) // pidfds are always close-on-exec
	if err != nil {
		return Pidfd{FD: -1}, wrap("pidfd_open", err)
	}
	return Pidfd{FD: fd}, nil
}

// Close closes the pidfd.
func (p *Pidfd) Close() error {
	if p.FD < 0 {
		return nil
	}
	err := unix.Close(p.FD)
	p.FD = -1
	return err
}

// Gettid returns the calling thread's id (lock the goroutine to its
// thread first).
func Gettid() int { return unix.Gettid() }
