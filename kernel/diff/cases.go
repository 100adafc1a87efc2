package diff

import (
	"fmt"
	"sort"
)

// Case is a fixed sequence with a stable name (the key of known
// divergences).
type Case struct {
	Name string
	Seq  Sequence
}

func steps(s ...Step) []Step { return s }

func create(slot int, c MapConf) Step { return Step{Op: OpCreateMap, Map: slot, Conf: c} }
func update(slot int, t Target, flags uint64, fill byte) Step {
	return Step{Op: OpUpdate, Map: slot, Target: t, Flags: flags, Fill: fill}
}
func lookup(slot int, t Target) Step { return Step{Op: OpLookup, Map: slot, Target: t} }
func del(slot int, t Target) Step    { return Step{Op: OpDelete, Map: slot, Target: t} }
func closeMap(slot int) Step         { return Step{Op: OpCloseMap, Map: slot} }
func closeT(t Target) Step           { return Step{Op: OpClose, Target: t} }
func connect(l Listen) Step          { return Step{Op: OpConnect, Listen: l} }

// createCases is the map-create validation table: the cross product of
// map type, flags, key, value size and max_entries, each case creating one
// map (and, when that succeeds, storing and reading one element, so a map
// the model accepts is also usable on the kernel).
func createCases() []Case {
	flags := []uint32{0, FlagNoPrealloc, FlagClone, FlagNoPrealloc | FlagClone, FlagNoPrealloc | FlagRdonly,
		FlagNoPrealloc | FlagMmapable, FlagNoPrealloc | 1<<20}
	keys := []KeyKind{KeyInt, KeyUint, KeyLongLong8, KeyLongLong4, KeyStruct, KeyNoBTF}
	values := []uint32{0, 1, 65407, 65408, 1 << 20}
	var cs []Case
	for _, kind := range []MapKind{SkMap, TaskMap} {
		for _, f := range flags {
			for _, k := range keys {
				for _, v := range values {
					for _, max := range []uint32{0, 1} {
						c := MapConf{Kind: kind, Key: k, ValueSize: v, MaxEntries: max, Flags: f}
						t := TgtTCP0
						if kind == TaskMap {
							t = TgtPidSelf
						}
						cs = append(cs, Case{
							Name: fmt.Sprintf("%s/flags=%#x/key=%s/value=%d/max=%d", kind, f, k, v, max),
							Seq: Sequence{OptmemMax: 131072, Steps: steps(create(0, c), update(0, t, UpdateNoExist, 1),
								lookup(0, t))},
						})
					}
				}
			}
		}
	}
	// A spin lock in the value makes BPF_F_LOCK valid.
	lock := MapConf{Kind: SkMap, ValueSize: 8, Flags: FlagNoPrealloc, SpinLock: true}
	cs = append(cs, Case{Name: "sk/spin-lock", Seq: Sequence{OptmemMax: 131072, Steps: steps(
		create(0, lock), update(0, TgtTCP0, UpdateNoExist|UpdateLock, 1),
		Step{Op: OpLookup, Map: 0, Target: TgtTCP0, Flags: UpdateLock},
		update(0, TgtTCP0, UpdateExist|UpdateLock, 2), update(0, TgtTCP0, UpdateNoExist|UpdateLock, 3),
		update(0, TgtTCP0, UpdateAny, 4), lookup(0, TgtTCP0))}})
	return cs
}

