package diff

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/skbsim/skbsim/internal/errno"
	"github.com/skbsim/skbsim/kernel"
	"github.com/skbsim/skbsim/localstorage"
)

// progWorld holds the program-side kernel objects: a namespace, a cgroup
// the process is moved into, and kernel.ProgStorage's programs attached to
// it. Close undoes everything in reverse order.
type progWorld struct {
	ns    *kernel.Netns
	cg    *kernel.Cgroup
	ps    *kernel.ProgStorage
	leave func() error
}

func newProgWorld() (w *progWorld, err error) {
	w = &progWorld{}
	defer func() {
		if err != nil {
			err = errors.Join(err, w.Close())
			w = nil
		}
	}()
	if w.ns, err = kernel.NewNetns("prog"); err != nil {
		return w, err
	}
	if w.cg, err = kernel.NewCgroup(); err != nil {
		return w, err
	}
	if w.ps, err = kernel.LoadProgStorage(); err != nil {
		return w, err
	}
	if err = w.ps.Attach(w.cg); err != nil {
		return w, err
	}
	// Sockets take their cgroup at creation: enter before creating any.
	w.leave, err = w.cg.Enter()
	return w, err
}

// Close moves the process back, detaches and unloads the programs and
// removes the cgroup and the namespace.
func (w *progWorld) Close() error {
	var errs []error
	if w.leave != nil {
		errs = append(errs, w.leave())
	}
	if w.ps != nil {
		errs = append(errs, w.ps.Close())
	}
	if w.cg != nil {
		errs = append(errs, w.cg.Close())
	}
	if w.ns != nil {
		errs = append(errs, w.ns.Close())
	}
	return errors.Join(errs...)
}

func (w *progWorld) reset() error {
	return errors.Join(w.ps.ResetStats(), w.ps.SetMode(kernel.ModeCreate))
}

// progKernel runs program-side UDP sequences on the kernel.
type progKernel struct {
	w     *progWorld
	socks [progSockets]*kernel.UDPSocket
}

func (p *progKernel) begin() error {
	p.socks = [progSockets]*kernel.UDPSocket{}
	if err := p.w.reset(); err != nil {
		return err
	}
	for i := range p.socks {
		u, err := p.w.ns.UDPSocket()
		if err != nil {
			return err
		}
		p.socks[i] = u
	}
	return nil
}

func (p *progKernel) step(s ProgStep) error {
	if s.SetMode {
		return p.w.ps.SetMode(kernel.StorageMode(s.Mode))
	}
	if err := p.socks[s.From].SendTo(p.socks[s.To], s.Len); err != nil {
		return err
	}
	// Loopback delivery is synchronous; drain the datagram.
	_, err := p.socks[s.To].Recv(2 * time.Second)
	return err
}

func encodeSkValue(v kernel.SkValue) []byte {
	b := make([]byte, progValueSize)
	for i, f := range []uint64{v.EgressPkts, v.EgressBytes, v.IngressPkts, v.IngressBytes, v.SockopsMask} {
		binary.LittleEndian.PutUint64(b[8*i:], f)
	}
	return b
}

