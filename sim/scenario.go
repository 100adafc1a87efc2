package sim

import (
	"slices"

	"github.com/skbsim/skbsim/carrier"
	"github.com/skbsim/skbsim/internal/errno"
	"github.com/skbsim/skbsim/netstack"
)

// ErrScenario is matched by every error about a scenario's content.
var ErrScenario = errno.New("sim: bad scenario", errno.EINVAL)

// Pos is where a scenario element was written: its line and column in the
// scenario file (zero for elements built in Go).
type Pos struct {
	Line, Column int
}

// Scenario describes one simulated machine: the kernel profile, the stack
// (namespaces, devices, routes, sockets, taps, programs at hooks, entry
// points) as a netstack.Config, the metadata maps, and the metadata design
// that carries the maps' values. It is plain data: it comes out the same on
// every machine, Copy gives an independent copy, and nothing in it is
// instantiated until a replay builds one stack per shard from it.
type Scenario struct {
	// File is the file the scenario was read from ("builtin:default" for
	// the embedded one); errors name it.
	File        string
	Name        string
	Description string
	// Kernel is the skb.ProfileByName profile ("v6.18" by default).
	Kernel string
	// Design is the carrier design ("rfc" by default); Carrier tunes it.
	Design  string
	Carrier carrier.Options
	// Maps are the metadata maps; programs name them by index.
	Maps []carrier.MapSpec
	// Shards is the number of flow shards the replay partitions packets
	// into (DefaultShards when 0). It does not depend on the number of
	// worker goroutines, which is what makes -j N reports identical to -j 1.
	Shards int
	// KeepDstMAC replays Ethernet frames with their captured destination
	// address. By default unicast frames are addressed to the entry
	// device, as if the capture had been taken on its wire; kept
	// addresses of other hosts make eth_type_trans() mark the packets
	// PACKET_OTHERHOST and ip_rcv drop them.
	KeepDstMAC bool
	// Stack is the machine the packets run through.
	Stack netstack.Config
	// Events change devices' states during the replay, in the order of
	// their packet indexes (netstack.Stack.SetLink): each shard applies
	// one before the first of its packets at or past its index.
	Events []netstack.Event
	// Src says where each element was written, for errors found after
	// parsing.
	Src Sources
}

// DefaultShards is the number of flow shards of a scenario that names none.
const DefaultShards = 16

// Sources are the positions of a scenario's elements, parallel to the
// lists they locate.
type Sources struct {
	Kernel, Design, Entry Pos
	Namespaces            []Pos
	Devices               []Pos
	Routes                []Pos
	NexthopObjects        []Pos
	Rules                 []Pos
	Neighbours            []Pos
	FDB                   []Pos
	Sockets               []Pos
	Taps                  []Pos
	Maps                  []Pos
	Cpumaps               []Pos
	Devmaps               []Pos
	Programs              []Pos
	Events                []Pos
	// Actions[i][j] is action j of program i.
	Actions [][]Pos
}

// Copy returns a deep copy of s.
func (s *Scenario) Copy() *Scenario {
	c := *s
	c.Maps = slices.Clone(s.Maps)
	c.Events = slices.Clone(s.Events)
	c.Src.Events = slices.Clone(s.Src.Events)
	c.Stack = *s.Stack.Copy()
	c.Src.Namespaces = slices.Clone(s.Src.Namespaces)
	c.Src.Devices = slices.Clone(s.Src.Devices)
	c.Src.Routes = slices.Clone(s.Src.Routes)
	c.Src.NexthopObjects = slices.Clone(s.Src.NexthopObjects)
	c.Src.Rules = slices.Clone(s.Src.Rules)
	c.Src.Neighbours = slices.Clone(s.Src.Neighbours)
	c.Src.FDB = slices.Clone(s.Src.FDB)
	c.Src.Sockets = slices.Clone(s.Src.Sockets)
	c.Src.Taps = slices.Clone(s.Src.Taps)
	c.Src.Maps = slices.Clone(s.Src.Maps)
	c.Src.Cpumaps = slices.Clone(s.Src.Cpumaps)
	c.Src.Devmaps = slices.Clone(s.Src.Devmaps)
	c.Src.Programs = slices.Clone(s.Src.Programs)
	c.Src.Actions = slices.Clone(s.Src.Actions)
	for i := range c.Src.Actions {
		c.Src.Actions[i] = slices.Clone(s.Src.Actions[i])
	}
	return &c
}
