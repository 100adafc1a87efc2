package sim_test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"

	"github.com/skbsim/skbsim/capture"
	"github.com/skbsim/skbsim/sim"
)

func ExampleParse() {
	s, err := sim.Parse("lo.yaml", []byte(`
name: loopback
sockets:
  - {name: rx, proto: udp, addr: 127.0.0.1, port: 4444}
maps:
  - {name: tag, value_size: 4}
programs:
  - {name: store, hook: tc_ingress, dev: lo, actions: [{write: {map: tag, value: 0xdeadbeef}}]}
  - {name: load, hook: socket_filter, socket: rx, actions: [{read: tag}]}
entry: {dev: lo}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range s.Stack.Programs {
		fmt.Println(p.Name, p.Hook, p.Actions[0].Kind)
	}
	_, err = sim.Parse("bad.yaml", []byte("entry: {dev: eth9}\n"))
	fmt.Println(err)
	// Output:
	// store tc_ingress write
	// load socket_filter read
	// bad.yaml:1:8: entry: no device "eth9" in namespace host
}

func ExampleReplay() {
	dir, _ := os.MkdirTemp("", "skbsim-example")
	defer os.RemoveAll(dir)
	pcap := filepath.Join(dir, "demo.pcap")
	f, _ := os.Create(pcap)
	w := bufio.NewWriter(f)
	capture.Generate(w, capture.GenSpec{Preset: "demo", Seed: 1, Packets: 100})
	w.Flush()
	f.Close()

	s, _ := sim.Builtin(sim.DefaultScenarioName)
	rep, err := sim.Replay(s, []string{pcap}, sim.Options{Workers: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("packets:", rep.PacketsRead, "complete:", rep.Complete, "live at end:", rep.LiveObjectsAtEnd)
	fmt.Println("xdp_tag runs:", rep.Program("xdp_tag").Runs)
	// Output:
	// packets: 100 complete: true live at end: 0
	// xdp_tag runs: 100
}
