package sim

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/internal/errno"
	"github.com/skbsim/skbsim/netstack"
)

const minimal = `name: t
devices:
  - {name: eth0, kind: nic}
entry: {dev: eth0}
`

func TestParseMinimal(t *testing.T) {
	s, err := Parse("t.yaml", []byte(minimal))
	require.NoError(t, err)
	assert.Equal(t, "v6.18", s.Kernel)
	assert.Equal(t, "rfc", s.Design)
	assert.Equal(t, DefaultShards, s.Shards)
	require.Len(t, s.Stack.Entries, 1)
	assert.Equal(t, netstack.EntryConfig{Kind: netstack.EntryRX, Netns: "host", Dev: "eth0"}, s.Stack.Entries[0])
	assert.Equal(t, Pos{Line: 3, Column: 5}, s.Src.Devices[0])
}

// TestParseSocketOptions: the UDP socket options and a tap's hold reach
// the stack's configuration.
func TestParseSocketOptions(t *testing.T) {
	src := `sockets:
  - {name: quic, proto: udp, port: 443, connected: true, udp_gro: true, udp_segment: 1200, task: proxy}
  - {name: dns, proto: udp, port: 53}
taps:
  - {name: t, hold: true}
entry: {dev: lo}
`
	s, err := Parse("t.yaml", []byte(src))
	require.NoError(t, err)
	require.Len(t, s.Stack.Sockets, 2)
	q := s.Stack.Sockets[0]
	assert.True(t, q.Connected)
	assert.True(t, q.UDPGRO)
	assert.Equal(t, 1200, q.UDPSegment)
	assert.Equal(t, "proxy", q.Task)
	d := s.Stack.Sockets[1]
	assert.False(t, d.Connected || d.UDPGRO)
	assert.Zero(t, d.UDPSegment)
	require.Len(t, s.Stack.Taps, 1)
	assert.True(t, s.Stack.Taps[0].Hold)
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		{"empty", "", "f.yaml: empty scenario"},
		{"yaml syntax", "name: [", "f.yaml: yaml: line 1: did not find expected node content"},
		{"not a mapping", "- a\n", "f.yaml:1:1: scenario: want a mapping, got a list"},
		{"unknown top key", "nmae: x\n", `f.yaml:1:1: scenario: unknown key "nmae"`},
		{"duplicate key", "name: a\nname: b\n", `f.yaml:2:1: scenario: key "name" given twice`},
		{"missing entry", "name: a\n", `f.yaml:1:1: scenario: missing "entry"`},
		{"bad shards", "shards: many\nentry: {dev: lo}\n", `f.yaml:1:9: shards: want an integer, got "many"`},
		{"shards range", "shards: 0\nentry: {dev: lo}\n", "f.yaml:1:9: shards: 0 out of range [1, 1024]"},
		{"xdp_meta_reach", "carrier: {xdp_meta_reach: everywhere}\nentry: {dev: lo}\n",
			`f.yaml:1:27: carrier.xdp_meta_reach: unknown value "everywhere" (known: ctx, btf, kern-ctx)`},
		{"unknown kernel", "kernel: v1.0\nentry: {dev: lo}\n", `f.yaml:1:9: kernel: unknown profile "v1.0"`},
		{"device kind", "devices:\n  - {name: x, kind: nicc}\nentry: {dev: x}\n",
			`f.yaml:2:21: device x: kind: unknown value "nicc"`},
		{"device unknown key", "devices:\n  - name: x\n    kind: nic\n    speed: 10\nentry: {dev: x}\n",
			`f.yaml:4:5: device: unknown key "speed"`},
		{"device missing kind", "devices:\n  - {name: x}\nentry: {dev: x}\n", `f.yaml:2:5: device x: missing "kind"`},
		{"tap on a tc program", "taps: [{name: t}]\nprograms:\n  - {name: p, hook: tc_ingress, dev: lo, tap: t, actions: [count]}\nentry: {dev: lo}\n",
			`f.yaml:3:47: program p: only socket_filter programs attach to a tap`},
		{"unknown tap", "programs:\n  - {name: p, hook: socket_filter, tap: t, actions: [count]}\nentry: {dev: lo}\n",
			`f.yaml:2:5: program p: unknown tap "t"`},
		{"bad addr", "devices:\n  - {name: x, kind: nic, addr: 10.0.0.1}\nentry: {dev: x}\n",
			`f.yaml:2:32: device x: addr: want address/length, got "10.0.0.1"`},
		{"bad mac", "devices:\n  - {name: x, kind: nic, mac: zz}\nentry: {dev: x}\n",
			`f.yaml:2:31: device x: mac: want a MAC address`},
		{"gro list before v5.6", "kernel: v5.4\ndevices:\n  - {name: x, kind: nic, gro_list: true}\nentry: {dev: x}\n", "f.yaml:3:5: device x: gro_list (NETIF_F_GRO_FRAGLIST, rx-gro-list) needs kernel v5.6 or later, not v5.4"},
		{"udp gro forwarding without gro", "devices:\n  - {name: x, kind: nic, gro: off, udp_gro_forwarding: true}\nentry: {dev: x}\n", "f.yaml:2:5: device x: gro_list and udp_gro_forwarding need gro on"},
		{"peer gro list without peer gro", "devices:\n  - {name: v, kind: veth, peer: p, peer_gro_list: true}\nentry: {dev: v}\n", "f.yaml:2:5: device v: peer_gro_list and peer_udp_gro_forwarding need peer_gro on"},
		{"peer option on a nic", "devices:\n  - {name: x, kind: nic, peer_gro_list: true}\nentry: {dev: x}\n", "f.yaml:2:5: device x: only a veth or netkit pair has a peer"},
		{"xdp_frags on tc", "devices:\n  - {name: x, kind: nic}\nprograms:\n  - {name: p, hook: tc_ingress, dev: x, xdp_frags: true, actions: [count]}\nentry: {dev: x}\n", "f.yaml:4:52: program p: xdp_frags is for xdp programs"},
		{"peer fraglist on a nic", "devices:\n  - {name: x, kind: nic, peer_tx_fraglist: on}\nentry: {dev: x}\n", "f.yaml:2:5: device x: only a veth or netkit pair has a peer"},
		{"tx fraglist not on or off", "devices:\n  - {name: x, kind: nic, tx_fraglist: maybe}\nentry: {dev: x}\n", "f.yaml:2:39: device x: tx_fraglist: want on or off"},
		{"tx checksum not on or off", "devices:\n  - {name: x, kind: nic, tx_checksum: maybe}\nentry: {dev: x}\n", "f.yaml:2:39: device x: tx_checksum: want on or off"},
		{"above_mtu unknown", "entry: {dev: lo, above_mtu: split}\n", `f.yaml:1:29: entry.above_mtu: unknown value "split" (known: accept, segment, gro_hw, drop)`},
		{"segment_size 0", "entry: {dev: lo, segment_size: 0}\n", "f.yaml:1:32: entry.segment_size: 0 out of range [1, 65535]"},
		{"above_mtu on a tx entry", "sockets:\n  - {name: s, proto: udp, port: 53}\nentry: {kind: tx, socket: s, above_mtu: drop}\n",
			"f.yaml:3:8: entry: above_mtu and segment_size are for rx entries (a socket's sends are cut by its own GSO)"},
		{"gro_hw on loopback", "entry: {dev: lo, above_mtu: gro_hw}\n",
			"f.yaml:1:8: entry: above_mtu gro_hw on loopback device lo: hardware GRO is a NIC's (or the GSO skb a veth's peer sends)"},
		{"gro_hw with xdp", "devices:\n  - {name: x, kind: nic}\nprograms:\n  - {name: p, hook: xdp, dev: x, actions: [count]}\nentry: {dev: x, above_mtu: gro_hw}\n",
			"f.yaml:5:8: entry: above_mtu gro_hw on x with XDP program p: drivers refuse native XDP while hardware GRO or LRO is on, and generic XDP turns them off (dev_disable_gro_hw)"},
		{"udp_csum not on or off", "devices:\n  - {name: x, kind: vxlan, remote: 192.0.2.2, udp_csum: maybe}\nentry: {dev: lo}\n", "f.yaml:2:57: device x: udp_csum: want on or off"},
		{"mtu_lock on a blackhole route", "routes:\n  - {dst: 10.0.0.0/8, type: blackhole, mtu_lock: true}\nentry: {dev: lo}\n",
			"f.yaml:2:5: route: a blackhole route has no mtu"},
		{"nexthop onlink not a boolean", "routes:\n  - {dst: 10.0.0.0/8, nexthops: [{dev: lo, via: 10.1.1.1, onlink: 2}]}\nentry: {dev: lo}\n",
			`f.yaml:2:67: nexthop.onlink: want true or false, got "2"`},
		{"mtu_lock not a boolean", "routes:\n  - {dst: 10.0.0.0/8, dev: lo, mtu_lock: 1300}\nentry: {dev: lo}\n",
			`f.yaml:2:42: route.mtu_lock: want true or false, got "1300"`},
		{"udp_csum on a nic", "devices:\n  - {name: x, kind: nic, udp_csum: on}\nentry: {dev: x}\n", "f.yaml:2:5: device x: udp_csum and udp6zerocsumrx are for vxlan and geneve devices"},
		{"xdp_frags before v5.18", "kernel: v5.15\ndevices:\n  - {name: x, kind: nic}\nprograms:\n  - {name: p, hook: xdp, dev: x, xdp_frags: true, actions: [count]}\nentry: {dev: x}\n",
			"f.yaml:5:5: program p: xdp_frags (BPF_F_XDP_HAS_FRAGS) needs kernel v5.18 or later, not v5.15"},
		{"cpumap unknown key", "cpumaps:\n  - {name: c, entries: [], qsize: 3}\nentry: {dev: lo}\n", `f.yaml:2:28: cpumap: unknown key "qsize"`},
		{"cpumap drain", "cpumaps:\n  - {name: c, drain: lazy, entries: []}\nentry: {dev: lo}\n", `f.yaml:2:22: cpumap c: drain: unknown value "lazy" (known: bulk, poll)`},
		{"cpumap qsize 0", "cpumaps:\n  - {name: c, entries: [{cpu: 0, qsize: 0}]}\nentry: {dev: lo}\n", "f.yaml:2:41: cpumap c entry: qsize: 0 out of range [1, 16384]"},
		{"cpumap entry without qsize", "cpumaps:\n  - {name: c, entries: [{cpu: 0}]}\nentry: {dev: lo}\n", `f.yaml:2:25: cpumap c entry: missing "qsize"`},
		{"cpumap cpu twice", "cpumaps:\n  - {name: c, entries: [{cpu: 0, qsize: 8}, {cpu: 0, qsize: 8}]}\nentry: {dev: lo}\n", "f.yaml:2:45: cpumap c: cpu 0 twice"},
		{"cpumap twice", "cpumaps:\n  - {name: c, entries: []}\n  - {name: c, entries: []}\nentry: {dev: lo}\n", `f.yaml:3:5: cpumap "c" declared twice`},
		{"cpumap unknown program", "cpumaps:\n  - {name: c, entries: [{cpu: 0, qsize: 8, program: p}]}\nentry: {dev: lo}\n", `f.yaml:2:5: cpumap c cpu 0: unknown program "p"`},
		{"cpumap program not for cpumaps", "cpumaps:\n  - {name: c, entries: [{cpu: 0, qsize: 8, program: p}]}\nprograms:\n  - {name: p, hook: xdp, dev: lo, actions: [count]}\nentry: {dev: lo}\n", "f.yaml:2:5: cpumap c cpu 0: program p needs cpumap: true"},
		{"cpumap program before v5.9", "kernel: v5.4\ncpumaps:\n  - {name: c, entries: [{cpu: 0, qsize: 8, program: p}]}\nprograms:\n  - {name: p, hook: xdp, cpumap: true, actions: [count]}\nentry: {dev: lo}\n", "f.yaml:3:5: cpumap c cpu 0: a cpumap program needs kernel v5.9 or later, not v5.4"},
		{"cpumap program with a dev", "programs:\n  - {name: p, hook: xdp, dev: lo, cpumap: true, actions: [count]}\nentry: {dev: lo}\n", "f.yaml:2:5: program p: a cpumap or devmap program runs for map entries and attaches to no device"},
		{"cpumap on tc", "programs:\n  - {name: p, hook: tc_ingress, dev: lo, cpumap: true, actions: [count]}\nentry: {dev: lo}\n", "f.yaml:2:50: program p: cpumap (BPF_XDP_CPUMAP) is for xdp programs"},
		{"redirect_cpu on tc", "cpumaps:\n  - {name: c, entries: []}\nprograms:\n  - {name: p, hook: tc_ingress, dev: lo, actions: [{redirect_cpu: c}]}\nentry: {dev: lo}\n", "f.yaml:4:52: program p: redirect_cpu (bpf_redirect_map into a cpumap) is for xdp programs"},
		{"redirect_cpu unknown cpumap", "programs:\n  - {name: p, hook: xdp, dev: lo, actions: [{redirect_cpu: {cpumap: c, cpu: 2}}]}\nentry: {dev: lo}\n", `f.yaml:2:45: program p: redirect_cpu: unknown cpumap "c"`},
		{"devmap unknown device", "devmaps:\n  - {name: d, entries: [{key: 1, dev: nope}]}\nentry: {dev: lo}\n", `f.yaml:2:5: devmap d key 1: no device "nope" in namespace host`},
		{"devmap key twice", "devmaps:\n  - {name: d, entries: [{key: 1, dev: lo}, {key: 1, dev: lo}]}\nentry: {dev: lo}\n", "f.yaml:2:44: devmap d: key 1 twice"},
		{"devmap entry without dev", "devmaps:\n  - {name: d, entries: [{key: 1}]}\nentry: {dev: lo}\n", `f.yaml:2:25: devmap d entry: missing "dev"`},
		{"devmap named like a cpumap", "cpumaps:\n  - {name: d, entries: []}\ndevmaps:\n  - {name: d, entries: []}\nentry: {dev: lo}\n", `f.yaml:4:5: map "d" declared twice`},
		{"devmap program not for devmaps", "devmaps:\n  - {name: d, entries: [{key: 1, dev: lo, program: p}]}\nprograms:\n  - {name: p, hook: xdp, dev: lo, actions: [count]}\nentry: {dev: lo}\n", "f.yaml:2:5: devmap d key 1: program p needs devmap: true"},
		{"cpumap and devmap program", "programs:\n  - {name: p, hook: xdp, cpumap: true, devmap: true, actions: [count]}\nentry: {dev: lo}\n", "f.yaml:2:5: program p: a program is loaded for cpumaps or for devmaps, not both"},
		{"redirect_devmap broadcast before v5.13", "kernel: v5.10\ndevmaps:\n  - {name: d, entries: []}\nprograms:\n  - {name: p, hook: xdp, dev: lo, actions: [{redirect_devmap: {devmap: d, broadcast: true}}]}\nentry: {dev: lo}\n", "f.yaml:5:45: program p: redirect_devmap: broadcast and exclude_ingress need kernel v5.13 or later, not v5.10"},
		{"redirect_devmap unknown devmap", "programs:\n  - {name: p, hook: xdp, dev: lo, actions: [{redirect_devmap: d}]}\nentry: {dev: lo}\n", `f.yaml:2:45: program p: redirect_devmap: unknown devmap "d"`},
		{"redirect_cpu fallback", "cpumaps:\n  - {name: c, entries: []}\nprograms:\n  - {name: p, hook: xdp, dev: lo, actions: [{redirect_cpu: {cpumap: c, fallback: bounce}}]}\nentry: {dev: lo}\n", `f.yaml:4:82: program p: redirect_cpu.fallback: unknown value "bounce"`},
		{"veth without peer", "devices:\n  - {name: v, kind: veth}\nentry: {dev: v}\n", "f.yaml:2:5: device v: a veth needs a peer"},
		{"peer namespace", "devices:\n  - {name: v, kind: veth, peer: p, peer_netns: nowhere}\nentry: {dev: v}\n",
			`f.yaml:2:5: device p: unknown namespace "nowhere"`},
		{"duplicate device", "devices:\n  - {name: x, kind: nic}\n  - {name: x, kind: dummy}\nentry: {dev: x}\n",
			`f.yaml:3:5: device "x" declared twice in namespace host`},
		{"master not bridge", "devices:\n  - {name: x, kind: nic, master: y}\n  - {name: y, kind: dummy}\nentry: {dev: x}\n",
			`f.yaml:2:5: device x: master "y" is not a bridge`},
		{"route device", "routes:\n  - {dst: default, dev: eth9}\nentry: {dev: lo}\n", `f.yaml:2:5: route: no device "eth9" in namespace host`},
		{"route dst", "routes:\n  - {dst: 10.0.0.300/8, dev: lo}\nentry: {dev: lo}\n", `f.yaml:2:11: route.dst: want an address or prefix`},
		{"socket proto", "sockets:\n  - {name: s, proto: sctp}\nentry: {dev: lo}\n", `f.yaml:2:22: socket s: proto: unknown value "sctp"`},
		{"port range", "sockets:\n  - {name: s, proto: udp, port: 70000}\nentry: {dev: lo}\n", "f.yaml:2:33: socket s: port: 70000 out of range"},
		{"map flag", "maps:\n  - {name: m, flags: [clone, forever]}\nentry: {dev: lo}\n", `f.yaml:2:30: map m: unknown flag "forever"`},
		{"map twice", "maps:\n  - {name: m}\n  - {name: m}\nentry: {dev: lo}\n", `f.yaml:3:5: map "m" declared twice`},
		{"hook", "programs:\n  - {name: p, hook: kprobe, actions: []}\nentry: {dev: lo}\n", `f.yaml:2:21: program p: unknown hook "kprobe"`},
		{"hook needs dev", "programs:\n  - {name: p, hook: tc_ingress, actions: []}\nentry: {dev: lo}\n",
			"f.yaml:2:5: program p: hook tc_ingress needs a dev"},
		{"program device", "programs:\n  - {name: p, hook: xdp, dev: eth1, actions: []}\nentry: {dev: lo}\n",
			`f.yaml:2:5: program p: no device "eth1" in namespace host`},
		{"socket filter socket", "programs:\n  - {name: p, hook: socket_filter, socket: s, actions: []}\nentry: {dev: lo}\n",
			`f.yaml:2:5: program p: unknown socket "s"`},
		{"unknown action", "programs:\n  - name: p\n    hook: cgroup_ingress\n    actions:\n      - frob\nentry: {dev: lo}\n",
			`f.yaml:5:9: program p: unknown action "frob"`},
		{"unknown map", "programs:\n  - name: p\n    hook: cgroup_ingress\n    actions:\n      - read: nomap\nentry: {dev: lo}\n",
			`f.yaml:5:15: program p: read: unknown map "nomap"`},
		{"action argument", "maps: [{name: m}]\nprograms:\n  - name: p\n    hook: cgroup_ingress\n    actions:\n      - write: {map: m, valu: 1}\nentry: {dev: lo}\n",
			`f.yaml:6:25: program p: write: unknown key "valu"`},
		{"action missing", "programs:\n  - name: p\n    hook: cgroup_ingress\n    actions:\n      - set_cb: {value: 1}\nentry: {dev: lo}\n",
			`f.yaml:5:9: program p: set_cb: missing "index"`},
		{"action no argument", "programs:\n  - name: p\n    hook: cgroup_ingress\n    actions:\n      - drop: 1\nentry: {dev: lo}\n",
			"f.yaml:5:15: program p: drop takes no argument"},
		{"redirect target", "programs:\n  - name: p\n    hook: cgroup_ingress\n    actions:\n      - redirect: eth7\nentry: {dev: lo}\n",
			`f.yaml:5:9: program p: redirect: no device "eth7" in namespace host`},
		{"bad value", "maps: [{name: m}]\nprograms:\n  - name: p\n    hook: cgroup_ingress\n    actions:\n      - write: {map: m, value: -1}\nentry: {dev: lo}\n",
			`f.yaml:6:32: program p: write.value: want an unsigned integer, got "-1"`},
		{"entry device", "entry: {dev: eth0}\n", `f.yaml:1:8: entry: no device "eth0" in namespace host`},
		{"tx entry socket", "entry: {kind: tx, socket: s}\n", `f.yaml:1:8: entry: unknown socket "s"`},
		{"entry kind", "entry: {kind: sideways, dev: lo}\n", `f.yaml:1:15: entry.kind: unknown value "sideways"`},
		{"tunnel remote", "devices:\n  - {name: vx, kind: vxlan, vni: 1}\nentry: {dev: lo}\n", "f.yaml:2:5: device vx: a vxlan tunnel needs an IPv4 or IPv6 remote"},
		{"tunnel keys", "devices:\n  - {name: d, kind: dummy, vni: 1}\nentry: {dev: lo}\n", "f.yaml:2:5: device d: local, remote, vni, port and external are for tunnels"},
		{"blackhole with dev", "devices:\n  - {name: e, kind: nic}\nroutes:\n  - {dst: 10.0.0.0/8, dev: e, type: blackhole}\nentry: {dev: e}\n", "f.yaml:4:5: route: a blackhole route has no dev or via"},
		{"route without dev", "devices:\n  - {name: e, kind: nic}\nroutes:\n  - {dst: 10.0.0.0/8}\nentry: {dev: e}\n", "f.yaml:4:5: route: missing \"dev\""},
		{"external dummy", "devices:\n  - {name: d, kind: dummy, external: true}\nentry: {dev: lo}\n", "f.yaml:2:5: device d: local, remote, vni, port and external are for tunnels"},
		{"external with vni", "devices:\n  - {name: vx, kind: vxlan, external: true, vni: 3}\nentry: {dev: lo}\n", "f.yaml:2:5: device vx: an external device has no remote, local or vni"},
		{"set_tunnel_key without remote", "devices:\n  - {name: vx, kind: vxlan, external: true}\nprograms:\n  - {name: p, hook: tc_egress, dev: vx, actions: [{set_tunnel_key: {id: 1}}]}\nentry: {dev: lo}\n", "f.yaml:4:51: program p: set_tunnel_key: missing \"remote\""},
		{"get_tunnel_key at xdp", "devices:\n  - {name: vx, kind: vxlan, external: true}\nprograms:\n  - {name: p, hook: xdp, dev: lo, actions: [get_tunnel_key]}\nentry: {dev: lo}\n", "f.yaml:4:45: program p: get_tunnel_key (bpf_skb_get_tunnel_key) is for tc programs"},
		{"fib_forward no_neigh at xdp", "devices:\n  - {name: e, kind: nic}\nprograms:\n  - {name: p, hook: xdp, dev: e, actions: [{fib_forward: {no_neigh: redirect_neigh}}]}\nentry: {dev: e}\n", "f.yaml:4:44: program p: fib_forward: no_neigh: redirect_neigh (bpf_redirect_neigh) is for tc programs"},
		{"native xdp", "devices:\n  - {name: d, kind: dummy, xdp: native}\nentry: {dev: lo}\n", "f.yaml:2:5: device d: native XDP is modelled on nic and veth"},
		{"sockops action", "programs:\n  - name: p\n    hook: sockops\n    actions:\n      - set_mark: 1\nentry: {dev: lo}\n",
			"f.yaml:5:9: program p: set_mark is not available at hook sockops"},
		{"lsm action", "programs:\n  - name: p\n    hook: lsm\n    actions:\n      - redirect: lo\nentry: {dev: lo}\n",
			"f.yaml:5:9: program p: redirect is not available at hook lsm"},
		{"sockops event", "programs:\n  - {name: p, hook: sockops, event: rtt_cb, actions: []}\nentry: {dev: lo}\n",
			`f.yaml:2:37: program p: event: unknown value "rtt_cb" (known: passive_established, active_established)`},
		{"lsm event", "programs:\n  - {name: p, hook: lsm, event: socket_bind, actions: []}\nentry: {dev: lo}\n",
			`f.yaml:2:33: program p: event: unknown value "socket_bind" (known: inet_conn_established, inet_conn_request)`},
		{"event on tc", "programs:\n  - {name: p, hook: tc_ingress, dev: lo, event: kfree_skb, actions: []}\nentry: {dev: lo}\n",
			"f.yaml:2:49: program p: only tracepoint, lsm and sockops programs name an event"},
		{"cgroup on lsm", "programs:\n  - {name: p, hook: lsm, cgroup: /a, actions: []}\nentry: {dev: lo}\n",
			"f.yaml:2:5: program p: only cgroup_ingress, cgroup_egress and sockops programs attach to a cgroup"},
		{"connect value", "sockets:\n  - {name: s, proto: tcp, port: 1, connect: 10.0.0.1}\nentry: {dev: lo}\n",
			`f.yaml:2:45: socket s: connect: want address:port like 10.0.0.1:80 or [2001:db8::1]:443, got "10.0.0.1"`},
		{"connect port 0", "sockets:\n  - {name: s, proto: tcp, port: 1, connect: 10.0.0.1:0}\nentry: {dev: lo}\n",
			`f.yaml:2:45: socket s: connect: want address:port`},
		{"connect udp", "sockets:\n  - {name: s, proto: udp, port: 1, connect: 10.0.0.1:80}\nentry: {dev: lo}\n",
			"f.yaml:2:5: socket s: connect is for tcp sockets"},
		{"udp_segment on tcp", "sockets:\n  - {name: s, proto: tcp, port: 1, udp_segment: 1400}\nentry: {dev: lo}\n",
			"f.yaml:2:49: socket s: udp_segment is an option of udp sockets"},
		{"udp_gro on tcp", "sockets:\n  - {name: s, proto: tcp, port: 1, udp_gro: true}\nentry: {dev: lo}\n",
			"f.yaml:2:45: socket s: udp_gro is an option of udp sockets"},
		{"connected tcp", "sockets:\n  - {name: s, proto: tcp, port: 1, connected: true}\nentry: {dev: lo}\n",
			"f.yaml:2:47: socket s: connected is an option of udp sockets"},
		{"udp_segment range", "sockets:\n  - {name: s, proto: udp, port: 1, udp_segment: 65536}\nentry: {dev: lo}\n",
			"f.yaml:2:49: socket s: udp_segment: 65536 out of range"},
		{"tap hold", "taps:\n  - {name: t, hold: maybe}\nentry: {dev: lo}\n", "f.yaml:2:21: tap t: hold: want true or false"},
		{"connect local port", "sockets:\n  - {name: s, proto: tcp, connect: 10.0.0.1:80}\nentry: {dev: lo}\n",
			"f.yaml:2:5: socket s: a connecting socket needs its local port"},
		{"connect family", "sockets:\n  - {name: s, proto: tcp, addr: 2001:db8::1, port: 1, connect: 10.0.0.1:80}\nentry: {dev: lo}\n",
			"f.yaml:2:5: socket s: connect to 10.0.0.1:80 from an address of another family"},
		{"tcp connections", "options: {tcp_connections: 0}\nentry: {dev: lo}\n", "f.yaml:1:28: options.tcp_connections: 0 out of range"},
		{"two documents", minimal + "---\nname: b\n", "f.yaml:5:1: more than one YAML document"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("f.yaml", []byte(tc.src))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "\n")
			assert.ErrorIs(t, err, ErrScenario)
			assert.ErrorIs(t, err, errno.EINVAL)
			var pe *ParseError
			assert.True(t, errors.As(err, &pe))
		})
	}
}

