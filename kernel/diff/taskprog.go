package diff

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/skbsim/skbsim/internal/errno"
	"github.com/skbsim/skbsim/localstorage"
)

// TaskTarget names a task of the program-side task storage suite.
type TaskTarget uint8

// Task targets. The kernel side uses this process's leader thread, a child
// process ("sleep") started for the case, and the pid and pidfd of that
// child after TaskReap killed and reaped it.
const (
	TaskSelf TaskTarget = iota
	TaskChild
	nTaskTargets
)

func (t TaskTarget) String() string { return [...]string{"self", "child"}[t] }

// TaskOp is what a TaskStep does.
type TaskOp uint8

// Task step operations.
const (
	TaskProgGet    TaskOp = iota // the program's bpf_task_storage_get(Flags), write on success
	TaskProgDelete               // the program's bpf_task_storage_delete
	TaskSysUpdate                // BPF_MAP_UPDATE_ELEM on the pidfd (Flags, value Val)
	TaskSysDelete                // BPF_MAP_DELETE_ELEM on the pidfd
	TaskSetInit                  // set the value the program passes as init (Val)
	TaskReap                     // kill and reap the child (release_task(); Target ignored)
)

// TaskVal mirrors struct tval of kernel/bpf/taskstorage.c.
type TaskVal struct{ Count, Last uint64 }

// taskValueSize is sizeof(struct tval).
const taskValueSize = 16

func (v TaskVal) bytes() []byte {
	b := make([]byte, taskValueSize)
	binary.LittleEndian.PutUint64(b, v.Count)
	binary.LittleEndian.PutUint64(b[8:], v.Last)
	return b
}

func taskValOf(b []byte) TaskVal {
	return TaskVal{binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[8:])}
}

// TaskStep is one step of a task storage case.
type TaskStep struct {
	Op     TaskOp
	Target TaskTarget
	Flags  uint64 // get flags (passed unchecked) or update flags
	Init   bool   // get: pass the init value
	Arg    uint64 // get: written to Last
	Val    TaskVal
}

func (s TaskStep) String() string {
	switch s.Op {
	case TaskProgGet:
		init := ""
		if s.Init {
			init = " init"
		}
		return fmt.Sprintf("prog get %s flags=%d%s arg=%d", s.Target, s.Flags, init, s.Arg)
	case TaskProgDelete:
		return "prog delete " + s.Target.String()
	case TaskSysUpdate:
		return fmt.Sprintf("sys update %s flags=%d %+v", s.Target, s.Flags, s.Val)
	case TaskSysDelete:
		return "sys delete " + s.Target.String()
	case TaskSetInit:
		return fmt.Sprintf("set init %+v", s.Val)
	case TaskReap:
		return "reap child"
	}
	return fmt.Sprintf("op %d", s.Op)
}

// TaskOutcome is what a step returned: for program steps, whether
// bpf_task_from_pid() found the task, whether the get returned an element
// and the element after the program's write; the errno of a delete or a
// syscall.
type TaskOutcome struct {
	TaskFound, Got bool
	Value          TaskVal
	Errno          errno.Errno
}

// taskLookup is a syscall-side lookup of one target.
type taskLookup struct {
	Errno errno.Errno
	Value TaskVal
}

// taskBackend runs task storage cases.
type taskBackend interface {
	begin() error
	step(TaskStep) (TaskOutcome, error)
	lookup(TaskTarget) (taskLookup, error)
	end() error
}

// taskModel runs the program of kernel/bpf/taskstorage.c on the model's
// task owner: run() is restated over Map.TaskStorageGet/TaskStorageDelete,
// and the syscall side goes through pidfds in an FDTable.
type taskModel struct {
	env   *localstorage.Env
	m     *localstorage.Map
	files *localstorage.FDTable
	tasks [nTaskTargets]*localstorage.Task
	fds   [nTaskTargets]int32
	// reaped: the child's pid no longer resolves; this stands for
	// bpf_task_from_pid() (find_task_by_pid_ns() fails after
	// release_task()), which the model does not have.
	reaped bool
	init   TaskVal
}

