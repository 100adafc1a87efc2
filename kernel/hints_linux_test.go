package kernel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/internal/errno"
	"github.com/skbsim/skbsim/internal/testutil"
	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/netstack"
	"github.com/skbsim/skbsim/skb"
)

// hintView is what a hint comparison looks at: every return, the RSS type,
// the timestamp and tag, and whether a hash came back (the hash itself is
// the kernel's seeded jhash, which the model does not reproduce).
func hintView(h HintSeen) string {
	return fmt.Sprintf("runs %d ts %d/%d hash %d/set=%t/rss=%#x vlan %d/%#x/%#x",
		h.Runs, h.TsRet, h.Ts, h.HashRet, h.Hash != 0, h.RSS, h.VlanRet, h.VlanProto, h.VlanTCI)
}

// tcView is what tc ingress saw, the hash as: none, the one rx_hash
// returned, or another.
func tcView(v TCSeen, hint uint32) string {
	hash := "none"
	switch {
	case v.Hash == 0:
	case v.Hash == hint:
		hash = "rx_hash's"
	default:
		hash = "other"
	}
	return fmt.Sprintf("runs %d hash %s vlan %d/%#x/%#x", v.Runs, hash, v.VlanPresent, v.VlanProto, v.VlanTCI)
}

// modelHints is the model's device-bound hints program: the kfuncs ops
// selects, recorded as the probe records them (first frame).
func modelHints(h *HintSeen, ops uint32) netstack.Program {
	return netstack.ProgramFunc(func(c *netstack.Ctx) int {
		if h.Runs++; h.Runs != 1 {
			return netstack.XDPPass
		}
		if ops&HintTimestamp != 0 {
			ts, ret := c.RxTimestamp()
			h.Ts, h.TsRet = uint64(ts), int32(ret)
		}
		if ops&HintHash != 0 {
			hash, rss, ret := c.RxHash()
			h.Hash, h.RSS, h.HashRet = hash, uint32(rss), int32(ret)
		}
		if ops&HintVlanTag != 0 {
			p, tci, ret := c.RxVlanTag()
			h.VlanProto, h.VlanTCI, h.VlanRet = p, tci, int32(ret)
		}
		return netstack.XDPPass
	})
}

// modelTC records what tc ingress sees, as the probe's tc_hash does.
func modelTC(v *TCSeen) netstack.Program {
	return netstack.ProgramFunc(func(c *netstack.Ctx) int {
		if v.Runs++; v.Runs != 1 {
			return netstack.TCXNext
		}
		h := c.Skb.H()
		v.Hash, v.VlanTCI, v.VlanProto = h.Hash, uint32(h.VlanTCI), uint32(h.VlanProto)
		if h.VlanTagPresent() {
			v.VlanPresent = 1
		}
		return netstack.TCXNext
	})
}

