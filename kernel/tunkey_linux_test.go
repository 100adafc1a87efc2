package kernel

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/internal/testutil"
	"github.com/skbsim/skbsim/netstack"
)

// sizeofTunnelKey is sizeof(struct bpf_tunnel_key): tunnel_id (0),
// remote_ipv4 (4), tos (20), ttl (21), ext (22), label (24), local_ipv4
// (28).
const sizeofTunnelKey = 44

// keyOnStack saves the context in R6 and zeroes the struct
// bpf_tunnel_key at fp-48.
func keyOnStack() asm.Instructions {
	insns := asm.Instructions{asm.Mov.Reg(asm.R6, asm.R1)}
	for off := int16(-48); off < 0; off += 4 {
		insns = append(insns, asm.StoreImm(asm.RFP, off, 0, asm.Word))
	}
	return insns
}

// testTCIndex marks the test packet: the set_tunnel_key program writes it
// into __sk_buff->tc_index, which crosses the encapsulation, the veths and
// the decapsulation, and the reading programs skip other packets (IPv6's
// neighbour discovery and MLD reports on the underlay).
const testTCIndex = 0x77

// skbTCIndexOff is offsetof(struct __sk_buff, tc_index).
const skbTCIndexOff = 44

// setKeyProg is a tc program that marks the packet (testTCIndex) and
// calls bpf_skb_set_tunnel_key(skb, {id, remote}, 44, flags), flags
// BPF_F_TUNINFO_IPV6 for an IPv6 remote; it returns TCX_NEXT.
func setKeyProg(t *testing.T, id uint32, remote netip.Addr) *ebpf.Program {
	t.Helper()
	insns := keyOnStack()
	insns = append(insns,
		asm.Mov.Imm(asm.R1, testTCIndex),
		asm.StoreMem(asm.R6, skbTCIndexOff, asm.R1, asm.Word),
		asm.StoreImm(asm.RFP, -48, int64(id), asm.Word))
	flags := int32(0)
	if remote.Is6() {
		a := remote.As16()
		for i := 0; i < 4; i++ {
			insns = append(insns, asm.StoreImm(asm.RFP, int16(-44+4*i), int64(int32(binary.LittleEndian.Uint32(a[4*i:]))), asm.Word))
		}
		flags = 1
	} else {
		a := remote.As4()
		insns = append(insns, asm.StoreImm(asm.RFP, -44, int64(int32(binary.BigEndian.Uint32(a[:]))), asm.Word))
	}
	insns = append(insns,
		asm.Mov.Reg(asm.R1, asm.R6),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -48),
		asm.Mov.Imm(asm.R3, sizeofTunnelKey),
		asm.Mov.Imm(asm.R4, flags),
		asm.FnSkbSetTunnelKey.Call(),
		asm.Mov.Imm(asm.R0, -1),
		asm.Return(),
	)
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.SchedCLS, License: "GPL", Instructions: insns})
	require.NoError(t, err)
	t.Cleanup(func() { prog.Close() })
	return prog
}

// keyValueLen is a getKeyProg slot: u64 count, s32 ret, u32 tunnel_id,
// then the last call's 16 bytes of remote_ipv6 (remote_ipv4 in the first
// 4) and of local_ipv6.
const keyValueLen = 48

