// Package capture reads, decodes and generates packet captures for skbsim.
//
// Reading and decoding real captures and generating synthetic ones are one
// concept, shared by the replay engine (sim/) and the CLI (cmd/simrun): the
// engine replays what [Reader] and [Decoder] produce, the CLI writes demo and
// benchmark captures with [Generate] and [Repeat], and the tests of both rely
// on generated captures decoding to exactly the headers that were generated.
// Keeping the three together lets one package own the link types, tunnel
// kinds and malformations the model understands.
//
// # Reading
//
// [Open] and [NewReader] sniff the format: pcap (both byte orders,
// microsecond and nanosecond magics, transparently gunzipped) or pcapng
// (every section, both byte orders, every interface and link type in one
// file). [Reader.Next] streams packets one at a time through pcapgo's
// zero-copy read path; memory does not grow with the file.
//
// Ownership: the [Packet] returned by Next, and the bytes in Packet.Data, are
// owned by the Reader and are valid only until the next call to Next or
// Close. A caller that keeps a packet copies it ([Packet.Clone]). The Reader
// does NOT take ownership of the io.Reader given to NewReader; Close closes
// only the file that Open opened.
//
// # Errors
//
// Damaged input never panics. Every failure is a [*Error] whose message is
// one line naming the file, the index of the packet being read and the byte
// offset of its record (or block):
//
//	x.pcap: packet 123 at byte 4567: truncated record (want 1514 bytes, have 200)
//
// The wrapped error matches the package sentinels ([ErrTruncated],
// [ErrBadMagic], [ErrUnsupportedLinkType], ...) and their Linux errno under
// errors.Is. A Reader that hit an error keeps returning it; the packets before
// it were already delivered.
//
// # Decoding
//
// A [Decoder] turns packet bytes into a fixed-size [Decoded] value without
// allocating: it drives gopacket's DecodingLayerParser over preallocated
// layers and decodes tunnel payloads (VXLAN, Geneve, GRE, IPIP, 6in4,
// IPv6-in-IPv6, MPLS pseudowires) with a second parser pass, up to
// [MaxTunnelDepth] nested tunnels. Malformed packets are not errors: the
// decoder stops at the first header the kernel would reject and reports a
// [Malformation] with the kernel's [DropReason], so the modelled stack can
// drop the packet with the reason Linux gives. A Decoder is not safe for
// concurrent use; use one per goroutine. Decode does NOT take ownership of
// the packet bytes and does not retain them.
//
// # Generating
//
// [Generate] writes deterministic synthetic captures (pcap or pcapng) built
// with gopacket serialisation from a [GenSpec] or one of the named [Presets];
// [Repeat] stretches a capture to a minimum packet count with shifted
// timestamps for benchmarks, and [DecodeOnly] measures the read and decode
// rate that bounds the simulator's own rate.
//
// The presets ([Presets], [PresetDoc]; `simrun gen -preset NAME`):
//
//   - demo: a few hundred packets of mixed TCP/UDP with some tunnels and
//     fragments
//   - lb: clients to a VIP, forwarded IPIP-encapsulated toward backends,
//     replies direct (examples/edge-lb.yaml)
//   - overlay: TCP (and some DNS) between pods over VXLAN, at random node
//     addresses and VNIs
//   - overlay-node: the traffic the NIC of examples/overlay.yaml's node
//     receives: UDP from remote pods (10.244.2.0/24) to port 8080 of its two
//     pods (10.244.1.2 and 10.244.1.3 at their veth MACs), in VXLAN with VNI
//     42 from the remote node 192.168.1.2 to 192.168.1.1, the outer source
//     port chosen per inner flow as udp_flow_src_port() does
//   - tap: TCP with retransmissions, duplicate ACKs and retransmitted SYNs
//     (examples/tap-clone.yaml)
//   - mixed: every kind of traffic the generator draws at random addresses
//   - large: many concurrent flows of the demo mix, for benchmarks
package capture
