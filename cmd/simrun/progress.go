package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/term"

	"github.com/skbsim/skbsim/sim"
)

func stderrIsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progressBar draws a one-line bar on a terminal, but only once a run has
// lasted progressDelay, so short runs print nothing.
type progressBar struct {
	w     io.Writer
	start time.Time
	last  time.Time
	drawn bool
}

const progressDelay = time.Second

func newProgressBar(w io.Writer) *progressBar {
	return &progressBar{w: w, start: time.Now()}
}

func (p *progressBar) update(pi sim.ProgressInfo) {
	now := time.Now()
	if pi.Done {
		if p.drawn {
			fmt.Fprint(p.w, "\r\033[K")
		}
		return
	}
	if now.Sub(p.start) < progressDelay || now.Sub(p.last) < 200*time.Millisecond {
		return
	}
	p.last, p.drawn = now, true
	rate := float64(pi.Packets) / now.Sub(p.start).Seconds()
	if pi.Size > 0 {
		frac := min(1, float64(pi.Offset)/float64(pi.Size))
		const width = 30
		fill := int(frac * width)
		bar := make([]byte, width)
		for i := range bar {
			bar[i] = ' '
			if i < fill {
				bar[i] = '='
			}
		}
		fmt.Fprintf(p.w, "\r%s [%s] %3.0f%% %d packets %.0f/s", pi.File, bar, frac*100, pi.Packets, rate)
		return
	}
	fmt.Fprintf(p.w, "\r%s %d packets %.0f/s", pi.File, pi.Packets, rate)
}