func TestParseActions(t *testing.T) {
	src := `maps: [{name: a}, {name: b, value_size: 16, flags: [clone, keep_netns]}]
devices: [{name: d0, kind: dummy}]
programs:
  - name: p
    hook: tc_egress
    dev: d0
    actions:
      - write: {map: b, value: 0x10}
      - read: a
      - set_cb: {index: 2, value: 9}
      - clone_redirect: {target: d0, ingress: true}
      - set_tstamp: {value: 5, mono: yes}
      - vlan_push: 100
      - vlan_push: {tci: 0x2007, tpid: 0x88a8}
      - vlan_pop
      - drop
entry: {dev: d0}
`
	s, err := Parse("a.yaml", []byte(src))
	require.NoError(t, err)
	assert.Equal(t, []carrier.MapSpec{{Name: "a", ValueSize: 4}, {Name: "b", ValueSize: 16, Flags: carrier.FlagClone | carrier.FlagKeepNetns}}, s.Maps)
	require.Len(t, s.Stack.Programs, 1)
	p := s.Stack.Programs[0]
	assert.Equal(t, carrier.HookTCEgress, p.Hook)
	assert.Equal(t, []netstack.Action{
		{Kind: netstack.ActWrite, Map: 1, Value: 0x10},
		{Kind: netstack.ActRead, Map: 0},
		{Kind: netstack.ActSetCB, Index: 2, Value: 9},
		{Kind: netstack.ActCloneRedirect, Target: "d0", Ingress: true},
		{Kind: netstack.ActSetTstamp, Value: 5, Mono: true},
		{Kind: netstack.ActVlanPush, Value: 100},
		{Kind: netstack.ActVlanPush, Value: 0x2007, TPID: 0x88a8},
		{Kind: netstack.ActVlanPop},
		{Kind: netstack.ActDrop},
	}, p.Actions)
	assert.Equal(t, []Pos{{8, 9}, {9, 9}, {10, 9}, {11, 9}, {12, 9}, {13, 9}, {14, 9}, {15, 9}, {16, 9}}, s.Src.Actions[0])
}