// chargeCases is the optmem_max table: for several optmem_max values, the
// largest first value and one byte more, two maps sharing the budget, the
// replace path needing a second element, delete and map free returning the
// charge, and an owner close.
func chargeCases() []Case {
	var cs []Case
	add := func(optmem int, name string, s ...Step) {
		cs = append(cs, Case{Name: fmt.Sprintf("optmem=%d/%s", optmem, name), Seq: Sequence{OptmemMax: optmem, Steps: s}})
	}
	sk := func(v int) MapConf { return ValidConf(SkMap, uint32(max(v, 1)), false) }
	for _, n := range []int{512, 1024, 2048, 4096, 20480, 131072} {
		// 6.18: storage 176 + elem 72 + value, strictly below optmem_max.
		first := n - 176 - 72 - 1
		add(n, "first-max", create(0, sk(first)), update(0, TgtTCP0, UpdateAny, 1), lookup(0, TgtTCP0))
		add(n, "first-over", create(0, sk(first+1)), update(0, TgtTCP0, UpdateAny, 1), lookup(0, TgtTCP0))
		half := (n - 176 - 144 - 1) / 2
		add(n, "two-maps", create(0, sk(half)), create(1, sk(n-176-144-1-half)), create(2, sk(n-176-144-half)),
			update(0, TgtTCP0, UpdateAny, 1), update(1, TgtTCP0, UpdateAny, 2), update(2, TgtTCP1, UpdateAny, 3),
			update(2, TgtTCP0, UpdateAny, 3), del(1, TgtTCP0), update(2, TgtTCP0, UpdateAny, 4))
		add(n, "replace-max", create(0, sk(half)), update(0, TgtTCP0, UpdateAny, 1),
			update(0, TgtTCP0, UpdateExist, 2), update(0, TgtTCP0, UpdateAny, 3), lookup(0, TgtTCP0))
		add(n, "replace-over", create(0, sk(half+1)), update(0, TgtTCP0, UpdateAny, 1),
			update(0, TgtTCP0, UpdateExist, 2), lookup(0, TgtTCP0), del(0, TgtTCP0), update(0, TgtTCP0, UpdateNoExist, 4))
		add(n, "map-free-uncharges", create(0, sk(first)), update(0, TgtTCP0, UpdateAny, 1), create(1, sk(first)),
			update(1, TgtTCP0, UpdateAny, 2), closeMap(0), update(1, TgtTCP0, UpdateAny, 3), lookup(1, TgtTCP0))
		add(n, "owner-close", create(0, sk(half)), create(1, sk(half)), update(0, TgtTCP0, UpdateAny, 1),
			update(1, TgtTCP0, UpdateAny, 2), update(0, TgtTCP1, UpdateAny, 3), closeT(TgtTCP0),
			lookup(0, TgtTCP0), lookup(1, TgtTCP0), lookup(0, TgtTCP1), update(0, TgtTCP0, UpdateNoExist, 4))
		add(n, "udp-unix", create(0, sk(first)), update(0, TgtUDP, UpdateAny, 1), update(0, TgtUnix, UpdateAny, 2),
			create(1, sk(1)), update(1, TgtUDP, UpdateAny, 3), update(1, TgtUnix, UpdateAny, 4))
	}
	// optmem_max is read at every charge from the socket's namespace:
	// lowering it below what a socket holds refuses new charges (also the
	// replace path's second element) but not deletes; raising it again
	// lets them through.
	add(131072, "sysctl-lowered", create(0, sk(1000)), create(1, sk(1000)), update(0, TgtTCP0, UpdateAny, 1),
		Step{Op: OpSetOptmem, Optmem: 1024}, update(1, TgtTCP0, UpdateAny, 2), update(0, TgtTCP0, UpdateExist, 3),
		lookup(0, TgtTCP0), update(1, TgtTCP1, UpdateAny, 4), update(0, TgtTCP1, UpdateAny, 5), del(0, TgtTCP0),
		update(1, TgtTCP0, UpdateAny, 6), Step{Op: OpSetOptmem, Optmem: 4096}, update(0, TgtTCP0, UpdateAny, 7))
	// Task storage is not charged against any per-owner limit.
	add(1024, "task-not-charged", create(0, ValidConf(TaskMap, 65407, false)), create(1, ValidConf(TaskMap, 65407, false)),
		update(0, TgtPidSelf, UpdateAny, 1), update(1, TgtPidSelf, UpdateAny, 2), update(0, TgtPidChild, UpdateAny, 3),
		lookup(1, TgtPidSelf))
	return cs
}

