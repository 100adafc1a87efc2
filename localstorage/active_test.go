package localstorage

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/internal/errno"
)

// TestActiveOpen: the client of a TCP connection is one socket; the client
// of an MPTCP connection is the msk behind the fd plus a first subflow that
// the packets carry, which starts without storage even when the msk has
// BPF_F_CLONE elements, and is charged on its own against the same
// namespace's optmem_max (kernel_lab §6: with MPTCP on both sides the
// client fd has no program-created storage).
func TestActiveOpen(t *testing.T) {
	const valueSize = 40 // kernel/diff's struct skval
	// sizeof(struct bpf_local_storage) 176 on 6.18 + an element of 72 +
	// value_size.
	const firstCharge = 176 + 72 + valueSize
	cases := []struct {
		name          string
		mptcp         bool
		fdSeesProgram bool // the fd's lookup finds the program's element
		fdOmem        int  // the fd socket's sk_omem_alloc after the program ran
		packetOmem    int
	}{
		// The fd socket already holds the CLONE and the plain map's
		// elements (176 + 2*(72+4)); the program's element on the same
		// socket adds 72 + value_size.
		{"TCP", false, true, 176 + 2*(72+4) + 72 + valueSize, 176 + 2*(72+4) + 72 + valueSize},
		{"MPTCP", true, false, 176 + 2*(72+4), firstCharge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newTestEnv(t, Config{Profile: ProfileV6_18})
			cl := mustMap(t, e, Spec(MapTypeSkStorage, 4, FlagClone))
			plain := mustMap(t, e, Spec(MapTypeSkStorage, 4, 0))
			prog := mustMap(t, e, Spec(MapTypeSkStorage, valueSize, 0))
			net := NewNetCore()
			files := NewFDTable()
			sk := NewSock(net)
			sk.Name = "client"
			fd := files.Install(sk)
			// Storage set through the fd before connect().
			for _, m := range []*Map{cl, plain} {
				require.NoError(t, m.UpdateElem(files, fd, []byte{1, 0, 0, 0}, UpdateAny))
			}
			conn := e.ActiveOpen(sk, c.mptcp)
			require.Same(t, sk, conn.Sock, "the fd keeps addressing the socket connect() was called on")
			assert.False(t, conn.FellBack)
			assert.Equal(t, c.mptcp, conn.PacketSock != conn.Sock)
			ssk := conn.PacketSock
			assert.Same(t, sk.Net(), ssk.Net(), "the subflow lives in the msk's namespace")
			if c.mptcp {
				assert.Equal(t, "client/subflow", ssk.Name)
				assert.Nil(t, ssk.Storage(), "no bpf_sk_storage_clone on active open, even for BPF_F_CLONE")
				assert.Zero(t, ssk.OmemAlloc())
				for _, m := range []*Map{cl, plain} {
					_, err := m.SkStorageGet(ssk, nil, 0)
					assert.ErrorIs(t, err, ErrNotFound)
				}
			}

			// A program on the connection's packets:
			// bpf_sk_storage_get(map, skb->sk, F_CREATE).
			v, err := prog.SkStorageGet(ssk, nil, GetCreate)
			require.NoError(t, err)
			v[0] = 9
			out := make([]byte, valueSize)
			err = prog.LookupElem(files, fd, out, 0)
			if c.fdSeesProgram {
				require.NoError(t, err)
				assert.Equal(t, byte(9), out[0])
			} else {
				assert.Equal(t, errno.ENOENT, errno.Of(err))
			}
			assert.Equal(t, c.fdOmem, sk.OmemAlloc(), "fd socket")
			assert.Equal(t, c.packetOmem, ssk.OmemAlloc(), "packet socket")

			// The fd's elements are untouched by the program's, and the
			// fd-side delete cannot reach the subflow's element.
			out4 := make([]byte, 4)
			require.NoError(t, cl.LookupElem(files, fd, out4, 0))
			assert.Equal(t, byte(1), out4[0])
			err = prog.DeleteElem(files, fd)
			if c.fdSeesProgram {
				require.NoError(t, err)
			} else {
				assert.Equal(t, errno.ENOENT, errno.Of(err))
				_, err = prog.SkStorageGet(ssk, nil, 0)
				require.NoError(t, err, "the subflow's element survives")
			}

			// Closing the fd closes the connection: every socket
			// returns its charge.
			files.Close(fd)
			conn.Close(e)
			assert.Zero(t, sk.OmemAlloc())
			assert.Zero(t, ssk.OmemAlloc())
			assert.Zero(t, prog.Len())
			assert.Zero(t, cl.Len())
		})
	}
}

// TestActiveOpenSubflowOptmem: the subflow charges against the namespace
// it shares with the msk, with its own sk_omem_alloc: the msk's charge does
// not count against it, and a sysctl write reaches both.
func TestActiveOpenSubflowOptmem(t *testing.T) {
	e := newTestEnv(t, Config{Profile: ProfileV6_18})
	net := &NetCore{OptmemMax: 1024}
	big := mustMap(t, e, Spec(MapTypeSkStorage, 1024-249, 0))
	small := mustMap(t, e, Spec(MapTypeSkStorage, 1, 0))
	msk := NewSock(net)
	conn := e.ActiveOpen(msk, true)
	ssk := conn.PacketSock
	// optmem_max - 249 is the largest first value (kernel_lab §5), on
	// either socket.
	_, err := big.SkStorageGet(msk, nil, GetCreate)
	require.NoError(t, err)
	assert.Equal(t, 1023, msk.OmemAlloc())
	// A first element of one byte charges 176 + 72 + 1 = 249, which needs
	// optmem_max > 249 (bpf_sk_storage_charge's strict check).
	net.OptmemMax = 249
	_, err = small.SkStorageGet(ssk, nil, GetCreate)
	assert.ErrorIs(t, err, ErrNoMem, "the lowered sysctl limits the subflow")
	net.OptmemMax = 250
	_, err = small.SkStorageGet(ssk, nil, GetCreate)
	require.NoError(t, err)
	assert.Equal(t, 249, ssk.OmemAlloc())
	assert.Equal(t, 1023, msk.OmemAlloc())
	net.OptmemMax = 1024
	_, err = big.SkStorageGet(ssk, nil, GetCreate)
	assert.ErrorIs(t, err, ErrNoMem, "249 + 72 + 775 >= 1024")
	conn.Close(e)
	assert.Zero(t, msk.OmemAlloc())
	assert.Zero(t, ssk.OmemAlloc())
}

// TestActiveOpenMisuse: connect() on a socket that cannot connect is a
// caller bug.
func TestActiveOpenMisuse(t *testing.T) {
	e := newTestEnv(t, Config{})
	released := NewSock(nil)
	released.Release()
	destructed := NewSock(nil)
	destructed.Close(e)
	for name, sk := range map[string]*Sock{
		"nil": nil, "request sock": NewRequestSock(nil), "released": released, "destructed": destructed,
	} {
		for _, mptcp := range []bool{false, true} {
			assert.Panics(t, func() { e.ActiveOpen(sk, mptcp) }, "%s mptcp=%v", name, mptcp)
		}
	}
	released.Destruct(e)
}
