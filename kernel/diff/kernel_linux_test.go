package diff

import (
	"context"
	"flag"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/internal/errno"
	"github.com/skbsim/skbsim/internal/testutil"
	"github.com/skbsim/skbsim/kernel"
	"github.com/skbsim/skbsim/kernel/observe"
	"github.com/skbsim/skbsim/localstorage"
)

// runSuite runs one suite through Run, logs the agreement table and
// requires the suite to be OK (no new or stale divergence, no harness
// error).
func runSuite(t *testing.T, name string, opts Options) SuiteResult {
	t.Helper()
	testutil.KernelTests(t)
	opts.Suites = []string{name}
	if opts.Seed == 0 {
		opts.Seed = testutil.Seed(t)
	}
	opts.Checks = checks()
	rep, err := Run(context.Background(), opts)
	require.NoError(t, err)
	var b strings.Builder
	require.NoError(t, rep.Format(&b))
	t.Logf("\n%s", b.String())
	res, ok := rep.Suite(name)
	require.True(t, ok)
	require.Empty(t, res.NotRun)
	require.Empty(t, res.Errors, "harness errors")
	require.Empty(t, res.Stale, "stale entries in knownDivergences")
	require.Empty(t, res.New, "new divergences between the model and the kernel")
	require.Positive(t, res.Cases)
	return res
}

// checks is the number of generated sequences per rapid suite:
// -rapid.checks when given (rapid's default is 100), else DefaultChecks.
func checks() int {
	if f := flag.Lookup("rapid.checks"); f != nil && f.Value.String() != f.DefValue {
		if n, err := strconv.Atoi(f.Value.String()); err == nil && n > 0 {
			return n
		}
	}
	return DefaultChecks
}

func TestKernelStorageCreate(t *testing.T) {
	res := runSuite(t, SuiteCreate, Options{})
	require.Equal(t, len(createCases()), res.Cases)
}

func TestKernelStorageKeys(t *testing.T) { runSuite(t, SuiteKeys, Options{}) }

func TestKernelStorageCharge(t *testing.T) { runSuite(t, SuiteCharge, Options{}) }

func TestKernelStorageClone(t *testing.T) { runSuite(t, SuiteClone, Options{}) }

func TestKernelStorageSeq(t *testing.T) {
	res := runSuite(t, SuiteSeq, Options{})
	require.Equal(t, checks(), res.Cases)
}

func TestKernelStorageProg(t *testing.T) {
	res := runSuite(t, SuiteProg, Options{})
	require.Equal(t, checks()+3, res.Cases, "generated UDP sequences and the three TCP cases")
	require.Empty(t, res.Known, "tcp/mptcp agrees since localstorage models the MPTCP client's subflow")
	require.Equal(t, res.Cases, res.Agreed)
}

// TestKernelStorageDetectsProfileMismatch runs the charge table with the
// model's 2026 layout (struct bpf_local_storage of 184 bytes) against the
// 6.18 kernel (176): the harness must report the difference, so a passing
// suite means agreement and not a harness that cannot fail.
func TestKernelStorageDetectsProfileMismatch(t *testing.T) {
	testutil.KernelTests(t)
	w, err := newKernelWorld("detect")
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, w.Close()) })
	out := runCases(newModelBackend(localstorage.ProfileBPFNext2026), &kernelBackend{w: w}, chargeCases())
	res := classify(SuiteCharge, out, nil)
	require.Empty(t, res.Errors)
	require.NotEmpty(t, res.New)
	t.Logf("%d of %d cases disagree; first:\n%s", len(res.New), res.Cases, res.New[0].Detail)
	require.Contains(t, res.New[0].Detail, "sk_omem_alloc(")
}

func TestKernelSkbTransitions(t *testing.T) {
	res := runSuite(t, SuiteTransitions, Options{})
	t.Logf("%d cells, %d agree, %d known divergences", res.Cases, res.Agreed, len(res.Known))
}

// TestKernelSkbTransitionsReproducible compares the kernel recorder with
// itself through the transition harness on the transitions whose cells
// hold stale bytes (cb[] after VXLAN decap and GRO, IPv6 flow hashes,
// normalised to "other"), including the reassembly ones: after normalisation every cell of two runs must agree, or a
// model could never match the kernel's matrix there.
func TestKernelSkbTransitionsReproducible(t *testing.T) {
	testutil.KernelTests(t)
	var ts []observe.Transition
	for _, n := range []string{"vxlan", "vxlan-xnet", "veth-gro", "veth-gro-list", "hub-gro-list-redirect", "hub-gro-fwd-redirect",
		"vxlan-frag-reasm", "vxlan6", "vxlan6-frag-reasm"} {
		tr, err := observe.Lookup(n)
		require.NoError(t, err)
		ts = append(ts, tr)
	}
	rec := func(tr observe.Transition) (observe.Matrix, error) { return kernel.RunTransition(tr, nil) }
	res := classify(SuiteTransitions, runTransitions(ts, rec, rec), nil)
	require.Empty(t, res.Errors)
	require.Empty(t, res.New)
	require.Positive(t, res.Cases)
	t.Logf("%d cells over %d transitions agree between two kernel runs", res.Cases, len(ts))
}

