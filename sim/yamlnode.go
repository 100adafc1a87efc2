package sim

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// ParseError is a scenario error at a place in a scenario file. Its message
// is one line, "file:line:col: msg", and it matches ErrScenario under
// errors.Is.
type ParseError struct {
	File         string
	Line, Column int
	Msg          string
}

func (e *ParseError) Error() string {
	if e.Line == 0 {
		return e.File + ": " + e.Msg
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
}

// Unwrap makes every ParseError match ErrScenario.
func (e *ParseError) Unwrap() error { return ErrScenario }

// dec walks a yaml.Node tree strictly: every error names file:line:col.
type dec struct {
	file string
}

func (d *dec) errf(n *yaml.Node, format string, args ...any) error {
	e := &ParseError{File: d.file, Msg: oneLine(fmt.Sprintf(format, args...))}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	return e
}

func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

// kind names a node kind for messages.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "a document"
}

// fields checks that n is a mapping whose keys are all in allowed (no
// duplicates) and returns the values by key.
func (d *dec) fields(n *yaml.Node, what string, allowed ...string) (map[string]*yaml.Node, error) {
	if n.Kind != yaml.MappingNode {
		return nil, d.errf(n, "%s: want a mapping, got %s", what, kindName(n))
	}
	out := make(map[string]*yaml.Node, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, d.errf(k, "%s: keys must be names", what)
		}
		if !slices.Contains(allowed, k.Value) {
			return nil, d.errf(k, "%s: unknown key %q (known: %s)", what, k.Value, strings.Join(allowed, ", "))
		}
		if _, dup := out[k.Value]; dup {
			return nil, d.errf(k, "%s: key %q given twice", what, k.Value)
		}
		out[k.Value] = v
	}
	return out, nil
}

// need returns the value of a required key.
func (d *dec) need(m map[string]*yaml.Node, parent *yaml.Node, what, key string) (*yaml.Node, error) {
	v, ok := m[key]
	if !ok {
		return nil, d.errf(parent, "%s: missing %q", what, key)
	}
	return v, nil
}

func (d *dec) list(n *yaml.Node, what string) ([]*yaml.Node, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, d.errf(n, "%s: want a list, got %s", what, kindName(n))
	}
	return n.Content, nil
}

func (d *dec) scalar(n *yaml.Node, what string) (string, error) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return "", d.errf(n, "%s: want a value, got %s", what, kindName(n))
	}
	return n.Value, nil
}

// name is a non-empty identifier-like scalar.
func (d *dec) name(n *yaml.Node, what string) (string, error) {
	s, err := d.scalar(n, what)
	if err != nil {
		return "", err
	}
	if s == "" || strings.ContainsAny(s, " \t,:") {
		return "", d.errf(n, "%s: bad name %q", what, s)
	}
	return s, nil
}

func (d *dec) integer(n *yaml.Node, what string, lo, hi int64) (int64, error) {
	s, err := d.scalar(n, what)
	if err != nil {
		return 0, err
	}
	v, perr := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 0, 64)
	if perr != nil {
		return 0, d.errf(n, "%s: want an integer, got %q", what, s)
	}
	if v < lo || v > hi {
		return 0, d.errf(n, "%s: %d out of range [%d, %d]", what, v, lo, hi)
	}
	return v, nil
}

func (d *dec) uint64v(n *yaml.Node, what string) (uint64, error) {
	s, err := d.scalar(n, what)
	if err != nil {
		return 0, err
	}
	v, perr := strconv.ParseUint(strings.ReplaceAll(s, "_", ""), 0, 64)
	if perr != nil {
		return 0, d.errf(n, "%s: want an unsigned integer, got %q", what, s)
	}
	return v, nil
}

func (d *dec) intv(n *yaml.Node, what string, lo, hi int) (int, error) {
	v, err := d.integer(n, what, int64(lo), int64(hi))
	return int(v), err
}

func (d *dec) boolean(n *yaml.Node, what string) (bool, error) {
	s, err := d.scalar(n, what)
	if err != nil {
		return false, err
	}
	switch s {
	case "true", "yes", "on":
		return true, nil
	case "false", "no", "off":
		return false, nil
	}
	return false, d.errf(n, "%s: want true or false, got %q", what, s)
}

func (d *dec) enum(n *yaml.Node, what string, values ...string) (string, error) {
	s, err := d.scalar(n, what)
	if err != nil {
		return "", err
	}
	if !slices.Contains(values, s) {
		return "", d.errf(n, "%s: unknown value %q (known: %s)", what, s, strings.Join(values, ", "))
	}
	return s, nil
}

func (d *dec) prefix(n *yaml.Node, what string) (netip.Prefix, error) {
	s, err := d.scalar(n, what)
	if err != nil {
		return netip.Prefix{}, err
	}
	if s == "default" {
		return netip.Prefix{}, nil
	}
	p, perr := netip.ParsePrefix(s)
	if perr != nil {
		if a, aerr := netip.ParseAddr(s); aerr == nil {
			return netip.PrefixFrom(a, a.BitLen()), nil
		}
		return netip.Prefix{}, d.errf(n, "%s: want an address or prefix, got %q", what, s)
	}
	return p.Masked(), nil
}

func (d *dec) addr(n *yaml.Node, what string) (netip.Addr, error) {
	s, err := d.scalar(n, what)
	if err != nil {
		return netip.Addr{}, err
	}
	a, perr := netip.ParseAddr(s)
	if perr != nil {
		return netip.Addr{}, d.errf(n, "%s: want an IP address, got %q", what, s)
	}
	return a, nil
}

// addrPort reads address:port ("10.0.0.1:80", "[2001:db8::1]:443").
func (d *dec) addrPort(n *yaml.Node, what string) (netip.AddrPort, error) {
	s, err := d.scalar(n, what)
	if err != nil {
		return netip.AddrPort{}, err
	}
	ap, perr := netip.ParseAddrPort(s)
	if perr != nil || ap.Port() == 0 || ap.Addr().IsUnspecified() || ap.Addr().Zone() != "" {
		return netip.AddrPort{}, d.errf(n, "%s: want address:port like 10.0.0.1:80 or [2001:db8::1]:443, got %q", what, s)
	}
	return ap, nil
}

// port reads a port number.
func (d *dec) port(n *yaml.Node, what string) (uint16, error) {
	v, err := d.integer(n, what, 0, math.MaxUint16)
	return uint16(v), err
}

// onOff reads a feature switch: on/off (or true/false), normalised to
// "on" or "off".
func (d *dec) onOff(n *yaml.Node, what string) (string, error) {
	on, err := d.boolean(n, what)
	if err != nil {
		return "", d.errf(n, "%s: want on or off", what)
	}
	if on {
		return "on", nil
	}
	return "off", nil
}
