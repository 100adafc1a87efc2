package kernel

import (
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/skbsim/skbsim/kernel/observe"
)

// topology is a built observe.Topology: namespaces by role, the namespace
// role of every device, and where the test packet is sent from and to.
type topology struct {
	ns     map[string]*Netns
	devNS  map[string]string
	sender string
	dst    net.IP
	// remote is the far tunnel endpoint of the vxlan topologies.
	remote net.IP
}

func (t *topology) Close() error {
	var errs []error
	for _, n := range t.ns {
		errs = append(errs, n.Close())
	}
	return errors.Join(errs...)
}

// nsOf returns the namespace holding device dev.
func (t *topology) nsOf(dev string) (*Netns, error) {
	r, ok := t.devNS[dev]
	if !ok {
		return nil, fmt.Errorf("device %q is not part of the topology", dev)
	}
	return t.ns[r], nil
}

// tunnelConfig names the kernel option that provides each tunnel device
// kind of the IP tunnel topologies.
var tunnelConfig = map[string]string{
	"geneve": "CONFIG_GENEVE", "gretap": "CONFIG_NET_IPGRE", "gre": "CONFIG_NET_IPGRE",
	"ipip": "CONFIG_NET_IPIP", "ip6tnl": "CONFIG_IPV6_TUNNEL", "ip6gre": "CONFIG_IPV6_GRE",
}

