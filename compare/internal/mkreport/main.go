// Command mkreport builds docs/analysis.md for `make report`.
//
//	mkreport render -data DIR -o docs/analysis.md docs/analysis.tmpl.md
//
// (The captures it reads come from `simrun gen`; examples/overlay.yaml's
// is the overlay-node preset.)
//
// render executes a text/template whose prose is written by hand and
// whose tables and figures come from `simrun compare` output in -data:
// {{include "NAME.txt"}} embeds a text table verbatim, {{get "NAME" "DESIGN"
// "path.to.field"}} prints one field of NAME.json's design DESIGN
// ("baseline" for the baseline, "result" for the top level; array
// elements by index, e.g. "survival.2.share"), {{pct ...}} the same
// field as a percentage, {{op "NAME" "DESIGN" "OP"}} a design's share of
// one operation per packet, {{nsop "NAME" "DESIGN" "OP"}} what that
// operation adds to its ns per packet, {{counter "NAME" "DESIGN" "COUNTER"}} one of
// its counters, and {{survival "NAME" "DESIGN" "PROGRAM" "MAP"}} the share
// of a read point's reads that found the value. {{check A ">" B "claim"}}
// (with num, opnum and survnum for numbers) fails the rendering when a
// claim the prose makes no longer holds.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/template"
)

func main() {
	if len(os.Args) < 2 {
		fatal(fmt.Errorf("usage: mkreport render ..."))
	}
	var err error
	switch os.Args[1] {
	case "render":
		err = render(os.Args[2:])
	default:
		err = fmt.Errorf("unknown subcommand %q (known: render)", os.Args[1])
	}
	if err != nil {
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "mkreport:", err)
	os.Exit(1)
}

