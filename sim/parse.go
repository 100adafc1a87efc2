package sim

import (
	"bytes"
	"cmp"
	"embed"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/netstack"
	"github.com/skbsim/skbsim/skb"
)

//go:embed scenarios/*.yaml
var builtinFS embed.FS

// DefaultScenarioName is the built-in scenario `simrun run` uses when no
// -scenario is given.
const DefaultScenarioName = "default"

// Builtin returns the embedded scenario called name ("default").
func Builtin(name string) (*Scenario, error) {
	b, err := builtinFS.ReadFile("scenarios/" + name + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("builtin scenario %q: %w", name, ErrScenario)
	}
	return Parse("builtin:"+name, b)
}

// LoadScenario reads and parses a scenario file.
func LoadScenario(path string) (*Scenario, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("scenario: %w", err)
	}
	return Parse(path, b)
}

// Parse parses a scenario written in YAML (see the package documentation
// for the schema). Unknown keys, missing required keys, bad values and
// references to undeclared namespaces, devices, maps or sockets are
// *ParseError values naming file:line:col.
func Parse(file string, src []byte) (*Scenario, error) {
	d := &dec{file: file}
	var doc yaml.Node
	yd := yaml.NewDecoder(bytes.NewReader(src))
	if err := yd.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, d.errf(nil, "empty scenario")
		}
		return nil, &ParseError{File: file, Msg: "yaml: " + oneLine(trimYAMLPrefix(err.Error()))}
	}
	var extra yaml.Node
	if err := yd.Decode(&extra); err == nil {
		return nil, d.errf(&extra, "more than one YAML document")
	}
	root := doc.Content[0]
	s := &Scenario{File: file}
	if err := d.scenario(root, s); err != nil {
		return nil, err
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	return s, nil
}

// trimYAMLPrefix keeps yaml.v3's "yaml: line N: msg" readable after our
// own prefix.
func trimYAMLPrefix(s string) string {
	if len(s) > 6 && s[:6] == "yaml: " {
		return s[6:]
	}
	return s
}

func pos(n *yaml.Node) Pos { return Pos{Line: n.Line, Column: n.Column} }

var topKeys = []string{"name", "description", "kernel", "design", "carrier", "shards", "keep_dst_mac", "options",
	"namespaces", "devices", "routes", "nexthop_objects", "rules", "neighbours", "fdb", "sockets", "taps", "maps", "cpumaps", "devmaps", "programs", "entry", "events"}

func (d *dec) scenario(root *yaml.Node, s *Scenario) error {
	m, err := d.fields(root, "scenario", topKeys...)
	if err != nil {
		return err
	}
	s.Kernel, s.Design, s.Shards = skb.DefaultProfileName, "rfc", DefaultShards
	// Maps first: programs refer to them by name.
	order := append([]string{"maps"}, topKeys...)
	done := map[string]bool{}
	for _, k := range order {
		v, ok := m[k]
		if !ok || done[k] {
			continue
		}
		done[k] = true
		if err := d.topField(k, v, s); err != nil {
			return err
		}
	}
	if _, ok := m["entry"]; !ok {
		return d.errf(root, "scenario: missing %q", "entry")
	}
	return nil
}

func (d *dec) topField(k string, v *yaml.Node, s *Scenario) (err error) {
	c := &s.Stack
	switch k {
	case "name":
		s.Name, err = d.name(v, "name")
	case "description":
		s.Description, err = d.scalar(v, "description")
	case "kernel":
		s.Kernel, err = d.scalar(v, "kernel")
		s.Src.Kernel = pos(v)
	case "design":
		s.Design, err = d.name(v, "design")
		s.Src.Design = pos(v)
	case "carrier":
		err = d.carrier(v, &s.Carrier)
	case "shards":
		s.Shards, err = d.intv(v, "shards", 1, 1024)
	case "keep_dst_mac":
		s.KeepDstMAC, err = d.boolean(v, "keep_dst_mac")
	case "options":
		err = d.options(v, &c.Options)
	case "namespaces":
		err = collect(d, v, "namespaces", d.namespace, &c.Namespaces, &s.Src.Namespaces)
	case "devices":
		err = collect(d, v, "devices", d.device, &c.Devices, &s.Src.Devices)
	case "routes":
		err = collect(d, v, "routes", d.route, &c.Routes, &s.Src.Routes)
	case "nexthop_objects":
		err = collect(d, v, "nexthop_objects", d.nexthopObj, &c.NexthopObjects, &s.Src.NexthopObjects)
	case "rules":
		err = collect(d, v, "rules", d.rule, &c.Rules, &s.Src.Rules)
	case "neighbours":
		err = collect(d, v, "neighbours", d.neighbour, &c.Neighbours, &s.Src.Neighbours)
	case "events":
		err = collect(d, v, "events", d.event, &s.Events, &s.Src.Events)
	case "fdb":
		err = collect(d, v, "fdb", d.fdb, &c.FDB, &s.Src.FDB)
	case "sockets":
		err = collect(d, v, "sockets", d.socket, &c.Sockets, &s.Src.Sockets)
	case "taps":
		err = collect(d, v, "taps", d.tap, &c.Taps, &s.Src.Taps)
	case "maps":
		err = d.each(v, "maps", func(n *yaml.Node) error {
			mp, err := d.mapSpec(n)
			for _, o := range s.Maps {
				if o.Name == mp.Name && err == nil {
					err = d.errf(n, "map %q declared twice", mp.Name)
				}
			}
			s.Maps = append(s.Maps, mp)
			s.Src.Maps = append(s.Src.Maps, pos(n))
			return err
		})
	case "cpumaps":
		err = collect(d, v, "cpumaps", d.cpumap, &c.Cpumaps, &s.Src.Cpumaps)
	case "devmaps":
		err = collect(d, v, "devmaps", d.devmap, &c.Devmaps, &s.Src.Devmaps)
	case "programs":
		err = d.each(v, "programs", func(n *yaml.Node) error {
			p, apos, err := d.program(n, s.Maps)
			c.Programs = append(c.Programs, p)
			s.Src.Programs = append(s.Src.Programs, pos(n))
			s.Src.Actions = append(s.Src.Actions, apos)
			return err
		})
	case "entry":
		s.Src.Entry = pos(v)
		items := []*yaml.Node{v}
		if v.Kind == yaml.SequenceNode {
			items = v.Content
		}
		for _, n := range items {
			e, err := d.entry(n)
			if err != nil {
				return err
			}
			c.Entries = append(c.Entries, e)
		}
		if len(c.Entries) == 0 {
			return d.errf(v, "entry: want at least one entry point")
		}
	}
	return err
}

// collect parses the list v with parse, appending the elements to dst and
// their positions to src.
func collect[T any](d *dec, v *yaml.Node, what string, parse func(*yaml.Node) (T, error), dst *[]T, src *[]Pos) error {
	return d.each(v, what, func(n *yaml.Node) error {
		x, err := parse(n)
		*dst = append(*dst, x)
		*src = append(*src, pos(n))
		return err
	})
}

func (d *dec) each(n *yaml.Node, what string, f func(*yaml.Node) error) error {
	items, err := d.list(n, what)
	if err != nil {
		return err
	}
	for _, it := range items {
		if err := f(it); err != nil {
			return err
		}
	}
	return nil
}

// kv calls f for every key of a mapping already checked by fields, in the
// order written, so the first bad value is the one reported.
func (d *dec) kv(n *yaml.Node, f func(k string, v *yaml.Node) error) error {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if err := f(n.Content[i].Value, n.Content[i+1]); err != nil {
			return err
		}
	}
	return nil
}

func (d *dec) carrier(n *yaml.Node, o *carrier.Options) error {
	if _, err := d.fields(n, "carrier", "cache_size", "capacity", "buffer_size", "prealloc_pool", "hash_prealloc", "xdp_meta_reach", "seed"); err != nil {
		return err
	}
	return d.kv(n, func(k string, v *yaml.Node) (err error) {
		switch k {
		case "cache_size":
			o.CacheSize, err = d.intv(v, "carrier.cache_size", 1, 64)
		case "capacity":
			o.Capacity, err = d.intv(v, "carrier.capacity", 1, 1<<24)
		case "buffer_size":
			o.BufferSize, err = d.intv(v, "carrier.buffer_size", 1, 4096)
		case "prealloc_pool":
			o.PreallocPool, err = d.intv(v, "carrier.prealloc_pool", 1, 1<<20)
		case "hash_prealloc":
			o.HashPrealloc, err = d.boolean(v, "carrier.hash_prealloc")
		case "xdp_meta_reach":
			o.XDPMetaReach, err = d.enum(v, "carrier.xdp_meta_reach", carrier.XDPMetaReachCtx, carrier.XDPMetaReachBTF, carrier.XDPMetaReachKernCtx)
		case "seed":
			o.Seed, err = d.uint64v(v, "carrier.seed")
		}
		return err
	})
}

func (d *dec) options(n *yaml.Node, o *netstack.Options) error {
	if _, err := d.fields(n, "options", "rx_timestamps", "fwd_update_priority", "trace_all", "tcp_connections", "replies",
		"multipath_boot_seed"); err != nil {
		return err
	}
	return d.kv(n, func(k string, v *yaml.Node) (err error) {
		switch k {
		case "rx_timestamps":
			o.RxTimestamps, err = d.boolean(v, "options.rx_timestamps")
		case "fwd_update_priority":
			var b bool
			b, err = d.boolean(v, "options.fwd_update_priority")
			o.NoFwdUpdatePriority = !b
		case "trace_all":
			o.TraceAll, err = d.boolean(v, "options.trace_all")
		case "tcp_connections":
			o.TCPConnections, err = d.intv(v, "options.tcp_connections", 1, netstack.MaxTCPConnections)
		case "replies":
			o.Replies, err = d.boolean(v, "options.replies")
		case "multipath_boot_seed":
			var s int64
			s, err = d.integer(v, "options.multipath_boot_seed", 0, 1<<32-1)
			o.MultipathBootSeed = uint32(s)
		}
		return err
	})
}