// TestParseVlanActionErrors: vlan_push and vlan_pop are tc actions, a TCI
// is 16 bits and a TPID 802.1Q or 802.1ad; each mistake is reported at its
// line.
func TestParseVlanActionErrors(t *testing.T) {
	for _, tc := range []struct{ actions, want string }{
		{"[vlan_pop]", "a.yaml:1:52: program p: vlan_pop (bpf_skb_vlan_pop) is for tc programs"},
		{"[{vlan_push: 70000}]", "a.yaml:1:71: program p: vlan_push.tci: 70000 out of range [0, 65535]"},
		{"[{vlan_push: {tci: 1, tpid: 0x0800}}]", "a.yaml:1:86: program p: vlan_push.tpid: want 0x8100 (802.1Q) or 0x88a8 (802.1ad), got 0x800"},
		{"[{adjust_head: {delta: 20, keep_eth: true}}]", "a.yaml:1:59: program p: adjust_head (bpf_xdp_adjust_head) is for xdp programs"},
		{"[{change_head: 14}]", "a.yaml:1:52: program p: change_head (bpf_skb_change_head) is for tc programs"},
		{"[{change_tail: {len: 60}}]", "a.yaml:1:52: program p: change_tail (bpf_skb_change_tail) is for tc programs"},
		{"[{change_tail: {len: 60, delta: 4}}]", "a.yaml:1:59: program p: change_tail: want len (the new length) or delta (bytes added, negative: removed)"},
		{"[change_tail]", "a.yaml:1:59: program p: change_tail: want len (the new length) or delta (bytes added, negative: removed)"},
		{"[{change_tail: {delta: 70000}}]", "a.yaml:1:81: program p: change_tail.delta: 70000 out of range [-65535, 65535]"},
		{"[{adjust_tail: -4}]", "a.yaml:1:59: program p: adjust_tail (bpf_xdp_adjust_tail) is for xdp programs"},
	} {
		hook := "tc_ingress"
		if tc.actions == "[vlan_pop]" || tc.actions == "[{change_head: 14}]" || tc.actions == "[{change_tail: {len: 60}}]" {
			hook = "xdp"
		}
		src := "programs: [{name: p, hook: " + hook + ", dev: d0, actions: " + tc.actions + "}]\ndevices: [{name: d0, kind: nic}]\nentry: {dev: d0}\n"
		_, err := Parse("a.yaml", []byte(src))
		require.Error(t, err, tc.actions)
		assert.Equal(t, tc.want, err.Error(), tc.actions)
	}
}

func TestBuiltinDefault(t *testing.T) {
	s, err := Builtin(DefaultScenarioName)
	require.NoError(t, err)
	assert.Equal(t, "default", s.Name)
	hooks := map[carrier.Hook]bool{}
	for _, p := range s.Stack.Programs {
		hooks[p.Hook] = true
	}
	for _, h := range []carrier.Hook{carrier.HookXDP, carrier.HookTCIngress, carrier.HookTCEgress, carrier.HookTracepoint} {
		assert.True(t, hooks[h], "default scenario has a %s program", h)
	}
	_, err = Builtin("nonesuch")
	assert.ErrorIs(t, err, ErrScenario)
}

// TestScenarioCopy checks that Copy is deep: equal values, no shared
// slices.
func TestScenarioCopy(t *testing.T) {
	s, err := Builtin(DefaultScenarioName)
	require.NoError(t, err)
	c := s.Copy()
	require.Equal(t, s, c)
	assertNoSharedSlices(t, reflect.ValueOf(s).Elem(), reflect.ValueOf(c).Elem(), "Scenario")
	c.Stack.Programs[0].Actions[0].Value++
	c.Maps[0].ValueSize++
	c.Src.Actions[0][0].Line++
	assert.NotEqual(t, s, c)
}

func assertNoSharedSlices(t *testing.T, a, b reflect.Value, path string) {
	t.Helper()
	switch a.Kind() {
	case reflect.Slice:
		if a.Len() > 0 && a.Pointer() == b.Pointer() {
			t.Errorf("%s shares its backing array", path)
		}
		for i := range a.Len() {
			assertNoSharedSlices(t, a.Index(i), b.Index(i), path+"[]")
		}
	case reflect.Struct:
		for i := range a.NumField() {
			if a.Type().Field(i).IsExported() {
				assertNoSharedSlices(t, a.Field(i), b.Field(i), path+"."+a.Type().Field(i).Name)
			}
		}
	}
}

