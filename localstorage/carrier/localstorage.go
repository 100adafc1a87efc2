package carrier

import (
	"fmt"

	"github.com/skbsim/skbsim/localstorage"
	"github.com/skbsim/skbsim/skb"
)

// LocalStorage is the skb local storage RFC as a Carrier: each slot is a
// BPF_MAP_TYPE_SKB_STORAGE map; Get and Delete are the
// bpf_skb_storage_get/delete kfuncs. The lifetime options map to the
// model's SkbMapOptions (CopyOnClone: BPF_F_CLONE + CloneCopy; KeepOnScrub,
// KeepOnNetns), which are NOT in the RFC as posted; a slot without options
// is the RFC's behaviour.
type LocalStorage struct {
	env *localstorage.Env
}

var _ Carrier = (*LocalStorage)(nil)

// NewLocalStorage returns the carrier over env (whose Skb config chooses
// the allocation strategy).
func NewLocalStorage(env *localstorage.Env) *LocalStorage { return &LocalStorage{env: env} }

// Env returns the underlying Env.
func (c *LocalStorage) Env() *localstorage.Env { return c.env }

// Name implements Carrier: "skb-storage/<strategy>".
func (c *LocalStorage) Name() string { return "skb-storage/" + string(c.env.SkbStrategy()) }

type lsSlot struct {
	spec Spec
	m    *localstorage.Map
}

func (s *lsSlot) Spec() Spec { return s.spec }

// Map returns the map behind a slot of this carrier.
func Map(s Slot) *localstorage.Map {
	if ls, ok := s.(*lsSlot); ok {
		return ls.m
	}
	return nil
}

// NewSlot implements Carrier by creating an skb storage map.
func (c *LocalStorage) NewSlot(spec Spec) (Slot, error) {
	ms := localstorage.Spec(localstorage.MapTypeSkbStorage, spec.Size, 0)
	ms.Name = spec.Name
	if spec.CopyOnClone {
		ms.Flags |= localstorage.FlagClone
		ms.Skb.CloneCopy = true
	}
	ms.Skb.KeepOnScrub = spec.KeepOnScrub
	ms.Skb.KeepOnNetns = spec.KeepOnNetns
	m, err := c.env.CreateMap(ms)
	if err != nil {
		return nil, fmt.Errorf("slot %q: %w", spec.Name, err)
	}
	return &lsSlot{spec: spec, m: m}, nil
}

func (c *LocalStorage) slot(s Slot) *lsSlot {
	ls, ok := s.(*lsSlot)
	if !ok || ls.m == nil {
		panic(fmt.Sprintf("carrier: slot %v does not belong to %s", s, c.Name()))
	}
	return ls
}

// FreeSlot implements Carrier (bpf_local_storage_map_free).
func (c *LocalStorage) FreeSlot(s Slot) {
	ls := c.slot(s)
	ls.m.Free()
	ls.m = nil
}

// Get implements Carrier with bpf_skb_storage_get.
func (c *LocalStorage) Get(ctx Ctx, b *skb.Buff, s Slot, init []byte, create bool) ([]byte, error) {
	flags := uint64(0)
	if create {
		flags = localstorage.GetCreate
	}
	return c.slot(s).m.SkbStorageGet(ctx, b, init, flags)
}

// Delete implements Carrier with bpf_skb_storage_delete.
func (c *LocalStorage) Delete(ctx Ctx, b *skb.Buff, s Slot) error {
	return c.slot(s).m.SkbStorageDelete(ctx, b)
}

// Entries implements Carrier: the elements of the storage b sees.
func (c *LocalStorage) Entries(b *skb.Buff, dst []Entry) []Entry {
	st := localstorage.SkbStorage(b)
	if st == nil {
		return dst
	}
	for el := range st.All() {
		dst = append(dst, Entry{Slot: el.Map().Name(), Value: el.Value()})
	}
	return dst
}

// Hooks implements Carrier.
func (c *LocalStorage) Hooks() skb.Hooks { return c.env.SkbHooks() }

// Maintain implements Carrier: refill the rfc-prealloc pool, then end a
// grace period.
func (c *LocalStorage) Maintain() {
	c.env.RefillSkbPool()
	c.env.GracePeriod()
}
