#!/bin/sh
# bench-rates.sh SIMRUN CAPTURE [ROUNDS]
#
# The first part of `make bench`: packets/s of `simrun decode` (the
# decode-only loop) and of `simrun run -j 1` and `-j 2` on the default
# scenario over CAPTURE, each the best of ROUNDS runs (3 by default; the
# first decode also warms the page cache), with the peak RSS of the runs,
# then the ratios the project's speed targets are stated in. Best-of is the
# usual estimator on a shared host: interference only ever slows a run.
set -eu
simrun=$1
pcap=$2
rounds=${3:-3}

# wall and cpu read the packets/s and the packets per cpu-second of a
# decode or -runtime-stats line.
wall() { sed -n 's/.* = \([0-9]*\) packets\/s.*/\1/p'; }
cpu() { sed -n 's/.* = \([0-9]*\) packets per cpu-second.*/\1/p'; }

best() { # best VAR LABEL CMD...: runs CMD rounds times, keeps the fastest line
	var=$1 label=$2; shift 2
	bw=0; bc=0; rss=0; line=
	i=0
	while [ $i -lt "$rounds" ]; do
		i=$((i + 1))
		out=$( { /usr/bin/time -f 'peak RSS %M KB' "$@"; } 2>&1 ) || { echo "$out" >&2; exit 1; }
		l=$(echo "$out" | grep -E '^(decode-only|runtime):')
		w=$(echo "$l" | wall); c=$(echo "$l" | cpu)
		r=$(echo "$out" | sed -n 's/^peak RSS \([0-9]*\) KB$/\1/p')
		[ "$r" -gt "$rss" ] && rss=$r
		[ "$c" -gt "$bc" ] && bc=$c
		if [ "$w" -gt "$bw" ]; then bw=$w; line=$l; fi
	done
	echo "$line" | sed "s/^[a-z-]*:/$label:/"
	echo "  (best of $rounds runs; peak RSS $rss KB)"
	eval "${var}_wall=$bw ${var}_cpu=$bc"
}

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
best decode decode-only "$simrun" decode "$pcap"
best j1 "simrun run -j 1" "$simrun" run -j 1 -format json -o /dev/null -runtime-stats "$pcap"
best j2 "simrun run -j 2" "$simrun" run -j 2 -format json -o /dev/null -runtime-stats "$pcap"
awk -v d="$decode_wall" -v dc="$decode_cpu" -v a="$j1_wall" -v b="$j2_wall" -v ac="$j1_cpu" -v bc="$j2_cpu" 'BEGIN {
	printf "wall-clock: -j 1 / decode-only = %.3f (target >= 0.33, stretch 0.5); -j 2 / -j 1 = %.2f (target >= 1.6)\n", a/d, b/a
	printf "per cpu-second: -j 1 / decode-only = %.3f; -j 2 / -j 1 = %.2f (parallel overhead; wall-clock speedup needs idle cores)\n", ac/dc, bc/ac }'

# The speed of each CPU for this work, which bounds what -j 2 can gain: on
# a virtual machine one vCPU may run markedly slower than the other (its
# host core busy with other guests), and then even a perfect split of the
# work between two workers is at most 1 + fast/slow times faster than -j 1
# on the fast CPU. Each CPU runs -j 1 alone, pinned (taskset), once.
if command -v taskset >/dev/null 2>&1 && [ "$(nproc 2>/dev/null || echo 1)" -ge 2 ]; then
	pinned() { taskset -c "$1" "$simrun" run -j 1 -format json -o /dev/null -runtime-stats "$pcap" 2>&1 |
		sed -n 's/^runtime: .* in \([0-9.]*\)s .*/\1/p'; }
	c0=$(pinned 0)
	c1=$(pinned 1)
	awk -v a="$c0" -v b="$c1" 'BEGIN {
		f = a; s = b; if (b < a) { f = b; s = a }
		printf "per-CPU -j 1 (pinned): cpu0 %.3f s, cpu1 %.3f s; ceiling for -j 2 / -j 1 on these two CPUs: %.2f (1 + fast/slow)\n", a, b, 1 + f/s }'
fi
