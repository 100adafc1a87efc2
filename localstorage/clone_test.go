package localstorage

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/kmem"
)

// TestSkClone: only BPF_F_CLONE maps are copied, deeply, charged to the
// child, in reversed order, with a cold cache (sockopt_inherit: listener
// 1/1/1, accepted 1/1/0).
func TestSkClone(t *testing.T) {
	e := newTestEnv(t, Config{})
	inherit1 := mustMap(t, e, Spec(MapTypeSkStorage, 4, FlagClone))
	inherit2 := mustMap(t, e, Spec(MapTypeSkStorage, 4, FlagClone))
	listenerOnly := mustMap(t, e, Spec(MapTypeSkStorage, 4, 0))
	parent := NewSock(nil)
	for _, m := range []*Map{inherit1, inherit2, listenerOnly} {
		v, err := m.SkStorageGet(parent, nil, GetCreate)
		require.NoError(t, err)
		v[0] = 1
		_, err = m.SkStorageGet(parent, nil, 0) // warm the parent's cache
		require.NoError(t, err)
	}
	child := NewSock(nil)
	d := delta(e, func() { require.NoError(t, e.SkClone(parent, child)) })
	assert.Equal(t, uint64(2), d.BySite[siteCloneElem].Allocs)
	assert.Equal(t, uint64(1), d.BySite[siteStorage].Allocs)
	assert.Equal(t, 184+2*76, child.OmemAlloc(), "charged to the child")

	ents := child.Storage().Entries(nil)
	require.Len(t, ents, 2)
	assert.Equal(t, inherit1, ents[0].Map, "the child's list is reversed")
	assert.Equal(t, inherit2, ents[1].Map)
	for _, en := range ents {
		assert.False(t, en.Cached, "the child's cache starts cold")
	}
	for _, c := range []struct {
		m    *Map
		want byte
	}{{inherit1, 1}, {inherit2, 1}, {listenerOnly, 0}} {
		v, _ := c.m.SkStorageGet(child, nil, 0)
		got := byte(0)
		if v != nil {
			got = v[0]
		}
		assert.Equal(t, c.want, got)
	}
	// Deep copy: the child's update does not change the listener.
	v, _ := inherit1.SkStorageGet(child, nil, 0)
	v[0] = 9
	pv, _ := inherit1.SkStorageGet(parent, nil, 0)
	assert.Equal(t, byte(1), pv[0])

	// A parent without storage, or without clone maps, gives nothing.
	empty := NewSock(nil)
	require.NoError(t, e.SkClone(NewSock(nil), empty))
	assert.Nil(t, empty.Storage())
	p2 := NewSock(nil)
	_, err := listenerOnly.SkStorageGet(p2, nil, GetCreate)
	require.NoError(t, err)
	c2 := NewSock(nil)
	require.NoError(t, e.SkClone(p2, c2))
	assert.Nil(t, c2.Storage())
	assert.Zero(t, c2.OmemAlloc())
	assert.Panics(t, func() { _ = e.SkClone(parent, child) }, "the child already has storage")
}

// TestSkCloneSpinLock: a value with a bpf_spin_lock is copied with
// copy_map_value_locked; the lock bytes are not copied.
func TestSkCloneSpinLock(t *testing.T) {
	e := newTestEnv(t, Config{})
	spec := Spec(MapTypeSkStorage, 8, FlagClone)
	spec.Value = SpinLockType(8, 4)
	m := mustMap(t, e, spec)
	parent := NewSock(nil)
	v, err := m.SkStorageGet(parent, nil, GetCreate)
	require.NoError(t, err)
	copy(v, []byte{1, 2, 3, 4, 5, 6, 7, 8})
	child := NewSock(nil)
	require.NoError(t, e.SkClone(parent, child))
	cv, err := m.SkStorageGet(child, nil, 0)
	require.NoError(t, err)
	assert.Equal(t, []byte{1, 2, 3, 4, 0, 0, 0, 0}, cv)
}

// TestSkCloneFailure: every allocation of the clone can fail; the clone
// returns ENOMEM and destructing the half-built child frees everything.
func TestSkCloneFailure(t *testing.T) {
	for nth := uint64(1); nth <= 4; nth++ {
		e := newTestEnv(t, Config{})
		a := mustMap(t, e, Spec(MapTypeSkStorage, 4, FlagClone))
		b := mustMap(t, e, Spec(MapTypeSkStorage, 4, FlagClone))
		parent := NewSock(nil)
		for _, m := range []*Map{a, b} {
			_, err := m.SkStorageGet(parent, nil, GetCreate)
			require.NoError(t, err)
		}
		child := NewSock(nil)
		e.Acct().SetFault(kmem.Fault{Nth: nth})
		err := e.SkClone(parent, child)
		e.Acct().SetFault(kmem.Fault{})
		if nth == 4 {
			require.NoError(t, err, "3 allocations: elem, storage, elem")
			assert.Equal(t, 2, child.Storage().Len())
		} else {
			require.ErrorIs(t, err, ErrNoMem, "fault %d", nth)
		}
		child.Close(e)
		assert.Zero(t, child.OmemAlloc(), "fault %d: the child returned every charge", nth)
		parent.Close(e)
		e.GracePeriod()
		live, _ := e.Acct().Live()
		assert.Equal(t, int64(4), live, "fault %d: only the two maps remain", nth)
	}
}