// TestDocSchemaParses parses the schema example of doc.go, so the
// documentation cannot drift from the parser.
func TestDocSchemaParses(t *testing.T) {
	src, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	doc := string(src)
	start := strings.Index(doc, "// # Scenario files")
	end := strings.Index(doc, "// The examples/ directory")
	require.True(t, start >= 0 && end > start)
	var y strings.Builder
	for _, line := range strings.Split(doc[start:end], "\n") {
		if rest, ok := strings.CutPrefix(line, "//\t"); ok {
			y.WriteString(rest + "\n")
		}
	}
	s, err := Parse("doc.go", []byte(y.String()))
	require.NoError(t, err, "the schema in doc.go:\n%s", y.String())
	assert.Len(t, s.Stack.Programs, 15)
	assert.Equal(t, netstack.RouteConfig{Netns: netstack.HostNetns, Dst: netip.MustParsePrefix("10.244.7.0/26"), Type: netstack.RouteBlackhole},
		s.Stack.Routes[5])
	assert.Equal(t, 1450, s.Stack.Routes[2].MTU)
	assert.True(t, s.Stack.Routes[3].MTULock)
	assert.False(t, s.Stack.Routes[2].MTULock)
	assert.Equal(t, "fe80::2", s.Stack.Routes[4].Via.String())
	assert.Equal(t, uint32(200), s.Stack.Routes[10].Metric)
	assert.Equal(t, "10.0.0.1", s.Stack.Routes[11].Src.String())
	assert.Equal(t, []netstack.Action{{Kind: netstack.ActSetTunnelKey, Value: 42, Via: netip.MustParseAddr("192.0.2.2")},
		{Kind: netstack.ActGetTunnelKey}}, s.Stack.Programs[14].Actions)
	assert.Equal(t, []netstack.Action{{Kind: netstack.ActFibForward, Index: netstack.FibNoNeighRedirect},
		{Kind: netstack.ActRedirectNeigh, Target: "eth0", Via: netip.MustParseAddr("192.0.2.1")}}, s.Stack.Programs[13].Actions)
	assert.True(t, s.Stack.Programs[12].DevBound)
	assert.Equal(t, netstack.Action{Kind: netstack.ActRxMeta, Index: int(netstack.RxMetaVlanTag)}, s.Stack.Programs[12].Actions[2])
	assert.Equal(t, "off", s.Stack.Devices[0].RxHwTstamp)
	assert.Equal(t, "rx_timestamp rx_hash", s.Stack.Devices[0].XDPMetadataOps)
	assert.Equal(t, "tcpdump", s.Stack.Programs[7].Tap)
	assert.True(t, s.Stack.Programs[3].Devmap)
	assert.Equal(t, netstack.Action{Kind: netstack.ActRedirectDevmap, Target: "ports", Index: 1,
		Value: netstack.FlagBroadcast | netstack.FlagExcludeIngress | netstack.XDPDrop}, s.Stack.Programs[4].Actions[0])
	assert.Equal(t, []netstack.DevmapConfig{{Name: "ports", Entries: []netstack.DevmapEntryConfig{{Key: 1, Dev: "veth0", Netns: "host", Program: "on_tx"}}}},
		s.Stack.Devmaps)
	assert.True(t, s.Stack.Programs[1].XDPFrags)
	assert.Equal(t, netstack.Action{Kind: netstack.ActRedirectCPU, Target: "cpus", Index: 1, Value: netstack.XDPPass},
		s.Stack.Programs[1].Actions[1])
	assert.True(t, s.Stack.Programs[2].Cpumap)
	assert.Equal(t, []netstack.CpumapConfig{{Name: "cpus", Entries: []netstack.CpumapEntryConfig{{CPU: 1, QSize: 192, Program: "on_cpu1"}}}},
		s.Stack.Cpumaps)
	assert.Equal(t, "on", s.Stack.Devices[0].TxChecksum)
	assert.Len(t, s.Stack.Programs[0].Actions, 21)
	assert.Equal(t, netstack.Action{Kind: netstack.ActRedirectNeigh, Target: "eth0"}, s.Stack.Programs[0].Actions[9])
	assert.Equal(t, netstack.Action{Kind: netstack.ActChangeType}, s.Stack.Programs[0].Actions[16])
	assert.Equal(t, netstack.Action{Kind: netstack.ActChangeTail, Delta: -4, Index: 1}, s.Stack.Programs[0].Actions[17])
	assert.Equal(t, netstack.Action{Kind: netstack.ActAdjustHead, Delta: 20, KeepEth: true}, s.Stack.Programs[11].Actions[1])
	assert.Equal(t, netstack.Action{Kind: netstack.ActAdjustRoom, Delta: 20, Index: netstack.AdjRoomMac, Value: netstack.AdjRoomEncapL3IPv4},
		s.Stack.Programs[0].Actions[14])
	assert.Equal(t, netstack.Action{Kind: netstack.ActMirred, Target: "veth0", Mirror: true}, s.Stack.Programs[0].Actions[10])
	assert.Equal(t, netip.MustParseAddrPort("192.0.2.7:443"), s.Stack.Sockets[6].Connect)
	assert.Equal(t, []netstack.GroupJoin{{Group: netip.MustParseAddr("224.0.0.251"), Dev: "eth0"}}, s.Stack.Sockets[2].Join)
	assert.True(t, s.Stack.Sockets[3].Broadcast)
	assert.Equal(t, 1200, s.Stack.Sockets[4].UDPSegment)
	assert.Equal(t, 1024, s.Stack.Options.TCPConnections)
	m, err := newMachine(s, Options{})
	require.NoError(t, err, "the stack model builds the documented scenario")
	m.finish(&Report{})
}

// TestParseXDPMetaReach: carrier.xdp_meta_reach reaches the design's
// options (carrier's TestXDPMetaHooks checks what each value allows).
func TestParseXDPMetaReach(t *testing.T) {
	for _, reach := range []string{carrier.XDPMetaReachCtx, carrier.XDPMetaReachBTF, carrier.XDPMetaReachKernCtx} {
		s, err := Parse("f.yaml", []byte("design: xdp-meta\ncarrier: {xdp_meta_reach: "+reach+"}\nentry: {dev: lo}\n"))
		require.NoError(t, err)
		assert.Equal(t, reach, s.Carrier.XDPMetaReach)
	}
}

// TestParseGROFeatures: the GRO device features reach the stack's
// configuration, for a device and a veth's peer.
func TestParseGROFeatures(t *testing.T) {
	src := `devices:
  - {name: eth0, kind: nic, gro_list: true, udp_gro_forwarding: true}
  - {name: v0, kind: veth, peer: v1, peer_gro: on, peer_gro_list: true, peer_udp_gro_forwarding: true}
entry: {dev: eth0}
`
	s, err := Parse("t.yaml", []byte(src))
	require.NoError(t, err)
	require.Len(t, s.Stack.Devices, 2)
	n, v := s.Stack.Devices[0], s.Stack.Devices[1]
	assert.True(t, n.GROList && n.UDPGROForwarding)
	assert.False(t, v.GROList || v.UDPGROForwarding)
	assert.True(t, v.PeerGROList && v.PeerUDPGROForwarding)
}

// TestParseBridgeNetfilter: a namespace's bridge_nf_call_iptables,
// bridge_nf_call_ip6tables and bridge_nf_filter_vlan_tagged reach the
// stack's configuration (off by default), and a value that is not a
// boolean is an error at its line.
func TestParseBridgeNetfilter(t *testing.T) {
	src := `namespaces:
  - {name: k8s, bridge_nf_call_iptables: true, bridge_nf_call_ip6tables: true, bridge_nf_filter_vlan_tagged: true}
  - {name: v4, bridge_nf_call_iptables: true, bridge_nf_filter_pppoe_tagged: true}
  - plain
entry: {dev: lo}
`
	s, err := Parse("t.yaml", []byte(src))
	require.NoError(t, err)
	require.Len(t, s.Stack.Namespaces, 3)
	var got []string
	for _, n := range s.Stack.Namespaces {
		got = append(got, fmt.Sprintf("%s %v %v %v %v", n.Name, n.BridgeNFCallIPTables, n.BridgeNFCallIP6Tables, n.BridgeNFFilterVLANTagged, n.BridgeNFFilterPPPoETagged))
	}
	assert.Equal(t, []string{"k8s true true true false", "v4 true false false true", "plain false false false false"}, got)
	_, err = Parse("t.yaml", []byte("namespaces:\n  - {name: a, bridge_nf_call_iptables: maybe}\nentry: {dev: lo}\n"))
	require.EqualError(t, err, `t.yaml:2:40: namespace a: bridge_nf_call_iptables: want true or false, got "maybe"`)
	_, err = Parse("t.yaml", []byte("namespaces:\n  - {name: a, bridge_nf_filter_vlan_tagged: 2}\nentry: {dev: lo}\n"))
	require.EqualError(t, err, `t.yaml:2:45: namespace a: bridge_nf_filter_vlan_tagged: want true or false, got "2"`)
}

// TestParseTxFragList: tx_fraglist and peer_tx_fraglist reach the stack's
// configuration; left out, the kind's default applies ("").
func TestParseTxFragList(t *testing.T) {
	src := `devices:
  - {name: eth0, kind: nic, tx_fraglist: on, tunnel_tso: off}
  - {name: v0, kind: veth, peer: v1, tx_fraglist: off, peer_tx_fraglist: off}
  - {name: eth1, kind: nic}
entry: {dev: eth0}
`
	s, err := Parse("t.yaml", []byte(src))
	require.NoError(t, err)
	require.Len(t, s.Stack.Devices, 3)
	assert.Equal(t, "on", s.Stack.Devices[0].TxFragList)
	assert.Equal(t, "off", s.Stack.Devices[0].TunnelTSO)
	assert.Equal(t, "off", s.Stack.Devices[1].TxFragList)
	assert.Equal(t, "off", s.Stack.Devices[1].PeerTxFragList)
	assert.Equal(t, "", s.Stack.Devices[2].TxFragList)
}

// TestParseRxVLANOffload: rx_vlan_offload reaches the device (off by
// default); on a veth it is an error naming the device.
func TestParseRxVLANOffload(t *testing.T) {
	s, err := Parse("t.yaml", []byte("devices:\n  - {name: eth0, kind: nic, rx_vlan_offload: on}\n  - {name: eth1, kind: nic}\nentry: {dev: eth0}\n"))
	require.NoError(t, err)
	assert.Equal(t, "on", s.Stack.Devices[0].RxVLANOffload)
	assert.Equal(t, "", s.Stack.Devices[1].RxVLANOffload)
	_, err = Parse("t.yaml", []byte("devices:\n  - {name: eth0, kind: nic, rx_vlan_offload: maybe}\nentry: {dev: eth0}\n"))
	require.ErrorContains(t, err, "t.yaml:2:")
	require.ErrorContains(t, err, "rx_vlan_offload")
	_, err = Parse("t.yaml", []byte("devices:\n  - {name: v0, kind: veth, peer: v1, rx_vlan_offload: on}\nentry: {dev: v0}\n"))
	require.EqualError(t, err, "t.yaml:2:5: device v0: rx_vlan_offload on a veth device (NICs only)")
}

// TestParseAdjustHead: adjust_head takes a signed delta and keep_eth.
func TestParseAdjustHead(t *testing.T) {
	src := "programs: [{name: p, hook: xdp, dev: d0, actions: [{adjust_head: {delta: 20, keep_eth: true}}, {adjust_head: -8}]}]\ndevices: [{name: d0, kind: nic}]\nentry: {dev: d0}\n"
	s, err := Parse("a.yaml", []byte(src))
	require.NoError(t, err)
	assert.Equal(t, []netstack.Action{{Kind: netstack.ActAdjustHead, Delta: 20, KeepEth: true}, {Kind: netstack.ActAdjustHead, Delta: -8}},
		s.Stack.Programs[0].Actions)
}

