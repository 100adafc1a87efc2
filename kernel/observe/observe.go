package observe

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
)

// TestPort is the UDP destination port of the marked test packet (inner
// packet for VXLAN transitions).
const TestPort = 9999

// VXLANPort is the UDP port of the VXLAN underlay in the tunnel transitions.
const VXLANPort = 4789

// GenevePort is the UDP port of the Geneve underlay in the geneve
// transition (the IANA port, geneve's default).
const GenevePort = 6081

// DeviceMACs are the link-layer addresses of the transition topologies'
// devices with one, by role name. The kernel recorder creates its devices
// with them and the model uses them, so bytes a program reads from an
// Ethernet header compare equal.
var DeviceMACs = map[string][6]byte{
	"vX": {2, 0, 0, 0, 1, 1}, "vY": {2, 0, 0, 0, 1, 2},
	"vA": {2, 0, 0, 0, 2, 1}, "vB": {2, 0, 0, 0, 2, 2}, "vC": {2, 0, 0, 0, 2, 3},
	"hA": {2, 0, 0, 0, 3, 1}, "hB": {2, 0, 0, 0, 3, 2}, "hC": {2, 0, 0, 0, 3, 3},
	"vxA": {2, 0, 0, 0, 4, 1}, "vxB": {2, 0, 0, 0, 4, 2},
	"tA": {2, 0, 0, 0, 5, 1}, "tB": {2, 0, 0, 0, 5, 2},
	"br0": {2, 0, 0, 0, 6, 1},
	"hL":  {2, 0, 0, 0, 7, 1}, "mvB": {2, 0, 0, 0, 7, 2}, "mvC": {2, 0, 0, 0, 7, 3},
}

// MACString formats the address of role as ip(8) takes it.
func MACString(role string) string {
	m := DeviceMACs[role]
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])
}

// MetaRecordLen is how many bytes of XDP metadata a recorder copies.
const MetaRecordLen = 32

// ValueOther replaces a value that is neither zero nor a value some action of
// the transition wrote (see [Normalize]).
const ValueOther = ^uint64(0)

// Point is where on a device a program runs.
type Point string

// Attachment points.
const (
	XDP       Point = "xdp"
	TCIngress Point = "tc-ingress"
	TCEgress  Point = "tc-egress"
	// XDPCpumap is the program of the recorder's cpumap entry (an XDP
	// program loaded as BPF_XDP_CPUMAP): it runs, on the remote CPU, on
	// what the device's XDP program redirected there (RedirectCPU).
	XDPCpumap Point = "xdp-cpumap"
	// CgroupIngress is a cgroup_skb/ingress program on the UDP socket
	// bound to TestPort in the namespace of the hook's device (the device
	// only names the namespace): it runs in sk_filter_trim_cap when the
	// packet is queued to that socket, with data at the network header
	// and a zeroed cb[]. No action can run there.
	CgroupIngress Point = "cgroup-ingress"
	// SocketFilter is a socket filter (SO_ATTACH_BPF) on that same socket:
	// it runs after the cgroup programs in sk_filter_trim_cap, with data
	// at the transport header and a zeroed cb[].
	SocketFilter Point = "socket-filter"
	// TapFilter is a socket filter (SO_ATTACH_BPF) on a packet socket
	// (SOCK_RAW, ETH_P_ALL) bound to the hook's device: packet_rcv runs it
	// on the skb before tc ingress, with data at the mac header and cb[]
	// cleared for good (bpf_prog_run_clear_cb).
	TapFilter Point = "tap-filter"
	// CgroupEgress is a cgroup_skb/egress program on the transition's
	// sender socket (in the namespace of the hook's device): it runs in
	// ip_finish_output, with data at the network header and a cb[] that
	// is zeroed for it and restored after it, so its cb[] writes are
	// lost. Its action may write mark, priority and cb[] only.
	CgroupEgress Point = "cgroup-egress"
)

// SocketLevel reports whether the point is a program on the receiving
// socket of the hook device's namespace rather than on the device.
func (p Point) SocketLevel() bool { return p == CgroupIngress || p == SocketFilter }

// Readable reports whether a program at p can read field f: a
// cgroup_skb program has no __sk_buff->tstamp_type and no data_meta
// (cg_skb_is_valid_access), so no metadata either; a socket filter has
// neither, nor tstamp, data or data_end (sk_filter_is_valid_access).
func (p Point) Readable(f Field) bool {
	switch p {
	case CgroupIngress, CgroupEgress:
		return f != FieldTstampType && f != FieldMetaLen && f != FieldMeta
	case SocketFilter, TapFilter:
		return f != FieldTstampType && f != FieldMetaLen && f != FieldMeta && f != FieldTstamp && f != FieldHeadlen
	}
	return true
}

