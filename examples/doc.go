// Package examples holds complete skbsim scenarios (the *.yaml files in this
// directory) and the tests that replay captures through them and assert
// their key outcomes. Run one with
//
//	simrun run -scenario examples/edge-lb.yaml CAPTURE
//
// edge-lb.yaml and overlay.yaml replay `simrun gen -preset lb` and
// `-preset overlay`-style traffic; tap-clone.yaml replays `-preset tap`
// through a sending TCP socket; udp-gso.yaml replays `-preset quic`
// through a UDP_SEGMENT socket whose batches reach a server as segments
// (what survives skb_segment); udp-gro-router.yaml replays `-preset
// quic-router` through a router whose NIC has rx-gro-list (what survives
// fraglist GRO and skb_segment_list); edge-lb-cpumap.yaml is edge-lb.yaml
// with its NIC's XDP program redirecting every frame into a cpumap (what
// survives the skb the cpumap's kthread builds, and what its GRO merges);
// edge-lb-hints.yaml reads the NIC's receive hints (hash, hardware
// timestamp) with device-bound XDP programs on the NIC and on the
// container's veth (where they survive the decap and the veth, and where
// a copy or an XDP redirect loses them); edge-lb-macvlan.yaml puts two of
// the backends in containers on macvlan devices (no scrub from the NIC into
// the container; the decap inside it resets the extensions);
// xdp-router.yaml replays `-preset quic-router` through a router whose
// NIC's XDP program forwards with bpf_fib_lookup (no skb hook of the host
// runs; the metadata crosses a veth as part of the xdp_frame);
// overlay-collect-md.yaml is overlay.yaml's node with a collect_md vxlan
// device and no bridge (where the tunnel key stays readable);
// mark-routing.yaml replays `-preset quic-router` through a host whose
// policy rule routes marked packets into a service namespace (the mark
// steers the host's route, and is gone when the next namespace routes);
// ecmp.yaml replays `-preset quic-router` through a router whose
// multipath route spreads the flows over two backends (by the NIC's L4
// hash under the l4 policy, by the seeded hash of the addresses under l3)
// and, with one backend's link down, still sends it its share, which the
// qdisc drops after tc egress, unless ignore_routes_with_linkdown is set;
// ecmp-failover.yaml is that router while one backend's link fails and
// comes back during the replay (link events: carrier loss, the path
// dead, revived);
// netkit.yaml replays `-preset quic-router` into a pod behind a netkit
// pair, by bpf_redirect_peer or forwarded through the pair (which values
// and marks netkit_prep_forward's scrub keeps, by scrub mode and kernel);
// the rfc-*.yaml files are the skb local
// storage RFC's selftests (prog_tests/skb_storage.c) as scenarios, replaying
// UDP packets between loopback sockets, and, for the two selftests that
// load at TCP connection setup (sockops PASSIVE_ESTABLISHED_CB and
// lsm/inet_conn_established), `-preset tap` TCP handshakes received by a
// listening and by a connecting socket.
package examples
