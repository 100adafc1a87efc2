package netstack

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
)

// TestNeighStates: a neighbour entry's NUD state. bpf_fib_lookup answers
// from a NUD_VALID entry (a stale one too, with its address) and NO_NEIGH
// for a failed or incomplete one, though the address is vB's; forwarding
// uses a valid entry's address as it is (a stale wrong one reaches vB as
// another host's frame), and resolves a failed or incomplete one anew (vB
// answers; the gateway 10.1.0.254 does not: NEIGH_FAILED).
func TestNeighStates(t *testing.T) {
	wrong := [6]byte{2, 0, 0, 0, 0, 0x99}
	for _, tc := range []struct {
		state string
		addr  string // the entry's address on veth0
		mac   [6]byte
		dst   string // the forwarded datagram's destination
		fib   string // bpf_fib_lookup of dst from eth0
		fwd   string // where the datagram ended: a socket, a drop reason
	}{
		{NeighStale, "10.1.0.2", macB, "10.1.0.2", "SUCCESS", "b"},
		{NeighReachable, "10.1.0.2", macB, "10.1.0.2", "SUCCESS", "b"},
		{NeighStale, "10.1.0.2", wrong, "10.1.0.2", "SUCCESS", "OTHERHOST"},
		{NeighFailed, "10.1.0.2", [6]byte{}, "10.1.0.2", "NO_NEIGH", "b"},
		{NeighIncomplete, "10.1.0.2", [6]byte{}, "10.1.0.2", "NO_NEIGH", "b"},
		{NeighFailed, "10.1.0.254", [6]byte{}, "10.9.0.7", "NO_NEIGH", "NEIGH_FAILED"},
		{NeighPermanent, "10.1.0.254", gwMAC, "10.9.0.7", "SUCCESS", "OTHERHOST"}, // vB is not the gateway
	} {
		t.Run(tc.state+" "+tc.addr+" "+tc.fwd, func(t *testing.T) {
			rc := -1
			cfg := fibTopology(true, ProgramConfig{Name: "fib", Hook: carrier.HookTCIngress, Dev: "eth0", Prog: ProgramFunc(func(c *Ctx) int {
				p := FibParams{Family: AFInet, Ifindex: c.Ifindex("eth0"), Src: addr("192.0.2.9"), Dst: addr(tc.dst)}
				rc = c.FibLookup(&p, 0)
				return TCXNext
			})})
			cfg.Neighbours = []NeighConfig{{Dev: "veth0", Addr: addr(tc.addr), MAC: tc.mac, State: tc.state}}
			s, te := newStack(t, cfg, "", nil, nil)
			f := buildFrame(frameOpts{dstMAC: macNIC, srcMAC: macB, src: "192.0.2.9", dst: tc.dst, sport: 1000, dport: 2000, payload: 10})
			require.NoError(t, s.Inject(&Packet{ID: 1, Frame: f}))
			s.Flush()
			assert.Equal(t, tc.fib, FibRetName(rc))
			assert.Equal(t, tc.fwd, endOf(te, cfg))
		})
	}
	cfg := fibTopology(true)
	cfg.Neighbours = []NeighConfig{{Dev: "veth0", Addr: addr("10.1.0.2"), State: "none"}}
	assert.ErrorIs(t, newStackErr(t, cfg, ""), ErrConfig, "an unknown state")
}
