package carrier_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/skb"
)

// design is a design under test with the hooks its programs use: the
// writer where the design can create a value, the reader downstream.
type design struct {
	name  string
	flags carrier.Flags
	opts  carrier.Options
	write carrier.Hook
	read  carrier.Hook
}

var designs = []design{
	{name: carrier.NameExtBuffer, write: carrier.HookTCIngress, read: carrier.HookTCIngress},
	{name: carrier.NameSkbHash, flags: carrier.FlagClone, write: carrier.HookTCIngress, read: carrier.HookTCIngress},
	{name: carrier.NameSkbHashLRU, flags: carrier.FlagClone, write: carrier.HookTCIngress, read: carrier.HookTCIngress},
	{name: carrier.NameXDPMeta, write: carrier.HookXDP, read: carrier.HookTCIngress},
	{name: "rfc", write: carrier.HookTCIngress, read: carrier.HookTCIngress},
	{name: "rfc-coalloc", write: carrier.HookTCIngress, read: carrier.HookTCIngress},
	{name: "rfc-prealloc", write: carrier.HookTCIngress, read: carrier.HookTCIngress},
	{name: "rfc-slim", write: carrier.HookTCIngress, read: carrier.HookTCIngress},
}

// wantFor returns the event's expected observation for design name; the
// rfc strategies share rfc's unless the event lists them.
func (ev *lifeEvent) wantFor(name string) (string, bool) {
	if w, ok := ev.want[name]; ok {
		return w, true
	}
	if strings.HasPrefix(name, "rfc-") {
		w, ok := ev.want["rfc"]
		return w, ok
	}
	return "", false
}

const (
	valA = "0a0b0c0d"
	valB = "b0b1b2b3"
)

var (
	bytesA = []byte{0x0a, 0x0b, 0x0c, 0x0d}
	bytesB = []byte{0xb0, 0xb1, 0xb2, 0xb3}
)

type lifeCtx struct {
	t   *testing.T
	d   design
	c   carrier.Carrier
	env carrier.Env
}

func (x *lifeCtx) skb() *skb.Buff { return rxSkb(x.t, x.env.Alloc) }

func (x *lifeCtx) store(b *skb.Buff, v []byte) string {
	return showErr(x.c.Store(x.d.write, b, 0, v))
}

// storeAt writes from the reader's hook (a second program downstream).
func (x *lifeCtx) storeAt(h carrier.Hook, b *skb.Buff, v []byte) string {
	return showErr(x.c.Store(h, b, 0, v))
}

func (x *lifeCtx) get(b *skb.Buff) string { return show(x.c.Lookup(x.d.read, b, 0)) }

func (x *lifeCtx) objects() int64 { o, _ := x.env.Acct.Live(); return o }

// A lifecycle event: the scenario returns what the programs observed, and
// want holds the observation per design.
type lifeEvent struct {
	name string
	run  func(x *lifeCtx) string
	want map[string]string
}