// IsXDP reports whether the point runs an XDP program (xdp_md context).
func (p Point) IsXDP() bool { return p == XDP || p == XDPCpumap }

// Hook names a program position: a device (by its role name in the
// transition's topology) and a point on it.
type Hook struct {
	Dev   string
	Point Point
}

func (h Hook) String() string { return h.Dev + "/" + string(h.Point) }

// ParseHook parses the "dev/point" form produced by Hook.String.
func ParseHook(s string) (Hook, error) {
	dev, p, ok := strings.Cut(s, "/")
	h := Hook{Dev: dev, Point: Point(p)}
	if !ok || dev == "" {
		return Hook{}, fmt.Errorf("parse hook %q: want dev/point", s)
	}
	switch h.Point {
	case XDP, TCIngress, TCEgress, XDPCpumap, CgroupIngress, SocketFilter, TapFilter, CgroupEgress:
		return h, nil
	}
	return Hook{}, fmt.Errorf("parse hook %q: unknown point %q", s, p)
}

// Field names an observable carrier of a packet.
type Field string

// Observed fields. The __sk_buff field each one reads is given; XDP hooks
// observe only FieldCount, FieldIngressIfindex and the metadata fields.
const (
	FieldCount          Field = "count"           // matching packets seen at the hook
	FieldMark           Field = "mark"            // __sk_buff.mark (skb->mark)
	FieldPriority       Field = "priority"        // __sk_buff.priority
	FieldTCIndex        Field = "tc_index"        // __sk_buff.tc_index
	FieldCB0            Field = "cb0"             // __sk_buff.cb[0] (qdisc_skb_cb data)
	FieldCB1            Field = "cb1"             // __sk_buff.cb[1]
	FieldCB2            Field = "cb2"             // __sk_buff.cb[2]
	FieldCB3            Field = "cb3"             // __sk_buff.cb[3]
	FieldCB4            Field = "cb4"             // __sk_buff.cb[4]
	FieldHash           Field = "hash"            // __sk_buff.hash (skb->hash, no recompute)
	FieldTstamp         Field = "tstamp"          // __sk_buff.tstamp
	FieldTstampType     Field = "tstamp_type"     // __sk_buff.tstamp_type
	FieldPktType        Field = "pkt_type"        // __sk_buff.pkt_type (PACKET_HOST=0 ... OTHERHOST=3)
	FieldIngressIfindex Field = "ingress_ifindex" // __sk_buff.ingress_ifindex (skb->skb_iif); xdp_md.ingress_ifindex
	FieldIfindex        Field = "ifindex"         // __sk_buff.ifindex (skb->dev)
	FieldGSOSegs        Field = "gso_segs"        // __sk_buff.gso_segs (GSO/GRO segment count)
	FieldHeadlen        Field = "headlen"         // data_end - data at tc hooks: skb_headlen() from the mac header
	FieldMetaLen        Field = "meta_len"        // data - data_meta
	FieldMeta           Field = "meta"            // the first min(meta_len, MetaRecordLen) metadata bytes
	// FieldRet is the return value of the hook's action helper
	// (bpf_redirect*, bpf_clone_redirect, bpf_xdp_adjust_meta); present only
	// at hooks whose action redirects or reserves metadata.
	FieldRet Field = "ret"
)

// Fields lists the fields in matrix order.
var Fields = []Field{
	FieldCount, FieldMark, FieldPriority, FieldTCIndex, FieldCB0, FieldCB1,
	FieldCB2, FieldCB3, FieldCB4, FieldHash, FieldTstamp, FieldTstampType,
	FieldPktType, FieldIngressIfindex, FieldIfindex, FieldGSOSegs, FieldHeadlen, FieldMetaLen, FieldMeta,
	FieldRet,
}

// CBField returns the field of cb[i], 0 <= i < 5.
func CBField(i int) Field { return []Field{FieldCB0, FieldCB1, FieldCB2, FieldCB3, FieldCB4}[i] }

// IsIfindex reports whether f holds an interface index (compared by Dev).
func (f Field) IsIfindex() bool { return f == FieldIngressIfindex || f == FieldIfindex }

