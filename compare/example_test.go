package compare_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/skbsim/skbsim/capture"
	"github.com/skbsim/skbsim/compare"
	"github.com/skbsim/skbsim/sim"
)

func ExampleParseDesigns() {
	ds, err := compare.ParseDesigns("rfc,rfc-slim:cache=32,skb-hash-lru:capacity=64")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, d := range ds {
		fmt.Printf("%s: design %s, cache %d, capacity %d\n", d.Label, d.Name, d.CacheSize, d.Capacity)
	}
	_, err = compare.ParseDesigns("rfc:cache=4,xdp-meta:cache=4")
	fmt.Println(err)
	// Output:
	// rfc: design rfc, cache 0, capacity 0
	// rfc-slim:cache=32: design rfc-slim, cache 32, capacity 0
	// skb-hash-lru:capacity=64: design skb-hash-lru, cache 0, capacity 64
	// design "xdp-meta:cache=4": option "cache" does not apply to xdp-meta: compare: bad design (EINVAL)
}

// Two RFC allocation strategies over the same load-balancer traffic: the
// co-allocated storage saves one allocation per first write and keeps the
// same semantics, so the same reads find their values.
func ExampleRun() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	var buf bytes.Buffer
	if _, err := capture.Generate(&buf, capture.GenSpec{Preset: "lb", Seed: 1, Packets: 500}); err != nil {
		fmt.Println(err)
		return
	}
	pcap := filepath.Join(dir, "lb.pcap")
	if err := os.WriteFile(pcap, buf.Bytes(), 0o644); err != nil {
		fmt.Println(err)
		return
	}
	s, err := sim.LoadScenario("../examples/edge-lb.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	ds, _ := compare.ParseDesigns("rfc,rfc-coalloc")
	res, err := compare.Run(s, []string{pcap}, ds, compare.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	rfc, co := res.Design("rfc"), res.Design("rfc-coalloc")
	fmt.Println("packets:", res.Packets)
	fmt.Println("rfc allocates more per packet:", rfc.AllocsPerPacket > co.AllocsPerPacket)
	fmt.Println("rfc costs more per packet:", rfc.NSPerPacket.NS > co.NSPerPacket.NS)
	for i, p := range res.ReadPoints {
		if p.Program == "sock_web" {
			fmt.Printf("%s: rfc %.0f%%, rfc-coalloc %.0f%%\n", p, *rfc.Survival[i].Share*100, *co.Survival[i].Share*100)
		}
	}
	// Output:
	// packets: 500
	// rfc allocates more per packet: true
	// rfc costs more per packet: true
	// sock_web:outer: rfc 0%, rfc-coalloc 0%
	// sock_web:svc: rfc 100%, rfc-coalloc 100%
}
