package skb

// ring is a FIFO free list. Objects are reused in the order they were freed,
// so a freed object stays poisoned (and a use after free stays detectable)
// for as long as possible, like a KASAN quarantine. Growing the ring is the
// only allocation; a steady state allocates nothing.
type ring[T any] struct {
	items []*T
	head  int
	n     int
}

func (r *ring[T]) get() *T {
	if r.n == 0 {
		return nil
	}
	x := r.items[r.head]
	r.items[r.head] = nil
	r.head++
	if r.head == len(r.items) {
		r.head = 0
	}
	r.n--
	return x
}

func (r *ring[T]) put(x *T) {
	if r.n == len(r.items) {
		r.grow()
	}
	i := r.head + r.n
	if i >= len(r.items) {
		i -= len(r.items)
	}
	r.items[i] = x
	r.n++
}

func (r *ring[T]) grow() {
	size := 2 * len(r.items)
	if size == 0 {
		size = 16
	}
	items := make([]*T, size)
	for i := 0; i < r.n; i++ {
		j := r.head + i
		if j >= len(r.items) {
			j -= len(r.items)
		}
		items[i] = r.items[j]
	}
	r.items = items
	r.head = 0
}

func (r *ring[T]) len() int { return r.n }
