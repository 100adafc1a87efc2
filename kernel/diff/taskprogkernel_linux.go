package diff

import (
	"errors"
	"fmt"
	"os"
	"os/exec"

	"github.com/skbsim/skbsim/internal/errno"
	"github.com/skbsim/skbsim/kernel"
)

// taskKernel runs task storage cases on the kernel: a fresh
// kernel.TaskProgStorage (program and map) and a fresh child process per
// case; the tasks are this process's leader and the child, addressed by
// pid on the program side and by pidfd on the syscall side.
type taskKernel struct {
	p      *kernel.TaskProgStorage
	child  *exec.Cmd
	pids   [nTaskTargets]int
	fds    [nTaskTargets]kernel.Pidfd
	reaped bool
}

func (k *taskKernel) begin() (err error) {
	k.fds = [nTaskTargets]kernel.Pidfd{{FD: -1}, {FD: -1}}
	k.reaped = false
	if k.p, err = kernel.LoadTaskProgStorage(); err != nil {
		return err
	}
	k.child = exec.Command("sleep", "3600")
	if err := k.child.Start(); err != nil {
		k.child = nil
		return fmt.Errorf("start child: %w", err)
	}
	k.pids = [nTaskTargets]int{os.Getpid(), k.child.Process.Pid}
	for t, pid := range k.pids {
		if k.fds[t], err = kernel.OpenPidfd(pid); err != nil {
			return fmt.Errorf("%s: %w", TaskTarget(t), err)
		}
	}
	return nil
}

// errnoOf returns the errno of an element command; an error without one
// is a harness failure.
func errnoOf(err error) (errno.Errno, error) {
	if err != nil && errno.Of(err) == 0 {
		return 0, err
	}
	return errno.Of(err), nil
}

func (k *taskKernel) step(s TaskStep) (TaskOutcome, error) {
	pid, fd := k.pids[s.Target], k.fds[s.Target].FD
	switch s.Op {
	case TaskProgGet:
		r, err := k.p.Get(kernel.TaskGet{Pid: pid, Flags: s.Flags, Init: s.Init, Arg: s.Arg})
		if err != nil {
			return TaskOutcome{}, err
		}
		return TaskOutcome{TaskFound: r.TaskFound, Got: r.Got, Value: TaskVal(r.Value)}, nil
	case TaskProgDelete:
		r, err := k.p.Delete(pid)
		if err != nil {
			return TaskOutcome{}, err
		}
		return TaskOutcome{TaskFound: r.TaskFound, Errno: errno.Of(r.Err)}, nil
	case TaskSysUpdate:
		e, err := errnoOf(k.p.Update(fd, kernel.TaskValue(s.Val), s.Flags))
		return TaskOutcome{Errno: e}, err
	case TaskSysDelete:
		e, err := errnoOf(k.p.DeleteElem(fd))
		return TaskOutcome{Errno: e}, err
	case TaskSetInit:
		return TaskOutcome{}, k.p.SetInit(kernel.TaskValue(s.Val))
	case TaskReap:
		if !k.reaped {
			k.reaped = true
			if err := k.child.Process.Kill(); err != nil {
				return TaskOutcome{}, fmt.Errorf("kill child: %w", err)
			}
			_ = k.child.Wait() // "signal: killed"
		}
		return TaskOutcome{}, nil
	}
	return TaskOutcome{}, fmt.Errorf("unknown task op %d", s.Op)
}

func (k *taskKernel) lookup(t TaskTarget) (taskLookup, error) {
	v, err := k.p.Lookup(k.fds[t].FD)
	e, err := errnoOf(err)
	if err != nil || e != 0 {
		return taskLookup{Errno: e}, err
	}
	return taskLookup{Value: TaskVal(v)}, nil
}

func (k *taskKernel) end() error {
	var errs []error
	for t := range k.fds {
		errs = append(errs, k.fds[t].Close())
	}
	if k.child != nil && !k.reaped {
		_ = k.child.Process.Kill()
		_ = k.child.Wait()
	}
	k.child = nil
	if k.p != nil {
		errs = append(errs, k.p.Close())
		k.p = nil
	}
	return errors.Join(errs...)
}

// taskProgSuite runs the storage-task-prog cases.
func (r *runner) taskProgSuite() SuiteResult {
	cs := taskCases()
	res := classify(SuiteTaskProg, runTaskCases(&taskModel{}, &taskKernel{}, cs), knownDivergences)
	for _, c := range cs {
		res.Steps += len(c.Steps)
	}
	return res
}