// namespace reads "name" or {name: N, forwarding: true}.
func (d *dec) namespace(n *yaml.Node) (ns netstack.NamespaceConfig, err error) {
	if n.Kind == yaml.ScalarNode {
		ns.Name, err = d.name(n, "namespace")
		return ns, err
	}
	m, err := d.fields(n, "namespace", "name", "forwarding", "ipv6_forwarding", "disable_ipv6",
		"bridge_nf_call_iptables", "bridge_nf_call_ip6tables", "bridge_nf_filter_vlan_tagged", "bridge_nf_filter_pppoe_tagged",
		"fwmark_reflect", "icmp_ratelimit", "ipv6_fwmark_reflect", "icmpv6_ratelimit",
		"rp_filter", "src_valid_mark", "accept_local", "route_localnet", "send_redirects", "shared_media", "icmp_echo_ignore_all", "icmp_echo_ignore_broadcasts",
		"icmp_errors_use_inbound_ifaddr", "icmpv6_echo_ignore_all", "icmpv6_echo_ignore_multicast",
		"drop_unicast_in_l2_multicast", "ipv6_drop_unicast_in_l2_multicast",
		"fib_multipath_hash_policy", "ipv6_fib_multipath_hash_policy", "fib_multipath_hash_fields", "ipv6_fib_multipath_hash_fields",
		"fib_multipath_hash_seed", "fib_multipath_use_neigh", "ignore_routes_with_linkdown", "ipv6_ignore_routes_with_linkdown",
		"arp_ignore", "arp_filter", "ip_forward_use_pmtu", "proxy_arp", "proxy_ndp",
		"icmpv6_echo_ignore_anycast", "anycast_src_echo_reply", "keep_addr_on_down", "promote_secondaries")
	if err != nil {
		return ns, err
	}
	v, err := d.need(m, n, "namespace", "name")
	if err != nil {
		return ns, err
	}
	if ns.Name, err = d.name(v, "namespace.name"); err != nil {
		return ns, err
	}
	if err := d.multipathSysctls(m, &ns); err != nil {
		return ns, err
	}
	if v, ok := m["forwarding"]; ok {
		if ns.Forwarding, err = d.boolean(v, "namespace "+ns.Name+": forwarding"); err != nil {
			return ns, err
		}
	}
	if v, ok := m["ipv6_forwarding"]; ok {
		if ns.IPv6Forwarding, err = d.boolean(v, "namespace "+ns.Name+": ipv6_forwarding"); err != nil {
			return ns, err
		}
	}
	for _, f := range []struct {
		key string
		dst *bool
	}{{"disable_ipv6", &ns.DisableIPv6}, {"bridge_nf_call_iptables", &ns.BridgeNFCallIPTables},
		{"bridge_nf_call_ip6tables", &ns.BridgeNFCallIP6Tables},
		{"bridge_nf_filter_vlan_tagged", &ns.BridgeNFFilterVLANTagged},
		{"bridge_nf_filter_pppoe_tagged", &ns.BridgeNFFilterPPPoETagged}, {"fwmark_reflect", &ns.FwmarkReflect},
		{"ipv6_fwmark_reflect", &ns.IPv6FwmarkReflect}, {"accept_local", &ns.AcceptLocal}, {"src_valid_mark", &ns.SrcValidMark},
		{"route_localnet", &ns.RouteLocalnet}, {"icmp_echo_ignore_all", &ns.ICMPEchoIgnoreAll},
		{"icmp_errors_use_inbound_ifaddr", &ns.ICMPErrorsUseInboundIfaddr}, {"icmpv6_echo_ignore_all", &ns.ICMPv6EchoIgnoreAll},
		{"icmpv6_echo_ignore_multicast", &ns.ICMPv6EchoIgnoreMulticast},
		{"drop_unicast_in_l2_multicast", &ns.DropUnicastInL2Multicast},
		{"ipv6_drop_unicast_in_l2_multicast", &ns.IPv6DropUnicastInL2Multicast},
		{"ignore_routes_with_linkdown", &ns.IgnoreRoutesWithLinkdown},
		{"ipv6_ignore_routes_with_linkdown", &ns.IPv6IgnoreRoutesWithLinkdown},
		{"arp_filter", &ns.ARPFilter}, {"ip_forward_use_pmtu", &ns.IPForwardUsePMTU},
		{"proxy_arp", &ns.ProxyARP}, {"proxy_ndp", &ns.ProxyNDP}, {"promote_secondaries", &ns.PromoteSecondaries},
		{"icmpv6_echo_ignore_anycast", &ns.ICMPv6EchoIgnoreAnycast}, {"anycast_src_echo_reply", &ns.AnycastSrcEchoReply}} {
		if v, ok := m[f.key]; ok {
			if *f.dst, err = d.boolean(v, "namespace "+ns.Name+": "+f.key); err != nil {
				return ns, err
			}
		}
	}
	for _, f := range []struct {
		key string
		dst *int
	}{{"icmp_ratelimit", &ns.ICMPRatelimit}, {"icmpv6_ratelimit", &ns.ICMPv6Ratelimit}} {
		if v, ok := m[f.key]; ok {
			ms, err := d.intv(v, "namespace "+ns.Name+": "+f.key, 0, 1<<30)
			if err != nil {
				return ns, err
			}
			*f.dst = ms
			if ms == 0 {
				*f.dst = -1 // the sysctl's 0: no per-peer limit
			}
		}
	}
	if v, ok := m["keep_addr_on_down"]; ok {
		if ns.KeepAddrOnDown, err = d.intv(v, "namespace "+ns.Name+": keep_addr_on_down", math.MinInt32, math.MaxInt32); err != nil {
			return ns, err
		}
	}
	if v, ok := m["arp_ignore"]; ok {
		if ns.ARPIgnore, err = d.intv(v, "namespace "+ns.Name+": arp_ignore", 0, 8); err != nil {
			return ns, err
		}
	}
	if v, ok := m["rp_filter"]; ok {
		if ns.RPFilter, err = d.intv(v, "namespace "+ns.Name+": rp_filter", 0, 2); err != nil {
			return ns, err
		}
	}
	for _, f := range []struct {
		key string
		dst *bool
	}{{"send_redirects", &ns.NoSendRedirects}, {"shared_media", &ns.NoSharedMedia},
		{"icmp_echo_ignore_broadcasts", &ns.ICMPEchoAnswerBroadcasts}} {
		if v, ok := m[f.key]; ok {
			on, err := d.boolean(v, "namespace "+ns.Name+": "+f.key)
			if err != nil {
				return ns, err
			}
			*f.dst = !on // sysctls that are 1 by default
		}
	}
	return ns, nil
}

// multipathSysctls reads a namespace's multipath sysctls from m.
func (d *dec) multipathSysctls(m map[string]*yaml.Node, ns *netstack.NamespaceConfig) (err error) {
	what := "namespace " + ns.Name + ": "
	for _, f := range []struct {
		key string
		dst *int
	}{{"fib_multipath_hash_policy", &ns.MultipathHashPolicy}, {"ipv6_fib_multipath_hash_policy", &ns.MultipathHashPolicy6}} {
		if v, ok := m[f.key]; ok {
			if *f.dst, err = d.multipathPolicy(v, what+f.key); err != nil {
				return err
			}
		}
	}
	for _, f := range []struct {
		key string
		dst *uint32
	}{{"fib_multipath_hash_fields", &ns.MultipathHashFields}, {"ipv6_fib_multipath_hash_fields", &ns.MultipathHashFields6}} {
		if v, ok := m[f.key]; ok {
			if *f.dst, err = d.multipathFields(v, what+f.key); err != nil {
				return err
			}
		}
	}
	if v, ok := m["fib_multipath_hash_seed"]; ok {
		s, err := d.integer(v, what+"fib_multipath_hash_seed", 0, 1<<32-1)
		if err != nil {
			return err
		}
		ns.MultipathHashSeed = uint32(s)
	}
	if v, ok := m["fib_multipath_use_neigh"]; ok {
		if ns.MultipathUseNeigh, err = d.boolean(v, what+"fib_multipath_use_neigh"); err != nil {
			return err
		}
	}
	return nil
}

// multipathPolicies are fib_multipath_hash_policy's values by name.
var multipathPolicies = []string{"l3", "l4", "l3_inner", "custom"}

// multipathPolicy reads a hash policy: 0 to 3 or its name.
func (d *dec) multipathPolicy(n *yaml.Node, what string) (int, error) {
	s, err := d.scalar(n, what)
	if err != nil {
		return 0, err
	}
	if i := slices.Index(multipathPolicies, s); i >= 0 {
		return i, nil
	}
	if len(s) == 1 && s[0] >= '0' && s[0] <= '3' {
		return int(s[0] - '0'), nil
	}
	return 0, d.errf(n, "%s: want 0 to 3 or one of %s, got %q", what, strings.Join(multipathPolicies, ", "), s)
}

// MultipathFieldNames are the custom hash policy's fields by name, bit i
// for name i (FIB_MULTIPATH_HASH_FIELD_*).
var MultipathFieldNames = []string{"src_ip", "dst_ip", "ip_proto", "flowlabel", "src_port", "dst_port",
	"inner_src_ip", "inner_dst_ip", "inner_ip_proto", "inner_flowlabel", "inner_src_port", "inner_dst_port"}

// multipathFields reads fib_multipath_hash_fields: a number from 1 to
// 0xfff, as the sysctl takes it, or a list of MultipathFieldNames.
func (d *dec) multipathFields(n *yaml.Node, what string) (uint32, error) {
	if n.Kind != yaml.SequenceNode {
		v, err := d.integer(n, what, 1, netstack.MultipathFieldsAll)
		return uint32(v), err
	}
	var f uint32
	for _, it := range n.Content {
		s, err := d.scalar(it, what)
		if err != nil {
			return 0, err
		}
		i := slices.Index(MultipathFieldNames, s)
		if i < 0 {
			return 0, d.errf(it, "%s: unknown field %q (want %s)", what, s, strings.Join(MultipathFieldNames, ", "))
		}
		f |= 1 << i
	}
	if f == 0 {
		return 0, d.errf(n, "%s: want at least one field", what)
	}
	return f, nil
}

func (d *dec) prefixes(n *yaml.Node, what string) ([]netip.Prefix, error) {
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = n.Content
	}
	var out []netip.Prefix
	for _, it := range items {
		s, err := d.scalar(it, what)
		if err != nil {
			return nil, err
		}
		p, perr := netip.ParsePrefix(s)
		if perr != nil {
			return nil, d.errf(it, "%s: want address/length, got %q", what, s)
		}
		out = append(out, p)
	}
	return out, nil
}