// cloneCases is the BPF_F_CLONE table: for each listener kind and a clone
// and a non-clone map, storage set on the listener fd before the connect is
// checked on the accepted socket and the client; updating the child leaves
// the listener alone; a map closed or an element deleted before the connect
// is not cloned; owner close and map free around the clone.
func cloneCases() []Case {
	var cs []Case
	add := func(l Listen, name string, s ...Step) {
		cs = append(cs, Case{Name: fmt.Sprintf("%s/%s", l, name), Seq: Sequence{OptmemMax: 131072, Steps: s}})
	}
	for l := range Listen(3) {
		lis, acc, cli := l.listener(), l.accepted(), l.client()
		clone, plain := ValidConf(SkMap, 16, true), ValidConf(SkMap, 16, false)
		add(l, "clone-and-not", create(0, clone), create(1, plain), create(2, ValidConf(SkMap, 400, true)),
			update(0, lis, UpdateAny, 1), update(1, lis, UpdateAny, 2), update(2, lis, UpdateAny, 3), connect(l),
			lookup(0, acc), lookup(1, acc), lookup(2, acc), lookup(0, cli), lookup(1, cli),
			update(0, acc, UpdateExist, 9), lookup(0, acc), lookup(0, lis), update(1, acc, UpdateNoExist, 8), lookup(1, lis))
		add(l, "deleted-before-connect", create(0, clone), update(0, lis, UpdateAny, 1), del(0, lis), connect(l),
			lookup(0, acc))
		add(l, "map-closed-before-connect", create(0, clone), create(1, clone), update(0, lis, UpdateAny, 1),
			update(1, lis, UpdateAny, 2), closeMap(0), connect(l), lookup(1, acc))
		add(l, "map-closed-after-connect", create(0, clone), update(0, lis, UpdateAny, 1), connect(l), closeMap(0),
			create(1, clone), lookup(1, acc), update(1, acc, UpdateNoExist, 3))
		add(l, "child-close", create(0, clone), update(0, lis, UpdateAny, 1), connect(l), closeT(acc),
			lookup(0, lis), connect(l), lookup(0, acc))
		add(l, "spin-lock-value", create(0, MapConf{Kind: SkMap, ValueSize: 8, Flags: FlagNoPrealloc | FlagClone, SpinLock: true}),
			update(0, lis, UpdateAny, 5), connect(l), Step{Op: OpLookup, Map: 0, Target: acc, Flags: UpdateLock})
	}
	return cs
}

// keyCases checks key resolution: socket fds, pidfds, a pipe and a closed
// descriptor against socket and task storage maps.
func keyCases() []Case {
	var cs []Case
	for _, k := range []MapKind{SkMap, TaskMap} {
		for _, t := range []Target{TgtTCP0, TgtUDP, TgtUnix, TgtListenPlain, TgtListenGo, TgtPipe, TgtBadFD,
			TgtPidSelf, TgtPidChild, TgtPidReaped, TgtAccPlain} {
			cs = append(cs, Case{Name: fmt.Sprintf("%s/%s", k, t), Seq: Sequence{OptmemMax: 131072, Steps: steps(
				create(0, ValidConf(k, 8, false)), lookup(0, t), update(0, t, UpdateExist, 1), update(0, t, UpdateNoExist, 2),
				update(0, t, UpdateNoExist, 3), lookup(0, t), Step{Op: OpNextKey, Map: 0, Target: t},
				Step{Op: OpLookupAndDelete, Map: 0, Target: t}, del(0, t), del(0, t))}})
		}
	}
	return cs
}

// caseOutcome is the result of one case.
type caseOutcome struct {
	Name string
	// Detail describes the disagreement ("" when the case agreed).
	Detail string
	// Err is a harness failure: the case could not be run.
	Err error
	// Skip says why the running kernel cannot run the case ("" when it
	// ran): it lacks a feature the case needs.
	Skip string
}

// runCases runs every case on both backends.
func runCases(model, kern backend, cs []Case) []caseOutcome {
	out := make([]caseOutcome, 0, len(cs))
	for _, c := range cs {
		o := caseOutcome{Name: c.Name}
		mm, err := runSequence(model, kern, c.Seq)
		if mm != nil {
			o.Detail = mm.Error()
		}
		o.Err = err
		out = append(out, o)
	}
	return out
}

// caseNames returns the sorted case names (for tests).
func caseNames(cs []Case) []string {
	n := make([]string, len(cs))
	for i, c := range cs {
		n[i] = c.Name
	}
	sort.Strings(n)
	return n
}
