package netstack

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/internal/errno"
	"github.com/skbsim/skbsim/skb"
)

// ActionKind is one step of the built-in program library.
type ActionKind uint8

// Action kinds.
const (
	// ActWrite stores map Map's value: the current packet id (so a later
	// read can tell whose value it is), then Value.
	ActWrite ActionKind = iota
	// ActRead reads map Map's value and reports found / missing / refused
	// / foreign / error to the observer.
	ActRead
	// ActDelete deletes map Map's value.
	ActDelete
	// ActSetMark, ActSetPriority, ActSetTCIndex store Value.
	ActSetMark
	ActSetPriority
	ActSetTCIndex
	// ActSetCB stores Value in __sk_buff->cb[Index].
	ActSetCB
	// ActSetHash is bpf_set_hash(Value).
	ActSetHash
	// ActSetTstamp stores Value in __sk_buff->tstamp, or with Mono calls
	// bpf_skb_set_tstamp(Value, BPF_SKB_CLOCK_MONOTONIC).
	ActSetTstamp
	// ActAdjustMeta is bpf_xdp_adjust_meta(-Value) and fills the new
	// metadata with 0xa0, 0xa1, ... (XDP only).
	ActAdjustMeta
	// ActCloneRedirect is bpf_clone_redirect(Target, Ingress?
	// BPF_F_INGRESS: 0); the program continues.
	ActCloneRedirect
	// ActRedirect is return bpf_redirect(Target, Ingress? BPF_F_INGRESS: 0).
	ActRedirect
	// ActRedirectPeer is return bpf_redirect_peer(Target, 0).
	ActRedirectPeer
	// ActDrop returns the hook's drop code.
	ActDrop
	// ActCount increments the program's counter.
	ActCount
	// ActPass returns the hook's pass code (TCX_PASS for tc, which stops
	// the chain and sets tc_index from tc_classid).
	ActPass
	// ActMirred is act_mirred, the classic tc action (`tc filter add dev
	// D ingress ... action mirred egress redirect dev Target`), at
	// the tc hooks only: with Mirror a clone of the packet goes to Target
	// and the actions go on (TC_ACT_PIPE); otherwise the packet is
	// redirected and the actions end (TC_ACT_STOLEN, or TC_ACT_CONSUMED
	// when it leaves without a clone). Ingress sends to Target's receive
	// path instead of its transmit path. See Stack.mirred.
	ActMirred
	// ActRedirectCPU is return bpf_redirect_map(&Target, Index, Value):
	// a redirect into cpumap Target's entry for CPU Index, or the action
	// Value (XDP_ABORTED, the default, XDP_DROP, XDP_PASS or XDP_TX) when
	// the entry is empty. XDP only.
	ActRedirectCPU
	// ActRedirectDevmap is return bpf_redirect_map(&Target, Index,
	// Value): into device map Target's entry Index, Value holding the
	// action for an empty entry and FlagBroadcast, FlagExcludeIngress.
	// XDP only.
	ActRedirectDevmap
	// ActVlanPush is bpf_skb_vlan_push(TPID (0: 802.1Q), Value as the
	// TCI); tc only.
	ActVlanPush
	// ActVlanPop is bpf_skb_vlan_pop; tc only.
	ActVlanPop
	// ActAdjustHead is bpf_xdp_adjust_head(Delta): Delta bytes removed
	// from the front of the frame (negative: room added), the metadata
	// moving along; with KeepEth the Ethernet header is read before and
	// written at the new front after (an XDP decap of an IPIP or GUE
	// packet, as Katran's). XDP only.
	ActAdjustHead
	// ActChangeHead is bpf_skb_change_head(Value, 0): Value zeroed bytes
	// in front of the packet, the mac header there; tc only.
	ActChangeHead
	// ActAdjustRoom is bpf_skb_adjust_room(Delta, Index as the mode:
	// AdjRoomNet or AdjRoomMac, Value as the flags); tc only.
	ActAdjustRoom
	// ActChangeProto is bpf_skb_change_proto(Value, 0): ETH_P_IPV6 for
	// an IPv4 packet, ETH_P_IP for an IPv6 one; tc only.
	ActChangeProto
	// ActRxMeta calls the XDP RX metadata kfunc Index (an RxMetaKfunc:
	// Ctx.RxTimestamp, RxHash or RxVlanTag), whose return the observer
	// counts (RxMetaEvent); the program goes on. XDP only.
	ActRxMeta
	// ActChangeTail is bpf_skb_change_tail(new_len, 0): new_len is Value
	// (Index 0) or the packet's length plus Delta (Index 1); tc only.
	ActChangeTail
	// ActAdjustTail is bpf_xdp_adjust_tail(Delta): Delta bytes added at the
	// frame's end (zeroed; negative: trimmed). XDP only.
	ActAdjustTail
	// ActRedirectNeigh is return bpf_redirect_neigh(Target, NULL, 0, 0): out
	// of Target through the neighbour subsystem; with Via, the next hop
	// (struct bpf_redir_neigh); tc only.
	ActRedirectNeigh
	// ActFibForward forwards in the program, as samples/bpf/xdp_fwd and
	// Cilium's fib_redirect do: for an IPv4 or IPv6 packet whose TTL or
	// hop limit is above 1, bpf_fib_lookup (Ctx.FibLookup) with the
	// packet's addresses, protocol and TOS (IPv6: flowinfo), Ifindex the program's device,
	// TotLen the packet's network length at XDP (0 at tc: the skb is
	// checked), Value as the flags and, with FibLookupMark at tc, the
	// skb's mark for the policy rules; the result goes to the observer
	// (FibEvent). On success the TTL or hop limit is decremented, the
	// Ethernet addresses are rewritten (at tc after the verifier's unclone
	// prologue, Ctx.PullData) and the program returns bpf_redirect(Ifindex,
	// 0). With Index 1 (tc), NO_NEIGH returns bpf_redirect_neigh(Ifindex,
	// the next hop) instead. Otherwise the program goes on. XDP and tc.
	ActFibForward
	// ActSetTunnelKey is bpf_skb_set_tunnel_key with tunnel id Value and
	// remote Via (IPv4, or IPv6 with BPF_F_TUNINFO_IPV6): a collect_md
	// tunnel device sends the packet there. tc only.
	ActSetTunnelKey
	// ActGetTunnelKey is bpf_skb_get_tunnel_key with flags Value (0, or
	// TunInfoIPv6 for an IPv6 underlay's key); the observer counts its
	// return (HelperEvent): 0 while the skb carries tunnel info of the
	// family, -EINVAL once it carries none, -EPROTO for the other family.
	// tc only.
	ActGetTunnelKey
	// ActChangeType is bpf_skb_change_type(Value): skb->pkt_type becomes
	// Value (0 PACKET_HOST, 1 BROADCAST, 2 MULTICAST, 3 OTHERHOST); tc
	// only.
	ActChangeType
	NumActionKinds
)

