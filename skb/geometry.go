package skb

import (
	"github.com/skbsim/skbsim/cost"
)

// Reserve models skb_reserve(): move data and tail forward by n on an empty
// skb to make headroom. It panics if the skb is not empty or n exceeds the
// tailroom.
func (b *Buff) Reserve(n int) {
	b.check("skb_reserve")
	if uint(n) > uint(len(b.buf.bytes)-b.tail) || b.len != 0 {
		panic(&panicMsg{"skb: skb_reserve(%d) on %v", []any{n, b}})
	}
	b.data += n
	b.tail += n
}

// Put models skb_put(): extend the data at the tail by n bytes and return
// them. It panics like skb_over_panic when the tailroom is too small.
func (b *Buff) Put(n int) []byte {
	b.check("skb_put")
	if uint(n) > uint(len(b.buf.bytes)-b.tail) || b.dataLen != 0 {
		panic(&geomPanic{"put", n, b})
	}
	p := b.buf.bytes[b.tail : b.tail+n : b.tail+n]
	b.tail += n
	b.len += n
	return p
}

// PutData models skb_put_data(): Put(len(p)) and copy p there.
func (b *Buff) PutData(p []byte) []byte {
	d := b.Put(len(p))
	copy(d, p)
	b.a.acct.Op(cost.OpMemcpyByte, uint64(len(p)))
	return d
}

// Push models skb_push(): move data back by n bytes and return the new
// start; the caller writes a header there. It panics like skb_under_panic
// when the headroom is too small.
//
// The model treats the pushed bytes as written: if they overlap the XDP
// metadata recorded in the buffer, the metadata is marked overwritten (see
// Metadata). Use PushMove for a push followed by skb_postpush_data_move.
//
// Push is written out (push's check, and meta.overwrite's test without its
// intact term, which only decides whether a false is stored again) so that
// it inlines: with no metadata recorded the overlap test fails on its first
// comparison (meta.hi is 0).
func (b *Buff) Push(n int) []byte {
	b.check("skb_push")
	if uint(n) > uint(b.data) {
		panic(&geomPanic{"skb_push", n, b})
	}
	b.data -= n
	b.len += n
	if b.data < b.buf.meta.hi && b.buf.meta.lo < b.data+n {
		b.buf.meta.intact = false
	}
	return b.buf.bytes[b.data:][:n:n]
}

func (b *Buff) push(n int, op string) {
	if uint(n) > uint(b.data) {
		panic(&geomPanic{op, n, b})
	}
	b.data -= n
	b.len += n
}

// Pull models skb_pull(): remove n bytes from the start of the data and
// return the new data. ok is false (and nothing changes) when n > len, as
// skb_pull returns NULL.
func (b *Buff) Pull(n int) (data []byte, ok bool) {
	b.check("skb_pull")
	if uint(n) > uint(b.tail-b.data) {
		if uint(n) > uint(b.len) {
			return nil, false
		}
		panic(&panicMsg{"skb: skb_pull(%d) past the %d linear bytes of %v (__skb_pull BUG; pskb_pull pulls first)", []any{n, b.tail - b.data, b}})
	}
	b.data += n
	b.len -= n
	return b.buf.bytes[b.data:b.tail:b.tail], true
}

// Trim models skb_trim(): shorten the data to length if it is longer.
func (b *Buff) Trim(length int) {
	b.check("skb_trim")
	if length < 0 {
		panic(&panicMsg{"skb: skb_trim(%d)", []any{length}})
	}
	if b.dataLen != 0 {
		panic(&panicMsg{"skb: skb_trim(%d) on a non-linear skb %v (use PskbTrim)", []any{length, b}})
	}
	if b.len > length {
		b.len = length
		b.tail = b.data + length
	}
}

// --- header offsets (skb_*_header helpers) ---

// MacHeaderWasSet models skb_mac_header_was_set().
func (b *Buff) MacHeaderWasSet() bool {
	b.check("skb_mac_header_was_set")
	return b.off.mac != unsetOffset
}

// ResetMacHeader models skb_reset_mac_header(): mac header = data.
func (b *Buff) ResetMacHeader() { b.check("skb_reset_mac_header"); b.off.mac = uint16(b.data) }

// SetMacHeader models skb_set_mac_header(skb, offset): data + offset.
func (b *Buff) SetMacHeader(offset int) {
	b.check("skb_set_mac_header")
	b.off.mac = b.headerOffset(offset, "skb_set_mac_header")
}

// UnsetMacHeader models skb_unset_mac_header().
func (b *Buff) UnsetMacHeader() { b.check("skb_unset_mac_header"); b.off.mac = unsetOffset }

// MacOffset models skb_mac_offset(): mac header - data. It panics when the
// mac header is not set (the kernel's DEBUG_NET_WARN_ON_ONCE).
func (b *Buff) MacOffset() int {
	b.check("skb_mac_offset")
	if b.off.mac == unsetOffset {
		panic("skb: skb_mac_offset without a mac header")
	}
	return int(b.off.mac) - b.data
}

// MacHeader returns the mac header offset from head (skb->mac_header), or -1
// when it is not set.
func (b *Buff) MacHeader() int {
	b.check("skb_mac_header")
	if b.off.mac == unsetOffset {
		return -1
	}
	return int(b.off.mac)
}

