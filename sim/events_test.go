package sim

import (
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/capture"
	"github.com/skbsim/skbsim/capture/capturetest"
	"github.com/skbsim/skbsim/internal/testutil"
	"github.com/skbsim/skbsim/netstack"
)

// TestLinkEvents replays the built-in scenario with the host's veth0
// going down at packet 1000 and up at 2000 (its default route is gone
// for good: IP_INNOROUTES from then on), and eth0's carrier off from
// 3000 to 3500 (those packets are not received). The report is the same
// for every number of workers.
func TestLinkEvents(t *testing.T) {
	pcap := capturetest.MustGenerate(t, capture.GenSpec{Preset: "mixed", Seed: testutil.Seed(t), Packets: 4000})
	base := mustReplay(t, mustBuiltin(t), []string{pcap}, Options{})
	require.Zero(t, Count(base.Outcomes, outcomeNames[outNoLink]))

	s := mustBuiltin(t)
	s.Events = []netstack.Event{{At: 1000, Netns: "host", Dev: "veth0", Op: netstack.LinkDown},
		{At: 2000, Netns: "host", Dev: "veth0", Op: netstack.LinkUp},
		{At: 3000, Netns: "host", Dev: "eth0", Op: netstack.CarrierOff},
		{At: 3500, Netns: "host", Dev: "eth0", Op: netstack.CarrierOn}}
	var want []byte
	for _, j := range []int{1, 2, 3, 0} {
		opts := Options{Workers: j}
		if j == 0 {
			opts = Options{Workers: 1, Trace: io.Discard}
		}
		rep := mustReplay(t, s, []string{pcap}, opts)
		require.True(t, rep.Complete)
		require.Empty(t, rep.Leaks)
		require.Zero(t, rep.LiveObjectsAtEnd)
		var buf bytes.Buffer
		require.NoError(t, rep.WriteJSON(&buf))
		if want == nil {
			want = buf.Bytes()
			require.Len(t, rep.Events, 4)
			assert.Equal(t, EventRow{At: 3000, Command: "ip -n host link set eth0 carrier off", Applied: true}, rep.Events[2])
			assert.EqualValues(t, 500, Count(rep.Outcomes, outcomeNames[outNoLink]), "packets 3000 to 3499")
			assert.Greater(t, Count(rep.Drops, "IP_INNOROUTES"), Count(base.Drops, "IP_INNOROUTES")+1000, "from packet 1000 on, less those to the host and the container")
			continue
		}
		assert.Equal(t, string(want), buf.String(), "-j %d report differs from -j 1 (0: traced)", j)
	}
}

// TestLinkEventTrace: a traced packet after an event shows it.
func TestLinkEventTrace(t *testing.T) {
	pcap := capturetest.MustGenerate(t, capture.GenSpec{Preset: "mixed", Seed: testutil.Seed(t), Packets: 50})
	s := mustBuiltin(t)
	s.Events = []netstack.Event{{At: 10, Netns: "host", Dev: "eth0", Op: netstack.CarrierOff}}
	var trace bytes.Buffer
	mustReplay(t, s, []string{pcap}, Options{Trace: &trace})
	assert.Contains(t, trace.String(), "event at packet 10, before packet 10 of its shard: ip -n host link set eth0 carrier off")
	assert.Contains(t, trace.String(), "device down or without carrier")
}

