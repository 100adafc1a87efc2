package skb

// ring is a FIFO free list. Objects are reused in the order they were freed,
// so a freed object stays poisoned (and a use after free stays detectable)
// for as long as possible, like a KASAN quarantine. Growing the ring is the
// only allocation; a steady state allocates nothing.
//
// The length of items is zero or a power of two, so positions wrap with a
// mask and put and get stay small enough to inline.
type ring[T any] struct {
	items []*T
	head  int
	n     int
}

func (r *ring[T]) get() *T {
	if r.n == 0 {
		return nil
	}
	i := r.head & (len(r.items) - 1)
	x := r.items[i]
	r.items[i] = nil
	r.head = i + 1
	r.n--
	return x
}

func (r *ring[T]) put(x *T) {
	if r.n == len(r.items) {
		r.grow()
	}
	r.items[(r.head+r.n)&(len(r.items)-1)] = x
	r.n++
}

// grow doubles the ring (16 slots at first), keeping the FIFO order.
func (r *ring[T]) grow() {
	size := 2 * len(r.items)
	if size == 0 {
		size = 16
	}
	items := make([]*T, size)
	for i := 0; i < r.n; i++ {
		items[i] = r.items[(r.head+i)&(len(r.items)-1)]
	}
	r.items = items
	r.head = 0
}

func (r *ring[T]) len() int { return r.n }
