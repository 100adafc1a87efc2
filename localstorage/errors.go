package localstorage

import "github.com/skbsim/skbsim/internal/errno"

// Sentinel errors. Each matches its kernel errno under errors.Is (and the
// matching syscall.Errno), so the differential harness can compare results
// with what the real kernel returned. Helpers and kfuncs return these values
// unwrapped, so a miss on the hot path does not allocate; syscall-side and
// map-creation errors are wrapped as "op: %w".
var (
	// ErrNotFound: no element for this owner and map (-ENOENT), or the
	// owner behind a pidfd is gone.
	ErrNotFound = errno.New("local storage element not found", errno.ENOENT)
	// ErrExists: BPF_NOEXIST on an existing element (-EEXIST, check_flags()).
	ErrExists = errno.New("local storage element exists", errno.EEXIST)
	// ErrInvalid: bad flags, bad map attributes, missing or wrong BTF, a
	// helper called on a non-full socket (-EINVAL).
	ErrInvalid = errno.New("invalid local storage argument", errno.EINVAL)
	// ErrValueTooBig: value_size above BPF_LOCAL_STORAGE_MAX_VALUE_SIZE
	// (-E2BIG, bpf_local_storage_map_alloc_check()).
	ErrValueTooBig = errno.New("local storage value size too big", errno.E2BIG)
	// ErrNoMem: an allocation failed or the owner's charge limit (sk
	// optmem_max) refused the charge (-ENOMEM).
	ErrNoMem = errno.New("local storage out of memory", errno.ENOMEM)
	// ErrAgain: a concurrent writer published the owner's storage first, or
	// emptied it, inside the update's race window (-EAGAIN).
	ErrAgain = errno.New("local storage changed concurrently", errno.EAGAIN)
	// ErrNotSupported: an operation the owner type refuses (-EOPNOTSUPP):
	// syscall ops on skb storage maps, access from a clone sharing the skb
	// extension.
	ErrNotSupported = errno.New("operation not supported on this local storage", errno.EOPNOTSUPP)
	// ErrNextKey: BPF_MAP_GET_NEXT_KEY and LOOKUP_AND_DELETE on local storage
	// maps (-ENOTSUPP, 524, notsupp_get_next_key()).
	ErrNextKey = errno.New("local storage maps have no keys to iterate", errno.ENOTSUPP)
	// ErrPerm: map creation without CAP_BPF, or a kfunc/tracing helper called
	// in hardirq or NMI context (-EPERM).
	ErrPerm = errno.New("local storage operation not permitted", errno.EPERM)
	// ErrBadFD: the key is not an open file descriptor, or not a pidfd for a
	// task storage map (-EBADF, sockfd_lookup()/pidfd_get_pid()).
	ErrBadFD = errno.New("bad file descriptor", errno.EBADF)
	// ErrNotSock: the key is an open fd that is not a socket (-ENOTSOCK).
	ErrNotSock = errno.New("file descriptor is not a socket", errno.ENOTSOCK)
	// ErrFault: a syscall value buffer shorter than value_size (-EFAULT, as
	// copy_from_user/copy_to_user would fail on the missing bytes).
	ErrFault = errno.New("value buffer shorter than value_size", errno.EFAULT)
)
