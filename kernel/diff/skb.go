package diff

import (
	"errors"
	"fmt"
	"sort"

	"github.com/skbsim/skbsim/kernel/observe"
	"github.com/skbsim/skbsim/netstack"
	"github.com/skbsim/skbsim/skb"
)

// TransitionModel produces the observation matrix of one transition of
// observe.Transitions: the model's (package netstack) or, for the other
// side of the comparison, the kernel recorder's (kernel.RunTransition).
type TransitionModel func(observe.Transition) (observe.Matrix, error)

// NetstackTransitions returns the stack model's transition function for
// kernel profile p: netstack.RunTransition, which builds the transition's
// topology on the model and returns its normalised matrix. Run uses it
// with the profile of the running kernel's release unless Options.Model
// brings another model.
func NetstackTransitions(p skb.Profile) TransitionModel {
	return func(t observe.Transition) (observe.Matrix, error) { return netstack.RunTransition(t, p) }
}

// compareTransition compares the kernel's and the model's matrices of one
// transition cell by cell. Both are normalised (observe.Normalize) first.
// The cells are the union of both matrices' keys; a cell present on one
// side only disagrees.
func compareTransition(t observe.Transition, kern, model observe.Matrix) []caseOutcome {
	kern = observe.Normalize(append(observe.Matrix(nil), kern...), t)
	model = observe.Normalize(append(observe.Matrix(nil), model...), t)
	keys := map[string]bool{}
	byKey := func(m observe.Matrix) map[string]observe.Matrix {
		r := map[string]observe.Matrix{}
		for _, o := range m {
			if o.Transition != t.Name {
				continue
			}
			keys[o.Key()] = true
			r[o.Key()] = append(r[o.Key()], o)
		}
		return r
	}
	kk, mk := byKey(kern), byKey(model)
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	out := make([]caseOutcome, 0, len(names))
	for _, k := range names {
		var detail string
		if d := observe.Diff(kk[k], mk[k]); len(d) > 0 {
			detail = fmt.Sprintf("kernel vs model: %s", d[0])
		}
		out = append(out, caseOutcome{Name: k, Detail: detail})
	}
	return out
}

// runTransitions runs every transition on both sides and compares them.
// A transition that fails on either side is a harness error of all its
// cells (reported once, under the transition's name).
func runTransitions(ts []observe.Transition, kern, model TransitionModel) []caseOutcome {
	var out []caseOutcome
	for _, t := range ts {
		km, err := kern(t)
		if errors.Is(err, errors.ErrUnsupported) {
			out = append(out, caseOutcome{Name: t.Name, Skip: err.Error()})
			continue
		}
		if err != nil {
			out = append(out, caseOutcome{Name: t.Name, Err: fmt.Errorf("kernel: %w", err)})
			continue
		}
		mm, err := model(t)
		if err != nil {
			out = append(out, caseOutcome{Name: t.Name, Err: fmt.Errorf("model: %w", err)})
			continue
		}
		out = append(out, compareTransition(t, km, mm)...)
	}
	return out
}