// TestParseXDPRxMetadata: dev_bound, rx_meta and the NIC's
// xdp_metadata_ops and rx_hwtstamp, and their errors with file:line:col.
func TestParseXDPRxMetadata(t *testing.T) {
	const dev = "devices:\n  - {name: eth0, kind: nic, rx_hwtstamp: on, xdp_metadata_ops: [rx_hash, rx_timestamp]}\n"
	s, err := Parse("t.yaml", []byte(dev+"programs:\n  - {name: h, hook: xdp, dev: eth0, dev_bound: true, actions: [{rx_meta: rx_hash}, {rx_meta: {kfunc: rx_vlan_tag}}]}\nentry: {dev: eth0}\n"))
	require.NoError(t, err)
	assert.Equal(t, "on", s.Stack.Devices[0].RxHwTstamp)
	assert.Equal(t, "rx_hash rx_timestamp", s.Stack.Devices[0].XDPMetadataOps)
	assert.True(t, s.Stack.Programs[0].DevBound)
	assert.Equal(t, []netstack.Action{{Kind: netstack.ActRxMeta, Index: int(netstack.RxMetaHash)}, {Kind: netstack.ActRxMeta, Index: int(netstack.RxMetaVlanTag)}},
		s.Stack.Programs[0].Actions)
	for _, ops := range []struct{ yaml, want string }{{"[]", "none"}, {"none", "none"}, {"all", ""}} {
		s, err := Parse("t.yaml", []byte("devices:\n  - {name: eth0, kind: nic, xdp_metadata_ops: "+ops.yaml+"}\nentry: {dev: eth0}\n"))
		require.NoError(t, err, ops.yaml)
		assert.Equal(t, ops.want, s.Stack.Devices[0].XDPMetadataOps, ops.yaml)
	}
	for _, tc := range []struct{ name, src, want string }{
		{"dev_bound at tc", dev + "programs:\n  - {name: h, hook: tc_ingress, dev: eth0, dev_bound: true, actions: [count]}\nentry: {dev: eth0}\n",
			"t.yaml:4:55: program h: dev_bound (BPF_F_XDP_DEV_BOUND_ONLY) is for xdp programs"},
		{"rx_meta without dev_bound", dev + "programs:\n  - {name: h, hook: xdp, dev: eth0, actions: [{rx_meta: rx_hash}]}\nentry: {dev: eth0}\n",
			"t.yaml:4:47: program h: rx_meta: the verifier loads the XDP RX metadata kfuncs in device-bound programs only (set dev_bound: true)"},
		{"rx_meta at tc", dev + "programs:\n  - {name: h, hook: tc_ingress, dev: eth0, actions: [{rx_meta: rx_hash}]}\nentry: {dev: eth0}\n",
			"t.yaml:4:54: program h: rx_meta (bpf_xdp_metadata_rx_hash) is for xdp programs"},
		{"unknown kfunc", dev + "programs:\n  - {name: h, hook: xdp, dev: eth0, dev_bound: true, actions: [{rx_meta: rx_csum}]}\nentry: {dev: eth0}\n",
			`t.yaml:4:74: program h: rx_meta.kfunc: unknown value "rx_csum" (known: rx_timestamp, rx_hash, rx_vlan_tag)`},
		{"rx_vlan_tag on v6.6", "kernel: v6.6\n" + dev + "programs:\n  - {name: h, hook: xdp, dev: eth0, dev_bound: true, actions: [{rx_meta: rx_vlan_tag}]}\nentry: {dev: eth0}\n",
			"t.yaml:5:64: program h: rx_meta: bpf_xdp_metadata_rx_vlan_tag needs kernel v6.8 or later, not v6.6"},
		{"dev_bound on v6.1", "kernel: v6.1\n" + dev + "programs:\n  - {name: h, hook: xdp, dev: eth0, dev_bound: true, actions: [count]}\nentry: {dev: eth0}\n",
			"t.yaml:5:5: program h: dev_bound (BPF_F_XDP_DEV_BOUND_ONLY) needs kernel v6.3 or later, not v6.1"},
		{"dev_bound in generic mode", "devices:\n  - {name: eth0, kind: nic, xdp: generic}\nprograms:\n  - {name: h, hook: xdp, dev: eth0, dev_bound: true, actions: [count]}\nentry: {dev: eth0}\n",
			"t.yaml:4:5: program h: a device-bound program attaches in native XDP mode only, and eth0 runs XDP in generic mode"},
		{"dev_bound on a bridge", "devices:\n  - {name: br0, kind: bridge}\nprograms:\n  - {name: h, hook: xdp, dev: br0, dev_bound: true, actions: [count]}\nentry: {dev: br0}\n",
			"t.yaml:4:5: program h: a device-bound program attaches in native XDP mode only, and br0 runs XDP in generic mode"},
		{"bad ops", "devices:\n  - {name: eth0, kind: nic, xdp_metadata_ops: [rx_hash, rx_csum]}\nentry: {dev: eth0}\n",
			`t.yaml:2:57: device eth0: xdp_metadata_ops: unknown value "rx_csum" (known: rx_timestamp, rx_hash, rx_vlan_tag)`},
		{"ops on a veth", "devices:\n  - {name: v0, kind: veth, peer: v1, xdp_metadata_ops: none}\nentry: {dev: v0}\n",
			"t.yaml:2:5: device v0: xdp_metadata_ops on a veth device (NICs only; veth implements all three)"},
		{"rx_hwtstamp on a veth", "devices:\n  - {name: v0, kind: veth, peer: v1, rx_hwtstamp: on}\nentry: {dev: v0}\n",
			"t.yaml:2:5: device v0: rx_hwtstamp on a veth device (NICs only)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tc.src))
			require.ErrorIs(t, err, ErrScenario)
			require.EqualError(t, err, tc.want)
		})
	}
}

// TestParseMacvlan: a macvlan's link and mode, and what macvlan_common_newlink
// would refuse, each reported at the device's line.
func TestParseMacvlan(t *testing.T) {
	const head = "keep_dst_mac: true\nnamespaces: [{name: pod}]\ndevices:\n  - {name: eth0, kind: nic}\n"
	s, err := Parse("t.yaml", []byte(head+"  - {name: mv0, kind: macvlan, netns: pod, link: eth0, link_netns: host, mode: vepa, addr: 10.0.1.9/24}\nentry: {dev: eth0}\n"))
	require.NoError(t, err)
	mv := s.Stack.Devices[1]
	assert.Equal(t, netstack.KindMacvlan, mv.Kind)
	assert.Equal(t, "eth0", mv.Link)
	assert.Equal(t, netstack.HostNetns, mv.LinkNetns)
	assert.Equal(t, netstack.MacvlanVEPA, mv.Mode)
	assert.True(t, s.KeepDstMAC)
	s, err = Parse("t.yaml", []byte(head+"  - {name: mon, kind: macvlan, link: eth0, mode: source, source_macs: [02:00:00:00:00:09, 02:00:00:00:00:0a], nodst: true}\nentry: {dev: eth0}\n"))
	require.NoError(t, err)
	assert.Equal(t, [][6]byte{{2, 0, 0, 0, 0, 9}, {2, 0, 0, 0, 0, 0xa}}, s.Stack.Devices[1].SourceMACs)
	assert.True(t, s.Stack.Devices[1].NoDst)
	for _, tc := range []struct{ name, dev, want string }{
		{"no link", "{name: mv0, kind: macvlan, netns: pod}", "t.yaml:5:5: device mv0: a macvlan needs its lower device (link)"},
		{"unknown mode", "{name: mv0, kind: macvlan, link: eth0, mode: sink}",
			`t.yaml:5:50: device mv0: mode: unknown value "sink" (known: bridge, private, vepa, passthru, source)`},
		{"link on a veth", "{name: v0, kind: veth, peer: v1, link: eth0}", "t.yaml:5:5: device v0: link, mode, source_macs and nodst are for macvlan devices (and mode for netkit)"},
		{"source_macs in bridge mode", "{name: mv0, kind: macvlan, link: eth0, source_macs: [02:00:00:00:00:09]}",
			"t.yaml:5:5: device mv0: source_macs are for a source-mode macvlan"},
		{"bad source address", "{name: mv0, kind: macvlan, link: eth0, mode: source, source_macs: [02:00]}",
			`t.yaml:5:72: device mv0: source_macs: want a MAC address like 02:00:00:00:00:01, got "02:00"`},
		{"lower in another namespace", "{name: mv0, kind: macvlan, netns: pod, link: eth0}", `t.yaml:5:5: device mv0: no lower device "eth0" in namespace pod`},
		{"mtu above the lower device's", "{name: mv0, kind: macvlan, link: eth0, mtu: 1600}", "t.yaml:5:5: device mv0: mtu 1600 above its lower device's 1500"},
		{"address of the lower device", "{name: mv0, kind: macvlan, link: eth0, mac: 02:00:00:00:00:01}\n  - {name: eth1, kind: nic, mac: 02:00:00:00:00:01}\n  - {name: mv1, kind: macvlan, link: eth1, mac: 02:00:00:00:00:01}",
			"t.yaml:7:5: device mv1: address 02:00:00:00:00:01 is the lower device's"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(head+"  - "+tc.dev+"\nentry: {dev: eth0}\n"))
			require.ErrorIs(t, err, ErrScenario)
			require.EqualError(t, err, tc.want)
		})
	}
}

// TestParseBridgePortFlags: hairpin, isolated, flood and learning on a
// bridge port; on any other device they are an error at its line.
func TestParseBridgePortFlags(t *testing.T) {
	s, err := Parse("t.yaml", []byte("devices:\n  - {name: br0, kind: bridge}\n  - {name: p0, kind: veth, peer: p1, master: br0, hairpin: true, isolated: true, flood: off, mcast_flood: off, bcast_flood: off, learning: off}\nentry: {dev: p0}\n"))
	require.NoError(t, err)
	p := s.Stack.Devices[1]
	assert.True(t, p.Hairpin)
	assert.True(t, p.Isolated)
	assert.True(t, p.NoFlood)
	assert.True(t, p.NoMcastFlood)
	assert.True(t, p.NoBcastFlood)
	assert.True(t, p.NoLearning)
	_, err = Parse("t.yaml", []byte("devices:\n  - {name: eth0, kind: nic, hairpin: true}\nentry: {dev: eth0}\n"))
	require.ErrorIs(t, err, ErrScenario)
	require.EqualError(t, err, "t.yaml:2:5: device eth0: hairpin, isolated, flood, mcast_flood, bcast_flood and learning are bridge port flags (set master)")
}

// TestParseGroupFwdMask: group_fwd_mask on a bridge and a port, and the
// bits the kernel refuses, at their lines.
func TestParseGroupFwdMask(t *testing.T) {
	s, err := Parse("t.yaml", []byte("devices:\n  - {name: br0, kind: bridge, group_fwd_mask: 0x4000}\n  - {name: p0, kind: veth, peer: p1, master: br0, group_fwd_mask: 12}\nentry: {dev: p0}\n"))
	require.NoError(t, err)
	assert.Equal(t, uint16(0x4000), s.Stack.Devices[0].GroupFwdMask)
	assert.Equal(t, uint16(12), s.Stack.Devices[1].GroupFwdMask)
	for _, tc := range []struct{ name, devs, want string }{
		{"bridge, STP", "  - {name: br0, kind: bridge, group_fwd_mask: 1}\n  - {name: p0, kind: veth, peer: p1, master: br0}\n",
			"t.yaml:2:5: device br0: group_fwd_mask 0x1: a bridge cannot forward STP, MAC pause or LACP frames (bits 0-2: EINVAL)"},
		{"port, MAC pause", "  - {name: br0, kind: bridge}\n  - {name: p0, kind: veth, peer: p1, master: br0, group_fwd_mask: 0x2}\n",
			"t.yaml:3:5: device p0: group_fwd_mask 0x2: a bridge port cannot forward MAC pause frames (bit 1: EINVAL)"},
		{"not a port", "  - {name: p0, kind: veth, peer: p1, group_fwd_mask: 8}\n",
			"t.yaml:2:5: device p0: group_fwd_mask is a bridge's or a bridge port's (set master)"},
		{"too wide", "  - {name: br0, kind: bridge, group_fwd_mask: 0x10000}\n  - {name: p0, kind: veth, peer: p1, master: br0}\n",
			"t.yaml:2:47: device br0: group_fwd_mask: 65536 out of range [0, 65535]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte("devices:\n"+tc.devs+"entry: {dev: p0}\n"))
			require.ErrorIs(t, err, ErrScenario)
			require.EqualError(t, err, tc.want)
		})
	}
}