// TestPassiveOpen reproduces kernel_lab §4's table.
func TestPassiveOpen(t *testing.T) {
	cases := []struct {
		name                 string
		listenerMPTCP        bool
		clientMPTCP          bool
		clone, fellBack      bool
		packetSockIsAccepted bool
	}{
		{"plain TCP listener", false, false, true, false, true},
		{"MPTCP listener, TCP client (Go default)", true, false, false, true, true},
		{"MPTCP listener and client", true, true, true, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newTestEnv(t, Config{})
			cl := mustMap(t, e, Spec(MapTypeSkStorage, 4, FlagClone))
			plain := mustMap(t, e, Spec(MapTypeSkStorage, 4, 0))
			files := NewFDTable()
			l := NewListener(nil, c.listenerMPTCP)
			lfd := files.Install(l.Sock)
			for _, m := range []*Map{cl, plain} {
				require.NoError(t, m.UpdateElem(files, lfd, []byte{1, 0, 0, 0}, UpdateAny))
			}
			conn, err := e.PassiveOpen(l, c.clientMPTCP)
			require.NoError(t, err)
			afd := files.Install(conn.Sock)
			out := make([]byte, 4)
			err = cl.LookupElem(files, afd, out, 0)
			if c.clone {
				require.NoError(t, err)
				assert.Equal(t, byte(1), out[0])
				// The child's update does not change the listener.
				require.NoError(t, cl.UpdateElem(files, afd, []byte{2, 0, 0, 0}, UpdateAny))
				require.NoError(t, cl.LookupElem(files, lfd, out, 0))
				assert.Equal(t, byte(1), out[0])
			} else {
				assert.ErrorIs(t, err, ErrNotFound)
			}
			assert.ErrorIs(t, plain.LookupElem(files, afd, out, 0), ErrNotFound)
			assert.Equal(t, c.fellBack, conn.FellBack)
			assert.Equal(t, c.packetSockIsAccepted, conn.PacketSock == conn.Sock)
			assert.Equal(t, c.listenerMPTCP, l.PacketSock() != l.Sock)
			// Program-side storage created on the connection's packets is
			// visible on the accepted fd only when they are the same socket
			// (kernel_lab §6).
			_, err = plain.SkStorageGet(conn.PacketSock, nil, GetCreate)
			require.NoError(t, err)
			err = plain.LookupElem(files, afd, out, 0)
			assert.Equal(t, c.packetSockIsAccepted, err == nil, "%v", err)
			conn.Close(e)
			l.Close(e)
		})
	}
}

// TestPassiveOpenFailure: a failing clone into the subflow child fails the
// passive open; a failing msk clone falls back to TCP.
func TestPassiveOpenFailure(t *testing.T) {
	e := newTestEnv(t, Config{})
	cl := mustMap(t, e, Spec(MapTypeSkStorage, 4, FlagClone))
	l := NewListener(nil, false)
	_, err := cl.SkStorageGet(l.Sock, nil, GetCreate)
	require.NoError(t, err)
	e.Acct().SetFault(kmem.Fault{Nth: 1})
	conn, err := e.PassiveOpen(l, false)
	e.Acct().SetFault(kmem.Fault{})
	assert.ErrorIs(t, err, ErrNoMem)
	assert.Nil(t, conn)

	ml := NewListener(nil, true)
	for _, s := range []*Sock{ml.Sock, ml.PacketSock()} {
		_, err := cl.SkStorageGet(s, []byte{byte(len(s.Name) + 7), 0, 0, 0}, GetCreate)
		require.NoError(t, err)
	}
	// The subflow clone allocates 2 objects; the msk clone's first fails.
	e.Acct().SetFault(kmem.Fault{Nth: 3})
	conn, err = e.PassiveOpen(ml, true)
	e.Acct().SetFault(kmem.Fault{})
	require.NoError(t, err)
	assert.True(t, conn.FellBack)
	assert.Same(t, conn.Sock, conn.PacketSock)
	require.NotNil(t, conn.Sock.Storage(), "the subflow child got the subflow listener's clone elements")
	conn.Close(e)
	ml.Close(e)
	l.Close(e)
}
