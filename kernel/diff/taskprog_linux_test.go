package diff

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/internal/testutil"
)

func TestKernelStorageTaskProg(t *testing.T) {
	res := runSuite(t, SuiteTaskProg, Options{})
	require.Equal(t, len(taskCases()), res.Cases)
}

// TestKernelTaskProgDetectsDifference runs the task cases against a kernel
// backend whose program write differs from the model's restatement
// (Last = Arg+1): every case with a successful get must disagree, so an
// agreeing suite is not a harness that cannot fail.
func TestKernelTaskProgDetectsDifference(t *testing.T) {
	testutil.KernelTests(t)
	out := runTaskCases(&taskModel{}, &skewedTask{}, taskCases())
	res := classify(SuiteTaskProg, out, nil)
	require.Empty(t, res.Errors)
	require.Len(t, res.New, len(taskCases()))
	t.Logf("first: %s", res.New[0].Detail)
	require.Contains(t, res.New[0].Detail, "outcome: model")
}

// skewedTask is the kernel backend with the program's Arg shifted by one.
type skewedTask struct{ taskKernel }

func (s *skewedTask) step(st TaskStep) (TaskOutcome, error) {
	st.Arg++
	return s.taskKernel.step(st)
}
