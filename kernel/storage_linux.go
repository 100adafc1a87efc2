package kernel

import (
	"fmt"
	"runtime"
	"unsafe"

	"github.com/cilium/ebpf/btf"
	"golang.org/x/sys/unix"

	"github.com/skbsim/skbsim/internal/errno"
)

// MapType is a BPF map type number (enum bpf_map_type).
type MapType uint32

// Map types used with StorageMap.
const (
	MapHash         MapType = 1
	MapSkStorage    MapType = 24
	MapInodeStorage MapType = 28
	MapTaskStorage  MapType = 29
	MapCgrpStorage  MapType = 32
)

// Map flags (BPF_F_*), as used at map creation.
const (
	FlagNoPrealloc uint32 = 1 << 0
	FlagRdonly     uint32 = 1 << 3
	FlagClone      uint32 = 1 << 9
	FlagMmapable   uint32 = 1 << 10
)

// Element update/lookup flags.
const (
	UpdateAny     uint64 = 0
	UpdateNoExist uint64 = 1
	UpdateExist   uint64 = 2
	UpdateLock    uint64 = 4 // BPF_F_LOCK
)

// KeyBTF selects the BTF type given for the key.
type KeyBTF int

// Key BTF choices.
const (
	KeyInt         KeyBTF = iota // "int", signed, 4 bytes: what local storage wants
	KeyUnsignedInt               // "unsigned int"
	KeyLongLong                  // "long long", 8 bytes
	KeyStruct                    // struct { int fd; }
	KeyNone                      // no BTF at all (btf_fd 0)
)

// StorageMapSpec describes a map to create with a raw BPF_MAP_CREATE.
type StorageMapSpec struct {
	Type       MapType
	KeySize    uint32 // 0 means 4
	ValueSize  uint32 // total value size, including the spin lock if SpinLock
	MaxEntries uint32
	Flags      uint32
	Key        KeyBTF
	// SpinLock puts a struct bpf_spin_lock at offset 0 of the value, which
	// BPF_F_LOCK updates and lookups need.
	SpinLock bool
}

// SpinLockSize is sizeof(struct bpf_spin_lock).
const SpinLockSize = 4

// StorageMap is a local storage map (or, for error-table tests, any map)
// created with a raw BPF_MAP_CREATE and driven with raw element commands
// keyed by file descriptors (a socket fd for socket storage, a pidfd for
// task storage, a cgroup directory fd for cgroup storage).
type StorageMap struct {
	fd   int
	spec StorageMapSpec
}

// mapCreateAttr is the BPF_MAP_CREATE part of union bpf_attr.
type mapCreateAttr struct {
	mapType, keySize, valueSize, maxEntries, mapFlags uint32
	innerMapFD, numaNode                              uint32
	name                                              [16]byte
	ifindex, btfFD, btfKeyTypeID, btfValueTypeID      uint32
	btfVmlinuxValueTypeID                             uint32
	mapExtra                                          uint64
}