func (p *taskModel) begin() error {
	p.env = localstorage.NewEnv(localstorage.Config{Profile: localstorage.ProfileV6_18})
	var err error
	if p.m, err = p.env.CreateMap(localstorage.Spec(localstorage.MapTypeTaskStorage, taskValueSize, 0)); err != nil {
		return err
	}
	p.files = localstorage.NewFDTable()
	for t := range nTaskTargets {
		p.tasks[t] = localstorage.NewTask(int(t) + 1)
		p.fds[t] = p.files.Install(&localstorage.PidFD{Task: p.tasks[t]})
	}
	p.reaped, p.init = false, TaskVal{}
	return nil
}

func (p *taskModel) step(s TaskStep) (TaskOutcome, error) {
	t := p.tasks[s.Target]
	fd := p.fds[s.Target]
	switch s.Op {
	case TaskProgGet, TaskProgDelete:
		if s.Target == TaskChild && p.reaped {
			return TaskOutcome{}, nil // bpf_task_from_pid() == NULL
		}
		o := TaskOutcome{TaskFound: true}
		if s.Op == TaskProgDelete {
			o.Errno = errno.Of(p.m.TaskStorageDelete(t))
			return o, nil
		}
		var init []byte
		if s.Init {
			init = p.init.bytes()
		}
		v, _ := p.m.TaskStorageGet(t, init, s.Flags)
		if v == nil {
			return o, nil
		}
		// taskstorage.c's write: count++, last = arg.
		binary.LittleEndian.PutUint64(v, binary.LittleEndian.Uint64(v)+1)
		binary.LittleEndian.PutUint64(v[8:], s.Arg)
		o.Got, o.Value = true, taskValOf(v)
		return o, nil
	case TaskSysUpdate:
		return TaskOutcome{Errno: errno.Of(p.m.UpdateElem(p.files, fd, s.Val.bytes(), s.Flags))}, nil
	case TaskSysDelete:
		return TaskOutcome{Errno: errno.Of(p.m.DeleteElem(p.files, fd))}, nil
	case TaskSetInit:
		p.init = s.Val
		return TaskOutcome{}, nil
	case TaskReap:
		// models release_task(): the pidfd no longer resolves.
		p.tasks[TaskChild].Exit()
		p.reaped = true
		return TaskOutcome{}, nil
	}
	return TaskOutcome{}, fmt.Errorf("unknown task op %d", s.Op)
}

func (p *taskModel) lookup(t TaskTarget) (taskLookup, error) {
	out := make([]byte, taskValueSize)
	if err := p.m.LookupElem(p.files, p.fds[t], out, 0); err != nil {
		return taskLookup{Errno: errno.Of(err)}, nil
	}
	return taskLookup{Value: taskValOf(out)}, nil
}

func (p *taskModel) end() error {
	p.env.Close()
	return nil
}

// TaskCase is a named task storage case.
type TaskCase struct {
	Name  string
	Steps []TaskStep
}

func progGet(t TaskTarget, flags uint64, arg uint64) TaskStep {
	return TaskStep{Op: TaskProgGet, Target: t, Flags: flags, Arg: arg}
}