var actionNames = [NumActionKinds]string{
	"write", "read", "delete", "set_mark", "set_priority", "set_tc_index", "set_cb",
	"set_hash", "set_tstamp", "adjust_meta", "clone_redirect", "redirect",
	"redirect_peer", "drop", "count", "pass", "mirred", "redirect_cpu", "redirect_devmap",
	"vlan_push", "vlan_pop", "adjust_head", "change_head", "adjust_room", "change_proto",
	"rx_meta", "change_tail", "adjust_tail", "redirect_neigh", "fib_forward", "set_tunnel_key",
	"get_tunnel_key", "change_type",
}

func (k ActionKind) String() string {
	if k < NumActionKinds {
		return actionNames[k]
	}
	return fmt.Sprintf("action%d", uint8(k))
}

// ParseActionKind returns the kind named s (as printed by String).
func ParseActionKind(s string) (ActionKind, bool) {
	for i, n := range actionNames {
		if n == s {
			return ActionKind(i), true
		}
	}
	return 0, false
}

// Action is one declarative step.
type Action struct {
	Kind    ActionKind
	Map     int    // carrier map index (write, read, delete)
	Value   uint64 // value to store, or metadata length for ActAdjustMeta
	Index   int    // cb index for ActSetCB; CPU for ActRedirectCPU; the RxMetaKfunc for ActRxMeta
	Target  string // device name in the program's namespace (redirects); cpumap name (ActRedirectCPU)
	Ingress bool   // BPF_F_INGRESS for redirects; ingress for ActMirred
	Mirror  bool   // ActMirred: mirror (a clone) instead of redirect
	Mono    bool   // ActSetTstamp: EDT delivery time (BPF_SKB_CLOCK_MONOTONIC)
	TPID    uint16 // ActVlanPush: the tag's protocol (0: 802.1Q)
	Delta   int    // ActAdjustHead: bytes removed from the front (negative: added); ActAdjustRoom: len_diff
	KeepEth bool   // ActAdjustHead: move the Ethernet header to the new front
	// Via is ActRedirectNeigh's next hop (the zero Addr: the route's).
	Via netip.Addr
}