func TestRunRejectsUnknownSuite(t *testing.T) {
	_, err := Run(context.Background(), Options{Suites: []string{"nope"}})
	require.ErrorContains(t, err, `unknown suite "nope"`)
}

// TestKernelCloneFacts checks the kernel side of the clone table against
// kernel_lab §4 directly, so that an agreement in storage-clone cannot come
// from both sides being wrong the same way: the accepted socket inherits a
// BPF_F_CLONE element from a plain TCP listener and from an MPTCP listener
// with an MPTCP client, not from Go's default listener with a TCP client,
// and never from a map without BPF_F_CLONE.
func TestKernelCloneFacts(t *testing.T) {
	testutil.KernelTests(t)
	w, err := newKernelWorld("facts")
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, w.Close()) })
	kb := &kernelBackend{w: w}
	for _, c := range []struct {
		l          Listen
		clone, non errno.Errno
	}{{ListenPlain, 0, errno.ENOENT}, {ListenGo, errno.ENOENT, errno.ENOENT}, {ListenMPTCP, 0, errno.ENOENT}} {
		t.Run(c.l.String(), func(t *testing.T) {
			require.NoError(t, kb.begin(131072))
			defer func() { require.NoError(t, kb.end()) }()
			for _, s := range []Step{create(0, ValidConf(SkMap, 16, true)), create(1, ValidConf(SkMap, 16, false)),
				update(0, c.l.listener(), UpdateAny, 7), update(1, c.l.listener(), UpdateAny, 8), connect(c.l)} {
				r, err := kb.step(s)
				require.NoError(t, err)
				require.Zero(t, r.Errno, "%s", s)
			}
			r, err := kb.step(lookup(0, c.l.accepted()))
			require.NoError(t, err)
			require.Equal(t, c.clone, r.Errno, "clone map")
			if c.clone == 0 {
				require.Equal(t, Value(16, 7), r.Value)
			}
			r, err = kb.step(lookup(1, c.l.accepted()))
			require.NoError(t, err)
			require.Equal(t, c.non, r.Errno, "map without BPF_F_CLONE")
		})
	}
}

// TestKernelActiveOpenFacts checks the kernel side of
// localstorage.Env.ActiveOpen directly, through the namespace's TCP socket
// list (kernel.Netns.TCPSockets, which sees sockets without a descriptor):
// an element set through a plain TCP client's fd sits on the client's own
// TCP socket; one set through an MPTCP client's fd sits on the msk, which
// is not in the TCP tables, and on none of the TCP sockets, the client's
// subflow included (the msk and its subflow do not share storage, even in
// a BPF_F_CLONE map). The model's client agrees: for MPTCP its PacketSock
// is another socket, without storage.
func TestKernelActiveOpenFacts(t *testing.T) {
	testutil.KernelTests(t)
	w, err := newKernelWorld("active")
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, w.Close()) })
	kb := &kernelBackend{w: w}
	mb := newModelBackend(localstorage.ProfileV6_18)
	for _, l := range []Listen{ListenPlain, ListenMPTCP} {
		t.Run(l.String(), func(t *testing.T) {
			require.NoError(t, kb.begin(131072))
			defer func() { require.NoError(t, kb.end()) }()
			require.NoError(t, mb.begin(131072))
			defer func() { require.NoError(t, mb.end()) }()
			for _, s := range []Step{create(0, ValidConf(SkMap, 16, true)), connect(l), update(0, l.client(), UpdateAny, 7)} {
				for _, b := range []backend{kb, mb} {
					r, err := b.step(s)
					require.NoError(t, err)
					require.Zero(t, r.Errno, "%s", s)
				}
			}
			cookie, err := kernel.SocketCookie(w.fds[l.client()])
			require.NoError(t, err)
			socks, err := w.ns.TCPSockets(kb.maps[0])
			require.NoError(t, err)
			var owners []uint64
			listed, established := false, 0
			for _, s := range socks {
				if s.HasElem {
					owners = append(owners, s.Cookie)
				}
				listed = listed || s.Cookie == cookie
				if s.State == kernel.TCPEstablished {
					established++
				}
			}
			require.GreaterOrEqual(t, established, 2, "the client's and the accepted TCP sockets (subflows for MPTCP)")
			cli := mb.clients[l]
			require.NotNil(t, cli)
			if l.clientMPTCP() {
				require.False(t, listed, "the msk is not a TCP socket")
				require.Empty(t, owners, "no TCP socket, the client's subflow included, has the msk's element")
				require.NotSame(t, cli.Sock, cli.PacketSock)
				require.Nil(t, cli.PacketSock.Storage())
			} else {
				require.True(t, listed)
				require.Equal(t, []uint64{cookie}, owners)
				require.Same(t, cli.Sock, cli.PacketSock)
			}
			require.NotNil(t, cli.Sock.Storage())
		})
	}
}