// taskCases are the cases of the storage-task-prog suite.
func taskCases() []TaskCase {
	const create = localstorage.GetCreate
	initGet := func(t TaskTarget, arg uint64) TaskStep {
		s := progGet(t, create, arg)
		s.Init = true
		return s
	}
	return []TaskCase{
		{"get-create-lookup", []TaskStep{
			progGet(TaskSelf, 0, 1), progGet(TaskSelf, create, 2), progGet(TaskSelf, 0, 3), progGet(TaskChild, 0, 4),
		}},
		{"init-value", []TaskStep{
			{Op: TaskSetInit, Val: TaskVal{100, 100}}, initGet(TaskChild, 1), initGet(TaskChild, 2),
			{Op: TaskSetInit, Val: TaskVal{7, 7}}, initGet(TaskSelf, 3),
		}},
		{"bad-flags", []TaskStep{
			progGet(TaskSelf, 2, 1), progGet(TaskSelf, create|2, 2), progGet(TaskSelf, create, 3),
			progGet(TaskSelf, 2, 4), progGet(TaskSelf, ^uint64(0), 5),
		}},
		{"delete", []TaskStep{
			progGet(TaskSelf, create, 1), {Op: TaskProgDelete, Target: TaskSelf}, {Op: TaskProgDelete, Target: TaskSelf},
			{Op: TaskSysDelete, Target: TaskSelf}, progGet(TaskSelf, 0, 2), progGet(TaskSelf, create, 3),
			{Op: TaskSysDelete, Target: TaskSelf}, {Op: TaskProgDelete, Target: TaskSelf},
		}},
		{"syscall-to-prog", []TaskStep{
			{Op: TaskSysUpdate, Target: TaskChild, Flags: 1, Val: TaskVal{40, 1}}, progGet(TaskChild, 0, 2),
			{Op: TaskSysUpdate, Target: TaskChild, Flags: 1, Val: TaskVal{9, 9}},
			{Op: TaskSysUpdate, Target: TaskChild, Flags: 2, Val: TaskVal{7, 7}}, progGet(TaskChild, create, 3),
			{Op: TaskSysDelete, Target: TaskChild}, progGet(TaskChild, 0, 4),
			{Op: TaskSysUpdate, Target: TaskChild, Flags: 2, Val: TaskVal{1, 1}},
		}},
		{"two-tasks", []TaskStep{
			progGet(TaskSelf, create, 1), progGet(TaskChild, create, 2), {Op: TaskProgDelete, Target: TaskSelf},
			progGet(TaskChild, 0, 3), progGet(TaskSelf, 0, 4),
		}},
		{"reaped", []TaskStep{
			progGet(TaskChild, create, 1), progGet(TaskSelf, create, 2), {Op: TaskReap},
			progGet(TaskChild, create, 3), {Op: TaskProgDelete, Target: TaskChild},
			{Op: TaskSysUpdate, Target: TaskChild, Val: TaskVal{1, 1}}, {Op: TaskSysDelete, Target: TaskChild},
			progGet(TaskSelf, 0, 4),
		}},
	}
}

// runTaskCase runs one case on both backends and describes the first
// step where they disagree ("" when they agree throughout): the step's
// outcome, then a syscall lookup of every task.
func runTaskCase(model, kern taskBackend, c TaskCase) (detail string, err error) {
	if err := model.begin(); err != nil {
		return "", fmt.Errorf("model: %w", err)
	}
	defer func() {
		if e := model.end(); e != nil && err == nil {
			err = fmt.Errorf("model: %w", e)
		}
	}()
	if err := kern.begin(); err != nil {
		// end releases what begin created before it failed.
		return "", errors.Join(fmt.Errorf("kernel: %w", err), kern.end())
	}
	defer func() {
		if e := kern.end(); e != nil && err == nil {
			err = fmt.Errorf("kernel: %w", e)
		}
	}()
	for i, s := range c.Steps {
		mo, err := model.step(s)
		if err != nil {
			return "", fmt.Errorf("model: %s: %w", s, err)
		}
		ko, err := kern.step(s)
		if err != nil {
			return "", fmt.Errorf("kernel: %s: %w", s, err)
		}
		var d []string
		if mo != ko {
			d = append(d, fmt.Sprintf("outcome: model %+v, kernel %+v", mo, ko))
		}
		for t := range nTaskTargets {
			ml, err := model.lookup(t)
			if err != nil {
				return "", fmt.Errorf("model: lookup %s: %w", t, err)
			}
			kl, err := kern.lookup(t)
			if err != nil {
				return "", fmt.Errorf("kernel: lookup %s: %w", t, err)
			}
			if ml != kl {
				d = append(d, fmt.Sprintf("lookup %s: model %+v, kernel %+v", t, ml, kl))
			}
		}
		if len(d) > 0 {
			return fmt.Sprintf("step %d (%s): %s", i, s, strings.Join(d, "; ")), nil
		}
	}
	return "", nil
}

// runTaskCases runs every case of cs.
func runTaskCases(model, kern taskBackend, cs []TaskCase) []caseOutcome {
	out := make([]caseOutcome, 0, len(cs))
	for _, c := range cs {
		d, err := runTaskCase(model, kern, c)
		out = append(out, caseOutcome{Name: c.Name, Detail: d, Err: err})
	}
	return out
}
