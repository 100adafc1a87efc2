package diff

import (
	"errors"
	"fmt"
	"time"
)

// ErrNeedsLinux is what Run returns on other systems; it matches
// errors.ErrUnsupported.
var ErrNeedsLinux = fmt.Errorf("kernel diff needs Linux: %w", errors.ErrUnsupported)

// Suite names, in run order.
const (
	SuiteCreate      = "storage-create"
	SuiteKeys        = "storage-keys"
	SuiteCharge      = "storage-charge"
	SuiteClone       = "storage-clone"
	SuiteSeq         = "storage-seq"
	SuiteProg        = "storage-prog"
	SuiteTaskProg    = "storage-task-prog"
	SuiteTransitions = "skb-transitions"
)

// Suites lists every suite Run knows, in run order.
var Suites = []string{SuiteCreate, SuiteKeys, SuiteCharge, SuiteClone, SuiteSeq, SuiteProg, SuiteTaskProg, SuiteTransitions}

// Options tunes Run. The zero value runs every suite with the defaults.
type Options struct {
	// Suites selects suites by name (nil: all of Suites).
	Suites []string
	// Seed seeds the rapid-generated sequences (0: 1, the project's
	// default test seed).
	Seed int64
	// Checks is the number of generated sequences per rapid suite
	// (0: DefaultChecks).
	Checks int
	// Steps is the average number of steps of a generated sequence
	// (0: DefaultSteps).
	Steps int
	// Model is the stack model's transition function for the skb suite
	// (nil: NetstackTransitions with the skb profile of the running
	// kernel's release).
	Model TransitionModel
	// TransitionWait bounds how long the kernel recorder waits for a
	// transition's packet at every hook (0: the recorder's default).
	TransitionWait time.Duration
	// Progress, when not nil, is called when a suite starts.
	Progress func(suite string)
}

// Defaults of Options.
const (
	DefaultChecks = 300
	DefaultSteps  = 40
)

func (o *Options) withDefaults() Options {
	r := *o
	if len(r.Suites) == 0 {
		r.Suites = Suites
	}
	if r.Seed == 0 {
		r.Seed = 1
	}
	if r.Checks <= 0 {
		r.Checks = DefaultChecks
	}
	if r.Steps <= 0 {
		r.Steps = DefaultSteps
	}
	return r
}
