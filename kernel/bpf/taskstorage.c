//go:build ignore

// taskstorage: program-side task local storage. One BPF_PROG_TYPE_SYSCALL
// program, run with BPF_PROG_TEST_RUN, calls bpf_task_storage_get() or
// bpf_task_storage_delete() on one task and reports the helper's result in
// its context (which test_run copies back). SYSCALL programs may call the
// task storage helpers on 6.18 (kernel_lab §11); trampolines (fentry) do
// not load on the project's machines (kernel_lab §12).
//
// The task is the caller's thread (pid 0: bpf_get_current_task_btf()) or
// the task with that pid in the initial pid namespace (bpf_task_from_pid(),
// released with bpf_task_release()).

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

enum op {
	OP_GET = 0,    /* bpf_task_storage_get(flags) */
	OP_DELETE = 1, /* bpf_task_storage_delete */
};

struct tval {
	__u64 count; /* incremented by every get that returns an element */
	__u64 last;  /* targs.arg of the last such get */
};

struct targs {
	/* in */
	__u32 op;
	__u32 use_init; /* pass init_map[0] as the get's value argument */
	__u64 flags;    /* get flags, passed through unchecked */
	__s32 pid;      /* 0: the current task */
	__u32 pad;
	__u64 arg;
	/* out */
	__s32 task_found; /* 0: bpf_task_from_pid() returned NULL */
	__s32 got;        /* get returned an element */
	__s64 ret;        /* delete's return value */
	struct tval val;  /* the element after the program's write */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct tval);
} task_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tval);
} init_map SEC(".maps");

struct targs *unused_targs __attribute__((unused));

extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

static __always_inline void run(struct targs *a, struct task_struct *task)
{
	__u32 zero = 0;
	struct tval *init = 0, *v;

	a->task_found = 1;
	if (a->op == OP_DELETE) {
		a->ret = bpf_task_storage_delete(&task_map, task);
		return;
	}
	if (a->use_init)
		init = bpf_map_lookup_elem(&init_map, &zero);
	v = bpf_task_storage_get(&task_map, task, init, a->flags);
	if (!v)
		return;
	a->got = 1;
	v->count++;
	v->last = a->arg;
	a->val = *v;
}

SEC("syscall")
int task_storage(struct targs *a)
{
	struct task_struct *task;

	a->task_found = 0;
	a->got = 0;
	a->ret = 0;
	a->val.count = 0;
	a->val.last = 0;
	if (a->pid == 0) {
		run(a, bpf_get_current_task_btf());
		return 0;
	}
	task = bpf_task_from_pid(a->pid);
	if (!task)
		return 0;
	run(a, task);
	bpf_task_release(task);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