// TestParseEvents: the events key, and its errors at their lines.
func TestParseEvents(t *testing.T) {
	const devs = "namespaces: [{name: host, keep_addr_on_down: 1}, {name: c}]\ndevices:\n  - {name: eth0, kind: nic, keep_addr_on_down: -1}\n  - {name: v0, kind: veth, peer: v1, peer_netns: c}\n  - {name: vx, kind: vxlan, vni: 1, local: 192.0.2.1, remote: 192.0.2.2}\n"
	s, err := Parse("t.yaml", []byte(devs+"events:\n  - {at: 5, dev: v0, link: down}\n  - {at: 5, netns: c, dev: v1, link: up}\n  - {at: 9, dev: eth0, link: carrier_off}\n  - {at: 9, dev: eth0, mtu: 1280}\nentry: {dev: eth0}\n"))
	require.NoError(t, err)
	assert.Equal(t, 1, s.Stack.Namespaces[0].KeepAddrOnDown)
	assert.Equal(t, -1, s.Stack.Devices[0].KeepAddrOnDown)
	assert.Equal(t, []netstack.Event{{At: 5, Netns: "host", Dev: "v0", Op: netstack.LinkDown}, {At: 5, Netns: "c", Dev: "v1", Op: netstack.LinkUp},
		{At: 9, Netns: "host", Dev: "eth0", Op: netstack.CarrierOff}, {At: 9, Netns: "host", Dev: "eth0", Op: netstack.MTU, MTU: 1280}}, s.Events)
	c := s.Copy()
	c.Events[0].At = 7
	assert.EqualValues(t, 5, s.Events[0].At, "Copy copies the events")
	for _, tc := range []struct{ name, rest, want string }{
		{"unknown key", "  - {at: 5, dev: v0, link: down, when: now}\n", `t.yaml:7:34: event: unknown key "when" (known: at, netns, dev, link, mtu, addr_add, addr_del, route_add, route_del)`},
		{"missing at", "  - {dev: v0, link: down}\n", `t.yaml:7:5: event: missing "at"`},
		{"bad link", "  - {at: 1, dev: v0, link: sideways}\n", `t.yaml:7:28: event.link: unknown value "sideways" (known: up, down, carrier_on, carrier_off)`},
		{"negative at", "  - {at: -1, dev: v0, link: up}\n", `t.yaml:7:10: event.at: want an unsigned integer, got "-1"`},
		{"unknown device", "  - {at: 1, dev: v9, link: up}\n", `t.yaml:7:5: event: no device "v9" in namespace host`},
		{"carrier of a veth", "  - {at: 1, dev: v0, link: carrier_off}\n", "t.yaml:7:5: event: carrier on or off on a veth device (a dummy's or a NIC's; the other kinds' carrier follows their state: EOPNOTSUPP)"},
		{"a tunnel", "  - {at: 1, dev: vx, link: down}\n", "t.yaml:7:5: event: link changes of vxlan devices are not modelled (a tunnel's socket opens and closes with the device)"},
		{"lo", "  - {at: 1, dev: lo, link: down}\n", "t.yaml:7:5: event: link changes of lo are not modelled"},
		{"an mtu out of range", "  - {at: 1, dev: v0, mtu: 67}\n", "t.yaml:7:27: event.mtu: 67 out of range [68, 65535]"},
		{"two ops", "  - {at: 1, dev: v0, link: down, addr_add: 10.0.0.1/24}\n", "t.yaml:7:5: event: want one of link, mtu, addr_add, addr_del, route_add or route_del"},
		{"no op", "  - {at: 1, dev: v0}\n", "t.yaml:7:5: event: want one of link, mtu, addr_add, addr_del, route_add or route_del"},
		{"an address without dev", "  - {at: 1, addr_add: 10.0.0.1/24}\n", `t.yaml:7:5: event: missing "dev"`},
		{"a default address", "  - {at: 1, dev: v0, addr_add: default}\n", "t.yaml:7:32: event.addr_add: want an address"},
		{"a route event with dev", "  - {at: 1, dev: v0, route_del: {dst: 10.0.0.0/8}}\n", "t.yaml:7:18: event: a route event's netns and dev are the route's"},
		{"a route through an unknown device", "  - {at: 1, route_add: {dst: 10.0.0.0/8, dev: v9}}\n", `t.yaml:7:5: event: route: no device "v9" in namespace host`},
		{"a route in an unknown namespace", "  - {at: 1, route_add: {netns: x, dst: 10.0.0.0/8, dev: v0}}\n", `t.yaml:7:5: event: unknown namespace "x"`},
		{"an address of an unknown device", "  - {at: 1, dev: v9, addr_del: 10.0.0.1/24}\n", `t.yaml:7:5: event: no device "v9" in namespace host`},
		{"out of order", "  - {at: 9, dev: v0, link: down}\n  - {at: 5, dev: v0, link: up}\n", "t.yaml:8:5: event: at 5 comes before the previous event's 9 (list events in packet order)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(devs+"events:\n"+tc.rest+"entry: {dev: eth0}\n"))
			require.ErrorIs(t, err, ErrScenario)
			require.EqualError(t, err, tc.want)
		})
	}
}