var lifeEvents = []lifeEvent{
	{
		name: "store then lookup",
		run: func(x *lifeCtx) string {
			b := x.skb()
			defer b.ConsumeSkb()
			return x.get(b) + " " + x.store(b, bytesA) + " " + x.get(b)
		},
		want: all("ENOENT ok " + valA),
	},
	{
		name: "overwrite and delete",
		run: func(x *lifeCtx) string {
			b := x.skb()
			defer b.ConsumeSkb()
			x.store(b, bytesA)
			x.store(b, bytesB)
			r := x.get(b)
			r += " " + showErr(x.c.Delete(x.d.write, b, 0)) + " " + x.get(b)
			return r + " " + showErr(x.c.Delete(x.d.write, b, 0))
		},
		want: all(valB + " ok ENOENT ENOENT"),
	},
	{
		name: "clone then read both",
		run: func(x *lifeCtx) string {
			b := x.skb()
			x.store(b, bytesA)
			n, err := b.Clone()
			require.NoError(x.t, err)
			defer n.ConsumeSkb()
			defer b.ConsumeSkb()
			return "orig=" + x.get(b) + " clone=" + x.get(n)
		},
		want: map[string]string{
			carrier.NameExtBuffer:  "orig=" + valA + " clone=" + valA,
			carrier.NameSkbHash:    "orig=" + valA + " clone=" + valA,
			carrier.NameSkbHashLRU: "orig=" + valA + " clone=" + valA,
			carrier.NameXDPMeta:    "orig=" + valA + " clone=" + valA,
			"rfc":                  "orig=EOPNOTSUPP clone=EOPNOTSUPP",
		},
	},
	{
		name: "clone then write the clone at tc",
		run: func(x *lifeCtx) string {
			b := x.skb()
			x.store(b, bytesA)
			n, err := b.Clone()
			require.NoError(x.t, err)
			defer n.ConsumeSkb()
			defer b.ConsumeSkb()
			w := x.storeAt(carrier.HookTCIngress, n, bytesB)
			return w + " orig=" + x.get(b) + " clone=" + x.get(n)
		},
		want: map[string]string{
			carrier.NameExtBuffer:  "ok orig=" + valA + " clone=" + valB,
			carrier.NameSkbHash:    "ok orig=" + valA + " clone=" + valB,
			carrier.NameSkbHashLRU: "ok orig=" + valA + " clone=" + valB,
			// v6.18: the unclone prologue's pskb_expand_head clears meta_len.
			carrier.NameXDPMeta: "E2BIG orig=" + valA + " clone=ENOENT",
			// RFC: both sides refused while the extension is shared.
			"rfc": "EOPNOTSUPP orig=EOPNOTSUPP clone=EOPNOTSUPP",
		},
	},
	{
		name: "skb_copy",
		run: func(x *lifeCtx) string {
			b := x.skb()
			x.store(b, bytesA)
			n, err := b.Copy()
			require.NoError(x.t, err)
			defer n.ConsumeSkb()
			defer b.ConsumeSkb()
			return "orig=" + x.get(b) + " copy=" + x.get(n)
		},
		want: map[string]string{
			carrier.NameExtBuffer:  "orig=" + valA + " copy=" + valA,
			carrier.NameSkbHash:    "orig=" + valA + " copy=" + valA,
			carrier.NameSkbHashLRU: "orig=" + valA + " copy=" + valA,
			carrier.NameXDPMeta:    "orig=" + valA + " copy=ENOENT",
			"rfc":                  "orig=" + valA + " copy=" + valA, // shared extension, neither is cloned
		},
	},
	{
		name: "scrub in one netns",
		run:  scrub(false),
		want: map[string]string{
			carrier.NameExtBuffer:  "ENOENT",
			carrier.NameSkbHash:    valA,
			carrier.NameSkbHashLRU: valA,
			carrier.NameXDPMeta:    valA,
			"rfc":                  "ENOENT",
		},
	},
	{
		name: "scrub across netns",
		run:  scrub(true),
		want: map[string]string{
			carrier.NameExtBuffer:  "ENOENT",
			carrier.NameSkbHash:    valA,
			carrier.NameSkbHashLRU: valA,
			carrier.NameXDPMeta:    valA,
			"rfc":                  "ENOENT",
		},
	},
	{
		name: "skb_ext COW by another extension, then write the clone",
		run: func(x *lifeCtx) string {
			b := x.skb()
			x.store(b, bytesA)
			n, err := b.Clone()
			require.NoError(x.t, err)
			defer n.ConsumeSkb()
			defer b.ConsumeSkb()
			_, err = b.ExtAdd(skb.ExtTC) // the stack adds an extension: COW of the shared object
			require.NoError(x.t, err)
			r := "orig=" + x.get(b) + " clone=" + x.get(n)
			x.storeAt(x.d.read, n, bytesB)
			return r + " then orig=" + x.get(b)
		},
		want: map[string]string{
			carrier.NameExtBuffer:  "orig=" + valA + " clone=" + valA + " then orig=" + valA,
			carrier.NameSkbHash:    "orig=" + valA + " clone=" + valA + " then orig=" + valA,
			carrier.NameSkbHashLRU: "orig=" + valA + " clone=" + valA + " then orig=" + valA,
			carrier.NameXDPMeta:    "orig=" + valA + " clone=" + valA + " then orig=" + valA,
			// The COW copy has no storage; the clone's object is private now.
			"rfc": "orig=ENOENT clone=" + valA + " then orig=ENOENT",
		},
	},
	{
		name: "pskb_expand_head",
		run: func(x *lifeCtx) string {
			b := x.skb()
			defer b.ConsumeSkb()
			x.store(b, bytesA)
			require.NoError(x.t, b.ExpandHead(64, 0))
			return x.get(b)
		},
		want: map[string]string{
			carrier.NameExtBuffer:  valA,
			carrier.NameSkbHash:    valA,
			carrier.NameSkbHashLRU: valA,
			carrier.NameXDPMeta:    "ENOENT", // skb_metadata_clear() up to v6.18
			"rfc":                  valA,
		},
	},
	{
		name: "push over the metadata bytes",
		run: func(x *lifeCtx) string {
			b := x.skb()
			defer b.ConsumeSkb()
			x.store(b, bytesA)
			copy(b.Push(skb.EthHlen), make([]byte, skb.EthHlen)) // an outer header
			return x.get(b)
		},
		want: map[string]string{
			carrier.NameExtBuffer:  valA,
			carrier.NameSkbHash:    valA,
			carrier.NameSkbHashLRU: valA,
			carrier.NameXDPMeta:    "ENOENT",
			"rfc":                  valA,
		},
	},
	{
		name: "decap moves the mac header",
		run: func(x *lifeCtx) string {
			b := x.skb()
			defer b.ConsumeSkb()
			x.store(b, bytesA)
			_, ok := b.Pull(skb.EthHlen + 20 + 8) // outer eth, ip, udp
			require.True(x.t, ok)
			b.ResetMacHeader() // eth_type_trans on the inner frame
			return x.get(b)
		},
		want: map[string]string{
			carrier.NameExtBuffer:  valA,
			carrier.NameSkbHash:    valA,
			carrier.NameSkbHashLRU: valA,
			carrier.NameXDPMeta:    "ENOENT",
			"rfc":                  valA,
		},
	},
	{
		name: "GRO frees a second skb",
		run: func(x *lifeCtx) string {
			p := x.skb()
			x.store(p, bytesA)
			before := x.objects()
			s := x.skb()
			x.store(s, bytesA)
			s.ConsumeSkb() // napi_skb_free_stolen_head / __kfree_skb of the merged skb
			carrier.GracePeriod(x.c)
			defer p.ConsumeSkb()
			return fmt.Sprintf("head=%s objects%+d", x.get(p), x.objects()-before)
		},
		want: map[string]string{
			carrier.NameExtBuffer:  "head=" + valA + " objects+0",
			carrier.NameSkbHash:    "head=" + valA + " objects+0",
			carrier.NameSkbHashLRU: "head=" + valA + " objects+0",
			carrier.NameXDPMeta:    "head=" + valA + " objects+0",
			"rfc":                  "head=" + valA + " objects+0",
			// The grace period's refill replaces what the head packet took.
			"rfc-prealloc": "head=" + valA + " objects+2",
		},
	},
	{
		name: "free and reap",
		run: func(x *lifeCtx) string {
			before := x.objects()
			b := x.skb()
			x.store(b, bytesA)
			during := x.objects() - before
			b.KfreeSkb(skb.DropTCIngress)
			carrier.GracePeriod(x.c)
			return fmt.Sprintf("during%+d after%+d", during, x.objects()-before)
		},
		want: map[string]string{
			carrier.NameExtBuffer:  "during+3 after+0", // sk_buff, head, skb_ext
			carrier.NameSkbHash:    "during+3 after+0", // sk_buff, head, htab elem
			carrier.NameSkbHashLRU: "during+2 after+0", // elements preallocated
			carrier.NameXDPMeta:    "during+2 after+0",
			"rfc":                  "during+5 after+0", // sk_buff, head, skb_ext, storage, element
			"rfc-coalloc":          "during+4 after+0", // storage and element in one allocation
			"rfc-prealloc":         "during+3 after+0", // storage and element from the pool
			"rfc-slim":             "during+4 after+0", // storage inside the skb_ext chunk
		},
	},
	{
		name: "pool reuse of the sk_buff",
		run: func(x *lifeCtx) string {
			b := x.skb()
			x.store(b, bytesA)
			b.ConsumeSkb()
			n := x.skb()
			defer n.ConsumeSkb()
			return x.get(n)
		},
		want: all("ENOENT"),
	},
}

