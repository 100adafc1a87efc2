package cost

import (
	"fmt"
	"strconv"

	"gopkg.in/yaml.v3"
)

// Parse reads a cost table from data; name is the file name used in
// errors. It is strict: unknown fields, unknown op or class names, a class
// on an op other than kmalloc/kfree, duplicate or missing entries, and
// negative, non-finite or inconsistent numbers are errors naming the file
// and line.
func Parse(name string, data []byte) (Table, error) {
	var t Table
	bad := func(line int, format string, args ...any) error {
		return fmt.Errorf("cost: %s:%d: %s: %w", name, line, fmt.Sprintf(format, args...), ErrInvalidTable)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return t, fmt.Errorf("cost: %s: %v: %w", name, err, ErrInvalidTable)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return t, bad(max(doc.Line, 1), "top level must be a mapping with name and entries")
	}
	root := doc.Content[0]
	var entries *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "name":
			if v.Kind != yaml.ScalarNode {
				return t, bad(v.Line, "name must be a string")
			}
			t.Name = v.Value
		case "entries":
			if v.Kind != yaml.SequenceNode {
				return t, bad(v.Line, "entries must be a list")
			}
			entries = v
		default:
			return t, bad(k.Line, "unknown field %q", k.Value)
		}
	}
	if entries == nil {
		return t, bad(root.Line, "no entries")
	}
	var seenOp [NumOps]int
	var seenAlloc, seenFree [NumSizeClasses]int
	for _, n := range entries.Content {
		if n.Kind != yaml.MappingNode {
			return t, bad(n.Line, "entry must be a mapping")
		}
		e, op, class, err := parseEntry(n, bad)
		if err != nil {
			return t, err
		}
		slot, seen := &t.Ops[op], &seenOp[op]
		if class >= 0 {
			if op == OpKmalloc {
				slot, seen = &t.Alloc[class], &seenAlloc[class]
			} else {
				slot, seen = &t.Free[class], &seenFree[class]
			}
		}
		if *seen != 0 {
			return t, bad(n.Line, "duplicate entry %s (first at line %d)", entryName(op, class), *seen)
		}
		*seen = n.Line
		if msg := checkEntry(&e); msg != "" {
			return t, bad(n.Line, "entry %s: %s", entryName(op, class), msg)
		}
		*slot = e
	}
	for op := Op(0); op < NumOps; op++ {
		if seenOp[op] == 0 {
			return t, bad(entries.Line, "missing entry %s", op)
		}
	}
	for i := 0; i < NumSizeClasses; i++ {
		if seenAlloc[i] == 0 {
			return t, bad(entries.Line, "missing entry %s", entryName(OpKmalloc, i))
		}
		if seenFree[i] == 0 {
			return t, bad(entries.Line, "missing entry %s", entryName(OpKfree, i))
		}
	}
	return t, nil
}

func entryName(op Op, class int) string {
	if class < 0 {
		return op.String()
	}
	return op.String() + "/" + SizeClassName(class)
}

// parseEntry decodes one entry mapping; class is -1 when absent.
func parseEntry(n *yaml.Node, bad func(int, string, ...any) error) (e Entry, op Op, class int, err error) {
	class = -1
	haveOp := false
	have := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if have[k.Value] {
			return e, 0, 0, bad(k.Line, "field %q given twice", k.Value)
		}
		have[k.Value] = true
		if v.Kind != yaml.ScalarNode {
			return e, 0, 0, bad(v.Line, "field %q must be a scalar", k.Value)
		}
		var num *float64
		switch k.Value {
		case "op":
			o, ok := ParseOp(v.Value)
			if !ok {
				return e, 0, 0, bad(v.Line, "unknown op %q", v.Value)
			}
			op, haveOp = o, true
		case "class":
			c, ok := ParseSizeClass(v.Value)
			if !ok {
				return e, 0, 0, bad(v.Line, "unknown size class %q", v.Value)
			}
			class = c
		case "ns":
			num = &e.NS
		case "low":
			num = &e.Low
		case "high":
			num = &e.High
		case "source":
			e.Source = Source(v.Value)
			if !e.Source.valid() {
				return e, 0, 0, bad(v.Line, "unknown source %q (want measured, benchmark, derived or estimate)", v.Value)
			}
		case "spread":
			e.Spread = v.Value
		case "date":
			e.Date = v.Value
		case "kernel":
			e.Kernel = v.Value
		case "ref":
			e.Ref = v.Value
		case "note":
			e.Note = v.Value
		default:
			return e, 0, 0, bad(k.Line, "unknown field %q", k.Value)
		}
		if num != nil {
			f, perr := strconv.ParseFloat(v.Value, 64)
			if perr != nil || (v.Tag != "!!int" && v.Tag != "!!float") {
				return e, 0, 0, bad(v.Line, "field %q: %q is not a number", k.Value, v.Value)
			}
			*num = f
		}
	}
	if !haveOp {
		return e, 0, 0, bad(n.Line, "entry has no op")
	}
	for _, f := range [...]string{"ns", "low", "high", "source"} {
		if !have[f] {
			return e, 0, 0, bad(n.Line, "entry %s has no %s", entryName(op, class), f)
		}
	}
	if class >= 0 && op != OpKmalloc && op != OpKfree {
		return e, 0, 0, bad(n.Line, "class is only allowed on kmalloc and kfree, not %s", op)
	}
	return e, op, class, nil
}