// getKeyProg is a tc program calling bpf_skb_get_tunnel_key(skb, &key,
// 44, flags: BPF_F_TUNINFO_IPV6 with v6) on every packet marked
// testTCIndex, counting the calls in slot's element of out and keeping
// the last one's return and key, then returning bpf_redirect(redirect,
// 0), or TCX_NEXT for redirect 0. Other packets pass untouched.
func getKeyProg(t *testing.T, out *ebpf.Map, slot uint32, redirect int, v6 bool) *ebpf.Program {
	t.Helper()
	flags := int32(0)
	if v6 {
		flags = 1
	}
	insns := keyOnStack()
	insns = append(insns,
		asm.LoadMem(asm.R1, asm.R6, skbTCIndexOff, asm.Word),
		asm.JNE.Imm(asm.R1, testTCIndex, "skip"),
		asm.Mov.Reg(asm.R1, asm.R6),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -48),
		asm.Mov.Imm(asm.R3, sizeofTunnelKey),
		asm.Mov.Imm(asm.R4, flags),
		asm.FnSkbGetTunnelKey.Call(),
		asm.Mov.Reg(asm.R7, asm.R0),
		asm.StoreImm(asm.RFP, -52, int64(slot), asm.Word),
		asm.LoadMapPtr(asm.R1, out.FD()),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -52),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "out"),
		asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord),
		asm.Add.Imm(asm.R1, 1),
		asm.StoreMem(asm.R0, 0, asm.R1, asm.DWord),
		asm.StoreMem(asm.R0, 8, asm.R7, asm.Word),
		asm.LoadMem(asm.R1, asm.RFP, -48, asm.Word),
		asm.StoreMem(asm.R0, 12, asm.R1, asm.Word),
	)
	for i := int16(0); i < 4; i++ {
		insns = append(insns,
			asm.LoadMem(asm.R1, asm.RFP, -44+4*i, asm.Word), // remote
			asm.StoreMem(asm.R0, 16+4*i, asm.R1, asm.Word),
			asm.LoadMem(asm.R1, asm.RFP, -20+4*i, asm.Word), // local
			asm.StoreMem(asm.R0, 32+4*i, asm.R1, asm.Word))
	}
	insns = append(insns, asm.Mov.Imm(asm.R0, -1).WithSymbol("out"))
	if redirect != 0 {
		insns = append(insns, asm.Mov.Imm(asm.R1, int32(redirect)), asm.Mov.Imm(asm.R2, 0), asm.FnRedirect.Call())
	}
	insns = append(insns, asm.Return(), asm.Mov.Imm(asm.R0, -1).WithSymbol("skip"), asm.Return())
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.SchedCLS, License: "GPL", Instructions: insns})
	require.NoError(t, err)
	t.Cleanup(func() { prog.Close() })
	return prog
}

