package compare

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/internal/errno"
)

// ErrDesign is matched by every error about a -designs list: unknown
// design names, unknown or misplaced options, bad option values.
var ErrDesign = errno.New("compare: bad design", errno.EINVAL)

// AllDesigns is what "all" expands to: the four RFC allocation strategies,
// the RFC and its slimmed storage at 1, 4 and 32 cache slots beside the
// kernel's 16 (BPF_LOCAL_STORAGE_CACHE_SIZE, which the plain names use
// unless the scenario sets carrier.cache_size), and the alternatives.
var AllDesigns = []string{
	"rfc", "rfc:cache=1", "rfc:cache=4", "rfc:cache=32",
	"rfc-coalloc", "rfc-prealloc",
	"rfc-slim", "rfc-slim:cache=1", "rfc-slim:cache=4", "rfc-slim:cache=32",
	carrier.NameExtBuffer, carrier.NameSkbHash, carrier.NameSkbHashLRU, carrier.NameXDPMeta,
}

// Design is one entry of a comparison: a carrier design and the options
// that override the scenario's carrier options for it.
type Design struct {
	// Label is the design as written ("rfc-slim:cache=32"); reports use it.
	Label string
	// Name is the carrier design (carrier.Names).
	Name string
	// CacheSize, Capacity, BufferSize and PreallocPool override the
	// scenario's carrier options when not 0.
	CacheSize, Capacity, BufferSize, PreallocPool int
}

// designOption is one NAME:key=value option: which designs take it and
// where it goes.
type designOption struct {
	key     string
	designs func(name string) bool
	max     int
	set     func(d *Design, v int)
}

func isRFC(n string) bool  { return n == "rfc" || strings.HasPrefix(n, "rfc-") }
func isHash(n string) bool { return n == carrier.NameSkbHash || n == carrier.NameSkbHashLRU }

var designOptions = []designOption{
	{"cache", isRFC, 1024, func(d *Design, v int) { d.CacheSize = v }},
	{"capacity", isHash, 1 << 24, func(d *Design, v int) { d.Capacity = v }},
	{"buffer", func(n string) bool { return n == carrier.NameExtBuffer }, 4096, func(d *Design, v int) { d.BufferSize = v }},
	{"pool", func(n string) bool { return n == "rfc-prealloc" }, 1 << 20, func(d *Design, v int) { d.PreallocPool = v }},
}

// ParseDesigns parses a comma-separated list of designs, each a carrier
// design name optionally followed by ":key=value" options (cache=N for the
// rfc designs, capacity=N for skb-hash and skb-hash-lru, buffer=N for
// ext-buffer, pool=N for rfc-prealloc). "all" expands to AllDesigns.
// Errors are one line and match ErrDesign.
func ParseDesigns(list string) ([]Design, error) {
	var out []Design
	seen := map[string]bool{}
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			return nil, fmt.Errorf("empty design name in %q: %w", list, ErrDesign)
		}
		items := []string{item}
		if item == "all" {
			items = AllDesigns
		}
		for _, it := range items {
			d, err := ParseDesign(it)
			if err != nil {
				return nil, err
			}
			if seen[d.Label] {
				return nil, fmt.Errorf("design %q listed twice: %w", d.Label, ErrDesign)
			}
			seen[d.Label] = true
			out = append(out, d)
		}
	}
	return out, nil
}

// ParseDesign parses one design, "NAME[:key=value]...".
func ParseDesign(s string) (Design, error) {
	parts := strings.Split(s, ":")
	d := Design{Label: s, Name: parts[0]}
	if !known(d.Name) {
		return Design{}, fmt.Errorf("design %q: unknown (known: %s, all): %w", d.Name, strings.Join(carrier.Names(), ", "), ErrDesign)
	}
	set := map[string]bool{}
	for _, p := range parts[1:] {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			return Design{}, fmt.Errorf("design %q: option %q is not key=value: %w", s, p, ErrDesign)
		}
		var opt *designOption
		for i := range designOptions {
			if designOptions[i].key == k {
				opt = &designOptions[i]
			}
		}
		if opt == nil {
			return Design{}, fmt.Errorf("design %q: unknown option %q (known: cache, capacity, buffer, pool): %w", s, k, ErrDesign)
		}
		if !opt.designs(d.Name) {
			return Design{}, fmt.Errorf("design %q: option %q does not apply to %s: %w", s, k, d.Name, ErrDesign)
		}
		if set[k] {
			return Design{}, fmt.Errorf("design %q: option %q given twice: %w", s, k, ErrDesign)
		}
		set[k] = true
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > opt.max {
			return Design{}, fmt.Errorf("design %q: %s=%s: want an integer from 1 to %d: %w", s, k, v, opt.max, ErrDesign)
		}
		opt.set(&d, n)
	}
	return d, nil
}

func known(name string) bool {
	for _, n := range carrier.Names() {
		if n == name {
			return true
		}
	}
	return false
}

// apply returns the scenario's carrier options with d's overrides.
func (d Design) apply(o carrier.Options) carrier.Options {
	if d.CacheSize != 0 {
		o.CacheSize = d.CacheSize
	}
	if d.Capacity != 0 {
		o.Capacity = d.Capacity
	}
	if d.BufferSize != 0 {
		o.BufferSize = d.BufferSize
	}
	if d.PreallocPool != 0 {
		o.PreallocPool = d.PreallocPool
	}
	return o
}
