package netstack

import (
	"fmt"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/internal/errno"
	"github.com/skbsim/skbsim/skb"
)

// Observer receives what the stack does with each packet. The replay engine
// implements it. Every call takes small value types and must not retain
// pointers into the stack; the stack calls it without allocating. Trace is
// only called for packets with tracing enabled (Packet.Trace or
// Options.TraceAll).
type Observer interface {
	// ProgRun reports one program run and its return code.
	ProgRun(ev ProgRunEvent)
	// MapRead reports the classification of a read-map-value action.
	MapRead(ev MapReadEvent)
	// Drop reports an skb freed with kfree_skb_reason (not consume_skb).
	Drop(ev DropEvent)
	// Deliver reports where a packet (or a clone of it) ended well: queued
	// to a socket, read by a tap, transmitted by a NIC.
	Deliver(ev DeliverEvent)
	// Trace reports one kernel operation on a traced packet.
	Trace(ev TraceEvent)
	// RxMeta reports one XDP RX metadata kfunc call (Ctx.RxTimestamp,
	// RxHash, RxVlanTag) and its return.
	RxMeta(ev RxMetaEvent)
	// Helper reports one call of a helper whose result the report counts
	// (the built-in fib_forward and get_tunnel_key actions).
	Helper(ev HelperEvent)
}

// Helper names a helper HelperEvent reports.
type Helper uint8

// Helpers the report counts.
const (
	HelperFibLookup    Helper = iota // bpf_fib_lookup (ActFibForward)
	HelperGetTunnelKey               // bpf_skb_get_tunnel_key (ActGetTunnelKey)
	NumHelpers
)

var helperNames = [NumHelpers]string{"bpf_fib_lookup", "bpf_skb_get_tunnel_key"}

func (h Helper) String() string {
	if h < NumHelpers {
		return helperNames[h]
	}
	return fmt.Sprintf("helper%d", uint8(h))
}

// HelperResultName names a helper's return: bpf_fib_lookup's
// BPF_FIB_LKUP_RET_ name (FibRetName), "OK" for 0 from another helper, or
// the negative errno's name ("EINVAL").
func HelperResultName(h Helper, ret int) string {
	switch {
	case h == HelperFibLookup:
		return FibRetName(ret)
	case ret == 0:
		return "OK"
	case ret < 0:
		return errno.Errno(-ret).Name()
	}
	return fmt.Sprint(ret)
}

// HelperEvent is one helper call of a built-in action.
type HelperEvent struct {
	PacketID uint64
	Prog     int // index into Config.Programs
	Hook     carrier.Hook
	Helper   Helper
	Ret      int32 // the helper's return: a FibRet* result, 0, or a negative errno
	// Ifindex is bpf_fib_lookup's egress device when Ret is
	// FibRetSuccess or FibRetNoNeigh, else 0.
	Ifindex int32
	// ID is the tunnel id bpf_skb_get_tunnel_key read when Ret is 0.
	ID uint64
}

// RxMetaEvent is one XDP RX metadata kfunc call of an XDP program.
type RxMetaEvent struct {
	PacketID uint64
	Prog     int // index into Config.Programs
	Kfunc    RxMetaKfunc
	Ret      int32 // 0, -ENODATA (no hint for this buffer), -EOPNOTSUPP (the driver lacks the op) or -EINVAL
	// Value is the hint when Ret is 0: the timestamp in ns, the hash, or
	// the VLAN protocol << 16 | TCI.
	Value uint64
}

// ProgRunEvent is one program run.
type ProgRunEvent struct {
	PacketID uint64
	Prog     int // index into Config.Programs
	Hook     carrier.Hook
	Ret      int32
}

// ReadResult classifies a read of a map value.
type ReadResult uint8

// Read results.
const (
	ReadFound   ReadResult = iota // the value this packet wrote
	ReadMissing                   // no value (ENOENT)
	ReadRefused                   // refused: storage shared with a clone (EOPNOTSUPP)
	ReadForeign                   // a value, written for another packet
	ReadError                     // any other error (EACCES, ENOMEM, ...)
	NumReadResults
)

var readNames = [NumReadResults]string{"found", "missing", "refused", "foreign", "error"}

func (r ReadResult) String() string {
	if r < NumReadResults {
		return readNames[r]
	}
	return "read?"
}

// MapReadEvent is one read-map-value action's outcome.
type MapReadEvent struct {
	PacketID uint64
	Prog     int
	Hook     carrier.Hook
	Map      int
	Result   ReadResult
}