// NewStorageMap creates the map with one raw BPF_MAP_CREATE (no retry), so
// the error is the kernel's first answer for exactly this spec.
func NewStorageMap(spec StorageMapSpec) (*StorageMap, error) {
	if spec.KeySize == 0 {
		spec.KeySize = 4
	}
	attr := mapCreateAttr{
		mapType: uint32(spec.Type), keySize: spec.KeySize, valueSize: spec.ValueSize,
		maxEntries: spec.MaxEntries, mapFlags: spec.Flags,
	}
	copy(attr.name[:], "skbsim_storage")
	var h *btf.Handle
	if spec.Key != KeyNone {
		var err error
		var kid, vid btf.TypeID
		h, kid, vid, err = storageBTF(spec)
		if err != nil {
			return nil, wrap("create map", err)
		}
		defer h.Close()
		attr.btfFD, attr.btfKeyTypeID, attr.btfValueTypeID = uint32(h.FD()), uint32(kid), uint32(vid)
	}
	fd, err := sysBPF(cmdMapCreate, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	runtime.KeepAlive(h)
	if err != nil {
		return nil, wrap("create map", err)
	}
	return &StorageMap{fd: fd, spec: spec}, nil
}

func storageBTF(spec StorageMapSpec) (*btf.Handle, btf.TypeID, btf.TypeID, error) {
	i32 := &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}
	u32 := &btf.Int{Name: "unsigned int", Size: 4}
	u8 := &btf.Int{Name: "unsigned char", Size: 1}
	var key btf.Type
	switch spec.Key {
	case KeyInt:
		key = i32
	case KeyUnsignedInt:
		key = u32
	case KeyLongLong:
		key = &btf.Int{Name: "long long", Size: 8, Encoding: btf.Signed}
	case KeyStruct:
		key = &btf.Struct{Name: "skbsim_key", Size: 4, Members: []btf.Member{{Name: "fd", Type: i32}}}
	default:
		return nil, 0, 0, fmt.Errorf("unknown key BTF %d", spec.Key)
	}
	var members []btf.Member
	dataOff, dataLen := uint32(0), spec.ValueSize
	if spec.SpinLock {
		lock := &btf.Struct{Name: "bpf_spin_lock", Size: SpinLockSize, Members: []btf.Member{{Name: "val", Type: u32}}}
		members = append(members, btf.Member{Name: "lock", Type: lock})
		dataOff, dataLen = SpinLockSize, spec.ValueSize-min(spec.ValueSize, SpinLockSize)
	}
	members = append(members, btf.Member{
		Name: "data", Offset: btf.Bits(dataOff * 8),
		Type: &btf.Array{Index: u32, Type: u8, Nelems: dataLen},
	})
	value := &btf.Struct{Name: "skbsim_value", Size: spec.ValueSize, Members: members}
	b, err := btf.NewBuilder(nil, nil)
	if err != nil {
		return nil, 0, 0, err
	}
	kid, err := b.Add(key)
	if err != nil {
		return nil, 0, 0, err
	}
	vid, err := b.Add(value)
	if err != nil {
		return nil, 0, 0, err
	}
	raw, err := b.Marshal(nil, btf.KernelMarshalOptions())
	if err != nil {
		return nil, 0, 0, err
	}
	h, err := btf.NewHandleFromRawBTF(raw)
	if err != nil {
		return nil, 0, 0, err
	}
	return h, kid, vid, nil
}

// Spec returns the spec the map was created with (KeySize defaulted).
func (m *StorageMap) Spec() StorageMapSpec { return m.spec }

// FD returns the map's file descriptor.
func (m *StorageMap) FD() int { return m.fd }

// Close releases the map.
func (m *StorageMap) Close() error {
	if m == nil || m.fd < 0 {
		return nil
	}
	err := unix.Close(m.fd)
	m.fd = -1
	return err
}

// mapElemAttr is the BPF_MAP_*_ELEM part of union bpf_attr.
type mapElemAttr struct {
	mapFD uint32
	_     uint32
	key   unsafe.Pointer // 64-bit field; a pointer so the GC tracks it
	value unsafe.Pointer // or next_key
	flags uint64
}