// TestParseSocketJoin: a socket's multicast groups, each a group or
// {group, dev}; a group that is not IPv4 multicast, an unknown device and
// a group no route leads to are errors at their lines.
func TestParseSocketJoin(t *testing.T) {
	const head = "devices:\n  - {name: eth0, kind: nic, addr: 10.0.0.1/24}\nroutes:\n  - {dst: 224.0.0.0/4, dev: eth0}\nentry: {dev: eth0}\nsockets:\n"
	s, err := Parse("t.yaml", []byte(head+"  - {name: m, proto: udp, port: 5353, multicast_loop: off, join: [224.0.0.251, {group: 239.1.2.3, dev: eth0}]}\n"))
	require.NoError(t, err)
	assert.True(t, s.Stack.Sockets[0].NoMulticastLoop)
	assert.Equal(t, []netstack.GroupJoin{{Group: netip.MustParseAddr("224.0.0.251")}, {Group: netip.MustParseAddr("239.1.2.3"), Dev: "eth0"}},
		s.Stack.Sockets[0].Join)
	for _, tc := range []struct{ name, src, want string }{
		{"unicast group", head + "  - {name: m, proto: udp, port: 5353, join: [10.0.0.9]}\n",
			"t.yaml:7:46: socket m: join: 10.0.0.9 is not an IPv4 multicast group"},
		{"unknown device", head + "  - {name: m, proto: udp, port: 5353, join: [{group: 239.1.2.3, dev: eth9}]}\n",
			`t.yaml:7:5: socket m: join: no device "eth9" in namespace host`},
		{"no route", "devices:\n  - {name: eth0, kind: nic}\nentry: {dev: eth0}\nsockets:\n  - {name: m, proto: udp, port: 5353, join: [239.1.2.3]}\n",
			"t.yaml:5:5: socket m: join 239.1.2.3: no route to the group picks a device (ENODEV); name one with dev"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tc.src))
			require.ErrorIs(t, err, ErrScenario)
			require.EqualError(t, err, tc.want)
		})
	}
}

// TestParseRouteInput: rp_filter, accept_local, route_localnet,
// send_redirects and the ICMP echo and error sysctls reach the
// namespace's configuration; bad values are errors at their line and
// column.
func TestParseRouteInput(t *testing.T) {
	src := `namespaces:
  - {name: a, rp_filter: 1, accept_local: true, route_localnet: true, send_redirects: false, shared_media: false}
  - {name: b, rp_filter: 2, send_redirects: true, icmp_echo_ignore_all: true, icmp_echo_ignore_broadcasts: false,
     icmp_errors_use_inbound_ifaddr: true, icmpv6_echo_ignore_all: true, icmpv6_echo_ignore_multicast: true}
  - c
entry: {dev: lo}
`
	s, err := Parse("t.yaml", []byte(src))
	require.NoError(t, err)
	var got []string
	for _, n := range s.Stack.Namespaces {
		got = append(got, fmt.Sprintf("%s %d %v %v %v %v %v %v %v %v", n.Name, n.RPFilter, n.AcceptLocal, n.RouteLocalnet, n.NoSendRedirects,
			n.ICMPEchoIgnoreAll, n.ICMPEchoAnswerBroadcasts, n.ICMPErrorsUseInboundIfaddr, n.ICMPv6EchoIgnoreAll, n.ICMPv6EchoIgnoreMulticast))
	}
	assert.True(t, s.Stack.Namespaces[0].NoSharedMedia)
	assert.False(t, s.Stack.Namespaces[1].NoSharedMedia)
	assert.Equal(t, []string{"a 1 true true true false false false false false", "b 2 false false false true true true true true",
		"c 0 false false false false false false false false"}, got)
	for _, tc := range []struct{ src, want string }{
		{"namespaces:\n  - {name: a, rp_filter: 3}\nentry: {dev: lo}\n", "t.yaml:2:26: namespace a: rp_filter: 3 out of range"},
		{"namespaces:\n  - {name: a, accept_local: yes please}\nentry: {dev: lo}\n", `t.yaml:2:29: namespace a: accept_local: want true or false`},
		{"namespaces:\n  - {name: a, send_redirects: 0}\nentry: {dev: lo}\n", `t.yaml:2:31: namespace a: send_redirects: want true or false, got "0"`},
	} {
		_, err := Parse("t.yaml", []byte(tc.src))
		require.Error(t, err)
		assert.Contains(t, err.Error(), tc.want)
	}
}

// TestParseReplies: options.replies, fwmark_reflect and icmp_ratelimit
// (milliseconds; 0 is the sysctl's 0, no per-peer limit) reach the stack's
// configuration; bad values are errors at their line and column.
func TestParseReplies(t *testing.T) {
	src := `options: {replies: true}
namespaces:
  - {name: a, fwmark_reflect: true, icmp_ratelimit: 100, ipv6_fwmark_reflect: true, icmpv6_ratelimit: 0}
  - {name: b, icmp_ratelimit: 0, icmpv6_ratelimit: 20}
  - c
entry: {dev: lo}
`
	s, err := Parse("t.yaml", []byte(src))
	require.NoError(t, err)
	assert.True(t, s.Stack.Options.Replies)
	var got []string
	for _, n := range s.Stack.Namespaces {
		got = append(got, fmt.Sprintf("%s %v %d %v %d", n.Name, n.FwmarkReflect, n.ICMPRatelimit, n.IPv6FwmarkReflect, n.ICMPv6Ratelimit))
	}
	assert.Equal(t, []string{"a true 100 true -1", "b false -1 false 20", "c false 0 false 0"}, got)
	for _, tc := range []struct{ src, want string }{
		{"options: {replies: 1}\nentry: {dev: lo}\n", `t.yaml:1:20: options.replies: want true or false, got "1"`},
		{"namespaces:\n  - {name: a, icmp_ratelimit: -5}\nentry: {dev: lo}\n", "t.yaml:2:31: namespace a: icmp_ratelimit: -5 out of range"},
		{"namespaces:\n  - {name: a, fwmark_reflect: 2}\nentry: {dev: lo}\n", `t.yaml:2:31: namespace a: fwmark_reflect: want true or false, got "2"`},
	} {
		_, err := Parse("t.yaml", []byte(tc.src))
		require.Error(t, err)
		assert.Contains(t, err.Error(), tc.want)
	}
}

// TestParseRules: rules (ip rule), a route's table and src_valid_mark
// reach the stack's configuration; bad ones are errors at their line.
func TestParseRules(t *testing.T) {
	src := `namespaces:
  - {name: a, src_valid_mark: true}
devices:
  - {name: eth0, kind: nic, netns: a, addr: 192.0.2.1/24}
routes:
  - {netns: a, dst: default, dev: eth0, via: 192.0.2.254, table: 100}
  - {netns: a, dst: 198.51.100.0/24, dev: eth0, table: main}
  - {netns: a, dst: 10.0.0.0/8, type: throw, table: 100}
rules:
  - {netns: a, priority: 100, fwmark: 0x1, table: 100}
  - {netns: a, from: 10.0.0.0/8, to: 203.0.113.0/24, iif: eth0, fwmark: 0x10/0xf0, not: true, table: 100}
  - {netns: a, table: main, suppress_prefixlength: 0}
  - {netns: a, family: inet6, type: unreachable}
  - {netns: a, ipproto: udp, sport: 1000-2000, dport: 53, tun_id: 42, table: 100}
  - {netns: a, priority: 50, fwmark: 0x2, type: goto, goto: 200}
  - {netns: a, tos: 0x10, table: 100}
  - {netns: a, uidrange: 1000-1999, table: 100}
entry: {netns: a, dev: eth0}
`
	s, err := Parse("t.yaml", []byte(src))
	require.NoError(t, err)
	assert.True(t, s.Stack.Namespaces[0].SrcValidMark)
	assert.Equal(t, []uint32{100, 254}, []uint32{s.Stack.Routes[0].Table, s.Stack.Routes[1].Table})
	assert.Equal(t, netstack.RouteThrow, s.Stack.Routes[2].Type)
	r := s.Stack.Rules
	require.Len(t, r, 8)
	assert.Equal(t, netstack.RuleConfig{Netns: "a", MatchUID: true, UIDRange: [2]uint32{1000, 1999}, Table: 100}, r[7])
	assert.Equal(t, netstack.RuleConfig{Netns: "a", TOS: 0x10, Table: 100}, r[6])
	assert.Equal(t, netstack.RuleConfig{Netns: "a", Priority: 50, FwMark: 2, Type: netstack.RuleGoto, Goto: 200}, r[5])
	fwd, err := Parse("f.yaml", []byte("devices:\n  - {name: e, kind: nic}\nprograms:\n  - {name: p, hook: tc_ingress, dev: e, actions: [{fib_forward: {mark: true, skip_neigh: true}}]}\nentry: {dev: e}\n"))
	require.NoError(t, err)
	assert.Equal(t, uint64(netstack.FibLookupMark|netstack.FibLookupSkipNeigh), fwd.Stack.Programs[0].Actions[0].Value, "fib_forward's flags")
	assert.Equal(t, netstack.RuleConfig{Netns: "a", IPProto: 17, Sport: [2]uint16{1000, 2000}, Dport: [2]uint16{53, 53}, TunID: 42, Table: 100}, r[4])
	assert.Equal(t, netstack.RuleConfig{Netns: "a", Priority: 100, FwMark: 1, Table: 100}, r[0])
	assert.Equal(t, netstack.RuleConfig{Netns: "a", From: netip.MustParsePrefix("10.0.0.0/8"), To: netip.MustParsePrefix("203.0.113.0/24"),
		IIF: "eth0", FwMark: 0x10, FwMask: 0xf0, Not: true, Table: 100}, r[1])
	assert.Equal(t, netstack.RuleConfig{Netns: "a", Table: 254, Suppress: true}, r[2])
	assert.Equal(t, netstack.RuleConfig{Netns: "a", IPv6: true, Type: netstack.RuleUnreachable}, r[3])
	for _, tc := range []struct{ src, want string }{
		{"rules:\n  - {fwmark: 1x}\nentry: {dev: lo}\n", "t.yaml:2:14: rule.fwmark: want MARK or MARK/MASK"},
		{"rules:\n  - {fwmark: 1/0}\nentry: {dev: lo}\n", "t.yaml:2:14: rule.fwmark: mask 0 selects every mark"},
		{"rules:\n  - {table: local}\nentry: {dev: lo}\n", "t.yaml:2:13: rule.table: table local is not modelled"},
		{"rules:\n  - {table: 0}\nentry: {dev: lo}\n", "t.yaml:2:13: rule.table (a number, main, local or default): 0 out of range"},
		{"rules:\n  - {type: blackhole, table: 100}\nentry: {dev: lo}\n", "t.yaml:2:5: rule: a blackhole rule has no table"},
		{"rules:\n  - {type: jump}\nentry: {dev: lo}\n", `t.yaml:2:12: rule.type: unknown value "jump"`},
		{"rules:\n  - {from: 10.0.0.0/8, to: 2001:db8::/32}\nentry: {dev: lo}\n", "t.yaml:2:5: rule: from 10.0.0.0/8 and to 2001:db8::/32 are of two families"},
		{"rules:\n  - {family: inet6, from: 10.0.0.0/8}\nentry: {dev: lo}\n", "t.yaml:2:5: rule: prefix 10.0.0.0/8 is not of family inet6"},
		{"rules:\n  - {iif: eth9, table: 100}\nentry: {dev: lo}\n", `t.yaml:2:5: rule: no device "eth9" in namespace host`},
		{"rules:\n  - {priority: 10, l3mdev: true}\nentry: {dev: lo}\n", `t.yaml:2:20: rule: unknown key "l3mdev"`},
		{"rules:\n  - {uidrange: 5-1, table: 100}\nentry: {dev: lo}\n", "t.yaml:2:16: rule.uidrange: want LOW-HIGH uids"},
		{"rules:\n  - {tos: 0x11, table: 100}\nentry: {dev: lo}\n", "t.yaml:2:11: rule.tos: 0x11 has ECN bits set"},
		{"rules:\n  - {tos: 0xb8, table: 100}\nentry: {dev: lo}\n", "t.yaml:2:5: rule: tos 0xb8 is not an IPv4 TOS"},
		{"rules:\n  - {type: goto}\nentry: {dev: lo}\n", "t.yaml:2:5: rule: type goto and goto (the priority to jump to) go together"},
		{"rules:\n  - {priority: 300, type: goto, goto: 200}\nentry: {dev: lo}\n", "t.yaml:2:5: rule: goto 200 is not after priority 300"},
		{"rules:\n  - {dport: 2000-1000, table: 100}\nentry: {dev: lo}\n", `t.yaml:2:13: rule.dport: want a port or a range LOW-HIGH`},
		{"rules:\n  - {sport: 0, table: 100}\nentry: {dev: lo}\n", `t.yaml:2:13: rule.sport: want a port`},
		{"rules:\n  - {ipproto: quic, table: 100}\nentry: {dev: lo}\n", `t.yaml:2:15: rule.ipproto (a number or tcp`},
		{"routes:\n  - {dst: 10.0.0.0/8, dev: lo, table: local}\nentry: {dev: lo}\n", "t.yaml:2:5: route: table 255 for a unicast route"},
	} {
		_, err := Parse("t.yaml", []byte(tc.src))
		require.Error(t, err, tc.src)
		assert.Contains(t, err.Error(), tc.want)
	}
}