// value reads a socket's element through the syscall side (nil: ENOENT).
func (w *progWorld) value(fd int) ([]byte, error) {
	v, err := w.ps.Value(fd)
	if errno.Of(err) == errno.ENOENT {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return encodeSkValue(v), nil
}

func (p *progKernel) state() (progState, error) {
	var st progState
	for i, u := range p.socks {
		fd := u.FD
		var err error
		if st.Values[i], err = p.w.value(fd); err != nil {
			return st, err
		}
		if st.Omem[i], err = soMeminfo(fd); err != nil {
			return st, err
		}
	}
	for i, id := range []kernel.ProgID{kernel.ProgEgress, kernel.ProgIngress} {
		s, err := p.w.ps.Stats(id)
		if err != nil {
			return st, err
		}
		st.Stats[i] = ProgStat{s.Runs, s.Got, s.Null, s.DelOK, s.DelErr, s.LastDelErr}
	}
	return st, nil
}

func (p *progKernel) end() error {
	var errs []error
	for i, u := range p.socks {
		errs = append(errs, u.Close())
		p.socks[i] = nil
	}
	return errors.Join(errs...)
}

// tcpProgCases drives TCP connections through the programs: with a plain
// listener, with Go's default (MPTCP) listener and a TCP client, and with
// MPTCP on both sides, in create mode, then lookup mode on a second
// connection, then delete mode on the first. After each phase it compares,
// for the client, the accepted socket and the listener fd, whether the
// socket has an element and its sk_omem_alloc, and which outcomes the
// cgroup_skb programs' helper calls had in the phase (an element, NULL, a
// successful delete): with MPTCP, no NULL in create mode while the fds
// have no element shows that the elements were created on the subflows.
// The model side calls the helpers on the sockets the packets carry
// (localstorage.Listener.PacketSock and the PacketSock of the Conns that
// localstorage.Env.ActiveOpen and PassiveOpen return: for MPTCP the
// subflows, not the msk sockets behind the fds). Packet counts are not
// compared (delayed ACKs make them vary).
func tcpProgCases(w *progWorld) []caseOutcome {
	var out []caseOutcome
	for _, l := range []Listen{ListenPlain, ListenGo, ListenMPTCP} {
		detail, err := tcpProgCase(w, l)
		out = append(out, caseOutcome{Name: "tcp/" + l.String(), Detail: detail, Err: err})
	}
	return out
}

func tcpProgCase(w *progWorld, l Listen) (detail string, err error) {
	if err := w.reset(); err != nil {
		return "", err
	}
	lis, err := w.ns.ListenTCP(kernel.ListenMode(l))
	if err != nil {
		return "", err
	}
	defer func() { err = errors.Join(err, lis.Close()) }()

	env := localstorage.NewEnv(localstorage.Config{Profile: localstorage.ProfileV6_18})
	defer env.Close()
	m, err := env.CreateMap(localstorage.Spec(localstorage.MapTypeSkStorage, progValueSize, 0))
	if err != nil {
		return "", err
	}
	net := localstorage.NewNetCore()
	mlis := localstorage.NewListener(net, l != ListenPlain)
	// helpers records, for the model and the kernel, which helper
	// outcomes the cgroup_skb programs had since the last check: in
	// create mode no NULL (every full socket a packet carried got its
	// element, for MPTCP on the subflows), in lookup mode hits and misses.
	type helpers struct{ got, null, delOK bool }
	var mh helpers
	var kbase [2]kernel.ProgStats
	kernelHelpers := func() (helpers, error) {
		var h helpers
		for i, id := range []kernel.ProgID{kernel.ProgEgress, kernel.ProgIngress} {
			s, err := w.ps.Stats(id)
			if err != nil {
				return h, err
			}
			h.got = h.got || s.Got > kbase[i].Got
			h.null = h.null || s.Null > kbase[i].Null
			h.delOK = h.delOK || s.DelOK > kbase[i].DelOK
			kbase[i] = s
		}
		return h, nil
	}
	get := func(sk *localstorage.Sock, create bool) {
		f := uint64(0)
		if create {
			f = localstorage.GetCreate
		}
		if v, _ := m.SkStorageGet(sk, nil, f); v != nil {
			mh.got = true
		} else {
			mh.null = true
		}
	}
	del := func(sk *localstorage.Sock) {
		if m.SkStorageDelete(sk) == nil {
			mh.delOK = true
		}
	}

	type conn struct {
		cli, acc kernel.Socket
		// mcli and macc are the model's client and accepted sides.
		mcli, macc *localstorage.Conn
	}
	var conns []*conn
	defer func() {
		for _, c := range conns {
			err = errors.Join(err, c.cli.Close(), c.acc.Close())
		}
	}()
	dial := func(mode ProgMode) (*conn, error) {
		if err := w.ps.SetMode(kernel.StorageMode(mode)); err != nil {
			return nil, err
		}
		cli, acc, err := lis.Connect()
		if err != nil {
			return nil, err
		}
		c := &conn{cli: cli, acc: acc}
		conns = append(conns, c)
		c.mcli = env.ActiveOpen(localstorage.NewSock(net), l.clientMPTCP())
		if c.macc, err = env.PassiveOpen(mlis, l.clientMPTCP()); err != nil {
			return nil, err
		}
		if err := pingPong(cli.FD, acc.FD); err != nil {
			return nil, err
		}
		// models the handshake and the exchange: every socket that
		// sends or receives a packet runs the programs once at least.
		for _, sk := range []*localstorage.Sock{c.mcli.PacketSock, mlis.PacketSock(), c.macc.PacketSock} {
			switch mode {
			case ProgDelete:
				del(sk)
			default:
				get(sk, mode == ProgCreate)
			}
		}
		return c, nil
	}
	var d []string
	check := func(phase string, c *conn) error {
		kh, err := kernelHelpers()
		if err != nil {
			return err
		}
		if kh != mh {
			d = append(d, fmt.Sprintf("%s helpers: model got=%t null=%t delete-ok=%t, kernel got=%t null=%t delete-ok=%t",
				phase, mh.got, mh.null, mh.delOK, kh.got, kh.null, kh.delOK))
		}
		mh = helpers{}
		files := localstorage.NewFDTable()
		for _, x := range []struct {
			name string
			fd   int
			sk   *localstorage.Sock
		}{{"client", c.cli.FD, c.mcli.Sock}, {"accepted", c.acc.FD, c.macc.Sock}, {"listener", lis.FD, mlis.Sock}} {
			kv, err := w.value(x.fd)
			if err != nil {
				return err
			}
			ko, err := soMeminfo(x.fd)
			if err != nil {
				return err
			}
			mv := make([]byte, progValueSize)
			mhas := m.LookupElem(files, files.Install(x.sk), mv, 0) == nil
			if mhas != (kv != nil) || ko != x.sk.OmemAlloc() {
				d = append(d, fmt.Sprintf("%s %s: model element=%t omem=%d, kernel element=%t omem=%d",
					phase, x.name, mhas, x.sk.OmemAlloc(), kv != nil, ko))
			}
		}
		return nil
	}
	c1, err := dial(ProgCreate)
	if err != nil {
		return "", err
	}
	time.Sleep(20 * time.Millisecond) // let delayed ACKs go out
	if err := check("create", c1); err != nil {
		return "", err
	}
	c2, err := dial(ProgLookup)
	if err != nil {
		return "", err
	}
	if err := check("lookup", c2); err != nil {
		return "", err
	}
	if err := w.ps.SetMode(kernel.ModeDelete); err != nil {
		return "", err
	}
	if err := pingPong(c1.cli.FD, c1.acc.FD); err != nil {
		return "", err
	}
	del(c1.mcli.PacketSock)
	del(c1.macc.PacketSock)
	if err := check("delete", c1); err != nil {
		return "", err
	}
	return strings.Join(d, "; "), nil
}

// pingPong sends 4 bytes each way between two connected descriptors and
// waits for them (kernel.PingPong).
func pingPong(a, b int) error { return kernel.PingPong(a, b) }