// TestAddrRouteEventsReplay: address and route events during the
// built-in scenario's replay. Deleting the host's default route at
// packet 1000 sends what it forwarded from then on to IP_INNOROUTES;
// adding it back at 2000 restores the rest. The events the stack refuses
// are errors at their line before the replay.
func TestAddrRouteEventsReplay(t *testing.T) {
	pcap := capturetest.MustGenerate(t, capture.GenSpec{Preset: "mixed", Seed: testutil.Seed(t), Packets: 3000})
	base := mustReplay(t, mustBuiltin(t), []string{pcap}, Options{})
	s := mustBuiltin(t)
	def := netstack.RouteConfig{Netns: "host", Dev: "veth0", Via: netip.MustParseAddr("10.200.0.2")}
	s.Events = []netstack.Event{{At: 1000, Op: netstack.RouteDel, Route: def}, {At: 2000, Op: netstack.RouteAdd, Route: def},
		{At: 2500, Netns: "container", Dev: "up0", Op: netstack.AddrAdd, Addr: netip.MustParsePrefix("198.51.100.2/24")}}
	var want []byte
	for _, j := range []int{1, 2} {
		rep := mustReplay(t, s, []string{pcap}, Options{Workers: j})
		require.Empty(t, rep.Leaks)
		var buf bytes.Buffer
		require.NoError(t, rep.WriteJSON(&buf))
		if want == nil {
			want = buf.Bytes()
			assert.Greater(t, Count(rep.Drops, "IP_INNOROUTES"), Count(base.Drops, "IP_INNOROUTES")+300)
			continue
		}
		assert.Equal(t, string(want), buf.String(), "-j %d", j)
	}

	src, err := os.ReadFile(filepath.Join("scenarios", "default.yaml"))
	require.NoError(t, err)
	for _, tc := range []struct{ name, events, want string }{
		{"a route there", "events:\n  - {at: 5, route_add: {dst: default, dev: veth0, via: 10.200.0.2}}\n",
			"f.yaml:%d:5: event (ip -n host route add default via 10.200.0.2 dev veth0): netstack: route default via 10.200.0.2 dev veth0 in host: netstack: already there (EEXIST)"},
		{"a route not there", "events:\n  - {at: 5, route_del: {dst: 10.9.0.0/16}}\n",
			"f.yaml:%d:5: event (ip -n host route del 10.9.0.0/16): netstack: route 10.9.0.0/16 in host: netstack: no such route (ESRCH)"},
		{"deleted twice", "events:\n  - {at: 5, route_del: {dst: default}}\n  - {at: 6, route_del: {dst: default}}\n",
			"f.yaml:%d:5: event (ip -n host route del default): netstack: route default in host: netstack: no such route (ESRCH)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := string(src) + tc.events
			sc, err := Parse("f.yaml", []byte(text))
			require.NoError(t, err)
			_, err = Replay(sc, []string{pcap}, Options{})
			require.ErrorIs(t, err, ErrScenario)
			last := strings.Count(text, "\n") // the last event's line
			require.EqualError(t, err, fmt.Sprintf(tc.want, last))
		})
	}
}

// TestEventsInReport: the report lists the events, in its three forms,
// and says which came after the last packet.
func TestEventsInReport(t *testing.T) {
	pcap := capturetest.MustGenerate(t, capture.GenSpec{Preset: "mixed", Seed: testutil.Seed(t), Packets: 100})
	s := mustBuiltin(t)
	s.Events = []netstack.Event{{At: 10, Netns: "host", Dev: "veth0", Op: netstack.LinkDown},
		{At: 100, Netns: "host", Dev: "veth0", Op: netstack.LinkUp}}
	rep := mustReplay(t, s, []string{pcap}, Options{})
	assert.Equal(t, []EventRow{{At: 10, Command: "ip -n host link set veth0 down", Applied: true},
		{At: 100, Command: "ip -n host link set veth0 up"}}, rep.Events)
	var text, csv, js bytes.Buffer
	require.NoError(t, rep.WriteText(&text))
	require.NoError(t, rep.WriteCSV(&csv))
	require.NoError(t, rep.WriteJSON(&js))
	assert.Contains(t, text.String(), "events\n  before packet 10: ip -n host link set veth0 down\n  before packet 100: ip -n host link set veth0 up (not applied: no packet that late)\n")
	assert.Contains(t, csv.String(), "event,ip -n host link set veth0 down,at,10\nevent,ip -n host link set veth0 down,applied,true\n")
	assert.Contains(t, js.String(), `"events": [`)
	base := mustReplay(t, mustBuiltin(t), []string{pcap}, Options{})
	js.Reset()
	require.NoError(t, base.WriteJSON(&js))
	assert.NotContains(t, js.String(), `"events"`, "left out without events")
}
