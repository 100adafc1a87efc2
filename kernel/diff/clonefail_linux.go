package diff

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/skbsim/skbsim/internal/errno"
	"github.com/skbsim/skbsim/kernel"
	"github.com/skbsim/skbsim/localstorage"
)

// Parameters of the clone-failure cases: the listener fd holds an element
// of a BPF_F_CLONE map of cloneFailValue bytes (charged 176+72+600 = 848
// under the default optmem_max); optmem_max is then lowered to
// cloneFailOptmem, below the 72+600 bytes a copy charges first.
const (
	cloneFailValue  = 600
	cloneFailOptmem = 512
	optmemDefault   = 131072
	// cloneFailWait bounds the accept() that a failed clone leaves
	// without a connection.
	cloneFailWait = 300 * time.Millisecond
	// cloneFailMax bounds the wait for either outcome (an accepted
	// connection or a ListenDrop) on a loaded machine.
	cloneFailMax = 5 * time.Second
	// cloneRetryWait bounds the accept() after optmem_max is restored:
	// the request socket retransmits its SYN-ACK after 1 s, the client
	// ACKs again and the clone is retried.
	cloneRetryWait = 5 * time.Second
)

// cloneFailCases make bpf_sk_storage_clone() fail on passive open for the
// three listener kinds, by lowering net.core.optmem_max under the
// listener's element (the child's sk_omem_alloc starts at 0 and is charged
// against the sysctl read at clone time), and compare with
// localstorage.Env.PassiveOpen under the same NetCore.OptmemMax: whether a
// connection is accepted, its protocol, whether the accepted socket holds
// the copy and its sk_omem_alloc; then optmem_max is restored and the
// connection the kernel retries (retransmitted SYN-ACK and ACK) is
// compared with a second PassiveOpen. A kernel accept that times out must
// come with a TcpExt.ListenDrops increment (sk_clone_lock() failed), or
// the case is a harness error. Case names: "fail/<listener kind>".
func cloneFailCases() []caseOutcome {
	var out []caseOutcome
	for _, l := range []Listen{ListenPlain, ListenGo, ListenMPTCP} {
		d, err := cloneFailCase(l)
		out = append(out, caseOutcome{Name: "fail/" + l.String(), Detail: d, Err: err})
	}
	return out
}

// cloneSide is one backend's view of the accepted socket.
type cloneSide struct {
	accepted bool
	proto    int
	has      bool
	value    string
	omem     int
}

func (c cloneSide) String() string {
	if !c.accepted {
		return "no connection accepted"
	}
	return fmt.Sprintf("accepted proto %d, element %t, sk_omem_alloc %d", c.proto, c.has, c.omem)
}

