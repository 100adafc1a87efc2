package diff

import (
	"fmt"

	"pgregory.net/rapid"
)

// Generator domains. Value sizes include the optmem_max boundaries
// (optmem_max - 249 is the largest first value on a fresh socket on 6.18,
// kernel_lab §5), the replace boundary at 1024 (351) and the value-size
// limit (65407).
var (
	genOptmem     = []int{1024, 2048, 4096, 131072}
	genValueSizes = []uint32{1, 4, 8, 64, 351, 352, 400, 703, 775, 776, 1799, 3847, 65407}
	genUpdFlags   = []uint64{UpdateAny, UpdateNoExist, UpdateExist, UpdateAny, UpdateNoExist, UpdateExist,
		UpdateLock, UpdateNoExist | UpdateLock, UpdateExist | UpdateLock, UpdateNoExist | UpdateExist, 8}
	genLookupFlags = []uint64{0, 0, 0, 0, 0, 0, 0, UpdateLock, 8}
	// Targets weighted towards sockets; the rest check key resolution.
	genTargets = []Target{TgtTCP0, TgtTCP0, TgtTCP1, TgtTCP1, TgtUDP, TgtUnix, TgtListenPlain,
		TgtListenPlain, TgtListenGo, TgtListenMPTCP, TgtClientPlain, TgtAccPlain, TgtAccPlain, TgtAccGo,
		TgtAccMPTCP, TgtClientMPTCP, TgtPipe, TgtBadFD, TgtPidSelf, TgtPidSelf, TgtPidChild, TgtPidReaped}
	genCloseTargets = []Target{TgtTCP0, TgtTCP1, TgtUDP, TgtUnix, TgtClientPlain, TgtAccPlain, TgtAccGo, TgtAccMPTCP}
)

// genConf draws a map configuration: mostly valid socket storage maps
// (with and without BPF_F_CLONE, some with a spin lock), some task storage
// maps, and now and then an invalid one.
func genConf(t *rapid.T) MapConf {
	c := ValidConf(SkMap, rapid.SampledFrom(genValueSizes).Draw(t, "value_size"), rapid.Bool().Draw(t, "clone"))
	switch rapid.IntRange(0, 11).Draw(t, "conf") {
	case 0, 1, 2:
		c.Kind = TaskMap
		c.Flags &^= FlagClone
	case 3, 4:
		c.SpinLock, c.ValueSize = true, 8
	case 5:
		c.Flags = rapid.SampledFrom([]uint32{0, FlagClone, FlagNoPrealloc | FlagRdonly, FlagNoPrealloc | FlagMmapable}).Draw(t, "bad_flags")
	case 6:
		c.ValueSize = rapid.SampledFrom([]uint32{0, 65408}).Draw(t, "bad_value_size")
	}
	return c
}

func drawMap(t *rapid.T) int { return rapid.IntRange(0, maxMaps-1).Draw(t, "map") }

// drawTarget draws a target: most of the time one of a few hot targets, so
// that lookups and deletes meet the elements updates created.
func drawTarget(t *rapid.T) Target {
	if rapid.IntRange(0, 9).Draw(t, "hot") < 6 {
		return rapid.SampledFrom(hotTargets).Draw(t, "target")
	}
	return rapid.SampledFrom(genTargets).Draw(t, "target")
}

var hotTargets = []Target{TgtTCP0, TgtListenPlain, TgtAccPlain, TgtPidSelf}

// rarely reports true one time in n; actions use it to make themselves
// rarer than the others.
func rarely(t *rapid.T, n int) bool { return rapid.IntRange(0, n-1).Draw(t, "rarely") == 0 }