// DropEvent is one dropped skb.
type DropEvent struct {
	PacketID uint64
	Reason   skb.DropReason
	Loc      Op    // the kernel function that dropped it
	Dev      int32 // skb->dev ifindex at the drop (0: none)
	Netns    uint32
	Clone    bool // the skb was a clone of the packet (a tap or clone_redirect copy)
}

// DeliverKind says where a packet ended well.
type DeliverKind uint8

// Delivery kinds.
const (
	DeliverSocket DeliverKind = iota // read from a socket's receive queue
	DeliverTap                       // read from a packet tap
	DeliverXmit                      // transmitted by a NIC or dummy device
	DeliverOther                     // consumed by the stack (ARP, TCP ACK processing)
)

// DeliverEvent is one skb consumed at the end of its path.
type DeliverEvent struct {
	PacketID uint64
	Kind     DeliverKind
	Index    int // socket, tap or device index in the Config lists (-1: none)
}

// Layer groups kernel operations for traces.
type Layer uint8

// Layers.
const (
	LayerDriver Layer = iota
	LayerXDP
	LayerGRO
	LayerCore // __netif_receive_skb_core, dev_queue_xmit
	LayerTap
	LayerTC
	LayerBridge
	LayerIP
	LayerTunnel
	LayerL4
	LayerSocket
	LayerDev // device xmit (veth, NIC, loopback)
	NumLayers
)

var layerNames = [NumLayers]string{"driver", "xdp", "gro", "core", "tap", "tc", "bridge", "ip", "tunnel", "l4", "socket", "dev"}

func (l Layer) String() string {
	if l < NumLayers {
		return layerNames[l]
	}
	return "layer?"
}

// SkbState is the carrier-relevant state of an skb at a trace point.
type SkbState struct {
	Len, Headroom int
	// DataLen, NrFrags and FragList describe a non-linear skb: the bytes
	// past the linear data, its page fragments and its frag_list skbs.
	DataLen, NrFrags, FragList int
	Dev                        int32
	Netns                      uint32
	Mark, Priority             uint32
	TCIndex                    uint16
	Hash                       uint32
	VlanProto, VlanTCI         uint16 // the tag in vlan_all (skb_vlan_untag)
	Tstamp                     int64
	TstampType                 skb.TstampType
	PktType                    skb.PktType
	SkbIIF                     int32
	MetaLen                    int
	MetaValid                  bool
	Cloned                     bool
	Users                      int
	Dataref                    int
	ExtActive                  uint8
	ExtRefs                    int  // refcount of the extension object (0: none)
	ExtStorage                 bool // the BPF_STORAGE chunk is active and holds a storage
}

// TraceEvent is one kernel operation on a traced packet.
type TraceEvent struct {
	PacketID uint64
	Layer    Layer
	Op       Op
	SkbID    uint64
	State    SkbState
}

// State captures b's carrier-relevant state.
func State(b *skb.Buff) SkbState {
	h := b.H()
	_, valid := b.Metadata()
	st := SkbState{
		Len: b.Len(), Headroom: b.Headroom(), Dev: h.Dev, Netns: h.Netns,
		Mark: h.Mark, Priority: h.Priority, TCIndex: h.TCIndex, Hash: h.Hash,
		VlanProto: h.VlanProto, VlanTCI: h.VlanTCI,
		Tstamp: h.Tstamp, TstampType: h.TstampType, PktType: h.PktType,
		SkbIIF: h.SkbIIF, MetaLen: b.MetadataLen(), MetaValid: valid,
		Cloned: b.SkbCloned(), Users: b.Users(), Dataref: b.Dataref(),
		ExtActive: b.ExtActive(),
	}
	if b.IsNonlinear() {
		st.DataLen, st.NrFrags, st.FragList = b.DataLen(), b.NrFrags(), b.FragListLen()
	}
	if e := b.Ext(); e != nil {
		st.ExtRefs = e.Refs()
		if se := b.ExtFind(skb.ExtBPFStorage); se != nil && se.Storage() != nil {
			st.ExtStorage = true
		}
	}
	return st
}

// NopObserver ignores everything.
type NopObserver struct{}

// ProgRun implements Observer.
func (NopObserver) ProgRun(ProgRunEvent) {}

// MapRead implements Observer.
func (NopObserver) MapRead(MapReadEvent) {}

// RxMeta implements Observer.
func (NopObserver) RxMeta(RxMetaEvent) {}

// Helper implements Observer.
func (NopObserver) Helper(HelperEvent) {}

// Drop implements Observer.
func (NopObserver) Drop(DropEvent) {}

// Deliver implements Observer.
func (NopObserver) Deliver(DeliverEvent) {}

// Trace implements Observer.
func (NopObserver) Trace(TraceEvent) {}
