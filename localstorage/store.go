package localstorage

import (
	"fmt"

	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/skb"
)

// Program-side writes. A BPF program cannot call bpf_map_update_elem on a
// local storage map (check_map_func_compatibility allows only the storage
// get/delete helpers); it writes through the pointer the get helper
// returns. The Store functions model that common pattern:
//
//	v = bpf_*_storage_get(map, owner, NULL, F_CREATE);
//	if (v) memcpy(v, value, value_size);
//
// The program's copy is counted as memcpy bytes. They return the get's
// error when the helper would return NULL.

func (m *Map) store(v []byte, value []byte, err error) error {
	if err != nil {
		return err
	}
	copy(v, value[:m.spec.ValueSize])
	m.env.acct.Op(cost.OpMemcpyByte, uint64(m.spec.ValueSize))
	return nil
}

func (m *Map) checkValue(value []byte) {
	if len(value) != m.spec.ValueSize {
		panic(fmt.Sprintf("localstorage: value of %d bytes for %v", len(value), m))
	}
}

// SkStorageStore writes value (value_size bytes) into sk's element,
// creating it.
func (m *Map) SkStorageStore(sk *Sock, value []byte) error {
	m.checkValue(value)
	v, err := m.SkStorageGet(sk, nil, GetCreate)
	return m.store(v, value, err)
}

// TaskStorageStore writes value into the task's element, creating it.
func (m *Map) TaskStorageStore(t *Task, value []byte) error {
	m.checkValue(value)
	v, err := m.TaskStorageGet(t, nil, GetCreate)
	return m.store(v, value, err)
}

// SkbStorageStore writes value into the skb's element, creating it (RFC
// kfunc semantics, including the refusal on shared clones).
func (m *Map) SkbStorageStore(ctx ProgCtx, b *skb.Buff, value []byte) error {
	m.checkValue(value)
	v, err := m.SkbStorageGet(ctx, b, nil, GetCreate)
	return m.store(v, value, err)
}
