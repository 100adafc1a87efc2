package diff

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/skbsim/skbsim/internal/errno"
)

// MapKind is the local storage map type of a sequence map.
type MapKind uint8

// Map kinds.
const (
	SkMap   MapKind = iota // BPF_MAP_TYPE_SK_STORAGE
	TaskMap                // BPF_MAP_TYPE_TASK_STORAGE
)

func (k MapKind) String() string { return [...]string{"sk", "task"}[k] }

// KeyKind is the key a map is created with: key_size and the BTF the key
// type id refers to.
type KeyKind uint8

// Key kinds.
const (
	KeyInt       KeyKind = iota // key_size 4, BTF "int" (what local storage wants)
	KeyUint                     // key_size 4, BTF "unsigned int"
	KeyLongLong8                // key_size 8, BTF "long long"
	KeyLongLong4                // key_size 4, BTF "long long" (8 bytes): size mismatch
	KeyStruct                   // key_size 4, BTF struct { int fd; }
	KeyNoBTF                    // key_size 4, no BTF at all
)

func (k KeyKind) String() string {
	return [...]string{"int", "uint", "ll/8", "ll/4", "struct", "nobtf"}[k]
}

// MapConf is what a sequence creates a map with.
type MapConf struct {
	Kind       MapKind
	Key        KeyKind
	ValueSize  uint32
	MaxEntries uint32
	Flags      uint32
	// SpinLock puts a struct bpf_spin_lock at offset 0 of the value.
	SpinLock bool
}

// Map creation flags (BPF_F_*).
const (
	FlagNoPrealloc uint32 = 1 << 0
	FlagRdonly     uint32 = 1 << 3
	FlagClone      uint32 = 1 << 9
	FlagMmapable   uint32 = 1 << 10
)

// Element flags (BPF_ANY, BPF_NOEXIST, BPF_EXIST, BPF_F_LOCK).
const (
	UpdateAny     uint64 = 0
	UpdateNoExist uint64 = 1
	UpdateExist   uint64 = 2
	UpdateLock    uint64 = 4
)

// ValidConf returns a valid map configuration.
func ValidConf(k MapKind, valueSize uint32, clone bool) MapConf {
	c := MapConf{Kind: k, ValueSize: valueSize, Flags: FlagNoPrealloc}
	if clone {
		c.Flags |= FlagClone
	}
	return c
}

func (c MapConf) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s v=%d", c.Kind, c.ValueSize)
	if c.Flags != FlagNoPrealloc {
		fmt.Fprintf(&b, " flags=%#x", c.Flags)
	}
	if c.Key != KeyInt {
		fmt.Fprintf(&b, " key=%s", c.Key)
	}
	if c.MaxEntries != 0 {
		fmt.Fprintf(&b, " max=%d", c.MaxEntries)
	}
	if c.SpinLock {
		b.WriteString(" lock")
	}
	return b.String()
}

// Target is a key an operation uses: a socket, a listener, one side of a
// connection, a pidfd, another file, or a descriptor that is not open.
type Target uint8

// Targets. The pool sockets, listeners, pipe and pidfds live for a whole
// suite; the connection sockets exist after a connect step of their
// listener's kind and until they are closed.
const (
	TgtTCP0        Target = iota // unconnected TCP socket
	TgtTCP1                      // unconnected TCP socket
	TgtUDP                       // UDP socket
	TgtUnix                      // AF_UNIX stream socket
	TgtListenPlain               // TCP listener (kernel.ListenPlainTCP)
	TgtListenGo                  // Go's default (MPTCP) listener (kernel.ListenGoDefault)
	TgtListenMPTCP               // MPTCP listener with MPTCP clients (kernel.ListenMPTCP)
	TgtClientPlain               // client of the last connect to TgtListenPlain
	TgtClientGo                  // client of the last connect to TgtListenGo
	TgtClientMPTCP               // client of the last connect to TgtListenMPTCP
	TgtAccPlain                  // accepted socket of the last connect to TgtListenPlain
	TgtAccGo                     // accepted socket of the last connect to TgtListenGo
	TgtAccMPTCP                  // accepted socket of the last connect to TgtListenMPTCP
	TgtPipe                      // a pipe (not a socket, not a pidfd)
	TgtBadFD                     // a descriptor number that is not open
	TgtPidSelf                   // pidfd of the test process
	TgtPidChild                  // pidfd of a live child process
	TgtPidReaped                 // pidfd of a child that exited and was reaped
	numTargets
)

