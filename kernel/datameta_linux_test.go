package kernel

import (
	"errors"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/internal/testutil"
	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/skb"
)

// offDataMeta is offsetof(struct __sk_buff, data_meta).
const offDataMeta = 140

// TestKernelDataMetaContext: which skb program types may load
// __sk_buff->data_meta, the pointer the xdp-meta design's readers use
// from their context. The verifier takes it from tc (sched_cls) programs
// and refuses it (EACCES) to cgroup_skb and socket filter programs; the
// design, under XDPMetaReachCtx, lets tc read and denies the others
// (ErrHookDenied, which matches EACCES).
func TestKernelDataMetaContext(t *testing.T) {
	testutil.KernelTests(t)
	a := skb.NewAllocator(kmem.New(), skb.DefaultProfile())
	car, err := carrier.New(carrier.NameXDPMeta, carrier.Env{Alloc: a, Acct: a.Accountant()},
		[]carrier.MapSpec{{Name: "m", ValueSize: 4}}, carrier.Options{XDPMetaReach: carrier.XDPMetaReachCtx})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, car.Close()) })
	b, err := a.AllocSkb(256)
	require.NoError(t, err)
	b.Reserve(128)
	b.Put(64)
	b.ResetMacHeader()
	defer b.ConsumeSkb()
	for _, tc := range []struct {
		typ  ebpf.ProgramType
		at   ebpf.AttachType
		hook carrier.Hook
		want bool // the verifier takes the load
	}{
		{ebpf.SchedCLS, ebpf.AttachNone, carrier.HookTCIngress, true},
		{ebpf.CGroupSKB, ebpf.AttachCGroupInetIngress, carrier.HookCgroupIngress, false},
		{ebpf.CGroupSKB, ebpf.AttachCGroupInetEgress, carrier.HookCgroupEgress, false},
		{ebpf.SocketFilter, ebpf.AttachNone, carrier.HookSocketFilter, false},
	} {
		t.Run(tc.hook.String(), func(t *testing.T) {
			p, err := ebpf.NewProgram(&ebpf.ProgramSpec{
				Type: tc.typ, AttachType: tc.at, License: "GPL",
				Instructions: asm.Instructions{
					asm.LoadMem(asm.R0, asm.R1, offDataMeta, asm.Word),
					asm.Mov.Imm(asm.R0, 0),
					asm.Return(),
				},
			})
			kernelOK := err == nil
			require.Equal(t, tc.want, kernelOK, "%s: %v", tc.hook, err)
			if p != nil {
				p.Close()
			}
			if err != nil {
				require.True(t, errors.Is(err, unix.EACCES), "%s: %v", tc.hook, err)
			}
			_, lerr := car.Lookup(tc.hook, b, 0)
			modelOK := !errors.Is(lerr, carrier.ErrHookDenied)
			require.Equal(t, kernelOK, modelOK, "%s: kernel load %v, model lookup %v", tc.hook, err, lerr)
		})
	}
}