func (d *dec) mac(n *yaml.Node, what string) ([6]byte, error) {
	s, err := d.scalar(n, what)
	if err != nil {
		return [6]byte{}, err
	}
	hw, perr := net.ParseMAC(s)
	if perr != nil || len(hw) != 6 {
		return [6]byte{}, d.errf(n, "%s: want a MAC address like 02:00:00:00:00:01, got %q", what, s)
	}
	return [6]byte(hw), nil
}

// DeviceKinds lists the device kinds a scenario may declare.
var DeviceKinds = []string{netstack.KindNIC, netstack.KindLoopback, netstack.KindDummy, netstack.KindVeth,
	netstack.KindBridge, netstack.KindVXLAN, netstack.KindGeneve, netstack.KindGRE, netstack.KindGRETap,
	netstack.KindIPIP, netstack.KindSIT, netstack.KindIP6Tnl, netstack.KindIP6GRE, netstack.KindIP6GRETap, netstack.KindMacvlan, netstack.KindIFB, netstack.KindNetkit}

var deviceKeys = []string{"name", "kind", "netns", "mac", "addr", "mtu", "peer", "peer_netns", "peer_addr",
	"peer_mac", "peer_mtu", "master", "local", "remote", "vni", "port", "link_netns", "xdp", "gro", "peer_xdp", "peer_gro", "software_gso",
	"gro_list", "udp_gro_forwarding", "peer_gro_list", "peer_udp_gro_forwarding", "tx_fraglist", "peer_tx_fraglist", "tunnel_tso",
	"tx_checksum", "rx_checksum", "rx_vlan_offload", "rx_hwtstamp", "xdp_metadata_ops", "udp_csum", "udp6zerocsumrx", "external", "qdisc", "down", "peer_down", "carrier", "link", "mode", "source_macs", "nodst", "hairpin", "isolated", "flood", "mcast_flood", "bcast_flood", "learning", "group_fwd_mask", "vlan_filtering", "vlan_default_pvid", "vlans", "proxy_arp", "proxy_ndp", "proxy_delay", "keep_addr_on_down", "promote_secondaries",
	"policy", "peer_policy", "scrub", "peer_scrub", "headroom", "tailroom"}

// xdpMetadataOps reads a NIC driver's XDP RX metadata kfuncs: a list of
// rx_timestamp, rx_hash and rx_vlan_tag ([] or none: no ops), or all.
// off reads an on/off value and reports whether it is off (the kernel
// flag it clears is on by default).
func (d *dec) off(n *yaml.Node, what string) (bool, error) {
	v, err := d.onOff(n, what)
	return v == "off", err
}

func (d *dec) xdpMetadataOps(n *yaml.Node, what string) (string, error) {
	if n.Kind == yaml.ScalarNode {
		s, err := d.enum(n, what, "all", "none")
		if s == "all" {
			s = ""
		}
		return s, err
	}
	items, err := d.list(n, what)
	if err != nil {
		return "", err
	}
	if len(items) == 0 {
		return "none", nil
	}
	names := make([]string, len(items))
	for i, it := range items {
		if names[i], err = d.enum(it, what, "rx_timestamp", "rx_hash", "rx_vlan_tag"); err != nil {
			return "", err
		}
	}
	return strings.Join(names, " "), nil
}

func (d *dec) device(n *yaml.Node) (dev netstack.DeviceConfig, err error) {
	m, err := d.fields(n, "device", deviceKeys...)
	if err != nil {
		return dev, err
	}
	if v, err := d.need(m, n, "device", "name"); err != nil {
		return dev, err
	} else if dev.Name, err = d.name(v, "device.name"); err != nil {
		return dev, err
	}
	what := "device " + dev.Name
	if v, err := d.need(m, n, what, "kind"); err != nil {
		return dev, err
	} else if dev.Kind, err = d.enum(v, what+": kind", DeviceKinds...); err != nil {
		return dev, err
	}
	dev.Netns = netstack.HostNetns
	err = d.kv(n, func(k string, v *yaml.Node) (err error) {
		w := what + ": " + k
		switch k {
		case "netns":
			dev.Netns, err = d.name(v, w)
		case "mac":
			dev.MAC, err = d.mac(v, w)
		case "addr":
			dev.Addrs, err = d.prefixes(v, w)
		case "mtu":
			dev.MTU, err = d.intv(v, w, 68, 65535)
		case "peer":
			dev.Peer, err = d.name(v, w)
		case "peer_netns":
			dev.PeerNetns, err = d.name(v, w)
		case "peer_addr":
			dev.PeerAddrs, err = d.prefixes(v, w)
		case "peer_mac":
			dev.PeerMAC, err = d.mac(v, w)
		case "peer_mtu":
			dev.PeerMTU, err = d.intv(v, w, 68, 65535)
		case "master":
			dev.Master, err = d.name(v, w)
		case "local":
			dev.Local, err = d.addr(v, w)
		case "remote":
			dev.Remote, err = d.addr(v, w)
		case "vni":
			var x int64
			x, err = d.integer(v, w, 0, 1<<32-1)
			dev.VNI = uint32(x)
		case "port":
			dev.Port, err = d.port(v, w)
		case "link_netns":
			dev.LinkNetns, err = d.name(v, w)
		case "link":
			dev.Link, err = d.name(v, w)
		case "mode":
			if dev.Kind == netstack.KindNetkit {
				dev.Mode, err = d.enum(v, w, netstack.NetkitL3, netstack.NetkitL2)
				break
			}
			dev.Mode, err = d.enum(v, w, netstack.MacvlanBridge, netstack.MacvlanPrivate, netstack.MacvlanVEPA, netstack.MacvlanPassthru,
				netstack.MacvlanSource)
		case "policy":
			dev.Policy, err = d.enum(v, w, netstack.NetkitForward, netstack.NetkitBlackhole)
		case "peer_policy":
			dev.PeerPolicy, err = d.enum(v, w, netstack.NetkitForward, netstack.NetkitBlackhole)
		case "scrub":
			dev.Scrub, err = d.enum(v, w, netstack.NetkitScrubDefault, netstack.NetkitScrubNone)
		case "peer_scrub":
			dev.PeerScrub, err = d.enum(v, w, netstack.NetkitScrubDefault, netstack.NetkitScrubNone)
		case "headroom":
			dev.Headroom, err = d.intv(v, w, 0, 65535)
		case "tailroom":
			dev.Tailroom, err = d.intv(v, w, 0, 65535)
		case "source_macs":
			var items []*yaml.Node
			if items, err = d.list(v, w); err != nil {
				return err
			}
			for _, it := range items {
				var m [6]byte
				if m, err = d.mac(it, w); err != nil {
					return err
				}
				dev.SourceMACs = append(dev.SourceMACs, m)
			}
		case "nodst":
			dev.NoDst, err = d.boolean(v, w)
		case "hairpin":
			dev.Hairpin, err = d.boolean(v, w)
		case "isolated":
			dev.Isolated, err = d.boolean(v, w)
		case "flood":
			dev.NoFlood, err = d.off(v, w)
		case "mcast_flood":
			dev.NoMcastFlood, err = d.off(v, w)
		case "bcast_flood":
			dev.NoBcastFlood, err = d.off(v, w)
		case "learning":
			dev.NoLearning, err = d.off(v, w)
		case "group_fwd_mask":
			var m int
			m, err = d.intv(v, w, 0, 0xffff)
			dev.GroupFwdMask = uint16(m)
		case "proxy_arp":
			dev.ProxyARP, err = d.boolean(v, w)
		case "proxy_ndp":
			dev.ProxyNDP, err = d.boolean(v, w)
		case "keep_addr_on_down":
			dev.KeepAddrOnDown, err = d.intv(v, w, math.MinInt32, math.MaxInt32)
		case "promote_secondaries":
			dev.PromoteSecondaries, err = d.boolean(v, w)
		case "proxy_delay":
			var j int
			j, err = d.intv(v, w, 0, 1<<30)
			dev.NoProxyDelay = j == 0
		case "vlan_filtering":
			dev.VLANFiltering, err = d.boolean(v, w)
		case "vlan_default_pvid":
			dev.VLANDefaultPVID, err = d.intv(v, w, 0, 4094)
			dev.NoDefaultPVID = err == nil && dev.VLANDefaultPVID == 0
		case "vlans":
			dev.VLANs, err = d.bridgeVLANs(v, w)
		case "xdp":
			dev.XDP, err = d.enum(v, w, "native", "generic")
		case "gro":
			dev.GRO, err = d.onOff(v, w)
		case "peer_gro":
			dev.PeerGRO, err = d.onOff(v, w)
		case "peer_xdp":
			dev.PeerXDP, err = d.enum(v, w, "native", "generic")
		case "software_gso":
			dev.SoftwareGSO, err = d.boolean(v, w)
		case "tx_fraglist":
			dev.TxFragList, err = d.onOff(v, w)
		case "peer_tx_fraglist":
			dev.PeerTxFragList, err = d.onOff(v, w)
		case "tunnel_tso":
			dev.TunnelTSO, err = d.onOff(v, w)
		case "tx_checksum":
			dev.TxChecksum, err = d.onOff(v, w)
		case "rx_checksum":
			dev.RxChecksum, err = d.onOff(v, w)
		case "rx_vlan_offload":
			dev.RxVLANOffload, err = d.onOff(v, w)
		case "rx_hwtstamp":
			dev.RxHwTstamp, err = d.onOff(v, w)
		case "xdp_metadata_ops":
			dev.XDPMetadataOps, err = d.xdpMetadataOps(v, w)
		case "udp_csum":
			dev.UDPCsum, err = d.onOff(v, w)
		case "udp6zerocsumrx":
			dev.UDP6ZeroCsumRx, err = d.boolean(v, w)
		case "external":
			dev.External, err = d.boolean(v, w)
		case "gro_list":
			dev.GROList, err = d.boolean(v, w)
		case "udp_gro_forwarding":
			dev.UDPGROForwarding, err = d.boolean(v, w)
		case "peer_gro_list":
			dev.PeerGROList, err = d.boolean(v, w)
		case "peer_udp_gro_forwarding":
			dev.PeerUDPGROForwarding, err = d.boolean(v, w)
		case "qdisc":
			dev.Qdisc, err = d.enum(v, w, "noqueue", "pfifo", "blackhole")
			if dev.Qdisc != "blackhole" {
				dev.Qdisc = ""
			}
		case "down":
			dev.Down, err = d.boolean(v, w)
		case "peer_down":
			dev.PeerDown, err = d.boolean(v, w)
		case "carrier":
			var on bool
			on, err = d.boolean(v, w)
			dev.NoCarrier = !on
		}
		return err
	})
	if err != nil {
		return dev, err
	}
	if (dev.Kind == netstack.KindVeth || dev.Kind == netstack.KindNetkit) && dev.Peer == "" {
		return dev, d.errf(n, "%s: a %s needs a peer", what, dev.Kind)
	}
	if dev.Kind != netstack.KindVeth && dev.Kind != netstack.KindNetkit && (dev.Peer != "" || dev.PeerNetns != "" || dev.PeerAddrs != nil ||
		dev.PeerXDP != "" || dev.PeerGRO != "" || dev.PeerMAC != [6]byte{} || dev.PeerGROList || dev.PeerUDPGROForwarding || dev.PeerTxFragList != "" || dev.PeerMTU != 0) {
		return dev, d.errf(n, "%s: only a veth or netkit pair has a peer", what)
	}
	if dev.Master == "" && (dev.Hairpin || dev.Isolated || dev.NoFlood || dev.NoMcastFlood || dev.NoBcastFlood || dev.NoLearning) {
		return dev, d.errf(n, "%s: hairpin, isolated, flood, mcast_flood, bcast_flood and learning are bridge port flags (set master)", what)
	}
	if dev.Kind == netstack.KindMacvlan && dev.Link == "" {
		return dev, d.errf(n, "%s: a macvlan needs its lower device (link)", what)
	}
	if dev.Kind != netstack.KindMacvlan && (dev.Link != "" || (dev.Mode != "" && dev.Kind != netstack.KindNetkit) || dev.SourceMACs != nil || dev.NoDst) {
		return dev, d.errf(n, "%s: link, mode, source_macs and nodst are for macvlan devices (and mode for netkit)", what)
	}
	if (dev.UDPCsum != "" || dev.UDP6ZeroCsumRx) && dev.Kind != netstack.KindVXLAN && dev.Kind != netstack.KindGeneve {
		return dev, d.errf(n, "%s: udp_csum and udp6zerocsumrx are for vxlan and geneve devices", what)
	}
	if (dev.Kind == netstack.KindVeth || dev.Kind == netstack.KindNetkit) && dev.PeerNetns == "" {
		dev.PeerNetns = dev.Netns
	}
	return dev, nil
}

