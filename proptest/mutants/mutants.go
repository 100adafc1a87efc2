// Package mutants lists realistic seeded bugs in skbsim's model, as data:
// each is one exact source edit that the project's test suites must catch.
// The runner (proptest/cmd/mutants, make mutants) applies them one at a time
// to a copy of the module; a test checks that every edit still applies, so
// the list cannot rot silently when the code moves.
package mutants

import (
	"bytes"
	"fmt"
)

// Mutant is one seeded bug.
type Mutant struct {
	// Name is a short identifier.
	Name string
	// File is the module-relative path of the file to edit.
	File string
	// Old must occur exactly once in File; it is replaced by New.
	Old, New string
	// Desc says which kernel rule the edit breaks.
	Desc string
	// Pkgs are the module-relative packages whose tests must catch it.
	Pkgs []string
}

// Apply returns src with the mutant's edit applied. It fails when Old does
// not occur exactly once (the mutant is stale).
func (m Mutant) Apply(src []byte) ([]byte, error) {
	switch n := bytes.Count(src, []byte(m.Old)); n {
	case 1:
		return bytes.Replace(src, []byte(m.Old), []byte(m.New), 1), nil
	default:
		return nil, fmt.Errorf("mutant %s: %s: search text found %d times, want 1 (stale)", m.Name, m.File, n)
	}
}

var lsPkgs = []string{"./localstorage", "./carrier", "./proptest"}

