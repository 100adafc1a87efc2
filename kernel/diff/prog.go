package diff

import (
	"encoding/binary"
	"fmt"
	"strings"

	"pgregory.net/rapid"

	"github.com/skbsim/skbsim/internal/errno"
	"github.com/skbsim/skbsim/localstorage"
)

// ProgMode is what the program-side storage programs do per packet
// (kernel.StorageMode: 0 create, 1 lookup, 2 delete).
type ProgMode uint8

// Program modes.
const (
	ProgCreate ProgMode = iota // bpf_sk_storage_get(F_CREATE), count
	ProgLookup                 // bpf_sk_storage_get(0), count if present
	ProgDelete                 // bpf_sk_storage_delete
)

func (m ProgMode) String() string { return [...]string{"create", "lookup", "delete"}[m] }

// progSockets is the number of UDP sockets of a program-side sequence.
const progSockets = 3

// ProgStep is one step of a program-side sequence: switch the programs'
// mode, or send one UDP datagram of Len payload bytes from socket From to
// socket To (both bound to 127.0.0.1 in the harness's namespace, created
// inside the cgroup the programs are attached to).
type ProgStep struct {
	SetMode  bool
	Mode     ProgMode
	From, To int
	Len      int
}

func (s ProgStep) String() string {
	if s.SetMode {
		return "mode " + s.Mode.String()
	}
	return fmt.Sprintf("send udp%d -> udp%d len=%d", s.From, s.To, s.Len)
}

// progValueSize is sizeof(struct skval) of kernel/bpf/skstorage.c: five
// u64 counters (egress pkts/bytes, ingress pkts/bytes, sockops mask).
const progValueSize = 40

// ProgStat mirrors struct pstat of skstorage.c: helper results of one
// program.
type ProgStat struct {
	Runs, Got, Null, DelOK, DelErr uint64
	LastErr                        int64
}

// progState is what both backends report after a program-side step.
type progState struct {
	// Values holds each socket's element (nil: none) as the syscall side
	// reads it.
	Values [progSockets][]byte
	Omem   [progSockets]int
	// Stats of the egress and ingress programs.
	Stats [2]ProgStat
}

func (p progState) diff(k progState) string {
	var d []string
	for i := range progSockets {
		if string(p.Values[i]) != string(k.Values[i]) {
			d = append(d, fmt.Sprintf("udp%d value: model %s, kernel %s", i, skvalString(p.Values[i]), skvalString(k.Values[i])))
		}
		if p.Omem[i] != k.Omem[i] {
			d = append(d, fmt.Sprintf("udp%d sk_omem_alloc: model %d, kernel %d", i, p.Omem[i], k.Omem[i]))
		}
	}
	for i, n := range []string{"egress", "ingress"} {
		if p.Stats[i] != k.Stats[i] {
			d = append(d, fmt.Sprintf("%s stats: model %+v, kernel %+v", n, p.Stats[i], k.Stats[i]))
		}
	}
	return strings.Join(d, "; ")
}

func skvalString(v []byte) string {
	if v == nil {
		return "none (ENOENT)"
	}
	var f [5]uint64
	for i := range f {
		f[i] = binary.LittleEndian.Uint64(v[8*i:])
	}
	return fmt.Sprintf("{eg %d/%dB in %d/%dB ops %#x}", f[0], f[1], f[2], f[3], f[4])
}

// udpSkbLen is skb->len of a UDP/IPv4 datagram at the cgroup_skb hooks:
// both see the packet from the network header (egress from
// ip_finish_output, ingress after __cgroup_bpf_run_filter_skb pushes back
// to the network header), 20 + 8 + payload bytes (kernel_lab §6).
func udpSkbLen(payload int) uint64 { return uint64(20 + 8 + payload) }

// progBackend runs program-side sequences.
type progBackend interface {
	begin() error
	step(ProgStep) error
	state() (progState, error)
	end() error
}

// progModel runs the programs of kernel/bpf/skstorage.c on the model: its
// storage() and count_skb() are restated here over localstorage's helpers.
type progModel struct {
	env   *localstorage.Env
	m     *localstorage.Map
	socks [progSockets]*localstorage.Sock
	mode  ProgMode
	stats [2]ProgStat
}

func (p *progModel) begin() error {
	p.env = localstorage.NewEnv(localstorage.Config{Profile: localstorage.ProfileV6_18})
	var err error
	p.m, err = p.env.CreateMap(localstorage.Spec(localstorage.MapTypeSkStorage, progValueSize, 0))
	if err != nil {
		return err
	}
	net := localstorage.NewNetCore()
	for i := range p.socks {
		p.socks[i] = localstorage.NewSock(net)
	}
	p.mode, p.stats = ProgCreate, [2]ProgStat{}
	return nil
}