// TestParseMultipath: multipath routes' nexthops, the namespaces'
// multipath sysctls and the boot seed, and the errors of each.
func TestParseMultipath(t *testing.T) {
	src := `namespaces:
  - {name: a, forwarding: true, fib_multipath_hash_policy: l4, ipv6_fib_multipath_hash_policy: 3,
     fib_multipath_hash_fields: 0x37, ipv6_fib_multipath_hash_fields: [src_ip, dst_ip, flowlabel, inner_dst_port],
     fib_multipath_hash_seed: 0x12345678, fib_multipath_use_neigh: true}
options: {multipath_boot_seed: 7}
devices:
  - {name: eth0, kind: nic, netns: a, addr: 192.0.2.1/24}
  - {name: eth1, kind: nic, netns: a, addr: 198.51.100.1/24}
routes:
  - {netns: a, dst: 203.0.113.0/24, nexthops: [{dev: eth0, via: 192.0.2.2}, {dev: eth1, via: 198.51.100.2, weight: 3}]}
entry: {netns: a, dev: eth0}
`
	s, err := Parse("t.yaml", []byte(src))
	require.NoError(t, err)
	ns := s.Stack.Namespaces[0]
	assert.Equal(t, netstack.NamespaceConfig{Name: "a", Forwarding: true, MultipathHashPolicy: netstack.MultipathL4,
		MultipathHashPolicy6: netstack.MultipathCustom, MultipathHashFields: 0x37,
		MultipathHashFields6: netstack.MultipathFieldSrcIP | netstack.MultipathFieldDstIP | netstack.MultipathFieldFlowLabel |
			netstack.MultipathFieldInnerDstPort,
		MultipathHashSeed: 0x12345678, MultipathUseNeigh: true}, ns)
	assert.Equal(t, uint32(7), s.Stack.Options.MultipathBootSeed)
	assert.Equal(t, []netstack.NexthopConfig{{Dev: "eth0", Via: netip.MustParseAddr("192.0.2.2")},
		{Dev: "eth1", Via: netip.MustParseAddr("198.51.100.2"), Weight: 3}}, s.Stack.Routes[0].Nexthops)
	for _, tc := range []struct{ src, want string }{
		{"routes:\n  - {dst: 10.0.0.0/8, dev: lo, nexthops: [{dev: lo}]}\nentry: {dev: lo}\n",
			"t.yaml:2:5: route: a multipath route (nexthops) has no dev or via of its own"},
		{"routes:\n  - {dst: 10.0.0.0/8, nexthops: []}\nentry: {dev: lo}\n", "t.yaml:2:33: route.nexthops: want at least one next hop"},
		{"routes:\n  - {dst: 10.0.0.0/8, nexthops: [{via: 10.0.0.1}]}\nentry: {dev: lo}\n", `t.yaml:2:34: nexthop: missing "dev"`},
		{"routes:\n  - {dst: 10.0.0.0/8, nexthops: [{dev: lo, weight: 0}]}\nentry: {dev: lo}\n", "t.yaml:2:52: nexthop.weight: 0 out of range [1, 256]"},
		{"routes:\n  - {dst: 10.0.0.0/8, nexthops: [{dev: lo, realm: 1}]}\nentry: {dev: lo}\n", `unknown key "realm"`},
		{"namespaces:\n  - {name: a, fib_multipath_hash_policy: 4}\nentry: {dev: lo}\n",
			`t.yaml:2:42: namespace a: fib_multipath_hash_policy: want 0 to 3 or one of l3, l4, l3_inner, custom, got "4"`},
		{"namespaces:\n  - {name: a, fib_multipath_hash_fields: [src_mac]}\nentry: {dev: lo}\n",
			`t.yaml:2:43: namespace a: fib_multipath_hash_fields: unknown field "src_mac"`},
		{"namespaces:\n  - {name: a, fib_multipath_hash_fields: 0x1000}\nentry: {dev: lo}\n",
			"t.yaml:2:42: namespace a: fib_multipath_hash_fields: 4096 out of range [1, 4095]"},
		{"namespaces:\n  - {name: a, fib_multipath_hash_seed: -1}\nentry: {dev: lo}\n",
			"t.yaml:2:40: namespace a: fib_multipath_hash_seed: -1 out of range"},
	} {
		_, err := Parse("t.yaml", []byte(tc.src))
		require.Error(t, err, tc.src)
		assert.Contains(t, err.Error(), tc.want)
	}
}

// TestParseNexthopObjects: nexthop objects (a next hop, a blackhole, a
// group with weights) and routes naming them by nhid, and their errors.
func TestParseNexthopObjects(t *testing.T) {
	src := `devices:
  - {name: eth0, kind: nic, addr: 192.0.2.1/24}
  - {name: eth1, kind: nic, addr: 198.51.100.1/24}
nexthop_objects:
  - {id: 1, dev: eth0, via: 192.0.2.2}
  - {id: 2, dev: eth1, via: 198.51.100.2}
  - {id: 5, blackhole: true}
  - {id: 10, group: [{id: 1}, {id: 2, weight: 3}]}
routes:
  - {dst: 203.0.113.0/24, nhid: 10}
  - {dst: 10.0.0.0/8, nhid: 5}
entry: {dev: eth0}
`
	s, err := Parse("t.yaml", []byte(src))
	require.NoError(t, err)
	assert.Equal(t, []netstack.NexthopObjConfig{
		{Netns: "host", ID: 1, Dev: "eth0", Via: netip.MustParseAddr("192.0.2.2")},
		{Netns: "host", ID: 2, Dev: "eth1", Via: netip.MustParseAddr("198.51.100.2")},
		{Netns: "host", ID: 5, Blackhole: true},
		{Netns: "host", ID: 10, Group: []netstack.NexthopGroupMember{{ID: 1}, {ID: 2, Weight: 3}}},
	}, s.Stack.NexthopObjects)
	assert.Equal(t, uint32(10), s.Stack.Routes[0].NHID)
	for _, tc := range []struct{ src, want string }{
		{"nexthop_objects:\n  - {dev: lo}\nentry: {dev: lo}\n", `t.yaml:2:5: nexthop object: missing "id"`},
		{"nexthop_objects:\n  - {id: 1}\nentry: {dev: lo}\n", "t.yaml:2:5: nexthop object 1: want one of dev"},
		{"nexthop_objects:\n  - {id: 1, via: 10.0.0.1}\nentry: {dev: lo}\n", "t.yaml:2:5: nexthop object 1: want one of dev"},
		{"nexthop_objects:\n  - {id: 1, group: []}\nentry: {dev: lo}\n", "t.yaml:2:20: nexthop object.group: want at least one member"},
		{"nexthop_objects:\n  - {id: 1, group: [{id: 2, weight: 0}]}\nentry: {dev: lo}\n", "group member.weight: 0 out of range"},
		{"nexthop_objects:\n  - {id: 1, dev: eth7}\nentry: {dev: lo}\n", `t.yaml:2:5: nexthop object 1: no device "eth7" in namespace host`},
		{"routes:\n  - {dst: 10.0.0.0/8, nhid: 1, dev: lo}\nentry: {dev: lo}\n", "t.yaml:2:5: route: a route with nhid has no dev, via or nexthops"},
	} {
		_, err := Parse("t.yaml", []byte(tc.src))
		require.Error(t, err, tc.src)
		assert.Contains(t, err.Error(), tc.want)
	}
}