// List is the mutant list.
var List = []Mutant{
	{
		Name: "sk-clone-keeps-parent-storage",
		File: "localstorage/sk.go",
		Old: `	if child.storage != nil {
		panic("localstorage: bpf_sk_storage_clone into a socket that has storage")
	}`,
		New: `	if child.storage == nil {
		child.storage = parent.storage
	}`,
		Desc: "bpf_sk_storage_clone() does not RCU_INIT_POINTER(newsk->sk_bpf_storage, NULL): the cloned child keeps its parent's storage pointer",
		Pkgs: lsPkgs,
	},
	{
		Name: "last-delete-keeps-storage",
		File: "localstorage/storage.go",
		Old:  `	free := s.n == 1 // hlist_is_singular_node()`,
		New:  `	free := false // hlist_is_singular_node()`,
		Desc: "bpf_selem_unlink_storage_nolock() misses hlist_is_singular_node(): deleting the last element does not free the bpf_local_storage",
		Pkgs: lsPkgs,
	},
	{
		Name: "create-fills-cache",
		File: "localstorage/storage.go",
		Old: `	o.setStoragePtr(s)
	return nil
}`,
		New: `	o.setStoragePtr(s)
	s.cache[m.cacheIdx] = first
	return nil
}`,
		Desc: "bpf_local_storage_alloc() publishes the new element in the cache (the kernel caches only on a later lookup with cacheit_lockit)",
		Pkgs: lsPkgs,
	},
	{
		Name: "scrub-skips-ext-reset",
		File: "skb/scrub.go",
		Old: `	if l := &b.a.hooks; len(l.scrubBefore)+len(l.scrubAfter) != 0 {
		b.a.runScrub(b, xnet, false)
		b.extReset("skb_scrub_packet")
		b.a.runScrub(b, xnet, true)
	} else {
		b.extReset("skb_scrub_packet")
	}`,
		New: `	if l := &b.a.hooks; len(l.scrubBefore)+len(l.scrubAfter) != 0 {
		b.a.runScrub(b, xnet, false)
		b.a.runScrub(b, xnet, true)
	}`,
		Desc: "skb_scrub_packet() skips skb_ext_reset(): storage survives encap/decap and netns crossing",
		Pkgs: []string{"./skb", "./localstorage", "./carrier", "./proptest"},
	},
	{
		Name: "ext-cow-keeps-storage",
		File: "skb/ext.go",
		Old: `	case ExtCOWClearIfActive:
		if oldActive&(1<<ExtBPFStorage) != 0 {
			e.storage = nil
		}`,
		New:  `	case ExtCOWClearIfActive:`,
		Desc: "skb_ext_maybe_cow() copies the BPF storage pointer into the new extension (the RFC leaves it NULL): two objects own one storage",
		Pkgs: []string{"./skb", "./localstorage", "./carrier", "./proptest"},
	},
	{
		Name: "charge-check-le",
		File: "localstorage/sk.go",
		Old:  `	if size <= limit && sk.omem+size < limit {`,
		New:  `	if size <= limit && sk.omem+size <= limit {`,
		Desc: "bpf_sk_storage_charge() checks sk_omem_alloc + size <= optmem_max instead of the strict < of sock_kmalloc()",
		Pkgs: lsPkgs,
	},
	{
		Name: "map-free-misses-owner",
		File: "localstorage/map.go",
		Old: `	for i := range m.buckets {
		for m.buckets[i] != nil {`,
		New: `	for i := 1; i < len(m.buckets); i++ {
		for m.buckets[i] != nil {`,
		Desc: "bpf_local_storage_map_free() skips bucket 0: the owners hashed there keep elements of a freed map",
		Pkgs: lsPkgs,
	},
	{
		Name: "clone-ignores-bpf-f-clone",
		File: "localstorage/sk.go",
		Old:  `func cloneFlagSet(m *Map) bool { return m.spec.Flags&FlagClone != 0 }`,
		New:  `func cloneFlagSet(m *Map) bool { return true }`,
		Desc: "bpf_sk_storage_clone() copies elements of maps without BPF_F_CLONE",
		Pkgs: lsPkgs,
	},
	{
		Name: "gro-keeps-second-mark",
		File: "netstack/rx.go",
		Old:  `		// napi_skb_finish: no tracepoint for a merged skb.`,
		New: `		ph.Mark = bh.Mark
		// napi_skb_finish: no tracepoint for a merged skb.`,
		Desc: "skb_gro_receive() lets the merged segment's skb->mark overwrite the held skb's (the aggregate keeps the first skb's header)",
		Pkgs: []string{"./netstack", "./proptest"},
	},
	{
		Name: "refusal-ignores-cloned-bit",
		File: "localstorage/skb.go",
		Old:  `func skbShared(b *skb.Buff) bool { return b.Cloned() && b.ExtShared() }`,
		New:  `func skbShared(b *skb.Buff) bool { return b.ExtShared() }`,
		Desc: "bpf_skb_storage_get/delete refuse every skb whose extension is shared, not only skb->cloned ones (copies and segments lose access)",
		Pkgs: lsPkgs,
	},
	{
		Name: "cache-hit-skips-map-check",
		File: "localstorage/storage.go",
		Old:  `	if el := s.cache[m.cacheIdx]; el != nil && el.smap == m {`,
		New:  `	if el := s.cache[m.cacheIdx]; el != nil {`,
		Desc: "bpf_local_storage_lookup() trusts the cache slot without checking sdata->smap == smap (maps sharing a slot read each other's value)",
		Pkgs: lsPkgs,
	},
	{
		Name: "scrub-xnet-keeps-mark",
		File: "skb/scrub.go",
		Old:  `	h.Mark = 0`,
		New:  ``,
		Desc: "skb_scrub_packet(skb, xnet=true) keeps skb->mark",
		Pkgs: []string{"./skb", "./netstack", "./proptest"},
	},
	{
		Name: "destroy-returns-no-charge",
		File: "localstorage/storage.go",
		Old:  `	charge := s.memCharge`,
		New:  `	charge := 0`,
		Desc: "bpf_local_storage_destroy() returns 0 instead of mem_charge: __sk_destruct never uncharges sk_omem_alloc",
		Pkgs: lsPkgs,
	},
	{
		Name: "update-exist-on-missing",
		File: "localstorage/storage.go",
		Old: `	if old == nil && f == UpdateExist {
		return ErrNotFound
	}`,
		New:  ``,
		Desc: "check_flags() accepts BPF_EXIST for a missing element (the kernel returns -ENOENT)",
		Pkgs: lsPkgs,
	},
	{
		Name: "coalloc-block-without-elem",
		File: "localstorage/alloc.go",
		Old:  `			n := first.smap.coallocKSize // ss + elem_size, worked out by mapAlloc`,
		New:  `			n := ss`,
		Desc: "rfc-coalloc books the co-allocated block at sizeof(storage) only, forgetting the embedded element",
		Pkgs: lsPkgs,
	},
	{
		Name: "slim-kmallocs-storage",
		File: "localstorage/alloc.go",
		Old: `	case allocSlim:
		// Embedded in the skb_ext chunk the skb owner allocated.
		return nil`,
		New:  `	case allocSlim:`,
		Desc: "rfc-slim allocates a separate storage although it is embedded in the skb_ext chunk",
		Pkgs: lsPkgs,
	},
	{
		Name: "skbhash-clone-ignores-flag",
		File: "carrier/skbhash.go",
		Old:  `		if c.maps[m].Flags&FlagClone == 0 {`,
		New:  `		if c.maps[m].Flags&FlagClone != 0 {`,
		Desc: "the skb-hash clone program's flag test is inverted: it copies the maps without the clone flag and skips the others",
		Pkgs: []string{"./carrier", "./proptest"},
	},
	{
		Name: "expand-head-keeps-meta",
		File: "skb/copy.go",
		Old:  `		nb.sh.MetaLen = 0 // skb_metadata_clear (v4.15 .. v6.18)`,
		New:  ``,
		Desc: "pskb_expand_head() keeps meta_len on kernels before v6.19 (they clear it)",
		Pkgs: []string{"./skb", "./carrier", "./netstack", "./proptest"},
	},
	{
		Name: "free-hook-after-release",
		File: "skb/free.go",
		Old: `	b.a.runFree(b, reason)
	// __kfree_skb, written out (free) to save a call per packet.
	b.releaseHeadState()`,
		New: `	b.releaseHeadState()
	b.a.runFree(b, reason)
	// __kfree_skb, written out (free) to save a call per packet.`,
		Desc: "trace_kfree_skb/consume_skb fire after skb_release_head_state(): the extension and its storage are gone at the tracepoint",
		Pkgs: []string{"./skb", "./localstorage", "./carrier", "./netstack", "./proptest"},
	},
	{
		Name: "exited-task-pidfd-resolves",
		File: "localstorage/syscall.go",
		Old: `		if p.Task.exited {
			return nil, ErrNotFound
		}`,
		New:  ``,
		Desc: "a pidfd of an exited task still resolves (pidfd_get_pid()/pid_task() return NULL after release_task(): -ENOENT)",
		Pkgs: lsPkgs,
	},
	{
		Name: "mptcp-subflow-clones-storage",
		File: "localstorage/active.go",
		Old:  `	ssk := NewSock(sk.net)`,
		New: `	ssk := NewSock(sk.net)
	_ = e.SkClone(sk, ssk)`,
		Desc: "mptcp_subflow_create_socket() makes the first subflow with sock_create_kern(): nothing calls bpf_sk_storage_clone() on the active side, so the subflow starts without the msk's BPF_F_CLONE elements",
		Pkgs: lsPkgs,
	},
	{
		Name: "sockops-passive-at-syn",
		File: "netstack/tcp.go",
		Old: `	t.insert(&f.key, sk, seq+1, s.cur)
	t.stats.Requests++`,
		New: `	t.insert(&f.key, sk, seq+1, s.cur)
	t.stats.Requests++
	s.runSockOps(sk, b, SockOpsPassiveEstablishedCB)`,
		Desc: "BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB runs from tcp_init_transfer() on the child, with the ACK that completes the handshake (tcp_check_req -> tcp_child_process), not with the SYN that made the request",
		Pkgs: []string{"./netstack", "./examples", "./proptest"},
	},
	{
		Name: "frag-reasm-keeps-last-fragment-state",
		File: "netstack/frag_queue.go",
		Old:  `		b.Morph(head)`,
		New:  ``,
		Desc: "inet_frag_reasm_prepare() (ip_frag_reasm, ip6_frag_reasm): when the completing fragment is not the offset-0 one, skb_morph(skb, head) gives it the head's header state (mark, hash, extensions, cb); without it the datagram carries the last fragment's",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "ip6tnl-rcv-no-xnet-scrub",
		File: "netstack/tunnel6.go",
		Old: `	xnet := d.linkNs != d.ns
	if d.kind == KindIP6GRETap {`,
		New: `	xnet := false
	if d.kind == KindIP6GRETap {`,
		Desc: "__ip6_tnl_rcv() scrubs with xnet = !net_eq(tunnel->net, dev_net(tunnel->dev)): a tunnel whose link is in another namespace clears skb->mark on receive",
		Pkgs: []string{"./netstack"},
	}, {
		Name: "reasm-frees-fragments",
		File: "netstack/frag_queue.go",
		Old:  `		head.AppendFragList(f.b)`,
		New:  `		f.b.ConsumeSkb()`,
		Desc: "inet_frag_reasm_finish() chains a fragment skb_try_coalesce cannot take on the head's frag_list; freeing it instead leaves the datagram shorter than its tot_len",
		Pkgs: []string{"./skb", "./netstack"},
	},
	{
		Name: "gro-merge-fires-tracepoint",
		File: "netstack/rx.go",
		Old: `		case skb.GROFreeStolenHead:
			b.FreeStolenHead()`,
		New: `		case skb.GROFreeStolenHead:
			b.ConsumeSkb()`,
		Desc: "napi_skb_finish() frees a GRO-merged skb whose head was stolen with napi_skb_free_stolen_head(), without the consume_skb tracepoint (and without freeing the head the aggregate now holds)",
		Pkgs: []string{"./skb", "./netstack"},
	},
	{
		Name: "fraglist-free-skips-tracepoint",
		File: "skb/nonlinear.go",
		Old: `		m.next = nil
		a.runListFree(m, reason)`,
		New:  `		m.next = nil`,
		Desc: "kfree_skb_list_reason() fires trace_kfree_skb / trace_consume_skb for every frag_list skb it frees (__sk_skb_reason_drop)",
		Pkgs: []string{"./skb", "./netstack"},
	},
	{
		Name: "segment-copies-page-frags",
		File: "skb/segment.go",
		Old:  `	sg := true`,
		New:  `	sg := false`,
		Desc: "skb_segment() with NETIF_F_SG references the page fragments' bytes from each segment instead of copying them (no payload memcpy, headlen = headers)",
		Pkgs: []string{"./skb", "./netstack"},
	},
	{
		Name: "segment-copies-frag-list",
		File: "skb/segment.go",
		Old:  `		if lh := list.headlenOrZero(); hsize <= 0 && i >= len(frags) && lh != 0 && (lh == n || sg) {`,
		New:  `		if lh := list.headlenOrZero(); false && hsize <= 0 && i >= len(frags) && lh != 0 && (lh == n || sg) {`,
		Desc: "skb_segment() makes a piece held by a frag_list skb with linear data a clone of that skb (skb_clone, pskb_trim, skb_cow_head), not a fresh skb",
		Pkgs: []string{"./skb", "./netstack"},
	},
	{
		Name: "segment-no-split-along-frag-list",
		File: "skb/segment.go",
		Old:  `		if split && own == fragLen {`,
		New:  `		if false && split && own == fragLen {`,
		Desc: "skb_segment() with net_gso_ok splits a frag_list skb whose list skbs line up into GSO skbs along the list (partial_segs)",
		Pkgs: []string{"./skb", "./netstack"},
	},
	{
		Name: "nic-has-netif-f-fraglist",
		File: "netstack/stack.go",
		Old: `	case KindNIC:
		return false
	case KindVXLAN, KindGeneve:`,
		New: `	case KindNIC:
		return true
	case KindVXLAN, KindGeneve:`,
		Desc: "a physical NIC lacks NETIF_F_FRAGLIST, so validate_xmit_skb segments a GSO skb with a frag_list before it",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "generic-xdp-frags-linearized",
		File: "netstack/core.go",
		Old:  `	if d != nil && d.xdpFrags && s.prof.GenericXDPFrags {`,
		New:  `	if false && d != nil && d.xdpFrags && s.prof.GenericXDPFrags {`,
		Desc: "generic XDP gives a multi-buffer program a page-pool copy of a non-linear skb (skb_pp_cow_data, v6.9), not a linearized skb",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "gso-segments-unowned",
		File: "netstack/tx.go",
		Old: `	s.gsoCopyDtor(b, start)
	n := len(s.segs) - start
	// tcp_gso_segment / __udp_gso_segment`,
		New: `	n := len(s.segs) - start
	// tcp_gso_segment / __udp_gso_segment`,
		Desc: "__udp_gso_segment and tcp_gso_segment give every segment of a socket's GSO skb the socket and its destructor (copy_dtor, copy_destructor)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "veth-xdp-tx-keeps-skb",
		File: "netstack/rx.go",
		Old: `		b = b.ToFrame()
	}
	if rcv == nil || !rcv.up || !napi || s.recursion > maxRecursion {`,
		New: `		b.ResetMacHeader()
	}
	if rcv == nil || !rcv.up || !napi || s.recursion > maxRecursion {`,
		Desc: "an XDP_TX or XDP_REDIRECT frame reaches the veth peer as a new skb built from the frame (xdp_build_skb_from_frame): the old skb's mark, hash and extensions do not survive",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "udp-gso-delivered-whole",
		File: "netstack/ip.go",
		Old:  `	if sh := b.Shinfo(); sh.GSOSize != 0 && s.prof.UDPRcvSegment &&`,
		New:  `	if sh := b.Shinfo(); sh.GSOSize != 0 && false &&`,
		Desc: "udp_queue_rcv_skb() segments a UDP GSO skb for a socket without UDP_GRO (udp_unexpected_gso, udp_rcv_segment), so the socket's programs run per segment",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "segment-list-keeps-own-header",
		File: "skb/segment.go",
		Old: `		nskb.copyHeader(b)
		nskb.headersOffsetUpdate(nskb.data - b.data)`,
		New: `		nskb.dstCopy(b)
		nskb.headersOffsetUpdate(0)`,
		Desc: "skb_segment_list() gives each chained skb the GSO skb's header state (__copy_skb_header: mark, priority, cb, hash, extensions)",
		Pkgs: []string{"./skb", "./netstack"},
	},
	{
		Name: "fraglist-gro-for-udp-gro-socket",
		File: "netstack/rx.go",
		Old:  `			flist = d.groList && (sk == nil || !sk.udpGRO)`,
		New:  `			flist = d.groList`,
		Desc: "udp_gro_receive(): is_flist is off for a UDP_GRO socket, which gets the payload merged (skb_gro_receive) instead of a fraglist skb",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "ipv6-gro-ignores-extension-bytes",
		File: "netstack/rx.go",
		Old:  `(pd[nh+6] != data[nh+6] ||`,
		New:  `(pd[nh+6] != data[nh+6] &&`,
		Desc: "ipv6_gro_receive() merges only segments whose extension headers are the same bytes (memcmp over nlen)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "tcp-gro-ignores-ack",
		File: "netstack/rx.go",
		Old:  `				bytes.Equal(l4[8:12], th2[8:12]) && bytes.Equal(l4[20:doff], th2[20:doff]) && seq == g.next &&`,
		New:  `				bytes.Equal(l4[20:doff], th2[20:doff]) && seq == g.next &&`,
		Desc: "tcp_gro_receive() flushes a segment whose acknowledgment number differs from the held skb's",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "vxlan-gro-ignores-tunnel-header",
		File: "netstack/rx.go",
		Old:  `			!bytes.Equal(pd[outer.ihl+udpHlen:nh], data[outer.ihl+udpHlen:nh])) {`,
		New:  `			false) {`,
		Desc: "vxlan_gro_receive() and eth_gro_receive() merge only packets with the same VXLAN flags and VNI and the same inner Ethernet header",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "gro-outer-ip-id-unchecked",
		File: "netstack/rx.go",
		Old:  `			ipFlush = g.ipFlush(&g.outer, &outer, 1, s.prof)`,
		New:  `			ipFlush = false`,
		Desc: "from v6.18 inet_gro_flush() checks a tunnel packet's outer IPv4 identification too (incrementing or fixed)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "decap-keeps-tunnel-gso-type",
		File: "netstack/tunnel.go",
		Old:  `		sh.GSOType &^= skb.GSOEncapAll`,
		New:  `		_ = sh`,
		Desc: "iptunnel_pull_offloads() clears the tunnel GSO types of a decapsulated GSO skb",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "tcp-gro-merges-cwr",
		File: "netstack/rx.go",
		Old:  `			words := fw&tcpFlagCWR == 0 && (fw^fw2)&^ignore == 0`,
		New:  `			words := (fw^fw2)&^ignore == 0`,
		Desc: "tcp_gro_receive() never merges a segment with CWR (flags & TCP_FLAG_CWR), on v6.18 too",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "gro-not-merged-goes-up-alone",
		File: "netstack/rx.go",
		Old: `			s.groComplete(gn, bk, i)
			break`,
		New: `			s.groComplete(gn, bk, i)
			s.netifReceive(b)
			return`,
		Desc: "dev_gro_receive() holds a segment that did not merge (same_flow 0, not flushed) as a new aggregate",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "veth-gro-ignores-eligibility",
		File: "netstack/rx.go",
		Old:  `	if d.gro && eligible && s.prof.VethGRONapi {`,
		New:  `	if d.gro && s.prof.VethGRONapi {`,
		Desc: "veth_xmit() takes the peer's NAPI (GRO) path only for skbs veth_skb_is_eligible_for_gro() accepts",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "mirred-redirect-clones-at-ingress",
		File: "netstack/mirred.go",
		Old:  `	if c.ingress && !mirror {`,
		New:  `	if false {`,
		Desc: "tcf_mirred_to_dev() sends the skb itself for a redirect at tc ingress (dont_clone, TC_ACT_CONSUMED) instead of a clone",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "tcp-send-linear",
		File: "netstack/tx.go",
		Old:  `	if s.prof.TCPSendLinearFirst && len(sk.rtx) == 0 {`,
		New:  `	if true {`,
		Desc: "tcp_sendmsg_locked() puts the payload in page fragments (linear payload only for the first skb of an empty queue before v5.1)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "cpumap-frame-keeps-skb",
		File: "netstack/cpumap.go",
		Old:  `		if it.kind == cpumapKindOld {`,
		New:  `		if false && it.kind == cpumapKindOld {`,
		Desc: "a frame redirected into a cpumap reaches the stack as a new skb built from it in the kthread (__xdp_build_skb_from_frame): the old skb's mark, hash and extensions do not survive",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "cpumap-without-gro",
		File: "netstack/cpumap.go",
		Old: `			if s.prof.CpumapGRO {
				s.groReceive(&e.gro, it.b, it.dev)`,
		New: `			if false {
				s.groReceive(&e.gro, it.b, it.dev)`,
		Desc: "from v6.15 the cpumap kthread hands its skbs to its own GRO instance (gro_receive_skb on rcpu->gro)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "generic-xdp-redirect-keeps-meta",
		File: "netstack/core.go",
		Old: `	case b.MetadataLen() != oldMeta:
		b.MetadataSet(oldMeta)`,
		New: `	case false:
		b.MetadataSet(oldMeta)`,
		Desc: "bpf_prog_run_generic_xdp sets the skb's metadata length on XDP_PASS only: a redirected or bounced skb keeps the one it had",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "gro-trusts-unchecked-checksums",
		File: "netstack/rx.go",
		Old:  `	if h.IPSummed != skb.ChecksumPartial && *cnt == 0 && !s.l4CsumValid(b, nh, nhLen, proto) {`,
		New:  `	if false {`,
		Desc: "tcp4_gro_receive and udp4_gro_receive check a CHECKSUM_NONE packet's checksum in software and merge no bad one (skb_gro_checksum_validate)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "gro-aggregate-keeps-checksum-state",
		File: "netstack/rx.go",
		Old:  `			groCompleteCsum(g.b, d, g.nh, th, g.ip.proto)`,
		New:  ``,
		Desc: "tcp4_gro_complete and udp4_gro_complete make an aggregate CHECKSUM_PARTIAL with the pseudo-header sum of its length in the check field",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "tunnel-segment-skips-outer-checksum",
		File: "netstack/tx.go",
		Old:  `				tunnelSegOuterCsum(g, l2, l2+outer.ihl, inTr, inner.proto)`,
		New:  ``,
		Desc: "__skb_udp_tunnel_segment writes each segment's outer UDP checksum of an SKB_GSO_UDP_TUNNEL_CSUM skb (gso_make_checksum)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "above-mtu-cut-keeps-psh",
		File: "netstack/abovemtu.go",
		Old: `			if i != n-1 {
				l4[13] &^= tcpFIN | tcpPSH
			}`,
		New:  ``,
		Desc: "tcp_gso_segment sends FIN and PSH on the last segment only: the wire frames cut from a captured aggregate carry them so",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "above-mtu-cut-fixed-id",
		File: "netstack/abovemtu.go",
		Old:  `			binary.BigEndian.PutUint16(nh[4:6], id+uint16(i)) // inet_gso_segment: id++`,
		New:  `			binary.BigEndian.PutUint16(nh[4:6], id) // inet_gso_segment: id++`,
		Desc: "inet_gso_segment counts the IPv4 identification up from segment to segment",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "gro-hw-not-gso",
		File: "netstack/abovemtu.go",
		Old:  `	sh.GSOSize = uint16(seg)`,
		New:  ``,
		Desc: "a NIC's hardware GRO aggregate is a TCP GSO skb of gso_size MSS (tcp_gro_complete in the driver)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "vxlan6-zero-outer-checksum",
		File: "netstack/stack.go",
		Old:  `				d.udpCsum = d.remote.Is6()`,
		New:  `				d.udpCsum = false`,
		Desc: "a vxlan or geneve device over IPv6 writes outer UDP checksums unless udp6zerocsumtx (udp6_set_csum)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "udp6-accepts-zero-checksum",
		File: "netstack/ip.go",
		Old:  `	if op == OpUDP6Rcv && binary.BigEndian.Uint16(b.Data()[6:8]) == 0 && !sk.noCheck6Rx {`,
		New:  `	if false {`,
		Desc: "__udp6_lib_rcv drops an IPv6 datagram with a UDP checksum of 0 unless the socket has no_check6_rx",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "tunnel-lco-ignores-inner",
		File: "netstack/csum.go",
		Old:  `	sum += uint64(^binary.BigEndian.Uint16(d[check:]))`,
		New:  ``,
		Desc: "lco_csum takes the inner packet's part of the outer UDP checksum from the complement of its partial check field",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "decap-keeps-csum-valid",
		File: "netstack/tunnel.go",
		Old: `	h.CsumValid = false
	b.Scrub(xnet)`,
		New:  `	b.Scrub(xnet)`,
		Desc: "a tunnel's inner checksum is the next level: the check of the outer one does not cover it",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "gro-skips-inner-checksum",
		File: "netstack/rx.go",
		Old:  `			if (ip.proto == ipprotoUDP || ip.proto == ipprotoTCP) && !s.groCsumValidate(b, &csumCnt, nh, ip.ihl, ip.proto) {`,
		New:  `			if false {`,
		Desc: "the inner tcp4_gro_receive checks a tunnel packet's inner checksum unless a verified level covers it (csum_cnt)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "rx-checksum-levels-not-used-up",
		File: "netstack/csum.go",
		Old: `	if h.CsumLevel == 0 {
		h.IPSummed = skb.ChecksumNone
	} else {`,
		New: `	if false {
		h.IPSummed = skb.ChecksumNone
	} else if h.CsumLevel > 0 {`,
		Desc: "each checksum a CHECKSUM_UNNECESSARY skb's receive path verifies uses up a csum_level (__skb_decr_checksum_unnecessary)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "nic-xdp-takes-big-frames",
		File: "netstack/rx.go",
		Old: `		if !d.xdpFrags {
			s.rxOversize(d)
			return nil
		}
		lin = xdpLinearMax`,
		New:  `		lin = xdpLinearMax`,
		Desc: "a driver with a native XDP program without xdp.frags receives one page a frame: the NIC drops a longer one",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "tc-data-meta-from-mac-header",
		File: "carrier/xdpmeta.go",
		Old:  `		view, valid = b.DataMeta()`,
		New:  `		view, valid = b.Metadata()`,
		Desc: "tc reads __sk_buff->data_meta, data minus meta_len (bpf_compute_data_pointers), not skb_metadata_end minus meta_len",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "recorder-matches-from-data",
		File: "netstack/transitions.go",
		Old:  `	nh, tail := b.Headroom()+b.NetworkOffset(), b.Headroom()+b.Headlen()`,
		New:  `	nh, tail := b.Headroom(), b.Headroom()+b.Headlen()`,
		Desc: "the transition recorder finds the test packet from the network header (bpf_skb_load_bytes_relative, BPF_HDR_START_NET)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "bridge-keeps-cb",
		File: "netstack/bridge.go",
		Old: `	// memset(skb->cb, 0, sizeof(struct br_input_skb_cb)).
	clear(b.H().CB[:sizeofBrInputSkbCB])`,
		New:  ``,
		Desc: "br_handle_frame clears struct br_input_skb_cb, the first 16 bytes of skb->cb (__sk_buff cb[0] and cb[1])",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "br-netfilter-no-extension",
		File: "netstack/bridge.go",
		Old: `	if _, err := b.ExtAdd(skb.ExtBridgeNF); err != nil {
		return false
	}
	b.Orphan()`,
		New:  `	b.Orphan()`,
		Desc: "br_nf_pre_routing's nf_bridge_alloc adds an SKB_EXT_BRIDGE_NF extension to every bridged IPv4/IPv6 frame",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "cgroup-skb-sees-transport-header",
		File: "netstack/ip.go",
		Old: `	if h != carrier.HookSocketFilter {
		if off := -b.NetworkOffset(); off > 0 && off <= b.Headroom() {`,
		New: `	if false {
		if off := -b.NetworkOffset(); off > 0 && off <= b.Headroom() {`,
		Desc: "__cgroup_bpf_run_filter_skb pushes data back to the network header for cgroup_skb programs",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "gro-ignores-metadata",
		File: "netstack/rx.go",
		Old:  `			!skb.MetadataDiffers(p, b) && g.macBytes == mac`,
		New:  `			g.macBytes == mac`,
		Desc: "gro_list_prepare keeps skbs whose XDP metadata differs (skb_metadata_differs) out of one flow",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "tap-filter-keeps-cb",
		File: "netstack/core.go",
		Old: `		clear(hd.CB[cbDataOff : cbDataOff+bpfCBWords*4])
		c := s.pushCtx(pi, carrier.HookSocketFilter, b, nil, t.ns, nil)`,
		New: `		_ = hd
		c := s.pushCtx(pi, carrier.HookSocketFilter, b, nil, t.ns, nil)`,
		Desc: "packet_rcv runs a tap's filter with bpf_prog_run_clear_cb: cb[] cleared, not restored",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "cgroup-skb-keeps-cb-writes",
		File: "netstack/ip.go",
		Old: `	if push > 0 {
		b.Pull(push)
	}
	copy(hd.CB[cbDataOff:], saved[:])`,
		New: `	if push > 0 {
		b.Pull(push)
	}
	_ = saved`,
		Desc: "bpf_prog_run_save_cb restores cb[] after a socket filter or cgroup_skb program: its cb[] writes are lost",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "socket-sends-full-checksums",
		File: "netstack/csum.go",
		Old:  `	if proto == ipprotoUDP && b.HasFragList() {`,
		New:  `	if true {`,
		Desc: "a socket's TCP segment or UDP datagram leaves CHECKSUM_PARTIAL with the pseudo-header sum in its check field; the device completes it",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "devmap-broadcast-shares-frame",
		File: "netstack/devmap.go",
		Old:  `	copy(c.Head()[hr-meta:hr], b.Head()[hr-meta:hr])`,
		New:  ``,
		Desc: "xdpf_clone copies a broadcast frame's metadata with its data: every device map entry's copy keeps it",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "devmap-program-ignores-drop",
		File: "netstack/devmap.go",
		Old: `		if act != XDPPass {
			b.NapiFree() // xdp_return_frame_rx_napi`,
		New: `		if act != XDPPass && false {
			b.NapiFree() // xdp_return_frame_rx_napi`,
		Desc: "dev_map_bpf_prog_run keeps only the frames its BPF_XDP_DEVMAP program passes",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "devmap-broadcast-includes-ingress",
		File: "netstack/devmap.go",
		Old:  `(flags&FlagExcludeIngress == 0 || !excludedIfindex(d, e.dev.ifindex))`,
		New:  `true`,
		Desc: "dev_map_enqueue_multi skips the device the frame came from with BPF_F_EXCLUDE_INGRESS",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "vlan-untag-skipped",
		File: "netstack/core.go",
		Old: `		if skb.EthTypeVlan(b.H().Protocol) {
			if b = s.vlanUntag(b); b == nil {`,
		New: `		if false {
			if b = s.vlanUntag(b); b == nil {`,
		Desc: "__netif_receive_skb_core calls skb_vlan_untag on an 802.1Q or 802.1ad frame before the taps and tc",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "check-vlan-id-keeps-host",
		File: "netstack/core.go",
		Old: `			h.PktType = skb.PacketOtherhost
		} else if skb.EthTypeVlan(h.Protocol) {`,
		New: `			h.PktType = skb.PacketHost
		} else if skb.EthTypeVlan(h.Protocol) {`,
		Desc: "check_vlan_id makes a frame with a VLAN id no VLAN device took PACKET_OTHERHOST",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "brnf-filters-vlan-tagged",
		File: "netstack/bridge.go",
		Old:  `	if h.VlanTagPresent() && !ns.brNFVlan {`,
		New:  `	if false {`,
		Desc: "br_netfilter passes VLAN-tagged frames unless bridge-nf-filter-vlan-tagged is on",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "vlan-untag-leaves-metadata",
		File: "skb/vlan.go",
		Old: `		b.MoveMetadata(VlanHlen)
`,
		New:  ``,
		Desc: "skb_reorder_vlan_header moves the XDP metadata with the mac header",
		Pkgs: []string{"./skb", "./netstack"},
	},
	{
		Name: "vlan-push-inside-skipped",
		File: "netstack/tx.go",
		Old:  `	if b.H().VlanTagPresent() && !d.vlanTxOffload() {`,
		New:  `	if false {`,
		Desc: "validate_xmit_vlan puts a tag back into the frame for a device without VLAN transmit offload (vxlan)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "gre-csum-ignores-offload",
		File: "netstack/tunnel.go",
		Old: `	switch h.IPSummed {
	case skb.ChecksumUnnecessary:
		h.CsumValid = true`,
		New: `	switch h.IPSummed {
	case skb.ChecksumUnnecessary + 100:
		h.CsumValid = true`,
		Desc: "gre_parse_header's skb_checksum_simple_validate uses up a CHECKSUM_UNNECESSARY level instead of summing the GRE packet",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "nic-vlan-strip-ignored",
		File: "netstack/rx.go",
		Old:  `	if !d.rxVlanStrip || len(p.Frame) < ethHlen+skb.VlanHlen ||`,
		New:  `	if true || len(p.Frame) < ethHlen+skb.VlanHlen ||`,
		Desc: "a NIC with receive VLAN offload strips the 802.1Q tag before XDP and puts it in vlan_tci",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "vlan-push-replaces-tag",
		File: "skb/vlan.go",
		Old: `	if h.VlanTagPresent() {
		if b.off.mac == unsetOffset || int(b.off.mac) != b.data {
			return ErrVlanNotAtMac
		}
		if err := b.insertTag(h.VlanProto, h.VlanTCI); err != nil {`,
		New: `	if false {
		if b.off.mac == unsetOffset || int(b.off.mac) != b.data {
			return ErrVlanNotAtMac
		}
		if err := b.insertTag(h.VlanProto, h.VlanTCI); err != nil {`,
		Desc: "skb_vlan_push puts a tag already in vlan_tci into the frame before taking the new one",
		Pkgs: []string{"./skb", "./netstack"},
	},
	{
		Name: "vlan-pop-leaves-inner-tag",
		File: "skb/vlan.go",
		Old: `	proto := h.Protocol
	tci, err := b.vlanPopData()`,
		New: `	if true {
		return nil
	}
	proto := h.Protocol
	tci, err := b.vlanPopData()`,
		Desc: "skb_vlan_pop moves the next tag in the frame into vlan_tci",
		Pkgs: []string{"./skb", "./netstack"},
	},
	{
		Name: "xdp-adjust-head-leaves-meta",
		File: "netstack/rx.go",
		Old: `	if n != 0 {
		b.MoveMetadata(off)
	}`,
		New:  ``,
		Desc: "bpf_xdp_adjust_head moves the metadata with data (memmove of data_meta)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "generic-xdp-ignores-eth-change",
		File: "netstack/core.go",
		Old:  `	if ethSummary(b.Data(), d) != origEth {`,
		New:  `	if false && ethSummary(b.Data(), d) != origEth {`,
		Desc: "bpf_prog_run_generic_xdp parses a changed Ethernet header again (eth_type_trans)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "change-head-keeps-mac-header",
		File: "skb/vlan.go",
		Old: `	clear(b.PushMove(headRoom, 0))
	b.ResetMacHeader()`,
		New:  `	clear(b.PushMove(headRoom, 0))`,
		Desc: "__bpf_skb_change_head resets the mac header to the new front (and mac_len with it)",
		Pkgs: []string{"./skb", "./netstack"},
	},
	{
		Name: "vlan-insert-cow-ignores-meta",
		File: "skb/vlan.go",
		Old:  `		need += int(b.buf.sh.MetaLen)`,
		New:  `		need += 0`,
		Desc: "v6.19's __vlan_insert_inner_tag asks skb_cow_head for meta_len + VLAN_HLEN so the metadata fits in front",
		Pkgs: []string{"./skb", "./netstack"},
	},
	{
		Name: "adjust-room-keeps-checksum-state",
		File: "netstack/adjroom.go",
		Old:  `	if ret == 0 && flags&AdjRoomNoCsumReset == 0 && h.IPSummed == skb.ChecksumUnnecessary {`,
		New:  `	if false && ret == 0 && flags&AdjRoomNoCsumReset == 0 && h.IPSummed == skb.ChecksumUnnecessary {`,
		Desc: "bpf_skb_adjust_room resets CHECKSUM_UNNECESSARY unless BPF_F_ADJ_ROOM_NO_CSUM_RESET",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "net-hdr-push-keeps-mac-header",
		File: "skb/room.go",
		Old: `	clear(b.PushMove(length, off))
	if b.off.mac != unsetOffset {
		b.off.mac -= uint16(length)
	}`,
		New:  `	clear(b.PushMove(length, off))`,
		Desc: "bpf_skb_net_hdr_push moves the mac header down with the data",
		Pkgs: []string{"./skb", "./netstack"},
	},
	{
		Name: "change-proto-keeps-hash",
		File: "netstack/adjroom.go",
		Old:  `	h.Hash, h.SWHash, h.L4Hash = 0, false, false // skb_clear_hash`,
		New:  ``,
		Desc: "bpf_skb_change_proto clears the packet's hash (skb_clear_hash)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "rx-meta-without-dev-bound",
		File: "netstack/xdphints.go",
		Old:  `	if !c.xdp || !c.devBound || !c.s.prof.XDPRxMetadata`,
		New:  `	if !c.xdp || !c.s.prof.XDPRxMetadata`,
		Desc: "the verifier loads the XDP RX metadata kfuncs in device-bound programs only",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "rx-meta-ignores-driver-ops",
		File: "netstack/xdphints.go",
		Old:  `	if c.Dev.rxMetaOps&(1<<k) == 0 {`,
		New:  `	if false {`,
		Desc: "a kfunc the bound device's driver lacks is the default kfunc: -EOPNOTSUPP",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "veth-frame-has-skb-hints",
		File: "netstack/rx.go",
		Old: `	if frame {
		rx = xdpRxVethFrame
	}`,
		New:  ``,
		Desc: "veth_xdp_rcv_one runs XDP on an xdp_frame without an skb: veth's kfuncs return -ENODATA",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "veth-rx-hash-no-compute",
		File: "netstack/xdphints.go",
		Old:  `			c.s.skbGetHash(c.Skb) // skb_get_hash -> __skb_get_hash`,
		New:  ``,
		Desc: "veth_xdp_rx_hash calls skb_get_hash, which computes the flow hash of an skb without one",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "flow-dissect-from-mac",
		File: "netstack/tunnel.go",
		Old:  `	d, off := b.Data(), b.NetworkOffset()`,
		New:  `	d, off := b.Data(), b.MacOffset()+14`,
		Desc: "__skb_flow_dissect starts at skb_network_offset with skb->protocol, not at the Ethernet header",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "packet-snd-network-header-at-tag",
		File: "netstack/tx.go",
		Old:  `	b.SetNetworkHeader(vlanDepth(f))`,
		New:  `	b.SetNetworkHeader(ethHlen)`,
		Desc: "packet_parse_headers moves the network header past a frame's VLAN tags",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "nic-l3-hash-as-l4",
		File: "netstack/rx.go",
		Old:  `		h.Hash, h.L4Hash, h.SWHash = p.Hash, nicRSSType(p.Frame)&RSSL4 != 0, false`,
		New:  `		h.Hash, h.L4Hash, h.SWHash = p.Hash, true, false`,
		Desc: "a driver sets PKT_HASH_TYPE_L4 only for an RSS hash over ports",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "frame-skb-keeps-hwtstamp",
		File: "skb/ppcow.go",
		Old:  `	buf.sh = SharedInfo{} // __finalize_skb_around: memset of skb_shared_info up to dataref`,
		New:  `	buf.sh.MetaLen, buf.sh.GSOSize, buf.sh.GSOSegs, buf.sh.GSOType = 0, 0, 0, 0`,
		Desc: "xdp_build_skb_from_frame clears the shared info, hardware timestamp included",
		Pkgs: []string{"./skb", "./netstack"},
	},
	{
		Name: "nic-hwtstamp-not-in-skb",
		File: "netstack/rx.go",
		Old:  `		b.Shinfo().HwTstamp = p.Tstamp`,
		New:  ``,
		Desc: "a NIC with hardware receive timestamps puts the time in the skb's skb_hwtstamps",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "change-tail-no-unclone",
		File: "skb/room.go",
		Old: `	b.check("bpf_skb_change_tail")
	if err := b.EnsureWritable(b.len); err != nil {`,
		New: `	b.check("bpf_skb_change_tail")
	if err := b.EnsureWritable(0); err != nil {`,
		Desc: "bpf_skb_change_tail makes the whole packet writable first (skb_ensure_writable(skb, skb->len): linear and uncloned)",
		Pkgs: []string{"./skb", "./netstack"},
	},
	{
		Name: "change-tail-no-min-len",
		File: "netstack/program.go",
		Old:  `	if flags != 0 || newLen > bpfSkbMaxLen || int(newLen) < skbMinLen(b) {`,
		New:  `	if flags != 0 || newLen > bpfSkbMaxLen {`,
		Desc: "bpf_skb_change_tail refuses a length below __bpf_skb_min_len (-EINVAL)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "brnf-pppoe-ignored",
		File: "netstack/bridge.go",
		Old: `		if !ns.brNFPPPoE {
			return false, false, 0
		}`,
		New: `		if true {
			return false, false, 0
		}`,
		Desc: "br_netfilter takes PPPoE session frames carrying IP with bridge-nf-filter-pppoe-tagged on (is_pppoe_ip)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "brnf-pppoe-no-pull",
		File: "netstack/bridge.go",
		Old:  `		return p == pppIP, p == pppIPv6, pppoeSesHlen`,
		New:  `		return p == pppIP, p == pppIPv6, 0`,
		Desc: "br_netfilter pulls the PPPoE header before validating the inner IP header (nf_bridge_pull_encap_header_rcsum)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "segment-rh-pseudo-daddr",
		File: "netstack/abovemtu.go",
		Old:  `			l4CsumTo(nh, l4, ipprotoTCP, c.finalDst(b))`,
		New:  `			l4CsumTo(nh, l4, ipprotoTCP, nil)`,
		Desc: "a TCP segment's checksum covers the final destination of a routing header with segments left (RFC 8200 8.1)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "xdp-frags-grow-without-frag-size",
		File: "netstack/rx.go",
		Old: `		if c.rx != xdpRxNIC {
			return errEOPNOTSUPP
		}`,
		New:  ``,
		Desc: "bpf_xdp_frags_increase_tail is -EOPNOTSUPP where the driver registered no rxq frag_size (veth, generic XDP)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "xdp-adjust-tail-no-eth-min",
		File: "netstack/rx.go",
		Old:  `	if off > b.Tailroom() || b.Headlen()+off < ethHlen {`,
		New:  `	if off > b.Tailroom() || b.Headlen()+off < 0 {`,
		Desc: "bpf_xdp_adjust_tail keeps ETH_HLEN bytes (-EINVAL below)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "macvlan-rx-keeps-pkt-type",
		File: "netstack/macvlan.go",
		Old: `	b.H().PktType = skb.PacketHost
	s.traceOp(LayerDev, OpMacvlanRx, b)`,
		New:  `	s.traceOp(LayerDev, OpMacvlanRx, b)`,
		Desc: "macvlan_handle_frame makes the frame PACKET_HOST for the macvlan (the lower device saw another host's address)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "macvlan-rx-scrubs",
		File: "netstack/macvlan.go",
		Old: `	setDev(b, v)
	b.H().PktType`,
		New: `	b.Scrub(v.ns != low.ns)
	setDev(b, v)
	b.H().PktType`,
		Desc: "macvlan_handle_frame moves the skb into the macvlan's namespace without skb_scrub_packet",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "macvlan-down-still-hashed",
		File: "netstack/macvlan.go",
		Old:  `		if v.up && v.mac == mac {`,
		New:  `		if v.mac == mac {`,
		Desc: "macvlan_stop unhashes a macvlan: frames for a down macvlan's address stay with the lower device",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "macvlan-no-passthru",
		File: "netstack/macvlan.go",
		Old: `	if port.passthru {
		v = port.vlans[0]
	} else {`,
		New:  `	{`,
		Desc: "a passthru macvlan takes every unicast frame (list_first_or_null_rcu(&port->vlans))",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "macvlan-bridge-xmit-world",
		File: "netstack/macvlan.go",
		Old:  `			if to := low.mvPort.lookup(dst); to != nil && to.mvMode == mvBridge {`,
		New:  `			if to := low.mvPort.lookup(dst); to != nil && false {`,
		Desc: "in bridge mode macvlan_queue_xmit hands a sibling's frame to the lower device's receive path (dev_forward_skb)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "macvlan-bcast-tx-no-scrub",
		File: "netstack/macvlan.go",
		Old:  `			s.macvlanBroadcast(b, low.mvPort, d, mvBridge.bit(), true)`,
		New:  `			s.macvlanBroadcast(b, low.mvPort, d, mvBridge.bit(), false)`,
		Desc: "a bridge-mode macvlan's broadcast reaches its siblings through __dev_forward_skb (macvlan_broadcast_one with local: scrub)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "macvlan-bcast-rx-not-queued",
		File: "netstack/macvlan.go",
		Old: `	if dst == broadcastMAC {
		s.macvlanBroadcastEnqueue(b, low, src)
	}`,
		New:  ``,
		Desc: "a received broadcast is in the port's bc_filter: macvlan_broadcast_enqueue queues a clone for the macvlans",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "macvlan-bcast-reflected-to-all",
		File: "netstack/macvlan.go",
		Old:  `	if src != nil && src.mvMode != mvVEPA && src.mvMode != mvBridge {`,
		New:  `	if false {`,
		Desc: "a private macvlan's own broadcast, reflected by the switch, goes back to it alone (forward to original port)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "bcast-not-local",
		File: "netstack/ip.go",
		Old:  `	if ns.isInput4(dst) || (src == [4]byte{} && dst == [4]byte{}) {`,
		New:  `	if ns.isLocal4(dst) || (src == [4]byte{} && dst == [4]byte{}) {`,
		Desc: "fib_add_ifaddr makes an address's network broadcast RTN_BROADCAST: delivered locally (brd_input)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "bcast-no-loopback-clone",
		File: "netstack/tx.go",
		Old:  `		if (len(ns.bcast4) != 0 && ns.isBcast4(a)) ||`,
		New:  `		if false ||`,
		Desc: "ip_mc_output loops a clone of a broadcast back to the local stack (dev_loopback_xmit)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "bcast-without-so-broadcast",
		File: "netstack/tx.go",
		Old:  `		if !sk.broadcast && d4[0]&0xf0 != 0xe0 {`,
		New:  `		if false {`,
		Desc: "udp_sendmsg refuses a broadcast route without SO_BROADCAST (EACCES)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "bcast-udp-unicast-lookup",
		File: "netstack/ip.go",
		Old:  `	if sk == nil && op == OpUDPRcv && ns.isBcastMcastIn4(dst.As4()) {`,
		New:  `	if sk == nil && op == OpUDPRcv && false {`,
		Desc: "a broadcast datagram goes to every matching socket, and none is no port unreachable (__udp4_lib_mcast_deliver)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "mcast-all-hosts-not-joined",
		File: "netstack/ip.go",
		Old:  `		if dst == allHostsGroup || slices.Contains(d.mcGroups, dst) {`,
		New:  `		if slices.Contains(d.mcGroups, dst) {`,
		Desc: "ip_mc_up joins 224.0.0.1 on every device: a datagram to it is delivered (ip_route_input_mc)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "mcast-mac-high-bit",
		File: "netstack/tx.go",
		Old:  `			return [6]byte{0x01, 0x00, 0x5e, a[1] & 0x7f, a[2], a[3]}, true`,
		New:  `			return [6]byte{0x01, 0x00, 0x5e, a[1], a[2], a[3]}, true`,
		Desc: "ip_eth_mc_map keeps the group's low 23 bits",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "trust-reasm-csum-uncharged",
		File: "netstack/csum.go",
		Old: `	s.acct.Op(cost.OpCsumByte, uint64(b.Len()-l4))
	h.CsumValid = true`,
		New:  `	h.CsumValid = true`,
		Desc: "a trusted reassembled checksum still costs the software check's bytes",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "tcp-accepts-broadcast-frames",
		File: "netstack/ip.go",
		Old: `	if b.H().PktType != skb.PacketHost {
		s.drop(b, skb.DropNotSpecified, op)
		return
	}
	// pskb_may_pull of the fixed header, then of doff*4 bytes.`,
		New:  `	// pskb_may_pull of the fixed header, then of doff*4 bytes.`,
		Desc: "tcp_v4_rcv discards a segment that is not PACKET_HOST",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "macvlan-source-nodst-kept",
		File: "netstack/macvlan.go",
		Old: `		if e.v.mvNoDst {
			consume = true
		}`,
		New:  ``,
		Desc: "MACVLAN_FLAG_NODST: a frame from a source-mode macvlan's listed address goes to that macvlan only",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "macvlan-source-hashed-dst",
		File: "netstack/macvlan.go",
		Old:  `	if v == nil || v.mvMode == mvSource {`,
		New:  `	if v == nil {`,
		Desc: "macvlan_handle_frame passes a frame for a source-mode macvlan's own address to the lower device",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "ifb-reinject-classified",
		File: "netstack/ifb.go",
		Old:  `		h.TCSkipClassify = true`,
		New:  `		h.TCSkipClassify = false`,
		Desc: "ifb_ri_tasklet sets tc_skip_classify: the skb it puts back skips tc ingress and a classic filter's actions",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "ifb-keeps-redirected",
		File: "netstack/ifb.go",
		Old:  `		h.Redirected = false`,
		New:  ``,
		Desc: "ifb_ri_tasklet clears skb->redirected",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "redirect-neigh-keeps-tstamp",
		File: "netstack/ip.go",
		Old: `	setDev(b, t)
	b.ClearTstamp()
	s.traceOp(LayerTC, OpRedirect, b)`,
		New: `	setDev(b, t)
	s.traceOp(LayerTC, OpRedirect, b)`,
		Desc: "bpf_out_neigh_v4 clears the tstamp (skb_clear_tstamp)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "redirect-neigh-ignores-gateway",
		File: "netstack/ip.go",
		Old:  `	case r != nil && r.reject == 0 && r.via.IsValid():`,
		New:  `	case r != nil && r.reject == 0 && false:`,
		Desc: "bpf_redirect_neigh sends to the route's gateway (ip_neigh_for_gw)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "bridge-hairpin-ignored",
		File: "netstack/bridge.go",
		Old:  `	return (p != from || p.brHairpin) && !(from.brIsolated && p.brIsolated)`,
		New:  `	return p != from && !(from.brIsolated && p.brIsolated)`,
		Desc: "should_deliver: BR_HAIRPIN_MODE lets a frame leave by the port it came in by",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "bridge-isolated-ignored",
		File: "netstack/bridge.go",
		Old:  `	return (p != from || p.brHairpin) && !(from.brIsolated && p.brIsolated)`,
		New:  `	return p != from || p.brHairpin`,
		Desc: "should_deliver: br_skb_isolated keeps frames between isolated ports",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "bridge-flood-flag-ignored",
		File: "netstack/bridge.go",
		Old:  `		case unicast && p.brNoFlood,`,
		New:  `		case unicast && p.brNoFlood && false,`,
		Desc: "br_flood floods unknown unicast only to ports with BR_FLOOD",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "mcast-join-ignored",
		File: "netstack/ip.go",
		Old:  `		if dst == allHostsGroup || slices.Contains(d.mcGroups, dst) {`,
		New:  `		if dst == allHostsGroup {`,
		Desc: "ip_route_input_rcu delivers a group a socket joined on the receiving device (ip_check_mc_rcu)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "mcast-join-no-loopback",
		File: "netstack/tx.go",
		Old:  `			(!sk.noMcLoop && (a == allHostsGroup || (len(out.mcGroups) != 0 && slices.Contains(out.mcGroups, a)))) {`,
		New:  `			(!sk.noMcLoop && (a == allHostsGroup || (len(out.mcGroups) != 0 && slices.Contains(out.mcGroups, a) && false))) {`,
		Desc: "ip_mc_output loops back a datagram to a group the output device joined (RTCF_LOCAL)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "bridge-bcast-flood-ignored",
		File: "netstack/bridge.go",
		Old:  `			from != nil && bcast && p.brNoBcast,`,
		New:  `			from != nil && bcast && p.brNoBcast && false,`,
		Desc: "br_flood skips ports without BR_BCAST_FLOOD for a broadcast the bridge received",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "bridge-mcast-flood-own-frames",
		File: "netstack/bridge.go",
		Old:  `			from != nil && !unicast && !bcast && p.brNoMcast:`,
		New:  `			!unicast && !bcast && p.brNoMcast:`,
		Desc: "br_flood floods the bridge device's own multicast frames to ports without BR_MCAST_FLOOD (skb->dev == br->dev)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "mcast-loop-ignored",
		File: "netstack/tx.go",
		Old:  `			(!sk.noMcLoop && (a == allHostsGroup ||`,
		New:  `			(true && (a == allHostsGroup ||`,
		Desc: "ip_mc_output loops a multicast copy back only with IP_MULTICAST_LOOP on (sk_mc_loop)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "macvlan-bridge-to-any-mode",
		File: "netstack/macvlan.go",
		Old:  `			if to := low.mvPort.lookup(dst); to != nil && to.mvMode == mvBridge {`,
		New:  `			if to := low.mvPort.lookup(dst); to != nil {`,
		Desc: "macvlan_queue_xmit forwards directly only to a bridge-mode sibling; others are reached through the world",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "fib-forwarding-ignored",
		File: "netstack/fib.go",
		Old:  `	if (!v6 && !ns.forwarding) || (v6 && !ns.fwd6) {`,
		New:  `	if false {`,
		Desc: "bpf_ipv4_fib_lookup / bpf_ipv6_fib_lookup return FWD_DISABLED without IN_DEV_FORWARD on the input device",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "fib-direct-skips-local-v4",
		File: "netstack/fib.go",
		Old:  `	case (!direct || (merged && (tbid == rtTableMain || tbid == rtTableLocal))) && ns.fibLocal(p.Dst):`,
		New:  `	case !direct && ns.fibLocal(p.Dst):`,
		Desc: "IPv4's main table holds the local routes while no policy rule exists (fib_unmerge): BPF_FIB_LOOKUP_DIRECT still sees RTN_LOCAL",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "fib-ignores-gateway",
		File: "netstack/fib.go",
		Old: `	if r.via.IsValid() {
		nh = r.via`,
		New: `	if false {
		nh = r.via`,
		Desc: "bpf_fib_lookup writes the route's gateway into params->ipv4_dst and looks up its neighbour",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "fib-mtu-unchecked",
		File: "netstack/fib.go",
		Old:  `		if int(p.TotLen) > mtu {`,
		New:  `		if false {`,
		Desc: "bpf_fib_lookup returns FRAG_NEEDED when tot_len exceeds the route's MTU (check_mtu: always at XDP)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "fib-skb-unchecked",
		File: "netstack/fib.go",
		Old:  `		if !isSkbForwardable(d, c.Skb) {`,
		New:  `		if false {`,
		Desc: "bpf_skb_fib_lookup without tot_len checks the skb against the egress device (is_skb_forwardable)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "fib-forward-keeps-ttl",
		File: "netstack/fib.go",
		Old: `	if p.Family == AFInet {
		ipDecreaseTTL(ip)
	} else {`,
		New: `	if p.Family == AFInet {
		_ = ip
	} else {`,
		Desc: "a program forwarding with bpf_fib_lookup decrements the TTL (ip_decrease_ttl), as xdp_fwd does",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "fib-forward-no-unclone",
		File: "netstack/fib.go",
		Old:  `	if !c.xdp && b.Cloned() && c.PullData(0) != 0 {`,
		New:  `	if false {`,
		Desc: "a tc program that writes the packet directly runs the verifier's unclone prologue (bpf_skb_pull_data on a cloned skb)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "redirect-neigh-via-ignored",
		File: "netstack/ip.go",
		Old:  `	if ri.flags&flagNexthop != 0 {`,
		New:  `	if false {`,
		Desc: "bpf_redirect_neigh with struct bpf_redir_neigh sends to that next hop, without a route lookup",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "xdp-frame-fires-kfree-skb",
		File: "netstack/rx.go",
		Old:  `	if b.Users() == 1 && len(s.tpKfree) != 0 && !b.XDPFrame() {`,
		New:  `	if b.Users() == 1 && len(s.tpKfree) != 0 {`,
		Desc: "a native XDP_DROP returns the page (xdp_return_buff): there is no skb, so no kfree_skb tracepoint fires",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "xdp-frame-charged-as-skb",
		File: "netstack/rx.go",
		Old:  `	b, err := s.a.BuildXDPBuff(size)`,
		New:  `	b, err := s.a.BuildSkb(size)`,
		Desc: "a driver allocates the sk_buff only after XDP_PASS (napi_build_skb): a dropped, bounced or redirected frame costs its page alone",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "cpumap-frame-no-skb",
		File: "netstack/cpumap.go",
		Old:  `	if b.BuildSkbFromFrame() != nil { // __xdp_build_skb_from_frame`,
		New:  `	if false { // __xdp_build_skb_from_frame`,
		Desc: "the cpumap kthread builds an sk_buff around each frame its program passes (__xdp_build_skb_from_frame)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "check-mtu-gso-unchecked",
		File: "netstack/fib.go",
		Old:  `	case c.xdp || c.Skb.Shinfo().GSOSize == 0:`,
		New:  `	case true:`,
		Desc: "bpf_skb_check_mtu passes a GSO skb above the MTU (it may be segmented later), checking its segments with BPF_MTU_CHK_SEGS only",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "tunnel-info-survives-routing",
		File: "netstack/ip.go",
		Old: `	tunID := ns.rxTunID(b)
	b.DropTunnelDst()`,
		New:  `	tunID := ns.rxTunID(b)`,
		Desc: "ip_route_input_slow drops the skb's dst, a collect_md tunnel's metadata dst included: bpf_skb_get_tunnel_key finds nothing after the IP layer",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "external-device-one-vni",
		File: "netstack/tunnel.go",
		Old:  `		if x.vni == vni || x.external {`,
		New:  `		if x.vni == vni {`,
		Desc: "a collect_md vxlan socket looks up VNI 0, its external device, for every packet (vxlan_vs_find_vni)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "external-rx-no-metadata-dst",
		File: "netstack/tunnel.go",
		Old: `	if info != nil {
		md, err := s.a.NewMetadataDst(*info, opts)`,
		New: `	if info != nil && false {
		md, err := s.a.NewMetadataDst(*info, opts)`,
		Desc: "a collect_md device's receive path attaches the tunnel info to the skb (udp_tun_rx_dst, skb_dst_set)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "metadata-dst-cmp-ignored",
		File: "skb/tunnel.go",
		Old:  `	return ma != nil && (ma.Info != mb.Info || ma.optLen != mb.optLen)`,
		New:  `	return false`,
		Desc: "skb_metadata_dst_cmp keeps GRO from merging packets with different tunnel info",
		Pkgs: []string{"./skb"},
	},
	{
		Name: "brnf-keeps-tunnel-dst",
		File: "netstack/bridge.go",
		Old:  `	b.DropTunnelDst()     // br_nf_pre_routing_finish: skb_dst_drop, then the fake rtable (noref, not modelled)`,
		New:  ``,
		Desc: "br_nf_pre_routing_finish replaces the skb's dst with the bridge's fake rtable: a collect_md tunnel's key does not cross a bridge with bridge-nf-call-iptables",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "reject-route-innoroutes",
		File: "netstack/ip.go",
		Old: `		}
		s.drop(b, skb.DropNotSpecified, OpIPRoute)
		return
	}
	out, nh := r.dev, ip.dst`,
		New: `		}
		s.drop(b, skb.DropIPInNoroutes, OpIPRoute)
		return
	}
	out, nh := r.dev, ip.dst`,
		Desc: "ip_error frees a packet a reject route refused with NOT_SPECIFIED; only -ENETUNREACH (no route) is IP_INNOROUTES",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "fib-blackhole-not-fwded",
		File: "netstack/fib.go",
		Old: `	case r.reject == errEINVAL:
		return FibRetBlackhole`,
		New: `	case r.reject == errEINVAL:
		return FibRetNotFwded`,
		Desc: "bpf_fib_lookup maps fib_lookup's -EINVAL (a blackhole route) to BPF_FIB_LKUP_RET_BLACKHOLE",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "external-one-socket",
		File: "netstack/stack.go",
		Old: `		if d.external {
			fams = []bool{true, false}
		}`,
		New:  ``,
		Desc: "a collect_md vxlan device opens an IPv6 and an IPv4 socket (vxlan_sock_add: ipv6 = VXLAN_F_IPV6 || metadata)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "redirect-neigh6-on-link",
		File: "netstack/ip.go",
		Old:  `	case dst.Is6() && (r == nil || r.reject != 0):`,
		New:  `	case false:`,
		Desc: "bpf_redirect_neigh of an IPv6 packet with no route through the device (or a reject route) fails in ip6_route_output_flow: the skb is freed, where IPv4 assumes the destination on link",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "icmp-echo-reply-consumed",
		File: "netstack/icmp.go",
		Old: `	case icmpEchoReply:
		reason = skb.DropNoSocket // ping_rcv`,
		New:  `	case icmpEchoReply:`,
		Desc: "ping_rcv drops an echo reply no ping socket takes (NO_SOCKET)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "icmp-bcast-echo-answered",
		File: "netstack/icmp.go",
		Old:  `		((typ != icmpEcho && typ != icmpTimestamp) || !ns.echoBcast) {`,
		New:  `		typ != icmpEcho && typ != icmpTimestamp {`,
		Desc: "icmp_rcv refuses an echo request to a broadcast address while icmp_echo_ignore_broadcasts is 1 (INVALID_PROTO)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "icmp-peer-burst-5",
		File: "netstack/icmp.go",
		Old:  `	xrlimBurstFactor = 6      // XRLIM_BURST_FACTOR`,
		New:  `	xrlimBurstFactor = 5      // XRLIM_BURST_FACTOR`,
		Desc: "inet_peer_xrlim_allow lets a peer bank six intervals' worth of tokens (XRLIM_BURST_FACTOR)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "ip-error-no-bucket",
		File: "netstack/icmp.go",
		Old:  `	if s.cfg.Options.Replies && s.ipErrorAllow(ns, ip.src) {`,
		New:  `	if s.cfg.Options.Replies {`,
		Desc: "ip_error spends its own token bucket on the peer before icmp_send's limits, so a burst without a route gets two errors",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "icmp-error-no-576",
		File: "netstack/icmp.go",
		Old:  `		room := min(mtu, icmpMaxReply) - hl - icmpHlen`,
		New:  `		room := mtu - hl - icmpHlen`,
		Desc: "__icmp_send quotes no more than keeps the error within 576 bytes",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "icmp-frag-needed-limited",
		File: "netstack/icmp.go",
		Old:  `	if typ > nrICMPTypes || (typ == icmpDestUnreach && code == icmpFragNeeded) {`,
		New:  `	if typ > nrICMPTypes {`,
		Desc: "icmpv4_mask_allow never limits PMTU discovery's fragmentation needed",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "icmp-no-fwmark-reflect",
		File: "netstack/icmp.go",
		Old:  `		sk.mark = b.H().Mark // IP4_REPLY_MARK`,
		New:  `		sk.mark = 0`,
		Desc: "with net.ipv4.fwmark_reflect the ICMP message carries the mark of the packet it answers",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "icmp-error-to-icmp-error",
		File: "netstack/icmp.go",
		Old:  `		if it := pkt[ip.ihl]; it > nrICMPTypes || icmpIsError(it) {`,
		New:  `		if it := pkt[ip.ihl]; it > nrICMPTypes {`,
		Desc: "__icmp_send never answers an ICMP error with another",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "tcp-reset-to-reset",
		File: "netstack/tcp.go",
		Old:  `	if !s.cfg.Options.Replies || th[13]&tcpRST != 0 || !ns.isLocal4(ip.dst.As4()) {`,
		New:  `	if !s.cfg.Options.Replies || !ns.isLocal4(ip.dst.As4()) {`,
		Desc: "tcp_v4_send_reset never answers a reset",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "tcp-reset-ack-no-syn",
		File: "netstack/tcp.go",
		Old: `	if th[13]&tcpSYN != 0 {
		ack++
	}`,
		New:  ``,
		Desc: "tcp_v4_send_reset acknowledges a segment without ACK past its SYN (ack_seq = seq + syn + fin + payload)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "reply-partial-csum",
		File: "netstack/icmp.go",
		Old:  `	s.ipOutput(r, ns, out, nh, sk, mtu)`,
		New:  `	s.ipLocalOut(r, ns, out, nh, sk, mtu)`,
		Desc: "a kernel socket's reply leaves with its transport checksum complete (CHECKSUM_NONE), not partial as a socket's own send",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "icmp6-echo-reply-consumed",
		File: "netstack/icmp6.go",
		Old:  `		reason = skb.DropNoSocket // ping_rcv`,
		New:  ``,
		Desc: "icmpv6_rcv hands an echo reply to ping_rcv, which drops it without a ping socket (NO_SOCKET)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "icmp6-notify-no-l4",
		File: "netstack/icmp6.go",
		Old:  `	if len(q) < off+8 {`,
		New:  `	if len(q) < off {`,
		Desc: "icmpv6_notify drops an error quoting less than 8 bytes past the IPv6 extension headers (PKT_TOO_SMALL), unlike IPv4's icmp_socket_deliver",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "icmp6-ndisc-any-hop-limit",
		File: "netstack/icmp6.go",
		Old:  `	case ip.hopLimit != 255:`,
		New:  `	case ip.hopLimit == 0:`,
		Desc: "ndisc_rcv drops a neighbour discovery message whose hop limit is not 255",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "icmp6-unknown-info-consumed",
		File: "netstack/icmp6.go",
		Old: `	default:
		reason = skb.DropNotSpecified
	}
	if reason != skb.SkbNotDroppedYet {
		s.drop(b, reason, OpICMPv6Rcv)`,
		New: `	default:
	}
	if reason != skb.SkbNotDroppedYet {
		s.drop(b, reason, OpICMPv6Rcv)`,
		Desc: "icmpv6_rcv frees an informational message it has no handler for with its default reason, NOT_SPECIFIED",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "icmp6-error-about-error",
		File: "netstack/icmp6.go",
		Old:  `	if off, next, ok := ip6SkipExthdr(pkt); ok && next == nexthdrICMPv6 && (len(pkt) <= off || pkt[off]&icmp6InfoMask == 0) {`,
		New:  `	if off, next, ok := ip6SkipExthdr(pkt); ok && next == nexthdrICMPv6 && len(pkt) <= off {`,
		Desc: "icmp6_send never answers an ICMPv6 error (is_ineligible)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "icmp6-no-peer-limit",
		File: "netstack/icmp6.go",
		Old:  `	if apply && out.kid != kidLoopback && !s.peerAllow(ns, dst, ns.icmp6Ratelimit) {`,
		New:  `	if false {`,
		Desc: "icmpv6_xrlim_allow limits errors per peer (icmp.ratelimit, a burst of six)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "igmp-unicast-report-consumed",
		File: "netstack/igmp.go",
		Old:  `			dropped = pt != skb.PacketMulticast && pt != skb.PacketBroadcast`,
		New:  `			dropped = false && pt != skb.PacketMulticast`,
		Desc: "igmp_rcv frees a v1 or v2 report that came unicast; igmp_heard_report takes only multicast and broadcast ones",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "igmp-v2-seen-ignored",
		File: "netstack/igmp.go",
		Old:  `	case st.v1Seen > now || st.v2Seen > now:`,
		New:  `	case st.v1Seen > now:`,
		Desc: "after a v2 query igmp_heard_query reads a v3 query as a v2 one (IGMP_V2_SEEN), so its sources do not make it bogus",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "igmp-general-query-sources",
		File: "netstack/igmp.go",
		Old:  `	return group == 0 && nsrcs != 0 // a general query allows no sources`,
		New:  `	return group == 0 && nsrcs < 0`,
		Desc: "igmp_heard_query finds a general v3 query with sources bogus",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "unknown-proto-no-icmp",
		File: "netstack/ip.go",
		Old:  `		s.icmpSend(b, ns, icmpDestUnreach, icmpProtUnreach, 0, true)`,
		New:  ``,
		Desc: "ip_protocol_deliver_rcu answers a protocol without a handler with an ICMP protocol unreachable",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "ndisc-ns-any-target",
		File: "netstack/icmp6.go",
		Old: `				if !ok || !ns.fwd6 || !(ns.proxyNDP || d.proxyNDP) {
					return skb.DropIPv6NdiscNsOtherhost`,
		New: `				if !ok && false {
					return skb.DropIPv6NdiscNsOtherhost`,
		Desc: "ndisc_recv_ns drops a solicitation for an address the receiving device does not have (IPV6_NDISC_NS_OTHERHOST)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "ndisc-ra-any-source",
		File: "netstack/icmp6.go",
		Old: `	case !ip.src.IsLinkLocalUnicast():
		return skb.DropNotSpecified
	case len(m) < raMsgLen:`,
		New:  `	case len(m) < raMsgLen:`,
		Desc: "ndisc_router_discovery ignores an advertisement from a source that is not link-local",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "ndisc-options-zero-length",
		File: "netstack/icmp6.go",
		Old: `		if l == 0 || l > len(opts) {
			return nil, nil, false
		}`,
		New: `		if l == 0 {
			l = 8
		}
		if l > len(opts) {
			return nil, nil, false
		}`,
		Desc: "ndisc_parse_options refuses an option of length 0 (IPV6_NDISC_BAD_OPTIONS)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "all-routers-not-joined",
		File: "netstack/ip6.go",
		Old:  `	if ns.fwd6 && a[0] == 0xff`,
		New:  `	if false && a[0] == 0xff`,
		Desc: "a forwarding IPv6 device joins the all-routers groups (dev_forward_change), so router solicitations reach ndisc_rcv",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "arp-reply-local-source",
		File: "netstack/arp.go",
		Old:  `		if dev != nil && dev.hasAddr(a) {`,
		New:  `		if dev != nil && dev.hasAddr(a) && false {`,
		Desc: "ip_route_input_noref refuses a request from one of the host's own addresses (fib_validate_source), so no reply",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "arp-multicast-target-consumed",
		File: "netstack/arp.go",
		Old:  `		tip[0]&0xf0 == 0xe0 || tip[0] == 127 {`,
		New:  `		tip[0] == 127 {`,
		Desc: "arp_process frees a request for a multicast address",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "arp-otherhost-processed",
		File: "netstack/arp.go",
		Old:  `	if pt := b.H().PktType; d.noarp || pt == skb.PacketOtherhost || pt == skb.PacketLoopback {`,
		New:  `	if pt := b.H().PktType; d.noarp || pt == skb.PacketLoopback {`,
		Desc: "arp_rcv consumes a frame for another host without processing it",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "ndisc-na-no-router-flag",
		File: "netstack/icmp6.go",
		Old:  `		own, router, inc := d.hasAddr(target), ns.fwd6, ip.dst.IsMulticast()`,
		New:  `		own, router, inc := d.hasAddr(target), false, ip.dst.IsMulticast()`,
		Desc: "a forwarding device's neighbour advertisement carries the router flag (is_router = idev->cnf.forwarding)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "ndisc-na-no-cgroup-egress",
		File: "netstack/icmp6.go",
		Old:  `	return s.cgroupEgress(r, sk) // dst_output -> ip6_output -> ip6_finish_output`,
		New:  `	return true // dst_output -> ip6_output -> ip6_finish_output`,
		Desc: "a neighbour advertisement passes ip6_output's cgroup egress programs for the ndisc socket, which owns it",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "martian-multicast-source",
		File: "netstack/rtinput.go",
		Old: `	case src[0]&0xf0 == 0xe0 || src == lbcast4:
		return skb.DropIPInvalidSource
	case dst == lbcast4`,
		New: `	case src == lbcast4:
		return skb.DropIPInvalidSource
	case dst == lbcast4`,
		Desc: "ip_route_input_slow refuses a multicast source (IP_INVALID_SOURCE)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "martian-zeronet-slash8",
		File: "netstack/rtinput.go",
		Old: `	case src == [4]byte{}:
		return skb.DropIPInvalidSource
	case dst == [4]byte{}:`,
		New: `	case src[0] == 0:
		return skb.DropIPInvalidSource
	case dst[0] == 0:`,
		Desc: "ipv4_is_zeronet is 0.0.0.0 alone since v5.3: the rest of 0.0.0.0/8 is unicast",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "martian-localnet-ignored",
		File: "netstack/rtinput.go",
		Old:  `	case (dst[0] == 127 || src[0] == 127) && !ns.routeLocalnet:`,
		New:  `	case (dst[0] == 127 || src[0] == 127) && false:`,
		Desc: "a 127.0.0.0/8 address from outside is IP_LOCALNET without route_localnet",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "martian-loopback-checked",
		File: "netstack/ip.go",
		Old:  `	routed := d.kid == kidLoopback || h.PktType == skb.PacketLoopback`,
		New:  `	routed := false`,
		Desc: "a looped-back packet keeps its dst: ip_rcv_finish_core does no route input for it",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "validate-local-source-accepted",
		File: "netstack/rtinput.go",
		Old:  `		if ns.acceptLocal || (!full && !inRanges(ns.ifaddr4, src)) {`,
		New:  `		if ns.acceptLocal || !full {`,
		Desc: "fib_validate_source refuses one of the host's own addresses as a source (IP_LOCAL_SOURCE) without accept_local",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "validate-strict-as-loose",
		File: "netstack/rtinput.go",
		Old:  `	if ns.rpFilter == 1 {`,
		New:  `	if false {`,
		Desc: "strict rp_filter refuses a source whose route leaves by another device",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "validate-broadcast-source",
		File: "netstack/rtinput.go",
		Old: `	case ns.isBcast4(src): // a /32 RTN_BROADCAST: the longest match
		return skb.DropIPInvalidSource, false`,
		New: `	case ns.isBcast4(src): // a /32 RTN_BROADCAST: the longest match
		return 0, false`,
		Desc: "__fib_validate_source refuses a source whose route is RTN_BROADCAST (IP_INVALID_SOURCE)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "validate-local-before-longest",
		File: "netstack/rtinput.go",
		Old:  `	if lbits >= 0 && (r == nil || lbits >= r.dst.Bits()) {`,
		New:  `	if lbits >= 0 {`,
		Desc: "the reverse lookup takes the longest match: a connected route beats a shorter custom local route",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "redirect-no-doubling",
		File: "netstack/rtinput.go",
		Old:  `(ipRtRedirectLoad<<p.nRedirects)`,
		New:  `(ipRtRedirectLoad)`,
		Desc: "ip_rt_send_redirect waits ip_rt_redirect_load << n_redirects before the next redirect",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "redirect-no-cap",
		File: "netstack/rtinput.go",
		Old:  `	if p.nRedirects >= ipRtRedirectNumber {`,
		New:  `	if false {`,
		Desc: "after ip_rt_redirect_number redirects none is sent until ip_rt_redirect_silence",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "redirect-keeps-tokens",
		File: "netstack/rtinput.go",
		Old:  `		p.tokens, p.nRedirects = 0, 0`,
		New:  `		p.nRedirects = 0`,
		Desc: "a redirect after ip_rt_redirect_silence zeroes the peer's ICMP tokens",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "redirect-any-device",
		File: "netstack/ip.go",
		Old:  `	redirect := onlink && out == in && ns.sendRedirects`,
		New:  `	redirect := onlink && ns.sendRedirects`,
		Desc: "__mkroute_input marks a redirect only when the packet leaves by the device it came in on",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "ndisc-redirect-no-source-limit",
		File: "netstack/icmp6.go",
		Old:  `	if !s.peerAllow(ns, ip.src, hz) {`,
		New:  `	if false {`,
		Desc: "ndisc_send_redirect limits redirects per source, on the tokens ICMPv6 errors to it use",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "ndisc-redirect-global-target",
		File: "netstack/icmp6.go",
		Old:  `	if !ll.IsValid() || (target != ip.dst && !target.IsLinkLocalUnicast()) {`,
		New:  `	if !ll.IsValid() {`,
		Desc: "ndisc_send_redirect sends none when the target is neither the destination nor link-local",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "ndisc-redirect-no-tlla",
		File: "netstack/icmp6.go",
		Old:  `	mac, haveMAC := s.neighValid(ns, in, target)`,
		New:  `	mac, haveMAC := [6]byte{}, false`,
		Desc: "a redirect carries the target's link-layer address when its neighbour entry is valid",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "ip6-forward-link-local-source",
		File: "netstack/ip6.go",
		Old:  `	} else if ip.src.IsUnspecified() || ip.src.IsMulticast() || ip.src.IsLoopback() || ip.src.IsLinkLocalUnicast() {`,
		New:  `	} else if ip.src.IsUnspecified() || ip.src.IsMulticast() || ip.src.IsLoopback() {`,
		Desc: "ip6_forward never forwards a link-local source to another device (beyond-scope error, IP_INADDRERRORS)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "ipopts-no-cow",
		File: "netstack/ipopts.go",
		Old:  `	if err := b.Cow(b.Headroom()); err != nil {`,
		New:  `	if err := error(nil); err != nil {`,
		Desc: "ip_rcv_options makes the header private (skb_cow) before it writes the options",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "ipopts-rr-not-recorded",
		File: "netstack/ipopts.go",
		Old: `				a := specDst()
				copy(p[p[2]-1:], a[:])
				p[2] += 4`,
		New:  `				p[2] += 4`,
		Desc: "a record route option with room gets the receiving host's address (spec_dst_fill)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "ipopts-source-route-accepted",
		File: "netstack/ipopts.go",
		Old:  `		return skb.DropNotSpecified // !IN_DEV_SOURCE_ROUTE`,
		New:  `		return 0 // !IN_DEV_SOURCE_ROUTE`,
		Desc: "without accept_source_route a source routed packet is dropped",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "ipopts-no-parameter-problem",
		File: "netstack/ipopts.go",
		Old:  `		s.icmpSend(b, ns, icmpParameterProb, icmpParamProbPointer, uint32(ptr)<<24, local)`,
		New:  ``,
		Desc: "ip_options_compile answers a bad option with a parameter problem pointing at it",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "ipopts-overflow-not-counted",
		File: "netstack/ipopts.go",
		Old:  `		p[3] = p[3]&0xf | (overflow+1)<<4`,
		New:  `		p[3] = p[3]&0xf | overflow<<4`,
		Desc: "a full timestamp option counts the hosts it missed in its overflow field",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "ipopts-forward-rr-kept",
		File: "netstack/ipopts.go",
		Old:  `	if cb[ipcbOptFlags]&optRRNeedAddr != 0 {`,
		New:  `	if false {`,
		Desc: "ip_forward_options records the outgoing address in the record route",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "ipopts-fragment-keeps-options",
		File: "netstack/tx.go",
		Old:  `			ipOptionsFragment(d[:ip.ihl])`,
		New:  ``,
		Desc: "fragments after the first carry only the options with the copied flag (ip_options_fragment)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "ipopts-echo-no-room",
		File: "netstack/ipopts.go",
		Old:  `		if flags&optRRNeedAddr != 0 && soff <= optlen {`,
		New:  `		if false {`,
		Desc: "an answer's echoed record route gets a slot for the answer's own address",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "ipopts-not-echoed",
		File: "netstack/ipopts.go",
		Old:  `	if cb[ipcbOptLen] == 0 || b.H().Protocol != ethPIP {`,
		New:  `	if true {`,
		Desc: "the stack's answers echo the record route and timestamp options (__ip_options_echo)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "fragment-offset-restarts",
		File: "netstack/tx.go",
		Old:  `	off := int(ip.fragOff&ipOffset) * 8 // ip_frag_init: state->offset`,
		New:  `	off := 0 // ip_frag_init: state->offset`,
		Desc: "the fragments of a later fragment start at its offset (ip_frag_init)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "ipopts-fast-fragment-keeps-options",
		File: "netstack/tx.go",
		Old:  `			ipOptionsFragment(fd[:hlen]) // the first frag_list skb: the others copy its header`,
		New:  ``,
		Desc: "ip_do_fragment's fast path clears the options without the copied flag from the second fragment on",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "icmp-echo-ignore-all-ignored",
		File: "netstack/icmp.go",
		Old:  `		if !ns.echoIgnoreAll { // icmp_echo`,
		New:  `		if true { // icmp_echo`,
		Desc: "with icmp_echo_ignore_all an echo request gets no reply",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "icmp-echo-broadcast-source",
		File: "netstack/icmp.go",
		Old:  `		src = netip.AddrFrom4(s.specDst(ns, s.devOf(b), ip, false))`,
		New:  `		src = ip.dst`,
		Desc: "an echo reply to a broadcast request comes from fib_compute_spec_dst's address",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "icmp-errors-inbound-ifaddr-ignored",
		File: "netstack/icmp.go",
		Old:  `		if ns.errInboundIfaddr && in != nil && !isLoopback(in) {`,
		New:  `		if false {`,
		Desc: "with icmp_errors_use_inbound_ifaddr an error comes from the input device's address",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "icmp6-echo-ignore-multicast-ignored",
		File: "netstack/icmp6.go",
		Old:  `		if ns.echo6IgnoreAll || (ns.echo6IgnoreMcast && ip.dst.IsMulticast()) ||`,
		New:  `		if ns.echo6IgnoreAll ||`,
		Desc: "with echo_ignore_multicast an echo request to a group is dropped",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "route-mtu-ignored",
		File: "netstack/ip.go",
		Old:  `	mtu := r.mtuOf() // ip_dst_mtu_maybe_forward: the route's mtu metric first`,
		New:  `	mtu := out.mtu // ip_dst_mtu_maybe_forward: the route's mtu metric first`,
		Desc: "forwarding fragments to a route's mtu metric and names it in fragmentation needed",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "l2-multicast-drop-ignored",
		File: "netstack/rtinput.go",
		Old:  `	if pt := b.H().PktType; pt == skb.PacketBroadcast || pt == skb.PacketMulticast {`,
		New:  `	if pt := b.H().PktType; false && (pt == skb.PacketBroadcast || pt == skb.PacketMulticast) {`,
		Desc: "with drop_unicast_in_l2_multicast a unicast packet in an L2 broadcast frame is dropped (UNICAST_IN_L2_MULTICAST)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "ip-forward-l2-broadcast-otherhost",
		File: "netstack/ip.go",
		Old: `		// (ip_rcv_core already dropped OTHERHOST): NOT_SPECIFIED.
		s.drop(b, skb.DropNotSpecified, OpIPForward)`,
		New: `		// (ip_rcv_core already dropped OTHERHOST): NOT_SPECIFIED.
		s.drop(b, skb.DropOtherhost, OpIPForward)`,
		Desc: "ip_forward frees a packet that came in an L2 broadcast frame with NOT_SPECIFIED",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "fib-ipv6-gateway-keeps-family",
		File: "netstack/fib.go",
		Old:  `			p.Family = AFInet6`,
		New:  ``,
		Desc: "bpf_fib_lookup answers an IPv4 lookup through an IPv6 gateway in AF_INET6, the gateway in ipv6_dst",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "redirect-ipv6-gateway",
		File: "netstack/ip.go",
		Old: `		if !gw.Is4() {
			gw = ip.dst
		}`,
		New:  ``,
		Desc: "a redirect for a route through an IPv6 gateway names the destination (rt_nexthop)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "redirect-shared-media-ignored",
		File: "netstack/ip.go",
		Old:  `(ns.sharedMedia || in.addrOnlink(ip.src, nh, ip.dst))`,
		New:  `true`,
		Desc: "with shared_media off a redirect needs the source and the next hop in one of the device's subnets (inet_addr_onlink)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "rule-mark-ignored",
		File: "netstack/fibrules.go",
		Old:  `		(ru.mark^fl.mark)&ru.markMask == 0 &&`,
		New:  ``,
		Desc: "a rule's fwmark selects the flow's mark under its mask (fib_rule_match)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "rule-invert-ignored",
		File: "netstack/fibrules.go",
		Old:  `	return m != ru.invert // FIB_RULE_INVERT`,
		New:  `	return m`,
		Desc: "`not` inverts a rule's selectors (FIB_RULE_INVERT)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "rule-suppress-ignored",
		File: "netstack/fibrules.go",
		Old:  `		if r.reject == 0 && r.dst.Bits() <= ru.suppress {`,
		New:  `		if false {`,
		Desc: "suppress_prefixlength skips a result of that prefix length or shorter (fib4_rule_suppress)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "rule-unreachable-as-blackhole",
		File: "netstack/fibrules.go",
		Old: `		case ruleUnreachable:
			return nil`,
		New: `		case ruleUnreachable:
			return &blackholeRule`,
		Desc: "an unreachable rule is -ENETUNREACH: IP_INNOROUTES, and NOT_FWDED for bpf_fib_lookup",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "rule-default-pref-fixed",
		File: "netstack/fibrules.go",
		Old:  `				ru.pref = ns.rules[i].pref - 1`,
		New:  `				ru.pref = rulePrefMain - 1`,
		Desc: "a rule without a priority goes one below the first rule after the local one (fib_default_rule_pref)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "rule-absent-table-stops",
		File: "netstack/fibrules.go",
		Old:  `			continue // -EAGAIN: no such table, no route in it, or a throw route`,
		New:  `			return nil`,
		Desc: "a lookup rule whose table has no match lets the walk go on (-EAGAIN)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "validate-source-mark-always",
		File: "netstack/rtinput.go",
		Old: `		if ns.srcValidMark {
			fl.mark = b.H().Mark // IN_DEV_SRC_VMARK
		}`,
		New:  `		fl.mark = b.H().Mark`,
		Desc: "fib_validate_source looks up with the packet's mark only with src_valid_mark",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "validate-source-iif-zero",
		File: "netstack/rtinput.go",
		Old: `		if oif != nil {
			fl.iif = oif.ifindex
		}`,
		New:  ``,
		Desc: "fib_validate_source's reversed flow has flowi4_iif the route's output device",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "fib-lookup-mark-without-flag",
		File: "netstack/fib.go",
		Old:  `		if flags&FibLookupMark != 0 {`,
		New:  `		if true {`,
		Desc: "bpf_fib_lookup looks up with mark 0 unless BPF_FIB_LOOKUP_MARK",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "socket-route-mark-ignored",
		File: "netstack/ip.go",
		Old:  `	fl := flow{dst: dst, src: sk.addr, mark: sk.mark, proto: sk.l4, sport: sk.port, dscp: dsField(pkt, dst), uid: sk.uid}`,
		New:  `	fl := flow{dst: dst, src: sk.addr, proto: sk.l4, sport: sk.port, dscp: dsField(pkt, dst), uid: sk.uid}`,
		Desc: "a socket's route lookup carries SO_MARK for the rules",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "fib-direct-unmerged-sees-local",
		File: "netstack/fib.go",
		Old:  `	merged := !v6 && !ns.rules4 // IPv4's local table still merged into main`,
		New:  `	merged := !v6 // IPv4's local table still merged into main`,
		Desc: "a first IPv4 rule unmerges the local table: BPF_FIB_LOOKUP_DIRECT's main table no longer holds local routes",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "rule-ports-ignored",
		File: "netstack/fibrules.go",
		Old:  `		portMatch(ru.sport, fl.sport) && portMatch(ru.dport, fl.dport)`,
		New:  `		true`,
		Desc: "a rule's sport and dport ranges select the flow's ports (fib_rule_port_match)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "rule-fragment-ports",
		File: "netstack/fibrules.go",
		Old: `		if ip.isFragment() {
			return
		}`,
		New:  ``,
		Desc: "the flow dissector reads no ports from a fragment (no FLOW_DISSECTOR_F_PARSE_1ST_FRAG)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "rule-validate-ports-unswapped",
		File: "netstack/rtinput.go",
		Old:  `			fl.sport, fl.dport = fl.dport, fl.sport`,
		New:  ``,
		Desc: "fib_validate_source's reversed flow swaps the ports",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "rule-tun-id-ignored",
		File: "netstack/fibrules.go",
		Old:  `		(ru.tunID == 0 || ru.tunID == fl.tunID) &&`,
		New:  ``,
		Desc: "a tun_id rule selects the received collect_md key",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "rule-iif-lo-dissects",
		File: "netstack/fibrules.go",
		Old:  `		if ru.iif != loIfindex && (ru.proto != 0`,
		New:  `		if (ru.proto != 0`,
		Desc: "a rule with iif lo does not make received packets dissected (fib_rule_requires_fldissect)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "rule-goto-skips-target",
		File: "netstack/fibrules.go",
		Old:  `				i = j - 1`,
		New:  `				i = j`,
		Desc: "a goto rule jumps to its target rule, whose selectors are then matched (fib_rules_lookup's jumped)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "rule-goto-ignored",
		File: "netstack/fibrules.go",
		Old: `			if j := ns.ruleAt(v6, ru.target); j >= 0 {
				i = j - 1
			}`,
		New:  ``,
		Desc: "a goto rule skips the rules before its target",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "throw-route-stops",
		File: "netstack/fibrules.go",
		Old:  `		if !ok || r == nil || r.reject == errEAGAIN {`,
		New:  `		if !ok || r == nil {`,
		Desc: "a throw route sends the walk on to the next rule (-EAGAIN)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "throw-route-without-rules",
		File: "netstack/fibrules.go",
		Old: `	if r != nil && r.reject == errEAGAIN {
		return nil
	}`,
		New:  ``,
		Desc: "without rules a throw route is no route (fib_lookup's -ENETUNREACH)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "neigh-invalid-used",
		File: "netstack/tx.go",
		Old: `			if n.valid {
				return n.mac, true
			}`,
		New:  `			return n.mac, true`,
		Desc: "a failed or incomplete neighbour entry holds no address: a packet sent to it is resolved anew",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "neigh-state-ignored-by-fib",
		File: "netstack/tx.go",
		Old:  `			return n.mac, n.valid`,
		New:  `			return n.mac, true`,
		Desc: "bpf_fib_lookup answers NO_NEIGH for an entry outside NUD_VALID",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "rule-ipv6-fragment-proto",
		File: "netstack/fibrules.go",
		Old: `			if off+8 <= len(p) {
				fl.proto = p[off]
			}`,
		New:  ``,
		Desc: "for an IPv6 fragment the rules see the fragment header's next header as the protocol (measured on 6.18)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "rule-tos-unmasked",
		File: "netstack/fibrules.go",
		Old:  `	return ru.dscp == fl.dscp&0x1c`,
		New:  `	return ru.dscp == fl.dscp`,
		Desc: "an IPv4 tos rule compares only the packet's old TOS bits (fib_dscp_masked_match; measured on 6.18 with DSCP EF)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "rule-tos-ipv6-masked",
		File: "netstack/fibrules.go",
		Old: `		return ru.dscp == fl.dscp
	}`,
		New: `		return ru.dscp == fl.dscp&0x1c
	}`,
		Desc: "an IPv6 tos rule compares the whole DSCP of the traffic class",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "rule-uidrange-ignored",
		File: "netstack/fibrules.go",
		Old:  ` && (!ru.uidSet || (fl.uid >= ru.uidLo && fl.uid <= ru.uidHi))`,
		New:  ``,
		Desc: "a uidrange rule selects the sending socket's owner (sk_uid); packets without a socket have uid 0",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "fib-flags-ungated",
		File: "netstack/fib.go",
		Old:  `	if flags&^FibLookupFlags(c.s.prof) != 0 {`,
		New:  `	if flags&^uint32(0x3f) != 0 {`,
		Desc: "bpf_fib_lookup refuses the flags its release does not know (SKIP_NEIGH v6.3, TBID v6.5, SRC v6.7, MARK v6.10) with -EINVAL",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "fib-mtu-result-always",
		File: "netstack/fib.go",
		Old:  `	checkMTU := c.xdp || (p.TotLen != 0 && c.s.prof.FibMTUResult)`,
		New:  `	checkMTU := c.xdp || p.TotLen != 0`,
		Desc: "before v5.12 tc's bpf_fib_lookup checks the skb, not tot_len",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "fib-no-neigh-ifindex-always",
		File: "netstack/fib.go",
		Old:  `	if s.prof.FibNoNeighIfindex {`,
		New:  `	if true {`,
		Desc: "before v5.10 bpf_fib_lookup writes the egress ifindex only on success",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "fib-neigh-valid-always",
		File: "netstack/fib.go",
		Old:  `		if !ok && !s.prof.FibNeighValid {`,
		New:  `		if false {`,
		Desc: "before v6.3 bpf_fib_lookup answers SUCCESS for a neighbour entry in any state",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "mp-consistentify-big-endian",
		File: "netstack/multipath.go",
		Old:  `	} else if binary.LittleEndian.Uint32(k.dst[:4]) < binary.LittleEndian.Uint32(k.src[:4]) {`,
		New:  `	} else if binary.BigEndian.Uint32(k.dst[:4]) < binary.BigEndian.Uint32(k.src[:4]) {`,
		Desc: "__flow_hash_consistentify compares the raw address words as host (little-endian) integers",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "mp-hash-length",
		File: "netstack/multipath.go",
		Old:  `	ln := 48`,
		New:  `	ln := 44`,
		Desc: "flow_keys_hash_length covers 4 bytes of padding after an IPv4 address pair (48 bytes)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "mp-no-shift",
		File: "netstack/multipath.go",
		Old:  `	return int32(mhash >> 1)`,
		New:  `	return int32(mhash)`,
		Desc: "fib_multipath_hash returns mhash >> 1, a 31-bit hash",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "mp-upper-bound-truncated",
		File: "netstack/multipath.go",
		Old:  `		nh.upper = int32((w<<31+total/2)/total - 1)`,
		New:  `		nh.upper = int32((w<<31)/total - 1)`,
		Desc: "fib_rebalance rounds the upper bound to the closest (DIV_ROUND_CLOSEST_ULL)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "mp-dead-path-used",
		File: "netstack/multipath.go",
		Old:  `	live := func(nh *nexthop) bool { return nh.live() && !(ignoreLinkdown && nh.ignored) }`,
		New:  `	live := func(nh *nexthop) bool { return !(ignoreLinkdown && nh.ignored) }`,
		Desc: "a path through a device that is down is dead (RTNH_F_DEAD, upper bound -1)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "mp-icmp-error-outer",
		File: "netstack/multipath.go",
		Old: `			icmpIsErr(p[ihl]) {
			key = p[ihl+icmpHlen:]
		}`,
		New: `			icmpIsErr(p[ihl]) {
		}`,
		Desc: "ip_multipath_l3_keys hashes an ICMP error on the header it quotes",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "mp-label-host-order",
		File: "netstack/multipath.go",
		Old:  `	k.label = mpLabelRaw(binary.BigEndian.Uint32(key[0:4]))`,
		New:  `	k.label = mpLabelHost(binary.BigEndian.Uint32(key[0:4]))`,
		Desc: "ip6_multipath_l3_keys stores the raw big-endian flow label, unlike the flow dissector",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "mp-gre-key-skipped",
		File: "netstack/multipath.go",
		Old: `			if flags&greFlagKey != 0 {
				goff += 4
			}`,
		New:  ``,
		Desc: "__skb_flow_dissect_gre skips the key word before the inner header",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "mp-uses-dev-first-path",
		File: "netstack/rtinput.go",
		Old:  `		devMatch, gw = r.usesDev(in), r.via.IsValid()`,
		New:  `		devMatch, gw = r.dev == in, r.via.IsValid()`,
		Desc: "fib_validate_source accepts a source whose route has any path through the input device (fib_info_nh_uses_dev)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "mp-saddr-first-ignored",
		File: "netstack/multipath.go",
		Old:  `	if s.prof.MultipathSaddr == skb.MultipathSaddrFirst && saddr.IsValid() {`,
		New:  `	if false {`,
		Desc: "v6.16 to v6.18 end on the last path for a source that matches no path's nh_saddr",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "mp-saddr-score-ignored",
		File: "netstack/multipath.go",
		Old: `			if saddr.IsValid() && nh.saddr == saddr {
				sc += 2
			}`,
		New:  ``,
		Desc: "from v6.19 a path whose nh_saddr is the source scores 2 (fib_select_multipath)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "mp-use-neigh-ignored",
		File: "netstack/multipath.go",
		Old:  `			if valid, found := ns.neighState(nh.dev, nh.via); found && !valid {`,
		New:  `			if valid, found := ns.neighState(nh.dev, nh.via); false && found && !valid {`,
		Desc: "fib_multipath_use_neigh passes over a path whose gateway's entry is not NUD_VALID (fib_good_nh)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "mp-l4-hash-ignored",
		File: "netstack/multipath.go",
		Old:  `			if pk.b != nil && pk.b.H().L4Hash {`,
		New:  `			if false {`,
		Desc: "the L4 policy takes a received skb's L4 hash as it is (skb_get_hash_raw >> 1)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "mp-output-hashed",
		File: "netstack/multipath.go",
		Old: `		if nh := &r.paths[i]; nh.dev == d && nh.live() && (anyLink || !nh.ignored) {
			return &nh.route
		}`,
		New: `		if nh := &r.paths[i]; nh.dev == d && nh.dev.up && (anyLink || !nh.ignored) {
			return r
		}`,
		Desc: "a lookup bound to an output device takes the path through it without hashing (BPF_FIB_LOOKUP_OUTPUT)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "mp-tunnel-inner-hash-ignored",
		File: "netstack/tunnel.go",
		Old:  `		fl.mpHash = b.H().Hash`,
		New:  ``,
		Desc: "IPv4 tunnels pass the inner skb_get_hash as flowi4_multipath_hash (ip_tunnel_init_flow)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "mp-icmp-error-flowi",
		File: "netstack/icmp.go",
		Old:  `		pk = &mpPacket{b: b, p: body} // icmp_route_lookup's skb_in`,
		New:  ``,
		Desc: "an ICMP error's multipath route is hashed on the packet it answers (icmp_route_lookup's skb_in)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "nhg-bad-member-taken",
		File: "netstack/multipath.go",
		Old: `			if !good(nh) {
				continue
			}
			if pick < 0 {`,
		New:  `			if pick < 0 {`,
		Desc: "a nexthop group passes over a member whose gateway's neighbour is not NUD_VALID (nexthop_is_good_nh)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "nhg-old-fallback",
		File: "netstack/multipath.go",
		Old:  `		if s.prof.NexthopGoodFirst {`,
		New:  `		if true {`,
		Desc: "before v6.6 a group with no good covering member returns the first covering one",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "nhg-saddr-weighed",
		File: "netstack/multipath.go",
		Old: `	if r.nhg {
		return s.selectMember(ns, r, hash)
	}`,
		New:  ``,
		Desc: "a nexthop group ignores the source address and fib_multipath_use_neigh (nexthop_path_fib_result)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "nhg-dead-member-kept",
		File: "netstack/multipath.go",
		Old:  `		case m.obj.dev.up && m.obj.dev.carrier:`,
		New:  `		case !m.obj.dev.up || m.obj.dev.carrier:`,
		Desc: "a nexthop whose device is down is deleted from its groups, and a route left with none is gone",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "nhg-blackhole-ignored",
		File: "netstack/multipath.go",
		Old: `			rc.Type = RouteBlackhole
			return rc, false, false, nil`,
		New:  `			return rc, false, true, nil`,
		Desc: "a route naming a blackhole nexthop is a blackhole route (-EINVAL)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "route-down-device-kept",
		File: "netstack/stack.go",
		Old:  `			if !r.anyLive() {`,
		New:  `			if false {`,
		Desc: "routes through a device that is down are flushed (fib_sync_down_dev, fib6_ifdown), a multipath route once all its paths are dead",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "connected-route-down-device",
		File: "netstack/stack.go",
		Old: `				if !d.up {
					// A device configured down is taken as never up, its`,
		New: `				if false {
					// A device configured down is taken as never up, its`,
		Desc: "an address on a device that is down has no prefix route (fib_add_ifaddr and addrconf wait for IFF_UP)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "mp-seed-boot-ignored",
		File: "netstack/multipath.go",
		Old:  `		seed = uint64(s.cfg.Options.MultipathBootSeed)`,
		New:  `		seed = 0`,
		Desc: "a namespace whose fib_multipath_hash_seed is 0 keys its hash with the boot seed",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "netkit-xnet-keeps-mark",
		File: "netstack/netkit.go",
		Old:  `	if d.nk.scrub {`,
		New:  `	if false {`,
		Desc: "netkit_prep_forward with NETKIT_SCRUB_DEFAULT clears mark and priority of a frame crossing into another namespace (netkit_xnet)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "netkit-scrub-xnet",
		File: "netstack/netkit.go",
		Old: `	b.Scrub(false)
	b.ResetMacHeader()
	if !xnet {`,
		New: `	b.Scrub(xnet)
	b.ResetMacHeader()
	if !xnet {`,
		Desc: "from v6.13 netkit_prep_forward scrubs with xnet=false, so keep_scrub values cross into another namespace",
		Pkgs: []string{"./netstack", "./examples"},
	},
	{
		Name: "netkit-old-priority-kept",
		File: "netstack/netkit.go",
		Old: `		b.Scrub(xnet)
		h.Priority = 0`,
		New:  `		b.Scrub(xnet)`,
		Desc: "before v6.13 netkit_prep_forward zeroed priority on every frame, within a namespace too",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "netkit-next-drops",
		File: "netstack/netkit.go",
		Old:  `	case TCXNext, TCXPass:`,
		New:  `	case TCXPass:`,
		Desc: "NETKIT_NEXT from the last program passes, whatever the policy",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "netkit-unknown-passes",
		File: "netstack/netkit.go",
		Old:  `	case TCXNext, TCXPass:`,
		New:  `	case TCXNext, TCXPass, 1:`,
		Desc: "netkit_xmit drops a frame for a verdict it does not know (tcx would take it as NEXT)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "netkit-pkttype-late",
		File: "netstack/netkit.go",
		Old: `	if s.prof.NetkitPktType {
		setPktType(b.H(), b.Data()[0:6], p) // eth_skb_pkt_type(skb, peer); scrubbed to PACKET_HOST
	}`,
		New:  ``,
		Desc: "from v6.10 netkit_xmit sets pkt_type from the peer's address (eth_skb_pkt_type) before the programs",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "netkit-redirect-peer-refused",
		File: "netstack/core.go",
		Old:  `(t.kid != kidVeth && t.kid != kidNetkit)`,
		New:  `t.kid != kidVeth`,
		Desc: "bpf_redirect_peer targets a netkit device (ndo_get_peer_dev) as a veth",
		Pkgs: []string{"./netstack", "./examples"},
	},
	{
		Name: "dev-queue-xmit-keeps-tc-ingress",
		File: "netstack/tx.go",
		Old:  `	b.H().TCAtIngress = false // tcx_set_ingress(skb, false)`,
		New:  ``,
		Desc: "__dev_queue_xmit clears tc_at_ingress, so bpf_redirect_peer from a netkit program fails",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "noarp-neigh-resolved",
		File: "netstack/tx.go",
		Old: `		if out.noarp {
			return out.mac, true
		}
		if ns.isBcast4(a) {`,
		New:  `		if ns.isBcast4(a) {`,
		Desc: "arp_constructor gives a neighbour on an IFF_NOARP device (netkit in l3 mode) the device's own address",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "arp-noarp-processed",
		File: "netstack/arp.go",
		Old:  `	if pt := b.H().PktType; d.noarp || pt == skb.PacketOtherhost || pt == skb.PacketLoopback {`,
		New:  `	if pt := b.H().PktType; pt == skb.PacketOtherhost || pt == skb.PacketLoopback {`,
		Desc: "arp_rcv consumes ARP on an IFF_NOARP device without answering",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "expand-head-no-clone",
		File: "netstack/tx.go",
		Old:  `	if sk := b.Sk(); b.Shared() || sk == nil {`,
		New:  `	if sk := b.Sk(); b.Shared() {`,
		Desc: "skb_expand_head clones an skb that no socket's write memory owns before expanding it",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "finish-output2-fixed-headroom",
		File: "netstack/tx.go",
		Old:  `	if hh := llReservedSpace(out); b.Headroom() < hh {`,
		New:  `	if hh := 16; b.Headroom() < hh {`,
		Desc: "ip_finish_output2 and bpf_out_neigh expand to LL_RESERVED_SPACE(dev), needed_headroom included",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "netkit-headroom-ignored",
		File: "netstack/ip.go",
		Old:  `	return encapLen(d) + d.headroom`,
		New:  `	return encapLen(d)`,
		Desc: "IFLA_NETKIT_HEADROOM enters both ends' needed_headroom and LL_RESERVED_SPACE",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "netkit-primary-targets-own-netns",
		File: "netstack/stack.go",
		Old: `			if pc.Hook == carrier.HookNetkitPrimary {
				tn = nkDev.peer.ns
			}`,
		New:  ``,
		Desc: "a netkit_primary program's helpers look devices up in the peer's namespace (skb->dev is the peer)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "xdp-redirect-any-device",
		File: "netstack/rx.go",
		Old:  `func (d *Device) ndoXDPXmit() bool { return d.kid == kidNIC || d.kid == kidVeth }`,
		New:  `func (d *Device) ndoXDPXmit() bool { return true }`,
		Desc: "a native XDP redirect to a device without ndo_xdp_xmit (bridge, macvlan, netkit, lo) fails (__xdp_enqueue: -EOPNOTSUPP)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "devmap-generic-broadcast-skips-invalid",
		File: "netstack/devmap.go",
		Old: `		if !devmapValid(e, c.Len()) {
			s.consumeSkb(c)
			s.drop(b, reason, loc)
			return
		}`,
		New: `		if !devmapValid(e, c.Len()) {
			s.consumeSkb(c)
			continue
		}`,
		Desc: "dev_map_redirect_multi fails the whole generic broadcast at the first entry that is down or too small",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "devmap-exclude-ingress-no-uppers",
		File: "netstack/devmap.go",
		Old:  `	if ifindex == d.ifindex || d.master != nil && ifindex == d.master.ifindex {`,
		New:  `	if ifindex == d.ifindex {`,
		Desc: "BPF_F_EXCLUDE_INGRESS also excludes the ingress device's upper devices (get_upper_ifindexes: its bridge)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "connected-route6-down-device",
		File: "netstack/stack.go",
		Old: `				if !d.up {
					// A device configured down is taken as never up, its`,
		New: `				if p.Addr().Is4() && !d.up {
					// A device configured down is taken as never up, its`,
		Desc: "an IPv6 address on a device that is down has no prefix route (addrconf adds it once the device is up)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "netkit-no-vlan-tx-offload",
		File: "netstack/tx.go",
		Old:  `	return d.kid == kidVeth || d.kid == kidBridge || d.kid == kidNIC || d.kid == kidNetkit`,
		New:  `	return d.kid == kidVeth || d.kid == kidBridge || d.kid == kidNIC`,
		Desc: "netkit has NETIF_F_HW_VLAN_CTAG_TX: validate_xmit_vlan leaves the tag in vlan_tci",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "neigh-multicast6-resolved",
		File: "netstack/tx.go",
		Old: `	} else if nh.IsMulticast() {
		a := nh.As16()
		return [6]byte{0x33, 0x33, a[12], a[13], a[14], a[15]}, true
	} else if out.noarp {`,
		New:  `	} else if out.noarp {`,
		Desc: "ndisc_constructor maps an IPv6 multicast next hop to 33:33 and the group's low 32 bits (ndisc_mc_map) without resolution",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "nhg-linkdown-member-kept",
		File: "netstack/multipath.go",
		Old:  `		case m.obj.dev.up && m.obj.dev.carrier:`,
		New:  `		case m.obj.dev.up:`,
		Desc: "a nexthop whose device has no carrier is deleted (nexthop_flush_dev on NETDEV_CHANGE), from its groups too",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "mp-linkdown-path-balanced",
		File: "netstack/multipath.go",
		Old:  `	live := func(nh *nexthop) bool { return nh.live() && !(ignoreLinkdown && nh.ignored) }`,
		New:  `	live := func(nh *nexthop) bool { return nh.live() }`,
		Desc: "with ignore_routes_with_linkdown a path without carrier leaves the balance (fib_rebalance, rt6_multipath_rebalance)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "carrier-veth-peer-ignored",
		File: "netstack/carrier.go",
		Old:  `			d.carrier = d.up && d.peer != nil && d.peer.up`,
		New:  `			d.carrier = d.up`,
		Desc: "a veth or netkit end has carrier only while its peer is up too (veth_open, veth_close)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "carrier-nic-always",
		File: "netstack/carrier.go",
		Old:  `			d.carrier = !d.noCarrier`,
		New:  `			d.carrier = true`,
		Desc: "a dummy's or NIC's carrier can be off (dummy_change_carrier, a link that is down)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "carrier-bridge-always",
		File: "netstack/carrier.go",
		Old:  `				c = slices.ContainsFunc(d.ports, (*Device).brForwarding)`,
		New:  `				c = len(d.ports) >= 0 || slices.ContainsFunc(d.ports, (*Device).brForwarding)`,
		Desc: "a bridge has carrier only while one of its ports forwards (br_port_state_selection's liveports)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "carrier-macvlan-always",
		File: "netstack/carrier.go",
		Old:  `				c = d.lower.carrier`,
		New:  `				c = true`,
		Desc: "a macvlan's carrier is its lower device's (netif_stacked_transfer_operstate)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "carrier-one-pass",
		File: "netstack/carrier.go",
		Old:  `				d.carrier, changed = c, true`,
		New:  `				d.carrier = c`,
		Desc: "stacked devices take their carrier from devices listed after them (the fixed point)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "qdisc-no-carrier-sends",
		File: "netstack/tx.go",
		Old:  `	if d.blackhole || !d.carrier || !d.up {`,
		New:  `	if d.blackhole || !d.up {`,
		Desc: "a device without carrier has noop_qdisc, which drops what it sends (QDISC_DROP) before the taps",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "br-port-state-ignored",
		File: "netstack/bridge.go",
		Old:  `	if !p.brForwarding() || !brAllowedEgress(p.master, p.brVLAN, b) {`,
		New:  `	if !brAllowedEgress(p.master, p.brVLAN, b) {`,
		Desc: "should_deliver: a bridge port that is not forwarding (down, no carrier) gets no frame",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "br-rx-port-state-ignored",
		File: "netstack/bridge.go",
		Old:  `	if !port.brForwarding() {`,
		New:  `	if !port.master.up {`,
		Desc: "br_handle_frame drops a frame that came in by a disabled port (BRIDGE_INGRESS_STP_STATE)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "br-rx-invalid-source-taken",
		File: "netstack/bridge.go",
		Old:  `	if !isValidEtherAddr([6]byte(mac[6:12])) {`,
		New:  `	if false {`,
		Desc: "br_handle_frame drops a frame from a multicast or zero source address (MAC_INVALID_SOURCE)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "br-drop-reasons-always",
		File: "netstack/bridge.go",
		Old:  `	if s.prof.BridgeDropReasons {`,
		New:  `	if true {`,
		Desc: "the bridge's input drops have their reasons from v6.14 only (NOT_SPECIFIED before)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "br-flood-no-target-unnamed",
		File: "netstack/bridge.go",
		Old:  `			s.drop(b, s.brReason(skb.DropNoTxTarget), OpBridgeForward)`,
		New:  `			s.drop(b, skb.DropNotSpecified, OpBridgeForward)`,
		Desc: "br_flood with no port to send to drops with NO_TX_TARGET (v6.14)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "br-devxmit-fdb-port-state",
		File: "netstack/bridge.go",
		Old: `			if !brShouldDeliver(nil, to, b) {
				s.drop(b, skb.DropNotSpecified, OpBridgeForward) // br_forward: kfree_skb`,
		New: `			if false {
				s.drop(b, skb.DropNotSpecified, OpBridgeForward) // br_forward: kfree_skb`,
		Desc: "br_dev_xmit's br_forward to a known address frees the frame when its port does not forward",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "linkdown-route-used",
		File: "netstack/carrier.go",
		Old:  `		r.ignored = ign && !r.dev.carrier`,
		New:  `		r.ignored = false`,
		Desc: "with ignore_routes_with_linkdown a route through a device without carrier is passed over (fib_lookup_good_nhc, find_match)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "linkdown-path-used",
		File: "netstack/carrier.go",
		Old:  `		p.ignored = ign && !p.dev.carrier`,
		New:  `		p.ignored = false`,
		Desc: "with ignore_routes_with_linkdown a path through a device without carrier is passed over",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "linkdown-route4-main-used",
		File: "netstack/ip.go",
		Old:  `			if r := &ns.routes4[i]; a&r.mask == r.net && !r.ignored {`,
		New:  `			if r := &ns.routes4[i]; a&r.mask == r.net {`,
		Desc: "an IPv4 main-table lookup passes over an ignored linkdown route",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "linkdown-route6-main-used",
		File: "netstack/ip.go",
		Old:  `		if r.dst.Contains(dst) && !r.ignored && r.beats(best) {`,
		New:  `		if r.dst.Contains(dst) && r.beats(best) {`,
		Desc: "an IPv6 main-table lookup passes over an ignored linkdown route (find_match, fib6_backtrack)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "linkdown-table-route-used",
		File: "netstack/fibrules.go",
		Old:  `		case r.ignored && !anyLink:`,
		New:  `		case false:`,
		Desc: "a rule's table lookup passes over an ignored linkdown route and the walk goes on",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "validate-source-linkstate",
		File: "netstack/rtinput.go",
		Old:  `		if r := ns.routes[r4.idx].pathOn(in, true); a&r4.mask == r4.net && r != nil {`,
		New:  `		if r := ns.routes[r4.idx].pathOn(in, false); a&r4.mask == r4.net && r != nil {`,
		Desc: "fib_validate_source's lookup bound to the input device ignores the link state (FIB_LOOKUP_IGNORE_LINKSTATE)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "entry-without-carrier",
		File: "netstack/stack.go",
		Old: `			if d.up && !d.carrier {
				return cfgErr("entry %d: %s has no carrier: no frame arrives on it", i, d.name)`,
		New: `			if false {
				return cfgErr("entry %d: %s has no carrier: no frame arrives on it", i, d.name)`,
		Desc: "no frame arrives on a device without carrier: an entry there is refused",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "dummy-arps",
		File: "netstack/stack.go",
		Old:  `	case KindIFB, KindDummy:`,
		New:  `	case KindIFB:`,
		Desc: "a dummy is IFF_NOARP (dummy_setup): its neighbours take its own address",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "br-link-local-flooded",
		File: "netstack/bridge.go",
		Old:  `	if [5]byte(mac[0:5]) == [5]byte{0x01, 0x80, 0xc2, 0, 0} && mac[5]&0xf0 == 0 {`,
		New:  `	if false {`,
		Desc: "br_handle_frame passes a frame to a link-local group address up the port (RX_HANDLER_PASS) or drops it",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "br-link-local-pause-passed",
		File: "netstack/bridge.go",
		Old: `		s.drop(b, s.brReason(skb.DropMacIEEEMacControl), OpBridgeRx)
		return rxHandlerConsumed`,
		New:  `		return rxHandlerPass`,
		Desc: "br_handle_frame drops a frame to the MAC control group address (MAC_IEEE_MAC_CONTROL)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "br-link-local-unlearnt",
		File: "netstack/bridge.go",
		Old:  `			port.master.fdbLearn([6]byte(mac[6:12]), vid, port)`,
		New:  `			_, _ = mac, vid`,
		Desc: "__br_handle_local_finish learns the source of a link-local frame",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "br-link-local-learns-always",
		File: "netstack/bridge.go",
		Old:  `	if !port.brNoLearn && port.brForwarding() {`,
		New:  `	if port.brForwarding() {`,
		Desc: "a port with learning off learns no source from link-local frames either",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "arp-ignore-off",
		File: "netstack/arp.go",
		Old:  `			if (sip == [4]byte{} || arpValidSource(ns, sip)) && !ns.arpIgnores(d, sip, tip) &&`,
		New:  `			if (sip == [4]byte{} || arpValidSource(ns, sip)) &&`,
		Desc: "arp_ignore keeps the host from answering some requests",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "arp-ignore-1-any-device",
		File: "netstack/arp.go",
		Old: `	case 1:
		return !d.hasAddr(t)`,
		New: `	case 1:
		return false`,
		Desc: "arp_ignore 1 answers only for an address of the device the request came in on",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "arp-ignore-2-no-subnet",
		File: "netstack/arp.go",
		Old:  `			if p.Addr().Is4() && p.Masked().Contains(t) && p.Masked().Contains(src) {`,
		New:  `			if p.Addr().Is4() && p.Masked().Contains(t) && src.IsValid() {`,
		Desc: "arp_ignore 2 answers only a sender in the target's subnet (confirm_addr_indev's inet_ifa_match)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "arp-ignore-2-probe-ignored",
		File: "netstack/arp.go",
		Old: `		if sip == [4]byte{} {
			return false
		}`,
		New:  ``,
		Desc: "arp_ignore 2 answers a duplicate address probe (inet_confirm_addr with dst 0: any subnet)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "arp-ignore-3-anyip-answered",
		File: "netstack/arp.go",
		Old: `	case 3:
		for _, x := range ns.devs {`,
		New: `	case 3:
		return false
		for _, x := range ns.devs {`,
		Desc: "arp_ignore 3 answers only for a device's address of scope link or wider (not an AnyIP local route's)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "arp-ignore-8-answers",
		File: "netstack/arp.go",
		Old: `	case 8:
		return true`,
		New: `	case 8:
		return false`,
		Desc: "arp_ignore 8 answers nothing",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "arp-filter-off",
		File: "netstack/arp.go",
		Old:  `		(sip == [4]byte{} || !ns.arpFilter || s.arpFilterPasses(d, sip, tip)) {`,
		New:  `		true {`,
		Desc: "arp_filter answers only when the route back to the sender leaves by the input device",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "arp-filter-probes",
		File: "netstack/arp.go",
		Old:  `		(sip == [4]byte{} || !ns.arpFilter || s.arpFilterPasses(d, sip, tip)) {`,
		New:  `		(!ns.arpFilter || s.arpFilterPasses(d, sip, tip)) {`,
		Desc: "arp_filter does not apply to a duplicate address probe (arp_process answers it before)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "change-type-any",
		File: "netstack/adjroom.go",
		Old:  `	if h.PktType > skb.PacketOtherhost || t > uint32(skb.PacketOtherhost) {`,
		New:  `	if h.PktType > skb.PacketOtherhost {`,
		Desc: "bpf_skb_change_type refuses a type above PACKET_OTHERHOST (skb_pkt_type_ok)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "change-type-ignored",
		File: "netstack/adjroom.go",
		Old:  `	h.PktType = skb.PktType(t)`,
		New:  `	_ = t`,
		Desc: "bpf_skb_change_type sets skb->pkt_type",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "route-mtu-local-device",
		File: "netstack/ip.go",
		Old:  `	return out, nh, ipMTUClamp(dst, r.mtuOf())`,
		New:  `	return out, nh, ipMTUClamp(dst, out.mtu)`,
		Desc: "the host's own packets leave by the route's MTU (dst_mtu: the mtu metric first)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "route-mtu-local-output",
		File: "netstack/tx.go",
		Old:  `	s.ipOutput(b, ns, out, nh, sk, mtu)`,
		New:  `	s.ipOutput(b, ns, out, nh, sk, out.mtu)`,
		Desc: "ip_finish_output fragments the host's packets to the route's MTU (ip_skb_dst_mtu)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "route-mtu-tcp-mss",
		File: "netstack/tx.go",
		Old:  `	mss := mtu - hdrs - g.doff`,
		New:  `	mss := out.mtu - hdrs - g.doff`,
		Desc: "TCP's MSS comes from the route's MTU (tcp_sync_mss with dst_mtu)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "redirect-ingress-mtu-checked",
		File: "netstack/core.go",
		Old:  `		if !s.devForwardSkbMTU(b, t, !s.prof.RedirectIngressNoMTU) {`,
		New:  `		if !s.devForwardSkbMTU(b, t, true) {`,
		Desc: "bpf_redirect into a device's ingress ignores its MTU from v5.12 (dev_forward_skb_nomtu)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "dev-forward-dev-ready",
		File: "netstack/core.go",
		Old: `		s.drop(b, skb.DropNotSpecified, OpDevForward)
		return false`,
		New: `		s.drop(b, skb.DropDevReady, OpDevForward)
		return false`,
		Desc: "____dev_forward_skb frees with kfree_skb (NOT_SPECIFIED)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "veth-peer-mtu-ignored",
		File: "netstack/stack.go",
		Old:  `				p.mtu = dc.PeerMTU`,
		New:  `				_ = p`,
		Desc: "a veth's peer may have an MTU of its own (DeviceConfig.PeerMTU), which __dev_forward_skb checks",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "qdisc-down-device-sends",
		File: "netstack/tx.go",
		Old:  `	if d.blackhole || !d.carrier || !d.up {`,
		New:  `	if d.blackhole || !d.carrier {`,
		Desc: "a device that is down has noop_qdisc on its queues: what reaches its __dev_queue_xmit is dropped there (QDISC_DROP)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "ip6-forward-route-mtu",
		File: "netstack/ip6.go",
		Old: `	mtu := out.mtu
	if r.mtuLocked`,
		New: `	mtu := r.mtuOf()
	if r.mtuLocked`,
		Desc: "ip6_forward checks the device's MTU: an unlocked route mtu metric counts only in ip6_fragment",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "ip6-fragment-silent",
		File: "netstack/ip6_output.go",
		Old:  `		s.icmp6Send(b, ns, ns.devByIndex(b.H().SkbIIF), icmp6PktTooBig, 0, uint32(mtu))`,
		New:  ``,
		Desc: "ip6_fragment's fail_toobig answers packet too big",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "ipv4-mtu-unclamped",
		File: "netstack/ip.go",
		Old:  `		return min(mtu, 0xffff)`,
		New:  `		return mtu`,
		Desc: "ipv4_mtu clamps a route's MTU to IP_MAX_MTU",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "route-mtu-metric-unclamped",
		File: "netstack/stack.go",
		Old:  `mtu: min(rc.MTU, 65535-15),`,
		New:  `mtu: rc.MTU,`,
		Desc: "ip_metrics_convert clamps RTAX_MTU to 65535 - 15",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "bridge-group-fwd-port-only",
		File: "netstack/bridge.go",
		Old:  `	if (port.groupFwdMask|port.master.groupFwdMask)&(1<<ll) != 0 {`,
		New:  `	if port.groupFwdMask&(1<<ll) != 0 {`,
		Desc: "br_handle_frame forwards a link-local frame whose bit the port's or the bridge's group_fwd_mask has",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "bridge-group-fwd-port-restriction",
		File: "netstack/bridge.go",
		Old:  `		if dc.GroupFwdMask&0x2 != 0 {`,
		New:  `		if dc.GroupFwdMask&0x7 != 0 {`,
		Desc: "br_setport refuses only BR_GROUPFWD_MACPAUSE in a port's group_fwd_mask",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "ip6-forward-lock-ignored",
		File: "netstack/ip6.go",
		Old:  `	if r.mtuLocked && r.mtu > 0 {`,
		New:  `	if false && r.mtuLocked && r.mtu > 0 {`,
		Desc: "ip6_dst_mtu_maybe_forward takes a locked route MTU in ip6_forward",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "fib-lookup-mtu-lock-ignored",
		File: "netstack/fib.go",
		Old:  `	if r.mtu > 0 && (r.mtuLocked || (!v6 && ns.fwdUsePMTU)) {`,
		New:  `	if r.mtu > 0 && (!v6 && ns.fwdUsePMTU) {`,
		Desc: "ip_mtu_from_fib_result and ip6_mtu_from_fib6 take a locked route MTU",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "fib-lookup-use-pmtu-ignored",
		File: "netstack/fib.go",
		Old:  `	if r.mtu > 0 && (r.mtuLocked || (!v6 && ns.fwdUsePMTU)) {`,
		New:  `	if r.mtu > 0 && r.mtuLocked {`,
		Desc: "ip_mtu_from_fib_result takes the route's MTU under ip_forward_use_pmtu",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "route-mtu-lock-zero-uncapped",
		File: "netstack/stack.go",
		Old:  `	if r.mtuLocked && r.via.IsValid() && r.dev.mtu > 576 && r.dst.Addr().Is4() {`,
		New:  `	if r.mtuLocked && r.via.IsValid() && r.dev.mtu > 576 && r.dst.Addr().Is6() {`,
		Desc: "ip_dst_mtu_maybe_forward caps a gateway route's locked MTU of 0 at 576",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "veth-xmit-peer-dev-ready",
		File: "netstack/tx.go",
		Old: `	s.traceOp(LayerDev, OpVethXmit, b)
	eligible`,
		New: `	s.traceOp(LayerDev, OpVethXmit, b)
	if !p.up {
		s.drop(b, skb.DropDevReady, OpVethXmit)
		return
	}
	eligible`,
		Desc: "veth_xmit leaves a peer that is down to ____dev_forward_skb (kfree_skb: NOT_SPECIFIED)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "brvlan-ingress-any-vlan",
		File: "netstack/brvlan.go",
		Old: `	if !g.has(vid) {
		s.drop(b, skb.DropNotSpecified, OpBridgeRx)
		return 0, false
	}
	return vid, true`,
		New:  `	return vid, true`,
		Desc: "__allowed_ingress drops a tagged frame outside the port's VLANs",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "brvlan-no-pvid-passes",
		File: "netstack/brvlan.go",
		Old: `		if g.pvid == 0 {
			s.drop(b, skb.DropNotSpecified, OpBridgeRx)
			return 0, false
		}`,
		New: `		if g.pvid == 0 {
			return 0, true
		}`,
		Desc: "__allowed_ingress drops an untagged frame on a port without a pvid",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "brvlan-priority-tag-loses-pcp",
		File: "netstack/brvlan.go",
		Old:  `			h.VlanTCI |= g.pvid`,
		New:  `			h.VlanTCI = g.pvid`,
		Desc: "a priority-tagged frame keeps its PCP when it takes the pvid",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "brvlan-egress-unfiltered",
		File: "netstack/brvlan.go",
		Old:  `	return !br.vlanFiltering || g.has(b.H().VlanTCI&vlanVIDMask)`,
		New:  `	return true`,
		Desc: "br_allowed_egress keeps a frame from ports outside its VLAN",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "brvlan-untagged-kept",
		File: "netstack/brvlan.go",
		Old:  `	if g.isUntagged(h.VlanTCI & vlanVIDMask) {`,
		New:  `	if false && g.isUntagged(h.VlanTCI & vlanVIDMask) {`,
		Desc: "br_handle_vlan strips the tag of an untagged VLAN",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "brvlan-fdb-ignores-vlan",
		File: "netstack/bridge.go",
		Old:  `	return uint64(vid)<<48 | uint64(mac[0])<<40`,
		New:  `	return uint64(0)<<48 | uint64(mac[0])<<40`,
		Desc: "the bridge FDB is keyed by address and VLAN",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "brvlan-local-any-vlan",
		File: "netstack/bridge.go",
		Old:  `	if mac == br.mac && (vid == 0 || br.brVLAN.has(vid)) {`,
		New:  `	if mac == br.mac {`,
		Desc: "the bridge's address is local only in VLAN 0 and the bridge's own VLANs",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "brvlan-pvid-kept-on-readd",
		File: "netstack/brvlan.go",
		Old: `	case g.pvid == v.VID:
		g.pvid = 0`,
		New:  `	case g.pvid == v.VID:`,
		Desc: "__vlan_add_flags takes the pvid from a VLAN re-added without pvid",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "brvlan-mismatch-as-tagged",
		File: "netstack/brvlan.go",
		Old:  `		if h.VlanProto != ethP8021Q {`,
		New:  `		if false {`,
		Desc: "an 802.1Q bridge takes an 802.1ad-tagged frame as untagged",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "bridge-mac-not-inherited",
		File: "netstack/bridge.go",
		Old:  `		br.mac = low`,
		New:  `		_ = low`,
		Desc: "br_stp_recalculate_bridge_id gives a bridge without an address of its own its smallest port's",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "bridge-port-addr-not-local",
		File: "netstack/bridge.go",
		Old: `	return br.localPort(mac, vid) != nil
}`,
		New: `	return false
}`,
		Desc: "a bridge port's own address is a local FDB entry (br_add_if)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "bridge-local-source-learned",
		File: "netstack/bridge.go",
		Old:  `	if isMulticastMAC(mac[:]) || br.fdbLocal(mac, vid) {`,
		New:  `	if isMulticastMAC(mac[:]) {`,
		Desc: "br_fdb_update leaves a local entry alone",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "proxy-arp-same-device",
		File: "netstack/arp.go",
		Old:  `	if r == nil || r.reject != 0 || r.dev == d {`,
		New:  `	if r == nil || r.reject != 0 {`,
		Desc: "arp_fwd_proxy answers only for a route through another device",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "proxy-arp-no-source-check",
		File: "netstack/arp.go",
		Old: `	return reason == 0
}`,
		New: `	return reason == 0 || true
}`,
		Desc: "ip_route_input_noref's fib_validate_source decides a proxied request too",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "proxy-arp-without-forwarding",
		File: "netstack/arp.go",
		Old:  `	if !ns.forwarding || !proxies && ns.pneigh == nil ||`,
		New:  `	if !proxies && ns.pneigh == nil ||`,
		Desc: "arp_process proxies only with IN_DEV_FORWARD",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "proxy-arp-all-ignored",
		File: "netstack/arp.go",
		Old:  `	proxies := ns.proxyARP || d.proxyARP`,
		New:  `	proxies := d.proxyARP`,
		Desc: "IN_DEV_PROXY_ARP takes net.ipv4.conf.all.proxy_arp or the device's",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "proxy-arp-entry-ignored",
		File: "netstack/arp.go",
		Old:  `		if _, ok := ns.pneighLookup(d, dst); !ok {`,
		New:  `		if _, ok := ns.pneighLookup(d, dst); ok || !ok {`,
		Desc: "arp_process answers for a proxy entry (pneigh_lookup) without proxy_arp",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "proxy-ndp-router-from-forwarding",
		File: "netstack/icmp6.go",
		Old:  `			router = e.router`,
		New:  `			_ = e`,
		Desc: "a proxied advertisement's router flag is the proxy entry's (pndisc_is_router)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "proxy-ndp-never-delayed",
		File: "netstack/icmp6.go",
		Old:  `			delayed = inc && b.H().PktType != skb.PacketHost && !d.noProxyDelay`,
		New:  `			delayed = false`,
		Desc: "a proxied multicast solicitation waits proxy_delay: the original is freed",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "proxy-ndp-override-set",
		File: "netstack/icmp6.go",
		Old:  `			s.ndiscSendNA(d, ns, mac, ip.src, target, router, true, own && inc, inc)`,
		New:  `			s.ndiscSendNA(d, ns, mac, ip.src, target, router, true, inc, inc)`,
		Desc: "ndisc_send_na's override flag is clear for a proxied address",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "proxy-ndp-group-not-joined",
		File: "netstack/ip6.go",
		Old:  `	for _, e := range ns.pneigh {`,
		New:  `	for _, e := range ns.pneigh[:0] {`,
		Desc: "pndisc_constructor joins a proxy entry's solicited-node group",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "anycast6-not-joined",
		File: "netstack/anycast.go",
		Old:  `		if !n.fwd6 || n.noIPv6 {`,
		New:  `		if true || !n.fwd6 || n.noIPv6 {`,
		Desc: "a forwarding namespace joins its prefixes' subnet-router anycast addresses (addrconf_join_anycast)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "anycast6-on-hosts",
		File: "netstack/anycast.go",
		Old:  `		if !n.fwd6 || n.noIPv6 {`,
		New:  `		if n.noIPv6 {`,
		Desc: "only a forwarding namespace joins subnet-router anycast addresses",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "anycast6-echo-from-anycast",
		File: "netstack/icmp6.go",
		Old:  `	if src.IsMulticast() || !ns.acastSrcEcho && ns.anycast6 != nil && ns.hasAnycast6(nil, src) {`,
		New:  `	if src.IsMulticast() {`,
		Desc: "icmpv6_echo_reply answers an anycast destination from the route's source",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "anycast6-tcp-reset",
		File: "netstack/icmp6.go",
		Old:  ` || !s.isLocal(ns, ip.dst) || ns.hasAnycast6(nil, ip.dst) {`,
		New:  ` || !s.isLocal(ns, ip.dst) {`,
		Desc: "tcp_v6_send_reset sends none for an anycast destination (ipv6_unicast_destination)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "ndisc-na-source-target",
		File: "netstack/icmp6.go",
		Old: `	if !d.hasAddr(target) {
		// An anycast or proxied target`,
		New: `	if false {
		// An anycast or proxied target`,
		Desc: "ndisc_send_na sends for an anycast or proxied target from ipv6_dev_get_saddr's address",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "anycast6-tcp-request",
		File: "netstack/tcp.go",
		Old:  `		if syn && !ack && !rst && !fin && !sk.ns.tcpAnycastDst(b) {`,
		New:  `		if syn && !ack && !rst && !fin {`,
		Desc: "tcp_v6_conn_request makes no request for a SYN to an anycast address",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "icmp6-echo-ignore-anycast-ignored",
		File: "netstack/icmp6.go",
		Old:  `			(ns.echo6IgnoreAcast && ns.anycast6 != nil && ns.hasAnycast6(nil, ip.dst)) {`,
		New:  `			(false && ns.echo6IgnoreAcast && ns.anycast6 != nil && ns.hasAnycast6(nil, ip.dst)) {`,
		Desc: "with echo_ignore_anycast an echo request to an anycast address is dropped",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "anycast-src-echo-reply-ignored",
		File: "netstack/icmp6.go",
		Old:  `	if src.IsMulticast() || !ns.acastSrcEcho && ns.anycast6 != nil && ns.hasAnycast6(nil, src) {`,
		New:  `	if src.IsMulticast() || ns.anycast6 != nil && ns.hasAnycast6(nil, src) {`,
		Desc: "with anycast_src_echo_reply the reply to an anycast address comes from it",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "link-down-routed",
		File: "netstack/linkevent.go",
		Old:  `		d.up, d.unrouted = false, true`,
		New:  `		d.up, d.unrouted = false, false`,
		Desc: "a kept IPv6 address has no local route while its device is down (addrconf_ifdown deletes ifa->rt)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "link-down-carrier-flush",
		File: "netstack/linkevent.go",
		Old:  `		s.neighFlush(d, false)`,
		New:  `		s.neighFlush(d, true)`,
		Desc: "neigh_ifdown flushes a downed device's permanent entries too",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "link-carrier-flush-permanent",
		File: "netstack/linkevent.go",
		Old:  `		return !carrierDown || (!nc.Proxy && nc.State != "" && nc.State != NeighPermanent)`,
		New:  `		return !carrierDown || !nc.Proxy`,
		Desc: "neigh_carrier_down keeps permanent entries",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "link-carrier-no-flush",
		File: "netstack/linkevent.go",
		Old:  `			s.neighFlush(x, true) // neigh_carrier_down`,
		New:  `			_ = x // neigh_carrier_down`,
		Desc: "neigh_carrier_down flushes the entries of a device that lost carrier",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "link-fdb-no-flush",
		File: "netstack/linkevent.go",
		Old:  `		if enabled[i] && !x.brForwarding() {`,
		New:  `		if false && enabled[i] && !x.brForwarding() {`,
		Desc: "br_stp_disable_port deletes the entries learnt on the port",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "link-fdb-flush-static",
		File: "netstack/linkevent.go",
		Old:  `		if e.port != p || e.static {`,
		New:  `		if e.port != p {`,
		Desc: "br_fdb_delete_by_port keeps static entries",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "link-prune-local",
		File: "netstack/linkevent.go",
		Old:  `		if rc.NHID == 0 && rc.Type != RouteLocal && !s.routeLive(&rc) {`,
		New:  `		if rc.NHID == 0 && !s.routeLive(&rc) {`,
		Desc: "host-scope routes survive NETDEV_DOWN (their next hops' scope is RT_SCOPE_NOWHERE)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "link-group-keeps-gone",
		File: "netstack/linkevent.go",
		Old: `			oc.Group = members
`,
		New:  ``,
		Desc: "a group loses a removed nexthop object (remove_nh_grp_entry)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "link-keep-zero",
		File: "netstack/linkevent.go",
		Old:  `		if p.Addr().Is6() && (keep <= 0 || p.Addr().IsLinkLocalUnicast()) {`,
		New:  `		if p.Addr().Is6() && (keep < 0 || p.Addr().IsLinkLocalUnicast()) {`,
		Desc: "keep_addr_on_down 0 deletes the IPv6 addresses",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "link-keep-linklocal",
		File: "netstack/linkevent.go",
		Old:  `		if p.Addr().Is6() && (keep <= 0 || p.Addr().IsLinkLocalUnicast()) {`,
		New:  `		if p.Addr().Is6() && keep <= 0 {`,
		Desc: "keep_addr_on_down does not keep link-local addresses (addr_is_local)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "link-keep-all-ignored",
		File: "netstack/linkevent.go",
		Old: `	if keep == 0 {
		keep = d.ns.keepAddr
	}`,
		New: `	if keep == 0 {
		keep = 0
	}`,
		Desc: "a device's keep_addr_on_down 0 defers to net.ipv6.conf.all's",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "link-entry-received",
		File: "netstack/stack.go",
		Old:  `	if e.noLink {`,
		New:  `	if false {`,
		Desc: "a frame arriving on a device without carrier is not received",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "link-unrouted-local",
		File: "netstack/ip.go",
		Old:  `		if d != nil && !(d.unrouted && a.Is6()) && d.hasAddr(a) {`,
		New:  `		if d != nil && d.hasAddr(a) {`,
		Desc: "a kept IPv6 address is not local while its device is down",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "link-bcast-down",
		File: "netstack/ip.go",
		Old: `		if d == nil || !d.up {
			continue
		}
		for _, p := range d.addrs {
			if !p.Addr().Is4() || p.Bits() >= 31`,
		New: `		if d == nil {
			continue
		}
		for _, p := range d.addrs {
			if !p.Addr().Is4() || p.Bits() >= 31`,
		Desc: "fib_add_ifaddr adds broadcast routes only for a device that is up (fib_sync_down_dev deletes them)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "link-event-at-after",
		File: "sim/shard.go",
		Old:  `	if sh.next < len(sh.events) && uint64(w.id) >= sh.events[sh.next].At {`,
		New:  `	if sh.next < len(sh.events) && uint64(w.id) > sh.events[sh.next].At {`,
		Desc: "an event applies before the packet at its index",
		Pkgs: []string{"./sim"},
	},
	{
		Name: "event-addr-dup",
		File: "netstack/addrevent.go",
		Old:  `		if q.Addr() == p.Addr() && (p.Addr().Is6() || q.Bits() == p.Bits()) {`,
		New:  `		if false {`,
		Desc: "__inet_insert_ifa and ipv6_add_addr refuse an address the device has (EEXIST)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "event-addr6-dup-length",
		File: "netstack/addrevent.go",
		Old:  `		if q.Addr() == p.Addr() && (p.Addr().Is6() || q.Bits() == p.Bits()) {`,
		New:  `		if q.Addr() == p.Addr() && q.Bits() == p.Bits() {`,
		Desc: "ipv6_add_addr refuses the same address with another prefix length",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "event-addr-del-secondaries",
		File: "netstack/addrevent.go",
		Old:  `		if j == i || primary && q.Addr().Is4() && q.Bits() == p.Bits() && q.Masked() == p.Masked() {`,
		New:  `		if j == i || primary && q.Addr().Is4() && q.Bits() == p.Bits() && q.Masked() == p.Masked() && false {`,
		Desc: "__inet_del_ifa deletes a primary's secondaries without promote_secondaries",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "event-addr-del-last-v4",
		File: "netstack/addrevent.go",
		Old:  `	if p.Addr().Is4() && !slices.ContainsFunc(addrs, func(q netip.Prefix) bool { return q.Addr().Is4() }) {`,
		New:  `	if false {`,
		Desc: "the last IPv4 address going runs fib_disable_ip on the device",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "event-disable-ip-neigh",
		File: "netstack/addrevent.go",
		Old:  `	s.flushNeigh(d, func(nc *NeighConfig) bool { return nc.Addr.Is4() })`,
		New:  `	s.flushNeigh(d, func(nc *NeighConfig) bool { return false })`,
		Desc: "fib_disable_ip's arp_ifdown flushes the device's ARP entries",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "event-route-exists-metric",
		File: "netstack/addrevent.go",
		Old:  `	return slices.ContainsFunc(routes, func(r route) bool { return r.dst == dst && r.metric == metric })`,
		New:  `	return slices.ContainsFunc(routes, func(r route) bool { return r.dst == dst })`,
		Desc: "an IPv6 user route (metric 1024) does not clash with a connected prefix (256)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "event-route-enetdown",
		File: "netstack/addrevent.go",
		Old:  `		if !s.routeLive(&rc) {`,
		New:  `		if false {`,
		Desc: "fib_check_nh refuses a route through a device that is down (ENETDOWN)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "event-route-del-via",
		File: "netstack/addrevent.go",
		Old:  `(rc.Dev == "" || rc.Dev == o.Dev) && (!rc.Via.IsValid() || rc.Via == o.Via)`,
		New:  `(rc.Dev == "" || rc.Dev == o.Dev)`,
		Desc: "ip route del matches the gateway it gives",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "event-route-del-addr-route",
		File: "netstack/addrevent.go",
		Old:  `	if r := addrRouteOf(n, &rc, dst); r != nil && (i < 0 || r.metric < routeMetric(&s.cfg.Routes[i], dst) ||`,
		New:  `	if r := addrRouteOf(n, &rc, dst); false && r != nil && (i < 0 || r.metric < routeMetric(&s.cfg.Routes[i], dst) ||`,
		Desc: "deleting a route an address makes is refused as not modelled",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "route-metric-ignored",
		File: "netstack/stack.go",
		Old: `	return r.metric < best.metric
}`,
		New: `	return false
}`,
		Desc: "of one prefix the lowest metric wins (fib_table_lookup's alias order, rt6_select)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "route-metric-ipv4-sort",
		File: "netstack/ip.go",
		Old:  `		return cmp.Or(cmp.Compare(y.bits, x.bits), cmp.Compare(ns.routes[x.idx].metric, ns.routes[y.idx].metric))`,
		New:  `		return cmp.Compare(y.bits, x.bits)`,
		Desc: "the IPv4 main table's masks are sorted by metric within a prefix length",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "route-metric-ipv6-default",
		File: "netstack/stack.go",
		Old:  `	if rc.Metric == 0 && dst.Addr().Is6() {`,
		New:  `	if false && rc.Metric == 0 && dst.Addr().Is6() {`,
		Desc: "an IPv6 route without a metric has 1024 (IP6_RT_PRIO_USER)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "route-metric-clash",
		File: "netstack/stack.go",
		Old:  `	if slices.ContainsFunc(routes, func(o route) bool { return o.dst == r.dst && o.metric == r.metric }) {`,
		New:  `	if false {`,
		Desc: "two configured routes to one prefix with one metric are EEXIST",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "route-metric-addr-clash",
		File: "netstack/stack.go",
		Old:  `					if !s.fibBuilt && !n.routes[j].ofAddr {`,
		New:  `					if false {`,
		Desc: "a configured route with an address's prefix and metric is EEXIST",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "route-metric-same-as-addr",
		File: "netstack/stack.go",
		Old:  `					if o := &n.routes[j]; o.dev == d && !o.via.IsValid() && o.reject == 0 && o.paths == nil {`,
		New:  `					if o := &n.routes[j]; o.dev == d && !o.via.IsValid() && o.reject == 0 && o.paths == nil && false {`,
		Desc: "a configured route that is an address's prefix route is taken as it",
		Pkgs: []string{"./netstack", "./sim"},
	},
	{
		Name: "route-metric-del-lowest",
		File: "netstack/addrevent.go",
		Old:  `			(i < 0 || routeMetric(&o, dst) < routeMetric(&s.cfg.Routes[i], dst)) {`,
		New:  `			(i < 0) {`,
		Desc: "ip route del without a metric takes the lowest",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "route-metric-del-filter",
		File: "netstack/addrevent.go",
		Old:  `			(rc.Metric == 0 || routeMetric(&rc, dst) == routeMetric(&o, dst)) &&`,
		New:  `			true &&`,
		Desc: "ip route del with a metric takes the route of that metric",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "promote-secondaries",
		File: "netstack/addrevent.go",
		Old:  `	primary := p.Addr().Is4() && !(d.promoteSec || d.ns.promoteSec) && slices.IndexFunc(d.addrs, func(q netip.Prefix) bool {`,
		New:  `	primary := p.Addr().Is4() && slices.IndexFunc(d.addrs, func(q netip.Prefix) bool {`,
		Desc: "promote_secondaries keeps a deleted primary's secondaries (__inet_del_ifa)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "promote-secondaries-device",
		File: "netstack/addrevent.go",
		Old:  `!(d.promoteSec || d.ns.promoteSec)`,
		New:  `!(d.ns.promoteSec)`,
		Desc: "the device's promote_secondaries counts (IN_DEV_ORCONF)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "bridge-mtu-auto",
		File: "netstack/stack.go",
		Old: `			if !d.mtuByUser {
				d.mtu = d.brMTUMin()
			}`,
		New: `			if false {
				d.mtu = d.brMTUMin()
			}`,
		Desc: "a bridge's MTU is its ports' smallest (br_add_if's br_mtu_auto_adjust)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "bridge-mtu-min",
		File: "netstack/stack.go",
		Old:  `		if m == 0 || p.mtu < m {`,
		New:  `		if m == 0 || p.mtu > m {`,
		Desc: "br_mtu_min takes the smallest port MTU",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "bridge-mtu-follow",
		File: "netstack/mtuevent.go",
		Old:  `	if br := d.master; br != nil && !br.mtuByUser && br.brMTUMin() != br.mtu {`,
		New:  `	if br := d.master; false && br != nil && !br.mtuByUser && br.brMTUMin() != br.mtu {`,
		Desc: "a port's MTU change re-sets its bridge's (NETDEV_CHANGEMTU)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "bridge-mtu-by-user",
		File: "netstack/mtuevent.go",
		Old:  `		d.mtuByUser = true // br_change_mtu`,
		New:  `		d.mtuByUser = false`,
		Desc: "a bridge's MTU set by the user stays (BROPT_MTU_SET_BY_USER)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "gateway-on-link-any",
		File: "netstack/addrevent.go",
		Old: `	if dev.hasAddr(gw) {
		return true // the local table (the local rule, priority 0)
	}`,
		New: `	if true {
		return true
	}`,
		Desc: "an IPv4 gateway must be on a link of its device (fib_check_nh_v4_gw)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "gateway-on-link-scope",
		File: "netstack/addrevent.go",
		Old:  `			if r := &routes[i]; r.reject == 0 && r.paths == nil && !r.via.IsValid() && r.dev == dev && r.dst.Contains(gw) {`,
		New:  `			if r := &routes[i]; r.reject == 0 && r.paths == nil && r.dev == dev && r.dst.Contains(gw) {`,
		Desc: "a gateway route (scope universe) does not put a gateway on link",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "gateway-on-link-table",
		File: "netstack/addrevent.go",
		Old:  `		if t := n.table(table); t != nil && link(t.routes) >= 0 {`,
		New:  `		if t := n.table(table); t != nil && false {`,
		Desc: "the route's own table is looked in first",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "gateway-on-link-event",
		File: "netstack/stack.go",
		Old:  `		if s.fibBuilt && g.i != s.gwCheckRoute {`,
		New:  `		if s.fibBuilt {`,
		Desc: "AddRoute checks the new route's gateway (ENETUNREACH)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "gateway-on-link-recheck",
		File: "netstack/stack.go",
		Old:  `		if s.fibBuilt && g.i != s.gwCheckRoute {`,
		New:  `		if false {`,
		Desc: "a route whose gateway's link went later stays",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "gateway-onlink-local",
		File: "netstack/addrevent.go",
		Old: `			if p.Addr() == gw {
				return false
			}`,
		New: `			if false {
				return false
			}`,
		Desc: "an onlink gateway is no address of the namespace (EINVAL)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "gateway-onlink-bcast",
		File: "netstack/addrevent.go",
		Old: `				if b == a {
					return false
				}`,
		New: `				if false {
					return false
				}`,
		Desc: "an onlink gateway is no subnet broadcast address (EINVAL)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "gateway6-local-any",
		File: "netstack/addrevent.go",
		Old:  `		if d != nil && (!ll || d == g.dev) && d.hasAddr(g.gw) {`,
		New:  `		if d != nil && d == g.dev && d.hasAddr(g.gw) {`,
		Desc: "a global IPv6 gateway is no address of any device (EINVAL)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "gateway6-multicast",
		File: "netstack/addrevent.go",
		Old:  `	case g.gw.IsUnspecified() || g.gw.IsMulticast():`,
		New:  `	case g.gw.IsUnspecified():`,
		Desc: "an IPv6 gateway is unicast (EINVAL)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "gateway6-linklocal",
		File: "netstack/addrevent.go",
		Old: `	case ll:
`,
		New: `	case ll && false:
`,
		Desc: "a link-local IPv6 gateway is on the link",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "gateway6-table",
		File: "netstack/addrevent.go",
		Old:  `			ok, found, _ = onLink6(t.routes, g.dev, g.gw)`,
		New:  `			ok, found = false, false`,
		Desc: "the route's own table is looked in first",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "gateway6-via",
		File: "netstack/addrevent.go",
		Old:  `				best, ok, found = r.dst.Bits(), !nh.via.IsValid(), true`,
		New:  `				best, ok, found = r.dst.Bits(), true, true`,
		Desc: "a gateway's route must have no gateway (EHOSTUNREACH)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "gateway6-longest",
		File: "netstack/addrevent.go",
		Old:  `		if r.reject != 0 || !r.dst.Addr().Is6() || !r.dst.Contains(gw) || r.dst.Bits() <= best {`,
		New:  `		if r.reject != 0 || !r.dst.Addr().Is6() || !r.dst.Contains(gw) || best > 128 {`,
		Desc: "the longest route through the device answers",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "gateway6-dev",
		File: "netstack/addrevent.go",
		Old: `			if nh.dev == dev {
				best, ok`,
		New: `			if true {
				best, ok`,
		Desc: "only next hops through the device answer (RT6_LOOKUP_F_IFACE)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "gateway6-loopback",
		File: "netstack/addrevent.go",
		Old:  `	if g.dev.kind == KindLoopback {`,
		New:  `	if false {`,
		Desc: "no IPv6 gateway route through lo (EINVAL)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "gateway6-onlink-default",
		File: "netstack/addrevent.go",
		Old:  `	if best == nil || best.dst.Bits() == 0 || best.reject != 0 {`,
		New:  `	if best == nil || best.reject != 0 {`,
		Desc: "onlink: the default route is ignored",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "gateway6-onlink-reject",
		File: "netstack/addrevent.go",
		Old: `	if best == nil || best.dst.Bits() == 0 || best.reject != 0 {
`,
		New: `	if best == nil || best.dst.Bits() == 0 {
`,
		Desc: "onlink: a reject route lets the gateway be",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "gateway6-onlink-metric",
		File: "netstack/addrevent.go",
		Old:  `		if best == nil || r.dst.Bits() > best.dst.Bits() || (r.dst.Bits() == best.dst.Bits() && r.metric < best.metric) {`,
		New:  `		if best == nil || r.dst.Bits() > best.dst.Bits() {`,
		Desc: "onlink: of the longest prefix the lowest metric answers",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "gateway6-checked",
		File: "netstack/stack.go",
		Old: `		case g.gw.Is6():
			if err := g.n.gw6Check(&g); err != nil {`,
		New: `		case g.gw.Is6():
			if err := error(nil); err != nil {`,
		Desc: "IPv6 gateways are checked (ip6_validate_gw)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "nh-onlink-route-v4",
		File: "netstack/stack.go",
		Old:  `					onlink = rc.Nexthops[j].Onlink || (rc.Onlink && dst.Addr().Is6())`,
		New:  `					onlink = rc.Nexthops[j].Onlink || rc.Onlink`,
		Desc: "an IPv4 route's onlink is none of its next hops' (fib_get_nhs)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "nh-onlink-hop",
		File: "netstack/stack.go",
		Old:  `					onlink = rc.Nexthops[j].Onlink || (rc.Onlink && dst.Addr().Is6())`,
		New:  `					onlink = rc.Nexthops[j].Weight < 0 || (rc.Onlink && dst.Addr().Is6())`,
		Desc: "a next hop's own onlink counts",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "nh-onlink-nongw",
		File: "netstack/stack.go",
		Old:  `				if onlink && !nh.via.IsValid() && dst.Addr().Is4() {`,
		New:  `				if false {`,
		Desc: "an IPv4 onlink next hop has a gateway (fib_check_nh_nongw: EINVAL)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "nhobj-gw-checked",
		File: "netstack/stack.go",
		Old:  `oc.Via.IsValid() && o.dev.up {`,
		New:  `false && o.dev.up {`,
		Desc: "a nexthop object's gateway is checked as it is made (nh_create_ipv4)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "nhobj-gw-onlink",
		File: "netstack/stack.go",
		Old:  `gw: oc.Via, onlink: oc.Onlink})`,
		New:  `gw: oc.Via, onlink: false})`,
		Desc: "a nexthop object's onlink counts",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "nhobj-onlink-nongw",
		File: "netstack/multipath.go",
		Old:  `		case nc.Onlink && !nc.Via.IsValid():`,
		New:  `		case false:`,
		Desc: "a nexthop object's onlink needs a gateway (rtm_to_nh_config: EINVAL)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "nhid-route-unchecked",
		File: "netstack/stack.go",
		Old: `				if rc.NHID != 0 {
					break
				}`,
		New: `				if false {
					break
				}`,
		Desc: "a route naming a nexthop object does not recheck its gateways",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "prefsrc-output",
		File: "netstack/ip.go",
		Old: `	fl.prefsrc = r.prefsrc
`,
		New: `	fl.prefsrc = netip.Addr{}
`,
		Desc: "the host's packets take the route's src (fib_result_prefsrc)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "prefsrc-fib-lookup",
		File: "netstack/fib.go",
		Old:  `cmp.Or(r.prefsrc, fibPrefSrc(ns, out, r.via, v6))`,
		New:  `cmp.Or(netip.Addr{}, fibPrefSrc(ns, out, r.via, v6))`,
		Desc: "bpf_fib_lookup's SRC takes the route's src",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "prefsrc-local-route",
		File: "netstack/addrevent.go",
		Old:  `		ok = slices.ContainsFunc(n.local, func(p netip.Prefix) bool { return p.Contains(c.src) })`,
		New:  `		ok = false`,
		Desc: "an IPv4 src in a local route is local (fib_valid_prefsrc)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "prefsrc-linklocal",
		File: "netstack/addrevent.go",
		Old:  `		if d != nil && (!c.src.IsLinkLocalUnicast() || d == c.dev) && d.hasAddr(c.src) {`,
		New:  `		if d != nil && d.hasAddr(c.src) {`,
		Desc: "a link-local src is the route's device's (ipv6_chk_addr)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "prefsrc-checked",
		File: "netstack/stack.go",
		Old:  `		if err := c.n.prefsrcCheck(&c); err != nil {`,
		New:  `		if err := error(nil); err != nil || c.n == nil {`,
		Desc: "a route's src is a local address (EINVAL)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "prefsrc-family",
		File: "netstack/stack.go",
		Old:  `		if rc.Src.IsValid() && ((rc.Type != "" && rc.Type != RouteUnicast) || rc.Src.Is4() != dst.Addr().Is4()) {`,
		New:  `		if rc.Src.IsValid() && (rc.Type != "" && rc.Type != RouteUnicast) {`,
		Desc: "a route's src is of its family",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "prefsrc-del-v4",
		File: "netstack/addrevent.go",
		Old: `		if rc.Src.Is4() {
			continue // fib_sync_down_addr`,
		New: `		if rc.Src.Is4() && false {
			continue // fib_sync_down_addr`,
		Desc: "deleting an IPv4 src address deletes its routes (fib_sync_down_addr)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "prefsrc-del-v6-dev",
		File: "netstack/addrevent.go",
		Old: `		if rc.Dev == d.name || slices.ContainsFunc(rc.Nexthops, func(nh NexthopConfig) bool { return nh.Dev == d.name }) {
			rc.Src = netip.Addr{} // fib6_remove_prefsrc`,
		New: `		if true {
			rc.Src = netip.Addr{} // fib6_remove_prefsrc`,
		Desc: "deleting an IPv6 src address clears it from the routes through its device only (rt6_remove_prefsrc)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "prefsrc-del-v6",
		File: "netstack/addrevent.go",
		Old:  `			rc.Src = netip.Addr{} // fib6_remove_prefsrc`,
		New:  `			// fib6_remove_prefsrc`,
		Desc: "deleting an IPv6 src address clears it (rt6_remove_prefsrc)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "prefsrc-icmp",
		File: "netstack/icmp.go",
		Old:  `cmp.Or(fl.prefsrc, fibPrefSrc(ns, out, gw, false))`,
		New:  `cmp.Or(netip.Addr{}, fibPrefSrc(ns, out, gw, false))`,
		Desc: "an ICMP error takes the route's src",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "prefsrc-icmp6-rt",
		File: "netstack/icmp6.go",
		Old: `	return out != nil && fl.prefsrc.IsValid()
`,
		New: `	return out == nil && fl.prefsrc.IsValid()
`,
		Desc: "an ICMPv6 error takes the route back's src over the input device's address (icmpv6_rt_has_prefsrc)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "prefsrc-tunnel",
		File: "netstack/tunnel.go",
		Old:  `		src = cmp.Or(fl.prefsrc, out.firstAddr()) // fib_result_prefsrc`,
		New:  `		src = cmp.Or(netip.Addr{}, out.firstAddr()) // fib_result_prefsrc`,
		Desc: "a tunnel without a local address takes the route's src",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "gateway-rules-walk",
		File: "netstack/addrevent.go",
		Old:  `	if !n.hasRules(gw) || !n.rulesForGW {`,
		New:  `	if true {`,
		Desc: "a gateway check walks the policy rules (fib_lookup)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "gateway-rules-reject",
		File: "netstack/addrevent.go",
		Old: `		case ruleBlackhole, ruleUnreachable, ruleProhibit:
			return false, true`,
		New: `		case ruleBlackhole, ruleUnreachable, ruleProhibit:
			continue`,
		Desc: "an unreachable rule takes a gateway off the link",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "gateway-rules-iif",
		File: "netstack/addrevent.go",
		Old: `	if !v6 {
		fl.iif = loIfindex
	}`,
		New: `	if v6 {
		fl.iif = loIfindex
	}`,
		Desc: "IPv4's gateway lookup has iif lo, IPv6's none",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "gateway-rules-new",
		File: "netstack/stack.go",
		Old: `		g.n.rulesForGW = s.fibBuilt
`,
		New: `		g.n.rulesForGW = true
`,
		Desc: "a configuration's routes come before its rules",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "gateway6-main-first",
		File: "netstack/addrevent.go",
		Old: `		if g.table == 0 || g.table == rtTableMain {
			ok, found, _ = onLink6(n.routes, g.dev, g.gw)`,
		New: `		if g.table == 0 || g.table == rtTableMain {
			ok, found = false, false`,
		Desc: "IPv6 looks in the route's table, main too, before the rules",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "addr-route-del",
		File: "netstack/stack.go",
		Old:  `				if s.addrRoutesGone[addrRouteKey{n.name, d.name, p.Masked()}] {`,
		New:  `				if s.addrRoutesGone[addrRouteKey{n.name, d.name, p.Masked()}] && false {`,
		Desc: "ip route del takes an address's prefix route",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "addr-route-up",
		File: "netstack/linkevent.go",
		Old: `		s.addrRouteBack(d, netip.Prefix{})
`,
		New:  ``,
		Desc: "the device up brings an address's prefix route back (fib_add_ifaddr)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "addr-route-add",
		File: "netstack/addrevent.go",
		Old:  `	back := s.addrRouteBack(d, p)`,
		New:  `	var back []addrRouteKey`,
		Desc: "an address added brings its prefix route back",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "addr-route-secondary",
		File: "netstack/addrevent.go",
		Old:  `		if !p.IsValid() || (k.dst == p.Masked() && (p.Addr().Is6() || !slices.ContainsFunc(d.addrs,`,
		New:  `		if !p.IsValid() || (k.dst == p.Masked() && (p.Addr().Is6() || true || !slices.ContainsFunc(d.addrs,`,
		Desc: "an IPv4 secondary makes no prefix route (fib_add_ifaddr)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "mp-dead-path",
		File: "netstack/multipath.go",
		Old:  `func (nh *nexthop) live() bool { return nh.dev.up && !nh.dead }`,
		New:  `func (nh *nexthop) live() bool { return nh.dev.up }`,
		Desc: "a next hop dead with its device's last IPv4 address takes no hash",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "mp-revive-addr",
		File: "netstack/addrevent.go",
		Old: `		s.reviveOnDev(d) // fib_inetaddr_event NETDEV_UP: fib_sync_up
`,
		New:  ``,
		Desc: "an IPv4 address added revives the dead next hops through its device (fib_sync_up)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "mp-revive-up",
		File: "netstack/linkevent.go",
		Old: `		s.reviveOnDev(d) // fib_netdev_event NETDEV_UP: fib_sync_up
`,
		New:  ``,
		Desc: "NETDEV_UP revives the dead next hops (fib_sync_up)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "mp-dead-flush",
		File: "netstack/addrevent.go",
		Old: `		live = live || !nh.dead
`,
		New: `		live = true
`,
		Desc: "a route left without a live next hop is flushed",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "mp-dead-prune",
		File: "netstack/linkevent.go",
		Old:  `			return d != nil && d.up && !nh.dead`,
		New:  `			return d != nil && d.up`,
		Desc: "a multipath route whose live next hops are gone while the others are dead is flushed for good",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "gateway-rules-suppress",
		File: "netstack/addrevent.go",
		Old:  `			if !v6 && bits <= ru.suppress {`,
		New:  `			if !v6 && bits <= -2 {`,
		Desc: "an IPv4 rule's suppress_prefixlength passes a gateway's link route over (fib4_rule_suppress)",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "gateway-rules-suppress-v6",
		File: "netstack/addrevent.go",
		Old:  `			if !v6 && bits <= ru.suppress {`,
		New:  `			if bits <= ru.suppress {`,
		Desc: "an IPv6 rule's suppress_prefixlength passes nothing over in fib6_lookup",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "event-check-dry-run",
		File: "sim/replay.go",
		Old:  `	if err := checkEvents(s, m.lay, opts); err != nil {`,
		New:  `	if err := error(nil); err != nil {`,
		Desc: "a refused event is an error at its line before the replay",
		Pkgs: []string{"./sim"},
	},
	{
		Name: "mtu-v6-teardown",
		File: "netstack/mtuevent.go",
		Old:  `	case mtu < ipv6MinMTU && !d.noIdev6:`,
		New:  `	case false && mtu < ipv6MinMTU && !d.noIdev6:`,
		Desc: "addrconf_notify tears a device's IPv6 down below IPV6_MIN_MTU",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "mtu-v6-restore",
		File: "netstack/mtuevent.go",
		Old:  `		d.noIdev6 = false // ipv6_add_dev`,
		New:  `		_ = d // ipv6_add_dev`,
		Desc: "ipv6_add_dev gives the device IPv6 again at 1280 or more",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "mtu-rcv-no-idev",
		File: "netstack/ip6.go",
		Old:  `	if d.noIdev6 {`,
		New:  `	if false {`,
		Desc: "ip6_rcv_core drops what arrives on a device without inet6_dev",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "mtu-route-metric-grow",
		File: "netstack/mtuevent.go",
		Old:  `(rc.MTU >= mtu || mtu > old && rc.MTU == old)`,
		New:  `rc.MTU >= mtu`,
		Desc: "rt6_mtu_change_route raises a metric that was the old MTU",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "mtu-route-metric-locked",
		File: "netstack/mtuevent.go",
		Old:  `rc.MTU != 0 && !rc.MTULock && (`,
		New:  `rc.MTU != 0 && (`,
		Desc: "rt6_mtu_change_route leaves a locked metric alone",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "mtu-xdp-peer-limit",
		File: "netstack/mtuevent.go",
		Old:  `		if mtu > maxMTU {`,
		New:  `		if false {`,
		Desc: "veth_xdp_set's max_mtu bounds the peer of a native XDP veth",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "ip6-toobig-input-dev",
		File: "netstack/ip6.go",
		Old:  `		setDev(b, out) // "force OUTPUT device used as source address"`,
		New:  `		_ = out // "force OUTPUT device used as source address"`,
		Desc: "ip6_forward drops a packet too big on the output device",
		Pkgs: []string{"./netstack"},
	},
	{
		Name: "mtu-config-idev",
		File: "netstack/stack.go",
		Old:  `		d.noIdev6 = d.mtu < ipv6MinMTU`,
		New:  `		d.noIdev6 = false`,
		Desc: "ipv6_add_dev gives a device created below 1280 no inet6_dev",
		Pkgs: []string{"./netstack"},
	},
}