// TestKernelXDPRxMetaVeth: a packet socket in A sends a frame over a veth
// pair; vB runs an XDP program calling the XDP RX metadata kfuncs in
// native mode, loaded device-bound to vB or not, and tc ingress on vB
// records the skb's hash and tag. On 6.18 and in the model alike:
//   - bound, veth answers from the skb: rx_timestamp 0 (no hardware
//     stamp), rx_hash a software flow hash (skb_get_hash) of type L4_ANY
//     for UDP and NONE for ICMP, kept in the skb for tc; without the
//     rx_hash call tc sees no hash. rx_vlan_tag is -ENODATA for a tag in
//     the frame (untagged later, in __netif_receive_skb_core) and the tag
//     for one tc egress on vA pushed into vlan_tci.
func TestKernelXDPRxMetaVeth(t *testing.T) {
	testutil.KernelTests(t)
	const all = HintTimestamp | HintHash | HintVlanTag
	for i, tc := range []struct {
		name   string
		ops    uint32
		tags   []vlanTag
		icmp   bool
		push   bool
		hints  string
		tcSeen string
	}{
		{"udp", all, nil, false, false,
			"runs 1 ts 0/0 hash 0/set=true/rss=0x8 vlan -61/0x0/0x0", "runs 1 hash rx_hash's vlan 0/0x0/0x0"},
		{"udp, no rx_hash", HintTimestamp | HintVlanTag, nil, false, false,
			"runs 1 ts 0/0 hash 0/set=false/rss=0x0 vlan -61/0x0/0x0", "runs 1 hash none vlan 0/0x0/0x0"},
		{"icmp", all, nil, true, false,
			"runs 1 ts 0/0 hash 0/set=true/rss=0x0 vlan -61/0x0/0x0", "runs 1 hash rx_hash's vlan 0/0x0/0x0"},
		// The packet socket put the network header past the tag
		// (packet_parse_headers), where __skb_flow_dissect, following
		// skb->protocol (802.1Q), reads a VLAN header: no ports, no
		// l4_hash.
		{"tag in the frame", all, []vlanTag{{unix.ETH_P_8021Q, 100}}, false, false,
			"runs 1 ts 0/0 hash 0/set=true/rss=0x0 vlan -61/0x0/0x0", "runs 1 hash rx_hash's vlan 1/0x8100/0x64"},
		{"tag in vlan_tci", all, nil, false, true,
			"runs 1 ts 0/0 hash 0/set=true/rss=0x8 vlan 0/0x8100/0x64", "runs 1 hash rx_hash's vlan 1/0x8100/0x64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sfx := fmt.Sprintf("%d%d", os.Getpid()%10000, i)
			va, vb := "hA"+sfx, "hB"+sfx
			a, b, macB := vethPairAB(t, "hint", va, vb)
			probe, err := NewHintProbe(b, vb, true, tc.ops)
			testutil.SkipIfNotSupported(t, err)
			require.NoError(t, err)
			t.Cleanup(func() { require.NoError(t, probe.Close()) })
			require.NoError(t, probe.AttachHints(b, vb, false))
			require.NoError(t, probe.AttachTC(b, vb, false))
			if tc.push {
				require.NoError(t, probe.AttachTC(a, va, true))
			}
			macA, err := a.HardwareAddr(va)
			require.NoError(t, err)
			ifA, err := a.Ifindex(va)
			require.NoError(t, err)
			ifB, err := b.Ifindex(vb)
			require.NoError(t, err)
			frame := vlanFrame(macB, macA, tc.tags, [4]byte{192, 0, 2, 2})
			if tc.icmp {
				ip := frame[len(frame)-60:]
				ip[9] = unix.IPPROTO_ICMP
				ip[10], ip[11] = 0, 0
				binary.BigEndian.PutUint16(ip[10:], ^csumFold(csumAdd(0, ip[:20])))
			}
			sendFrame(t, a, ifA, macB, frame)
			k, err := probe.Hints(ifB)
			require.NoError(t, err)
			kt, err := probe.TC(ifB)
			require.NoError(t, err)
			assert.Equal(t, tc.hints, hintView(k), "kernel: XDP RX metadata kfuncs")
			assert.Equal(t, tc.tcSeen, tcView(kt, k.Hash), "kernel: tc ingress")

			var mh HintSeen
			var mt TCSeen
			cfg := modelVethAB(macA, macB, "native",
				netstack.ProgramConfig{Name: "hints", Hook: carrier.HookXDP, Netns: "B", Dev: "vB", DevBound: true, Prog: modelHints(&mh, tc.ops)},
				netstack.ProgramConfig{Name: "tc", Hook: carrier.HookTCIngress, Netns: "B", Dev: "vB", Prog: modelTC(&mt)},
			)
			if tc.push {
				cfg.Programs = append(cfg.Programs, netstack.ProgramConfig{Name: "push", Hook: carrier.HookTCEgress, Netns: "A", Dev: "vA",
					Actions: []netstack.Action{{Kind: netstack.ActVlanPush, Value: 100}}})
			}
			runModel(t, cfg, &dropRecorder{}, frame, nil)
			assert.Equal(t, hintView(k), hintView(mh), "model against 6.18: XDP RX metadata kfuncs")
			assert.Equal(t, tcView(kt, k.Hash), tcView(mt, mh.Hash), "model against 6.18: tc ingress")
		})
	}
}

// TestKernelXDPRxMetaFrame: vB's native XDP program redirects a frame from
// A into vC, whose peer vD (namespace C) runs the device-bound hints
// program on the xdp_frame (veth_xdp_rcv_one): veth's kfuncs have no skb
// there and return -ENODATA, on 6.18 and in the model.
func TestKernelXDPRxMetaFrame(t *testing.T) {
	testutil.KernelTests(t)
	sfx := fmt.Sprint(os.Getpid() % 100000)
	va, vb, vc, vd := "fA"+sfx, "fB"+sfx, "fC"+sfx, "fD"+sfx
	a, b, macB := vethPairAB(t, "hintf", va, vb)
	c := newNetns(t, "hintfC")
	require.NoError(t, b.IP("link", "add", vc, "type", "veth", "peer", "name", vd, "netns", c.Name))
	require.NoError(t, b.IP("link", "set", vc, "up"))
	require.NoError(t, c.IP("link", "set", vd, "up"))
	probe, err := NewHintProbe(c, vd, true, HintTimestamp|HintHash|HintVlanTag)
	testutil.SkipIfNotSupported(t, err)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, probe.Close()) })
	ifC, err := b.Ifindex(vc)
	require.NoError(t, err)
	ifD, err := c.Ifindex(vd)
	require.NoError(t, err)
	require.NoError(t, probe.AttachHints(c, vd, false))
	require.NoError(t, probe.AttachRedirect(b, vb, ifC))
	macA, err := a.HardwareAddr(va)
	require.NoError(t, err)
	ifA, err := a.Ifindex(va)
	require.NoError(t, err)
	frame := vlanFrame(macB, macA, nil, [4]byte{192, 0, 2, 2})
	sendFrame(t, a, ifA, macB, frame)
	k, err := probe.Hints(ifD)
	require.NoError(t, err)
	const want = "runs 1 ts -61/0 hash -61/set=false/rss=0x0 vlan -61/0x0/0x0"
	assert.Equal(t, want, hintView(k), "kernel")

	var mh HintSeen
	cfg := &netstack.Config{
		Namespaces: []netstack.NamespaceConfig{{Name: "A"}, {Name: "B"}, {Name: "C"}},
		Devices: []netstack.DeviceConfig{
			{Name: "vA", Kind: netstack.KindVeth, Netns: "A", MAC: [6]byte(macA), Peer: "vB", PeerNetns: "B", PeerMAC: [6]byte(macB), PeerXDP: "native"},
			{Name: "vC", Kind: netstack.KindVeth, Netns: "B", Peer: "vD", PeerNetns: "C", PeerXDP: "native"},
		},
		Programs: []netstack.ProgramConfig{
			{Name: "redir", Hook: carrier.HookXDP, Netns: "B", Dev: "vB", Actions: []netstack.Action{{Kind: netstack.ActRedirect, Target: "vC"}}},
			{Name: "hints", Hook: carrier.HookXDP, Netns: "C", Dev: "vD", DevBound: true, Prog: modelHints(&mh, HintTimestamp|HintHash|HintVlanTag)},
		},
		Entries: []netstack.EntryConfig{{Kind: netstack.EntryPacket, Netns: "A", Dev: "vA"}},
	}
	runModel(t, cfg, &dropRecorder{}, frame, nil)
	assert.Equal(t, want, hintView(mh), "model")
}