// TestParseNetkit: a netkit pair's keys, its programs' hooks, and the
// errors netkit_new_link, netkit_dev_fetch and the profile give, at their
// lines.
func TestParseNetkit(t *testing.T) {
	const head = "namespaces: [{name: pod}]\ndevices:\n  - {name: eth0, kind: nic}\n"
	s, err := Parse("t.yaml", []byte(head+"  - {name: nk0, kind: netkit, peer: nk1, peer_netns: pod, mode: l2, policy: blackhole, peer_policy: forward,"+
		" scrub: none, peer_scrub: default, headroom: 128, tailroom: 32, mac: 02:00:00:00:00:0a, addr: 10.0.1.1/24, peer_addr: 10.0.1.2/24}\n"+
		"  - {name: d0, kind: dummy, netns: pod}\n"+
		"programs:\n  - {name: p, hook: netkit_primary, dev: nk0, actions: [{redirect: {target: d0}}]}\n"+
		"  - {name: q, hook: netkit_peer, dev: nk0, actions: [count]}\n"+
		"entry: {dev: eth0}\n"))
	require.NoError(t, err)
	nk := s.Stack.Devices[1]
	assert.Equal(t, netstack.DeviceConfig{Name: "nk0", Kind: netstack.KindNetkit, Netns: netstack.HostNetns, Peer: "nk1", PeerNetns: "pod",
		Mode: netstack.NetkitL2, Policy: netstack.NetkitBlackhole, PeerPolicy: netstack.NetkitForward,
		Scrub: netstack.NetkitScrubNone, PeerScrub: netstack.NetkitScrubDefault, Headroom: 128, Tailroom: 32,
		MAC: [6]byte{2, 0, 0, 0, 0, 0xa}, Addrs: []netip.Prefix{netip.MustParsePrefix("10.0.1.1/24")},
		PeerAddrs: []netip.Prefix{netip.MustParsePrefix("10.0.1.2/24")}}, nk)
	assert.Equal(t, carrier.HookNetkitPrimary, s.Stack.Programs[0].Hook)
	assert.Equal(t, carrier.HookNetkitPeer, s.Stack.Programs[1].Hook)

	for _, tc := range []struct{ name, kernel, rest, want string }{
		{"no peer", "", "  - {name: nk0, kind: netkit}\n", "t.yaml:4:5: device nk0: a netkit needs a peer"},
		{"macvlan mode", "", "  - {name: nk0, kind: netkit, peer: nk1, mode: vepa}\n",
			`t.yaml:4:48: device nk0: mode: unknown value "vepa" (known: l3, l2)`},
		{"policy on a nic", "", "  - {name: e1, kind: nic, policy: blackhole}\n",
			"t.yaml:4:5: device e1: policy, peer_policy, scrub, peer_scrub, headroom and tailroom are for netkit devices"},
		{"headroom out of range", "", "  - {name: nk0, kind: netkit, peer: nk1, headroom: 70000}\n",
			"t.yaml:4:52: device nk0: headroom: 70000 out of range [0, 65535]"},
		{"before v6.7", "v6.6", "  - {name: nk0, kind: netkit, peer: nk1}\n",
			"t.yaml:5:5: device nk0: netkit needs kernel v6.7 or later, not v6.6"},
		{"scrub before v6.13", "v6.12", "  - {name: nk0, kind: netkit, peer: nk1, scrub: none}\n",
			"t.yaml:5:5: device nk0: netkit scrub (IFLA_NETKIT_SCRUB) needs kernel v6.13 or later, not v6.12"},
		{"address in l3 mode", "", "  - {name: nk0, kind: netkit, peer: nk1, mac: 02:00:00:00:00:0a}\n",
			"t.yaml:4:5: device nk0: a netkit device in l3 mode has no address (netkit_new_link: -EOPNOTSUPP); use mode l2"},
		{"program on the peer", "", "  - {name: nk0, kind: netkit, peer: nk1, peer_netns: pod}\nprograms:\n  - {name: p, hook: netkit_peer, netns: pod, dev: nk1, actions: [pass]}\n",
			"t.yaml:6:5: program p: nk1 is not the primary of a netkit pair in namespace pod (netkit programs of both ends attach through the primary)"},
		{"primary's target in the host", "", "  - {name: nk0, kind: netkit, peer: nk1, peer_netns: pod}\nprograms:\n  - {name: p, hook: netkit_primary, dev: nk0, actions: [{redirect: {target: eth0}}]}\n",
			`t.yaml:6:57: program p: redirect: no device "eth0" in namespace pod`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := head + tc.rest + "entry: {dev: eth0}\n"
			if tc.kernel != "" {
				src = "kernel: " + tc.kernel + "\n" + src
			}
			_, err := Parse("t.yaml", []byte(src))
			require.ErrorIs(t, err, ErrScenario)
			require.EqualError(t, err, tc.want)
		})
	}
}

func TestParseCarrier(t *testing.T) {
	const head = "namespaces: [{name: host, ignore_routes_with_linkdown: true, ipv6_ignore_routes_with_linkdown: true}, pod]\n" +
		"devices:\n  - {name: eth0, kind: nic}\n"
	s, err := Parse("t.yaml", []byte(head+"  - {name: eth1, kind: nic, carrier: false}\n"+
		"  - {name: v0, kind: veth, peer: v1, peer_netns: pod, peer_down: true, peer_mtu: 1400}\n  - {name: d0, kind: dummy, carrier: true}\n"+
		"entry: {dev: eth0}\n"))
	require.NoError(t, err)
	assert.True(t, s.Stack.Namespaces[0].IgnoreRoutesWithLinkdown)
	assert.True(t, s.Stack.Namespaces[0].IPv6IgnoreRoutesWithLinkdown)
	assert.False(t, s.Stack.Namespaces[1].IgnoreRoutesWithLinkdown)
	assert.False(t, s.Stack.Devices[0].NoCarrier)
	assert.True(t, s.Stack.Devices[1].NoCarrier)
	assert.True(t, s.Stack.Devices[2].PeerDown)
	assert.False(t, s.Stack.Devices[3].NoCarrier)
	assert.Equal(t, 1400, s.Stack.Devices[2].PeerMTU)

	for _, tc := range []struct{ name, rest, want string }{
		{"carrier off on a veth", "  - {name: v0, kind: veth, peer: v1, carrier: false}\n",
			"t.yaml:4:5: device v0: carrier off on a veth device (a dummy's or a NIC's; the other kinds' carrier follows their state: EOPNOTSUPP)"},
		{"peer_down on a bridge", "  - {name: br0, kind: bridge, peer_down: true}\n",
			"t.yaml:4:5: device br0: peer_down on a bridge device (veth and netkit pairs only)"},
		{"carrier not a boolean", "  - {name: d0, kind: dummy, carrier: maybe}\n",
			"t.yaml:4:38: device d0: carrier: want true or false, got \"maybe\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(head+tc.rest+"entry: {dev: eth0}\n"))
			require.ErrorIs(t, err, ErrScenario)
			require.EqualError(t, err, tc.want)
		})
	}
}

func TestParseARPSysctls(t *testing.T) {
	s, err := Parse("t.yaml", []byte("namespaces: [{name: host, arp_ignore: 2, arp_filter: true, proxy_arp: true}]\ndevices:\n  - {name: eth0, kind: nic, proxy_arp: true}\nentry: {dev: eth0}\n"))
	require.NoError(t, err)
	assert.True(t, s.Stack.Namespaces[0].ProxyARP)
	assert.True(t, s.Stack.Devices[0].ProxyARP)
	assert.Equal(t, 2, s.Stack.Namespaces[0].ARPIgnore)
	assert.True(t, s.Stack.Namespaces[0].ARPFilter)
	_, err = Parse("t.yaml", []byte("namespaces: [{name: host, arp_ignore: 9}]\ndevices:\n  - {name: eth0, kind: nic}\nentry: {dev: eth0}\n"))
	require.ErrorIs(t, err, ErrScenario)
	require.ErrorContains(t, err, "t.yaml:1:39: namespace host: arp_ignore")
}

// TestParseBridgeVLANs: vlan_filtering, vlan_default_pvid and vlans on a
// bridge and its ports, an fdb entry's vlan, and the errors at their
// lines.
func TestParseBridgeVLANs(t *testing.T) {
	const head = "devices:\n  - {name: br0, kind: bridge, vlan_filtering: true, vlan_default_pvid: 0, vlans: [{vid: 20}]}\n"
	s, err := Parse("t.yaml", []byte(head+
		"  - {name: p0, kind: veth, peer: p1, master: br0, vlans: [{vid: 10, pvid: true, untagged: true}, {vid: 1, del: true}]}\n"+
		"fdb:\n  - {dev: p0, mac: 02:00:00:00:00:09, vlan: 10}\nentry: {dev: p0}\n"))
	require.NoError(t, err)
	br, p := s.Stack.Devices[0], s.Stack.Devices[1]
	assert.True(t, br.VLANFiltering)
	assert.True(t, br.NoDefaultPVID)
	assert.Equal(t, []netstack.BridgeVLAN{{VID: 20}}, br.VLANs)
	assert.Equal(t, []netstack.BridgeVLAN{{VID: 10, PVID: true, Untagged: true}, {VID: 1, Del: true}}, p.VLANs)
	assert.Equal(t, uint16(10), s.Stack.FDB[0].VLAN)

	for _, tc := range []struct{ name, rest, want string }{
		{"vid 0", "  - {name: p0, kind: veth, peer: p1, master: br0, vlans: [{vid: 0}]}\n",
			"t.yaml:3:65: vlan.vid: 0 out of range [1, 4094]"},
		{"no vid", "  - {name: p0, kind: veth, peer: p1, master: br0, vlans: [{pvid: true}]}\n",
			`t.yaml:3:59: vlan: missing "vid"`},
		{"del with pvid", "  - {name: p0, kind: veth, peer: p1, master: br0, vlans: [{vid: 3, del: true, pvid: true}]}\n",
			"t.yaml:3:59: vlan 3: del takes no pvid or untagged"},
		{"vlans on a port-less veth", "  - {name: p0, kind: veth, peer: p1, vlans: [{vid: 3}]}\n",
			"t.yaml:3:5: device p0: vlans are a bridge's or a bridge port's (set master)"},
		{"filtering on a veth", "  - {name: p0, kind: veth, peer: p1, master: br0, vlan_filtering: true}\n",
			"t.yaml:3:5: device p0: vlan_filtering and vlan_default_pvid are a bridge's"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(head+tc.rest+"entry: {dev: p0}\n"))
			require.ErrorIs(t, err, ErrScenario)
			require.EqualError(t, err, tc.want)
		})
	}
}

// TestParseProxyNeighbours: proxy entries, proxy_ndp and proxy_delay, and
// the errors at their lines.
func TestParseProxyNeighbours(t *testing.T) {
	const head = "namespaces: [{name: host, proxy_ndp: true, icmpv6_echo_ignore_anycast: true, anycast_src_echo_reply: true}]\ndevices:\n  - {name: eth0, kind: nic, proxy_ndp: true, proxy_delay: 0}\n  - {name: eth1, kind: nic, proxy_delay: 80}\n"
	s, err := Parse("t.yaml", []byte(head+"neighbours:\n  - {dev: eth0, addr: \"fd00:9::5\", proxy: true, router: true}\n  - {dev: eth0, addr: 198.51.100.7, proxy: true}\nentry: {dev: eth0}\n"))
	require.NoError(t, err)
	assert.True(t, s.Stack.Namespaces[0].ProxyNDP)
	assert.True(t, s.Stack.Namespaces[0].ICMPv6EchoIgnoreAnycast)
	assert.True(t, s.Stack.Namespaces[0].AnycastSrcEchoReply)
	assert.True(t, s.Stack.Devices[0].ProxyNDP)
	assert.True(t, s.Stack.Devices[0].NoProxyDelay)
	assert.False(t, s.Stack.Devices[1].NoProxyDelay)
	assert.Equal(t, netstack.NeighConfig{Netns: "host", Dev: "eth0", Addr: netip.MustParseAddr("fd00:9::5"), Proxy: true, Router: true}, s.Stack.Neighbours[0])
	assert.True(t, s.Stack.Neighbours[1].Proxy)
	for _, tc := range []struct{ name, rest, want string }{
		{"proxy with a mac", "  - {dev: eth0, addr: 198.51.100.7, proxy: true, mac: 02:00:00:00:00:01}\n", "t.yaml:6:55: neighbour: a proxy entry has no mac"},
		{"router without proxy", "  - {dev: eth0, addr: \"fd00::1\", mac: 02:00:00:00:00:01, router: true}\n", "t.yaml:6:66: neighbour: router is for proxy entries"},
		{"router for IPv4", "  - {dev: eth0, addr: 198.51.100.7, proxy: true, router: true}\n", "t.yaml:6:5: neighbour: router is for IPv6 proxy entries"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(head+"neighbours:\n"+tc.rest+"entry: {dev: eth0}\n"))
			require.ErrorIs(t, err, ErrScenario)
			require.EqualError(t, err, tc.want)
		})
	}
}
