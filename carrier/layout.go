package carrier

import (
	"encoding/binary"
	"fmt"
)

// slotLayout places the maps of a buffer design (ext-buffer, xdp-meta) in
// one fixed area, as a program that owns the area lays out a struct: a u32
// presence mask first (bit m set: map m holds a value), then each map's value
// at the next offset aligned to align. The mask is the program's
// convention; the kernel stores bytes only.
type slotLayout struct {
	off   []int
	size  []int
	total int
}

const maskBytes = 4

// maxSlots is the number of maps the u32 presence mask can describe.
const maxSlots = 32

func newSlotLayout(maps []MapSpec, align int) (slotLayout, error) {
	if len(maps) > maxSlots {
		return slotLayout{}, fmt.Errorf("%d maps, the presence mask holds %d: %w", len(maps), maxSlots, ErrBadValueSize)
	}
	l := slotLayout{off: make([]int, len(maps)), size: make([]int, len(maps))}
	o := maskBytes
	for i, m := range maps {
		o = (o + align - 1) / align * align
		l.off[i] = o
		l.size[i] = m.ValueSize
		o += m.ValueSize
	}
	l.total = (o + align - 1) / align * align
	return l, nil
}

func (l *slotLayout) mask(area []byte) uint32 { return binary.LittleEndian.Uint32(area) }

func (l *slotLayout) setMask(area []byte, v uint32) { binary.LittleEndian.PutUint32(area, v) }

func (l *slotLayout) has(area []byte, m int) bool { return l.mask(area)&(1<<m) != 0 }

func (l *slotLayout) slot(area []byte, m int) []byte {
	lo, hi := l.off[m], l.off[m]+l.size[m]
	return area[lo:hi:hi]
}