func (d *dec) route(n *yaml.Node) (r netstack.RouteConfig, err error) {
	return d.routeOf(n, false)
}

// routeOf reads a route; one to delete (sel) selects by the fields it
// gives and needs no dev.
func (d *dec) routeOf(n *yaml.Node, sel bool) (r netstack.RouteConfig, err error) {
	m, err := d.fields(n, "route", "netns", "dst", "dev", "via", "src", "onlink", "type", "metric", "mtu", "mtu_lock", "table", "nexthops", "nhid")
	if err != nil {
		return r, err
	}
	r.Netns = netstack.HostNetns
	if _, err := d.need(m, n, "route", "dst"); err != nil {
		return r, err
	}
	err = d.kv(n, func(k string, v *yaml.Node) (err error) {
		switch k {
		case "netns":
			r.Netns, err = d.name(v, "route.netns")
		case "dst":
			r.Dst, err = d.prefix(v, "route.dst")
		case "dev":
			r.Dev, err = d.name(v, "route.dev")
		case "via":
			r.Via, err = d.addr(v, "route.via")
		case "type":
			r.Type, err = d.enum(v, "route.type", netstack.RouteUnicast, netstack.RouteLocal,
				netstack.RouteBlackhole, netstack.RouteUnreachable, netstack.RouteProhibit, netstack.RouteThrow)
		case "src":
			r.Src, err = d.addr(v, "route.src")
		case "onlink":
			r.Onlink, err = d.boolean(v, "route.onlink")
		case "metric":
			var m int64
			m, err = d.integer(v, "route.metric", 0, 1<<32-1)
			r.Metric = uint32(m)
		case "mtu":
			r.MTU, err = d.intv(v, "route.mtu", 68, 65535)
		case "mtu_lock":
			r.MTULock, err = d.boolean(v, "route.mtu_lock")
		case "table":
			r.Table, err = d.table(v, "route.table")
		case "nexthops":
			r.Nexthops, err = d.nexthops(v)
		case "nhid":
			var id int64
			id, err = d.integer(v, "route.nhid", 1, 1<<32-1)
			r.NHID = uint32(id)
		}
		return err
	})
	switch {
	case err != nil:
	case r.NHID != 0 && (r.Dev != "" || r.Via.IsValid() || r.Nexthops != nil || (r.Type != "" && r.Type != netstack.RouteUnicast)):
		err = d.errf(n, "route: a route with nhid has no dev, via or nexthops of its own and is unicast")
	case r.Nexthops != nil && (r.Dev != "" || r.Via.IsValid() || (r.Type != "" && r.Type != netstack.RouteUnicast)):
		err = d.errf(n, "route: a multipath route (nexthops) has no dev or via of its own and is unicast")
	case r.Table == tableLocal && r.Type != netstack.RouteLocal, r.Table != 0 && r.Table != tableMain && r.Table != tableLocal && r.Type == netstack.RouteLocal:
		err = d.errf(n, "route: table %d for a %s route (local routes go to table local, others to main or a table of their own)", r.Table, cmp.Or(r.Type, netstack.RouteUnicast))
	case (r.MTU != 0 || r.MTULock) && r.Type != "" && r.Type != netstack.RouteUnicast:
		err = d.errf(n, "route: a %s route has no mtu", r.Type)
	case r.Type == netstack.RouteLocal && r.Via.IsValid():
		err = d.errf(n, "route: a local route has no via")
	case r.Type == netstack.RouteLocal && r.Metric != 0:
		err = d.errf(n, "route: a metric on a local route is not modelled")
	case netstack.RejectRoute(r.Type):
		if r.Dev != "" || r.Via.IsValid() {
			err = d.errf(n, "route: a %s route has no dev or via", r.Type)
		}
	case r.Dev == "" && r.Nexthops == nil && r.NHID == 0 && !sel:
		_, err = d.need(m, n, "route", "dev")
	}
	return r, err
}

// nexthopObj reads a nexthop object: {netns, id, dev, via}, {id,
// blackhole: true} or {id, group: [{id, weight}]}.
func (d *dec) nexthopObj(n *yaml.Node) (o netstack.NexthopObjConfig, err error) {
	m, err := d.fields(n, "nexthop object", "netns", "id", "dev", "via", "onlink", "blackhole", "group")
	if err != nil {
		return o, err
	}
	if _, err := d.need(m, n, "nexthop object", "id"); err != nil {
		return o, err
	}
	o.Netns = netstack.HostNetns
	err = d.kv(n, func(k string, v *yaml.Node) (err error) {
		switch k {
		case "netns":
			o.Netns, err = d.name(v, "nexthop object.netns")
		case "id":
			var id int64
			id, err = d.integer(v, "nexthop object.id", 1, 1<<32-1)
			o.ID = uint32(id)
		case "dev":
			o.Dev, err = d.name(v, "nexthop object.dev")
		case "via":
			o.Via, err = d.addr(v, "nexthop object.via")
		case "onlink":
			o.Onlink, err = d.boolean(v, "nexthop object.onlink")
		case "blackhole":
			o.Blackhole, err = d.boolean(v, "nexthop object.blackhole")
		case "group":
			var items []*yaml.Node
			if items, err = d.list(v, "nexthop object.group"); err != nil {
				return err
			}
			if len(items) == 0 {
				return d.errf(v, "nexthop object.group: want at least one member")
			}
			for _, it := range items {
				gm, err := d.fields(it, "group member", "id", "weight")
				if err != nil {
					return err
				}
				if _, err := d.need(gm, it, "group member", "id"); err != nil {
					return err
				}
				var mem netstack.NexthopGroupMember
				if err := d.kv(it, func(k string, v *yaml.Node) (err error) {
					switch k {
					case "id":
						var id int64
						id, err = d.integer(v, "group member.id", 1, 1<<32-1)
						mem.ID = uint32(id)
					case "weight":
						mem.Weight, err = d.intv(v, "group member.weight", 1, 65535)
					}
					return err
				}); err != nil {
					return err
				}
				o.Group = append(o.Group, mem)
			}
		}
		return err
	})
	kinds := 0
	for _, b := range []bool{o.Dev != "", o.Blackhole, o.Group != nil} {
		if b {
			kinds++
		}
	}
	if err == nil && (kinds != 1 || (o.Via.IsValid() && o.Dev == "")) {
		err = d.errf(n, "nexthop object %d: want one of dev (with an optional via), blackhole: true or group", o.ID)
	}
	return o, err
}

// bridgeVLANs reads a device's vlans: a list of {vid, pvid, untagged,
// del} (`bridge vlan add|del dev DEV vid N [pvid] [untagged]`).
func (d *dec) bridgeVLANs(n *yaml.Node, what string) ([]netstack.BridgeVLAN, error) {
	items, err := d.list(n, what)
	if err != nil {
		return nil, err
	}
	out := make([]netstack.BridgeVLAN, len(items))
	for i, it := range items {
		m, err := d.fields(it, "vlan", "vid", "pvid", "untagged", "del")
		if err != nil {
			return nil, err
		}
		if _, err := d.need(m, it, "vlan", "vid"); err != nil {
			return nil, err
		}
		bv := &out[i]
		if err := d.kv(it, func(k string, v *yaml.Node) (err error) {
			switch k {
			case "vid":
				var vid int
				vid, err = d.intv(v, "vlan.vid", 1, 4094)
				bv.VID = uint16(vid)
			case "pvid":
				bv.PVID, err = d.boolean(v, "vlan.pvid")
			case "untagged":
				bv.Untagged, err = d.boolean(v, "vlan.untagged")
			case "del":
				bv.Del, err = d.boolean(v, "vlan.del")
			}
			return err
		}); err != nil {
			return nil, err
		}
		if bv.Del && (bv.PVID || bv.Untagged) {
			return nil, d.errf(it, "vlan %d: del takes no pvid or untagged", bv.VID)
		}
	}
	return out, nil
}

