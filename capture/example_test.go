package capture_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/skbsim/skbsim/capture"
)

// Generate writes a deterministic capture: the same spec gives the same
// bytes on every machine.
func ExampleGenerate() {
	var buf bytes.Buffer
	n, err := capture.Generate(&buf, capture.GenSpec{Preset: "demo", Seed: 1})
	if err != nil {
		log.Fatal(err)
	}
	r, err := capture.NewReader("demo.pcap", &buf)
	if err != nil {
		log.Fatal(err)
	}
	p, err := r.Next()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(n, "packets,", r.Format(), p.LinkType)
	fmt.Println("first at", p.Time().Format(time.RFC3339Nano))
	// Output:
	// 300 packets, pcap EN10MB
	// first at 2024-01-01T00:00:00.015419Z
}

// Open and Next stream a file; each Packet is valid until the next call.
func ExampleOpen() {
	dir, err := os.MkdirTemp("", "capture")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "overlay.pcap")
	f, err := os.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := capture.Generate(f, capture.GenSpec{Preset: "overlay", Seed: 1, Packets: 100}); err != nil {
		log.Fatal(err)
	}
	f.Close()

	r, err := capture.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	dec := capture.NewDecoder()
	var d capture.Decoded
	flows := map[uint64]bool{}
	vxlan := 0
	for {
		p, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err) // a *capture.Error naming the file, packet and byte offset
		}
		dec.Decode(p, &d)
		if d.Depth == 1 && d.Tunnel[0].Kind == capture.TunnelVXLAN {
			vxlan++
		}
		flows[d.FlowHash] = true
	}
	fmt.Println(vxlan, "VXLAN packets in", len(flows), "flows")
	// Output: 100 VXLAN packets in 15 flows
}

// A Decoder reports the outer headers, each tunnel and the inner headers,
// and a flow key of the innermost flow.
func ExampleDecoder() {
	outer := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP,
		SrcIP: net.IP{192, 168, 0, 1}, DstIP: net.IP{192, 168, 0, 2}}
	udp := &layers.UDP{SrcPort: 51000, DstPort: 4789}
	udp.SetNetworkLayerForChecksum(outer)
	inner := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP,
		SrcIP: net.IP{10, 244, 1, 5}, DstIP: net.IP{10, 244, 2, 7}}
	tcp := &layers.TCP{SrcPort: 34567, DstPort: 80, SYN: true, Seq: 1, Window: 64240}
	tcp.SetNetworkLayerForChecksum(inner)
	mac := net.HardwareAddr{2, 0, 0, 0, 0, 1}
	buf := gopacket.NewSerializeBuffer()
	err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		&layers.Ethernet{SrcMAC: mac, DstMAC: mac, EthernetType: layers.EthernetTypeIPv4}, outer, udp,
		&layers.VXLAN{ValidIDFlag: true, VNI: 42},
		&layers.Ethernet{SrcMAC: mac, DstMAC: mac, EthernetType: layers.EthernetTypeIPv4}, inner, tcp)
	if err != nil {
		log.Fatal(err)
	}

	dec := capture.NewDecoder()
	var d capture.Decoded
	dec.DecodeBytes(capture.LinkEthernet, buf.Bytes(), len(buf.Bytes()), &d)
	fmt.Println(d.Outer().L3.Src, "->", d.Outer().L3.Dst, "udp", d.Outer().L4.DstPort)
	fmt.Println(d.Tunnel[0].Kind, "vni", d.Tunnel[0].ID)
	fmt.Println(d.Flow, d.Inner().L4.TCPFlags)
	fmt.Println(d.Malformed)
	// Output:
	// 192.168.0.1 -> 192.168.0.2 udp 4789
	// vxlan vni 42
	// 6 10.244.1.5:34567 -> 10.244.2.7:80 S
	// none
}

// Malformed packets are not errors: the decoder says which check the
// kernel would drop them for.
func ExampleDecoder_malformed() {
	pkt := []byte{
		0x45, 0x00, 0x05, 0xdc, 0, 0, 0x40, 0, 64, 17, 0x21, 0x0f, // total length 1500
		10, 0, 0, 1, 10, 0, 0, 2,
		0x30, 0x39, 0x00, 0x35, 0x00, 0x08, 0, 0,
	}
	var d capture.Decoded
	capture.NewDecoder().DecodeBytes(capture.LinkRaw, pkt, len(pkt), &d)
	fmt.Println(d.Malformed, "at byte", d.MalformedOffset, "->", d.DropReason())
	// Output: ipv4 total length exceeds packet at byte 0 -> PKT_TOO_SMALL
}

// Reader errors are one line naming the file, the packet and the byte
// offset, and match the package sentinels.
func ExampleError() {
	var buf bytes.Buffer
	if _, err := capture.Generate(&buf, capture.GenSpec{Preset: "demo", Seed: 1, Packets: 3}); err != nil {
		log.Fatal(err)
	}
	damaged := buf.Bytes()[:buf.Len()-10]
	r, err := capture.NewReader("x.pcap", bytes.NewReader(damaged))
	if err != nil {
		log.Fatal(err)
	}
	for {
		_, err := r.Next()
		if err != nil {
			fmt.Println(err)
			var ce *capture.Error
			fmt.Println(errors.As(err, &ce), ce.Index, errors.Is(err, capture.ErrTruncated))
			break
		}
	}
	// Output:
	// x.pcap: packet 2 at byte 744: truncated record (want 1294 bytes, have 1284)
	// true 2 true
}