// buildTopology creates the namespaces and devices of kind (see the Setup
// texts in package observe). On error everything created is removed.
func buildTopology(kind observe.Topology) (t *topology, err error) {
	t = &topology{ns: map[string]*Netns{}, devNS: map[string]string{}}
	defer func() {
		if err != nil {
			t.Close()
			t = nil
		}
	}()
	mk := func(roles ...string) error {
		for _, r := range roles {
			n, err := NewNetns(r)
			if err != nil {
				return err
			}
			t.ns[r] = n
		}
		return nil
	}
	var steps []func() error
	run := func() error {
		for _, s := range steps {
			if err := s(); err != nil {
				return err
			}
		}
		return nil
	}
	ipIn := func(role string, args ...string) func() error {
		return func() error { return t.ns[role].IP(args...) }
	}
	// veth creates a pair a (in ra) <-> b (in rb), both up.
	veth := func(ra, a, rb, b string) {
		t.devNS[a], t.devNS[b] = ra, rb
		args := []string{"link", "add", a, "address", observe.MACString(a), "type", "veth", "peer", "name", b,
			"address", observe.MACString(b)}
		if ra != rb {
			args = append(args, "netns", t.ns[rb].Name)
		}
		steps = append(steps, ipIn(ra, args...), ipIn(ra, "link", "set", a, "up"), ipIn(rb, "link", "set", b, "up"))
	}
	addr := func(role, dev, cidr string) {
		steps = append(steps, ipIn(role, "addr", "add", cidr, "dev", dev))
	}
	// neigh adds a permanent entry for ip on dev (in role) -> MAC of peer.
	neigh := func(role, dev, ip, peer string) {
		steps = append(steps, func() error {
			mac, err := t.ns[t.devNS[peer]].HardwareAddr(peer)
			if err != nil {
				return err
			}
			return t.ns[role].IP("neigh", "replace", ip, "lladdr", mac.String(), "dev", dev, "nud", "permanent")
		})
	}

	// pair makes namespaces A and B (and S and D for a tunnel moved
	// across namespaces: xnet) and the veth pair vA <-> vB, and returns
	// the namespaces the tunnel devices end up in.
	pair := func(xnet bool) (sa, db string, err error) {
		roles := []string{"A", "B"}
		sa, db = "A", "B"
		if xnet {
			roles = append(roles, "S", "D")
			sa, db = "S", "D"
		}
		if err := mk(roles...); err != nil {
			return "", "", err
		}
		veth("A", "vA", "B", "vB")
		return sa, db, nil
	}
	// underlay addresses vA and vB, IPv4 (/24) or IPv6 (/64, nodad, IPv6
	// enabled on vA and vB only: NewNetns disables it), with permanent
	// neighbours both ways, and returns the two addresses.
	underlay := func(v6 bool) (la, lb string) {
		if !v6 {
			addr("A", "vA", "192.0.2.1/24")
			addr("B", "vB", "192.0.2.2/24")
			neigh("A", "vA", "192.0.2.2", "vB")
			neigh("B", "vB", "192.0.2.1", "vA")
			return "192.0.2.1", "192.0.2.2"
		}
		la, lb = "2001:db8::1", "2001:db8::2"
		for _, d := range [][2]string{{"A", "vA"}, {"B", "vB"}} {
			steps = append(steps, func() error {
				return t.ns[d[0]].Do(func() error { return writeSysctl("net/ipv6/conf/"+d[1]+"/disable_ipv6", "0") })
			})
		}
		steps = append(steps, ipIn("A", "addr", "add", la+"/64", "dev", "vA", "nodad"),
			ipIn("B", "addr", "add", lb+"/64", "dev", "vB", "nodad"))
		neigh("A", "vA", lb, "vB")
		neigh("B", "vB", la, "vA")
		return la, lb
	}

	switch kind {
	case observe.TopoSameNetns:
		if err := mk("A"); err != nil {
			return t, err
		}
		veth("A", "vX", "A", "vY")
		addr("A", "vX", "192.0.2.1/24")
		addr("A", "vY", "192.0.2.2/24")
		steps = append(steps, ipIn("A", "route", "add", "203.0.113.0/24", "dev", "vX"))
		neigh("A", "vX", "203.0.113.2", "vY")
		t.sender, t.dst = "A", net.IPv4(203, 0, 113, 2)
	case observe.TopoPair, observe.TopoIFB:
		if err := mk("A", "B"); err != nil {
			return t, err
		}
		veth("A", "vA", "B", "vB")
		addr("A", "vA", "192.0.2.1/24")
		addr("B", "vB", "192.0.2.2/24")
		neigh("A", "vA", "192.0.2.2", "vB")
		if kind == observe.TopoIFB {
			for _, x := range [][2]string{{"A", "ifbA"}, {"B", "ifbB"}} {
				t.devNS[x[1]] = x[0]
				steps = append(steps, ipIn(x[0], "link", "add", x[1], "type", "ifb"), ipIn(x[0], "link", "set", x[1], "up"))
			}
		}
		t.sender, t.dst = "A", net.IPv4(192, 0, 2, 2)
	case observe.TopoBridge, observe.TopoBridgeFDB, observe.TopoBridgeNoNF, observe.TopoBridgeHairpin,
		observe.TopoBridgeIsolated, observe.TopoBridgeNoFlood, observe.TopoBridgeNoBcast:
		if err := mk("A", "B", "C", "H"); err != nil {
			return t, err
		}
		t.devNS["br0"] = "H"
		steps = append(steps, ipIn("H", "link", "add", "br0", "address", observe.MACString("br0"), "type", "bridge"))
		for i, r := range []string{"A", "B", "C"} {
			veth(r, "v"+r, "H", "h"+r)
			addr(r, "v"+r, fmt.Sprintf("192.0.2.%d/24", i+1))
			steps = append(steps, ipIn("H", "link", "set", "h"+r, "master", "br0"))
		}
		steps = append(steps, ipIn("H", "link", "set", "br0", "up"))
		if kind == observe.TopoBridgeNoNF {
			steps = append(steps, func() error { return t.ns["H"].Sysctl("net.bridge.bridge-nf-call-iptables", "0") })
		}
		if kind == observe.TopoBridgeFDB {
			steps = append(steps, func() error {
				return t.ns["H"].Bridge("fdb", "add", observe.MACString("vB"), "dev", "hB", "master", "static")
			})
		}
		bridgeLink := func(args ...string) {
			steps = append(steps, func() error { return t.ns["H"].Bridge(append([]string{"link", "set", "dev"}, args...)...) })
		}
		switch kind {
		case observe.TopoBridgeHairpin:
			steps = append(steps, func() error {
				return t.ns["H"].Bridge("fdb", "add", observe.MACString("vB"), "dev", "hA", "master", "static")
			})
			bridgeLink("hA", "hairpin", "on")
		case observe.TopoBridgeIsolated:
			bridgeLink("hA", "isolated", "on")
			bridgeLink("hC", "isolated", "on")
		case observe.TopoBridgeNoFlood:
			bridgeLink("hC", "flood", "off")
		case observe.TopoBridgeNoBcast:
			bridgeLink("hC", "bcast_flood", "off")
			steps = append(steps, ipIn("A", "neigh", "replace", "192.0.2.9", "lladdr", "ff:ff:ff:ff:ff:ff", "dev", "vA", "nud", "permanent"))
		}
		neigh("A", "vA", "192.0.2.2", "vB")
		t.sender, t.dst = "A", net.IPv4(192, 0, 2, 2)
		if kind == observe.TopoBridgeNoBcast {
			t.dst = net.IPv4(192, 0, 2, 9)
		}
	case observe.TopoHub, observe.TopoHubRouted:
		if err := mk("A", "B", "C", "H"); err != nil {
			return t, err
		}
		for i, r := range []string{"A", "B", "C"} {
			veth(r, "v"+r, "H", "h"+r)
			addr(r, "v"+r, fmt.Sprintf("192.0.2.%d/24", i+1))
		}
		neigh("A", "vA", "192.0.2.2", "vB")
		neigh("H", "hB", "192.0.2.2", "vB")
		if kind == observe.TopoHubRouted {
			steps = append(steps, ipIn("H", "route", "add", "192.0.2.2/32", "dev", "hB"),
				func() error { return t.ns["H"].Sysctl("net.ipv4.ip_forward", "1") })
		}
		t.sender, t.dst = "A", net.IPv4(192, 0, 2, 2)
	case observe.TopoVXLAN, observe.TopoVXLANXnet:
		xnet := kind == observe.TopoVXLANXnet
		sa, db, err := pair(xnet)
		if err != nil {
			return t, err
		}
		underlay(false)
		steps = append(steps,
			ipIn("A", "link", "add", "vxA", "address", observe.MACString("vxA"), "type", "vxlan", "id", "42", "remote", "192.0.2.2", "local", "192.0.2.1", "dstport", "4789", "dev", "vA"),
			ipIn("B", "link", "add", "vxB", "address", observe.MACString("vxB"), "type", "vxlan", "id", "42", "remote", "192.0.2.1", "local", "192.0.2.2", "dstport", "4789", "dev", "vB"))
		if xnet {
			steps = append(steps,
				ipIn("A", "link", "set", "vxA", "netns", t.ns["S"].Name),
				ipIn("B", "link", "set", "vxB", "netns", t.ns["D"].Name))
		}
		t.devNS["vxA"], t.devNS["vxB"] = sa, db
		addr(sa, "vxA", "198.51.100.1/24")
		addr(db, "vxB", "198.51.100.2/24")
		steps = append(steps, ipIn(sa, "link", "set", "vxA", "up"), ipIn(db, "link", "set", "vxB", "up"))
		neigh(sa, "vxA", "198.51.100.2", "vxB")
		t.sender, t.dst, t.remote = sa, net.IPv4(198, 51, 100, 2), net.IPv4(192, 0, 2, 2)
	case observe.TopoVXLAN6:
		if _, _, err := pair(false); err != nil {
			return t, err
		}
		la, lb := underlay(true)
		for _, x := range [][4]string{{"A", "vxA", lb, la}, {"B", "vxB", la, lb}} {
			steps = append(steps,
				ipIn(x[0], "link", "add", x[1], "address", observe.MACString(x[1]), "mtu", "2000", "type", "vxlan", "id", "42", "remote", x[2], "local", x[3], "dstport", "4789"),
				ipIn(x[0], "link", "set", x[1], "up"))
			t.devNS[x[1]] = x[0]
		}
		addr("A", "vxA", "198.51.100.1/24")
		addr("B", "vxB", "198.51.100.2/24")
		neigh("A", "vxA", "198.51.100.2", "vxB")
		t.sender, t.dst, t.remote = "A", net.IPv4(198, 51, 100, 2), net.ParseIP(lb)
	case observe.TopoMacvlan, observe.TopoMacvlanTx, observe.TopoMacvlanBridge, observe.TopoMacvlanPrivate,
		observe.TopoMacvlanBcast, observe.TopoMacvlanBridgeBcast, observe.TopoMacvlanSource, observe.TopoMacvlanSourceNoDst:
		if err := mk("A", "B", "C", "H"); err != nil {
			return t, err
		}
		veth("A", "vA", "H", "hL")
		addr("A", "vA", "192.0.2.1/24")
		for i, r := range []string{"B", "C"} {
			mv := "mv" + r
			t.devNS[mv] = r
			args := []string{"link", "add", "link", "hL", "name", mv, "address", observe.MACString(mv),
				"type", "macvlan", "mode", kind.MacvlanMode(mv)}
			if kind.MacvlanMode(mv) == "source" {
				if kind == observe.TopoMacvlanSourceNoDst {
					args = append(args, "flag", "nodst")
				}
				args = append(args, "macaddr", "add", observe.MACString("vA"))
			}
			steps = append(steps,
				ipIn("H", args...),
				ipIn("H", "link", "set", mv, "netns", t.ns[r].Name),
				ipIn(r, "link", "set", mv, "up"))
			addr(r, mv, fmt.Sprintf("192.0.2.%d/24", i+2))
		}
		neigh("A", "vA", "192.0.2.2", "mvB")
		neigh("A", "vA", "192.0.2.3", "mvC")
		neigh("B", "mvB", "192.0.2.1", "vA")
		neigh("B", "mvB", "192.0.2.3", "mvC")
		for _, d := range [][2]string{{"A", "vA"}, {"B", "mvB"}} {
			steps = append(steps, ipIn(d[0], "neigh", "replace", "192.0.2.9", "lladdr", "ff:ff:ff:ff:ff:ff",
				"dev", d[1], "nud", "permanent"))
		}
		switch kind {
		case observe.TopoMacvlan:
			t.sender, t.dst = "A", net.IPv4(192, 0, 2, 2)
		case observe.TopoMacvlanBcast:
			t.sender, t.dst = "A", net.IPv4(192, 0, 2, 9)
		case observe.TopoMacvlanBridgeBcast:
			t.sender, t.dst = "B", net.IPv4(192, 0, 2, 9)
		case observe.TopoMacvlanTx:
			t.sender, t.dst = "B", net.IPv4(192, 0, 2, 1)
		case observe.TopoMacvlanSource, observe.TopoMacvlanSourceNoDst:
			t.sender, t.dst = "A", net.IPv4(192, 0, 2, 3)
		default:
			t.sender, t.dst = "B", net.IPv4(192, 0, 2, 3)
		}
	default:
		if !kind.Tunnel() {
			return t, fmt.Errorf("unknown topology %q", kind)
		}
		xnet := kind == observe.TopoIPIPXnet
		sa, db, err := pair(xnet)
		if err != nil {
			return t, err
		}
		la, lb := underlay(kind.Underlay6())
		typ := string(kind)
		if kind == observe.TopoIPIPXnet {
			typ = "ipip"
		}
		for _, x := range [][4]string{{"A", "tA", la, lb}, {"B", "tB", lb, la}} {
			args := []string{"link", "add", x[1]}
			if kind.TunnelL2() {
				args = append(args, "address", observe.MACString(x[1]))
			}
			args = append(args, "type", typ)
			if kind == observe.TopoGeneve {
				args = append(args, "id", "42", "remote", x[3])
			} else {
				args = append(args, "local", x[2], "remote", x[3])
			}
			switch kind {
			case observe.TopoGRE:
				args = append(args, "key", "42")
			case observe.TopoIP6Tnl:
				args = append(args, "mode", "any")
			}
			steps = append(steps, func() error {
				err := t.ns[x[0]].IP(args...)
				if err != nil && strings.Contains(err.Error(), "Unknown device type") {
					// No rtnl_link_ops of that kind: the kernel was built
					// without the driver and cannot load it as a module.
					return notSupportedError{fmt.Errorf("the kernel has no %s devices (%s): %w",
						typ, tunnelConfig[typ], ErrNotSupported)}
				}
				return err
			})
		}
		if xnet {
			steps = append(steps,
				ipIn("A", "link", "set", "tA", "netns", t.ns["S"].Name),
				ipIn("B", "link", "set", "tB", "netns", t.ns["D"].Name))
		}
		t.devNS["tA"], t.devNS["tB"] = sa, db
		addr(sa, "tA", "198.51.100.1/24")
		addr(db, "tB", "198.51.100.2/24")
		steps = append(steps, ipIn(sa, "link", "set", "tA", "up"), ipIn(db, "link", "set", "tB", "up"))
		if kind.TunnelL2() {
			neigh(sa, "tA", "198.51.100.2", "tB")
		}
		t.sender, t.dst, t.remote = sa, net.IPv4(198, 51, 100, 2), net.ParseIP(lb)
	}
	return t, run()
}