// nexthops reads a multipath route's next hops: a list of {dev, via,
// weight, onlink}.
func (d *dec) nexthops(n *yaml.Node) ([]netstack.NexthopConfig, error) {
	items, err := d.list(n, "route.nexthops")
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, d.errf(n, "route.nexthops: want at least one next hop")
	}
	out := make([]netstack.NexthopConfig, len(items))
	for i, it := range items {
		m, err := d.fields(it, "nexthop", "dev", "via", "weight", "onlink")
		if err != nil {
			return nil, err
		}
		if _, err := d.need(m, it, "nexthop", "dev"); err != nil {
			return nil, err
		}
		nh := &out[i]
		if err := d.kv(it, func(k string, v *yaml.Node) (err error) {
			switch k {
			case "dev":
				nh.Dev, err = d.name(v, "nexthop.dev")
			case "via":
				nh.Via, err = d.addr(v, "nexthop.via")
			case "weight":
				nh.Weight, err = d.intv(v, "nexthop.weight", 1, 256)
			case "onlink":
				nh.Onlink, err = d.boolean(v, "nexthop.onlink")
			}
			return err
		}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// The tables of rt_tables(5) by name.
const (
	tableDefault = 253
	tableMain    = 254
	tableLocal   = 255
)

// table reads a routing table: a number from 1 to 2^32-1, or main,
// local or default.
func (d *dec) table(n *yaml.Node, what string) (uint32, error) {
	s, err := d.scalar(n, what)
	if err != nil {
		return 0, err
	}
	switch s {
	case "main":
		return tableMain, nil
	case "local":
		return tableLocal, nil
	case "default":
		return tableDefault, nil
	}
	v, err := d.integer(n, what+" (a number, main, local or default)", 1, 1<<32-1)
	return uint32(v), err
}

// rule reads a policy routing rule (`ip rule`): priority, from, to,
// fwmark ("0x1" or "0x1/0xff"), iif, oif, table, type (lookup,
// blackhole, unreachable, prohibit), not, suppress_prefixlength and
// family (inet6 for an IPv6 rule with neither from nor to).
func (d *dec) rule(n *yaml.Node) (r netstack.RuleConfig, err error) {
	_, err = d.fields(n, "rule", "netns", "priority", "from", "to", "fwmark", "iif", "oif", "table", "type", "not",
		"suppress_prefixlength", "family", "ipproto", "sport", "dport", "tun_id", "goto", "tos", "uidrange")
	if err != nil {
		return r, err
	}
	r.Netns = netstack.HostNetns
	family := ""
	err = d.kv(n, func(k string, v *yaml.Node) (err error) {
		var x int64
		switch k {
		case "netns":
			r.Netns, err = d.name(v, "rule.netns")
		case "priority":
			x, err = d.integer(v, "rule.priority", 1, 1<<32-1)
			r.Priority = uint32(x)
		case "from":
			r.From, err = d.prefix(v, "rule.from")
		case "to":
			r.To, err = d.prefix(v, "rule.to")
		case "fwmark":
			r.FwMark, r.FwMask, err = d.fwmark(v, "rule.fwmark")
		case "iif":
			r.IIF, err = d.name(v, "rule.iif")
		case "oif":
			r.OIF, err = d.name(v, "rule.oif")
		case "table":
			r.Table, err = d.table(v, "rule.table")
			if err == nil && r.Table == tableLocal {
				err = d.errf(v, "rule.table: table local is not modelled in rules (the model's local decisions come first)")
			}
		case "type":
			r.Type, err = d.enum(v, "rule.type", netstack.RuleLookup, netstack.RuleBlackhole, netstack.RuleUnreachable, netstack.RuleProhibit,
				netstack.RuleGoto, netstack.RuleNop)
		case "goto":
			x, err = d.integer(v, "rule.goto", 1, 1<<32-1)
			r.Goto = uint32(x)
		case "not":
			r.Not, err = d.boolean(v, "rule.not")
		case "suppress_prefixlength":
			r.Suppress = true
			r.SuppressPrefixlen, err = d.intv(v, "rule.suppress_prefixlength", 0, 128)
		case "family":
			family, err = d.enum(v, "rule.family", "inet", "inet6")
			r.IPv6 = family == "inet6"
		case "ipproto":
			r.IPProto, err = d.ipproto(v, "rule.ipproto")
		case "sport":
			r.Sport, err = d.portRange(v, "rule.sport")
		case "dport":
			r.Dport, err = d.portRange(v, "rule.dport")
		case "tun_id":
			r.TunID, err = d.uint64v(v, "rule.tun_id")
		case "uidrange":
			var u [2]uint64
			u, err = d.numRange(v, "rule.uidrange", 32, 0, false, "LOW-HIGH uids")
			r.MatchUID, r.UIDRange = true, [2]uint32{uint32(u[0]), uint32(u[1])}
		case "tos":
			x, err = d.integer(v, "rule.tos", 1, 255)
			r.TOS = uint8(x)
			if err == nil && x&3 != 0 {
				err = d.errf(v, "rule.tos: %#x has ECN bits set (want a DS field with them 0)", x)
			}
		}
		return err
	})
	if err != nil {
		return r, err
	}
	for _, p := range []netip.Prefix{r.From, r.To} {
		if p.IsValid() && family != "" && p.Addr().Is6() != r.IPv6 {
			return r, d.errf(n, "rule: prefix %s is not of family %s", p, family)
		}
	}
	if r.From.IsValid() && r.To.IsValid() && r.From.Addr().Is6() != r.To.Addr().Is6() {
		return r, d.errf(n, "rule: from %s and to %s are of two families", r.From, r.To)
	}
	if r.Type != "" && r.Type != netstack.RuleLookup && (r.Table != 0 || r.Suppress) {
		return r, d.errf(n, "rule: a %s rule has no table or suppress_prefixlength", r.Type)
	}
	if (r.Type == netstack.RuleGoto) != (r.Goto != 0) {
		return r, d.errf(n, "rule: type goto and goto (the priority to jump to) go together")
	}
	if !r.IPv6 && r.TOS&^0x1e != 0 && !(r.From.IsValid() && r.From.Addr().Is6()) && !(r.To.IsValid() && r.To.Addr().Is6()) {
		return r, d.errf(n, "rule: tos %#x is not an IPv4 TOS (0x04 to 0x1c; IPv6 rules take any DSCP)", r.TOS)
	}
	if r.Goto != 0 && r.Priority != 0 && r.Goto <= r.Priority {
		return r, d.errf(n, "rule: goto %d is not after priority %d (backward goto not supported)", r.Goto, r.Priority)
	}
	return r, nil
}

// ipproto reads an IP protocol: a number from 1 to 255 or tcp, udp,
// icmp, ipv6-icmp, sctp, gre, udplite.
func (d *dec) ipproto(n *yaml.Node, what string) (uint8, error) {
	s, err := d.scalar(n, what)
	if err != nil {
		return 0, err
	}
	if p, ok := map[string]uint8{"tcp": 6, "udp": 17, "icmp": 1, "ipv6-icmp": 58, "sctp": 132, "gre": 47, "udplite": 136}[s]; ok {
		return p, nil
	}
	v, err := d.integer(n, what+" (a number or tcp, udp, icmp, ipv6-icmp, sctp, gre, udplite)", 1, 255)
	return uint8(v), err
}

// portRange reads a port or an inclusive range "LOW-HIGH" (ip-rule(8)).
func (d *dec) portRange(n *yaml.Node, what string) ([2]uint16, error) {
	r, err := d.numRange(n, what, 16, 1, true, "a port or a range LOW-HIGH of ports 1 to 65535")
	return [2]uint16{uint16(r[0]), uint16(r[1])}, err
}

// numRange reads "LOW-HIGH" (or, when single, a lone number for both) of
// bits-bit numbers from min up, LOW not above HIGH; want describes it in
// the error.
func (d *dec) numRange(n *yaml.Node, what string, bits, min int, single bool, want string) ([2]uint64, error) {
	s, err := d.scalar(n, what)
	if err != nil {
		return [2]uint64{}, err
	}
	ls, hs, isRange := strings.Cut(s, "-")
	if !isRange && single {
		hs = ls
	}
	lo, lerr := strconv.ParseUint(ls, 10, bits)
	hi, herr := strconv.ParseUint(hs, 10, bits)
	if lerr != nil || herr != nil || lo < uint64(min) || lo > hi {
		return [2]uint64{}, d.errf(n, "%s: want %s, got %q", what, want, s)
	}
	return [2]uint64{lo, hi}, nil
}

// fwmark reads "MARK" or "MARK/MASK" (ip-rule(8)).
func (d *dec) fwmark(n *yaml.Node, what string) (mark, mask uint32, err error) {
	s, err := d.scalar(n, what)
	if err != nil {
		return 0, 0, err
	}
	ms, ks, hasMask := strings.Cut(s, "/")
	m, perr := strconv.ParseUint(ms, 0, 32)
	if perr != nil {
		return 0, 0, d.errf(n, "%s: want MARK or MARK/MASK (numbers up to 0xffffffff), got %q", what, s)
	}
	// Without a mask, FRA_FWMARK alone: all ones for a non-zero mark, none
	// (every mark matches) for 0, as fib_nl2rule sets mark_mask.
	if hasMask {
		k, perr := strconv.ParseUint(ks, 0, 32)
		if perr != nil {
			return 0, 0, d.errf(n, "%s: want MARK or MARK/MASK (numbers up to 0xffffffff), got %q", what, s)
		}
		if k == 0 {
			return 0, 0, d.errf(n, "%s: mask 0 selects every mark; leave fwmark out", what)
		}
		mask = uint32(k)
	}
	return uint32(m), mask, nil
}

func (d *dec) fdb(n *yaml.Node) (f netstack.FDBConfig, err error) {
	m, err := d.fields(n, "fdb entry", "netns", "dev", "mac", "sticky", "vlan")
	if err != nil {
		return f, err
	}
	f.Netns = netstack.HostNetns
	for _, k := range []string{"dev", "mac"} {
		if _, err := d.need(m, n, "fdb entry", k); err != nil {
			return f, err
		}
	}
	err = d.kv(n, func(k string, v *yaml.Node) (err error) {
		switch k {
		case "netns":
			f.Netns, err = d.name(v, "fdb.netns")
		case "dev":
			f.Dev, err = d.name(v, "fdb.dev")
		case "mac":
			f.MAC, err = d.mac(v, "fdb.mac")
		case "sticky":
			f.Sticky, err = d.boolean(v, "fdb.sticky")
		case "vlan":
			var vid int
			vid, err = d.intv(v, "fdb.vlan", 0, 4094)
			f.VLAN = uint16(vid)
		}
		return err
	})
	return f, err
}

func (d *dec) neighbour(n *yaml.Node) (nb netstack.NeighConfig, err error) {
	m, err := d.fields(n, "neighbour", "netns", "dev", "addr", "mac", "state", "proxy", "router")
	if err != nil {
		return nb, err
	}
	nb.Netns = netstack.HostNetns
	need := []string{"dev", "addr", "mac"}
	if st, ok := m["state"]; ok && (st.Value == netstack.NeighFailed || st.Value == netstack.NeighIncomplete) {
		need = need[:2] // no link-layer address
	}
	if px, ok := m["proxy"]; ok && px.Value == "true" {
		need = need[:2] // a proxy entry has none
		if v, ok := m["mac"]; ok {
			return nb, d.errf(v, "neighbour: a proxy entry has no mac")
		}
		if v, ok := m["state"]; ok {
			return nb, d.errf(v, "neighbour: a proxy entry has no state")
		}
	} else if v, ok := m["router"]; ok {
		return nb, d.errf(v, "neighbour: router is for proxy entries")
	}
	for _, k := range need {
		if _, err := d.need(m, n, "neighbour", k); err != nil {
			return nb, err
		}
	}
	err = d.kv(n, func(k string, v *yaml.Node) (err error) {
		switch k {
		case "netns":
			nb.Netns, err = d.name(v, "neighbour.netns")
		case "dev":
			nb.Dev, err = d.name(v, "neighbour.dev")
		case "addr":
			nb.Addr, err = d.addr(v, "neighbour.addr")
		case "mac":
			nb.MAC, err = d.mac(v, "neighbour.mac")
		case "state":
			nb.State, err = d.enum(v, "neighbour.state", netstack.NeighPermanent, netstack.NeighNoarp, netstack.NeighReachable,
				netstack.NeighStale, netstack.NeighDelay, netstack.NeighProbe, netstack.NeighFailed, netstack.NeighIncomplete)
		case "proxy":
			nb.Proxy, err = d.boolean(v, "neighbour.proxy")
		case "router":
			nb.Router, err = d.boolean(v, "neighbour.router")
		}
		return err
	})
	if err == nil && nb.Router && nb.Addr.Is4() {
		err = d.errf(n, "neighbour: router is for IPv6 proxy entries")
	}
	return nb, err
}

func (d *dec) event(n *yaml.Node) (e netstack.Event, err error) {
	m, err := d.fields(n, "event", "at", "netns", "dev", "link", "mtu", "addr_add", "addr_del", "route_add", "route_del")
	if err != nil {
		return e, err
	}
	e.Netns = netstack.HostNetns
	if _, err := d.need(m, n, "event", "at"); err != nil {
		return e, err
	}
	var ops []string
	for _, k := range []string{"link", "mtu", "addr_add", "addr_del", "route_add", "route_del"} {
		if _, ok := m[k]; ok {
			ops = append(ops, k)
		}
	}
	switch {
	case len(ops) != 1:
		return e, d.errf(n, "event: want one of link, mtu, addr_add, addr_del, route_add or route_del")
	case ops[0] == "route_add" || ops[0] == "route_del":
		for _, k := range []string{"netns", "dev"} {
			if v, ok := m[k]; ok {
				return e, d.errf(v, "event: a route event's netns and dev are the route's")
			}
		}
	default:
		if _, err := d.need(m, n, "event", "dev"); err != nil {
			return e, err
		}
	}
	err = d.kv(n, func(k string, v *yaml.Node) (err error) {
		switch k {
		case "at":
			e.At, err = d.uint64v(v, "event.at")
		case "netns":
			e.Netns, err = d.name(v, "event.netns")
		case "dev":
			e.Dev, err = d.name(v, "event.dev")
		case "link":
			var op string
			op, err = d.enum(v, "event.link", string(netstack.LinkUp), string(netstack.LinkDown), string(netstack.CarrierOn), string(netstack.CarrierOff))
			e.Op = netstack.EventOp(op)
		case "mtu":
			e.Op = netstack.MTU
			e.MTU, err = d.intv(v, "event.mtu", 68, 65535)
		case "addr_add", "addr_del":
			e.Op = netstack.EventOp(k)
			if e.Addr, err = d.prefix(v, "event."+k); err == nil && !e.Addr.IsValid() {
				err = d.errf(v, "event.%s: want an address", k)
			}
		case "route_add", "route_del":
			e.Op = netstack.EventOp(k)
			e.Route, err = d.routeOf(v, k == "route_del")
		}
		return err
	})
	return e, err
}

func (d *dec) socket(n *yaml.Node) (s netstack.SocketConfig, err error) {
	m, err := d.fields(n, "socket", "name", "netns", "proto", "addr", "port", "cgroup", "mark", "uid", "priority", "rcvbuf", "read",
		"tproxy", "v6only", "connect", "connected", "udp_gro", "udp_segment", "task", "broadcast", "join", "multicast_loop")
	if err != nil {
		return s, err
	}
	s.Netns = netstack.HostNetns
	v, err := d.need(m, n, "socket", "name")
	if err != nil {
		return s, err
	}
	if s.Name, err = d.name(v, "socket.name"); err != nil {
		return s, err
	}
	what := "socket " + s.Name
	if _, err = d.need(m, n, what, "proto"); err != nil {
		return s, err
	}
	err = d.kv(n, func(k string, v *yaml.Node) (err error) {
		w := what + ": " + k
		var x int64
		switch k {
		case "netns":
			s.Netns, err = d.name(v, w)
		case "proto":
			s.Proto, err = d.enum(v, w, netstack.ProtoTCP, netstack.ProtoUDP)
		case "addr":
			s.Addr, err = d.addr(v, w)
		case "port":
			s.Port, err = d.port(v, w)
		case "cgroup":
			s.Cgroup, err = d.scalar(v, w)
		case "mark":
			x, err = d.integer(v, w, 0, 1<<32-1)
			s.Mark = uint32(x)
		case "uid":
			x, err = d.integer(v, w, 0, 1<<32-2)
			s.UID = uint32(x)
		case "priority":
			x, err = d.integer(v, w, 0, 1<<32-1)
			s.Priority = uint32(x)
		case "rcvbuf":
			s.RcvBuf, err = d.intv(v, w, 1, 1<<30)
		case "read":
			var rd bool
			rd, err = d.boolean(v, w)
			s.NoRead = !rd
		case "tproxy":
			s.TProxy, err = d.boolean(v, w)
		case "v6only":
			s.V6Only, err = d.boolean(v, w)
		case "connect":
			s.Connect, err = d.addrPort(v, w)
		case "connected":
			s.Connected, err = d.boolean(v, w)
		case "broadcast":
			s.Broadcast, err = d.boolean(v, w)
		case "join":
			s.Join, err = d.joins(v, w)
		case "multicast_loop":
			s.NoMulticastLoop, err = d.off(v, w)
		case "udp_gro":
			s.UDPGRO, err = d.boolean(v, w)
		case "udp_segment":
			s.UDPSegment, err = d.intv(v, w, 0, math.MaxUint16)
		case "task":
			s.Task, err = d.name(v, w)
		}
		return err
	})
	if err != nil {
		return s, err
	}
	// Options of the other protocol, as setsockopt would refuse them
	// (SOL_UDP on a TCP socket: ENOPROTOOPT); a TCP socket is always
	// connected.
	for _, k := range []string{"connected", "udp_gro", "udp_segment"} {
		if v, ok := m[k]; ok && s.Proto == netstack.ProtoTCP {
			return s, d.errf(v, "%s: %s is an option of udp sockets", what, k)
		}
	}
	return s, err
}

// joins reads a socket's IP_ADD_MEMBERSHIP list: each item a group
// address, or {group, dev}.
func (d *dec) joins(n *yaml.Node, what string) ([]netstack.GroupJoin, error) {
	items, err := d.list(n, what)
	if err != nil {
		return nil, err
	}
	out := make([]netstack.GroupJoin, 0, len(items))
	for _, it := range items {
		var j netstack.GroupJoin
		g := it
		if it.Kind == yaml.MappingNode {
			m, err := d.fields(it, what, "group", "dev")
			if err != nil {
				return nil, err
			}
			if g, err = d.need(m, it, what, "group"); err != nil {
				return nil, err
			}
			if v, ok := m["dev"]; ok {
				if j.Dev, err = d.name(v, what+".dev"); err != nil {
					return nil, err
				}
			}
		}
		if j.Group, err = d.addr(g, what); err != nil {
			return nil, err
		}
		if !j.Group.Is4() || j.Group.As4()[0]&0xf0 != 0xe0 {
			return nil, d.errf(g, "%s: %s is not an IPv4 multicast group", what, j.Group)
		}
		out = append(out, j)
	}
	return out, nil
}

func (d *dec) tap(n *yaml.Node) (t netstack.TapConfig, err error) {
	m, err := d.fields(n, "tap", "name", "netns", "dev", "dir", "hold")
	if err != nil {
		return t, err
	}
	t.Netns, t.Dir = netstack.HostNetns, netstack.TapBoth
	v, err := d.need(m, n, "tap", "name")
	if err != nil {
		return t, err
	}
	if t.Name, err = d.name(v, "tap.name"); err != nil {
		return t, err
	}
	err = d.kv(n, func(k string, v *yaml.Node) (err error) {
		w := "tap " + t.Name + ": " + k
		switch k {
		case "netns":
			t.Netns, err = d.name(v, w)
		case "dev":
			t.Dev, err = d.name(v, w)
		case "dir":
			t.Dir, err = d.enum(v, w, netstack.TapRX, netstack.TapTX, netstack.TapBoth)
		case "hold":
			t.Hold, err = d.boolean(v, w)
		}
		return err
	})
	return t, err
}

// MapFlags are the flag names a map may carry, with their carrier flags.
var MapFlags = map[string]carrier.Flags{
	"clone":      carrier.FlagClone,
	"keep_scrub": carrier.FlagKeepScrub,
	"keep_netns": carrier.FlagKeepNetns,
}

func (d *dec) mapSpec(n *yaml.Node) (mp carrier.MapSpec, err error) {
	m, err := d.fields(n, "map", "name", "value_size", "flags")
	if err != nil {
		return mp, err
	}
	v, err := d.need(m, n, "map", "name")
	if err != nil {
		return mp, err
	}
	if mp.Name, err = d.name(v, "map.name"); err != nil {
		return mp, err
	}
	what := "map " + mp.Name
	mp.ValueSize = 4
	if v, ok := m["value_size"]; ok {
		if mp.ValueSize, err = d.intv(v, what+": value_size", 1, math.MaxUint16); err != nil {
			return mp, err
		}
	}
	if v, ok := m["flags"]; ok {
		items := []*yaml.Node{v}
		if v.Kind == yaml.SequenceNode {
			items = v.Content
		}
		for _, it := range items {
			s, err := d.scalar(it, what+": flags")
			if err != nil {
				return mp, err
			}
			f, ok := MapFlags[s]
			if !ok {
				return mp, d.errf(it, "%s: unknown flag %q (known: clone, keep_netns, keep_scrub)", what, s)
			}
			mp.Flags |= f
		}
	}
	return mp, nil
}

var programKeys = []string{"name", "hook", "dev", "netns", "cgroup", "socket", "tap", "event", "xdp_frags", "cpumap", "devmap", "dev_bound", "actions"}

func (d *dec) devmap(n *yaml.Node) (c netstack.DevmapConfig, err error) {
	m, err := d.fields(n, "devmap", "name", "entries")
	if err != nil {
		return c, err
	}
	v, err := d.need(m, n, "devmap", "name")
	if err != nil {
		return c, err
	}
	if c.Name, err = d.name(v, "devmap.name"); err != nil {
		return c, err
	}
	what := "devmap " + c.Name
	if v, err = d.need(m, n, what, "entries"); err != nil {
		return c, err
	}
	err = d.each(v, what+": entries", func(en *yaml.Node) error {
		em, err := d.fields(en, what+" entry", "key", "dev", "netns", "program")
		if err != nil {
			return err
		}
		e := netstack.DevmapEntryConfig{Netns: netstack.HostNetns}
		for _, k := range []string{"key", "dev"} {
			if _, err := d.need(em, en, what+" entry", k); err != nil {
				return err
			}
		}
		err = d.kv(en, func(k string, v *yaml.Node) (err error) {
			w := what + " entry: " + k
			switch k {
			case "key":
				e.Key, err = d.intv(v, w, 0, math.MaxUint32)
			case "dev":
				e.Dev, err = d.name(v, w)
			case "netns":
				e.Netns, err = d.name(v, w)
			case "program":
				e.Program, err = d.name(v, w)
			}
			return err
		})
		for _, o := range c.Entries {
			if o.Key == e.Key && err == nil {
				err = d.errf(en, "%s: key %d twice", what, e.Key)
			}
		}
		c.Entries = append(c.Entries, e)
		return err
	})
	return c, err
}

// cpumapDrains are the drain modes' names, by netstack.CpumapDrain.
var cpumapDrains = []string{"bulk", "poll"}

func (d *dec) cpumap(n *yaml.Node) (c netstack.CpumapConfig, err error) {
	m, err := d.fields(n, "cpumap", "name", "drain", "entries")
	if err != nil {
		return c, err
	}
	v, err := d.need(m, n, "cpumap", "name")
	if err != nil {
		return c, err
	}
	if c.Name, err = d.name(v, "cpumap.name"); err != nil {
		return c, err
	}
	what := "cpumap " + c.Name
	if v, ok := m["drain"]; ok {
		s, err := d.enum(v, what+": drain", cpumapDrains...)
		if err != nil {
			return c, err
		}
		c.Drain = netstack.CpumapDrain(slices.Index(cpumapDrains, s))
	}
	if v, err = d.need(m, n, what, "entries"); err != nil {
		return c, err
	}
	err = d.each(v, what+": entries", func(en *yaml.Node) error {
		em, err := d.fields(en, what+" entry", "cpu", "qsize", "program")
		if err != nil {
			return err
		}
		var e netstack.CpumapEntryConfig
		for _, k := range []string{"cpu", "qsize"} {
			if _, err := d.need(em, en, what+" entry", k); err != nil {
				return err
			}
		}
		err = d.kv(en, func(k string, v *yaml.Node) (err error) {
			w := what + " entry: " + k
			switch k {
			case "cpu":
				e.CPU, err = d.intv(v, w, 0, 8191)
			case "qsize":
				e.QSize, err = d.intv(v, w, 1, 16384)
			case "program":
				e.Program, err = d.name(v, w)
			}
			return err
		})
		for _, o := range c.Entries {
			if o.CPU == e.CPU && err == nil {
				err = d.errf(en, "%s: cpu %d twice", what, e.CPU)
			}
		}
		c.Entries = append(c.Entries, e)
		return err
	})
	return c, err
}

// programEvents are the events a program at each hook may name: the
// tracepoint, the LSM hook, the sockops callback.
var programEvents = [carrier.NumHooks][]string{
	carrier.HookTracepoint: {netstack.EventKfreeSkb, netstack.EventConsumeSkb},
	carrier.HookLSM:        {netstack.EventInetConnEstablished, netstack.EventInetConnRequest},
	carrier.HookSockOps:    {netstack.EventPassiveEstablished, netstack.EventActiveEstablished},
}

func (d *dec) program(n *yaml.Node, maps []carrier.MapSpec) (p netstack.ProgramConfig, apos []Pos, err error) {
	m, err := d.fields(n, "program", programKeys...)
	if err != nil {
		return p, nil, err
	}
	v, err := d.need(m, n, "program", "name")
	if err != nil {
		return p, nil, err
	}
	if p.Name, err = d.name(v, "program.name"); err != nil {
		return p, nil, err
	}
	what := "program " + p.Name
	if v, err = d.need(m, n, what, "hook"); err != nil {
		return p, nil, err
	}
	hs, err := d.scalar(v, what+": hook")
	if err != nil {
		return p, nil, err
	}
	var ok bool
	if p.Hook, ok = carrier.ParseHook(hs); !ok {
		var known []string
		for h := carrier.Hook(0); h < carrier.NumHooks; h++ {
			known = append(known, h.String())
		}
		return p, nil, d.errf(v, "%s: unknown hook %q (known: %s)", what, hs, strings.Join(known, ", "))
	}
	p.Netns = netstack.HostNetns
	err = d.kv(n, func(k string, v *yaml.Node) (err error) {
		w := what + ": " + k
		switch k {
		case "dev":
			p.Dev, err = d.name(v, w)
		case "netns":
			p.Netns, err = d.name(v, w)
		case "cgroup":
			p.Cgroup, err = d.scalar(v, w)
		case "socket":
			p.Socket, err = d.name(v, w)
		case "tap":
			if p.Hook != carrier.HookSocketFilter {
				return d.errf(v, "%s: only socket_filter programs attach to a tap", what)
			}
			p.Tap, err = d.name(v, w)
		case "event":
			if len(programEvents[p.Hook]) == 0 {
				return d.errf(v, "%s: only tracepoint, lsm and sockops programs name an event", what)
			}
			p.Event, err = d.enum(v, w, programEvents[p.Hook]...)
		case "xdp_frags":
			if p.Hook != carrier.HookXDP {
				return d.errf(v, "%s: xdp_frags is for xdp programs", what)
			}
			p.XDPFrags, err = d.boolean(v, w)
		case "cpumap":
			if p.Hook != carrier.HookXDP {
				return d.errf(v, "%s: cpumap (BPF_XDP_CPUMAP) is for xdp programs", what)
			}
			p.Cpumap, err = d.boolean(v, w)
		case "devmap":
			if p.Hook != carrier.HookXDP {
				return d.errf(v, "%s: devmap (BPF_XDP_DEVMAP) is for xdp programs", what)
			}
			p.Devmap, err = d.boolean(v, w)
		case "dev_bound":
			if p.Hook != carrier.HookXDP {
				return d.errf(v, "%s: dev_bound (BPF_F_XDP_DEV_BOUND_ONLY) is for xdp programs", what)
			}
			p.DevBound, err = d.boolean(v, w)
		}
		return err
	})
	if err != nil {
		return p, nil, err
	}
	if v, err = d.need(m, n, what, "actions"); err != nil {
		return p, nil, err
	}
	err = d.each(v, what+": actions", func(an *yaml.Node) error {
		a, err := d.action(an, what, maps)
		p.Actions = append(p.Actions, a)
		apos = append(apos, pos(an))
		return err
	})
	return p, apos, err
}

func (d *dec) entry(n *yaml.Node) (e netstack.EntryConfig, err error) {
	if _, err := d.fields(n, "entry", "kind", "netns", "dev", "socket", "above_mtu", "segment_size"); err != nil {
		return e, err
	}
	e.Kind, e.Netns = netstack.EntryRX, netstack.HostNetns
	err = d.kv(n, func(k string, v *yaml.Node) (err error) {
		w := "entry." + k
		switch k {
		case "kind":
			e.Kind, err = d.enum(v, w, netstack.EntryRX, netstack.EntryTX, netstack.EntryPacket)
		case "netns":
			e.Netns, err = d.name(v, w)
		case "dev":
			e.Dev, err = d.name(v, w)
		case "socket":
			e.Socket, err = d.name(v, w)
		case "above_mtu":
			e.AboveMTU, err = d.enum(v, w, netstack.AboveMTUAccept, netstack.AboveMTUSegment, netstack.AboveMTUGROHW, netstack.AboveMTUDrop)
		case "segment_size":
			e.SegmentSize, err = d.intv(v, w, 1, 65535)
		}
		return err
	})
	if err != nil {
		return e, err
	}
	if e.Kind != netstack.EntryRX && (e.AboveMTU != "" || e.SegmentSize != 0) {
		return e, d.errf(n, "entry: above_mtu and segment_size are for rx entries (a socket's sends are cut by its own GSO)")
	}
	if e.Kind != netstack.EntryTX && e.Dev == "" {
		return e, d.errf(n, "entry: an %s entry needs a dev", e.Kind)
	}
	if e.Kind == netstack.EntryTX && e.Socket == "" {
		return e, d.errf(n, "entry: a tx entry needs a socket")
	}
	return e, nil
}

// actionArgs are the argument keys each action kind accepts; the first is
// the one a bare value ("- read: tag") stands for.
var actionArgs = [netstack.NumActionKinds][]string{
	netstack.ActWrite:          {"map", "value"},
	netstack.ActRead:           {"map"},
	netstack.ActDelete:         {"map"},
	netstack.ActSetMark:        {"value"},
	netstack.ActSetPriority:    {"value"},
	netstack.ActSetTCIndex:     {"value"},
	netstack.ActSetCB:          {"index", "value"},
	netstack.ActSetHash:        {"value"},
	netstack.ActSetTstamp:      {"value", "mono"},
	netstack.ActAdjustMeta:     {"value"},
	netstack.ActCloneRedirect:  {"target", "ingress"},
	netstack.ActRedirect:       {"target", "ingress"},
	netstack.ActRedirectPeer:   {"target"},
	netstack.ActRedirectNeigh:  {"target", "via"},
	netstack.ActMirred:         {"target", "ingress", "mirror"},
	netstack.ActRedirectCPU:    {"cpumap", "cpu", "fallback"},
	netstack.ActRedirectDevmap: {"devmap", "key", "broadcast", "exclude_ingress", "fallback"},
	netstack.ActVlanPush:       {"tci", "tpid"},
	netstack.ActVlanPop:        nil,
	netstack.ActAdjustHead:     {"delta", "keep_eth"},
	netstack.ActChangeHead:     {"value"},
	netstack.ActAdjustRoom:     {"delta", "mode", "flags"},
	netstack.ActChangeProto:    {"value"},
	netstack.ActChangeType:     {"value"},
	netstack.ActRxMeta:         {"kfunc"},
	netstack.ActChangeTail:     {"len", "delta"},
	netstack.ActAdjustTail:     {"delta"},
	netstack.ActFibForward:     {"direct", "output", "skip_neigh", "mark", "no_neigh"},
	netstack.ActSetTunnelKey:   {"id", "remote"},
	netstack.ActGetTunnelKey:   {"ipv6"},
}

// required says which arguments an action must have.
func actionRequired(k netstack.ActionKind) []string {
	switch k {
	case netstack.ActWrite, netstack.ActRead, netstack.ActDelete:
		return []string{"map"}
	case netstack.ActSetCB:
		return []string{"index", "value"}
	case netstack.ActCloneRedirect, netstack.ActRedirect, netstack.ActRedirectPeer, netstack.ActMirred, netstack.ActRedirectNeigh:
		return []string{"target"}
	case netstack.ActRedirectCPU:
		return []string{"cpumap"}
	case netstack.ActRedirectDevmap:
		return []string{"devmap"}
	case netstack.ActDrop, netstack.ActCount, netstack.ActPass, netstack.ActVlanPop:
		return nil
	case netstack.ActVlanPush:
		return []string{"tci"}
	case netstack.ActAdjustHead, netstack.ActAdjustRoom, netstack.ActAdjustTail:
		return []string{"delta"}
	case netstack.ActRxMeta:
		return []string{"kfunc"}
	case netstack.ActChangeTail:
		return nil // len or delta, checked after
	case netstack.ActFibForward, netstack.ActGetTunnelKey:
		return nil
	case netstack.ActSetTunnelKey:
		return []string{"id", "remote"}
	}
	return []string{"value"}
}

func actionNames() string {
	var names []string
	for k := netstack.ActionKind(0); k < netstack.NumActionKinds; k++ {
		names = append(names, k.String())
	}
	return strings.Join(names, ", ")
}

// action reads one step of a program from netstack's action library:
// "- drop", "- read: tag" (the kind's main argument) or
// "- write: {map: tag, value: 7}".
func (d *dec) action(n *yaml.Node, what string, maps []carrier.MapSpec) (a netstack.Action, err error) {
	var kn, args *yaml.Node
	switch n.Kind {
	case yaml.ScalarNode:
		kn = n
	case yaml.MappingNode:
		if len(n.Content) != 2 {
			return a, d.errf(n, "%s: an action is one name with its arguments", what)
		}
		kn, args = n.Content[0], n.Content[1]
	default:
		return a, d.errf(n, "%s: want an action, got %s", what, kindName(n))
	}
	name, err := d.scalar(kn, what+": action")
	if err != nil {
		return a, err
	}
	kind, ok := netstack.ParseActionKind(name)
	if !ok {
		return a, d.errf(kn, "%s: unknown action %q (known: %s)", what, name, actionNames())
	}
	a.Kind = kind
	what += ": " + name
	allowed := actionArgs[kind]
	given := map[string]*yaml.Node{}
	switch {
	case args == nil || (args.Kind == yaml.ScalarNode && args.Tag == "!!null"):
	case args.Kind == yaml.ScalarNode:
		if len(allowed) == 0 {
			return a, d.errf(args, "%s takes no argument", what)
		}
		given[allowed[0]] = args
	case args.Kind == yaml.MappingNode:
		if len(allowed) == 0 {
			return a, d.errf(args, "%s takes no argument", what)
		}
		if given, err = d.fields(args, what, allowed...); err != nil {
			return a, err
		}
	default:
		return a, d.errf(args, "%s: want a value or a mapping of arguments, got %s", what, kindName(args))
	}
	for _, k := range actionRequired(kind) {
		if _, ok := given[k]; !ok {
			return a, d.errf(n, "%s: missing %q", what, k)
		}
	}
	for _, k := range allowed {
		v, ok := given[k]
		if !ok {
			continue
		}
		w := what + "." + k
		switch k {
		case "map":
			s, err := d.name(v, w)
			if err != nil {
				return a, err
			}
			a.Map = -1
			for i, m := range maps {
				if m.Name == s {
					a.Map = i
				}
			}
			if a.Map < 0 {
				return a, d.errf(v, "%s: unknown map %q", what, s)
			}
		case "value":
			a.Value, err = d.uint64v(v, w)
		case "index":
			a.Index, err = d.intv(v, w, 0, 4)
		case "target":
			a.Target, err = d.name(v, w)
		case "ingress":
			a.Ingress, err = d.boolean(v, w)
		case "mono":
			a.Mono, err = d.boolean(v, w)
		case "mirror":
			a.Mirror, err = d.boolean(v, w)
		case "cpumap":
			a.Target, err = d.name(v, w)
		case "cpu":
			a.Index, err = d.intv(v, w, 0, 8191)
		case "fallback":
			// bpf_redirect_map's flags: the action for an empty entry.
			var f string
			f, err = d.enum(v, w, "aborted", "drop", "pass", "tx")
			a.Value |= uint64(slices.Index([]string{"aborted", "drop", "pass", "tx"}, f))
		case "delta":
			lo, hi := -256, 4096
			if kind == netstack.ActChangeTail || kind == netstack.ActAdjustTail {
				lo, hi = -65535, 65535
			}
			a.Delta, err = d.intv(v, w, lo, hi)
			if kind == netstack.ActChangeTail {
				a.Index = 1
			}
		case "len":
			a.Value, err = d.uint64v(v, w)
			if err == nil && a.Value > math.MaxUint32 {
				err = d.errf(v, "%s: %d does not fit 32 bits", w, a.Value)
			}
		case "keep_eth":
			a.KeepEth, err = d.boolean(v, w)
		case "mode":
			var m string
			m, err = d.enum(v, w, "net", "mac")
			a.Index = map[string]int{"net": netstack.AdjRoomNet, "mac": netstack.AdjRoomMac}[m]
		case "flags":
			a.Value, err = d.uint64v(v, w)
		case "tci":
			var tci int
			tci, err = d.intv(v, w, 0, 0xffff)
			a.Value = uint64(tci)
		case "tpid":
			var tpid int
			if tpid, err = d.intv(v, w, 0, 0xffff); err == nil && tpid != skb.EthP8021Q && tpid != skb.EthP8021AD {
				err = d.errf(v, "%s: want 0x8100 (802.1Q) or 0x88a8 (802.1ad), got %#x", w, tpid)
			}
			a.TPID = uint16(tpid)
		case "devmap":
			a.Target, err = d.name(v, w)
		case "kfunc":
			var f string
			f, err = d.enum(v, w, "rx_timestamp", "rx_hash", "rx_vlan_tag")
			k, _ := netstack.ParseRxMetaKfunc(f)
			a.Index = int(k)
		case "key":
			a.Index, err = d.intv(v, w, 0, math.MaxUint32)
		case "id":
			a.Value, err = d.uint64v(v, w)
			if err == nil && a.Value > math.MaxUint32 {
				err = d.errf(v, "%s: %d does not fit 32 bits", w, a.Value)
			}
		case "remote", "via":
			var s string
			if s, err = d.scalar(v, w); err == nil {
				if a.Via, err = netip.ParseAddr(s); err != nil {
					err = d.errf(v, "%s: %q is not an IP address", w, s)
				}
			}
		case "ipv6":
			var on bool
			if on, err = d.boolean(v, w); on {
				a.Value = netstack.TunInfoIPv6
			}
		case "direct", "output", "skip_neigh", "mark":
			var on bool
			if on, err = d.boolean(v, w); on {
				a.Value |= map[string]uint64{"direct": netstack.FibLookupDirect, "output": netstack.FibLookupOutput,
					"skip_neigh": netstack.FibLookupSkipNeigh, "mark": netstack.FibLookupMark}[k]
			}
		case "no_neigh":
			var f string
			f, err = d.enum(v, w, "pass", "redirect_neigh")
			if f == "redirect_neigh" {
				a.Index = netstack.FibNoNeighRedirect
			}
		case "broadcast", "exclude_ingress":
			var on bool
			if on, err = d.boolean(v, w); on {
				a.Value |= map[string]uint64{"broadcast": netstack.FlagBroadcast, "exclude_ingress": netstack.FlagExcludeIngress}[k]
			}
		}
		if err != nil {
			return a, err
		}
	}
	if kind == netstack.ActChangeTail && len(given) != 1 {
		return a, d.errf(n, "%s: want len (the new length) or delta (bytes added, negative: removed)", what)
	}
	return a, nil
}
