package localstorage

// BTFKind is the kind of a BTF type, as far as local storage map creation
// checks it.
type BTFKind uint8

// BTF kinds.
const (
	BTFInt BTFKind = iota + 1
	BTFStruct
	BTFArray
	BTFEnum
	BTFPtr
)

// BTFType describes the BTF type a map's key or value refers to. Local
// storage maps require BTF for both (bpf_local_storage_map_alloc_check():
// "Enforce BTF for userspace sk dumping"); the key must be a 4-byte regular
// integer (bpf_local_storage_map_check_btf() -> btf_type_is_i32()) and both
// types must have the size the map declares (map_check_btf()).
type BTFType struct {
	Kind BTFKind
	Name string
	// Size is the type's size in bytes (btf_type_id_size()).
	Size int
	// Bits is an integer's bit width (BTF_INT_BITS); 0 means 8*Size.
	Bits int
	// BitOffset is an integer's BTF_INT_OFFSET; non-zero is not regular.
	BitOffset int
	// Signed marks a signed integer (irrelevant to btf_type_is_i32()).
	Signed bool
	// SpinLock marks a struct with a struct bpf_spin_lock member at
	// SpinLockOffset (4 bytes). Only such values accept BPF_F_LOCK; the
	// lock bytes are a special field that value copies skip.
	SpinLock       bool
	SpinLockOffset int
}

// IntType returns the BTF of a C integer of size bytes.
func IntType(name string, size int, signed bool) *BTFType {
	return &BTFType{Kind: BTFInt, Name: name, Size: size, Signed: signed}
}

// BytesType returns the BTF of a struct holding one u8[size] array, the
// value type cilium/ebpf users typically declare.
func BytesType(size int) *BTFType {
	return &BTFType{Kind: BTFStruct, Name: "value", Size: size}
}

// SpinLockType returns the BTF of struct { ... struct bpf_spin_lock lock;
// ... } of size bytes with the lock at offset off, like the selftest value
// struct { int cnt; struct bpf_spin_lock lock; } (size 8, off 4).
func SpinLockType(size, off int) *BTFType {
	return &BTFType{Kind: BTFStruct, Name: "value", Size: size, SpinLock: true, SpinLockOffset: off}
}

// isI32 models btf_type_is_i32(): an INT whose bit width is a whole number
// of bytes equal to 4, at bit offset 0.
func (t *BTFType) isI32() bool {
	if t == nil || t.Kind != BTFInt {
		return false
	}
	bits := t.Bits
	if bits == 0 {
		bits = 8 * t.Size
	}
	return bits%8 == 0 && t.BitOffset == 0 && bits/8 == 4
}

// spinLockSize is sizeof(struct bpf_spin_lock).
const spinLockSize = 4
