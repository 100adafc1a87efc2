package sim

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/skbsim/skbsim/capture"
	"github.com/skbsim/skbsim/netstack"
)

// tracer prints the life of chosen packets step by step: every kernel
// operation with the skb's state, program runs, map reads, drops and
// deliveries.
type tracer struct {
	w       io.Writer
	ids     []int64 // sorted; nil means every packet
	lay     *layout
	s       *Scenario
	cur     int64 // the packet being injected
	printed int64 // the packet the last lines were about
	socks   []string
	taps    []string
	devs    []string
}

func newTracer(w io.Writer, ids []int64, lay *layout, s *Scenario) *tracer {
	t := &tracer{w: w, lay: lay, s: s, printed: -1}
	if ids != nil {
		t.ids = slices.Clone(ids)
		slices.Sort(t.ids)
	}
	for _, so := range s.Stack.Sockets {
		t.socks = append(t.socks, so.Name)
	}
	for _, tp := range s.Stack.Taps {
		t.taps = append(t.taps, tp.Name)
	}
	for _, d := range s.Stack.Devices {
		t.devs = append(t.devs, d.Netns+"/"+d.Name)
	}
	return t
}

func (t *tracer) wants(id int64) bool {
	if t.ids == nil {
		return true
	}
	_, ok := slices.BinarySearch(t.ids, id)
	return ok
}

// begin starts a packet's trace with a summary of its headers.
func (t *tracer) begin(p *Packet) {
	t.cur = p.ID
	if !t.wants(p.ID) {
		return
	}
	t.printed = p.ID
	fmt.Fprintf(t.w, "packet %d: %d bytes (%d on the wire), %s\n", p.ID, len(p.Data), p.OrigLen, describe(&p.Dec))
}

// at reports whether events of packet id are traced, and heads them with
// the packet when the previous lines were about another one (a packet
// held by GRO or a socket queue finishes while a later one is injected).
func (t *tracer) at(id uint64) bool {
	if !t.wants(int64(id)) {
		return false
	}
	if int64(id) != t.printed {
		t.printed = int64(id)
		fmt.Fprintf(t.w, "packet %d (continued while packet %d runs):\n", id, t.cur)
	}
	return true
}

// end marks the end of the replay: what Close frees is reported under the
// packets it belonged to.
func (t *tracer) end() { t.cur = -1 }

// describe summarises a decoded packet on one line.
func describe(d *capture.Decoded) string {
	var b strings.Builder
	for i := 0; i <= int(d.Depth); i++ {
		h := &d.Hdr[i]
		if i > 0 {
			tn := &d.Tunnel[i-1]
			fmt.Fprintf(&b, " in %s", tn.Kind)
			if tn.HasID || tn.Kind == capture.TunnelVXLAN || tn.Kind == capture.TunnelGeneve {
				fmt.Fprintf(&b, " id %d", tn.ID)
			}
			b.WriteString(" carrying")
		}
		if h.L2.NumVLAN > 0 {
			fmt.Fprintf(&b, " vlan %d", h.L2.VLAN[0].ID)
		}
		switch h.L3.Proto {
		case capture.L3IPv4, capture.L3IPv6:
			fmt.Fprintf(&b, " %s %s -> %s", h.L3.Proto, h.L3.Src, h.L3.Dst)
			if h.L3.IsFragment() {
				fmt.Fprintf(&b, " frag@%d", h.L3.FragOffset)
			}
			switch h.L4.Proto {
			case 6:
				fmt.Fprintf(&b, " tcp %d -> %d [%s]", h.L4.SrcPort, h.L4.DstPort, h.L4.TCPFlags)
			case 17:
				fmt.Fprintf(&b, " udp %d -> %d", h.L4.SrcPort, h.L4.DstPort)
			case 1, 58:
				fmt.Fprintf(&b, " icmp type %d", h.L4.ICMPType)
			}
		case capture.L3ARP:
			fmt.Fprintf(&b, " arp %s -> %s", h.L3.Src, h.L3.Dst)
		default:
			fmt.Fprintf(&b, " %s ethertype 0x%04x", h.L2.Kind, h.L2.EtherType)
		}
	}
	if d.Malformed != capture.MalformedNone {
		fmt.Fprintf(&b, " (malformed: %s)", d.Malformed)
	}
	return strings.TrimSpace(b.String())
}

func (t *tracer) progName(i int) string {
	if i >= 0 && i < len(t.lay.progs) {
		return t.lay.progs[i].name
	}
	return fmt.Sprintf("prog%d", i)
}

func (t *tracer) mapName(i int) string {
	if i >= 0 && i < len(t.lay.maps) {
		return t.lay.maps[i]
	}
	return fmt.Sprintf("map%d", i)
}