func (m *StorageMap) elem(cmd int, key unsafe.Pointer, value unsafe.Pointer, flags uint64) error {
	attr := mapElemAttr{mapFD: uint32(m.fd), key: key, value: value, flags: flags}
	_, err := sysBPF(cmd, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	return err
}

// Lookup returns the value stored for the owner behind fd. flags may be
// UpdateLock (BPF_F_LOCK) for a map with a spin lock.
func (m *StorageMap) Lookup(fd int, flags uint64) ([]byte, error) {
	key := int32(fd)
	v := make([]byte, max(m.spec.ValueSize, 1))
	err := m.elem(cmdMapLookupElem, unsafe.Pointer(&key), unsafe.Pointer(&v[0]), flags)
	runtime.KeepAlive(&key)
	if err != nil {
		return nil, wrap("lookup", err)
	}
	return v[:m.spec.ValueSize], nil
}

// Update stores value for the owner behind fd with the given flags
// (UpdateAny, UpdateNoExist, UpdateExist, optionally |UpdateLock). value
// must be exactly ValueSize bytes (programmer error otherwise: panics).
func (m *StorageMap) Update(fd int, value []byte, flags uint64) error {
	if uint32(len(value)) != m.spec.ValueSize {
		panic(fmt.Sprintf("kernel: StorageMap.Update: value of %d bytes, map value_size %d", len(value), m.spec.ValueSize))
	}
	key := int32(fd)
	var vp unsafe.Pointer
	if len(value) > 0 {
		vp = unsafe.Pointer(&value[0])
	}
	err := m.elem(cmdMapUpdateElem, unsafe.Pointer(&key), vp, flags)
	runtime.KeepAlive(value)
	return wrap("update", err)
}

// Delete removes the element of the owner behind fd.
func (m *StorageMap) Delete(fd int) error {
	key := int32(fd)
	return wrap("delete", m.elem(cmdMapDeleteElem, unsafe.Pointer(&key), nil, 0))
}

// NextKey issues BPF_MAP_GET_NEXT_KEY after fd (local storage: ENOTSUPP).
func (m *StorageMap) NextKey(fd int) (int, error) {
	key, next := int32(fd), int32(0)
	err := m.elem(cmdMapGetNextKey, unsafe.Pointer(&key), unsafe.Pointer(&next), 0)
	return int(next), wrap("next key", err)
}

// LookupAndDelete issues BPF_MAP_LOOKUP_AND_DELETE_ELEM.
func (m *StorageMap) LookupAndDelete(fd int) ([]byte, error) {
	key := int32(fd)
	v := make([]byte, max(m.spec.ValueSize, 1))
	if err := m.elem(cmdMapLookupAndDel, unsafe.Pointer(&key), unsafe.Pointer(&v[0]), 0); err != nil {
		return nil, wrap("lookup and delete", err)
	}
	return v[:m.spec.ValueSize], nil
}

// MapInfo is what BPF_OBJ_GET_INFO_BY_FD reports about a map.
type MapInfo struct {
	Type       MapType
	ID         uint32
	KeySize    uint32
	ValueSize  uint32
	MaxEntries uint32
	Flags      uint32
}

// Info reads the map's attributes back from the kernel.
func (m *StorageMap) Info() (MapInfo, error) {
	var info struct {
		MapInfo
		rest [64]byte
	}
	attr := struct {
		fd, infoLen uint32
		info        unsafe.Pointer
	}{uint32(m.fd), uint32(unsafe.Sizeof(info)), unsafe.Pointer(&info)}
	_, err := sysBPF(cmdObjGetInfoByFD, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	runtime.KeepAlive(&info)
	return info.MapInfo, wrap("map info", err)
}

// bpf(2) command and bpf_map_info offset used by BTFID.
const (
	cmdBTFGetFDByID = 19
	// offsetof(struct bpf_map_info, btf_id): type, id, key_size,
	// value_size, max_entries, map_flags (6*4), name[16], ifindex,
	// btf_vmlinux_value_type_id (2*4), netns_dev, netns_ino (2*8).
	mapInfoBTFIDOff = 6*4 + 16 + 2*4 + 2*8
)

// BTFID returns the id of the BTF object the map was created with (0 for
// a map without BTF). Only the map references that object, and
// bpf_map_free() puts it after the map's map_free ran, so BTFExists turning
// false tells that a closed map's free (for local storage:
// bpf_local_storage_map_free(), which unlinks every owner's element) has
// finished.
func (m *StorageMap) BTFID() (uint32, error) {
	var info [128]byte
	attr := struct {
		fd, infoLen uint32
		info        unsafe.Pointer
	}{uint32(m.fd), uint32(len(info)), unsafe.Pointer(&info[0])}
	_, err := sysBPF(cmdObjGetInfoByFD, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	runtime.KeepAlive(&info)
	if err != nil {
		return 0, wrap("map info", err)
	}
	return *(*uint32)(unsafe.Pointer(&info[mapInfoBTFIDOff])), nil
}

// BTFExists reports whether a BTF object with the id is still alive
// (BPF_BTF_GET_FD_BY_ID succeeds; the descriptor is closed at once).
func BTFExists(id uint32) (bool, error) {
	attr := struct{ id, next, flags uint32 }{id: id}
	fd, err := sysBPF(cmdBTFGetFDByID, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	switch {
	case errno.Of(err) == errno.ENOENT:
		return false, nil
	case err != nil:
		return false, wrap(fmt.Sprintf("btf get fd by id %d", id), err)
	}
	unix.Close(fd)
	return true, nil
}
