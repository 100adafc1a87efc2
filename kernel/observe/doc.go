// Package observe defines the plain data that the real-kernel recorder
// (package kernel) and the model (package netstack) both produce for a packet
// transition, so that the two can be compared cell by cell.
//
// A transition is a fixed scenario: a topology of network namespaces and
// devices, one marked test packet (IPv4/UDP to [TestPort], or the same
// packet inside one VXLAN, Geneve, GRE, IPIP or IPv6 tunnel over an IPv4 or
// IPv6 underlay; a datagram above the MTU travels as fragments, of which
// only the first matches), a list of [Action]s that programs perform at
// named hooks
// (write mark, priority, tc_index, cb[], hash, tstamp; redirect; reserve XDP
// metadata), and a list of [Hook]s where a recorder program reads the
// packet's observable carriers. The catalogue is [Transitions]; each entry's
// Setup text says exactly what to build so a model can reproduce it.
//
// Socket-level points (CgroupIngress, SocketFilter) record on the UDP
// socket bound to TestPort in the hook device's namespace, which the
// recorder creates in its own cgroup; their programs cannot read every
// field (Point.Readable), and Normalize drops the cells they cannot.
//
// A recorder finds the test packet from the network header at tc hooks, so
// it recognises it whatever precedes that header (an Ethernet header, the
// outer headers tc ingress pushes back with mac_len after a decap, or
// nothing on a device without a link-layer header), and from the Ethernet
// header at XDP hooks. Devices with a link-layer address have the fixed
// ones of [DeviceMACs] on both sides, so header bytes compare equal.
//
// The IP tunnel topologies ([Topology.Tunnel]) need tunnel drivers that a
// kernel may be built without; the recorder then reports the transition as
// not supported, and the differential suite lists it as skipped.
//
// The recorder at a hook runs first and records the state the packet has on
// arrival at that hook; the hook's actions (if any) run after the recording.
// A hook that never saw the test packet yields a single [FieldCount]
// observation with value 0.
//
// Values that the kernel does not determine from the scenario (socket hash,
// clock timestamps, stale cb[] bytes) are normalised by [Normalize] to
// [ValueOther], so a matrix is reproducible across boots and machines.
// Interface indexes are reported with the name of the device they resolve
// to in the hook's namespace, because ifindex numbers are not reproducible.
//
// This package is pure Go and builds on every OS; it does not take ownership
// of anything and holds no kernel resources.
package observe
