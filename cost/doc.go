// Package cost names the primitive operations that skbsim's metadata carriers
// perform (allocation by size class, frees, hash and list operations, locks,
// copies, program runs) and counts them without allocating.
//
// Counting happens in the model (localstorage, skb, netstack) through a
// [Counts] value that the replay engine snapshots per packet. A cost table
// (nanoseconds per operation, with provenance) turns counts into an estimated
// CPU cost per packet.
package cost