// run is skstorage.c's storage() + count_skb() for program prog (0 egress,
// 1 ingress) on the packet's socket.
func (p *progModel) run(prog int, sk *localstorage.Sock, skbLen uint64) {
	st := &p.stats[prog]
	st.Runs++
	if p.mode == ProgDelete {
		if err := p.m.SkStorageDelete(sk); err != nil {
			st.DelErr++
			st.LastErr = -int64(errno.Of(err))
		} else {
			st.DelOK++
		}
		return
	}
	flags := uint64(0)
	if p.mode == ProgCreate {
		flags = localstorage.GetCreate
	}
	v, _ := p.m.SkStorageGet(sk, nil, flags)
	if v == nil {
		st.Null++
		return
	}
	st.Got++
	off := 16 * prog // egress counters at 0, ingress at 16
	binary.LittleEndian.PutUint64(v[off:], binary.LittleEndian.Uint64(v[off:])+1)
	binary.LittleEndian.PutUint64(v[off+8:], binary.LittleEndian.Uint64(v[off+8:])+skbLen)
}

func (p *progModel) step(s ProgStep) error {
	if s.SetMode {
		p.mode = s.Mode
		return nil
	}
	n := udpSkbLen(s.Len)
	p.run(0, p.socks[s.From], n)
	p.run(1, p.socks[s.To], n)
	return nil
}

func (p *progModel) state() (progState, error) {
	var st progState
	files := localstorage.NewFDTable()
	for i, sk := range p.socks {
		fd := files.Install(sk)
		v := make([]byte, progValueSize)
		if err := p.m.LookupElem(files, fd, v, 0); err == nil {
			st.Values[i] = v
		} else if errno.Of(err) != errno.ENOENT {
			return st, err
		}
		st.Omem[i] = sk.OmemAlloc()
	}
	st.Stats = p.stats
	return st, nil
}

func (p *progModel) end() error {
	p.env.Close()
	return nil
}

// ProgMismatch is the first program-side step where the model and the
// kernel disagreed.
type ProgMismatch struct {
	Steps  []ProgStep
	Detail string
}

func (m *ProgMismatch) Error() string {
	var b strings.Builder
	i := len(m.Steps) - 1
	fmt.Fprintf(&b, "step %d: %s: %s\nsequence:\n", i, m.Steps[i], m.Detail)
	for j, s := range m.Steps {
		mark := " "
		if j == i {
			mark = ">"
		}
		fmt.Fprintf(&b, " %s %2d %s\n", mark, j, s)
	}
	return b.String()
}

// progPair runs program-side steps on both backends.
type progPair struct {
	model, kern progBackend
	steps       []ProgStep
	// ran counts every step run (all sequences).
	ran int
}

func (p *progPair) begin() error {
	p.steps = nil
	if err := p.model.begin(); err != nil {
		return fmt.Errorf("model: %w", err)
	}
	if err := p.kern.begin(); err != nil {
		return fmt.Errorf("kernel: %w", err)
	}
	return nil
}

func (p *progPair) do(s ProgStep) (*ProgMismatch, error) {
	p.steps = append(p.steps, s)
	p.ran++
	if err := p.model.step(s); err != nil {
		return nil, fmt.Errorf("model: %s: %w", s, err)
	}
	if err := p.kern.step(s); err != nil {
		return nil, fmt.Errorf("kernel: %s: %w", s, err)
	}
	ms, err := p.model.state()
	if err != nil {
		return nil, fmt.Errorf("model: state: %w", err)
	}
	ks, err := p.kern.state()
	if err != nil {
		return nil, fmt.Errorf("kernel: state: %w", err)
	}
	if d := ms.diff(ks); d != "" {
		return &ProgMismatch{Steps: append([]ProgStep(nil), p.steps...), Detail: d}, nil
	}
	return nil, nil
}

func (p *progPair) end() error {
	var errs []error
	if err := p.model.end(); err != nil {
		errs = append(errs, fmt.Errorf("model: %w", err))
	}
	if err := p.kern.end(); err != nil {
		errs = append(errs, fmt.Errorf("kernel: %w", err))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%v", errs)
	}
	return nil
}

// progProperty returns the rapid property of the program-side suite.
func progProperty(p *progPair, found func(*ProgMismatch), seqs *int) func(*rapid.T) {
	return func(t *rapid.T) {
		if err := p.begin(); err != nil {
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
		do := func(s ProgStep) {
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
		send := func(t *rapid.T) {
			do(ProgStep{From: rapid.IntRange(0, progSockets-1).Draw(t, "from"),
				To: rapid.IntRange(0, progSockets-1).Draw(t, "to"), Len: rapid.SampledFrom([]int{0, 1, 16, 1000}).Draw(t, "len")})
		}
		t.Repeat(map[string]func(*rapid.T){
			"mode":   func(t *rapid.T) { do(ProgStep{SetMode: true, Mode: ProgMode(rapid.IntRange(0, 2).Draw(t, "mode"))}) },
			"send":   send,
			"send-2": send,
			"send-3": send,
		})
	}
}
