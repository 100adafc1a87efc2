package proptest

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/internal/errno"
	"github.com/skbsim/skbsim/localstorage"
)

// TestLabOptmemCharging restates the measurements of kernel_lab §5 (6.18
// kernel, per-netns net.core.optmem_max) against the v6.18 profile: the
// largest value a fresh socket can store is optmem_max - 249 (the check is
// sk_omem_alloc + charge < optmem_max, strict, and the first element charges
// 176 + 72 + value_size); at optmem_max 1024 the largest value that can be
// created and then updated again is 351 (the replace path charges the new
// element before it uncharges the old); and the mixed sequence the lab ran
// at 1024: map1(400) ok, map2(400) ENOMEM, map3(100) ok, update map1 EXIST
// ENOMEM, delete map1, update map3 ok.
func TestLabOptmemCharging(t *testing.T) {
	for _, optmem := range []int{1024, 2048, 4096} {
		t.Run(fmt.Sprintf("largest value at %d", optmem), func(t *testing.T) {
			e := newEnv(t, localstorage.Config{Profile: localstorage.ProfileV6_18})
			net := &localstorage.NetCore{OptmemMax: optmem}
			files := localstorage.NewFDTable()
			max := optmem - 249
			for _, v := range []int{max, max + 1} {
				m := mustMap(t, e, localstorage.Spec(localstorage.MapTypeSkStorage, v, 0))
				sk := localstorage.NewSock(net)
				fd := files.Install(sk)
				want := errno.Errno(0)
				if v > max {
					want = errno.ENOMEM
				}
				wantErrno(t, want, m.UpdateElem(files, fd, make([]byte, v), localstorage.UpdateNoExist), fmt.Sprintf("value_size %d", v))
				sk.Close(e)
				m.Free()
			}
		})
	}
	t.Run("create then update at 1024", func(t *testing.T) {
		e := newEnv(t, localstorage.Config{Profile: localstorage.ProfileV6_18})
		net := &localstorage.NetCore{OptmemMax: 1024}
		files := localstorage.NewFDTable()
		for _, v := range []int{351, 352} {
			m := mustMap(t, e, localstorage.Spec(localstorage.MapTypeSkStorage, v, 0))
			sk := localstorage.NewSock(net)
			fd := files.Install(sk)
			require.NoError(t, m.UpdateElem(files, fd, make([]byte, v), localstorage.UpdateNoExist))
			want := errno.Errno(0)
			if v > 351 {
				want = errno.ENOMEM
			}
			wantErrno(t, want, m.UpdateElem(files, fd, make([]byte, v), localstorage.UpdateExist), fmt.Sprintf("update of value_size %d", v))
			sk.Close(e)
			m.Free()
		}
	})
	t.Run("mixed sequence at 1024", func(t *testing.T) {
		e := newEnv(t, localstorage.Config{Profile: localstorage.ProfileV6_18})
		files := localstorage.NewFDTable()
		sk := localstorage.NewSock(&localstorage.NetCore{OptmemMax: 1024})
		defer sk.Close(e)
		fd := files.Install(sk)
		m1 := mustMap(t, e, localstorage.Spec(localstorage.MapTypeSkStorage, 400, 0))
		m2 := mustMap(t, e, localstorage.Spec(localstorage.MapTypeSkStorage, 400, 0))
		m3 := mustMap(t, e, localstorage.Spec(localstorage.MapTypeSkStorage, 100, 0))
		wantErrno(t, 0, m1.UpdateElem(files, fd, make([]byte, 400), localstorage.UpdateAny), "map1(400)")
		wantErrno(t, errno.ENOMEM, m2.UpdateElem(files, fd, make([]byte, 400), localstorage.UpdateAny), "map2(400)")
		wantErrno(t, 0, m3.UpdateElem(files, fd, make([]byte, 100), localstorage.UpdateAny), "map3(100)")
		wantErrno(t, errno.ENOMEM, m1.UpdateElem(files, fd, make([]byte, 400), localstorage.UpdateExist), "update map1 EXIST")
		wantErrno(t, 0, m1.DeleteElem(files, fd), "delete map1")
		wantErrno(t, 0, m3.UpdateElem(files, fd, make([]byte, 100), localstorage.UpdateExist), "update map3")
	})
}
