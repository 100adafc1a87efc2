// Package compare runs several per-packet metadata designs over the same
// traffic and prices them: the question users bring to skbsim ("which
// design, on my traffic?") is a comparison, not a single replay, and
// answering it needs more than sim.Replay gives — the same scenario
// replayed once per design with the design swapped, a baseline that
// separates the stack's own work from what each design adds, and a cost
// table to turn operation counts into nanoseconds.
//
// # What is run
//
// [Run] replays the captures through the scenario once per [Design]
// (sim.Replay with Scenario.Design and the carrier options replaced),
// and besides:
//
//   - the baseline: the same scenario with every map read, write and
//     delete removed and map flags cleared, under [BaselineDesign]. The
//     same programs run at the same hooks and the same skbs live and die;
//     no metadata is kept.
//   - each design's map creation: the scenario over a capture without
//     packets, which creates and frees the maps (bucket arrays, the
//     preallocated elements of an LRU) and nothing else.
//
// A design's per-packet figures are its share: (its run − its map
// creation − the baseline run + the baseline's map creation) / packets.
// Map creation is reported apart (setup allocations and bytes), and the
// run's peak live bytes include it, since preallocated memory is memory.
//
// # Pricing
//
// Operation counts (sim.Report.Ops) and kmalloc calls and frees per size
// class (sim.Report.Allocations.ByClass) are priced with a cost.Table —
// cost.Default() or a file from `simrun calibrate` — using
// cost.Table.Estimate's rules on each quantity. Differences may be
// negative for some operations (a design that stops a path early);
// their spread is then taken from the other end, so Low <= NS <= High.
// The estimate is the modelled single-CPU, sequential cost: no cache
// misses, contention or RCU callback batching beyond what the table's
// entries contain.
//
// # Designs
//
// [ParseDesigns] reads "-designs" lists: carrier design names with
// options, "rfc:cache=4", "rfc-slim:cache=32", "skb-hash-lru:capacity=64",
// "ext-buffer:buffer=32", "rfc-prealloc:pool=16"; "all" is [AllDesigns].
// A design that cannot run a scenario (a map flag or value size it does
// not support) is not an error: its [DesignResult] carries the refusal.
//
// # JSON
//
// [Result.WriteJSON] writes these field names, which scripts may rely on:
//
//	scenario, kernel, files, packets, complete, error (when incomplete)
//	costs:       {name, sources: {measured|benchmark|derived|estimate: entries}}
//	baseline:    {design, allocs_per_packet, bytes_per_packet, peak_live_bytes, ns_per_packet}
//	read_points: [{hook, program, where, map}]
//	designs: [{
//	  design, carrier, cache_size (rfc designs), capacity (hash designs),
//	  refused (when the design cannot run), leak (when the leak check failed),
//	  allocs_per_packet, bytes_per_packet, setup_allocs, setup_bytes, peak_live_bytes,
//	  ns_per_packet: {ns, low, high}, path_ns_per_packet: {ns, low, high},
//	  survival: [{reads, found, share}]   (parallel to read_points; share null without reads),
//	  lost: {missing, refused, foreign, read_errors, evictions, stale_reads, lost,
//	         clone_copy_failures, failed_ops},
//	  ops_per_packet: [{op, per_packet}], ns_by_op: [{op, ns_per_packet}] (largest first),
//	  counters: [{name, count}]
//	}]
//
// ns_per_packet is the design's share; path_ns_per_packet the whole
// modelled path of a packet (stack and design, map creation excluded).
//
// # Output
//
// [Result.WriteText] prints three side-by-side tables (cost, survival per
// read point, metadata lost); [Result.WriteSVG] draws ns per packet with
// spread whiskers and allocations per packet as a self-contained SVG.
//
// Run does not take ownership of the scenario (it replays copies) and
// keeps no state between calls.
package compare