// seqActions returns the rapid state-machine actions of the storage
// sequence suite; each draws a step and hands it to do. Repeated names
// weight the choice (rapid picks an action name uniformly).
func seqActions(do func(*rapid.T, Step), emptySlot func() int) map[string]func(*rapid.T) {
	update := func(t *rapid.T) {
		do(t, Step{Op: OpUpdate, Map: drawMap(t), Target: drawTarget(t),
			Flags: rapid.SampledFrom(genUpdFlags).Draw(t, "flags"), Fill: rapid.Byte().Draw(t, "fill")})
	}
	lookup := func(t *rapid.T) {
		do(t, Step{Op: OpLookup, Map: drawMap(t), Target: drawTarget(t),
			Flags: rapid.SampledFrom(genLookupFlags).Draw(t, "flags")})
	}
	del := func(t *rapid.T) { do(t, Step{Op: OpDelete, Map: drawMap(t), Target: drawTarget(t)}) }
	a := map[string]func(*rapid.T){
		"create-map": func(t *rapid.T) { do(t, Step{Op: OpCreateMap, Map: emptySlot(), Conf: genConf(t)}) },
		"close-map": func(t *rapid.T) {
			if rarely(t, 3) {
				do(t, Step{Op: OpCloseMap, Map: drawMap(t)})
			}
		},
		"delete":   del,
		"delete-2": del,
		"notsupp": func(t *rapid.T) {
			do(t, Step{Op: rapid.SampledFrom([]Op{OpNextKey, OpLookupAndDelete}).Draw(t, "op"),
				Map: drawMap(t), Target: drawTarget(t)})
		},
		"set-optmem": func(t *rapid.T) {
			if rarely(t, 3) {
				do(t, Step{Op: OpSetOptmem, Optmem: rapid.SampledFrom(genOptmem).Draw(t, "optmem_max")})
			}
		},
		"connect": func(t *rapid.T) {
			if rarely(t, 2) {
				do(t, Step{Op: OpConnect, Listen: Listen(rapid.IntRange(0, 2).Draw(t, "listen"))})
			}
		},
		"close": func(t *rapid.T) {
			if rarely(t, 2) {
				do(t, Step{Op: OpClose, Target: rapid.SampledFrom(genCloseTargets).Draw(t, "target")})
			}
		},
	}
	for i := range 5 {
		a[fmt.Sprintf("update-%d", i)] = update
	}
	for i := range 3 {
		a[fmt.Sprintf("lookup-%d", i)] = lookup
	}
	return a
}

// seqPrelude draws the start of a sequence: optmem_max, maxMaps maps
// and connections to some listeners. A set-optmem step later in the
// sequence may lower optmem_max below what a socket already holds; connects
// after it are skipped (pair.do), so a clone on passive open never needs
// more than the limit allows (a failed clone would stall accept()).
func seqPrelude(t *rapid.T) (optmem int, steps []Step) {
	optmem = rapid.SampledFrom(genOptmem).Draw(t, "optmem_max")
	for i := range maxMaps {
		steps = append(steps, Step{Op: OpCreateMap, Map: i, Conf: genConf(t)})
	}
	for l := range Listen(3) {
		if l == ListenPlain || rapid.Bool().Draw(t, "connect "+l.String()) {
			steps = append(steps, Step{Op: OpConnect, Listen: l})
		}
	}
	return optmem, steps
}

// seqProperty returns the rapid property of the sequence suite: a sequence
// runs on both backends step by step and the first disagreement fails the
// check with the readable sequence. found, when not nil, receives every
// mismatch (the last one is the minimal sequence after shrinking); seqs
// counts the sequences run.
func seqProperty(p *pair, found func(*Mismatch), seqs *int) func(*rapid.T) {
	return func(t *rapid.T) {
		optmem, prelude := seqPrelude(t)
		if err := p.begin(optmem); err != nil {
			t.Fatalf("harness: %v", err)
		}
		defer func() {
			if err := p.end(); err != nil {
				t.Fatalf("harness: %v", err)
			}
		}()
		if seqs != nil {
			*seqs++
		}
		do := func(t *rapid.T, s Step) {
			mm, err := p.do(s)
			if err != nil {
				t.Fatalf("harness: %v", err)
			}
			if mm != nil {
				if found != nil {
					found(mm)
				}
				t.Fatalf("model and kernel disagree at %s", mm.Error())
			}
		}
		for _, s := range prelude {
			do(t, s)
		}
		t.Repeat(seqActions(do, p.emptySlot))
	}
}
