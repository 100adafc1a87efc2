package cost

import (
	"bytes"
	_ "embed"
	"fmt"
	"os"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/skbsim/skbsim/internal/errno"
)

// ErrInvalidTable is returned (wrapped, with the file and line) for a cost
// table file that does not parse or fails validation. It matches EINVAL.
var ErrInvalidTable = errno.New("invalid cost table", errno.EINVAL)

//go:embed default.yaml
var defaultYAML []byte

var (
	defaultOnce  sync.Once
	defaultTable Table
)

// Default returns the cost table embedded in the package (default.yaml).
func Default() Table {
	defaultOnce.Do(func() {
		t, err := Parse("default.yaml", defaultYAML)
		if err != nil {
			panic("cost: embedded default table: " + err.Error())
		}
		defaultTable = t
	})
	return defaultTable
}

// DefaultYAML returns a copy of the embedded default table's text.
func DefaultYAML() []byte { return bytes.Clone(defaultYAML) }

// Load reads and validates the cost table file at path; errors name path
// as given, with the line.
func Load(path string) (Table, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Table{}, fmt.Errorf("cost: load: %w", err)
	}
	return Parse(path, data)
}

// Save writes t to path in the format Load reads. It validates t first.
func Save(path string, t *Table) error {
	data, err := Marshal(t)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("cost: save: %w", err)
	}
	return nil
}

// fileEntry is one entry as written in a table file.
type fileEntry struct {
	Op     string  `yaml:"op"`
	Class  string  `yaml:"class,omitempty"`
	NS     float64 `yaml:"ns"`
	Low    float64 `yaml:"low"`
	High   float64 `yaml:"high"`
	Source string  `yaml:"source"`
	Spread string  `yaml:"spread,omitempty"`
	Date   string  `yaml:"date,omitempty"`
	Kernel string  `yaml:"kernel,omitempty"`
	Ref    string  `yaml:"ref,omitempty"`
	Note   string  `yaml:"note,omitempty"`
}

type fileTable struct {
	Name    string      `yaml:"name"`
	Entries []fileEntry `yaml:"entries"`
}

const fileHeader = "# skbsim cost table: nanoseconds per primitive operation (package cost).\n" +
	"# Every op has one entry; kmalloc and kfree also have one entry per size class.\n"

// Marshal returns t as table-file text. It validates t first, so that a
// saved table always loads.
func Marshal(t *Table) ([]byte, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	ft := fileTable{Name: t.Name}
	for op := Op(0); op < NumOps; op++ {
		ft.Entries = append(ft.Entries, toFile(op, "", &t.Ops[op]))
	}
	for i := 0; i < NumSizeClasses; i++ {
		ft.Entries = append(ft.Entries, toFile(OpKmalloc, SizeClassName(i), &t.Alloc[i]))
	}
	for i := 0; i < NumSizeClasses; i++ {
		ft.Entries = append(ft.Entries, toFile(OpKfree, SizeClassName(i), &t.Free[i]))
	}
	var buf bytes.Buffer
	buf.WriteString(fileHeader)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&ft); err != nil {
		return nil, fmt.Errorf("cost: marshal: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("cost: marshal: %w", err)
	}
	return buf.Bytes(), nil
}

func toFile(op Op, class string, e *Entry) fileEntry {
	return fileEntry{Op: op.String(), Class: class, NS: e.NS, Low: e.Low, High: e.High,
		Source: string(e.Source), Spread: e.Spread, Date: e.Date, Kernel: e.Kernel, Ref: e.Ref, Note: e.Note}
}

// Validate checks that every entry is complete and well-formed. The error
// names the first bad entry.
func (t *Table) Validate() error {
	check := func(name string, e *Entry) error {
		if msg := checkEntry(e); msg != "" {
			return fmt.Errorf("cost: entry %s: %s: %w", name, msg, ErrInvalidTable)
		}
		return nil
	}
	for op := Op(0); op < NumOps; op++ {
		if err := check(op.String(), &t.Ops[op]); err != nil {
			return err
		}
	}
	for i := 0; i < NumSizeClasses; i++ {
		if err := check("kmalloc/"+SizeClassName(i), &t.Alloc[i]); err != nil {
			return err
		}
		if err := check("kfree/"+SizeClassName(i), &t.Free[i]); err != nil {
			return err
		}
	}
	return nil
}
