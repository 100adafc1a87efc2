#!/bin/sh
# icount.sh SIMRUN [PRESET] [SCENARIO]
#
# Steady-state CPU instructions per packet of `simrun decode` and of
# `simrun run -j 1` (on the built-in scenario, or SCENARIO), counted by
# valgrind's cachegrind on captures of 20000 and 2000 packets of PRESET
# (large by default) that simrun gen writes; the difference over the 18000
# extra packets cancels start-up and end-of-run work. Instruction counts do
# not depend on the load of the host, unlike packets/s, so they compare
# builds on a shared machine; they vary by about 0.2% between runs (the Go
# runtime's background work). Needs valgrind (apt-get install valgrind).
set -eu
simrun=$1
preset=${2:-large}
scenario=${3:-}
command -v valgrind >/dev/null || { echo "icount.sh: valgrind not found (apt-get install valgrind)" >&2; exit 1; }
dir=${TMPDIR:-/tmp}/skbsim-icount-gen3 # the generator version, as in the Makefile's BENCH_GEN
mkdir -p "$dir"
for n in 2000 20000; do
	test -s "$dir/$preset-$n.pcap" || out=$("$simrun" gen -preset "$preset" -seed 3 -n $n -o "$dir/$preset-$n.pcap" 2>&1) ||
		{ echo "icount.sh: $out" >&2; exit 1; }
done

# ic CMD...: instructions executed by CMD (GOMAXPROCS=1 and no RDTSCP, so
# that the count is repeatable under valgrind).
ic() {
	GOMAXPROCS=1 GODEBUG=cpu.rdtscp=off valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null "$@" 2>&1 >/dev/null |
		awk '/I *refs/ { gsub(",", "", $NF); print $NF }'
}
per() { # per CMD...: instructions per packet, CMD's last argument a capture prefix
	big=$(ic "$@" "$dir/$preset-20000.pcap")
	small=$(ic "$@" "$dir/$preset-2000.pcap")
	echo $(( (big - small) / 18000 ))
}

set --
if [ -n "$scenario" ]; then set -- -scenario "$scenario"; fi
d=$(per "$simrun" decode)
r=$(per "$simrun" run -j 1 -format json -o /dev/null "$@")
awk -v p="$preset" -v s="${scenario:-built-in}" -v d="$d" -v r="$r" 'BEGIN {
	printf "capture preset %s, scenario %s: decode-only %d instructions per packet, simrun run -j 1 %d; ratio %.3f\n", p, s, d, r, d/r }'