// ResetNetworkHeader models skb_reset_network_header().
func (b *Buff) ResetNetworkHeader() {
	b.check("skb_reset_network_header")
	b.off.network = uint16(b.data)
}

// SetNetworkHeader models skb_set_network_header(skb, offset).
func (b *Buff) SetNetworkHeader(offset int) {
	b.check("skb_set_network_header")
	b.off.network = b.headerOffset(offset, "skb_set_network_header")
}

// NetworkHeader returns skb->network_header (from head).
func (b *Buff) NetworkHeader() int { b.check("skb_network_header"); return int(b.off.network) }

// NetworkOffset models skb_network_offset(): network header - data.
func (b *Buff) NetworkOffset() int { b.check("skb_network_offset"); return int(b.off.network) - b.data }

// ResetRxHeaders models the header resets at the start of
// __netif_receive_skb_core(): skb_reset_network_header(),
// skb_reset_transport_header() unless skb_transport_header_was_set(), and
// skb_reset_mac_len(); one call instead of four.
func (b *Buff) ResetRxHeaders() {
	b.check("skb_reset_network_header")
	b.off.network = uint16(b.data)
	if b.off.transport == unsetOffset {
		b.off.transport = uint16(b.data)
	}
	if b.off.mac == unsetOffset {
		b.macLen = 0
		return
	}
	b.macLen = b.off.network - b.off.mac
}

// ResetTransportHeader models skb_reset_transport_header().
func (b *Buff) ResetTransportHeader() {
	b.check("skb_reset_transport_header")
	b.off.transport = uint16(b.data)
}

// SetTransportHeader models skb_set_transport_header(skb, offset).
func (b *Buff) SetTransportHeader(offset int) {
	b.check("skb_set_transport_header")
	b.off.transport = b.headerOffset(offset, "skb_set_transport_header")
}

// TransportHeaderWasSet models skb_transport_header_was_set().
func (b *Buff) TransportHeaderWasSet() bool {
	b.check("skb_transport_header_was_set")
	return b.off.transport != unsetOffset
}

// TransportHeader returns skb->transport_header (from head), or -1 if unset.
func (b *Buff) TransportHeader() int {
	b.check("skb_transport_header")
	if b.off.transport == unsetOffset {
		return -1
	}
	return int(b.off.transport)
}

// SetInnerHeaders models skb_set_inner_{mac,network,transport}_header with
// offsets from data.
func (b *Buff) SetInnerHeaders(mac, network, transport int) {
	b.check("skb_set_inner_headers")
	b.off.innerMac = b.headerOffset(mac, "skb_set_inner_mac_header")
	b.off.innerNetwork = b.headerOffset(network, "skb_set_inner_network_header")
	b.off.innerTransport = b.headerOffset(transport, "skb_set_inner_transport_header")
}

// InnerHeaders returns skb->inner_{mac,network,transport}_header (from head).
func (b *Buff) InnerHeaders() (mac, network, transport int) {
	b.check("skb_inner_headers")
	return int(b.off.innerMac), int(b.off.innerNetwork), int(b.off.innerTransport)
}

// CsumStart returns skb->csum_start (from head).
func (b *Buff) CsumStart() int { b.check("csum_start"); return int(b.off.csumStart) }

// SetCsumStart sets skb->csum_start to data + offset.
func (b *Buff) SetCsumStart(offset int) {
	b.check("csum_start")
	b.off.csumStart = b.headerOffset(offset, "csum_start")
}

// MacLen returns skb->mac_len.
func (b *Buff) MacLen() int { b.check("mac_len"); return int(b.macLen) }

// ResetMacLen models skb_reset_mac_len(): network header - mac header (0
// when the mac header is not set).
func (b *Buff) ResetMacLen() {
	b.check("skb_reset_mac_len")
	if b.off.mac == unsetOffset {
		b.macLen = 0
		return
	}
	b.macLen = b.off.network - b.off.mac
}

// SetMacLen sets skb->mac_len.
func (b *Buff) SetMacLen(n int) { b.check("mac_len"); b.macLen = uint16(n) }

func (b *Buff) headerOffset(offset int, op string) uint16 {
	o := b.data + offset
	if uint(o) > uint(len(b.buf.bytes)) {
		panic(&panicMsg{"skb: %s(%d) outside the buffer of %v", []any{op, offset, b}})
	}
	return uint16(o)
}

// headersOffsetUpdate models skb_headers_offset_update(skb, off).
func (b *Buff) headersOffsetUpdate(off int) {
	if b.hdr.IPSummed == ChecksumPartial {
		b.off.csumStart = uint16(int(b.off.csumStart) + off)
	}
	b.off.transport = uint16(int(b.off.transport) + off)
	b.off.network = uint16(int(b.off.network) + off)
	if b.off.mac != unsetOffset {
		b.off.mac = uint16(int(b.off.mac) + off)
	}
	b.off.innerTransport = uint16(int(b.off.innerTransport) + off)
	b.off.innerNetwork = uint16(int(b.off.innerNetwork) + off)
	b.off.innerMac = uint16(int(b.off.innerMac) + off)
}