// keyReading formats a getKeyProg slot as TestExternalTunnel's model
// readings do: "EINVAL", or the key.
func keyReading(v []byte, v6 bool) []string {
	n := binary.LittleEndian.Uint64(v[0:8])
	if n == 0 {
		return nil
	}
	ret := int(int32(binary.LittleEndian.Uint32(v[8:12])))
	s := netstack.HelperResultName(netstack.HelperGetTunnelKey, ret)
	if ret == 0 {
		ip := func(o int) netip.Addr {
			if v6 {
				return netip.AddrFrom16([16]byte(v[o : o+16]))
			}
			var a [4]byte
			binary.BigEndian.PutUint32(a[:], binary.LittleEndian.Uint32(v[o:o+4]))
			return netip.AddrFrom4(a)
		}
		s = fmt.Sprintf("id %d remote %s local %s", binary.LittleEndian.Uint32(v[12:16]), ip(16), ip(32))
	}
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// TestKernelExternalTunnel: collect_md ("external") vxlan and geneve
// devices vxA (A) and vxB (B) over the veth pair vA-vB; B forwards to C
// over pB-pC. A tc egress program on vxA sets the tunnel key (id 42,
// remote 192.0.2.2); tc programs read it with bpf_skb_get_tunnel_key at vB
// ingress (the underlay), vxB ingress, pB egress and pC ingress. 6.18 and
// the model (netstack's TestExternalTunnel topology) agree: the key is
// there at vxB's tc ingress (remote 192.0.2.1, local 192.0.2.2) and, after
// a bpf_redirect, at pB's tc egress; not on the underlay, not once B's IP
// layer routed the packet, not across pB-pC; without a key vxA drops the
// packet. A kernel without geneve devices skips those cases.
func TestKernelExternalTunnel(t *testing.T) {
	testutil.KernelTests(t)
	for _, kind := range []string{netstack.KindVXLAN, netstack.KindGeneve} {
		for _, tc := range []struct {
			name          string
			set, redirect bool
			dst           [4]byte
			bridge        string // "nf", "nonf": vxB and pB are ports of a bridge in B, bridge-nf-call-iptables on or off
			v6            bool   // the underlay is IPv6 (2001:db8::1 and ::2): the key's remote too
		}{
			{"no key", false, false, [4]byte{10, 9, 0, 2}, "", false},
			{"to B", true, false, [4]byte{10, 9, 0, 2}, "", false},
			{"routed to C", true, false, [4]byte{10, 0, 0, 2}, "", false},
			{"redirected to C", true, true, [4]byte{10, 0, 0, 2}, "", false},
			{"bridged to C", true, false, [4]byte{10, 0, 0, 2}, "nonf", false},
			{"bridged to C, br_netfilter", true, false, [4]byte{10, 0, 0, 2}, "nf", false},
			{"IPv6 underlay, to B", true, false, [4]byte{10, 9, 0, 2}, "", true},
			{"IPv6 underlay, redirected to C", true, true, [4]byte{10, 0, 0, 2}, "", true},
		} {
			t.Run(kind+" "+tc.name, func(t *testing.T) {
				a, b := udpPair(t, "tk", 0, nil)
				c := newNetns(t, "tkC")
				remote := netip.MustParseAddr("192.0.2.2")
				if tc.v6 {
					remote = netip.MustParseAddr("2001:db8::2")
					for _, x := range []struct {
						n        *Netns
						dev, adr string
					}{{a, "vA", "2001:db8::1/64"}, {b, "vB", "2001:db8::2/64"}} {
						require.NoError(t, x.n.Do(func() error { return writeSysctl("net/ipv6/conf/"+x.dev+"/disable_ipv6", "0") }))
						require.NoError(t, x.n.IP("addr", "add", x.adr, "dev", x.dev, "nodad"))
					}
					macB, err := b.HardwareAddr("vB")
					require.NoError(t, err)
					require.NoError(t, a.IP("-6", "neigh", "add", "2001:db8::2", "lladdr", macB.String(), "dev", "vA", "nud", "permanent"))
				}
				port := map[string]string{netstack.KindVXLAN: "4789", netstack.KindGeneve: "6081"}[kind]
				for _, x := range []struct {
					n        *Netns
					dev, adr string
				}{{a, "vxA", "10.9.0.1/24"}, {b, "vxB", "10.9.0.2/24"}} {
					args := []string{"link", "add", x.dev, "type", kind, "external"}
					if kind == netstack.KindVXLAN {
						args = append(args, "dstport", port)
					}
					if err := x.n.IP(args...); err != nil && strings.Contains(err.Error(), "Unknown device type") {
						testutil.SkipIfNotSupported(t, notSupportedError{fmt.Errorf("the kernel has no %s devices (%s): %w", kind, tunnelConfig[kind], ErrNotSupported)})
					} else {
						require.NoError(t, err)
					}
					require.NoError(t, x.n.IP("addr", "add", x.adr, "dev", x.dev))
					require.NoError(t, x.n.IP("link", "set", x.dev, "up"))
				}
				require.NoError(t, b.IP("link", "add", "pB", "type", "veth", "peer", "name", "pC", "netns", c.Name))
				if tc.bridge == "" {
					require.NoError(t, b.IP("addr", "add", "10.0.0.1/24", "dev", "pB"))
				} else {
					require.NoError(t, b.IP("link", "add", "br0", "type", "bridge", "mcast_snooping", "0"))
					require.NoError(t, b.IP("link", "set", "vxB", "master", "br0"))
					require.NoError(t, b.IP("link", "set", "pB", "master", "br0"))
					require.NoError(t, b.IP("link", "set", "br0", "up"))
					require.NoError(t, b.Sysctl("net.bridge.bridge-nf-call-iptables", map[string]string{"nf": "1", "nonf": "0"}[tc.bridge]))
				}
				require.NoError(t, b.IP("link", "set", "pB", "up"))
				require.NoError(t, c.IP("addr", "add", "10.0.0.2/24", "dev", "pC"))
				require.NoError(t, c.IP("link", "set", "pC", "up"))
				require.NoError(t, b.Sysctl("net.ipv4.ip_forward", "1"))
				macVxB, err := b.HardwareAddr("vxB")
				require.NoError(t, err)
				macPC, err := c.HardwareAddr("pC")
				require.NoError(t, err)
				require.NoError(t, a.IP("neigh", "add", "10.9.0.2", "lladdr", macVxB.String(), "dev", "vxA", "nud", "permanent"))
				if tc.bridge == "" {
					require.NoError(t, a.IP("route", "add", "10.0.0.0/24", "via", "10.9.0.2", "dev", "vxA"))
				} else {
					// C is on vxA's link: the inner frame is for pC's MAC,
					// which B's bridge floods to pB.
					require.NoError(t, a.IP("route", "add", "10.0.0.0/24", "dev", "vxA"))
					require.NoError(t, a.IP("neigh", "add", "10.0.0.2", "lladdr", macPC.String(), "dev", "vxA", "nud", "permanent"))
				}
				require.NoError(t, b.IP("neigh", "add", "10.0.0.2", "lladdr", macPC.String(), "dev", "pB", "nud", "permanent"))
				for _, n := range []*Netns{b, c} {
					rcv := newSocket(t, n, unix.AF_INET, unix.SOCK_DGRAM, 0)
					require.NoError(t, unix.Bind(rcv, &unix.SockaddrInet4{Port: 9999}))
				}
				out, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: keyValueLen, MaxEntries: 4})
				require.NoError(t, err)
				t.Cleanup(func() { out.Close() })
				ifPB, err := b.Ifindex("pB")
				require.NoError(t, err)
				redirect := 0
				if tc.redirect {
					redirect = ifPB
				}
				require.NoError(t, attach(t, b, "vB", getKeyProg(t, out, 0, 0, tc.v6), false))
				require.NoError(t, attach(t, b, "vxB", getKeyProg(t, out, 1, redirect, tc.v6), false))
				require.NoError(t, attachEgress(t, b, "pB", getKeyProg(t, out, 2, 0, tc.v6)))
				require.NoError(t, attach(t, c, "pC", getKeyProg(t, out, 3, 0, tc.v6), false))
				if tc.set {
					require.NoError(t, attachEgress(t, a, "vxA", setKeyProg(t, 42, remote)))
				}
				snd := newSocket(t, a, unix.AF_INET, unix.SOCK_DGRAM, 0)
				require.NoError(t, unix.Bind(snd, &unix.SockaddrInet4{Port: 40000}))
				require.NoError(t, unix.Sendto(snd, make([]byte, 32), 0, &unix.SockaddrInet4{Port: 9999, Addr: tc.dst}))
				kern := map[string][]string{}
				for i, at := range []string{"vB", "vxB", "pB", "pC"} {
					v := make([]byte, keyValueLen)
					require.NoError(t, out.Lookup(uint32(i), &v))
					if r := keyReading(v, tc.v6); r != nil {
						kern[at] = r
					}
				}
				t.Logf("kernel: %v", kern)
				require.Equal(t, kern, modelExternalTunnel(t, kind, tc.set, tc.redirect, tc.bridge, tc.v6, net.IP(tc.dst[:]).String()), "model")
			})
		}
	}
}