func (t *tracer) trace(ev netstack.TraceEvent) {
	if !t.at(ev.PacketID) {
		return
	}
	st := &ev.State
	fmt.Fprintf(t.w, "  %-14s %-38s skb#%d len=%d headroom=%d dev=%d netns=%d cloned=%v users=%d dataref=%d ext=%#02x ext_refs=%d storage=%v meta=%d",
		ev.Layer, ev.Op, ev.SkbID, st.Len, st.Headroom, st.Dev, st.Netns, st.Cloned, st.Users, st.Dataref,
		st.ExtActive, st.ExtRefs, st.ExtStorage, st.MetaLen)
	if st.DataLen != 0 {
		fmt.Fprintf(t.w, " data_len=%d frags=%d frag_list=%d", st.DataLen, st.NrFrags, st.FragList)
	}
	if st.Mark != 0 {
		fmt.Fprintf(t.w, " mark=%#x", st.Mark)
	}
	if st.Priority != 0 {
		fmt.Fprintf(t.w, " priority=%d", st.Priority)
	}
	if st.TCIndex != 0 {
		fmt.Fprintf(t.w, " tc_index=%d", st.TCIndex)
	}
	if st.VlanProto != 0 || st.VlanTCI != 0 {
		fmt.Fprintf(t.w, " vlan=%#04x/%#x", st.VlanProto, st.VlanTCI)
	}
	if st.Tstamp != 0 {
		fmt.Fprintf(t.w, " tstamp=%d/%d", st.Tstamp, st.TstampType)
	}
	fmt.Fprintln(t.w)
}

func (t *tracer) progRun(ev netstack.ProgRunEvent) {
	if t.at(ev.PacketID) {
		fmt.Fprintf(t.w, "  %-14s program %s returned %d\n", ev.Hook, t.progName(ev.Prog), ev.Ret)
	}
}

func (t *tracer) mapRead(ev netstack.MapReadEvent) {
	if t.at(ev.PacketID) {
		fmt.Fprintf(t.w, "  %-14s program %s read map %s: %s\n", ev.Hook, t.progName(ev.Prog), t.mapName(ev.Map), ev.Result)
	}
}

func (t *tracer) rxMeta(ev netstack.RxMetaEvent) {
	if t.at(ev.PacketID) {
		res := fmt.Sprintf("%#x", ev.Value)
		switch ev.Ret {
		case 0:
		case -61:
			res = "ENODATA"
		case -95:
			res = "EOPNOTSUPP"
		default:
			res = fmt.Sprintf("error %d", ev.Ret)
		}
		fmt.Fprintf(t.w, "  %-14s program %s bpf_xdp_metadata_%s: %s\n", "xdp", t.progName(ev.Prog), ev.Kfunc, res)
	}
}

func (t *tracer) helper(ev netstack.HelperEvent) {
	if t.at(ev.PacketID) {
		res := netstack.HelperResultName(ev.Helper, int(ev.Ret))
		switch {
		case ev.Ifindex != 0:
			res += fmt.Sprintf(" (ifindex %d)", ev.Ifindex)
		case ev.Helper == netstack.HelperGetTunnelKey && ev.Ret == 0:
			res += fmt.Sprintf(" (tunnel id %d)", ev.ID)
		}
		fmt.Fprintf(t.w, "  %-14s program %s %s: %s\n", ev.Hook, t.progName(ev.Prog), ev.Helper, res)
	}
}

func (t *tracer) drop(ev netstack.DropEvent) {
	if t.at(ev.PacketID) {
		what := "skb"
		if ev.Clone {
			what = "clone"
		}
		fmt.Fprintf(t.w, "  %-14s %s freed by %s: %s (dev %d, netns %d)\n", "drop", what, ev.Loc,
			t.lay.drops[int(ev.Reason)&0xff], ev.Dev, ev.Netns)
	}
}

func (t *tracer) deliver(ev netstack.DeliverEvent) {
	if !t.at(ev.PacketID) {
		return
	}
	switch ev.Kind {
	case netstack.DeliverSocket:
		fmt.Fprintf(t.w, "  %-14s read from socket %s\n", "deliver", nameAt(t.socks, ev.Index))
	case netstack.DeliverTap:
		fmt.Fprintf(t.w, "  %-14s read from tap %s\n", "deliver", nameAt(t.taps, ev.Index))
	case netstack.DeliverXmit:
		fmt.Fprintf(t.w, "  %-14s transmitted by %s\n", "deliver", nameAt(t.devs, ev.Index))
	default:
		fmt.Fprintf(t.w, "  %-14s consumed by the stack\n", "deliver")
	}
}

// linkEvent prints event e, which the packet about to be injected (id)
// is the first of its shard to follow, when that packet is traced.
func (t *tracer) linkEvent(id int64, e netstack.Event) {
	if t.wants(id) {
		fmt.Fprintf(t.w, "event at packet %d, before packet %d of its shard: %s\n", e.At, id, e)
	}
}

func (t *tracer) rejected(id int64, err error) {
	if t.at(uint64(id)) {
		fmt.Fprintf(t.w, "  %-14s %v\n", "rejected", err)
	}
}

func nameAt(names []string, i int) string {
	if i >= 0 && i < len(names) {
		return names[i]
	}
	return fmt.Sprintf("#%d", i)
}
