package skb

import (
	"reflect"
	"testing"
)

// snap is every observable property of an skb, for tests that check all
// fields after an operation.
type snap struct {
	Hdr                                 Header
	Off                                 offsets
	Len, Headroom, Tailroom, End, Users int
	Truesize                            int
	Cloned, Nohdr, HeadFrag             bool
	HdrLen, MacLen                      int
	Dst                                 Ref
	DstNoref                            bool
	Nfct                                Ref
	Ctinfo                              uint8
	Sk                                  any
	HasDestructor                       bool
	ExtActive                           uint8
	Ext                                 *Ext
	Shinfo                              SharedInfo
	Dataref                             uint32
	Data                                string
	MetaView                            string
	MetaValid                           bool
	Buffer                              *buffer
	Fclone                              fcloneKind
}

func snapshot(b *Buff) snap {
	b.check("snapshot")
	view, valid := b.Metadata()
	return snap{
		Hdr: b.hdr, Off: b.off,
		Len: b.len, Headroom: b.data, Tailroom: len(b.buf.bytes) - b.tail, End: len(b.buf.bytes),
		Users: int(b.users), Truesize: b.truesize,
		Cloned: b.cloned, Nohdr: b.nohdr, HeadFrag: b.headFrag,
		HdrLen: int(b.hdrLen), MacLen: int(b.macLen),
		Dst: b.dst, DstNoref: b.dstNoref, Nfct: b.nfct, Ctinfo: b.ctinfo,
		Sk: b.sk, HasDestructor: b.destructor != nil,
		ExtActive: b.activeExt, Ext: b.Ext(),
		Shinfo: b.buf.sh, Dataref: b.buf.dataref,
		Data: string(b.Data()), MetaView: string(view), MetaValid: valid,
		Buffer: b.buf, Fclone: b.fclone,
	}
}

// fillHeader gives every Header field a distinct non-zero value.
func fillHeader(h *Header) {
	*h = Header{
		Tstamp: 1_000_000_007, Dev: 7, Netns: 3, QueueMapping: 5,
		PktType: PacketOtherhost, IgnoreDF: true, NfTrace: true, IPSummed: ChecksumComplete,
		OOOOkay: true, L4Hash: true, SWHash: true, WifiAckedValid: true, WifiAcked: true,
		NoFCS: true, Encapsulation: true, EncapHdrCsum: true, CsumValid: true,
		CsumCompleteSW: true, CsumLevel: 2, DstPendingConfirm: true, TstampType: ClockRealtime,
		TCSkipClassify: true, TCAtIngress: true, NdiscNodetype: 1, IPVSProperty: true,
		InnerProtocolType: 1, RemcsumOffload: true, OffloadFwdMark: true, OffloadL3FwdMark: true,
		Redirected: true, FromIngress: true, NfSkipEgress: true, Decrypted: true, SlowGRO: true,
		CsumNotInet: true, TCIndex: 0x1234, Csum: 0xdeadbeef, CsumOffset: 16, Priority: 6,
		SkbIIF: 9, Hash: 0xabcdef01, VlanProto: 0x8100, VlanTCI: 42, NapiID: 77, AllocCPU: 1,
		Secmark: 99, Mark: 0xfeed, InnerProtocol: 0x0800, Protocol: 0x86dd,
	}
	for i := range h.CB {
		h.CB[i] = byte(0xc0 + i)
	}
}

// TestFillHeaderCoversEveryField keeps the "every field" tests honest: a
// Header field added later must get a value in fillHeader.
func TestFillHeaderCoversEveryField(t *testing.T) {
	var h Header
	fillHeader(&h)
	h.TstampType = ClockMonotonic // the fixture uses REALTIME on purpose; check the rest
	v := reflect.ValueOf(h)
	for i := 0; i < v.NumField(); i++ {
		if v.Field(i).IsZero() {
			t.Errorf("fillHeader leaves Header.%s zero", v.Type().Field(i).Name)
		}
	}
}
