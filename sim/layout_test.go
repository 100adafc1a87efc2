package sim

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/netstack"
)

// TestLayoutWhere checks the location layoutOf gives each kind of attach
// point: the kind is named, a cgroup path is not joined to a namespace, a
// socket filter is in its socket's namespace, and the defaults (root
// cgroup, kfree_skb) are spelled out.
func TestLayoutWhere(t *testing.T) {
	const src = `namespaces: [pod]
devices:
  - {name: eth0, kind: nic, addr: 192.0.2.1/24}
  - {name: veth0, kind: veth, peer: eth0, peer_netns: pod}
sockets:
  - {name: app, netns: pod, proto: udp, port: 53, cgroup: /srv/app}
  - {name: web, proto: tcp, port: 80}
programs:
  - {name: xdp, hook: xdp, dev: eth0, actions: [count]}
  - {name: tc_in, hook: tc_ingress, dev: eth0, actions: [count]}
  - {name: tc_pod, hook: tc_egress, netns: pod, dev: eth0, actions: [count]}
  - {name: cg_srv, hook: cgroup_ingress, cgroup: /srv, actions: [count]}
  - {name: cg_pod, hook: cgroup_egress, netns: pod, cgroup: /srv/app, actions: [count]}
  - {name: cg_root, hook: cgroup_ingress, actions: [count]}
  - {name: sk_app, hook: socket_filter, netns: pod, socket: app, actions: [count]}
  - {name: sk_app_nons, hook: socket_filter, socket: app, actions: [count]}
  - {name: sk_web, hook: socket_filter, socket: web, actions: [count]}
  - {name: tp_drop, hook: tracepoint, actions: [count]}
  - {name: tp_consume, hook: tracepoint, event: consume_skb, actions: [count]}
entry: {dev: eth0}
`
	s, err := Parse("where.yaml", []byte(src))
	require.NoError(t, err)
	lay := layoutOf(s)
	got := map[string]string{}
	for _, p := range lay.progs {
		got[p.name] = p.where
	}
	for _, tt := range []struct{ prog, where string }{
		{"xdp", "dev host/eth0"},
		{"tc_in", "dev host/eth0"},
		{"tc_pod", "dev pod/eth0"},
		{"cg_srv", "cgroup /srv"},
		{"cg_pod", "cgroup /srv/app"},
		{"cg_root", "cgroup /"},
		{"sk_app", "socket pod/app"},
		{"sk_app_nons", "socket pod/app"},
		{"sk_web", "socket host/web"},
		{"tp_drop", "event kfree_skb"},
		{"tp_consume", "event consume_skb"},
	} {
		assert.Equal(t, tt.where, got[tt.prog], tt.prog)
	}
	assert.Len(t, got, 11)

	// sockops and lsm programs (set in Go here), and a hook without a
	// known attach point, which still prints every field after its kind.
	s.Stack.Programs = []netstack.ProgramConfig{
		{Name: "ops", Hook: carrier.HookSockOps, Netns: "host", Cgroup: "/srv"},
		{Name: "lsm", Hook: carrier.HookLSM, Netns: "host"},
		{Name: "lsm_req", Hook: carrier.HookLSM, Netns: "host", Event: netstack.EventInetConnRequest},
		{Name: "ops_passive", Hook: carrier.HookSockOps, Netns: "host", Event: netstack.EventPassiveEstablished},
		{Name: "odd", Hook: carrier.NumHooks, Netns: "pod", Dev: "eth0", Socket: "app"},
		{Name: "bare", Hook: carrier.NumHooks, Netns: "pod"},
	}
	var wheres []string
	for _, p := range layoutOf(s).progs {
		wheres = append(wheres, p.where)
	}
	assert.Equal(t, []string{"cgroup /srv", "lsm inet_conn_established", "lsm inet_conn_request",
		"cgroup / event passive_established", "dev pod/eth0, socket app", "netns pod"}, wheres)
}