var targetNames = [numTargets]string{
	"tcp0", "tcp1", "udp", "unix", "listen-plain", "listen-go", "listen-mptcp",
	"client-plain", "client-go", "client-mptcp", "acc-plain", "acc-go", "acc-mptcp",
	"pipe", "badfd", "pid-self", "pid-child", "pid-reaped",
}

func (t Target) String() string {
	if t < numTargets {
		return targetNames[t]
	}
	return fmt.Sprintf("target%d", uint8(t))
}

// IsSocket reports whether the target is a socket (when open).
func (t Target) IsSocket() bool { return t <= TgtAccMPTCP }

// poolSocket reports whether the target is a pool socket that a close step
// replaces with a fresh socket of the same kind.
func (t Target) poolSocket() bool { return t <= TgtUnix }

// connSocket reports whether the target is one side of a connection.
func (t Target) connSocket() bool { return t >= TgtClientPlain && t <= TgtAccMPTCP }

// acceptedOf returns the listener kind of an accepted-socket target.
func (t Target) acceptedOf() (Listen, bool) {
	if t >= TgtAccPlain && t <= TgtAccMPTCP {
		return Listen(t - TgtAccPlain), true
	}
	return 0, false
}

// clientOf returns the listener kind of a client target.
func (t Target) clientOf() (Listen, bool) {
	if t >= TgtClientPlain && t <= TgtClientMPTCP {
		return Listen(t - TgtClientPlain), true
	}
	return 0, false
}

// Listen is the kind of a listener target (0 plain, 1 Go default, 2 MPTCP).
type Listen uint8

// Listener kinds, in kernel.ListenMode order.
const (
	ListenPlain Listen = iota
	ListenGo
	ListenMPTCP
)

func (l Listen) String() string { return [...]string{"plain", "go-default", "mptcp"}[l] }

func (l Listen) listener() Target { return TgtListenPlain + Target(l) }
func (l Listen) client() Target   { return TgtClientPlain + Target(l) }
func (l Listen) accepted() Target { return TgtAccPlain + Target(l) }

// clientMPTCP reports whether the listener kind's clients are MPTCP
// sockets: kernel.Listener.Connect dials with Dialer.SetMultipathTCP(true)
// only for ListenMPTCP (Go's default Dialer is plain TCP, kernel_lab §4).
func (l Listen) clientMPTCP() bool { return l == ListenMPTCP }

// Op is a sequence operation.
type Op uint8

// Operations.
const (
	OpCreateMap       Op = iota // create a map into an empty slot
	OpCloseMap                  // close the map's fd (the last reference: map free)
	OpUpdate                    // BPF_MAP_UPDATE_ELEM
	OpLookup                    // BPF_MAP_LOOKUP_ELEM
	OpDelete                    // BPF_MAP_DELETE_ELEM
	OpNextKey                   // BPF_MAP_GET_NEXT_KEY
	OpLookupAndDelete           // BPF_MAP_LOOKUP_AND_DELETE_ELEM
	OpClose                     // close a socket (pool sockets are replaced by a fresh one)
	OpConnect                   // connect to a listener and accept (passive open)
	OpSetOptmem                 // set net.core.optmem_max in the namespace (Step.Optmem)
)

var opNames = [...]string{"create-map", "close-map", "update", "lookup", "delete", "next-key",
	"lookup-and-delete", "close", "connect", "set-optmem"}

func (o Op) String() string {
	if int(o) < len(opNames) {
		return opNames[o]
	}
	return fmt.Sprintf("op%d", uint8(o))
}

// Step is one operation of a sequence.
type Step struct {
	Op     Op
	Map    int // map slot
	Target Target
	Flags  uint64
	// Fill seeds the value an update writes (see Value).
	Fill   byte
	Conf   MapConf // OpCreateMap
	Listen Listen  // OpConnect
	Optmem int     // OpSetOptmem
}