func render(args []string) error {
	fs := flag.NewFlagSet("render", flag.ContinueOnError)
	data := fs.String("data", "docs/generated", "directory of NAME.txt and NAME.json from simrun compare")
	out := fs.String("o", "", "output file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 || *out == "" {
		return fmt.Errorf("render: want -o FILE and one template")
	}
	tmplPath := fs.Arg(0)
	cache := map[string]map[string]any{}
	load := func(name string) (map[string]any, error) {
		if m, ok := cache[name]; ok {
			return m, nil
		}
		b, err := os.ReadFile(filepath.Join(*data, name+".json"))
		if err != nil {
			return nil, err
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("%s.json: %w", name, err)
		}
		cache[name] = m
		return m, nil
	}
	get := func(name, design, path string) (any, error) {
		m, err := load(name)
		if err != nil {
			return nil, err
		}
		var v any
		switch design {
		case "result":
			v = m
		case "baseline":
			v = m["baseline"]
		default:
			for _, d := range m["designs"].([]any) {
				if dm := d.(map[string]any); dm["design"] == design {
					v = dm
				}
			}
			if v == nil {
				return nil, fmt.Errorf("%s.json: no design %q", name, design)
			}
		}
		for _, k := range strings.Split(path, ".") {
			switch c := v.(type) {
			case map[string]any:
				var ok bool
				if v, ok = c[k]; !ok {
					return nil, fmt.Errorf("%s.json: %s: no field %q in %s", name, design, k, path)
				}
			case []any:
				i, err := strconv.Atoi(k)
				if err != nil || i < 0 || i >= len(c) {
					return nil, fmt.Errorf("%s.json: %s: bad index %q in %s", name, design, k, path)
				}
				v = c[i]
			default:
				return nil, fmt.Errorf("%s.json: %s: %s goes past a value", name, design, path)
			}
		}
		return v, nil
	}
	// find returns the element of NAME.json design DESIGN's list field
	// whose key field equals want.
	find := func(name, design, list, key, want, field string) (string, error) {
		v, err := get(name, design, list)
		if err != nil {
			return "", err
		}
		rows, _ := v.([]any)
		for _, r := range rows {
			if m, ok := r.(map[string]any); ok && m[key] == want {
				return fmt.Sprint(m[field]), nil
			}
		}
		return "0", nil // rows with a zero count are left out
	}
	num := func(v string, err error) (float64, error) {
		if err != nil {
			return 0, err
		}
		return strconv.ParseFloat(strings.TrimSuffix(v, "%"), 64)
	}
	funcs := template.FuncMap{}
	funcs = template.FuncMap{
		// num, opnum and survnum return get, op and survival as numbers for
		// check.
		"num": func(name, design, path string) (float64, error) {
			return num(funcs["get"].(func(string, string, string) (string, error))(name, design, path))
		},
		"opnum": func(name, design, op string) (float64, error) {
			return num(funcs["op"].(func(string, string, string) (string, error))(name, design, op))
		},
		"counternum": func(name, design, counter string) (float64, error) {
			return num(funcs["counter"].(func(string, string, string) (string, error))(name, design, counter))
		},
		"survnum": func(name, design, prog, m string) (float64, error) {
			return num(funcs["survival"].(func(string, string, string, string) (string, error))(name, design, prog, m))
		},
		"list": func(v ...string) []string { return v },
		"mul":  func(a, b float64) float64 { return a * b },
		"add":  func(a, b float64) float64 { return a + b },
		// check fails the rendering when a claim the prose makes about the
		// numbers does not hold any more: {{check A ">" B "what"}}.
		"check": func(a float64, op string, b float64, what string) (string, error) {
			ok := false
			switch op {
			case ">":
				ok = a > b
			case ">=":
				ok = a >= b
			case "<":
				ok = a < b
			case "==":
				ok = a == b
			case "~": // equal to the three decimals the reports print
				ok = math.Abs(a-b) <= 1e-3*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
			default:
				return "", fmt.Errorf("check %q: unknown operator %q", what, op)
			}
			if !ok {
				return "", fmt.Errorf("claim no longer holds: %s (%v %s %v)", what, a, op, b)
			}
			return "", nil
		},
		// op: a design's share of one operation per packet.
		"op": func(name, design, op string) (string, error) {
			return find(name, design, "ops_per_packet", "op", op, "per_packet")
		},
		// nsop: what one operation adds to a design's ns per packet.
		"nsop": func(name, design, op string) (string, error) {
			return find(name, design, "ns_by_op", "op", op, "ns_per_packet")
		},
		// counter: one of a design's counters over the run.
		"counter": func(name, design, counter string) (string, error) {
			return find(name, design, "counters", "name", counter, "count")
		},
		// survival: the share of PROGRAM's reads of MAP that found the value.
		"survival": func(name, design, prog, m string) (string, error) {
			res, err := load(name)
			if err != nil {
				return "", err
			}
			for i, p := range res["read_points"].([]any) {
				pm := p.(map[string]any)
				if pm["program"] == prog && pm["map"] == m {
					v, err := get(name, design, "survival."+strconv.Itoa(i)+".share")
					if err != nil {
						return "", err
					}
					f, ok := v.(float64)
					if !ok {
						return "no reads", nil
					}
					return strconv.FormatFloat(f*100, 'f', 1, 64) + "%", nil
				}
			}
			return "", fmt.Errorf("%s.json: no read point %s:%s", name, prog, m)
		},
		"include": func(file string) (string, error) {
			b, err := os.ReadFile(filepath.Join(*data, file))
			return strings.TrimRight(string(b), "\n"), err
		},
		"get": func(name, design, path string) (string, error) {
			v, err := get(name, design, path)
			if err != nil {
				return "", err
			}
			if f, ok := v.(float64); ok {
				return strconv.FormatFloat(f, 'f', -1, 64), nil
			}
			return fmt.Sprint(v), nil
		},
		"pct": func(name, design, path string) (string, error) {
			v, err := get(name, design, path)
			if err != nil {
				return "", err
			}
			f, ok := v.(float64)
			if !ok {
				return "", fmt.Errorf("%s.json: %s: %s is not a number", name, design, path)
			}
			return strconv.FormatFloat(f*100, 'f', 1, 64) + "%", nil
		},
	}
	src, err := os.ReadFile(tmplPath)
	if err != nil {
		return err
	}
	t, err := template.New(filepath.Base(tmplPath)).Funcs(funcs).Option("missingkey=error").Parse(string(src))
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, nil); err != nil {
		return err
	}
	return os.WriteFile(*out, b.Bytes(), 0o644)
}