func cloneFailCase(l Listen) (detail string, err error) {
	ns, err := kernel.NewNetns("clonefail")
	if err != nil {
		return "", err
	}
	defer func() { err = errors.Join(err, ns.Close()) }()
	km, err := kernel.NewStorageMap(kernelSpec(ValidConf(SkMap, cloneFailValue, true)))
	if err != nil {
		return "", err
	}
	defer func() { err = errors.Join(err, km.Close()) }()
	lis, err := ns.ListenTCP(kernel.ListenMode(l))
	if err != nil {
		return "", err
	}
	defer func() { err = errors.Join(err, lis.Close()) }()
	val := Value(cloneFailValue, 0x5a)
	if err := km.Update(lis.FD, val, UpdateNoExist); err != nil {
		return "", err
	}

	env := localstorage.NewEnv(localstorage.Config{Profile: localstorage.ProfileV6_18})
	defer env.Close()
	mm, err := env.CreateMap(modelSpec(ValidConf(SkMap, cloneFailValue, true)))
	if err != nil {
		return "", err
	}
	net := &localstorage.NetCore{OptmemMax: optmemDefault}
	mlis := localstorage.NewListener(net, l != ListenPlain)
	files := localstorage.NewFDTable()
	if err := mm.UpdateElem(files, files.Install(mlis.Sock), val, UpdateNoExist); err != nil {
		return "", fmt.Errorf("model: %w", err)
	}

	var socks []*kernel.Socket
	defer func() {
		for _, s := range socks {
			err = errors.Join(err, s.Close())
		}
	}()
	kside := func(acc kernel.Socket) (cloneSide, error) {
		socks = append(socks, &acc)
		s := cloneSide{accepted: true, proto: acc.Proto}
		v, err := km.Lookup(acc.FD, 0)
		switch {
		case err == nil:
			s.has, s.value = true, string(v)
		case errno.Of(err) != errno.ENOENT:
			return s, err
		}
		s.omem, err = kernel.SkOmemAlloc(acc.FD)
		return s, err
	}
	mside := func(c *localstorage.Conn, err error) (cloneSide, error) {
		if errno.Of(err) == errno.ENOMEM {
			return cloneSide{}, nil // the handshake is dropped
		}
		if err != nil {
			return cloneSide{}, fmt.Errorf("model: %w", err)
		}
		// The fd is the msk for an MPTCP connection that did not fall
		// back, else the TCP socket.
		s := cloneSide{accepted: true, proto: 6, omem: c.Sock.OmemAlloc()}
		if l.clientMPTCP() && !c.FellBack {
			s.proto = 262
		}
		out := make([]byte, cloneFailValue)
		if mm.LookupElem(files, files.Install(c.Sock), out, 0) == nil {
			s.has, s.value = true, string(out)
		}
		return s, nil
	}
	var d []string
	compare := func(phase string, m, k cloneSide) {
		if m != k {
			d = append(d, fmt.Sprintf("%s: model %s, kernel %s", phase, m, k))
		}
	}

	before, err := ns.Netstat()
	if err != nil {
		return "", err
	}
	if err := ns.Sysctl("net.core.optmem_max", strconv.Itoa(cloneFailOptmem)); err != nil {
		return "", err
	}
	net.OptmemMax = cloneFailOptmem
	start := time.Now()
	cl, acc, cerr := lis.ConnectWithin(cloneFailWait)
	if cerr != nil && !errors.Is(cerr, kernel.ErrAcceptTimeout) {
		return "", cerr
	}
	socks = append(socks, &cl)
	// Either accept() returns (the copy fitted, or the listener made no
	// copy) or the clone failed, which shows as a ListenDrop. A slow
	// machine may be neither yet after cloneFailWait: wait for one or the
	// other, up to cloneFailMax.
	for cerr != nil {
		after, err := ns.Netstat()
		if err != nil {
			return "", err
		}
		if after["TcpExt.ListenDrops"] != before["TcpExt.ListenDrops"] {
			break
		}
		if time.Since(start) > cloneFailMax {
			return "", fmt.Errorf("accept timed out after %v without a ListenDrop: %w", cloneFailMax, cerr)
		}
		if acc, cerr = lis.Accept(cloneFailWait); cerr != nil && !errors.Is(cerr, kernel.ErrAcceptTimeout) {
			return "", cerr
		}
	}
	var k cloneSide
	if cerr == nil {
		if k, err = kside(acc); err != nil {
			return "", err
		}
	}
	m, err := mside(env.PassiveOpen(mlis, l.clientMPTCP()))
	if err != nil {
		return "", err
	}
	compare(fmt.Sprintf("optmem_max %d", cloneFailOptmem), m, k)

	// Restore the sysctl: the kernel retries the dropped handshake.
	if err := ns.Sysctl("net.core.optmem_max", strconv.Itoa(optmemDefault)); err != nil {
		return "", err
	}
	net.OptmemMax = optmemDefault
	if !k.accepted && !m.accepted {
		acc, err := lis.Accept(cloneRetryWait)
		if err != nil {
			return "", fmt.Errorf("retried handshake: %w", err)
		}
		if k, err = kside(acc); err != nil {
			return "", err
		}
		if m, err = mside(env.PassiveOpen(mlis, l.clientMPTCP())); err != nil {
			return "", err
		}
		compare("optmem_max restored, handshake retried", m, k)
	}
	return strings.Join(d, "; "), nil
}