// Observation is one cell of the matrix.
type Observation struct {
	Transition string
	Hook       string // Hook.String()
	Field      Field
	// Value is the numeric value; for ifindex fields the raw index, which
	// is not compared (Dev is).
	Value uint64
	// Bytes is set for FieldMeta only.
	Bytes []byte
	// Dev is, for ifindex fields, the role name of the device the index
	// resolves to in the hook's namespace ("" for 0, "?" if unknown).
	Dev string
}

// Key identifies the cell.
func (o Observation) Key() string { return o.Transition + " " + o.Hook + " " + string(o.Field) }

// Equal compares two cells the way the differential harness does: ifindex
// fields by device name, FieldMeta by bytes, the rest by value.
func (o Observation) Equal(p Observation) bool {
	if o.Key() != p.Key() {
		return false
	}
	switch {
	case o.Field.IsIfindex():
		return o.Dev == p.Dev
	case o.Field == FieldMeta:
		return bytes.Equal(o.Bytes, p.Bytes)
	}
	return o.Value == p.Value
}

// ValueString formats the value for tables.
func (o Observation) ValueString() string {
	switch {
	case o.Field.IsIfindex():
		if o.Dev == "" {
			return "0"
		}
		return o.Dev
	case o.Field == FieldMeta:
		return fmt.Sprintf("% x", o.Bytes)
	case o.Value == ValueOther:
		return "other"
	case o.Field == FieldRet:
		return fmt.Sprintf("%d", int64(o.Value))
	case o.Field == FieldCount || o.Field == FieldPktType || o.Field == FieldTstampType || o.Field == FieldMetaLen || o.Field == FieldGSOSegs || o.Field == FieldHeadlen || o.Field == FieldPriority || o.Field == FieldTCIndex:
		return fmt.Sprintf("%d", o.Value)
	}
	return fmt.Sprintf("%#x", o.Value)
}

func (o Observation) String() string { return o.Key() + " = " + o.ValueString() }

// Matrix is a list of observations, in transition, hook and Fields order.
type Matrix []Observation

// Get returns the cell of a transition, hook and field.
func (m Matrix) Get(transition, hook string, f Field) (Observation, bool) {
	for _, o := range m {
		if o.Transition == transition && o.Hook == hook && o.Field == f {
			return o, true
		}
	}
	return Observation{}, false
}

// Value returns a cell's value, and false if the cell is absent (for
// example because the hook never saw the packet).
func (m Matrix) Value(transition, hook string, f Field) (uint64, bool) {
	o, ok := m.Get(transition, hook, f)
	return o.Value, ok
}

// Diff returns one line per cell that differs between want and got, or is
// present in only one of them, sorted by key.
func Diff(want, got Matrix) []string {
	w := index(want)
	g := index(got)
	var out []string
	for k, a := range w {
		b, ok := g[k]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("%s: want %s, got nothing", k, a.ValueString()))
		case !a.Equal(b):
			out = append(out, fmt.Sprintf("%s: want %s, got %s", k, a.ValueString(), b.ValueString()))
		}
	}
	for k, b := range g {
		if _, ok := w[k]; !ok {
			out = append(out, fmt.Sprintf("%s: want nothing, got %s", k, b.ValueString()))
		}
	}
	sort.Strings(out)
	return out
}

func index(m Matrix) map[string]Observation {
	r := make(map[string]Observation, len(m))
	for _, o := range m {
		r[o.Key()] = o
	}
	return r
}

// Format renders the matrix as a table with one row per transition and hook
// and one column per field, skipping columns that are empty everywhere.
func (m Matrix) Format() string {
	type row struct {
		t, h string
		v    map[Field]string
	}
	var rows []*row
	byKey := map[string]*row{}
	used := map[Field]bool{}
	for _, o := range m {
		k := o.Transition + " " + o.Hook
		r := byKey[k]
		if r == nil {
			r = &row{t: o.Transition, h: o.Hook, v: map[Field]string{}}
			byKey[k] = r
			rows = append(rows, r)
		}
		r.v[o.Field] = o.ValueString()
		used[o.Field] = true
	}
	var cols []Field
	for _, f := range Fields {
		if used[f] {
			cols = append(cols, f)
		}
	}
	var b strings.Builder
	b.WriteString("| transition | hook |")
	for _, f := range cols {
		b.WriteString(" " + string(f) + " |")
	}
	b.WriteString("\n|---|---|")
	for range cols {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s |", r.t, r.h)
		for _, f := range cols {
			v, ok := r.v[f]
			if !ok {
				v = "-"
			}
			b.WriteString(" " + v + " |")
		}
		b.WriteString("\n")
	}
	return b.String()
}