// actionProg runs a list of actions.
type actionProg struct {
	acts    []Action
	targets []int32 // resolved ifindex per action (0: none)
	val     []byte  // scratch value buffer, sized to the largest map
}

func (p *actionProg) Run(c *Ctx) int {
	// The read events of this run differ only in Map and Result: the rest
	// is filled once.
	ev := MapReadEvent{PacketID: c.PacketID, Prog: c.Prog, Hook: c.Hook}
	acts := p.acts
	for i := range acts {
		a := &acts[i]
		switch a.Kind {
		case ActWrite:
			// Ctx.Store, inline.
			if c.Carrier != nil {
				_ = c.Carrier.Store(c.Hook, c.Skb, a.Map, p.encode(c, a))
			}
		case ActRead:
			// Ctx.Lookup, inline; a miss (the carriers return the bare
			// sentinel) is classified without a call.
			ev.Map, ev.Result = a.Map, ReadMissing
			if c.Carrier != nil {
				v, err := c.Carrier.Lookup(c.Hook, c.Skb, a.Map)
				if err != carrier.ErrNotFound {
					ev.Result = classify(v, err, c.PacketID)
				}
			}
			c.s.obs.MapRead(ev)
		case ActDelete:
			_ = c.Delete(a.Map)
		case ActSetMark:
			c.SetMark(uint32(a.Value))
		case ActSetPriority:
			c.SetPriority(uint32(a.Value))
		case ActSetTCIndex:
			c.SetTCIndex(uint16(a.Value))
		case ActSetCB:
			c.SetCB(a.Index, uint32(a.Value))
		case ActSetHash:
			c.SetHash(uint32(a.Value))
		case ActSetTstamp:
			if a.Mono {
				c.SetDeliveryTime(int64(a.Value), skb.ClockMonotonic)
			} else {
				c.SetTstamp(int64(a.Value))
			}
		case ActVlanPush:
			c.VlanPush(a.TPID, uint16(a.Value))
		case ActVlanPop:
			c.VlanPop()
		case ActChangeHead:
			c.ChangeHead(uint32(a.Value), 0)
		case ActAdjustRoom:
			c.AdjustRoom(int32(a.Delta), uint32(a.Index), a.Value)
		case ActChangeProto:
			c.ChangeProto(uint16(a.Value), 0)
		case ActChangeType:
			c.ChangeType(uint32(a.Value))
		case ActAdjustTail:
			c.AdjustTail(a.Delta)
		case ActChangeTail:
			n := int64(a.Value)
			if a.Index == 1 && c.Skb != nil {
				n = int64(c.Skb.Len()) + int64(a.Delta)
			}
			c.ChangeTail(uint32(max(n, 0)), 0)
		case ActRxMeta:
			switch RxMetaKfunc(a.Index) {
			case RxMetaTimestamp:
				c.RxTimestamp()
			case RxMetaHash:
				c.RxHash()
			default:
				c.RxVlanTag()
			}
		case ActAdjustHead:
			var eth [ethHlen]byte
			keep := a.KeepEth && c.Skb != nil && len(c.Skb.Data()) >= ethHlen
			if keep {
				copy(eth[:], c.Skb.Data())
			}
			if c.AdjustHead(a.Delta) == 0 && keep {
				copy(c.Skb.Data(), eth[:])
			}
		case ActAdjustMeta:
			if c.AdjustMeta(-int(a.Value)) == 0 {
				m := c.Meta()
				for j := range m {
					m[j] = byte(metaFillStart + j)
				}
			}
		case ActCloneRedirect:
			fl := uint64(0)
			if a.Ingress {
				fl = FlagIngress
			}
			c.CloneRedirect(p.targets[i], fl)
		case ActRedirect:
			fl := uint64(0)
			if a.Ingress {
				fl = FlagIngress
			}
			return c.Redirect(p.targets[i], fl)
		case ActRedirectPeer:
			return c.RedirectPeer(p.targets[i], 0)
		case ActRedirectNeigh:
			if a.Via.IsValid() {
				return c.RedirectNeighVia(p.targets[i], a.Via, 0)
			}
			return c.RedirectNeigh(p.targets[i], 0)
		case ActSetTunnelKey:
			fl := uint64(0)
			if a.Via.Is6() {
				fl = TunInfoIPv6
			}
			c.SetTunnelKey(TunnelKey{ID: uint32(a.Value), Remote: a.Via}, fl)
		case ActGetTunnelKey:
			c.getTunnelKey(a.Value)
		case ActFibForward:
			if ret, done, _ := c.fibForward(uint32(a.Value), a.Index == FibNoNeighRedirect); done {
				return ret
			}
		case ActDrop:
			return dropRet(c.Hook)
		case ActCount:
			c.Count()
		case ActPass:
			return passRet(c.Hook)
		case ActMirred:
			if ret := c.s.mirred(c, p.targets[i], a.Ingress, a.Mirror); ret != TCXNext {
				return ret
			}
		case ActRedirectCPU:
			return c.RedirectCPU(int(p.targets[i]), uint32(a.Index), a.Value)
		case ActRedirectDevmap:
			return c.RedirectDevmap(int(p.targets[i]), uint32(a.Index), a.Value)
		}
	}
	return defaultRet(c.Hook)
}