func (s Step) String() string {
	switch s.Op {
	case OpCreateMap:
		return fmt.Sprintf("create-map m%d (%s)", s.Map, s.Conf)
	case OpCloseMap:
		return fmt.Sprintf("close-map m%d", s.Map)
	case OpUpdate:
		return fmt.Sprintf("update m%d %s flags=%s fill=%#02x", s.Map, s.Target, flagString(s.Flags), s.Fill)
	case OpLookup:
		return fmt.Sprintf("lookup m%d %s flags=%s", s.Map, s.Target, flagString(s.Flags))
	case OpDelete, OpNextKey, OpLookupAndDelete:
		return fmt.Sprintf("%s m%d %s", s.Op, s.Map, s.Target)
	case OpClose:
		return fmt.Sprintf("close %s", s.Target)
	case OpConnect:
		return fmt.Sprintf("connect %s", s.Listen)
	case OpSetOptmem:
		return fmt.Sprintf("set-optmem %d", s.Optmem)
	}
	return s.Op.String()
}

func flagString(f uint64) string {
	names := []string{}
	switch f &^ UpdateLock {
	case UpdateAny:
		names = append(names, "ANY")
	case UpdateNoExist:
		names = append(names, "NOEXIST")
	case UpdateExist:
		names = append(names, "EXIST")
	default:
		names = append(names, fmt.Sprintf("%#x", f&^UpdateLock))
	}
	if f&UpdateLock != 0 {
		names = append(names, "F_LOCK")
	}
	return strings.Join(names, "|")
}

// Value returns the value an update with fill writes into a map with
// value_size n: byte i is fill + 7*i.
func Value(n uint32, fill byte) []byte {
	v := make([]byte, n)
	for i := range v {
		v[i] = fill + byte(7*i)
	}
	return v
}

// Sequence is one generated test case: the namespace's optmem_max and the
// steps.
type Sequence struct {
	OptmemMax int
	Steps     []Step
}

// Result is what one backend answered to one step.
type Result struct {
	// Skip says the step did not apply (no map in the slot, slot taken,
	// target not closable); both backends decide this from the sequence
	// alone, so a skip is never a disagreement by itself.
	Skip bool
	// Errno is the operation's errno (0 for success).
	Errno errno.Errno
	// Value is the value a successful lookup returned.
	Value []byte
	// Omem is sk_omem_alloc of every open socket target after the step
	// (absent: not open or not a socket).
	Omem map[Target]int
}

func (r Result) String() string {
	if r.Skip {
		return "skipped"
	}
	s := "ok"
	if r.Errno != 0 {
		s = r.Errno.Name()
	}
	if r.Value != nil {
		s += " value=" + shortHex(r.Value)
	}
	return s
}

func shortHex(b []byte) string {
	if len(b) <= 16 {
		return fmt.Sprintf("%x", b)
	}
	return fmt.Sprintf("%x..(%d bytes)", b[:16], len(b))
}

// compareResults returns "" when the model's and the kernel's results of a
// step agree, or a description of the difference.
func compareResults(model, kern Result) string {
	var d []string
	if model.Skip != kern.Skip {
		return fmt.Sprintf("model %s, kernel %s", model, kern)
	}
	if model.Errno != kern.Errno || !bytes.Equal(model.Value, kern.Value) {
		d = append(d, fmt.Sprintf("model %s, kernel %s", model, kern))
	}
	for t := range numTargets {
		mv, mok := model.Omem[t]
		kv, kok := kern.Omem[t]
		if mok != kok || mv != kv {
			d = append(d, fmt.Sprintf("sk_omem_alloc(%s): model %s, kernel %s", t, omemString(mv, mok), omemString(kv, kok)))
		}
	}
	return strings.Join(d, "; ")
}

func omemString(v int, ok bool) string {
	if !ok {
		return "n/a"
	}
	return fmt.Sprint(v)
}

// backend runs sequence steps. Errors returned by its methods are harness
// failures (a connection that could not be made, a socket that could not
// be opened); operation errnos travel in Result.
type backend interface {
	// begin starts a sequence with a fresh state and optmem_max.
	begin(optmemMax int) error
	// step runs one step (omem not filled in).
	step(s Step) (Result, error)
	// omem returns sk_omem_alloc of every open socket target.
	omem() (map[Target]int, error)
	// end releases the sequence's state (maps, connections, elements).
	end() error
}

