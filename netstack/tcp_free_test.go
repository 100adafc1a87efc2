package netstack

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skbsim/skbsim/carrier"
)

// TestTCPFreesWithoutTracepoint: TCP frees some segments with __kfree_skb,
// which fires neither trace_kfree_skb nor trace_consume_skb: a RST on an
// established connection (tcp_validate_incoming: tcp_reset, __kfree_skb),
// and in SYN_SENT (tcp_rcv_synsent_state_process) a RST with ACK
// (tcp_reset, the consume label), a SYN-ACK (tcp_finish_connect, then
// tcp_rcv_state_process's __kfree_skb) and a simultaneous-open SYN
// (tcp_send_synack, __kfree_skb). Segments queued for the reader or
// consumed by tcp_v4_rcv still run consume_skb programs; drops run
// kfree_skb programs.
func TestTCPFreesWithoutTracepoint(t *testing.T) {
	for _, tc := range []struct {
		name     string
		segs     []seg
		consumed []uint64 // packet ids seen by the consume_skb program
		dropped  []uint64 // packet ids seen by the kfree_skb program
		delivs   int
	}{
		{"RST on an established passive connection",
			[]seg{toSrv(1000, fSYN, 100, 0), toSrv(1000, fACK, 101, 0), toSrv(1000, fRST, 101, 0)}, []uint64{0, 1}, nil, 3},
		{"SYN-ACK in SYN_SENT, then data", []seg{fromPeer(fSYNACK, 0), fromPeer(fPSH, 100)}, []uint64{1}, nil, 2},
		{"RST with ACK in SYN_SENT", []seg{fromPeer(tcpRST|tcpACK, 0)}, nil, nil, 1},
		{"simultaneous-open SYN in SYN_SENT", []seg{fromPeer(fSYN, 0)}, nil, nil, 1},
		{"RST on an established active connection", []seg{fromPeer(fSYNACK, 0), fromPeer(fRST, 0)}, nil, nil, 2},
		{"ACK without SYN in SYN_SENT is a drop", []seg{fromPeer(fACK, 0)}, nil, []uint64{0}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var runs []tcpHookRun
			var consumed, dropped []uint64
			cfg := tcpConfig(&runs)
			cfg.Programs = append(cfg.Programs,
				ProgramConfig{Name: "consume", Hook: carrier.HookTracepoint, Event: EventConsumeSkb,
					Prog: ProgramFunc(func(c *Ctx) int { consumed = append(consumed, c.PacketID); return 0 })},
				ProgramConfig{Name: "kfree", Hook: carrier.HookTracepoint, Event: EventKfreeSkb,
					Prog: ProgramFunc(func(c *Ctx) int { dropped = append(dropped, c.PacketID); return 0 })})
			s, te := newRFCStack(t, cfg)
			for i, g := range tc.segs {
				require.NoError(t, s.Inject(&Packet{ID: uint64(i), Frame: g.frame()}))
			}
			assert.Equal(t, tc.consumed, consumed)
			assert.Equal(t, tc.dropped, dropped)
			assert.Len(t, te.obs.delivs, tc.delivs)
		})
	}
}