// TestKernelRxMetaNeedsDevBound: 6.18's verifier refuses the XDP RX
// metadata kfuncs in a program that is not device-bound (EINVAL,
// "metadata kfuncs require device-bound program"); the model refuses the
// rx_meta action there, and a Go program calling them gets -EINVAL.
func TestKernelRxMetaNeedsDevBound(t *testing.T) {
	testutil.KernelTests(t)
	sfx := fmt.Sprint(os.Getpid() % 100000)
	_, b, _ := vethPairAB(t, "hintn", "nA"+sfx, "nB"+sfx)
	_, err := NewHintProbe(b, "nB"+sfx, false, HintHash)
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skip(err.Error())
	}
	require.ErrorIs(t, err, errno.EINVAL, "kernel: load without BPF_F_XDP_DEV_BOUND_ONLY")
	require.ErrorContains(t, err, "metadata kfuncs require device-bound program")

	cfg := &netstack.Config{
		Namespaces: []netstack.NamespaceConfig{{Name: "B"}},
		Devices:    []netstack.DeviceConfig{{Name: "vA", Kind: netstack.KindVeth, Peer: "vB", PeerNetns: "B", PeerXDP: "native"}},
		Programs: []netstack.ProgramConfig{{Name: "hints", Hook: carrier.HookXDP, Netns: "B", Dev: "vB",
			Actions: []netstack.Action{{Kind: netstack.ActRxMeta, Index: int(netstack.RxMetaHash)}}}},
	}
	_, err = netstack.New(cfg, netstack.Env{Alloc: skb.NewAllocator(kmem.New(), skb.DefaultProfile())})
	require.ErrorIs(t, err, netstack.ErrConfig, "model")
	require.ErrorContains(t, err, "device-bound programs only")
}

// TestKernelDevBoundGeneric: 6.18 refuses a device-bound program in
// generic mode (dev_xdp_attach: EINVAL), and so does the model's
// configuration.
func TestKernelDevBoundGeneric(t *testing.T) {
	testutil.KernelTests(t)
	sfx := fmt.Sprint(os.Getpid() % 100000)
	_, b, _ := vethPairAB(t, "hintg", "gA"+sfx, "gB"+sfx)
	probe, err := NewHintProbe(b, "gB"+sfx, true, HintHash)
	testutil.SkipIfNotSupported(t, err)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, probe.Close()) })
	err = probe.AttachHints(b, "gB"+sfx, true)
	require.ErrorIs(t, err, errno.EINVAL, "kernel: generic attach of a device-bound program")

	cfg := &netstack.Config{
		Namespaces: []netstack.NamespaceConfig{{Name: "B"}},
		Devices:    []netstack.DeviceConfig{{Name: "vA", Kind: netstack.KindVeth, Peer: "vB", PeerNetns: "B", PeerXDP: "generic", MAC: [6]byte(net.HardwareAddr{2, 0, 0, 0, 0, 1})}},
		Programs: []netstack.ProgramConfig{{Name: "hints", Hook: carrier.HookXDP, Netns: "B", Dev: "vB", DevBound: true,
			Prog: netstack.ProgramFunc(func(*netstack.Ctx) int { return netstack.XDPPass })}},
	}
	_, err = netstack.New(cfg, netstack.Env{Alloc: skb.NewAllocator(kmem.New(), skb.DefaultProfile())})
	require.ErrorIs(t, err, netstack.ErrConfig, "model")
	require.ErrorContains(t, err, "native mode only")
}