// Mismatch is the first step on which the model and the kernel disagreed.
type Mismatch struct {
	Seq    Sequence
	Index  int // step index (0-based) in Seq.Steps
	Model  Result
	Kernel Result
	Detail string
}

// Error formats the mismatch with the whole sequence, marking the step.
func (m *Mismatch) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "step %d: %s: %s\n", m.Index, m.Seq.Steps[m.Index], m.Detail)
	fmt.Fprintf(&b, "sequence (optmem_max=%d):\n", m.Seq.OptmemMax)
	for i, s := range m.Seq.Steps[:m.Index+1] {
		mark := " "
		if i == m.Index {
			mark = ">"
		}
		fmt.Fprintf(&b, " %s %2d %s\n", mark, i, s)
	}
	return b.String()
}

// pair runs steps on the model and the kernel side by side and keeps the
// steps run so far for the report.
type pair struct {
	model, kern backend
	seq         Sequence
}

// begin starts a sequence on both backends; on error nothing needs ending.
func (p *pair) begin(optmemMax int) error {
	p.seq = Sequence{OptmemMax: optmemMax}
	if err := p.model.begin(optmemMax); err != nil {
		return fmt.Errorf("model: begin: %w", err)
	}
	if err := p.kern.begin(optmemMax); err != nil {
		return errors.Join(fmt.Errorf("kernel: begin: %w", err), p.model.end())
	}
	return nil
}

// do runs one step on both backends and compares the results. A connect
// after a set-optmem step is skipped on both sides without running: with
// optmem_max lowered below what the listener holds, the kernel's clone
// fails, the handshake's last ACK is dropped and accept() would not return.
func (p *pair) do(s Step) (*Mismatch, error) {
	if s.Op == OpConnect && p.optmemChanged() {
		p.seq.Steps = append(p.seq.Steps, s)
		return nil, nil
	}
	p.seq.Steps = append(p.seq.Steps, s)
	i := len(p.seq.Steps) - 1
	mr, err := fullStep(p.model, s)
	if err != nil {
		return nil, fmt.Errorf("model: step %d %s: %w", i, s, err)
	}
	kr, err := fullStep(p.kern, s)
	if err != nil {
		return nil, fmt.Errorf("kernel: step %d %s: %w", i, s, err)
	}
	if d := compareResults(mr, kr); d != "" {
		seq := Sequence{OptmemMax: p.seq.OptmemMax, Steps: append([]Step(nil), p.seq.Steps...)}
		return &Mismatch{Seq: seq, Index: i, Model: mr, Kernel: kr, Detail: d}, nil
	}
	return nil, nil
}

// optmemChanged reports whether a step of the sequence set optmem_max.
func (p *pair) optmemChanged() bool {
	for _, s := range p.seq.Steps {
		if s.Op == OpSetOptmem {
			return true
		}
	}
	return false
}

// emptySlot returns the first map slot that no step has filled or that a
// later step closed or failed to fill (0 when all are in use: the create
// is then skipped).
func (p *pair) emptySlot() int {
	var used [maxMaps]bool
	for _, s := range p.seq.Steps {
		switch s.Op {
		case OpCreateMap:
			used[s.Map] = true
		case OpCloseMap:
			used[s.Map] = false
		}
	}
	for i, u := range used {
		if !u {
			return i
		}
	}
	return 0
}

// end ends both backends.
func (p *pair) end() error {
	var errs []error
	if err := p.model.end(); err != nil {
		errs = append(errs, fmt.Errorf("model: end: %w", err))
	}
	if err := p.kern.end(); err != nil {
		errs = append(errs, fmt.Errorf("kernel: end: %w", err))
	}
	return errors.Join(errs...)
}

// runSequence runs seq on both backends step by step and returns the first
// disagreement (nil when all steps agree). Both backends are ended on every
// path.
func runSequence(model, kern backend, seq Sequence) (mm *Mismatch, err error) {
	p := &pair{model: model, kern: kern}
	if err := p.begin(seq.OptmemMax); err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, p.end()) }()
	for _, s := range seq.Steps {
		if mm, err := p.do(s); mm != nil || err != nil {
			return mm, err
		}
	}
	return nil, nil
}

func fullStep(b backend, s Step) (Result, error) {
	r, err := b.step(s)
	if err != nil {
		return r, err
	}
	r.Omem, err = b.omem()
	return r, err
}
