package kernel

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/skbsim/skbsim/internal/errno"
	"github.com/skbsim/skbsim/internal/testutil"
)

// Charging constants of kernel_lab §5, measured on 6.18: the first element
// on a socket charges sizeof(struct bpf_local_storage) + sizeof(struct
// bpf_local_storage_elem) + value_size, each further element the elem part,
// against sk->sk_omem_alloc with a strict "< optmem_max" check
// (sk_omem_alloc + size < optmem_max in bpf_sk_storage_charge()).
const (
	storageOverhead = 176 // struct bpf_local_storage
	elemOverhead    = 72  // struct bpf_local_storage_elem
)

// maxFirstValue is the largest value one fresh socket can store.
func maxFirstValue(optmem int) int { return optmem - 1 - storageOverhead - elemOverhead }

func TestKernelSkStorageOptmemPerNetns(t *testing.T) {
	testutil.KernelTests(t)
	ns := newNetns(t, "optmem")
	def, err := ns.ReadSysctl("net.core.optmem_max")
	require.NoError(t, err)
	require.NoError(t, ns.Sysctl("net.core.optmem_max", "1024"))
	got, err := ns.ReadSysctl("net.core.optmem_max")
	require.NoError(t, err)
	require.Equal(t, "1024", got)
	other := newNetns(t, "optmem2")
	got2, err := other.ReadSysctl("net.core.optmem_max")
	require.NoError(t, err)
	require.Equal(t, def, got2, "a second namespace keeps the default: optmem_max is per netns")
	t.Logf("fresh netns optmem_max = %s", def)
}

func TestKernelSkStorageCharging(t *testing.T) {
	testutil.KernelTests(t)
	for _, optmem := range []int{1024, 2048, 4096} {
		t.Run(strconv.Itoa(optmem), func(t *testing.T) {
			ns := newNetns(t, "charge")
			require.NoError(t, ns.Sysctl("net.core.optmem_max", strconv.Itoa(optmem)))
			limit := maxFirstValue(optmem)
			for _, c := range []struct {
				v    int
				want errno.Errno
			}{{limit, 0}, {limit + 1, errno.ENOMEM}} {
				m := newStorageMap(t, skSpec(uint32(c.v), FlagNoPrealloc))
				fd := newSocket(t, ns, unix.AF_INET, unix.SOCK_STREAM, 0)
				err := m.Update(fd, make([]byte, c.v), UpdateNoExist)
				if c.want == 0 {
					require.NoError(t, err, "value %d at optmem_max %d", c.v, optmem)
				} else {
					require.ErrorIs(t, err, c.want, "value %d at optmem_max %d", c.v, optmem)
				}
			}
		})
	}
}

func TestKernelSkStorageChargingMultiMap(t *testing.T) {
	testutil.KernelTests(t)
	ns := newNetns(t, "charge")
	require.NoError(t, ns.Sysctl("net.core.optmem_max", "1024"))
	m := func(v uint32) *StorageMap { return newStorageMap(t, skSpec(v, FlagNoPrealloc)) }

	// Two maps on one socket: v1 + v2 <= 1023 - 176 - 2*72 = 703 for any split.
	for _, split := range [][2]int{{1, 702}, {351, 352}, {600, 103}} {
		t.Run(fmt.Sprintf("split %d+%d", split[0], split[1]), func(t *testing.T) {
			fd := newSocket(t, ns, unix.AF_INET, unix.SOCK_STREAM, 0)
			a, b := m(uint32(split[0])), m(uint32(split[1]))
			require.NoError(t, a.Update(fd, make([]byte, split[0]), UpdateNoExist))
			require.NoError(t, b.Update(fd, make([]byte, split[1]), UpdateNoExist))
			fd2 := newSocket(t, ns, unix.AF_INET, unix.SOCK_STREAM, 0)
			c := m(uint32(split[1] + 1))
			require.NoError(t, a.Update(fd2, make([]byte, split[0]), UpdateNoExist))
			require.ErrorIs(t, c.Update(fd2, make([]byte, split[1]+1), UpdateNoExist), errno.ENOMEM)
		})
	}

	t.Run("sequence", func(t *testing.T) {
		fd := newSocket(t, ns, unix.AF_INET, unix.SOCK_STREAM, 0)
		m1, m2, m3 := m(400), m(400), m(100)
		require.NoError(t, m1.Update(fd, make([]byte, 400), UpdateNoExist))
		require.ErrorIs(t, m2.Update(fd, make([]byte, 400), UpdateNoExist), errno.ENOMEM)
		require.NoError(t, m3.Update(fd, make([]byte, 100), UpdateNoExist))
		// Re-updating allocates the new element before freeing the old one.
		require.ErrorIs(t, m1.Update(fd, make([]byte, 400), UpdateExist), errno.ENOMEM)
		require.NoError(t, m1.Delete(fd))
		require.NoError(t, m3.Update(fd, make([]byte, 100), UpdateExist))
	})

	// The largest value that can be created and then updated again needs
	// room for two elements: 2v <= 1023 - 176 - 144.
	t.Run("replace", func(t *testing.T) {
		for _, c := range []struct {
			v    int
			want errno.Errno
		}{{351, 0}, {352, errno.ENOMEM}} {
			fd := newSocket(t, ns, unix.AF_INET, unix.SOCK_STREAM, 0)
			mm := m(uint32(c.v))
			require.NoError(t, mm.Update(fd, make([]byte, c.v), UpdateNoExist))
			err := mm.Update(fd, make([]byte, c.v), UpdateAny)
			if c.want == 0 {
				require.NoError(t, err, "replace %d", c.v)
			} else {
				require.ErrorIs(t, err, c.want, "replace %d", c.v)
			}
		}
	})

	// The F_LOCK update of an existing element copies in place: no second
	// element is charged, so a value too large to replace can be locked-updated.
	t.Run("lock replace", func(t *testing.T) {
		fd := newSocket(t, ns, unix.AF_INET, unix.SOCK_STREAM, 0)
		mm := newStorageMap(t, StorageMapSpec{Type: MapSkStorage, ValueSize: 500, Flags: FlagNoPrealloc, SpinLock: true})
		require.NoError(t, mm.Update(fd, make([]byte, 500), UpdateNoExist))
		require.ErrorIs(t, mm.Update(fd, make([]byte, 500), UpdateExist), errno.ENOMEM)
		require.NoError(t, mm.Update(fd, make([]byte, 500), UpdateExist|UpdateLock))
	})
}