// encode builds the value ActWrite stores: little-endian packet id + 1 in
// the first min(8, size) bytes (so a zeroed value is nobody's), then Value.
func (p *actionProg) encode(c *Ctx, a *Action) []byte {
	size := len(p.val)
	if c.s.mapSizes != nil && a.Map >= 0 && a.Map < len(c.s.mapSizes) {
		size = c.s.mapSizes[a.Map]
	}
	v := p.val[:size]
	id := c.PacketID + 1
	if len(v) < 8 {
		for j := range v {
			v[j] = byte(id >> (8 * j))
		}
		return v
	}
	binary.LittleEndian.PutUint64(v, id)
	w := v[8:]
	if len(w) >= 8 {
		binary.LittleEndian.PutUint64(w, a.Value)
		clear(w[8:])
		return v
	}
	for j := range w {
		w[j] = byte(a.Value >> (8 * j))
	}
	return v
}

// DecodePacketID returns the packet id an ActWrite value encodes, and false
// for a value nobody wrote (all zero). A value shorter than 8 bytes holds
// the low bytes of the id + 1.
func DecodePacketID(v []byte) (uint64, bool) {
	raw := rawID(v)
	if raw == 0 {
		return 0, false
	}
	return raw - 1, true
}

func rawID(v []byte) uint64 {
	if len(v) >= 8 {
		return binary.LittleEndian.Uint64(v)
	}
	var idb [8]byte
	copy(idb[:], v)
	return binary.LittleEndian.Uint64(idb[:])
}

func classify(v []byte, err error, pkt uint64) ReadResult {
	switch {
	case err == nil:
		raw := rawID(v)
		want := pkt + 1
		if len(v) < 8 {
			want &= uint64(1)<<(8*uint(len(v))) - 1
		}
		if raw != 0 && raw == want {
			return ReadFound
		}
		return ReadForeign
	// The carriers return the bare sentinels: identity tests first, so
	// the common miss costs no errors.Is walk; wrapped errors still match
	// below.
	case err == carrier.ErrNotFound:
		return ReadMissing
	case err == carrier.ErrRefused:
		return ReadRefused
	case errors.Is(err, carrier.ErrNotFound):
		return ReadMissing
	case errors.Is(err, carrier.ErrRefused), errors.Is(err, errno.EOPNOTSUPP):
		return ReadRefused
	}
	return ReadError
}

func defaultRet(h carrier.Hook) int {
	switch h {
	case carrier.HookXDP:
		return XDPPass
	case carrier.HookTCIngress, carrier.HookTCEgress, carrier.HookNetkitPrimary, carrier.HookNetkitPeer:
		return TCXNext
	case carrier.HookSocketFilter:
		return FilterAccept
	case carrier.HookCgroupIngress, carrier.HookCgroupEgress:
		return CgroupAllow
	}
	return 0
}

func dropRet(h carrier.Hook) int {
	switch h {
	case carrier.HookXDP:
		return XDPDrop
	case carrier.HookTCIngress, carrier.HookTCEgress, carrier.HookNetkitPrimary, carrier.HookNetkitPeer:
		return TCXDrop
	}
	return 0 // cgroup drop, socket filter 0 bytes
}

func passRet(h carrier.Hook) int {
	switch h {
	case carrier.HookTCIngress, carrier.HookTCEgress, carrier.HookNetkitPrimary, carrier.HookNetkitPeer:
		return TCXPass
	}
	return defaultRet(h)
}
