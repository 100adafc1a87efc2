package proptest

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/netstack"
	"github.com/skbsim/skbsim/sim"
	"github.com/skbsim/skbsim/skb"
)

// FuzzScenarioParse feeds arbitrary YAML to the scenario loader. Errors are
// one-line *sim.ParseError values naming fuzz.yaml:line:col within the
// input and matching sim.ErrScenario; parsing is deterministic and Copy
// is equal; the kernel profile of an accepted scenario exists; and the
// stack builds from it as sim's shards build it, or fails with
// netstack.ErrConfig but never for a reference to an undeclared element,
// which Parse promises to report itself.
func FuzzScenarioParse(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("..", "examples", "*.yaml"))
	if err != nil || len(seeds) == 0 {
		f.Fatalf("no example scenarios: %v", err)
	}
	seeds = append(seeds, filepath.Join("..", "sim", "scenarios", "default.yaml"))
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("name: x\nunknown: 1\n"))
	f.Add([]byte("design: skb-hash\nmaps: [{name: m, value_size: 0}]\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		// A hang becomes a crash with every goroutine's stack.
		tm := time.AfterFunc(5*time.Second, func() { debug.SetTraceback("all"); panic("scenario parse hangs") })
		defer tm.Stop()
		s, err := sim.Parse("fuzz.yaml", src)
		if err != nil {
			var pe *sim.ParseError
			if !errors.As(err, &pe) || !errors.Is(err, sim.ErrScenario) {
				t.Fatalf("error %T %v is not a *sim.ParseError matching ErrScenario", err, err)
			}
			msg := err.Error()
			if strings.ContainsAny(msg, "\r\n") || !strings.HasPrefix(msg, "fuzz.yaml:") {
				t.Fatalf("error %q is not one line naming the file", msg)
			}
			if lines := yamlLines(src); pe.Line < 0 || pe.Line > lines+1 {
				t.Fatalf("error at line %d of a %d-line input: %v", pe.Line, lines, err)
			}
			return
		}
		again, err := sim.Parse("fuzz.yaml", src)
		if err != nil || !reflect.DeepEqual(s, again) {
			t.Fatalf("second parse differs (err %v)", err)
		}
		if !reflect.DeepEqual(s, s.Copy()) {
			t.Fatalf("Copy differs from the scenario")
		}
		prof, err := skb.ProfileByName(s.Kernel)
		if err != nil {
			t.Fatalf("accepted kernel %q: %v", s.Kernel, err)
		}
		acct := kmem.New()
		a := skb.NewAllocator(acct, prof)
		var c carrier.Carrier
		if len(s.Maps) != 0 {
			// As sim's shards do; a design that refuses the maps is a
			// replay-time error naming the design's position.
			c, err = carrier.New(s.Design, carrier.Env{Alloc: a, Acct: acct}, s.Maps, s.Carrier)
			if err != nil {
				return
			}
			defer c.Close()
		}
		st, err := netstack.New(s.Stack.Copy(), netstack.Env{Alloc: a, Carrier: c, Maps: s.Maps})
		if err != nil {
			if !errors.Is(err, netstack.ErrConfig) {
				t.Fatalf("netstack.New: %v does not match ErrConfig", err)
			}
			if strings.Contains(err.Error(), "unknown") {
				t.Fatalf("the loader accepted a reference the stack does not know (Parse promises a *ParseError): %v", err)
			}
			return
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

// yamlLines counts src's lines as YAML does (its line breaks are CRLF, CR
// and LF), which is how the parser numbers the line an error names.
func yamlLines(src []byte) int {
	n := 1
	for i := 0; i < len(src); i++ {
		switch src[i] {
		case '\r':
			if i+1 < len(src) && src[i+1] == '\n' {
				i++
			}
			n++
		case '\n':
			n++
		}
	}
	return n
}
