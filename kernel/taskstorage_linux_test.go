package kernel

import (
	"os"
	"os/exec"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/internal/errno"
	"github.com/skbsim/skbsim/internal/testutil"
)

func taskProg(t *testing.T) *TaskProgStorage {
	t.Helper()
	p, err := LoadTaskProgStorage()
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, p.Close()) })
	return p
}

func openPidfd(t *testing.T, pid int) Pidfd {
	t.Helper()
	fd, err := OpenPidfd(pid)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, fd.Close()) })
	return fd
}

// TestKernelTaskProgStorage drives bpf_task_storage_get/delete from a
// SYSCALL program on this process's leader task and checks every result
// against the syscall side of the same map (pidfd keys).
func TestKernelTaskProgStorage(t *testing.T) {
	testutil.KernelTests(t)
	p := taskProg(t)
	pid := os.Getpid()
	self := openPidfd(t, pid)

	r, err := p.Get(TaskGet{Pid: pid})
	require.NoError(t, err)
	require.Equal(t, TaskResult{TaskFound: true}, r, "lookup-only get on a task without storage: NULL")
	_, err = p.Lookup(self.FD)
	require.ErrorIs(t, err, errno.ENOENT)

	r, err = p.Get(TaskGet{Pid: pid, Flags: TaskGetCreate, Arg: 7})
	require.NoError(t, err)
	require.Equal(t, TaskResult{TaskFound: true, Got: true, Value: TaskValue{1, 7}}, r, "F_CREATE: zeroed element, then the program's write")
	v, err := p.Lookup(self.FD)
	require.NoError(t, err)
	require.Equal(t, TaskValue{1, 7}, v, "syscall side sees the program's element")

	// Init is ignored for an existing element; invalid flags return NULL
	// even when the element exists.
	require.NoError(t, p.SetInit(TaskValue{100, 100}))
	r, err = p.Get(TaskGet{Pid: pid, Flags: TaskGetCreate, Init: true, Arg: 8})
	require.NoError(t, err)
	require.Equal(t, TaskValue{2, 8}, r.Value)
	r, err = p.Get(TaskGet{Pid: pid, Flags: 2, Arg: 9})
	require.NoError(t, err)
	require.Equal(t, TaskResult{TaskFound: true}, r, "flags other than F_CREATE: NULL")

	// The syscall side writes, the program reads.
	require.NoError(t, p.Update(self.FD, TaskValue{40, 1}, UpdateExist))
	r, err = p.Get(TaskGet{Pid: pid, Arg: 2})
	require.NoError(t, err)
	require.Equal(t, TaskValue{41, 2}, r.Value)

	r, err = p.Delete(pid)
	require.NoError(t, err)
	require.Equal(t, TaskResult{TaskFound: true}, r, "delete of an existing element: 0")
	r, err = p.Delete(pid)
	require.NoError(t, err)
	require.ErrorIs(t, r.Err, errno.ENOENT, "second delete")
	_, err = p.Lookup(self.FD)
	require.ErrorIs(t, err, errno.ENOENT)

	// A created element starts as a copy of the init value.
	r, err = p.Get(TaskGet{Pid: pid, Flags: TaskGetCreate, Init: true, Arg: 3})
	require.NoError(t, err)
	require.Equal(t, TaskValue{101, 3}, r.Value)
	require.NoError(t, p.DeleteElem(self.FD))
	require.ErrorIs(t, p.DeleteElem(self.FD), errno.ENOENT)
}

// TestKernelTaskProgStorageCurrent: pid 0 is the calling thread, which is
// a task of its own (storage is per thread, not per process).
func TestKernelTaskProgStorageCurrent(t *testing.T) {
	testutil.KernelTests(t)
	p := taskProg(t)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	tid := Gettid()
	r, err := p.Get(TaskGet{Flags: TaskGetCreate, Arg: 1})
	require.NoError(t, err)
	require.Equal(t, TaskValue{1, 1}, r.Value)
	r, err = p.Get(TaskGet{Pid: tid, Arg: 2})
	require.NoError(t, err)
	require.Equal(t, TaskResult{TaskFound: true, Got: true, Value: TaskValue{2, 2}}, r, "the same task by its thread id")
	if tid != os.Getpid() {
		r, err = p.Get(TaskGet{Pid: os.Getpid()})
		require.NoError(t, err)
		require.False(t, r.Got, "the leader thread has no element")
	}
	r, err = p.Delete(0)
	require.NoError(t, err)
	require.NoError(t, r.Err)
}

// TestKernelTaskProgStorageChild: a child's element is visible through its
// pidfd until it is reaped; then neither its pid (bpf_task_from_pid) nor
// its pidfd (pid_task() == NULL: ENOENT) resolves.
func TestKernelTaskProgStorageChild(t *testing.T) {
	testutil.KernelTests(t)
	p := taskProg(t)
	child := exec.Command("sleep", "3600")
	require.NoError(t, child.Start())
	reaped := false
	t.Cleanup(func() {
		// A failure before the reap must not leave the child running.
		if !reaped {
			_ = child.Process.Kill()
			_ = child.Wait()
		}
	})
	pid := child.Process.Pid
	fd := openPidfd(t, pid)
	r, err := p.Get(TaskGet{Pid: pid, Flags: TaskGetCreate, Arg: 5})
	require.NoError(t, err)
	require.Equal(t, TaskValue{1, 5}, r.Value)
	v, err := p.Lookup(fd.FD)
	require.NoError(t, err)
	require.Equal(t, TaskValue{1, 5}, v)

	require.NoError(t, child.Process.Kill())
	_ = child.Wait() // "signal: killed"
	reaped = true
	r, err = p.Get(TaskGet{Pid: pid, Flags: TaskGetCreate})
	require.NoError(t, err)
	require.Equal(t, TaskResult{}, r, "reaped: bpf_task_from_pid() is NULL")
	_, err = p.Lookup(fd.FD)
	require.ErrorIs(t, err, errno.ENOENT, "pidfd of a reaped task")
	require.ErrorIs(t, p.Update(fd.FD, TaskValue{}, UpdateAny), errno.ENOENT)
}