// modelExternalTunnel runs TestKernelExternalTunnel's case on the model
// (netstack's external pair with the kernel test's names).
func modelExternalTunnel(t *testing.T, kind string, set, redirect bool, bridge string, v6 bool, dst string) map[string][]string {
	t.Helper()
	keys := map[string][]string{}
	pfx := netip.MustParsePrefix
	read := func(at string) netstack.Program {
		return netstack.ProgramFunc(func(c *netstack.Ctx) int {
			flags := uint64(0)
			if v6 {
				flags = netstack.TunInfoIPv6
			}
			k, ret := c.GetTunnelKey(flags)
			s := netstack.HelperResultName(netstack.HelperGetTunnelKey, ret)
			if ret == 0 {
				s = fmt.Sprintf("id %d remote %s local %s", k.ID, k.Remote, k.Local)
			}
			keys[at] = append(keys[at], s)
			if at == "vxB" && redirect {
				return c.Redirect(c.Ifindex("pB"), 0)
			}
			return netstack.TCXNext
		})
	}
	mac := func(i byte) [6]byte { return [6]byte{2, 0, 0, 0, 0x7c, i} }
	cfg := &netstack.Config{
		Namespaces: []netstack.NamespaceConfig{{Name: "A"}, {Name: "B", Forwarding: true}, {Name: "C"}},
		Devices: []netstack.DeviceConfig{
			{Name: "vA", Kind: netstack.KindVeth, Netns: "A", MAC: mac(1), Addrs: []netip.Prefix{pfx("192.0.2.1/24")},
				Peer: "vB", PeerNetns: "B", PeerMAC: mac(2), PeerAddrs: []netip.Prefix{pfx("192.0.2.2/24")}},
			{Name: "vxA", Kind: kind, Netns: "A", External: true, MAC: mac(3), Addrs: []netip.Prefix{pfx("10.9.0.1/24")}},
			{Name: "vxB", Kind: kind, Netns: "B", External: true, MAC: mac(4), Addrs: []netip.Prefix{pfx("10.9.0.2/24")}},
			{Name: "pB", Kind: netstack.KindVeth, Netns: "B", MAC: mac(5), Addrs: []netip.Prefix{pfx("10.0.0.1/24")},
				Peer: "pC", PeerNetns: "C", PeerMAC: mac(6), PeerAddrs: []netip.Prefix{pfx("10.0.0.2/24")}},
		},
		Routes: []netstack.RouteConfig{{Netns: "A", Dst: pfx("10.0.0.0/24"), Dev: "vxA", Via: netip.MustParseAddr("10.9.0.2")}},
		Neighbours: []netstack.NeighConfig{{Netns: "A", Dev: "vxA", Addr: netip.MustParseAddr("10.9.0.2"), MAC: mac(4)},
			{Netns: "A", Dev: "vA", Addr: netip.MustParseAddr("192.0.2.2"), MAC: mac(2)}},
		Sockets: []netstack.SocketConfig{{Name: "tx", Netns: "A", Proto: netstack.ProtoUDP, Port: 40000},
			{Name: "rxB", Netns: "B", Proto: netstack.ProtoUDP, Port: 9999}, {Name: "rxC", Netns: "C", Proto: netstack.ProtoUDP, Port: 9999}},
		Programs: []netstack.ProgramConfig{
			{Name: "vB", Hook: carrier.HookTCIngress, Netns: "B", Dev: "vB", Prog: read("vB")},
			{Name: "vxB", Hook: carrier.HookTCIngress, Netns: "B", Dev: "vxB", Prog: read("vxB")},
			{Name: "pB", Hook: carrier.HookTCEgress, Netns: "B", Dev: "pB", Prog: read("pB")},
			{Name: "pC", Hook: carrier.HookTCIngress, Netns: "C", Dev: "pC", Prog: read("pC")},
		},
		Entries: []netstack.EntryConfig{{Kind: netstack.EntryTX, Netns: "A", Socket: "tx"}},
	}
	if bridge != "" {
		cfg.Namespaces[1].BridgeNFCallIPTables = bridge == "nf"
		cfg.Devices = append(cfg.Devices, netstack.DeviceConfig{Name: "br0", Kind: netstack.KindBridge, Netns: "B", MAC: mac(7)})
		cfg.Devices[2].Master = "br0"
		cfg.Devices[3].Master, cfg.Devices[3].Addrs = "br0", nil
		cfg.Routes = []netstack.RouteConfig{{Netns: "A", Dst: pfx("10.0.0.0/24"), Dev: "vxA"}}
		cfg.Neighbours = append(cfg.Neighbours, netstack.NeighConfig{Netns: "A", Dev: "vxA", Addr: netip.MustParseAddr("10.0.0.2"), MAC: mac(6)})
	}
	remote := netip.MustParseAddr("192.0.2.2")
	if v6 {
		remote = netip.MustParseAddr("2001:db8::2")
		cfg.Devices[0].Addrs = append(cfg.Devices[0].Addrs, pfx("2001:db8::1/64"))
		cfg.Devices[0].PeerAddrs = append(cfg.Devices[0].PeerAddrs, pfx("2001:db8::2/64"))
		cfg.Neighbours = append(cfg.Neighbours, netstack.NeighConfig{Netns: "A", Dev: "vA", Addr: remote, MAC: mac(2)})
	}
	if set {
		cfg.Programs = append(cfg.Programs, netstack.ProgramConfig{Name: "key", Hook: carrier.HookTCEgress, Netns: "A", Dev: "vxA",
			Actions: []netstack.Action{{Kind: netstack.ActSetTunnelKey, Value: 42, Via: remote}}})
	}
	runModel(t, cfg, netstack.NopObserver{}, udp4Packet([4]byte{10, 9, 0, 1}, [4]byte(netip.MustParseAddr(dst).AsSlice()), 40000, 9999, 32), nil)
	return keys
}