func all(s string) map[string]string {
	m := map[string]string{}
	for _, d := range designs {
		m[d.name] = s
	}
	return m
}

func scrub(xnet bool) func(x *lifeCtx) string {
	return func(x *lifeCtx) string {
		b := x.skb()
		defer b.ConsumeSkb()
		x.store(b, bytesA)
		b.Scrub(xnet)
		return x.get(b)
	}
}

// TestLifecycle runs every event under every design and checks the
// observation; with -v it logs the table of observations (A and B stand
// for the two values).
func TestLifecycle(t *testing.T) {
	got := map[string]string{}
	for _, ev := range lifeEvents {
		for _, d := range designs {
			want, ok := ev.wantFor(d.name)
			if !ok {
				continue
			}
			t.Run(ev.name+"/"+d.name, func(t *testing.T) {
				c, env := mustNew(t, d.name, []carrier.MapSpec{{Name: "m", ValueSize: 4, Flags: d.flags}}, d.opts)
				x := &lifeCtx{t: t, d: d, c: c, env: env}
				obs := ev.run(x)
				got[ev.name+"/"+d.name] = obs
				require.Equal(t, want, obs)
			})
		}
	}
	var sb strings.Builder
	sb.WriteString("| event |")
	for _, d := range designs {
		fmt.Fprintf(&sb, " %s |", d.name)
	}
	sb.WriteString("\n")
	for _, ev := range lifeEvents {
		fmt.Fprintf(&sb, "| %s |", ev.name)
		for _, d := range designs {
			o := strings.ReplaceAll(strings.ReplaceAll(got[ev.name+"/"+d.name], valA, "A"), valB, "B")
			fmt.Fprintf(&sb, " %s |", o)
		}
		sb.WriteString("\n")
	}
	t.Log("\n" + sb.String())
}
